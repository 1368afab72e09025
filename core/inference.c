/* SPDX-License-Identifier: Apache-2.0 */
/* Inference energy, parity and crossover. No I/O. */
#include "inference.h"

#include "methodology.h"
#include "units.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define REL_TOL 1e-12

/* 2^64: the first double that does not fit in uint64_t. */
#define UINT64_LIMIT 18446744073709551616.0

static const struct core_bounds per_inference_bounds = {0.0, 1e4, false};
static const struct core_bounds training_bounds = {0.0, 1e12, true};
static const struct core_bounds token_steps_bounds = {0.0, 1e20, true};
static const struct core_bounds ratio_bounds = {0.0, 1e4, true};
static const struct core_bounds cost_line_bounds = {0.0, 1e15, false};

static enum err resolve_derived(const struct core_inference_input *in, const char *prefix,
                                struct core_inference_energy *result, struct core_field_error *fe)
{
    char pointer[64];
    enum err rc;

    snprintf(pointer, sizeof pointer, "%s/derived_from_training", prefix);
    if (!(in->training_kwh.low > 0.0)) {
        core_field_error_set(fe, pointer, "deriving needs a training energy greater than 0");
        return ERR_INVALID_INPUT;
    }
    rc = core_range_check(in->training_kwh, training_bounds, pointer, fe);
    if (rc != ERR_OK)
        return rc;
    snprintf(pointer, sizeof pointer, "%s/derived_from_training/token_steps", prefix);
    rc = core_range_check(in->token_steps, token_steps_bounds, pointer, fe);
    if (rc != ERR_OK)
        return rc;
    if (in->has_ratio) {
        snprintf(pointer, sizeof pointer, "%s/derived_from_training/ratio", prefix);
        rc = core_range_check(in->ratio, ratio_bounds, pointer, fe);
        if (rc != ERR_OK)
            return rc;
        result->ratio = in->ratio;
    } else {
        result->ratio = core_range_make(CORE_INFERENCE_RATIO_LOW, CORE_INFERENCE_RATIO_DEFAULT,
                                        CORE_INFERENCE_RATIO_HIGH);
        result->is_ratio_default = true;
    }
    result->training_kwh = in->training_kwh;
    result->token_steps = in->token_steps;
    result->kwh_per_inference =
        core_range_div(core_range_mul(result->ratio, in->training_kwh), in->token_steps);
    return ERR_OK;
}

enum err core_inference_energy(const struct core_inference_input *in, const char *pointer_prefix,
                               struct core_inference_energy *out, struct core_field_error *fe)
{
    struct core_inference_energy result;
    char pointer[64];
    enum err rc;

    assert(in && pointer_prefix && out);
    memset(&result, 0, sizeof result);
    result.source = in->source;
    switch (in->source) {
    case CORE_INFERENCE_MEASURED:
        snprintf(pointer, sizeof pointer, "%s/energy_kwh_per_inference", pointer_prefix);
        rc = core_range_check(in->kwh_per_inference, per_inference_bounds, pointer, fe);
        result.kwh_per_inference = in->kwh_per_inference;
        break;
    case CORE_INFERENCE_DERIVED:
        rc = resolve_derived(in, pointer_prefix, &result, fe);
        break;
    default:
        core_field_error_set(fe, pointer_prefix, "unknown inference energy source");
        rc = ERR_INVALID_INPUT;
        break;
    }
    if (rc != ERR_OK)
        return rc;
    *out = result;
    return ERR_OK;
}

enum err core_inference_profile_energy(const struct core_inference_profile *profile,
                                       struct core_range lineage_training_kwh,
                                       const char *pointer_prefix,
                                       struct core_inference_energy *out,
                                       struct core_field_error *fe)
{
    struct core_inference_input in;

    assert(profile);
    memset(&in, 0, sizeof in);
    in.source = profile->source;
    in.kwh_per_inference = profile->kwh_per_inference;
    in.has_ratio = profile->has_ratio;
    in.ratio = profile->ratio;
    in.token_steps = profile->token_steps;
    in.training_kwh = profile->has_training_kwh ? profile->training_kwh : lineage_training_kwh;
    return core_inference_energy(&in, pointer_prefix, out, fe);
}

const char *core_inference_source_name(enum core_inference_source source)
{
    switch (source) {
    case CORE_INFERENCE_MEASURED:
        return "measured";
    case CORE_INFERENCE_DERIVED:
        return "derived";
    }
    assert(0 && "unknown inference source");
    return "unknown";
}

struct core_range core_inference_co2e_g(struct core_range kwh_per_inference,
                                        struct core_range intensity_kg_per_kwh)
{
    return core_range_kg_to_g(core_range_mul(kwh_per_inference, intensity_kg_per_kwh));
}

/* floor(q) as uint64, snapping q that sits within 4 ulp below an integer up to it.
 * Sets *is_overflow when q does not fit. */
static uint64_t floor_count(double q, bool *is_overflow)
{
    double n;

    if (!(q < UINT64_LIMIT)) {
        *is_overflow = true;
        return UINT64_MAX;
    }
    n = floor(q);
    if (n < q && n + 1.0 - q <= 4.0 * DBL_EPSILON * q)
        n += 1.0;
    if (!(n < UINT64_LIMIT)) {
        *is_overflow = true;
        return UINT64_MAX;
    }
    return (uint64_t)n;
}

