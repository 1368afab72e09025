/* SPDX-License-Identifier: Apache-2.0 */
/* The day inference overtakes training: the BERT-like example (parity after 256
 * billion words, overtaken 2.56 days into 100 billion words a day), a projection,
 * a rate that changes inside the window, ranges, and the cases with no answer. */
#include "overtake.h"
#include "units.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define DAY0 20000 /* 2024-10-04 */

/* Training energy T at intensity I, and inference derived from training: half a
 * training step per word over 1,000,000 steps of 128,000 words, so one word costs
 * 0.5 x T / 1.28e11 kWh, served on the same grid. Parity: 2.56e11 words. */
static void bert_like(double *training_kg, double *g_per_word)
{
    const double training_kwh = 1506.8, kg_per_kwh = 0.43;

    *training_kg = training_kwh * kg_per_kwh;
    *g_per_word = 0.5 * training_kwh / 1.28e11 * kg_per_kwh * CORE_G_PER_KG;
}

START_TEST(bert_like_base_is_overtaken_two_and_a_half_days_into_translate_volume)
{
    struct core_usage_day days[5];
    struct core_overtake_input in = {0};
    struct core_overtake o;
    double training_kg, g_per_word;

    bert_like(&training_kg, &g_per_word);
    for (int i = 0; i < 5; i++)
        days[i] = core_usage_day_of(DAY0 + i, 100000000000u, core_range_exact(g_per_word));
    in.training_kg = core_range_exact(training_kg);
    in.days = days;
    in.n_days = 5;
    in.as_of_day = DAY0 + 4;
    in.window_days = CORE_OVERTAKE_WINDOW_DAYS_DEFAULT;
    ck_assert_int_eq(core_overtake(&in, &o), ERR_OK);
    ck_assert_int_eq(o.status, CORE_OVERTAKE_OVERTAKEN);
    ck_assert(o.has_day);
    ck_assert_int_eq(o.first_use_day, DAY0);
    ck_assert_double_eq_tol(o.days_after_first_use.value, 2.56, 1e-9);
    ck_assert_double_eq_tol(o.day.value, DAY0 + 2.56, 1e-9);
    ck_assert_double_eq_tol(o.inference_kg.value, training_kg * 5e11 / 2.56e11, 1e-9);
    ck_assert_str_eq(core_overtake_status_name(o.status), "overtaken");
}
END_TEST

/* One day at 100 billion words: not yet; at the window's rate of 100e9 / 28 a day,
 * the remaining 156e9 words take 43.68 more days from the end of the series. */
START_TEST(not_yet_overtaken_is_projected_at_the_window_rate)
{
    struct core_usage_day day;
    struct core_overtake_input in = {0};
    struct core_overtake o;
    double training_kg, g_per_word, kg_per_word;

    bert_like(&training_kg, &g_per_word);
    kg_per_word = g_per_word / CORE_G_PER_KG;
    day = core_usage_day_of(DAY0, 100000000000u, core_range_exact(g_per_word));
    in.training_kg = core_range_exact(training_kg);
    in.days = &day;
    in.n_days = 1;
    in.as_of_day = DAY0;
    in.window_days = 28;
    ck_assert_int_eq(core_overtake(&in, &o), ERR_OK);
    ck_assert_int_eq(o.status, CORE_OVERTAKE_PROJECTED);
    ck_assert_double_eq_tol(o.rate_kg_per_day.value / kg_per_word, 1e11 / 28, 1e-3);
    ck_assert_double_eq_tol(o.day.value, DAY0 + 1 + 1.56e11 / (1e11 / 28), 1e-6);
    /* The last 7 days ran faster than the last 28: the rate's range says so, and the
     * earliest projection uses it. */
    ck_assert_double_eq_tol(o.rate_kg_per_day.high / kg_per_word, 1e11 / 7, 1e-3);
    ck_assert_double_eq_tol(o.day.low, DAY0 + 1 + 1.56e11 / (1e11 / 7), 1e-6);
    ck_assert(o.day.low < o.day.value);
    ck_assert_double_eq_tol(o.day.high, o.day.value, 1e-9);
}
END_TEST

/* 1,000 a day for three weeks, then 4,000 a day for a week: the window's mean is
 * 1,750, the recent one 4,000. */
START_TEST(rate_that_changes_in_the_window_widens_the_projection)
{
    struct core_usage_day days[28];
    struct core_overtake_input in = {0};
    struct core_overtake o;

    for (int i = 0; i < 28; i++)
        days[i] = core_usage_day_of(DAY0 + i, i < 21 ? 1000u : 4000u,
                                    core_range_make(0.5, 1, 2)); /* 1 g: 1 kg per 1,000 */
    in.training_kg = core_range_make(90, 100, 110);
    in.days = days;
    in.n_days = 28;
    in.as_of_day = DAY0 + 27;
    in.window_days = 28;
    ck_assert_int_eq(core_overtake(&in, &o), ERR_OK);
    /* 49,000 inferences so far: 49 kg of 100. */
    ck_assert_int_eq(o.status, CORE_OVERTAKE_PROJECTED);
    ck_assert_double_eq_tol(o.inference_kg.value, 49, 1e-9);
    /* kg a day: 1,750 a day over 28 days, 4,000 a day over the last 7. */
    ck_assert_double_eq_tol(o.rate_kg_per_day.low, 1750 * 0.0005, 1e-9);
    ck_assert_double_eq_tol(o.rate_kg_per_day.value, 1750 * 0.001, 1e-9);
    ck_assert_double_eq_tol(o.rate_kg_per_day.high, 4000 * 0.002, 1e-9);
    ck_assert_double_eq_tol(o.day.value, DAY0 + 28 + 51.0 / 1.75, 1e-9);
    /* Earliest: 2 g each against 90 kg, reached in the series: 42 kg after the
     * first 21 days, then 8 kg a day — 82 kg after day 25, 90 at the end of day 26. */
    ck_assert_double_eq_tol(o.day.low, DAY0 + 26 + (90.0 - 82.0) / 8.0, 1e-9);
    /* Latest: 0.5 g each against 110 kg at 1,750 a day. */
    ck_assert_double_eq_tol(o.day.high, DAY0 + 28 + (110 - 24.5) / (1750 * 0.0005), 1e-6);
    ck_assert_double_eq_tol(o.days_after_first_use.value, 28 + 51.0 / 1.75, 1e-9);
}
END_TEST

