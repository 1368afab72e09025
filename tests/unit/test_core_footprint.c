/* SPDX-License-Identifier: Apache-2.0 */
/* Footprints from lineages: hand-computed figures for each policy, a measured and
 * a derived profile, zero inferences and the usage fallback; the comparison of two
 * sides; and a property test on random DAGs showing that, under every policy, a
 * family's footprints add up to what it emitted plus what its inferences emitted.
 * Links the core library only. */
#include "footprint.h"
#include "units.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOL 1e-9

static void assert_close(double got, double expected, const char *what)
{
    ck_assert_msg(core_nearly_equal(got, expected, TOL), "%s: got %.17g, expected %.17g", what, got,
                  expected);
}

static struct core_lineage_member *member(struct core_lineage *l, const char *name, int depth,
                                          double own_kg, double lineage_kwh, int64_t inferences,
                                          int64_t descendants, int64_t descendant_inferences)
{
    struct core_lineage_member *m = core_lineage_add(l);

    ck_assert_ptr_nonnull(m);
    m->key = (int64_t)l->n_members;
    snprintf(m->id.ns, sizeof m->id.ns, "fam");
    snprintf(m->id.name, sizeof m->id.name, "%s", name);
    m->depth = depth;
    m->own_co2e_kg = core_range_exact(own_kg);
    m->lineage_kwh = core_range_exact(lineage_kwh);
    m->training_kwh = core_range_exact(lineage_kwh);
    m->inferences = inferences;
    m->descendants = descendants;
    m->descendant_inferences = descendant_inferences;
    return m;
}

/* base (1000 kg, 1000 kWh of training) with fine-tunes ft1, ft2, ft3 (10, 20, 30
 * kg) that served 100, 300 and 600 inferences: the lineage of ft1 (50 kWh of
 * fine-tuning). */
static void ft1_lineage(struct core_lineage *l)
{
    core_lineage_init(l);
    member(l, "base", 0, 1000, 1000, 0, 4, 1000);
    member(l, "ft1", 1, 10, 50, 100, 1, 100)->is_self = true;
    l->members[1].training_kwh = core_range_zero(); /* fine-tuning is not training */
}

/* ft1 serves at 0.0001 kWh per inference on a 0.4 kg/kWh grid. */
static void measured_profile(struct core_lineage *l, size_t owner)
{
    memset(&l->profile, 0, sizeof l->profile);
    snprintf(l->profile.unit, sizeof l->profile.unit, "request");
    l->profile.source = CORE_INFERENCE_MEASURED;
    l->profile.kwh_per_inference = core_range_exact(0.0001);
    l->profile.intensity = core_intensity_default();
    l->profile.intensity.kg_per_kwh = core_range_exact(0.4);
    l->has_profile = true;
    l->profile_member = owner;
    l->members[owner].has_profile = true;
}

struct policy_case {
    enum core_policy policy;
    double base_share, base_kg, own_share_kg, inherited_kg;
    bool is_fallback;
};

/* Hand-computed: equal splits 1000 kg over 4; usage gives ft1 100 of 1000 inferences. */
static const struct policy_case ft1_cases[] = {
    {CORE_POLICY_NONE, 0.0, 0.0, 10.0, 0.0, false},
    {CORE_POLICY_EQUAL, 0.25, 250.0, 10.0, 250.0, false},
    {CORE_POLICY_USAGE, 0.1, 100.0, 10.0, 100.0, false},
};

