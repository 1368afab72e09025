/* SPDX-License-Identifier: Apache-2.0 */
/* SQL for the family ledger: activities, inference counts, per-model aggregates,
 * lineage reads for footprints, and idempotency records. Aggregates change in the
 * same transaction as the rows they summarise. */
#include "db_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs one statement binding int64 parameters ?1..?n; no result rows. */
static enum err exec_keys(struct db *db, const char *sql, int n, const int64_t *values)
{
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);

    if (rc != ERR_OK)
        return rc;
    for (int i = 0; i < n; i++)
        db_bind_int64(stmt, i + 1, values[i]);
    rc = db_map(db, sqlite3_step(stmt));
    db_finish(db, stmt);
    return rc;
}

static char *column_strdup(sqlite3_stmt *stmt, int column)
{
    const unsigned char *text = sqlite3_column_text(stmt, column);

    return core_strdup(text ? (const char *)text : "");
}

static struct core_range column_range(sqlite3_stmt *stmt, int first)
{
    struct core_range r;

    r.value = sqlite3_column_double(stmt, first);
    r.low = sqlite3_column_double(stmt, first + 1);
    r.high = sqlite3_column_double(stmt, first + 2);
    return r;
}

void db_activity_cleanup(struct db_activity *activity)
{
    free(activity->inputs_json);
    free(activity->result_json);
    activity->inputs_json = NULL;
    activity->result_json = NULL;
}

/* Recomputes a model's own sums from its activities: exact, no drift. The bulk
 * loader (db/db_import.c) runs the same statement. */
const char db_sql_refresh_own[] =
    "UPDATE model_ledger SET "
    "own_co2e_kg = (SELECT total(co2e_kg) FROM activities WHERE model_id = ?1), "
    "own_co2e_kg_low = (SELECT total(co2e_kg_low) FROM activities WHERE model_id = ?1), "
    "own_co2e_kg_high = (SELECT total(co2e_kg_high) FROM activities WHERE model_id = ?1), "
    "lineage_kwh = (SELECT total(energy_kwh) FROM activities WHERE model_id = ?1 "
    "  AND kind IN ('training', 'fine_tuning')), "
    "lineage_kwh_low = (SELECT total(energy_kwh_low) FROM activities WHERE model_id = ?1 "
    "  AND kind IN ('training', 'fine_tuning')), "
    "lineage_kwh_high = (SELECT total(energy_kwh_high) FROM activities WHERE model_id = ?1 "
    "  AND kind IN ('training', 'fine_tuning')), "
    "training_kwh = (SELECT total(energy_kwh) FROM activities WHERE model_id = ?1 "
    "  AND kind = 'training'), "
    "training_kwh_low = (SELECT total(energy_kwh_low) FROM activities WHERE model_id = ?1 "
    "  AND kind = 'training'), "
    "training_kwh_high = (SELECT total(energy_kwh_high) FROM activities WHERE model_id = ?1 "
    "  AND kind = 'training'), "
    "n_activities = (SELECT count(*) FROM activities WHERE model_id = ?1) "
    "WHERE model_id = ?1";

static enum err refresh_own(struct db *db, int64_t model_key)
{
    enum err rc = exec_keys(db, db_sql_refresh_own, 1, &model_key);

    return rc == ERR_OK ? db_inference_g_refresh_after_activity(db, model_key) : rc;
}

/* The columns of an activity row, ?1..?13 of DB_SQL_INSERT_ACTIVITY. The texts are
 * bound without copies: the caller steps before a changes. */
enum err db_bind_activity(struct db *db, sqlite3_stmt *stmt, int64_t model_key,
                          const struct db_activity *a)
{
    enum err rc;

    db_bind_int64(stmt, 1, model_key);
    if (a->has_energy) {
        db_bind_double(stmt, 5, a->energy_kwh.value);
        db_bind_double(stmt, 6, a->energy_kwh.low);
        db_bind_double(stmt, 7, a->energy_kwh.high);
    }
    db_bind_double(stmt, 8, a->co2e_kg.value);
    db_bind_double(stmt, 9, a->co2e_kg.low);
    db_bind_double(stmt, 10, a->co2e_kg.high);
    rc = db_bind_text(db, stmt, 2, a->kind);
    if (rc == ERR_OK)
        rc = db_bind_text(db, stmt, 3, a->obtained);
    if (rc == ERR_OK)
        rc = db_bind_text_or_null(db, stmt, 4, a->method);
    if (rc == ERR_OK)
        rc = db_bind_text(db, stmt, 11, a->inputs_json ? a->inputs_json : "{}");
    if (rc == ERR_OK)
        rc = db_bind_text(db, stmt, 12, a->result_json ? a->result_json : "{}");
    if (rc == ERR_OK)
        rc = db_bind_text(db, stmt, 13, a->methodology_version);
    return rc;
}

