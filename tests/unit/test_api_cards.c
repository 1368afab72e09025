/* SPDX-License-Identifier: Apache-2.0 */
/* Hub model cards end to end without the HTTP server: front matter read as YAML
 * (numbers as YAML 1.2 reads them, and 24_700_000 too); the real cards of
 * tests/data/cards ingested through POST /v1/models and through `carbontree
 * import` of the folder, with the same database as a result and the expected
 * facts; the same cards imported in shuffled orders giving the same database; a
 * second import of the same file changing nothing.
 *
 * "The same database" is compared through a canonical dump: every table the
 * registry and the ledger keep, rows named by model id instead of storage keys
 * and sorted, without what legitimately differs between two equal histories:
 * storage keys, activity ids, timestamps, and models.version (it counts writes:
 * a placeholder completed later has seen one more). Figures are printed to 12
 * significant digits, since sums taken in another order may differ in the last
 * bit. */
#include "api_internal.h"

#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADMIN  "unit-test-admin-token-0123456789"
#define BEARER "Bearer " ADMIN

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/carbontree-cards-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static json_t *front_matter(const char *text)
{
    char why[256] = "";
    json_t *out = NULL;

    ck_assert_msg(api_front_matter(text, strlen(text), &out, why, sizeof why) == ERR_OK, "%s", why);
    return out;
}

START_TEST(front_matter_is_typed_as_yaml_1_2_reads_it)
{
    json_t *o = front_matter("---\n"
                             "a: 24_700_000\n"
                             "b: 0.0123\n"
                             "c: '42'\n"
                             "d: null\n"
                             "e: ~\n"
                             "f: true\n"
                             "g: yes\n"
                             "h: 1e3\n"
                             "i: [x, 2]\n"
                             "j: 0x1F\n"
                             "k: 1_0.5\n"
                             "l: _1\n"
                             "---\n# prose\n");
    char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);

    /* "yes" is a boolean in YAML 1.1 only: a text in 1.2's core schema. */
    ck_assert_str_eq(text, "{\"a\":24700000,\"b\":0.0123,\"c\":\"42\",\"d\":null,\"e\":null,"
                           "\"f\":true,\"g\":\"yes\",\"h\":1000.0,\"i\":[\"x\",2],\"j\":31,"
                           "\"k\":10.5,\"l\":\"_1\"}");
    free(text);
    json_decref(o);
}
END_TEST