START_TEST(ft1_under_each_policy_with_a_measured_profile)
{
    const struct policy_case *c = &ft1_cases[_i];
    struct core_lineage l;
    struct core_allocation alloc[2];
    struct core_footprint fp;
    /* 0.0001 kWh x 0.4 kg/kWh = 0.04 g each; 100 of them = 0.004 kg. */
    double inference_kg = 0.004;

    ft1_lineage(&l);
    measured_profile(&l, 1);
    ck_assert_int_eq(core_footprint(&l, c->policy, alloc, &fp), ERR_OK);
    ck_assert_ptr_eq(fp.self, &l.members[1]);
    assert_close(alloc[0].share, c->base_share, "base share");
    assert_close(alloc[0].co2e_kg.value, c->base_kg, "base kg");
    assert_close(alloc[1].co2e_kg.value, c->own_share_kg, "own share");
    assert_close(fp.own_kg.value, 10.0, "own");
    assert_close(fp.inherited_kg.value, c->inherited_kg, "inherited");
    assert_close(fp.allocated_kg.value, c->own_share_kg + c->inherited_kg, "allocated");
    ck_assert(fp.has_inference);
    assert_close(fp.inference_g_each.value, 0.04, "g each");
    assert_close(fp.inference_kg.value, inference_kg, "inference");
    assert_close(fp.total_kg.value, c->own_share_kg + c->inherited_kg + inference_kg, "total");
    ck_assert(fp.has_g_per_inference);
    /* kg over 100 inferences, in g: x 10 */
    assert_close(fp.total_g_per_inference.value,
                 (c->own_share_kg + c->inherited_kg + inference_kg) * 10, "g/inf");
    ck_assert(fp.is_usage_fallback == c->is_fallback);
    /* Lineage energy 1000 + 50 kWh over 0.0001 kWh each. */
    assert_close(fp.lineage_kwh.value, 1050.0, "lineage kWh");
    ck_assert_int_eq(fp.parity.status, CORE_PARITY_OK);
    ck_assert_uint_eq(fp.parity.value, 10500000u);
    core_lineage_cleanup(&l);
}
END_TEST

START_TEST(derived_profile_of_an_ancestor_uses_the_lineage_training_energy)
{
    struct core_lineage l;
    struct core_allocation alloc[2];
    struct core_footprint fp;

    ft1_lineage(&l);
    measured_profile(&l, 0);
    l.profile.source = CORE_INFERENCE_DERIVED;
    l.profile.kwh_per_inference = core_range_zero();
    l.profile.has_ratio = true;
    l.profile.ratio = core_range_exact(0.5);
    l.profile.token_steps = core_range_exact(1.28e11);
    l.profile.intensity.kg_per_kwh = core_range_exact(0.05);
    ck_assert_int_eq(core_footprint(&l, CORE_POLICY_EQUAL, alloc, &fp), ERR_OK);
    ck_assert(fp.has_inference);
    /* 0.5 x 1000 kWh / 1.28e11 = 3.90625e-9 kWh; x 0.05 kg/kWh x 1000 g/kg. */
    assert_close(fp.training_kwh.value, 1000.0, "training");
    assert_close(fp.energy.kwh_per_inference.value, 3.90625e-9, "kWh each");
    assert_close(fp.inference_g_each.value, 1.953125e-7, "g each");
    assert_close(fp.inference_kg.value, 1.953125e-8, "inference"); /* 100 inferences */
    /* (1050 / 1000) x (1.28e11 / 0.5) = 2.688e11, the training energy cancelling. */
    ck_assert_int_eq(fp.parity.status, CORE_PARITY_OK);
    ck_assert_uint_eq(fp.parity.value, 268800000000u);
    /* A training energy given in the profile replaces the lineage's. */
    l.profile.has_training_kwh = true;
    l.profile.training_kwh = core_range_exact(2000);
    ck_assert_int_eq(core_footprint(&l, CORE_POLICY_EQUAL, alloc, &fp), ERR_OK);
    assert_close(fp.energy.kwh_per_inference.value, 7.8125e-9, "kWh each, given training");
    core_lineage_cleanup(&l);
}
END_TEST

START_TEST(derived_profile_without_training_energy_has_no_inference_part)
{
    struct core_lineage l;
    struct core_allocation alloc[2];
    struct core_footprint fp;

    ft1_lineage(&l);
    l.members[0].training_kwh = core_range_zero();
    measured_profile(&l, 1);
    l.profile.source = CORE_INFERENCE_DERIVED;
    l.profile.token_steps = core_range_exact(1e9);
    ck_assert_int_eq(core_footprint(&l, CORE_POLICY_USAGE, alloc, &fp), ERR_OK);
    ck_assert(!fp.has_inference);
    assert_close(fp.inference_kg.value, 0.0, "inference");
    assert_close(fp.total_kg.value, fp.allocated_kg.value, "total");
    core_lineage_cleanup(&l);
}
END_TEST

