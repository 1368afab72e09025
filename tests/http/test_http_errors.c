/* SPDX-License-Identifier: Apache-2.0 */
/* The error table over the wire: each row of the error policy answered as RFC 9457
 * problem+json, decided at the right moment (413 before the body is read), and
 * never showing internals. Requests libcurl will not send go over a raw socket. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TEST_TIMEOUT_S 30
#define BODY_MAX       65536 /* the server's default --body-max */

static struct ct_server *srv;

static void start_server(void)
{
    char why[4096];

    srv = ct_server_new();
    ck_assert_msg(ct_server_start(srv, why, sizeof why), "%s", why);
}

static void stop_servers(void)
{
    ct_cleanup_all();
    srv = NULL;
}

static const char *str_member(const json_t *object, const char *key)
{
    const char *value = json_string_value(json_object_get(object, key));

    return value ? value : "(missing)";
}

static void raw_text(const struct ct_server *s, const char *request, double timeout_s,
                     struct ct_raw_response *out)
{
    ct_raw(s, request, strlen(request), timeout_s, out);
}

static void registered(const char *single_quoted)
{
    struct ct_response r;

    ct_send(srv, "POST", "/v1/models", single_quoted, &r);
    ck_assert_msg(r.status == 201, "registering %s answered %ld: %s", single_quoted, r.status,
                  r.status ? r.body : r.error);
    ct_response_cleanup(&r);
}

/* ---- 400 ---- */

static const struct {
    const char *name;
    const char *body;
    size_t len; /* 0: strlen(body) */
} malformed[] = {
    {"an unclosed object", "{", 0},
    {"a missing value", "{\"id\":}", 0},
    {"an unclosed array", "[1,2", 0},
    {"a bare word", "nul", 0},
    {"trailing garbage", "{\"id\":\"org/x\"} x", 0},
    {"a duplicate member", "{\"id\":\"org/x\",\"id\":\"org/y\"}", 0},
    {"invalid UTF-8", "{\"id\":\"org/caf\xc3\x28\"}", 0},
    {"a NUL byte inside", "{\"id\":\"org/x\"}\0{", 15},
    {"single quotes", "{'id':'org/x'}", 0},
};

START_TEST(malformed_json_is_400)
{
    struct ct_response r, check;
    const char *headers[] = {"Content-Type: application/json", NULL};
    size_t len = malformed[_i].len ? malformed[_i].len : strlen(malformed[_i].body);

    ct_request(srv, "POST", "/v1/models", headers, malformed[_i].body, len, &r);
    ck_assert_msg(r.status == 400, "%s answered %ld", malformed[_i].name, r.status);
    CT_ASSERT_PROBLEM(&r, 400, "malformed-json", NULL);
    ct_response_cleanup(&r);
    ct_get(srv, "/v1/models/org/x", &check);
    ck_assert_int_eq(check.status, 404);
    ct_response_cleanup(&check);
}
END_TEST

START_TEST(empty_body_is_400)
{
    struct ct_response r;
    const char *headers[] = {"Content-Type: application/json", NULL};

    ct_request(srv, "POST", "/v1/models", headers, "", 0, &r);
    CT_ASSERT_PROBLEM(&r, 400, "malformed-json", NULL);
    ct_response_cleanup(&r);
    ct_request(srv, "PATCH", "/v1/models/org/x", headers, "", 0, &r);
    CT_ASSERT_PROBLEM(&r, 400, "malformed-json", NULL);
    ct_response_cleanup(&r);
}
END_TEST

/* {"id":"org/deep","task": then levels-1 arrays, so the document nests `levels` deep. */
static char *nested(int levels)
{
    size_t cap = 64 + 2 * (size_t)levels;
    char *text = malloc(cap);
    size_t n;

    ck_assert_ptr_nonnull(text);
    n = (size_t)snprintf(text, cap, "{\"id\":\"org/deep\",\"task\":");
    for (int i = 1; i < levels; i++)
        text[n++] = '[';
    for (int i = 1; i < levels; i++)
        text[n++] = ']';
    text[n++] = '}';
    text[n] = '\0';
    return text;
}

