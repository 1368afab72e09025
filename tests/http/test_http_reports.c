/* SPDX-License-Identifier: Apache-2.0 */
/* Batch inference reports and the daily series over the wire: a batch counts every
 * model in one request and replays by key, refuses an unknown model or an overflow
 * whole, and the series is dense and bounded. */
#include "ledger_steps.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(batch_counts_every_model_in_one_request_and_replays_by_key)
{
    struct ct_raw_response first, again;
    struct ct_response r;
    char replayed[32];
    static const char batch[] = "{'reports':[{'model':'bat/a','count':10},"
                                "{'model':'bat/b','count':20,'date':'2024-05-01'},"
                                "{'model':'bat/a','count':5}]}";

    registered("{'id':'bat/a'}");
    registered("{'id':'bat/b'}");
    raw_keyed("POST", "/v1/inference-reports", "batch-1", batch, &first);
    ck_assert_msg(first.status == 200, "answered %d: %s", first.status, first.body);
    ck_assert_int_eq(json_integer_value(json_object_get(first.json, "accepted")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(first.json, "counted")), 35);
    ck_assert_int_eq(inferences_of("bat/a"), 15);
    ck_assert_int_eq(inferences_of("bat/b"), 20);

    raw_keyed("POST", "/v1/inference-reports", "batch-1", batch, &again);
    ck_assert_msg(again.status == 200 && json_equal(first.json, again.json),
                  "replay answered %d: %s", again.status, again.body);
    ck_assert_msg(ct_raw_header(&again, "Idempotent-Replayed", replayed, sizeof replayed) &&
                      strcmp(replayed, "true") == 0,
                  "no Idempotent-Replayed: true in %s", again.head);
    ct_raw_cleanup(&again);
    ct_raw_cleanup(&first);
    ck_assert_int_eq(inferences_of("bat/a"), 15);
    ck_assert_int_eq(inferences_of("bat/b"), 20);

    send_keyed("POST", "/v1/inference-reports", "batch-1",
               "{'reports':[{'model':'bat/a','count':11}]}", &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", NULL);
    ct_response_cleanup(&r);
    send_keyed("POST", "/v1/inference-reports", NULL, "{'reports':[{'model':'bat/a','count':1}]}",
               &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", NULL);
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("bat/a"), 15);
}
END_TEST

START_TEST(batch_with_an_unknown_model_is_422_naming_it_and_counts_nothing)
{
    struct ct_response r;

    registered("{'id':'bat/a'}");
    registered("{'id':'bat/b'}");
    send_keyed("POST", "/v1/inference-reports", "batch-2",
               "{'reports':[{'model':'bat/a','count':10},{'model':'bat/b','count':20},"
               "{'model':'bat/ghost','count':30}]}",
               &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", "/reports/2/model");
    ck_assert_msg(strstr(r.body, "bat/ghost") != NULL, "%s", r.body);
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("bat/a"), 0);
    ck_assert_int_eq(inferences_of("bat/b"), 0);

    /* Item errors are found before anything is counted. */
    send_keyed("POST", "/v1/inference-reports", "batch-3",
               "{'reports':[{'model':'bat/a','count':10},{'model':'bat/b','count':-2},"
               "{'model':'one/two/three','count':1},{'model':'bat/a','count':1,'x':1}]}",
               &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", "/reports/1/count");
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", "/reports/2/model");
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", "/reports/3/x");
    ct_response_cleanup(&r);
    send_keyed("POST", "/v1/inference-reports", "batch-4", "{'reports':[]}", &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", "/reports");
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("bat/a"), 0);

    /* The failed key was not spent: the corrected batch goes through under it. */
    send_keyed("POST", "/v1/inference-reports", "batch-2",
               "{'reports':[{'model':'bat/a','count':10},{'model':'bat/b','count':20}]}", &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("bat/a"), 10);
}
END_TEST

START_TEST(batch_that_would_overflow_a_family_total_is_422_at_the_first_such_item)
{
    struct ct_response r;

    registered("{'id':'bov/base'}");
    registered("{'id':'bov/left','parents':[{'id':'bov/base'}]}");
    registered("{'id':'bov/right','parents':[{'id':'bov/base'}]}");
    registered("{'id':'bov/merged','parents':[{'id':'bov/left','relation':'merge'},"
               "{'id':'bov/right','relation':'merge'}]}");
    counted("bov/left", INT64_MAX - 3);
    /* The merge reaches the base through both parents but counts there once: 2 fit,
     * then the base's family total has room for 1 only. */
    send_keyed("POST", "/v1/inference-reports", "bov-1",
               "{'reports':[{'model':'bov/merged','count':2},{'model':'bov/right','count':1},"
               "{'model':'bov/merged','count':1},{'model':'bov/ghost','count':1}]}",
               &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", "/reports/2/count");
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("bov/merged"), 0);
    ck_assert_int_eq(inferences_of("bov/right"), 0);

    send_keyed("POST", "/v1/inference-reports", "bov-1",
               "{'reports':[{'model':'bov/merged','count':2},{'model':'bov/right','count':1}]}",
               &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_int_eq(int_at(&r, "counted"), 3);
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("bov/merged"), 2);
    ck_assert_int_eq(inferences_of("bov/left"), INT64_MAX - 3);
}
END_TEST

START_TEST(daily_series_is_dense_and_bounded_to_366_days)
{
    static const struct ct_step steps[] = {
        {"a day that does not exist", "GET", "/v1/models/ser/m/inferences?from=2024-02-30", NULL,
         NULL, 400, "bad-request", NULL},
        {"a date in another format", "GET", "/v1/models/ser/m/inferences?from=01/02/2024", NULL,
         NULL, 400, "bad-request", NULL},
        {"a bad 'to'", "GET", "/v1/models/ser/m/inferences?from=2024-01-01&to=2024-13-01", NULL,
         NULL, 400, "bad-request", NULL},
        {"from after to", "GET", "/v1/models/ser/m/inferences?from=2024-01-05&to=2024-01-04", NULL,
         NULL, 400, "bad-request", NULL},
        {"367 days", "GET", "/v1/models/ser/m/inferences?from=2023-01-01&to=2024-01-02", NULL, NULL,
         400, "bad-request", NULL},
        {"an unknown parameter", "GET", "/v1/models/ser/m/inferences?day=2024-01-01", NULL, NULL,
         400, "bad-request", NULL},
    };
    struct ct_response r;

    registered("{'id':'ser/m'}");
    send_keyed("POST", "/v1/models/ser/m/inferences", "d1", "{'count':4,'date':'2024-01-02'}", &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_str_eq(str_at(&r, "date"), "2024-01-02");
    ct_response_cleanup(&r);
    send_keyed("POST", "/v1/models/ser/m/inferences", "d2", "{'count':6,'date':'2024-01-02'}", &r);
    ct_response_cleanup(&r);
    ct_send(srv, "PUT", "/v1/models/ser/m/inference-counters/r", "{'total':9,'date':'2024-01-04'}",
            &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);
    send_keyed("POST", "/v1/models/ser/m/inferences", "d3", "{'count':100,'date':'2023-12-31'}",
               &r);
    ct_response_cleanup(&r);

    ck_assert_int_eq(ct_get(srv, "/v1/models/ser/m/inferences?from=2024-01-01&to=2024-01-05", &r),
                     200);
    ck_assert_str_eq(str_at(&r, "from"), "2024-01-01");
    ck_assert_str_eq(str_at(&r, "to"), "2024-01-05");
    ck_assert_int_eq(json_array_size(at(r.json, "days")), 5);
    {
        static const char *const dates[] = {"2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04",
                                            "2024-01-05"};
        static const long long counts[] = {0, 10, 0, 9, 0};
        char path[32];
        for (int i = 0; i < 5; i++) {
            snprintf(path, sizeof path, "days/%d/date", i);
            ck_assert_str_eq(str_at(&r, path), dates[i]);
            snprintf(path, sizeof path, "days/%d/count", i);
            ck_assert_msg(int_at(&r, path) == counts[i], "day %s: %s", dates[i], r.body);
        }
    }
    ct_response_cleanup(&r);

    /* 366 days, leap year: the longest series. */
    ck_assert_int_eq(ct_get(srv, "/v1/models/ser/m/inferences?from=2024-01-01&to=2024-12-31", &r),
                     200);
    ck_assert_int_eq(json_array_size(at(r.json, "days")), 366);
    ct_response_cleanup(&r);
    /* One day. */
    ck_assert_int_eq(ct_get(srv, "/v1/models/ser/m/inferences?from=2023-12-31&to=2023-12-31", &r),
                     200);
    ck_assert_int_eq(json_array_size(at(r.json, "days")), 1);
    ck_assert_int_eq(int_at(&r, "days/0/count"), 100);
    ct_response_cleanup(&r);
    /* The default: the last 30 days, ending today. */
    ck_assert_int_eq(ct_get(srv, "/v1/models/ser/m/inferences", &r), 200);
    ck_assert_int_eq(json_array_size(at(r.json, "days")), 30);
    ct_response_cleanup(&r);

    ct_run_steps(srv, steps, sizeof steps / sizeof steps[0]);
}
END_TEST

static Suite *reports_suite(void)
{
    Suite *s = suite_create("http_reports");
    TCase *counts = tcase_create("reports");
    TCase *all[] = {counts};

    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        tcase_add_checked_fixture(all[i], start_server, stop_servers);
        tcase_set_timeout(all[i], TEST_TIMEOUT_S);
        suite_add_tcase(s, all[i]);
    }
    tcase_add_test(counts, batch_counts_every_model_in_one_request_and_replays_by_key);
    tcase_add_test(counts, batch_with_an_unknown_model_is_422_naming_it_and_counts_nothing);
    tcase_add_test(counts, batch_that_would_overflow_a_family_total_is_422_at_the_first_such_item);
    tcase_add_test(counts, daily_series_is_dense_and_bounded_to_366_days);
    return s;
}

int main(void)
{
    return ct_main(reports_suite());
}
