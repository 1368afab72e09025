/* SPDX-License-Identifier: Apache-2.0 */
/* /v1/models/{ns}/{name}/activities: a model's own emissions sources. Each is
 * measured (energy, with or without CO2e), reported (CO2e only, e.g. a Hub card) or
 * estimated (inputs for one of the core's methods), and keeps its inputs, method
 * and methodology version so it can be explained and recomputed. */
#include "api_internal.h"
#include "methodology.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACTIVITIES_PAGE_DEFAULT 50
#define ACTIVITIES_PAGE_MAX     500
#define ACTIVITY_CO2E_KG_MAX    1e12 /* a million tonnes: beyond any training run on record */
#define ACTIVITY_ENERGY_KWH_MAX 1e13

static const char *const kinds[] = {"training", "fine_tuning", "development", "embodied",
                                    "idle",     "other",       NULL};

static bool in_list(const char *text, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(text, *list) == 0)
            return true;
    return false;
}

/* An optional non-negative range member within max. */
static enum err read_amount(const json_t *body, const char *key, double max, struct core_range *out,
                            bool *present, struct api_problem *problem)
{
    const json_t *v = json_object_get(body, key);
    char pointer[64];

    snprintf(pointer, sizeof pointer, "/%s", key);
    *present = v != NULL;
    if (v == NULL)
        return ERR_OK;
    if (api_range_parse(v, pointer, out, problem) != ERR_OK)
        return ERR_INVALID_INPUT;
    if (!(out->low >= 0))
        return api_field_error(problem, pointer, "must not be negative");
    if (!(out->high <= max))
        return api_field_error(problem, pointer, "must be at most %g", max);
    return ERR_OK;
}

static json_t *activity_json(const struct core_model_id *model, const struct db_activity *a)
{
    char id[CORE_MODEL_ID_MAX + 1];
    /* The stored texts were written from JSON: one that does not read back is a
     * want of memory (jansson does not always say so), and fails the answer through
     * json_pack's "o" rather than show as {}. */
    json_t *inputs = api_json_loads(a->inputs_json ? a->inputs_json : "{}", 0, NULL);
    json_t *result = api_json_loads(a->result_json ? a->result_json : "{}", 0, NULL);
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:s}", "id", (json_int_t)a->id,
                          "model", core_model_id_format(model, id, sizeof id), "kind", a->kind,
                          "obtained", a->obtained, "co2e_kg", api_range_json(a->co2e_kg), "inputs",
                          inputs, "result", result, "methodology_version", a->methodology_version,
                          "created_at", a->created_at);

    api_json_set(&o, "method", a->method[0] ? json_string(a->method) : json_null());
    api_json_set(&o, "energy_kwh", a->has_energy ? api_range_json(a->energy_kwh) : json_null());
    return o;
}

/* Declared in api_internal.h. */
enum err api_activity_parse(struct db *db, const json_t *body, struct db_activity *a,
                            struct api_problem *problem)
{
    static const char *const plain_allowed[] = {
        "kind", "obtained", "note", "co2e_kg", "energy_kwh", "location", "carbon_intensity", NULL};
    static const char *const estimate_extra[] = {"kind", "obtained", "note", NULL};
    const json_t *kind = json_object_get(body, "kind");
    const json_t *obtained = json_object_get(body, "obtained");
    const json_t *note = json_object_get(body, "note");
    json_t *result = NULL, *inputs = NULL;
    bool has_co2e = false, is_incomplete = false;
    enum err rc = ERR_OK;

    memset(a, 0, sizeof *a);
    snprintf(a->methodology_version, sizeof a->methodology_version, "%s", CORE_METHODOLOGY_VERSION);
    if (!json_is_string(kind) || !in_list(json_string_value(kind), kinds))
        rc = api_field_error(problem, "/kind",
                             "required: one of training, fine_tuning, development, embodied, "
                             "idle, other");
    else
        snprintf(a->kind, sizeof a->kind, "%s", json_string_value(kind));
    if (note && (!json_is_string(note) || json_string_length(note) > 500))
        rc = api_field_error(problem, "/note", "must be a text of at most 500 bytes");
    if (obtained && (!json_is_string(obtained) ||
                     !in_list(json_string_value(obtained),
                              (const char *const[]){"measured", "reported", "estimated", NULL})))
        rc = api_field_error(problem, "/obtained", "must be measured, reported or estimated");
    if (rc != ERR_OK)
        return rc;

