/* SPDX-License-Identifier: Apache-2.0 */
/* The fold over the wire. An increment writes its own model's rows and leaves a
 * delta pending for its ancestors' family sums and the totals; the writer folds
 * the deltas later. Every answer must add what is pending: family sums, footprint
 * allocations, families and totals are exact and add up whether the deltas are
 * pending (a server that never folds on its own) or being folded (one that folds
 * every few writes, read while it folds); a kill -9 with deltas pending loses
 * none of them; the overflow refusal, reparenting and deletion see them. */
#include "ledger_steps.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A server that folds only at start-up and in lineage writes, within a test. */
static const char *const held_args[] = {"--fold-interval-ms", "3600000", "--fold-threshold",
                                        "1000000", NULL};
/* A server that folds every 4 pending models, or 1 ms after a write. */
static const char *const eager_args[] = {
    "--fold-interval-ms", "1", "--fold-threshold", "4", "--threads", "8", NULL};

static void start_with(const char *const *args)
{
    char why[4096];

    srv = ct_server_new();
    srv->args = args;
    ck_assert_msg(ct_server_start(srv, why, sizeof why), "%s", why);
}

static void start_held(void)
{
    start_with(held_args);
}

static void start_eager(void)
{
    start_with(eager_args);
}

/* ---- the ledger of these tests ---- */

/* fold/base <- fold/ft1 <- fold/ft2; fold/base <- fold/q; other/solo; other/merge
 * builds on fold/ft2 and other/solo (a member of both families). */
enum { BASE, FT1, FT2, Q, SOLO, MERGE, N_MODELS };

static const char *const names[N_MODELS] = {"fold/base", "fold/ft1",   "fold/ft2",
                                            "fold/q",    "other/solo", "other/merge"};

/* ancestor[m][a]: a is in the lineage of m (m itself included). */
static const bool ancestor[N_MODELS][N_MODELS] = {
    [BASE] = {[BASE] = true},
    [FT1] = {[BASE] = true, [FT1] = true},
    [FT2] = {[BASE] = true, [FT1] = true, [FT2] = true},
    [Q] = {[BASE] = true, [Q] = true},
    [SOLO] = {[SOLO] = true},
    [MERGE] = {[BASE] = true, [FT1] = true, [FT2] = true, [SOLO] = true, [MERGE] = true},
};

static void register_ledger(void)
{
    registered("{'id':'fold/base'}");
    registered("{'id':'fold/ft1','parents':[{'id':'fold/base'}]}");
    registered("{'id':'fold/ft2','parents':[{'id':'fold/ft1'}]}");
    registered("{'id':'fold/q','parents':[{'id':'fold/base'}]}");
    registered("{'id':'other/solo'}");
    registered("{'id':'other/merge','parents':[{'id':'fold/ft2','relation':'merge'},"
               "{'id':'other/solo','relation':'merge'}]}");
}

/* The family sum of a: the counts of every model whose lineage holds a. */
static long long family_sum(const long long *counts, int a)
{
    long long sum = 0;

    for (int m = 0; m < N_MODELS; m++)
        if (ancestor[m][a])
            sum += counts[m];
    return sum;
}

static void get_ok(const char *path, struct ct_response *r)
{
    ct_get(srv, path, r);
    ck_assert_msg(r->status == 200, "GET %s answered %ld: %s", path, r->status,
                  r->status ? r->body : r->error);
}

/* The value of an unlabelled sample in GET /metrics. */
static double metric(const char *name)
{
    struct ct_response r;
    size_t len = strlen(name);
    double value = -1;

    get_ok("/metrics", &r);
    for (const char *line = r.body; line && *line;) {
        const char *end = strchr(line, '\n');
        if (strncmp(line, name, len) == 0 && line[len] == ' ') {
            value = strtod(line + len + 1, NULL);
            break;
        }
        line = end ? end + 1 : NULL;
    }
    ct_response_cleanup(&r);
    ck_assert_msg(value >= 0, "no sample %s in /metrics", name);
    return value;
}

static long long totals_of(const char *ns)
{
    struct ct_response r;
    char path[128];
    long long n;

    snprintf(path, sizeof path, "/v1/totals%s%s", ns ? "?namespace=" : "", ns ? ns : "");
    get_ok(path, &r);
    n = int_at(&r, "inferences");
    ct_response_cleanup(&r);
    return n;
}

