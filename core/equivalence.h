/* SPDX-License-Identifier: Apache-2.0 */
/* Everyday equivalents of a CO2e mass, from Strubell et al. 2019 Table 1 (published
 * in lbs CO2e, converted to kg with the exact pound). Pure; no I/O. */
#ifndef CORE_EQUIVALENCE_H
#define CORE_EQUIVALENCE_H

#include "range.h"

#include <stddef.h>

/* Strubell, Ganesh, McCallum 2019, Table 1, lbs CO2e. */
#define CORE_EQUIVALENCE_FLIGHT_NY_SF_LB       1984.0
#define CORE_EQUIVALENCE_HUMAN_LIFE_YEAR_LB    11023.0
#define CORE_EQUIVALENCE_AMERICAN_LIFE_YEAR_LB 36156.0
#define CORE_EQUIVALENCE_CAR_LIFETIME_LB       126000.0

enum core_equivalence_kind {
    CORE_EQUIVALENCE_FLIGHT_NY_SF,
    CORE_EQUIVALENCE_HUMAN_LIFE_YEAR,
    CORE_EQUIVALENCE_AMERICAN_LIFE_YEAR,
    CORE_EQUIVALENCE_CAR_LIFETIME,
    CORE_EQUIVALENCE_COUNT
};

/* One reference item: JSON name ("flight_ny_sf", "human_life_year",
 * "american_life_year", "car_lifetime"), description, published lbs, kg. */
struct core_equivalence_item {
    const char *name;
    const char *description;
    double co2e_lb;
    double co2e_kg;
};

/* How many of one item a CO2e mass amounts to, as a range. */
struct core_equivalence {
    const struct core_equivalence_item *item; /* static storage */
    struct core_range count;
};

/* The item table (static storage, CORE_EQUIVALENCE_COUNT rows, in enum order). */
const struct core_equivalence_item *core_equivalence_items(void);

/* Fills out[CORE_EQUIVALENCE_COUNT] with co2e_kg / item kg for each item, bound by
 * bound. co2e_kg must be ordered and non-negative (a programmer error otherwise).
 * Never fails. */
void core_equivalences(struct core_range co2e_kg,
                       struct core_equivalence out[CORE_EQUIVALENCE_COUNT]);

#endif
