/* SPDX-License-Identifier: Apache-2.0 */
/* The fold: an increment writes its own model's rows and records its delta of the
 * day in inference_pending; the fold adds those deltas to the family sums of each
 * model's proper ancestors, to the daily counts of every family that holds the
 * model, and to the namespace and ledger totals (inferences and their CO2e), then
 * deletes them, a batch at a time. Reads add what is still pending, so no answer depends
 * on when the fold ran. */
#include "db_internal.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* The batch: the first `limit` pending rows in key order (-1: every row). Each
 * statement of one fold selects the same rows, since only the fold's own
 * transaction writes in between. */
#define BATCH "(SELECT model_id, day, delta FROM inference_pending ORDER BY model_id, day LIMIT ?1)"

/* A proper ancestor's share of the batch: one row per ancestor, whatever the
 * number of its descendants in the batch. The sums fit: each is part of a family
 * sum every increment checked against INT64_MAX. */
static const char sql_ancestors[] =
    "UPDATE model_ledger SET descendant_inferences = descendant_inferences + f.d "
    "FROM (SELECT c.ancestor_id AS a, sum(p.delta) AS d FROM " BATCH " p "
    "CROSS JOIN model_closure c ON c.descendant_id = p.model_id "
    "WHERE c.ancestor_id <> p.model_id GROUP BY c.ancestor_id) f "
    "WHERE model_ledger.model_id = f.a";

/* Each family's days, the model's own included, under the model's representative
 * now (a read prices them by it). */
static const char sql_family_days[] =
    "INSERT INTO family_inference_daily (ancestor_id, rep_id, day, count) "
    "SELECT c.ancestor_id, l.usage_rep_id, p.day, sum(p.delta) FROM " BATCH " p "
    "JOIN model_ledger l ON l.model_id = p.model_id "
    "CROSS JOIN model_closure c ON c.descendant_id = p.model_id WHERE true "
    "GROUP BY c.ancestor_id, l.usage_rep_id, p.day "
    "ON CONFLICT (ancestor_id, rep_id, day) DO UPDATE SET count = count + excluded.count";

/* The batch by namespace (models.namespace is NOCASE, as ledger_totals' key), each
 * delta with its CO2e at its model's figure now (from schema 10). */
static const char sql_by_namespace[] =
    "SELECT m.namespace, p.delta, 0, 0, 0 FROM " BATCH " p JOIN models m ON m.id = p.model_id "
    "ORDER BY m.namespace";
static const char sql_by_namespace_co2e[] =
    "SELECT m.namespace, p.delta, p.delta * coalesce(l.inference_g_each, 0) / 1000.0, "
    "p.delta * coalesce(l.inference_g_each_low, 0) / 1000.0, "
    "p.delta * coalesce(l.inference_g_each_high, 0) / 1000.0 FROM " BATCH " p "
    "JOIN models m ON m.id = p.model_id JOIN model_ledger l ON l.model_id = p.model_id "
    "ORDER BY m.namespace";

/* A total saturates at the largest integer rather than refusing a count each
 * family could hold on its own (as migration 0007's triggers did). */
static const char sql_total_add[] =
    "UPDATE ledger_totals SET inferences = iif(inferences > 9223372036854775807 - ?2, "
    "9223372036854775807, inferences + ?2) WHERE namespace = ?1";
static const char sql_total_add_co2e[] =
    "UPDATE ledger_totals SET inferences = iif(inferences > 9223372036854775807 - ?2, "
    "9223372036854775807, inferences + ?2), inference_co2e_kg = inference_co2e_kg + ?3, "
    "inference_co2e_kg_low = inference_co2e_kg_low + ?4, "
    "inference_co2e_kg_high = inference_co2e_kg_high + ?5 WHERE namespace = ?1";

static const char sql_delete[] =
    "DELETE FROM inference_pending WHERE (model_id, day) IN (SELECT model_id, day FROM " BATCH ")";

static _Atomic uint64_t fold_count;
static _Atomic uint64_t fold_rows;
static _Atomic uint64_t fold_inferences;
static _Atomic uint64_t fold_nanoseconds;

static int64_t add_saturating(int64_t a, int64_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

/* What one namespace's (or the ledger's) total gains from the batch. */
struct total_part {
    int64_t inferences;
    struct core_range kg;
};

static void part_add(struct total_part *t, int64_t delta, const struct core_range *kg)
{
    t->inferences = add_saturating(t->inferences, delta);
    t->kg.value += kg->value;
    t->kg.low += kg->low;
    t->kg.high += kg->high;
}

static enum err total_add(struct db *db, bool has_co2e, const char *ns, const struct total_part *t)
{
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, has_co2e ? sql_total_add_co2e : sql_total_add, &stmt);

    if (rc != ERR_OK)
        return rc;
    /* SQLITE_STATIC: ns outlives the step, and a copy failing for want of memory
     * would bind NULL: the UPDATE would match no row, and the fold would delete the
     * deltas it never added to the total. */
    sqlite3_bind_text(stmt, 1, ns, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, t->inferences);
    if (has_co2e) {
        sqlite3_bind_double(stmt, 3, t->kg.value);
        sqlite3_bind_double(stmt, 4, t->kg.low);
        sqlite3_bind_double(stmt, 5, t->kg.high);
    }
    rc = db_map(db, sqlite3_step(stmt));
    db_finish(db, stmt);
    return rc;
}

