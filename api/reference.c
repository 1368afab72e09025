/* SPDX-License-Identifier: Apache-2.0 */
/* Reference resources: GET /v1/hardware and GET /v1/regions (filtered, cursor
 * pagination with Link rel="next") and GET /v1/methodology (version, constants,
 * formulas, units, equivalences, sources and the reference data load report).
 * No SQL: rows come through db/db_refdata.c. */
#include "api_internal.h"
#include "equivalence.h"
#include "methodology.h"
#include "units.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REFERENCE_PAGE_DEFAULT 50
#define REFERENCE_PAGE_MAX     500
#define FILTER_TEXT_MAX        95
#define REPORT_LOADS_MAX       16
#define REPORT_SKIPS_MAX       256

/* A query value that must be one of choices. NULL value passes. 400 otherwise. */
static enum err query_choice(const char *key, const char *value, const char *const *choices,
                             const char *expected, struct api_problem *problem)
{
    if (value == NULL)
        return ERR_OK;
    for (const char *const *c = choices; *c; c++)
        if (strcmp(value, *c) == 0)
            return ERR_OK;
    api_field_error(problem, key, "must be %s", expected);
    return api_fail(problem, ERR_BAD_REQUEST, "query parameter '%s' must be %s", key, expected);
}

/* A query value of 1 to max_len bytes, each accepted by is_allowed. 400 otherwise. */
static enum err query_text(const char *key, const char *value, size_t min_len, size_t max_len,
                           int (*is_allowed)(int), const char *expected,
                           struct api_problem *problem)
{
    size_t len;

    if (value == NULL)
        return ERR_OK;
    len = strlen(value);
    for (const char *p = value; len >= min_len && len <= max_len && *p; p++)
        if (!is_allowed((unsigned char)*p))
            len = 0;
    if (len >= min_len && len <= max_len)
        return ERR_OK;
    api_field_error(problem, key, "must be %s", expected);
    return api_fail(problem, ERR_BAD_REQUEST, "query parameter '%s' must be %s", key, expected);
}

static int is_printable(int c)
{
    return c >= 0x20 && c != 0x7f;
}

static int is_provider_char(int c)
{
    return islower(c) || isdigit(c) || c == '-' || c == '_';
}

/* limit and cursor, shared by both listings. */
static enum err page_query(const struct api_request *req, int64_t *limit, int64_t *cursor,
                           struct api_problem *problem)
{
    enum err rc =
        api_query_int(req, "limit", 1, REFERENCE_PAGE_MAX, REFERENCE_PAGE_DEFAULT, limit, problem);

    if (rc == ERR_OK)
        rc = api_query_int(req, "cursor", 0, INT64_MAX, 0, cursor, problem);
    return rc;
}

/* Appends "&key=value" (encoded) to a Link target when value is set. */
static void link_param(char *link, size_t link_len, const char *key, const char *value)
{
    char encoded[3 * FILTER_TEXT_MAX + 1];
    size_t used = strlen(link);

    if (value == NULL || used >= link_len)
        return;
    api_url_encode(value, encoded, sizeof encoded);
    snprintf(link + used, link_len - used, "&%s=%s", key, encoded);
}

/* The page answer {items, next_cursor} with a Link header when there is more.
 * keys/values name the filters to carry into the next link (NULL-terminated). */
static enum err page_reply(struct api_reply *reply, const char *path, json_t *items, bool has_more,
                           int64_t last_id, int64_t limit, const char *const *keys,
                           const char *const *values)
{
    char link[1024], next[32];

    if (items == NULL)
        return ERR_NO_MEMORY;
    if (!has_more)
        return api_reply_json(reply, 200, json_pack("{s:o, s:n}", "items", items, "next_cursor"));
    snprintf(next, sizeof next, "%lld", (long long)last_id);
    snprintf(link, sizeof link, "<%s?limit=%lld&cursor=%s", path, (long long)limit, next);
    for (size_t i = 0; keys[i]; i++)
        link_param(link, sizeof link, keys[i], values[i]);
    if (strlen(link) + 14 < sizeof link)
        strcat(link, ">; rel=\"next\"");
    api_reply_header(reply, "Link", link);
    return api_reply_json(reply, 200, json_pack("{s:o, s:s}", "items", items, "next_cursor", next));
}

enum err api_hardware_list(struct api_service *s, const struct api_request *req,
                           struct api_reply *reply)
{
    static const char *const allowed[] = {"limit", "cursor", "name", "kind", NULL};
    static const char *const kinds[] = {"gpu", "cpu", "tpu", NULL};
    struct db_hardware_filter filter = {0};
    struct db_hardware *items = NULL;
    struct db *db = req->db;
    int64_t limit = 0, cursor = 0;
    size_t n = 0;
    bool has_more = false;
    json_t *array;
    enum err rc;

