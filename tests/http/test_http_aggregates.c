/* SPDX-License-Identifier: Apache-2.0 */
/* GET /v1/totals and GET /v1/families over real HTTP against figures computed by
 * hand on a seeded ledger: totals of the ledger and of a namespace, each family's
 * size, inferences and own emissions by kind with their ranges, the orders with
 * their ties, the cursor and its Link, the CSV form, and the refusals. */
#include "ledger_steps.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Two families over two namespaces:
 *   acme/base  training 100 (80..130)
 *     acme/tuned   fine_tuning 10, idle 1; 7 inferences
 *       beta/leaf  other 2; 5 inferences
 *   beta/solo  training 50; 3 inferences
 */
static void seeded(void)
{
    registered("{'id':'acme/base'}");
    registered("{'id':'acme/tuned','parents':[{'id':'acme/base'}]}");
    registered("{'id':'beta/leaf','parents':[{'id':'acme/tuned'}]}");
    registered("{'id':'beta/solo'}");
    activity_added("acme/base", "{'kind':'training','co2e_kg':{'value':100,'low':80,'high':130}}");
    activity_added("acme/tuned", "{'kind':'fine_tuning','co2e_kg':10}");
    activity_added("acme/tuned", "{'kind':'idle','co2e_kg':1}");
    activity_added("beta/leaf", "{'kind':'other','co2e_kg':2}");
    activity_added("beta/solo", "{'kind':'training','co2e_kg':50}");
    counted("acme/tuned", 7);
    counted("beta/leaf", 5);
    counted("beta/solo", 3);
}

static void get_ok(const char *path, struct ct_response *r)
{
    ct_get(srv, path, r);
    ASSERT_STATUS(r, 200);
}

