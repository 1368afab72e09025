/* SPDX-License-Identifier: Apache-2.0 */
/* The api layer without sockets: every write path reports what it changed to one
 * place (api/changes.c) after its commit, and nothing for a refused or replayed
 * request; group commit keeps a group's accepted writes and undoes a refused one
 * alone, and the writer (server/writer.c) runs a failed group again request by
 * request. */
#include "api.h"
#include "db.h"
#include "writer.h"

#include <check.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADMIN "unit-test-admin-token-0123456789"

static char dir[64];
static struct api_service *service;
/* The connection and group the writer hands a job's run; NULL outside a run. */
static struct db *run_db;
static struct api_group *run_group;
static struct api_write_state *run_write_state;
static uint64_t n_seen_before; /* changes told before the count of n_seen starts */

/* Changes told (in the totals) since setup or the last forget_seen. */
static uint64_t n_seen(void)
{
    struct api_change_totals totals;
    uint64_t n = 0;

    api_changes_totals(service, &totals);
    for (int i = 0; i < API_CHANGE_KIND_COUNT; i++)
        n += totals.events[i];
    return n - n_seen_before;
}

static void forget_seen(void)
{
    n_seen_before += n_seen();
}

static void setup(void)
{
    struct api_config config = {
        .busy_timeout_ms = 1000, .auto_migrate = true, .admin_token = ADMIN};
    char path[128], why[512] = "";

    snprintf(dir, sizeof dir, "/tmp/carbontree-api-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/api.db", dir);
    config.db_path = path;
    ck_assert_msg(api_service_create(&config, &service, why, sizeof why) == ERR_OK, "%s", why);
    n_seen_before = 0;
}

