/* SPDX-License-Identifier: Apache-2.0 */
/* `carbontree import FILE`: bulk-loads models from JSON lines, one POST /v1/models
 * body per line plus "activities" and "inferences", validated by the same parsers
 * as the API. Refused lines are reported and skipped; the rest is committed in
 * batches through the db bulk interface. */
#include "api_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define IMPORT_LINE_MAX       (1024 * 1024) /* a line is one model: the API's body cap */
#define IMPORT_ACTIVITIES_MAX 64
#define IMPORT_PROGRESS_EVERY 4096  /* lines between progress bar redraws */
#define IMPORT_BATCH_DEFAULT  50000 /* lines per transaction: one fsync each */

static const char *const import_members[] = {"activities", "inferences", NULL};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "pointer: message; ..." of a problem (pointers under prefix), else its detail. */
static void problem_text(const struct api_problem *problem, const char *prefix, char *buf,
                         size_t buf_len)
{
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < problem->n_errors && len + 1 < buf_len; i++) {
        int n = snprintf(buf + len, buf_len - len, "%s%s%s: %s", i ? "; " : "", prefix,
                         problem->errors[i].pointer, problem->errors[i].message);
        if (n < 0)
            break;
        len += (size_t)n;
    }
    if (problem->n_errors == 0)
        snprintf(buf, buf_len, "%s", problem->detail[0] ? problem->detail : "refused");
}

/* The activities of one line, parsed before anything is written. */
struct line_activities {
    struct db_activity items[IMPORT_ACTIVITIES_MAX + 1];
    size_t n;
};

static void activities_cleanup(struct line_activities *list)
{
    for (size_t i = 0; i < list->n; i++)
        db_activity_cleanup(&list->items[i]);
    list->n = 0;
}

/* Parses "activities" and the card's activity into list; on refusal fills reason. */
static enum err parse_activities(struct db *db, const json_t *card_activity,
                                 const json_t *activities, struct line_activities *list,
                                 char *reason, size_t reason_len)
{
    size_t n = json_array_size(activities);
    enum err rc;

    list->n = 0;
    for (size_t i = 0; i <= n; i++) {
        const json_t *body = i < n ? json_array_get(activities, i) : card_activity;
        struct api_problem problem;
        char prefix[48];

        if (body == NULL)
            continue;
        memset(&problem, 0, sizeof problem);
        rc = api_activity_parse(db, body, &list->items[list->n], &problem);
        if (rc != ERR_OK && err_http_status(rc) >= 500) {
            activities_cleanup(list);
            return rc; /* a storage or memory failure during the checks: not the line's fault */
        }
        if (rc != ERR_OK) {
            if (i < n)
                snprintf(prefix, sizeof prefix, "/activities/%zu", i);
            else
                snprintf(prefix, sizeof prefix, "/co2_eq_emissions");
            problem_text(&problem, prefix, reason, reason_len);
            activities_cleanup(list);
            return ERR_INVALID_INPUT;
        }
        list->n++;
    }
    return ERR_OK;
}

/* Reads the import-only members: "activities" (array) and "inferences" (count). */
static enum err parse_extra(const json_t *line, const json_t **activities, int64_t *inferences,
                            struct api_problem *problem)
{
    bool present = false;

    *activities = json_object_get(line, "activities");
    if (*activities &&
        (!json_is_array(*activities) || json_array_size(*activities) > IMPORT_ACTIVITIES_MAX))
        return api_field_error(problem, "/activities", "must be an array of at most %d activities",
                               IMPORT_ACTIVITIES_MAX);
    *inferences = 0;
    return api_get_count(line, "inferences", "/inferences", INT64_MAX, inferences, &present,
                         problem);
}

/* Validates one line completely, then stores it in the current batch. A refused
 * line (reason filled, *is_refused set) has written nothing; any other failure
 * leaves the batch to be rolled back. */
