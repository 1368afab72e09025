/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP test harness: the server process, commands, libcurl and raw-socket requests,
 * and problem+json checks. Owns every temporary directory it makes. */
#include "harness.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SERVERS      16
#define START_TIMEOUT_S  10.0
#define STOP_TIMEOUT_S   10.0
#define REQUEST_TIMEOUT  10000L /* ms: every libcurl request is bounded */
#define RAW_BUFFER_LIMIT (1u << 20)

static char base_dir[256]; /* per-run directory, removed by ct_main */
static pid_t main_pid;     /* the runner process; test processes are its children */
static pid_t atexit_pid;   /* process that registered cleanup_at_exit */
static struct ct_server *servers[MAX_SERVERS];
static unsigned command_counter;

static const char *const sanitizer_markers[] = {"runtime error", "AddressSanitizer",
                                                "LeakSanitizer", "ThreadSanitizer", NULL};

/* Sanitizer builds run the server 2-3 times slower (ThreadSanitizer 5-10 times): time budgets
 * (never counts or pass criteria) grow by this factor. CARBONTREE_SLOW_TESTS=<factor> overrides. */
#if defined(__SANITIZE_THREAD__)
#define BUILD_SLOWNESS 6.0
#elif defined(__SANITIZE_ADDRESS__)
#define BUILD_SLOWNESS 3.0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define BUILD_SLOWNESS 6.0
#elif __has_feature(address_sanitizer)
#define BUILD_SLOWNESS 3.0
#endif
#endif
#ifndef BUILD_SLOWNESS
#define BUILD_SLOWNESS 1.0
#endif

double ct_slowness(void)
{
    const char *env = getenv("CARBONTREE_SLOW_TESTS");
    double factor = env && env[0] ? strtod(env, NULL) : 0.0;

    if (factor < 1.0)
        factor = BUILD_SLOWNESS;
    return factor;
}

int ct_timeout_s(int base)
{
    return (int)((double)base * ct_slowness());
}

void ct_sleep_s(double seconds)
{
    struct timespec ts;

    if (seconds <= 0)
        return;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    nanosleep(&ts, NULL);
}

double ct_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static const char *binary_path(void)
{
    const char *bin = getenv("CARBONTREE_BIN");

    ck_assert_msg(bin != NULL && bin[0] != '\0', "CARBONTREE_BIN is not set");
    return bin;
}

/* Whole file as a NUL-terminated string (empty when it cannot be read). */
static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    size_t len = 0, cap = 0, n;

    if (f != NULL) {
        do {
            if (cap - len < 4096) {
                char *grown = realloc(text, cap + 65536);
                if (grown == NULL)
                    break;
                text = grown;
                cap += 65536;
            }
            n = fread(text + len, 1, cap - len - 1, f);
            len += n;
        } while (n > 0);
        fclose(f);
    }
    if (text == NULL)
        text = calloc(1, 1);
    else
        text[len] = '\0';
    return text;
}

static void remove_tree(const char *path)
{
    DIR *dir = opendir(path);
    struct dirent *entry;
    char child[1024];
    struct stat st;

    if (dir == NULL) {
        unlink(path);
        return;
    }
    while ((entry = readdir(dir)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        snprintf(child, sizeof child, "%s/%s", path, entry->d_name);
        if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode)) {
            chmod(child, 0700);
            remove_tree(child);
        } else {
            unlink(child);
        }
    }
    closedir(dir);
    rmdir(path);
}

/* Case-insensitive strstr (strcasestr is a GNU extension). */
static const char *find_ci(const char *haystack, const char *needle)
{
    size_t len = strlen(needle);

    for (; *haystack; haystack++)
        if (strncasecmp(haystack, needle, len) == 0)
            return haystack;
    return NULL;
}

static const char *sanitizer_report(const char *text)
{
    for (const char *const *m = sanitizer_markers; *m; m++) {
        const char *hit = strstr(text, *m);
        if (hit)
            return hit;
    }
    return NULL;
}

/* ---- the server process ---- */

/* Kills and forgets every server of this process without checking anything: the
 * test already failed (or timed out) when this runs. */
static void cleanup_at_exit(void)
{
    if (getpid() != atexit_pid)
        return;
    for (size_t i = 0; i < MAX_SERVERS; i++) {
        struct ct_server *s = servers[i];
        if (s == NULL)
            continue;
        if (s->pid > 0) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, NULL, 0);
        }
        remove_tree(s->dir);
        free(s);
        servers[i] = NULL;
    }
}

