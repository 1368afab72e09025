/* SPDX-License-Identifier: Apache-2.0 */
/* What a commit changed, for whoever keeps answers computed from the database:
 * SQLite's update hook notes the model of each changed row while a transaction runs;
 * once the commit stands, the roots of those models are looked up and told to the
 * pool's watcher, before the committing call returns. */
#include "buf.h"
#include "db_internal.h"

#include <stdlib.h>
#include <string.h>

/* A transaction that touches more models than this (a bulk load) is told as a
 * change to everything rather than looked up model by model. */
#define TOUCHED_MAX (1u << 16)

struct db_touched {
    int64_t *keys; /* open addressing; 0 is an empty slot (model keys start at 1) */
    size_t cap, n;
    bool is_overflow;
};

static uint64_t mix(int64_t key)
{
    return (uint64_t)key * 0x9e3779b97f4a7c15ULL;
}

static bool touched_grow(struct db_touched *t)
{
    size_t cap = t->cap ? t->cap * 2 : 256;
    int64_t *keys;

    if (cap > TOUCHED_MAX)
        return false;
    keys = core_calloc(cap, sizeof *keys);
    if (keys == NULL)
        return false;
    for (size_t i = 0; i < t->cap; i++) {
        size_t j = (size_t)(mix(t->keys[i]) >> 32) & (cap - 1);
        if (t->keys[i] == 0)
            continue;
        while (keys[j] != 0)
            j = (j + 1) & (cap - 1);
        keys[j] = t->keys[i];
    }
    free(t->keys);
    t->keys = keys;
    t->cap = cap;
    return true;
}

static void touched_add(struct db_touched *t, int64_t key)
{
    size_t j;

    if (t->is_overflow)
        return;
    if (key <= 0 || ((t->n + 1) * 2 > t->cap && !touched_grow(t))) {
        t->is_overflow = true; /* told as a change to everything */
        return;
    }
    j = (size_t)(mix(key) >> 32) & (t->cap - 1);
    while (t->keys[j] != 0) {
        if (t->keys[j] == key)
            return;
        j = (j + 1) & (t->cap - 1);
    }
    t->keys[j] = key;
    t->n++;
}

/* The rowid tables whose rowid is a model's key. What the hook cannot see is always
 * accompanied by a change it sees: WITHOUT ROWID tables (model_parents and
 * model_closure change with the child's models row, whose version and depth a
 * lineage change rewrites, and with the ledger rows of the ancestors whose family
 * sizes move; inference_counters, inference_daily and inference_pending with the
 * model's ledger row, whose inference count moves; family_inference_daily with the
 * ledger rows of the models whose representative a lineage or profile change
 * moves, or by the fold, which changes no answer since every read adds what is
 * pending), and activities (whose rowid is the activity's own)
 * with the model's ledger row, whose sums they feed. */
static bool is_model_keyed(const char *table)
{
    return strcmp(table, "model_ledger") == 0 || strcmp(table, "models") == 0 ||
           strcmp(table, "inference_profiles") == 0 || strcmp(table, "model_cards") == 0;
}

static void on_update(void *arg, int op, const char *schema, const char *table, sqlite3_int64 rowid)
{
    struct db *db = arg;

    (void)op;
    if (strcmp(schema, "main") == 0 && is_model_keyed(table))
        touched_add(db->touched, rowid);
}

enum err db_changes_watch(struct db *db, db_change_fn fn, void *arg)
{
    if (db->touched == NULL) {
        db->touched = core_calloc(1, sizeof *db->touched);
        if (db->touched == NULL)
            return ERR_NO_MEMORY;
    }
    db->on_change = fn;
    db->on_change_arg = arg;
    sqlite3_update_hook(db->handle, on_update, db);
    return ERR_OK;
}

void db_changes_forget(struct db *db)
{
    struct db_touched *t = db->touched;

    if (t == NULL)
        return;
    if (t->cap > 4096) {
        free(t->keys); /* a large transaction's set is not kept for the small ones */
        t->keys = NULL;
        t->cap = 0;
    } else if (t->n > 0) {
        memset(t->keys, 0, t->cap * sizeof *t->keys);
    }
    t->n = 0;
    t->is_overflow = false;
}

static int compare_keys(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Appends the roots of key to roots (the key itself when it has none left: a
 * model deleted, or a root). */
static enum err roots_of(struct db *db, int64_t key, struct core_buf *roots)
{
    static const char sql[] = "SELECT c.ancestor_id FROM model_closure c "
                              "JOIN models r ON r.id = c.ancestor_id "
                              "WHERE c.descendant_id = ?1 AND r.depth = 0";
    sqlite3_stmt *stmt;
    enum err rc = db_cached(db, sql, &stmt);
    bool found = false;
    int src;

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, key);
    while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
        int64_t root = sqlite3_column_int64(stmt, 0);
        core_buf_append(roots, &root, sizeof root);
        found = true;
    }
    if (src != SQLITE_DONE)
        rc = db_map(db, src);
    if (rc == ERR_OK && !found)
        core_buf_append(roots, &key, sizeof key);
    db_finish(db, stmt);
    return rc == ERR_OK && roots->failed ? ERR_NO_MEMORY : rc;
}

void db_changes_committed(struct db *db)
{
    struct db_touched *t = db->touched;
    struct core_buf roots = {0};
    enum err rc = ERR_OK;
    size_t n = 0;

    if (t == NULL || db->on_change == NULL || (t->n == 0 && !t->is_overflow))
        return;
    if (!t->is_overflow) {
        /* One snapshot for every lookup, after the commit: the lineage it stands on. */
        rc = db_read_begin(db);
        for (size_t i = 0; rc == ERR_OK && i < t->cap; i++)
            if (t->keys[i] != 0)
                rc = roots_of(db, t->keys[i], &roots);
        db_read_end(db);
    }
    if (t->is_overflow || rc != ERR_OK) {
        /* Which families changed is not known: every one did. */
        db->on_change(db->on_change_arg, NULL, 0, true);
    } else {
        int64_t *keys = (int64_t *)(void *)roots.data;
        size_t n_keys = roots.len / sizeof *keys;
        qsort(keys, n_keys, sizeof *keys, compare_keys);
        for (size_t i = 0; i < n_keys; i++)
            if (n == 0 || keys[n - 1] != keys[i])
                keys[n++] = keys[i];
        db->on_change(db->on_change_arg, keys, n, false);
    }
    core_buf_cleanup(&roots);
    db_changes_forget(db);
}

void db_changes_cleanup(struct db *db)
{
    if (db->touched)
        free(db->touched->keys);
    free(db->touched);
    db->touched = NULL;
}

enum err db_data_version(struct db *db, int64_t *out)
{
    static const char sql[] = "PRAGMA data_version";
    sqlite3_stmt *stmt;
    enum err rc = db_cached(db, sql, &stmt);
    int src;

    if (rc != ERR_OK)
        return rc;
    src = sqlite3_step(stmt);
    if (src == SQLITE_ROW)
        *out = sqlite3_column_int64(stmt, 0);
    else
        rc = db_map(db, src);
    db_finish(db, stmt);
    return rc;
}
