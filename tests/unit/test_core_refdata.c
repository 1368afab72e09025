/* SPDX-License-Identifier: Apache-2.0 */
/* CSV tokenizer edge cases, reference-table row validation against inline fixtures
 * that mirror each known quirk, and a pass over the real files under
 * reference-data/ (located through CARBONTREE_SOURCE_DIR, default "."). */
#include "csv.h"
#include "refdata.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every record of text joined as "a|b;c|d" (fields by '|', records by ';'), with
 * "!" for a malformed record. */
static void tokenize(const char *text, size_t len, size_t buf_len, char *out, size_t out_len)
{
    struct core_csv csv;
    struct core_csv_row row;
    char buf[256];
    size_t i;
    enum err rc;

    ck_assert_uint_le(buf_len, sizeof buf);
    out[0] = '\0';
    core_csv_init(&csv, text, len);
    while ((rc = core_csv_next(&csv, buf, buf_len, &row, NULL)) != ERR_NOT_FOUND) {
        if (out[0])
            strncat(out, ";", out_len - strlen(out) - 1);
        if (rc != ERR_OK) {
            strncat(out, "!", out_len - strlen(out) - 1);
            continue;
        }
        for (i = 0; i < row.n_fields; i++) {
            if (i)
                strncat(out, "|", out_len - strlen(out) - 1);
            strncat(out, row.fields[i], out_len - strlen(out) - 1);
        }
    }
}

struct csv_case {
    const char *what;
    const char *text;
    size_t buf_len;
    const char *expected;
};

static const struct csv_case csv_cases[] = {
    {"plain", "a,b,c\n1,2,3\n", 256, "a|b|c;1|2|3"},
    {"no final line end", "a,b\n1,2", 256, "a|b;1|2"},
    {"CRLF", "a,b\r\n1,2\r\n", 256, "a|b;1|2"},
    {"lone CR", "a,b\r1,2\r", 256, "a|b;1|2"},
    {"byte order mark", "\xEF\xBB\xBFprovider,x\ngcp,1\n", 256, "provider|x;gcp|1"},
    {"quoted comma", "\"Berkeley County,\",367.8\n", 256, "Berkeley County,|367.8"},
    {"escaped quotes", "\"say \"\"hi\"\"\",2\n", 256, "say \"hi\"|2"},
    {"line break inside quotes", "\"two\r\nlines\",x\ny,z\n", 256, "two\r\nlines|x;y|z"},
    {"empty fields", ",,\n", 256, "||"},
    {"trailing comma", "a,\n", 256, "a|"},
    {"empty lines skipped", "\n\na\r\n\r\nb\n\n", 256, "a;b"},
    {"empty input", "", 256, ""},
    {"unterminated quote", "\"open,1\n", 256, "!"},
    {"text after closing quote, then recovery", "\"a\"b,1\nc,2\n", 256, "!;c|2"},
    {"record larger than buffer", "abcdefgh,ijkl\nx\n", 8, "!;x"},
    {"too many fields", ",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,\nok\n", 256, "!;ok"},
    {"stray quote in plain field", "5\" disk,1\n", 256, "5\" disk|1"},
};

START_TEST(csv_tokenizer_handles_quotes_line_ends_and_bom)
{
    const struct csv_case *c = &csv_cases[_i];
    char out[512];

    tokenize(c->text, strlen(c->text), c->buf_len, out, sizeof out);
    ck_assert_msg(strcmp(out, c->expected) == 0, "%s: got \"%s\", expected \"%s\"", c->what, out,
                  c->expected);
}
END_TEST

