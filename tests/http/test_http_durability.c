/* SPDX-License-Identifier: Apache-2.0 */
/* Durability under faults: SIGKILL at
 * random moments while clients count inferences with Idempotency-Keys and retry
 * the uncertain ones; 10,000 concurrent increments of one hot row; a database
 * capped by --max-page-count filled until writes fail with 507; SIGTERM during
 * counting. Every figure the server stores is compared with the client's ledger:
 * the sum of the deltas whose request was acknowledged. */
#include "harness.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KILL_MODELS      10
#define KILL_WORKERS     4
#define KILLS_REQUIRED   20
#define KILL_PHASE_S     40.0 /* the kill loop stops after this long (or KILLS_TARGET kills) */
#define KILLS_TARGET     24
#define HOT_CLIENTS      8
#define HOT_PER_CLIENT   1250
#define FULL_MAX_WRITES  2000 /* registrations at most while filling the database */
#define FULL_MORE_WRITES 20   /* writes after the first failure */
#define TERM_WORKERS     4
#define TERM_MODELS      3
#define TERM_MAX_KEYS    4000 /* per worker */

static struct ct_server *srv;

static void new_server(void)
{
    srv = ct_server_new();
}

static void stop_servers(void)
{
    ct_cleanup_all();
    srv = NULL;
}

static void start(struct ct_server *s)
{
    char why[4096];

    ck_assert_msg(ct_server_start(s, why, sizeof why), "%s", why);
}

/* ---- the sqlite3 command-line shell, for checks below the API ---- */

/* Runs sqlite3 -batch on db with one SQL text; returns its exit status and its
 * output (stdout and stderr) in out, trailing newlines removed. */
static int sqlite_cli(const char *db, const char *sql, char *out, size_t out_len)
{
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
        execlp("sqlite3", "sqlite3", "-batch", db, sql, (char *)NULL);
        _exit(127);
    }
    close(pipe_fd[1]);
    for (;;) {
        ssize_t got = read(pipe_fd[0], out + n, out_len - 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        n += (size_t)got;
        if (n == out_len - 1) {
            char sink[256];
            while (read(pipe_fd[0], sink, sizeof sink) > 0)
                ;
            break;
        }
    }
    close(pipe_fd[0]);
    out[n] = '\0';
    while (n > 0 && out[n - 1] == '\n')
        out[--n] = '\0';
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static long long sqlite_int(const char *db, const char *sql)
{
    char out[256];
    char *end = NULL;
    long long value;

    ck_assert_msg(sqlite_cli(db, sql, out, sizeof out) == 0, "sqlite3 '%s': %s", sql, out);
    value = strtoll(out, &end, 10);
    ck_assert_msg(end != out && *end == '\0', "sqlite3 '%s' printed '%s'", sql, out);
    return value;
}

/* The database file passes PRAGMA integrity_check and foreign_key_check. The
 * server must be stopped. */
static void assert_database_sound(const char *db)
{
    char out[4096];

    ck_assert_msg(sqlite_cli(db, "PRAGMA integrity_check;", out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strcmp(out, "ok") == 0, "integrity_check: %s", out);
    ck_assert_msg(sqlite_cli(db, "PRAGMA foreign_key_check;", out, sizeof out) == 0, "%s", out);
    ck_assert_msg(out[0] == '\0', "foreign_key_check: %s", out);
}

/* ---- a keep-alive client for load: one libcurl handle per thread ---- */

struct client {
    CURL *curl;
    char body[8192];
    size_t body_len;
    char error[CURL_ERROR_SIZE];
};

static size_t client_on_body(char *data, size_t size, size_t n, void *cls)
{
    struct client *c = cls;
    size_t len = size * n;
    size_t room = sizeof c->body - 1 - c->body_len;
    size_t take = len < room ? len : room;

    memcpy(c->body + c->body_len, data, take);
    c->body_len += take;
    c->body[c->body_len] = '\0';
    return len;
}

static void client_init(struct client *c)
{
    memset(c, 0, sizeof *c);
    c->curl = curl_easy_init();
    ck_assert_ptr_nonnull(c->curl);
}

static void client_cleanup(struct client *c)
{
    curl_easy_cleanup(c->curl);
    c->curl = NULL;
}

/* POST (or method) a JSON body to port/path with the admin token and, when key is
 * not NULL, an Idempotency-Key. Returns the status, 0 when no answer arrived
 * (refused, reset, timed out). The answer body is in c->body. */
static long client_send(struct client *c, unsigned port, const char *method, const char *path,
                        const char *key, const char *body, long timeout_ms)
{
    struct curl_slist *headers = NULL;
    char url[512], key_header[320];
    long status = 0;
    CURLcode rc;

    c->body_len = 0;
    c->body[0] = '\0';
    c->error[0] = '\0';
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Authorization: Bearer " CT_ADMIN_TOKEN);
    if (key) {
        snprintf(key_header, sizeof key_header, "Idempotency-Key: %s", key);
        headers = curl_slist_append(headers, key_header);
    }
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, client_on_body);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->error);
    rc = curl_easy_perform(c->curl);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    else if (c->error[0] == '\0')
        snprintf(c->error, sizeof c->error, "%s", curl_easy_strerror(rc));
    curl_slist_free_all(headers);
    return status;
}

/* Whether an answer to a keyed write is final: 2xx (applied once) or a 4xx other
 * than 409 (the same key still in flight) and 429. Anything else, and no answer at
 * all, leaves the outcome uncertain: the same request is sent again. */
