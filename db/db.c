/* SPDX-License-Identifier: Apache-2.0 */
/* Connections: open, settings, transactions, the per-thread pool and the mapping of
 * SQLite results to enum err. The only file that sets pragmas. */
#include "db_internal.h"
#include "sql.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The last storage failure on this thread, for the log line of a 5xx answer. */
static _Thread_local char thread_last_error[256];

const char *db_thread_last_error(void)
{
    return thread_last_error;
}

enum err db_map(struct db *db, int sqlite_rc)
{
    enum err rc = sql_map_sqlite(sqlite_rc);

    if (rc != ERR_OK && db != NULL && db->handle != NULL) {
        snprintf(db->last_error, sizeof db->last_error, "%s (%d)", sqlite3_errmsg(db->handle),
                 sqlite_rc);
        memcpy(thread_last_error, db->last_error, sizeof thread_last_error);
    }
    return rc;
}

const char *db_last_error(const struct db *db)
{
    return db ? db->last_error : "no connection";
}

enum err db_exec(struct db *db, const char *sql)
{
    return db_map(db, sqlite3_exec(db->handle, sql, NULL, NULL, NULL));
}

static enum err cached_first(struct db *db, const char *sql, sqlite3_stmt **out, const char **tail);

enum err db_exec_script(struct db *db, const char *sql, int64_t key)
{
    const char *tail = sql;
    enum err rc = ERR_OK;

    /* Scripts run once per write (a model's closure and ledger rows): their
     * statements are cached like any other, not parsed again on every call. */
    while (rc == ERR_OK && tail && *tail) {
        sqlite3_stmt *stmt = NULL;
        rc = cached_first(db, tail, &stmt, &tail);
        if (rc != ERR_OK || stmt == NULL)
            break;
        sqlite3_bind_int64(stmt, 1, key);
        rc = db_map(db, sqlite3_step(stmt));
        db_finish(db, stmt);
    }
    return rc;
}

enum err db_prepare(struct db *db, const char *sql, sqlite3_stmt **out)
{
    return db_map(db, sqlite3_prepare_v2(db->handle, sql, -1, out, NULL));
}

/* The cached statement prepared from the first statement of sql (a script's
 * statements are cached one by one, each under the address where it begins);
 * *tail (when not NULL) is where the next statement begins. */
static enum err cached_first(struct db *db, const char *sql, sqlite3_stmt **out, const char **tail)
{
    struct db_cached_stmt *slot = NULL;
    sqlite3_stmt *stmt = NULL;
    const char *rest = NULL;
    enum err rc;

    for (size_t i = 0; i < db->n_cache; i++) {
        struct db_cached_stmt *c = &db->cache[i];
        const char *text = c->sql == sql ? sqlite3_sql(c->stmt) : NULL;
        size_t len = text ? strlen(text) : 0;
        if (text == NULL || strncmp(text, sql, len) != 0 || (tail == NULL && sql[len] != '\0'))
            continue;
        if (tail)
            *tail = sql + len;
        if (c->in_use) /* nested use: a private copy */
            return db_map(db, sqlite3_prepare_v2(db->handle, sql, -1, out, tail));
        c->in_use = true;
        *out = c->stmt;
        return ERR_OK;
    }
    rc = db_map(db,
                sqlite3_prepare_v3(db->handle, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, &rest));
    if (tail)
        *tail = rest;
    if (rc != ERR_OK || stmt == NULL) {
        *out = stmt;
        return rc;
    }
    if (db->n_cache < DB_STMT_CACHE) {
        slot = &db->cache[db->n_cache++];
    } else {
        /* Full: replace the next entry not in use, round robin. */
        for (size_t tries = 0; tries < DB_STMT_CACHE && slot == NULL; tries++) {
            struct db_cached_stmt *c = &db->cache[db->next_evict];
            db->next_evict = (db->next_evict + 1) % DB_STMT_CACHE;
            if (!c->in_use) {
                sqlite3_finalize(c->stmt);
                slot = c;
            }
        }
    }
    if (slot != NULL) {
        slot->sql = sql;
        slot->stmt = stmt;
        slot->in_use = true;
    }
    *out = stmt;
    return ERR_OK;
}

