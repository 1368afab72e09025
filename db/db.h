/* SPDX-License-Identifier: Apache-2.0 */
/* The storage contract of carbontree: every SQL statement and every sqlite3 type
 * lives behind this header. Functions return core structs and enum err; no SQLite
 * type or code escapes. A struct db is one connection, used by one thread at a time. */
#ifndef DB_DB_H
#define DB_DB_H

#include "country.h"
#include "dividend.h"
#include "err.h"
#include "footprint.h"
#include "inference.h"
#include "model.h"
#include "range.h"
#include "refdata.h"

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

/* The sqlite error text of the last failure on the calling thread, for logs only. */
const char *db_thread_last_error(void);

/* Closes a connection; NULL is a no-op. */
void db_close(struct db *db);

/* The sqlite error text of the last failure on this connection, for logs only
 * (never for clients). Static or connection-owned storage. */
const char *db_last_error(const struct db *db);

/* Applies every embedded migration newer than the file's user_version, each in one
 * BEGIN IMMEDIATE transaction that also sets user_version. Safe to run again.
 * *from and *to (either may be NULL) receive the versions before and after. */
enum err db_migrate(struct db *db, int *from, int *to);

/* db_migrate, stopping after migration target: a file of an earlier schema, as an
 * older release left it (for upgrade tests). */
enum err db_migrate_to(struct db *db, int target, int *from, int *to);

/* Newest migration compiled into the binary. */
int db_schema_latest(void);

/* Current user_version of the connection's file. */
enum err db_schema_version(struct db *db, int *version);

/* Database pages this connection read (from its cache or the file) since the last
 * call, which resets the count: the measure of how much a read touches. */
int64_t db_page_reads(struct db *db);

/* A cheap read proving the database answers (readyz). */
enum err db_ping(struct db *db);

/* Runs PRAGMA quick_check; ERR_DB when it does not answer "ok". */
enum err db_quick_check(struct db *db);

/* The start-up check: PRAGMA quick_check when the file's WAL holds frames (the last
 * process did not stop cleanly), nothing otherwise, so a clean start does not read
 * the whole file. *was_checked says which. ERR_DB when the check fails. */
enum err db_startup_check(struct db *db, bool *was_checked);

/* Transactions. db_write_begin starts BEGIN IMMEDIATE (taking the pool's write lock
 * first when the connection came from a pool); end it with db_write_commit or
 * db_write_rollback. A commit that fails rolls back and returns the mapped error. */
enum err db_write_begin(struct db *db);
/* A part of the caller's write transaction that can be undone on its own: begin,
 * then end keeping it (RELEASE) or undoing it (ROLLBACK TO). Not nested. */
enum err db_savepoint_begin(struct db *db);
enum err db_savepoint_end(struct db *db, bool keep);

enum err db_write_commit(struct db *db);
void db_write_rollback(struct db *db);

/* Group commit: one transaction that carries many writes, committed (and synced)
 * once. The first group on a connection enlarges its page cache to 16 MiB (a group
 * touches many pages). Between db_group_begin and db_group_commit or db_group_rollback, each
 * db_write_begin ... db_write_commit on the connection is a savepoint of the
 * group: db_write_rollback undoes that write alone, db_write_commit keeps it until
 * the group commits. A storage failure may end the whole transaction (SQLite rolls
 * it back): db_group_is_intact says whether the group still holds its writes.
 * db_group_commit records the batch of n_writes in db_write_batches; a commit that
 * fails rolls the group back and returns the mapped error. */
enum err db_group_begin(struct db *db);
bool db_group_is_intact(struct db *db);
enum err db_group_commit(struct db *db, size_t n_writes);
void db_group_rollback(struct db *db);

/* Read snapshot: every read in between sees one consistent state. */
enum err db_read_begin(struct db *db);
void db_read_end(struct db *db);

/* A pool hands each thread its own connection to one file; writes from the pool's
 * connections are serialised by a process-wide lock before BEGIN IMMEDIATE. Its
 * commits never checkpoint: once the WAL holds 1,000 pages, the pool's own thread
 * and connection checkpoint it (PASSIVE), beside readers and the writer. */
enum err db_pool_create(const struct db_options *options, struct db_pool **out, char *why,
                        size_t why_len);
/* The calling thread's connection, opened on first use; owned by the pool. */
enum err db_pool_acquire(struct db_pool *pool, struct db **out);
/* Closes every connection; call when no thread uses the pool any more. */
void db_pool_destroy(struct db_pool *pool);

/* What a commit changed: the storage keys of the roots of every family whose
 * models it touched (sorted, once each), or is_all (roots NULL) when that is not
 * known (a transaction over tens of thousands of models, or a failed lookup). */
typedef void (*db_change_fn)(void *arg, const int64_t *roots, size_t n_roots, bool is_all);

