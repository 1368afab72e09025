/* SPDX-License-Identifier: Apache-2.0 */
/* POST /v1/estimates: the stateless calculator. Reads a method and its inputs
 * (each a number or a range), resolves hardware from the catalogue and the carbon
 * intensity from the region tables, runs core_estimate and answers the figures
 * with ranges, itemised parts, the resolved inputs and equivalences. The reader is
 * shared with the activities resource (api_estimate_from_json). No SQL. */
#include "api_internal.h"
#include "methodology.h"

#include <stdio.h>
#include <string.h>

#define ALLOWED_MAX       48
#define HARDWARE_NAME_MAX 95

/* Members each method reads, besides the common ones. */
static const char *const common_members[] = {"method",   "hours",    "pue", "carbon_intensity",
                                             "location", "embodied", NULL};
static const char *const power_members[] = {"power_w", "devices", "cpu_w", "dram_w", NULL};
static const char *const tdp_members[] = {"devices", "utilisation", "memory_gb", "psf", NULL};
static const char *const flops_members[] = {
    "devices",          "flops",          "parameters",  "tokens",
    "peak_flops_per_s", "device_power_w", "utilisation", NULL};
static const char *const energy_members[] = {"energy_kwh", NULL};
static const char *const no_members[] = {NULL};

static const char *const power_device_members[] = {"hardware", "count", "power_w", NULL};
static const char *const tdp_device_members[] = {"hardware", "count", "tdp_w", "utilisation", NULL};
static const char *const flops_device_members[] = {"hardware", "peak_flops_per_s", "power_w",
                                                   "tdp_w", NULL};
static const char *const embodied_members[] = {"units",          "embodied_kg", "hours",
                                               "lifetime_hours", "utilisation", NULL};

/* State of one read: the core input being filled and the resolved inputs. */
struct reader {
    struct db *db;
    const json_t *body;
    struct core_estimate_input *in;
    json_t *inputs; /* resolved inputs (owned by the reader until handed out) */
    struct api_problem *problem;
    bool is_tdp_draw;   /* power: a device's power is its catalogue TDP */
    bool is_incomplete; /* a member of inputs could not be set (no memory) */
};

/* ---- members ---- */

/* An optional number-or-range member; *has says whether it was given. */
static enum err read_range(const json_t *o, const char *prefix, const char *key, bool *has,
                           struct core_range *out, struct api_problem *problem)
{
    const json_t *v = json_object_get(o, key);
    char pointer[128];

    *has = v != NULL;
    if (v == NULL)
        return ERR_OK;
    snprintf(pointer, sizeof pointer, "%s/%s", prefix, key);
    return api_range_parse(v, pointer, out, problem);
}

/* A member that must be given, as a number or a range. */
static enum err require_range(const json_t *o, const char *prefix, const char *key,
                              const char *what, struct core_range *out, struct api_problem *problem)
{
    char pointer[128];
    bool has = false;
    enum err rc = read_range(o, prefix, key, &has, out, problem);

    if (rc != ERR_OK || has)
        return rc;
    snprintf(pointer, sizeof pointer, "%s/%s", prefix, key);
    return api_field_error(problem, pointer, "required: %s", what);
}

/* An optional member that must be a single number (counts, a TDP, psf). */
static enum err read_number(const json_t *o, const char *prefix, const char *key, bool *has,
                            double *out, struct api_problem *problem)
{
    const json_t *v = json_object_get(o, key);
    char pointer[128];

    *has = v != NULL;
    if (v == NULL)
        return ERR_OK;
    snprintf(pointer, sizeof pointer, "%s/%s", prefix, key);
    if (!json_is_number(v))
        return api_field_error(problem, pointer, "must be a single number");
    *out = json_number_value(v);
    return ERR_OK;
}

/* Sets a member of the resolved inputs; one that cannot be set (no memory) marks
 * the reading incomplete, which fails it: the inputs are stored with an activity. */
