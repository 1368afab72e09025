/* SPDX-License-Identifier: Apache-2.0 */
/* The day inference overtakes training; see overtake.h. */
#include "overtake.h"

#include "units.h"

#include <math.h>

/* Which bound of every range a computation reads. */
enum bound { BOUND_LOW, BOUND_VALUE, BOUND_HIGH };

static double at(struct core_range r, enum bound b)
{
    return b == BOUND_LOW ? r.low : b == BOUND_HIGH ? r.high : r.value;
}

const char *core_overtake_status_name(enum core_overtake_status status)
{
    switch (status) {
    case CORE_OVERTAKE_OVERTAKEN:
        return "overtaken";
    case CORE_OVERTAKE_PROJECTED:
        return "projected";
    case CORE_OVERTAKE_NO_USAGE:
        return "no_usage";
    case CORE_OVERTAKE_NO_RATE:
        return "no_rate";
    case CORE_OVERTAKE_NO_TRAINING:
        return "no_training";
    }
    return "unknown";
}

struct core_usage_day core_usage_day_of(int64_t day, uint64_t count,
                                        struct core_range g_per_inference)
{
    struct core_usage_day d = {day, core_range_scale(g_per_inference, 1.0 / CORE_G_PER_KG)};

    d.co2e_kg = core_range_scale(d.co2e_kg, (double)count);
    return d;
}

static bool is_valid(const struct core_overtake_input *in)
{
    if (!core_range_is_ordered(in->training_kg) || !(in->training_kg.low >= 0))
        return false;
    if (in->window_days < 1 || in->window_days > CORE_OVERTAKE_WINDOW_DAYS_MAX)
        return false;
    for (size_t i = 0; i < in->n_days; i++) {
        if (!core_range_is_ordered(in->days[i].co2e_kg) || !(in->days[i].co2e_kg.low >= 0))
            return false;
        if (in->days[i].day > in->as_of_day)
            return false;
        if (i > 0 && in->days[i].day <= in->days[i - 1].day)
            return false;
    }
    return true;
}

/* Mean kg a day, at bound b, over the n_days days that end with as_of_day. */
static double mean_rate(const struct core_overtake_input *in, int n_days, enum bound b)
{
    double sum = 0;

    for (size_t i = 0; i < in->n_days; i++)
        if (in->days[i].day > in->as_of_day - n_days)
            sum += at(in->days[i].co2e_kg, b);
    return sum / n_days;
}

/* The fractional day on which the series at bound b reaches training_kg: in the
 * series (*is_past set), or after as_of_day at rate kg a day; HUGE_VAL (infinity) when the
 * rate never gets there. */
static double crossing(const struct core_overtake_input *in, enum bound b, double training_kg,
                       double rate, bool *is_past)
{
    double cumulative_kg = 0;

    *is_past = false;
    for (size_t i = 0; i < in->n_days; i++) {
        double day_kg = at(in->days[i].co2e_kg, b);
        if (day_kg > 0 && cumulative_kg + day_kg >= training_kg) {
            *is_past = true;
            return (double)in->days[i].day + (training_kg - cumulative_kg) / day_kg;
        }
        cumulative_kg += day_kg;
    }
    if (!(rate > 0))
        return HUGE_VAL;
    return (double)(in->as_of_day + 1) + (training_kg - cumulative_kg) / rate;
}

enum err core_overtake(const struct core_overtake_input *in, struct core_overtake *out)
{
    struct core_overtake o = {0};
    int recent_days =
        in->window_days < CORE_OVERTAKE_RECENT_DAYS ? in->window_days : CORE_OVERTAKE_RECENT_DAYS;
    double low, value, high;
    bool is_used = false, is_past_low, is_past, is_past_high;

    if (!is_valid(in))
        return ERR_INVALID_INPUT;
    o.inference_kg = core_range_zero();
    for (size_t i = 0; i < in->n_days; i++) {
        if (!is_used && in->days[i].co2e_kg.high > 0) {
            o.first_use_day = in->days[i].day;
            is_used = true;
        }
        o.inference_kg = core_range_add(o.inference_kg, in->days[i].co2e_kg);
    }
    o.training_kg = in->training_kg;
    o.rate_kg_per_day = core_range_make(
        fmin(mean_rate(in, in->window_days, BOUND_LOW), mean_rate(in, recent_days, BOUND_LOW)),
        mean_rate(in, in->window_days, BOUND_VALUE),
        fmax(mean_rate(in, in->window_days, BOUND_HIGH), mean_rate(in, recent_days, BOUND_HIGH)));
    o.day = o.days_after_first_use = core_range_zero();
    if (!is_used) {
        o.status = CORE_OVERTAKE_NO_USAGE;
    } else if (!(in->training_kg.value > 0)) {
        o.status = CORE_OVERTAKE_NO_TRAINING;
    } else {
        /* Earliest: the most CO2e a day, the least training, the fastest rate. */
        low = crossing(in, BOUND_HIGH, in->training_kg.low, o.rate_kg_per_day.high, &is_past_low);
        value = crossing(in, BOUND_VALUE, in->training_kg.value, o.rate_kg_per_day.value, &is_past);
        high = crossing(in, BOUND_LOW, in->training_kg.high, o.rate_kg_per_day.low, &is_past_high);
        if (is_past)
            o.status = CORE_OVERTAKE_OVERTAKEN;
        else if (isfinite(value))
            o.status = CORE_OVERTAKE_PROJECTED;
        else
            o.status = CORE_OVERTAKE_NO_RATE;
        o.has_day = o.status != CORE_OVERTAKE_NO_RATE;
        if (o.has_day) {
            double first = (double)o.first_use_day;
            o.day = core_range_make(low, value, high);
            o.days_after_first_use = core_range_make(low - first, value - first, high - first);
        }
    }
    *out = o;
    return ERR_OK;
}
