/* SPDX-License-Identifier: Apache-2.0 */
/* Hub model cards against the real server: cards the Hub accepts are accepted
 * (no-parent forms, unknown keys listed as ignored), unregistered parents become
 * placeholders that a later registration completes, PUT keeps a model in sync
 * with its card without duplicating the card's activity, and bad cards are still
 * a precise 422 that stores nothing. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_TIMEOUT_S 30

static struct ct_server *srv;

static void start_server(void)
{
    char why[4096];

    srv = ct_server_new();
    ck_assert_msg(ct_server_start(srv, why, sizeof why), "%s", why);
}

static void stop_servers(void)
{
    ct_cleanup_all();
    srv = NULL;
}

/* method path with a single-quoted body; insists on status; the caller cleans up r. */
static void send_expect(const char *method, const char *path, const char *body, long status,
                        struct ct_response *r)
{
    ct_send(srv, method, path, body, r);
    ck_assert_msg(r->status == status, "%s %s %s answered %ld, expected %ld: %s", method, path,
                  body, r->status, status, r->status ? r->body : r->error);
}

/* The number of activities of model id and the sum of their co2e_kg values. */
static size_t activities_of(const char *id, double *kg)
{
    struct ct_response r;
    char path[256];
    const json_t *items;
    size_t n;

    snprintf(path, sizeof path, "/v1/models/%s/activities", id);
    ck_assert_int_eq(ct_get(srv, path, &r), 200);
    items = json_object_get(r.json, "items");
    n = json_array_size(items);
    *kg = 0;
    for (size_t i = 0; i < n; i++)
        *kg += ct_number_at(json_array_get(items, i), "co2e_kg/value");
    ct_response_cleanup(&r);
    return n;
}

