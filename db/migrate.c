/* SPDX-License-Identifier: Apache-2.0 */
/* The migrations runner: applies the numbered SQL files embedded at build time,
 * each in one BEGIN IMMEDIATE transaction that also sets user_version. */
#include "db_internal.h"
#include "embedded.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct embedded_file db_migrations[];
extern const size_t db_migrations_count;

/* "migrations/0003_reference_data.sql" -> 3; 0 when the name has no number. */
static int migration_number(const char *path)
{
    const char *base = strrchr(path, '/');

    base = base ? base + 1 : path;
    return atoi(base);
}

int db_schema_latest(void)
{
    int latest = 0;

    for (size_t i = 0; i < db_migrations_count; i++) {
        int n = migration_number(db_migrations[i].path);
        if (n > latest)
            latest = n;
    }
    return latest;
}

/* Migrations that rebuild a table others reference (create, copy, drop, rename)
 * run with foreign keys off, or the drop would cascade into every child table. */
static bool rebuilds_referenced_table(int number)
{
    return number == 8; /* 0008_namespace_optional.sql rebuilds models */
}

/* ERR_OK when no row breaks a foreign key; ERR_DB (logged) otherwise. */
static enum err foreign_keys_hold(struct db *db, int number)
{
    sqlite3_stmt *stmt = NULL;
    enum err rc = ERR_DB;
    int step;

    if (sqlite3_prepare_v2(db->handle, "PRAGMA foreign_key_check", -1, &stmt, NULL) != SQLITE_OK)
        goto out;
    step = sqlite3_step(stmt);
    if (step == SQLITE_DONE)
        rc = ERR_OK;
    else if (step == SQLITE_ROW)
        fprintf(stderr, "migration %d: table %s breaks a foreign key\n", number,
                (const char *)sqlite3_column_text(stmt, 0));
out:
    sqlite3_finalize(stmt);
    return rc;
}

static enum err apply_in_transaction(struct db *db, const struct embedded_file *file, int number)
{
    char sql[64];
    enum err rc = db_write_begin(db);

    if (rc != ERR_OK)
        return rc;
    rc = db_exec(db, (const char *)file->data);
    if (rc == ERR_OK)
        rc = db_migration_hook(db, number);
    if (rc == ERR_OK && rebuilds_referenced_table(number))
        rc = foreign_keys_hold(db, number);
    if (rc == ERR_OK) {
        snprintf(sql, sizeof sql, "PRAGMA user_version=%d", number);
        rc = db_exec(db, sql);
    }
    if (rc != ERR_OK) {
        db_write_rollback(db);
        return rc;
    }
    return db_write_commit(db);
}

static enum err apply(struct db *db, const struct embedded_file *file, int number)
{
    enum err rc, on;

    if (!rebuilds_referenced_table(number))
        return apply_in_transaction(db, file, number);
    /* The pragma is a no-op inside a transaction: it is set around it. */
    rc = db_exec(db, "PRAGMA foreign_keys=OFF");
    if (rc == ERR_OK)
        rc = apply_in_transaction(db, file, number);
    on = db_exec(db, "PRAGMA foreign_keys=ON");
    return rc != ERR_OK ? rc : on;
}

enum err db_migrate(struct db *db, int *from, int *to)
{
    return db_migrate_to(db, INT_MAX, from, to);
}

enum err db_migrate_to(struct db *db, int target, int *from, int *to)
{
    int current = 0;
    enum err rc = db_schema_version(db, &current);

    if (rc != ERR_OK)
        return rc;
    if (from)
        *from = current;
    /* The embedded table is in file-name order, which is number order. */
    for (size_t i = 0; i < db_migrations_count; i++) {
        int number = migration_number(db_migrations[i].path);
        if (number <= current)
            continue;
        if (number > target)
            break;
        rc = apply(db, &db_migrations[i], number);
        if (rc != ERR_OK)
            return rc;
        current = number;
    }
    if (to)
        *to = current;
    return ERR_OK;
}
