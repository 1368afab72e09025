/* SPDX-License-Identifier: Apache-2.0 */
/* GET /metrics over the wire: the Prometheus text format (content type, HELP and
 * TYPE before every sample, escaping-free well-formed lines, cumulative buckets),
 * per-model series equal to the footprint answers, family sums equal to the
 * members' own emissions under every policy, request counters that grow with
 * route patterns as labels, the --metrics-max-models bound, and --auth-reads. */
#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEST_TIMEOUT_S  60
#define METRICS_TYPE    "text/plain; version=0.0.4; charset=utf-8"
#define MAX_SERIES_TEXT 1024

static struct ct_server *srv;
static const char *const policies[] = {"none", "equal", "usage"};

static void start_with(const char *const *args)
{
    char why[4096];

    srv = ct_server_new();
    srv->args = args;
    ck_assert_msg(ct_server_start(srv, why, sizeof why), "%s", why);
}

static void start_server(void)
{
    start_with(NULL);
}

static void stop_servers(void)
{
    ct_cleanup_all();
    srv = NULL;
}

/* ---- helpers ---- */

static void registered(const char *single_quoted)
{
    struct ct_response r;

    ct_send(srv, "POST", "/v1/models", single_quoted, &r);
    ck_assert_msg(r.status == 201, "registering %s answered %ld: %s", single_quoted, r.status,
                  r.status ? r.body : r.error);
    ct_response_cleanup(&r);
}

static void sent(const char *method, const char *path, const char *single_quoted, long status)
{
    struct ct_response r;

    ct_send(srv, method, path, single_quoted, &r);
    ck_assert_msg(r.status == status, "%s %s answered %ld: %s", method, path, r.status,
                  r.status ? r.body : r.error);
    ct_response_cleanup(&r);
}

/* POST …/inferences of count with a fresh Idempotency-Key; insists on 200. */
static void counted(const char *model, long long count)
{
    static unsigned serial;
    const char *headers[] = {"Content-Type: application/json", NULL, NULL};
    char path[256], key[80], body[64];
    struct ct_response r;

    snprintf(path, sizeof path, "/v1/models/%s/inferences", model);
    snprintf(key, sizeof key, "Idempotency-Key: metrics-%u", serial++);
    snprintf(body, sizeof body, "{\"count\":%lld}", count);
    headers[1] = key;
    ct_request(srv, "POST", path, headers, body, strlen(body), &r);
    ck_assert_msg(r.status == 200, "counting on %s answered %ld: %s", model, r.status,
                  r.status ? r.body : r.error);
    ct_response_cleanup(&r);
}

static double range_value(const json_t *o, const char *member)
{
    const json_t *v = json_object_get(json_object_get(o, member), "value");

    ck_assert_msg(json_is_number(v), "%s has no value", member);
    return json_number_value(v);
}

static bool near(double actual, double expected)
{
    return fabs(actual - expected) <= 1e-9 * fabs(expected) + 1e-12;
}

/* The value of the sample `series` (name{labels} exactly as written), or NAN when
 * the text has no such line. */
static double series_value(const char *text, const char *series)
{
    size_t len = strlen(series);

    for (const char *line = text; line && *line;
         line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        if (strncmp(line, series, len) == 0 && line[len] == ' ')
            return strtod(line + len + 1, NULL);
    }
    return NAN;
}

static double must_value(const char *text, const char *series)
{
    double v = series_value(text, series);

    if (isnan(v))
        fprintf(stderr, "GET /metrics without %s:\n%s\n", series, text);
    ck_assert_msg(!isnan(v), "no sample %s (the scrape is on stderr)", series);
    return v;
}

/* Lines of text that start with prefix. */
static size_t count_lines(const char *text, const char *prefix)
{
    size_t n = 0, len = strlen(prefix);

    for (const char *line = text; line && *line;
         line = strchr(line, '\n'), line = line ? line + 1 : NULL)
        if (strncmp(line, prefix, len) == 0)
            n++;
    return n;
}

