/* SPDX-License-Identifier: Apache-2.0 */
/* Amortized footprints checked by hand: the none, equal and usage policies over
 * fine-tunes, merges and diamonds, conservation over family pages, and what deleting
 * or reparenting a counted member does to the shares. */
#include "ledger_steps.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- amortization, checked by hand ---- */

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

static Suite *amortization_suite(void)
{
    Suite *s = suite_create("http_amortization");
    TCase *amortization = tcase_create("amortization");
    TCase *all[] = {amortization};

    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        tcase_add_checked_fixture(all[i], start_server, stop_servers);
        tcase_set_timeout(all[i], TEST_TIMEOUT_S);
        suite_add_tcase(s, all[i]);
    }
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
    return s;
}

int main(void)
{
    return ct_main(amortization_suite());
}