START_TEST(front_matter_errors_say_why)
{
    static const char *const bad[] = {"no front matter\n", "---\na: 1\n", "---\n- a list\n---\n",
                                      "---\na: 1\na: 2\n---\n", "---\na: [1\n---\n"};
    static const char *const why_starts[] = {
        "no front matter", "no front matter", "front matter: the metadata must be a mapping",
        "front matter: key 'a' is given twice", "front matter line"};

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char why[256] = "";
        json_t *out = NULL;
        ck_assert_int_eq(api_front_matter(bad[i], strlen(bad[i]), &out, why, sizeof why),
                         ERR_INVALID_INPUT);
        ck_assert_ptr_null(out);
        ck_assert_msg(strncmp(why, why_starts[i], strlen(why_starts[i])) == 0, "%zu: %s", i, why);
    }
}
END_TEST

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *text = calloc(1, 1 << 20);
    size_t n;

    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(text);
    n = fread(text, 1, (1 << 20) - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static const char *const fixtures[] = {
    "Jerimee/autotrain-dontknowwhatImdoing-980432459",
    "PoseyATX/autotrain-foxhunterirontesting-2874884135",
    "TheBloke/Nous-Capybara-34B-GGUF",
    "TheBloke/Yarn-Mistral-7B-128k-AWQ",
    "mergekit-unknown/Mixtral-8x7B-Instruct-v0.1-LimaRP-ZLoss-DARE-TIES",
    "nicholasKluge/Aira-2-1B1",
    "bert-base-uncased",
};
#define N_FIXTURES (sizeof fixtures / sizeof fixtures[0])

static const char *cards_dir(char *buf, size_t len)
{
    const char *source = getenv("CARBONTREE_SOURCE_DIR");

    snprintf(buf, len, "%s/tests/data/cards", source ? source : ".");
    return buf;
}

/* Fixture i as the JSON card a client sends: the front matter with the id. */
static json_t *fixture_card(size_t i)
{
    char root[512], path[1024];
    char *text;
    json_t *card;

    snprintf(path, sizeof path, "%s/%s/README.md", cards_dir(root, sizeof root), fixtures[i]);
    text = read_text(path);
    card = front_matter(text);
    free(text);
    json_object_set_new(card, "id", json_string(fixtures[i]));
    return card;
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

/* Calls handler with body; returns the status and (when out) the JSON answer. */
static int call(struct api_service *s, api_handler_fn handler, const char *method, json_t *body,
                const char *ns, const char *name, json_t **out)
{
    struct api_request req;
    struct api_reply reply;
    enum err rc;
    int status;

    memset(&req, 0, sizeof req);
    ck_assert_int_eq(api_service_connection(s, &req.db), ERR_OK);
    req.method = method;
    req.path = "/unit";
    req.request_id = "unit";
    req.body = body;
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
    if (out)
        *out = json_incref(reply.json);
    api_reply_cleanup(&reply);
    return status;
}

static enum err run_import(const char *path, const char *db_path, struct api_import_summary *sum,
                           char **report)
{
    struct api_config config = {.db_path = db_path, .busy_timeout_ms = 1000};
    size_t report_len = 0;
    FILE *out = open_memstream(report, &report_len);
    char why[512] = "";
    enum err rc;

    ck_assert_ptr_nonnull(out);
    rc = api_cli_import(&config, path, 4, out, NULL, sum, why, sizeof why);
    ck_assert_int_eq(fclose(out), 0);
    ck_assert_msg(rc == ERR_OK, "%s", why);
    return rc;
}

/* The canonical dump (see the top of the file) of the database at db_path. */
static char *dump(const char *db_path)
{
    static const char *const queries[] = {
        "SELECT namespace || '/' || name, task, license, url, parameters, depth, placeholder "
        "FROM models ORDER BY lower(namespace), lower(name)",
        "SELECT c.namespace || '/' || c.name, e.position, p.namespace || '/' || p.name, "
        "e.relation FROM model_parents e JOIN models c ON c.id = e.child_id "
        "JOIN models p ON p.id = e.parent_id ORDER BY lower(c.namespace), lower(c.name), 2",
        "SELECT a.namespace || '/' || a.name, d.namespace || '/' || d.name FROM model_closure k "
        "JOIN models a ON a.id = k.ancestor_id JOIN models d ON d.id = k.descendant_id "
        "ORDER BY lower(a.namespace), lower(a.name), lower(d.namespace), lower(d.name)",
        "SELECT m.namespace || '/' || m.name, a.kind, a.obtained, a.method, "
        "printf('%.12g %.12g %.12g', a.co2e_kg, a.co2e_kg_low, a.co2e_kg_high), a.inputs, "
        "a.result, a.methodology_version FROM activities a JOIN models m ON m.id = a.model_id "
        "ORDER BY lower(m.namespace), lower(m.name), 2, 5, 6",
        "SELECT m.namespace || '/' || m.name, printf('%.12g %.12g %.12g %.12g %.12g %.12g', "
        "l.own_co2e_kg, l.own_co2e_kg_low, l.own_co2e_kg_high, l.lineage_kwh, l.training_kwh, "
        "l.training_kwh_high), l.n_activities, l.inferences, l.descendants, "
        "l.descendant_inferences FROM model_ledger l JOIN models m ON m.id = l.model_id "
        "ORDER BY lower(m.namespace), lower(m.name)",
        "SELECT m.namespace || '/' || m.name, k.facts, k.activity_id IS NULL, k.relation_given, "
        "k.relation_from, k.is_card, k.ignored, k.location, k.hardware, k.hours, k.source, "
        "k.flags FROM model_cards k "
        "JOIN models m ON m.id = k.model_id ORDER BY lower(m.namespace), lower(m.name)",
    };
    sqlite3 *db = NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    ck_assert_int_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++) {
        sqlite3_stmt *stmt = NULL;
        ck_assert_msg(sqlite3_prepare_v2(db, queries[q], -1, &stmt, NULL) == SQLITE_OK, "%s",
                      sqlite3_errmsg(db));
        fprintf(out, "-- %zu\n", q);
        while (sqlite3_step(stmt) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(stmt); c++) {
                const unsigned char *v = sqlite3_column_text(stmt, c);
                fprintf(out, "%s%s", c ? "|" : "", v ? (const char *)v : "NULL");
            }
            fputc('\n', out);
        }
        sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
    fclose(out);
    return text;
}

static json_t *model_at(struct api_service *s, const char *id)
{
    char ns[100], name[100];
    json_t *out = NULL;

    if (strchr(id, '/') == NULL) { /* a bare id: an empty namespace, as its route passes it */
        ns[0] = '\0';
        snprintf(name, sizeof name, "%s", id);
    } else {
        ck_assert_int_eq(sscanf(id, "%99[^/]/%99s", ns, name), 2);
    }
    ck_assert_int_eq(call(s, api_models_get, "GET", NULL, ns, name, &out), 200);
    return out;
}

static const char *text_at(const json_t *o, const char *a, const char *b)
{
    const json_t *v = json_object_get(o, a);

    if (b)
        v = json_object_get(v, b);
    return json_string_value(v) ? json_string_value(v) : "(none)";
}

/* Fails with the first line where two dumps differ (whole dumps are too long for
 * a Check message). */
static void assert_same_dump(const char *a, const char *b, const char *what)
{
    size_t line = 1, i = 0;
    const char *la = a, *lb = b;

    for (; a[i] && a[i] == b[i]; i++)
        if (a[i] == '\n') {
            line++;
            la = a + i + 1;
            lb = b + i + 1;
        }
    ck_assert_msg(a[i] == b[i], "%s: dumps differ at line %zu:\n%.300s\nagainst\n%.300s", what,
                  line, la, lb);
}

/* What the fixtures must have become, whichever way they came in. */
static void assert_expected_facts(struct api_service *s)
{
    json_t *m;

    m = model_at(s, "TheBloke/Yarn-Mistral-7B-128k-AWQ");
    ck_assert_str_eq(text_at(json_array_get(json_object_get(m, "parents"), 0), "id", NULL),
                     "NousResearch/Yarn-Mistral-7b-128k");
    ck_assert_str_eq(text_at(json_array_get(json_object_get(m, "parents"), 0), "relation", NULL),
                     "quantized");
    ck_assert_str_eq(text_at(json_object_get(m, "card"), "relation", "source"), "inferred");
    ck_assert_str_eq(text_at(json_object_get(m, "card"), "relation", "from"),
                     "repository name (awq)");
    ck_assert_str_eq(text_at(m, "license", NULL), "apache-2.0");
    json_decref(m);
    m = model_at(s, "NousResearch/Yarn-Mistral-7b-128k");
    ck_assert(json_is_true(json_object_get(m, "placeholder")));
    json_decref(m);
    m = model_at(s, "TheBloke/Nous-Capybara-34B-GGUF");
    ck_assert_str_eq(text_at(m, "license", NULL), "mit");
    ck_assert_str_eq(text_at(json_array_get(json_object_get(m, "parents"), 0), "relation", NULL),
                     "quantized");
    json_decref(m);
    m = model_at(s, "mergekit-unknown/Mixtral-8x7B-Instruct-v0.1-LimaRP-ZLoss-DARE-TIES");
    ck_assert_uint_eq(json_array_size(json_object_get(m, "parents")), 0);
    json_decref(m);
    m = model_at(s, "bert-base-uncased");
    ck_assert(json_is_null(json_object_get(m, "namespace")));
    ck_assert_str_eq(text_at(m, "license", NULL), "apache-2.0");
    ck_assert_uint_eq(json_array_size(json_object_get(m, "parents")), 0);
    {
        /* tags are read (for quantization and adapter signs); language and datasets
         * are listed as ignored */
        const json_t *ignored = json_object_get(json_object_get(m, "card"), "ignored");
        char *text = json_dumps(ignored, JSON_COMPACT);
        ck_assert_str_eq(text, "[\"language\",\"datasets\"]");
        free(text);
    }
    json_decref(m);
    m = model_at(s, "nicholasKluge/Aira-2-1B1");
    ck_assert_str_eq(text_at(m, "task", NULL), "text-generation");
    ck_assert_str_eq(
        text_at(json_object_get(m, "card"), "co2_eq_emissions", "geographical_location"),
        "Singapore");
    ck_assert_str_eq(text_at(json_object_get(m, "card"), "co2_eq_emissions", "hardware_used"),
                     "NVIDIA A100-SXM4-40GB");
    ck_assert_str_eq(text_at(json_object_get(m, "card"), "co2_eq_emissions", "source"),
                     "CodeCarbon");
    {
        char *ignored =
            json_dumps(json_object_get(json_object_get(m, "card"), "ignored"), JSON_COMPACT);
        ck_assert_str_eq(ignored, "[\"datasets\",\"language\",\"metrics\",\"widget\","
                                  "\"inference\"]");
        free(ignored);
    }
    json_decref(m);
}

/* The reported activities of fixture id: their number and kg (checked in the dump). */
static void assert_activity(const char *text, const char *id, const char *kind, const char *kg)
{
    char needle[256];

    snprintf(needle, sizeof needle, "\n%s|%s|reported|NULL|%s", id, kind, kg);
    if (strstr(text, needle) == NULL)
        fprintf(stderr, "%s\n", text);
    ck_assert_msg(strstr(text, needle) != NULL, "no %s in the dump (printed above)", needle);
}

START_TEST(real_cards_come_in_alike_through_post_and_import)
{
    char root[512], db_a[128], db_b[128], *report = NULL, *a, *b;
    struct api_import_summary sum;
    struct api_service *posted;

    snprintf(db_a, sizeof db_a, "%s/import.db", dir);
    snprintf(db_b, sizeof db_b, "%s/api.db", dir);
    run_import(cards_dir(root, sizeof root), db_a, &sum, &report);
    /* The only flag: an AutoTrain card's 0.012 g, a pre-training for all it says. */
    ck_assert_str_eq(report, "Jerimee/autotrain-dontknowwhatImdoing-980432459/README.md: flagged "
                             "implausible_figure: 0.0121474 g for a pre-training is below 1 g: "
                             "likely kg or another unit\n");
    free(report);
    ck_assert_int_eq(sum.n_flagged, 1);
    ck_assert_int_eq(sum.n_lines, N_FIXTURES);
    ck_assert_int_eq(sum.n_created, N_FIXTURES);
    ck_assert_int_eq(sum.n_refused, 0);

    posted = open_service(db_b);
    for (size_t i = 0; i < N_FIXTURES; i++) {
        json_t *card = fixture_card(i);
        ck_assert_int_eq(call(posted, api_models_post, "POST", card, NULL, NULL, NULL), 201);
        json_decref(card);
    }
    assert_expected_facts(posted);
    api_service_destroy(posted);
    posted = open_service(db_a);
    assert_expected_facts(posted);
    api_service_destroy(posted);

    a = dump(db_a);
    b = dump(db_b);
    assert_same_dump(a, b, "import against POST");
    /* Grams become kg; fine-tuning as written, a base card's bare figure is training. */
    assert_activity(a, "nicholasKluge/Aira-2-1B1", "fine_tuning", "1.71 1.71 1.71");
    assert_activity(a, "Jerimee/autotrain-dontknowwhatImdoing-980432459", "training",
                    "1.21473985779e-05");
    assert_activity(a, "PoseyATX/autotrain-foxhunterirontesting-2874884135", "training",
                    "0.0254475770643");
    free(a);
    free(b);
}
END_TEST

/* The fixtures as JSON lines, plus a family (chain/...) with an adapter, a merge
 * and a quantization whose card copies its parent's figure, in the file order
 * order[] gives. */
static void write_lines(const char *path, const size_t *order, size_t n)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    for (size_t k = 0; k < n; k++) {
        size_t i = order[k];
        json_t *card;
        char *text;
        if (i < N_FIXTURES) {
            card = fixture_card(i);
        } else {
            static const char *const chain[] = {
                "{\"id\":\"chain/base\",\"co2_eq_emissions\":{\"emissions\":41100000,"
                "\"training_type\":\"pre-training\"}}",
                "{\"id\":\"chain/ft\",\"base_model\":\"chain/base\",\"co2_eq_emissions\":"
                "{\"emissions\":1200}}",
                "{\"id\":\"chain/ft-GGUF\",\"base_model\":\"chain/ft\",\"tags\":[\"gguf\"]}",
                "{\"id\":\"chain/lora\",\"base_model\":\"chain/ft\",\"library_name\":\"peft\","
                "\"co2_eq_emissions\":35}",
                "{\"id\":\"chain/merge\",\"base_model\":[\"chain/lora\",\"chain/ft-GGUF\"]}",
                /* An AWQ card that copies its parent's figure, as they do. */
                "{\"id\":\"chain/ft-AWQ\",\"base_model\":\"chain/ft\",\"quantized_by\":\"x\","
                "\"co2_eq_emissions\":{\"emissions\":1200,\"training_type\":\"fine-tuning\"}}",
            };
            card = json_loads(chain[i - N_FIXTURES], 0, NULL);
        }
        text = json_dumps(card, JSON_COMPACT);
        fprintf(f, "%s\n", text);
        free(text);
        json_decref(card);
    }
    ck_assert_int_eq(fclose(f), 0);
}