START_TEST(json_nested_deeper_than_32_is_400_and_32_is_parsed)
{
    struct ct_response r;
    char *deep = nested(33), *limit = nested(32), *hostile = malloc(20001);

    ct_send_json(srv, "POST", "/v1/models", deep, &r);
    CT_ASSERT_PROBLEM(&r, 400, "malformed-json", NULL);
    ct_response_cleanup(&r);

    /* 32 levels parse; the nested task is then refused as not a string. */
    ct_send_json(srv, "POST", "/v1/models", limit, &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", "/task");
    ct_response_cleanup(&r);

    /* 20,000 open brackets: refused without exhausting the parser. */
    ck_assert_ptr_nonnull(hostile);
    memset(hostile, '[', 20000);
    hostile[20000] = '\0';
    ct_send_json(srv, "POST", "/v1/models", hostile, &r);
    CT_ASSERT_PROBLEM(&r, 400, "malformed-json", NULL);
    ct_response_cleanup(&r);
    free(deep);
    free(limit);
    free(hostile);
}
END_TEST

START_TEST(unknown_query_parameter_and_token_in_query_are_400)
{
    static const struct ct_step steps[] = {
        {"an unknown parameter on a model is 400", "GET", "/v1/models/org/x?expand=1", NULL, NULL,
         400, "bad-request", "expand"},
        {"a token in the query is 400", "GET", "/v1/models?access_token=secret", NULL, NULL, 400,
         "bad-request", NULL},
    };
    struct ct_response r;

    ct_run_steps(srv, steps, sizeof steps / sizeof steps[0]);
    ct_get(srv, "/v1/models?access_token=secret-value", &r);
    ck_assert_msg(strstr(r.body, "secret-value") == NULL, "token echoed: %s", r.body);
    ct_response_cleanup(&r);
}
END_TEST

/* ---- 404, 405 ---- */

START_TEST(unknown_route_is_404_with_a_suggestion)
{
    struct ct_response r;

    ct_get(srv, "/v1/modles", &r);
    CT_ASSERT_PROBLEM(&r, 404, "not-found", NULL);
    ck_assert_msg(strstr(str_member(r.json, "detail"), "/v1/models") != NULL, "detail: %s", r.body);
    ct_response_cleanup(&r);

    ct_get(srv, "/nothing/like/any/route/at/all", &r);
    CT_ASSERT_PROBLEM(&r, 404, "not-found", NULL);
    ck_assert_msg(strstr(str_member(r.json, "detail"), "/openapi.yaml") != NULL, "detail: %s",
                  r.body);
    ct_response_cleanup(&r);

    /* Empty segments and trailing slashes are not the model route. */
    ct_get(srv, "/v1/models/org//x", &r);
    CT_ASSERT_PROBLEM(&r, 404, "not-found", NULL);
    ct_response_cleanup(&r);
    ct_get(srv, "/v1/models/", &r);
    CT_ASSERT_PROBLEM(&r, 404, "not-found", NULL);
    ct_response_cleanup(&r);
}
END_TEST

static const struct {
    const char *method;
    const char *path;
    const char *allow;
} wrong_methods[] = {
    {"PUT", "/v1/models", "OPTIONS, GET, HEAD, POST"},
    {"DELETE", "/v1/models", "OPTIONS, GET, HEAD, POST"},
    {"POST", "/v1/models/org/x", "OPTIONS, GET, HEAD, PUT, PATCH, DELETE"},
    {"BREW", "/v1/models/org/x", "OPTIONS, GET, HEAD, PUT, PATCH, DELETE"},
    {"POST", "/healthz", "OPTIONS, GET, HEAD"},
    {"DELETE", "/readyz", "OPTIONS, GET, HEAD"},
    {"PATCH", "/openapi.yaml", "OPTIONS, GET, HEAD"},
    {"TRACE", "/v1/models", "OPTIONS, GET, HEAD, POST"},
    {"BREW", "/v1/models", "OPTIONS, GET, HEAD, POST"},
};

START_TEST(wrong_method_is_405_with_the_exact_allow_header)
{
    struct ct_response r;
    const char *headers[] = {"Content-Type: application/json", "X-Echo-Me: trace-marker", NULL};

    ct_request(srv, wrong_methods[_i].method, wrong_methods[_i].path, headers, NULL, 0, &r);
    ck_assert_msg(r.status == 405, "%s %s answered %ld", wrong_methods[_i].method,
                  wrong_methods[_i].path, r.status);
    CT_ASSERT_PROBLEM(&r, 405, "method-not-allowed", NULL);
    ck_assert_str_eq(r.allow, wrong_methods[_i].allow);
    ck_assert_msg(strstr(r.body, "trace-marker") == NULL, "request headers echoed: %s", r.body);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(options_is_204_with_allow_and_head_has_no_body)
{
    struct ct_response r;

    ck_assert_int_eq(ct_request(srv, "OPTIONS", "/v1/models/org/x", NULL, NULL, 0, &r), 204);
    ck_assert_str_eq(r.allow, "OPTIONS, GET, HEAD, PUT, PATCH, DELETE");
    ct_response_cleanup(&r);
    ck_assert_int_eq(ct_request(srv, "HEAD", "/healthz", NULL, NULL, 0, &r), 200);
    ck_assert_uint_eq(r.body_len, 0);
    ct_response_cleanup(&r);
}
END_TEST

/* ---- 409, 412 ---- */

START_TEST(conflict_and_precondition_failures_are_problems)
{
    static const struct ct_step steps[] = {
        {"register", "POST", "/v1/models", "{'id':'org/x'}", NULL, 201, NULL, NULL},
        {"register again: 409", "POST", "/v1/models", "{'id':'org/x'}", NULL, 409, "conflict",
         "/id"},
        {"patch at another version: 412", "PATCH", "/v1/models/org/x", "{'task':'t'}", "\"v7\"",
         412, "precondition-failed", NULL},
        {"patch at the current version", "PATCH", "/v1/models/org/x", "{'task':'t'}", "\"v1\"", 200,
         NULL, NULL},
    };

    ct_run_steps(srv, steps, sizeof steps / sizeof steps[0]);
}
END_TEST

/* ---- 411 ---- */

START_TEST(write_without_content_length_is_411)
{
    struct ct_raw_response r;

    raw_text(srv,
             "POST /v1/models HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             "Connection: close\r\n\r\n",
             5, &r);
    CT_ASSERT_PROBLEM(&r, 411, "length-required", NULL);
    ct_raw_cleanup(&r);

    raw_text(srv,
             "PATCH /v1/models/org/x HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             "Connection: close\r\n\r\n",
             5, &r);
    CT_ASSERT_PROBLEM(&r, 411, "length-required", NULL);
    ct_raw_cleanup(&r);
}
END_TEST

START_TEST(chunked_body_is_411_and_not_stored)
{
    struct ct_raw_response r;
    struct ct_response check;

    raw_text(srv,
             "POST /v1/models HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             "Transfer-Encoding: chunked\r\n\r\n"
             "e\r\n{\"id\":\"org/c\"}\r\n0\r\n\r\n",
             5, &r);
    CT_ASSERT_PROBLEM(&r, 411, "length-required", NULL);
    ct_raw_cleanup(&r);
    ct_get(srv, "/v1/models/org/c", &check);
    ck_assert_int_eq(check.status, 404);
    ct_response_cleanup(&check);
}
END_TEST

/* ---- 413 ---- */

START_TEST(declared_length_over_the_cap_is_413_before_any_body)
{
    struct ct_raw_response r;
    char request[512];
    char value[64];

    /* No body follows: the answer must come from the headers alone, at once. */
    snprintf(request, sizeof request,
             "POST /v1/models HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             "Content-Length: %d\r\n\r\n",
             BODY_MAX + 1);
    raw_text(srv, request, 5, &r);
    ck_assert_msg(!r.timed_out, "no answer within 5 s");
    ck_assert_msg(r.elapsed_s < 1.0, "answered after %.3f s", r.elapsed_s);
    CT_ASSERT_PROBLEM(&r, 413, "payload-too-large", NULL);
    ck_assert_ptr_nonnull(ct_raw_header(&r, "X-Request-Id", value, sizeof value));
    ct_raw_cleanup(&r);

    /* With Expect: 100-continue the server refuses without inviting the body. */
    snprintf(request, sizeof request,
             "POST /v1/models HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             "Expect: 100-continue\r\nContent-Length: 10485760\r\n\r\n");
    raw_text(srv, request, 5, &r);
    ck_assert_msg(r.elapsed_s < 1.0, "answered after %.3f s", r.elapsed_s);
    CT_ASSERT_PROBLEM(&r, 413, "payload-too-large", NULL);
    ct_raw_cleanup(&r);

    /* A length that does not fit in 64 bits is refused by the HTTP library. */
    raw_text(srv,
             "POST /v1/models HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             "Content-Length: 99999999999999999999\r\n\r\n",
             5, &r);
    ck_assert_int_eq(r.status, 413);
    ct_raw_cleanup(&r);
}
END_TEST

/* A JSON object of exactly len bytes: {"id":"org/cap","task":"   ...   "}. */
static char *body_of_length(size_t len)
{
    static const char head[] = "{\"id\":\"org/cap\",\"task\":\"";
    char *text = malloc(len + 1);

    ck_assert_ptr_nonnull(text);
    memcpy(text, head, sizeof head - 1);
    memset(text + sizeof head - 1, ' ', len - (sizeof head - 1) - 2);
    memcpy(text + len - 2, "\"}", 3);
    return text;
}

START_TEST(body_one_byte_over_the_cap_is_413_and_at_the_cap_is_read)
{
    static const char *const args[] = {"--body-max", "2048", NULL};
    struct ct_server *small = ct_server_new();
    struct ct_response r;
    char why[4096];
    char *over = body_of_length(2049), *at = body_of_length(2048);

    small->args = args;
    ck_assert_msg(ct_server_start(small, why, sizeof why), "%s", why);
    ct_send_json(small, "POST", "/v1/models", over, &r);
    CT_ASSERT_PROBLEM(&r, 413, "payload-too-large", NULL);
    ct_response_cleanup(&r);
    /* At the cap the body is read and judged on its content (task is 255 bytes at most). */
    ct_send_json(small, "POST", "/v1/models", at, &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", "/task");
    ct_response_cleanup(&r);
    free(over);
    free(at);
}
END_TEST

/* ---- 415 ---- */

START_TEST(write_that_is_not_json_is_415)
{
    static const char body[] = "{\"id\":\"org/typed\"}";
    const char *text_plain[] = {"Content-Type: text/plain", NULL};
    const char *form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    const char *json_utf8[] = {"Content-Type: application/json; charset=utf-8", NULL};
    struct ct_response r;

    ct_request(srv, "POST", "/v1/models", text_plain, body, strlen(body), &r);
    CT_ASSERT_PROBLEM(&r, 415, "unsupported-media-type", NULL);
    ct_response_cleanup(&r);
    ct_request(srv, "POST", "/v1/models", form, body, strlen(body), &r);
    CT_ASSERT_PROBLEM(&r, 415, "unsupported-media-type", NULL);
    ct_response_cleanup(&r);
    ct_request(srv, "PATCH", "/v1/models/org/typed", text_plain, body, strlen(body), &r);
    CT_ASSERT_PROBLEM(&r, 415, "unsupported-media-type", NULL);
    ct_response_cleanup(&r);
    ck_assert_int_eq(ct_request(srv, "POST", "/v1/models", json_utf8, body, strlen(body), &r), 201);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(write_without_content_type_is_415)
{
    struct ct_raw_response r;

    raw_text(srv,
             "POST /v1/models HTTP/1.1\r\nHost: t\r\nContent-Length: 14\r\nConnection: close\r\n"
             "\r\n{\"id\":\"org/x\"}",
             5, &r);
    CT_ASSERT_PROBLEM(&r, 415, "unsupported-media-type", NULL);
    ct_raw_cleanup(&r);
}
END_TEST

/* ---- 500 ---- */

START_TEST(database_failure_is_500_without_internals)
{
    static const char trigger[] =
        "CREATE TRIGGER boom BEFORE INSERT ON models BEGIN SELECT RAISE(ABORT, "
        "'sqlite SELECT failed at db/models.c:42 in /tmp/x'); END;";
    struct ct_response r;
    char *output;
    pid_t pid;
    int status;

    registered("{'id':'org/before'}");
    /* A trigger added behind the server's back makes every insert fail inside SQLite
     * with a message full of things a client must never see. */
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        execlp("sqlite3", "sqlite3", "-batch", srv->db_path, trigger, (char *)NULL);
        _exit(127);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "sqlite3 failed");

    ct_send(srv, "POST", "/v1/models", "{'id':'org/after'}", &r);
    CT_ASSERT_PROBLEM(&r, 500, "internal", NULL);
    ck_assert_msg(strstr(r.body, "boom") == NULL && strstr(r.body, "failed at") == NULL, "%s",
                  r.body);
    ck_assert_str_eq(str_member(r.json, "request_id"), r.request_id);
    ct_response_cleanup(&r);

    /* Reads still work, and the log (not the client) has the request id. */
    ck_assert_int_eq(ct_get(srv, "/v1/models/org/before", &r), 200);
    ct_response_cleanup(&r);
    output = ct_server_output(srv);
    ck_assert_msg(strstr(output, "POST /v1/models failed") != NULL, "log: %s", output);
    free(output);
}
END_TEST

/* ---- 503 ---- */

struct lock_holder {
    pid_t pid;
    FILE *in;  /* sqlite3's stdin: closing it ends the transaction */
    FILE *out; /* sqlite3's stdout */
};

/* Starts the sqlite3 shell on db and makes it hold a write transaction. Returns
 * once the lock is held (the shell has answered a query inside it). */
static void hold_write_lock(const char *db, struct lock_holder *h)
{
    int to_child[2], from_child[2];
    char line[256] = "";

    ck_assert_int_eq(pipe(to_child), 0);
    ck_assert_int_eq(pipe(from_child), 0);
    h->pid = fork();
    ck_assert_int_ge(h->pid, 0);
    if (h->pid == 0) {
        dup2(to_child[0], STDIN_FILENO);
        dup2(from_child[1], STDOUT_FILENO);
        close(to_child[0]);
        close(to_child[1]);
        close(from_child[0]);
        close(from_child[1]);
        execlp("sqlite3", "sqlite3", "-batch", db, (char *)NULL);
        _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    h->in = fdopen(to_child[1], "w");
    h->out = fdopen(from_child[0], "r");
    ck_assert_ptr_nonnull(h->in);
    ck_assert_ptr_nonnull(h->out);
    fputs(".timeout 2000\nBEGIN IMMEDIATE;\n"
          "INSERT INTO models(namespace, name) VALUES('lock', 'x');\n"
          "SELECT 'locked';\n",
          h->in);
    fflush(h->in);
    ck_assert_msg(fgets(line, sizeof line, h->out) != NULL && strncmp(line, "locked", 6) == 0,
                  "sqlite3 did not take the lock: '%s'", line);
}

/* Ends the shell: EOF on stdin rolls the open transaction back. */
static void release_write_lock(struct lock_holder *h)
{
    int status = 0;

    fclose(h->in);
    fclose(h->out);
    ck_assert_int_eq(waitpid(h->pid, &status, 0), h->pid);
}

START_TEST(busy_database_is_503_with_retry_after_and_reads_continue)
{
    static const char *const args[] = {"--busy-timeout", "200", NULL};
    struct ct_server *busy = ct_server_new();
    struct lock_holder lock;
    struct ct_response r;
    char why[4096];

    busy->args = args;
    ck_assert_msg(ct_server_start(busy, why, sizeof why), "%s", why);
    ct_send(busy, "POST", "/v1/models", "{'id':'org/reader'}", &r);
    ck_assert_int_eq(r.status, 201);
    ct_response_cleanup(&r);

    hold_write_lock(busy->db_path, &lock);
    ct_send(busy, "POST", "/v1/models", "{'id':'org/writer'}", &r);
    CT_ASSERT_PROBLEM(&r, 503, "busy", NULL);
    ck_assert_msg(r.elapsed_s < 1.0, "the busy answer took %.3f s", r.elapsed_s);
    ck_assert_msg(atoi(r.retry_after) >= 1, "Retry-After '%s'", r.retry_after);
    ct_response_cleanup(&r);

    ct_send(busy, "PATCH", "/v1/models/org/reader", "{'task':'t'}", &r);
    CT_ASSERT_PROBLEM(&r, 503, "busy", NULL);
    ct_response_cleanup(&r);

    ck_assert_int_eq(ct_get(busy, "/v1/models/org/reader", &r), 200);
    ck_assert_msg(r.elapsed_s < 1.0, "the read took %.3f s", r.elapsed_s);
    ct_response_cleanup(&r);
    ck_assert_int_eq(ct_get(busy, "/readyz", &r), 200);
    ct_response_cleanup(&r);

    release_write_lock(&lock);
    ct_send(busy, "POST", "/v1/models", "{'id':'org/writer'}", &r);
    ck_assert_msg(r.status == 201, "after the lock: %ld %s", r.status, r.body);
    ct_response_cleanup(&r);
    ck_assert_int_eq(ct_get(busy, "/v1/models/lock/x", &r), 404); /* rolled back */
    ct_response_cleanup(&r);
}
END_TEST

/* ---- headers on every answer ---- */

START_TEST(every_answer_has_a_request_id_and_problems_repeat_it)
{
    static const struct {
        const char *method;
        const char *path;
        const char *body;
        const char *type;
    } requests[] = {
        {"GET", "/healthz", NULL, NULL},
        {"GET", "/openapi.yaml", NULL, NULL},
        {"POST", "/v1/models", "{\"id\":\"org/rid\"}", "Content-Type: application/json"},
        {"POST", "/v1/models", "{\"id\":\"org/rid\"}", "Content-Type: application/json"},
        {"POST", "/v1/models", "{", "Content-Type: application/json"},
        {"POST", "/v1/models", "{}", "Content-Type: text/plain"},
        {"GET", "/v1/models/org/none", NULL, NULL},
        {"PUT", "/v1/models", NULL, NULL},
        {"GET", "/v1/nothing", NULL, NULL},
        {"OPTIONS", "/v1/models", NULL, NULL},
        {"DELETE", "/v1/models/org/rid", NULL, NULL},
    };
    char seen[sizeof requests / sizeof requests[0]][128];

    for (size_t i = 0; i < sizeof requests / sizeof requests[0]; i++) {
        const char *headers[] = {requests[i].type, NULL};
        struct ct_response r;
        const char *body = requests[i].body;

        ct_request(srv, requests[i].method, requests[i].path, headers, body,
                   body ? strlen(body) : 0, &r);
        ck_assert_msg(r.status > 0, "%s", r.error);
        ck_assert_msg(r.request_id[0] != '\0', "%s %s (%ld) has no X-Request-Id",
                      requests[i].method, requests[i].path, r.status);
        if (r.status >= 400) {
            ck_assert_str_eq(r.content_type, "application/problem+json");
            ck_assert_str_eq(str_member(r.json, "request_id"), r.request_id);
            ck_assert_str_eq(str_member(r.json, "instance"), requests[i].path);
            ck_assert_msg(!ct_leaks_internals(r.body), "internals in %s", r.body);
        }
        snprintf(seen[i], sizeof seen[i], "%s", r.request_id);
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(strcmp(seen[i], seen[j]) != 0, "request id %s used twice", seen[i]);
        ct_response_cleanup(&r);
    }
}
END_TEST

START_TEST(a_safe_incoming_request_id_is_echoed_and_others_replaced)
{
    static const struct {
        const char *header;
        const char *incoming;
        bool is_echoed;
    } cases[] = {
        {"X-Request-Id: trace-01.AB_cd", "trace-01.AB_cd", true},
        {"X-Request-Id: has space", "has space", false},
        {"X-Request-Id: a/b", "a/b", false},
        {"X-Request-Id: <script>", "<script>", false},
        {"X-Request-Id: 0123456789012345678901234567890123456", /* 37 characters */
         "0123456789012345678901234567890123456", false},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *headers[] = {cases[i].header, NULL};
        struct ct_response r;

        ct_request(srv, "GET", "/v1/models/org/none", headers, NULL, 0, &r);
        ck_assert_int_eq(r.status, 404);
        ck_assert_msg((strcmp(r.request_id, cases[i].incoming) == 0) == cases[i].is_echoed,
                      "incoming '%s', answered '%s'", cases[i].incoming, r.request_id);
        ck_assert_msg(r.request_id[0] != '\0', "no X-Request-Id");
        ck_assert_msg(cases[i].is_echoed || strstr(r.body, cases[i].incoming) == NULL,
                      "unsafe id reflected: %s", r.body);
        ct_response_cleanup(&r);
    }
}
END_TEST

/* ---- hostile framing ---- */

START_TEST(header_bombs_are_refused_and_the_server_stays_up)
{
    size_t big = 100 * 1024;
    char *request = malloc(big + 20000 * 8 + 256);
    struct ct_raw_response r;
    struct ct_response ok;
    size_t n;

    ck_assert_ptr_nonnull(request);
    /* One 100 KiB header. */
    n = (size_t)sprintf(request, "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: ");
    memset(request + n, 'a', big);
    n += big;
    n += (size_t)sprintf(request + n, "\r\n\r\n");
    ct_raw(srv, request, n, 5, &r);
    ck_assert_msg(r.status == 431 || (r.status == 0 && r.closed), "one big header: %d", r.status);
    ct_raw_cleanup(&r);

    /* 10,000 small headers. */
    n = (size_t)sprintf(request, "GET /healthz HTTP/1.1\r\nHost: t\r\n");
    for (int i = 0; i < 10000; i++)
        n += (size_t)sprintf(request + n, "X%d: 1\r\n", i % 1000);
    n += (size_t)sprintf(request + n, "\r\n");
    ct_raw(srv, request, n, 5, &r);
    ck_assert_msg(r.status == 431 || (r.status == 0 && r.closed), "many headers: %d", r.status);
    ct_raw_cleanup(&r);

    /* A 64 KiB URL. */
    n = (size_t)sprintf(request, "GET /v1/models/org/");
    memset(request + n, 'u', 65536);
    n += 65536;
    n += (size_t)sprintf(request + n, " HTTP/1.1\r\nHost: t\r\n\r\n");
    ct_raw(srv, request, n, 5, &r);
    ck_assert_msg(r.status == 414 || r.status == 431 || (r.status == 0 && r.closed), "long URL: %d",
                  r.status);
    ct_raw_cleanup(&r);
    free(request);

    ck_assert_int_eq(ct_get(srv, "/healthz", &ok), 200);
    ct_response_cleanup(&ok);
}
END_TEST

START_TEST(lying_content_length_is_refused_without_storing)
{
    struct ct_raw_response r;
    struct ct_response check;

    raw_text(srv,
             "POST /v1/models HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             "Content-Length: abc\r\n\r\n{\"id\":\"org/lie\"}",
             5, &r);
    ck_assert_msg(r.status == 400 || r.status == 413, "non-numeric length: %d", r.status);
    ct_raw_cleanup(&r);

    raw_text(srv,
             "POST /v1/models HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             "Content-Length: 16\r\nTransfer-Encoding: chunked\r\n\r\n"
             "10\r\n{\"id\":\"org/lie\"}\r\n0\r\n\r\n",
             5, &r);
    ck_assert_msg(r.status == 400 || r.status == 411, "both framings: %d", r.status);
    ct_raw_cleanup(&r);

    /* Declares more than it sends, then goes quiet: the answer waits for the body,
     * and nothing is stored from the partial one. */
    raw_text(srv,
             "POST /v1/models HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             "Content-Length: 100\r\n\r\n{\"id\":\"org/lie\"}",
             0.5, &r);
    ck_assert_msg(r.status == 0 && r.timed_out, "partial body answered %d", r.status);
    ct_raw_cleanup(&r);

    ck_assert_int_eq(ct_get(srv, "/v1/models/org/lie", &check), 404);
    ct_response_cleanup(&check);
}
END_TEST

/* ---- 414 and 431 within the connection memory ---- */

#define TARGET_MAX  8192  /* carbontree's request target limit (server/http.c) */
#define HEADERS_MAX 16384 /* its header block limit, each field "name: value\r\n" */

/* A GET of a target of exactly target_len bytes (an unknown path: 404 when accepted)
 * with one X-Pad header of pad_len bytes after "Host: t". */
static void raw_get(size_t target_len, size_t pad_len, struct ct_raw_response *out)
{
    char *request = malloc(target_len + pad_len + 128);
    size_t n;

    ck_assert_ptr_nonnull(request);
    n = (size_t)sprintf(request, "GET /");
    memset(request + n, 'u', target_len - 1);
    n += target_len - 1;
    n += (size_t)sprintf(request + n, " HTTP/1.1\r\nHost: t\r\n");
    if (pad_len > 0) {
        n += (size_t)sprintf(request + n, "X-Pad: ");
        memset(request + n, 'p', pad_len);
        n += pad_len;
        n += (size_t)sprintf(request + n, "\r\n");
    }
    n += (size_t)sprintf(request + n, "\r\n");
    ct_raw(srv, request, n, 5, out);
    free(request);
}

START_TEST(target_over_the_limit_is_414_problem_with_a_request_id)
{
    struct ct_raw_response r;
    char id[64];

    raw_get(TARGET_MAX, 0, &r);
    ck_assert_msg(r.status == 404, "a target at the limit: %d", r.status);
    ct_raw_cleanup(&r);

    raw_get(TARGET_MAX + 1, 0, &r);
    CT_ASSERT_PROBLEM(&r, 414, "uri-too-long", NULL);
    ck_assert_ptr_nonnull(ct_raw_header(&r, "X-Request-Id", id, sizeof id));
    ck_assert_str_eq(str_member(r.json, "request_id"), id);
    ct_raw_cleanup(&r);

    /* Beyond the connection memory (32768 bytes by default) libmicrohttpd answers
     * before carbontree sees the request: its own page, without a request id. */
    raw_get(40000, 0, &r);
    ck_assert_msg(r.status == 414 || (r.status == 0 && r.closed), "a 40000-byte target: %d",
                  r.status);
    ck_assert_ptr_null(ct_raw_header(&r, "X-Request-Id", id, sizeof id));
    ct_raw_cleanup(&r);
}
END_TEST

START_TEST(headers_over_the_limit_are_431_problem_with_a_request_id)
{
    /* "Host: t\r\n" is 9 bytes, "X-Pad: \r\n" 9 more. */
    size_t at_limit = HEADERS_MAX - 18;
    struct ct_raw_response r;
    char id[64];

    raw_get(8, at_limit, &r);
    ck_assert_msg(r.status == 404, "headers at the limit: %d", r.status);
    ct_raw_cleanup(&r);

    raw_get(8, at_limit + 1, &r);
    CT_ASSERT_PROBLEM(&r, 431, "header-fields-too-large", NULL);
    ck_assert_ptr_nonnull(ct_raw_header(&r, "X-Request-Id", id, sizeof id));
    ck_assert_str_eq(str_member(r.json, "request_id"), id);
    ct_raw_cleanup(&r);
}
END_TEST

static Suite *errors_suite(void)
{
    Suite *s = suite_create("http_errors");
    TCase *bad_input = tcase_create("bad_input");
    TCase *routing = tcase_create("routing");
    TCase *framing = tcase_create("framing");
    TCase *server = tcase_create("server");
    TCase *all[] = {bad_input, routing, framing, server};

    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        tcase_add_checked_fixture(all[i], start_server, stop_servers);
        tcase_set_timeout(all[i], TEST_TIMEOUT_S);
        suite_add_tcase(s, all[i]);
    }
    tcase_add_loop_test(bad_input, malformed_json_is_400, 0,
                        (int)(sizeof malformed / sizeof malformed[0]));
    tcase_add_test(bad_input, empty_body_is_400);
    tcase_add_test(bad_input, json_nested_deeper_than_32_is_400_and_32_is_parsed);
    tcase_add_test(bad_input, unknown_query_parameter_and_token_in_query_are_400);
    tcase_add_test(bad_input, conflict_and_precondition_failures_are_problems);

    tcase_add_test(routing, unknown_route_is_404_with_a_suggestion);
    tcase_add_loop_test(routing, wrong_method_is_405_with_the_exact_allow_header, 0,
                        (int)(sizeof wrong_methods / sizeof wrong_methods[0]));
    tcase_add_test(routing, options_is_204_with_allow_and_head_has_no_body);
    tcase_add_test(routing, every_answer_has_a_request_id_and_problems_repeat_it);
    tcase_add_test(routing, a_safe_incoming_request_id_is_echoed_and_others_replaced);

    tcase_add_test(framing, write_without_content_length_is_411);
    tcase_add_test(framing, chunked_body_is_411_and_not_stored);
    tcase_add_test(framing, declared_length_over_the_cap_is_413_before_any_body);
    tcase_add_test(framing, body_one_byte_over_the_cap_is_413_and_at_the_cap_is_read);
    tcase_add_test(framing, write_that_is_not_json_is_415);
    tcase_add_test(framing, write_without_content_type_is_415);
    tcase_add_test(framing, header_bombs_are_refused_and_the_server_stays_up);
    tcase_add_test(framing, lying_content_length_is_refused_without_storing);
    tcase_add_test(framing, target_over_the_limit_is_414_problem_with_a_request_id);
    tcase_add_test(framing, headers_over_the_limit_are_431_problem_with_a_request_id);

    tcase_add_test(server, database_failure_is_500_without_internals);
    tcase_add_test(server, busy_database_is_503_with_retry_after_and_reads_continue);
    return s;
}

int main(void)
{
    return ct_main(errors_suite());
}
