/* SPDX-License-Identifier: Apache-2.0 */
/* Authentication, authorization and write rate limits (README, Configuration:
 * tokens): bearer tokens on every write, 401 with a WWW-Authenticate challenge
 * for missing, malformed, unknown and revoked tokens, 403 for a missing scope or
 * another namespace's model (by path and by body), credentials refused in the
 * query string and never logged, a per-token write rate limit (429 with
 * Retry-After, nothing applied), idempotency keys scoped per token, the tokens API
 * and command, and token-only reads with --auth-reads. */
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TEST_TIMEOUT_S 30

/* S9/S10: the limit the rate tests run under, and the burst they send. */
#define RATE_PER_S    "20"
#define RATE_BURST    "20"
#define BURST_WRITES  100
#define BURST_THREADS 4
#define MIN_LIMITED   60

static struct ct_server *srv;

static void start_with(const char *const *args)
{
    char why[4096];

    srv = ct_server_new();
    srv->args = args;
    ck_assert_msg(ct_server_start(srv, why, sizeof why), "%s", why);
}

static void start_server(void)
{
    start_with(NULL);
}

static void start_rate_limited_server(void)
{
    static const char *const args[] = {
        "--write-rate-limit", RATE_PER_S, "--write-burst", RATE_BURST, "--threads", "4", NULL};

    start_with(args);
}

static void start_read_auth_server(void)
{
    static const char *const args[] = {"--auth-reads", NULL};

    start_with(args);
}

/* Access lines and debug messages in the log, so that a test can show what it holds. */
static void start_debug_log_server(void)
{
    static const char *const args[] = {"--log-level", "debug", NULL};

    start_with(args);
}

static void stop_servers(void)
{
    ct_cleanup_all();
    srv = NULL;
}

/* ---- helpers ---- */

#define ASSERT_STATUS(resp, want)                                                                  \
    ck_assert_msg((resp)->status == (want), "answered %ld, expected %d: %s", (long)(resp)->status, \
                  (want), (resp)->status ? (resp)->body : "(no answer)")

struct token {
    long long id;
    char secret[128];
};

/* method path with a single-quoted JSON body (NULL: none) as token (NULL: no
 * Authorization header at all) plus one more header line (or NULL). */
static long as(const char *token, const char *method, const char *path, const char *single_quoted,
               const char *extra, struct ct_response *out)
{
    char auth[256];
    const char *headers[4];
    size_t n = 0;
    char *body = single_quoted ? ct_json(single_quoted) : NULL;
    long status;

    if (token)
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    else
        snprintf(auth, sizeof auth, "Authorization:");
    headers[n++] = auth;
    if (body)
        headers[n++] = "Content-Type: application/json";
    if (extra)
        headers[n++] = extra;
    headers[n] = NULL;
    status = ct_request(srv, method, path, headers, body, body ? strlen(body) : 0, out);
    free(body);
    return status;
}

/* The same over a raw socket, to read the headers the harness does not keep
 * (WWW-Authenticate, Cache-Control, Idempotent-Replayed). authorization is the
 * whole header value (NULL: no header); extra is more header lines, each ending in
 * CRLF (or NULL). */
static void raw_as(const char *authorization, const char *method, const char *path,
                   const char *single_quoted, const char *extra, struct ct_raw_response *out)
{
    char *body = single_quoted ? ct_json(single_quoted) : NULL;
    size_t body_len = body ? strlen(body) : 0;
    size_t cap = 1024 + (authorization ? strlen(authorization) : 0) + strlen(path) + body_len +
                 (extra ? strlen(extra) : 0);
    char *request = malloc(cap);
    int n;

    ck_assert_ptr_nonnull(request);
    n = snprintf(request, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%s%s%s", method, path,
                 authorization ? "Authorization: " : "", authorization ? authorization : "",
                 authorization ? "\r\n" : "", extra ? extra : "",
                 body ? "Content-Type: application/json\r\n" : "");
    n += snprintf(request + n, cap - (size_t)n,
                  "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", body_len, body ? body : "");
    ck_assert_int_lt(n, (int)cap);
    ct_raw(srv, request, (size_t)n, 10, out);
    free(request);
    free(body);
}

static const char *raw_header(const struct ct_raw_response *r, const char *name, char *buf,
                              size_t buf_len)
{
    const char *v = ct_raw_header(r, name, buf, buf_len);

    return v ? v : "(none)";
}

/* A 401 problem whose challenge is Bearer realm="carbontree" with error (NULL: no
 * error attribute, the answer to a request that sent no credentials). */
static void assert_unauthorized(const struct ct_raw_response *r, const char *error,
                                const char *what)
{
    char want[160], got[256], why[512];

    ck_assert_msg(ct_problem_ok(r->status, r->content_type, r->json, 401, "unauthorized", NULL, why,
                                sizeof why),
                  "%s: %s; head: %s body: %s", what, why, r->head ? r->head : "(none)",
                  r->body ? r->body : "(none)");
    if (error)
        snprintf(want, sizeof want, "Bearer realm=\"carbontree\", error=\"%s\"", error);
    else
        snprintf(want, sizeof want, "Bearer realm=\"carbontree\"");
    ck_assert_msg(strcmp(raw_header(r, "WWW-Authenticate", got, sizeof got), want) == 0,
                  "%s: WWW-Authenticate is '%s', expected '%s'", what, got, want);
}

/* A 403 problem with the insufficient_scope challenge and, when pointer is not
 * NULL, an errors[] entry for it. */
static void assert_forbidden(const struct ct_raw_response *r, const char *pointer, const char *what)
{
    char got[256], why[512];
    static const char want[] = "Bearer realm=\"carbontree\", error=\"insufficient_scope\"";

    ck_assert_msg(ct_problem_ok(r->status, r->content_type, r->json, 403, "forbidden", pointer, why,
                                sizeof why),
                  "%s: %s; body: %s", what, why, r->body ? r->body : "(none)");
    ck_assert_msg(strcmp(raw_header(r, "WWW-Authenticate", got, sizeof got), want) == 0,
                  "%s: WWW-Authenticate is '%s', expected '%s'", what, got, want);
}

/* POST /v1/tokens as the admin; insists on 201 and fills out. */
static void token_created(const char *name, const char *scopes, const char *namespaces,
                          struct token *out)
{
    char body[512];
    struct ct_response r;
    const char *secret;

    snprintf(body, sizeof body, "{'name':'%s','scopes':[%s],'namespaces':[%s]}", name, scopes,
             namespaces);
    ct_send(srv, "POST", "/v1/tokens", body, &r);
    ck_assert_msg(r.status == 201, "creating token %s answered %ld: %s", name, r.status,
                  r.status ? r.body : r.error);
    secret = json_string_value(json_object_get(r.json, "token"));
    ck_assert_msg(secret != NULL && strlen(secret) < sizeof out->secret, "%s", r.body);
    snprintf(out->secret, sizeof out->secret, "%s", secret);
    out->id = (long long)json_integer_value(json_object_get(r.json, "id"));
    ck_assert_msg(out->id > 0, "%s", r.body);
    ct_response_cleanup(&r);
}

/* Registers a model as the admin from a single-quoted body; insists on 201. */
static void registered(const char *single_quoted)
{
    struct ct_response r;

    ct_send(srv, "POST", "/v1/models", single_quoted, &r);
    ck_assert_msg(r.status == 201, "registering %s answered %ld: %s", single_quoted, r.status,
                  r.status ? r.body : r.error);
    ct_response_cleanup(&r);
}

/* POST …/activities as the admin; insists on 201 and returns the activity id. */
static long long activity_added(const char *model, const char *single_quoted)
{
    struct ct_response r;
    char path[256];
    long long id;

    snprintf(path, sizeof path, "/v1/models/%s/activities", model);
    ct_send(srv, "POST", path, single_quoted, &r);
    ck_assert_msg(r.status == 201, "activity on %s answered %ld: %s", model, r.status,
                  r.status ? r.body : r.error);
    id = (long long)json_integer_value(json_object_get(r.json, "id"));
    ct_response_cleanup(&r);
    return id;
}

/* POST …/inferences of count as token (NULL: the admin) with key; returns the status. */
static long counted_as(const char *token, const char *model, long long count, const char *key,
                       struct ct_response *out)
{
    char path[256], body[64], key_header[300];

    snprintf(path, sizeof path, "/v1/models/%s/inferences", model);
    snprintf(body, sizeof body, "{'count':%lld}", count);
    snprintf(key_header, sizeof key_header, "Idempotency-Key: %s", key);
    return as(token ? token : CT_ADMIN_TOKEN, "POST", path, body, key_header, out);
}

/* The model's cumulative inferences, as its footprint reports them. */
static long long inferences_of(const char *model)
{
    struct ct_response r;
    char path[256];
    long long n;

    snprintf(path, sizeof path, "/v1/models/%s/footprint?policy=none", model);
    ct_get(srv, path, &r);
    ck_assert_msg(r.status == 200, "GET %s answered %ld: %s", path, r.status, r.body);
    ck_assert_msg(json_is_integer(json_object_get(r.json, "inferences")), "%s", r.body);
    n = (long long)json_integer_value(json_object_get(r.json, "inferences"));
    ct_response_cleanup(&r);
    return n;
}

/* How many models are registered in namespace ns (at most 500). */
static size_t models_in(const char *ns)
{
    struct ct_response r;
    char path[256];
    size_t n;

    snprintf(path, sizeof path, "/v1/models?namespace=%s&limit=500", ns);
    ct_get(srv, path, &r);
    ck_assert_msg(r.status == 200, "GET %s answered %ld: %s", path, r.status, r.body);
    n = json_array_size(json_object_get(r.json, "items"));
    ct_response_cleanup(&r);
    return n;
}

static long status_of_get(const char *path)
{
    struct ct_response r;
    long status = ct_get(srv, path, &r);

    ct_response_cleanup(&r);
    return status;
}

