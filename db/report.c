/* SPDX-License-Identifier: Apache-2.0 */
/* SQL for batch reports: many inference counts in one call, with the outcome of
 * db_inferences_add run on each item in order, but each model, ancestor and daily
 * row read and written once. Family sums are kept in memory and checked for
 * overflow before anything is written; only the models' own rows, daily rows and
 * pending deltas are written (the fold adds the deltas to the ancestors). Reads go in index order
 * (names, then keys): a batch of random models then walks each index once instead of jumping
 * around. */
#include "db_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A model of the batch: its key (0: not registered) and its ancestors (itself
 * included, each once: closure rows are distinct pairs) at lineage[first..]. */
struct model {
    int64_t key;
    size_t first, n;
};

/* A ledger row the batch touches: its family sum plus what the items checked so
 * far add, and what to add to its own count. */
struct row {
    int64_t key;
    int64_t running;
    int64_t add_own;
};

/* One item's daily bucket, merged with equal (key, day) pairs after sorting. */
struct bucket {
    int64_t key;
    int64_t count;
    char day[11];
};

/* An item or model index with what it is sorted by. */
struct named {
    const struct core_model_id *id;
    size_t index;
};

struct keyed {
    int64_t key;
    size_t index;
};

struct batch {
    const struct db_inference_report *items;
    size_t n_items;
    struct named *by_name; /* the items in name order */
    size_t *model_of;      /* item index -> models[] */
    struct model *models;
    size_t n_models;
    struct keyed *by_key; /* the models in key order */
    int64_t *lineage;     /* every model's ancestors: keys, then indexes of rows[] */
    size_t n_lineage, cap_lineage;
    struct row *rows; /* distinct ancestors in key order */
    size_t n_rows;
    struct bucket *buckets;
    size_t n_buckets;
};

static int by_name(const void *a, const void *b)
{
    const struct core_model_id *x = ((const struct named *)a)->id;
    const struct core_model_id *y = ((const struct named *)b)->id;
    int c = sqlite3_stricmp(x->ns, y->ns);

    return c ? c : sqlite3_stricmp(x->name, y->name);
}

