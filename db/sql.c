/* SPDX-License-Identifier: Apache-2.0 */
/* The statement layer's common part: choosing the driver, the per-connection
 * cache of prepared statements, transactions, and the placeholder rewriting
 * PostgreSQL needs. The engines' own calls are in sql_sqlite.c and sql_pg.c. */
#include "sql_internal.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum sql_backend sql_backend_for(const char *target)
{
    if (target == NULL)
        return SQL_SQLITE;
    if (strncmp(target, "postgresql://", 13) == 0 || strncmp(target, "postgres://", 11) == 0)
        return SQL_PG;
    return SQL_SQLITE;
}

void sql_set_error(struct sql_conn *conn, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(conn->last_error, sizeof conn->last_error, fmt, ap);
    va_end(ap);
}

enum err sql_connect(const char *target, struct sql_conn **out, char *why, size_t why_len)
{
    struct sql_conn *conn;
    enum err rc;

    assert(target != NULL && out != NULL);
    if (why && why_len)
        why[0] = '\0';
    conn = calloc(1, sizeof *conn);
    if (conn == NULL) {
        if (why && why_len)
            snprintf(why, why_len, "out of memory");
        return ERR_NO_MEMORY;
    }
    conn->backend = sql_backend_for(target);
    conn->driver = conn->backend == SQL_PG ? &sql_driver_pg : &sql_driver_sqlite;
    rc = conn->driver->connect(conn, target, why, why_len);
    if (rc != ERR_OK) {
        free(conn);
        return rc;
    }
    *out = conn;
    return ERR_OK;
}

static void stmt_free(struct sql_stmt *stmt)
{
    stmt->conn->driver->stmt_free(stmt);
    free(stmt->text);
    free(stmt);
}

void sql_close(struct sql_conn *conn)
{
    if (conn == NULL)
        return;
    conn->driver->closing(conn);
    for (size_t i = 0; i < conn->n_kept; i++)
        stmt_free(conn->kept[i]);
    conn->driver->close(conn);
    free(conn);
}

enum sql_backend sql_backend(const struct sql_conn *conn)
{
    return conn->backend;
}

const char *sql_last_error(const struct sql_conn *conn)
{
    return conn ? conn->last_error : "no connection";
}

static enum err stmt_new(struct sql_conn *conn, const char *sql, struct sql_stmt **out)
{
    struct sql_stmt *stmt = calloc(1, sizeof *stmt);
    enum err rc;

    if (stmt == NULL || (stmt->text = strdup(sql)) == NULL) {
        free(stmt);
        sql_set_error(conn, "out of memory");
        return ERR_NO_MEMORY;
    }
    stmt->conn = conn;
    rc = conn->driver->prepare(stmt);
    if (rc != ERR_OK) {
        free(stmt->text);
        free(stmt);
        return rc;
    }
    *out = stmt;
    return ERR_OK;
}

/* A slot for a new kept statement: a free one, or the oldest not in use (freed).
 * -1 when every kept statement is in use. */
static long kept_slot(struct sql_conn *conn)
{
    if (conn->n_kept < SQL_KEPT_MAX)
        return (long)conn->n_kept;
    for (size_t tries = 0; tries < SQL_KEPT_MAX; tries++) {
        size_t i = conn->next_evict;
        conn->next_evict = (conn->next_evict + 1) % SQL_KEPT_MAX;
        if (!conn->kept[i]->in_use) {
            stmt_free(conn->kept[i]);
            conn->kept[i] = NULL;
            return (long)i;
        }
    }
    return -1;
}

enum err sql_prepare(struct sql_conn *conn, const char *sql, struct sql_stmt **out)
{
    struct sql_stmt *stmt = NULL;
    long slot;
    enum err rc;

    assert(conn != NULL && sql != NULL && out != NULL);
    for (size_t i = 0; i < conn->n_kept; i++) {
        struct sql_stmt *k = conn->kept[i];
        if (strcmp(k->text, sql) != 0)
            continue;
        if (k->in_use) /* a nested use: a private statement */
            break;
        k->in_use = true;
        *out = k;
        return ERR_OK;
    }
    rc = stmt_new(conn, sql, &stmt);
    if (rc != ERR_OK)
        return rc;
    slot = kept_slot(conn);
    if (slot >= 0) {
        stmt->kept = true;
        conn->kept[slot] = stmt;
        if ((size_t)slot == conn->n_kept)
            conn->n_kept++;
    }
    stmt->in_use = true;
    *out = stmt;
    return ERR_OK;
}

enum err sql_bind_int64(struct sql_stmt *stmt, int index, int64_t value)
{
    return stmt->conn->driver->bind_int64(stmt, index, value);
}

enum err sql_bind_double(struct sql_stmt *stmt, int index, double value)
{
    return stmt->conn->driver->bind_double(stmt, index, value);
}

enum err sql_bind_text(struct sql_stmt *stmt, int index, const char *text, size_t len)
{
    assert(text != NULL);
    return stmt->conn->driver->bind_text(stmt, index, text, len);
}

enum err sql_bind_null(struct sql_stmt *stmt, int index)
{
    return stmt->conn->driver->bind_null(stmt, index);
}

enum err sql_step(struct sql_stmt *stmt, bool *row)
{
    *row = false;
    return stmt->conn->driver->step(stmt, row);
}

int sql_column_count(const struct sql_stmt *stmt)
{
    return stmt->conn->driver->column_count(stmt);
}

bool sql_column_is_null(const struct sql_stmt *stmt, int column)
{
    return stmt->conn->driver->column_is_null(stmt, column);
}

