/* SPDX-License-Identifier: Apache-2.0 */
/* SQL for the model registry and its lineage: models, parent edges and the
 * ancestor closure. Returns core structs; no SQLite type escapes. */
#include "db_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* MODEL_COLUMNS_CORE are what every schema has, read back after each write (a model
 * is never a placeholder when written, so inserts work on schemas before 6 too);
 * MODEL_COLUMNS add the placeholder flag for reads. */
#define MODEL_COLUMNS_CORE                                                                         \
    "m.id, m.namespace, m.name, m.task, m.license, m.url, m.parameters, m.depth, m.version, "      \
    "m.created_at, m.updated_at, "                                                                 \
    "(SELECT count(*) FROM model_parents c WHERE c.parent_id = m.id) "
#define MODEL_COLUMNS MODEL_COLUMNS_CORE ", m.placeholder "

static void read_model_row(sqlite3_stmt *stmt, struct core_model *m)
{
    memset(m, 0, sizeof *m);
    m->key = sqlite3_column_int64(stmt, 0);
    db_column_copy(stmt, 1, m->id.ns, sizeof m->id.ns);
    db_column_copy(stmt, 2, m->id.name, sizeof m->id.name);
    db_column_copy(stmt, 3, m->task, sizeof m->task);
    db_column_copy(stmt, 4, m->license, sizeof m->license);
    db_column_copy(stmt, 5, m->url, sizeof m->url);
    m->has_parameters = sqlite3_column_type(stmt, 6) != SQLITE_NULL;
    m->parameters = sqlite3_column_int64(stmt, 6);
    m->depth = sqlite3_column_int(stmt, 7);
    m->version = sqlite3_column_int64(stmt, 8);
    db_column_copy(stmt, 9, m->created_at, sizeof m->created_at);
    db_column_copy(stmt, 10, m->updated_at, sizeof m->updated_at);
    m->n_children = sqlite3_column_int64(stmt, 11);
    m->placeholder = sqlite3_column_count(stmt) > 12 && sqlite3_column_int(stmt, 12) != 0;
}

/* Fills m->parents from the stored edges of m->key. */
static enum err load_parents(struct db *db, struct core_model *m)
{
    static const char sql[] = "SELECT p.namespace, p.name, e.relation FROM model_parents e "
                              "JOIN models p ON p.id = e.parent_id WHERE e.child_id = ?1 "
                              "ORDER BY e.position";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    int step;
    char relation[32];

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, m->key);
    m->n_parents = 0;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW && m->n_parents < CORE_MODEL_MAX_PARENTS) {
        struct core_parent_ref *p = &m->parents[m->n_parents];
        db_column_copy(stmt, 0, p->id.ns, sizeof p->id.ns);
        db_column_copy(stmt, 1, p->id.name, sizeof p->id.name);
        db_column_copy(stmt, 2, relation, sizeof relation);
        if (core_relation_parse(relation, &p->relation) != ERR_OK) {
            rc = ERR_DB;
            goto out;
        }
        m->n_parents++;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = db_map(db, step);
out:
    db_finish(db, stmt);
    return rc;
}

/* Looks up a model's key and depth. ERR_NOT_FOUND when absent. */
/* Binds a model id to ?1 and ?2: a failed bind left unchecked would leave a
 * parameter NULL, and the lookup would answer a registered model 404. */
static enum err bind_id(struct db *db, sqlite3_stmt *stmt, const struct core_model_id *id)
{
    enum err rc = db_bind_text(db, stmt, 1, id->ns);

    return rc == ERR_OK ? db_bind_text(db, stmt, 2, id->name) : rc;
}

/* Binds task, license, url and parameters of m to ?first and the three after it,
 * checking each bind: one that failed for want of memory would store NULL in place
 * of the value while the write answered success. */
static enum err bind_metadata(struct db *db, sqlite3_stmt *stmt, int first,
                              const struct core_model *m)
{
    enum err rc = db_bind_text_or_null(db, stmt, first, m->task);

    if (rc == ERR_OK)
        rc = db_bind_text_or_null(db, stmt, first + 1, m->license);
    if (rc == ERR_OK)
        rc = db_bind_text_or_null(db, stmt, first + 2, m->url);
    if (m->has_parameters)
        db_bind_int64(stmt, first + 3, m->parameters);
    else
        db_bind_null(stmt, first + 3);
    return rc;
}

