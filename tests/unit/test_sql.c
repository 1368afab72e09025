/* SPDX-License-Identifier: Apache-2.0 */
/* The statement layer (db/sql.h) on both engines: the same cases on a SQLite file
 * and on a PostgreSQL server (the URI in CARBONTREE_TEST_PG_URI, a cluster of
 * scripts/pg-cluster.sh; its folder in CARBONTREE_TEST_PG_DIR for the restart).
 * Without a URI the PostgreSQL cases are skipped, with the reason printed, except
 * under CI, where that is a failure. The PostgreSQL cases run in databases of
 * their own, made afresh, so that other suites on the cluster are not touched. */
#include "sql.h"

#include <check.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_DB     "carbontree_sqltest"
#define MIGRATE_DB  "carbontree_sqltest_migrate"
#define EMBEDDED_DB "carbontree_sqltest_embedded"
#define N_BACKENDS  2
#define MIGRATORS   3

static char pg_admin_uri[1024]; /* the URI given */
static char pg_uri[1024];       /* the same server, TEST_DB */
static char sqlite_dir[64];
static char sqlite_path[128];

/* The URI of database dbname on the server of uri (its path replaced). */
static void uri_with_db(const char *uri, const char *dbname, char *out, size_t out_len)
{
    const char *auth = strstr(uri, "://");
    const char *path, *query;

    if (auth == NULL)
        auth = uri;
    path = strchr(auth + 3, '/');
    query = strchr(auth + 3, '?');
    if (path == NULL || (query && path > query))
        path = query ? query : uri + strlen(uri);
    if (query == NULL || query < path)
        query = path + strcspn(path, "?");
    snprintf(out, out_len, "%.*s/%s%s", (int)(path - uri), uri, dbname, query);
}

static const char *target(int backend)
{
    return backend == 0 ? sqlite_path : pg_uri;
}

static struct sql_conn *open_conn(int backend)
{
    struct sql_conn *conn = NULL;
    char why[256];
    enum err rc = sql_connect(target(backend), &conn, why, sizeof why);

    ck_assert_msg(rc == ERR_OK, "connect: %s (%s)", why, err_name(rc));
    ck_assert_int_eq(sql_backend(conn), backend == 0 ? SQL_SQLITE : SQL_PG);
    return conn;
}

static void exec_ok(struct sql_conn *conn, const char *sql)
{
    enum err rc = sql_exec(conn, sql);
    ck_assert_msg(rc == ERR_OK, "%s: %s (%s)", sql, sql_last_error(conn), err_name(rc));
}

/* Runs sql with no value bound and returns the first column of its one row. */
static int64_t scalar(struct sql_conn *conn, const char *sql)
{
    struct sql_stmt *stmt = NULL;
    bool row = false;
    int64_t v;

    ck_assert_msg(sql_prepare(conn, sql, &stmt) == ERR_OK, "%s", sql_last_error(conn));
    ck_assert_msg(sql_step(stmt, &row) == ERR_OK, "%s: %s", sql, sql_last_error(conn));
    ck_assert(row);
    v = sql_column_int64(stmt, 0);
    sql_finalize(stmt);
    return v;
}

static void admin_exec(const char *uri, const char *sql)
{
    struct sql_conn *conn = NULL;
    char why[256];

    ck_assert_msg(sql_connect(uri, &conn, why, sizeof why) == ERR_OK, "%s", why);
    exec_ok(conn, sql);
    sql_close(conn);
}

/* A database of the server's made afresh; its URI in out. */
static void fresh_database(const char *dbname, char *out, size_t out_len)
{
    char sql[160];

    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", dbname);
    admin_exec(pg_admin_uri, sql);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", dbname);
    admin_exec(pg_admin_uri, sql);
    uri_with_db(pg_admin_uri, dbname, out, out_len);
}

static const char schema[] = "DROP TABLE IF EXISTS sqlt_values;"
                             "DROP TABLE IF EXISTS sqlt_keys;"
                             "CREATE TABLE sqlt_values (id BIGINT PRIMARY KEY, i BIGINT, "
                             "d DOUBLE PRECISION, t TEXT);"
                             "CREATE TABLE sqlt_keys (k TEXT PRIMARY KEY, v BIGINT NOT NULL)";

/* A connection to an engine whose test tables are there and empty. */
static struct sql_conn *fresh_conn(int backend)
{
    struct sql_conn *conn = open_conn(backend);

    exec_ok(conn, schema);
    return conn;
}

static void setup(void)
{
    snprintf(sqlite_dir, sizeof sqlite_dir, "/tmp/carbontree-sql-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(sqlite_dir));
    snprintf(sqlite_path, sizeof sqlite_path, "%s/test.db", sqlite_dir);
}

static void teardown(void)
{
    char cmd[160];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", sqlite_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", sqlite_dir);
}

/* ---- engine-free parts ---- */

static void rewrites_to(const char *in, const char *want, int want_n)
{
    int n = -1;
    char *out = sql_rewrite_placeholders(in, &n);

    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(out, want);
    ck_assert_int_eq(n, want_n);
    free(out);
}