START_TEST(csv_rows_report_their_physical_line)
{
    const char *text = "h\n\"a\nb\"\n\nc\n";
    struct core_csv csv;
    struct core_csv_row row;
    char buf[64];

    core_csv_init(&csv, text, strlen(text));
    ck_assert_int_eq(core_csv_next(&csv, buf, sizeof buf, &row, NULL), ERR_OK);
    ck_assert_uint_eq(row.line, 1);
    ck_assert_int_eq(core_csv_next(&csv, buf, sizeof buf, &row, NULL), ERR_OK);
    ck_assert_uint_eq(row.line, 2);
    ck_assert_uint_eq(row.lens[0], 3);
    ck_assert_int_eq(core_csv_next(&csv, buf, sizeof buf, &row, NULL), ERR_OK);
    ck_assert_uint_eq(row.line, 5);
    ck_assert_str_eq(row.fields[0], "c");
    ck_assert_int_eq(core_csv_next(&csv, buf, sizeof buf, &row, NULL), ERR_NOT_FOUND);
}
END_TEST

START_TEST(csv_error_names_the_line)
{
    const char *text = "a\nb\n\"c\n";
    struct core_csv csv;
    struct core_csv_row row;
    struct core_field_error fe;
    char buf[64];

    core_csv_init(&csv, text, strlen(text));
    ck_assert_int_eq(core_csv_next(&csv, buf, sizeof buf, &row, &fe), ERR_OK);
    ck_assert_int_eq(core_csv_next(&csv, buf, sizeof buf, &row, &fe), ERR_OK);
    ck_assert_int_eq(core_csv_next(&csv, buf, sizeof buf, &row, &fe), ERR_INVALID_INPUT);
    ck_assert_str_eq(fe.message, "line 3: unterminated quoted field");
    ck_assert_uint_eq(row.line, 3);
}
END_TEST

/* Collects what core_refdata_parse hands out. */
struct collected {
    size_t n_hardware, n_regions, n_skip_callbacks;
    struct core_hardware hardware[128];
    struct core_region regions[160];
    unsigned long skipped_lines[8];
    char skip_reasons[8][256];
};

static enum err on_hardware(void *ctx, const struct core_hardware *hardware)
{
    struct collected *c = ctx;

    if (c->n_hardware < sizeof c->hardware / sizeof c->hardware[0])
        c->hardware[c->n_hardware] = *hardware;
    c->n_hardware++;
    return ERR_OK;
}

static enum err on_region(void *ctx, const struct core_region *region)
{
    struct collected *c = ctx;

    if (c->n_regions < sizeof c->regions / sizeof c->regions[0])
        c->regions[c->n_regions] = *region;
    c->n_regions++;
    return ERR_OK;
}

static void on_skip(void *ctx, unsigned long line, const struct core_field_error *reason)
{
    struct collected *c = ctx;

    if (c->n_skip_callbacks < 8) {
        c->skipped_lines[c->n_skip_callbacks] = line;
        snprintf(c->skip_reasons[c->n_skip_callbacks], sizeof c->skip_reasons[0], "%s %s",
                 reason->pointer, reason->message);
    }
    c->n_skip_callbacks++;
}

static struct collected *parse(enum core_refdata_table table, const char *text, size_t len,
                               struct core_refdata_stats *stats, enum err expected_rc)
{
    static struct collected c;
    struct core_field_error fe;

    memset(&c, 0, sizeof c);
    ck_assert_int_eq(
        core_refdata_parse(table, text, len, on_hardware, on_region, on_skip, &c, stats, &fe),
        expected_rc);
    ck_assert_uint_eq(c.n_skip_callbacks, stats->n_skipped);
    return &c;
}

