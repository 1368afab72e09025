/* SPDX-License-Identifier: Apache-2.0 */
/* The cache of footprint and family answers over real HTTP. A second server on the
 * same database with --cache-size 0 reads every answer afresh: after each write to
 * the first, every answer of the first must be byte for byte the second's. A write
 * to any member of a family changes every cached answer of that family (a sibling's
 * footprint, the family page, a merge child of two roots when either root's family
 * changes), reparenting and deleting change the old family and the new; a write
 * elsewhere changes none (same ETag, counted as hits in /metrics); no answer from
 * before a write is served once the write's 2xx is in; and an import by another
 * process shows within a moment. */
#include "ledger_steps.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ct_server *fresh; /* the same database, no cache */

static void start_both(void)
{
    static const char *const no_cache[] = {"--cache-size", "0", NULL};
    char why[4096];

    start_server();
    fresh = ct_server_new();
    snprintf(fresh->db_path, sizeof fresh->db_path, "%s", srv->db_path);
    fresh->args = no_cache;
    ck_assert_msg(ct_server_start(fresh, why, sizeof why), "%s", why);
}

static void stop_both(void)
{
    stop_servers();
    fresh = NULL;
}

/* The paths whose answers a test watches. */
static const char *const paths[] = {
    "/v1/models/c/r/footprint",
    "/v1/models/c/a/footprint",
    "/v1/models/c/b/footprint?policy=equal",
    "/v1/models/c/mg/footprint",
    "/v1/models/c/s/footprint",
    "/v1/models/c/r/family",
    "/v1/models/c/r/family?limit=2",
    "/v1/models/c/s/family?policy=none",
    "/v1/models/c/z/footprint",
    "/v1/models/c/z/family",
};
#define N_PATHS (sizeof paths / sizeof paths[0])

struct answer {
    long status;
    char etag[64];
    char *body;
};

static void answer_cleanup(struct answer *a)
{
    free(a->body);
    a->body = NULL;
}

static void read_answer(const struct ct_server *s, const char *path, struct answer *out)
{
    struct ct_response r;

    ct_get(s, path, &r);
    ck_assert_msg(r.status == 200 || r.status == 404, "GET %s answered %ld: %s", path, r.status,
                  r.status ? r.body : r.error);
    out->status = r.status;
    snprintf(out->etag, sizeof out->etag, "%s", r.etag);
    out->body = strdup(r.body ? r.body : "");
    ct_response_cleanup(&r);
}

/* The value of a counter of the cached server's /metrics. */
static long long metric(const char *name)
{
    struct ct_response r;
    long long value = -1;
    size_t len = strlen(name);

    ct_get(srv, "/metrics", &r);
    ck_assert_int_eq(r.status, 200);
    for (const char *p = r.body; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, name, len) == 0 && p[len] == ' ')
            value = strtoll(p + len + 1, NULL, 10);
    ct_response_cleanup(&r);
    ck_assert_msg(value >= 0, "no %s in /metrics", name);
    return value;
}

/* Every watched answer of the cached server, twice (the second from the cache),
 * each the same as the uncached server's; into out when not NULL. */
static void assert_as_fresh(struct answer *out)
{
    for (size_t i = 0; i < N_PATHS; i++) {
        struct answer cached, again, now;
        read_answer(srv, paths[i], &cached);
        read_answer(srv, paths[i], &again);
        read_answer(fresh, paths[i], &now);
        /* A problem names its request: 404s are compared by status. */
        ck_assert_msg(cached.status == now.status &&
                          (cached.status != 200 || strcmp(cached.body, now.body) == 0),
                      "GET %s: the cached server answered %ld %s, a fresh read %ld %s", paths[i],
                      cached.status, cached.body, now.status, now.body);
        ck_assert_int_eq(again.status, cached.status);
        if (cached.status == 200) {
            ck_assert_str_eq(cached.etag, now.etag);
            ck_assert_str_eq(again.body, cached.body);
            ck_assert_str_eq(again.etag, cached.etag);
        }
        answer_cleanup(&again);
        answer_cleanup(&now);
        if (out)
            out[i] = cached;
        else
            answer_cleanup(&cached);
    }
}

