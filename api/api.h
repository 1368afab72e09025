/* SPDX-License-Identifier: Apache-2.0 */
/* The api layer: turns HTTP-shaped requests into domain calls and back. Owns
 * jansson, validation, the choice of status code and RFC 9457 problems. Knows
 * nothing of libmicrohttpd and holds no SQL. */
#ifndef API_API_H
#define API_API_H

#include "err.h"
#include "model.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define API_MAX_PATH_PARAMS 4
#define API_MAX_QUERY       32
#define API_MAX_HEADERS     8
#define API_MAX_ERRORS      16

struct api_service;
struct api_group;
struct db; /* one database connection (db/db.h); the server only passes it on */

/* Service-wide settings the handlers need. */
struct api_config {
    const char *db_path;
    int busy_timeout_ms;
    size_t body_max_bytes;
    int64_t max_page_count; /* 0: unlimited (tests use it to simulate a full disk) */
    bool auto_migrate;
    const char *admin_token; /* seeds the first admin token of a database without one */
    double write_rate_per_s; /* per-token write rate limit; 0: none */
    double write_burst;      /* writes a token may make at once before the rate applies */
    bool is_read_auth;       /* reads need a token too */
    /* GET /metrics: how many models, and families, get series of their own */
    size_t metrics_max_models;
    /* a quantization's or an adapter's card figure that repeats an ancestor's is
     * counted again (by default it is flagged and not counted) */
    bool count_copied_emissions;
    /* bytes the cache of rendered answers keeps at most (0: no cache) */
    size_t cache_bytes;
    const char *version; /* the build's version, for carbontree_build_info */
};

struct api_query_param {
    const char *key;
    const char *value; /* may be NULL for a bare key */
};

/* What a write keeps from one run to the next. The writer runs a request again,
 * alone, when the group it ran in could not commit; the database forgets the first
 * run, this does not, so the second run repeats nothing the first did outside the
 * database. The server keeps one per write request, zeroed before the first run. */
struct api_write_state {
    bool is_rate_charged; /* a run took this write from its token's rate budget */
};

/* One request, as the server hands it over. Every pointer is borrowed and lives
 * until the handler returns. */
struct api_request {
    const char *method;
    const char *path;
    const char *request_id;
    const char *params[API_MAX_PATH_PARAMS]; /* path parameters in pattern order */
    size_t n_params;
    struct api_query_param query[API_MAX_QUERY];
    size_t n_query;
    const json_t *body; /* parsed JSON body, or NULL */
    const char *accept;
    const char *if_match;
    const char *if_none_match;
    const char *idempotency_key;
    const char *authorization;
    unsigned n_authorization; /* Authorization headers received (more than one is refused) */
    /* The connection the handler reads and writes through: the writer thread's for
     * writes, the HTTP thread's for reads (api_service_connection). Never NULL. */
    struct db *db;
    struct api_group *group; /* the group commit this run of a write is part of, or NULL */
    struct api_write_state *write_state; /* NULL: the request runs once */
    /* GET /metrics: exposition text of metrics the server keeps itself (its HTTP
     * counters: whole metric families, HELP and TYPE lines included), added to the
     * answer after the build's; NULL when there is none. */
    const char *server_metrics;
    size_t server_metrics_len;
};

struct api_header {
    const char *name; /* static storage */
    char value[512];
};

struct api_field_problem {
    char pointer[128]; /* JSON pointer into the request body, or a query parameter name */
    char message[256];
};

/* Details of a failure, filled by the handler beside its enum err. */
struct api_problem {
    char detail[512];
    size_t n_errors;
    struct api_field_problem errors[API_MAX_ERRORS];
    int retry_after_s; /* Retry-After wanted, when longer than the error's own (err.h) */
};

/* A body answered a part at a time, as the client takes it, so that its size is
 * not bounded by memory. next runs on the thread sending the answer, with that
 * thread's connection db, and holds nothing in the database between calls: it
 * sets *out to the next part (malloc'd, the caller frees it; may be empty) and
 * *is_done after the last. A failure after the first part cuts the answer short.
 * free releases the stream, however far it got. */
struct api_stream {
    enum err (*next)(struct api_stream *stream, struct db *db, char **out, size_t *out_len,
                     bool *is_done);
    void (*free)(struct api_stream *stream);
};

