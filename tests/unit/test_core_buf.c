/* SPDX-License-Identifier: Apache-2.0 */
/* The growable buffer every text writer shares: appends, printf-appends past the
 * stack's short buffer, a failure that sticks, and handing the text over. */
#include "buf.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

START_TEST(appends_keep_the_text_nul_terminated_across_growth)
{
    struct core_buf b = {0};
    char chunk[1000];
    size_t len;
    char *text;

    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 10; i++)
        core_buf_append(&b, chunk, sizeof chunk);
    core_buf_append_str(&b, "end");
    ck_assert(!b.failed);
    ck_assert_uint_eq(b.len, 10003);
    ck_assert_uint_ge(b.cap, 10004);
    ck_assert_str_eq(b.data + 10000, "end");
    text = core_buf_steal(&b, &len);
    ck_assert_uint_eq(len, 10003);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    free(text);
}
END_TEST

START_TEST(printf_appends_short_and_long_texts)
{
    struct core_buf b = {0};
    char name[600];

    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    core_buf_printf(&b, "%d-%s", 42, "a");
    core_buf_printf(&b, "[%s]", name); /* longer than the stack's 256 bytes */
    ck_assert(!b.failed);
    ck_assert_uint_eq(b.len, 4 + 601);
    ck_assert_int_eq(strncmp(b.data, "42-a[nnn", 8), 0);
    ck_assert_int_eq(b.data[b.len - 1], ']');
    ck_assert_int_eq(b.data[b.len], '\0');
    core_buf_cleanup(&b);
    ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(a_failed_buffer_appends_nothing_more)
{
    struct core_buf b = {0};

    core_buf_append_str(&b, "kept");
    ck_assert(!core_buf_reserve(&b, SIZE_MAX - 2)); /* no allocation can hold it */
    ck_assert(b.failed);
    core_buf_append_str(&b, "lost");
    core_buf_printf(&b, "%s", "lost");
    ck_assert_uint_eq(b.len, 4);
    ck_assert_str_eq(b.data, "kept");
    core_buf_cleanup(&b);
    ck_assert(!b.failed);
}
END_TEST

START_TEST(an_empty_buffer_steals_as_null)
{
    struct core_buf b = {0};
    size_t len = 99;

    ck_assert_ptr_null(core_buf_steal(&b, &len));
    ck_assert_uint_eq(len, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core_buf");
    TCase *tc = tcase_create("buf");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, appends_keep_the_text_nul_terminated_across_growth);
    tcase_add_test(tc, printf_appends_short_and_long_texts);
    tcase_add_test(tc, a_failed_buffer_appends_nothing_more);
    tcase_add_test(tc, an_empty_buffer_steals_as_null);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
