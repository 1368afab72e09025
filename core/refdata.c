/* SPDX-License-Identifier: Apache-2.0 */
/* Reference tables: descriptions, header checks and record validators. Records
 * with a wrong field count, a missing required value, a "NaN"-style or non-numeric
 * value, a negative or absurd figure, or over-long text are refused with a reason.
 * No I/O. */
#include "refdata.h"

#include "range.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TFLOPS 1e12

static const char *const ga_tdp_gpu_columns[] = {"model",        "TDP",          "n_cores",
                                                 "TDP_per_core", "Release_year", "feature_size",
                                                 "die_area",     "memory",       "source"};
static const char *const ga_tdp_cpu_columns[] = {"model",        "TDP",          "n_cores",
                                                 "TDP_per_core", "Release_year", "feature_size",
                                                 "die_area",     "source"};
static const char *const mlco2_gpus_columns[] = {"name",       "type",     "tdp_watts",
                                                 "TFLOPS32",   "TFLOPS16", "GFLOPS32/W",
                                                 "GFLOPS16/W", "memory",   "source"};
static const char *const ga_ci_columns[] = {"location",   "continentName",   "countryName",
                                            "regionName", "carbonIntensity", "Type",
                                            "source",     "comments"};
static const char *const mlco2_impact_columns[] = {
    "provider", "providerName", "offsetRatio", "region", "regionName", "country", "state",
    "city",     "impact",       "source",      "PUE",    "PUE source", "comment"};
static const char *const codecarbon_cloud_columns[] = {
    "provider",       "providerName", "offsetRatio", "region", "regionName", "country_name",
    "countryIsoCode", "state",        "city",        "impact", "source",     "comment"};
/* 2021 onwards: average operational (location-based) grid intensity. 2019 and 2020
 * publish a lifecycle series under another header and are not shipped. */
static const char *const gcp_columns[] = {"Google Cloud Region", "Location", "Google CFE",
                                          "Grid carbon intensity (gCO2eq / kWh)"};

#define COLUMNS(a) sizeof(a) / sizeof(a)[0], (a)

#define GA_LICENCE        "CC-BY-4.0"
#define GA_ATTRIBUTION    "Lannelongue, Grealey, Inouye, Green Algorithms, Adv. Sci. 2021, 2100707"
#define MLCO2_ATTRIBUTION "Lacoste, Luccioni, Schmidt, Dandres, ML CO2 Impact (mlco2/impact)"
#define GCP_ATTRIBUTION   "Google, Carbon free energy for Google Cloud regions (region-carbon-info)"

static const struct core_refdata_table_info tables[CORE_REFDATA_TABLE_COUNT] = {
    [CORE_REFDATA_GA_TDP_GPU] = {"green-algorithms/TDP_gpu.csv", CORE_REFDATA_HARDWARE, 2,
                                 COLUMNS(ga_tdp_gpu_columns), 0, GA_LICENCE, GA_ATTRIBUTION},
    [CORE_REFDATA_GA_TDP_CPU] = {"green-algorithms/TDP_cpu.csv", CORE_REFDATA_HARDWARE, 2,
                                 COLUMNS(ga_tdp_cpu_columns), 0, GA_LICENCE, GA_ATTRIBUTION},
    [CORE_REFDATA_MLCO2_GPUS] = {"mlco2-impact/gpus.csv", CORE_REFDATA_HARDWARE, 1,
                                 COLUMNS(mlco2_gpus_columns), 0, "MIT", MLCO2_ATTRIBUTION},
    [CORE_REFDATA_GA_CI] = {"green-algorithms/CI_aggregated.csv", CORE_REFDATA_REGIONS, 2,
                            COLUMNS(ga_ci_columns), 0, GA_LICENCE, GA_ATTRIBUTION},
    [CORE_REFDATA_MLCO2_IMPACT] = {"mlco2-impact/impact.csv", CORE_REFDATA_REGIONS, 1,
                                   COLUMNS(mlco2_impact_columns), 0, "MIT", MLCO2_ATTRIBUTION},
    [CORE_REFDATA_CODECARBON_CLOUD] = {"codecarbon/cloud_impact.csv", CORE_REFDATA_REGIONS, 1,
                                       COLUMNS(codecarbon_cloud_columns), 0, "MIT",
                                       "CodeCarbon (mlco2/codecarbon)"},
    [CORE_REFDATA_GCP_2021] = {"google-cloud-region-carbon/2021.csv", CORE_REFDATA_REGIONS, 1,
                               COLUMNS(gcp_columns), 2021, "Apache-2.0", GCP_ATTRIBUTION},
    [CORE_REFDATA_GCP_2022] = {"google-cloud-region-carbon/2022.csv", CORE_REFDATA_REGIONS, 1,
                               COLUMNS(gcp_columns), 2022, "Apache-2.0", GCP_ATTRIBUTION},
    [CORE_REFDATA_GCP_2023] = {"google-cloud-region-carbon/2023.csv", CORE_REFDATA_REGIONS, 1,
                               COLUMNS(gcp_columns), 2023, "Apache-2.0", GCP_ATTRIBUTION},
    [CORE_REFDATA_GCP_2024] = {"google-cloud-region-carbon/2024.csv", CORE_REFDATA_REGIONS, 1,
                               COLUMNS(gcp_columns), 2024, "Apache-2.0", GCP_ATTRIBUTION},
};

