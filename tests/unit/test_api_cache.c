/* SPDX-License-Identifier: Apache-2.0 */
/* The cache of rendered answers (api/cache.c) alone: what it returns is what was
 * stored, while the generations of the entry's roots, its day and the epoch are
 * unchanged; an answer read before a bump is never stored after it; the bytes held
 * stay within the size, the least recently used going first; and threads that
 * read, store and bump at once never get an answer older than a bump they saw
 * finish (run under ThreadSanitizer too). */
#include "cache.h"

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_text(struct api_cache *cache, const char *key, const int64_t *roots, size_t n_roots,
                     int64_t day, const char *body)
{
    struct api_cache_stamp stamp;

    api_cache_stamp(cache, &stamp);
    api_cache_put(cache, &stamp, key, strlen(key), roots, n_roots, day, body, strlen(body), NULL);
}

/* Whether key is served, and then that its body is want. */
static bool serves(struct api_cache *cache, const char *key, int64_t day, const char *want)
{
    char *body = NULL;
    size_t len = 0;

    if (!api_cache_get(cache, key, strlen(key), day, &body, &len, NULL))
        return false;
    ck_assert_uint_eq(len, strlen(want));
    ck_assert_int_eq(memcmp(body, want, len), 0);
    free(body);
    return true;
}

START_TEST(size_zero_is_no_cache)
{
    struct api_cache *cache = api_cache_create(0);
    int64_t root = 1;

    ck_assert_ptr_null(cache);
    put_text(cache, "k", &root, 1, 0, "body");
    ck_assert(!serves(cache, "k", 0, "body"));
    api_cache_bump(cache, &root, 1);
    api_cache_bump_all(cache);
    api_cache_destroy(cache);
}
END_TEST

START_TEST(an_answer_is_served_as_stored_with_its_figures)
{
    struct api_cache *cache = api_cache_create(1 << 20);
    struct api_cache_stamp stamp;
    struct api_cache_stats stats;
    int64_t roots[] = {7, 9}, aux[API_CACHE_AUX] = {1, 4242}, got[API_CACHE_AUX] = {0};
    const char body[] = "{\"a\":1}\n\0binary tail";
    char *copy = NULL;
    size_t len = 0;

    api_cache_stamp(cache, &stamp);
    api_cache_put(cache, &stamp, "fp\nx", 4, roots, 2, 5, body, sizeof body, aux);
    ck_assert(api_cache_get(cache, "fp\nx", 4, 5, &copy, &len, got));
    ck_assert_uint_eq(len, sizeof body);
    ck_assert_int_eq(memcmp(copy, body, len), 0);
    ck_assert_int_eq(got[0], 1);
    ck_assert_int_eq(got[1], 4242);
    free(copy);
    ck_assert(!api_cache_get(cache, "fp\ny", 4, 5, &copy, &len, NULL));
    api_cache_stats(cache, &stats);
    ck_assert_uint_eq(stats.hits, 1);
    ck_assert_uint_eq(stats.misses, 1);
    ck_assert_uint_eq(stats.entries, 1);
    ck_assert_uint_ge(stats.bytes, sizeof body + 4);
    api_cache_destroy(cache);
}
END_TEST

START_TEST(a_bump_of_any_root_drops_the_answer_and_no_other)
{
    struct api_cache *cache = api_cache_create(1 << 20);
    int64_t merge[] = {1, 2}, one = 1, two = 2, three = 3;

    put_text(cache, "merge", merge, 2, 0, "m");
    put_text(cache, "one", &one, 1, 0, "1");
    put_text(cache, "three", &three, 1, 0, "3");
    api_cache_bump(cache, &two, 1);
    ck_assert(!serves(cache, "merge", 0, "m"));
    ck_assert(serves(cache, "one", 0, "1"));
    ck_assert(serves(cache, "three", 0, "3"));
    put_text(cache, "merge", merge, 2, 0, "m2");
    ck_assert(serves(cache, "merge", 0, "m2"));
    api_cache_bump(cache, &one, 1);
    ck_assert(!serves(cache, "merge", 0, "m2"));
    ck_assert(!serves(cache, "one", 0, "1"));
    ck_assert(serves(cache, "three", 0, "3"));
    api_cache_bump_all(cache);
    ck_assert(!serves(cache, "three", 0, "3"));
    api_cache_destroy(cache);
}
END_TEST

