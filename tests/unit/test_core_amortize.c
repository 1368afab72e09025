/* SPDX-License-Identifier: Apache-2.0 */
/* Amortization: hand-checked families. The conservation property over random DAGs
 * is tested on whole footprints (test_core_footprint.c). */
#include "amortize.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MODELS 300
#define WORDS      ((MAX_MODELS + 63) / 64)

struct family {
    size_t n;
    uint64_t ancestors[MAX_MODELS][WORDS]; /* bit a set: a is an ancestor of n (or n) */
    struct core_range emissions_kg[MAX_MODELS];
    uint64_t inferences[MAX_MODELS];
};

static bool has(const uint64_t *set, size_t i)
{
    return (set[i / 64] >> (i % 64)) & 1u;
}

static void add_bit(uint64_t *set, size_t i)
{
    set[i / 64] |= (uint64_t)1 << (i % 64);
}

/* Fills ancestors[] for family f from each model's parents. */
static void link(struct family *f, size_t child, const size_t *parents, size_t n_parents)
{
    memset(f->ancestors[child], 0, sizeof f->ancestors[child]);
    add_bit(f->ancestors[child], child);
    for (size_t p = 0; p < n_parents; p++)
        for (size_t w = 0; w < WORDS; w++)
            f->ancestors[child][w] |= f->ancestors[parents[p]][w];
}

/* The ledger's aggregates for ancestor a, computed by brute force. */
static struct core_ancestor stats_of(const struct family *f, size_t a, size_t n)
{
    struct core_ancestor s = {.is_self = a == n, .emissions_kg = f->emissions_kg[a]};

    for (size_t m = 0; m < f->n; m++) {
        if (has(f->ancestors[m], a)) {
            s.n_descendants++;
            s.descendant_inferences += f->inferences[m];
        }
    }
    return s;
}

/* Allocated(n) without inference emissions; checks each allocation on the way. */
static struct core_range allocated(const struct family *f, size_t n, enum core_policy policy)
{
    struct core_ancestor ancestors[MAX_MODELS] = {0};
    struct core_allocation out[MAX_MODELS];
    struct core_range sum;
    size_t k = 0;

    for (size_t a = 0; a < f->n; a++)
        if (has(f->ancestors[n], a))
            ancestors[k++] = stats_of(f, a, n);
    ck_assert_int_eq(core_allocate(policy, ancestors, k, f->inferences[n], out, &sum), ERR_OK);
    for (size_t i = 0; i < k; i++) {
        ck_assert(out[i].share >= 0.0 && out[i].share <= 1.0);
        ck_assert(core_range_is_ordered(out[i].co2e_kg));
        ck_assert(out[i].co2e_kg.low >= 0.0);
    }
    ck_assert(core_range_is_ordered(sum));
    return sum;
}

/* base (1000 kg) with three fine-tunes of 10, 20, 30 kg and 100, 300, 600 inferences
 * (the base itself serves none). */
static void three_finetunes(struct family *f)
{
    size_t base = 0;

    memset(f, 0, sizeof *f);
    f->n = 4;
    link(f, 0, NULL, 0);
    for (size_t i = 1; i <= 3; i++)
        link(f, i, &base, 1);
    f->emissions_kg[0] = core_range_exact(1000);
    f->emissions_kg[1] = core_range_exact(10);
    f->emissions_kg[2] = core_range_exact(20);
    f->emissions_kg[3] = core_range_exact(30);
    f->inferences[1] = 100;
    f->inferences[2] = 300;
    f->inferences[3] = 600;
}

START_TEST(base_with_three_finetunes_under_equal_shares_by_four)
{
    static struct family f;

    three_finetunes(&f);
    ck_assert_double_eq_tol(allocated(&f, 0, CORE_POLICY_EQUAL).value, 250.0, 1e-9);
    ck_assert_double_eq_tol(allocated(&f, 1, CORE_POLICY_EQUAL).value, 260.0, 1e-9);
    ck_assert_double_eq_tol(allocated(&f, 2, CORE_POLICY_EQUAL).value, 270.0, 1e-9);
    ck_assert_double_eq_tol(allocated(&f, 3, CORE_POLICY_EQUAL).value, 280.0, 1e-9);
}
END_TEST

START_TEST(base_with_three_finetunes_under_usage_shares_by_inferences)
{
    static struct family f;

    three_finetunes(&f);
    /* the base served nothing, so it keeps none of its own cost */
    ck_assert_double_eq_tol(allocated(&f, 0, CORE_POLICY_USAGE).value, 0.0, 1e-9);
    ck_assert_double_eq_tol(allocated(&f, 1, CORE_POLICY_USAGE).value, 10 + 100.0, 1e-9);
    ck_assert_double_eq_tol(allocated(&f, 2, CORE_POLICY_USAGE).value, 20 + 300.0, 1e-9);
    ck_assert_double_eq_tol(allocated(&f, 3, CORE_POLICY_USAGE).value, 30 + 600.0, 1e-9);
    ck_assert_double_eq_tol(allocated(&f, 1, CORE_POLICY_NONE).value, 10.0, 1e-9);
    ck_assert_double_eq_tol(allocated(&f, 0, CORE_POLICY_NONE).value, 1000.0, 1e-9);
}
END_TEST

