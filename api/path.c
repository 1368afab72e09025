/* SPDX-License-Identifier: Apache-2.0 */
/* The model a request's path names: {namespace}/{name} read as an id, and looked
 * up when the handler needs the model. */
#include "path.h"

enum err api_path_id(const struct api_request *req, struct core_model_id *id,
                     struct api_problem *problem)
{
    if (req->n_params < 2 || core_model_id_from_parts(req->params[0], req->params[1], id) != ERR_OK)
        return api_fail(problem, ERR_NOT_FOUND,
                        "no model has this id: ids are 'namespace/name', each part 1-96 of "
                        "A-Z a-z 0-9 . _ -");
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
        return api_fail(problem, ERR_NOT_FOUND, "model '%s/%s' is not registered", id.ns, id.name);
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
        return api_fail(problem, ERR_NOT_FOUND, "model '%s/%s' is not registered", id.ns, id.name);
    return rc;
}
