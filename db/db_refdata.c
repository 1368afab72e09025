/* SPDX-License-Identifier: Apache-2.0 */
/* SQL for the reference data of migration 3: loading the embedded hardware and
 * region tables (CSV through core/refdata.c, global_energy_mix.json through
 * SQLite's json_each), lookups with their precedence and suggestions, filtered
 * listings and the load report. Returns core structs; no SQLite type escapes. */
#include "db_internal.h"
#include "edit_distance.h"
#include "embedded.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern const struct embedded_file db_refdata[];
extern const size_t db_refdata_count;

#define ENERGY_MIX_PATH "codecarbon/global_energy_mix.json"
#define ISO_3166_PATH   "iso-codes/iso_3166-1.json"
#define ENERGY_MIX_ATTRIBUTION                                                                     \
    "CodeCarbon (mlco2/codecarbon), global_energy_mix.json, from the Our World in Data "           \
    "energy dataset (CC BY 4.0)"

/* One loaded file. rank is the precedence documented in 0003_reference_data.sql:
 * among rows sharing a code or name, the lowest rank answers. */
struct source {
    const char *path; /* relative to reference-data/; also the stored table name */
    bool is_csv;
    enum core_refdata_table table; /* CSV only */
    int rank;
};

static const struct source sources[] = {
    {"green-algorithms/TDP_gpu.csv", true, CORE_REFDATA_GA_TDP_GPU, 1},
    {"green-algorithms/TDP_cpu.csv", true, CORE_REFDATA_GA_TDP_CPU, 2},
    {"mlco2-impact/gpus.csv", true, CORE_REFDATA_MLCO2_GPUS, 3},
    {"google-cloud-region-carbon/2024.csv", true, CORE_REFDATA_GCP_2024, 1},
    {ENERGY_MIX_PATH, false, CORE_REFDATA_TABLE_COUNT, 2},
    {"green-algorithms/CI_aggregated.csv", true, CORE_REFDATA_GA_CI, 3},
    {"mlco2-impact/impact.csv", true, CORE_REFDATA_MLCO2_IMPACT, 4},
};

#define N_SOURCES (sizeof sources / sizeof sources[0])

/* Leading words a hardware name may be given without ("NVIDIA Tesla V100" is
 * found as "V100"). */
static const char *const vendor_words[] = {"nvidia", "tesla", "geforce", "quadro", "amd",
                                           "radeon", "intel", "google",  NULL};

/* ---- names and codes ---- */

static bool is_vendor_word(const char *word, size_t len)
{
    for (size_t i = 0; vendor_words[i]; i++)
        if (strlen(vendor_words[i]) == len && memcmp(vendor_words[i], word, len) == 0)
            return true;
    return false;
}

/* The lower-case letters and digits of text into out ("" when none fit or there
 * are none). With drop_vendor, leading vendor words are left out unless nothing
 * else remains. */
static void name_key(const char *text, bool drop_vendor, char *out, size_t out_len)
{
    char word[96];
    size_t n = 0, w = 0;
    bool is_leading = true;

    assert(out_len > 0);
    for (const char *p = text;; p++) {
        if (*p && isalnum((unsigned char)*p)) {
            if (w + 1 < sizeof word)
                word[w++] = (char)tolower((unsigned char)*p);
            continue;
        }
        if (w > 0) {
            if (!(drop_vendor && is_leading && is_vendor_word(word, w))) {
                is_leading = false;
                if (n + w >= out_len) {
                    out[0] = '\0';
                    return;
                }
                memcpy(out + n, word, w);
                n += w;
            }
            w = 0;
        }
        if (*p == '\0')
            break;
    }
    out[n] = '\0';
    if (n == 0 && drop_vendor)
        name_key(text, false, out, out_len);
}

/* How far a suggestion may be from what was asked: a third of it, at least 2. */
static size_t suggestion_limit(const char *asked)
{
    size_t limit = strlen(asked) / 3;

    return limit < 2 ? 2 : limit;
}

/* The static table name of a stored one (core_hardware.table, core_region.table). */
static const char *static_table(const char *stored)
{
    for (size_t i = 0; i < N_SOURCES; i++)
        if (strcmp(sources[i].path, stored) == 0)
            return sources[i].path;
    return "unknown";
}

/* ---- loading ---- */

struct loader {
    struct db *db;
    const struct source *source;
    sqlite3_stmt *insert;
    sqlite3_stmt *skip;
    enum err rc; /* first failure of a callback */
};

static const struct embedded_file *embedded(const char *path)
{
    static const char prefix[] = "reference-data/";

    for (size_t i = 0; i < db_refdata_count; i++) {
        const char *p = db_refdata[i].path;
        if (strncmp(p, prefix, sizeof prefix - 1) == 0 && strcmp(p + sizeof prefix - 1, path) == 0)
            return &db_refdata[i];
    }
    return NULL;
}

static void bind_optional(sqlite3_stmt *stmt, int index, bool has, double value)
{
    if (has)
        db_bind_double(stmt, index, value);
    else
        db_bind_null(stmt, index);
}

/* Steps stmt once unless a bind failed (bound), and makes it ready for the next
 * row either way. */
static enum err step_once(struct db *db, sqlite3_stmt *stmt, enum err bound)
{
    enum err rc = bound == ERR_OK ? db_map(db, sqlite3_step(stmt)) : bound;

    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return rc;
}

static enum err on_hardware(void *ctx, const struct core_hardware *hw)
{
    struct loader *l = ctx;
    char key[96], alias[96];
    sqlite3_stmt *s = l->insert;
    enum err rc;

