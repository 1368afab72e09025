/* SPDX-License-Identifier: Apache-2.0 */
/* The fault sweeps, the way SQLite tests itself: run one request, count its I/O
 * steps (or its allocations), then for N in 1..count run it again on a fresh copy
 * of the same database with the Nth step failing (mode nth), or every step from
 * the Nth on (mode from). Each run must answer success or a 5xx/507 problem, never
 * a 2xx for a change that was not kept; the database must pass integrity_check and
 * hold exactly the acknowledged changes; and the same service, the fault gone,
 * must answer the request again and go on reading and writing.
 *
 *     test_faults io|oom [--full] [--first F] [--every K] [--at N] [--case NAME] [--verbose]
 *
 * io fails reads, writes, syncs, truncates, locks and shared-memory maps through a
 * test VFS (fault_vfs.c), over every write route, the import command, a group
 * commit of several requests, a WAL checkpoint and the close that checkpoints, the
 * fold of pending inference deltas and the cache of rendered answers; oom
 * fails allocations of SQLite, jansson and carbontree (fault_alloc.c) over every
 * route. A success must answer what the clean run answered (status, headers and
 * body as the server renders it). Without --full, N runs over 1..F and every Kth
 * point after (the sample CI runs); --at N runs that point alone. Prints, per
 * case, how many fault points it exercised; exits 1 on the first broken
 * expectation. */
#include "api_internal.h" /* the service's cache, to count its hits */
#include "fault_alloc.h"
#include "fault_vfs.h"
#include "log.h"
#include "routes.h"
#include "writer.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ADMIN_TOKEN   "ctfaults-admin-0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a"
#define AUTHORIZATION "Bearer " ADMIN_TOKEN

enum kind { KIND_IO, KIND_OOM };

/* A request as the server would receive it. */
struct request {
    const char *method;
    const char *path;
    const char *body;
    const char *idempotency_key;
};

/* One case of the sweep: a request (or a special scenario) with what it should
 * change. */
enum scenario {
    SCENARIO_REQUEST,
    SCENARIO_IMPORT,
    SCENARIO_GROUP,
    SCENARIO_CHECKPOINT,
    SCENARIO_FOLD,
    SCENARIO_CACHE
};

struct sweep_case {
    const char *name;
    enum scenario scenario;
    struct request request;
    bool is_write;   /* io sweeps only write cases */
    int expected_ok; /* the clean answer's status */
};

/* Requests that write, all valid against the seeded database. */
#define REGISTER                                                                                   \
    {                                                                                              \
        "POST", "/v1/models",                                                                      \
            "{\"id\": \"hub-a/fresh\", \"parents\": [{\"id\": \"hub-a/child\", \"relation\": "     \
            "\"finetune\"}], \"task\": \"text-generation\"}",                                      \
            NULL                                                                                   \
    }
#define ACTIVITY                                                                                   \
    {                                                                                              \
        "POST", "/v1/models/hub-a/child/activities",                                               \
            "{\"kind\": \"fine_tuning\", \"energy_kwh\": 12.5, \"location\": \"FRA\"}", NULL       \
    }
#define PROFILE                                                                                    \
    {                                                                                              \
        "PATCH", "/v1/models/hub-b/solo",                                                          \
            "{\"inference\": {\"unit\": \"token\", \"energy_kwh_per_inference\": 0.0002, "         \
            "\"location\": \"USA\"}}",                                                             \
            NULL                                                                                   \
    }
#define DELTA                                                                                      \
    {                                                                                              \
        "POST", "/v1/models/hub-a/child/inferences", "{\"count\": 500}", "faults-delta"            \
    }
#define COUNTER                                                                                    \
    {                                                                                              \
        "PUT", "/v1/models/hub-b/merged/inference-counters/rep-1", "{\"total\": 200000}", NULL     \
    }
#define REPORT                                                                                     \
    {                                                                                              \
        "POST", "/v1/inference-reports",                                                           \
            "{\"reports\": [{\"model\": \"hub-a/child\", \"count\": 10}, {\"model\": "             \
            "\"hub-b/merged\", "                                                                   \
            "\"count\": 5, \"date\": \"2024-05-01\"}]}",                                           \
            "faults-report"                                                                        \
    }

static const struct sweep_case cases[] = {
    {"register", SCENARIO_REQUEST, REGISTER, true, 201},
    {"activity", SCENARIO_REQUEST, ACTIVITY, true, 201},
    {"profile-patch", SCENARIO_REQUEST, PROFILE, true, 200},
    {"delta", SCENARIO_REQUEST, DELTA, true, 200},
    {"counter", SCENARIO_REQUEST, COUNTER, true, 200},
    {"batch-report", SCENARIO_REQUEST, REPORT, true, 200},
    {"token-create",
     SCENARIO_REQUEST,
     {"POST", "/v1/tokens",
      "{\"name\": \"faults\", \"scopes\": [\"inferences:write\"], \"namespaces\": [\"hub-a\"]}",
      NULL},
     true,
     201},
    {"token-revoke", SCENARIO_REQUEST, {"DELETE", "/v1/tokens/2", NULL, NULL}, true, 204},
    {"activity-delete",
     SCENARIO_REQUEST,
     {"DELETE", "/v1/models/hub-a/base/activities/1", NULL, NULL},
     true,
     204},
    {"model-delete", SCENARIO_REQUEST, {"DELETE", "/v1/models/hub-b/solo", NULL, NULL}, true, 204},
    {"model-put-card",
     SCENARIO_REQUEST,
     {"PUT", "/v1/models/hub-c/carded",
      "{\"base_model\": \"hub-a/base\", \"base_model_relation\": \"finetune\", "
      "\"co2_eq_emissions\": {\"emissions\": 41100, \"source\": \"model card\", "
      "\"training_type\": \"fine-tuning\", \"hardware_used\": \"8 x A100\"}, "
      "\"license\": \"apache-2.0\", \"tags\": [\"text-generation\", \"en\"], "
      "\"pipeline_tag\": \"text-generation\", \"datasets\": [\"hub-c/corpus\"], "
      "\"text\": \"# carded\\n\\nFine-tuned from hub-a/base.\\n\"}",
      NULL},
     true,
     201},
    /* an import case's path names what it reads; expected_ok is how many models */
    {"import-batch", SCENARIO_IMPORT, {NULL, "import.jsonl", NULL, NULL}, true, 3},
    {"import-cards", SCENARIO_IMPORT, {NULL, "cards", NULL, NULL}, true, 3},
    {"import-hub", SCENARIO_IMPORT, {NULL, "hub.jsonl", NULL, NULL}, true, 2},
    {"group-commit", SCENARIO_GROUP, {NULL, NULL, NULL, NULL}, true, 0},
    {"wal-checkpoint", SCENARIO_CHECKPOINT, {NULL, NULL, NULL, NULL}, true, 0},
    {"fold", SCENARIO_FOLD, {NULL, NULL, NULL, NULL}, true, 0},
    /* the request is the cached read; the write that invalidates it is CACHE_WRITE */
    {"cache", SCENARIO_CACHE, {"GET", "/v1/models/hub-b/merged/footprint", NULL, NULL}, true, 200},
    /* reads, and the calculators that store nothing */
    {"healthz", SCENARIO_REQUEST, {"GET", "/healthz", NULL, NULL}, false, 200},
    {"readyz", SCENARIO_REQUEST, {"GET", "/readyz", NULL, NULL}, false, 200},
    {"openapi", SCENARIO_REQUEST, {"GET", "/openapi.yaml", NULL, NULL}, false, 200},
    {"metrics", SCENARIO_REQUEST, {"GET", "/metrics", NULL, NULL}, false, 200},
    {"methodology", SCENARIO_REQUEST, {"GET", "/v1/methodology", NULL, NULL}, false, 200},
    {"hardware",
     SCENARIO_REQUEST,
     {"GET", "/v1/hardware?name=v100&limit=3", NULL, NULL},
     false,
     200},
    {"regions", SCENARIO_REQUEST, {"GET", "/v1/regions?limit=3", NULL, NULL}, false, 200},
    {"estimate",
     SCENARIO_REQUEST,
     {"POST", "/v1/estimates",
      "{\"method\": \"power\", \"power_w\": 12041.51, \"hours\": 79.2, \"pue\": 1.58, "
      "\"location\": \"FRA\"}",
      NULL},
     false,
     200},
    {"models-list", SCENARIO_REQUEST, {"GET", "/v1/models?limit=3", NULL, NULL}, false, 200},
    {"model-get", SCENARIO_REQUEST, {"GET", "/v1/models/hub-a/child", NULL, NULL}, false, 200},
    {"ancestors",
     SCENARIO_REQUEST,
     {"GET", "/v1/models/hub-b/merged/ancestors", NULL, NULL},
     false,
     200},
    {"family", SCENARIO_REQUEST, {"GET", "/v1/models/hub-a/base/family", NULL, NULL}, false, 200},
    {"activities-list",
     SCENARIO_REQUEST,
     {"GET", "/v1/models/hub-a/base/activities", NULL, NULL},
     false,
     200},
    {"inferences-get",
     SCENARIO_REQUEST,
     {"GET", "/v1/models/hub-a/child/inferences", NULL, NULL},
     false,
     200},
    {"footprint",
     SCENARIO_REQUEST,
     {"GET", "/v1/models/hub-b/merged/footprint", NULL, NULL},
     false,
     200},
    {"compare",
     SCENARIO_REQUEST,
     {"POST", "/v1/compare",
      "{\"a\": {\"model\": \"hub-a/child\"}, \"b\": {\"model\": \"hub-b/merged\"}, \"policy\": "
      "\"usage\", \"volume\": 1000000}",
      NULL},
     false,
     200},
    {"tokens-list", SCENARIO_REQUEST, {"GET", "/v1/tokens", NULL, NULL}, false, 200},
    {"totals", SCENARIO_REQUEST, {"GET", "/v1/totals", NULL, NULL}, false, 200},
    {"families", SCENARIO_REQUEST, {"GET", "/v1/families?limit=3", NULL, NULL}, false, 200},
    {"series", SCENARIO_REQUEST, {"GET", "/v1/models/hub-a/child/series", NULL, NULL}, false, 200},
    {"badge",
     SCENARIO_REQUEST,
     {"GET", "/v1/models/hub-b/merged/badge.svg", NULL, NULL},
     false,
     200},
    {"page", SCENARIO_REQUEST, {"GET", "/", NULL, NULL}, false, 200},
    {"family-csv",
     SCENARIO_REQUEST,
     {"GET", "/v1/models/hub-a/base/family?format=csv", NULL, NULL},
     false,
     200},
    {"family-csv-all",
     SCENARIO_REQUEST,
     {"GET", "/v1/models/hub-a/base/family?format=csv&all=true", NULL, NULL},
     false,
     200},
};
#define N_CASES (sizeof cases / sizeof cases[0])

