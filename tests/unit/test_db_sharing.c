/* SPDX-License-Identifier: Apache-2.0 */
/* The reads behind the sharing dividend and the overtake, on a real SQLite file: a
 * family with a merge across two roots, one root without pre-training; the
 * streamed family dividend, with the shares of a page's members, against hand
 * figures; the lineage's training CO2e and a model's whole daily series. */
#include "db.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static struct db *db;

static int64_t key_of(const char *id)
{
    struct core_model m;

    ck_assert_int_eq(core_model_id_parse(id, &m.id), ERR_OK);
    ck_assert_int_eq(db_model_get(db, &m.id, &m), ERR_OK);
    return m.key;
}

/* Registers id with parents (a merge when more than one). */
static void add(const char *id, const char *const *parents)
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

/* A reported activity of kind with CO2e {low, value, high}. */
static void emit(const char *id, const char *kind, double low, double value, double high)
{
    struct db_activity a;
    static char inputs[] = "{}", result[] = "{}";

    memset(&a, 0, sizeof a);
    snprintf(a.kind, sizeof a.kind, "%s", kind);
    snprintf(a.obtained, sizeof a.obtained, "reported");
    snprintf(a.methodology_version, sizeof a.methodology_version, "test");
    a.co2e_kg = core_range_make(low, value, high);
    a.inputs_json = inputs;
    a.result_json = result;
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_activity_insert(db, key_of(id), &a), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
}

static void count(const char *id, int64_t n, const char *day)
{
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_inferences_add(db, key_of(id), n, day, NULL), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
}

/* base/a (pre-trained, 100 kg), base/b (pre-trained 40-50-60 kg), base/c (no
 * training), fine-tunes of each, and a merge of a's and b's fine-tunes that a
 * further fine-tune builds on. */
static void setup(void)
{
    struct db_options options = {.busy_timeout_ms = 5000, .create = true};
    char path[128], why[256];

    snprintf(dir, sizeof dir, "/tmp/carbontree-unit-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/sharing.db", dir);
    options.path = path;
    ck_assert_msg(db_open(&options, &db, why, sizeof why) == ERR_OK, "open: %s", why);
    ck_assert_int_eq(db_migrate(db, NULL, NULL), ERR_OK);
    add("base/a", NULL);
    add("base/b", NULL);
    add("base/c", NULL);
    add("ft/a1", (const char *const[]){"base/a", NULL});
    add("ft/b1", (const char *const[]){"base/b", NULL});
    add("ft/c1", (const char *const[]){"base/c", NULL});
    add("mix/ab", (const char *const[]){"ft/a1", "ft/b1", NULL});
    add("ft/ab1", (const char *const[]){"mix/ab", NULL});
    emit("base/a", "training", 100, 100, 100);
    emit("base/a", "development", 5, 5, 5); /* not pre-training, but base/a's own */
    emit("base/b", "training", 40, 50, 60);
    emit("base/c", "embodied", 7, 7, 7);
    emit("ft/a1", "fine_tuning", 1, 2, 3);
    emit("ft/b1", "fine_tuning", 4, 4, 4);
    emit("mix/ab", "other", 0.5, 0.5, 0.5);
    emit("ft/ab1", "fine_tuning", 200, 200, 200); /* dearer than its roots: avoids nothing */
}

