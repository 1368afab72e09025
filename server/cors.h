/* SPDX-License-Identifier: Apache-2.0 */
/* Cross-origin resource sharing (Fetch standard, "CORS protocol"): which browser
 * origins may read the service's answers, and the headers that say so. Off unless
 * an allow-list is configured. HTTP only. */
#ifndef SERVER_CORS_H
#define SERVER_CORS_H

#include "err.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

struct cors;

/* Parses an allow-list: origins ("scheme://host[:port]", exact, comma-separated,
 * blanks around commas ignored) or "*" alone for any origin. An empty or NULL list
 * gives *out = NULL: CORS off. A malformed list is ERR_INVALID_INPUT with the
 * reason in why. The caller owns *out and frees it with cors_destroy. */
enum err cors_create(const char *list, struct cors **out, char *why, size_t why_len);
void cors_destroy(struct cors *cors);

/* Adds the CORS headers of one answer. cors may be NULL (off); origin is the
 * request's Origin header (may be NULL). Every answer gets Vary: Origin; one to an
 * allowed origin also gets Access-Control-Allow-Origin and -Expose-Headers, and a
 * preflight (is_preflight: OPTIONS with Access-Control-Request-Method on a known
 * path) also -Allow-Methods (methods, the path's Allow list), -Allow-Headers and
 * -Max-Age. Never Access-Control-Allow-Credentials: tokens travel explicitly. */
void cors_add_headers(const struct cors *cors, const char *origin, bool is_preflight,
                      const char *methods, struct MHD_Response *response);

#endif
