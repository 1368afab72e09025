/* SPDX-License-Identifier: Apache-2.0 */
/* Hostile input over the wire:
 * a table of bad requests against every write route, each answered with its exact
 * status and a problem+json body that shows no internals, and each leaving the
 * database byte-for-byte as it was; broken HTTP framing and header bombs; and a
 * hundred slow-header connections that must not delay a client from another
 * address. */
#include "harness.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BODY_MAX             65536 /* the server's default --body-max */
#define SLOW_CLIENTS         100
#define PER_IP_LIMIT         32
#define CONN_TIMEOUT_S       5
#define PROBE_SECONDS        8
#define PROBE_LATENCY_S      1.0
#define FRAMING_TIMEOUT_S    3 /* --connection-timeout of the framing server */
#define FRAMING_TIMEOUT_TEXT "3"

static struct ct_server *srv;

static void send_or_fail(const struct ct_server *s, const char *method, const char *path,
                         const char *json_text, long want)
{
    struct ct_response r;

    ct_send_json(s, method, path, json_text, &r);
    ck_assert_msg(r.status == want, "%s %s %s answered %ld: %s", method, path, json_text, r.status,
                  r.status ? r.body : r.error);
    ct_response_cleanup(&r);
}

/* The shared server of the bad-input table: started once (in the runner process)
 * with a small lineage, counts, a counter and an activity, which no case may
 * change. */
static void seed_and_start(const char *const *args)
{
    static const char *const headers[] = {"Content-Type: application/json",
                                          "Idempotency-Key: seed-1", NULL};
    struct ct_response r;
    char why[4096];

    srv = ct_server_new();
    srv->args = args;
    ck_assert_msg(ct_server_start(srv, why, sizeof why), "%s", why);
    send_or_fail(srv, "POST", "/v1/models", "{\"id\":\"hx/base\"}", 201);
    send_or_fail(srv, "POST", "/v1/models",
                 "{\"id\":\"hx/child\",\"parents\":[{\"id\":\"hx/base\"}]}", 201);
    send_or_fail(srv, "POST", "/v1/models", "{\"id\":\"hx/m\",\"task\":\"text-generation\"}", 201);
    send_or_fail(srv, "POST", "/v1/models/hx/m/activities",
                 "{\"kind\":\"training\",\"obtained\":\"reported\",\"co2e_kg\":12.5}", 201);
    send_or_fail(srv, "PUT", "/v1/models/hx/m/inference-counters/edge-1", "{\"total\":10}", 200);
    ct_request(srv, "POST", "/v1/models/hx/m/inferences", headers, "{\"count\":5}", 11, &r);
    ck_assert_msg(r.status == 200, "seed count answered %ld: %s", r.status, r.body);
    ct_response_cleanup(&r);
    ct_wait_folded(srv); /* the cases compare the database file before and after */
}

static void start_seeded_server(void)
{
    seed_and_start(NULL);
}

/* For framing: idle connections are reaped after FRAMING_TIMEOUT_S. */
static void start_seeded_server_short_timeout(void)
{
    static const char *const args[] = {"--connection-timeout", FRAMING_TIMEOUT_TEXT, NULL};

    seed_and_start(args);
}

static void stop_servers(void)
{
    ct_cleanup_all();
    srv = NULL;
}

/* ---- checks ---- */

/* The whole database content (sqlite3's .sha3sum over every table) and a few
 * counts to make a difference readable. Runs beside the live server (WAL). */
static void snapshot(const struct ct_server *s, char *out, size_t out_len)
{
    static const char counts[] =
        "SELECT (SELECT count(*) FROM models) || ' models, ' || (SELECT count(*) FROM "
        "model_parents) || ' edges, ' || (SELECT count(*) FROM activities) || ' activities, ' || "
        "(SELECT sum(inferences) FROM model_ledger) || ' inferences, ' || (SELECT count(*) FROM "
        "inference_counters) || ' counters, ' || (SELECT count(*) FROM idempotency_keys) || ' "
        "keys, ' || (SELECT count(*) FROM tokens) || ' tokens';";
    int pipe_fd[2];
    size_t n = 0;
    pid_t pid;
    int status = 0;

    ck_assert_int_eq(pipe(pipe_fd), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(pipe_fd[1], STDOUT_FILENO);
        dup2(pipe_fd[1], STDERR_FILENO);
        close(pipe_fd[0]);
        close(pipe_fd[1]);
        execlp("sqlite3", "sqlite3", "-batch", "-readonly", s->db_path, "-cmd", ".sha3sum", counts,
               (char *)NULL);
        _exit(127);
    }
    close(pipe_fd[1]);
    for (;;) {
        ssize_t got = read(pipe_fd[0], out + n, out_len - 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0 || (n += (size_t)got) == out_len - 1)
            break;
    }
    close(pipe_fd[0]);
    out[n] = '\0';
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "sqlite3: %s", out);
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* What an answer body must never show (S8), or NULL: SQL and SQLite, the server's
 * files and directories, C source names and lines, memory addresses. */
static const char *internals_in(const char *body, const struct ct_server *s)
{
    static const char *const paths[] = {"/tmp",   "/home/", "/usr/", "/var/",
                                        "/work/", "/proc/", ".db",   NULL};

    if (body == NULL)
        return NULL;
    if (ct_leaks_internals(body))
        return "SQL, /tmp or a source file name";
    if (strstr(body, s->dir) != NULL)
        return "the server's directory";
    for (const char *const *p = paths; *p; p++)
        if (strstr(body, *p) != NULL)
            return *p;
    for (const char *p = body; *p; p++) {
        size_t digits = 0;
        if (p[0] != '0' || (p[1] != 'x' && p[1] != 'X'))
            continue;
        while (is_hex(p[2 + digits]))
            digits++;
        if (digits >= 6)
            return "a hex address";
    }
    return NULL;
}

#define ASSERT_NO_INTERNALS(name, body)                                                            \
    do {                                                                                           \
        const char *leak_ = internals_in((body), srv);                                             \
        ck_assert_msg(leak_ == NULL, "%s: the answer shows %s: %s", (name), leak_, (body));        \
    } while (0)

/* ---- the bad-input table ----
 * Templates: <97> becomes 97 'n' (one more than an id part may hold), <E100> and
 * <E150> that many 'é' (two bytes each), <[32> 32 '[' and <]32> 32 ']', <[10000>
 * 10,000 '['. */

