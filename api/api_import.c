/* SPDX-License-Identifier: Apache-2.0 */
/* `carbontree import FILE`: bulk-loads models from JSON lines, one POST /v1/models
 * body per line plus "activities" and "inferences", validated by the same parsers
 * as the API. Refused lines are reported and skipped; the rest is committed in
 * batches through the db bulk interface. */
#include "api_internal.h"

#include <dirent.h>
#include <limits.h>
#include <stdint.h>
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

/* Stores a line whose model exists already, or whose card names parents that do
 * not, through the path PUT takes: the model's card facts are brought in line
 * with the line (placeholders created, a placeholder completed), in a savepoint
 * of the batch so that a refusal writes nothing. The line's "activities" and
 * "inferences" are counted when the line creates the model, never again. */
static enum err import_sync(struct db *db, struct db_bulk *bulk, struct core_model *m,
                            const struct api_card *card, int64_t inferences, const char *day,
                            struct line_activities *list, enum api_card_outcome *outcome,
                            json_t *flags, bool *is_refused, char *reason, size_t reason_len)
{
    struct api_card_result res = {0};
    struct api_problem problem;
    size_t n_own = card->activity ? list->n - 1 : list->n; /* the card's is stored apart */
    bool exists = false;
    enum err rc = db_bulk_model_exists(bulk, &m->id, &exists);

    /* The bulk statements' family sums wait in memory. A new model only adds to its
     * ancestors' sums, as they do; a model that exists may have its family sums
     * recomputed (a lineage edit), which must see them written, and an inference
     * count checks them for overflow. */
    if (rc == ERR_OK && exists)
        rc = db_bulk_flush(bulk);
    else if (rc == ERR_OK && inferences > 0)
        rc = db_bulk_room(bulk, inferences);
    memset(&problem, 0, sizeof problem);
    if (rc == ERR_OK)
        rc = db_savepoint_begin(db);
    if (rc != ERR_OK)
        return rc;
    rc = api_card_store(db, m, card, true, &res, &problem);
    if (rc == ERR_OK && res.outcome == API_CARD_CREATED) {
        for (size_t i = 0; rc == ERR_OK && i < n_own; i++)
            rc = db_activity_insert(db, m->key, &list->items[i]);
        if (rc == ERR_OK && inferences > 0)
            rc = db_inferences_add(db, m->key, inferences, day, NULL);
    }
    if (res.flags)
        json_array_extend(flags, res.flags);
    json_decref(res.placeholders);
    json_decref(res.flags);
    *outcome = res.outcome;
    if (rc == ERR_OK)
        return db_savepoint_end(db, true);
    db_savepoint_end(db, false);
    if (rc == ERR_INVALID_INPUT || rc == ERR_CONFLICT || rc == ERR_NOT_FOUND ||
        rc == ERR_COUNT_OVERFLOW) {
        problem_text(&problem, "", reason, reason_len);
        *is_refused = true;
    }
    return rc;
}

/* Validates one line completely, then stores it in the current batch: a new model
 * whose parents are all registered through the bulk statements, anything else
 * through import_sync. A refused line (reason filled, *is_refused set) has written
 * nothing; any other failure leaves the batch to be rolled back. */