/* The group commit's requests: one transaction, committed once. */
static const struct request group_requests[] = {REGISTER, ACTIVITY, PROFILE, DELTA, COUNTER};
#define N_GROUP (sizeof group_requests / sizeof group_requests[0])

/* The seeded database every run starts from. */
static const struct request seeds[] = {
    {"POST", "/v1/models", "{\"id\": \"hub-a/base\", \"task\": \"text-generation\"}", NULL},
    {"POST", "/v1/models/hub-a/base/activities",
     "{\"kind\": \"training\", \"energy_kwh\": 7571, \"location\": \"FRA\"}", NULL},
    {"POST", "/v1/models",
     "{\"id\": \"hub-a/child\", \"parents\": [{\"id\": \"hub-a/base\", \"relation\": "
     "\"finetune\"}]}",
     NULL},
    {"POST", "/v1/models",
     "{\"id\": \"hub-b/merged\", \"base_model\": [\"hub-a/base\", \"hub-a/child\"], "
     "\"base_model_relation\": \"merge\", \"co2_eq_emissions\": 1500}",
     NULL},
    {"POST", "/v1/models", "{\"id\": \"hub-b/solo\"}", NULL},
    {"PATCH", "/v1/models/hub-a/child",
     "{\"inference\": {\"unit\": \"token\", \"energy_kwh_per_inference\": 0.0001, \"location\": "
     "\"USA\"}}",
     NULL},
    {"POST", "/v1/models/hub-a/child/inferences", "{\"count\": 1000}", "faults-seed"},
    {"POST", "/v1/tokens",
     "{\"name\": \"faults-b\", \"scopes\": [\"inferences:write\"], \"namespaces\": [\"hub-b\"]}",
     NULL},
};

/* What the import-cards run reads: a folder of Hub cards, README.md with YAML
 * front matter, one naming a parent that is not registered (a placeholder). */
static const struct {
    const char *id, *readme;
} import_cards[] = {
    {"hub-c/carded", "---\nbase_model: hub-a/base\nco2_eq_emissions:\n  emissions: 41100\n"
                     "  source: model card\n  training_type: fine-tuning\n"
                     "  hardware_used: 8 x A100\nlicense: apache-2.0\ntags:\n- en\n"
                     "pipeline_tag: text-generation\n---\n# carded\n\nTrained for 10 hours.\n"},
    {"hub-c/quant", "---\nbase_model: hub-c/carded\nbase_model_relation: quantized\n"
                    "quantized_by: hub-c\ntags:\n- gguf\n---\n"},
    {"hub-d/orphan", "---\nbase_model: hub-d/unregistered\nco2_eq_emissions: 900\n"
                     "library_name: transformers\n---\nA fine-tune of 0.9 kg.\n"},
};

/* What the import-hub run reads: the Hub's model-info JSON, one a line. */
static const char import_hub[] =
    "{\"id\": \"hub-e/info\", \"pipeline_tag\": \"text-generation\", \"tags\": [\"en\"], "
    "\"cardData\": {\"base_model\": \"hub-a/child\", \"co2_eq_emissions\": 2500, "
    "\"license\": \"mit\"}}\n"
    "{\"modelId\": \"hub-e/legacy\", \"cardData\": {\"base_model\": [\"hub-e/info\", "
    "\"hub-b/merged\"], \"base_model_relation\": \"merge\"}}\n";

/* What every import run reads: JSON lines, one batch. */
static const char import_lines[] =
    "{\"id\": \"imp/one\", \"activities\": [{\"kind\": \"training\", \"energy_kwh\": 40, "
    "\"location\": \"FRA\"}], \"inferences\": 100}\n"
    "{\"id\": \"imp/two\", \"parents\": [{\"id\": \"imp/one\", \"relation\": \"finetune\"}], "
    "\"inferences\": 7}\n"
    "{\"id\": \"imp/three\", \"parents\": [{\"id\": \"hub-a/base\", \"relation\": "
    "\"adapter\"}]}\n";

static struct {
    enum kind kind;
    bool is_full, is_verbose;
    uint64_t first, every, at;
    const char *only;
} opt = {.first = 20, .every = 0};

static char dir[512], pristine_path[600], work_path[600], subset_path[600], import_path[600],
    hub_path[600], cards_path[600];
static unsigned long long n_failures;
static unsigned long long n_refused;      /* faulted runs that answered a failure */
static unsigned long long n_kept_refused; /* of those, runs whose change was kept whole */

/* ---- small helpers ---- */

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "FAIL: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    n_failures++;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "test_faults: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

static void arm(enum fault_mode mode, uint64_t n)
{
    if (opt.kind == KIND_IO)
        fault_vfs_arm(mode, n);
    else
        fault_alloc_arm(mode, n);
}

static uint64_t disarm(void)
{
    return opt.kind == KIND_IO ? fault_vfs_disarm() : fault_alloc_disarm();
}

static uint64_t n_failed(void)
{
    return opt.kind == KIND_IO ? fault_vfs_failed() : fault_alloc_failed();
}

static void remove_db(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char file[640];

    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(file, sizeof file, "%s%s", path, suffixes[i]);
        unlink(file);
    }
}

static void copy_file(const char *from, const char *to)
{
    char buf[65536];
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    size_t n;

    if (in == NULL || out == NULL)
        die("cannot copy %s to %s: %s", from, to, strerror(errno));
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            die("cannot write %s: %s", to, strerror(errno));
    fclose(in);
    if (fclose(out) != 0)
        die("cannot write %s: %s", to, strerror(errno));
}