    name_key(hw->name, false, key, sizeof key);
    name_key(hw->name, true, alias, sizeof alias);
    db_bind_double(s, 5, hw->tdp_w);
    bind_optional(s, 6, hw->has_tdp_per_core_w, hw->tdp_per_core_w);
    bind_optional(s, 7, hw->has_n_cores, hw->n_cores);
    bind_optional(s, 8, hw->has_peak_fp32, hw->peak_fp32_flops_per_s);
    bind_optional(s, 9, hw->has_peak_fp16, hw->peak_fp16_flops_per_s);
    bind_optional(s, 10, hw->has_memory_gb, hw->memory_gb);
    db_bind_int64(s, 12, (sqlite3_int64)hw->row);
    db_bind_int64(s, 13, l->source->rank);
    rc = db_bind_text(l->db, s, 1, hw->name);
    if (rc == ERR_OK)
        rc = db_bind_text(l->db, s, 2, key);
    if (rc == ERR_OK)
        rc = db_bind_text(l->db, s, 3, alias);
    if (rc == ERR_OK)
        rc = db_bind_text(l->db, s, 4, core_hardware_kind_name(hw->kind));
    if (rc == ERR_OK)
        rc = db_bind_text(l->db, s, 11, l->source->path);
    if (rc == ERR_OK)
        rc = db_bind_text(l->db, s, 14, hw->source);
    return step_once(l->db, s, rc);
}

/* kind and provider of a region code: "gcp:x" is a cloud region of gcp, "WORLD"
 * the world, "US-CA" a subdivision, anything else a country. */
static const char *region_kind(const char *code, char *provider, size_t provider_len)
{
    const char *colon = strchr(code, ':');

    provider[0] = '\0';
    if (colon) {
        snprintf(provider, provider_len, "%.*s", (int)(colon - code), code);
        return "cloud";
    }
    if (strcmp(code, "WORLD") == 0)
        return "world";
    return strchr(code, '-') ? "subdivision" : "country";
}

static enum err on_region(void *ctx, const struct core_region *r)
{
    struct loader *l = ctx;
    char provider[24];
    const char *kind = region_kind(r->code, provider, sizeof provider);
    sqlite3_stmt *s = l->insert;
    enum err rc;

    db_bind_double(s, 5, r->intensity_g_per_kwh);
    if (r->year > 0)
        db_bind_int64(s, 6, r->year);
    else
        db_bind_null(s, 6);
    db_bind_int64(s, 8, (sqlite3_int64)r->row);
    db_bind_int64(s, 9, l->source->rank);
    rc = db_bind_text(l->db, s, 1, r->code);
    if (rc == ERR_OK)
        rc = db_bind_text(l->db, s, 2, r->name);
    if (rc == ERR_OK)
        rc = db_bind_text(l->db, s, 3, kind);
    if (rc == ERR_OK)
        rc = db_bind_text_or_null(l->db, s, 4, provider);
    if (rc == ERR_OK)
        rc = db_bind_text(l->db, s, 7, l->source->path);
    if (rc == ERR_OK)
        rc = db_bind_text(l->db, s, 10, r->source);
    return step_once(l->db, s, rc);
}

static void on_skip(void *ctx, unsigned long line, const struct core_field_error *reason)
{
    struct loader *l = ctx;
    sqlite3_stmt *s = l->skip;
    enum err rc;

    if (l->rc != ERR_OK)
        return;
    db_bind_int64(s, 2, (sqlite3_int64)line);
    rc = db_bind_text(l->db, s, 1, l->source->path);
    if (rc == ERR_OK)
        rc = db_bind_text(l->db, s, 3, reason->pointer);
    if (rc == ERR_OK)
        rc = db_bind_text(l->db, s, 4, reason->message[0] ? reason->message : "invalid row");
    l->rc = step_once(l->db, s, rc);
}

static enum err load_csv(struct loader *l, const struct embedded_file *file, size_t *n_loaded,
                         size_t *n_skipped)
{
    static const char hardware_sql[] =
        "INSERT INTO hardware (name, name_key, alias_key, kind, tdp_w, tdp_per_core_w, n_cores, "
        "peak_fp32_flops_per_s, peak_fp16_flops_per_s, memory_gb, source_table, source_row, "
        "rank, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
    static const char region_sql[] =
        "INSERT INTO regions (code, name, kind, provider, intensity_g_per_kwh, year, "
        "source_table, source_row, rank, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
    const struct core_refdata_table_info *info = core_refdata_table_info(l->source->table);
    bool is_hardware = info->kind == CORE_REFDATA_HARDWARE;
    struct core_refdata_stats stats = {0};
    struct core_field_error fe;
    enum err rc;

    core_field_error_clear(&fe);
    rc = db_prepare(l->db, is_hardware ? hardware_sql : region_sql, &l->insert);
    if (rc != ERR_OK)
        return rc;
    rc = core_refdata_parse(l->source->table, (const char *)file->data, file->len,
                            is_hardware ? on_hardware : NULL, is_hardware ? NULL : on_region,
                            on_skip, l, &stats, &fe);
    if (rc == ERR_INVALID_INPUT) {
        snprintf(l->db->last_error, sizeof l->db->last_error, "reference-data/%s: %s",
                 l->source->path, fe.message);
        rc = ERR_INTERNAL;
    }
    if (rc == ERR_OK)
        rc = l->rc;
    *n_loaded = stats.n_loaded;
    *n_skipped = stats.n_skipped;
    return rc;
}

/* global_energy_mix.json: one object per ISO 3166-1 alpha-3 key. rows finds each
 * key's line in the file (the line of `"FRA": {`) and the first problem of the
 * entry as "field|reason", NULL for a valid one. ?1 is the file, ?2 its table
 * name, ?3 its rank (in the statement of the rows only). */