static enum err find_key(struct db *db, const struct core_model_id *id, int64_t *key, int *depth,
                         int64_t *n_children)
{
    static const char sql[] =
        "SELECT m.id, m.depth, (SELECT count(*) FROM model_parents c WHERE c.parent_id = m.id) "
        "FROM models m WHERE m.namespace = ?1 AND m.name = ?2";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    rc = bind_id(db, stmt, id);
    if (rc != ERR_OK) {
        db_finish(db, stmt);
        return rc;
    }
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        *key = sqlite3_column_int64(stmt, 0);
        if (depth)
            *depth = sqlite3_column_int(stmt, 1);
        if (n_children)
            *n_children = sqlite3_column_int64(stmt, 2);
    } else if (step == SQLITE_DONE) {
        rc = ERR_NOT_FOUND;
    } else {
        rc = db_map(db, step);
    }
    db_finish(db, stmt);
    return rc;
}

/* Resolves every parent of m to its key and computes m's depth. */
static enum err resolve_parents(struct db *db, const struct core_model *m, int64_t *keys,
                                int *depth, size_t *bad_parent)
{
    *depth = 0;
    for (size_t i = 0; i < m->n_parents; i++) {
        int parent_depth = 0;
        enum err rc = find_key(db, &m->parents[i].id, &keys[i], &parent_depth, NULL);
        if (rc != ERR_OK) {
            *bad_parent = i;
            return rc;
        }
        if (parent_depth + 1 > *depth)
            *depth = parent_depth + 1;
    }
    if (*depth > CORE_LINEAGE_MAX_DEPTH)
        return ERR_INVALID_INPUT;
    return ERR_OK;
}

static enum err insert_edges(struct db *db, const struct core_model *m, const int64_t *keys)
{
    static const char sql[] = "INSERT INTO model_parents (child_id, parent_id, relation, position) "
                              "VALUES (?1, ?2, ?3, ?4)";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);

    for (size_t i = 0; rc == ERR_OK && i < m->n_parents; i++) {
        db_bind_int64(stmt, 1, m->key);
        db_bind_int64(stmt, 2, keys[i]);
        db_bind_int64(stmt, 4, (sqlite3_int64)i);
        rc = db_bind_text(db, stmt, 3, core_relation_name(m->parents[i].relation));
        if (rc == ERR_OK)
            rc = db_map(db, sqlite3_step(stmt));
        sqlite3_reset(stmt);
    }
    db_finish(db, stmt);
    return rc;
}

/* Rebuilds the closure rows of one model from its parents' closure rows. */
static enum err rebuild_closure(struct db *db, int64_t key)
{
    static const char sql[] =
        "DELETE FROM model_closure WHERE descendant_id = ?1;"
        "INSERT INTO model_closure (ancestor_id, descendant_id) VALUES (?1, ?1);"
        "INSERT OR IGNORE INTO model_closure (ancestor_id, descendant_id) "
        "SELECT c.ancestor_id, ?1 FROM model_parents e "
        "JOIN model_closure c ON c.descendant_id = e.parent_id WHERE e.child_id = ?1;";

    return db_exec_script(db, sql, key);
}

/* A new model joins the ledger: its own row, and one more member of D(a) for each
 * of its ancestors a. */
static enum err ledger_add_member(struct db *db, int64_t key)
{
    static const char sql[] =
        "INSERT INTO model_ledger (model_id) VALUES (?1);"
        "UPDATE model_ledger SET descendants = descendants + 1 WHERE model_id IN "
        "(SELECT ancestor_id FROM model_closure WHERE descendant_id = ?1 AND ancestor_id <> ?1);";
    return db_exec_script(db, sql, key);
}

/* A leaf leaves the ledger: its ancestors lose one member and its inferences. */
static enum err ledger_remove_member(struct db *db, int64_t key)
{
    static const char sql[] =
        "UPDATE model_ledger SET descendants = descendants - 1, "
        "descendant_inferences = descendant_inferences - "
        "(SELECT inferences FROM model_ledger WHERE model_id = ?1) WHERE model_id IN "
        "(SELECT ancestor_id FROM model_closure WHERE descendant_id = ?1 AND ancestor_id <> ?1);";
    return db_exec_script(db, sql, key);
}

/* Recomputes |D(a)|, the inference sum over D(a) and the family's emissions by
 * kind of one model a from the closure. Used after lineage edits, which are rare;
 * activity writes keep the family sums themselves (migrations/0007). */