static void answers_cleanup(struct answer *a)
{
    for (size_t i = 0; i < N_PATHS; i++)
        answer_cleanup(&a[i]);
}

static size_t path_index(const char *path)
{
    for (size_t i = 0; i < N_PATHS; i++)
        if (strcmp(paths[i], path) == 0)
            return i;
    ck_abort_msg("%s is not watched", path);
    return 0;
}

/* Which answers changed between before and after, as the watched paths that must
 * (changed) and must not (kept); NULL-terminated lists. */
static void assert_changed(const struct answer *before, const struct answer *after,
                           const char *const *changed, const char *const *kept)
{
    for (size_t i = 0; changed[i]; i++) {
        size_t k = path_index(changed[i]);
        ck_assert_msg(strcmp(before[k].body, after[k].body) != 0 &&
                          strcmp(before[k].etag, after[k].etag) != 0,
                      "GET %s did not change: %s", changed[i], after[k].body);
    }
    for (size_t i = 0; kept[i]; i++) {
        size_t k = path_index(kept[i]);
        ck_assert_msg(strcmp(before[k].body, after[k].body) == 0, "GET %s changed", kept[i]);
        ck_assert_str_eq(before[k].etag, after[k].etag);
    }
}

/* c/r with children c/a and c/b; c/s; c/mg a merge of c/r and c/s; c/z apart. */
static void families(void)
{
    registered("{'id':'c/r'}");
    registered("{'id':'c/s'}");
    registered("{'id':'c/z'}");
    activity_added("c/r", "{'kind':'training','co2e_kg':1000}");
    activity_added("c/s", "{'kind':'training','co2e_kg':500}");
    activity_added("c/z", "{'kind':'training','co2e_kg':50}");
    registered("{'id':'c/a','parents':[{'id':'c/r'}]}");
    registered("{'id':'c/b','parents':[{'id':'c/r'}]}");
    registered("{'id':'c/mg','parents':[{'id':'c/r','relation':'merge'},"
               "{'id':'c/s','relation':'merge'}]}");
    counted("c/a", 100);
    counted("c/b", 300);
    counted("c/mg", 600);
}

START_TEST(a_write_to_a_member_changes_every_answer_of_its_family_and_no_other)
{
    struct answer before[N_PATHS], after[N_PATHS];

    families();
    assert_as_fresh(before);
    counted("c/a", 7);
    assert_as_fresh(after);
    {
        /* c/a's count moves c/r's family inferences: every footprint under c/r's
         * usage shares, c/r's pages and c/s's page (its merge child inherits from
         * c/r too); c/s's own footprint and c/z's answers stay. */
        static const char *const changed[] = {
            "/v1/models/c/r/footprint",      "/v1/models/c/a/footprint",
            "/v1/models/c/mg/footprint",     "/v1/models/c/r/family",
            "/v1/models/c/r/family?limit=2", NULL};
        static const char *const kept[] = {"/v1/models/c/s/footprint", "/v1/models/c/z/footprint",
                                           "/v1/models/c/z/family", NULL};
        assert_changed(before, after, changed, kept);
    }
    answers_cleanup(before);
    memcpy(before, after, sizeof before);
    /* c/s's own emissions: its merge child's footprint and every page holding it. */
    activity_added("c/s", "{'kind':'fine_tuning','co2e_kg':5}");
    assert_as_fresh(after);
    {
        static const char *const changed[] = {
            "/v1/models/c/s/footprint", "/v1/models/c/mg/footprint",
            "/v1/models/c/s/family?policy=none", "/v1/models/c/r/family", NULL};
        static const char *const kept[] = {"/v1/models/c/b/footprint?policy=equal",
                                           "/v1/models/c/z/footprint", "/v1/models/c/z/family",
                                           NULL};
        assert_changed(before, after, changed, kept);
    }
    answers_cleanup(before);
    answers_cleanup(after);
}
END_TEST

