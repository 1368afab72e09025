/* SPDX-License-Identifier: Apache-2.0 */
/* Data loaders that run inside a migration's transaction, keyed by migration number.
 * A migration whose number has no loader here is plain SQL. */
#include "db_internal.h"

enum err db_migration_hook(struct db *db, int version)
{
    switch (version) {
    case 3: /* 0003_reference_data.sql: hardware and region tables */
        return db_refdata_load(db);
    case 10: /* 0010_footprint_order.sql: each model's g CO2e per inference */
        return db_inference_g_backfill(db);
    default:
        return ERR_OK;
    }
}
