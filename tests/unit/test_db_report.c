/* SPDX-License-Identifier: Apache-2.0 */
/* Batch reports against real SQLite files: db_inferences_add_many leaves the same
 * ledger and daily rows as db_inferences_add called item by item, on a family with
 * merges, and refuses the same first item (unknown or overflowing) with nothing
 * written. */
#include "db.h"
#include "db_internal.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static struct db *one_by_one; /* items applied with db_inferences_add */
static struct db *batched;    /* items applied with db_inferences_add_many */

static struct db *open_file(const char *name)
{
    struct db_options options = {.busy_timeout_ms = 5000, .create = true};
    char path[128], why[256];
    struct db *db = NULL;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    options.path = path;
    ck_assert_msg(db_open(&options, &db, why, sizeof why) == ERR_OK, "open: %s", why);
    ck_assert_int_eq(db_migrate(db, NULL, NULL), ERR_OK);
    return db;
}

/* Registers id with parents (a merge when more than one) in db. */
static void add(struct db *db, const char *id, const char *const *parents)
{
    struct core_model m;
    size_t bad = 0;

    memset(&m, 0, sizeof m);
    ck_assert_int_eq(core_model_id_parse(id, &m.id), ERR_OK);
    for (size_t i = 0; parents && parents[i]; i++) {
        ck_assert_int_eq(core_model_id_parse(parents[i], &m.parents[i].id), ERR_OK);
        m.parents[i].relation = parents[1] ? CORE_RELATION_MERGE : CORE_RELATION_FINETUNE;
        m.n_parents = i + 1;
    }
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_model_insert(db, &m, &bad), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
}

/* A family where base/a is reached through both parents of mix/ab, and mix/abc
 * merges that merge with a second base. */
static void family(struct db *db)
{
    add(db, "base/a", NULL);
    add(db, "base/b", NULL);
    add(db, "ft/a1", (const char *const[]){"base/a", NULL});
    add(db, "ft/a2", (const char *const[]){"base/a", NULL});
    add(db, "mix/ab", (const char *const[]){"ft/a1", "ft/a2", NULL});
    add(db, "mix/abc", (const char *const[]){"mix/ab", "base/b", "ft/a1", NULL});
    add(db, "ft/deep", (const char *const[]){"mix/abc", NULL});
    add(db, "ft/b1", (const char *const[]){"base/b", NULL});
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/carbontree-unit-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    one_by_one = open_file("one.db");
    batched = open_file("batch.db");
    family(one_by_one);
    family(batched);
}

static void teardown(void)
{
    char cmd[160];

    db_close(one_by_one);
    db_close(batched);
    one_by_one = batched = NULL;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static struct db_inference_report item(const char *id, int64_t count, const char *day)
{
    struct db_inference_report r;

    memset(&r, 0, sizeof r);
    ck_assert_int_eq(core_model_id_parse(id, &r.id), ERR_OK);
    r.count = count;
    snprintf(r.day, sizeof r.day, "%s", day);
    return r;
}

/* Applies items one by one in a transaction, as the handler did before batching;
 * on a failure rolls back and returns it with the failing index in *bad. */
static enum err apply_one_by_one(const struct db_inference_report *items, size_t n, size_t *bad)
{
    enum err rc = db_write_begin(one_by_one);

    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        struct core_model m;
        *bad = i;
        rc = db_model_get(one_by_one, &items[i].id, &m);
        if (rc == ERR_OK)
            rc = db_inferences_add(one_by_one, m.key, items[i].count, items[i].day, NULL);
    }
    if (rc == ERR_OK)
        return db_write_commit(one_by_one);
    db_write_rollback(one_by_one);
    return rc;
}

static enum err apply_batched(const struct db_inference_report *items, size_t n, size_t *bad)
{
    enum err rc = db_write_begin(batched);

    if (rc == ERR_OK)
        rc = db_inferences_add_many(batched, items, n, bad);
    if (rc == ERR_OK)
        return db_write_commit(batched);
    db_write_rollback(batched);
    return rc;
}

/* Every ledger count (family sums with their pending part), pending delta and
 * daily row of db, one line each. */
static char *ledger_text(struct db *db)
{
    static const char sql[] =
        "SELECT 'L ' || m.namespace || '/' || m.name || ' ' || l.inferences || ' ' || "
        "(l.descendant_inferences + (SELECT coalesce(sum(p.delta), 0) FROM inference_pending p "
        "JOIN model_closure c ON c.descendant_id = p.model_id WHERE c.ancestor_id = l.model_id "
        "AND p.model_id <> l.model_id)) FROM model_ledger l JOIN models m ON m.id = l.model_id "
        "UNION ALL SELECT 'P ' || m.namespace || '/' || m.name || ' ' || p.delta "
        "FROM inference_pending p JOIN models m ON m.id = p.model_id "
        "UNION ALL SELECT 'D ' || m.namespace || '/' || m.name || ' ' || d.day || ' ' || d.count "
        "FROM inference_daily d JOIN models m ON m.id = d.model_id ORDER BY 1";
    sqlite3_stmt *stmt = NULL;
    size_t len = 0, cap = 4096;
    char *text = calloc(1, cap);

    ck_assert_ptr_nonnull(text);
    ck_assert_int_eq(sqlite3_prepare_v2(db->handle, sql, -1, &stmt, NULL), SQLITE_OK);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        const char *line = (const char *)sqlite3_column_text(stmt, 0);
        ck_assert_uint_lt(len + strlen(line) + 2, cap);
        len += (size_t)sprintf(text + len, "%s\n", line);
    }
    sqlite3_finalize(stmt);
    return text;
}