static void cleanup_dir(void)
{
    remove_db(pristine_path);
    remove_db(work_path);
    remove_db(subset_path);
    unlink(import_path);
    unlink(hub_path);
    for (size_t i = 0; i < sizeof import_cards / sizeof import_cards[0]; i++) {
        char path[800];
        snprintf(path, sizeof path, "%s/%s/README.md", cards_path, import_cards[i].id);
        unlink(path);
        *strrchr(path, '/') = '\0';
        rmdir(path);
        *strrchr(path, '/') = '\0';
        rmdir(path);
    }
    rmdir(cards_path);
    rmdir(dir);
}

/* ---- the database as the harness sees it ---- */

/* Columns whose value differs from run to run (times, random token hashes, stored
 * answers that carry them): only whether they are set is compared. */
static bool is_volatile_column(const char *name)
{
    size_t len = strlen(name);

    return (len > 3 && strcmp(name + len - 3, "_at") == 0) || strcmp(name, "token_hash") == 0 ||
           strcmp(name, "response") == 0;
}

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;

    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* A digest of every table a write may change (the reference tables are left to
 * integrity_check). */
static uint64_t digest(sqlite3 *db)
{
    sqlite3_stmt *tables = NULL;
    uint64_t h = 14695981039346656037ULL;

    if (sqlite3_prepare_v2(db,
                           "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT "
                           "LIKE 'sqlite_%' AND name NOT IN ('hardware', 'regions', "
                           "'reference_loads', 'reference_skips') ORDER BY name",
                           -1, &tables, NULL) != SQLITE_OK)
        die("digest: %s", sqlite3_errmsg(db));
    while (sqlite3_step(tables) == SQLITE_ROW) {
        const char *table = (const char *)sqlite3_column_text(tables, 0);
        char sql[256];
        sqlite3_stmt *rows = NULL;
        snprintf(sql, sizeof sql, "SELECT * FROM \"%s\"", table);
        h = fnv(h, table, strlen(table));
        if (sqlite3_prepare_v2(db, sql, -1, &rows, NULL) != SQLITE_OK)
            die("digest %s: %s", table, sqlite3_errmsg(db));
        while (sqlite3_step(rows) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(rows); c++) {
                int type = sqlite3_column_type(rows, c);
                h = fnv(h, &type, sizeof type);
                if (type == SQLITE_NULL || is_volatile_column(sqlite3_column_name(rows, c)))
                    continue;
                h = fnv(h, sqlite3_column_blob(rows, c), (size_t)sqlite3_column_bytes(rows, c));
            }
            h = fnv(h, "\n", 1);
        }
        sqlite3_finalize(rows);
    }
    sqlite3_finalize(tables);
    return h;
}