enum err db_cached(struct db *db, const char *sql, sqlite3_stmt **out)
{
    return cached_first(db, sql, out, NULL);
}

void db_finish(struct db *db, sqlite3_stmt *stmt)
{
    if (stmt == NULL)
        return;
    for (size_t i = 0; i < db->n_cache; i++) {
        if (db->cache[i].stmt == stmt && db->cache[i].in_use) {
            sqlite3_reset(stmt);
            sqlite3_clear_bindings(stmt);
            db->cache[i].in_use = false;
            return;
        }
    }
    sqlite3_finalize(stmt);
}

enum err db_bind_text(struct db *db, sqlite3_stmt *stmt, int index, const char *text)
{
    return db_map(db, sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC));
}

enum err db_bind_text_len(struct db *db, sqlite3_stmt *stmt, int index, const char *text,
                          size_t len)
{
    if (len > INT_MAX)
        return db_map(db, SQLITE_TOOBIG);
    return db_map(db, sqlite3_bind_text(stmt, index, text, (int)len, SQLITE_STATIC));
}

enum err db_bind_text_or_null(struct db *db, sqlite3_stmt *stmt, int index, const char *text)
{
    if (text == NULL || text[0] == '\0') {
        db_bind_null(stmt, index);
        return ERR_OK;
    }
    return db_bind_text(db, stmt, index, text);
}

enum err db_bind_blob(struct db *db, sqlite3_stmt *stmt, int index, const void *data, size_t len)
{
    if (len > INT_MAX)
        return db_map(db, SQLITE_TOOBIG);
    return db_map(db, sqlite3_bind_blob(stmt, index, data, (int)len, SQLITE_STATIC));
}

void db_bind_int64(sqlite3_stmt *stmt, int index, int64_t value)
{
    int src = sqlite3_bind_int64(stmt, index, value);

    assert(src == SQLITE_OK);
    (void)src;
}

void db_bind_double(sqlite3_stmt *stmt, int index, double value)
{
    int src = sqlite3_bind_double(stmt, index, value);

    assert(src == SQLITE_OK);
    (void)src;
}

void db_bind_null(sqlite3_stmt *stmt, int index)
{
    int src = sqlite3_bind_null(stmt, index);

    assert(src == SQLITE_OK);
    (void)src;
}

void db_column_copy(sqlite3_stmt *stmt, int column, char *buf, size_t buf_len)
{
    const unsigned char *text = sqlite3_column_text(stmt, column);

    assert(buf_len > 0);
    if (text == NULL) {
        buf[0] = '\0';
        return;
    }
    snprintf(buf, buf_len, "%s", (const char *)text);
}

static enum err pragma_int(struct db *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_prepare(db, sql, &stmt);

    if (rc != ERR_OK)
        return rc;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        *out = sqlite3_column_int64(stmt, 0);
        rc = ERR_OK;
    } else {
        rc = db_map(db, sqlite3_errcode(db->handle));
        if (rc == ERR_OK)
            rc = ERR_DB;
    }
    sqlite3_finalize(stmt);
    return rc;
}

static enum err pragma_text(struct db *db, const char *sql, char *buf, size_t buf_len)
{
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_prepare(db, sql, &stmt);

    if (rc != ERR_OK)
        return rc;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        db_column_copy(stmt, 0, buf, buf_len);
        rc = ERR_OK;
    } else {
        rc = db_map(db, sqlite3_errcode(db->handle));
        if (rc == ERR_OK)
            rc = ERR_DB;
    }
    sqlite3_finalize(stmt);
    return rc;
}

