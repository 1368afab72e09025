/* SPDX-License-Identifier: Apache-2.0 */
/* GET …/series: a model's inferences and their CO2e per day, week or month, every
 * bucket from `from` to `to` present (zero where nothing was counted), as JSON or
 * CSV. Reads the model's daily rows in the range and its lineage once; with
 * ?scope=family, the family's maintained days in the range instead. */
#include "api_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY_S 86400

enum granularity { BY_DAY, BY_WEEK, BY_MONTH };

static const struct {
    const char *name;
    int default_days; /* the span when `from` is absent, `to` included */
    int max_days;     /* the longest span asked for */
} granularities[] = {
    [BY_DAY] = {"day", 30, 366},
    [BY_WEEK] = {"week", 7 * 12, 7 * 260},
    [BY_MONTH] = {"month", 365, 3660},
};

static void utc_day(time_t t, char out[11])
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* A calendar date YYYY-MM-DD as seconds at 00:00 UTC; false when it is not one. */
static bool parse_day(const char *text, time_t *out)
{
    struct tm tm;
    char back[11];
    int y, m, d;
    char tail;

    if (strlen(text) != 10 || sscanf(text, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 ||
        text[4] != '-' || text[7] != '-')
        return false;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    *out = timegm(&tm);
    utc_day(*out, back);
    return strcmp(back, text) == 0;
}

/* The first day of the bucket that holds day t: itself, the Monday of its ISO
 * week, or the first of its month. */
static time_t bucket_start(time_t t, enum granularity g)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    if (g == BY_WEEK)
        return t - (time_t)((tm.tm_wday + 6) % 7) * DAY_S;
    if (g == BY_MONTH)
        return t - (time_t)(tm.tm_mday - 1) * DAY_S;
    return t;
}

static enum err parse_query(const struct api_request *req, enum granularity *g, time_t *from,
                            time_t *to, struct api_problem *problem)
{
    const char *g_text = api_query_get(req, "granularity");
    const char *from_text = api_query_get(req, "from");
    const char *to_text = api_query_get(req, "to");

    *g = BY_DAY;
    if (g_text) {
        size_t i = 0;
        while (i < sizeof granularities / sizeof granularities[0] &&
               strcmp(g_text, granularities[i].name) != 0)
            i++;
        if (i == sizeof granularities / sizeof granularities[0]) {
            api_field_error(problem, "granularity", "one of day, week, month");
            return api_fail(problem, ERR_BAD_REQUEST,
                            "query parameter 'granularity' is not one of day, week, month");
        }
        *g = (enum granularity)i;
    }
    *to = time(NULL) / DAY_S * DAY_S;
    if (to_text && !parse_day(to_text, to)) {
        api_field_error(problem, "to", "must be a date YYYY-MM-DD");
        return api_fail(problem, ERR_BAD_REQUEST, "query parameter 'to' must be a date YYYY-MM-DD");
    }
    *from = *to - (time_t)(granularities[*g].default_days - 1) * DAY_S;
    if (from_text && !parse_day(from_text, from)) {
        api_field_error(problem, "from", "must be a date YYYY-MM-DD");
        return api_fail(problem, ERR_BAD_REQUEST,
                        "query parameter 'from' must be a date YYYY-MM-DD");
    }
    if (*from > *to || (*to - *from) / DAY_S >= granularities[*g].max_days) {
        api_field_error(problem, "from", "must not be after 'to' nor %d days before it",
                        granularities[*g].max_days);
        return api_fail(problem, ERR_BAD_REQUEST,
                        "'from' must not be after 'to', and a series by %s spans at most %d days",
                        granularities[*g].name, granularities[*g].max_days);
    }
    return ERR_OK;
}

/* One bucket: its first day, its inferences, and (a family's) their CO2e. */
struct bucket {
    char start[11];
    int64_t inferences;
    struct core_range kg;
};

static struct core_range bucket_kg(const struct bucket *b, struct core_range g_each)
{
    double n = (double)b->inferences;

    return (struct core_range){.value = n * g_each.value / 1000.0,
                               .low = n * g_each.low / 1000.0,
                               .high = n * g_each.high / 1000.0};
}

/* A bucket's CO2e: a family's sum as kept, or the model's inferences at g_each. */
static struct core_range bucket_co2e(const struct bucket *b, bool is_family,
                                     struct core_range g_each)
{
    return is_family ? b->kg : bucket_kg(b, g_each);
}

static enum err series_csv(const struct bucket *buckets, size_t n, bool is_family,
                           bool has_inference, struct core_range g_each, struct api_reply *reply)
{
    struct api_csv csv = {0};

    api_csv_header(&csv, "start,inferences,inference_co2e_kg,inference_co2e_kg_low,"
                         "inference_co2e_kg_high");
    for (size_t i = 0; i < n; i++) {
        struct core_range kg = bucket_co2e(&buckets[i], is_family, g_each);
        api_csv_field(&csv, buckets[i].start);
        api_csv_integer(&csv, buckets[i].inferences);
        if (has_inference) {
            api_csv_number(&csv, kg.value);
            api_csv_number(&csv, kg.low);
            api_csv_number(&csv, kg.high);
        } else {
            api_csv_field(&csv, NULL);
            api_csv_field(&csv, NULL);
            api_csv_field(&csv, NULL);
        }
        api_csv_row_end(&csv);
    }
    return api_csv_reply(&csv, reply);
}

