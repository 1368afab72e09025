/* SPDX-License-Identifier: Apache-2.0 */
/* Checking request bodies: field problems and failure details, the members an
 * object may hold, and the strings and counts read from it. */
#include "input.h"

#include "edit_distance.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum err api_field_error(struct api_problem *problem, const char *pointer, const char *fmt, ...)
{
    struct api_field_problem *fp;
    va_list ap;

    if (problem->n_errors < API_MAX_ERRORS) {
        fp = &problem->errors[problem->n_errors++];
        snprintf(fp->pointer, sizeof fp->pointer, "%s", pointer);
        va_start(ap, fmt);
        vsnprintf(fp->message, sizeof fp->message, fmt, ap);
        va_end(ap);
        if (problem->detail[0] == '\0') {
            /* Built aside: pointer may point into *problem itself. */
            char detail[sizeof problem->detail];
            snprintf(detail, sizeof detail, "%s: %s", fp->pointer[0] ? fp->pointer : "body",
                     fp->message);
            memcpy(problem->detail, detail, sizeof detail);
        }
    }
    return ERR_INVALID_INPUT;
}

enum err api_fail(struct api_problem *problem, enum err rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(problem->detail, sizeof problem->detail, fmt, ap);
    va_end(ap);
    return rc;
}

bool api_name_in_list(const char *name, const char *const *list)
{
    for (; list && *list; list++)
        if (strcmp(name, *list) == 0)
            return true;
    return false;
}

/* Appends ", name" (or name first) at *n unless it leaves no room for ", ..."; then
 * writes ", ..." and answers false. */
static bool append_name(const char *name, char *buf, size_t buf_len, size_t *n)
{
    static const char more[] = ", ...";
    size_t need = strlen(name) + (*n ? 2 : 0);

    if (*n + need + sizeof more > buf_len) {
        snprintf(buf + *n, buf_len - *n, "%s", *n ? more : more + 2);
        return false;
    }
    *n += (size_t)snprintf(buf + *n, buf_len - *n, "%s%s", *n ? ", " : "", name);
    return true;
}

void api_list_names(const char *const *list, const char *last, char *buf, size_t buf_len)
{
    size_t n = 0;

    buf[0] = '\0';
    for (; list && *list; list++)
        if (!append_name(*list, buf, buf_len, &n))
            return;
    if (last)
        append_name(last, buf, buf_len, &n);
}

void api_unknown_name(const char *what, const char *name, const char *const *allowed,
                      const char *also, char *buf, size_t buf_len)
{
    const char *nearest = core_nearest_name(name, allowed);
    char names[160], guess[96] = "";

    if (nearest == NULL && also && core_edit_distance(name, also, true) <= 1)
        nearest = also;
    if (nearest)
        snprintf(guess, sizeof guess, " did you mean '%s'?", nearest);
    api_list_names(allowed, also, names, sizeof names);
    snprintf(buf, buf_len, "unknown %s '%s';%s %s: %s", what, name, guess,
             strcmp(what, "field") == 0 ? "allowed fields" : "accepted parameters",
             names[0] ? names : "none");
}

enum err api_check_members(const json_t *object, const char *prefix, const char *const *allowed,
                           const char *const *read_only, struct api_problem *problem)
{
    const char *key;
    json_t *value;
    enum err rc = ERR_OK;
    char pointer[128], message[256];

    /* jansson's iteration API takes a non-const object; it does not modify it. */
    json_object_foreach((json_t *)(uintptr_t)object, key, value)
    {
        (void)value;
        if (api_name_in_list(key, allowed))
            continue;
        snprintf(pointer, sizeof pointer, "%s/%s", prefix, key);
        if (api_name_in_list(key, read_only)) {
            rc = api_field_error(problem, pointer, "'%s' is read-only and cannot be set", key);
        } else {
            api_unknown_name("field", key, allowed, NULL, message, sizeof message);
            rc = api_field_error(problem, pointer, "%s", message);
        }
    }
    return rc;
}

/* Valid UTF-8 (jansson guarantees it) without control characters. */
static bool is_plain_text(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

enum err api_get_string(const json_t *object, const char *key, const char *pointer, char *buf,
                        size_t buf_len, bool *present, struct api_problem *problem)
{
    const json_t *value = json_object_get(object, key);
    size_t len;

    buf[0] = '\0';
    if (present)
        *present = value != NULL;
    if (value == NULL || json_is_null(value))
        return ERR_OK;
    if (!json_is_string(value))
        return api_field_error(problem, pointer, "must be a string");
    len = json_string_length(value);
    if (len >= buf_len)
        return api_field_error(problem, pointer, "must be at most %zu bytes", buf_len - 1);
    if (memchr(json_string_value(value), '\0', len) != NULL ||
        !is_plain_text(json_string_value(value)))
        return api_field_error(problem, pointer, "must not contain control characters");
    memcpy(buf, json_string_value(value), len + 1);
    return ERR_OK;
}

/* 2^63 as a double: the first value past INT64_MAX, exactly representable, while
 * INT64_MAX itself is not (it rounds up to 2^63). */
#define TWO_TO_THE_63 9223372036854775808.0

enum api_whole api_json_whole(const json_t *v, int64_t *out)
{
    double d;

    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return API_WHOLE_OK;
    }
    if (!json_is_real(v))
        return API_WHOLE_NOT_NUMBER;
    d = json_real_value(v);
    if (!isfinite(d) || d >= TWO_TO_THE_63 || d < -TWO_TO_THE_63)
        return API_WHOLE_BEYOND_64_BITS;
    if (islessgreater(d, trunc(d)))
        return API_WHOLE_FRACTION;
    *out = (int64_t)d;
    return API_WHOLE_OK;
}

enum err api_whole_error(struct api_problem *problem, const char *pointer, enum api_whole how)
{
    switch (how) {
    case API_WHOLE_FRACTION:
        return api_field_error(problem, pointer, "must be a whole number (not a fraction)");
    case API_WHOLE_BEYOND_64_BITS:
        return api_field_error(problem, pointer,
                               "is beyond 64 bits (a whole number here is at most "
                               "9223372036854775807)");
    case API_WHOLE_NOT_NUMBER:
    case API_WHOLE_OK:
        break;
    }
    return api_field_error(problem, pointer, "must be a whole number (not a string or other type)");
}

enum err api_get_count(const json_t *object, const char *key, const char *pointer, int64_t max,
                       int64_t *out, bool *present, struct api_problem *problem)
{
    const json_t *value = json_object_get(object, key);
    enum api_whole how;
    int64_t n = 0;

    if (present)
        *present = value != NULL && !json_is_null(value);
    if (value == NULL || json_is_null(value))
        return ERR_OK;
    how = api_json_whole(value, &n);
    if (how != API_WHOLE_OK)
        return api_whole_error(problem, pointer, how);
    if (n < 0)
        return api_field_error(problem, pointer, "must not be negative");
    if (n > max)
        return api_field_error(problem, pointer, "must be at most %lld", (long long)max);
    *out = n;
    return ERR_OK;
}