#define ENERGY_MIX_ROWS                                                                            \
    "WITH located AS ("                                                                            \
    "  SELECT key, value, instr(?1, '\"' || key || '\": {') AS at FROM json_each(?1)), "           \
    "rows AS ("                                                                                    \
    "  SELECT key, value,"                                                                         \
    "    CASE WHEN at = 0 THEN 0"                                                                  \
    "         ELSE at - length(replace(substr(?1, 1, at), char(10), '')) + 1 END AS line,"         \
    "    CASE"                                                                                     \
    "      WHEN json_type(value) IS NOT 'object' THEN '|not an object'"                            \
    "      WHEN NOT (length(key) = 3 AND key GLOB '[A-Z][A-Z][A-Z]')"                              \
    "        THEN '|key is not an ISO 3166-1 alpha-3 code'"                                        \
    "      WHEN at = 0 THEN '|key not found at the start of an entry'"                             \
    "      WHEN json_extract(value, '$.iso_code') IS NOT key THEN '/iso_code|differs from the "    \
    "key'"                                                                                         \
    "      WHEN coalesce(json_type(value, '$.carbon_intensity'), '') NOT IN ('integer', 'real')"   \
    "        THEN '/carbon_intensity|missing or not a number'"                                     \
    "      WHEN json_extract(value, '$.carbon_intensity') NOT BETWEEN 0 AND 2000"                  \
    "        THEN '/carbon_intensity|outside 0-2000 g/kWh'"                                        \
    "      WHEN coalesce(json_type(value, '$.year'), '') <> 'integer'"                             \
    "        THEN '/year|missing or not a whole number'"                                           \
    "      WHEN json_extract(value, '$.year') NOT BETWEEN 1990 AND 2100"                           \
    "        THEN '/year|outside 1990-2100'"                                                       \
    "      WHEN coalesce(json_type(value, '$.country_name'), '') <> 'text'"                        \
    "        OR length(json_extract(value, '$.country_name')) NOT BETWEEN 1 AND 127"               \
    "        THEN '/country_name|missing, or longer than 127 characters'"                          \
    "    END AS problem"                                                                           \
    "  FROM located) "

static enum err load_energy_mix(struct loader *l, const struct embedded_file *file,
                                size_t *n_loaded, size_t *n_skipped)
{
    static const char *const sql[2] = {
        ENERGY_MIX_ROWS
        "INSERT INTO regions (code, name, kind, provider, intensity_g_per_kwh, year, "
        "source_table, source_row, rank, source) "
        "SELECT key, json_extract(value, '$.country_name'), 'country', NULL, "
        "json_extract(value, '$.carbon_intensity'), json_extract(value, '$.year'), ?2, line, ?3, "
        "'Our World in Data energy dataset, data year ' || json_extract(value, '$.year') "
        "FROM rows WHERE problem IS NULL ORDER BY line",
        ENERGY_MIX_ROWS
        "INSERT INTO reference_skips (source_table, source_row, field, reason) "
        "SELECT ?2, line, substr(problem, 1, instr(problem, '|') - 1), "
        "substr(problem, instr(problem, '|') + 1) FROM rows WHERE problem IS NOT NULL "
        "ORDER BY line"};
    size_t *counts[2] = {n_loaded, n_skipped};
    enum err rc = ERR_OK;

    for (size_t i = 0; rc == ERR_OK && i < 2; i++) {
        sqlite3_stmt *stmt = NULL;
        rc = db_prepare(l->db, sql[i], &stmt);
        if (rc != ERR_OK)
            break;
        if (i == 0) /* the skips have no rank */
            db_bind_int64(stmt, 3, l->source->rank);
        rc = db_bind_text_len(l->db, stmt, 1, (const char *)file->data, file->len);
        if (rc == ERR_OK)
            rc = db_bind_text(l->db, stmt, 2, l->source->path);
        if (rc == ERR_OK)
            rc = db_map(l->db, sqlite3_step(stmt));
        *counts[i] = (size_t)sqlite3_changes(l->db->handle);
        sqlite3_finalize(stmt);
    }
    return rc;
}

/* The reference_loads row of a source, before its rows (they refer to it). */
static enum err insert_load(struct db *db, const struct source *src)
{
    static const char sql[] = "INSERT INTO reference_loads (source_table, kind, rank, licence, "
                              "attribution) VALUES (?1, ?2, ?3, ?4, ?5)";
    const struct core_refdata_table_info *info =
        src->is_csv ? core_refdata_table_info(src->table) : NULL;
    bool is_hardware = info && info->kind == CORE_REFDATA_HARDWARE;
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_prepare(db, sql, &stmt);

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 3, src->rank);
    rc = db_bind_text(db, stmt, 1, src->path);
    if (rc == ERR_OK)
        rc = db_bind_text(db, stmt, 2, is_hardware ? "hardware" : "regions");
    if (rc == ERR_OK)
        rc = db_bind_text(db, stmt, 4, info ? info->licence : "MIT");
    if (rc == ERR_OK)
        rc = db_bind_text(db, stmt, 5, info ? info->attribution : ENERGY_MIX_ATTRIBUTION);
    if (rc == ERR_OK)
        rc = db_map(db, sqlite3_step(stmt));
    sqlite3_finalize(stmt);
    return rc;
}

static enum err update_counts(struct db *db, const struct source *src, size_t n_loaded,
                              size_t n_skipped)
{
    static const char sql[] =
        "UPDATE reference_loads SET rows_loaded = ?2, rows_skipped = ?3 WHERE source_table = ?1";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_prepare(db, sql, &stmt);

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 2, (sqlite3_int64)n_loaded);
    db_bind_int64(stmt, 3, (sqlite3_int64)n_skipped);
    rc = db_bind_text(db, stmt, 1, src->path);
    if (rc == ERR_OK)
        rc = db_map(db, sqlite3_step(stmt));
    sqlite3_finalize(stmt);
    return rc;
}

static enum err load_source(struct db *db, const struct source *src)
{
    static const char skip_sql[] = "INSERT INTO reference_skips (source_table, source_row, field, "
                                   "reason) VALUES (?1, ?2, ?3, ?4)";
    const struct embedded_file *file = embedded(src->path);
    struct loader l = {.db = db, .source = src, .rc = ERR_OK};
    size_t n_loaded = 0, n_skipped = 0;
    enum err rc;

