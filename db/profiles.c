/* SPDX-License-Identifier: Apache-2.0 */
/* SQL for inference profiles: one typed row per model that has one. Returns core
 * structs; the answer's JSON form is api's business. */
#include "db_internal.h"

#include <string.h>

static struct core_range column_range(sqlite3_stmt *stmt, int first)
{
    return core_range_make(sqlite3_column_double(stmt, first + 1),
                           sqlite3_column_double(stmt, first),
                           sqlite3_column_double(stmt, first + 2));
}

static bool column_is_set(sqlite3_stmt *stmt, int column)
{
    return sqlite3_column_type(stmt, column) != SQLITE_NULL;
}

void db_profile_from_columns(sqlite3_stmt *stmt, int first, struct core_inference_profile *out)
{
    const char *text = (const char *)sqlite3_column_text(stmt, first + 1);
    const char *intensity_source = (const char *)sqlite3_column_text(stmt, first + 17);
    struct core_intensity *in = &out->intensity;

    memset(out, 0, sizeof *out);
    db_column_copy(stmt, first, out->unit, sizeof out->unit);
    out->source =
        text && strcmp(text, "derived") == 0 ? CORE_INFERENCE_DERIVED : CORE_INFERENCE_MEASURED;
    /* A range the profile does not give reads as zero, as it was parsed. */
    if (column_is_set(stmt, first + 2))
        out->kwh_per_inference = column_range(stmt, first + 2);
    out->has_ratio = column_is_set(stmt, first + 5);
    if (out->has_ratio)
        out->ratio = column_range(stmt, first + 5);
    if (column_is_set(stmt, first + 8))
        out->token_steps = column_range(stmt, first + 8);
    out->has_training_kwh = column_is_set(stmt, first + 11);
    if (out->has_training_kwh)
        out->training_kwh = column_range(stmt, first + 11);
    in->kg_per_kwh = column_range(stmt, first + 14);
    if (intensity_source && strcmp(intensity_source, "table") == 0) {
        in->source = CORE_INTENSITY_TABLE;
        db_column_copy(stmt, first + 18, in->location, sizeof in->location);
        db_column_copy(stmt, first + 19, in->table, sizeof in->table);
        in->row = (unsigned long)sqlite3_column_int64(stmt, first + 20);
        in->year = sqlite3_column_int(stmt, first + 21);
    } else if (intensity_source && strcmp(intensity_source, "explicit") == 0) {
        in->source = CORE_INTENSITY_EXPLICIT;
    } else {
        in->source = CORE_INTENSITY_DEFAULT;
    }
}

enum err db_profile_get(struct db *db, int64_t model_key, struct core_inference_profile *out,
                        bool *has_profile)
{
    static const char sql[] =
        "SELECT " DB_PROFILE_COLUMNS " FROM inference_profiles p WHERE p.model_id = ?1";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    memset(out, 0, sizeof *out);
    *has_profile = false;
    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, model_key);
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        db_profile_from_columns(stmt, 0, out);
        *has_profile = true;
    } else if (step != SQLITE_DONE) {
        rc = db_map(db, step);
    }
    db_finish(db, stmt);
    return rc;
}

/* Binds a range to three parameters from index on, or NULLs when not given. */
static void bind_range(sqlite3_stmt *stmt, int index, bool is_given, struct core_range r)
{
    if (!is_given) {
        for (int i = 0; i < 3; i++)
            db_bind_null(stmt, index + i);
        return;
    }
    db_bind_double(stmt, index, r.value);
    db_bind_double(stmt, index + 1, r.low);
    db_bind_double(stmt, index + 2, r.high);
}

enum err db_profile_set(struct db *db, int64_t model_key,
                        const struct core_inference_profile *profile)
{
    /* The model must exist: the SELECT inserts nothing otherwise. */
    static const char set_sql[] =
        "REPLACE INTO inference_profiles (model_id, unit, source, kwh_per_inference, "
        "kwh_per_inference_low, kwh_per_inference_high, ratio, ratio_low, ratio_high, "
        "token_steps, token_steps_low, token_steps_high, training_kwh, training_kwh_low, "
        "training_kwh_high, intensity_kg_per_kwh, intensity_kg_per_kwh_low, "
        "intensity_kg_per_kwh_high, intensity_source, intensity_location, intensity_table, "
        "intensity_row, intensity_year) "
        "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
        "?19, ?20, ?21, ?22, ?23 WHERE EXISTS (SELECT 1 FROM models WHERE id = ?1)";
    static const char clear_sql[] = "DELETE FROM inference_profiles WHERE model_id = ?1";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, profile ? set_sql : clear_sql, &stmt);

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, model_key);
    if (profile) {
        const struct core_intensity *in = &profile->intensity;
        bool is_derived = profile->source == CORE_INFERENCE_DERIVED;
        bind_range(stmt, 4, !is_derived, profile->kwh_per_inference);
        bind_range(stmt, 7, is_derived && profile->has_ratio, profile->ratio);
        bind_range(stmt, 10, is_derived, profile->token_steps);
        bind_range(stmt, 13, is_derived && profile->has_training_kwh, profile->training_kwh);
        bind_range(stmt, 16, true, in->kg_per_kwh);
        /* A text left NULL by a failed bind would store the row without it while
         * the write answered success. */
        rc = db_bind_text(db, stmt, 2, profile->unit);
        if (rc == ERR_OK)
            rc = db_bind_text(db, stmt, 3, core_inference_source_name(profile->source));
        if (rc == ERR_OK)
            rc = db_bind_text(db, stmt, 19, core_intensity_source_name(in->source));
        if (in->source == CORE_INTENSITY_TABLE) {
            if (rc == ERR_OK)
                rc = db_bind_text(db, stmt, 20, in->location);
            if (rc == ERR_OK)
                rc = db_bind_text(db, stmt, 21, in->table);
            db_bind_int64(stmt, 22, (sqlite3_int64)in->row);
            if (in->year != 0)
                db_bind_int64(stmt, 23, in->year);
        }
    }
    if (rc != ERR_OK) {
        db_finish(db, stmt);
        return rc;
    }
    rc = db_map(db, sqlite3_step(stmt));
    if (rc == ERR_OK && profile && sqlite3_changes(db->handle) == 0)
        rc = ERR_NOT_FOUND;
    db_finish(db, stmt);
    /* Every model below may take its per-inference figure from this profile. */
    if (rc == ERR_OK)
        rc = db_inference_g_refresh_below(db, model_key);
    return rc;
}
