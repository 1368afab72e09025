/* SPDX-License-Identifier: Apache-2.0 */
/* The maintained aggregates on a migrated temporary file, through the db API only:
 * db_totals_get and db_family_list after model inserts, activities by kind,
 * inferences, an activity's removal, a leaf's removal and a lineage edit, each
 * checked against figures computed by hand; the family orders with their ties and
 * the cursor; the ledger's sharing dividend after every kind of write, against
 * figures computed by hand and against each descendant's share computed afresh. */
#include "db.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DAY "2026-11-26"

static char dir[64];
static char path[128];
static struct db *db;

static void setup(void)
{
    struct db_options options = {.path = path, .busy_timeout_ms = 5000, .create = true};
    char why[256];

    snprintf(dir, sizeof dir, "/tmp/carbontree-unit-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/test.db", dir);
    ck_assert_msg(db_open(&options, &db, why, sizeof why) == ERR_OK, "open: %s", why);
    ck_assert_int_eq(db_migrate(db, NULL, NULL), ERR_OK);
}

/* A file at an earlier schema: the test migrates it. */
static void setup_unmigrated(void)
{
    struct db_options options = {.path = path, .busy_timeout_ms = 5000, .create = true};
    char why[256];

    snprintf(dir, sizeof dir, "/tmp/carbontree-unit-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/test.db", dir);
    ck_assert_msg(db_open(&options, &db, why, sizeof why) == ERR_OK, "open: %s", why);
}

