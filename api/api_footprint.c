/* SPDX-License-Identifier: Apache-2.0 */
/* GET …/footprint and …/ancestors: a model's amortized footprint (its share of
 * each ancestor's emissions, its inference emissions, the total, per inference and
 * as equivalences) and its ancestors. The core computes; this file reads the
 * lineage, then renders. Reads O(ancestors) rows whatever the family size. */
#include "api_internal.h"
#include "equivalence.h"
#include "json_text.h"
#include "methodology.h"
#include "sharing.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The footprint of the lineage out holds, under policy; on failure nothing is
 * left to free. */
static enum err footprint_compute(enum core_policy policy, struct api_footprint *out)
{
    enum err rc = ERR_OK;

    out->allocations = core_calloc(out->lineage.n_members, sizeof *out->allocations);
    if (out->allocations == NULL) {
        rc = ERR_NO_MEMORY;
    } else if (core_footprint(&out->lineage, policy, out->allocations, &out->fp) != ERR_OK) {
        rc = ERR_INTERNAL; /* the aggregates contradict each other */
    }
    if (rc != ERR_OK)
        api_footprint_cleanup(out);
    return rc;
}

enum err api_footprint_load(struct db *db, int64_t key, const struct core_model_id *id,
                            enum core_policy policy, struct api_footprint *out)
{
    enum err rc;

    memset(out, 0, sizeof *out);
    if (id)
        rc = db_lineage_load_id(db, id, &out->lineage);
    else
        rc = db_lineage_load(db, key, &out->lineage);
    return rc == ERR_OK ? footprint_compute(policy, out) : rc;
}

void api_footprint_cleanup(struct api_footprint *footprint)
{
    core_lineage_cleanup(&footprint->lineage);
    free(footprint->allocations);
    footprint->allocations = NULL;
    json_decref(footprint->warnings);
    footprint->warnings = NULL;
}

/* One card's flags, each with the model it is on, appended to warnings. */
static enum err append_flags(json_t **warnings, const struct core_lineage_member *m)
{
    char id[CORE_MODEL_ID_MAX + 1];
    json_t *flags = api_json_loads(m->flags, 0, NULL);

    /* The stored flags were written from JSON: a text that does not read back is a
     * want of memory (jansson does not always say so), and warnings lost to it
     * would be a footprint without them. */
    if (flags == NULL) {
        json_decref(*warnings);
        *warnings = NULL;
    }
    for (size_t f = 0; *warnings && f < json_array_size(flags); f++) {
        json_t *w = api_json_copy(json_array_get(flags, f));
        api_json_set(&w, "model", json_string(core_model_id_format(&m->id, id, sizeof id)));
        api_json_append(warnings, w);
    }
    json_decref(flags);
    return *warnings ? ERR_OK : ERR_NO_MEMORY;
}

/* The flags of the cards in the footprint's lineage, as its "warnings": what
 * looked wrong in a figure the footprint counts (or leaves out). Nearest first:
 * the deepest members first, those of one depth in lineage order. */
static enum err lineage_warnings(struct api_footprint *footprint)
{
    const struct core_lineage *lineage = &footprint->lineage;
    enum err rc = ERR_OK;
    size_t end = lineage->n_members;

    footprint->warnings = json_array();
    if (footprint->warnings == NULL)
        return ERR_NO_MEMORY;
    while (rc == ERR_OK && end > 0) {
        size_t start = end - 1;
        while (start > 0 && lineage->members[start - 1].depth == lineage->members[end - 1].depth)
            start--;
        for (size_t i = start; rc == ERR_OK && i < end; i++)
            if (lineage->members[i].flags)
                rc = append_flags(&footprint->warnings, &lineage->members[i]);
        end = start;
    }
    return rc;
}

