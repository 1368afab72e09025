/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the files of db/ only: the connection struct and SQLite error mapping. */
#ifndef DB_INTERNAL_H
#define DB_INTERNAL_H

#include "alloc.h"
#include "db.h"

#include <pthread.h>
#include <sqlite3.h>

/* Statements a connection keeps prepared between calls (db_cached). */
#define DB_STMT_CACHE 48

struct db_cached_stmt {
    const char *sql; /* the caller's text, compared by address, then by content */
    sqlite3_stmt *stmt;
    bool in_use;
};

struct db {
    sqlite3 *handle;
    struct db_cached_stmt cache[DB_STMT_CACHE];
    size_t n_cache;
    size_t next_evict;
    pthread_mutex_t *write_lock; /* the pool's lock, or NULL for a lone connection */
    bool holds_write_lock;
    bool in_group;          /* inside db_group_begin: writes are savepoints of one transaction */
    bool in_savepoint;      /* a write of the group is open */
    bool has_group_cache;   /* the page cache was enlarged for groups */
    sqlite3_stmt *rollback; /* ROLLBACK, prepared at open: ending a transaction needs no memory */
    char last_error[256];
    struct core_country *countries; /* ISO 3166-1, read on the first region lookup */
    size_t n_countries;
    struct db_touched *touched; /* models the open transaction changed (db_changes.c) */
    db_change_fn on_change;     /* told what each commit changed; NULL: nobody asked */
    void *on_change_arg;
};

/* Maps a SQLite result code to enum err and remembers sqlite's message on db. */
enum err db_map(struct db *db, int sqlite_rc);

/* Runs SQL text without results. */
enum err db_exec(struct db *db, const char *sql);

/* INSERT of one activity row, its values bound by db_bind_activity. */
#define DB_SQL_INSERT_ACTIVITY                                                                     \
    "INSERT INTO activities (model_id, kind, obtained, method, energy_kwh, energy_kwh_low, "       \
    "energy_kwh_high, co2e_kg, co2e_kg_low, co2e_kg_high, inputs, result, "                        \
    "methodology_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"

/* Binds ?1..?13 of DB_SQL_INSERT_ACTIVITY, texts without copies (step before a changes);
 * a failed bind as db_bind_text says, and the caller does not step. */
enum err db_bind_activity(struct db *db, sqlite3_stmt *stmt, int64_t model_key,
                          const struct db_activity *a);

/* UPDATE of a model's own ledger sums (?1: model key) from its activities. */
extern const char db_sql_refresh_own[];

/* Runs a script of statements without results, binding key to ?1 in each. */
enum err db_exec_script(struct db *db, const char *sql, int64_t key);

/* Prepares one statement; ERR_DB (and a logged message) on failure. */
enum err db_prepare(struct db *db, const char *sql, sqlite3_stmt **out);

/* The connection's prepared copy of sql, prepared on first use and kept until the
 * connection closes; end each use with db_finish. sql should be a string that
 * lives as long as the program (a literal or a static array). When the cached copy
 * is in use already (a nested call), a fresh statement is prepared instead. */
enum err db_cached(struct db *db, const char *sql, sqlite3_stmt **out);

/* Ends a use of a statement from db_cached or db_prepare: a cached one is reset
 * and its bindings cleared for the next call, any other is finalized. NULL is a
 * no-op. */
void db_finish(struct db *db, sqlite3_stmt *stmt);

/* Binding a statement's parameters. Texts and blobs are bound without a copy
 * (SQLITE_STATIC): a copying bind that finds no memory leaves the parameter NULL,
 * and a statement stepped anyway stores or matches that NULL instead of the value.
 * Without a copy a bind allocates nothing; the caller keeps the bytes alive and
 * unchanged until it is done stepping the statement, and db_finish clears the
 * bindings before the statement serves another call. A failure (an index the
 * statement lacks, a text beyond SQLite's length limit) is mapped as db_map does
 * and the caller does not step. NULL text binds NULL. */
enum err db_bind_text(struct db *db, sqlite3_stmt *stmt, int index, const char *text);
/* The same for text of len bytes, not terminated. */
enum err db_bind_text_len(struct db *db, sqlite3_stmt *stmt, int index, const char *text,
                          size_t len);
/* The same, binding NULL for an empty string too. */
enum err db_bind_text_or_null(struct db *db, sqlite3_stmt *stmt, int index, const char *text);
enum err db_bind_blob(struct db *db, sqlite3_stmt *stmt, int index, const void *data, size_t len);

/* Numbers and NULL allocate nothing when bound: their binds fail only for an index
 * the statement lacks or a statement not reset, programming errors, asserted. */
