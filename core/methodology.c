/* SPDX-License-Identifier: Apache-2.0 */
/* The methodology tables: constants and formulas, as published by
 * GET /v1/methodology. Pure data. */
#include "methodology.h"

#include "equivalence.h"
#include "units.h"

#include <assert.h>

static const struct core_constant constants[] = {
    {"kg_per_lb", CORE_KG_PER_LB, "kg/lb", "International yard and pound agreement (1959)"},
    {"intensity_world_default", CORE_INTENSITY_WORLD_G_PER_KWH, "gCO2e/kWh",
     "IEA Global Energy & CO2 Status Report 2019, via Green Algorithms CI_aggregated.csv "
     "(WORLD) and CodeCarbon carbon_intensity_per_source.json (world_average)"},
    {"pue_default", CORE_PUE_DEFAULT, "1",
     "Uptime Institute Global Data Center Survey 2024, via Green Algorithms v3.0 "
     "defaults_PUE.csv (Unknown provider); used by methods power, tdp, flops"},
    {"pue_default_low", CORE_PUE_DEFAULT_LOW, "1",
     "Lowest provider PUE in Green Algorithms v3.0 defaults_PUE.csv (OVHcloud 1.09)"},
    {"pue_default_high", CORE_PUE_DEFAULT_HIGH, "1",
     "Uptime Institute 2019 average, Green Algorithms data v1.0-v2.2"},
    {"pue_measured_default", CORE_PUE_MEASURED_DEFAULT, "1",
     "carbontree: measured energy is taken as given unless a PUE is supplied"},
    {"memory_power", CORE_MEMORY_W_PER_GB, "W/GB",
     "Green Algorithms referenceValues.csv (memoryPower), Lannelongue et al. 2021"},
    {"tdp_utilisation_default", CORE_TDP_UTILISATION_DEFAULT, "1",
     "Green Algorithms and ML CO2 Impact usage factor 1 (TDP drawn in full)"},
    {"tdp_utilisation_low", CORE_TDP_UTILISATION_LOW, "1",
     "carbontree measurement: H100 average board power in BERT-base training, 69 % of its "
     "700 W limit (reference-data measured-h100.md)"},
    {"flops_per_parameter_token", CORE_FLOPS_PER_PARAMETER_TOKEN, "FLOP",
     "Kaplan et al. 2020, Scaling Laws for Neural Language Models, s. 2.1 (C = 6ND)"},
    {"flops_utilisation_default", CORE_FLOPS_UTILISATION_DEFAULT, "1",
     "Patterson et al. 2021 Table 4, measured TFLOP/s over vendor peak (TPU v3 runs 0.28-0.39)"},
    {"flops_utilisation_low", CORE_FLOPS_UTILISATION_LOW, "1",
     "Patterson et al. 2021 Table 4, GPT-3 on V100 (24.6 of 125 TFLOP/s)"},
    {"flops_utilisation_high", CORE_FLOPS_UTILISATION_HIGH, "1",
     "Patterson et al. 2021 Table 4, Evolved Transformer on TPU v2 (24.8 of 45 TFLOP/s)"},
    {"psf_default", CORE_PSF_DEFAULT, "1",
     "Green Algorithms pragmatic scaling factor (identical runs), default 1"},
    {"embodied_lifetime_hours", CORE_EMBODIED_LIFETIME_HOURS, "h",
     "6 years, BLOOM footprint study (Luccioni et al. 2023)"},
    {"embodied_lifetime_hours_low", CORE_EMBODIED_LIFETIME_HOURS_LOW, "h",
     "5 years, LLMCarbon (Faiz et al. 2024) example"},
    {"embodied_utilisation", CORE_EMBODIED_UTILISATION, "1",
     "85 % average utilisation, BLOOM footprint study (Luccioni et al. 2023)"},
    {"inference_ratio_default", CORE_INFERENCE_RATIO_DEFAULT, "1",
     "FLOPs rule 2N/6N (Kaplan et al. 2020)"},
    {"inference_ratio_low", CORE_INFERENCE_RATIO_LOW, "1",
     "carbontree measurement: BERT-base forward, batch 64, H100 (measured-h100.md)"},
    {"inference_ratio_high", CORE_INFERENCE_RATIO_HIGH, "1",
     "Rule of thumb: one inference costs half a training step"},
    {"equivalence_flight_ny_sf", CORE_EQUIVALENCE_FLIGHT_NY_SF_LB, "lbCO2e",
     "Strubell et al. 2019 Table 1: air travel, 1 passenger, NY<->SF"},
    {"equivalence_human_life_year", CORE_EQUIVALENCE_HUMAN_LIFE_YEAR_LB, "lbCO2e",
     "Strubell et al. 2019 Table 1: human life, average, 1 year"},
    {"equivalence_american_life_year", CORE_EQUIVALENCE_AMERICAN_LIFE_YEAR_LB, "lbCO2e",
     "Strubell et al. 2019 Table 1: American life, average, 1 year"},
    {"equivalence_car_lifetime", CORE_EQUIVALENCE_CAR_LIFETIME_LB, "lbCO2e",
     "Strubell et al. 2019 Table 1: car, average incl. fuel, 1 lifetime"},
};

