/* SPDX-License-Identifier: Apache-2.0 */
/* The api service's lifecycle: migrating the database, opening its pool and
 * checking the schema at start, and closing it. Handlers never see the pool: the
 * server hands each request its connection (api_service_connection). */
#include "api_internal.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void db_options_from(const struct api_config *config, struct db_options *options,
                            bool create)
{
    memset(options, 0, sizeof *options);
    options->path = config->db_path;
    options->busy_timeout_ms = config->busy_timeout_ms;
    options->create = create;
    options->max_page_count = config->max_page_count;
}

/* Whether path names a file that does not exist in a directory that does: serve
 * opens without creating, and SQLite's words for that ("unable to open database
 * file") do not say what to do. ":memory:" and file: URIs are SQLite's to judge. */
static bool is_missing_file(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');

    if (strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0)
        return false;
    if (access(path, F_OK) == 0 || errno != ENOENT)
        return false;
    if (slash == NULL)
        return true;
    if ((size_t)(slash - path) >= sizeof dir)
        return false;
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
    return access(dir[0] ? dir : "/", F_OK) == 0;
}

enum err api_migrate(const struct api_config *config, int *from, int *to, char *why, size_t why_len)
{
    struct db_options options;
    struct db *db = NULL;
    enum err rc;

    db_options_from(config, &options, true);
    rc = db_open(&options, &db, why, why_len);
    if (rc != ERR_OK)
        return rc;
    rc = db_migrate(db, from, to);
    if (rc != ERR_OK)
        snprintf(why, why_len, "migration failed: %s", db_last_error(db));
    db_close(db);
    return rc;
}

/* Told by db after each commit, on the committing thread, before its requests are
 * answered: no client that got its 2xx is answered from before its write. */
static void on_change(void *arg, const int64_t *roots, size_t n_roots, bool is_all)
{
    struct api_service *service = arg;

    if (is_all)
        api_cache_bump_all(service->cache);
    else
        api_cache_bump(service->cache, roots, n_roots);
}

enum err api_service_create(const struct api_config *config, struct api_service **out, char *why,
                            size_t why_len)
{
    struct api_service *service;
    struct db_options options;
    struct db *db = NULL;
    int version = 0;
    int64_t folded = 0;
    bool was_checked = false;
    enum err rc;

    if (!api_crypto_init()) {
        snprintf(why, why_len, "cannot initialise the random number generator");
        return ERR_INTERNAL;
    }
    if (config->auto_migrate) {
        rc = api_migrate(config, NULL, NULL, why, why_len);
        if (rc != ERR_OK)
            return rc;
    }
    if (!config->auto_migrate && is_missing_file(config->db_path)) {
        snprintf(why, why_len,
                 "no database at %s: run `carbontree migrate --db %s` to create it, or pass "
                 "--auto-migrate",
                 config->db_path, config->db_path);
        return ERR_IO;
    }
    service = core_calloc(1, sizeof *service);
    if (service == NULL)
        return ERR_NO_MEMORY;
    service->config = *config;
    service->db_path = core_strdup(config->db_path);
    if (service->db_path == NULL) {
        free(service);
        return ERR_NO_MEMORY;
    }
    service->config.db_path = service->db_path;
    pthread_mutex_init(&service->inflight_mu, NULL);
    db_options_from(&service->config, &options, false);
    rc = db_pool_create(&options, &service->pool, why, why_len);
    if (rc == ERR_OK)
        rc = db_pool_acquire(service->pool, &db);
    if (rc == ERR_OK)
        rc = db_startup_check(db, &was_checked);
    if (rc != ERR_OK && why[0] == '\0')
        snprintf(why, why_len, "database check failed: %s", db_last_error(db));
    if (rc == ERR_OK && (rc = db_schema_version(db, &version)) == ERR_OK &&
        version != db_schema_latest()) {
        snprintf(why, why_len,
                 "database schema is at version %d, this binary needs %d: run `carbontree "
                 "migrate` first",
                 version, db_schema_latest());
        rc = ERR_DB;
    }
    if (rc == ERR_OK && config->cache_bytes > 0) {
        service->cache = api_cache_create(config->cache_bytes);
        if (service->cache == NULL)
            rc = ERR_NO_MEMORY;
    }
    if (rc == ERR_OK && service->cache)
        rc = db_pool_watch_changes(service->pool, on_change, service);
    if (rc == ERR_OK)
        rc = api_seed_admin_token(db, config->admin_token, why, why_len);
    /* Deltas a stop left pending (a kill between an increment and its fold) are
     * folded before the first request. Answers add what is pending anyway, so a
     * fold that fails here is tried again by the writer. */
    if (rc == ERR_OK && api_fold(db, 0, &folded) != ERR_OK)
        log_write(LOG_WARN, NULL, "start-up fold failed: %s", db_last_error(db));
    else if (rc == ERR_OK && folded > 0)
        log_write(LOG_INFO, NULL, "folded %lld pending deltas", (long long)folded);
    if (rc == ERR_OK && config->write_rate_per_s > 0) {
        service->rate_limiter =
            api_rate_limiter_create(config->write_rate_per_s, config->write_burst);
        if (service->rate_limiter == NULL)
            rc = ERR_NO_MEMORY;
    }
    if (rc != ERR_OK) {
        api_service_destroy(service);
        return rc;
    }
    if (was_checked)
        log_write(LOG_INFO, NULL, "the last run did not stop cleanly: quick_check is ok");
    /* The seed is in the database now (hashed); the service keeps no copy. */
    service->config.admin_token = NULL;
    *out = service;
    return ERR_OK;
}

void api_service_destroy(struct api_service *service)
{
    if (service == NULL)
        return;
    db_pool_destroy(service->pool);
    api_cache_destroy(service->cache);
    api_rate_limiter_destroy(service->rate_limiter);
    pthread_mutex_destroy(&service->inflight_mu);
    free(service->db_path);
    free(service);
}

enum err api_service_connection(struct api_service *service, struct db **out)
{
    return db_pool_acquire(service->pool, out);
}

void api_service_watch_others(struct api_service *service, struct db *db)
{
    int64_t version = 0;

    if (service->cache == NULL)
        return;
    if (db_data_version(db, &version) != ERR_OK || !service->has_others_version ||
        version != service->others_version)
        api_cache_bump_all(service->cache);
    service->others_version = version;
    service->has_others_version = true;
}
