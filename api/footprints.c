/* Amortized footprints (design §2): a model's share of each ancestor's emissions,
 * its inference emissions and their total, per inference and as equivalences; the
 * ancestors, the family below a model, and the comparison of two profiles. Reads
 * O(ancestors) rows per model whatever the family size. */
#include "amortize.h"
#include "equivalence.h"
#include "internal.h"
#include "json_text.h"
#include "methodology.h"
#include "units.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAMILY_PAGE_DEFAULT 100
#define FAMILY_PAGE_MAX     1000

struct footprint {
    struct core_model_id id;
    enum core_policy policy;
    struct db_lineage_row *rows; /* ancestors, self included, shallowest first */
    size_t n_rows;
    const struct db_lineage_row *self;
    struct core_allocation *allocations;
    struct core_range own_kg;       /* E(n) */
    struct core_range allocated_kg; /* sum of allocations, own share included */
    struct core_range inference_kg; /* F(n) */
    struct core_range total_kg;
    bool has_profile;
    struct api_profile profile;
    struct core_model_id profile_owner; /* the model itself, or the nearest ancestor */
    struct core_inference_energy energy;
    struct core_range lineage_kwh;
    struct core_parity parity;
};

static void footprint_cleanup(struct footprint *fp)
{
    free(fp->rows);
    free(fp->allocations);
    fp->rows = NULL;
    fp->allocations = NULL;
}

/* The footprint of the model with storage key key, or, when id is not NULL, of the
 * model named id (one statement: no transaction needed). */
static enum err compute(struct db *db, int64_t key, const struct core_model_id *id,
                        enum core_policy policy, struct footprint *fp)
{
    struct core_ancestor *ancestors = NULL;
    struct core_inference_input in;
    struct core_field_error fe;
    char *profile_json = NULL;
    struct core_range training_kwh = core_range_zero();
    enum err rc;

    memset(fp, 0, sizeof *fp);
    fp->policy = policy;
    if (id)
        rc = db_lineage_load_id(db, id, &fp->rows, &fp->n_rows, &profile_json);
    else
        rc = db_lineage_load(db, key, &fp->rows, &fp->n_rows, &profile_json);
    if (rc != ERR_OK)
        return rc;
    ancestors = calloc(fp->n_rows, sizeof *ancestors);
    fp->allocations = calloc(fp->n_rows, sizeof *fp->allocations);
    if (ancestors == NULL || fp->allocations == NULL) {
        rc = ERR_NO_MEMORY;
        goto out;
    }
    fp->lineage_kwh = core_range_zero();
    for (size_t i = 0; i < fp->n_rows; i++) {
        const struct db_lineage_row *r = &fp->rows[i];
        ancestors[i].is_self = r->is_self;
        ancestors[i].emissions_kg = r->own_co2e_kg;
        ancestors[i].n_descendants = (uint64_t)r->descendants;
        ancestors[i].descendant_inferences = (uint64_t)r->descendant_inferences;
        fp->lineage_kwh = core_range_add(fp->lineage_kwh, r->lineage_kwh);
        training_kwh = core_range_add(training_kwh, r->training_kwh);
        if (r->has_profile)
            fp->profile_owner = r->id;
        if (r->is_self) {
            fp->self = r;
            fp->id = r->id;
            fp->own_kg = r->own_co2e_kg;
        }
    }
    if (fp->self == NULL) {
        rc = ERR_INTERNAL;
        goto out;
    }
    rc = core_allocate(policy, ancestors, fp->n_rows, (uint64_t)fp->self->inferences,
                       fp->allocations, &fp->allocated_kg);
    if (rc != ERR_OK) {
        rc = ERR_INTERNAL; /* the aggregates contradict each other */
        goto out;
    }
    fp->inference_kg = core_range_zero();
    if (profile_json) {
        rc = api_profile_from_json(profile_json, &fp->profile);
        if (rc != ERR_OK)
            goto out;
        memset(&in, 0, sizeof in);
        in.source = fp->profile.source;
        in.kwh_per_inference = fp->profile.kwh_per_inference;
        in.has_ratio = fp->profile.has_ratio;
        in.ratio = fp->profile.ratio;
        in.token_steps = fp->profile.token_steps;
        in.training_kwh = fp->profile.has_training_kwh ? fp->profile.training_kwh : training_kwh;
        /* A derived profile without any training energy in the lineage yet has no
         * per-inference energy: the footprint says so instead of failing. */
        if (core_inference_energy(&in, "", &fp->energy, &fe) == ERR_OK) {
            struct core_range g_each = core_inference_co2e_g(fp->energy.kwh_per_inference,
                                                             fp->profile.intensity.kg_per_kwh);
            fp->has_profile = true;
            fp->inference_kg = core_range_scale(g_each, (double)fp->self->inferences / 1000.0);
            core_parity(fp->lineage_kwh, &fp->energy, &fp->parity);
        }
    }
    fp->total_kg = core_range_add(fp->allocated_kg, fp->inference_kg);
out:
    free(ancestors);
    free(profile_json);
    if (rc != ERR_OK)
        footprint_cleanup(fp);
    return rc;
}

