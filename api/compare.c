/* SPDX-License-Identifier: Apache-2.0 */
/* POST /v1/compare: two registered models under a policy, or two hypothetical
 * cost lines, and the inference volume beyond which one is cleaner. The core
 * compares; this file parses the sides and renders the answer. */
#include "api_internal.h"
#include "methodology.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One side as parsed: a registered model (its id as stored) or given figures. */
struct side {
    bool is_model;
    struct core_model_id id;
    struct core_compare_side figures;
};

static enum err parse_side(struct db *db, const json_t *side, const char *pointer,
                           enum core_policy policy, struct side *out, struct api_problem *problem)
{
    static const char *const allowed[] = {"model", "fixed_co2e_kg", "co2e_g_per_inference", NULL};
    const json_t *model = json_object_get(side, "model");
    char field[64];

    memset(out, 0, sizeof *out);
    if (!json_is_object(side))
        return api_field_error(problem, pointer,
                               "must be {\"model\": \"ns/name\"} or {\"fixed_co2e_kg\", "
                               "\"co2e_g_per_inference\"}");
    if (api_check_members(side, pointer, allowed, NULL, problem) != ERR_OK)
        return ERR_INVALID_INPUT;
    if (model) {
        struct core_model *m = core_malloc(sizeof *m);
        struct api_footprint footprint;
        enum err rc;
        snprintf(field, sizeof field, "%s/model", pointer);
        if (m == NULL)
            return ERR_NO_MEMORY;
        if (json_object_size(side) != 1 || !json_is_string(model) ||
            core_model_id_parse(json_string_value(model), &out->id) != ERR_OK) {
            free(m);
            return api_field_error(problem, field,
                                   "must be a model id 'namespace/name', given alone");
        }
        rc = db_model_get(db, &out->id, m);
        if (rc == ERR_NOT_FOUND)
            rc = api_field_error(problem, field, "model '%s' is not registered",
                                 json_string_value(model));
        if (rc == ERR_OK)
            rc = api_footprint_load(db, m->key, NULL, policy, &footprint);
        free(m);
        if (rc != ERR_OK)
            return rc;
        out->is_model = true;
        out->id = footprint.fp.self->id;
        if (core_compare_side_of(&footprint.fp, &out->figures) != ERR_OK)
            rc = api_field_error(problem, field,
                                 "model '%s' has no inference profile (PATCH its \"inference\")",
                                 json_string_value(model));
        api_footprint_cleanup(&footprint);
        return rc;
    }
    snprintf(field, sizeof field, "%s/fixed_co2e_kg", pointer);
    if (json_object_get(side, "fixed_co2e_kg") == NULL)
        return api_field_error(problem, field, "required (or give \"model\")");
    if (api_range_parse(json_object_get(side, "fixed_co2e_kg"), field, &out->figures.kg_fixed,
                        problem) != ERR_OK)
        return ERR_INVALID_INPUT;
    if (!(out->figures.kg_fixed.low >= 0) || !(out->figures.kg_fixed.high < 1e15))
        return api_field_error(problem, field, "must be from 0 to 1e15 kg");
    snprintf(field, sizeof field, "%s/co2e_g_per_inference", pointer);
    if (json_object_get(side, "co2e_g_per_inference") == NULL)
        return api_field_error(problem, field, "required (or give \"model\")");
    if (api_range_parse(json_object_get(side, "co2e_g_per_inference"), field,
                        &out->figures.g_per_inference, problem) != ERR_OK)
        return ERR_INVALID_INPUT;
    if (!(out->figures.g_per_inference.low >= 0) || !(out->figures.g_per_inference.high < 1e12))
        return api_field_error(problem, field, "must be from 0 to 1e12 g");
    return ERR_OK;
}

static json_t *side_json(const struct side *side)
{
    char id[CORE_MODEL_ID_MAX + 1];
    json_t *o = json_pack("{s:o, s:o}", "fixed_co2e_kg", api_range_json(side->figures.kg_fixed),
                          "co2e_g_per_inference", api_range_json(side->figures.g_per_inference));

    if (side->is_model)
        api_json_set(&o, "model", json_string(core_model_id_format(&side->id, id, sizeof id)));
    return o;
}

