/* SPDX-License-Identifier: Apache-2.0 */
/* SQL for the aggregate reads: the ledger's and a namespace's totals, and the
 * families in a chosen order. Both read rows the writes keep up to date
 * (migrations/0007_aggregates.sql, and 0011_dividend.sql for the sharing
 * dividend), never a pass over the models. */
#include "db_internal.h"

#include <stdint.h>
#include <string.h>

static struct core_range column_range(sqlite3_stmt *stmt, int first)
{
    struct core_range r;

    r.value = sqlite3_column_double(stmt, first);
    r.low = sqlite3_column_double(stmt, first + 1);
    r.high = sqlite3_column_double(stmt, first + 2);
    return r;
}

static void column_kinds(sqlite3_stmt *stmt, int first, struct db_kind_sums *out)
{
    out->training_kg = column_range(stmt, first);
    out->fine_tuning_kg = column_range(stmt, first + 3);
    out->other_kg = column_range(stmt, first + 6);
}

/* Adds the deltas pending in namespace ns ('': the whole ledger) to out's
 * inferences, saturating at the largest integer as the stored total does, and
 * their CO2e at their models' figures now to its inference CO2e. */
static enum err add_pending(struct db *db, const char *ns, struct db_totals *out)
{
    /* The pending table is the outer loop: the OR keeps the planner from the
     * namespace index, and a pass over every model is what an empty table must
     * not cost. */
    static const char sql[] = "SELECT p.delta, p.delta * coalesce(l.inference_g_each, 0) / 1000.0, "
                              "p.delta * coalesce(l.inference_g_each_low, 0) / 1000.0, "
                              "p.delta * coalesce(l.inference_g_each_high, 0) / 1000.0 "
                              "FROM inference_pending p "
                              "CROSS JOIN models m ON m.id = p.model_id "
                              "JOIN model_ledger l ON l.model_id = p.model_id "
                              "WHERE ?1 = '' OR m.namespace = ?1";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    int step = SQLITE_DONE;

    if (rc != ERR_OK)
        return rc;
    rc = db_bind_text(db, stmt, 1, ns);
    while (rc == ERR_OK && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        int64_t delta = sqlite3_column_int64(stmt, 0);
        out->inferences = out->inferences > INT64_MAX - delta ? INT64_MAX : out->inferences + delta;
        out->inference_co2e_kg.value += sqlite3_column_double(stmt, 1);
        out->inference_co2e_kg.low += sqlite3_column_double(stmt, 2);
        out->inference_co2e_kg.high += sqlite3_column_double(stmt, 3);
    }
    if (step != SQLITE_DONE)
        rc = db_map(db, step);
    db_finish(db, stmt);
    return rc;
}

enum err db_totals_get(struct db *db, const char *ns, struct db_totals *out)
{
    static const char sql[] =
        "SELECT models, families, training_co2e_kg, training_co2e_kg_low, "
        "training_co2e_kg_high, fine_tuning_co2e_kg, fine_tuning_co2e_kg_low, "
        "fine_tuning_co2e_kg_high, other_co2e_kg, other_co2e_kg_low, other_co2e_kg_high, "
        "inferences, descendants_without_pretraining, avoided_co2e_kg, avoided_co2e_kg_low, "
        "avoided_co2e_kg_high, inference_co2e_kg, inference_co2e_kg_low, inference_co2e_kg_high "
        "FROM ledger_totals WHERE namespace = ?1";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    memset(out, 0, sizeof *out);
    if (rc != ERR_OK)
        return rc;
    /* A parameter left NULL by a failed bind would answer zeros as if nothing were
     * stored. */
    rc = db_bind_text(db, stmt, 1, ns ? ns : "");
    step = rc == ERR_OK ? sqlite3_step(stmt) : SQLITE_DONE;
    if (step == SQLITE_ROW) {
        out->models = sqlite3_column_int64(stmt, 0);
        out->families = sqlite3_column_int64(stmt, 1);
        column_kinds(stmt, 2, &out->co2e);
        out->inferences = sqlite3_column_int64(stmt, 11);
        out->descendants_without_pretraining = sqlite3_column_int64(stmt, 12);
        out->avoided_kg = column_range(stmt, 13);
        out->inference_co2e_kg = column_range(stmt, 16);
    } else if (step != SQLITE_DONE) {
        rc = db_map(db, step);
    }
    db_finish(db, stmt);
    if (rc == ERR_OK)
        rc = add_pending(db, ns ? ns : "", out);
    return rc;
}

/* A family's inferences with its pending part: exact, though the order by
 * inferences walks the folded sums. */
