/* SPDX-License-Identifier: Apache-2.0 */
/* A model's own emissions over the wire: activities (measured, reported, ranges,
 * paging, deletion, errors) and the emissions a Hub card gives in grams. Every
 * figure is worked out in the test. */
#include "ledger_steps.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KG_PER_LB 0.45359237

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
        {"a negative bare number", "POST", "/v1/models", "{'id':'hub/neg2','co2_eq_emissions':-5}",
         NULL, 422, "invalid-input", "/co2_eq_emissions"},
        {"text instead of grams", "POST", "/v1/models",
         "{'id':'hub/text','co2_eq_emissions':'5 kg'}", NULL, 422, "invalid-input",
         "/co2_eq_emissions"},
        {"seventeen base models", "POST", "/v1/models",
         "{'id':'hub/many','base_model':['a/1','a/2','a/3','a/4','a/5','a/6','a/7','a/8','a/9',"
         "'a/10','a/11','a/12','a/13','a/14','a/15','a/16','a/17'],'co2_eq_emissions':5}",
         NULL, 422, "invalid-input", "/base_model"},
        {"a base model that is not an id", "POST", "/v1/models",
         "{'id':'hub/lost','base_model':'hub/no/body','co2_eq_emissions':5}", NULL, 422,
         "invalid-input", "/base_model"},
    };
    static const char *const ids[] = {"hub/neg",  "hub/neg2", "hub/text", "hub/many",
                                      "hub/lost", "a/1",      "hub/no"};
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

static Suite *activities_suite(void)
{
    Suite *s = suite_create("http_activities");
    TCase *activities = tcase_create("activities");
    TCase *cards = tcase_create("hub_cards");
    TCase *all[] = {activities, cards};

    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
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
    return s;
}

int main(void)
{
    return ct_main(activities_suite());
}