enum err api_footprint_parts(struct db *db, int64_t key, enum core_policy policy,
                             struct api_footprint_parts *out)
{
    struct footprint fp;
    struct core_range inherited = core_range_zero();
    enum err rc = compute(db, key, NULL, policy, &fp);

    if (rc != ERR_OK)
        return rc;
    for (size_t i = 0; i < fp.n_rows; i++)
        if (!fp.rows[i].is_self)
            inherited = core_range_add(inherited, fp.allocations[i].co2e_kg);
    out->id = fp.id;
    out->inferences = fp.self->inferences;
    out->own_kg = fp.own_kg;
    out->inherited_kg = inherited;
    out->inference_kg = fp.inference_kg;
    out->total_kg = fp.total_kg;
    footprint_cleanup(&fp);
    return ERR_OK;
}

/* {"value", "low", "high"}, as api_range_json. */
static void text_range(struct text *t, struct core_range r)
{
    TEXT_LIT(t, "{\"value\":");
    text_real(t, r.value);
    TEXT_LIT(t, ",\"low\":");
    text_real(t, r.low);
    TEXT_LIT(t, ",\"high\":");
    text_real(t, r.high);
    TEXT_LIT(t, "}");
}

static void text_id(struct text *t, const struct core_model_id *id)
{
    char buf[CORE_MODEL_ID_MAX + 1];

    text_string(t, core_model_id_format(id, buf, sizeof buf));
}

/* Equivalences keyed by item name, as api_equivalences_json. */
static void text_equivalences(struct text *t, struct core_range co2e_kg)
{
    struct core_equivalence eq[CORE_EQUIVALENCE_COUNT];

    core_equivalences(co2e_kg, eq);
    TEXT_LIT(t, "{");
    for (size_t i = 0; i < CORE_EQUIVALENCE_COUNT; i++) {
        text_key(t, eq[i].item->name, i == 0);
        text_range(t, eq[i].count);
    }
    TEXT_LIT(t, "}");
}

