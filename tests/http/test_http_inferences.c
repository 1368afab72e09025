/* SPDX-License-Identifier: Apache-2.0 */
/* Inference deltas over the wire: the Idempotency-Key they require, replays and
 * conflicts of a key, bad and overflowing counts, unknown models, and idempotent
 * counting under concurrency. */
#include "ledger_steps.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- counts ---- */

START_TEST(post_inferences_without_an_idempotency_key_is_400)
{
    struct ct_response r;

    registered("{'id':'cnt/m'}");
    send_keyed("POST", "/v1/models/cnt/m/inferences", NULL, "{'count':5}", &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", NULL);
    ck_assert_msg(strstr(str_at(&r, "detail"), "Idempotency-Key") != NULL, "%s", r.body);
    ct_response_cleanup(&r);
    send_keyed("POST", "/v1/models/cnt/m/inferences", "", "{'count':5}", &r);
    ck_assert_msg(r.status == 400, "an empty key answered %ld: %s", r.status, r.body);
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("cnt/m"), 0);
}
END_TEST

START_TEST(same_key_and_body_replays_the_first_answer_without_counting_again)
{
    struct ct_raw_response first, again, reordered;
    char replayed[32];

    registered("{'id':'cnt/m'}");
    raw_keyed("POST", "/v1/models/cnt/m/inferences", "k-1", "{'count':7,'date':'2024-03-01'}",
              &first);
    ck_assert_msg(first.status == 200, "answered %d: %s", first.status, first.body);
    ck_assert_msg(ct_raw_header(&first, "Idempotent-Replayed", replayed, sizeof replayed) == NULL,
                  "a first answer says it was replayed");
    ck_assert_int_eq(json_integer_value(json_object_get(first.json, "count")), 7);
    ck_assert_int_eq(json_integer_value(json_object_get(first.json, "inferences")), 7);

    raw_keyed("POST", "/v1/models/cnt/m/inferences", "k-1", "{'count':7,'date':'2024-03-01'}",
              &again);
    ck_assert_msg(again.status == 200, "answered %d: %s", again.status, again.body);
    ck_assert_msg(ct_raw_header(&again, "Idempotent-Replayed", replayed, sizeof replayed) &&
                      strcmp(replayed, "true") == 0,
                  "no Idempotent-Replayed: true in %s", again.head);
    ck_assert_msg(json_equal(first.json, again.json), "replay %s differs from %s", again.body,
                  first.body);

    /* Member order and spacing do not make another request. */
    raw_keyed("POST", "/v1/models/cnt/m/inferences", "k-1", "{ 'date':'2024-03-01', 'count':7 }",
              &reordered);
    ck_assert_msg(reordered.status == 200 && json_equal(first.json, reordered.json),
                  "reordered body answered %d: %s", reordered.status, reordered.body);
    ct_raw_cleanup(&reordered);
    ct_raw_cleanup(&again);
    ct_raw_cleanup(&first);
    ck_assert_int_eq(inferences_of("cnt/m"), 7);
}
END_TEST

START_TEST(same_key_with_another_body_or_model_is_422_and_counts_nothing)
{
    struct ct_response r;

    registered("{'id':'cnt/m'}");
    registered("{'id':'cnt/n'}");
    send_keyed("POST", "/v1/models/cnt/m/inferences", "k-2", "{'count':5}", &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);
    send_keyed("POST", "/v1/models/cnt/m/inferences", "k-2", "{'count':6}", &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", NULL);
    ct_response_cleanup(&r);
    send_keyed("POST", "/v1/models/cnt/n/inferences", "k-2", "{'count':5}", &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", NULL);
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("cnt/m"), 5);
    ck_assert_int_eq(inferences_of("cnt/n"), 0);
}
END_TEST

static const struct {
    const char *name;
    const char *body;
    long status;
    const char *pointer;
} bad_counts[] = {
    {"a negative count", "{'count':-1}", 422, "/count"},
    {"a fractional count", "{'count':1.5}", 422, "/count"},
    {"a count as text", "{'count':'10'}", 422, "/count"},
    {"a null count", "{'count':null}", 422, "/count"},
    {"no count", "{}", 422, "/count"},
    {"an unknown member", "{'count':1,'model':'cnt/m'}", 422, "/model"},
    {"a date that does not exist", "{'count':1,'date':'2024-02-30'}", 422, "/date"},
    {"a date in the future", "{'count':1,'date':'2999-01-01'}", 422, "/date"},
};

START_TEST(bad_counts_are_422_naming_the_field_and_count_nothing)
{
    struct ct_response r;
    char key[32];

    registered("{'id':'cnt/m'}");
    snprintf(key, sizeof key, "bad-%d", _i);
    send_keyed("POST", "/v1/models/cnt/m/inferences", key, bad_counts[_i].body, &r);
    ck_assert_msg(r.status == bad_counts[_i].status, "%s answered %ld: %s", bad_counts[_i].name,
                  r.status, r.body);
    CT_ASSERT_PROBLEM(&r, bad_counts[_i].status, "invalid-input", bad_counts[_i].pointer);
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("cnt/m"), 0);
}
END_TEST

