/* SPDX-License-Identifier: Apache-2.0 */
/* Estimation methods over plain structs. Validates every input against the bounds
 * below, propagates ranges by evaluating at the bounds, and itemises the result.
 * No I/O, no allocation. */
#include "estimate.h"

#include "methodology.h"
#include "units.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

/* Admissible inputs. Limits far beyond any real run catch unit mistakes (W given as
 * mW, seconds as hours) without refusing real ones: Strubell's NAS is 274,120 h. */
static const struct core_bounds hours_bounds = {0.0, 1e7, true};
static const struct core_bounds pue_bounds = {1.0, 3.0, false};
static const struct core_bounds total_power_bounds = {0.0, 1e9, true};
static const struct core_bounds device_power_bounds = {0.0, 1e5, true};
static const struct core_bounds host_power_bounds = {0.0, 1e9, false};
static const struct core_bounds count_bounds = {0.0, 1e7, true};
static const struct core_bounds fraction_bounds = {0.0, 1.0, true};
static const struct core_bounds memory_bounds = {0.0, 1e9, false};
static const struct core_bounds psf_bounds = {1.0, 1e6, false};
static const struct core_bounds flops_bounds = {0.0, 1e32, true};
static const struct core_bounds parameters_bounds = {0.0, 1e15, true};
static const struct core_bounds tokens_bounds = {0.0, 1e16, true};
static const struct core_bounds peak_bounds = {0.0, 1e18, true};
static const struct core_bounds energy_bounds = {0.0, 1e12, true};
static const struct core_bounds embodied_kg_bounds = {0.0, 1e7, true};
static const struct core_bounds lifetime_bounds = {0.0, 1e6, true};

/* Working state of one estimate: the resolved run-wide factors. */
struct run {
    const struct core_estimate_input *in;
    struct core_estimate *out;
    struct core_field_error *fe;
    /* hours x PUE x PSF / 1000: multiplies a power in W into kWh. */
    struct core_range kwh_per_w;
};

void core_estimate_input_init(struct core_estimate_input *in, enum core_method method)
{
    assert(in);
    memset(in, 0, sizeof *in);
    in->method = method;
}

static enum err check_scalar(double x, struct core_bounds bounds, const char *pointer,
                             struct core_field_error *fe)
{
    return core_range_check(core_range_exact(x), bounds, pointer, fe);
}

static enum err require(bool is_present, const char *pointer, const char *what,
                        struct core_field_error *fe)
{
    if (is_present)
        return ERR_OK;
    core_field_error_set(fe, pointer, "%s", what);
    return ERR_INVALID_INPUT;
}

static enum err add_part(struct run *run, const char *name, const char *input_pointer,
                         enum core_part_kind kind, struct core_range energy_kwh,
                         struct core_range co2e_kg)
{
    struct core_part *part;

    if (run->out->n_parts >= CORE_MAX_PARTS) {
        core_field_error_set(run->fe, input_pointer, "too many parts");
        return ERR_INVALID_INPUT;
    }
    part = &run->out->parts[run->out->n_parts++];
    part->name = name;
    snprintf(part->input_pointer, sizeof part->input_pointer, "%s", input_pointer);
    part->kind = kind;
    part->energy_kwh = energy_kwh;
    part->co2e_kg = co2e_kg;
    return ERR_OK;
}

/* An operational part: energy given, CO2e = kWh x intensity. */
static enum err add_energy_part(struct run *run, const char *name, const char *input_pointer,
                                struct core_range energy_kwh)
{
    struct core_range co2e_kg = core_range_mul(energy_kwh, run->out->intensity.kg_per_kwh);

    return add_part(run, name, input_pointer, CORE_PART_OPERATIONAL, energy_kwh, co2e_kg);
}

/* An operational part from an average power in W over the run's hours. */
static enum err add_power_part(struct run *run, const char *name, const char *input_pointer,
                               struct core_range power_w)
{
    return add_energy_part(run, name, input_pointer, core_range_mul(power_w, run->kwh_per_w));
}

