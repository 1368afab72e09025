/* SPDX-License-Identifier: Apache-2.0 */
/* Shared harness of the fuzz targets: the service over a private, seeded database,
 * a copy of the server's body decode, and the reply invariants. */
#include "common.h"

#include "log.h"
#include "routes.h"

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define PROBLEM_TYPE_BASE "https://carbontree.dev/problems/"
/* The flags server/http.c send_reply serialises with. */
#define SERVER_DUMP_FLAGS (JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(15))

#define FUZZ_ADMIN_TOKEN "ctfuzz-admin-6f1d2a9c4b7e4e0f9a3b5c8d1e2f3a4b"

static char created_tokens[FUZZ_N_TOKENS - 1][128];
const char *fuzz_tokens[FUZZ_N_TOKENS] = {FUZZ_ADMIN_TOKEN, created_tokens[0], created_tokens[1]};

const char *const fuzz_models[FUZZ_N_MODELS][2] = {
    {"hub-a", "base"},
    {"hub-a", "child"},
    {"hub-b", "merged"},
    {"hub-b", "solo"},
};

/* The seeding requests, run through the real handlers in order. */
static const struct {
    const char *method;
    api_handler_fn handler;
    const char *params[3];
    const char *body;
} seeds[] = {
    {"POST", api_models_post, {NULL}, "{\"id\": \"hub-a/base\", \"task\": \"text-generation\"}"},
    {"POST",
     api_activities_post,
     {"hub-a", "base"},
     "{\"kind\": \"training\", \"energy_kwh\": 7571, \"location\": \"FRA\"}"},
    {"POST",
     api_models_post,
     {NULL},
     "{\"id\": \"hub-a/child\", \"parents\": [{\"id\": \"hub-a/base\", \"relation\": "
     "\"finetune\"}]}"},
    {"POST",
     api_activities_post,
     {"hub-a", "child"},
     "{\"kind\": \"fine_tuning\", \"co2e_kg\": {\"value\": 1.71, \"low\": 1.5, \"high\": 2}}"},
    {"POST",
     api_models_post,
     {NULL},
     "{\"id\": \"hub-b/merged\", \"base_model\": [\"hub-a/base\", \"hub-a/child\"], "
     "\"base_model_relation\": \"merge\", \"co2_eq_emissions\": 1500}"},
    {"POST", api_models_post, {NULL}, "{\"id\": \"hub-b/solo\"}"},
    {"PATCH",
     api_models_patch,
     {"hub-a", "child"},
     "{\"inference\": {\"unit\": \"token\", \"energy_kwh_per_inference\": 0.0001, \"location\": "
     "\"USA\"}}"},
    {"PATCH",
     api_models_patch,
     {"hub-b", "merged"},
     "{\"inference\": {\"unit\": \"word\", \"derived_from_training\": {\"ratio\": 0.5, "
     "\"token_steps\": 128000000000}}}"},
    {"POST", api_inferences_post, {"hub-a", "child"}, "{\"count\": 1000}"},
    {"PUT", api_counters_put, {"hub-b", "merged", "seed-reporter"}, "{\"total\": 123456}"},
    {"POST",
     api_tokens_post,
     {NULL},
     "{\"name\": \"fuzz-hub-a\", \"scopes\": [\"models:write\", \"inferences:write\"], "
     "\"namespaces\": [\"hub-a\"]}"},
    {"POST",
     api_tokens_post,
     {NULL},
     "{\"name\": \"fuzz-hub-b\", \"scopes\": [\"inferences:write\"], \"namespaces\": "
     "[\"hub-b\"]}"},
};

#define STATS_MAX 256

static struct {
    const char *method, *path; /* static storage */
    int status;
    unsigned long long n, n_changed;
} stats[STATS_MAX];
static size_t n_stats;
static bool is_counting;

static int64_t protected_token_ids[8];
static size_t n_protected_tokens;

static struct api_service *service;
static sqlite3 *check_db;
static char dir_path[512];
static char db_path[600];

static void unlink_files(void)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char path[640];

    if (db_path[0] == '\0')
        return;
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(path, sizeof path, "%s%s", db_path, suffixes[i]);
        unlink(path);
    }
    rmdir(dir_path);
}

