/* SPDX-License-Identifier: Apache-2.0 */
/* JSON text written directly, byte for byte as jansson dumps the same values with
 * API_DUMP_FLAGS: for footprints and family pages, the hot reads, where building a
 * tree of a hundred values only to dump it cost more than the SQL. Internal to api/. */
#ifndef API_JSON_TEXT_H
#define API_JSON_TEXT_H

#include "api_internal.h" /* API_DUMP_FLAGS, which the text matches */
#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A text being written, members in the order they are written. Start from {0}; on
 * allocation failure (or a value JSON cannot hold) every call does nothing and
 * buf.failed is set. */
struct text {
    struct core_buf buf;
};

/* Appends n bytes as they are. */
void text_raw(struct text *t, const char *bytes, size_t n);

/* "" literal "": only a string literal compiles here, never a pointer. */
#define TEXT_LIT(t, literal) text_raw((t), "" literal "", sizeof literal - 1)

/* A jansson value (stolen) as the server would dump it: for the rare parts. NULL
 * fails the text. */
void text_json(struct text *t, json_t *value);

/* A string escaped as jansson does with JSON_ENSURE_ASCII. Not UTF-8: jansson
 * refuses it, and the text fails. */
void text_string(struct text *t, const char *s);

void text_int(struct text *t, int64_t value);

/* A range as {"value", "low", "high"}, as api_range_json writes it. */
void text_range(struct text *t, struct core_range r);

/* As jansson writes a real: "%.15g", then ".0" when that reads as an integer, and
 * no '+' or leading zeros in the exponent. Not finite: jansson has no such value,
 * and the text fails. */
void text_real(struct text *t, double value);

/* text_real's path without printf, for 1e-13 <= |value| < 1e15: false (nothing
 * written) when its rounding to 15 digits is not certain. Declared for the test,
 * which counts how often it is taken. */
bool text_real_digits(struct text *t, double value);

/* "key": (a comma first unless the member opens its object). */
void text_key(struct text *t, const char *key, bool is_first);

/* Hands the finished text, a newline added, to reply (api_reply_text_etag); t is
 * empty afterwards. ERR_NO_MEMORY (text freed) when the text failed. */
enum err text_reply(struct text *t, const struct api_request *req, struct api_reply *reply);

#endif
