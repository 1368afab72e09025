/* SPDX-License-Identifier: Apache-2.0 */
/* The amortized footprint of one model from its lineage: each ancestor's share of
 * emissions under a policy, the model's inference emissions, their total, per
 * inference, the lineage energy and its parity; and the comparison of two models'
 * cost lines. Pure arithmetic over plain structs that db fills and api renders.
 * No I/O; the only allocation is a lineage's member array (init/cleanup), whose
 * flags db allocates. */
#ifndef CORE_FOOTPRINT_H
#define CORE_FOOTPRINT_H

#include "amortize.h"
#include "err.h"
#include "field_error.h"
#include "inference.h"
#include "model.h"
#include "range.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One ancestor a of a model n (n itself included) with the ledger's aggregates. */
struct core_lineage_member {
    int64_t key; /* storage key */
    struct core_model_id id;
    int depth;
    bool is_self;                   /* a is n */
    struct core_range own_co2e_kg;  /* E(a), the sum of a's activities */
    struct core_range lineage_kwh;  /* a's own training + fine-tuning energy */
    struct core_range training_kwh; /* a's own training energy */
    int64_t n_activities;
    int64_t inferences;            /* I(a), cumulative */
    int64_t descendants;           /* |D(a)|, a included */
    int64_t descendant_inferences; /* sum of I(m) over m in D(a) */
    bool has_profile;              /* a has an inference profile of its own */
    char *flags; /* the flags of a's card as stored (a JSON array), NULL when it has none
                  * or they were not read; owned by the lineage */
};

/* A model's lineage: its ancestors and itself, shallowest first, and the inference
 * profile that applies to it (its own, else its nearest ancestor's). */
struct core_lineage {
    struct core_lineage_member *members;
    size_t n_members;
    size_t cap; /* room allocated in members (core_lineage_add's business) */
    bool has_profile;
    size_t profile_member; /* has_profile: the member whose profile applies */
    struct core_inference_profile profile;
};

/* An empty lineage. Pair with core_lineage_cleanup. */
void core_lineage_init(struct core_lineage *lineage);

/* Appends a zeroed member and returns it (owned by lineage, valid until the next
 * append or the cleanup); NULL when memory runs out (lineage unchanged). */
struct core_lineage_member *core_lineage_add(struct core_lineage *lineage);

/* Frees the members and their flags; the lineage is empty afterwards, as after init. */
void core_lineage_cleanup(struct core_lineage *lineage);

/* The footprint of the model whose lineage it is, under one policy. Pointers
 * borrow from the lineage and the caller's allocation array. */
struct core_footprint {
    enum core_policy policy;
    const struct core_lineage *lineage;
    const struct core_lineage_member *self;
    const struct core_allocation *allocations; /* one per lineage member, in order */
    bool is_usage_fallback;                    /* some allocation fell back from usage to equal */
    struct core_range own_kg;                  /* E(n) */
    struct core_range inherited_kg;      /* the ancestors' allocations, n's own share excluded */
    struct core_range allocated_kg;      /* every allocation: n's own share + inherited */
    struct core_range lineage_kwh;       /* training + fine-tuning energy of n and its ancestors */
    struct core_range training_kwh;      /* training energy of n and its ancestors */
    bool has_inference;                  /* the profile gives a per-inference energy */
    struct core_inference_energy energy; /* has_inference: the per-inference energy used */
    struct core_range inference_g_each;  /* has_inference: g CO2e of one inference */
    struct core_range inference_kg;      /* F(n) = I(n) inferences of inference_g_each; 0 without */
    struct core_range total_kg;          /* allocated + inference */
    bool has_g_per_inference;            /* I(n) > 0 */
    struct core_range total_g_per_inference; /* total over I(n), in g */
    struct core_parity parity;               /* has_inference: lineage energy parity */
};

/* The g CO2e of one of the lineage's model's inferences, as core_footprint gives
 * it (inference_g_each, to the last bit), without the allocations: true and *out
 * set when the lineage's profile gives a per-inference energy; false, *out
 * untouched, otherwise. */
bool core_lineage_inference_g(const struct core_lineage *lineage, struct core_range *out);

/* Computes the footprint of lineage's model under policy into *out; allocations
 * has room for lineage->n_members and receives each member's allocation. A
 * profile that gives no per-inference energy (a derived one while the lineage has
 * no training energy yet) leaves the footprint without an inference part
 * (has_inference false) rather than failing.
 * ERR_INVALID_INPUT when the lineage has no self member or its aggregates
 * contradict each other (core_allocate); *out untouched then. */
enum err core_footprint(const struct core_lineage *lineage, enum core_policy policy,
                        struct core_allocation *allocations, struct core_footprint *out);

/* One side of a comparison: a fixed mass (a model's allocated emissions, or given)
 * and the mass of one inference. */
struct core_compare_side {
    struct core_range kg_fixed;
    struct core_range g_per_inference;
};

/* A model's side: its allocated emissions and the g of one of its inferences.
 * ERR_NOT_FOUND when the footprint has no inference part. */
enum err core_compare_side_of(const struct core_footprint *fp, struct core_compare_side *out);

/* The comparison of two sides on their central values, in kg. */
struct core_comparison {
    struct core_cost_line a, b;
    struct core_crossover crossover;
    bool has_volume;
    double volume;         /* has_volume: the inference volume asked about */
    double a_kg_at_volume; /* a's kg_fixed + volume x kg_per_inference */
    double b_kg_at_volume;
    enum core_cleaner cleaner_at_volume;
};

/* Compares sides a and b: their cost lines, the crossover volume and, when
 * has_volume, both totals and the cleaner side at volume (>= 0). Errors as
 * core_crossover (fe at "/a/fixed" ...); *out untouched then. */
enum err core_compare(const struct core_compare_side *a, const struct core_compare_side *b,
                      bool has_volume, double volume, struct core_comparison *out,
                      struct core_field_error *fe);

#endif