static void remove_files(void)
{
    if (check_db)
        sqlite3_close(check_db);
    check_db = NULL;
    api_service_destroy(service);
    service = NULL;
    unlink_files();
}

_Noreturn void fuzz_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "\n%s:%d: invariant broken: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    unlink_files(); /* the database is throw-away; libFuzzer keeps the input */
    abort();
}

static void print_stats(void)
{
    fprintf(stderr, "\n%-6s %-42s %6s %10s %10s\n", "", "route", "status", "answers", "db changed");
    for (size_t i = 0; i < n_stats; i++)
        fprintf(stderr, "%-6s %-42s %6d %10llu %10llu\n", stats[i].method, stats[i].path,
                stats[i].status, stats[i].n, stats[i].n_changed);
}

void fuzz_count(const char *method, const char *path, int status, bool has_changed)
{
    size_t i;

    if (!is_counting)
        return;
    for (i = 0; i < n_stats; i++)
        if (stats[i].status == status && stats[i].method == method && stats[i].path == path)
            break;
    if (i == n_stats) {
        if (n_stats == STATS_MAX)
            return;
        stats[n_stats].method = method;
        stats[n_stats].path = path;
        stats[n_stats].status = status;
        n_stats++;
    }
    stats[i].n++;
    if (has_changed)
        stats[i].n_changed++;
}

static bool make_dir(const char *base)
{
    if (base == NULL || base[0] == '\0' || access(base, W_OK) != 0)
        return false;
    snprintf(dir_path, sizeof dir_path, "%s/carbontree-fuzz-XXXXXX", base);
    return mkdtemp(dir_path) != NULL;
}

void fuzz_request_init(struct api_request *req, const char *method, const char *path)
{
    enum err rc;

    memset(req, 0, sizeof *req);
    req->method = method;
    req->path = path;
    req->request_id = "fuzz";
    /* The calling thread's connection, as the server hands a request its own. */
    rc = api_service_connection(service, &req->db);
    FUZZ_CHECK(rc == ERR_OK, "api_service_connection: %s", err_name(rc));
}

static void seed(void)
{
    size_t n_created = 0;

    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        struct api_request req;
        struct api_reply reply;
        json_error_t error;
        char authorization[128];
        json_t *body = json_loads(seeds[i].body, JSON_REJECT_DUPLICATES, &error);
        enum err rc;

        FUZZ_CHECK(body != NULL, "seed %zu is not JSON: %s", i, error.text);
        fuzz_request_init(&req, seeds[i].method, "/seed");
        snprintf(authorization, sizeof authorization, "Bearer %s", fuzz_tokens[0]);
        req.authorization = authorization;
        req.idempotency_key = "fuzz-seed";
        req.body = body;
        for (size_t p = 0; p < 3 && seeds[i].params[p]; p++)
            req.params[req.n_params++] = seeds[i].params[p];
        api_reply_init(&reply);
        rc = seeds[i].handler(service, &req, &reply);
        FUZZ_CHECK(rc == ERR_OK && reply.status >= 200 && reply.status < 300,
                   "seeding step %zu (%s %s) failed: %s %d: %s", i, seeds[i].method, seeds[i].body,
                   err_name(rc), err_http_status(rc), reply.problem.detail);
        if (seeds[i].handler == api_tokens_post) {
            const char *secret = json_string_value(json_object_get(reply.json, "token"));
            FUZZ_CHECK(secret && n_created < FUZZ_N_TOKENS - 1 &&
                           strlen(secret) < sizeof created_tokens[0],
                       "POST /v1/tokens answered no usable token");
            snprintf(created_tokens[n_created++], sizeof created_tokens[0], "%s", secret);
        }
        api_reply_cleanup(&reply);
        json_decref(body);
    }
}

