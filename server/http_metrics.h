/* SPDX-License-Identifier: Apache-2.0 */
/* The server's HTTP metrics: requests by method, route and status, and latency by
 * route, kept in atomic counters fed from the completion callback, and written in
 * the Prometheus text format for GET /metrics. */
#ifndef SERVER_HTTP_METRICS_H
#define SERVER_HTTP_METRICS_H

#include <stddef.h>

struct http_metrics;

/* A zeroed set of counters. The caller owns it (http_metrics_destroy); NULL when
 * out of memory. */
struct http_metrics *http_metrics_create(void);
void http_metrics_destroy(struct http_metrics *metrics);

/* Counts one finished request: its method, the pattern of the route it matched
 * (static storage, "{}" for a path parameter; NULL when no route matched), the
 * status sent (0 when none was) and how long it took. Thread-safe and lock-free. */
void http_metrics_observe(struct http_metrics *metrics, const char *method,
                          const char *route_pattern, unsigned status, double seconds);

/* The metric families carbontree_http_requests_total and
 * carbontree_http_request_duration_seconds as exposition text (HELP and TYPE lines
 * included): malloc'd, its length in *len; NULL when out of memory. The server
 * hands it to GET /metrics in api_request.server_metrics. */
char *http_metrics_render(struct http_metrics *metrics, size_t *len);

#endif
