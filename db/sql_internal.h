/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the statement layer's files only (db/sql*.c): the connection and
 * statement as the common code keeps them, and what a driver provides. */
#ifndef DB_SQL_INTERNAL_H
#define DB_SQL_INTERNAL_H

#include "sql.h"

/* Statements a connection keeps prepared, keyed by text. */
#define SQL_KEPT_MAX 64

struct sql_driver;

struct sql_stmt {
    struct sql_conn *conn;
    char *text; /* the caller's text, the key of a kept statement */
    bool kept;  /* in conn->kept, reset rather than freed by sql_finalize */
    bool in_use;
    void *impl; /* the driver's */
};

struct sql_conn {
    enum sql_backend backend;
    const struct sql_driver *driver;
    void *impl; /* the driver's */
    struct sql_stmt *kept[SQL_KEPT_MAX];
    size_t n_kept;
    size_t next_evict;
    int64_t changes; /* set by the driver after each INSERT, UPDATE or DELETE */
    char last_error[256];
};

/* What a driver does; the common code (db/sql.c) owns the statement cache and
 * the struct sql_stmt around each driver statement. Every function returning
 * enum err leaves the engine's message in conn->last_error on failure. */
struct sql_driver {
    enum err (*connect)(struct sql_conn *conn, const char *target, char *why, size_t why_len);
    void (*close)(struct sql_conn *conn);
    enum err (*prepare)(struct sql_stmt *stmt);
    void (*stmt_free)(struct sql_stmt *stmt);
    enum err (*bind_int64)(struct sql_stmt *stmt, int index, int64_t value);
    enum err (*bind_double)(struct sql_stmt *stmt, int index, double value);
    enum err (*bind_text)(struct sql_stmt *stmt, int index, const char *text, size_t len);
    enum err (*bind_null)(struct sql_stmt *stmt, int index);
    enum err (*step)(struct sql_stmt *stmt, bool *row);
    int (*column_count)(const struct sql_stmt *stmt);
    bool (*column_is_null)(const struct sql_stmt *stmt, int column);
    const char *(*column_text)(const struct sql_stmt *stmt, int column, size_t *len);
    int64_t (*column_int64)(const struct sql_stmt *stmt, int column);
    double (*column_double)(const struct sql_stmt *stmt, int column);
    void (*reset)(struct sql_stmt *stmt);
    enum err (*exec)(struct sql_conn *conn, const char *script);
    /* ROLLBACK; ERR_OK when no transaction is open. */
    enum err (*rollback)(struct sql_conn *conn);
    /* Told before sql_close frees the statements: nothing to tidy on the server. */
    void (*closing)(struct sql_conn *conn);
    /* BEGIN in the engine's words for a write transaction. */
    const char *begin_sql;
};

extern const struct sql_driver sql_driver_sqlite;
extern const struct sql_driver sql_driver_pg;

/* Sets conn->last_error, printf-style. */
void sql_set_error(struct sql_conn *conn, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