static enum err import_one(struct db *db, struct db_bulk *bulk, const json_t *line, const char *day,
                           bool count_copied, struct line_activities *list,
                           enum api_card_outcome *outcome, json_t *flags, bool *is_refused,
                           char *reason, size_t reason_len)
{
    struct core_model m;
    struct api_card card;
    struct api_problem problem;
    const json_t *activities = NULL;
    int64_t inferences = 0;
    size_t bad = 0;
    bool needs_reading;
    enum err rc;

    memset(&problem, 0, sizeof problem);
    *is_refused = true;
    *outcome = API_CARD_CREATED;
    rc = api_model_parse(line, import_members, &m, &card, &problem);
    card.count_copied = count_copied;
    if (rc == ERR_OK)
        rc = parse_extra(line, &activities, &inferences, &problem);
    if (rc != ERR_OK) {
        problem_text(&problem, "", reason, reason_len);
        goto out;
    }
    rc = parse_activities(db, card.activity, activities, list, reason, reason_len);
    if (rc != ERR_OK)
        goto out;
    /* A card's co2_eq_emissions is read against the stored data (the region and
     * hardware it names, its siblings' figures): the path PUT takes. */
    needs_reading = card.training_given >= 0;
    if (!needs_reading)
        rc = db_bulk_model_insert(bulk, &m, inferences, day, &bad);
    if (needs_reading || rc == ERR_CONFLICT || (rc == ERR_NOT_FOUND && card.is_card)) {
        *is_refused = false;
        rc = import_sync(db, bulk, &m, &card, inferences, day, list, outcome, flags, is_refused,
                         reason, reason_len);
        activities_cleanup(list);
        goto out;
    }
    if (rc == ERR_NOT_FOUND || rc == ERR_INVALID_INPUT || rc == ERR_COUNT_OVERFLOW) {
        rc = api_model_insert_error(rc, &m, bad, card.from_card, &problem);
        problem_text(&problem, "", reason, reason_len);
        activities_cleanup(list);
        goto out;
    }
    *is_refused = false;
    if (rc != ERR_OK) {
        /* Storage or memory failed part way through the model's rows: the run stops
         * and its batch rolls back, rather than going on over a half-written model. */
        activities_cleanup(list);
        goto out;
    }
    /* A new model has no descendants yet: only its own figure needs checking. */
    {
        json_t *mine = json_array();
        bool copied = false;
        size_t n_insert = list->n;
        rc = mine ? api_card_check_figure(db, &m, &card, mine, &copied) : ERR_NO_MEMORY;
        if (rc == ERR_OK && copied && !count_copied)
            n_insert--; /* the card's activity is the last of the list (parse_activities) */
        for (size_t i = 0; rc == ERR_OK && i < n_insert; i++)
            rc = db_bulk_activity_insert(bulk, m.key, &list->items[i]);
        if (rc == ERR_OK && n_insert > 0)
            rc = db_bulk_activities_done(bulk, m.key);
        if (rc == ERR_OK) {
            struct db_card record = {.facts = card.facts,
                                     .relation_given = card.relation_given,
                                     .is_card = card.is_card,
                                     .activity_id = card.activity && n_insert == list->n
                                                        ? list->items[list->n - 1].id
                                                        : 0,
                                     .has_hours = card.has_hours,
                                     .hours = card.hours};
            char *ignored = api_json_dumps(card.ignored, JSON_COMPACT);
            char *flag_text = api_json_dumps(mine, JSON_COMPACT);
            snprintf(record.location, sizeof record.location, "%s", card.location);
            snprintf(record.hardware, sizeof record.hardware, "%s", card.hardware);
            snprintf(record.source, sizeof record.source, "%s", card.source);
            record.ignored = ignored;
            record.flags = flag_text;
            snprintf(record.relation_from, sizeof record.relation_from, "%s",
                     card.relation_given >= 0 ? card.relation_from : "");
            rc = ignored && flag_text ? db_card_put(db, m.key, &record) : ERR_NO_MEMORY;
            free(ignored);
            free(flag_text);
        }
        json_array_extend(flags, mine);
        json_decref(mine);
    }
    activities_cleanup(list);
out:
    api_card_cleanup(&card);
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
    bool count_copied;
};

/* The first character of the file that is not white space (EOF when none); the
 * file is read again from its start afterwards. */
static int first_char(FILE *in)
{
    int c;

    while ((c = fgetc(in)) == ' ' || c == '\t' || c == '\r' || c == '\n')
        ;
    rewind(in);
    return c;
}

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

/* The Hub's model-info JSON (GET /api/models/{id}: "id", "cardData", "tags",
 * "pipeline_tag", "library_name", "downloads", ...) as the card it describes: the
 * card data with the id, and the tags, pipeline_tag and library_name the Hub
 * lists beside it (its tags hold the base_model:quantized:/adapter: relations it
 * inferred). Figures about the repository (downloads, likes) are no card
 * metadata and are left out. Returns a new reference; NULL for any other value. */
