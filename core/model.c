/* SPDX-License-Identifier: Apache-2.0 */
/* Model ids and lineage rules. Pure: no I/O, no allocation. */
#include "model.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool is_id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

bool core_model_part_is_valid(const char *s, size_t len)
{
    if (s == NULL || len == 0 || len > CORE_MODEL_PART_MAX)
        return false;
    if (s[0] == '.' || s[0] == '-')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_id_char(s[i]))
            return false;
    return true;
}

bool core_model_bare_name_is_valid(const char *s, size_t len)
{
    if (!core_model_part_is_valid(s, len) || s[len - 1] == '.' || s[len - 1] == '-')
        return false;
    for (size_t i = 1; i < len; i++)
        if ((s[i] == '-' || s[i] == '.') && s[i] == s[i - 1])
            return false;
    return true;
}

enum err core_model_id_from_parts(const char *ns, const char *name, struct core_model_id *out)
{
    size_t ns_len = ns ? strlen(ns) : 0;
    size_t name_len = name ? strlen(name) : 0;

    /* No namespace: a legacy Hub repository (gpt2), held to the Hub's full name
     * rules. Namespaced ids keep the rules they were registered under. */
    if (ns_len == 0) {
        if (!core_model_bare_name_is_valid(name, name_len))
            return ERR_INVALID_INPUT;
    } else if (!core_model_part_is_valid(ns, ns_len) || !core_model_part_is_valid(name, name_len)) {
        return ERR_INVALID_INPUT;
    }
    memcpy(out->ns, ns_len ? ns : "", ns_len + 1);
    memcpy(out->name, name, name_len + 1);
    return ERR_OK;
}

enum err core_model_id_parse(const char *text, struct core_model_id *out)
{
    const char *slash;
    size_t ns_len, name_len;

    if (text == NULL)
        return ERR_INVALID_INPUT;
    slash = strchr(text, '/');
    if (slash == NULL)
        return core_model_id_from_parts(NULL, text, out);
    if (strchr(slash + 1, '/') != NULL)
        return ERR_INVALID_INPUT;
    ns_len = (size_t)(slash - text);
    name_len = strlen(slash + 1);
    if (!core_model_part_is_valid(text, ns_len) || !core_model_part_is_valid(slash + 1, name_len))
        return ERR_INVALID_INPUT;
    memcpy(out->ns, text, ns_len);
    out->ns[ns_len] = '\0';
    memcpy(out->name, slash + 1, name_len + 1);
    return ERR_OK;
}

char *core_model_id_format(const struct core_model_id *id, char *buf, size_t buf_len)
{
    assert(buf_len > 0);
    if (id->ns[0] == '\0')
        snprintf(buf, buf_len, "%s", id->name);
    else
        snprintf(buf, buf_len, "%s/%s", id->ns, id->name);
    return buf;
}

bool core_model_id_equal(const struct core_model_id *a, const struct core_model_id *b)
{
    return strcasecmp(a->ns, b->ns) == 0 && strcasecmp(a->name, b->name) == 0;
}

static const char *const relation_names[CORE_RELATION_COUNT] = {
    [CORE_RELATION_FINETUNE] = "finetune",         [CORE_RELATION_ADAPTER] = "adapter",
    [CORE_RELATION_QUANTIZED] = "quantized",       [CORE_RELATION_MERGE] = "merge",
    [CORE_RELATION_DISTILLATION] = "distillation",
};

const char *core_relation_name(enum core_relation relation)
{
    assert((unsigned)relation < CORE_RELATION_COUNT);
    return relation_names[relation];
}

enum err core_relation_parse(const char *text, enum core_relation *out)
{
    if (text == NULL)
        return ERR_INVALID_INPUT;
    for (int i = 0; i < CORE_RELATION_COUNT; i++) {
        if (strcmp(text, relation_names[i]) == 0) {
            *out = (enum core_relation)i;
            return ERR_OK;
        }
    }
    return ERR_INVALID_INPUT;
}

enum core_lineage_violation core_lineage_check(const struct core_model_id *self,
                                               const struct core_parent_ref *parents,
                                               size_t n_parents, size_t *bad_index)
{
    *bad_index = 0;
    if (n_parents > CORE_MODEL_MAX_PARENTS) {
        *bad_index = CORE_MODEL_MAX_PARENTS;
        return CORE_LINEAGE_TOO_MANY_PARENTS;
    }
    for (size_t i = 0; i < n_parents; i++) {
        *bad_index = i;
        if (core_model_id_equal(self, &parents[i].id))
            return CORE_LINEAGE_SELF_PARENT;
        for (size_t j = 0; j < i; j++)
            if (core_model_id_equal(&parents[j].id, &parents[i].id))
                return CORE_LINEAGE_DUPLICATE_PARENT;
    }
    for (size_t i = 0; i < n_parents; i++) {
        *bad_index = i;
        if (n_parents == 1 && parents[i].relation == CORE_RELATION_MERGE)
            return CORE_LINEAGE_MERGE_NEEDS_TWO;
        if (n_parents > 1 && parents[i].relation != CORE_RELATION_MERGE)
            return CORE_LINEAGE_MIXED_MERGE;
    }
    *bad_index = 0;
    return CORE_LINEAGE_OK;
}

const char *core_lineage_violation_text(enum core_lineage_violation v)
{
    switch (v) {
    case CORE_LINEAGE_OK:
        return "ok";
    case CORE_LINEAGE_SELF_PARENT:
        return "a model cannot be its own parent";
    case CORE_LINEAGE_DUPLICATE_PARENT:
        return "the same parent is listed twice";
    case CORE_LINEAGE_MERGE_NEEDS_TWO:
        return "relation 'merge' needs at least two parents";
    case CORE_LINEAGE_MIXED_MERGE:
        return "a model with several parents is a merge: every parent's relation must be 'merge'";
    case CORE_LINEAGE_TOO_MANY_PARENTS:
        return "too many parents (at most 16)";
    }
    return "invalid lineage";
}
