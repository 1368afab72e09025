/* SPDX-License-Identifier: Apache-2.0 */
/* Inference counts: deltas with an Idempotency-Key, cumulative counters per
 * reporter, batches over many models, and the daily series. Counts are exact
 * 64-bit integers; negatives and overflow are refused. */
#include "api_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPORT_BATCH_MAX    1000
#define SERIES_DAYS_MAX     366
#define SERIES_DAYS_DEFAULT 30
#define REPORTER_MAX        128

static void utc_day(time_t t, char out[11])
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Parses a calendar date YYYY-MM-DD into seconds at 00:00 UTC; false when it is not
 * a real date. */
static bool parse_day(const char *text, time_t *out)
{
    struct tm tm;
    char back[11];
    int y, m, d;
    char tail;

    if (text == NULL || strlen(text) != 10 ||
        sscanf(text, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || text[4] != '-' || text[7] != '-')
        return false;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    *out = timegm(&tm);
    utc_day(*out, back);
    return strcmp(back, text) == 0;
}

/* Reads the optional "date" member: a day no later than today (UTC); today when
 * absent. */
static enum err body_day(const json_t *body, const char *pointer, char out[11],
                         struct api_problem *problem)
{
    const json_t *date = json_object_get(body, "date");
    time_t now = time(NULL), when;

    if (date == NULL) {
        utc_day(now, out);
        return ERR_OK;
    }
    if (!json_is_string(date) || !parse_day(json_string_value(date), &when))
        return api_field_error(problem, pointer, "must be a date YYYY-MM-DD");
    if (when > now)
        return api_field_error(problem, pointer, "must not be in the future");
    utc_day(when, out);
    return ERR_OK;
}

/* A count member: a whole number from min to INT64_MAX, in any spelling
 * api_json_whole accepts (1e6 too). Fractions, strings and anything beyond 64 bits
 * are refused. */
static enum err body_count(const json_t *body, const char *key, const char *pointer, int64_t min,
                           int64_t *out, struct api_problem *problem)
{
    const json_t *v = json_object_get(body, key);
    enum api_whole how;
    int64_t n = 0;

    if (v == NULL)
        return api_field_error(problem, pointer, "required: a whole number");
    how = api_json_whole(v, &n);
    if (how != API_WHOLE_OK)
        return api_whole_error(problem, pointer, how);
    if (n < min)
        return api_field_error(problem, pointer, "must be at least %lld", (long long)min);
    *out = n;
    return ERR_OK;
}

static enum err overflow_error(struct api_problem *problem, const char *pointer)
{
    return api_field_error(problem, pointer,
                           "the cumulative count would exceed 9223372036854775807");
}

enum err api_inferences_post(struct api_service *s, const struct api_request *req,
                             struct api_reply *reply)
{
    static const char *const allowed[] = {"count", "date", NULL};
    struct api_idempotency idem;
    struct api_model_ref model, *m = &model;
    struct db *db = req->db;
    char day[11], id[CORE_MODEL_ID_MAX + 1];
    int64_t count = 0, total = 0;
    bool replayed = false;
    struct api_principal principal;
    enum err rc;

    rc = api_path_write_gate(s, req, API_SCOPE_INFERENCES_WRITE, &principal, reply);
    if (rc != ERR_OK)
        return rc;

    if (!json_is_object(req->body))
        return api_field_error(&reply->problem, "", "the body must be a JSON object");
    rc = api_check_members(req->body, "", allowed, NULL, &reply->problem);
    if (body_count(req->body, "count", "/count", 0, &count, &reply->problem) != ERR_OK)
        rc = ERR_INVALID_INPUT;
    if (body_day(req->body, "/date", day, &reply->problem) != ERR_OK)
        rc = ERR_INVALID_INPUT;
    if (rc != ERR_OK)
        return rc;
    rc = api_idempotency_begin(s, req, principal.idempotency_scope, &idem, &reply->problem);
    if (rc != ERR_OK)
        return rc;
    /* the connection from the authorisation step above */
    rc = db_write_begin(db);
    if (rc != ERR_OK)
        goto out;
    rc = api_idempotency_replay(db, &idem, reply, &replayed);
    if (rc == ERR_OK && !replayed)
        rc = api_path_model_ref(db, req, m, &reply->problem);
    if (rc == ERR_OK && !replayed) {
        rc = db_inferences_add(db, m->key, count, day, &total);
        if (rc == ERR_COUNT_OVERFLOW)
            rc = overflow_error(&reply->problem, "/count");
        if (rc == ERR_OK)
            rc = api_reply_json(reply, 200,
                                json_pack("{s:s, s:I, s:s, s:I}", "model",
                                          core_model_id_format(&m->id, id, sizeof id), "count",
                                          (json_int_t)count, "date", day, "inferences",
                                          (json_int_t)total));
        if (rc == ERR_OK)
            rc = api_idempotency_store(db, &idem, reply);
    }
    if (rc == ERR_OK)
        rc = db_write_commit(db);
    else
        db_write_rollback(db);
    if (rc == ERR_OK && !replayed)
        api_changes_report(s, req, API_CHANGE_INFERENCES, count);
out:
    api_idempotency_end(s, &idem);
    return rc;
}

static bool is_valid_reporter(const char *text)
{
    size_t len = strlen(text);

    if (len == 0 || len > REPORTER_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':'))
            return false;
    }
    return true;
}