static enum err resolve_pue(struct run *run, double default_value, double default_low,
                            double default_high)
{
    enum err rc;

    run->out->has_pue = true;
    if (run->in->has_pue) {
        rc = core_range_check(run->in->pue, pue_bounds, "/pue", run->fe);
        if (rc != ERR_OK)
            return rc;
        run->out->pue = run->in->pue;
        return ERR_OK;
    }
    run->out->pue = core_range_make(default_low, default_value, default_high);
    run->out->defaults_used |= CORE_DEFAULT_PUE;
    return ERR_OK;
}

static enum err check_hours(struct run *run)
{
    enum err rc =
        require(run->in->has_hours, "/hours", "hours is required for this method", run->fe);

    if (rc != ERR_OK)
        return rc;
    return core_range_check(run->in->hours, hours_bounds, "/hours", run->fe);
}

/* kwh_per_w = hours x PUE x psf / 1000, for the power-based methods. */
static void set_kwh_per_w(struct run *run, double psf)
{
    run->kwh_per_w =
        core_range_scale(core_range_mul(run->in->hours, run->out->pue), core_wh_to_kwh(psf));
}

static enum err add_host_parts(struct run *run, const struct core_power_params *p)
{
    enum err rc;

    if (p->has_cpu_w) {
        rc = core_range_check(p->cpu_w, host_power_bounds, "/cpu_w", run->fe);
        if (rc != ERR_OK)
            return rc;
        rc = add_power_part(run, "cpu", "/cpu_w", p->cpu_w);
        if (rc != ERR_OK)
            return rc;
    }
    if (p->has_dram_w) {
        rc = core_range_check(p->dram_w, host_power_bounds, "/dram_w", run->fe);
        if (rc != ERR_OK)
            return rc;
        rc = add_power_part(run, "dram", "/dram_w", p->dram_w);
        if (rc != ERR_OK)
            return rc;
    }
    return ERR_OK;
}

static enum err estimate_power(struct run *run)
{
    const struct core_power_params *p = &run->in->power;
    char pointer[64];
    enum err rc;
    size_t i;

    rc = check_hours(run);
    if (rc == ERR_OK)
        rc = resolve_pue(run, CORE_PUE_DEFAULT, CORE_PUE_DEFAULT_LOW, CORE_PUE_DEFAULT_HIGH);
    if (rc != ERR_OK)
        return rc;
    if (p->has_power_w && p->n_devices > 0) {
        core_field_error_set(run->fe, "/devices", "give either power_w or devices, not both");
        return ERR_INVALID_INPUT;
    }
    rc = require(p->has_power_w || p->n_devices > 0, "/power_w",
                 "power_w or devices is required for method power", run->fe);
    if (rc != ERR_OK)
        return rc;
    assert(p->n_devices <= CORE_MAX_DEVICES);
    set_kwh_per_w(run, CORE_PSF_DEFAULT);

    if (p->has_power_w) {
        rc = core_range_check(p->power_w, total_power_bounds, "/power_w", run->fe);
        if (rc == ERR_OK)
            rc = add_power_part(run, "system", "/power_w", p->power_w);
        if (rc != ERR_OK)
            return rc;
    }
    for (i = 0; i < p->n_devices; i++) {
        snprintf(pointer, sizeof pointer, "/devices/%zu/count", i);
        rc = check_scalar(p->devices[i].count, count_bounds, pointer, run->fe);
        if (rc != ERR_OK)
            return rc;
        snprintf(pointer, sizeof pointer, "/devices/%zu/power_w", i);
        rc = core_range_check(p->devices[i].power_w, device_power_bounds, pointer, run->fe);
        if (rc != ERR_OK)
            return rc;
        snprintf(pointer, sizeof pointer, "/devices/%zu", i);
        rc = add_power_part(run, "device", pointer,
                            core_range_scale(p->devices[i].power_w, p->devices[i].count));
        if (rc != ERR_OK)
            return rc;
    }
    return add_host_parts(run, p);
}