enum err db_activity_insert(struct db *db, int64_t model_key, struct db_activity *a)
{
    static const char sql[] = DB_SQL_INSERT_ACTIVITY " RETURNING id, created_at";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    rc = db_bind_activity(db, stmt, model_key, a);
    if (rc == ERR_OK) {
        step = sqlite3_step(stmt);
        if (step == SQLITE_ROW) {
            a->id = sqlite3_column_int64(stmt, 0);
            db_column_copy(stmt, 1, a->created_at, sizeof a->created_at);
            step = sqlite3_step(stmt);
        }
        rc = db_map(db, step);
    }
    db_finish(db, stmt);
    if (rc == ERR_OK)
        rc = refresh_own(db, model_key);
    return rc;
}

enum err db_activity_list(struct db *db, int64_t model_key, int64_t after_id, size_t limit,
                          struct db_activity *items, size_t *n_items, bool *has_more)
{
    static const char sql[] =
        "SELECT id, kind, obtained, method, energy_kwh, energy_kwh_low, energy_kwh_high, "
        "co2e_kg, co2e_kg_low, co2e_kg_high, inputs, result, methodology_version, created_at "
        "FROM activities WHERE model_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    size_t n = 0;
    int step;

    *n_items = 0;
    *has_more = false;
    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, model_key);
    db_bind_int64(stmt, 2, after_id);
    db_bind_int64(stmt, 3, (sqlite3_int64)limit + 1);
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct db_activity *a = &items[n];
        if (n == limit) {
            *has_more = true;
            break;
        }
        memset(a, 0, sizeof *a);
        a->id = sqlite3_column_int64(stmt, 0);
        db_column_copy(stmt, 1, a->kind, sizeof a->kind);
        db_column_copy(stmt, 2, a->obtained, sizeof a->obtained);
        db_column_copy(stmt, 3, a->method, sizeof a->method);
        a->has_energy = sqlite3_column_type(stmt, 4) != SQLITE_NULL;
        if (a->has_energy)
            a->energy_kwh = column_range(stmt, 4);
        a->co2e_kg = column_range(stmt, 7);
        a->inputs_json = column_strdup(stmt, 10);
        a->result_json = column_strdup(stmt, 11);
        db_column_copy(stmt, 12, a->methodology_version, sizeof a->methodology_version);
        db_column_copy(stmt, 13, a->created_at, sizeof a->created_at);
        n++;
        if (a->inputs_json == NULL || a->result_json == NULL) {
            rc = ERR_NO_MEMORY;
            break;
        }
    }
    if (rc == ERR_OK && step != SQLITE_ROW && step != SQLITE_DONE)
        rc = db_map(db, step);
    db_finish(db, stmt);
    if (rc != ERR_OK) {
        for (size_t i = 0; i < n; i++)
            db_activity_cleanup(&items[i]);
        return rc;
    }
    *n_items = n;
    return ERR_OK;
}

enum err db_activity_delete(struct db *db, int64_t model_key, int64_t activity_id)
{
    int64_t keys[2] = {activity_id, model_key};
    enum err rc = exec_keys(db, "DELETE FROM activities WHERE id = ?1 AND model_id = ?2", 2, keys);

    if (rc != ERR_OK)
        return rc;
    if (sqlite3_changes(db->handle) == 0)
        return ERR_NOT_FOUND;
    return refresh_own(db, model_key);
}

/* The model's own cumulative count. */
static enum err model_inferences(struct db *db, int64_t model_key, int64_t *total)
{
    static const char sql[] = "SELECT inferences FROM model_ledger WHERE model_id = ?1";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, model_key);
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW)
        *total = sqlite3_column_int64(stmt, 0);
    else
        rc = step == SQLITE_DONE ? ERR_NOT_FOUND : db_map(db, step);
    db_finish(db, stmt);
    return rc;
}

/* Below this, a sum computed in doubles cannot reach INT64_MAX (about 9.22e18)
 * for want of precision. */
#define SAFE_SUM 9.0e18

/* Reads one int64 (and, when wide is set, one double) from a statement binding
 * model_key to ?1. */