/* The inferences of root's family as GET /v1/families lists it. */
static long long listed_family(const char *root)
{
    struct ct_response r;
    const json_t *items;
    long long n = -1;

    get_ok("/v1/families?limit=1000", &r);
    items = at(r.json, "items");
    for (size_t i = 0; i < json_array_size(items); i++) {
        const json_t *item = json_array_get(items, i);
        if (strcmp(json_string_value(json_object_get(item, "id")), root) == 0)
            n = json_integer_value(json_object_get(item, "inferences"));
    }
    ct_response_cleanup(&r);
    ck_assert_msg(n >= 0, "%s is not listed as a family", root);
    return n;
}

/* Every figure the API shows of the ledger against the counts: each model's own
 * count and, in its footprint, the family sum of each member of its lineage; each
 * family's and each total's inferences; and conservation (the families of the
 * roots add up to the totals, the merge counted in both). */
static void assert_exact(const long long *counts, const char *when)
{
    long long all = 0, in_fold = 0, in_other = 0;

    for (int m = 0; m < N_MODELS; m++) {
        struct ct_response r;
        const json_t *allocations;
        footprint(names[m], "usage", &r);
        ck_assert_msg(int_at(&r, "inferences") == counts[m], "%s: %s counts %lld, expected %lld",
                      when, names[m], int_at(&r, "inferences"), counts[m]);
        allocations = at(r.json, "allocations");
        for (size_t i = 0; i < json_array_size(allocations); i++) {
            const json_t *a = json_array_get(allocations, i);
            const char *source = json_string_value(json_object_get(a, "source"));
            int k = 0;
            while (k < N_MODELS && strcmp(names[k], source) != 0)
                k++;
            ck_assert_msg(k < N_MODELS && ancestor[m][k], "%s: %s lists %s", when, names[m],
                          source);
            ck_assert_msg(json_integer_value(json_object_get(a, "family_inferences")) ==
                              family_sum(counts, k),
                          "%s: in the footprint of %s, %s's family counts %lld, expected %lld",
                          when, names[m], source,
                          (long long)json_integer_value(json_object_get(a, "family_inferences")),
                          family_sum(counts, k));
        }
        ct_response_cleanup(&r);
        all += counts[m];
        if (strncmp(names[m], "fold/", 5) == 0)
            in_fold += counts[m];
        else
            in_other += counts[m];
    }
    ck_assert_int_eq(listed_family("fold/base"), family_sum(counts, BASE));
    ck_assert_int_eq(listed_family("other/solo"), family_sum(counts, SOLO));
    ck_assert_msg(totals_of(NULL) == all, "%s: the ledger counts %lld, expected %lld", when,
                  totals_of(NULL), all);
    ck_assert_int_eq(totals_of("fold"), in_fold);
    ck_assert_int_eq(totals_of("other"), in_other);
    /* Conservation: the merge is in both families, every other model in one. */
    ck_assert_int_eq(family_sum(counts, BASE) + family_sum(counts, SOLO) - counts[MERGE], all);
}

/* The increments of the conservation tests: (model, count) in order. */
static const struct {
    int model;
    long long count;
} steps[] = {
    {FT2, 5}, {MERGE, 7}, {BASE, 1}, {FT2, 2}, {Q, 11}, {SOLO, 3}, {FT1, 4}, {MERGE, 1}, {Q, 6},
};

START_TEST(every_answer_is_exact_and_adds_up_with_deltas_pending)
{
    long long counts[N_MODELS] = {0};

    register_ledger();
    assert_exact(counts, "before any count");
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        char when[64];
        counted(names[steps[i].model], steps[i].count);
        counts[steps[i].model] += steps[i].count;
        snprintf(when, sizeof when, "after increment %zu", i + 1);
        assert_exact(counts, when);
    }
    /* Nothing was folded: every figure above came from the pending deltas. */
    ck_assert_int_eq((long long)metric("carbontree_inference_pending_deltas"), N_MODELS);
    ck_assert_int_eq((long long)metric("carbontree_folds_total"), 0);
}
END_TEST

START_TEST(every_answer_is_exact_while_the_writer_folds)
{
    long long counts[N_MODELS] = {0};
    double deadline;

    register_ledger();
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        char when[64];
        counted(names[steps[i].model], steps[i].count);
        counts[steps[i].model] += steps[i].count;
        snprintf(when, sizeof when, "after increment %zu", i + 1);
        assert_exact(counts, when);
    }
    deadline = ct_now() + 10 * ct_slowness();
    while (metric("carbontree_inference_pending_deltas") > 0 && ct_now() < deadline)
        usleep(10000);
    ck_assert_int_eq((long long)metric("carbontree_inference_pending_deltas"), 0);
    ck_assert_int_ge((long long)metric("carbontree_folds_total"), 1);
    ck_assert_int_eq((long long)metric("carbontree_folded_inferences_total"),
                     family_sum(counts, BASE) + family_sum(counts, SOLO) - counts[MERGE]);
    assert_exact(counts, "with everything folded");
}
END_TEST