/* Whether "# TYPE name type" is in text. */
static bool has_type(const char *text, const char *name, const char *type)
{
    char line[200];

    snprintf(line, sizeof line, "# TYPE %s %s\n", name, type);
    return strstr(text, line) != NULL;
}

/* Checks the exposition: every line ends in a line feed; comments are HELP or TYPE
 * lines, a family's HELP just before its TYPE; every sample belongs to the family
 * of the last TYPE line (histograms: _bucket, _sum, _count), has a well-formed
 * label set and a number; no series appears twice; a histogram's buckets are
 * cumulative and its +Inf bucket equals its _count. */
static void check_exposition(const char *text)
{
    char family[128] = "", type[32] = "", help_for[128] = "";
    char(*seen)[MAX_SERIES_TEXT] = NULL;
    size_t n_seen = 0, cap = 0;
    double last_bucket = -1;
    const char *line = text;

    ck_assert_msg(text[0] != '\0' && text[strlen(text) - 1] == '\n', "the text must end in \\n");
    while (*line) {
        const char *end = strchr(line, '\n');
        size_t len = (size_t)(end - line);
        char buf[MAX_SERIES_TEXT];

        ck_assert_msg(len < sizeof buf, "line too long: %.80s", line);
        memcpy(buf, line, len);
        buf[len] = '\0';
        if (strncmp(buf, "# HELP ", 7) == 0) {
            ck_assert_msg(sscanf(buf + 7, "%127s", help_for) == 1, "bad HELP: %s", buf);
        } else if (strncmp(buf, "# TYPE ", 7) == 0) {
            ck_assert_msg(sscanf(buf + 7, "%127s %31s", family, type) == 2, "bad TYPE: %s", buf);
            ck_assert_msg(strcmp(family, help_for) == 0, "TYPE %s without its HELP just before",
                          family);
            ck_assert_msg(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0 ||
                              strcmp(type, "histogram") == 0,
                          "type %s", type);
            if (strcmp(type, "counter") == 0) {
                size_t fl = strlen(family);
                ck_assert_msg(fl > 6 && strcmp(family + fl - 6, "_total") == 0,
                              "counter %s must end in _total", family);
            }
            last_bucket = -1;
        } else {
            char name[128], *value, *brace, *space;
            size_t name_len, fl = strlen(family);
            ck_assert_msg(buf[0] != '#', "unexpected comment: %s", buf);
            ck_assert_msg(family[0] != '\0', "sample before any TYPE: %s", buf);
            space = strrchr(buf, ' ');
            ck_assert_msg(space != NULL, "no value: %s", buf);
            value = space + 1;
            *space = '\0';
            brace = strchr(buf, '{');
            name_len = brace ? (size_t)(brace - buf) : strlen(buf);
            ck_assert_msg(name_len < sizeof name, "name too long: %s", buf);
            memcpy(name, buf, name_len);
            name[name_len] = '\0';
            if (brace) {
                /* label="value" pairs, values without quotes or backslashes here */
                const char *p = brace + 1;
                while (*p != '}') {
                    while ((*p >= 'a' && *p <= 'z') || *p == '_')
                        p++;
                    ck_assert_msg(p[0] == '=' && p[1] == '"', "bad labels: %s", buf);
                    p = strchr(p + 2, '"');
                    ck_assert_msg(p != NULL, "unterminated label value: %s", buf);
                    p++;
                    if (*p == ',')
                        p++;
                    else
                        ck_assert_msg(*p == '}', "bad labels: %s", buf);
                }
                ck_assert_msg(p[1] == '\0', "text after the labels: %s", buf);
            }
            if (strcmp(type, "histogram") == 0) {
                ck_assert_msg(strncmp(name, family, fl) == 0 &&
                                  (strcmp(name + fl, "_bucket") == 0 ||
                                   strcmp(name + fl, "_sum") == 0 ||
                                   strcmp(name + fl, "_count") == 0),
                              "%s is not a sample of histogram %s", name, family);
            } else {
                ck_assert_msg(strcmp(name, family) == 0, "%s is not a sample of %s", name, family);
            }
            {
                char *end_number = NULL;
                double v = strtod(value, &end_number);
                ck_assert_msg(end_number && *end_number == '\0' && end_number != value,
                              "bad value '%s' in %s", value, buf);
                if (strcmp(type, "histogram") == 0 && strcmp(name + fl, "_bucket") == 0) {
                    ck_assert_msg(v >= last_bucket, "buckets are not cumulative at %s", buf);
                    last_bucket = v;
                } else if (strcmp(type, "histogram") == 0 && strcmp(name + fl, "_count") == 0) {
                    ck_assert_msg(near(v, last_bucket), "_count differs from +Inf at %s", buf);
                    last_bucket = -1;
                } else if (strcmp(type, "counter") == 0) {
                    ck_assert_msg(v >= 0, "negative counter %s", buf);
                }
            }
            for (size_t i = 0; i < n_seen; i++)
                ck_assert_msg(strcmp(seen[i], buf) != 0, "series twice: %s", buf);
            if (n_seen == cap) {
                cap = cap ? cap * 2 : 256;
                seen = realloc(seen, cap * sizeof *seen);
                ck_assert_ptr_nonnull(seen);
            }
            snprintf(seen[n_seen++], MAX_SERIES_TEXT, "%s", buf);
        }
        line = end + 1;
    }
    free(seen);
}