static void teardown(void)
{
    char cmd[128];

    api_service_destroy(service);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Calls handler with a JSON body (or NULL) and path parameters; returns the status
 * (the error's HTTP status when the handler failed). */
static int call(api_handler_fn handler, const char *method, const char *path, const char *body,
                const char *ns, const char *name, const char *key, const char *authorization)
{
    struct api_request req;
    struct api_reply reply;
    json_error_t error;
    json_t *json = body ? json_loads(body, JSON_REJECT_DUPLICATES, &error) : NULL;
    enum err rc;
    int status;

    memset(&req, 0, sizeof req);
    if (run_db != NULL)
        req.db = run_db;
    else
        ck_assert_int_eq(api_service_connection(service, &req.db), ERR_OK);
    req.group = run_group;
    req.write_state = run_write_state;
    req.method = method;
    req.path = path;
    req.request_id = "unit";
    req.body = json;
    req.idempotency_key = key;
    req.authorization = authorization;
    if (ns) {
        req.params[0] = ns;
        req.params[1] = name;
        req.n_params = 2;
    }
    api_reply_init(&reply);
    rc = handler(service, &req, &reply);
    status = rc == ERR_OK ? reply.status : err_http_status(rc);
    api_reply_cleanup(&reply);
    json_decref(json);
    return status;
}

#define AUTH "Bearer " ADMIN

START_TEST(each_write_path_reports_its_change_after_commit)
{
    struct api_change_totals totals;

    ck_assert_int_eq(
        call(api_models_post, "POST", "/v1/models", "{\"id\": \"a/base\"}", NULL, NULL, NULL, AUTH),
        201);
    ck_assert_int_eq(call(api_models_post, "POST", "/v1/models",
                          "{\"id\": \"a/ft\", \"base_model\": \"a/base\", \"co2_eq_emissions\": 5}",
                          NULL, NULL, NULL, AUTH),
                     201);
    ck_assert_int_eq(call(api_inferences_post, "POST", "/v1/models/a/ft/inferences",
                          "{\"count\": 40}", "a", "ft", "k1", AUTH),
                     200);
    ck_assert_int_eq(call(api_activities_post, "POST", "/v1/models/a/base/activities",
                          "{\"kind\": \"training\", \"co2e_kg\": 10}", "a", "base", NULL, AUTH),
                     201);
    ck_assert_int_eq(call(api_inference_reports_post, "POST", "/v1/inference-reports",
                          "{\"reports\": [{\"model\": \"a/base\", \"count\": 2}, {\"model\": "
                          "\"a/ft\", \"count\": 3}]}",
                          NULL, NULL, "b1", AUTH),
                     200);
    ck_assert_uint_eq(n_seen(), 7);
    api_changes_totals(service, &totals);
    ck_assert_uint_eq(totals.events[API_CHANGE_MODEL_ADDED], 2);
    /* the card's emissions and the posted activity */
    ck_assert_uint_eq(totals.events[API_CHANGE_ACTIVITY_ADDED], 2);
    ck_assert_uint_eq(totals.events[API_CHANGE_INFERENCES], 3);
    ck_assert_uint_eq(totals.inferences, 45);
}
END_TEST

START_TEST(refused_and_replayed_writes_report_nothing)
{
    struct api_change_totals totals;

    ck_assert_int_eq(
        call(api_models_post, "POST", "/v1/models", "{\"id\": \"a/m\"}", NULL, NULL, NULL, AUTH),
        201);
    ck_assert_int_eq(call(api_inferences_post, "POST", "/v1/models/a/m/inferences",
                          "{\"count\": 7}", "a", "m", "same", AUTH),
                     200);
    forget_seen();
    /* replay, unauthenticated, invalid, conflicting key, unknown model */
    ck_assert_int_eq(call(api_inferences_post, "POST", "/v1/models/a/m/inferences",
                          "{\"count\": 7}", "a", "m", "same", AUTH),
                     200);
    ck_assert_int_eq(call(api_inferences_post, "POST", "/v1/models/a/m/inferences",
                          "{\"count\": 7}", "a", "m", "other", NULL),
                     401);
    ck_assert_int_eq(call(api_inferences_post, "POST", "/v1/models/a/m/inferences",
                          "{\"count\": -1}", "a", "m", "neg", AUTH),
                     422);
    ck_assert_int_eq(call(api_inferences_post, "POST", "/v1/models/a/m/inferences",
                          "{\"count\": 8}", "a", "m", "same", AUTH),
                     422);
    ck_assert_int_eq(
        call(api_models_delete, "DELETE", "/v1/models/a/none", NULL, "a", "none", NULL, AUTH), 404);
    ck_assert_uint_eq(n_seen(), 0);
    api_changes_totals(service, &totals);
    ck_assert_uint_eq(totals.inferences, 7);
    ck_assert_uint_eq(totals.events[API_CHANGE_MODEL_DELETED], 0);
}
END_TEST

static int get_model(const char *ns, const char *name)
{
    char path[96];

    snprintf(path, sizeof path, "/v1/models/%s/%s", ns, name);
    return call(api_models_get, "GET", path, NULL, ns, name, NULL, NULL);
}

static int post_model(const char *id)
{
    char body[96];

    snprintf(body, sizeof body, "{\"id\": \"%s\"}", id);
    return call(api_models_post, "POST", "/v1/models", body, NULL, NULL, NULL, AUTH);
}

START_TEST(a_group_keeps_accepted_writes_undoes_a_refused_one_and_reports_after_commit)
{
    struct api_change_totals totals;
    struct db_write_batches before, after;
    struct db *db = NULL;

    db_write_batches(&before);
    ck_assert_int_eq(api_service_connection(service, &db), ERR_OK);
    ck_assert_int_eq(api_group_begin(service, db, &run_group), ERR_OK);
    ck_assert_int_eq(post_model("g/one"), 201);
    ck_assert_int_eq(post_model("g/one"), 409); /* refused: its savepoint alone is undone */
    ck_assert_int_eq(call(api_inferences_post, "POST", "/v1/models/g/one/inferences",
                          "{\"count\": 5}", "g", "one", "k", AUTH),
                     200);
    ck_assert_int_eq(post_model("g/bad id"), 422);
    ck_assert(api_group_is_intact(run_group));
    ck_assert_uint_eq(n_seen(), 0); /* held until the commit */
    ck_assert_int_eq(api_group_commit(run_group, 2), ERR_OK);
    run_group = NULL;
    ck_assert_uint_eq(n_seen(), 2);
    api_changes_totals(service, &totals);
    ck_assert_uint_eq(totals.events[API_CHANGE_MODEL_ADDED], 1);
    ck_assert_uint_eq(totals.events[API_CHANGE_INFERENCES], 1);
    ck_assert_uint_eq(totals.inferences, 5);
    ck_assert_int_eq(get_model("g", "one"), 200);
    db_write_batches(&after);
    ck_assert_uint_eq(after.count - before.count, 1);
    ck_assert_uint_eq(after.writes - before.writes, 2);
}
END_TEST

START_TEST(a_rolled_back_group_leaves_nothing_and_reports_nothing)
{
    struct db *db = NULL;

    ck_assert_int_eq(api_service_connection(service, &db), ERR_OK);
    ck_assert_int_eq(api_group_begin(service, db, &run_group), ERR_OK);
    ck_assert_int_eq(post_model("g/two"), 201);
    api_group_rollback(run_group);
    run_group = NULL;
    ck_assert_uint_eq(n_seen(), 0);
    ck_assert_int_eq(get_model("g", "two"), 404);
    /* the connection is back to one transaction per write */
    ck_assert_int_eq(post_model("g/two"), 201);
    ck_assert_uint_eq(n_seen(), 1);
    ck_assert_int_eq(get_model("g", "two"), 200);
}
END_TEST

/* A request as the writer sees it: posts a model, or (the gate) waits until the
 * test has queued everything behind it, so those arrive together. */
struct job {
    struct writer_job job;
    const char *id; /* NULL: the gate */
    int fail_runs;  /* runs that answer 500 after writing (a storage failure) */
    struct api_write_state write_state;
    int runs;
    int status;
    int done_order;
};

static sem_t gate, gate_running, all_done;
static int n_done;

static int run_job(void *arg, struct db *db, struct api_group *group)
{
    struct job *j = arg;

    j->runs++;
    if (j->id == NULL) {
        sem_post(&gate_running);
        sem_wait(&gate);
        return j->status = 200;
    }
    run_db = db;
    run_group = group;
    run_write_state = &j->write_state;
    j->status = post_model(j->id);
    run_db = NULL;
    run_group = NULL;
    run_write_state = NULL;
    if (j->runs <= j->fail_runs)
        j->status = 500;
    return j->status;
}

static void job_refuse(void *arg, enum err rc)
{
    struct job *j = arg;

    j->status = err_http_status(rc);
}

static void job_done(void *arg)
{
    struct job *j = arg;

    j->done_order = ++n_done;
    sem_post(&all_done);
}

/* Queues the gate, and once the writer runs it (alone) queues jobs[0..n), releases
 * the gate and waits for every answer. */
static void run_through_writer(struct job *jobs, size_t n)
{
    struct writer *w = NULL;
    struct job gate_job = {.job = {.run = run_job, .done = job_done}};

    sem_init(&gate, 0, 0);
    sem_init(&gate_running, 0, 0);
    sem_init(&all_done, 0, 0);
    n_done = 0;
    gate_job.job.arg = &gate_job;
    ck_assert_int_eq(writer_start(service, 256, &w), ERR_OK);
    ck_assert(writer_submit(w, &gate_job.job));
    sem_wait(&gate_running);
    for (size_t i = 0; i < n; i++) {
        jobs[i].job.run = run_job;
        jobs[i].job.done = job_done;
        jobs[i].job.refuse = job_refuse;
        jobs[i].job.arg = &jobs[i];
        ck_assert(writer_submit(w, &jobs[i].job));
    }
    sem_post(&gate);
    for (size_t i = 0; i <= n; i++)
        sem_wait(&all_done);
    writer_stop(w);
    sem_destroy(&gate);
    sem_destroy(&gate_running);
    sem_destroy(&all_done);
}

START_TEST(the_writer_commits_writes_that_arrive_together_as_one_group)
{
    struct job jobs[5] = {
        {.id = "w/a"}, {.id = "w/b"}, {.id = "w/a"}, {.id = "w/c"}, {.id = "w/d"}};
    struct db_write_batches before, after;

    db_write_batches(&before);
    run_through_writer(jobs, 5);
    db_write_batches(&after);
    ck_assert_uint_eq(after.count - before.count, 1);   /* one commit ... */
    ck_assert_uint_eq(after.writes - before.writes, 4); /* ... of four writes */
    ck_assert_int_eq(jobs[2].status, 409);
    for (size_t i = 0; i < 5; i++) {
        ck_assert_int_eq(jobs[i].runs, 1);
        ck_assert_int_eq(jobs[i].done_order, (int)i + 2); /* in order, after the gate */
    }
    ck_assert_uint_eq(n_seen(), 4);
}
END_TEST

START_TEST(the_writer_runs_a_failed_group_again_request_by_request)
{
    struct job jobs[3] = {{.id = "f/a"}, {.id = "f/b", .fail_runs = 1}, {.id = "f/c"}};
    struct db_write_batches before, after;

    db_write_batches(&before);
    run_through_writer(jobs, 3);
    db_write_batches(&after);
    /* The group ran a and b, b failed: both rolled back (b's own write too, or its
     * second run would be 409), then a, b and c ran one transaction each. */
    ck_assert_int_eq(jobs[0].runs, 2);
    ck_assert_int_eq(jobs[1].runs, 2);
    ck_assert_int_eq(jobs[2].runs, 1);
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq(jobs[i].status, 201);
    ck_assert_uint_eq(after.count - before.count, 3);
    ck_assert_uint_eq(after.writes - before.writes, 3);
    ck_assert_int_eq(get_model("f", "a"), 200);
    ck_assert_int_eq(get_model("f", "c"), 200);
    ck_assert_uint_eq(n_seen(), 3); /* the failed group's changes were never told */
}
END_TEST

/* Opens the service again on the same database with a write rate budget. */
static void reopen_with_rate(double per_second, double burst)
{
    struct api_config config = {
        .busy_timeout_ms = 1000, .write_rate_per_s = per_second, .write_burst = burst};
    char path[128], why[512] = "";

    api_service_destroy(service);
    snprintf(path, sizeof path, "%s/api.db", dir);
    config.db_path = path;
    ck_assert_msg(api_service_create(&config, &service, why, sizeof why) == ERR_OK, "%s", why);
    n_seen_before = 0;
}

START_TEST(a_group_run_again_takes_each_write_from_the_rate_budget_once)
{
    struct job jobs[2] = {{.id = "r/a"}, {.id = "r/b", .fail_runs = 1}};

    /* Three writes at once, then one every 1000 s: none comes back during the test. */
    reopen_with_rate(0.001, 3);
    run_through_writer(jobs, 2);
    /* The group ran a and b, b failed, and both ran again alone: two writes, and
     * two taken from the budget, not four. */
    ck_assert_int_eq(jobs[0].runs, 2);
    ck_assert_int_eq(jobs[1].runs, 2);
    ck_assert_int_eq(jobs[0].status, 201);
    ck_assert_int_eq(jobs[1].status, 201);
    ck_assert_int_eq(post_model("r/c"), 201); /* the budget's third write */
    ck_assert_int_eq(post_model("r/d"), 429); /* and it is spent */
}
END_TEST

START_TEST(a_group_that_cannot_begin_is_refused_503_after_one_busy_wait)
{
    struct job jobs[3] = {{.id = "l/a"}, {.id = "l/b"}, {.id = "l/c"}};
    struct db_options options = {.busy_timeout_ms = 50};
    struct db *other = NULL;
    char path[128], why[256];

    /* Another process's transaction holds the database for longer than the
     * service's busy timeout (1 s). */
    snprintf(path, sizeof path, "%s/api.db", dir);
    options.path = path;
    ck_assert_int_eq(db_open(&options, &other, why, sizeof why), ERR_OK);
    ck_assert_int_eq(db_write_begin(other), ERR_OK);
    run_through_writer(jobs, 3);
    db_write_rollback(other);
    db_close(other);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(jobs[i].status, 503);
        ck_assert_int_eq(jobs[i].runs, 0); /* answered without running */
    }
    ck_assert_uint_eq(n_seen(), 0);
    ck_assert_int_eq(post_model("l/a"), 201); /* the lock is gone: writes go on */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api_changes");
    TCase *tc = tcase_create("changes");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, each_write_path_reports_its_change_after_commit);
    tcase_add_test(tc, refused_and_replayed_writes_report_nothing);
    tcase_add_test(tc, a_group_keeps_accepted_writes_undoes_a_refused_one_and_reports_after_commit);
    tcase_add_test(tc, a_rolled_back_group_leaves_nothing_and_reports_nothing);
    tcase_add_test(tc, the_writer_commits_writes_that_arrive_together_as_one_group);
    tcase_add_test(tc, the_writer_runs_a_failed_group_again_request_by_request);
    tcase_add_test(tc, a_group_that_cannot_begin_is_refused_503_after_one_busy_wait);
    tcase_add_test(tc, a_group_run_again_takes_each_write_from_the_rate_budget_once);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
