/* SPDX-License-Identifier: Apache-2.0 */
/* SQL for bulk loads (`carbontree import`): the same rows db_model_insert and
 * db_activity_insert write, through statements prepared once per run, in the
 * caller's batch transactions. Ancestors' family sums are added up in memory and
 * written once per batch. */
#include "db_internal.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum bulk_statement {
    BULK_FIND,
    BULK_LARGEST,
    BULK_LARGEST_ANYWHERE,
    BULK_LEDGER_INFERENCES,
    BULK_MODEL,
    BULK_EDGE,
    BULK_CLOSURE,
    BULK_CLOSURE_OF,
    BULK_LEDGER,
    BULK_ANCESTOR_ADD,
    BULK_DAILY,
    BULK_FAMILY_DAILY,
    BULK_ACTIVITY,
    BULK_REFRESH_OWN,
    BULK_COUNT
};

/* Each statement's text. A new model's closure rows are gathered from its parents'
 * (BULK_CLOSURE_OF) and inserted one by one: an INSERT ... SELECT that reads the
 * table it writes would copy the rows into a transient table first. BULK_REFRESH_OWN is the
 * ledger's own statement (the sums are recomputed, never accumulated). */
static const char *const bulk_sql[BULK_COUNT] = {
    [BULK_FIND] = "SELECT id, depth FROM models WHERE namespace = ?1 AND name = ?2",
    [BULK_LARGEST] = "SELECT max(l.descendant_inferences + " DB_SQL_PENDING_BELOW_SIZED(
        "c.ancestor_id", "l.descendants") ") FROM model_closure c "
                                          "JOIN model_ledger l ON l.model_id = c.ancestor_id "
                                          "WHERE c.descendant_id = ?1",
    /* A root's family holds every family below it: the largest total is a root's.
     * Beside it, every increment still pending a fold, as if all fell on it. */
    [BULK_LARGEST_ANYWHERE] = "SELECT (SELECT max(descendant_inferences) FROM model_ledger "
                              "WHERE is_root = 1), (SELECT total(delta) FROM inference_pending)",
    /* Every model's own count, pending deltas included: no family, which counts
     * each of its members once, can hold more. total(), not sum(): a sum past
     * INT64_MAX is an answer here (no room to spare), not an error. */
    [BULK_LEDGER_INFERENCES] =
        "SELECT coalesce((SELECT inferences FROM ledger_totals WHERE namespace = ''), 0), "
        "(SELECT total(delta) FROM inference_pending)",
    [BULK_MODEL] = "INSERT INTO models (namespace, name, task, license, url, parameters, depth) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [BULK_EDGE] = "INSERT INTO model_parents (child_id, parent_id, relation, position) "
                  "VALUES (?1, ?2, ?3, ?4)",
    [BULK_CLOSURE] = "INSERT INTO model_closure (ancestor_id, descendant_id) VALUES (?1, ?2)",
    [BULK_CLOSURE_OF] = "SELECT ancestor_id FROM model_closure WHERE descendant_id = ?1",
    /* is_root as the insert trigger sets it: a row inserted with the default (a
     * root) enters the four indexes of families, only to leave them at once. */
    [BULK_LEDGER] = "INSERT INTO model_ledger (model_id, inferences, descendant_inferences, "
                    "is_root) VALUES (?1, ?2, ?2, ?3)",
    [BULK_ANCESTOR_ADD] = "UPDATE model_ledger SET descendants = descendants + ?2, "
                          "descendant_inferences = descendant_inferences + ?3 WHERE model_id = ?1",
    [BULK_DAILY] = "INSERT INTO inference_daily (model_id, day, count) VALUES (?1, ?2, ?3) "
                   "ON CONFLICT (model_id, day) DO UPDATE SET count = count + excluded.count",
    /* The loader's counts are never pending: its new model's day joins every
     * family that holds it at once, under the model's representative. */
    [BULK_FAMILY_DAILY] =
        "INSERT INTO family_inference_daily (ancestor_id, rep_id, day, count) "
        "SELECT c.ancestor_id, l.usage_rep_id, ?2, ?3 FROM model_closure c "
        "JOIN model_ledger l ON l.model_id = c.descendant_id WHERE c.descendant_id = ?1 "
        "ON CONFLICT (ancestor_id, rep_id, day) DO UPDATE SET count = count + excluded.count",
    [BULK_ACTIVITY] = DB_SQL_INSERT_ACTIVITY,
    [BULK_REFRESH_OWN] = db_sql_refresh_own,
};