enum err api_counters_put(struct api_service *s, const struct api_request *req,
                          struct api_reply *reply)
{
    static const char *const allowed[] = {"total", "reset", "date", NULL};
    struct api_model_ref model, *m = &model;
    struct db *db = req->db;
    const json_t *reset;
    json_t *answer = NULL;
    const char *reporter = req->n_params > 2 ? req->params[2] : "";
    char day[11], id[CORE_MODEL_ID_MAX + 1];
    int64_t total = 0, previous = 0, delta = 0;
    bool is_reset = false;
    struct api_principal principal;
    enum err rc;

    rc = api_path_write_gate(s, req, API_SCOPE_INFERENCES_WRITE, &principal, reply);
    if (rc != ERR_OK)
        return rc;

    if (!is_valid_reporter(reporter))
        return api_fail(&reply->problem, ERR_NOT_FOUND,
                        "a reporter name is 1-%d of A-Z a-z 0-9 - _ . :", REPORTER_MAX);
    if (!json_is_object(req->body))
        return api_field_error(&reply->problem, "", "the body must be a JSON object");
    rc = api_check_members(req->body, "", allowed, NULL, &reply->problem);
    if (body_count(req->body, "total", "/total", 0, &total, &reply->problem) != ERR_OK)
        rc = ERR_INVALID_INPUT;
    reset = json_object_get(req->body, "reset");
    if (reset && !json_is_boolean(reset))
        rc = api_field_error(&reply->problem, "/reset", "must be true or false");
    is_reset = json_is_true(reset);
    if (body_day(req->body, "/date", day, &reply->problem) != ERR_OK)
        rc = ERR_INVALID_INPUT;
    if (rc != ERR_OK)
        return rc;
    /* the connection from the authorisation step above */
    rc = db_write_begin(db);
    if (rc != ERR_OK)
        goto out;
    rc = api_path_model_ref(db, req, m, &reply->problem);
    if (rc == ERR_OK) {
        rc = db_counter_put(db, m->key, reporter, total, is_reset, day, &previous, &delta);
        if (rc == ERR_CONFLICT) {
            api_field_error(&reply->problem, "/total", "smaller than the stored total %lld",
                            (long long)previous);
            rc = api_fail(&reply->problem, ERR_CONFLICT,
                          "counter '%s' stands at %lld; a smaller total needs \"reset\": true",
                          reporter, (long long)previous);
        } else if (rc == ERR_COUNT_OVERFLOW) {
            rc = overflow_error(&reply->problem, "/total");
        }
    }
    /* The answer is built before the commit: once the count stands, answering it
     * must not need memory that may be missing. */
    if (rc == ERR_OK) {
        answer = json_pack("{s:s, s:s, s:I, s:I, s:I, s:b, s:s}", "model",
                           core_model_id_format(&m->id, id, sizeof id), "reporter", reporter,
                           "total", (json_int_t)total, "previous_total", (json_int_t)previous,
                           "counted", (json_int_t)delta, "reset", is_reset, "date", day);
        if (answer == NULL)
            rc = ERR_NO_MEMORY;
    }
    if (rc == ERR_OK)
        rc = db_write_commit(db);
    else
        db_write_rollback(db);
    if (rc != ERR_OK) {
        json_decref(answer);
        goto out;
    }
    api_changes_report(s, req, API_CHANGE_INFERENCES, delta);
    rc = api_reply_json(reply, 200, answer);
out:
    return rc;
}

