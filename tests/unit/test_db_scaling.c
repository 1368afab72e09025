/* SPDX-License-Identifier: Apache-2.0 */
/* Footprint reads do not grow with the family: the pages read to load a leaf's
 * lineage and aggregates are about the same in a 1,000-model and a 100,000-model
 * family (B-tree depth may add a level; nothing scans the family). */
#include "db.h"

#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char dir[64];

/* Builds a family of n models in file path: one base, sqrt(n) fine-tunes, and the
 * rest fine-tunes of those (depth 2), with inferences on every leaf, written with
 * plain SQL in one transaction so the test spends its time reading, not writing.
 * The aggregates are then computed from the closure, as the ledger keeps them. */
static void build_family(const char *path, int n)
{
    sqlite3 *h = NULL;
    int mids = 1;
    char sql[2048];

    while ((mids + 1) * (mids + 1) <= n)
        mids++;
    ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
    snprintf(sql, sizeof sql,
             "BEGIN;"
             "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < %d) "
             "INSERT INTO models (id, namespace, name, depth) "
             "SELECT i, 'fam', 'm' || i, CASE WHEN i = 1 THEN 0 WHEN i <= %d THEN 1 ELSE 2 END "
             "FROM seq;"
             "INSERT INTO model_parents (child_id, parent_id, relation, position) "
             "SELECT id, CASE WHEN id <= %d THEN 1 ELSE 2 + (id %% %d) END, 'finetune', 0 "
             "FROM models WHERE id > 1;"
             "INSERT INTO model_closure SELECT id, id FROM models;"
             "INSERT INTO model_closure SELECT parent_id, child_id FROM model_parents;"
             "INSERT INTO model_closure SELECT 1, id FROM models WHERE depth = 2;"
             "INSERT INTO model_ledger (model_id, own_co2e_kg, own_co2e_kg_low, own_co2e_kg_high, "
             "  inferences, descendants, descendant_inferences) "
             "SELECT id, 1.0, 1.0, 1.0, CASE WHEN depth = 2 THEN 10 ELSE 0 END, 1, "
             "  CASE WHEN depth = 2 THEN 10 ELSE 0 END FROM models;"
             "UPDATE model_ledger SET descendants = (SELECT count(*) FROM model_closure c "
             "  WHERE c.ancestor_id = model_id), descendant_inferences = (SELECT sum(d.inferences) "
             "  FROM model_closure c JOIN model_ledger d ON d.model_id = c.descendant_id "
             "  WHERE c.ancestor_id = model_ledger.model_id);"
             "COMMIT;",
             n, mids + 1, mids + 1, mids);
    ck_assert_msg(sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(h));
    sqlite3_close(h);
}

struct measure {
    int64_t pages;
    double seconds;
    size_t n_rows;
    int64_t family_size;
};

/* Opens path, migrated, built to n models, and measures loading the last leaf's
 * lineage (the footprint's only read) 200 times. */
static struct measure measure_family(int n)
{
    struct db_options options = {.busy_timeout_ms = 1000, .create = true};
    struct measure out = {0};
    struct db *db = NULL;
    char path[128], why[256];
    struct timespec start, end;

    snprintf(path, sizeof path, "%s/family-%d.db", dir, n);
    options.path = path;
    ck_assert_msg(db_open(&options, &db, why, sizeof why) == ERR_OK, "%s", why);
    ck_assert_int_eq(db_migrate(db, NULL, NULL), ERR_OK);
    build_family(path, n);
    for (int warm = 0; warm < 3; warm++) {
        struct core_lineage lineage;
        ck_assert_int_eq(db_lineage_load(db, n, &lineage), ERR_OK);
        out.n_rows = lineage.n_members;
        out.family_size = lineage.members[0].descendants;
        core_lineage_cleanup(&lineage);
    }
    db_page_reads(db);
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < 200; i++) {
        struct core_lineage lineage;
        ck_assert_int_eq(db_lineage_load(db, n, &lineage), ERR_OK);
        out.n_rows = lineage.n_members;
        core_lineage_cleanup(&lineage);
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    out.pages = db_page_reads(db) / 200;
    out.seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    db_close(db);
    return out;
}

START_TEST(leaf_footprint_reads_do_not_grow_from_1000_to_100000_models)
{
    struct measure small = measure_family(1000);
    struct measure large = measure_family(100000);

    printf("family of %6lld: %zu lineage rows, %lld pages per read, %.1f us per read\n",
           (long long)small.family_size, small.n_rows, (long long)small.pages,
           small.seconds / 200 * 1e6);
    printf("family of %6lld: %zu lineage rows, %lld pages per read, %.1f us per read\n",
           (long long)large.family_size, large.n_rows, (long long)large.pages,
           large.seconds / 200 * 1e6);
    ck_assert_int_eq(small.family_size, 1000);
    ck_assert_int_eq(large.family_size, 100000);
    ck_assert_uint_eq(small.n_rows, 3); /* base, mid, leaf */
    ck_assert_uint_eq(large.n_rows, 3);
    /* Each of the three lookups per lineage row (closure, model, ledger) walks a
     * B-tree that is one level deeper in the larger file; that is all that may grow.
     * Scanning the family would read thousands of pages (100,000 closure rows). */
    ck_assert_msg(large.pages <= 2 * small.pages && large.pages <= 64,
                  "pages per read grew from %lld to %lld", (long long)small.pages,
                  (long long)large.pages);
}
END_TEST

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/carbontree-scale-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

int main(void)
{
    Suite *s = suite_create("db_scaling");
    TCase *tc = tcase_create("scaling");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, leaf_footprint_reads_do_not_grow_from_1000_to_100000_models);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