static void teardown(void)
{
    char cmd[160];

    db_close(db);
    db = NULL;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void assert_range(struct core_range r, double low, double value, double high)
{
    ck_assert_double_eq_tol(r.low, low, 1e-9);
    ck_assert_double_eq_tol(r.value, value, 1e-9);
    ck_assert_double_eq_tol(r.high, high, 1e-9);
}

START_TEST(a_member_builds_on_each_distinct_root_once)
{
    struct db_sharing s;
    struct core_dividend_member m;
    struct core_dividend_share share;

    db_sharing_init(&s);
    ck_assert_int_eq(db_sharing_member(db, &s, key_of("ft/ab1"), &m), ERR_OK);
    ck_assert_uint_eq(m.n_roots, 2);
    m.own_kg = core_range_exact(2);
    ck_assert_int_eq(core_dividend_member(s.roots, s.n_roots, &m, 1.0, &share), ERR_OK);
    assert_range(share.counterfactual_kg, 140, 150, 160);
    ck_assert_int_eq(db_sharing_member(db, &s, key_of("ft/c1"), &m), ERR_OK);
    ck_assert_uint_eq(m.n_roots, 1);
    ck_assert(!s.roots[m.roots[0]].has_pretraining);
    db_sharing_cleanup(&s);
}
END_TEST

/* base/a's family: ft/a1 (own 1-2-3, avoids 100 - own), mix/ab (builds on a and
 * b: 140-150-160 less 0.5), ft/ab1 (200 kg: avoids nothing). */
START_TEST(family_dividend_streams_every_descendant)
{
    struct db_sharing s;
    struct core_dividend d;

    int64_t page[] = {key_of("base/a"), key_of("ft/a1"), key_of("ft/ab1")};
    struct core_dividend_share shares[3];
    bool has_share[3] = {false, false, false};

    db_sharing_init(&s);
    s.page_keys = page;
    s.n_page = 3;
    s.page_shares = shares;
    s.page_has_share = has_share;
    ck_assert_int_eq(db_read_begin(db), ERR_OK);
    ck_assert_int_eq(db_sharing_family(db, &s, key_of("base/a"), 1.0, &d), ERR_OK);
    db_read_end(db);
    /* The listed descendants get their shares on the way; the shared model none. */
    ck_assert(!has_share[0]);
    ck_assert(has_share[1] && has_share[2]);
    assert_range(shares[1].avoided_kg, 97, 98, 99);
    assert_range(shares[2].avoided_kg, 0, 0, 0);
    s.page_keys = NULL;
    s.n_page = 0;
    ck_assert_int_eq(d.status, CORE_DIVIDEND_OK);
    ck_assert_uint_eq(d.n_descendants, 3);
    assert_range(d.avoided_kg, 97 + 139.5, 98 + 149.5, 99 + 159.5);
    assert_range(d.emitted_kg, 105 + 1 + 0.5 + 200, 105 + 2 + 0.5 + 200, 105 + 3 + 0.5 + 200);
    ck_assert(d.has_multiple);

    /* A family whose root has no pre-training says so. */
    ck_assert_int_eq(db_sharing_family(db, &s, key_of("base/c"), 1.0, &d), ERR_OK);
    ck_assert_int_eq(d.status, CORE_DIVIDEND_NO_PRETRAINING);
    ck_assert_uint_eq(d.n_unknown, 1);

    /* A leaf has no descendants; an unknown key is not found. */
    ck_assert_int_eq(db_sharing_family(db, &s, key_of("ft/ab1"), 1.0, &d), ERR_OK);
    ck_assert_int_eq(d.status, CORE_DIVIDEND_NO_DESCENDANTS);
    ck_assert_int_eq(db_sharing_family(db, &s, 999999, 1.0, &d), ERR_NOT_FOUND);
    db_sharing_cleanup(&s);
}
END_TEST

START_TEST(lineage_training_counts_training_and_fine_tuning_of_every_ancestor)
{
    struct core_range kg;

    ck_assert_int_eq(db_lineage_training_kg(db, key_of("ft/ab1"), &kg), ERR_OK);
    /* 100 + (40..60) + (1..3) + 4 + 200; development, embodied and other do not count. */
    assert_range(kg, 345, 356, 367);
    ck_assert_int_eq(db_lineage_training_kg(db, key_of("base/c"), &kg), ERR_OK);
    assert_range(kg, 0, 0, 0);
}
END_TEST

START_TEST(usage_days_are_the_whole_series_in_days_since_1970)
{
    struct db_usage_day *days = NULL;
    size_t n = 0;

    count("ft/a1", 5, "2026-11-30");
    count("ft/a1", 7, "1970-01-02");
    count("ft/a1", 3, "2026-11-30");
    ck_assert_int_eq(db_usage_days(db, key_of("ft/a1"), &days, &n), ERR_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(days[0].day, 1);
    ck_assert_uint_eq(days[0].count, 7);
    ck_assert_int_eq(days[1].day, 20787); /* 2026-11-30 */
    ck_assert_uint_eq(days[1].count, 8);
    free(days);
    ck_assert_int_eq(db_usage_days(db, key_of("ft/b1"), &days, &n), ERR_OK);
    ck_assert_uint_eq(n, 0);
    free(days);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("db_sharing");
    TCase *tc = tcase_create("sharing");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_member_builds_on_each_distinct_root_once);
    tcase_add_test(tc, family_dividend_streams_every_descendant);
    tcase_add_test(tc, lineage_training_counts_training_and_fine_tuning_of_every_ancestor);
    tcase_add_test(tc, usage_days_are_the_whole_series_in_days_since_1970);
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
