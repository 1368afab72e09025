/* SPDX-License-Identifier: Apache-2.0 */
/* Estimation methods: energy (kWh) and CO2e (kg) of one run from its inputs, as
 * ranges, itemised into operational and embodied parts. Formulas and defaults are
 * listed in methodology.h/.c. Pure: no I/O, no allocation. */
#ifndef CORE_ESTIMATE_H
#define CORE_ESTIMATE_H

#include "err.h"
#include "intensity.h"
#include "range.h"

#include <stdbool.h>
#include <stddef.h>

#define CORE_MAX_DEVICES  16
#define CORE_MAX_EMBODIED 16
/* devices + cpu + dram + memory/system + embodied items */
#define CORE_MAX_PARTS (CORE_MAX_DEVICES + CORE_MAX_EMBODIED + 4)

enum core_method {
    CORE_METHOD_POWER,    /* average power x hours x PUE */
    CORE_METHOD_TDP,      /* catalogue TDP x utilisation (+ memory) x hours x PUE x PSF */
    CORE_METHOD_FLOPS,    /* FLOPs / (peak x utilisation) -> device-hours x W x PUE */
    CORE_METHOD_ENERGY,   /* measured kWh (x PUE when given) */
    CORE_METHOD_EMBODIED, /* manufacturing share only, no energy */
};

/* power: one group of identical devices. Request fields /devices/i/count and
 * /devices/i/power_w (average draw of one device, W). */
struct core_power_device {
    double count; /* > 0; fractions describe shared devices */
    struct core_range power_w;
};

/* power: either power_w (/power_w, the average draw of everything not listed in
 * cpu_w and dram_w, e.g. Strubell's whole-system figure) or devices, plus optional
 * cpu_w (/cpu_w, all CPU sockets) and dram_w (/dram_w). Strubell 2019 s. 2:
 * p_t = PUE t (p_c + p_r + g p_g) / 1000; Patterson 2021: chips x W x hours x PUE. */
struct core_power_params {
    bool has_power_w;
    struct core_range power_w;
    size_t n_devices;
    struct core_power_device devices[CORE_MAX_DEVICES];
    bool has_cpu_w;
    struct core_range cpu_w;
    bool has_dram_w;
    struct core_range dram_w;
};

/* tdp: one group of devices with the catalogue TDP (resolved by api), fields
 * /devices/i/count, /devices/i/tdp_w, /devices/i/utilisation (fraction of TDP drawn,
 * (0, 1]; default CORE_TDP_UTILISATION_* in methodology.h). */
struct core_tdp_device {
    double count;
    double tdp_w;
    bool has_utilisation;
    struct core_range utilisation;
};

/* tdp (Green Algorithms): (sum count x TDP x utilisation + memory_gb x 0.3725)
 * x hours x PUE x PSF / 1000. memory_gb is memory available (/memory_gb); psf the
 * number of identical runs (/psf, default 1). */
struct core_tdp_params {
    size_t n_devices;
    struct core_tdp_device devices[CORE_MAX_DEVICES];
    bool has_memory_gb;
    struct core_range memory_gb;
    bool has_psf;
    double psf;
};

/* flops: FLOPs given (/flops) or 6 x parameters x tokens (/parameters, /tokens);
 * peak FLOP/s of one device (/peak_flops_per_s), achieved fraction of that peak
 * (/utilisation, default CORE_FLOPS_UTILISATION_*), and the power of one device
 * (/device_power_w). When is_device_power_tdp is set the power is a catalogue TDP
 * and must be exact; its low bound becomes CORE_TDP_UTILISATION_LOW x TDP. */
struct core_flops_params {
    bool has_flops;
    struct core_range flops;
    struct core_range parameters;
    struct core_range tokens;
    struct core_range peak_flops_per_s;
    bool has_utilisation;
    struct core_range utilisation;
    struct core_range device_power_w;
    bool is_device_power_tdp;
};

/* energy: measured energy (/energy_kwh). */
struct core_energy_params {
    struct core_range energy_kwh;
};

/* One embodied item (/embodied/i/...): units x embodied_kg x hours /
 * (lifetime_hours x utilisation). hours defaults to the run's /hours; lifetime and
 * utilisation default to CORE_EMBODIED_* in methodology.h. */