/* GET /metrics; insists on 200, the exposition content type and a well-formed
 * text (ct_response_cleanup frees it). */
static void scraped(struct ct_response *out)
{
    ct_get(srv, "/metrics", out);
    ck_assert_msg(out->status == 200, "GET /metrics answered %ld: %s", out->status,
                  out->status ? out->body : out->error);
    ck_assert_str_eq(out->content_type, METRICS_TYPE);
    check_exposition(out->body);
}

/* A request is counted once its answer is sent, so the client may see the answer
 * first: scrapes until series reaches at least min (for up to 5 s), into out. */
static void scraped_until(const char *series, double min, struct ct_response *out)
{
    double deadline = ct_now() + 5;

    for (;;) {
        double v;
        scraped(out);
        v = series_value(out->body, series);
        if ((!isnan(v) && v >= min) || ct_now() > deadline)
            return;
        ct_response_cleanup(out);
        usleep(20 * 1000);
    }
}

/* GET …/footprint?policy= into out; insists on 200. */
static void footprint(const char *model, const char *policy, struct ct_response *out)
{
    char path[256];

    snprintf(path, sizeof path, "/v1/models/%s/footprint?policy=%s", model, policy);
    ct_get(srv, path, out);
    ck_assert_msg(out->status == 200 && out->json, "GET %s answered %ld: %s", path, out->status,
                  out->status ? out->body : out->error);
}

/* A base with training emissions, two fine-tunes (one with an inference profile)
 * and a quantization of a fine-tune, with inferences on three of them; and a
 * second base of its own. */
static void family_registered(void)
{
    registered("{'id':'ns/base'}");
    sent("POST", "/v1/models/ns/base/activities", "{'kind':'training','co2e_kg':100}", 201);
    registered("{'id':'ns/x','parents':[{'id':'ns/base','relation':'finetune'}]}");
    sent("POST", "/v1/models/ns/x/activities", "{'kind':'fine_tuning','co2e_kg':5}", 201);
    sent("PATCH", "/v1/models/ns/x",
         "{'inference':{'unit':'token','energy_kwh_per_inference':0.0001,'location':'USA'}}", 200);
    registered("{'id':'ns/y','parents':[{'id':'ns/base','relation':'finetune'}]}");
    sent("POST", "/v1/models/ns/y/activities",
         "{'kind':'fine_tuning','co2e_kg':{'value':3,"
         "'low':2,'high':4}}",
         201);
    registered("{'id':'ns/x-int8','parents':[{'id':'ns/x','relation':'quantized'}]}");
    sent("POST", "/v1/models/ns/x-int8/activities", "{'kind':'other','co2e_kg':0.25}", 201);
    registered("{'id':'other/solo'}");
    sent("POST", "/v1/models/other/solo/activities", "{'kind':'training','co2e_kg':7}", 201);
    counted("ns/x", 1000);
    counted("ns/y", 3000);
    counted("ns/x-int8", 500);
}