/* Everything a reader can see of one model: the model, its activities, its own
 * footprint and its daily inference series, as one text. Caller frees. */
static char *snapshot(const char *model)
{
    static const char *const suffixes[] = {"", "/activities", "/footprint?policy=none",
                                           "/inferences"};
    size_t len = 0;
    char *text = calloc(1, 1);

    ck_assert_ptr_nonnull(text);
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        struct ct_response r;
        char path[256];
        char *grown;

        snprintf(path, sizeof path, "/v1/models/%s%s", model, suffixes[i]);
        ct_get(srv, path, &r);
        ck_assert_msg(r.status == 200, "GET %s answered %ld: %s", path, r.status, r.body);
        grown = realloc(text, len + r.body_len + 2);
        ck_assert_ptr_nonnull(grown);
        text = grown;
        memcpy(text + len, r.body, r.body_len);
        len += r.body_len;
        text[len++] = '\n';
        text[len] = '\0';
        ct_response_cleanup(&r);
    }
    return text;
}

#define ASSERT_UNCHANGED(before, model, what)                                                      \
    do {                                                                                           \
        char *after_ = snapshot(model);                                                            \
        ck_assert_msg(strcmp((before), after_) == 0, "%s changed %s:\nbefore: %s\nafter: %s",      \
                      (what), (model), (before), after_);                                          \
        free(after_);                                                                              \
    } while (0)

/* ---- S1, S2: no, malformed, unknown and revoked tokens ---- */

/* Every write route, with a body that the admin could apply. */
static const struct {
    const char *method;
    const char *path;
    const char *body;
} write_routes[] = {
    {"POST", "/v1/models", "{'id':'hub-a/new'}"},
    {"PATCH", "/v1/models/hub-a/own", "{'task':'changed'}"},
    {"DELETE", "/v1/models/hub-a/own", NULL},
    {"POST", "/v1/models/hub-a/own/activities", "{'kind':'training','co2e_kg':5}"},
    {"DELETE", "/v1/models/hub-a/own/activities/1", NULL},
    {"POST", "/v1/models/hub-a/own/inferences", "{'count':5}"},
    {"PUT", "/v1/models/hub-a/own/inference-counters/r1", "{'total':50}"},
    {"POST", "/v1/inference-reports", "{'reports':[{'model':'hub-a/own','count':5}]}"},
    {"POST", "/v1/tokens", "{'name':'sneaky','scopes':['admin'],'namespaces':['*']}"},
    {"GET", "/v1/tokens", NULL},
    {"DELETE", "/v1/tokens/1", NULL},
};

/* hub-a/own with one activity (id 1) and 7 inferences. */
static void seed_own_model(void)
{
    struct ct_response r;

    registered("{'id':'hub-a/own','task':'original'}");
    ck_assert_int_eq(activity_added("hub-a/own", "{'kind':'training','co2e_kg':10}"), 1);
    ck_assert_int_eq(counted_as(NULL, "hub-a/own", 7, "seed", &r), 200);
    ct_response_cleanup(&r);
}

static size_t tokens_listed(void)
{
    struct ct_response r;
    size_t n;

    ct_get(srv, "/v1/tokens", &r);
    ck_assert_msg(r.status == 200, "GET /v1/tokens answered %ld: %s", r.status, r.body);
    n = json_array_size(json_object_get(r.json, "items"));
    ct_response_cleanup(&r);
    return n;
}

START_TEST(every_write_without_a_token_is_401_with_a_bearer_challenge_and_changes_nothing)
{
    char *before;
    struct ct_raw_response r;
    struct token revoked;
    struct ct_response d;
    size_t n_tokens;

    seed_own_model();
    token_created("gone", "'models:write','inferences:write','admin'", "'*'", &revoked);
    ck_assert_int_eq(as(CT_ADMIN_TOKEN, "DELETE", "/v1/tokens/2", NULL, NULL, &d), 204);
    ct_response_cleanup(&d);
    n_tokens = tokens_listed();
    before = snapshot("hub-a/own");
    for (size_t i = 0; i < sizeof write_routes / sizeof write_routes[0]; i++) {
        char what[256], auth[200];
        const char *method = write_routes[i].method, *path = write_routes[i].path;
        const char *body = write_routes[i].body;

        snprintf(what, sizeof what, "%s %s without a token", method, path);
        raw_as(NULL, method, path, body, "Idempotency-Key: no-token\r\n", &r);
        assert_unauthorized(&r, NULL, what);
        ct_raw_cleanup(&r);

        snprintf(what, sizeof what, "%s %s with an unknown token", method, path);
        raw_as("Bearer ct_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", method, path, body,
               "Idempotency-Key: unknown\r\n", &r);
        assert_unauthorized(&r, "invalid_token", what);
        ct_raw_cleanup(&r);

        snprintf(what, sizeof what, "%s %s with a revoked admin token", method, path);
        snprintf(auth, sizeof auth, "Bearer %s", revoked.secret);
        raw_as(auth, method, path, body, "Idempotency-Key: revoked\r\n", &r);
        assert_unauthorized(&r, "invalid_token", what);
        ct_raw_cleanup(&r);
    }
    ASSERT_UNCHANGED(before, "hub-a/own", "a refused write");
    free(before);
    ck_assert_int_eq(status_of_get("/v1/models/hub-a/new"), 404);
    ck_assert_uint_eq(tokens_listed(), n_tokens);
}
END_TEST

/* Authorization header values that are not a usable bearer token, and the error
 * attribute of the challenge each gets. */
