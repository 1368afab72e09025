/* SPDX-License-Identifier: Apache-2.0 */
/* The one error type of carbontree. Every fallible function in core, db and api
 * returns an enum err; ERR_OK is 0. The table below is the only place an error is
 * defined, with everything its answer depends on: HTTP status, stable problem type
 * slug, title, Retry-After, how its failure is logged, and the detail answered in
 * place of the handler's. Adding an error is adding a row. */
#ifndef CORE_ERR_H
#define CORE_ERR_H

/* A problem's type URI is this base and the row's slug. */
#define ERR_TYPE_BASE "https://carbontree.dev/problems/"

/* Generic details for answers that must not carry what the handler wrote (5xx:
 * internals stay in the log, which the request id names). */
#define ERR_DETAIL_INTERNAL "an internal error occurred; the request id identifies it in the logs"
#define ERR_DETAIL_BUSY     "the database is busy; retry after the indicated delay"
#define ERR_DETAIL_IO       "storage is temporarily unavailable; nothing was stored"
#define ERR_DETAIL_STOPPING "the server is shutting down; retry after the indicated delay"
#define ERR_DETAIL_FULL     "the server has no storage space left for this write; nothing was stored"

/* X(name, http_status, type_slug, title, retry_after_s, log, default_detail)
 *   retry_after_s  Retry-After of the answer in seconds (a handler may ask for
 *                  more); 0: none.
 *   log            how the failure is logged: NONE, DEBUG, WARN or ERROR
 *                  (enum err_log_level without its prefix).
 *   default_detail the detail answered instead of the handler's, which then goes
 *                  only to the log with the storage error, and field errors are
 *                  left out; NULL: the handler's detail is the answer's (its title
 *                  when the handler wrote none). */
#define ERR_TABLE(X)                                                                               \
    X(ERR_OK, 200, "ok", "OK", 0, NONE, NULL)                                                      \
    X(ERR_MALFORMED_JSON, 400, "malformed-json", "Malformed JSON", 0, DEBUG, NULL)                 \
    X(ERR_BAD_REQUEST, 400, "bad-request", "Bad request", 0, DEBUG, NULL)                          \
    X(ERR_UNAUTHORIZED, 401, "unauthorized", "Authentication required", 0, DEBUG, NULL)            \
    X(ERR_FORBIDDEN, 403, "forbidden", "Forbidden", 0, DEBUG, NULL)                                \
    X(ERR_NOT_FOUND, 404, "not-found", "Not found", 0, DEBUG, NULL)                                \
    X(ERR_METHOD_NOT_ALLOWED, 405, "method-not-allowed", "Method not allowed", 0, DEBUG, NULL)     \
    X(ERR_NOT_ACCEPTABLE, 406, "not-acceptable", "Not acceptable", 0, DEBUG, NULL)                 \
    X(ERR_CONFLICT, 409, "conflict", "Conflict", 0, DEBUG, NULL)                                   \
    X(ERR_LENGTH_REQUIRED, 411, "length-required", "Length required", 0, DEBUG, NULL)              \
    X(ERR_PRECONDITION_FAILED, 412, "precondition-failed", "Precondition failed", 0, DEBUG, NULL)  \
    X(ERR_PAYLOAD_TOO_LARGE, 413, "payload-too-large", "Payload too large", 0, DEBUG, NULL)        \
    X(ERR_URI_TOO_LONG, 414, "uri-too-long", "URI too long", 0, DEBUG, NULL)                       \
    X(ERR_UNSUPPORTED_MEDIA, 415, "unsupported-media-type", "Unsupported media type", 0, DEBUG,    \
      NULL)                                                                                        \
    X(ERR_INVALID_INPUT, 422, "invalid-input", "Invalid input", 0, DEBUG, NULL)                    \
    X(ERR_COUNT_OVERFLOW, 422, "invalid-input", "Invalid input", 0, DEBUG, NULL)                   \
    X(ERR_RATE_LIMITED, 429, "rate-limited", "Too many requests", 1, DEBUG, NULL)                  \
    X(ERR_HEADERS_TOO_LARGE, 431, "header-fields-too-large", "Request header fields too large", 0, \
      DEBUG, NULL)                                                                                 \
    X(ERR_INTERNAL, 500, "internal", "Internal server error", 0, ERROR, ERR_DETAIL_INTERNAL)       \
    X(ERR_NO_MEMORY, 500, "internal", "Internal server error", 0, ERROR, ERR_DETAIL_INTERNAL)      \
    X(ERR_DB, 500, "internal", "Internal server error", 0, ERROR, ERR_DETAIL_INTERNAL)             \
    X(ERR_BUSY, 503, "busy", "Service busy", 1, ERROR, ERR_DETAIL_BUSY)                            \
    X(ERR_IO, 503, "storage-unavailable", "Storage unavailable", 1, ERROR, ERR_DETAIL_IO)          \
    X(ERR_SHUTTING_DOWN, 503, "shutting-down", "Shutting down", 1, NONE, ERR_DETAIL_STOPPING)      \
    X(ERR_FULL, 507, "insufficient-storage", "Insufficient storage", 0, ERROR, ERR_DETAIL_FULL)

enum err {
#define ERR_ENUM(name, status, slug, title, retry_after_s, log, default_detail) name,
    ERR_TABLE(ERR_ENUM)
#undef ERR_ENUM
        ERR_COUNT
};

/* How the failure of an error is logged where its answer is built. */
enum err_log_level { ERR_LOG_NONE, ERR_LOG_DEBUG, ERR_LOG_WARN, ERR_LOG_ERROR };

/* HTTP status for an error code (200 for ERR_OK). */
int err_http_status(enum err rc);
/* Stable problem type slug, e.g. "invalid-input". Static storage. */
const char *err_slug(enum err rc);
/* Short human title, e.g. "Invalid input". Static storage. */
const char *err_title(enum err rc);
/* Enum name as text, e.g. "ERR_INVALID_INPUT", for logs. Static storage. */
const char *err_name(enum err rc);
/* Seconds of the answer's Retry-After; 0 when it carries none. */
int err_retry_after_s(enum err rc);
/* How a failure with this code is logged. */
enum err_log_level err_log_level(enum err rc);
/* The generic detail answered instead of the handler's (static storage), or NULL
 * when the handler's detail is the answer's. */
const char *err_default_detail(enum err rc);

#endif
