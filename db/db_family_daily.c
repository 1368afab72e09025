/* SPDX-License-Identifier: Apache-2.0 */
/* A family's inferences by day and their CO2e (family_inference_daily, kept by the
 * triggers of migrations/0010_footprint_order.sql): the reads of a family series,
 * and the recomputations a lineage edit and the migration need. */
#include "db_internal.h"

enum err db_family_daily_series(struct db *db, int64_t model_key, const char *from, const char *to,
                                struct db_family_day *days, size_t cap, size_t *n_out)
{
    static const char sql[] =
        "SELECT day, inferences, co2e_kg, co2e_kg_low, co2e_kg_high FROM family_inference_daily "
        "WHERE model_id = ?1 AND day BETWEEN ?2 AND ?3 ORDER BY day LIMIT ?4";
    sqlite3_stmt *stmt = NULL;
    size_t n = 0;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    sqlite3_bind_int64(stmt, 1, model_key);
    sqlite3_bind_text(stmt, 2, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, to, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, (sqlite3_int64)cap);
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
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

/* Each member's days, priced at its CO2e per inference now. */
#define FAMILY_DAYS_OF(ancestor)                                                                   \
    "SELECT " ancestor ", d.day, sum(d.count), total(d.count * coalesce(l.inference_g_each, 0)) "  \
    "/ 1000.0, total(d.count * coalesce(l.inference_g_each_low, 0)) / 1000.0, "                    \
    "total(d.count * coalesce(l.inference_g_each_high, 0)) / 1000.0 "                              \
    "FROM model_closure c JOIN inference_daily d ON d.model_id = c.descendant_id "                 \
    "JOIN model_ledger l ON l.model_id = d.model_id "

enum err db_family_daily_refresh(struct db *db, int64_t key)
{
    static const char sql[] =
        "DELETE FROM family_inference_daily WHERE model_id = ?1;"
        "INSERT INTO family_inference_daily (model_id, day, inferences, co2e_kg, co2e_kg_low, "
        "co2e_kg_high) " FAMILY_DAYS_OF("?1") "WHERE c.ancestor_id = ?1 GROUP BY d.day;";

    return db_exec_script(db, sql, key);
}

enum err db_family_daily_backfill(struct db *db)
{
    return db_exec(db, "INSERT INTO family_inference_daily (model_id, day, inferences, co2e_kg, "
                       "co2e_kg_low, co2e_kg_high) " FAMILY_DAYS_OF(
                           "c.ancestor_id") "GROUP BY c.ancestor_id, d.day");
}
