/* SPDX-License-Identifier: Apache-2.0 */
/* Location codes in requests: resolves a code from the region tables into the
 * core's carbon intensity with its provenance (table, row, year), answers 422 with
 * the closest known code on a miss, and renders region and hardware rows as JSON.
 * No SQL: lookups go through db/db_refdata.c. */
#include "api_internal.h"
#include "units.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define LOCATION_CODE_MAX 63

/* Printable ASCII without spaces at either end: what a code can be. */
static bool is_code_text(const char *code)
{
    size_t len = strlen(code);

    if (len == 0 || len > LOCATION_CODE_MAX || code[0] == ' ' || code[len - 1] == ' ')
        return false;
    for (const char *p = code; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            return false;
    return true;
}

/* Where a location was not the row's own code, the answer says what was asked and
 * how it was matched; a code given in another case is the code itself. */
static void note_match(const char *code, const struct db_region *r, struct core_intensity *out)
{
    if (strcasecmp(code, r->region.code) == 0)
        return;
    snprintf(out->asked, sizeof out->asked, "%s", code);
    snprintf(out->matched_by, sizeof out->matched_by, "%s",
             core_location_match_name(r->matched_by));
}

enum err api_intensity_lookup(struct db *db, const char *code, const char *pointer,
                              struct core_intensity *out, struct api_problem *problem)
{
    struct core_field_error fe;
    struct db_region r;
    char closest[256];
    enum err rc;

    if (!is_code_text(code))
        return api_field_error(problem, pointer,
                               "not a location code: use an ISO 3166 country code (FRA, FR) "
                               "or provider:region (gcp:europe-west1)");
    rc = db_region_find(db, code, &r);
    if (rc == ERR_CONFLICT && db_region_candidates(db, code, closest, sizeof closest) == ERR_OK)
        return api_field_error(problem, pointer,
                               "location '%s' is a region of several providers; give one of %s",
                               code, closest);
    if (rc == ERR_NOT_FOUND) {
        if (db_region_closest(db, code, closest, sizeof closest) == ERR_OK)
            return api_field_error(problem, pointer, "unknown location '%s'; did you mean %s?",
                                   code, closest);
        return api_field_error(
            problem, pointer, "unknown location '%s': GET /v1/regions lists the known codes", code);
    }
    if (rc != ERR_OK)
        return rc;
    core_field_error_clear(&fe);
    if (core_intensity_from_table(r.region.intensity_g_per_kwh, r.region.code, r.region.table,
                                  r.region.row, r.region.year, pointer, out, &fe) != ERR_OK)
        return api_field_from_core(problem, &fe);
    note_match(code, &r, out);
    return ERR_OK;
}

static json_t *number_or_null(bool has, double value)
{
    return has ? json_real(value) : json_null();
}

json_t *api_region_json(const struct db_region *r)
{
    json_t *o = json_pack(
        "{s:I, s:s, s:s, s:s, s:o, s:f, s:f, s:o, s:s, s:I, s:s, s:s, s:s, s:b}", "id",
        (json_int_t)r->id, "code", r->region.code, "name", r->region.name, "kind", r->kind,
        "provider", r->provider[0] ? json_string(r->provider) : json_null(), "intensity_g_per_kwh",
        r->region.intensity_g_per_kwh, "intensity_kg_per_kwh",
        core_g_per_kwh_to_kg_per_kwh(r->region.intensity_g_per_kwh), "year",
        r->region.year ? json_integer(r->region.year) : json_null(), "table", r->region.table,
        "row", (json_int_t)r->region.row, "source", r->region.source, "license", r->licence,
        "attribution", r->attribution, "preferred", r->is_preferred);

    return o;
}

json_t *api_hardware_json(const struct db_hardware *h)
{
    const struct core_hardware *hw = &h->hardware;

    return json_pack(
        "{s:I, s:s, s:s, s:f, s:o, s:o, s:o, s:o, s:o, s:s, s:I, s:s, s:s, s:s, s:b}", "id",
        (json_int_t)h->id, "name", hw->name, "kind", core_hardware_kind_name(hw->kind), "tdp_w",
        hw->tdp_w, "tdp_per_core_w", number_or_null(hw->has_tdp_per_core_w, hw->tdp_per_core_w),
        "n_cores", number_or_null(hw->has_n_cores, hw->n_cores), "peak_fp32_flops_per_s",
        number_or_null(hw->has_peak_fp32, hw->peak_fp32_flops_per_s), "peak_fp16_flops_per_s",
        number_or_null(hw->has_peak_fp16, hw->peak_fp16_flops_per_s), "memory_gb",
        number_or_null(hw->has_memory_gb, hw->memory_gb), "table", hw->table, "row",
        (json_int_t)hw->row, "source", hw->source, "license", h->licence, "attribution",
        h->attribution, "preferred", h->is_preferred);
}

json_t *api_intensity_provenance_json(struct db *db, const struct core_intensity *intensity)
{
    json_t *o = api_intensity_json(intensity);
    struct db_region r;
    enum err rc;

    if (o == NULL || intensity->source != CORE_INTENSITY_TABLE)
        return o;
    /* The row that was used, by its table and line: a stored figure keeps its row
     * even where today's lookup of the same text answers another (an activity
     * recorded at "FR" before every spelling of France answered the energy mix).
     * A row that vanished (it cannot: reference data is only written by
     * migrations) leaves the core's provenance alone. */
    rc = db_region_at(db, intensity->table, intensity->row, &r);
    if (rc != ERR_OK && rc != ERR_NOT_FOUND) { /* a read that failed is no vanished row */
        json_decref(o);
        return NULL;
    }
    if (rc == ERR_OK && strcasecmp(r.region.code, intensity->location) == 0) {
        api_json_set(&o, "name", json_string(r.region.name));
        api_json_set(&o, "g_per_kwh", json_real(r.region.intensity_g_per_kwh));
        api_json_set(&o, "reference", json_string(r.region.source));
        api_json_set(&o, "license", json_string(r.licence));
        api_json_set(&o, "attribution", json_string(r.attribution));
    }
    return o;
}
