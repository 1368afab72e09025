/* The family ledger over the wire: activities, Hub card emissions, inference
 * profiles, inference counts (deltas, counters, batches, the daily series),
 * amortized footprints checked by hand, family pages, ancestors, comparisons, and
 * idempotent counting under concurrency. Every figure is worked out in the test. */
#include "harness.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define TEST_TIMEOUT_S 30
#define KG_PER_LB      0.45359237

static struct ct_server *srv;

static void start_server(void)
{
    char why[4096];

    srv = ct_server_new();
    ck_assert_msg(ct_server_start(srv, why, sizeof why), "%s", why);
}

/* Eight HTTP workers, so that parallel requests really run in parallel. */
static void start_threaded_server(void)
{
    static const char *const args[] = {"--threads", "8", NULL};
    char why[4096];

    srv = ct_server_new();
    srv->args = args;
    ck_assert_msg(ct_server_start(srv, why, sizeof why), "%s", why);
}

static void stop_servers(void)
{
    ct_cleanup_all();
    srv = NULL;
}

/* ---- helpers ---- */

/* The member at a '/'-separated path of object keys and array indexes, or NULL. */
static const json_t *at(const json_t *root, const char *path)
{
    char copy[256], *save = NULL;
    const json_t *v = root;

    snprintf(copy, sizeof copy, "%s", path);
    for (char *part = strtok_r(copy, "/", &save); part && v; part = strtok_r(NULL, "/", &save)) {
        if (json_is_array(v))
            v = json_array_get(v, strtoul(part, NULL, 10));
        else
            v = json_object_get(v, part);
    }
    return v;
}

static double num_at(const struct ct_response *r, const char *path)
{
    const json_t *v = at(r->json, path);

    ck_assert_msg(json_is_number(v), "'%s' is not a number in %s", path, r->body);
    return json_number_value(v);
}

static long long int_at(const struct ct_response *r, const char *path)
{
    const json_t *v = at(r->json, path);

    ck_assert_msg(json_is_integer(v), "'%s' is not an integer in %s", path, r->body);
    return (long long)json_integer_value(v);
}

static const char *str_at(const struct ct_response *r, const char *path)
{
    const char *text = json_string_value(at(r->json, path));

    return text ? text : "(missing)";
}

static bool near(double actual, double expected)
{
    return fabs(actual - expected) <= 1e-9 * fabs(expected) + 1e-12;
}

/* A number at path equal to expected within 1e-9 relative. */
#define ASSERT_NUM(resp, path, expected)                                                           \
    do {                                                                                           \
        double got_ = num_at((resp), (path));                                                      \
        double want_ = (expected);                                                                 \
        ck_assert_msg(near(got_, want_), "%s is %.17g, expected %.17g; body: %s", (path), got_,    \
                      want_, (resp)->body);                                                        \
    } while (0)

/* A range {value, low, high} at path. */
#define ASSERT_RANGE(resp, path, v, lo, hi)                                                        \
    do {                                                                                           \
        char p_[200];                                                                              \
        snprintf(p_, sizeof p_, "%s/value", (path));                                               \
        ASSERT_NUM((resp), p_, (v));                                                               \
        snprintf(p_, sizeof p_, "%s/low", (path));                                                 \
        ASSERT_NUM((resp), p_, (lo));                                                              \
        snprintf(p_, sizeof p_, "%s/high", (path));                                                \
        ASSERT_NUM((resp), p_, (hi));                                                              \
    } while (0)

#define ASSERT_STATUS(resp, want)                                                                  \
    ck_assert_msg((resp)->status == (want), "answered %ld, expected %d: %s", (resp)->status,       \
                  (want), (resp)->status ? (resp)->body : (resp)->error)

/* Registers a model from a single-quoted JSON body and insists on 201. */
static void registered(const char *single_quoted)
{
    struct ct_response r;

    ct_send(srv, "POST", "/v1/models", single_quoted, &r);
    ck_assert_msg(r.status == 201, "registering %s answered %ld: %s", single_quoted, r.status,
                  r.status ? r.body : r.error);
    ct_response_cleanup(&r);
}

/* method path with a single-quoted JSON body and, when key is not NULL, an
 * Idempotency-Key. */
static long send_keyed(const char *method, const char *path, const char *key,
                       const char *single_quoted, struct ct_response *out)
{
    char key_header[300];
    const char *headers[] = {"Content-Type: application/json", NULL, NULL};
    char *body = ct_json(single_quoted);
    long status;

    if (key) {
        snprintf(key_header, sizeof key_header, "Idempotency-Key: %s", key);
        headers[1] = key_header;
    }
    status = ct_request(srv, method, path, headers, body, strlen(body), out);
    free(body);
    return status;
}

/* The same over a raw socket, to read headers the harness does not keep
 * (Idempotent-Replayed). */
