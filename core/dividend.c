/* SPDX-License-Identifier: Apache-2.0 */
/* The sharing dividend: counterfactual pre-training a family's descendants did not
 * pay. See dividend.h for the definitions. */
#include "dividend.h"

#include <math.h>
#include <string.h>

const char *core_dividend_status_name(enum core_dividend_status status)
{
    switch (status) {
    case CORE_DIVIDEND_OK:
        return "ok";
    case CORE_DIVIDEND_NO_DESCENDANTS:
        return "no_descendants";
    case CORE_DIVIDEND_NO_PRETRAINING:
        return "no_pretraining";
    }
    return "unknown";
}

static bool is_valid_fraction(double fraction)
{
    return isfinite(fraction) && fraction > 0 && fraction <= 1;
}

/* max(0, a - b) bound by bound, pairing a's low with b's high so that the result
 * stays ordered. */
static struct core_range avoided(struct core_range counterfactual, struct core_range own)
{
    return core_range_make(fmax(0, counterfactual.low - own.high),
                           fmax(0, counterfactual.value - own.value),
                           fmax(0, counterfactual.high - own.low));
}

enum err core_dividend_member(const struct core_dividend_root *roots, size_t n_roots,
                              const struct core_dividend_member *member, double fraction,
                              struct core_dividend_share *out)
{
    struct core_range counterfactual = core_range_zero();
    bool is_known = member->n_roots > 0;

    if (!is_valid_fraction(fraction))
        return ERR_INVALID_INPUT;
    for (size_t i = 0; i < member->n_roots; i++) {
        if (member->roots[i] >= n_roots)
            return ERR_INVALID_INPUT;
        /* Each root once, even when a merge reaches it along two paths. */
        for (size_t j = 0; j < i; j++)
            if (member->roots[j] == member->roots[i])
                return ERR_INVALID_INPUT;
    }
    for (size_t i = 0; i < member->n_roots; i++) {
        const struct core_dividend_root *r = &roots[member->roots[i]];
        if (!r->has_pretraining) {
            is_known = false;
            continue;
        }
        counterfactual = core_range_add(counterfactual, r->pretraining_kg);
    }
    out->status = is_known ? CORE_DIVIDEND_OK : CORE_DIVIDEND_NO_PRETRAINING;
    out->counterfactual_kg =
        is_known ? core_range_scale(counterfactual, fraction) : core_range_zero();
    out->avoided_kg =
        is_known ? avoided(out->counterfactual_kg, member->own_kg) : core_range_zero();
    return ERR_OK;
}

void core_dividend_start(struct core_dividend *d, struct core_range shared_kg)
{
    memset(d, 0, sizeof *d);
    d->avoided_kg = d->multiple = core_range_zero();
    /* Trained separately, the shared model costs what it cost. */
    d->emitted_kg = d->counterfactual_kg = shared_kg;
}

void core_dividend_add(struct core_dividend *d, const struct core_dividend_member *member,
                       const struct core_dividend_share *share)
{
    d->n_descendants++;
    d->emitted_kg = core_range_add(d->emitted_kg, member->own_kg);
    if (share->status != CORE_DIVIDEND_OK) {
        d->n_unknown++;
        d->counterfactual_kg = core_range_add(d->counterfactual_kg, member->own_kg);
        return;
    }
    d->avoided_kg = core_range_add(d->avoided_kg, share->avoided_kg);
    /* A descendant that avoided nothing would have cost its own emissions. */
    d->counterfactual_kg =
        core_range_add(d->counterfactual_kg, core_range_add(member->own_kg, share->avoided_kg));
}

void core_dividend_finish(struct core_dividend *d)
{
    if (d->n_descendants == 0)
        d->status = CORE_DIVIDEND_NO_DESCENDANTS;
    else if (d->n_unknown > 0)
        d->status = CORE_DIVIDEND_NO_PRETRAINING;
    else
        d->status = CORE_DIVIDEND_OK;
    d->has_multiple = d->emitted_kg.low > 0;
    d->multiple =
        d->has_multiple ? core_range_div(d->counterfactual_kg, d->emitted_kg) : core_range_zero();
}

enum err core_dividend_family(const struct core_dividend_root *roots, size_t n_roots,
                              struct core_range shared_kg,
                              const struct core_dividend_member *members, size_t n_members,
                              double fraction, struct core_dividend_share *shares,
                              struct core_dividend *out)
{
    struct core_dividend d;
    enum err rc;

    if (!is_valid_fraction(fraction))
        return ERR_INVALID_INPUT;
    core_dividend_start(&d, shared_kg);
    for (size_t i = 0; i < n_members; i++) {
        struct core_dividend_share share;
        rc = core_dividend_member(roots, n_roots, &members[i], fraction, &share);
        if (rc != ERR_OK)
            return rc;
        if (shares)
            shares[i] = share;
        core_dividend_add(&d, &members[i], &share);
    }
    core_dividend_finish(&d);
    *out = d;
    return ERR_OK;
}