START_TEST(shuffled_orders_give_the_same_database)
{
    enum { N = N_FIXTURES + 6, RUNS = 6 };
    size_t order[N];
    char *first = NULL;

    srand(20261203u);
    for (int run = 0; run < RUNS; run++) {
        char path[128], db_path[128], *report = NULL, *text;
        struct api_import_summary sum;
        for (size_t i = 0; i < N; i++)
            order[i] = i;
        if (run == 1) /* reversed: every child before its parent */
            for (size_t i = 0; i < N; i++)
                order[i] = N - 1 - i;
        else if (run > 1)
            for (size_t i = N - 1; i > 0; i--) {
                size_t j = (size_t)rand() % (i + 1), t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        snprintf(path, sizeof path, "%s/cards-%d.jsonl", dir, run);
        snprintf(db_path, sizeof db_path, "%s/cards-%d.db", dir, run);
        write_lines(path, order, N);
        run_import(path, db_path, &sum, &report);
        ck_assert_msg(sum.n_refused == 0, "run %d: %s", run, report);
        ck_assert_int_eq(sum.n_created, N);
        free(report);
        text = dump(db_path);
        if (first == NULL)
            first = text;
        else {
            char what[32];
            snprintf(what, sizeof what, "run %d against run 0", run);
            assert_same_dump(text, first, what);
            free(text);
        }
    }
    free(first);
}
END_TEST

/* The emissions the chain/ family's members report, summed over the family of
 * chain/base: what really happened, the copied figure once. */
static double family_kg(const char *db_path)
{
    static const char sql[] =
        "SELECT sum(l.own_co2e_kg) FROM model_closure k JOIN models b ON b.id = k.ancestor_id "
        "JOIN model_ledger l ON l.model_id = k.descendant_id "
        "WHERE b.namespace = 'chain' AND b.name = 'base'";
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    double kg;

    ck_assert_int_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
    kg = sqlite3_column_double(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return kg;
}

START_TEST(a_copied_figure_counts_once_in_the_family_total)
{
    enum { N = N_FIXTURES + 6 };
    size_t forward[N], backward[N];
    char path[128], db_path[128], *report = NULL;
    struct api_import_summary sum;

    for (size_t i = 0; i < N; i++) {
        forward[i] = i;
        backward[i] = N - 1 - i;
    }
    for (int run = 0; run < 2; run++) {
        snprintf(path, sizeof path, "%s/family-%d.jsonl", dir, run);
        snprintf(db_path, sizeof db_path, "%s/family-%d.db", dir, run);
        write_lines(path, run ? backward : forward, N);
        run_import(path, db_path, &sum, &report);
        /* In file order the AWQ line is flagged as it comes; in reverse its parent
         * comes later and takes the figure back (the dump below keeps the flag). */
        if (run == 0)
            ck_assert_msg(strstr(report, "flagged copied_from_ancestor") != NULL, "%s", report);
        free(report);
        /* 41,100 kg of pre-training, 1.2 kg of fine-tuning, 0.035 kg of adapter:
         * the AWQ card's copied 1.2 kg is not added again. */
        ck_assert_double_eq_tol(family_kg(db_path), 41100 + 1.2 + 0.035, 1e-6);
    }
    {
        char *text = dump(db_path);
        ck_assert_msg(strstr(text, "copied_from_ancestor") != NULL, "no flag");
        free(text);
    }
}
END_TEST

START_TEST(a_second_import_of_the_same_file_changes_nothing)
{
    enum { N = N_FIXTURES + 6 };
    size_t order[N];
    char path[128], db_path[128], root[512], *report = NULL, *before, *after;
    struct api_import_summary sum;

    for (size_t i = 0; i < N; i++)
        order[i] = N - 1 - i;
    snprintf(path, sizeof path, "%s/cards.jsonl", dir);
    snprintf(db_path, sizeof db_path, "%s/cards.db", dir);
    write_lines(path, order, N);
    run_import(path, db_path, &sum, &report);
    free(report);
    before = dump(db_path);
    run_import(path, db_path, &sum, &report);
    ck_assert_str_eq(report, "");
    free(report);
    ck_assert_int_eq(sum.n_created, 0);
    ck_assert_int_eq(sum.n_updated, 0);
    ck_assert_int_eq(sum.n_unchanged, N);
    ck_assert_int_eq(sum.n_refused, 0);
    /* The folder of the same cards is the same cards: nothing changes either. */
    run_import(cards_dir(root, sizeof root), db_path, &sum, &report);
    free(report);
    ck_assert_int_eq(sum.n_unchanged, N_FIXTURES);
    ck_assert_int_eq(sum.n_created + sum.n_updated, 0);
    after = dump(db_path);
    assert_same_dump(before, after, "after a second import");
    free(before);
    free(after);
}
END_TEST

START_TEST(grams_that_look_like_kg_are_in_the_import_report)
{
    char path[128], db_path[128], *report = NULL;
    struct api_import_summary sum;
    FILE *f;

    snprintf(path, sizeof path, "%s/kg.jsonl", dir);
    snprintf(db_path, sizeof db_path, "%s/kg.db", dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"id\":\"kg/big\",\"base_model\":\"kg/base\",\"co2_eq_emissions\":4200000}\n"
          "{\"id\":\"kg/small\",\"base_model\":\"kg/base\",\"co2_eq_emissions\":4200}\n"
          "{\"id\":\"kg/prose\",\"base_model\":[],\"co2_eq_emissions\":12.5,"
          "\"text\":\"We emitted 12.5 kg CO2eq.\"}\n",
          f);
    ck_assert_int_eq(fclose(f), 0);
    run_import(path, db_path, &sum, &report);
    ck_assert_msg(strstr(report, "line 2: flagged implausible_figure: 4200 g is about 1000 "
                                 "times less than the 4.2e+06 g that kg/big"),
                  "%s", report);
    ck_assert_msg(strstr(report, "flagged implausible_figure: 12.5 g is the figure the card's "
                                 "text gives in kg (\"12.5 kg\")"),
                  "%s", report);
    free(report);
    /* a folder of cards: the README under the front matter is the prose */
    snprintf(path, sizeof path, "%s/prose-cards/org/m", dir);
    {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
        ck_assert_int_eq(system(cmd), 0);
    }
    snprintf(path, sizeof path, "%s/prose-cards/org/m/README.md", dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("---\nco2_eq_emissions:\n  emissions: 7.25\n---\n# m\n\nTraining emitted 7.25 kg "
          "CO2eq.\n",
          f);
    ck_assert_int_eq(fclose(f), 0);
    snprintf(path, sizeof path, "%s/prose-cards", dir);
    snprintf(db_path, sizeof db_path, "%s/prose.db", dir);
    run_import(path, db_path, &sum, &report);
    ck_assert_msg(strstr(report, "org/m/README.md: flagged implausible_figure: 7.25 g is the "
                                 "figure the card's text gives in kg"),
                  "%s", report);
    free(report);
}
END_TEST

START_TEST(bare_ids_import_from_a_folder_and_from_model_info)
{
    static const char *const files[][2] = {
        {"gpt2", "---\nlicense: mit\npipeline_tag: text-generation\n---\n# gpt2\n"},
        {"acme/gpt2-chat", "---\nbase_model: gpt2\n---\n"},
        {"acme/bert-tuned", "---\nbase_model: bert-base-uncased\n---\n"},
    };
    char folder[128], path[256], db_path[128], *report = NULL, *d;
    struct api_import_summary sum;
    FILE *f;

    snprintf(folder, sizeof folder, "%s/bare", dir);
    snprintf(db_path, sizeof db_path, "%s/bare.db", dir);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s/%s'", folder, files[i][0]);
        ck_assert_int_eq(system(cmd), 0);
        snprintf(path, sizeof path, "%s/%s/README.md", folder, files[i][0]);
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(files[i][1], f);
        fclose(f);
    }
    run_import(folder, db_path, &sum, &report);
    ck_assert_msg(sum.n_created == 3 && sum.n_refused == 0, "%s", report);
    free(report);
    /* the placeholder bert-base-uncased is completed by its model-info JSON */
    snprintf(path, sizeof path, "%s/info.jsonl", dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"id\":\"bert-base-uncased\",\"cardData\":{\"license\":\"apache-2.0\"}}\n", f);
    fclose(f);
    run_import(path, db_path, &sum, &report);
    ck_assert_msg(sum.n_created + sum.n_updated == 1 && sum.n_refused == 0, "%s", report);
    free(report);
    d = dump(db_path);
    ck_assert_msg(strstr(d, "acme/gpt2-chat|0|/gpt2|finetune") != NULL, "%s", d);
    ck_assert_msg(strstr(d, "acme/bert-tuned|0|/bert-base-uncased|finetune") != NULL, "%s", d);
    ck_assert_msg(strstr(d, "/bert-base-uncased|NULL|apache-2.0|NULL|NULL|0|0") != NULL, "%s", d);
    free(d);
}
END_TEST

START_TEST(hub_model_info_json_is_read_as_its_card)
{
    static const char info[] =
        "[{\"id\":\"TheBloke/Yarn-Mistral-7B-128k-GGUF\",\"downloads\":5321,\"likes\":12,"
        "\"pipeline_tag\":\"text-generation\",\"library_name\":\"transformers\","
        "\"tags\":[\"transformers\",\"gguf\",\"base_model:quantized:NousResearch/"
        "Yarn-Mistral-7b-128k\"],\"cardData\":{\"base_model\":\"NousResearch/"
        "Yarn-Mistral-7b-128k\",\"license\":\"apache-2.0\",\"inference\":false}},"
        " {\"id\":\"NousResearch/Yarn-Mistral-7b-128k\",\"downloads\":10,"
        "\"cardData\":{\"base_model\":\"mistralai/Mistral-7B-v0.1\",\"base_model_relation\":"
        "\"finetune\",\"co2_eq_emissions\":{\"emissions\":24700000}}}]";
    char path[128], db_path[128], *report = NULL;
    struct api_import_summary sum;
    struct api_service *s;
    json_t *m;
    FILE *f;

    snprintf(path, sizeof path, "%s/models.json", dir);
    snprintf(db_path, sizeof db_path, "%s/info.db", dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(info, f);
    fclose(f);
    run_import(path, db_path, &sum, &report);
    ck_assert_str_eq(report, "");
    free(report);
    ck_assert_int_eq(sum.n_created, 2);
    s = open_service(db_path);
    m = model_at(s, "TheBloke/Yarn-Mistral-7B-128k-GGUF");
    ck_assert_str_eq(text_at(m, "task", NULL), "text-generation");
    ck_assert_str_eq(text_at(json_array_get(json_object_get(m, "parents"), 0), "relation", NULL),
                     "quantized");
    json_decref(m);
    m = model_at(s, "NousResearch/Yarn-Mistral-7b-128k");
    ck_assert_ptr_null(json_object_get(m, "placeholder"));
    ck_assert_str_eq(text_at(json_object_get(m, "card"), "relation", "source"), "given");
    json_decref(m);
    api_service_destroy(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api_cards");
    TCase *tc = tcase_create("cards");
    SRunner *runner;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, front_matter_is_typed_as_yaml_1_2_reads_it);
    tcase_add_test(tc, front_matter_errors_say_why);
    tcase_add_test(tc, real_cards_come_in_alike_through_post_and_import);
    tcase_add_test(tc, shuffled_orders_give_the_same_database);
    tcase_add_test(tc, a_second_import_of_the_same_file_changes_nothing);
    tcase_add_test(tc, a_copied_figure_counts_once_in_the_family_total);
    tcase_add_test(tc, hub_model_info_json_is_read_as_its_card);
    tcase_add_test(tc, grams_that_look_like_kg_are_in_the_import_report);
    tcase_add_test(tc, bare_ids_import_from_a_folder_and_from_model_info);
    suite_add_tcase(s, tc);
    runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