/* The figures of one model, as in the footprint answer. */
static void footprint_write(struct text *t, const struct footprint *fp)
{
    struct core_range inherited = core_range_zero();
    bool any_fallback = false;

    TEXT_LIT(t, "{\"model\":");
    text_id(t, &fp->id);
    TEXT_LIT(t, ",\"policy\":");
    text_string(t, core_policy_name(fp->policy));
    TEXT_LIT(t, ",\"inferences\":");
    text_int(t, fp->self->inferences);
    TEXT_LIT(t, ",\"allocations\":[");
    for (size_t i = 0; i < fp->n_rows; i++) {
        const struct core_allocation *a = &fp->allocations[i];
        if (i > 0)
            TEXT_LIT(t, ",");
        TEXT_LIT(t, "{\"source\":");
        text_id(t, &fp->rows[i].id);
        TEXT_LIT(t, ",\"source_co2e_kg\":");
        text_range(t, fp->rows[i].own_co2e_kg);
        TEXT_LIT(t, ",\"share\":");
        text_real(t, a->share);
        TEXT_LIT(t, ",\"co2e_kg\":");
        text_range(t, a->co2e_kg);
        TEXT_LIT(t, ",\"family_size\":");
        text_int(t, fp->rows[i].descendants);
        TEXT_LIT(t, ",\"family_inferences\":");
        text_int(t, fp->rows[i].descendant_inferences);
        if (a->is_usage_fallback)
            TEXT_LIT(t, ",\"usage_fallback\":true");
        TEXT_LIT(t, "}");
        any_fallback = any_fallback || a->is_usage_fallback;
        if (!fp->rows[i].is_self)
            inherited = core_range_add(inherited, a->co2e_kg);
    }
    TEXT_LIT(t, "],\"own_co2e_kg\":");
    text_range(t, fp->own_kg);
    TEXT_LIT(t, ",\"inherited_co2e_kg\":");
    text_range(t, inherited);
    TEXT_LIT(t, ",\"inference_co2e_kg\":");
    text_range(t, fp->inference_kg);
    TEXT_LIT(t, ",\"total_co2e_kg\":");
    text_range(t, fp->total_kg);
    TEXT_LIT(t, ",\"equivalences\":");
    text_equivalences(t, fp->total_kg);
    TEXT_LIT(t, ",\"co2e_g_per_inference\":");
    if (fp->self->inferences > 0)
        text_range(t, core_range_scale(fp->total_kg, 1000.0 / (double)fp->self->inferences));
    else
        TEXT_LIT(t, "null");
    TEXT_LIT(t, ",\"parity_inferences\":");
    if (fp->has_profile && fp->parity.status == CORE_PARITY_OK)
        text_int(t, (int64_t)fp->parity.value);
    else
        TEXT_LIT(t, "null");
    TEXT_LIT(t, ",\"lineage_energy_kwh\":");
    text_range(t, fp->lineage_kwh);
    TEXT_LIT(t, ",\"inference_profile\":");
    if (fp->has_profile) {
        char source[CORE_MODEL_ID_MAX + 1];
        json_t *profile = api_profile_json(&fp->profile);
        json_object_set_new(profile, "energy_kwh_per_inference_used",
                            api_range_json(fp->energy.kwh_per_inference));
        json_object_set_new(
            profile, "from_model",
            json_string(core_model_id_format(&fp->profile_owner, source, sizeof source)));
        text_json(t, profile);
    } else {
        TEXT_LIT(t, "null");
    }
    TEXT_LIT(t, ",\"usage_fallback\":");
    if (any_fallback)
        TEXT_LIT(t, "true");
    else
        TEXT_LIT(t, "false");
    TEXT_LIT(t, ",\"methodology_version\":");
    text_string(t, CORE_METHODOLOGY_VERSION);
    TEXT_LIT(t, "}");
}

static enum err policy_from_query(const struct api_request *req, enum core_policy *policy,
                                  struct api_problem *problem)
{
    const char *text = api_query_get(req, "policy");

    *policy = CORE_POLICY_USAGE;
    if (text && core_policy_parse(text, policy) != ERR_OK) {
        api_field_error(problem, "policy", "must be none, equal or usage");
        return api_fail(problem, ERR_BAD_REQUEST,
                        "query parameter 'policy' must be none, equal or usage");
    }
    return ERR_OK;
}

enum err api_footprint_get(struct api_service *s, const struct api_request *req,
                           struct api_reply *reply)
{
    static const char *const allowed[] = {"policy", NULL};
    struct core_model_id id;
    struct footprint fp;
    struct db *db = NULL;
    enum core_policy policy;
    enum err rc;