enum err api_inference_reports_post(struct api_service *s, const struct api_request *req,
                                    struct api_reply *reply)
{
    static const char *const allowed[] = {"reports", NULL};
    static const char *const item_allowed[] = {"model", "count", "date", NULL};
    struct api_idempotency idem;
    struct db *db = req->db;
    const json_t *reports = json_object_get(req->body, "reports");
    struct db_inference_report *items = NULL;
    int64_t counted = 0;
    char pointer[64];
    size_t n, bad = 0;
    bool replayed = false;
    struct api_principal principal;
    enum err rc;

    rc = api_require(s, req, API_SCOPE_INFERENCES_WRITE, NULL, &principal, reply);
    if (rc != ERR_OK)
        return rc;

    if (!json_is_object(req->body))
        return api_field_error(&reply->problem, "", "the body must be a JSON object");
    rc = api_check_members(req->body, "", allowed, NULL, &reply->problem);
    if (rc != ERR_OK)
        return rc;
    if (!json_is_array(reports) || json_array_size(reports) == 0)
        return api_field_error(&reply->problem, "/reports", "required: a non-empty array");
    n = json_array_size(reports);
    if (n > REPORT_BATCH_MAX)
        return api_field_error(&reply->problem, "/reports", "at most %d reports per batch",
                               REPORT_BATCH_MAX);
    items = core_calloc(n, sizeof *items);
    if (items == NULL) {
        rc = ERR_NO_MEMORY;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(reports, i);
        const json_t *model = json_object_get(item, "model");
        snprintf(pointer, sizeof pointer, "/reports/%zu", i);
        if (!json_is_object(item)) {
            rc = api_field_error(&reply->problem, pointer, "must be an object");
            continue;
        }
        if (api_check_members(item, pointer, item_allowed, NULL, &reply->problem) != ERR_OK)
            rc = ERR_INVALID_INPUT;
        snprintf(pointer, sizeof pointer, "/reports/%zu/model", i);
        if (!json_is_string(model) ||
            core_model_id_parse(json_string_value(model), &items[i].id) != ERR_OK)
            rc = api_field_error(&reply->problem, pointer, "required: a model id 'namespace/name'");
        snprintf(pointer, sizeof pointer, "/reports/%zu/count", i);
        if (body_count(item, "count", pointer, 0, &items[i].count, &reply->problem) != ERR_OK)
            rc = ERR_INVALID_INPUT;
        snprintf(pointer, sizeof pointer, "/reports/%zu/date", i);
        if (json_is_object(item) &&
            body_day(item, pointer, items[i].day, &reply->problem) != ERR_OK)
            rc = ERR_INVALID_INPUT;
    }
    /* Every model of the batch must be in the token's namespaces: all or nothing. */
    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        if (!api_principal_may_write(&principal, items[i].id.ns)) {
            snprintf(pointer, sizeof pointer, "/reports/%zu/model", i);
            api_field_error(&reply->problem, pointer, "outside this token's namespaces");
            rc = api_authorize(&principal, API_SCOPE_INFERENCES_WRITE, items[i].id.ns, reply);
        }
    }
    if (rc != ERR_OK)
        goto done;
    rc = api_idempotency_begin(s, req, principal.idempotency_scope, &idem, &reply->problem);
    if (rc != ERR_OK)
        goto done;
    /* the connection from the authorisation step above */
    rc = db_write_begin(db);
    if (rc != ERR_OK)
        goto out;
    rc = api_idempotency_replay(db, &idem, reply, &replayed);
    /* One transaction for the whole batch: a bad item leaves nothing counted. */
    if (rc == ERR_OK && !replayed) {
        rc = db_inferences_add_many(db, items, n, &bad);
        if (rc == ERR_NOT_FOUND) {
            snprintf(pointer, sizeof pointer, "/reports/%zu/model", bad);
            rc = api_field_error(&reply->problem, pointer, "model '%s' is not registered",
                                 CORE_MODEL_ID_TEXT(&items[bad].id));
        } else if (rc == ERR_COUNT_OVERFLOW) {
            snprintf(pointer, sizeof pointer, "/reports/%zu/count", bad);
            rc = overflow_error(&reply->problem, pointer);
        }
    }
    /* The batch total saturates; each model's own total is checked exactly. */
    for (size_t i = 0; i < n; i++)
        counted = items[i].count > INT64_MAX - counted ? INT64_MAX : counted + items[i].count;
    if (rc == ERR_OK && !replayed) {
        rc = api_reply_json(
            reply, 200,
            json_pack("{s:I, s:I}", "accepted", (json_int_t)n, "counted", (json_int_t)counted));
        if (rc == ERR_OK)
            rc = api_idempotency_store(db, &idem, reply);
    }
    if (rc == ERR_OK)
        rc = db_write_commit(db);
    else
        db_write_rollback(db);
    for (size_t i = 0; rc == ERR_OK && !replayed && i < n; i++)
        api_changes_report(s, req, API_CHANGE_INFERENCES, items[i].count);
