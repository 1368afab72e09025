/* SPDX-License-Identifier: Apache-2.0 */
/* /v1/models: register, read, list, update and delete models and their lineage.
 * Accepts the Hugging Face card fields base_model and base_model_relation as they
 * appear in cards. */
#include "api_internal.h"
#include "units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MODELS_PAGE_DEFAULT  50
#define MODELS_PAGE_MAX      500
#define MODEL_PARAMETERS_MAX 100000000000000LL /* 1e14: above any model built so far */

static const char *const read_only_fields[] = {
    "namespace", "name", "depth", "version", "children_count", "created_at", "updated_at", NULL};

/* One JSON object for a model, as openapi.yaml's Model schema. New reference. */
static json_t *model_to_json(const struct core_model *m)
{
    char id[CORE_MODEL_ID_MAX + 1];
    json_t *parents = json_array();
    json_t *o;

    if (parents == NULL)
        return NULL;
    for (size_t i = 0; i < m->n_parents; i++) {
        char parent_id[CORE_MODEL_ID_MAX + 1];
        json_array_append_new(
            parents, json_pack("{s:s, s:s}", "id",
                               core_model_id_format(&m->parents[i].id, parent_id, sizeof parent_id),
                               "relation", core_relation_name(m->parents[i].relation)));
    }
    o = json_pack("{s:s, s:s, s:s, s:o, s:I, s:I, s:I, s:s, s:s}", "id",
                  core_model_id_format(&m->id, id, sizeof id), "namespace", m->id.ns, "name",
                  m->id.name, "parents", parents, "depth", (json_int_t)m->depth, "children_count",
                  (json_int_t)m->n_children, "version", (json_int_t)m->version, "created_at",
                  m->created_at, "updated_at", m->updated_at);
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "task", m->task[0] ? json_string(m->task) : json_null());
    json_object_set_new(o, "license", m->license[0] ? json_string(m->license) : json_null());
    json_object_set_new(o, "url", m->url[0] ? json_string(m->url) : json_null());
    json_object_set_new(o, "parameters",
                        m->has_parameters ? json_integer(m->parameters) : json_null());
    return o;
}

/* Adds the "inference" profile member (null when none) from its stored form. */
static enum err attach_profile(struct db *db, const struct core_model *m, json_t *o)
{
    struct core_inference_profile profile;
    bool has_profile;
    enum err rc;

    if (o == NULL)
        return ERR_NO_MEMORY;
    rc = db_profile_get(db, m->key, &profile, &has_profile);
    if (rc != ERR_OK)
        return rc;
    json_object_set_new(o, "inference", has_profile ? api_profile_json(&profile) : json_null());
    return ERR_OK;
}

static void set_model_headers(struct api_reply *reply, const struct core_model *m)
{
    char etag[32];

    api_etag(m->version, etag, sizeof etag);
    api_reply_header(reply, "ETag", etag);
}

/* Parses one parent reference {"id", "relation"} at pointer. */
static enum err parse_parent_object(const json_t *item, const char *pointer,
                                    struct core_parent_ref *out, struct api_problem *problem)
{
    static const char *const allowed[] = {"id", "relation", NULL};
    const json_t *id = json_object_get(item, "id");
    const json_t *relation = json_object_get(item, "relation");
    char field[160];

    if (!json_is_object(item))
        return api_field_error(problem, pointer, "must be an object with 'id' and 'relation'");
    if (api_check_members(item, pointer, allowed, NULL, problem) != ERR_OK)
        return ERR_INVALID_INPUT;
    snprintf(field, sizeof field, "%s/id", pointer);
    if (!json_is_string(id))
        return api_field_error(problem, field, "required: the parent's id as 'namespace/name'");
    if (core_model_id_parse(json_string_value(id), &out->id) != ERR_OK)
        return api_field_error(problem, field,
                               "'%.200s' is not a model id: expected 'namespace/name', each part "
                               "1-96 of A-Z a-z 0-9 . _ - not starting with . or -",
                               json_string_value(id));
    snprintf(field, sizeof field, "%s/relation", pointer);
    if (relation == NULL || json_is_null(relation)) {
        out->relation = CORE_RELATION_FINETUNE;
        return ERR_OK;
    }
    if (!json_is_string(relation) ||
        core_relation_parse(json_string_value(relation), &out->relation) != ERR_OK)
        return api_field_error(problem, field,
                               "must be one of finetune, adapter, quantized, merge, distillation");
    return ERR_OK;
}

