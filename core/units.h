/* SPDX-License-Identifier: Apache-2.0 */
/* Units and their conversion to the canonical ones: energy in kWh, CO2e mass in kg,
 * carbon intensity in kg CO2e per kWh; per-inference figures are reported in g.
 * One declarative table maps unit names to factors. Pure; no I/O. */
#ifndef CORE_UNITS_H
#define CORE_UNITS_H

#include "err.h"
#include "range.h"

#include <stddef.h>

/* 1 lb = 0.45359237 kg exactly (international avoirdupois pound, 1959). */
#define CORE_KG_PER_LB        0.45359237
#define CORE_G_PER_KG         1000.0
#define CORE_KWH_PER_MWH      1000.0
#define CORE_KG_PER_TONNE     1000.0
#define CORE_SECONDS_PER_HOUR 3600.0
#define CORE_WH_PER_KWH       1000.0
#define CORE_HOURS_PER_DAY    24.0
#define CORE_HOURS_PER_YEAR   8760.0 /* 365 days */

/* What a unit measures; each quantity has one canonical unit. */
enum core_quantity {
    CORE_QUANTITY_ENERGY,    /* canonical kWh */
    CORE_QUANTITY_MASS,      /* canonical kg (CO2e) */
    CORE_QUANTITY_INTENSITY, /* canonical kg CO2e per kWh */
};

/* One row of the unit table: a spelling and how many canonical units one of it is. */
struct core_unit {
    const char *name;
    enum core_quantity quantity;
    double to_canonical;
};

/* Finds the unit spelled name (exact, case-sensitive spelling as listed in units.c,
 * e.g. "g/kWh", "kg/kWh", "lb/kWh", "gCO2e/kWh", "kWh", "MWh", "kg", "t", "lb") for
 * the given quantity. *out points to static storage. Returns ERR_INVALID_INPUT when
 * the name is unknown or names a unit of another quantity. */
enum err core_unit_find(enum core_quantity quantity, const char *name,
                        const struct core_unit **out);

/* Converts v in unit to the canonical unit of unit's quantity. */
double core_unit_to_canonical(const struct core_unit *unit, double v);

/* Converts every component of r to the canonical unit. */
struct core_range core_unit_range_to_canonical(const struct core_unit *unit, struct core_range r);

/* Pounds to kilograms and back (exact factor above). */
double core_lb_to_kg(double lb);
double core_kg_to_lb(double kg);

/* Kilograms to grams and back; grams are for per-inference figures and Hub cards. */
double core_kg_to_g(double kg);
double core_g_to_kg(double g);

/* A mass range in kg, in g. */
struct core_range core_range_kg_to_g(struct core_range kg);

/* Watt-hours to kilowatt-hours. */
double core_wh_to_kwh(double wh);

/* count items of g_each grams each, in kg: every bound times (count / 1000). */
struct core_range core_kg_of_count_g(struct core_range g_each, double count);

/* kg shared over count (> 0) items, in g each: every bound times (1000 / count). */
struct core_range core_g_each_of_kg(struct core_range kg, double count);

/* Carbon intensity in g/kWh to kg/kWh. */
double core_g_per_kwh_to_kg_per_kwh(double g_per_kwh);

/* The unit table, for listing in the methodology. *n_out receives its length. */
const struct core_unit *core_units(size_t *n_out);

#endif
