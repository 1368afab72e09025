/* SPDX-License-Identifier: Apache-2.0 */
/* Service routes: liveness, readiness and the OpenAPI document. */
#include "api_internal.h"
#include "embedded.h"

#include <stdlib.h>
#include <string.h>

extern const struct embedded_file api_openapi[];
extern const size_t api_openapi_count;

enum err api_health_get(struct api_service *s, const struct api_request *req,
                        struct api_reply *reply)
{
    (void)s;
    (void)req;
    return api_reply_json(reply, 200, json_pack("{s:s}", "status", "ok"));
}

enum err api_ready_get(struct api_service *s, const struct api_request *req,
                       struct api_reply *reply)
{
    struct db *db = req->db;
    int version = 0;
    enum err rc;

    (void)s;
    rc = db_ping(db);
    if (rc == ERR_OK)
        rc = db_schema_version(db, &version);
    if (rc != ERR_OK) {
        /* Not ready is a 503 whatever the storage said. */
        return api_fail(&reply->problem, rc == ERR_BUSY ? ERR_BUSY : ERR_IO,
                        "the database does not answer");
    }
    return api_reply_json(reply, 200,
                          json_pack("{s:s, s:i}", "status", "ready", "schema_version", version));
}

enum err api_openapi_get(struct api_service *s, const struct api_request *req,
                         struct api_reply *reply)
{
    (void)s;
    (void)req;
    reply->raw = core_malloc(api_openapi[0].len);
    if (reply->raw == NULL)
        return ERR_NO_MEMORY;
    memcpy(reply->raw, api_openapi[0].data, api_openapi[0].len);
    reply->raw_len = api_openapi[0].len;
    reply->content_type = "application/yaml";
    reply->status = 200;
    return ERR_OK;
}