/* Adds the batch to each namespace's total and to the ledger's (''), where a
 * model without a namespace counts only once. */
static enum err fold_totals(struct db *db, bool has_co2e, int64_t limit, struct db_fold_result *out)
{
    sqlite3_stmt *stmt = NULL;
    char ns[128] = "";
    struct total_part ns_sum = {0}, all = {0};
    bool has_ns = false;
    enum err rc = db_cached(db, has_co2e ? sql_by_namespace_co2e : sql_by_namespace, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    sqlite3_bind_int64(stmt, 1, limit);
    while (rc == ERR_OK && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(stmt, 0);
        int64_t delta = sqlite3_column_int64(stmt, 1);
        struct core_range kg = {sqlite3_column_double(stmt, 2), sqlite3_column_double(stmt, 3),
                                sqlite3_column_double(stmt, 4)};
        if (name == NULL)
            name = "";
        if (has_ns && sqlite3_stricmp(ns, name) != 0) {
            if (ns[0] != '\0')
                rc = total_add(db, has_co2e, ns, &ns_sum);
            has_ns = false;
        }
        if (!has_ns) {
            size_t n = strnlen(name, sizeof ns - 1);
            memcpy(ns, name, n);
            ns[n] = '\0';
            ns_sum = (struct total_part){0};
            has_ns = true;
        }
        part_add(&ns_sum, delta, &kg);
        part_add(&all, delta, &kg);
        out->rows++;
    }
    if (rc == ERR_OK && step != SQLITE_DONE)
        rc = db_map(db, step);
    db_finish(db, stmt);
    if (rc == ERR_OK && has_ns && ns[0] != '\0')
        rc = total_add(db, has_co2e, ns, &ns_sum);
    if (rc == ERR_OK && out->rows > 0)
        rc = total_add(db, has_co2e, "", &all);
    out->inferences = all.inferences;
    return rc;
}

static enum err run_limited(struct db *db, const char *sql, int64_t limit)
{
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);

    if (rc != ERR_OK)
        return rc;
    sqlite3_bind_int64(stmt, 1, limit);
    rc = db_map(db, sqlite3_step(stmt));
    db_finish(db, stmt);
    return rc;
}

static bool has_column(struct db *db, const char *table, const char *column)
{
    return sqlite3_table_column_metadata(db->handle, "main", table, column, NULL, NULL, NULL, NULL,
                                         NULL) == SQLITE_OK;
}

bool db_has_fold(struct db *db)
{
    return has_column(db, "inference_pending", "delta");
}

enum err db_fold(struct db *db, size_t limit, struct db_fold_result *out)
{
    struct db_fold_result result = {0, 0};
    int64_t lim = limit == 0 || limit > INT64_MAX ? -1 : (int64_t)limit;
    enum err rc;

    if (out)
        *out = result;
    if (!db_has_fold(db))
        return ERR_OK; /* before schema 9 nothing is ever pending */

    /* The totals first: they read the batch and say whether there is one. The
     * totals' CO2e comes with schema 10, the families' days with 11 (the migration
     * tests fold older ledgers). */
    rc = fold_totals(db, has_column(db, "ledger_totals", "inference_co2e_kg"), lim, &result);
    if (rc == ERR_OK && result.rows > 0)
        rc = run_limited(db, sql_ancestors, lim);
    if (rc == ERR_OK && result.rows > 0 && has_column(db, "family_inference_daily", "count"))
        rc = run_limited(db, sql_family_days, lim);
    if (rc == ERR_OK && result.rows > 0)
        rc = run_limited(db, sql_delete, lim);
    if (out)
        *out = rc == ERR_OK ? result : (struct db_fold_result){0, 0};
    return rc;
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

enum err db_fold_commit(struct db *db, size_t limit, struct db_fold_result *out)
{
    struct db_fold_result result = {0, 0};
    uint64_t start = now_ns();
    enum err rc = db_write_begin(db);

    if (rc == ERR_OK)
        rc = db_fold(db, limit, &result);
    if (rc == ERR_OK)
        rc = db_write_commit_quiet(db);
    else
        db_write_rollback(db);
    if (rc == ERR_OK && result.rows > 0) {
        atomic_fetch_add(&fold_count, 1);
        atomic_fetch_add(&fold_rows, (uint64_t)result.rows);
        atomic_fetch_add(&fold_inferences, (uint64_t)result.inferences);
        atomic_fetch_add(&fold_nanoseconds, now_ns() - start);
    }
    if (out)
        *out = rc == ERR_OK ? result : (struct db_fold_result){0, 0};
    return rc;
}

enum err db_fold_pending(struct db *db, int64_t *rows)
{
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, "SELECT count(*) FROM inference_pending", &stmt);
    int step;

    *rows = 0;
    if (rc != ERR_OK)
        return rc;
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW)
        *rows = sqlite3_column_int64(stmt, 0);
    else
        rc = db_map(db, step);
    db_finish(db, stmt);
    return rc;
}

void db_fold_stats(struct db_fold_stats *out)
{
    out->folds = atomic_load(&fold_count);
    out->rows = atomic_load(&fold_rows);
    out->inferences = atomic_load(&fold_inferences);
    out->seconds = (double)atomic_load(&fold_nanoseconds) / 1e9;
}
