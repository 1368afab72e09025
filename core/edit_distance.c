/* SPDX-License-Identifier: Apache-2.0 */
/* Levenshtein distance (edit_distance.h), one row of the table at a time, and the
 * nearest allowed name for a suggestion. */
#include "edit_distance.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>

static bool same_byte(char x, char y, bool is_case_insensitive)
{
    if (is_case_insensitive)
        return tolower((unsigned char)x) == tolower((unsigned char)y);
    return x == y;
}

size_t core_edit_distance(const char *a, const char *b, bool is_case_insensitive)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t row[CORE_EDIT_DISTANCE_MAX_LEN + 1];

    if (la > CORE_EDIT_DISTANCE_MAX_LEN || lb > CORE_EDIT_DISTANCE_MAX_LEN)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t best = prev + (same_byte(a[i - 1], b[j - 1], is_case_insensitive) ? 0 : 1);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

/* Other words people use for a member or parameter. target is the allowed name
 * they mean; a target with a path ("devices[].hardware") is offered where its
 * first step is allowed, and its last step where only that is (inside a device). */
static const struct synonym {
    const char *word;
    const char *target;
} synonyms[] = {
    {"gpu", "devices[].hardware"},
    {"gpus", "devices[].hardware"},
    {"gpu_type", "devices[].hardware"},
    {"accelerator", "devices[].hardware"},
    {"device", "devices[].hardware"},
    {"hardware", "devices[].hardware"},
    {"gpu_count", "devices[].count"},
    {"num_gpus", "devices[].count"},
    {"n_gpus", "devices[].count"},
    {"region", "location"},
    {"zone", "location"},
    {"country", "location"},
    {"cloud_region", "location"},
    {"utilization", "utilisation"},
    {"gpu_utilization", "utilisation"},
    {"duration_hours", "hours"},
    {"duration", "hours"},
    {"training_hours", "hours"},
    {"runtime_hours", "hours"},
    {"licence", "license"},
    {"page", "cursor"},
    {"offset", "cursor"},
    {"start", "cursor"},
    {"per_page", "limit"},
    {"page_size", "limit"},
    {"size", "limit"},
    {"count", "total"},
    {"inferences", "count"},
};

static bool is_allowed(const char *name, size_t len, const char *const *allowed)
{
    for (; allowed && *allowed; allowed++)
        if (strlen(*allowed) == len && strncmp(*allowed, name, len) == 0)
            return true;
    return false;
}

/* The synonym's target as it applies here: the whole path when its first step is
 * allowed, else its last step when that is, else NULL. */
static const char *synonym_target(const char *name, const char *const *allowed)
{
    for (size_t i = 0; i < sizeof synonyms / sizeof synonyms[0]; i++) {
        const char *target = synonyms[i].target, *last;
        if (strcmp(synonyms[i].word, name) != 0)
            continue;
        if (is_allowed(target, strcspn(target, "[."), allowed))
            return target;
        last = strrchr(target, '.');
        last = last ? last + 1 : target;
        if (is_allowed(last, strlen(last), allowed))
            return last;
    }
    return NULL;
}

/* One name is the other plus a unit or qualifier after '_' ("tdp" and "tdp_w",
 * "energy" and "energy_kwh"). */
static bool adds_a_suffix(const char *shorter, const char *longer)
{
    size_t n = strlen(shorter);

    return n >= 3 && strncmp(shorter, longer, n) == 0 && longer[n] == '_';
}

const char *core_nearest_name(const char *name, const char *const *allowed)
{
    const char *best = synonym_target(name, allowed);
    size_t best_distance = SIZE_MAX, len = strlen(name);

    if (best)
        return best;
    for (const char *const *p = allowed; p && *p; p++)
        if (adds_a_suffix(name, *p) || adds_a_suffix(*p, name))
            return *p;
    for (const char *const *p = allowed; p && *p; p++) {
        size_t d = core_edit_distance(name, *p, true);
        if (d < best_distance) {
            best_distance = d;
            best = *p;
        }
    }
    /* Two edits in a long name are a typo ("cuont"); in a short one they make
     * another word. */
    return best_distance <= (len <= 4 ? 1u : len <= 8 ? 2u : 3u) ? best : NULL;
}
