/* SPDX-License-Identifier: Apache-2.0 */
/* The per-token write rate limit: a token bucket per token id, in a fixed table
 * of slots shared by every thread under one lock. */
#include "rate_limit.h"

#include "alloc.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define RATE_SLOTS 1024

struct rate_slot {
    int64_t token_id; /* 0: free */
    double tokens;
    double last_s;
};

struct api_rate_limiter {
    pthread_mutex_t mu;
    double per_second;
    double burst;
    struct rate_slot slots[RATE_SLOTS];
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct api_rate_limiter *api_rate_limiter_create(double per_second, double burst)
{
    struct api_rate_limiter *r;

    if (!(per_second > 0))
        return NULL;
    r = core_calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    pthread_mutex_init(&r->mu, NULL);
    r->per_second = per_second;
    r->burst = burst >= 1 ? burst : per_second;
    return r;
}

void api_rate_limiter_destroy(struct api_rate_limiter *r)
{
    if (r == NULL)
        return;
    pthread_mutex_destroy(&r->mu);
    free(r);
}

int api_rate_limiter_take(struct api_rate_limiter *r, int64_t token_id)
{
    size_t start = (size_t)((uint64_t)token_id * 11400714819323198485ULL % RATE_SLOTS);
    struct rate_slot *slot = NULL;
    double now = now_s();
    int retry_after = 0;

    if (r == NULL)
        return 0;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < RATE_SLOTS; i++) {
        struct rate_slot *s = &r->slots[(start + i) % RATE_SLOTS];
        if (s->token_id == token_id || s->token_id == 0) {
            slot = s;
            break;
        }
    }
    if (slot == NULL) {
        /* Every slot taken by other tokens: reuse the one idle longest. */
        slot = &r->slots[start];
        for (size_t i = 0; i < RATE_SLOTS; i++)
            if (r->slots[i].last_s < slot->last_s)
                slot = &r->slots[i];
        slot->token_id = 0;
    }
    if (slot->token_id != token_id) {
        slot->token_id = token_id;
        slot->tokens = r->burst;
        slot->last_s = now;
    }
    slot->tokens += (now - slot->last_s) * r->per_second;
    if (slot->tokens > r->burst)
        slot->tokens = r->burst;
    slot->last_s = now;
    if (slot->tokens >= 1.0)
        slot->tokens -= 1.0;
    else
        retry_after = (int)ceil((1.0 - slot->tokens) / r->per_second);
    pthread_mutex_unlock(&r->mu);
    return retry_after;
}
