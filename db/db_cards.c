/* SPDX-License-Identifier: Apache-2.0 */
/* SQL for model cards: the record of what a model's last card registration said
 * (model_cards), read to tell an unchanged card from a changed one. */
#include "db_internal.h"

#include <stdlib.h>
#include <string.h>

void db_card_cleanup(struct db_card *card)
{
    free(card->facts);
    free(card->ignored);
    free(card->flags);
    free(card->readings);
    card->facts = NULL;
    card->ignored = NULL;
    card->flags = NULL;
    card->readings = NULL;
}

static char *column_dup(sqlite3_stmt *stmt, int column)
{
    const unsigned char *text = sqlite3_column_text(stmt, column);

    return strdup(text ? (const char *)text : "");
}

enum err db_card_get(struct db *db, int64_t model_key, struct db_card *out)
{
    static const char sql[] =
        "SELECT facts, ignored, activity_id, relation_given, relation_from, "
        "is_card, location, hardware, hours, source, flags, readings FROM model_cards "
        "WHERE model_id = ?1";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    memset(out, 0, sizeof *out);
    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, model_key);
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        out->facts = column_dup(stmt, 0);
        out->ignored = column_dup(stmt, 1);
        out->activity_id = sqlite3_column_int64(stmt, 2);
        out->relation_given =
            sqlite3_column_type(stmt, 3) == SQLITE_NULL ? -1 : sqlite3_column_int(stmt, 3);
        db_column_copy(stmt, 4, out->relation_from, sizeof out->relation_from);
        out->is_card = sqlite3_column_int(stmt, 5) != 0;
        db_column_copy(stmt, 6, out->location, sizeof out->location);
        db_column_copy(stmt, 7, out->hardware, sizeof out->hardware);
        out->has_hours = sqlite3_column_type(stmt, 8) != SQLITE_NULL;
        out->hours = sqlite3_column_double(stmt, 8);
        db_column_copy(stmt, 9, out->source, sizeof out->source);
        out->flags = column_dup(stmt, 10);
        out->readings = column_dup(stmt, 11);
        if (out->facts == NULL || out->ignored == NULL || out->flags == NULL ||
            out->readings == NULL) {
            db_card_cleanup(out);
            rc = ERR_NO_MEMORY;
        }
    } else {
        rc = step == SQLITE_DONE ? ERR_NOT_FOUND : db_map(db, step);
    }
    db_finish(db, stmt);
    return rc;
}

enum err db_card_put(struct db *db, int64_t model_key, const struct db_card *card)
{
    static const char sql[] =
        "INSERT OR REPLACE INTO model_cards (model_id, facts, activity_id, relation_given, "
        "relation_from, ignored, is_card, location, hardware, hours, source, flags, readings) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, model_key);
    if (card->activity_id > 0)
        db_bind_int64(stmt, 3, card->activity_id);
    else
        db_bind_null(stmt, 3);
    if (card->relation_given >= 0)
        db_bind_int64(stmt, 4, card->relation_given);
    else
        db_bind_null(stmt, 4);
    db_bind_int64(stmt, 7, card->is_card ? 1 : 0);
    if (card->has_hours)
        db_bind_double(stmt, 10, card->hours);
    else
        db_bind_null(stmt, 10);
    /* Every text bind is checked: one left NULL would store the card without it. */
    rc = db_bind_text(db, stmt, 2, card->facts);
    if (rc == ERR_OK)
        rc = db_bind_text_or_null(db, stmt, 5, card->relation_from);
    if (rc == ERR_OK)
        rc = db_bind_text(db, stmt, 6, card->ignored ? card->ignored : "[]");
    if (rc == ERR_OK)
        rc = db_bind_text_or_null(db, stmt, 8, card->location);
    if (rc == ERR_OK)
        rc = db_bind_text_or_null(db, stmt, 9, card->hardware);
    if (rc == ERR_OK)
        rc = db_bind_text_or_null(db, stmt, 11, card->source);
    if (rc == ERR_OK)
        rc = db_bind_text(db, stmt, 12, card->flags ? card->flags : "[]");
    if (rc == ERR_OK)
        rc = db_bind_text(db, stmt, 13, card->readings ? card->readings : "{}");
    if (rc == ERR_OK)
        rc = db_map(db, sqlite3_step(stmt));
    db_finish(db, stmt);
    return rc;
}

enum err db_card_ancestor_with(struct db *db, int64_t model_key, double co2e_kg,
                               struct core_model_id *ancestor)
{
    static const char sql[] =
        "SELECT m.namespace, m.name FROM model_closure k JOIN models m ON m.id = k.ancestor_id "
        "JOIN activities a ON a.model_id = k.ancestor_id "
        "WHERE k.descendant_id = ?1 AND k.ancestor_id <> ?1 AND a.obtained = 'reported' "
        "AND abs(a.co2e_kg - ?2) <= 1e-9 * ?2 ORDER BY m.depth DESC, m.id LIMIT 1";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, model_key);
    db_bind_double(stmt, 2, co2e_kg);
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        db_column_copy(stmt, 0, ancestor->ns, sizeof ancestor->ns);
        db_column_copy(stmt, 1, ancestor->name, sizeof ancestor->name);
    } else {
        rc = step == SQLITE_DONE ? ERR_NOT_FOUND : db_map(db, step);
    }
    db_finish(db, stmt);
    return rc;
}

enum err db_card_copies_below(struct db *db, int64_t model_key, double co2e_kg, int64_t *keys,
                              size_t max, size_t *n)
{
    static const char sql[] =
        "SELECT k.descendant_id FROM model_closure k "
        "JOIN model_cards c ON c.model_id = k.descendant_id "
        "JOIN activities a ON a.id = c.activity_id "
        "WHERE k.ancestor_id = ?1 AND k.descendant_id <> ?1 AND abs(a.co2e_kg - ?2) <= 1e-9 * ?2 "
        "AND EXISTS (SELECT 1 FROM model_parents e WHERE e.child_id = k.descendant_id "
        "AND e.relation IN ('quantized', 'adapter')) ORDER BY k.descendant_id";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    *n = 0;
    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, model_key);
    db_bind_double(stmt, 2, co2e_kg);
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW && *n < max)
        keys[(*n)++] = sqlite3_column_int64(stmt, 0);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = db_map(db, step);
    db_finish(db, stmt);
    return rc;
}

enum err db_card_siblings(struct db *db, int64_t model_key, struct db_card_sibling *items,
                          size_t max, size_t *n)
{
    static const char sql[] =
        "SELECT DISTINCT s.child_id, m.namespace, m.name, a.co2e_kg FROM model_parents e "
        "JOIN model_parents s ON s.parent_id = e.parent_id AND s.relation = e.relation "
        "AND s.child_id <> e.child_id "
        "JOIN model_cards c ON c.model_id = s.child_id "
        "JOIN activities a ON a.id = c.activity_id AND a.obtained = 'reported' "
        "JOIN models m ON m.id = s.child_id WHERE e.child_id = ?1 ORDER BY s.child_id";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    *n = 0;
    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, model_key);
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW && *n < max) {
        items[*n].key = sqlite3_column_int64(stmt, 0);
        db_column_copy(stmt, 1, items[*n].id.ns, sizeof items[*n].id.ns);
        db_column_copy(stmt, 2, items[*n].id.name, sizeof items[*n].id.name);
        items[*n].co2e_kg = sqlite3_column_double(stmt, 3);
        (*n)++;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = db_map(db, step);
    db_finish(db, stmt);
    return rc;
}
