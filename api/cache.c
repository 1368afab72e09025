/* SPDX-License-Identifier: Apache-2.0 */
/* The cache of rendered answers: shards of a hash table with an LRU list each,
 * under a lock each, so the read threads rarely wait for one another; and one table
 * of family generations, atomics that a commit bumps and a lookup compares. */
#include "cache.h"

#include "alloc.h"

#include <lz4.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A power of two: a key's shard is the top bits of its hash. */
#define N_SHARDS 16

/* Generations are kept per slot, a root's slot being a hash of its key: two
 * families that share a slot bump each other's answers, a spurious miss and never
 * a wrong answer. 16,384 slots (128 KiB) keep that rare for thousands of families. */
#define SLOT_BITS 14
#define N_SLOTS   (1u << SLOT_BITS)

struct entry_root {
    uint64_t gen;
    uint32_t slot;
};

struct entry {
    struct entry *chain;         /* the next in its bucket */
    struct entry *newer, *older; /* the shard's LRU list */
    uint64_t hash;
    uint64_t epoch;
    int64_t day;
    int64_t aux[API_CACHE_AUX];
    size_t key_len, body_len, stored_len, charge;
    bool is_packed; /* the body is kept packed (LZ4 block), stored_len bytes of it */
    uint32_t n_roots;
    struct entry_root roots[]; /* then the key, then the body */
};

/* Where the key starts; the body follows it. */
static char *entry_key(const struct entry *e)
{
    return (char *)(uintptr_t)(e->roots + e->n_roots);
}

struct shard {
    pthread_mutex_t mu;
    struct entry **buckets;
    size_t mask; /* buckets - 1 */
    struct entry *newest, *oldest;
    size_t bytes, budget, n_entries;
};

struct api_cache {
    struct shard shards[N_SHARDS];
    /* seq moves before any generation does (api_cache_put reads them in the other
     * order), so a reader that finds seq unmoved knows its generations predate
     * every commit its read may have missed. */
    _Atomic uint64_t seq;
    _Atomic uint64_t epoch;
    _Atomic uint64_t gens[N_SLOTS];
    _Atomic uint64_t hits, misses, evictions;
};