/* ---- many families at once ---- */

#define MANY_FAMILIES 24
#define MANY_WORKERS  6
#define MANY_ROUNDS   40

/* The family worker w counts on in round, and the member: round % 3 is the root
 * (0), its child (1) or its grandchild (2), and the count is 1 + round % 3. */
static int family_of_round(int w, int round)
{
    return w + MANY_WORKERS * (round % (MANY_FAMILIES / MANY_WORKERS));
}

static void *count_many(void *arg)
{
    static const char *const suffix[] = {"", "-c", "-g"};
    int w = (int)(intptr_t)arg;

    for (int round = 0; round < MANY_ROUNDS; round++) {
        struct ct_response r;
        char path[96], key[32], body[32];
        snprintf(path, sizeof path, "/v1/models/many/r%02d%s/inferences", family_of_round(w, round),
                 suffix[round % 3]);
        snprintf(key, sizeof key, "many-%d-%d", w, round);
        snprintf(body, sizeof body, "{'count':%d}", 1 + round % 3);
        send_keyed("POST", path, key, body, &r);
        ck_assert_msg(r.status == 200, "%s answered %ld", path, r.status);
        ct_response_cleanup(&r);
    }
    return NULL;
}

START_TEST(many_families_fold_at_once_and_stay_exact)
{
    pthread_t workers[MANY_WORKERS];
    long long per_member[MANY_FAMILIES][3] = {{0}};
    struct ct_response r;
    double deadline;
    const json_t *items;

    for (int f = 0; f < MANY_FAMILIES; f++) {
        char body[160];
        snprintf(body, sizeof body, "{'id':'many/r%02d'}", f);
        registered(body);
        snprintf(body, sizeof body, "{'id':'many/r%02d-c','parents':[{'id':'many/r%02d'}]}", f, f);
        registered(body);
        snprintf(body, sizeof body, "{'id':'many/r%02d-g','parents':[{'id':'many/r%02d-c'}]}", f,
                 f);
        registered(body);
    }
    for (int w = 0; w < MANY_WORKERS; w++)
        ck_assert_int_eq(pthread_create(&workers[w], NULL, count_many, (void *)(intptr_t)w), 0);
    for (int w = 0; w < MANY_WORKERS; w++)
        pthread_join(workers[w], NULL);
    for (int w = 0; w < MANY_WORKERS; w++)
        for (int round = 0; round < MANY_ROUNDS; round++)
            per_member[family_of_round(w, round)][round % 3] += 1 + round % 3;
    deadline = ct_now() + 10 * ct_slowness();
    while (metric("carbontree_inference_pending_deltas") > 0 && ct_now() < deadline)
        usleep(10000);
    ck_assert_int_eq((long long)metric("carbontree_inference_pending_deltas"), 0);
    ck_assert_int_ge((long long)metric("carbontree_folds_total"), 2);
    get_ok("/v1/families?limit=1000&sort=-inferences", &r);
    items = at(r.json, "items");
    ck_assert_uint_eq(json_array_size(items), MANY_FAMILIES);
    for (size_t i = 0; i < json_array_size(items); i++) {
        const json_t *item = json_array_get(items, i);
        int f = atoi(json_string_value(json_object_get(item, "id")) + strlen("many/r"));
        long long want = per_member[f][0] + per_member[f][1] + per_member[f][2];
        ck_assert_int_eq(json_integer_value(json_object_get(item, "inferences")), want);
        /* Folded: the order by inferences is exact now. */
        if (i > 0)
            ck_assert_int_ge(
                json_integer_value(json_object_get(json_array_get(items, i - 1), "inferences")),
                want);
    }
    ct_response_cleanup(&r);
    {
        long long all = 0;
        for (int f = 0; f < MANY_FAMILIES; f++)
            all += per_member[f][0] + per_member[f][1] + per_member[f][2];
        ck_assert_int_eq(totals_of("many"), all);
    }
    footprint("many/r07-g", "usage", &r);
    ck_assert_int_eq(int_at(&r, "allocations/0/family_inferences"),
                     per_member[7][0] + per_member[7][1] + per_member[7][2]);
    ck_assert_int_eq(int_at(&r, "allocations/1/family_inferences"),
                     per_member[7][1] + per_member[7][2]);
    ck_assert_int_eq(int_at(&r, "allocations/2/family_inferences"), per_member[7][2]);
    ct_response_cleanup(&r);
}
END_TEST

