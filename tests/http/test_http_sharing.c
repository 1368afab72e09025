/* SPDX-License-Identifier: Apache-2.0 */
/* The two figures of sharing over real HTTP: the day inference overtakes training
 * for a BERT-like base whose inference profile is derived from training (parity at
 * 256 billion words; at 100 billion words a day, overtaken 2.56 days after usage
 * starts), its projection at the window's rate, the answers without usage or
 * profile; and the sharing dividend of a family on its family page (the family's
 * sum, each descendant's share, the counterfactual fraction, the CSV column), and
 * summed over the ledger in GET /v1/totals and GET /metrics. */
#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TEST_TIMEOUT_S 60
#define KG_PER_LB      0.45359237

static struct ct_server *srv;

static void start_server(void)
{
    char why[4096];

    srv = ct_server_new();
    ck_assert_msg(ct_server_start(srv, why, sizeof why), "%s", why);
}

static void stop_servers(void)
{
    ct_cleanup_all();
    srv = NULL;
}

static void send_ok(const char *method, const char *path, const char *single_quoted, long status)
{
    struct ct_response r;

    ct_send(srv, method, path, single_quoted, &r);
    ck_assert_msg(r.status == status, "%s %s answered %ld: %s", method, path, r.status,
                  r.status ? r.body : r.error);
    ct_response_cleanup(&r);
}

/* POST …/inferences of count on date (YYYY-MM-DD), with its own idempotency key. */
static void count_on(const char *model, long long count, const char *date)
{
    static int n;
    char path[256], key[64], header[96], body[128];
    const char *headers[] = {header, "Content-Type: application/json", NULL};
    struct ct_response r;

    snprintf(path, sizeof path, "/v1/models/%s/inferences", model);
    snprintf(key, sizeof key, "sharing-%d", n++);
    snprintf(header, sizeof header, "Idempotency-Key: %s", key);
    snprintf(body, sizeof body, "{\"count\": %lld, \"date\": \"%s\"}", count, date);
    ct_request(srv, "POST", path, headers, body, strlen(body), &r);
    ck_assert_msg(r.status == 201 || r.status == 200, "count answered %ld: %s", r.status,
                  r.status ? r.body : r.error);
    ct_response_cleanup(&r);
}

static void get_ok(const char *path, struct ct_response *r)
{
    ct_get(srv, path, r);
    ck_assert_msg(r->status == 200, "GET %s answered %ld: %s", path, r->status,
                  r->status ? r->body : r->error);
    ck_assert_ptr_nonnull(r->json);
}

/* The date days after today (UTC), as the server's clock sees it. */
static void date_after_today(int days, char *buf, size_t len)
{
    time_t t = time(NULL) + (time_t)days * 86400;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d", &tm);
}

/* Strubell's BERT run as energy (1,506.8 kWh at 0.954 lb/kWh), and inference derived
 * from it: half a training step per word over 1,000,000 steps of 128,000 words,
 * served on the same grid, so that CO2e parity is energy parity. */
static void register_bert(const char *id)
{
    char body[512], path[256];

    snprintf(body, sizeof body, "{'id': '%s'}", id);
    send_ok("POST", "/v1/models", body, 201);
    snprintf(path, sizeof path, "/v1/models/%s/activities", id);
    send_ok("POST", path,
            "{'kind': 'training', 'energy_kwh': 1506.8, 'carbon_intensity': {'value': 0.954, "
            "'unit': 'lb/kWh'}}",
            201);
    snprintf(path, sizeof path, "/v1/models/%s", id);
    send_ok("PATCH", path,
            "{'inference': {'unit': 'word', 'derived_from_training': {'ratio': 0.5, "
            "'token_steps': 128000000000}, 'carbon_intensity': {'value': 0.954, 'unit': "
            "'lb/kWh'}}}",
            200);
}