static const char *crossover_name(enum core_crossover_kind kind)
{
    switch (kind) {
    case CORE_CROSSOVER_EQUAL:
        return "equal";
    case CORE_CROSSOVER_A_ALWAYS:
        return "a_always_cleaner";
    case CORE_CROSSOVER_B_ALWAYS:
        return "b_always_cleaner";
    case CORE_CROSSOVER_B_BEYOND:
        return "b_cleaner_beyond";
    case CORE_CROSSOVER_A_BEYOND:
        return "a_cleaner_beyond";
    }
    return "unknown";
}

enum err api_compare_post(struct api_service *s, const struct api_request *req,
                          struct api_reply *reply)
{
    static const char *const allowed[] = {"a", "b", "policy", "volume", NULL};
    static const char *const cleaner_names[] = {"a", "b", "tie"};
    struct side a, b;
    struct core_comparison c;
    struct core_field_error fe;
    enum core_policy policy = CORE_POLICY_USAGE;
    const json_t *policy_json = json_object_get(req->body, "policy");
    const json_t *volume = json_object_get(req->body, "volume");
    struct db *db = req->db;
    json_t *body;
    enum err rc;

    (void)s; /* the request carries the connection */

    if (!json_is_object(req->body))
        return api_field_error(&reply->problem, "", "the body must be a JSON object");
    rc = api_check_members(req->body, "", allowed, NULL, &reply->problem);
    if (rc != ERR_OK)
        return rc;
    if (policy_json && (!json_is_string(policy_json) ||
                        core_policy_parse(json_string_value(policy_json), &policy) != ERR_OK))
        return api_field_error(&reply->problem, "/policy", "must be none, equal or usage");
    if (volume && (!json_is_number(volume) || !(json_number_value(volume) >= 0) ||
                   !(json_number_value(volume) <= 1e18)))
        return api_field_error(&reply->problem, "/volume",
                               "must be a number of inferences from 0 to 1e18");
    if (rc == ERR_OK)
        rc = db_read_begin(db);
    if (rc != ERR_OK)
        return rc;
    rc = parse_side(db, json_object_get(req->body, "a"), "/a", policy, &a, &reply->problem);
    if (rc == ERR_OK)
        rc = parse_side(db, json_object_get(req->body, "b"), "/b", policy, &b, &reply->problem);
    db_read_end(db);
    if (rc != ERR_OK)
        return rc;
    if (core_compare(&a.figures, &b.figures, volume != NULL, volume ? json_number_value(volume) : 0,
                     &c, &fe) != ERR_OK)
        return api_field_from_core(&reply->problem, &fe);
    body =
        json_pack("{s:o, s:o, s:s, s:{s:s}}", "a", side_json(&a), "b", side_json(&b), "policy",
                  core_policy_name(policy), "crossover", "kind", crossover_name(c.crossover.kind));
    if (body == NULL)
        return ERR_NO_MEMORY;
    if (json_object_set_new(json_object_get(body, "crossover"), "volume",
                            c.crossover.kind == CORE_CROSSOVER_A_BEYOND ||
                                    c.crossover.kind == CORE_CROSSOVER_B_BEYOND
                                ? json_real(c.crossover.volume)
                                : json_null()) != 0) {
        json_decref(body);
        return ERR_NO_MEMORY;
    }
    if (c.has_volume)
        api_json_set(&body, "at_volume",
                     json_pack("{s:f, s:f, s:f, s:s}", "volume", c.volume, "a_co2e_kg",
                               c.a_kg_at_volume, "b_co2e_kg", c.b_kg_at_volume, "cleaner",
                               cleaner_names[c.cleaner_at_volume]));
    api_json_set(&body, "methodology_version", json_string(CORE_METHODOLOGY_VERSION));
    return api_reply_json(reply, 200, body);
}
