/* SPDX-License-Identifier: Apache-2.0 */
/* The day inference overtakes training: when the cumulative CO2e of inferences
 * reaches the training (and fine-tuning) CO2e they rest on — from the daily series
 * when it has happened, else projected at the recent daily rate. Works for one
 * model or a whole family: the series is CO2e a day. Pure; days are whole days
 * since 1970-01-01 (UTC), and a day's emissions are taken as spread evenly over
 * it. No I/O, no allocation. */
#ifndef CORE_OVERTAKE_H
#define CORE_OVERTAKE_H

#include "err.h"
#include "range.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The rate window when the caller chooses none, and the recent part of it that
 * bounds the rate from the other side: a rate that changed inside the window shows
 * as a wider range. */
#define CORE_OVERTAKE_WINDOW_DAYS_DEFAULT 28
#define CORE_OVERTAKE_RECENT_DAYS         7
#define CORE_OVERTAKE_WINDOW_DAYS_MAX     366

/* One day of inference emissions: a model's count that day times its CO2e per
 * inference, or the sum of those over a family's members. */
struct core_usage_day {
    int64_t day; /* days since 1970-01-01 */
    struct core_range co2e_kg;
};

/* The day's emissions of count inferences at g_per_inference each. */
struct core_usage_day core_usage_day_of(int64_t day, uint64_t count,
                                        struct core_range g_per_inference);

struct core_overtake_input {
    struct core_range training_kg;     /* what inference is set against */
    const struct core_usage_day *days; /* ascending, distinct days; ordered ranges >= 0 */
    size_t n_days;
    int64_t as_of_day; /* the last day the series covers */
    int window_days;   /* 1..CORE_OVERTAKE_WINDOW_DAYS_MAX */
};

enum core_overtake_status {
    CORE_OVERTAKE_OVERTAKEN,   /* it happened: day is in the series */
    CORE_OVERTAKE_PROJECTED,   /* not yet: day is projected at the window's rate */
    CORE_OVERTAKE_NO_USAGE,    /* no inference emissions in the series at all */
    CORE_OVERTAKE_NO_RATE,     /* emissions before, none in the window: no projection */
    CORE_OVERTAKE_NO_TRAINING, /* no training emissions to set inference against */
};

/* The answer. day is fractional (day 19000.25 is six in the morning of day 19000):
 * low is the earliest (the days' high emissions, the lowest training figure, the
 * highest rate), high the latest; a bound that never comes is INFINITY. Only
 * day.value decides status; days_after_first_use counts from the start of the
 * first day with emissions. The rate, kg a day, spans the window's mean and the
 * recent mean (value: the window's). */
struct core_overtake {
    enum core_overtake_status status;
    struct core_range inference_kg; /* cumulative so far */
    struct core_range training_kg;
    int64_t first_use_day; /* valid unless NO_USAGE */
    struct core_range rate_kg_per_day;
    bool has_day; /* OVERTAKEN or PROJECTED */
    struct core_range day;
    struct core_range days_after_first_use;
};

/* Computes the overtake of in into *out. ERR_INVALID_INPUT (and *out untouched)
 * for a badly ordered or negative range, days out of order, a day after
 * as_of_day, or a window out of bounds. */
enum err core_overtake(const struct core_overtake_input *in, struct core_overtake *out);

/* "overtaken", "projected", "no_usage", "no_rate", "no_training". Static storage. */
const char *core_overtake_status_name(enum core_overtake_status status);

#endif
