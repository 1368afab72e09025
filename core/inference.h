/* SPDX-License-Identifier: Apache-2.0 */
/* Inference: energy per inference (measured, or derived from training energy per
 * token-step), lineage energy parity (how many inferences equal the energy that
 * produced a model), and the crossover volume between two (fixed, per-inference)
 * profiles. Pure; no I/O, no allocation. */
#ifndef CORE_INFERENCE_H
#define CORE_INFERENCE_H

#include "err.h"
#include "intensity.h"
#include "range.h"

#include <stdbool.h>
#include <stdint.h>

enum core_inference_source {
    CORE_INFERENCE_MEASURED, /* kWh per inference given */
    CORE_INFERENCE_DERIVED,  /* ratio x training kWh / training token-steps */
};

/* What the caller knows. For MEASURED only kwh_per_inference is read (request field
 * <prefix>/energy_kwh_per_inference, >= 0; zero leaves parity undefined). For
 * DERIVED: training_kwh (the model's training energy, from its activities, > 0),
 * token_steps (<prefix>/derived_from_training/token_steps, > 0) and optionally ratio
 * (<prefix>/derived_from_training/ratio, > 0; default CORE_INFERENCE_RATIO_* in
 * methodology.h: 1/3, range 0.27-0.5). */
struct core_inference_input {
    enum core_inference_source source;
    struct core_range kwh_per_inference;
    struct core_range training_kwh;
    struct core_range token_steps;
    bool has_ratio;
    struct core_range ratio;
};

/* The resolved profile. For DERIVED the terms are kept so that parity can cancel the
 * training energy exactly. */
struct core_inference_energy {
    enum core_inference_source source;
    struct core_range kwh_per_inference;
    bool is_ratio_default; /* DERIVED: the ratio is the documented default */
    struct core_range ratio;
    struct core_range training_kwh;
    struct core_range token_steps;
};

/* Validates in and resolves the per-inference energy into *out. pointer_prefix is
 * the request path of the inference object (e.g. "/inference"; "" for top level).
 * ERR_INVALID_INPUT with fe set (field under pointer_prefix; a missing or zero
 * training energy is reported at <prefix>/derived_from_training) and *out untouched;
 * ERR_OK otherwise. */
enum err core_inference_energy(const struct core_inference_input *in, const char *pointer_prefix,
                               struct core_inference_energy *out, struct core_field_error *fe);

#define CORE_INFERENCE_UNIT_MAX 32

/* A model's inference profile, as it is stored: what one inference is, its energy
 * (measured, or the terms to derive it from training) and the serving grid. */
struct core_inference_profile {
    char unit[CORE_INFERENCE_UNIT_MAX + 1]; /* "request", "token", "word", "image" ... */
    enum core_inference_source source;
    struct core_range kwh_per_inference; /* MEASURED */
    bool has_ratio;                      /* DERIVED: ratio given, else the default */
    struct core_range ratio;
    struct core_range token_steps; /* DERIVED */
    bool has_training_kwh;         /* DERIVED: training energy given, else the lineage's */
    struct core_range training_kwh;
    struct core_intensity intensity; /* the serving grid, kg CO2e/kWh, and its provenance */
};

/* The per-inference energy of profile: core_inference_energy over its figures,
 * where lineage_training_kwh stands in for the training energy a derived profile
 * does not give. Errors as core_inference_energy. */
enum err core_inference_profile_energy(const struct core_inference_profile *profile,
                                       struct core_range lineage_training_kwh,
                                       const char *pointer_prefix,
                                       struct core_inference_energy *out,
                                       struct core_field_error *fe);

/* "measured" or "derived". Static storage. */
const char *core_inference_source_name(enum core_inference_source source);

/* g CO2e per inference = kWh per inference x intensity (kg/kWh) x 1000. Both ranges
 * ordered and non-negative. */
struct core_range core_inference_co2e_g(struct core_range kwh_per_inference,
                                        struct core_range intensity_kg_per_kwh);

enum core_parity_status {
    CORE_PARITY_OK,
    CORE_PARITY_UNDEFINED, /* per-inference energy is zero */
    CORE_PARITY_OVERFLOW,  /* some bound is >= 2^64 (or infinite); it reads UINT64_MAX */
};

struct core_parity {
    enum core_parity_status status;
    uint64_t value;
    uint64_t low;
    uint64_t high;
};

/* Lineage energy parity (Luccioni, Jernite, Strubell 2024): floor(lineage_kwh /
 * kWh per inference), bound by bound (low uses the highest per-inference energy).
 * lineage_kwh is training + fine-tuning energy of the model and its ancestors,
 * ordered and >= 0. For a derived profile the quotient is computed as
 * (lineage / training) x (token_steps / ratio) so that the training energy cancels;
 * a quotient within 4 ulp below an integer counts as that integer (the inputs carry
 * far less precision). Never fails; status says when a figure is not usable. */
void core_parity(struct core_range lineage_kwh, const struct core_inference_energy *per_inference,
                 struct core_parity *out);

/* What a model costs as a function of its use: a fixed mass (its own and inherited
 * emissions) plus a mass per inference, both in kg CO2e. */
struct core_cost_line {
    double kg_fixed;
    double kg_per_inference;
};

enum core_crossover_kind {
    CORE_CROSSOVER_EQUAL,    /* identical at every volume */
    CORE_CROSSOVER_A_ALWAYS, /* A is never dirtier than B at any volume >= 0 */
    CORE_CROSSOVER_B_ALWAYS, /* B is never dirtier than A at any volume >= 0 */
    CORE_CROSSOVER_B_BEYOND, /* A cleaner below volume, B cleaner beyond it */
    CORE_CROSSOVER_A_BEYOND, /* B cleaner below volume, A cleaner beyond it */
};

struct core_crossover {
    enum core_crossover_kind kind;
    double volume; /* v* = (kg_fixed_B - kg_fixed_A) / (kg_per_inference_A - kg_per_inference_B)
                    * for *_BEYOND; else 0 */
};

/* Crossover volume between cost lines a and b. Figures must be finite and >= 0
 * (ERR_INVALID_INPUT with fe at "/a/fixed", "/a/per_inference", "/b/..."; *out
 * untouched). Figures within a relative 1e-12 of each other count as equal. */
enum err core_crossover(const struct core_cost_line *a, const struct core_cost_line *b,
                        struct core_crossover *out, struct core_field_error *fe);

enum core_cleaner {
    CORE_CLEANER_A,
    CORE_CLEANER_B,
    CORE_CLEANER_TIE,
};

/* Which cost line has the lower total kg_fixed + volume x kg_per_inference at volume
 * (>= 0); TIE within a relative 1e-12. */
enum core_cleaner core_cleaner_at(const struct core_cost_line *a, const struct core_cost_line *b,
                                  double volume);

#endif
