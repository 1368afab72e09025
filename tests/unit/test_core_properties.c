/* SPDX-License-Identifier: Apache-2.0 */
/* Properties over random inputs (fixed seed): every output of every method is an
 * ordered range (low <= value <= high), totals are the sums of the parts, and each
 * output moves in the documented direction when one input grows. Also the ordering
 * of equivalences and of inference parity. */
#include "equivalence.h"
#include "estimate.h"
#include "inference.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define N_CASES_PER_METHOD 1000
#define REL_TOL            1e-12

static uint64_t rng_state;

/* xorshift64*: small, deterministic across platforms. */
static uint64_t next_u64(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}

static double uniform(double a, double b)
{
    return a + (b - a) * ((double)(next_u64() >> 11) / 9007199254740992.0);
}

static double log_uniform(double a, double b)
{
    return exp(uniform(log(a), log(b)));
}

/* A random range around a log-uniform value in [a, b]; a third are exact. low never
 * falls below a, high never exceeds cap. */
static struct core_range random_range(double a, double b, double cap)
{
    double v = log_uniform(a, b);

    if (next_u64() % 3 == 0)
        return core_range_exact(v);
    return core_range_make(fmax(v * uniform(0.7, 1.0), a), v, fmin(v * uniform(1.0, 1.3), cap));
}

static struct core_range random_fraction(void)
{
    return random_range(0.05, 0.8, 1.0);
}

static struct core_range scale_capped(struct core_range r, double f, double cap)
{
    return core_range_make(fmin(r.low * f, cap), fmin(r.value * f, cap), fmin(r.high * f, cap));
}

static void maybe_intensity(struct core_estimate_input *in)
{
    if (next_u64() % 2 == 0) {
        in->has_intensity = true;
        in->intensity = core_intensity_default();
        in->intensity.kg_per_kwh = random_range(0.01, 1.0, 2.0);
        in->intensity.source = CORE_INTENSITY_EXPLICIT;
    }
}

static void maybe_pue(struct core_estimate_input *in)
{
    if (next_u64() % 2 == 0) {
        in->has_pue = true;
        in->pue = random_range(1.0, 2.0, 2.5);
    }
}

static void add_embodied(struct core_estimate_input *in, size_t n)
{
    size_t i;

    in->n_embodied = n;
    for (i = 0; i < n; i++) {
        struct core_embodied_item *e = &in->embodied[i];

        e->units = floor(log_uniform(1, 1000));
        e->embodied_kg = random_range(10, 5000, 1e6);
        e->has_lifetime_hours = next_u64() % 2 == 0;
        e->lifetime_hours = random_range(3e4, 8e4, 1e5);
        e->has_utilisation = next_u64() % 2 == 0;
        e->utilisation = random_fraction();
    }
}

static void random_input(enum core_method method, struct core_estimate_input *in)
{
    size_t i;

    core_estimate_input_init(in, method);
    in->has_hours = true;
    in->hours = random_range(0.1, 5000, 2e4);
    maybe_pue(in);
    maybe_intensity(in);
    switch (method) {
    case CORE_METHOD_POWER:
        in->power.n_devices = 1 + next_u64() % 3;
        for (i = 0; i < in->power.n_devices; i++) {
            in->power.devices[i].count = floor(log_uniform(1, 1000));
            in->power.devices[i].power_w = random_range(10, 1000, 1e4);
        }
        in->power.has_cpu_w = true;
        in->power.cpu_w = random_range(1, 500, 1e4);
        in->power.has_dram_w = true;
        in->power.dram_w = random_range(1, 100, 1e4);
        break;
    case CORE_METHOD_TDP:
        in->tdp.n_devices = 1 + next_u64() % 3;
        for (i = 0; i < in->tdp.n_devices; i++) {
            in->tdp.devices[i].count = floor(log_uniform(1, 1000));
            in->tdp.devices[i].tdp_w = log_uniform(10, 1000);
            in->tdp.devices[i].has_utilisation = next_u64() % 2 == 0;
            in->tdp.devices[i].utilisation = random_fraction();
        }
        in->tdp.has_memory_gb = true;
        in->tdp.memory_gb = random_range(1, 2000, 1e5);
        in->tdp.has_psf = true;
        in->tdp.psf = floor(log_uniform(1, 100));
        break;
    case CORE_METHOD_FLOPS:
        in->flops.has_flops = next_u64() % 2 == 0;
        in->flops.flops = random_range(1e15, 1e24, 1e30);
        in->flops.parameters = random_range(1e6, 1e11, 1e14);
        in->flops.tokens = random_range(1e6, 1e12, 1e15);
        in->flops.peak_flops_per_s = random_range(1e12, 1e15, 1e17);
        in->flops.has_utilisation = next_u64() % 2 == 0;
        in->flops.utilisation = random_fraction();
        in->flops.is_device_power_tdp = next_u64() % 2 == 0;
        in->flops.device_power_w = in->flops.is_device_power_tdp
                                       ? core_range_exact(log_uniform(50, 1000))
                                       : random_range(50, 1000, 1e4);
        break;
    case CORE_METHOD_ENERGY:
        in->energy.energy_kwh = random_range(0.01, 1e6, 1e9);
        break;
    case CORE_METHOD_EMBODIED:
        add_embodied(in, 1 + next_u64() % 3);
        break;
    }
    if (method != CORE_METHOD_EMBODIED && next_u64() % 3 == 0)
        add_embodied(in, 1);
}