START_TEST(placeholders_rewrite_outside_literals_and_comments)
{
    rewrites_to("SELECT ?, ?", "SELECT $1, $2", 2);
    rewrites_to("SELECT 1", "SELECT 1", 0);
    rewrites_to("SELECT '?', ? -- ?\n, ?", "SELECT '?', $1 -- ?\n, $2", 2);
    rewrites_to("SELECT 'it''s ?', \"a?\"\"?\", ?", "SELECT 'it''s ?', \"a?\"\"?\", $1", 1);
    rewrites_to("/* ? /* ? */ ? */ ?", "/* ? /* ? */ ? */ $1", 1);
    rewrites_to("SELECT E'\\' ?', ?", "SELECT E'\\' ?', $1", 1);
    rewrites_to("SELECT '\\', ?", "SELECT '\\', $1", 1); /* a standard string: \ is plain */
    rewrites_to("SELECT $$ ? $$, $t$ '?' $t$, ?", "SELECT $$ ? $$, $t$ '?' $t$, $1", 1);
    /* SQLite's numbering: ?NNN as given, a bare ? one past the highest so far. */
    rewrites_to("VALUES (?1, ?3, ?, ?2)", "VALUES ($1, $3, $4, $2)", 4);
    rewrites_to("x = ?12", "x = $12", 12);
    /* An unterminated literal or comment is left to the server to refuse. */
    rewrites_to("SELECT '?", "SELECT '?", 0);
    rewrites_to("SELECT ? -- ?", "SELECT $1 -- ?", 1);
    ck_assert_ptr_null(sql_rewrite_placeholders("SELECT ?40000", &(int){0}));
    ck_assert_ptr_null(sql_rewrite_placeholders("SELECT ?0", &(int){0}));
}
END_TEST

START_TEST(backend_is_chosen_by_the_target)
{
    ck_assert_int_eq(sql_backend_for("postgresql://u@h/db"), SQL_PG);
    ck_assert_int_eq(sql_backend_for("postgres://h/db"), SQL_PG);
    ck_assert_int_eq(sql_backend_for("/var/lib/carbontree.db"), SQL_SQLITE);
    ck_assert_int_eq(sql_backend_for("postgresql.db"), SQL_SQLITE);
    ck_assert_int_eq(sql_backend_for(":memory:"), SQL_SQLITE);
}
END_TEST

START_TEST(errors_map_alike_on_both_engines)
{
    ck_assert_int_eq(sql_map_sqlite(0), ERR_OK);
    ck_assert_int_eq(sql_map_sqlite(101), ERR_OK);             /* SQLITE_DONE */
    ck_assert_int_eq(sql_map_sqlite(5), ERR_BUSY);             /* SQLITE_BUSY */
    ck_assert_int_eq(sql_map_sqlite(6), ERR_BUSY);             /* SQLITE_LOCKED */
    ck_assert_int_eq(sql_map_sqlite(13), ERR_FULL);            /* SQLITE_FULL */
    ck_assert_int_eq(sql_map_sqlite(7), ERR_NO_MEMORY);        /* SQLITE_NOMEM */
    ck_assert_int_eq(sql_map_sqlite(10), ERR_IO);              /* SQLITE_IOERR */
    ck_assert_int_eq(sql_map_sqlite(2067), ERR_CONFLICT);      /* SQLITE_CONSTRAINT_UNIQUE */
    ck_assert_int_eq(sql_map_sqlite(1555), ERR_CONFLICT);      /* ..._PRIMARYKEY */
    ck_assert_int_eq(sql_map_sqlite(787), ERR_DB);             /* ..._FOREIGNKEY */
    ck_assert_int_eq(sql_map_sqlite(1), ERR_DB);               /* SQLITE_ERROR */
    ck_assert_int_eq(sql_map_sqlstate("23505"), ERR_CONFLICT); /* unique_violation */
    ck_assert_int_eq(sql_map_sqlstate("23503"), ERR_DB);       /* foreign_key_violation */
    ck_assert_int_eq(sql_map_sqlstate("40001"), ERR_BUSY);
    ck_assert_int_eq(sql_map_sqlstate("40P01"), ERR_BUSY);
    ck_assert_int_eq(sql_map_sqlstate("55P03"), ERR_BUSY);
    ck_assert_int_eq(sql_map_sqlstate("53100"), ERR_FULL);
    ck_assert_int_eq(sql_map_sqlstate("53200"), ERR_NO_MEMORY);
    ck_assert_int_eq(sql_map_sqlstate("08006"), ERR_IO);
    ck_assert_int_eq(sql_map_sqlstate("08001"), ERR_IO);
    ck_assert_int_eq(sql_map_sqlstate("57P01"), ERR_IO);
    ck_assert_int_eq(sql_map_sqlstate("57P03"), ERR_IO);
    ck_assert_int_eq(sql_map_sqlstate("57014"), ERR_DB); /* query_canceled */
    ck_assert_int_eq(sql_map_sqlstate("42601"), ERR_DB);
    ck_assert_int_eq(sql_map_sqlstate(NULL), ERR_DB);
    ck_assert_int_eq(sql_map_sqlstate(""), ERR_DB);
}
END_TEST

/* ---- the same cases on both engines (_i: 0 SQLite, 1 PostgreSQL) ---- */

static bool skip_pg(int backend)
{
    return backend == 1 && pg_uri[0] == '\0';
}

static void insert_row(struct sql_conn *conn, int64_t id, int64_t i, double d, const char *t)
{
    struct sql_stmt *stmt = NULL;
    bool row;

    ck_assert_int_eq(
        sql_prepare(conn, "INSERT INTO sqlt_values (id, i, d, t) VALUES (?, ?, ?, ?)", &stmt),
        ERR_OK);
    ck_assert_int_eq(sql_bind_int64(stmt, 1, id), ERR_OK);
    ck_assert_int_eq(sql_bind_int64(stmt, 2, i), ERR_OK);
    ck_assert_int_eq(sql_bind_double(stmt, 3, d), ERR_OK);
    if (t)
        ck_assert_int_eq(sql_bind_text(stmt, 4, t, strlen(t)), ERR_OK);
    else
        ck_assert_int_eq(sql_bind_null(stmt, 4), ERR_OK);
    ck_assert_msg(sql_step(stmt, &row) == ERR_OK, "insert: %s", sql_last_error(conn));
    ck_assert(!row);
    ck_assert_int_eq(sql_changes(conn), 1);
    sql_finalize(stmt);
}

