/* SPDX-License-Identifier: Apache-2.0 */
/* Field-level validation errors. core fills one when it rejects an input so that
 * api can name the offending field (an RFC 9457 errors[] entry with a JSON pointer).
 * Plain data; no I/O. */
#ifndef CORE_FIELD_ERROR_H
#define CORE_FIELD_ERROR_H

#if defined(__GNUC__)
#define CORE_PRINTF_LIKE(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define CORE_PRINTF_LIKE(fmt_index, first_arg)
#endif

/* One rejected field: a JSON pointer such as "/hours" or "/devices/0/count", and a
 * short human message ("must be greater than 0"). Both are NUL-terminated and
 * truncated to fit. */
struct core_field_error {
    char pointer[64];
    char message[160];
};

/* Fills fe with pointer and a printf-style message. fe may be NULL (nothing is
 * written). Never fails; over-long text is truncated. */
void core_field_error_set(struct core_field_error *fe, const char *pointer, const char *fmt, ...)
    CORE_PRINTF_LIKE(3, 4);

/* Empties fe (both strings ""). fe may be NULL. */
void core_field_error_clear(struct core_field_error *fe);

#endif
