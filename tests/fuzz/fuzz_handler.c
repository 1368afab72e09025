/* SPDX-License-Identifier: Apache-2.0 */
/* F2 (tests/fuzz/README.md): the request handler behind the server. The input reads
 * like a small HTTP request:
 *
 *     METHOD /path?query
 *     Header-Name: value          (Idempotency-Key, If-Match, If-None-Match, Accept,
 *     Token: 1                     Authorization; Token 1..3 picks a fixed bearer)
 *
 *     body
 *
 * It is routed with the server's table (route_find) and dispatched as server/http.c
 * finish_request does (path and query percent-decoded as libmicrohttpd does;
 * 404/405/OPTIONS answered before any handler; the body parsed only for JSON-body
 * routes; credentials in the query refused; the read gate on non-public reads),
 * then handed to the handler over the process's private database. Invariants after each input: the
 * shared reply invariants, no body on 204 and 304, Allow on 405, a GET, a refused
 * request or a stateless calculation changes nothing; quick_check every 1000 runs. */
#include "common.h"
#include "routes.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct parsed {
    const char *method;
    char *path;  /* percent-decoded, without the query */
    char *query; /* raw query text, or NULL */
    const char *idempotency_key, *if_match, *if_none_match, *accept, *authorization;
    int token; /* 0: none; 1..FUZZ_N_TOKENS */
    const char *body;
    size_t body_len;
    char root[2]; /* "/" when the input names no path */
};

static unsigned long long runs;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup();
    return 0;
}

/* The next line of text (LF or CRLF ended, cut in place); NULL at the end. */
static char *next_line(char **cursor, char *end)
{
    char *line = *cursor, *eol;

    if (line >= end)
        return NULL;
    eol = memchr(line, '\n', (size_t)(end - line));
    if (eol == NULL)
        eol = end;
    *cursor = eol < end ? eol + 1 : end;
    *eol = '\0';
    if (eol > line && eol[-1] == '\r')
        eol[-1] = '\0';
    return line;
}

/* First occurrence wins, as with MHD_lookup_connection_value. */
static void set_header(struct parsed *p, const char *name, const char *value)
{
    static const struct {
        const char *name;
        size_t offset;
    } known[] = {
        {"Idempotency-Key", offsetof(struct parsed, idempotency_key)},
        {"If-Match", offsetof(struct parsed, if_match)},
        {"If-None-Match", offsetof(struct parsed, if_none_match)},
        {"Accept", offsetof(struct parsed, accept)},
        {"Authorization", offsetof(struct parsed, authorization)},
    };

    if (strcasecmp(name, "Token") == 0) {
        if (p->token == 0)
            p->token = (unsigned char)value[0] % (FUZZ_N_TOKENS + 1);
        return;
    }
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        const char **slot = (const char **)((char *)p + known[i].offset);
        if (strcasecmp(name, known[i].name) == 0 && *slot == NULL)
            *slot = value;
    }
}

static void parse(char *text, size_t len, struct parsed *p)
{
    char *cursor = text, *end = text + len, *line, *space, *colon;

    memset(p, 0, sizeof *p);
    line = next_line(&cursor, end);
    if (line == NULL)
        line = text + len; /* the terminating NUL: an empty method */
    space = strchr(line, ' ');
    p->method = line;
    p->path = space ? space + 1 : NULL;
    if (space)
        *space = '\0';
    while ((line = next_line(&cursor, end)) != NULL && line[0] != '\0') {
        colon = strchr(line, ':');
        if (colon == NULL)
            continue;
        *colon++ = '\0';
        while (*colon == ' ' || *colon == '\t')
            colon++;
        set_header(p, line, colon);
    }
    p->body = cursor;
    p->body_len = (size_t)(end - cursor);
    if (p->path == NULL || p->path[0] == '\0')
        p->path = strcpy(p->root, "/");
    p->query = strchr(p->path, '?');
    if (p->query)
        *p->query++ = '\0';
}

/* libmicrohttpd's argument parsing: '&'-separated, '+' is a space, then %-decoding;
 * a key without '=' has a NULL value. Stops at API_MAX_QUERY like collect_query. */
static void parse_query(char *query, struct api_request *req)
{
    char *item = query;

    while (item && *item && req->n_query < API_MAX_QUERY) {
        char *next = strchr(item, '&'), *equals;
        if (next)
            *next++ = '\0';
        for (char *c = item; *c; c++)
            if (*c == '+')
                *c = ' ';
        equals = strchr(item, '=');
        if (equals)
            *equals++ = '\0';
        MHD_http_unescape(item);
        if (equals)
            MHD_http_unescape(equals);
        req->query[req->n_query].key = item;
        req->query[req->n_query].value = equals;
        req->n_query++;
        item = next;
    }
}