/* What the batch's new models add to one ancestor's ledger row: summed in
 * memory and written once per batch (db_bulk_flush), since a family's bases gain
 * a member with nearly every line. */
struct pending {
    int64_t key; /* 0: empty slot */
    int64_t descendants;
    int64_t inferences;
};

struct db_bulk {
    struct db *db;
    sqlite3_stmt *stmt[BULK_COUNT];
    struct pending *pending; /* open addressing, capacity a power of two */
    size_t *used;            /* the n_pending occupied slots, so a flush is O(n_pending) */
    size_t n_pending, cap_pending;
    int64_t pending_inferences; /* the sum of pending[].inferences */
    int64_t *ancestors;         /* the strict ancestors of the model being inserted */
    size_t n_ancestors, cap_ancestors;
    /* An upper bound of every family's inference total, pending sums included:
     * the ledger's inferences when last read, plus every count added since. While
     * a line's count fits under it, no ancestor can overflow and the exact check
     * (a walk of the lineage, whose sizes lag until the flush) is skipped. Read
     * again after each flush, since other writers may run between batches. */
    int64_t ledger_bound;
    bool has_bound;
};

/* A bulk load's page cache: the closure and ledger indexes of a million-model
 * family stay in memory (the import is a batch job, not the server). */
#define BULK_CACHE_KIB 524288

enum err db_bulk_create(struct db *db, struct db_bulk **out)
{
    struct db_bulk *bulk = core_calloc(1, sizeof *bulk);
    char pragma[64];
    enum err rc = ERR_OK;

    if (bulk == NULL)
        return ERR_NO_MEMORY;
    bulk->db = db;
    snprintf(pragma, sizeof pragma, "PRAGMA cache_size = -%d", BULK_CACHE_KIB);
    rc = db_exec(db, pragma);
    /* The transient tables SQLite builds for an IN (SELECT ...) in the aggregate
     * triggers and for an INSERT that reads its own table: in memory, not in a temp
     * file created, written and unlinked for each statement. SQLite refuses the
     * change inside a transaction, where it is left as it is. */
    if (rc == ERR_OK && sqlite3_get_autocommit(db->handle))
        rc = db_exec(db, "PRAGMA temp_store = MEMORY");
    for (int i = 0; rc == ERR_OK && i < BULK_COUNT; i++)
        rc = db_prepare(db, bulk_sql[i], &bulk->stmt[i]);
    bulk->cap_pending = 1024;
    bulk->pending = core_calloc(bulk->cap_pending, sizeof *bulk->pending);
    bulk->used = core_calloc(bulk->cap_pending / 2, sizeof *bulk->used);
    if (rc == ERR_OK && (bulk->pending == NULL || bulk->used == NULL))
        rc = ERR_NO_MEMORY;
    if (rc != ERR_OK) {
        db_bulk_destroy(bulk);
        return rc;
    }
    *out = bulk;
    return ERR_OK;
}

void db_bulk_destroy(struct db_bulk *bulk)
{
    if (bulk == NULL)
        return;
    for (int i = 0; i < BULK_COUNT; i++)
        sqlite3_finalize(bulk->stmt[i]);
    free(bulk->pending);
    free(bulk->used);
    free(bulk->ancestors);
    free(bulk);
}

/* Steps a statement with no result rows and makes it ready for the next use. */
static enum err run(struct db_bulk *bulk, enum bulk_statement which)
{
    sqlite3_stmt *stmt = bulk->stmt[which];
    enum err rc = db_map(bulk->db, sqlite3_step(stmt));

    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return rc;
}

/* run after binds that returned bound: a failed bind steps nothing and clears the
 * others for the next use. */
