/* SPDX-License-Identifier: Apache-2.0 */
/* The storage layer against real SQLite files: migrations, settings, the model
 * registry and its lineage (closure, depth, cycles), and error translation. */
#include "db.h"
#include "db_internal.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[64];
static char path[128];
static struct db *db;

static void open_db(void)
{
    struct db_options options = {.path = path, .busy_timeout_ms = 5000, .create = true};
    char why[256];

    ck_assert_msg(db_open(&options, &db, why, sizeof why) == ERR_OK, "open: %s", why);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/carbontree-unit-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/test.db", dir);
    open_db();
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

static enum err add(const char *id, const char *const *parents, enum core_relation relation,
                    size_t *bad)
{
    struct core_model m;
    size_t ignored = 0;
    enum err rc;

    memset(&m, 0, sizeof m);
    ck_assert_int_eq(core_model_id_parse(id, &m.id), ERR_OK);
    for (size_t i = 0; parents && parents[i]; i++) {
        ck_assert_int_eq(core_model_id_parse(parents[i], &m.parents[i].id), ERR_OK);
        m.parents[i].relation = relation;
        m.n_parents = i + 1;
    }
    rc = db_write_begin(db);
    if (rc != ERR_OK)
        return rc;
    rc = db_model_insert(db, &m, bad ? bad : &ignored);
    if (rc == ERR_OK)
        ck_assert_int_eq(db_write_commit(db), ERR_OK);
    else
        db_write_rollback(db);
    return rc;
}

static struct core_model get(const char *id)
{
    struct core_model_id mid;
    struct core_model m;

    ck_assert_int_eq(core_model_id_parse(id, &mid), ERR_OK);
    ck_assert_int_eq(db_model_get(db, &mid, &m), ERR_OK);
    return m;
}

static size_t count_children(const char *parent_id)
{
    struct core_model_id parent;
    struct db_model_filter filter = {.parent = &parent, .limit = 100};
    static struct core_model items[100];
    size_t n = 0;
    bool more = false;

    ck_assert_int_eq(core_model_id_parse(parent_id, &parent), ERR_OK);
    ck_assert_int_eq(db_model_list(db, &filter, items, &n, &more), ERR_OK);
    return n;
}

START_TEST(migrations_run_twice_from_empty_and_reach_the_newest_version)
{
    int from = -1, to = -1, version = -1;

    /* setup migrated once already; a fresh file migrates from 0 */
    db_close(db);
    unlink(path);
    open_db();
    ck_assert_int_eq(db_schema_version(db, &version), ERR_OK);
    ck_assert_int_eq(version, 0);
    ck_assert_int_eq(db_migrate(db, &from, &to), ERR_OK);
    ck_assert_int_eq(from, 0);
    ck_assert_int_eq(to, db_schema_latest());
    ck_assert_int_ge(db_schema_latest(), 1);
    ck_assert_int_eq(db_migrate(db, &from, &to), ERR_OK);
    ck_assert_int_eq(from, db_schema_latest());
    ck_assert_int_eq(to, db_schema_latest());
    ck_assert_int_eq(db_schema_version(db, &version), ERR_OK);
    ck_assert_int_eq(version, db_schema_latest());
    ck_assert_int_eq(db_quick_check(db), ERR_OK);
}
END_TEST

START_TEST(open_refuses_a_corrupt_file_with_a_reason)
{
    char bad_path[160], why[256] = "";
    struct db_options options = {.path = bad_path, .busy_timeout_ms = 100};
    struct db *bad = NULL;
    unsigned char junk[4096];
    FILE *f;

    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)(i * 131u + 7u);
    snprintf(bad_path, sizeof bad_path, "%s/corrupt.db", dir);
    f = fopen(bad_path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(junk, 1, sizeof junk, f), sizeof junk);
    fclose(f);
    ck_assert_int_ne(db_open(&options, &bad, why, sizeof why), ERR_OK);
    ck_assert_ptr_null(bad);
    ck_assert_msg(strstr(why, "corrupt.db") != NULL, "reason names the file: %s", why);
}
END_TEST