static char *expand(const char *template)
{
    static const struct {
        const char *token;
        const char *unit;
        size_t count;
    } tokens[] = {{"<97>", "n", 97},  {"<E100>", "\xc3\xa9", 100}, {"<E150>", "\xc3\xa9", 150},
                  {"<[32>", "[", 32}, {"<]32>", "]", 32},          {"<[10000>", "[", 10000}};
    size_t cap = strlen(template) + 20001, n = 0;
    char *out = malloc(cap);

    ck_assert_ptr_nonnull(out);
    for (const char *p = template; *p;) {
        bool replaced = false;
        for (size_t t = 0; t < sizeof tokens / sizeof tokens[0] && !replaced; t++) {
            size_t len = strlen(tokens[t].token), unit = strlen(tokens[t].unit);
            if (strncmp(p, tokens[t].token, len) != 0)
                continue;
            ck_assert(n + unit * tokens[t].count < cap);
            for (size_t i = 0; i < tokens[t].count; i++, n += unit)
                memcpy(out + n, tokens[t].unit, unit);
            p += len;
            replaced = true;
        }
        if (!replaced)
            out[n++] = *p++;
    }
    out[n] = '\0';
    return out;
}

enum { PLAIN = 0, KEYED = 1 }; /* KEYED: send an Idempotency-Key (counts and batches need one) */

struct bad_case {
    const char *name;
    const char *method;
    const char *path;
    const char *body; /* a template; NULL: no body */
    size_t len;       /* 0: the length of the expanded body; otherwise raw bytes, unexpanded */
    int flags;
    long status;
    const char *slug;
    const char *pointer; /* for 422: the member named in errors[] */
};

#define MODELS   "/v1/models"
#define BASE     "/v1/models/hx/base"
#define ACTS     "/v1/models/hx/m/activities"
#define COUNTS   "/v1/models/hx/m/inferences"
#define COUNTER  "/v1/models/hx/m/inference-counters/edge-1"
#define REPORTS  "/v1/inference-reports"
#define TOKENS   "/v1/tokens"
#define MALFORM  400, "malformed-json", NULL
#define INVALID  422, "invalid-input"
#define NOTFOUND 404, "not-found", NULL

