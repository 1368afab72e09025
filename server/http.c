/* SPDX-License-Identifier: Apache-2.0 */
/* libmicrohttpd glue. The request flow (HACKING.md walks through it):
 * 0. the request line is read: allocate the request context, note the target's length;
 * 1. first call: refuse a target or header block over carbontree's limits (414 / 431),
 *    match the route (404 / 405 with Allow), decide 411 / 413 / 415 from the headers
 *    before any body is read;
 * 2. body chunks: append to a bounded buffer;
 * 3. final call: parse the JSON once (duplicates rejected), call the handler;
 * 4. queue the reply; the completion callback logs the access line and frees all. */
/* accept4 and pipe2: a descriptor is non-blocking and close-on-exec from its birth. */
#define _GNU_SOURCE
#include "http.h"

#include "alloc.h"
#include "buf.h"
#include "cors.h"
#include "http_metrics.h"
#include "log.h"
#include "routes.h"
#include "writer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* carbontree's own limits on the request line and headers, below libmicrohttpd's
 * (the connection memory, --connection-memory, default 32768 bytes, holds both and
 * more). Within the connection memory a request over these is answered here, as a
 * problem with a request id; beyond it libmicrohttpd answers first, with its own
 * page. Generous for any client of this API: the longest route with a query is
 * a few hundred bytes, and a bearer token under a hundred. */
#define HTTP_TARGET_MAX_BYTES  8192  /* the request target: path and query, as sent */
#define HTTP_HEADERS_MAX_BYTES 16384 /* header fields, each counted as "name: value\r\n" */
/* What a streamed answer hands libmicrohttpd at a time. */
#define HTTP_STREAM_BLOCK_BYTES 65536

struct http_server {
    struct MHD_Daemon *daemon;
    /* The listening socket is the server's own, not the library's: the accept
     * thread hands each connection to the daemon, and a stop closes the socket at
     * once, so a load balancer's next connect is refused instead of answered 503. */
    int listen_fd;
    int accept_wake[2]; /* a byte written to [1] stops the accept thread */
    pthread_t acceptor;
    struct api_service *service;
    size_t body_max_bytes;
    uint16_t port;
    atomic_int in_flight;
    atomic_bool is_stopping; /* set by http_stop: new requests get 503 and close */
    atomic_uint_fast64_t next_request;
    uint32_t boot_id;
    struct http_metrics *metrics; /* what GET /metrics tells of HTTP */
    struct cors *cors;            /* NULL: no CORS headers */
    struct writer *writer;        /* runs the write routes, in groups */
};

struct request_ctx {
    struct http_server *server;
    bool is_begun; /* the access handler has seen the request */
    size_t target_len;
    struct timespec started;
    char request_id[40];
    char method[16];
    char *path; /* copy of the URL path, cut into segments by route_find */
    char log_path[160];
    struct route_match match;
    enum err early; /* decided on the first call; ERR_OK when none */
    char early_detail[256];
    struct core_buf body;
    bool body_too_large;
    bool responded;
    bool must_close;    /* answer with Connection: close */
    const char *origin; /* the Origin header, or NULL */
    bool is_preflight;  /* OPTIONS with Access-Control-Request-Method */
    unsigned status;
    size_t bytes_out;
    struct api_request req;
    /* A write waits, suspended, for the writer; then its answer is sent. */
    struct MHD_Connection *conn;
    struct writer_job job;
    json_t *write_body;                 /* the decoded body, kept for a second run */
    struct api_write_state write_state; /* what the first run did that a second keeps */
    char *http_metrics;                 /* GET /metrics: the HTTP metrics text handed to the api */
    struct api_reply *write_reply;
    atomic_bool is_write_done;
};

static double elapsed_ms(const struct timespec *since)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - since->tv_sec) * 1e3 +
           (double)(now.tv_nsec - since->tv_nsec) / 1e6;
}

static bool is_safe_request_id(const char *id)
{
    size_t len = id ? strlen(id) : 0;

    if (len == 0 || len > 36)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct api_request *req = cls;

    (void)kind;
    if (req->n_query == API_MAX_QUERY)
        return MHD_NO;
    req->query[req->n_query].key = key;
    req->query[req->n_query].value = value;
    req->n_query++;
    return MHD_YES;
}

