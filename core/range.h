/* SPDX-License-Identifier: Apache-2.0 */
/* Value ranges {value, low, high} with low <= value <= high, their validation
 * against documented bounds, and the arithmetic that propagates them. Every formula
 * in core is monotone in its inputs, so a range is carried by evaluating at the
 * bounds. Pure; no I/O, no allocation. */
#ifndef CORE_RANGE_H
#define CORE_RANGE_H

#include "err.h"
#include "field_error.h"

#include <stdbool.h>

/* An exact figure has low == value == high. */
struct core_range {
    double value;
    double low;
    double high;
};

/* Admissible interval for an input, in the input's unit. Every component of a
 * range (low, value, high) must lie inside it. */
struct core_bounds {
    double min;
    double max;
    bool is_min_exclusive; /* true: min itself is refused (e.g. hours > 0) */
};

/* An exact range: low = value = high = v. */
struct core_range core_range_exact(double v);

/* A range from its three components, in reading order low, value, high. Does not
 * validate; use core_range_check for inputs. */
struct core_range core_range_make(double low, double value, double high);

/* True when all three components are finite and low <= value <= high. */
bool core_range_is_ordered(struct core_range r);

/* True when low == value == high (bitwise-equal doubles). */
bool core_range_is_exact(struct core_range r);

/* Validates an input range: every component finite, low <= value <= high, and every
 * component inside bounds. On failure returns ERR_INVALID_INPUT and fills fe with
 * pointer (for an exact range) or pointer + "/low", "/value", "/high" (for the
 * offending component of a true range) and a message naming the limit. fe may be
 * NULL. Returns ERR_OK otherwise. */
enum err core_range_check(struct core_range r, struct core_bounds bounds, const char *pointer,
                          struct core_field_error *fe);

/* Component-wise sum. Keeps the ordering invariant. */
struct core_range core_range_add(struct core_range a, struct core_range b);

/* Component-wise product of two non-negative ranges (monotone increasing in both). */
struct core_range core_range_mul(struct core_range a, struct core_range b);

/* Every component multiplied by k >= 0. */
struct core_range core_range_scale(struct core_range r, double k);

/* a / b for a >= 0 and b > 0: low = a.low / b.high, high = a.high / b.low, since the
 * quotient decreases in b. */
struct core_range core_range_div(struct core_range a, struct core_range b);

/* k / r for k >= 0 and r > 0 (decreasing in r). */
struct core_range core_range_inverse_scale(double k, struct core_range r);

/* The zero range {0, 0, 0}. */
struct core_range core_range_zero(void);

/* True when |a - b| <= rel_tol * max(|a|, |b|) (or both are zero). */
bool core_nearly_equal(double a, double b, double rel_tol);

#endif
