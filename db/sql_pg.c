/* SPDX-License-Identifier: Apache-2.0 */
/* The statement layer's PostgreSQL driver (libpq). Values travel as text: an
 * int64 in decimal, a double in %.17g (which reads back to the same double), a
 * result column parsed back. Each statement is a named prepared statement of the
 * session, parsed at its first run with the types of the values bound then. A
 * lost connection is ERR_IO, and the next use resets it (the server forgets its
 * prepared statements then: each is prepared again when next run). */
#include "sql_internal.h"

#include <libpq-fe.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Type OIDs of pg_type (stable since PostgreSQL 7). */
#define OID_BOOL   16
#define OID_INT8   20
#define OID_FLOAT8 701

struct pg_conn {
    PGconn *pg;
    bool broken; /* the connection was lost: reset before the next use */
    bool in_txn; /* a transaction was open after the last round trip */
    /* The connection was lost inside a transaction: every use is ERR_IO until the
     * caller rolls back, so that the statements after the loss do not run on a
     * new connection, outside the transaction, each committed alone. */
    bool txn_lost;
    bool closing;        /* sql_close: the session ends, its statements with it */
    unsigned generation; /* bumped by every reset: prepared statements are gone */
    unsigned next_name;
};

struct pg_stmt {
    char *text; /* with $n placeholders */
    int n_params;
    char name[24];
    unsigned prepared_generation; /* 0: not prepared on the server */
    Oid *prepared_types;          /* what the server parsed it with */
    Oid *types;                   /* what is bound now; 0: null, or text of unknown type */
    char **values;                /* NULL: SQL NULL (or nothing bound) */
    char (*numbers)[32];          /* the text of bound numbers */
    PGresult *res;
    int row; /* the current row; -1 before the first */
};

enum err sql_map_sqlstate(const char *sqlstate)
{
    if (sqlstate == NULL || strlen(sqlstate) != 5)
        return ERR_DB;
    if (strcmp(sqlstate, "23505") == 0) /* unique_violation */
        return ERR_CONFLICT;
    if (strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0 ||
        strcmp(sqlstate, "55P03") == 0) /* serialization, deadlock, lock not available */
        return ERR_BUSY;
    if (strcmp(sqlstate, "53100") == 0) /* disk_full */
        return ERR_FULL;
    if (strcmp(sqlstate, "53200") == 0) /* out_of_memory */
        return ERR_NO_MEMORY;
    if (strncmp(sqlstate, "08", 2) == 0 || strcmp(sqlstate, "57P01") == 0 ||
        strcmp(sqlstate, "57P02") == 0 || strcmp(sqlstate, "57P03") == 0)
        return ERR_IO; /* connection exceptions, shutdown, cannot connect now */
    return ERR_DB;
}

/* libpq's message on one line: its newlines and the indentation after them go. */
static void one_line(char *dst, size_t dst_len, const char *msg)
{
    size_t n = 0;
    bool space = false;

    if (dst_len == 0)
        return;
    for (const char *p = msg ? msg : ""; *p && n + 1 < dst_len; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t' || *p == ' ') {
            space = n > 0;
            continue;
        }
        if (space && n + 2 < dst_len)
            dst[n++] = ' ';
        space = false;
        dst[n++] = *p;
    }
    dst[n] = '\0';
}

static struct pg_conn *pgc(const struct sql_conn *conn)
{
    return conn->impl;
}