static void assert_ordered(struct core_range r, const char *what)
{
    ck_assert_msg(core_range_is_ordered(r) && r.low >= 0.0, "%s not ordered: %g %g %g", what, r.low,
                  r.value, r.high);
}

static void assert_sum(struct core_range total, struct core_range sum, const char *what)
{
    ck_assert_msg(core_nearly_equal(total.low, sum.low, 1e-9) &&
                      core_nearly_equal(total.value, sum.value, 1e-9) &&
                      core_nearly_equal(total.high, sum.high, 1e-9),
                  "%s is not the sum of its parts", what);
}

static void check_invariants(const struct core_estimate *out)
{
    struct core_range energy = core_range_zero(), co2e = core_range_zero();
    struct core_equivalence eq[CORE_EQUIVALENCE_COUNT];
    size_t i;

    assert_ordered(out->energy_kwh, "energy_kwh");
    assert_ordered(out->co2e_kg, "co2e_kg");
    assert_ordered(out->operational_co2e_kg, "operational_co2e_kg");
    assert_ordered(out->embodied_co2e_kg, "embodied_co2e_kg");
    if (out->has_device_hours)
        assert_ordered(out->device_hours, "device_hours");
    ck_assert_uint_gt(out->n_parts, 0);
    for (i = 0; i < out->n_parts; i++) {
        assert_ordered(out->parts[i].energy_kwh, "part energy_kwh");
        assert_ordered(out->parts[i].co2e_kg, "part co2e_kg");
        energy = core_range_add(energy, out->parts[i].energy_kwh);
        co2e = core_range_add(co2e, out->parts[i].co2e_kg);
    }
    assert_sum(out->energy_kwh, energy, "energy_kwh");
    assert_sum(out->co2e_kg, co2e, "co2e_kg");
    core_equivalences(out->co2e_kg, eq);
    for (i = 0; i < CORE_EQUIVALENCE_COUNT; i++)
        assert_ordered(eq[i].count, "equivalence");
}

/* One input that grows by factor f, and which way energy and CO2e must move
 * (+1 non-decreasing, -1 non-increasing, 0 unchanged). */
struct knob {
    const char *name;
    void (*bump)(struct core_estimate_input *in, double f);
    int energy_direction;
    int co2e_direction;
};