/* Utilisation of a TDP device: given, or the documented default band. */
static enum err tdp_utilisation(struct run *run, const struct core_tdp_device *d, size_t i,
                                struct core_range *out)
{
    char pointer[64];

    if (!d->has_utilisation) {
        *out = core_range_make(CORE_TDP_UTILISATION_LOW, CORE_TDP_UTILISATION_DEFAULT,
                               CORE_TDP_UTILISATION_HIGH);
        run->out->defaults_used |= CORE_DEFAULT_TDP_UTILISATION;
        return ERR_OK;
    }
    snprintf(pointer, sizeof pointer, "/devices/%zu/utilisation", i);
    *out = d->utilisation;
    return core_range_check(d->utilisation, fraction_bounds, pointer, run->fe);
}

static enum err estimate_tdp(struct run *run)
{
    const struct core_tdp_params *p = &run->in->tdp;
    struct core_range utilisation;
    double psf = CORE_PSF_DEFAULT;
    char pointer[64];
    enum err rc;
    size_t i;

    rc = check_hours(run);
    if (rc == ERR_OK)
        rc = resolve_pue(run, CORE_PUE_DEFAULT, CORE_PUE_DEFAULT_LOW, CORE_PUE_DEFAULT_HIGH);
    if (rc == ERR_OK)
        rc = require(p->n_devices > 0, "/devices", "devices is required for method tdp", run->fe);
    if (rc != ERR_OK)
        return rc;
    assert(p->n_devices <= CORE_MAX_DEVICES);
    if (p->has_psf) {
        rc = check_scalar(p->psf, psf_bounds, "/psf", run->fe);
        if (rc != ERR_OK)
            return rc;
        psf = p->psf;
    } else {
        run->out->defaults_used |= CORE_DEFAULT_PSF;
    }
    set_kwh_per_w(run, psf);

    for (i = 0; i < p->n_devices; i++) {
        const struct core_tdp_device *d = &p->devices[i];

        snprintf(pointer, sizeof pointer, "/devices/%zu/count", i);
        rc = check_scalar(d->count, count_bounds, pointer, run->fe);
        if (rc != ERR_OK)
            return rc;
        snprintf(pointer, sizeof pointer, "/devices/%zu/tdp_w", i);
        rc = check_scalar(d->tdp_w, device_power_bounds, pointer, run->fe);
        if (rc == ERR_OK)
            rc = tdp_utilisation(run, d, i, &utilisation);
        if (rc != ERR_OK)
            return rc;
        snprintf(pointer, sizeof pointer, "/devices/%zu", i);
        rc = add_power_part(run, "device", pointer,
                            core_range_scale(utilisation, d->count * d->tdp_w));
        if (rc != ERR_OK)
            return rc;
    }
    if (p->has_memory_gb) {
        rc = core_range_check(p->memory_gb, memory_bounds, "/memory_gb", run->fe);
        if (rc == ERR_OK)
            rc = add_power_part(run, "memory", "/memory_gb",
                                core_range_scale(p->memory_gb, CORE_MEMORY_W_PER_GB));
        if (rc != ERR_OK)
            return rc;
    }
    return ERR_OK;
}

/* FLOPs: given, or C = 6 N D. */
static enum err flops_total(struct run *run, const struct core_flops_params *p,
                            struct core_range *out)
{
    enum err rc;

    if (p->has_flops) {
        *out = p->flops;
        return core_range_check(p->flops, flops_bounds, "/flops", run->fe);
    }
    rc = core_range_check(p->parameters, parameters_bounds, "/parameters", run->fe);
    if (rc == ERR_OK)
        rc = core_range_check(p->tokens, tokens_bounds, "/tokens", run->fe);
    if (rc != ERR_OK)
        return rc;
    *out =
        core_range_scale(core_range_mul(p->parameters, p->tokens), CORE_FLOPS_PER_PARAMETER_TOKEN);
    return ERR_OK;
}