START_TEST(placeholders_in_literals_reach_the_engine_untouched)
{
    struct sql_conn *conn;
    struct sql_stmt *stmt = NULL;
    bool row;

    if (skip_pg(_i))
        return;
    conn = fresh_conn(_i);
    ck_assert_int_eq(sql_prepare(conn,
                                 "SELECT '?' || 'it''s', ? /* ? */, \"k\" -- ?\n"
                                 "FROM (SELECT 1 AS \"k\") AS \"q?\"",
                                 &stmt),
                     ERR_OK);
    ck_assert_int_eq(sql_bind_int64(stmt, 1, 42), ERR_OK);
    ck_assert_msg(sql_step(stmt, &row) == ERR_OK, "%s", sql_last_error(conn));
    ck_assert(row);
    ck_assert_int_eq(sql_column_count(stmt), 3);
    ck_assert_str_eq(sql_column_text(stmt, 0, NULL), "?it's");
    ck_assert_int_eq(sql_column_int64(stmt, 1), 42);
    ck_assert_int_eq(sql_column_int64(stmt, 2), 1);
    ck_assert_int_eq(sql_step(stmt, &row), ERR_OK);
    ck_assert(!row);
    /* A number bound where the statement has none is refused, not ignored. */
    sql_reset(stmt);
    ck_assert_int_eq(sql_bind_int64(stmt, 2, 1), ERR_DB);
    ck_assert_int_eq(sql_bind_int64(stmt, 0, 1), ERR_DB);
    sql_finalize(stmt);
    sql_close(conn);
}
END_TEST

START_TEST(int64_extremes_round_trip)
{
    static const int64_t values[] = {INT64_MIN, INT64_MIN + 1,   -1,       0,
                                     1,         INT32_MAX + 1LL, INT64_MAX};
    struct sql_conn *conn;
    struct sql_stmt *stmt = NULL;
    bool row;

    if (skip_pg(_i))
        return;
    conn = fresh_conn(_i);
    for (size_t k = 0; k < sizeof values / sizeof values[0]; k++)
        insert_row(conn, (int64_t)k, values[k], 0.0, "x");
    ck_assert_int_eq(sql_prepare(conn, "SELECT i, ? FROM sqlt_values WHERE id = ?", &stmt), ERR_OK);
    for (size_t k = 0; k < sizeof values / sizeof values[0]; k++) {
        ck_assert_int_eq(sql_bind_int64(stmt, 1, values[k]), ERR_OK);
        ck_assert_int_eq(sql_bind_int64(stmt, 2, (int64_t)k), ERR_OK);
        ck_assert_msg(sql_step(stmt, &row) == ERR_OK, "%s", sql_last_error(conn));
        ck_assert(row);
        ck_assert_int_eq(sql_column_int64(stmt, 0), values[k]);
        ck_assert_int_eq(sql_column_int64(stmt, 1), values[k]); /* a bound value, echoed */
        sql_reset(stmt);
    }
    sql_finalize(stmt);
    sql_close(conn);
}
END_TEST

START_TEST(doubles_round_trip_exactly)
{
    static const double values[] = {0.1,     1.0 / 3.0, -2.5e-300, DBL_MAX,
                                    DBL_MIN, 5e-324,    1e22,      123456789.123456789,
                                    -0.0001, INFINITY,  -INFINITY};
    struct sql_conn *conn;
    struct sql_stmt *stmt = NULL;
    bool row;

    if (skip_pg(_i))
        return;
    conn = fresh_conn(_i);
    for (size_t k = 0; k < sizeof values / sizeof values[0]; k++)
        insert_row(conn, (int64_t)k, 0, values[k], NULL);
    ck_assert_int_eq(sql_prepare(conn, "SELECT d FROM sqlt_values WHERE id = ?", &stmt), ERR_OK);
    for (size_t k = 0; k < sizeof values / sizeof values[0]; k++) {
        double got;
        ck_assert_int_eq(sql_bind_int64(stmt, 1, (int64_t)k), ERR_OK);
        ck_assert_msg(sql_step(stmt, &row) == ERR_OK, "%s", sql_last_error(conn));
        ck_assert(row);
        got = sql_column_double(stmt, 0);
        ck_assert_msg(memcmp(&got, &values[k], sizeof got) == 0, "%.17g read back as %.17g",
                      values[k], got);
        sql_reset(stmt);
    }
    sql_finalize(stmt);
    sql_close(conn);
}
END_TEST

START_TEST(nulls_read_as_null)
{
    struct sql_conn *conn;
    struct sql_stmt *stmt = NULL;
    size_t len = 99;
    bool row;

    if (skip_pg(_i))
        return;
    conn = fresh_conn(_i);
    ck_assert_int_eq(
        sql_prepare(conn, "INSERT INTO sqlt_values (id, i, d, t) VALUES (?, ?, ?, ?)", &stmt),
        ERR_OK);
    ck_assert_int_eq(sql_bind_int64(stmt, 1, 1), ERR_OK);
    ck_assert_int_eq(sql_bind_null(stmt, 2), ERR_OK);
    ck_assert_int_eq(sql_bind_null(stmt, 3), ERR_OK);
    ck_assert_int_eq(sql_bind_null(stmt, 4), ERR_OK);
    ck_assert_msg(sql_step(stmt, &row) == ERR_OK, "%s", sql_last_error(conn));
    sql_finalize(stmt);
    ck_assert_int_eq(sql_prepare(conn, "SELECT i, d, t, id FROM sqlt_values", &stmt), ERR_OK);
    ck_assert_int_eq(sql_step(stmt, &row), ERR_OK);
    ck_assert(row);
    for (int c = 0; c < 3; c++)
        ck_assert(sql_column_is_null(stmt, c));
    ck_assert(!sql_column_is_null(stmt, 3));
    ck_assert_int_eq(sql_column_int64(stmt, 0), 0);
    ck_assert_double_eq(sql_column_double(stmt, 1), 0.0);
    ck_assert_str_eq(sql_column_text(stmt, 2, &len), "");
    ck_assert_uint_eq(len, 0);
    sql_finalize(stmt);
    sql_close(conn);
}
END_TEST