/* The server's notices (a ROLLBACK outside a transaction) are not errors. */
static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static enum err pg_connect(struct sql_conn *conn, const char *target, char *why, size_t why_len)
{
    /* The URI's own settings win over these (expand_dbname: later ones override). */
    const char *keys[] = {"connect_timeout", "fallback_application_name", "client_encoding",
                          "dbname", NULL};
    const char *values[] = {"10", "carbontree", "UTF8", target, NULL};
    struct pg_conn *c = calloc(1, sizeof *c);
    enum err rc;

    if (c == NULL) {
        if (why && why_len)
            snprintf(why, why_len, "out of memory");
        return ERR_NO_MEMORY;
    }
    c->pg = PQconnectdbParams(keys, values, 1);
    if (c->pg == NULL) {
        if (why && why_len)
            snprintf(why, why_len, "out of memory");
        free(c);
        return ERR_NO_MEMORY;
    }
    if (PQstatus(c->pg) != CONNECTION_OK) {
        /* libpq names the cause (authentication failed, unknown host, refused)
         * and never the password. A malformed URI is the caller's error. */
        const char *msg = PQerrorMessage(c->pg);
        if (why && why_len)
            one_line(why, why_len, msg);
        rc = strstr(msg, "invalid") != NULL && strstr(msg, "URI") != NULL ? ERR_DB : ERR_IO;
        PQfinish(c->pg);
        free(c);
        return rc;
    }
    PQsetNoticeProcessor(c->pg, ignore_notice, NULL);
    c->generation = 1;
    conn->impl = c;
    return ERR_OK;
}

static void pg_close(struct sql_conn *conn)
{
    struct pg_conn *c = pgc(conn);

    PQfinish(c->pg);
    free(c);
    conn->impl = NULL;
}

/* Before a use: a lost connection is reset. ERR_IO while the server is still out
 * of reach. */
static enum err pg_ready(struct sql_conn *conn)
{
    struct pg_conn *c = pgc(conn);

    if (c->txn_lost) {
        sql_set_error(conn, "the connection was lost inside a transaction: roll it back");
        return ERR_IO;
    }
    if (!c->broken && PQstatus(c->pg) == CONNECTION_OK)
        return ERR_OK;
    if (c->in_txn) {
        /* Lost since the transaction's last statement. */
        c->broken = true;
        c->txn_lost = true;
        sql_set_error(conn, "the connection was lost inside a transaction: roll it back");
        return ERR_IO;
    }
    PQreset(c->pg);
    if (PQstatus(c->pg) != CONNECTION_OK) {
        c->broken = true;
        one_line(conn->last_error, sizeof conn->last_error, PQerrorMessage(c->pg));
        return ERR_IO;
    }
    PQsetNoticeProcessor(c->pg, ignore_notice, NULL);
    c->broken = false;
    c->in_txn = false;
    c->generation++;
    return ERR_OK;
}

/* ERR_OK for a result of the expected status; otherwise the mapped error, with
 * the server's message kept, and the connection marked lost when it is. */
static enum err pg_result(struct sql_conn *conn, PGresult *res, ExecStatusType expected,
                          ExecStatusType also)
{
    struct pg_conn *c = pgc(conn);
    ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    const char *sqlstate;
    enum err rc;

    if (status == expected || status == also) {
        c->in_txn = PQtransactionStatus(c->pg) != PQTRANS_IDLE;
        return ERR_OK;
    }
    sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    rc = sql_map_sqlstate(sqlstate);
    if (PQstatus(c->pg) != CONNECTION_OK) {
        c->broken = true;
        rc = ERR_IO;
    } else if (rc == ERR_IO) {
        c->broken = true;
    } else if (res == NULL) {
        rc = ERR_NO_MEMORY;
    }
    if (c->broken)
        c->txn_lost = c->in_txn;
    else
        c->in_txn = PQtransactionStatus(c->pg) != PQTRANS_IDLE;
    char msg[sizeof conn->last_error - 16];
    one_line(msg, sizeof msg, res ? PQresultErrorMessage(res) : PQerrorMessage(c->pg));
    if (msg[0] == '\0')
        one_line(msg, sizeof msg, PQerrorMessage(c->pg));
    sql_set_error(conn, "%s (%s)", msg, sqlstate ? sqlstate : "no SQLSTATE");
    return rc;
}

/* The rows an INSERT, UPDATE, DELETE or MERGE changed, from its command tag. */
static void note_changes(struct sql_conn *conn, PGresult *res)
{
    const char *tag = PQcmdStatus(res);

    if (strncmp(tag, "INSERT ", 7) == 0 || strncmp(tag, "UPDATE ", 7) == 0 ||
        strncmp(tag, "DELETE ", 7) == 0 || strncmp(tag, "MERGE ", 6) == 0)
        conn->changes = strtoll(PQcmdTuples(res), NULL, 10);
}

