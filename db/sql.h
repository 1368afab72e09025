/* SPDX-License-Identifier: Apache-2.0 */
/* The SQL statement layer: one interface over two database engines, SQLite (a file
 * path) and PostgreSQL (a postgresql:// URI, through libpq), so that a query is
 * written once. SQL text uses ? (or ?NNN) placeholders, numbered from 1; where
 * the dialects differ the caller picks the text by sql_backend(). No engine type
 * appears here: results are enum err (core/err.h) and plain C values.
 *
 * A connection is used by one thread at a time (the pool gives each thread its
 * own). Nothing here is shared between connections.
 *
 * Errors map the same way on both engines: a unique or primary key violation is
 * ERR_CONFLICT; a lock, a serialization failure or a deadlock is ERR_BUSY (retry
 * the transaction); a full disk ERR_FULL; out of memory ERR_NO_MEMORY; storage or
 * the server out of reach (PostgreSQL: the connection lost, the server shutting
 * down or starting) ERR_IO, after which the next use of the connection reconnects;
 * anything else ERR_DB. sql_last_error() says what happened, for logs only. */
#ifndef DB_SQL_H
#define DB_SQL_H

#include "err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sql_backend { SQL_SQLITE, SQL_PG };

struct sql_conn;
struct sql_stmt;

/* SQL_PG for a postgresql:// or postgres:// URI, SQL_SQLITE for anything else (a
 * file path, ":memory:"). */
enum sql_backend sql_backend_for(const char *target);

/* Opens a connection to target (see sql_backend_for). On success *out is the
 * caller's, closed with sql_close. On failure *out is untouched and why (when
 * not NULL) holds one line naming the cause (the server's refusal, an unknown
 * host, a missing file), never the password. ERR_IO when the database cannot be
 * reached or opened, ERR_NO_MEMORY, ERR_DB otherwise. */
enum err sql_connect(const char *target, struct sql_conn **out, char *why, size_t why_len);

/* Finalizes every statement and closes the connection. NULL is a no-op. */
void sql_close(struct sql_conn *conn);

enum sql_backend sql_backend(const struct sql_conn *conn);

/* The engine's message of the last failure on conn, for logs only (it may name
 * tables and values; never an answer's detail). "" when none. */
const char *sql_last_error(const struct sql_conn *conn);

/* The statement for sql, kept prepared by the connection and keyed by its text:
 * the next sql_prepare of the same text reuses it. sql is one statement; the
 * caller's text is copied. End each use with sql_finalize. When the kept copy is
 * in use already (a nested call), a private statement is prepared instead. On
 * PostgreSQL the placeholders are rewritten to $n (outside literals, quoted
 * identifiers and comments), and the server parses the statement at its first
 * sql_step, with the types of the first values bound (a syntax error shows
 * there). ERR_NO_MEMORY, or the engine's error. */
enum err sql_prepare(struct sql_conn *conn, const char *sql, struct sql_stmt **out);

/* Binds a value to the placeholder numbered index (from 1). Text is copied: the
 * caller's buffer may go at once; text must be NUL-free UTF-8 of len bytes.
 * ERR_DB (logged) for an index the statement does not have, ERR_NO_MEMORY. */
enum err sql_bind_int64(struct sql_stmt *stmt, int index, int64_t value);
enum err sql_bind_double(struct sql_stmt *stmt, int index, double value);
enum err sql_bind_text(struct sql_stmt *stmt, int index, const char *text, size_t len);
enum err sql_bind_null(struct sql_stmt *stmt, int index);

/* Runs the statement on its first call, then moves to the next row: *row is true
 * when a row is there to read, false when the statement is done. On failure *row
 * is false. (PostgreSQL: the whole result is fetched on the first call.) */
enum err sql_step(struct sql_stmt *stmt, bool *row);

/* The current row's columns, from 0. NULL reads as 0, 0.0 and "". A PostgreSQL
 * boolean reads as 1 or 0. Text lives until the next step, reset or finalize; len
 * (when not NULL) is its length in bytes. */
int sql_column_count(const struct sql_stmt *stmt);
bool sql_column_is_null(const struct sql_stmt *stmt, int column);
int64_t sql_column_int64(const struct sql_stmt *stmt, int column);
double sql_column_double(const struct sql_stmt *stmt, int column);
const char *sql_column_text(const struct sql_stmt *stmt, int column, size_t *len);

/* Rows the last INSERT, UPDATE or DELETE run on conn changed. */
int64_t sql_changes(const struct sql_conn *conn);

/* Makes the statement ready to run again and clears its bindings. */
void sql_reset(struct sql_stmt *stmt);

/* Ends a use of a statement from sql_prepare: a kept one is reset for the next
 * use, a private one freed. NULL is a no-op. */
void sql_finalize(struct sql_stmt *stmt);

/* Runs a script of statements without placeholders or results (a migration). */
enum err sql_exec(struct sql_conn *conn, const char *script);

/* Transactions. sql_begin starts a write transaction: SQLite's BEGIN IMMEDIATE,
 * PostgreSQL's SERIALIZABLE isolation (the guarantee SQLite gives), whose
 * conflicts are ERR_BUSY. A savepoint name is an SQL identifier of letters,
 * digits and underscores. sql_rollback is ERR_OK when no transaction is open
 * (none was begun, or it died with a lost connection). A connection lost inside
 * a transaction answers ERR_IO to every use until sql_rollback: what follows
 * the loss never runs outside the transaction it belonged to. */
enum err sql_begin(struct sql_conn *conn);
enum err sql_commit(struct sql_conn *conn);
enum err sql_rollback(struct sql_conn *conn);
enum err sql_savepoint(struct sql_conn *conn, const char *name);
enum err sql_release(struct sql_conn *conn, const char *name);
enum err sql_rollback_to(struct sql_conn *conn, const char *name);

/* Maps a SQLite result code (extended or primary) to enum err: the one mapping
 * db/db.c and this layer share. SQLITE_OK, SQLITE_ROW and SQLITE_DONE are ERR_OK. */
enum err sql_map_sqlite(int sqlite_rc);

/* Maps a PostgreSQL SQLSTATE (five characters; NULL or "" when the server sent
 * none) to enum err. */
enum err sql_map_sqlstate(const char *sqlstate);

/* Rewrites ? and ?NNN placeholders to PostgreSQL's $n, leaving string literals
 * ('', E'', $tag$ $tag$), quoted identifiers and comments alone. *n_params is the
 * highest number used. Returns a string the caller frees, or NULL for want of
 * memory or for a placeholder number over 32767. */
char *sql_rewrite_placeholders(const char *sql, int *n_params);

/* One numbered migration script for sql_migrate_pg_files. */
struct sql_migration {
    int version;
    const char *sql;
};

/* Brings a PostgreSQL database to the newest of the scripts embedded from
 * migrations/pg/ (sql_migrate_pg) or of migrations[0..n) in increasing version
 * order (sql_migrate_pg_files). Each script runs in its own transaction, which
 * records its version in schema_version; an advisory lock makes nodes starting at
 * once apply each script once. from and to (when not NULL) get the version found
 * and the version reached. ERR_DB when a script fails: its transaction is rolled
 * back and the versions before it stay. */
enum err sql_migrate_pg(struct sql_conn *conn, int *from, int *to);
enum err sql_migrate_pg_files(struct sql_conn *conn, const struct sql_migration *migrations,
                              size_t n, int *from, int *to);

#endif