START_TEST(a_write_elsewhere_is_answered_from_the_cache_with_the_same_etag)
{
    struct answer before[N_PATHS];
    long long hits;

    families();
    assert_as_fresh(before);
    activity_added("c/z", "{'kind':'fine_tuning','co2e_kg':1}");
    counted("c/z", 5);
    hits = metric("carbontree_cache_hits_total");
    for (size_t i = 0; i < N_PATHS; i++) {
        struct answer now;
        if (strncmp(paths[i], "/v1/models/c/z/", 15) == 0)
            continue;
        read_answer(srv, paths[i], &now);
        ck_assert_str_eq(now.etag, before[i].etag);
        ck_assert_str_eq(now.body, before[i].body);
        answer_cleanup(&now);
    }
    ck_assert_int_eq(metric("carbontree_cache_hits_total"), hits + (long long)N_PATHS - 2);
    /* A hit still answers a conditional GET with 304. */
    {
        char header[96];
        const char *headers[] = {header, NULL};
        struct ct_response r;
        snprintf(header, sizeof header, "If-None-Match: %s", before[0].etag);
        ct_request(srv, "GET", paths[0], headers, NULL, 0, &r);
        ck_assert_int_eq(r.status, 304);
        ck_assert_str_eq(r.etag, before[0].etag);
        ct_response_cleanup(&r);
    }
    ck_assert_int_eq(metric("carbontree_cache_hits_total"), hits + (long long)N_PATHS - 1);
    ck_assert_int_gt(metric("carbontree_cache_entries"), 0);
    ck_assert_int_gt(metric("carbontree_cache_bytes"), 0);
    answers_cleanup(before);
}
END_TEST

START_TEST(reparenting_changes_the_old_family_and_the_new)
{
    struct answer before[N_PATHS], after[N_PATHS];
    struct ct_response r;

    families();
    assert_as_fresh(before);
    ct_send(srv, "PATCH", "/v1/models/c/b", "{'parents':[{'id':'c/z'}]}", &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);
    assert_as_fresh(after);
    {
        static const char *const changed[] = {"/v1/models/c/b/footprint?policy=equal",
                                              "/v1/models/c/r/family",
                                              "/v1/models/c/z/family",
                                              "/v1/models/c/z/footprint",
                                              "/v1/models/c/r/footprint",
                                              NULL};
        static const char *const kept[] = {"/v1/models/c/s/footprint", NULL};
        assert_changed(before, after, changed, kept);
    }
    ck_assert_ptr_null(strstr(after[path_index("/v1/models/c/r/family")].body, "\"c/b\""));
    ck_assert_ptr_nonnull(strstr(after[path_index("/v1/models/c/z/family")].body, "\"c/b\""));
    answers_cleanup(before);
    answers_cleanup(after);
}
END_TEST

START_TEST(deleting_a_member_changes_its_family)
{
    struct answer before[N_PATHS], after[N_PATHS];
    struct ct_response r;

    families();
    assert_as_fresh(before);
    ct_request(srv, "DELETE", "/v1/models/c/a", NULL, NULL, 0, &r);
    ck_assert_msg(r.status == 204 || r.status == 200, "DELETE answered %ld: %s", r.status, r.body);
    ct_response_cleanup(&r);
    assert_as_fresh(after);
    ck_assert_int_eq(after[path_index("/v1/models/c/a/footprint")].status, 404);
    {
        static const char *const changed[] = {"/v1/models/c/r/footprint", "/v1/models/c/r/family",
                                              NULL};
        static const char *const kept[] = {"/v1/models/c/z/footprint", NULL};
        assert_changed(before, after, changed, kept);
    }
    /* A lone root deleted: its answers go with it. */
    ct_request(srv, "DELETE", "/v1/models/c/z", NULL, NULL, 0, &r);
    ck_assert_msg(r.status == 204 || r.status == 200, "DELETE answered %ld: %s", r.status, r.body);
    ct_response_cleanup(&r);
    assert_as_fresh(NULL);
    answers_cleanup(before);
    answers_cleanup(after);
}
END_TEST

