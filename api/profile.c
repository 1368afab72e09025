/* SPDX-License-Identifier: Apache-2.0 */
/* Inference profiles: what one inference is, its energy (measured per inference,
 * or derived from training) and the serving grid. The "inference" member of a
 * model PATCH is validated into the core's profile here, and rendered back. */
#include "api_internal.h"

#include <stdio.h>
#include <string.h>

static bool is_valid_unit(const char *text)
{
    size_t len = strlen(text);

    if (len == 0 || len > CORE_INFERENCE_UNIT_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((text[i] >= 'a' && text[i] <= 'z') || (text[i] >= '0' && text[i] <= '9') ||
              text[i] == '_' || text[i] == '-'))
            return false;
    return true;
}

enum err api_profile_parse(struct db *db, const json_t *inference,
                           struct core_inference_profile *out, struct api_problem *problem)
{
    static const char *const allowed[] = {
        "unit",     "energy_kwh_per_inference", "derived_from_training",
        "location", "carbon_intensity",         NULL};
    static const char *const derived_allowed[] = {"ratio", "token_steps", "training_kwh", NULL};
    const json_t *unit = json_object_get(inference, "unit");
    const json_t *measured = json_object_get(inference, "energy_kwh_per_inference");
    const json_t *derived = json_object_get(inference, "derived_from_training");
    struct core_inference_energy energy;
    struct core_field_error fe;
    enum err rc;

    memset(out, 0, sizeof *out);
    if (!json_is_object(inference))
        return api_field_error(problem, "/inference", "must be an object, or null to clear");
    rc = api_check_members(inference, "/inference", allowed, NULL, problem);
    if (rc != ERR_OK)
        return rc;
    if (unit == NULL) {
        snprintf(out->unit, sizeof out->unit, "request");
    } else if (!json_is_string(unit) || !is_valid_unit(json_string_value(unit))) {
        return api_field_error(problem, "/inference/unit",
                               "must be a name such as request, token, word or image "
                               "(1-32 of a-z 0-9 _ -)");
    } else {
        snprintf(out->unit, sizeof out->unit, "%s", json_string_value(unit));
    }
    if ((measured == NULL) == (derived == NULL))
        return api_field_error(problem, "/inference",
                               "give exactly one of 'energy_kwh_per_inference' and "
                               "'derived_from_training'");
    if (measured) {
        out->source = CORE_INFERENCE_MEASURED;
        if (api_range_parse(measured, "/inference/energy_kwh_per_inference",
                            &out->kwh_per_inference, problem) != ERR_OK)
            return ERR_INVALID_INPUT;
    } else {
        const json_t *ratio = json_object_get(derived, "ratio");
        const json_t *steps = json_object_get(derived, "token_steps");
        const json_t *training = json_object_get(derived, "training_kwh");
        out->source = CORE_INFERENCE_DERIVED;
        if (!json_is_object(derived))
            return api_field_error(problem, "/inference/derived_from_training",
                                   "must be an object {\"ratio\", \"token_steps\"}");
        if (api_check_members(derived, "/inference/derived_from_training", derived_allowed, NULL,
                              problem) != ERR_OK)
            return ERR_INVALID_INPUT;
        if (steps == NULL)
            return api_field_error(problem, "/inference/derived_from_training/token_steps",
                                   "required: training steps x tokens per step");
        if (api_range_parse(steps, "/inference/derived_from_training/token_steps",
                            &out->token_steps, problem) != ERR_OK)
            return ERR_INVALID_INPUT;
        if (ratio && api_range_parse(ratio, "/inference/derived_from_training/ratio", &out->ratio,
                                     problem) != ERR_OK)
            return ERR_INVALID_INPUT;
        out->has_ratio = ratio != NULL;
        out->has_training_kwh = training != NULL;
        if (training && api_range_parse(training, "/inference/derived_from_training/training_kwh",
                                        &out->training_kwh, problem) != ERR_OK)
            return ERR_INVALID_INPUT;
    }
    /* Without an explicit figure, training energy comes from the lineage's training
     * activities at read time; validate the rest against a stand-in of 1 kWh. */
    if (core_inference_profile_energy(out, core_range_exact(1.0), "/inference", &energy, &fe) !=
        ERR_OK)
        return api_field_from_core(problem, &fe);
    return api_intensity_parse(db, inference, "/inference", &out->intensity, problem);
}

json_t *api_profile_json(const struct core_inference_profile *p)
{
    json_t *o = json_pack("{s:s, s:s, s:o}", "unit", p->unit, "source",
                          core_inference_source_name(p->source), "carbon_intensity",
                          api_intensity_json(&p->intensity));

    if (p->source == CORE_INFERENCE_MEASURED) {
        api_json_set(&o, "energy_kwh_per_inference", api_range_json(p->kwh_per_inference));
    } else {
        json_t *d = json_pack("{s:o}", "token_steps", api_range_json(p->token_steps));
        api_json_set(&d, "ratio", p->has_ratio ? api_range_json(p->ratio) : json_null());
        api_json_set(&d, "training_kwh",
                     p->has_training_kwh ? api_range_json(p->training_kwh) : json_null());
        api_json_set(&o, "derived_from_training", d);
    }
    return o;
}