static void raw_keyed(const char *method, const char *path, const char *key,
                      const char *single_quoted, struct ct_raw_response *out)
{
    char *body = ct_json(single_quoted);
    char request[8192];
    int n = snprintf(request, sizeof request,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "Authorization: Bearer " CT_ADMIN_TOKEN "\r\n"
                     "Idempotency-Key: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     method, path, key, strlen(body), body);

    free(body);
    ck_assert_int_lt(n, (int)sizeof request);
    ct_raw(srv, request, (size_t)n, 10, out);
}

/* POST …/activities; insists on 201 and returns the activity id. */
static long long activity_added(const char *model, const char *single_quoted)
{
    struct ct_response r;
    char path[256];
    long long id;

    snprintf(path, sizeof path, "/v1/models/%s/activities", model);
    ct_send(srv, "POST", path, single_quoted, &r);
    ck_assert_msg(r.status == 201, "activity %s on %s answered %ld: %s", single_quoted, model,
                  r.status, r.status ? r.body : r.error);
    id = int_at(&r, "id");
    ct_response_cleanup(&r);
    return id;
}

/* POST …/inferences of count with a fresh key; insists on 200. */
static void counted(const char *model, long long count)
{
    static unsigned serial;
    struct ct_response r;
    char path[256], key[64], body[64];

    snprintf(path, sizeof path, "/v1/models/%s/inferences", model);
    snprintf(key, sizeof key, "count-%u-%lld", serial++, count);
    snprintf(body, sizeof body, "{'count':%lld}", count);
    send_keyed("POST", path, key, body, &r);
    ck_assert_msg(r.status == 200, "counting %lld on %s answered %ld: %s", count, model, r.status,
                  r.status ? r.body : r.error);
    ct_response_cleanup(&r);
}

/* GET …/footprint?policy=<policy> into out; insists on 200. */
static void footprint(const char *model, const char *policy, struct ct_response *out)
{
    char path[256];

    snprintf(path, sizeof path, "/v1/models/%s/footprint?policy=%s", model, policy);
    ct_get(srv, path, out);
    ck_assert_msg(out->status == 200, "GET %s answered %ld: %s", path, out->status,
                  out->status ? out->body : out->error);
}

/* The model's cumulative inferences, as the footprint reports them. */
static long long inferences_of(const char *model)
{
    struct ct_response r;
    long long n;

    footprint(model, "none", &r);
    n = int_at(&r, "inferences");
    ct_response_cleanup(&r);
    return n;
}

static double total_kg(const char *model, const char *policy)
{
    struct ct_response r;
    double kg;

    footprint(model, policy, &r);
    kg = num_at(&r, "total_co2e_kg/value");
    ct_response_cleanup(&r);
    return kg;
}

/* The allocations[] entry whose source is source; fails when there is none. */
static const json_t *allocation(const struct ct_response *r, const char *source)
{
    const json_t *list = json_object_get(r->json, "allocations");

    for (size_t i = 0; i < json_array_size(list); i++) {
        const json_t *item = json_array_get(list, i);
        const char *id = json_string_value(json_object_get(item, "source"));
        if (id && strcmp(id, source) == 0)
            return item;
    }
    ck_abort_msg("no allocation from %s in %s", source, r->body);
    return NULL;
}

static void assert_allocation(const struct ct_response *r, const char *source, double source_kg,
                              double share, double kg)
{
    const json_t *a = allocation(r, source);
    double got_source =
        json_number_value(json_object_get(json_object_get(a, "source_co2e_kg"), "value"));
    double got_share = json_number_value(json_object_get(a, "share"));
    double got_kg = json_number_value(json_object_get(json_object_get(a, "co2e_kg"), "value"));

    ck_assert_msg(near(got_source, source_kg) && near(got_share, share) && near(got_kg, kg),
                  "allocation from %s is (%g kg, share %g, %g kg), expected (%g, %g, %g): %s",
                  source, got_source, got_share, got_kg, source_kg, share, kg, r->body);
}

/* ---- activities ---- */

START_TEST(measured_activity_computes_co2e_from_lb_per_kwh_and_answers_201_with_location)
{
    struct ct_response r, listed;
    char expect_location[128];

    registered("{'id':'org/bert'}");
    ct_send(srv, "POST", "/v1/models/org/bert/activities",
            "{'kind':'training','energy_kwh':1507,"
            "'carbon_intensity':{'value':0.954,'unit':'lb/kWh'}}",
            &r);
    ASSERT_STATUS(&r, 201);
    ck_assert_str_eq(r.content_type, "application/json");
    snprintf(expect_location, sizeof expect_location, "/v1/models/org/bert/activities/%lld",
             int_at(&r, "id"));
    ck_assert_str_eq(r.location, expect_location);
    ck_assert_str_eq(str_at(&r, "model"), "org/bert");
    ck_assert_str_eq(str_at(&r, "kind"), "training");
    ck_assert_str_eq(str_at(&r, "obtained"), "measured");
    ck_assert(json_is_null(at(r.json, "method")));
    ASSERT_RANGE(&r, "energy_kwh", 1507, 1507, 1507);
    /* Strubell's BERT: 1507 kWh x 0.954 lb/kWh = 1437.7 lb = 652.1 kg. */
    ASSERT_RANGE(&r, "co2e_kg", 1507 * 0.954 * KG_PER_LB, 1507 * 0.954 * KG_PER_LB,
                 1507 * 0.954 * KG_PER_LB);
    ck_assert_str_eq(str_at(&r, "result/carbon_intensity/source"), "explicit");
    ASSERT_NUM(&r, "result/carbon_intensity/kg_per_kwh/value", 0.954 * KG_PER_LB);
    ck_assert_msg(strlen(str_at(&r, "methodology_version")) > 0, "%s", r.body);
    ck_assert_msg(strlen(str_at(&r, "created_at")) >= 20, "%s", r.body);

    /* The list shows the same activity. */
    ck_assert_int_eq(ct_get(srv, "/v1/models/org/bert/activities", &listed), 200);
    ck_assert_int_eq(json_array_size(at(listed.json, "items")), 1);
    ck_assert_msg(json_equal(at(listed.json, "items/0"), r.json), "listed %s, posted %s",
                  listed.body, r.body);
    ct_response_cleanup(&listed);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(measured_energy_range_gives_a_co2e_range)
{
    struct ct_response r;

    registered("{'id':'org/ranged'}");
    ct_send(srv, "POST", "/v1/models/org/ranged/activities",
            "{'kind':'fine_tuning','energy_kwh':{'value':100,'low':80,'high':120},"
            "'carbon_intensity':{'value':500,'unit':'g/kWh'}}",
            &r);
    ASSERT_STATUS(&r, 201);
    ASSERT_RANGE(&r, "energy_kwh", 100, 80, 120);
    ASSERT_RANGE(&r, "co2e_kg", 50, 40, 60);
    ct_response_cleanup(&r);

    /* A ranged intensity in kg/kWh over exact energy. */
    ct_send(srv, "POST", "/v1/models/org/ranged/activities",
            "{'kind':'training','energy_kwh':10,"
            "'carbon_intensity':{'value':{'value':0.5,'low':0.4,'high':0.6},'unit':'kg/kWh'}}",
            &r);
    ASSERT_STATUS(&r, 201);
    ASSERT_RANGE(&r, "co2e_kg", 5, 4, 6);
    ct_response_cleanup(&r);

    /* The model's own emissions add the ranges bound by bound. */
    footprint("org/ranged", "none", &r);
    ASSERT_RANGE(&r, "own_co2e_kg", 55, 44, 66);
    ASSERT_RANGE(&r, "total_co2e_kg", 55, 44, 66);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(reported_activity_keeps_co2e_kg_and_every_kind_is_accepted)
{
    static const char *const kinds[] = {"training", "fine_tuning", "development",
                                        "embodied", "idle",        "other"};
    struct ct_response r;
    char body[128];

    registered("{'id':'org/kinds'}");
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        snprintf(body, sizeof body, "{'kind':'%s','co2e_kg':%zu.5}", kinds[i], i + 1);
        ct_send(srv, "POST", "/v1/models/org/kinds/activities", body, &r);
        ck_assert_msg(r.status == 201, "kind %s answered %ld: %s", kinds[i], r.status, r.body);
        ck_assert_str_eq(str_at(&r, "kind"), kinds[i]);
        ck_assert_str_eq(str_at(&r, "obtained"), "reported");
        ck_assert(json_is_null(at(r.json, "energy_kwh")));
        ASSERT_RANGE(&r, "co2e_kg", (double)i + 1.5, (double)i + 1.5, (double)i + 1.5);
        ct_response_cleanup(&r);
    }
    /* 1.5 + 2.5 + ... + 6.5 */
    ck_assert_msg(near(total_kg("org/kinds", "none"), 24.0), "own total is not 24 kg");
}
END_TEST

START_TEST(activity_list_pages_follow_link_and_next_cursor)
{
    long long ids[5];
    int seen[5] = {0};
    char url[512] = "/v1/models/org/paged/activities?limit=2";
    int pages = 0;

    registered("{'id':'org/paged'}");
    for (int i = 0; i < 5; i++)
        ids[i] = activity_added("org/paged", "{'kind':'other','co2e_kg':1}");
    while (url[0] && pages < 10) {
        struct ct_response r;
        const json_t *items, *cursor;
        char expect[64];
        const char *start, *end;

        ck_assert_int_eq(ct_get(srv, url, &r), 200);
        pages++;
        items = at(r.json, "items");
        ck_assert_msg(json_array_size(items) >= 1 && json_array_size(items) <= 2, "%s", r.body);
        for (size_t i = 0; i < json_array_size(items); i++)
            for (int k = 0; k < 5; k++)
                if (json_integer_value(at(json_array_get(items, i), "id")) == ids[k])
                    seen[k]++;
        cursor = at(r.json, "next_cursor");
        start = strchr(r.link, '<');
        end = start ? strchr(start, '>') : NULL;
        if (json_is_null(cursor)) {
            ck_assert_msg(r.link[0] == '\0', "the last page has Link '%s'", r.link);
            url[0] = '\0';
        } else {
            ck_assert_msg(json_is_string(cursor), "next_cursor: %s", r.body);
            ck_assert_msg(start && end && strstr(r.link, "rel=\"next\""), "Link '%s'", r.link);
            snprintf(expect, sizeof expect, "cursor=%s", json_string_value(cursor));
            ck_assert_msg(strstr(r.link, expect) != NULL, "Link '%s' lacks %s", r.link, expect);
            snprintf(url, sizeof url, "%.*s", (int)(end - start - 1), start + 1);
        }
        ct_response_cleanup(&r);
    }
    ck_assert_int_eq(pages, 3);
    for (int k = 0; k < 5; k++)
        ck_assert_msg(seen[k] == 1, "activity %lld seen %d times", ids[k], seen[k]);
}
END_TEST

START_TEST(deleting_an_activity_is_204_then_404_and_the_footprint_follows)
{
    struct ct_response r;
    char path[128];
    long long keep, drop;

    registered("{'id':'org/del'}");
    ck_assert_msg(near(total_kg("org/del", "none"), 0), "a new model has emissions");
    keep = activity_added("org/del", "{'kind':'training','co2e_kg':100}");
    ck_assert_msg(near(total_kg("org/del", "none"), 100), "after one activity");
    drop = activity_added("org/del", "{'kind':'development','co2e_kg':50}");
    ck_assert_msg(near(total_kg("org/del", "none"), 150), "after two activities");

    snprintf(path, sizeof path, "/v1/models/org/del/activities/%lld", drop);
    ck_assert_int_eq(ct_request(srv, "DELETE", path, NULL, NULL, 0, &r), 204);
    ck_assert_uint_eq(r.body_len, 0);
    ct_response_cleanup(&r);
    ck_assert_msg(near(total_kg("org/del", "none"), 100), "after deleting the second");

    ct_request(srv, "DELETE", path, NULL, NULL, 0, &r);
    CT_ASSERT_PROBLEM(&r, 404, "not-found", NULL);
    ct_response_cleanup(&r);

    /* Another model's activity is not reachable through this one. */
    registered("{'id':'org/other'}");
    snprintf(path, sizeof path, "/v1/models/org/other/activities/%lld", keep);
    ct_request(srv, "DELETE", path, NULL, NULL, 0, &r);
    CT_ASSERT_PROBLEM(&r, 404, "not-found", NULL);
    ct_response_cleanup(&r);
    ck_assert_msg(near(total_kg("org/del", "none"), 100), "a foreign delete changed the total");

    ct_request(srv, "DELETE", "/v1/models/org/del/activities/abc", NULL, NULL, 0, &r);
    CT_ASSERT_PROBLEM(&r, 404, "not-found", NULL);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(activity_errors_are_422_naming_the_field_and_store_nothing)
{
    static const struct ct_step steps[] = {
        {"the model exists", "POST", "/v1/models", "{'id':'org/act'}", NULL, 201, NULL, NULL},
        {"an unknown kind", "POST", "/v1/models/org/act/activities",
         "{'kind':'inference','co2e_kg':1}", NULL, 422, "invalid-input", "/kind"},
        {"no kind", "POST", "/v1/models/org/act/activities", "{'co2e_kg':1}", NULL, 422,
         "invalid-input", "/kind"},
        {"a kind that is not text", "POST", "/v1/models/org/act/activities",
         "{'kind':7,'co2e_kg':1}", NULL, 422, "invalid-input", "/kind"},
        {"a negative co2e_kg", "POST", "/v1/models/org/act/activities",
         "{'kind':'training','co2e_kg':-1}", NULL, 422, "invalid-input", "/co2e_kg"},
        {"a co2e range reaching below zero", "POST", "/v1/models/org/act/activities",
         "{'kind':'training','co2e_kg':{'value':1,'low':-1,'high':2}}", NULL, 422, "invalid-input",
         "/co2e_kg"},
        {"a range with low above value", "POST", "/v1/models/org/act/activities",
         "{'kind':'training','co2e_kg':{'value':1,'low':2,'high':3}}", NULL, 422, "invalid-input",
         "/co2e_kg"},
        {"a negative energy", "POST", "/v1/models/org/act/activities",
         "{'kind':'training','energy_kwh':-5}", NULL, 422, "invalid-input", "/energy_kwh"},
        {"co2e_kg as text", "POST", "/v1/models/org/act/activities",
         "{'kind':'training','co2e_kg':'12'}", NULL, 422, "invalid-input", "/co2e_kg"},
        {"an unknown field", "POST", "/v1/models/org/act/activities",
         "{'kind':'training','co2e_kg':1,'gpu':'V100'}", NULL, 422, "invalid-input", "/gpu"},
        {"neither co2e_kg nor energy_kwh", "POST", "/v1/models/org/act/activities",
         "{'kind':'training'}", NULL, 422, "invalid-input", "/co2e_kg"},
        {"estimated without a method", "POST", "/v1/models/org/act/activities",
         "{'kind':'training','obtained':'estimated','co2e_kg':3}", NULL, 422, "invalid-input",
         "/obtained"},
        {"an unknown way of obtaining", "POST", "/v1/models/org/act/activities",
         "{'kind':'training','obtained':'guessed','co2e_kg':3}", NULL, 422, "invalid-input",
         "/obtained"},
        {"an intensity in an unknown unit", "POST", "/v1/models/org/act/activities",
         "{'kind':'training','energy_kwh':5,'carbon_intensity':{'value':1,'unit':'t/kWh'}}", NULL,
         422, "invalid-input", NULL},
        {"an intensity without a unit", "POST", "/v1/models/org/act/activities",
         "{'kind':'training','energy_kwh':5,'carbon_intensity':{'value':1}}", NULL, 422,
         "invalid-input", "/carbon_intensity/unit"},
        {"a body that is not an object", "POST", "/v1/models/org/act/activities", "[1]", NULL, 422,
         "invalid-input", NULL},
        {"an unknown model", "POST", "/v1/models/org/ghost/activities",
         "{'kind':'training','co2e_kg':1}", NULL, 404, "not-found", NULL},
        {"listing an unknown model", "GET", "/v1/models/org/ghost/activities", NULL, NULL, 404,
         "not-found", NULL},
        {"a list limit of 0", "GET", "/v1/models/org/act/activities?limit=0", NULL, NULL, 400,
         "bad-request", NULL},
    };
    struct ct_response r;

    ct_run_steps(srv, steps, sizeof steps / sizeof steps[0]);
    ck_assert_int_eq(ct_get(srv, "/v1/models/org/act/activities", &r), 200);
    ck_assert_msg(json_array_size(at(r.json, "items")) == 0, "refused activities were stored: %s",
                  r.body);
    ct_response_cleanup(&r);
    ck_assert_msg(near(total_kg("org/act", "none"), 0), "refused activities count");
}
END_TEST

START_TEST(intensity_beside_co2e_kg_is_422_naming_carbon_intensity)
{
    struct ct_response r;

    registered("{'id':'org/both'}");
    ct_send(srv, "POST", "/v1/models/org/both/activities",
            "{'kind':'training','co2e_kg':5,'carbon_intensity':{'value':1,'unit':'g/kWh'}}", &r);
    /* The problem names the member the client sent, not one it did not. */
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", "/carbon_intensity");
    ct_response_cleanup(&r);
    ck_assert_msg(near(total_kg("org/both", "none"), 0), "the refused activity counts");
}
END_TEST

/* ---- Hub cards ---- */

/* The only activity of model, into out (a GET of its activities). */
static void only_activity(const char *model, struct ct_response *out)
{
    char path[256];

    snprintf(path, sizeof path, "/v1/models/%s/activities", model);
    ck_assert_int_eq(ct_get(srv, path, out), 200);
    ck_assert_msg(json_array_size(at(out->json, "items")) == 1, "%s has not one activity: %s",
                  model, out->body);
}

START_TEST(card_emissions_mapping_in_grams_becomes_a_reported_training_activity_in_kg)
{
    struct ct_response r;

    registered("{'id':'hub/bloom','co2_eq_emissions':{'emissions':24700000,"
               "'source':'BLOOM paper','training_type':'pre-training',"
               "'geographical_location':'France','hardware_used':'384 A100'}}");
    only_activity("hub/bloom", &r);
    ck_assert_str_eq(str_at(&r, "items/0/kind"), "training");
    ck_assert_str_eq(str_at(&r, "items/0/obtained"), "reported");
    ASSERT_RANGE(&r, "items/0/co2e_kg", 24700, 24700, 24700);
    ct_response_cleanup(&r);
    ck_assert_msg(near(total_kg("hub/bloom", "none"), 24700), "the card's emissions are not E");
}
END_TEST

START_TEST(card_fine_tuning_training_type_gives_a_fine_tuning_activity)
{
    struct ct_response r;

    registered("{'id':'hub/base'}");
    registered("{'id':'hub/tuned','base_model':'hub/base',"
               "'co2_eq_emissions':{'emissions':1500,'training_type':'fine-tuning'}}");
    only_activity("hub/tuned", &r);
    ck_assert_str_eq(str_at(&r, "items/0/kind"), "fine_tuning");
    ck_assert_str_eq(str_at(&r, "items/0/obtained"), "reported");
    ASSERT_NUM(&r, "items/0/co2e_kg/value", 1.5);
    ct_response_cleanup(&r);

    /* Pre-training on a derived model is still training: the card says so. */
    registered("{'id':'hub/continued','base_model':'hub/base',"
               "'co2_eq_emissions':{'emissions':2000,'training_type':'pre-training'}}");
    only_activity("hub/continued", &r);
    ck_assert_str_eq(str_at(&r, "items/0/kind"), "training");
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(card_legacy_bare_number_is_grams_and_the_kind_follows_the_lineage)
{
    struct ct_response r;

    registered("{'id':'hub/legacy','co2_eq_emissions':5000}");
    only_activity("hub/legacy", &r);
    ck_assert_str_eq(str_at(&r, "items/0/kind"), "training");
    ck_assert_str_eq(str_at(&r, "items/0/obtained"), "reported");
    ASSERT_RANGE(&r, "items/0/co2e_kg", 5, 5, 5);
    ct_response_cleanup(&r);

    registered("{'id':'hub/legacy-ft','base_model':'hub/legacy','co2_eq_emissions':250.5}");
    only_activity("hub/legacy-ft", &r);
    ck_assert_str_eq(str_at(&r, "items/0/kind"), "fine_tuning");
    ASSERT_NUM(&r, "items/0/co2e_kg/value", 0.2505);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(card_base_model_string_is_a_finetune_and_a_list_is_a_merge)
{
    struct ct_response r;

    registered("{'id':'hub/a'}");
    registered("{'id':'hub/b'}");
    ct_send(srv, "POST", "/v1/models", "{'id':'hub/ft','base_model':'hub/a'}", &r);
    ASSERT_STATUS(&r, 201);
    ck_assert_int_eq(json_array_size(at(r.json, "parents")), 1);
    ck_assert_str_eq(str_at(&r, "parents/0/id"), "hub/a");
    ck_assert_str_eq(str_at(&r, "parents/0/relation"), "finetune");
    ct_response_cleanup(&r);

    ct_send(srv, "POST", "/v1/models", "{'id':'hub/merged','base_model':['hub/a','hub/b']}", &r);
    ASSERT_STATUS(&r, 201);
    ck_assert_int_eq(json_array_size(at(r.json, "parents")), 2);
    ck_assert_str_eq(str_at(&r, "parents/0/relation"), "merge");
    ck_assert_str_eq(str_at(&r, "parents/1/relation"), "merge");
    ct_response_cleanup(&r);

    ct_send(srv, "POST", "/v1/models",
            "{'id':'hub/quant','base_model':'hub/a','base_model_relation':'quantized'}", &r);
    ASSERT_STATUS(&r, 201);
    ck_assert_str_eq(str_at(&r, "parents/0/relation"), "quantized");
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(card_emission_errors_are_422_and_store_nothing)
{
    static const struct ct_step steps[] = {
        {"negative grams", "POST", "/v1/models",
         "{'id':'hub/neg','co2_eq_emissions':{'emissions':-1}}", NULL, 422, "invalid-input",
         "/co2_eq_emissions/emissions"},
        {"a mapping without emissions", "POST", "/v1/models",
         "{'id':'hub/none','co2_eq_emissions':{'source':'x'}}", NULL, 422, "invalid-input",
         "/co2_eq_emissions/emissions"},
        {"a negative bare number", "POST", "/v1/models", "{'id':'hub/neg2','co2_eq_emissions':-5}",
         NULL, 422, "invalid-input", "/co2_eq_emissions"},
        {"text instead of grams", "POST", "/v1/models",
         "{'id':'hub/text','co2_eq_emissions':'5 kg'}", NULL, 422, "invalid-input",
         "/co2_eq_emissions"},
        {"an unknown card member", "POST", "/v1/models",
         "{'id':'hub/extra','co2_eq_emissions':{'emissions':5,'kwh':3}}", NULL, 422,
         "invalid-input", "/co2_eq_emissions/kwh"},
        {"an empty base_model list", "POST", "/v1/models", "{'id':'hub/orphan','base_model':[]}",
         NULL, 422, "invalid-input", "/base_model"},
        {"an unknown base model", "POST", "/v1/models",
         "{'id':'hub/lost','base_model':'hub/nobody','co2_eq_emissions':5}", NULL, 422,
         "invalid-input", "/base_model"},
    };
    static const char *const ids[] = {"hub/neg",   "hub/none",   "hub/neg2", "hub/text",
                                      "hub/extra", "hub/orphan", "hub/lost"};
    struct ct_response r;
    char path[128];

    ct_run_steps(srv, steps, sizeof steps / sizeof steps[0]);
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        snprintf(path, sizeof path, "/v1/models/%s", ids[i]);
        ct_get(srv, path, &r);
        ck_assert_msg(r.status == 404, "%s was stored: %s", ids[i], r.body);
        ct_response_cleanup(&r);
    }
}
END_TEST

/* ---- inference profiles ---- */

START_TEST(measured_inference_profile_is_shown_by_get_and_priced_by_the_footprint)
{
    struct ct_response r;

    char etag[64];

    registered("{'id':'org/served'}");
    ck_assert_int_eq(ct_get(srv, "/v1/models/org/served", &r), 200);
    snprintf(etag, sizeof etag, "%s", r.etag);
    ct_response_cleanup(&r);
    ct_send(srv, "PATCH", "/v1/models/org/served",
            "{'inference':{'unit':'token','energy_kwh_per_inference':0.0001,"
            "'carbon_intensity':{'value':400,'unit':'g/kWh'}}}",
            &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_str_eq(str_at(&r, "inference/unit"), "token");
    ck_assert_str_eq(str_at(&r, "inference/source"), "measured");
    ct_response_cleanup(&r);

    ck_assert_int_eq(ct_get(srv, "/v1/models/org/served", &r), 200);
    ck_assert_msg(strcmp(r.etag, etag) != 0, "the profile changed but the ETag stayed %s", etag);
    ck_assert_str_eq(str_at(&r, "inference/unit"), "token");
    ck_assert_str_eq(str_at(&r, "inference/source"), "measured");
    ASSERT_RANGE(&r, "inference/energy_kwh_per_inference", 0.0001, 0.0001, 0.0001);
    ck_assert_str_eq(str_at(&r, "inference/carbon_intensity/source"), "explicit");
    ASSERT_NUM(&r, "inference/carbon_intensity/kg_per_kwh/value", 0.4);
    ct_response_cleanup(&r);

    /* 1000 inferences x 0.0001 kWh x 0.4 kg/kWh = 0.04 kg; 0.04 g each. */
    counted("org/served", 1000);
    footprint("org/served", "usage", &r);
    ASSERT_RANGE(&r, "inference_co2e_kg", 0.04, 0.04, 0.04);
    ASSERT_NUM(&r, "total_co2e_kg/value", 0.04);
    ASSERT_NUM(&r, "co2e_g_per_inference/value", 0.04);
    ck_assert_str_eq(str_at(&r, "inference_profile/from_model"), "org/served");
    /* No training or fine-tuning energy: the parity is 0 inferences. */
    ck_assert_int_eq(int_at(&r, "parity_inferences"), 0);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(derived_inference_profile_is_shown_by_get)
{
    struct ct_response r;

    registered("{'id':'org/derived'}");
    ct_send(srv, "PATCH", "/v1/models/org/derived",
            "{'inference':{'unit':'word','derived_from_training':"
            "{'ratio':0.5,'token_steps':128000000000}}}",
            &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);
    ck_assert_int_eq(ct_get(srv, "/v1/models/org/derived", &r), 200);
    ck_assert_str_eq(str_at(&r, "inference/unit"), "word");
    ck_assert_str_eq(str_at(&r, "inference/source"), "derived");
    ASSERT_NUM(&r, "inference/derived_from_training/ratio/value", 0.5);
    ASSERT_NUM(&r, "inference/derived_from_training/token_steps/value", 128000000000.0);
    ck_assert(json_is_null(at(r.json, "inference/derived_from_training/training_kwh")));
    /* Neither location nor intensity: the world default, said as such. */
    ck_assert_str_eq(str_at(&r, "inference/carbon_intensity/source"), "default");
    ASSERT_NUM(&r, "inference/carbon_intensity/kg_per_kwh/value", 0.475);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(inference_null_clears_the_profile)
{
    struct ct_response r;

    registered("{'id':'org/cleared'}");
    ct_send(srv, "PATCH", "/v1/models/org/cleared",
            "{'inference':{'energy_kwh_per_inference':0.002}}", &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_str_eq(str_at(&r, "inference/unit"), "request");
    ct_response_cleanup(&r);
    counted("org/cleared", 10);
    footprint("org/cleared", "none", &r);
    ck_assert_msg(json_is_object(at(r.json, "inference_profile")), "%s", r.body);
    ck_assert_msg(num_at(&r, "inference_co2e_kg/value") > 0, "%s", r.body);
    ct_response_cleanup(&r);

    ct_send(srv, "PATCH", "/v1/models/org/cleared", "{'inference':null}", &r);
    ASSERT_STATUS(&r, 200);
    ck_assert(json_is_null(at(r.json, "inference")));
    ct_response_cleanup(&r);
    ck_assert_int_eq(ct_get(srv, "/v1/models/org/cleared", &r), 200);
    ck_assert_msg(json_is_null(at(r.json, "inference")), "%s", r.body);
    ct_response_cleanup(&r);
    footprint("org/cleared", "none", &r);
    ck_assert(json_is_null(at(r.json, "inference_profile")));
    ASSERT_NUM(&r, "inference_co2e_kg/value", 0);
    ck_assert(json_is_null(at(r.json, "parity_inferences")));
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(inference_profile_errors_are_422_and_keep_the_old_profile)
{
    static const struct ct_step steps[] = {
        {"the model exists", "POST", "/v1/models", "{'id':'org/prof'}", NULL, 201, NULL, NULL},
        {"a first profile", "PATCH", "/v1/models/org/prof",
         "{'inference':{'unit':'token','energy_kwh_per_inference':0.001}}", NULL, 200, NULL, NULL},
        {"measured and derived at once", "PATCH", "/v1/models/org/prof",
         "{'inference':{'energy_kwh_per_inference':0.001,"
         "'derived_from_training':{'ratio':0.5,'token_steps':1000}}}",
         NULL, 422, "invalid-input", "/inference"},
        {"neither measured nor derived", "PATCH", "/v1/models/org/prof",
         "{'inference':{'unit':'token'}}", NULL, 422, "invalid-input", "/inference"},
        {"a unit with a space", "PATCH", "/v1/models/org/prof",
         "{'inference':{'unit':'a token','energy_kwh_per_inference':0.001}}", NULL, 422,
         "invalid-input", "/inference/unit"},
        {"an empty unit", "PATCH", "/v1/models/org/prof",
         "{'inference':{'unit':'','energy_kwh_per_inference':0.001}}", NULL, 422, "invalid-input",
         "/inference/unit"},
        {"a unit that is a number", "PATCH", "/v1/models/org/prof",
         "{'inference':{'unit':3,'energy_kwh_per_inference':0.001}}", NULL, 422, "invalid-input",
         "/inference/unit"},
        {"a negative energy per inference", "PATCH", "/v1/models/org/prof",
         "{'inference':{'energy_kwh_per_inference':-0.001}}", NULL, 422, "invalid-input",
         "/inference/energy_kwh_per_inference"},
        {"a negative ratio", "PATCH", "/v1/models/org/prof",
         "{'inference':{'derived_from_training':{'ratio':-0.5,'token_steps':1000}}}", NULL, 422,
         "invalid-input", "/inference/derived_from_training/ratio"},
        {"negative token steps", "PATCH", "/v1/models/org/prof",
         "{'inference':{'derived_from_training':{'token_steps':-1000}}}", NULL, 422,
         "invalid-input", "/inference/derived_from_training/token_steps"},
        {"no token steps", "PATCH", "/v1/models/org/prof",
         "{'inference':{'derived_from_training':{'ratio':0.5}}}", NULL, 422, "invalid-input",
         "/inference/derived_from_training/token_steps"},
        {"an unknown profile member", "PATCH", "/v1/models/org/prof",
         "{'inference':{'energy_kwh_per_inference':0.001,'gpu':'A100'}}", NULL, 422,
         "invalid-input", "/inference/gpu"},
        {"an intensity in an unknown unit", "PATCH", "/v1/models/org/prof",
         "{'inference':{'energy_kwh_per_inference':0.001,"
         "'carbon_intensity':{'value':1,'unit':'oz/kWh'}}}",
         NULL, 422, "invalid-input", NULL},
        {"a profile that is a number", "PATCH", "/v1/models/org/prof", "{'inference':5}", NULL, 422,
         "invalid-input", "/inference"},
        {"a profile for an unknown model", "PATCH", "/v1/models/org/ghost",
         "{'inference':{'energy_kwh_per_inference':0.001}}", NULL, 404, "not-found", NULL},
    };
    struct ct_response r;

    ct_run_steps(srv, steps, sizeof steps / sizeof steps[0]);
    ck_assert_int_eq(ct_get(srv, "/v1/models/org/prof", &r), 200);
    ck_assert_str_eq(str_at(&r, "inference/unit"), "token");
    ASSERT_NUM(&r, "inference/energy_kwh_per_inference/value", 0.001);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(seed_bert_like_base_with_ratio_half_has_a_parity_of_256e9_inferences)
{
    struct ct_response r;

    registered("{'id':'google/bert-like'}");
    activity_added("google/bert-like", "{'kind':'training','energy_kwh':1507,"
                                       "'carbon_intensity':{'value':0.954,'unit':'lb/kWh'}}");
    /* 1,000,000 steps x 128,000 tokens per step. */
    ct_send(srv, "PATCH", "/v1/models/google/bert-like",
            "{'inference':{'unit':'token','derived_from_training':"
            "{'ratio':0.5,'token_steps':128000000000}}}",
            &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);

    footprint("google/bert-like", "usage", &r);
    ck_assert_msg(json_is_integer(at(r.json, "parity_inferences")), "%s", r.body);
    ck_assert_int_eq(json_integer_value(at(r.json, "parity_inferences")), 256000000000LL);
    ASSERT_RANGE(&r, "lineage_energy_kwh", 1507, 1507, 1507);
    /* 0.5 x 1507 kWh / 1.28e11 token-steps. */
    ASSERT_NUM(&r, "inference_profile/energy_kwh_per_inference_used/value",
               0.5 * 1507 / 128000000000.0);
    ct_response_cleanup(&r);

    /* A fine-tune inherits the profile; its fine-tuning energy lengthens the parity:
     * (1507 + 150.7) / (0.5 x 1507 / 1.28e11) = 1.1 x 2.56e11. */
    registered("{'id':'org/bert-ft','parents':[{'id':'google/bert-like'}]}");
    activity_added("org/bert-ft", "{'kind':'fine_tuning','energy_kwh':150.7,"
                                  "'carbon_intensity':{'value':0.954,'unit':'lb/kWh'}}");
    footprint("org/bert-ft", "usage", &r);
    ck_assert_str_eq(str_at(&r, "inference_profile/from_model"), "google/bert-like");
    ck_assert_int_eq(int_at(&r, "parity_inferences"), 281600000000LL);
    ct_response_cleanup(&r);
}
END_TEST

/* ---- amortization, checked by hand ---- */

/* base (1000 kg reported) with fine-tunes ft1, ft2, ft3 (10, 20, 30 kg) that served
 * 100, 300 and 600 inferences. */
static void three_fine_tunes(void)
{
    registered("{'id':'fam/base'}");
    activity_added("fam/base", "{'kind':'training','co2e_kg':1000}");
    for (int i = 1; i <= 3; i++) {
        char body[128], id[32];
        snprintf(body, sizeof body, "{'id':'fam/ft%d','parents':[{'id':'fam/base'}]}", i);
        registered(body);
        snprintf(id, sizeof id, "fam/ft%d", i);
        snprintf(body, sizeof body, "{'kind':'fine_tuning','co2e_kg':%d}", 10 * i);
        activity_added(id, body);
    }
    counted("fam/ft1", 100);
    counted("fam/ft2", 300);
    counted("fam/ft3", 600);
}

static const char *const family_ids[] = {"fam/base", "fam/ft1", "fam/ft2", "fam/ft3"};

START_TEST(equal_policy_splits_the_base_equally_over_it_and_its_three_fine_tunes)
{
    static const double totals[] = {250, 260, 270, 280};
    struct ct_response r;

    three_fine_tunes();
    for (int i = 0; i < 4; i++) {
        footprint(family_ids[i], "equal", &r);
        ck_assert_str_eq(str_at(&r, "policy"), "equal");
        ASSERT_RANGE(&r, "total_co2e_kg", totals[i], totals[i], totals[i]);
        ASSERT_NUM(&r, "inference_co2e_kg/value", 0);
        assert_allocation(&r, "fam/base", 1000, 0.25, 250);
        if (i > 0) {
            ck_assert_int_eq(json_array_size(at(r.json, "allocations")), 2);
            assert_allocation(&r, family_ids[i], 10.0 * i, 1, 10.0 * i);
            ASSERT_NUM(&r, "inherited_co2e_kg/value", 250);
        } else {
            ck_assert_int_eq(json_array_size(at(r.json, "allocations")), 1);
            ASSERT_NUM(&r, "inherited_co2e_kg/value", 0);
        }
        ct_response_cleanup(&r);
    }
    /* 260 kg over 100 inferences. */
    footprint("fam/ft1", "equal", &r);
    ck_assert_int_eq(int_at(&r, "inferences"), 100);
    ASSERT_NUM(&r, "co2e_g_per_inference/value", 2600);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(usage_policy_splits_the_base_by_inferences)
{
    static const double totals[] = {0, 110, 320, 630};
    static const double shares[] = {0, 0.1, 0.3, 0.6};
    struct ct_response r;

    three_fine_tunes();
    for (int i = 0; i < 4; i++) {
        footprint(family_ids[i], "usage", &r);
        ASSERT_NUM(&r, "total_co2e_kg/value", totals[i]);
        assert_allocation(&r, "fam/base", 1000, shares[i], 1000 * shares[i]);
        ck_assert_msg(json_is_false(at(r.json, "usage_fallback")), "%s", r.body);
        ct_response_cleanup(&r);
    }
    /* usage is the default policy. */
    ct_get(srv, "/v1/models/fam/ft2/footprint", &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_str_eq(str_at(&r, "policy"), "usage");
    ASSERT_NUM(&r, "total_co2e_kg/value", 320);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(none_policy_keeps_each_model_to_its_own_emissions)
{
    static const double totals[] = {1000, 10, 20, 30};
    struct ct_response r;

    three_fine_tunes();
    for (int i = 0; i < 4; i++) {
        footprint(family_ids[i], "none", &r);
        ASSERT_NUM(&r, "total_co2e_kg/value", totals[i]);
        ASSERT_NUM(&r, "own_co2e_kg/value", totals[i]);
        ASSERT_NUM(&r, "inherited_co2e_kg/value", 0);
        if (i > 0)
            assert_allocation(&r, "fam/base", 1000, 0, 0);
        ct_response_cleanup(&r);
    }
}
END_TEST

/* Walks GET <path>?policy=<policy>&limit=<limit> by next_cursor, adding each member's
 * total and own emissions into *total and *own (members already in seen[] are
 * skipped; new ones are added to it). Returns the number of pages. */
static int walk_family(const char *model, const char *policy, int limit, char seen[][64],
                       size_t *n_seen, double *total, double *own)
{
    char url[512];
    int pages = 0;

    snprintf(url, sizeof url, "/v1/models/%s/family?policy=%s&limit=%d", model, policy, limit);
    for (;;) {
        struct ct_response r;
        const json_t *items, *cursor;
        ck_assert_int_le(pages, 50);
        ct_get(srv, url, &r);
        ASSERT_STATUS(&r, 200);
        pages++;
        ck_assert_str_eq(str_at(&r, "policy"), policy);
        items = at(r.json, "items");
        ck_assert_msg(json_array_size(items) <= (size_t)limit, "page too long: %s", r.body);
        for (size_t i = 0; i < json_array_size(items); i++) {
            const json_t *item = json_array_get(items, i);
            const char *id = json_string_value(json_object_get(item, "id"));
            bool dup = false;
            ck_assert_ptr_nonnull(id);
            for (size_t k = 0; k < *n_seen; k++)
                dup = dup || strcmp(seen[k], id) == 0;
            if (dup)
                continue;
            snprintf(seen[(*n_seen)++], 64, "%s", id);
            *total += json_number_value(at(item, "footprint/total_co2e_kg/value"));
            *own += json_number_value(at(item, "footprint/own_co2e_kg/value")) +
                    json_number_value(at(item, "footprint/inference_co2e_kg/value"));
        }
        cursor = at(r.json, "next_cursor");
        if (!json_is_string(cursor)) {
            ck_assert_msg(json_is_null(cursor), "next_cursor: %s", r.body);
            ct_response_cleanup(&r);
            return pages;
        }
        snprintf(url, sizeof url, "/v1/models/%s/family?policy=%s&limit=%d&cursor=%s", model,
                 policy, limit, json_string_value(cursor));
        ct_response_cleanup(&r);
    }
}

START_TEST(family_pages_add_up_to_the_family_emissions_under_every_policy)
{
    static const char *const policies[] = {"none", "equal", "usage"};
    struct ct_response r;

    three_fine_tunes();
    /* A grandchild with its own profile, so inference emissions take part too. */
    registered("{'id':'fam/grand','parents':[{'id':'fam/ft3'}]}");
    activity_added("fam/grand", "{'kind':'fine_tuning','co2e_kg':5}");
    ct_send(srv, "PATCH", "/v1/models/fam/grand",
            "{'inference':{'energy_kwh_per_inference':0.01,"
            "'carbon_intensity':{'value':1,'unit':'kg/kWh'}}}",
            &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);
    counted("fam/grand", 200); /* 2 kg of inference emissions */

    for (size_t p = 0; p < 3; p++) {
        char seen[8][64];
        size_t n_seen = 0;
        double total = 0, own = 0;
        int pages = walk_family("fam/base", policies[p], 2, seen, &n_seen, &total, &own);
        ck_assert_int_eq(pages, 3);
        ck_assert_uint_eq(n_seen, 5);
        ck_assert_msg(near(own, 1000 + 10 + 20 + 30 + 5 + 2), "policy %s: own %.17g", policies[p],
                      own);
        ck_assert_msg(near(total, own), "policy %s: the family carries %.17g kg, emitted %.17g",
                      policies[p], total, own);
    }
    ck_assert_int_eq(ct_get(srv, "/v1/models/fam/base/family?limit=2", &r), 200);
    ck_assert_int_eq(int_at(&r, "family_size"), 5);
    ck_assert_msg(strstr(r.link, "rel=\"next\"") != NULL, "Link '%s'", r.link);
    ct_response_cleanup(&r);
}
END_TEST

/* base-a (600 kg) with a fine-tune, base-c (300 kg), and a merge of the two. */
static void two_bases_and_a_merge(void)
{
    registered("{'id':'mrg/base-a'}");
    registered("{'id':'mrg/base-c'}");
    activity_added("mrg/base-a", "{'kind':'training','co2e_kg':600}");
    activity_added("mrg/base-c", "{'kind':'training','co2e_kg':300}");
    registered("{'id':'mrg/ft','parents':[{'id':'mrg/base-a'}]}");
    registered("{'id':'mrg/merged','parents':[{'id':'mrg/base-a','relation':'merge'},"
               "{'id':'mrg/base-c','relation':'merge'}]}");
}

START_TEST(merge_carries_an_equal_share_of_each_base)
{
    struct ct_response r;

    two_bases_and_a_merge();
    /* D(base-a) = {base-a, ft, merged}: 200 each; D(base-c) = {base-c, merged}: 150. */
    footprint("mrg/merged", "equal", &r);
    ASSERT_RANGE(&r, "total_co2e_kg", 350, 350, 350);
    ck_assert_int_eq(json_array_size(at(r.json, "allocations")), 3);
    assert_allocation(&r, "mrg/base-a", 600, 1.0 / 3, 200);
    assert_allocation(&r, "mrg/base-c", 300, 0.5, 150);
    assert_allocation(&r, "mrg/merged", 0, 1, 0);
    ct_response_cleanup(&r);

    ck_assert_msg(near(total_kg("mrg/base-a", "equal"), 200), "base-a keeps 200 kg");
    ck_assert_msg(near(total_kg("mrg/ft", "equal"), 200), "ft carries 200 kg");
    ck_assert_msg(near(total_kg("mrg/base-c", "equal"), 150), "base-c keeps 150 kg");

    /* Without inferences anywhere, usage falls back to equal and says so. */
    footprint("mrg/merged", "usage", &r);
    ASSERT_NUM(&r, "total_co2e_kg/value", 350);
    ck_assert_msg(json_is_true(at(r.json, "usage_fallback")), "%s", r.body);
    ck_assert_msg(json_is_true(json_object_get(allocation(&r, "mrg/base-a"), "usage_fallback")),
                  "%s", r.body);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(merge_family_conserves_emissions_across_both_bases)
{
    static const char *const policies[] = {"none", "equal", "usage"};

    two_bases_and_a_merge();
    counted("mrg/ft", 30);
    counted("mrg/merged", 10);
    for (size_t p = 0; p < 3; p++) {
        char seen[8][64];
        size_t n_seen = 0;
        double total = 0, own = 0;
        walk_family("mrg/base-a", policies[p], 1, seen, &n_seen, &total, &own);
        walk_family("mrg/base-c", policies[p], 1, seen, &n_seen, &total, &own);
        ck_assert_uint_eq(n_seen, 4);
        ck_assert_msg(near(own, 900) && near(total, 900), "policy %s: own %.17g, carried %.17g",
                      policies[p], own, total);
    }
    /* usage: base-a's 600 kg over 40 inferences (30 in ft, 10 in merged); base-c's
     * 300 kg all to merged. merged = 150 + 300 = 450. */
    ck_assert_msg(near(total_kg("mrg/merged", "usage"), 450), "merged under usage");
    ck_assert_msg(near(total_kg("mrg/ft", "usage"), 450), "ft under usage");
}
END_TEST

START_TEST(diamond_counts_a_merge_once_in_the_shared_ancestor_family)
{
    static const char *const policies[] = {"none", "equal", "usage"};
    struct ct_response r;

    registered("{'id':'dia/root'}");
    activity_added("dia/root", "{'kind':'training','co2e_kg':400}");
    registered("{'id':'dia/left','parents':[{'id':'dia/root'}]}");
    registered("{'id':'dia/right','parents':[{'id':'dia/root'}]}");
    registered("{'id':'dia/merged','parents':[{'id':'dia/left','relation':'merge'},"
               "{'id':'dia/right','relation':'merge'}]}");
    counted("dia/merged", 10);
    counted("dia/left", 30);

    /* D(root) = {root, left, right, merged}: merged is one member, not two. */
    footprint("dia/merged", "equal", &r);
    assert_allocation(&r, "dia/root", 400, 0.25, 100);
    ASSERT_NUM(&r, "total_co2e_kg/value", 100);
    ct_response_cleanup(&r);
    /* usage: 40 inferences below root, 10 of them in merged. */
    footprint("dia/merged", "usage", &r);
    assert_allocation(&r, "dia/root", 400, 0.25, 100);
    ct_response_cleanup(&r);
    ck_assert_msg(near(total_kg("dia/left", "usage"), 300), "left carries 30/40 of 400 kg");

    ck_assert_int_eq(ct_get(srv, "/v1/models/dia/root/family", &r), 200);
    ck_assert_int_eq(int_at(&r, "family_size"), 4);
    ct_response_cleanup(&r);
    for (size_t p = 0; p < 3; p++) {
        char seen[8][64];
        size_t n_seen = 0;
        double total = 0, own = 0;
        walk_family("dia/root", policies[p], 3, seen, &n_seen, &total, &own);
        ck_assert_uint_eq(n_seen, 4);
        ck_assert_msg(near(total, 400), "policy %s: the family carries %.17g kg", policies[p],
                      total);
    }
}
END_TEST

START_TEST(deleting_a_counted_leaf_gives_its_share_back_to_the_family)
{
    struct ct_response r;

    three_fine_tunes();
    ck_assert_int_eq(ct_request(srv, "DELETE", "/v1/models/fam/ft3", NULL, NULL, 0, &r), 204);
    ct_response_cleanup(&r);
    /* usage: the base's 1000 kg now over 400 inferences (100 and 300). */
    ck_assert_msg(near(total_kg("fam/ft1", "usage"), 250 + 10), "ft1 after the delete");
    ck_assert_msg(near(total_kg("fam/ft2", "usage"), 750 + 20), "ft2 after the delete");
    /* equal: over 3 members. */
    footprint("fam/ft1", "equal", &r);
    assert_allocation(&r, "fam/base", 1000, 1.0 / 3, 1000.0 / 3);
    ct_response_cleanup(&r);
    footprint("fam/base", "usage", &r);
    ck_assert_int_eq(
        json_integer_value(json_object_get(allocation(&r, "fam/base"), "family_inferences")), 400);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(reparenting_a_counted_subtree_moves_its_inferences_and_share)
{
    static const char *const policies[] = {"equal", "usage"};
    struct ct_response r;

    registered("{'id':'mov/old'}");
    registered("{'id':'mov/new'}");
    activity_added("mov/old", "{'kind':'training','co2e_kg':100}");
    activity_added("mov/new", "{'kind':'training','co2e_kg':200}");
    registered("{'id':'mov/stay','parents':[{'id':'mov/old'}]}");
    registered("{'id':'mov/ft','parents':[{'id':'mov/old'}]}");
    registered("{'id':'mov/grand','parents':[{'id':'mov/ft'}]}");
    counted("mov/stay", 10);
    counted("mov/ft", 20);
    counted("mov/grand", 30);

    ct_send(srv, "PATCH", "/v1/models/mov/ft", "{'parents':[{'id':'mov/new'}]}", &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);

    /* old keeps {old, stay}: 10 inferences; new gains {ft, grand}: 50. */
    footprint("mov/old", "usage", &r);
    ck_assert_int_eq(int_at(&r, "allocations/0/family_size"), 2);
    ck_assert_int_eq(int_at(&r, "allocations/0/family_inferences"), 10);
    ct_response_cleanup(&r);
    footprint("mov/grand", "usage", &r);
    assert_allocation(&r, "mov/new", 200, 0.6, 120);
    ck_assert_msg(json_integer_value(json_object_get(allocation(&r, "mov/new"), "family_size")) ==
                      3,
                  "%s", r.body);
    ct_response_cleanup(&r);
    ck_assert_msg(near(total_kg("mov/stay", "usage"), 100), "stay carries all of old");
    for (size_t p = 0; p < 2; p++) {
        char seen[8][64];
        size_t n_seen = 0;
        double total = 0, own = 0;
        walk_family("mov/old", policies[p], 10, seen, &n_seen, &total, &own);
        walk_family("mov/new", policies[p], 10, seen, &n_seen, &total, &own);
        ck_assert_uint_eq(n_seen, 5);
        ck_assert_msg(near(total, 300) && near(own, 300), "policy %s: own %g, carried %g",
                      policies[p], own, total);
    }
}
END_TEST

START_TEST(reparenting_that_would_overflow_a_family_count_is_refused_and_changes_nothing)
{
    struct ct_response r;

    registered("{'id':'ovf/a'}");
    registered("{'id':'ovf/b'}");
    registered("{'id':'ovf/big','parents':[{'id':'ovf/a'}]}");
    counted("ovf/big", INT64_MAX);
    counted("ovf/b", 1);
    /* Under b the family would count 2^63 inferences. */
    ct_send(srv, "PATCH", "/v1/models/ovf/big", "{'parents':[{'id':'ovf/b'}]}", &r);
    ck_assert_msg(r.status == 422 || r.status == 409, "answered %ld: %s", r.status, r.body);
    CT_ASSERT_PROBLEM(&r, r.status, r.status == 422 ? "invalid-input" : "conflict", NULL);
    ct_response_cleanup(&r);
    ck_assert_int_eq(ct_get(srv, "/v1/models/ovf/big", &r), 200);
    ck_assert_str_eq(str_at(&r, "parents/0/id"), "ovf/a");
    ct_response_cleanup(&r);
    footprint("ovf/b", "usage", &r);
    ck_assert_int_eq(int_at(&r, "allocations/0/family_inferences"), 1);
    ct_response_cleanup(&r);
}
END_TEST

/* ---- counts ---- */

START_TEST(post_inferences_without_an_idempotency_key_is_400)
{
    struct ct_response r;

    registered("{'id':'cnt/m'}");
    send_keyed("POST", "/v1/models/cnt/m/inferences", NULL, "{'count':5}", &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", NULL);
    ck_assert_msg(strstr(str_at(&r, "detail"), "Idempotency-Key") != NULL, "%s", r.body);
    ct_response_cleanup(&r);
    send_keyed("POST", "/v1/models/cnt/m/inferences", "", "{'count':5}", &r);
    ck_assert_msg(r.status == 400, "an empty key answered %ld: %s", r.status, r.body);
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("cnt/m"), 0);
}
END_TEST

START_TEST(same_key_and_body_replays_the_first_answer_without_counting_again)
{
    struct ct_raw_response first, again, reordered;
    char replayed[32];

    registered("{'id':'cnt/m'}");
    raw_keyed("POST", "/v1/models/cnt/m/inferences", "k-1", "{'count':7,'date':'2024-03-01'}",
              &first);
    ck_assert_msg(first.status == 200, "answered %d: %s", first.status, first.body);
    ck_assert_msg(ct_raw_header(&first, "Idempotent-Replayed", replayed, sizeof replayed) == NULL,
                  "a first answer says it was replayed");
    ck_assert_int_eq(json_integer_value(json_object_get(first.json, "count")), 7);
    ck_assert_int_eq(json_integer_value(json_object_get(first.json, "total_inferences")), 7);

    raw_keyed("POST", "/v1/models/cnt/m/inferences", "k-1", "{'count':7,'date':'2024-03-01'}",
              &again);
    ck_assert_msg(again.status == 200, "answered %d: %s", again.status, again.body);
    ck_assert_msg(ct_raw_header(&again, "Idempotent-Replayed", replayed, sizeof replayed) &&
                      strcmp(replayed, "true") == 0,
                  "no Idempotent-Replayed: true in %s", again.head);
    ck_assert_msg(json_equal(first.json, again.json), "replay %s differs from %s", again.body,
                  first.body);

    /* Member order and spacing do not make another request. */
    raw_keyed("POST", "/v1/models/cnt/m/inferences", "k-1", "{ 'date':'2024-03-01', 'count':7 }",
              &reordered);
    ck_assert_msg(reordered.status == 200 && json_equal(first.json, reordered.json),
                  "reordered body answered %d: %s", reordered.status, reordered.body);
    ct_raw_cleanup(&reordered);
    ct_raw_cleanup(&again);
    ct_raw_cleanup(&first);
    ck_assert_int_eq(inferences_of("cnt/m"), 7);
}
END_TEST

START_TEST(same_key_with_another_body_or_model_is_422_and_counts_nothing)
{
    struct ct_response r;

    registered("{'id':'cnt/m'}");
    registered("{'id':'cnt/n'}");
    send_keyed("POST", "/v1/models/cnt/m/inferences", "k-2", "{'count':5}", &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);
    send_keyed("POST", "/v1/models/cnt/m/inferences", "k-2", "{'count':6}", &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", NULL);
    ct_response_cleanup(&r);
    send_keyed("POST", "/v1/models/cnt/n/inferences", "k-2", "{'count':5}", &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", NULL);
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("cnt/m"), 5);
    ck_assert_int_eq(inferences_of("cnt/n"), 0);
}
END_TEST

static const struct {
    const char *name;
    const char *body;
    long status;
    const char *pointer;
} bad_counts[] = {
    {"a negative count", "{'count':-1}", 422, "/count"},
    {"a fractional count", "{'count':1.5}", 422, "/count"},
    {"a count as text", "{'count':'10'}", 422, "/count"},
    {"a null count", "{'count':null}", 422, "/count"},
    {"no count", "{}", 422, "/count"},
    {"an unknown member", "{'count':1,'model':'cnt/m'}", 422, "/model"},
    {"a date that does not exist", "{'count':1,'date':'2024-02-30'}", 422, "/date"},
    {"a date in the future", "{'count':1,'date':'2999-01-01'}", 422, "/date"},
};

START_TEST(bad_counts_are_422_naming_the_field_and_count_nothing)
{
    struct ct_response r;
    char key[32];

    registered("{'id':'cnt/m'}");
    snprintf(key, sizeof key, "bad-%d", _i);
    send_keyed("POST", "/v1/models/cnt/m/inferences", key, bad_counts[_i].body, &r);
    ck_assert_msg(r.status == bad_counts[_i].status, "%s answered %ld: %s", bad_counts[_i].name,
                  r.status, r.body);
    CT_ASSERT_PROBLEM(&r, bad_counts[_i].status, "invalid-input", bad_counts[_i].pointer);
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("cnt/m"), 0);
}
END_TEST

START_TEST(counts_that_would_overflow_64_bits_are_refused)
{
    struct ct_response r;

    registered("{'id':'cnt/base'}");
    registered("{'id':'cnt/child','parents':[{'id':'cnt/base'}]}");
    send_keyed("POST", "/v1/models/cnt/child/inferences", "max", "{'count':9223372036854775807}",
               &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_int_eq(int_at(&r, "total_inferences"), INT64_MAX);
    ct_response_cleanup(&r);

    send_keyed("POST", "/v1/models/cnt/child/inferences", "plus-one", "{'count':1}", &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", "/count");
    ct_response_cleanup(&r);
    /* The base's family total would overflow too: one more on the base is refused. */
    send_keyed("POST", "/v1/models/cnt/base/inferences", "base-one", "{'count':1}", &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", "/count");
    ct_response_cleanup(&r);
    ct_send(srv, "PUT", "/v1/models/cnt/base/inference-counters/r1", "{'total':1}", &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", "/total");
    ct_response_cleanup(&r);

    /* 2^63 itself is not a 64-bit integer. */
    send_keyed("POST", "/v1/models/cnt/base/inferences", "two-63", "{'count':9223372036854775808}",
               &r);
    ck_assert_msg(r.status == 400 || r.status == 422, "2^63 answered %ld: %s", r.status, r.body);
    ct_response_cleanup(&r);

    ck_assert_int_eq(inferences_of("cnt/child"), INT64_MAX);
    ck_assert_int_eq(inferences_of("cnt/base"), 0);
    footprint("cnt/child", "usage", &r);
    ASSERT_NUM(&r, "co2e_g_per_inference/value", 0);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(counter_counts_increases_and_refuses_a_decrease_without_reset)
{
    struct ct_response r;

    registered("{'id':'cnt/m'}");
    ct_send(srv, "PUT", "/v1/models/cnt/m/inference-counters/edge-1", "{'total':100}", &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_int_eq(int_at(&r, "counted"), 100);
    ck_assert_int_eq(int_at(&r, "previous_total"), 0);
    ck_assert_str_eq(str_at(&r, "reporter"), "edge-1");
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("cnt/m"), 100);

    ct_send(srv, "PUT", "/v1/models/cnt/m/inference-counters/edge-1", "{'total':150}", &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_int_eq(int_at(&r, "counted"), 50);
    ck_assert_int_eq(int_at(&r, "previous_total"), 100);
    ct_response_cleanup(&r);

    /* Repeating the same total counts nothing: a PUT is idempotent. */
    ct_send(srv, "PUT", "/v1/models/cnt/m/inference-counters/edge-1", "{'total':150}", &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_int_eq(int_at(&r, "counted"), 0);
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("cnt/m"), 150);

    ct_send(srv, "PUT", "/v1/models/cnt/m/inference-counters/edge-1", "{'total':120}", &r);
    CT_ASSERT_PROBLEM(&r, 409, "conflict", "/total");
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("cnt/m"), 150);

    ct_send(srv, "PUT", "/v1/models/cnt/m/inference-counters/edge-1", "{'total':120,'reset':true}",
            &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_int_eq(int_at(&r, "counted"), 120);
    ck_assert_msg(json_is_true(at(r.json, "reset")), "%s", r.body);
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("cnt/m"), 270);

    /* After the reset the counter runs from 120. */
    ct_send(srv, "PUT", "/v1/models/cnt/m/inference-counters/edge-1", "{'total':125}", &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_int_eq(int_at(&r, "counted"), 5);
    ct_response_cleanup(&r);

    /* Reporters are counted separately. */
    ct_send(srv, "PUT", "/v1/models/cnt/m/inference-counters/edge-2", "{'total':30}", &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_int_eq(int_at(&r, "counted"), 30);
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("cnt/m"), 305);
}
END_TEST

START_TEST(counter_errors_are_refused_and_count_nothing)
{
    static const struct ct_step steps[] = {
        {"the model exists", "POST", "/v1/models", "{'id':'cnt/m'}", NULL, 201, NULL, NULL},
        {"a negative total", "PUT", "/v1/models/cnt/m/inference-counters/r", "{'total':-1}", NULL,
         422, "invalid-input", "/total"},
        {"a fractional total", "PUT", "/v1/models/cnt/m/inference-counters/r", "{'total':0.5}",
         NULL, 422, "invalid-input", "/total"},
        {"a total as text", "PUT", "/v1/models/cnt/m/inference-counters/r", "{'total':'5'}", NULL,
         422, "invalid-input", "/total"},
        {"reset that is not a boolean", "PUT", "/v1/models/cnt/m/inference-counters/r",
         "{'total':5,'reset':'yes'}", NULL, 422, "invalid-input", "/reset"},
        {"an unknown member", "PUT", "/v1/models/cnt/m/inference-counters/r",
         "{'total':5,'delta':1}", NULL, 422, "invalid-input", "/delta"},
        {"a reporter with a space", "PUT", "/v1/models/cnt/m/inference-counters/a%20b",
         "{'total':5}", NULL, 404, "not-found", NULL},
        {"an unknown model", "PUT", "/v1/models/cnt/ghost/inference-counters/r", "{'total':5}",
         NULL, 404, "not-found", NULL},
    };

    ct_run_steps(srv, steps, sizeof steps / sizeof steps[0]);
    ck_assert_int_eq(inferences_of("cnt/m"), 0);
}
END_TEST

START_TEST(inferences_on_an_unknown_model_are_404)
{
    struct ct_response r;

    send_keyed("POST", "/v1/models/cnt/ghost/inferences", "ghost-1", "{'count':5}", &r);
    CT_ASSERT_PROBLEM(&r, 404, "not-found", NULL);
    ct_response_cleanup(&r);
    ct_get(srv, "/v1/models/cnt/ghost/inferences", &r);
    CT_ASSERT_PROBLEM(&r, 404, "not-found", NULL);
    ct_response_cleanup(&r);
    /* The key was not spent on the failure. */
    registered("{'id':'cnt/ghost'}");
    send_keyed("POST", "/v1/models/cnt/ghost/inferences", "ghost-1", "{'count':5}", &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("cnt/ghost"), 5);
}
END_TEST

START_TEST(batch_counts_every_model_in_one_request_and_replays_by_key)
{
    struct ct_raw_response first, again;
    struct ct_response r;
    char replayed[32];
    static const char batch[] = "{'reports':[{'model':'bat/a','count':10},"
                                "{'model':'bat/b','count':20,'date':'2024-05-01'},"
                                "{'model':'bat/a','count':5}]}";

    registered("{'id':'bat/a'}");
    registered("{'id':'bat/b'}");
    raw_keyed("POST", "/v1/inference-reports", "batch-1", batch, &first);
    ck_assert_msg(first.status == 200, "answered %d: %s", first.status, first.body);
    ck_assert_int_eq(json_integer_value(json_object_get(first.json, "reports")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(first.json, "counted")), 35);
    ck_assert_int_eq(inferences_of("bat/a"), 15);
    ck_assert_int_eq(inferences_of("bat/b"), 20);

    raw_keyed("POST", "/v1/inference-reports", "batch-1", batch, &again);
    ck_assert_msg(again.status == 200 && json_equal(first.json, again.json),
                  "replay answered %d: %s", again.status, again.body);
    ck_assert_msg(ct_raw_header(&again, "Idempotent-Replayed", replayed, sizeof replayed) &&
                      strcmp(replayed, "true") == 0,
                  "no Idempotent-Replayed: true in %s", again.head);
    ct_raw_cleanup(&again);
    ct_raw_cleanup(&first);
    ck_assert_int_eq(inferences_of("bat/a"), 15);
    ck_assert_int_eq(inferences_of("bat/b"), 20);

    send_keyed("POST", "/v1/inference-reports", "batch-1",
               "{'reports':[{'model':'bat/a','count':11}]}", &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", NULL);
    ct_response_cleanup(&r);
    send_keyed("POST", "/v1/inference-reports", NULL, "{'reports':[{'model':'bat/a','count':1}]}",
               &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", NULL);
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("bat/a"), 15);
}
END_TEST

START_TEST(batch_with_an_unknown_model_is_422_naming_it_and_counts_nothing)
{
    struct ct_response r;

    registered("{'id':'bat/a'}");
    registered("{'id':'bat/b'}");
    send_keyed("POST", "/v1/inference-reports", "batch-2",
               "{'reports':[{'model':'bat/a','count':10},{'model':'bat/b','count':20},"
               "{'model':'bat/ghost','count':30}]}",
               &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", "/reports/2/model");
    ck_assert_msg(strstr(r.body, "bat/ghost") != NULL, "%s", r.body);
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("bat/a"), 0);
    ck_assert_int_eq(inferences_of("bat/b"), 0);

    /* Item errors are found before anything is counted. */
    send_keyed("POST", "/v1/inference-reports", "batch-3",
               "{'reports':[{'model':'bat/a','count':10},{'model':'bat/b','count':-2},"
               "{'model':'no-slash','count':1},{'model':'bat/a','count':1,'x':1}]}",
               &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", "/reports/1/count");
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", "/reports/2/model");
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", "/reports/3/x");
    ct_response_cleanup(&r);
    send_keyed("POST", "/v1/inference-reports", "batch-4", "{'reports':[]}", &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", "/reports");
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("bat/a"), 0);

    /* The failed key was not spent: the corrected batch goes through under it. */
    send_keyed("POST", "/v1/inference-reports", "batch-2",
               "{'reports':[{'model':'bat/a','count':10},{'model':'bat/b','count':20}]}", &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("bat/a"), 10);
}
END_TEST

START_TEST(batch_that_would_overflow_a_family_total_is_422_at_the_first_such_item)
{
    struct ct_response r;

    registered("{'id':'bov/base'}");
    registered("{'id':'bov/left','parents':[{'id':'bov/base'}]}");
    registered("{'id':'bov/right','parents':[{'id':'bov/base'}]}");
    registered("{'id':'bov/merged','parents':[{'id':'bov/left','relation':'merge'},"
               "{'id':'bov/right','relation':'merge'}]}");
    counted("bov/left", INT64_MAX - 3);
    /* The merge reaches the base through both parents but counts there once: 2 fit,
     * then the base's family total has room for 1 only. */
    send_keyed("POST", "/v1/inference-reports", "bov-1",
               "{'reports':[{'model':'bov/merged','count':2},{'model':'bov/right','count':1},"
               "{'model':'bov/merged','count':1},{'model':'bov/ghost','count':1}]}",
               &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", "/reports/2/count");
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("bov/merged"), 0);
    ck_assert_int_eq(inferences_of("bov/right"), 0);

    send_keyed("POST", "/v1/inference-reports", "bov-1",
               "{'reports':[{'model':'bov/merged','count':2},{'model':'bov/right','count':1}]}",
               &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_int_eq(int_at(&r, "counted"), 3);
    ct_response_cleanup(&r);
    ck_assert_int_eq(inferences_of("bov/merged"), 2);
    ck_assert_int_eq(inferences_of("bov/left"), INT64_MAX - 3);
}
END_TEST

START_TEST(daily_series_is_dense_and_bounded_to_366_days)
{
    static const struct ct_step steps[] = {
        {"a day that does not exist", "GET", "/v1/models/ser/m/inferences?from=2024-02-30", NULL,
         NULL, 400, "bad-request", NULL},
        {"a date in another format", "GET", "/v1/models/ser/m/inferences?from=01/02/2024", NULL,
         NULL, 400, "bad-request", NULL},
        {"a bad 'to'", "GET", "/v1/models/ser/m/inferences?from=2024-01-01&to=2024-13-01", NULL,
         NULL, 400, "bad-request", NULL},
        {"from after to", "GET", "/v1/models/ser/m/inferences?from=2024-01-05&to=2024-01-04", NULL,
         NULL, 400, "bad-request", NULL},
        {"367 days", "GET", "/v1/models/ser/m/inferences?from=2023-01-01&to=2024-01-02", NULL, NULL,
         400, "bad-request", NULL},
        {"an unknown parameter", "GET", "/v1/models/ser/m/inferences?day=2024-01-01", NULL, NULL,
         400, "bad-request", NULL},
    };
    struct ct_response r;

    registered("{'id':'ser/m'}");
    send_keyed("POST", "/v1/models/ser/m/inferences", "d1", "{'count':4,'date':'2024-01-02'}", &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_str_eq(str_at(&r, "date"), "2024-01-02");
    ct_response_cleanup(&r);
    send_keyed("POST", "/v1/models/ser/m/inferences", "d2", "{'count':6,'date':'2024-01-02'}", &r);
    ct_response_cleanup(&r);
    ct_send(srv, "PUT", "/v1/models/ser/m/inference-counters/r", "{'total':9,'date':'2024-01-04'}",
            &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);
    send_keyed("POST", "/v1/models/ser/m/inferences", "d3", "{'count':100,'date':'2023-12-31'}",
               &r);
    ct_response_cleanup(&r);

    ck_assert_int_eq(ct_get(srv, "/v1/models/ser/m/inferences?from=2024-01-01&to=2024-01-05", &r),
                     200);
    ck_assert_str_eq(str_at(&r, "from"), "2024-01-01");
    ck_assert_str_eq(str_at(&r, "to"), "2024-01-05");
    ck_assert_int_eq(json_array_size(at(r.json, "days")), 5);
    {
        static const char *const dates[] = {"2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04",
                                            "2024-01-05"};
        static const long long counts[] = {0, 10, 0, 9, 0};
        char path[32];
        for (int i = 0; i < 5; i++) {
            snprintf(path, sizeof path, "days/%d/date", i);
            ck_assert_str_eq(str_at(&r, path), dates[i]);
            snprintf(path, sizeof path, "days/%d/count", i);
            ck_assert_msg(int_at(&r, path) == counts[i], "day %s: %s", dates[i], r.body);
        }
    }
    ct_response_cleanup(&r);

    /* 366 days, leap year: the longest series. */
    ck_assert_int_eq(ct_get(srv, "/v1/models/ser/m/inferences?from=2024-01-01&to=2024-12-31", &r),
                     200);
    ck_assert_int_eq(json_array_size(at(r.json, "days")), 366);
    ct_response_cleanup(&r);
    /* One day. */
    ck_assert_int_eq(ct_get(srv, "/v1/models/ser/m/inferences?from=2023-12-31&to=2023-12-31", &r),
                     200);
    ck_assert_int_eq(json_array_size(at(r.json, "days")), 1);
    ck_assert_int_eq(int_at(&r, "days/0/count"), 100);
    ct_response_cleanup(&r);
    /* The default: the last 30 days, ending today. */
    ck_assert_int_eq(ct_get(srv, "/v1/models/ser/m/inferences", &r), 200);
    ck_assert_int_eq(json_array_size(at(r.json, "days")), 30);
    ct_response_cleanup(&r);

    ct_run_steps(srv, steps, sizeof steps / sizeof steps[0]);
}
END_TEST

/* ---- footprint, family and ancestors ---- */

START_TEST(footprint_errors_are_400_and_404)
{
    static const struct ct_step steps[] = {
        {"the model exists", "POST", "/v1/models", "{'id':'fp/m'}", NULL, 201, NULL, NULL},
        {"an unknown policy", "GET", "/v1/models/fp/m/footprint?policy=fair", NULL, NULL, 400,
         "bad-request", NULL},
        {"an empty policy", "GET", "/v1/models/fp/m/footprint?policy=", NULL, NULL, 400,
         "bad-request", NULL},
        {"an unknown parameter", "GET", "/v1/models/fp/m/footprint?scope=all", NULL, NULL, 400,
         "bad-request", NULL},
        {"an unknown model", "GET", "/v1/models/fp/ghost/footprint", NULL, NULL, 404, "not-found",
         NULL},
        {"the family of an unknown model", "GET", "/v1/models/fp/ghost/family", NULL, NULL, 404,
         "not-found", NULL},
        {"the family of a malformed id", "GET", "/v1/models/fp%60/m/family", NULL, NULL, 404,
         "not-found", NULL},
        {"the footprint of a malformed id", "GET", "/v1/models/fp%60/m/footprint", NULL, NULL, 404,
         "not-found", NULL},
        {"a family with an unknown policy", "GET", "/v1/models/fp/m/family?policy=fair", NULL, NULL,
         400, "bad-request", NULL},
        {"a family page of 0", "GET", "/v1/models/fp/m/family?limit=0", NULL, NULL, 400,
         "bad-request", NULL},
        {"the ancestors of an unknown model", "GET", "/v1/models/fp/ghost/ancestors", NULL, NULL,
         404, "not-found", NULL},
    };

    ct_run_steps(srv, steps, sizeof steps / sizeof steps[0]);
}
END_TEST

/* GET path with If-None-Match: etag. */
static long get_if_none_match(const char *path, const char *etag, struct ct_response *out)
{
    char header[128];
    const char *headers[] = {header, NULL};

    snprintf(header, sizeof header, "If-None-Match: %s", etag);
    return ct_request(srv, "GET", path, headers, NULL, 0, out);
}

/* GET path, then GET it again with If-None-Match naming the ETag it gave: 304 with
 * the same ETag and no body; another tag gives 200. */
static void assert_revalidates(const char *path)
{
    struct ct_response r, cached;
    char etag[64];

    ck_assert_int_eq(ct_get(srv, path, &r), 200);
    ck_assert_msg(strlen(r.etag) > 2, "%s has no ETag", path);
    snprintf(etag, sizeof etag, "%s", r.etag);
    ct_response_cleanup(&r);

    get_if_none_match(path, etag, &cached);
    ck_assert_msg(cached.status == 304, "GET %s with If-None-Match: %s answered %ld", path, etag,
                  cached.status);
    ck_assert_uint_eq(cached.body_len, 0);
    ck_assert_str_eq(cached.etag, etag);
    ct_response_cleanup(&cached);
    ck_assert_int_eq(get_if_none_match(path, "\"something-else\"", &cached), 200);
    ct_response_cleanup(&cached);
}

START_TEST(footprint_if_none_match_with_its_etag_is_304)
{
    registered("{'id':'tag/base'}");
    activity_added("tag/base", "{'kind':'training','co2e_kg':10}");
    assert_revalidates("/v1/models/tag/base/footprint?policy=equal");
}
END_TEST

/* Footprints and family pages are written as text, not dumped by jansson: each
 * must be exactly what the server would send for the same JSON (compact, ASCII,
 * 15 significant digits, reals with ".0" or an exponent without '+'), and ?pretty
 * must hold the same JSON under the same ETag. */
START_TEST(footprint_and_family_text_is_what_the_server_writes_for_json)
{
    static const char *const paths[] = {
        "/v1/models/txt/base-a/footprint?policy=usage",
        "/v1/models/txt/base-a/footprint?policy=equal",
        "/v1/models/txt/ft/footprint?policy=usage",
        "/v1/models/txt/ft/footprint?policy=none",
        "/v1/models/txt/merged/footprint",
        "/v1/models/txt/merged/footprint?policy=equal",
        "/v1/models/txt/base-a/family",
        "/v1/models/txt/base-a/family?policy=equal&limit=2",
        "/v1/models/txt/base-c/family?policy=none",
    };

    registered("{'id':'txt/base-a'}");
    registered("{'id':'txt/base-c'}");
    activity_added("txt/base-a", "{'kind':'training','co2e_kg':{'value':612.345678901234567,"
                                 "'low':0.000123,'high':987654321098.5}}");
    activity_added("txt/base-c", "{'kind':'training','co2e_kg':300,'energy_kwh':1234.5}");
    registered("{'id':'txt/ft','parents':[{'id':'txt/base-a'}]}");
    registered("{'id':'txt/merged','parents':[{'id':'txt/base-a','relation':'merge'},"
               "{'id':'txt/base-c','relation':'merge'}]}");
    activity_added("txt/ft", "{'kind':'fine_tuning','co2e_kg':0.1,'energy_kwh':0.25}");
    counted("txt/ft", 3);
    counted("txt/merged", 100000);
    {
        struct ct_response r;
        ct_send(srv, "PATCH", "/v1/models/txt/base-a",
                "{'inference':{'unit':'token','energy_kwh_per_inference':0.0001,"
                "'carbon_intensity':{'value':400,'unit':'g/kWh'}}}",
                &r);
        ASSERT_STATUS(&r, 200);
        ct_response_cleanup(&r);
        ct_send(srv, "PATCH", "/v1/models/txt/merged",
                "{'inference':{'unit':'word','derived_from_training':"
                "{'ratio':0.5,'token_steps':128000000000}}}",
                &r);
        ASSERT_STATUS(&r, 200);
        ct_response_cleanup(&r);
    }
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct ct_response r, pretty;
        char pretty_path[300];
        json_t *parsed;
        char *dumped;

        ck_assert_int_eq(ct_get(srv, paths[i], &r), 200);
        ck_assert_str_eq(r.content_type, "application/json");
        parsed = json_loads(r.body, 0, NULL);
        ck_assert_msg(parsed != NULL, "%s is not JSON: %s", paths[i], r.body);
        dumped = json_dumps(parsed, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(15));
        ck_assert_ptr_nonnull(dumped);
        ck_assert_msg(r.body_len == strlen(dumped) + 1 && r.body[r.body_len - 1] == '\n' &&
                          strncmp(r.body, dumped, r.body_len - 1) == 0,
                      "%s:\nsent   %s\njansson %s", paths[i], r.body, dumped);
        free(dumped);

        snprintf(pretty_path, sizeof pretty_path, "%s%cpretty=1", paths[i],
                 strchr(paths[i], '?') ? '&' : '?');
        ck_assert_int_eq(ct_get(srv, pretty_path, &pretty), 200);
        ck_assert_msg(strchr(pretty.body, '\n') < pretty.body + pretty.body_len - 1,
                      "%s is not indented", pretty_path);
        ck_assert_msg(json_equal(pretty.json, parsed), "%s differs from the compact answer",
                      pretty_path);
        ck_assert_str_eq(pretty.etag, r.etag);
        json_decref(parsed);
        ct_response_cleanup(&pretty);
        ct_response_cleanup(&r);
    }
    {
        /* Ids compare case-insensitively; answers name the model as registered. */
        struct ct_response r;
        ck_assert_int_eq(ct_get(srv, "/v1/models/TXT/Merged/footprint", &r), 200);
        ck_assert_str_eq(str_at(&r, "model"), "txt/merged");
        ct_response_cleanup(&r);
        ck_assert_int_eq(ct_get(srv, "/v1/models/Txt/BASE-A/family", &r), 200);
        ck_assert_str_eq(str_at(&r, "model"), "txt/base-a");
        ck_assert_int_eq(int_at(&r, "family_size"), 3);
        ck_assert_str_eq(str_at(&r, "items/1/id"), "txt/ft");
        ck_assert_int_eq(int_at(&r, "items/1/depth"), 1);
        ck_assert_str_eq(str_at(&r, "items/1/parents/0/id"), "txt/base-a");
        ct_response_cleanup(&r);
    }
}
END_TEST

START_TEST(family_if_none_match_with_its_etag_is_304)
{
    registered("{'id':'tag/base'}");
    registered("{'id':'tag/child','parents':[{'id':'tag/base'}]}");
    activity_added("tag/base", "{'kind':'training','co2e_kg':10}");
    assert_revalidates("/v1/models/tag/base/family?policy=equal");
}
END_TEST

START_TEST(footprint_and_family_etags_change_with_the_figures)
{
    static const char *const paths[] = {"/v1/models/tag/base/footprint?policy=equal",
                                        "/v1/models/tag/base/family?policy=equal"};
    struct ct_response r, cached;
    char etag[64], family_etag[64];

    registered("{'id':'tag/base'}");
    activity_added("tag/base", "{'kind':'training','co2e_kg':10}");
    ck_assert_int_eq(ct_get(srv, paths[1], &r), 200);
    snprintf(family_etag, sizeof family_etag, "%s", r.etag);
    ct_response_cleanup(&r);

    /* A child changes both answers: the old tags no longer match. */
    ck_assert_int_eq(ct_get(srv, paths[0], &r), 200);
    snprintf(etag, sizeof etag, "%s", r.etag);
    ct_response_cleanup(&r);
    registered("{'id':'tag/child','parents':[{'id':'tag/base'}]}");
    ck_assert_int_eq(get_if_none_match(paths[0], etag, &cached), 200);
    ck_assert_str_ne(cached.etag, etag);
    ASSERT_NUM(&cached, "total_co2e_kg/value", 5);
    ct_response_cleanup(&cached);
    ck_assert_int_eq(get_if_none_match(paths[1], family_etag, &cached), 200);
    ck_assert_str_ne(cached.etag, family_etag);
    ct_response_cleanup(&cached);

    /* A count changes the usage footprint of the counted model. */
    ck_assert_int_eq(ct_get(srv, "/v1/models/tag/child/footprint", &r), 200);
    snprintf(etag, sizeof etag, "%s", r.etag);
    ct_response_cleanup(&r);
    counted("tag/child", 3);
    ck_assert_int_eq(get_if_none_match("/v1/models/tag/child/footprint", etag, &cached), 200);
    ck_assert_str_ne(cached.etag, etag);
    ct_response_cleanup(&cached);
}
END_TEST

/* Number of CRLF-terminated lines in text. */
static int crlf_lines(const char *text)
{
    int n = 0;

    for (const char *p = text; (p = strstr(p, "\r\n")) != NULL; p += 2)
        n++;
    return n;
}

START_TEST(family_as_csv_has_a_header_and_one_line_per_member)
{
    static const char *const headers[] = {"Accept: text/csv", NULL};
    struct ct_response r;
    char line[256];

    three_fine_tunes();
    registered("{'id':'fam/mix','parents':[{'id':'fam/ft2','relation':'merge'},"
               "{'id':'fam/ft3','relation':'merge'}]}");
    ck_assert_int_eq(
        ct_request(srv, "GET", "/v1/models/fam/base/family?policy=equal", headers, NULL, 0, &r),
        200);
    ck_assert_msg(strncmp(r.content_type, "text/csv", 8) == 0, "Content-Type '%s'", r.content_type);
    ck_assert_msg(strncmp(r.body, "id,parents,depth,", 17) == 0, "header line: %.120s", r.body);
    ck_assert_int_eq(crlf_lines(r.body), 1 + 5);
    ck_assert_msg(r.body_len >= 2 && strcmp(r.body + r.body_len - 2, "\r\n") == 0,
                  "the last line is not terminated");
    /* base: no parents, depth 0, 0 inferences, 1000 own, 0 inherited, 0 inference,
     * 200 kg total (1000 over 5 members). */
    ck_assert_msg(strstr(r.body, "\r\nfam/base,,0,0,1000,0,0,200,\r\n") != NULL, "%s", r.body);
    /* ft1: 10 own + 200 inherited, 100 inferences, 2100 g each. */
    snprintf(line, sizeof line, "\r\nfam/ft1,fam/base:finetune,1,100,10,200,0,210,2100\r\n");
    ck_assert_msg(strstr(r.body, line) != NULL, "no line %s in %s", line + 2, r.body);
    ck_assert_msg(strstr(r.body, "\r\nfam/mix,fam/ft2:merge;fam/ft3:merge,2,0,") != NULL, "%s",
                  r.body);
    ct_response_cleanup(&r);

    /* JSON stays the default. */
    ck_assert_int_eq(ct_get(srv, "/v1/models/fam/base/family", &r), 200);
    ck_assert_str_eq(r.content_type, "application/json");
    ck_assert_int_eq(json_array_size(at(r.json, "items")), 5);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(ancestors_lists_every_ancestor_shallowest_first_without_the_model)
{
    struct ct_response r;

    registered("{'id':'anc/root'}");
    registered("{'id':'anc/side'}");
    registered("{'id':'anc/mid','parents':[{'id':'anc/root'}]}");
    registered("{'id':'anc/leaf','parents':[{'id':'anc/mid','relation':'merge'},"
               "{'id':'anc/side','relation':'merge'}]}");
    activity_added("anc/root", "{'kind':'training','energy_kwh':100,"
                               "'carbon_intensity':{'value':1,'unit':'kg/kWh'}}");

    ck_assert_int_eq(ct_get(srv, "/v1/models/anc/leaf/ancestors", &r), 200);
    ck_assert_str_eq(str_at(&r, "model"), "anc/leaf");
    ck_assert_int_eq(json_array_size(at(r.json, "ancestors")), 3);
    for (int i = 0; i < 3; i++) {
        char path[32];
        snprintf(path, sizeof path, "ancestors/%d/id", i);
        ck_assert_str_ne(str_at(&r, path), "anc/leaf");
    }
    /* root and side are at depth 0, mid at depth 1. */
    ck_assert_int_eq(int_at(&r, "ancestors/0/depth"), 0);
    ck_assert_int_eq(int_at(&r, "ancestors/1/depth"), 0);
    ck_assert_int_eq(int_at(&r, "ancestors/2/depth"), 1);
    ck_assert_str_eq(str_at(&r, "ancestors/2/id"), "anc/mid");
    ck_assert_msg((strcmp(str_at(&r, "ancestors/0/id"), "anc/root") == 0 &&
                   strcmp(str_at(&r, "ancestors/1/id"), "anc/side") == 0) ||
                      (strcmp(str_at(&r, "ancestors/0/id"), "anc/side") == 0 &&
                       strcmp(str_at(&r, "ancestors/1/id"), "anc/root") == 0),
                  "%s", r.body);
    ct_response_cleanup(&r);

    ck_assert_int_eq(ct_get(srv, "/v1/models/anc/mid/ancestors", &r), 200);
    ck_assert_int_eq(json_array_size(at(r.json, "ancestors")), 1);
    ck_assert_str_eq(str_at(&r, "ancestors/0/id"), "anc/root");
    ASSERT_NUM(&r, "ancestors/0/own_co2e_kg/value", 100);
    ASSERT_NUM(&r, "ancestors/0/energy_kwh/value", 100);
    ck_assert_int_eq(int_at(&r, "ancestors/0/family_size"), 3);
    ct_response_cleanup(&r);

    ck_assert_int_eq(ct_get(srv, "/v1/models/anc/root/ancestors", &r), 200);
    ck_assert_int_eq(json_array_size(at(r.json, "ancestors")), 0);
    ct_response_cleanup(&r);
}
END_TEST

/* ---- compare ---- */

START_TEST(costly_search_profile_is_cleaner_beyond_the_crossover_volume)
{
    struct ct_response r;

    /* A: 100 kg fixed, 2 g each; B (the costly search): 1000 kg, 1 g each.
     * v* = (1000 - 100) kg / ((2 - 1) g / 1000) = 900,000 inferences. */
    ct_send(srv, "POST", "/v1/compare",
            "{'a':{'fixed_co2e_kg':100,'co2e_g_per_inference':2},"
            "'b':{'fixed_co2e_kg':1000,'co2e_g_per_inference':1},'volume':2000000}",
            &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_str_eq(str_at(&r, "crossover/kind"), "b_cleaner_beyond");
    ASSERT_NUM(&r, "crossover/volume", 900000);
    ASSERT_NUM(&r, "at_volume/volume", 2000000);
    ASSERT_NUM(&r, "at_volume/a_co2e_kg", 100 + 2 * 2000.0);
    ASSERT_NUM(&r, "at_volume/b_co2e_kg", 1000 + 1 * 2000.0);
    ck_assert_str_eq(str_at(&r, "at_volume/cleaner"), "b");
    ASSERT_NUM(&r, "a/fixed_co2e_kg/value", 100);
    ASSERT_NUM(&r, "b/co2e_g_per_inference/value", 1);
    ck_assert_msg(strlen(str_at(&r, "methodology_version")) > 0, "%s", r.body);
    ct_response_cleanup(&r);

    /* Below the crossover A is cleaner. */
    ct_send(srv, "POST", "/v1/compare",
            "{'a':{'fixed_co2e_kg':100,'co2e_g_per_inference':2},"
            "'b':{'fixed_co2e_kg':1000,'co2e_g_per_inference':1},'volume':1000}",
            &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_str_eq(str_at(&r, "at_volume/cleaner"), "a");
    ct_response_cleanup(&r);

    /* Swapped sides: A is the one that wins beyond. */
    ct_send(srv, "POST", "/v1/compare",
            "{'b':{'fixed_co2e_kg':100,'co2e_g_per_inference':2},"
            "'a':{'fixed_co2e_kg':1000,'co2e_g_per_inference':1}}",
            &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_str_eq(str_at(&r, "crossover/kind"), "a_cleaner_beyond");
    ASSERT_NUM(&r, "crossover/volume", 900000);
    ck_assert(json_object_get(r.json, "at_volume") == NULL);
    ct_response_cleanup(&r);

    /* B better on both counts: always cleaner, no volume. */
    ct_send(srv, "POST", "/v1/compare",
            "{'a':{'fixed_co2e_kg':100,'co2e_g_per_inference':2},"
            "'b':{'fixed_co2e_kg':50,'co2e_g_per_inference':1}}",
            &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_str_eq(str_at(&r, "crossover/kind"), "b_always_cleaner");
    ck_assert(json_is_null(at(r.json, "crossover/volume")));
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(compare_prices_a_model_side_from_its_footprint_and_profile)
{
    struct ct_response r;

    registered("{'id':'cmp/served'}");
    activity_added("cmp/served", "{'kind':'training','co2e_kg':500}");
    /* 0.001 kWh x 0.5 kg/kWh = 0.5 g per inference. */
    ct_send(srv, "PATCH", "/v1/models/cmp/served",
            "{'inference':{'energy_kwh_per_inference':0.001,"
            "'carbon_intensity':{'value':0.5,'unit':'kg/kWh'}}}",
            &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);

    /* v* = (1000 - 500) kg / ((0.5 - 0.25) g / 1000) = 2,000,000. */
    ct_send(srv, "POST", "/v1/compare",
            "{'a':{'model':'cmp/served'},"
            "'b':{'fixed_co2e_kg':1000,'co2e_g_per_inference':0.25},'policy':'equal'}",
            &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_str_eq(str_at(&r, "a/model"), "cmp/served");
    ASSERT_NUM(&r, "a/fixed_co2e_kg/value", 500);
    ASSERT_NUM(&r, "a/co2e_g_per_inference/value", 0.5);
    ck_assert_str_eq(str_at(&r, "policy"), "equal");
    ck_assert_str_eq(str_at(&r, "crossover/kind"), "b_cleaner_beyond");
    ASSERT_NUM(&r, "crossover/volume", 2000000);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(compare_errors_are_422_naming_the_field)
{
    static const struct ct_step steps[] = {
        {"a model without a profile", "POST", "/v1/models", "{'id':'cmp/plain'}", NULL, 201, NULL,
         NULL},
        {"comparing it", "POST", "/v1/compare",
         "{'a':{'model':'cmp/plain'},'b':{'fixed_co2e_kg':1,'co2e_g_per_inference':1}}", NULL, 422,
         "invalid-input", "/a/model"},
        {"an unknown model", "POST", "/v1/compare",
         "{'a':{'fixed_co2e_kg':1,'co2e_g_per_inference':1},'b':{'model':'cmp/ghost'}}", NULL, 422,
         "invalid-input", "/b/model"},
        {"a model beside figures", "POST", "/v1/compare",
         "{'a':{'model':'cmp/plain','fixed_co2e_kg':1},"
         "'b':{'fixed_co2e_kg':1,'co2e_g_per_inference':1}}",
         NULL, 422, "invalid-input", "/a/model"},
        {"a missing side", "POST", "/v1/compare",
         "{'a':{'fixed_co2e_kg':1,'co2e_g_per_inference':1}}", NULL, 422, "invalid-input", "/b"},
        {"a missing per-inference figure", "POST", "/v1/compare",
         "{'a':{'fixed_co2e_kg':1},'b':{'fixed_co2e_kg':1,'co2e_g_per_inference':1}}", NULL, 422,
         "invalid-input", "/a/co2e_g_per_inference"},
        {"a negative fixed part", "POST", "/v1/compare",
         "{'a':{'fixed_co2e_kg':-1,'co2e_g_per_inference':1},"
         "'b':{'fixed_co2e_kg':1,'co2e_g_per_inference':1}}",
         NULL, 422, "invalid-input", "/a/fixed_co2e_kg"},
        {"text for a figure", "POST", "/v1/compare",
         "{'a':{'fixed_co2e_kg':1,'co2e_g_per_inference':'1'},"
         "'b':{'fixed_co2e_kg':1,'co2e_g_per_inference':1}}",
         NULL, 422, "invalid-input", "/a/co2e_g_per_inference"},
        {"an unknown side member", "POST", "/v1/compare",
         "{'a':{'fixed_co2e_kg':1,'co2e_g_per_inference':1,'kwh':1},"
         "'b':{'fixed_co2e_kg':1,'co2e_g_per_inference':1}}",
         NULL, 422, "invalid-input", "/a/kwh"},
        {"a negative volume", "POST", "/v1/compare",
         "{'a':{'fixed_co2e_kg':1,'co2e_g_per_inference':1},"
         "'b':{'fixed_co2e_kg':2,'co2e_g_per_inference':0.5},'volume':-1}",
         NULL, 422, "invalid-input", "/volume"},
        {"an unknown policy", "POST", "/v1/compare",
         "{'a':{'fixed_co2e_kg':1,'co2e_g_per_inference':1},"
         "'b':{'fixed_co2e_kg':2,'co2e_g_per_inference':0.5},'policy':'fair'}",
         NULL, 422, "invalid-input", "/policy"},
        {"an unknown member", "POST", "/v1/compare",
         "{'a':{'fixed_co2e_kg':1,'co2e_g_per_inference':1},"
         "'b':{'fixed_co2e_kg':2,'co2e_g_per_inference':0.5},'c':{}}",
         NULL, 422, "invalid-input", "/c"},
    };

    ct_run_steps(srv, steps, sizeof steps / sizeof steps[0]);
}
END_TEST

/* ---- concurrency ---- */

#define DELTA_THREADS     8
#define DELTAS_PER_THREAD 50
#define SAME_KEY_REQUESTS 20

struct delta_worker {
    pthread_t thread;
    pthread_barrier_t *start;
    int index;
    int ok;            /* answers of 200 */
    int retries;       /* 503 answers retried */
    long other_status; /* the first answer that was not 200, or 0 */
    char other_body[256];
};

static void *delta_worker_run(void *arg)
{
    struct delta_worker *w = arg;
    const char *headers[] = {"Content-Type: application/json", NULL, NULL};
    char key_header[64];
    static const char body[] = "{\"count\":1}";

    pthread_barrier_wait(w->start);
    for (int i = 0; i < DELTAS_PER_THREAD; i++) {
        struct ct_response r;
        snprintf(key_header, sizeof key_header, "Idempotency-Key: t%d-%d", w->index, i);
        headers[1] = key_header;
        ct_request(srv, "POST", "/v1/models/par/m/inferences", headers, body, strlen(body), &r);
        /* A documented 503 (busy) is retried with the same key, as a client would. */
        for (int retry = 0; r.status == 503 && retry < 20; retry++) {
            struct timespec pause = {0, 50 * 1000000L};
            ct_response_cleanup(&r);
            w->retries++;
            nanosleep(&pause, NULL);
            ct_request(srv, "POST", "/v1/models/par/m/inferences", headers, body, strlen(body), &r);
        }
        if (r.status == 200) {
            w->ok++;
        } else if (w->other_status == 0) {
            w->other_status = r.status;
            snprintf(w->other_body, sizeof w->other_body, "%s", r.status ? r.body : r.error);
        }
        ct_response_cleanup(&r);
    }
    return NULL;
}

START_TEST(parallel_deltas_with_distinct_keys_are_all_counted)
{
    struct delta_worker workers[DELTA_THREADS];
    pthread_barrier_t start;
    int ok = 0;

    registered("{'id':'par/m'}");
    ck_assert_int_eq(pthread_barrier_init(&start, NULL, DELTA_THREADS), 0);
    memset(workers, 0, sizeof workers);
    for (int i = 0; i < DELTA_THREADS; i++) {
        workers[i].start = &start;
        workers[i].index = i;
        ck_assert_int_eq(pthread_create(&workers[i].thread, NULL, delta_worker_run, &workers[i]),
                         0);
    }
    for (int i = 0; i < DELTA_THREADS; i++)
        pthread_join(workers[i].thread, NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < DELTA_THREADS; i++) {
        ck_assert_msg(workers[i].other_status == 0, "thread %d got %ld: %s", i,
                      workers[i].other_status, workers[i].other_body);
        ok += workers[i].ok;
    }
    ck_assert_int_eq(ok, DELTA_THREADS * DELTAS_PER_THREAD);
    ck_assert_int_eq(inferences_of("par/m"), DELTA_THREADS * DELTAS_PER_THREAD);
}
END_TEST

#define SAME_KEY_ROUNDS 3

struct same_key_worker {
    pthread_t thread;
    pthread_barrier_t *start;
    int round;
    struct ct_response r;
};

static void *same_key_worker_run(void *arg)
{
    struct same_key_worker *w = arg;
    char key_header[64];
    const char *headers[] = {"Content-Type: application/json", key_header, NULL};
    static const char body[] = "{\"count\":25}";

    snprintf(key_header, sizeof key_header, "Idempotency-Key: the-one-%d", w->round);
    pthread_barrier_wait(w->start);
    ct_request(srv, "POST", "/v1/models/par/m/inferences", headers, body, strlen(body), &w->r);
    return NULL;
}

START_TEST(parallel_requests_with_one_key_are_applied_once)
{
    struct same_key_worker workers[SAME_KEY_REQUESTS];
    pthread_barrier_t start;

    registered("{'id':'par/m'}");
    for (int round = 0; round < SAME_KEY_ROUNDS; round++) {
        const json_t *reference = NULL;
        int ok = 0, busy = 0;

        ck_assert_int_eq(pthread_barrier_init(&start, NULL, SAME_KEY_REQUESTS), 0);
        memset(workers, 0, sizeof workers);
        for (int i = 0; i < SAME_KEY_REQUESTS; i++) {
            workers[i].start = &start;
            workers[i].round = round;
            ck_assert_int_eq(
                pthread_create(&workers[i].thread, NULL, same_key_worker_run, &workers[i]), 0);
        }
        for (int i = 0; i < SAME_KEY_REQUESTS; i++)
            pthread_join(workers[i].thread, NULL);
        pthread_barrier_destroy(&start);
        for (int i = 0; i < SAME_KEY_REQUESTS; i++) {
            struct ct_response *r = &workers[i].r;
            if (r->status == 200) {
                ok++;
                if (reference == NULL)
                    reference = r->json;
                ck_assert_msg(json_equal(reference, r->json), "round %d: answer %d differs: %s",
                              round, i, r->body);
                ck_assert_int_eq(int_at(r, "total_inferences"), 25LL * (round + 1));
            } else {
                CT_ASSERT_PROBLEM(r, 409, "conflict", NULL);
                busy++;
            }
        }
        ck_assert_msg(ok >= 1, "round %d: no request was applied", round);
        ck_assert_int_eq(ok + busy, SAME_KEY_REQUESTS);
        for (int i = 0; i < SAME_KEY_REQUESTS; i++)
            ct_response_cleanup(&workers[i].r);
        ck_assert_int_eq(inferences_of("par/m"), 25LL * (round + 1));
    }
}
END_TEST

static Suite *ledger_suite(void)
{
    Suite *s = suite_create("http_ledger");
    TCase *activities = tcase_create("activities");
    TCase *cards = tcase_create("hub_cards");
    TCase *profiles = tcase_create("profiles");
    TCase *amortization = tcase_create("amortization");
    TCase *counts = tcase_create("counts");
    TCase *reads = tcase_create("footprint_family_ancestors");
    TCase *compare = tcase_create("compare");
    TCase *parallel = tcase_create("concurrency");
    TCase *all[] = {activities, cards, profiles, amortization, counts, reads, compare, parallel};

    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (all[i] == parallel)
            tcase_add_checked_fixture(all[i], start_threaded_server, stop_servers);
        else
            tcase_add_checked_fixture(all[i], start_server, stop_servers);
        tcase_set_timeout(all[i], TEST_TIMEOUT_S);
        suite_add_tcase(s, all[i]);
    }
    tcase_add_test(activities,
                   measured_activity_computes_co2e_from_lb_per_kwh_and_answers_201_with_location);
    tcase_add_test(activities, measured_energy_range_gives_a_co2e_range);
    tcase_add_test(activities, reported_activity_keeps_co2e_kg_and_every_kind_is_accepted);
    tcase_add_test(activities, activity_list_pages_follow_link_and_next_cursor);
    tcase_add_test(activities, deleting_an_activity_is_204_then_404_and_the_footprint_follows);
    tcase_add_test(activities, activity_errors_are_422_naming_the_field_and_store_nothing);
    tcase_add_test(activities, intensity_beside_co2e_kg_is_422_naming_carbon_intensity);

    tcase_add_test(cards,
                   card_emissions_mapping_in_grams_becomes_a_reported_training_activity_in_kg);
    tcase_add_test(cards, card_fine_tuning_training_type_gives_a_fine_tuning_activity);
    tcase_add_test(cards, card_legacy_bare_number_is_grams_and_the_kind_follows_the_lineage);
    tcase_add_test(cards, card_base_model_string_is_a_finetune_and_a_list_is_a_merge);
    tcase_add_test(cards, card_emission_errors_are_422_and_store_nothing);

    tcase_add_test(profiles,
                   measured_inference_profile_is_shown_by_get_and_priced_by_the_footprint);
    tcase_add_test(profiles, derived_inference_profile_is_shown_by_get);
    tcase_add_test(profiles, inference_null_clears_the_profile);
    tcase_add_test(profiles, inference_profile_errors_are_422_and_keep_the_old_profile);
    tcase_add_test(profiles, seed_bert_like_base_with_ratio_half_has_a_parity_of_256e9_inferences);

    tcase_add_test(amortization,
                   equal_policy_splits_the_base_equally_over_it_and_its_three_fine_tunes);
    tcase_add_test(amortization, usage_policy_splits_the_base_by_inferences);
    tcase_add_test(amortization, none_policy_keeps_each_model_to_its_own_emissions);
    tcase_add_test(amortization, family_pages_add_up_to_the_family_emissions_under_every_policy);
    tcase_add_test(amortization, merge_carries_an_equal_share_of_each_base);
    tcase_add_test(amortization, merge_family_conserves_emissions_across_both_bases);
    tcase_add_test(amortization, diamond_counts_a_merge_once_in_the_shared_ancestor_family);
    tcase_add_test(amortization, deleting_a_counted_leaf_gives_its_share_back_to_the_family);
    tcase_add_test(amortization, reparenting_a_counted_subtree_moves_its_inferences_and_share);
    tcase_add_test(amortization,
                   reparenting_that_would_overflow_a_family_count_is_refused_and_changes_nothing);

    tcase_add_test(counts, post_inferences_without_an_idempotency_key_is_400);
    tcase_add_test(counts, same_key_and_body_replays_the_first_answer_without_counting_again);
    tcase_add_test(counts, same_key_with_another_body_or_model_is_422_and_counts_nothing);
    tcase_add_loop_test(counts, bad_counts_are_422_naming_the_field_and_count_nothing, 0,
                        (int)(sizeof bad_counts / sizeof bad_counts[0]));
    tcase_add_test(counts, counts_that_would_overflow_64_bits_are_refused);
    tcase_add_test(counts, counter_counts_increases_and_refuses_a_decrease_without_reset);
    tcase_add_test(counts, counter_errors_are_refused_and_count_nothing);
    tcase_add_test(counts, inferences_on_an_unknown_model_are_404);
    tcase_add_test(counts, batch_counts_every_model_in_one_request_and_replays_by_key);
    tcase_add_test(counts, batch_with_an_unknown_model_is_422_naming_it_and_counts_nothing);
    tcase_add_test(counts, batch_that_would_overflow_a_family_total_is_422_at_the_first_such_item);
    tcase_add_test(counts, daily_series_is_dense_and_bounded_to_366_days);

    tcase_add_test(reads, footprint_errors_are_400_and_404);
    tcase_add_test(reads, footprint_if_none_match_with_its_etag_is_304);
    tcase_add_test(reads, family_if_none_match_with_its_etag_is_304);
    tcase_add_test(reads, footprint_and_family_text_is_what_the_server_writes_for_json);
    tcase_add_test(reads, footprint_and_family_etags_change_with_the_figures);
    tcase_add_test(reads, family_as_csv_has_a_header_and_one_line_per_member);
    tcase_add_test(reads, ancestors_lists_every_ancestor_shallowest_first_without_the_model);

    tcase_add_test(compare, costly_search_profile_is_cleaner_beyond_the_crossover_volume);
    tcase_add_test(compare, compare_prices_a_model_side_from_its_footprint_and_profile);
    tcase_add_test(compare, compare_errors_are_422_naming_the_field);

    tcase_add_test(parallel, parallel_deltas_with_distinct_keys_are_all_counted);
    tcase_add_test(parallel, parallel_requests_with_one_key_are_applied_once);
    return s;
}

int main(void)
{
    return ct_main(ledger_suite());
}
