/* SPDX-License-Identifier: Apache-2.0 */
/* A small RFC 4180 CSV tokenizer over an in-memory buffer: quoted fields with ""
 * escapes and embedded line breaks, CRLF / LF / CR line ends, a leading UTF-8 byte
 * order mark, a last line without a line end. Empty lines are skipped. Fields are
 * unescaped into a caller-provided buffer. Pure: no I/O, no allocation. */
#ifndef CORE_CSV_H
#define CORE_CSV_H

#include "err.h"
#include "field_error.h"

#include <stddef.h>

#define CORE_CSV_MAX_FIELDS 32

/* Reader state. The buffer is borrowed and must outlive the reader. */
struct core_csv {
    const char *data;
    size_t len;
    size_t pos;
    unsigned long line; /* 1-based physical line of the next character */
};

/* One record. fields[i] points into the buffer given to core_csv_next, is
 * NUL-terminated and lens[i] long (a field may contain NUL bytes only if the input
 * did). line is the physical line the record starts on. */
struct core_csv_row {
    size_t n_fields;
    const char *fields[CORE_CSV_MAX_FIELDS];
    size_t lens[CORE_CSV_MAX_FIELDS];
    unsigned long line;
};

/* Starts reading data[0 .. len) and skips a UTF-8 byte order mark. */
void core_csv_init(struct core_csv *csv, const char *data, size_t len);

/* Reads the next record into *row, unescaping fields into buf (buf_len bytes; a
 * record needs its unescaped length plus one byte per field). Returns ERR_OK with a
 * record; ERR_NOT_FOUND at the end of the data; ERR_INVALID_INPUT for a malformed
 * record (unterminated quote, text after a closing quote, more than
 * CORE_CSV_MAX_FIELDS fields, record larger than buf), with fe's message naming the
 * line. After ERR_INVALID_INPUT the reader resumes at the line after the start of
 * the bad record, so a caller may count it and go on; row->line is set (the line
 * of the bad record), the rest of row and buf are unspecified. */
enum err core_csv_next(struct core_csv *csv, char *buf, size_t buf_len, struct core_csv_row *row,
                       struct core_field_error *fe);

#endif