static enum err ledger_refresh(struct db *db, int64_t a)
{
    static const char sql[] =
        "UPDATE model_ledger SET "
        "descendants = (SELECT count(*) FROM model_closure c WHERE c.ancestor_id = ?1), "
        "descendant_inferences = (SELECT coalesce(sum(d.inferences), 0) FROM model_closure c "
        "  JOIN model_ledger d ON d.model_id = c.descendant_id WHERE c.ancestor_id = ?1), "
        "(family_training_co2e_kg, family_training_co2e_kg_low, family_training_co2e_kg_high, "
        " family_fine_tuning_co2e_kg, family_fine_tuning_co2e_kg_low, "
        " family_fine_tuning_co2e_kg_high, family_other_co2e_kg, family_other_co2e_kg_low, "
        " family_other_co2e_kg_high, family_co2e_kg) = "
        "(SELECT total(iif(a.kind = 'training', a.co2e_kg, 0)), "
        "  total(iif(a.kind = 'training', a.co2e_kg_low, 0)), "
        "  total(iif(a.kind = 'training', a.co2e_kg_high, 0)), "
        "  total(iif(a.kind = 'fine_tuning', a.co2e_kg, 0)), "
        "  total(iif(a.kind = 'fine_tuning', a.co2e_kg_low, 0)), "
        "  total(iif(a.kind = 'fine_tuning', a.co2e_kg_high, 0)), "
        "  total(iif(a.kind IN ('training', 'fine_tuning'), 0, a.co2e_kg)), "
        "  total(iif(a.kind IN ('training', 'fine_tuning'), 0, a.co2e_kg_low)), "
        "  total(iif(a.kind IN ('training', 'fine_tuning'), 0, a.co2e_kg_high)), "
        "  total(a.co2e_kg) "
        " FROM model_closure c JOIN activities a ON a.model_id = c.descendant_id "
        " WHERE c.ancestor_id = ?1) "
        "WHERE model_id = ?1;";
    return db_exec_script(db, sql, a);
}

/* The strict ancestors of key (key excluded), appended to *keys (malloc'd, grown). */
static enum err collect_ancestors(struct db *db, int64_t key, int64_t **keys, size_t *n,
                                  size_t *cap)
{
    static const char sql[] =
        "SELECT ancestor_id FROM model_closure WHERE descendant_id = ?1 AND ancestor_id <> ?1";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, key);
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (*n == *cap) {
            size_t new_cap = *cap ? *cap * 2 : 32;
            int64_t *grown = core_realloc(*keys, new_cap * sizeof **keys);
            if (grown == NULL) {
                rc = ERR_NO_MEMORY;
                break;
            }
            *keys = grown;
            *cap = new_cap;
        }
        (*keys)[(*n)++] = sqlite3_column_int64(stmt, 0);
    }
    if (rc == ERR_OK && step != SQLITE_DONE)
        rc = db_map(db, step);
    db_finish(db, stmt);
    return rc;
}

static enum err read_back(struct db *db, struct core_model *m)
{
    static const char sql[] = "SELECT " MODEL_COLUMNS_CORE "FROM models m WHERE m.id = ?1";
    sqlite3_stmt *stmt = NULL;
    struct core_model stored;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, m->key);
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        read_model_row(stmt, &stored);
        stored.n_parents = 0;
        db_finish(db, stmt);
        rc = load_parents(db, &stored);
        if (rc == ERR_OK)
            *m = stored;
        return rc;
    }
    rc = step == SQLITE_DONE ? ERR_NOT_FOUND : db_map(db, step);
    db_finish(db, stmt);
    return rc;
}

enum err db_model_insert(struct db *db, struct core_model *m, size_t *bad_parent)
{
    static const char sql[] = "INSERT INTO models (namespace, name, task, license, url, "
                              "parameters, depth) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
    int64_t keys[CORE_MODEL_MAX_PARENTS];
    sqlite3_stmt *stmt = NULL;
    int depth = 0;
    enum err rc;

    rc = resolve_parents(db, m, keys, &depth, bad_parent);
    if (rc != ERR_OK)
        return rc;
    rc = db_cached(db, sql, &stmt);
    if (rc != ERR_OK)
        return rc;
    rc = bind_id(db, stmt, &m->id);
    if (rc == ERR_OK)
        rc = bind_metadata(db, stmt, 3, m);
    if (rc == ERR_OK) {
        db_bind_int64(stmt, 7, depth);
        rc = db_map(db, sqlite3_step(stmt));
    }
    db_finish(db, stmt);
    if (rc != ERR_OK)
        return rc;
    m->key = sqlite3_last_insert_rowid(db->handle);
    rc = insert_edges(db, m, keys);
    if (rc == ERR_OK)
        rc = rebuild_closure(db, m->key);
    if (rc == ERR_OK)
        rc = ledger_add_member(db, m->key);
    if (rc == ERR_OK)
        rc = db_inference_g_refresh_new(db, m->key);
    if (rc == ERR_OK)
        rc = read_back(db, m);
    return rc;
}