START_TEST(base_without_inferences_has_no_per_inference_figure)
{
    struct core_lineage l;
    struct core_allocation alloc[1];
    struct core_footprint fp;

    core_lineage_init(&l);
    member(&l, "base", 0, 1000, 1000, 0, 4, 1000)->is_self = true;
    measured_profile(&l, 0);
    /* usage: the base served none of its family's 1000 inferences and keeps nothing */
    ck_assert_int_eq(core_footprint(&l, CORE_POLICY_USAGE, alloc, &fp), ERR_OK);
    assert_close(fp.allocated_kg.value, 0.0, "usage");
    ck_assert(!fp.has_g_per_inference);
    ck_assert(fp.has_inference);
    assert_close(fp.inference_kg.value, 0.0, "inference");
    ck_assert_int_eq(core_footprint(&l, CORE_POLICY_NONE, alloc, &fp), ERR_OK);
    assert_close(fp.total_kg.value, 1000.0, "none");
    core_lineage_cleanup(&l);
}
END_TEST

START_TEST(usage_falls_back_to_equal_where_a_family_served_nothing)
{
    struct core_lineage l;
    struct core_allocation alloc[2];
    struct core_footprint fp;

    ft1_lineage(&l);
    l.members[0].descendant_inferences = 0;
    l.members[1].inferences = 0;
    l.members[1].descendant_inferences = 0;
    ck_assert_int_eq(core_footprint(&l, CORE_POLICY_USAGE, alloc, &fp), ERR_OK);
    ck_assert(fp.is_usage_fallback);
    ck_assert(alloc[0].is_usage_fallback && alloc[1].is_usage_fallback);
    assert_close(fp.allocated_kg.value, 260.0, "allocated");
    ck_assert(!fp.has_inference);
    ck_assert(!fp.has_g_per_inference);
    core_lineage_cleanup(&l);
}
END_TEST

START_TEST(inconsistent_lineages_are_refused)
{
    struct core_lineage l;
    struct core_allocation alloc[2];
    struct core_footprint fp;

    ft1_lineage(&l);
    l.members[1].is_self = false;
    ck_assert_int_eq(core_footprint(&l, CORE_POLICY_EQUAL, alloc, &fp), ERR_INVALID_INPUT);
    l.members[1].is_self = true;
    l.members[0].descendant_inferences = 10; /* fewer than ft1 alone served */
    ck_assert_int_eq(core_footprint(&l, CORE_POLICY_EQUAL, alloc, &fp), ERR_INVALID_INPUT);
    core_lineage_cleanup(&l);
}
END_TEST

START_TEST(comparison_finds_the_crossover_and_the_totals_at_a_volume)
{
    /* A: 100 kg, 2 g each; B (the costly search): 1000 kg, 1 g each.
     * v* = (1000 - 100) kg / ((2 - 1) g / 1000) = 900,000 inferences. */
    struct core_compare_side a = {core_range_exact(100), core_range_exact(2)};
    struct core_compare_side b = {core_range_exact(1000), core_range_exact(1)};
    struct core_comparison c;
    struct core_field_error fe;

    ck_assert_int_eq(core_compare(&a, &b, true, 2e6, &c, &fe), ERR_OK);
    ck_assert_int_eq(c.crossover.kind, CORE_CROSSOVER_B_BEYOND);
    assert_close(c.crossover.volume, 9e5, "volume");
    assert_close(c.a.kg_per_inference, 0.002, "a per inference");
    assert_close(c.a_kg_at_volume, 100 + 2 * 2000.0, "a at volume");
    assert_close(c.b_kg_at_volume, 1000 + 1 * 2000.0, "b at volume");
    ck_assert_int_eq(c.cleaner_at_volume, CORE_CLEANER_B);
    ck_assert_int_eq(core_compare(&a, &b, false, 0, &c, &fe), ERR_OK);
    ck_assert(!c.has_volume);
    a.kg_fixed = core_range_exact(-1);
    ck_assert_int_eq(core_compare(&a, &b, false, 0, &c, &fe), ERR_INVALID_INPUT);
    ck_assert_str_eq(fe.pointer, "/a/fixed");
}
END_TEST

