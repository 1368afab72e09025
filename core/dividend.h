/* SPDX-License-Identifier: Apache-2.0 */
/* The sharing dividend: the emissions a family avoided because its descendants
 * built on shared models instead of each being trained from scratch. Pure
 * arithmetic over plain structs; the caller names, for every descendant, the
 * roots it builds on. No I/O, no allocation. */
#ifndef CORE_DIVIDEND_H
#define CORE_DIVIDEND_H

#include "err.h"
#include "range.h"

#include <stdbool.h>
#include <stddef.h>

/* The counterfactual fraction used unless the caller chooses another: a
 * descendant would otherwise have paid the whole pre-training of each root. */
#define CORE_DIVIDEND_FRACTION_DEFAULT 1.0

/* A root of the family (a model without parents) and its own pre-training. */
struct core_dividend_root {
    bool has_pretraining;             /* the root has known pre-training emissions (> 0) */
    struct core_range pretraining_kg; /* its training activities' CO2e */
};

/* A descendant (a model with at least one parent): what it emitted itself (its
 * fine-tune, adapter, quantization or merge: every activity of its own) and the
 * distinct roots it builds on, as indexes into the roots array. */
struct core_dividend_member {
    struct core_range own_kg;
    const size_t *roots;
    size_t n_roots;
};

enum core_dividend_status {
    CORE_DIVIDEND_OK,
    CORE_DIVIDEND_NO_DESCENDANTS, /* nothing builds on the roots: no dividend to speak of */
    CORE_DIVIDEND_NO_PRETRAINING, /* a root it builds on has no known pre-training */
};

/* One descendant's counterfactual (fraction x the pre-training of each distinct
 * root it builds on, each root once) and what building on them avoided: the
 * counterfactual less its own emissions, never below zero (a descendant whose own
 * cost exceeds it avoided nothing). Bounds pair so that low is the least
 * avoided: counterfactual low against own high. */
struct core_dividend_share {
    enum core_dividend_status status;
    struct core_range counterfactual_kg;
    struct core_range avoided_kg;
};

/* A whole family: the avoided emissions summed over its descendants, what the
 * family emitted (the shared model and its descendants, own emissions only), what every member
 * trained separately would have emitted (the shared model's own emissions plus every
 * descendant's counterfactual, or its own emissions where those were larger:
 * emitted + avoided), and their ratio, the multiple N in "the family
 * emitted 1/N of what separate trainings would have". status is OK only when
 * every descendant's is; descendants whose roots lack pre-training are left out
 * of the sums and counted in n_unknown. */
struct core_dividend {
    enum core_dividend_status status;
    size_t n_descendants;
    size_t n_unknown;
    struct core_range avoided_kg;
    struct core_range emitted_kg;
    struct core_range counterfactual_kg;
    bool has_multiple; /* emitted_kg.low > 0 */
    struct core_range multiple;
};

/* The share of one descendant. fraction in (0, 1]: ERR_INVALID_INPUT otherwise,
 * or when a root index is out of range, *out untouched. */
enum err core_dividend_member(const struct core_dividend_root *roots, size_t n_roots,
                              const struct core_dividend_member *member, double fraction,
                              struct core_dividend_share *out);

/* The dividend of the family below a shared model: shared_kg is the shared
 * model's own emissions (a root's, or a fine-tune's when the family is read below
 * it), members are its descendants, and roots[] every root they build on (for the
 * counterfactual only: a root above the shared model is not the family's).
 * shares (may be NULL) receives each descendant's share, n_members entries.
 * ERR_INVALID_INPUT as core_dividend_member. */
enum err core_dividend_family(const struct core_dividend_root *roots, size_t n_roots,
                              struct core_range shared_kg,
                              const struct core_dividend_member *members, size_t n_members,
                              double fraction, struct core_dividend_share *shares,
                              struct core_dividend *out);

/* The same, one descendant at a time, for a family read as a stream: start with
 * the shared model's own emissions, add each descendant with its share (from
 * core_dividend_member), then finish, which sets the status and the multiple. */
void core_dividend_start(struct core_dividend *d, struct core_range shared_kg);
void core_dividend_add(struct core_dividend *d, const struct core_dividend_member *member,
                       const struct core_dividend_share *share);
void core_dividend_finish(struct core_dividend *d);

/* "ok", "no_descendants", "no_pretraining". Static storage. */
const char *core_dividend_status_name(enum core_dividend_status status);

#endif