#define FAMILY_COLUMNS                                                                             \
    "SELECT l.model_id, m.namespace, m.name, l.descendants, "                                      \
    "l.descendant_inferences + " DB_SQL_PENDING_BELOW_SIZED(                                       \
        "l.model_id",                                                                              \
        "l.descendants") ", "                                                                      \
                         "l.family_training_co2e_kg, l.family_training_co2e_kg_low, "              \
                         "l.family_training_co2e_kg_high, l.family_fine_tuning_co2e_kg, "          \
                         "l.family_fine_tuning_co2e_kg_low, l.family_fine_tuning_co2e_kg_high, "   \
                         "l.family_other_co2e_kg, l.family_other_co2e_kg_low, "                    \
                         "l.family_other_co2e_kg_high, "                                           \
                         "l.family_co2e_kg FROM model_ledger l JOIN models m ON m.id = "           \
                         "l.model_id "

/* One statement per order, each walking its own index from the cursor's place:
 * ?1 is the previous page's last root (0 from the start), ?2 the page size + 1.
 * A root past the cursor comes later in the order, or ties with it and has a
 * greater key. */
static const char *const family_sql[] = {
    [DB_FAMILY_BY_KEY] = FAMILY_COLUMNS "WHERE l.is_root = 1 AND l.model_id > ?1 "
                                        "ORDER BY l.model_id LIMIT ?2",
    [DB_FAMILY_BY_CO2E] =
        FAMILY_COLUMNS "LEFT JOIN model_ledger c ON c.model_id = ?1 "
                       "WHERE l.is_root = 1 AND (?1 = 0 OR l.family_co2e_kg < c.family_co2e_kg "
                       "OR (l.family_co2e_kg = c.family_co2e_kg AND l.model_id > ?1)) "
                       "ORDER BY l.family_co2e_kg DESC, l.model_id LIMIT ?2",
    [DB_FAMILY_BY_INFERENCES] = FAMILY_COLUMNS
    "LEFT JOIN model_ledger c ON c.model_id = ?1 "
    "WHERE l.is_root = 1 AND (?1 = 0 OR l.descendant_inferences < c.descendant_inferences "
    "OR (l.descendant_inferences = c.descendant_inferences AND l.model_id > ?1)) "
    "ORDER BY l.descendant_inferences DESC, l.model_id LIMIT ?2",
    [DB_FAMILY_BY_SIZE] =
        FAMILY_COLUMNS "LEFT JOIN model_ledger c ON c.model_id = ?1 "
                       "WHERE l.is_root = 1 AND (?1 = 0 OR l.descendants < c.descendants "
                       "OR (l.descendants = c.descendants AND l.model_id > ?1)) "
                       "ORDER BY l.descendants DESC, l.model_id LIMIT ?2",
};

/* ERR_NOT_FOUND unless key is a root. */
static enum err check_root(struct db *db, int64_t key)
{
    static const char sql[] = "SELECT 1 FROM model_ledger WHERE model_id = ?1 AND is_root = 1";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, key);
    step = sqlite3_step(stmt);
    if (step == SQLITE_DONE)
        rc = ERR_NOT_FOUND;
    else if (step != SQLITE_ROW)
        rc = db_map(db, step);
    db_finish(db, stmt);
    return rc;
}

enum err db_family_list(struct db *db, enum db_family_order order, int64_t after_key, size_t limit,
                        struct db_family_row *items, size_t *n_items, bool *has_more)
{
    sqlite3_stmt *stmt = NULL;
    size_t n = 0;
    enum err rc = ERR_OK;
    int step;

    *n_items = 0;
    *has_more = false;
    if (after_key > 0 && order != DB_FAMILY_BY_KEY)
        rc = check_root(db, after_key);
    if (rc == ERR_OK)
        rc = db_cached(db, family_sql[order], &stmt);
    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, after_key);
    db_bind_int64(stmt, 2, (sqlite3_int64)limit + 1);
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct db_family_row *f = &items[n];
        if (n == limit) {
            *has_more = true;
            break;
        }
        memset(f, 0, sizeof *f);
        f->key = sqlite3_column_int64(stmt, 0);
        db_column_copy(stmt, 1, f->id.ns, sizeof f->id.ns);
        db_column_copy(stmt, 2, f->id.name, sizeof f->id.name);
        f->size = sqlite3_column_int64(stmt, 3);
        f->inferences = sqlite3_column_int64(stmt, 4);
        column_kinds(stmt, 5, &f->co2e);
        f->co2e_kg = sqlite3_column_double(stmt, 14);
        n++;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = db_map(db, step);
    db_finish(db, stmt);
    *n_items = n;
    return rc;
}
