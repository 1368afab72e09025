/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a request's query: parameters by name, the parameters a route accepts,
 * whole numbers within bounds, and percent-encoding values for links. */
#include "query.h"

#include "input.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *api_query_get(const struct api_request *req, const char *key)
{
    for (size_t i = 0; i < req->n_query; i++)
        if (strcmp(req->query[i].key, key) == 0)
            return req->query[i].value ? req->query[i].value : "";
    return NULL;
}

enum err api_check_query(const struct api_request *req, const char *const *allowed,
                         struct api_problem *problem)
{
    char message[256];

    for (size_t i = 0; i < req->n_query; i++) {
        const char *key = req->query[i].key;
        if (strcmp(key, "pretty") == 0 || api_name_in_list(key, allowed))
            continue;
        if (strcmp(key, "access_token") == 0 || strcmp(key, "token") == 0)
            return api_fail(problem, ERR_BAD_REQUEST,
                            "credentials are not accepted in the query string; use the "
                            "Authorization header");
        api_unknown_name("query parameter", key, allowed, "pretty", message, sizeof message);
        api_field_error(problem, key, "%s", message);
        snprintf(problem->detail, sizeof problem->detail, "%s", message);
        return ERR_BAD_REQUEST;
    }
    return ERR_OK;
}

/* Reads text as a whole number written as JSON writes one: digits, or with a
 * fraction or exponent that leaves it whole ("1e2", "100.0"), as a body member. */
static bool parse_whole(const char *text, long long *out)
{
    char *end = NULL;
    double d;

    if (text[0] < '0' || text[0] > '9')
        return false;
    errno = 0;
    *out = strtoll(text, &end, 10);
    if (*end == '\0')
        return errno == 0;
    /* strtod alone would also take "inf", "nan" and hex; only JSON's number
     * characters reach it. */
    if (strspn(text, "0123456789.eE+-") != strlen(text))
        return false;
    d = strtod(text, &end);
    if (*end != '\0' || !isfinite(d) || d >= 9223372036854775808.0 || islessgreater(d, trunc(d)))
        return false;
    *out = (long long)d;
    return true;
}

enum err api_query_int(const struct api_request *req, const char *key, int64_t min, int64_t max,
                       int64_t fallback, int64_t *out, struct api_problem *problem)
{
    const char *text = api_query_get(req, key);
    long long value = 0;

    if (text == NULL) {
        *out = fallback;
        return ERR_OK;
    }
    if (!parse_whole(text, &value) || value < min || value > max) {
        api_field_error(problem, key, "must be a whole number from %lld to %lld", (long long)min,
                        (long long)max);
        snprintf(problem->detail, sizeof problem->detail,
                 "query parameter '%s' must be a whole number from %lld to %lld", key,
                 (long long)min, (long long)max);
        return ERR_BAD_REQUEST;
    }
    *out = value;
    return ERR_OK;
}

void api_url_encode(const char *text, char *buf, size_t buf_len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    for (; *text && n + 4 < buf_len; text++) {
        unsigned char c = (unsigned char)*text;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            buf[n++] = (char)c;
        } else {
            buf[n++] = '%';
            buf[n++] = hex[c >> 4];
            buf[n++] = hex[c & 15];
        }
    }
    buf[n] = '\0';
}