static uint64_t hash_bytes(const char *p, size_t len)
{
    uint64_t h = 14695981039346656037ULL;

    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    /* splitmix64's finish: the shard is chosen by the top bits, which FNV alone
     * leaves alike for keys that differ at their end. */
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

static uint32_t slot_of(int64_t root)
{
    return (uint32_t)(((uint64_t)root * 0x9e3779b97f4a7c15ULL) >> (64 - SLOT_BITS));
}

static struct shard *shard_of(struct api_cache *cache, uint64_t hash)
{
    return &cache->shards[hash >> 60];
}

struct api_cache *api_cache_create(size_t max_bytes)
{
    struct api_cache *cache;
    size_t n_buckets = 64;

    if (max_bytes == 0)
        return NULL;
    cache = core_calloc(1, sizeof *cache);
    if (cache == NULL)
        return NULL;
    /* About one bucket per 2 KiB of budget, a footprint's size. */
    while (n_buckets < max_bytes / N_SHARDS / 2048)
        n_buckets *= 2;
    for (size_t i = 0; i < N_SHARDS; i++)
        pthread_mutex_init(&cache->shards[i].mu, NULL);
    for (size_t i = 0; i < N_SHARDS; i++) {
        struct shard *s = &cache->shards[i];
        s->buckets = core_calloc(n_buckets, sizeof *s->buckets);
        s->mask = n_buckets - 1;
        s->budget = max_bytes / N_SHARDS;
        if (s->buckets == NULL) {
            api_cache_destroy(cache);
            return NULL;
        }
    }
    return cache;
}

void api_cache_destroy(struct api_cache *cache)
{
    if (cache == NULL)
        return;
    for (size_t i = 0; i < N_SHARDS; i++) {
        struct shard *s = &cache->shards[i];
        struct entry *e = s->newest;
        while (e) {
            struct entry *next = e->older;
            free(e);
            e = next;
        }
        free(s->buckets);
        pthread_mutex_destroy(&s->mu);
    }
    free(cache);
}

void api_cache_stamp(const struct api_cache *cache, struct api_cache_stamp *out)
{
    out->seq = cache ? atomic_load(&cache->seq) : 0;
}

static void lru_unlink(struct shard *s, struct entry *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        s->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        s->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void lru_push(struct shard *s, struct entry *e)
{
    e->newer = NULL;
    e->older = s->newest;
    if (s->newest)
        s->newest->newer = e;
    s->newest = e;
    if (s->oldest == NULL)
        s->oldest = e;
}

/* The link that points at the entry of key in its bucket (at NULL when absent). */
static struct entry **find(struct shard *s, uint64_t hash, const char *key, size_t key_len)
{
    struct entry **link = &s->buckets[hash & s->mask];

    while (*link) {
        struct entry *e = *link;
        if (e->hash == hash && e->key_len == key_len && memcmp(entry_key(e), key, key_len) == 0)
            return link;
        link = &e->chain;
    }
    return link;
}

/* Unlinks the entry *link points at and frees it. */
static void drop(struct shard *s, struct entry **link)
{
    struct entry *e = *link;

    *link = e->chain;
    lru_unlink(s, e);
    s->bytes -= e->charge;
    s->n_entries--;
    free(e);
}

static bool is_valid(struct api_cache *cache, const struct entry *e, int64_t day)
{
    if (e->day != day || e->epoch != atomic_load(&cache->epoch))
        return false;
    for (uint32_t i = 0; i < e->n_roots; i++)
        if (atomic_load(&cache->gens[e->roots[i].slot]) != e->roots[i].gen)
            return false;
    return true;
}

/* Writes e's body, body_len bytes, to out. */
static bool body_copy(const struct entry *e, char *out)
{
    const char *stored = entry_key(e) + e->key_len;

    if (!e->is_packed) {
        memcpy(out, stored, e->body_len);
        return true;
    }
    return LZ4_decompress_safe(stored, out, (int)e->stored_len, (int)e->body_len) ==
           (int)e->body_len;
}

/* Answers are JSON texts of the same few keys and figures over and over: packed
 * with LZ4, a footprint keeps about 40 % of its bytes, so a size holds two and a
 * half times the answers, for well under a microsecond of unpacking a hit (zlib's
 * inflate took over a third of a hit's time). The body packed into a malloc'd buffer (*out,
 * *out_len bytes), or false (both untouched) when that would not save space or
 * memory runs out. */
static bool packed(const char *body, size_t len, char **out, size_t *out_len)
{
    size_t cap = len - len / 8; /* worth keeping only when it saves an eighth */
    size_t n;
    char *buf;

    if (len < 256 || len > LZ4_MAX_INPUT_SIZE)
        return false;
    buf = core_malloc(cap);
    n = buf ? (size_t)LZ4_compress_default(body, buf, (int)len, (int)cap) : 0;
    if (n == 0) {
        free(buf);
        return false;
    }
    *out = buf;
    *out_len = n;
    return true;
}

bool api_cache_get(struct api_cache *cache, const char *key, size_t key_len, int64_t day,
                   char **body, size_t *len, int64_t *aux)
{
    uint64_t hash;
    struct shard *s;
    struct entry **link;
    char *copy = NULL;

    if (cache == NULL)
        return false;
    hash = hash_bytes(key, key_len);
    s = shard_of(cache, hash);
    pthread_mutex_lock(&s->mu);
    link = find(s, hash, key, key_len);
    if (*link && !is_valid(cache, *link, day)) {
        drop(s, link);
    } else if (*link) {
        struct entry *e = *link;
        copy = core_malloc(e->body_len ? e->body_len : 1);
        if (copy && !body_copy(e, copy)) {
            free(copy);
            copy = NULL;
        }
        if (copy) {
            *len = e->body_len;
            if (aux)
                memcpy(aux, e->aux, sizeof e->aux);
            lru_unlink(s, e);
            lru_push(s, e);
        }
    }
    pthread_mutex_unlock(&s->mu);
    atomic_fetch_add_explicit(copy ? &cache->hits : &cache->misses, 1, memory_order_relaxed);
    if (copy)
        *body = copy;
    return copy != NULL;
}

/* Notes the distinct slots of roots and their generations now into out (room for
 * API_CACHE_MAX_ROOTS); returns how many, or 0 when they are too many. */
static uint32_t note_roots(struct api_cache *cache, const int64_t *roots, size_t n_roots,
                           struct entry_root *out)
{
    uint32_t n = 0;

    for (size_t i = 0; i < n_roots; i++) {
        uint32_t slot = slot_of(roots[i]);
        bool seen = false;
        for (uint32_t j = 0; j < n && !seen; j++)
            seen = out[j].slot == slot;
        if (seen)
            continue;
        if (n == API_CACHE_MAX_ROOTS)
            return 0;
        out[n].slot = slot;
        out[n].gen = atomic_load(&cache->gens[slot]);
        n++;
    }
    return n;
}

void api_cache_put(struct api_cache *cache, const struct api_cache_stamp *stamp, const char *key,
                   size_t key_len, const int64_t *roots, size_t n_roots, int64_t day,
                   const char *body, size_t len, const int64_t *aux)
{
    struct entry_root noted[API_CACHE_MAX_ROOTS];
    uint32_t n_noted;
    uint64_t epoch;
    char *pack = NULL;
    size_t stored_len = len, charge;
    struct entry *e;
    struct shard *s;
    struct entry **link;

    if (cache == NULL || n_roots == 0 || len > cache->shards[0].budget)
        return;
    epoch = atomic_load(&cache->epoch);
    n_noted = note_roots(cache, roots, n_roots, noted);
    /* The generations are read before seq is read again: if seq has not moved, no
     * commit bumped one after the stamp, so they are what the read started under. */
    if (n_noted == 0 || atomic_load(&cache->seq) != stamp->seq)
        return;
    packed(body, len, &pack, &stored_len);
    charge = sizeof(struct entry) + n_noted * sizeof(struct entry_root) + key_len + stored_len;
    e = charge <= cache->shards[0].budget ? core_malloc(charge) : NULL;
    if (e == NULL) {
        free(pack);
        return;
    }
    memset(e, 0, sizeof *e);
    e->n_roots = n_noted;
    memcpy(e->roots, noted, n_noted * sizeof *noted);
    e->epoch = epoch;
    e->hash = hash_bytes(key, key_len);
    e->key_len = key_len;
    e->body_len = len;
    e->stored_len = stored_len;
    e->is_packed = pack != NULL;
    e->charge = charge;
    e->day = day;
    if (aux)
        memcpy(e->aux, aux, sizeof e->aux);
    memcpy(entry_key(e), key, key_len);
    memcpy(entry_key(e) + key_len, pack ? pack : body, stored_len);
    free(pack);
    s = shard_of(cache, e->hash);
    pthread_mutex_lock(&s->mu);
    link = find(s, e->hash, key, key_len);
    if (*link)
        drop(s, link);
    while (s->bytes + charge > s->budget && s->oldest) {
        struct entry *old = s->oldest;
        drop(s, find(s, old->hash, entry_key(old), old->key_len));
        atomic_fetch_add_explicit(&cache->evictions, 1, memory_order_relaxed);
    }
    link = &s->buckets[e->hash & s->mask];
    e->chain = *link;
    *link = e;
    lru_push(s, e);
    s->bytes += charge;
    s->n_entries++;
    pthread_mutex_unlock(&s->mu);
}

void api_cache_bump(struct api_cache *cache, const int64_t *roots, size_t n_roots)
{
    if (cache == NULL || n_roots == 0)
        return;
    atomic_fetch_add(&cache->seq, 1);
    for (size_t i = 0; i < n_roots; i++)
        atomic_fetch_add(&cache->gens[slot_of(roots[i])], 1);
}

void api_cache_bump_all(struct api_cache *cache)
{
    if (cache == NULL)
        return;
    atomic_fetch_add(&cache->seq, 1);
    atomic_fetch_add(&cache->epoch, 1);
}

void api_cache_stats(const struct api_cache *cache, struct api_cache_stats *out)
{
    struct api_cache *c = (struct api_cache *)(uintptr_t)cache;

    memset(out, 0, sizeof *out);
    if (c == NULL)
        return;
    out->hits = atomic_load_explicit(&c->hits, memory_order_relaxed);
    out->misses = atomic_load_explicit(&c->misses, memory_order_relaxed);
    out->evictions = atomic_load_explicit(&c->evictions, memory_order_relaxed);
    for (size_t i = 0; i < N_SHARDS; i++) {
        struct shard *s = &c->shards[i];
        pthread_mutex_lock(&s->mu);
        out->entries += s->n_entries;
        out->bytes += s->bytes;
        pthread_mutex_unlock(&s->mu);
    }
}

int64_t api_cache_today(void)
{
    return (int64_t)(time(NULL) / 86400);
}
