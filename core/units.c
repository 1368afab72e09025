/* SPDX-License-Identifier: Apache-2.0 */
/* The unit table and conversions to canonical units. No I/O. */
#include "units.h"

#include <assert.h>
#include <string.h>

/* Canonical: kWh, kg, kg/kWh. Spellings are matched exactly. */
static const struct core_unit units[] = {
    {"Wh", CORE_QUANTITY_ENERGY, 1.0 / CORE_WH_PER_KWH},
    {"kWh", CORE_QUANTITY_ENERGY, 1.0},
    {"MWh", CORE_QUANTITY_ENERGY, CORE_KWH_PER_MWH},
    {"GWh", CORE_QUANTITY_ENERGY, CORE_KWH_PER_MWH * 1000.0},
    {"J", CORE_QUANTITY_ENERGY, 1.0 / (CORE_WH_PER_KWH * CORE_SECONDS_PER_HOUR)},
    {"kJ", CORE_QUANTITY_ENERGY, 1.0 / CORE_SECONDS_PER_HOUR},
    {"MJ", CORE_QUANTITY_ENERGY, 1000.0 / CORE_SECONDS_PER_HOUR},
    {"g", CORE_QUANTITY_MASS, 1.0 / CORE_G_PER_KG},
    {"kg", CORE_QUANTITY_MASS, 1.0},
    {"t", CORE_QUANTITY_MASS, CORE_KG_PER_TONNE},
    {"lb", CORE_QUANTITY_MASS, CORE_KG_PER_LB},
    {"lbs", CORE_QUANTITY_MASS, CORE_KG_PER_LB},
    {"g/kWh", CORE_QUANTITY_INTENSITY, 1.0 / CORE_G_PER_KG},
    {"gCO2/kWh", CORE_QUANTITY_INTENSITY, 1.0 / CORE_G_PER_KG},
    {"gCO2e/kWh", CORE_QUANTITY_INTENSITY, 1.0 / CORE_G_PER_KG},
    {"gCO2eq/kWh", CORE_QUANTITY_INTENSITY, 1.0 / CORE_G_PER_KG},
    {"kg/kWh", CORE_QUANTITY_INTENSITY, 1.0},
    {"kgCO2/kWh", CORE_QUANTITY_INTENSITY, 1.0},
    {"kgCO2e/kWh", CORE_QUANTITY_INTENSITY, 1.0},
    {"kgCO2eq/kWh", CORE_QUANTITY_INTENSITY, 1.0},
    {"t/MWh", CORE_QUANTITY_INTENSITY, CORE_KG_PER_TONNE / CORE_KWH_PER_MWH},
    {"lb/kWh", CORE_QUANTITY_INTENSITY, CORE_KG_PER_LB},
    {"lbs/kWh", CORE_QUANTITY_INTENSITY, CORE_KG_PER_LB},
    {"lbCO2/kWh", CORE_QUANTITY_INTENSITY, CORE_KG_PER_LB},
    {"lbCO2e/kWh", CORE_QUANTITY_INTENSITY, CORE_KG_PER_LB},
};

#define N_UNITS (sizeof units / sizeof units[0])

enum err core_unit_find(enum core_quantity quantity, const char *name, const struct core_unit **out)
{
    size_t i;

    assert(out);
    if (!name)
        return ERR_INVALID_INPUT;
    for (i = 0; i < N_UNITS; i++) {
        if (units[i].quantity == quantity && strcmp(units[i].name, name) == 0) {
            *out = &units[i];
            return ERR_OK;
        }
    }
    return ERR_INVALID_INPUT;
}

double core_unit_to_canonical(const struct core_unit *unit, double v)
{
    assert(unit);
    return v * unit->to_canonical;
}

struct core_range core_unit_range_to_canonical(const struct core_unit *unit, struct core_range r)
{
    assert(unit && unit->to_canonical > 0.0);
    return core_range_scale(r, unit->to_canonical);
}

double core_lb_to_kg(double lb)
{
    return lb * CORE_KG_PER_LB;
}

double core_kg_to_lb(double kg)
{
    return kg / CORE_KG_PER_LB;
}

double core_kg_to_g(double kg)
{
    return kg * CORE_G_PER_KG;
}

double core_g_to_kg(double g)
{
    return g / CORE_G_PER_KG;
}

struct core_range core_range_kg_to_g(struct core_range kg)
{
    return core_range_scale(kg, CORE_G_PER_KG);
}

double core_wh_to_kwh(double wh)
{
    return wh / CORE_WH_PER_KWH;
}

struct core_range core_kg_of_count_g(struct core_range g_each, double count)
{
    assert(count >= 0.0);
    return core_range_scale(g_each, count / CORE_G_PER_KG);
}

struct core_range core_g_each_of_kg(struct core_range kg, double count)
{
    assert(count > 0.0);
    return core_range_scale(kg, CORE_G_PER_KG / count);
}

double core_g_per_kwh_to_kg_per_kwh(double g_per_kwh)
{
    return g_per_kwh / CORE_G_PER_KG;
}

const struct core_unit *core_units(size_t *n_out)
{
    assert(n_out);
    *n_out = N_UNITS;
    return units;
}