static const struct bad_case bad_cases[] = {
    /* Malformed JSON: 400. */
    {"register: truncated object", "POST", MODELS, "{\"id\":\"hx/new\"", 0, PLAIN, MALFORM},
    {"register: truncated inside a string", "POST", MODELS, "{\"id\":\"hx/ne", 0, PLAIN, MALFORM},
    {"register: trailing garbage", "POST", MODELS, "{\"id\":\"hx/new\"} x", 0, PLAIN, MALFORM},
    {"register: two documents", "POST", MODELS, "{\"id\":\"hx/new\"}{\"id\":\"hx/new2\"}", 0, PLAIN,
     MALFORM},
    {"register: single quotes", "POST", MODELS, "{'id':'hx/new'}", 0, PLAIN, MALFORM},
    {"register: a block comment", "POST", MODELS, "{\"id\":\"hx/new\" /* c */}", 0, PLAIN, MALFORM},
    {"register: a line comment", "POST", MODELS, "// c\n{\"id\":\"hx/new\"}", 0, PLAIN, MALFORM},
    {"register: a trailing comma", "POST", MODELS, "{\"id\":\"hx/new\",}", 0, PLAIN, MALFORM},
    {"register: an unquoted key", "POST", MODELS, "{id:\"hx/new\"}", 0, PLAIN, MALFORM},
    {"register: a bare string", "POST", MODELS, "\"hx/new\"", 0, PLAIN, MALFORM},
    {"register: an empty body", "POST", MODELS, "", 0, PLAIN, MALFORM},
    {"count: whitespace only", "POST", COUNTS, "  \n ", 0, KEYED, MALFORM},
    {"count: bare NaN", "POST", COUNTS, "{\"count\":NaN}", 0, KEYED, MALFORM},
    {"count: bare Infinity", "POST", COUNTS, "{\"count\":Infinity}", 0, KEYED, MALFORM},
    {"count: bare -Infinity", "POST", COUNTS, "{\"count\":-Infinity}", 0, KEYED, MALFORM},
    /* well-formed JSON whose number fits no 64-bit figure: a meaning problem, 422 */
    {"count: 1e400 does not fit a double", "POST", COUNTS, "{\"count\":1e400}", 0, KEYED, INVALID,
     ""},
    {"count: 2^63 does not fit 64 bits", "POST", COUNTS, "{\"count\":9223372036854775808}", 0,
     KEYED, INVALID, ""},
    {"count: a hex literal", "POST", COUNTS, "{\"count\":0x10}", 0, KEYED, MALFORM},
    {"count: leading zeros", "POST", COUNTS, "{\"count\":007}", 0, KEYED, MALFORM},
    {"count: a leading plus", "POST", COUNTS, "{\"count\":+1}", 0, KEYED, MALFORM},
    {"register: an invalid UTF-8 sequence", "POST", MODELS, "{\"id\":\"hx/caf\xc3\x28\"}", 0, PLAIN,
     MALFORM},
    {"register: an overlong UTF-8 '/'", "POST", MODELS, "{\"id\":\"hx\xc0\xafnew\"}", 0, PLAIN,
     MALFORM},
    {"register: a UTF-8 encoded surrogate", "POST", MODELS,
     "{\"id\":\"hx/new\",\"task\":\"\xed\xa0\x80\"}", 0, PLAIN, MALFORM},
    {"register: a lone byte 0xff", "POST", MODELS, "{\"id\":\"hx/new\",\"task\":\"\xff\"}", 0,
     PLAIN, MALFORM},
    {"register: a lone surrogate escape", "POST", MODELS,
     "{\"id\":\"hx/new\",\"task\":\"\\ud800\"}", 0, PLAIN, MALFORM},
    {"register: an escaped NUL", "POST", MODELS, "{\"id\":\"hx/new\",\"task\":\"a\\u0000b\"}", 0,
     PLAIN, MALFORM},
    {"register: a raw NUL byte", "POST", MODELS, "{\"id\":\"hx/new\"}\0{}", 17, PLAIN, MALFORM},
    {"register: 33 levels of nesting", "POST", MODELS, "{\"id\":\"hx/new\",\"task\":<[32><]32>}", 0,
     PLAIN, MALFORM},
    {"count: 10,000 open brackets", "POST", COUNTS, "<[10000>", 0, KEYED, MALFORM},
    {"register: a duplicate id", "POST", MODELS, "{\"id\":\"hx/new\",\"id\":\"hx/new2\"}", 0, PLAIN,
     MALFORM},
    {"count: a duplicate count", "POST", COUNTS, "{\"count\":1,\"count\":2}", 0, KEYED, MALFORM},
    {"register: a duplicate inside a parent", "POST", MODELS,
     "{\"id\":\"hx/new\",\"parents\":[{\"id\":\"hx/base\",\"id\":\"hx/m\"}]}", 0, PLAIN, MALFORM},

    /* Wrong types and ranges: 422 naming the member. */
    {"register: the id a number", "POST", MODELS, "{\"id\":5}", 0, PLAIN, INVALID, "/id"},
    {"register: the id null", "POST", MODELS, "{\"id\":null}", 0, PLAIN, INVALID, "/id"},
    {"register: no id", "POST", MODELS, "{}", 0, PLAIN, INVALID, "/id"},
    {"register: the body an array", "POST", MODELS, "[{\"id\":\"hx/new\"}]", 0, PLAIN, INVALID, ""},
    {"register: task an array", "POST", MODELS, "{\"id\":\"hx/new\",\"task\":[\"a\"]}", 0, PLAIN,
     INVALID, "/task"},
    {"register: a control character in the task", "POST", MODELS,
     "{\"id\":\"hx/new\",\"task\":\"a\\u0007b\"}", 0, PLAIN, INVALID, "/task"},
    {"register: a file URL", "POST", MODELS, "{\"id\":\"hx/new\",\"url\":\"file:///etc/passwd\"}",
     0, PLAIN, INVALID, "/url"},
    {"register: parameters a string", "POST", MODELS, "{\"id\":\"hx/new\",\"parameters\":\"7e9\"}",
     0, PLAIN, INVALID, "/parameters"},
    {"register: negative parameters", "POST", MODELS, "{\"id\":\"hx/new\",\"parameters\":-1}", 0,
     PLAIN, INVALID, "/parameters"},
    {"register: fractional parameters", "POST", MODELS, "{\"id\":\"hx/new\",\"parameters\":1.5}", 0,
     PLAIN, INVALID, "/parameters"},
    {"register: parents an object", "POST", MODELS,
     "{\"id\":\"hx/new\",\"parents\":{\"id\":\"hx/base\"}}", 0, PLAIN, INVALID, "/parents"},
    {"count: a string", "POST", COUNTS, "{\"count\":\"10\"}", 0, KEYED, INVALID, "/count"},
    {"count: true", "POST", COUNTS, "{\"count\":true}", 0, KEYED, INVALID, "/count"},
    {"count: null", "POST", COUNTS, "{\"count\":null}", 0, KEYED, INVALID, "/count"},
    {"count: an array", "POST", COUNTS, "{\"count\":[1]}", 0, KEYED, INVALID, "/count"},
    {"count: an object", "POST", COUNTS, "{\"count\":{\"value\":1}}", 0, KEYED, INVALID, "/count"},
    {"count: the string NaN", "POST", COUNTS, "{\"count\":\"NaN\"}", 0, KEYED, INVALID, "/count"},
    {"count: the string Infinity", "POST", COUNTS, "{\"count\":\"Infinity\"}", 0, KEYED, INVALID,
     "/count"},
    {"count: negative", "POST", COUNTS, "{\"count\":-1}", 0, KEYED, INVALID, "/count"},
    {"count: the smallest 64-bit integer", "POST", COUNTS, "{\"count\":-9223372036854775808}", 0,
     KEYED, INVALID, "/count"},
    {"count: fractional", "POST", COUNTS, "{\"count\":1.5}", 0, KEYED, INVALID, "/count"},
    {"count: a negative exponent (a fraction)", "POST", COUNTS, "{\"count\":1e-3}", 0, KEYED,
     INVALID, "/count"},
    {"count: an exponent beyond 64 bits", "POST", COUNTS, "{\"count\":1e19}", 0, KEYED, INVALID,
     "/count"},
    {"count: missing", "POST", COUNTS, "{}", 0, KEYED, INVALID, "/count"},
    {"count: a month 13", "POST", COUNTS, "{\"count\":1,\"date\":\"2024-13-01\"}", 0, KEYED,
     INVALID, "/date"},
    {"count: overflowing the stored total", "POST", COUNTS, "{\"count\":9223372036854775807}", 0,
     KEYED, INVALID, "/count"},
    {"counter: a negative total", "PUT", COUNTER, "{\"total\":-5}", 0, PLAIN, INVALID, "/total"},
    {"counter: reset as text", "PUT", COUNTER, "{\"total\":20,\"reset\":\"yes\"}", 0, PLAIN,
     INVALID, "/reset"},
    {"batch: no reports", "POST", REPORTS, "{\"reports\":[]}", 0, KEYED, INVALID, "/reports"},
    {"batch: a negative count", "POST", REPORTS,
     "{\"reports\":[{\"model\":\"hx/m\",\"count\":-1}]}", 0, KEYED, INVALID, "/reports/0/count"},
    {"batch: one unknown model among good ones", "POST", REPORTS,
     "{\"reports\":[{\"model\":\"hx/m\",\"count\":1},{\"model\":\"hx/nosuch\",\"count\":1}]}", 0,
     KEYED, INVALID, "/reports/1/model"},
    {"activity: a negative co2e_kg", "POST", ACTS,
     "{\"kind\":\"other\",\"obtained\":\"reported\",\"co2e_kg\":-1}", 0, PLAIN, INVALID,
     "/co2e_kg"},
    {"activity: co2e_kg the string NaN", "POST", ACTS,
     "{\"kind\":\"other\",\"obtained\":\"reported\",\"co2e_kg\":\"NaN\"}", 0, PLAIN, INVALID,
     "/co2e_kg"},
    {"activity: an unknown kind", "POST", ACTS,
     "{\"kind\":\"x'; DROP TABLE activities;--\",\"obtained\":\"reported\",\"co2e_kg\":1}", 0,
     PLAIN, INVALID, "/kind"},

    /* Overlong and path-traversal ids. */
    {"register: a 97-character name", "POST", MODELS, "{\"id\":\"hx/<97>\"}", 0, PLAIN, INVALID,
     "/id"},
    {"register: a 97-character namespace", "POST", MODELS, "{\"id\":\"<97>/x\"}", 0, PLAIN, INVALID,
     "/id"},
    {"register: a parent with a 97-character name", "POST", MODELS,
     "{\"id\":\"hx/new\",\"parents\":[{\"id\":\"hx/<97>\"}]}", 0, PLAIN, INVALID, "/parents/0/id"},
    {"patch: a 97-character name in the path", "PATCH", "/v1/models/hx/<97>", "{\"task\":\"t\"}", 0,
     PLAIN, NOTFOUND},
    {"count: a 97-character namespace in the path", "POST", "/v1/models/<97>/m/inferences",
     "{\"count\":1}", 0, KEYED, NOTFOUND},
    {"register: the id ../..", "POST", MODELS, "{\"id\":\"../..\"}", 0, PLAIN, INVALID, "/id"},
    {"register: the id hx/../../etc/passwd", "POST", MODELS, "{\"id\":\"hx/../../etc/passwd\"}", 0,
     PLAIN, INVALID, "/id"},
    {"register: the id %2e%2e/%2e%2e", "POST", MODELS, "{\"id\":\"%2e%2e/%2e%2e\"}", 0, PLAIN,
     INVALID, "/id"},
    {"register: backslashes in the id", "POST", MODELS, "{\"id\":\"..\\\\..\\\\x/y\"}", 0, PLAIN,
     INVALID, "/id"},
    {"patch: the path /v1/models/../..", "PATCH", "/v1/models/../..", "{\"task\":\"t\"}", 0, PLAIN,
     NOTFOUND},
    {"patch: the path %2e%2e/%2e%2e", "PATCH", "/v1/models/%2e%2e/%2e%2e", "{\"task\":\"t\"}", 0,
     PLAIN, NOTFOUND},
    {"count: an encoded slash in the path", "POST", "/v1/models/hx/..%2f..%2fm/inferences",
     "{\"count\":1}", 0, KEYED, NOTFOUND},
    {"delete: the model hx/..", "DELETE", "/v1/models/hx/..", NULL, 0, PLAIN, NOTFOUND},

    /* SQL metacharacters where they are not allowed. */
    {"register: a quote and DROP in the id", "POST", MODELS,
     "{\"id\":\"hx/x'; DROP TABLE models;--\"}", 0, PLAIN, INVALID, "/id"},
    {"register: OR 1=1 in the namespace", "POST", MODELS, "{\"id\":\"\\\" OR 1=1 --/x\"}", 0, PLAIN,
     INVALID, "/id"},
    {"register: LIKE wildcards in the id", "POST", MODELS, "{\"id\":\"hx/%_\"}", 0, PLAIN, INVALID,
     "/id"},
    {"patch: SQL in the task of an unknown model", "PATCH", "/v1/models/hx/nosuch",
     "{\"task\":\"'); DELETE FROM models; --\"}", 0, PLAIN, NOTFOUND},
    {"counter: SQL in the reporter", "PUT",
     "/v1/models/hx/m/inference-counters/x';DROP%20TABLE%20models;--", "{\"total\":11}", 0, PLAIN,
     NOTFOUND},
    {"count: SQL in the model name", "POST", "/v1/models/hx/m'%20OR%20'1'='1/inferences",
     "{\"count\":1}", 0, KEYED, NOTFOUND},
    {"batch: SQL in a model id", "POST", REPORTS,
     "{\"reports\":[{\"model\":\"hx/m' OR '1'='1\",\"count\":1}]}", 0, KEYED, INVALID,
     "/reports/0/model"},

    /* Lineage: cycles, self-parents, unknown parents. */
    {"patch: a descendant as parent closes a cycle", "PATCH", BASE,
     "{\"parents\":[{\"id\":\"hx/child\"}]}", 0, PLAIN, 409, "conflict", "/parents/0/id"},
    {"patch: a card base_model that descends from it", "PATCH", BASE,
     "{\"base_model\":\"hx/child\"}", 0, PLAIN, 409, "conflict", "/base_model"},
    {"patch: the model as its own parent", "PATCH", BASE, "{\"parents\":[{\"id\":\"hx/base\"}]}", 0,
     PLAIN, INVALID, "/parents/0"},
    {"register: the model as its own parent", "POST", MODELS,
     "{\"id\":\"hx/self\",\"parents\":[{\"id\":\"hx/self\"}]}", 0, PLAIN, INVALID, "/parents/0"},
    {"register: an unknown parent", "POST", MODELS,
     "{\"id\":\"hx/new\",\"parents\":[{\"id\":\"hx/nosuch\"}]}", 0, PLAIN, INVALID,
     "/parents/0/id"},

    /* Mass assignment: read-only and unknown members. */
    {"register: created_at", "POST", MODELS, "{\"id\":\"hx/new\",\"created_at\":\"2020-01-01\"}", 0,
     PLAIN, INVALID, "/created_at"},
    {"register: updated_at", "POST", MODELS, "{\"id\":\"hx/new\",\"updated_at\":\"2020-01-01\"}", 0,
     PLAIN, INVALID, "/updated_at"},
    {"register: version", "POST", MODELS, "{\"id\":\"hx/new\",\"version\":9}", 0, PLAIN, INVALID,
     "/version"},
    {"register: depth", "POST", MODELS, "{\"id\":\"hx/new\",\"depth\":0}", 0, PLAIN, INVALID,
     "/depth"},
    {"register: children_count", "POST", MODELS, "{\"id\":\"hx/new\",\"children_count\":3}", 0,
     PLAIN, INVALID, "/children_count"},
    {"register: namespace", "POST", MODELS, "{\"id\":\"hx/new\",\"namespace\":\"other\"}", 0, PLAIN,
     INVALID, "/namespace"},
    {"register: a total", "POST", MODELS, "{\"id\":\"hx/new\",\"total\":100}", 0, PLAIN, INVALID,
     "/total"},
    {"register: an owner", "POST", MODELS, "{\"id\":\"hx/new\",\"owner\":\"admin\"}", 0, PLAIN,
     INVALID, "/owner"},
    {"patch: id", "PATCH", BASE, "{\"id\":\"hx/renamed\"}", 0, PLAIN, INVALID, "/id"},
    {"patch: version", "PATCH", BASE, "{\"version\":99}", 0, PLAIN, INVALID, "/version"},
    {"patch: depth", "PATCH", BASE, "{\"depth\":5}", 0, PLAIN, INVALID, "/depth"},
    {"patch: children_count", "PATCH", BASE, "{\"children_count\":0}", 0, PLAIN, INVALID,
     "/children_count"},
    {"patch: created_at", "PATCH", BASE, "{\"created_at\":\"2020-01-01\"}", 0, PLAIN, INVALID,
     "/created_at"},
    {"count: a total", "POST", COUNTS, "{\"count\":1,\"total\":1000}", 0, KEYED, INVALID, "/total"},
    {"count: inferences", "POST", COUNTS, "{\"count\":1,\"inferences\":1000}", 0, KEYED, INVALID,
     "/inferences"},
    {"count: total_inferences", "POST", COUNTS, "{\"count\":1,\"total_inferences\":0}", 0, KEYED,
     INVALID, "/total_inferences"},
    {"count: another model", "POST", COUNTS, "{\"count\":1,\"model\":\"hx/base\"}", 0, KEYED,
     INVALID, "/model"},
    {"counter: counted", "PUT", COUNTER, "{\"total\":20,\"counted\":1}", 0, PLAIN, INVALID,
     "/counted"},
    {"counter: previous_total", "PUT", COUNTER, "{\"total\":20,\"previous_total\":0}", 0, PLAIN,
     INVALID, "/previous_total"},
    {"activity: an id", "POST", ACTS,
     "{\"kind\":\"other\",\"obtained\":\"reported\",\"co2e_kg\":1,\"id\":1}", 0, PLAIN, INVALID,
     "/id"},
    {"activity: created_at", "POST", ACTS,
     "{\"kind\":\"other\",\"obtained\":\"reported\",\"co2e_kg\":1,\"created_at\":\"2020-01-01\"}",
     0, PLAIN, INVALID, "/created_at"},
    {"activity: model_id", "POST", ACTS,
     "{\"kind\":\"other\",\"obtained\":\"reported\",\"co2e_kg\":1,\"model_id\":1}", 0, PLAIN,
     INVALID, "/model_id"},
    {"token: a token_hash", "POST", TOKENS,
     "{\"name\":\"x\",\"scopes\":[\"admin\"],\"namespaces\":[\"*\"],\"token_hash\":\"00\"}", 0,
     PLAIN, INVALID, "/token_hash"},
    {"token: is_admin", "POST", TOKENS,
     "{\"name\":\"x\",\"scopes\":[\"models:write\"],\"namespaces\":[\"*\"],\"is_admin\":true}", 0,
     PLAIN, INVALID, "/is_admin"},

    /* Text echoed back must stay valid UTF-8 (a problem body is JSON). */
    {"register: an unknown member of 100 two-byte characters", "POST", MODELS,
     "{\"id\":\"hx/new\",\"a<E100>\":1}", 0, PLAIN, INVALID, NULL},
    {"count: an unknown member of 100 two-byte characters", "POST", COUNTS,
     "{\"count\":1,\"a<E100>\":1}", 0, KEYED, INVALID, NULL},
    {"register: an id of 150 two-byte characters", "POST", MODELS, "{\"id\":\"ab/<E150>\"}", 0,
     PLAIN, INVALID, "/id"},
    {"register: a parent id of 150 two-byte characters", "POST", MODELS,
     "{\"id\":\"hx/new\",\"parents\":[{\"id\":\"ab/<E150>\"}]}", 0, PLAIN, INVALID,
     "/parents/0/id"},
    {"the byte 0xff in an unknown route", "GET", "/v1/modles%ff", NULL, 0, PLAIN, NOTFOUND},
    {"the byte 0xff in a model path with a wrong method", "POST", "/v1/models/hx/%ff", NULL, 0,
     PLAIN, 405, "method-not-allowed", NULL},
    {"the byte 0xff in a query parameter name", "GET", "/v1/models/hx/m?%ff=1", NULL, 0, PLAIN, 400,
     "bad-request", NULL},
};

