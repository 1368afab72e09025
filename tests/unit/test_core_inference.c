/* SPDX-License-Identifier: Apache-2.0 */
/* Inference energy (measured and derived), lineage energy parity and the crossover
 * volume between two profiles. */
#include "inference.h"
#include "methodology.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct core_inference_energy derived(double training_kwh, double token_steps,
                                            const struct core_range *ratio)
{
    struct core_inference_input in;
    struct core_inference_energy out;

    memset(&in, 0, sizeof in);
    in.source = CORE_INFERENCE_DERIVED;
    in.training_kwh = core_range_exact(training_kwh);
    in.token_steps = core_range_exact(token_steps);
    if (ratio) {
        in.has_ratio = true;
        in.ratio = *ratio;
    }
    ck_assert_int_eq(core_inference_energy(&in, "/inference", &out, NULL), ERR_OK);
    return out;
}

static struct core_inference_energy measured(struct core_range kwh)
{
    struct core_inference_input in;
    struct core_inference_energy out;

    memset(&in, 0, sizeof in);
    in.source = CORE_INFERENCE_MEASURED;
    in.kwh_per_inference = kwh;
    ck_assert_int_eq(core_inference_energy(&in, "/inference", &out, NULL), ERR_OK);
    return out;
}

/* The seed: BERT-like base, ratio 0.5, 1,000,000 steps x 128,000 tokens per step. The
 * training energy cancels, so parity = token_steps / ratio for any training kWh. */
static const double seed_training_kwh[] = {1507.0, 85.0, 954.0, 1.0, 0.1, 3.3e7};

START_TEST(bert_seed_parity_is_exactly_256_billion)
{
    struct core_range ratio = core_range_exact(0.5);
    struct core_inference_energy e = derived(seed_training_kwh[_i], 1e6 * 128000.0, &ratio);
    struct core_parity parity;

    ck_assert_int_eq(e.source, CORE_INFERENCE_DERIVED);
    ck_assert(!e.is_ratio_default);
    core_parity(core_range_exact(seed_training_kwh[_i]), &e, &parity);
    ck_assert_int_eq(parity.status, CORE_PARITY_OK);
    ck_assert_uint_eq(parity.value, UINT64_C(256000000000));
    ck_assert_uint_eq(parity.low, UINT64_C(256000000000));
    ck_assert_uint_eq(parity.high, UINT64_C(256000000000));
}
END_TEST

START_TEST(derived_energy_defaults_to_one_third_with_range)
{
    /* 1507 kWh over 1.28e11 token-steps; ratio 1/3 (0.27-0.5). */
    struct core_inference_energy e = derived(1507.0, 1.28e11, NULL);
    double per_step = 1507.0 / 1.28e11;
    struct core_parity parity;

    ck_assert(e.is_ratio_default);
    ck_assert_str_eq(core_inference_source_name(e.source), "derived");
    ck_assert_double_eq_tol(e.kwh_per_inference.value, per_step / 3.0, 1e-20);
    ck_assert_double_eq_tol(e.kwh_per_inference.low, 0.27 * per_step, 1e-20);
    ck_assert_double_eq_tol(e.kwh_per_inference.high, 0.5 * per_step, 1e-20);
    /* Parity of the training alone: token_steps / ratio, bound by bound. */
    core_parity(core_range_exact(1507.0), &e, &parity);
    ck_assert_uint_eq(parity.value, UINT64_C(384000000000));
    ck_assert_uint_eq(parity.low, UINT64_C(256000000000));
    ck_assert_uint_eq(parity.high, (uint64_t)floor(1.28e11 / 0.27));
}
END_TEST

START_TEST(fine_tuning_adds_to_lineage_parity)
{
    /* Lineage = base training 1000 kWh + fine-tuning 500 kWh, derived from base:
     * (1500 / 1000) x (1.28e11 / 0.5) = 3.84e11. */
    struct core_range ratio = core_range_exact(0.5);
    struct core_inference_energy e = derived(1000.0, 1.28e11, &ratio);
    struct core_parity parity;

    core_parity(core_range_exact(1500.0), &e, &parity);
    ck_assert_uint_eq(parity.value, UINT64_C(384000000000));
}
END_TEST

START_TEST(measured_energy_is_preferred_as_given)
{
    struct core_inference_energy e = measured(core_range_make(0.0001, 0.0002, 0.0004));
    struct core_parity parity;

    ck_assert_str_eq(core_inference_source_name(e.source), "measured");
    core_parity(core_range_exact(1000.0), &e, &parity);
    ck_assert_int_eq(parity.status, CORE_PARITY_OK);
    ck_assert_uint_eq(parity.low, 2500000);
    ck_assert_uint_eq(parity.value, 5000000);
    ck_assert_uint_eq(parity.high, 10000000);
}
END_TEST

