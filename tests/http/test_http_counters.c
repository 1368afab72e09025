/* SPDX-License-Identifier: Apache-2.0 */
/* Cumulative inference counters over the wire: a reporter's running total counts
 * its increases, refuses a decrease without "reset", and refuses bad input. */
#include "ledger_steps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(counter_counts_increases_and_refuses_a_decrease_without_reset)
{
    struct ct_response r;

    registered("{'id':'cnt/m'}");
    ct_send(srv, "PUT", "/v1/models/cnt/m/inference-counters/edge-1", "{'total':100}", &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_int_eq(int_at(&r, "counted"), 100);
    ck_assert_int_eq(int_at(&r, "previous_total"), 0);
    ck_assert_str_eq(str_at(&r, "reporter"), "edge-1");
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("cnt/m"), 100);

    ct_send(srv, "PUT", "/v1/models/cnt/m/inference-counters/edge-1", "{'total':150}", &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_int_eq(int_at(&r, "counted"), 50);
    ck_assert_int_eq(int_at(&r, "previous_total"), 100);
    ct_response_cleanup(&r);

    /* Repeating the same total counts nothing: a PUT is idempotent. */
    ct_send(srv, "PUT", "/v1/models/cnt/m/inference-counters/edge-1", "{'total':150}", &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_int_eq(int_at(&r, "counted"), 0);
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("cnt/m"), 150);

    ct_send(srv, "PUT", "/v1/models/cnt/m/inference-counters/edge-1", "{'total':120}", &r);
    CT_ASSERT_PROBLEM(&r, 409, "conflict", "/total");
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("cnt/m"), 150);

    ct_send(srv, "PUT", "/v1/models/cnt/m/inference-counters/edge-1", "{'total':120,'reset':true}",
            &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_int_eq(int_at(&r, "counted"), 120);
    ck_assert_msg(json_is_true(at(r.json, "reset")), "%s", r.body);
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("cnt/m"), 270);

    /* After the reset the counter runs from 120. */
    ct_send(srv, "PUT", "/v1/models/cnt/m/inference-counters/edge-1", "{'total':125}", &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_int_eq(int_at(&r, "counted"), 5);
    ct_response_cleanup(&r);

    /* Reporters are counted separately. */
    ct_send(srv, "PUT", "/v1/models/cnt/m/inference-counters/edge-2", "{'total':30}", &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_int_eq(int_at(&r, "counted"), 30);
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("cnt/m"), 305);
}
END_TEST

START_TEST(counter_errors_are_refused_and_count_nothing)
{
    static const struct ct_step steps[] = {
        {"the model exists", "POST", "/v1/models", "{'id':'cnt/m'}", NULL, 201, NULL, NULL},
        {"a negative total", "PUT", "/v1/models/cnt/m/inference-counters/r", "{'total':-1}", NULL,
         422, "invalid-input", "/total"},
        {"a fractional total", "PUT", "/v1/models/cnt/m/inference-counters/r", "{'total':0.5}",
         NULL, 422, "invalid-input", "/total"},
        {"a total as text", "PUT", "/v1/models/cnt/m/inference-counters/r", "{'total':'5'}", NULL,
         422, "invalid-input", "/total"},
        {"reset that is not a boolean", "PUT", "/v1/models/cnt/m/inference-counters/r",
         "{'total':5,'reset':'yes'}", NULL, 422, "invalid-input", "/reset"},
        {"an unknown member", "PUT", "/v1/models/cnt/m/inference-counters/r",
         "{'total':5,'delta':1}", NULL, 422, "invalid-input", "/delta"},
        {"a reporter with a space", "PUT", "/v1/models/cnt/m/inference-counters/a%20b",
         "{'total':5}", NULL, 404, "not-found", NULL},
        {"an unknown model", "PUT", "/v1/models/cnt/ghost/inference-counters/r", "{'total':5}",
         NULL, 404, "not-found", NULL},
    };

    ct_run_steps(srv, steps, sizeof steps / sizeof steps[0]);
    ck_assert_int_eq(inferences_of("cnt/m"), 0);
}
END_TEST

static Suite *counters_suite(void)
{
    Suite *s = suite_create("http_counters");
    TCase *counts = tcase_create("counters");
    TCase *all[] = {counts};

    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        tcase_add_checked_fixture(all[i], start_server, stop_servers);
        tcase_set_timeout(all[i], TEST_TIMEOUT_S);
        suite_add_tcase(s, all[i]);
    }
    tcase_add_test(counts, counter_counts_increases_and_refuses_a_decrease_without_reset);
    tcase_add_test(counts, counter_errors_are_refused_and_count_nothing);
    return s;
}

int main(void)
{
    return ct_main(counters_suite());
}