static void bump_hours(struct core_estimate_input *in, double f)
{
    in->hours = core_range_scale(in->hours, f);
}
static void bump_pue(struct core_estimate_input *in, double f)
{
    if (in->has_pue)
        in->pue = scale_capped(in->pue, f, 3.0);
}
static void bump_intensity(struct core_estimate_input *in, double f)
{
    if (in->has_intensity)
        in->intensity.kg_per_kwh = scale_capped(in->intensity.kg_per_kwh, f, 2.0);
}
static void bump_device_count(struct core_estimate_input *in, double f)
{
    in->power.devices[0].count *= f;
    in->tdp.devices[0].count *= f;
}
static void bump_device_power(struct core_estimate_input *in, double f)
{
    in->power.devices[0].power_w = core_range_scale(in->power.devices[0].power_w, f);
    in->tdp.devices[0].tdp_w *= f;
}
static void bump_host(struct core_estimate_input *in, double f)
{
    in->power.cpu_w = core_range_scale(in->power.cpu_w, f);
    in->power.dram_w = core_range_scale(in->power.dram_w, f);
}
static void bump_tdp_utilisation(struct core_estimate_input *in, double f)
{
    in->tdp.devices[0].utilisation = scale_capped(in->tdp.devices[0].utilisation, f, 1.0);
}
static void bump_memory_and_psf(struct core_estimate_input *in, double f)
{
    in->tdp.memory_gb = core_range_scale(in->tdp.memory_gb, f);
    in->tdp.psf = ceil(in->tdp.psf * f);
}
static void bump_flops(struct core_estimate_input *in, double f)
{
    in->flops.flops = core_range_scale(in->flops.flops, f);
    in->flops.parameters = core_range_scale(in->flops.parameters, f);
    in->flops.tokens = core_range_scale(in->flops.tokens, f);
}
static void bump_peak(struct core_estimate_input *in, double f)
{
    in->flops.peak_flops_per_s = core_range_scale(in->flops.peak_flops_per_s, f);
}
static void bump_flops_utilisation(struct core_estimate_input *in, double f)
{
    in->flops.utilisation = scale_capped(in->flops.utilisation, f, 1.0);
}
static void bump_flops_power(struct core_estimate_input *in, double f)
{
    in->flops.device_power_w = core_range_scale(in->flops.device_power_w, f);
}
static void bump_energy(struct core_estimate_input *in, double f)
{
    in->energy.energy_kwh = core_range_scale(in->energy.energy_kwh, f);
}
static void bump_embodied_kg(struct core_estimate_input *in, double f)
{
    in->embodied[0].embodied_kg = core_range_scale(in->embodied[0].embodied_kg, f);
    in->embodied[0].units *= f;
}
static void bump_lifetime(struct core_estimate_input *in, double f)
{
    in->embodied[0].lifetime_hours = core_range_scale(in->embodied[0].lifetime_hours, f);
}
static void bump_embodied_utilisation(struct core_estimate_input *in, double f)
{
    in->embodied[0].utilisation = scale_capped(in->embodied[0].utilisation, f, 1.0);
}

static const struct knob common_knobs[] = {
    {"pue", bump_pue, 1, 1},
    {"intensity", bump_intensity, 0, 1},
    {"embodied kg", bump_embodied_kg, 0, 1},
    {"embodied lifetime", bump_lifetime, 0, -1},
    {"embodied utilisation", bump_embodied_utilisation, 0, -1},
};
static const struct knob power_knobs[] = {
    {"hours", bump_hours, 1, 1},
    {"device count", bump_device_count, 1, 1},
    {"device power", bump_device_power, 1, 1},
    {"cpu and dram", bump_host, 1, 1},
};
static const struct knob tdp_knobs[] = {
    {"hours", bump_hours, 1, 1},
    {"device count", bump_device_count, 1, 1},
    {"tdp", bump_device_power, 1, 1},
    {"utilisation", bump_tdp_utilisation, 1, 1},
    {"memory and psf", bump_memory_and_psf, 1, 1},
};
static const struct knob flops_knobs[] = {
    {"flops", bump_flops, 1, 1},
    {"peak", bump_peak, -1, -1},
    {"utilisation", bump_flops_utilisation, -1, -1},
    {"device power", bump_flops_power, 1, 1},
};
static const struct knob energy_knobs[] = {
    {"energy", bump_energy, 1, 1},
};
static const struct knob embodied_knobs[] = {
    {"hours", bump_hours, 0, 1},
};

static void assert_moves(double before, double after, int direction, const char *what,
                         const char *knob)
{
    double slack = REL_TOL * fmax(fabs(before), fabs(after));

    if (direction > 0)
        ck_assert_msg(after >= before - slack, "%s fell when %s grew: %g -> %g", what, knob, before,
                      after);
    else if (direction < 0)
        ck_assert_msg(after <= before + slack, "%s rose when %s grew: %g -> %g", what, knob, before,
                      after);
    else
        ck_assert_msg(fabs(after - before) <= slack, "%s changed with %s: %g -> %g", what, knob,
                      before, after);
}

static void assert_range_moves(struct core_range before, struct core_range after, int direction,
                               const char *what, const char *knob)
{
    assert_moves(before.low, after.low, direction, what, knob);
    assert_moves(before.value, after.value, direction, what, knob);
    assert_moves(before.high, after.high, direction, what, knob);
}