/* Plausibility limits for one record. A device above 10 kW or an intensity above
 * 2000 g/kWh is a unit error, not hardware or a grid. Peak FLOP/s per W of TDP is
 * capped at about 1.5x the most efficient rows in these tables (H100 NVL: 2.1
 * TFLOP/s/W at fp32/TF32 and 4.2 at fp16, both with sparsity): mlco2 gpus.csv lists
 * the GTX 750 at 1111 fp32 TFLOP/s for 250 W (4.4 TFLOP/s/W), which is refused. */
static const struct core_bounds tdp_bounds = {0.0, 1e4, true};
static const struct core_bounds cores_bounds = {0.0, 4096.0, true};
static const struct core_bounds peak_tflops_bounds = {0.0, 1e5, true};
static const struct core_bounds memory_gb_bounds = {0.0, 4096.0, true};
static const struct core_bounds intensity_g_bounds = {0.0, 2000.0, false};
#define MAX_FP32_FLOPS_PER_W 3e12
#define MAX_FP16_FLOPS_PER_W 6e12

enum number_status {
    NUMBER_OK,
    NUMBER_ABSENT,  /* empty, or a marker the tables use for "unknown" */
    NUMBER_INVALID, /* anything else that is not a plain decimal number */
};

const struct core_refdata_table_info *core_refdata_table_info(enum core_refdata_table table)
{
    assert((unsigned)table < CORE_REFDATA_TABLE_COUNT);
    return &tables[table];
}

const char *core_hardware_kind_name(enum core_hardware_kind kind)
{
    switch (kind) {
    case CORE_HARDWARE_GPU:
        return "gpu";
    case CORE_HARDWARE_CPU:
        return "cpu";
    case CORE_HARDWARE_TPU:
        return "tpu";
    }
    assert(0 && "unknown hardware kind");
    return "unknown";
}