/* Counts the headers that must come at most once, and the header block's size. */
struct header_counts {
    unsigned content_length;
    unsigned authorization;
    size_t block_bytes;
};

static enum MHD_Result count_headers(void *cls, enum MHD_ValueKind kind, const char *key,
                                     size_t key_size, const char *value, size_t value_size)
{
    struct header_counts *n = cls;

    (void)kind;
    (void)value;
    n->block_bytes += key_size + value_size + 4; /* ": " and CRLF */
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
        n->content_length++;
    else if (strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION) == 0)
        n->authorization++;
    return MHD_YES;
}

static const char *header(struct MHD_Connection *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

/* Whether a Content-Type names JSON: application/json or application/<x>+json,
 * optionally with parameters (charset=utf-8 is the only charset JSON has). */
static bool is_json_type(const char *type)
{
    size_t len;
    const char *semi;

    if (type == NULL)
        return false;
    while (*type == ' ')
        type++;
    semi = strchr(type, ';');
    len = semi ? (size_t)(semi - type) : strlen(type);
    while (len > 0 && type[len - 1] == ' ')
        len--;
    if (len == 16 && strncasecmp(type, "application/json", 16) == 0)
        return true;
    if (len > 17 && strncasecmp(type, "application/", 12) == 0 &&
        strncasecmp(type + len - 5, "+json", 5) == 0)
        return true;
    return false;
}

static bool method_has_body(const char *method)
{
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
           strcmp(method, "PATCH") == 0;
}

/* A streamed answer on its way: the part being sent and how far it got. */
struct stream_out {
    struct api_service *service;
    struct api_stream *stream;
    char *part;
    size_t len, sent;
    bool is_done;
};

static void stream_out_free(void *cls)
{
    struct stream_out *so = cls;

    free(so->part);
    so->stream->free(so->stream);
    free(so);
}

/* libmicrohttpd asks for more on the thread that serves the connection: the
 * stream reads through that thread's connection, as the handler did. */
static ssize_t stream_out_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream_out *so = cls;
    size_t n;

    (void)pos; /* parts come in order */
    while (so->sent == so->len) {
        struct db *db = NULL;
        enum err rc;
        if (so->is_done)
            return MHD_CONTENT_READER_END_OF_STREAM;
        free(so->part);
        so->part = NULL;
        so->len = so->sent = 0;
        rc = api_service_connection(so->service, &db);
        if (rc == ERR_OK)
            rc = so->stream->next(so->stream, db, &so->part, &so->len, &so->is_done);
        if (rc != ERR_OK) {
            /* The status line is gone: only cutting the answer short says it failed. */
            log_write(LOG_ERROR, NULL, "a streamed answer failed after its start: %s",
                      err_title(rc));
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
    }
    n = so->len - so->sent < max ? so->len - so->sent : max;
    memcpy(buf, so->part + so->sent, n);
    so->sent += n;
    return (ssize_t)n;
}

char *http_json_text(const json_t *json, size_t flags, size_t *len)
{
    char *text = api_json_dumps(json, flags);
    size_t text_len = text ? strlen(text) : 0;
    char *grown;

    *len = 0;
    if (text == NULL)
        return NULL;
    if (text_len == 0 || text[text_len - 1] == '\n') {
        *len = text_len;
        return text;
    }
    grown = core_realloc(text, text_len + 2);
    if (grown == NULL) {
        free(text);
        return NULL;
    }
    grown[text_len++] = '\n';
    grown[text_len] = '\0';
    *len = text_len;
    return grown;
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, struct request_ctx *ctx,
                                  struct api_reply *reply)
{
    struct MHD_Response *response;
    const char *content_type = reply->content_type;
    const char *pretty = api_query_get(&ctx->req, "pretty");
    char *text = NULL;
    size_t text_len = 0;
    bool is_stream = false, is_fallback = false;
    enum MHD_Result ret;

    if (reply->json != NULL) {
        size_t flags = JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(15);
        if (pretty && strcmp(pretty, "0") != 0 && strcmp(pretty, "false") != 0)
            flags = JSON_INDENT(2) | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(15);
        text = http_json_text(reply->json, flags, &text_len);
        if (text == NULL)
            reply->status = 500;
        if (content_type == NULL)
            content_type = "application/json";
    } else if (reply->raw != NULL) {
        text = reply->raw;
        text_len = reply->raw_len;
        reply->raw = NULL;
    }
    if (reply->json == NULL && reply->raw == NULL && reply->stream != NULL) {
        struct stream_out *so = calloc(1, sizeof *so);
        if (so == NULL)
            return MHD_NO;
        so->service = ctx->server->service;
        so->stream = reply->stream;
        reply->stream = NULL;
        response = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, HTTP_STREAM_BLOCK_BYTES,
                                                     stream_out_read, so, stream_out_free);
        if (response == NULL) {
            stream_out_free(so);
            return MHD_NO;
        }
        is_stream = true;
    } else if (text == NULL && reply->status >= 400) {
        /* No memory for the answer, or for its problem: the fixed minimum of RFC 9457,
         * which needs none. */
        static char fallback[] = "{\"type\":\"https://carbontree.dev/problems/internal\","
                                 "\"title\":\"Internal server error\",\"status\":500}\n";
        reply->status = 500;
        content_type = "application/problem+json";
        response = MHD_create_response_from_buffer(sizeof fallback - 1, (void *)fallback,
                                                   MHD_RESPMEM_PERSISTENT);
        text_len = sizeof fallback - 1;
        is_fallback = true;
    } else if (text == NULL)
        response = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    else
        response = MHD_create_response_from_buffer_with_free_callback(text_len, text, free);
    if (response == NULL) {
        free(text);
        return MHD_NO;
    }
    if (content_type && (text != NULL || text_len > 0 || is_stream))
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(response, "X-Request-Id", ctx->request_id);
    /* While stopping, no connection is kept for another request. */
    if (ctx->must_close || atomic_load(&ctx->server->is_stopping))
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION, "close");
    /* The answer's own headers (its ETag, Location, ...) describe the answer that
     * could not be sent, not the 500 sent instead. */
    for (size_t i = 0; i < reply->n_headers && !is_fallback; i++)
        MHD_add_response_header(response, reply->headers[i].name, reply->headers[i].value);
    cors_add_headers(ctx->server->cors, ctx->origin, ctx->is_preflight, ctx->match.allow, response);
    ctx->status = (unsigned)reply->status;
    ctx->bytes_out = text_len;
    ctx->responded = true;
    ret = MHD_queue_response(conn, (unsigned)reply->status, response);
    MHD_destroy_response(response);
    return ret;
}