enum err api_policy_from_query(const struct api_request *req, enum core_policy *policy,
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

void api_text_id(struct text *t, const struct core_model_id *id)
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

void api_footprint_write(struct text *t, const struct api_footprint *footprint)
{
    const struct core_footprint *fp = &footprint->fp;
    const struct core_lineage *lineage = &footprint->lineage;

    TEXT_LIT(t, "{\"model\":");
    api_text_id(t, &fp->self->id);
    TEXT_LIT(t, ",\"policy\":");
    text_string(t, core_policy_name(fp->policy));
    TEXT_LIT(t, ",\"inferences\":");
    text_int(t, fp->self->inferences);
    TEXT_LIT(t, ",\"allocations\":[");
    for (size_t i = 0; i < lineage->n_members; i++) {
        const struct core_lineage_member *m = &lineage->members[i];
        const struct core_allocation *a = &fp->allocations[i];
        if (i > 0)
            TEXT_LIT(t, ",");
        TEXT_LIT(t, "{\"source\":");
        api_text_id(t, &m->id);
        TEXT_LIT(t, ",\"source_co2e_kg\":");
        text_range(t, m->own_co2e_kg);
        TEXT_LIT(t, ",\"share\":");
        text_real(t, a->share);
        TEXT_LIT(t, ",\"co2e_kg\":");
        text_range(t, a->co2e_kg);
        TEXT_LIT(t, ",\"family_size\":");
        text_int(t, m->descendants);
        TEXT_LIT(t, ",\"family_inferences\":");
        text_int(t, m->descendant_inferences);
        if (a->is_usage_fallback)
            TEXT_LIT(t, ",\"usage_fallback\":true");
        TEXT_LIT(t, "}");
    }
    TEXT_LIT(t, "],\"own_co2e_kg\":");
    text_range(t, fp->own_kg);
    TEXT_LIT(t, ",\"inherited_co2e_kg\":");
    text_range(t, fp->inherited_kg);
    TEXT_LIT(t, ",\"inference_co2e_kg\":");
    text_range(t, fp->inference_kg);
    TEXT_LIT(t, ",\"total_co2e_kg\":");
    text_range(t, fp->total_kg);
    TEXT_LIT(t, ",\"equivalences\":");
    text_equivalences(t, fp->total_kg);
    TEXT_LIT(t, ",\"co2e_g_per_inference\":");
    if (fp->has_g_per_inference)
        text_range(t, fp->total_g_per_inference);
    else
        TEXT_LIT(t, "null");
    TEXT_LIT(t, ",\"parity_inferences\":");
    if (fp->has_inference && fp->parity.status == CORE_PARITY_OK)
        text_int(t, (int64_t)fp->parity.value);
    else
        TEXT_LIT(t, "null");
    TEXT_LIT(t, ",\"lineage_energy_kwh\":");
    text_range(t, fp->lineage_kwh);
    TEXT_LIT(t, ",\"inference_profile\":");
    if (fp->has_inference) {
        char source[CORE_MODEL_ID_MAX + 1];
        json_t *profile = api_profile_json(&lineage->profile);
        api_json_set(&profile, "energy_kwh_per_inference_used",
                     api_range_json(fp->energy.kwh_per_inference));
        api_json_set(&profile, "from_model",
                     json_string(core_model_id_format(&lineage->members[lineage->profile_member].id,
                                                      source, sizeof source)));
        text_json(t, profile);
    } else {
        TEXT_LIT(t, "null");
    }
    TEXT_LIT(t, ",\"usage_fallback\":");
    if (fp->is_usage_fallback)
        TEXT_LIT(t, "true");
    else
        TEXT_LIT(t, "false");
    if (footprint->has_overtake) {
        TEXT_LIT(t, ",\"inference_overtakes_training\":");
        api_overtake_write(t, &footprint->overtake, fp->has_inference, footprint->window_days,
                           false);
    }
    if (json_array_size(footprint->warnings) > 0) {
        TEXT_LIT(t, ",\"warnings\":");
        text_json(t, json_incref(footprint->warnings));
    }
    TEXT_LIT(t, ",\"methodology_version\":");
    text_string(t, CORE_METHODOLOGY_VERSION);
    TEXT_LIT(t, "}");
}

/* The families a footprint is computed from: the roots of its lineage. */
static size_t lineage_roots(const struct core_lineage *lineage, int64_t *roots, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < lineage->n_members; i++)
        if (lineage->members[i].depth == 0 && n < max + 1)
            roots[n++] = lineage->members[i].key;
    return n;
}

/* Reads and writes the footprint of id into t; roots gets the families it was
 * computed from (n_roots of them, API_CACHE_MAX_ROOTS + 1 when more). */
static enum err footprint_text(const struct api_request *req, const struct core_model_id *id,
                               enum core_policy policy, int window_days, struct text *t,
                               int64_t *roots, size_t *n_roots)
{
    struct api_footprint footprint;
    struct db *db = req->db;
    enum err rc;

    /* One snapshot: the lineage with its cards' flags in one statement, and, when
     * the footprint has a profile, the overtake's training and series. */
    memset(&footprint, 0, sizeof footprint);
    rc = db_read_begin(db);
    if (rc != ERR_OK)
        return rc;
    rc = db_lineage_load_flags(db, id, &footprint.lineage);
    if (rc == ERR_OK)
        rc = footprint_compute(policy, &footprint);
    if (rc == ERR_OK) {
        footprint.has_overtake = true;
        footprint.window_days = window_days;
        if (footprint.fp.has_inference)
            rc = api_overtake_compute(db, footprint.fp.self->key, footprint.fp.inference_g_each,
                                      window_days, &footprint.overtake);
        if (rc == ERR_OK)
            rc = lineage_warnings(&footprint);
        if (rc != ERR_OK)
            api_footprint_cleanup(&footprint);
    }
    db_read_end(db);
    if (rc == ERR_OK) {
        *n_roots = lineage_roots(&footprint.lineage, roots, API_CACHE_MAX_ROOTS);
        api_footprint_write(t, &footprint);
        TEXT_LIT(t, "\n");
        api_footprint_cleanup(&footprint);
    }
    return rc;
}

