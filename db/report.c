/* SQL for batch reports: many inference counts in one call, with the outcome of
 * db_inferences_add run on each item in order, but each model, ancestor and daily
 * row read and written once. Sums are kept in memory and checked for overflow
 * before anything is written. */
#include "internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A ledger row the batch touches: its stored family sum plus what the items
 * checked so far add, and what to add to it and to its own count. */
struct row {
    int64_t key; /* 0: empty slot */
    int64_t running;
    int64_t add_descendants;
    int64_t add_own;
};

/* One item's daily bucket, merged with equal (key, day) pairs after sorting. */
struct bucket {
    int64_t key;
    int64_t count;
    char day[11];
};

struct batch {
    struct row *rows; /* open addressing, capacity a power of two */
    size_t n_rows, cap_rows;
    struct bucket *buckets;
    size_t n_buckets;
};

static size_t slot_of(int64_t key, size_t cap)
{
    uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15u;

    return (size_t)(h >> 32) & (cap - 1);
}

static struct row *row_find(struct batch *b, int64_t key)
{
    size_t i;

    for (i = slot_of(key, b->cap_rows); b->rows[i].key && b->rows[i].key != key;
         i = (i + 1) & (b->cap_rows - 1))
        ;
    return &b->rows[i];
}

static enum err rows_grow(struct batch *b)
{
    struct row *old = b->rows;
    size_t old_cap = b->cap_rows;

    b->cap_rows = old_cap ? old_cap * 2 : 4096;
    b->rows = calloc(b->cap_rows, sizeof *b->rows);
    if (b->rows == NULL) {
        b->rows = old;
        b->cap_rows = old_cap;
        return ERR_NO_MEMORY;
    }
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].key)
            *row_find(b, old[i].key) = old[i];
    free(old);
    return ERR_OK;
}

/* The slot of key; a new one starts from its stored family sum. */
static enum err row_get(struct batch *b, int64_t key, int64_t stored, struct row **out)
{
    struct row *r;

    if (2 * (b->n_rows + 1) > b->cap_rows && rows_grow(b) != ERR_OK)
        return ERR_NO_MEMORY;
    r = row_find(b, key);
    if (r->key == 0) {
        r->key = key;
        r->running = stored;
        b->n_rows++;
    }
    *out = r;
    return ERR_OK;
}

/* An item's ancestors (the model itself included, each once: closure rows are
 * distinct pairs) with their stored family sums. Reading the model through the
 * closure finds it and its lineage in one statement: every model has its own
 * closure row, so no rows means no such model. */
static const char lineage_sql[] =
    "SELECT m.id, c.ancestor_id, l.descendant_inferences FROM models m "
    "JOIN model_closure c ON c.descendant_id = m.id "
    "JOIN model_ledger l ON l.model_id = c.ancestor_id "
    "WHERE m.namespace = ?1 AND m.name = ?2";

/* Adds item's count to the running sums of its ancestors, refusing (with
 * ERR_INVALID_INPUT) a count that would take any of them past INT64_MAX: the
 * test db_inferences_add makes, against the rows as the earlier items left them. */
static enum err add_item(struct db *db, struct batch *b, const struct db_inference_report *item)
{
    int64_t local[64], *keys = local, model = 0;
    size_t n = 0, cap = sizeof local / sizeof *local;
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, lineage_sql, &stmt);
    struct row *r;
    int step;

    if (rc != ERR_OK)
        return rc;
    sqlite3_bind_text(stmt, 1, item->id.ns, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, item->id.name, -1, SQLITE_STATIC);
    while (rc == ERR_OK && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        int64_t key = sqlite3_column_int64(stmt, 1);
        model = sqlite3_column_int64(stmt, 0);
        rc = row_get(b, key, sqlite3_column_int64(stmt, 2), &r);
        if (rc == ERR_OK && n == cap) {
            /* merges: more ancestors than a chain of the deepest lineage has */
            int64_t *grown = malloc(2 * cap * sizeof *grown);
            if (grown == NULL) {
                rc = ERR_NO_MEMORY;
                break;
            }
            memcpy(grown, keys, n * sizeof *keys);
            if (keys != local)
                free(keys);
            keys = grown;
            cap *= 2;
        }
        if (rc == ERR_OK)
            keys[n++] = key;
    }
    if (rc == ERR_OK && step != SQLITE_DONE)
        rc = db_map(db, step);
    db_finish(db, stmt);
    if (rc == ERR_OK && n == 0)
        rc = ERR_NOT_FOUND;
    for (size_t i = 0; rc == ERR_OK && i < n; i++)
        if (row_find(b, keys[i])->running > INT64_MAX - item->count)
            rc = ERR_INVALID_INPUT;
    for (size_t i = 0; rc == ERR_OK && item->count > 0 && i < n; i++) {
        r = row_find(b, keys[i]);
        r->running += item->count;
        r->add_descendants += item->count;
        if (r->key == model)
            r->add_own += item->count;
    }
    if (rc == ERR_OK && item->count > 0) {
        struct bucket *k = &b->buckets[b->n_buckets++];
        k->key = model;
        k->count = item->count;
        memcpy(k->day, item->day, sizeof k->day);
        k->day[sizeof k->day - 1] = '\0';
    }
    if (keys != local)
        free(keys);
    return rc;
}

