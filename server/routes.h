/* SPDX-License-Identifier: Apache-2.0 */
/* The route table: every endpoint of the service in one static array. */
#ifndef SERVER_ROUTES_H
#define SERVER_ROUTES_H

#include "api.h"

#include <stdbool.h>
#include <stddef.h>

enum route_flags {
    ROUTE_JSON_BODY = 1,    /* the request carries a JSON body (Content-Length required) */
    ROUTE_PUBLIC = 2,       /* answered without a token even when reads need one */
    ROUTE_WRITE = 4,        /* the handler checks the bearer token and its scope itself */
    ROUTE_HTTP_METRICS = 8, /* the request carries the server's HTTP metrics (server_metrics) */
    ROUTE_BARE_MODEL = 16,  /* the first {} is a model id without a namespace: the handler
                             * sees the namespace "" before it, as on a {}/{} route */
};

struct route {
    const char *method;
    const char *pattern; /* segments; "{}" matches one non-empty segment */
    api_handler_fn handler;
    unsigned flags;
};

struct route_match {
    const struct route *route; /* NULL: no route for this method */
    bool path_known;           /* some route has this path (405 rather than 404) */
    char allow[128];           /* methods allowed on this path, for Allow */
    size_t n_params;
    const char *params[API_MAX_PATH_PARAMS]; /* point into the caller's path copy */
};

/* Matches method and path. path is modified in place (segments are cut at '/'),
 * so pass a copy; params point into it. HEAD matches GET routes. */
void route_find(const char *method, char *path, struct route_match *out);

/* The known route pattern closest to path (for a helpful 404), or NULL. */
const char *route_suggest(const char *path);

/* Decodes a request body as the service does: empty, nested deeper than 32 levels,
 * not JSON or holding duplicate keys is 400; a number no 64-bit figure can hold is
 * 422; ERR_NO_MEMORY when memory runs out, rather than a document the client did
 * not send. *out is a new reference on success. */
enum err route_decode_body(const char *text, size_t len, json_t **out, struct api_problem *problem);

/* The part of a request that needs no database: decodes the body (for JSON-body
 * routes; *body is a new reference or NULL) and refuses credentials in the query
 * string. On failure *body is NULL and problem says why. */
enum err route_prepare(const struct route_match *match, const struct api_request *req,
                       const char *body_text, size_t body_len, json_t **body,
                       struct api_problem *problem);

/* The rest, on a prepared request: applies the read gate, calls the handler with the
 * borrowed body, and renders a problem on failure. May run more than once. */
void route_run(struct api_service *service, const struct route_match *match,
               struct api_request *req, const json_t *body, struct api_reply *reply);

/* Runs a matched route on a fully read request: route_prepare then route_run.
 * reply is the caller's (initialised). */
void route_dispatch(struct api_service *service, const struct route_match *match,
                    struct api_request *req, const char *body, size_t body_len,
                    struct api_reply *reply);

#endif
