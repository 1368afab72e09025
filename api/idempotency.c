/* SPDX-License-Identifier: Apache-2.0 */
/* Idempotency-Key handling: the first answer to a key is stored in the
 * same transaction as the write; the same key with the same request replays it,
 * with another request is 422, and while the first is still running is 409.
 * Keys are scoped (per token once tokens exist), so two clients never share one. */
#include "api_internal.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IDEMPOTENCY_KEY_MAX 255

/* FNV-1a, 64 bits, over a byte string, continuing from h. */
static uint64_t fnv1a(uint64_t h, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)data[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* A copy of v (new reference; NULL on allocation failure) in which every real that
 * is a whole number within 64 bits is that integer: the handlers read 1e6 and
 * 1000000 alike, so a retry whose numbers a proxy respelled is the same request. */
static json_t *whole_numbers_as_integers(const json_t *v)
{
    json_t *copy, *member;
    const char *key;
    int64_t n;

    if (json_is_real(v) && api_json_whole(v, &n) == API_WHOLE_OK)
        return json_integer(n);
    if (json_is_array(v)) {
        copy = json_array();
        for (size_t i = 0; copy && i < json_array_size(v); i++)
            if (json_array_append_new(copy, whole_numbers_as_integers(json_array_get(v, i))) != 0) {
                json_decref(copy);
                return NULL;
            }
        return copy;
    }
    if (json_is_object(v)) {
        copy = json_object();
        /* jansson's iteration API takes a non-const object; it does not modify it. */
        json_object_foreach((json_t *)(uintptr_t)v, key, member)
        {
            if (copy && json_object_set_new(copy, key, whole_numbers_as_integers(member)) != 0) {
                json_decref(copy);
                return NULL;
            }
        }
        return copy;
    }
    return api_json_copy(v);
}

/* Fingerprint of a request: method, path and the body in canonical form (sorted
 * keys, compact, whole numbers as integers), so whitespace, member order and the
 * spelling of a whole number do not matter. Two 64-bit FNV-1a
 * passes with different offsets make accidental collisions negligible. */
static enum err fingerprint(const struct api_request *req, char out[65])
{
    json_t *canonical = req->body ? whole_numbers_as_integers(req->body) : NULL;
    char *body = canonical ? api_json_dumps(canonical, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    uint64_t a = 14695981039346656037ULL, b = 0x9e3779b97f4a7c15ULL;

    json_decref(canonical);
    if (req->body && body == NULL)
        return ERR_NO_MEMORY;
    a = fnv1a(a, req->method, strlen(req->method));
    a = fnv1a(a, "\n", 1);
    a = fnv1a(a, req->path, strlen(req->path));
    a = fnv1a(a, "\n", 1);
    b = fnv1a(b, req->path, strlen(req->path));
    if (body) {
        a = fnv1a(a, body, strlen(body));
        b = fnv1a(b, body, strlen(body));
    }
    free(body);
    snprintf(out, 65, "%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
    return ERR_OK;
}

static bool is_valid_key(const char *key)
{
    size_t len = strlen(key);

    if (len == 0 || len > IDEMPOTENCY_KEY_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (key[i] < 0x21 || key[i] > 0x7e)
            return false;
    return true;
}

enum err api_idempotency_begin(struct api_service *s, const struct api_request *req,
                               const char *scope, struct api_idempotency *idem,
                               struct api_problem *problem)
{
    enum err rc;

    memset(idem, 0, sizeof *idem);
    if (req->idempotency_key == NULL)
        return api_fail(problem, ERR_BAD_REQUEST,
                        "this write needs an Idempotency-Key header (a unique string per "
                        "logical request, at most %d printable characters)",
                        IDEMPOTENCY_KEY_MAX);
    if (!is_valid_key(req->idempotency_key))
        return api_fail(problem, ERR_BAD_REQUEST,
                        "Idempotency-Key must be 1 to %d printable ASCII characters",
                        IDEMPOTENCY_KEY_MAX);
    snprintf(idem->scope, sizeof idem->scope, "%s", scope);
    snprintf(idem->key, sizeof idem->key, "%s", req->idempotency_key);
    rc = fingerprint(req, idem->hash);
    if (rc != ERR_OK)
        return rc;
    pthread_mutex_lock(&s->inflight_mu);
    for (size_t i = 0; i < s->n_inflight; i++) {
        if (strcmp(s->inflight[i]->key, idem->key) == 0 &&
            strcmp(s->inflight[i]->scope, idem->scope) == 0) {
            pthread_mutex_unlock(&s->inflight_mu);
            return api_fail(problem, ERR_CONFLICT,
                            "a request with this Idempotency-Key is still being processed; "
                            "retry it later");
        }
    }
    if (s->n_inflight == API_MAX_INFLIGHT) {
        pthread_mutex_unlock(&s->inflight_mu);
        return api_fail(problem, ERR_BUSY, "too many writes in flight");
    }
    s->inflight[s->n_inflight++] = idem;
    idem->is_registered = true;
    pthread_mutex_unlock(&s->inflight_mu);
    return ERR_OK;
}

void api_idempotency_end(struct api_service *s, struct api_idempotency *idem)
{
    if (!idem->is_registered)
        return;
    pthread_mutex_lock(&s->inflight_mu);
    for (size_t i = 0; i < s->n_inflight; i++) {
        if (s->inflight[i] == idem) {
            s->inflight[i] = s->inflight[--s->n_inflight];
            break;
        }
    }
    pthread_mutex_unlock(&s->inflight_mu);
    idem->is_registered = false;
}

enum err api_idempotency_replay(struct db *db, const struct api_idempotency *idem,
                                struct api_reply *reply, bool *is_replayed)
{
    char stored_hash[65];
    char *response = NULL;
    int status = 0;
    json_t *body;
    enum err rc;

    *is_replayed = false;
    rc = db_idempotency_get(db, idem->scope, idem->key, stored_hash, &status, &response);
    if (rc == ERR_NOT_FOUND)
        return ERR_OK;
    if (rc != ERR_OK)
        return rc;
    if (strcmp(stored_hash, idem->hash) != 0) {
        free(response);
        api_field_error(&reply->problem, "", "the Idempotency-Key was used for another request");
        return api_fail(&reply->problem, ERR_INVALID_INPUT,
                        "Idempotency-Key '%.64s' was already used with a different request; "
                        "use a new key for a new request",
                        idem->key);
    }
    body = api_json_loads(response, 0, NULL);
    free(response);
    if (body == NULL)
        return ERR_INTERNAL;
    api_reply_json(reply, status, body);
    api_reply_header(reply, "Idempotent-Replayed", "true");
    *is_replayed = true;
    return ERR_OK;
}

enum err api_idempotency_store(struct db *db, const struct api_idempotency *idem,
                               const struct api_reply *reply)
{
    char *text = api_json_dumps(reply->json, JSON_COMPACT);
    enum err rc;

    if (text == NULL)
        return ERR_NO_MEMORY;
    rc = db_idempotency_put(db, idem->scope, idem->key, idem->hash, reply->status, text);
    free(text);
    return rc;
}
