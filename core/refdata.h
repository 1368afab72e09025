/* SPDX-License-Identifier: Apache-2.0 */
/* Reference tables (hardware power, grid carbon intensity) as shipped under
 * reference-data/: which files exist, their headers, and pure validators that turn
 * one CSV record into a plain struct or say why the record is skipped. Bad records
 * are skipped and counted, never repaired or guessed. No I/O: callers (db) hand in
 * the file contents. Numbers are read with strtod after a strict syntax check, so
 * LC_NUMERIC must be the "C" locale (the default). */
#ifndef CORE_REFDATA_H
#define CORE_REFDATA_H

#include "csv.h"
#include "err.h"
#include "field_error.h"

#include <stdbool.h>
#include <stddef.h>

enum core_refdata_table {
    CORE_REFDATA_GA_TDP_GPU,       /* green-algorithms/TDP_gpu.csv */
    CORE_REFDATA_GA_TDP_CPU,       /* green-algorithms/TDP_cpu.csv */
    CORE_REFDATA_MLCO2_GPUS,       /* mlco2-impact/gpus.csv */
    CORE_REFDATA_GA_CI,            /* green-algorithms/CI_aggregated.csv */
    CORE_REFDATA_MLCO2_IMPACT,     /* mlco2-impact/impact.csv */
    CORE_REFDATA_CODECARBON_CLOUD, /* codecarbon/cloud_impact.csv */
    CORE_REFDATA_GCP_2021,         /* google-cloud-region-carbon/2021.csv */
    CORE_REFDATA_GCP_2022,
    CORE_REFDATA_GCP_2023,
    CORE_REFDATA_GCP_2024,
    CORE_REFDATA_TABLE_COUNT
};

enum core_refdata_kind {
    CORE_REFDATA_HARDWARE,
    CORE_REFDATA_REGIONS,
};

/* Static description of one shipped file. */
struct core_refdata_table_info {
    const char *path; /* relative to reference-data/ */
    enum core_refdata_kind kind;
    unsigned n_header_lines; /* Green Algorithms files have a units line first */
    size_t n_columns;
    const char *const *columns; /* expected names of the column-name header line */
    int year;                   /* data year when the whole file has one, else 0 */
    const char *licence;        /* SPDX id */
    const char *attribution;
};

enum core_hardware_kind {
    CORE_HARDWARE_GPU,
    CORE_HARDWARE_CPU,
    CORE_HARDWARE_TPU,
};

/* One hardware row. Strings are NUL-terminated copies; table is static. */
struct core_hardware {
    char name[96];
    enum core_hardware_kind kind;
    double tdp_w;
    bool has_tdp_per_core_w;
    double tdp_per_core_w;
    bool has_n_cores;
    double n_cores;
    bool has_peak_fp32;
    double peak_fp32_flops_per_s;
    bool has_peak_fp16;
    double peak_fp16_flops_per_s;
    bool has_memory_gb;
    double memory_gb;
    const char *table; /* table path, static */
    unsigned long row; /* physical line in the file */
    char source[384];  /* the row's own source column, may be "" */
};

/* One region row. code is an ISO 3166 alpha-2 code or subdivision ("FR", "US-CA",
 * "WORLD") for Green Algorithms, and "<provider>:<region>" ("gcp:europe-west1")
 * for cloud tables. */
struct core_region {
    char code[64];
    char name[128];
    double intensity_g_per_kwh;
    int year;          /* data year, 0 when the row does not say */
    const char *table; /* table path, static */
    unsigned long row; /* physical line in the file */
    char source[384];
};

/* Description of a table (static storage). */
const struct core_refdata_table_info *core_refdata_table_info(enum core_refdata_table table);

/* "gpu", "cpu", "tpu". Static storage. */
const char *core_hardware_kind_name(enum core_hardware_kind kind);

/* Checks the column-name header record of table (leading and trailing blanks
 * ignored, so " TFLOPS16" matches). ERR_INVALID_INPUT with fe naming the first
 * mismatching column when the file is not the expected one. */
enum err core_refdata_check_header(enum core_refdata_table table, const struct core_csv_row *row,
                                   struct core_field_error *fe);

/* Validates one data record of a hardware table into *out. ERR_INVALID_INPUT when the
 * record is skipped: fe names the column ("/tdp_watts") and why (wrong field count,
 * empty, NaN, negative or absurd number, unknown kind, text too long); *out is
 * unspecified then. ERR_OK otherwise. */
enum err core_refdata_hardware_row(enum core_refdata_table table, const struct core_csv_row *row,
                                   struct core_hardware *out, struct core_field_error *fe);

/* Same for a region table. */
enum err core_refdata_region_row(enum core_refdata_table table, const struct core_csv_row *row,
                                 struct core_region *out, struct core_field_error *fe);

/* Counts of one pass over a file. */
struct core_refdata_stats {
    size_t n_loaded;
    size_t n_skipped;
};

/* Callbacks of core_refdata_parse. A non-ERR_OK result from on_row stops the pass
 * and is returned. on_skip may be NULL. */
typedef enum err (*core_refdata_hardware_fn)(void *ctx, const struct core_hardware *hardware);
typedef enum err (*core_refdata_region_fn)(void *ctx, const struct core_region *region);
typedef void (*core_refdata_skip_fn)(void *ctx, unsigned long line,
                                     const struct core_field_error *reason);

/* Walks a whole file (data, len borrowed): checks the header lines, then hands every
 * valid record to on_hardware or on_region (whichever matches the table's kind; the
 * other may be NULL) and every skipped one to on_skip, counting both in *stats.
 * Returns ERR_INVALID_INPUT (fe set, stats partial) when the header is not the
 * expected one, the callback's error when it fails, ERR_OK otherwise. */
enum err core_refdata_parse(enum core_refdata_table table, const char *data, size_t len,
                            core_refdata_hardware_fn on_hardware, core_refdata_region_fn on_region,
                            core_refdata_skip_fn on_skip, void *ctx,
                            struct core_refdata_stats *stats, struct core_field_error *fe);

#endif