enum err db_model_find(struct db *db, const struct core_model_id *id, int64_t *key,
                       struct core_model_id *stored)
{
    static const char sql[] =
        "SELECT m.id, m.namespace, m.name FROM models m WHERE m.namespace = ?1 AND m.name = ?2";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    rc = bind_id(db, stmt, id);
    if (rc != ERR_OK) {
        db_finish(db, stmt);
        return rc;
    }
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        *key = sqlite3_column_int64(stmt, 0);
        db_column_copy(stmt, 1, stored->ns, sizeof stored->ns);
        db_column_copy(stmt, 2, stored->name, sizeof stored->name);
    } else {
        rc = step == SQLITE_DONE ? ERR_NOT_FOUND : db_map(db, step);
    }
    db_finish(db, stmt);
    return rc;
}

enum err db_model_get(struct db *db, const struct core_model_id *id, struct core_model *out)
{
    static const char sql[] =
        "SELECT " MODEL_COLUMNS "FROM models m WHERE m.namespace = ?1 AND m.name = ?2";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    rc = bind_id(db, stmt, id);
    if (rc != ERR_OK) {
        db_finish(db, stmt);
        return rc;
    }
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        read_model_row(stmt, out);
        db_finish(db, stmt);
        return load_parents(db, out);
    }
    rc = step == SQLITE_DONE ? ERR_NOT_FOUND : db_map(db, step);
    db_finish(db, stmt);
    return rc;
}

/* The orders of a model list but the first: ?1 the previous page's last model (0
 * from the start), ?4 the page size + 1. A model past the cursor comes later in
 * the order, or ties with it and has a greater key. */
static const char *const ordered_sql[] = {
    [DB_MODEL_BY_KEY_DESC] = "SELECT " MODEL_COLUMNS "FROM models m "
                             "WHERE (?1 = 0 OR m.id < ?1) ORDER BY m.id DESC LIMIT ?4",
    [DB_MODEL_BY_INFERENCES] =
        "SELECT " MODEL_COLUMNS "FROM model_ledger l JOIN models m ON m.id = l.model_id "
        "LEFT JOIN model_ledger c ON c.model_id = ?1 "
        "WHERE ?1 = 0 OR l.inferences < c.inferences "
        "OR (l.inferences = c.inferences AND l.model_id > ?1) "
        "ORDER BY l.inferences DESC, l.model_id LIMIT ?4",
    [DB_MODEL_BY_OWN_CO2E] =
        "SELECT " MODEL_COLUMNS "FROM model_ledger l JOIN models m ON m.id = l.model_id "
        "LEFT JOIN model_ledger c ON c.model_id = ?1 "
        "WHERE ?1 = 0 OR l.own_co2e_kg < c.own_co2e_kg "
        "OR (l.own_co2e_kg = c.own_co2e_kg AND l.model_id > ?1) "
        "ORDER BY l.own_co2e_kg DESC, l.model_id LIMIT ?4",
    [DB_MODEL_BY_FOOTPRINT] =
        "SELECT " MODEL_COLUMNS "FROM model_ledger l JOIN models m ON m.id = l.model_id "
        "LEFT JOIN model_ledger c ON c.model_id = ?1 "
        "WHERE ?1 = 0 OR l.own_footprint_co2e_kg < c.own_footprint_co2e_kg "
        "OR (l.own_footprint_co2e_kg = c.own_footprint_co2e_kg AND l.model_id > ?1) "
        "ORDER BY l.own_footprint_co2e_kg DESC, l.model_id LIMIT ?4",
    [DB_MODEL_BY_FOOTPRINT_PER_INFERENCE] =
        "SELECT " MODEL_COLUMNS "FROM model_ledger l JOIN models m ON m.id = l.model_id "
        "LEFT JOIN model_ledger c ON c.model_id = ?1 "
        "WHERE ?1 = 0 OR l.own_footprint_g_per_inference < c.own_footprint_g_per_inference "
        "OR (l.own_footprint_g_per_inference = c.own_footprint_g_per_inference "
        "AND l.model_id > ?1) "
        "ORDER BY l.own_footprint_g_per_inference DESC, l.model_id LIMIT ?4",
};

