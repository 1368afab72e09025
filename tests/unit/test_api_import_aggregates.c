/* SPDX-License-Identifier: Apache-2.0 */
/* The state a bulk import leaves: every maintained aggregate (each model's family
 * sums by kind, members, inferences and is_root; each namespace's totals) equals
 * the one the same lines leave when registered one by one through the API, and
 * an import killed with SIGKILL leaves an intact database whose aggregates equal
 * a recomputation from the rows it holds. */
#include "api.h"
#include "db.h"

#include <check.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ADMIN  "unit-test-admin-token-0123456789"
#define BEARER "Bearer " ADMIN

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/carbontree-import-agg-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static uint64_t rng_state;

static uint32_t rng(void)
{
    rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(rng_state >> 33);
}

/* A family as `carbontree import` lines, like bench/gen_family.py's: a few bases
 * with a training activity, fine-tunes of fine-tunes (depth at most 8), adapters
 * and quantized copies, merges of two models, Hub cards (base_model and
 * co2_eq_emissions in grams), fine-tuning activities with ranges, and inference
 * counts. Parents always come first, so that every line creates one model. */
static void write_family(const char *path, int n)
{
    static const char *const relations[] = {"finetune", "finetune", "adapter", "quantized"};
    int *depth = calloc((size_t)n, sizeof *depth);
    int *open = calloc((size_t)n, sizeof *open);
    int n_open = 0;
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(depth);
    ck_assert_ptr_nonnull(open);
    rng_state = 15;
    for (int i = 0; i < n; i++) {
        fprintf(f, "{\"id\":\"ns-%d/m-%d\",\"task\":\"text-generation\"", i % 5, i);
        if (i < 3 || rng() % 200 == 0) {
            fprintf(f,
                    ",\"parameters\":7000000000,\"activities\":[{\"kind\":\"training\","
                    "\"energy_kwh\":%u.5,\"co2e_kg\":%u.3}]",
                    10000 + rng() % 90000, 5000 + rng() % 50000);
            depth[i] = 0;
        } else {
            int a = open[rng() % (unsigned)n_open], b = open[rng() % (unsigned)n_open];
            uint32_t r = rng() % 100;
            if (r < 3 && a != b) {
                fprintf(f,
                        ",\"parents\":[{\"id\":\"ns-%d/m-%d\",\"relation\":\"merge\"},"
                        "{\"id\":\"ns-%d/m-%d\",\"relation\":\"merge\"}]",
                        a % 5, a, b % 5, b);
                depth[i] = 1 + (depth[a] > depth[b] ? depth[a] : depth[b]);
            } else if (r < 15) {
                fprintf(f,
                        ",\"base_model\":\"ns-%d/m-%d\",\"base_model_relation\":\"%s\","
                        "\"co2_eq_emissions\":{\"emissions\":%u.7,\"source\":\"codecarbon\","
                        "\"training_type\":\"fine-tuning\"}",
                        a % 5, a, relations[rng() % 4], 10 + rng() % 900000);
                depth[i] = depth[a] + 1;
            } else {
                fprintf(f, ",\"parents\":[{\"id\":\"ns-%d/m-%d\",\"relation\":\"%s\"}]", a % 5, a,
                        relations[rng() % 4]);
                depth[i] = depth[a] + 1;
            }
            if (rng() % 100 < 8)
                fprintf(f,
                        ",\"activities\":[{\"kind\":\"fine_tuning\",\"co2e_kg\":{\"value\":%u.25,"
                        "\"low\":%u.125,\"high\":%u.5}}]",
                        20 + rng() % 100, 1 + rng() % 19, 200 + rng() % 100);
        }
        if (rng() % 100 < 30)
            fprintf(f, ",\"inferences\":%u", 1 + rng() % 1000000);
        fputs("}\n", f);
        if (depth[i] < 8)
            open[n_open++] = i;
    }
    ck_assert_int_eq(fclose(f), 0);
    free(depth);
    free(open);
}

static enum err run_import(const char *path, const char *db_path, size_t batch,
                           struct api_import_summary *sum)
{
    struct api_config config = {.db_path = db_path, .busy_timeout_ms = 5000};
    FILE *out = fopen("/dev/null", "w");
    char why[512] = "";
    enum err rc;

