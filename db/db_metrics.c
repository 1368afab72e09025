/* SPDX-License-Identifier: Apache-2.0 */
/* What GET /metrics reads from storage: the file's size, the most-used models, the
 * base models' family totals, and the sizes of committed write batches. Returns
 * plain structs; no SQLite type escapes. */
#include "db_internal.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Upper bounds of the write batch histogram, in writes per transaction. */
static const uint64_t batch_bounds[DB_WRITE_BATCH_BUCKETS] = {1, 2, 4, 8, 16, 32, 64, 128, 256};

/* Process-wide: every pool of the process commits through db_write_commit. The
 * last slot counts batches above the largest bound. */
static _Atomic uint64_t batch_counts[DB_WRITE_BATCH_BUCKETS + 1];
static _Atomic uint64_t batch_writes;

void db_write_batch_observe(size_t n_writes)
{
    size_t i = 0;

    while (i < DB_WRITE_BATCH_BUCKETS && n_writes > batch_bounds[i])
        i++;
    atomic_fetch_add(&batch_counts[i], 1);
    atomic_fetch_add(&batch_writes, (uint64_t)n_writes);
}

void db_write_batches(struct db_write_batches *out)
{
    uint64_t cumulative = 0;

    for (size_t i = 0; i < DB_WRITE_BATCH_BUCKETS; i++) {
        cumulative += atomic_load(&batch_counts[i]);
        out->bound[i] = batch_bounds[i];
        out->count_le[i] = cumulative;
    }
    out->count = cumulative + atomic_load(&batch_counts[DB_WRITE_BATCH_BUCKETS]);
    out->writes = atomic_load(&batch_writes);
}

enum err db_storage_size(struct db *db, struct db_storage_size *out)
{
    static const char sql[] =
        "SELECT p.page_count, s.page_size FROM pragma_page_count() p, pragma_page_size() s";
    sqlite3_stmt *stmt = NULL;
    const char *path;
    enum err rc = db_cached(db, sql, &stmt);
    int step;

    if (rc != ERR_OK)
        return rc;
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        out->page_count = sqlite3_column_int64(stmt, 0);
        out->page_size = sqlite3_column_int64(stmt, 1);
    } else {
        rc = db_map(db, step);
    }
    db_finish(db, stmt);
    if (rc != ERR_OK)
        return rc;
    /* The WAL file sits beside the database; none for an in-memory database, and
     * none between the last connection's close and the next open. */
    out->wal_bytes = 0;
    path = sqlite3_db_filename(db->handle, "main");
    if (path != NULL && path[0] != '\0') {
        char wal[4096];
        struct stat st;
        if ((size_t)snprintf(wal, sizeof wal, "%s-wal", path) < sizeof wal && stat(wal, &st) == 0)
            out->wal_bytes = (int64_t)st.st_size;
    }
    return ERR_OK;
}

enum err db_metrics_top_models(struct db *db, size_t limit, int64_t *keys, size_t *n_keys)
{
    static const char sql[] =
        "SELECT model_id FROM model_ledger ORDER BY inferences DESC, model_id LIMIT ?1";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    size_t n = 0;
    int step = SQLITE_DONE;

    *n_keys = 0;
    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, (sqlite3_int64)limit);
    while (n < limit && (step = sqlite3_step(stmt)) == SQLITE_ROW)
        keys[n++] = sqlite3_column_int64(stmt, 0);
    if (n < limit && step != SQLITE_DONE)
        rc = db_map(db, step);
    db_finish(db, stmt);
    if (rc == ERR_OK)
        *n_keys = n;
    return rc;
}

enum err db_metrics_families(struct db *db, size_t limit, struct db_family_total *items,
                             size_t *n_items)
{
    /* The roots are chosen first (LIMIT inside the CTE), so only their families are
     * summed: O(sum of the chosen families' sizes) rows, read by primary key. */
    static const char sql[] =
        "WITH roots AS ("
        " SELECT m.id AS id, m.namespace AS ns, m.name AS name,"
        " l.descendant_inferences AS uses FROM models m"
        " JOIN model_ledger l ON l.model_id = m.id WHERE m.depth = 0"
        " ORDER BY l.descendant_inferences DESC, m.id LIMIT ?1) "
        "SELECT r.id, r.ns, r.name, total(d.own_co2e_kg), total(d.own_co2e_kg_low),"
        " total(d.own_co2e_kg_high) FROM roots r"
        " JOIN model_closure c ON c.ancestor_id = r.id"
        " JOIN model_ledger d ON d.model_id = c.descendant_id"
        " GROUP BY r.id ORDER BY r.uses DESC, r.id";
    sqlite3_stmt *stmt = NULL;
    enum err rc = db_cached(db, sql, &stmt);
    size_t n = 0;
    int step = SQLITE_DONE;

    *n_items = 0;
    if (rc != ERR_OK)
        return rc;
    db_bind_int64(stmt, 1, (sqlite3_int64)limit);
    while (n < limit && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct db_family_total *f = &items[n++];
        memset(f, 0, sizeof *f);
        f->root_key = sqlite3_column_int64(stmt, 0);
        db_column_copy(stmt, 1, f->root.ns, sizeof f->root.ns);
        db_column_copy(stmt, 2, f->root.name, sizeof f->root.name);
        f->own_co2e_kg.value = sqlite3_column_double(stmt, 3);
        f->own_co2e_kg.low = sqlite3_column_double(stmt, 4);
        f->own_co2e_kg.high = sqlite3_column_double(stmt, 5);
    }
    if (n < limit && step != SQLITE_DONE)
        rc = db_map(db, step);
    db_finish(db, stmt);
    if (rc == ERR_OK)
        *n_items = n;
    return rc;
}