#define N_BAD_CASES ((int)(sizeof bad_cases / sizeof bad_cases[0]))

START_TEST(bad_input_gets_its_exact_problem_and_changes_nothing)
{
    const struct bad_case *c = &bad_cases[_i];
    char key_header[64], before[512], after[512], why[512];
    const char *headers[] = {"Content-Type: application/json", NULL, NULL};
    char *path = expand(c->path);
    char *body = c->body && c->len == 0 ? expand(c->body) : NULL;
    const char *bytes = c->len ? c->body : body;
    size_t len = c->len ? c->len : (body ? strlen(body) : 0);
    struct ct_response r;

    if (c->flags & KEYED) {
        snprintf(key_header, sizeof key_header, "Idempotency-Key: hostile-%d", _i);
        headers[1] = key_header;
    }
    snapshot(srv, before, sizeof before);
    ct_request(srv, c->method, path, headers, bytes, len, &r);
    ck_assert_msg(r.status == c->status, "%s: %s %.80s answered %ld, expected %ld: %s", c->name,
                  c->method, path, r.status, c->status, r.status ? r.body : r.error);
    ck_assert_msg(ct_problem_ok(r.status, r.content_type, r.json, c->status, c->slug, c->pointer,
                                why, sizeof why),
                  "%s: %s; Content-Type '%s', body: %s", c->name, why, r.content_type, r.body);
    ASSERT_NO_INTERNALS(c->name, r.body);
    snapshot(srv, after, sizeof after);
    ck_assert_msg(strcmp(before, after) == 0, "%s changed the database:\n%s\n->\n%s", c->name,
                  before, after);
    ct_response_cleanup(&r);
    free(path);
    free(body);
}
END_TEST