/* Also orders struct keyed and struct row: both start with the key. */
static int by_key(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

static int by_key_and_day(const void *a, const void *b)
{
    const struct bucket *x = a, *y = b;

    if (x->key != y->key)
        return (x->key > y->key) - (x->key < y->key);
    return strcmp(x->day, y->day);
}

/* Keys of the items' models, one lookup per distinct name (models.namespace and
 * name are NOCASE: sqlite3_stricmp orders them as the index does). */
static enum err find_models(struct db *db, struct batch *b)
{
    static const char sql[] = "SELECT id FROM models WHERE namespace = ?1 AND name = ?2";
    sqlite3_stmt *stmt = NULL;
    enum err rc;

    for (size_t i = 0; i < b->n_items; i++) {
        b->by_name[i].id = &b->items[i].id;
        b->by_name[i].index = i;
    }
    qsort(b->by_name, b->n_items, sizeof *b->by_name, by_name);
    rc = db_cached(db, sql, &stmt);
    for (size_t i = 0; rc == ERR_OK && i < b->n_items; i++) {
        const struct core_model_id *id = b->by_name[i].id;
        struct model *m;
        int step;
        if (i > 0 && by_name(&b->by_name[i - 1], &b->by_name[i]) == 0) {
            b->model_of[b->by_name[i].index] = b->model_of[b->by_name[i - 1].index];
            continue;
        }
        m = &b->models[b->n_models];
        b->model_of[b->by_name[i].index] = b->n_models++;
        rc = db_bind_text(db, stmt, 1, id->ns);
        if (rc == ERR_OK)
            rc = db_bind_text(db, stmt, 2, id->name);
        step = rc == ERR_OK ? sqlite3_step(stmt) : SQLITE_DONE;
        if (step == SQLITE_ROW)
            m->key = sqlite3_column_int64(stmt, 0);
        else if (step != SQLITE_DONE)
            rc = db_map(db, step);
        sqlite3_reset(stmt);
    }
    db_finish(db, stmt);
    return rc;
}

static enum err lineage_push(struct batch *b, int64_t key)
{
    if (b->n_lineage == b->cap_lineage) {
        size_t cap = b->cap_lineage ? 2 * b->cap_lineage : 4096;
        int64_t *grown = core_realloc(b->lineage, cap * sizeof *grown);
        if (grown == NULL)
            return ERR_NO_MEMORY;
        b->lineage = grown;
        b->cap_lineage = cap;
    }
    b->lineage[b->n_lineage++] = key;
    return ERR_OK;
}

/* Each registered model's ancestors, in key order of the models. */
static enum err read_lineages(struct db *db, struct batch *b)
{
    static const char sql[] = "SELECT ancestor_id FROM model_closure WHERE descendant_id = ?1";
    sqlite3_stmt *stmt = NULL;
    enum err rc;

    for (size_t i = 0; i < b->n_models; i++) {
        b->by_key[i].key = b->models[i].key;
        b->by_key[i].index = i;
    }
    qsort(b->by_key, b->n_models, sizeof *b->by_key, by_key);
    rc = db_cached(db, sql, &stmt);
    for (size_t i = 0; rc == ERR_OK && i < b->n_models; i++) {
        struct model *m = &b->models[b->by_key[i].index];
        int step;
        if (m->key == 0)
            continue;
        m->first = b->n_lineage;
        db_bind_int64(stmt, 1, m->key);
        while (rc == ERR_OK && (step = sqlite3_step(stmt)) == SQLITE_ROW)
            rc = lineage_push(b, sqlite3_column_int64(stmt, 0));
        if (rc == ERR_OK && step != SQLITE_DONE)
            rc = db_map(db, step);
        sqlite3_reset(stmt);
        m->n = b->n_lineage - m->first;
    }
    db_finish(db, stmt);
    return rc;
}

/* Below this, a sum computed in doubles cannot reach INT64_MAX (about 9.22e18)
 * for want of precision. */
#define SAFE_SUM 9.0e18

/* Makes each row's running sum exact (its pending part added) unless no item
 * could overflow: the largest stored sum, everything pending and every count of
 * the batch together stay below the limit (the usual case, one read). */
static enum err add_pending(struct db *db, struct batch *b)
{
    static const char total_sql[] = "SELECT total(delta) FROM inference_pending";
    static const char part_sql[] = "SELECT " DB_SQL_PENDING_BELOW("?1") "";
    sqlite3_stmt *stmt = NULL;
    double bound = 0;
    int64_t largest = 0;
    enum err rc;
    int step;

    for (size_t i = 0; i < b->n_rows; i++)
        if (b->rows[i].running > largest)
            largest = b->rows[i].running;
    bound = (double)largest;
    for (size_t i = 0; i < b->n_items; i++)
        bound += b->items[i].count > 0 ? (double)b->items[i].count : 0;
    rc = db_cached(db, total_sql, &stmt);
    if (rc != ERR_OK)
        return rc;
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW)
        bound += sqlite3_column_double(stmt, 0);
    else
        rc = db_map(db, step);
    db_finish(db, stmt);
    if (rc != ERR_OK || bound < SAFE_SUM)
        return rc;
    rc = db_cached(db, part_sql, &stmt);
    for (size_t i = 0; rc == ERR_OK && i < b->n_rows; i++) {
        db_bind_int64(stmt, 1, b->rows[i].key);
        step = sqlite3_step(stmt);
        if (step == SQLITE_ROW)
            b->rows[i].running += sqlite3_column_int64(stmt, 0); /* fits: checked when counted */
        else
            rc = db_map(db, step);
        sqlite3_reset(stmt);
    }
    db_finish(db, stmt);
    return rc;
}