static void assert_same_ledger(void)
{
    char *expected = ledger_text(one_by_one), *got = ledger_text(batched);

    ck_assert_str_eq(got, expected);
    free(expected);
    free(got);
}

START_TEST(a_batch_leaves_the_ledger_that_items_one_by_one_leave)
{
    const struct db_inference_report items[] = {
        item("ft/deep", 3, "2024-03-01"), item("mix/ab", 5, "2024-03-01"),
        item("ft/a1", 2, "2024-03-02"),   item("ft/deep", 1, "2024-03-02"),
        item("mix/abc", 0, "2024-03-01"), item("base/b", 7, "2024-03-01"),
        item("FT/Deep", 4, "2024-03-01"), item("ft/b1", 11, "2024-02-29"),
        item("mix/ab", 6, "2024-03-01"),  item("base/a", 1, "2024-03-03"),
    };
    size_t n = sizeof items / sizeof *items, bad = 99;

    ck_assert_int_eq(apply_one_by_one(items, n, &bad), ERR_OK);
    ck_assert_int_eq(apply_batched(items, n, &bad), ERR_OK);
    assert_same_ledger();
    /* Again on top: stored sums and existing daily rows add up the same way. */
    ck_assert_int_eq(apply_one_by_one(items, n, &bad), ERR_OK);
    ck_assert_int_eq(apply_batched(items, n, &bad), ERR_OK);
    assert_same_ledger();
    /* base/a: every item but those on base/b and ft/b1, each counted once even
     * where the merges reach it through two parents. */
    {
        char *text = ledger_text(batched);
        ck_assert_msg(strstr(text, "L base/a 2 44\n") != NULL, "%s", text);
        ck_assert_msg(strstr(text, "D mix/abc") == NULL, "a zero count made a daily row: %s", text);
        free(text);
    }
}
END_TEST

START_TEST(the_first_overflowing_or_unknown_item_fails_the_batch_with_nothing_written)
{
    const struct db_inference_report start[] = {item("ft/a1", INT64_MAX - 10, "2024-03-01")};
    /* ft/deep reaches base/a through mix/abc and mix/ab (and ft/a1 and ft/a2):
     * 5 + 5 reach INT64_MAX there, 1 more does not fit. */
    const struct db_inference_report over[] = {
        item("ft/a2", 5, "2024-03-01"), item("base/b", 1, "2024-03-01"),
        item("ft/deep", 5, "2024-03-01"), item("ft/deep", 1, "2024-03-02"),
        item("ghost/x", 1, "2024-03-01")};
    const struct db_inference_report unknown_first[] = {item("ft/a2", 6, "2024-03-01"),
                                                        item("ghost/x", 1, "2024-03-01"),
                                                        item("ft/a2", 1, "2024-03-01")};
    const struct db_inference_report fits[] = {item("ft/deep", 6, "2024-03-01"),
                                               item("ft/a2", 4, "2024-03-02")};
    size_t bad_one = 99, bad_batch = 98;

    ck_assert_int_eq(apply_one_by_one(start, 1, &bad_one), ERR_OK);
    ck_assert_int_eq(apply_batched(start, 1, &bad_batch), ERR_OK);

    ck_assert_int_eq(apply_one_by_one(over, 5, &bad_one), ERR_COUNT_OVERFLOW);
    ck_assert_int_eq(apply_batched(over, 5, &bad_batch), ERR_COUNT_OVERFLOW);
    ck_assert_uint_eq(bad_one, 3);
    ck_assert_uint_eq(bad_batch, 3);
    assert_same_ledger();

    /* An unknown model before any overflow is the answer. */
    ck_assert_int_eq(apply_one_by_one(unknown_first, 3, &bad_one), ERR_NOT_FOUND);
    ck_assert_int_eq(apply_batched(unknown_first, 3, &bad_batch), ERR_NOT_FOUND);
    ck_assert_uint_eq(bad_one, 1);
    ck_assert_uint_eq(bad_batch, 1);
    assert_same_ledger();

    /* Up to INT64_MAX exactly is counted. */
    ck_assert_int_eq(apply_one_by_one(fits, 2, &bad_one), ERR_OK);
    ck_assert_int_eq(apply_batched(fits, 2, &bad_batch), ERR_OK);
    assert_same_ledger();
    {
        char *text = ledger_text(batched);
        ck_assert_msg(strstr(text, "L base/a 0 9223372036854775807\n") != NULL, "%s", text);
        free(text);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("db_report");
    TCase *tc = tcase_create("report");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, a_batch_leaves_the_ledger_that_items_one_by_one_leave);
    tcase_add_test(tc, the_first_overflowing_or_unknown_item_fails_the_batch_with_nothing_written);
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