static bool is_stateless(api_handler_fn handler)
{
    return handler == api_estimates_post || handler == api_compare_post;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct parsed p;
    struct route_match match;
    struct api_request req;
    struct api_reply reply;
    char method[16], log_path[160], authorization[128], *text, *path_copy;
    const char *suggestion;
    bool is_read, has_changed;
    int64_t version;
    enum err rc = ERR_OK;

    if (size > FUZZ_BODY_MAX)
        return 0;
    text = malloc(size + 1);
    FUZZ_CHECK(text != NULL, "out of memory");
    memcpy(text, data, size);
    text[size] = '\0';
    parse(text, size, &p);
    MHD_http_unescape(p.path);
    path_copy = strdup(p.path);
    FUZZ_CHECK(path_copy != NULL, "out of memory");
    runs++;

    /* As server/http.c begin_request builds it. */
    snprintf(method, sizeof method, "%s", p.method);
    snprintf(log_path, sizeof log_path, "%s", p.path);
    route_find(p.method, path_copy, &match);
    fuzz_request_init(&req, method, log_path);
    req.n_params = match.n_params;
    memcpy(req.params, match.params, sizeof req.params);
    parse_query(p.query, &req);
    req.accept = p.accept;
    req.if_match = p.if_match;
    req.if_none_match = p.if_none_match;
    req.idempotency_key = p.idempotency_key;
    req.authorization = p.authorization;
    if (req.authorization == NULL && p.token > 0) {
        snprintf(authorization, sizeof authorization, "Bearer %s", fuzz_tokens[p.token - 1]);
        req.authorization = authorization;
    }
    /* Revoking the fuzz tokens or deleting a seeded model would leave every later
     * input a 401 or 404; such deletes go to a token or model that does not exist. */
    if (match.route && match.route->handler == api_tokens_delete &&
        fuzz_token_is_protected(req.params[0]))
        req.params[0] = "4000000000";
    if (match.route && match.route->handler == api_models_delete &&
        fuzz_model_is_seeded(req.params[0], req.params[1]))
        req.params[1] = "never-registered";
    is_read = strcmp(p.method, "GET") == 0 || strcmp(p.method, "HEAD") == 0 ||
              strcmp(p.method, "OPTIONS") == 0;

    api_reply_init(&reply);
    version = fuzz_data_version();
    if (strcmp(p.method, "OPTIONS") == 0 && match.path_known) {
        reply.status = 204;
        api_reply_header(&reply, "Allow", match.allow);
    } else if (match.route == NULL) {
        if (match.path_known) {
            rc = api_fail(&reply.problem, ERR_METHOD_NOT_ALLOWED, "%s is not allowed on %s", method,
                          p.path);
            api_reply_header(&reply, "Allow", match.allow);
        } else {
            suggestion = route_suggest(p.path);
            rc = api_fail(&reply.problem, ERR_NOT_FOUND, "no route %s%s%s", p.path,
                          suggestion ? "; did you mean " : "", suggestion ? suggestion : "");
        }
    } else {
        /* the server's own code from here on: decode, checks, handler, problem */
        route_dispatch(fuzz_service(), &match, &req, p.body, p.body_len, &reply);
    }
    if (rc != ERR_OK)
        api_problem_render(rc, &req, &reply);

    fuzz_check_reply(&req, &reply);
    FUZZ_CHECK(reply.status != 405 || api_reply_header_get(&reply, "Allow") != NULL,
               "%s %s: 405 without Allow", method, log_path);
    FUZZ_CHECK((reply.status != 204 && reply.status != 304) ||
                   (reply.json == NULL && reply.raw == NULL),
               "%s %s: %d with a body", method, log_path, reply.status);
    has_changed = fuzz_data_version() != version;
    fuzz_count(match.route ? match.route->method : "-",
               match.route ? match.route->pattern : "(no route)", reply.status, has_changed);
    if (reply.status >= 300 || is_read || (match.route && is_stateless(match.route->handler)))
        FUZZ_CHECK(!has_changed, "%s %s answered %d but changed the database", method, log_path,
                   reply.status);

    api_reply_cleanup(&reply);
    free(path_copy);
    free(text);
    if (runs % 1000 == 0)
        fuzz_quick_check();
    return 0;
}