    rc = api_check_query(req, allowed, &reply->problem);
    if (rc == ERR_OK)
        rc = policy_from_query(req, &policy, &reply->problem);
    if (rc == ERR_OK)
        rc = api_db(s, &db, &reply->problem);
    if (rc == ERR_OK)
        rc = api_path_id(req, &id, &reply->problem);
    if (rc != ERR_OK)
        return rc;
    /* One statement reads every ancestor's figures: they come from one state. */
    rc = compute(db, 0, &id, policy, &fp);
    if (rc == ERR_NOT_FOUND)
        return api_fail(&reply->problem, rc, "model '%s/%s' is not registered", id.ns, id.name);
    if (rc == ERR_OK) {
        struct text t = {0};
        footprint_write(&t, &fp);
        footprint_cleanup(&fp);
        rc = text_reply(&t, req, reply);
    }
    return rc;
}

enum err api_ancestors_get(struct api_service *s, const struct api_request *req,
                           struct api_reply *reply)
{
    struct core_model *m = NULL;
    struct db_lineage_row *rows = NULL;
    char *profile = NULL;
    struct db *db = NULL;
    size_t n = 0;
    char id[CORE_MODEL_ID_MAX + 1];
    json_t *list;
    enum err rc;

    rc = api_check_query(req, NULL, &reply->problem);
    if (rc == ERR_OK)
        rc = api_db(s, &db, &reply->problem);
    if (rc != ERR_OK)
        return rc;
    m = malloc(sizeof *m);
    if (m == NULL)
        return ERR_NO_MEMORY;
    rc = db_read_begin(db);
    if (rc == ERR_OK) {
        rc = api_path_model(db, req, m, &reply->problem);
        if (rc == ERR_OK)
            rc = db_lineage_load(db, m->key, &rows, &n, &profile);
        db_read_end(db);
    }
    if (rc != ERR_OK)
        goto out;
    list = json_array();
    for (size_t i = 0; list && i < n; i++) {
        if (rows[i].is_self)
            continue;
        json_array_append_new(list, json_pack("{s:s, s:i, s:o, s:o, s:I, s:I, s:I}", "id",
                                              core_model_id_format(&rows[i].id, id, sizeof id),
                                              "depth", rows[i].depth, "own_co2e_kg",
                                              api_range_json(rows[i].own_co2e_kg), "energy_kwh",
                                              api_range_json(rows[i].lineage_kwh), "inferences",
                                              (json_int_t)rows[i].inferences, "family_size",
                                              (json_int_t)rows[i].descendants, "family_inferences",
                                              (json_int_t)rows[i].descendant_inferences));
    }
    rc = api_reply_json(reply, 200,
                        json_pack("{s:s, s:o}", "model",
                                  core_model_id_format(&m->id, id, sizeof id), "ancestors", list));
out:
    free(rows);
    free(profile);
    free(m);
    return rc;
}

static double range_value(const json_t *range)
{
    return json_number_value(json_object_get(range, "value"));
}

/* The CSV form of a family page (RFC 4180, CRLF): one row per model, read back
 * from the page's JSON text (15 significant digits either way). */
static enum err family_csv(const struct text *t, struct api_reply *reply)
{
    struct api_csv csv = {0};
    json_t *page = t->failed ? NULL : json_loadb(t->data, t->len, 0, NULL);
    const json_t *items = json_object_get(page, "items");
    size_t i;
    json_t *item;
    enum err rc;

    if (page == NULL)
        return ERR_NO_MEMORY;