static enum err flops_device_power(struct run *run, const struct core_flops_params *p,
                                   struct core_range *out)
{
    enum err rc =
        core_range_check(p->device_power_w, device_power_bounds, "/device_power_w", run->fe);

    if (rc != ERR_OK)
        return rc;
    *out = p->device_power_w;
    if (!p->is_device_power_tdp)
        return ERR_OK;
    if (!core_range_is_exact(p->device_power_w)) {
        core_field_error_set(run->fe, "/device_power_w", "a TDP must be a single number");
        return ERR_INVALID_INPUT;
    }
    *out = core_range_scale(core_range_make(CORE_TDP_UTILISATION_LOW, CORE_TDP_UTILISATION_DEFAULT,
                                            CORE_TDP_UTILISATION_HIGH),
                            p->device_power_w.value);
    run->out->defaults_used |= CORE_DEFAULT_TDP_DRAW;
    return ERR_OK;
}

static enum err estimate_flops(struct run *run)
{
    const struct core_flops_params *p = &run->in->flops;
    struct core_range flops, utilisation, power_w, device_seconds;
    enum err rc;

    rc = resolve_pue(run, CORE_PUE_DEFAULT, CORE_PUE_DEFAULT_LOW, CORE_PUE_DEFAULT_HIGH);
    if (rc == ERR_OK)
        rc = flops_total(run, p, &flops);
    if (rc == ERR_OK)
        rc = core_range_check(p->peak_flops_per_s, peak_bounds, "/peak_flops_per_s", run->fe);
    if (rc != ERR_OK)
        return rc;
    if (p->has_utilisation) {
        rc = core_range_check(p->utilisation, fraction_bounds, "/utilisation", run->fe);
        if (rc != ERR_OK)
            return rc;
        utilisation = p->utilisation;
    } else {
        utilisation = core_range_make(CORE_FLOPS_UTILISATION_LOW, CORE_FLOPS_UTILISATION_DEFAULT,
                                      CORE_FLOPS_UTILISATION_HIGH);
        run->out->defaults_used |= CORE_DEFAULT_FLOPS_UTILISATION;
    }
    rc = flops_device_power(run, p, &power_w);
    if (rc != ERR_OK)
        return rc;

    /* Device-seconds fall as peak or utilisation rise: core_range_div puts the high
     * denominator under the low numerator. */
    device_seconds = core_range_div(flops, core_range_mul(p->peak_flops_per_s, utilisation));
    run->out->has_device_hours = true;
    run->out->device_hours = core_range_scale(device_seconds, 1.0 / CORE_SECONDS_PER_HOUR);
    run->kwh_per_w = core_range_scale(core_range_mul(run->out->device_hours, run->out->pue),
                                      core_wh_to_kwh(1.0));
    return add_power_part(run, "compute", "/flops", power_w);
}

static enum err estimate_energy(struct run *run)
{
    const struct core_energy_params *p = &run->in->energy;
    enum err rc;

    rc = resolve_pue(run, CORE_PUE_MEASURED_DEFAULT, CORE_PUE_MEASURED_DEFAULT,
                     CORE_PUE_MEASURED_DEFAULT);
    if (rc == ERR_OK)
        rc = core_range_check(p->energy_kwh, energy_bounds, "/energy_kwh", run->fe);
    if (rc != ERR_OK)
        return rc;
    return add_energy_part(run, "measured", "/energy_kwh",
                           core_range_mul(p->energy_kwh, run->out->pue));
}

/* Hours, lifetime and utilisation of one embodied item, defaults applied. */
static enum err embodied_terms(struct run *run, const struct core_embodied_item *item, size_t i,
                               struct core_range *hours, struct core_range *lifetime,
                               struct core_range *utilisation)
{
    char pointer[64];
    enum err rc;