/* ERR_NOT_FOUND unless key names a model. */
static enum err check_key(struct db *db, int64_t key)
{
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, "SELECT 1 FROM models WHERE id = ?1", &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, key);
    step = sqlite3_step(stmt);
    if (step == SQLITE_DONE)
        rc = ERR_NOT_FOUND;
    else if (step != SQLITE_ROW)
        rc = db_map(db, step);
    db_finish(db, stmt);
    return rc;
}

/* One stretch of the id order, a part of the models one prefix of an id names:
 * namespace ?1 exactly with names from ?2 up to ?3 (?4: ?2 itself excluded), or
 * (SEARCH_NAMESPACES) every namespace from (?1, ?2) exclusive up to ?3; ?5 rows at
 * most. Each walks the (namespace, name) key from its lower bound. */
enum { SEARCH_NAMES, SEARCH_NAMESPACES };
static const char *const search_sql[] = {
    [SEARCH_NAMES] = "SELECT " MODEL_COLUMNS "FROM models m WHERE m.namespace = ?1 "
                     "AND m.name >= ?2 AND m.name < ?3 AND (?4 = 0 OR m.name > ?2) "
                     "ORDER BY m.namespace, m.name LIMIT ?5",
    [SEARCH_NAMESPACES] = "SELECT " MODEL_COLUMNS "FROM models m "
                          "WHERE (m.namespace, m.name) > (?1, ?2) AND m.namespace < ?3 "
                          "ORDER BY m.namespace, m.name LIMIT ?5",
};

/* Above every character an id may hold: a prefix followed by it bounds the ids
 * that start with the prefix. */
#define SEARCH_CEILING "\x7f"

struct search_bound {
    char ns[CORE_MODEL_PART_MAX + 1];
    char name[CORE_MODEL_PART_MAX + 1];
    bool is_exclusive;
};

/* Compares as SQLite's NOCASE collation does: bytes, ASCII capitals folded. */
static int nocase_cmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int x = (unsigned char)*a, y = (unsigned char)*b;
        x = x >= 'A' && x <= 'Z' ? x - 'A' + 'a' : x;
        y = y >= 'A' && y <= 'Z' ? y - 'A' + 'a' : y;
        if (x != y || x == 0)
            return x - y;
    }
}

/* The id of the model key; ERR_NOT_FOUND when none has it. */
static enum err id_of_key(struct db *db, int64_t key, struct core_model_id *out)
{
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, "SELECT namespace, name FROM models WHERE id = ?1", &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, key);
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        db_column_copy(stmt, 0, out->ns, sizeof out->ns);
        db_column_copy(stmt, 1, out->name, sizeof out->name);
    } else
        rc = step == SQLITE_DONE ? ERR_NOT_FOUND : db_map(db, step);
    db_finish(db, stmt);
    return rc;
}

/* Appends the rows of one stretch to items, up to limit + 1 in all. */
static enum err search_stretch(struct db *db, int kind, const struct search_bound *from,
                               const char *ceiling, struct core_model *items, size_t limit,
                               size_t *n, bool *has_more)
{
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, search_sql[kind], &stmt);
    int step = SQLITE_DONE;

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 4, from->is_exclusive);
    db_bind_int64(stmt, 5, (sqlite3_int64)(limit + 1 - *n));
    rc = db_bind_text(db, stmt, 1, from->ns);
    if (rc == ERR_OK)
        rc = db_bind_text(db, stmt, 2, from->name);
    if (rc == ERR_OK)
        rc = db_bind_text(db, stmt, 3, ceiling);
    while (rc == ERR_OK && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (*n == limit) {
            *has_more = true;
            break;
        }
        read_model_row(stmt, &items[(*n)++]);
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = db_map(db, step);
    db_finish(db, stmt);
    return rc;
}

/* The models whose id starts with prefix, in id order, after after_key's id. A
 * prefix with a slash names a namespace and the start of its names; one without
 * is the start of a bare name or of a namespace, and bare ids ('' namespace) come
 * first. Comparisons fold ASCII case, as the NOCASE columns do. */
static enum err search_ids(struct db *db, const char *prefix, int64_t after_key,
                           struct core_model *items, size_t limit, size_t *n, bool *has_more)
{
    struct search_bound names = {0}, spaces = {0};
    struct core_model_id cursor;
    const char *slash = strchr(prefix, '/');
    char ceiling[2 * CORE_MODEL_PART_MAX + 3];
    bool has_cursor = after_key > 0, has_names = true, has_spaces = slash == NULL;
    enum err rc = ERR_OK;

