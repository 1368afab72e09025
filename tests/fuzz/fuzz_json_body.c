/* SPDX-License-Identifier: Apache-2.0 */
/* F1 (tests/fuzz/README.md): the JSON decoders of every write body. The first input
 * byte picks the route (byte % 9) and the seeded model (byte / 9 % 4); the remaining
 * bytes, at most 64 KiB, go through the server's decode (duplicates rejected, depth
 * pre-check) and then the real handler over the process's private database.
 * Properties: no crash, leak or undefined behaviour; every reply holds the shared
 * invariants; a refused body changes nothing; a decoded body re-serialised
 * re-parses to an equal value. */
#include "common.h"

#include <stdio.h>
#include <string.h>

struct body_route {
    const char *path; /* for messages and statistics */
    const char *method;
    api_handler_fn handler;
    int n_params; /* 0: none; 2: ns and name; 3: plus the reporter */
    bool is_stateless;
    bool needs_key; /* Idempotency-Key required */
};

/* clang-format off */
static const struct body_route routes[] = {
    {"/v1/models",                                         "POST",  api_models_post,            0, false, false},
    {"/v1/models/{ns}/{name}",                             "PATCH", api_models_patch,           2, false, false},
    {"/v1/models/{ns}/{name}/activities",                  "POST",  api_activities_post,        2, false, false},
    {"/v1/models/{ns}/{name}/inferences",                  "POST",  api_inferences_post,        2, false, true},
    {"/v1/models/{ns}/{name}/inference-counters/{r}",      "PUT",   api_counters_put,           3, false, false},
    {"/v1/inference-reports",                              "POST",  api_inference_reports_post, 0, false, true},
    {"/v1/estimates",                                      "POST",  api_estimates_post,         0, true,  false},
    {"/v1/compare",                                        "POST",  api_compare_post,           0, true,  false},
    {"/v1/tokens",                                         "POST",  api_tokens_post,            0, false, false},
};
/* clang-format on */

#define N_ROUTES (sizeof routes / sizeof routes[0])

static unsigned long long runs;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct body_route *route;
    const char *const *model;
    struct api_request req;
    struct api_reply reply;
    char key[32], authorization[128];
    json_t *body = NULL;
    int64_t version;
    bool has_changed;
    enum err rc;

    if (size < 1)
        return 0;
    route = &routes[data[0] % N_ROUTES];
    model = fuzz_models[data[0] / N_ROUTES % FUZZ_N_MODELS];
    data++;
    size--;
    if (size > FUZZ_BODY_MAX)
        size = FUZZ_BODY_MAX;

    fuzz_request_init(&req, route->method, route->path);
    snprintf(authorization, sizeof authorization, "Bearer %s", fuzz_tokens[0]);
    req.authorization = authorization;
    if (route->needs_key) {
        snprintf(key, sizeof key, "fuzz-body-%llu", runs);
        req.idempotency_key = key;
    }
    if (route->n_params >= 2) {
        req.params[0] = model[0];
        req.params[1] = model[1];
        req.n_params = 2;
    }
    if (route->n_params == 3)
        req.params[req.n_params++] = "fuzz-reporter";
    runs++;

    api_reply_init(&reply);
    version = fuzz_data_version();
    rc = fuzz_decode_body((const char *)data, size, &body, &reply.problem);
    if (rc == ERR_OK) {
        fuzz_check_roundtrip(body);
        req.body = body;
        rc = route->handler(fuzz_service(), &req, &reply);
    }
    if (rc != ERR_OK)
        api_problem_render(rc, &req, &reply);
    fuzz_check_reply(&req, &reply);
    has_changed = fuzz_data_version() != version;
    fuzz_count(route->method, route->path, reply.status, has_changed);
    if (reply.status >= 300 || route->is_stateless)
        FUZZ_CHECK(!has_changed, "%s %s answered %d but changed the database", route->method,
                   route->path, reply.status);
    api_reply_cleanup(&reply);
    json_decref(body);
    if (runs % 1000 == 0)
        fuzz_quick_check();
    return 0;
}