START_TEST(bert_like_base_is_overtaken_2_56_days_after_usage_starts)
{
    const char *days[] = {"2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"};
    const double training_kg = 1506.8 * 0.954 * KG_PER_LB;
    struct ct_response r;
    const json_t *o;

    register_bert("seed/bert");
    get_ok("/v1/models/seed/bert/footprint", &r);
    ck_assert_double_eq_tol(ct_number_at(r.json, "parity_inferences"), 256e9, 1);
    o = ct_json_at(r.json, "inference_overtakes_training");
    ck_assert_str_eq(ct_string_at(o, "status"), "no_usage");
    ck_assert(json_is_null(ct_json_at(o, "date")));
    ck_assert_ptr_nonnull(strstr(ct_string_at(o, "reason"), "no inference"));
    ct_response_cleanup(&r);

    for (size_t i = 0; i < 4; i++)
        count_on("seed/bert", 100000000000LL, days[i]); /* the 2018 Translate volume */
    get_ok("/v1/models/seed/bert/footprint", &r);
    o = ct_json_at(r.json, "inference_overtakes_training");
    ck_assert_str_eq(ct_string_at(o, "status"), "overtaken");
    ck_assert_str_eq(ct_string_at(o, "first_use_date"), "2026-01-01");
    ck_assert_str_eq(ct_string_at(o, "date/value"), "2026-01-03");
    ck_assert_double_eq_tol(ct_number_at(o, "days_after_first_use/value"), 2.56, 1e-9);
    ck_assert_double_eq_tol(ct_number_at(o, "days_after_first_use/low"), 2.56, 1e-9);
    ck_assert_double_eq_tol(ct_number_at(o, "days_after_first_use/high"), 2.56, 1e-9);
    ck_assert_double_eq_tol(ct_number_at(o, "training_co2e_kg/value"), training_kg, 1e-9);
    ck_assert_double_eq_tol(ct_number_at(o, "inference_co2e_kg/value"),
                            training_kg * 4e11 / 2.56e11, 1e-9);
    ck_assert_int_eq((int)ct_number_at(o, "window_days"), 28);
    ck_assert_ptr_nonnull(strstr(ct_string_at(o, "method"), "training"));
    ct_response_cleanup(&r);
}
END_TEST

/* The same example over a family: the base and a fine-tune that inherits its
 * profile and adds no training, each serving half of the 100 billion words a day.
 * The family is overtaken 2.56 days into its usage; each member alone, at half the
 * volume, has not got there in the four days. */
