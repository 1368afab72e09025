/* SPDX-License-Identifier: Apache-2.0 */
/* Storing a registration the way Hub cards need it: parents that are not
 * registered yet become placeholders that a later registration completes, and a
 * card registered again replaces what it said before (its own reported activity
 * included) or, when it says the same, changes nothing. Shared by POST and PUT
 * /v1/models and `carbontree import`. */
#include "api_internal.h"

#include <ctype.h>
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
        if (json_array_append_new(
                created, json_string(core_model_id_format(&placeholder.id, id, sizeof id))) != 0)
            return ERR_NO_MEMORY;
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
 * one body describes (none when NULL). An estimate the card itself did not give
 * (is_estimate) that the core refuses is left out rather than refusing the card. */
static enum err replace_activity(struct db *db, const struct core_model *m, int64_t old_activity,
                                 const json_t *body, bool is_estimate, struct db_card *record,
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
        } else if (rc == ERR_INVALID_INPUT && is_estimate) {
            memset(problem, 0, sizeof *problem);
            rc = ERR_OK;
        }
    }
    return rc;
}

/* geographical_location matched to a grid region (db_region_resolve_text) as
 * {"text", "region", "matched_by"}, region null and matched_by "unmatched" when the
 * text names no region or several; code gets the region's code, "" when none. */
static enum err read_location(struct db *db, const char *text, json_t *readings, char *code,
                              size_t code_len)
{
    struct db_region region;
    bool is_matched = false;
    enum err rc;

    code[0] = '\0';
    if (text[0] == '\0')
        return ERR_OK;
    rc = db_region_resolve_text(db, text, &region, &is_matched);
    if (rc != ERR_OK)
        return rc;
    if (is_matched)
        snprintf(code, code_len, "%s", region.region.code);
    /* A reading lost for want of memory must fail the registration, not store it
     * without the reading. */
    if (json_object_set_new(
            readings, "geographical_location",
            json_pack("{s:s, s:o, s:s}", "text", text, "region",
                      is_matched ? json_string(code) : json_null(), "matched_by",
                      is_matched ? core_location_match_name(region.matched_by) : "unmatched")) != 0)
        return ERR_NO_MEMORY;
    return ERR_OK;
}

/* The count a hardware text starts with ("8 x A100", "8x A100", "8 A100"): the
 * count into *count and the rest of the text, or NULL when it has none. */
static const char *leading_count(const char *text, double *count)
{
    char *end;
    long n = strtol(text, &end, 10);

    if (end == text || n <= 0 || n > 100000 || !isdigit((unsigned char)text[0]))
        return NULL;
    while (*end == ' ')
        end++;
    if ((*end == 'x' || *end == 'X') && !isalnum((unsigned char)end[1]))
        end++;
    else if (end[0] == '\xc3' && end[1] == '\x97') /* U+00D7 MULTIPLICATION SIGN */
        end += 2;
    else if (end == text || end[-1] != ' ')
        return NULL; /* "4090" is a name, not a count */
    while (*end == ' ')
        end++;
    *count = (double)n;
    return *end ? end : NULL;
}

/* hardware_used matched to the hardware catalogue (db_hardware_find, as an
 * estimate's devices[].hardware) as {"text", "hardware", "count", "matched_by"}:
 * "name" when the whole text names it, "count-and-name" for "8 x A100"; hardware
 * null and matched_by "unmatched" otherwise (several devices, an unknown one).
 * name gets the catalogue name, "" when none. */
static enum err read_hardware(struct db *db, const char *text, json_t *readings, char *name,
                              size_t name_len, double *count)
{
    struct db_hardware hw;
    const char *how = "name";
    const char *rest;
    enum err rc;

    name[0] = '\0';
    *count = 1;
    if (text[0] == '\0')
        return ERR_OK;
    rc = db_hardware_find(db, text, &hw);
    if (rc == ERR_NOT_FOUND && (rest = leading_count(text, count)) != NULL) {
        how = "count-and-name";
        rc = db_hardware_find(db, rest, &hw);
    }
    if (rc == ERR_OK)
        snprintf(name, name_len, "%s", hw.hardware.name);
    else if (rc != ERR_NOT_FOUND)
        return rc;
    else
        *count = 1;
    if (json_object_set_new(readings, "hardware_used",
                            json_pack("{s:s, s:o, s:o, s:s}", "text", text, "hardware",
                                      name[0] ? json_string(name) : json_null(), "count",
                                      name[0] ? json_real(*count) : json_null(), "matched_by",
                                      name[0] ? how : "unmatched")) != 0)
        return ERR_NO_MEMORY;
    return ERR_OK;
}

