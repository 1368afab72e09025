/* SPDX-License-Identifier: Apache-2.0 */
/* What the sharing dividend and the overtake read: the training a model's lineage
 * emitted, a model's whole daily series, a family's training and its daily series by
 * representative, and, for a family, each descendant's own emissions beside the
 * roots it builds on. Returns core structs. */
#include "db_internal.h"

#include <stdlib.h>
#include <string.h>

/* A root's pre-training: its training activities, NULL sums when it has none. */
static const char sql_root_pretraining[] =
    "SELECT count(*), total(co2e_kg), total(co2e_kg_low), total(co2e_kg_high) "
    "FROM activities WHERE model_id = ?1 AND kind = 'training'";

static enum err root_pretraining(struct db *db, int64_t root_key, struct core_dividend_root *out)
{
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql_root_pretraining, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, root_key);
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        out->pretraining_kg =
            core_range_make(sqlite3_column_double(stmt, 2), sqlite3_column_double(stmt, 1),
                            sqlite3_column_double(stmt, 3));
        out->has_pretraining = sqlite3_column_int64(stmt, 0) > 0 && out->pretraining_kg.high > 0;
    } else {
        rc = db_map(db, step);
    }
    db_finish(db, stmt);
    return rc;
}

enum err db_lineage_training_kg(struct db *db, int64_t model_key, struct core_range *out)
{
    static const char sql[] =
        "SELECT total(a.co2e_kg), total(a.co2e_kg_low), total(a.co2e_kg_high) "
        "FROM model_closure c JOIN activities a ON a.model_id = c.ancestor_id "
        "WHERE c.descendant_id = ?1 AND a.kind IN ('training', 'fine_tuning')";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, model_key);
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW)
        *out = core_range_make(sqlite3_column_double(stmt, 1), sqlite3_column_double(stmt, 0),
                               sqlite3_column_double(stmt, 2));
    else
        rc = db_map(db, step);
    db_finish(db, stmt);
    return rc;
}

/* Steps stmt to its end, each row read by read_row into the next element (size
 * bytes) of an array that grows as needed. ERR_OK: *list (the caller frees it) and *n;
 * otherwise nothing is kept. The caller finishes stmt. */
static enum err collect_rows(struct db *db, sqlite3_stmt *stmt, size_t size,
                             void (*read_row)(sqlite3_stmt *stmt, void *item), void **list,
                             size_t *n)
{
    char *items = NULL;
    size_t count = 0, cap = 0;
    enum err rc = ERR_OK;
    int step;

    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (count == cap) {
            size_t new_cap = cap ? 2 * cap : 64;
            char *grown = core_realloc(items, new_cap * size);
            if (grown == NULL) {
                rc = ERR_NO_MEMORY;
                break;
            }
            items = grown;
            cap = new_cap;
        }
        read_row(stmt, items + count * size);
        count++;
    }
    if (rc == ERR_OK && step != SQLITE_DONE)
        rc = db_map(db, step);
    if (rc != ERR_OK) {
        free(items);
        return rc;
    }
    *list = items;
    *n = count;
    return ERR_OK;
}

static void read_usage_day(sqlite3_stmt *stmt, void *item)
{
    struct db_usage_day *day = item;

    day->day = sqlite3_column_int64(stmt, 0);
    day->count = (uint64_t)sqlite3_column_int64(stmt, 1);
}

enum err db_usage_days(struct db *db, int64_t model_key, struct db_usage_day **days, size_t *n_days)
{
    /* Days since 1970-01-01: julianday counts from 4714 BC at noon. */
    static const char sql[] = "SELECT CAST(julianday(day) - 2440587.5 AS INTEGER), count "
                              "FROM inference_daily WHERE model_id = ?1 ORDER BY day";
    sqlite3_stmt *stmt = NULL;
    void *list = NULL;
    enum err rc = db_cached(db, sql, &stmt);

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, model_key);
    rc = collect_rows(db, stmt, sizeof **days, read_usage_day, &list, n_days);
    db_finish(db, stmt);
    if (rc == ERR_OK)
        *days = list;
    return rc;
}