/* ---- tests ---- */

START_TEST(metrics_answer_the_exposition_format_with_help_and_type_for_every_family)
{
    static const struct {
        const char *name, *type;
    } families[] = {
        {"carbontree_build_info", "gauge"},
        {"carbontree_http_requests_total", "counter"},
        {"carbontree_http_request_duration_seconds", "histogram"},
        {"carbontree_db_size_bytes", "gauge"},
        {"carbontree_db_wal_bytes", "gauge"},
        {"carbontree_writes_total", "counter"},
        {"carbontree_inferences_counted_total", "counter"},
        {"carbontree_db_write_batch_size", "histogram"},
        {"carbontree_model_co2e_kg", "gauge"},
        {"carbontree_model_inferences_total", "counter"},
        {"carbontree_family_co2e_kg", "gauge"},
    };
    struct ct_response r, head;

    family_registered();
    scraped(&r);
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
        char help[160];
        snprintf(help, sizeof help, "# HELP %s ", families[i].name);
        ck_assert_msg(strstr(r.body, help) != NULL, "no HELP for %s", families[i].name);
        ck_assert_msg(has_type(r.body, families[i].name, families[i].type), "no TYPE %s %s",
                      families[i].name, families[i].type);
    }
    ck_assert_msg(count_lines(r.body, "carbontree_build_info{version=\"") == 1, "%s", r.body);
    ck_assert_msg(must_value(r.body, "carbontree_db_size_bytes") > 0, "empty database?");
    ck_assert_msg(must_value(r.body, "carbontree_db_wal_bytes") >= 0, "negative WAL size");
    /* Five models, five activities and a profile were written, in one transaction each. */
    ck_assert(near(must_value(r.body, "carbontree_writes_total{kind=\"model_added\"}"), 5));
    ck_assert(near(must_value(r.body, "carbontree_writes_total{kind=\"activity_added\"}"), 5));
    ck_assert(near(must_value(r.body, "carbontree_writes_total{kind=\"model_updated\"}"), 1));
    ck_assert(near(must_value(r.body, "carbontree_writes_total{kind=\"inferences\"}"), 3));
    ck_assert(near(must_value(r.body, "carbontree_inferences_counted_total"), 4500));
    ck_assert_msg(must_value(r.body, "carbontree_db_write_batch_size_count") >= 14, "%s", r.body);
    ck_assert(near(must_value(r.body, "carbontree_db_write_batch_size_bucket{le=\"1\"}"),
                   must_value(r.body, "carbontree_db_write_batch_size_count")));
    ck_assert(near(must_value(r.body, "carbontree_db_write_batch_size_sum"),
                   must_value(r.body, "carbontree_db_write_batch_size_count")));
    /* HEAD answers the same headers and no body. */
    ct_request(srv, "HEAD", "/metrics", NULL, NULL, 0, &head);
    ck_assert_int_eq(head.status, 200);
    ck_assert_str_eq(head.content_type, METRICS_TYPE);
    ck_assert_uint_eq(head.body_len, 0);
    ct_response_cleanup(&head);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(model_series_equal_the_footprint_answers_under_every_policy)
{
    static const char *const models[] = {"ns/base", "ns/x", "ns/y", "ns/x-int8", "other/solo"};
    struct ct_response m;

    family_registered();
    scraped(&m);
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        char series[MAX_SERIES_TEXT];
        for (size_t p = 0; p < 3; p++) {
            static const char *const parts[][2] = {{"own", "own_co2e_kg"},
                                                   {"inherited", "inherited_co2e_kg"},
                                                   {"inference", "inference_co2e_kg"},
                                                   {"total", "total_co2e_kg"}};
            struct ct_response f;
            footprint(models[i], policies[p], &f);
            for (size_t k = 0; k < 4; k++) {
                double want = range_value(f.json, parts[k][1]);
                double got;
                snprintf(series, sizeof series,
                         "carbontree_model_co2e_kg{model=\"%s\",policy=\"%s\",part=\"%s\"}",
                         models[i], policies[p], parts[k][0]);
                got = must_value(m.body, series);
                ck_assert_msg(near(got, want), "%s is %.17g, the footprint says %.17g", series, got,
                              want);
            }
            snprintf(series, sizeof series, "carbontree_model_inferences_total{model=\"%s\"}",
                     models[i]);
            ck_assert_msg(near(must_value(m.body, series),
                               (double)json_integer_value(json_object_get(f.json, "inferences"))),
                          "%s", series);
            ct_response_cleanup(&f);
        }
    }
    /* By hand: under usage, ns/x inherits ns/base's 100 kg in the ratio of its own
     * inferences to its family's (1000 of 4500). */
    ck_assert(near(must_value(m.body, "carbontree_model_co2e_kg{model=\"ns/x\",policy=\"usage\","
                                      "part=\"inherited\"}"),
                   100.0 * 1000.0 / 4500.0));
    ct_response_cleanup(&m);
}
END_TEST

