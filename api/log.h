/* SPDX-License-Identifier: Apache-2.0 */
/* Logging for the service: one line per event on stderr, with a level filter.
 * Used by api/ and server/. Thread-safe (one write per line). */
#ifndef API_LOG_H
#define API_LOG_H

#include <stdbool.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Parses "debug", "info", "warn", "error"; false when unknown. */
bool log_level_parse(const char *text, enum log_level *out);
void log_set_level(enum log_level level);
void log_set_json(bool json);
bool log_enabled(enum log_level level);

/* Writes one line: time, level, request id (or "-"), message. */
void log_write(enum log_level level, const char *request_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