START_TEST(sql_metacharacters_in_text_fields_are_stored_verbatim)
{
    static const char body[] =
        "{\"id\":\"hx/sql\",\"task\":\"'); DROP TABLE models; --\",\"license\":\"x\\\" OR "
        "\\\"1\\\"=\\\"1\",\"url\":\"https://e.org/?q=1'--;SELECT%20*\"}";
    struct ct_response r;
    char before[512], after[512];

    snapshot(srv, before, sizeof before);
    ct_send_json(srv, "POST", MODELS, body, &r);
    ck_assert_msg(r.status == 201, "answered %ld: %s", r.status, r.body);
    ct_response_cleanup(&r);
    /* The snapshot every bad case compares does see a stored write. */
    snapshot(srv, after, sizeof after);
    ck_assert_msg(strcmp(before, after) != 0, "the snapshot missed a registration");
    ck_assert_int_eq(ct_get(srv, "/v1/models/hx/sql", &r), 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "task")),
                     "'); DROP TABLE models; --");
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "license")), "x\" OR \"1\"=\"1");
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "url")),
                     "https://e.org/?q=1'--;SELECT%20*");
    ct_response_cleanup(&r);
    ck_assert_int_eq(ct_get(srv, "/v1/models?limit=500", &r), 200);
    ck_assert_int_eq(json_array_size(json_object_get(r.json, "items")), 4);
    ct_response_cleanup(&r);
    ck_assert_int_eq(ct_request(srv, "DELETE", "/v1/models/hx/sql", NULL, NULL, 0, &r), 204);
    ct_response_cleanup(&r);
}
END_TEST