static void put(struct reader *r, json_t *o, const char *key, json_t *value)
{
    if (json_object_set_new(o, key, value) != 0)
        r->is_incomplete = true;
}

static void put_range(struct reader *r, json_t *o, const char *key, struct core_range range)
{
    put(r, o, key, api_range_json(range));
}

static void add(struct reader *r, json_t *list, json_t *value)
{
    if (json_array_append_new(list, value) != 0)
        r->is_incomplete = true;
}

/* Builds the allowed member list: common + method + caller's extras. */
static void allowed_members(const char *const *method_members, const char *const *extra,
                            const char **out)
{
    size_t n = 0;
    const char *const *lists[3] = {common_members, method_members, extra};

    for (size_t l = 0; l < 3; l++)
        for (const char *const *p = lists[l]; p && *p && n + 1 < ALLOWED_MAX; p++)
            out[n++] = *p;
    out[n] = NULL;
}

/* ---- hardware ---- */

/* Resolves prefix/hardware when given. 422 naming the closest catalogue name for
 * an unknown one. */
static enum err resolve_hardware(struct reader *r, const json_t *item, const char *prefix,
                                 struct db_hardware *out, bool *has)
{
    const json_t *name = json_object_get(item, "hardware");
    char pointer[128], closest[96];
    const char *text;
    enum err rc;

    *has = name != NULL;
    if (name == NULL)
        return ERR_OK;
    snprintf(pointer, sizeof pointer, "%s/hardware", prefix);
    if (!json_is_string(name) || json_string_length(name) == 0 ||
        json_string_length(name) > HARDWARE_NAME_MAX)
        return api_field_error(r->problem, pointer,
                               "must be a hardware name such as \"V100\" (GET /v1/hardware)");
    text = json_string_value(name);
    rc = db_hardware_find(r->db, text, out);
    if (rc == ERR_NOT_FOUND) {
        if (db_hardware_closest(r->db, text, closest, sizeof closest) == ERR_OK)
            return api_field_error(r->problem, pointer, "unknown hardware '%s'; did you mean '%s'?",
                                   text, closest);
        return api_field_error(r->problem, pointer,
                               "unknown hardware '%s': GET /v1/hardware lists the catalogue", text);
    }
    return rc;
}

/* The devices array: an array of 1 to max objects. NULL *array when absent. */
static enum err devices_array(struct reader *r, size_t max, const json_t **array)
{
    const json_t *v = json_object_get(r->body, "devices");

    *array = v;
    if (v == NULL)
        return ERR_OK;
    if (!json_is_array(v))
        return api_field_error(r->problem, "/devices", "must be an array of device groups");
    if (json_array_size(v) == 0)
        return api_field_error(r->problem, "/devices", "must list at least one device group");
    if (json_array_size(v) > max)
        return api_field_error(r->problem, "/devices", "at most %zu device group%s", max,
                               max == 1 ? " (this method takes one device type)" : "s");
    for (size_t i = 0; i < json_array_size(v); i++) {
        char pointer[64];
        snprintf(pointer, sizeof pointer, "/devices/%zu", i);
        if (!json_is_object(json_array_get(v, i)))
            return api_field_error(r->problem, pointer, "must be an object");
    }
    return ERR_OK;
}

/* Common part of one device: member check, count (when counted), hardware row. */
static enum err device_start(struct reader *r, const json_t *item, const char *prefix,
                             const char *const *members, double *count, struct db_hardware *hw,
                             bool *has_hw, json_t *resolved)
{
    bool has_count = false;
    char pointer[128];
    enum err rc;

    if (api_check_members(item, prefix, members, NULL, r->problem) != ERR_OK)
        return ERR_INVALID_INPUT;
    if (count) {
        rc = read_number(item, prefix, "count", &has_count, count, r->problem);
        if (rc != ERR_OK)
            return rc;
        snprintf(pointer, sizeof pointer, "%s/count", prefix);
        if (!has_count)
            return api_field_error(r->problem, pointer, "required: how many devices");
        put(r, resolved, "count", json_real(*count));
    }
    rc = resolve_hardware(r, item, prefix, hw, has_hw);
    if (rc == ERR_OK && *has_hw)
        put(r, resolved, "hardware", api_hardware_json(hw));
    return rc;
}