static const struct {
    const char *name;
    const char *value;
    const char *error;
} bad_credentials[] = {
    {"Bearer with no token", "Bearer", "invalid_request"},
    {"Bearer and spaces only", "Bearer    ", "invalid_request"},
    {"the Basic scheme", "Basic dXNlcjpwYXNzd29yZA==", "invalid_request"},
    {"a scheme that only starts like Bearer", "Bearerct_AAAAAAAAAAAAAAAAAAAAAAAA",
     "invalid_request"},
    {"a token with spaces", "Bearer ct_abc def ghi", "invalid_request"},
    {"a token with a quote", "Bearer ct_abc\"def", "invalid_request"},
    {"a token with a non-ASCII byte", "Bearer ct_abc\xc3\xa9", "invalid_request"},
    {"an unknown token", "Bearer ct_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "invalid_token"},
    {"the admin token with one character changed", "Bearer ct-test-admin-token-0123456789abcdeF",
     "invalid_token"},
    {"the admin token with a character more", "Bearer " CT_ADMIN_TOKEN "0", "invalid_token"},
    {"the admin token's prefix", "Bearer ct-test-admin-token", "invalid_token"},
};

START_TEST(malformed_and_unknown_credentials_are_401_and_store_nothing)
{
    for (size_t i = 0; i < sizeof bad_credentials / sizeof bad_credentials[0]; i++) {
        struct ct_raw_response r;
        char what[256];

        snprintf(what, sizeof what, "registering with %s", bad_credentials[i].name);
        raw_as(bad_credentials[i].value, "POST", "/v1/models", "{'id':'hub-a/x'}", NULL, &r);
        assert_unauthorized(&r, bad_credentials[i].error, what);
        ct_raw_cleanup(&r);
    }
    ck_assert_int_eq(status_of_get("/v1/models/hub-a/x"), 404);
    ck_assert_uint_eq(models_in("hub-a"), 0);
}
END_TEST

START_TEST(a_10_kib_token_is_401_invalid_request_and_stores_nothing)
{
    size_t len = 10 * 1024;
    char *auth = malloc(len + 8);
    struct ct_raw_response r;

    ck_assert_ptr_nonnull(auth);
    memcpy(auth, "Bearer ", 7);
    memset(auth + 7, 'A', len);
    auth[7 + len] = '\0';
    raw_as(auth, "POST", "/v1/models", "{'id':'hub-a/x'}", NULL, &r);
    assert_unauthorized(&r, "invalid_request", "a 10 KiB token");
    ck_assert_msg(r.body_len < 2048 && strstr(r.body, "AAAAAAAAAAAAAAAA") == NULL,
                  "the answer repeats the token: %zu bytes", r.body_len);
    ct_raw_cleanup(&r);
    free(auth);
    ck_assert_int_eq(status_of_get("/v1/models/hub-a/x"), 404);
}
END_TEST

START_TEST(the_scheme_name_is_case_insensitive_and_extra_spaces_are_allowed)
{
    struct ct_raw_response r;

    raw_as("bearer " CT_ADMIN_TOKEN, "POST", "/v1/models", "{'id':'hub-a/lower'}", NULL, &r);
    ck_assert_msg(r.status == 201, "lower-case scheme answered %d: %s", r.status, r.body);
    ct_raw_cleanup(&r);
    raw_as("BEARER   " CT_ADMIN_TOKEN, "POST", "/v1/models", "{'id':'hub-a/upper'}", NULL, &r);
    ck_assert_msg(r.status == 201, "upper-case scheme answered %d: %s", r.status, r.body);
    ct_raw_cleanup(&r);
}
END_TEST

START_TEST(two_authorization_headers_are_refused)
{
    static const char *const orders[][2] = {
        {"Bearer ct_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "Bearer " CT_ADMIN_TOKEN},
        {"Bearer " CT_ADMIN_TOKEN, "Bearer ct_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
    };

    for (size_t i = 0; i < 2; i++) {
        char extra[256];
        struct ct_raw_response r;

        snprintf(extra, sizeof extra, "Authorization: %s\r\n", orders[i][1]);
        raw_as(orders[i][0], "POST", "/v1/models", "{'id':'hub-a/twice'}", extra, &r);
        ck_assert_msg(r.status == 400 || r.status == 401,
                      "two Authorization headers (%s first) answered %d: %s",
                      i == 0 ? "unknown" : "admin", r.status, r.body);
        ct_raw_cleanup(&r);
        ck_assert_int_eq(status_of_get("/v1/models/hub-a/twice"), 404);
    }
}
END_TEST

START_TEST(a_revoked_token_is_401_invalid_token_on_its_next_write)
{
    struct token t;
    struct ct_raw_response r;
    struct ct_response d;
    char auth[200], path[64];

    token_created("soon-revoked", "'models:write'", "'hub-a'", &t);
    snprintf(auth, sizeof auth, "Bearer %s", t.secret);
    raw_as(auth, "POST", "/v1/models", "{'id':'hub-a/before'}", NULL, &r);
    ck_assert_msg(r.status == 201, "the fresh token answered %d: %s", r.status, r.body);
    ct_raw_cleanup(&r);

    snprintf(path, sizeof path, "/v1/tokens/%lld", t.id);
    ck_assert_int_eq(ct_request(srv, "DELETE", path, NULL, NULL, 0, &d), 204);
    ct_response_cleanup(&d);

    raw_as(auth, "POST", "/v1/models", "{'id':'hub-a/after'}", NULL, &r);
    assert_unauthorized(&r, "invalid_token", "a revoked token");
    ck_assert_msg(strstr(r.body, "revoked") != NULL, "detail does not say revoked: %s", r.body);
    ct_raw_cleanup(&r);
    ck_assert_int_eq(status_of_get("/v1/models/hub-a/after"), 404);
    ck_assert_int_eq(status_of_get("/v1/models/hub-a/before"), 200);
}
END_TEST

/* ---- S3: missing scope ---- */

START_TEST(a_token_without_the_scope_is_403_insufficient_scope_and_stores_nothing)
{
    struct token counter, registrar;
    struct ct_raw_response r;
    char auth_counter[200], auth_registrar[200];
    char *before;

    seed_own_model();
    token_created("counter", "'inferences:write'", "'*'", &counter);
    token_created("registrar", "'models:write'", "'*'", &registrar);
    snprintf(auth_counter, sizeof auth_counter, "Bearer %s", counter.secret);
    snprintf(auth_registrar, sizeof auth_registrar, "Bearer %s", registrar.secret);
    before = snapshot("hub-a/own");

    /* inferences:write only: no registrations, changes or activities. */
    raw_as(auth_counter, "POST", "/v1/models", "{'id':'hub-a/x'}", NULL, &r);
    assert_forbidden(&r, NULL, "an inferences:write token registering");
    ck_assert_msg(strstr(r.body, "models:write") != NULL, "detail names no scope: %s", r.body);
    ct_raw_cleanup(&r);
    raw_as(auth_counter, "PATCH", "/v1/models/hub-a/own", "{'task':'changed'}", NULL, &r);
    assert_forbidden(&r, NULL, "an inferences:write token changing a model");
    ct_raw_cleanup(&r);
    raw_as(auth_counter, "POST", "/v1/models/hub-a/own/activities",
           "{'kind':'training','co2e_kg':5}", NULL, &r);
    assert_forbidden(&r, NULL, "an inferences:write token adding an activity");
    ct_raw_cleanup(&r);
    raw_as(auth_counter, "DELETE", "/v1/models/hub-a/own", NULL, NULL, &r);
    assert_forbidden(&r, NULL, "an inferences:write token deleting a model");
    ct_raw_cleanup(&r);

    /* models:write only: no counting of any kind. */
    raw_as(auth_registrar, "POST", "/v1/models/hub-a/own/inferences", "{'count':5}",
           "Idempotency-Key: scope-1\r\n", &r);
    assert_forbidden(&r, NULL, "a models:write token counting inferences");
    ck_assert_msg(strstr(r.body, "inferences:write") != NULL, "detail names no scope: %s", r.body);
    ct_raw_cleanup(&r);
    raw_as(auth_registrar, "PUT", "/v1/models/hub-a/own/inference-counters/r1", "{'total':50}",
           NULL, &r);
    assert_forbidden(&r, NULL, "a models:write token setting a counter");
    ct_raw_cleanup(&r);
    raw_as(auth_registrar, "POST", "/v1/inference-reports",
           "{'reports':[{'model':'hub-a/own','count':5}]}", "Idempotency-Key: scope-2\r\n", &r);
    assert_forbidden(&r, NULL, "a models:write token reporting a batch");
    ct_raw_cleanup(&r);

    /* Neither is an admin. */
    raw_as(auth_registrar, "POST", "/v1/tokens",
           "{'name':'escalate','scopes':['admin'],'namespaces':['*']}", NULL, &r);
    assert_forbidden(&r, NULL, "a models:write token creating a token");
    ct_raw_cleanup(&r);
    raw_as(auth_counter, "GET", "/v1/tokens", NULL, NULL, &r);
    assert_forbidden(&r, NULL, "an inferences:write token listing tokens");
    ct_raw_cleanup(&r);
    raw_as(auth_counter, "DELETE", "/v1/tokens/1", NULL, NULL, &r);
    assert_forbidden(&r, NULL, "an inferences:write token revoking the admin");
    ct_raw_cleanup(&r);

    ASSERT_UNCHANGED(before, "hub-a/own", "a write without its scope");
    free(before);
    ck_assert_int_eq(status_of_get("/v1/models/hub-a/x"), 404);
    ck_assert_uint_eq(tokens_listed(), 3);
    ck_assert_int_eq(inferences_of("hub-a/own"), 7);
}
END_TEST

/* ---- S4, S5: another namespace's model ---- */

static struct token hub_a; /* models:write inferences:write on hub-a only */
static char hub_a_auth[200];
static long long hub_b_activity;

/* hub-b/base with an activity and inferences; hub-a/own; a token for hub-a. */
static void seed_two_hubs(void)
{
    struct ct_response r;

    registered("{'id':'hub-b/base','task':'text-generation','parameters':1000}");
    hub_b_activity = activity_added("hub-b/base", "{'kind':'training','co2e_kg':100}");
    ck_assert_int_eq(counted_as(NULL, "hub-b/base", 40, "hub-b-seed", &r), 200);
    ct_response_cleanup(&r);
    registered("{'id':'hub-a/own'}");
    token_created("hub-a writer", "'models:write','inferences:write'", "'hub-a'", &hub_a);
    snprintf(hub_a_auth, sizeof hub_a_auth, "Bearer %s", hub_a.secret);
}

/* A bare id (gpt2) belongs to no namespace: a token for some namespaces cannot
 * write it, by the body's id or by its path; an admin token can. */
START_TEST(a_namespaced_token_may_not_write_a_bare_model)
{
    struct ct_raw_response r;

    seed_two_hubs();
    raw_as(hub_a_auth, "POST", "/v1/models", "{'id':'gpt2'}", NULL, &r);
    assert_forbidden(&r, NULL, "a hub-a token registering gpt2");
    ck_assert_msg(strstr(r.body, "without a namespace") != NULL, "detail: %s", r.body);
    ct_raw_cleanup(&r);
    registered("{'id':'gpt2'}");
    raw_as(hub_a_auth, "PUT", "/v1/models/gpt2", "{'license':'mit'}", NULL, &r);
    assert_forbidden(&r, NULL, "a hub-a token re-registering gpt2");
    ct_raw_cleanup(&r);
    raw_as(hub_a_auth, "DELETE", "/v1/models/gpt2", NULL, NULL, &r);
    assert_forbidden(&r, NULL, "a hub-a token deleting gpt2");
    ct_raw_cleanup(&r);
    /* its own models may still name gpt2 as their parent */
    raw_as(hub_a_auth, "POST", "/v1/models", "{'id':'hub-a/gpt2-tuned','base_model':'gpt2'}", NULL,
           &r);
    ck_assert_msg(r.status == 201, "answered %d: %s", r.status, r.body);
    ct_raw_cleanup(&r);
}
END_TEST

START_TEST(another_namespaces_model_by_path_is_403_and_unchanged)
{
    struct ct_raw_response r;
    char path[128], *before;
    static const char *const spellings[] = {"hub-b", "HUB-B", "Hub-B", "hub%2Db"};

    seed_two_hubs();
    before = snapshot("hub-b/base");
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        char base[64], what[160];
        const char *s = spellings[i];

        snprintf(base, sizeof base, "/v1/models/%s/base", s);
        snprintf(what, sizeof what, "PATCH %s", base);
        raw_as(hub_a_auth, "PATCH", base, "{'task':'hijacked','parents':[]}", NULL, &r);
        assert_forbidden(&r, NULL, what);
        ck_assert_msg(strstr(r.body, "namespace") != NULL, "detail: %s", r.body);
        ct_raw_cleanup(&r);

        snprintf(what, sizeof what, "DELETE %s", base);
        raw_as(hub_a_auth, "DELETE", base, NULL, NULL, &r);
        assert_forbidden(&r, NULL, what);
        ct_raw_cleanup(&r);

        snprintf(path, sizeof path, "%s/activities", base);
        raw_as(hub_a_auth, "POST", path, "{'kind':'training','co2e_kg':1000000}", NULL, &r);
        assert_forbidden(&r, NULL, path);
        ct_raw_cleanup(&r);

        snprintf(path, sizeof path, "%s/activities/%lld", base, hub_b_activity);
        raw_as(hub_a_auth, "DELETE", path, NULL, NULL, &r);
        assert_forbidden(&r, NULL, path);
        ct_raw_cleanup(&r);

        snprintf(path, sizeof path, "%s/inferences", base);
        raw_as(hub_a_auth, "POST", path, "{'count':1000}", "Idempotency-Key: foreign\r\n", &r);
        assert_forbidden(&r, NULL, path);
        ct_raw_cleanup(&r);

        snprintf(path, sizeof path, "%s/inference-counters/intruder", base);
        raw_as(hub_a_auth, "PUT", path, "{'total':1000}", NULL, &r);
        assert_forbidden(&r, NULL, path);
        ct_raw_cleanup(&r);
    }
    /* The same requests on a model that does not exist yet are 403 too: the answer
     * does not tell whether hub-b has such a model. */
    raw_as(hub_a_auth, "PATCH", "/v1/models/hub-b/missing", "{'task':'x'}", NULL, &r);
    assert_forbidden(&r, NULL, "PATCH of an unknown hub-b model");
    ct_raw_cleanup(&r);

    ASSERT_UNCHANGED(before, "hub-b/base", "a write by another namespace's token");
    free(before);
    ck_assert_int_eq(inferences_of("hub-b/base"), 40);

    /* The token does write its own namespace, in any spelling. */
    raw_as(hub_a_auth, "PATCH", "/v1/models/HUB-A/own", "{'task':'mine'}", NULL, &r);
    ck_assert_msg(r.status == 200, "PATCH of its own model answered %d: %s", r.status, r.body);
    ct_raw_cleanup(&r);
}
END_TEST

START_TEST(another_namespace_named_in_the_body_is_403_and_stores_nothing)
{
    struct ct_raw_response r;
    char *before;

    seed_two_hubs();
    before = snapshot("hub-b/base");
    raw_as(hub_a_auth, "POST", "/v1/models", "{'id':'hub-b/x'}", NULL, &r);
    assert_forbidden(&r, NULL, "registering hub-b/x");
    ct_raw_cleanup(&r);
    raw_as(hub_a_auth, "POST", "/v1/models", "{'id':'HUB-B/y','parents':[{'id':'hub-b/base'}]}",
           NULL, &r);
    assert_forbidden(&r, NULL, "registering HUB-B/y under hub-b/base");
    ct_raw_cleanup(&r);
    ck_assert_int_eq(status_of_get("/v1/models/hub-b/x"), 404);
    ck_assert_int_eq(status_of_get("/v1/models/hub-b/y"), 404);
    ck_assert_uint_eq(models_in("hub-b"), 1);

    /* A batch with one foreign item is refused whole: nothing counted, not even the
     * token's own model. */
    raw_as(hub_a_auth, "POST", "/v1/inference-reports",
           "{'reports':[{'model':'hub-a/own','count':5},{'model':'hub-b/base','count':500}]}",
           "Idempotency-Key: batch-foreign\r\n", &r);
    assert_forbidden(&r, "/reports/1/model", "a batch with a hub-b item");
    ct_raw_cleanup(&r);
    ck_assert_int_eq(inferences_of("hub-a/own"), 0);
    ASSERT_UNCHANGED(before, "hub-b/base", "a foreign body");
    free(before);

    /* The same key, now with a batch of its own models, is a new request. */
    raw_as(hub_a_auth, "POST", "/v1/inference-reports",
           "{'reports':[{'model':'hub-a/own','count':5}]}", "Idempotency-Key: batch-foreign\r\n",
           &r);
    ck_assert_msg(r.status == 200, "its own batch answered %d: %s", r.status, r.body);
    ct_raw_cleanup(&r);
    ck_assert_int_eq(inferences_of("hub-a/own"), 5);
}
END_TEST

/* Strips a model representation of the figures a new child changes. */
static json_t *model_without_family(const char *model)
{
    struct ct_response r;
    char path[128];
    json_t *m;

    snprintf(path, sizeof path, "/v1/models/%s", model);
    ct_get(srv, path, &r);
    ck_assert_msg(r.status == 200, "GET %s answered %ld", path, r.status);
    m = json_incref(r.json);
    ct_response_cleanup(&r);
    json_object_del(m, "children_count");
    return m;
}

START_TEST(a_child_under_another_namespaces_parent_is_allowed_and_changes_only_family_figures)
{
    struct ct_raw_response r;
    struct ct_response g;
    json_t *before, *after;
    char *before_text, *after_text;
    long long children_before;

    seed_two_hubs();
    ct_get(srv, "/v1/models/hub-b/base", &g);
    children_before = (long long)json_integer_value(json_object_get(g.json, "children_count"));
    ct_response_cleanup(&g);
    before = model_without_family("hub-b/base");

    /* Cross-hub lineage (documented policy): hub-a may fine-tune hub-b's model. */
    raw_as(hub_a_auth, "POST", "/v1/models",
           "{'id':'hub-a/child','parents':[{'id':'hub-b/base','relation':'finetune'}]}", NULL, &r);
    ck_assert_msg(r.status == 201, "registering hub-a/child answered %d: %s", r.status, r.body);
    ct_raw_cleanup(&r);
    raw_as(hub_a_auth, "PATCH", "/v1/models/hub-a/own",
           "{'parents':[{'id':'hub-b/base','relation':'adapter'}]}", NULL, &r);
    ck_assert_msg(r.status == 200, "reparenting hub-a/own answered %d: %s", r.status, r.body);
    ct_raw_cleanup(&r);

    after = model_without_family("hub-b/base");
    before_text = json_dumps(before, JSON_COMPACT | JSON_SORT_KEYS);
    after_text = json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS);
    ck_assert_msg(strcmp(before_text, after_text) == 0,
                  "hub-b/base changed beyond its family:\nbefore: %s\nafter: %s", before_text,
                  after_text);
    free(before_text);
    free(after_text);
    json_decref(before);
    json_decref(after);
    ct_get(srv, "/v1/models/hub-b/base", &g);
    ck_assert_int_eq(json_integer_value(json_object_get(g.json, "children_count")),
                     children_before + 2);
    ct_response_cleanup(&g);
    /* Its own ledger is untouched. */
    ck_assert_int_eq(inferences_of("hub-b/base"), 40);
    ct_get(srv, "/v1/models/hub-b/base/activities", &g);
    ck_assert_uint_eq(json_array_size(json_object_get(g.json, "items")), 1);
    ct_response_cleanup(&g);
    /* hub-a still cannot delete hub-b's model, even with children of its own there. */
    raw_as(hub_a_auth, "DELETE", "/v1/models/hub-b/base", NULL, NULL, &r);
    assert_forbidden(&r, NULL, "deleting the foreign parent");
    ct_raw_cleanup(&r);
}
END_TEST

/* ---- S7: credentials in the query string ---- */

#define QUERY_SECRET "ct_QuerySecretThatMustNeverBeLogged0123456"

START_TEST(a_token_in_the_query_string_is_400_never_accepted_and_never_logged)
{
    static const char *const paths[] = {
        "/v1/models?access_token=" CT_ADMIN_TOKEN,
        "/v1/models?token=" CT_ADMIN_TOKEN,
        "/v1/models?access_token=" QUERY_SECRET,
        "/v1/models?pretty=1&token=" QUERY_SECRET,
    };
    struct ct_response r;
    char *log;

    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        /* No header: the query would be the only credential. */
        as(NULL, "POST", paths[i], "{'id':'hub-a/by-query'}", NULL, &r);
        CT_ASSERT_PROBLEM(&r, 400, "bad-request", NULL);
        ck_assert_msg(strstr(r.body, CT_ADMIN_TOKEN) == NULL &&
                          strstr(r.body, QUERY_SECRET) == NULL,
                      "the answer repeats the token: %s", r.body);
        ct_response_cleanup(&r);
        /* With a valid header too: still refused, the URL has leaked already. */
        as(CT_ADMIN_TOKEN, "POST", paths[i], "{'id':'hub-a/by-query'}", NULL, &r);
        CT_ASSERT_PROBLEM(&r, 400, "bad-request", NULL);
        ct_response_cleanup(&r);
        /* Reads and the public routes refuse it as well. */
        as(NULL, "GET", paths[i], NULL, NULL, &r);
        CT_ASSERT_PROBLEM(&r, 400, "bad-request", NULL);
        ct_response_cleanup(&r);
    }
    as(NULL, "GET", "/healthz?access_token=" QUERY_SECRET, NULL, NULL, &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", NULL);
    ct_response_cleanup(&r);
    as(NULL, "GET", "/readyz?token=" QUERY_SECRET, NULL, NULL, &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", NULL);
    ct_response_cleanup(&r);
    as(NULL, "GET", "/openapi.yaml?access_token=" QUERY_SECRET, NULL, NULL, &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", NULL);
    ct_response_cleanup(&r);
    as(NULL, "DELETE", "/v1/tokens/1?access_token=" CT_ADMIN_TOKEN, NULL, NULL, &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", NULL);
    ct_response_cleanup(&r);
    ck_assert_int_eq(status_of_get("/v1/models/hub-a/by-query"), 404);
    ck_assert_uint_eq(tokens_listed(), 1);

    /* The server logged these requests (debug level), but never the token. */
    log = ct_server_output(srv);
    ck_assert_msg(strstr(log, "/v1/models") != NULL, "nothing was logged: %s", log);
    ck_assert_msg(strstr(log, CT_ADMIN_TOKEN) == NULL, "the admin token is in the log: %s", log);
    ck_assert_msg(strstr(log, QUERY_SECRET) == NULL, "a query token is in the log: %s", log);
    ck_assert_msg(strstr(log, "QuerySecret") == NULL, "part of a query token is logged: %s", log);
    free(log);
}
END_TEST

/* ---- S9, S10: the per-token write rate limit ---- */

struct burst {
    const char *token;
    atomic_int next;
    atomic_int created, limited, other;
    atomic_int bad_retry_after; /* 429 without an integer Retry-After >= 1 or a problem */
    long first_other;
    int max_retry_after;
    pthread_mutex_t mu;
};

static void *burst_run(void *cls)
{
    struct burst *b = cls;

    for (int i = atomic_fetch_add(&b->next, 1); i < BURST_WRITES;
         i = atomic_fetch_add(&b->next, 1)) {
        struct ct_response r;
        char body[64];

        snprintf(body, sizeof body, "{'id':'hub-a/burst-%d'}", i);
        as(b->token, "POST", "/v1/models", body, NULL, &r);
        if (r.status == 201) {
            atomic_fetch_add(&b->created, 1);
        } else if (r.status == 429) {
            char why[512], *end = NULL;
            long seconds = strtol(r.retry_after, &end, 10);
            atomic_fetch_add(&b->limited, 1);
            if (r.retry_after[0] == '\0' || *end != '\0' || seconds < 1 ||
                !ct_problem_ok(r.status, r.content_type, r.json, 429, "rate-limited", NULL, why,
                               sizeof why))
                atomic_fetch_add(&b->bad_retry_after, 1);
            pthread_mutex_lock(&b->mu);
            if (seconds > b->max_retry_after)
                b->max_retry_after = (int)seconds;
            pthread_mutex_unlock(&b->mu);
        } else {
            atomic_fetch_add(&b->other, 1);
            pthread_mutex_lock(&b->mu);
            if (b->first_other == 0)
                b->first_other = r.status;
            pthread_mutex_unlock(&b->mu);
        }
        ct_response_cleanup(&r);
    }
    return NULL;
}

START_TEST(a_burst_over_the_limit_is_429_with_retry_after_and_applies_nothing)
{
    struct token a, b;
    struct burst burst = {0};
    pthread_t threads[BURST_THREADS];
    struct ct_response r;
    double started;
    int b_created = 0;
    long long counted_before, counted_ok = 0;

    token_created("burst-a", "'models:write','inferences:write'", "'hub-a'", &a);
    token_created("burst-b", "'models:write','inferences:write'", "'hub-a'", &b);
    registered("{'id':'hub-a/counted'}");
    counted_before = inferences_of("hub-a/counted");

    burst.token = a.secret;
    pthread_mutex_init(&burst.mu, NULL);
    started = ct_now();
    for (int i = 0; i < BURST_THREADS; i++)
        ck_assert_int_eq(pthread_create(&threads[i], NULL, burst_run, &burst), 0);
    for (int i = 0; i < BURST_THREADS; i++)
        pthread_join(threads[i], NULL);
    pthread_mutex_destroy(&burst.mu);

    /* The second token, from the same address at the same moment: its own bucket. */
    for (int i = 0; i < 15; i++) {
        char body[64];
        snprintf(body, sizeof body, "{'id':'hub-a/other-%d'}", i);
        as(b.secret, "POST", "/v1/models", body, NULL, &r);
        if (r.status == 201)
            b_created++;
        ct_response_cleanup(&r);
    }
    /* Token A's inference writes are limited too, and a limited one counts nothing. */
    for (int i = 0; i < 5; i++) {
        char key[32];
        snprintf(key, sizeof key, "burst-%d", i);
        if (counted_as(a.secret, "hub-a/counted", 3, key, &r) == 200)
            counted_ok += 3;
        else
            ck_assert_msg(r.status == 429, "a counted write answered %ld: %s", r.status, r.body);
        ct_response_cleanup(&r);
    }

    ck_assert_msg(atomic_load(&burst.other) == 0, "%d answers were neither 201 nor 429 (first %ld)",
                  atomic_load(&burst.other), burst.first_other);
    ck_assert_msg(atomic_load(&burst.limited) >= MIN_LIMITED,
                  "only %d of %d writes were limited in %.3f s (%d created)",
                  atomic_load(&burst.limited), BURST_WRITES, ct_now() - started,
                  atomic_load(&burst.created));
    ck_assert_msg(atomic_load(&burst.bad_retry_after) == 0,
                  "%d answers of 429 lacked an integer Retry-After >= 1 or a problem body",
                  atomic_load(&burst.bad_retry_after));
    ck_assert_int_eq(b_created, 15);
    /* Exactly the acknowledged writes are stored. */
    ck_assert_uint_eq(models_in("hub-a"), 1 + 15 + (size_t)atomic_load(&burst.created));
    ck_assert_int_eq(inferences_of("hub-a/counted"), counted_before + counted_ok);

    /* After Retry-After seconds, token A writes again. */
    ck_assert_int_ge(burst.max_retry_after, 1);
    ck_assert_int_le(burst.max_retry_after, 5);
    sleep((unsigned)burst.max_retry_after);
    as(a.secret, "POST", "/v1/models", "{'id':'hub-a/after-wait'}", NULL, &r);
    ASSERT_STATUS(&r, 201);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(a_limited_write_is_not_applied_and_reads_are_not_limited)
{
    struct token a;
    struct ct_response r;
    long long created = 0, limited = 0;
    bool kept_applied = false;

    token_created("reader-writer", "'models:write','inferences:write'", "'hub-a'", &a);
    registered("{'id':'hub-a/limited'}");
    /* Empty the bucket with counted writes: each answer is 200 (counted) or 429. */
    for (int i = 0; i < 40; i++) {
        char key[32];
        snprintf(key, sizeof key, "drain-%d", i);
        if (counted_as(a.secret, "hub-a/limited", 1, key, &r) == 200) {
            created++;
        } else {
            CT_ASSERT_PROBLEM(&r, 429, "rate-limited", NULL);
            limited++;
        }
        ct_response_cleanup(&r);
    }
    ck_assert_msg(limited > 0, "40 writes at once were never limited");
    ck_assert_int_eq(inferences_of("hub-a/limited"), created);
    /* A limited write with a key does not burn the key: once allowed, it applies.
     * (The bucket may have refilled one write since the last 429: then this one is
     * applied now and replayed later.) */
    if (counted_as(a.secret, "hub-a/limited", 100, "kept-key", &r) == 200) {
        kept_applied = true;
        created += 100;
    } else {
        CT_ASSERT_PROBLEM(&r, 429, "rate-limited", NULL);
    }
    ct_response_cleanup(&r);
    /* Reads are public and not limited, whatever the token's bucket holds. */
    for (int i = 0; i < 50; i++) {
        as(a.secret, "GET", "/v1/models/hub-a/limited", NULL, NULL, &r);
        ASSERT_STATUS(&r, 200);
        ct_response_cleanup(&r);
    }
    ck_assert_int_eq(inferences_of("hub-a/limited"), created);
    sleep(1);
    ck_assert_int_eq(counted_as(a.secret, "hub-a/limited", 100, "kept-key", &r), 200);
    ct_response_cleanup(&r);
    if (!kept_applied)
        created += 100;
    ck_assert_int_eq(inferences_of("hub-a/limited"), created);
}
END_TEST

/* ---- K7: idempotency keys are scoped per token ---- */

START_TEST(the_same_key_from_another_token_is_a_new_request)
{
    struct token a, b;
    char auth_a[200], auth_b[200];
    struct ct_raw_response r;
    char replayed[32];

    registered("{'id':'hub-a/shared'}");
    token_created("client-a", "'inferences:write'", "'hub-a'", &a);
    token_created("client-b", "'inferences:write'", "'hub-a','hub-c'", &b);
    snprintf(auth_a, sizeof auth_a, "Bearer %s", a.secret);
    snprintf(auth_b, sizeof auth_b, "Bearer %s", b.secret);

    /* Same key, same body: applied once per token. */
    raw_as(auth_a, "POST", "/v1/models/hub-a/shared/inferences", "{'count':5}",
           "Idempotency-Key: shared-key\r\n", &r);
    ck_assert_msg(r.status == 200, "A answered %d: %s", r.status, r.body);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "inferences")), 5);
    ct_raw_cleanup(&r);
    raw_as(auth_b, "POST", "/v1/models/hub-a/shared/inferences", "{'count':5}",
           "Idempotency-Key: shared-key\r\n", &r);
    ck_assert_msg(r.status == 200, "B answered %d: %s", r.status, r.body);
    ck_assert_msg(ct_raw_header(&r, "Idempotent-Replayed", replayed, sizeof replayed) == NULL,
                  "B got A's stored answer: %s", r.head);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "inferences")), 10);
    ct_raw_cleanup(&r);
    ck_assert_int_eq(inferences_of("hub-a/shared"), 10);

    /* Each token's replay is its own answer. */
    raw_as(auth_a, "POST", "/v1/models/hub-a/shared/inferences", "{'count':5}",
           "Idempotency-Key: shared-key\r\n", &r);
    ck_assert_msg(r.status == 200 &&
                      ct_raw_header(&r, "Idempotent-Replayed", replayed, sizeof replayed) != NULL,
                  "A's replay answered %d: %s%s", r.status, r.head, r.body);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "inferences")), 5);
    ct_raw_cleanup(&r);
    raw_as(auth_b, "POST", "/v1/models/hub-a/shared/inferences", "{'count':5}",
           "Idempotency-Key: shared-key\r\n", &r);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "inferences")), 10);
    ct_raw_cleanup(&r);
    ck_assert_int_eq(inferences_of("hub-a/shared"), 10);

    /* Same key, different bodies: B's is applied, not 422. */
    raw_as(auth_a, "POST", "/v1/models/hub-a/shared/inferences", "{'count':1}",
           "Idempotency-Key: other-key\r\n", &r);
    ck_assert_msg(r.status == 200, "A answered %d: %s", r.status, r.body);
    ct_raw_cleanup(&r);
    raw_as(auth_b, "POST", "/v1/models/hub-a/shared/inferences", "{'count':2}",
           "Idempotency-Key: other-key\r\n", &r);
    ck_assert_msg(r.status == 200, "B with another body answered %d: %s", r.status, r.body);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "count")), 2);
    ct_raw_cleanup(&r);
    ck_assert_int_eq(inferences_of("hub-a/shared"), 13);

    /* Batches too: the same key from both tokens counts twice. */
    raw_as(auth_a, "POST", "/v1/inference-reports",
           "{'reports':[{'model':'hub-a/shared','count':7}]}", "Idempotency-Key: batch-key\r\n",
           &r);
    ck_assert_msg(r.status == 200, "A's batch answered %d: %s", r.status, r.body);
    ct_raw_cleanup(&r);
    raw_as(auth_b, "POST", "/v1/inference-reports",
           "{'reports':[{'model':'hub-a/shared','count':7}]}", "Idempotency-Key: batch-key\r\n",
           &r);
    ck_assert_msg(r.status == 200 &&
                      ct_raw_header(&r, "Idempotent-Replayed", replayed, sizeof replayed) == NULL,
                  "B's batch answered %d: %s", r.status, r.head);
    ct_raw_cleanup(&r);
    ck_assert_int_eq(inferences_of("hub-a/shared"), 27);
}
END_TEST