/* ---- kill -9 with deltas pending ---- */

/* One integer from the sqlite3 shell. */
static long long sqlite_int(const char *db, const char *sql)
{
    char cmd[1024], out[128] = "";
    FILE *p;

    snprintf(cmd, sizeof cmd, "sqlite3 -batch '%s' \"%s\" 2>&1", db, sql);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    if (fgets(out, sizeof out, p) == NULL)
        out[0] = '\0';
    ck_assert_int_eq(pclose(p), 0);
    return strtoll(out, NULL, 10);
}

START_TEST(a_kill_with_deltas_pending_loses_none_and_the_restart_folds_them)
{
    long long counts[N_MODELS] = {0};
    struct ct_response r;
    char why[4096];

    register_ledger();
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
            counted(names[steps[i].model], steps[i].count);
            counts[steps[i].model] += steps[i].count;
        }
    send_keyed("POST", "/v1/models/fold/ft2/inferences", "before-the-kill", "{'count':9}", &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);
    counts[FT2] += 9;
    assert_exact(counts, "before the kill");
    ct_server_kill(srv);
    /* The acknowledged increments are stored, their deltas still pending. */
    ck_assert_int_eq(sqlite_int(srv->db_path, "SELECT count(*) FROM inference_pending"), N_MODELS);
    ck_assert_int_lt(sqlite_int(srv->db_path, "SELECT descendant_inferences FROM model_ledger "
                                              "WHERE model_id = 1"),
                     family_sum(counts, BASE));

    ck_assert_msg(ct_server_start(srv, why, sizeof why), "%s", why);
    /* Folded before the first request was served. */
    ck_assert_int_eq((long long)metric("carbontree_inference_pending_deltas"), 0);
    ck_assert_int_eq((long long)metric("carbontree_folded_deltas_total"), N_MODELS);
    assert_exact(counts, "after the restart");
    /* A retry of an acknowledged increment is a replay, not a second count. */
    send_keyed("POST", "/v1/models/fold/ft2/inferences", "before-the-kill", "{'count':9}", &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);
    assert_exact(counts, "after the replay");
    ck_assert_int_eq(ct_server_stop(srv), 0);
    /* Folded into the stored sums themselves. */
    ck_assert_int_eq(sqlite_int(srv->db_path, "SELECT count(*) FROM inference_pending"), 0);
    ck_assert_int_eq(sqlite_int(srv->db_path, "SELECT descendant_inferences FROM model_ledger "
                                              "WHERE model_id = 1"),
                     family_sum(counts, BASE));
    ck_assert_int_eq(
        sqlite_int(srv->db_path, "SELECT inferences FROM ledger_totals WHERE namespace = ''"),
        family_sum(counts, BASE) + family_sum(counts, SOLO) - counts[MERGE]);
}
END_TEST

/* ---- overflow, reparenting and deletion ---- */