out:
    api_idempotency_end(s, &idem);
done:
    free(items);
    return rc;
}

enum err api_inferences_get(struct api_service *s, const struct api_request *req,
                            struct api_reply *reply)
{
    static const char *const allowed[] = {"from", "to", NULL};
    struct db_day_count *days = NULL;
    struct api_model_ref model, *m = &model;
    struct db *db = req->db;
    const char *from_text = api_query_get(req, "from");
    const char *to_text = api_query_get(req, "to");
    char from[11], to[11], day[11], id[CORE_MODEL_ID_MAX + 1];
    time_t from_t, to_t;
    size_t n = 0, next = 0;
    json_t *series;
    enum err rc;

    (void)s;
    rc = api_check_query(req, allowed, &reply->problem);
    if (rc != ERR_OK)
        return rc;
    to_t = time(NULL);
    if (to_text && !parse_day(to_text, &to_t)) {
        api_field_error(&reply->problem, "to", "must be a date YYYY-MM-DD");
        return api_fail(&reply->problem, ERR_BAD_REQUEST,
                        "query parameter 'to' must be a date YYYY-MM-DD");
    }
    from_t = to_t - (time_t)(SERIES_DAYS_DEFAULT - 1) * 86400;
    if (from_text && !parse_day(from_text, &from_t)) {
        api_field_error(&reply->problem, "from", "must be a date YYYY-MM-DD");
        return api_fail(&reply->problem, ERR_BAD_REQUEST,
                        "query parameter 'from' must be a date YYYY-MM-DD");
    }
    if (from_t > to_t || (to_t - from_t) / 86400 >= SERIES_DAYS_MAX) {
        api_field_error(&reply->problem, "from", "must not be after 'to' nor %d days before it",
                        SERIES_DAYS_MAX);
        return api_fail(&reply->problem, ERR_BAD_REQUEST,
                        "'from' must not be after 'to', and the series spans at most %d days",
                        SERIES_DAYS_MAX);
    }
    utc_day(from_t, from);
    utc_day(to_t, to);
    days = core_calloc(SERIES_DAYS_MAX, sizeof *days);
    if (days == NULL) {
        rc = ERR_NO_MEMORY;
        goto out;
    }
    rc = db_read_begin(db);
    if (rc != ERR_OK)
        goto out;
    rc = api_path_model_ref(db, req, m, &reply->problem);
    if (rc == ERR_OK)
        rc = db_inference_series(db, m->key, from, to, days, SERIES_DAYS_MAX, &n);
    db_read_end(db);
    if (rc != ERR_OK)
        goto out;
    /* A dense series: every day in range, zero where nothing was counted. */
    series = json_array();
    for (time_t t = from_t; series && t <= to_t; t += 86400) {
        int64_t count = 0;
        utc_day(t, day);
        if (next < n && strcmp(days[next].day, day) == 0)
            count = days[next++].count;
        api_json_append(&series, json_pack("{s:s, s:I}", "date", day, "count", (json_int_t)count));
    }
    rc = api_reply_json(reply, 200,
                        json_pack("{s:s, s:s, s:s, s:o}", "model",
                                  core_model_id_format(&m->id, id, sizeof id), "from", from, "to",
                                  to, "days", series));
out:
    free(days);
    return rc;
}