    if (strlen(prefix) > CORE_MODEL_PART_MAX * 2 + 1 ||
        (slash && (size_t)(slash - prefix) > CORE_MODEL_PART_MAX) ||
        strlen(slash ? slash + 1 : prefix) > CORE_MODEL_PART_MAX)
        return ERR_INVALID_INPUT;
    if (slash) {
        memcpy(names.ns, prefix, (size_t)(slash - prefix));
        snprintf(names.name, sizeof names.name, "%s", slash + 1);
    } else {
        snprintf(names.name, sizeof names.name, "%s", prefix);
        snprintf(spaces.ns, sizeof spaces.ns, "%s", prefix);
    }
    snprintf(ceiling, sizeof ceiling, "%s" SEARCH_CEILING, names.name);
    if (has_cursor) {
        rc = id_of_key(db, after_key, &cursor);
        if (rc != ERR_OK)
            return rc;
        /* The cursor's id is where the page before ended: each stretch starts
         * after it, or is behind it altogether. */
        int vs_names = nocase_cmp(cursor.ns, names.ns);
        if (vs_names > 0)
            has_names = false;
        else if (vs_names == 0 && nocase_cmp(cursor.name, names.name) >= 0) {
            snprintf(names.name, sizeof names.name, "%s", cursor.name);
            names.is_exclusive = true;
        }
        if (has_spaces && nocase_cmp(cursor.ns, spaces.ns) >= 0) {
            snprintf(spaces.ns, sizeof spaces.ns, "%s", cursor.ns);
            snprintf(spaces.name, sizeof spaces.name, "%s", cursor.name);
        }
    }
    if (has_names)
        rc = search_stretch(db, SEARCH_NAMES, &names, ceiling, items, limit, n, has_more);
    if (rc == ERR_OK && has_spaces && !*has_more) {
        char spaces_ceiling[CORE_MODEL_PART_MAX + 2];
        snprintf(spaces_ceiling, sizeof spaces_ceiling, "%s" SEARCH_CEILING, prefix);
        rc = search_stretch(db, SEARCH_NAMESPACES, &spaces, spaces_ceiling, items, limit, n,
                            has_more);
    }
    return rc;
}

enum err db_model_list(struct db *db, const struct db_model_filter *filter,
                       struct core_model *items, size_t *n_items, bool *has_more)
{
    static const char sql[] =
        "SELECT " MODEL_COLUMNS "FROM models m WHERE m.id > ?1 "
        "AND (?2 IS NULL OR m.namespace = ?2) "
        "AND (?3 IS NULL OR m.id IN (SELECT child_id FROM model_parents WHERE parent_id = ?3)) "
        "ORDER BY m.id LIMIT ?4";
    sqlite3_stmt *stmt = NULL;
    int64_t parent_key = 0;
    size_t n = 0;
    enum err rc;
    int step = SQLITE_DONE;

    *n_items = 0;
    *has_more = false;
    if (filter->id_prefix) {
        if (filter->order != DB_MODEL_BY_KEY || filter->ns || filter->parent)
            return ERR_INVALID_INPUT;
        rc = search_ids(db, filter->id_prefix, filter->after_key, items, filter->limit, &n,
                        has_more);
        for (size_t i = 0; rc == ERR_OK && i < n; i++)
            rc = load_parents(db, &items[i]);
        if (rc == ERR_OK)
            *n_items = n;
        return rc;
    }
    if (filter->order != DB_MODEL_BY_KEY) {
        if (filter->ns || filter->parent)
            return ERR_INVALID_INPUT;
        if (filter->after_key > 0 && filter->order != DB_MODEL_BY_KEY_DESC) {
            rc = check_key(db, filter->after_key);
            if (rc != ERR_OK)
                return rc;
        }
    }
    if (filter->parent) {
        rc = find_key(db, filter->parent, &parent_key, NULL, NULL);
        if (rc != ERR_OK)
            return rc;
    }
    rc = db_cached(db, filter->order == DB_MODEL_BY_KEY ? sql : ordered_sql[filter->order], &stmt);
    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, filter->after_key);
    if (filter->parent)
        db_bind_int64(stmt, 3, parent_key);
    else
        db_bind_null(stmt, 3);
    db_bind_int64(stmt, 4, (sqlite3_int64)filter->limit + 1);
    rc = db_bind_text_or_null(db, stmt, 2, filter->ns);
    while (rc == ERR_OK && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (n == filter->limit) {
            *has_more = true;
            break;
        }
        read_model_row(stmt, &items[n++]);
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = db_map(db, step);
    db_finish(db, stmt);
    for (size_t i = 0; rc == ERR_OK && i < n; i++)
        rc = load_parents(db, &items[i]);
    if (rc == ERR_OK)
        *n_items = n;
    return rc;
}

