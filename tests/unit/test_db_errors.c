/* SPDX-License-Identifier: Apache-2.0 */
/* One condition, one error, whichever db function meets it: an inference total
 * past INT64_MAX is ERR_COUNT_OVERFLOW, an unknown model ERR_NOT_FOUND, a database
 * at its size cap ERR_FULL and a lock held past the busy timeout ERR_BUSY, on
 * every path that can meet them. Real SQLite files. */
#include "db.h"
#include "db_internal.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DAY "2024-03-01"

static char dir[64];
static char path[128];
static struct db *db;

static void setup(void)
{
    struct db_options options = {.busy_timeout_ms = 5000, .create = true};
    char why[256];

    snprintf(dir, sizeof dir, "/tmp/carbontree-unit-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/test.db", dir);
    options.path = path;
    ck_assert_msg(db_open(&options, &db, why, sizeof why) == ERR_OK, "open: %s", why);
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

/* A model id as the registry stores it. */
static struct core_model_id model_id(const char *text)
{
    struct core_model_id id;

    ck_assert_int_eq(core_model_id_parse(text, &id), ERR_OK);
    return id;
}

/* A model named id with one parent (or none), ready to insert. */
static struct core_model model(const char *id, const char *parent)
{
    struct core_model m;

    memset(&m, 0, sizeof m);
    m.id = model_id(id);
    if (parent) {
        m.parents[0].id = model_id(parent);
        m.parents[0].relation = CORE_RELATION_FINETUNE;
        m.n_parents = 1;
    }
    return m;
}

/* Registers id under parent (NULL: a base) and returns its key. */
static int64_t add(const char *id, const char *parent)
{
    struct core_model m = model(id, parent);
    size_t bad = 0;

    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_model_insert(db, &m, &bad), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
    return m.key;
}

static void count(int64_t key, int64_t n)
{
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_inferences_add(db, key, n, DAY, NULL), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
}

/* The model's cumulative inference count, read by counting nothing. */
static int64_t total_of(int64_t key)
{
    int64_t total = -1;

    ck_assert_int_eq(db_inferences_add(db, key, 0, DAY, &total), ERR_OK);
    return total;
}

static struct db_inference_report report(const char *id, int64_t n)
{
    struct db_inference_report r;

    memset(&r, 0, sizeof r);
    r.id = model_id(id);
    r.count = n;
    snprintf(r.day, sizeof r.day, DAY);
    return r;
}

/* base/a holds INT64_MAX - 5 in its family sum (counted on ft/b): 6 more anywhere
 * below it does not fit, 5 would. */
START_TEST(a_total_past_int64_max_is_count_overflow_on_every_path)
{
    int64_t a = add("base/a", NULL), b = add("ft/b", "base/a");
    int64_t c = add("base/c", NULL), d = add("ft/d", "base/c");
    struct db_inference_report over[] = {report("ft/b", 1), report("base/a", 6)};
    struct core_model moved, bulk_model = model("ft/e", "ft/b");
    struct db_bulk *bulk = NULL;
    int64_t previous = 0, delta = 0;
    size_t bad = 99;

    count(b, INT64_MAX - 5);
    count(d, 10);
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_inferences_add(db, a, 6, DAY, NULL), ERR_COUNT_OVERFLOW);
    ck_assert_int_eq(db_inferences_add(db, b, 6, DAY, NULL), ERR_COUNT_OVERFLOW);
    ck_assert_int_eq(db_counter_put(db, a, "hub", 6, false, DAY, &previous, &delta),
                     ERR_COUNT_OVERFLOW);
    ck_assert_int_eq(db_inferences_add_many(db, over, 2, &bad), ERR_COUNT_OVERFLOW);
    ck_assert_uint_eq(bad, 1);
    /* base/c brings 10 below ft/b. */
    moved = model("base/c", "ft/b");
    moved.key = c;
    bad = 99;
    ck_assert_int_eq(db_model_set_parents(db, &moved, &bad), ERR_COUNT_OVERFLOW);
    ck_assert_uint_eq(bad, 0);
    ck_assert_int_eq(db_bulk_create(db, &bulk), ERR_OK);
    bad = 99;
    ck_assert_int_eq(db_bulk_model_insert(bulk, &bulk_model, 6, DAY, &bad), ERR_COUNT_OVERFLOW);
    ck_assert_uint_eq(bad, 0);
    /* The ledger as a whole holds more than INT64_MAX - 6, but base/c's family
     * has room: the loader's ledger-wide bound is no refusal of its own. */
    bulk_model = model("ft/f", "base/c");
    ck_assert_int_eq(db_bulk_model_insert(bulk, &bulk_model, 6, DAY, &bad), ERR_OK);
    db_bulk_destroy(bulk);
    /* A negative count is bad input, not an overflow. */
    over[1].count = -1;
    ck_assert_int_eq(db_inferences_add(db, a, -1, DAY, NULL), ERR_INVALID_INPUT);
    ck_assert_int_eq(db_inferences_add_many(db, over, 2, &bad), ERR_INVALID_INPUT);
    db_write_rollback(db);
    ck_assert_int_eq(total_of(b), INT64_MAX - 5);
    ck_assert_int_eq(total_of(a), 0);
    /* Up to INT64_MAX exactly is counted. */
    count(a, 5);
    ck_assert_int_eq(total_of(a), 5);
}
END_TEST