/* The distinct ancestors with their stored family sums, read in key order. */
static enum err read_rows(struct db *db, struct batch *b)
{
    static const char sql[] = "SELECT descendant_inferences FROM model_ledger WHERE model_id = ?1";
    size_t n = b->n_lineage, distinct = 0;
    sqlite3_stmt *stmt = NULL;
    int64_t *keys;
    enum err rc = ERR_OK;

    /* Sort a copy after the lineages; the lineages stay as read. */
    for (size_t i = 0; rc == ERR_OK && i < n; i++)
        rc = lineage_push(b, b->lineage[i]);
    if (rc != ERR_OK)
        return rc;
    keys = n > 0 ? b->lineage + n : NULL; /* no lineage at all: nothing was pushed */
    if (n > 0)
        qsort(keys, n, sizeof *keys, by_key);
    for (size_t i = 0; i < n; i++)
        if (distinct == 0 || keys[distinct - 1] != keys[i])
            keys[distinct++] = keys[i];
    b->rows = core_calloc(distinct ? distinct : 1, sizeof *b->rows);
    if (b->rows == NULL)
        return ERR_NO_MEMORY;
    rc = db_cached(db, sql, &stmt);
    for (size_t i = 0; rc == ERR_OK && i < distinct; i++) {
        struct row *r = &b->rows[b->n_rows++];
        int step;
        r->key = keys[i];
        db_bind_int64(stmt, 1, r->key);
        step = sqlite3_step(stmt);
        if (step == SQLITE_ROW)
            r->running = sqlite3_column_int64(stmt, 0);
        else if (step != SQLITE_DONE)
            rc = db_map(db, step);
        sqlite3_reset(stmt);
    }
    db_finish(db, stmt);
    b->n_lineage = n;
    /* From here on the lineages name rows by index. */
    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        const struct row *r = bsearch(&b->lineage[i], b->rows, b->n_rows, sizeof *b->rows, by_key);
        b->lineage[i] = r - b->rows;
    }
    return rc;
}

/* Counts item i in the running sums of its ancestors, refusing (with
 * ERR_COUNT_OVERFLOW) a count that would take any of them past INT64_MAX: the
 * test db_inferences_add makes, against the rows as the earlier items left them. */
static enum err count_item(struct batch *b, size_t i)
{
    const struct db_inference_report *item = &b->items[i];
    const struct model *m = &b->models[b->model_of[i]];
    const int64_t *rows;

    if (m->key == 0)
        return ERR_NOT_FOUND;
    rows = b->lineage + m->first; /* a registered model has a lineage: itself at least */
    if (item->count < 0)
        return ERR_INVALID_INPUT;
    for (size_t k = 0; k < m->n; k++)
        if (b->rows[rows[k]].running > INT64_MAX - item->count)
            return ERR_COUNT_OVERFLOW;
    if (item->count == 0)
        return ERR_OK;
    for (size_t k = 0; k < m->n; k++) {
        struct row *r = &b->rows[rows[k]];
        r->running += item->count;
        if (r->key == m->key)
            r->add_own += item->count;
    }
    b->buckets[b->n_buckets].key = m->key;
    b->buckets[b->n_buckets].count = item->count;
    memcpy(b->buckets[b->n_buckets].day, item->day, sizeof item->day);
    b->buckets[b->n_buckets].day[sizeof item->day - 1] = '\0';
    b->n_buckets++;
    return ERR_OK;
}

/* Writes each counted model's own row once, in key order. One statement sets both
 * sums, so the row CHECK (family sum >= own count) sees them together; the
 * ancestors' share is the fold's (write_buckets records it by day). */
static enum err write_rows(struct db *db, struct batch *b)
{
    static const char sql[] = "UPDATE model_ledger SET descendant_inferences = "
                              "descendant_inferences + ?2, inferences = inferences + ?2 "
                              "WHERE model_id = ?1";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);

    for (size_t i = 0; rc == ERR_OK && i < b->n_rows; i++) {
        if (b->rows[i].add_own == 0)
            continue;
        db_bind_int64(stmt, 1, b->rows[i].key);
        db_bind_int64(stmt, 2, b->rows[i].add_own);
        rc = db_map(db, sqlite3_step(stmt));
        sqlite3_reset(stmt);
    }
    db_finish(db, stmt);
    return rc;
}

