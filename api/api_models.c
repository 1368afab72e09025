/* SPDX-License-Identifier: Apache-2.0 */
/* /v1/models: register, read, list, update and delete models and their lineage.
 * Accepts the Hugging Face card fields base_model and base_model_relation as they
 * appear in cards. */
#include "api_internal.h"
#include "units.h"

#include <sodium.h>
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
    for (size_t i = 0; parents && i < m->n_parents; i++) {
        char parent_id[CORE_MODEL_ID_MAX + 1];
        api_json_append(
            &parents,
            json_pack("{s:s, s:s}", "id",
                      core_model_id_format(&m->parents[i].id, parent_id, sizeof parent_id),
                      "relation", core_relation_name(m->parents[i].relation)));
    }
    /* A bare id (gpt2) has no namespace: null, not "". */
    o = json_pack("{s:s, s:s?, s:s, s:o, s:I, s:I, s:I, s:s, s:s}", "id",
                  core_model_id_format(&m->id, id, sizeof id), "namespace",
                  m->id.ns[0] ? m->id.ns : NULL, "name", m->id.name, "parents", parents, "depth",
                  (json_int_t)m->depth, "children_count", (json_int_t)m->n_children, "version",
                  (json_int_t)m->version, "created_at", m->created_at, "updated_at", m->updated_at);
    api_json_set(&o, "task", m->task[0] ? json_string(m->task) : json_null());
    api_json_set(&o, "license", m->license[0] ? json_string(m->license) : json_null());
    api_json_set(&o, "url", m->url[0] ? json_string(m->url) : json_null());
    api_json_set(&o, "parameters", m->has_parameters ? json_integer(m->parameters) : json_null());
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
    /* o stays the caller's: released only by the caller */
    return json_object_set_new(o, "inference",
                               has_profile ? api_profile_json(&profile) : json_null()) == 0
               ? ERR_OK
               : ERR_NO_MEMORY;
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

/* The strings of a card's tags (non-strings skipped), at most max. */
static size_t card_tags(const json_t *body, const char **tags, size_t max)
{
    const json_t *array = json_object_get(body, "tags");
    size_t n = 0;

    for (size_t i = 0; json_is_array(array) && i < json_array_size(array) && n < max; i++)
        if (json_is_string(json_array_get(array, i)))
            tags[n++] = json_string_value(json_array_get(array, i));
    return n;
}

/* The relation of a card's parents when base_model_relation does not say: the
 * Hub's inference from the repository name, tags, quantized_by and library_name. */
static enum core_relation card_relation(const json_t *body, const struct core_model *m,
                                        size_t n_parents, struct api_card *card)
{
    const char *tags[64];
    const json_t *library = json_object_get(body, "library_name");
    const json_t *quantized_by = json_object_get(body, "quantized_by");
    struct core_card_hints hints = {
        .name = m->id.name,
        .library_name = json_is_string(library) ? json_string_value(library) : NULL,
        .has_quantized_by = quantized_by != NULL && !json_is_null(quantized_by),
        .tags = tags,
        .n_tags = card_tags(body, tags, sizeof tags / sizeof *tags),
        .n_parents = n_parents,
    };

    card->relation_given = 0;
    return core_card_infer_relation(&hints, card->relation_from, sizeof card->relation_from);
}

/* Reads "parents" or the Hub card fields "base_model" (+ "base_model_relation")
 * into m->parents. A card's base_model null or [] (as mergekit writes) means no
 * parent. */
static enum err parse_lineage(const json_t *body, struct core_model *m, struct api_card *card,
                              struct api_problem *problem)
{
    const json_t *parents = json_object_get(body, "parents");
    const json_t *base = json_object_get(body, "base_model");
    const json_t *base_relation = json_object_get(body, "base_model_relation");
    char pointer[64];
    enum err rc = ERR_OK;