    if (file == NULL) {
        snprintf(db->last_error, sizeof db->last_error, "reference-data/%s is not embedded",
                 src->path);
        return ERR_INTERNAL;
    }
    assert(!src->is_csv || strcmp(core_refdata_table_info(src->table)->path, src->path) == 0);
    rc = insert_load(db, src);
    if (rc == ERR_OK)
        rc = db_prepare(db, skip_sql, &l.skip);
    if (rc == ERR_OK && src->is_csv)
        rc = load_csv(&l, file, &n_loaded, &n_skipped);
    else if (rc == ERR_OK)
        rc = load_energy_mix(&l, file, &n_loaded, &n_skipped);
    if (rc == ERR_OK)
        rc = update_counts(db, src, n_loaded, n_skipped);
    sqlite3_finalize(l.insert);
    sqlite3_finalize(l.skip);
    return rc;
}

enum err db_refdata_load(struct db *db)
{
    enum err rc = ERR_OK;

    assert(db);
    for (size_t i = 0; rc == ERR_OK && i < N_SOURCES; i++)
        rc = load_source(db, &sources[i]);
    return rc;
}

/* ---- regions ---- */

/* A row is preferred when no row that a lookup of its code would also reach ranks
 * before it: the same code, or for a country the same country under its other ISO
 * code (DE and DEU). country_code() is registered by countries_ready. */
#define REGION_SELECT                                                                              \
    "SELECT r.id, r.code, r.name, r.kind, r.provider, r.intensity_g_per_kwh, r.year, "             \
    "r.source_table, r.source_row, r.source, l.licence, l.attribution, "                           \
    "NOT EXISTS (SELECT 1 FROM regions o WHERE (o.code = r.code OR (r.kind = 'country' AND "       \
    "o.kind = 'country' AND o.code IN (country_code(r.code, 2), country_code(r.code, 3)))) "       \
    "AND (o.rank < r.rank OR (o.rank = r.rank AND o.source_row < r.source_row))) "                 \
    "FROM regions r JOIN reference_loads l ON l.source_table = r.source_table "

/* ---- countries (ISO 3166-1) ---- */

static void copy_column(sqlite3_stmt *stmt, int column, char *out, size_t out_len)
{
    const unsigned char *text = sqlite3_column_text(stmt, column);

    snprintf(out, out_len, "%s", text ? (const char *)text : "");
}

/* country_code(text, width): the alpha-2 (width 2) or alpha-3 (width 3) code of
 * the country text spells, NULL when it spells none. Lets SQL join the tables that
 * key a country by alpha-2 with those that key it by alpha-3. */
static void country_code_fn(sqlite3_context *context, int argc, sqlite3_value **argv)
{
    const struct db *db = sqlite3_user_data(context);
    const unsigned char *text = sqlite3_value_text(argv[0]);
    enum core_location_match how;
    const struct core_country *c;

    (void)argc; /* registered with two arguments */
    if (text == NULL) {
        sqlite3_result_null(context);
        return;
    }
    c = core_country_match(db->countries, db->n_countries, (const char *)text, &how);
    if (c == NULL)
        sqlite3_result_null(context);
    else
        sqlite3_result_text(context, sqlite3_value_int(argv[1]) == 2 ? c->alpha2 : c->alpha3, -1,
                            SQLITE_TRANSIENT);
}

/* Reads the embedded ISO 3166-1 list into db->countries once per connection and
 * registers country_code() beside it. ERR_INTERNAL when the file is missing or
 * holds no country. */
static enum err countries_ready(struct db *db)
{
    static const char sql[] =
        "SELECT json_extract(value, '$.alpha_2'), json_extract(value, '$.alpha_3'), "
        "json_extract(value, '$.numeric'), json_extract(value, '$.name'), "
        "json_extract(value, '$.common_name'), json_extract(value, '$.official_name') "
        "FROM json_each(?1, '$.\"3166-1\"') ORDER BY key";
    const struct embedded_file *file = embedded(ISO_3166_PATH);
    struct core_country *countries = NULL;
    size_t n = 0;
    sqlite3_stmt *stmt = NULL;
    enum err rc;
    int step;

    if (db->countries)
        return ERR_OK;
    if (file == NULL) {
        snprintf(db->last_error, sizeof db->last_error, "reference-data/%s is not embedded",
                 ISO_3166_PATH);
        return ERR_INTERNAL;
    }
    rc = db_prepare(db, sql, &stmt);
    if (rc != ERR_OK)
        return rc;
    rc = db_bind_text_len(db, stmt, 1, (const char *)file->data, file->len);
    step = SQLITE_DONE;
    while (rc == ERR_OK && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct core_country *grown = realloc(countries, (n + 1) * sizeof *countries);
        if (grown == NULL) {
            rc = ERR_NO_MEMORY;
            break;
        }
        countries = grown;
        copy_column(stmt, 0, countries[n].alpha2, sizeof countries[n].alpha2);
        copy_column(stmt, 1, countries[n].alpha3, sizeof countries[n].alpha3);
        copy_column(stmt, 2, countries[n].numeric, sizeof countries[n].numeric);
        copy_column(stmt, 3, countries[n].name, sizeof countries[n].name);
        copy_column(stmt, 4, countries[n].common_name, sizeof countries[n].common_name);
        copy_column(stmt, 5, countries[n].official_name, sizeof countries[n].official_name);
        n++;
    }
    if (rc == ERR_OK && step != SQLITE_DONE)
        rc = db_map(db, step);
    sqlite3_finalize(stmt);
    if (rc == ERR_OK && n == 0) {
        snprintf(db->last_error, sizeof db->last_error, "reference-data/%s lists no country",
                 ISO_3166_PATH);
        rc = ERR_INTERNAL;
    }
    if (rc == ERR_OK)
        rc = db_map(db, sqlite3_create_function(db->handle, "country_code", 2,
                                                SQLITE_UTF8 | SQLITE_DETERMINISTIC, db,
                                                country_code_fn, NULL, NULL));
    if (rc != ERR_OK) {
        free(countries);
        return rc;
    }
    db->countries = countries;
    db->n_countries = n;
    return ERR_OK;
}

enum err db_country_find(struct db *db, const char *text, struct core_country *out,
                         enum core_location_match *how)
{
    const struct core_country *c;
    enum err rc;

    assert(db && text && out && how);
    rc = countries_ready(db);
    if (rc != ERR_OK)
        return rc;
    c = core_country_match(db->countries, db->n_countries, text, how);
    if (c == NULL)
        return ERR_NOT_FOUND;
    *out = *c;
    return ERR_OK;
}

