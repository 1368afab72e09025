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

/* Every row of db but those an increment of model_key may write (its ledger row,
 * its daily counts, its counters, its pending deltas), one line each. */
static char *rows_but_own(struct db *db, int64_t model_key)
{
    static const char tables_sql[] =
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name NOT IN ('inference_daily', 'inference_counters', 'inference_pending') "
        "ORDER BY name";
    sqlite3_stmt *tables = NULL;
    size_t len = 0, cap = 1 << 20;
    char *text = calloc(1, cap);

    ck_assert_ptr_nonnull(text);
    ck_assert_int_eq(sqlite3_prepare_v2(db->handle, tables_sql, -1, &tables, NULL), SQLITE_OK);
    while (sqlite3_step(tables) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(tables, 0);
        char sql[256];
        sqlite3_stmt *rows = NULL;
        if (strcmp(name, "model_ledger") == 0)
            snprintf(sql, sizeof sql, "SELECT * FROM model_ledger WHERE model_id <> %lld",
                     (long long)model_key);
        else
            snprintf(sql, sizeof sql, "SELECT * FROM \"%s\"", name);
        ck_assert_int_eq(sqlite3_prepare_v2(db->handle, sql, -1, &rows, NULL), SQLITE_OK);
        while (sqlite3_step(rows) == SQLITE_ROW) {
            len += (size_t)snprintf(text + len, cap - len, "%s:", name);
            for (int c = 0; c < sqlite3_column_count(rows); c++) {
                const char *v = (const char *)sqlite3_column_text(rows, c);
                len += (size_t)snprintf(text + len, cap - len, " %s", v ? v : "NULL");
            }
            len += (size_t)snprintf(text + len, cap - len, "\n");
            ck_assert_uint_lt(len, cap - 1);
        }
        sqlite3_finalize(rows);
    }
    sqlite3_finalize(tables);
    return text;
}

static int64_t key_of(struct db *db, const char *id)
{
    struct core_model m;

    ck_assert_int_eq(core_model_id_parse(id, &m.id), ERR_OK);
    ck_assert_int_eq(db_model_get(db, &m.id, &m), ERR_OK);
    return m.key;
}

/* What a family series and the totals answer, as text. */
static char *answers_text(struct db *db, int64_t root)
{
    struct db_family_day days[8];
    struct db_totals totals;
    size_t n = 0, len = 0, cap = 4096;
    char *text = calloc(1, cap);

    ck_assert_ptr_nonnull(text);
    ck_assert_int_eq(db_family_daily_series(db, root, "2024-01-01", "2024-12-31", days, 8, &n),
                     ERR_OK);
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len, "%s %lld %.9g %.9g %.9g\n", days[i].day,
                                (long long)days[i].inferences, days[i].co2e_kg.value,
                                days[i].co2e_kg.low, days[i].co2e_kg.high);
    ck_assert_int_eq(db_totals_get(db, "", &totals), ERR_OK);
    snprintf(text + len, cap - len, "totals %lld %.9g %.9g %.9g\n", (long long)totals.inferences,
             totals.inference_co2e_kg.value, totals.inference_co2e_kg.low,
             totals.inference_co2e_kg.high);
    return text;
}

/* No hot row: an increment, a counter and a batch report of a deep member write
 * its own rows only (not its ancestors' ledger rows, the families' days or the
 * totals), and the answers that read those rows are the same before and after
 * the fold, which does write them. */