/* Reads "parents" or the Hub card fields "base_model" (+ "base_model_relation")
 * into m->parents. *given says whether the body named any lineage at all. */
static enum err parse_lineage(const json_t *body, struct core_model *m, bool *given,
                              struct api_problem *problem)
{
    const json_t *parents = json_object_get(body, "parents");
    const json_t *base = json_object_get(body, "base_model");
    const json_t *base_relation = json_object_get(body, "base_model_relation");
    char pointer[64];
    enum err rc = ERR_OK;

    m->n_parents = 0;
    *given = parents != NULL || base != NULL;
    if (parents && base)
        return api_field_error(problem, "/base_model",
                               "give either 'parents' or the card's 'base_model', not both");
    if (base_relation && !base)
        return api_field_error(problem, "/base_model_relation", "needs 'base_model'");
    if (parents) {
        if (!json_is_array(parents))
            return api_field_error(problem, "/parents", "must be an array");
        if (json_array_size(parents) > CORE_MODEL_MAX_PARENTS)
            return api_field_error(problem, "/parents", "at most %d parents",
                                   CORE_MODEL_MAX_PARENTS);
        for (size_t i = 0; i < json_array_size(parents); i++) {
            snprintf(pointer, sizeof pointer, "/parents/%zu", i);
            if (parse_parent_object(json_array_get(parents, i), pointer, &m->parents[i], problem) !=
                ERR_OK)
                rc = ERR_INVALID_INPUT;
            m->n_parents = i + 1;
        }
        return rc;
    }
    if (base) {
        enum core_relation relation;
        size_t n = json_is_array(base) ? json_array_size(base) : 1;
        if (!json_is_string(base) && !json_is_array(base))
            return api_field_error(problem, "/base_model", "must be a model id or a list of ids");
        if (n == 0 || n > CORE_MODEL_MAX_PARENTS)
            return api_field_error(problem, "/base_model", "must name 1 to %d models",
                                   CORE_MODEL_MAX_PARENTS);
        /* The Hub infers the relation when the card does not say; a list is a merge. */
        relation = n > 1 ? CORE_RELATION_MERGE : CORE_RELATION_FINETUNE;
        if (base_relation && !json_is_null(base_relation) &&
            (!json_is_string(base_relation) ||
             core_relation_parse(json_string_value(base_relation), &relation) != ERR_OK))
            return api_field_error(problem, "/base_model_relation",
                                   "must be one of finetune, adapter, quantized, merge, "
                                   "distillation");
        for (size_t i = 0; i < n; i++) {
            const json_t *item = json_is_array(base) ? json_array_get(base, i) : base;
            if (json_is_array(base))
                snprintf(pointer, sizeof pointer, "/base_model/%zu", i);
            else
                snprintf(pointer, sizeof pointer, "/base_model");
            if (!json_is_string(item) ||
                core_model_id_parse(json_string_value(item), &m->parents[i].id) != ERR_OK) {
                rc = api_field_error(problem, pointer, "must be a model id 'namespace/name'");
                continue;
            }
            m->parents[i].relation = relation;
        }
        m->n_parents = n;
    }
    return rc;
}

/* The Hub card's co2_eq_emissions (huggingface.co/docs/hub/model-cards-co2): a
 * mapping whose "emissions" is in grams of CO2e, or the legacy bare number (grams).
 * Builds the body of the "reported" activity it becomes; the kind comes from
 * training_type (pre-training -> training, fine-tuning -> fine_tuning; absent: a
 * base model's is training, a derived model's fine_tuning; other text -> other). */
static enum err card_emissions(const json_t *card, bool has_parents, json_t **activity,
                               struct api_problem *problem)
{
    static const char *const allowed[] = {
        "emissions",      "source",     "training_type", "geographical_location",
        "hardware_used",  "hours_used", "cpu_model",     "gpu_model",
        "ram_total_size", "on_cloud",   "cloud_region",  NULL};
    const json_t *grams = json_is_object(card) ? json_object_get(card, "emissions") : card;
    const json_t *training_type = json_object_get(card, "training_type");
    const char *kind = has_parents ? "fine_tuning" : "training";
    char note[500];
    char *text;