struct ct_server *ct_server_new(void)
{
    struct ct_server *s = calloc(1, sizeof *s);
    size_t slot = MAX_SERVERS;

    ck_assert_ptr_nonnull(s);
    for (size_t i = 0; i < MAX_SERVERS && slot == MAX_SERVERS; i++)
        if (servers[i] == NULL)
            slot = i;
    ck_assert_msg(slot < MAX_SERVERS, "too many servers in one test");
    if (atexit_pid != getpid()) {
        atexit_pid = getpid();
        atexit(cleanup_at_exit);
    }
    snprintf(s->dir, sizeof s->dir, "%s/server-XXXXXX",
             base_dir[0] ? base_dir : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp"));
    ck_assert_msg(mkdtemp(s->dir) != NULL, "mkdtemp %s: %s", s->dir, strerror(errno));
    snprintf(s->db_path, sizeof s->db_path, "%s/carbontree.db", s->dir);
    snprintf(s->port_file, sizeof s->port_file, "%s/port", s->dir);
    snprintf(s->stderr_path, sizeof s->stderr_path, "%s/server.log", s->dir);
    servers[slot] = s;
    return s;
}

/* In the child: stdin from /dev/null, stdout and stderr appended to log_path, the
 * extra environment, and death with the test process. Never returns. */
static void exec_child(const char *const *argv, const char *const *env, const char *log_path,
                       pid_t parent)
{
    int null_fd = open("/dev/null", O_RDONLY);
    int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(126);
    if (null_fd < 0 || log_fd < 0)
        _exit(125);
    dup2(null_fd, STDIN_FILENO);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    close(null_fd);
    close(log_fd);
    /* Every server gets the test admin token (its database's first admin token);
     * a test's own env entries come after and may override it. */
    putenv((char *)(uintptr_t) "CARBONTREE_ADMIN_TOKEN=" CT_ADMIN_TOKEN);
    for (const char *const *e = env; e && *e; e++) {
        char *copy = strdup(*e);
        if (copy)
            putenv(copy);
    }
    /* execv's argv is char *const[] for historical reasons; it does not modify it. */
    execv(argv[0], (char *const *)(uintptr_t)argv);
    fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

static pid_t spawn(const char *const *argv, const char *const *env, const char *log_path)
{
    pid_t parent = getpid();
    pid_t pid;

    fflush(NULL);
    pid = fork();
    ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0)
        exec_child(argv, env, log_path, parent);
    return pid;
}

/* Exit status as documented for ct_server_wait, from a waitpid status. */
static int decode_status(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

/* Waits up to timeout_s for pid; returns its decoded status or -1 (still running). */
static int wait_pid(pid_t pid, double timeout_s)
{
    double deadline = ct_now() + timeout_s;
    int status = 0;

    for (;;) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid)
            return decode_status(status);
        if (got < 0 && errno != EINTR)
            return -1;
        if (ct_now() >= deadline)
            return -1;
        sleep_ms(5);
    }
}

static bool read_port(const char *path, unsigned *port)
{
    FILE *f = fopen(path, "r");
    unsigned value = 0;
    bool ok;

    if (f == NULL)
        return false;
    ok = fscanf(f, "%u", &value) == 1 && value > 0 && value < 65536;
    fclose(f);
    if (ok)
        *port = value;
    return ok;
}

bool ct_server_start(struct ct_server *s, char *why, size_t why_len)
{
    const char *argv[64];
    size_t n = 0;
    double deadline;

    ck_assert_msg(s->pid == 0, "server already running");
    argv[n++] = binary_path();
    argv[n++] = "serve";
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1";
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--port-file";
    argv[n++] = s->port_file;
    argv[n++] = "--db";
    argv[n++] = s->db_path;
    if (!s->no_auto_migrate)
        argv[n++] = "--auto-migrate";
    argv[n++] = "--log-level";
    argv[n++] = "warn";
    for (const char *const *a = s->args; a && *a && n < 63; a++)
        argv[n++] = *a;
    argv[n] = NULL;
    unlink(s->port_file);
    s->port = 0;
    s->pid = spawn(argv, s->env, s->stderr_path);

    deadline = ct_now() + START_TIMEOUT_S * ct_slowness();
    while (ct_now() < deadline) {
        int status;
        if (read_port(s->port_file, &s->port))
            return true;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            char *output = ct_server_output(s);
            snprintf(why, why_len, "server exited with status %d before listening: %s",
                     decode_status(status), output);
            free(output);
            s->pid = 0;
            return false;
        }
        sleep_ms(10);
    }
    ct_server_kill(s);
    snprintf(why, why_len, "server did not write its port file within %.0f s",
             START_TIMEOUT_S * ct_slowness());
    return false;
}