    (void)s;
    filter.name = api_query_get(req, "name");
    filter.kind = api_query_get(req, "kind");
    rc = api_check_query(req, allowed, &reply->problem);
    if (rc == ERR_OK)
        rc = page_query(req, &limit, &cursor, &reply->problem);
    if (rc == ERR_OK)
        rc = query_text("name", filter.name, 1, FILTER_TEXT_MAX, is_printable,
                        "1 to 95 characters of a hardware name", &reply->problem);
    if (rc == ERR_OK)
        rc = query_choice("kind", filter.kind, kinds, "gpu, cpu or tpu", &reply->problem);
    if (rc != ERR_OK)
        return rc;
    filter.after_id = cursor;
    filter.limit = (size_t)limit;
    items = core_calloc((size_t)limit, sizeof *items);
    if (items == NULL)
        return ERR_NO_MEMORY;
    rc = db_hardware_list(db, &filter, items, &n, &has_more);
    if (rc != ERR_OK)
        goto out;
    array = json_array();
    for (size_t i = 0; array && i < n; i++)
        api_json_append(&array, api_hardware_json(&items[i]));
    rc = page_reply(reply, "/v1/hardware", array, has_more && n > 0, n ? items[n - 1].id : 0, limit,
                    (const char *const[]){"name", "kind", NULL},
                    (const char *const[]){filter.name, filter.kind, NULL});
out:
    free(items);
    return rc;
}

enum err api_regions_list(struct api_service *s, const struct api_request *req,
                          struct api_reply *reply)
{
    static const char *const allowed[] = {"limit",   "cursor", "name", "provider",
                                          "country", "kind",   NULL};
    static const char *const kinds[] = {"world", "country", "subdivision", "cloud", NULL};
    struct db_region_filter filter = {0};
    struct db_region *items = NULL;
    struct db *db = req->db;
    int64_t limit = 0, cursor = 0;
    size_t n = 0;
    bool has_more = false;
    json_t *array;
    enum err rc;

    (void)s;
    filter.name = api_query_get(req, "name");
    filter.provider = api_query_get(req, "provider");
    filter.country = api_query_get(req, "country");
    filter.kind = api_query_get(req, "kind");
    rc = api_check_query(req, allowed, &reply->problem);
    if (rc == ERR_OK)
        rc = page_query(req, &limit, &cursor, &reply->problem);
    if (rc == ERR_OK)
        rc = query_text("name", filter.name, 1, FILTER_TEXT_MAX, is_printable,
                        "1 to 95 characters of a region code or name", &reply->problem);
    if (rc == ERR_OK)
        rc = query_text("provider", filter.provider, 1, 23, is_provider_char,
                        "a provider such as gcp, aws or azure", &reply->problem);
    /* A numeric country code is three digits; letters and digits never mix. */
    if (rc == ERR_OK && filter.country && isdigit((unsigned char)filter.country[0]))
        rc = query_text("country", filter.country, 3, 3, isdigit,
                        "an ISO 3166 code such as FR, FRA or 250", &reply->problem);
    else if (rc == ERR_OK)
        rc = query_text("country", filter.country, 2, 3, isalpha,
                        "an ISO 3166 code such as FR, FRA or 250", &reply->problem);
    if (rc == ERR_OK)
        rc = query_choice("kind", filter.kind, kinds, "world, country, subdivision or cloud",
                          &reply->problem);
    if (rc != ERR_OK)
        return rc;
    filter.after_id = cursor;
    filter.limit = (size_t)limit;
    items = core_calloc((size_t)limit, sizeof *items);
    if (items == NULL)
        return ERR_NO_MEMORY;
    rc = db_region_list(db, &filter, items, &n, &has_more);
    if (rc != ERR_OK)
        goto out;
    array = json_array();
    for (size_t i = 0; array && i < n; i++)
        api_json_append(&array, api_region_json(&items[i]));
    rc = page_reply(
        reply, "/v1/regions", array, has_more && n > 0, n ? items[n - 1].id : 0, limit,
        (const char *const[]){"name", "provider", "country", "kind", NULL},
        (const char *const[]){filter.name, filter.provider, filter.country, filter.kind, NULL});
out:
    free(items);
    return rc;
}

/* ---- methodology ---- */

static json_t *constants_json(void)
{
    size_t n = 0;
    const struct core_constant *c = core_methodology_constants(&n);
    json_t *a = json_array();

    for (size_t i = 0; a && i < n; i++)
        api_json_append(&a, json_pack("{s:s, s:f, s:s, s:s}", "name", c[i].name, "value",
                                      c[i].value, "unit", c[i].unit, "source", c[i].source));
    return a;
}

static json_t *formulas_json(void)
{
    size_t n = 0;
    const struct core_formula *f = core_methodology_formulas(&n);
    json_t *a = json_array();

    for (size_t i = 0; a && i < n; i++)
        api_json_append(&a, json_pack("{s:s, s:s, s:s}", "method", f[i].method, "formula",
                                      f[i].formula, "sources", f[i].sources));
    return a;
}