/* ---- framing and header bombs, over a raw socket ---- */

/* The request head for POST path with the admin token and JSON content type, and
 * extra lines (each ending in \r\n) before the blank line. */
static int head(char *buf, size_t len, const char *path, const char *extra)
{
    int n = snprintf(buf, len,
                     "POST %s HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " CT_ADMIN_TOKEN "\r\n"
                     "Content-Type: application/json\r\n%s\r\n",
                     path, extra);
    ck_assert_int_lt(n, (int)len);
    return n;
}

/* Sends request on a fresh connection, then half-closes and reads until the
 * server closes or timeout_s passes. Returns the status of the first answer (0 for
 * none); *closed says whether the server closed. */
static int send_then_close(const struct ct_server *s, const char *request, double timeout_s,
                           bool *closed)
{
    struct sockaddr_in addr;
    char buf[4096];
    size_t n = 0;
    double deadline = ct_now() + timeout_s;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)s->port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    ck_assert_int_eq(send(fd, request, strlen(request), MSG_NOSIGNAL), (ssize_t)strlen(request));
    shutdown(fd, SHUT_WR);
    *closed = false;
    while (ct_now() < deadline && n < sizeof buf - 1) {
        struct pollfd pfd = {fd, POLLIN, 0};
        ssize_t got;
        if (poll(&pfd, 1, 50) <= 0)
            continue;
        got = recv(fd, buf + n, sizeof buf - 1 - n, 0);
        if (got <= 0) {
            *closed = true;
            break;
        }
        n += (size_t)got;
    }
    close(fd);
    buf[n] = '\0';
    return strncmp(buf, "HTTP/1.", 7) == 0 && n > 12 ? atoi(buf + 9) : 0;
}

START_TEST(body_one_byte_over_the_cap_or_declared_over_it_is_413_and_stores_nothing)
{
    const char *headers[] = {"Content-Type: application/json", NULL};
    char before[512], after[512], request[512];
    char *over = malloc(BODY_MAX + 2);
    struct ct_response r;
    struct ct_raw_response raw;
    size_t n;

    ck_assert_ptr_nonnull(over);
    n = (size_t)sprintf(over, "{\"id\":\"hx/over\",\"url\":\"https://e.org/");
    memset(over + n, 'u', BODY_MAX + 1 - n - 2);
    memcpy(over + BODY_MAX + 1 - 2, "\"}", 3);
    ck_assert_uint_eq(strlen(over), BODY_MAX + 1);
    snapshot(srv, before, sizeof before);
    ct_request(srv, "POST", MODELS, headers, over, BODY_MAX + 1, &r);
    CT_ASSERT_PROBLEM(&r, 413, "payload-too-large", NULL);
    ct_response_cleanup(&r);
    free(over);

    /* Declared 10 MiB, nothing sent: refused from the headers, at once. */
    head(request, sizeof request, MODELS, "Content-Length: 10485760\r\n");
    ct_raw(srv, request, strlen(request), 5, &raw);
    ck_assert_msg(raw.elapsed_s < 1.0, "answered after %.3f s", raw.elapsed_s);
    CT_ASSERT_PROBLEM(&raw, 413, "payload-too-large", NULL);
    ASSERT_NO_INTERNALS("declared 10 MiB", raw.body);
    ct_raw_cleanup(&raw);
    snapshot(srv, after, sizeof after);
    ck_assert_str_eq(before, after);
}
END_TEST

START_TEST(content_length_larger_than_the_body_then_close_stores_nothing)
{
    char request[512], before[512], after[512];
    double limit = FRAMING_TIMEOUT_S + 2.0 * ct_slowness();
    bool closed;
    int status;

    snapshot(srv, before, sizeof before);
    head(request, sizeof request, MODELS, "Content-Length: 100\r\n");
    strcat(request, "{\"id\":\"hx/lie\"}");
    status = send_then_close(srv, request, limit, &closed);
    ck_assert_msg(status == 0 || status == 400, "a truncated body answered %d", status);
    /* Closed at once or by the inactivity timeout, never kept. */
    ck_assert_msg(closed, "a connection with a truncated body was still open after %.0f s", limit);
    snapshot(srv, after, sizeof after);
    ck_assert_str_eq(before, after);
}
END_TEST

START_TEST(content_length_smaller_than_the_body_is_400_and_stores_nothing)
{
    char request[512], before[512], after[512];
    struct ct_raw_response raw;

    snapshot(srv, before, sizeof before);
    /* The first 5 bytes are the body; the rest is a second (garbage) request. */
    head(request, sizeof request, MODELS, "Content-Length: 5\r\n");
    strcat(request, "{\"id\":\"hx/short\"}");
    ct_raw(srv, request, strlen(request), 2, &raw);
    CT_ASSERT_PROBLEM(&raw, 400, "malformed-json", NULL);
    ct_raw_cleanup(&raw);
    snapshot(srv, after, sizeof after);
    ck_assert_str_eq(before, after);
}
END_TEST

static const struct {
    const char *name;
    const char *extra; /* header lines */
    const char *body;
    int status;
    const char *slug; /* NULL: answered by the HTTP library (not problem+json) */
} framing_cases[] = {
    {"a non-numeric Content-Length", "Content-Length: abc\r\n", "{\"id\":\"hx/f\"}", 400, NULL},
    {"a negative Content-Length", "Content-Length: -1\r\n", "{\"id\":\"hx/f\"}", 400, NULL},
    {"a Content-Length over 64 bits", "Content-Length: 99999999999999999999\r\n", "", 413, NULL},
    {"a Content-Length list", "Content-Length: 13, 13\r\n", "{\"id\":\"hx/f\"}", 400, NULL},
    {"conflicting Content-Length headers", "Content-Length: 13\r\nContent-Length: 12\r\n",
     "{\"id\":\"hx/f\"}", 400, "bad-request"},
    {"Transfer-Encoding chunked", "Transfer-Encoding: chunked\r\n",
     "d\r\n{\"id\":\"hx/f\"}\r\n0\r\n\r\n", 411, "length-required"},
    {"Transfer-Encoding gzip", "Transfer-Encoding: gzip\r\nContent-Length: 13\r\n",
     "{\"id\":\"hx/f\"}", 411, "length-required"},
    {"Content-Length and Transfer-Encoding", "Content-Length: 13\r\nTransfer-Encoding: chunked\r\n",
     "d\r\n{\"id\":\"hx/f\"}\r\n0\r\n\r\n", 411, "length-required"},
    {"no Content-Length", "", "", 411, "length-required"},
};