/* Opens the harness's own connection to path (faults must be off). */
static sqlite3 *open_check(const char *path)
{
    sqlite3 *db = NULL;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        die("cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "no memory");
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static bool integrity_ok(sqlite3 *db, char *answer, size_t answer_len)
{
    sqlite3_stmt *stmt = NULL;
    bool ok = false;

    snprintf(answer, answer_len, "%s", "(no answer)");
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(stmt, 0);
        snprintf(answer, answer_len, "%s", text ? text : "(null)");
        ok = text && strcmp(text, "ok") == 0;
    } else {
        snprintf(answer, answer_len, "%s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(stmt);
    return ok;
}

/* The digest of the file at path, read on a connection of its own. */
static uint64_t digest_of(const char *path)
{
    sqlite3 *db = open_check(path);
    uint64_t h = digest(db);

    sqlite3_close(db);
    return h;
}

/* ---- running requests in process, as the server does ---- */

/* A service on path; with cache_bytes > 0, with a cache of rendered answers. */
static struct api_service *service_open_cached(const char *path, size_t cache_bytes)
{
    struct api_config config;
    struct api_service *service = NULL;
    char why[512] = "";
    enum err rc;

    memset(&config, 0, sizeof config);
    config.db_path = path;
    config.cache_bytes = cache_bytes;
    config.busy_timeout_ms = 5000;
    config.body_max_bytes = 65536;
    config.auto_migrate = false;
    config.admin_token = ADMIN_TOKEN;
    rc = api_service_create(&config, &service, why, sizeof why);
    if (rc != ERR_OK)
        die("api_service_create %s: %s: %s", path, err_name(rc), why);
    return service;
}

static struct api_service *service_open(const char *path)
{
    return service_open_cached(path, 0);
}

/* One request in flight: what route_run needs, kept together so a writer job can
 * run it again. */
struct call {
    struct request request;
    char path[256], query[256];
    struct route_match match;
    struct api_request req;
    struct api_reply reply;
    struct api_write_state write_state;
    json_t *body;
    enum err prepared; /* route_prepare's answer; the request runs only when ERR_OK */
};

/* libmicrohttpd's query parsing for the simple queries of the cases. */
static void parse_query(char *query, struct api_request *req)
{
    char *item = query;

    while (item && *item && req->n_query < API_MAX_QUERY) {
        char *next = strchr(item, '&'), *equals;
        if (next)
            *next++ = '\0';
        equals = strchr(item, '=');
        if (equals)
            *equals++ = '\0';
        req->query[req->n_query].key = item;
        req->query[req->n_query].value = equals;
        req->n_query++;
        item = next;
    }
}

/* Routes and decodes the request (faults off: this is the server's reading of it). */
static void call_init(struct call *c, const struct request *request)
{
    char *question;

    memset(c, 0, sizeof *c);
    c->request = *request;
    snprintf(c->path, sizeof c->path, "%s", request->path);
    question = strchr(c->path, '?');
    if (question) {
        *question = '\0';
        snprintf(c->query, sizeof c->query, "%s", question + 1);
    }
    route_find(request->method, c->path, &c->match);
    if (c->match.route == NULL)
        die("no route for %s %s", request->method, request->path);
    c->req.method = request->method;
    c->req.path = request->path;
    c->req.request_id = "faults";
    c->req.n_params = c->match.n_params;
    memcpy(c->req.params, c->match.params, sizeof c->req.params);
    parse_query(c->query, &c->req);
    c->req.authorization = AUTHORIZATION;
    c->req.n_authorization = 1;
    c->req.idempotency_key = request->idempotency_key;
    api_reply_init(&c->reply);
    c->prepared =
        route_prepare(&c->match, &c->req, request->body, request->body ? strlen(request->body) : 0,
                      &c->body, &c->reply.problem);
    if (c->prepared != ERR_OK)
        die("%s %s is refused before it runs: %s", request->method, request->path,
            c->reply.problem.detail);
}

/* Runs the request on db, as part of group when not NULL (the writer's run). */
static int call_run(struct call *c, struct api_service *service, struct db *db,
                    struct api_group *group)
{
    api_reply_cleanup(&c->reply);
    api_reply_init(&c->reply);
    c->req.db = db;
    c->req.group = group;
    c->req.write_state = &c->write_state;
    route_run(service, &c->match, &c->req, c->body, &c->reply);
    c->req.group = NULL;
    return c->reply.status;
}

static void call_cleanup(struct call *c)
{
    api_reply_cleanup(&c->reply);
    json_decref(c->body);
    c->body = NULL;
}

/* Runs request alone on the calling thread's connection; returns its status. */
static int run_request(struct api_service *service, const struct request *request, struct call *c)
{
    struct db *db = NULL;
    enum err rc;

    call_init(c, request);
    rc = api_service_connection(service, &db);
    if (rc != ERR_OK) {
        api_problem_render(rc, &c->req, &c->reply);
        return c->reply.status;
    }
    return call_run(c, service, db, NULL);
}

/* A failure answer is problem+json with the status of its body; a fault never
 * makes a client error. In mode from, where even the problem cannot be built, the
 * server answers its fixed problem: no body here is allowed then. */
static bool answer_ok(const char *what, const struct api_reply *reply, bool may_lack_body)
{
    const char *type;

    if (reply->status < 400)
        return true;
    if (reply->status != 500 && reply->status != 503 && reply->status != 507) {
        fail("%s: answered %d (%s) under a fault", what, reply->status, reply->problem.detail);
        return false;
    }
    if (reply->json == NULL)
        return may_lack_body ? true
                             : (fail("%s: %d without a problem body", what, reply->status), false);
    type = json_string_value(json_object_get(reply->json, "type"));
    if (reply->content_type == NULL ||
        strcmp(reply->content_type, "application/problem+json") != 0 || type == NULL ||
        strncmp(type, "https://carbontree.dev/problems/", 32) != 0 ||
        json_integer_value(json_object_get(reply->json, "status")) != reply->status) {
        fail("%s: %d is not a problem+json answer", what, reply->status);
        return false;
    }
    return true;
}

/* ---- what a client receives ---- */

/* Appends len bytes to the harness's buffer (plain malloc: no fault reaches it). */
static void buf_add(char **buf, size_t *buf_len, const char *data, size_t len)
{
    char *grown = realloc(*buf, *buf_len + len + 1);

    if (grown == NULL)
        die("out of memory in the harness");
    memcpy(grown + *buf_len, data, len);
    *buf_len += len;
    grown[*buf_len] = '\0';
    *buf = grown;
}

/* The body a client receives, rendered under the fault as the server renders it:
 * a JSON answer through api_json_dumps with the server's flags, raw bytes as they
 * are, a stream drained part by part on db. NULL when the server could not send
 * it whole: no memory for the text (it answers 500 instead) or a stream failing
 * part way (it cuts the answer short, which the client sees as a failure). */
static char *render_body(struct call *c, struct db *db, size_t *len)
{
    char *body = NULL;

    *len = 0;
    if (c->reply.json != NULL) {
        char *text = api_json_dumps(c->reply.json,
                                    JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(15));
        if (text == NULL)
            return NULL;
        buf_add(&body, len, text, strlen(text));
        free(text);
    } else if (c->reply.raw != NULL) {
        buf_add(&body, len, c->reply.raw, c->reply.raw_len);
    } else if (c->reply.stream != NULL) {
        bool is_done = false;
        buf_add(&body, len, "", 0);
        while (!is_done) {
            char *part = NULL;
            size_t part_len = 0;
            if (c->reply.stream->next(c->reply.stream, db, &part, &part_len, &is_done) != ERR_OK) {
                free(part);
                free(body);
                return NULL;
            }
            buf_add(&body, len, part ? part : "", part_len);
            free(part);
        }
    } else {
        buf_add(&body, len, "", 0);
    }
    return body;
}

/* Members whose value differs from one clean run to the next: none of the routes
 * swept puts a clock or a random value in a read answer; the writes' answers carry
 * their times (created_at, updated_at, ...) and a new token's secret. */
static bool is_volatile_member(const char *key)
{
    size_t len = strlen(key);

    return (len > 3 && strcmp(key + len - 3, "_at") == 0) || strcmp(key, "token") == 0;
}

static void drop_volatile(json_t *json)
{
    const char *key;
    json_t *value;
    void *tmp;
    size_t i;

    if (json_is_object(json)) {
        json_object_foreach_safe(json, tmp, key, value)
        {
            if (is_volatile_member(key) && json_is_string(value))
                json_object_set_new(json, key, json_string("(varies)"));
            else
                drop_volatile(value);
        }
    } else if (json_is_array(json)) {
        json_array_foreach(json, i, value) drop_volatile(value);
    }
}

/* /metrics: the samples of what the process counted since it started (every
 * service of the sweep runs in the one process) have their value masked; the
 * ledger's own figures are compared. */
static void mask_process_metrics(char **text, size_t *len, const char *body, size_t body_len)
{
    static const char *const process_wide[] = {"carbontree_writes_total",
                                               "carbontree_inferences_counted_total",
                                               "carbontree_db_write_batch_size"};
    const char *line = body, *end = body + body_len;

    while (line < end) {
        const char *eol = memchr(line, '\n', (size_t)(end - line)), *space;
        size_t line_len = eol ? (size_t)(eol - line) + 1 : (size_t)(end - line);
        bool is_masked = false;
        for (size_t i = 0; i < sizeof process_wide / sizeof process_wide[0]; i++)
            is_masked |= strncmp(line, process_wide[i], strlen(process_wide[i])) == 0;
        for (space = is_masked ? line + line_len : NULL; space && space > line && *space != ' ';)
            space--;
        if (space == line)
            space = NULL;
        if (space != NULL) {
            buf_add(text, len, line, (size_t)(space - line));
            buf_add(text, len, " (varies)\n", 10);
        } else {
            buf_add(text, len, line, line_len);
        }
        line += line_len;
    }
}

/* The answer as compared (faults off): status, content type, headers, then the
 * body; a JSON body with its volatile members masked and its keys sorted. */
static char *answer_text(const struct call *c, const char *body, size_t body_len)
{
    char *text = NULL, line[700];
    size_t len = 0;
    json_t *json = NULL;

    snprintf(line, sizeof line, "%d %s\n", c->reply.status,
             c->reply.content_type ? c->reply.content_type : "(default)");
    buf_add(&text, &len, line, strlen(line));
    for (size_t i = 0; i < c->reply.n_headers; i++) {
        snprintf(line, sizeof line, "%s: %s\n", c->reply.headers[i].name,
                 c->reply.headers[i].value);
        buf_add(&text, &len, line, strlen(line));
    }
    buf_add(&text, &len, "\n", 1);
    if (c->reply.json != NULL ||
        (c->reply.content_type != NULL && strstr(c->reply.content_type, "json") != NULL)) {
        json = json_loadb(body, body_len, 0, NULL);
        if (json == NULL) {
            buf_add(&text, &len, "(not JSON) ", 11);
        } else {
            char *sorted;
            drop_volatile(json);
            sorted = json_dumps(json, JSON_SORT_KEYS | JSON_INDENT(1) | JSON_REAL_PRECISION(17));
            json_decref(json);
            if (sorted == NULL)
                die("out of memory in the harness");
            buf_add(&text, &len, sorted, strlen(sorted));
            free(sorted);
            return text;
        }
    }
    if (c->reply.content_type != NULL && strstr(c->reply.content_type, "text/plain") != NULL &&
        strstr(c->reply.content_type, "version=") != NULL) {
        mask_process_metrics(&text, &len, body, body_len);
        return text;
    }
    buf_add(&text, &len, body, body_len);
    return text;
}

/* Reports where two answers part, with the lines around it. */
static void fail_answer(const char *what, const char *expected, const char *got)
{
    size_t at = 0, from;

    while (expected[at] && expected[at] == got[at])
        at++;
    from = at > 300 ? at - 300 : 0;
    fail("%s: a success whose answer is not the clean run's, from byte %zu:\n"
         "--- clean ---\n%.600s\n--- faulted ---\n%.600s",
         what, at, expected + from, got + from);
}

/* ---- expectations, from clean runs ---- */

struct expectation {
    uint64_t before, after; /* digests of the database before and after the change */
    uint64_t n_points;      /* fault points of the clean run */
    char *answer;           /* the clean run's answer, as compared (answer_text) */
};

/* Which fault points to run: all of them, or the first F and every Kth after. */
static bool is_sampled(uint64_t n, uint64_t n_points)
{
    uint64_t every = opt.every;

    if (opt.at != 0)
        return n == opt.at;
    if (opt.is_full || n <= opt.first)
        return true;
    /* About 27 points past the first F: with the fold and the cache among the
     * cases, the sample runs as many points as it did with 30 over fewer cases. */
    if (every == 0)
        every = n_points > opt.first + 27 ? (n_points - opt.first) / 27 : 1;
    return (n - opt.first) % every == 0 || n == n_points;
}

/* ---- the request scenario ---- */

/* After a run that failed: the same service answers the request, then another
 * write and a read. */
static void check_recovery(const struct sweep_case *sc, struct api_service *service, bool was_kept,
                           const char *what)
{
    static const struct request probe_write = {"POST", "/v1/models/hub-b/merged/inferences",
                                               "{\"count\": 3}", "faults-probe"};
    static const struct request probe_read = {"GET", "/v1/models/hub-a/base/footprint", NULL, NULL};
    struct call c;
    int status;

    if (!was_kept && sc->scenario == SCENARIO_REQUEST) {
        status = run_request(service, &sc->request, &c);
        if (status != sc->expected_ok)
            fail("%s: the retry answered %d (%s), expected %d", what, status,
                 c.reply.problem.detail, sc->expected_ok);
        call_cleanup(&c);
    }
    status = run_request(service, &probe_write, &c);
    if (status != 200)
        fail("%s: a later write answered %d (%s)", what, status, c.reply.problem.detail);
    call_cleanup(&c);
    status = run_request(service, &probe_read, &c);
    if (status != 200)
        fail("%s: a later read answered %d (%s)", what, status, c.reply.problem.detail);
    call_cleanup(&c);
}

/* Checks what a faulted run left: integrity, and the change whole or not at all:
 * present when acknowledged; when refused, absent, or whole when the fault came
 * after the commit had reached the file (a failed sync of the WAL: SQLite cannot
 * take back frames it wrote, and a later recovery of the WAL finds them). Returns
 * whether the change is present. */
static bool check_state(const char *what, const struct expectation *e, bool is_acknowledged)
{
    char answer[256];
    sqlite3 *db = open_check(work_path);
    uint64_t h;

    if (!integrity_ok(db, answer, sizeof answer))
        fail("%s: integrity_check: %s", what, answer);
    h = digest(db);
    sqlite3_close(db);
    if (is_acknowledged && h != e->after)
        fail("%s: acknowledged, but the change is not (all) stored", what);
    if (!is_acknowledged && h != e->before && h != e->after)
        fail("%s: refused, and the database holds part of the change", what);
    /* Memory failing is no disk failing: nothing is ambiguous once the commit ran. */
    if (!is_acknowledged && h == e->after && h != e->before && opt.kind == KIND_OOM)
        fail("%s: refused, but the change is stored", what);
    if (!is_acknowledged && h == e->after && h != e->before) {
        n_kept_refused++;
        if (opt.is_verbose)
            fprintf(stderr, "%s: refused, and the change is kept whole\n", what);
    }
    return h == e->after;
}

static void fresh_copy(void)
{
    remove_db(work_path);
    copy_file(pristine_path, work_path);
}

/* One run of a request case with fault point n in mode (FAULT_COUNT: the clean
 * run, which fills e). */
static void run_request_case(const struct sweep_case *sc, enum fault_mode mode, uint64_t n,
                             struct expectation *e)
{
    struct api_service *service;
    struct db *db = NULL;
    struct call c;
    char what[160], *body = NULL, *answer = NULL;
    size_t body_len = 0;
    int status;
    bool is_ok, is_kept;

    snprintf(what, sizeof what, "%s %s N=%llu", sc->name, mode == FAULT_NTH ? "nth" : "from",
             (unsigned long long)n);
    fresh_copy();
    service = service_open(work_path);
    call_init(&c, &sc->request);
    if (api_service_connection(service, &db) != ERR_OK)
        die("no connection");
    arm(mode, n);
    status = call_run(&c, service, db, NULL);
    /* The server renders a success's body after the handler, under the same fault. */
    if (status >= 200 && status < 300)
        body = render_body(&c, db, &body_len);
    if (mode == FAULT_COUNT) {
        e->n_points = disarm();
        if (status != sc->expected_ok || body == NULL)
            die("%s: the clean run answered %d (%s), expected %d", sc->name, status,
                c.reply.problem.detail, sc->expected_ok);
        e->answer = answer_text(&c, body, body_len);
        free(body);
        call_cleanup(&c);
        e->after = digest_of(work_path);
        api_service_destroy(service);
        return;
    }
    disarm();
    is_ok = status >= 200 && status < 300;
    if (is_ok && body != NULL) {
        answer = answer_text(&c, body, body_len);
        if (strcmp(answer, e->answer) != 0)
            fail_answer(what, e->answer, answer);
        free(answer);
    } else if (is_ok && !sc->is_write) {
        /* the body could not be sent: the server answers 500 or cuts it short */
        is_ok = false;
    }
    free(body);
    n_refused += !is_ok;
    if (is_ok && status != sc->expected_ok)
        fail("%s: answered %d, expected %d", what, status, sc->expected_ok);
    answer_ok(what, &c.reply, mode == FAULT_FROM);
    call_cleanup(&c);
    is_kept = check_state(what, e, is_ok);
    check_recovery(sc, service, is_kept || !sc->is_write, what);
    api_service_destroy(service);
}

/* ---- the import command ---- */

static enum err run_import(const struct sweep_case *sc)
{
    char path[600];
    struct api_config config;
    struct api_import_summary summary;
    char why[512] = "";
    FILE *report = opt.is_verbose ? stderr : fopen("/dev/null", "w");
    enum err rc;

    memset(&config, 0, sizeof config);
    config.db_path = work_path;
    config.busy_timeout_ms = 5000;
    snprintf(path, sizeof path, "%s/%s", dir, sc->request.path);
    rc = api_cli_import(&config, path, 0, report, NULL, &summary, why, sizeof why);
    if (opt.is_verbose)
        fprintf(stderr, "import: %s: %s (%lld imported, %lld refused)\n", err_name(rc), why,
                (long long)summary.n_imported, (long long)summary.n_refused);
    if (rc == ERR_OK && summary.n_imported != sc->expected_ok)
        rc = ERR_INTERNAL; /* a refused line: a fault made into a client error */
    if (report && report != stderr)
        fclose(report);
    return rc;
}

static void run_import_case(const struct sweep_case *sc, enum fault_mode mode, uint64_t n,
                            struct expectation *e)
{
    char what[160];
    enum err rc;

    snprintf(what, sizeof what, "%s %s N=%llu", sc->name, mode == FAULT_NTH ? "nth" : "from",
             (unsigned long long)n);
    fresh_copy();
    arm(mode, n);
    rc = run_import(sc);
    if (mode == FAULT_COUNT) {
        e->n_points = disarm();
        if (rc != ERR_OK)
            die("%s: the clean run failed: %s", sc->name, err_name(rc));
        e->after = digest_of(work_path);
        return;
    }
    disarm();
    n_refused += rc != ERR_OK;
    if (rc == ERR_INTERNAL)
        fail("%s: a line was refused under a fault", what);
    if (!check_state(what, e, rc == ERR_OK)) {
        rc = run_import(sc);
        if (rc != ERR_OK)
            fail("%s: importing again failed: %s", what, err_name(rc));
    }
}

/* ---- a group commit through the writer ---- */

struct group_job {
    struct writer_job job;
    struct call call;
    struct api_service *service;
    struct group_sync *sync;
    bool is_gate; /* holds the writer until the others are queued */
};

struct group_sync {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    size_t n_done;
    bool is_gate_running, is_gate_open;
};

static int group_run(void *arg, struct db *db, struct api_group *group)
{
    struct group_job *j = arg;

    if (j->is_gate) {
        pthread_mutex_lock(&j->sync->mu);
        j->sync->is_gate_running = true;
        pthread_cond_broadcast(&j->sync->cond);
        while (!j->sync->is_gate_open)
            pthread_cond_wait(&j->sync->cond, &j->sync->mu);
        pthread_mutex_unlock(&j->sync->mu);
        return 400; /* stores nothing */
    }
    return call_run(&j->call, j->service, db, group);
}

static void group_done(void *arg)
{
    struct group_job *j = arg;

    pthread_mutex_lock(&j->sync->mu);
    j->sync->n_done++;
    pthread_cond_broadcast(&j->sync->cond);
    pthread_mutex_unlock(&j->sync->mu);
}

static void group_refuse(void *arg, enum err rc)
{
    struct group_job *j = arg;

    api_reply_cleanup(&j->call.reply);
    api_reply_init(&j->call.reply);
    api_problem_render(rc, &j->call.req, &j->call.reply);
}

static void wait_done(struct group_sync *sync, size_t n)
{
    pthread_mutex_lock(&sync->mu);
    while (sync->n_done < n)
        pthread_cond_wait(&sync->cond, &sync->mu);
    pthread_mutex_unlock(&sync->mu);
}

/* Runs the group requests as one batch of the writer: a gate job holds the writer
 * while they are queued, so they are taken together. statuses gets each answer. */
static void run_group_batch(struct api_service *service, enum fault_mode mode, uint64_t n,
                            int *statuses, uint64_t *n_points)
{
    struct group_sync sync = {.mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    struct group_job warm = {.is_gate = true, .sync = &sync}, gate = warm, jobs[N_GROUP];
    struct writer *w = NULL;

    /* The writer folds only when told: a fold on its own timer would add fault
     * points and change the digest depending on how long a run took. */
    if (writer_start_folding(service, 16, &(struct writer_fold){3600000, 1000000}, &w) != ERR_OK)
        die("writer_start");
    /* The writer's first job opens its connection: before any fault. */
    warm.job = (struct writer_job){group_run, group_done, group_refuse, &warm, NULL};
    sync.is_gate_open = true;
    writer_submit(w, &warm.job);
    wait_done(&sync, 1);
    sync.is_gate_open = false;
    sync.is_gate_running = false;
    for (size_t i = 0; i < N_GROUP; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        call_init(&jobs[i].call, &group_requests[i]);
        jobs[i].service = service;
        jobs[i].sync = &sync;
        jobs[i].job = (struct writer_job){group_run, group_done, group_refuse, &jobs[i], NULL};
    }
    gate.job = (struct writer_job){group_run, group_done, group_refuse, &gate, NULL};
    arm(mode, n);
    writer_submit(w, &gate.job);
    pthread_mutex_lock(&sync.mu);
    while (!sync.is_gate_running)
        pthread_cond_wait(&sync.cond, &sync.mu);
    pthread_mutex_unlock(&sync.mu);
    for (size_t i = 0; i < N_GROUP; i++)
        writer_submit(w, &jobs[i].job);
    pthread_mutex_lock(&sync.mu);
    sync.is_gate_open = true;
    pthread_cond_broadcast(&sync.cond);
    pthread_mutex_unlock(&sync.mu);
    wait_done(&sync, 2 + N_GROUP);
    *n_points = disarm();
    writer_stop(w);
    for (size_t i = 0; i < N_GROUP; i++) {
        statuses[i] = jobs[i].call.reply.status;
        if (statuses[i] >= 400 && mode != FAULT_COUNT) {
            char what[160];
            snprintf(what, sizeof what, "group-commit request %zu %s N=%llu", i,
                     mode == FAULT_NTH ? "nth" : "from", (unsigned long long)n);
            answer_ok(what, &jobs[i].call.reply, mode == FAULT_FROM);
        }
        call_cleanup(&jobs[i].call);
    }
    pthread_cond_destroy(&sync.cond);
    pthread_mutex_destroy(&sync.mu);
}

/* Digest after the group requests of mask ran alone, in order, with no fault:
 * what the database must hold when exactly those were acknowledged. */
static uint64_t group_subset_digest(unsigned mask)
{
    static uint64_t known[1u << N_GROUP];
    static bool is_known[1u << N_GROUP];
    struct api_service *service;

    if (is_known[mask])
        return known[mask];
    /* beside the work file, which the faulted service still has open */
    remove_db(subset_path);
    copy_file(pristine_path, subset_path);
    service = service_open(subset_path);
    for (size_t i = 0; i < N_GROUP; i++) {
        struct call c;
        if (!(mask & (1u << i)))
            continue;
        if (run_request(service, &group_requests[i], &c) >= 300)
            die("group request %zu fails on its own", i);
        call_cleanup(&c);
    }
    api_service_destroy(service);
    known[mask] = digest_of(subset_path);
    remove_db(subset_path);
    is_known[mask] = true;
    return known[mask];
}

static void run_group_case(const struct sweep_case *sc, enum fault_mode mode, uint64_t n,
                           struct expectation *e)
{
    struct api_service *service;
    int statuses[N_GROUP];
    uint64_t points;
    unsigned mask = 0;
    char what[160], answer[256];
    sqlite3 *db;
    uint64_t h;

    snprintf(what, sizeof what, "%s %s N=%llu", sc->name, mode == FAULT_NTH ? "nth" : "from",
             (unsigned long long)n);
    fresh_copy();
    service = service_open(work_path);
    run_group_batch(service, mode, n, statuses, &points);
    for (size_t i = 0; i < N_GROUP; i++)
        if (statuses[i] >= 200 && statuses[i] < 300)
            mask |= 1u << i;
    n_refused += mode != FAULT_COUNT && mask != (1u << N_GROUP) - 1;
    if (mode == FAULT_COUNT) {
        e->n_points = points;
        if (mask != (1u << N_GROUP) - 1)
            die("%s: the clean group did not answer every request with success", sc->name);
        api_service_destroy(service);
        e->after = digest_of(work_path);
        return;
    }
    db = open_check(work_path);
    if (!integrity_ok(db, answer, sizeof answer))
        fail("%s: integrity_check: %s", what, answer);
    h = digest(db);
    sqlite3_close(db);
    if (h != group_subset_digest(mask))
        fail("%s: the database does not hold exactly the acknowledged requests (mask %#x)", what,
             mask);
    check_recovery(sc, service, true, what);
    api_service_destroy(service);
}

/* ---- a WAL checkpoint, and the close that checkpoints ---- */

/* Three writes in the WAL, then a TRUNCATE checkpoint on a connection of the
 * harness and the service's own close (its last connection checkpoints), under
 * the fault; the service then reopens and must find every write. */
static void run_checkpoint_case(const struct sweep_case *sc, enum fault_mode mode, uint64_t n,
                                struct expectation *e)
{
    static const struct request writes[] = {ACTIVITY, DELTA, COUNTER};
    struct api_service *service;
    char what[160], answer[256];
    sqlite3 *db;
    struct call c;

    snprintf(what, sizeof what, "%s %s N=%llu", sc->name, mode == FAULT_NTH ? "nth" : "from",
             (unsigned long long)n);
    fresh_copy();
    service = service_open(work_path);
    for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
        if (run_request(service, &writes[i], &c) >= 300)
            die("checkpoint: write %zu failed: %s", i, c.reply.problem.detail);
        call_cleanup(&c);
    }
    db = open_check(work_path);
    arm(mode, n);
    sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    if (mode != FAULT_COUNT) {
        /* the service serves between the checkpoint and its close */
        disarm();
        check_recovery(sc, service, true, what);
        arm(mode, n);
    }
    sqlite3_close(db);
    api_service_destroy(service);
    if (mode == FAULT_COUNT) {
        e->n_points = disarm();
        e->after = digest_of(work_path);
        return;
    }
    disarm();
    service = service_open(work_path);
    db = open_check(work_path);
    if (!integrity_ok(db, answer, sizeof answer))
        fail("%s: integrity_check: %s", what, answer);
    sqlite3_close(db);
    check_recovery(sc, service, true, what);
    api_service_destroy(service);
}

/* ---- the fold of pending inference deltas ---- */

/* Increments that leave deltas pending: four (model, day) rows, folded two at a
 * time, so the fold commits two batches and finds the third empty. */
static const struct request fold_increments[] = {
    DELTA,
    REPORT,
    COUNTER,
    {"POST", "/v1/models/hub-b/solo/inferences", "{\"count\": 4}", "faults-fold"},
};
#define FOLD_LIMIT 2

/* Reads whose answers add what is pending: the same before and after a fold. */
static const struct request ledger_reads[] = {
    {"GET", "/v1/models/hub-a/base/footprint", NULL, NULL},
    {"GET", "/v1/models/hub-b/merged/footprint", NULL, NULL},
    {"GET", "/v1/models/hub-a/child/inferences", NULL, NULL},
    {"GET", "/v1/models/hub-a/base/family", NULL, NULL},
    {"GET", "/v1/families?limit=3", NULL, NULL},
    {"GET", "/v1/totals", NULL, NULL},
};

/* The answer to request as compared (faults off), or NULL when it failed. */
static char *read_answer(struct api_service *service, const struct request *request, int *status)
{
    struct db *db = NULL;
    struct call c;
    char *body = NULL, *answer = NULL;
    size_t body_len = 0;

    *status = run_request(service, request, &c);
    if (*status >= 200 && *status < 300 && api_service_connection(service, &db) == ERR_OK)
        body = render_body(&c, db, &body_len);
    if (body != NULL)
        answer = answer_text(&c, body, body_len);
    free(body);
    call_cleanup(&c);
    return answer;
}

/* The answers of every ledger read, one after the other (faults off). */
static char *ledger_answers(struct api_service *service, const char *what)
{
    char *all = NULL;
    size_t len = 0;

    for (size_t i = 0; i < sizeof ledger_reads / sizeof ledger_reads[0]; i++) {
        int status;
        char *answer = read_answer(service, &ledger_reads[i], &status);
        if (answer == NULL)
            die("%s: %s answered %d with the fault gone", what, ledger_reads[i].path, status);
        buf_add(&all, &len, answer, strlen(answer));
        free(answer);
    }
    return all;
}

/* The fold as the writer runs it, batch after batch, on a ledger with deltas
 * pending. A fold that fails leaves the ledger as a read sees it: every read
 * answers as before, and folding again (the writer's next try) ends where the
 * clean fold ended. e->answer holds the reads' answers, e->before the digest with
 * the deltas pending. */
static void run_fold_case(const struct sweep_case *sc, enum fault_mode mode, uint64_t n,
                          struct expectation *e)
{
    struct api_service *service;
    struct db *db = NULL;
    struct call c;
    char what[160], answer[256], *reads;
    int64_t folded = 0;
    sqlite3 *check;
    uint64_t h;
    enum err rc;

    snprintf(what, sizeof what, "%s %s N=%llu", sc->name, mode == FAULT_NTH ? "nth" : "from",
             (unsigned long long)n);
    fresh_copy();
    service = service_open(work_path);
    for (size_t i = 0; i < sizeof fold_increments / sizeof fold_increments[0]; i++) {
        if (run_request(service, &fold_increments[i], &c) >= 300)
            die("fold: increment %zu failed: %s", i, c.reply.problem.detail);
        call_cleanup(&c);
    }
    if (api_service_connection(service, &db) != ERR_OK)
        die("no connection");
    if (mode == FAULT_COUNT) {
        e->before = digest_of(work_path);
        e->answer = ledger_answers(service, sc->name);
    }
    arm(mode, n);
    rc = api_fold(db, FOLD_LIMIT, &folded);
    if (mode == FAULT_COUNT) {
        e->n_points = disarm();
        if (rc != ERR_OK || folded != 4)
            die("%s: the clean fold answered %s, %lld rows folded", sc->name, err_name(rc),
                (long long)folded);
        reads = ledger_answers(service, sc->name);
        if (strcmp(reads, e->answer) != 0)
            fail_answer("fold: the reads after the fold", e->answer, reads);
        free(reads);
        api_service_destroy(service);
        e->after = digest_of(work_path);
        return;
    }
    disarm();
    n_refused += rc != ERR_OK;
    check = open_check(work_path);
    if (!integrity_ok(check, answer, sizeof answer))
        fail("%s: integrity_check: %s", what, answer);
    h = digest(check);
    sqlite3_close(check);
    if (rc == ERR_OK && h != e->after)
        fail("%s: the fold succeeded, but the ledger is not the clean fold's", what);
    reads = ledger_answers(service, what);
    if (strcmp(reads, e->answer) != 0)
        fail_answer(what, e->answer, reads);
    free(reads);
    if (rc != ERR_OK) {
        /* the writer tries again one interval later */
        rc = api_fold(db, FOLD_LIMIT, NULL);
        if (rc != ERR_OK)
            fail("%s: folding again failed: %s", what, err_name(rc));
        else if (digest_of(work_path) != e->after)
            fail("%s: folding again does not end where the clean fold ended", what);
    }
    check_recovery(sc, service, true, what);
    api_service_destroy(service);
}

/* ---- the cache of rendered answers ---- */

/* A write that changes the cached footprint (the model's own inferences). */
static const struct request cache_write = {"POST", "/v1/models/hub-b/merged/inferences",
                                           "{\"count\": 250}", "faults-cache"};
#define CACHE_BYTES (1u << 20)

/* The answers the cache case compares: the read twice (stored, then a hit), the
 * write, the read again. */
enum { CACHE_READ, CACHE_HIT, CACHE_AFTER, CACHE_N };

/* On a service with a cache: the read, the same read again, the write that makes
 * both stale, the read again, all under the fault; then the read with the fault
 * gone. A read that succeeds answers what the ledger holds at that moment, from
 * the cache or not: a failed insert costs a later read its hit, never its answer.
 * e->answer is the read before the write; the answer after it is kept in
 * cache_after. */
static char *cache_after;

static void run_cache_case(const struct sweep_case *sc, enum fault_mode mode, uint64_t n,
                           struct expectation *e)
{
    struct api_service *service;
    struct db *db = NULL;
    struct call c, reads[CACHE_N], write;
    char what[200], *bodies[CACHE_N] = {NULL}, *answers[CACHE_N] = {NULL}, *last;
    size_t body_lens[CACHE_N] = {0};
    int statuses[CACHE_N], write_status, status;
    bool is_written, is_kept;

    fresh_copy();
    service = service_open_cached(work_path, CACHE_BYTES);
    if (api_service_connection(service, &db) != ERR_OK)
        die("no connection");
    /* decoded before the fault, as the server decodes them before the handler */
    for (int i = 0; i < CACHE_N; i++)
        call_init(&reads[i], &sc->request);
    call_init(&write, &cache_write);
    arm(mode, n);
    statuses[CACHE_READ] = call_run(&reads[CACHE_READ], service, db, NULL);
    statuses[CACHE_HIT] = call_run(&reads[CACHE_HIT], service, db, NULL);
    write_status = call_run(&write, service, db, NULL);
    statuses[CACHE_AFTER] = call_run(&reads[CACHE_AFTER], service, db, NULL);
    /* The bodies rendered under the fault, as the server renders them. */
    for (int i = 0; i < CACHE_N; i++)
        if (statuses[i] >= 200 && statuses[i] < 300)
            bodies[i] = render_body(&reads[i], db, &body_lens[i]);
    if (mode == FAULT_COUNT)
        e->n_points = disarm();
    else
        disarm();
    for (int i = 0; i < CACHE_N; i++) {
        if (bodies[i] != NULL)
            answers[i] = answer_text(&reads[i], bodies[i], body_lens[i]);
        free(bodies[i]);
    }
    if (mode != FAULT_COUNT) {
        for (int i = 0; i < CACHE_N; i++) {
            snprintf(what, sizeof what, "%s read %d %s N=%llu", sc->name, i,
                     mode == FAULT_NTH ? "nth" : "from", (unsigned long long)n);
            answer_ok(what, &reads[i].reply, mode == FAULT_FROM);
        }
        snprintf(what, sizeof what, "%s write %s N=%llu", sc->name,
                 mode == FAULT_NTH ? "nth" : "from", (unsigned long long)n);
        answer_ok(what, &write.reply, mode == FAULT_FROM);
    }
    for (int i = 0; i < CACHE_N; i++)
        call_cleanup(&reads[i]);
    call_cleanup(&write);
    if (mode == FAULT_COUNT) {
        struct api_cache_stats stats;
        for (int i = 0; i < CACHE_N; i++)
            if (answers[i] == NULL)
                die("%s: the clean read %d answered %d", sc->name, i, statuses[i]);
        if (write_status != 200)
            die("%s: the clean write answered %d", sc->name, write_status);
        if (strcmp(answers[CACHE_READ], answers[CACHE_HIT]) != 0 ||
            strcmp(answers[CACHE_READ], answers[CACHE_AFTER]) == 0)
            die("%s: the clean reads do not show the write", sc->name);
        api_cache_stats(service->cache, &stats);
        if (stats.hits != 1)
            die("%s: the clean run had %llu hits, not 1", sc->name, (unsigned long long)stats.hits);
        e->answer = answers[CACHE_READ];
        free(cache_after);
        cache_after = answers[CACHE_AFTER];
        free(answers[CACHE_HIT]);
        api_service_destroy(service);
        e->after = digest_of(work_path);
        return;
    }
    snprintf(what, sizeof what, "%s %s N=%llu", sc->name, mode == FAULT_NTH ? "nth" : "from",
             (unsigned long long)n);
    is_written = write_status >= 200 && write_status < 300;
    n_refused += !is_written;
    for (int i = 0; i < CACHE_N; i++) {
        const char *expected = i == CACHE_AFTER && is_written ? cache_after : e->answer;
        char read[240];
        snprintf(read, sizeof read, "%s, read %d", what, i);
        if (answers[i] != NULL && strcmp(answers[i], expected) != 0)
            fail_answer(read, expected, answers[i]);
        free(answers[i]);
    }
    is_kept = check_state(what, e, is_written);
    /* the fault gone, the read answers what the ledger holds */
    last = read_answer(service, &sc->request, &status);
    if (last == NULL)
        fail("%s: the read answered %d with the fault gone", what, status);
    else if (strcmp(last, is_kept ? cache_after : e->answer) != 0)
        fail_answer(what, is_kept ? cache_after : e->answer, last);
    free(last);
    if (!is_kept) {
        status = run_request(service, &cache_write, &c);
        if (status != 200)
            fail("%s: the write again answered %d (%s)", what, status, c.reply.problem.detail);
        call_cleanup(&c);
        last = read_answer(service, &sc->request, &status);
        if (last == NULL || strcmp(last, cache_after) != 0)
            fail("%s: after the write again, the read does not show it", what);
        free(last);
    }
    check_recovery(sc, service, true, what);
    api_service_destroy(service);
}

/* ---- setup and the sweep loop ---- */

static void build_pristine(void)
{
    struct api_config config;
    struct api_service *service;
    char why[512] = "";
    FILE *f;

    memset(&config, 0, sizeof config);
    config.db_path = pristine_path;
    config.busy_timeout_ms = 5000;
    config.auto_migrate = true;
    config.admin_token = ADMIN_TOKEN;
    if (api_migrate(&config, NULL, NULL, why, sizeof why) != ERR_OK)
        die("migrate: %s", why);
    service = service_open(pristine_path);
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        struct call c;
        int status = run_request(service, &seeds[i], &c);
        if (status >= 300)
            die("seed %zu (%s %s) answered %d: %s", i, seeds[i].method, seeds[i].path, status,
                c.reply.problem.detail);
        call_cleanup(&c);
    }
    api_service_destroy(service);
    /* As a server leaves it once started: the seeds' increments folded. Otherwise
     * every run's start-up fold would change the ledger before the request. */
    api_service_destroy(service_open(pristine_path));
    f = fopen(import_path, "w");
    if (f == NULL || fputs(import_lines, f) < 0 || fclose(f) != 0)
        die("cannot write %s", import_path);
    f = fopen(hub_path, "w");
    if (f == NULL || fputs(import_hub, f) < 0 || fclose(f) != 0)
        die("cannot write %s", hub_path);
    for (size_t i = 0; i < sizeof import_cards / sizeof import_cards[0]; i++) {
        char path[800];
        snprintf(path, sizeof path, "%s/%s", cards_path, import_cards[i].id);
        *strchr(path + strlen(cards_path) + 1, '/') = '\0';
        mkdir(cards_path, 0700);
        mkdir(path, 0700);
        snprintf(path, sizeof path, "%s/%s", cards_path, import_cards[i].id);
        mkdir(path, 0700);
        strcat(path, "/README.md");
        f = fopen(path, "w");
        if (f == NULL || fputs(import_cards[i].readme, f) < 0 || fclose(f) != 0)
            die("cannot write %s", path);
    }
}

static void run_case(const struct sweep_case *sc, enum fault_mode mode, uint64_t n,
                     struct expectation *e)
{
    switch (sc->scenario) {
    case SCENARIO_REQUEST:
        run_request_case(sc, mode, n, e);
        break;
    case SCENARIO_IMPORT:
        run_import_case(sc, mode, n, e);
        break;
    case SCENARIO_GROUP:
        run_group_case(sc, mode, n, e);
        break;
    case SCENARIO_CHECKPOINT:
        run_checkpoint_case(sc, mode, n, e);
        break;
    case SCENARIO_FOLD:
        run_fold_case(sc, mode, n, e);
        break;
    case SCENARIO_CACHE:
        run_cache_case(sc, mode, n, e);
        break;
    }
}

static void sweep(const struct sweep_case *sc)
{
    struct expectation e = {0};
    uint64_t n_run[2] = {0, 0}, n_hit[2] = {0, 0}, n_refused_before = n_refused,
             n_kept_before = n_kept_refused;
    static const enum fault_mode modes[2] = {FAULT_NTH, FAULT_FROM};
    time_t started = time(NULL);

    e.before = digest_of(pristine_path);
    run_case(sc, FAULT_COUNT, 0, &e);
    if (e.answer != NULL) {
        /* A second clean run: an answer that varies by itself would be no reference. */
        struct expectation again = {0};
        run_case(sc, FAULT_COUNT, 0, &again);
        if (strcmp(e.answer, again.answer) != 0)
            fail_answer(sc->name, e.answer, again.answer);
        free(again.answer);
    }
    for (int m = 0; m < 2 && n_failures == 0; m++) {
        for (uint64_t n = 1; n <= e.n_points; n++) {
            if (!is_sampled(n, e.n_points))
                continue;
            run_case(sc, modes[m], n, &e);
            n_run[m]++;
            n_hit[m] += n_failed() > 0;
            if (n_failures > 0)
                break;
        }
    }
    free(e.answer);
    if (n_failures > 0) {
        fprintf(stderr, "%s: stopped at the first failure\n", sc->name);
        return;
    }
    printf("%-16s %-3s %6llu fault points, %6llu runs (nth), %6llu runs (from), %6llu faults hit, "
           "%6llu failure answers (%llu kept whole), %4llds\n",
           sc->name, opt.kind == KIND_IO ? "io" : "oom", (unsigned long long)e.n_points,
           (unsigned long long)n_run[0], (unsigned long long)n_run[1],
           (unsigned long long)(n_hit[0] + n_hit[1]),
           (unsigned long long)(n_refused - n_refused_before),
           (unsigned long long)(n_kept_refused - n_kept_before), (long long)(time(NULL) - started));
    fflush(stdout);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: test_faults io|oom [--full] [--first F] [--every K] [--at N] [--case NAME] "
            "[--verbose]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *base = getenv("TMPDIR");

    if (argc < 2)
        usage();
    if (strcmp(argv[1], "io") == 0)
        opt.kind = KIND_IO;
    else if (strcmp(argv[1], "oom") == 0)
        opt.kind = KIND_OOM;
    else
        usage();
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--full") == 0)
            opt.is_full = true;
        else if (strcmp(argv[i], "--verbose") == 0)
            opt.is_verbose = true;
        else if (strcmp(argv[i], "--first") == 0 && i + 1 < argc)
            opt.first = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--every") == 0 && i + 1 < argc)
            opt.every = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc)
            opt.at = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--case") == 0 && i + 1 < argc)
            opt.only = argv[++i];
        else
            usage();
    }
    /* Before SQLite initialises: its allocator can only be replaced then. */
    fault_alloc_install();
    fault_vfs_install();
    /* A 5xx is logged at error level: hundreds of expected ones would bury a real
     * report. Above every level, nothing is logged. */
    if (!opt.is_verbose)
        log_set_level((enum log_level)(LOG_ERROR + 1));
    if (access("/dev/shm", W_OK) == 0 && base == NULL)
        base = "/dev/shm";
    snprintf(dir, sizeof dir, "%s/carbontree-faults-XXXXXX", base ? base : "/tmp");
    if (mkdtemp(dir) == NULL)
        die("mkdtemp %s: %s", dir, strerror(errno));
    snprintf(pristine_path, sizeof pristine_path, "%s/pristine.db", dir);
    snprintf(work_path, sizeof work_path, "%s/work.db", dir);
    snprintf(subset_path, sizeof subset_path, "%s/subset.db", dir);
    snprintf(import_path, sizeof import_path, "%s/import.jsonl", dir);
    snprintf(hub_path, sizeof hub_path, "%s/hub.jsonl", dir);
    snprintf(cards_path, sizeof cards_path, "%s/cards", dir);
    atexit(cleanup_dir);
    build_pristine();
    for (size_t i = 0; i < N_CASES && n_failures == 0; i++) {
        if (opt.only && strcmp(opt.only, cases[i].name) != 0)
            continue;
        if (opt.kind == KIND_IO && !cases[i].is_write)
            continue;
        sweep(&cases[i]);
    }
    return n_failures > 0 ? 1 : 0;
}