static bool is_definitive(long status)
{
    return (status >= 200 && status < 300) ||
           (status >= 400 && status < 500 && status != 409 && status != 429);
}

/* ---- stored totals ---- */

/* The model's cumulative inferences as GET …/footprint reports them. */
static long long stored_inferences(const struct ct_server *s, const char *model)
{
    struct ct_response r;
    char path[256];
    const json_t *n;
    long long value;

    snprintf(path, sizeof path, "/v1/models/%s/footprint?policy=none", model);
    ct_get(s, path, &r);
    ck_assert_msg(r.status == 200, "GET %s answered %ld: %s", path, r.status,
                  r.status ? r.body : r.error);
    n = json_object_get(r.json, "inferences");
    ck_assert_msg(json_is_integer(n), "no integer 'inferences' in %s", r.body);
    value = (long long)json_integer_value(n);
    ct_response_cleanup(&r);
    return value;
}

static void registered(const struct ct_server *s, const char *json_text)
{
    struct ct_response r;

    ct_send_json(s, "POST", "/v1/models", json_text, &r);
    ck_assert_msg(r.status == 201, "registering %s answered %ld: %s", json_text, r.status,
                  r.status ? r.body : r.error);
    ct_response_cleanup(&r);
}

/* ---- D1: kill -9 under increment load ---- */

struct kill_run {
    atomic_uint port; /* 0 while the server is down */
    atomic_bool stop; /* no new keys after this */
    double deadline;  /* uncertain keys must be resolved by then */
};

struct kill_worker {
    pthread_t thread;
    int index;
    struct kill_run *run;
    long long acked[KILL_MODELS]; /* sum of acknowledged deltas per model */
    long n_acked;
    long n_retried_keys; /* keys sent more than once */
    long n_attempts;
    long unresolved; /* keys still uncertain at the deadline */
    long unexpected; /* the first definitive status that is not 200 */
    char unexpected_body[512];
};

static void *kill_worker_run(void *cls)
{
    struct kill_worker *w = cls;
    struct client c;
    unsigned seed = (unsigned)(w->index * 7919 + 17);

    client_init(&c);
    for (long seq = 0; !atomic_load(&w->run->stop); seq++) {
        int model = (int)(rand_r(&seed) % KILL_MODELS);
        int delta = 1 + (int)(rand_r(&seed) % 100);
        char key[64], path[128], body[64];
        long status = 0;
        int attempts = 0;

        snprintf(key, sizeof key, "kill-w%d-%ld", w->index, seq);
        snprintf(path, sizeof path, "/v1/models/dur/m%d/inferences", model);
        snprintf(body, sizeof body, "{\"count\":%d}", delta);
        /* The same key and body until the answer is definitive. */
        for (;;) {
            unsigned port = atomic_load(&w->run->port);
            if (port == 0) {
                if (ct_now() > w->run->deadline)
                    break;
                ct_sleep_s(0.005);
                continue;
            }
            attempts++;
            w->n_attempts++;
            status = client_send(&c, port, "POST", path, key, body, 5000);
            if (is_definitive(status) || ct_now() > w->run->deadline)
                break;
            ct_sleep_s(status == 0 ? 0.01 : 0.002);
        }
        if (attempts > 1)
            w->n_retried_keys++;
        if (!is_definitive(status)) {
            w->unresolved++;
            break;
        }
        if (status == 200) {
            w->acked[model] += delta;
            w->n_acked++;
        } else if (w->unexpected == 0) {
            w->unexpected = status;
            snprintf(w->unexpected_body, sizeof w->unexpected_body, "%.500s", c.body);
        }
    }
    client_cleanup(&c);
    return NULL;
}

