/* SPDX-License-Identifier: Apache-2.0 */
/* The model a request's path names (api/path.c). Internal to api/. */
#ifndef API_PATH_H
#define API_PATH_H

#include "api.h"
#include "db.h"

#include <stdbool.h>
#include <stdint.h>

/* The id named by the path parameters {namespace}/{name}: 404 (with a problem
 * detail) when it is malformed. */
enum err api_path_id(const struct api_request *req, struct core_model_id *id,
                     struct api_problem *problem);

/* Loads the model named by the path parameters {namespace}/{name}: 404 (with a
 * problem detail) when the id is malformed or not registered. */
enum err api_path_model(struct db *db, const struct api_request *req, struct core_model *m,
                        struct api_problem *problem);

/* Whether name is one of a model's sub-resources (footprint, family, ...), compared
 * as ids compare. */
bool api_path_is_subresource(const char *name);

/* Bare ids share paths with namespaced ones: /v1/models/gpt2/footprint is the
 * footprint of gpt2 and the model gpt2/footprint. Registering id is refused
 * (ERR_CONFLICT, with a problem detail) when the other reading names a registered
 * model: a model {ns}/{sub-resource} when the bare model {ns} is registered, and a
 * bare model {name} when a model {name}/{sub-resource} is registered. ERR_DB on a
 * failed lookup. */
enum err api_path_clash(struct db *db, const struct core_model_id *id, struct api_problem *problem);

/* A registered model as write paths need it: its storage key and stored id. */
struct api_model_ref {
    int64_t key;
    struct core_model_id id;
};

/* As api_path_model, reading only the model's key and id (no metadata, no parents). */
enum err api_path_model_ref(struct db *db, const struct api_request *req, struct api_model_ref *m,
                            struct api_problem *problem);

#endif