START_TEST(an_answer_read_before_a_bump_is_not_kept)
{
    struct api_cache *cache = api_cache_create(1 << 20);
    struct api_cache_stamp stamp;
    int64_t root = 11, elsewhere = 12;

    /* Any bump between the stamp and the put: the read may predate its commit. */
    api_cache_stamp(cache, &stamp);
    api_cache_bump(cache, &elsewhere, 1);
    api_cache_put(cache, &stamp, "k", 1, &root, 1, 0, "old", 3, NULL);
    ck_assert(!serves(cache, "k", 0, "old"));
    api_cache_stamp(cache, &stamp);
    api_cache_bump_all(cache);
    api_cache_put(cache, &stamp, "k", 1, &root, 1, 0, "old", 3, NULL);
    ck_assert(!serves(cache, "k", 0, "old"));
    api_cache_destroy(cache);
}
END_TEST

START_TEST(an_answer_is_kept_for_its_day_only)
{
    struct api_cache *cache = api_cache_create(1 << 20);
    int64_t root = 1;

    put_text(cache, "k", &root, 1, 20000, "d");
    ck_assert(!serves(cache, "k", 20001, "d"));
    ck_assert(!serves(cache, "k", 20000, "d")); /* dropped when found stale */
    api_cache_destroy(cache);
}
END_TEST

START_TEST(too_many_roots_are_not_kept)
{
    struct api_cache *cache = api_cache_create(1 << 20);
    int64_t roots[API_CACHE_MAX_ROOTS + 1];

    for (size_t i = 0; i < API_CACHE_MAX_ROOTS + 1; i++)
        roots[i] = (int64_t)i + 1;
    put_text(cache, "many", roots, API_CACHE_MAX_ROOTS, 0, "fits");
    ck_assert(serves(cache, "many", 0, "fits"));
    put_text(cache, "more", roots, API_CACHE_MAX_ROOTS + 1, 0, "does not");
    ck_assert(!serves(cache, "more", 0, "does not"));
    api_cache_destroy(cache);
}
END_TEST

/* A body of 1,023 letters that do not repeat (kept as they are, unpacked), the
 * same for the same n. */
static void letters(int n, char *body, size_t len)
{
    unsigned x = (unsigned)n * 2654435761u + 1;

    for (size_t i = 0; i + 1 < len; i++) {
        x = x * 1103515245u + 12345u;
        body[i] = (char)('a' + (x >> 16) % 26);
    }
    body[len - 1] = '\0';
}

START_TEST(the_size_bounds_the_bytes_and_the_least_recent_go_first)
{
    size_t size = 256 * 1024;
    struct api_cache *cache = api_cache_create(size);
    struct api_cache_stats stats;
    char body[1024], first[1024], key[32];
    int64_t root = 3;
    int kept = 0;

    letters(-1, first, sizeof first);
    put_text(cache, "first", &root, 1, 0, first);
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        letters(i, body, sizeof body);
        put_text(cache, key, &root, 1, 0, body);
        /* "first" is read between every store: it stays the most recently used. */
        ck_assert(serves(cache, "first", 0, first));
        api_cache_stats(cache, &stats);
        ck_assert_uint_le(stats.bytes, size);
    }
    ck_assert_uint_gt(stats.evictions, 0);
    ck_assert_uint_eq(stats.entries + stats.evictions, 2001);
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        letters(i, body, sizeof body);
        kept += serves(cache, key, 0, body);
    }
    ck_assert_int_gt(kept, 100);
    letters(1999, body, sizeof body);
    ck_assert(serves(cache, "k1999", 0, body));
    letters(0, body, sizeof body);
    ck_assert(!serves(cache, "k0", 0, body));
    /* An answer larger than its share of the size is not kept at all. */
    {
        char *big = malloc(size);
        ck_assert_ptr_nonnull(big);
        letters(7, big, size);
        put_text(cache, "big", &root, 1, 0, big);
        ck_assert(!serves(cache, "big", 0, big));
        free(big);
    }
    api_cache_destroy(cache);
}
END_TEST

/* A JSON text of repeated members is kept packed: many more fit, and each comes
 * back byte for byte. */