void db_bind_int64(sqlite3_stmt *stmt, int index, int64_t value);
void db_bind_double(sqlite3_stmt *stmt, int index, double value);
void db_bind_null(sqlite3_stmt *stmt, int index);

/* Copies column text into buf, empty string for NULL. */
void db_column_copy(sqlite3_stmt *stmt, int column, char *buf, size_t buf_len);

/* Whether the schema has pending deltas (9 and later). Writes on an older schema
 * (the migration tests build such ledgers) add to every ancestor at once. Reads
 * the parsed schema: no I/O. */
bool db_has_fold(struct db *db);

/* db_write_commit without a count in the write batch histogram: for the
 * service's own transactions (the fold), which carry no request. */
enum err db_write_commit_quiet(struct db *db);

/* The part of ancestor a's family sum still pending: the deltas of a's proper
 * descendants not folded yet. A correlated subquery on a (an outer column); the
 * pending table is the outer loop, so it costs O(pending rows) lookups, next to
 * nothing when nothing is pending. */
#define DB_SQL_PENDING_BELOW(a)                                                                    \
    "(SELECT coalesce(sum(fp.delta), 0) FROM inference_pending fp CROSS JOIN model_closure fc "    \
    "ON fc.ancestor_id = " a " AND fc.descendant_id = fp.model_id WHERE fp.model_id <> " a ")"

/* The same for an ancestor a whose family has size members (|D(a)|, an outer
 * column): the smaller of the family and the pending table is the outer loop, so
 * a lineage costs about one pass over what is pending (at its root) however deep
 * it is, and a small family never reads the whole pending table. */
#define DB_SQL_PENDING_BELOW_SIZED(a, size)                                                        \
    "iif(" size " <= (SELECT count(*) FROM inference_pending), "                                   \
    "(SELECT coalesce(sum(fp.delta), 0) FROM model_closure fc CROSS JOIN inference_pending fp "    \
    "ON fp.model_id = fc.descendant_id WHERE fc.ancestor_id = " a " AND fc.descendant_id <> " a    \
    "), " DB_SQL_PENDING_BELOW(a) ")"

/* Records one committed write transaction that carried n_writes writes (the write
 * batch histogram of db_write_batches). */
void db_write_batch_observe(size_t n_writes);

/* The columns of an inference_profiles row under the alias p, in the order
 * db_profile_from_columns reads them. */
#define DB_PROFILE_COLUMNS                                                                         \
    "p.unit, p.source, p.kwh_per_inference, p.kwh_per_inference_low, "                             \
    "p.kwh_per_inference_high, p.ratio, p.ratio_low, p.ratio_high, p.token_steps, "                \
    "p.token_steps_low, p.token_steps_high, p.training_kwh, p.training_kwh_low, "                  \
    "p.training_kwh_high, p.intensity_kg_per_kwh, p.intensity_kg_per_kwh_low, "                    \
    "p.intensity_kg_per_kwh_high, p.intensity_source, p.intensity_location, p.intensity_table, "   \
    "p.intensity_row, p.intensity_year"

/* Reads DB_PROFILE_COLUMNS starting at column first of the current row into *out. */
void db_profile_from_columns(sqlite3_stmt *stmt, int first, struct core_inference_profile *out);

/* Watches the connection's writes for fn (db/db_changes.c). ERR_NO_MEMORY. */
enum err db_changes_watch(struct db *db, db_change_fn fn, void *arg);
/* After a commit stood: tells the watcher the roots of the models it changed. */
void db_changes_committed(struct db *db);
/* After a rollback: what the transaction changed is gone. */
void db_changes_forget(struct db *db);
/* Frees what watching holds (db_close). */
void db_changes_cleanup(struct db *db);

/* Reference data and other data loaders run inside a migration's transaction. */
enum err db_migration_hook(struct db *db, int version);

/* ---- the footprint orders' per-model figure (db/db_footprint_order.c) ---- */

/* model_ledger.inference_g_each, the g CO2e of one of a model's inferences under
 * the profile that applies to it, written inside the caller's write transaction
 * after each change that can move it. _new: a model just inserted (O(ancestors)
 * rows; nothing to write unless an ancestor has a profile). _below: key and every
 * model below it, after its profile or its lineage changed (O(family x
 * ancestors)). _after_activity: key's activities changed, which moves the figure
 * only under a derived profile reading the lineage's training energy (then as
 * _below). _backfill: every model under a profile (migration 0010). */
enum err db_inference_g_refresh_new(struct db *db, int64_t key);
enum err db_inference_g_refresh_below(struct db *db, int64_t key);
enum err db_inference_g_refresh_after_activity(struct db *db, int64_t key);
enum err db_inference_g_backfill(struct db *db);

#endif