static const struct core_formula formulas[] = {
    {"power", "kWh = (power_w | sum(count * power_w) + cpu_w + dram_w) * hours * PUE / 1000",
     "Strubell et al. 2019 s. 2 (p_t = PUE t (p_c + p_r + g p_g) / 1000); "
     "Patterson et al. 2021 s. 2 (hours * processors * W * PUE)"},
    {"tdp",
     "kWh = (sum(count * tdp_w * utilisation) + memory_gb * 0.3725) * hours * PUE * PSF / 1000",
     "Lannelongue et al. 2021 (Green Algorithms); Lacoste et al. 2019 (ML CO2 Impact)"},
    {"flops",
     "flops = given | 6 * parameters * tokens; device_hours = flops / (peak_flops_per_s * "
     "utilisation) / 3600; kWh = device_hours * device_power_w * PUE / 1000",
     "Kaplan et al. 2020; Faiz et al. 2024 (LLMCarbon)"},
    {"energy", "kWh = energy_kwh * PUE (PUE 1 unless given)", "measured energy"},
    {"embodied", "kgCO2e = sum(units * embodied_kg * hours / (lifetime_hours * utilisation))",
     "Luccioni et al. 2023 (BLOOM); Faiz et al. 2024 (LLMCarbon); GSF SCI v1.1 (M term)"},
    {"co2e", "kgCO2e = kWh * intensity_kg_per_kwh; total = operational + embodied",
     "location-based grid intensity (GSF SCI v1.1: I)"},
    {"ranges",
     "every figure is {value, low, high}; formulas are monotone, so bounds are evaluated at "
     "the input bounds (decreasing inputs contribute their high bound to the low result)",
     "carbontree"},
    {"inference_derived", "kWh_per_inference = ratio * training_kwh / training_token_steps",
     "Kaplan et al. 2020 (2N vs 6N); measured-h100.md"},
    {"parity",
     "parity_inferences = floor(lineage (training + fine-tuning) kWh / kWh_per_inference)",
     "Luccioni, Jernite, Strubell 2024, Power Hungry Processing"},
    {"crossover", "v* = (E_B - E_A) / (e_A - e_B)", "Patterson et al. 2021 s. 2.5"},
    {"equivalences", "count = co2e_kg / (item_lb * 0.45359237)", "Strubell et al. 2019 Table 1"},
};

const struct core_constant *core_methodology_constants(size_t *n_out)
{
    assert(n_out);
    *n_out = sizeof constants / sizeof constants[0];
    return constants;
}

const struct core_formula *core_methodology_formulas(size_t *n_out)
{
    assert(n_out);
    *n_out = sizeof formulas / sizeof formulas[0];
    return formulas;
}