/* ---- methods ---- */

static enum err read_power_device(struct reader *r, const json_t *item, size_t i, json_t *resolved)
{
    struct core_power_device *d = &r->in->power.devices[i];
    struct db_hardware hw;
    bool has_hw = false, has_power = false;
    char prefix[32], pointer[64];
    enum err rc;

    snprintf(prefix, sizeof prefix, "/devices/%zu", i);
    rc = device_start(r, item, prefix, power_device_members, &d->count, &hw, &has_hw, resolved);
    if (rc == ERR_OK)
        rc = read_range(item, prefix, "power_w", &has_power, &d->power_w, r->problem);
    if (rc != ERR_OK)
        return rc;
    if (!has_power && !has_hw) {
        snprintf(pointer, sizeof pointer, "%s/power_w", prefix);
        return api_field_error(r->problem, pointer,
                               "required: the average draw of one device in W, or hardware to "
                               "take its catalogue TDP");
    }
    if (!has_power) {
        /* A TDP overstates the average draw: measured-h100.md, the low bound of
         * methodology.h's TDP utilisation band. */
        d->power_w = core_range_make(CORE_TDP_UTILISATION_LOW * hw.hardware.tdp_w,
                                     hw.hardware.tdp_w, hw.hardware.tdp_w);
        r->is_tdp_draw = true;
    }
    put_range(r, resolved, "power_w", d->power_w);
    put(r, resolved, "power_w_from", json_string(has_power ? "given" : "catalogue_tdp"));
    return ERR_OK;
}

static enum err read_power(struct reader *r)
{
    struct core_power_params *p = &r->in->power;
    const json_t *devices = NULL;
    enum err rc;

    rc = read_range(r->body, "", "power_w", &p->has_power_w, &p->power_w, r->problem);
    if (rc == ERR_OK)
        rc = read_range(r->body, "", "cpu_w", &p->has_cpu_w, &p->cpu_w, r->problem);
    if (rc == ERR_OK)
        rc = read_range(r->body, "", "dram_w", &p->has_dram_w, &p->dram_w, r->problem);
    if (rc == ERR_OK)
        rc = devices_array(r, CORE_MAX_DEVICES, &devices);
    if (rc != ERR_OK)
        return rc;
    if (p->has_power_w)
        put_range(r, r->inputs, "power_w", p->power_w);
    if (p->has_cpu_w)
        put_range(r, r->inputs, "cpu_w", p->cpu_w);
    if (p->has_dram_w)
        put_range(r, r->inputs, "dram_w", p->dram_w);
    if (devices == NULL)
        return ERR_OK;
    json_t *list = json_array();
    put(r, r->inputs, "devices", list);
    if (r->is_incomplete) /* list is gone */
        return ERR_NO_MEMORY;
    p->n_devices = json_array_size(devices);
    for (size_t i = 0; rc == ERR_OK && i < p->n_devices; i++) {
        json_t *resolved = json_object();
        add(r, list, resolved);
        if (r->is_incomplete) /* resolved is gone */
            return ERR_NO_MEMORY;
        rc = read_power_device(r, json_array_get(devices, i), i, resolved);
    }
    return rc;
}

