/* SPDX-License-Identifier: Apache-2.0 */
/* The PostgreSQL migrations runner: applies the numbered scripts embedded from
 * migrations/pg/ at build time, each in a transaction that records its version in
 * schema_version. Every transaction first takes one advisory lock, so that nodes
 * starting together apply each script once: the second waits for the first,
 * then finds the version recorded and skips it. */
#include "embedded.h"
#include "sql.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct embedded_file db_pg_migrations[];
extern const size_t db_pg_migrations_count;

/* The advisory lock's key: "ctmigrat" in ASCII, unlikely to clash with another
 * application sharing the database. */
#define MIGRATE_LOCK_KEY "7310305643785445748"

static const char lock_and_table[] = "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ");"
                                     "CREATE TABLE IF NOT EXISTS schema_version ("
                                     "version integer PRIMARY KEY, "
                                     "applied_at timestamptz NOT NULL DEFAULT now())";

static enum err current_version(struct sql_conn *conn, int *version)
{
    struct sql_stmt *stmt = NULL;
    enum err rc = sql_prepare(conn, "SELECT coalesce(max(version), 0) FROM schema_version", &stmt);
    bool row = false;

    if (rc == ERR_OK)
        rc = sql_step(stmt, &row);
    if (rc == ERR_OK && !row)
        rc = ERR_DB;
    if (rc == ERR_OK)
        *version = (int)sql_column_int64(stmt, 0);
    sql_finalize(stmt);
    return rc;
}

static enum err record_version(struct sql_conn *conn, int version)
{
    struct sql_stmt *stmt = NULL;
    enum err rc = sql_prepare(conn, "INSERT INTO schema_version (version) VALUES (?)", &stmt);
    bool row;

    if (rc == ERR_OK)
        rc = sql_bind_int64(stmt, 1, version);
    if (rc == ERR_OK)
        rc = sql_step(stmt, &row);
    sql_finalize(stmt);
    return rc;
}

/* Opens a transaction holding the lock, schema_version there, and reads the
 * version. READ COMMITTED, not the layer's serializable write transaction: its
 * statements after the lock see what the node that held it before committed. */
static enum err begin_locked(struct sql_conn *conn, int *current)
{
    enum err rc = sql_exec(conn, "BEGIN ISOLATION LEVEL READ COMMITTED");

    if (rc == ERR_OK)
        rc = sql_exec(conn, lock_and_table);
    if (rc == ERR_OK)
        rc = current_version(conn, current);
    if (rc != ERR_OK)
        sql_rollback(conn);
    return rc;
}

/* One script in its transaction, under the lock; *current is the version after. */
static enum err apply(struct sql_conn *conn, const struct sql_migration *m, int *current)
{
    enum err rc = begin_locked(conn, current);

    if (rc != ERR_OK)
        return rc;
    if (*current < m->version) {
        rc = sql_exec(conn, m->sql);
        if (rc != ERR_OK)
            fprintf(stderr, "pg migration %d: %s\n", m->version, sql_last_error(conn));
        if (rc == ERR_OK)
            rc = record_version(conn, m->version);
    }
    /* else applied by another node meanwhile: nothing to do */
    if (rc == ERR_OK)
        rc = sql_commit(conn);
    if (rc != ERR_OK) {
        sql_rollback(conn);
        return rc;
    }
    if (*current < m->version)
        *current = m->version;
    return ERR_OK;
}

enum err sql_migrate_pg_files(struct sql_conn *conn, const struct sql_migration *migrations,
                              size_t n, int *from, int *to)
{
    int current = 0;
    enum err rc;

    assert(sql_backend(conn) == SQL_PG);
    rc = begin_locked(conn, &current);
    if (rc == ERR_OK)
        rc = sql_commit(conn);
    if (rc != ERR_OK)
        return rc;
    if (from)
        *from = current;
    for (size_t i = 0; i < n; i++) {
        assert(i == 0 || migrations[i].version > migrations[i - 1].version);
        if (migrations[i].version <= current)
            continue;
        rc = apply(conn, &migrations[i], &current);
        if (rc != ERR_OK)
            return rc;
    }
    if (to)
        *to = current;
    return ERR_OK;
}

/* "migrations/pg/0003_x.sql" -> 3; 0 when the name has no number. */
static int migration_number(const char *path)
{
    const char *base = strrchr(path, '/');

    base = base ? base + 1 : path;
    return atoi(base);
}

enum err sql_migrate_pg(struct sql_conn *conn, int *from, int *to)
{
    struct sql_migration *list;
    size_t n = 0;
    enum err rc;

    list = calloc(db_pg_migrations_count ? db_pg_migrations_count : 1, sizeof *list);
    if (list == NULL)
        return ERR_NO_MEMORY;
    /* The embedded table is in file-name order, which is number order. */
    for (size_t i = 0; i < db_pg_migrations_count; i++) {
        int number = migration_number(db_pg_migrations[i].path);
        if (number <= 0)
            continue;
        list[n].version = number;
        list[n].sql = (const char *)db_pg_migrations[i].data;
        n++;
    }
    rc = sql_migrate_pg_files(conn, list, n, from, to);
    free(list);
    return rc;
}
