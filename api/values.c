/* SPDX-License-Identifier: Apache-2.0 */
/* JSON forms of the core's values: ranges ({value, low, high}, or a bare number on
 * input), equivalences, and core field errors turned into problem entries. */
#include "api_internal.h"
#include "equivalence.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

json_t *api_range_json(struct core_range r)
{
    return json_pack("{s:f, s:f, s:f}", "value", r.value, "low", r.low, "high", r.high);
}

enum err api_range_parse(const json_t *v, const char *pointer, struct core_range *out,
                         struct api_problem *problem)
{
    static const char *const allowed[] = {"value", "low", "high", NULL};
    char field[160];
    double parts[3];
    const char *names[3] = {"low", "value", "high"};

    if (json_is_number(v)) {
        *out = core_range_exact(json_number_value(v));
        return ERR_OK;
    }
    if (!json_is_object(v))
        return api_field_error(problem, pointer,
                               "must be a number or a range {\"value\", \"low\", \"high\"}");
    if (api_check_members(v, pointer, allowed, NULL, problem) != ERR_OK)
        return ERR_INVALID_INPUT;
    if (!json_is_number(json_object_get(v, "value"))) {
        snprintf(field, sizeof field, "%s/value", pointer);
        return api_field_error(problem, field, "required: a number");
    }
    parts[1] = json_number_value(json_object_get(v, "value"));
    for (int i = 0; i < 3; i += 2) {
        const json_t *bound = json_object_get(v, names[i]);
        snprintf(field, sizeof field, "%s/%s", pointer, names[i]);
        if (bound == NULL) {
            parts[i] = parts[1];
        } else if (!json_is_number(bound)) {
            return api_field_error(problem, field, "must be a number");
        } else {
            parts[i] = json_number_value(bound);
        }
    }
    if (!(parts[0] <= parts[1]) || !(parts[1] <= parts[2]))
        return api_field_error(problem, pointer, "needs low <= value <= high");
    *out = core_range_make(parts[0], parts[1], parts[2]);
    return ERR_OK;
}

json_t *api_equivalences_json(struct core_range co2e_kg)
{
    struct core_equivalence eq[CORE_EQUIVALENCE_COUNT];
    json_t *o = json_object();

    if (o == NULL)
        return NULL;
    core_equivalences(co2e_kg, eq);
    for (size_t i = 0; o && i < CORE_EQUIVALENCE_COUNT; i++)
        api_json_set(&o, eq[i].item->name, api_range_json(eq[i].count));
    return o;
}

enum err api_field_from_core(struct api_problem *problem, const struct core_field_error *fe)
{
    return api_field_error(problem, fe->pointer[0] ? fe->pointer : "", "%s",
                           fe->message[0] ? fe->message : "invalid value");
}