START_TEST(bert_family_is_overtaken_2_56_days_after_its_usage_starts)
{
    const char *days[] = {"2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"};
    const double training_kg = 1506.8 * 0.954 * KG_PER_LB;
    struct ct_response r;
    const json_t *o;

    register_bert("fam/bert");
    send_ok("POST", "/v1/models", "{'id': 'fam/bert-ft', 'parents': [{'id': 'fam/bert'}]}", 201);
    get_ok("/v1/models/fam/bert/family", &r);
    o = ct_json_at(r.json, "inference_overtakes_training");
    ck_assert_str_eq(ct_string_at(o, "status"), "no_usage");
    ck_assert(json_is_null(ct_json_at(o, "date")));
    ct_response_cleanup(&r);

    for (size_t i = 0; i < 4; i++) {
        count_on("fam/bert", 50000000000LL, days[i]);
        count_on("fam/bert-ft", 50000000000LL, days[i]);
    }
    get_ok("/v1/models/fam/bert/family", &r);
    o = ct_json_at(r.json, "inference_overtakes_training");
    ck_assert_str_eq(ct_string_at(o, "status"), "overtaken");
    ck_assert_str_eq(ct_string_at(o, "first_use_date"), "2026-01-01");
    ck_assert_str_eq(ct_string_at(o, "date/value"), "2026-01-03");
    ck_assert_double_eq_tol(ct_number_at(o, "days_after_first_use/value"), 2.56, 1e-9);
    ck_assert_double_eq_tol(ct_number_at(o, "training_co2e_kg/value"), training_kg, 1e-9);
    ck_assert_double_eq_tol(ct_number_at(o, "inference_co2e_kg/value"),
                            training_kg * 4e11 / 2.56e11, 1e-9);
    ck_assert_ptr_nonnull(strstr(ct_string_at(o, "method"), "family"));
    ct_response_cleanup(&r);
    /* The base alone has served half: 2e11 of the 2.56e11 words, and no count in
     * the last 28 days to project from. */
    get_ok("/v1/models/fam/bert/footprint", &r);
    o = ct_json_at(r.json, "inference_overtakes_training");
    ck_assert_str_eq(ct_string_at(o, "status"), "no_rate");
    ck_assert_double_eq_tol(ct_number_at(o, "inference_co2e_kg/value"),
                            training_kg * 2e11 / 2.56e11, 1e-9);
    ct_response_cleanup(&r);

    /* Read below the fine-tune: its half alone, against the training it rests on. */
    get_ok("/v1/models/fam/bert-ft/family?window_days=7", &r);
    o = ct_json_at(r.json, "inference_overtakes_training");
    ck_assert_str_eq(ct_string_at(o, "status"), "no_rate");
    ck_assert_double_eq_tol(ct_number_at(o, "inference_co2e_kg/value"),
                            training_kg * 2e11 / 2.56e11, 1e-9);
    ck_assert_double_eq_tol(ct_number_at(o, "training_co2e_kg/value"), training_kg, 1e-9);
    ck_assert_int_eq((int)ct_number_at(o, "window_days"), 7);
    ct_response_cleanup(&r);

    ct_get(srv, "/v1/models/fam/bert/family?window_days=0", &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", "window_days");
    ct_response_cleanup(&r);
}
END_TEST

/* A family whose members have no profile: its counts have no CO2e, and it says so. */
START_TEST(family_without_a_profile_says_so)
{
    struct ct_response r;

    send_ok("POST", "/v1/models", "{'id': 'plain/base'}", 201);
    send_ok("POST", "/v1/models/plain/base/activities", "{'kind': 'training', 'co2e_kg': 5}", 201);
    count_on("plain/base", 10, "2026-01-01");
    get_ok("/v1/models/plain/base/family", &r);
    ck_assert_str_eq(ct_string_at(r.json, "inference_overtakes_training/status"), "no_profile");
    ck_assert_ptr_nonnull(
        strstr(ct_string_at(r.json, "inference_overtakes_training/reason"), "profile"));
    ct_response_cleanup(&r);
}
END_TEST

/* 100 billion words today: 1.56e11 more to go at the window's mean rate. */
START_TEST(not_yet_overtaken_is_projected_at_the_window_rate)
{
    char today[16], expected[16], path[128];
    struct ct_response r;
    const json_t *o;

    register_bert("seed/projected");
    date_after_today(0, today, sizeof today);
    count_on("seed/projected", 100000000000LL, today);
    get_ok("/v1/models/seed/projected/footprint", &r);
    o = ct_json_at(r.json, "inference_overtakes_training");
    ck_assert_str_eq(ct_string_at(o, "status"), "projected");
    /* 1 + 1.56e11 / (1e11 / 28) = 44.68 days after the first use. */
    ck_assert_double_eq_tol(ct_number_at(o, "days_after_first_use/value"), 1 + 1.56 * 28, 1e-9);
    date_after_today(44, expected, sizeof expected);
    ck_assert_str_eq(ct_string_at(o, "date/value"), expected);
    /* The recent mean (7 days) is the fastest rate: the earliest day. */
    ck_assert_double_eq_tol(ct_number_at(o, "days_after_first_use/low"), 1 + 1.56 * 7, 1e-9);
    ct_response_cleanup(&r);

    snprintf(path, sizeof path, "/v1/models/seed/projected/footprint?window_days=7");
    get_ok(path, &r);
    o = ct_json_at(r.json, "inference_overtakes_training");
    ck_assert_int_eq((int)ct_number_at(o, "window_days"), 7);
    ck_assert_double_eq_tol(ct_number_at(o, "days_after_first_use/value"), 1 + 1.56 * 7, 1e-9);
    ct_response_cleanup(&r);

    ct_get(srv, "/v1/models/seed/projected/footprint?window_days=0", &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", "window_days");
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(a_model_without_profile_says_so)
{
    struct ct_response r;

    send_ok("POST", "/v1/models", "{'id': 'seed/plain'}", 201);
    get_ok("/v1/models/seed/plain/footprint", &r);
    ck_assert_str_eq(ct_string_at(r.json, "inference_overtakes_training/status"), "no_profile");
    ck_assert(json_is_string(ct_json_at(r.json, "inference_overtakes_training/reason")));
    ct_response_cleanup(&r);
}
END_TEST

/* A base of 652 kg pre-training and three fine-tunes reported as the Hub's cards
 * write them (grams): each avoided 652 kg less its own; the family emitted 1/N of
 * what four separate trainings would have. */
static void register_family(void)
{
    send_ok("POST", "/v1/models", "{'id': 'fam/base'}", 201);
    send_ok("POST", "/v1/models/fam/base/activities", "{'kind': 'training', 'co2e_kg': 652}", 201);
    send_ok("POST", "/v1/models",
            "{'id': 'fam/a', 'base_model': 'fam/base', 'co2_eq_emissions': {'emissions': 1710, "
            "'training_type': 'fine-tuning'}}",
            201);
    send_ok("POST", "/v1/models",
            "{'id': 'fam/b', 'base_model': 'fam/base', 'co2_eq_emissions': 2500}", 201);
    send_ok("POST", "/v1/models",
            "{'id': 'fam/c', 'base_model': 'fam/base', 'co2_eq_emissions': {'emissions': 3100, "
            "'training_type': 'fine-tuning'}}",
            201);
}

START_TEST(family_page_carries_the_sharing_dividend)
{
    const double own = 1.71 + 2.5 + 3.1, avoided = 3 * 652 - own;
    struct ct_response r;
    const json_t *d;

    register_family();
    get_ok("/v1/models/fam/base/family?policy=equal", &r);
    d = ct_json_at(r.json, "sharing_dividend");
    ck_assert_str_eq(ct_string_at(d, "status"), "ok");
    ck_assert_double_eq_tol(ct_number_at(d, "avoided_co2e_kg/value"), avoided, 1e-9);
    ck_assert_double_eq_tol(ct_number_at(d, "emitted_co2e_kg/value"), 652 + own, 1e-9);
    ck_assert_double_eq_tol(ct_number_at(d, "counterfactual_co2e_kg/value"), 4 * 652, 1e-9);
    ck_assert_double_eq_tol(ct_number_at(d, "multiple/value"), 4 * 652 / (652 + own), 1e-12);
    ck_assert_int_eq((int)ct_number_at(d, "descendants"), 3);
    ck_assert_double_eq_tol(ct_number_at(d, "counterfactual_fraction"), 1, 1e-15);
    ck_assert(json_is_null(ct_json_at(r.json, "items/0/sharing")));
    ck_assert_str_eq(ct_string_at(r.json, "items/1/id"), "fam/a");
    ck_assert_double_eq_tol(ct_number_at(r.json, "items/1/sharing/avoided_co2e_kg/value"),
                            652 - 1.71, 1e-9);
    ct_response_cleanup(&r);

    /* A smaller counterfactual: each descendant would have paid a tenth. */
    get_ok("/v1/models/fam/base/family?counterfactual_fraction=0.1", &r);
    ck_assert_double_eq_tol(ct_number_at(r.json, "sharing_dividend/avoided_co2e_kg/value"),
                            3 * 65.2 - own, 1e-9);
    ct_response_cleanup(&r);

    ct_get(srv, "/v1/models/fam/base/family?counterfactual_fraction=2", &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", "counterfactual_fraction");
    ct_response_cleanup(&r);

    /* A leaf's family is itself: no dividend, and the answer says why. */
    get_ok("/v1/models/fam/a/family", &r);
    ck_assert_str_eq(ct_string_at(r.json, "sharing_dividend/status"), "no_descendants");
    ck_assert(json_is_null(ct_json_at(r.json, "sharing_dividend/avoided_co2e_kg")));
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(family_csv_has_an_avoided_column_that_adds_up)
{
    struct ct_response r;
    const char *headers[] = {"Accept: text/csv", NULL};
    double sum = 0;
    char *line, *save = NULL;
    int column = -1, row = 0;

    register_family();
    ct_request(srv, "GET", "/v1/models/fam/base/family", headers, NULL, 0, &r);
    ck_assert_int_eq(r.status, 200);
    /* Fields split by hand: an empty one (a root's parents, a root's avoided) counts. */
    for (line = strtok_r(r.body, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        int i = 0;
        for (char *start = line;; i++) {
            char *comma = strchr(start, ',');
            if (comma)
                *comma = '\0';
            if (row == 0 && strcmp(start, "avoided_co2e_kg") == 0)
                column = i;
            else if (row > 0 && i == column)
                sum += strtod(start, NULL);
            if (comma == NULL)
                break;
            start = comma + 1;
        }
        row++;
    }
    ck_assert_int_ge(column, 0);
    ck_assert_int_eq(row, 5);
    ck_assert_double_eq_tol(sum, 3 * 652 - (1.71 + 2.5 + 3.1), 1e-6);
    ct_response_cleanup(&r);
}
END_TEST

/* The value of the sample line that starts with series in a /metrics text. */
static double metric_value(const char *text, const char *series)
{
    const char *line = strstr(text, series);

    ck_assert_msg(line != NULL, "no %s in:\n%s", series, text);
    return strtod(line + strlen(series), NULL);
}

START_TEST(totals_and_metrics_sum_the_dividend_over_the_ledger)
{
    const double own = 1.71 + 2.5 + 3.1, avoided = 3 * 652 - own;
    struct ct_response r, family;
    const json_t *d;

    get_ok("/v1/totals", &r);
    d = ct_json_at(r.json, "sharing_dividend");
    ck_assert_str_eq(ct_string_at(d, "status"), "no_descendants");
    ck_assert(json_is_null(ct_json_at(d, "avoided_co2e_kg")));
    ck_assert_ptr_nonnull(strstr(ct_string_at(d, "reason"), "no model builds on another"));
    ct_response_cleanup(&r);

    register_family();
    get_ok("/v1/totals", &r);
    d = ct_json_at(r.json, "sharing_dividend");
    ck_assert_str_eq(ct_string_at(d, "status"), "ok");
    ck_assert_double_eq_tol(ct_number_at(d, "avoided_co2e_kg/value"), avoided, 1e-9);
    ck_assert_double_eq_tol(ct_number_at(d, "emitted_co2e_kg/value"), 652 + own, 1e-9);
    ck_assert_double_eq_tol(ct_number_at(d, "counterfactual_co2e_kg/value"), 4 * 652, 1e-9);
    ck_assert_double_eq_tol(ct_number_at(d, "multiple/value"), 4 * 652 / (652 + own), 1e-12);
    ck_assert_int_eq((int)ct_number_at(d, "descendants"), 3);
    ck_assert_int_eq((int)ct_number_at(d, "descendants_without_pretraining"), 0);
    ck_assert_double_eq_tol(ct_number_at(d, "counterfactual_fraction"), 1, 1e-15);
    ck_assert_ptr_nonnull(strstr(ct_string_at(d, "method"), "pre-training"));
    /* One family: the ledger's sum is the family page's, range and all. */
    get_ok("/v1/models/fam/base/family", &family);
    for (size_t i = 0; i < 3; i++) {
        static const char *const bounds[] = {"avoided_co2e_kg/low", "avoided_co2e_kg/value",
                                             "avoided_co2e_kg/high"};
        ck_assert_double_eq_tol(
            ct_number_at(d, bounds[i]),
            ct_number_at(ct_json_at(family.json, "sharing_dividend"), bounds[i]), 1e-9);
    }
    ct_response_cleanup(&family);
    ct_response_cleanup(&r);

    /* Another namespace, a root without pre-training: its descendant is counted and
     * left out of the sum; fam's own figure is untouched. */
    send_ok("POST", "/v1/models", "{'id': 'other/bare'}", 201);
    send_ok("POST", "/v1/models", "{'id': 'other/kid', 'parents': [{'id': 'other/bare'}]}", 201);
    get_ok("/v1/totals?namespace=other", &r);
    d = ct_json_at(r.json, "sharing_dividend");
    ck_assert_str_eq(ct_string_at(d, "status"), "no_pretraining");
    ck_assert_int_eq((int)ct_number_at(d, "descendants_without_pretraining"), 1);
    ck_assert_double_eq_tol(ct_number_at(d, "avoided_co2e_kg/value"), 0, 1e-12);
    ct_response_cleanup(&r);
    get_ok("/v1/totals?namespace=fam", &r);
    ck_assert_double_eq_tol(ct_number_at(r.json, "sharing_dividend/avoided_co2e_kg/value"), avoided,
                            1e-9);
    ct_response_cleanup(&r);

    /* The root's training arrives: the kid avoided its 10 kg. */
    send_ok("POST", "/v1/models/other/bare/activities", "{'kind': 'training', 'co2e_kg': 10}", 201);
    get_ok("/v1/totals", &r);
    d = ct_json_at(r.json, "sharing_dividend");
    ck_assert_str_eq(ct_string_at(d, "status"), "ok");
    ck_assert_int_eq((int)ct_number_at(d, "descendants"), 4);
    ck_assert_double_eq_tol(ct_number_at(d, "avoided_co2e_kg/value"), avoided + 10, 1e-9);
    ct_response_cleanup(&r);

    ct_get(srv, "/metrics", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_double_eq_tol(
        metric_value(r.body, "carbontree_sharing_avoided_co2e_kg{bound=\"central\"} "),
        avoided + 10, 1e-6);
    ck_assert(metric_value(r.body, "carbontree_sharing_avoided_co2e_kg{bound=\"low\"} ") <=
              avoided + 10 + 1e-6);
    ck_assert(metric_value(r.body, "carbontree_sharing_avoided_co2e_kg{bound=\"high\"} ") >=
              avoided + 10 - 1e-6);
    ck_assert_double_eq_tol(
        metric_value(r.body, "carbontree_sharing_descendants_without_pretraining "), 0, 1e-12);
    ct_response_cleanup(&r);
}
END_TEST

static Suite *sharing_suite(void)
{
    Suite *s = suite_create("http_sharing");
    TCase *overtake = tcase_create("overtake");
    TCase *dividend = tcase_create("dividend");
    TCase *all[] = {overtake, dividend};

    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        tcase_add_checked_fixture(all[i], start_server, stop_servers);
        tcase_set_timeout(all[i], TEST_TIMEOUT_S);
        suite_add_tcase(s, all[i]);
    }
    tcase_add_test(overtake, bert_like_base_is_overtaken_2_56_days_after_usage_starts);
    tcase_add_test(overtake, not_yet_overtaken_is_projected_at_the_window_rate);
    tcase_add_test(overtake, a_model_without_profile_says_so);
    tcase_add_test(overtake, bert_family_is_overtaken_2_56_days_after_its_usage_starts);
    tcase_add_test(overtake, family_without_a_profile_says_so);
    tcase_add_test(dividend, family_page_carries_the_sharing_dividend);
    tcase_add_test(dividend, family_csv_has_an_avoided_column_that_adds_up);
    tcase_add_test(dividend, totals_and_metrics_sum_the_dividend_over_the_ledger);
    return s;
}

int main(void)
{
    return ct_main(sharing_suite());
}