void ct_server_signal(struct ct_server *s, int sig)
{
    ck_assert_msg(s->pid > 0, "server is not running");
    kill(s->pid, sig);
}

int ct_server_wait(struct ct_server *s, double timeout_s)
{
    int status;

    if (s->pid <= 0)
        return -1;
    status = wait_pid(s->pid, timeout_s);
    if (status >= 0)
        s->pid = 0;
    return status;
}

/* An unclean stop shows the end of the server's log in the test's output, which
 * is all a CI run keeps of a server that died. */
static void print_log_tail(const struct ct_server *s, int status)
{
    enum { TAIL = 4096 };
    char *text = read_file(s->stderr_path);
    size_t len = text ? strlen(text) : 0;

    fprintf(stderr, "server stopped with status %d; the end of its log:\n%s\n", status,
            text ? text + (len > TAIL ? len - TAIL : 0) : "(no log)");
    free(text);
}

int ct_server_stop(struct ct_server *s)
{
    int status;

    if (s->pid <= 0)
        return -1;
    kill(s->pid, SIGTERM);
    status = ct_server_wait(s, STOP_TIMEOUT_S);
    if (status < 0)
        ct_server_kill(s);
    if (status != 0)
        print_log_tail(s, status);
    return status;
}

void ct_server_kill(struct ct_server *s)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

char *ct_server_output(const struct ct_server *s)
{
    return read_file(s->stderr_path);
}

void ct_cleanup_all(void)
{
    char report[1024] = "";
    int stuck = 0;

    for (size_t i = 0; i < MAX_SERVERS; i++) {
        struct ct_server *s = servers[i];
        char *output;
        const char *hit;
        if (s == NULL)
            continue;
        if (s->pid > 0 && ct_server_stop(s) < 0)
            stuck++;
        output = ct_server_output(s);
        hit = sanitizer_report(output);
        if (hit && report[0] == '\0')
            snprintf(report, sizeof report, "%.900s", hit);
        free(output);
        remove_tree(s->dir);
        free(s);
        servers[i] = NULL;
    }
    ck_assert_msg(report[0] == '\0', "sanitizer report in the server's output: %s", report);
    ck_assert_msg(stuck == 0, "%d server(s) did not stop within %.0f s of SIGTERM", stuck,
                  STOP_TIMEOUT_S);
}

/* ---- commands ---- */

void ct_run(const char *const *argv, const char *const *env, double timeout_s,
            struct ct_command *out)
{
    const char *full[32];
    char log_path[600];
    size_t n = 0;
    double start = ct_now();
    pid_t pid;
    const char *hit;