static enum err import_one(struct db *db, struct db_bulk *bulk, const json_t *line, const char *day,
                           struct line_activities *list, bool *is_refused, char *reason,
                           size_t reason_len)
{
    struct core_model m;
    struct api_problem problem;
    const json_t *activities = NULL;
    json_t *card_activity = NULL;
    int64_t inferences = 0;
    size_t bad = 0;
    bool from_card = false;
    enum err rc;

    memset(&problem, 0, sizeof problem);
    *is_refused = true;
    rc = api_model_parse(line, import_members, &m, &from_card, &card_activity, &problem);
    if (rc == ERR_OK)
        rc = parse_extra(line, &activities, &inferences, &problem);
    if (rc != ERR_OK) {
        problem_text(&problem, "", reason, reason_len);
        json_decref(card_activity);
        return rc;
    }
    rc = parse_activities(db, card_activity, activities, list, reason, reason_len);
    json_decref(card_activity);
    if (rc != ERR_OK)
        return rc;
    rc = db_bulk_model_insert(bulk, &m, inferences, day, &bad);
    if (rc == ERR_CONFLICT || rc == ERR_NOT_FOUND || rc == ERR_INVALID_INPUT ||
        rc == ERR_COUNT_OVERFLOW) {
        rc = api_model_insert_error(rc, &m, bad, from_card, &problem);
        problem_text(&problem, "", reason, reason_len);
        activities_cleanup(list);
        return rc;
    }
    *is_refused = false;
    for (size_t i = 0; rc == ERR_OK && i < list->n; i++)
        rc = db_bulk_activity_insert(bulk, m.key, &list->items[i]);
    if (rc == ERR_OK && list->n > 0)
        rc = db_bulk_activities_done(bulk, m.key);
    activities_cleanup(list);
    return rc;
}