/* From now on, every commit on a connection of the pool that changed a model, its
 * ledger, its inference profile or its card calls fn, on the committing thread,
 * after the commit stood and before db_write_commit or db_group_commit returns.
 * Call before the pool is shared between threads. ERR_NO_MEMORY. */
enum err db_pool_watch_changes(struct db_pool *pool, db_change_fn fn, void *arg);

/* A number that differs from the one the last call on db gave when another
 * connection (another process, such as carbontree import) committed in between;
 * db's own commits leave it alone. ERR_DB. */
enum err db_data_version(struct db *db, int64_t *out);

/* ---- models and lineage (db/db_models.c, db/ledger.c) ---- */

/* Inserts a model and its parent edges, keeps the ancestor closure and depth, all
 * inside the caller's write transaction. m->parents name existing models.
 * ERR_CONFLICT: the id exists. ERR_NOT_FOUND: a parent does not exist (*bad_parent
 * is its index). ERR_INVALID_INPUT: the lineage would be deeper than
 * CORE_LINEAGE_MAX_DEPTH. On success m->key, depth, version and times are filled. */
enum err db_model_insert(struct db *db, struct core_model *m, size_t *bad_parent);

/* The storage key and stored spelling of a registered model id (ids match whatever
 * their case), without metadata or parents. ERR_NOT_FOUND when absent. */
enum err db_model_find(struct db *db, const struct core_model_id *id, int64_t *key,
                       struct core_model_id *stored);

/* Loads a model with its parents. ERR_NOT_FOUND when absent. */
enum err db_model_get(struct db *db, const struct core_model_id *id, struct core_model *out);

enum db_model_order {
    DB_MODEL_BY_KEY,        /* registration order (oldest first) */
    DB_MODEL_BY_KEY_DESC,   /* newest first */
    DB_MODEL_BY_INFERENCES, /* most cumulative inferences first, ties by key */
    DB_MODEL_BY_OWN_CO2E,   /* most own emissions (central value) first, ties by key */
    /* the policy-free footprint (policy none: own emissions plus the model's own
     * inferences' emissions, central values), most first, ties by key */
    DB_MODEL_BY_FOOTPRINT,
    /* that footprint per inference, most first, models without inferences last,
     * ties by key */
    DB_MODEL_BY_FOOTPRINT_PER_INFERENCE,
};

struct db_model_filter {
    const char *ns;                     /* NULL: any namespace */
    const struct core_model_id *parent; /* NULL: any; else direct children of parent */
    int64_t after_key;                  /* cursor: the previous page's last model */
    size_t limit;                       /* at most this many */
    enum db_model_order order;          /* other than by key: no ns, no parent */
    /* NULL: any id; else models whose id ("namespace/name", or a bare name) starts
     * with it, case-insensitively, in the order of their ids; only with the key
     * order and no ns or parent. Characters of an id only. */
    const char *id_prefix;
};

/* Lists models in filter->order. items has room for filter->limit models; *n_items
 * is set, and *has_more says whether another page exists. A page continues after
 * after_key's place in the order as it is now; each order walks an index, reading
 * O(limit) rows. ERR_NOT_FOUND when filter->parent names no model, or when an
 * order by a figure or an id_prefix has an after_key that names no model; ERR_INVALID_INPUT for an
 * order by a figure with a namespace or parent filter. */
enum err db_model_list(struct db *db, const struct db_model_filter *filter,
                       struct core_model *items, size_t *n_items, bool *has_more);

/* Updates display metadata (task, license, url, parameters) of an existing model
 * and bumps its version, inside the caller's write transaction. */
enum err db_model_update_metadata(struct db *db, const struct core_model *m);

/* Replaces the parents of model m->key with m->parents, inside the caller's write
 * transaction, recomputing closure and depth of m and everything below it, and the
 * family aggregates of every old and new ancestor. The version is the caller's to
 * bump (db_model_update_metadata).
 * ERR_CONFLICT when an edge would close a cycle (*bad_parent names it);
 * ERR_NOT_FOUND for an unknown parent; ERR_INVALID_INPUT when too deep;
 * ERR_COUNT_OVERFLOW when an ancestor's inference total would pass INT64_MAX. */
enum err db_model_set_parents(struct db *db, struct core_model *m, size_t *bad_parent);

/* Deletes a model with no children, inside the caller's write transaction.
 * ERR_NOT_FOUND when absent; ERR_CONFLICT while it has children. */
enum err db_model_delete(struct db *db, const struct core_model_id *id);

/* ---- the family ledger (db/ledger.c) ---- */

#define DB_TEXT_MAX 32

/* One activity as stored. inputs_json and result_json are malloc'd (db_activity_cleanup). */
struct db_activity {
    int64_t id;
    char kind[DB_TEXT_MAX];
    char obtained[DB_TEXT_MAX];
    char method[DB_TEXT_MAX]; /* empty when not estimated */
    bool has_energy;
    struct core_range energy_kwh;
    struct core_range co2e_kg;
    char *inputs_json;
    char *result_json;
    char methodology_version[DB_TEXT_MAX];
    char created_at[CORE_MODEL_TIME_MAX];
};