START_TEST(family_sum_equals_the_own_emissions_of_its_members_under_every_policy)
{
    static const char *const members[] = {"ns/base", "ns/x", "ns/y", "ns/x-int8"};
    struct ct_response m;
    double own = 0;

    family_registered();
    scraped(&m);
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
        struct ct_response f;
        footprint(members[i], "none", &f);
        own += range_value(f.json, "own_co2e_kg");
        ct_response_cleanup(&f);
    }
    ck_assert(near(own, 108.25));
    for (size_t p = 0; p < 3; p++) {
        char series[MAX_SERIES_TEXT];
        double allocated = 0;
        snprintf(series, sizeof series, "carbontree_family_co2e_kg{root=\"ns/base\",policy=\"%s\"}",
                 policies[p]);
        ck_assert_msg(near(must_value(m.body, series), own), "%s is %.17g, own sum %.17g", series,
                      must_value(m.body, series), own);
        /* The same sum from the footprints: every policy hands out all of it. */
        for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
            struct ct_response f;
            footprint(members[i], policies[p], &f);
            allocated +=
                range_value(f.json, "total_co2e_kg") - range_value(f.json, "inference_co2e_kg");
            ct_response_cleanup(&f);
        }
        ck_assert_msg(near(allocated, own), "policy %s allocates %.17g of %.17g", policies[p],
                      allocated, own);
        snprintf(series, sizeof series,
                 "carbontree_family_co2e_kg{root=\"other/solo\",policy=\"%s\"}", policies[p]);
        ck_assert(near(must_value(m.body, series), 7));
    }
    /* Only base models root a family. */
    ck_assert_msg(strstr(m.body, "root=\"ns/x\"") == NULL, "%s", m.body);
    ct_response_cleanup(&m);
}
END_TEST

