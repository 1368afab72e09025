/* SPDX-License-Identifier: Apache-2.0 */
/* A request body read and an answer written while memory runs out: each of the
 * allocations of jansson and carbontree fails in turn. The body is the client's
 * document or no memory (500), never another document nor a 400 it did not earn;
 * a JSON answer is whole, its final newline included, or none. */
#include "alloc.h"
#include "http.h"
#include "routes.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Keys and strings longer than the lexer's first buffer, which grows for them: a
 * growth that fails drops a character ("carbon_intensiy"). */
#define BODY                                                                                       \
    "{\"energy_kwh_per_inference\": 0.0002, \"description_of_the_model\": "                        \
    "\"abcdefghijklmnopqrstuvwxyz0123456789\", \"parents\": [{\"id\": "                            \
    "\"namespace-of-the-parent/a-rather-long-model-name\", \"relation\": \"finetune\"}]}"

static uint64_t n_allocations, fail_at; /* fail_at 0: nothing fails */

static bool fails(void)
{
    return ++n_allocations == fail_at;
}

static void *json_malloc(size_t size)
{
    return fails() ? NULL : malloc(size);
}

static void arm(uint64_t n)
{
    n_allocations = 0;
    fail_at = n;
}

static json_t *decode_clean(const char *text)
{
    struct api_problem problem;
    json_t *json = NULL;

    memset(&problem, 0, sizeof problem);
    arm(0);
    ck_assert_int_eq(route_decode_body(text, strlen(text), &json, &problem), ERR_OK);
    return json;
}

START_TEST(body_read_without_memory_is_the_clients_document_or_no_memory)
{
    json_t *expected = decode_clean(BODY);
    uint64_t count = n_allocations;

    ck_assert_uint_gt(count, 0);
    for (uint64_t i = 1; i <= count; i++) {
        struct api_problem problem;
        json_t *json = NULL;
        enum err rc;
        memset(&problem, 0, sizeof problem);
        arm(i);
        rc = route_decode_body(BODY, strlen(BODY), &json, &problem);
        arm(0);
        ck_assert_msg(rc == ERR_OK || rc == ERR_NO_MEMORY, "allocation %llu failed: %s (%s)",
                      (unsigned long long)i, err_name(rc), problem.detail);
        if (rc == ERR_OK)
            ck_assert_msg(json_equal(json, expected), "allocation %llu failed: another document",
                          (unsigned long long)i);
        else
            ck_assert_ptr_null(json);
        json_decref(json);
    }
    json_decref(expected);
}
END_TEST

START_TEST(malformed_bodies_are_still_refused_as_before)
{
    static const struct {
        const char *body;
        enum err rc;
    } cases[] = {
        {"{\"a\": ", ERR_MALFORMED_JSON},
        {"{\"a\": 1, \"a\": 2}", ERR_MALFORMED_JSON},
        {"[1, 2", ERR_MALFORMED_JSON},
        {"{\"count\": 99999999999999999999999}", ERR_INVALID_INPUT},
    };

    arm(0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct api_problem problem;
        json_t *json = NULL;
        memset(&problem, 0, sizeof problem);
        ck_assert_int_eq(route_decode_body(cases[i].body, strlen(cases[i].body), &json, &problem),
                         cases[i].rc);
        ck_assert_ptr_null(json);
        ck_assert_str_ne(problem.detail, "");
    }
}
END_TEST

START_TEST(json_answer_without_memory_is_whole_or_none)
{
    json_t *json = decode_clean(BODY);
    size_t flags = JSON_COMPACT | JSON_ENSURE_ASCII, len = 0, expected_len = 0;
    char *expected = NULL;
    uint64_t count;

    arm(0);
    expected = http_json_text(json, flags, &expected_len);
    count = n_allocations;
    ck_assert_ptr_nonnull(expected);
    ck_assert_uint_gt(count, 0);
    ck_assert_uint_eq(expected_len, strlen(expected));
    ck_assert_int_eq(expected[expected_len - 1], '\n');
    for (uint64_t i = 1; i <= count; i++) {
        char *text;
        arm(i);
        text = http_json_text(json, flags, &len);
        arm(0);
        if (text != NULL) {
            ck_assert_uint_eq(len, expected_len);
            ck_assert_str_eq(text, expected);
        }
        free(text);
    }
    free(expected);
    json_decref(json);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("server_body");
    TCase *tc = tcase_create("body");

    tcase_add_test(tc, body_read_without_memory_is_the_clients_document_or_no_memory);
    tcase_add_test(tc, malformed_bodies_are_still_refused_as_before);
    tcase_add_test(tc, json_answer_without_memory_is_whole_or_none);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed;

    json_set_alloc_funcs(json_malloc, free);
    core_alloc_set_fail_hook(fails);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
