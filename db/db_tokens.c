/* SPDX-License-Identifier: Apache-2.0 */
/* SQL for API tokens: hashes, scopes, namespaces and revocation. The tokens
 * themselves never reach the database. */
#include "db_internal.h"

#include <string.h>

#define TOKEN_COLUMNS "id, name, scopes, namespaces, is_admin, created_at, revoked_at, token_hash"

static void read_token(sqlite3_stmt *stmt, struct db_token *t)
{
    const void *hash = sqlite3_column_blob(stmt, 7);

    memset(t, 0, sizeof *t);
    t->id = sqlite3_column_int64(stmt, 0);
    db_column_copy(stmt, 1, t->name, sizeof t->name);
    db_column_copy(stmt, 2, t->scopes, sizeof t->scopes);
    db_column_copy(stmt, 3, t->namespaces, sizeof t->namespaces);
    t->is_admin = sqlite3_column_int(stmt, 4) != 0;
    db_column_copy(stmt, 5, t->created_at, sizeof t->created_at);
    t->is_revoked = sqlite3_column_type(stmt, 6) != SQLITE_NULL;
    db_column_copy(stmt, 6, t->revoked_at, sizeof t->revoked_at);
    if (hash && sqlite3_column_bytes(stmt, 7) == 32)
        memcpy(t->hash, hash, 32);
}

enum err db_token_insert(struct db *db, struct db_token *t)
{
    static const char sql[] = "INSERT INTO tokens (token_hash, name, scopes, namespaces, is_admin) "
                              "VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id, created_at";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 5, t->is_admin ? 1 : 0);
    rc = db_bind_blob(db, stmt, 1, t->hash, sizeof t->hash);
    if (rc == ERR_OK)
        rc = db_bind_text(db, stmt, 2, t->name);
    if (rc == ERR_OK)
        rc = db_bind_text(db, stmt, 3, t->scopes);
    if (rc == ERR_OK)
        rc = db_bind_text(db, stmt, 4, t->namespaces);
    if (rc != ERR_OK) {
        db_finish(db, stmt);
        return rc;
    }
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        t->id = sqlite3_column_int64(stmt, 0);
        db_column_copy(stmt, 1, t->created_at, sizeof t->created_at);
        step = sqlite3_step(stmt);
    }
    rc = db_map(db, step);
    db_finish(db, stmt);
    return rc;
}

enum err db_token_find(struct db *db, const unsigned char hash[32], struct db_token *out)
{
    static const char sql[] = "SELECT " TOKEN_COLUMNS " FROM tokens WHERE token_hash = ?1";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    /* A parameter left NULL by a failed bind would find no token: a valid one would
     * be refused. */
    rc = db_bind_blob(db, stmt, 1, hash, 32);
    if (rc != ERR_OK) {
        db_finish(db, stmt);
        return rc;
    }
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW)
        read_token(stmt, out);
    else
        rc = step == SQLITE_DONE ? ERR_NOT_FOUND : db_map(db, step);
    db_finish(db, stmt);
    return rc;
}

enum err db_token_list(struct db *db, int64_t after_id, size_t limit, struct db_token *items,
                       size_t *n_items, bool *has_more)
{
    static const char sql[] =
        "SELECT " TOKEN_COLUMNS " FROM tokens WHERE id > ?1 ORDER BY id LIMIT ?2";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    size_t n = 0;
    int step;

    *n_items = 0;
    *has_more = false;
    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, after_id);
    db_bind_int64(stmt, 2, (sqlite3_int64)limit + 1);
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (n == limit) {
            *has_more = true;
            break;
        }
        read_token(stmt, &items[n++]);
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = db_map(db, step);
    db_finish(db, stmt);
    *n_items = n;
    return rc;
}

enum err db_token_revoke(struct db *db, int64_t id, struct db_token *out)
{
    static const char sql[] = "UPDATE tokens SET revoked_at = coalesce(revoked_at, "
                              "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) "
                              "WHERE id = ?1 RETURNING " TOKEN_COLUMNS;
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, id);
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        read_token(stmt, out);
        step = sqlite3_step(stmt);
        rc = db_map(db, step);
    } else {
        rc = step == SQLITE_DONE ? ERR_NOT_FOUND : db_map(db, step);
    }
    db_finish(db, stmt);
    return rc;
}

enum err db_token_has_admin(struct db *db, bool *has_admin)
{
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_prepare(
        db, "SELECT EXISTS (SELECT 1 FROM tokens WHERE is_admin = 1 AND revoked_at IS NULL)",
        &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW)
        *has_admin = sqlite3_column_int(stmt, 0) != 0;
    else
        rc = db_map(db, step);
    db_finish(db, stmt);
    return rc;
}