static void read_family_usage_day(sqlite3_stmt *stmt, void *item)
{
    struct db_family_usage_day *day = item;

    day->rep_key = sqlite3_column_int64(stmt, 0);
    day->day = sqlite3_column_int64(stmt, 1);
    day->count = (uint64_t)sqlite3_column_int64(stmt, 2);
}

enum err db_family_usage_days(struct db *db, int64_t model_key, struct db_family_usage_day **days,
                              size_t *n_days)
{
    static const char sql[] =
        "SELECT x.rep, CAST(julianday(x.day) - 2440587.5 AS INTEGER), sum(x.n) "
        "FROM (SELECT rep_id AS rep, day, count AS n FROM family_inference_daily "
        "WHERE ancestor_id = ?1 UNION ALL SELECT l.usage_rep_id, p.day, p.delta "
        "FROM inference_pending p CROSS JOIN model_closure c ON c.ancestor_id = ?1 "
        "AND c.descendant_id = p.model_id JOIN model_ledger l ON l.model_id = p.model_id) x "
        "GROUP BY x.rep, x.day HAVING sum(x.n) > 0 ORDER BY x.rep, x.day";
    sqlite3_stmt *stmt = NULL;
    void *list = NULL;
    enum err rc = db_cached(db, sql, &stmt);

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, model_key);
    rc = collect_rows(db, stmt, sizeof **days, read_family_usage_day, &list, n_days);
    db_finish(db, stmt);
    if (rc == ERR_OK)
        *days = list;
    return rc;
}

enum err db_family_training_kg(struct db *db, int64_t model_key, struct core_range *out)
{
    /* The family's own sums are kept by the writes (migrations/0007); what it rests
     * on above model_key is O(ancestors) activities. */
    static const char sql[] =
        "SELECT l.family_training_co2e_kg + l.family_fine_tuning_co2e_kg + u.value, "
        "l.family_training_co2e_kg_low + l.family_fine_tuning_co2e_kg_low + u.low, "
        "l.family_training_co2e_kg_high + l.family_fine_tuning_co2e_kg_high + u.high "
        "FROM model_ledger l, (SELECT total(a.co2e_kg) AS value, total(a.co2e_kg_low) AS low, "
        "total(a.co2e_kg_high) AS high FROM model_closure c "
        "JOIN activities a ON a.model_id = c.ancestor_id WHERE c.descendant_id = ?1 "
        "AND c.ancestor_id <> ?1 AND a.kind IN ('training', 'fine_tuning')) u "
        "WHERE l.model_id = ?1";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, model_key);
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW)
        *out = core_range_make(sqlite3_column_double(stmt, 1), sqlite3_column_double(stmt, 0),
                               sqlite3_column_double(stmt, 2));
    else
        rc = step == SQLITE_DONE ? ERR_NOT_FOUND : db_map(db, step);
    db_finish(db, stmt);
    return rc;
}

/* The roots a model builds on (its ancestors without parents, itself when it has
 * none), in key order. */
static const char sql_roots_of[] =
    "SELECT c.ancestor_id FROM model_closure c WHERE c.descendant_id = ?1 AND NOT EXISTS "
    "(SELECT 1 FROM model_parents p WHERE p.child_id = c.ancestor_id) ORDER BY c.ancestor_id";

void db_sharing_init(struct db_sharing *s)
{
    memset(s, 0, sizeof *s);
}

void db_sharing_cleanup(struct db_sharing *s)
{
    free(s->root_keys);
    free(s->roots);
    db_sharing_init(s);
}

/* The index of root_key in s's roots, added (with its pre-training) when new. */
static enum err root_index(struct db *db, struct db_sharing *s, int64_t root_key, size_t *out)
{
    for (size_t i = 0; i < s->n_roots; i++) {
        if (s->root_keys[i] == root_key) {
            *out = i;
            return ERR_OK;
        }
    }
    if (s->n_roots == s->cap_roots) {
        size_t cap = s->cap_roots ? 2 * s->cap_roots : 4;
        int64_t *keys = core_realloc(s->root_keys, cap * sizeof *keys);
        struct core_dividend_root *roots;
        if (keys == NULL)
            return ERR_NO_MEMORY;
        s->root_keys = keys;
        roots = core_realloc(s->roots, cap * sizeof *roots);
        if (roots == NULL)
            return ERR_NO_MEMORY;
        s->roots = roots;
        s->cap_roots = cap;
    }
    s->root_keys[s->n_roots] = root_key;
    *out = s->n_roots;
    return root_pretraining(db, root_key, &s->roots[s->n_roots++]);
}

