/* SPDX-License-Identifier: Apache-2.0 */
/* The one place every write path reports what it changed, after its commit: what
 * kind of change, and by how much. Totals are kept here (GET /metrics reads them);
 * inside a group commit they wait in the group until it commits. */
#include "api_internal.h"

#include <stdatomic.h>

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

void api_changes_count(struct api_change_totals *totals, enum api_change_kind kind, int64_t delta)
{
    totals->events[kind]++;
    if (kind == API_CHANGE_INFERENCES && delta > 0)
        totals->inferences += (uint64_t)delta;
}

void api_changes_publish(struct api_service *s, const struct api_change_totals *totals)
{
    for (int i = 0; i < API_CHANGE_KIND_COUNT; i++)
        if (totals->events[i] > 0)
            atomic_fetch_add(&s->changes.events[i], totals->events[i]);
    if (totals->inferences > 0)
        atomic_fetch_add(&s->changes.inferences, totals->inferences);
}

void api_changes_report(struct api_service *s, const struct api_request *req,
                        enum api_change_kind kind, int64_t delta)
{
    struct api_change_totals one = {{0}, 0};

    if (req->group != NULL) {
        api_changes_count(&req->group->held, kind, delta);
        return;
    }
    api_changes_count(&one, kind, delta);
    api_changes_publish(s, &one);
}

void api_changes_totals(struct api_service *s, struct api_change_totals *out)
{
    for (int i = 0; i < API_CHANGE_KIND_COUNT; i++)
        out->events[i] = atomic_load(&s->changes.events[i]);
    out->inferences = atomic_load(&s->changes.inferences);
}
