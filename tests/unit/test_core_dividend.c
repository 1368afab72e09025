/* SPDX-License-Identifier: Apache-2.0 */
/* The sharing dividend: hand-checked families (a tree, a merge of two roots, a root
 * without known pre-training, a family of one) and a property test on random
 * families: the dividend never exceeds the counterfactual, and is zero for a
 * family of one. */
#include "dividend.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define TOL 1e-9

static void assert_range(struct core_range r, double low, double value, double high)
{
    ck_assert_double_eq_tol(r.low, low, TOL * fmax(1, fabs(low)));
    ck_assert_double_eq_tol(r.value, value, TOL * fmax(1, fabs(value)));
    ck_assert_double_eq_tol(r.high, high, TOL * fmax(1, fabs(high)));
}

/* BERT-like base (652 kg) with three fine-tunes of 1.71, 2.5 and 3.1 kg: each
 * would have paid 652 kg; together they avoided 3 x 652 - 7.31 kg, and the family
 * emitted 1/N of what four separate trainings would have. */
START_TEST(tree_family_avoids_the_base_pretraining_per_descendant)
{
    struct core_dividend_root root = {true, core_range_exact(652)};
    struct core_range root_own = core_range_exact(652);
    size_t r0[] = {0};
    struct core_dividend_member members[] = {
        {core_range_exact(1.71), r0, 1},
        {core_range_exact(2.5), r0, 1},
        {core_range_exact(3.1), r0, 1},
    };
    struct core_dividend_share shares[3];
    struct core_dividend d;

    ck_assert_int_eq(core_dividend_family(&root, 1, root_own, members, 3, 1.0, shares, &d), ERR_OK);
    ck_assert_int_eq(d.status, CORE_DIVIDEND_OK);
    ck_assert_uint_eq(d.n_descendants, 3);
    assert_range(shares[0].counterfactual_kg, 652, 652, 652);
    assert_range(shares[0].avoided_kg, 650.29, 650.29, 650.29);
    assert_range(d.avoided_kg, 3 * 652 - 7.31, 3 * 652 - 7.31, 3 * 652 - 7.31);
    assert_range(d.emitted_kg, 659.31, 659.31, 659.31);
    assert_range(d.counterfactual_kg, 4 * 652, 4 * 652, 4 * 652);
    ck_assert(d.has_multiple);
    ck_assert_double_eq_tol(d.multiple.value, 4 * 652 / 659.31, 1e-12);
}
END_TEST

/* A merge of two roots' descendants would have paid both pre-trainings, each once,
 * even when one root is reached along two paths. */
START_TEST(merge_of_two_roots_counts_each_root_once)
{
    struct core_dividend_root roots[] = {{true, core_range_exact(100)},
                                         {true, core_range_make(40, 50, 60)}};
    struct core_range both_own = core_range_make(140, 150, 160);
    size_t both[] = {0, 1}, twice[] = {0, 0};
    struct core_dividend_member merge = {core_range_make(1, 2, 3), both, 2};
    struct core_dividend_member repeated = {core_range_exact(1), twice, 2};
    struct core_dividend_share share;
    struct core_dividend d;

    ck_assert_int_eq(core_dividend_member(roots, 2, &merge, 1.0, &share), ERR_OK);
    assert_range(share.counterfactual_kg, 140, 150, 160);
    /* Least avoided: lowest counterfactual against the highest own cost. */
    assert_range(share.avoided_kg, 137, 148, 159);
    ck_assert_int_eq(core_dividend_member(roots, 2, &repeated, 1.0, &share), ERR_INVALID_INPUT);
    ck_assert_int_eq(core_dividend_family(roots, 2, both_own, &merge, 1, 0.5, NULL, &d), ERR_OK);
    assert_range(d.avoided_kg, 67, 73, 79);
    assert_range(d.emitted_kg, 141, 152, 163);
}
END_TEST

START_TEST(root_without_pretraining_says_so_instead_of_zero)
{
    struct core_dividend_root roots[] = {{false, core_range_zero()}, {true, core_range_exact(10)}};
    struct core_range both_own = core_range_exact(10);
    size_t r0[] = {0}, r1[] = {1};
    struct core_dividend_member members[] = {{core_range_exact(1), r0, 1},
                                             {core_range_exact(1), r1, 1}};
    struct core_dividend_share shares[2];
    struct core_dividend d;

    ck_assert_int_eq(core_dividend_family(roots, 2, both_own, members, 2, 1.0, shares, &d), ERR_OK);
    ck_assert_int_eq(shares[0].status, CORE_DIVIDEND_NO_PRETRAINING);
    ck_assert_int_eq(shares[1].status, CORE_DIVIDEND_OK);
    ck_assert_int_eq(d.status, CORE_DIVIDEND_NO_PRETRAINING);
    ck_assert_uint_eq(d.n_unknown, 1);
    assert_range(d.avoided_kg, 9, 9, 9);
    ck_assert_str_eq(core_dividend_status_name(d.status), "no_pretraining");
}
END_TEST

START_TEST(family_of_one_has_no_dividend)
{
    struct core_dividend_root root = {true, core_range_exact(652)};
    struct core_range root_own = core_range_exact(700);
    struct core_dividend d;

    ck_assert_int_eq(core_dividend_family(&root, 1, root_own, NULL, 0, 1.0, NULL, &d), ERR_OK);
    ck_assert_int_eq(d.status, CORE_DIVIDEND_NO_DESCENDANTS);
    assert_range(d.avoided_kg, 0, 0, 0);
    ck_assert_double_eq_tol(d.multiple.value, 1, 1e-15);
}
END_TEST