static enum err read_tdp_device(struct reader *r, const json_t *item, size_t i,
                                const struct core_range *top_utilisation, json_t *resolved)
{
    struct core_tdp_device *d = &r->in->tdp.devices[i];
    struct db_hardware hw;
    bool has_hw = false, has_tdp = false;
    char prefix[32], pointer[64];
    enum err rc;

    snprintf(prefix, sizeof prefix, "/devices/%zu", i);
    rc = device_start(r, item, prefix, tdp_device_members, &d->count, &hw, &has_hw, resolved);
    if (rc == ERR_OK)
        rc = read_number(item, prefix, "tdp_w", &has_tdp, &d->tdp_w, r->problem);
    if (rc == ERR_OK)
        rc = read_range(item, prefix, "utilisation", &d->has_utilisation, &d->utilisation,
                        r->problem);
    if (rc != ERR_OK)
        return rc;
    if (!has_tdp && !has_hw) {
        snprintf(pointer, sizeof pointer, "%s/tdp_w", prefix);
        return api_field_error(r->problem, pointer,
                               "required: the TDP of one device in W, or hardware to take it "
                               "from the catalogue");
    }
    if (!has_tdp)
        d->tdp_w = hw.hardware.tdp_w;
    if (!d->has_utilisation && top_utilisation) {
        d->has_utilisation = true;
        d->utilisation = *top_utilisation;
    }
    put(r, resolved, "tdp_w", json_real(d->tdp_w));
    put(r, resolved, "tdp_w_from", json_string(has_tdp ? "given" : "catalogue"));
    if (d->has_utilisation)
        put_range(r, resolved, "utilisation", d->utilisation);
    return ERR_OK;
}

static enum err read_tdp(struct reader *r)
{
    struct core_tdp_params *p = &r->in->tdp;
    struct core_range utilisation;
    bool has_utilisation = false;
    const json_t *devices = NULL;
    enum err rc;

    rc = read_range(r->body, "", "utilisation", &has_utilisation, &utilisation, r->problem);
    if (rc == ERR_OK)
        rc = read_range(r->body, "", "memory_gb", &p->has_memory_gb, &p->memory_gb, r->problem);
    if (rc == ERR_OK)
        rc = read_number(r->body, "", "psf", &p->has_psf, &p->psf, r->problem);
    if (rc == ERR_OK)
        rc = devices_array(r, CORE_MAX_DEVICES, &devices);
    if (rc != ERR_OK)
        return rc;
    if (devices == NULL)
        return api_field_error(r->problem, "/devices",
                               "required for method tdp: [{\"hardware\": \"V100\", \"count\": 8}]");
    if (p->has_memory_gb)
        put_range(r, r->inputs, "memory_gb", p->memory_gb);
    if (p->has_psf)
        put(r, r->inputs, "psf", json_real(p->psf));
    json_t *list = json_array();
    put(r, r->inputs, "devices", list);
    if (r->is_incomplete) /* list is gone */
        return ERR_NO_MEMORY;
    p->n_devices = json_array_size(devices);
    for (size_t i = 0; rc == ERR_OK && i < p->n_devices; i++) {
        json_t *resolved = json_object();
        add(r, list, resolved);
        if (r->is_incomplete) /* resolved is gone */
            return ERR_NO_MEMORY;
        rc = read_tdp_device(r, json_array_get(devices, i), i,
                             has_utilisation ? &utilisation : NULL, resolved);
    }
    return rc;
}

/* flops: FLOPs given, or parameters and tokens. */
static enum err read_flops_total(struct reader *r)
{
    struct core_flops_params *p = &r->in->flops;
    bool has_parameters = false, has_tokens = false;
    enum err rc;

    rc = read_range(r->body, "", "flops", &p->has_flops, &p->flops, r->problem);
    if (rc == ERR_OK)
        rc = read_range(r->body, "", "parameters", &has_parameters, &p->parameters, r->problem);
    if (rc == ERR_OK)
        rc = read_range(r->body, "", "tokens", &has_tokens, &p->tokens, r->problem);
    if (rc != ERR_OK)
        return rc;
    if (p->has_flops && (has_parameters || has_tokens))
        return api_field_error(r->problem, "/flops",
                               "give either flops, or parameters and tokens, not both");
    if (p->has_flops) {
        put_range(r, r->inputs, "flops", p->flops);
        return ERR_OK;
    }
    if (!has_parameters && !has_tokens)
        return api_field_error(r->problem, "/flops",
                               "required: flops, or parameters and tokens (C = 6 N D)");
    if (!has_parameters || !has_tokens)
        return api_field_error(r->problem, has_parameters ? "/tokens" : "/parameters",
                               "required with %s", has_parameters ? "parameters" : "tokens");
    put_range(r, r->inputs, "parameters", p->parameters);
    put_range(r, r->inputs, "tokens", p->tokens);
    return ERR_OK;
}