START_TEST(broken_framing_is_refused_and_stores_nothing)
{
    char request[1024], before[512], after[512], why[512];
    struct ct_raw_response raw;

    snapshot(srv, before, sizeof before);
    head(request, sizeof request, MODELS, framing_cases[_i].extra);
    strcat(request, framing_cases[_i].body);
    ct_raw(srv, request, strlen(request), 2, &raw);
    ck_assert_msg(raw.status == framing_cases[_i].status, "%s answered %d, expected %d: %s %s",
                  framing_cases[_i].name, raw.status, framing_cases[_i].status,
                  raw.head ? raw.head : "", raw.body ? raw.body : "");
    if (framing_cases[_i].slug)
        ck_assert_msg(ct_problem_ok(raw.status, raw.content_type, raw.json,
                                    framing_cases[_i].status, framing_cases[_i].slug, NULL, why,
                                    sizeof why),
                      "%s: %s", framing_cases[_i].name, why);
    ASSERT_NO_INTERNALS(framing_cases[_i].name, raw.body);
    ct_raw_cleanup(&raw);
    snapshot(srv, after, sizeof after);
    ck_assert_msg(strcmp(before, after) == 0, "%s changed the database:\n%s\n->\n%s",
                  framing_cases[_i].name, before, after);
}
END_TEST

START_TEST(header_bombs_get_431_or_a_close_and_store_nothing)
{
    size_t big = 100 * 1024;
    char *request = malloc(big + 10000 * 16 + 1024);
    char before[512], after[512];
    struct ct_raw_response raw;
    struct ct_response ok;
    size_t n;

    ck_assert_ptr_nonnull(request);
    snapshot(srv, before, sizeof before);
    /* 10,000 small headers on a write. */
    n = (size_t)head(request, 1024, MODELS, "Content-Length: 13\r\n");
    n -= 2; /* reopen the head */
    for (int i = 0; i < 10000; i++)
        n += (size_t)sprintf(request + n, "X-H%d: 1\r\n", i);
    n += (size_t)sprintf(request + n, "\r\n{\"id\":\"hx/h\"}");
    ct_raw(srv, request, n, 5, &raw);
    ck_assert_msg(raw.status == 431 || (raw.status == 0 && raw.closed), "10,000 headers: %d",
                  raw.status);
    ASSERT_NO_INTERNALS("10,000 headers", raw.body);
    ct_raw_cleanup(&raw);

    /* One header of 100 KiB on a write. */
    n = (size_t)head(request, 1024, MODELS, "Content-Length: 13\r\n");
    n -= 2;
    n += (size_t)sprintf(request + n, "X-Big: ");
    memset(request + n, 'a', big);
    n += big;
    n += (size_t)sprintf(request + n, "\r\n\r\n{\"id\":\"hx/h\"}");
    ct_raw(srv, request, n, 5, &raw);
    ck_assert_msg(raw.status == 431 || (raw.status == 0 && raw.closed), "a 100 KiB header: %d",
                  raw.status);
    ct_raw_cleanup(&raw);
    free(request);

    snapshot(srv, after, sizeof after);
    ck_assert_str_eq(before, after);
    ck_assert_int_eq(ct_get(srv, "/healthz", &ok), 200);
    ct_response_cleanup(&ok);
}
END_TEST

START_TEST(idempotency_key_missing_long_or_with_spaces_is_400_and_counts_nothing)
{
    static const char *const keys[] = {NULL, "Idempotency-Key: has space", "Idempotency-Key: "};
    char long_key[300], before[512], after[512];
    struct ct_response r;

    snprintf(long_key, sizeof long_key, "Idempotency-Key: ");
    memset(long_key + strlen(long_key), 'k', 256);
    long_key[17 + 256] = '\0';
    snapshot(srv, before, sizeof before);
    for (size_t i = 0; i <= sizeof keys / sizeof keys[0]; i++) {
        const char *headers[] = {"Content-Type: application/json",
                                 i < sizeof keys / sizeof keys[0] ? keys[i] : long_key, NULL};
        ct_request(srv, "POST", COUNTS, headers, "{\"count\":1}", 11, &r);
        CT_ASSERT_PROBLEM(&r, 400, "bad-request", NULL);
        ct_response_cleanup(&r);
    }
    snapshot(srv, after, sizeof after);
    ck_assert_str_eq(before, after);
}
END_TEST

/* ---- H1: slow-header clients ---- */

struct slow_attack {
    int fds[SLOW_CLIENTS];
    bool open[SLOW_CLIENTS];
    atomic_bool stop;
    pthread_t thread;
    size_t sent; /* bytes of the never-ending head sent on each connection */
};

static const char slow_head[] = "GET /healthz HTTP/1.1\r\nHost: slow\r\nX-Slow: "
                                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

/* Whether the server has closed fd (EOF or reset), without blocking. */
static bool peer_closed(int fd)
{
    char c;
    ssize_t got = recv(fd, &c, 1, MSG_DONTWAIT);

    if (got == 0)
        return true;
    return got < 0 && errno != EAGAIN && errno != EWOULDBLOCK;
}

/* One byte a second on every connection the server keeps. */
static void *slow_attack_run(void *cls)
{
    struct slow_attack *a = cls;

    while (!atomic_load(&a->stop) && a->sent < sizeof slow_head - 1) {
        for (int i = 0; i < SLOW_CLIENTS; i++) {
            if (!a->open[i])
                continue;
            if (peer_closed(a->fds[i]) ||
                send(a->fds[i], slow_head + a->sent, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1)
                a->open[i] = false;
        }
        a->sent++;
        for (int t = 0; t < 20 && !atomic_load(&a->stop); t++)
            ct_sleep_s(0.05);
    }
    return NULL;
}

static int connect_from(unsigned port)
{
    struct sockaddr_in addr;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static size_t body_sink(char *data, size_t size, size_t n, void *cls)
{
    (void)data;
    (void)cls;
    return size * n;
}

/* GET path from source address 127.0.0.2 on a fresh connection: the status (0 on
 * failure) and the time it took. */
static long probe(CURL *curl, unsigned port, const char *path, double *elapsed)
{
    char url[256];
    long status = 0;
    double start = ct_now();

    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_INTERFACE, "host!127.0.0.2");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 3000L);
    curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, body_sink);
    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    *elapsed = ct_now() - start;
    return status;
}

