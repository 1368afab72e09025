/* SPDX-License-Identifier: Apache-2.0 */
/* The CORS allow-list and the headers it adds to answers. */
#include "cors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CORS_MAX_ORIGINS 32
#define CORS_ORIGIN_MAX  255

/* Headers a page's script may read beyond the CORS-safelisted ones. */
#define CORS_EXPOSE "ETag, Link, Location, Retry-After, X-Request-Id, Idempotent-Replayed"
/* Request headers the API reads beyond the safelisted ones (Accept, Content-Type of
 * forms): a browser asks before sending any other. */
#define CORS_ALLOW_HEADERS                                                                         \
    "Authorization, Content-Type, Idempotency-Key, If-Match, If-None-Match, X-Request-Id"
/* Seconds a browser may keep a preflight answer (browsers cap it: Chromium at 7200). */
#define CORS_MAX_AGE "600"

struct cors {
    bool is_any; /* "*" */
    size_t n_origins;
    char origins[CORS_MAX_ORIGINS][CORS_ORIGIN_MAX + 1];
};

/* Whether text is an origin as browsers send it (RFC 6454 serialisation):
 * http or https, "://", a host of letters, digits, '.', '-' (or a bracketed IPv6
 * address), an optional ":port", and nothing after (no path, no trailing '/'). */
static bool is_origin(const char *text)
{
    const char *host;
    size_t host_len;

    if (strncasecmp(text, "https://", 8) == 0)
        host = text + 8;
    else if (strncasecmp(text, "http://", 7) == 0)
        host = text + 7;
    else
        return false;
    if (host[0] == '[') {
        host_len = strspn(host + 1, "0123456789abcdefABCDEF:.") + 1;
        if (host[host_len] != ']' || host_len < 3)
            return false;
        host_len++;
    } else {
        host_len = strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-");
        if (host_len == 0)
            return false;
    }
    if (host[host_len] == '\0')
        return true;
    if (host[host_len] != ':')
        return false;
    host += host_len + 1;
    host_len = strspn(host, "0123456789");
    return host_len >= 1 && host_len <= 5 && host[host_len] == '\0';
}

enum err cors_create(const char *list, struct cors **out, char *why, size_t why_len)
{
    struct cors *cors;
    const char *p = list;

    *out = NULL;
    if (list == NULL || strspn(list, " \t") == strlen(list))
        return ERR_OK;
    cors = calloc(1, sizeof *cors);
    if (cors == NULL)
        return ERR_NO_MEMORY;
    while (*p) {
        size_t len;
        char entry[CORS_ORIGIN_MAX + 1];

        p += strspn(p, " \t");
        len = strcspn(p, ",");
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len > CORS_ORIGIN_MAX) {
            snprintf(why, why_len, "--cors-origins: an origin is longer than %d characters",
                     CORS_ORIGIN_MAX);
            goto fail;
        }
        snprintf(entry, sizeof entry, "%.*s", (int)len, p);
        if (strcmp(entry, "*") == 0) {
            cors->is_any = true;
        } else if (!is_origin(entry)) {
            snprintf(why, why_len,
                     "--cors-origins: '%s' is not an origin: give scheme://host[:port] (no path, "
                     "no trailing /), or * alone",
                     entry);
            goto fail;
        } else if (cors->n_origins == CORS_MAX_ORIGINS) {
            snprintf(why, why_len, "--cors-origins: at most %d origins", CORS_MAX_ORIGINS);
            goto fail;
        } else {
            memcpy(cors->origins[cors->n_origins++], entry, len + 1);
        }
        p += strcspn(p, ",");
        if (*p == ',')
            p++;
    }
    if (cors->is_any && cors->n_origins > 0) {
        snprintf(why, why_len, "--cors-origins: * allows every origin; give it alone");
        goto fail;
    }
    *out = cors;
    return ERR_OK;
fail:
    free(cors);
    return ERR_INVALID_INPUT;
}

void cors_destroy(struct cors *cors)
{
    free(cors);
}

/* The Access-Control-Allow-Origin value for origin, or NULL when it is not allowed.
 * Scheme and host compare case-insensitively (a port is digits), so the whole
 * origin does; the browser's own spelling is echoed back. */
static const char *allowed_origin(const struct cors *cors, const char *origin)
{
    if (origin == NULL || origin[0] == '\0')
        return NULL;
    if (cors->is_any)
        return "*";
    for (size_t i = 0; i < cors->n_origins; i++)
        if (strcasecmp(cors->origins[i], origin) == 0)
            return origin;
    return NULL;
}

void cors_add_headers(const struct cors *cors, const char *origin, bool is_preflight,
                      const char *methods, struct MHD_Response *response)
{
    const char *allow;

    if (cors == NULL)
        return;
    /* Whether the answer carries Access-Control-Allow-Origin depends on Origin, so
     * a shared cache must key on it, whatever this request's Origin was. */
    {
        /* One Vary header: join the handler's (e.g. Accept) with Origin. */
        const char *vary = MHD_get_response_header(response, MHD_HTTP_HEADER_VARY);
        char joined[128];
        if (vary != NULL && strstr(vary, "Origin") == NULL) {
            snprintf(joined, sizeof joined, "%s, Origin", vary);
            MHD_del_response_header(response, MHD_HTTP_HEADER_VARY, vary);
            MHD_add_response_header(response, MHD_HTTP_HEADER_VARY, joined);
        } else if (vary == NULL) {
            MHD_add_response_header(response, MHD_HTTP_HEADER_VARY, "Origin");
        }
    }
    allow = allowed_origin(cors, origin);
    if (allow == NULL)
        return;
    MHD_add_response_header(response, "Access-Control-Allow-Origin", allow);
    MHD_add_response_header(response, "Access-Control-Expose-Headers", CORS_EXPOSE);
    if (!is_preflight)
        return;
    MHD_add_response_header(response, "Access-Control-Allow-Methods", methods);
    MHD_add_response_header(response, "Access-Control-Allow-Headers", CORS_ALLOW_HEADERS);
    MHD_add_response_header(response, "Access-Control-Max-Age", CORS_MAX_AGE);
}