START_TEST(mlco2_gpus_short_row_and_nan_markers)
{
    /* mlco2 gpus.csv: leading-space header, A10G with 8 fields, NaN/Nan/unk markers,
     * the GTX 750 with an implausible fp32 peak. */
    static const char text[] =
        "name,type,tdp_watts,TFLOPS32, TFLOPS16,GFLOPS32/W,GFLOPS16/W,memory,source\n"
        "H100 SXM,gpu,700,989,1979,,,80,https://example\n"
        "A10G,gpu,150,31.52,,,24,https://www.techpowerup.com/gpu-specs/a10g.c3798 \n"
        "GTX 750,gpu,250,1111,NaN,444.4,Nan,24,https://example\n"
        "Intel Xeon E5-2630v4,cpu,85,NaN,NaN,NaN,NaN,NaN,https://ark\n"
        "L40S,gpu,350,183,362.05,unk,unk,48,https://example\n"
        "Broken,gpu,NaN,1,1,,,1,x\n"
        "Negative,gpu,-5,1,1,,,1,x\n"
        "Weird,fpga,50,1,1,,,1,x\n";
    struct core_refdata_stats stats;
    struct collected *c = parse(CORE_REFDATA_MLCO2_GPUS, text, sizeof text - 1, &stats, ERR_OK);

    ck_assert_uint_eq(stats.n_loaded, 3);
    ck_assert_uint_eq(stats.n_skipped, 5);
    ck_assert_str_eq(c->hardware[0].name, "H100 SXM");
    ck_assert_double_eq_tol(c->hardware[0].peak_fp16_flops_per_s, 1979e12, 1);
    ck_assert_double_eq(c->hardware[0].memory_gb, 80);
    ck_assert_uint_eq(c->hardware[0].row, 2);
    ck_assert_str_eq(c->hardware[1].name, "Intel Xeon E5-2630v4");
    ck_assert_int_eq(c->hardware[1].kind, CORE_HARDWARE_CPU);
    ck_assert(!c->hardware[1].has_peak_fp32 && !c->hardware[1].has_memory_gb);
    ck_assert_str_eq(c->hardware[2].name, "L40S");
    ck_assert_uint_eq(c->skipped_lines[0], 3);
    ck_assert_str_eq(c->skip_reasons[0], " expected 9 fields, found 8");
    ck_assert_str_eq(c->skip_reasons[1], "/TFLOPS32 implausible: more than 3 TFLOP/s per W of TDP");
    ck_assert_str_eq(c->skip_reasons[2], "/tdp_watts missing value \"NaN\"");
    ck_assert_str_eq(c->skip_reasons[3], "/tdp_watts must be greater than 0");
    ck_assert_str_eq(c->skip_reasons[4], "/type unknown hardware type");
}
END_TEST

START_TEST(green_algorithms_two_header_lines_and_default_row)
{
    static const char text[] =
        "index,in Watt,TO BE CHECKED,,,in nm,in cm2,in GB,\n"
        "model,TDP,n_cores,TDP_per_core,Release_year,feature_size,die_area,memory,source\n"
        "Any,,,200,,,,,\n"
        "NVIDIA Tesla V100,300,,300,,,,,techpowerup.com\n"
        "TPU v4,170,,170,,,,,https://cloud.google.com/tpu/docs/system-architecture-tpu-vm ";
    struct core_refdata_stats stats;
    struct collected *c = parse(CORE_REFDATA_GA_TDP_GPU, text, sizeof text - 1, &stats, ERR_OK);

    ck_assert_uint_eq(stats.n_loaded, 2);
    ck_assert_uint_eq(stats.n_skipped, 1);
    ck_assert_str_eq(c->skip_reasons[0], "/TDP missing value \"\"");
    ck_assert_double_eq(c->hardware[0].tdp_w, 300);
    ck_assert_int_eq(c->hardware[0].kind, CORE_HARDWARE_GPU);
    ck_assert_int_eq(c->hardware[1].kind, CORE_HARDWARE_TPU);
    ck_assert_str_eq(c->hardware[1].source,
                     "https://cloud.google.com/tpu/docs/system-architecture-tpu-vm");
}
END_TEST