static int open_fds(pid_t pid)
{
    char path[64];
    DIR *dir;
    int n = 0;

    snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
    dir = opendir(path);
    if (dir == NULL)
        return -1;
    while (readdir(dir) != NULL)
        n++;
    closedir(dir);
    return n - 2;
}

static int count_open(struct slow_attack *a)
{
    int n = 0;

    for (int i = 0; i < SLOW_CLIENTS; i++) {
        if (a->open[i] && peer_closed(a->fds[i]))
            a->open[i] = false;
        n += a->open[i];
    }
    return n;
}

START_TEST(a_hundred_slow_header_connections_do_not_delay_a_client_from_another_address)
{
    static const char *const args[] = {"--per-ip-connections",
                                       "32",
                                       "--max-connections",
                                       "256",
                                       "--connection-timeout",
                                       "5",
                                       NULL};
    static struct slow_attack attack;
    static const char *const paths[] = {"/healthz", "/v1/models"};
    CURL *curl = curl_easy_init();
    double worst = 0, deadline;
    int probes = 0, kept, max_fds = 0;
    char why[4096];

    ck_assert_ptr_nonnull(curl);
    srv = ct_server_new();
    srv->args = args;
    ck_assert_msg(ct_server_start(srv, why, sizeof why), "%s", why);

    /* 100 connections from 127.0.0.1, each with the first byte of a head that
     * never ends. */
    memset(&attack, 0, sizeof attack);
    for (int i = 0; i < SLOW_CLIENTS; i++) {
        attack.fds[i] = connect_from(srv->port);
        attack.open[i] = attack.fds[i] >= 0;
    }
    atomic_init(&attack.stop, false);
    ck_assert_int_eq(pthread_create(&attack.thread, NULL, slow_attack_run, &attack), 0);

    /* A well-behaved client from 127.0.0.2, every second for 8 s. */
    for (int second = 0; second < PROBE_SECONDS; second++) {
        double tick = ct_now();
        for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++) {
            double elapsed;
            long status = probe(curl, srv->port, paths[p], &elapsed);
            ck_assert_msg(status == 200, "probe %s at second %d answered %ld after %.3f s",
                          paths[p], second, status, elapsed);
            ck_assert_msg(elapsed < PROBE_LATENCY_S, "probe %s at second %d took %.3f s", paths[p],
                          second, elapsed);
            if (elapsed > worst)
                worst = elapsed;
            probes++;
        }
        if (open_fds(srv->pid) > max_fds)
            max_fds = open_fds(srv->pid);
        ct_sleep_s(1.0 - (ct_now() - tick));
    }
    kept = count_open(&attack);
    fprintf(stderr,
            "slow clients: %d probes, slowest %.3f s; %d of %d slow connections kept, server fds "
            "at most %d\n",
            probes, worst, kept, SLOW_CLIENTS, max_fds);
    /* The per-IP limit refused or closed the surplus; the rest are still held. */
    ck_assert_msg(kept <= PER_IP_LIMIT, "%d slow connections from one address are open", kept);
    ck_assert_msg(kept > 0, "the slow connections were all closed: the test did not test");
    ck_assert_msg(max_fds <= 256 + 32, "the server held %d descriptors", max_fds);

    /* Once they go quiet, the inactivity timeout reaps them. */
    atomic_store(&attack.stop, true);
    pthread_join(attack.thread, NULL);
    deadline = ct_now() + CONN_TIMEOUT_S + 3.0 * ct_slowness();
    while (count_open(&attack) > 0 && ct_now() < deadline)
        ct_sleep_s(0.1);
    ck_assert_msg(count_open(&attack) == 0,
                  "%d idle slow connections still open %d s after they went quiet",
                  count_open(&attack), (int)(CONN_TIMEOUT_S + 3.0 * ct_slowness()));
    for (int i = 0; i < SLOW_CLIENTS; i++)
        if (attack.fds[i] >= 0)
            close(attack.fds[i]);
    curl_easy_cleanup(curl);
}
END_TEST

static Suite *hostile_suite(void)
{
    Suite *s = suite_create("http_hostile");
    TCase *bad_input = tcase_create("bad_input");
    TCase *framing = tcase_create("framing");
    TCase *slow = tcase_create("slow_clients");

    /* One seeded server for each table: every case checks it changed nothing. */
    tcase_add_unchecked_fixture(bad_input, start_seeded_server, stop_servers);
    tcase_set_timeout(bad_input, ct_timeout_s(15));
    tcase_add_loop_test(bad_input, bad_input_gets_its_exact_problem_and_changes_nothing, 0,
                        N_BAD_CASES);
    tcase_add_test(bad_input, sql_metacharacters_in_text_fields_are_stored_verbatim);
    suite_add_tcase(s, bad_input);

    tcase_add_unchecked_fixture(framing, start_seeded_server_short_timeout, stop_servers);
    tcase_set_timeout(framing, ct_timeout_s(20));
    tcase_add_test(framing,
                   body_one_byte_over_the_cap_or_declared_over_it_is_413_and_stores_nothing);
    tcase_add_test(framing, content_length_larger_than_the_body_then_close_stores_nothing);
    tcase_add_test(framing, content_length_smaller_than_the_body_is_400_and_stores_nothing);
    tcase_add_loop_test(framing, broken_framing_is_refused_and_stores_nothing, 0,
                        (int)(sizeof framing_cases / sizeof framing_cases[0]));
    tcase_add_test(framing, header_bombs_get_431_or_a_close_and_store_nothing);
    tcase_add_test(framing, idempotency_key_missing_long_or_with_spaces_is_400_and_counts_nothing);
    suite_add_tcase(s, framing);

    tcase_add_checked_fixture(slow, NULL, stop_servers);
    tcase_set_timeout(slow, ct_timeout_s(30));
    tcase_add_test(slow,
                   a_hundred_slow_header_connections_do_not_delay_a_client_from_another_address);
    suite_add_tcase(s, slow);
    return s;
}

int main(void)
{
    return ct_main(hostile_suite());
}