START_TEST(open_refuses_a_path_in_a_missing_directory)
{
    char bad_path[160], why[256] = "";
    struct db_options options = {.path = bad_path, .busy_timeout_ms = 100, .create = true};
    struct db *bad = NULL;

    snprintf(bad_path, sizeof bad_path, "%s/missing/dir/x.db", dir);
    ck_assert_int_eq(db_open(&options, &bad, why, sizeof why), ERR_IO);
    ck_assert_ptr_null(bad);
    ck_assert_msg(strstr(why, "cannot open") != NULL, "reason: %s", why);
}
END_TEST

/* Schema 7 held ids with a namespace only; 0008 rebuilds models to take bare ids
 * (namespace ''), keeping every row, key, edge, total and the key high-water mark. */
START_TEST(migration_8_keeps_a_schema_7_registry_and_takes_bare_ids)
{
    const char *const ft[] = {"up/base", NULL};
    const char *const bare_parent[] = {"gpt2", NULL};
    struct core_model_id base, gone, gpt2;
    struct core_model m;
    struct db_totals totals;
    int64_t base_key, child_key;
    int from = 0, to = 0;
    char cmd[160];

    db_close(db);
    snprintf(cmd, sizeof cmd, "rm -f '%s'", path);
    ck_assert_int_eq(system(cmd), 0);
    open_db();
    ck_assert_int_eq(db_migrate_to(db, 7, &from, &to), ERR_OK);
    ck_assert_int_eq(to, 7);
    ck_assert_int_eq(add("up/base", NULL, 0, NULL), ERR_OK);
    ck_assert_int_eq(add("up/child", ft, CORE_RELATION_FINETUNE, NULL), ERR_OK);
    ck_assert_int_eq(add("up/gone", NULL, 0, NULL), ERR_OK);
    ck_assert_int_eq(core_model_id_parse("up/gone", &gone), ERR_OK);
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_model_delete(db, &gone), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
    ck_assert_int_eq(add("gpt2", NULL, 0, NULL), ERR_DB); /* 0001's CHECK */

    ck_assert_int_eq(db_migrate(db, &from, &to), ERR_OK);
    ck_assert_int_eq(from, 7);
    ck_assert_int_eq(to, db_schema_latest());
    ck_assert_int_eq(core_model_id_parse("up/base", &base), ERR_OK);
    ck_assert_int_eq(db_model_get(db, &base, &m), ERR_OK);
    base_key = m.key;
    ck_assert_int_eq(m.n_children, 1);
    ck_assert_int_eq(core_model_id_parse("up/child", &m.id), ERR_OK);
    ck_assert_int_eq(db_model_get(db, &m.id, &m), ERR_OK);
    child_key = m.key;
    ck_assert_int_eq(m.depth, 1);
    ck_assert_uint_eq(m.n_parents, 1);
    ck_assert(core_model_id_equal(&m.parents[0].id, &base));
    /* foreign keys are back on: a parent with children cannot go */
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_model_delete(db, &base), ERR_CONFLICT);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);

    ck_assert_int_eq(add("gpt2", NULL, 0, NULL), ERR_OK);
    ck_assert_int_eq(add("GPT2", NULL, 0, NULL), ERR_CONFLICT);
    ck_assert_int_eq(add("up/gpt2-child", bare_parent, CORE_RELATION_FINETUNE, NULL), ERR_OK);
    ck_assert_int_eq(core_model_id_parse("gpt2", &gpt2), ERR_OK);
    ck_assert_int_eq(db_model_get(db, &gpt2, &m), ERR_OK);
    ck_assert_str_eq(m.id.ns, "");
    ck_assert_int_eq(m.n_children, 1);
    ck_assert_int_gt(m.key, child_key + 1); /* the deleted model's key is not reused */
    ck_assert_int_gt(child_key, base_key);
    ck_assert_int_eq(db_totals_get(db, NULL, &totals), ERR_OK);
    ck_assert_int_eq(totals.models, 4);
    ck_assert_int_eq(totals.families, 2);
    ck_assert_int_eq(db_totals_get(db, "up", &totals), ERR_OK);
    ck_assert_int_eq(totals.models, 3);
}
END_TEST