static struct pg_stmt *pgs(const struct sql_stmt *stmt)
{
    return stmt->impl;
}

static void pg_stmt_free(struct sql_stmt *stmt)
{
    struct pg_stmt *s = pgs(stmt);

    if (s == NULL)
        return;
    PQclear(s->res);
    if (s->prepared_generation != 0 && s->prepared_generation == pgc(stmt->conn)->generation &&
        !pgc(stmt->conn)->broken && !pgc(stmt->conn)->closing) {
        char sql[48];
        snprintf(sql, sizeof sql, "DEALLOCATE %s", s->name);
        PQclear(PQexec(pgc(stmt->conn)->pg, sql));
    }
    if (s->values && s->numbers)
        for (int i = 0; i < s->n_params; i++)
            if (s->values[i] != s->numbers[i])
                free(s->values[i]);
    free(s->values);
    free(s->numbers);
    free(s->types);
    free(s->prepared_types);
    free(s->text);
    free(s);
    stmt->impl = NULL;
}

static enum err pg_prepare(struct sql_stmt *stmt)
{
    struct sql_conn *conn = stmt->conn;
    struct pg_stmt *s = calloc(1, sizeof *s);
    size_t n;

    if (s == NULL)
        goto nomem;
    stmt->impl = s;
    s->row = -1;
    s->text = sql_rewrite_placeholders(stmt->text, &s->n_params);
    if (s->text == NULL)
        goto nomem;
    n = s->n_params > 0 ? (size_t)s->n_params : 1;
    s->values = calloc(n, sizeof *s->values);
    s->numbers = calloc(n, sizeof *s->numbers);
    s->types = calloc(n, sizeof *s->types);
    s->prepared_types = calloc(n, sizeof *s->prepared_types);
    if (!s->values || !s->numbers || !s->types || !s->prepared_types)
        goto nomem;
    snprintf(s->name, sizeof s->name, "ct_%u", ++pgc(conn)->next_name);
    return ERR_OK;
nomem:
    pg_stmt_free(stmt);
    sql_set_error(conn, "out of memory");
    return ERR_NO_MEMORY;
}

static enum err check_index(struct sql_stmt *stmt, int index)
{
    if (index >= 1 && index <= pgs(stmt)->n_params)
        return ERR_OK;
    sql_set_error(stmt->conn, "bind index %d out of range (the statement has %d)", index,
                  pgs(stmt)->n_params);
    return ERR_DB;
}

static void clear_value(struct pg_stmt *s, int i)
{
    if (s->values[i] != s->numbers[i])
        free(s->values[i]);
    s->values[i] = NULL;
    s->types[i] = 0;
}