    ck_assert_ptr_nonnull(out);
    rc = api_cli_import(&config, path, batch, out, NULL, sum, why, sizeof why);
    fclose(out);
    ck_assert_msg(rc == ERR_OK, "%s", why);
    return rc;
}

/* Calls a write handler with body; returns the HTTP status. */
static int call(struct api_service *s, api_handler_fn handler, const char *body, const char *ns,
                const char *name, const char *key)
{
    struct api_request req;
    struct api_reply reply;
    json_t *json = json_loads(body, JSON_REJECT_DUPLICATES, NULL);
    enum err rc;
    int status;

    memset(&req, 0, sizeof req);
    ck_assert_ptr_nonnull(json);
    ck_assert_int_eq(api_service_connection(s, &req.db), ERR_OK);
    req.method = "POST";
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
    api_reply_init(&reply);
    rc = handler(s, &req, &reply);
    status = rc == ERR_OK ? reply.status : err_http_status(rc);
    api_reply_cleanup(&reply);
    json_decref(json);
    return status;
}

/* Registers one line as a client would: the model, its activities, its inferences. */
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
    ck_assert_int_eq(call(s, api_models_post, body, NULL, NULL, NULL), 201);
    free(body);
    for (size_t i = 0; i < json_array_size(activities); i++) {
        body = json_dumps(json_array_get(activities, i), 0);
        ck_assert_int_eq(call(s, api_activities_post, body, ns, name, NULL), 201);
        free(body);
    }
    if (inferences) {
        char count[64];
        snprintf(count, sizeof count, "{\"count\":%lld}",
                 (long long)json_integer_value(inferences));
        snprintf(key, sizeof key, "agg-test-%d", n);
        ck_assert_int_eq(call(s, api_inferences_post, count, ns, name, key), 200);
    }
    json_decref(model);
    json_decref(line);
}

static struct api_service *open_service(const char *db_path)
{
    struct api_config config = {
        .db_path = db_path, .busy_timeout_ms = 5000, .auto_migrate = true, .admin_token = ADMIN};
    struct api_service *s = NULL;
    char why[512] = "";

    ck_assert_msg(api_service_create(&config, &s, why, sizeof why) == ERR_OK, "%s", why);
    return s;
}

/* Folds every increment still pending, as a server does at start-up: the ancestors'
 * family sums and the totals then hold what a recomputation gives. */
static void fold_all(const char *db_path)
{
    struct db_options options = {.path = db_path, .busy_timeout_ms = 5000};
    struct db *db = NULL;
    char why[256] = "";

    ck_assert_msg(db_open(&options, &db, why, sizeof why) == ERR_OK, "open: %s", why);
    ck_assert_int_eq(db_fold_commit(db, 0, NULL), ERR_OK);
    db_close(db);
}

static int64_t query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    int64_t value;

    ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
    value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return value;
}

/* Every ledger column that a write maintains, by model id rather than by key (keys
 * may be handed out in another order). */
#define LEDGER_ROWS(schema)                                                                        \
    "SELECT m.namespace, m.name, m.depth, l.own_co2e_kg, l.own_co2e_kg_low, l.own_co2e_kg_high, "  \
    "l.lineage_kwh, l.lineage_kwh_low, l.lineage_kwh_high, l.training_kwh, l.training_kwh_low, "   \
    "l.training_kwh_high, l.n_activities, l.inferences, l.descendants, l.descendant_inferences, "  \
    "l.family_training_co2e_kg, l.family_training_co2e_kg_low, l.family_training_co2e_kg_high, "   \
    "l.family_fine_tuning_co2e_kg, l.family_fine_tuning_co2e_kg_low, "                             \
    "l.family_fine_tuning_co2e_kg_high, l.family_other_co2e_kg, l.family_other_co2e_kg_low, "      \
    "l.family_other_co2e_kg_high, l.family_co2e_kg, l.is_root FROM " schema ".models m "           \
    "JOIN " schema ".model_ledger l ON l.model_id = m.id"

