/* SPDX-License-Identifier: Apache-2.0 */
/* The route table, readable at a glance, and a small segment matcher. */
#include "routes.h"

#include "edit_distance.h"

#include <assert.h>
#include <string.h>
#include <strings.h>

/* clang-format off */
static const struct route routes[] = {
    /* service */
    {"GET",    "/healthz",                               api_health_get,             ROUTE_PUBLIC},
    {"GET",    "/readyz",                                api_ready_get,              ROUTE_PUBLIC},
    {"GET",    "/openapi.yaml",                          api_openapi_get,            ROUTE_PUBLIC},
    {"GET",    "/metrics",                               api_metrics_get,            ROUTE_HTTP_METRICS},
    /* the explorer page: static, public like the OpenAPI document; its data
     * comes from the reads below, which --auth-reads still guards */
    {"GET",    "/",                                      api_explorer_get,           ROUTE_PUBLIC},
    {"GET",    "/explorer/{}",                           api_explorer_asset_get,     ROUTE_PUBLIC},
    /* reference data and the calculator */
    {"GET",    "/v1/methodology",                        api_methodology_get,        0},
    {"GET",    "/v1/hardware",                           api_hardware_list,          0},
    {"GET",    "/v1/regions",                            api_regions_list,           0},
    {"POST",   "/v1/estimates",                          api_estimates_post,         ROUTE_JSON_BODY},
    /* models and lineage */
    {"GET",    "/v1/models",                             api_models_list,            0},
    {"POST",   "/v1/models",                             api_models_post,            ROUTE_JSON_BODY | ROUTE_WRITE},
    {"GET",    "/v1/models/{}/{}",                       api_models_get,             0},
    {"PUT",    "/v1/models/{}/{}",                       api_models_put,             ROUTE_JSON_BODY | ROUTE_WRITE},
    {"PATCH",  "/v1/models/{}/{}",                       api_models_patch,           ROUTE_JSON_BODY | ROUTE_WRITE},
    {"DELETE", "/v1/models/{}/{}",                       api_models_delete,          ROUTE_WRITE},
    /* ids without a namespace (gpt2). GET /v1/models/{name}/{sub-resource} is also
     * the path of the model {name}/{sub-resource}: api_models_get answers it, for the
     * bare model when that is the one registered. */
    {"GET",    "/v1/models/{}",                          api_models_get,             ROUTE_BARE_MODEL},
    {"PUT",    "/v1/models/{}",                          api_models_put,             ROUTE_JSON_BODY | ROUTE_WRITE | ROUTE_BARE_MODEL},
    {"PATCH",  "/v1/models/{}",                          api_models_patch,           ROUTE_JSON_BODY | ROUTE_WRITE | ROUTE_BARE_MODEL},
    {"DELETE", "/v1/models/{}",                          api_models_delete,          ROUTE_WRITE | ROUTE_BARE_MODEL},
    {"POST",   "/v1/models/{}/activities",               api_activities_post,        ROUTE_JSON_BODY | ROUTE_WRITE | ROUTE_BARE_MODEL},
    {"DELETE", "/v1/models/{}/activities/{}",            api_activities_delete,      ROUTE_WRITE | ROUTE_BARE_MODEL},
    {"POST",   "/v1/models/{}/inferences",               api_inferences_post,        ROUTE_JSON_BODY | ROUTE_WRITE | ROUTE_BARE_MODEL},
    {"PUT",    "/v1/models/{}/inference-counters/{}",    api_counters_put,           ROUTE_JSON_BODY | ROUTE_WRITE | ROUTE_BARE_MODEL},
    {"GET",    "/v1/models/{}/{}/ancestors",             api_ancestors_get,          0},
    {"GET",    "/v1/models/{}/{}/family",                api_family_get,             0},
    /* aggregates */
    {"GET",    "/v1/families",                           api_families_list,          0},
    {"GET",    "/v1/totals",                             api_totals_get,             0},
    {"GET",    "/v1/models/{}/{}/series",                api_series_get,             0},
    /* ledger */
    {"GET",    "/v1/models/{}/{}/activities",            api_activities_list,        0},
    {"POST",   "/v1/models/{}/{}/activities",            api_activities_post,        ROUTE_JSON_BODY | ROUTE_WRITE},
    {"DELETE", "/v1/models/{}/{}/activities/{}",         api_activities_delete,      ROUTE_WRITE},
    {"GET",    "/v1/models/{}/{}/inferences",            api_inferences_get,         0},
    {"POST",   "/v1/models/{}/{}/inferences",            api_inferences_post,        ROUTE_JSON_BODY | ROUTE_WRITE},
    {"PUT",    "/v1/models/{}/{}/inference-counters/{}", api_counters_put,           ROUTE_JSON_BODY | ROUTE_WRITE},
    {"POST",   "/v1/inference-reports",                  api_inference_reports_post, ROUTE_JSON_BODY | ROUTE_WRITE},
    /* carbon */
    {"GET",    "/v1/models/{}/{}/footprint",             api_footprint_get,          0},
    {"GET",    "/v1/models/{}/{}/badge.svg",             api_badge_get,              0},
    {"POST",   "/v1/compare",                            api_compare_post,           ROUTE_JSON_BODY},
    /* tokens (admin) */
    {"POST",   "/v1/tokens",                             api_tokens_post,            ROUTE_JSON_BODY | ROUTE_WRITE},
    {"GET",    "/v1/tokens",                             api_tokens_list,            ROUTE_WRITE},
    {"DELETE", "/v1/tokens/{}",                          api_tokens_delete,          ROUTE_WRITE},
};
/* clang-format on */