START_TEST(duplicate_ids_are_conflicts_whatever_their_case)
{
    ck_assert_int_eq(add("google/bert", NULL, 0, NULL), ERR_OK);
    ck_assert_int_eq(add("google/bert", NULL, 0, NULL), ERR_CONFLICT);
    ck_assert_int_eq(add("Google/BERT", NULL, 0, NULL), ERR_CONFLICT);
}
END_TEST

START_TEST(unknown_parent_is_not_found_and_leaves_nothing_behind)
{
    const char *const parents[] = {"a/base", "a/ghost", NULL};
    struct core_model_id id;
    struct core_model m;
    size_t bad = 99;

    ck_assert_int_eq(add("a/base", NULL, 0, NULL), ERR_OK);
    ck_assert_int_eq(add("a/merged", parents, CORE_RELATION_MERGE, &bad), ERR_NOT_FOUND);
    ck_assert_uint_eq(bad, 1);
    ck_assert_int_eq(core_model_id_parse("a/merged", &id), ERR_OK);
    ck_assert_int_eq(db_model_get(db, &id, &m), ERR_NOT_FOUND);
    ck_assert_uint_eq(count_children("a/base"), 0);
}
END_TEST

START_TEST(merge_has_both_parents_and_depth_one_more_than_the_deepest)
{
    const char *const ft[] = {"a/base", NULL};
    const char *const merge[] = {"a/ft", "b/other", NULL};
    struct core_model m;

    ck_assert_int_eq(add("a/base", NULL, 0, NULL), ERR_OK);
    ck_assert_int_eq(add("b/other", NULL, 0, NULL), ERR_OK);
    ck_assert_int_eq(add("a/ft", ft, CORE_RELATION_FINETUNE, NULL), ERR_OK);
    ck_assert_int_eq(add("c/merged", merge, CORE_RELATION_MERGE, NULL), ERR_OK);
    m = get("c/merged");
    ck_assert_uint_eq(m.n_parents, 2);
    ck_assert_str_eq(m.parents[0].id.name, "ft");
    ck_assert_str_eq(m.parents[1].id.name, "other");
    ck_assert_int_eq(m.parents[0].relation, CORE_RELATION_MERGE);
    ck_assert_int_eq(m.depth, 2);
    ck_assert_int_eq(get("a/base").n_children, 1);
    ck_assert_int_eq(get("b/other").n_children, 1);
}
END_TEST

START_TEST(an_edge_that_would_close_a_cycle_is_a_conflict)
{
    const char *const ft_a[] = {"x/a", NULL};
    const char *const ft_b[] = {"x/b", NULL};
    struct core_model c;
    size_t bad = 99;

    ck_assert_int_eq(add("x/a", NULL, 0, NULL), ERR_OK);
    ck_assert_int_eq(add("x/b", ft_a, CORE_RELATION_FINETUNE, NULL), ERR_OK);
    ck_assert_int_eq(add("x/c", ft_b, CORE_RELATION_FINETUNE, NULL), ERR_OK);
    /* a <- b <- c; making c a parent of a closes a -> b -> c -> a */
    c = get("x/a");
    c.n_parents = 1;
    ck_assert_int_eq(core_model_id_parse("x/c", &c.parents[0].id), ERR_OK);
    c.parents[0].relation = CORE_RELATION_FINETUNE;
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_model_set_parents(db, &c, &bad), ERR_CONFLICT);
    db_write_rollback(db);
    ck_assert_uint_eq(bad, 0);
    ck_assert_uint_eq(get("x/a").n_parents, 0);
}
END_TEST

