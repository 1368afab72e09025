/* SPDX-License-Identifier: Apache-2.0 */
/* The fold: an increment writes its own model's rows and records its delta in
 * inference_pending; the fold adds those deltas to the family sums of each
 * model's proper ancestors and to the namespace and ledger totals, then deletes
 * them, a batch at a time. Reads add what is still pending, so no answer depends
 * on when the fold ran. */
#include "db_internal.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* The batch: the first `limit` pending rows in key order (-1: every row). Each
 * statement of one fold selects the same rows, since only the fold's own
 * transaction writes in between. */
#define BATCH "(SELECT model_id, delta FROM inference_pending ORDER BY model_id LIMIT ?1)"

/* A proper ancestor's share of the batch: one row per ancestor, whatever the
 * number of its descendants in the batch. The sums fit: each is part of a family
 * sum every increment checked against INT64_MAX. */
static const char sql_ancestors[] =
    "UPDATE model_ledger SET descendant_inferences = descendant_inferences + f.d "
    "FROM (SELECT c.ancestor_id AS a, sum(p.delta) AS d FROM " BATCH " p "
    "CROSS JOIN model_closure c ON c.descendant_id = p.model_id "
    "WHERE c.ancestor_id <> p.model_id GROUP BY c.ancestor_id) f "
    "WHERE model_ledger.model_id = f.a";

/* The batch by namespace (models.namespace is NOCASE, as ledger_totals' key). */
static const char sql_by_namespace[] =
    "SELECT m.namespace, p.delta FROM " BATCH " p JOIN models m ON m.id = p.model_id "
    "ORDER BY m.namespace";

/* A total saturates at the largest integer rather than refusing a count each
 * family could hold on its own (as migration 0007's triggers did). */
static const char sql_total_add[] =
    "UPDATE ledger_totals SET inferences = iif(inferences > 9223372036854775807 - ?2, "
    "9223372036854775807, inferences + ?2) WHERE namespace = ?1";

static const char sql_delete[] =
    "DELETE FROM inference_pending WHERE model_id IN (SELECT model_id FROM " BATCH ")";

static _Atomic uint64_t fold_count;
static _Atomic uint64_t fold_rows;
static _Atomic uint64_t fold_inferences;
static _Atomic uint64_t fold_nanoseconds;

static int64_t add_saturating(int64_t a, int64_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static enum err total_add(struct db *db, const char *ns, int64_t delta)
{
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql_total_add, &stmt);

    if (rc != ERR_OK)
        return rc;
    sqlite3_bind_text(stmt, 1, ns, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 2, delta);
    rc = db_map(db, sqlite3_step(stmt));
    db_finish(db, stmt);
    return rc;
}

/* Adds the batch to each namespace's total and to the ledger's (''), where a
 * model without a namespace counts only once. */
static enum err fold_totals(struct db *db, int64_t limit, struct db_fold_result *out)
{
    sqlite3_stmt *stmt = NULL;
    char ns[128] = "";
    int64_t ns_sum = 0, all = 0;
    bool has_ns = false;
    enum err rc = db_cached(db, sql_by_namespace, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    sqlite3_bind_int64(stmt, 1, limit);
    while (rc == ERR_OK && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(stmt, 0);
        int64_t delta = sqlite3_column_int64(stmt, 1);
        if (name == NULL)
            name = "";
        if (has_ns && sqlite3_stricmp(ns, name) != 0) {
            if (ns[0] != '\0')
                rc = total_add(db, ns, ns_sum);
            has_ns = false;
        }
        if (!has_ns) {
            size_t n = strnlen(name, sizeof ns - 1);
            memcpy(ns, name, n);
            ns[n] = '\0';
            ns_sum = 0;
            has_ns = true;
        }
        ns_sum = add_saturating(ns_sum, delta);
        all = add_saturating(all, delta);
        out->rows++;
    }
    if (rc == ERR_OK && step != SQLITE_DONE)
        rc = db_map(db, step);
    db_finish(db, stmt);
    if (rc == ERR_OK && has_ns && ns[0] != '\0')
        rc = total_add(db, ns, ns_sum);
    if (rc == ERR_OK && out->rows > 0)
        rc = total_add(db, "", all);
    out->inferences = all;
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

bool db_has_fold(struct db *db)
{
    return sqlite3_table_column_metadata(db->handle, "main", "inference_pending", "delta", NULL,
                                         NULL, NULL, NULL, NULL) == SQLITE_OK;
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

    /* The totals first: they read the batch and say whether there is one. */
    rc = fold_totals(db, lim, &result);
    if (rc == ERR_OK && result.rows > 0)
        rc = run_limited(db, sql_ancestors, lim);
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