/* What the card's words read as, into readings: the region and hardware they
 * match, the training type given or inferred. *estimate becomes the body of the activity the
 * estimation core would estimate (method tdp: the catalogue TDP, hours_used, the region's
 * intensity, the default PUE) when the card gives hardware, hours and location that all match but
 * no emissions; NULL otherwise. New reference. */
static enum err read_card(struct db *db, const struct api_card *card, json_t *readings,
                          json_t **estimate)
{
    char code[64], name[96], note[500];
    double count = 1;
    enum err rc = read_location(db, card->location, readings, code, sizeof code);

    *estimate = NULL;
    if (rc == ERR_OK && card->training_given >= 0 &&
        json_object_set_new(readings, "training_type",
                            json_pack("{s:s, s:s, s:s}", "kind", card->kind, "source",
                                      card->training_given ? "given" : "inferred", "from",
                                      card->training_from)) != 0)
        rc = ERR_NO_MEMORY;
    if (rc == ERR_OK)
        rc = read_hardware(db, card->hardware, readings, name, sizeof name, &count);
    if (rc != ERR_OK || card->has_grams || !card->has_hours || !(card->hours > 0) || !code[0] ||
        !name[0])
        return rc;
    snprintf(note, sizeof note,
             "estimated from the model card's co2_eq_emissions: %g x %s for %g h in %s", count,
             name, card->hours, code);
    *estimate =
        json_pack("{s:s, s:s, s:s, s:f, s:s, s:[{s:s, s:f}], s:s}", "kind", card->kind, "obtained",
                  "estimated", "method", "tdp", "hours", card->hours, "location", code, "devices",
                  "hardware", name, "count", count, "note", note);
    return *estimate ? ERR_OK : ERR_NO_MEMORY;
}

/* ERR_NO_MEMORY when the flag could not be added: a flag lost for want of memory
 * must fail the write, not store the card without it. */
static enum err add_flag(json_t *flags, const char *flag, const char *detail)
{
    return json_array_append_new(flags, json_pack("{s:s, s:s}", "flag", flag, "detail", detail)) ==
                   0
               ? ERR_OK
               : ERR_NO_MEMORY;
}

/* The flags a card record stores (a JSON array this file wrote), or NULL when
 * memory ran out reading them. */
static json_t *stored_flags(const char *text)
{
    json_t *flags = api_json_loads(text ? text : "[]", 0, NULL);

    if (flags != NULL && !json_is_array(flags)) {
        json_decref(flags);
        flags = json_array();
    }
    return flags;
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

/* The flag of a card figure of grams that looks like kg beside sibling's figure. */
static void sibling_detail(double grams, const struct db_card_sibling *sibling, char *detail,
                           size_t detail_len)
{
    char id[CORE_MODEL_ID_MAX + 1];

    snprintf(detail, detail_len,
             "%g g is about 1000 times less than the %g g that %s (same parent, same relation) "
             "reports: likely kg written as grams",
             grams, sibling->co2e_kg * 1000, core_model_id_format(&sibling->id, id, sizeof id));
}

/* Grams that look like kg: a sibling reports about 1,000 times more, or the card's
 * own prose states the figure in kg. */
static enum err check_kg(struct db *db, const struct core_model *m, const struct api_card *card,
                         json_t *flags)
{
    struct db_card_sibling siblings[32];
    char detail[400], quote[80];
    size_t n = 0;
    enum err rc;

    if (!card->has_grams || !(card->grams > 0))
        return ERR_OK;
    if (core_card_prose_states_kg(card->prose, card->grams, quote, sizeof quote)) {
        snprintf(detail, sizeof detail,
                 "%g g is the figure the card's text gives in kg (\"%s\"): likely kg written as "
                 "grams",
                 card->grams, quote);
        if (add_flag(flags, "implausible_figure", detail) != ERR_OK)
            return ERR_NO_MEMORY;
    }
    rc = db_card_siblings(db, m->key, siblings, sizeof siblings / sizeof *siblings, &n);
    for (size_t i = 0; rc == ERR_OK && i < n; i++)
        if (core_card_looks_like_kg(card->grams, siblings[i].co2e_kg * 1000)) {
            sibling_detail(card->grams, &siblings[i], detail, sizeof detail);
            rc = add_flag(flags, "implausible_figure", detail);
            break;
        }
    return rc;
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
            if (add_flag(flags, "copied_from_ancestor", detail) != ERR_OK)
                return ERR_NO_MEMORY;
        } else if (rc != ERR_NOT_FOUND) {
            return rc;
        }
        rc = ERR_OK;
    }
    if (card->is_pretraining && card->grams < 1) {
        snprintf(detail, sizeof detail,
                 "%g g for a pre-training is below 1 g: likely kg or another unit", card->grams);
        if (add_flag(flags, "implausible_figure", detail) != ERR_OK)
            return ERR_NO_MEMORY;
    }
    if (card->grams > 1e12) {
        snprintf(detail, sizeof detail, "%g g is above 10^12 g (a million tonnes)", card->grams);
        if (add_flag(flags, "implausible_figure", detail) != ERR_OK)
            return ERR_NO_MEMORY;
    }
    return check_kg(db, m, card, flags);
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
        flags = stored_flags(record.flags);
        if (flags == NULL) {
            db_card_cleanup(&record);
            rc = ERR_NO_MEMORY;
            break;
        }
        snprintf(detail, sizeof detail,
                 "%g g is the figure %s reported: a quantization or an adapter repeats its "
                 "ancestor's emissions, %s",
                 co2e_kg * 1000, core_model_id_format(&m->id, id, sizeof id),
                 count_copied ? "counted again as configured" : "not counted again");
        rc = add_flag(flags, "copied_from_ancestor", detail);
        if (rc == ERR_OK && !count_copied) {
            rc = db_activity_delete(db, keys[i], record.activity_id);
            record.activity_id = 0;
            if (rc == ERR_OK)
                res->activities_removed++;
        }
        text = api_json_dumps(flags, JSON_COMPACT);
        json_decref(flags);
        free(record.flags);
        record.flags = text;
        if (rc == ERR_OK)
            rc = text ? db_card_put(db, keys[i], &record) : ERR_NO_MEMORY;
        db_card_cleanup(&record);
    }
    return rc;
}