START_TEST(utf8_text_round_trips)
{
    /* h, e acute, llo, an en dash, two CJK characters, a globe emoji. */
    static const char utf8[] = "h\xc3\xa9llo \xe2\x80\x93 \xe6\x97\xa5\xe6\x9c\xac "
                               "\xf0\x9f\x8c\x8d";
    static const char *texts[] = {utf8, "it's a \"?\" -- not /* a */ comment $1 $$", "", "\\n\\0"};
    struct sql_conn *conn;
    struct sql_stmt *stmt = NULL;
    bool row;

    if (skip_pg(_i))
        return;
    conn = fresh_conn(_i);
    for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
        char copy[128];
        /* The layer copies: the caller's buffer is scribbled over before the step. */
        snprintf(copy, sizeof copy, "%s", texts[k]);
        ck_assert_int_eq(sql_prepare(conn, "INSERT INTO sqlt_values (id, t) VALUES (?, ?)", &stmt),
                         ERR_OK);
        ck_assert_int_eq(sql_bind_int64(stmt, 1, (int64_t)k), ERR_OK);
        ck_assert_int_eq(sql_bind_text(stmt, 2, copy, strlen(copy)), ERR_OK);
        memset(copy, 'X', sizeof copy - 1);
        ck_assert_msg(sql_step(stmt, &row) == ERR_OK, "%s", sql_last_error(conn));
        sql_finalize(stmt);
    }
    ck_assert_int_eq(sql_prepare(conn, "SELECT t FROM sqlt_values ORDER BY id", &stmt), ERR_OK);
    for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
        size_t len = 0;
        ck_assert_int_eq(sql_step(stmt, &row), ERR_OK);
        ck_assert(row);
        ck_assert_str_eq(sql_column_text(stmt, 0, &len), texts[k]);
        ck_assert_uint_eq(len, strlen(texts[k]));
    }
    ck_assert_int_eq(sql_step(stmt, &row), ERR_OK);
    ck_assert(!row);
    sql_finalize(stmt);
    sql_close(conn);
}
END_TEST

static enum err insert_key(struct sql_conn *conn, const char *k, int64_t v)
{
    struct sql_stmt *stmt = NULL;
    bool row;
    enum err rc = sql_prepare(conn, "INSERT INTO sqlt_keys (k, v) VALUES (?, ?)", &stmt);

    if (rc == ERR_OK)
        rc = sql_bind_text(stmt, 1, k, strlen(k));
    if (rc == ERR_OK)
        rc = sql_bind_int64(stmt, 2, v);
    if (rc == ERR_OK)
        rc = sql_step(stmt, &row);
    sql_finalize(stmt);
    return rc;
}

START_TEST(unique_violation_is_a_conflict)
{
    struct sql_conn *conn;

    if (skip_pg(_i))
        return;
    conn = fresh_conn(_i);
    ck_assert_int_eq(insert_key(conn, "a", 1), ERR_OK);
    ck_assert_int_eq(insert_key(conn, "a", 2), ERR_CONFLICT);
    ck_assert_str_ne(sql_last_error(conn), "");
    /* A NOT NULL violation is no conflict. */
    exec_ok(conn, "DROP TABLE IF EXISTS sqlt_nn");
    exec_ok(conn, "CREATE TABLE sqlt_nn (v BIGINT NOT NULL)");
    ck_assert_int_eq(sql_exec(conn, "INSERT INTO sqlt_nn (v) VALUES (NULL)"), ERR_DB);
    ck_assert_int_eq(scalar(conn, "SELECT v FROM sqlt_keys WHERE k = 'a'"), 1);
    sql_close(conn);
}
END_TEST

START_TEST(concurrent_writers_are_busy)
{
    struct sql_conn *a, *b;
    enum err rc;

    if (skip_pg(_i))
        return;
    a = fresh_conn(_i);
    b = open_conn(_i);
    if (_i == 0) {
        /* SQLite has one writer: the second BEGIN IMMEDIATE finds the lock taken. */
        ck_assert_int_eq(sql_begin(a), ERR_OK);
        ck_assert_int_eq(sql_begin(b), ERR_BUSY);
        ck_assert_int_eq(insert_key(a, "a", 1), ERR_OK);
        ck_assert_int_eq(sql_commit(a), ERR_OK);
    } else {
        /* Write skew: each reads the total, then adds a row computed from it. One
         * serializable transaction must fail: 40001, at its write or its commit. */
        ck_assert_int_eq(sql_begin(a), ERR_OK);
        ck_assert_int_eq(sql_begin(b), ERR_OK);
        ck_assert_int_eq(scalar(a, "SELECT count(*) FROM sqlt_keys"), 0);
        ck_assert_int_eq(scalar(b, "SELECT count(*) FROM sqlt_keys"), 0);
        ck_assert_int_eq(insert_key(a, "a", 1), ERR_OK);
        ck_assert_int_eq(insert_key(b, "b", 1), ERR_OK);
        ck_assert_int_eq(sql_commit(a), ERR_OK);
        rc = sql_commit(b);
        ck_assert_msg(rc == ERR_BUSY, "%s (%s)", sql_last_error(b), err_name(rc));
    }
    ck_assert_int_eq(sql_rollback(b), ERR_OK);
    ck_assert_int_eq(scalar(b, "SELECT count(*) FROM sqlt_keys"), 1);
    sql_close(a);
    sql_close(b);
}
END_TEST