void db_activity_cleanup(struct db_activity *activity);

/* Appends an activity to model_key and refreshes the model's aggregates, inside the
 * caller's write transaction. Fills activity->id and created_at. */
enum err db_activity_insert(struct db *db, int64_t model_key, struct db_activity *activity);

/* Lists activities of model_key with id > after_id, at most limit, into items
 * (room for limit); the caller cleans up each item. */
enum err db_activity_list(struct db *db, int64_t model_key, int64_t after_id, size_t limit,
                          struct db_activity *items, size_t *n_items, bool *has_more);

/* Deletes one activity of model_key and refreshes the aggregates, inside the
 * caller's write transaction. ERR_NOT_FOUND when the model has no such activity. */
enum err db_activity_delete(struct db *db, int64_t model_key, int64_t activity_id);

/* Adds delta inferences to model_key on day (YYYY-MM-DD), keeping the cumulative
 * total, the model's own family sum and the daily bucket, and recording the delta
 * for the fold (the ancestors' family sums and the totals), inside the caller's
 * write transaction. ERR_INVALID_INPUT when delta is negative; ERR_COUNT_OVERFLOW
 * when a family sum (folded or not) would pass INT64_MAX. *total_out (may be NULL) receives the
 * model's new cumulative total. */
enum err db_inferences_add(struct db *db, int64_t model_key, int64_t delta, const char *day,
                           int64_t *total_out);

/* One item of a batch report: count inferences of model id on day (YYYY-MM-DD). */
struct db_inference_report {
    struct core_model_id id;
    int64_t count;
    char day[11];
};

/* Counts every item as db_inferences_add would, one by one in order, inside the
 * caller's write transaction, but reads and writes each model, ancestor and daily
 * row once. Nothing is written when an item fails; *bad is the first failing item:
 * ERR_NOT_FOUND when it names no registered model, ERR_INVALID_INPUT when its
 * count is negative, ERR_COUNT_OVERFLOW when it would take a total past INT64_MAX. */
enum err db_inferences_add_many(struct db *db, const struct db_inference_report *items, size_t n,
                                size_t *bad);

/* Sets reporter's cumulative counter for model_key to total and counts the
 * difference on day, inside the caller's write transaction. A total smaller than
 * the stored one is ERR_CONFLICT unless is_reset (then total counts from zero);
 * ERR_COUNT_OVERFLOW when the difference would take a total past INT64_MAX.
 * *previous and *delta receive the old total (0 when new) and what was counted. */
enum err db_counter_put(struct db *db, int64_t model_key, const char *reporter, int64_t total,
                        bool is_reset, const char *day, int64_t *previous, int64_t *delta);

struct db_day_count {
    char day[11];
    int64_t count;
};

/* Daily counts of model_key for days in [from, to] (inclusive, YYYY-MM-DD), in
 * order, at most cap; *n_out is set. */
enum err db_inference_series(struct db *db, int64_t model_key, const char *from, const char *to,
                             struct db_day_count *days, size_t cap, size_t *n_out);

/* One day of a family: the inferences its members counted and their CO2e, each
 * count at its model's CO2e per inference now (as the model's own series prices
 * it). */
struct db_family_day {
    char day[11];
    int64_t inferences;
    struct core_range co2e_kg;
};

/* The days in [from, to] (inclusive, YYYY-MM-DD) on which the family below
 * model_key (itself included) counted inferences, in order, at most cap; *n_out is
 * set. Reads the family's maintained days by representative, O(representatives x
 * days) whatever its size, and the deltas still pending. */
enum err db_family_daily_series(struct db *db, int64_t model_key, const char *from, const char *to,
                                struct db_family_day *days, size_t cap, size_t *n_out);

/* Loads every ancestor of model_key (itself included), shallowest first, into
 * *lineage with their aggregates, and the inference profile that applies to the
 * model: its own, else that of its nearest ancestor with one (the deepest; the
 * last such member). Reads O(ancestors) rows whatever the family size. *lineage is
 * initialised here; the caller frees it with core_lineage_cleanup (on failure it
 * is empty). ERR_NOT_FOUND when there is no such model. */
enum err db_lineage_load(struct db *db, int64_t model_key, struct core_lineage *lineage);

/* db_lineage_load of the model named id (compared as the registry compares ids), in
 * one statement: its own snapshot, no transaction needed. ERR_NOT_FOUND when no
 * model has this id. */
enum err db_lineage_load_id(struct db *db, const struct core_model_id *id,
                            struct core_lineage *lineage);

/* db_lineage_load_id with each member's card flags (core_lineage_member.flags),
 * for a footprint and its warnings: one statement, one walk of the lineage. */