    m->n_parents = 0;
    card->relation_given = -1;
    card->lineage_given = parents != NULL || base != NULL || card->is_card;
    if (parents && base)
        return api_field_error(problem, "/base_model",
                               "give either 'parents' or the card's 'base_model', not both");
    if (base_relation && !json_is_null(base_relation) && !base)
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
    if (base && !json_is_null(base)) {
        enum core_relation relation = CORE_RELATION_FINETUNE;
        size_t n = json_is_array(base) ? json_array_size(base) : 1;
        if (!json_is_string(base) && !json_is_array(base))
            return api_field_error(problem, "/base_model", "must be a model id or a list of ids");
        if (n > CORE_MODEL_MAX_PARENTS)
            return api_field_error(problem, "/base_model", "must name at most %d models",
                                   CORE_MODEL_MAX_PARENTS);
        if (n == 0)
            return ERR_OK;
        if (base_relation && !json_is_null(base_relation)) {
            if (!json_is_string(base_relation) ||
                core_relation_parse(json_string_value(base_relation), &relation) != ERR_OK)
                return api_field_error(problem, "/base_model_relation",
                                       "must be one of finetune, adapter, quantized, merge, "
                                       "distillation");
            card->relation_given = 1;
            snprintf(card->relation_from, sizeof card->relation_from, "base_model_relation");
        } else {
            relation = card_relation(body, m, n, card);
        }
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

/* A text member of a card mapping into buf (a number as written), else "". */
static void card_text(const json_t *card, const char *key, char *buf, size_t len)
{
    const json_t *v = json_object_get(card, key);

    buf[0] = '\0';
    if (json_is_string(v))
        snprintf(buf, len, "%s", json_string_value(v));
    else if (json_is_number(v))
        snprintf(buf, len, "%g", json_number_value(v));
}

/* The Hub card's co2_eq_emissions (huggingface.co/docs/hub/model-cards-co2): a
 * mapping whose "emissions" is in grams of CO2e, or the legacy bare number (grams).
 * Builds the body of the "reported" activity it becomes; the kind comes from
 * training_type in whatever spelling (pre-training -> training, fine-tuning ->
 * fine_tuning, other text -> other); when absent, a model with a parent was
 * fine-tuned and a base model pre-trained. A mapping without "emissions" reports
 * no figure (*activity stays NULL): its hardware, hours and location may still
 * give an estimate. Members of the mapping carbontree does not read are added to
 * ignored. */
static enum err card_emissions(const json_t *card, bool has_parents, struct api_card *out,
                               json_t **activity, struct api_problem *problem)
{
    static const char *const allowed[] = {
        "emissions",      "source",     "training_type", "geographical_location",
        "hardware_used",  "hours_used", "cpu_model",     "gpu_model",
        "ram_total_size", "on_cloud",   "cloud_region",  NULL};
    const json_t *grams = json_is_object(card) ? json_object_get(card, "emissions") : card;
    const json_t *training_type = json_object_get(card, "training_type");
    const char *kind = has_parents ? "fine_tuning" : "training";
    const char *key;
    json_t *value;
    char note[500];
    char *text;

    if (!json_is_object(card) && !json_is_number(card))
        return api_field_error(problem, "/co2_eq_emissions",
                               "must be a number of grams or a mapping with \"emissions\" in "
                               "grams");
    json_object_foreach((json_t *)(uintptr_t)card, key, value)
    {
        char name[160];
        (void)value;
        if (api_name_in_list(key, allowed))
            continue;
        snprintf(name, sizeof name, "co2_eq_emissions.%.100s", key);
        if (json_array_append_new(out->ignored, json_string(name)) != 0)
            return ERR_NO_MEMORY;
    }
    if ((grams != NULL || !json_is_object(card)) &&
        (!json_is_number(grams) || !(json_number_value(grams) >= 0) ||
         !(json_number_value(grams) <= 1e15)))
        return api_field_error(
            problem, json_is_object(card) ? "/co2_eq_emissions/emissions" : "/co2_eq_emissions",
            "must be grams of CO2e, from 0 to 1e15");
    if (training_type && !json_is_null(training_type) && !json_is_string(training_type))
        return api_field_error(problem, "/co2_eq_emissions/training_type", "must be a text");
    out->training_given = 0;
    snprintf(out->training_from, sizeof out->training_from, "%s",
             has_parents ? "base_model: a model with a parent is a fine-tune"
                         : "no base_model: a model without a parent is a pre-training");
    if (json_is_string(training_type)) {
        out->training_given = 1;
        snprintf(out->training_from, sizeof out->training_from, "training_type");
        switch (core_card_training(json_string_value(training_type))) {
        case CORE_TRAINING_PRETRAINING:
            kind = "training";
            break;
        case CORE_TRAINING_FINETUNING:
            kind = "fine_tuning";
            break;
        case CORE_TRAINING_OTHER:
            kind = "other";
            break;
        }
    }
    snprintf(out->kind, sizeof out->kind, "%s", kind);
    out->is_pretraining = strcmp(kind, "training") == 0;
    card_text(card, "geographical_location", out->location, sizeof out->location);
    card_text(card, "hardware_used", out->hardware, sizeof out->hardware);
    card_text(card, "source", out->source, sizeof out->source);
    if (json_is_number(json_object_get(card, "hours_used")) &&
        json_number_value(json_object_get(card, "hours_used")) >= 0) {
        out->has_hours = true;
        out->hours = json_number_value(json_object_get(card, "hours_used"));
    }
    if (grams == NULL)
        return ERR_OK;
    out->has_grams = true;
    out->grams = json_number_value(grams);
    text = api_json_dumps(card, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
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

/* The card's prose, its "text" (the README under the front matter) or else its
 * "description", into *prose (malloc'd, NULL when it has none). */
static enum err card_prose(const json_t *body, char **prose)
{
    const json_t *text = json_object_get(body, "text");

    if (!json_is_string(text))
        text = json_object_get(body, "description");
    *prose = NULL;
    if (!json_is_string(text))
        return ERR_OK;
    *prose = core_strdup(json_string_value(text));
    return *prose ? ERR_OK : ERR_NO_MEMORY;
}

/* The keys that make a body a Hub card rather than carbontree's own form. */
static const char *const card_markers[] = {"base_model",
                                           "base_model_relation",
                                           "co2_eq_emissions",
                                           "pipeline_tag",
                                           "library_name",
                                           "tags",
                                           "language",
                                           "datasets",
                                           "metrics",
                                           "quantized_by",
                                           "model-index",
                                           "widget",
                                           "license_name",
                                           "license_link",
                                           NULL};

/* Keys of a card that carbontree reads (the others are listed as ignored). */
static const char *const card_used[] = {"pipeline_tag", "library_name", "tags", "quantized_by",
                                        "text",         "description",  NULL};

static bool body_is_card(const json_t *body)
{
    for (const char *const *k = card_markers; *k; k++)
        if (json_object_get(body, *k) != NULL)
            return true;
    return json_is_array(json_object_get(body, "license"));
}

/* A card's metadata in the form the registry keeps: pipeline_tag is the task when
 * the body has none, a list of licenses becomes one text, and a member of the
 * wrong type is ignored rather than refused. Returns a new object. */
static json_t *card_normalise(const json_t *body, json_t *ignored)
{
    json_t *copy = api_json_copy(body);
    const json_t *pipeline = json_object_get(body, "pipeline_tag");
    const json_t *license = json_object_get(body, "license");

    if (copy == NULL)
        return NULL;
    if (json_object_get(body, "task") == NULL && json_is_string(pipeline))
        api_json_set(&copy, "task", json_incref((json_t *)(uintptr_t)pipeline));
    if (json_is_array(license)) {
        char text[CORE_MODEL_TEXT_MAX] = "";
        size_t len = 0;
        for (size_t i = 0; i < json_array_size(license); i++) {
            const char *item = json_string_value(json_array_get(license, i));
            size_t n = item ? strlen(item) : 0;
            if (n == 0 || len + n + 3 >= sizeof text)
                continue;
            len += (size_t)snprintf(text + len, sizeof text - len, "%s%s", len ? ", " : "", item);
        }
        api_json_set(&copy, "license", len ? json_string(text) : json_null());
    } else if (license && !json_is_string(license) && !json_is_null(license) && copy) {
        json_object_del(copy, "license");
        if (json_array_append_new(ignored, json_string("license")) != 0) {
            json_decref(copy);
            copy = NULL;
        }
    }
    return copy;
}

/* The canonical text of what a registration decides: metadata, lineage and the
 * card's emissions as written, plus the names of the keys it ignored. */
static char *card_facts(const struct core_model *m, const json_t *body, const json_t *ignored,
                        const char *prose)
{
    char id[CORE_MODEL_ID_MAX + 1];
    json_t *parents = json_array();
    json_t *facts;
    char *text;

    for (size_t i = 0; parents && i < m->n_parents; i++)
        if (json_array_append_new(
                parents, json_pack("[s, s]", core_model_id_format(&m->parents[i].id, id, sizeof id),
                                   core_relation_name(m->parents[i].relation))) != 0) {
            json_decref(parents); /* a fact lost for want of memory would be a wrong digest */
            return NULL;
        }
    facts = json_pack("{s:s, s:s, s:s, s:s, s:o, s:O, s:O}", "task", m->task, "license", m->license,
                      "url", m->url, "id", core_model_id_format(&m->id, id, sizeof id), "parents",
                      parents, "ignored", ignored, "co2_eq_emissions",
                      json_object_get(body, "co2_eq_emissions")
                          ? json_object_get(body, "co2_eq_emissions")
                          : json_null());
    if (facts == NULL)
        return NULL;
    if (json_object_set_new(facts, "parameters",
                            m->has_parameters ? json_integer(m->parameters) : json_null()) != 0 ||
        /* only when present, so that the digest of a card without prose is unchanged */
        (prose != NULL && json_object_set_new(facts, "prose", json_string(prose)) != 0)) {
        json_decref(facts);
        return NULL;
    }
    text = api_json_dumps(facts, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(facts);
    if (text == NULL)
        return NULL;
    /* Stored as a digest: only equality matters, and a card's url alone can take
     * 2 KiB. */
    {
        unsigned char digest[32];
        char *hex = core_malloc(2 * sizeof digest + 1);
        crypto_generichash(digest, sizeof digest, (const unsigned char *)text, strlen(text), NULL,
                           0);
        if (hex != NULL)
            sodium_bin2hex(hex, 2 * sizeof digest + 1, digest, sizeof digest);
        free(text);
        return hex;
    }
}

void api_card_cleanup(struct api_card *card)
{
    json_decref(card->activity);
    json_decref(card->ignored);
    free(card->facts);
    free(card->prose);
    card->prose = NULL;
    card->activity = NULL;
    card->ignored = NULL;
    card->facts = NULL;
}

enum err api_model_parse(const json_t *body, const char *const *extra_members, struct core_model *m,
                         struct api_card *card, struct api_problem *problem)
{
    static const char *const fields[] = {
        "id",   "parents", "base_model", "base_model_relation", "co2_eq_emissions",
        "task", "license", "url",        "parameters",          NULL};
    const char *allowed[sizeof fields / sizeof *fields + 8];
    size_t n_allowed = 0;
    const json_t *id;
    json_t *input = NULL;
    enum err rc = ERR_OK;

    memset(m, 0, sizeof *m);
    memset(card, 0, sizeof *card);
    card->relation_given = -1;
    card->training_given = -1;
    if (!json_is_object(body))
        return api_field_error(problem, "", "the body must be a JSON object");
    card->ignored = json_array();
    if (card->ignored == NULL)
        return ERR_NO_MEMORY;
    for (const char *const *f = fields; *f; f++)
        allowed[n_allowed++] = *f;
    for (const char *const *f = extra_members; f && *f && n_allowed + 1 < 18; f++)
        allowed[n_allowed++] = *f;
    allowed[n_allowed] = NULL;
    card->is_card = body_is_card(body);
    if (card->is_card) {
        const char *key;
        json_t *value;
        json_object_foreach((json_t *)(uintptr_t)body, key, value)
        {
            (void)value;
            if (!api_name_in_list(key, allowed) && !api_name_in_list(key, card_used) &&
                json_array_append_new(card->ignored, json_string(key)) != 0)
                return ERR_NO_MEMORY;
        }
        input = card_normalise(body, card->ignored);
        if (input == NULL)
            return ERR_NO_MEMORY;
        rc = card_prose(body, &card->prose);
    } else {
        input = json_incref((json_t *)(uintptr_t)body);
        rc = api_check_members(body, "", allowed, read_only_fields, problem);
    }
    id = json_object_get(input, "id");
    if (!json_is_string(id))
        rc = api_field_error(problem, "/id", "required: the model id as 'namespace/name'");
    else if (core_model_id_parse(json_string_value(id), &m->id) != ERR_OK)
        rc = api_field_error(problem, "/id",
                             "'%.200s' is not a model id: expected 'namespace/name', each part "
                             "1-96 of A-Z a-z 0-9 . _ - not starting with . or -",
                             json_string_value(id));
    if (parse_metadata(input, m, false, problem) != ERR_OK)
        rc = ERR_INVALID_INPUT;
    if (parse_lineage(input, m, card, problem) != ERR_OK)
        rc = ERR_INVALID_INPUT;
    card->from_card = json_object_get(input, "base_model") != NULL;
    if (rc == ERR_OK)
        rc = check_lineage(m, card->from_card, problem);
    if (rc == ERR_OK && json_object_get(input, "co2_eq_emissions"))
        rc = card_emissions(json_object_get(input, "co2_eq_emissions"), m->n_parents > 0, card,
                            &card->activity, problem);
    if (rc == ERR_OK) {
        card->facts = card_facts(m, input, card->ignored, card->prose);
        if (card->facts == NULL)
            rc = ERR_NO_MEMORY;
    }
    json_decref(input);
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

/* The answer to a registration: the model as GET shows it, with the placeholder
 * parents it created. New reference. */
static json_t *registration_json(struct db *db, const struct core_model *m,
                                 const struct api_card_result *res)
{
    json_t *body = model_to_json(m);

    if (attach_profile(db, m, body) != ERR_OK || api_card_attach(db, m, body) != ERR_OK) {
        json_decref(body);
        return NULL;
    }
    if (json_array_size(res->placeholders) > 0 &&
        json_object_set(body, "placeholders_created", res->placeholders) != 0) {
        json_decref(body);
        return NULL;
    }
    return body;
}

static void report_changes(struct api_service *s, const struct api_request *req,
                           const struct api_card_result *res)
{
    if (res->outcome == API_CARD_CREATED)
        api_changes_report(s, req, API_CHANGE_MODEL_ADDED, 1);
    else if (res->outcome == API_CARD_UPDATED)
        api_changes_report(s, req, API_CHANGE_MODEL_UPDATED, 1);
    if (json_array_size(res->placeholders) > 0)
        api_changes_report(s, req, API_CHANGE_MODEL_ADDED,
                           (int64_t)json_array_size(res->placeholders));
    if (res->activities_added > 0)
        api_changes_report(s, req, API_CHANGE_ACTIVITY_ADDED, res->activities_added);
    if (res->activities_removed > 0)
        api_changes_report(s, req, API_CHANGE_ACTIVITY_DELETED, res->activities_removed);
}

/* Registers the body for POST (sync false) and PUT (sync true) in one transaction. */
static enum err register_model(struct api_service *s, const struct api_request *req,
                               struct api_reply *reply, bool sync)
{
    struct core_model *m;
    struct db *db = req->db;
    struct api_card card = {0};
    struct api_card_result res = {0};
    struct core_model_id path_id;
    json_t *body = NULL;
    char location[256];
    struct api_principal principal;
    enum err rc;

    if (sync)
        rc = api_path_write_gate(s, req, API_SCOPE_MODELS_WRITE, &principal, reply);
    else
        rc = api_require(s, req, API_SCOPE_MODELS_WRITE, NULL, &principal, reply);
    if (rc != ERR_OK)
        return rc;
    if (sync) {
        rc = api_path_id(req, &path_id, &reply->problem);
        if (rc != ERR_OK)
            return rc;
    }
    if (!json_is_object(req->body))
        return api_field_error(&reply->problem, "", "the body must be a JSON object");
    m = core_calloc(1, sizeof *m);
    if (m == NULL)
        return ERR_NO_MEMORY;
    if (sync && json_object_get(req->body, "id") == NULL) {
        /* PUT names the model in its path; the card need not repeat it. */
        json_t *copy = api_json_copy(req->body);
        char id[CORE_MODEL_ID_MAX + 1];
        if (copy == NULL) {
            rc = ERR_NO_MEMORY;
            goto out;
        }
        if (json_object_set_new(copy, "id",
                                json_string(core_model_id_format(&path_id, id, sizeof id))) != 0)
            rc = ERR_NO_MEMORY;
        else
            rc = api_model_parse(copy, NULL, m, &card, &reply->problem);
        json_decref(copy);
    } else {
        rc = api_model_parse(req->body, NULL, m, &card, &reply->problem);
    }
    card.count_copied = s->config.count_copied_emissions;
    if (rc == ERR_OK && sync && !core_model_id_equal(&m->id, &path_id))
        rc = api_field_error(&reply->problem, "/id", "must be the id the path names, '%s'",
                             CORE_MODEL_ID_TEXT(&path_id));
    /* Parents may be any hub's models (cross-hub lineage); the new model itself must
     * be in one of the token's namespaces. */
    if (rc == ERR_OK)
        rc = api_authorize(&principal, API_SCOPE_MODELS_WRITE, m->id.ns, reply);
    if (rc != ERR_OK)
        goto out;
    rc = db_write_begin(db);
    if (rc != ERR_OK)
        goto out;
    rc = api_card_store(db, m, &card, sync, &res, &reply->problem);
    if (rc == ERR_OK) {
        body = registration_json(db, m, &res);
        if (body == NULL)
            rc = ERR_NO_MEMORY;
    }
    if (rc == ERR_OK && res.outcome == API_CARD_UNCHANGED)
        db_write_rollback(db);
    else if (rc == ERR_OK)
        rc = db_write_commit(db);
    else
        db_write_rollback(db);
    if (rc != ERR_OK)
        goto out;
    report_changes(s, req, &res);
    if (res.outcome == API_CARD_CREATED) {
        snprintf(location, sizeof location, "/v1/models/%s", CORE_MODEL_ID_TEXT(&m->id));
        api_reply_header(reply, "Location", location);
    }
    set_model_headers(reply, m);
    rc = api_reply_json(reply, res.outcome == API_CARD_CREATED ? 201 : 200, body);
    body = NULL;
out:
    json_decref(body);
    json_decref(res.placeholders);
    json_decref(res.flags);
    api_card_cleanup(&card);
    free(m);
    return rc;
}

enum err api_models_post(struct api_service *s, const struct api_request *req,
                         struct api_reply *reply)
{
    return register_model(s, req, reply, false);
}

enum err api_models_put(struct api_service *s, const struct api_request *req,
                        struct api_reply *reply)
{
    return register_model(s, req, reply, true);
}

static enum err model_not_found(const struct core_model_id *id, struct api_problem *problem)
{
    return api_fail(problem, ERR_NOT_FOUND, "model '%s' is not registered", CORE_MODEL_ID_TEXT(id));
}

/* The reads of a model's sub-resources, by name. */
static const struct {
    const char *name;
    api_handler_fn handler;
} subresource_reads[] = {
    {"activities", api_activities_list}, {"ancestors", api_ancestors_get},
    {"badge.svg", api_badge_get},        {"family", api_family_get},
    {"footprint", api_footprint_get},    {"inferences", api_inferences_get},
    {"series", api_series_get},
};

/* GET /v1/models/{a}/{b} where b names a sub-resource: the model a/b when it is
 * registered, else b of the bare model a when that is (registration keeps the two
 * from both existing). The read's handler for the second case; NULL otherwise. */
static api_handler_fn bare_model_read(struct db *db, const struct api_request *req)
{
    struct core_model_id id, stored;
    api_handler_fn handler = NULL;
    int64_t key;

    if (req->n_params != 2 || req->params[0][0] == '\0')
        return NULL;
    for (size_t i = 0; i < sizeof subresource_reads / sizeof subresource_reads[0]; i++)
        if (strcasecmp(req->params[1], subresource_reads[i].name) == 0)
            handler = subresource_reads[i].handler;
    if (handler == NULL)
        return NULL;
    if (core_model_id_from_parts(req->params[0], req->params[1], &id) == ERR_OK &&
        db_model_find(db, &id, &key, &stored) != ERR_NOT_FOUND)
        return NULL;
    if (core_model_id_from_parts("", req->params[0], &id) != ERR_OK ||
        db_model_find(db, &id, &key, &stored) != ERR_OK)
        return NULL;
    return handler;
}

enum err api_models_get(struct api_service *s, const struct api_request *req,
                        struct api_reply *reply)
{
    struct core_model_id id;
    struct core_model *m;
    struct db *db = req->db;
    json_t *body = NULL;
    char etag[32];
    api_handler_fn read = bare_model_read(db, req);
    enum err rc;

    if (read) {
        struct api_request bare = *req;
        bare.params[0] = "";
        bare.params[1] = req->params[0];
        return read(s, &bare, reply);
    }
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
            if (rc == ERR_OK)
                rc = api_card_attach(db, m, body);
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

/* What ?include=footprint adds to a list item: the summary of the model's
 * footprint under one policy, computed by the core from its own lineage. */
struct item_footprint {
    int64_t inferences;
    struct core_range own_kg, inherited_kg, inference_kg, total_kg;
    bool has_g_per_inference;
    struct core_range g_per_inference;
};

/* The footprints of a page of models, inside the caller's read snapshot: one
 * lineage read per model, O(page x ancestors), whatever the ledger's size. */
static enum err load_item_footprints(struct db *db, const struct core_model *items, size_t n,
                                     enum core_policy policy, struct item_footprint *out)
{
    for (size_t i = 0; i < n; i++) {
        struct api_footprint footprint;
        enum err rc = api_footprint_load(db, items[i].key, NULL, policy, &footprint);
        if (rc != ERR_OK)
            return rc;
        out[i] = (struct item_footprint){
            .inferences = footprint.fp.self->inferences,
            .own_kg = footprint.fp.own_kg,
            .inherited_kg = footprint.fp.inherited_kg,
            .inference_kg = footprint.fp.inference_kg,
            .total_kg = footprint.fp.total_kg,
            .has_g_per_inference = footprint.fp.has_g_per_inference,
            .g_per_inference = footprint.fp.total_g_per_inference,
        };
        api_footprint_cleanup(&footprint);
    }
    return ERR_OK;
}

/* The "footprint" member of a list item. New reference. */
static json_t *item_footprint_json(const struct item_footprint *f, enum core_policy policy)
{
    json_t *o =
        json_pack("{s:s, s:I, s:o, s:o, s:o, s:o}", "policy", core_policy_name(policy),
                  "inferences", (json_int_t)f->inferences, "own_co2e_kg", api_range_json(f->own_kg),
                  "inherited_co2e_kg", api_range_json(f->inherited_kg), "inference_co2e_kg",
                  api_range_json(f->inference_kg), "total_co2e_kg", api_range_json(f->total_kg));

    if (o)
        json_object_set_new(o, "co2e_g_per_inference",
                            f->has_g_per_inference ? api_range_json(f->g_per_inference)
                                                   : json_null());
    return o;
}

static void csv_range(struct api_csv *csv, struct core_range r)
{
    api_csv_number(csv, r.value);
    api_csv_number(csv, r.low);
    api_csv_number(csv, r.high);
}

/* The CSV form of a page of models (RFC 4180, CRLF): one row per model, parents as
 * "id:relation" joined by ';', absent optional fields empty. */
static enum err models_csv(const struct core_model *items, size_t n,
                           const struct item_footprint *footprints, enum core_policy policy,
                           struct api_reply *reply)
{
    struct api_csv csv = {0};
    char id[CORE_MODEL_ID_MAX + 1];

    api_csv_header(&csv, footprints ? "id,namespace,name,parents,depth,children_count,task,"
                                      "license,url,parameters,created_at,updated_at,policy,"
                                      "inferences,own_co2e_kg,own_co2e_kg_low,own_co2e_kg_high,"
                                      "inherited_co2e_kg,inherited_co2e_kg_low,"
                                      "inherited_co2e_kg_high,inference_co2e_kg,"
                                      "inference_co2e_kg_low,inference_co2e_kg_high,"
                                      "total_co2e_kg,total_co2e_kg_low,total_co2e_kg_high,"
                                      "co2e_g_per_inference,co2e_g_per_inference_low,"
                                      "co2e_g_per_inference_high"
                                    : "id,namespace,name,parents,depth,children_count,task,"
                                      "license,url,parameters,created_at,updated_at");
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
        if (footprints) {
            const struct item_footprint *f = &footprints[i];
            api_csv_field(&csv, core_policy_name(policy));
            api_csv_integer(&csv, f->inferences);
            csv_range(&csv, f->own_kg);
            csv_range(&csv, f->inherited_kg);
            csv_range(&csv, f->inference_kg);
            csv_range(&csv, f->total_kg);
            if (f->has_g_per_inference) {
                csv_range(&csv, f->g_per_inference);
            } else {
                api_csv_field(&csv, NULL);
                api_csv_field(&csv, NULL);
                api_csv_field(&csv, NULL);
            }
        }
        api_csv_row_end(&csv);
    }
    return api_csv_reply(&csv, reply);
}

static const struct {
    const char *name;
    enum db_model_order order;
} model_sorts[] = {
    {"created_at", DB_MODEL_BY_KEY},
    {"-created_at", DB_MODEL_BY_KEY_DESC},
    {"-inferences", DB_MODEL_BY_INFERENCES},
    {"-own_co2e_kg", DB_MODEL_BY_OWN_CO2E},
    {"-total_co2e_kg", DB_MODEL_BY_FOOTPRINT},
    {"-co2e_g_per_inference", DB_MODEL_BY_FOOTPRINT_PER_INFERENCE},
};

#define MODEL_SORT_NAMES                                                                           \
    "created_at, -created_at, -inferences, -own_co2e_kg, -total_co2e_kg, -co2e_g_per_inference"

/* The order ?sort= names (registration order when absent). An order other than
 * registration order walks its own index over every model, so it does not
 * combine with a filter, which would make it a scan. */
static enum err models_order(const char *sort, bool is_filtered, enum db_model_order *order,
                             struct api_problem *problem)
{
    *order = DB_MODEL_BY_KEY;
    if (sort == NULL)
        return ERR_OK;
    for (size_t i = 0; i < sizeof model_sorts / sizeof model_sorts[0]; i++) {
        if (strcmp(sort, model_sorts[i].name) != 0)
            continue;
        *order = model_sorts[i].order;
        if (*order != DB_MODEL_BY_KEY && is_filtered) {
            api_field_error(problem, "sort", "does not combine with namespace or parent");
            return api_fail(problem, ERR_BAD_REQUEST,
                            "query parameter 'sort' does not combine with 'namespace' or "
                            "'parent'");
        }
        return ERR_OK;
    }
    api_field_error(problem, "sort", "one of " MODEL_SORT_NAMES);
    return api_fail(problem, ERR_BAD_REQUEST,
                    "query parameter 'sort' is not one of " MODEL_SORT_NAMES);
}

/* A footprint order ranks by the policy-free figure, the only one an index can
 * keep: under equal or usage a model's share of its ancestors moves with every
 * write anywhere in its family. So the policy of the footprints on its page is
 * none (when absent too), and another is refused rather than ranked wrongly. */
static enum err footprint_order_policy(const struct api_request *req, enum db_model_order order,
                                       enum core_policy *policy, struct api_problem *problem)
{
    const char *text = api_query_get(req, "policy");

    if (order != DB_MODEL_BY_FOOTPRINT && order != DB_MODEL_BY_FOOTPRINT_PER_INFERENCE)
        return ERR_OK;
    if (text && strcmp(text, "none") != 0) {
        api_field_error(problem, "policy", "a footprint order ranks under policy none only");
        return api_fail(problem, ERR_BAD_REQUEST,
                        "query parameter 'sort' ranks by the footprint under policy none (own "
                        "emissions plus the model's own inference emissions): an amortized share "
                        "under '%s' changes with every write to the family and has no index; "
                        "leave out 'policy', or sort without it and read each item's amortized "
                        "footprint with 'include=footprint&policy=%s'",
                        text, text);
    }
    *policy = CORE_POLICY_NONE;
    return ERR_OK;
}

/* ?q=: the start of a model id, 1 to CORE_MODEL_ID_MAX characters an id may hold,
 * one slash at most and not first. Alone: an order or a filter beside it would
 * make the prefix's index range a scan. */
static enum err models_query_text(const struct api_request *req, const char *q,
                                  struct api_problem *problem)
{
    size_t len = q ? strlen(q) : 0;
    const char *slash = q ? strchr(q, '/') : NULL;

    if (q == NULL)
        return ERR_OK;
    if (len == 0 || len > CORE_MODEL_ID_MAX || q[0] == '/' || (slash && strchr(slash + 1, '/')) ||
        strspn(q, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-/") != len) {
        api_field_error(problem, "q",
                        "the start of a model id: 1 to %d of A-Z a-z 0-9 . _ - "
                        "and one '/' at most, not first",
                        CORE_MODEL_ID_MAX);
        return api_fail(problem, ERR_BAD_REQUEST,
                        "query parameter 'q' is not the start of a model id");
    }
    if (api_query_get(req, "sort") || api_query_get(req, "namespace") ||
        api_query_get(req, "parent")) {
        api_field_error(problem, "q", "does not combine with sort, namespace or parent");
        return api_fail(problem, ERR_BAD_REQUEST,
                        "query parameter 'q' does not combine with 'sort', 'namespace' or "
                        "'parent'");
    }
    return ERR_OK;
}

/* ?include=footprint (the only part a list item may add) and the ?policy= its
 * figures are computed under (usage when absent); a policy alone is refused, as
 * it would change nothing, but for a footprint order's (footprint_order_policy). */
static enum err models_include(const struct api_request *req, bool is_footprint_order,
                               bool *has_footprint, enum core_policy *policy,
                               struct api_problem *problem)
{
    const char *include = api_query_get(req, "include");

    *has_footprint = false;
    if (include && strcmp(include, "footprint") != 0) {
        api_field_error(problem, "include", "must be footprint");
        return api_fail(problem, ERR_BAD_REQUEST, "query parameter 'include' must be footprint");
    }
    *has_footprint = include != NULL;
    if (!*has_footprint && api_query_get(req, "policy") && !is_footprint_order) {
        api_field_error(problem, "policy", "applies to include=footprint");
        return api_fail(problem, ERR_BAD_REQUEST,
                        "query parameter 'policy' applies only with 'include=footprint'");
    }
    return api_policy_from_query(req, policy, problem);
}

enum err api_models_list(struct api_service *s, const struct api_request *req,
                         struct api_reply *reply)
{
    static const char *const allowed[] = {"limit",  "cursor", "namespace", "parent", "sort",
                                          "format", "q",      "include",   "policy", NULL};
    struct db_model_filter filter = {0};
    const char *sort = api_query_get(req, "sort");
    struct core_model_id parent;
    struct core_model *items = NULL;
    struct item_footprint *footprints = NULL;
    enum core_policy policy = CORE_POLICY_USAGE;
    struct db *db = req->db;
    size_t n = 0;
    bool has_more = false, has_footprint = false;
    int64_t limit = 0, cursor = 0;
    const char *ns = api_query_get(req, "namespace");
    const char *parent_text = api_query_get(req, "parent");
    const char *q = api_query_get(req, "q");
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
    rc = api_csv_format_check(req, &reply->problem);
    if (rc == ERR_OK)
        rc = models_order(sort, ns != NULL || parent_text != NULL, &filter.order, &reply->problem);
    if (rc == ERR_OK)
        rc = models_query_text(req, q, &reply->problem);
    if (rc == ERR_OK)
        rc = models_include(req,
                            filter.order == DB_MODEL_BY_FOOTPRINT ||
                                filter.order == DB_MODEL_BY_FOOTPRINT_PER_INFERENCE,
                            &has_footprint, &policy, &reply->problem);
    if (rc == ERR_OK)
        rc = footprint_order_policy(req, filter.order, &policy, &reply->problem);
    if (rc != ERR_OK)
        return rc;
    filter.id_prefix = q;
    filter.ns = ns;
    filter.parent = parent_text ? &parent : NULL;
    filter.after_key = cursor;
    filter.limit = (size_t)limit;
    items = core_calloc((size_t)limit, sizeof *items);
    if (has_footprint)
        footprints = core_calloc((size_t)limit, sizeof *footprints);
    if (items == NULL || (has_footprint && footprints == NULL)) {
        rc = ERR_NO_MEMORY;
        goto out;
    }
    rc = db_read_begin(db);
    if (rc == ERR_OK) {
        rc = db_model_list(db, &filter, items, &n, &has_more);
        if (rc == ERR_OK && has_footprint)
            rc = load_item_footprints(db, items, n, policy, footprints);
        db_read_end(db);
    }
    if (rc == ERR_NOT_FOUND && (filter.order != DB_MODEL_BY_KEY || q)) {
        api_field_error(&reply->problem, "cursor", "names no model");
        rc = api_fail(&reply->problem, ERR_BAD_REQUEST, "query parameter 'cursor' names no model");
    } else if (rc == ERR_NOT_FOUND) {
        rc = api_fail(&reply->problem, ERR_NOT_FOUND, "parent model '%s' is not registered",
                      parent_text);
    }
    if (rc != ERR_OK)
        goto out;
    array = api_csv_wanted_vary(req, reply) ? NULL : json_array();
    for (size_t i = 0; array && i < n; i++) {
        json_t *item = model_to_json(&items[i]);
        if (has_footprint)
            api_json_set(&item, "footprint", item_footprint_json(&footprints[i], policy));
        api_json_append(&array, item);
    }
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
        if (sort)
            len += snprintf(link + len, sizeof link - (size_t)len, "&sort=%s", sort);
        if (q) /* only characters a URL takes as they are */
            len += snprintf(link + len, sizeof link - (size_t)len, "&q=%s", q);
        if (has_footprint)
            len += snprintf(link + len, sizeof link - (size_t)len, "&include=footprint");
        if (api_query_get(req, "policy"))
            len += snprintf(link + len, sizeof link - (size_t)len, "&policy=%s",
                            core_policy_name(policy));
        len += snprintf(link + len, sizeof link - (size_t)len, "%s", api_csv_format_param(req));
        snprintf(link + len, sizeof link - (size_t)len, ">; rel=\"next\"");
        api_reply_header(reply, "Link", link);
    }
    if (api_csv_wanted(req)) {
        api_csv_attachment(reply, NULL, "models");
        rc = models_csv(items, n, footprints, policy, reply);
    } else if (has_more && n > 0)
        rc = api_reply_json(reply, 200,
                            json_pack("{s:o, s:s}", "items", array, "next_cursor", next));
    else
        rc = api_reply_json(reply, 200, json_pack("{s:o, s:n}", "items", array, "next_cursor"));
out:
    free(footprints);
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
    struct api_card lineage;
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
    memset(&lineage, 0, sizeof lineage);
    if (parse_lineage(req->body, patch, &lineage, &reply->problem) != ERR_OK)
        rc = ERR_INVALID_INPUT;
    lineage_given = lineage.lineage_given;
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
                      "model '%s' has %lld child model(s); delete them first",
                      CORE_MODEL_ID_TEXT(&m->id), (long long)m->n_children);
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