START_TEST(an_unknown_model_is_not_found_on_every_path)
{
    struct core_model_id ghost = model_id("ghost/x"), stored;
    struct core_model m = model("ft/new", "ghost/x"), got;
    struct db_model_filter filter = {.parent = &ghost, .limit = 10};
    struct db_inference_report items[] = {report("ghost/x", 1)};
    struct core_lineage lineage;
    struct core_inference_profile profile = {.unit = "request"};
    struct db_bulk *bulk = NULL;
    struct db_token token;
    size_t n = 0, bad = 99;
    bool more = false;
    int64_t key = 0, unknown_key = 1000000;

    add("base/a", NULL);
    ck_assert_int_eq(db_model_find(db, &ghost, &key, &stored), ERR_NOT_FOUND);
    ck_assert_int_eq(db_model_get(db, &ghost, &got), ERR_NOT_FOUND);
    ck_assert_int_eq(db_model_list(db, &filter, &got, &n, &more), ERR_NOT_FOUND);
    ck_assert_int_eq(db_lineage_load_id(db, &ghost, &lineage), ERR_NOT_FOUND);
    core_lineage_cleanup(&lineage);
    ck_assert_int_eq(db_lineage_load(db, unknown_key, &lineage), ERR_NOT_FOUND);
    core_lineage_cleanup(&lineage);
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_model_insert(db, &m, &bad), ERR_NOT_FOUND);
    ck_assert_uint_eq(bad, 0);
    m = model("base/a", "ghost/x");
    m.key = 1;
    bad = 99;
    ck_assert_int_eq(db_model_set_parents(db, &m, &bad), ERR_NOT_FOUND);
    ck_assert_uint_eq(bad, 0);
    ck_assert_int_eq(db_inferences_add_many(db, items, 1, &bad), ERR_NOT_FOUND);
    ck_assert_int_eq(db_model_delete(db, &ghost), ERR_NOT_FOUND);
    m = model("ghost/x", NULL);
    m.key = unknown_key;
    ck_assert_int_eq(db_model_update_metadata(db, &m), ERR_NOT_FOUND);
    ck_assert_int_eq(db_profile_set(db, unknown_key, &profile), ERR_NOT_FOUND);
    ck_assert_int_eq(db_activity_delete(db, unknown_key, 1), ERR_NOT_FOUND);
    ck_assert_int_eq(db_token_revoke(db, unknown_key, &token), ERR_NOT_FOUND);
    ck_assert_int_eq(db_bulk_create(db, &bulk), ERR_OK);
    m = model("ft/new", "ghost/x");
    bad = 99;
    ck_assert_int_eq(db_bulk_model_insert(bulk, &m, 0, DAY, &bad), ERR_NOT_FOUND);
    ck_assert_uint_eq(bad, 0);
    db_bulk_destroy(bulk);
    db_write_rollback(db);
}
END_TEST

/* The file may not grow: every write that needs a new page meets SQLITE_FULL. */
START_TEST(a_database_at_its_size_cap_is_full_on_every_write_path)
{
    char id[64], pragma[64];
    int64_t base = add("base/a", NULL), pages = 0;
    struct db_activity activity;
    struct db_storage_size size;
    struct db_bulk *bulk = NULL;
    enum err rc = ERR_OK;

    memset(&activity, 0, sizeof activity);
    snprintf(activity.kind, sizeof activity.kind, "training");
    snprintf(activity.obtained, sizeof activity.obtained, "measured");
    snprintf(activity.methodology_version, sizeof activity.methodology_version, "1");
    ck_assert_int_eq(db_storage_size(db, &size), ERR_OK);
    pages = size.page_count;
    snprintf(pragma, sizeof pragma, "PRAGMA max_page_count=%lld", (long long)pages);
    ck_assert_int_eq(db_exec(db, pragma), ERR_OK);

    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    for (int i = 0; rc == ERR_OK && i < 100000; i++) {
        struct core_model m;
        size_t bad = 0;
        snprintf(id, sizeof id, "full/m%d", i);
        m = model(id, "base/a");
        rc = db_model_insert(db, &m, &bad);
    }
    ck_assert_int_eq(rc, ERR_FULL);
    db_write_rollback(db);

    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    rc = ERR_OK;
    for (int i = 0; rc == ERR_OK && i < 100000; i++)
        rc = db_activity_insert(db, base, &activity);
    ck_assert_int_eq(rc, ERR_FULL);
    db_write_rollback(db);

    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_bulk_create(db, &bulk), ERR_OK);
    rc = ERR_OK;
    for (int i = 0; rc == ERR_OK && i < 100000; i++) {
        struct core_model m;
        size_t bad = 0;
        snprintf(id, sizeof id, "bulk/m%d", i);
        m = model(id, "base/a");
        rc = db_bulk_model_insert(bulk, &m, 1, DAY, &bad);
        if (rc == ERR_OK && i % 64 == 63)
            rc = db_bulk_flush(bulk);
    }
    ck_assert_int_eq(rc, ERR_FULL);
    db_bulk_destroy(bulk);
    db_write_rollback(db);
}
END_TEST

START_TEST(a_lock_held_past_the_busy_timeout_is_busy_for_every_writer)
{
    struct db_options options = {.path = path, .busy_timeout_ms = 50};
    struct db *other = NULL;
    char why[256];

    ck_assert_int_eq(db_open(&options, &other, why, sizeof why), ERR_OK);
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_write_begin(other), ERR_BUSY);
    ck_assert_int_eq(db_group_begin(other), ERR_BUSY);
    db_write_rollback(db);
    ck_assert_int_eq(db_group_begin(other), ERR_OK);
    db_group_rollback(other);
    db_close(other);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("db_errors");
    TCase *tc = tcase_create("errors");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, a_total_past_int64_max_is_count_overflow_on_every_path);
    tcase_add_test(tc, an_unknown_model_is_not_found_on_every_path);
    tcase_add_test(tc, a_database_at_its_size_cap_is_full_on_every_write_path);
    tcase_add_test(tc, a_lock_held_past_the_busy_timeout_is_busy_for_every_writer);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
