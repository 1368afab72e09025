/* SPDX-License-Identifier: Apache-2.0 */
/* Carbon intensity of the electricity used: the value (a range, kg CO2e/kWh) and its
 * provenance (explicit, looked up in a reference table, or the documented default).
 * api resolves locations through db; core only validates and converts. No I/O. */
#ifndef CORE_INTENSITY_H
#define CORE_INTENSITY_H

#include "err.h"
#include "range.h"

enum core_intensity_source {
    CORE_INTENSITY_EXPLICIT, /* given by the caller with a unit */
    CORE_INTENSITY_TABLE,    /* looked up by location in a reference table */
    CORE_INTENSITY_DEFAULT,  /* nothing given: world average */
};

/* Admissible intensity, kg CO2e/kWh: 0 (a fully carbon-free supply, e.g. the 0 of
 * gcp northamerica-northeast1 in 2021) up to 2 (no grid on record exceeds about
 * 1.1; lignite plants run about 1.2). */
#define CORE_INTENSITY_MAX_KG_PER_KWH 2.0

struct core_intensity {
    struct core_range kg_per_kwh;
    enum core_intensity_source source;
    char location[64]; /* TABLE: the location code that was resolved, else "" */
    char table[48];    /* TABLE: reference table name, e.g. "mlco2-impact/impact.csv" */
    unsigned long row; /* TABLE: line number in that file, else 0 */
    int year;          /* TABLE: data year, 0 when the table does not say */
    /* TABLE: the text the request gave, when it was not the row's own code
     * ("DE" for the row "DEU"), and how it was matched ("iso-alpha2"); both ""
     * when the row's code itself was given. */
    char asked[64];
    char matched_by[16];
};

/* The default: world average 475 g/kWh (IEA 2019), exact, source DEFAULT. */
struct core_intensity core_intensity_default(void);

/* An explicit intensity: value in unit ("g/kWh", "kg/kWh", "lb/kWh" and the aliases
 * in units.c such as "gCO2e/kWh"). pointer names the intensity object in the request
 * (e.g. "/carbon_intensity"); errors name pointer + "/unit" for an unknown unit and
 * pointer + "/value" (or "/value/low" ...) for a bad number. On success fills *out
 * and returns ERR_OK; on ERR_INVALID_INPUT leaves *out untouched and fills fe. */
enum err core_intensity_explicit(struct core_range value, const char *unit, const char *pointer,
                                 struct core_intensity *out, struct core_field_error *fe);

/* An intensity found in a reference table, given in g/kWh as the tables publish it.
 * location, table may not be NULL. pointer names the request field that asked for
 * the location (e.g. "/location"). Returns ERR_INVALID_INPUT (and fills fe) when the
 * figure is out of bounds or a text does not fit; *out untouched then. */
enum err core_intensity_from_table(double g_per_kwh, const char *location, const char *table,
                                   unsigned long row, int year, const char *pointer,
                                   struct core_intensity *out, struct core_field_error *fe);

/* Validates an intensity struct built elsewhere: range ordered and within
 * [0, CORE_INTENSITY_MAX_KG_PER_KWH]. ERR_INVALID_INPUT with fe at pointer. */
enum err core_intensity_check(const struct core_intensity *intensity, const char *pointer,
                              struct core_field_error *fe);

/* "explicit", "table" or "default". Static storage. */
const char *core_intensity_source_name(enum core_intensity_source source);

#endif
