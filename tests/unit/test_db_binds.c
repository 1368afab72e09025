/* SPDX-License-Identifier: Apache-2.0 */
/* Binds that find no memory: SQLite's allocator is wrapped so that a test can fail
 * the allocations of one size (a copy of one long text) or the Nth allocation. A
 * statement whose bind failed must fail, never run with the parameter NULL: a
 * filter left NULL lists every row. */
#include "db.h"
#include "db_internal.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A filter longer than any lookaside slot: a copy of it comes from the allocator. */
#define LONG_LEN 3000

static sqlite3_mem_methods sqlite_methods;
static int fail_size_min, fail_size_max; /* 0: no size fails */
static uint64_t n_allocations, fail_at;  /* fail_at 0: no Nth fails */

static bool fails(int size)
{
    n_allocations++;
    if (fail_at != 0 && n_allocations == fail_at)
        return true;
    return fail_size_min > 0 && size >= fail_size_min && size <= fail_size_max;
}

static void *hooked_malloc(int size)
{
    return fails(size) ? NULL : sqlite_methods.xMalloc(size);
}

static void *hooked_realloc(void *p, int size)
{
    return fails(size) ? NULL : sqlite_methods.xRealloc(p, size);
}

static void hook_install(void)
{
    sqlite3_mem_methods hooked;

    if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &sqlite_methods) != SQLITE_OK)
        abort();
    hooked = sqlite_methods;
    hooked.xMalloc = hooked_malloc;
    hooked.xRealloc = hooked_realloc;
    if (sqlite3_config(SQLITE_CONFIG_MALLOC, &hooked) != SQLITE_OK)
        abort();
}

static void hook_off(void)
{
    fail_size_min = fail_size_max = 0;
    fail_at = 0;
}

static char dir[64];
static char path[128];
static struct db *db;
static char long_text[LONG_LEN + 1];

static void setup(void)
{
    struct db_options options = {.busy_timeout_ms = 5000, .create = true};
    char why[256];

    hook_off();
    snprintf(dir, sizeof dir, "/tmp/carbontree-binds-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/test.db", dir);
    options.path = path;
    ck_assert_msg(db_open(&options, &db, why, sizeof why) == ERR_OK, "open: %s", why);
    ck_assert_int_eq(db_migrate(db, NULL, NULL), ERR_OK);
    memset(long_text, 'z', LONG_LEN);
    long_text[LONG_LEN] = '\0';
}

static void teardown(void)
{
    char cmd[160];

    hook_off();
    db_close(db);
    db = NULL;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* The region rows whose code or name holds long_text: none. */
static enum err list_regions(size_t *n)
{
    struct db_region items[4];
    struct db_region_filter filter = {.name = long_text, .limit = 4};
    bool has_more = false;

    return db_region_list(db, &filter, items, n, &has_more);
}

static enum err list_hardware(size_t *n)
{
    struct db_hardware items[4];
    struct db_hardware_filter filter = {.name = long_text, .limit = 4};
    bool has_more = false;

    return db_hardware_list(db, &filter, items, n, &has_more);
}

/* Fails every allocation the size of a copy of long_text (SQLite rounds sizes up
 * to 8): the filter's bind, had it copied the text, and what else copies it. */
static void fail_copies(void)
{
    fail_size_min = LONG_LEN + 1;
    fail_size_max = LONG_LEN + 8;
}

START_TEST(region_list_without_memory_for_its_filter_fails_or_lists_nothing)
{
    size_t n = 99;

    ck_assert_int_eq(list_regions(&n), ERR_OK);
    ck_assert_uint_eq(n, 0);
    fail_copies();
    n = 0;
    if (list_regions(&n) == ERR_OK)
        ck_assert_msg(n == 0, "%zu regions listed under a filter that matches none", n);
}
END_TEST

START_TEST(hardware_list_without_memory_for_its_filter_fails_or_lists_nothing)
{
    size_t n = 99;

    ck_assert_int_eq(list_hardware(&n), ERR_OK);
    ck_assert_uint_eq(n, 0);
    fail_copies();
    n = 0;
    if (list_hardware(&n) == ERR_OK)
        ck_assert_msg(n == 0, "%zu hardware rows listed under a filter that matches none", n);
}
END_TEST

/* Every allocation of the list in turn: each run fails or lists nothing. */
START_TEST(region_list_fails_whole_at_every_allocation)
{
    uint64_t count;
    size_t n = 0;

    ck_assert_int_eq(list_regions(&n), ERR_OK); /* reads the country list once */
    n_allocations = 0;
    ck_assert_int_eq(list_regions(&n), ERR_OK);
    count = n_allocations;
    ck_assert_uint_gt(count, 0);
    for (uint64_t i = 1; i <= count; i++) {
        n = 0;
        n_allocations = 0;
        fail_at = i;
        if (list_regions(&n) == ERR_OK)
            ck_assert_msg(n == 0, "allocation %llu failed: %zu regions listed",
                          (unsigned long long)i, n);
    }
}
END_TEST

/* A text bind without a copy allocates nothing, so no shortage can drop it. */
START_TEST(text_bind_allocates_nothing)
{
    sqlite3_stmt *stmt = NULL;

    ck_assert_int_eq(db_prepare(db, "SELECT length(?1)", &stmt), ERR_OK);
    n_allocations = 0;
    fail_copies();
    ck_assert_int_eq(db_bind_text(db, stmt, 1, long_text), ERR_OK);
    ck_assert_uint_eq(n_allocations, 0);
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
    ck_assert_int_eq(sqlite3_column_int(stmt, 0), LONG_LEN);
    db_finish(db, stmt);
}
END_TEST

/* A bind SQLite refuses (an index the statement lacks) is an error, not a NULL. */
START_TEST(text_bind_out_of_range_is_an_error)
{
    sqlite3_stmt *stmt = NULL;

    ck_assert_int_eq(db_prepare(db, "SELECT ?1", &stmt), ERR_OK);
    ck_assert_int_eq(db_bind_text(db, stmt, 2, "x"), ERR_DB);
    ck_assert_int_eq(db_bind_blob(db, stmt, 2, "x", 1), ERR_DB);
    ck_assert_int_eq(db_bind_text_or_null(db, stmt, 2, "x"), ERR_DB);
    db_finish(db, stmt);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("db_binds");
    TCase *tc = tcase_create("binds");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, region_list_without_memory_for_its_filter_fails_or_lists_nothing);
    tcase_add_test(tc, hardware_list_without_memory_for_its_filter_fails_or_lists_nothing);
    tcase_add_test(tc, region_list_fails_whole_at_every_allocation);
    tcase_add_test(tc, text_bind_allocates_nothing);
    tcase_add_test(tc, text_bind_out_of_range_is_an_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    hook_install(); /* before SQLite initialises */
    sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