START_TEST(request_counters_grow_and_label_routes_by_pattern)
{
    static const char *const health = "carbontree_http_requests_total{method=\"GET\",route=\"/"
                                      "healthz\",status=\"200\"}";
    static const char *const fp = "carbontree_http_requests_total{method=\"GET\",route=\"/v1/"
                                  "models/{namespace}/{name}/footprint\",status=\"200\"}";
    static const char *const missing = "carbontree_http_requests_total{method=\"GET\",route="
                                       "\"unmatched\",status=\"404\"}";
    static const char *const metrics_ok = "carbontree_http_requests_total{method=\"GET\",route="
                                          "\"/metrics\",status=\"200\"}";
    struct ct_response r, m1, m2;
    double before;

    registered("{'id':'ns/x'}");
    ct_get(srv, "/healthz", &r);
    ct_response_cleanup(&r);
    scraped_until(health, 1, &m1);
    before = must_value(m1.body, health);
    ck_assert(before >= 1);
    ck_assert(isnan(series_value(m1.body, fp)));
    for (int i = 0; i < 3; i++) {
        ct_get(srv, "/healthz", &r);
        ct_response_cleanup(&r);
    }
    footprint("ns/x", "usage", &r);
    ct_response_cleanup(&r);
    footprint("ns/x", "equal", &r);
    ct_response_cleanup(&r);
    ct_get(srv, "/v1/no-such-route-7f3a", &r);
    ck_assert_int_eq(r.status, 404);
    ct_response_cleanup(&r);
    scraped_until(health, before + 3, &m2);
    ct_response_cleanup(&m2);
    scraped_until(fp, 2, &m2);
    ct_response_cleanup(&m2);
    scraped_until(missing, 1, &m2);
    ct_response_cleanup(&m2);
    scraped_until(metrics_ok, 1, &m2);
    ck_assert(near(must_value(m2.body, health), before + 3));
    ck_assert(near(must_value(m2.body, fp), 2));
    ck_assert(must_value(m2.body, missing) >= 1);
    /* Earlier scrapes are counted by later ones. */
    ck_assert(must_value(m2.body, metrics_ok) >= 1);
    ck_assert(near(must_value(m2.body, "carbontree_http_request_duration_seconds_count{route=\"/"
                                       "v1/models/{namespace}/{name}/footprint\"}"),
                   2));
    ck_assert(must_value(m2.body, "carbontree_http_request_duration_seconds_bucket{route=\"/"
                                  "healthz\",le=\"+Inf\"}") >= before + 3);
    /* Raw paths never become labels. */
    ck_assert_msg(strstr(m2.body, "no-such-route") == NULL, "%s", m2.body);
    ck_assert_msg(strstr(m2.body, "route=\"/v1/models/ns/x") == NULL, "%s", m2.body);
    ct_response_cleanup(&m1);
    ct_response_cleanup(&m2);
}
END_TEST

START_TEST(series_are_bounded_to_the_most_used_models_and_families)
{
    static const char *const args[] = {"--metrics-max-models", "3", NULL};
    /* inferences of b/m1 … b/m6; the three most used, ties by registration: m2, m4, m3 */
    static const long long uses[] = {0, 50, 10, 50, 0, 5};
    struct ct_response m;

    start_with(args);
    for (int i = 0; i < 6; i++) {
        char body[128], id[32];
        snprintf(body, sizeof body, "{'id':'b/m%d'}", i + 1);
        registered(body);
        snprintf(id, sizeof id, "b/m%d", i + 1);
        if (uses[i] > 0)
            counted(id, uses[i]);
    }
    scraped(&m);
    ck_assert_uint_eq(count_lines(m.body, "carbontree_model_inferences_total{"), 3);
    ck_assert_uint_eq(count_lines(m.body, "carbontree_model_co2e_kg{"), 3 * 3 * 4);
    ck_assert_uint_eq(count_lines(m.body, "carbontree_family_co2e_kg{"), 3 * 3);
    for (int i = 0; i < 6; i++) {
        char series[128];
        bool kept = i == 1 || i == 2 || i == 3;
        snprintf(series, sizeof series, "carbontree_model_inferences_total{model=\"b/m%d\"}",
                 i + 1);
        ck_assert_msg(isnan(series_value(m.body, series)) != kept, "%s kept=%d", series, kept);
        snprintf(series, sizeof series,
                 "carbontree_family_co2e_kg{root=\"b/m%d\",policy=\"usage\"}", i + 1);
        ck_assert_msg(isnan(series_value(m.body, series)) != kept, "%s kept=%d", series, kept);
    }
    ck_assert(near(must_value(m.body, "carbontree_model_inferences_total{model=\"b/m2\"}"), 50));
    ct_response_cleanup(&m);
}
END_TEST