enum err api_series_get(struct api_service *s, const struct api_request *req,
                        struct api_reply *reply)
{
    static const char *const allowed[] = {"from", "to", "granularity", "format", "scope", NULL};
    struct api_model_ref model;
    struct api_footprint footprint;
    struct db_day_count *days = NULL;
    struct db_family_day *family_days = NULL;
    const char *scope = api_query_get(req, "scope");
    struct bucket *buckets = NULL;
    struct db *db = req->db;
    enum granularity g = BY_DAY;
    time_t from_t = 0, to_t = 0;
    char from[11], to[11], id[CORE_MODEL_ID_MAX + 1];
    size_t n_days = 0, n_buckets = 0, next = 0, cap;
    bool has_inference = false, has_footprint = false, is_family = false;
    struct core_range g_each = {0};
    json_t *array;
    enum err rc;

    (void)s;
    memset(&footprint, 0, sizeof footprint);
    rc = api_check_query(req, allowed, &reply->problem);
    if (rc == ERR_OK)
        rc = api_csv_format_check(req, &reply->problem);
    if (rc == ERR_OK)
        rc = parse_query(req, &g, &from_t, &to_t, &reply->problem);
    if (rc == ERR_OK && scope && strcmp(scope, "model") != 0 && strcmp(scope, "family") != 0) {
        api_field_error(&reply->problem, "scope", "must be model or family");
        rc = api_fail(&reply->problem, ERR_BAD_REQUEST,
                      "query parameter 'scope' must be model or family");
    }
    if (rc != ERR_OK)
        return rc;
    is_family = scope && strcmp(scope, "family") == 0;
    utc_day(from_t, from);
    utc_day(to_t, to);
    cap = (size_t)((to_t - from_t) / DAY_S) + 1;
    if (is_family)
        family_days = core_calloc(cap, sizeof *family_days);
    else
        days = core_calloc(cap, sizeof *days);
    buckets = core_calloc(cap, sizeof *buckets);
    if ((days == NULL && family_days == NULL) || buckets == NULL) {
        rc = ERR_NO_MEMORY;
        goto out;
    }
    rc = db_read_begin(db);
    if (rc != ERR_OK)
        goto out;
    rc = api_path_model_ref(db, req, &model, &reply->problem);
    if (rc == ERR_OK && is_family)
        rc = db_family_daily_series(db, model.key, from, to, family_days, cap, &n_days);
    else if (rc == ERR_OK)
        rc = db_inference_series(db, model.key, from, to, days, cap, &n_days);
    if (rc == ERR_OK && !is_family) {
        rc = api_footprint_load(db, model.key, NULL, CORE_POLICY_USAGE, &footprint);
        has_footprint = rc == ERR_OK;
    }
    db_read_end(db);
    if (rc != ERR_OK)
        goto out;
    has_inference = footprint.fp.has_inference;
    if (has_inference)
        g_each = footprint.fp.inference_g_each;
    /* Every bucket from the one holding `from` to the one holding `to`, each
     * counting the days of [from, to] it holds. */
    for (time_t t = from_t; t <= to_t; t += DAY_S) {
        char day[11];
        time_t start = bucket_start(t, g);
        utc_day(start, day);
        if (n_buckets == 0 || strcmp(buckets[n_buckets - 1].start, day) != 0)
            memcpy(buckets[n_buckets++].start, day, sizeof day);
        utc_day(t, day);
        if (is_family && next < n_days && strcmp(family_days[next].day, day) == 0) {
            struct bucket *b = &buckets[n_buckets - 1];
            b->inferences += family_days[next].inferences;
            b->kg = core_range_add(b->kg, family_days[next++].co2e_kg);
        } else if (!is_family && next < n_days && strcmp(days[next].day, day) == 0) {
            buckets[n_buckets - 1].inferences += days[next++].count;
        }
    }
    /* A family's figure is its members' counts each at its own price (none for
     * a count without one): it is always there, possibly zero. */
    has_inference = has_inference || is_family;
    if (api_csv_wanted_vary(req, reply)) {
        api_csv_attachment(reply, &model.id, is_family ? "family_series" : "series");
        rc = series_csv(buckets, n_buckets, is_family, has_inference, g_each, reply);
        goto out;
    }
    array = json_array();
    for (size_t i = 0; array && i < n_buckets; i++) {
        json_t *b = json_pack("{s:s, s:I}", "start", buckets[i].start, "inferences",
                              (json_int_t)buckets[i].inferences);
        api_json_set(&b, "inference_co2e_kg",
                     has_inference ? api_range_json(bucket_co2e(&buckets[i], is_family, g_each))
                                   : json_null());
        api_json_append(&array, b);
    }
    core_model_id_format(&model.id, id, sizeof id);
    if (is_family)
        rc = api_reply_json(reply, 200,
                            json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "model", id, "scope",
                                      "family", "granularity", granularities[g].name, "from", from,
                                      "to", to, "buckets", array));
    else
        rc = api_reply_json(reply, 200,
                            json_pack("{s:s, s:s, s:s, s:s, s:o}", "model", id, "granularity",
                                      granularities[g].name, "from", from, "to", to, "buckets",
                                      array));
out:
    if (has_footprint)
        api_footprint_cleanup(&footprint);
    free(family_days);
    free(days);
    free(buckets);
    return rc;
}