static void check_knob(const struct core_estimate_input *base, const struct core_estimate *out,
                       const struct knob *knob)
{
    struct core_estimate_input in = *base;
    struct core_estimate bumped;
    struct core_field_error fe;
    double f = uniform(1.01, 1.5);
    enum err rc;

    knob->bump(&in, f);
    rc = core_estimate(&in, &bumped, &fe);
    if (rc == ERR_INVALID_INPUT && strstr(fe.message, "lifetime"))
        return; /* a longer run may pass the hardware lifetime; refused by design */
    ck_assert_msg(rc == ERR_OK, "%s bumped: %s %s", knob->name, fe.pointer, fe.message);
    check_invariants(&bumped);
    assert_range_moves(out->energy_kwh, bumped.energy_kwh, knob->energy_direction, "energy_kwh",
                       knob->name);
    assert_range_moves(out->co2e_kg, bumped.co2e_kg, knob->co2e_direction, "co2e_kg", knob->name);
}

static void check_knobs(const struct core_estimate_input *in, const struct core_estimate *out,
                        const struct knob *knobs, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        check_knob(in, out, &knobs[i]);
}

#define N(a) (sizeof(a) / sizeof(a)[0])

START_TEST(every_method_gives_ordered_ranges_monotone_in_each_input)
{
    enum core_method method = (enum core_method)_i;
    struct core_estimate_input in;
    struct core_estimate out;
    struct core_field_error fe;
    int n;

    rng_state = UINT64_C(0x9E3779B97F4A7C15) + (uint64_t)_i;
    for (n = 0; n < N_CASES_PER_METHOD; n++) {
        random_input(method, &in);
        ck_assert_msg(core_estimate(&in, &out, &fe) == ERR_OK, "%s case %d: %s %s",
                      core_method_name(method), n, fe.pointer, fe.message);
        check_invariants(&out);
        if (in.n_embodied > 0 || method != CORE_METHOD_EMBODIED)
            check_knobs(&in, &out, common_knobs, in.n_embodied > 0 ? N(common_knobs) : 2);
        switch (method) {
        case CORE_METHOD_POWER:
            check_knobs(&in, &out, power_knobs, N(power_knobs));
            break;
        case CORE_METHOD_TDP:
            check_knobs(&in, &out, tdp_knobs, N(tdp_knobs));
            break;
        case CORE_METHOD_FLOPS:
            check_knobs(&in, &out, flops_knobs, N(flops_knobs));
            break;
        case CORE_METHOD_ENERGY:
            check_knobs(&in, &out, energy_knobs, N(energy_knobs));
            break;
        case CORE_METHOD_EMBODIED:
            check_knobs(&in, &out, embodied_knobs, N(embodied_knobs));
            break;
        }
    }
}
END_TEST

START_TEST(inference_energy_and_parity_are_ordered_and_monotone)
{
    struct core_inference_input in;
    struct core_inference_energy e;
    struct core_parity parity, more;
    struct core_range lineage;
    int n;

    rng_state = UINT64_C(0xD1B54A32D192ED03);
    for (n = 0; n < 2000; n++) {
        memset(&in, 0, sizeof in);
        if (n % 2 == 0) {
            in.source = CORE_INFERENCE_MEASURED;
            in.kwh_per_inference = random_range(1e-9, 1e-2, 10);
        } else {
            in.source = CORE_INFERENCE_DERIVED;
            in.training_kwh = random_range(1, 1e6, 1e9);
            in.token_steps = random_range(1e6, 1e12, 1e15);
            in.has_ratio = n % 3 == 0;
            in.ratio = random_range(0.1, 2, 100);
        }
        ck_assert_int_eq(core_inference_energy(&in, "", &e, NULL), ERR_OK);
        assert_ordered(e.kwh_per_inference, "kwh_per_inference");
        lineage = random_range(1, 1e6, 1e9);
        core_parity(lineage, &e, &parity);
        ck_assert_int_ne(parity.status, CORE_PARITY_UNDEFINED);
        ck_assert_msg(parity.low <= parity.value && parity.value <= parity.high,
                      "parity not ordered");
        core_parity(core_range_scale(lineage, 2.0), &e, &more);
        ck_assert(more.low >= parity.low && more.value >= parity.value && more.high >= parity.high);
    }
}
END_TEST

static Suite *properties_suite(void)
{
    Suite *s = suite_create("core_properties");
    TCase *tc = tcase_create("random");

    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, every_method_gives_ordered_ranges_monotone_in_each_input,
                        CORE_METHOD_POWER, CORE_METHOD_EMBODIED + 1);
    tcase_add_test(tc, inference_energy_and_parity_are_ordered_and_monotone);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(properties_suite());
    int n_failed;

    srunner_run_all(runner, CK_NORMAL);
    n_failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return n_failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
