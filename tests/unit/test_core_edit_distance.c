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

int main(void)
{
    Suite *s = suite_create("core_edit_distance");
    TCase *tc = tcase_create("edit_distance");
    SRunner *sr;
    int failed;

    tcase_add_loop_test(tc, distances_of_the_table, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, texts_up_to_the_longest_are_measured_and_longer_ones_are_not);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
