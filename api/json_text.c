/* SPDX-License-Identifier: Apache-2.0 */
/* The JSON text writer (json_text.h): strings and integers by hand, and reals by
 * hand when their rounding to 15 digits is certain, by printf otherwise. */
#include "json_text.h"

#include "api.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void text_raw(struct text *t, const char *bytes, size_t n)
{
    core_buf_append(&t->buf, bytes, n);
}

void text_json(struct text *t, json_t *value)
{
    size_t n = value ? json_dumpb(value, NULL, 0, API_DUMP_FLAGS | JSON_ENCODE_ANY) : 0;

    if (n == 0) {
        t->buf.failed = true;
    } else if (core_buf_reserve(&t->buf, n)) {
        /* The second dump allocates again (jansson's loop check): when that fails it
         * writes nothing, which would leave the member without a value. */
        if (json_dumpb(value, t->buf.data + t->buf.len, n, API_DUMP_FLAGS | JSON_ENCODE_ANY) != n)
            t->buf.failed = true;
        else
            t->buf.len += n;
        t->buf.data[t->buf.len] = '\0';
    }
    json_decref(value);
}

void text_string(struct text *t, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *run = s;

    /* Ids and names are printable ASCII; anything else goes through jansson. */
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p >= 0x80) {
            text_json(t, json_string(s));
            return;
        }
    TEXT_LIT(t, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        text_raw(t, run, (size_t)(s - run));
        run = s + 1;
        switch (c) {
        case '"':
        case '\\':
            esc[1] = (char)c;
            text_raw(t, esc, 2);
            break;
        case '\b':
            TEXT_LIT(t, "\\b");
            break;
        case '\f':
            TEXT_LIT(t, "\\f");
            break;
        case '\n':
            TEXT_LIT(t, "\\n");
            break;
        case '\r':
            TEXT_LIT(t, "\\r");
            break;
        case '\t':
            TEXT_LIT(t, "\\t");
            break;
        default:
            text_raw(t, esc, sizeof esc);
        }
    }
    text_raw(t, run, (size_t)(s - run));
    TEXT_LIT(t, "\"");
}

void text_int(struct text *t, int64_t value)
{
    char buf[24];
    char *p = buf + sizeof buf;
    /* Digits of the magnitude, from the right; INT64_MIN has no positive twin. */
    uint64_t u = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;

    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    if (value < 0)
        *--p = '-';
    text_raw(t, p, (size_t)(buf + sizeof buf - p));
}

/* "%.15g" of a value from 1e-13 to 1e15 without printf, when the rounding to 15
 * digits is certain: |value| x 10^k is computed in long double (64-bit mantissa,
 * 10^k exact up to 10^27) within 1e-4 of the exact product, so unless that lies
 * within 1e-4 of a half, rounding it rounds the exact value the same way. Returns
 * false (nothing written) otherwise. */
bool text_real_digits(struct text *t, double value)
{
#if LDBL_MANT_DIG >= 64
    /* Exact: 10^27 = 5^27 x 2^27, and 5^27 < 2^64. */
    static const long double tens[28] = {1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,
                                         1e7L,  1e8L,  1e9L,  1e10L, 1e11L, 1e12L, 1e13L,
                                         1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L, 1e20L,
                                         1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L};
    char buf[40], digits[16];
    char *p = buf;
    long double scaled, fraction;
    uint64_t m;
    int exp10 = 0, len = 15;
    double magnitude = fabs(value);

    if (!(magnitude >= 1e-13 && magnitude < 1e15))
        return false;
    while (exp10 < 14 && magnitude >= (double)tens[exp10 + 1])
        exp10++;
    if (magnitude < 1) {
        exp10 = -1;
        while ((long double)magnitude * tens[-exp10] < 1)
            exp10--;
    }
    scaled = (long double)magnitude * tens[14 - exp10];
    m = (uint64_t)scaled;
    fraction = scaled - (long double)m;
    if (fabsl(fraction - 0.5L) < 1e-4L)
        return false;
    if (fraction > 0.5L)
        m++;
    if (m >= 1000000000000000ULL) { /* rounded up to the next power of ten */
        m /= 10;
        exp10++;
    }
    if (m < 100000000000000ULL || exp10 >= 15)
        return false;
    for (int i = 14; i >= 0; i--, m /= 10)
        digits[i] = (char)('0' + m % 10);
    while (len > 1 && digits[len - 1] == '0')
        len--;
    if (value < 0)
        *p++ = '-';
    if (exp10 < -4) { /* d.ddde-X */
        *p++ = digits[0];
        if (len > 1) {
            *p++ = '.';
            memcpy(p, digits + 1, (size_t)len - 1);
            p += len - 1;
        }
        *p++ = 'e';
        *p++ = '-';
        if (-exp10 >= 10)
            *p++ = (char)('0' + -exp10 / 10);
        *p++ = (char)('0' + -exp10 % 10);
    } else if (exp10 < 0) { /* 0.000ddd */
        *p++ = '0';
        *p++ = '.';
        for (int i = -1; i > exp10; i--)
            *p++ = '0';
        memcpy(p, digits, (size_t)len);
        p += len;
    } else { /* ddd.ddd, or ddd.0 as jansson ends a whole number */
        int whole = exp10 + 1;
        memcpy(p, digits, (size_t)(len < whole ? len : whole));
        p += len < whole ? len : whole;
        for (int i = len; i < whole; i++)
            *p++ = '0';
        *p++ = '.';
        if (len > whole) {
            memcpy(p, digits + whole, (size_t)(len - whole));
            p += len - whole;
        } else {
            *p++ = '0';
        }
    }
    text_raw(t, buf, (size_t)(p - buf));
    return true;
#else
    (void)t;
    (void)value;
    return false;
#endif
}