START_TEST(parity_floor_is_not_fooled_by_rounding)
{
    /* 0.3 / 0.1 is 2.9999999999999996 in binary floating point. */
    struct core_inference_energy e = measured(core_range_exact(0.1));
    struct core_parity parity;

    core_parity(core_range_exact(0.3), &e, &parity);
    ck_assert_uint_eq(parity.value, 3);
    /* and a true fraction still floors */
    core_parity(core_range_exact(0.35), &e, &parity);
    ck_assert_uint_eq(parity.value, 3);
}
END_TEST

START_TEST(parity_is_undefined_for_zero_inference_energy)
{
    struct core_inference_energy e = measured(core_range_exact(0.0));
    struct core_parity parity;

    core_parity(core_range_exact(1000.0), &e, &parity);
    ck_assert_int_eq(parity.status, CORE_PARITY_UNDEFINED);
}
END_TEST

START_TEST(parity_overflow_is_flagged_and_saturated)
{
    struct core_inference_energy tiny = measured(core_range_exact(1e-12));
    struct core_inference_energy open_low = measured(core_range_make(0.0, 0.001, 0.002));
    struct core_parity parity;

    core_parity(core_range_exact(1e9), &tiny, &parity); /* 1e21 > 2^64 */
    ck_assert_int_eq(parity.status, CORE_PARITY_OVERFLOW);
    ck_assert_uint_eq(parity.value, UINT64_MAX);
    core_parity(core_range_exact(10.0), &open_low, &parity);
    ck_assert_int_eq(parity.status, CORE_PARITY_OVERFLOW);
    ck_assert_uint_eq(parity.value, 10000);
    ck_assert_uint_eq(parity.low, 5000);
    ck_assert_uint_eq(parity.high, UINT64_MAX);
    /* just below 2^64 still fits */
    core_parity(core_range_exact(1e19),
                &(struct core_inference_energy){.source = CORE_INFERENCE_MEASURED,
                                                .kwh_per_inference = core_range_exact(1.0)},
                &parity);
    ck_assert_int_eq(parity.status, CORE_PARITY_OK);
    ck_assert_uint_eq(parity.value, UINT64_C(10000000000000000000));
}
END_TEST

struct invalid_inference {
    const char *what;
    struct core_inference_input in;
    const char *pointer;
};

static const struct invalid_inference invalid_inferences[] = {
    {"measured negative",
     {.source = CORE_INFERENCE_MEASURED, .kwh_per_inference = {-1, -1, -1}},
     "/inference/energy_kwh_per_inference"},
    {"measured NaN",
     {.source = CORE_INFERENCE_MEASURED, .kwh_per_inference = {NAN, NAN, NAN}},
     "/inference/energy_kwh_per_inference"},
    {"derived without training energy",
     {.source = CORE_INFERENCE_DERIVED, .token_steps = {1e9, 1e9, 1e9}},
     "/inference/derived_from_training"},
    {"derived with zero token-steps",
     {.source = CORE_INFERENCE_DERIVED, .training_kwh = {10, 10, 10}},
     "/inference/derived_from_training/token_steps"},
    {"derived with ratio low above high",
     {.source = CORE_INFERENCE_DERIVED,
      .training_kwh = {10, 10, 10},
      .token_steps = {1e9, 1e9, 1e9},
      .has_ratio = true,
      .ratio = {0.3, 0.5, 0.2}},
     "/inference/derived_from_training/ratio/low"},
    {"derived with zero ratio",
     {.source = CORE_INFERENCE_DERIVED,
      .training_kwh = {10, 10, 10},
      .token_steps = {1e9, 1e9, 1e9},
      .has_ratio = true},
     "/inference/derived_from_training/ratio"},
};

START_TEST(invalid_inference_input_names_its_field)
{
    const struct invalid_inference *c = &invalid_inferences[_i];
    struct core_inference_energy out;
    struct core_field_error fe;

    ck_assert_msg(core_inference_energy(&c->in, "/inference", &out, &fe) == ERR_INVALID_INPUT,
                  "%s accepted", c->what);
    ck_assert_msg(strcmp(fe.pointer, c->pointer) == 0, "%s: %s", c->what, fe.pointer);
}
END_TEST

START_TEST(co2e_per_inference_is_in_grams)
{
    struct core_range g =
        core_inference_co2e_g(core_range_make(0.0001, 0.0002, 0.0003), core_range_exact(0.4));

    ck_assert_double_eq_tol(g.low, 0.04, 1e-15);
    ck_assert_double_eq_tol(g.value, 0.08, 1e-15);
    ck_assert_double_eq_tol(g.high, 0.12, 1e-15);
}
END_TEST

struct crossover_case {
    const char *what;
    struct core_cost_line a, b;
    enum core_crossover_kind kind;
    double volume;
};