/* Writes each model's daily counts and its pending delta of each day once, in key
 * and day order. */
static enum err write_buckets(struct db *db, struct batch *b)
{
    static const char sql[] =
        "INSERT INTO inference_daily (model_id, day, count) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (model_id, day) DO UPDATE SET count = count + excluded.count";
    static const char pending_sql[] =
        "INSERT INTO inference_pending (model_id, day, delta) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (model_id, day) DO UPDATE SET delta = delta + excluded.delta";
    sqlite3_stmt *stmt = NULL, *pending = NULL;
    enum err rc;

    qsort(b->buckets, b->n_buckets, sizeof *b->buckets, by_key_and_day);
    rc = db_cached(db, sql, &stmt);
    if (rc == ERR_OK)
        rc = db_cached(db, pending_sql, &pending);
    for (size_t i = 0; rc == ERR_OK && i < b->n_buckets; i++) {
        struct bucket *k = &b->buckets[i];
        int64_t count = k->count;
        /* Equal neighbours: their sum fits, as the model's own total does. */
        while (i + 1 < b->n_buckets && by_key_and_day(k, &b->buckets[i + 1]) == 0)
            count += b->buckets[++i].count;
        db_bind_int64(stmt, 1, k->key);
        db_bind_int64(stmt, 3, count);
        rc = db_bind_text(db, stmt, 2, k->day);
        if (rc == ERR_OK)
            rc = db_map(db, sqlite3_step(stmt));
        sqlite3_reset(stmt);
        if (rc != ERR_OK)
            break;
        db_bind_int64(pending, 1, k->key);
        db_bind_int64(pending, 3, count);
        rc = db_bind_text(db, pending, 2, k->day);
        if (rc == ERR_OK)
            rc = db_map(db, sqlite3_step(pending));
        sqlite3_reset(pending);
    }
    db_finish(db, pending);
    db_finish(db, stmt);
    return rc;
}

enum err db_inferences_add_many(struct db *db, const struct db_inference_report *items, size_t n,
                                size_t *bad)
{
    struct batch b;
    enum err rc = ERR_OK;

    memset(&b, 0, sizeof b);
    *bad = 0;
    if (n == 0)
        return ERR_OK;
    b.items = items;
    b.n_items = n;
    b.by_name = core_malloc(n * sizeof *b.by_name);
    b.model_of = core_malloc(n * sizeof *b.model_of);
    b.models = core_calloc(n, sizeof *b.models);
    b.by_key = core_malloc(n * sizeof *b.by_key);
    b.buckets = core_malloc(n * sizeof *b.buckets);
    if (!b.by_name || !b.model_of || !b.models || !b.by_key || !b.buckets)
        rc = ERR_NO_MEMORY;
    if (rc == ERR_OK)
        rc = find_models(db, &b);
    if (rc == ERR_OK)
        rc = read_lineages(db, &b);
    if (rc == ERR_OK)
        rc = read_rows(db, &b);
    if (rc == ERR_OK)
        rc = add_pending(db, &b);
    /* In item order, as one-by-one calls would meet them: the first item that is
     * unknown or would overflow is the answer, and nothing is written. */
    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        rc = count_item(&b, i);
        if (rc != ERR_OK)
            *bad = i;
    }
    if (rc == ERR_OK)
        rc = write_rows(db, &b);
    if (rc == ERR_OK)
        rc = write_buckets(db, &b);
    free(b.by_name);
    free(b.model_of);
    free(b.models);
    free(b.by_key);
    free(b.lineage);
    free(b.rows);
    free(b.buckets);
    return rc;
}