START_TEST(sigkill_at_random_moments_loses_and_doubles_no_acknowledged_increment)
{
    static const char *const args[] = {"--threads", "4", NULL};
    static struct kill_worker workers[KILL_WORKERS];
    struct kill_run run;
    long long acked[KILL_MODELS] = {0};
    long n_acked = 0, retried = 0, attempts = 0;
    unsigned seed = (unsigned)time(NULL);
    double started = ct_now(), kill_phase_end;
    int kills = 0, status;
    char model[32], sql[256];

    srv->args = args;
    start(srv);
    for (int m = 0; m < KILL_MODELS; m++) {
        char body[64];
        snprintf(body, sizeof body, "{\"id\":\"dur/m%d\"}", m);
        registered(srv, body);
    }
    atomic_init(&run.port, srv->port);
    atomic_init(&run.stop, false);
    run.deadline = started + KILL_PHASE_S * ct_slowness() + 15.0 * ct_slowness();
    for (int i = 0; i < KILL_WORKERS; i++) {
        workers[i] = (struct kill_worker){.index = i, .run = &run};
        ck_assert_int_eq(pthread_create(&workers[i].thread, NULL, kill_worker_run, &workers[i]), 0);
    }

    /* The supervisor: SIGKILL after a random 0.2-1.0 s, restart on the same file. */
    kill_phase_end = started + KILL_PHASE_S * ct_slowness();
    while (kills < KILLS_TARGET && ct_now() < kill_phase_end) {
        ct_sleep_s(0.2 + 0.8 * (double)(rand_r(&seed) % 1000) / 1000.0);
        atomic_store(&run.port, 0u);
        ct_server_kill(srv);
        kills++;
        start(srv);
        atomic_store(&run.port, srv->port);
    }
    /* The workers finish their current key against the last server. */
    atomic_store(&run.stop, true);
    for (int i = 0; i < KILL_WORKERS; i++)
        pthread_join(workers[i].thread, NULL);

    for (int i = 0; i < KILL_WORKERS; i++) {
        ck_assert_msg(workers[i].unresolved == 0, "worker %d has a key still uncertain", i);
        ck_assert_msg(workers[i].unexpected == 0, "worker %d got HTTP %ld: %s", i,
                      workers[i].unexpected, workers[i].unexpected_body);
        for (int m = 0; m < KILL_MODELS; m++)
            acked[m] += workers[i].acked[m];
        n_acked += workers[i].n_acked;
        retried += workers[i].n_retried_keys;
        attempts += workers[i].n_attempts;
    }
    fprintf(stderr,
            "kill9: %d kills in %.1f s; %ld increments acknowledged, %ld keys retried after an "
            "uncertain answer, %ld requests\n",
            kills, ct_now() - started, n_acked, retried, attempts);
    ck_assert_msg(kills >= KILLS_REQUIRED, "only %d kills in the time budget", kills);
    ck_assert_msg(retried > 0, "no request was cut off by a kill: the test did not test");
    ck_assert_int_gt(n_acked, kills);

    /* Stored == acknowledged, through the API... */
    for (int m = 0; m < KILL_MODELS; m++) {
        snprintf(model, sizeof model, "dur/m%d", m);
        ck_assert_msg(stored_inferences(srv, model) == acked[m],
                      "%s: stored %lld inferences, acknowledged %lld", model,
                      stored_inferences(srv, model), acked[m]);
    }
    /* ...and in the file, which must be sound. */
    status = ct_server_stop(srv);
    ck_assert_msg(status == 0, "SIGTERM after the last restart: exit status %d", status);
    assert_database_sound(srv->db_path);
    for (int m = 0; m < KILL_MODELS; m++) {
        snprintf(sql, sizeof sql,
                 "SELECT coalesce(sum(d.count), 0) FROM inference_daily d JOIN models x ON "
                 "x.id = d.model_id WHERE x.namespace = 'dur' AND x.name = 'm%d';",
                 m);
        ck_assert_int_eq(sqlite_int(srv->db_path, sql), acked[m]);
    }
    ck_assert_int_eq(sqlite_int(srv->db_path, "SELECT count(*) FROM idempotency_keys;"), n_acked);
}
END_TEST

/* ---- K1: no lost updates on a hot row ---- */

struct hot_worker {
    pthread_t thread;
    int index;
    unsigned port;
    long acked;
    long retries_503;
    long no_answer;
    long unexpected;
    char unexpected_body[512];
};

static void *hot_worker_run(void *cls)
{
    struct hot_worker *w = cls;
    struct client c;
    double deadline = ct_now() + 60.0 * ct_slowness();

    client_init(&c);
    for (int seq = 0; seq < HOT_PER_CLIENT; seq++) {
        char key[64];
        long status;

        snprintf(key, sizeof key, "hot-%d-%d", w->index, seq);
        for (;;) {
            status = client_send(&c, w->port, "POST", "/v1/models/hot/row/inferences", key,
                                 "{\"count\":1}", 10000);
            if (status == 503 && ct_now() < deadline) {
                w->retries_503++;
                ct_sleep_s(0.01);
                continue;
            }
            /* No answer on a healthy server is itself a failure (asserted below); the
             * key is still resolved so that the tally stays exact. */
            if (status == 0 && w->no_answer++ < 3 && ct_now() < deadline)
                continue;
            break;
        }
        if (status == 200) {
            w->acked++;
        } else if (w->unexpected == 0) {
            w->unexpected = status;
            snprintf(w->unexpected_body, sizeof w->unexpected_body, "%.300s %.200s", c.body,
                     c.error);
            break;
        }
    }
    client_cleanup(&c);
    return NULL;
}

/* A sample of GET /metrics (a series without labels); NAN when absent. */
static double scraped_value(struct ct_server *s, const char *series)
{
    struct ct_response r;
    double value = NAN;
    size_t len = strlen(series);

    ck_assert_int_eq(ct_get(s, "/metrics", &r), 200);
    for (const char *line = r.body; line && *line;
         line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        if (strncmp(line, series, len) == 0 && line[len] == ' ')
            value = strtod(line + len + 1, NULL);
    }
    ct_response_cleanup(&r);
    return value;
}