static const char ledger_a_not_b[] =
    "SELECT count(*) FROM (" LEDGER_ROWS("main") " EXCEPT " LEDGER_ROWS("b") ")";
static const char ledger_b_not_a[] =
    "SELECT count(*) FROM (" LEDGER_ROWS("b") " EXCEPT " LEDGER_ROWS("main") ")";
static const char totals_a_not_b[] =
    "SELECT count(*) FROM (SELECT * FROM main.ledger_totals EXCEPT SELECT * FROM b.ledger_totals)";
static const char totals_b_not_a[] =
    "SELECT count(*) FROM (SELECT * FROM b.ledger_totals EXCEPT SELECT * FROM main.ledger_totals)";

START_TEST(imported_aggregates_equal_the_api_s)
{
    struct api_import_summary sum;
    struct api_service *posted;
    char path[128], db_a[128], db_b[128], attach[200], line[4096];
    sqlite3 *db = NULL;
    FILE *f;
    int n = 0;

    snprintf(path, sizeof path, "%s/family.jsonl", dir);
    snprintf(db_a, sizeof db_a, "%s/import.db", dir);
    snprintf(db_b, sizeof db_b, "%s/api.db", dir);
    write_family(path, 240);
    run_import(path, db_a, 0, &sum);
    ck_assert_int_eq(sum.n_created, 240);
    ck_assert_int_eq(sum.n_refused, 0);
    posted = open_service(db_b);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof line, f))
        post_line(posted, line, n++);
    fclose(f);
    api_service_destroy(posted);
    fold_all(db_a);
    fold_all(db_b);

    ck_assert_int_eq(sqlite3_open(db_a, &db), SQLITE_OK);
    snprintf(attach, sizeof attach, "ATTACH '%s' AS b", db_b);
    ck_assert_int_eq(sqlite3_exec(db, attach, NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(query_int(db, "SELECT count(*) FROM main.models"), 240);
    ck_assert_int_eq(query_int(db, "SELECT count(*) FROM b.models"), 240);
    /* Exact: both ways add the same figures in the same order. */
    ck_assert_int_eq(query_int(db, ledger_a_not_b), 0);
    ck_assert_int_eq(query_int(db, ledger_b_not_a), 0);
    ck_assert_int_eq(query_int(db, totals_a_not_b), 0);
    ck_assert_int_eq(query_int(db, totals_b_not_a), 0);
    ck_assert_int_eq(query_int(db, "SELECT count(*) FROM main.ledger_totals"), 6);
    sqlite3_close(db);
}
END_TEST

/* Ledger rows whose maintained figures differ from a recomputation from the
 * closure, the activities and the counts (sums of reals within a relative 1e-9:
 * a recomputation adds them in another order). */
static const char recomputed_mismatches[] =
    "WITH r AS (SELECT l.model_id, "
    "  (SELECT count(*) FROM model_closure c WHERE c.ancestor_id = l.model_id) AS descendants, "
    "  (SELECT coalesce(sum(d.inferences), 0) FROM model_closure c "
    "   JOIN model_ledger d ON d.model_id = c.descendant_id WHERE c.ancestor_id = l.model_id) "
    "   AS descendant_inferences, "
    "  (SELECT total(iif(a.kind = 'training', a.co2e_kg, 0)) FROM model_closure c "
    "   JOIN activities a ON a.model_id = c.descendant_id WHERE c.ancestor_id = l.model_id) AS t, "
    "  (SELECT total(iif(a.kind = 'fine_tuning', a.co2e_kg_high, 0)) FROM model_closure c "
    "   JOIN activities a ON a.model_id = c.descendant_id WHERE c.ancestor_id = l.model_id) AS fh, "
    "  (SELECT total(a.co2e_kg) FROM model_closure c "
    "   JOIN activities a ON a.model_id = c.descendant_id WHERE c.ancestor_id = l.model_id) AS f, "
    "  (SELECT depth = 0 FROM models WHERE id = l.model_id) AS is_root "
    "  FROM model_ledger l) "
    "SELECT count(*) FROM model_ledger l JOIN r ON r.model_id = l.model_id "
    "WHERE l.descendants <> r.descendants OR l.descendant_inferences <> r.descendant_inferences "
    "   OR l.is_root <> r.is_root "
    "   OR abs(l.family_training_co2e_kg - r.t) > 1e-9 * max(1, abs(r.t)) "
    "   OR abs(l.family_fine_tuning_co2e_kg_high - r.fh) > 1e-9 * max(1, abs(r.fh)) "
    "   OR abs(l.family_co2e_kg - r.f) > 1e-9 * max(1, abs(r.f))";

/* Namespace totals that differ from a recomputation ('' is the whole ledger). */
static const char totals_mismatches[] =
    "WITH r AS (SELECT t.namespace, "
    "  (SELECT count(*) FROM models m WHERE t.namespace = '' OR m.namespace = t.namespace) AS n, "
    "  (SELECT coalesce(sum(m.depth = 0), 0) FROM models m "
    "   WHERE t.namespace = '' OR m.namespace = t.namespace) AS families, "
    "  (SELECT coalesce(sum(l.inferences), 0) FROM models m JOIN model_ledger l "
    "   ON l.model_id = m.id WHERE t.namespace = '' OR m.namespace = t.namespace) AS inferences, "
    "  (SELECT total(a.co2e_kg) FROM activities a JOIN models m ON m.id = a.model_id "
    "   WHERE t.namespace = '' OR m.namespace = t.namespace) AS co2e "
    "  FROM ledger_totals t) "
    "SELECT count(*) FROM ledger_totals t JOIN r ON r.namespace = t.namespace "
    "WHERE t.models <> r.n OR t.families <> r.families OR t.inferences <> r.inferences "
    "   OR abs(t.training_co2e_kg + t.fine_tuning_co2e_kg + t.other_co2e_kg - r.co2e) "
    "      > 1e-9 * max(1, r.co2e)";

START_TEST(an_import_killed_midway_leaves_consistent_aggregates)
{
    struct api_import_summary sum;
    char path[128], db_path[128], result[64] = "";
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    int64_t models = 0;
    int status = 0;
    pid_t child;

    snprintf(path, sizeof path, "%s/family.jsonl", dir);
    snprintf(db_path, sizeof db_path, "%s/import.db", dir);
    write_family(path, 40000);
    child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        run_import(path, db_path, 500, &sum);
        _exit(0);
    }
    /* Killed once a few batches are committed, in the middle of another. */
    for (int i = 0; i < 6000 && models < 1500; i++) {
        struct timespec pause = {0, 10 * 1000 * 1000};
        if (db == NULL && access(db_path, F_OK) == 0 &&
            sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK)
            sqlite3_busy_timeout(db, 5000);
        if (db != NULL &&
            sqlite3_prepare_v2(db, "SELECT count(*) FROM models", -1, &stmt, NULL) == SQLITE_OK &&
            sqlite3_step(stmt) == SQLITE_ROW)
            models = sqlite3_column_int64(stmt, 0);
        sqlite3_finalize(stmt);
        stmt = NULL;
        nanosleep(&pause, NULL);
    }
    sqlite3_close(db);
    db = NULL;
    kill(child, SIGKILL);
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert_msg(WIFSIGNALED(status), "the import ended before it could be killed");
    fold_all(db_path);

    ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
    snprintf(result, sizeof result, "%s", (const char *)sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    ck_assert_str_eq(result, "ok");
    models = query_int(db, "SELECT count(*) FROM models");
    ck_assert_int_ge(models, 1500);
    ck_assert_int_lt(models, 40000);
    ck_assert_int_eq(models % 500, 0); /* whole batches, each line one model */
    ck_assert_int_eq(query_int(db, "SELECT count(*) FROM model_ledger"), models);
    ck_assert_int_eq(query_int(db, recomputed_mismatches), 0);
    ck_assert_int_eq(query_int(db, totals_mismatches), 0);
    sqlite3_close(db);
}
END_TEST

static Suite *import_aggregates_suite(void)
{
    Suite *s = suite_create("api_import_aggregates");
    TCase *tc = tcase_create("aggregates");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, imported_aggregates_equal_the_api_s);
    tcase_add_test(tc, an_import_killed_midway_leaves_consistent_aggregates);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(import_aggregates_suite());
    int failed;

    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
