/* SPDX-License-Identifier: Apache-2.0 */
/* The estimation methodology as data: its version, every constant and default the
 * core uses (with unit and source), and the formula of each method. api serialises
 * it for GET /v1/methodology; estimate.c, inference.c and equivalence.c read the
 * same macros, so the published table and the arithmetic cannot drift apart.
 * Pure data; no I/O. */
#ifndef CORE_METHODOLOGY_H
#define CORE_METHODOLOGY_H

#include <stddef.h>

/* Bump when any constant, default or formula below changes; every stored estimate
 * records the version it was computed with. */
#define CORE_METHODOLOGY_VERSION "2026-11-1"

/* World average grid carbon intensity, g CO2e/kWh: IEA Global Energy & CO2 Status
 * Report 2019, as used by Green Algorithms (CI_aggregated.csv, WORLD) and CodeCarbon
 * (carbon_intensity_per_source.json, world_average). */
#define CORE_INTENSITY_WORLD_G_PER_KWH 475.0

/* Default PUE when none is given for a power-based method (power, tdp, flops):
 * 1.56, the Uptime Institute 2024 survey average that Green Algorithms v3.0 uses for
 * an unknown provider (defaults_PUE.csv). The range spans the lowest provider PUE in
 * that table (OVHcloud 1.09; Patterson 2021 reports 1.09-1.12 for Google sites) to
 * the earlier Uptime 2019 average of 1.67 (Green Algorithms data v1.0-v2.2).
 * Strubell 2019 used 1.58 (Uptime 2018); callers reproducing it pass it explicitly. */
#define CORE_PUE_DEFAULT      1.56
#define CORE_PUE_DEFAULT_LOW  1.09
#define CORE_PUE_DEFAULT_HIGH 1.67

/* Measured energy (method energy) is taken as given: default PUE 1 (exact). A
 * caller who metered only the devices passes the facility PUE explicitly. */
#define CORE_PUE_MEASURED_DEFAULT 1.0

/* Power of memory, W per GB available: Green Algorithms referenceValues.csv
 * (memoryPower 0.3725). */
#define CORE_MEMORY_W_PER_GB 0.3725

/* Average draw as a fraction of TDP when the utilisation is not given (tdp method,
 * and flops with a TDP power): value 1 reproduces Green Algorithms and ML CO2 Impact,
 * which multiply TDP by a usage factor of 1; the low bound 0.69 is the average board
 * power measured over BERT-base training on an H100 relative to its 700 W limit
 * (reference-data measured-h100.md; TDP x hours overstated that run by 1.45x). */
#define CORE_TDP_UTILISATION_DEFAULT 1.0
#define CORE_TDP_UTILISATION_LOW     0.69
#define CORE_TDP_UTILISATION_HIGH    1.0

/* Training compute per parameter per token: C = 6 N D (Kaplan et al. 2020, s. 2.1). */
#define CORE_FLOPS_PER_PARAMETER_TOKEN 6.0

/* Achieved fraction of peak FLOP/s (model FLOPs utilisation) when not given. Patterson
 * et al. 2021 Table 4 measured TFLOP/s against chip peak (TPU v2 45, TPU v3 123,
 * V100 125 TFLOP/s) spans about 0.20 (GPT-3 on V100) to 0.55 (Evolved Transformer
 * on TPU v2); 0.35 is the middle of the TPU v3 runs (T5 0.37, Meena 0.34, GShard 0.39,
 * Switch 0.28). */
#define CORE_FLOPS_UTILISATION_DEFAULT 0.35
#define CORE_FLOPS_UTILISATION_LOW     0.20
#define CORE_FLOPS_UTILISATION_HIGH    0.55

/* Embodied share defaults (BLOOM footprint study; reference-figures.md s. 3):
 * lifetime 6 years, with 5 years (LLMCarbon's example) as the short end, and
 * average utilisation 85 %. Hours of a 365-day year. */
#define CORE_EMBODIED_LIFETIME_HOURS      (6.0 * 8760.0)
#define CORE_EMBODIED_LIFETIME_HOURS_LOW  (5.0 * 8760.0)
#define CORE_EMBODIED_LIFETIME_HOURS_HIGH (6.0 * 8760.0)
#define CORE_EMBODIED_UTILISATION         0.85

/* Green Algorithms' pragmatic scaling factor (number of identical runs): default 1. */
#define CORE_PSF_DEFAULT 1.0

/* Inference energy per token derived from training energy per token-step: the FLOPs
 * rule 2N / 6N = 1/3 (Kaplan et al. 2020), range 0.27 (measured, BERT-base forward
 * at batch 64 on an H100, measured-h100.md) to 0.5 (the rule of thumb "half a
 * training step"). */
#define CORE_INFERENCE_RATIO_DEFAULT (1.0 / 3.0)
#define CORE_INFERENCE_RATIO_LOW     0.27
#define CORE_INFERENCE_RATIO_HIGH    0.5

/* A constant as published: name, value, unit, source. */
struct core_constant {
    const char *name;
    double value;
    const char *unit;
    const char *source;
};

/* A method's formula in plain notation and where it comes from. */
struct core_formula {
    const char *method;
    const char *formula;
    const char *sources;
};

/* The constants table (static storage); *n_out receives its length. */
const struct core_constant *core_methodology_constants(size_t *n_out);

/* The formulas table (static storage); *n_out receives its length. */
const struct core_formula *core_methodology_formulas(size_t *n_out);

#endif