START_TEST(green_algorithms_file_with_one_header_line_is_refused)
{
    static const char text[] =
        "model,TDP,n_cores,TDP_per_core,Release_year,feature_size,die_area,memory,source\n"
        "NVIDIA Tesla V100,300,,300,,,,,techpowerup.com\n";
    struct core_refdata_stats stats;

    parse(CORE_REFDATA_GA_TDP_GPU, text, sizeof text - 1, &stats, ERR_INVALID_INPUT);
    ck_assert_uint_eq(stats.n_loaded, 0);
}
END_TEST

START_TEST(codecarbon_cloud_file_with_bom_parses)
{
    static const char text[] =
        "\xEF\xBB\xBFprovider,providerName,offsetRatio,region,regionName,country_name,"
        "countryIsoCode,state,city,impact,source,comment\n"
        "gcp,Google Cloud Platform,100,europe-west1,,Belgium,BEL,,St. Ghislain,122,"
        "https://cloud.google.com/sustainability/region-carbon#data,\n";
    struct core_refdata_stats stats;
    struct collected *c =
        parse(CORE_REFDATA_CODECARBON_CLOUD, text, sizeof text - 1, &stats, ERR_OK);

    ck_assert_uint_eq(stats.n_loaded, 1);
    ck_assert_str_eq(c->regions[0].code, "gcp:europe-west1");
    ck_assert_str_eq(c->regions[0].name, "St. Ghislain, Belgium");
    ck_assert_double_eq(c->regions[0].intensity_g_per_kwh, 122);
}
END_TEST

START_TEST(region_rows_refuse_bad_intensity_and_missing_codes)
{
    static const char text[] =
        "index,,,,in gCO2e/kWh,,\"Country, Region or World\",\n"
        "location,continentName,countryName,regionName,carbonIntensity,Type,source,comments\n"
        "WORLD,World,Any,Any,475,World,https://www.iea.org,Data from 2019\n"
        "FR,Europe,France,Any,51.28,Country,carbonfootprint (data from 2020),x\n"
        "US-CA,North America,United States of America,California,216.43,Region,cf,\n"
        "XX,Europe,Nowhere,Any,-3,Country,x,\n"
        "YY,Europe,Nowhere,Any,5000,Country,x,\n"
        ",Europe,Nowhere,Any,100,Country,x,\n"
        "ZZ,Europe,Nowhere,Any,1e2x,Country,x,\n"
        "QQ,Europe,Nowhere,Any,inf,Country,x,\n";
    struct core_refdata_stats stats;
    struct collected *c = parse(CORE_REFDATA_GA_CI, text, sizeof text - 1, &stats, ERR_OK);

    ck_assert_uint_eq(stats.n_loaded, 3);
    ck_assert_uint_eq(stats.n_skipped, 5);
    ck_assert_str_eq(c->regions[0].name, "World");
    ck_assert_int_eq(c->regions[0].year, 2019);
    ck_assert_str_eq(c->regions[1].code, "FR");
    ck_assert_int_eq(c->regions[1].year, 2020);
    ck_assert_str_eq(c->regions[2].name, "United States of America, California");
    ck_assert_int_eq(c->regions[2].year, 0);
    ck_assert_str_eq(c->skip_reasons[0], "/carbonIntensity must be at least 0");
    ck_assert_str_eq(c->skip_reasons[1], "/carbonIntensity must be at most 2000");
    ck_assert_str_eq(c->skip_reasons[2], "/location missing value");
    ck_assert_str_eq(c->skip_reasons[3], "/carbonIntensity not a number: \"1e2x\"");
    ck_assert_str_eq(c->skip_reasons[4], "/carbonIntensity not a number: \"inf\"");
}
END_TEST

/* The real files: expected counts and rows known from reference-data/SOURCES.md. */
struct real_file {
    enum core_refdata_table table;
    size_t n_loaded;
    size_t n_skipped;
};