/* Answers with a problem decided by the server itself (before any handler ran). */
static enum MHD_Result send_problem(struct MHD_Connection *conn, struct request_ctx *ctx,
                                    enum err rc, const char *detail)
{
    struct api_reply reply;
    enum MHD_Result ret;

    api_reply_init(&reply);
    snprintf(reply.problem.detail, sizeof reply.problem.detail, "%s", detail);
    if (rc == ERR_METHOD_NOT_ALLOWED)
        api_reply_header(&reply, "Allow", ctx->match.allow);
    api_problem_render(rc, &ctx->req, &reply);
    ret = send_reply(conn, ctx, &reply);
    api_reply_cleanup(&reply);
    return ret;
}

/* First call: route and decide everything that needs no body. */
static void begin_request(struct request_ctx *ctx, struct MHD_Connection *conn, const char *url,
                          const char *method)
{
    const char *content_length = header(conn, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *transfer_encoding = header(conn, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    const char *suggestion;

    route_find(method, ctx->path, &ctx->match);
    ctx->req.method = ctx->method;
    ctx->req.path = ctx->log_path;
    ctx->req.request_id = ctx->request_id;
    ctx->req.n_params = ctx->match.n_params;
    memcpy(ctx->req.params, ctx->match.params, sizeof ctx->req.params);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, &ctx->req);
    ctx->req.accept = header(conn, MHD_HTTP_HEADER_ACCEPT);
    ctx->req.if_match = header(conn, MHD_HTTP_HEADER_IF_MATCH);
    ctx->req.if_none_match = header(conn, MHD_HTTP_HEADER_IF_NONE_MATCH);
    ctx->req.idempotency_key = header(conn, "Idempotency-Key");
    ctx->req.authorization = header(conn, MHD_HTTP_HEADER_AUTHORIZATION);
    ctx->origin = header(conn, MHD_HTTP_HEADER_ORIGIN);

    {
        struct header_counts counts = {0};
        MHD_get_connection_values_n(conn, MHD_HEADER_KIND, count_headers, &counts);
        ctx->req.n_authorization = counts.authorization;
        /* Limits first: nothing else of an oversized request is looked at. */
        if (ctx->target_len > HTTP_TARGET_MAX_BYTES) {
            ctx->early = ERR_URI_TOO_LONG;
            snprintf(ctx->early_detail, sizeof ctx->early_detail,
                     "the request target is %zu bytes; at most %d are accepted", ctx->target_len,
                     HTTP_TARGET_MAX_BYTES);
            return;
        }
        if (counts.block_bytes > HTTP_HEADERS_MAX_BYTES) {
            ctx->early = ERR_HEADERS_TOO_LARGE;
            snprintf(ctx->early_detail, sizeof ctx->early_detail,
                     "the header fields are %zu bytes; at most %d are accepted", counts.block_bytes,
                     HTTP_HEADERS_MAX_BYTES);
            return;
        }
        if (atomic_load(&ctx->server->is_stopping)) {
            ctx->early = ERR_SHUTTING_DOWN; /* its detail is the problem type's own */
            return;
        }
        /* Two lengths make the body's end ambiguous (request smuggling behind a
         * proxy that reads the other one): RFC 9112 6.3 says refuse and close. */
        if (counts.content_length > 1) {
            ctx->early = ERR_BAD_REQUEST;
            ctx->must_close = true;
            snprintf(ctx->early_detail, sizeof ctx->early_detail,
                     "the request has %u Content-Length headers; send one", counts.content_length);
            return;
        }
    }
    if (strcmp(method, "OPTIONS") == 0 && ctx->match.path_known) {
        ctx->is_preflight = header(conn, "Access-Control-Request-Method") != NULL;
        return; /* answered in finish_request */
    }
    if (ctx->match.route == NULL) {
        if (ctx->match.path_known) {
            ctx->early = ERR_METHOD_NOT_ALLOWED;
            snprintf(ctx->early_detail, sizeof ctx->early_detail,
                     "%s is not allowed on %s; allowed: %s", method, url, ctx->match.allow);
        } else {
            ctx->early = ERR_NOT_FOUND;
            suggestion = route_suggest(url);
            if (suggestion)
                snprintf(ctx->early_detail, sizeof ctx->early_detail,
                         "no route %s; did you mean %s?", url, suggestion);
            else
                snprintf(ctx->early_detail, sizeof ctx->early_detail,
                         "no route %s; GET /openapi.yaml lists every route", url);
        }
        return;
    }
    if (!(ctx->match.route->flags & ROUTE_JSON_BODY) || !method_has_body(method))
        return;
    if (transfer_encoding != NULL) {
        /* Policy: bodies must declare their length, so the cap is decided before
         * reading; chunked or other transfer codings are refused with 411. */
        ctx->early = ERR_LENGTH_REQUIRED;
        snprintf(ctx->early_detail, sizeof ctx->early_detail,
                 "Transfer-Encoding is not accepted; send the body with a Content-Length");
        return;
    }
    if (content_length == NULL) {
        ctx->early = ERR_LENGTH_REQUIRED;
        snprintf(ctx->early_detail, sizeof ctx->early_detail, "%s needs a Content-Length header",
                 method);
        return;
    }
    {
        char *end = NULL;
        unsigned long long declared;
        errno = 0;
        declared = strtoull(content_length, &end, 10);
        if (errno != 0 || *end != '\0' || declared > ctx->server->body_max_bytes) {
            ctx->early = ERR_PAYLOAD_TOO_LARGE;
            snprintf(ctx->early_detail, sizeof ctx->early_detail,
                     "the body may be at most %zu bytes", ctx->server->body_max_bytes);
            return;
        }
    }
    if (!is_json_type(header(conn, MHD_HTTP_HEADER_CONTENT_TYPE))) {
        ctx->early = ERR_UNSUPPORTED_MEDIA;
        snprintf(ctx->early_detail, sizeof ctx->early_detail,
                 "the body must be JSON: send Content-Type: application/json");
        return;
    }
}

static bool append_body(struct request_ctx *ctx, const char *data, size_t len)
{
    if (ctx->body_too_large)
        return true;
    if (ctx->body.len + len > ctx->server->body_max_bytes) {
        ctx->body_too_large = true;
        return true;
    }
    core_buf_append(&ctx->body, data, len);
    return !ctx->body.failed;
}

static int run_write(void *arg, struct db *db, struct api_group *group)
{
    struct request_ctx *ctx = arg;

    api_reply_cleanup(ctx->write_reply);
    api_reply_init(ctx->write_reply);
    ctx->req.db = db;
    ctx->req.group = group;
    ctx->req.write_state = &ctx->write_state;
    route_run(ctx->server->service, &ctx->match, &ctx->req, ctx->write_body, ctx->write_reply);
    ctx->req.group = NULL;
    return ctx->write_reply->status;
}

static void refuse_write(void *arg, enum err rc)
{
    struct request_ctx *ctx = arg;

    api_reply_cleanup(ctx->write_reply);
    api_reply_init(ctx->write_reply);
    api_problem_render(rc, &ctx->req, ctx->write_reply);
}

static void write_done(void *arg)
{
    struct request_ctx *ctx = arg;

    atomic_store(&ctx->is_write_done, true);
    MHD_resume_connection(ctx->conn);
}

/* Hands a write route to the writer and suspends the connection until its group
 * has committed; the answer goes out when libmicrohttpd calls on_request again. The
 * body is decoded here first: a request refused for its form never reaches the
 * writer. */
static enum MHD_Result queue_write(struct MHD_Connection *conn, struct request_ctx *ctx)
{
    struct api_reply refused;
    enum MHD_Result ret;
    enum err rc;

    api_reply_init(&refused);
    rc = route_prepare(&ctx->match, &ctx->req, ctx->body.data, ctx->body.len, &ctx->write_body,
                       &refused.problem);
    if (rc == ERR_OK) {
        ctx->write_reply = malloc(sizeof *ctx->write_reply);
        rc = ctx->write_reply ? ERR_OK : ERR_NO_MEMORY;
    }
    if (rc != ERR_OK) {
        api_problem_render(rc, &ctx->req, &refused);
        ret = send_reply(conn, ctx, &refused);
        api_reply_cleanup(&refused);
        return ret;
    }
    api_reply_init(ctx->write_reply);
    ctx->conn = conn;
    ctx->job.run = run_write;
    ctx->job.done = write_done;
    ctx->job.refuse = refuse_write;
    ctx->job.arg = ctx;
    MHD_suspend_connection(conn);
    if (!writer_submit(ctx->server->writer, &ctx->job)) {
        /* The writer has stopped (shutdown): the write runs here, on its own, on
         * this thread's connection. */
        struct db *db = NULL;
        rc = api_service_connection(ctx->server->service, &db);
        if (rc == ERR_OK)
            run_write(ctx, db, NULL);
        else
            refuse_write(ctx, rc);
        write_done(ctx);
    }
    return MHD_YES;
}

static enum MHD_Result finish_request(struct MHD_Connection *conn, struct request_ctx *ctx)
{
    struct api_reply reply;
    enum MHD_Result ret;
    enum err rc;

    if (strcmp(ctx->method, "OPTIONS") == 0 && ctx->match.path_known) {
        api_reply_init(&reply);
        reply.status = 204;
        api_reply_header(&reply, "Allow", ctx->match.allow);
        ret = send_reply(conn, ctx, &reply);
        api_reply_cleanup(&reply);
        return ret;
    }
    if (ctx->body_too_large)
        return send_problem(conn, ctx, ERR_PAYLOAD_TOO_LARGE, "the body is larger than allowed");
    if (ctx->write_reply != NULL) {
        if (!atomic_load(&ctx->is_write_done))
            return MHD_YES; /* not resumed by the writer: keep waiting */
        return send_reply(conn, ctx, ctx->write_reply);
    }
    if (ctx->match.route->flags & ROUTE_WRITE && ctx->server->writer != NULL)
        return queue_write(conn, ctx);
    /* Reads run here, on this HTTP thread's own connection. */
    rc = api_service_connection(ctx->server->service, &ctx->req.db);
    if (rc != ERR_OK)
        return send_problem(conn, ctx, rc, "the database is not available");
    if (ctx->match.route->flags & ROUTE_HTTP_METRICS) {
        ctx->http_metrics = http_metrics_render(ctx->server->metrics, &ctx->req.server_metrics_len);
        if (ctx->http_metrics == NULL)
            return send_problem(conn, ctx, ERR_NO_MEMORY, "");
        ctx->req.server_metrics = ctx->http_metrics;
    }
    api_reply_init(&reply);
    route_dispatch(ctx->server->service, &ctx->match, &ctx->req, ctx->body.data, ctx->body.len,
                   &reply);
    ret = send_reply(conn, ctx, &reply);
    api_reply_cleanup(&reply);
    return ret;
}

/* A request context, counted in flight until on_completed frees it. */
static struct request_ctx *ctx_create(struct http_server *server, size_t target_len)
{
    struct request_ctx *ctx = calloc(1, sizeof *ctx);

    if (ctx == NULL)
        return NULL;
    ctx->server = server;
    ctx->target_len = target_len;
    atomic_fetch_add(&server->in_flight, 1);
    clock_gettime(CLOCK_MONOTONIC, &ctx->started);
    return ctx;
}

/* The request line is read, its headers not yet: the context starts here, so that the
 * access handler knows the target's length as sent (it gets only the decoded path). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)conn;
    return ctx_create(cls, strlen(uri));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct http_server *server = cls;
    struct request_ctx *ctx = *req_cls;
    const char *incoming_id;

    (void)version;
    if (ctx == NULL)
        return MHD_NO; /* on_uri could not allocate the context: close */
    if (!ctx->is_begun) {
        ctx->is_begun = true;
        incoming_id = header(conn, "X-Request-Id");
        if (is_safe_request_id(incoming_id))
            snprintf(ctx->request_id, sizeof ctx->request_id, "%s", incoming_id);
        else
            snprintf(ctx->request_id, sizeof ctx->request_id, "%08x%08llx", server->boot_id,
                     (unsigned long long)atomic_fetch_add(&server->next_request, 1));
        snprintf(ctx->method, sizeof ctx->method, "%s", method);
        snprintf(ctx->log_path, sizeof ctx->log_path, "%s", url);
        ctx->path = strdup(url);
        if (ctx->path == NULL)
            return MHD_NO;
        begin_request(ctx, conn, url, method);
        if (ctx->early != ERR_OK)
            return send_problem(conn, ctx, ctx->early, ctx->early_detail);
        return MHD_YES;
    }
    if (ctx->responded) {
        *upload_data_size = 0; /* discard what follows an early answer */
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!append_body(ctx, upload_data, *upload_data_size))
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    return finish_request(conn, ctx);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_server *server = cls;
    struct request_ctx *ctx = *req_cls;
    double ms;

    (void)conn;
    if (ctx == NULL)
        return;
    if (!ctx->is_begun) {
        /* libmicrohttpd answered (or dropped) the request itself: nothing to log. */
        free(ctx);
        *req_cls = NULL;
        atomic_fetch_sub(&server->in_flight, 1);
        return;
    }
    ms = elapsed_ms(&ctx->started);
    http_metrics_observe(server->metrics, ctx->method,
                         ctx->match.route ? ctx->match.route->pattern : NULL,
                         ctx->responded ? ctx->status : 0, ms / 1e3);
    if (log_enabled(LOG_INFO))
        log_write(LOG_INFO, ctx->request_id, "%s %s %u %zu %.3fms%s", ctx->method, ctx->log_path,
                  ctx->responded ? ctx->status : 0, ctx->bytes_out, ms,
                  toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted");
    if (ctx->write_reply != NULL) {
        api_reply_cleanup(ctx->write_reply);
        free(ctx->write_reply);
    }
    json_decref(ctx->write_body);
    free(ctx->http_metrics);
    core_buf_cleanup(&ctx->body);
    free(ctx->path);
    free(ctx);
    *req_cls = NULL;
    atomic_fetch_sub(&server->in_flight, 1);
}

/* libmicrohttpd's messages: fmt is the library's printf format. */
__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char message[512];
    size_t len;

    (void)cls;
    vsnprintf(message, sizeof message, fmt, ap);
    len = strlen(message);
    while (len > 0 && message[len - 1] == '\n')
        message[--len] = '\0';
    log_write(LOG_WARN, NULL, "http: %s", message);
}