    if (!json_is_object(card) && !json_is_number(card))
        return api_field_error(problem, "/co2_eq_emissions",
                               "must be a number of grams or a mapping with \"emissions\" in "
                               "grams");
    if (json_is_object(card) &&
        api_check_members(card, "/co2_eq_emissions", allowed, NULL, problem) != ERR_OK)
        return ERR_INVALID_INPUT;
    if (!json_is_number(grams) || !(json_number_value(grams) >= 0) ||
        !(json_number_value(grams) <= 1e15))
        return api_field_error(
            problem, json_is_object(card) ? "/co2_eq_emissions/emissions" : "/co2_eq_emissions",
            "must be grams of CO2e, from 0 to 1e15");
    if (training_type && !json_is_string(training_type))
        return api_field_error(problem, "/co2_eq_emissions/training_type", "must be a text");
    if (training_type) {
        const char *t = json_string_value(training_type);
        if (strcasecmp(t, "pre-training") == 0 || strcasecmp(t, "pretraining") == 0 ||
            strcasecmp(t, "pre_training") == 0 || strcasecmp(t, "training") == 0)
            kind = "training";
        else if (strcasecmp(t, "fine-tuning") == 0 || strcasecmp(t, "finetuning") == 0 ||
                 strcasecmp(t, "fine_tuning") == 0)
            kind = "fine_tuning";
        else
            kind = "other";
    }
    text = json_dumps(card, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
    snprintf(note, sizeof note, "model card co2_eq_emissions: %.440s", text ? text : "");
    free(text);
    *activity = json_pack("{s:s, s:s, s:f, s:s}", "kind", kind, "obtained", "reported", "co2e_kg",
                          core_g_to_kg(json_number_value(grams)), "note", note);
    return *activity ? ERR_OK : ERR_NO_MEMORY;
}

/* Checks the storage-free lineage rules and reports the offending parent. */
static enum err check_lineage(const struct core_model *m, bool from_card,
                              struct api_problem *problem)
{
    size_t bad = 0;
    enum core_lineage_violation v = core_lineage_check(&m->id, m->parents, m->n_parents, &bad);
    char pointer[64];

    if (v == CORE_LINEAGE_OK)
        return ERR_OK;
    if (from_card && m->n_parents > 1)
        snprintf(pointer, sizeof pointer, "/base_model/%zu", bad);
    else if (from_card)
        snprintf(pointer, sizeof pointer, "/base_model");
    else
        snprintf(pointer, sizeof pointer, "/parents/%zu", bad);
    return api_field_error(problem, pointer, "%s", core_lineage_violation_text(v));
}

/* Metadata members shared by POST and PATCH. */
static enum err parse_metadata(const json_t *body, struct core_model *m, bool is_patch,
                               struct api_problem *problem)
{
    enum err rc = ERR_OK;
    bool present;