enum err db_lineage_load_flags(struct db *db, const struct core_model_id *id,
                               struct core_lineage *lineage);

/* The inference profile of model_key, its own only, into *out with *has_profile
 * true; *has_profile false (and *out zeroed) when it has none. */
enum err db_profile_get(struct db *db, int64_t model_key, struct core_inference_profile *out,
                        bool *has_profile);

/* Stores profile as the inference profile of model_key, inside the caller's write
 * transaction; NULL clears it. ERR_NOT_FOUND when there is no such model. */
enum err db_profile_set(struct db *db, int64_t model_key,
                        const struct core_inference_profile *profile);

/* Members of D(model_key) with key > after_key in key order, at most limit keys. */
enum err db_family_page(struct db *db, int64_t model_key, int64_t after_key, size_t limit,
                        int64_t *keys, size_t *n_keys, bool *has_more);

/* Fills m->parents and m->n_parents from the stored edges of m->key, in order. */
enum err db_model_parents(struct db *db, struct core_model *m);

/* Marks model key as a placeholder (a parent a card named before it was registered)
 * or as a registered model, inside the caller's write transaction. */
enum err db_model_set_placeholder(struct db *db, int64_t key, bool placeholder);

/* ---- model cards (db/db_cards.c) ---- */

/* What the last card registration of a model said (migrations/0006_cards.sql).
 * facts and ignored are JSON text, malloc'd; db_card_cleanup frees them. */
struct db_card {
    char *facts;
    char *ignored;
    int64_t activity_id; /* the card's reported activity, 0 when none */
    int relation_given;  /* 1 given, 0 inferred, -1 when the card has no parents */
    bool is_card;        /* the body was a Hub card, not carbontree's own form */
    char relation_from[256];
    /* co2_eq_emissions' other fields as the card gives them, empty when absent */
    char location[256], hardware[256], source[256];
    bool has_hours;
    double hours;
    char *flags; /* JSON array of {"flag", "detail"}, malloc'd; NULL reads as [] */
    /* JSON object of what the card's words were read as (matched region and
     * hardware, training type), malloc'd; NULL reads as {} */
    char *readings;
};

void db_card_cleanup(struct db_card *card);

/* The card record of model_key into *out. ERR_NOT_FOUND when the model was not
 * registered from a card. */
enum err db_card_get(struct db *db, int64_t model_key, struct db_card *out);

/* Stores (inserting or replacing) the card record of model_key, inside the
 * caller's write transaction. */
enum err db_card_put(struct db *db, int64_t model_key, const struct db_card *card);

/* The nearest strict ancestor of model_key with a reported activity of co2e_kg
 * (to a relative 1e-9): its id into *ancestor, ERR_NOT_FOUND when none. */
enum err db_card_ancestor_with(struct db *db, int64_t model_key, double co2e_kg,
                               struct core_model_id *ancestor);

/* The strict descendants of model_key, at most max into keys, that are quantized or
 * adapter children of their parents and whose card's reported activity is co2e_kg
 * (to a relative 1e-9): copies of the figure model_key has just been given. */
enum err db_card_copies_below(struct db *db, int64_t model_key, double co2e_kg, int64_t *keys,
                              size_t max, size_t *n);

/* A sibling of a model (a child of one of its parents under the same relation)
 * whose card reported a figure. */
struct db_card_sibling {
    int64_t key;
    struct core_model_id id;
    double co2e_kg; /* the figure of its card's reported activity */
};

/* The siblings of model_key with a card-reported figure, at most max into items,
 * in key order. */
enum err db_card_siblings(struct db *db, int64_t model_key, struct db_card_sibling *items,
                          size_t max, size_t *n);

/* Idempotency records, scoped (by token) and keyed. get: ERR_NOT_FOUND when the key
 * is new; otherwise *request_hash (65 bytes), *status and *response (malloc'd). */
enum err db_idempotency_get(struct db *db, const char *scope, const char *key, char *request_hash,
                            int *status, char **response);
enum err db_idempotency_put(struct db *db, const char *scope, const char *key,
                            const char *request_hash, int status, const char *response);

/* ---- bulk import (db/db_import.c) ---- */

/* A bulk load on one connection: its statements are prepared once, for the whole
 * run, and it enlarges the connection's page cache. Wrap the calls in
 * db_write_begin ... db_bulk_flush, db_write_commit batches. A call that fails
 * with ERR_CONFLICT, ERR_NOT_FOUND, ERR_INVALID_INPUT or ERR_COUNT_OVERFLOW has
 * written nothing; after any other failure roll the batch back. The caller owns
 * *out and destroys it with db_bulk_destroy before closing db. */
struct db_bulk;
enum err db_bulk_create(struct db *db, struct db_bulk **out);
void db_bulk_destroy(struct db_bulk *bulk);