/* flops: the one device type, from devices[0] and/or the top-level members. */
static enum err read_flops_device(struct reader *r, const json_t *item, json_t *resolved)
{
    struct core_flops_params *p = &r->in->flops;
    struct core_range peak, power;
    struct db_hardware hw;
    bool has_hw = false, has_peak = false, has_top_peak = false, has_power = false;
    bool has_top_power = false, has_tdp = false;
    double tdp_w = 0.0;
    const char *peak_from = "given";
    enum err rc = ERR_OK;

    if (item)
        rc =
            device_start(r, item, "/devices/0", flops_device_members, NULL, &hw, &has_hw, resolved);
    if (rc == ERR_OK && item)
        rc = read_range(item, "/devices/0", "peak_flops_per_s", &has_peak, &peak, r->problem);
    if (rc == ERR_OK && item)
        rc = read_range(item, "/devices/0", "power_w", &has_power, &power, r->problem);
    if (rc == ERR_OK && item)
        rc = read_number(item, "/devices/0", "tdp_w", &has_tdp, &tdp_w, r->problem);
    if (rc == ERR_OK)
        rc = read_range(r->body, "", "peak_flops_per_s", &has_top_peak, &p->peak_flops_per_s,
                        r->problem);
    if (rc == ERR_OK)
        rc = read_range(r->body, "", "device_power_w", &has_top_power, &p->device_power_w,
                        r->problem);
    if (rc != ERR_OK)
        return rc;
    if (has_peak && has_top_peak)
        return api_field_error(r->problem, "/peak_flops_per_s",
                               "given twice: here and at /devices/0/peak_flops_per_s");
    if ((has_power || has_tdp) && has_top_power)
        return api_field_error(r->problem, "/device_power_w",
                               "given twice: here and in /devices/0");
    if (has_power && has_tdp)
        return api_field_error(r->problem, "/devices/0/tdp_w",
                               "give either power_w (average draw) or tdp_w");
    if (has_peak)
        p->peak_flops_per_s = peak;
    if (!has_peak && !has_top_peak && has_hw &&
        (hw.hardware.has_peak_fp16 || hw.hardware.has_peak_fp32)) {
        /* Training runs in mixed precision: the fp16 peak where the table has one. */
        bool is_fp16 = hw.hardware.has_peak_fp16;
        p->peak_flops_per_s = core_range_exact(is_fp16 ? hw.hardware.peak_fp16_flops_per_s
                                                       : hw.hardware.peak_fp32_flops_per_s);
        peak_from = is_fp16 ? "catalogue_fp16" : "catalogue_fp32";
    } else if (!has_peak && !has_top_peak) {
        if (has_hw)
            return api_field_error(r->problem, "/peak_flops_per_s",
                                   "required: '%s' has no peak FLOP/s in the catalogue",
                                   hw.hardware.name);
        return api_field_error(r->problem, "/peak_flops_per_s",
                               "required: the peak FLOP/s of one device, or devices with a "
                               "catalogue hardware name");
    }
    if (has_power) {
        p->device_power_w = power;
    } else if (has_tdp || (!has_top_power && has_hw)) {
        p->device_power_w = core_range_exact(has_tdp ? tdp_w : hw.hardware.tdp_w);
        p->is_device_power_tdp = true;
    } else if (!has_top_power) {
        return api_field_error(r->problem, "/device_power_w",
                               "required: the average draw of one device in W, or devices with "
                               "a catalogue hardware name or tdp_w");
    }
    put_range(r, r->inputs, "peak_flops_per_s", p->peak_flops_per_s);
    put(r, r->inputs, "peak_flops_per_s_from", json_string(peak_from));
    put_range(r, r->inputs, "device_power_w", p->device_power_w);
    put(r, r->inputs, "device_power_w_from",
        json_string(p->is_device_power_tdp ? (has_tdp ? "given_tdp" : "catalogue_tdp") : "given"));
    return ERR_OK;
}