START_TEST(eight_clients_adding_1250_each_to_one_model_count_exactly_10000)
{
    static const char *const args[] = {"--threads", "4", NULL};
    static struct hot_worker workers[HOT_CLIENTS];
    long acked = 0, retries = 0;
    double started, elapsed, writes, commits;
    int status;

    srv->args = args;
    start(srv);
    registered(srv, "{\"id\":\"hot/row\"}");
    writes = scraped_value(srv, "carbontree_db_write_batch_size_sum");
    commits = scraped_value(srv, "carbontree_db_write_batch_size_count");
    started = ct_now();
    for (int i = 0; i < HOT_CLIENTS; i++) {
        workers[i] = (struct hot_worker){.index = i, .port = srv->port};
        ck_assert_int_eq(pthread_create(&workers[i].thread, NULL, hot_worker_run, &workers[i]), 0);
    }
    for (int i = 0; i < HOT_CLIENTS; i++)
        pthread_join(workers[i].thread, NULL);
    elapsed = ct_now() - started;
    for (int i = 0; i < HOT_CLIENTS; i++) {
        ck_assert_msg(workers[i].unexpected == 0, "client %d got HTTP %ld: %s", i,
                      workers[i].unexpected, workers[i].unexpected_body);
        ck_assert_msg(workers[i].no_answer == 0, "client %d got no answer %ld time(s)", i,
                      workers[i].no_answer);
        acked += workers[i].acked;
        retries += workers[i].retries_503;
    }
    fprintf(stderr, "hot row: %ld increments in %.1f s (%.0f/s), %ld 503s retried\n", acked,
            elapsed, (double)acked / elapsed, retries);
    ck_assert_int_eq(acked, HOT_CLIENTS * HOT_PER_CLIENT);
    ck_assert_int_eq(stored_inferences(srv, "hot/row"), HOT_CLIENTS * HOT_PER_CLIENT);
    /* Group commit: every write was committed, and writes that arrived together
     * shared commits. */
    writes = scraped_value(srv, "carbontree_db_write_batch_size_sum") - writes;
    commits = scraped_value(srv, "carbontree_db_write_batch_size_count") - commits;
    fprintf(stderr, "hot row: %.0f writes in %.0f commits\n", writes, commits);
    ck_assert_int_eq((long)writes, HOT_CLIENTS * HOT_PER_CLIENT);
    ck_assert_msg(commits < writes / 2, "%.0f commits for %.0f writes", commits, writes);

    status = ct_server_stop(srv);
    ck_assert_int_eq(status, 0);
    /* Every acknowledgement has its committed idempotency record, and no more. */
    ck_assert_int_eq(sqlite_int(srv->db_path, "SELECT count(*) FROM idempotency_keys;"),
                     HOT_CLIENTS * HOT_PER_CLIENT);
    ck_assert_int_eq(sqlite_int(srv->db_path, "SELECT sum(count) FROM inference_daily;"),
                     HOT_CLIENTS * HOT_PER_CLIENT);
    assert_database_sound(srv->db_path);
}
END_TEST

/* ---- D6: disk full through --max-page-count ---- */

/* A registration of about 3 KiB stored across several rows (the model, its parent
 * edge, two closure rows, the ledger, and the card's reported activity). */
static char *big_registration(int i)
{
    char url[2100], text[256], source[401];
    char *body = malloc(4096);

    ck_assert_ptr_nonnull(body);
    snprintf(url, sizeof url, "https://example.org/%04d/", i);
    memset(url + strlen(url), 'u', 2040 - strlen(url));
    url[2040] = '\0';
    memset(text, 't', 250);
    text[250] = '\0';
    memset(source, 's', 400);
    source[400] = '\0';
    snprintf(body, 4096,
             "{\"id\":\"full/m%04d\",\"parents\":[{\"id\":\"full/base\"}],\"url\":\"%s\","
             "\"task\":\"%s\",\"license\":\"%s\",\"co2_eq_emissions\":{\"emissions\":%d,"
             "\"source\":\"%s\"}}",
             i, url, text, text, i + 1, source);
    return body;
}

struct full_ledger {
    int registered[FULL_MAX_WRITES + FULL_MORE_WRITES + 8]; /* indexes that got 201 */
    int n_registered;
    int n_activities;     /* activities acknowledged by POST …/activities */
    long long inferences; /* acknowledged count on full/base */
    int n_failed;         /* 507 answers */
    int n_patched;        /* PATCHes acknowledged (task of full/base) */
    char last_task[64];   /* the task of the last acknowledged PATCH */
};

/* A write that must be stored (2xx) or refused with 507 problem+json, never
 * anything else. Returns whether it was stored. */
static bool stored_or_507(struct ct_response *r, long ok_status, const char *what)
{
    if (r->status == ok_status)
        return true;
    ck_assert_msg(r->status != 500, "%s answered 500: %s", what, r->body);
    CT_ASSERT_PROBLEM(r, 507, "insufficient-storage", NULL);
    return false;
}

/* Reads keep answering while writes fail. */
static void reads_answer_200(const struct ct_server *s, const struct full_ledger *l)
{
    static const char *const paths[] = {"/healthz", "/readyz", "/v1/models?limit=5",
                                        "/v1/models/full/base", "/v1/models/full/base/footprint"};
    struct ct_response r;
    char path[128];

    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        ct_get(s, paths[i], &r);
        ck_assert_msg(r.status == 200, "GET %s during the fault answered %ld: %s", paths[i],
                      r.status, r.body);
        ct_response_cleanup(&r);
    }
    if (l->n_registered > 0) {
        snprintf(path, sizeof path, "/v1/models/full/m%04d", l->registered[l->n_registered - 1]);
        ck_assert_int_eq(ct_get(s, path, &r), 200);
        ct_response_cleanup(&r);
    }
}