/* Writes the family sums (members and inferences) the batch's new models add to
 * their ancestors, which db_bulk_model_insert keeps in memory until then. Call
 * before each commit; until then those ancestors' ledger rows are behind. */
enum err db_bulk_flush(struct db_bulk *bulk);

/* Inserts a new model as db_model_insert does (edges, closure, ledger row, one
 * more member for each ancestor), with inferences (>= 0) counted on day
 * (YYYY-MM-DD) for it and every ancestor. Fills m->key and m->depth only.
 * ERR_CONFLICT: the id exists. ERR_NOT_FOUND: a parent does not exist (*bad_parent
 * is its index). ERR_INVALID_INPUT: too deep. ERR_COUNT_OVERFLOW: an ancestor's
 * inference total would pass INT64_MAX (*bad_parent names the parent). */
enum err db_bulk_model_insert(struct db_bulk *bulk, struct core_model *m, int64_t inferences,
                              const char *day, size_t *bad_parent);

/* Whether model id is registered (a placeholder included): *exists. ERR_DB when
 * the lookup fails. */
enum err db_bulk_model_exists(struct db_bulk *bulk, const struct core_model_id *id, bool *exists);

/* Before a write outside the bulk statements adds inferences (>= 0) below some
 * model: writes the pending family sums unless no family total, pending sums
 * included, could pass INT64_MAX with them, so that the write's own overflow check
 * sees what it would see with the sums written. */
enum err db_bulk_room(struct db_bulk *bulk, int64_t inferences);

/* Appends an activity to model_key; once a model's activities are in, call
 * db_bulk_activities_done to refresh its own sums. Fills a->id, not created_at. */
enum err db_bulk_activity_insert(struct db_bulk *bulk, int64_t model_key, struct db_activity *a);
enum err db_bulk_activities_done(struct db_bulk *bulk, int64_t model_key);

/* ---- reference data: hardware and regions (db/db_refdata.c) ---- */

/* Loads the reference tables embedded in the binary (reference-data/) into the
 * tables of migration 3, inside the caller's write transaction: validates every
 * row, stores the valid ones with their table and line, and records each skipped
 * row with its reason and per-table counts in reference_loads. Called by the
 * migration runner. ERR_INTERNAL when an embedded file is missing or is not the
 * expected table (db_last_error says which); ERR_DB and friends on storage errors. */
enum err db_refdata_load(struct db *db);

#define DB_LICENCE_MAX     32
#define DB_ATTRIBUTION_MAX 256

/* One hardware row. hardware.table points to static storage. is_preferred: a
 * lookup of this row's exact name answers this row (no other row with the same
 * name ranks before it). */
struct db_hardware {
    int64_t id;
    struct core_hardware hardware;
    bool is_preferred;
    char licence[DB_LICENCE_MAX];
    char attribution[DB_ATTRIBUTION_MAX];
};

/* One region row. region.table points to static storage. kind is "world",
 * "country", "subdivision" or "cloud"; provider is "" unless kind is "cloud".
 * is_preferred: a lookup of this row's code answers this row (for a country, a
 * lookup of any of its spellings). matched_by: how the text given to
 * db_region_find or db_region_resolve_text named this row; CORE_LOCATION_NONE in
 * listings. */
struct db_region {
    int64_t id;
    struct core_region region;
    char kind[16];
    char provider[24];
    bool is_preferred;
    enum core_location_match matched_by;
    char licence[DB_LICENCE_MAX];
    char attribution[DB_ATTRIBUTION_MAX];
};

/* Finds the region a location names, without case: a country by any ISO 3166-1
 * spelling (alpha-2 "DE", alpha-3 "DEU", numeric "276", English name "Germany"),
 * then a row's own code ("US-CA", "WORLD", "gcp:europe-west1"), then a cloud
 * region without its provider ("us-east-1") when one provider has it. Every
 * spelling of a country answers one row: among the country rows under its alpha-2
 * and alpha-3 codes, migration 3's precedence (the energy mix, most recent and
 * national, before Green Algorithms). out->matched_by says which rule matched.
 * ERR_CONFLICT when a bare cloud region name belongs to several providers
 * (db_region_candidates lists them); ERR_NOT_FOUND when nothing matches. */
enum err db_region_find(struct db *db, const char *code, struct db_region *out);

/* Resolves a free-text location as model cards write it ("USA", "Frankfurt,
 * Germany", "europe-north1"): first as db_region_find, then each comma-separated
 * part; the parts that name a region must all name the same one. Never fails for
 * want of a match: *is_matched is false, and *out untouched, when the text names
 * no region or several (the caller keeps the text as text). When the match came
 * from a part, out->matched_by is CORE_LOCATION_FREE_TEXT. ERR_DB and friends on
 * storage errors only. */
enum err db_region_resolve_text(struct db *db, const char *text, struct db_region *out,
                                bool *is_matched);

/* The region row at line row of table (as a stored intensity names it), whatever
 * lookups answer today. ERR_NOT_FOUND when there is none. */