static const struct crossover_case crossover_cases[] = {
    /* Costly search (B) pays off beyond (1000 - 100) / (0.01 - 0.001) = 100,000. */
    {"costly search pays off", {100, 0.01}, {1000, 0.001}, CORE_CROSSOVER_B_BEYOND, 1e5},
    {"mirror image", {1000, 0.001}, {100, 0.01}, CORE_CROSSOVER_A_BEYOND, 1e5},
    {"B cheaper on both", {1000, 0.01}, {100, 0.001}, CORE_CROSSOVER_B_ALWAYS, 0},
    {"A cheaper on both", {100, 0.001}, {1000, 0.01}, CORE_CROSSOVER_A_ALWAYS, 0},
    {"same per inference, A cheaper fixed", {100, 0.01}, {200, 0.01}, CORE_CROSSOVER_A_ALWAYS, 0},
    {"same per inference, B cheaper fixed", {300, 0.01}, {200, 0.01}, CORE_CROSSOVER_B_ALWAYS, 0},
    {"identical", {100, 0.01}, {100, 0.01}, CORE_CROSSOVER_EQUAL, 0},
    {"same fixed, B cheaper per inference", {100, 0.02}, {100, 0.01}, CORE_CROSSOVER_B_ALWAYS, 0},
    {"zero profiles", {0, 0}, {0, 0}, CORE_CROSSOVER_EQUAL, 0},
};

START_TEST(crossover_volume_and_outcome)
{
    const struct crossover_case *c = &crossover_cases[_i];
    struct core_crossover out;

    ck_assert_int_eq(core_crossover(&c->a, &c->b, &out, NULL), ERR_OK);
    ck_assert_msg(out.kind == c->kind, "%s: kind %d", c->what, (int)out.kind);
    ck_assert_double_eq_tol(out.volume, c->volume, 1e-6 * c->volume + 1e-12);
}
END_TEST

START_TEST(cleaner_profile_switches_at_the_crossover)
{
    struct core_cost_line a = {100, 0.01}, b = {1000, 0.001};

    ck_assert_int_eq(core_cleaner_at(&a, &b, 0), CORE_CLEANER_A);
    ck_assert_int_eq(core_cleaner_at(&a, &b, 99999), CORE_CLEANER_A);
    ck_assert_int_eq(core_cleaner_at(&a, &b, 1e5), CORE_CLEANER_TIE);
    ck_assert_int_eq(core_cleaner_at(&a, &b, 100001), CORE_CLEANER_B);
    ck_assert_int_eq(core_cleaner_at(&b, &a, 1e9), CORE_CLEANER_A);
}
END_TEST

START_TEST(crossover_refuses_negative_or_nan_profiles)
{
    struct core_cost_line good = {1, 1}, bad = {1, -1}, nan_fixed = {NAN, 1};
    struct core_crossover out;
    struct core_field_error fe;

    ck_assert_int_eq(core_crossover(&good, &bad, &out, &fe), ERR_INVALID_INPUT);
    ck_assert_str_eq(fe.pointer, "/b/per_inference");
    ck_assert_int_eq(core_crossover(&nan_fixed, &good, &out, &fe), ERR_INVALID_INPUT);
    ck_assert_str_eq(fe.pointer, "/a/fixed");
}
END_TEST

#define N(a) (int)(sizeof(a) / sizeof(a)[0])

static Suite *inference_suite(void)
{
    Suite *s = suite_create("core_inference");
    TCase *parity = tcase_create("parity");
    TCase *energy = tcase_create("energy");
    TCase *crossover = tcase_create("crossover");

    tcase_add_loop_test(parity, bert_seed_parity_is_exactly_256_billion, 0, N(seed_training_kwh));
    tcase_add_test(parity, fine_tuning_adds_to_lineage_parity);
    tcase_add_test(parity, parity_floor_is_not_fooled_by_rounding);
    tcase_add_test(parity, parity_is_undefined_for_zero_inference_energy);
    tcase_add_test(parity, parity_overflow_is_flagged_and_saturated);
    suite_add_tcase(s, parity);

    tcase_add_test(energy, derived_energy_defaults_to_one_third_with_range);
    tcase_add_test(energy, measured_energy_is_preferred_as_given);
    tcase_add_loop_test(energy, invalid_inference_input_names_its_field, 0, N(invalid_inferences));
    tcase_add_test(energy, co2e_per_inference_is_in_grams);
    suite_add_tcase(s, energy);

    tcase_add_loop_test(crossover, crossover_volume_and_outcome, 0, N(crossover_cases));
    tcase_add_test(crossover, cleaner_profile_switches_at_the_crossover);
    tcase_add_test(crossover, crossover_refuses_negative_or_nan_profiles);
    suite_add_tcase(s, crossover);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(inference_suite());
    int n_failed;

    srunner_run_all(runner, CK_NORMAL);
    n_failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return n_failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