static const struct real_file real_files[] = {
    {CORE_REFDATA_GA_TDP_GPU, 21, 1},       /* "Any": no TDP */
    {CORE_REFDATA_GA_TDP_CPU, 94, 1},       /* "Any": no TDP */
    {CORE_REFDATA_MLCO2_GPUS, 46, 2},       /* A10G short row, GTX 750 */
    {CORE_REFDATA_GA_CI, 131, 0},           /* */
    {CORE_REFDATA_MLCO2_IMPACT, 81, 1},     /* scaleway: no region */
    {CORE_REFDATA_CODECARBON_CLOUD, 40, 0}, /* */
    {CORE_REFDATA_GCP_2021, 34, 0},         {CORE_REFDATA_GCP_2022, 36, 0},
    {CORE_REFDATA_GCP_2023, 40, 0},         {CORE_REFDATA_GCP_2024, 44, 0},
};

/* Reads reference-data/<path> into a heap buffer the caller frees. */
static char *read_reference_file(const char *path, size_t *len)
{
    const char *root = getenv("CARBONTREE_SOURCE_DIR");
    char full[1024];
    char *data;
    FILE *f;
    long size;

    snprintf(full, sizeof full, "%s/reference-data/%s", root ? root : ".", path);
    f = fopen(full, "rb");
    ck_assert_msg(f != NULL, "cannot open %s (set CARBONTREE_SOURCE_DIR)", full);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    ck_assert_int_ge(size, 0);
    rewind(f);
    data = malloc((size_t)size + 1);
    ck_assert_ptr_nonnull(data);
    *len = fread(data, 1, (size_t)size, f);
    ck_assert_uint_eq(*len, (size_t)size);
    data[*len] = '\0';
    fclose(f);
    return data;
}

static struct collected *parse_real(enum core_refdata_table table, struct core_refdata_stats *stats)
{
    struct collected *c;
    size_t len;
    char *data = read_reference_file(core_refdata_table_info(table)->path, &len);

    c = parse(table, data, len, stats, ERR_OK);
    free(data);
    return c;
}

START_TEST(real_reference_files_load_with_expected_counts)
{
    const struct real_file *f = &real_files[_i];
    struct core_refdata_stats stats;

    parse_real(f->table, &stats);
    ck_assert_msg(stats.n_loaded == f->n_loaded && stats.n_skipped == f->n_skipped,
                  "%s: loaded %zu skipped %zu", core_refdata_table_info(f->table)->path,
                  stats.n_loaded, stats.n_skipped);
}
END_TEST

static const struct core_region *find_region(const struct collected *c, const char *code)
{
    size_t i;

    for (i = 0; i < c->n_regions && i < sizeof c->regions / sizeof c->regions[0]; i++) {
        if (strcmp(c->regions[i].code, code) == 0)
            return &c->regions[i];
    }
    ck_abort_msg("region %s not found", code);
    return NULL;
}

static const struct core_hardware *find_hardware(const struct collected *c, const char *name)
{
    size_t i;

    for (i = 0; i < c->n_hardware && i < sizeof c->hardware / sizeof c->hardware[0]; i++) {
        if (strcmp(c->hardware[i].name, name) == 0)
            return &c->hardware[i];
    }
    ck_abort_msg("hardware %s not found", name);
    return NULL;
}

