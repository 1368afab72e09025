/* The one place every write path reports what it changed, after its commit: which
 * model, what kind of change, and by how much. Totals are kept here; an observer
 * (a metrics exporter) can subscribe without touching the handlers. Group commit
 * lives here too, because a group holds the changes back until it commits. */
#include "internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Changes made inside a group commit on this thread, reported once it commits. */
static _Thread_local struct {
    bool is_holding;
    struct api_change *items;
    size_t n, cap;
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

static void publish(struct api_service *s, enum api_change_kind kind,
                    const struct core_model_id *model, int64_t delta)
{
    struct api_change change;
    api_change_fn observer;

    atomic_fetch_add(&s->changes.events[kind], 1);
    if (kind == API_CHANGE_INFERENCES && delta > 0)
        atomic_fetch_add(&s->changes.inferences, (uint64_t)delta);
    observer = atomic_load(&s->changes.observer);
    if (observer == NULL)
        return;
    memset(&change, 0, sizeof change);
    change.kind = kind;
    change.model = *model;
    change.delta = delta;
    observer(s->changes.observer_ctx, &change);
}

/* Keeps a change for later; false when there is no memory for it. */
static bool hold(enum api_change_kind kind, const struct core_model_id *model, int64_t delta)
{
    if (held.n == held.cap) {
        size_t cap = held.cap ? held.cap * 2 : 64;
        struct api_change *grown = realloc(held.items, cap * sizeof *grown);
        if (grown == NULL)
            return false;
        held.items = grown;
        held.cap = cap;
    }
    held.items[held.n].kind = kind;
    held.items[held.n].model = *model;
    held.items[held.n].delta = delta;
    held.n++;
    return true;
}

void api_changes_report(struct api_service *s, enum api_change_kind kind,
                        const struct core_model_id *model, int64_t delta)
{
    /* Without memory to hold it, a change is told at once: counted early rather
     * than lost. */
    if (held.is_holding && hold(kind, model, delta))
        return;
    publish(s, kind, model, delta);
}

static void hold_changes(void)
{
    held.is_holding = true;
    held.n = 0;
}

/* Ends holding: tells the held changes when their group committed, drops them
 * otherwise. */
static void release_changes(struct api_service *s, bool is_committed)
{
    held.is_holding = false;
    for (size_t i = 0; is_committed && i < held.n; i++)
        publish(s, held.items[i].kind, &held.items[i].model, held.items[i].delta);
    free(held.items);
    held.items = NULL;
    held.n = held.cap = 0;
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

void api_changes_subscribe(struct api_service *s, api_change_fn observer, void *ctx)
{
    s->changes.observer_ctx = ctx;
    atomic_store(&s->changes.observer, observer);
}

void api_changes_totals(struct api_service *s, struct api_change_totals *out)
{
    for (int i = 0; i < API_CHANGE_KIND_COUNT; i++)
        out->events[i] = atomic_load(&s->changes.events[i]);
    out->inferences = atomic_load(&s->changes.inferences);
}