enum err db_model_update_metadata(struct db *db, const struct core_model *m)
{
    static const char sql[] =
        "UPDATE models SET task = ?2, license = ?3, url = ?4, parameters = ?5, "
        "version = version + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
        "WHERE id = ?1";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, m->key);
    rc = bind_metadata(db, stmt, 2, m);
    if (rc == ERR_OK)
        rc = db_map(db, sqlite3_step(stmt));
    if (rc == ERR_OK && sqlite3_changes(db->handle) == 0)
        rc = ERR_NOT_FOUND;
    db_finish(db, stmt);
    return rc;
}

/* ERR_CONFLICT when `candidate` is key itself or lies below it: making it a parent
 * of key would close a cycle. */
static enum err check_no_cycle(struct db *db, int64_t key, int64_t candidate)
{
    static const char sql[] =
        "SELECT 1 FROM model_closure WHERE ancestor_id = ?1 AND descendant_id = ?2";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, key);
    db_bind_int64(stmt, 2, candidate);
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW)
        rc = ERR_CONFLICT;
    else if (step != SQLITE_DONE)
        rc = db_map(db, step);
    db_finish(db, stmt);
    return rc;
}

/* Recomputes closure and depth for key and everything below it. The subtree's own
 * edges do not change, so its old depth order is still a topological order. */
static enum err refresh_subtree(struct db *db, int64_t key)
{
    static const char list_sql[] =
        "SELECT c.descendant_id FROM model_closure c JOIN models m ON m.id = c.descendant_id "
        "WHERE c.ancestor_id = ?1 ORDER BY m.depth, m.id";
    static const char depth_sql[] = "SELECT coalesce(max(p.depth) + 1, 0) FROM model_parents e "
                                    "JOIN models p ON p.id = e.parent_id WHERE e.child_id = ?1";
    static const char set_sql[] = "UPDATE models SET depth = ?2 WHERE id = ?1";
    sqlite3_stmt *list = NULL, *depth = NULL, *set = NULL;
    int64_t *keys = NULL;
    size_t n = 0, cap = 0;
    enum err rc;
    int step;

    rc = db_prepare(db, list_sql, &list);
    if (rc == ERR_OK)
        rc = db_prepare(db, depth_sql, &depth);
    if (rc == ERR_OK)
        rc = db_prepare(db, set_sql, &set);
    if (rc != ERR_OK)
        goto out;
    db_bind_int64(list, 1, key);
    while ((step = sqlite3_step(list)) == SQLITE_ROW) {
        if (n == cap) {
            size_t new_cap = cap ? cap * 2 : 64;
            int64_t *grown = core_realloc(keys, new_cap * sizeof *keys);
            if (grown == NULL) {
                rc = ERR_NO_MEMORY;
                goto out;
            }
            keys = grown;
            cap = new_cap;
        }
        keys[n++] = sqlite3_column_int64(list, 0);
    }
    if (step != SQLITE_DONE) {
        rc = db_map(db, step);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        int new_depth;
        db_bind_int64(depth, 1, keys[i]);
        step = sqlite3_step(depth);
        if (step != SQLITE_ROW) {
            rc = db_map(db, step);
            goto out;
        }
        new_depth = sqlite3_column_int(depth, 0);
        sqlite3_reset(depth);
        if (new_depth > CORE_LINEAGE_MAX_DEPTH) {
            rc = ERR_INVALID_INPUT;
            goto out;
        }
        db_bind_int64(set, 1, keys[i]);
        db_bind_int64(set, 2, new_depth);
        rc = db_map(db, sqlite3_step(set));
        sqlite3_reset(set);
        if (rc == ERR_OK)
            rc = rebuild_closure(db, keys[i]);
        if (rc != ERR_OK)
            goto out;
    }
out:
    free(keys);
    sqlite3_finalize(list);
    sqlite3_finalize(depth);
    sqlite3_finalize(set);
    return rc;
}

/* ERR_COUNT_OVERFLOW when moving the subtree of key under parent would push an
 * ancestor's inference total past INT64_MAX (counted as if none of it were there
 * yet: conservative where the parent already holds part of it). */