int64_t sql_column_int64(const struct sql_stmt *stmt, int column)
{
    return stmt->conn->driver->column_int64(stmt, column);
}

double sql_column_double(const struct sql_stmt *stmt, int column)
{
    return stmt->conn->driver->column_double(stmt, column);
}

const char *sql_column_text(const struct sql_stmt *stmt, int column, size_t *len)
{
    return stmt->conn->driver->column_text(stmt, column, len);
}

int64_t sql_changes(const struct sql_conn *conn)
{
    return conn->changes;
}

void sql_reset(struct sql_stmt *stmt)
{
    stmt->conn->driver->reset(stmt);
}

void sql_finalize(struct sql_stmt *stmt)
{
    if (stmt == NULL)
        return;
    if (stmt->kept) {
        stmt->conn->driver->reset(stmt);
        stmt->in_use = false;
        return;
    }
    stmt_free(stmt);
}

enum err sql_exec(struct sql_conn *conn, const char *script)
{
    return conn->driver->exec(conn, script);
}

enum err sql_begin(struct sql_conn *conn)
{
    return conn->driver->exec(conn, conn->driver->begin_sql);
}

enum err sql_commit(struct sql_conn *conn)
{
    return conn->driver->exec(conn, "COMMIT");
}

enum err sql_rollback(struct sql_conn *conn)
{
    return conn->driver->rollback(conn);
}

/* Savepoint names go into the SQL text: only identifiers are accepted. */
static bool is_identifier(const char *name)
{
    if (name == NULL || *name == '\0' || strlen(name) > 63 || (*name >= '0' && *name <= '9'))
        return false;
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

static enum err savepoint_sql(struct sql_conn *conn, const char *verb, const char *name)
{
    char sql[128];

    assert(is_identifier(name));
    if (!is_identifier(name)) {
        sql_set_error(conn, "not a savepoint name");
        return ERR_INTERNAL;
    }
    snprintf(sql, sizeof sql, "%s %s", verb, name);
    return conn->driver->exec(conn, sql);
}

enum err sql_savepoint(struct sql_conn *conn, const char *name)
{
    return savepoint_sql(conn, "SAVEPOINT", name);
}

enum err sql_release(struct sql_conn *conn, const char *name)
{
    return savepoint_sql(conn, "RELEASE SAVEPOINT", name);
}

enum err sql_rollback_to(struct sql_conn *conn, const char *name)
{
    return savepoint_sql(conn, "ROLLBACK TO SAVEPOINT", name);
}

/* ---- placeholders ---- */

/* The end of a PostgreSQL dollar-quote tag starting at p ('$'), just after its
 * closing '$'; NULL when p does not open one ($1 is a parameter, not a tag). */
static const char *dollar_tag_end(const char *p)
{
    const char *q = p + 1;

    if (*q >= '0' && *q <= '9')
        return NULL;
    while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
           *q == '_' || (unsigned char)*q >= 0x80)
        q++;
    return *q == '$' ? q + 1 : NULL;
}

/* Past the literal, identifier or comment starting at p, or p when none does. */
static const char *skip_quoted(const char *start, const char *p)
{
    if (*p == '\'' || *p == '"') {
        char quote = *p;
        /* E'' strings escape with a backslash; standard ones only double the quote. */
        bool backslash = quote == '\'' && p > start && (p[-1] == 'E' || p[-1] == 'e');
        for (p++; *p; p++) {
            if (backslash && *p == '\\' && p[1] != '\0')
                p++;
            else if (*p == quote) {
                if (p[1] != quote)
                    return p + 1;
                p++;
            }
        }
        return p;
    }
    if (p[0] == '-' && p[1] == '-') {
        const char *newline = strchr(p, '\n');
        return newline ? newline + 1 : p + strlen(p);
    }
    if (p[0] == '/' && p[1] == '*') {
        /* PostgreSQL nests block comments. */
        int depth = 0;
        for (; *p; p++) {
            if (p[0] == '/' && p[1] == '*') {
                depth++;
                p++;
            } else if (p[0] == '*' && p[1] == '/') {
                p++;
                if (--depth == 0)
                    return p + 1;
            }
        }
        return p;
    }
    if (*p == '$') {
        const char *tag_end = dollar_tag_end(p);
        if (tag_end != NULL) {
            size_t tag_len = (size_t)(tag_end - p);
            for (const char *q = tag_end; *q; q++)
                if (*q == '$' && strncmp(q, p, tag_len) == 0)
                    return q + tag_len;
            return p + strlen(p);
        }
    }
    return p;
}

char *sql_rewrite_placeholders(const char *sql, int *n_params)
{
    /* "?" becomes at most "$32767": 6 bytes for 1. */
    size_t cap = strlen(sql) * 6 + 1;
    char *out = malloc(cap);
    char *w = out;
    int next = 0, highest = 0;
    const char *p = sql;

    if (out == NULL)
        return NULL;
    while (*p) {
        const char *q = skip_quoted(sql, p);
        if (q != p) {
            memcpy(w, p, (size_t)(q - p));
            w += q - p;
            p = q;
            continue;
        }
        if (*p != '?') {
            *w++ = *p++;
            continue;
        }
        p++;
        long number;
        if (*p >= '0' && *p <= '9') {
            char *end;
            number = strtol(p, &end, 10);
            p = end;
        } else {
            number = next + 1;
        }
        if (number < 1 || number > 32767) {
            free(out);
            return NULL;
        }
        /* SQLite numbers a bare ? one past the highest used so far. */
        if (number > highest)
            highest = (int)number;
        next = highest;
        w += sprintf(w, "$%ld", number);
    }
    *w = '\0';
    *n_params = highest;
    return out;
}