static json_t *card_of_model_info(const json_t *info, bool *no_memory)
{
    static const char *const beside[] = {"tags", "pipeline_tag", "library_name", NULL};
    const json_t *card_data = json_object_get(info, "cardData");
    const json_t *id = json_object_get(info, "id");
    json_t *card;

    *no_memory = false;
    if (!json_is_object(info) || (card_data == NULL && json_object_get(info, "modelId") == NULL))
        return NULL;
    if (id == NULL)
        id = json_object_get(info, "modelId");
    card = json_is_object(card_data) ? api_json_deep_copy(card_data) : json_object();
    /* A card short of a member for want of memory would be imported as another
     * card: the run stops instead. */
    if (card == NULL || json_object_set(card, "id", (json_t *)(uintptr_t)id) != 0)
        goto no_memory;
    for (const char *const *k = beside; *k; k++)
        if (json_object_get(card, *k) == NULL && json_object_get(info, *k) != NULL &&
            json_object_set(card, *k, json_object_get(info, *k)) != 0)
            goto no_memory;
    return card;
no_memory:
    json_decref(card);
    *no_memory = true;
    return NULL;
}

/* Imports one model (a POST /v1/models body, a Hub card or a model-info object);
 * where names it in the report ("line 3", "item 2", a README.md path). ERR_OK
 * unless storage failed. */
static enum err import_value(struct import_run *run, const json_t *value, const char *where,
                             struct api_import_summary *sum)
{
    char reason[1024];
    bool no_memory;
    json_t *card = card_of_model_info(value, &no_memory);
    const json_t *line = card ? card : value;
    json_t *flags = no_memory ? NULL : json_array();
    bool is_refused = false;
    enum api_card_outcome outcome = API_CARD_CREATED;
    enum err rc;

    if (run->in_batch == 0) {
        rc = db_write_begin(run->db);
        if (rc != ERR_OK) {
            json_decref(card);
            json_decref(flags);
            return rc;
        }
    }
    run->in_batch++;
    reason[0] = '\0';
    rc = flags ? import_one(run->db, run->bulk, line, run->day, run->count_copied, &run->activities,
                            &outcome, flags, &is_refused, reason, sizeof reason)
               : ERR_NO_MEMORY;
    json_decref(card);
    for (size_t i = 0; rc == ERR_OK && i < json_array_size(flags); i++) {
        const json_t *f = json_array_get(flags, i);
        fprintf(run->report, "%s: flagged %s: %s\n", where,
                json_string_value(json_object_get(f, "flag")),
                json_string_value(json_object_get(f, "detail")));
        sum->n_flagged++;
    }
    json_decref(flags);
    if (rc == ERR_OK) {
        sum->n_imported++;
        if (outcome == API_CARD_CREATED)
            sum->n_created++;
        else if (outcome == API_CARD_UPDATED)
            sum->n_updated++;
        else
            sum->n_unchanged++;
    } else if (is_refused && err_http_status(rc) < 500) {
        /* Only the line's own faults refuse it; storage or memory failing while it
         * was checked (a location lookup) stops the run like any other storage error. */
        fprintf(run->report, "%s: %s\n", where, reason[0] ? reason : err_name(rc));
        sum->n_refused++;
        rc = ERR_OK;
    }
    if (rc == ERR_OK && run->in_batch >= run->batch_lines)
        rc = batch_commit(run);
    return rc;
}

/* Handles one input line (without its newline); ERR_OK unless storage failed. */
static enum err import_line(struct import_run *run, char *text, size_t len,
                            struct api_import_summary *sum)
{
    json_error_t error;
    json_t *line;
    char where[48];
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
    line = api_json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
    /* jansson's lexer reports an allocation that failed as a syntax error ("string
     * or '}' expected"): a second parse tells a passing shortage from a malformed
     * line, which fails the same way twice. */
    if (line == NULL && json_error_code(&error) != json_error_out_of_memory)
        line = api_json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
    /* When its lexer cannot even start (no memory for its buffer), json_loadb fails
     * with no error text at all: that too is no malformed line. */
    if (line == NULL &&
        (json_error_code(&error) == json_error_out_of_memory || error.text[0] == '\0'))
        return ERR_NO_MEMORY; /* the run's failure, not a malformed line */
    if (line == NULL) {
        fprintf(run->report, "line %lld: malformed JSON at column %d: %s\n",
                (long long)sum->line_number, error.column, error.text);
        sum->n_refused++;
        return ERR_OK;
    }
    snprintf(where, sizeof where, "line %lld", (long long)sum->line_number);
    rc = import_value(run, line, where, sum);
    json_decref(line);
    return rc;
}

