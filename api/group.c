/* SPDX-License-Identifier: Apache-2.0 */
/* Group commit: many writes in one transaction on one connection, committed (and
 * synced) once; what they changed is told only when the commit stands. */
#include "api_internal.h"

#include <stdlib.h>

enum err api_group_begin(struct api_service *s, struct db *db, struct api_group **out)
{
    struct api_group *group = core_calloc(1, sizeof *group);
    enum err rc;

    if (group == NULL)
        return ERR_NO_MEMORY;
    rc = db_group_begin(db);
    if (rc != ERR_OK) {
        free(group);
        return rc;
    }
    group->service = s;
    group->db = db;
    *out = group;
    return ERR_OK;
}

bool api_group_is_intact(const struct api_group *group)
{
    return db_group_is_intact(group->db);
}

enum err api_group_commit(struct api_group *group, size_t n_writes)
{
    enum err rc = db_group_commit(group->db, n_writes);

    if (rc == ERR_OK)
        api_changes_publish(group->service, &group->held);
    free(group);
    return rc;
}

void api_group_rollback(struct api_group *group)
{
    db_group_rollback(group->db);
    free(group);
}

enum err api_fold_pending(struct db *db, int64_t *rows)
{
    return db_fold_pending(db, rows);
}

enum err api_fold(struct db *db, size_t limit, int64_t *folded)
{
    struct db_fold_result result;
    int64_t n = 0;
    enum err rc;

    /* Batch after batch until none is left: a model with a high key is never
     * passed over for long while low ones keep coming. */
    do {
        rc = db_fold_commit(db, limit, &result);
        n += rc == ERR_OK ? result.rows : 0;
    } while (rc == ERR_OK && limit > 0 && result.rows == (int64_t)limit);
    if (folded)
        *folded = n;
    return rc;
}