/* ---- the tokens API ---- */

START_TEST(a_created_token_is_shown_once_and_never_listed)
{
    struct ct_raw_response r;
    struct ct_response l;
    char cache[64], secret[128], auth[200], path[64];
    const json_t *items;
    long long id;

    raw_as("Bearer " CT_ADMIN_TOKEN, "POST", "/v1/tokens",
           "{'name':'ci uploader','scopes':['inferences:write','models:write'],"
           "'namespaces':['hub-a','hub-b']}",
           NULL, &r);
    ck_assert_msg(r.status == 201, "POST /v1/tokens answered %d: %s", r.status, r.body);
    ck_assert_str_eq(raw_header(&r, "Cache-Control", cache, sizeof cache), "no-store");
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "name")), "ci uploader");
    ck_assert_msg(json_is_null(json_object_get(r.json, "revoked_at")), "%s", r.body);
    ck_assert_uint_eq(json_array_size(json_object_get(r.json, "scopes")), 2);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(r.json, "namespaces"), 1)),
                     "hub-b");
    snprintf(secret, sizeof secret, "%s", json_string_value(json_object_get(r.json, "token")));
    id = (long long)json_integer_value(json_object_get(r.json, "id"));
    ct_raw_cleanup(&r);
    /* At least 128 random bits: "ct_" and 43 URL-safe base64 characters (256 bits). */
    ck_assert_msg(strncmp(secret, "ct_", 3) == 0 && strlen(secret) >= 3 + 22,
                  "token '%s' is not ct_ and at least 128 bits", secret);
    for (const char *p = secret + 3; *p; p++)
        ck_assert_msg(
            strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p) != NULL,
            "token '%s' is not URL-safe", secret);

    /* It works, within its namespaces. */
    snprintf(auth, sizeof auth, "Bearer %s", secret);
    raw_as(auth, "POST", "/v1/models", "{'id':'hub-b/by-new-token'}", NULL, &r);
    ck_assert_msg(r.status == 201, "the new token answered %d: %s", r.status, r.body);
    ct_raw_cleanup(&r);

    /* The list never shows a secret, neither this one nor the admin's. */
    ct_get(srv, "/v1/tokens", &l);
    ASSERT_STATUS(&l, 200);
    ck_assert_msg(strstr(l.body, secret) == NULL && strstr(l.body, secret + 3) == NULL,
                  "the list shows the secret: %s", l.body);
    ck_assert_msg(strstr(l.body, CT_ADMIN_TOKEN) == NULL, "the list shows the admin's: %s", l.body);
    items = json_object_get(l.json, "items");
    ck_assert_uint_eq(json_array_size(items), 2);
    for (size_t i = 0; i < json_array_size(items); i++) {
        const json_t *item = json_array_get(items, i);
        ck_assert_msg(json_object_get(item, "token") == NULL &&
                          json_object_get(item, "hash") == NULL,
                      "an item carries a secret or its hash: %s", l.body);
    }
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(items, 1), "id")), id);
    ct_response_cleanup(&l);

    /* Two tokens created alike are different. */
    {
        struct token other;
        token_created("ci uploader", "'inferences:write','models:write'", "'hub-a','hub-b'",
                      &other);
        ck_assert_str_ne(other.secret, secret);
    }

    /* DELETE revokes: 204, it shows as revoked, and it no longer works. */
    snprintf(path, sizeof path, "/v1/tokens/%lld", id);
    ck_assert_int_eq(ct_request(srv, "DELETE", path, NULL, NULL, 0, &l), 204);
    ck_assert_uint_eq(l.body_len, 0);
    ct_response_cleanup(&l);
    ct_get(srv, "/v1/tokens", &l);
    ck_assert_msg(json_is_string(json_object_get(
                      json_array_get(json_object_get(l.json, "items"), 1), "revoked_at")),
                  "not shown as revoked: %s", l.body);
    ct_response_cleanup(&l);
    raw_as(auth, "POST", "/v1/models", "{'id':'hub-b/after-revoke'}", NULL, &r);
    assert_unauthorized(&r, "invalid_token", "the revoked token");
    ct_raw_cleanup(&r);
    /* Revoking again is harmless; an unknown or malformed id is 404. */
    ck_assert_int_eq(ct_request(srv, "DELETE", path, NULL, NULL, 0, &l), 204);
    ct_response_cleanup(&l);
    ct_request(srv, "DELETE", "/v1/tokens/999", NULL, NULL, 0, &l);
    CT_ASSERT_PROBLEM(&l, 404, "not-found", NULL);
    ct_response_cleanup(&l);
    ct_request(srv, "DELETE", "/v1/tokens/abc", NULL, NULL, 0, &l);
    CT_ASSERT_PROBLEM(&l, 404, "not-found", NULL);
    ct_response_cleanup(&l);
    ct_request(srv, "DELETE", "/v1/tokens/0", NULL, NULL, 0, &l);
    CT_ASSERT_PROBLEM(&l, 404, "not-found", NULL);
    ct_response_cleanup(&l);
}
END_TEST