START_TEST(the_overflow_refusal_counts_the_pending_deltas)
{
    struct ct_response r;
    char body[96];

    registered("{'id':'big/base'}");
    registered("{'id':'big/child','parents':[{'id':'big/base'}]}");
    registered("{'id':'big/sibling','parents':[{'id':'big/base'}]}");
    snprintf(body, sizeof body, "{'count':%" PRId64 "}", INT64_MAX - 10);
    send_keyed("POST", "/v1/models/big/child/inferences", "huge", body, &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);
    ck_assert_int_eq((long long)metric("carbontree_inference_pending_deltas"), 1);
    /* big/base's family holds INT64_MAX - 10 still pending: 11 more do not fit,
     * on the base itself or on a sibling, by delta or by counter. */
    send_keyed("POST", "/v1/models/big/base/inferences", "base-11", "{'count':11}", &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", NULL);
    ct_response_cleanup(&r);
    send_keyed("POST", "/v1/models/big/sibling/inferences", "sibling-11", "{'count':11}", &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", NULL);
    ct_response_cleanup(&r);
    ct_send(srv, "PUT", "/v1/models/big/sibling/inference-counters/edge", "{'total':11}", &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", NULL);
    ct_response_cleanup(&r);
    send_keyed("POST", "/v1/inference-reports", "report-11",
               "{'reports':[{'model':'big/sibling','count':5},{'model':'big/base','count':6}]}",
               &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", NULL);
    ct_response_cleanup(&r);
    /* 10 fit exactly: the family reaches INT64_MAX. */
    send_keyed("POST", "/v1/inference-reports", "report-10",
               "{'reports':[{'model':'big/sibling','count':4},{'model':'big/base','count':6}]}",
               &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);
    ck_assert_int_eq(listed_family("big/base"), INT64_MAX);
    send_keyed("POST", "/v1/models/big/child/inferences", "one-more", "{'count':1}", &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", NULL);
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("big/child"), INT64_MAX - 10);
    ck_assert_int_eq(inferences_of("big/sibling"), 4);
    ck_assert_int_eq(inferences_of("big/base"), 6);
    ck_assert_int_eq(totals_of("big"), INT64_MAX);
}
END_TEST

START_TEST(reparenting_and_deletion_fold_the_pending_deltas_first)
{
    struct ct_response r;

    registered("{'id':'mv/one'}");
    registered("{'id':'mv/two'}");
    registered("{'id':'mv/mid','parents':[{'id':'mv/one'}]}");
    registered("{'id':'mv/leaf','parents':[{'id':'mv/mid'}]}");
    counted("mv/leaf", 5);
    counted("mv/mid", 3);
    counted("mv/one", 1);
    counted("mv/two", 2);
    ck_assert_int_eq(listed_family("mv/one"), 9);
    ck_assert_int_eq((long long)metric("carbontree_inference_pending_deltas"), 4);

    /* mv/mid and its leaf move to mv/two: 8 inferences go with them, once. */
    ct_send(srv, "PATCH", "/v1/models/mv/mid", "{'parents':[{'id':'mv/two'}]}", &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);
    ck_assert_int_eq((long long)metric("carbontree_inference_pending_deltas"), 0);
    ck_assert_int_eq(listed_family("mv/one"), 1);
    ck_assert_int_eq(listed_family("mv/two"), 10);
    ck_assert_int_eq(totals_of("mv"), 11);
    footprint("mv/leaf", "usage", &r);
    ck_assert_str_eq(str_at(&r, "allocations/0/source"), "mv/two");
    ck_assert_int_eq(int_at(&r, "allocations/0/family_inferences"), 10);
    ck_assert_int_eq(int_at(&r, "allocations/1/family_inferences"), 8);
    ct_response_cleanup(&r);

    /* More on the leaf, pending, then the leaf goes: with all 7 of its own. */
    counted("mv/leaf", 2);
    ck_assert_int_eq(listed_family("mv/two"), 12);
    ck_assert_int_eq((long long)metric("carbontree_inference_pending_deltas"), 1);
    ct_request(srv, "DELETE", "/v1/models/mv/leaf", NULL, NULL, 0, &r);
    ASSERT_STATUS(&r, 204);
    ct_response_cleanup(&r);
    ck_assert_int_eq(listed_family("mv/two"), 5);
    ck_assert_int_eq(totals_of("mv"), 6);
    ck_assert_int_eq(totals_of(NULL), 6);
    footprint("mv/mid", "usage", &r);
    ck_assert_int_eq(int_at(&r, "allocations/1/family_inferences"), 3);
    ct_response_cleanup(&r);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("http_fold");
    TCase *held = tcase_create("held");
    TCase *eager = tcase_create("eager");

    tcase_add_checked_fixture(held, start_held, stop_servers);
    tcase_set_timeout(held, 120);
    tcase_add_test(held, every_answer_is_exact_and_adds_up_with_deltas_pending);
    tcase_add_test(held, a_kill_with_deltas_pending_loses_none_and_the_restart_folds_them);
    tcase_add_test(held, the_overflow_refusal_counts_the_pending_deltas);
    tcase_add_test(held, reparenting_and_deletion_fold_the_pending_deltas_first);
    suite_add_tcase(s, held);
    tcase_add_checked_fixture(eager, start_eager, stop_servers);
    tcase_set_timeout(eager, 120);
    tcase_add_test(eager, every_answer_is_exact_while_the_writer_folds);
    tcase_add_test(eager, many_families_fold_at_once_and_stay_exact);
    suite_add_tcase(s, eager);
    return s;
}

int main(void)
{
    return ct_main(suite());
}