static void read_region(sqlite3_stmt *stmt, struct db_region *out)
{
    char table[48];

    memset(out, 0, sizeof *out);
    out->id = sqlite3_column_int64(stmt, 0);
    db_column_copy(stmt, 1, out->region.code, sizeof out->region.code);
    db_column_copy(stmt, 2, out->region.name, sizeof out->region.name);
    db_column_copy(stmt, 3, out->kind, sizeof out->kind);
    db_column_copy(stmt, 4, out->provider, sizeof out->provider);
    out->region.intensity_g_per_kwh = sqlite3_column_double(stmt, 5);
    out->region.year = sqlite3_column_int(stmt, 6); /* NULL reads as 0: unknown */
    db_column_copy(stmt, 7, table, sizeof table);
    out->region.table = static_table(table);
    out->region.row = (unsigned long)sqlite3_column_int64(stmt, 8);
    db_column_copy(stmt, 9, out->region.source, sizeof out->region.source);
    db_column_copy(stmt, 10, out->licence, sizeof out->licence);
    db_column_copy(stmt, 11, out->attribution, sizeof out->attribution);
    out->is_preferred = sqlite3_column_int(stmt, 12) != 0;
}

/* The first row of sql (REGION_SELECT ...) with ?1 and ?2 bound to a and b (b may
 * be NULL). ERR_NOT_FOUND when there is none. */
static enum err first_region(struct db *db, const char *sql, const char *a, const char *b,
                             struct db_region *out)
{
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_prepare(db, sql, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    /* A parameter left NULL by a failed bind would call a known code unknown. */
    rc = db_bind_text(db, stmt, 1, a);
    if (rc == ERR_OK)
        rc = db_bind_text(db, stmt, 2, b);
    if (rc != ERR_OK) {
        sqlite3_finalize(stmt);
        return rc;
    }
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW)
        read_region(stmt, out);
    else
        rc = step == SQLITE_DONE ? ERR_NOT_FOUND : db_map(db, step);
    sqlite3_finalize(stmt);
    return rc;
}

/* The row of a bare cloud region name: ERR_CONFLICT when two providers have a
 * region of that name, since picking one would be a guess. */
static enum err find_cloud_name(struct db *db, const char *name, struct db_region *out)
{
    static const char sql[] =
        REGION_SELECT "WHERE r.kind = 'cloud' AND substr(r.code, instr(r.code, ':') + 1) = ?1 "
                      "COLLATE NOCASE ORDER BY r.rank, r.source_row";
    struct db_region first, other;
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_prepare(db, sql, &stmt);
    int step;
    bool has_first = false, is_shared = false;

    if (rc != ERR_OK)
        return rc;
    /* A parameter left NULL by a failed bind would find nothing. */
    rc = db_bind_text(db, stmt, 1, name);
    step = SQLITE_DONE;
    while (rc == ERR_OK && !is_shared && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        read_region(stmt, has_first ? &other : &first);
        is_shared = has_first && strcmp(other.provider, first.provider) != 0;
        has_first = true;
    }
    if (!is_shared && step != SQLITE_DONE)
        rc = db_map(db, step);
    sqlite3_finalize(stmt);
    if (rc != ERR_OK)
        return rc;
    if (is_shared)
        return ERR_CONFLICT;
    if (!has_first)
        return ERR_NOT_FOUND;
    *out = first;
    return ERR_OK;
}

enum err db_region_find(struct db *db, const char *code, struct db_region *out)
{
    static const char country_sql[] =
        REGION_SELECT "WHERE r.kind = 'country' AND r.code IN (?1, ?2) "
                      "ORDER BY r.rank, r.source_row LIMIT 1";
    static const char code_sql[] =
        REGION_SELECT "WHERE r.code = ?1 AND ?2 IS NULL ORDER BY r.rank, r.source_row LIMIT 1";
    enum core_location_match how = CORE_LOCATION_NONE;
    const struct core_country *country;
    struct db_region found;
    enum err rc;

    assert(db && code && out);
    rc = countries_ready(db);
    if (rc != ERR_OK)
        return rc;
    country = core_country_match(db->countries, db->n_countries, code, &how);
    rc = country ? first_region(db, country_sql, country->alpha2, country->alpha3, &found)
                 : ERR_NOT_FOUND;
    if (rc == ERR_NOT_FOUND) {
        how = CORE_LOCATION_CODE;
        rc = first_region(db, code_sql, code, NULL, &found);
    }
    if (rc == ERR_NOT_FOUND && strchr(code, ':') == NULL) {
        how = CORE_LOCATION_CLOUD_REGION;
        rc = find_cloud_name(db, code, &found);
    }
    if (rc != ERR_OK)
        return rc;
    found.matched_by = how;
    *out = found;
    return ERR_OK;
}

/* Blanks at either end of text[0..len) left out: the start into *start, the
 * length returned. */
static size_t trimmed(const char *text, size_t len, const char **start)
{
    while (len > 0 && (*text == ' ' || *text == '\t')) {
        text++;
        len--;
    }
    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
        len--;
    *start = text;
    return len;
}

enum err db_region_resolve_text(struct db *db, const char *text, struct db_region *out,
                                bool *is_matched)
{
    struct db_region found, part_region;
    bool has_found = false;
    enum err rc;

    assert(db && text && out && is_matched);
    *is_matched = false;
    rc = db_region_find(db, text, &found);
    if (rc == ERR_OK) {
        *out = found;
        *is_matched = true;
        return ERR_OK;
    }
    if (rc != ERR_NOT_FOUND && rc != ERR_CONFLICT)
        return rc;
    /* "Frankfurt, Germany", "Orsay, France": the parts that name something must
     * agree; a city alone names nothing and is passed over. */
    for (const char *p = text; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *start;
        char part[128];

        len = trimmed(p, len, &start);
        p = end ? end + 1 : p + strlen(p);
        if (len == 0 || len >= sizeof part || (start == text && !end))
            continue;
        memcpy(part, start, len);
        part[len] = '\0';
        rc = db_region_find(db, part, &part_region);
        if (rc == ERR_NOT_FOUND)
            continue;
        if (rc == ERR_CONFLICT)
            return ERR_OK;
        if (rc != ERR_OK)
            return rc;
        if (has_found && part_region.id != found.id)
            return ERR_OK;
        found = part_region;
        has_found = true;
    }
    if (has_found) {
        found.matched_by = CORE_LOCATION_FREE_TEXT;
        *out = found;
        *is_matched = true;
    }
    return ERR_OK;
}