START_TEST(usage_without_any_inference_falls_back_to_equal)
{
    struct core_ancestor a = {
        .n_descendants = 4, .descendant_inferences = 0, .emissions_kg = {8, 8, 8}};
    bool fallback = false;

    ck_assert_double_eq_tol(core_share(CORE_POLICY_USAGE, &a, 0, &fallback), 0.25, 1e-15);
    ck_assert(fallback);
    a.descendant_inferences = 10;
    ck_assert_double_eq_tol(core_share(CORE_POLICY_USAGE, &a, 5, &fallback), 0.5, 1e-15);
    ck_assert(!fallback);
}
END_TEST

START_TEST(merge_of_two_bases_carries_a_share_of_each)
{
    static struct family f;
    size_t both[2] = {0, 1};

    /* bases A (600 kg) and B (300 kg); M merges them (0 kg); A also has a fine-tune F */
    memset(&f, 0, sizeof f);
    f.n = 4;
    link(&f, 0, NULL, 0);
    link(&f, 1, NULL, 0);
    link(&f, 2, both, 2);
    link(&f, 3, both, 1);
    f.emissions_kg[0] = core_range_exact(600);
    f.emissions_kg[1] = core_range_exact(300);
    f.emissions_kg[2] = core_range_exact(0);
    f.emissions_kg[3] = core_range_exact(0);
    /* equal: A over {A, M, F} = 200 each; B over {B, M} = 150 each */
    ck_assert_double_eq_tol(allocated(&f, 2, CORE_POLICY_EQUAL).value, 200 + 150.0, 1e-9);
    ck_assert_double_eq_tol(allocated(&f, 0, CORE_POLICY_EQUAL).value, 200.0, 1e-9);
    ck_assert_double_eq_tol(allocated(&f, 1, CORE_POLICY_EQUAL).value, 150.0, 1e-9);
    ck_assert_double_eq_tol(allocated(&f, 3, CORE_POLICY_EQUAL).value, 200.0, 1e-9);
    /* usage: M served 3 of A's family's 4 inferences and all of B's */
    f.inferences[2] = 3;
    f.inferences[3] = 1;
    ck_assert_double_eq_tol(allocated(&f, 2, CORE_POLICY_USAGE).value, 450 + 300.0, 1e-9);
    ck_assert_double_eq_tol(allocated(&f, 3, CORE_POLICY_USAGE).value, 150.0, 1e-9);
}
END_TEST

START_TEST(allocation_refuses_inconsistent_aggregates)
{
    struct core_ancestor a = {.is_self = true, .n_descendants = 0, .emissions_kg = {1, 1, 1}};
    struct core_allocation out;
    struct core_range sum;

    ck_assert_int_eq(core_allocate(CORE_POLICY_EQUAL, &a, 1, 0, &out, &sum), ERR_INVALID_INPUT);
    a.n_descendants = 1;
    a.descendant_inferences = 5;
    ck_assert_int_eq(core_allocate(CORE_POLICY_EQUAL, &a, 1, 6, &out, &sum), ERR_INVALID_INPUT);
    a.emissions_kg = core_range_make(2, 1, 3);
    ck_assert_int_eq(core_allocate(CORE_POLICY_EQUAL, &a, 1, 0, &out, &sum), ERR_INVALID_INPUT);
}
END_TEST

START_TEST(policies_parse_by_name)
{
    enum core_policy p;

    ck_assert_int_eq(core_policy_parse("usage", &p), ERR_OK);
    ck_assert_int_eq(p, CORE_POLICY_USAGE);
    ck_assert_int_eq(core_policy_parse("Usage", &p), ERR_INVALID_INPUT);
    ck_assert_int_eq(core_policy_parse(NULL, &p), ERR_INVALID_INPUT);
    ck_assert_str_eq(core_policy_name(CORE_POLICY_NONE), "none");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("core_amortize");
    TCase *examples = tcase_create("examples");

    tcase_add_test(examples, base_with_three_finetunes_under_equal_shares_by_four);
    tcase_add_test(examples, base_with_three_finetunes_under_usage_shares_by_inferences);
    tcase_add_test(examples, usage_without_any_inference_falls_back_to_equal);
    tcase_add_test(examples, merge_of_two_bases_carries_a_share_of_each);
    tcase_add_test(examples, allocation_refuses_inconsistent_aggregates);
    tcase_add_test(examples, policies_parse_by_name);
    suite_add_tcase(s, examples);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