    if (api_get_string(body, "task", "/task", m->task, sizeof m->task, &present, problem) != ERR_OK)
        rc = ERR_INVALID_INPUT;
    if (api_get_string(body, "license", "/license", m->license, sizeof m->license, &present,
                       problem) != ERR_OK)
        rc = ERR_INVALID_INPUT;
    if (api_get_string(body, "url", "/url", m->url, sizeof m->url, &present, problem) != ERR_OK)
        rc = ERR_INVALID_INPUT;
    else if (m->url[0] && strncmp(m->url, "https://", 8) != 0 && strncmp(m->url, "http://", 7) != 0)
        rc = api_field_error(problem, "/url", "must be an http or https URL");
    if (api_get_count(body, "parameters", "/parameters", MODEL_PARAMETERS_MAX, &m->parameters,
                      &m->has_parameters, problem) != ERR_OK)
        rc = ERR_INVALID_INPUT;
    (void)is_patch;
    return rc;
}

/* Maps a lineage storage failure to the documented answer. */
static enum err lineage_store_error(enum err rc, const struct core_model *m, size_t bad,
                                    bool from_card, struct api_problem *problem)
{
    char pointer[64], parent[CORE_MODEL_ID_MAX + 1];

    if (from_card)
        snprintf(pointer, sizeof pointer, m->n_parents > 1 ? "/base_model/%zu" : "/base_model",
                 bad);
    else
        snprintf(pointer, sizeof pointer, "/parents/%zu/id", bad);
    if (bad < m->n_parents)
        core_model_id_format(&m->parents[bad].id, parent, sizeof parent);
    else
        parent[0] = '\0';
    switch (rc) {
    case ERR_NOT_FOUND:
        return api_field_error(problem, pointer, "unknown parent model '%s'", parent);
    case ERR_INVALID_INPUT:
        return api_field_error(problem, from_card ? "/base_model" : "/parents",
                               "the lineage would be deeper than %d generations",
                               CORE_LINEAGE_MAX_DEPTH);
    case ERR_COUNT_OVERFLOW:
        return api_field_error(problem, pointer,
                               "under '%s' the family's inference total would exceed "
                               "9223372036854775807",
                               parent);
    case ERR_CONFLICT:
        api_field_error(problem, pointer,
                        "'%s' descends from this model: the edge would close a cycle", parent);
        snprintf(problem->detail, sizeof problem->detail,
                 "making '%s' a parent would close a cycle in the lineage", parent);
        return ERR_CONFLICT;
    default:
        return rc;
    }
}

enum err api_model_parse(const json_t *body, const char *const *extra_members, struct core_model *m,
                         bool *from_card, json_t **card_activity, struct api_problem *problem)
{
    static const char *const fields[] = {
        "id",   "parents", "base_model", "base_model_relation", "co2_eq_emissions",
        "task", "license", "url",        "parameters",          NULL};
    const char *allowed[sizeof fields / sizeof *fields + 8];
    size_t n_allowed = 0;
    const json_t *id;
    bool lineage_given = false;
    enum err rc;

    memset(m, 0, sizeof *m);
    *card_activity = NULL;
    *from_card = false;
    if (!json_is_object(body))
        return api_field_error(problem, "", "the body must be a JSON object");
    for (const char *const *f = fields; *f; f++)
        allowed[n_allowed++] = *f;
    for (const char *const *f = extra_members; f && *f && n_allowed + 1 < 18; f++)
        allowed[n_allowed++] = *f;
    allowed[n_allowed] = NULL;
    rc = api_check_members(body, "", allowed, read_only_fields, problem);
    id = json_object_get(body, "id");
    if (!json_is_string(id))
        rc = api_field_error(problem, "/id", "required: the model id as 'namespace/name'");
    else if (core_model_id_parse(json_string_value(id), &m->id) != ERR_OK)
        rc = api_field_error(problem, "/id",
                             "'%.200s' is not a model id: expected 'namespace/name', each part "
                             "1-96 of A-Z a-z 0-9 . _ - not starting with . or -",
                             json_string_value(id));
    if (parse_metadata(body, m, false, problem) != ERR_OK)
        rc = ERR_INVALID_INPUT;
    if (parse_lineage(body, m, &lineage_given, problem) != ERR_OK)
        rc = ERR_INVALID_INPUT;
    *from_card = json_object_get(body, "base_model") != NULL;
    if (rc == ERR_OK)
        rc = check_lineage(m, *from_card, problem);
    if (rc == ERR_OK && json_object_get(body, "co2_eq_emissions"))
        rc = card_emissions(json_object_get(body, "co2_eq_emissions"), m->n_parents > 0,
                            card_activity, problem);
    return rc;
}

enum err api_model_insert_error(enum err rc, const struct core_model *m, size_t bad_parent,
                                bool from_card, struct api_problem *problem)
{
    char id_text[CORE_MODEL_ID_MAX + 1];

    if (rc != ERR_CONFLICT)
        return lineage_store_error(rc, m, bad_parent, from_card, problem);
    core_model_id_format(&m->id, id_text, sizeof id_text);
    api_field_error(problem, "/id", "a model with this id exists");
    return api_fail(problem, ERR_CONFLICT, "model '%s' already exists", id_text);
}

enum err api_models_post(struct api_service *s, const struct api_request *req,
                         struct api_reply *reply)
{
    struct core_model *m;
    struct db *db = req->db;
    json_t *body = NULL, *card_activity = NULL;
    size_t bad = 0;
    bool from_card = false;
    char location[256];
    struct api_principal principal;
    enum err rc;

