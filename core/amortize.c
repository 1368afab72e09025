/* SPDX-License-Identifier: Apache-2.0 */
/* Amortization shares and allocations. For every
 * policy the shares of one ancestor over its family sum to 1, which is what makes
 * a family's footprints add up to what it emitted. */
#include "amortize.h"

#include <string.h>

static const char *const policy_names[CORE_POLICY_COUNT] = {
    [CORE_POLICY_NONE] = "none",
    [CORE_POLICY_EQUAL] = "equal",
    [CORE_POLICY_USAGE] = "usage",
};

const char *core_policy_name(enum core_policy policy)
{
    return (unsigned)policy < CORE_POLICY_COUNT ? policy_names[policy] : "unknown";
}

enum err core_policy_parse(const char *text, enum core_policy *out)
{
    for (int i = 0; text && i < CORE_POLICY_COUNT; i++) {
        if (strcmp(text, policy_names[i]) == 0) {
            *out = (enum core_policy)i;
            return ERR_OK;
        }
    }
    return ERR_INVALID_INPUT;
}

double core_share(enum core_policy policy, const struct core_ancestor *a, uint64_t inferences_n,
                  bool *is_fallback)
{
    if (is_fallback)
        *is_fallback = false;
    switch (policy) {
    case CORE_POLICY_NONE:
        return a->is_self ? 1.0 : 0.0;
    case CORE_POLICY_USAGE:
        if (a->descendant_inferences > 0)
            return (double)inferences_n / (double)a->descendant_inferences;
        if (is_fallback)
            *is_fallback = true;
        return 1.0 / (double)a->n_descendants;
    case CORE_POLICY_EQUAL:
    case CORE_POLICY_COUNT:
        break;
    }
    return 1.0 / (double)a->n_descendants;
}

enum err core_allocate(enum core_policy policy, const struct core_ancestor *ancestors,
                       size_t n_ancestors, uint64_t inferences_n, struct core_allocation *out,
                       struct core_range *allocated_kg)
{
    struct core_range sum = core_range_zero();

    for (size_t i = 0; i < n_ancestors; i++) {
        const struct core_ancestor *a = &ancestors[i];
        if (a->n_descendants == 0 || inferences_n > a->descendant_inferences ||
            !core_range_is_ordered(a->emissions_kg) || a->emissions_kg.low < 0)
            return ERR_INVALID_INPUT;
    }
    for (size_t i = 0; i < n_ancestors; i++) {
        out[i].share = core_share(policy, &ancestors[i], inferences_n, &out[i].is_usage_fallback);
        out[i].co2e_kg = core_range_scale(ancestors[i].emissions_kg, out[i].share);
        sum = core_range_add(sum, out[i].co2e_kg);
    }
    *allocated_kg = sum;
    return ERR_OK;
}
