/* SPDX-License-Identifier: Apache-2.0 */
/* Edit distance between two short texts: how suggestions ("did you mean ...?")
 * find the nearest known route, region or hardware name. Pure; no allocation. */
#ifndef CORE_EDIT_DISTANCE_H
#define CORE_EDIT_DISTANCE_H

#include <stdbool.h>
#include <stddef.h>

/* Longest text core_edit_distance measures, in bytes. */
#define CORE_EDIT_DISTANCE_MAX_LEN 127

/* The Levenshtein distance between a and b (insertions, deletions and
 * substitutions of single bytes), comparing ASCII letters without case when
 * is_case_insensitive. SIZE_MAX when either text is longer than
 * CORE_EDIT_DISTANCE_MAX_LEN bytes. */
size_t core_edit_distance(const char *a, const char *b, bool is_case_insensitive);

/* The name of allowed (NULL-terminated) that an unknown member or parameter name
 * most likely meant, or NULL when none is near. A known other word for a thing comes
 * first ("gpu" means a device's "hardware", "region" means "location",
 * "utilization" means "utilisation", "page" means "cursor"); then a name that only
 * adds or drops a unit ("tdp" and "tdp_w"); then the nearest by edit distance, when
 * the distance is small for the length. The result is either an entry of allowed
 * or a static path such as "devices[].hardware" whose first step is in allowed. */
const char *core_nearest_name(const char *name, const char *const *allowed);

#endif