START_TEST(a_model_side_is_its_allocated_kg_and_the_g_of_one_inference)
{
    struct core_lineage l;
    struct core_allocation alloc[2];
    struct core_footprint fp;
    struct core_compare_side side;

    ft1_lineage(&l);
    ck_assert_int_eq(core_footprint(&l, CORE_POLICY_EQUAL, alloc, &fp), ERR_OK);
    ck_assert_int_eq(core_compare_side_of(&fp, &side), ERR_NOT_FOUND);
    measured_profile(&l, 1);
    ck_assert_int_eq(core_footprint(&l, CORE_POLICY_EQUAL, alloc, &fp), ERR_OK);
    ck_assert_int_eq(core_compare_side_of(&fp, &side), ERR_OK);
    assert_close(side.kg_fixed.value, 260.0, "fixed");
    assert_close(side.g_per_inference.value, 0.04, "g each");
    core_lineage_cleanup(&l);
}
END_TEST

START_TEST(units_convert_grams_and_counts)
{
    struct core_range kg = core_kg_of_count_g(core_range_make(1, 2, 3), 500);
    struct core_range g = core_g_each_of_kg(core_range_make(1, 2, 3), 4);

    assert_close(core_g_to_kg(1500), 1.5, "g to kg");
    assert_close(core_kg_to_g(1.5), 1500, "kg to g");
    assert_close(core_wh_to_kwh(250), 0.25, "Wh to kWh");
    assert_close(kg.low, 0.5, "kg low");
    assert_close(kg.high, 1.5, "kg high");
    assert_close(g.value, 500, "g each");
}
END_TEST

/* ---- conservation on random DAGs ---- */

#define MAX_MODELS 200
#define MAX_DEPTH  8
#define WORDS      ((MAX_MODELS + 63) / 64)

struct family {
    size_t n;
    uint64_t ancestors[MAX_MODELS][WORDS]; /* bit a set: a is an ancestor of n (or n) */
    int depth[MAX_MODELS];
    struct core_range emissions_kg[MAX_MODELS];
    int64_t inferences[MAX_MODELS];
    bool has_profile[MAX_MODELS];
    struct core_inference_profile profile[MAX_MODELS];
};

static bool has(const uint64_t *set, size_t i)
{
    return (set[i / 64] >> (i % 64)) & 1u;
}

static double uniform(double lo, double hi)
{
    return lo + (hi - lo) * ((double)rand() / (double)RAND_MAX);
}

static struct core_range random_range(double value)
{
    return core_range_make(value * uniform(0.5, 1.0), value, value * uniform(1.0, 2.0));
}

/* A random DAG in topological order: roots, fine-tune chains up to MAX_DEPTH and
 * merges of 2-3 parents; random emissions, inference counts and measured profiles. */
static void random_family(struct family *f)
{
    memset(f, 0, sizeof *f);
    f->n = 1 + (size_t)(rand() % MAX_MODELS);
    for (size_t i = 0; i < f->n; i++) {
        size_t n_parents = 0;
        int kind = rand() % 100;
        double value = rand() % 5 == 0 ? 0.0 : uniform(0.0, 1e6);

        f->ancestors[i][i / 64] |= (uint64_t)1 << (i % 64);
        if (i > 0 && kind >= 10)
            n_parents = kind >= 85 ? 2 + (size_t)(rand() % 2) : 1;
        for (size_t p = 0; p < n_parents; p++) {
            size_t parent = (size_t)rand() % i;
            if (f->depth[parent] >= MAX_DEPTH)
                continue; /* too deep a parent: fewer parents instead */
            for (size_t w = 0; w < WORDS; w++)
                f->ancestors[i][w] |= f->ancestors[parent][w];
            if (f->depth[parent] + 1 > f->depth[i])
                f->depth[i] = f->depth[parent] + 1;
        }
        f->emissions_kg[i] = random_range(value);
        f->inferences[i] = rand() % 3 == 0 ? 0 : (int64_t)(rand() % 1000000);
        f->has_profile[i] = rand() % 4 == 0;
        if (f->has_profile[i]) {
            struct core_inference_profile *p = &f->profile[i];
            p->source = CORE_INFERENCE_MEASURED;
            p->kwh_per_inference = random_range(uniform(1e-6, 1e-2));
            p->intensity = core_intensity_default();
            p->intensity.kg_per_kwh = random_range(uniform(0.0, 1.0));
        }
    }
}

