/* SPDX-License-Identifier: Apache-2.0 */
/* The codec of lz.h. A packing is a run of sequences, each a token byte (the
 * literal count in its high nibble, the match length less 4 in its low one, 15
 * meaning that bytes of 255 and a last byte below it follow), the literals, then
 * the match's distance back (two bytes, little-endian) and its further length
 * bytes. The last sequence has literals only. */
#include "lz.h"

#include <stdint.h>
#include <string.h>

#define MIN_MATCH  4
#define MAX_OFFSET 65535
#define HASH_BITS  12

static uint32_t read32(const char *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof v);
    return v;
}

static uint32_t hash4(const char *p)
{
    return (read32(p) * 2654435761u) >> (32 - HASH_BITS);
}

size_t core_lz_bound(size_t len)
{
    return len + len / 255 + 16;
}

/* Writes a count's continuation bytes (count already less 15). */
static char *put_extra(char *op, size_t count)
{
    while (count >= 255) {
        *op++ = (char)255;
        count -= 255;
    }
    *op++ = (char)count;
    return op;
}

/* Emits one sequence; NULL when it does not fit before end. */
static char *put_sequence(char *op, char *end, const char *literals, size_t n_literals,
                          size_t offset, size_t match_len)
{
    size_t need = 1 + n_literals + n_literals / 255 + 1 + (match_len ? 2 + match_len / 255 + 1 : 0);
    size_t lit_code = n_literals < 15 ? n_literals : 15;
    size_t match_code =
        match_len == 0 ? 0 : (match_len - MIN_MATCH < 15 ? match_len - MIN_MATCH : 15);

    if ((size_t)(end - op) < need)
        return NULL;
    *op++ = (char)((lit_code << 4) | match_code);
    if (lit_code == 15)
        op = put_extra(op, n_literals - 15);
    memcpy(op, literals, n_literals);
    op += n_literals;
    if (match_len == 0)
        return op;
    *op++ = (char)(offset & 0xff);
    *op++ = (char)(offset >> 8);
    if (match_code == 15)
        op = put_extra(op, match_len - MIN_MATCH - 15);
    return op;
}

size_t core_lz_pack(const char *in, size_t len, char *out, size_t cap)
{
    uint32_t table[1u << HASH_BITS];
    const char *anchor = in, *ip = in;
    /* A match never starts in the last bytes: the last sequence has literals. */
    const char *limit = len >= MIN_MATCH + 8 ? in + len - MIN_MATCH - 8 : in;
    char *op = out, *end = out + cap;

    memset(table, 0, sizeof table);
    while (ip < limit) {
        uint32_t h = hash4(ip);
        const char *candidate = in + table[h];
        size_t match_len;
        table[h] = (uint32_t)(ip - in);
        if (candidate >= ip || ip - candidate > MAX_OFFSET || read32(candidate) != read32(ip)) {
            ip++;
            continue;
        }
        match_len = MIN_MATCH;
        while (ip + match_len < in + len - 8 && candidate[match_len] == ip[match_len])
            match_len++;
        op = put_sequence(op, end, anchor, (size_t)(ip - anchor), (size_t)(ip - candidate),
                          match_len);
        if (op == NULL)
            return 0;
        ip += match_len;
        anchor = ip;
    }
    op = put_sequence(op, end, anchor, (size_t)(in + len - anchor), 0, 0);
    return op ? (size_t)(op - out) : 0;
}

/* Reads a count's continuation bytes onto *count; false past end. */
static bool get_extra(const unsigned char **ip, const unsigned char *end, size_t *count)
{
    unsigned char b;

    do {
        if (*ip >= end)
            return false;
        b = *(*ip)++;
        *count += b;
    } while (b == 255);
    return true;
}

bool core_lz_unpack(const char *packed, size_t packed_len, char *out, size_t len)
{
    const unsigned char *ip = (const unsigned char *)packed, *end = ip + packed_len;
    char *op = out, *out_end = out + len;

    while (ip < end) {
        unsigned token = *ip++;
        size_t n_literals = token >> 4, match_len = token & 15, offset;
        if (n_literals == 15 && !get_extra(&ip, end, &n_literals))
            return false;
        if ((size_t)(end - ip) < n_literals || (size_t)(out_end - op) < n_literals)
            return false;
        memcpy(op, ip, n_literals);
        ip += n_literals;
        op += n_literals;
        if (ip == end)
            break; /* the last sequence */
        if (end - ip < 2)
            return false;
        offset = (size_t)ip[0] | (size_t)ip[1] << 8;
        ip += 2;
        if (match_len == 15 && !get_extra(&ip, end, &match_len))
            return false;
        match_len += MIN_MATCH;
        if (offset == 0 || offset > (size_t)(op - out) || (size_t)(out_end - op) < match_len)
            return false;
        if (offset >= match_len) {
            memcpy(op, op - offset, match_len);
        } else {
            /* Byte by byte: the match overlaps what it copies (a run). */
            const char *from = op - offset;
            for (size_t i = 0; i < match_len; i++)
                op[i] = from[i];
        }
        op += match_len;
    }
    return op == out_end;
}