static enum err read_one(struct db *db, const char *sql, int64_t model_key, int64_t *value,
                         double *wide)
{
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, model_key);
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        *value = sqlite3_column_int64(stmt, 0);
        if (wide)
            *wide = sqlite3_column_double(stmt, 1);
    } else {
        rc = db_map(db, step);
    }
    db_finish(db, stmt);
    return rc;
}

static enum err family_room(struct db *db, int64_t model_key, int64_t delta)
{
    /* Every family that holds the model is inside a root's, so the largest family
     * sum above it is the largest stored one plus at most everything pending. */
    static const char bound_sql[] =
        "SELECT max(l.descendant_inferences), (SELECT total(delta) FROM inference_pending) "
        "FROM model_closure c JOIN model_ledger l ON l.model_id = c.ancestor_id "
        "WHERE c.descendant_id = ?1";
    static const char exact_sql[] =
        "SELECT max(l.descendant_inferences + " DB_SQL_PENDING_BELOW_SIZED(
            "c.ancestor_id", "l.descendants") ") "
                                              "FROM model_closure c JOIN model_ledger l ON "
                                              "l.model_id = c.ancestor_id "
                                              "WHERE c.descendant_id = ?1";
    int64_t largest = 0;
    double pending = 0;
    enum err rc = read_one(db, bound_sql, model_key, &largest, &pending);

    if (rc != ERR_OK || (double)largest + pending + (double)delta < SAFE_SUM)
        return rc;
    /* Near the limit: each ancestor's exact sum, its pending part included (it
     * fits: every acknowledged increment was checked). */
    rc = read_one(db, exact_sql, model_key, &largest, NULL);
    if (rc == ERR_OK && largest > INT64_MAX - delta)
        rc = ERR_COUNT_OVERFLOW;
    return rc;
}

/* Before schema 9 (no pending deltas; the migration tests write such ledgers):
 * every ancestor's family sum takes the delta at once. A sum past INT64_MAX turns
 * REAL in SQLite's arithmetic, which the STRICT INTEGER column refuses, undoing
 * the statement: that is the overflow check. */
static enum err add_to_ancestors(struct db *db, const int64_t *key_and_delta)
{
    enum err rc = exec_keys(db,
                            "UPDATE model_ledger SET descendant_inferences = "
                            "descendant_inferences + ?2 WHERE model_id IN (SELECT ancestor_id "
                            "FROM model_closure WHERE descendant_id = ?1)",
                            2, key_and_delta);

    if (rc != ERR_OK && sqlite3_extended_errcode(db->handle) == SQLITE_CONSTRAINT_DATATYPE)
        return ERR_COUNT_OVERFLOW;
    if (rc == ERR_OK)
        rc = exec_keys(db,
                       "UPDATE model_ledger SET inferences = inferences + ?2 WHERE model_id = ?1",
                       2, key_and_delta);
    return rc;
}

enum err db_inferences_add(struct db *db, int64_t model_key, int64_t delta, const char *day,
                           int64_t *total_out)
{
    static const char own_sql[] =
        "UPDATE model_ledger SET inferences = inferences + ?2, "
        "descendant_inferences = descendant_inferences + ?2 WHERE model_id = ?1";
    static const char pending_sql[] =
        "INSERT INTO inference_pending (model_id, day, delta) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (model_id, day) DO UPDATE SET delta = delta + excluded.delta";
    static const char daily_sql[] =
        "INSERT INTO inference_daily (model_id, day, count) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (model_id, day) DO UPDATE SET count = count + excluded.count";
    int64_t total = 0;
    int64_t both[2] = {model_key, delta};
    sqlite3_stmt *stmt = NULL;
    enum err rc = ERR_OK;

    if (delta < 0)
        return ERR_INVALID_INPUT;
    if (delta == 0)
        goto out;
    if (db_has_fold(db)) {
        /* Read, never write, the ancestors' rows and the families' days: the fold
         * adds the delta to them later. The model's own row takes it now (it is in
         * its own family), and bounds its own count, its daily counts and its
         * pending delta. */
        rc = family_room(db, model_key, delta);
        if (rc == ERR_OK)
            rc = exec_keys(db, own_sql, 2, both);
        if (rc == ERR_OK)
            rc = db_cached(db, pending_sql, &stmt);
        if (rc == ERR_OK) {
            db_bind_int64(stmt, 1, model_key);
            db_bind_int64(stmt, 3, delta);
            rc = db_bind_text(db, stmt, 2, day);
            if (rc == ERR_OK)
                rc = db_map(db, sqlite3_step(stmt));
            db_finish(db, stmt);
            stmt = NULL;
        }
    } else {
        rc = add_to_ancestors(db, both);
    }
    if (rc != ERR_OK)
        return rc;
    rc = db_cached(db, daily_sql, &stmt);
    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, model_key);
    db_bind_int64(stmt, 3, delta);
    rc = db_bind_text(db, stmt, 2, day);
    if (rc == ERR_OK)
        rc = db_map(db, sqlite3_step(stmt));
    db_finish(db, stmt);
    if (rc != ERR_OK)
        return rc;
