/* The one place every write path reports what it changed, after its commit: which
 * model, what kind of change, and by how much. Totals are kept here (GET /metrics
 * reads them). Group commit lives here too, because a group holds the changes back
 * until it commits. */
#include "internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* What a group commit on this thread changed, told once it commits. */
static _Thread_local struct {
    bool is_holding;
    struct api_change_totals totals;
} held;

const char *api_change_kind_name(enum api_change_kind kind)
{
    static const char *const names[API_CHANGE_KIND_COUNT] = {
        [API_CHANGE_MODEL_ADDED] = "model_added",
        [API_CHANGE_MODEL_UPDATED] = "model_updated",
        [API_CHANGE_MODEL_DELETED] = "model_deleted",
        [API_CHANGE_ACTIVITY_ADDED] = "activity_added",
        [API_CHANGE_ACTIVITY_DELETED] = "activity_deleted",
        [API_CHANGE_INFERENCES] = "inferences",
    };
    return (unsigned)kind < API_CHANGE_KIND_COUNT ? names[kind] : "unknown";
}

static void count(struct api_change_totals *totals, enum api_change_kind kind, int64_t delta)
{
    totals->events[kind]++;
    if (kind == API_CHANGE_INFERENCES && delta > 0)
        totals->inferences += (uint64_t)delta;
}

static void publish(struct api_service *s, const struct api_change_totals *totals)
{
    for (int i = 0; i < API_CHANGE_KIND_COUNT; i++)
        if (totals->events[i] > 0)
            atomic_fetch_add(&s->changes.events[i], totals->events[i]);
    if (totals->inferences > 0)
        atomic_fetch_add(&s->changes.inferences, totals->inferences);
}

void api_changes_report(struct api_service *s, enum api_change_kind kind, int64_t delta)
{
    struct api_change_totals one = {{0}, 0};

    if (held.is_holding) {
        count(&held.totals, kind, delta);
        return;
    }
    count(&one, kind, delta);
    publish(s, &one);
}

static void hold_changes(void)
{
    held.is_holding = true;
    memset(&held.totals, 0, sizeof held.totals);
}

/* Ends holding: tells the held changes when their group committed, drops them
 * otherwise. */
static void release_changes(struct api_service *s, bool is_committed)
{
    held.is_holding = false;
    if (is_committed)
        publish(s, &held.totals);
}

enum err api_group_begin(struct api_service *s)
{
    struct api_problem problem;
    struct db *db = NULL;
    enum err rc = api_db(s, &db, &problem);

    if (rc == ERR_OK)
        rc = db_group_begin(db);
    if (rc == ERR_OK)
        hold_changes();
    return rc;
}

bool api_group_is_intact(struct api_service *s)
{
    struct api_problem problem;
    struct db *db = NULL;

    return api_db(s, &db, &problem) == ERR_OK && db_group_is_intact(db);
}

enum err api_group_commit(struct api_service *s, size_t n_writes)
{
    struct api_problem problem;
    struct db *db = NULL;
    enum err rc = api_db(s, &db, &problem);

    if (rc == ERR_OK)
        rc = db_group_commit(db, n_writes);
    release_changes(s, rc == ERR_OK);
    return rc;
}

void api_group_rollback(struct api_service *s)
{
    struct api_problem problem;
    struct db *db = NULL;

    if (api_db(s, &db, &problem) == ERR_OK)
        db_group_rollback(db);
    release_changes(s, false);
}

void api_changes_totals(struct api_service *s, struct api_change_totals *out)
{
    for (int i = 0; i < API_CHANGE_KIND_COUNT; i++)
        out->events[i] = atomic_load(&s->changes.events[i]);
    out->inferences = atomic_load(&s->changes.inferences);
}