    api_csv_header(&csv, "id,parents,depth,inferences,own_co2e_kg,inherited_co2e_kg,"
                         "inference_co2e_kg,total_co2e_kg,co2e_g_per_inference");
    json_array_foreach((json_t *)(uintptr_t)items, i, item)
    {
        struct api_csv parents = {0};
        const json_t *fp = json_object_get(item, "footprint");
        const json_t *per = json_object_get(fp, "co2e_g_per_inference");
        size_t j;
        json_t *p;

        json_array_foreach(json_object_get(item, "parents"), j, p)
        {
            const char *parent = json_string_value(json_object_get(p, "id"));
            const char *relation = json_string_value(json_object_get(p, "relation"));
            if (j)
                api_csv_raw(&parents, ";", 1);
            api_csv_raw(&parents, parent, strlen(parent));
            api_csv_raw(&parents, ":", 1);
            api_csv_raw(&parents, relation, strlen(relation));
        }
        api_csv_field(&csv, json_string_value(json_object_get(item, "id")));
        api_csv_field(&csv, parents.failed ? NULL : parents.data);
        csv.failed = csv.failed || parents.failed;
        api_csv_cleanup(&parents);
        api_csv_integer(&csv, (int64_t)json_integer_value(json_object_get(item, "depth")));
        api_csv_integer(&csv, (int64_t)json_integer_value(json_object_get(fp, "inferences")));
        api_csv_number(&csv, range_value(json_object_get(fp, "own_co2e_kg")));
        api_csv_number(&csv, range_value(json_object_get(fp, "inherited_co2e_kg")));
        api_csv_number(&csv, range_value(json_object_get(fp, "inference_co2e_kg")));
        api_csv_number(&csv, range_value(json_object_get(fp, "total_co2e_kg")));
        if (json_is_object(per))
            api_csv_number(&csv, range_value(per));
        else
            api_csv_field(&csv, NULL);
        api_csv_row_end(&csv);
    }
    rc = api_csv_reply(&csv, reply);
    json_decref(page);
    return rc;
}

/* The root of a family page, named by the path: its stored id and |D(root)|, the
 * root itself included, from its own lineage row. */
static enum err family_root(struct db *db, const struct api_request *req, struct core_model *root,
                            int64_t *size, struct api_problem *problem)
{
    struct db_lineage_row *rows = NULL;
    char *profile = NULL;
    size_t n = 0;
    enum err rc = api_path_id(req, &root->id, problem);

    if (rc != ERR_OK)
        return rc; /* a malformed id: the problem says so, and root->id is not set */
    rc = db_lineage_load_id(db, &root->id, &rows, &n, &profile);
    if (rc == ERR_NOT_FOUND)
        rc = api_fail(problem, rc, "model '%s/%s' is not registered", root->id.ns, root->id.name);
    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        if (rows[i].is_self) {
            root->key = rows[i].key;
            root->id = rows[i].id;
            *size = rows[i].descendants;
        }
    }
    free(rows);
    free(profile);
    return rc;
}

enum err api_family_get(struct api_service *s, const struct api_request *req,
                        struct api_reply *reply)
{
    static const char *const allowed[] = {"policy", "limit", "cursor", NULL};
    struct core_model *root = NULL, *member = NULL;
    struct db *db = NULL;
    int64_t *keys = NULL, limit = 0, cursor = 0, size = 0;
    enum core_policy policy;
    size_t n = 0;
    bool has_more = false;
    struct text t = {0};
    enum err rc;

