/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP metrics in atomic counters: one latency histogram per route, and request
 * counts in a small lock-free table keyed by route, method and status. Labels stay
 * bounded: a route is its pattern (never the raw path), every unknown path or
 * method-less match is "unmatched", and methods outside the HTTP set are "other". */
#include "http_metrics.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROUTE_SLOTS 64   /* slot 0 is "unmatched"; the route table has fewer patterns */
#define COUNTER_SLOTS   2048 /* (route, method, status) combinations; far more than seen */

/* Upper bounds of the latency histogram, in seconds. */
static const double latency_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                        0.25,  0.5,    1,     2.5,  5,     10};
#define N_LATENCY_BOUNDS (sizeof latency_bounds / sizeof latency_bounds[0])

static const char *const method_names[] = {"GET",    "HEAD",    "POST",  "PUT",
                                           "DELETE", "OPTIONS", "PATCH", "other"};
#define N_METHODS (sizeof method_names / sizeof method_names[0])

struct route_slot {
    _Atomic(const char *) pattern;                  /* NULL: free; slot 0 never gets one */
    _Atomic uint64_t buckets[N_LATENCY_BOUNDS + 1]; /* per bucket; the last: above every bound */
    _Atomic uint64_t sum_ns;
};

struct counter_slot {
    _Atomic uint32_t key; /* 0: free; else 1 + (route | method << 6 | status << 9) */
    _Atomic uint64_t value;
};

struct http_metrics {
    struct route_slot routes[MAX_ROUTE_SLOTS];
    struct counter_slot counters[COUNTER_SLOTS];
    _Atomic uint64_t dropped; /* requests not counted because the table was full */
};

struct http_metrics *http_metrics_create(void)
{
    return calloc(1, sizeof(struct http_metrics));
}

void http_metrics_destroy(struct http_metrics *metrics)
{
    free(metrics);
}

/* The slot of a route pattern, claimed on first sight. Several routes share a
 * pattern (GET and POST /v1/models): they share its slot, so labels stay unique. */
static size_t route_slot(struct http_metrics *m, const char *pattern)
{
    if (pattern == NULL)
        return 0;
    for (size_t i = 1; i < MAX_ROUTE_SLOTS; i++) {
        const char *seen = atomic_load(&m->routes[i].pattern);
        if (seen == NULL) {
            const char *expected = NULL;
            if (atomic_compare_exchange_strong(&m->routes[i].pattern, &expected, pattern))
                return i;
            seen = expected; /* another thread claimed it meanwhile */
        }
        if (strcmp(seen, pattern) == 0)
            return i;
    }
    return 0;
}

static size_t method_index(const char *method)
{
    for (size_t i = 0; i + 1 < N_METHODS; i++)
        if (strcmp(method, method_names[i]) == 0)
            return i;
    return N_METHODS - 1;
}

static void count_request(struct http_metrics *m, size_t route, size_t method, unsigned status)
{
    uint32_t key =
        1u + (uint32_t)(route | method << 6 | (size_t)(status > 999 ? 999 : status) << 9);
    size_t start = (size_t)((key * 2654435761u) % COUNTER_SLOTS);

    for (size_t probe = 0; probe < COUNTER_SLOTS; probe++) {
        struct counter_slot *c = &m->counters[(start + probe) % COUNTER_SLOTS];
        uint32_t seen = atomic_load(&c->key);
        if (seen == 0) {
            uint32_t expected = 0;
            if (atomic_compare_exchange_strong(&c->key, &expected, key))
                seen = key;
            else
                seen = expected;
        }
        if (seen == key) {
            atomic_fetch_add(&c->value, 1);
            return;
        }
    }
    atomic_fetch_add(&m->dropped, 1);
}

void http_metrics_observe(struct http_metrics *metrics, const char *method,
                          const char *route_pattern, unsigned status, double seconds)
{
    size_t route = route_slot(metrics, route_pattern);
    struct route_slot *r = &metrics->routes[route];
    size_t bucket = 0;

    count_request(metrics, route, method_index(method), status);
    while (bucket < N_LATENCY_BOUNDS && seconds > latency_bounds[bucket])
        bucket++;
    atomic_fetch_add(&r->buckets[bucket], 1);
    if (seconds > 0)
        atomic_fetch_add(&r->sum_ns, (uint64_t)(seconds * 1e9));
}

/* The route label: the pattern with each "{}" named as openapi.yaml names it, after
 * the segment before it. */