static enum err pg_bind_number(struct sql_stmt *stmt, int index, Oid type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum err pg_bind_number(struct sql_stmt *stmt, int index, Oid type, const char *fmt, ...)
{
    struct pg_stmt *s = pgs(stmt);
    enum err rc = check_index(stmt, index);
    va_list ap;

    if (rc != ERR_OK)
        return rc;
    clear_value(s, index - 1);
    va_start(ap, fmt);
    vsnprintf(s->numbers[index - 1], sizeof s->numbers[0], fmt, ap);
    va_end(ap);
    s->values[index - 1] = s->numbers[index - 1];
    s->types[index - 1] = type;
    return ERR_OK;
}

static enum err pg_bind_int64(struct sql_stmt *stmt, int index, int64_t value)
{
    return pg_bind_number(stmt, index, OID_INT8, "%lld", (long long)value);
}

static enum err pg_bind_double(struct sql_stmt *stmt, int index, double value)
{
    if (isnan(value))
        return pg_bind_number(stmt, index, OID_FLOAT8, "NaN");
    if (isinf(value))
        return pg_bind_number(stmt, index, OID_FLOAT8, value > 0 ? "Infinity" : "-Infinity");
    return pg_bind_number(stmt, index, OID_FLOAT8, "%.17g", value);
}

static enum err pg_bind_text(struct sql_stmt *stmt, int index, const char *text, size_t len)
{
    struct pg_stmt *s = pgs(stmt);
    enum err rc = check_index(stmt, index);
    char *copy;

    if (rc != ERR_OK)
        return rc;
    if (memchr(text, '\0', len) != NULL) {
        sql_set_error(stmt->conn, "text bound to %d holds a NUL byte", index);
        return ERR_DB;
    }
    copy = malloc(len + 1);
    if (copy == NULL) {
        sql_set_error(stmt->conn, "out of memory");
        return ERR_NO_MEMORY;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    clear_value(s, index - 1);
    s->values[index - 1] = copy;
    return ERR_OK;
}

static enum err pg_bind_null(struct sql_stmt *stmt, int index)
{
    enum err rc = check_index(stmt, index);

    if (rc == ERR_OK)
        clear_value(pgs(stmt), index - 1);
    return rc;
}

/* Whether the statement must be parsed (again) before it runs: never on this
 * session, or a value now bound is of another type than it was parsed with. */
static bool needs_parse(const struct sql_stmt *stmt)
{
    const struct pg_stmt *s = pgs(stmt);

    if (s->prepared_generation != pgc(stmt->conn)->generation)
        return true;
    for (int i = 0; i < s->n_params; i++)
        if (s->types[i] != 0 && s->types[i] != s->prepared_types[i])
            return true;
    return false;
}

static enum err parse(struct sql_stmt *stmt)
{
    struct sql_conn *conn = stmt->conn;
    struct pg_conn *c = pgc(conn);
    struct pg_stmt *s = pgs(stmt);
    PGresult *res;
    enum err rc;

    if (s->prepared_generation == c->generation) {
        /* Parsed with other types: a new name, the old one dropped. */
        char sql[48];
        snprintf(sql, sizeof sql, "DEALLOCATE %s", s->name);
        PQclear(PQexec(c->pg, sql));
        snprintf(s->name, sizeof s->name, "ct_%u", ++c->next_name);
    }
    s->prepared_generation = 0;
    res = PQprepare(c->pg, s->name, s->text, s->n_params, s->types);
    rc = pg_result(conn, res, PGRES_COMMAND_OK, PGRES_COMMAND_OK);
    PQclear(res);
    if (rc != ERR_OK)
        return rc;
    memcpy(s->prepared_types, s->types, (size_t)s->n_params * sizeof *s->types);
    s->prepared_generation = c->generation;
    return ERR_OK;
}

static enum err pg_step(struct sql_stmt *stmt, bool *row)
{
    struct sql_conn *conn = stmt->conn;
    struct pg_stmt *s = pgs(stmt);
    enum err rc;

    if (s->res == NULL) {
        rc = pg_ready(conn);
        if (rc == ERR_OK && needs_parse(stmt))
            rc = parse(stmt);
        if (rc != ERR_OK)
            return rc;
        s->res = PQexecPrepared(pgc(conn)->pg, s->name, s->n_params, (const char *const *)s->values,
                                NULL, NULL, 0);
        rc = pg_result(conn, s->res, PGRES_TUPLES_OK, PGRES_COMMAND_OK);
        if (rc != ERR_OK) {
            PQclear(s->res);
            s->res = NULL;
            return rc;
        }
        note_changes(conn, s->res);
        s->row = -1;
    }
    if (s->row + 1 < PQntuples(s->res)) {
        s->row++;
        *row = true;
    } else {
        s->row = PQntuples(s->res);
    }
    return ERR_OK;
}

static bool in_row(const struct pg_stmt *s, int column)
{
    return s->res != NULL && s->row >= 0 && s->row < PQntuples(s->res) && column >= 0 &&
           column < PQnfields(s->res);
}

static int pg_column_count(const struct sql_stmt *stmt)
{
    const struct pg_stmt *s = pgs(stmt);

    return s->res != NULL && s->row >= 0 && s->row < PQntuples(s->res) ? PQnfields(s->res) : 0;
}

static bool pg_column_is_null(const struct sql_stmt *stmt, int column)
{
    const struct pg_stmt *s = pgs(stmt);

    return !in_row(s, column) || PQgetisnull(s->res, s->row, column);
}

static const char *pg_column_text(const struct sql_stmt *stmt, int column, size_t *len)
{
    const struct pg_stmt *s = pgs(stmt);

    if (pg_column_is_null(stmt, column)) {
        if (len)
            *len = 0;
        return "";
    }
    if (len)
        *len = (size_t)PQgetlength(s->res, s->row, column);
    return PQgetvalue(s->res, s->row, column);
}

static int64_t pg_column_int64(const struct sql_stmt *stmt, int column)
{
    const struct pg_stmt *s = pgs(stmt);
    const char *text;

    if (pg_column_is_null(stmt, column))
        return 0;
    text = PQgetvalue(s->res, s->row, column);
    if (PQftype(s->res, column) == OID_BOOL)
        return text[0] == 't';
    /* A numeric or float column reads as SQLite reads it: truncated. */
    if (strpbrk(text, ".eEnN") != NULL)
        return (int64_t)strtod(text, NULL);
    return strtoll(text, NULL, 10);
}

static double pg_column_double(const struct sql_stmt *stmt, int column)
{
    const struct pg_stmt *s = pgs(stmt);
    const char *text;

    if (pg_column_is_null(stmt, column))
        return 0.0;
    text = PQgetvalue(s->res, s->row, column);
    if (PQftype(s->res, column) == OID_BOOL)
        return text[0] == 't' ? 1.0 : 0.0;
    return strtod(text, NULL);
}

static void pg_reset(struct sql_stmt *stmt)
{
    struct pg_stmt *s = pgs(stmt);

    PQclear(s->res);
    s->res = NULL;
    s->row = -1;
    for (int i = 0; i < s->n_params; i++)
        clear_value(s, i);
}

static enum err pg_exec(struct sql_conn *conn, const char *script)
{
    PGresult *res;
    enum err rc = pg_ready(conn);

    if (rc != ERR_OK)
        return rc;
    res = PQexec(pgc(conn)->pg, script);
    rc = pg_result(conn, res, PGRES_COMMAND_OK, PGRES_TUPLES_OK);
    if (rc == ERR_OK) {
        note_changes(conn, res);
        /* COMMIT of a transaction an error aborted rolls back, without an error. */
        if (strcmp(PQcmdStatus(res), "ROLLBACK") == 0 && strncmp(script, "COMMIT", 6) == 0) {
            sql_set_error(conn, "the transaction was aborted by an earlier error: rolled back");
            rc = ERR_DB;
        }
    }
    PQclear(res);
    return rc;
}

static enum err pg_rollback(struct sql_conn *conn)
{
    struct pg_conn *c = pgc(conn);

    if (c->txn_lost) {
        /* The server rolled it back when the connection went. */
        c->txn_lost = false;
        c->in_txn = false;
        return ERR_OK;
    }
    if (c->broken || PQtransactionStatus(c->pg) == PQTRANS_IDLE)
        return ERR_OK;
    return pg_exec(conn, "ROLLBACK");
}

static void pg_closing(struct sql_conn *conn)
{
    pgc(conn)->closing = true;
}

const struct sql_driver sql_driver_pg = {
    .connect = pg_connect,
    .close = pg_close,
    .prepare = pg_prepare,
    .stmt_free = pg_stmt_free,
    .bind_int64 = pg_bind_int64,
    .bind_double = pg_bind_double,
    .bind_text = pg_bind_text,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .column_count = pg_column_count,
    .column_is_null = pg_column_is_null,
    .column_text = pg_column_text,
    .column_int64 = pg_column_int64,
    .column_double = pg_column_double,
    .reset = pg_reset,
    .exec = pg_exec,
    .rollback = pg_rollback,
    .closing = pg_closing,
    .begin_sql = "BEGIN ISOLATION LEVEL SERIALIZABLE",
};
