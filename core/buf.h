/* SPDX-License-Identifier: Apache-2.0 */
/* A growable byte buffer: the one the project's text writers share (JSON text,
 * CSV, the metrics exposition, request bodies). Appends grow it by doubling; the
 * first allocation failure sets failed, after which every append does nothing, so
 * a writer checks once, at the end. Start from {0}. */
#ifndef CORE_BUF_H
#define CORE_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct core_buf {
    char *data; /* NUL-terminated after every append that succeeded; NULL until one */
    size_t len;
    size_t cap;
    bool failed;
};

/* Makes room for n more bytes after len and the NUL that follows them, so a
 * writer may fill data + len directly and then add to len. false (and failed) when
 * out of memory or already failed. */
bool core_buf_reserve(struct core_buf *b, size_t n);

/* Appends n bytes as they are. */
void core_buf_append(struct core_buf *b, const void *bytes, size_t n);

/* Appends a NUL-terminated string. */
void core_buf_append_str(struct core_buf *b, const char *s);

/* Appends printf-style text. An encoding error fails the buffer. */
void core_buf_printf(struct core_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Takes the text: returns data (NULL when nothing was appended) and its length in
 * *len, and leaves b empty ({0}). The caller frees the result; it does not look at
 * failed, so check that first. */
char *core_buf_steal(struct core_buf *b, size_t *len);

/* Frees the text and leaves b empty. */
void core_buf_cleanup(struct core_buf *b);

#endif