/* A JSON array of models (the Hub's model-info list, say), item by item. */
static enum err import_array(struct import_run *run, FILE *in, struct api_import_summary *sum)
{
    json_error_t error;
    json_t *array = json_loadf(in, JSON_REJECT_DUPLICATES, &error);
    enum err rc = ERR_OK;

    if (!json_is_array(array)) {
        fprintf(run->report, "line %d: %s\n", error.line,
                array ? "a file that begins with '[' must be one JSON array" : error.text);
        sum->n_refused++;
        json_decref(array);
        return ERR_OK;
    }
    for (size_t i = 0; rc == ERR_OK && i < json_array_size(array); i++) {
        char where[48];
        sum->line_number++;
        sum->n_lines++;
        snprintf(where, sizeof where, "item %zu", i);
        rc = import_value(run, json_array_get(array, i), where, sum);
    }
    json_decref(array);
    return rc;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends a malloc'd copy of id to *ids; false when memory runs out. */
static bool add_card_id(char ***ids, size_t *n, size_t *cap, const char *id)
{
    if (*n == *cap) {
        /* *cap grows only with the array: after a failure it still says its size */
        size_t grown_cap = *cap ? 2 * *cap : 64;
        char **grown = core_realloc(*ids, grown_cap * sizeof **ids);
        if (grown == NULL)
            return false;
        *ids = grown;
        *cap = grown_cap;
    }
    (*ids)[*n] = core_strdup(id);
    if ((*ids)[*n] == NULL)
        return false;
    (*n)++;
    return true;
}

/* Whether path/README.md is a regular file. */
static bool has_readme(const char *path)
{
    char readme[PATH_MAX];
    struct stat st;

    return snprintf(readme, sizeof readme, "%s/README.md", path) < (int)sizeof readme &&
           stat(readme, &st) == 0 && S_ISREG(st.st_mode);
}

/* The README.md files under dir/<namespace>/<name>/, and dir/<name>/ for an id
 * without a namespace (gpt2), in name order (so that a folder always imports alike),
 * as "<namespace>/<name>" or "<name>" in *ids (malloc'd). */
static enum err list_cards(const char *dir, char ***ids, size_t *n)
{
    size_t cap = 0;
    DIR *top = opendir(dir);
    struct dirent *ns_entry;
    bool is_out_of_memory = false;