static enum err read_flops(struct reader *r)
{
    struct core_flops_params *p = &r->in->flops;
    const json_t *devices = NULL;
    json_t *resolved = NULL;
    enum err rc;

    rc = read_flops_total(r);
    if (rc == ERR_OK)
        rc = read_range(r->body, "", "utilisation", &p->has_utilisation, &p->utilisation,
                        r->problem);
    if (rc == ERR_OK)
        rc = devices_array(r, 1, &devices);
    if (rc != ERR_OK)
        return rc;
    if (p->has_utilisation)
        put_range(r, r->inputs, "utilisation", p->utilisation);
    if (devices) {
        json_t *list = json_array();
        resolved = json_object();
        add(r, list, resolved);
        put(r, r->inputs, "devices", list);
        if (r->is_incomplete) /* resolved is gone */
            return ERR_NO_MEMORY;
    }
    return read_flops_device(r, devices ? json_array_get(devices, 0) : NULL, resolved);
}

static enum err read_energy(struct reader *r)
{
    enum err rc = require_range(r->body, "", "energy_kwh", "the measured energy in kWh",
                                &r->in->energy.energy_kwh, r->problem);

    if (rc == ERR_OK)
        put_range(r, r->inputs, "energy_kwh", r->in->energy.energy_kwh);
    return rc;
}

/* ---- embodied items ---- */

static enum err read_embodied_item(struct reader *r, const json_t *item, size_t i, json_t *resolved)
{
    struct core_embodied_item *e = &r->in->embodied[i];
    bool has_units = false;
    char prefix[32], pointer[64];
    enum err rc;

    snprintf(prefix, sizeof prefix, "/embodied/%zu", i);
    if (!json_is_object(item))
        return api_field_error(r->problem, prefix, "must be an object");
    if (api_check_members(item, prefix, embodied_members, NULL, r->problem) != ERR_OK)
        return ERR_INVALID_INPUT;
    rc = read_number(item, prefix, "units", &has_units, &e->units, r->problem);
    if (rc == ERR_OK && !has_units) {
        snprintf(pointer, sizeof pointer, "%s/units", prefix);
        rc = api_field_error(r->problem, pointer, "required: how many units");
    }
    if (rc == ERR_OK)
        rc = require_range(item, prefix, "embodied_kg", "manufacturing CO2e of one unit in kg",
                           &e->embodied_kg, r->problem);
    if (rc == ERR_OK)
        rc = read_range(item, prefix, "hours", &e->has_hours, &e->hours, r->problem);
    if (rc == ERR_OK)
        rc = read_range(item, prefix, "lifetime_hours", &e->has_lifetime_hours, &e->lifetime_hours,
                        r->problem);
    if (rc == ERR_OK)
        rc = read_range(item, prefix, "utilisation", &e->has_utilisation, &e->utilisation,
                        r->problem);
    if (rc != ERR_OK)
        return rc;
    put(r, resolved, "units", json_real(e->units));
    put_range(r, resolved, "embodied_kg", e->embodied_kg);
    if (e->has_hours)
        put_range(r, resolved, "hours", e->hours);
    if (e->has_lifetime_hours)
        put_range(r, resolved, "lifetime_hours", e->lifetime_hours);
    if (e->has_utilisation)
        put_range(r, resolved, "utilisation", e->utilisation);
    return ERR_OK;
}

static enum err read_embodied(struct reader *r)
{
    const json_t *items = json_object_get(r->body, "embodied");
    json_t *list;
    enum err rc = ERR_OK;