START_TEST(the_token_list_pages_with_limit_and_cursor)
{
    struct ct_response r;
    struct token t;
    const char *next;
    char path[128];

    for (int i = 0; i < 4; i++) {
        char name[32];
        snprintf(name, sizeof name, "paged-%d", i);
        token_created(name, "'models:write'", "'hub-a'", &t);
    }
    ct_get(srv, "/v1/tokens?limit=3", &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(r.json, "items")), 3);
    next = json_string_value(json_object_get(r.json, "next_cursor"));
    ck_assert_msg(next != NULL && r.link[0] != '\0', "no next page: %s", r.body);
    snprintf(path, sizeof path, "/v1/tokens?limit=3&cursor=%s", next);
    ct_response_cleanup(&r);
    ct_get(srv, path, &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(r.json, "items")), 2);
    ck_assert_msg(json_is_null(json_object_get(r.json, "next_cursor")), "%s", r.body);
    ct_response_cleanup(&r);
    ct_get(srv, "/v1/tokens?limit=0", &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", "limit");
    ct_response_cleanup(&r);
    ct_get(srv, "/v1/tokens?secret=1", &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", "secret");
    ct_response_cleanup(&r);
}
END_TEST

static const struct {
    const char *name;
    const char *body;
    const char *pointer;
} bad_token_bodies[] = {
    {"an unknown scope", "{'name':'n','scopes':['models:read'],'namespaces':['hub-a']}",
     "/scopes/0"},
    {"a scope that is not a string", "{'name':'n','scopes':[1],'namespaces':['hub-a']}",
     "/scopes/0"},
    {"no scopes", "{'name':'n','scopes':[],'namespaces':['hub-a']}", "/scopes"},
    {"scopes not an array", "{'name':'n','scopes':'admin','namespaces':['hub-a']}", "/scopes"},
    {"a bad namespace", "{'name':'n','scopes':['models:write'],'namespaces':['hub a']}",
     "/namespaces/0"},
    {"a path as a namespace", "{'name':'n','scopes':['models:write'],'namespaces':['../etc']}",
     "/namespaces/0"},
    {"a model id as a namespace",
     "{'name':'n','scopes':['models:write'],'namespaces':['hub-a','hub-a/x']}", "/namespaces/1"},
    {"no namespaces", "{'name':'n','scopes':['models:write'],'namespaces':[]}", "/namespaces"},
    {"an empty name", "{'name':'','scopes':['models:write'],'namespaces':['hub-a']}", "/name"},
    {"no name", "{'scopes':['models:write'],'namespaces':['hub-a']}", "/name"},
    {"a name with a control character",
     "{'name':'a\\u0007b','scopes':['models:write'],'namespaces':['hub-a']}", "/name"},
    {"an unknown member",
     "{'name':'n','scopes':['models:write'],'namespaces':['hub-a'],'expires':'never'}", "/expires"},
    {"a token chosen by the client",
     "{'name':'n','scopes':['admin'],'namespaces':['*'],'token':'ct_mine'}", "/token"},
    {"a body that is not an object", "['n']", ""},
};

START_TEST(a_bad_token_body_is_422_naming_the_field_and_creates_nothing)
{
    for (size_t i = 0; i < sizeof bad_token_bodies / sizeof bad_token_bodies[0]; i++) {
        struct ct_response r;
        char why[512];

        ct_send(srv, "POST", "/v1/tokens", bad_token_bodies[i].body, &r);
        ck_assert_msg(ct_problem_ok(r.status, r.content_type, r.json, 422, "invalid-input",
                                    bad_token_bodies[i].pointer, why, sizeof why),
                      "%s: %s; body: %s", bad_token_bodies[i].name, why, r.body);
        ck_assert_msg(strstr(r.body, "\"token\":") == NULL, "%s: %s", bad_token_bodies[i].name,
                      r.body);
        ct_response_cleanup(&r);
    }
    ck_assert_uint_eq(tokens_listed(), 1);
}
END_TEST

/* ---- --auth-reads ---- */

START_TEST(with_auth_reads_reads_need_a_valid_token_and_health_stays_public)
{
    static const char *const reads[] = {
        "/v1/models",
        "/v1/models/hub-a/own",
        "/v1/models/hub-a/own/footprint",
        "/v1/models/hub-a/own/activities",
        "/v1/models/hub-a/own/inferences",
        "/v1/models/hub-a/own/ancestors",
        "/v1/models/hub-a/own/family",
        "/v1/hardware",
        "/v1/regions",
        "/v1/methodology",
    };
    struct token reader;
    char auth[200];
    struct ct_raw_response r;
    struct ct_response g;

    registered("{'id':'hub-a/own'}");
    /* Any valid token reads, whatever its scopes and namespaces. */
    token_created("reader", "'inferences:write'", "'elsewhere'", &reader);
    snprintf(auth, sizeof auth, "Bearer %s", reader.secret);
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        char what[160];

        snprintf(what, sizeof what, "GET %s without a token", reads[i]);
        raw_as(NULL, "GET", reads[i], NULL, NULL, &r);
        assert_unauthorized(&r, NULL, what);
        ct_raw_cleanup(&r);
        snprintf(what, sizeof what, "HEAD %s without a token", reads[i]);
        ct_request(srv, "HEAD", reads[i], (const char *const[]){"Authorization:", NULL}, NULL, 0,
                   &g);
        ck_assert_msg(g.status == 401, "%s answered %ld", what, g.status);
        ct_response_cleanup(&g);
        snprintf(what, sizeof what, "GET %s with an unknown token", reads[i]);
        raw_as("Bearer ct_nobody", "GET", reads[i], NULL, NULL, &r);
        assert_unauthorized(&r, "invalid_token", what);
        ct_raw_cleanup(&r);
        raw_as(auth, "GET", reads[i], NULL, NULL, &r);
        ck_assert_msg(r.status == 200, "GET %s with a token answered %d: %s", reads[i], r.status,
                      r.body);
        ct_raw_cleanup(&r);
    }
    /* The calculator and the comparison read nothing but are not public either. */
    raw_as(NULL, "POST", "/v1/compare",
           "{'a':{'fixed_co2e_kg':1,'co2e_g_per_inference':1},"
           "'b':{'fixed_co2e_kg':2,'co2e_g_per_inference':1}}",
           NULL, &r);
    assert_unauthorized(&r, NULL, "POST /v1/compare without a token");
    ct_raw_cleanup(&r);
    raw_as(NULL, "POST", "/v1/estimates",
           "{'method':'power','hours':1,'devices':[{'power_w':100,'count':1}]}", NULL, &r);
    assert_unauthorized(&r, NULL, "POST /v1/estimates without a token");
    ct_raw_cleanup(&r);
    raw_as(auth, "POST", "/v1/estimates",
           "{'method':'power','hours':1,'devices':[{'power_w':100,'count':1}]}", NULL, &r);
    ck_assert_msg(r.status == 200, "an estimate with a token answered %d: %s", r.status, r.body);
    ct_raw_cleanup(&r);
    /* Health, readiness and the contract stay public. */
    raw_as(NULL, "GET", "/healthz", NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ct_raw_cleanup(&r);
    raw_as(NULL, "GET", "/readyz", NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ct_raw_cleanup(&r);
    raw_as(NULL, "GET", "/openapi.yaml", NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ct_raw_cleanup(&r);
    /* A revoked token reads no more. */
    {
        char path[64];
        snprintf(path, sizeof path, "/v1/tokens/%lld", reader.id);
        ck_assert_int_eq(ct_request(srv, "DELETE", path, NULL, NULL, 0, &g), 204);
        ct_response_cleanup(&g);
    }
    raw_as(auth, "GET", "/v1/models", NULL, NULL, &r);
    assert_unauthorized(&r, "invalid_token", "a read with a revoked token");
    ct_raw_cleanup(&r);
}
END_TEST

START_TEST(by_default_reads_are_public)
{
    struct ct_raw_response r;

    registered("{'id':'hub-a/own'}");
    raw_as(NULL, "GET", "/v1/models/hub-a/own", NULL, NULL, &r);
    ck_assert_msg(r.status == 200, "a public read answered %d: %s", r.status, r.body);
    ct_raw_cleanup(&r);
    raw_as(NULL, "GET", "/v1/models", NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ct_raw_cleanup(&r);
    /* ... but the token list is an admin write-side route. */
    raw_as(NULL, "GET", "/v1/tokens", NULL, NULL, &r);
    assert_unauthorized(&r, NULL, "GET /v1/tokens without a token");
    ct_raw_cleanup(&r);
}
END_TEST

/* ---- the token command ---- */

/* Runs the binary with args through the shell, stdout and stderr kept apart.
 * Returns the exit status; *out and *err receive the texts (caller frees). */
static int run_split(const char *args, const char *env, char **out, char **err)
{
    const char *bin = getenv("CARBONTREE_BIN");
    char command[4096], err_path[700];
    FILE *p, *f;
    size_t len = 0, cap = 4096;
    int status;

    ck_assert_ptr_nonnull(bin);
    snprintf(err_path, sizeof err_path, "%s/command.err", srv->dir);
    snprintf(command, sizeof command, "%s '%s' %s 2>'%s'", env ? env : "", bin, args, err_path);
    p = popen(command, "r");
    ck_assert_ptr_nonnull(p);
    *out = malloc(cap);
    ck_assert_ptr_nonnull(*out);
    for (size_t n; (n = fread(*out + len, 1, cap - len - 1, p)) > 0;) {
        len += n;
        if (cap - len < 1024) {
            cap *= 2;
            *out = realloc(*out, cap);
            ck_assert_ptr_nonnull(*out);
        }
    }
    (*out)[len] = '\0';
    status = pclose(p);
    f = fopen(err_path, "r");
    *err = calloc(1, 65536);
    ck_assert_ptr_nonnull(*err);
    if (f) {
        size_t n = fread(*err, 1, 65535, f);
        (*err)[n] = '\0';
        fclose(f);
    }
    ck_assert_msg(strstr(*err, "Sanitizer") == NULL && strstr(*err, "runtime error") == NULL,
                  "sanitizer report: %s", *err);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

START_TEST(token_command_creates_lists_and_revokes_tokens_a_server_honours)
{
    char args[1024], *out, *err, auth[200], secret[128];
    struct ct_raw_response r;
    int status;
    long long id = 0;

    /* The server created and migrated the database; the command works beside it. */
    snprintf(args, sizeof args,
             "token create --name cli-made --scopes models:write --namespaces hub-a --db '%s'",
             srv->db_path);
    status = run_split(args, NULL, &out, &err);
    ck_assert_msg(status == 0, "token create exited %d: %s", status, err);
    ck_assert_msg(strncmp(out, "ct_", 3) == 0 && strchr(out, '\n') == out + strlen(out) - 1,
                  "stdout is not one token line: '%s'", out);
    out[strlen(out) - 1] = '\0';
    snprintf(secret, sizeof secret, "%s", out);
    ck_assert_msg(strstr(err, secret) == NULL, "stderr repeats the token: %s", err);
    ck_assert_msg(sscanf(err, "token %lld", &id) == 1 && id > 0, "stderr names no id: %s", err);
    free(out);
    free(err);

    snprintf(auth, sizeof auth, "Bearer %s", secret);
    raw_as(auth, "POST", "/v1/models", "{'id':'hub-a/from-cli'}", NULL, &r);
    ck_assert_msg(r.status == 201, "the command's token answered %d: %s", r.status, r.body);
    ct_raw_cleanup(&r);
    raw_as(auth, "POST", "/v1/models", "{'id':'hub-b/from-cli'}", NULL, &r);
    assert_forbidden(&r, NULL, "the command's token outside its namespaces");
    ct_raw_cleanup(&r);

    snprintf(args, sizeof args, "token list --db '%s'", srv->db_path);
    status = run_split(args, NULL, &out, &err);
    ck_assert_msg(status == 0, "token list exited %d: %s", status, err);
    ck_assert_msg(strstr(out, "cli-made") != NULL && strstr(out, "models:write") != NULL &&
                      strstr(out, "hub-a") != NULL,
                  "the list lacks the token: %s", out);
    ck_assert_msg(strstr(out, secret) == NULL && strstr(out, secret + 3) == NULL &&
                      strstr(out, CT_ADMIN_TOKEN) == NULL,
                  "the list shows a secret: %s", out);
    ck_assert_msg(strstr(out, "(revoked)") == NULL, "%s", out);
    free(out);
    free(err);

    snprintf(args, sizeof args, "token revoke %lld --db '%s'", id, srv->db_path);
    status = run_split(args, NULL, &out, &err);
    ck_assert_msg(status == 0, "token revoke exited %d: %s", status, err);
    free(out);
    free(err);
    raw_as(auth, "POST", "/v1/models", "{'id':'hub-a/after-cli-revoke'}", NULL, &r);
    assert_unauthorized(&r, "invalid_token", "a token revoked by the command");
    ct_raw_cleanup(&r);

    snprintf(args, sizeof args, "token list --db '%s'", srv->db_path);
    run_split(args, NULL, &out, &err);
    ck_assert_msg(strstr(out, "(revoked)") != NULL, "not listed as revoked: %s", out);
    free(out);
    free(err);

    /* An unknown id is exit 2 with a message. */
    snprintf(args, sizeof args, "token revoke 999 --db '%s'", srv->db_path);
    status = run_split(args, NULL, &out, &err);
    ck_assert_msg(status == 2 && strstr(err, "999") != NULL, "revoke 999 exited %d: %s", status,
                  err);
    free(out);
    free(err);
}
END_TEST

static const struct {
    const char *name;
    const char *args;
    const char *message; /* a word stderr must hold */
} bad_token_commands[] = {
    {"an unknown scope", "token create --name x --scopes models:read --namespaces a", "scopes"},
    {"no scopes", "token create --name x --namespaces a", "scopes"},
    {"a bad namespace", "token create --name x --scopes models:write --namespaces 'a b'",
     "namespace"},
    {"no name", "token create --scopes models:write --namespaces a", "name"},
    {"no id to revoke", "token revoke", "id"},
    {"a malformed id", "token revoke 12x", "id"},
    {"an unknown action", "token rotate", "Usage"},
};

START_TEST(a_bad_token_command_exits_2_with_a_message_and_creates_nothing)
{
    for (size_t i = 0; i < sizeof bad_token_commands / sizeof bad_token_commands[0]; i++) {
        char args[1024], *out, *err;
        int status;

        /* --db=PATH: an option in one word, whatever the command's own parsing. */
        snprintf(args, sizeof args, "%s --db='%s'", bad_token_commands[i].args, srv->db_path);
        status = run_split(args, NULL, &out, &err);
        ck_assert_msg(status == 2, "%s: exit %d; stdout '%s' stderr '%s'",
                      bad_token_commands[i].name, status, out, err);
        ck_assert_msg(strstr(err, bad_token_commands[i].message) != NULL,
                      "%s: stderr does not mention '%s': %s", bad_token_commands[i].name,
                      bad_token_commands[i].message, err);
        ck_assert_msg(strstr(out, "ct_") == NULL, "%s printed a token: %s",
                      bad_token_commands[i].name, out);
        free(out);
        free(err);
    }
    ck_assert_uint_eq(tokens_listed(), 1);
}
END_TEST

/* The usage is `token revoke ID [options]`; options before the id are options
 * too, not the id. */
START_TEST(token_revoke_takes_options_before_the_id)
{
    char args[1024], *out, *err;
    struct token t;
    struct ct_raw_response r;
    char auth[200];
    int status;

    token_created("revoked-by-cli", "'models:write'", "'hub-a'", &t);
    snprintf(args, sizeof args, "token revoke --db '%s' %lld", srv->db_path, t.id);
    status = run_split(args, NULL, &out, &err);
    ck_assert_msg(status == 0, "token revoke --db PATH %lld exited %d: %s", t.id, status, err);
    free(out);
    free(err);
    snprintf(auth, sizeof auth, "Bearer %s", t.secret);
    raw_as(auth, "POST", "/v1/models", "{'id':'hub-a/x'}", NULL, &r);
    assert_unauthorized(&r, "invalid_token", "a token revoked by `token revoke --db PATH ID`");
    ct_raw_cleanup(&r);
}
END_TEST

START_TEST(a_short_admin_token_in_the_environment_stops_serve)
{
    static const char *const short_env[] = {"CARBONTREE_ADMIN_TOKEN=too-short-0123456789", NULL};
    static const char *const bad_env[] = {
        "CARBONTREE_ADMIN_TOKEN=has spaces in it 0123456789abcdef", NULL};
    struct ct_server *s = ct_server_new();
    char why[4096];

    s->env = short_env;
    ck_assert_msg(!ct_server_start(s, why, sizeof why), "serve started with a 22-character token");
    ck_assert_msg(strstr(why, "CARBONTREE_ADMIN_TOKEN") != NULL && strstr(why, "24") != NULL,
                  "no clear message: %s", why);
    ck_assert_msg(strstr(why, "too-short-0123456789") == NULL, "the value is logged: %s", why);
    ck_assert_msg(strstr(why, "status 0") == NULL, "exit status 0: %s", why);

    s->env = bad_env;
    ck_assert_msg(!ct_server_start(s, why, sizeof why), "serve started with a token with spaces");
    ck_assert_msg(strstr(why, "CARBONTREE_ADMIN_TOKEN") != NULL, "no clear message: %s", why);
}
END_TEST

START_TEST(the_environment_admin_token_seeds_only_a_database_without_one)
{
    static const char *const env[] = {"CARBONTREE_ADMIN_TOKEN=second-admin-token-0123456789abcdef",
                                      NULL};
    struct ct_response r;
    char why[4096];

    /* The database has the harness's admin token: another value adds nothing. */
    ck_assert_int_eq(ct_server_stop(srv), 0);
    srv->env = env;
    ck_assert_msg(ct_server_start(srv, why, sizeof why), "%s", why);
    as("second-admin-token-0123456789abcdef", "POST", "/v1/models", "{'id':'hub-a/second'}", NULL,
       &r);
    ck_assert_msg(r.status == 401, "the second value became a token: %ld %s", r.status, r.body);
    ct_response_cleanup(&r);
    as(CT_ADMIN_TOKEN, "POST", "/v1/models", "{'id':'hub-a/first'}", NULL, &r);
    ASSERT_STATUS(&r, 201);
    ct_response_cleanup(&r);
    ck_assert_uint_eq(tokens_listed(), 1);
}
END_TEST

/* An admin may revoke the token CARBONTREE_ADMIN_TOKEN seeded; a restart with the
 * same value must not bring it back, and must not claim it did. */
START_TEST(a_revoked_environment_admin_token_stays_revoked_after_a_restart)
{
    static const char *const info[] = {"--log-level", "info", NULL};
    struct ct_response r;
    char why[4096], *log;

    ck_assert_int_eq(as(CT_ADMIN_TOKEN, "DELETE", "/v1/tokens/1", NULL, NULL, &r), 204);
    ct_response_cleanup(&r);
    ck_assert_int_eq(ct_server_stop(srv), 0);
    /* The first run logged at warn: whatever says "created" now is the restart's. */
    srv->args = info;
    ck_assert_msg(ct_server_start(srv, why, sizeof why), "%s", why);
    as(CT_ADMIN_TOKEN, "GET", "/v1/tokens", NULL, NULL, &r);
    ck_assert_msg(r.status == 401, "the revoked admin token works again: %ld %s", r.status, r.body);
    ct_response_cleanup(&r);
    log = ct_server_output(srv);
    ck_assert_msg(strstr(log, "listening on") != NULL, "the restart logged nothing: %s", log);
    ck_assert_msg(strstr(log, "created the first admin token") == NULL,
                  "the restart claims it created an admin token: %s", log);
    free(log);
}
END_TEST

static Suite *auth_suite(void)
{
    Suite *s = suite_create("http_auth");
    TCase *authn = tcase_create("authentication");
    TCase *authz = tcase_create("authorization");
    TCase *query = tcase_create("query_credentials");
    TCase *rate = tcase_create("rate_limit");
    TCase *idem = tcase_create("idempotency");
    TCase *tokens = tcase_create("tokens_api");
    TCase *reads = tcase_create("read_auth");
    TCase *public_reads = tcase_create("public_reads");
    TCase *cli = tcase_create("token_command");

    tcase_add_checked_fixture(authn, start_server, stop_servers);
    tcase_add_checked_fixture(authz, start_server, stop_servers);
    tcase_add_checked_fixture(query, start_debug_log_server, stop_servers);
    tcase_add_checked_fixture(rate, start_rate_limited_server, stop_servers);
    tcase_add_checked_fixture(idem, start_server, stop_servers);
    tcase_add_checked_fixture(tokens, start_server, stop_servers);
    tcase_add_checked_fixture(reads, start_read_auth_server, stop_servers);
    tcase_add_checked_fixture(public_reads, start_server, stop_servers);
    tcase_add_checked_fixture(cli, start_server, stop_servers);
    {
        TCase *all[] = {authn, authz, query, rate, idem, tokens, reads, public_reads, cli};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
            tcase_set_timeout(all[i], TEST_TIMEOUT_S);
            suite_add_tcase(s, all[i]);
        }
    }

    tcase_add_test(authn,
                   every_write_without_a_token_is_401_with_a_bearer_challenge_and_changes_nothing);
    tcase_add_test(authn, malformed_and_unknown_credentials_are_401_and_store_nothing);
    tcase_add_test(authn, a_10_kib_token_is_401_invalid_request_and_stores_nothing);
    tcase_add_test(authn, the_scheme_name_is_case_insensitive_and_extra_spaces_are_allowed);
    tcase_add_test(authn, two_authorization_headers_are_refused);
    tcase_add_test(authn, a_revoked_token_is_401_invalid_token_on_its_next_write);

    tcase_add_test(authz, a_token_without_the_scope_is_403_insufficient_scope_and_stores_nothing);
    tcase_add_test(authz, another_namespaces_model_by_path_is_403_and_unchanged);
    tcase_add_test(authz, a_namespaced_token_may_not_write_a_bare_model);
    tcase_add_test(authz, another_namespace_named_in_the_body_is_403_and_stores_nothing);
    tcase_add_test(
        authz, a_child_under_another_namespaces_parent_is_allowed_and_changes_only_family_figures);

    tcase_add_test(query, a_token_in_the_query_string_is_400_never_accepted_and_never_logged);

    tcase_add_test(rate, a_burst_over_the_limit_is_429_with_retry_after_and_applies_nothing);
    tcase_add_test(rate, a_limited_write_is_not_applied_and_reads_are_not_limited);

    tcase_add_test(idem, the_same_key_from_another_token_is_a_new_request);

    tcase_add_test(tokens, a_created_token_is_shown_once_and_never_listed);
    tcase_add_test(tokens, the_token_list_pages_with_limit_and_cursor);
    tcase_add_test(tokens, a_bad_token_body_is_422_naming_the_field_and_creates_nothing);

    tcase_add_test(reads, with_auth_reads_reads_need_a_valid_token_and_health_stays_public);
    tcase_add_test(public_reads, by_default_reads_are_public);

    tcase_add_test(cli, token_command_creates_lists_and_revokes_tokens_a_server_honours);
    tcase_add_test(cli, a_bad_token_command_exits_2_with_a_message_and_creates_nothing);
    tcase_add_test(cli, token_revoke_takes_options_before_the_id);
    tcase_add_test(cli, a_short_admin_token_in_the_environment_stops_serve);
    tcase_add_test(cli, the_environment_admin_token_seeds_only_a_database_without_one);
    tcase_add_test(cli, a_revoked_environment_admin_token_stays_revoked_after_a_restart);
    return s;
}

int main(void)
{
    return ct_main(auth_suite());
}