START_TEST(reparenting_moves_the_whole_subtree_and_its_depths)
{
    const char *const under_a[] = {"r/a", NULL};
    const char *const under_b[] = {"r/b", NULL};
    struct core_model b;
    size_t bad = 0;

    ck_assert_int_eq(add("r/a", NULL, 0, NULL), ERR_OK);
    ck_assert_int_eq(add("r/deep", under_a, CORE_RELATION_FINETUNE, NULL), ERR_OK);
    ck_assert_int_eq(add("r/b", NULL, 0, NULL), ERR_OK);
    ck_assert_int_eq(add("r/c", under_b, CORE_RELATION_FINETUNE, NULL), ERR_OK);
    /* b (with child c) becomes a child of deep: depths 2 and 3 */
    b = get("r/b");
    b.n_parents = 1;
    ck_assert_int_eq(core_model_id_parse("r/deep", &b.parents[0].id), ERR_OK);
    b.parents[0].relation = CORE_RELATION_ADAPTER;
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_model_set_parents(db, &b, &bad), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
    ck_assert_int_eq(get("r/b").depth, 2);
    ck_assert_int_eq(get("r/c").depth, 3);
    /* now a -> deep -> b -> c, so c above a would be a cycle */
    b = get("r/a");
    b.n_parents = 1;
    ck_assert_int_eq(core_model_id_parse("r/c", &b.parents[0].id), ERR_OK);
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_model_set_parents(db, &b, &bad), ERR_CONFLICT);
    db_write_rollback(db);
}
END_TEST

START_TEST(lineage_deeper_than_the_cap_is_refused)
{
    char id[32], parent_id[32];
    const char *parents[2] = {parent_id, NULL};

    ck_assert_int_eq(add("d/m0", NULL, 0, NULL), ERR_OK);
    for (int i = 1; i <= CORE_LINEAGE_MAX_DEPTH; i++) {
        snprintf(id, sizeof id, "d/m%d", i);
        snprintf(parent_id, sizeof parent_id, "d/m%d", i - 1);
        ck_assert_int_eq(add(id, parents, CORE_RELATION_FINETUNE, NULL), ERR_OK);
    }
    ck_assert_int_eq(get("d/m64").depth, 64);
    snprintf(parent_id, sizeof parent_id, "d/m64");
    ck_assert_int_eq(add("d/m65", parents, CORE_RELATION_FINETUNE, NULL), ERR_INVALID_INPUT);
}
END_TEST

START_TEST(delete_refuses_a_model_with_children_then_succeeds_bottom_up)
{
    const char *const ft[] = {"z/base", NULL};
    struct core_model_id base, child;
    struct core_model m;

    ck_assert_int_eq(add("z/base", NULL, 0, NULL), ERR_OK);
    ck_assert_int_eq(add("z/child", ft, CORE_RELATION_FINETUNE, NULL), ERR_OK);
    ck_assert_int_eq(core_model_id_parse("z/base", &base), ERR_OK);
    ck_assert_int_eq(core_model_id_parse("z/child", &child), ERR_OK);
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_model_delete(db, &base), ERR_CONFLICT);
    ck_assert_int_eq(db_model_delete(db, &child), ERR_OK);
    ck_assert_int_eq(db_model_delete(db, &base), ERR_OK);
    ck_assert_int_eq(db_model_delete(db, &base), ERR_NOT_FOUND);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
    ck_assert_int_eq(db_model_get(db, &base, &m), ERR_NOT_FOUND);
}
END_TEST

START_TEST(list_pages_by_key_and_reports_more)
{
    struct db_model_filter filter = {.limit = 3};
    struct core_model items[3];
    char id[32];
    size_t n = 0, seen = 0;
    bool more = true;

    for (int i = 0; i < 8; i++) {
        snprintf(id, sizeof id, "p/m%d", i);
        ck_assert_int_eq(add(id, NULL, 0, NULL), ERR_OK);
    }
    while (more) {
        ck_assert_int_eq(db_model_list(db, &filter, items, &n, &more), ERR_OK);
        seen += n;
        if (n > 0)
            filter.after_key = items[n - 1].key;
        ck_assert_uint_le(seen, 8);
    }
    ck_assert_uint_eq(seen, 8);
}
END_TEST

START_TEST(a_held_write_lock_makes_writers_busy)
{
    struct db_options options = {.path = path, .busy_timeout_ms = 50};
    struct db *other = NULL;
    char why[256];

    ck_assert_int_eq(db_open(&options, &other, why, sizeof why), ERR_OK);
    ck_assert_int_eq(db_write_begin(other), ERR_OK);
    ck_assert_int_eq(add("busy/model", NULL, 0, NULL), ERR_BUSY);
    db_write_rollback(other);
    ck_assert_int_eq(add("busy/model", NULL, 0, NULL), ERR_OK);
    db_close(other);
}
END_TEST