/* Whether flags holds flag with detail. */
static bool has_flag(const json_t *flags, const char *flag, const char *detail)
{
    for (size_t i = 0; i < json_array_size(flags); i++) {
        const json_t *f = json_array_get(flags, i);
        const char *a = json_string_value(json_object_get(f, "flag"));
        const char *b = json_string_value(json_object_get(f, "detail"));
        if (a && b && strcmp(a, flag) == 0 && strcmp(b, detail) == 0)
            return true;
    }
    return false;
}

/* m's card figure, grams, is now about 1,000 times its siblings' whose figures then
 * look like kg: they are flagged too, so that the outcome does not depend on which
 * card came first. */
static enum err flag_siblings_below(struct db *db, const struct core_model *m, double grams)
{
    struct db_card_sibling siblings[32],
        self = {.key = m->key, .id = m->id, .co2e_kg = grams / 1000};
    size_t n = 0;
    enum err rc = db_card_siblings(db, m->key, siblings, sizeof siblings / sizeof *siblings, &n);

    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        struct db_card record;
        char detail[400], *text;
        json_t *flags;
        double sibling_grams = siblings[i].co2e_kg * 1000;
        if (!core_card_looks_like_kg(sibling_grams, grams))
            continue;
        rc = db_card_get(db, siblings[i].key, &record);
        if (rc != ERR_OK)
            break;
        flags = stored_flags(record.flags);
        if (flags == NULL) {
            db_card_cleanup(&record);
            rc = ERR_NO_MEMORY;
            break;
        }
        sibling_detail(sibling_grams, &self, detail, sizeof detail);
        if (!has_flag(flags, "implausible_figure", detail) &&
            add_flag(flags, "implausible_figure", detail) != ERR_OK) {
            json_decref(flags);
            db_card_cleanup(&record);
            rc = ERR_NO_MEMORY;
            break;
        }
        text = api_json_dumps(flags, JSON_COMPACT);
        json_decref(flags);
        free(record.flags);
        record.flags = text;
        rc = text ? db_card_put(db, siblings[i].key, &record) : ERR_NO_MEMORY;
        db_card_cleanup(&record);
    }
    return rc;
}