enum err db_region_at(struct db *db, const char *table, unsigned long row, struct db_region *out)
{
    static const char sql[] =
        REGION_SELECT "WHERE r.source_table = ?1 AND r.source_row = ?2 LIMIT 1";
    sqlite3_stmt *stmt = NULL;
    enum err rc;
    int step;

    assert(db && table && out);
    rc = countries_ready(db);
    if (rc == ERR_OK)
        rc = db_prepare(db, sql, &stmt);
    if (rc != ERR_OK)
        return rc;
    /* A parameter left NULL by a failed bind would answer no row, as if the row had
     * vanished. */
    db_bind_int64(stmt, 2, (sqlite3_int64)row);
    rc = db_bind_text(db, stmt, 1, table);
    step = rc == ERR_OK ? sqlite3_step(stmt) : SQLITE_DONE;
    if (step == SQLITE_ROW)
        read_region(stmt, out);
    else if (rc == ERR_OK)
        rc = step == SQLITE_DONE ? ERR_NOT_FOUND : db_map(db, step);
    sqlite3_finalize(stmt);
    return rc;
}

enum err db_region_candidates(struct db *db, const char *name, char *buf, size_t buf_len)
{
    static const char sql[] =
        "SELECT DISTINCT provider || ':' || substr(code, instr(code, ':') + 1) FROM regions "
        "WHERE kind = 'cloud' AND substr(code, instr(code, ':') + 1) = ?1 COLLATE NOCASE "
        "ORDER BY 1";
    sqlite3_stmt *stmt = NULL;
    size_t used = 0;
    enum err rc;
    int step;

    assert(db && name && buf && buf_len > 0);
    buf[0] = '\0';
    rc = db_prepare(db, sql, &stmt);
    if (rc != ERR_OK)
        return rc;
    /* A parameter left NULL by a failed bind would find nothing. */
    rc = db_bind_text(db, stmt, 1, name);
    step = SQLITE_DONE;
    while (rc == ERR_OK && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        int n = snprintf(buf + used, buf_len - used, "%s%s", used ? ", " : "",
                         (const char *)sqlite3_column_text(stmt, 0));
        if (n < 0 || (size_t)n >= buf_len - used)
            break;
        used += (size_t)n;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = db_map(db, step);
    else if (used == 0)
        rc = ERR_NOT_FOUND;
    sqlite3_finalize(stmt);
    return rc;
}

/* Whether name begins with the whole of text (two characters at least, without
 * case) followed by a '-': "eu" in "eu-west-1", not in "europe-west1". */
static bool is_word_prefix(const char *text, const char *name)
{
    size_t len = strlen(text);

    return len >= 2 && strncasecmp(name, text, len) == 0 && name[len] == '-';
}

enum err db_region_closest(struct db *db, const char *code, char *buf, size_t buf_len)
{
    static const char sql[] = "SELECT code, name FROM regions ORDER BY rank, source_row";
    size_t best = (size_t)-1, limit = suggestion_limit(code), len = strlen(code);
    bool best_same_length = false, has_word_prefix = false;
    sqlite3_stmt *stmt = NULL;
    enum err rc;
    int step;

    assert(db && code && buf && buf_len > 0);
    rc = db_prepare(db, sql, &stmt);
    if (rc != ERR_OK)
        return rc;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *row_code = (const char *)sqlite3_column_text(stmt, 0);
        const char *row_name = (const char *)sqlite3_column_text(stmt, 1);
        const char *colon = strchr(row_code, ':');
        size_t d = core_edit_distance(code, row_code, true),
               d_name = row_name ? core_edit_distance(code, row_name, true) : d,
               d_region = colon ? core_edit_distance(code, colon + 1, true) : d;
        bool same_length = strlen(row_code) == len;

        /* A cloud region is typed without its provider ("us-east-2"), so its own
         * name is measured too: otherwise a short code of another provider that
         * happens to be nearer to the whole text would be suggested. */
        if (d_name < d)
            d = d_name;
        if (d_region < d)
            d = d_region;
        /* A cloud region whose own name begins with the text as a whole word
         * ("EU" -> eu-central-1) is what was meant, whatever the edit distance to
         * a short code of a country (EE) says; the first such row by precedence. */
        if (colon && is_word_prefix(code, colon + 1)) {
            if (!has_word_prefix)
                snprintf(buf, buf_len, "%s", row_code);
            has_word_prefix = true;
            best = 0;
            continue;
        }
        if (has_word_prefix)
            continue;
        /* A code of the same length (FRX -> FRA rather than FR) wins a tie. */
        if (d < best || (d == best && same_length && !best_same_length)) {
            best = d;
            best_same_length = same_length;
            snprintf(buf, buf_len, "%s", row_code);
        }
    }
    if (step != SQLITE_DONE)
        rc = db_map(db, step);
    else if (best > limit)
        rc = ERR_NOT_FOUND;
    sqlite3_finalize(stmt);
    return rc;
}

