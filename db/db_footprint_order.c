/* SPDX-License-Identifier: Apache-2.0 */
/* The per-model figure the footprint orders of the model lists rank by: the g
 * CO2e of one of a model's inferences (model_ledger.inference_g_each), computed
 * by the core from the model's lineage and written whenever what it rests on may
 * change. The figures the indexes hold are columns derived from it in SQL
 * (migrations/0010_footprint_order.sql). */
#include "db_internal.h"

#include <stdlib.h>

/* The first schema with model_ledger.inference_g_each. */
#define SCHEMA_FOOTPRINT_ORDER 10

/* rc, or ERR_OK for a storage error on a file of an older schema, which has no
 * figure to keep: writes that the migration tests make on such a file with this
 * code go on, and migration 0010 computes the figure from what they wrote. */
static enum err unless_older_schema(struct db *db, enum err rc)
{
    int version = 0;

    if (rc == ERR_DB && db_schema_version(db, &version) == ERR_OK &&
        version < SCHEMA_FOOTPRINT_ORDER)
        return ERR_OK;
    return rc;
}

/* Writes key's inference_g_each from its lineage (NULL while its profile gives no
 * per-inference energy); a row that already holds it is left alone. */
static enum err refresh_one(struct db *db, int64_t key)
{
    static const char sql[] =
        "UPDATE model_ledger SET inference_g_each = ?2, inference_g_each_low = ?3, "
        "inference_g_each_high = ?4 WHERE model_id = ?1 AND (inference_g_each IS NOT ?2 "
        "OR inference_g_each_low IS NOT ?3 OR inference_g_each_high IS NOT ?4)";
    struct core_lineage lineage;
    struct core_range g;
    sqlite3_stmt *stmt = NULL;
    bool has_g;
    enum err rc = db_lineage_load(db, key, &lineage);

    if (rc != ERR_OK)
        return rc;
    has_g = core_lineage_inference_g(&lineage, &g);
    core_lineage_cleanup(&lineage);
    rc = db_cached(db, sql, &stmt);
    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, key);
    if (has_g) {
        db_bind_double(stmt, 2, g.value);
        db_bind_double(stmt, 3, g.low);
        db_bind_double(stmt, 4, g.high);
    }
    rc = db_map(db, sqlite3_step(stmt));
    db_finish(db, stmt);
    return rc;
}

/* Whether the statement sql, binding key as ?1, yields a row. */
static enum err exists(struct db *db, const char *sql, int64_t key, bool *out)
{
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, key);
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW || step == SQLITE_DONE)
        *out = step == SQLITE_ROW;
    else
        rc = db_map(db, step);
    db_finish(db, stmt);
    return rc;
}

/* Steps stmt (already bound) to its end, collecting its first column's keys in
 * *keys (the caller frees it), and ends its use. */
static enum err collect_keys(struct db *db, sqlite3_stmt *stmt, int64_t **keys, size_t *n)
{
    size_t cap = 0;
    enum err rc = ERR_OK;
    int step;

    *keys = NULL;
    *n = 0;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t grown_cap = cap ? cap * 2 : 64;
            int64_t *grown = core_realloc(*keys, grown_cap * sizeof *grown);
            if (grown == NULL) {
                rc = ERR_NO_MEMORY;
                break;
            }
            *keys = grown;
            cap = grown_cap;
        }
        (*keys)[(*n)++] = sqlite3_column_int64(stmt, 0);
    }
    if (rc == ERR_OK && step != SQLITE_DONE)
        rc = db_map(db, step);
    db_finish(db, stmt);
    return rc;
}

enum err db_inference_g_refresh_new(struct db *db, int64_t key)
{
    /* A new model has no profile of its own yet: only an ancestor's can apply. */
    static const char sql[] = "SELECT 1 FROM model_closure c JOIN inference_profiles p "
                              "ON p.model_id = c.ancestor_id WHERE c.descendant_id = ?1 LIMIT 1";
    bool has_profile = false;
    enum err rc = exists(db, sql, key, &has_profile);

    if (rc == ERR_OK && has_profile)
        rc = refresh_one(db, key);
    return unless_older_schema(db, rc);
}

/* key and every model below it. */
static enum err refresh_below(struct db *db, int64_t key)
{
    static const char sql[] = "SELECT descendant_id FROM model_closure WHERE ancestor_id = ?1";
    sqlite3_stmt *stmt = NULL;
    int64_t *keys = NULL;
    size_t n = 0;
    enum err rc = db_cached(db, sql, &stmt);

    if (rc != ERR_OK)
        return rc;
    /* The keys first: each refresh reads the closure again. */
    db_bind_int64(stmt, 1, key);
    rc = collect_keys(db, stmt, &keys, &n);
    for (size_t i = 0; rc == ERR_OK && i < n; i++)
        rc = refresh_one(db, keys[i]);
    free(keys);
    return rc;
}

enum err db_inference_g_refresh_below(struct db *db, int64_t key)
{
    return unless_older_schema(db, refresh_below(db, key));
}

enum err db_inference_g_refresh_after_activity(struct db *db, int64_t key)
{
    /* Only a derived profile that gives no training energy of its own reads the
     * lineage's: one on key or above it applies to key's family, one below key
     * counts key's energy. Any other profile's figure does not move. */
    static const char sql[] =
        "SELECT 1 FROM inference_profiles p WHERE p.source = 'derived' AND p.training_kwh IS NULL "
        "AND (p.model_id IN (SELECT ancestor_id FROM model_closure WHERE descendant_id = ?1) "
        "OR EXISTS (SELECT 1 FROM model_closure c WHERE c.ancestor_id = ?1 "
        "AND c.descendant_id = p.model_id)) LIMIT 1";
    bool is_read = false;
    enum err rc = exists(db, sql, key, &is_read);

    if (rc == ERR_OK && is_read)
        rc = refresh_below(db, key);
    return unless_older_schema(db, rc);
}

enum err db_inference_g_backfill(struct db *db)
{
    sqlite3_stmt *stmt = NULL;
    int64_t *keys = NULL;
    size_t n = 0;
    enum err rc =
        db_prepare(db, "SELECT model_id FROM inference_profiles ORDER BY model_id", &stmt);

    if (rc != ERR_OK)
        return rc;
    rc = collect_keys(db, stmt, &keys, &n);
    /* Below a profile is every model it can apply to; a model below two is
     * written twice, to the same figure. */
    for (size_t i = 0; rc == ERR_OK && i < n; i++)
        rc = refresh_below(db, keys[i]);
    free(keys);
    return rc;
}