enum err db_region_at(struct db *db, const char *table, unsigned long row, struct db_region *out);

/* The provider:region codes of every provider whose region is named name (a bare
 * cloud region name), joined by ", " into buf in provider order. ERR_NOT_FOUND
 * when no provider has it. */
enum err db_region_candidates(struct db *db, const char *name, char *buf, size_t buf_len);

/* The ISO 3166-1 country text spells (as core_country_match) into *out, with how
 * in *how. ERR_NOT_FOUND when it spells none. */
enum err db_country_find(struct db *db, const char *text, struct core_country *out,
                         enum core_location_match *how);

/* The known code closest to code (edit distance, case-insensitive, over codes and
 * region names) into buf. ERR_NOT_FOUND when nothing is close enough to suggest. */
enum err db_region_closest(struct db *db, const char *code, char *buf, size_t buf_len);

/* Finds hardware by name: case, spaces and punctuation are ignored, and leading
 * vendor words may be left out ("v100" finds "NVIDIA Tesla V100"). An exact name
 * beats a vendor-less one, then migration 3's precedence applies. ERR_NOT_FOUND
 * when nothing matches. */
enum err db_hardware_find(struct db *db, const char *name, struct db_hardware *out);

/* The known hardware name closest to name (a name containing it, else by edit
 * distance) into buf. ERR_NOT_FOUND when nothing is close enough to suggest. */
enum err db_hardware_closest(struct db *db, const char *name, char *buf, size_t buf_len);

struct db_hardware_filter {
    const char *name; /* NULL: any; else a case-insensitive substring of the name */
    const char *kind; /* NULL: any; else "gpu", "cpu" or "tpu" */
    int64_t after_id; /* cursor: ids greater than this */
    size_t limit;     /* at most this many (> 0) */
};

/* Lists hardware rows in id order into items (room for filter->limit); *n_items is
 * set and *has_more says whether another page exists. */
enum err db_hardware_list(struct db *db, const struct db_hardware_filter *filter,
                          struct db_hardware *items, size_t *n_items, bool *has_more);

struct db_region_filter {
    const char *name;     /* NULL: any; else a case-insensitive substring of code or name */
    const char *provider; /* NULL: any; else a cloud provider ("gcp", "aws", ...) */
    const char *country;  /* NULL: any; else a country in any ISO 3166-1 spelling: its
                             rows under either code and its subdivisions ("US" and
                             "USA" both give US, USA and US-CA) */
    const char *kind;     /* NULL: any; else "world", "country", "subdivision", "cloud" */
    int64_t after_id;     /* cursor: ids greater than this */
    size_t limit;         /* at most this many (> 0) */
};

/* Lists region rows in id order, as db_hardware_list. */
enum err db_region_list(struct db *db, const struct db_region_filter *filter,
                        struct db_region *items, size_t *n_items, bool *has_more);

/* One loaded table: how many rows were loaded and skipped. */
struct db_reference_load {
    char table[48];
    char kind[16]; /* "hardware" or "regions" */
    int rank;      /* precedence, 1 first */
    char licence[DB_LICENCE_MAX];
    char attribution[DB_ATTRIBUTION_MAX];
    int64_t n_loaded;
    int64_t n_skipped;
    char loaded_at[CORE_MODEL_TIME_MAX];
};

/* One skipped row and why. row is the line in the file (0 when unknown). */
struct db_reference_skip {
    char table[48];
    int64_t row;
    char field[64];
    char reason[256];
};

/* The load report: every loaded table (kind, then rank) into loads (room for
 * loads_cap; *n_loads set) and every skipped row into skips (room for skips_cap;
 * *n_skips set). Rows beyond a capacity are left out. */
enum err db_reference_report(struct db *db, struct db_reference_load *loads, size_t loads_cap,
                             size_t *n_loads, struct db_reference_skip *skips, size_t skips_cap,
                             size_t *n_skips);

/* ---- API tokens (db/db_tokens.c) ---- */

#define DB_TOKEN_NAME_MAX       128
#define DB_TOKEN_SCOPES_MAX     256
#define DB_TOKEN_NAMESPACES_MAX 4096

struct db_token {
    int64_t id;
    char name[DB_TOKEN_NAME_MAX + 1];
    char scopes[DB_TOKEN_SCOPES_MAX + 1];         /* space-separated */
    char namespaces[DB_TOKEN_NAMESPACES_MAX + 1]; /* space-separated, or "*" */
    bool is_admin;
    bool is_revoked;
    char created_at[CORE_MODEL_TIME_MAX];
    char revoked_at[CORE_MODEL_TIME_MAX];
    unsigned char hash[32];
};

/* Stores a token (its hash, never the token), inside the caller's write
 * transaction. Fills t->id and t->created_at. ERR_CONFLICT when the hash exists. */
enum err db_token_insert(struct db *db, struct db_token *t);