static void teardown(void)
{
    char cmd[160];

    db_close(db);
    db = NULL;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Registers id with at most one parent (NULL: a root) and returns its key. */
static int64_t add(const char *id, const char *parent)
{
    struct core_model m;
    size_t bad = 0;

    memset(&m, 0, sizeof m);
    ck_assert_int_eq(core_model_id_parse(id, &m.id), ERR_OK);
    if (parent) {
        ck_assert_int_eq(core_model_id_parse(parent, &m.parents[0].id), ERR_OK);
        m.parents[0].relation = CORE_RELATION_FINETUNE;
        m.n_parents = 1;
    }
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_model_insert(db, &m, &bad), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
    return m.key;
}

/* Appends an activity of kind with co2e value (low = value / 2, high = value * 2)
 * and returns its id. */
static int64_t activity(int64_t key, const char *kind, double kg)
{
    struct db_activity a;

    memset(&a, 0, sizeof a);
    snprintf(a.kind, sizeof a.kind, "%s", kind);
    snprintf(a.obtained, sizeof a.obtained, "reported");
    snprintf(a.methodology_version, sizeof a.methodology_version, "test");
    a.co2e_kg = (struct core_range){.value = kg, .low = kg / 2, .high = kg * 2};
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_activity_insert(db, key, &a), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
    return a.id;
}

static void infer(int64_t key, int64_t n)
{
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_inferences_add(db, key, n, DAY, NULL), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
}

static void check_range(struct core_range r, double value)
{
    ck_assert_double_eq_tol(r.value, value, 1e-9);
    ck_assert_double_eq_tol(r.low, value / 2, 1e-9);
    ck_assert_double_eq_tol(r.high, value * 2, 1e-9);
}

static void check_totals(const char *ns, int64_t models, int64_t families, double training,
                         double fine_tuning, double other, int64_t inferences)
{
    struct db_totals t;

    ck_assert_int_eq(db_totals_get(db, ns, &t), ERR_OK);
    ck_assert_int_eq(t.models, models);
    ck_assert_int_eq(t.families, families);
    check_range(t.co2e.training_kg, training);
    check_range(t.co2e.fine_tuning_kg, fine_tuning);
    check_range(t.co2e.other_kg, other);
    ck_assert_int_eq(t.inferences, inferences);
}

/* Two families in two namespaces:
 *   a/base (training 100) <- a/tuned (fine_tuning 10, idle 1) <- b/leaf (other 2)
 *   b/solo (training 50)
 * with inferences a/tuned 7, b/leaf 5, b/solo 3. */
static void seed(int64_t *base, int64_t *tuned, int64_t *leaf, int64_t *solo)
{
    *base = add("a/base", NULL);
    *tuned = add("a/tuned", "a/base");
    *leaf = add("b/leaf", "a/tuned");
    *solo = add("b/solo", NULL);
    activity(*base, "training", 100);
    activity(*tuned, "fine_tuning", 10);
    activity(*tuned, "idle", 1);
    activity(*leaf, "other", 2);
    activity(*solo, "training", 50);
    infer(*tuned, 7);
    infer(*leaf, 5);
    infer(*solo, 3);
}

START_TEST(totals_count_every_write)
{
    int64_t base, tuned, leaf, solo;

    check_totals(NULL, 0, 0, 0, 0, 0, 0);
    seed(&base, &tuned, &leaf, &solo);
    check_totals(NULL, 4, 2, 150, 10, 3, 15);
    check_totals("a", 2, 1, 100, 10, 1, 7);
    check_totals("B", 2, 1, 50, 0, 2, 8); /* namespaces compare as ids do */
    check_totals("nobody", 0, 0, 0, 0, 0, 0);
}
END_TEST

START_TEST(totals_follow_removals)
{
    int64_t base, tuned, leaf, solo, idle;
    struct core_model_id id;

    seed(&base, &tuned, &leaf, &solo);
    idle = activity(tuned, "development", 4);
    check_totals("a", 2, 1, 100, 10, 5, 7);
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_activity_delete(db, tuned, idle), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
    check_totals("a", 2, 1, 100, 10, 1, 7);

    /* The leaf leaves with its activity and its inferences. */
    ck_assert_int_eq(core_model_id_parse("b/leaf", &id), ERR_OK);
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_model_delete(db, &id), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
    check_totals("b", 1, 1, 50, 0, 0, 3);
    check_totals(NULL, 3, 2, 150, 10, 1, 10);
}
END_TEST

static void check_family(const struct db_family_row *f, const char *id, int64_t size,
                         int64_t inferences, double training, double fine_tuning, double other)
{
    char text[200];

    snprintf(text, sizeof text, "%s/%s", f->id.ns, f->id.name);
    ck_assert_str_eq(text, id);
    ck_assert_int_eq(f->size, size);
    ck_assert_int_eq(f->inferences, inferences);
    check_range(f->co2e.training_kg, training);
    check_range(f->co2e.fine_tuning_kg, fine_tuning);
    check_range(f->co2e.other_kg, other);
    ck_assert_double_eq_tol(f->co2e_kg, training + fine_tuning + other, 1e-9);
}

START_TEST(families_sum_their_members)
{
    int64_t base, tuned, leaf, solo;
    struct db_family_row rows[4];
    size_t n = 0;
    bool more = true;

    seed(&base, &tuned, &leaf, &solo);
    ck_assert_int_eq(db_family_list(db, DB_FAMILY_BY_KEY, 0, 4, rows, &n, &more), ERR_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert(!more);
    check_family(&rows[0], "a/base", 3, 12, 100, 10, 3);
    check_family(&rows[1], "b/solo", 1, 3, 50, 0, 0);

    ck_assert_int_eq(db_family_list(db, DB_FAMILY_BY_SIZE, 0, 1, rows, &n, &more), ERR_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert(more);
    ck_assert_int_eq(rows[0].key, base);
    ck_assert_int_eq(db_family_list(db, DB_FAMILY_BY_SIZE, base, 1, rows, &n, &more), ERR_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert(!more);
    ck_assert_int_eq(rows[0].key, solo);

    /* A cursor that is not a root. */
    ck_assert_int_eq(db_family_list(db, DB_FAMILY_BY_CO2E, tuned, 1, rows, &n, &more),
                     ERR_NOT_FOUND);
}
END_TEST

START_TEST(family_orders_break_ties_by_key)
{
    int64_t x = add("t/x", NULL), y = add("t/y", NULL), z = add("t/z", NULL);
    struct db_family_row rows[3];
    size_t n = 0;
    bool more = false;

    activity(x, "training", 5);
    activity(y, "training", 9);
    activity(z, "training", 5);
    infer(x, 2);
    infer(z, 2);
    ck_assert_int_eq(db_family_list(db, DB_FAMILY_BY_CO2E, 0, 3, rows, &n, &more), ERR_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(rows[0].key, y);
    ck_assert_int_eq(rows[1].key, x);
    ck_assert_int_eq(rows[2].key, z);
    /* After x, the tie z comes before nothing else. */
    ck_assert_int_eq(db_family_list(db, DB_FAMILY_BY_CO2E, x, 3, rows, &n, &more), ERR_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(rows[0].key, z);
    ck_assert_int_eq(db_family_list(db, DB_FAMILY_BY_INFERENCES, 0, 3, rows, &n, &more), ERR_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(rows[0].key, x);
    ck_assert_int_eq(rows[1].key, z);
    ck_assert_int_eq(rows[2].key, y);
}
END_TEST

START_TEST(lineage_edit_moves_a_subtree_between_families)
{
    int64_t base, tuned, leaf, solo;
    struct db_family_row rows[4];
    struct core_model m;
    size_t n = 0, bad = 0;
    bool more = false;

    seed(&base, &tuned, &leaf, &solo);
    /* a/tuned (with b/leaf below it) moves under b/solo. */
    memset(&m, 0, sizeof m);
    ck_assert_int_eq(core_model_id_parse("a/tuned", &m.id), ERR_OK);
    ck_assert_int_eq(core_model_id_parse("b/solo", &m.parents[0].id), ERR_OK);
    m.parents[0].relation = CORE_RELATION_FINETUNE;
    m.n_parents = 1;
    m.key = tuned;
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_model_set_parents(db, &m, &bad), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
    ck_assert_int_eq(db_family_list(db, DB_FAMILY_BY_KEY, 0, 4, rows, &n, &more), ERR_OK);
    ck_assert_uint_eq(n, 2);
    check_family(&rows[0], "a/base", 1, 0, 100, 0, 0);
    check_family(&rows[1], "b/solo", 3, 15, 50, 10, 3);

    /* a/tuned becomes a root: one family more. */
    m.n_parents = 0;
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_model_set_parents(db, &m, &bad), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
    ck_assert_int_eq(db_family_list(db, DB_FAMILY_BY_KEY, 0, 4, rows, &n, &more), ERR_OK);
    ck_assert_uint_eq(n, 3);
    check_family(&rows[1], "a/tuned", 2, 12, 0, 10, 3);
    check_family(&rows[2], "b/solo", 1, 3, 50, 0, 0);
    check_totals(NULL, 4, 3, 150, 10, 3, 15);
    check_totals("a", 2, 2, 100, 10, 1, 7);
}
END_TEST

/* Registers id with two parents (a merge) and returns its key. */
static int64_t add_merge(const char *id, const char *first, const char *second)
{
    struct core_model m;
    size_t bad = 0;

    memset(&m, 0, sizeof m);
    ck_assert_int_eq(core_model_id_parse(id, &m.id), ERR_OK);
    ck_assert_int_eq(core_model_id_parse(first, &m.parents[0].id), ERR_OK);
    ck_assert_int_eq(core_model_id_parse(second, &m.parents[1].id), ERR_OK);
    m.parents[0].relation = m.parents[1].relation = CORE_RELATION_MERGE;
    m.n_parents = 2;
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_model_insert(db, &m, &bad), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
    return m.key;
}

static void check_bounds(struct core_range r, double low, double value, double high)
{
    ck_assert_double_eq_tol(r.low, low, 1e-9);
    ck_assert_double_eq_tol(r.value, value, 1e-9);
    ck_assert_double_eq_tol(r.high, high, 1e-9);
}

static void check_dividend(const char *ns, int64_t without_pretraining, double low, double value,
                           double high)
{
    struct db_totals t;

    ck_assert_int_eq(db_totals_get(db, ns, &t), ERR_OK);
    ck_assert_int_eq(t.descendants_without_pretraining, without_pretraining);
    check_bounds(t.avoided_kg, low, value, high);
}

/* The maintained sum equals the shares of the descendants among keys (the models
 * with parents), each computed afresh from the lineage by db_sharing_share. */
static void check_dividend_recomputed(const int64_t *keys, const bool *has_parents, size_t n)
{
    struct core_range sum = core_range_zero();
    int64_t unknown = 0;
    struct db_totals t;

    for (size_t i = 0; i < n; i++) {
        struct db_sharing s;
        struct core_dividend_share share;
        if (!has_parents[i])
            continue;
        db_sharing_init(&s);
        ck_assert_int_eq(db_sharing_share(db, &s, keys[i], 1.0, &share), ERR_OK);
        db_sharing_cleanup(&s);
        if (share.status == CORE_DIVIDEND_OK)
            sum = core_range_add(sum, share.avoided_kg);
        else
            unknown++;
    }
    ck_assert_int_eq(db_totals_get(db, NULL, &t), ERR_OK);
    ck_assert_int_eq(t.descendants_without_pretraining, unknown);
    check_bounds(t.avoided_kg, sum.low, sum.value, sum.high);
}

START_TEST(dividend_follows_every_write)
{
    int64_t keys[8];
    bool has_parents[8] = {false, true, true, false, true, false, true, false};

    check_dividend(NULL, 0, 0, 0, 0);
    seed(&keys[0], &keys[1], &keys[2], &keys[3]);
    /* a/tuned avoided a/base's 100 (50..200) less its own 11 (5.5..22); b/leaf less
     * its own 2 (1..4). Each counts in its own namespace. */
    check_dividend(NULL, 0, 28 + 46, 89 + 98, 194.5 + 199);
    check_dividend("a", 0, 28, 89, 194.5);
    check_dividend("b", 0, 46, 98, 199);
    check_dividend_recomputed(keys, has_parents, 4);

    /* A merge of a/base and b/solo avoided both pre-trainings (150, 75..300) less
     * its own 30 (15..60), counted once in the ledger. */
    keys[4] = add_merge("c/merge", "a/base", "b/solo");
    activity(keys[4], "fine_tuning", 30);
    check_dividend("c", 0, 15, 120, 285);
    check_dividend_recomputed(keys, has_parents, 5);

    /* A root without pre-training: its descendant is counted, not summed, until
     * the root's training arrives. */
    keys[5] = add("d/bare", NULL);
    keys[6] = add("d/kid", "d/bare");
    activity(keys[6], "fine_tuning", 1);
    check_dividend("d", 1, 0, 0, 0);
    check_dividend_recomputed(keys, has_parents, 7);
    activity(keys[5], "training", 20);
    check_dividend("d", 0, 10 - 2, 19, 40 - 0.5);
    check_dividend_recomputed(keys, has_parents, 7);

    /* A descendant dearer than its root avoided nothing. */
    activity(keys[6], "fine_tuning", 100);
    check_dividend("d", 0, 0, 0, 0);
    check_dividend_recomputed(keys, has_parents, 7);
}
END_TEST

START_TEST(dividend_follows_lineage_edits_and_removals)
{
    int64_t keys[4];
    bool has_parents[4] = {false, true, true, false};
    struct core_model_id id;
    struct core_model m;
    size_t bad = 0;
    int64_t idle;

    seed(&keys[0], &keys[1], &keys[2], &keys[3]);
    /* a/tuned (with b/leaf below it) moves under b/solo (50, 25..100). */
    memset(&m, 0, sizeof m);
    ck_assert_int_eq(core_model_id_parse("a/tuned", &m.id), ERR_OK);
    ck_assert_int_eq(core_model_id_parse("b/solo", &m.parents[0].id), ERR_OK);
    m.parents[0].relation = CORE_RELATION_FINETUNE;
    m.n_parents = 1;
    m.key = keys[1];
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_model_set_parents(db, &m, &bad), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
    check_dividend("a", 0, 3, 39, 94.5);
    check_dividend("b", 0, 21, 48, 99);
    check_dividend_recomputed(keys, has_parents, 4);

    /* An activity removed from a descendant: it avoided more. */
    idle = activity(keys[2], "other", 8);
    check_dividend("b", 0, 5, 40, 95);
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_activity_delete(db, keys[2], idle), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
    check_dividend("b", 0, 21, 48, 99);

    /* The leaf leaves, and its share with it. */
    ck_assert_int_eq(core_model_id_parse("b/leaf", &id), ERR_OK);
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_model_delete(db, &id), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
    check_dividend("b", 0, 0, 0, 0);
    check_dividend(NULL, 0, 3, 39, 94.5);

    /* a/tuned becomes a root: nothing builds on anything any more. */
    m.n_parents = 0;
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_model_set_parents(db, &m, &bad), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
    check_dividend(NULL, 0, 0, 0, 0);
    check_dividend("a", 0, 0, 0, 0);
}
END_TEST

/* The family's daily counts of key by representative: n entries into reps[] and
 * counts[] (room for 4), all on DAY. */
static size_t family_usage(int64_t key, int64_t *reps, int64_t *counts)
{
    struct db_family_usage_day *days = NULL;
    size_t n = 0;

    ck_assert_int_eq(db_family_usage_days(db, key, &days, &n), ERR_OK);
    ck_assert_uint_le(n, 4);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(days[i].day, 20783); /* DAY, days since 1970-01-01 */
        reps[i] = days[i].rep_key;
        counts[i] = (int64_t)days[i].count;
    }
    free(days);
    return n;
}

static void check_usage(int64_t key, size_t n, const int64_t *reps, const int64_t *counts)
{
    int64_t got_reps[4], got_counts[4];

    ck_assert_uint_eq(family_usage(key, got_reps, got_counts), n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(got_reps[i], reps[i]);
        ck_assert_int_eq(got_counts[i], counts[i]);
    }
}

START_TEST(family_usage_follows_counts_representatives_and_lineage)
{
    int64_t base, tuned, leaf, solo;
    struct db_activity a;
    struct core_model_id id;
    struct core_model m;
    size_t bad = 0;

    seed(&base, &tuned, &leaf, &solo);
    /* No profile, no training energy: every member of a/base's family prices an
     * inference as a/base does. */
    check_usage(base, 1, (int64_t[]){base}, (int64_t[]){12});
    check_usage(tuned, 1, (int64_t[]){base}, (int64_t[]){12});
    check_usage(solo, 1, (int64_t[]){solo}, (int64_t[]){3});
    infer(leaf, 4);
    check_usage(base, 1, (int64_t[]){base}, (int64_t[]){16});

    /* Training energy of its own: a/tuned and its leaf price inferences their way. */
    memset(&a, 0, sizeof a);
    snprintf(a.kind, sizeof a.kind, "training");
    snprintf(a.obtained, sizeof a.obtained, "reported");
    snprintf(a.methodology_version, sizeof a.methodology_version, "test");
    a.has_energy = true;
    a.energy_kwh = (struct core_range){.value = 3, .low = 2, .high = 4};
    a.co2e_kg = (struct core_range){.value = 1, .low = 1, .high = 1};
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_activity_insert(db, tuned, &a), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
    check_usage(base, 1, (int64_t[]){tuned}, (int64_t[]){16});

    /* a/tuned and its leaf move under b/solo: their counts leave a/base's family. */
    memset(&m, 0, sizeof m);
    ck_assert_int_eq(core_model_id_parse("a/tuned", &m.id), ERR_OK);
    ck_assert_int_eq(core_model_id_parse("b/solo", &m.parents[0].id), ERR_OK);
    m.parents[0].relation = CORE_RELATION_FINETUNE;
    m.n_parents = 1;
    m.key = tuned;
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_model_set_parents(db, &m, &bad), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
    check_usage(base, 0, NULL, NULL);
    check_usage(solo, 2, (int64_t[]){tuned, solo}, (int64_t[]){16, 3});

    /* The leaf leaves with its counts. */
    ck_assert_int_eq(core_model_id_parse("b/leaf", &id), ERR_OK);
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_model_delete(db, &id), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
    check_usage(solo, 2, (int64_t[]){tuned, solo}, (int64_t[]){7, 3});
    check_usage(tuned, 1, (int64_t[]){tuned}, (int64_t[]){7});
}
END_TEST

START_TEST(migration_7_fills_the_aggregates_of_an_existing_ledger)
{
    int64_t base, tuned, leaf, solo;
    struct db_family_row rows[4];
    size_t n = 0;
    bool more = false;
    int from = 0, to = 0;

    ck_assert_int_eq(db_migrate_to(db, 5, &from, &to), ERR_OK);
    ck_assert_int_eq(to, 5);
    seed(&base, &tuned, &leaf, &solo);
    ck_assert_int_eq(db_migrate(db, &from, &to), ERR_OK);
    ck_assert_int_eq(from, 5);
    ck_assert_int_eq(to, db_schema_latest());
    check_totals(NULL, 4, 2, 150, 10, 3, 15);
    check_totals("a", 2, 1, 100, 10, 1, 7);
    check_totals("b", 2, 1, 50, 0, 2, 8);
    ck_assert_int_eq(db_family_list(db, DB_FAMILY_BY_CO2E, 0, 4, rows, &n, &more), ERR_OK);
    ck_assert_uint_eq(n, 2);
    check_family(&rows[0], "a/base", 3, 12, 100, 10, 3);
    check_family(&rows[1], "b/solo", 1, 3, 50, 0, 0);
    /* And the writes keep them from there. */
    activity(leaf, "training", 1);
    check_totals(NULL, 4, 2, 151, 10, 3, 15);
    /* The dividend was filled too: b/leaf's own cost is now 3 (1.5..6). */
    check_dividend(NULL, 0, 28 + 44, 89 + 97, 194.5 + 198.5);
    /* And the families' daily counts. */
    check_usage(base, 1, (int64_t[]){base}, (int64_t[]){12});
    infer(leaf, 1);
    check_usage(tuned, 1, (int64_t[]){base}, (int64_t[]){13});
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("db_aggregates");
    TCase *tc = tcase_create("aggregates");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, totals_count_every_write);
    tcase_add_test(tc, totals_follow_removals);
    tcase_add_test(tc, families_sum_their_members);
    tcase_add_test(tc, family_orders_break_ties_by_key);
    tcase_add_test(tc, lineage_edit_moves_a_subtree_between_families);
    tcase_add_test(tc, dividend_follows_every_write);
    tcase_add_test(tc, dividend_follows_lineage_edits_and_removals);
    tcase_add_test(tc, family_usage_follows_counts_representatives_and_lineage);
    suite_add_tcase(s, tc);
    tc = tcase_create("upgrade");
    tcase_add_checked_fixture(tc, setup_unmigrated, teardown);
    tcase_add_test(tc, migration_7_fills_the_aggregates_of_an_existing_ledger);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(suite());
    int failed;

    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