START_TEST(rollback_leaves_nothing)
{
    struct sql_conn *conn;

    if (skip_pg(_i))
        return;
    conn = fresh_conn(_i);
    ck_assert_int_eq(sql_begin(conn), ERR_OK);
    ck_assert_int_eq(insert_key(conn, "a", 1), ERR_OK);
    ck_assert_int_eq(insert_key(conn, "b", 2), ERR_OK);
    ck_assert_int_eq(scalar(conn, "SELECT count(*) FROM sqlt_keys"), 2);
    ck_assert_int_eq(sql_rollback(conn), ERR_OK);
    ck_assert_int_eq(scalar(conn, "SELECT count(*) FROM sqlt_keys"), 0);
    /* A rollback with no transaction open is harmless. */
    ck_assert_int_eq(sql_rollback(conn), ERR_OK);
    /* A transaction that met an error: PostgreSQL refuses its COMMIT, SQLite
     * commits what succeeded. The layer's users roll back on any error. */
    ck_assert_int_eq(sql_begin(conn), ERR_OK);
    ck_assert_int_eq(insert_key(conn, "a", 1), ERR_OK);
    ck_assert_int_eq(insert_key(conn, "a", 1), ERR_CONFLICT);
    ck_assert_int_eq(sql_commit(conn), _i == 0 ? ERR_OK : ERR_DB);
    ck_assert_int_eq(scalar(conn, "SELECT count(*) FROM sqlt_keys"), _i == 0 ? 1 : 0);
    sql_close(conn);
}
END_TEST

START_TEST(savepoint_undoes_its_part_only)
{
    struct sql_conn *conn;

    if (skip_pg(_i))
        return;
    conn = fresh_conn(_i);
    ck_assert_int_eq(sql_begin(conn), ERR_OK);
    ck_assert_int_eq(insert_key(conn, "kept", 1), ERR_OK);
    ck_assert_int_eq(sql_savepoint(conn, "sp_one"), ERR_OK);
    ck_assert_int_eq(insert_key(conn, "undone", 2), ERR_OK);
    /* An error inside the savepoint: undoing it leaves the transaction usable
     * on both engines. */
    ck_assert_int_eq(insert_key(conn, "undone", 3), ERR_CONFLICT);
    ck_assert_int_eq(sql_rollback_to(conn, "sp_one"), ERR_OK);
    ck_assert_int_eq(sql_release(conn, "sp_one"), ERR_OK);
    ck_assert_int_eq(insert_key(conn, "after", 4), ERR_OK);
    ck_assert_int_eq(sql_commit(conn), ERR_OK);
    ck_assert_int_eq(scalar(conn, "SELECT count(*) FROM sqlt_keys"), 2);
    ck_assert_int_eq(scalar(conn, "SELECT sum(v) FROM sqlt_keys"), 5);
    sql_close(conn);
}
END_TEST

START_TEST(statements_are_kept_by_text)
{
    static const char text[] = "SELECT ? + 1";
    struct sql_conn *conn;
    struct sql_stmt *first = NULL, *again = NULL, *nested = NULL;
    char copy[sizeof text];
    bool row;

    if (skip_pg(_i))
        return;
    conn = fresh_conn(_i);
    ck_assert_int_eq(sql_prepare(conn, text, &first), ERR_OK);
    ck_assert_int_eq(sql_bind_int64(first, 1, 1), ERR_OK);
    ck_assert_int_eq(sql_step(first, &row), ERR_OK);
    ck_assert_int_eq(sql_column_int64(first, 0), 2);
    sql_finalize(first);
    /* The same text at another address is the same statement, bindings cleared. */
    memcpy(copy, text, sizeof text);
    ck_assert_int_eq(sql_prepare(conn, copy, &again), ERR_OK);
    ck_assert_ptr_eq(again, first);
    ck_assert_int_eq(sql_bind_int64(again, 1, 41), ERR_OK);
    /* While it is in use, the same text is a statement of its own. */
    ck_assert_int_eq(sql_prepare(conn, text, &nested), ERR_OK);
    ck_assert_ptr_ne(nested, again);
    ck_assert_int_eq(sql_bind_int64(nested, 1, 99), ERR_OK);
    ck_assert_int_eq(sql_step(again, &row), ERR_OK);
    ck_assert_int_eq(sql_step(nested, &row), ERR_OK);
    ck_assert_int_eq(sql_column_int64(again, 0), 42);
    ck_assert_int_eq(sql_column_int64(nested, 0), 100);
    sql_finalize(nested);
    sql_finalize(again);
    /* More texts than the cache holds: the oldest go, everything still runs. */
    for (int k = 0; k < 100; k++) {
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT %d + ?", k);
        ck_assert_int_eq(sql_prepare(conn, sql, &first), ERR_OK);
        ck_assert_int_eq(sql_bind_int64(first, 1, 1), ERR_OK);
        ck_assert_msg(sql_step(first, &row) == ERR_OK, "%s", sql_last_error(conn));
        ck_assert_int_eq(sql_column_int64(first, 0), k + 1);
        sql_finalize(first);
    }
    sql_close(conn);
}
END_TEST