/* What a handler answers. Exactly one of json, raw and stream is set on success. */
struct api_reply {
    int status;
    json_t *json; /* new reference; the server serialises and releases it */
    char *raw;    /* malloc'd bytes for non-JSON bodies; the server frees it */
    size_t raw_len;
    struct api_stream *stream; /* a streamed body; the server takes and frees it */
    const char *content_type;  /* for raw and stream; static storage */
    struct api_header headers[API_MAX_HEADERS];
    size_t n_headers;
    struct api_problem problem;
};

typedef enum err (*api_handler_fn)(struct api_service *service, const struct api_request *req,
                                   struct api_reply *reply);

/* Opens the database pool (migrating when asked) and returns the service. On
 * failure writes a one-line reason to why. The caller owns *out. */
enum err api_service_create(const struct api_config *config, struct api_service **out, char *why,
                            size_t why_len);
void api_service_destroy(struct api_service *service);

/* The calling thread's connection to the service's database, opened on its first
 * call on that thread; the service owns it and closes it in api_service_destroy.
 * The server takes one per HTTP thread for reads and one on the writer thread for
 * writes, and hands it to handlers in api_request.db. ERR_BUSY when every
 * connection the service may open is taken, ERR_IO or ERR_DB when it cannot be
 * opened. */
enum err api_service_connection(struct api_service *service, struct db **out);

/* Called now and then with the writer's connection, on the writer's thread: when
 * another connection (another process: carbontree import, migrate) committed since
 * the last call, or at the first call, no cached answer is served again, since what
 * such a commit changed is not known here. */
void api_service_watch_others(struct api_service *service, struct db *db);

/* Runs the migrations on the configured database (the `migrate` command). */
enum err api_migrate(const struct api_config *config, int *from, int *to, char *why,
                     size_t why_len);

/* Reply helpers. api_reply_header copies value; at most API_MAX_HEADERS. */
void api_reply_init(struct api_reply *reply);
void api_reply_cleanup(struct api_reply *reply);
void api_reply_header(struct api_reply *reply, const char *name, const char *value);
/* Value of a header the handler set, or NULL. */
const char *api_reply_header_get(const struct api_reply *reply, const char *name);

/* Query helpers: the first value of key, or NULL. */
const char *api_query_get(const struct api_request *req, const char *key);

/* Records a field problem (pointer and printf-style message) and returns
 * ERR_INVALID_INPUT, so validators can `return api_field_error(...)`. */
