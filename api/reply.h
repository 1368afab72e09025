/* SPDX-License-Identifier: Apache-2.0 */
/* Building answers: JSON bodies, and the ETags of versions and of JSON texts
 * (api/reply.c). Internal to api/. */
#ifndef API_REPLY_H
#define API_REPLY_H

#include "api.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sets reply->json to a new reference and the status; returns ERR_OK, or
 * ERR_NO_MEMORY when body is NULL. */
enum err api_reply_json(struct api_reply *reply, int status, json_t *body);

/* json_object_set_new and json_array_append_new for building answers: when the
 * member cannot be added (value NULL, or no memory), the container is released and
 * *container becomes NULL, so that the caller's check of it (or json_pack's "o")
 * fails the answer instead of leaving the member out. value is stolen either way;
 * with *container already NULL it is only released. */
void api_json_set(json_t **container, const char *key, json_t *value);
void api_json_append(json_t **container, json_t *value);

/* json_copy and json_deep_copy, NULL unless the copy is whole: jansson 2.14's
 * json_copy of an object or array skips a member it has no memory for and returns
 * the rest. */
json_t *api_json_copy(const json_t *json);
json_t *api_json_deep_copy(const json_t *json);

/* json_loadb, NULL unless the value read is the text's: jansson 2.14's lexer drops
 * a character it has no memory to keep and reads on ("carbon_intensiy"), so a
 * value is kept only when a second reading agrees with it. A failure of either
 * reading for want of memory says so in error (json_error_code). */
json_t *api_json_loadb(const char *text, size_t len, size_t flags, json_error_t *error);
json_t *api_json_loads(const char *text, size_t flags, json_error_t *error);

/* The flags the server serialises JSON answers with (server/http.c). */
#define API_DUMP_FLAGS (JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(15))

/* Answers a JSON text (malloc'd, stolen) of len bytes, written as the server
 * writes JSON (API_DUMP_FLAGS, then a newline), with a weak ETag hashed from it:
 * 304 when If-None-Match names it, else 200 with the text as it is. ?pretty reads
 * it back for the server to indent; the tag stays the compact text's. */
enum err api_reply_text_etag(const struct api_request *req, struct api_reply *reply, char *text,
                             size_t len);

/* Answers bytes (malloc'd, stolen) of len bytes with content_type (static
 * storage) and a weak ETag hashed from every byte: 304 when If-None-Match names
 * it, else 200 with the bytes. */
enum err api_reply_bytes_etag(const struct api_request *req, struct api_reply *reply, char *bytes,
                              size_t len, const char *content_type);

/* Formats an ETag for a version number: "\"v<version>\"". */
void api_etag(int64_t version, char *buf, size_t buf_len);

/* Whether an If-None-Match / If-Match header value matches etag (handles lists and *). */
bool api_etag_matches(const char *header, const char *etag);

#endif