START_TEST(prepared_statements_survive_errors_and_rollbacks)
{
    static const char count[] = "SELECT count(*) FROM sqlt_keys WHERE v >= ?";
    struct sql_conn *conn;
    struct sql_stmt *stmt = NULL;
    bool row;

    if (skip_pg(_i))
        return;
    conn = fresh_conn(_i);
    ck_assert_int_eq(insert_key(conn, "a", 5), ERR_OK);
    for (int round = 0; round < 3; round++) {
        ck_assert_int_eq(sql_prepare(conn, count, &stmt), ERR_OK);
        /* The first round binds a double, then ints: PostgreSQL parses it again. */
        if (round == 0)
            ck_assert_int_eq(sql_bind_double(stmt, 1, 4.5), ERR_OK);
        else
            ck_assert_int_eq(sql_bind_int64(stmt, 1, 5), ERR_OK);
        ck_assert_msg(sql_step(stmt, &row) == ERR_OK, "%s", sql_last_error(conn));
        ck_assert_int_eq(sql_column_int64(stmt, 0), 1);
        sql_finalize(stmt);
        /* A failed transaction in between. */
        ck_assert_int_eq(sql_begin(conn), ERR_OK);
        ck_assert_int_eq(insert_key(conn, "a", 1), ERR_CONFLICT);
        ck_assert_int_eq(sql_rollback(conn), ERR_OK);
    }
    /* A broken statement fails where the engine parses it, and the connection
     * goes on. */
    {
        enum err rc = sql_prepare(conn, "SELEC 1", &stmt);
        if (rc == ERR_OK) {
            rc = sql_step(stmt, &row);
            sql_finalize(stmt);
        }
        ck_assert_int_eq(rc, ERR_DB);
        ck_assert_str_ne(sql_last_error(conn), "");
    }
    ck_assert_int_eq(scalar(conn, "SELECT count(*) FROM sqlt_keys"), 1);
    sql_close(conn);
}
END_TEST

START_TEST(changes_count_the_rows_written)
{
    struct sql_conn *conn;
    struct sql_stmt *stmt = NULL;
    bool row;

    if (skip_pg(_i))
        return;
    conn = fresh_conn(_i);
    for (int k = 0; k < 5; k++) {
        char key[8];
        snprintf(key, sizeof key, "k%d", k);
        ck_assert_int_eq(insert_key(conn, key, k), ERR_OK);
    }
    ck_assert_int_eq(sql_prepare(conn, "UPDATE sqlt_keys SET v = v + 1 WHERE v >= ?", &stmt),
                     ERR_OK);
    ck_assert_int_eq(sql_bind_int64(stmt, 1, 2), ERR_OK);
    ck_assert_int_eq(sql_step(stmt, &row), ERR_OK);
    ck_assert_int_eq(sql_changes(conn), 3);
    sql_finalize(stmt);
    /* A read leaves the count alone. */
    ck_assert_int_eq(scalar(conn, "SELECT count(*) FROM sqlt_keys"), 5);
    ck_assert_int_eq(sql_changes(conn), 3);
    exec_ok(conn, "DELETE FROM sqlt_keys");
    ck_assert_int_eq(sql_changes(conn), 5);
    sql_close(conn);
}
END_TEST

/* Each thread its own connection, as the pool's threads will: no shared state. */
static void *thread_work(void *arg)
{
    int backend = *(int *)arg;
    struct sql_conn *conn = NULL;
    long bad = 0;

    if (sql_connect(target(backend), &conn, NULL, 0) != ERR_OK)
        return (void *)1;
    for (int k = 0; k < 200; k++) {
        struct sql_stmt *stmt = NULL;
        bool row = false;
        if (sql_prepare(conn, "SELECT ? * 2", &stmt) != ERR_OK ||
            sql_bind_int64(stmt, 1, k) != ERR_OK || sql_step(stmt, &row) != ERR_OK || !row ||
            sql_column_int64(stmt, 0) != 2 * k)
            bad++;
        sql_finalize(stmt);
    }
    sql_close(conn);
    return (void *)bad;
}

START_TEST(threads_with_a_connection_each)
{
    pthread_t threads[4];
    int backend = _i;

    if (skip_pg(_i))
        return;
    for (int t = 0; t < 4; t++)
        ck_assert_int_eq(pthread_create(&threads[t], NULL, thread_work, &backend), 0);
    for (int t = 0; t < 4; t++) {
        void *bad;
        ck_assert_int_eq(pthread_join(threads[t], &bad), 0);
        ck_assert_ptr_null(bad);
    }
}
END_TEST

/* ---- PostgreSQL only ---- */

/* The URI with its password replaced by wrong. */
static void with_password(const char *uri, const char *wrong, char *out, size_t out_len)
{
    const char *user = strstr(uri, "://") + 3;
    const char *colon = strchr(user, ':'), *at = strchr(user, '@');

    ck_assert_msg(colon && at && colon < at, "the test URI carries no password");
    snprintf(out, out_len, "%.*s:%s%s", (int)(colon - uri), uri, wrong, at);
}

static void refused_with(const char *uri, const char *cause, const char *secret)
{
    struct sql_conn *conn = NULL;
    char why[256] = "";
    enum err rc = sql_connect(uri, &conn, why, sizeof why);

    ck_assert_int_eq(rc, ERR_IO);
    ck_assert_ptr_null(conn);
    ck_assert_msg(strstr(why, cause) != NULL, "why: %s", why);
    ck_assert_ptr_null(strchr(why, '\n'));
    if (secret)
        ck_assert_msg(strstr(why, secret) == NULL, "why names the password: %s", why);
}

START_TEST(pg_refusals_say_why)
{
    char uri[1100];

    with_password(pg_uri, "NotTheSecret42", uri, sizeof uri);
    refused_with(uri, "password authentication failed", "NotTheSecret42");
    refused_with("postgresql://u:Secret99@/db?host=/nonexistent-carbontree", "No such file",
                 "Secret99");
    refused_with("postgresql://u:Secret99@127.0.0.1:1/db", "refused", "Secret99");
    refused_with("postgresql://u:Secret99@nosuch.invalid/db", "nosuch.invalid", "Secret99");
}
END_TEST