static enum err run_bound(struct db_bulk *bulk, enum bulk_statement which, enum err bound)
{
    if (bound == ERR_OK)
        return run(bulk, which);
    sqlite3_clear_bindings(bulk->stmt[which]);
    return bound;
}

static size_t slot_of(int64_t key, size_t cap)
{
    uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15u;

    return (size_t)(h >> 20) & (cap - 1);
}

static enum err pending_grow(struct db_bulk *bulk)
{
    size_t cap = bulk->cap_pending * 2;
    struct pending *grown = core_calloc(cap, sizeof *grown);
    size_t *used = core_calloc(cap / 2, sizeof *used);

    if (grown == NULL || used == NULL) {
        free(grown);
        free(used);
        return ERR_NO_MEMORY;
    }
    for (size_t k = 0; k < bulk->n_pending; k++) {
        const struct pending *p = &bulk->pending[bulk->used[k]];
        size_t j;
        for (j = slot_of(p->key, cap); grown[j].key; j = (j + 1) & (cap - 1))
            ;
        grown[j] = *p;
        used[k] = j;
    }
    free(bulk->pending);
    free(bulk->used);
    bulk->pending = grown;
    bulk->used = used;
    bulk->cap_pending = cap;
    return ERR_OK;
}

/* One more member (with inferences) for ancestor key, kept until the flush. */
static enum err pending_add(struct db_bulk *bulk, int64_t key, int64_t inferences)
{
    size_t i;

    if (2 * (bulk->n_pending + 1) > bulk->cap_pending && pending_grow(bulk) != ERR_OK)
        return ERR_NO_MEMORY;
    for (i = slot_of(key, bulk->cap_pending); bulk->pending[i].key && bulk->pending[i].key != key;
         i = (i + 1) & (bulk->cap_pending - 1))
        ;
    if (bulk->pending[i].key == 0) {
        bulk->pending[i].key = key;
        bulk->used[bulk->n_pending++] = i;
    }
    bulk->pending[i].descendants++;
    bulk->pending[i].inferences += inferences;
    bulk->pending_inferences += inferences;
    return ERR_OK;
}

enum err db_bulk_flush(struct db_bulk *bulk)
{
    sqlite3_stmt *stmt = bulk->stmt[BULK_ANCESTOR_ADD];
    enum err rc = ERR_OK;

    bulk->has_bound = false;
    for (size_t k = 0; rc == ERR_OK && k < bulk->n_pending; k++) {
        const struct pending *p = &bulk->pending[bulk->used[k]];
        db_bind_int64(stmt, 1, p->key);
        db_bind_int64(stmt, 2, p->descendants);
        db_bind_int64(stmt, 3, p->inferences);
        rc = run(bulk, BULK_ANCESTOR_ADD);
    }
    if (rc == ERR_OK) {
        for (size_t k = 0; k < bulk->n_pending; k++)
            memset(&bulk->pending[bulk->used[k]], 0, sizeof *bulk->pending);
        bulk->n_pending = 0;
        bulk->pending_inferences = 0;
    }
    return rc;
}