enum err db_region_list(struct db *db, const struct db_region_filter *filter,
                        struct db_region *items, size_t *n_items, bool *has_more)
{
    static const char sql[] =
        REGION_SELECT "WHERE r.id > ?1 "
                      "AND (?2 IS NULL OR instr(lower(r.code), lower(?2)) > 0 "
                      "     OR instr(lower(r.name), lower(?2)) > 0) "
                      "AND (?3 IS NULL OR r.provider = ?3 COLLATE NOCASE) "
                      "AND (?4 IS NULL OR (r.kind <> 'cloud' AND (r.code IN (?4, ?7, ?8) "
                      "     OR substr(r.code, 1, length(?4) + 1) = ?4 || '-' COLLATE NOCASE "
                      "     OR substr(r.code, 1, 3) = ?7 || '-' COLLATE NOCASE))) "
                      "AND (?5 IS NULL OR r.kind = ?5) "
                      "ORDER BY r.id LIMIT ?6";
    enum core_location_match how;
    const struct core_country *country = NULL;
    sqlite3_stmt *stmt = NULL;
    enum err rc;
    int step = SQLITE_DONE;

    assert(db && filter && filter->limit > 0 && items && n_items && has_more);
    *n_items = 0;
    *has_more = false;
    rc = countries_ready(db);
    if (rc != ERR_OK)
        return rc;
    /* A country's rows are listed under its alpha-2 and alpha-3 codes alike, and
     * its subdivisions (keyed by alpha-2: US-CA) under either. */
    if (filter->country)
        country = core_country_match(db->countries, db->n_countries, filter->country, &how);
    rc = db_prepare(db, sql, &stmt);
    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, filter->after_id);
    db_bind_int64(stmt, 6, (sqlite3_int64)filter->limit + 1);
    /* A filter left NULL by a failed bind would list every region. */
    rc = db_bind_text_or_null(db, stmt, 2, filter->name);
    if (rc == ERR_OK)
        rc = db_bind_text_or_null(db, stmt, 3, filter->provider);
    if (rc == ERR_OK)
        rc = db_bind_text_or_null(db, stmt, 4, filter->country);
    if (rc == ERR_OK)
        rc = db_bind_text_or_null(db, stmt, 5, filter->kind);
    if (rc == ERR_OK)
        rc = db_bind_text_or_null(db, stmt, 7, country ? country->alpha2 : NULL);
    if (rc == ERR_OK)
        rc = db_bind_text_or_null(db, stmt, 8, country ? country->alpha3 : NULL);
    while (rc == ERR_OK && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (*n_items == filter->limit) {
            *has_more = true;
            break;
        }
        read_region(stmt, &items[(*n_items)++]);
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = db_map(db, step);
    sqlite3_finalize(stmt);
    return rc;
}

/* ---- hardware ---- */

#define HARDWARE_SELECT                                                                            \
    "SELECT h.id, h.name, h.kind, h.tdp_w, h.tdp_per_core_w, h.n_cores, "                          \
    "h.peak_fp32_flops_per_s, h.peak_fp16_flops_per_s, h.memory_gb, h.source_table, "              \
    "h.source_row, h.source, l.licence, l.attribution, "                                           \
    "NOT EXISTS (SELECT 1 FROM hardware o WHERE o.name_key = h.name_key AND (o.rank < h.rank "     \
    "OR (o.rank = h.rank AND o.source_row < h.source_row))) "                                      \
    "FROM hardware h JOIN reference_loads l ON l.source_table = h.source_table "

static void read_optional(sqlite3_stmt *stmt, int column, bool *has, double *out)
{
    *has = sqlite3_column_type(stmt, column) != SQLITE_NULL;
    *out = *has ? sqlite3_column_double(stmt, column) : 0.0;
}

static void read_hardware(sqlite3_stmt *stmt, struct db_hardware *out)
{
    struct core_hardware *hw = &out->hardware;
    char kind[8], table[48];

    memset(out, 0, sizeof *out);
    out->id = sqlite3_column_int64(stmt, 0);
    db_column_copy(stmt, 1, hw->name, sizeof hw->name);
    db_column_copy(stmt, 2, kind, sizeof kind);
    hw->kind = strcmp(kind, "cpu") == 0   ? CORE_HARDWARE_CPU
               : strcmp(kind, "tpu") == 0 ? CORE_HARDWARE_TPU
                                          : CORE_HARDWARE_GPU;
    hw->tdp_w = sqlite3_column_double(stmt, 3);
    read_optional(stmt, 4, &hw->has_tdp_per_core_w, &hw->tdp_per_core_w);
    read_optional(stmt, 5, &hw->has_n_cores, &hw->n_cores);
    read_optional(stmt, 6, &hw->has_peak_fp32, &hw->peak_fp32_flops_per_s);
    read_optional(stmt, 7, &hw->has_peak_fp16, &hw->peak_fp16_flops_per_s);
    read_optional(stmt, 8, &hw->has_memory_gb, &hw->memory_gb);
    db_column_copy(stmt, 9, table, sizeof table);
    hw->table = static_table(table);
    hw->row = (unsigned long)sqlite3_column_int64(stmt, 10);
    db_column_copy(stmt, 11, hw->source, sizeof hw->source);
    db_column_copy(stmt, 12, out->licence, sizeof out->licence);
    db_column_copy(stmt, 13, out->attribution, sizeof out->attribution);
    out->is_preferred = sqlite3_column_int(stmt, 14) != 0;
}

enum err db_hardware_find(struct db *db, const char *name, struct db_hardware *out)
{
    static const char sql[] =
        HARDWARE_SELECT "WHERE h.name_key = ?1 OR h.alias_key = ?2 "
                        "ORDER BY h.name_key = ?1 DESC, h.rank, h.source_row LIMIT 1";
    char key[96], alias[96];
    sqlite3_stmt *stmt = NULL;
    enum err rc;
    int step;

    assert(db && name && out);
    name_key(name, false, key, sizeof key);
    name_key(name, true, alias, sizeof alias);
    if (key[0] == '\0')
        return ERR_NOT_FOUND;
    rc = db_prepare(db, sql, &stmt);
    if (rc != ERR_OK)
        return rc;
    /* A parameter left NULL by a failed bind would find nothing. */
    rc = db_bind_text(db, stmt, 1, key);
    if (rc == ERR_OK)
        rc = db_bind_text(db, stmt, 2, alias);
    step = rc == ERR_OK ? sqlite3_step(stmt) : SQLITE_DONE;
    if (step == SQLITE_ROW)
        read_hardware(stmt, out);
    else if (rc == ERR_OK)
        rc = step == SQLITE_DONE ? ERR_NOT_FOUND : db_map(db, step);
    sqlite3_finalize(stmt);
    return rc;
}