static void draw_progress(FILE *progress, long offset, long size, int64_t n_lines, double started)
{
    double fraction = size > 0 ? (double)offset / (double)size : 0;
    double seconds = now_s() - started;
    int filled = (int)(fraction * 40);
    char bar[41];

    if (fraction > 1)
        fraction = 1;
    for (int i = 0; i < 40; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[40] = '\0';
    fprintf(progress, "\r[%s] %5.1f%% %lld lines %.0f lines/s", bar, fraction * 100,
            (long long)n_lines, seconds > 0 ? (double)n_lines / seconds : 0.0);
    fflush(progress);
}

/* Opens (creating and migrating when needed) the database and its bulk handle. */
static enum err open_target(const struct api_config *config, struct db **db, struct db_bulk **bulk,
                            char *why, size_t why_len)
{
    struct db_options options = {.path = config->db_path,
                                 .busy_timeout_ms = config->busy_timeout_ms,
                                 .create = true,
                                 .max_page_count = config->max_page_count};
    enum err rc = db_open(&options, db, why, why_len);

    if (rc != ERR_OK)
        return rc;
    rc = db_migrate(*db, NULL, NULL);
    if (rc == ERR_OK)
        rc = db_bulk_create(*db, bulk);
    if (rc != ERR_OK) {
        snprintf(why, why_len, "cannot prepare the database: %s", db_last_error(*db));
        db_close(*db);
        *db = NULL;
    }
    return rc;
}

struct import_run {
    struct db *db;
    struct db_bulk *bulk;
    struct line_activities activities;
    FILE *report;
    char day[11];
    size_t batch_lines;
    size_t in_batch;
};

static enum err batch_commit(struct import_run *run)
{
    enum err rc = db_bulk_flush(run->bulk);

    run->in_batch = 0;
    if (rc != ERR_OK) {
        db_write_rollback(run->db);
        return rc;
    }
    return db_write_commit(run->db);
}

/* Handles one input line (without its newline); ERR_OK unless storage failed. */
static enum err import_line(struct import_run *run, char *text, size_t len,
                            struct api_import_summary *sum)
{
    char reason[1024];
    json_error_t error;
    json_t *line;
    bool is_refused = false;
    enum err rc;

    while (len > 0 && (text[len - 1] == '\r' || text[len - 1] == ' ' || text[len - 1] == '\t'))
        text[--len] = '\0';
    if (len == 0)
        return ERR_OK;
    sum->n_lines++;
    if (len > IMPORT_LINE_MAX) {
        fprintf(run->report, "line %lld: longer than %d bytes\n", (long long)sum->line_number,
                IMPORT_LINE_MAX);
        sum->n_refused++;
        return ERR_OK;
    }
    line = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
    /* jansson's lexer reports an allocation that failed as a syntax error ("string
     * or '}' expected"): a second parse tells a passing shortage from a malformed
     * line, which fails the same way twice. */
    if (line == NULL && json_error_code(&error) != json_error_out_of_memory)
        line = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
    if (line == NULL && json_error_code(&error) == json_error_out_of_memory)
        return ERR_NO_MEMORY; /* the run's failure, not a malformed line */
    if (line == NULL) {
        fprintf(run->report, "line %lld: malformed JSON at column %d: %s\n",
                (long long)sum->line_number, error.column, error.text);
        sum->n_refused++;
        return ERR_OK;
    }
    if (run->in_batch == 0) {
        rc = db_write_begin(run->db);
        if (rc != ERR_OK) {
            json_decref(line);
            return rc;
        }
    }
    run->in_batch++;
    reason[0] = '\0';
    rc = import_one(run->db, run->bulk, line, run->day, &run->activities, &is_refused, reason,
                    sizeof reason);
    json_decref(line);
    if (rc == ERR_OK) {
        sum->n_imported++;
    } else if (is_refused && err_http_status(rc) < 500) {
        /* Only the line's own faults refuse it; storage or memory failing while it
         * was checked (a location lookup) stops the run like any other storage error. */
        fprintf(run->report, "line %lld: %s\n", (long long)sum->line_number,
                reason[0] ? reason : err_name(rc));
        sum->n_refused++;
        rc = ERR_OK;
    }
    if (rc == ERR_OK && run->in_batch >= run->batch_lines)
        rc = batch_commit(run);
    return rc;
}

enum err api_cli_import(const struct api_config *config, const char *path, size_t batch_lines,
                        FILE *report, FILE *progress, struct api_import_summary *out, char *why,
                        size_t why_len)
{
    struct import_run run = {.report = report,
                             .batch_lines = batch_lines ? batch_lines : IMPORT_BATCH_DEFAULT};
    struct api_import_summary sum = {0};
    double started = now_s();
    char *text = NULL;
    size_t cap = 0;
    ssize_t len;
    struct stat st;
    time_t today = time(NULL);
    struct tm tm;
    FILE *in;
    enum err rc = ERR_OK;

    memset(out, 0, sizeof *out);
    in = fopen(path, "r");
    if (in == NULL) {
        snprintf(why, why_len, "cannot open %s", path);
        return ERR_IO;
    }
    gmtime_r(&today, &tm);
    strftime(run.day, sizeof run.day, "%Y-%m-%d", &tm);
    rc = open_target(config, &run.db, &run.bulk, why, why_len);
    if (rc != ERR_OK) {
        fclose(in);
        return rc;
    }
    if (fstat(fileno(in), &st) != 0)
        st.st_size = 0;
    while (rc == ERR_OK && (len = getline(&text, &cap, in)) >= 0) {
        sum.line_number++;
        if (len > 0 && text[len - 1] == '\n')
            text[--len] = '\0';
        rc = import_line(&run, text, (size_t)len, &sum);
        if (progress && sum.line_number % IMPORT_PROGRESS_EVERY == 0)
            draw_progress(progress, ftell(in), (long)st.st_size, sum.line_number, started);
    }
    if (rc == ERR_OK && run.in_batch > 0)
        rc = batch_commit(&run);
    else if (rc != ERR_OK && run.in_batch > 0)
        db_write_rollback(run.db);
    if (rc != ERR_OK)
        snprintf(why, why_len,
                 "storage failed at line %lld: %s (lines since the last commit "
                 "were not imported)",
                 (long long)sum.line_number, db_last_error(run.db));
    if (progress) {
        draw_progress(progress, (long)st.st_size, (long)st.st_size, sum.line_number, started);
        fputc('\n', progress);
    }
    free(text);
    fclose(in);
    db_bulk_destroy(run.bulk);
    db_close(run.db);
    sum.seconds = now_s() - started;
    *out = sum;
    return rc;
}