    rc = api_require(s, req, API_SCOPE_MODELS_WRITE, NULL, &principal, reply);
    if (rc != ERR_OK)
        return rc;

    if (!json_is_object(req->body))
        return api_field_error(&reply->problem, "", "the body must be a JSON object");
    m = core_calloc(1, sizeof *m);
    if (m == NULL)
        return ERR_NO_MEMORY;
    rc = api_model_parse(req->body, NULL, m, &from_card, &card_activity, &reply->problem);
    /* Parents may be any hub's models (cross-hub lineage); the new model itself must
     * be in one of the token's namespaces. */
    if (rc == ERR_OK)
        rc = api_authorize(&principal, API_SCOPE_MODELS_WRITE, m->id.ns, reply);
    if (rc != ERR_OK)
        goto out;
    rc = db_write_begin(db);
    if (rc != ERR_OK)
        goto out;
    rc = db_model_insert(db, m, &bad);
    if (rc == ERR_OK && card_activity) {
        struct db_activity activity;
        rc = api_activity_add(db, m, card_activity, &activity, &reply->problem);
        if (rc != ERR_OK) {
            db_write_rollback(db);
            goto out;
        }
        db_activity_cleanup(&activity);
    }
    if (rc == ERR_OK) {
        /* The answer is built before the commit: a model must not be registered
         * while its answer is a 500. The same representation as GET: a new model
         * has no profile yet. */
        body = model_to_json(m);
        if (body == NULL || json_object_set_new(body, "inference", json_null()) != 0) {
            db_write_rollback(db);
            json_decref(body);
            rc = ERR_NO_MEMORY;
            goto out;
        }
        rc = db_write_commit(db);
    } else {
        db_write_rollback(db);
        rc = api_model_insert_error(rc, m, bad, from_card, &reply->problem);
    }
    if (rc != ERR_OK) {
        json_decref(body);
        goto out;
    }
    api_changes_report(s, req, API_CHANGE_MODEL_ADDED, 1);
    if (card_activity)
        api_changes_report(s, req, API_CHANGE_ACTIVITY_ADDED, 1);
    snprintf(location, sizeof location, "/v1/models/%s/%s", m->id.ns, m->id.name);
    api_reply_header(reply, "Location", location);
    set_model_headers(reply, m);
    rc = api_reply_json(reply, 201, body);
out:
    json_decref(card_activity);
    free(m);
    return rc;
}

static enum err model_not_found(const struct core_model_id *id, struct api_problem *problem)
{
    return api_fail(problem, ERR_NOT_FOUND, "model '%s/%s' is not registered", id->ns, id->name);
}

enum err api_models_get(struct api_service *s, const struct api_request *req,
                        struct api_reply *reply)
{
    struct core_model_id id;
    struct core_model *m;
    struct db *db = req->db;
    json_t *body = NULL;
    char etag[32];
    enum err rc;

    (void)s;
    rc = api_check_query(req, NULL, &reply->problem);
    if (rc == ERR_OK)
        rc = api_path_id(req, &id, &reply->problem);
    if (rc != ERR_OK)
        return rc;
    m = core_malloc(sizeof *m);
    if (m == NULL)
        return ERR_NO_MEMORY;
    rc = db_read_begin(db);
    if (rc == ERR_OK) {
        rc = db_model_get(db, &id, m);
        if (rc == ERR_OK) {
            body = model_to_json(m);
            rc = attach_profile(db, m, body);
        }
        db_read_end(db);
    }
    if (rc == ERR_NOT_FOUND)
        rc = model_not_found(&id, &reply->problem);
    if (rc != ERR_OK)
        goto out;
    set_model_headers(reply, m);
    api_etag(m->version, etag, sizeof etag);
    if (api_etag_matches(req->if_none_match, etag)) {
        reply->status = 304;
        goto out;
    }
    rc = api_reply_json(reply, 200, body);
    body = NULL;
out:
    json_decref(body);
    free(m);
    return rc;
}

/* The CSV form of a page of models (RFC 4180, CRLF): one row per model, parents as
 * "id:relation" joined by ';', absent optional fields empty. */
static enum err models_csv(const struct core_model *items, size_t n, struct api_reply *reply)
{
    struct api_csv csv = {0};
    char id[CORE_MODEL_ID_MAX + 1];