    *ids = NULL;
    *n = 0;
    if (top == NULL)
        return ERR_IO;
    while ((ns_entry = readdir(top)) != NULL) {
        char ns_path[PATH_MAX];
        DIR *inner;
        struct dirent *name_entry;
        if (ns_entry->d_name[0] == '.')
            continue;
        if (snprintf(ns_path, sizeof ns_path, "%s/%s", dir, ns_entry->d_name) >=
            (int)sizeof ns_path)
            continue;
        if (has_readme(ns_path) && !add_card_id(ids, n, &cap, ns_entry->d_name)) {
            is_out_of_memory = true;
            break;
        }
        inner = opendir(ns_path);
        if (inner == NULL)
            continue;
        while ((name_entry = readdir(inner)) != NULL) {
            char name_path[PATH_MAX], id[2 * NAME_MAX + 2];
            if (name_entry->d_name[0] == '.')
                continue;
            if (snprintf(name_path, sizeof name_path, "%s/%s", ns_path, name_entry->d_name) >=
                    (int)sizeof name_path ||
                !has_readme(name_path))
                continue;
            snprintf(id, sizeof id, "%s/%s", ns_entry->d_name, name_entry->d_name);
            if (!add_card_id(ids, n, &cap, id)) {
                is_out_of_memory = true;
                break;
            }
        }
        closedir(inner);
        if (is_out_of_memory)
            break;
    }
    closedir(top);
    if (is_out_of_memory) {
        /* a folder listed in part would import in part, and say it was done */
        for (size_t i = 0; i < *n; i++)
            free((*ids)[i]);
        free(*ids);
        *ids = NULL;
        *n = 0;
        return ERR_NO_MEMORY;
    }
    if (*n > 1)
        qsort(*ids, *n, sizeof **ids, compare_names);
    return ERR_OK;
}

/* Reads a whole file (at most IMPORT_LINE_MAX bytes) into *text (malloc'd):
 * ERR_IO when it cannot be read or is longer, ERR_NO_MEMORY when memory runs out. */
static enum err read_small_file(const char *path, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    *text = NULL;
    if (f == NULL)
        return ERR_IO;
    *text = core_malloc(IMPORT_LINE_MAX + 1);
    if (*text == NULL) {
        fclose(f);
        return ERR_NO_MEMORY;
    }
    n = fread(*text, 1, IMPORT_LINE_MAX + 1, f);
    fclose(f);
    if (n > IMPORT_LINE_MAX) {
        free(*text);
        *text = NULL;
        return ERR_IO;
    }
    (*text)[n] = '\0';
    *len = n;
    return ERR_OK;
}

/* A folder of model cards: dir/<namespace>/<name>/README.md (or dir/<name>/README.md
 * for an id without a namespace), the id from the path
 * and the metadata from the YAML front matter. */
static enum err import_folder(struct import_run *run, const char *dir,
                              struct api_import_summary *sum)
{
    char **ids = NULL;
    size_t n = 0;
    enum err rc = list_cards(dir, &ids, &n);

    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        char path[PATH_MAX], where[PATH_MAX + 16], why[256] = "";
        char *text = NULL;
        size_t len = 0;
        json_t *card = NULL;

        sum->line_number++;
        sum->n_lines++;
        snprintf(path, sizeof path, "%s/%s/README.md", dir, ids[i]);
        snprintf(where, sizeof where, "%s/README.md", ids[i]);
        rc = read_small_file(path, &text, &len);
        if (rc == ERR_NO_MEMORY)
            break; /* stops the run: the card is no worse than another */
        if (rc != ERR_OK) {
            rc = ERR_OK;
            fprintf(run->report, "%s: cannot be read (or longer than %d bytes)\n", where,
                    IMPORT_LINE_MAX);
            sum->n_refused++;
            continue;
        }
        rc = api_front_matter(text, len, &card, why, sizeof why);
        if (rc == ERR_NO_MEMORY) {
            /* stops the run, as a storage failure does: the card is no worse than another */
        } else if (rc != ERR_OK) {
            fprintf(run->report, "%s: %s\n", where, why);
            sum->n_refused++;
            rc = ERR_OK;
        } else {
            size_t rest_len = 0;
            const char *rest = api_front_matter_rest(text, len, &rest_len);
            json_t *prose = NULL;
            /* the README's prose, read for a figure it states in kg; text that is
             * not UTF-8 is left out (json_stringn refuses it) */
            if (rest != NULL && json_object_get(card, "text") == NULL)
                prose = json_stringn(rest, rest_len);
            if (json_object_set_new(card, "id", json_string(ids[i])) != 0) {
                json_decref(prose);
                rc = ERR_NO_MEMORY;
            } else if (prose != NULL && json_object_set_new(card, "text", prose) != 0)
                rc = ERR_NO_MEMORY;
            else
                rc = import_value(run, card, where, sum);
            json_decref(card);
        }
        free(text);
    }
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    return rc;
}

enum err api_cli_import(const struct api_config *config, const char *path, size_t batch_lines,
                        FILE *report, FILE *progress, struct api_import_summary *out, char *why,
                        size_t why_len)
{
    struct import_run run = {.report = report,
                             .batch_lines = batch_lines ? batch_lines : IMPORT_BATCH_DEFAULT,
                             .count_copied = config->count_copied_emissions};
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
    if (S_ISDIR(st.st_mode)) {
        rc = import_folder(&run, path, &sum);
        st.st_size = 0;
    } else if (first_char(in) == '[') {
        rc = import_array(&run, in, &sum);
    }
    while (rc == ERR_OK && !S_ISDIR(st.st_mode) && (len = getline(&text, &cap, in)) >= 0) {
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
