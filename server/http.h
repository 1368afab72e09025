/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP daemon: libmicrohttpd setup, limits, per-request state, body buffer,
 * response writing and the access log. Knows nothing about emissions. */
#ifndef SERVER_HTTP_H
#define SERVER_HTTP_H

#include "api.h"
#include "config.h"

#include <stdbool.h>
#include <stdint.h>

struct http_server;

/* Starts listening with the limits in cfg; handlers run on libmicrohttpd's thread
 * pool. The caller owns *out and ends it with http_stop. */
enum err http_start(const struct config *cfg, struct api_service *service, struct http_server **out,
                    char *why, size_t why_len);

/* The text of a JSON answer as the server sends it: json serialised with flags,
 * then a newline, *len bytes. NULL when memory runs out for any part of it, and
 * the server answers 500 instead: never a body without its end. The caller frees
 * the text. */
char *http_json_text(const json_t *json, size_t flags, size_t *len);

/* The bound TCP port. */
uint16_t http_port(const struct http_server *server);

/* Stops accepting connections, waits up to grace_ms for requests in flight to
 * finish, then closes every connection and frees the server. Returns false when
 * requests were still running at the deadline. */
bool http_stop(struct http_server *server, unsigned grace_ms);

#endif
