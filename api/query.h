/* SPDX-License-Identifier: Apache-2.0 */
/* Query parameters: the ones a route accepts, bounded whole numbers, encoding values
 * for links (api/query.c). Internal to api/. */
#ifndef API_QUERY_H
#define API_QUERY_H

#include "api.h"

#include <stddef.h>
#include <stdint.h>

/* Checks that every query parameter is in allowed (plus the global "pretty"). An
 * unknown one is ERR_BAD_REQUEST naming the nearest accepted parameter and listing
 * them all. */
enum err api_check_query(const struct api_request *req, const char *const *allowed,
                         struct api_problem *problem);

/* Parses a non-negative whole-number query value within [min, max]: decimal
 * digits, or a JSON number that is whole ("1e2", "100.0"). */
enum err api_query_int(const struct api_request *req, const char *key, int64_t min, int64_t max,
                       int64_t fallback, int64_t *out, struct api_problem *problem);

/* Percent-encodes text for a URL query value into buf. */
void api_url_encode(const char *text, char *buf, size_t buf_len);

#endif
