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

/* Writes list (NULL-terminated) and then last (when not NULL) into buf as
 * "a, b, c", ending in ", ..." when they do not all fit. */
void api_list_names(const char *const *list, const char *last, char *buf, size_t buf_len);

/* The message for an unknown name (what: "field" or "query parameter"): the nearest
 * allowed name when one is near (core_nearest_name; also counts as allowed) and
 * every allowed one, "unknown field 'gpu'; did you mean 'devices[].hardware'?
 * allowed: method, devices, ...". */
void api_unknown_name(const char *what, const char *name, const char *const *allowed,
                      const char *also, char *buf, size_t buf_len);

/* Checks that every member of object is in allowed; read_only members get a
 * "read-only" message, others "unknown field" with the nearest allowed name and the
 * list of allowed ones. Records every offender (pointer prefix + member). Returns
 * ERR_INVALID_INPUT when any was found. */
enum err api_check_members(const json_t *object, const char *prefix, const char *const *allowed,
                           const char *const *read_only, struct api_problem *problem);

/* Reads an optional string member into buf (max_len bytes of UTF-8 text without
 * control characters). Absent or null leaves buf empty and *present false. */
enum err api_get_string(const json_t *object, const char *key, const char *pointer, char *buf,
                        size_t buf_len, bool *present, struct api_problem *problem);

/* How a JSON value reads as a whole number (api_json_whole). */
enum api_whole {
    API_WHOLE_OK,
    API_WHOLE_NOT_NUMBER,
    API_WHOLE_FRACTION,
    API_WHOLE_BEYOND_64_BITS,
};

/* Reads v as a whole number however JSON spells it: 1000000, 1e6, 1000000.0 and 2E3
 * are the same number (as JSON Schema's "integer" says), so a proxy that rewrites
 * one spelling into another changes nothing. Sets *out only on API_WHOLE_OK. */
enum api_whole api_json_whole(const json_t *v, int64_t *out);

/* Records the field problem for a value api_json_whole refused (how is not
 * API_WHOLE_OK): the message says whether it was not a number, a fraction, or
 * beyond 64 bits. Returns ERR_INVALID_INPUT. */
enum err api_whole_error(struct api_problem *problem, const char *pointer, enum api_whole how);

/* Reads an optional non-negative whole-number member (any spelling api_json_whole
 * accepts) no greater than max. */
enum err api_get_count(const json_t *object, const char *key, const char *pointer, int64_t max,
                       int64_t *out, bool *present, struct api_problem *problem);

#endif
