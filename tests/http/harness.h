/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP test harness: runs the real carbontree binary on a loopback port with a
 * temporary database, and talks to it with libcurl or a raw socket. Every server
 * lives in its own temporary directory under one per-run directory; servers are
 * stopped and directories removed on teardown, on exit (a failed assertion exits
 * the test process) and, after a timeout, by the runner. */
#ifndef TESTS_HTTP_HARNESS_H
#define TESTS_HTTP_HARNESS_H

#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Every server the harness starts has this admin token (CARBONTREE_ADMIN_TOKEN),
 * and ct_request sends it unless the request names its own Authorization header. */
#define CT_ADMIN_TOKEN "ct-test-admin-token-0123456789abcdef"

/* ---- the server process ---- */

struct ct_server {
    pid_t pid; /* 0 when not running */
    unsigned port;
    char dir[512];           /* temporary directory owned by this server */
    char db_path[600];       /* <dir>/carbontree.db unless overridden */
    char port_file[600];     /* <dir>/port */
    char stderr_path[600];   /* <dir>/server.log: stdout and stderr of every run */
    const char *const *args; /* extra serve flags for every (re)start, NULL-terminated */
    const char *const *env;  /* extra NAME=value entries for every (re)start */
    bool no_auto_migrate;    /* leave out --auto-migrate */
};

/* Creates a server description with a fresh temporary directory (not started).
 * The harness tracks it: ct_cleanup_all() stops and frees it. Fails the test when
 * the directory cannot be made. */
struct ct_server *ct_server_new(void);

/* Starts the binary: serve --listen 127.0.0.1 --port 0 --port-file <dir>/port
 * --db <db_path> [--auto-migrate] --log-level warn, then s->args, with s->env added
 * to the environment. Waits up to 10 s for the port file. Returns false (with the
 * server's output in why) when it exited or did not listen in time. */
bool ct_server_start(struct ct_server *s, char *why, size_t why_len);

/* Sends sig to the running server. */
void ct_server_signal(struct ct_server *s, int sig);

/* Waits up to timeout_s for the server to exit. Returns its exit code, 128 + the
 * signal number when a signal ended it, or -1 when it is still running. */
int ct_server_wait(struct ct_server *s, double timeout_s);

/* SIGTERM, then wait up to 10 s (SIGKILL after that). Returns the exit status as
 * ct_server_wait does; -1 when it had to be killed. */
int ct_server_stop(struct ct_server *s);

/* SIGKILL and reap. */
void ct_server_kill(struct ct_server *s);

/* Everything the server wrote to stdout and stderr so far. Caller frees. */
char *ct_server_output(const struct ct_server *s);

/* Stops every server still running, fails the test when any server's output holds a
 * sanitizer report, and removes their directories. For checked teardown. */
void ct_cleanup_all(void);

/* ---- commands ---- */

struct ct_command {
    int status;   /* exit code, 128 + signal, or -1 on timeout */
    char *output; /* stdout and stderr, interleaved; caller frees */
    double elapsed_s;
};

/* Runs CARBONTREE_BIN with argv (NULL-terminated, without the program name) and
 * extra env entries, bounded by timeout_s (SIGKILL after it). Fails the test when
 * the output holds a sanitizer report. */
void ct_run(const char *const *argv, const char *const *env, double timeout_s,
            struct ct_command *out);

/* ---- requests ---- */

struct ct_response {
    long status; /* 0 when the transfer failed */
    char error[256];
    char content_type[128];
    char location[512];
    char allow[256];
    char etag[64];
    char link[1024];
    char retry_after[32];
    char request_id[128];
    char *body; /* NUL-terminated; body_len excludes the NUL */
    size_t body_len;
    json_t *json; /* parsed body, or NULL when it is not JSON */
    double elapsed_s;
};

/* One request through libcurl. headers: NULL-terminated "Name: value" lines (may
 * be NULL). body: raw bytes, body_len of them (NULL for none). Returns the status,
 * 0 when the transfer failed. Thread-safe. */
long ct_request(const struct ct_server *s, const char *method, const char *path,
                const char *const *headers, const void *body, size_t body_len,
                struct ct_response *out);

/* GET path. */
long ct_get(const struct ct_server *s, const char *path, struct ct_response *out);

/* method path with a JSON text body and Content-Type: application/json. */
long ct_send_json(const struct ct_server *s, const char *method, const char *path,
                  const char *json_text, struct ct_response *out);

void ct_response_cleanup(struct ct_response *r);