START_TEST(cards_without_parents_and_with_unknown_keys_are_accepted)
{
    struct ct_response r;

    /* mergekit writes base_model: [] */
    send_expect("POST", "/v1/models",
                "{'id':'mk/merge-out','base_model':[],'library_name':'transformers',"
                "'tags':['mergekit','merge'],'license':['apache-2.0','mit'],'language':['en'],"
                "'model-index':[{'name':'x'}],'widget':[{'text':'hi'}],'colour':'red'}",
                201, &r);
    ck_assert_uint_eq(json_array_size(json_object_get(r.json, "parents")), 0);
    ck_assert_str_eq(ct_string_at(r.json, "license"), "apache-2.0, mit");
    ck_assert_ptr_nonnull(ct_json_at(r.json, "card/ignored"));
    {
        char *ignored = json_dumps(ct_json_at(r.json, "card/ignored"), JSON_COMPACT);
        ck_assert_str_eq(ignored, "[\"language\",\"model-index\",\"widget\",\"colour\"]");
        free(ignored);
    }
    ck_assert(json_is_null(ct_json_at(r.json, "card/relation")));
    ct_response_cleanup(&r);
    send_expect("POST", "/v1/models",
                "{'id':'mk/null-base','base_model':null,'pipeline_tag':'text-classification'}", 201,
                &r);
    ck_assert_str_eq(ct_string_at(r.json, "task"), "text-classification");
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(relations_are_given_or_inferred_and_say_so)
{
    struct ct_response r;

    send_expect("POST", "/v1/models", "{'id':'base/llama','task':'text-generation'}", 201, &r);
    ct_response_cleanup(&r);
    send_expect("POST", "/v1/models",
                "{'id':'TheBloke/llama-GGUF','base_model':'base/llama','quantized_by':'TheBloke'}",
                201, &r);
    ck_assert_str_eq(ct_string_at(r.json, "parents/0/relation"), "quantized");
    ck_assert_str_eq(ct_string_at(r.json, "card/relation/source"), "inferred");
    ck_assert_str_eq(ct_string_at(r.json, "card/relation/from"), "repository name (gguf)");
    ct_response_cleanup(&r);
    send_expect("POST", "/v1/models",
                "{'id':'someone/lora','base_model':'base/llama','library_name':'peft'}", 201, &r);
    ck_assert_str_eq(ct_string_at(r.json, "parents/0/relation"), "adapter");
    ck_assert_str_eq(ct_string_at(r.json, "card/relation/from"), "library_name peft");
    ct_response_cleanup(&r);
    send_expect("POST", "/v1/models",
                "{'id':'someone/distilled','base_model':'base/llama',"
                "'base_model_relation':'distillation','library_name':'peft'}",
                201, &r);
    ck_assert_str_eq(ct_string_at(r.json, "parents/0/relation"), "distillation");
    ck_assert_str_eq(ct_string_at(r.json, "card/relation/source"), "given");
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(unknown_parents_become_placeholders_that_registration_completes)
{
    struct ct_response r;
    double kg;

    send_expect("POST", "/v1/models",
                "{'id':'m/merged','base_model':['up/one','up/two'],'co2_eq_emissions':500}", 201,
                &r);
    {
        char *made = json_dumps(json_object_get(r.json, "placeholders_created"), JSON_COMPACT);
        ck_assert_str_eq(made, "[\"up/one\",\"up/two\"]");
        free(made);
    }
    ct_response_cleanup(&r);
    ck_assert_int_eq(ct_get(srv, "/v1/models/up/one", &r), 200);
    ck_assert(json_is_true(json_object_get(r.json, "placeholder")));
    ck_assert_double_eq(ct_number_at(r.json, "children_count"), 1);
    ct_response_cleanup(&r);
    ck_assert_uint_eq(activities_of("up/one", &kg), 0);

    /* Registering the placeholder's id completes it: 201, not 409. */
    send_expect("POST", "/v1/models",
                "{'id':'up/one','base_model':'root/r','co2_eq_emissions':{'emissions':2000}}", 201,
                &r);
    ck_assert_ptr_null(json_object_get(r.json, "placeholder"));
    ck_assert_double_eq(ct_number_at(r.json, "depth"), 1);
    ck_assert_double_eq(ct_number_at(r.json, "children_count"), 1);
    ct_response_cleanup(&r);
    ck_assert_int_eq(ct_get(srv, "/v1/models/m/merged", &r), 200);
    ck_assert_double_eq(ct_number_at(r.json, "depth"), 2);
    ct_response_cleanup(&r);
    ck_assert_uint_eq(activities_of("up/one", &kg), 1);
    ck_assert_double_eq_tol(kg, 2.0, 1e-12);
    /* Registered now: a second POST is the usual conflict. */
    send_expect("POST", "/v1/models", "{'id':'up/one'}", 409, &r);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(put_keeps_a_model_in_sync_with_its_card)
{
    struct ct_response r;
    char etag[64];
    double kg;

    send_expect("PUT", "/v1/models/org/card",
                "{'co2_eq_emissions':{'emissions':41100,'training_type':'pre-training'},"
                "'pipeline_tag':'text-generation'}",
                201, &r);
    snprintf(etag, sizeof etag, "%s", r.etag);
    ct_response_cleanup(&r);
    ck_assert_uint_eq(activities_of("org/card", &kg), 1);
    ck_assert_double_eq_tol(kg, 41.1, 1e-9);

    /* The same card again: nothing changes, not even the version. */
    send_expect("PUT", "/v1/models/org/card",
                "{'pipeline_tag':'text-generation','co2_eq_emissions':{'training_type':"
                "'pre-training','emissions':41100}}",
                200, &r);
    ck_assert_str_eq(r.etag, etag);
    ct_response_cleanup(&r);
    ck_assert_uint_eq(activities_of("org/card", &kg), 1);

    /* A changed figure replaces the card's activity instead of adding one. */
    send_expect("PUT", "/v1/models/org/card",
                "{'id':'org/card','pipeline_tag':'text-generation','co2_eq_emissions':52000}", 200,
                &r);
    ck_assert_str_ne(r.etag, etag);
    ct_response_cleanup(&r);
    ck_assert_uint_eq(activities_of("org/card", &kg), 1);
    ck_assert_double_eq_tol(kg, 52.0, 1e-9);

    /* Lineage follows the card: a parent appears, then goes with base_model. */
    send_expect("PUT", "/v1/models/org/card", "{'base_model':'org/origin'}", 200, &r);
    ck_assert_str_eq(ct_string_at(r.json, "parents/0/id"), "org/origin");
    ck_assert_uint_eq(activities_of("org/card", &kg), 0);
    ct_response_cleanup(&r);
    send_expect("PUT", "/v1/models/org/card", "{'base_model':null}", 200, &r);
    ck_assert_uint_eq(json_array_size(json_object_get(r.json, "parents")), 0);
    ct_response_cleanup(&r);

    send_expect("PUT", "/v1/models/org/card", "{'id':'org/other','base_model':[]}", 422, &r);
    {
        char why[256] = "";
        ck_assert_msg(ct_problem_ok(r.status, r.content_type, r.json, 422, "invalid-input", "/id",
                                    why, sizeof why),
                      "%s", why);
    }
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(a_copied_figure_is_flagged_and_not_counted_again)
{
    struct ct_response r;
    double kg;

    send_expect("POST", "/v1/models",
                "{'id':'up/Llama-2-7b','co2_eq_emissions':{'emissions':41100,"
                "'training_type':'pre-training'}}",
                201, &r);
    ck_assert_uint_eq(json_array_size(ct_json_at(r.json, "card/flags")), 0);
    ct_response_cleanup(&r);
    send_expect("POST", "/v1/models",
                "{'id':'q/Llama-2-7B-AWQ','base_model':'up/Llama-2-7b','quantized_by':'q',"
                "'co2_eq_emissions':{'emissions':41100,'training_type':'pre-training'}}",
                201, &r);
    ck_assert_str_eq(ct_string_at(r.json, "card/flags/0/flag"), "copied_from_ancestor");
    ct_response_cleanup(&r);
    ck_assert_uint_eq(activities_of("q/Llama-2-7B-AWQ", &kg), 0);
    /* The footprint says why the AWQ has no emissions of its own; the base's has no
     * warnings. */
    ck_assert_int_eq(ct_get(srv, "/v1/models/q/Llama-2-7B-AWQ/footprint?policy=none", &r), 200);
    ck_assert_str_eq(ct_string_at(r.json, "warnings/0/flag"), "copied_from_ancestor");
    ck_assert_str_eq(ct_string_at(r.json, "warnings/0/model"), "q/Llama-2-7B-AWQ");
    ck_assert_double_eq(ct_number_at(r.json, "own_co2e_kg/value"), 0);
    ct_response_cleanup(&r);
    ck_assert_int_eq(ct_get(srv, "/v1/models/up/Llama-2-7b/footprint?policy=none", &r), 200);
    ck_assert_ptr_null(json_object_get(r.json, "warnings"));
    ct_response_cleanup(&r);
    ck_assert_uint_eq(activities_of("up/Llama-2-7b", &kg), 1);
    ck_assert_double_eq_tol(kg, 41.1, 1e-9);
    /* 0.5 g for a pre-training is flagged but kept. */
    send_expect("POST", "/v1/models", "{'id':'tiny/base','co2_eq_emissions':0.5}", 201, &r);
    ck_assert_str_eq(ct_string_at(r.json, "card/flags/0/flag"), "implausible_figure");
    ct_response_cleanup(&r);
    ck_assert_uint_eq(activities_of("tiny/base", &kg), 1);
}
END_TEST

/* Registers the card body (201) and counts the flags its answer gives it. */
static size_t flags_of(const char *body)
{
    struct ct_response r;
    size_t n;

    send_expect("POST", "/v1/models", body, 201, &r);
    n = json_array_size(ct_json_at(r.json, "card/flags"));
    ct_response_cleanup(&r);
    return n;
}

START_TEST(a_footprint_lists_its_lineages_flags_nearest_first)
{
    struct ct_response r;
    const json_t *warnings;
    size_t n_a, n_b, n_q;

    /* Two flagged bases of one depth, a merge of them, and a flagged copy below it. */
    n_a = flags_of("{'id':'fl/a','co2_eq_emissions':0.5}");
    n_b = flags_of("{'id':'fl/b','co2_eq_emissions':0.7}");
    ck_assert_uint_eq(flags_of("{'id':'fl/merged','base_model':['fl/a','fl/b']}"), 0);
    n_q = flags_of("{'id':'fl/q','base_model':'fl/merged','quantized_by':'q',"
                   "'co2_eq_emissions':0.5}");
    ck_assert_uint_ge(n_a, 1);
    ck_assert_uint_ge(n_b, 1);
    ck_assert_uint_ge(n_q, 1);
    ck_assert_int_eq(ct_get(srv, "/v1/models/fl/q/footprint", &r), 200);
    warnings = ct_json_at(r.json, "warnings");
    ck_assert_uint_eq(json_array_size(warnings), n_q + n_a + n_b);
    /* the model's own first, then its ancestors deepest first, one depth's in the
     * order they were registered */
    for (size_t i = 0; i < json_array_size(warnings); i++)
        ck_assert_str_eq(ct_string_at(json_array_get(warnings, i), "model"), i < n_q ? "fl/q"
                                                                             : i < n_q + n_a
                                                                                 ? "fl/a"
                                                                                 : "fl/b");
    ct_response_cleanup(&r);
    ck_assert_int_eq(ct_get(srv, "/v1/models/fl/merged/footprint", &r), 200);
    ck_assert_uint_eq(json_array_size(ct_json_at(r.json, "warnings")), n_a + n_b);
    ck_assert_str_eq(ct_string_at(r.json, "warnings/0/model"), "fl/a");
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(bad_cards_are_422_and_store_nothing)
{
    static const struct ct_step steps[] = {
        {"a card that is not an object", "PUT", "/v1/models/bad/list", "['base_model']", NULL, 422,
         "invalid-input", ""},
        {"an id that is not a Hub id", "POST", "/v1/models", "{'id':'bad/a/b','base_model':[]}",
         NULL, 422, "invalid-input", "/id"},
        {"negative emissions", "POST", "/v1/models",
         "{'id':'bad/neg','base_model':'bad/p1','co2_eq_emissions':{'emissions':-3}}", NULL, 422,
         "invalid-input", "/co2_eq_emissions/emissions"},
        {"emissions that are not a number", "PUT", "/v1/models/bad/text",
         "{'base_model':'bad/p2','co2_eq_emissions':{'emissions':'41 kg'}}", NULL, 422,
         "invalid-input", "/co2_eq_emissions/emissions"},
        {"seventeen parents", "POST", "/v1/models",
         "{'id':'bad/many','base_model':['p/1','p/2','p/3','p/4','p/5','p/6','p/7','p/8','p/9',"
         "'p/10','p/11','p/12','p/13','p/14','p/15','p/16','p/17']}",
         NULL, 422, "invalid-input", "/base_model"},
        /* c/a names c/b (a placeholder); c/b then naming c/a would close a cycle. */
        {"a child through a placeholder", "POST", "/v1/models", "{'id':'c/a','base_model':'c/b'}",
         NULL, 201, NULL, NULL},
        {"a cycle through the placeholder", "POST", "/v1/models",
         "{'id':'c/b','base_model':'c/x','co2_eq_emissions':7}", NULL, 201, NULL, NULL},
        {"closing the cycle", "PUT", "/v1/models/c/x",
         "{'base_model':['c/a','c/new'],'co2_eq_emissions':9}", NULL, 422, "invalid-input",
         "/base_model/0"},
    };
    static const char *const absent[] = {
        "/v1/models/bad/list", "/v1/models/bad/neg",  "/v1/models/bad/p1", "/v1/models/bad/text",
        "/v1/models/bad/p2",   "/v1/models/bad/many", "/v1/models/p/1",    "/v1/models/c/new"};
    struct ct_response r;
    double kg;

    ct_run_steps(srv, steps, sizeof steps / sizeof steps[0]);
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++) {
        ct_get(srv, absent[i], &r);
        ck_assert_msg(r.status == 404, "%s was stored: %s", absent[i], r.body);
        ct_response_cleanup(&r);
    }
    /* The refused card left the placeholder c/x as it was. */
    ck_assert_int_eq(ct_get(srv, "/v1/models/c/x", &r), 200);
    ck_assert(json_is_true(json_object_get(r.json, "placeholder")));
    ck_assert_uint_eq(json_array_size(json_object_get(r.json, "parents")), 0);
    ct_response_cleanup(&r);
    ck_assert_uint_eq(activities_of("c/x", &kg), 0);
}
END_TEST

START_TEST(location_and_hardware_are_matched_and_say_how)
{
    struct ct_response r, e;

    send_expect("POST", "/v1/models",
                "{'id':'m/where','base_model':[],'co2_eq_emissions':{'emissions':5000,"
                "'geographical_location':'Frankfurt, Germany','hardware_used':'8 x V100'}}",
                201, &r);
    ck_assert_str_eq(ct_string_at(r.json, "card/matched/geographical_location/text"),
                     "Frankfurt, Germany");
    ck_assert_str_eq(ct_string_at(r.json, "card/matched/geographical_location/matched_by"),
                     "free-text");
    ck_assert_str_eq(ct_string_at(r.json, "card/matched/hardware_used/hardware"),
                     "NVIDIA Tesla V100");
    ck_assert_double_eq(ct_number_at(r.json, "card/matched/hardware_used/count"), 8);
    ck_assert_str_eq(ct_string_at(r.json, "card/matched/hardware_used/matched_by"),
                     "count-and-name");
    /* the card's own words are still given as written */
    ck_assert_str_eq(ct_string_at(r.json, "card/co2_eq_emissions/hardware_used"), "8 x V100");
    ct_response_cleanup(&r);
    /* The same region as an estimate's location "Germany" answers. */
    send_expect(
        "POST", "/v1/estimates",
        "{'method':'tdp','hours':1,'location':'Germany','devices':[{'hardware':'V100','count':1}]}",
        200, &e);
    ck_assert_int_eq(ct_get(srv, "/v1/models/m/where", &r), 200);
    ck_assert_str_eq(ct_string_at(r.json, "card/matched/geographical_location/region"),
                     ct_string_at(e.json, "inputs/intensity/location"));
    ct_response_cleanup(&r);
    ct_response_cleanup(&e);
    /* A country code alone, a whole hardware name; text that names nothing or two
     * devices stays text. */
    send_expect("POST", "/v1/models",
                "{'id':'m/plain','base_model':[],'co2_eq_emissions':{'emissions':1,"
                "'geographical_location':'FR','hardware_used':'NVIDIA Tesla V100'}}",
                201, &r);
    ck_assert_str_eq(ct_string_at(r.json, "card/matched/geographical_location/matched_by"),
                     "iso-alpha2");
    ck_assert_str_eq(ct_string_at(r.json, "card/matched/hardware_used/matched_by"), "name");
    ck_assert_double_eq(ct_number_at(r.json, "card/matched/hardware_used/count"), 1);
    ct_response_cleanup(&r);
    send_expect("POST", "/v1/models",
                "{'id':'m/nowhere','base_model':[],'co2_eq_emissions':{'emissions':1,"
                "'geographical_location':'our lab','hardware_used':'A100, V100'}}",
                201, &r);
    ck_assert_str_eq(ct_string_at(r.json, "card/matched/geographical_location/matched_by"),
                     "unmatched");
    ck_assert(json_is_null(ct_json_at(r.json, "card/matched/geographical_location/region")));
    ck_assert_str_eq(ct_string_at(r.json, "card/matched/hardware_used/matched_by"), "unmatched");
    ck_assert(json_is_null(ct_json_at(r.json, "card/matched/hardware_used/hardware")));
    ct_response_cleanup(&r);
    /* no location, no hardware: nothing to match */
    send_expect("POST", "/v1/models", "{'id':'m/none','base_model':[],'co2_eq_emissions':3}", 201,
                &r);
    ck_assert(json_is_null(ct_json_at(r.json, "card/matched/geographical_location")));
    ck_assert(json_is_null(ct_json_at(r.json, "card/matched/hardware_used")));
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(a_card_without_emissions_gets_the_tdp_estimate)
{
    struct ct_response r, e;
    double kg;
    const char *card = "{'base_model':[],'co2_eq_emissions':{'hardware_used':'8 x V100',"
                       "'hours_used':10,'geographical_location':'Frankfurt, Germany'}}";

    send_expect("PUT", "/v1/models/est/base", card, 201, &r);
    ct_response_cleanup(&r);
    send_expect("POST", "/v1/estimates",
                "{'method':'tdp','hours':10,'location':'Germany',"
                "'devices':[{'hardware':'V100','count':8}]}",
                200, &e);
    ck_assert_int_eq(ct_get(srv, "/v1/models/est/base/activities", &r), 200);
    ck_assert_uint_eq(json_array_size(json_object_get(r.json, "items")), 1);
    {
        const json_t *a = json_array_get(json_object_get(r.json, "items"), 0);
        ck_assert_str_eq(ct_string_at(a, "obtained"), "estimated");
        ck_assert_str_eq(ct_string_at(a, "method"), "tdp");
        ck_assert_str_eq(ct_string_at(a, "kind"), "training");
        ck_assert_double_eq_tol(ct_number_at(a, "co2e_kg/value"),
                                ct_number_at(e.json, "co2e_kg/value"), 1e-12);
        ck_assert_double_eq_tol(ct_number_at(a, "co2e_kg/low"), ct_number_at(e.json, "co2e_kg/low"),
                                1e-12);
        ck_assert_double_eq_tol(ct_number_at(a, "co2e_kg/high"),
                                ct_number_at(e.json, "co2e_kg/high"), 1e-12);
        ck_assert(ct_number_at(a, "co2e_kg/low") < ct_number_at(a, "co2e_kg/high"));
    }
    ct_response_cleanup(&r);
    ct_response_cleanup(&e);
    /* Registered again, changed: the estimate is replaced, not added to. */
    send_expect("PUT", "/v1/models/est/base",
                "{'base_model':[],'license':'mit','co2_eq_emissions':{'hardware_used':'8 x V100',"
                "'hours_used':20,'geographical_location':'Frankfurt, Germany'}}",
                200, &r);
    ct_response_cleanup(&r);
    ck_assert_uint_eq(activities_of("est/base", &kg), 1);
    {
        double first = kg;
        send_expect("PUT", "/v1/models/est/base", card, 200, &r);
        ct_response_cleanup(&r);
        ck_assert_uint_eq(activities_of("est/base", &kg), 1);
        ck_assert_double_eq_tol(first, 2 * kg, 1e-9 * first);
    }
    /* A card that reports its emissions keeps its figure and gets no estimate. */
    send_expect("PUT", "/v1/models/est/base",
                "{'base_model':[],'co2_eq_emissions':{'emissions':1000,'hardware_used':'8 x V100',"
                "'hours_used':10,'geographical_location':'Frankfurt, Germany'}}",
                200, &r);
    ct_response_cleanup(&r);
    ck_assert_int_eq(ct_get(srv, "/v1/models/est/base/activities", &r), 200);
    ck_assert_uint_eq(json_array_size(json_object_get(r.json, "items")), 1);
    ck_assert_str_eq(ct_string_at(json_array_get(json_object_get(r.json, "items"), 0), "obtained"),
                     "reported");
    ct_response_cleanup(&r);
    ck_assert_uint_eq(activities_of("est/base", &kg), 1);
    ck_assert_double_eq_tol(kg, 1, 1e-12);
    /* Without hours, or with a location that names no region: nothing estimated. */
    send_expect("PUT", "/v1/models/est/nohours",
                "{'base_model':[],'co2_eq_emissions':{'hardware_used':'V100',"
                "'geographical_location':'DE'}}",
                201, &r);
    ct_response_cleanup(&r);
    ck_assert_uint_eq(activities_of("est/nohours", &kg), 0);
    send_expect("PUT", "/v1/models/est/nowhere",
                "{'base_model':[],'co2_eq_emissions':{'hardware_used':'V100','hours_used':5,"
                "'geographical_location':'the cloud'}}",
                201, &r);
    ct_response_cleanup(&r);
    ck_assert_uint_eq(activities_of("est/nowhere", &kg), 0);
}
END_TEST

START_TEST(an_absent_training_type_is_inferred_and_says_from_what)
{
    struct ct_response r;

    send_expect("POST", "/v1/models",
                "{'id':'tt/ft','base_model':'tt/base','co2_eq_emissions':{'emissions':2000}}", 201,
                &r);
    ck_assert_str_eq(ct_string_at(r.json, "card/training_type/source"), "inferred");
    ck_assert_str_eq(ct_string_at(r.json, "card/training_type/kind"), "fine_tuning");
    ck_assert_ptr_nonnull(strstr(ct_string_at(r.json, "card/training_type/from"), "base_model"));
    ct_response_cleanup(&r);
    ck_assert_int_eq(ct_get(srv, "/v1/models/tt/ft/activities", &r), 200);
    ck_assert_str_eq(ct_string_at(json_array_get(json_object_get(r.json, "items"), 0), "kind"),
                     "fine_tuning");
    ct_response_cleanup(&r);
    /* the legacy bare number too; a base model is a pre-training */
    send_expect("PUT", "/v1/models/tt/base", "{'base_model':[],'co2_eq_emissions':5000}", 201, &r);
    ck_assert_str_eq(ct_string_at(r.json, "card/training_type/source"), "inferred");
    ck_assert_str_eq(ct_string_at(r.json, "card/training_type/kind"), "training");
    ct_response_cleanup(&r);
    /* given, it is read as written, parent or not */
    send_expect("POST", "/v1/models",
                "{'id':'tt/cpt','base_model':'tt/base','co2_eq_emissions':{'emissions':9000,"
                "'training_type':'continued pre-training'}}",
                201, &r);
    ck_assert_str_eq(ct_string_at(r.json, "card/training_type/source"), "given");
    ck_assert_str_eq(ct_string_at(r.json, "card/training_type/kind"), "training");
    ck_assert_str_eq(ct_string_at(r.json, "card/training_type/from"), "training_type");
    ct_response_cleanup(&r);
    /* a card without co2_eq_emissions has no training to read */
    send_expect("POST", "/v1/models", "{'id':'tt/plain','base_model':'tt/base'}", 201, &r);
    ck_assert(json_is_null(ct_json_at(r.json, "card/training_type")));
    ct_response_cleanup(&r);
}
END_TEST

/* Whether the card of model id carries an implausible_figure flag whose detail
 * contains needle. */
static bool has_implausible(const char *id, const char *needle)
{
    struct ct_response r;
    char path[256];
    bool found = false;
    const json_t *flags;

    snprintf(path, sizeof path, "/v1/models/%s", id);
    ck_assert_int_eq(ct_get(srv, path, &r), 200);
    flags = ct_json_at(r.json, "card/flags");
    for (size_t i = 0; i < json_array_size(flags); i++) {
        const json_t *f = json_array_get(flags, i);
        if (strcmp(ct_string_at(f, "flag"), "implausible_figure") == 0 &&
            strstr(ct_string_at(f, "detail"), needle) != NULL)
            found = true;
    }
    ct_response_cleanup(&r);
    return found;
}

START_TEST(grams_that_look_like_kg_are_flagged)
{
    struct ct_response r;
    double kg;

    /* Two fine-tunes of one base: the second reports 1,000 times less. */
    send_expect("POST", "/v1/models",
                "{'id':'kg/big','base_model':'kg/base','co2_eq_emissions':{'emissions':4200000}}",
                201, &r);
    ct_response_cleanup(&r);
    send_expect("POST", "/v1/models",
                "{'id':'kg/small','base_model':'kg/base','co2_eq_emissions':{'emissions':4200}}",
                201, &r);
    ck_assert_str_eq(ct_string_at(r.json, "card/flags/0/flag"), "implausible_figure");
    ck_assert_ptr_nonnull(strstr(ct_string_at(r.json, "card/flags/0/detail"), "kg/big"));
    ct_response_cleanup(&r);
    ck_assert(!has_implausible("kg/big", "kg/"));
    /* the figure is kept as given; a footprint warns */
    ck_assert_uint_eq(activities_of("kg/small", &kg), 1);
    ck_assert_double_eq_tol(kg, 4.2, 1e-12);
    ck_assert_int_eq(ct_get(srv, "/v1/models/kg/small/footprint?policy=none", &r), 200);
    ck_assert_str_eq(ct_string_at(r.json, "warnings/0/flag"), "implausible_figure");
    ct_response_cleanup(&r);
    /* whichever card comes first: the lower one registered before the higher */
    send_expect("POST", "/v1/models",
                "{'id':'kg/early','base_model':'kg/base2','co2_eq_emissions':{'emissions':300}}",
                201, &r);
    ck_assert_uint_eq(json_array_size(ct_json_at(r.json, "card/flags")), 0);
    ct_response_cleanup(&r);
    send_expect("POST", "/v1/models",
                "{'id':'kg/late','base_model':'kg/base2','co2_eq_emissions':{'emissions':450000}}",
                201, &r);
    ck_assert_uint_eq(json_array_size(ct_json_at(r.json, "card/flags")), 0);
    ct_response_cleanup(&r);
    ck_assert(has_implausible("kg/early", "kg/late"));
    /* 2,500 times is not a unit slip; another relation is no sibling */
    send_expect("POST", "/v1/models",
                "{'id':'kg/far','base_model':'kg/base','co2_eq_emissions':{'emissions':1680}}", 201,
                &r);
    ck_assert_uint_eq(json_array_size(ct_json_at(r.json, "card/flags")), 0);
    ct_response_cleanup(&r);
    send_expect("POST", "/v1/models",
                "{'id':'kg/adapter','base_model':'kg/base','base_model_relation':'adapter',"
                "'co2_eq_emissions':{'emissions':4300}}",
                201, &r);
    ck_assert_uint_eq(json_array_size(ct_json_at(r.json, "card/flags")), 0);
    ct_response_cleanup(&r);
    /* The card's own prose gives the figure in kg. */
    send_expect("POST", "/v1/models",
                "{'id':'kg/prose','base_model':[],'co2_eq_emissions':{'emissions':149.2},"
                "'description':'Training emitted 149.2 kg CO2eq on 8 GPUs.'}",
                201, &r);
    ck_assert_str_eq(ct_string_at(r.json, "card/flags/0/flag"), "implausible_figure");
    ck_assert_ptr_nonnull(strstr(ct_string_at(r.json, "card/flags/0/detail"), "149.2 kg"));
    ck_assert_uint_eq(json_array_size(ct_json_at(r.json, "card/ignored")), 0);
    ct_response_cleanup(&r);
    send_expect("POST", "/v1/models",
                "{'id':'kg/prose-ok','base_model':[],'co2_eq_emissions':{'emissions':149200},"
                "'text':'Training emitted 149.2 kg CO2eq.'}",
                201, &r);
    ck_assert_uint_eq(json_array_size(ct_json_at(r.json, "card/flags")), 0);
    ct_response_cleanup(&r);
}
END_TEST

static Suite *cards_suite(void)
{
    Suite *s = suite_create("http_cards");
    TCase *tc = tcase_create("cards");

    tcase_add_checked_fixture(tc, start_server, stop_servers);
    tcase_set_timeout(tc, TEST_TIMEOUT_S);
    suite_add_tcase(s, tc);
    tcase_add_test(tc, cards_without_parents_and_with_unknown_keys_are_accepted);
    tcase_add_test(tc, relations_are_given_or_inferred_and_say_so);
    tcase_add_test(tc, unknown_parents_become_placeholders_that_registration_completes);
    tcase_add_test(tc, put_keeps_a_model_in_sync_with_its_card);
    tcase_add_test(tc, a_copied_figure_is_flagged_and_not_counted_again);
    tcase_add_test(tc, a_footprint_lists_its_lineages_flags_nearest_first);
    tcase_add_test(tc, bad_cards_are_422_and_store_nothing);
    tcase_add_test(tc, location_and_hardware_are_matched_and_say_how);
    tcase_add_test(tc, a_card_without_emissions_gets_the_tdp_estimate);
    tcase_add_test(tc, an_absent_training_type_is_inferred_and_says_from_what);
    tcase_add_test(tc, grams_that_look_like_kg_are_flagged);
    return s;
}

int main(void)
{
    return ct_main(cards_suite());
}