    full[n++] = binary_path();
    for (const char *const *a = argv; a && *a && n < 31; a++)
        full[n++] = *a;
    full[n] = NULL;
    snprintf(log_path, sizeof log_path, "%s/command-%ld-%u.log", base_dir[0] ? base_dir : "/tmp",
             (long)getpid(), command_counter++);
    unlink(log_path);
    pid = spawn(full, env, log_path);
    out->status = wait_pid(pid, timeout_s);
    if (out->status < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    out->elapsed_s = ct_now() - start;
    out->output = read_file(log_path);
    unlink(log_path);
    hit = sanitizer_report(out->output);
    ck_assert_msg(hit == NULL, "sanitizer report in the output of %s: %.900s", full[1], hit);
}

/* ---- contract log (read by tests/contract/validate.mjs) ----
 * When CARBONTREE_CONTRACT_LOG names a file, every response received by
 * ct_request and ct_raw is appended to it as one JSON line: {"via", "method",
 * "path" (without the query), "query" (without the '?', or null), "status" (0 when
 * no response arrived), "content_type" (or null), "headers" (lower-case names),
 * "body" (text), "body_truncated", "body_lossy", "error"}. Each line is one write(2)
 * on an O_APPEND descriptor, so lines from parallel test processes and threads
 * never interleave. */

#define CONTRACT_BODY_MAX (4u << 20)

static const char *contract_log_path(void)
{
    const char *path = getenv("CARBONTREE_CONTRACT_LOG");

    return path && path[0] ? path : NULL;
}

/* A JSON string of body: as is when it is UTF-8, else with every byte >= 0x80
 * replaced by '?' (and *lossy set). */
static json_t *contract_text(const char *body, size_t len, bool *lossy)
{
    json_t *text = json_stringn(body ? body : "", body ? len : 0);
    char *copy;

    *lossy = false;
    if (text != NULL || body == NULL)
        return text;
    copy = malloc(len + 1);
    if (copy == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++)
        copy[i] = (unsigned char)body[i] >= 0x80 ? '?' : body[i];
    copy[len] = '\0';
    text = json_stringn(copy, len);
    free(copy);
    *lossy = true;
    return text;
}

static void contract_set_header(json_t *headers, const char *name, size_t name_len,
                                const char *value)
{
    char key[128];
    size_t i;

    for (i = 0; i < name_len && i + 1 < sizeof key; i++)
        key[i] = (char)tolower((unsigned char)name[i]);
    key[i] = '\0';
    if (key[0] && json_object_get(headers, key) == NULL)
        json_object_set_new(headers, key, json_string(value));
}

/* The response headers of the last request of a libcurl handle. New reference. */
static json_t *contract_curl_headers(CURL *curl)
{
    json_t *headers = json_object();
    struct curl_header *h = NULL;

    if (headers == NULL || contract_log_path() == NULL)
        return headers;
    while ((h = curl_easy_nextheader(curl, CURLH_HEADER, -1, h)) != NULL)
        contract_set_header(headers, h->name, strlen(h->name), h->value ? h->value : "");
    return headers;
}

/* The headers of a raw response head ("HTTP/1.1 200 OK\r\nName: value\r\n..."). */
static json_t *contract_raw_headers(const char *head)
{
    json_t *headers = json_object();
    const char *line = head ? strchr(head, '\n') : NULL;

    while (headers && line && *line) {
        const char *end, *colon, *value;
        char text[1024];
        size_t value_len;
        line++;
        end = strchr(line, '\n');
        if (end == NULL)
            end = line + strlen(line);
        colon = memchr(line, ':', (size_t)(end - line));
        if (colon != NULL) {
            value = colon + 1;
            while (value < end && (*value == ' ' || *value == '\t'))
                value++;
            value_len = (size_t)(end - value);
            while (value_len > 0 && (value[value_len - 1] == '\r' || value[value_len - 1] == ' '))
                value_len--;
            snprintf(text, sizeof text, "%.*s", (int)value_len, value);
            contract_set_header(headers, line, (size_t)(colon - line), text);
        }
        line = *end ? end : NULL;
    }
    return headers;
}

/* Appends one record; steals headers. target is the request target (path and
 * query), content_type "" or NULL when there was none. */
static void contract_log(const char *via, const char *method, const char *target, long status,
                         const char *content_type, json_t *headers, const char *body,
                         size_t body_len, const char *error)
{
    const char *path_name = contract_log_path();
    const char *query = target ? strchr(target, '?') : NULL;
    size_t path_len = target ? (query ? (size_t)(query - target) : strlen(target)) : 0;
    bool lossy = false;
    json_t *record;
    char *line;
    int fd;

    if (path_name == NULL) {
        json_decref(headers);
        return;
    }
    record = json_object();
    if (record == NULL) {
        json_decref(headers);
        return;
    }
    json_object_set_new(record, "via", json_string(via));
    json_object_set_new(record, "method",
                        contract_text(method, method ? strlen(method) : 0, &lossy));
    json_object_set_new(record, "path", contract_text(target, path_len, &lossy));
    json_object_set_new(record, "query",
                        query ? contract_text(query + 1, strlen(query + 1), &lossy) : json_null());
    json_object_set_new(record, "status", json_integer(status));
    json_object_set_new(record, "content_type",
                        content_type && content_type[0] ? json_string(content_type) : json_null());
    json_object_set_new(record, "headers", headers ? headers : json_object());
    json_object_set_new(record, "body_truncated", json_boolean(body_len > CONTRACT_BODY_MAX));
    if (body_len > CONTRACT_BODY_MAX)
        body_len = CONTRACT_BODY_MAX;
    json_object_set_new(record, "body", contract_text(body, body_len, &lossy));
    json_object_set_new(record, "body_lossy", json_boolean(lossy));
    json_object_set_new(record, "error", error && error[0] ? json_string(error) : json_null());
    line = json_dumps(record, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(record);
    if (line == NULL)
        return;
    fd = open(path_name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
        size_t len = strlen(line);
        line[len] = '\n'; /* replaces the NUL: one write of the whole line */
        ck_assert_msg(write(fd, line, len + 1) == (ssize_t)(len + 1),
                      "cannot append to CARBONTREE_CONTRACT_LOG %s: %s", path_name,
                      strerror(errno));
        close(fd);
    }
    free(line);
}

/* Logs a ct_raw exchange: method and target from the request line. */
static void contract_log_raw(const void *request, size_t request_len,
                             const struct ct_raw_response *out)
{
    const char *text = request;
    const char *line_end = memchr(text, '\n', request_len);
    size_t line_len = line_end ? (size_t)(line_end - text) : request_len;
    char method[64] = "", target[8192] = "";
    const char *sp1, *sp2;

    if (contract_log_path() == NULL)
        return;
    sp1 = memchr(text, ' ', line_len);
    if (sp1 != NULL) {
        snprintf(method, sizeof method, "%.*s", (int)(sp1 - text), text);
        sp2 = memchr(sp1 + 1, ' ', line_len - (size_t)(sp1 + 1 - text));
        snprintf(target, sizeof target, "%.*s",
                 (int)(sp2 ? (size_t)(sp2 - sp1 - 1) : line_len - (size_t)(sp1 + 1 - text)),
                 sp1 + 1);
    }
    contract_log("raw", method, target, out->status, out->content_type,
                 contract_raw_headers(out->head), out->body, out->body_len,
                 out->status      ? NULL
                 : out->timed_out ? "timed out"
                                  : "closed without a response");
}

/* ---- requests over libcurl ---- */

struct buffer {
    char *data;
    size_t len;
};

static size_t on_body(char *data, size_t size, size_t n, void *cls)
{
    struct buffer *b = cls;
    size_t len = size * n;
    char *grown = realloc(b->data, b->len + len + 1);

    if (grown == NULL)
        return 0;
    b->data = grown;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return len;
}

/* Copies the value of "Name: value" into dst when the line names name. */
static void take_header(const char *line, size_t len, const char *name, char *dst, size_t dst_len)
{
    size_t name_len = strlen(name);
    size_t start, end;

    if (len <= name_len || strncasecmp(line, name, name_len) != 0 || line[name_len] != ':')
        return;
    start = name_len + 1;
    while (start < len && (line[start] == ' ' || line[start] == '\t'))
        start++;
    end = len;
    while (end > start && (line[end - 1] == '\r' || line[end - 1] == '\n' || line[end - 1] == ' '))
        end--;
    snprintf(dst, dst_len, "%.*s", (int)(end - start), line + start);
}

static size_t on_header(char *line, size_t size, size_t n, void *cls)
{
    struct ct_response *r = cls;
    size_t len = size * n;

    /* A new status line (after 100 Continue) starts a new header block. */
    if (len > 5 && strncmp(line, "HTTP/", 5) == 0) {
        r->content_type[0] = r->location[0] = r->allow[0] = r->etag[0] = '\0';
        r->link[0] = r->retry_after[0] = r->request_id[0] = '\0';
    }
    take_header(line, len, "Content-Type", r->content_type, sizeof r->content_type);
    take_header(line, len, "Location", r->location, sizeof r->location);
    take_header(line, len, "Allow", r->allow, sizeof r->allow);
    take_header(line, len, "ETag", r->etag, sizeof r->etag);
    take_header(line, len, "Link", r->link, sizeof r->link);
    take_header(line, len, "Retry-After", r->retry_after, sizeof r->retry_after);
    take_header(line, len, "X-Request-Id", r->request_id, sizeof r->request_id);
    return len;
}

long ct_request(const struct ct_server *s, const char *method, const char *path,
                const char *const *headers, const void *body, size_t body_len,
                struct ct_response *out)
{
    CURL *curl = curl_easy_init();
    struct curl_slist *list = NULL;
    struct buffer b = {NULL, 0};
    char url[2048];
    double start = ct_now();
    CURLcode rc;
    json_t *contract_headers;
    bool has_authorization = false;

    memset(out, 0, sizeof *out);
    ck_assert_ptr_nonnull(curl);
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", s->port, path);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, REQUEST_TIMEOUT);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, out);
    /* Keep the path as given (no squashing of "/../" or "//"). */
    curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") != 0 || body != NULL)
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    }
    for (const char *const *h = headers; h && *h; h++) {
        list = curl_slist_append(list, *h);
        if (strncasecmp(*h, "Authorization:", 14) == 0)
            has_authorization = true;
    }
    /* Requests act as the admin unless the test says otherwise ("Authorization:"
     * with no value sends none). */
    if (!has_authorization)
        list = curl_slist_append(list, "Authorization: Bearer " CT_ADMIN_TOKEN);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);