#define N_ROUTES     (sizeof routes / sizeof routes[0])
#define MAX_SEGMENTS 12

/* Splits path into segments in place; returns how many, or -1 when too many or
 * when the path has an empty segment (a//b, or a trailing slash). */
static int split(char *path, char **segments)
{
    int n = 0;
    char *p = path;

    if (*p != '/')
        return -1;
    while (*p == '/') {
        *p++ = '\0';
        if (*p == '\0' || *p == '/')
            return n == 0 && *p == '\0' ? 0 : -1;
        if (n == MAX_SEGMENTS)
            return -1;
        segments[n++] = p;
        while (*p && *p != '/')
            p++;
    }
    return n;
}

/* Appends ", method" to allow unless a route already put it there. */
static void allow_add(char *allow, const char *method)
{
    size_t len = strlen(method);

    for (const char *p = strstr(allow, method); p; p = strstr(p + 1, method))
        if ((p == allow || p[-1] == ' ') && (p[len] == ',' || p[len] == '\0'))
            return;
    strcat(allow, ", ");
    strcat(allow, method);
}

static bool pattern_matches(const char *pattern, char **segments, int n, const char **params,
                            size_t *n_params)
{
    const char *p = pattern;
    int i = 0;

    *n_params = 0;
    if (strcmp(pattern, "/") == 0)
        return n == 0; /* the root has no segment to match */
    while (*p == '/') {
        const char *end;
        size_t len;
        p++;
        end = strchr(p, '/');
        len = end ? (size_t)(end - p) : strlen(p);
        if (i >= n)
            return false;
        if (len == 2 && p[0] == '{' && p[1] == '}') {
            if (*n_params < API_MAX_PATH_PARAMS)
                params[(*n_params)++] = segments[i];
        } else if (strlen(segments[i]) != len || strncmp(segments[i], p, len) != 0) {
            return false;
        }
        i++;
        p += len;
    }
    return i == n;
}

void route_find(const char *method, char *path, struct route_match *out)
{
    char *segments[MAX_SEGMENTS];
    const char *params[API_MAX_PATH_PARAMS];
    size_t n_params = 0;
    bool is_head = strcmp(method, "HEAD") == 0;
    int n;

    memset(out, 0, sizeof *out);
    n = split(path, segments);
    if (n < 0)
        return;
    for (size_t r = 0; r < N_ROUTES; r++) {
        if (!pattern_matches(routes[r].pattern, segments, n, params, &n_params))
            continue;
        if (!out->path_known)
            strcat(out->allow, "OPTIONS");
        out->path_known = true;
        allow_add(out->allow, routes[r].method);
        if (strcmp(routes[r].method, "GET") == 0)
            allow_add(out->allow, "HEAD");
        if (out->route == NULL && (strcmp(routes[r].method, method) == 0 ||
                                   (is_head && strcmp(routes[r].method, "GET") == 0))) {
            out->route = &routes[r];
            out->n_params = n_params;
            memcpy(out->params, params, sizeof params);
            if (routes[r].flags & ROUTE_BARE_MODEL) {
                assert(n_params < API_MAX_PATH_PARAMS);
                memmove(out->params + 1, out->params, n_params * sizeof out->params[0]);
                out->params[0] = "";
                out->n_params++;
            }
        }
    }
}

const char *route_suggest(const char *path)
{
    const char *best = NULL;
    size_t best_distance = 6; /* suggest only near misses */

    for (size_t r = 0; r < N_ROUTES; r++) {
        size_t d;
        /* The root is near every short path: it would be the answer to all of them. */
        if (strchr(routes[r].pattern, '{') || strcmp(routes[r].pattern, "/") == 0)
            continue;
        d = core_edit_distance(path, routes[r].pattern, false);
        if (d < best_distance) {
            best_distance = d;
            best = routes[r].pattern;
        }
    }
    return best;
}