/* The token whose hash is hash (revoked ones included). ERR_NOT_FOUND when none. */
enum err db_token_find(struct db *db, const unsigned char hash[32], struct db_token *out);

/* Lists tokens with id > after_id, at most limit, into items. */
enum err db_token_list(struct db *db, int64_t after_id, size_t limit, struct db_token *items,
                       size_t *n_items, bool *has_more);

/* Marks a token revoked, inside the caller's write transaction. ERR_NOT_FOUND when
 * there is no such token; revoking twice is not an error. */
enum err db_token_revoke(struct db *db, int64_t id, struct db_token *out);

/* Whether an admin token that is not revoked exists. */
enum err db_token_has_admin(struct db *db, bool *has_admin);

/* ---- what GET /metrics reads (db/db_metrics.c) ---- */

struct db_storage_size {
    int64_t page_count;
    int64_t page_size; /* bytes */
    int64_t wal_bytes; /* size of the -wal file beside the database; 0 when none */
};

/* The database's pages (in the caller's snapshot) and its WAL file's size. */
enum err db_storage_size(struct db *db, struct db_storage_size *out);

/* Keys of the limit most-used models into keys (room for limit): most cumulative
 * inferences first, ties by key (oldest first). *n_keys is set. */
enum err db_metrics_top_models(struct db *db, size_t limit, int64_t *keys, size_t *n_keys);

/* A base model (no parents) and the sum of its family's own emissions: E(m) over
 * every m in D(root), the root included. */
struct db_family_total {
    int64_t root_key;
    struct core_model_id root;
    struct core_range own_co2e_kg;
};

/* The limit base models whose families count the most inferences (ties by key)
 * into items (room for limit), in that order, each with its family total. Reads
 * the chosen families only. */
enum err db_metrics_families(struct db *db, size_t limit, struct db_family_total *items,
                             size_t *n_items);

/* ---- the fold (db/fold.c) ---- */

/* What one fold did: pending rows folded and the inferences they carried (the sum
 * saturates at INT64_MAX). */
struct db_fold_result {
    int64_t rows;
    int64_t inferences;
};

/* Folds up to limit pending rows (0: every one; a row per model and day), in key
 * order, inside the caller's write transaction: their deltas join the family sums
 * of each model's proper ancestors, the daily counts of every family that holds
 * the model, and the namespace and ledger totals with their inference CO2e, and
 * the rows go. Every
 * write that changes lineage or recomputes family sums from the counts runs it
 * first, so nothing is counted twice. out may be NULL. */
enum err db_fold(struct db *db, size_t limit, struct db_fold_result *out);

/* db_fold in a write transaction of its own, counted in db_fold_stats. */
enum err db_fold_commit(struct db *db, size_t limit, struct db_fold_result *out);

/* How many pending rows there are (a model's increments of one day share one). */
enum err db_fold_pending(struct db *db, int64_t *rows);

/* Folds that moved at least one row since the process started, the rows and
 * inferences they moved and the seconds they took (all pools). */
struct db_fold_stats {
    uint64_t folds;
    uint64_t rows;
    uint64_t inferences;
    double seconds;
};

void db_fold_stats(struct db_fold_stats *out);

#define DB_WRITE_BATCH_BUCKETS 9

/* Committed write transactions by the number of writes each carried, since the
 * process started (all pools): cumulative counts at or below each bound. A write
 * committed on its own is a batch of 1; a group commit is a batch of its writes. */
struct db_write_batches {
    uint64_t bound[DB_WRITE_BATCH_BUCKETS];    /* writes per transaction, increasing */
    uint64_t count_le[DB_WRITE_BATCH_BUCKETS]; /* batches with at most bound[i] writes */
    uint64_t count;                            /* every batch */
    uint64_t writes;                           /* the writes of every batch */
};

void db_write_batches(struct db_write_batches *out);

/* ---- aggregate reads (db/db_aggregates.c) ---- */

/* Own emissions split by activity kind: training; fine_tuning; every other kind. */
struct db_kind_sums {
    struct core_range training_kg;
    struct core_range fine_tuning_kg;
    struct core_range other_kg;
};

/* The ledger's totals, or one namespace's: its models, its families (models with
 * no parents), the own emissions of its models by kind and their inferences, and
 * the sharing dividend of its descendants (models with parents, models - families):
 * the sum of their shares at the default counterfactual fraction, and how many of
 * them build on a root without known pre-training (left out of the sum). */
struct db_totals {
    int64_t models;
    int64_t families;
    struct db_kind_sums co2e;
    int64_t inferences;
    int64_t descendants_without_pretraining;
    struct core_range avoided_kg;
    struct core_range inference_co2e_kg; /* each model's inferences at its g each now */
};

/* Reads the maintained totals of namespace ns (compared as ids compare), or of the
 * whole ledger when ns is NULL: one row. A namespace with no model has zeros. */