static int by_key(const void *a, const void *b)
{
    int64_t x = ((const struct row *)a)->key, y = ((const struct row *)b)->key;

    return (x > y) - (x < y);
}

static int by_key_and_day(const void *a, const void *b)
{
    const struct bucket *x = a, *y = b;

    if (x->key != y->key)
        return (x->key > y->key) - (x->key < y->key);
    return strcmp(x->day, y->day);
}

/* Writes each changed ledger row once, in key order (neighbouring rows share pages). */
static enum err write_rows(struct db *db, struct batch *b)
{
    static const char sql[] = "UPDATE model_ledger SET descendant_inferences = "
                              "descendant_inferences + ?2, inferences = inferences + ?3 "
                              "WHERE model_id = ?1";
    sqlite3_stmt *stmt = NULL;
    size_t n = 0;
    enum err rc;

    /* Pack the used slots to the front; the table is not probed again. */
    for (size_t i = 0; i < b->cap_rows; i++)
        if (b->rows[i].key && b->rows[i].add_descendants > 0)
            b->rows[n++] = b->rows[i];
    qsort(b->rows, n, sizeof *b->rows, by_key);
    rc = db_cached(db, sql, &stmt);
    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        sqlite3_bind_int64(stmt, 1, b->rows[i].key);
        sqlite3_bind_int64(stmt, 2, b->rows[i].add_descendants);
        sqlite3_bind_int64(stmt, 3, b->rows[i].add_own);
        rc = db_map(db, sqlite3_step(stmt));
        sqlite3_reset(stmt);
    }
    db_finish(db, stmt);
    return rc;
}

static enum err write_buckets(struct db *db, struct batch *b)
{
    static const char sql[] =
        "INSERT INTO inference_daily (model_id, day, count) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (model_id, day) DO UPDATE SET count = count + excluded.count";
    sqlite3_stmt *stmt = NULL;
    enum err rc;

    qsort(b->buckets, b->n_buckets, sizeof *b->buckets, by_key_and_day);
    rc = db_cached(db, sql, &stmt);
    for (size_t i = 0; rc == ERR_OK && i < b->n_buckets; i++) {
        struct bucket *k = &b->buckets[i];
        int64_t count = k->count;
        /* Equal neighbours: their counts fit, as each model's total does. */
        while (i + 1 < b->n_buckets && by_key_and_day(k, &b->buckets[i + 1]) == 0)
            count += b->buckets[++i].count;
        sqlite3_bind_int64(stmt, 1, k->key);
        sqlite3_bind_text(stmt, 2, k->day, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 3, count);
        rc = db_map(db, sqlite3_step(stmt));
        sqlite3_reset(stmt);
    }
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
    b.buckets = malloc(n * sizeof *b.buckets);
    if (b.buckets == NULL || rows_grow(&b) != ERR_OK)
        rc = ERR_NO_MEMORY;
    /* In item order, as one-by-one calls would meet them: the first item that is
     * unknown or would overflow is the answer, and nothing is written. */
    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        rc = items[i].count < 0 ? ERR_INVALID_INPUT : add_item(db, &b, &items[i]);
        if (rc == ERR_NOT_FOUND || rc == ERR_INVALID_INPUT)
            *bad = i;
    }
    /* One statement per row sets both sums, so the row CHECK (family sum >= own
     * count) sees them together. */
    if (rc == ERR_OK)
        rc = write_rows(db, &b);
    if (rc == ERR_OK)
        rc = write_buckets(db, &b);
    free(b.rows);
    free(b.buckets);
    return rc;
}
