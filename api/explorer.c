/* SPDX-License-Identifier: Apache-2.0 */
/* GET / and GET /explorer/{id}: the explorer page and its script, style and icon,
 * embedded in the binary from web/ at build time. The page reads the JSON API
 * like any other client; nothing here touches the database. */
#include "api_internal.h"
#include "embedded.h"

#include <stdlib.h>
#include <string.h>

extern const struct embedded_file api_explorer[];
extern const size_t api_explorer_count;

/* Everything the page runs or styles comes from this origin: no inline script or
 * style, no frames, no plugins, and the page may not be framed itself. The chart
 * is SVG the script draws in the page, so images need nothing more. */
static const char csp[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
                          "img-src 'self'; connect-src 'self'; object-src 'none'; "
                          "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

static const struct {
    const char *name; /* as the page links it, after /explorer/ */
    const char *path; /* as embedded, relative to the source tree */
    const char *content_type;
} assets[] = {
    {"", "web/index.html", "text/html; charset=utf-8"},
    {"app.js", "web/app.js", "text/javascript; charset=utf-8"},
    {"app.css", "web/app.css", "text/css; charset=utf-8"},
    {"icon.svg", "web/icon.svg", "image/svg+xml"},
};

static const struct embedded_file *embedded_find(const char *path)
{
    for (size_t i = 0; i < api_explorer_count; i++)
        if (strcmp(api_explorer[i].path, path) == 0)
            return &api_explorer[i];
    return NULL;
}

static enum err serve_asset(const char *name, const struct api_request *req,
                            struct api_reply *reply)
{
    const struct embedded_file *file = NULL;
    const char *content_type = NULL;
    char *bytes;

    for (size_t i = 0; i < sizeof assets / sizeof assets[0]; i++) {
        if (strcmp(assets[i].name, name) == 0) {
            file = embedded_find(assets[i].path);
            content_type = assets[i].content_type;
        }
    }
    if (file == NULL)
        return api_fail(&reply->problem, ERR_NOT_FOUND, "the explorer has no asset '%s'", name);
    bytes = core_malloc(file->len > 0 ? file->len : 1);
    if (bytes == NULL)
        return ERR_NO_MEMORY;
    memcpy(bytes, file->data, file->len);
    api_reply_header(reply, "Content-Security-Policy", csp);
    api_reply_header(reply, "X-Content-Type-Options", "nosniff");
    api_reply_header(reply, "Referrer-Policy", "no-referrer");
    /* The assets change only with the binary: a browser keeps them but asks again
     * (If-None-Match) on each load, so an upgrade shows at once. */
    api_reply_header(reply, "Cache-Control", "no-cache");
    return api_reply_bytes_etag(req, reply, bytes, file->len, content_type);
}

enum err api_explorer_get(struct api_service *s, const struct api_request *req,
                          struct api_reply *reply)
{
    /* A query is ignored: the page keeps its state after the #, and a link that
     * picked up tracking parameters still opens it. */
    (void)s;
    return serve_asset("", req, reply);
}

enum err api_explorer_asset_get(struct api_service *s, const struct api_request *req,
                                struct api_reply *reply)
{
    (void)s;
    /* "" names the page itself, which lives at / only. */
    if (req->params[0][0] == '\0')
        return api_fail(&reply->problem, ERR_NOT_FOUND, "the explorer page is at /");
    return serve_asset(req->params[0], req, reply);
}