START_TEST(a_descendant_dearer_than_its_root_avoided_nothing)
{
    struct core_dividend_root root = {true, core_range_exact(5)};
    size_t r0[] = {0};
    struct core_dividend_member m = {core_range_exact(8), r0, 1};
    struct core_dividend_share share;

    ck_assert_int_eq(core_dividend_member(&root, 1, &m, 1.0, &share), ERR_OK);
    assert_range(share.avoided_kg, 0, 0, 0);
}
END_TEST

START_TEST(fraction_and_indexes_are_checked)
{
    struct core_dividend_root root = {true, core_range_exact(5)};
    size_t bad[] = {1}, r0[] = {0};
    struct core_dividend_member m = {core_range_exact(1), r0, 1};
    struct core_dividend_member out_of_range = {core_range_exact(1), bad, 1};
    struct core_dividend_share share;

    ck_assert_int_eq(core_dividend_member(&root, 1, &m, 0.0, &share), ERR_INVALID_INPUT);
    ck_assert_int_eq(core_dividend_member(&root, 1, &m, 1.5, &share), ERR_INVALID_INPUT);
    ck_assert_int_eq(core_dividend_member(&root, 1, &m, NAN, &share), ERR_INVALID_INPUT);
    ck_assert_int_eq(core_dividend_member(&root, 1, &out_of_range, 1.0, &share), ERR_INVALID_INPUT);
}
END_TEST

static double uniform(unsigned *seed, double max)
{
    return max * (double)rand_r(seed) / RAND_MAX;
}

static struct core_range random_range(unsigned *seed, double max)
{
    double value = uniform(seed, max);
    return core_range_make(value * (1 - uniform(seed, 0.5)), value,
                           value * (1 + uniform(seed, 0.5)));
}

/* Random families of up to 4 roots and 60 descendants, each descendant building
 * on a random non-empty set of roots, with random own costs and fractions. */
START_TEST(dividend_never_exceeds_the_counterfactual_on_random_families)
{
    enum { MAX_ROOTS = 4, MAX_MEMBERS = 60 };
    unsigned seed = 7919u * (unsigned)_i + 1;
    struct core_dividend_root roots[MAX_ROOTS];
    struct core_range shared = core_range_zero();
    struct core_dividend_member members[MAX_MEMBERS];
    struct core_dividend_share shares[MAX_MEMBERS];
    size_t root_sets[MAX_MEMBERS][MAX_ROOTS];
    size_t n_roots = 1 + (size_t)rand_r(&seed) % MAX_ROOTS;
    size_t n_members = (size_t)rand_r(&seed) % MAX_MEMBERS;
    double fraction = 0.01 + uniform(&seed, 0.99);
    struct core_dividend d;
    struct core_range sum_cf = core_range_zero();

    for (size_t r = 0; r < n_roots; r++) {
        roots[r].has_pretraining = rand_r(&seed) % 8 != 0;
        roots[r].pretraining_kg = random_range(&seed, 1e6);
        shared = core_range_add(shared,
                                core_range_add(roots[r].pretraining_kg, random_range(&seed, 1e3)));
    }
    for (size_t m = 0; m < n_members; m++) {
        size_t n = 0;
        for (size_t r = 0; r < n_roots; r++)
            if (rand_r(&seed) % 2)
                root_sets[m][n++] = r;
        if (n == 0)
            root_sets[m][n++] = (size_t)rand_r(&seed) % n_roots;
        members[m] = (struct core_dividend_member){random_range(&seed, 2e5), root_sets[m], n};
    }
    ck_assert_int_eq(
        core_dividend_family(roots, n_roots, shared, members, n_members, fraction, shares, &d),
        ERR_OK);
    for (size_t m = 0; m < n_members; m++) {
        ck_assert(core_range_is_ordered(shares[m].avoided_kg));
        ck_assert(shares[m].avoided_kg.low >= 0);
        ck_assert(shares[m].avoided_kg.value <= shares[m].counterfactual_kg.value);
        ck_assert(shares[m].avoided_kg.high <= shares[m].counterfactual_kg.high);
        sum_cf = core_range_add(sum_cf, shares[m].counterfactual_kg);
    }
    ck_assert(core_range_is_ordered(d.avoided_kg));
    ck_assert(d.avoided_kg.value <= sum_cf.value * (1 + 1e-12));
    ck_assert(d.avoided_kg.value <= d.counterfactual_kg.value);
    /* Separate trainings cost what the family emitted plus what it avoided. */
    ck_assert_double_eq_tol(d.counterfactual_kg.value, d.emitted_kg.value + d.avoided_kg.value,
                            1e-9 * d.counterfactual_kg.value);
    if (n_members == 0) {
        ck_assert_int_eq(d.status, CORE_DIVIDEND_NO_DESCENDANTS);
        ck_assert(!(d.avoided_kg.high > 0));
    }
    if (d.has_multiple) {
        ck_assert(core_range_is_ordered(d.multiple));
        ck_assert(d.multiple.value >= 1 - 1e-12);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("core_dividend");
    TCase *examples = tcase_create("examples");
    TCase *property = tcase_create("property");

    tcase_add_test(examples, tree_family_avoids_the_base_pretraining_per_descendant);
    tcase_add_test(examples, merge_of_two_roots_counts_each_root_once);
    tcase_add_test(examples, root_without_pretraining_says_so_instead_of_zero);
    tcase_add_test(examples, family_of_one_has_no_dividend);
    tcase_add_test(examples, a_descendant_dearer_than_its_root_avoided_nothing);
    tcase_add_test(examples, fraction_and_indexes_are_checked);
    tcase_add_loop_test(property, dividend_never_exceeds_the_counterfactual_on_random_families, 0,
                        500);
    suite_add_tcase(s, examples);
    suite_add_tcase(s, property);
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