    snprintf(pointer, sizeof pointer, "/embodied/%zu/hours", i);
    if (item->has_hours) {
        *hours = item->hours;
        rc = core_range_check(item->hours, hours_bounds, pointer, run->fe);
    } else {
        *hours = run->in->hours;
        rc = require(run->in->has_hours, pointer, "hours is required (here or at /hours)", run->fe);
        if (rc == ERR_OK)
            rc = core_range_check(run->in->hours, hours_bounds, "/hours", run->fe);
    }
    if (rc != ERR_OK)
        return rc;
    snprintf(pointer, sizeof pointer, "/embodied/%zu/lifetime_hours", i);
    if (item->has_lifetime_hours) {
        *lifetime = item->lifetime_hours;
        rc = core_range_check(item->lifetime_hours, lifetime_bounds, pointer, run->fe);
        if (rc != ERR_OK)
            return rc;
    } else {
        *lifetime = core_range_make(CORE_EMBODIED_LIFETIME_HOURS_LOW, CORE_EMBODIED_LIFETIME_HOURS,
                                    CORE_EMBODIED_LIFETIME_HOURS_HIGH);
        run->out->defaults_used |= CORE_DEFAULT_EMBODIED_LIFETIME;
    }
    /* A run cannot use more than the whole life of the hardware. */
    if (hours->high > lifetime->low) {
        snprintf(pointer, sizeof pointer, "/embodied/%zu/hours", i);
        core_field_error_set(run->fe, pointer, "hours (%g) exceed the hardware lifetime (%g h)",
                             hours->high, lifetime->low);
        return ERR_INVALID_INPUT;
    }
    snprintf(pointer, sizeof pointer, "/embodied/%zu/utilisation", i);
    if (item->has_utilisation) {
        *utilisation = item->utilisation;
        return core_range_check(item->utilisation, fraction_bounds, pointer, run->fe);
    }
    *utilisation = core_range_exact(CORE_EMBODIED_UTILISATION);
    run->out->defaults_used |= CORE_DEFAULT_EMBODIED_UTILISATION;
    return ERR_OK;
}

/* Embodied share (BLOOM study; SCI's M = TE x TiR/EL): units x kg x hours /
 * (lifetime x utilisation). */
static enum err add_embodied(struct run *run)
{
    struct core_range hours, lifetime, utilisation, kg;
    char pointer[64];
    enum err rc;
    size_t i;

    assert(run->in->n_embodied <= CORE_MAX_EMBODIED);
    for (i = 0; i < run->in->n_embodied; i++) {
        const struct core_embodied_item *item = &run->in->embodied[i];

        snprintf(pointer, sizeof pointer, "/embodied/%zu/units", i);
        rc = check_scalar(item->units, count_bounds, pointer, run->fe);
        if (rc != ERR_OK)
            return rc;
        snprintf(pointer, sizeof pointer, "/embodied/%zu/embodied_kg", i);
        rc = core_range_check(item->embodied_kg, embodied_kg_bounds, pointer, run->fe);
        if (rc == ERR_OK)
            rc = embodied_terms(run, item, i, &hours, &lifetime, &utilisation);
        if (rc != ERR_OK)
            return rc;
        kg = core_range_div(core_range_mul(core_range_scale(item->embodied_kg, item->units), hours),
                            core_range_mul(lifetime, utilisation));
        snprintf(pointer, sizeof pointer, "/embodied/%zu", i);
        rc = add_part(run, "embodied", pointer, CORE_PART_EMBODIED, core_range_zero(), kg);
        if (rc != ERR_OK)
            return rc;
    }
    return ERR_OK;
}