START_TEST(max_models_zero_leaves_only_the_service_series)
{
    static const char *const args[] = {"--metrics-max-models", "0", NULL};
    struct ct_response m;

    start_with(args);
    registered("{'id':'b/m1'}");
    scraped(&m);
    ck_assert_uint_eq(count_lines(m.body, "carbontree_model_"), 0);
    ck_assert_uint_eq(count_lines(m.body, "carbontree_family_"), 0);
    ck_assert(has_type(m.body, "carbontree_model_co2e_kg", "gauge"));
    ck_assert(near(must_value(m.body, "carbontree_writes_total{kind=\"model_added\"}"), 1));
    ct_response_cleanup(&m);
}
END_TEST

START_TEST(with_auth_reads_metrics_need_a_token)
{
    static const char *const args[] = {"--auth-reads", NULL};
    struct ct_response r;

    start_with(args);
    ct_request(srv, "GET", "/metrics", (const char *const[]){"Authorization:", NULL}, NULL, 0, &r);
    CT_ASSERT_PROBLEM(&r, 401, "unauthorized", NULL);
    ct_response_cleanup(&r);
    ct_request(srv, "GET", "/metrics",
               (const char *const[]){"Authorization: Bearer ct_nobody", NULL}, NULL, 0, &r);
    CT_ASSERT_PROBLEM(&r, 401, "unauthorized", NULL);
    ct_response_cleanup(&r);
    scraped(&r); /* the harness's admin token */
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(max_models_setting_is_checked_and_read_from_the_environment)
{
    static const char *const bad[] = {"serve", "--metrics-max-models", "-1", NULL};
    static const char *const env[] = {"CARBONTREE_METRICS_MAX_MODELS=2", NULL};
    struct ct_command c;
    struct ct_response m;

    ct_run(bad, NULL, 10, &c);
    ck_assert_msg(c.status == 2, "exit %d: %s", c.status, c.output);
    ck_assert_msg(strstr(c.output, "--metrics-max-models") != NULL, "%s", c.output);
    free(c.output);

    {
        char why[4096];
        srv = ct_server_new();
        srv->env = env;
        ck_assert_msg(ct_server_start(srv, why, sizeof why), "%s", why);
    }
    for (int i = 0; i < 4; i++) {
        char body[64];
        snprintf(body, sizeof body, "{'id':'e/m%d'}", i);
        registered(body);
    }
    scraped(&m);
    ck_assert_uint_eq(count_lines(m.body, "carbontree_model_inferences_total{"), 2);
    ct_response_cleanup(&m);
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("http_metrics");
    TCase *format = tcase_create("format");
    TCase *ledger = tcase_create("ledger");
    TCase *http = tcase_create("http");
    TCase *bounds = tcase_create("bounds");

    tcase_add_checked_fixture(format, start_server, stop_servers);
    tcase_add_checked_fixture(ledger, start_server, stop_servers);
    tcase_add_checked_fixture(http, start_server, stop_servers);
    tcase_add_checked_fixture(bounds, NULL, stop_servers);
    tcase_set_timeout(format, TEST_TIMEOUT_S);
    tcase_set_timeout(ledger, TEST_TIMEOUT_S);
    tcase_set_timeout(http, TEST_TIMEOUT_S);
    tcase_set_timeout(bounds, TEST_TIMEOUT_S);
    suite_add_tcase(s, format);
    suite_add_tcase(s, ledger);
    suite_add_tcase(s, http);
    suite_add_tcase(s, bounds);

    tcase_add_test(format,
                   metrics_answer_the_exposition_format_with_help_and_type_for_every_family);
    tcase_add_test(ledger, model_series_equal_the_footprint_answers_under_every_policy);
    tcase_add_test(ledger, family_sum_equals_the_own_emissions_of_its_members_under_every_policy);
    tcase_add_test(http, request_counters_grow_and_label_routes_by_pattern);
    tcase_add_test(bounds, series_are_bounded_to_the_most_used_models_and_families);
    tcase_add_test(bounds, max_models_zero_leaves_only_the_service_series);
    tcase_add_test(bounds, with_auth_reads_metrics_need_a_token);
    tcase_add_test(bounds, max_models_setting_is_checked_and_read_from_the_environment);
    return s;
}

int main(void)
{
    return ct_main(metrics_suite());
}