/* A field without leading and trailing blanks. */
static void trimmed(const struct core_csv_row *row, size_t col, const char **text, size_t *len)
{
    const char *s = row->fields[col];
    size_t n = row->lens[col];

    while (n > 0 && isspace((unsigned char)s[0])) {
        s++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    *text = s;
    *len = n;
}

static bool field_is(const struct core_csv_row *row, size_t col, const char *expected)
{
    const char *s;
    size_t n;

    trimmed(row, col, &s, &n);
    return n == strlen(expected) && memcmp(s, expected, n) == 0;
}

static bool field_is_empty(const struct core_csv_row *row, size_t col)
{
    const char *s;
    size_t n;

    trimmed(row, col, &s, &n);
    return n == 0;
}

/* Strict decimal syntax: [+-]digits[.digits][e[+-]digits], at least one digit.
 * Refuses what strtod would also take: nan, inf, hex. */
static bool is_decimal(const char *s, size_t n)
{
    size_t i = 0, digits = 0;

    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    for (; i < n && isdigit((unsigned char)s[i]); i++)
        digits++;
    if (i < n && s[i] == '.')
        for (i++; i < n && isdigit((unsigned char)s[i]); i++)
            digits++;
    if (digits == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t exp_digits = 0;

        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        for (; i < n && isdigit((unsigned char)s[i]); i++)
            exp_digits++;
        if (exp_digits == 0)
            return false;
    }
    return i == n;
}

/* Markers the source tables use for an unknown value (mlco2 gpus.csv: NaN, Nan, unk). */
static bool is_absent_marker(const char *s, size_t n)
{
    static const char *const markers[] = {"NaN", "Nan", "nan", "NAN", "unk", "N/A", "NA"};
    size_t i;

    for (i = 0; i < sizeof markers / sizeof markers[0]; i++) {
        if (n == strlen(markers[i]) && memcmp(s, markers[i], n) == 0)
            return true;
    }
    return false;
}

static enum number_status read_number(const struct core_csv_row *row, size_t col, double *out)
{
    char text[64];
    const char *s;
    size_t n;

    trimmed(row, col, &s, &n);
    if (n == 0 || is_absent_marker(s, n))
        return NUMBER_ABSENT;
    if (n >= sizeof text || !is_decimal(s, n))
        return NUMBER_INVALID;
    memcpy(text, s, n);
    text[n] = '\0';
    *out = strtod(text, NULL);
    return NUMBER_OK;
}

/* A required number inside bounds; the reason names the column. */
static enum err required_number(const struct core_csv_row *row, size_t col, const char *name,
                                struct core_bounds bounds, double *out, struct core_field_error *fe)
{
    char pointer[64];
    const char *s;
    size_t n;

    snprintf(pointer, sizeof pointer, "/%s", name);
    trimmed(row, col, &s, &n);
    switch (read_number(row, col, out)) {
    case NUMBER_OK:
        return core_range_check(core_range_exact(*out), bounds, pointer, fe);
    case NUMBER_ABSENT:
        core_field_error_set(fe, pointer, "missing value \"%.*s\"", (int)(n < 32 ? n : 32), s);
        return ERR_INVALID_INPUT;
    case NUMBER_INVALID:
        break;
    }
    core_field_error_set(fe, pointer, "not a number: \"%.*s\"", (int)(n < 32 ? n : 32), s);
    return ERR_INVALID_INPUT;
}

/* An optional number: absent markers leave *has false; garbage still refuses the
 * record. */
static enum err optional_number(const struct core_csv_row *row, size_t col, const char *name,
                                struct core_bounds bounds, bool *has, double *out,
                                struct core_field_error *fe)
{
    double x = 0.0;
    enum err rc;

    *has = false;
    *out = 0.0;
    if (read_number(row, col, &x) == NUMBER_ABSENT)
        return ERR_OK;
    rc = required_number(row, col, name, bounds, &x, fe);
    if (rc != ERR_OK)
        return rc;
    *has = true;
    *out = x;
    return ERR_OK;
}

/* Copies a trimmed field; refuses (never truncates) text that does not fit, and an
 * empty value when is_required. */
static enum err copy_text(char *dst, size_t dst_len, const struct core_csv_row *row, size_t col,
                          const char *name, bool is_required, struct core_field_error *fe)
{
    char pointer[64];
    const char *s;
    size_t n;

    snprintf(pointer, sizeof pointer, "/%s", name);
    trimmed(row, col, &s, &n);
    if (is_required && n == 0) {
        core_field_error_set(fe, pointer, "missing value");
        return ERR_INVALID_INPUT;
    }
    if (n >= dst_len) {
        core_field_error_set(fe, pointer, "text longer than %zu bytes", dst_len - 1);
        return ERR_INVALID_INPUT;
    }
    memcpy(dst, s, n);
    dst[n] = '\0';
    return ERR_OK;
}

static enum err check_field_count(enum core_refdata_table table, const struct core_csv_row *row,
                                  struct core_field_error *fe)
{
    size_t expected = tables[table].n_columns;

    if (row->n_fields == expected)
        return ERR_OK;
    core_field_error_set(fe, "", "expected %zu fields, found %zu", expected, row->n_fields);
    return ERR_INVALID_INPUT;
}

enum err core_refdata_check_header(enum core_refdata_table table, const struct core_csv_row *row,
                                   struct core_field_error *fe)
{
    const struct core_refdata_table_info *info = core_refdata_table_info(table);
    size_t i;
    enum err rc;

    assert(row);
    rc = check_field_count(table, row, fe);
    if (rc != ERR_OK)
        return rc;
    for (i = 0; i < info->n_columns; i++) {
        if (!field_is(row, i, info->columns[i])) {
            core_field_error_set(fe, "", "%s: column %zu should be \"%s\"", info->path, i + 1,
                                 info->columns[i]);
            return ERR_INVALID_INPUT;
        }
    }
    return ERR_OK;
}

static void hardware_init(enum core_refdata_table table, const struct core_csv_row *row,
                          struct core_hardware *out)
{
    memset(out, 0, sizeof *out);
    out->table = tables[table].path;
    out->row = row->line;
}

/* Green Algorithms TDP_gpu.csv / TDP_cpu.csv. */
static enum err ga_hardware_row(enum core_refdata_table table, const struct core_csv_row *row,
                                struct core_hardware *out, struct core_field_error *fe)
{
    bool is_gpu = table == CORE_REFDATA_GA_TDP_GPU;
    enum err rc;

    rc = copy_text(out->name, sizeof out->name, row, 0, "model", true, fe);
    if (rc == ERR_OK)
        rc = required_number(row, 1, "TDP", tdp_bounds, &out->tdp_w, fe);
    if (rc == ERR_OK)
        rc = optional_number(row, 2, "n_cores", cores_bounds, &out->has_n_cores, &out->n_cores, fe);
    if (rc == ERR_OK)
        rc = optional_number(row, 3, "TDP_per_core", tdp_bounds, &out->has_tdp_per_core_w,
                             &out->tdp_per_core_w, fe);
    if (rc == ERR_OK && is_gpu)
        rc = optional_number(row, 7, "memory", memory_gb_bounds, &out->has_memory_gb,
                             &out->memory_gb, fe);
    if (rc == ERR_OK)
        rc = copy_text(out->source, sizeof out->source, row, is_gpu ? 8 : 7, "source", false, fe);
    if (rc != ERR_OK)
        return rc;
    /* The GPU table also lists Google TPUs, by name. */
    if (!is_gpu)
        out->kind = CORE_HARDWARE_CPU;
    else if (strncmp(out->name, "TPU", 3) == 0)
        out->kind = CORE_HARDWARE_TPU;
    else
        out->kind = CORE_HARDWARE_GPU;
    return ERR_OK;
}

static enum err check_peak_per_watt(const struct core_hardware *hw, struct core_field_error *fe)
{
    if (hw->has_peak_fp32 && hw->peak_fp32_flops_per_s > MAX_FP32_FLOPS_PER_W * hw->tdp_w) {
        core_field_error_set(fe, "/TFLOPS32", "implausible: more than %g TFLOP/s per W of TDP",
                             MAX_FP32_FLOPS_PER_W / TFLOPS);
        return ERR_INVALID_INPUT;
    }
    if (hw->has_peak_fp16 && hw->peak_fp16_flops_per_s > MAX_FP16_FLOPS_PER_W * hw->tdp_w) {
        core_field_error_set(fe, "/TFLOPS16", "implausible: more than %g TFLOP/s per W of TDP",
                             MAX_FP16_FLOPS_PER_W / TFLOPS);
        return ERR_INVALID_INPUT;
    }
    return ERR_OK;
}

/* ML CO2 Impact gpus.csv. The GFLOPS/W columns are derived figures and are not read. */
static enum err mlco2_hardware_row(const struct core_csv_row *row, struct core_hardware *out,
                                   struct core_field_error *fe)
{
    enum err rc;

    rc = copy_text(out->name, sizeof out->name, row, 0, "name", true, fe);
    if (rc != ERR_OK)
        return rc;
    if (field_is(row, 1, "gpu")) {
        out->kind = CORE_HARDWARE_GPU;
    } else if (field_is(row, 1, "cpu")) {
        out->kind = CORE_HARDWARE_CPU;
    } else if (field_is(row, 1, "tpu")) {
        out->kind = CORE_HARDWARE_TPU;
    } else {
        core_field_error_set(fe, "/type", "unknown hardware type");
        return ERR_INVALID_INPUT;
    }
    rc = required_number(row, 2, "tdp_watts", tdp_bounds, &out->tdp_w, fe);
    if (rc == ERR_OK)
        rc = optional_number(row, 3, "TFLOPS32", peak_tflops_bounds, &out->has_peak_fp32,
                             &out->peak_fp32_flops_per_s, fe);
    if (rc == ERR_OK)
        rc = optional_number(row, 4, "TFLOPS16", peak_tflops_bounds, &out->has_peak_fp16,
                             &out->peak_fp16_flops_per_s, fe);
    if (rc == ERR_OK)
        rc = optional_number(row, 7, "memory", memory_gb_bounds, &out->has_memory_gb,
                             &out->memory_gb, fe);
    if (rc == ERR_OK)
        rc = copy_text(out->source, sizeof out->source, row, 8, "source", false, fe);
    if (rc != ERR_OK)
        return rc;
    out->peak_fp32_flops_per_s *= TFLOPS;
    out->peak_fp16_flops_per_s *= TFLOPS;
    return check_peak_per_watt(out, fe);
}

enum err core_refdata_hardware_row(enum core_refdata_table table, const struct core_csv_row *row,
                                   struct core_hardware *out, struct core_field_error *fe)
{
    enum err rc;

    assert(row && out && tables[table].kind == CORE_REFDATA_HARDWARE);
    rc = check_field_count(table, row, fe);
    if (rc != ERR_OK)
        return rc;
    hardware_init(table, row, out);
    if (table == CORE_REFDATA_MLCO2_GPUS)
        return mlco2_hardware_row(row, out, fe);
    return ga_hardware_row(table, row, out, fe);
}

/* "data from 2020" in a Green Algorithms source or comment states the data year. */
static int stated_year(const struct core_csv_row *row, size_t col)
{
    static const char marker[] = "data from ";
    const char *s = row->fields[col];
    size_t n = row->lens[col], m = sizeof marker - 1, i, k;

    for (i = 0; i + m + 4 <= n; i++) {
        for (k = 0; k < m; k++) {
            if (tolower((unsigned char)s[i + k]) != marker[k])
                break;
        }
        if (k < m)
            continue;
        for (k = 0; k < 4 && isdigit((unsigned char)s[i + m + k]); k++)
            ;
        if (k == 4 && (i + m + 4 == n || !isdigit((unsigned char)s[i + m + 4])))
            return atoi(&s[i + m]);
    }
    return 0;
}

/* Green Algorithms CI_aggregated.csv. */
static enum err ga_region_row(const struct core_csv_row *row, struct core_region *out,
                              struct core_field_error *fe)
{
    char country[48], region[72]; /* sized so "country, region" fits name */
    enum err rc;

    rc = copy_text(out->code, sizeof out->code, row, 0, "location", true, fe);
    if (rc == ERR_OK)
        rc = copy_text(country, sizeof country, row, 2, "countryName", true, fe);
    if (rc == ERR_OK)
        rc = copy_text(region, sizeof region, row, 3, "regionName", true, fe);
    if (rc == ERR_OK)
        rc = required_number(row, 4, "carbonIntensity", intensity_g_bounds,
                             &out->intensity_g_per_kwh, fe);
    if (rc == ERR_OK)
        rc = copy_text(out->source, sizeof out->source, row, 6, "source", false, fe);
    if (rc != ERR_OK)
        return rc;
    if (field_is(row, 5, "World"))
        snprintf(out->name, sizeof out->name, "World");
    else if (strcmp(region, "Any") == 0)
        snprintf(out->name, sizeof out->name, "%s", country);
    else
        snprintf(out->name, sizeof out->name, "%s, %s", country, region);
    out->year = stated_year(row, 6);
    if (out->year == 0)
        out->year = stated_year(row, 7);
    return ERR_OK;
}

/* provider:region, both required. */
static enum err cloud_code(const struct core_csv_row *row, size_t provider_col, size_t region_col,
                           struct core_region *out, struct core_field_error *fe)
{
    char provider[24], region[40];
    enum err rc;

    rc = copy_text(provider, sizeof provider, row, provider_col, "provider", true, fe);
    if (rc == ERR_OK)
        rc = copy_text(region, sizeof region, row, region_col, "region", true, fe);
    if (rc != ERR_OK)
        return rc;
    snprintf(out->code, sizeof out->code, "%s:%s", provider, region);
    return ERR_OK;
}

/* Display name of a cloud region: its own name, else "city, country". */
static enum err cloud_name(const struct core_csv_row *row, size_t name_col, size_t city_col,
                           size_t country_col, struct core_region *out, struct core_field_error *fe)
{
    char city[48], country[48];
    enum err rc;

    if (!field_is_empty(row, name_col))
        return copy_text(out->name, sizeof out->name, row, name_col, "regionName", true, fe);
    rc = copy_text(city, sizeof city, row, city_col, "city", false, fe);
    if (rc == ERR_OK)
        rc = copy_text(country, sizeof country, row, country_col, "country", false, fe);
    if (rc != ERR_OK)
        return rc;
    snprintf(out->name, sizeof out->name, "%s%s%s", city, city[0] && country[0] ? ", " : "",
             country);
    return ERR_OK;
}

/* mlco2-impact impact.csv and codecarbon cloud_impact.csv share a layout up to the
 * country columns. */
static enum err cloud_region_row(enum core_refdata_table table, const struct core_csv_row *row,
                                 struct core_region *out, struct core_field_error *fe)
{
    bool is_mlco2 = table == CORE_REFDATA_MLCO2_IMPACT;
    size_t city_col = is_mlco2 ? 7 : 8, impact_col = is_mlco2 ? 8 : 9;
    enum err rc;

    rc = cloud_code(row, 0, 3, out, fe);
    if (rc == ERR_OK)
        rc = cloud_name(row, 4, city_col, 5, out, fe);
    if (rc == ERR_OK)
        rc = required_number(row, impact_col, "impact", intensity_g_bounds,
                             &out->intensity_g_per_kwh, fe);
    if (rc == ERR_OK)
        rc = copy_text(out->source, sizeof out->source, row, impact_col + 1, "source", false, fe);
    return rc;
}

/* Google Cloud region-carbon yearly files: the year is the file's. */
static enum err gcp_region_row(enum core_refdata_table table, const struct core_csv_row *row,
                               struct core_region *out, struct core_field_error *fe)
{
    char region[40];
    enum err rc;

    rc = copy_text(region, sizeof region, row, 0, "Google Cloud Region", true, fe);
    if (rc == ERR_OK)
        rc = copy_text(out->name, sizeof out->name, row, 1, "Location", false, fe);
    if (rc == ERR_OK)
        rc = required_number(row, 3, "Grid carbon intensity (gCO2eq / kWh)", intensity_g_bounds,
                             &out->intensity_g_per_kwh, fe);
    if (rc != ERR_OK)
        return rc;
    snprintf(out->code, sizeof out->code, "gcp:%s", region);
    snprintf(out->source, sizeof out->source,
             "Google Cloud region carbon data %d, grid carbon intensity (location-based)",
             tables[table].year);
    out->year = tables[table].year;
    return ERR_OK;
}

enum err core_refdata_region_row(enum core_refdata_table table, const struct core_csv_row *row,
                                 struct core_region *out, struct core_field_error *fe)
{
    enum err rc;

    assert(row && out && tables[table].kind == CORE_REFDATA_REGIONS);
    rc = check_field_count(table, row, fe);
    if (rc != ERR_OK)
        return rc;
    memset(out, 0, sizeof *out);
    out->table = tables[table].path;
    out->row = row->line;
    switch (table) {
    case CORE_REFDATA_GA_CI:
        return ga_region_row(row, out, fe);
    case CORE_REFDATA_MLCO2_IMPACT:
    case CORE_REFDATA_CODECARBON_CLOUD:
        return cloud_region_row(table, row, out, fe);
    default:
        return gcp_region_row(table, row, out, fe);
    }
}

/* Reads the header lines: the last one holds the column names. */
static enum err read_header(enum core_refdata_table table, struct core_csv *csv, char *buf,
                            size_t buf_len, struct core_field_error *fe)
{
    struct core_csv_row row;
    unsigned i;
    enum err rc;

    for (i = 0; i < tables[table].n_header_lines; i++) {
        rc = core_csv_next(csv, buf, buf_len, &row, fe);
        if (rc == ERR_NOT_FOUND) {
            core_field_error_set(fe, "", "%s: missing header", tables[table].path);
            return ERR_INVALID_INPUT;
        }
        if (rc != ERR_OK)
            return rc;
    }
    return core_refdata_check_header(table, &row, fe);
}

/* Validates one record and hands it to the matching callback. */
static enum err dispatch(enum core_refdata_table table, const struct core_csv_row *row,
                         core_refdata_hardware_fn on_hardware, core_refdata_region_fn on_region,
                         void *ctx, bool *is_valid, struct core_field_error *reason)
{
    struct core_hardware hardware;
    struct core_region region;

    if (tables[table].kind == CORE_REFDATA_HARDWARE) {
        *is_valid = core_refdata_hardware_row(table, row, &hardware, reason) == ERR_OK;
        return *is_valid && on_hardware ? on_hardware(ctx, &hardware) : ERR_OK;
    }
    *is_valid = core_refdata_region_row(table, row, &region, reason) == ERR_OK;
    return *is_valid && on_region ? on_region(ctx, &region) : ERR_OK;
}

enum err core_refdata_parse(enum core_refdata_table table, const char *data, size_t len,
                            core_refdata_hardware_fn on_hardware, core_refdata_region_fn on_region,
                            core_refdata_skip_fn on_skip, void *ctx,
                            struct core_refdata_stats *stats, struct core_field_error *fe)
{
    struct core_field_error reason;
    struct core_csv_row row = {0};
    struct core_csv csv;
    char buf[4096];
    bool is_valid;
    enum err rc;

    assert(stats && (unsigned)table < CORE_REFDATA_TABLE_COUNT);
    stats->n_loaded = 0;
    stats->n_skipped = 0;
    core_csv_init(&csv, data, len);
    rc = read_header(table, &csv, buf, sizeof buf, fe);
    if (rc != ERR_OK)
        return rc;
    for (;;) {
        core_field_error_clear(&reason);
        rc = core_csv_next(&csv, buf, sizeof buf, &row, &reason);
        if (rc == ERR_NOT_FOUND)
            return ERR_OK;
        is_valid = false;
        if (rc == ERR_OK)
            rc = dispatch(table, &row, on_hardware, on_region, ctx, &is_valid, &reason);
        else
            rc = ERR_OK; /* a malformed record is skipped like an invalid one */
        if (rc != ERR_OK)
            return rc;
        if (is_valid) {
            stats->n_loaded++;
        } else {
            stats->n_skipped++;
            if (on_skip)
                on_skip(ctx, row.line, &reason);
        }
    }
}
