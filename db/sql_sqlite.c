/* SPDX-License-Identifier: Apache-2.0 */
/* The statement layer's SQLite driver, and the mapping of SQLite result codes to
 * enum err that db/db.c uses too. Settings (WAL, busy timeout, foreign keys) are
 * the opener's, through sql_exec or sql_sqlite_handle. */
#include "sql_sqlite.h"

#include "sql_internal.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

enum err sql_map_sqlite(int sqlite_rc)
{
    if (sqlite_rc == SQLITE_OK || sqlite_rc == SQLITE_DONE || sqlite_rc == SQLITE_ROW)
        return ERR_OK;
    switch (sqlite_rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return ERR_BUSY;
    case SQLITE_FULL:
        return ERR_FULL;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
        return ERR_IO;
    case SQLITE_NOMEM:
        return ERR_NO_MEMORY;
    case SQLITE_CONSTRAINT:
        if (sqlite_rc == SQLITE_CONSTRAINT_UNIQUE || sqlite_rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return ERR_CONFLICT;
        return ERR_DB;
    default:
        return ERR_DB;
    }
}

sqlite3 *sql_sqlite_handle(struct sql_conn *conn)
{
    return conn->backend == SQL_SQLITE ? conn->impl : NULL;
}

/* Maps rc and, on failure, keeps SQLite's message. */
static enum err lite_map(struct sql_conn *conn, int rc)
{
    enum err e = sql_map_sqlite(rc);

    if (e != ERR_OK)
        sql_set_error(conn, "%s (%d)", conn->impl ? sqlite3_errmsg(conn->impl) : "", rc);
    return e;
}

static enum err lite_connect(struct sql_conn *conn, const char *target, char *why, size_t why_len)
{
    sqlite3 *handle = NULL;
    int rc = sqlite3_open_v2(
        target, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);

    if (rc != SQLITE_OK) {
        if (why && why_len)
            snprintf(why, why_len, "%s: %s", target,
                     handle ? sqlite3_errmsg(handle) : sqlite3_errstr(rc));
        sqlite3_close(handle);
        return rc == SQLITE_NOMEM ? ERR_NO_MEMORY : ERR_IO;
    }
    sqlite3_extended_result_codes(handle, 1);
    conn->impl = handle;
    return ERR_OK;
}

static void lite_close(struct sql_conn *conn)
{
    sqlite3_close(conn->impl);
    conn->impl = NULL;
}

static enum err lite_prepare(struct sql_stmt *stmt)
{
    sqlite3_stmt *s = NULL;
    const char *tail = NULL;
    enum err rc =
        lite_map(stmt->conn, sqlite3_prepare_v2(stmt->conn->impl, stmt->text, -1, &s, &tail));

    if (rc != ERR_OK)
        return rc;
    if (s == NULL) {
        sql_set_error(stmt->conn, "no statement in the text");
        return ERR_DB;
    }
    stmt->impl = s;
    return ERR_OK;
}

static void lite_stmt_free(struct sql_stmt *stmt)
{
    sqlite3_finalize(stmt->impl);
    stmt->impl = NULL;
}

static enum err lite_bind_int64(struct sql_stmt *stmt, int index, int64_t value)
{
    return lite_map(stmt->conn, sqlite3_bind_int64(stmt->impl, index, value));
}

static enum err lite_bind_double(struct sql_stmt *stmt, int index, double value)
{
    return lite_map(stmt->conn, sqlite3_bind_double(stmt->impl, index, value));
}

static enum err lite_bind_text(struct sql_stmt *stmt, int index, const char *text, size_t len)
{
    return lite_map(stmt->conn, sqlite3_bind_text64(stmt->impl, index, text, len, SQLITE_TRANSIENT,
                                                    SQLITE_UTF8));
}

static enum err lite_bind_null(struct sql_stmt *stmt, int index)
{
    return lite_map(stmt->conn, sqlite3_bind_null(stmt->impl, index));
}

static enum err lite_step(struct sql_stmt *stmt, bool *row)
{
    int rc = sqlite3_step(stmt->impl);

    if (rc == SQLITE_ROW) {
        *row = true;
        return ERR_OK;
    }
    if (rc == SQLITE_DONE) {
        if (!sqlite3_stmt_readonly(stmt->impl))
            stmt->conn->changes = sqlite3_changes64(stmt->conn->impl);
        return ERR_OK;
    }
    return lite_map(stmt->conn, rc);
}

static int lite_column_count(const struct sql_stmt *stmt)
{
    return sqlite3_data_count(stmt->impl);
}

static bool lite_column_is_null(const struct sql_stmt *stmt, int column)
{
    return sqlite3_column_type(stmt->impl, column) == SQLITE_NULL;
}

static const char *lite_column_text(const struct sql_stmt *stmt, int column, size_t *len)
{
    const unsigned char *text = sqlite3_column_text(stmt->impl, column);
    int bytes = sqlite3_column_bytes(stmt->impl, column);

    if (len)
        *len = text ? (size_t)bytes : 0;
    return text ? (const char *)text : "";
}

static int64_t lite_column_int64(const struct sql_stmt *stmt, int column)
{
    return sqlite3_column_int64(stmt->impl, column);
}

static double lite_column_double(const struct sql_stmt *stmt, int column)
{
    return sqlite3_column_double(stmt->impl, column);
}

static void lite_reset(struct sql_stmt *stmt)
{
    sqlite3_reset(stmt->impl);
    sqlite3_clear_bindings(stmt->impl);
}

static enum err lite_exec(struct sql_conn *conn, const char *script)
{
    enum err rc = lite_map(conn, sqlite3_exec(conn->impl, script, NULL, NULL, NULL));

    if (rc == ERR_OK)
        conn->changes = sqlite3_changes64(conn->impl);
    return rc;
}

static enum err lite_rollback(struct sql_conn *conn)
{
    if (sqlite3_get_autocommit(conn->impl))
        return ERR_OK;
    return lite_exec(conn, "ROLLBACK");
}

static void lite_closing(struct sql_conn *conn)
{
    (void)conn;
}

const struct sql_driver sql_driver_sqlite = {
    .connect = lite_connect,
    .close = lite_close,
    .prepare = lite_prepare,
    .stmt_free = lite_stmt_free,
    .bind_int64 = lite_bind_int64,
    .bind_double = lite_bind_double,
    .bind_text = lite_bind_text,
    .bind_null = lite_bind_null,
    .step = lite_step,
    .column_count = lite_column_count,
    .column_is_null = lite_column_is_null,
    .column_text = lite_column_text,
    .column_int64 = lite_column_int64,
    .column_double = lite_column_double,
    .reset = lite_reset,
    .exec = lite_exec,
    .rollback = lite_rollback,
    .closing = lite_closing,
    .begin_sql = "BEGIN IMMEDIATE",
};