static int compare_keys(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Appends the closure of parent (parent included) to bulk->ancestors. */
static enum err gather_closure(struct db_bulk *bulk, int64_t parent)
{
    sqlite3_stmt *stmt = bulk->stmt[BULK_CLOSURE_OF];
    enum err rc = ERR_OK;
    int step;

    db_bind_int64(stmt, 1, parent);
    while (rc == ERR_OK && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (bulk->n_ancestors == bulk->cap_ancestors) {
            size_t cap = bulk->cap_ancestors ? 2 * bulk->cap_ancestors : 64;
            int64_t *grown = core_realloc(bulk->ancestors, cap * sizeof *grown);
            if (grown == NULL) {
                rc = ERR_NO_MEMORY;
                break;
            }
            bulk->ancestors = grown;
            bulk->cap_ancestors = cap;
        }
        bulk->ancestors[bulk->n_ancestors++] = sqlite3_column_int64(stmt, 0);
    }
    if (rc == ERR_OK && step != SQLITE_DONE)
        rc = db_map(bulk->db, step);
    sqlite3_reset(stmt);
    return rc;
}

/* The strict ancestors of a model with parents keys[0..n): each parent's closure,
 * once each (a merge's parents share ancestors), in bulk->ancestors. */
static enum err gather_ancestors(struct db_bulk *bulk, const int64_t *keys, size_t n)
{
    enum err rc = ERR_OK;
    size_t kept = 0;

    bulk->n_ancestors = 0;
    for (size_t i = 0; rc == ERR_OK && i < n; i++)
        rc = gather_closure(bulk, keys[i]);
    if (rc != ERR_OK || n < 2)
        return rc;
    qsort(bulk->ancestors, bulk->n_ancestors, sizeof *bulk->ancestors, compare_keys);
    for (size_t i = 0; i < bulk->n_ancestors; i++)
        if (kept == 0 || bulk->ancestors[kept - 1] != bulk->ancestors[i])
            bulk->ancestors[kept++] = bulk->ancestors[i];
    bulk->n_ancestors = kept;
    return ERR_OK;
}

/* The closure rows of the new model key: itself and each gathered ancestor. */
static enum err insert_closure(struct db_bulk *bulk, int64_t key)
{
    sqlite3_stmt *stmt = bulk->stmt[BULK_CLOSURE];
    enum err rc = ERR_OK;

    for (size_t i = 0; rc == ERR_OK && i <= bulk->n_ancestors; i++) {
        db_bind_int64(stmt, 1, i < bulk->n_ancestors ? bulk->ancestors[i] : key);
        db_bind_int64(stmt, 2, key);
        rc = run(bulk, BULK_CLOSURE);
    }
    return rc;
}

/* The key and depth of model id. ERR_NOT_FOUND when absent. */
static enum err find(struct db_bulk *bulk, const struct core_model_id *id, int64_t *key, int *depth)
{
    sqlite3_stmt *stmt = bulk->stmt[BULK_FIND];
    enum err rc = db_bind_text(bulk->db, stmt, 1, id->ns);
    int step;

    if (rc == ERR_OK)
        rc = db_bind_text(bulk->db, stmt, 2, id->name);
    if (rc != ERR_OK) {
        sqlite3_clear_bindings(stmt);
        return rc;
    }
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        *key = sqlite3_column_int64(stmt, 0);
        *depth = sqlite3_column_int(stmt, 1);
    } else {
        rc = step == SQLITE_DONE ? ERR_NOT_FOUND : db_map(bulk->db, step);
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return rc;
}

enum err db_bulk_model_exists(struct db_bulk *bulk, const struct core_model_id *id, bool *exists)
{
    int64_t key = 0;
    int depth = 0;
    enum err rc = find(bulk, id, &key, &depth);

    *exists = rc == ERR_OK;
    return rc == ERR_NOT_FOUND ? ERR_OK : rc;
}

/* Whether inferences more, anywhere, surely leave every family total at most
 * INT64_MAX (bulk->ledger_bound, read when not known). False when unsure. */
static enum err surely_fits(struct db_bulk *bulk, int64_t inferences, bool *fits)
{
    enum err rc = ERR_OK;

    if (!bulk->has_bound) {
        sqlite3_stmt *stmt = bulk->stmt[BULK_LEDGER_INFERENCES];
        int step = sqlite3_step(stmt);
        if (step == SQLITE_ROW) {
            int64_t folded = sqlite3_column_int64(stmt, 0);
            double pending = sqlite3_column_double(stmt, 1);
            /* A pending sum near the limit is not worth exact arithmetic: unsure. */
            bulk->ledger_bound =
                folded >= 0 && pending < 0x1p62 && (int64_t)pending <= INT64_MAX - folded
                    ? folded + (int64_t)pending
                    : INT64_MAX;
            bulk->has_bound = true;
        } else {
            rc = db_map(bulk->db, step);
        }
        sqlite3_reset(stmt);
    }
    *fits = rc == ERR_OK && bulk->ledger_bound <= INT64_MAX - inferences;
    return rc;
}

/* Counts inferences more in bulk->ledger_bound, which stays at INT64_MAX (unsure)
 * once there: a count the exact check let in may still pass the bound. */
static void bound_add(struct db_bulk *bulk, int64_t inferences)
{
    if (bulk->has_bound)
        bulk->ledger_bound = bulk->ledger_bound > INT64_MAX - inferences
                                 ? INT64_MAX
                                 : bulk->ledger_bound + inferences;
}

/* The largest stored inference total among parent and its ancestors. */
static enum err largest_total(struct db_bulk *bulk, int64_t parent, int64_t *largest)
{
    sqlite3_stmt *stmt = bulk->stmt[BULK_LARGEST];
    enum err rc = ERR_OK;
    int step;

    db_bind_int64(stmt, 1, parent);
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW)
        *largest = sqlite3_column_int64(stmt, 0);
    else
        rc = db_map(bulk->db, step);
    sqlite3_reset(stmt);
    return rc;
}