/* Whole numbers, the common case, and most others skip printf. */
void text_real(struct text *t, double value)
{
    char buf[40];
    int n;

    if (!isfinite(value)) {
        t->buf.failed = true;
        return;
    }
    /* Not fpclassify(): with -Os glibc makes it a sizeof dispatch whose float branch
     * converts value (-Wfloat-conversion); value is finite here. */
    if (!islessgreater(value, 0.0)) {
        if (signbit(value))
            TEXT_LIT(t, "-0.0");
        else
            TEXT_LIT(t, "0.0");
        return;
    }
    if (fabs(value) < 1e15 && !islessgreater(value, trunc(value))) {
        /* At most 15 digits: "%.15g" prints them all, without an exponent. */
        text_int(t, (int64_t)value);
        TEXT_LIT(t, ".0");
        return;
    }
    if (text_real_digits(t, value))
        return;
    n = snprintf(buf, sizeof buf, "%.15g", value);
    if (strchr(buf, '.') == NULL && strchr(buf, 'e') == NULL) {
        buf[n++] = '.';
        buf[n++] = '0';
        buf[n] = '\0';
    }
    {
        char *start = strchr(buf, 'e'), *end;
        if (start) {
            start++;
            end = start + 1;
            if (*start == '-')
                start++;
            while (*end == '0')
                end++;
            if (end != start) {
                memmove(start, end, (size_t)n - (size_t)(end - buf) + 1);
                n -= (int)(end - start);
            }
        }
    }
    text_raw(t, buf, (size_t)n);
}

void text_key(struct text *t, const char *key, bool is_first)
{
    if (!is_first)
        TEXT_LIT(t, ",");
    text_string(t, key);
    TEXT_LIT(t, ":");
}

enum err text_reply(struct text *t, const struct api_request *req, struct api_reply *reply)
{
    char *data;
    size_t len;

    if (t->buf.data != NULL)
        core_buf_append(&t->buf, "\n", 1);
    if (t->buf.failed || t->buf.data == NULL) {
        core_buf_cleanup(&t->buf);
        return ERR_NO_MEMORY;
    }
    data = core_buf_steal(&t->buf, &len);
    return api_reply_text_etag(req, reply, data, len);
}

void text_range(struct text *t, struct core_range r)
{
    TEXT_LIT(t, "{\"value\":");
    text_real(t, r.value);
    TEXT_LIT(t, ",\"low\":");
    text_real(t, r.low);
    TEXT_LIT(t, ",\"high\":");
    text_real(t, r.high);
    TEXT_LIT(t, "}");
}

static int dump_to_buf(const char *bytes, size_t n, void *data)
{
    struct core_buf *b = data;

    core_buf_append(b, bytes, n);
    return b->failed ? -1 : 0;
}

char *api_json_dumps(const json_t *json, size_t flags)
{
    struct core_buf b = {0};

    if (json_dump_callback(json, dump_to_buf, &b, flags) != 0 || b.failed) {
        core_buf_cleanup(&b);
        return NULL;
    }
    if (b.data == NULL) /* nothing written: only JSON_ENCODE_ANY of an empty text */
        core_buf_append(&b, "", 0);
    if (b.failed || b.data == NULL) {
        core_buf_cleanup(&b);
        return NULL;
    }
    {
        size_t len;
        return core_buf_steal(&b, &len);
    }
}