static json_t *units_json(void)
{
    static const char *const quantities[] = {
        [CORE_QUANTITY_ENERGY] = "energy (kWh)",
        [CORE_QUANTITY_MASS] = "mass (kg CO2e)",
        [CORE_QUANTITY_INTENSITY] = "carbon intensity (kg CO2e/kWh)",
    };
    size_t n = 0;
    const struct core_unit *u = core_units(&n);
    json_t *a = json_array();

    for (size_t i = 0; a && i < n; i++)
        api_json_append(&a,
                        json_pack("{s:s, s:s, s:f}", "name", u[i].name, "quantity",
                                  quantities[u[i].quantity], "to_canonical", u[i].to_canonical));
    return a;
}

static json_t *equivalence_items_json(void)
{
    const struct core_equivalence_item *items = core_equivalence_items();
    json_t *a = json_array();

    for (size_t i = 0; a && i < CORE_EQUIVALENCE_COUNT; i++)
        api_json_append(&a, json_pack("{s:s, s:s, s:f, s:f}", "name", items[i].name, "description",
                                      items[i].description, "co2e_lb", items[i].co2e_lb, "co2e_kg",
                                      items[i].co2e_kg));
    return a;
}

/* One table of the load report with its skipped rows. */
static json_t *load_json(const struct db_reference_load *l, const struct db_reference_skip *skips,
                         size_t n_skips)
{
    json_t *skipped = json_array();

    for (size_t i = 0; skipped && i < n_skips; i++)
        if (strcmp(skips[i].table, l->table) == 0)
            api_json_append(&skipped,
                            json_pack("{s:I, s:s, s:s}", "row", (json_int_t)skips[i].row, "field",
                                      skips[i].field, "reason", skips[i].reason));
    return json_pack("{s:s, s:s, s:i, s:s, s:s, s:I, s:I, s:s, s:o}", "table", l->table, "kind",
                     l->kind, "rank", l->rank, "license", l->licence, "attribution", l->attribution,
                     "rows_loaded", (json_int_t)l->n_loaded, "rows_skipped",
                     (json_int_t)l->n_skipped, "loaded_at", l->loaded_at, "skipped", skipped);
}

static const char precedence_text[] =
    "When a region code or hardware name appears in several tables, the lowest rank "
    "answers, then the earliest line. Regions: google-cloud-region-carbon/2024.csv (1), "
    "codecarbon/global_energy_mix.json (2), green-algorithms/CI_aggregated.csv (3), "
    "mlco2-impact/impact.csv (4). Hardware: Green Algorithms TDP_gpu.csv (1) and "
    "TDP_cpu.csv (2), then mlco2-impact/gpus.csv (3); a name matched exactly (letters and "
    "digits, any case) beats one matched without its vendor words.";

static enum err reference_json(struct db *db, json_t **out)
{
    struct db_reference_load loads[REPORT_LOADS_MAX];
    struct db_reference_skip *skips = core_calloc(REPORT_SKIPS_MAX, sizeof *skips);
    size_t n_loads = 0, n_skips = 0;
    json_t *tables, *sources;
    enum err rc;

    if (skips == NULL)
        return ERR_NO_MEMORY;
    rc = db_reference_report(db, loads, REPORT_LOADS_MAX, &n_loads, skips, REPORT_SKIPS_MAX,
                             &n_skips);
    if (rc != ERR_OK) {
        free(skips);
        return rc;
    }
    tables = json_array();
    sources = json_array();
    for (size_t i = 0; tables && sources && i < n_loads; i++) {
        api_json_append(&tables, load_json(&loads[i], skips, n_skips));
        api_json_append(&sources, json_pack("{s:s, s:s, s:s}", "table", loads[i].table, "license",
                                            loads[i].licence, "attribution", loads[i].attribution));
    }
    free(skips);
    *out = json_pack("{s:s, s:o, s:o}", "precedence", precedence_text, "tables", tables, "sources",
                     sources);
    return *out ? ERR_OK : ERR_NO_MEMORY;
}

enum err api_methodology_get(struct api_service *s, const struct api_request *req,
                             struct api_reply *reply)
{
    static const char *const no_query[] = {NULL};
    json_t *reference = NULL, *sources;
    struct db *db = req->db;
    enum err rc;

    (void)s;
    rc = api_check_query(req, no_query, &reply->problem);
    if (rc == ERR_OK)
        rc = reference_json(db, &reference);
    if (rc != ERR_OK)
        return rc;
    sources = api_json_deep_copy(json_object_get(reference, "sources"));
    return api_reply_json(
        reply, 200,
        json_pack("{s:s, s:o, s:o, s:o, s:o, s:{s:f, s:s}, s:o, s:o}", "methodology_version",
                  CORE_METHODOLOGY_VERSION, "constants", constants_json(), "formulas",
                  formulas_json(), "units", units_json(), "equivalences", equivalence_items_json(),
                  "default_intensity", "g_per_kwh", CORE_INTENSITY_WORLD_G_PER_KWH, "source",
                  "IEA Global Energy & CO2 Status Report 2019 (world average)", "sources", sources,
                  "reference_data", reference));
}
