/* SPDX-License-Identifier: Apache-2.0 */
/* Ranges: validation against bounds and bound-wise arithmetic. No I/O. */
#include "range.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>

struct core_range core_range_exact(double v)
{
    struct core_range r = {.value = v, .low = v, .high = v};
    return r;
}

struct core_range core_range_make(double low, double value, double high)
{
    struct core_range r = {.value = value, .low = low, .high = high};
    return r;
}

struct core_range core_range_zero(void)
{
    return core_range_exact(0.0);
}

bool core_range_is_ordered(struct core_range r)
{
    return isfinite(r.low) && isfinite(r.value) && isfinite(r.high) && r.low <= r.value &&
           r.value <= r.high;
}

bool core_range_is_exact(struct core_range r)
{
    /* Exactness is a representation question, so compare without tolerance. */
    return !(r.low < r.value) && !(r.low > r.value) && !(r.high < r.value) && !(r.high > r.value);
}

bool core_nearly_equal(double a, double b, double rel_tol)
{
    double scale = fmax(fabs(a), fabs(b));

    return fabs(a - b) <= rel_tol * scale;
}

/* Builds the pointer of one component: the field itself for an exact range,
 * field/low etc. for a true range. */
static void component_pointer(char *out, size_t out_len, const char *pointer, bool is_exact,
                              const char *component)
{
    if (is_exact)
        snprintf(out, out_len, "%s", pointer);
    else
        snprintf(out, out_len, "%s/%s", pointer, component);
}

static enum err check_component(double x, struct core_bounds bounds, const char *pointer,
                                bool is_exact, const char *component, struct core_field_error *fe)
{
    char where[sizeof fe->pointer];

    component_pointer(where, sizeof where, pointer, is_exact, component);
    if (!isfinite(x)) {
        core_field_error_set(fe, where, "must be a finite number");
        return ERR_INVALID_INPUT;
    }
    if (bounds.is_min_exclusive && !(x > bounds.min)) {
        core_field_error_set(fe, where, "must be greater than %g", bounds.min);
        return ERR_INVALID_INPUT;
    }
    if (x < bounds.min) {
        core_field_error_set(fe, where, "must be at least %g", bounds.min);
        return ERR_INVALID_INPUT;
    }
    if (x > bounds.max) {
        core_field_error_set(fe, where, "must be at most %g", bounds.max);
        return ERR_INVALID_INPUT;
    }
    return ERR_OK;
}

enum err core_range_check(struct core_range r, struct core_bounds bounds, const char *pointer,
                          struct core_field_error *fe)
{
    bool is_exact = core_range_is_exact(r);
    char where[sizeof fe->pointer];
    enum err rc;

    assert(pointer);
    rc = check_component(r.value, bounds, pointer, is_exact, "value", fe);
    if (rc != ERR_OK)
        return rc;
    rc = check_component(r.low, bounds, pointer, is_exact, "low", fe);
    if (rc != ERR_OK)
        return rc;
    rc = check_component(r.high, bounds, pointer, is_exact, "high", fe);
    if (rc != ERR_OK)
        return rc;
    if (r.low > r.high) {
        component_pointer(where, sizeof where, pointer, false, "low");
        core_field_error_set(fe, where, "low (%g) must not exceed high (%g)", r.low, r.high);
        return ERR_INVALID_INPUT;
    }
    if (r.value < r.low || r.value > r.high) {
        component_pointer(where, sizeof where, pointer, false, "value");
        core_field_error_set(fe, where, "value (%g) must lie within [low, high] = [%g, %g]",
                             r.value, r.low, r.high);
        return ERR_INVALID_INPUT;
    }
    return ERR_OK;
}

struct core_range core_range_add(struct core_range a, struct core_range b)
{
    return core_range_make(a.low + b.low, a.value + b.value, a.high + b.high);
}

struct core_range core_range_mul(struct core_range a, struct core_range b)
{
    assert(a.low >= 0.0 && b.low >= 0.0);
    return core_range_make(a.low * b.low, a.value * b.value, a.high * b.high);
}

struct core_range core_range_scale(struct core_range r, double k)
{
    assert(k >= 0.0);
    return core_range_make(r.low * k, r.value * k, r.high * k);
}

struct core_range core_range_div(struct core_range a, struct core_range b)
{
    assert(a.low >= 0.0 && b.low > 0.0);
    return core_range_make(a.low / b.high, a.value / b.value, a.high / b.low);
}

struct core_range core_range_inverse_scale(double k, struct core_range r)
{
    assert(k >= 0.0 && r.low > 0.0);
    return core_range_make(k / r.high, k / r.value, k / r.low);
}
