/* Data loaders that run inside a migration's transaction, keyed by migration number.
 * A migration whose number has no loader here is plain SQL. */
#include "internal.h"

enum err db_migration_hook(struct db *db, int version)
{
    (void)db;
    (void)version;
    return ERR_OK;
}
