/* SPDX-License-Identifier: Apache-2.0 */
/* A family's inferences by day and their CO2e (GET …/series?scope=family), read
 * from the family's daily counts by representative (family_inference_daily,
 * migrations/0011_dividend.sql) plus the deltas still pending, each priced at its
 * representative's CO2e per inference now: the price the members' own series and
 * footprints give their counts, so a family's series is the sum of its members'. */
#include "db_internal.h"

enum err db_family_daily_series(struct db *db, int64_t model_key, const char *from, const char *to,
                                struct db_family_day *days, size_t cap, size_t *n_out)
{
    /* The pending part walks the pending table (the closure row of the pair is a
     * key lookup): next to nothing once the writer has folded. */
    static const char sql[] =
        "SELECT x.day, sum(x.n), total(x.n * coalesce(r.inference_g_each, 0)) / 1000.0, "
        "total(x.n * coalesce(r.inference_g_each_low, 0)) / 1000.0, "
        "total(x.n * coalesce(r.inference_g_each_high, 0)) / 1000.0 "
        "FROM (SELECT f.day AS day, f.rep_id AS rep, f.count AS n FROM family_inference_daily f "
        "WHERE f.ancestor_id = ?1 AND f.day BETWEEN ?2 AND ?3 "
        "UNION ALL SELECT p.day, l.usage_rep_id, p.delta FROM inference_pending p "
        "CROSS JOIN model_closure c ON c.ancestor_id = ?1 AND c.descendant_id = p.model_id "
        "JOIN model_ledger l ON l.model_id = p.model_id WHERE p.day BETWEEN ?2 AND ?3) x "
        "LEFT JOIN model_ledger r ON r.model_id = x.rep GROUP BY x.day ORDER BY x.day LIMIT ?4";
    sqlite3_stmt *stmt = NULL;
    size_t n = 0;
    enum err rc = db_cached(db, sql, &stmt);
    int step = SQLITE_DONE;

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, model_key);
    db_bind_int64(stmt, 4, (sqlite3_int64)cap);
    rc = db_bind_text(db, stmt, 2, from);
    if (rc == ERR_OK)
        rc = db_bind_text(db, stmt, 3, to);
    while (rc == ERR_OK && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct db_family_day *d = &days[n++];
        db_column_copy(stmt, 0, d->day, sizeof d->day);
        d->inferences = sqlite3_column_int64(stmt, 1);
        d->co2e_kg.value = sqlite3_column_double(stmt, 2);
        d->co2e_kg.low = sqlite3_column_double(stmt, 3);
        d->co2e_kg.high = sqlite3_column_double(stmt, 4);
    }
    if (step != SQLITE_DONE)
        rc = db_map(db, step);
    db_finish(db, stmt);
    if (rc == ERR_OK)
        *n_out = n;
    return rc;
}