START_TEST(known_rows_resolve_in_the_real_files)
{
    struct core_refdata_stats stats;
    struct collected *c;
    const struct core_region *r;
    const struct core_hardware *h;

    c = parse_real(CORE_REFDATA_GA_TDP_GPU, &stats);
    h = find_hardware(c, "NVIDIA Tesla V100");
    ck_assert_double_eq(h->tdp_w, 300);
    ck_assert_str_eq(h->table, "green-algorithms/TDP_gpu.csv");
    ck_assert_double_eq(find_hardware(c, "TPU v2")->tdp_w, 280);

    c = parse_real(CORE_REFDATA_GA_TDP_CPU, &stats);
    h = find_hardware(c, "Xeon L5640"); /* trailing blank in the file */
    ck_assert_double_eq(h->tdp_w, 60);
    ck_assert_double_eq(h->n_cores, 6);

    c = parse_real(CORE_REFDATA_MLCO2_GPUS, &stats);
    ck_assert_double_eq(find_hardware(c, "Tesla V100-SXM2-16GB")->tdp_w, 250);
    ck_assert_int_eq(find_hardware(c, "TPUv3 Chip")->kind, CORE_HARDWARE_TPU);

    c = parse_real(CORE_REFDATA_MLCO2_IMPACT, &stats);
    r = find_region(c, "gcp:europe-west1");
    ck_assert_double_eq(r->intensity_g_per_kwh, 267);
    ck_assert_uint_eq(r->row, 10);
    ck_assert_double_eq(find_region(c, "gcp:us-central1")->intensity_g_per_kwh, 566.3);
    ck_assert_double_eq(find_region(c, "aws:us-east-1")->intensity_g_per_kwh, 367.8);
    ck_assert_double_eq(find_region(c, "seeweb:fro2")->intensity_g_per_kwh, 0);

    c = parse_real(CORE_REFDATA_GA_CI, &stats);
    ck_assert_double_eq(find_region(c, "WORLD")->intensity_g_per_kwh, 475);
    ck_assert_double_eq(find_region(c, "FR")->intensity_g_per_kwh, 51.28);
    ck_assert_double_eq(find_region(c, "US")->intensity_g_per_kwh, 423.94);

    c = parse_real(CORE_REFDATA_GCP_2024, &stats);
    r = find_region(c, "gcp:asia-east1");
    ck_assert_double_eq(r->intensity_g_per_kwh, 439.29);
    ck_assert_int_eq(r->year, 2024);
    ck_assert_str_eq(r->name, "Taiwan");
}
END_TEST

START_TEST(table_descriptions_are_complete)
{
    int t;

    for (t = 0; t < CORE_REFDATA_TABLE_COUNT; t++) {
        const struct core_refdata_table_info *info =
            core_refdata_table_info((enum core_refdata_table)t);

        ck_assert_ptr_nonnull(info->path);
        ck_assert_ptr_nonnull(info->licence);
        ck_assert_ptr_nonnull(info->attribution);
        ck_assert_uint_gt(info->n_columns, 0);
    }
    ck_assert_int_eq(core_refdata_table_info(CORE_REFDATA_GCP_2023)->year, 2023);
    ck_assert_str_eq(core_hardware_kind_name(CORE_HARDWARE_TPU), "tpu");
}
END_TEST

#define N(a) (int)(sizeof(a) / sizeof(a)[0])

static Suite *refdata_suite(void)
{
    Suite *s = suite_create("core_refdata");
    TCase *csv = tcase_create("csv");
    TCase *rows = tcase_create("rows");
    TCase *files = tcase_create("files");

    tcase_add_loop_test(csv, csv_tokenizer_handles_quotes_line_ends_and_bom, 0, N(csv_cases));
    tcase_add_test(csv, csv_rows_report_their_physical_line);
    tcase_add_test(csv, csv_error_names_the_line);
    suite_add_tcase(s, csv);

    tcase_add_test(rows, mlco2_gpus_short_row_and_nan_markers);
    tcase_add_test(rows, green_algorithms_two_header_lines_and_default_row);
    tcase_add_test(rows, green_algorithms_file_with_one_header_line_is_refused);
    tcase_add_test(rows, codecarbon_cloud_file_with_bom_parses);
    tcase_add_test(rows, region_rows_refuse_bad_intensity_and_missing_codes);
    tcase_add_test(rows, table_descriptions_are_complete);
    suite_add_tcase(s, rows);

    tcase_add_loop_test(files, real_reference_files_load_with_expected_counts, 0, N(real_files));
    tcase_add_test(files, known_rows_resolve_in_the_real_files);
    suite_add_tcase(s, files);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(refdata_suite());
    int n_failed;

    srunner_run_all(runner, CK_NORMAL);
    n_failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return n_failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
