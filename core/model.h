/* SPDX-License-Identifier: Apache-2.0 */
/* Model identity and lineage rules: Hub-style ids, relations, parent lists.
 * Pure functions over plain structs; no I/O. */
#ifndef CORE_MODEL_H
#define CORE_MODEL_H

#include "err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CORE_MODEL_PART_MAX    96 /* Hub limit for a namespace or a repository name */
#define CORE_MODEL_ID_MAX      (2 * CORE_MODEL_PART_MAX + 1)
#define CORE_MODEL_MAX_PARENTS 16 /* merges of more than 16 models are refused */
#define CORE_LINEAGE_MAX_DEPTH 64 /* bounds amortization work per read */
#define CORE_MODEL_TEXT_MAX    256
#define CORE_MODEL_URL_MAX     2048
#define CORE_MODEL_TIME_MAX    32

enum core_relation {
    CORE_RELATION_FINETUNE,
    CORE_RELATION_ADAPTER,
    CORE_RELATION_QUANTIZED,
    CORE_RELATION_MERGE,
    CORE_RELATION_DISTILLATION,
    CORE_RELATION_COUNT
};

struct core_model_id {
    char ns[CORE_MODEL_PART_MAX + 1];
    char name[CORE_MODEL_PART_MAX + 1];
};

struct core_parent_ref {
    struct core_model_id id;
    enum core_relation relation;
};

/* A registered model as the registry keeps it. Strings are NUL-terminated and
 * empty when absent; has_parameters says whether parameters is known. */
struct core_model {
    int64_t key; /* storage key, 0 before insertion */
    struct core_model_id id;
    char task[CORE_MODEL_TEXT_MAX];
    char license[CORE_MODEL_TEXT_MAX];
    char url[CORE_MODEL_URL_MAX];
    bool has_parameters;
    int64_t parameters;
    int depth; /* 0 for a base model, 1 + max(parent depth) otherwise */
    int64_t version;
    int64_t n_children;
    bool placeholder; /* named as a parent by a card, not registered itself yet */
    char created_at[CORE_MODEL_TIME_MAX];
    char updated_at[CORE_MODEL_TIME_MAX];
    size_t n_parents;
    struct core_parent_ref parents[CORE_MODEL_MAX_PARENTS];
};

/* Whether s[0..len) is a valid id part: 1-96 of [A-Za-z0-9._-], not starting
 * with '.' or '-', and not "." or "..". */
bool core_model_part_is_valid(const char *s, size_t len);

/* Whether s[0..len) is a valid id without a namespace (a legacy Hub repository
 * such as "gpt2"): a valid part that does not end with '.' or '-' and has no
 * "--" or "..". */
bool core_model_bare_name_is_valid(const char *s, size_t len);

/* Parses "namespace/name", or a bare "name" (namespace ""), into out.
 * ERR_INVALID_INPUT when text is not a valid Hub id (at most one '/', both parts
 * valid; a bare name as core_model_bare_name_is_valid); out is untouched then. */
enum err core_model_id_parse(const char *text, struct core_model_id *out);

/* Builds an id from two parts, a NULL or empty ns giving a bare id;
 * ERR_INVALID_INPUT when either part is invalid. */
enum err core_model_id_from_parts(const char *ns, const char *name, struct core_model_id *out);

/* Formats "ns/name", or "name" for a bare id, into buf (at least CORE_MODEL_ID_MAX + 1 bytes).
 * Returns buf. */
char *core_model_id_format(const struct core_model_id *id, char *buf, size_t buf_len);

/* The id as text ("ns/name", or "name" for a bare id) in a buffer that lives until
 * the end of the enclosing block: for format arguments. */
#define CORE_MODEL_ID_TEXT(id)                                                                     \
    core_model_id_format((id), (char[CORE_MODEL_ID_MAX + 1]){0}, CORE_MODEL_ID_MAX + 1)

/* Whether two ids name the same model (ids compare case-insensitively, as on the Hub). */
bool core_model_id_equal(const struct core_model_id *a, const struct core_model_id *b);

/* Relation names as the Hub spells them ("finetune", "adapter", ...). */
const char *core_relation_name(enum core_relation relation);
enum err core_relation_parse(const char *text, enum core_relation *out);

enum core_lineage_violation {
    CORE_LINEAGE_OK,
    CORE_LINEAGE_SELF_PARENT,      /* a parent is the model itself */
    CORE_LINEAGE_DUPLICATE_PARENT, /* the same parent twice */
    CORE_LINEAGE_MERGE_NEEDS_TWO,  /* relation merge with fewer than two parents */
    CORE_LINEAGE_MIXED_MERGE,      /* several parents, not all of them merge */
    CORE_LINEAGE_TOO_MANY_PARENTS
};

/* Checks the rules that need no storage: no self-parent, no duplicate parent,
 * merge iff two or more parents (all with relation merge). On a violation,
 * *bad_index is the offending parent's index. */
enum core_lineage_violation core_lineage_check(const struct core_model_id *self,
                                               const struct core_parent_ref *parents,
                                               size_t n_parents, size_t *bad_index);

/* Human text for a violation, for problem details. Static storage. */
const char *core_lineage_violation_text(enum core_lineage_violation v);

#endif