    api_csv_header(&csv, "id,namespace,name,parents,depth,children_count,task,license,url,"
                         "parameters,created_at,updated_at");
    for (size_t i = 0; i < n; i++) {
        const struct core_model *m = &items[i];
        struct api_csv parents = {0};
        for (size_t p = 0; p < m->n_parents; p++) {
            const char *relation = core_relation_name(m->parents[p].relation);
            core_model_id_format(&m->parents[p].id, id, sizeof id);
            if (p)
                api_csv_raw(&parents, ";", 1);
            api_csv_raw(&parents, id, strlen(id));
            api_csv_raw(&parents, ":", 1);
            api_csv_raw(&parents, relation, strlen(relation));
        }
        api_csv_field(&csv, core_model_id_format(&m->id, id, sizeof id));
        api_csv_field(&csv, m->id.ns);
        api_csv_field(&csv, m->id.name);
        api_csv_field(&csv, parents.buf.failed ? NULL : parents.buf.data);
        csv.buf.failed = csv.buf.failed || parents.buf.failed;
        api_csv_cleanup(&parents);
        api_csv_integer(&csv, m->depth);
        api_csv_integer(&csv, m->n_children);
        api_csv_text(&csv, m->task);
        api_csv_text(&csv, m->license);
        api_csv_text(&csv, m->url);
        if (m->has_parameters)
            api_csv_integer(&csv, m->parameters);
        else
            api_csv_field(&csv, NULL);
        api_csv_field(&csv, m->created_at);
        api_csv_field(&csv, m->updated_at);
        api_csv_row_end(&csv);
    }
    return api_csv_reply(&csv, reply);
}

enum err api_models_list(struct api_service *s, const struct api_request *req,
                         struct api_reply *reply)
{
    static const char *const allowed[] = {"limit", "cursor", "namespace", "parent", NULL};
    struct db_model_filter filter = {0};
    struct core_model_id parent;
    struct core_model *items = NULL;
    struct db *db = req->db;
    size_t n = 0;
    bool has_more = false;
    int64_t limit = 0, cursor = 0;
    const char *ns = api_query_get(req, "namespace");
    const char *parent_text = api_query_get(req, "parent");
    json_t *array = NULL;
    char next[32];
    enum err rc;

