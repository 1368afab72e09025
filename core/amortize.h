/* SPDX-License-Identifier: Apache-2.0 */
/* Amortization: how a model's own emissions E(a) are shared over the family D(a)
 * that builds on it. Pure arithmetic over per-ancestor aggregates; the
 * caller supplies, for each ancestor a of a model n (n itself included), E(a),
 * |D(a)| and the sum of inferences over D(a). */
#ifndef CORE_AMORTIZE_H
#define CORE_AMORTIZE_H

#include "err.h"
#include "range.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum core_policy {
    CORE_POLICY_NONE,  /* SCI-for-AI consumer view: a model carries only its own E */
    CORE_POLICY_EQUAL, /* E(a) split equally over D(a) */
    CORE_POLICY_USAGE, /* E(a) split by inferences over D(a); equal where D(a) has none */
    CORE_POLICY_COUNT
};

const char *core_policy_name(enum core_policy policy);
/* ERR_INVALID_INPUT for a name other than none, equal, usage. */
enum err core_policy_parse(const char *text, enum core_policy *out);

/* What the ledger knows of one ancestor a of the model being allocated. */
struct core_ancestor {
    bool is_self;                   /* a is the model itself */
    struct core_range emissions_kg; /* E(a) */
    uint64_t n_descendants;         /* |D(a)|, a included: at least 1 */
    uint64_t descendant_inferences; /* sum of I(m) over m in D(a) */
};

struct core_allocation {
    double share;              /* share_a(n), in [0, 1] */
    bool is_usage_fallback;    /* usage policy, but D(a) has no inferences: equal used */
    struct core_range co2e_kg; /* share x E(a) */
};

/* share_a(n) under policy, for a model n with inferences_n inferences.
 * *is_fallback (may be NULL) says when usage fell back to equal. */
double core_share(enum core_policy policy, const struct core_ancestor *a, uint64_t inferences_n,
                  bool *is_fallback);

/* Allocates every ancestor's emissions to n: out[i] for ancestors[i], and
 * *allocated_kg = the sum. ERR_INVALID_INPUT when an ancestor has n_descendants 0,
 * more inferences in n than in D(a), or a badly ordered range. */
enum err core_allocate(enum core_policy policy, const struct core_ancestor *ancestors,
                       size_t n_ancestors, uint64_t inferences_n, struct core_allocation *out,
                       struct core_range *allocated_kg);

#endif