START_TEST(totals_of_the_ledger_and_of_a_namespace)
{
    struct ct_response r;

    get_ok("/v1/totals", &r);
    ck_assert_int_eq(int_at(&r, "models"), 0);
    ck_assert_ptr_nonnull(at(r.json, "namespace"));
    ck_assert(json_is_null(at(r.json, "namespace")));
    ASSERT_RANGE(&r, "own_co2e_kg", 0, 0, 0);
    ct_response_cleanup(&r);

    seeded();
    get_ok("/v1/totals", &r);
    ck_assert_int_eq(int_at(&r, "models"), 4);
    ck_assert_int_eq(int_at(&r, "families"), 2);
    ASSERT_RANGE(&r, "training_co2e_kg", 150, 130, 180);
    ASSERT_RANGE(&r, "fine_tuning_co2e_kg", 10, 10, 10);
    ASSERT_RANGE(&r, "other_co2e_kg", 3, 3, 3);
    ASSERT_RANGE(&r, "own_co2e_kg", 163, 143, 193);
    ck_assert_int_eq(int_at(&r, "inferences"), 15);
    ct_response_cleanup(&r);

    get_ok("/v1/totals?namespace=BETA", &r);
    ck_assert_str_eq(str_at(&r, "namespace"), "BETA");
    ck_assert_int_eq(int_at(&r, "models"), 2);
    ck_assert_int_eq(int_at(&r, "families"), 1);
    ASSERT_RANGE(&r, "training_co2e_kg", 50, 50, 50);
    ASSERT_RANGE(&r, "fine_tuning_co2e_kg", 0, 0, 0);
    ASSERT_RANGE(&r, "other_co2e_kg", 2, 2, 2);
    ck_assert_int_eq(int_at(&r, "inferences"), 8);
    ct_response_cleanup(&r);

    /* The leaf leaves: its emissions and inferences leave the totals. */
    ct_request(srv, "DELETE", "/v1/models/beta/leaf", NULL, NULL, 0, &r);
    ASSERT_STATUS(&r, 204);
    ct_response_cleanup(&r);
    get_ok("/v1/totals?namespace=beta", &r);
    ck_assert_int_eq(int_at(&r, "models"), 1);
    ASSERT_RANGE(&r, "other_co2e_kg", 0, 0, 0);
    ck_assert_int_eq(int_at(&r, "inferences"), 3);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(families_sum_their_members_by_kind)
{
    struct ct_response r;

    seeded();
    get_ok("/v1/families", &r);
    ck_assert_uint_eq(json_array_size(at(r.json, "items")), 2);
    ck_assert(json_is_null(at(r.json, "next_cursor")));
    ck_assert_str_eq(str_at(&r, "items/0/id"), "acme/base");
    ck_assert_int_eq(int_at(&r, "items/0/size"), 3);
    ck_assert_int_eq(int_at(&r, "items/0/inferences"), 12);
    ASSERT_RANGE(&r, "items/0/training_co2e_kg", 100, 80, 130);
    ASSERT_RANGE(&r, "items/0/fine_tuning_co2e_kg", 10, 10, 10);
    ASSERT_RANGE(&r, "items/0/other_co2e_kg", 3, 3, 3);
    ASSERT_RANGE(&r, "items/0/own_co2e_kg", 113, 93, 143);
    ck_assert_str_eq(str_at(&r, "items/1/id"), "beta/solo");
    ck_assert_int_eq(int_at(&r, "items/1/size"), 1);
    ck_assert_int_eq(int_at(&r, "items/1/inferences"), 3);
    ASSERT_RANGE(&r, "items/1/own_co2e_kg", 50, 50, 50);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(families_sort_with_ties_by_registration_and_page_by_cursor)
{
    struct ct_response r;
    char path[160];

    seeded();
    /* beta/tie ties beta/solo's 50 kg and comes after it, registered later. */
    registered("{'id':'beta/tie'}");
    activity_added("beta/tie", "{'kind':'training','co2e_kg':50}");
    get_ok("/v1/families?sort=-own_co2e_kg&limit=2", &r);
    ck_assert_str_eq(str_at(&r, "items/0/id"), "acme/base");
    ck_assert_str_eq(str_at(&r, "items/1/id"), "beta/solo");
    ck_assert_ptr_nonnull(strstr(r.body, "next_cursor"));
    snprintf(path, sizeof path, "/v1/families?sort=-own_co2e_kg&limit=2&cursor=%s",
             str_at(&r, "next_cursor"));
    ct_response_cleanup(&r);
    get_ok(path, &r);
    ck_assert_uint_eq(json_array_size(at(r.json, "items")), 1);
    ck_assert_str_eq(str_at(&r, "items/0/id"), "beta/tie");
    ck_assert(json_is_null(at(r.json, "next_cursor")));
    ct_response_cleanup(&r);

    /* The order by inferences is the folded one: acme/base's 12 are its
     * descendants' until the writer folds them. */
    ct_wait_folded(srv);
    get_ok("/v1/families?sort=-inferences", &r);
    ck_assert_str_eq(str_at(&r, "items/0/id"), "acme/base");
    ck_assert_str_eq(str_at(&r, "items/1/id"), "beta/solo");
    ck_assert_str_eq(str_at(&r, "items/2/id"), "beta/tie");
    ct_response_cleanup(&r);

    get_ok("/v1/families?sort=-size&limit=1", &r);
    ck_assert_str_eq(str_at(&r, "items/0/id"), "acme/base");
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(families_as_csv_put_low_and_high_beside_each_value)
{
    const char *headers[] = {"Accept: text/csv", NULL};
    struct ct_response r;

    seeded();
    ct_request(srv, "GET", "/v1/families", headers, NULL, 0, &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_str_eq(r.body, "id,size,inferences,training_co2e_kg,training_co2e_kg_low,"
                             "training_co2e_kg_high,fine_tuning_co2e_kg,fine_tuning_co2e_kg_low,"
                             "fine_tuning_co2e_kg_high,other_co2e_kg,other_co2e_kg_low,"
                             "other_co2e_kg_high,own_co2e_kg,own_co2e_kg_low,own_co2e_kg_high\r\n"
                             "acme/base,3,12,100,80,130,10,10,10,3,3,3,113,93,143\r\n"
                             "beta/solo,1,3,50,50,50,0,0,0,0,0,0,50,50,50\r\n");
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(aggregate_refusals_are_400_naming_the_parameter)
{
    static const char *const paths[] = {
        "/v1/families?sort=size",      "/v1/families?sort=-total_co2e_kg",
        "/v1/families?limit=0",        "/v1/families?limit=1001",
        "/v1/families?namespace=acme", "/v1/totals?namespace=a%20b",
        "/v1/totals?sort=-inferences",
    };
    struct ct_response r;

    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        ct_get(srv, paths[i], &r);
        ck_assert_msg(r.status == 400, "%s answered %ld: %s", paths[i], r.status, r.body);
        ct_response_cleanup(&r);
    }
    /* A cursor that is no family's root, in an order that reads its place. */
    seeded();
    ct_get(srv, "/v1/families?sort=-size&cursor=2", &r);
    ck_assert_msg(r.status == 400, "answered %ld: %s", r.status, r.body);
    ct_response_cleanup(&r);
}
END_TEST

/* The ids of a page of models, joined by spaces. */
static void ids_of(const struct ct_response *r, char *buf, size_t len)
{
    const json_t *items = at(r->json, "items");
    size_t i;
    json_t *item;

    buf[0] = '\0';
    json_array_foreach((json_t *)(uintptr_t)items, i, item)
    {
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%s%s", i ? " " : "",
                 json_string_value(json_object_get(item, "id")));
    }
}

START_TEST(models_sort_by_a_figure_with_ties_by_registration)
{
    struct ct_response r;
    char ids[256], path[160];

    seeded();
    counted("beta/solo", 2); /* 5 inferences: ties beta/leaf, registered earlier */
    get_ok("/v1/models?sort=-inferences", &r);
    ids_of(&r, ids, sizeof ids);
    ck_assert_str_eq(ids, "acme/tuned beta/leaf beta/solo acme/base");
    ct_response_cleanup(&r);

    get_ok("/v1/models?sort=-own_co2e_kg&limit=2", &r);
    ids_of(&r, ids, sizeof ids);
    ck_assert_str_eq(ids, "acme/base beta/solo");
    snprintf(path, sizeof path, "/v1/models?sort=-own_co2e_kg&limit=2&cursor=%s",
             str_at(&r, "next_cursor"));
    ct_response_cleanup(&r);
    get_ok(path, &r);
    ids_of(&r, ids, sizeof ids);
    ck_assert_str_eq(ids, "acme/tuned beta/leaf");
    ck_assert(json_is_null(at(r.json, "next_cursor")));
    ct_response_cleanup(&r);

    get_ok("/v1/models?sort=-created_at&limit=3", &r);
    ids_of(&r, ids, sizeof ids);
    ck_assert_str_eq(ids, "beta/solo beta/leaf acme/tuned");
    ct_response_cleanup(&r);
    get_ok("/v1/models?sort=created_at&namespace=beta", &r);
    ids_of(&r, ids, sizeof ids);
    ck_assert_str_eq(ids, "beta/leaf beta/solo");
    ct_response_cleanup(&r);

    ct_get(srv, "/v1/models?sort=-inferences&namespace=beta", &r);
    ASSERT_STATUS(&r, 400);
    ct_response_cleanup(&r);
    ct_get(srv, "/v1/models?sort=inferences", &r);
    ASSERT_STATUS(&r, 400);
    ct_response_cleanup(&r);
    ct_get(srv, "/v1/models?sort=-inferences&cursor=999", &r);
    ASSERT_STATUS(&r, 400);
    ct_response_cleanup(&r);
}
END_TEST

/* ?include=footprint: each item's summary footprint, computed by hand on the
 * seeded family. Under usage acme/tuned (7 of the family's 12 inferences) carries
 * 7/12 of the base's 100 (80..130) and 7/12 of its own 11, beta/leaf the other
 * 5/12 of both and its own 2; the base's profile (0.01 kWh on a 1 kg/kWh grid,
 * 10 g an inference) is the nearest of all three. */
START_TEST(models_list_items_carry_their_footprint_on_request)
{
    struct ct_response r;
    const double tuned = 100.0 * 7 / 12 + 11.0 * 7 / 12, leaf = 100.0 * 5 / 12 + 11.0 * 5 / 12 + 2;

    seeded();
    ct_send(srv, "PATCH", "/v1/models/acme/base",
            "{'inference':{'energy_kwh_per_inference':0.01,"
            "'carbon_intensity':{'value':1,'unit':'kg/kWh'}}}",
            &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);

    get_ok("/v1/models?include=footprint&limit=3", &r);
    ck_assert_str_eq(str_at(&r, "items/0/id"), "acme/base");
    ck_assert_str_eq(str_at(&r, "items/0/footprint/policy"), "usage");
    ck_assert_int_eq(int_at(&r, "items/0/footprint/inferences"), 0);
    ASSERT_RANGE(&r, "items/0/footprint/total_co2e_kg", 0, 0, 0);
    ck_assert(json_is_null(at(r.json, "items/0/footprint/co2e_g_per_inference")));
    ck_assert_str_eq(str_at(&r, "items/1/id"), "acme/tuned");
    ASSERT_RANGE(&r, "items/1/footprint/own_co2e_kg", 11, 11, 11);
    ASSERT_RANGE(&r, "items/1/footprint/inherited_co2e_kg", 100.0 * 7 / 12, 80.0 * 7 / 12,
                 130.0 * 7 / 12);
    ASSERT_RANGE(&r, "items/1/footprint/inference_co2e_kg", 0.07, 0.07, 0.07);
    ASSERT_RANGE(&r, "items/1/footprint/total_co2e_kg", tuned + 0.07,
                 80.0 * 7 / 12 + 11.0 * 7 / 12 + 0.07, 130.0 * 7 / 12 + 11.0 * 7 / 12 + 0.07);
    ASSERT_NUM(&r, "items/1/footprint/co2e_g_per_inference/value", (tuned + 0.07) * 1000 / 7);
    ck_assert_str_eq(str_at(&r, "items/2/id"), "beta/leaf");
    ASSERT_NUM(&r, "items/2/footprint/total_co2e_kg/value", leaf + 0.05);
    ASSERT_NUM(&r, "items/2/footprint/co2e_g_per_inference/value", (leaf + 0.05) * 1000 / 5);
    ck_assert_ptr_nonnull(strstr(r.link, "&include=footprint>"));
    ct_response_cleanup(&r);

    /* Under none each keeps its own emissions: the page's order and filters are
     * the list's own. */
    get_ok("/v1/models?include=footprint&policy=none&namespace=acme", &r);
    ck_assert_uint_eq(json_array_size(at(r.json, "items")), 2);
    ASSERT_RANGE(&r, "items/0/footprint/total_co2e_kg", 100, 80, 130);
    ASSERT_RANGE(&r, "items/1/footprint/inherited_co2e_kg", 0, 0, 0);
    ASSERT_NUM(&r, "items/1/footprint/total_co2e_kg/value", 11.07);
    ASSERT_NUM(&r, "items/1/footprint/co2e_g_per_inference/value", 11070.0 / 7);
    ct_response_cleanup(&r);

    /* Without include an item is the model alone. */
    get_ok("/v1/models?limit=1", &r);
    ck_assert_ptr_null(at(r.json, "items/0/footprint"));
    ct_response_cleanup(&r);

    get_ok("/v1/models?include=footprint&policy=none&namespace=beta&format=csv", &r);
    ck_assert_ptr_nonnull(strstr(r.body, "updated_at,policy,inferences,own_co2e_kg,"
                                         "own_co2e_kg_low,own_co2e_kg_high,"));
    ck_assert_ptr_nonnull(strstr(r.body, ",none,5,2,2,2,0,0,0,0.05,0.05,0.05,2.05,2.05,2.05,410,"
                                         "410,410\r\n"));
    ck_assert_ptr_nonnull(strstr(r.body, ",none,3,50,50,50,0,0,0,0,0,0,50,50,50,"));
    ct_response_cleanup(&r);

    ct_get(srv, "/v1/models?include=lineage", &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", "include");
    ct_response_cleanup(&r);
    ct_get(srv, "/v1/models?policy=equal", &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", "policy");
    ct_response_cleanup(&r);
    ct_get(srv, "/v1/models?include=footprint&policy=fair", &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", "policy");
    ct_response_cleanup(&r);
}
END_TEST

static void profile_patched(const char *model, double kwh_each)
{
    char path[128], body[160];
    struct ct_response r;

    snprintf(path, sizeof path, "/v1/models/%s", model);
    snprintf(body, sizeof body,
             "{'inference':{'energy_kwh_per_inference':%g,"
             "'carbon_intensity':{'value':1,'unit':'kg/kWh'}}}",
             kwh_each);
    ct_send(srv, "PATCH", path, body, &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);
}

/* The footprint orders rank by the policy-free figure, own emissions plus the
 * model's own inferences' emissions (and that per inference), kept through
 * profiles, increments and ties. With the base's profile (10 g an inference,
 * inherited by tuned and leaf): base 100, solo 50, tie 50, tuned 11 + 0.07, leaf
 * 2 + 0.05; per inference solo 50000/3 g, tuned 11070/7, leaf 2050/5, then base
 * and tie, which have no inferences. */
START_TEST(models_sort_by_the_policy_free_footprint)
{
    struct ct_response r;
    char ids[256], path[200];

    seeded();
    registered("{'id':'beta/tie'}");
    activity_added("beta/tie", "{'kind':'training','co2e_kg':50}");
    profile_patched("acme/base", 0.01);

    get_ok("/v1/models?sort=-total_co2e_kg", &r);
    ids_of(&r, ids, sizeof ids);
    ck_assert_str_eq(ids, "acme/base beta/solo beta/tie acme/tuned beta/leaf");
    ct_response_cleanup(&r);
    get_ok("/v1/models?sort=-total_co2e_kg&limit=2&include=footprint", &r);
    ids_of(&r, ids, sizeof ids);
    ck_assert_str_eq(ids, "acme/base beta/solo");
    ck_assert_str_eq(str_at(&r, "items/1/footprint/policy"), "none");
    ASSERT_RANGE(&r, "items/1/footprint/total_co2e_kg", 50, 50, 50);
    snprintf(path, sizeof path, "/v1/models?sort=-total_co2e_kg&limit=2&cursor=%s",
             str_at(&r, "next_cursor"));
    ck_assert_ptr_nonnull(strstr(r.link, "sort=-total_co2e_kg"));
    ct_response_cleanup(&r);
    get_ok(path, &r);
    ids_of(&r, ids, sizeof ids);
    ck_assert_str_eq(ids, "beta/tie acme/tuned");
    ct_response_cleanup(&r);

    get_ok("/v1/models?sort=-co2e_g_per_inference&include=footprint&policy=none", &r);
    ids_of(&r, ids, sizeof ids);
    ck_assert_str_eq(ids, "beta/solo acme/tuned beta/leaf acme/base beta/tie");
    ASSERT_NUM(&r, "items/1/footprint/co2e_g_per_inference/value", 11070.0 / 7);
    ASSERT_NUM(&r, "items/2/footprint/co2e_g_per_inference/value", 2050.0 / 5);
    ct_response_cleanup(&r);

    /* leaf's own profile, 3000 g an inference: 2 + 15 kg passes tuned. */
    profile_patched("beta/leaf", 3);
    get_ok("/v1/models?sort=-total_co2e_kg", &r);
    ids_of(&r, ids, sizeof ids);
    ck_assert_str_eq(ids, "acme/base beta/solo beta/tie beta/leaf acme/tuned");
    ct_response_cleanup(&r);
    /* 1000 more inferences on tuned: 11 + 10.07 kg passes leaf again. */
    counted("acme/tuned", 1000);
    get_ok("/v1/models?sort=-total_co2e_kg&include=footprint&limit=4", &r);
    ids_of(&r, ids, sizeof ids);
    ck_assert_str_eq(ids, "acme/base beta/solo beta/tie acme/tuned");
    ASSERT_NUM(&r, "items/3/footprint/total_co2e_kg/value", 11 + 1007 * 0.01);
    ct_response_cleanup(&r);
    /* The base's profile goes: tuned has none to take, leaf keeps its own. */
    ct_send(srv, "PATCH", "/v1/models/acme/base", "{'inference':null}", &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);
    get_ok("/v1/models?sort=-co2e_g_per_inference", &r);
    ids_of(&r, ids, sizeof ids);
    ck_assert_str_eq(ids, "beta/solo beta/leaf acme/tuned acme/base beta/tie");
    ct_response_cleanup(&r);
    get_ok("/v1/models?sort=-total_co2e_kg", &r);
    ids_of(&r, ids, sizeof ids);
    ck_assert_str_eq(ids, "acme/base beta/solo beta/tie beta/leaf acme/tuned");
    ct_response_cleanup(&r);

    ct_get(srv, "/v1/models?sort=-total_co2e_kg&policy=usage", &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", "policy");
    ck_assert_ptr_nonnull(strstr(r.body, "policy none"));
    ct_response_cleanup(&r);
    ct_get(srv, "/v1/models?sort=-co2e_g_per_inference&include=footprint&policy=equal", &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", "policy");
    ct_response_cleanup(&r);
    ct_get(srv, "/v1/models?sort=-total_co2e_kg&namespace=acme", &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", "sort");
    ct_response_cleanup(&r);
    ct_get(srv, "/v1/models?sort=-inferences&policy=none", &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", "policy");
    ct_response_cleanup(&r);
}
END_TEST

/* A derived profile that takes its training energy from the lineage: the base's
 * training run gives every model below it its CO2e per inference, and re-ranks
 * them. */
START_TEST(footprint_order_follows_a_derived_profile_s_training_energy)
{
    struct ct_response r;
    char ids[256];

    registered("{'id':'x/base'}");
    registered("{'id':'x/kid','parents':[{'id':'x/base'}]}");
    registered("{'id':'x/other'}");
    activity_added("x/other", "{'kind':'training','co2e_kg':5}");
    ct_send(srv, "PATCH", "/v1/models/x/base",
            "{'inference':{'derived_from_training':{'ratio':0.5,'token_steps':1000},"
            "'carbon_intensity':{'value':1,'unit':'kg/kWh'}}}",
            &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);
    counted("x/kid", 100);
    get_ok("/v1/models?sort=-total_co2e_kg&include=footprint", &r);
    ids_of(&r, ids, sizeof ids);
    ck_assert_str_eq(ids, "x/other x/base x/kid");
    ASSERT_RANGE(&r, "items/2/footprint/inference_co2e_kg", 0, 0, 0);
    ct_response_cleanup(&r);

    activity_added("x/base", "{'kind':'training','energy_kwh':1000,"
                             "'carbon_intensity':{'value':0.001,'unit':'kg/kWh'}}");
    get_ok("/v1/models?sort=-total_co2e_kg&include=footprint", &r);
    ids_of(&r, ids, sizeof ids);
    ck_assert_str_eq(ids, "x/kid x/other x/base");
    /* 0.5 x the lineage's training energy over 1000 token steps, on 1 kg/kWh. */
    ck_assert(num_at(&r, "items/0/footprint/inference_co2e_kg/value") > 5);
    ck_assert(num_at(&r, "items/2/footprint/total_co2e_kg/value") < 5);
    ct_response_cleanup(&r);
}
END_TEST

/* The totals' inference CO2e: each model's inferences at its CO2e per inference
 * now, kept as counts, profiles and models change. */
START_TEST(totals_carry_the_inferences_co2e)
{
    struct ct_response r;

    seeded();
    get_ok("/v1/totals", &r);
    ASSERT_RANGE(&r, "inference_co2e_kg", 0, 0, 0);
    ct_response_cleanup(&r);
    /* 10 g an inference below acme/base: tuned's 7 and leaf's 5; solo has none. */
    profile_patched("acme/base", 0.01);
    get_ok("/v1/totals", &r);
    ASSERT_RANGE(&r, "inference_co2e_kg", 0.12, 0.12, 0.12);
    ct_response_cleanup(&r);
    get_ok("/v1/totals?namespace=beta", &r);
    ASSERT_RANGE(&r, "inference_co2e_kg", 0.05, 0.05, 0.05);
    ct_response_cleanup(&r);
    /* solo's own 1 (0.5..2) kWh on a 1 kg/kWh grid: 3 x 1000 (500..2000) g; tuned's
     * 100 more add 1 kg. */
    ct_send(srv, "PATCH", "/v1/models/beta/solo",
            "{'inference':{'energy_kwh_per_inference':{'value':1,'low':0.5,'high':2},"
            "'carbon_intensity':{'value':1,'unit':'kg/kWh'}}}",
            &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);
    counted("acme/tuned", 100);
    get_ok("/v1/totals", &r);
    ASSERT_RANGE(&r, "inference_co2e_kg", 1.12 + 3, 1.12 + 1.5, 1.12 + 6);
    ct_response_cleanup(&r);
    get_ok("/v1/totals?namespace=acme", &r);
    ASSERT_RANGE(&r, "inference_co2e_kg", 1.07, 1.07, 1.07);
    ct_response_cleanup(&r);
    /* leaf leaves with its 0.05 kg. */
    ct_request(srv, "DELETE", "/v1/models/beta/leaf", NULL, NULL, 0, &r);
    ASSERT_STATUS(&r, 204);
    ct_response_cleanup(&r);
    get_ok("/v1/totals?namespace=beta", &r);
    ASSERT_RANGE(&r, "inference_co2e_kg", 3, 1.5, 6);
    ct_response_cleanup(&r);
}
END_TEST

/* ?q= finds ids by their start, case folded, bare ids first, then by namespace and
 * name, a page at a time after the cursor's id. */
START_TEST(models_search_by_the_start_of_an_id)
{
    struct ct_response r;
    char ids[256], path[160];

    seeded();
    registered("{'id':'acmeco/a'}");
    registered("{'id':'acme2'}");
    registered("{'id':'Acme/Zed'}");
    registered("{'id':'acme/apple'}");
    get_ok("/v1/models?q=ACME", &r);
    ids_of(&r, ids, sizeof ids);
    ck_assert_str_eq(ids, "acme2 acme/apple acme/base acme/tuned Acme/Zed acmeco/a");
    ct_response_cleanup(&r);

    get_ok("/v1/models?q=acme&limit=2", &r);
    ids_of(&r, ids, sizeof ids);
    ck_assert_str_eq(ids, "acme2 acme/apple");
    ck_assert_ptr_nonnull(strstr(r.link, "&q=acme>; rel=\"next\""));
    snprintf(path, sizeof path, "/v1/models?q=acme&limit=3&cursor=%s", str_at(&r, "next_cursor"));
    ct_response_cleanup(&r);
    get_ok(path, &r);
    ids_of(&r, ids, sizeof ids);
    ck_assert_str_eq(ids, "acme/base acme/tuned Acme/Zed");
    snprintf(path, sizeof path, "/v1/models?q=acme&limit=3&cursor=%s", str_at(&r, "next_cursor"));
    ct_response_cleanup(&r);
    get_ok(path, &r);
    ids_of(&r, ids, sizeof ids);
    ck_assert_str_eq(ids, "acmeco/a");
    ck_assert(json_is_null(at(r.json, "next_cursor")));
    ct_response_cleanup(&r);

    get_ok("/v1/models?q=acme/", &r);
    ids_of(&r, ids, sizeof ids);
    ck_assert_str_eq(ids, "acme/apple acme/base acme/tuned Acme/Zed");
    ct_response_cleanup(&r);
    get_ok("/v1/models?q=acme/t", &r);
    ids_of(&r, ids, sizeof ids);
    ck_assert_str_eq(ids, "acme/tuned");
    ct_response_cleanup(&r);
    get_ok("/v1/models?q=zz", &r);
    ck_assert_uint_eq(json_array_size(at(r.json, "items")), 0);
    ct_response_cleanup(&r);

    ct_get(srv, "/v1/models?q=a/b/c", &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", "q");
    ct_response_cleanup(&r);
    ct_get(srv, "/v1/models?q=%2Fx", &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", "q");
    ct_response_cleanup(&r);
    ct_get(srv, "/v1/models?q=", &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", "q");
    ct_response_cleanup(&r);
    ct_get(srv, "/v1/models?q=acme&sort=-inferences", &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", "q");
    ct_response_cleanup(&r);
    ct_get(srv, "/v1/models?q=acme&namespace=acme", &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", "q");
    ct_response_cleanup(&r);
    ct_get(srv, "/v1/models?q=acme&cursor=999", &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", "cursor");
    ct_response_cleanup(&r);
}
END_TEST

static void counted_on(const char *model, long long count, const char *date)
{
    static int n;
    char path[160], key[32], body[96];
    struct ct_response r;

    snprintf(path, sizeof path, "/v1/models/%s/inferences", model);
    snprintf(key, sizeof key, "series-%d", n++);
    snprintf(body, sizeof body, "{'count':%lld,'date':'%s'}", count, date);
    send_keyed("POST", path, key, body, &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);
}

/* srs/m serves at 0.01 kWh an inference on a 1 kg/kWh grid: 10 g each. It counted
 * 10 on Monday 2024-03-04, 5 on 03-06, 3 on 03-12 and 7 on 04-02. */
static void series_seeded(void)
{
    struct ct_response r;

    registered("{'id':'srs/m'}");
    registered("{'id':'srs/bare'}");
    ct_send(srv, "PATCH", "/v1/models/srs/m",
            "{'inference':{'energy_kwh_per_inference':0.01,"
            "'carbon_intensity':{'value':1,'unit':'kg/kWh'}}}",
            &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);
    counted_on("srs/m", 10, "2024-03-04");
    counted_on("srs/m", 5, "2024-03-06");
    counted_on("srs/m", 3, "2024-03-12");
    counted_on("srs/m", 7, "2024-04-02");
    counted_on("srs/bare", 4, "2024-03-05");
}

#define ASSERT_BUCKET(r, i, start, count, kg)                                                      \
    do {                                                                                           \
        char bp_[64];                                                                              \
        snprintf(bp_, sizeof bp_, "buckets/%d/start", (i));                                        \
        ck_assert_str_eq(str_at((r), bp_), (start));                                               \
        snprintf(bp_, sizeof bp_, "buckets/%d/inferences", (i));                                   \
        ck_assert_int_eq(int_at((r), bp_), (count));                                               \
        snprintf(bp_, sizeof bp_, "buckets/%d/inference_co2e_kg", (i));                            \
        ASSERT_RANGE((r), bp_, (kg), (kg), (kg));                                                  \
    } while (0)

START_TEST(series_by_day_week_and_month_with_empty_buckets_as_zeros)
{
    struct ct_response r;

    series_seeded();
    get_ok("/v1/models/srs/m/series?from=2024-03-03&to=2024-03-06", &r);
    ck_assert_str_eq(str_at(&r, "granularity"), "day");
    ck_assert_uint_eq(json_array_size(at(r.json, "buckets")), 4);
    ASSERT_BUCKET(&r, 0, "2024-03-03", 0, 0);
    ASSERT_BUCKET(&r, 1, "2024-03-04", 10, 0.1);
    ASSERT_BUCKET(&r, 2, "2024-03-05", 0, 0);
    ASSERT_BUCKET(&r, 3, "2024-03-06", 5, 0.05);
    ct_response_cleanup(&r);

    /* Weeks start on Monday: Friday 03-01 falls in the week of 02-26. */
    get_ok("/v1/models/srs/m/series?granularity=week&from=2024-03-01&to=2024-03-13", &r);
    ck_assert_uint_eq(json_array_size(at(r.json, "buckets")), 3);
    ASSERT_BUCKET(&r, 0, "2024-02-26", 0, 0);
    ASSERT_BUCKET(&r, 1, "2024-03-04", 15, 0.15);
    ASSERT_BUCKET(&r, 2, "2024-03-11", 3, 0.03);
    ct_response_cleanup(&r);

    get_ok("/v1/models/srs/m/series?granularity=month&from=2024-02-15&to=2024-04-30", &r);
    ck_assert_uint_eq(json_array_size(at(r.json, "buckets")), 3);
    ASSERT_BUCKET(&r, 0, "2024-02-01", 0, 0);
    ASSERT_BUCKET(&r, 1, "2024-03-01", 18, 0.18);
    ASSERT_BUCKET(&r, 2, "2024-04-01", 7, 0.07);
    ct_response_cleanup(&r);

    /* Without an inference profile the counts stand alone. */
    get_ok("/v1/models/srs/bare/series?from=2024-03-05&to=2024-03-05", &r);
    ck_assert_int_eq(int_at(&r, "buckets/0/inferences"), 4);
    ck_assert(json_is_null(at(r.json, "buckets/0/inference_co2e_kg")));
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(series_as_csv_and_its_refusals)
{
    static const char *const bad[] = {
        "/v1/models/srs/m/series?granularity=year",
        "/v1/models/srs/m/series?from=2024-03-02&to=2024-03-01",
        "/v1/models/srs/m/series?from=2024-02-30",
        "/v1/models/srs/m/series?from=2023-01-01&to=2024-03-01",
        "/v1/models/srs/m/series?granularity=month&from=2010-01-01&to=2024-03-01",
        "/v1/models/srs/m/series?policy=usage",
    };
    const char *headers[] = {"Accept: text/csv", NULL};
    struct ct_response r;

    series_seeded();
    ct_request(srv, "GET", "/v1/models/srs/m/series?granularity=week&from=2024-03-04&to=2024-03-17",
               headers, NULL, 0, &r);
    ASSERT_STATUS(&r, 200);
    ck_assert_str_eq(r.body, "start,inferences,inference_co2e_kg,inference_co2e_kg_low,"
                             "inference_co2e_kg_high\r\n"
                             "2024-03-04,15,0.15,0.15,0.15\r\n"
                             "2024-03-11,3,0.03,0.03,0.03\r\n");
    ct_response_cleanup(&r);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ct_get(srv, bad[i], &r);
        ck_assert_msg(r.status == 400, "%s answered %ld: %s", bad[i], r.status, r.body);
        ct_response_cleanup(&r);
    }
    ct_get(srv, "/v1/models/srs/nobody/series", &r);
    ASSERT_STATUS(&r, 404);
    ct_response_cleanup(&r);
}
END_TEST

/* GET path over a raw connection, for the headers the harness does not keep. */
static void raw_get(const char *path, struct ct_raw_response *out)
{
    char request[512];
    int len = snprintf(request, sizeof request,
                       "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path);

    ct_raw(srv, request, (size_t)len, 10, out);
}

/* scope=family: the family's counts per bucket and their CO2e, each count priced
 * at its model's CO2e per inference now, as the model's own series prices it.
 * Below srs/m (10 g):
 * srs/kid (inherits 10 g) counts 2 on 03-04 and 1 on 03-12; srs/gkid (its own
 * 50 g) 4 on 03-06. */
START_TEST(family_series_sums_the_members_with_empty_buckets_as_zeros)
{
    struct ct_response r;

    series_seeded();
    registered("{'id':'srs/kid','parents':[{'id':'srs/m'}]}");
    registered("{'id':'srs/gkid','parents':[{'id':'srs/kid'}]}");
    profile_patched("srs/gkid", 0.05);
    counted_on("srs/kid", 2, "2024-03-04");
    counted_on("srs/gkid", 4, "2024-03-06");
    counted_on("srs/kid", 1, "2024-03-12");

    get_ok("/v1/models/srs/m/series?scope=family&from=2024-03-04&to=2024-03-07", &r);
    ck_assert_str_eq(str_at(&r, "scope"), "family");
    ck_assert_uint_eq(json_array_size(at(r.json, "buckets")), 4);
    ASSERT_BUCKET(&r, 0, "2024-03-04", 12, 0.12);
    ASSERT_BUCKET(&r, 1, "2024-03-05", 0, 0);
    ASSERT_BUCKET(&r, 2, "2024-03-06", 9, 0.25);
    ASSERT_BUCKET(&r, 3, "2024-03-07", 0, 0);
    ct_response_cleanup(&r);

    get_ok("/v1/models/srs/m/series?scope=family&granularity=week&from=2024-03-04&to=2024-03-17",
           &r);
    ASSERT_BUCKET(&r, 0, "2024-03-04", 21, 0.37);
    ASSERT_BUCKET(&r, 1, "2024-03-11", 4, 0.04);
    ct_response_cleanup(&r);
    get_ok("/v1/models/srs/kid/series?scope=family&granularity=month&from=2024-03-01&to=2024-04-30",
           &r);
    ASSERT_BUCKET(&r, 0, "2024-03-01", 7, 0.23);
    ASSERT_BUCKET(&r, 1, "2024-04-01", 0, 0);
    ct_response_cleanup(&r);
    /* scope=model is the model alone, as without scope. */
    get_ok("/v1/models/srs/m/series?scope=model&from=2024-03-04&to=2024-03-04", &r);
    ck_assert_ptr_null(at(r.json, "scope"));
    ASSERT_BUCKET(&r, 0, "2024-03-04", 10, 0.1);
    ct_response_cleanup(&r);

    get_ok("/v1/models/srs/m/series?scope=family&from=2024-03-05&to=2024-03-06&format=csv", &r);
    ck_assert_str_eq(r.body, "start,inferences,inference_co2e_kg,inference_co2e_kg_low,"
                             "inference_co2e_kg_high\r\n2024-03-05,0,0,0,0\r\n"
                             "2024-03-06,9,0.25,0.25,0.25\r\n");
    ct_response_cleanup(&r);

    /* A profile set later prices every count of the models it applies to, past
     * days included: the family's series stays the sum of its members'. */
    profile_patched("srs/kid", 0.1);
    counted_on("srs/kid", 1, "2024-03-07");
    get_ok("/v1/models/srs/m/series?scope=family&from=2024-03-04&to=2024-03-07", &r);
    ASSERT_BUCKET(&r, 0, "2024-03-04", 12, 0.3);
    ASSERT_BUCKET(&r, 2, "2024-03-06", 9, 0.25);
    ASSERT_BUCKET(&r, 3, "2024-03-07", 1, 0.1);
    ct_response_cleanup(&r);
    get_ok("/v1/models/srs/kid/series?from=2024-03-04&to=2024-03-04", &r);
    ASSERT_BUCKET(&r, 0, "2024-03-04", 2, 0.2);
    ct_response_cleanup(&r);

    /* gkid moves under srs/bare (no profile; its own 4 on 03-05 priced at none):
     * its days leave srs/m's and srs/kid's families and join srs/bare's. */
    ct_send(srv, "PATCH", "/v1/models/srs/gkid", "{'parents':[{'id':'srs/bare'}]}", &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);
    get_ok("/v1/models/srs/m/series?scope=family&from=2024-03-06&to=2024-03-06", &r);
    ASSERT_BUCKET(&r, 0, "2024-03-06", 5, 0.05);
    ct_response_cleanup(&r);
    get_ok("/v1/models/srs/bare/series?scope=family&from=2024-03-05&to=2024-03-06", &r);
    ASSERT_BUCKET(&r, 0, "2024-03-05", 4, 0);
    ASSERT_BUCKET(&r, 1, "2024-03-06", 4, 0.2);
    ct_response_cleanup(&r);
    /* And leaves them when it is deleted. */
    ct_request(srv, "DELETE", "/v1/models/srs/gkid", NULL, NULL, 0, &r);
    ASSERT_STATUS(&r, 204);
    ct_response_cleanup(&r);
    get_ok("/v1/models/srs/bare/series?scope=family&from=2024-03-06&to=2024-03-06", &r);
    ASSERT_BUCKET(&r, 0, "2024-03-06", 0, 0);
    ct_response_cleanup(&r);

    ct_get(srv, "/v1/models/srs/m/series?scope=everyone", &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", "scope");
    ct_response_cleanup(&r);
    ct_get(srv, "/v1/models/srs/nope/series?scope=family", &r);
    ASSERT_STATUS(&r, 404);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(format_csv_in_the_query_names_the_form_and_the_file)
{
    static const struct {
        const char *path;
        const char *file;
        const char *header;
    } cases[] = {
        {"/v1/families?format=csv", "families.csv", "id,size,inferences,"},
        {"/v1/models?format=csv", "models.csv", "id,namespace,name,"},
        {"/v1/models/acme/base/family?format=csv", "acme_base_family.csv", "id,parents,depth,"},
        {"/v1/models/acme/base/activities?format=csv", "acme_base_activities.csv", "id,"},
        {"/v1/models/acme/tuned/series?format=csv&from=2024-03-01&to=2024-03-02",
         "acme_tuned_series.csv", "start,inferences,"},
    };
    struct ct_raw_response r;
    struct ct_response j;
    char value[256], want[256];

    seeded();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        raw_get(cases[i].path, &r);
        ck_assert_msg(r.status == 200, "%s answered %d", cases[i].path, r.status);
        ck_assert_str_eq(r.content_type, "text/csv; charset=utf-8");
        snprintf(want, sizeof want, "attachment; filename=\"%s\"", cases[i].file);
        ck_assert_str_eq(ct_raw_header(&r, "Content-Disposition", value, sizeof value), want);
        ck_assert_msg(strncmp(r.body, cases[i].header, strlen(cases[i].header)) == 0, "%s: %s",
                      cases[i].path, r.body);
        ct_raw_cleanup(&r);
    }
    /* ?format=json wins over Accept; the next page's Link keeps the format. */
    {
        const char *headers[] = {"Accept: text/csv", NULL};
        ct_request(srv, "GET", "/v1/families?format=json", headers, NULL, 0, &j);
        ASSERT_STATUS(&j, 200);
        ck_assert_ptr_nonnull(j.json);
        ct_response_cleanup(&j);
    }
    ct_get(srv, "/v1/families?format=csv&limit=1", &j);
    ASSERT_STATUS(&j, 200);
    ck_assert_ptr_nonnull(strstr(j.link, "&format=csv>"));
    ct_response_cleanup(&j);
    ct_get(srv, "/v1/families?format=xml", &j);
    ASSERT_STATUS(&j, 400);
    ct_response_cleanup(&j);
    ct_get(srv, "/v1/totals?format=csv", &j);
    ASSERT_STATUS(&j, 400);
    ct_response_cleanup(&j);
}
END_TEST

/* The index of column name in a CSV header line; fails the test when absent. */
static int column_of(const char *header, const char *name)
{
    int index = 0;
    size_t len = strlen(name);

    for (const char *p = header; *p; index++) {
        const char *end = strpbrk(p, ",\r");
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncmp(p, name, len) == 0)
            return index;
        if (end == NULL || *end == '\r')
            break;
        p = end + 1;
    }
    ck_abort_msg("no column %s in %s", name, header);
    return -1;
}

/* Field index of a CSV line (no quoted fields in these rows) as a number. */
static double field_of(const char *line, int index)
{
    const char *p = line;

    for (int i = 0; i < index; i++) {
        p = strchr(p, ',');
        ck_assert_ptr_nonnull(p);
        p++;
    }
    return strtod(p, NULL);
}

START_TEST(family_csv_rows_add_up_to_the_family_total)
{
    static const char *const policies[] = {"none", "equal", "usage"};
    static const char *const bounds[][2] = {
        {"kept_co2e_kg", "inherited_co2e_kg"},
        {"kept_co2e_kg_low", "inherited_co2e_kg_low"},
        {"kept_co2e_kg_high", "inherited_co2e_kg_high"},
    };
    static const double totals[] = {113, 93, 143};
    struct ct_response r;
    char path[128];

    seeded();
    for (size_t p = 0; p < sizeof policies / sizeof policies[0]; p++) {
        snprintf(path, sizeof path, "/v1/models/acme/base/family?format=csv&policy=%s",
                 policies[p]);
        get_ok(path, &r);
        for (size_t b = 0; b < 3; b++) {
            int kept = column_of(r.body, bounds[b][0]);
            int inherited = column_of(r.body, bounds[b][1]);
            double sum = 0;
            int rows = 0;
            for (const char *line = strstr(r.body, "\r\n"); line && line[2]; rows++) {
                line += 2;
                sum += field_of(line, kept) + field_of(line, inherited);
                line = strstr(line, "\r\n");
            }
            ck_assert_int_eq(rows, 3);
            ck_assert_msg(near(sum, totals[b]), "policy %s, %s: %.17g, expected %.17g", policies[p],
                          bounds[b][0], sum, totals[b]);
        }
        ct_response_cleanup(&r);
    }
}
END_TEST

/* Rows of a CSV body after its header, and the sum of kept plus inherited
 * emissions over them. */
static int csv_rows(const char *body, double *kept_plus_inherited)
{
    int kept = column_of(body, "kept_co2e_kg");
    int inherited = column_of(body, "inherited_co2e_kg");
    int rows = 0;

    *kept_plus_inherited = 0;
    for (const char *line = strstr(body, "\r\n"); line && line[2]; rows++) {
        line += 2;
        *kept_plus_inherited += field_of(line, kept) + field_of(line, inherited);
        line = strstr(line, "\r\n");
    }
    return rows;
}

START_TEST(family_all_streams_the_page_s_rows_and_its_refusals)
{
    struct ct_response page, all;
    double sum;

    seeded();
    /* One batch: the very bytes of a page as large, without its Link. */
    get_ok("/v1/models/acme/base/family?format=csv&limit=1000", &page);
    get_ok("/v1/models/acme/base/family?format=csv&all=true", &all);
    ck_assert_str_eq(all.body, page.body);
    ck_assert_int_eq(csv_rows(all.body, &sum), 3);
    ck_assert_msg(near(sum, 113), "%.17g", sum);
    ct_response_cleanup(&page);
    ct_response_cleanup(&all);
    {
        const char *headers[] = {"Accept: text/csv", NULL};
        ct_request(srv, "GET", "/v1/models/acme/tuned/family?all=true&policy=none", headers, NULL,
                   0, &all);
        ASSERT_STATUS(&all, 200);
        ck_assert_int_eq(csv_rows(all.body, &sum), 2);
        ck_assert_msg(near(sum, 13), "%.17g", sum); /* 10 + 1 + 2 */
        ct_response_cleanup(&all);
    }
    ct_get(srv, "/v1/models/acme/none/family?format=csv&all=true", &all);
    CT_ASSERT_PROBLEM(&all, 404, "not-found", NULL);
    ct_response_cleanup(&all);
    ct_get(srv, "/v1/models/acme/base/family?all=true", &all);
    CT_ASSERT_PROBLEM(&all, 400, "bad-request", "all");
    ct_response_cleanup(&all);
    ct_get(srv, "/v1/models/acme/base/family?format=csv&all=true&limit=5", &all);
    CT_ASSERT_PROBLEM(&all, 400, "bad-request", "limit");
    ct_response_cleanup(&all);
    ct_get(srv, "/v1/models/acme/base/family?format=csv&all=yes", &all);
    CT_ASSERT_PROBLEM(&all, 400, "bad-request", "all");
    ct_response_cleanup(&all);
}
END_TEST

/* Past one batch of 1000: every member once, in key order, and the rows still add
 * up to the family's own emissions. */
START_TEST(family_all_streams_a_family_larger_than_a_batch)
{
    enum { CHILDREN = 1200 };
    struct ct_response r;
    char body[160];
    double sum;

    registered("{'id':'big/root'}");
    activity_added("big/root", "{'kind':'training','co2e_kg':100}");
    for (int i = 0; i < CHILDREN; i++) {
        snprintf(body, sizeof body, "{'id':'big/c%04d','parents':[{'id':'big/root'}]}", i);
        registered(body);
    }
    activity_added("big/c1199", "{'kind':'other','co2e_kg':2}");
    get_ok("/v1/models/big/root/family?format=csv&all=true&policy=equal", &r);
    ck_assert_int_eq(csv_rows(r.body, &sum), CHILDREN + 1);
    ck_assert_msg(near(sum, 102), "%.17g", sum);
    ck_assert_ptr_nonnull(strstr(r.body, "\r\nbig/c0999,"));
    ck_assert_ptr_nonnull(strstr(r.body, "\r\nbig/c1000,"));
    ck_assert_ptr_null(strstr(strstr(r.body, "\r\nbig/c1000,") + 2, "\r\nbig/c1000,"));
    ct_response_cleanup(&r);
}
END_TEST

static Suite *aggregates_suite(void)
{
    Suite *s = suite_create("http_aggregates");
    TCase *tc = tcase_create("aggregates");

    tcase_add_checked_fixture(tc, start_server, stop_servers);
    tcase_set_timeout(tc, TEST_TIMEOUT_S);
    suite_add_tcase(s, tc);
    tcase_add_test(tc, totals_of_the_ledger_and_of_a_namespace);
    tcase_add_test(tc, families_sum_their_members_by_kind);
    tcase_add_test(tc, families_sort_with_ties_by_registration_and_page_by_cursor);
    tcase_add_test(tc, families_as_csv_put_low_and_high_beside_each_value);
    tcase_add_test(tc, aggregate_refusals_are_400_naming_the_parameter);
    tcase_add_test(tc, models_sort_by_a_figure_with_ties_by_registration);
    tcase_add_test(tc, models_search_by_the_start_of_an_id);
    tcase_add_test(tc, totals_carry_the_inferences_co2e);
    tcase_add_test(tc, footprint_order_follows_a_derived_profile_s_training_energy);
    tcase_add_test(tc, models_sort_by_the_policy_free_footprint);
    tcase_add_test(tc, models_list_items_carry_their_footprint_on_request);
    tcase_add_test(tc, series_by_day_week_and_month_with_empty_buckets_as_zeros);
    tcase_add_test(tc, series_as_csv_and_its_refusals);
    tcase_add_test(tc, family_series_sums_the_members_with_empty_buckets_as_zeros);
    tcase_add_test(tc, format_csv_in_the_query_names_the_form_and_the_file);
    tcase_add_test(tc, family_csv_rows_add_up_to_the_family_total);
    tcase_add_test(tc, family_all_streams_the_page_s_rows_and_its_refusals);
    tcase_add_test(tc, family_all_streams_a_family_larger_than_a_batch);
    return s;
}

int main(void)
{
    return ct_main(aggregates_suite());
}
