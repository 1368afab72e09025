/* SPDX-License-Identifier: Apache-2.0 */
/* Storing a registration the way Hub cards need it: parents that are not
 * registered yet become placeholders that a later registration completes, and a
 * card registered again replaces what it said before (its own reported activity
 * included) or, when it says the same, changes nothing. Shared by POST and PUT
 * /v1/models and `carbontree import`. */
#include "api_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Creates a placeholder for every parent of m that is not registered. */
static enum err make_placeholders(struct db *db, const struct core_model *m, json_t *created,
                                  struct api_problem *problem)
{
    for (size_t i = 0; i < m->n_parents; i++) {
        struct core_model_id stored;
        struct core_model placeholder;
        char id[CORE_MODEL_ID_MAX + 1];
        size_t bad = 0;
        int64_t key = 0;
        enum err rc = db_model_find(db, &m->parents[i].id, &key, &stored);

        if (rc == ERR_OK)
            continue;
        if (rc != ERR_NOT_FOUND)
            return rc;
        rc = api_path_clash(db, &m->parents[i].id, problem);
        if (rc != ERR_OK)
            return rc;
        memset(&placeholder, 0, sizeof placeholder);
        placeholder.id = m->parents[i].id;
        rc = db_model_insert(db, &placeholder, &bad);
        if (rc == ERR_OK)
            rc = db_model_set_placeholder(db, placeholder.key, true);
        if (rc != ERR_OK)
            return rc;
        json_array_append_new(created,
                              json_string(core_model_id_format(&placeholder.id, id, sizeof id)));
    }
    return ERR_OK;
}

/* Maps a lineage failure while completing or updating a stored model. A cycle is
 * the card's own error here (its parents descend from it), hence 422 not 409. */
static enum err lineage_error(enum err rc, const struct core_model *m, size_t bad,
                              const struct api_card *card, struct api_problem *problem)
{
    char pointer[64], parent[CORE_MODEL_ID_MAX + 1];

    if (rc != ERR_CONFLICT)
        return api_model_insert_error(rc, m, bad, card->from_card, problem);
    if (card->from_card)
        snprintf(pointer, sizeof pointer, m->n_parents > 1 ? "/base_model/%zu" : "/base_model",
                 bad);
    else
        snprintf(pointer, sizeof pointer, "/parents/%zu/id", bad);
    core_model_id_format(&m->parents[bad < m->n_parents ? bad : 0].id, parent, sizeof parent);
    return api_field_error(
        problem, pointer, "'%s' descends from this model: the lineage would close a cycle", parent);
}

/* Replaces the card's reported activity of m (old_activity, 0 when none) with the
 * one body describes (none when NULL). */
static enum err replace_activity(struct db *db, const struct core_model *m, int64_t old_activity,
                                 const json_t *body, struct db_card *record,
                                 struct api_card_result *res, struct api_problem *problem)
{
    enum err rc = ERR_OK;

    record->activity_id = 0;
    if (old_activity > 0) {
        rc = db_activity_delete(db, m->key, old_activity);
        if (rc == ERR_OK)
            res->activities_removed++;
        else if (rc == ERR_NOT_FOUND) /* deleted by hand since: nothing to replace */
            rc = ERR_OK;
    }
    if (rc == ERR_OK && body) {
        struct db_activity activity;
        rc = api_activity_add(db, m, body, &activity, problem);
        if (rc == ERR_OK) {
            record->activity_id = activity.id;
            res->activities_added++;
            db_activity_cleanup(&activity);
        }
    }
    return rc;
}

static void add_flag(json_t *flags, const char *flag, const char *detail)
{
    json_array_append_new(flags, json_pack("{s:s, s:s}", "flag", flag, "detail", detail));
}

/* Whether m is a quantization or an adapter of its parents: the children whose
 * cards copy their ancestor's figure. */
static bool is_copy_kind(const struct core_model *m)
{
    for (size_t i = 0; i < m->n_parents; i++)
        if (m->parents[i].relation == CORE_RELATION_QUANTIZED ||
            m->parents[i].relation == CORE_RELATION_ADAPTER)
            return true;
    return false;
}

