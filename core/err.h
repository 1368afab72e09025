/* The one error type of carbontree. Every fallible function in core, db and api
 * returns an enum err; ERR_OK is 0. The table below is the only place an error is
 * defined: its HTTP status, its stable problem type slug and its title. */
#ifndef CORE_ERR_H
#define CORE_ERR_H

/* X(name, http_status, type_slug, title) */
#define ERR_TABLE(X)                                                                               \
    X(ERR_OK, 200, "ok", "OK")                                                                     \
    X(ERR_MALFORMED_JSON, 400, "malformed-json", "Malformed JSON")                                 \
    X(ERR_BAD_REQUEST, 400, "bad-request", "Bad request")                                          \
    X(ERR_UNAUTHORIZED, 401, "unauthorized", "Authentication required")                            \
    X(ERR_FORBIDDEN, 403, "forbidden", "Forbidden")                                                \
    X(ERR_NOT_FOUND, 404, "not-found", "Not found")                                                \
    X(ERR_METHOD_NOT_ALLOWED, 405, "method-not-allowed", "Method not allowed")                     \
    X(ERR_NOT_ACCEPTABLE, 406, "not-acceptable", "Not acceptable")                                 \
    X(ERR_CONFLICT, 409, "conflict", "Conflict")                                                   \
    X(ERR_LENGTH_REQUIRED, 411, "length-required", "Length required")                              \
    X(ERR_PRECONDITION_FAILED, 412, "precondition-failed", "Precondition failed")                  \
    X(ERR_PAYLOAD_TOO_LARGE, 413, "payload-too-large", "Payload too large")                        \
    X(ERR_UNSUPPORTED_MEDIA, 415, "unsupported-media-type", "Unsupported media type")              \
    X(ERR_INVALID_INPUT, 422, "invalid-input", "Invalid input")                                    \
    X(ERR_COUNT_OVERFLOW, 422, "invalid-input", "Invalid input")                                   \
    X(ERR_RATE_LIMITED, 429, "rate-limited", "Too many requests")                                  \
    X(ERR_INTERNAL, 500, "internal", "Internal server error")                                      \
    X(ERR_NO_MEMORY, 500, "internal", "Internal server error")                                     \
    X(ERR_DB, 500, "internal", "Internal server error")                                            \
    X(ERR_BUSY, 503, "busy", "Service busy")                                                       \
    X(ERR_IO, 503, "storage-unavailable", "Storage unavailable")                                   \
    X(ERR_SHUTTING_DOWN, 503, "shutting-down", "Shutting down")                                    \
    X(ERR_FULL, 507, "insufficient-storage", "Insufficient storage")

enum err {
#define ERR_ENUM(name, status, slug, title) name,
    ERR_TABLE(ERR_ENUM)
#undef ERR_ENUM
        ERR_COUNT
};

/* HTTP status for an error code (200 for ERR_OK). */
int err_http_status(enum err rc);
/* Stable problem type slug, e.g. "invalid-input". Static storage. */
const char *err_slug(enum err rc);
/* Short human title, e.g. "Invalid input". Static storage. */
const char *err_title(enum err rc);
/* Enum name as text, e.g. "ERR_INVALID_INPUT", for logs. Static storage. */
const char *err_name(enum err rc);

#endif