static off_t file_size(const char *file)
{
    struct stat st;

    return stat(file, &st) == 0 ? st.st_size : -1;
}

/* Commits on a pool's connections leave checkpoints to the pool's own thread: the
 * WAL is copied into the database file (which only a checkpoint writes) while
 * nobody but that thread checkpoints. */
START_TEST(a_pool_checkpoints_a_long_wal_on_its_own_thread)
{
    struct db_options options = {.path = path, .busy_timeout_ms = 5000};
    struct db_pool *pool = NULL;
    struct db *conn = NULL;
    char why[256];
    off_t before;

    ck_assert_int_eq(db_pool_create(&options, &pool, why, sizeof why), ERR_OK);
    ck_assert_int_eq(db_pool_acquire(pool, &conn), ERR_OK);
    ck_assert_int_eq(db_exec(conn, "CREATE TABLE filler (data BLOB) STRICT"), ERR_OK);
    before = file_size(path);
    /* 300 commits of 16 KiB: about 1,500 pages of WAL. */
    for (int i = 0; i < 300; i++)
        ck_assert_int_eq(db_exec(conn, "INSERT INTO filler VALUES (randomblob(16384))"), ERR_OK);
    /* A passive checkpoint copies what it can while commits go on, so how much has
     * been copied varies; that some was, with no checkpoint on this thread, is the
     * point. */
    for (int waited_ms = 0; file_size(path) < before + 100 * 4096 && waited_ms < 20000;
         waited_ms += 10) {
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    ck_assert_msg(file_size(path) >= before + 100 * 4096, "database file %lld bytes, was %lld",
                  (long long)file_size(path), (long long)before);
    db_pool_destroy(pool);
}
END_TEST

START_TEST(startup_check_reads_the_file_only_after_an_unclean_stop)
{
    bool was_checked = true;
    pid_t child;
    int status = 0;

    /* A clean close removes the WAL: the next start skips the full check. */
    db_close(db);
    open_db();
    ck_assert_int_eq(db_startup_check(db, &was_checked), ERR_OK);
    ck_assert(!was_checked);
    db_close(db);
    db = NULL;
    /* A process that wrote and died without closing leaves WAL frames behind. */
    child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        open_db();
        _exit(add("crash/model", NULL, 0, NULL) == ERR_OK ? 0 : 1);
    }
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    open_db();
    ck_assert_int_eq(db_startup_check(db, &was_checked), ERR_OK);
    ck_assert(was_checked);
    ck_assert_str_eq(get("crash/model").id.name, "model");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("db_models");
    TCase *tc = tcase_create("models");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, migrations_run_twice_from_empty_and_reach_the_newest_version);
    tcase_add_test(tc, open_refuses_a_corrupt_file_with_a_reason);
    tcase_add_test(tc, open_refuses_a_path_in_a_missing_directory);
    tcase_add_test(tc, migration_8_keeps_a_schema_7_registry_and_takes_bare_ids);
    tcase_add_test(tc, duplicate_ids_are_conflicts_whatever_their_case);
    tcase_add_test(tc, unknown_parent_is_not_found_and_leaves_nothing_behind);
    tcase_add_test(tc, merge_has_both_parents_and_depth_one_more_than_the_deepest);
    tcase_add_test(tc, an_edge_that_would_close_a_cycle_is_a_conflict);
    tcase_add_test(tc, reparenting_moves_the_whole_subtree_and_its_depths);
    tcase_add_test(tc, lineage_deeper_than_the_cap_is_refused);
    tcase_add_test(tc, delete_refuses_a_model_with_children_then_succeeds_bottom_up);
    tcase_add_test(tc, list_pages_by_key_and_reports_more);
    tcase_add_test(tc, a_held_write_lock_makes_writers_busy);
    tcase_add_test(tc, startup_check_reads_the_file_only_after_an_unclean_stop);
    tcase_add_test(tc, a_pool_checkpoints_a_long_wal_on_its_own_thread);
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
