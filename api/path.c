/* SPDX-License-Identifier: Apache-2.0 */
/* The model a request's path names: {namespace}/{name} read as an id, and looked
 * up when the handler needs the model. */
#include "path.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* The sub-resources of a model: /v1/models/{name}/<one of these> of a bare model
 * is also the path of the model {name}/<one of these>. */
static const char *const subresources[] = {
    "activities", "ancestors",          "badge.svg",  "family",
    "footprint",  "inference-counters", "inferences", "series",
};

bool api_path_is_subresource(const char *name)
{
    for (size_t i = 0; i < sizeof subresources / sizeof subresources[0]; i++)
        if (strcasecmp(name, subresources[i]) == 0)
            return true;
    return false;
}

static enum err registered(struct db *db, const char *ns, const char *name, bool *is_registered)
{
    struct core_model_id id, stored;
    int64_t key;
    enum err rc;

    *is_registered = false;
    if (core_model_id_from_parts(ns, name, &id) != ERR_OK)
        return ERR_OK;
    rc = db_model_find(db, &id, &key, &stored);
    if (rc == ERR_NOT_FOUND)
        return ERR_OK;
    *is_registered = rc == ERR_OK;
    return rc;
}

enum err api_path_clash(struct db *db, const struct core_model_id *id, struct api_problem *problem)
{
    bool clash = false;
    enum err rc = ERR_OK;

    if (id->ns[0] != '\0') {
        if (api_path_is_subresource(id->name))
            rc = registered(db, "", id->ns, &clash);
        if (rc == ERR_OK && clash)
            return api_fail(problem, ERR_CONFLICT,
                            "model '%s/%s' would have the path of the %s of the model '%s', "
                            "which is registered",
                            id->ns, id->name, id->name, id->ns);
        return rc;
    }
    for (size_t i = 0; rc == ERR_OK && i < sizeof subresources / sizeof subresources[0]; i++) {
        rc = registered(db, id->name, subresources[i], &clash);
        if (rc == ERR_OK && clash)
            return api_fail(problem, ERR_CONFLICT,
                            "model '%s' would have the path of the model '%s/%s', which is "
                            "registered",
                            id->name, id->name, subresources[i]);
    }
    return rc;
}

enum err api_path_id(const struct api_request *req, struct core_model_id *id,
                     struct api_problem *problem)
{
    if (req->n_params < 2 || core_model_id_from_parts(req->params[0], req->params[1], id) != ERR_OK)
        return api_fail(problem, ERR_NOT_FOUND,
                        "no model has this id: ids are 'namespace/name' or a bare 'name', each "
                        "part 1-96 of A-Z a-z 0-9 . _ -");
    return ERR_OK;
}

enum err api_path_model(struct db *db, const struct api_request *req, struct core_model *m,
                        struct api_problem *problem)
{
    struct core_model_id id;
    enum err rc = api_path_id(req, &id, problem);

    if (rc != ERR_OK)
        return rc;
    rc = db_model_get(db, &id, m);
    if (rc == ERR_NOT_FOUND)
        return api_fail(problem, ERR_NOT_FOUND, "model '%s' is not registered",
                        CORE_MODEL_ID_TEXT(&id));
    return rc;
}

enum err api_path_model_ref(struct db *db, const struct api_request *req, struct api_model_ref *m,
                            struct api_problem *problem)
{
    struct core_model_id id;
    enum err rc = api_path_id(req, &id, problem);

    if (rc != ERR_OK)
        return rc;
    rc = db_model_find(db, &id, &m->key, &m->id);
    if (rc == ERR_NOT_FOUND)
        return api_fail(problem, ERR_NOT_FOUND, "model '%s' is not registered",
                        CORE_MODEL_ID_TEXT(&id));
    return rc;
}