    (void)s;
    rc = api_check_query(req, allowed, &reply->problem);
    if (rc == ERR_OK)
        rc = api_query_int(req, "limit", 1, MODELS_PAGE_MAX, MODELS_PAGE_DEFAULT, &limit,
                           &reply->problem);
    if (rc == ERR_OK)
        rc = api_query_int(req, "cursor", 0, INT64_MAX, 0, &cursor, &reply->problem);
    if (rc != ERR_OK)
        return rc;
    if (ns && !core_model_part_is_valid(ns, strlen(ns))) {
        api_field_error(&reply->problem, "namespace", "not a valid namespace");
        return api_fail(&reply->problem, ERR_BAD_REQUEST,
                        "query parameter 'namespace' is not a valid namespace");
    }
    if (parent_text && core_model_id_parse(parent_text, &parent) != ERR_OK) {
        api_field_error(&reply->problem, "parent", "not a model id 'namespace/name'");
        return api_fail(&reply->problem, ERR_BAD_REQUEST,
                        "query parameter 'parent' is not a model id 'namespace/name'");
    }
    filter.ns = ns;
    filter.parent = parent_text ? &parent : NULL;
    filter.after_key = cursor;
    filter.limit = (size_t)limit;
    items = core_calloc((size_t)limit, sizeof *items);
    if (items == NULL)
        return ERR_NO_MEMORY;
    rc = db_read_begin(db);
    if (rc == ERR_OK) {
        rc = db_model_list(db, &filter, items, &n, &has_more);
        db_read_end(db);
    }
    if (rc == ERR_NOT_FOUND)
        rc = api_fail(&reply->problem, ERR_NOT_FOUND, "parent model '%s' is not registered",
                      parent_text);
    if (rc != ERR_OK)
        goto out;
    array = api_csv_wanted_vary(req, reply) ? NULL : json_array();
    for (size_t i = 0; array && i < n; i++)
        json_array_append_new(array, model_to_json(&items[i]));
    snprintf(next, sizeof next, "%lld", n > 0 ? (long long)items[n - 1].key : 0LL);
    if (has_more && n > 0) {
        char link[512], enc_ns[128], enc_parent[300];
        int len;
        len =
            snprintf(link, sizeof link, "</v1/models?limit=%lld&cursor=%s", (long long)limit, next);
        if (ns) {
            api_url_encode(ns, enc_ns, sizeof enc_ns);
            len += snprintf(link + len, sizeof link - (size_t)len, "&namespace=%s", enc_ns);
        }
        if (parent_text) {
            api_url_encode(parent_text, enc_parent, sizeof enc_parent);
            len += snprintf(link + len, sizeof link - (size_t)len, "&parent=%s", enc_parent);
        }
        snprintf(link + len, sizeof link - (size_t)len, ">; rel=\"next\"");
        api_reply_header(reply, "Link", link);
    }
    if (api_csv_wanted(req))
        rc = models_csv(items, n, reply);
    else if (has_more && n > 0)
        rc = api_reply_json(reply, 200,
                            json_pack("{s:o, s:s}", "items", array, "next_cursor", next));
    else
        rc = api_reply_json(reply, 200, json_pack("{s:o, s:n}", "items", array, "next_cursor"));
out:
    free(items);
    return rc;
}

/* Applies If-Match against the stored version: 412 when it names another version. */
static enum err check_if_match(const struct api_request *req, const struct core_model *m,
                               struct api_problem *problem)
{
    char etag[32];

    if (req->if_match == NULL)
        return ERR_OK;
    api_etag(m->version, etag, sizeof etag);
    if (api_etag_matches(req->if_match, etag))
        return ERR_OK;
    return api_fail(problem, ERR_PRECONDITION_FAILED,
                    "If-Match does not match the model's current ETag %s", etag);
}

enum err api_models_patch(struct api_service *s, const struct api_request *req,
                          struct api_reply *reply)
{
    static const char *const allowed[] = {"parents",    "base_model", "base_model_relation",
                                          "task",       "license",    "url",
                                          "parameters", "inference",  NULL};
    static const char *const read_only[] = {"id",         "namespace",  "name",
                                            "depth",      "version",    "children_count",
                                            "created_at", "updated_at", NULL};
    const json_t *inference = json_object_get(req->body, "inference");
    struct core_model_id id;
    struct core_model *m = NULL, *patch = NULL;
    struct db *db = req->db;
    json_t *body = NULL;
    size_t bad = 0;
    bool lineage_given = false, from_card, present;
    struct api_principal principal;
    enum err rc;

    rc = api_path_write_gate(s, req, API_SCOPE_MODELS_WRITE, &principal, reply);
    if (rc != ERR_OK)
        return rc;

    rc = api_path_id(req, &id, &reply->problem);
    if (rc != ERR_OK)
        return rc;
    if (!json_is_object(req->body))
        return api_field_error(&reply->problem, "", "the body must be a JSON object");
    m = core_calloc(1, sizeof *m);
    patch = core_calloc(1, sizeof *patch);
    if (m == NULL || patch == NULL) {
        rc = ERR_NO_MEMORY;
        goto out;
    }
    patch->id = id;
    rc = api_check_members(req->body, "", allowed, read_only, &reply->problem);
    if (parse_metadata(req->body, patch, true, &reply->problem) != ERR_OK)
        rc = ERR_INVALID_INPUT;
    if (parse_lineage(req->body, patch, &lineage_given, &reply->problem) != ERR_OK)
        rc = ERR_INVALID_INPUT;
    from_card = json_object_get(req->body, "base_model") != NULL;
    if (rc == ERR_OK && lineage_given)
        rc = check_lineage(patch, from_card, &reply->problem);
    if (rc != ERR_OK)
        goto out;