static void route_label(const char *pattern, char *buf, size_t buf_len)
{
    static const struct {
        const char *after;
        const char *name;
    } names[] = {{"models", "{namespace}"},
                 {"{namespace}", "{name}"},
                 {"activities", "{activity_id}"},
                 {"inference-counters", "{reporter}"},
                 {"tokens", "{token_id}"}};
    char previous[64] = "";
    size_t len = 0;

    buf[0] = '\0';
    for (const char *p = pattern; *p == '/' && len + 1 < buf_len;) {
        const char *end = strchr(p + 1, '/');
        int seg_len = (int)(end ? (size_t)(end - p - 1) : strlen(p + 1));
        char segment[64];
        snprintf(segment, sizeof segment, "%.*s", seg_len, p + 1);
        if (strcmp(segment, "{}") == 0) {
            snprintf(segment, sizeof segment, "{id}");
            for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
                if (strcmp(previous, names[i].after) == 0)
                    snprintf(segment, sizeof segment, "%s", names[i].name);
        }
        len += (size_t)snprintf(buf + len, buf_len - len, "/%s", segment);
        memcpy(previous, segment, sizeof previous);
        p += seg_len + 1;
    }
}

static void slot_label(const struct http_metrics *m, size_t slot, char *buf, size_t buf_len)
{
    const char *pattern = slot == 0 ? NULL : atomic_load(&m->routes[slot].pattern);

    if (pattern == NULL)
        snprintf(buf, buf_len, "unmatched");
    else
        route_label(pattern, buf, buf_len);
}

static int compare_keys(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

static void render_requests(struct http_metrics *m, FILE *out)
{
    uint32_t keys[COUNTER_SLOTS];
    uint64_t values[COUNTER_SLOTS];
    size_t n = 0;
    char route[160];

    fprintf(out, "# HELP carbontree_http_requests_total HTTP requests answered since the "
                 "process started, by method, route pattern (\"unmatched\" when no route took "
                 "the request) and status (0 when the connection ended before an answer).\n"
                 "# TYPE carbontree_http_requests_total counter\n");
    for (size_t i = 0; i < COUNTER_SLOTS; i++) {
        uint32_t key = atomic_load(&m->counters[i].key);
        if (key != 0)
            keys[n++] = key;
    }
    qsort(keys, n, sizeof keys[0], compare_keys);
    for (size_t i = 0; i < n; i++) {
        size_t start = (size_t)((keys[i] * 2654435761u) % COUNTER_SLOTS);
        values[i] = 0;
        for (size_t probe = 0; probe < COUNTER_SLOTS; probe++) {
            struct counter_slot *c = &m->counters[(start + probe) % COUNTER_SLOTS];
            if (atomic_load(&c->key) == keys[i]) {
                values[i] = atomic_load(&c->value);
                break;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t k = keys[i] - 1u;
        if (values[i] == 0)
            continue; /* claimed, not yet counted */
        slot_label(m, k & 63u, route, sizeof route);
        fprintf(out,
                "carbontree_http_requests_total{method=\"%s\",route=\"%s\",status=\"%u\"} %" PRIu64
                "\n",
                method_names[(k >> 6) & 7u], route, k >> 9, values[i]);
    }
}

static void render_durations(struct http_metrics *m, FILE *out)
{
    char route[160];

    fprintf(out, "# HELP carbontree_http_request_duration_seconds Time from a request's first "
                 "byte to the end of its answer, by route pattern.\n"
                 "# TYPE carbontree_http_request_duration_seconds histogram\n");
    for (size_t slot = 0; slot < MAX_ROUTE_SLOTS; slot++) {
        struct route_slot *r = &m->routes[slot];
        uint64_t counts[N_LATENCY_BOUNDS + 1], total = 0;
        for (size_t b = 0; b <= N_LATENCY_BOUNDS; b++) {
            counts[b] = atomic_load(&r->buckets[b]);
            total += counts[b];
        }
        if (total == 0)
            continue;
        slot_label(m, slot, route, sizeof route);
        total = 0;
        for (size_t b = 0; b < N_LATENCY_BOUNDS; b++) {
            total += counts[b];
            fprintf(out,
                    "carbontree_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} "
                    "%" PRIu64 "\n",
                    route, latency_bounds[b], total);
        }
        total += counts[N_LATENCY_BOUNDS];
        fprintf(out,
                "carbontree_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} "
                "%" PRIu64 "\n"
                "carbontree_http_request_duration_seconds_sum{route=\"%s\"} %.9f\n"
                "carbontree_http_request_duration_seconds_count{route=\"%s\"} %" PRIu64 "\n",
                route, total, route, (double)atomic_load(&r->sum_ns) / 1e9, route, total);
    }
}

char *http_metrics_render(struct http_metrics *m, size_t *len)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);

    if (out == NULL)
        return NULL;
    render_requests(m, out);
    render_durations(m, out);
    if (ferror(out)) {
        fclose(out);
        free(text);
        return NULL;
    }
    if (fclose(out) != 0) {
        free(text);
        return NULL;
    }
    *len = size;
    return text;
}
