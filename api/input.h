/* SPDX-License-Identifier: Apache-2.0 */
/* Checking request bodies: allowed members, strings and counts (api/input.c). Internal to api/. */
#ifndef API_INPUT_H
#define API_INPUT_H

#include "api.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether name is one of list (NULL-terminated; NULL is the empty list). */
bool api_name_in_list(const char *name, const char *const *list);

/* Checks that every member of object is in allowed; read_only members get a
 * "read-only" message, others "unknown field". Records every offender (pointer
 * prefix + member). Returns ERR_INVALID_INPUT when any was found. */
enum err api_check_members(const json_t *object, const char *prefix, const char *const *allowed,
                           const char *const *read_only, struct api_problem *problem);

/* Reads an optional string member into buf (max_len bytes of UTF-8 text without
 * control characters). Absent or null leaves buf empty and *present false. */
enum err api_get_string(const json_t *object, const char *key, const char *pointer, char *buf,
                        size_t buf_len, bool *present, struct api_problem *problem);

/* Reads an optional non-negative integer member. */
enum err api_get_count(const json_t *object, const char *key, const char *pointer, int64_t max,
                       int64_t *out, bool *present, struct api_problem *problem);

#endif
