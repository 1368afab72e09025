/* Shared by the files of api/ only. */
#ifndef API_INTERNAL_H
#define API_INTERNAL_H

#include "api.h"
#include "db.h"

struct api_service {
    struct api_config config;
    char *db_path;
    struct db_pool *pool;
};

/* The calling thread's database connection. */
enum err api_db(struct api_service *service, struct db **out, struct api_problem *problem);

/* Sets reply->json to a new reference and the status; returns ERR_OK, or
 * ERR_NO_MEMORY when body is NULL. */
enum err api_reply_json(struct api_reply *reply, int status, json_t *body);

/* Checks that every member of object is in allowed; read_only members get a
 * "read-only" message, others "unknown field". Records every offender (pointer
 * prefix + member). Returns ERR_INVALID_INPUT when any was found. */
enum err api_check_members(const json_t *object, const char *prefix, const char *const *allowed,
                           const char *const *read_only, struct api_problem *problem);

/* Checks that every query parameter is in allowed (plus the global "pretty"). */
enum err api_check_query(const struct api_request *req, const char *const *allowed,
                         struct api_problem *problem);

/* Reads an optional string member into buf (max_len bytes of UTF-8 text without
 * control characters). Absent or null leaves buf empty and *present false. */
enum err api_get_string(const json_t *object, const char *key, const char *pointer, char *buf,
                        size_t buf_len, bool *present, struct api_problem *problem);

/* Reads an optional non-negative integer member. */
enum err api_get_count(const json_t *object, const char *key, const char *pointer, int64_t max,
                       int64_t *out, bool *present, struct api_problem *problem);

/* Parses a decimal non-negative integer query value within [min, max]. */
enum err api_query_int(const struct api_request *req, const char *key, int64_t min, int64_t max,
                       int64_t fallback, int64_t *out, struct api_problem *problem);

/* Percent-encodes text for a URL query value into buf. */
void api_url_encode(const char *text, char *buf, size_t buf_len);

/* Formats an ETag for a version number: "\"v<version>\"". */
void api_etag(int64_t version, char *buf, size_t buf_len);

/* Whether an If-None-Match / If-Match header value matches etag (handles lists and *). */
bool api_etag_matches(const char *header, const char *etag);

#endif