/* Applies the durability settings and reads them back: the service
 * refuses to run on a connection that does not have them. */
static enum err configure(struct db *db, const struct db_options *options, char *why,
                          size_t why_len)
{
    char mode[32];
    char sql[96];
    int64_t value = 0;
    int enabled = 0;
    enum err rc;
    bool is_memory = strcmp(options->path, ":memory:") == 0;

    sqlite3_busy_timeout(db->handle, options->busy_timeout_ms);
    sqlite3_db_config(db->handle, SQLITE_DBCONFIG_DEFENSIVE, 1, &enabled);
    sqlite3_db_config(db->handle, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    sqlite3_extended_result_codes(db->handle, 1);

    /* The first read of the file: a corrupt or foreign file fails here. */
    rc = pragma_text(db, "PRAGMA journal_mode=WAL", mode, sizeof mode);
    if (rc != ERR_OK) {
        snprintf(why, why_len, "cannot use %s as a database: %s", options->path,
                 sqlite3_errmsg(db->handle));
        return rc == ERR_IO ? ERR_IO : ERR_DB;
    }
    if (!is_memory && strcmp(mode, "wal") != 0) {
        snprintf(why, why_len, "journal_mode is %s, expected wal", mode);
        return ERR_DB;
    }
    rc = db_exec(db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
                     "PRAGMA journal_size_limit=67108864");
    if (rc != ERR_OK) {
        snprintf(why, why_len, "cannot apply settings: %s", db->last_error);
        return rc;
    }
    if (options->max_page_count > 0) {
        snprintf(sql, sizeof sql, "PRAGMA max_page_count=%lld", (long long)options->max_page_count);
        if ((rc = db_exec(db, sql)) != ERR_OK)
            return rc;
    }
    if (pragma_int(db, "PRAGMA synchronous", &value) != ERR_OK || value != 2) {
        snprintf(why, why_len, "synchronous is %lld, expected 2 (FULL)", (long long)value);
        return ERR_DB;
    }
    if (pragma_int(db, "PRAGMA foreign_keys", &value) != ERR_OK || value != 1) {
        snprintf(why, why_len, "foreign_keys is off");
        return ERR_DB;
    }
    if (pragma_int(db, "PRAGMA busy_timeout", &value) != ERR_OK ||
        value != options->busy_timeout_ms) {
        snprintf(why, why_len, "busy_timeout is %lld, expected %d", (long long)value,
                 options->busy_timeout_ms);
        return ERR_DB;
    }
    if (sqlite3_db_config(db->handle, SQLITE_DBCONFIG_DEFENSIVE, -1, &enabled) != SQLITE_OK ||
        !enabled) {
        snprintf(why, why_len, "defensive mode is off");
        return ERR_DB;
    }
    return ERR_OK;
}

/* Process-wide SQLite settings, before the library initialises: no allocation
 * statistics (they take a global lock on every malloc, which serialises threads). */
static void configure_library(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

enum err db_open(const struct db_options *options, struct db **out, char *why, size_t why_len)
{
    static pthread_once_t library_once = PTHREAD_ONCE_INIT;
    struct db *db;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    enum err rc;
    int src;

    assert(options && options->path && out);
    if (why_len > 0)
        why[0] = '\0';
    pthread_once(&library_once, configure_library);
    if (options->create)
        flags |= SQLITE_OPEN_CREATE;
    db = core_calloc(1, sizeof *db);
    if (db == NULL)
        return ERR_NO_MEMORY;
    src = sqlite3_open_v2(options->path, &db->handle, flags, NULL);
    if (src != SQLITE_OK) {
        snprintf(why, why_len, "cannot open %s: %s", options->path,
                 db->handle ? sqlite3_errmsg(db->handle) : sqlite3_errstr(src));
        rc = (src & 0xff) == SQLITE_NOMEM ? ERR_NO_MEMORY : ERR_IO;
        db_close(db);
        return rc;
    }
    if (strcmp(options->path, ":memory:") != 0 && access(options->path, W_OK) != 0) {
        snprintf(why, why_len, "cannot write %s: %s", options->path, strerror(errno));
        db_close(db);
        return ERR_IO;
    }
    rc = configure(db, options, why, why_len);
    if (rc == ERR_OK && (rc = db_prepare(db, "ROLLBACK", &db->rollback)) != ERR_OK)
        snprintf(why, why_len, "cannot prepare ROLLBACK: %s", db->last_error);
    if (rc != ERR_OK) {
        db_close(db);
        return rc;
    }
    *out = db;
    return ERR_OK;
}

void db_close(struct db *db)
{
    if (db == NULL)
        return;
    if (db->holds_write_lock && db->write_lock)
        pthread_mutex_unlock(db->write_lock);
    for (size_t i = 0; i < db->n_cache; i++)
        sqlite3_finalize(db->cache[i].stmt);
    sqlite3_finalize(db->rollback);
    sqlite3_close_v2(db->handle);
    db_changes_cleanup(db);
    free(db->countries);
    free(db);
}

/* Ends the connection's transaction, if one is open. A ROLLBACK parsed now would
 * need memory, and after an allocation failure there may be none: the transaction
 * would stay open and every later BEGIN on the connection fail. */
static void rollback(struct db *db)
{
    if (sqlite3_get_autocommit(db->handle))
        return;
    db_changes_forget(db);
    if (db->rollback != NULL) {
        sqlite3_step(db->rollback);
        sqlite3_reset(db->rollback);
    }
    if (!sqlite3_get_autocommit(db->handle))
        sqlite3_exec(db->handle, "ROLLBACK", NULL, NULL, NULL);
}

enum err db_write_begin(struct db *db)
{
    enum err rc;

    if (db->in_group) {
        assert(!db->in_savepoint);
        rc = db_exec(db, "SAVEPOINT write");
        db->in_savepoint = rc == ERR_OK;
        return rc;
    }
    assert(!db->holds_write_lock);
    if (db->write_lock) {
        pthread_mutex_lock(db->write_lock);
        db->holds_write_lock = true;
    }
    /* A transaction an earlier failure could not end (even the prepared ROLLBACK
     * can fail while memory or storage is failing) ends now, before it blocks
     * every write that follows. */
    rollback(db);
    /* What statements outside a transaction changed committed as they ran. */
    db_changes_committed(db);
    rc = db_exec(db, "BEGIN IMMEDIATE");
    if (rc != ERR_OK && db->holds_write_lock) {
        db->holds_write_lock = false;
        pthread_mutex_unlock(db->write_lock);
    }
    return rc;
}

static void release_write_lock(struct db *db)
{
    if (db->holds_write_lock) {
        db->holds_write_lock = false;
        pthread_mutex_unlock(db->write_lock);
    }
}

/* Ends the open write of a group: kept (RELEASE) or undone (ROLLBACK TO). After
 * SQLite has rolled the whole transaction back, there is no savepoint left. */
static enum err end_savepoint(struct db *db, bool keep)
{
    enum err rc = ERR_OK;

    assert(db->in_savepoint);
    db->in_savepoint = false;
    if (sqlite3_get_autocommit(db->handle))
        return ERR_DB;
    if (keep)
        rc = db_exec(db, "RELEASE write");
    if (!keep || rc != ERR_OK)
        sqlite3_exec(db->handle, "ROLLBACK TO write; RELEASE write", NULL, NULL, NULL);
    return keep ? rc : ERR_OK;
}

static enum err write_commit(struct db *db, bool is_observed)
{
    enum err rc;

    if (db->in_group)
        return end_savepoint(db, true);
    rc = db_exec(db, "COMMIT");

    if (rc == ERR_OK && is_observed)
        db_write_batch_observe(1); /* one write per transaction until writes are grouped */
    if (rc != ERR_OK)
        rollback(db);
    release_write_lock(db);
    if (rc == ERR_OK)
        db_changes_committed(db);
    return rc;
}

enum err db_write_commit(struct db *db)
{
    return write_commit(db, true);
}

enum err db_write_commit_quiet(struct db *db)
{
    return write_commit(db, false);
}

void db_write_rollback(struct db *db)
{
    if (db->in_group) {
        if (db->in_savepoint)
            end_savepoint(db, false);
        return;
    }
    rollback(db);
    release_write_lock(db);
}

enum err db_savepoint_begin(struct db *db)
{
    return db_exec(db, "SAVEPOINT part");
}

enum err db_savepoint_end(struct db *db, bool keep)
{
    enum err rc = ERR_OK;

    if (sqlite3_get_autocommit(db->handle))
        return ERR_DB;
    if (keep)
        rc = db_exec(db, "RELEASE part");
    if (!keep || rc != ERR_OK)
        sqlite3_exec(db->handle, "ROLLBACK TO part; RELEASE part", NULL, NULL, NULL);
    return rc;
}

enum err db_group_begin(struct db *db)
{
    enum err rc;

    assert(!db->in_group);
    /* A group of writes to random models dirties a few pages per write and reads
     * their ancestors: with SQLite's default 2 MiB cache it spills and re-reads. */
    if (!db->has_group_cache && db_exec(db, "PRAGMA cache_size=-16384") == ERR_OK)
        db->has_group_cache = true;
    rc = db_write_begin(db);
    db->in_group = rc == ERR_OK;
    return rc;
}

bool db_group_is_intact(struct db *db)
{
    return db->in_group && !sqlite3_get_autocommit(db->handle);
}

enum err db_group_commit(struct db *db, size_t n_writes)
{
    enum err rc;

    assert(db->in_group && !db->in_savepoint);
    db->in_group = false;
    if (sqlite3_get_autocommit(db->handle)) {
        /* SQLite ended the transaction after a storage failure: nothing to commit. */
        release_write_lock(db);
        return ERR_DB;
    }
    rc = db_exec(db, "COMMIT");
    if (rc == ERR_OK)
        db_write_batch_observe(n_writes);
    if (rc != ERR_OK)
        rollback(db);
    release_write_lock(db);
    if (rc == ERR_OK)
        db_changes_committed(db);
    return rc;
}

void db_group_rollback(struct db *db)
{
    if (!db->in_group)
        return;
    if (db->in_savepoint)
        end_savepoint(db, false);
    db->in_group = false;
    db_write_rollback(db);
}

/* Runs one cached statement that returns no rows: a read snapshot's BEGIN and
 * COMMIT come once or more per read request, and parsing them again each time
 * was a measurable part of a footprint's cost. */
static enum err step_cached(struct db *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);

    if (rc != ERR_OK)
        return rc;
    rc = db_map(db, sqlite3_step(stmt));
    db_finish(db, stmt);
    return rc;
}

enum err db_read_begin(struct db *db)
{
    static const char sql[] = "BEGIN";

    return step_cached(db, sql);
}

void db_read_end(struct db *db)
{
    static const char sql[] = "COMMIT";

    if (!sqlite3_get_autocommit(db->handle) && step_cached(db, sql) != ERR_OK)
        rollback(db); /* a snapshot left open would be every later read's, and stale */
}

int64_t db_page_reads(struct db *db)
{
    int hit = 0, miss = 0, high = 0;

    sqlite3_db_status(db->handle, SQLITE_DBSTATUS_CACHE_HIT, &hit, &high, 1);
    sqlite3_db_status(db->handle, SQLITE_DBSTATUS_CACHE_MISS, &miss, &high, 1);
    return (int64_t)hit + miss;
}

enum err db_ping(struct db *db)
{
    int64_t version = 0;

    return pragma_int(db, "PRAGMA user_version", &version);
}

enum err db_schema_version(struct db *db, int *version)
{
    int64_t value = 0;
    enum err rc = pragma_int(db, "PRAGMA user_version", &value);

    if (rc == ERR_OK)
        *version = (int)value;
    return rc;
}

enum err db_startup_check(struct db *db, bool *was_checked)
{
    const char *path = sqlite3_db_filename(db->handle, "main");
    char wal[4096];
    struct stat st;

    *was_checked = false;
    if (path == NULL || path[0] == '\0')
        return ERR_OK; /* in memory */
    snprintf(wal, sizeof wal, "%s-wal", path);
    /* A clean stop checkpoints and removes the WAL; one with frames in it means the
     * last process ended without closing, so the file gets a full check first. */
    if (stat(wal, &st) != 0 || st.st_size == 0)
        return ERR_OK;
    *was_checked = true;
    return db_quick_check(db);
}

enum err db_quick_check(struct db *db)
{
    char result[64];
    enum err rc = pragma_text(db, "PRAGMA quick_check", result, sizeof result);

    if (rc != ERR_OK)
        return rc;
    if (strcmp(result, "ok") != 0) {
        snprintf(db->last_error, sizeof db->last_error, "quick_check: %s", result);
        return ERR_DB;
    }
    return ERR_OK;
}

/* ---- pool ---- */

#define POOL_MAX 64

/* WAL pages after which a commit asks for a checkpoint (SQLite's own default). */
#define CHECKPOINT_PAGES 1000

struct db_pool {
    struct db_options options;
    char *path;
    pthread_mutex_t write_lock;
    pthread_mutex_t mu;
    pthread_key_t key;
    size_t n_conns;
    struct db *conns[POOL_MAX];
    /* The checkpointer: copies the WAL back into the database on its own thread
     * and connection, so a commit never waits for a checkpoint and its syncs. */
    struct db *checkpoint_conn;
    pthread_t checkpoint_thread;
    bool has_checkpoint_thread;
    pthread_cond_t checkpoint_wanted;
    bool is_checkpoint_wanted; /* under mu */
    bool is_stopping;          /* under mu */
    db_change_fn on_change;    /* under mu: given to each connection opened */
    void *on_change_arg;
};

/* After each commit on a pool connection: when the WAL has grown long, wake the
 * checkpointer instead of checkpointing on the committing thread. */
static int on_wal_commit(void *arg, sqlite3 *handle, const char *schema, int pages)
{
    struct db_pool *pool = arg;

    (void)handle;
    (void)schema;
    if (pages >= CHECKPOINT_PAGES) {
        pthread_mutex_lock(&pool->mu);
        pool->is_checkpoint_wanted = true;
        pthread_cond_signal(&pool->checkpoint_wanted);
        pthread_mutex_unlock(&pool->mu);
    }
    return SQLITE_OK;
}

static void *checkpoint_main(void *arg)
{
    struct db_pool *pool = arg;

    for (;;) {
        int wal_pages = 0, copied = 0, rc;
        pthread_mutex_lock(&pool->mu);
        while (!pool->is_checkpoint_wanted && !pool->is_stopping)
            pthread_cond_wait(&pool->checkpoint_wanted, &pool->mu);
        pool->is_checkpoint_wanted = false;
        if (pool->is_stopping) {
            pthread_mutex_unlock(&pool->mu);
            return NULL;
        }
        pthread_mutex_unlock(&pool->mu);
        /* PASSIVE: copies what no reader still needs, never blocks readers or the
         * writer; what it leaves waits for the next turn. */
        rc = sqlite3_wal_checkpoint_v2(pool->checkpoint_conn->handle, NULL,
                                       SQLITE_CHECKPOINT_PASSIVE, &wal_pages, &copied);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            db_map(pool->checkpoint_conn, rc); /* remembered for the logs */
    }
}

/* Adds an open connection to the pool: its commits leave checkpoints to the
 * checkpointer. */
static void pool_adopt(struct db_pool *pool, struct db *db)
{
    db->write_lock = &pool->write_lock;
    sqlite3_wal_hook(db->handle, on_wal_commit, pool);
    pool->conns[pool->n_conns++] = db;
}

enum err db_pool_watch_changes(struct db_pool *pool, db_change_fn fn, void *arg)
{
    enum err rc = ERR_OK;

    pthread_mutex_lock(&pool->mu);
    pool->on_change = fn;
    pool->on_change_arg = arg;
    for (size_t i = 0; rc == ERR_OK && i < pool->n_conns; i++)
        rc = db_changes_watch(pool->conns[i], fn, arg);
    pthread_mutex_unlock(&pool->mu);
    return rc;
}

enum err db_pool_create(const struct db_options *options, struct db_pool **out, char *why,
                        size_t why_len)
{
    struct db_pool *pool = core_calloc(1, sizeof *pool);
    struct db *first = NULL;
    enum err rc;

    if (pool == NULL)
        return ERR_NO_MEMORY;
    pool->path = core_strdup(options->path);
    if (pool->path == NULL) {
        free(pool);
        return ERR_NO_MEMORY;
    }
    pool->options = *options;
    pool->options.path = pool->path;
    pthread_mutex_init(&pool->write_lock, NULL);
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->checkpoint_wanted, NULL);
    pthread_key_create(&pool->key, NULL);
    /* Open one connection now so a bad file fails start-up, not the first request. */
    rc = db_open(&pool->options, &first, why, why_len);
    if (rc == ERR_OK)
        rc = db_open(&pool->options, &pool->checkpoint_conn, why, why_len);
    if (rc == ERR_OK && pthread_create(&pool->checkpoint_thread, NULL, checkpoint_main, pool) != 0)
        rc = ERR_NO_MEMORY;
    if (rc != ERR_OK) {
        db_close(first);
        db_pool_destroy(pool);
        return rc;
    }
    pool->has_checkpoint_thread = true;
    pool_adopt(pool, first);
    pthread_setspecific(pool->key, first);
    *out = pool;
    return ERR_OK;
}

