/* SPDX-License-Identifier: Apache-2.0 */
/* Carbon intensity: default, explicit values with units, table provenance. No I/O. */
#include "intensity.h"

#include "methodology.h"
#include "units.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static const struct core_bounds intensity_bounds = {
    .min = 0.0, .max = CORE_INTENSITY_MAX_KG_PER_KWH, .is_min_exclusive = false};

struct core_intensity core_intensity_default(void)
{
    struct core_intensity d;

    memset(&d, 0, sizeof d);
    d.kg_per_kwh = core_range_exact(core_g_per_kwh_to_kg_per_kwh(CORE_INTENSITY_WORLD_G_PER_KWH));
    d.source = CORE_INTENSITY_DEFAULT;
    return d;
}

enum err core_intensity_explicit(struct core_range value, const char *unit, const char *pointer,
                                 struct core_intensity *out, struct core_field_error *fe)
{
    const struct core_unit *u;
    struct core_intensity result;
    char where[sizeof fe->pointer];
    enum err rc;

    assert(pointer && out);
    snprintf(where, sizeof where, "%s/unit", pointer);
    if (core_unit_find(CORE_QUANTITY_INTENSITY, unit, &u) != ERR_OK) {
        core_field_error_set(fe, where,
                             "unknown carbon intensity unit \"%s\" (use g/kWh, kg/kWh or lb/kWh)",
                             unit ? unit : "");
        return ERR_INVALID_INPUT;
    }
    snprintf(where, sizeof where, "%s/value", pointer);
    /* Validate in the caller's unit so the message quotes their numbers. */
    rc = core_range_check(
        value,
        (struct core_bounds){.min = 0.0, .max = CORE_INTENSITY_MAX_KG_PER_KWH / u->to_canonical},
        where, fe);
    if (rc != ERR_OK)
        return rc;
    memset(&result, 0, sizeof result);
    result.kg_per_kwh = core_unit_range_to_canonical(u, value);
    result.source = CORE_INTENSITY_EXPLICIT;
    *out = result;
    return ERR_OK;
}

enum err core_intensity_from_table(double g_per_kwh, const char *location, const char *table,
                                   unsigned long row, int year, const char *pointer,
                                   struct core_intensity *out, struct core_field_error *fe)
{
    struct core_intensity result;
    enum err rc;

    assert(location && table && pointer && out);
    rc = core_range_check(core_range_exact(core_g_per_kwh_to_kg_per_kwh(g_per_kwh)),
                          intensity_bounds, pointer, fe);
    if (rc != ERR_OK)
        return rc;
    if (strlen(location) >= sizeof result.location || strlen(table) >= sizeof result.table) {
        core_field_error_set(fe, pointer, "location or table name too long");
        return ERR_INVALID_INPUT;
    }
    memset(&result, 0, sizeof result);
    result.kg_per_kwh = core_range_exact(core_g_per_kwh_to_kg_per_kwh(g_per_kwh));
    result.source = CORE_INTENSITY_TABLE;
    memcpy(result.location, location, strlen(location) + 1);
    memcpy(result.table, table, strlen(table) + 1);
    result.row = row;
    result.year = year;
    *out = result;
    return ERR_OK;
}

enum err core_intensity_check(const struct core_intensity *intensity, const char *pointer,
                              struct core_field_error *fe)
{
    assert(intensity && pointer);
    return core_range_check(intensity->kg_per_kwh, intensity_bounds, pointer, fe);
}

const char *core_intensity_source_name(enum core_intensity_source source)
{
    switch (source) {
    case CORE_INTENSITY_EXPLICIT:
        return "explicit";
    case CORE_INTENSITY_TABLE:
        return "table";
    case CORE_INTENSITY_DEFAULT:
        return "default";
    }
    assert(0 && "unknown intensity source");
    return "unknown";
}