    rc = db_write_begin(db);
    if (rc != ERR_OK)
        goto out;
    rc = db_model_get(db, &id, m);
    if (rc == ERR_NOT_FOUND)
        rc = model_not_found(&id, &reply->problem);
    if (rc == ERR_OK)
        rc = check_if_match(req, m, &reply->problem);
    if (rc == ERR_OK) {
        /* Members absent from the body keep their value; null clears. */
        if (json_object_get(req->body, "task"))
            memcpy(m->task, patch->task, sizeof m->task);
        if (json_object_get(req->body, "license"))
            memcpy(m->license, patch->license, sizeof m->license);
        if (json_object_get(req->body, "url"))
            memcpy(m->url, patch->url, sizeof m->url);
        present = json_object_get(req->body, "parameters") != NULL;
        if (present) {
            m->has_parameters = patch->has_parameters;
            m->parameters = patch->parameters;
        }
        rc = db_model_update_metadata(db, m);
    }
    if (rc == ERR_OK && inference != NULL) {
        struct core_inference_profile profile;
        bool is_cleared = json_is_null(inference);
        if (!is_cleared)
            rc = api_profile_parse(db, inference, &profile, &reply->problem);
        if (rc == ERR_OK)
            rc = db_profile_set(db, m->key, is_cleared ? NULL : &profile);
    }
    if (rc == ERR_OK && lineage_given) {
        m->n_parents = patch->n_parents;
        memcpy(m->parents, patch->parents, sizeof m->parents);
        rc = db_model_set_parents(db, m, &bad);
        if (rc != ERR_OK)
            rc = lineage_store_error(rc, m, bad, from_card, &reply->problem);
    }
    if (rc == ERR_OK)
        rc = db_model_get(db, &id, m);
    if (rc != ERR_OK) {
        db_write_rollback(db);
        goto out;
    }
    body = model_to_json(m);
    rc = attach_profile(db, m, body);
    if (rc != ERR_OK) {
        db_write_rollback(db);
        goto out;
    }
    rc = db_write_commit(db);
    if (rc != ERR_OK)
        goto out;
    api_changes_report(s, req, API_CHANGE_MODEL_UPDATED, 1);
    set_model_headers(reply, m);
    rc = api_reply_json(reply, 200, body);
    body = NULL;
out:
    json_decref(body);
    free(m);
    free(patch);
    return rc;
}

enum err api_models_delete(struct api_service *s, const struct api_request *req,
                           struct api_reply *reply)
{
    struct core_model_id id;
    struct core_model *m;
    struct db *db = req->db;
    struct api_principal principal;
    enum err rc;

    rc = api_path_write_gate(s, req, API_SCOPE_MODELS_WRITE, &principal, reply);
    if (rc != ERR_OK)
        return rc;

    rc = api_check_query(req, NULL, &reply->problem);
    if (rc == ERR_OK)
        rc = api_path_id(req, &id, &reply->problem);
    if (rc != ERR_OK)
        return rc;
    m = core_malloc(sizeof *m);
    if (m == NULL)
        return ERR_NO_MEMORY;
    rc = db_write_begin(db);
    if (rc != ERR_OK)
        goto out;
    rc = db_model_get(db, &id, m);
    if (rc == ERR_NOT_FOUND)
        rc = model_not_found(&id, &reply->problem);
    if (rc == ERR_OK)
        rc = check_if_match(req, m, &reply->problem);
    if (rc == ERR_OK && m->n_children > 0)
        rc = api_fail(&reply->problem, ERR_CONFLICT,
                      "model '%s/%s' has %lld child model(s); delete them first", m->id.ns,
                      m->id.name, (long long)m->n_children);
    if (rc == ERR_OK)
        rc = db_model_delete(db, &id);
    if (rc != ERR_OK) {
        db_write_rollback(db);
        goto out;
    }
    rc = db_write_commit(db);
    if (rc == ERR_OK) {
        api_changes_report(s, req, API_CHANGE_MODEL_DELETED, 1);
        reply->status = 204;
    }
out:
    free(m);
    return rc;
}