enum err db_bulk_room(struct db_bulk *bulk, int64_t inferences)
{
    sqlite3_stmt *stmt = bulk->stmt[BULK_LARGEST_ANYWHERE];
    int64_t largest = 0;
    double folding = 0;
    bool fits = false;
    enum err rc = surely_fits(bulk, inferences, &fits);
    int step;

    /* Counted whether or not the write then stands: a bound may only be high. */
    if (rc != ERR_OK || fits) {
        if (fits)
            bound_add(bulk, inferences);
        return rc;
    }
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        largest = sqlite3_column_int64(stmt, 0);
        folding = sqlite3_column_double(stmt, 1);
    } else {
        rc = db_map(bulk->db, step);
    }
    sqlite3_reset(stmt);
    if (rc == ERR_OK &&
        (largest > INT64_MAX - inferences - bulk->pending_inferences ||
         folding > (double)(INT64_MAX - inferences - bulk->pending_inferences - largest)))
        rc = db_bulk_flush(bulk);
    return rc;
}

/* ERR_COUNT_OVERFLOW when adding inferences below parent would pass INT64_MAX.
 * Pending sums count as if they all fell on the largest total; only when that
 * bound is too close are they written first, for the exact answer. */
static enum err check_room(struct db_bulk *bulk, int64_t parent, int64_t inferences)
{
    int64_t largest = 0;
    bool fits = false;
    enum err rc = surely_fits(bulk, inferences, &fits);

    if (rc != ERR_OK || fits)
        return rc;
    rc = largest_total(bulk, parent, &largest);
    if (rc == ERR_OK && largest > INT64_MAX - inferences - bulk->pending_inferences) {
        rc = db_bulk_flush(bulk);
        if (rc == ERR_OK)
            rc = largest_total(bulk, parent, &largest);
        if (rc == ERR_OK && inferences > INT64_MAX - largest)
            rc = ERR_COUNT_OVERFLOW;
    }
    return rc;
}

static enum err insert_row(struct db_bulk *bulk, struct core_model *m, int depth)
{
    sqlite3_stmt *stmt = bulk->stmt[BULK_MODEL];
    enum err rc;

    if (m->has_parameters)
        db_bind_int64(stmt, 6, m->parameters);
    db_bind_int64(stmt, 7, depth);
    rc = db_bind_text(bulk->db, stmt, 1, m->id.ns);
    if (rc == ERR_OK)
        rc = db_bind_text(bulk->db, stmt, 2, m->id.name);
    if (rc == ERR_OK)
        rc = db_bind_text_or_null(bulk->db, stmt, 3, m->task);
    if (rc == ERR_OK)
        rc = db_bind_text_or_null(bulk->db, stmt, 4, m->license);
    if (rc == ERR_OK)
        rc = db_bind_text_or_null(bulk->db, stmt, 5, m->url);
    rc = run_bound(bulk, BULK_MODEL, rc);
    if (rc == ERR_OK) {
        m->key = sqlite3_last_insert_rowid(bulk->db->handle);
        m->depth = depth;
    }
    return rc;
}

static enum err insert_edges(struct db_bulk *bulk, const struct core_model *m, const int64_t *keys)
{
    sqlite3_stmt *stmt = bulk->stmt[BULK_EDGE];
    enum err rc = ERR_OK;

