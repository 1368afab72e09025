/* SPDX-License-Identifier: Apache-2.0 */
/* One-line logs on stderr. Each line goes out in one write, so lines from several
 * threads never interleave. */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int current_level = LOG_INFO;
static atomic_bool as_json = false;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

bool log_level_parse(const char *text, enum log_level *out)
{
    for (int i = 0; i <= LOG_ERROR; i++) {
        if (text && strcmp(text, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return true;
        }
    }
    return false;
}

void log_set_level(enum log_level level)
{
    atomic_store(&current_level, (int)level);
}

void log_set_json(bool json)
{
    atomic_store(&as_json, json);
}

bool log_enabled(enum log_level level)
{
    return (int)level >= atomic_load(&current_level);
}

/* Escapes text for a JSON string value (quotes, backslashes, control bytes). */
static size_t json_escape(char *dst, size_t cap, const char *src)
{
    size_t n = 0;

    for (; *src && n + 7 < cap; src++) {
        unsigned char c = (unsigned char)*src;
        if (c == '"' || c == '\\') {
            dst[n++] = '\\';
            dst[n++] = (char)c;
        } else if (c < 0x20) {
            n += (size_t)snprintf(dst + n, cap - n, "\\u%04x", c);
        } else {
            dst[n++] = (char)c;
        }
    }
    dst[n] = '\0';
    return n;
}

void log_write(enum log_level level, const char *request_id, const char *fmt, ...)
{
    char message[1024];
    char line[2300];
    char stamp[40];
    struct timespec now;
    struct tm tm;
    va_list ap;
    int n;

    if (!log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    n = (int)strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(stamp + n, sizeof stamp - (size_t)n, ".%03ldZ", now.tv_nsec / 1000000);
    if (atomic_load(&as_json)) {
        char escaped[2100];
        json_escape(escaped, sizeof escaped, message);
        n = snprintf(line, sizeof line,
                     "{\"time\":\"%s\",\"level\":\"%s\",\"request_id\":\"%s\",\"msg\":\"%s\"}\n",
                     stamp, level_names[level], request_id ? request_id : "", escaped);
    } else {
        n = snprintf(line, sizeof line, "%s %-5s %s %s\n", stamp, level_names[level],
                     request_id ? request_id : "-", message);
    }
    if (n > 0) {
        size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
        ssize_t ignored = write(STDERR_FILENO, line, len);
        (void)ignored;
    }
}