out:
    if (total_out) {
        rc = model_inferences(db, model_key, &total);
        *total_out = total;
    }
    return rc;
}

enum err db_counter_put(struct db *db, int64_t model_key, const char *reporter, int64_t total,
                        bool is_reset, const char *day, int64_t *previous, int64_t *delta)
{
    static const char get_sql[] =
        "SELECT total FROM inference_counters WHERE model_id = ?1 AND reporter = ?2";
    static const char put_sql[] =
        "INSERT INTO inference_counters (model_id, reporter, total, resets) VALUES (?1, ?2, ?3, "
        "?4) "
        "ON CONFLICT (model_id, reporter) DO UPDATE SET total = excluded.total, "
        "resets = resets + excluded.resets, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
    sqlite3_stmt *stmt = NULL;
    int64_t old = 0, counted;
    enum err rc = db_cached(db, get_sql, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, model_key);
    rc = db_bind_text(db, stmt, 2, reporter);
    step = rc == ERR_OK ? sqlite3_step(stmt) : SQLITE_DONE;
    if (step == SQLITE_ROW)
        old = sqlite3_column_int64(stmt, 0);
    else if (step != SQLITE_DONE)
        rc = db_map(db, step);
    db_finish(db, stmt);
    if (rc != ERR_OK)
        return rc;
    *previous = old;
    if (is_reset)
        counted = total;
    else if (total < old)
        return ERR_CONFLICT;
    else
        counted = total - old;
    rc = db_inferences_add(db, model_key, counted, day, NULL);
    if (rc != ERR_OK)
        return rc;
    rc = db_cached(db, put_sql, &stmt);
    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, model_key);
    db_bind_int64(stmt, 3, total);
    db_bind_int64(stmt, 4, is_reset ? 1 : 0);
    rc = db_bind_text(db, stmt, 2, reporter);
    if (rc == ERR_OK)
        rc = db_map(db, sqlite3_step(stmt));
    db_finish(db, stmt);
    if (rc == ERR_OK)
        *delta = counted;
    return rc;
}

enum err db_inference_series(struct db *db, int64_t model_key, const char *from, const char *to,
                             struct db_day_count *days, size_t cap, size_t *n_out)
{
    static const char sql[] = "SELECT day, count FROM inference_daily WHERE model_id = ?1 "
                              "AND day >= ?2 AND day <= ?3 ORDER BY day LIMIT ?4";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    size_t n = 0;
    int step = SQLITE_DONE;

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, model_key);
    db_bind_int64(stmt, 4, (sqlite3_int64)cap);
    rc = db_bind_text(db, stmt, 2, from);
    if (rc == ERR_OK)
        rc = db_bind_text(db, stmt, 3, to);
    while (rc == ERR_OK && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        db_column_copy(stmt, 0, days[n].day, sizeof days[n].day);
        days[n].count = sqlite3_column_int64(stmt, 1);
        n++;
    }
    if (step != SQLITE_DONE)
        rc = db_map(db, step);
    db_finish(db, stmt);
    *n_out = n;
    return rc;
}

/* The columns of a lineage read: an ancestor's row and aggregates, the key of the
 * model whose lineage it is, then the ancestor's inference profile (NULLs when it
 * has none). */
#define LINEAGE_COLUMNS                                                                            \
    "m.id, m.namespace, m.name, m.depth, l.own_co2e_kg, l.own_co2e_kg_low, "                       \
    "l.own_co2e_kg_high, l.lineage_kwh, l.lineage_kwh_low, l.lineage_kwh_high, "                   \
    "l.training_kwh, l.training_kwh_low, l.training_kwh_high, l.n_activities, l.inferences, "      \
    "l.descendants, l.descendant_inferences + " DB_SQL_PENDING_BELOW_SIZED(                        \
        "c.ancestor_id", "l.descendants") ", "                                                     \
                                          "p.model_id, c.descendant_id, " DB_PROFILE_COLUMNS " "