START_TEST(repetitive_answers_are_kept_in_fewer_bytes_and_served_whole)
{
    struct api_cache *cache = api_cache_create(1 << 20);
    struct api_cache_stats stats;
    char body[4096];
    size_t len = 0;
    int64_t root = 5;

    len += (size_t)snprintf(body, sizeof body, "{\"allocations\":[");
    for (int i = 0; len < sizeof body - 200; i++)
        len += (size_t)snprintf(body + len, sizeof body - len,
                                "%s{\"source\":\"ns/m-%d\",\"co2e_kg\":{\"value\":%d.5,"
                                "\"low\":%d.5,\"high\":%d.5}}",
                                i ? "," : "", i, i * 7, i * 7, i * 7);
    snprintf(body + len, sizeof body - len, "]}\n");
    put_text(cache, "json", &root, 1, 0, body);
    api_cache_stats(cache, &stats);
    ck_assert_uint_eq(stats.entries, 1);
    ck_assert_uint_lt(stats.bytes, strlen(body) / 2);
    ck_assert(serves(cache, "json", 0, body));
    api_cache_destroy(cache);
}
END_TEST

/* Several threads: a writer "commits" (moves a family's state), bumps it, then
 * acknowledges; readers read the state, store answers made of it, and check that a
 * served answer is never older than what was acknowledged before they asked. */
#define N_FAMILIES 8
#define N_READERS  3

static struct api_cache *shared;
static _Atomic int64_t state[N_FAMILIES], acked[N_FAMILIES];
static _Atomic bool is_done;

static void *writer_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        int64_t f = i % N_FAMILIES;
        int64_t v = atomic_fetch_add(&state[f], 1) + 1;
        api_cache_bump(shared, &f, 1);
        atomic_store(&acked[f], v);
    }
    atomic_store(&is_done, true);
    return NULL;
}

static void *reader_main(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    long n_bad = 0;

    while (!atomic_load(&is_done)) {
        int64_t f = rand_r(&seed) % N_FAMILIES;
        int64_t before = atomic_load(&acked[f]);
        char key[32], text[64], *body = NULL;
        size_t len = 0;
        snprintf(key, sizeof key, "family %lld", (long long)f);
        if (api_cache_get(shared, key, strlen(key), 0, &body, &len, NULL)) {
            long long got = -1, family = -1;
            if (sscanf(body, "%lld %lld", &family, &got) != 2 || family != f || got < before)
                n_bad++;
            free(body);
        } else {
            struct api_cache_stamp stamp;
            api_cache_stamp(shared, &stamp);
            snprintf(text, sizeof text, "%lld %lld", (long long)f,
                     (long long)atomic_load(&state[f]));
            api_cache_put(shared, &stamp, key, strlen(key), &f, 1, 0, text, strlen(text) + 1, NULL);
        }
    }
    return (void *)(intptr_t)n_bad;
}

START_TEST(threads_never_get_an_answer_older_than_an_acknowledged_bump)
{
    pthread_t writer, readers[N_READERS];
    struct api_cache_stats stats;
    long n_bad = 0;

    shared = api_cache_create(64 * 1024);
    ck_assert_ptr_nonnull(shared);
    for (int i = 0; i < N_READERS; i++)
        ck_assert_int_eq(pthread_create(&readers[i], NULL, reader_main, (void *)(uintptr_t)(i + 1)),
                         0);
    ck_assert_int_eq(pthread_create(&writer, NULL, writer_main, NULL), 0);
    pthread_join(writer, NULL);
    for (int i = 0; i < N_READERS; i++) {
        void *bad;
        pthread_join(readers[i], &bad);
        n_bad += (long)(intptr_t)bad;
    }
    api_cache_stats(shared, &stats);
    ck_assert_int_eq(n_bad, 0);
    ck_assert_uint_gt(stats.hits + stats.misses, 0);
    api_cache_destroy(shared);
    shared = NULL;
}
END_TEST

static Suite *cache_suite(void)
{
    Suite *s = suite_create("api_cache");
    TCase *tc = tcase_create("cache");

    tcase_add_test(tc, size_zero_is_no_cache);
    tcase_add_test(tc, an_answer_is_served_as_stored_with_its_figures);
    tcase_add_test(tc, a_bump_of_any_root_drops_the_answer_and_no_other);
    tcase_add_test(tc, an_answer_read_before_a_bump_is_not_kept);
    tcase_add_test(tc, an_answer_is_kept_for_its_day_only);
    tcase_add_test(tc, too_many_roots_are_not_kept);
    tcase_add_test(tc, the_size_bounds_the_bytes_and_the_least_recent_go_first);
    tcase_add_test(tc, repetitive_answers_are_kept_in_fewer_bytes_and_served_whole);
    tcase_add_test(tc, threads_never_get_an_answer_older_than_an_acknowledged_bump);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cache_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