enum err api_card_check_figure(struct db *db, const struct core_model *m,
                               const struct api_card *card, json_t *flags, bool *copied)
{
    char detail[400], id[CORE_MODEL_ID_MAX + 1];
    struct core_model_id ancestor;
    enum err rc = ERR_OK;

    *copied = false;
    if (!card->has_grams)
        return ERR_OK;
    if (is_copy_kind(m) && card->grams > 0) {
        rc = db_card_ancestor_with(db, m->key, card->grams / 1000, &ancestor);
        if (rc == ERR_OK) {
            *copied = true;
            snprintf(detail, sizeof detail,
                     "%g g is the figure %s reported: a quantization or an adapter repeats its "
                     "ancestor's emissions, %s",
                     card->grams, core_model_id_format(&ancestor, id, sizeof id),
                     card->count_copied ? "counted again as configured" : "not counted again");
            add_flag(flags, "copied_from_ancestor", detail);
        } else if (rc != ERR_NOT_FOUND) {
            return rc;
        }
        rc = ERR_OK;
    }
    if (card->is_pretraining && card->grams < 1) {
        snprintf(detail, sizeof detail,
                 "%g g for a pre-training is below 1 g: likely kg or another unit", card->grams);
        add_flag(flags, "implausible_figure", detail);
    }
    if (card->grams > 1e12) {
        snprintf(detail, sizeof detail, "%g g is above 10^12 g (a million tonnes)", card->grams);
        add_flag(flags, "implausible_figure", detail);
    }
    return rc;
}

/* model_key's card figure, co2e_kg, is now an ancestor's: its quantized and adapter
 * descendants whose cards repeat it are flagged and, unless counted as configured,
 * lose that activity, so that the outcome does not depend on which card came
 * first. */
static enum err uncount_copies_below(struct db *db, const struct core_model *m, double co2e_kg,
                                     bool count_copied, struct api_card_result *res)
{
    int64_t keys[64];
    size_t n = 0;
    char id[CORE_MODEL_ID_MAX + 1], detail[400];
    enum err rc = db_card_copies_below(db, m->key, co2e_kg, keys, sizeof keys / sizeof *keys, &n);

    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        struct db_card record;
        json_t *flags;
        char *text;
        rc = db_card_get(db, keys[i], &record);
        if (rc != ERR_OK)
            break;
        flags = json_loads(record.flags ? record.flags : "[]", 0, NULL);
        if (!json_is_array(flags)) {
            json_decref(flags);
            flags = json_array();
        }
        snprintf(detail, sizeof detail,
                 "%g g is the figure %s reported: a quantization or an adapter repeats its "
                 "ancestor's emissions, %s",
                 co2e_kg * 1000, core_model_id_format(&m->id, id, sizeof id),
                 count_copied ? "counted again as configured" : "not counted again");
        add_flag(flags, "copied_from_ancestor", detail);
        if (!count_copied) {
            rc = db_activity_delete(db, keys[i], record.activity_id);
            record.activity_id = 0;
            if (rc == ERR_OK)
                res->activities_removed++;
        }
        text = json_dumps(flags, JSON_COMPACT);
        json_decref(flags);
        free(record.flags);
        record.flags = text;
        if (rc == ERR_OK)
            rc = text ? db_card_put(db, keys[i], &record) : ERR_NO_MEMORY;
        db_card_cleanup(&record);
    }
    return rc;
}

enum err api_card_store(struct db *db, struct core_model *m, const struct api_card *card, bool sync,
                        struct api_card_result *res, struct api_problem *problem)
{
    struct core_model *old = malloc(sizeof *old);
    struct db_card record = {0}, stored = {0};
    bool exists = false, has_record = false;
    size_t bad = 0;
    char *ignored = NULL, *flags = NULL;
    bool copied = false;
    enum err rc;

