/* SPDX-License-Identifier: Apache-2.0 */
/* Reference data on a real SQLite file: what migration 3 loads and skips from the
 * embedded files, region and hardware lookups with their precedence and
 * suggestions, filtered and paginated listings, the schema's CHECK constraints, and
 * re-running the migrations. */
#include "db.h"
#include "db_internal.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static char dir[64];
static char path[128];
static struct db *db;

static void open_db(void)
{
    struct db_options options = {.path = path, .busy_timeout_ms = 5000, .create = true};
    char why[256];

    ck_assert_msg(db_open(&options, &db, why, sizeof why) == ERR_OK, "open: %s", why);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/carbontree-unit-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/test.db", dir);
    open_db();
    ck_assert_int_eq(db_migrate(db, NULL, NULL), ERR_OK);
}

static void teardown(void)
{
    char cmd[160];

    db_close(db);
    db = NULL;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* ---- the load report ---- */

struct expected_load {
    const char *table;
    const char *kind;
    int rank;
    int64_t n_loaded;
    int64_t n_skipped;
    const char *licence;
};

/* Counts from reference-data/SOURCES.md. */
static const struct expected_load expected_loads[] = {
    {"green-algorithms/TDP_gpu.csv", "hardware", 1, 21, 1, "CC-BY-4.0"},
    {"green-algorithms/TDP_cpu.csv", "hardware", 2, 94, 1, "CC-BY-4.0"},
    {"mlco2-impact/gpus.csv", "hardware", 3, 46, 2, "MIT"},
    {"google-cloud-region-carbon/2024.csv", "regions", 1, 44, 0, "Apache-2.0"},
    {"codecarbon/global_energy_mix.json", "regions", 2, 213, 0, "MIT"},
    {"green-algorithms/CI_aggregated.csv", "regions", 3, 131, 0, "CC-BY-4.0"},
    {"mlco2-impact/impact.csv", "regions", 4, 81, 1, "MIT"},
};

#define N_EXPECTED_LOADS (sizeof expected_loads / sizeof expected_loads[0])

static struct db_reference_load loads[16];
static struct db_reference_skip skips[16];
static size_t n_loads, n_skips;

static void read_report(void)
{
    ck_assert_int_eq(db_reference_report(db, loads, 16, &n_loads, skips, 16, &n_skips), ERR_OK);
}

START_TEST(each_table_reports_its_loaded_and_skipped_rows)
{
    const struct expected_load *want = &expected_loads[_i];
    const struct db_reference_load *got = NULL;

    read_report();
    ck_assert_uint_eq(n_loads, N_EXPECTED_LOADS);
    for (size_t i = 0; i < n_loads; i++)
        if (strcmp(loads[i].table, want->table) == 0)
            got = &loads[i];
    ck_assert_msg(got != NULL, "%s is not in the load report", want->table);
    ck_assert_str_eq(got->kind, want->kind);
    ck_assert_int_eq(got->rank, want->rank);
    ck_assert_int_eq(got->n_loaded, want->n_loaded);
    ck_assert_int_eq(got->n_skipped, want->n_skipped);
    ck_assert_str_eq(got->licence, want->licence);
    ck_assert_msg(strlen(got->attribution) > 10, "attribution of %s is empty", want->table);
    ck_assert_int_eq(strlen(got->loaded_at), 24);
}
END_TEST

START_TEST(every_skipped_row_is_recorded_with_its_line_and_reason)
{
    static const struct {
        const char *table;
        int64_t row;
        const char *field;
    } expected[] = {
        {"green-algorithms/TDP_gpu.csv", 4, "/TDP"},  /* Any: no TDP */
        {"green-algorithms/TDP_cpu.csv", 14, "/TDP"}, /* Any: no TDP */
        {"mlco2-impact/gpus.csv", 6, ""},             /* A10G: 8 fields */
        {"mlco2-impact/gpus.csv", 12, "/TFLOPS32"},   /* GTX 750: 1111 TFLOP/s at 250 W */
        {"mlco2-impact/impact.csv", 79, "/region"},   /* scaleway: no region code */
    };
    int64_t total = 0;

    read_report();
    for (size_t i = 0; i < n_loads; i++)
        total += loads[i].n_skipped;
    ck_assert_uint_eq(n_skips, sizeof expected / sizeof expected[0]);
    ck_assert_int_eq(total, (int64_t)n_skips);
    for (size_t i = 0; i < n_skips; i++) {
        ck_assert_str_eq(skips[i].table, expected[i].table);
        ck_assert_int_eq(skips[i].row, expected[i].row);
        ck_assert_str_eq(skips[i].field, expected[i].field);
        ck_assert_msg(skips[i].reason[0] != '\0', "skip %zu has no reason", i);
    }
}
END_TEST

/* ---- regions ---- */

START_TEST(fra_is_56_039_g_per_kwh_of_2023_from_global_energy_mix_json)
{
    struct db_region r;

    ck_assert_int_eq(db_region_find(db, "FRA", &r), ERR_OK);
    ck_assert_str_eq(r.region.code, "FRA");
    ck_assert_str_eq(r.region.name, "France");
    ck_assert_double_eq_tol(r.region.intensity_g_per_kwh, 56.039, 1e-9);
    ck_assert_int_eq(r.region.year, 2023);
    ck_assert_str_eq(r.region.table, "codecarbon/global_energy_mix.json");
    ck_assert_uint_eq(r.region.row, 1346); /* the line of "FRA": { in the file */
    ck_assert_str_eq(r.kind, "country");
    ck_assert_str_eq(r.provider, "");
    ck_assert_str_eq(r.licence, "MIT");
    ck_assert_ptr_nonnull(strstr(r.attribution, "Our World in Data"));
    ck_assert_ptr_nonnull(strstr(r.region.source, "2023"));
    ck_assert(r.is_preferred);
}
END_TEST

START_TEST(codes_are_found_whatever_their_case)
{
    struct db_region r;

    ck_assert_int_eq(db_region_find(db, "fra", &r), ERR_OK);
    ck_assert_str_eq(r.region.code, "FRA");
    ck_assert_int_eq(db_region_find(db, "GCP:Europe-West1", &r), ERR_OK);
    ck_assert_str_eq(r.region.code, "gcp:europe-west1");
}
END_TEST

START_TEST(alpha_2_codes_answer_the_country_row_and_subdivisions_come_from_green_algorithms)
{
    struct db_region r;

    /* FR is France: the energy mix's FRA row, not Green Algorithms' older FR row */
    ck_assert_int_eq(db_region_find(db, "FR", &r), ERR_OK);
    ck_assert_str_eq(r.region.code, "FRA");
    ck_assert_double_eq_tol(r.region.intensity_g_per_kwh, 56.039, 1e-9);
    ck_assert_str_eq(r.region.table, "codecarbon/global_energy_mix.json");
    ck_assert_int_eq(r.matched_by, CORE_LOCATION_ISO_ALPHA2);
    ck_assert_int_eq(db_region_find(db, "US-CA", &r), ERR_OK);
    ck_assert_int_eq(r.matched_by, CORE_LOCATION_CODE);
    ck_assert_str_eq(r.kind, "subdivision");
    ck_assert_int_eq(db_region_find(db, "WORLD", &r), ERR_OK);
    ck_assert_double_eq_tol(r.region.intensity_g_per_kwh, 475.0, 1e-9);
    ck_assert_str_eq(r.kind, "world");
}
END_TEST

START_TEST(gcp_europe_west1_resolves_to_google_2024_before_mlco2_impact)
{
    struct db_region items[8];
    struct db_region_filter filter = {.name = "gcp:europe-west1", .limit = 8};
    struct db_region r;
    size_t n = 0, n_exact = 0;
    bool has_more = true;

    ck_assert_int_eq(db_region_find(db, "gcp:europe-west1", &r), ERR_OK);
    ck_assert_str_eq(r.region.table, "google-cloud-region-carbon/2024.csv");
    ck_assert_double_eq_tol(r.region.intensity_g_per_kwh, 103.37, 1e-9);
    ck_assert_int_eq(r.region.year, 2024);
    ck_assert_str_eq(r.kind, "cloud");
    ck_assert_str_eq(r.provider, "gcp");
    ck_assert_str_eq(r.licence, "Apache-2.0");

    /* both rows stay listed; only the 2024 one answers lookups */
    ck_assert_int_eq(db_region_list(db, &filter, items, &n, &has_more), ERR_OK);
    ck_assert(!has_more);
    for (size_t i = 0; i < n; i++) {
        bool is_2024 = strcmp(items[i].region.table, "google-cloud-region-carbon/2024.csv") == 0;
        if (strcmp(items[i].region.code, "gcp:europe-west1") != 0)
            continue; /* europe-west10 and the like */
        ck_assert_msg(items[i].is_preferred == is_2024, "%s row %lu", items[i].region.table,
                      items[i].region.row);
        n_exact++;
    }
    ck_assert_uint_eq(n_exact, 2);
}
END_TEST

START_TEST(aws_regions_come_from_mlco2_impact)
{
    struct db_region r;

    ck_assert_int_eq(db_region_find(db, "aws:us-east-1", &r), ERR_OK);
    ck_assert_double_eq_tol(r.region.intensity_g_per_kwh, 367.8, 1e-9);
    ck_assert_int_eq(r.region.year, 0);
    ck_assert_str_eq(r.region.table, "mlco2-impact/impact.csv");
}
END_TEST

START_TEST(an_unknown_code_is_not_found)
{
    struct db_region r;

    ck_assert_int_eq(db_region_find(db, "XYZ", &r), ERR_NOT_FOUND);
    ck_assert_int_eq(db_region_find(db, "", &r), ERR_NOT_FOUND);
    ck_assert_int_eq(db_region_find(db, "gcp:mars-north1", &r), ERR_NOT_FOUND);
}
END_TEST

static const struct {
    const char *asked;
    const char *suggested; /* NULL: nothing close enough */
} closest_codes[] = {
    {"FRAN", "FRA"},
    {"FRX", "FRA"},
    {"fra ", "FRA"},
    {"Frnace", "FRA"},
    {"gcp:europe-wst1", "gcp:europe-west1"},
    {"aws:us-east1", "aws:us-east-1"},
    /* a cloud region typed without its provider is measured by its own name */
    {"us-east-01", "aws:us-east-1"},
    {"us-cental1", "gcp:us-central1"},
    /* a region's own name beginning with the text beats a country code near it (EE) */
    {"EU", "aws:eu-central-1"},
    {"us-gov", "aws:us-gov-east-1"},
    {"qqqqqqqqqqqqqqqqqqqqqqqq", NULL},
};

START_TEST(the_closest_code_is_suggested_for_a_miss)
{
    char buf[64] = "";
    enum err rc = db_region_closest(db, closest_codes[_i].asked, buf, sizeof buf);

    if (closest_codes[_i].suggested == NULL) {
        ck_assert_msg(rc == ERR_NOT_FOUND, "%s: suggested %s", closest_codes[_i].asked, buf);
        return;
    }
    ck_assert_int_eq(rc, ERR_OK);
    ck_assert_str_eq(buf, closest_codes[_i].suggested);
}
END_TEST

/* Runs one insert in its own write transaction through the db layer's helper. */
static enum err insert(const char *sql)
{
    enum err rc = db_write_begin(db);

    if (rc != ERR_OK)
        return rc;
    rc = db_exec(db, sql);
    if (rc == ERR_OK)
        return db_write_commit(db);
    db_write_rollback(db);
    return rc;
}

#define REGION_INSERT                                                                              \
    "INSERT INTO regions (code, name, kind, provider, intensity_g_per_kwh, year, source_table, "   \
    "source_row, rank, source) VALUES "

/* Every country that two tables list (Green Algorithms under alpha-2, the energy
 * mix under alpha-3) answers one row, and so one figure, whichever of its codes or
 * names is given; that row is the only one of the country marked preferred. */
START_TEST(every_spelling_of_a_country_in_two_tables_gives_one_figure)
{
    struct db_region_filter filter = {.kind = "country", .limit = 64};
    struct db_region items[64], r, want;
    size_t n = 0, n_countries = 0;
    bool has_more = true;

    while (has_more) {
        ck_assert_int_eq(db_region_list(db, &filter, items, &n, &has_more), ERR_OK);
        for (size_t i = 0; i < n; i++) {
            struct core_country c;
            enum core_location_match how;
            struct db_region two, three;

            filter.after_id = items[i].id;
            if (strlen(items[i].region.code) != 2 ||
                db_country_find(db, items[i].region.code, &c, &how) != ERR_OK ||
                db_region_find(db, c.alpha3, &three) != ERR_OK ||
                strcmp(three.region.code, c.alpha3) != 0)
                continue;
            n_countries++;
            ck_assert_int_eq(db_region_find(db, c.alpha2, &two), ERR_OK);
            want = three;
            ck_assert_str_eq(want.region.table, "codecarbon/global_energy_mix.json");
            ck_assert_msg(want.is_preferred, "%s", c.alpha3);
            ck_assert_msg(!items[i].is_preferred, "%s marked preferred", c.alpha2);
            const char *const spellings[] = {c.alpha2, c.alpha3, c.numeric, c.name, c.common_name};
            for (size_t k = 0; k < sizeof spellings / sizeof spellings[0]; k++) {
                if (spellings[k][0] == '\0')
                    continue;
                ck_assert_msg(db_region_find(db, spellings[k], &r) == ERR_OK, "%s", spellings[k]);
                ck_assert_msg(r.id == want.id, "%s gives %s (%s row %lu), %s gives %s",
                              spellings[k], r.region.code, r.region.table, r.region.row, c.alpha3,
                              want.region.code);
                ck_assert_double_eq(r.region.intensity_g_per_kwh, want.region.intensity_g_per_kwh);
            }
        }
    }
    /* nearly every Green Algorithms country is also in the energy mix */
    ck_assert_uint_gt(n_countries, 50);
}
END_TEST

static const struct {
    const char *text;
    const char *code;
    enum core_location_match how;
} spelt[] = {
    {"DE", "DEU", CORE_LOCATION_ISO_ALPHA2},
    {"deu", "DEU", CORE_LOCATION_ISO_ALPHA3},
    {"276", "DEU", CORE_LOCATION_ISO_NUMERIC},
    {"Germany", "DEU", CORE_LOCATION_COUNTRY_NAME},
    {"US", "USA", CORE_LOCATION_ISO_ALPHA2},
    {"United States", "USA", CORE_LOCATION_COUNTRY_NAME},
    {"South Korea", "KOR", CORE_LOCATION_COUNTRY_NAME},
    {"US-CA", "US-CA", CORE_LOCATION_CODE},
    {"us-east-1", "aws:us-east-1", CORE_LOCATION_CLOUD_REGION},
    {"eu-west-1", "aws:eu-west-1", CORE_LOCATION_CLOUD_REGION},
    {"us-central1", "gcp:us-central1", CORE_LOCATION_CLOUD_REGION},
    {"europe-west4", "gcp:europe-west4", CORE_LOCATION_CLOUD_REGION},
    {"gcp:europe-west4", "gcp:europe-west4", CORE_LOCATION_CODE},
};

START_TEST(codes_names_and_bare_cloud_regions_resolve)
{
    struct db_region r, direct;

    ck_assert_msg(db_region_find(db, spelt[_i].text, &r) == ERR_OK, "%s", spelt[_i].text);
    ck_assert_str_eq(r.region.code, spelt[_i].code);
    ck_assert_int_eq(r.matched_by, spelt[_i].how);
    /* the same row as the row's own code, so the same figure and provenance */
    ck_assert_int_eq(db_region_find(db, spelt[_i].code, &direct), ERR_OK);
    ck_assert_int_eq(r.id, direct.id);
}
END_TEST

/* A stored intensity names its row by table and line; that row is found again
 * even where a lookup of its code now answers another (FR answers FRA). */
START_TEST(a_row_is_found_by_its_table_and_line)
{
    struct db_region_filter filter = {.country = "FR", .kind = "country", .limit = 4};
    struct db_region items[4], r;
    size_t n = 0;
    bool has_more = false;

    ck_assert_int_eq(db_region_list(db, &filter, items, &n, &has_more), ERR_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(items[1].region.code, "FR");
    ck_assert_int_eq(db_region_at(db, items[1].region.table, items[1].region.row, &r), ERR_OK);
    ck_assert_int_eq(r.id, items[1].id);
    ck_assert_double_eq_tol(r.region.intensity_g_per_kwh, 51.28, 1e-9);
    ck_assert_int_eq(db_region_at(db, "green-algorithms/CI_aggregated.csv", 99999, &r),
                     ERR_NOT_FOUND);
}
END_TEST

START_TEST(a_bare_cloud_region_of_two_providers_is_a_conflict_naming_both)
{
    struct db_region r;
    char buf[128];

    ck_assert_int_eq(insert(REGION_INSERT "('azure:us-east-1', 'x', 'cloud', 'azure', 300, NULL, "
                                          "'mlco2-impact/impact.csv', 999, 4, '')"),
                     ERR_OK);
    ck_assert_int_eq(db_region_find(db, "us-east-1", &r), ERR_CONFLICT);
    ck_assert_int_eq(db_region_candidates(db, "US-EAST-1", buf, sizeof buf), ERR_OK);
    ck_assert_str_eq(buf, "aws:us-east-1, azure:us-east-1");
    /* the provider's own code still answers */
    ck_assert_int_eq(db_region_find(db, "azure:us-east-1", &r), ERR_OK);
    ck_assert_int_eq(db_region_candidates(db, "mars-north1", buf, sizeof buf), ERR_NOT_FOUND);
}
END_TEST

static const struct {
    const char *text;
    const char *code; /* NULL: kept as text */
    enum core_location_match how;
} card_texts[] = {
    {"USA", "USA", CORE_LOCATION_ISO_ALPHA3},
    {"Frankfurt, Germany", "DEU", CORE_LOCATION_FREE_TEXT},
    {"Orsay, France", "FRA", CORE_LOCATION_FREE_TEXT},
    {"europe-north1", "gcp:europe-north1", CORE_LOCATION_CLOUD_REGION},
    {"Singapore", "SGP", CORE_LOCATION_COUNTRY_NAME},
    {"Korea, Republic of", "KOR", CORE_LOCATION_COUNTRY_NAME},
    {"Paris, France, FR", "FRA", CORE_LOCATION_FREE_TEXT},
    {"London, UK", "GBR", CORE_LOCATION_FREE_TEXT},
    {"Russia", "RUS", CORE_LOCATION_COUNTRY_NAME},
    {"France, Germany", NULL, CORE_LOCATION_NONE},
    {"somewhere on a laptop", NULL, CORE_LOCATION_NONE},
    {"Frankfurt", NULL, CORE_LOCATION_NONE},
    {"", NULL, CORE_LOCATION_NONE},
};

START_TEST(free_text_resolves_when_unambiguous_and_is_kept_otherwise)
{
    struct db_region r;
    bool is_matched = true;

    memset(&r, 0, sizeof r);
    ck_assert_int_eq(db_region_resolve_text(db, card_texts[_i].text, &r, &is_matched), ERR_OK);
    if (card_texts[_i].code == NULL) {
        ck_assert_msg(!is_matched, "%s matched %s", card_texts[_i].text, r.region.code);
        return;
    }
    ck_assert_msg(is_matched, "%s", card_texts[_i].text);
    ck_assert_str_eq(r.region.code, card_texts[_i].code);
    ck_assert_int_eq(r.matched_by, card_texts[_i].how);
}
END_TEST

/* Walks every page of a region filter; returns the number of rows, checking ids
 * increase and that only the last page says it is the last. */
static size_t count_regions(struct db_region_filter filter, size_t page)
{
    struct db_region items[64];
    size_t total = 0, n = 0;
    bool has_more = true;
    int64_t last_id = 0;

    ck_assert_uint_le(page, 64);
    filter.limit = page;
    while (has_more) {
        ck_assert_int_eq(db_region_list(db, &filter, items, &n, &has_more), ERR_OK);
        ck_assert(n <= page);
        ck_assert(!has_more || n == page);
        for (size_t i = 0; i < n; i++) {
            ck_assert_int_gt(items[i].id, last_id);
            last_id = items[i].id;
        }
        total += n;
        filter.after_id = last_id;
    }
    return total;
}

START_TEST(region_lists_page_through_every_row_once_and_filter)
{
    struct db_region items[64];
    struct db_region_filter us = {.country = "us", .limit = 64};
    size_t n = 0;
    bool has_more = false;

    ck_assert_uint_eq(count_regions((struct db_region_filter){0}, 50), 44 + 213 + 131 + 81);
    ck_assert_uint_eq(count_regions((struct db_region_filter){0}, 7), 44 + 213 + 131 + 81);
    ck_assert_uint_eq(count_regions((struct db_region_filter){.kind = "world"}, 10), 1);
    ck_assert_uint_eq(count_regions((struct db_region_filter){.provider = "GCP"}, 10),
                      44 + 21); /* 2024.csv and the gcp rows of impact.csv */
    ck_assert_uint_eq(count_regions((struct db_region_filter){.name = "belgium"}, 10), 4);

    /* a country filter gives the country and its subdivisions, never a cloud row */
    ck_assert_int_eq(db_region_list(db, &us, items, &n, &has_more), ERR_OK);
    ck_assert_uint_gt(n, 10);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(strcasecmp(items[i].region.code, "US") == 0 ||
                          strcasecmp(items[i].region.code, "USA") == 0 ||
                          strncasecmp(items[i].region.code, "US-", 3) == 0,
                      "%s", items[i].region.code);
        ck_assert_str_ne(items[i].kind, "cloud");
    }
}
END_TEST

/* ---- hardware ---- */

START_TEST(v100_is_the_green_algorithms_tesla_v100_at_300_w)
{
    static const char *const spellings[] = {
        "V100", "v100", "Tesla V100", "NVIDIA Tesla V100", "nvidia tesla-v100", " V 100 "};
    struct db_hardware h;

    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        ck_assert_msg(db_hardware_find(db, spellings[i], &h) == ERR_OK, "%s", spellings[i]);
        ck_assert_str_eq(h.hardware.name, "NVIDIA Tesla V100");
        ck_assert_double_eq_tol(h.hardware.tdp_w, 300.0, 1e-9);
        ck_assert_int_eq(h.hardware.kind, CORE_HARDWARE_GPU);
        ck_assert_str_eq(h.hardware.table, "green-algorithms/TDP_gpu.csv");
        ck_assert_uint_eq(h.hardware.row, 18);
        ck_assert_str_eq(h.licence, "CC-BY-4.0");
    }
}
END_TEST