static enum err resolve_intensity(struct run *run)
{
    if (!run->in->has_intensity) {
        run->out->intensity = core_intensity_default();
        run->out->defaults_used |= CORE_DEFAULT_INTENSITY;
        return ERR_OK;
    }
    run->out->intensity = run->in->intensity;
    return core_intensity_check(&run->in->intensity, "/carbon_intensity", run->fe);
}

static enum err estimate_operational(struct run *run)
{
    switch (run->in->method) {
    case CORE_METHOD_POWER:
        return estimate_power(run);
    case CORE_METHOD_TDP:
        return estimate_tdp(run);
    case CORE_METHOD_FLOPS:
        return estimate_flops(run);
    case CORE_METHOD_ENERGY:
        return estimate_energy(run);
    case CORE_METHOD_EMBODIED:
        return require(run->in->n_embodied > 0, "/embodied",
                       "embodied items are required for method embodied", run->fe);
    }
    core_field_error_set(run->fe, "/method", "unknown method");
    return ERR_INVALID_INPUT;
}

static void sum_parts(struct core_estimate *out)
{
    size_t i;

    out->energy_kwh = core_range_zero();
    out->operational_co2e_kg = core_range_zero();
    out->embodied_co2e_kg = core_range_zero();
    for (i = 0; i < out->n_parts; i++) {
        const struct core_part *part = &out->parts[i];

        out->energy_kwh = core_range_add(out->energy_kwh, part->energy_kwh);
        if (part->kind == CORE_PART_EMBODIED)
            out->embodied_co2e_kg = core_range_add(out->embodied_co2e_kg, part->co2e_kg);
        else
            out->operational_co2e_kg = core_range_add(out->operational_co2e_kg, part->co2e_kg);
    }
    out->co2e_kg = core_range_add(out->operational_co2e_kg, out->embodied_co2e_kg);
}

enum err core_estimate(const struct core_estimate_input *in, struct core_estimate *out,
                       struct core_field_error *fe)
{
    struct core_estimate result;
    struct run run;
    enum err rc;

    assert(in && out);
    memset(&result, 0, sizeof result);
    result.method = in->method;
    result.methodology_version = CORE_METHODOLOGY_VERSION;
    run.in = in;
    run.out = &result;
    run.fe = fe;
    run.kwh_per_w = core_range_zero();

    rc = resolve_intensity(&run);
    if (rc == ERR_OK)
        rc = estimate_operational(&run);
    if (rc == ERR_OK)
        rc = add_embodied(&run);
    if (rc != ERR_OK)
        return rc;
    sum_parts(&result);
    assert(core_range_is_ordered(result.energy_kwh) && core_range_is_ordered(result.co2e_kg));
    *out = result;
    return ERR_OK;
}

static const char *const method_names[] = {
    [CORE_METHOD_POWER] = "power",       [CORE_METHOD_TDP] = "tdp",
    [CORE_METHOD_FLOPS] = "flops",       [CORE_METHOD_ENERGY] = "energy",
    [CORE_METHOD_EMBODIED] = "embodied",
};

#define N_METHODS (sizeof method_names / sizeof method_names[0])

const char *core_method_name(enum core_method method)
{
    assert((size_t)method < N_METHODS);
    return method_names[method];
}

enum err core_method_parse(const char *name, enum core_method *out)
{
    size_t i;

    assert(out);
    for (i = 0; name && i < N_METHODS; i++) {
        if (strcmp(method_names[i], name) == 0) {
            *out = (enum core_method)i;
            return ERR_OK;
        }
    }
    return ERR_INVALID_INPUT;
}

static const char *const default_names[CORE_DEFAULT_COUNT] = {
    "pue", "carbon_intensity", "utilisation",          "flops_utilisation",
    "psf", "lifetime_hours",   "embodied_utilisation", "device_power_draw",
};

const char *core_default_name(unsigned flag)
{
    unsigned i;

    for (i = 0; i < CORE_DEFAULT_COUNT; i++) {
        if (flag == (1u << i))
            return default_names[i];
    }
    return NULL;
}