    for (size_t i = 0; rc == ERR_OK && i < m->n_parents; i++) {
        db_bind_int64(stmt, 1, m->key);
        db_bind_int64(stmt, 2, keys[i]);
        db_bind_int64(stmt, 4, (sqlite3_int64)i);
        rc = db_bind_text(bulk->db, stmt, 3, core_relation_name(m->parents[i].relation));
        rc = run_bound(bulk, BULK_EDGE, rc);
    }
    return rc;
}

/* Runs a statement binding key to ?1 and, when has_second, second to ?2. */
static enum err run_key(struct db_bulk *bulk, enum bulk_statement which, int64_t key,
                        bool has_second, int64_t second)
{
    db_bind_int64(bulk->stmt[which], 1, key);
    if (has_second)
        db_bind_int64(bulk->stmt[which], 2, second);
    return run(bulk, which);
}

enum err db_bulk_model_insert(struct db_bulk *bulk, struct core_model *m, int64_t inferences,
                              const char *day, size_t *bad_parent)
{
    int64_t keys[CORE_MODEL_MAX_PARENTS];
    int depth = 0;
    enum err rc;

    assert(inferences >= 0);
    for (size_t i = 0; i < m->n_parents; i++) {
        int parent_depth = 0;
        rc = find(bulk, &m->parents[i].id, &keys[i], &parent_depth);
        if (rc == ERR_OK && inferences > 0)
            rc = check_room(bulk, keys[i], inferences);
        if (rc != ERR_OK) {
            *bad_parent = i;
            return rc;
        }
        if (parent_depth + 1 > depth)
            depth = parent_depth + 1;
    }
    if (depth > CORE_LINEAGE_MAX_DEPTH)
        return ERR_INVALID_INPUT;
    rc = insert_row(bulk, m, depth);
    if (rc == ERR_OK)
        rc = insert_edges(bulk, m, keys);
    if (rc == ERR_OK)
        rc = gather_ancestors(bulk, keys, m->n_parents);
    if (rc == ERR_OK)
        rc = insert_closure(bulk, m->key);
    if (rc == ERR_OK) {
        db_bind_int64(bulk->stmt[BULK_LEDGER], 3, depth == 0);
        rc = run_key(bulk, BULK_LEDGER, m->key, true, inferences);
    }
    for (size_t i = 0; rc == ERR_OK && i < bulk->n_ancestors; i++)
        rc = pending_add(bulk, bulk->ancestors[i], inferences);
    if (rc == ERR_OK)
        bound_add(bulk, inferences);
    if (rc == ERR_OK && m->n_parents > 0)
        rc = db_inference_g_refresh_new(bulk->db, m->key);
    if (rc == ERR_OK && inferences > 0) {
        sqlite3_stmt *stmt = bulk->stmt[BULK_DAILY];
        db_bind_int64(stmt, 1, m->key);
        db_bind_int64(stmt, 3, inferences);
        rc = run_bound(bulk, BULK_DAILY, db_bind_text(bulk->db, stmt, 2, day));
    }
    if (rc == ERR_OK && inferences > 0) {
        sqlite3_stmt *stmt = bulk->stmt[BULK_FAMILY_DAILY];
        db_bind_int64(stmt, 1, m->key);
        db_bind_int64(stmt, 3, inferences);
        rc = run_bound(bulk, BULK_FAMILY_DAILY, db_bind_text(bulk->db, stmt, 2, day));
    }
    return rc;
}

enum err db_bulk_activity_insert(struct db_bulk *bulk, int64_t model_key, struct db_activity *a)
{
    sqlite3_stmt *stmt = bulk->stmt[BULK_ACTIVITY];

    enum err rc;

    rc = run_bound(bulk, BULK_ACTIVITY, db_bind_activity(bulk->db, stmt, model_key, a));
    if (rc == ERR_OK)
        a->id = sqlite3_last_insert_rowid(bulk->db->handle);
    return rc;
}

enum err db_bulk_activities_done(struct db_bulk *bulk, int64_t model_key)
{
    enum err rc = run_key(bulk, BULK_REFRESH_OWN, model_key, false, 0);

    return rc == ERR_OK ? db_inference_g_refresh_after_activity(bulk->db, model_key) : rc;
}