START_TEST(a_full_name_finds_its_own_row_with_peak_flops)
{
    struct db_hardware h;

    ck_assert_int_eq(db_hardware_find(db, "tesla v100 sxm2 32gb", &h), ERR_OK);
    ck_assert_str_eq(h.hardware.name, "Tesla V100-SXM2-32GB");
    ck_assert_str_eq(h.hardware.table, "mlco2-impact/gpus.csv");
    ck_assert(h.hardware.has_peak_fp16);
    ck_assert_double_eq_tol(h.hardware.peak_fp16_flops_per_s, 30e12, 1.0);
    ck_assert_double_eq_tol(h.hardware.peak_fp32_flops_per_s, 15e12, 1.0);
    ck_assert_double_eq_tol(h.hardware.memory_gb, 32.0, 1e-9);
    ck_assert_int_eq(db_hardware_find(db, "TPU v3", &h), ERR_OK);
    ck_assert_int_eq(h.hardware.kind, CORE_HARDWARE_TPU);
    ck_assert_double_eq_tol(h.hardware.tdp_w, 220.0, 1e-9);
}
END_TEST

START_TEST(a_name_in_two_tables_answers_from_the_higher_ranked_one)
{
    struct db_hardware items[8];
    struct db_hardware_filter filter = {.name = "rx480", .limit = 8};
    struct db_hardware h;
    size_t n = 0;
    bool has_more = true;

    ck_assert_int_eq(db_hardware_find(db, "AMD RX480", &h), ERR_OK);
    ck_assert_str_eq(h.hardware.table, "green-algorithms/TDP_gpu.csv");
    ck_assert(h.is_preferred);
    ck_assert_int_eq(db_hardware_list(db, &filter, items, &n, &has_more), ERR_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert(items[0].is_preferred != items[1].is_preferred);
}
END_TEST

START_TEST(unknown_hardware_is_not_found_and_the_closest_name_suggested)
{
    struct db_hardware h;
    char buf[96] = "";

    ck_assert_int_eq(db_hardware_find(db, "V10", &h), ERR_NOT_FOUND);
    ck_assert_int_eq(db_hardware_find(db, "---", &h), ERR_NOT_FOUND);
    ck_assert_int_eq(db_hardware_closest(db, "V10", buf, sizeof buf), ERR_OK);
    ck_assert_str_eq(buf, "NVIDIA Tesla V100");
    ck_assert_int_eq(db_hardware_closest(db, "RTX 4091", buf, sizeof buf), ERR_OK);
    ck_assert_str_eq(buf, "RTX 4090");
    ck_assert_int_eq(db_hardware_closest(db, "zzzzzzzzzzzzzzzzzzzz", buf, sizeof buf),
                     ERR_NOT_FOUND);
}
END_TEST

START_TEST(hardware_lists_filter_by_kind_and_name_and_page)
{
    struct db_hardware items[64];
    struct db_hardware_filter filter = {.kind = "tpu", .limit = 64};
    size_t n = 0, total = 0;
    bool has_more = true;
    int64_t last_id = 0;

    ck_assert_int_eq(db_hardware_list(db, &filter, items, &n, &has_more), ERR_OK);
    ck_assert_uint_eq(n, 5); /* TPU v2, v3, v4; TPUv2 Chip, TPUv3 Chip */
    ck_assert(!has_more);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(items[i].hardware.kind, CORE_HARDWARE_TPU);

    filter = (struct db_hardware_filter){.name = "v100", .limit = 2};
    do {
        ck_assert_int_eq(db_hardware_list(db, &filter, items, &n, &has_more), ERR_OK);
        ck_assert(!has_more || n == 2);
        for (size_t i = 0; i < n; i++) {
            ck_assert_ptr_nonnull(strstr(items[i].hardware.name, "V100"));
            ck_assert_int_gt(items[i].id, last_id);
            last_id = items[i].id;
        }
        total += n;
        filter.after_id = last_id;
    } while (has_more);
    ck_assert_uint_eq(total, 5);
}
END_TEST

/* ---- schema and migrations ---- */

START_TEST(check_constraints_refuse_bad_rows)
{
    static const char *const refused[] = {
        REGION_INSERT
        "('XX', 'x', 'country', NULL, -1, NULL, 'mlco2-impact/impact.csv', 999, 4, '')",
        REGION_INSERT
        "('XX', 'x', 'country', NULL, 2001, NULL, 'mlco2-impact/impact.csv', 999, 4, '')",
        REGION_INSERT "('XX', 'x', 'cloud', NULL, 1, NULL, 'mlco2-impact/impact.csv', 999, 4, '')",
        REGION_INSERT
        "('XX', 'x', 'country', NULL, 1, 1800, 'mlco2-impact/impact.csv', 999, 4, '')",
        REGION_INSERT "('XX', 'x', 'country', NULL, 1, NULL, 'no/such.csv', 999, 4, '')",
        REGION_INSERT
        "('XX', 'x', 'country', NULL, 'high', NULL, 'mlco2-impact/impact.csv', 999, 4, "
        "'')",
        "INSERT INTO hardware (name, name_key, alias_key, kind, tdp_w, source_table, source_row, "
        "rank, source) VALUES ('x', 'x', 'x', 'fpga', 1, 'mlco2-impact/gpus.csv', 999, 3, '')",
        "INSERT INTO hardware (name, name_key, alias_key, kind, tdp_w, source_table, source_row, "
        "rank, source) VALUES ('x', 'x', 'x', 'gpu', 0, 'mlco2-impact/gpus.csv', 999, 3, '')",
    };

    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        ck_assert_msg(insert(refused[i]) != ERR_OK, "accepted: %s", refused[i]);
    /* a row that passes every constraint does go in: the refusals above are real */
    ck_assert_int_eq(
        insert(REGION_INSERT
               "('XX', 'x', 'country', NULL, 1, 2020, 'mlco2-impact/impact.csv', 999, 4, '')"),
        ERR_OK);
}
END_TEST

START_TEST(running_the_migrations_again_loads_nothing_twice)
{
    int from = 0, to = 0;
    struct db_region items[4];
    struct db_region_filter filter = {.country = "FRA", .limit = 4};
    size_t n = 0;
    bool has_more = false;

    ck_assert_int_ge(db_schema_latest(), 3);
    ck_assert_int_eq(db_migrate(db, &from, &to), ERR_OK);
    ck_assert_int_eq(from, db_schema_latest());
    ck_assert_int_eq(to, db_schema_latest());
    db_close(db);
    open_db();
    ck_assert_int_eq(db_migrate(db, &from, &to), ERR_OK);
    ck_assert_int_eq(from, to);
    ck_assert_int_eq(db_region_list(db, &filter, items, &n, &has_more), ERR_OK);
    ck_assert_uint_eq(n, 2); /* FRA and FR, once each */
    read_report();
    ck_assert_uint_eq(n_loads, N_EXPECTED_LOADS);
    ck_assert_uint_eq(n_skips, 5);
    ck_assert_uint_eq(count_regions((struct db_region_filter){0}, 64), 44 + 213 + 131 + 81);
}
END_TEST

static Suite *refdata_suite(void)
{
    Suite *s = suite_create("db_refdata");
    TCase *load = tcase_create("load");
    TCase *regions = tcase_create("regions");
    TCase *hardware = tcase_create("hardware");
    TCase *schema = tcase_create("schema");
    TCase *cases[] = {load, regions, hardware, schema};

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tcase_add_checked_fixture(cases[i], setup, teardown);
        tcase_set_timeout(cases[i], 30);
        suite_add_tcase(s, cases[i]);
    }
    tcase_add_loop_test(load, each_table_reports_its_loaded_and_skipped_rows, 0,
                        (int)N_EXPECTED_LOADS);
    tcase_add_test(load, every_skipped_row_is_recorded_with_its_line_and_reason);

    tcase_add_test(regions, fra_is_56_039_g_per_kwh_of_2023_from_global_energy_mix_json);
    tcase_add_test(regions, codes_are_found_whatever_their_case);
    tcase_add_test(
        regions, alpha_2_codes_answer_the_country_row_and_subdivisions_come_from_green_algorithms);
    tcase_add_test(regions, gcp_europe_west1_resolves_to_google_2024_before_mlco2_impact);
    tcase_add_test(regions, aws_regions_come_from_mlco2_impact);
    tcase_add_test(regions, an_unknown_code_is_not_found);
    tcase_add_loop_test(regions, the_closest_code_is_suggested_for_a_miss, 0,
                        (int)(sizeof closest_codes / sizeof closest_codes[0]));
    tcase_add_test(regions, region_lists_page_through_every_row_once_and_filter);
    tcase_add_test(regions, every_spelling_of_a_country_in_two_tables_gives_one_figure);
    tcase_add_loop_test(regions, codes_names_and_bare_cloud_regions_resolve, 0,
                        (int)(sizeof spelt / sizeof spelt[0]));
    tcase_add_test(regions, a_row_is_found_by_its_table_and_line);
    tcase_add_test(regions, a_bare_cloud_region_of_two_providers_is_a_conflict_naming_both);
    tcase_add_loop_test(regions, free_text_resolves_when_unambiguous_and_is_kept_otherwise, 0,
                        (int)(sizeof card_texts / sizeof card_texts[0]));

    tcase_add_test(hardware, v100_is_the_green_algorithms_tesla_v100_at_300_w);
    tcase_add_test(hardware, a_full_name_finds_its_own_row_with_peak_flops);
    tcase_add_test(hardware, a_name_in_two_tables_answers_from_the_higher_ranked_one);
    tcase_add_test(hardware, unknown_hardware_is_not_found_and_the_closest_name_suggested);
    tcase_add_test(hardware, hardware_lists_filter_by_kind_and_name_and_page);

    tcase_add_test(schema, check_constraints_refuse_bad_rows);
    tcase_add_test(schema, running_the_migrations_again_loads_nothing_twice);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(refdata_suite());
    int failed;

    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