    rc = curl_easy_perform(curl);
    out->elapsed_s = ct_now() - start;
    if (rc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
    else
        snprintf(out->error, sizeof out->error, "%s %s: %s", method, path, curl_easy_strerror(rc));
    curl_slist_free_all(list);
    contract_headers = contract_curl_headers(curl); /* contract log */
    curl_easy_cleanup(curl);
    out->body = b.data ? b.data : calloc(1, 1);
    out->body_len = b.len;
    contract_log("curl", method, path, out->status, out->content_type, contract_headers, out->body,
                 out->body_len, out->error);
    if (out->body_len > 0)
        out->json = json_loadb(out->body, out->body_len, 0, NULL);
    return out->status;
}

long ct_get(const struct ct_server *s, const char *path, struct ct_response *out)
{
    return ct_request(s, "GET", path, NULL, NULL, 0, out);
}

long ct_send_json(const struct ct_server *s, const char *method, const char *path,
                  const char *json_text, struct ct_response *out)
{
    static const char *const headers[] = {"Content-Type: application/json", NULL};

    return ct_request(s, method, path, headers, json_text, strlen(json_text), out);
}

void ct_response_cleanup(struct ct_response *r)
{
    free(r->body);
    json_decref(r->json);
    r->body = NULL;
    r->json = NULL;
}

/* ---- raw requests ---- */

static int connect_loopback(unsigned port)
{
    struct sockaddr_in addr;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ck_assert_msg(fd >= 0, "socket: %s", strerror(errno));
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_msg(connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0, "connect: %s",
                  strerror(errno));
    return fd;
}

/* Where the body starts (after the blank line), or NULL when the head is incomplete. */
static const char *head_end(const char *data, size_t len)
{
    for (size_t i = 3; i < len; i++)
        if (data[i - 3] == '\r' && data[i - 2] == '\n' && data[i - 1] == '\r' && data[i] == '\n')
            return data + i + 1;
    return NULL;
}

const char *ct_raw_header(const struct ct_raw_response *r, const char *name, char *buf,
                          size_t buf_len)
{
    const char *line = r->head ? strchr(r->head, '\n') : NULL;

    buf[0] = '\0';
    while (line && *line) {
        const char *next;
        line++;
        next = strchr(line, '\n');
        take_header(line, next ? (size_t)(next - line) : strlen(line), name, buf, buf_len);
        if (buf[0])
            return buf;
        line = next;
    }
    return NULL;
}

/* Reads until one whole response is in, the peer closes, or the deadline passes. */
static void raw_read(int fd, double deadline, struct buffer *b, struct ct_raw_response *out)
{
    char chunk[16384];

    for (;;) {
        const char *body = head_end(b->data ? b->data : "", b->len);
        struct pollfd pfd = {fd, POLLIN, 0};
        double left = deadline - ct_now();
        ssize_t got;

        if (body) {
            const char *cl = find_ci(b->data, "\r\nContent-Length:");
            size_t head_len = (size_t)(body - b->data);
            if (cl && cl < body && b->len - head_len >= strtoul(cl + 17, NULL, 10))
                return;
        }
        if (left <= 0) {
            out->timed_out = true;
            return;
        }
        if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
            continue;
        got = recv(fd, chunk, sizeof chunk, 0);
        if (got <= 0) {
            out->closed = true;
            return;
        }
        if (b->len + (size_t)got > RAW_BUFFER_LIMIT)
            return;
        on_body(chunk, 1, (size_t)got, b);
    }
}

void ct_raw(const struct ct_server *s, const void *request, size_t request_len, double timeout_s,
            struct ct_raw_response *out)
{
    double start = ct_now();
    struct buffer b = {NULL, 0};
    const char *p = request;
    size_t left = request_len;
    int fd = connect_loopback(s->port);
    const char *body;
    char type[128];

