/* SPDX-License-Identifier: Apache-2.0 */
/* The model a request's path names (api/path.c). Internal to api/. */
#ifndef API_PATH_H
#define API_PATH_H

#include "api.h"
#include "db.h"

#include <stdint.h>

/* The id named by the path parameters {namespace}/{name}: 404 (with a problem
 * detail) when it is malformed. */
enum err api_path_id(const struct api_request *req, struct core_model_id *id,
                     struct api_problem *problem);

/* Loads the model named by the path parameters {namespace}/{name}: 404 (with a
 * problem detail) when the id is malformed or not registered. */
enum err api_path_model(struct db *db, const struct api_request *req, struct core_model *m,
                        struct api_problem *problem);

/* A registered model as write paths need it: its storage key and stored id. */
struct api_model_ref {
    int64_t key;
    struct core_model_id id;
};

/* As api_path_model, reading only the model's key and id (no metadata, no parents). */
enum err api_path_model_ref(struct db *db, const struct api_request *req, struct api_model_ref *m,
                            struct api_problem *problem);

#endif
