/* SPDX-License-Identifier: Apache-2.0 */
/* The ledger's db functions on a migrated temporary file, through the db API only:
 * cumulative counters (db_counter_put), idempotency records (db_idempotency_put and
 * _get), the cursor paging of a family (db_family_page) and a footprint's lineage
 * with its cards' flags (db_lineage_load_flags), each on its normal path,
 * at its boundaries, and with its errors translated to enum err. */
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

static void teardown(void)
{
    char cmd[160];

    db_close(db);
    db = NULL;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Registers id with parents (NULL-terminated, may be NULL) and returns its key. */
static int64_t add(const char *id, const char *const *parents, enum core_relation relation)
{
    struct core_model m;
    size_t bad = 0;

    memset(&m, 0, sizeof m);
    ck_assert_int_eq(core_model_id_parse(id, &m.id), ERR_OK);
    for (size_t i = 0; parents && parents[i]; i++) {
        ck_assert_int_eq(core_model_id_parse(parents[i], &m.parents[i].id), ERR_OK);
        m.parents[i].relation = relation;
        m.n_parents = i + 1;
    }
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_model_insert(db, &m, &bad), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
    return m.key;
}

/* db_counter_put in its own write transaction, committed when it succeeds and
 * rolled back otherwise, as the api does. */
static enum err counter_put(int64_t key, const char *reporter, int64_t total, bool is_reset,
                            int64_t *previous, int64_t *delta)
{
    enum err rc = db_write_begin(db);

    ck_assert_int_eq(rc, ERR_OK);
    rc = db_counter_put(db, key, reporter, total, is_reset, DAY, previous, delta);
    if (rc == ERR_OK)
        ck_assert_int_eq(db_write_commit(db), ERR_OK);
    else
        db_write_rollback(db);
    return rc;
}

/* The model's own inferences and the sum over its descendants, as a footprint reads
 * them. */
static void counts_of(int64_t key, int64_t *inferences, int64_t *descendant_inferences)
{
    struct core_lineage lineage;
    bool found = false;

    ck_assert_int_eq(db_lineage_load(db, key, &lineage), ERR_OK);
    for (size_t i = 0; i < lineage.n_members; i++)
        if (lineage.members[i].is_self) {
            *inferences = lineage.members[i].inferences;
            *descendant_inferences = lineage.members[i].descendant_inferences;
            found = true;
        }
    ck_assert_msg(found, "no row of the model itself among %zu", lineage.n_members);
    core_lineage_cleanup(&lineage);
}

static int64_t inferences_of(int64_t key)
{
    int64_t own = -1, below = -1;

    counts_of(key, &own, &below);
    return own;
}

static int64_t counted_on_day(int64_t key)
{
    struct db_day_count days[2];
    size_t n = 0;

    ck_assert_int_eq(db_inference_series(db, key, DAY, DAY, days, 2, &n), ERR_OK);
    return n ? days[0].count : 0;
}

/* ---- counters ---- */

START_TEST(counter_counts_the_difference_from_its_previous_total)
{
    int64_t key = add("cnt/m", NULL, CORE_RELATION_FINETUNE);
    int64_t previous = -1, delta = -1;

    ck_assert_int_eq(counter_put(key, "hub-eu", 100, false, &previous, &delta), ERR_OK);
    ck_assert_int_eq(previous, 0);
    ck_assert_int_eq(delta, 100);
    ck_assert_int_eq(counter_put(key, "hub-eu", 150, false, &previous, &delta), ERR_OK);
    ck_assert_int_eq(previous, 100);
    ck_assert_int_eq(delta, 50);
    /* The same total again counts nothing. */
    ck_assert_int_eq(counter_put(key, "hub-eu", 150, false, &previous, &delta), ERR_OK);
    ck_assert_int_eq(previous, 150);
    ck_assert_int_eq(delta, 0);
    /* Another reporter keeps a counter of its own. */
    ck_assert_int_eq(counter_put(key, "hub-us", 7, false, &previous, &delta), ERR_OK);
    ck_assert_int_eq(previous, 0);
    ck_assert_int_eq(delta, 7);
    ck_assert_int_eq(inferences_of(key), 157);
    ck_assert_int_eq(counted_on_day(key), 157);
}
END_TEST

START_TEST(counter_of_zero_on_a_new_reporter_counts_nothing_and_is_kept)
{
    int64_t key = add("cnt/m", NULL, CORE_RELATION_FINETUNE);
    int64_t previous = -1, delta = -1;

    ck_assert_int_eq(counter_put(key, "hub", 0, false, &previous, &delta), ERR_OK);
    ck_assert_int_eq(previous, 0);
    ck_assert_int_eq(delta, 0);
    ck_assert_int_eq(inferences_of(key), 0);
    ck_assert_int_eq(counted_on_day(key), 0);
    ck_assert_int_eq(counter_put(key, "hub", 5, false, &previous, &delta), ERR_OK);
    ck_assert_int_eq(previous, 0);
    ck_assert_int_eq(delta, 5);
}
END_TEST

START_TEST(counter_going_backwards_without_reset_is_a_conflict_and_counts_nothing)
{
    int64_t key = add("cnt/m", NULL, CORE_RELATION_FINETUNE);
    int64_t previous = -1, delta = -1;

    ck_assert_int_eq(counter_put(key, "hub", 100, false, &previous, &delta), ERR_OK);
    delta = -1;
    ck_assert_int_eq(counter_put(key, "hub", 99, false, &previous, &delta), ERR_CONFLICT);
    /* The conflict names the standing total; nothing was counted. */
    ck_assert_int_eq(previous, 100);
    ck_assert_int_eq(delta, -1);
    ck_assert_int_eq(inferences_of(key), 100);
    ck_assert_int_eq(counter_put(key, "hub", 100, false, &previous, &delta), ERR_OK);
    ck_assert_int_eq(delta, 0);
}
END_TEST

START_TEST(counter_reset_counts_the_new_total_from_zero)
{
    int64_t key = add("cnt/m", NULL, CORE_RELATION_FINETUNE);
    int64_t previous = -1, delta = -1;

    ck_assert_int_eq(counter_put(key, "hub", 100, false, &previous, &delta), ERR_OK);
    ck_assert_int_eq(counter_put(key, "hub", 30, true, &previous, &delta), ERR_OK);
    ck_assert_int_eq(previous, 100);
    ck_assert_int_eq(delta, 30);
    ck_assert_int_eq(inferences_of(key), 130);
    /* After the reset the counter stands at 30. */
    ck_assert_int_eq(counter_put(key, "hub", 50, false, &previous, &delta), ERR_OK);
    ck_assert_int_eq(previous, 30);
    ck_assert_int_eq(delta, 20);
    /* A reset to a larger total also counts all of it. */
    ck_assert_int_eq(counter_put(key, "hub", 60, true, &previous, &delta), ERR_OK);
    ck_assert_int_eq(previous, 50);
    ck_assert_int_eq(delta, 60);
    ck_assert_int_eq(inferences_of(key), 210);
    ck_assert_int_eq(counted_on_day(key), 210);
}
END_TEST

START_TEST(counter_counts_in_every_ancestor_family)
{
    int64_t base = add("cnt/base", NULL, CORE_RELATION_FINETUNE);
    int64_t ft = add("cnt/ft", (const char *const[]){"cnt/base", NULL}, CORE_RELATION_FINETUNE);
    int64_t previous, delta, own = -1, below = -1;

    ck_assert_int_eq(counter_put(ft, "hub", 40, false, &previous, &delta), ERR_OK);
    counts_of(base, &own, &below);
    ck_assert_int_eq(own, 0);
    ck_assert_int_eq(below, 40);
    counts_of(ft, &own, &below);
    ck_assert_int_eq(own, 40);
    ck_assert_int_eq(below, 40);
}
END_TEST

START_TEST(counter_that_would_pass_int64_max_is_an_overflow_and_changes_nothing)
{
    int64_t base = add("cnt/base", NULL, CORE_RELATION_FINETUNE);
    int64_t ft = add("cnt/ft", (const char *const[]){"cnt/base", NULL}, CORE_RELATION_FINETUNE);
    int64_t previous = -1, delta = -1, own = -1, below = -1;

    ck_assert_int_eq(counter_put(base, "a", INT64_MAX - 1, false, &previous, &delta), ERR_OK);
    ck_assert_int_eq(delta, INT64_MAX - 1);
    /* One more fits exactly. */
    ck_assert_int_eq(counter_put(ft, "b", 1, false, &previous, &delta), ERR_OK);
    counts_of(base, &own, &below);
    ck_assert_int_eq(below, INT64_MAX);
    /* The base's family sum would pass INT64_MAX: refused, on either member. */
    ck_assert_int_eq(counter_put(ft, "b", 2, false, &previous, &delta), ERR_COUNT_OVERFLOW);
    ck_assert_int_eq(counter_put(base, "c", 1, false, &previous, &delta), ERR_COUNT_OVERFLOW);
    counts_of(base, &own, &below);
    ck_assert_int_eq(own, INT64_MAX - 1);
    ck_assert_int_eq(below, INT64_MAX);
    counts_of(ft, &own, &below);
    ck_assert_int_eq(own, 1);
    /* The refused totals were not stored: the counters stand where they were. */
    ck_assert_int_eq(counter_put(ft, "b", 1, false, &previous, &delta), ERR_OK);
    ck_assert_int_eq(previous, 1);
    ck_assert_int_eq(delta, 0);
    ck_assert_int_eq(counter_put(base, "c", 0, false, &previous, &delta), ERR_OK);
    ck_assert_int_eq(previous, 0);
}
END_TEST

START_TEST(counter_errors_of_storage_are_translated)
{
    int64_t key = add("cnt/m", NULL, CORE_RELATION_FINETUNE);
    char long_reporter[130];
    int64_t previous = -1, delta = -1;

    /* A reporter name past the column's CHECK, and a model that does not exist (a
     * foreign key): constraint failures other than uniqueness are ERR_DB. */
    memset(long_reporter, 'r', sizeof long_reporter - 1);
    long_reporter[sizeof long_reporter - 1] = '\0';
    ck_assert_int_eq(counter_put(key, long_reporter, 1, false, &previous, &delta), ERR_DB);
    ck_assert_int_eq(counter_put(key + 1000, "hub", 1, false, &previous, &delta), ERR_DB);
    ck_assert_int_eq(inferences_of(key), 0);
    ck_assert_int_eq(counted_on_day(key), 0);
}
END_TEST

/* ---- idempotency records ---- */

static const char hash_a[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char hash_b[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

static enum err idempotency_put(const char *scope, const char *key, const char *hash, int status,
                                const char *response)
{
    enum err rc = db_write_begin(db);

    ck_assert_int_eq(rc, ERR_OK);
    rc = db_idempotency_put(db, scope, key, hash, status, response);
    if (rc == ERR_OK)
        ck_assert_int_eq(db_write_commit(db), ERR_OK);
    else
        db_write_rollback(db);
    return rc;
}

/* Asserts the record of scope and key. */
static void assert_record(const char *scope, const char *key, const char *hash, int status,
                          const char *response)
{
    char got_hash[65] = "";
    int got_status = 0;
    char *got_response = NULL;

    ck_assert_int_eq(db_idempotency_get(db, scope, key, got_hash, &got_status, &got_response),
                     ERR_OK);
    ck_assert_str_eq(got_hash, hash);
    ck_assert_int_eq(got_status, status);
    ck_assert_str_eq(got_response, response);
    free(got_response);
}

START_TEST(idempotency_record_is_read_back_as_it_was_put)
{
    char hash[65] = "untouched";
    int status = -1;
    char *response = NULL;

    ck_assert_int_eq(db_idempotency_get(db, "token-1", "k1", hash, &status, &response),
                     ERR_NOT_FOUND);
    ck_assert_ptr_null(response);
    ck_assert_int_eq(idempotency_put("token-1", "k1", hash_a, 200, "{\"counted\":5}"), ERR_OK);
    assert_record("token-1", "k1", hash_a, 200, "{\"counted\":5}");
    /* An error answer is kept too, and an empty body. */
    ck_assert_int_eq(idempotency_put("token-1", "k2", hash_b, 422, ""), ERR_OK);
    assert_record("token-1", "k2", hash_b, 422, "");
}
END_TEST

START_TEST(idempotency_record_is_never_replaced_a_second_put_is_a_conflict)
{
    ck_assert_int_eq(idempotency_put("token-1", "k", hash_a, 200, "{\"first\":true}"), ERR_OK);
    ck_assert_int_eq(idempotency_put("token-1", "k", hash_b, 201, "{\"second\":true}"),
                     ERR_CONFLICT);
    ck_assert_int_eq(idempotency_put("token-1", "k", hash_a, 200, "{\"first\":true}"),
                     ERR_CONFLICT);
    assert_record("token-1", "k", hash_a, 200, "{\"first\":true}");
}
END_TEST

START_TEST(idempotency_keys_are_scoped)
{
    char hash[65];
    int status;
    char *response = NULL;

    ck_assert_int_eq(idempotency_put("token-1", "k", hash_a, 200, "one"), ERR_OK);
    ck_assert_int_eq(idempotency_put("token-2", "k", hash_b, 200, "two"), ERR_OK);
    assert_record("token-1", "k", hash_a, 200, "one");
    assert_record("token-2", "k", hash_b, 200, "two");
    /* Keys compare exactly. */
    ck_assert_int_eq(db_idempotency_get(db, "token-1", "K", hash, &status, &response),
                     ERR_NOT_FOUND);
    ck_assert_int_eq(db_idempotency_get(db, "token-3", "k", hash, &status, &response),
                     ERR_NOT_FOUND);
}
END_TEST

START_TEST(idempotency_key_length_and_status_bounds_are_enforced_by_storage)
{
    char key[257];
    char hash[65];
    int status;
    char *response = NULL;

    memset(key, 'k', sizeof key - 1);
    key[255] = '\0';
    ck_assert_int_eq(idempotency_put("s", key, hash_a, 200, "255"), ERR_OK);
    assert_record("s", key, hash_a, 200, "255");
    key[255] = 'k';
    key[256] = '\0';
    ck_assert_int_eq(idempotency_put("s", key, hash_a, 200, "256"), ERR_DB);
    ck_assert_int_eq(idempotency_put("s", "", hash_a, 200, "empty"), ERR_DB);
    ck_assert_int_eq(idempotency_put("s", "low", hash_a, 199, "x"), ERR_DB);
    ck_assert_int_eq(idempotency_put("s", "high", hash_a, 600, "x"), ERR_DB);
    ck_assert_int_eq(idempotency_put("s", "edge", hash_a, 599, "x"), ERR_OK);
    ck_assert_int_eq(db_idempotency_get(db, "s", "high", hash, &status, &response), ERR_NOT_FOUND);
}
END_TEST

START_TEST(idempotency_record_that_does_not_fit_on_a_full_disk_is_err_full_and_not_kept)
{
    struct db_options options = {
        .path = path, .busy_timeout_ms = 5000, .create = false, .max_page_count = 1};
    char why[256], hash[65];
    char *response = calloc(256 * 1024, 1);
    int status;
    char *got = NULL;

    ck_assert_ptr_nonnull(response);
    memset(response, 'x', 256 * 1024 - 1);
    /* A limit below the file's size holds it at its size: nothing may grow. */
    db_close(db);
    ck_assert_msg(db_open(&options, &db, why, sizeof why) == ERR_OK, "open: %s", why);
    ck_assert_int_eq(idempotency_put("s", "big", hash_a, 200, response), ERR_FULL);
    free(response);
    ck_assert_int_eq(db_idempotency_get(db, "s", "big", hash, &status, &got), ERR_NOT_FOUND);
    ck_assert_ptr_null(got);
}
END_TEST

/* ---- family pages ---- */

/* A root with five descendants (one a grandchild), a second root, and a merge of a
 * member of each, registered in this order so that keys rise in it:
 *   fam/root ─┬─ fam/a ── fam/a1 ─┐
 *             ├─ fam/b            ├─ fam/merged
 *             └─ fam/c            │
 *   fam/other ────────────────────┘                                  */
static int64_t keys_of[7];
enum { ROOT, A, B, C, A1, OTHER, MERGED };

static void family(void)
{
    keys_of[ROOT] = add("fam/root", NULL, CORE_RELATION_FINETUNE);
    keys_of[A] = add("fam/a", (const char *const[]){"fam/root", NULL}, CORE_RELATION_FINETUNE);
    keys_of[B] = add("fam/b", (const char *const[]){"fam/root", NULL}, CORE_RELATION_ADAPTER);
    keys_of[C] = add("fam/c", (const char *const[]){"fam/root", NULL}, CORE_RELATION_QUANTIZED);
    keys_of[A1] = add("fam/a1", (const char *const[]){"fam/a", NULL}, CORE_RELATION_FINETUNE);
    keys_of[OTHER] = add("fam/other", NULL, CORE_RELATION_FINETUNE);
    keys_of[MERGED] =
        add("fam/merged", (const char *const[]){"fam/a1", "fam/other", NULL}, CORE_RELATION_MERGE);
    for (int i = 1; i < 7; i++)
        ck_assert_int_gt(keys_of[i], keys_of[i - 1]);
}

/* One page; asserts its keys (listed, -1 ends) and has_more. */
static void assert_page(int64_t root, int64_t after, size_t limit, const int *want, bool more)
{
    int64_t got[16];
    size_t n = 99, n_want = 0;
    bool has_more = !more;

    ck_assert_uint_le(limit, 16);
    ck_assert_int_eq(db_family_page(db, root, after, limit, got, &n, &has_more), ERR_OK);
    while (want[n_want] >= 0)
        n_want++;
    ck_assert_uint_eq(n, n_want);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(got[i], keys_of[want[i]]);
    ck_assert_int_eq(has_more, more);
}

START_TEST(family_page_lists_the_whole_family_in_key_order_when_it_fits)
{
    family();
    assert_page(keys_of[ROOT], 0, 16, (const int[]){ROOT, A, B, C, A1, MERGED, -1}, false);
    assert_page(keys_of[OTHER], 0, 16, (const int[]){OTHER, MERGED, -1}, false);
    /* A member's family is itself and what is below it, never its ancestors. */
    assert_page(keys_of[A], 0, 16, (const int[]){A, A1, MERGED, -1}, false);
    assert_page(keys_of[MERGED], 0, 16, (const int[]){MERGED, -1}, false);
    assert_page(keys_of[B], 0, 16, (const int[]){B, -1}, false);
}
END_TEST

START_TEST(family_page_walks_by_cursor_first_middle_and_last_page)
{
    family();
    assert_page(keys_of[ROOT], 0, 2, (const int[]){ROOT, A, -1}, true);
    assert_page(keys_of[ROOT], keys_of[A], 2, (const int[]){B, C, -1}, true);
    assert_page(keys_of[ROOT], keys_of[C], 2, (const int[]){A1, MERGED, -1}, false);
    /* A page that ends exactly at the last member has no more after it. */
    assert_page(keys_of[ROOT], 0, 6, (const int[]){ROOT, A, B, C, A1, MERGED, -1}, false);
    assert_page(keys_of[ROOT], 0, 5, (const int[]){ROOT, A, B, C, A1, -1}, true);
    /* A cursor between keys, or on a key outside the family, starts after it. */
    assert_page(keys_of[ROOT], keys_of[OTHER], 4, (const int[]){MERGED, -1}, false);
    assert_page(keys_of[OTHER], keys_of[ROOT], 4, (const int[]){OTHER, MERGED, -1}, false);
}
END_TEST

START_TEST(family_page_of_limit_one_visits_every_member_once)
{
    static const int order[] = {ROOT, A, B, C, A1, MERGED};
    int64_t after = 0;

    family();
    for (size_t i = 0; i < 6; i++) {
        int64_t got[1] = {-1};
        size_t n = 0;
        bool has_more = false;

        ck_assert_int_eq(db_family_page(db, keys_of[ROOT], after, 1, got, &n, &has_more), ERR_OK);
        ck_assert_uint_eq(n, 1);
        ck_assert_int_eq(got[0], keys_of[order[i]]);
        ck_assert_int_eq(has_more, i < 5);
        after = got[0];
    }
}
END_TEST

START_TEST(family_page_past_the_end_or_of_an_unknown_key_is_empty)
{
    family();
    assert_page(keys_of[ROOT], keys_of[MERGED], 3, (const int[]){-1}, false);
    assert_page(keys_of[ROOT], INT64_MAX, 3, (const int[]){-1}, false);
    assert_page(keys_of[MERGED] + 100, 0, 3, (const int[]){-1}, false);
}
END_TEST

START_TEST(family_page_follows_a_deleted_member)
{
    struct core_model_id id;

    family();
    ck_assert_int_eq(core_model_id_parse("fam/b", &id), ERR_OK);
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_model_delete(db, &id), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
    assert_page(keys_of[ROOT], 0, 16, (const int[]){ROOT, A, C, A1, MERGED, -1}, false);
}
END_TEST

/* ---- storage failures ---- */

START_TEST(ledger_functions_on_a_file_without_the_schema_fail_with_err_db)
{
    struct db_options options = {.path = path, .busy_timeout_ms = 5000, .create = true};
    char why[256], hash[65];
    int64_t keys[4], previous = -1, delta = -1;
    size_t n = 99;
    bool has_more = true;
    int status;
    char *response = NULL;

    db_close(db);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_msg(db_open(&options, &db, why, sizeof why) == ERR_OK, "open: %s", why);
    ck_assert_int_eq(db_family_page(db, 1, 0, 4, keys, &n, &has_more), ERR_DB);
    ck_assert_uint_eq(n, 0);
    ck_assert(!has_more);
    ck_assert_int_eq(db_idempotency_get(db, "s", "k", hash, &status, &response), ERR_DB);
    ck_assert_ptr_null(response);
    ck_assert_int_eq(idempotency_put("s", "k", hash_a, 200, "x"), ERR_DB);
    ck_assert_int_eq(counter_put(1, "hub", 1, false, &previous, &delta), ERR_DB);
    ck_assert_int_eq(delta, -1);
    /* The reason is kept for the log, not in the code. */
    ck_assert_ptr_nonnull(strstr(db_last_error(db), "no such table"));
}
END_TEST

/* Stores a card record for key with the given flags (a JSON array text). */
static void card(int64_t key, const char *flags)
{
    char facts[65], text[256];
    struct db_card c;

    memset(&c, 0, sizeof c);
    memset(facts, 'a', 64);
    facts[64] = '\0';
    snprintf(text, sizeof text, "%s", flags);
    c.facts = facts;
    c.relation_given = -1;
    c.flags = text;
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_card_put(db, key, &c), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
}

START_TEST(lineage_with_flags_gives_each_member_its_cards_flags_and_the_figures_of_the_plain_read)
{
    static const char base_flags[] = "[{\"flag\":\"implausible_figure\",\"detail\":\"b\"}]";
    static const char leaf_flags[] = "[{\"flag\":\"copied_from_ancestor\",\"detail\":\"l\"}]";
    const char *const of_base[] = {"o/base", NULL};
    const char *const of_mid[] = {"o/mid", NULL};
    int64_t base = add("o/base", NULL, CORE_RELATION_FINETUNE);
    int64_t mid = add("o/mid", of_base, CORE_RELATION_FINETUNE);
    int64_t leaf = add("o/leaf", of_mid, CORE_RELATION_FINETUNE);
    struct core_lineage plain, flagged;
    struct core_model_id id;

    card(base, base_flags);
    card(mid, "[]"); /* a card without flags reads as none, as a model without a card */
    card(leaf, leaf_flags);
    ck_assert_int_eq(core_model_id_parse("o/leaf", &id), ERR_OK);
    ck_assert_int_eq(db_lineage_load_id(db, &id, &plain), ERR_OK);
    ck_assert_int_eq(db_lineage_load_flags(db, &id, &flagged), ERR_OK);
    ck_assert_uint_eq(flagged.n_members, 3);
    ck_assert_uint_eq(plain.n_members, flagged.n_members);
    for (size_t i = 0; i < plain.n_members; i++) {
        ck_assert_ptr_null(plain.members[i].flags);
        ck_assert_int_eq(plain.members[i].key, flagged.members[i].key);
        ck_assert_int_eq(plain.members[i].is_self, flagged.members[i].is_self);
        ck_assert_int_eq(plain.members[i].descendants, flagged.members[i].descendants);
    }
    ck_assert_int_eq(flagged.members[0].key, base);
    ck_assert_str_eq(flagged.members[0].flags, base_flags);
    ck_assert_ptr_null(flagged.members[1].flags);
    ck_assert_int_eq(flagged.members[2].key, leaf);
    ck_assert_str_eq(flagged.members[2].flags, leaf_flags);
    core_lineage_cleanup(&plain);
    core_lineage_cleanup(&flagged);
    ck_assert_int_eq(core_model_id_parse("o/ghost", &id), ERR_OK);
    ck_assert_int_eq(db_lineage_load_flags(db, &id, &flagged), ERR_NOT_FOUND);
    ck_assert_uint_eq(flagged.n_members, 0);
}
END_TEST

static Suite *ledger_suite(void)
{
    Suite *s = suite_create("db_ledger");
    TCase *counters = tcase_create("counters");
    TCase *idempotency = tcase_create("idempotency");
    TCase *pages = tcase_create("family_pages");
    TCase *failures = tcase_create("storage_failures");
    TCase *lineages = tcase_create("lineages");
    TCase *all[] = {counters, idempotency, pages, failures, lineages};

    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        tcase_add_checked_fixture(all[i], setup, teardown);
        suite_add_tcase(s, all[i]);
    }
    tcase_add_test(counters, counter_counts_the_difference_from_its_previous_total);
    tcase_add_test(counters, counter_of_zero_on_a_new_reporter_counts_nothing_and_is_kept);
    tcase_add_test(counters,
                   counter_going_backwards_without_reset_is_a_conflict_and_counts_nothing);
    tcase_add_test(counters, counter_reset_counts_the_new_total_from_zero);
    tcase_add_test(counters, counter_counts_in_every_ancestor_family);
    tcase_add_test(counters, counter_that_would_pass_int64_max_is_an_overflow_and_changes_nothing);
    tcase_add_test(counters, counter_errors_of_storage_are_translated);

    tcase_add_test(idempotency, idempotency_record_is_read_back_as_it_was_put);
    tcase_add_test(idempotency, idempotency_record_is_never_replaced_a_second_put_is_a_conflict);
    tcase_add_test(idempotency, idempotency_keys_are_scoped);
    tcase_add_test(idempotency, idempotency_key_length_and_status_bounds_are_enforced_by_storage);
    tcase_add_test(idempotency,
                   idempotency_record_that_does_not_fit_on_a_full_disk_is_err_full_and_not_kept);

    tcase_add_test(pages, family_page_lists_the_whole_family_in_key_order_when_it_fits);
    tcase_add_test(pages, family_page_walks_by_cursor_first_middle_and_last_page);
    tcase_add_test(pages, family_page_of_limit_one_visits_every_member_once);
    tcase_add_test(pages, family_page_past_the_end_or_of_an_unknown_key_is_empty);
    tcase_add_test(pages, family_page_follows_a_deleted_member);

    tcase_add_test(failures, ledger_functions_on_a_file_without_the_schema_fail_with_err_db);

    tcase_add_test(
        lineages,
        lineage_with_flags_gives_each_member_its_cards_flags_and_the_figures_of_the_plain_read);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(ledger_suite());
    int failed;

    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