enum err db_totals_get(struct db *db, const char *ns, struct db_totals *out);

/* A family: a root model (no parents) and D(root), the root included. */
struct db_family_row {
    int64_t key;
    struct core_model_id id;
    int64_t size;             /* |D(root)| */
    int64_t inferences;       /* sum of I(m) over D(root) */
    struct db_kind_sums co2e; /* own emissions of D(root) by kind */
    double co2e_kg;           /* their central sum */
};

enum db_family_order {
    DB_FAMILY_BY_KEY,        /* oldest root first */
    DB_FAMILY_BY_CO2E,       /* most family emissions first (central value) */
    DB_FAMILY_BY_INFERENCES, /* most family inferences first */
    DB_FAMILY_BY_SIZE,       /* most members first */
};

/* Lists families in order, ties by key (oldest first), at most limit into items
 * (room for limit); *has_more says whether another page exists. after_key is the
 * last root of the previous page (0: from the start): the page continues after
 * that root's place in the order as it is now. Reads O(limit) rows from the
 * order's index. ERR_NOT_FOUND when after_key names no root. */
enum err db_family_list(struct db *db, enum db_family_order order, int64_t after_key, size_t limit,
                        struct db_family_row *items, size_t *n_items, bool *has_more);

/* ---- the sharing dividend and the overtake (db/db_sharing.c) ---- */

/* The CO2e of every training and fine-tuning activity in the lineage of model_key
 * (the model and its ancestors): what its inferences are set against. */
enum err db_lineage_training_kg(struct db *db, int64_t model_key, struct core_range *out);

/* One day of a model's inference series; day counts from 1970-01-01. */
struct db_usage_day {
    int64_t day;
    uint64_t count;
};

/* Every day of model_key's series, in order: a malloc'd array (*days, free it; NULL
 * when there is none) of *n_days. */
enum err db_usage_days(struct db *db, int64_t model_key, struct db_usage_day **days,
                       size_t *n_days);

/* One day of a family's inference counts, the counts of the members whose one
 * inference costs what one of rep_key's does (migrations/0011_dividend.sql). */
struct db_family_usage_day {
    int64_t rep_key;
    int64_t day; /* days since 1970-01-01 */
    uint64_t count;
};

/* The daily counts of D(model_key), model_key included, by representative then day,
 * from the maintained family_inference_daily and the deltas still pending:
 * O(representatives x days) rows, whatever the family's size. A malloc'd array (*days, free it;
 * NULL when there is none) of *n_days. */
enum err db_family_usage_days(struct db *db, int64_t model_key, struct db_family_usage_day **days,
                              size_t *n_days);

/* The training and fine-tuning CO2e the family D(model_key) rests on: its members'
 * (the maintained family sums) and model_key's strict ancestors'. ERR_NOT_FOUND
 * when there is no such model. */
enum err db_family_training_kg(struct db *db, int64_t model_key, struct core_range *out);

/* Roots one model may build on: more would take a lineage no registration allows. */
#define DB_SHARING_MAX_ROOTS 1024

/* What dividend reads keep between calls: the roots met so far with their
 * pre-training (read once each), and the roots of the last member read. A caller
 * that lists some members (a page, key-ordered) sets page_keys, n_page and
 * page_shares before db_sharing_family, which fills each listed descendant's share
 * as it streams past and sets page_has_share for it. */
struct db_sharing {
    int64_t *root_keys;
    struct core_dividend_root *roots;
    size_t n_roots, cap_roots;
    size_t member_roots[DB_SHARING_MAX_ROOTS];
    size_t n_member_roots;
    const int64_t *page_keys; /* ascending; NULL: none */
    size_t n_page;
    struct core_dividend_share *page_shares; /* n_page entries */
    bool *page_has_share;                    /* n_page entries */
};

void db_sharing_init(struct db_sharing *s);
void db_sharing_cleanup(struct db_sharing *s);

/* The roots model_key builds on, as out->roots (indexes into s->roots, valid until
 * the next call on s); out->own_kg is not touched. */
enum err db_sharing_member(struct db *db, struct db_sharing *s, int64_t model_key,
                           struct core_dividend_member *out);

/* The share of one descendant model_key (core_dividend_member), from its own
 * emissions and its roots alone: O(ancestors), the same share db_sharing_family
 * gives it. ERR_NOT_FOUND when there is no such model. Call inside a read
 * snapshot. */
enum err db_sharing_share(struct db *db, struct db_sharing *s, int64_t model_key, double fraction,
                          struct core_dividend_share *out);

/* The dividend of the family below shared_key (core_dividend_family), its
 * descendants read in one pass with constant memory. ERR_NOT_FOUND when there is
 * no such model. Call inside a read snapshot. */
enum err db_sharing_family(struct db *db, struct db_sharing *s, int64_t shared_key, double fraction,
                           struct core_dividend *out);

#endif
