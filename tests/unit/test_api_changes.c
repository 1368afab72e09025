/* The api layer without sockets: every write path reports what it changed to one
 * place (api/changes.c) after its commit, and nothing for a refused or replayed
 * request. */
#include "api.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADMIN "unit-test-admin-token-0123456789"

static char dir[64];
static struct api_service *service;
static struct api_change seen[16];
static size_t n_seen;

static void observe(void *ctx, const struct api_change *change)
{
    (void)ctx;
    if (n_seen < 16)
        seen[n_seen++] = *change;
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
    n_seen = 0;
    api_changes_subscribe(service, observe, NULL);
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
    ck_assert_uint_eq(n_seen, 7);
    ck_assert_int_eq(seen[0].kind, API_CHANGE_MODEL_ADDED);
    ck_assert_str_eq(seen[0].model.name, "base");
    ck_assert_int_eq(seen[2].kind, API_CHANGE_ACTIVITY_ADDED); /* the card's emissions */
    ck_assert_str_eq(seen[2].model.name, "ft");
    ck_assert_int_eq(seen[3].kind, API_CHANGE_INFERENCES);
    ck_assert_int_eq(seen[3].delta, 40);
    ck_assert_int_eq(seen[5].delta, 2);
    ck_assert_int_eq(seen[6].delta, 3);
    api_changes_totals(service, &totals);
    ck_assert_uint_eq(totals.events[API_CHANGE_MODEL_ADDED], 2);
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
    n_seen = 0;
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
    ck_assert_uint_eq(n_seen, 0);
    api_changes_totals(service, &totals);
    ck_assert_uint_eq(totals.inferences, 7);
    ck_assert_uint_eq(totals.events[API_CHANGE_MODEL_DELETED], 0);
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
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