#define LINEAGE_PROFILE_FIRST 19
/* After them, in a footprint's read, the last column: the flags of the ancestor's
 * card, NULL when it has no card or its card no flags. */
#define LINEAGE_FLAGS_COLUMN ", nullif(k.flags, '[]') "

/* Column text into buf (truncated, empty for NULL), as db_column_copy does but
 * without printf: a lineage copies two per ancestor. */
static void column_copy(sqlite3_stmt *stmt, int column, char *buf, size_t buf_len)
{
    const char *text = (const char *)sqlite3_column_text(stmt, column);
    size_t n = text ? strnlen(text, buf_len - 1) : 0;

    memcpy(buf, text ? text : "", n);
    buf[n] = '\0';
}

/* Steps a bound lineage statement (LINEAGE_COLUMNS, shallowest first, and
 * LINEAGE_FLAGS_COLUMN when with_flags) and ends its use; the contract of
 * db_lineage_load. */
static enum err lineage_rows(struct db *db, sqlite3_stmt *stmt, bool with_flags,
                             struct core_lineage *lineage)
{
    int flags = with_flags ? sqlite3_column_count(stmt) - 1 : -1;
    enum err rc = ERR_OK;
    int step;

    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct core_lineage_member *r = core_lineage_add(lineage);
        if (r == NULL) {
            rc = ERR_NO_MEMORY;
            break;
        }
        r->key = sqlite3_column_int64(stmt, 0);
        column_copy(stmt, 1, r->id.ns, sizeof r->id.ns);
        column_copy(stmt, 2, r->id.name, sizeof r->id.name);
        r->depth = sqlite3_column_int(stmt, 3);
        r->is_self = r->key == sqlite3_column_int64(stmt, 18);
        r->own_co2e_kg = column_range(stmt, 4);
        r->lineage_kwh = column_range(stmt, 7);
        r->training_kwh = column_range(stmt, 10);
        r->n_activities = sqlite3_column_int64(stmt, 13);
        r->inferences = sqlite3_column_int64(stmt, 14);
        r->descendants = sqlite3_column_int64(stmt, 15);
        r->descendant_inferences = sqlite3_column_int64(stmt, 16);
        r->has_profile = sqlite3_column_type(stmt, 17) != SQLITE_NULL;
        /* Rows come shallowest first: the last profile seen is the nearest one. */
        if (r->has_profile) {
            lineage->has_profile = true;
            lineage->profile_member = lineage->n_members - 1;
            db_profile_from_columns(stmt, LINEAGE_PROFILE_FIRST, &lineage->profile);
        }
        /* Most cards have no flags (NULL here): a copy only for the few that do. */
        if (flags >= 0 && sqlite3_column_type(stmt, flags) != SQLITE_NULL) {
            const char *text = (const char *)sqlite3_column_text(stmt, flags);
            r->flags = text ? core_strdup(text) : NULL;
            if (r->flags == NULL) {
                rc = ERR_NO_MEMORY;
                break;
            }
        }
    }
    if (rc == ERR_OK && step != SQLITE_DONE)
        rc = db_map(db, step);
    db_finish(db, stmt);
    if (rc == ERR_OK && lineage->n_members == 0)
        rc = ERR_NOT_FOUND;
    if (rc != ERR_OK)
        core_lineage_cleanup(lineage);
    return rc;
}

enum err db_lineage_load(struct db *db, int64_t model_key, struct core_lineage *lineage)
{
    static const char sql[] =
        "SELECT " LINEAGE_COLUMNS "FROM model_closure c JOIN models m ON m.id = c.ancestor_id "
        "JOIN model_ledger l ON l.model_id = c.ancestor_id "
        "LEFT JOIN inference_profiles p ON p.model_id = c.ancestor_id "
        "WHERE c.descendant_id = ?1 ORDER BY m.depth, m.id";
    sqlite3_stmt *stmt = NULL;
    enum err rc;

    core_lineage_init(lineage);
    rc = db_cached(db, sql, &stmt);
    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, model_key);
    return lineage_rows(db, stmt, false, lineage);
}

/* The lineage of the model named id, read by sql (LINEAGE_COLUMNS, with the card
 * flags column after them when with_flags). */