enum err api_footprint_get(struct api_service *s, const struct api_request *req,
                           struct api_reply *reply)
{
    static const char *const allowed[] = {"policy", "window_days", NULL};
    struct core_model_id id;
    enum core_policy policy;
    int window_days = CORE_OVERTAKE_WINDOW_DAYS_DEFAULT;
    struct api_cache_stamp stamp;
    int64_t roots[API_CACHE_MAX_ROOTS + 1];
    size_t n_roots = 0, len = 0;
    /* The overtake is projected from today: an answer is kept for the day. */
    int64_t day = api_cache_today();
    char key[CORE_MODEL_ID_MAX + 64], *body = NULL;
    int key_len;
    struct text t = {0};
    enum err rc;

    rc = api_check_query(req, allowed, &reply->problem);
    if (rc == ERR_OK)
        rc = api_policy_from_query(req, &policy, &reply->problem);
    if (rc == ERR_OK)
        rc = api_overtake_window(req, &window_days, &reply->problem);
    if (rc == ERR_OK)
        rc = api_path_id(req, &id, &reply->problem);
    if (rc != ERR_OK)
        return rc;
    key_len = snprintf(key, sizeof key, "footprint\n%s\n%s\n%d", CORE_MODEL_ID_TEXT(&id),
                       core_policy_name(policy), window_days);
    if (api_cache_get(s->cache, key, (size_t)key_len, day, &body, &len, NULL))
        return api_reply_text_etag(req, reply, body, len);
    api_cache_stamp(s->cache, &stamp);
    rc = footprint_text(req, &id, policy, window_days, &t, roots, &n_roots);
    if (rc == ERR_NOT_FOUND)
        rc = api_fail(&reply->problem, rc, "model '%s' is not registered", CORE_MODEL_ID_TEXT(&id));
    if (rc == ERR_OK && t.buf.failed)
        rc = ERR_NO_MEMORY;
    if (rc != ERR_OK) {
        core_buf_cleanup(&t.buf);
        return rc;
    }
    api_cache_put(s->cache, &stamp, key, (size_t)key_len, roots, n_roots, day, t.buf.data,
                  t.buf.len, NULL);
    body = core_buf_steal(&t.buf, &len);
    return api_reply_text_etag(req, reply, body, len);
}

enum err api_ancestors_get(struct api_service *s, const struct api_request *req,
                           struct api_reply *reply)
{
    struct core_model *m = NULL;
    struct core_lineage lineage;
    struct db *db = req->db;
    char id[CORE_MODEL_ID_MAX + 1];
    json_t *list;
    enum err rc;

    (void)s; /* the request carries the connection */

    core_lineage_init(&lineage);
    rc = api_check_query(req, NULL, &reply->problem);
    if (rc != ERR_OK)
        return rc;
    m = core_malloc(sizeof *m);
    if (m == NULL)
        return ERR_NO_MEMORY;
    rc = db_read_begin(db);
    if (rc == ERR_OK) {
        rc = api_path_model(db, req, m, &reply->problem);
        if (rc == ERR_OK)
            rc = db_lineage_load(db, m->key, &lineage);
        db_read_end(db);
    }
    if (rc != ERR_OK)
        goto out;
    list = json_array();
    for (size_t i = 0; list && i < lineage.n_members; i++) {
        const struct core_lineage_member *a = &lineage.members[i];
        if (a->is_self)
            continue;
        api_json_append(&list, json_pack("{s:s, s:i, s:o, s:o, s:I, s:I, s:I}", "id",
                                         core_model_id_format(&a->id, id, sizeof id), "depth",
                                         a->depth, "own_co2e_kg", api_range_json(a->own_co2e_kg),
                                         "energy_kwh", api_range_json(a->lineage_kwh), "inferences",
                                         (json_int_t)a->inferences, "family_size",
                                         (json_int_t)a->descendants, "family_inferences",
                                         (json_int_t)a->descendant_inferences));
    }
    rc = api_reply_json(reply, 200,
                        json_pack("{s:s, s:o}", "model",
                                  core_model_id_format(&m->id, id, sizeof id), "ancestors", list));
out:
    core_lineage_cleanup(&lineage);
    free(m);
    return rc;
}