/* A statement on conn that must run: kept, parsed on the server once. */
static enum err run_kept(struct sql_conn *conn, int64_t v, int64_t *out)
{
    struct sql_stmt *stmt = NULL;
    bool row = false;
    enum err rc = sql_prepare(conn, "SELECT ? + 1", &stmt);

    if (rc == ERR_OK)
        rc = sql_bind_int64(stmt, 1, v);
    if (rc == ERR_OK)
        rc = sql_step(stmt, &row);
    if (rc == ERR_OK)
        *out = row ? sql_column_int64(stmt, 0) : -1;
    sql_finalize(stmt);
    return rc;
}

START_TEST(pg_lost_connection_is_unavailable_then_recovers)
{
    struct sql_conn *conn = open_conn(1), *admin = open_conn(1);
    int64_t pid, v = 0;
    char sql[96];
    enum err rc;

    ck_assert_int_eq(run_kept(conn, 1, &v), ERR_OK);
    ck_assert_int_eq(v, 2);
    pid = scalar(conn, "SELECT pg_backend_pid()");
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld)", (long long)pid);
    ck_assert_int_eq(scalar(admin, sql), 1);
    rc = run_kept(conn, 2, &v);
    ck_assert_msg(rc == ERR_IO, "%s (%s)", sql_last_error(conn), err_name(rc));
    /* The next use reconnects, and the kept statement is parsed again. */
    ck_assert_int_eq(run_kept(conn, 3, &v), ERR_OK);
    ck_assert_int_eq(v, 4);
    ck_assert_int_ne(scalar(conn, "SELECT pg_backend_pid()"), pid);
    sql_close(admin);
    sql_close(conn);
}
END_TEST

START_TEST(pg_restart_is_unavailable_then_recovers)
{
    const char *dir = getenv("CARBONTREE_TEST_PG_DIR");
    const char *src = getenv("CARBONTREE_SOURCE_DIR");
    struct sql_conn *conn;
    char cmd[1024];
    int64_t v = 0;
    enum err rc;

    if (dir == NULL || src == NULL) {
        ck_assert_msg(getenv("CI") == NULL, "CI sets CARBONTREE_TEST_PG_DIR");
        printf("test_sql: no CARBONTREE_TEST_PG_DIR: the restart case is skipped\n");
        return;
    }
    conn = open_conn(1);
    ck_assert_int_eq(run_kept(conn, 1, &v), ERR_OK);
    ck_assert_int_eq(sql_begin(conn), ERR_OK);
    snprintf(cmd, sizeof cmd, "'%s/scripts/pg-cluster.sh' restart '%s'", src, dir);
    ck_assert_int_eq(system(cmd), 0);
    rc = run_kept(conn, 2, &v);
    ck_assert_msg(rc == ERR_IO, "%s (%s)", sql_last_error(conn), err_name(rc));
    /* The transaction died with the connection: what follows is refused, not run
     * alone on a new connection, until the caller rolls back. */
    ck_assert_int_eq(run_kept(conn, 3, &v), ERR_IO);
    ck_assert_int_eq(sql_exec(conn, "CREATE TABLE sqlt_orphan (x integer)"), ERR_IO);
    ck_assert_int_eq(sql_commit(conn), ERR_IO);
    ck_assert_int_eq(sql_rollback(conn), ERR_OK);
    ck_assert_int_eq(scalar(conn, "SELECT count(*) FROM pg_tables WHERE tablename = "
                                  "'sqlt_orphan'"),
                     0);
    ck_assert_int_eq(run_kept(conn, 5, &v), ERR_OK);
    ck_assert_int_eq(v, 6);
    sql_close(conn);
}
END_TEST

/* Three scripts: the second waits, so that migrators starting together overlap. */
static const struct sql_migration test_migrations[] = {
    {1, "CREATE TABLE m_runs (version integer NOT NULL);"
        "INSERT INTO m_runs VALUES (1)"},
    {2, "SELECT pg_sleep(0.2); INSERT INTO m_runs VALUES (2)"},
    {5, "CREATE TABLE m_late (x integer); INSERT INTO m_runs VALUES (5)"},
};

static char migrate_uri[1100];

static void *migrator(void *arg)
{
    struct sql_conn *conn = NULL;
    enum err rc;

    (void)arg;
    if (sql_connect(migrate_uri, &conn, NULL, 0) != ERR_OK)
        return (void *)(intptr_t)ERR_IO;
    rc = sql_migrate_pg_files(conn, test_migrations, 3, NULL, NULL);
    if (rc != ERR_OK)
        fprintf(stderr, "migrator: %s\n", sql_last_error(conn));
    sql_close(conn);
    return (void *)(intptr_t)rc;
}

START_TEST(pg_migrators_starting_together_migrate_once)
{
    static const struct sql_migration broken[] = {
        {6, "CREATE TABLE m_never (x integer); INSERT INTO m_runs VALUES (6); SELEC 1"},
    };
    pthread_t threads[MIGRATORS];
    struct sql_conn *conn = NULL;
    int from = -1, to = -1;
    char why[256];

    fresh_database(MIGRATE_DB, migrate_uri, sizeof migrate_uri);
    for (int t = 0; t < MIGRATORS; t++)
        ck_assert_int_eq(pthread_create(&threads[t], NULL, migrator, NULL), 0);
    for (int t = 0; t < MIGRATORS; t++) {
        void *rc;
        ck_assert_int_eq(pthread_join(threads[t], &rc), 0);
        ck_assert_int_eq((int)(intptr_t)rc, ERR_OK);
    }
    ck_assert_int_eq(sql_connect(migrate_uri, &conn, why, sizeof why), ERR_OK);
    ck_assert_int_eq(scalar(conn, "SELECT count(*) FROM m_runs"), 3);
    ck_assert_int_eq(scalar(conn, "SELECT sum(version) FROM m_runs"), 8);
    ck_assert_int_eq(scalar(conn, "SELECT count(*) FROM schema_version"), 3);
    ck_assert_int_eq(scalar(conn, "SELECT max(version) FROM schema_version"), 5);
    ck_assert_int_eq(sql_migrate_pg_files(conn, test_migrations, 3, &from, &to), ERR_OK);
    ck_assert_int_eq(from, 5);
    ck_assert_int_eq(to, 5);
    /* A failing script leaves nothing of itself, and the versions before it. */
    ck_assert_int_eq(sql_migrate_pg_files(conn, broken, 1, &from, &to), ERR_DB);
    ck_assert_int_eq(scalar(conn, "SELECT max(version) FROM schema_version"), 5);
    ck_assert_int_eq(scalar(conn, "SELECT count(*) FROM m_runs"), 3);
    ck_assert_int_eq(scalar(conn, "SELECT count(*) FROM pg_tables WHERE tablename = 'm_never'"), 0);
    sql_close(conn);
}
END_TEST

