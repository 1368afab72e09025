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

#endif