/* The lineage of n as the ledger gives it: ancestors by depth, then key. */
static void lineage_of(const struct family *f, size_t n, struct core_lineage *l)
{
    core_lineage_init(l);
    for (int d = 0; d <= MAX_DEPTH; d++) {
        for (size_t a = 0; a < f->n; a++) {
            struct core_lineage_member *m;
            if (f->depth[a] != d || !has(f->ancestors[n], a))
                continue;
            m = core_lineage_add(l);
            ck_assert_ptr_nonnull(m);
            m->key = (int64_t)a + 1;
            m->depth = d;
            m->is_self = a == n;
            m->own_co2e_kg = f->emissions_kg[a];
            m->inferences = f->inferences[a];
            m->has_profile = f->has_profile[a];
            for (size_t k = 0; k < f->n; k++) {
                if (has(f->ancestors[k], a)) {
                    m->descendants++;
                    m->descendant_inferences += f->inferences[k];
                }
            }
            if (m->has_profile) {
                l->has_profile = true;
                l->profile_member = l->n_members - 1;
                l->profile = f->profile[a];
            }
        }
    }
}

static void assert_range_close(struct core_range got, struct core_range expected, const char *what,
                               const char *policy)
{
    ck_assert_msg(core_nearly_equal(got.value, expected.value, TOL) &&
                      core_nearly_equal(got.low, expected.low, TOL) &&
                      core_nearly_equal(got.high, expected.high, TOL),
                  "%s, policy %s: got %.17g [%.17g, %.17g], expected %.17g [%.17g, %.17g]", what,
                  policy, got.value, got.low, got.high, expected.value, expected.low,
                  expected.high);
}

START_TEST(footprints_add_up_to_the_family_emissions_on_random_dags)
{
    static struct family f;
    static struct core_allocation alloc[MAX_MODELS];

    srand(20261203u + (unsigned)_i);
    random_family(&f);
    for (int p = 0; p < CORE_POLICY_COUNT; p++) {
        const char *policy = core_policy_name((enum core_policy)p);
        struct core_range allocated = core_range_zero(), total = core_range_zero();
        struct core_range emitted = core_range_zero(), inference = core_range_zero();
        for (size_t n = 0; n < f.n; n++) {
            struct core_lineage l;
            struct core_footprint fp;
            lineage_of(&f, n, &l);
            ck_assert_int_eq(core_footprint(&l, (enum core_policy)p, alloc, &fp), ERR_OK);
            ck_assert(core_range_is_ordered(fp.total_kg));
            allocated = core_range_add(allocated, fp.allocated_kg);
            total = core_range_add(total, fp.total_kg);
            emitted = core_range_add(emitted, f.emissions_kg[n]);
            /* F(n), computed apart: I(n) x kWh each x kg/kWh of the nearest profile. */
            if (l.has_profile) {
                const struct core_inference_profile *pr = &l.profile;
                struct core_range kg_each =
                    core_range_mul(pr->kwh_per_inference, pr->intensity.kg_per_kwh);
                inference =
                    core_range_add(inference, core_range_scale(kg_each, (double)f.inferences[n]));
            }
            core_lineage_cleanup(&l);
        }
        assert_range_close(allocated, emitted, "allocated vs emitted", policy);
        assert_range_close(total, core_range_add(emitted, inference),
                           "total vs emitted + inference", policy);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("core_footprint");
    TCase *examples = tcase_create("examples");
    TCase *property = tcase_create("property");

    tcase_add_loop_test(examples, ft1_under_each_policy_with_a_measured_profile, 0,
                        (int)(sizeof ft1_cases / sizeof ft1_cases[0]));
    tcase_add_test(examples, derived_profile_of_an_ancestor_uses_the_lineage_training_energy);
    tcase_add_test(examples, derived_profile_without_training_energy_has_no_inference_part);
    tcase_add_test(examples, base_without_inferences_has_no_per_inference_figure);
    tcase_add_test(examples, usage_falls_back_to_equal_where_a_family_served_nothing);
    tcase_add_test(examples, inconsistent_lineages_are_refused);
    tcase_add_test(examples, comparison_finds_the_crossover_and_the_totals_at_a_volume);
    tcase_add_test(examples, a_model_side_is_its_allocated_kg_and_the_g_of_one_inference);
    tcase_add_test(examples, units_convert_grams_and_counts);
    tcase_set_timeout(property, 120);
    tcase_add_loop_test(property, footprints_add_up_to_the_family_emissions_on_random_dags, 0, 200);
    suite_add_tcase(s, examples);
    suite_add_tcase(s, property);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
