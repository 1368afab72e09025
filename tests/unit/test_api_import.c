/* SPDX-License-Identifier: Apache-2.0 */
/* `carbontree import` without the command line: api_cli_import on a file mixing
 * valid lines, a merge, a Hub card, a parent that comes later, malformed JSON, a
 * duplicate id and an unknown field. Checks the exact counts and reasons, then
 * that every imported model's footprint equals the one the API computes for the
 * same models registered through POST requests. */
#include "api.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADMIN  "unit-test-admin-token-0123456789"
#define BEARER "Bearer " ADMIN

static char dir[64];

/* Line numbers are those of the file: line 10 is blank and is not counted. */
static const char *const lines[] = {
    /* 1 */ "{\"id\":\"acme/base\",\"parameters\":7000000000,\"task\":\"text-generation\","
            "\"activities\":[{\"kind\":\"training\",\"co2e_kg\":1000,\"energy_kwh\":5000}],"
            "\"inferences\":100}",
    /* 2 */
    "{\"id\":\"acme/ft\",\"parents\":[{\"id\":\"acme/base\",\"relation\":\"finetune\"}],"
    "\"inferences\":50,\"activities\":[{\"kind\":\"fine_tuning\",\"co2e_kg\":{\"value\":"
    "20,\"low\":10,\"high\":40}}]}",
    /* 3 */
    "{\"id\":\"acme/card\",\"base_model\":\"acme/ft\",\"base_model_relation\":\"adapter\","
    "\"co2_eq_emissions\":{\"emissions\":2500,\"training_type\":\"fine-tuning\"}}",
    /* 4 */ "{\"id\":\"other/base2\",\"activities\":[{\"kind\":\"training\",\"co2e_kg\":300}]}",
    /* 5 */
    "{\"id\":\"acme/merged\",\"parents\":[{\"id\":\"acme/ft\",\"relation\":\"merge\"},"
    "{\"id\":\"other/base2\",\"relation\":\"merge\"}],\"inferences\":7}",
    /* 6 */ "{\"id\":\"acme/early\",\"parents\":[{\"id\":\"acme/late\"}]}",
    /* 7 */ "{\"id\":\"acme/late\",\"base_model\":\"acme/merged\"}",
    /* 8 */ "{\"id\": \"acme/broken\",",
    /* 9 */ "{\"id\":\"acme/ft\"}",
    /* 10 */ "",
    /* 11 */ "{\"id\":\"acme/x\",\"colour\":\"red\"}",
    /* 12 */ "{\"id\":\"acme/neg\",\"inferences\":-3}",
};
#define N_LINES (sizeof lines / sizeof lines[0])

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/carbontree-import-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void write_file(const char *path)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    for (size_t i = 0; i < N_LINES; i++)
        fprintf(f, "%s\n", lines[i]);
    ck_assert_int_eq(fclose(f), 0);
}

/* Runs the import of path into db_path with a tiny batch, so that refused lines
 * fall inside and across batches. The report is returned (malloc'd). */
static enum err run_import(const char *path, const char *db_path, struct api_import_summary *sum,
                           char **report)
{
    struct api_config config = {.db_path = db_path, .busy_timeout_ms = 1000};
    size_t report_len = 0;
    FILE *out = open_memstream(report, &report_len);
    char why[512] = "";
    enum err rc;

    ck_assert_ptr_nonnull(out);
    rc = api_cli_import(&config, path, 3, out, NULL, sum, why, sizeof why);
    ck_assert_int_eq(fclose(out), 0);
    return rc;
}

START_TEST(import_counts_and_reasons_are_exact)
{
    struct api_import_summary sum;
    char path[128], db_path[128], *report = NULL;

    snprintf(path, sizeof path, "%s/models.jsonl", dir);
    snprintf(db_path, sizeof db_path, "%s/import.db", dir);
    write_file(path);
    ck_assert_int_eq(run_import(path, db_path, &sum, &report), ERR_OK);
    ck_assert_int_eq(sum.line_number, 12);
    ck_assert_int_eq(sum.n_lines, 11);
    ck_assert_int_eq(sum.n_imported, 7);
    ck_assert_int_eq(sum.n_created, 6);
    ck_assert_int_eq(sum.n_updated, 1); /* line 9 names acme/ft again, without its task */
    ck_assert_int_eq(sum.n_unchanged, 0);
    ck_assert_int_eq(sum.n_refused, 4);
    ck_assert_str_eq(
        report, "line 6: /parents/0/id: unknown parent model 'acme/late'\n"
                "line 8: malformed JSON at column 21: string or '}' expected near end of file\n"
                "line 11: /colour: unknown field 'colour'; allowed fields: id, parents, "
                "base_model, base_model_relation, co2_eq_emissions, task, license, url, "
                "parameters, activities, inferences\n"
                "line 12: /inferences: must not be negative\n");
    free(report);
}
END_TEST

START_TEST(missing_file_is_an_io_error)
{
    struct api_import_summary sum;
    char db_path[128], *report = NULL;

    snprintf(db_path, sizeof db_path, "%s/import.db", dir);
    ck_assert_int_eq(run_import("/nonexistent/models.jsonl", db_path, &sum, &report), ERR_IO);
    free(report);
}
END_TEST