enum err api_field_error(struct api_problem *problem, const char *pointer, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets the detail line of a problem (printf-style) and returns rc. */
enum err api_fail(struct api_problem *problem, enum err rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Turns an error into the problem+json body of reply (RFC 9457: type, title,
 * status, detail, instance, errors[]), logs it, and sets Retry-After where it
 * applies. The only place problem bodies are built. */
void api_problem_render(enum err rc, const struct api_request *req, struct api_reply *reply);

/* ---- handlers (one file per resource) ---- */
enum err api_health_get(struct api_service *s, const struct api_request *req,
                        struct api_reply *reply);
enum err api_ready_get(struct api_service *s, const struct api_request *req,
                       struct api_reply *reply);
enum err api_openapi_get(struct api_service *s, const struct api_request *req,
                         struct api_reply *reply);
enum err api_models_post(struct api_service *s, const struct api_request *req,
                         struct api_reply *reply);
enum err api_models_list(struct api_service *s, const struct api_request *req,
                         struct api_reply *reply);
enum err api_models_get(struct api_service *s, const struct api_request *req,
                        struct api_reply *reply);
/* PUT /v1/models/{namespace}/{name}: registers the model or brings it in line with
 * the body (a Hub card or a POST body): 201 created, 200 updated or unchanged. */
enum err api_models_put(struct api_service *s, const struct api_request *req,
                        struct api_reply *reply);
enum err api_models_patch(struct api_service *s, const struct api_request *req,
                          struct api_reply *reply);
enum err api_models_delete(struct api_service *s, const struct api_request *req,
                           struct api_reply *reply);
enum err api_inferences_post(struct api_service *s, const struct api_request *req,
                             struct api_reply *reply);
enum err api_inferences_get(struct api_service *s, const struct api_request *req,
                            struct api_reply *reply);
enum err api_counters_put(struct api_service *s, const struct api_request *req,
                          struct api_reply *reply);
enum err api_inference_reports_post(struct api_service *s, const struct api_request *req,
                                    struct api_reply *reply);
enum err api_footprint_get(struct api_service *s, const struct api_request *req,
                           struct api_reply *reply);
enum err api_ancestors_get(struct api_service *s, const struct api_request *req,
                           struct api_reply *reply);
enum err api_family_get(struct api_service *s, const struct api_request *req,
                        struct api_reply *reply);
enum err api_compare_post(struct api_service *s, const struct api_request *req,
                          struct api_reply *reply);
enum err api_badge_get(struct api_service *s, const struct api_request *req,
                       struct api_reply *reply);
enum err api_explorer_get(struct api_service *s, const struct api_request *req,
                          struct api_reply *reply);
enum err api_explorer_asset_get(struct api_service *s, const struct api_request *req,
                                struct api_reply *reply);
enum err api_activities_post(struct api_service *s, const struct api_request *req,
                             struct api_reply *reply);
enum err api_activities_list(struct api_service *s, const struct api_request *req,
                             struct api_reply *reply);
enum err api_activities_delete(struct api_service *s, const struct api_request *req,
                               struct api_reply *reply);
enum err api_totals_get(struct api_service *s, const struct api_request *req,
                        struct api_reply *reply);
enum err api_families_list(struct api_service *s, const struct api_request *req,
                           struct api_reply *reply);
enum err api_series_get(struct api_service *s, const struct api_request *req,
                        struct api_reply *reply);

/* ---- GET /metrics (api/api_metrics.c) ---- */

enum err api_metrics_get(struct api_service *s, const struct api_request *req,
                         struct api_reply *reply);

/* ---- estimates and reference data (api/estimates.c, api/reference.c) ---- */
enum err api_estimates_post(struct api_service *s, const struct api_request *req,
                            struct api_reply *reply);
enum err api_hardware_list(struct api_service *s, const struct api_request *req,
                           struct api_reply *reply);
enum err api_regions_list(struct api_service *s, const struct api_request *req,
                          struct api_reply *reply);
enum err api_methodology_get(struct api_service *s, const struct api_request *req,
                             struct api_reply *reply);
enum err api_tokens_post(struct api_service *s, const struct api_request *req,
                         struct api_reply *reply);
enum err api_tokens_list(struct api_service *s, const struct api_request *req,
                         struct api_reply *reply);
enum err api_tokens_delete(struct api_service *s, const struct api_request *req,
                           struct api_reply *reply);

/* The `carbontree token` command. create prints the new token on out (once); the
 * others print to out. On failure why says what went wrong. */
enum err api_cli_token_create(const struct api_config *config, const char *name,
                              const char *scopes_csv, const char *namespaces_csv, FILE *out,
                              char *why, size_t why_len);
enum err api_cli_token_list(const struct api_config *config, FILE *out, char *why, size_t why_len);
enum err api_cli_token_revoke(const struct api_config *config, const char *id_text, char *why,
                              size_t why_len);

/* ---- bulk import (api/api_import.c) ---- */

struct api_import_summary {
    int64_t line_number; /* lines read, blank ones included */
    int64_t n_lines;     /* non-blank lines */
    int64_t n_imported;  /* created + updated + unchanged */
    int64_t n_created;   /* new models, placeholders completed included */
    int64_t n_updated;   /* registered models whose line said something new */
    int64_t n_unchanged; /* registered models whose line said the same again */
    int64_t n_refused;
    int64_t n_flagged; /* flags raised on the figures of stored lines */
    double seconds;
};

/* The `carbontree import` command: reads JSON lines from path, each a POST
 * /v1/models body (or a Hub card, or the Hub's model-info JSON with cardData) plus
 * optional "activities" (ActivityInput array) and "inferences" (a count, counted
 * today); a file that begins with '[' is one JSON array of such objects; a folder
 * holds model cards as <namespace>/<name>/README.md with YAML front matter. The
 * models are stored in the configured
 * database (created and migrated when needed), committing every batch_lines lines
 * (0: 50,000). A line naming a registered model brings it in line with the line
 * (api_card_store with sync): the same line again changes nothing. A Hub card's
 * parents that are not registered yet become placeholders; a line in carbontree's
 * own form must name registered parents (earlier in the file or before). A refused
 * line is written to report as "line N: reason" and skipped. progress (may be
 * NULL) gets a progress bar. *out is filled in every case. ERR_IO when path cannot
 * be read; storage failures (why says which) stop the run, losing the lines since
 * the last commit. */
enum err api_cli_import(const struct api_config *config, const char *path, size_t batch_lines,
                        FILE *report, FILE *progress, struct api_import_summary *out, char *why,
                        size_t why_len);

/* When reads need a token: 401 unless the request carries a valid one. */
enum err api_read_gate(struct api_service *s, const struct api_request *req,
                       struct api_reply *reply);

/* ---- group commit (api/group.c) ---- */

/* The fold of pending inference deltas (db_fold), for the writer thread: how many
 * deltas are pending (one per model and day), and a fold of everything pending,
 * limit deltas per transaction (0: all in one), on the writer's connection db.
 * *folded (may be NULL) receives the deltas folded. */
enum err api_fold_pending(struct db *db, int64_t *rows);
enum err api_fold(struct db *db, size_t limit, int64_t *folded);

/* Runs many write requests in one transaction on one connection: api_group_begin,
 * then the handlers, each with the group in api_request.group (each write of theirs
 * becomes a savepoint of the group), then api_group_commit, which commits once and
 * only then reports the changes the handlers made (api_changes_report holds them
 * back meanwhile). After a failed commit, or api_group_rollback, none of the group's
 * writes or changes stand: the caller runs each request again on its own.
 * api_group_is_intact is false once a storage failure has ended the transaction.
 * *out is the caller's until api_group_commit or api_group_rollback frees it. */
enum err api_group_begin(struct api_service *s, struct db *db, struct api_group **out);
bool api_group_is_intact(const struct api_group *group);
enum err api_group_commit(struct api_group *group, size_t n_writes);
void api_group_rollback(struct api_group *group);

/* ---- what writes changed (api/changes.c) ---- */

enum api_change_kind {
    API_CHANGE_MODEL_ADDED,
    API_CHANGE_MODEL_UPDATED, /* metadata, lineage or inference profile */
    API_CHANGE_MODEL_DELETED,
    API_CHANGE_ACTIVITY_ADDED,
    API_CHANGE_ACTIVITY_DELETED,
    API_CHANGE_INFERENCES, /* delta: the inferences counted */
    API_CHANGE_KIND_COUNT
};

struct api_change_totals {
    uint64_t events[API_CHANGE_KIND_COUNT];
    uint64_t inferences;
};

/* Reads len bytes of text as one JSON value (json_loadb with flags) that is surely
 * the text's: jansson 2.14's lexer drops a character it has no memory to keep and
 * reads on, so a value is kept only when a second reading agrees with it; and
 * since it reports an allocation that failed as a syntax error, a text is called
 * malformed only when a second reading fails the same way. ERR_OK: *out is a new
 * reference. ERR_MALFORMED_JSON: *out is NULL and error says why (its code too:
 * json_error_code). ERR_NO_MEMORY: *out is NULL. */
enum err api_json_decode(const char *text, size_t len, size_t flags, json_t **out,
                         json_error_t *error);

/* Makes jansson allocate through core_malloc (so the fault sweep reaches it), and
 * keeps any allocation inside a reading of api_json_decode or api_json_loadb from
 * failing part way: jansson 2.14's lexer overruns a string whose buffer could not
 * grow (api/reply.c says how). Call once, before other threads use jansson. */
void api_json_install_allocator(void);

/* json_dumps, whose failure is always NULL: jansson 2.14's json_dumps can return a
 * string with members missing when an allocation fails part way, where
 * json_dump_callback fails cleanly. Free the result with free(). */
char *api_json_dumps(const json_t *json, size_t flags);

/* Called by every write path after its commit; thread-safe. Inside a group
 * (req->group) the report waits for the group's commit. */
void api_changes_report(struct api_service *s, const struct api_request *req,
                        enum api_change_kind kind, int64_t delta);
/* Totals since start. */
void api_changes_totals(struct api_service *s, struct api_change_totals *out);
const char *api_change_kind_name(enum api_change_kind kind);

#endif