enum { LISTEN_BACKLOG = 1024 };

/* Binds and listens; returns the socket or -1 with errno set. */
static int open_listener(const struct sockaddr_storage *addr, bool is_ipv6)
{
    int one = 1;
    int fd = socket(is_ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (const struct sockaddr *)addr,
             is_ipv6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) != 0 ||
        listen(fd, LISTEN_BACKLOG) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* Accepts until told to stop, handing each connection to the daemon, which then
 * owns it (and closes it when it cannot take it: connection or per-IP limit). */
static void *accept_run(void *cls)
{
    struct http_server *server = cls;
    struct pollfd fds[2] = {{.fd = server->listen_fd, .events = POLLIN},
                            {.fd = server->accept_wake[0], .events = POLLIN}};
    int pause_ms = -1;

    for (;;) {
        if (poll(fds, 2, pause_ms) < 0 && errno != EINTR)
            break;
        if (fds[1].revents)
            break;
        pause_ms = -1;
        for (;;) {
            struct sockaddr_storage peer;
            socklen_t peer_len = sizeof peer;
            int fd = accept4(server->listen_fd, (struct sockaddr *)&peer, &peer_len,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                /* Out of descriptors: the pending connections wait in the backlog
                 * while a few close, rather than spinning on a socket that stays
                 * readable. */
                if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                    pause_ms = 50;
                break;
            }
            if (MHD_add_connection(server->daemon, fd, (const struct sockaddr *)&peer, peer_len) !=
                MHD_YES)
                log_write(LOG_WARN, NULL, "http: a connection was refused (%s)", strerror(errno));
        }
        if (pause_ms > 0)
            fds[0].events = 0; /* sleep out the pause instead of polling the full backlog */
        else
            fds[0].events = POLLIN;
    }
    return NULL;
}

/* Closes the listening socket: from here a connect is refused by the kernel. */
static void stop_accepting(struct http_server *server)
{
    if (server->listen_fd < 0)
        return;
    while (write(server->accept_wake[1], "", 1) < 0 && errno == EINTR)
        ;
    pthread_join(server->acceptor, NULL);
    close(server->listen_fd);
    close(server->accept_wake[0]);
    close(server->accept_wake[1]);
    server->listen_fd = -1;
}

static bool parse_listen(const char *addr, unsigned port, struct sockaddr_storage *out,
                         bool *is_ipv6)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;

    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *is_ipv6 = false;
        return true;
    }
    if (inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *is_ipv6 = true;
        return true;
    }
    return false;
}

