/* SPDX-License-Identifier: Apache-2.0 */
/* The growable byte buffer (buf.h). */
#include "buf.h"

#include "alloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_INITIAL_CAP 4096

bool core_buf_reserve(struct core_buf *b, size_t n)
{
    size_t cap = b->cap ? b->cap : BUF_INITIAL_CAP;
    char *grown;

    if (b->failed)
        return false;
    if (n > SIZE_MAX / 2 - b->len) {
        b->failed = true;
        return false;
    }
    if (b->len + n + 1 <= b->cap)
        return true;
    while (cap < b->len + n + 1)
        cap *= 2;
    grown = core_realloc(b->data, cap);
    if (grown == NULL) {
        b->failed = true;
        return false;
    }
    b->data = grown;
    b->cap = cap;
    return true;
}

void core_buf_append(struct core_buf *b, const void *bytes, size_t n)
{
    if (!core_buf_reserve(b, n))
        return;
    if (n > 0)
        memcpy(b->data + b->len, bytes, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void core_buf_append_str(struct core_buf *b, const char *s)
{
    core_buf_append(b, s, strlen(s));
}

void core_buf_printf(struct core_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    int n;

    /* Most texts are short: format once on the stack, and again into the buffer
     * only when they did not fit. */
    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        core_buf_append(b, small, (size_t)n);
        return;
    }
    if (!core_buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *core_buf_steal(struct core_buf *b, size_t *len)
{
    char *data = b->data;

    *len = b->len;
    memset(b, 0, sizeof *b);
    return data;
}

void core_buf_cleanup(struct core_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}