static enum err check_room_for_subtree(struct db *db, int64_t key, int64_t parent)
{
    static const char sql[] =
        "SELECT (SELECT descendant_inferences FROM model_ledger WHERE model_id = ?1), "
        "(SELECT max(l.descendant_inferences) FROM model_closure c JOIN model_ledger l "
        " ON l.model_id = c.ancestor_id WHERE c.descendant_id = ?2)";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, key);
    db_bind_int64(stmt, 2, parent);
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        int64_t moving = sqlite3_column_int64(stmt, 0);
        int64_t largest = sqlite3_column_int64(stmt, 1);
        if (moving > INT64_MAX - largest)
            rc = ERR_COUNT_OVERFLOW;
    } else {
        rc = db_map(db, step);
    }
    db_finish(db, stmt);
    return rc;
}

enum err db_model_set_parents(struct db *db, struct core_model *m, size_t *bad_parent)
{
    int64_t *affected = NULL;
    size_t n_affected = 0, cap_affected = 0;
    int64_t keys[CORE_MODEL_MAX_PARENTS];
    int depth = 0;
    enum err rc;

    /* Pending deltas first: the recomputed sums below count every model's whole
     * count, and the room check reads folded sums. */
    rc = db_fold(db, 0, NULL);
    if (rc == ERR_OK)
        rc = resolve_parents(db, m, keys, &depth, bad_parent);
    if (rc != ERR_OK)
        return rc;
    for (size_t i = 0; i < m->n_parents; i++) {
        rc = check_no_cycle(db, m->key, keys[i]);
        if (rc != ERR_OK) {
            *bad_parent = i;
            return rc;
        }
    }
    for (size_t i = 0; i < m->n_parents; i++) {
        rc = check_room_for_subtree(db, m->key, keys[i]);
        if (rc != ERR_OK) {
            *bad_parent = i;
            return rc;
        }
    }
    rc = collect_ancestors(db, m->key, &affected, &n_affected, &cap_affected);
    if (rc != ERR_OK)
        goto out;
    {
        sqlite3_stmt *stmt = NULL;
        rc = db_cached(db, "DELETE FROM model_parents WHERE child_id = ?1", &stmt);
        if (rc != ERR_OK)
            goto out;
        db_bind_int64(stmt, 1, m->key);
        rc = db_map(db, sqlite3_step(stmt));
        db_finish(db, stmt);
    }
    if (rc == ERR_OK)
        rc = insert_edges(db, m, keys);
    if (rc == ERR_OK)
        rc = refresh_subtree(db, m->key);
    /* Every old and new ancestor gains or loses the subtree's members. */
    if (rc == ERR_OK)
        rc = collect_ancestors(db, m->key, &affected, &n_affected, &cap_affected);
    for (size_t i = 0; rc == ERR_OK && i < n_affected; i++)
        rc = ledger_refresh(db, affected[i]);
    /* The subtree's profiles and training energy above it may have moved. */
    if (rc == ERR_OK)
        rc = db_inference_g_refresh_below(db, m->key);
    if (rc == ERR_OK)
        rc = read_back(db, m);
out:
    free(affected);
    return rc;
}

enum err db_model_delete(struct db *db, const struct core_model_id *id)
{
    sqlite3_stmt *stmt = NULL;
    int64_t key = 0, n_children = 0;
    enum err rc = find_key(db, id, &key, NULL, &n_children);

    if (rc != ERR_OK)
        return rc;
    if (n_children > 0)
        return ERR_CONFLICT;
    /* Pending deltas first: the ancestors and the totals lose the leaf's whole
     * count, which they must have counted. */
    rc = db_fold(db, 0, NULL);
    if (rc == ERR_OK)
        rc = ledger_remove_member(db, key);
    if (rc != ERR_OK)
        return rc;
    rc = db_cached(db, "DELETE FROM models WHERE id = ?1", &stmt);
    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, key);
    rc = db_map(db, sqlite3_step(stmt));
    db_finish(db, stmt);
    return rc;
}

enum err db_model_parents(struct db *db, struct core_model *m)
{
    return load_parents(db, m);
}

enum err db_model_set_placeholder(struct db *db, int64_t key, bool placeholder)
{
    static const char sql[] = "UPDATE models SET placeholder = ?2 WHERE id = ?1";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, key);
    db_bind_int64(stmt, 2, placeholder ? 1 : 0);
    rc = db_map(db, sqlite3_step(stmt));
    if (rc == ERR_OK && sqlite3_changes(db->handle) == 0)
        rc = ERR_NOT_FOUND;
    db_finish(db, stmt);
    return rc;
}