enum err api_card_store(struct db *db, struct core_model *m, const struct api_card *card, bool sync,
                        struct api_card_result *res, struct api_problem *problem)
{
    struct core_model *old = core_malloc(sizeof *old);
    struct db_card record = {0}, stored = {0};
    bool exists = false, has_record = false;
    size_t bad = 0;
    char *ignored = NULL, *flags = NULL;
    json_t *readings = NULL, *estimate = NULL;
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
    readings = json_object();
    rc = readings ? read_card(db, card, readings, &estimate) : ERR_NO_MEMORY;
    if (rc == ERR_OK)
        rc = api_card_check_figure(db, m, card, res->flags, &copied);
    if (rc == ERR_OK)
        rc = replace_activity(db, m, has_record ? stored.activity_id : 0,
                              estimate                        ? estimate
                              : copied && !card->count_copied ? NULL
                                                              : card->activity,
                              estimate != NULL, &record, res, problem);
    if (rc == ERR_OK && card->has_grams && card->grams > 0 && !copied)
        rc = uncount_copies_below(db, m, card->grams / 1000, card->count_copied, res);
    if (rc == ERR_OK && card->has_grams && card->grams > 0)
        rc = flag_siblings_below(db, m, card->grams);
    if (rc != ERR_OK)
        goto out;
    flags = api_json_dumps(res->flags, JSON_COMPACT);
    record.flags = flags;
    snprintf(record.location, sizeof record.location, "%s", card->location);
    snprintf(record.hardware, sizeof record.hardware, "%s", card->hardware);
    snprintf(record.source, sizeof record.source, "%s", card->source);
    record.has_hours = card->has_hours;
    record.hours = card->hours;
    ignored = api_json_dumps(card->ignored, JSON_COMPACT);
    record.facts = card->facts;
    record.ignored = ignored;
    record.relation_given = card->relation_given;
    record.is_card = card->is_card;
    snprintf(record.relation_from, sizeof record.relation_from, "%s",
             card->relation_given >= 0 ? card->relation_from : "");
    record.readings = api_json_dumps(readings, JSON_COMPACT);
    rc = ignored && flags && record.readings ? db_card_put(db, m->key, &record) : ERR_NO_MEMORY;
    if (rc == ERR_OK)
        rc = db_model_get(db, &m->id, m);
out:
    free(record.readings);
    json_decref(readings);
    json_decref(estimate);
    free(ignored);
    free(flags);
    db_card_cleanup(&stored);
    free(old);
    return rc;
}

enum err api_card_attach(struct db *db, const struct core_model *m, json_t *o)
{
    struct db_card record;
    json_t *card, *ignored, *flags, *readings, *training;
    enum err rc;

    if (o == NULL)
        return ERR_NO_MEMORY;
    if (m->placeholder && json_object_set_new(o, "placeholder", json_true()) != 0)
        return ERR_NO_MEMORY;
    rc = db_card_get(db, m->key, &record);
    if (rc == ERR_NOT_FOUND)
        return ERR_OK;
    if (rc != ERR_OK)
        return rc;
    if (!record.is_card) {
        db_card_cleanup(&record);
        return ERR_OK;
    }
    ignored = api_json_loads(record.ignored ? record.ignored : "[]", 0, NULL);
    flags = api_json_loads(record.flags ? record.flags : "[]", 0, NULL);
    readings = api_json_loads(record.readings ? record.readings : "{}", 0, NULL);
    /* The stored texts were written from JSON: one that does not read back is a want
     * of memory (jansson does not always say so), which fails the answer rather than
     * show the card's facts as empty. */
    if (ignored == NULL || flags == NULL || readings == NULL) {
        json_decref(ignored);
        json_decref(flags);
        json_decref(readings);
        db_card_cleanup(&record);
        return ERR_NO_MEMORY;
    }
    training = json_object_get(readings, "training_type");
    card = json_pack("{s:o}", "ignored", ignored);
    if (record.relation_given >= 0)
        api_json_set(&card, "relation",
                     json_pack("{s:s, s:s}", "source", record.relation_given ? "given" : "inferred",
                               "from", record.relation_from));
    else
        api_json_set(&card, "relation", json_null());
    api_json_set(&card, "flags", flags);
    api_json_set(&card, "matched",
                 json_pack("{s:O?, s:O?}", "geographical_location",
                           json_object_get(readings, "geographical_location"), "hardware_used",
                           json_object_get(readings, "hardware_used")));
    api_json_set(&card, "training_type", training ? json_incref(training) : json_null());
    json_decref(readings);
    api_json_set(&card, "co2_eq_emissions",
                 json_pack("{s:o, s:o, s:o, s:o}", "geographical_location",
                           record.location[0] ? json_string(record.location) : json_null(),
                           "hardware_used",
                           record.hardware[0] ? json_string(record.hardware) : json_null(),
                           "hours_used", record.has_hours ? json_real(record.hours) : json_null(),
                           "source", record.source[0] ? json_string(record.source) : json_null()));
    db_card_cleanup(&record);
    if (card == NULL || json_object_set_new(o, "card", card) != 0)
        return ERR_NO_MEMORY;
    return ERR_OK;
}