    rc = api_check_query(req, allowed, &reply->problem);
    if (rc == ERR_OK)
        rc = policy_from_query(req, &policy, &reply->problem);
    if (rc == ERR_OK)
        rc = api_query_int(req, "limit", 1, FAMILY_PAGE_MAX, FAMILY_PAGE_DEFAULT, &limit,
                           &reply->problem);
    if (rc == ERR_OK)
        rc = api_query_int(req, "cursor", 0, INT64_MAX, 0, &cursor, &reply->problem);
    if (rc == ERR_OK)
        rc = api_db(s, &db, &reply->problem);
    if (rc != ERR_OK)
        return rc;
    root = malloc(sizeof *root);
    member = malloc(sizeof *member);
    keys = calloc((size_t)limit, sizeof *keys);
    if (!root || !member || !keys) {
        rc = ERR_NO_MEMORY;
        goto out;
    }
    rc = db_read_begin(db);
    if (rc != ERR_OK)
        goto out;
    rc = family_root(db, req, root, &size, &reply->problem);
    if (rc == ERR_OK)
        rc = db_family_page(db, root->key, cursor, (size_t)limit, keys, &n, &has_more);
    if (rc == ERR_OK) {
        TEXT_LIT(&t, "{\"model\":");
        text_id(&t, &root->id);
        TEXT_LIT(&t, ",\"policy\":");
        text_string(&t, core_policy_name(policy));
        TEXT_LIT(&t, ",\"family_size\":");
        text_int(&t, size);
        TEXT_LIT(&t, ",\"items\":[");
    }
    /* O(page x ancestors): each member's footprint reads its own lineage only. */
    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        struct footprint fp;
        /* The lineage's own row has the member's id and depth: only its parents
         * are read besides. */
        member->key = keys[i];
        rc = db_model_parents(db, member);
        if (rc == ERR_OK)
            rc = compute(db, keys[i], NULL, policy, &fp);
        if (rc != ERR_OK)
            break;
        if (i > 0)
            TEXT_LIT(&t, ",");
        TEXT_LIT(&t, "{\"id\":");
        text_id(&t, &fp.id);
        TEXT_LIT(&t, ",\"parents\":[");
        for (size_t p = 0; p < member->n_parents; p++) {
            if (p > 0)
                TEXT_LIT(&t, ",");
            TEXT_LIT(&t, "{\"id\":");
            text_id(&t, &member->parents[p].id);
            TEXT_LIT(&t, ",\"relation\":");
            text_string(&t, core_relation_name(member->parents[p].relation));
            TEXT_LIT(&t, "}");
        }
        TEXT_LIT(&t, "],\"depth\":");
        text_int(&t, fp.self->depth);
        TEXT_LIT(&t, ",\"footprint\":");
        footprint_write(&t, &fp);
        TEXT_LIT(&t, "}");
        footprint_cleanup(&fp);
    }
    db_read_end(db);
    if (rc != ERR_OK)
        goto out;
    TEXT_LIT(&t, "],\"next_cursor\":");
    if (has_more) {
        TEXT_LIT(&t, "\"");
        text_int(&t, n ? keys[n - 1] : 0);
        TEXT_LIT(&t, "\"");
    } else {
        TEXT_LIT(&t, "null");
    }
    TEXT_LIT(&t, "}");
    if (has_more && n > 0) {
        char link[512], enc[300];
        api_url_encode(api_query_get(req, "policy") ? api_query_get(req, "policy") : "usage", enc,
                       sizeof enc);
        snprintf(link, sizeof link, "<%s?policy=%s&limit=%lld&cursor=%lld>; rel=\"next\"",
                 req->path, enc, (long long)limit, (long long)keys[n - 1]);
        api_reply_header(reply, "Link", link);
    }
    if (api_csv_wanted_vary(req, reply))
        rc = family_csv(&t, reply);
    else
        rc = text_reply(&t, req, reply);
out:
    free(t.data);
    free(keys);
    free(root);
    free(member);
    return rc;
}

/* One side of a comparison: a registered model under a policy, or a hypothetical
 * profile {fixed_co2e_kg, co2e_g_per_inference}. */
struct compare_side {
    bool is_model;
    struct core_model_id id;
    struct core_range fixed_kg;
    struct core_range g_per_inference;
};