static enum err lineage_by_id(struct db *db, const char *sql, bool with_flags,
                              const struct core_model_id *id, struct core_lineage *lineage)
{
    sqlite3_stmt *stmt = NULL;
    enum err rc;

    core_lineage_init(lineage);
    rc = db_cached(db, sql, &stmt);
    if (rc != ERR_OK)
        return rc;
    rc = db_bind_text(db, stmt, 1, id->ns);
    if (rc == ERR_OK)
        rc = db_bind_text(db, stmt, 2, id->name);
    if (rc != ERR_OK) {
        db_finish(db, stmt);
        return rc;
    }
    return lineage_rows(db, stmt, with_flags, lineage);
}

enum err db_lineage_load_id(struct db *db, const struct core_model_id *id,
                            struct core_lineage *lineage)
{
    static const char sql[] =
        "SELECT " LINEAGE_COLUMNS "FROM models s JOIN model_closure c ON c.descendant_id = s.id "
        "JOIN models m ON m.id = c.ancestor_id "
        "JOIN model_ledger l ON l.model_id = c.ancestor_id "
        "LEFT JOIN inference_profiles p ON p.model_id = c.ancestor_id "
        "WHERE s.namespace = ?1 AND s.name = ?2 ORDER BY m.depth, m.id";

    return lineage_by_id(db, sql, false, id, lineage);
}

enum err db_lineage_load_flags(struct db *db, const struct core_model_id *id,
                               struct core_lineage *lineage)
{
    static const char sql[] = "SELECT " LINEAGE_COLUMNS LINEAGE_FLAGS_COLUMN
                              "FROM models s JOIN model_closure c ON c.descendant_id = s.id "
                              "JOIN models m ON m.id = c.ancestor_id "
                              "JOIN model_ledger l ON l.model_id = c.ancestor_id "
                              "LEFT JOIN inference_profiles p ON p.model_id = c.ancestor_id "
                              "LEFT JOIN model_cards k ON k.model_id = c.ancestor_id "
                              "WHERE s.namespace = ?1 AND s.name = ?2 ORDER BY m.depth, m.id";

    return lineage_by_id(db, sql, true, id, lineage);
}

enum err db_family_page(struct db *db, int64_t model_key, int64_t after_key, size_t limit,
                        int64_t *keys, size_t *n_keys, bool *has_more)
{
    static const char sql[] = "SELECT descendant_id FROM model_closure WHERE ancestor_id = ?1 "
                              "AND descendant_id > ?2 ORDER BY descendant_id LIMIT ?3";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    size_t n = 0;
    int step;

    *n_keys = 0;
    *has_more = false;
    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, model_key);
    db_bind_int64(stmt, 2, after_key);
    db_bind_int64(stmt, 3, (sqlite3_int64)limit + 1);
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (n == limit) {
            *has_more = true;
            break;
        }
        keys[n++] = sqlite3_column_int64(stmt, 0);
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = db_map(db, step);
    db_finish(db, stmt);
    *n_keys = n;
    return rc;
}

enum err db_idempotency_get(struct db *db, const char *scope, const char *key, char *request_hash,
                            int *status, char **response)
{
    static const char sql[] = "SELECT request_hash, status, response FROM idempotency_keys "
                              "WHERE scope = ?1 AND key = ?2";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    rc = db_bind_text(db, stmt, 1, scope);
    if (rc == ERR_OK)
        rc = db_bind_text(db, stmt, 2, key);
    if (rc != ERR_OK) {
        db_finish(db, stmt);
        return rc;
    }
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        db_column_copy(stmt, 0, request_hash, 65);
        *status = sqlite3_column_int(stmt, 1);
        *response = column_strdup(stmt, 2);
        if (*response == NULL)
            rc = ERR_NO_MEMORY;
    } else {
        rc = step == SQLITE_DONE ? ERR_NOT_FOUND : db_map(db, step);
    }
    db_finish(db, stmt);
    return rc;
}

enum err db_idempotency_put(struct db *db, const char *scope, const char *key,
                            const char *request_hash, int status, const char *response)
{
    static const char sql[] = "INSERT INTO idempotency_keys (scope, key, request_hash, status, "
                              "response) VALUES (?1, ?2, ?3, ?4, ?5)";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 4, status);
    rc = db_bind_text(db, stmt, 1, scope);
    if (rc == ERR_OK)
        rc = db_bind_text(db, stmt, 2, key);
    if (rc == ERR_OK)
        rc = db_bind_text(db, stmt, 3, request_hash);
    if (rc == ERR_OK)
        rc = db_bind_text(db, stmt, 5, response);
    if (rc == ERR_OK)
        rc = db_map(db, sqlite3_step(stmt));
    db_finish(db, stmt);
    return rc;
}
