/* SPDX-License-Identifier: Apache-2.0 */
/* What happens once a request's body is in: decode the JSON once, refuse credentials
 * in the query string, apply the read gate, call the route's handler, and turn a
 * failure into its problem. Shared by the daemon and the fuzzers, so both run the
 * same code. */
#include "routes.h"

#include <stdbool.h>
#include <string.h>

#define MAX_JSON_DEPTH 32 /* nesting deeper than this is refused before parsing */

static bool method_has_body(const char *method)
{
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
           strcmp(method, "PATCH") == 0;
}

/* Deepest nesting of arrays and objects in a JSON text, counted without parsing
 * (strings are skipped), so a hostile document cannot exhaust the parser's stack. */
static int json_depth(const char *text, size_t len)
{
    int depth = 0, deepest = 0;
    bool in_string = false;

    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > deepest)
                deepest = depth;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return deepest;
}

enum err route_decode_body(const char *text, size_t len, json_t **out, struct api_problem *problem)
{
    json_error_t error;
    enum err rc;

    *out = NULL;
    if (len == 0)
        return api_fail(problem, ERR_MALFORMED_JSON, "the request body is empty");
    if (json_depth(text, len) > MAX_JSON_DEPTH)
        return api_fail(problem, ERR_MALFORMED_JSON, "the JSON is nested deeper than %d levels",
                        MAX_JSON_DEPTH);
    /* Not json_loadb alone: under a shortage of memory it can read a document the
     * client did not send, or call a valid one malformed. */
    rc = api_json_decode(text, len, JSON_REJECT_DUPLICATES, out, &error);
    if (rc != ERR_MALFORMED_JSON)
        return rc;
    if (json_error_code(&error) == json_error_numeric_overflow) {
        /* Well-formed JSON whose number no 64-bit figure can hold: a meaning problem
         * (422), not a syntax one. The parser cannot say which member held it, so the
         * pointer names the whole document. */
        api_field_error(problem, "", "a number is beyond 64 bits");
        return api_fail(problem, ERR_INVALID_INPUT,
                        "a number in the body is beyond 64 bits (line %d, column %d); "
                        "whole numbers may be at most 9223372036854775807",
                        error.line, error.column);
    }
    return api_fail(problem, ERR_MALFORMED_JSON,
                    "the body is not valid JSON: %s (line %d, column %d)", error.text, error.line,
                    error.column);
}

enum err route_prepare(const struct route_match *match, const struct api_request *req,
                       const char *body_text, size_t body_len, json_t **body,
                       struct api_problem *problem)
{
    *body = NULL;
    if (match->route->flags & ROUTE_JSON_BODY && method_has_body(req->method)) {
        enum err rc = route_decode_body(body_text, body_len, body, problem);
        if (rc != ERR_OK)
            return rc;
    }
    /* Credentials never travel in URLs (they end up in logs and histories). */
    if (api_query_get(req, "access_token") != NULL || api_query_get(req, "token") != NULL) {
        json_decref(*body);
        *body = NULL;
        return api_fail(problem, ERR_BAD_REQUEST,
                        "credentials are not accepted in the query string; send Authorization: "
                        "Bearer <token>");
    }
    return ERR_OK;
}

void route_run(struct api_service *service, const struct route_match *match,
               struct api_request *req, const json_t *body, struct api_reply *reply)
{
    enum err rc = ERR_OK;

    if (!(match->route->flags & (ROUTE_PUBLIC | ROUTE_WRITE)))
        rc = api_read_gate(service, req, reply);
    if (rc == ERR_OK) {
        req->body = body;
        rc = match->route->handler(service, req, reply);
        req->body = NULL;
    }
    if (rc != ERR_OK)
        api_problem_render(rc, req, reply);
}

void route_dispatch(struct api_service *service, const struct route_match *match,
                    struct api_request *req, const char *body_text, size_t body_len,
                    struct api_reply *reply)
{
    json_t *body = NULL;
    enum err rc = route_prepare(match, req, body_text, body_len, &body, &reply->problem);

    if (rc == ERR_OK)
        route_run(service, match, req, body, reply);
    else
        api_problem_render(rc, req, reply);
    json_decref(body);
}