    memset(res, 0, sizeof *res);
    res->placeholders = json_array();
    if (old == NULL || res->placeholders == NULL) {
        rc = ERR_NO_MEMORY;
        goto out;
    }
    rc = db_model_get(db, &m->id, old);
    if (rc == ERR_OK)
        exists = true;
    else if (rc != ERR_NOT_FOUND)
        goto out;
    if (exists && !old->placeholder && !sync) {
        rc = api_model_insert_error(ERR_CONFLICT, m, 0, card->from_card, problem);
        goto out;
    }
    if (exists) {
        rc = db_card_get(db, old->key, &stored);
        if (rc == ERR_OK)
            has_record = true;
        else if (rc != ERR_NOT_FOUND)
            goto out;
        if (has_record && !old->placeholder && strcmp(stored.facts, card->facts) == 0) {
            res->outcome = API_CARD_UNCHANGED;
            *m = *old;
            rc = ERR_OK;
            goto out;
        }
    }
    if (card->is_card) {
        rc = make_placeholders(db, m, res->placeholders, problem);
        if (rc != ERR_OK)
            goto out;
    }
    if (!exists) {
        rc = api_path_clash(db, &m->id, problem);
        if (rc != ERR_OK)
            goto out;
        rc = db_model_insert(db, m, &bad);
        if (rc != ERR_OK) {
            rc = api_model_insert_error(rc, m, bad, card->from_card, problem);
            goto out;
        }
        res->outcome = API_CARD_CREATED;
    } else {
        m->key = old->key;
        rc = db_model_update_metadata(db, m);
        if (rc == ERR_OK && old->placeholder)
            rc = db_model_set_placeholder(db, m->key, false);
        if (rc == ERR_OK && card->lineage_given) {
            rc = db_model_set_parents(db, m, &bad);
            if (rc != ERR_OK) {
                rc = lineage_error(rc, m, bad, card, problem);
                goto out;
            }
        }
        if (rc != ERR_OK)
            goto out;
        res->outcome = old->placeholder ? API_CARD_CREATED : API_CARD_UPDATED;
    }
    res->flags = json_array();
    if (res->flags == NULL) {
        rc = ERR_NO_MEMORY;
        goto out;
    }
    rc = api_card_check_figure(db, m, card, res->flags, &copied);
    if (rc == ERR_OK)
        rc = replace_activity(db, m, has_record ? stored.activity_id : 0,
                              copied && !card->count_copied ? NULL : card->activity, &record, res,
                              problem);
    if (rc == ERR_OK && card->has_grams && card->grams > 0 && !copied)
        rc = uncount_copies_below(db, m, card->grams / 1000, card->count_copied, res);
    if (rc != ERR_OK)
        goto out;
    flags = json_dumps(res->flags, JSON_COMPACT);
    record.flags = flags;
    snprintf(record.location, sizeof record.location, "%s", card->location);
    snprintf(record.hardware, sizeof record.hardware, "%s", card->hardware);
    snprintf(record.source, sizeof record.source, "%s", card->source);
    record.has_hours = card->has_hours;
    record.hours = card->hours;
    ignored = json_dumps(card->ignored, JSON_COMPACT);
    record.facts = card->facts;
    record.ignored = ignored;
    record.relation_given = card->relation_given;
    record.is_card = card->is_card;
    snprintf(record.relation_from, sizeof record.relation_from, "%s",
             card->relation_given >= 0 ? card->relation_from : "");
    rc = ignored && flags ? db_card_put(db, m->key, &record) : ERR_NO_MEMORY;
    if (rc == ERR_OK)
        rc = db_model_get(db, &m->id, m);
out:
    free(ignored);
    free(flags);
    db_card_cleanup(&stored);
    free(old);
    return rc;
}

enum err api_card_attach(struct db *db, const struct core_model *m, json_t *o)
{
    struct db_card record;
    json_error_t error;
    json_t *card, *ignored;
    enum err rc;

    if (o == NULL)
        return ERR_NO_MEMORY;
    if (m->placeholder)
        json_object_set_new(o, "placeholder", json_true());
    rc = db_card_get(db, m->key, &record);
    if (rc == ERR_NOT_FOUND)
        return ERR_OK;
    if (rc != ERR_OK)
        return rc;
    if (!record.is_card) {
        db_card_cleanup(&record);
        return ERR_OK;
    }
    ignored = json_loads(record.ignored, 0, &error);
    card = json_pack("{s:o}", "ignored", ignored ? ignored : json_array());
    if (card != NULL && record.relation_given >= 0)
        json_object_set_new(card, "relation",
                            json_pack("{s:s, s:s}", "source",
                                      record.relation_given ? "given" : "inferred", "from",
                                      record.relation_from));
    else if (card != NULL)
        json_object_set_new(card, "relation", json_null());
    if (card != NULL) {
        json_t *flags = json_loads(record.flags ? record.flags : "[]", 0, &error);
        json_object_set_new(card, "flags", flags ? flags : json_array());
        json_object_set_new(
            card, "co2_eq_emissions",
            json_pack("{s:o, s:o, s:o, s:o}", "geographical_location",
                      record.location[0] ? json_string(record.location) : json_null(),
                      "hardware_used",
                      record.hardware[0] ? json_string(record.hardware) : json_null(), "hours_used",
                      record.has_hours ? json_real(record.hours) : json_null(), "source",
                      record.source[0] ? json_string(record.source) : json_null()));
    }
    db_card_cleanup(&record);
    if (card == NULL)
        return ERR_NO_MEMORY;
    json_object_set_new(o, "card", card);
    return ERR_OK;
}