/* Every acknowledged write is there, whole. */
static void ledger_is_stored(const struct ct_server *s, const struct full_ledger *l)
{
    struct ct_response r;
    char path[128];

    for (int i = 0; i < l->n_registered; i++) {
        const char *url;
        snprintf(path, sizeof path, "/v1/models/full/m%04d", l->registered[i]);
        ct_get(s, path, &r);
        ck_assert_msg(r.status == 200, "acknowledged %s is lost: %ld", path, r.status);
        url = json_string_value(json_object_get(r.json, "url"));
        ck_assert_msg(url != NULL && strlen(url) == 2040, "%s has url %s", path, url);
        ct_response_cleanup(&r);
        snprintf(path, sizeof path, "/v1/models/full/m%04d/activities", l->registered[i]);
        ct_get(s, path, &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_msg(json_array_size(json_object_get(r.json, "items")) == 1,
                      "%s: the card's activity is missing: %s", path, r.body);
        ct_response_cleanup(&r);
    }
    ck_assert_int_eq(stored_inferences(s, "full/base"), l->inferences);
    ct_get(s, "/v1/models/full/base", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(l->n_patched == 0 ||
                      strcmp(json_string_value(json_object_get(r.json, "task")), l->last_task) == 0,
                  "the acknowledged PATCH is lost: %s", r.body);
    ct_response_cleanup(&r);
}

/* One of the writes after the first failure, by turn: a registration, an
 * activity, an inference count, a PATCH, another registration. */
static void write_while_full(const struct ct_server *s, int turn, int *next_index,
                             struct full_ledger *l)
{
    struct ct_response r;
    char body[1024], note[501], key[64], header[96];
    const char *headers[] = {"Content-Type: application/json", header, NULL};

    switch (turn % 5) {
    case 0:
    case 4: {
        char *reg = big_registration(*next_index);
        ct_send_json(s, "POST", "/v1/models", reg, &r);
        free(reg);
        if (stored_or_507(&r, 201, "a registration"))
            l->registered[l->n_registered++] = *next_index;
        else
            l->n_failed++;
        (*next_index)++;
        break;
    }
    case 1:
        memset(note, 'n', 480);
        note[480] = '\0';
        snprintf(body, sizeof body,
                 "{\"kind\":\"other\",\"obtained\":\"reported\",\"co2e_kg\":1,\"note\":\"%s\"}",
                 note);
        ct_send_json(s, "POST", "/v1/models/full/base/activities", body, &r);
        if (stored_or_507(&r, 201, "an activity"))
            l->n_activities++;
        else
            l->n_failed++;
        break;
    case 2:
        snprintf(key, sizeof key, "full-%d", turn);
        snprintf(header, sizeof header, "Idempotency-Key: %s", key);
        ct_request(s, "POST", "/v1/models/full/base/inferences", headers, "{\"count\":7}", 11, &r);
        if (stored_or_507(&r, 200, "an inference count"))
            l->inferences += 7;
        else
            l->n_failed++;
        break;
    default:
        snprintf(body, sizeof body, "{\"task\":\"task-%d\"}", turn);
        ct_send_json(s, "PATCH", "/v1/models/full/base", body, &r);
        if (stored_or_507(&r, 200, "a PATCH")) {
            l->n_patched++;
            snprintf(l->last_task, sizeof l->last_task, "task-%d", turn);
        } else {
            l->n_failed++;
        }
        break;
    }
    ct_response_cleanup(&r);
}

START_TEST(full_database_answers_507_keeps_reads_and_acknowledged_writes_then_recovers)
{
    static char cap_text[32], bigger_text[32];
    static const char *capped_args[] = {"--max-page-count", cap_text, NULL};
    static const char *bigger_args[] = {"--max-page-count", bigger_text, NULL};
    static struct full_ledger l;
    struct ct_response r;
    long long pages, activities;
    int next_index = 0, status, failed_before;
    char sql[512];

    memset(&l, 0, sizeof l);
    /* Migrate without a cap, then cap the file at its size plus 48 pages (192 KiB). */
    start(srv);
    registered(srv, "{\"id\":\"full/base\"}");
    ck_assert_int_eq(ct_server_stop(srv), 0);
    pages = sqlite_int(srv->db_path, "PRAGMA page_count;");
    snprintf(cap_text, sizeof cap_text, "%lld", pages + 48);
    snprintf(bigger_text, sizeof bigger_text, "%lld", pages + 2000);
    srv->args = capped_args;
    start(srv);

    /* Register until the first refusal. */
    while (next_index < FULL_MAX_WRITES) {
        char *reg = big_registration(next_index);
        bool stored;
        ct_send_json(srv, "POST", "/v1/models", reg, &r);
        free(reg);
        stored = stored_or_507(&r, 201, "a registration");
        ct_response_cleanup(&r);
        if (!stored) {
            l.n_failed++;
            next_index++;
            break;
        }
        l.registered[l.n_registered++] = next_index++;
    }
    ck_assert_msg(l.n_failed == 1, "%d registrations of 3 KiB fit in 48 pages", l.n_registered);
    ck_assert_int_gt(l.n_registered, 5);
    reads_answer_200(srv, &l);
    /* What the refused registration left free (how much depends on how many pages
     * a registration takes) is filled with activities until one is refused too, so
     * that the writes below meet a full database whatever their size. */
    for (int i = 0; i < FULL_MAX_WRITES; i++) {
        char note[501], body[1024];
        bool stored;
        memset(note, 'f', 480);
        note[480] = '\0';
        snprintf(body, sizeof body,
                 "{\"kind\":\"other\",\"obtained\":\"reported\",\"co2e_kg\":1,\"note\":\"%s\"}",
                 note);
        ct_send_json(srv, "POST", "/v1/models/full/base/activities", body, &r);
        stored = stored_or_507(&r, 201, "an activity");
        ct_response_cleanup(&r);
        if (!stored)
            break;
        l.n_activities++;
    }

    /* 20 more writes of every kind: each stored or 507; reads keep working. */
    for (int turn = 0; turn < FULL_MORE_WRITES; turn++) {
        write_while_full(srv, turn, &next_index, &l);
        reads_answer_200(srv, &l);
    }
    fprintf(stderr,
            "disk full: %d registrations fit in 48 pages; then %d of %d writes refused with 507\n",
            l.n_registered, l.n_failed - 1, FULL_MORE_WRITES);
    ck_assert_int_ge(l.n_failed, 1 + FULL_MORE_WRITES / 2);
    ledger_is_stored(srv, &l);

    /* No partial rows: exactly the acknowledged models exist, each whole. */
    status = ct_server_stop(srv);
    ck_assert_msg(status == 0, "SIGTERM with a full database: exit status %d", status);
    assert_database_sound(srv->db_path);
    ck_assert_int_eq(
        sqlite_int(srv->db_path, "SELECT count(*) FROM models WHERE namespace = 'full';"),
        l.n_registered + 1);
    ck_assert_int_eq(sqlite_int(srv->db_path, "SELECT count(*) FROM models m WHERE NOT EXISTS "
                                              "(SELECT 1 FROM model_ledger g WHERE g.model_id = "
                                              "m.id);"),
                     0);
    ck_assert_int_eq(sqlite_int(srv->db_path,
                                "SELECT count(*) FROM models m WHERE m.namespace = 'full' AND "
                                "m.name <> 'base' AND ((SELECT count(*) FROM model_parents p "
                                "WHERE p.child_id = m.id) <> 1 OR (SELECT count(*) FROM "
                                "model_closure c WHERE c.descendant_id = m.id) <> 2 OR (SELECT "
                                "count(*) FROM activities a WHERE a.model_id = m.id) <> 1);"),
                     0);
    activities = sqlite_int(srv->db_path, "SELECT count(*) FROM activities;");
    ck_assert_int_eq(activities, l.n_registered + l.n_activities);
    snprintf(sql, sizeof sql,
             "SELECT descendants FROM model_ledger g JOIN models m ON m.id = g.model_id WHERE "
             "m.namespace = 'full' AND m.name = 'base';");
    ck_assert_int_eq(sqlite_int(srv->db_path, sql), l.n_registered + 1);

    /* Space returns: writes resume, and nothing acknowledged was lost. */
    srv->args = bigger_args;
    start(srv);
    ledger_is_stored(srv, &l);
    for (int i = 0; i < 5; i++) {
        char *reg = big_registration(next_index);
        ct_send_json(srv, "POST", "/v1/models", reg, &r);
        free(reg);
        ck_assert_msg(r.status == 201, "after space returned, a registration answered %ld: %s",
                      r.status, r.body);
        ct_response_cleanup(&r);
        l.registered[l.n_registered++] = next_index++;
    }
    failed_before = l.n_failed;
    write_while_full(srv, 2 + 5 * 100, &next_index, &l); /* an inference count */
    ck_assert_msg(l.n_failed == failed_before, "after space returned, a count got 507");
    ledger_is_stored(srv, &l);
    ck_assert_int_eq(ct_server_stop(srv), 0);
    assert_database_sound(srv->db_path);
}
END_TEST

/* Six clients register big models at once into a database near its cap, so group
 * commits fill it: a group that cannot commit runs again request by request, and
 * every client still gets 201 or 507 for exactly what was stored. */
#define RACE_CLIENTS 6
#define RACE_EACH    30

struct race_worker {
    pthread_t thread;
    int index;
    unsigned port;
    bool stored[RACE_EACH];
    int n_507;
    long unexpected; /* the first status other than 201 and 507 */
    char unexpected_body[256];
};

static void *race_worker_run(void *cls)
{
    struct race_worker *w = cls;
    struct client c;

    client_init(&c);
    for (int i = 0; i < RACE_EACH && w->unexpected == 0; i++) {
        char *reg = big_registration(1000 + w->index * RACE_EACH + i);
        long status = client_send(&c, w->port, "POST", "/v1/models", NULL, reg, 20000);
        free(reg);
        if (status == 201) {
            w->stored[i] = true;
        } else if (status == 507 && strstr(c.body, "\"status\":507") != NULL) {
            w->n_507++;
        } else {
            w->unexpected = status;
            snprintf(w->unexpected_body, sizeof w->unexpected_body, "%.200s %.50s", c.body,
                     c.error);
        }
    }
    client_cleanup(&c);
    return NULL;
}

START_TEST(concurrent_writes_filling_the_database_get_201_or_507_for_what_was_stored)
{
    static char cap_text[32];
    static const char *capped_args[] = {"--max-page-count", cap_text, NULL};
    static struct race_worker workers[RACE_CLIENTS];
    long long pages;
    int n_stored = 0, n_507 = 0;
    char sql[128];

    start(srv);
    registered(srv, "{\"id\":\"full/base\"}");
    ck_assert_int_eq(ct_server_stop(srv), 0);
    pages = sqlite_int(srv->db_path, "PRAGMA page_count;");
    snprintf(cap_text, sizeof cap_text, "%lld", pages + 48);
    srv->args = capped_args;
    start(srv);
    for (int i = 0; i < RACE_CLIENTS; i++) {
        workers[i] = (struct race_worker){.index = i, .port = srv->port};
        ck_assert_int_eq(pthread_create(&workers[i].thread, NULL, race_worker_run, &workers[i]), 0);
    }
    for (int i = 0; i < RACE_CLIENTS; i++)
        pthread_join(workers[i].thread, NULL);
    for (int i = 0; i < RACE_CLIENTS; i++) {
        ck_assert_msg(workers[i].unexpected == 0, "client %d got HTTP %ld: %s", i,
                      workers[i].unexpected, workers[i].unexpected_body);
        n_507 += workers[i].n_507;
    }
    ck_assert_int_eq(ct_server_stop(srv), 0);
    {
        char *log = ct_server_output(srv);
        int n_reruns = 0;
        for (const char *p = log; p && (p = strstr(p, "did not commit")) != NULL; p++)
            n_reruns++;
        fprintf(stderr, "disk full, %d clients at once: %d groups ran again one by one\n",
                RACE_CLIENTS, n_reruns);
        free(log);
    }
    /* Exactly the acknowledged models exist, each with its card's activity. */
    for (int i = 0; i < RACE_CLIENTS; i++) {
        for (int j = 0; j < RACE_EACH; j++) {
            snprintf(sql, sizeof sql,
                     "SELECT count(*) FROM models m JOIN activities a ON a.model_id = m.id "
                     "WHERE m.name = 'm%04d';",
                     1000 + i * RACE_EACH + j);
            ck_assert_int_eq(sqlite_int(srv->db_path, sql), workers[i].stored[j] ? 1 : 0);
            n_stored += workers[i].stored[j];
        }
    }
    fprintf(stderr, "disk full, %d clients at once: %d registrations stored, %d refused with 507\n",
            RACE_CLIENTS, n_stored, n_507);
    ck_assert_int_gt(n_stored, 5);
    ck_assert_int_gt(n_507, 0);
    ck_assert_int_eq(
        sqlite_int(srv->db_path, "SELECT count(*) FROM models WHERE namespace = 'full';"),
        n_stored + 1);
    assert_database_sound(srv->db_path);
}
END_TEST

/* ---- D11: SIGTERM while counting ---- */

struct term_key {
    int model;
    int delta;
    bool is_uncertain;
};

struct term_worker {
    pthread_t thread;
    int index;
    unsigned port;
    atomic_int *acked_total;
    long long acked[TERM_MODELS];
    int n_keys;
    struct term_key keys[TERM_MAX_KEYS];
    long unexpected;
    char unexpected_body[512];
};

static void term_request(int worker, int seq, const struct term_key *k, char *key, size_t key_len,
                         char *path, size_t path_len, char *body, size_t body_len)
{
    snprintf(key, key_len, "term-w%d-%d", worker, seq);
    snprintf(path, path_len, "/v1/models/term/m%d/inferences", k->model);
    snprintf(body, body_len, "{\"count\":%d}", k->delta);
}

static void *term_worker_run(void *cls)
{
    struct term_worker *w = cls;
    struct client c;
    unsigned seed = (unsigned)(w->index * 104729 + 3);

    client_init(&c);
    while (w->n_keys < TERM_MAX_KEYS) {
        struct term_key *k = &w->keys[w->n_keys];
        char key[64], path[128], body[64];
        long status;

        k->model = (int)(rand_r(&seed) % TERM_MODELS);
        k->delta = 1 + (int)(rand_r(&seed) % 100);
        term_request(w->index, w->n_keys, k, key, sizeof key, path, sizeof path, body, sizeof body);
        w->n_keys++;
        status = client_send(&c, w->port, "POST", path, key, body, 5000);
        if (status == 200) {
            w->acked[k->model] += k->delta;
            atomic_fetch_add(w->acked_total, 1);
        } else if (status == 0 || status == 503 || status == 409) {
            /* The server is stopping: resolved after the restart. */
            k->is_uncertain = true;
            if (status == 0)
                break;
        } else if (w->unexpected == 0) {
            w->unexpected = status;
            snprintf(w->unexpected_body, sizeof w->unexpected_body, "%.500s", c.body);
        }
    }
    client_cleanup(&c);
    return NULL;
}

START_TEST(sigterm_while_counting_exits_0_and_keeps_every_acknowledged_increment)
{
    static const char *const args[] = {"--threads", "4", NULL};
    static struct term_worker workers[TERM_WORKERS];
    atomic_int acked_total = 0;
    long long acked[TERM_MODELS] = {0};
    int status, uncertain = 0, acked_at_term;
    double deadline, term_at, stop_s;
    struct client c;

    srv->args = args;
    start(srv);
    for (int m = 0; m < TERM_MODELS; m++) {
        char body[64];
        snprintf(body, sizeof body, "{\"id\":\"term/m%d\"}", m);
        registered(srv, body);
    }
    for (int i = 0; i < TERM_WORKERS; i++) {
        workers[i] =
            (struct term_worker){.index = i, .port = srv->port, .acked_total = &acked_total};
        ck_assert_int_eq(pthread_create(&workers[i].thread, NULL, term_worker_run, &workers[i]), 0);
    }
    deadline = ct_now() + 2.0 * ct_slowness();
    while (atomic_load(&acked_total) < 100 && ct_now() < deadline)
        ct_sleep_s(0.005);
    acked_at_term = atomic_load(&acked_total);
    term_at = ct_now();
    ct_server_signal(srv, SIGTERM);
    status = ct_server_wait(srv, 12.0 * ct_slowness());
    stop_s = ct_now() - term_at;
    for (int i = 0; i < TERM_WORKERS; i++)
        pthread_join(workers[i].thread, NULL);
    ck_assert_msg(status == 0, "exit status %d after SIGTERM under load", status);
    ck_assert_int_gt(atomic_load(&acked_total), 0);

    /* After the restart every uncertain key is sent again, same key and body, until
     * its answer is definitive: a replay when it was applied, a first application
     * otherwise. */
    start(srv);
    client_init(&c);
    for (int i = 0; i < TERM_WORKERS; i++) {
        ck_assert_msg(workers[i].unexpected == 0, "worker %d got HTTP %ld: %s", i,
                      workers[i].unexpected, workers[i].unexpected_body);
        for (int seq = 0; seq < workers[i].n_keys; seq++) {
            const struct term_key *k = &workers[i].keys[seq];
            char key[64], path[128], body[64];
            long answer = 0;
            if (!k->is_uncertain)
                continue;
            uncertain++;
            term_request(i, seq, k, key, sizeof key, path, sizeof path, body, sizeof body);
            for (int attempt = 0; attempt < 50 && !is_definitive(answer); attempt++) {
                answer = client_send(&c, srv->port, "POST", path, key, body, 5000);
                if (!is_definitive(answer))
                    ct_sleep_s(0.05);
            }
            ck_assert_msg(answer == 200, "uncertain key %s resolved as %ld: %s", key, answer,
                          c.body);
            workers[i].acked[k->model] += k->delta;
        }
        for (int m = 0; m < TERM_MODELS; m++)
            acked[m] += workers[i].acked[m];
    }
    client_cleanup(&c);
    fprintf(stderr,
            "sigterm: %d increments acknowledged before SIGTERM, %d more before the exit %.2f s "
            "later, %d uncertain\n",
            acked_at_term, atomic_load(&acked_total) - acked_at_term, stop_s, uncertain);
    for (int m = 0; m < TERM_MODELS; m++) {
        char model[32];
        snprintf(model, sizeof model, "term/m%d", m);
        ck_assert_msg(stored_inferences(srv, model) == acked[m],
                      "%s: stored %lld, acknowledged %lld", model, stored_inferences(srv, model),
                      acked[m]);
    }
    ck_assert_int_eq(ct_server_stop(srv), 0);
    assert_database_sound(srv->db_path);
}
END_TEST

/* A request whose body never completes, to keep the server's in-flight count
 * above zero: the stop then waits for its grace period. Returns the socket. */
static int hold_a_request_in_flight(unsigned port)
{
    static const char head[] = "POST /v1/models/term/k/inferences HTTP/1.1\r\nHost: t\r\n"
                               "Authorization: Bearer " CT_ADMIN_TOKEN "\r\n"
                               "Content-Type: application/json\r\nIdempotency-Key: held\r\n"
                               "Content-Length: 20\r\n\r\n{\"cou";
    struct sockaddr_in addr;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    ck_assert_int_eq(send(fd, head, sizeof head - 1, MSG_NOSIGNAL), (ssize_t)(sizeof head - 1));
    return fd;
}

START_TEST(after_sigterm_a_kept_alive_connection_gets_no_new_write_acknowledged)
{
    static const char *const args[] = {"--threads", "2", "--shutdown-grace", "3", NULL};
    struct client c;
    long after_term;
    int held, status;

    srv->args = args;
    start(srv);
    registered(srv, "{\"id\":\"term/k\"}");
    client_init(&c);
    ck_assert_int_eq(client_send(&c, srv->port, "POST", "/v1/models/term/k/inferences", "before",
                                 "{\"count\":1}", 5000),
                     200);
    held = hold_a_request_in_flight(srv->port);
    ct_sleep_s(0.2);
    ct_server_signal(srv, SIGTERM);
    ct_sleep_s(0.3 * ct_slowness());
    /* The stop is under way (it waits for the held request). A new request on the
     * connection kept alive from before must not start a new write: 503 or a
     * closed connection, never 200. */
    after_term = client_send(&c, srv->port, "POST", "/v1/models/term/k/inferences", "after",
                             "{\"count\":1}", 5000);
    status = ct_server_wait(srv, 3.0 + 5.0 * ct_slowness());
    close(held);
    client_cleanup(&c);
    ck_assert_msg(status == 0, "exit status %d", status);
    ck_assert_msg(after_term != 200,
                  "a write sent 0.3 s after SIGTERM on a kept-alive connection was applied and "
                  "acknowledged (the server still takes new requests while it stops)");
}
END_TEST

static Suite *durability_suite(void)
{
    Suite *s = suite_create("http_durability");
    TCase *crash = tcase_create("crash");
    TCase *concurrency = tcase_create("concurrency");
    TCase *storage = tcase_create("storage");
    TCase *stop = tcase_create("stop");

    tcase_add_checked_fixture(crash, new_server, stop_servers);
    tcase_set_timeout(crash, ct_timeout_s(90));
    tcase_add_test(crash, sigkill_at_random_moments_loses_and_doubles_no_acknowledged_increment);
    suite_add_tcase(s, crash);

    tcase_add_checked_fixture(concurrency, new_server, stop_servers);
    tcase_set_timeout(concurrency, ct_timeout_s(75));
    tcase_add_test(concurrency, eight_clients_adding_1250_each_to_one_model_count_exactly_10000);
    suite_add_tcase(s, concurrency);

    tcase_add_checked_fixture(storage, new_server, stop_servers);
    tcase_set_timeout(storage, ct_timeout_s(40));
    tcase_add_test(storage,
                   concurrent_writes_filling_the_database_get_201_or_507_for_what_was_stored);
    tcase_add_test(storage,
                   full_database_answers_507_keeps_reads_and_acknowledged_writes_then_recovers);
    suite_add_tcase(s, storage);

    tcase_add_checked_fixture(stop, new_server, stop_servers);
    tcase_set_timeout(stop, ct_timeout_s(40));
    tcase_add_test(stop, sigterm_while_counting_exits_0_and_keeps_every_acknowledged_increment);
    tcase_add_test(stop, after_sigterm_a_kept_alive_connection_gets_no_new_write_acknowledged);
    suite_add_tcase(s, stop);
    return s;
}

int main(void)
{
    return ct_main(durability_suite());
}