/* Readers keep filling the cache with c/a's footprint while counts are written: the
 * answer read after each count's 2xx always has that count in. */
static atomic_bool is_writing;

static void *reader_main(void *arg)
{
    (void)arg;
    while (atomic_load(&is_writing)) {
        struct ct_response r;
        ct_get(srv, "/v1/models/c/a/footprint", &r);
        ct_response_cleanup(&r);
        ct_get(srv, "/v1/models/c/r/family?limit=2", &r);
        ct_response_cleanup(&r);
    }
    return NULL;
}

START_TEST(no_answer_from_before_a_write_is_served_after_its_2xx)
{
    pthread_t readers[2];
    long long want;

    families();
    want = inferences_of("c/a");
    atomic_store(&is_writing, true);
    for (size_t i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&readers[i], NULL, reader_main, NULL), 0);
    for (int i = 0; i < 60; i++) {
        struct ct_response r;
        counted("c/a", 1);
        want++;
        ck_assert_int_eq(inferences_of("c/a"), want);
        ct_get(srv, "/v1/models/c/r/family?limit=2", &r);
        ck_assert_int_eq(r.status, 200);
        /* c/r's footprint on its page counts every inference below it. */
        ck_assert_int_eq(int_at(&r, "items/0/footprint/allocations/0/family_inferences"),
                         want + 300 + 600);
        ct_response_cleanup(&r);
    }
    atomic_store(&is_writing, false);
    for (size_t i = 0; i < 2; i++)
        pthread_join(readers[i], NULL);
    ck_assert_int_gt(metric("carbontree_cache_hits_total"), 0);
    assert_as_fresh(NULL);
}
END_TEST

/* carbontree import beside the running server commits on its own connection: the
 * server drops every cached answer within a moment (it looks for such commits at
 * least every 200 ms). */
START_TEST(an_import_beside_the_server_changes_its_answers)
{
    char file[700];
    FILE *f;
    struct ct_command c;
    const char *argv[] = {"import", file, "--db", srv->db_path, NULL};
    bool is_same = false;

    families();
    assert_as_fresh(NULL);
    snprintf(file, sizeof file, "%s/more.jsonl", srv->dir);
    f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"id\":\"c/imported\",\"cardData\":{\"base_model\":\"c/r\"}}\n", f);
    fclose(f);
    ct_run(argv, NULL, 30.0, &c);
    ck_assert_msg(c.status == 0, "import exited %d: %s", c.status, c.output);
    free(c.output);
    for (double start = ct_now(); !is_same && ct_now() - start < 5.0;) {
        struct answer cached, now;
        read_answer(srv, "/v1/models/c/r/family", &cached);
        read_answer(fresh, "/v1/models/c/r/family", &now);
        is_same = strcmp(cached.body, now.body) == 0;
        ck_assert_ptr_nonnull(strstr(now.body, "c/imported"));
        answer_cleanup(&cached);
        answer_cleanup(&now);
    }
    ck_assert_msg(is_same, "the cached family page still misses the imported model");
    assert_as_fresh(NULL);
}
END_TEST

static Suite *cache_suite(void)
{
    Suite *s = suite_create("http_cache");
    TCase *tc = tcase_create("cache");

    tcase_add_checked_fixture(tc, start_both, stop_both);
    tcase_set_timeout(tc, TEST_TIMEOUT_S);
    tcase_add_test(tc, a_write_to_a_member_changes_every_answer_of_its_family_and_no_other);
    tcase_add_test(tc, a_write_elsewhere_is_answered_from_the_cache_with_the_same_etag);
    tcase_add_test(tc, reparenting_changes_the_old_family_and_the_new);
    tcase_add_test(tc, deleting_a_member_changes_its_family);
    tcase_add_test(tc, no_answer_from_before_a_write_is_served_after_its_2xx);
    tcase_add_test(tc, an_import_beside_the_server_changes_its_answers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ct_main(cache_suite());
}