    if (items == NULL)
        return ERR_OK;
    if (!json_is_array(items))
        return api_field_error(r->problem, "/embodied", "must be an array of embodied items");
    if (json_array_size(items) > CORE_MAX_EMBODIED)
        return api_field_error(r->problem, "/embodied", "at most %d embodied items",
                               CORE_MAX_EMBODIED);
    list = json_array();
    put(r, r->inputs, "embodied", list);
    if (r->is_incomplete) /* list is gone */
        return ERR_NO_MEMORY;
    r->in->n_embodied = json_array_size(items);
    for (size_t i = 0; rc == ERR_OK && i < r->in->n_embodied; i++) {
        json_t *resolved = json_object();
        add(r, list, resolved);
        if (r->is_incomplete) /* resolved is gone */
            return ERR_NO_MEMORY;
        rc = read_embodied_item(r, json_array_get(items, i), i, resolved);
    }
    return rc;
}

/* ---- the reader ---- */

static enum err read_method(const json_t *body, enum core_method *method,
                            struct api_problem *problem)
{
    const json_t *v = json_object_get(body, "method");

    if (!json_is_string(v))
        return api_field_error(problem, "/method",
                               "required: power, tdp, flops, energy or embodied");
    if (core_method_parse(json_string_value(v), method) != ERR_OK)
        return api_field_error(problem, "/method",
                               "unknown method '%s': power, tdp, flops, energy or embodied",
                               json_string_value(v));
    return ERR_OK;
}

static const char *const *method_members(enum core_method method)
{
    switch (method) {
    case CORE_METHOD_POWER:
        return power_members;
    case CORE_METHOD_TDP:
        return tdp_members;
    case CORE_METHOD_FLOPS:
        return flops_members;
    case CORE_METHOD_ENERGY:
        return energy_members;
    case CORE_METHOD_EMBODIED:
        return no_members;
    }
    return no_members;
}

static enum err read_method_inputs(struct reader *r)
{
    switch (r->in->method) {
    case CORE_METHOD_POWER:
        return read_power(r);
    case CORE_METHOD_TDP:
        return read_tdp(r);
    case CORE_METHOD_FLOPS:
        return read_flops(r);
    case CORE_METHOD_ENERGY:
        return read_energy(r);
    case CORE_METHOD_EMBODIED:
        return ERR_OK;
    }
    return ERR_INTERNAL;
}

/* Everything but the core run: method, members, common inputs, method inputs,
 * embodied items, intensity. */
static enum err read_all(struct reader *r, const char *const *extra_members)
{
    const char *allowed[ALLOWED_MAX];
    struct core_estimate_input *in = r->in;
    enum core_method method;
    enum err rc;

    if (!json_is_object(r->body))
        return api_field_error(r->problem, "", "must be a JSON object");
    rc = read_method(r->body, &method, r->problem);
    if (rc != ERR_OK)
        return rc;
    core_estimate_input_init(in, method);
    put(r, r->inputs, "method", json_string(core_method_name(method)));
    allowed_members(method_members(method), extra_members, allowed);
    if (api_check_members(r->body, "", allowed, NULL, r->problem) != ERR_OK)
        return ERR_INVALID_INPUT;
    rc = read_range(r->body, "", "hours", &in->has_hours, &in->hours, r->problem);
    if (rc == ERR_OK)
        rc = read_range(r->body, "", "pue", &in->has_pue, &in->pue, r->problem);
    if (rc == ERR_OK)
        rc = read_method_inputs(r);
    if (rc == ERR_OK)
        rc = read_embodied(r);
    if (rc == ERR_OK)
        rc = api_intensity_parse(r->db, r->body, "", &in->intensity, r->problem);
    if (rc != ERR_OK)
        return rc;
    in->has_intensity = json_object_get(r->body, "carbon_intensity") != NULL ||
                        json_object_get(r->body, "location") != NULL;
    if (in->has_hours)
        put_range(r, r->inputs, "hours", in->hours);
    return ERR_OK;
}

