/* SPDX-License-Identifier: Apache-2.0 */
/* Carbon intensity in requests: {"carbon_intensity": {"value": n|range, "unit":
 * "g/kWh"|"kg/kWh"|"lb/kWh"}} or {"location": "<code>"} resolved from the region
 * tables, or the world default when neither is given (flagged as a default). */
#include "api_internal.h"
#include "intensity.h"

#include <stdio.h>
#include <string.h>

enum err api_intensity_parse(struct db *db, const json_t *object, const char *prefix,
                             struct core_intensity *out, struct api_problem *problem)
{
    static const char *const allowed[] = {"value", "unit", NULL};
    const json_t *explicit_value = json_object_get(object, "carbon_intensity");
    const json_t *location = json_object_get(object, "location");
    struct core_field_error fe;
    struct core_range value;
    char pointer[128];

    if (explicit_value && location) {
        snprintf(pointer, sizeof pointer, "%s/location", prefix);
        return api_field_error(problem, pointer, "give either 'location' or 'carbon_intensity'");
    }
    if (explicit_value) {
        const json_t *unit = json_object_get(explicit_value, "unit");
        snprintf(pointer, sizeof pointer, "%s/carbon_intensity", prefix);
        if (!json_is_object(explicit_value))
            return api_field_error(problem, pointer,
                                   "must be an object {\"value\", \"unit\"}, e.g. {\"value\": "
                                   "0.954, \"unit\": \"lb/kWh\"}");
        if (api_check_members(explicit_value, pointer, allowed, NULL, problem) != ERR_OK)
            return ERR_INVALID_INPUT;
        snprintf(pointer, sizeof pointer, "%s/carbon_intensity/value", prefix);
        if (json_object_get(explicit_value, "value") == NULL)
            return api_field_error(problem, pointer, "required: a number or a range");
        if (api_range_parse(json_object_get(explicit_value, "value"), pointer, &value, problem) !=
            ERR_OK)
            return ERR_INVALID_INPUT;
        snprintf(pointer, sizeof pointer, "%s/carbon_intensity", prefix);
        if (!json_is_string(unit)) {
            snprintf(pointer, sizeof pointer, "%s/carbon_intensity/unit", prefix);
            return api_field_error(problem, pointer, "required: g/kWh, kg/kWh or lb/kWh");
        }
        if (core_intensity_explicit(value, json_string_value(unit), pointer, out, &fe) != ERR_OK)
            return api_field_from_core(problem, &fe);
        return ERR_OK;
    }
    if (location) {
        snprintf(pointer, sizeof pointer, "%s/location", prefix);
        if (!json_is_string(location))
            return api_field_error(problem, pointer, "must be a location code such as \"FRA\"");
        return api_intensity_lookup(db, json_string_value(location), pointer, out, problem);
    }
    *out = core_intensity_default();
    return ERR_OK;
}

json_t *api_intensity_json(const struct core_intensity *intensity)
{
    json_t *o = json_pack("{s:o, s:s}", "kg_per_kwh", api_range_json(intensity->kg_per_kwh),
                          "source", core_intensity_source_name(intensity->source));
    int failed = 0; /* a member that could not be made: the form is stored, so none or all */

    if (o && intensity->source == CORE_INTENSITY_TABLE) {
        failed |= json_object_set_new(o, "location", json_string(intensity->location));
        failed |= json_object_set_new(o, "table", json_string(intensity->table));
        failed |= json_object_set_new(o, "row", json_integer((json_int_t)intensity->row));
        failed |= json_object_set_new(
            o, "year", intensity->year ? json_integer(intensity->year) : json_null());
        if (intensity->matched_by[0])
            failed |= json_object_set_new(
                o, "matched",
                json_pack("{s:s, s:s}", "text", intensity->asked, "by", intensity->matched_by));
    }
    if (o && intensity->source == CORE_INTENSITY_DEFAULT)
        failed |= json_object_set_new(o, "note",
                                      json_string("no location or intensity given: world average "
                                                  "475 g/kWh (IEA 2019)"));
    if (failed) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static const char *text_or_empty(const json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : "";
}

enum err api_intensity_from_json(const json_t *o, struct core_intensity *out)
{
    const json_t *range = json_object_get(o, "kg_per_kwh");
    const char *source = json_string_value(json_object_get(o, "source"));
    struct api_problem ignored;

    memset(out, 0, sizeof *out);
    memset(&ignored, 0, sizeof ignored);
    if (range == NULL || source == NULL ||
        api_range_parse(range, "", &out->kg_per_kwh, &ignored) != ERR_OK)
        return ERR_INTERNAL;
    if (strcmp(source, "table") == 0) {
        out->source = CORE_INTENSITY_TABLE;
        snprintf(out->location, sizeof out->location, "%s",
                 text_or_empty(json_object_get(o, "location")));
        snprintf(out->table, sizeof out->table, "%s", text_or_empty(json_object_get(o, "table")));
        out->row = (unsigned long)json_integer_value(json_object_get(o, "row"));
        out->year = (int)json_integer_value(json_object_get(o, "year"));
        snprintf(out->asked, sizeof out->asked, "%s",
                 text_or_empty(json_object_get(json_object_get(o, "matched"), "text")));
        snprintf(out->matched_by, sizeof out->matched_by, "%s",
                 text_or_empty(json_object_get(json_object_get(o, "matched"), "by")));
    } else if (strcmp(source, "explicit") == 0) {
        out->source = CORE_INTENSITY_EXPLICIT;
    } else {
        out->source = CORE_INTENSITY_DEFAULT;
    }
    return ERR_OK;
}