/* Every token that exists after seeding (the three of fuzz_tokens). */
static void remember_tokens(void)
{
    struct api_request req;
    struct api_reply reply;
    char authorization[128];
    enum err rc;
    size_t i;
    json_t *item;

    fuzz_request_init(&req, "GET", "/v1/tokens");
    snprintf(authorization, sizeof authorization, "Bearer %s", fuzz_tokens[0]);
    req.authorization = authorization;
    api_reply_init(&reply);
    rc = api_tokens_list(service, &req, &reply);
    FUZZ_CHECK(rc == ERR_OK && reply.status == 200, "GET /v1/tokens failed: %s: %s", err_name(rc),
               reply.problem.detail);
    json_array_foreach(json_object_get(reply.json, "items"), i, item)
    {
        FUZZ_CHECK(n_protected_tokens < sizeof protected_token_ids / sizeof protected_token_ids[0],
                   "more tokens than expected after seeding");
        protected_token_ids[n_protected_tokens++] = json_integer_value(json_object_get(item, "id"));
    }
    FUZZ_CHECK(n_protected_tokens >= FUZZ_N_TOKENS, "GET /v1/tokens lists %zu tokens",
               n_protected_tokens);
    api_reply_cleanup(&reply);
}

bool fuzz_token_is_protected(const char *id_text)
{
    char *end = NULL;
    long long id;

    /* As api_tokens_delete reads it: strtoll, a leading 1-9, nothing after. */
    if (id_text == NULL || id_text[0] < '1' || id_text[0] > '9')
        return false;
    id = strtoll(id_text, &end, 10);
    if (*end != '\0')
        return false;
    for (size_t i = 0; i < n_protected_tokens; i++)
        if (protected_token_ids[i] == id)
            return true;
    return false;
}

bool fuzz_model_is_seeded(const char *ns, const char *name)
{
    for (size_t i = 0; i < FUZZ_N_MODELS && ns && name; i++)
        if (strcasecmp(ns, fuzz_models[i][0]) == 0 && strcasecmp(name, fuzz_models[i][1]) == 0)
            return true;
    return false;
}

void fuzz_setup(void)
{
    struct api_config config;
    char why[512] = "";
    enum err rc;

    if (service != NULL)
        return;
    /* Quiet: 5xx answers are logged at error level, and abort the run anyway. */
    log_set_level(LOG_ERROR);
    if (!make_dir(getenv("CARBONTREE_FUZZ_DIR")) && !make_dir("/dev/shm") && !make_dir("/tmp"))
        fuzz_fail(__FILE__, __LINE__, "cannot create a directory for the database: %s",
                  strerror(errno));
    snprintf(db_path, sizeof db_path, "%s/ledger.db", dir_path);
    memset(&config, 0, sizeof config);
    config.db_path = db_path;
    config.busy_timeout_ms = 5000;
    config.body_max_bytes = FUZZ_BODY_MAX;
    config.auto_migrate = true;
    config.admin_token = FUZZ_ADMIN_TOKEN;
    rc = api_service_create(&config, &service, why, sizeof why);
    FUZZ_CHECK(rc == ERR_OK, "api_service_create: %s: %s", err_name(rc), why);
    atexit(remove_files);
    is_counting = getenv("CARBONTREE_FUZZ_STATS") != NULL;
    if (is_counting)
        atexit(print_stats);
    seed();
    remember_tokens();
    FUZZ_CHECK(sqlite3_open_v2(db_path, &check_db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK,
               "cannot open %s read-only", db_path);
    fuzz_quick_check();
}

struct api_service *fuzz_service(void)
{
    return service;
}

enum err fuzz_decode_body(const char *text, size_t len, json_t **out, struct api_problem *problem)
{
    return route_decode_body(text, len, out, problem);
}

void fuzz_check_roundtrip(const json_t *body)
{
    json_error_t error;
    char *text;
    json_t *again;

    /* JSON_ENCODE_ANY: the body may be a scalar; default precision is exact (%.17g). */
    text = json_dumps(body, JSON_ENCODE_ANY | JSON_COMPACT);
    FUZZ_CHECK(text != NULL, "json_dumps failed on a decoded body");
    again = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &error);
    FUZZ_CHECK(again != NULL, "re-serialised body does not parse: %s: %s", error.text, text);
    FUZZ_CHECK(json_equal(body, again), "re-serialised body differs: %s", text);
    json_decref(again);
    free(text);
}