/* Calls handler; returns the HTTP status and (when body_out) the JSON answer. */
static int call(struct api_service *s, api_handler_fn handler, const char *method, const char *body,
                const char *ns, const char *name, const char *key, const char *query_policy,
                char **body_out)
{
    struct api_request req;
    struct api_reply reply;
    json_error_t error;
    json_t *json = body ? json_loads(body, JSON_REJECT_DUPLICATES, &error) : NULL;
    enum err rc;
    int status;

    memset(&req, 0, sizeof req);
    ck_assert_int_eq(api_service_connection(s, &req.db), ERR_OK);
    req.method = method;
    req.path = "/unit";
    req.request_id = "unit";
    req.body = json;
    req.idempotency_key = key;
    req.authorization = BEARER;
    req.n_authorization = 1;
    if (ns) {
        req.params[0] = ns;
        req.params[1] = name;
        req.n_params = 2;
    }
    if (query_policy) {
        req.query[0].key = "policy";
        req.query[0].value = query_policy;
        req.n_query = 1;
    }
    api_reply_init(&reply);
    rc = handler(s, &req, &reply);
    status = rc == ERR_OK ? reply.status : err_http_status(rc);
    /* Footprints come serialised already (raw); other answers as JSON. */
    if (body_out && reply.json)
        *body_out = json_dumps(reply.json, JSON_SORT_KEYS | JSON_COMPACT);
    else if (body_out)
        *body_out = reply.raw ? strndup(reply.raw, reply.raw_len) : NULL;
    api_reply_cleanup(&reply);
    json_decref(json);
    return status;
}

static struct api_service *open_service(const char *db_path)
{
    struct api_config config = {
        .db_path = db_path, .busy_timeout_ms = 1000, .auto_migrate = true, .admin_token = ADMIN};
    struct api_service *s = NULL;
    char why[512] = "";

    ck_assert_msg(api_service_create(&config, &s, why, sizeof why) == ERR_OK, "%s", why);
    return s;
}

/* Registers one accepted line through the API as a client would: the model, then
 * its activities, then its inferences. */
static void post_line(struct api_service *s, const char *text, int n)
{
    json_t *line = json_loads(text, 0, NULL);
    json_t *model = json_deep_copy(line);
    const json_t *activities = json_object_get(line, "activities");
    const json_t *inferences = json_object_get(line, "inferences");
    char ns[100], name[100], key[32], *body;
    const char *id = json_string_value(json_object_get(line, "id"));

    ck_assert_ptr_nonnull(line);
    ck_assert_int_eq(sscanf(id, "%99[^/]/%99s", ns, name), 2);
    json_object_del(model, "activities");
    json_object_del(model, "inferences");
    body = json_dumps(model, 0);
    ck_assert_int_eq(call(s, api_models_post, "POST", body, NULL, NULL, NULL, NULL, NULL), 201);
    free(body);
    for (size_t i = 0; i < json_array_size(activities); i++) {
        body = json_dumps(json_array_get(activities, i), 0);
        ck_assert_int_eq(call(s, api_activities_post, "POST", body, ns, name, NULL, NULL, NULL),
                         201);
        free(body);
    }
    if (inferences) {
        char count[64];
        snprintf(count, sizeof count, "{\"count\":%lld}",
                 (long long)json_integer_value(inferences));
        snprintf(key, sizeof key, "import-test-%d", n);
        ck_assert_int_eq(call(s, api_inferences_post, "POST", count, ns, name, key, NULL, NULL),
                         200);
    }
    json_decref(model);
    json_decref(line);
}

START_TEST(imported_footprints_equal_the_api_s)
{
    static const char *const accepted[] = {"acme/base",   "acme/ft",     "acme/card",
                                           "other/base2", "acme/merged", "acme/late"};
    static const int accepted_lines[] = {0, 1, 2, 3, 4, 6};
    static const char *const policies[] = {"usage", "equal", "none", NULL};
    struct api_import_summary sum;
    struct api_service *imported, *posted;
    char path[128], db_a[128], db_b[128], *report = NULL;

    snprintf(path, sizeof path, "%s/models.jsonl", dir);
    snprintf(db_a, sizeof db_a, "%s/import.db", dir);
    snprintf(db_b, sizeof db_b, "%s/api.db", dir);
    write_file(path);
    ck_assert_int_eq(run_import(path, db_a, &sum, &report), ERR_OK);
    free(report);
    imported = open_service(db_a);
    posted = open_service(db_b);
    for (size_t i = 0; i < 6; i++)
        post_line(posted, lines[accepted_lines[i]], (int)i);
    for (size_t i = 0; i < 6; i++) {
        char ns[100], name[100];
        ck_assert_int_eq(sscanf(accepted[i], "%99[^/]/%99s", ns, name), 2);
        for (const char *const *p = policies; *p; p++) {
            char *a = NULL, *b = NULL;
            int status_a = call(imported, api_footprint_get, "GET", NULL, ns, name, NULL, *p, &a);
            int status_b = call(posted, api_footprint_get, "GET", NULL, ns, name, NULL, *p, &b);
            ck_assert_int_eq(status_a, status_b);
            ck_assert_msg(a && b && strcmp(a, b) == 0, "%s %s:\nimport %s\napi    %s", accepted[i],
                          *p, a ? a : "(null)", b ? b : "(null)");
            free(a);
            free(b);
        }
    }
    api_service_destroy(imported);
    api_service_destroy(posted);
}
END_TEST

static Suite *import_suite(void)
{
    Suite *s = suite_create("api_import");
    TCase *tc = tcase_create("import");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, import_counts_and_reasons_are_exact);
    tcase_add_test(tc, missing_file_is_an_io_error);
    tcase_add_test(tc, imported_footprints_equal_the_api_s);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(import_suite());
    int failed;

    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