enum err db_pool_acquire(struct db_pool *pool, struct db **out)
{
    struct db *db = pthread_getspecific(pool->key);
    char why[256];
    enum err rc;

    if (db != NULL) {
        *out = db;
        return ERR_OK;
    }
    pthread_mutex_lock(&pool->mu);
    if (pool->n_conns == POOL_MAX) {
        pthread_mutex_unlock(&pool->mu);
        return ERR_BUSY;
    }
    rc = db_open(&pool->options, &db, why, sizeof why);
    if (rc == ERR_OK && pool->on_change &&
        (rc = db_changes_watch(db, pool->on_change, pool->on_change_arg)) != ERR_OK)
        db_close(db);
    if (rc == ERR_OK) {
        pool_adopt(pool, db);
        pthread_setspecific(pool->key, db);
        *out = db;
    }
    pthread_mutex_unlock(&pool->mu);
    return rc;
}

void db_pool_destroy(struct db_pool *pool)
{
    if (pool == NULL)
        return;
    if (pool->has_checkpoint_thread) {
        pthread_mutex_lock(&pool->mu);
        pool->is_stopping = true;
        pthread_cond_signal(&pool->checkpoint_wanted);
        pthread_mutex_unlock(&pool->mu);
        pthread_join(pool->checkpoint_thread, NULL);
    }
    /* The last connection to close checkpoints the whole WAL and removes it. */
    db_close(pool->checkpoint_conn);
    for (size_t i = 0; i < pool->n_conns; i++)
        db_close(pool->conns[i]);
    pthread_key_delete(pool->key);
    pthread_cond_destroy(&pool->checkpoint_wanted);
    pthread_mutex_destroy(&pool->mu);
    pthread_mutex_destroy(&pool->write_lock);
    free(pool->path);
    free(pool);
}