enum err http_start(const struct config *cfg, struct api_service *service, struct http_server **out,
                    char *why, size_t why_len)
{
    struct http_server *server;
    struct sockaddr_storage addr;
    bool is_ipv6 = false;
    unsigned flags;

    if (!parse_listen(cfg->listen_addr, cfg->port, &addr, &is_ipv6)) {
        snprintf(why, why_len, "listen address '%s' is not an IP address", cfg->listen_addr);
        return ERR_BAD_REQUEST;
    }
    server = calloc(1, sizeof *server);
    if (server == NULL)
        return ERR_NO_MEMORY;
    server->service = service;
    server->body_max_bytes = cfg->body_max_bytes;
    if (cors_create(cfg->cors_origins, &server->cors, why, why_len) != ERR_OK) {
        free(server);
        return ERR_INVALID_INPUT;
    }
    server->metrics = http_metrics_create();
    if (server->metrics == NULL) {
        cors_destroy(server->cors);
        free(server);
        return ERR_NO_MEMORY;
    }
    if (writer_start_folding(service, cfg->write_batch_max,
                             &(struct writer_fold){cfg->fold_interval_ms, cfg->fold_threshold},
                             &server->writer) != ERR_OK) {
        snprintf(why, why_len, "cannot start the writer thread");
        http_metrics_destroy(server->metrics);
        cors_destroy(server->cors);
        free(server);
        return ERR_NO_MEMORY;
    }
    if (getrandom(&server->boot_id, sizeof server->boot_id, 0) != sizeof server->boot_id)
        server->boot_id = (uint32_t)time(NULL) ^ (uint32_t)getpid();
    /* Thread pool on epoll: each worker thread gets its own database connection
     * (api_service_connection, opened on its first read); the writer thread has its own. ITC wakes
     * a worker when the writer resumes one of its connections. */
    server->listen_fd = open_listener(&addr, is_ipv6);
    if (server->listen_fd < 0) {
        snprintf(why, why_len, "cannot listen on %s port %u: %s", cfg->listen_addr, cfg->port,
                 strerror(errno));
        writer_stop(server->writer);
        http_metrics_destroy(server->metrics);
        cors_destroy(server->cors);
        free(server);
        return ERR_IO;
    }
    flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG |
            MHD_ALLOW_SUSPEND_RESUME | MHD_USE_NO_LISTEN_SOCKET;
    server->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, server, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_THREAD_POOL_SIZE, cfg->threads, MHD_OPTION_CONNECTION_LIMIT,
        cfg->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->per_ip_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->connection_memory_bytes,
        MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_NOTIFY_COMPLETED, on_completed, server,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, server, MHD_OPTION_END);
    if (server->daemon == NULL || pipe2(server->accept_wake, O_CLOEXEC) != 0) {
        snprintf(why, why_len, "cannot start the HTTP daemon on %s port %u", cfg->listen_addr,
                 cfg->port);
        if (server->daemon)
            MHD_stop_daemon(server->daemon);
        close(server->listen_fd);
        writer_stop(server->writer);
        http_metrics_destroy(server->metrics);
        cors_destroy(server->cors);
        free(server);
        return ERR_IO;
    }
    if (pthread_create(&server->acceptor, NULL, accept_run, server) != 0) {
        snprintf(why, why_len, "cannot start the accept thread");
        MHD_stop_daemon(server->daemon);
        close(server->listen_fd);
        close(server->accept_wake[0]);
        close(server->accept_wake[1]);
        writer_stop(server->writer);
        http_metrics_destroy(server->metrics);
        cors_destroy(server->cors);
        free(server);
        return ERR_NO_MEMORY;
    }
    {
        struct sockaddr_storage bound;
        socklen_t bound_len = sizeof bound;
        server->port = (uint16_t)cfg->port;
        if (getsockname(server->listen_fd, (struct sockaddr *)&bound, &bound_len) == 0)
            server->port =
                ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                  : ((struct sockaddr_in *)&bound)->sin_port);
    }
    *out = server;
    return ERR_OK;
}

uint16_t http_port(const struct http_server *server)
{
    return server->port;
}

bool http_stop(struct http_server *server, unsigned grace_ms)
{
    struct timespec start;
    bool idle;

    /* New connections are refused from here (the listening socket is closed, not
     * handed to MHD_quiesce_daemon, whose removal of it from each HTTP thread's
     * epoll set races with those threads and aborts the process). A new request on
     * a connection kept alive from before is answered 503 with Connection: close:
     * a write acknowledged now could outlive the writer. */
    clock_gettime(CLOCK_MONOTONIC, &start);
    stop_accepting(server);
    atomic_store(&server->is_stopping, true);
    while (atomic_load(&server->in_flight) > 0 && elapsed_ms(&start) < (double)grace_ms) {
        struct timespec pause = {0, 5 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    idle = atomic_load(&server->in_flight) == 0;
    /* Writes still queued run and answer first: the daemon must not close a
     * connection the writer still holds. Later writes run on their own thread. */
    writer_stop(server->writer);
    MHD_stop_daemon(server->daemon);
    http_metrics_destroy(server->metrics);
    cors_destroy(server->cors);
    free(server);
    return idle;
}
