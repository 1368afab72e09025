/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the ledger over the wire: footprint errors, ETags and 304s of footprints
 * and family pages, the JSON text the server writes, family pages as CSV, ancestors,
 * and comparisons of models and hypothetical profiles. */
#include "ledger_steps.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    /* Each figure with its low and high (all equal here). base: no parents, depth 0,
     * 0 inferences, 1000 own of which it keeps 200 (1000 over 5 members), 0
     * inherited, 0 inference, 200 kg total, nothing avoided (the page is read below
     * it). */
    ck_assert_msg(strstr(r.body, "\r\nfam/base,,0,0,1000,1000,1000,200,200,200,0,0,0,0,0,0,"
                                 "200,200,200,,,,,,\r\n") != NULL,
                  "%s", r.body);
    /* ft1: 10 own, all kept, + 200 inherited, 100 inferences, 2100 g each; it avoided
     * the base's 1000 kg pre-training less its own 10. */
    snprintf(line, sizeof line,
             "\r\nfam/ft1,fam/base:finetune,1,100,10,10,10,10,10,10,200,200,200,0,0,0,210,210,210,"
             "2100,2100,2100,990,990,990\r\n");
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

static Suite *footprints_suite(void)
{
    Suite *s = suite_create("http_footprints");
    TCase *reads = tcase_create("footprint_family_ancestors");
    TCase *compare = tcase_create("compare");
    TCase *all[] = {reads, compare};

    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        tcase_add_checked_fixture(all[i], start_server, stop_servers);
        tcase_set_timeout(all[i], TEST_TIMEOUT_S);
        suite_add_tcase(s, all[i]);
    }
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
    return s;
}

int main(void)
{
    return ct_main(footprints_suite());
}