/* Raw bytes over a fresh TCP connection: writes request (without half-closing),
 * then reads one response (status line, headers, Content-Length body) or until the
 * server closes or timeout_s passes. */
struct ct_raw_response {
    int status; /* 0 when no status line arrived */
    char content_type[128];
    bool timed_out;
    bool closed; /* the server closed the connection */
    char *head;  /* status line and headers */
    char *body;
    size_t body_len;
    json_t *json;
    double elapsed_s;
};
void ct_raw(const struct ct_server *s, const void *request, size_t request_len, double timeout_s,
            struct ct_raw_response *out);
void ct_raw_cleanup(struct ct_raw_response *r);

/* Value of header name in a raw response head (copied into buf), or NULL. */
const char *ct_raw_header(const struct ct_raw_response *r, const char *name, char *buf,
                          size_t buf_len);

/* ---- JSON answers ---- */

/* The member of root at a slash-separated path ("inputs/devices/0/hardware/name":
 * a number indexes an array), or NULL. Borrowed. */
const json_t *ct_json_at(const json_t *root, const char *path);

/* The number, or the string, at path; fails the test when it is not one. */
double ct_number_at(const json_t *root, const char *path);
const char *ct_string_at(const json_t *root, const char *path);

/* ---- problem+json checks ---- */

/* Checks an RFC 9457 answer: Content-Type application/problem+json, status member
 * equal to the HTTP status, type ending in "/<slug>", non-empty title and detail,
 * errors an array (holding an entry with this pointer when pointer is not NULL),
 * and no internals (see ct_leaks_internals). On failure writes why. */
bool ct_problem_ok(long http_status, const char *content_type, const json_t *json, long status,
                   const char *slug, const char *pointer, char *why, size_t why_len);

/* Whether an error body shows internals: "sqlite", "SELECT", "/tmp", a C source
 * file name. */
bool ct_leaks_internals(const char *body);

/* Asserts ct_problem_ok on a ct_response or a ct_raw_response. */
#define CT_ASSERT_PROBLEM(resp, want_status, want_slug, want_pointer)                              \
    do {                                                                                           \
        char ct_why_[512];                                                                         \
        ck_assert_msg(ct_problem_ok((long)(resp)->status, (resp)->content_type, (resp)->json,      \
                                    (want_status), (want_slug), (want_pointer), ct_why_,           \
                                    sizeof ct_why_),                                               \
                      "%s; body: %s", ct_why_, (resp)->body ? (resp)->body : "(none)");            \
    } while (0)

/* ---- scenarios ---- */

/* One named request and the answer it must get. Bodies are JSON written with '
 * for " (no test id or value contains a quote), so tables stay readable. */
struct ct_step {
    const char *name; /* the behaviour, e.g. "a merge with one parent is refused" */
    const char *method;
    const char *path;
    const char *body;     /* NULL: no body */
    const char *if_match; /* If-Match value, or NULL */
    long status;
    const char *slug;    /* for status >= 400: the problem type slug */
    const char *pointer; /* for status >= 400: an errors[].pointer that must be present */
};

/* Runs the steps in order, failing the test at the first step that answers
 * otherwise (the message names the step). */
void ct_run_steps(const struct ct_server *s, const struct ct_step *steps, size_t n_steps);

/* json with every ' turned into ". Caller frees. */
char *ct_json(const char *single_quoted);

/* ct_send_json with a single-quoted body (see ct_json). */
long ct_send(const struct ct_server *s, const char *method, const char *path,
             const char *single_quoted, struct ct_response *out);

/* Waits (up to 10 s, scaled by ct_slowness) until the server has folded every
 * pending inference delta (GET /metrics), so that a check of the database file
 * itself sees no fold still to come. Fails the test when it does not. */
void ct_wait_folded(const struct ct_server *s);

/* Monotonic seconds. */
double ct_now(void);

/* How much slower this build runs the server: 3 under AddressSanitizer, else 1;
 * CARBONTREE_SLOW_TESTS=<factor> (at least 1) overrides. Time budgets grow by it,
 * never counts or pass criteria. */
double ct_slowness(void);

/* base seconds scaled by ct_slowness(). */
int ct_timeout_s(int base);

/* Sleeps for seconds (nothing when <= 0). */
void ct_sleep_s(double seconds);

/* Runs the suite with CK_NORMAL output around global setup (libcurl, the per-run
 * temporary directory) and cleanup. Returns the process exit status. */
int ct_main(Suite *suite);

#endif