enum err db_sharing_member(struct db *db, struct db_sharing *s, int64_t model_key,
                           struct core_dividend_member *out)
{
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql_roots_of, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    s->n_member_roots = 0;
    db_bind_int64(stmt, 1, model_key);
    while (rc == ERR_OK && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        size_t index;
        if (s->n_member_roots == DB_SHARING_MAX_ROOTS) {
            rc = ERR_INTERNAL;
            break;
        }
        rc = root_index(db, s, sqlite3_column_int64(stmt, 0), &index);
        if (rc == ERR_OK)
            s->member_roots[s->n_member_roots++] = index;
    }
    if (rc == ERR_OK && step != SQLITE_DONE)
        rc = db_map(db, step);
    db_finish(db, stmt);
    out->roots = s->member_roots;
    out->n_roots = s->n_member_roots;
    return rc;
}

enum err db_sharing_share(struct db *db, struct db_sharing *s, int64_t model_key, double fraction,
                          struct core_dividend_share *out)
{
    static const char sql[] = "SELECT own_co2e_kg, own_co2e_kg_low, own_co2e_kg_high "
                              "FROM model_ledger WHERE model_id = ?1";
    struct core_dividend_member member = {0};
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, model_key);
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW)
        member.own_kg =
            core_range_make(sqlite3_column_double(stmt, 1), sqlite3_column_double(stmt, 0),
                            sqlite3_column_double(stmt, 2));
    else
        rc = step == SQLITE_DONE ? ERR_NOT_FOUND : db_map(db, step);
    db_finish(db, stmt);
    if (rc == ERR_OK)
        rc = db_sharing_member(db, s, model_key, &member);
    if (rc == ERR_OK)
        rc = core_dividend_member(s->roots, s->n_roots, &member, fraction, out);
    return rc;
}

/* Whether every descendant of shared_key builds on exactly the roots shared_key
 * builds on: no member of the family has a parent outside the family and outside
 * shared_key's own ancestors. Then a member's roots need not be read one by one. */
static enum err builds_on_shared_roots_only(struct db *db, int64_t shared_key, bool *out)
{
    static const char sql[] =
        "SELECT NOT EXISTS (SELECT 1 FROM model_closure c "
        "JOIN model_parents p ON p.child_id = c.descendant_id "
        "WHERE c.ancestor_id = ?1 AND c.descendant_id <> ?1 "
        "AND NOT EXISTS (SELECT 1 FROM model_closure f WHERE f.ancestor_id = ?1 "
        "AND f.descendant_id = p.parent_id) "
        "AND NOT EXISTS (SELECT 1 FROM model_closure a WHERE a.descendant_id = ?1 "
        "AND a.ancestor_id = p.parent_id))";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, shared_key);
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW)
        *out = sqlite3_column_int(stmt, 0) != 0;
    else
        rc = db_map(db, step);
    db_finish(db, stmt);
    return rc;
}