enum err api_estimate_from_json(struct db *db, const json_t *body, const char *const *extra_members,
                                struct core_estimate *out, json_t **inputs_out,
                                struct api_problem *problem)
{
    struct core_estimate_input in;
    struct core_estimate estimate;
    struct core_field_error fe;
    struct reader r = {.db = db, .body = body, .in = &in, .problem = problem};
    const json_t *location = json_object_get(body, "location");
    enum err rc;

    r.inputs = json_object();
    if (r.inputs == NULL)
        return ERR_NO_MEMORY;
    rc = read_all(&r, extra_members);
    core_field_error_clear(&fe);
    if (rc == ERR_OK && core_estimate(&in, &estimate, &fe) != ERR_OK)
        rc = api_field_from_core(problem, &fe);
    if (rc != ERR_OK) {
        json_decref(r.inputs);
        return rc;
    }
    if (r.is_tdp_draw)
        estimate.defaults_used |= CORE_DEFAULT_TDP_DRAW;
    if (estimate.has_pue)
        put_range(&r, r.inputs, "pue", estimate.pue);
    if (json_is_string(location))
        put(&r, r.inputs, "location", json_string(json_string_value(location)));
    put(&r, r.inputs, "intensity", api_intensity_provenance_json(db, &estimate.intensity));
    if (r.is_incomplete) {
        json_decref(r.inputs);
        return ERR_NO_MEMORY;
    }
    *out = estimate;
    *inputs_out = r.inputs;
    return ERR_OK;
}

static json_t *parts_json(const struct core_estimate *e)
{
    json_t *parts = json_array();

    for (size_t i = 0; parts && i < e->n_parts; i++) {
        const struct core_part *p = &e->parts[i];
        api_json_append(&parts,
                        json_pack("{s:s, s:s, s:s, s:o, s:o}", "name", p->name, "input",
                                  p->input_pointer, "kind",
                                  p->kind == CORE_PART_EMBODIED ? "embodied" : "operational",
                                  "energy_kwh", api_range_json(p->energy_kwh), "co2e_kg",
                                  api_range_json(p->co2e_kg)));
    }
    return parts;
}

static json_t *defaults_json(unsigned defaults_used)
{
    json_t *names = json_array();

    for (unsigned i = 0; names && i < CORE_DEFAULT_COUNT; i++)
        if (defaults_used & (1u << i))
            api_json_append(&names, json_string(core_default_name(1u << i)));
    return names;
}

json_t *api_estimate_json(const struct core_estimate *estimate, json_t *inputs)
{
    const struct core_estimate *e = estimate;
    json_t *o = json_pack(
        "{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s}", "method", core_method_name(e->method),
        "energy_kwh", api_range_json(e->energy_kwh), "co2e_kg", api_range_json(e->co2e_kg),
        "operational_co2e_kg", api_range_json(e->operational_co2e_kg), "embodied_co2e_kg",
        api_range_json(e->embodied_co2e_kg), "parts", parts_json(e), "inputs",
        inputs ? inputs : json_object(), "defaults_used", defaults_json(e->defaults_used),
        "equivalences", api_equivalences_json(e->co2e_kg), "methodology_version",
        e->methodology_version);

    if (e->has_device_hours)
        api_json_set(&o, "device_hours", api_range_json(e->device_hours));
    return o;
}

enum err api_estimates_post(struct api_service *s, const struct api_request *req,
                            struct api_reply *reply)
{
    static const char *const no_query[] = {NULL};
    struct core_estimate estimate;
    json_t *inputs = NULL;
    struct db *db = req->db;
    enum err rc;

    (void)s;
    rc = api_check_query(req, no_query, &reply->problem);
    if (rc == ERR_OK)
        rc = db_read_begin(db);
    if (rc != ERR_OK)
        return rc;
    rc = api_estimate_from_json(db, req->body, NULL, &estimate, &inputs, &reply->problem);
    db_read_end(db);
    if (rc != ERR_OK)
        return rc;
    return api_reply_json(reply, 200, api_estimate_json(&estimate, inputs));
}
