/* SPDX-License-Identifier: Apache-2.0 */
/* A bounded cache of rendered answers, each valid while the generations of the
 * families it was computed from stay what they were (api/cache.c). Internal to api/;
 * no SQL: what a commit changed is told by db through api_cache_bump. */
#ifndef API_CACHE_H
#define API_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The families an answer may depend on at most (the roots of a merge, or of every
 * member of a family page); an answer over more is not kept. */
#define API_CACHE_MAX_ROOTS 16

/* Auxiliary figures an entry keeps beside its body (a page's cursor, say). */
#define API_CACHE_AUX 2

struct api_cache;

/* What a reader notes before it starts reading: an answer computed after it is
 * stored only when no generation moved in between. */
struct api_cache_stamp {
    uint64_t seq;
};

struct api_cache_stats {
    uint64_t hits, misses, evictions;
    uint64_t entries, bytes;
};

/* A cache of at most max_bytes (bodies, keys and bookkeeping), or NULL when
 * max_bytes is 0 or memory runs out: every function below takes NULL as a cache
 * that keeps nothing. Pair with api_cache_destroy. */
struct api_cache *api_cache_create(size_t max_bytes);
void api_cache_destroy(struct api_cache *cache);

/* Notes the moment before a read (pass it to api_cache_put). */
void api_cache_stamp(const struct api_cache *cache, struct api_cache_stamp *out);

/* The answer stored under key when it is still valid: the generations of its roots
 * unchanged and day the day it was stored for. *body is a malloc'd copy of len
 * bytes (the caller owns it), aux (may be NULL) gets its figures. A stale answer
 * found is dropped. Returns false (a miss) when there is none or memory runs out. */
bool api_cache_get(struct api_cache *cache, const char *key, size_t key_len, int64_t day,
                   char **body, size_t *len, int64_t *aux);

/* Stores a copy of body under key, valid for day and while the generations of
 * roots (storage keys of the families the answer was computed from, n_roots of
 * them) stay as they were at stamp. Nothing is stored when a generation moved
 * since the stamp (the answer may predate a commit), when there are more than
 * API_CACHE_MAX_ROOTS roots, or when the entry would not fit. aux may be NULL. */
void api_cache_put(struct api_cache *cache, const struct api_cache_stamp *stamp, const char *key,
                   size_t key_len, const int64_t *roots, size_t n_roots, int64_t day,
                   const char *body, size_t len, const int64_t *aux);

/* After a commit, before its requests are answered: the families of roots changed,
 * so every answer computed from any of them is stale. */
void api_cache_bump(struct api_cache *cache, const int64_t *roots, size_t n_roots);

/* Every answer is stale (a change whose families are not known). */
void api_cache_bump_all(struct api_cache *cache);

/* Today, in days since 1970-01-01 UTC: for answers that are valid for a day. */
int64_t api_cache_today(void);

/* The counters since creation and what the cache holds now. */
void api_cache_stats(const struct api_cache *cache, struct api_cache_stats *out);

#endif
