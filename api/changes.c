/* The one place every write path reports what it changed, after its commit: which
 * model, what kind of change, and by how much. Totals are kept here; an observer
 * (a metrics exporter) can subscribe without touching the handlers. */
#include "internal.h"

#include <stdatomic.h>
#include <string.h>

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

void api_changes_report(struct api_service *s, enum api_change_kind kind,
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