    if (json_object_get(body, "method")) {
        struct core_estimate estimate;
        if (obtained && strcmp(json_string_value(obtained), "estimated") != 0)
            return api_field_error(problem, "/obtained",
                                   "an activity with a \"method\" is estimated");
        rc = api_estimate_from_json(db, body, estimate_extra, &estimate, &inputs, problem);
        if (rc != ERR_OK)
            return rc;
        snprintf(a->obtained, sizeof a->obtained, "estimated");
        snprintf(a->method, sizeof a->method, "%s", core_method_name(estimate.method));
        a->has_energy = estimate.energy_kwh.high > 0;
        a->energy_kwh = estimate.energy_kwh;
        a->co2e_kg = estimate.co2e_kg;
        result = api_estimate_json(&estimate, inputs);
        inputs = NULL;
    } else {
        struct core_intensity intensity;
        rc = api_check_members(body, "", plain_allowed, NULL, problem);
        if (read_amount(body, "co2e_kg", ACTIVITY_CO2E_KG_MAX, &a->co2e_kg, &has_co2e, problem) !=
            ERR_OK)
            rc = ERR_INVALID_INPUT;
        if (read_amount(body, "energy_kwh", ACTIVITY_ENERGY_KWH_MAX, &a->energy_kwh, &a->has_energy,
                        problem) != ERR_OK)
            rc = ERR_INVALID_INPUT;
        if (rc != ERR_OK)
            return rc;
        if (!has_co2e && !a->has_energy)
            return api_field_error(problem, "/co2e_kg",
                                   "give \"co2e_kg\", \"energy_kwh\", or a \"method\" with its "
                                   "inputs");
        if (obtained && strcmp(json_string_value(obtained), "estimated") == 0)
            return api_field_error(problem, "/obtained",
                                   "an estimated activity needs a \"method\" and its inputs");
        result = json_object();
        if (a->has_energy && !has_co2e) {
            /* Measured energy: CO2e from the grid where it was used. */
            rc = api_intensity_parse(db, body, "", &intensity, problem);
            if (rc != ERR_OK) {
                json_decref(result);
                return rc;
            }
            a->co2e_kg = core_range_mul(a->energy_kwh, intensity.kg_per_kwh);
            /* A member that could not be made (no memory) must not be stored as if the
             * result had none: json_object_set_new drops it and answers -1. */
            if (json_object_set_new(result, "carbon_intensity", api_intensity_json(&intensity)))
                is_incomplete = true;
        } else if (json_object_get(body, "location") || json_object_get(body, "carbon_intensity")) {
            json_decref(result);
            return api_field_error(
                problem, json_object_get(body, "location") ? "/location" : "/carbon_intensity",
                "a location or intensity only applies when CO2e is computed "
                "from energy_kwh");
        }
        snprintf(a->obtained, sizeof a->obtained, "%s",
                 obtained        ? json_string_value(obtained)
                 : a->has_energy ? "measured"
                                 : "reported");
        if (json_object_set_new(result, "co2e_kg", api_range_json(a->co2e_kg)))
            is_incomplete = true;
    }
    inputs = api_json_deep_copy(body);
    a->inputs_json = inputs ? api_json_dumps(inputs, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    a->result_json = result ? api_json_dumps(result, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(inputs);
    json_decref(result);
    if (a->inputs_json == NULL || a->result_json == NULL || is_incomplete) {
        db_activity_cleanup(a);
        return ERR_NO_MEMORY;
    }
    return ERR_OK;
}

enum err api_activity_add(struct db *db, const struct core_model *m, const json_t *body,
                          struct db_activity *out, struct api_problem *problem)
{
    enum err rc = api_activity_parse(db, body, out, problem);

    if (rc != ERR_OK)
        return rc;
    rc = db_activity_insert(db, m->key, out);
    if (rc != ERR_OK)
        db_activity_cleanup(out);
    return rc;
}

enum err api_activities_post(struct api_service *s, const struct api_request *req,
                             struct api_reply *reply)
{
    struct core_model *m = NULL;
    struct db_activity a;
    struct db *db = req->db;
    char location[400];
    json_t *body = NULL;
    struct api_principal principal;
    enum err rc;

    rc = api_path_write_gate(s, req, API_SCOPE_MODELS_WRITE, &principal, reply);
    if (rc != ERR_OK)
        return rc;

    if (!json_is_object(req->body))
        return api_field_error(&reply->problem, "", "the body must be a JSON object");
    m = core_malloc(sizeof *m);
    if (m == NULL)
        return ERR_NO_MEMORY;
    /* the connection from the authorisation step above */
    rc = db_write_begin(db);
    if (rc != ERR_OK)
        goto out;
    rc = api_path_model(db, req, m, &reply->problem);
    if (rc == ERR_OK)
        rc = api_activity_add(db, m, req->body, &a, &reply->problem);
    if (rc == ERR_OK) {
        body = activity_json(&m->id, &a);
        db_activity_cleanup(&a);
        if (body == NULL)
            rc = ERR_NO_MEMORY;
    }
    if (rc == ERR_OK)
        rc = db_write_commit(db);
    else
        db_write_rollback(db);
    if (rc != ERR_OK)
        goto out;
    api_changes_report(s, req, API_CHANGE_ACTIVITY_ADDED, 1);
    snprintf(location, sizeof location, "/v1/models/%s/activities/%lld", CORE_MODEL_ID_TEXT(&m->id),
             (long long)json_integer_value(json_object_get(body, "id")));
    api_reply_header(reply, "Location", location);
    rc = api_reply_json(reply, 201, body);
    body = NULL;
out:
    json_decref(body);
    free(m);
    return rc;
}

/* The CSV form of a page of activities (RFC 4180, CRLF): central values of energy
 * and CO2e, and the CO2e bounds; absent method and energy are empty. */
static enum err activities_csv(const struct core_model_id *model, const struct db_activity *items,
                               size_t n, struct api_reply *reply)
{
    struct api_csv csv = {0};
    char id[CORE_MODEL_ID_MAX + 1];

    core_model_id_format(model, id, sizeof id);
    api_csv_header(&csv, "id,model,kind,obtained,method,energy_kwh,co2e_kg,co2e_kg_low,"
                         "co2e_kg_high,methodology_version,created_at");
    for (size_t i = 0; i < n; i++) {
        const struct db_activity *a = &items[i];
        api_csv_integer(&csv, a->id);
        api_csv_field(&csv, id);
        api_csv_field(&csv, a->kind);
        api_csv_field(&csv, a->obtained);
        api_csv_field(&csv, a->method);
        if (a->has_energy)
            api_csv_number(&csv, a->energy_kwh.value);
        else
            api_csv_field(&csv, NULL);
        api_csv_number(&csv, a->co2e_kg.value);
        api_csv_number(&csv, a->co2e_kg.low);
        api_csv_number(&csv, a->co2e_kg.high);
        api_csv_field(&csv, a->methodology_version);
        api_csv_field(&csv, a->created_at);
        api_csv_row_end(&csv);
    }
    return api_csv_reply(&csv, reply);
}

enum err api_activities_list(struct api_service *s, const struct api_request *req,
                             struct api_reply *reply)
{
    static const char *const allowed[] = {"limit", "cursor", "format", NULL};
    struct core_model *m = NULL;
    struct db_activity *items = NULL;
    struct db *db = req->db;
    int64_t limit = 0, cursor = 0;
    size_t n = 0;
    bool has_more = false;
    json_t *array = NULL;
    enum err rc;

    (void)s;
    rc = api_check_query(req, allowed, &reply->problem);
    if (rc == ERR_OK)
        rc = api_query_int(req, "limit", 1, ACTIVITIES_PAGE_MAX, ACTIVITIES_PAGE_DEFAULT, &limit,
                           &reply->problem);
    if (rc == ERR_OK)
        rc = api_query_int(req, "cursor", 0, INT64_MAX, 0, &cursor, &reply->problem);
    if (rc == ERR_OK)
        rc = api_csv_format_check(req, &reply->problem);
    if (rc != ERR_OK)
        return rc;
    m = core_malloc(sizeof *m);
    items = core_calloc((size_t)limit, sizeof *items);
    if (m == NULL || items == NULL) {
        rc = ERR_NO_MEMORY;
        goto out;
    }
    rc = db_read_begin(db);
    if (rc == ERR_OK) {
        rc = api_path_model(db, req, m, &reply->problem);
        if (rc == ERR_OK)
            rc = db_activity_list(db, m->key, cursor, (size_t)limit, items, &n, &has_more);
        db_read_end(db);
    }
    if (rc != ERR_OK)
        goto out;
    if (has_more && n > 0) {
        char link[512];
        snprintf(link, sizeof link, "<%s?limit=%lld&cursor=%lld%s>; rel=\"next\"", req->path,
                 (long long)limit, (long long)items[n - 1].id, api_csv_format_param(req));
        api_reply_header(reply, "Link", link);
    }
    if (api_csv_wanted_vary(req, reply)) {
        api_csv_attachment(reply, &m->id, "activities");
        rc = activities_csv(&m->id, items, n, reply);
        goto out;
    }
    array = json_array();
    for (size_t i = 0; array && i < n; i++)
        api_json_append(&array, activity_json(&m->id, &items[i]));
    {
        char next[32];
        snprintf(next, sizeof next, "%lld", n ? (long long)items[n - 1].id : 0LL);
        rc = api_reply_json(reply, 200,
                            json_pack("{s:o, s:o}", "items", array, "next_cursor",
                                      has_more ? json_string(next) : json_null()));
    }
out:
    for (size_t i = 0; items && i < n; i++)
        db_activity_cleanup(&items[i]);
    free(items);
    free(m);
    return rc;
}

enum err api_activities_delete(struct api_service *s, const struct api_request *req,
                               struct api_reply *reply)
{
    struct core_model *m = NULL;
    struct db *db = req->db;
    const char *id_text = req->n_params > 2 ? req->params[2] : "";
    char *end = NULL;
    long long id = strtoll(id_text, &end, 10);
    struct api_principal principal;
    enum err rc;

    rc = api_path_write_gate(s, req, API_SCOPE_MODELS_WRITE, &principal, reply);
    if (rc != ERR_OK)
        return rc;

    rc = api_check_query(req, NULL, &reply->problem);
    if (rc != ERR_OK)
        return rc;
    if (id_text[0] < '1' || id_text[0] > '9' || *end != '\0' || id <= 0)
        return api_fail(&reply->problem, ERR_NOT_FOUND, "activity ids are positive integers");
    m = core_malloc(sizeof *m);
    if (m == NULL)
        return ERR_NO_MEMORY;
    /* the connection from the authorisation step above */
    rc = db_write_begin(db);
    if (rc != ERR_OK)
        goto out;
    rc = api_path_model(db, req, m, &reply->problem);
    if (rc == ERR_OK) {
        rc = db_activity_delete(db, m->key, (int64_t)id);
        if (rc == ERR_NOT_FOUND)
            api_fail(&reply->problem, ERR_NOT_FOUND, "model '%s' has no activity %lld",
                     CORE_MODEL_ID_TEXT(&m->id), id);
    }
    if (rc == ERR_OK)
        rc = db_write_commit(db);
    else
        db_write_rollback(db);
    if (rc == ERR_OK) {
        api_changes_report(s, req, API_CHANGE_ACTIVITY_DELETED, 1);
        reply->status = 204;
    }
out:
    free(m);
    return rc;
}
