/* The storage contract of carbontree: every SQL statement and every sqlite3 type
 * lives behind this header. Functions return core structs and enum err; no SQLite
 * type or code escapes. A struct db is one connection, used by one thread at a time. */
#ifndef DB_DB_H
#define DB_DB_H

#include "err.h"
#include "model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct db_pool;

struct db_options {
    const char *path;       /* file path, or ":memory:" */
    int busy_timeout_ms;    /* how long a writer waits for the lock before ERR_BUSY */
    bool create;            /* create the file when missing (migrate); serve requires it */
    int64_t max_page_count; /* 0: unlimited; tests use it to simulate a full disk */
};

/* Opens one connection and applies the connection settings (WAL, synchronous=FULL,
 * foreign_keys, busy_timeout, defensive, trusted_schema=OFF), then asserts them.
 * On failure writes a one-line reason into why (no SQL text) and returns ERR_IO for
 * a path that cannot be opened or written, ERR_DB for a file that is not a usable
 * database. The caller owns *out and closes it with db_close. */
enum err db_open(const struct db_options *options, struct db **out, char *why, size_t why_len);

/* Closes a connection; NULL is a no-op. */
void db_close(struct db *db);

/* The sqlite error text of the last failure on this connection, for logs only
 * (never for clients). Static or connection-owned storage. */
const char *db_last_error(const struct db *db);

/* Applies every embedded migration newer than the file's user_version, each in one
 * BEGIN IMMEDIATE transaction that also sets user_version. Safe to run again.
 * *from and *to (either may be NULL) receive the versions before and after. */
enum err db_migrate(struct db *db, int *from, int *to);

/* Newest migration compiled into the binary. */
int db_schema_latest(void);

/* Current user_version of the connection's file. */
enum err db_schema_version(struct db *db, int *version);

/* A cheap read proving the database answers (readyz). */
enum err db_ping(struct db *db);

/* Runs PRAGMA quick_check; ERR_DB when it does not answer "ok". */
enum err db_quick_check(struct db *db);

/* Transactions. db_write_begin starts BEGIN IMMEDIATE (taking the pool's write lock
 * first when the connection came from a pool); end it with db_write_commit or
 * db_write_rollback. A commit that fails rolls back and returns the mapped error. */
enum err db_write_begin(struct db *db);
enum err db_write_commit(struct db *db);
void db_write_rollback(struct db *db);

/* Read snapshot: every read in between sees one consistent state. */
enum err db_read_begin(struct db *db);
void db_read_end(struct db *db);

/* A pool hands each thread its own connection to one file; writes from the pool's
 * connections are serialised by a process-wide lock before BEGIN IMMEDIATE. */
enum err db_pool_create(const struct db_options *options, struct db_pool **out, char *why,
                        size_t why_len);
/* The calling thread's connection, opened on first use; owned by the pool. */
enum err db_pool_acquire(struct db_pool *pool, struct db **out);
/* Closes every connection; call when no thread uses the pool any more. */
void db_pool_destroy(struct db_pool *pool);

/* ---- models and lineage (db/models.c, db/lineage.c) ---- */

/* Inserts a model and its parent edges, keeps the ancestor closure and depth, all
 * inside the caller's write transaction. m->parents name existing models.
 * ERR_CONFLICT: the id exists. ERR_NOT_FOUND: a parent does not exist (*bad_parent
 * is its index). ERR_INVALID_INPUT: the lineage would be deeper than
 * CORE_LINEAGE_MAX_DEPTH. On success m->key, depth, version and times are filled. */
enum err db_model_insert(struct db *db, struct core_model *m, size_t *bad_parent);

/* Loads a model with its parents. ERR_NOT_FOUND when absent. */
enum err db_model_get(struct db *db, const struct core_model_id *id, struct core_model *out);

struct db_model_filter {
    const char *ns;                     /* NULL: any namespace */
    const struct core_model_id *parent; /* NULL: any; else direct children of parent */
    int64_t after_key;                  /* cursor: keys greater than this */
    size_t limit;                       /* at most this many */
};

/* Lists models in key order. items has room for filter->limit models; *n_items is
 * set, and *has_more says whether another page exists. ERR_NOT_FOUND when
 * filter->parent names no model. */
enum err db_model_list(struct db *db, const struct db_model_filter *filter,
                       struct core_model *items, size_t *n_items, bool *has_more);

/* Updates display metadata (task, license, url, parameters) of an existing model
 * and bumps its version, inside the caller's write transaction. */
enum err db_model_update_metadata(struct db *db, const struct core_model *m);

/* Replaces the parents of model m->key with m->parents, inside the caller's write
 * transaction, recomputing closure and depth of m and everything below it.
 * ERR_CONFLICT when an edge would close a cycle (*bad_parent names it);
 * ERR_NOT_FOUND for an unknown parent; ERR_INVALID_INPUT when too deep. */
enum err db_model_set_parents(struct db *db, struct core_model *m, size_t *bad_parent);

/* Deletes a model with no children, inside the caller's write transaction.
 * ERR_NOT_FOUND when absent; ERR_CONFLICT while it has children. */
enum err db_model_delete(struct db *db, const struct core_model_id *id);

#endif