    memset(out, 0, sizeof *out);
    /* The server may answer and close before it has read everything (413, 431):
     * stop writing then and read what it said. */
    while (left > 0) {
        ssize_t sent = send(fd, p, left, MSG_NOSIGNAL);
        if (sent <= 0)
            break;
        p += sent;
        left -= (size_t)sent;
    }
    raw_read(fd, start + timeout_s, &b, out);
    close(fd);
    out->elapsed_s = ct_now() - start;
    if (b.data == NULL) {
        contract_log_raw(request, request_len, out); /* contract log */
        return;
    }
    body = head_end(b.data, b.len);
    if (body == NULL) {
        out->head = b.data;
    } else {
        size_t head_len = (size_t)(body - b.data);
        out->head = strndup(b.data, head_len);
        out->body_len = b.len - head_len;
        out->body = malloc(out->body_len + 1);
        ck_assert_ptr_nonnull(out->body);
        memcpy(out->body, body, out->body_len);
        out->body[out->body_len] = '\0';
        free(b.data);
        if (out->body_len > 0)
            out->json = json_loadb(out->body, out->body_len, 0, NULL);
    }
    if (out->head && strncmp(out->head, "HTTP/1.", 7) == 0 && strlen(out->head) > 12)
        out->status = atoi(out->head + 9);
    if (ct_raw_header(out, "Content-Type", type, sizeof type))
        snprintf(out->content_type, sizeof out->content_type, "%s", type);
    contract_log_raw(request, request_len, out); /* contract log */
}

void ct_raw_cleanup(struct ct_raw_response *r)
{
    free(r->head);
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

/* ---- problem+json ---- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t len = strlen(s), suffix_len = strlen(suffix);

    return len >= suffix_len && strcmp(s + len - suffix_len, suffix) == 0;
}

static bool is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

bool ct_leaks_internals(const char *body)
{
    if (body == NULL)
        return false;
    if (find_ci(body, "sqlite") || strstr(body, "SELECT") || strstr(body, "/tmp"))
        return true;
    /* A C source or header name: word characters, ".c" or ".h", then no word character. */
    for (const char *p = body + 1; *p; p++) {
        if (p[0] == '.' && (p[1] == 'c' || p[1] == 'h') && is_name_char(p[-1]) &&
            !is_name_char(p[2]))
            return true;
    }
    return false;
}

bool ct_problem_ok(long http_status, const char *content_type, const json_t *json, long status,
                   const char *slug, const char *pointer, char *why, size_t why_len)
{
    const json_t *errors;
    const char *type, *title, *detail;
    char suffix[128];
    char *text;
    bool leaks, found = false;

    if (http_status != status) {
        snprintf(why, why_len, "HTTP status %ld, expected %ld", http_status, status);
        return false;
    }
    if (strncasecmp(content_type, "application/problem+json", 24) != 0) {
        snprintf(why, why_len, "Content-Type '%s', expected application/problem+json",
                 content_type);
        return false;
    }
    if (!json_is_object(json)) {
        snprintf(why, why_len, "the body is not a JSON object");
        return false;
    }
    if (json_integer_value(json_object_get(json, "status")) != status ||
        !json_is_integer(json_object_get(json, "status"))) {
        snprintf(why, why_len, "member 'status' is not %ld", status);
        return false;
    }
    type = json_string_value(json_object_get(json, "type"));
    snprintf(suffix, sizeof suffix, "/%s", slug);
    if (type == NULL || !ends_with(type, suffix)) {
        snprintf(why, why_len, "type '%s' does not end with '%s'", type ? type : "(none)", suffix);
        return false;
    }
    title = json_string_value(json_object_get(json, "title"));
    detail = json_string_value(json_object_get(json, "detail"));
    if (title == NULL || title[0] == '\0' || detail == NULL || detail[0] == '\0') {
        snprintf(why, why_len, "'title' and 'detail' must be non-empty strings");
        return false;
    }
    errors = json_object_get(json, "errors");
    if (!json_is_array(errors)) {
        snprintf(why, why_len, "'errors' is not an array");
        return false;
    }
    for (size_t i = 0; pointer && i < json_array_size(errors); i++) {
        const char *p = json_string_value(json_object_get(json_array_get(errors, i), "pointer"));
        if (p && strcmp(p, pointer) == 0)
            found = true;
    }
    if (pointer && !found) {
        snprintf(why, why_len, "no entry in 'errors' has pointer '%s'", pointer);
        return false;
    }
    text = json_dumps(json, JSON_COMPACT);
    leaks = ct_leaks_internals(text);
    free(text);
    if (leaks) {
        snprintf(why, why_len, "the problem shows internals");
        return false;
    }
    return true;
}

/* ---- scenarios ---- */

char *ct_json(const char *single_quoted)
{
    char *text = strdup(single_quoted);

    ck_assert_ptr_nonnull(text);
    for (char *p = text; *p; p++)
        if (*p == '\'')
            *p = '"';
    return text;
}

long ct_send(const struct ct_server *s, const char *method, const char *path,
             const char *single_quoted, struct ct_response *out)
{
    char *text = ct_json(single_quoted);
    long status = ct_send_json(s, method, path, text, out);

    free(text);
    return status;
}

void ct_run_steps(const struct ct_server *s, const struct ct_step *steps, size_t n_steps)
{
    for (size_t i = 0; i < n_steps; i++) {
        const struct ct_step *step = &steps[i];
        char if_match[128];
        const char *headers[] = {"Content-Type: application/json", NULL, NULL};
        char *body = step->body ? ct_json(step->body) : NULL;
        struct ct_response r;
        char why[512];

        if (step->if_match) {
            snprintf(if_match, sizeof if_match, "If-Match: %s", step->if_match);
            headers[1] = if_match;
        }
        ct_request(s, step->method, step->path, headers, body, body ? strlen(body) : 0, &r);
        free(body);
        ck_assert_msg(r.status == step->status, "step '%s': %s %s answered %ld (%s), expected %ld",
                      step->name, step->method, step->path, r.status, r.status ? r.body : r.error,
                      step->status);
        if (step->status >= 400)
            ck_assert_msg(ct_problem_ok(r.status, r.content_type, r.json, step->status, step->slug,
                                        step->pointer, why, sizeof why),
                          "step '%s': %s; body: %s", step->name, why, r.body);
        ct_response_cleanup(&r);
    }
}

/* ---- runner ---- */

int ct_main(Suite *suite)
{
    const char *tmp = getenv("TMPDIR");
    SRunner *runner;
    int failed;

    main_pid = getpid();
    if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK) {
        fprintf(stderr, "curl_global_init failed\n");
        return EXIT_FAILURE;
    }
    snprintf(base_dir, sizeof base_dir, "%s/carbontree-http-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(base_dir) == NULL) {
        fprintf(stderr, "mkdtemp %s: %s\n", base_dir, strerror(errno));
        return EXIT_FAILURE;
    }
    runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    /* Servers of timed-out tests were killed with their process group; their
     * directories are still here. */
    if (getpid() == main_pid)
        remove_tree(base_dir);
    curl_global_cleanup();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

const json_t *ct_json_at(const json_t *root, const char *path)
{
    char buf[256], *save = NULL;
    const json_t *v = root;

    snprintf(buf, sizeof buf, "%s", path);
    for (char *part = strtok_r(buf, "/", &save); v && part; part = strtok_r(NULL, "/", &save)) {
        char *end = NULL;
        unsigned long index = strtoul(part, &end, 10);
        v = json_is_array(v) && *end == '\0' ? json_array_get(v, index) : json_object_get(v, part);
    }
    return v;
}

double ct_number_at(const json_t *root, const char *path)
{
    const json_t *v = ct_json_at(root, path);

    ck_assert_msg(json_is_number(v), "%s is not a number", path);
    return json_number_value(v);
}

const char *ct_string_at(const json_t *root, const char *path)
{
    const json_t *v = ct_json_at(root, path);

    ck_assert_msg(json_is_string(v), "%s is not a string", path);
    return json_string_value(v);
}

void ct_wait_folded(const struct ct_server *s)
{
    static const char gauge[] = "\ncarbontree_inference_pending_deltas ";
    double deadline = ct_now() + 10 * ct_slowness();

    for (;;) {
        struct ct_response r;
        const char *sample;
        bool is_folded;
        ct_get(s, "/metrics", &r);
        sample = r.body ? strstr(r.body, gauge) : NULL;
        is_folded = sample != NULL && strncmp(sample + strlen(gauge), "0\n", 2) == 0;
        ct_response_cleanup(&r);
        if (is_folded)
            return;
        ck_assert_msg(ct_now() < deadline, "deltas still pending after 10 s");
        sleep_ms(10);
    }
}
