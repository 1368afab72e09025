/* SPDX-License-Identifier: Apache-2.0 */
/* Footprints from lineages, and comparisons. Every sum runs over the members in
 * lineage order, so that answers computed from the same lineage are the same to
 * the last bit. No I/O. */
#include "footprint.h"

#include "alloc.h"
#include "units.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void core_lineage_init(struct core_lineage *lineage)
{
    assert(lineage);
    memset(lineage, 0, sizeof *lineage);
}

struct core_lineage_member *core_lineage_add(struct core_lineage *lineage)
{
    struct core_lineage_member *member;

    assert(lineage);
    if (lineage->n_members == lineage->cap) {
        /* Most lineages are a handful of models; deep merges double from there. */
        size_t cap = lineage->cap ? lineage->cap * 2 : 16;
        struct core_lineage_member *grown = core_realloc(lineage->members, cap * sizeof *grown);
        if (grown == NULL)
            return NULL;
        lineage->members = grown;
        lineage->cap = cap;
    }
    member = &lineage->members[lineage->n_members++];
    memset(member, 0, sizeof *member);
    return member;
}

void core_lineage_cleanup(struct core_lineage *lineage)
{
    assert(lineage);
    for (size_t i = 0; i < lineage->n_members; i++)
        free(lineage->members[i].flags);
    free(lineage->members);
    core_lineage_init(lineage);
}

enum err core_footprint(const struct core_lineage *lineage, enum core_policy policy,
                        struct core_allocation *allocations, struct core_footprint *out)
{
    struct core_footprint fp;
    struct core_field_error ignored;

    assert(lineage && out && (allocations || lineage->n_members == 0));
    memset(&fp, 0, sizeof fp);
    fp.policy = policy;
    fp.lineage = lineage;
    fp.allocations = allocations;
    for (size_t i = 0; i < lineage->n_members; i++)
        if (lineage->members[i].is_self)
            fp.self = &lineage->members[i];
    if (fp.self == NULL || fp.self->inferences < 0)
        return ERR_INVALID_INPUT;
    fp.own_kg = fp.self->own_co2e_kg;
    fp.inherited_kg = core_range_zero();
    fp.allocated_kg = core_range_zero();
    fp.lineage_kwh = core_range_zero();
    fp.training_kwh = core_range_zero();
    for (size_t i = 0; i < lineage->n_members; i++) {
        const struct core_lineage_member *m = &lineage->members[i];
        struct core_ancestor a = {
            .is_self = m->is_self,
            .emissions_kg = m->own_co2e_kg,
            .n_descendants = m->descendants > 0 ? (uint64_t)m->descendants : 0,
            .descendant_inferences =
                m->descendant_inferences > 0 ? (uint64_t)m->descendant_inferences : 0,
        };
        struct core_range one;
        if (core_allocate(policy, &a, 1, (uint64_t)fp.self->inferences, &allocations[i], &one) !=
            ERR_OK)
            return ERR_INVALID_INPUT;
        fp.allocated_kg = core_range_add(fp.allocated_kg, allocations[i].co2e_kg);
        if (!m->is_self)
            fp.inherited_kg = core_range_add(fp.inherited_kg, allocations[i].co2e_kg);
        fp.is_usage_fallback = fp.is_usage_fallback || allocations[i].is_usage_fallback;
        fp.lineage_kwh = core_range_add(fp.lineage_kwh, m->lineage_kwh);
        fp.training_kwh = core_range_add(fp.training_kwh, m->training_kwh);
    }
    fp.inference_kg = core_range_zero();
    if (lineage->has_profile && core_inference_profile_energy(&lineage->profile, fp.training_kwh,
                                                              "", &fp.energy, &ignored) == ERR_OK) {
        fp.has_inference = true;
        fp.inference_g_each = core_inference_co2e_g(fp.energy.kwh_per_inference,
                                                    lineage->profile.intensity.kg_per_kwh);
        fp.inference_kg = core_kg_of_count_g(fp.inference_g_each, (double)fp.self->inferences);
        core_parity(fp.lineage_kwh, &fp.energy, &fp.parity);
    }
    fp.total_kg = core_range_add(fp.allocated_kg, fp.inference_kg);
    fp.has_g_per_inference = fp.self->inferences > 0;
    if (fp.has_g_per_inference)
        fp.total_g_per_inference = core_g_each_of_kg(fp.total_kg, (double)fp.self->inferences);
    *out = fp;
    return ERR_OK;
}

bool core_lineage_inference_g(const struct core_lineage *lineage, struct core_range *out)
{
    struct core_range training_kwh = core_range_zero();
    struct core_inference_energy energy;
    struct core_field_error ignored;

    assert(lineage && out);
    if (!lineage->has_profile)
        return false;
    /* Summed in lineage order, as core_footprint sums it. */
    for (size_t i = 0; i < lineage->n_members; i++)
        training_kwh = core_range_add(training_kwh, lineage->members[i].training_kwh);
    if (core_inference_profile_energy(&lineage->profile, training_kwh, "", &energy, &ignored) !=
        ERR_OK)
        return false;
    *out = core_inference_co2e_g(energy.kwh_per_inference, lineage->profile.intensity.kg_per_kwh);
    return true;
}

enum err core_compare_side_of(const struct core_footprint *fp, struct core_compare_side *out)
{
    assert(fp && out);
    if (!fp->has_inference)
        return ERR_NOT_FOUND;
    out->kg_fixed = fp->allocated_kg;
    out->g_per_inference = fp->inference_g_each;
    return ERR_OK;
}

enum err core_compare(const struct core_compare_side *a, const struct core_compare_side *b,
                      bool has_volume, double volume, struct core_comparison *out,
                      struct core_field_error *fe)
{
    struct core_comparison c;
    enum err rc;

    assert(a && b && out && (!has_volume || volume >= 0.0));
    memset(&c, 0, sizeof c);
    /* The crossover is a question about central values: ranges would make it a band. */
    c.a.kg_fixed = a->kg_fixed.value;
    c.a.kg_per_inference = core_g_to_kg(a->g_per_inference.value);
    c.b.kg_fixed = b->kg_fixed.value;
    c.b.kg_per_inference = core_g_to_kg(b->g_per_inference.value);
    rc = core_crossover(&c.a, &c.b, &c.crossover, fe);
    if (rc != ERR_OK)
        return rc;
    c.has_volume = has_volume;
    if (has_volume) {
        c.volume = volume;
        c.a_kg_at_volume = c.a.kg_fixed + c.a.kg_per_inference * volume;
        c.b_kg_at_volume = c.b.kg_fixed + c.b.kg_per_inference * volume;
        c.cleaner_at_volume = core_cleaner_at(&c.a, &c.b, volume);
    }
    *out = c;
    return ERR_OK;
}