struct core_embodied_item {
    double units;
    struct core_range embodied_kg; /* per unit, kg CO2e */
    bool has_hours;
    struct core_range hours;
    bool has_lifetime_hours;
    struct core_range lifetime_hours;
    bool has_utilisation;
    struct core_range utilisation;
};

/* One run. method selects which of power/tdp/flops/energy is read; the others are
 * ignored. Embodied items may accompany any method (and are required for
 * CORE_METHOD_EMBODIED). Initialise with core_estimate_input_init. */
struct core_estimate_input {
    enum core_method method;
    bool has_hours; /* /hours: power, tdp, and embodied items without their own */
    struct core_range hours;
    bool has_pue; /* /pue, [1, 3] */
    struct core_range pue;
    bool has_intensity; /* /carbon_intensity; the world default when false */
    struct core_intensity intensity;
    struct core_power_params power;
    struct core_tdp_params tdp;
    struct core_flops_params flops;
    struct core_energy_params energy;
    size_t n_embodied;
    struct core_embodied_item embodied[CORE_MAX_EMBODIED];
};

enum core_part_kind {
    CORE_PART_OPERATIONAL,
    CORE_PART_EMBODIED,
};

/* One itemised part. name is static text: "system", "device", "cpu", "dram",
 * "memory", "compute", "measured" or "embodied"; input_pointer names the input it
 * came from ("/devices/0", "/embodied/1", "/power_w"). Embodied parts have zero
 * energy. input_pointer has room for any pointer the estimate formats (64 bytes, as
 * a field error's), so copying one never cuts it short. */
struct core_part {
    const char *name;
    char input_pointer[64];
    enum core_part_kind kind;
    struct core_range energy_kwh;
    struct core_range co2e_kg;
};

/* Which documented defaults an estimate used (bit set in defaults_used). */
enum core_default {
    CORE_DEFAULT_PUE = 1u << 0,
    CORE_DEFAULT_INTENSITY = 1u << 1,
    CORE_DEFAULT_TDP_UTILISATION = 1u << 2,
    CORE_DEFAULT_FLOPS_UTILISATION = 1u << 3,
    CORE_DEFAULT_PSF = 1u << 4,
    CORE_DEFAULT_EMBODIED_LIFETIME = 1u << 5,
    CORE_DEFAULT_EMBODIED_UTILISATION = 1u << 6,
    CORE_DEFAULT_TDP_DRAW = 1u << 7, /* flops: device power was a TDP, widened low */
};
#define CORE_DEFAULT_COUNT 8

/* Result of core_estimate. Totals are the sums of the parts. */
struct core_estimate {
    enum core_method method;
    struct core_range energy_kwh;
    struct core_range co2e_kg;
    struct core_range operational_co2e_kg;
    struct core_range embodied_co2e_kg;
    size_t n_parts;
    struct core_part parts[CORE_MAX_PARTS];
    struct core_intensity intensity; /* the one used */
    bool has_pue;                    /* false when no energy was estimated */
    struct core_range pue;           /* the one used */
    bool has_device_hours;           /* flops only */
    struct core_range device_hours;
    unsigned defaults_used; /* bits of enum core_default */
    const char *methodology_version;
};

/* Zeroes *in and sets its method. */
void core_estimate_input_init(struct core_estimate_input *in, enum core_method method);

/* Validates in and computes the estimate into *out. in is only read; out is owned by
 * the caller and holds no pointers to in (part names and the version are static).
 * Returns ERR_INVALID_INPUT with fe naming the first bad field (JSON pointer of the
 * request field as documented above) and leaves *out untouched; ERR_OK otherwise. */
enum err core_estimate(const struct core_estimate_input *in, struct core_estimate *out,
                       struct core_field_error *fe);

/* "power", "tdp", "flops", "energy", "embodied". Static storage. */
const char *core_method_name(enum core_method method);

/* Parses a method name. ERR_INVALID_INPUT when unknown (*out untouched). */
enum err core_method_parse(const char *name, enum core_method *out);

/* Field name of one default bit: "pue", "carbon_intensity", "utilisation",
 * "flops_utilisation", "psf", "lifetime_hours", "embodied_utilisation",
 * "device_power_draw". NULL for anything that is not a single known bit. */
const char *core_default_name(unsigned flag);

#endif
