/* SPDX-License-Identifier: Apache-2.0 */
/* Equivalences table and the division that applies it. No I/O. */
#include "equivalence.h"

#include "units.h"

#include <assert.h>

static const struct core_equivalence_item items[CORE_EQUIVALENCE_COUNT] = {
    [CORE_EQUIVALENCE_FLIGHT_NY_SF] = {"flight_ny_sf",
                                       "air travel, one passenger, New York <-> San Francisco",
                                       CORE_EQUIVALENCE_FLIGHT_NY_SF_LB,
                                       CORE_EQUIVALENCE_FLIGHT_NY_SF_LB *CORE_KG_PER_LB},
    [CORE_EQUIVALENCE_HUMAN_LIFE_YEAR] = {"human_life_year", "human life, average, one year",
                                          CORE_EQUIVALENCE_HUMAN_LIFE_YEAR_LB,
                                          CORE_EQUIVALENCE_HUMAN_LIFE_YEAR_LB *CORE_KG_PER_LB},
    [CORE_EQUIVALENCE_AMERICAN_LIFE_YEAR] =
        {"american_life_year", "American life, average, one year",
         CORE_EQUIVALENCE_AMERICAN_LIFE_YEAR_LB,
         CORE_EQUIVALENCE_AMERICAN_LIFE_YEAR_LB *CORE_KG_PER_LB},
    [CORE_EQUIVALENCE_CAR_LIFETIME] = {"car_lifetime", "car, average incl. fuel, one lifetime",
                                       CORE_EQUIVALENCE_CAR_LIFETIME_LB,
                                       CORE_EQUIVALENCE_CAR_LIFETIME_LB *CORE_KG_PER_LB},
};

const struct core_equivalence_item *core_equivalence_items(void)
{
    return items;
}

void core_equivalences(struct core_range co2e_kg,
                       struct core_equivalence out[CORE_EQUIVALENCE_COUNT])
{
    size_t i;

    assert(out && core_range_is_ordered(co2e_kg) && co2e_kg.low >= 0.0);
    for (i = 0; i < CORE_EQUIVALENCE_COUNT; i++) {
        out[i].item = &items[i];
        out[i].count = core_range_scale(co2e_kg, 1.0 / items[i].co2e_kg);
    }
}
