/* SPDX-License-Identifier: Apache-2.0 */
/* Edit distance, as route, region and hardware suggestions use it. */
#include "edit_distance.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *a, *b;
    bool is_case_insensitive;
    size_t expected;
} cases[] = {
    {"", "", false, 0},
    {"", "abc", false, 3},
    {"kitten", "sitting", false, 3},
    {"/v1/model", "/v1/models", false, 1},
    {"/v1/Models", "/v1/models", false, 1},
    {"/v1/Models", "/v1/models", true, 0},
    {"FRX", "fra", true, 1},
    {"FRX", "fra", false, 3},
    {"gcp:us-central", "gcp:us-central1", true, 1},
};

START_TEST(distances_of_the_table)
{
    ck_assert_uint_eq(core_edit_distance(cases[_i].a, cases[_i].b, cases[_i].is_case_insensitive),
                      cases[_i].expected);
    ck_assert_uint_eq(core_edit_distance(cases[_i].b, cases[_i].a, cases[_i].is_case_insensitive),
                      cases[_i].expected);
}
END_TEST

START_TEST(texts_up_to_the_longest_are_measured_and_longer_ones_are_not)
{
    char longest[CORE_EDIT_DISTANCE_MAX_LEN + 2];

    memset(longest, 'a', sizeof longest - 1);
    longest[CORE_EDIT_DISTANCE_MAX_LEN] = '\0';
    ck_assert_uint_eq(core_edit_distance(longest, "", false), CORE_EDIT_DISTANCE_MAX_LEN);
    ck_assert_uint_eq(core_edit_distance(longest, longest, false), 0);
    longest[CORE_EDIT_DISTANCE_MAX_LEN] = 'a';
    longest[CORE_EDIT_DISTANCE_MAX_LEN + 1] = '\0';
    ck_assert_uint_eq(core_edit_distance(longest, "a", true), SIZE_MAX);
    ck_assert_uint_eq(core_edit_distance("a", longest, true), SIZE_MAX);
}
END_TEST

static const char *const estimate_members[] = {
    "method", "hours", "pue", "location", "devices", "utilisation", "memory_gb", "power_w", NULL};
static const char *const device_members[] = {"hardware", "count", "tdp_w", "utilisation", NULL};
static const char *const page_parameters[] = {"limit", "cursor", NULL};

static const struct {
    const char *name;
    const char *const *allowed;
    const char *expected; /* NULL: nothing is near */
} nearest[] = {
    {"gpu", estimate_members, "devices[].hardware"},
    {"gpu", device_members, "hardware"},
    {"gpu", page_parameters, NULL},
    {"region", estimate_members, "location"},
    {"utilization", estimate_members, "utilisation"},
    {"utilization", device_members, "utilisation"},
    {"duration_hours", estimate_members, "hours"},
    {"hour", estimate_members, "hours"},
    {"Hours", estimate_members, "hours"},
    {"power", estimate_members, "power_w"},
    {"tdp", device_members, "tdp_w"},
    {"memory_gib", estimate_members, "memory_gb"},
    {"page", page_parameters, "cursor"},
    {"offset", page_parameters, "cursor"},
    {"per_page", page_parameters, "limit"},
    {"limt", page_parameters, "limit"},
    {"xy", page_parameters, NULL},
    {"zzzzzz", estimate_members, NULL},
    {"anything", NULL, NULL},
};

START_TEST(nearest_names_of_the_table)
{
    const char *got = core_nearest_name(nearest[_i].name, nearest[_i].allowed);

    if (nearest[_i].expected == NULL)
        ck_assert_msg(got == NULL, "'%s' suggested '%s'", nearest[_i].name, got);
    else
        ck_assert_msg(got && strcmp(got, nearest[_i].expected) == 0,
                      "'%s' suggested '%s', expected '%s'", nearest[_i].name,
                      got ? got : "(nothing)", nearest[_i].expected);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core_edit_distance");
    TCase *tc = tcase_create("edit_distance");
    SRunner *sr;
    int failed;

    tcase_add_loop_test(tc, distances_of_the_table, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, texts_up_to_the_longest_are_measured_and_longer_ones_are_not);
    tcase_add_loop_test(tc, nearest_names_of_the_table, 0,
                        (int)(sizeof nearest / sizeof nearest[0]));
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