START_TEST(counts_that_would_overflow_64_bits_are_refused)
{
    struct ct_response r;

    registered("{'id':'cnt/base'}");
    registered("{'id':'cnt/child','parents':[{'id':'cnt/base'}]}");
    send_keyed("POST", "/v1/models/cnt/child/inferences", "max", "{'count':9223372036854775807}",
               &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_int_eq(int_at(&r, "inferences"), INT64_MAX);
    ct_response_cleanup(&r);

    send_keyed("POST", "/v1/models/cnt/child/inferences", "plus-one", "{'count':1}", &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", "/count");
    ct_response_cleanup(&r);
    /* The base's family total would overflow too: one more on the base is refused. */
    send_keyed("POST", "/v1/models/cnt/base/inferences", "base-one", "{'count':1}", &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", "/count");
    ct_response_cleanup(&r);
    ct_send(srv, "PUT", "/v1/models/cnt/base/inference-counters/r1", "{'total':1}", &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", "/total");
    ct_response_cleanup(&r);

    /* 2^63 itself is not a 64-bit integer. */
    send_keyed("POST", "/v1/models/cnt/base/inferences", "two-63", "{'count':9223372036854775808}",
               &r);
    ck_assert_msg(r.status == 400 || r.status == 422, "2^63 answered %ld: %s", r.status, r.body);
    ct_response_cleanup(&r);

    ck_assert_int_eq(inferences_of("cnt/child"), INT64_MAX);
    ck_assert_int_eq(inferences_of("cnt/base"), 0);
    footprint("cnt/child", "usage", &r);
    ASSERT_NUM(&r, "co2e_g_per_inference/value", 0);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(inferences_on_an_unknown_model_are_404)
{
    struct ct_response r;

    send_keyed("POST", "/v1/models/cnt/ghost/inferences", "ghost-1", "{'count':5}", &r);
    CT_ASSERT_PROBLEM(&r, 404, "not-found", NULL);
    ct_response_cleanup(&r);
    ct_get(srv, "/v1/models/cnt/ghost/inferences", &r);
    CT_ASSERT_PROBLEM(&r, 404, "not-found", NULL);
    ct_response_cleanup(&r);
    /* The key was not spent on the failure. */
    registered("{'id':'cnt/ghost'}");
    send_keyed("POST", "/v1/models/cnt/ghost/inferences", "ghost-1", "{'count':5}", &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("cnt/ghost"), 5);
}
END_TEST

/* ---- concurrency ---- */

#define DELTA_THREADS     8
#define DELTAS_PER_THREAD 50
#define SAME_KEY_REQUESTS 20

struct delta_worker {
    pthread_t thread;
    pthread_barrier_t *start;
    int index;
    int ok;            /* answers of 200 */
    int retries;       /* 503 answers retried */
    long other_status; /* the first answer that was not 200, or 0 */
    char other_body[256];
};

static void *delta_worker_run(void *arg)
{
    struct delta_worker *w = arg;
    const char *headers[] = {"Content-Type: application/json", NULL, NULL};
    char key_header[64];
    static const char body[] = "{\"count\":1}";

    pthread_barrier_wait(w->start);
    for (int i = 0; i < DELTAS_PER_THREAD; i++) {
        struct ct_response r;
        snprintf(key_header, sizeof key_header, "Idempotency-Key: t%d-%d", w->index, i);
        headers[1] = key_header;
        ct_request(srv, "POST", "/v1/models/par/m/inferences", headers, body, strlen(body), &r);
        /* A documented 503 (busy) is retried with the same key, as a client would. */
        for (int retry = 0; r.status == 503 && retry < 20; retry++) {
            struct timespec pause = {0, 50 * 1000000L};
            ct_response_cleanup(&r);
            w->retries++;
            nanosleep(&pause, NULL);
            ct_request(srv, "POST", "/v1/models/par/m/inferences", headers, body, strlen(body), &r);
        }
        if (r.status == 200) {
            w->ok++;
        } else if (w->other_status == 0) {
            w->other_status = r.status;
            snprintf(w->other_body, sizeof w->other_body, "%s", r.status ? r.body : r.error);
        }
        ct_response_cleanup(&r);
    }
    return NULL;
}

START_TEST(parallel_deltas_with_distinct_keys_are_all_counted)
{
    struct delta_worker workers[DELTA_THREADS];
    pthread_barrier_t start;
    int ok = 0;

    registered("{'id':'par/m'}");
    ck_assert_int_eq(pthread_barrier_init(&start, NULL, DELTA_THREADS), 0);
    memset(workers, 0, sizeof workers);
    for (int i = 0; i < DELTA_THREADS; i++) {
        workers[i].start = &start;
        workers[i].index = i;
        ck_assert_int_eq(pthread_create(&workers[i].thread, NULL, delta_worker_run, &workers[i]),
                         0);
    }
    for (int i = 0; i < DELTA_THREADS; i++)
        pthread_join(workers[i].thread, NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < DELTA_THREADS; i++) {
        ck_assert_msg(workers[i].other_status == 0, "thread %d got %ld: %s", i,
                      workers[i].other_status, workers[i].other_body);
        ok += workers[i].ok;
    }
    ck_assert_int_eq(ok, DELTA_THREADS * DELTAS_PER_THREAD);
    ck_assert_int_eq(inferences_of("par/m"), DELTA_THREADS * DELTAS_PER_THREAD);
}
END_TEST

#define SAME_KEY_ROUNDS 3

struct same_key_worker {
    pthread_t thread;
    pthread_barrier_t *start;
    int round;
    struct ct_response r;
};

static void *same_key_worker_run(void *arg)
{
    struct same_key_worker *w = arg;
    char key_header[64];
    const char *headers[] = {"Content-Type: application/json", key_header, NULL};
    static const char body[] = "{\"count\":25}";

    snprintf(key_header, sizeof key_header, "Idempotency-Key: the-one-%d", w->round);
    pthread_barrier_wait(w->start);
    ct_request(srv, "POST", "/v1/models/par/m/inferences", headers, body, strlen(body), &w->r);
    return NULL;
}

START_TEST(parallel_requests_with_one_key_are_applied_once)
{
    struct same_key_worker workers[SAME_KEY_REQUESTS];
    pthread_barrier_t start;

    registered("{'id':'par/m'}");
    for (int round = 0; round < SAME_KEY_ROUNDS; round++) {
        const json_t *reference = NULL;
        int ok = 0, busy = 0;

        ck_assert_int_eq(pthread_barrier_init(&start, NULL, SAME_KEY_REQUESTS), 0);
        memset(workers, 0, sizeof workers);
        for (int i = 0; i < SAME_KEY_REQUESTS; i++) {
            workers[i].start = &start;
            workers[i].round = round;
            ck_assert_int_eq(
                pthread_create(&workers[i].thread, NULL, same_key_worker_run, &workers[i]), 0);
        }
        for (int i = 0; i < SAME_KEY_REQUESTS; i++)
            pthread_join(workers[i].thread, NULL);
        pthread_barrier_destroy(&start);
        for (int i = 0; i < SAME_KEY_REQUESTS; i++) {
            struct ct_response *r = &workers[i].r;
            if (r->status == 200) {
                ok++;
                if (reference == NULL)
                    reference = r->json;
                ck_assert_msg(json_equal(reference, r->json), "round %d: answer %d differs: %s",
                              round, i, r->body);
                ck_assert_int_eq(int_at(r, "inferences"), 25LL * (round + 1));
            } else {
                CT_ASSERT_PROBLEM(r, 409, "conflict", NULL);
                busy++;
            }
        }
        ck_assert_msg(ok >= 1, "round %d: no request was applied", round);
        ck_assert_int_eq(ok + busy, SAME_KEY_REQUESTS);
        for (int i = 0; i < SAME_KEY_REQUESTS; i++)
            ct_response_cleanup(&workers[i].r);
        ck_assert_int_eq(inferences_of("par/m"), 25LL * (round + 1));
    }
}
END_TEST

static Suite *inferences_suite(void)
{
    Suite *s = suite_create("http_inferences");
    TCase *counts = tcase_create("counts");
    TCase *parallel = tcase_create("concurrency");
    TCase *all[] = {counts, parallel};

    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (all[i] == parallel)
            tcase_add_checked_fixture(all[i], start_threaded_server, stop_servers);
        else
            tcase_add_checked_fixture(all[i], start_server, stop_servers);
        tcase_set_timeout(all[i], TEST_TIMEOUT_S);
        suite_add_tcase(s, all[i]);
    }
    tcase_add_test(counts, post_inferences_without_an_idempotency_key_is_400);
    tcase_add_test(counts, same_key_and_body_replays_the_first_answer_without_counting_again);
    tcase_add_test(counts, same_key_with_another_body_or_model_is_422_and_counts_nothing);
    tcase_add_loop_test(counts, bad_counts_are_422_naming_the_field_and_count_nothing, 0,
                        (int)(sizeof bad_counts / sizeof bad_counts[0]));
    tcase_add_test(counts, counts_that_would_overflow_64_bits_are_refused);
    tcase_add_test(counts, inferences_on_an_unknown_model_are_404);

    tcase_add_test(parallel, parallel_deltas_with_distinct_keys_are_all_counted);
    tcase_add_test(parallel, parallel_requests_with_one_key_are_applied_once);
    return s;
}

int main(void)
{
    return ct_main(inferences_suite());
}