START_TEST(cases_without_an_answer_say_why)
{
    struct core_usage_day days[] = {core_usage_day_of(DAY0, 0, core_range_exact(1)),
                                    core_usage_day_of(DAY0 + 1, 0, core_range_exact(1))};
    struct core_usage_day silent[] = {core_usage_day_of(DAY0, 500, core_range_zero())};
    struct core_usage_day old[] = {core_usage_day_of(DAY0, 500, core_range_exact(1))};
    struct core_overtake_input in = {0};
    struct core_overtake o;

    in.training_kg = core_range_exact(10);
    in.window_days = 28;
    in.as_of_day = DAY0 + 1;
    in.days = days;
    in.n_days = 2;
    ck_assert_int_eq(core_overtake(&in, &o), ERR_OK);
    ck_assert_int_eq(o.status, CORE_OVERTAKE_NO_USAGE);
    ck_assert(!o.has_day);
    in.n_days = 0;
    ck_assert_int_eq(core_overtake(&in, &o), ERR_OK);
    ck_assert_int_eq(o.status, CORE_OVERTAKE_NO_USAGE);

    in.days = old;
    in.n_days = 1;
    in.as_of_day = DAY0 + 100; /* counted long ago, nothing in the window */
    ck_assert_int_eq(core_overtake(&in, &o), ERR_OK);
    ck_assert_int_eq(o.status, CORE_OVERTAKE_NO_RATE);
    ck_assert(!o.has_day);

    in.training_kg = core_range_zero();
    ck_assert_int_eq(core_overtake(&in, &o), ERR_OK);
    ck_assert_int_eq(o.status, CORE_OVERTAKE_NO_TRAINING);

    /* Inferences that emit nothing under their profile are no usage to set against
     * training. */
    in.training_kg = core_range_exact(10);
    in.days = silent;
    ck_assert_int_eq(core_overtake(&in, &o), ERR_OK);
    ck_assert_int_eq(o.status, CORE_OVERTAKE_NO_USAGE);
}
END_TEST

START_TEST(a_bound_that_never_comes_is_infinite)
{
    struct core_usage_day days[] = {core_usage_day_of(DAY0, 1000, core_range_exact(1)),
                                    core_usage_day_of(DAY0 + 20, 1000, core_range_exact(1))};
    struct core_overtake_input in = {0};
    struct core_overtake o;

    /* The last 7 days have no inference: the slowest rate is zero. */
    in.training_kg = core_range_exact(100);
    in.days = days;
    in.n_days = 2;
    in.as_of_day = DAY0 + 27;
    in.window_days = 28;
    ck_assert_int_eq(core_overtake(&in, &o), ERR_OK);
    ck_assert_int_eq(o.status, CORE_OVERTAKE_PROJECTED);
    ck_assert(isfinite(o.day.value));
    ck_assert(isinf(o.day.high));
}
END_TEST

START_TEST(malformed_input_is_refused)
{
    struct core_usage_day unordered[] = {core_usage_day_of(DAY0 + 1, 1, core_range_exact(1)),
                                         core_usage_day_of(DAY0, 1, core_range_exact(1))};
    struct core_usage_day future[] = {core_usage_day_of(DAY0 + 5, 1, core_range_exact(1))};
    struct core_usage_day unordered_range[] = {{DAY0, {.low = 2, .value = 1, .high = 3}}};
    struct core_overtake_input in = {0};
    struct core_overtake o;

    in.training_kg = core_range_exact(1);
    in.as_of_day = DAY0 + 1;
    in.window_days = 28;
    in.days = unordered;
    in.n_days = 2;
    ck_assert_int_eq(core_overtake(&in, &o), ERR_INVALID_INPUT);
    in.days = future;
    in.n_days = 1;
    ck_assert_int_eq(core_overtake(&in, &o), ERR_INVALID_INPUT);
    in.n_days = 0;
    in.window_days = 0;
    ck_assert_int_eq(core_overtake(&in, &o), ERR_INVALID_INPUT);
    in.window_days = 28;
    in.training_kg = core_range_make(2, 1, 3);
    ck_assert_int_eq(core_overtake(&in, &o), ERR_INVALID_INPUT);
    in.training_kg = core_range_exact(1);
    in.days = unordered_range;
    in.n_days = 1;
    ck_assert_int_eq(core_overtake(&in, &o), ERR_INVALID_INPUT);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("core_overtake");
    TCase *tc = tcase_create("overtake");

    tcase_add_test(tc, bert_like_base_is_overtaken_two_and_a_half_days_into_translate_volume);
    tcase_add_test(tc, not_yet_overtaken_is_projected_at_the_window_rate);
    tcase_add_test(tc, rate_that_changes_in_the_window_widens_the_projection);
    tcase_add_test(tc, cases_without_an_answer_say_why);
    tcase_add_test(tc, a_bound_that_never_comes_is_infinite);
    tcase_add_test(tc, malformed_input_is_refused);
    suite_add_tcase(s, tc);
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