/* lineage / per-inference energy for one bound; derived profiles cancel training. */
static double parity_quotient(double lineage_kwh, double kwh_per_inference, double training_kwh,
                              double token_steps, double ratio, bool is_derived)
{
    if (is_derived)
        return (lineage_kwh / training_kwh) * (token_steps / ratio);
    return lineage_kwh / kwh_per_inference;
}

void core_parity(struct core_range lineage_kwh, const struct core_inference_energy *per_inference,
                 struct core_parity *out)
{
    const struct core_inference_energy *e = per_inference;
    bool is_derived, is_overflow = false;

    assert(e && out && core_range_is_ordered(lineage_kwh) && lineage_kwh.low >= 0.0);
    assert(core_range_is_ordered(e->kwh_per_inference) && e->kwh_per_inference.low >= 0.0);
    memset(out, 0, sizeof *out);
    if (!(e->kwh_per_inference.value > 0.0)) {
        out->status = CORE_PARITY_UNDEFINED;
        return;
    }
    is_derived = e->source == CORE_INFERENCE_DERIVED;
    /* Bounds pair the low lineage with the highest per-inference energy: for a
     * derived profile that is high ratio, high training energy, low token-steps. */
    out->low = floor_count(parity_quotient(lineage_kwh.low, e->kwh_per_inference.high,
                                           e->training_kwh.high, e->token_steps.low, e->ratio.high,
                                           is_derived),
                           &is_overflow);
    out->value = floor_count(parity_quotient(lineage_kwh.value, e->kwh_per_inference.value,
                                             e->training_kwh.value, e->token_steps.value,
                                             e->ratio.value, is_derived),
                             &is_overflow);
    if (e->kwh_per_inference.low > 0.0)
        out->high = floor_count(parity_quotient(lineage_kwh.high, e->kwh_per_inference.low,
                                                e->training_kwh.low, e->token_steps.high,
                                                e->ratio.low, is_derived),
                                &is_overflow);
    else
        out->high = floor_count(HUGE_VAL, &is_overflow);
    out->status = is_overflow ? CORE_PARITY_OVERFLOW : CORE_PARITY_OK;
}

/* The request pointers name the figures "fixed" and "per_inference", as answers
 * have always named them. */
static enum err check_cost_line(const struct core_cost_line *p, const char *name,
                                struct core_field_error *fe)
{
    char pointer[64];
    enum err rc;

    snprintf(pointer, sizeof pointer, "/%s/fixed", name);
    rc = core_range_check(core_range_exact(p->kg_fixed), cost_line_bounds, pointer, fe);
    if (rc != ERR_OK)
        return rc;
    snprintf(pointer, sizeof pointer, "/%s/per_inference", name);
    return core_range_check(core_range_exact(p->kg_per_inference), cost_line_bounds, pointer, fe);
}

/* -1, 0, 1 for x < y, x ~ y, x > y. */
static int compare(double x, double y)
{
    if (core_nearly_equal(x, y, REL_TOL))
        return 0;
    return x < y ? -1 : 1;
}

enum err core_crossover(const struct core_cost_line *a, const struct core_cost_line *b,
                        struct core_crossover *out, struct core_field_error *fe)
{
    struct core_crossover result = {CORE_CROSSOVER_EQUAL, 0.0};
    int fixed_cmp, per_cmp;
    enum err rc;

    assert(a && b && out);
    rc = check_cost_line(a, "a", fe);
    if (rc == ERR_OK)
        rc = check_cost_line(b, "b", fe);
    if (rc != ERR_OK)
        return rc;
    fixed_cmp = compare(a->kg_fixed, b->kg_fixed);
    per_cmp = compare(a->kg_per_inference, b->kg_per_inference);

    if (per_cmp == 0 && fixed_cmp == 0)
        result.kind = CORE_CROSSOVER_EQUAL;
    else if (per_cmp == 0)
        result.kind = fixed_cmp < 0 ? CORE_CROSSOVER_A_ALWAYS : CORE_CROSSOVER_B_ALWAYS;
    else if (per_cmp > 0) /* B is cheaper per inference */
        result.kind = fixed_cmp >= 0 ? CORE_CROSSOVER_B_ALWAYS : CORE_CROSSOVER_B_BEYOND;
    else /* A is cheaper per inference */
        result.kind = fixed_cmp <= 0 ? CORE_CROSSOVER_A_ALWAYS : CORE_CROSSOVER_A_BEYOND;

    if (result.kind == CORE_CROSSOVER_B_BEYOND || result.kind == CORE_CROSSOVER_A_BEYOND)
        result.volume = (b->kg_fixed - a->kg_fixed) / (a->kg_per_inference - b->kg_per_inference);
    *out = result;
    return ERR_OK;
}

enum core_cleaner core_cleaner_at(const struct core_cost_line *a, const struct core_cost_line *b,
                                  double volume)
{
    double total_a, total_b;
    int cmp;

    assert(a && b && volume >= 0.0);
    total_a = a->kg_fixed + volume * a->kg_per_inference;
    total_b = b->kg_fixed + volume * b->kg_per_inference;
    cmp = compare(total_a, total_b);
    if (cmp == 0)
        return CORE_CLEANER_TIE;
    return cmp < 0 ? CORE_CLEANER_A : CORE_CLEANER_B;
}