START_TEST(pg_embedded_migrations_apply_once)
{
    char uri[1100], why[256];
    struct sql_conn *conn = NULL;
    int from = -1, to = -1, from2 = -1, to2 = -1;

    fresh_database(EMBEDDED_DB, uri, sizeof uri);
    ck_assert_int_eq(sql_connect(uri, &conn, why, sizeof why), ERR_OK);
    ck_assert_msg(sql_migrate_pg(conn, &from, &to) == ERR_OK, "%s", sql_last_error(conn));
    ck_assert_int_eq(from, 0);
    ck_assert_int_eq(scalar(conn, "SELECT coalesce(max(version), 0) FROM schema_version"), to);
    ck_assert_int_eq(sql_migrate_pg(conn, &from2, &to2), ERR_OK);
    ck_assert_int_eq(from2, to);
    ck_assert_int_eq(to2, to);
    sql_close(conn);
}
END_TEST

START_TEST(pg_required_under_ci)
{
    ck_abort_msg("CI is set but CARBONTREE_TEST_PG_URI is not: the PostgreSQL cases cannot run "
                 "(scripts/test.sh starts a cluster with scripts/pg-cluster.sh)");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sql");
    TCase *tc = tcase_create("engine-free");
    int backends = pg_uri[0] ? N_BACKENDS : 1;

    tcase_add_test(tc, placeholders_rewrite_outside_literals_and_comments);
    tcase_add_test(tc, backend_is_chosen_by_the_target);
    tcase_add_test(tc, errors_map_alike_on_both_engines);
    suite_add_tcase(s, tc);

    tc = tcase_create("both engines");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, placeholders_in_literals_reach_the_engine_untouched, 0, backends);
    tcase_add_loop_test(tc, int64_extremes_round_trip, 0, backends);
    tcase_add_loop_test(tc, doubles_round_trip_exactly, 0, backends);
    tcase_add_loop_test(tc, nulls_read_as_null, 0, backends);
    tcase_add_loop_test(tc, utf8_text_round_trips, 0, backends);
    tcase_add_loop_test(tc, unique_violation_is_a_conflict, 0, backends);
    tcase_add_loop_test(tc, concurrent_writers_are_busy, 0, backends);
    tcase_add_loop_test(tc, rollback_leaves_nothing, 0, backends);
    tcase_add_loop_test(tc, savepoint_undoes_its_part_only, 0, backends);
    tcase_add_loop_test(tc, statements_are_kept_by_text, 0, backends);
    tcase_add_loop_test(tc, prepared_statements_survive_errors_and_rollbacks, 0, backends);
    tcase_add_loop_test(tc, changes_count_the_rows_written, 0, backends);
    tcase_add_loop_test(tc, threads_with_a_connection_each, 0, backends);
    suite_add_tcase(s, tc);

    tc = tcase_create("postgresql");
    tcase_set_timeout(tc, 60);
    if (pg_uri[0]) {
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, pg_refusals_say_why);
        tcase_add_test(tc, pg_lost_connection_is_unavailable_then_recovers);
        tcase_add_test(tc, pg_restart_is_unavailable_then_recovers);
        tcase_add_test(tc, pg_migrators_starting_together_migrate_once);
        tcase_add_test(tc, pg_embedded_migrations_apply_once);
    } else if (getenv("CI") != NULL) {
        tcase_add_test(tc, pg_required_under_ci);
    }
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    const char *uri = getenv("CARBONTREE_TEST_PG_URI");
    SRunner *sr;
    int failed;

    if (uri != NULL && uri[0] != '\0') {
        struct sql_conn *conn = NULL;
        char why[256];
        enum err rc;
        snprintf(pg_admin_uri, sizeof pg_admin_uri, "%s", uri);
        /* The cases' database, made here once (outside a test: no ck_assert). */
        rc = sql_connect(pg_admin_uri, &conn, why, sizeof why);
        if (rc == ERR_OK)
            rc = sql_exec(conn, "DROP DATABASE IF EXISTS " TEST_DB " WITH (FORCE)");
        if (rc == ERR_OK)
            rc = sql_exec(conn, "CREATE DATABASE " TEST_DB);
        if (rc != ERR_OK) {
            fprintf(stderr, "test_sql: %s: %s\n", TEST_DB, conn ? sql_last_error(conn) : why);
            sql_close(conn);
            return EXIT_FAILURE;
        }
        sql_close(conn);
        uri_with_db(pg_admin_uri, TEST_DB, pg_uri, sizeof pg_uri);
    } else {
        printf("test_sql: CARBONTREE_TEST_PG_URI is not set: the PostgreSQL cases are skipped "
               "(scripts/pg-cluster.sh start DIR prints one)%s\n",
               getenv("CI") ? "; under CI that is a failure" : "");
    }
    sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
