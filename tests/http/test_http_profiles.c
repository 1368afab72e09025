/* SPDX-License-Identifier: Apache-2.0 */
/* Inference profiles over the wire: measured and derived profiles as GET shows them
 * and the footprint prices them, clearing a profile, its errors, and the parity of a
 * BERT-like base. */
#include "ledger_steps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static Suite *profiles_suite(void)
{
    Suite *s = suite_create("http_profiles");
    TCase *profiles = tcase_create("profiles");
    TCase *all[] = {profiles};

    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        tcase_add_checked_fixture(all[i], start_server, stop_servers);
        tcase_set_timeout(all[i], TEST_TIMEOUT_S);
        suite_add_tcase(s, all[i]);
    }
    tcase_add_test(profiles,
                   measured_inference_profile_is_shown_by_get_and_priced_by_the_footprint);
    tcase_add_test(profiles, derived_inference_profile_is_shown_by_get);
    tcase_add_test(profiles, inference_null_clears_the_profile);
    tcase_add_test(profiles, inference_profile_errors_are_422_and_keep_the_old_profile);
    tcase_add_test(profiles, seed_bert_like_base_with_ratio_half_has_a_parity_of_256e9_inferences);
    return s;
}

int main(void)
{
    return ct_main(profiles_suite());
}