START_TEST(an_increment_writes_only_its_own_models_rows)
{
    const struct db_inference_report report[] = {item("ft/deep", 3, "2024-03-01"),
                                                 item("ft/deep", 4, "2024-03-02")};
    int64_t deep = key_of(batched, "ft/deep"), root = key_of(batched, "base/a");
    int64_t previous = 0, delta = 0;
    size_t bad = 0;
    char *before, *after, *answers, *folded;
    int changes;

    /* Every model prices an inference, so a trigger that kept an inference CO2e
     * by increment would have something to write. */
    ck_assert_int_eq(db_write_begin(batched), ERR_OK);
    ck_assert_int_eq(db_exec(batched, "UPDATE model_ledger SET inference_g_each = 2, "
                                      "inference_g_each_low = 1, inference_g_each_high = 3"),
                     ERR_OK);
    ck_assert_int_eq(db_inferences_add(batched, key_of(batched, "ft/a1"), 5, "2024-03-01", NULL),
                     ERR_OK);
    ck_assert_int_eq(db_fold(batched, 0, NULL), ERR_OK);
    ck_assert_int_eq(db_write_commit(batched), ERR_OK);

    before = rows_but_own(batched, deep);
    ck_assert_int_eq(db_write_begin(batched), ERR_OK);
    changes = sqlite3_total_changes(batched->handle);
    ck_assert_int_eq(db_inferences_add(batched, deep, 10, "2024-03-01", NULL), ERR_OK);
    /* Its ledger row, its pending delta, its day: triggers included. */
    ck_assert_int_eq(sqlite3_total_changes(batched->handle) - changes, 3);
    ck_assert_int_eq(db_counter_put(batched, deep, "r1", 7, false, "2024-03-02", &previous, &delta),
                     ERR_OK);
    ck_assert_int_eq(db_inferences_add_many(batched, report, 2, &bad), ERR_OK);
    ck_assert_int_eq(db_write_commit(batched), ERR_OK);
    after = rows_but_own(batched, deep);
    ck_assert_str_eq(after, before);
    free(after);

    answers = answers_text(batched, root);
    ck_assert_msg(strstr(answers, "2024-03-01 18 0.036 0.018 0.054\n") != NULL, "%s", answers);
    ck_assert_msg(strstr(answers, "2024-03-02 11 0.022 0.011 0.033\n") != NULL, "%s", answers);
    ck_assert_msg(strstr(answers, "totals 29 0.058 0.029 0.087\n") != NULL, "%s", answers);

    ck_assert_int_eq(db_write_begin(batched), ERR_OK);
    ck_assert_int_eq(db_fold(batched, 0, NULL), ERR_OK);
    ck_assert_int_eq(db_write_commit(batched), ERR_OK);
    after = rows_but_own(batched, deep);
    ck_assert_str_ne(after, before);
    ck_assert_ptr_nonnull(strstr(after, "family_inference_daily"));
    folded = answers_text(batched, root);
    ck_assert_str_eq(folded, answers);
    free(folded);
    free(answers);
    free(after);
    free(before);
}
END_TEST

/* Family days and family sums the folds left that differ from a recount of the
 * daily rows over each family (nothing pending). */
static int64_t fold_mismatches(struct db *db)
{
    static const char sql[] =
        "SELECT (SELECT count(*) FROM (SELECT ancestor_id, rep_id, day, count "
        "FROM family_inference_daily EXCEPT SELECT c.ancestor_id, l.usage_rep_id, d.day, "
        "sum(d.count) FROM inference_daily d JOIN model_closure c ON c.descendant_id = d.model_id "
        "JOIN model_ledger l ON l.model_id = d.model_id GROUP BY 1, 2, 3)) + "
        "(SELECT count(*) FROM (SELECT c.ancestor_id, l.usage_rep_id, d.day, sum(d.count) "
        "FROM inference_daily d JOIN model_closure c ON c.descendant_id = d.model_id "
        "JOIN model_ledger l ON l.model_id = d.model_id GROUP BY 1, 2, 3 EXCEPT "
        "SELECT ancestor_id, rep_id, day, count FROM family_inference_daily)) + "
        "(SELECT count(*) FROM model_ledger a WHERE a.descendant_inferences <> "
        "(SELECT sum(l.inferences) FROM model_closure c JOIN model_ledger l "
        "ON l.model_id = c.descendant_id WHERE c.ancestor_id = a.model_id)) + "
        "(SELECT count(*) FROM inference_pending)";
    sqlite3_stmt *stmt = NULL;
    int64_t n;

    ck_assert_int_eq(sqlite3_prepare_v2(db->handle, sql, -1, &stmt, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
    n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return n;
}

/* The fold a writer runs in a transaction of its own adds to family days that
 * exist and inserts the new ones in two statements: batch after small batch, the
 * days and sums it leaves are a recount's. */
START_TEST(folds_of_their_own_leave_the_days_and_sums_a_recount_gives)
{
    static const char *const ids[] = {"ft/deep", "ft/a1", "mix/ab", "ft/b1", "base/a", "ft/deep"};
    struct db_fold_result result;

    for (int round = 0; round < 3; round++) {
        const char *day = round == 2 ? "2024-03-02" : "2024-03-01";

        for (size_t i = 0; i < sizeof ids / sizeof *ids; i++)
            ck_assert_int_eq(db_inferences_add(one_by_one, key_of(one_by_one, ids[i]),
                                               (int64_t)(i + 1) * (round + 1), day, NULL),
                             ERR_OK);
        ck_assert_int_gt(fold_mismatches(one_by_one), 0);
        do
            ck_assert_int_eq(db_fold_commit(one_by_one, 2, &result), ERR_OK);
        while (result.rows > 0);
        ck_assert_int_eq(fold_mismatches(one_by_one), 0);
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
    tcase_add_test(tc, an_increment_writes_only_its_own_models_rows);
    tcase_add_test(tc, folds_of_their_own_leave_the_days_and_sums_a_recount_gives);
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