static enum err parse_side(struct db *db, const json_t *side, const char *pointer,
                           enum core_policy policy, struct compare_side *out,
                           struct api_problem *problem)
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
        struct core_model *m = malloc(sizeof *m);
        struct footprint fp;
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
            rc = compute(db, m->key, NULL, policy, &fp);
        free(m);
        if (rc != ERR_OK)
            return rc;
        out->is_model = true;
        out->id = fp.id;
        out->fixed_kg = fp.allocated_kg;
        if (fp.has_profile)
            out->g_per_inference =
                core_inference_co2e_g(fp.energy.kwh_per_inference, fp.profile.intensity.kg_per_kwh);
        else
            rc = api_field_error(problem, field,
                                 "model '%s' has no inference profile (PATCH its \"inference\")",
                                 json_string_value(model));
        footprint_cleanup(&fp);
        return rc;
    }
    snprintf(field, sizeof field, "%s/fixed_co2e_kg", pointer);
    if (json_object_get(side, "fixed_co2e_kg") == NULL)
        return api_field_error(problem, field, "required (or give \"model\")");
    if (api_range_parse(json_object_get(side, "fixed_co2e_kg"), field, &out->fixed_kg, problem) !=
        ERR_OK)
        return ERR_INVALID_INPUT;
    if (!(out->fixed_kg.low >= 0) || !(out->fixed_kg.high < 1e15))
        return api_field_error(problem, field, "must be from 0 to 1e15 kg");
    snprintf(field, sizeof field, "%s/co2e_g_per_inference", pointer);
    if (json_object_get(side, "co2e_g_per_inference") == NULL)
        return api_field_error(problem, field, "required (or give \"model\")");
    if (api_range_parse(json_object_get(side, "co2e_g_per_inference"), field, &out->g_per_inference,
                        problem) != ERR_OK)
        return ERR_INVALID_INPUT;
    if (!(out->g_per_inference.low >= 0) || !(out->g_per_inference.high < 1e12))
        return api_field_error(problem, field, "must be from 0 to 1e12 g");
    return ERR_OK;
}

static json_t *side_json(const struct compare_side *side)
{
    char id[CORE_MODEL_ID_MAX + 1];
    json_t *o = json_pack("{s:o, s:o}", "fixed_co2e_kg", api_range_json(side->fixed_kg),
                          "co2e_g_per_inference", api_range_json(side->g_per_inference));

    if (o && side->is_model)
        json_object_set_new(o, "model",
                            json_string(core_model_id_format(&side->id, id, sizeof id)));
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
    struct compare_side a, b;
    struct core_cost_line pa, pb;
    struct core_crossover crossover;
    struct core_field_error fe;
    enum core_policy policy = CORE_POLICY_USAGE;
    const json_t *policy_json = json_object_get(req->body, "policy");
    const json_t *volume = json_object_get(req->body, "volume");
    struct db *db = NULL;
    json_t *body;
    enum err rc;

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
    rc = api_db(s, &db, &reply->problem);
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
    /* Crossover on the central values; per-inference figures in kg like the fixed part. */
    pa.kg_fixed = a.fixed_kg.value;
    pa.kg_per_inference = core_g_to_kg(a.g_per_inference.value);
    pb.kg_fixed = b.fixed_kg.value;
    pb.kg_per_inference = core_g_to_kg(b.g_per_inference.value);
    if (core_crossover(&pa, &pb, &crossover, &fe) != ERR_OK)
        return api_field_from_core(&reply->problem, &fe);
    body = json_pack("{s:o, s:o, s:s, s:{s:s}}", "a", side_json(&a), "b", side_json(&b), "policy",
                     core_policy_name(policy), "crossover", "kind", crossover_name(crossover.kind));
    if (body == NULL)
        return ERR_NO_MEMORY;
    json_object_set_new(json_object_get(body, "crossover"), "volume",
                        crossover.kind == CORE_CROSSOVER_A_BEYOND ||
                                crossover.kind == CORE_CROSSOVER_B_BEYOND
                            ? json_real(crossover.volume)
                            : json_null());
    if (volume) {
        double v = json_number_value(volume);
        json_object_set_new(body, "at_volume",
                            json_pack("{s:f, s:f, s:f, s:s}", "volume", v, "a_co2e_kg",
                                      pa.kg_fixed + pa.kg_per_inference * v, "b_co2e_kg",
                                      pb.kg_fixed + pb.kg_per_inference * v, "cleaner",
                                      cleaner_names[core_cleaner_at(&pa, &pb, v)]));
    }
    json_object_set_new(body, "methodology_version", json_string(CORE_METHODOLOGY_VERSION));
    return api_reply_json(reply, 200, body);
}