bool fuzz_status_documented(int status)
{
    static const int documented[] = {200, 201, 204, 304, 400, 401, 403, 404, 405,
                                     409, 411, 412, 413, 415, 422, 429, 503, 507};

    for (size_t i = 0; i < sizeof documented / sizeof documented[0]; i++)
        if (documented[i] == status)
            return true;
    return false;
}

static void check_problem(const struct api_reply *reply, const char *text)
{
    const json_t *body = reply->json, *errors;
    const char *type = json_string_value(json_object_get(body, "type"));
    const json_t *status = json_object_get(body, "status");
    size_t i;
    json_t *item;

    FUZZ_CHECK(json_is_object(body), "problem body is not an object: %s", text);
    FUZZ_CHECK(type && strncmp(type, PROBLEM_TYPE_BASE, strlen(PROBLEM_TYPE_BASE)) == 0,
               "problem without a carbontree type: %s", text);
    FUZZ_CHECK(json_is_string(json_object_get(body, "title")), "problem without a title: %s", text);
    FUZZ_CHECK(json_is_string(json_object_get(body, "detail")), "problem without a detail: %s",
               text);
    FUZZ_CHECK(json_is_integer(status) && json_integer_value(status) == reply->status,
               "problem status differs from the reply's %d: %s", reply->status, text);
    errors = json_object_get(body, "errors");
    FUZZ_CHECK(errors == NULL || json_is_array(errors), "problem errors is not an array: %s", text);
    json_array_foreach(errors, i, item)
    {
        FUZZ_CHECK(json_is_string(json_object_get(item, "pointer")) &&
                       json_is_string(json_object_get(item, "message")),
                   "problem errors[%zu] lacks pointer or message: %s", i, text);
    }
}

void fuzz_check_reply(const struct api_request *req, const struct api_reply *reply)
{
    bool is_problem =
        reply->content_type && strcmp(reply->content_type, "application/problem+json") == 0;
    char *text = NULL;

    FUZZ_CHECK(reply->status < 500, "%s %s answered %d: %s", req->method, req->path, reply->status,
               reply->problem.detail);
    FUZZ_CHECK(fuzz_status_documented(reply->status), "%s %s answered undocumented status %d",
               req->method, req->path, reply->status);
    FUZZ_CHECK(reply->json == NULL || reply->raw == NULL, "%s %s set both json and raw",
               req->method, req->path);
    if (reply->json) {
        text = json_dumps(reply->json, SERVER_DUMP_FLAGS);
        FUZZ_CHECK(text != NULL, "%s %s: the reply does not serialise", req->method, req->path);
    }
    if (reply->status >= 400)
        FUZZ_CHECK(is_problem && reply->json, "%s %s: %d without a problem body", req->method,
                   req->path, reply->status);
    if (is_problem)
        check_problem(reply, text ? text : "(none)");
    free(text);
}

int64_t fuzz_data_version(void)
{
    sqlite3_stmt *stmt = NULL;
    int64_t version;

    FUZZ_CHECK(sqlite3_prepare_v2(check_db, "PRAGMA data_version", -1, &stmt, NULL) == SQLITE_OK,
               "PRAGMA data_version: %s", sqlite3_errmsg(check_db));
    FUZZ_CHECK(sqlite3_step(stmt) == SQLITE_ROW, "PRAGMA data_version: %s",
               sqlite3_errmsg(check_db));
    version = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return version;
}

void fuzz_quick_check(void)
{
    sqlite3_stmt *stmt = NULL;
    const unsigned char *answer;

    FUZZ_CHECK(sqlite3_prepare_v2(check_db, "PRAGMA quick_check", -1, &stmt, NULL) == SQLITE_OK,
               "PRAGMA quick_check: %s", sqlite3_errmsg(check_db));
    FUZZ_CHECK(sqlite3_step(stmt) == SQLITE_ROW, "PRAGMA quick_check: %s",
               sqlite3_errmsg(check_db));
    answer = sqlite3_column_text(stmt, 0);
    FUZZ_CHECK(answer && strcmp((const char *)answer, "ok") == 0, "PRAGMA quick_check: %s",
               answer ? (const char *)answer : "(null)");
    sqlite3_finalize(stmt);
}