enum err db_sharing_family(struct db *db, struct db_sharing *s, int64_t shared_key, double fraction,
                           struct core_dividend *out)
{
    /* Every descendant with its own emissions, then its roots: one row per (descendant,
     * root) pair, in descendant order, so that a family of any size is read once with
     * constant memory. */
    static const char sql[] =
        "SELECT c.descendant_id, l.own_co2e_kg, l.own_co2e_kg_low, l.own_co2e_kg_high, "
        "r.ancestor_id FROM model_closure c "
        "JOIN model_ledger l ON l.model_id = c.descendant_id "
        "JOIN model_closure r ON r.descendant_id = c.descendant_id "
        "WHERE c.ancestor_id = ?1 AND c.descendant_id <> ?1 AND NOT EXISTS "
        "(SELECT 1 FROM model_parents p WHERE p.child_id = r.ancestor_id) "
        "ORDER BY c.descendant_id, r.ancestor_id";
    /* The same rows when every descendant builds on the shared model's roots: one
     * per descendant, its roots those of the shared model (the sums come out the
     * same, root by root in key order). */
    static const char sql_uniform[] =
        "SELECT c.descendant_id, l.own_co2e_kg, l.own_co2e_kg_low, l.own_co2e_kg_high "
        "FROM model_closure c JOIN model_ledger l ON l.model_id = c.descendant_id "
        "WHERE c.ancestor_id = ?1 AND c.descendant_id <> ?1 ORDER BY c.descendant_id";
    static const char sql_shared[] = "SELECT own_co2e_kg, own_co2e_kg_low, own_co2e_kg_high "
                                     "FROM model_ledger WHERE model_id = ?1";
    size_t n_shared_roots = 0;
    bool is_uniform = false;
    struct core_dividend_member member = {0};
    struct core_dividend d;
    struct core_dividend_share share;
    sqlite3_stmt *stmt = NULL;
    int64_t current = -1;
    size_t page_next = 0;
    enum err rc;
    int step;

    rc = db_cached(db, sql_shared, &stmt);
    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, shared_key);
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW)
        member.own_kg =
            core_range_make(sqlite3_column_double(stmt, 1), sqlite3_column_double(stmt, 0),
                            sqlite3_column_double(stmt, 2));
    else
        rc = step == SQLITE_DONE ? ERR_NOT_FOUND : db_map(db, step);
    db_finish(db, stmt);
    if (rc != ERR_OK)
        return rc;
    core_dividend_start(&d, member.own_kg);
    rc = builds_on_shared_roots_only(db, shared_key, &is_uniform);
    if (rc == ERR_OK && is_uniform) {
        struct core_dividend_member shared;
        rc = db_sharing_member(db, s, shared_key, &shared);
        n_shared_roots = shared.n_roots;
    }
    if (rc == ERR_OK)
        rc = db_cached(db, is_uniform ? sql_uniform : sql, &stmt);
    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, shared_key);
    if (!is_uniform)
        s->n_member_roots = 0;
    for (;;) {
        int64_t key = -1;
        step = sqlite3_step(stmt);
        if (step == SQLITE_ROW)
            key = sqlite3_column_int64(stmt, 0);
        else if (step != SQLITE_DONE) {
            rc = db_map(db, step);
            break;
        }
        if (current >= 0 && key != current) {
            /* The previous descendant is complete: add its share. */
            member.roots = s->member_roots;
            member.n_roots = s->n_member_roots;
            rc = core_dividend_member(s->roots, s->n_roots, &member, fraction, &share);
            if (rc != ERR_OK)
                break;
            core_dividend_add(&d, &member, &share);
            if (!is_uniform)
                s->n_member_roots = 0;
            while (page_next < s->n_page && s->page_keys[page_next] < current)
                page_next++;
            if (page_next < s->n_page && s->page_keys[page_next] == current) {
                s->page_shares[page_next] = share;
                s->page_has_share[page_next] = true;
            }
        }
        if (step == SQLITE_DONE)
            break;
        if (key != current) {
            current = key;
            member.own_kg =
                core_range_make(sqlite3_column_double(stmt, 2), sqlite3_column_double(stmt, 1),
                                sqlite3_column_double(stmt, 3));
        }
        if (is_uniform) {
            s->n_member_roots = n_shared_roots; /* the shared model's, read above */
            continue;
        }
        if (s->n_member_roots == DB_SHARING_MAX_ROOTS) {
            rc = ERR_INTERNAL;
            break;
        }
        {
            size_t index;
            rc = root_index(db, s, sqlite3_column_int64(stmt, 4), &index);
            if (rc != ERR_OK)
                break;
            s->member_roots[s->n_member_roots++] = index;
        }
    }
    db_finish(db, stmt);
    if (rc == ERR_OK) {
        core_dividend_finish(&d);
        *out = d;
    }
    return rc;
}