enum err db_hardware_closest(struct db *db, const char *name, char *buf, size_t buf_len)
{
    static const char sql[] =
        "SELECT name, name_key, alias_key FROM hardware ORDER BY rank, source_row";
    char alias[96];
    size_t best = (size_t)-1, limit;
    bool best_contains = false;
    sqlite3_stmt *stmt = NULL;
    enum err rc;
    int step;

    assert(db && name && buf && buf_len > 0);
    name_key(name, true, alias, sizeof alias);
    if (alias[0] == '\0')
        return ERR_NOT_FOUND;
    limit = suggestion_limit(alias);
    rc = db_prepare(db, sql, &stmt);
    if (rc != ERR_OK)
        return rc;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *row_key = (const char *)sqlite3_column_text(stmt, 1);
        const char *row_alias = (const char *)sqlite3_column_text(stmt, 2);
        bool contains = strstr(row_alias, alias) != NULL || strstr(row_key, alias) != NULL;
        size_t d;

        /* A name containing what was asked ("v10" in "v100") beats any other;
         * among those the shortest, else the smallest edit distance. */
        if (contains) {
            d = strlen(row_alias);
        } else {
            size_t d_key = core_edit_distance(alias, row_key, true);
            d = core_edit_distance(alias, row_alias, true);
            if (d_key < d)
                d = d_key;
        }
        if ((contains && !best_contains) || (contains == best_contains && d < best)) {
            best = d;
            best_contains = contains;
            snprintf(buf, buf_len, "%s", (const char *)sqlite3_column_text(stmt, 0));
        }
    }
    if (step != SQLITE_DONE)
        rc = db_map(db, step);
    else if (!best_contains && best > limit)
        rc = ERR_NOT_FOUND;
    sqlite3_finalize(stmt);
    return rc;
}

enum err db_hardware_list(struct db *db, const struct db_hardware_filter *filter,
                          struct db_hardware *items, size_t *n_items, bool *has_more)
{
    static const char sql[] =
        HARDWARE_SELECT "WHERE h.id > ?1 "
                        "AND (?2 IS NULL OR instr(lower(h.name), lower(?2)) > 0 "
                        "     OR (?3 IS NOT NULL AND instr(h.name_key, ?3) > 0)) "
                        "AND (?4 IS NULL OR h.kind = ?4) "
                        "ORDER BY h.id LIMIT ?5";
    char key[96] = "";
    sqlite3_stmt *stmt = NULL;
    enum err rc;
    int step = SQLITE_DONE;

    assert(db && filter && filter->limit > 0 && items && n_items && has_more);
    *n_items = 0;
    *has_more = false;
    if (filter->name)
        name_key(filter->name, false, key, sizeof key);
    rc = db_prepare(db, sql, &stmt);
    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, filter->after_id);
    db_bind_int64(stmt, 5, (sqlite3_int64)filter->limit + 1);
    /* A filter left NULL by a failed bind would list all the hardware. */
    rc = db_bind_text_or_null(db, stmt, 2, filter->name);
    if (rc == ERR_OK)
        rc = db_bind_text_or_null(db, stmt, 3, key);
    if (rc == ERR_OK)
        rc = db_bind_text_or_null(db, stmt, 4, filter->kind);
    while (rc == ERR_OK && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (*n_items == filter->limit) {
            *has_more = true;
            break;
        }
        read_hardware(stmt, &items[(*n_items)++]);
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = db_map(db, step);
    sqlite3_finalize(stmt);
    return rc;
}

/* ---- load report ---- */

enum err db_reference_report(struct db *db, struct db_reference_load *loads, size_t loads_cap,
                             size_t *n_loads, struct db_reference_skip *skips, size_t skips_cap,
                             size_t *n_skips)
{
    static const char loads_sql[] =
        "SELECT source_table, kind, rank, licence, attribution, rows_loaded, rows_skipped, "
        "loaded_at FROM reference_loads ORDER BY kind, rank";
    static const char skips_sql[] = "SELECT source_table, source_row, field, reason "
                                    "FROM reference_skips ORDER BY id";
    sqlite3_stmt *stmt = NULL;
    enum err rc;
    int step;

    assert(db && n_loads && n_skips);
    *n_loads = 0;
    *n_skips = 0;
    rc = db_prepare(db, loads_sql, &stmt);
    if (rc != ERR_OK)
        return rc;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW && *n_loads < loads_cap) {
        struct db_reference_load *l = &loads[(*n_loads)++];
        memset(l, 0, sizeof *l);
        db_column_copy(stmt, 0, l->table, sizeof l->table);
        db_column_copy(stmt, 1, l->kind, sizeof l->kind);
        l->rank = sqlite3_column_int(stmt, 2);
        db_column_copy(stmt, 3, l->licence, sizeof l->licence);
        db_column_copy(stmt, 4, l->attribution, sizeof l->attribution);
        l->n_loaded = sqlite3_column_int64(stmt, 5);
        l->n_skipped = sqlite3_column_int64(stmt, 6);
        db_column_copy(stmt, 7, l->loaded_at, sizeof l->loaded_at);
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = db_map(db, step);
    sqlite3_finalize(stmt);
    if (rc != ERR_OK)
        return rc;
    rc = db_prepare(db, skips_sql, &stmt);
    if (rc != ERR_OK)
        return rc;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW && *n_skips < skips_cap) {
        struct db_reference_skip *s = &skips[(*n_skips)++];
        memset(s, 0, sizeof *s);
        db_column_copy(stmt, 0, s->table, sizeof s->table);
        s->row = sqlite3_column_int64(stmt, 1);
        db_column_copy(stmt, 2, s->field, sizeof s->field);
        db_column_copy(stmt, 3, s->reason, sizeof s->reason);
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = db_map(db, step);
    sqlite3_finalize(stmt);
    return rc;
}
