/* The api service: database pool, reply and input helpers shared by the handlers. */
#include "internal.h"
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void db_options_from(const struct api_config *config, struct db_options *options,
                            bool create)
{
    memset(options, 0, sizeof *options);
    options->path = config->db_path;
    options->busy_timeout_ms = config->busy_timeout_ms;
    options->create = create;
    options->max_page_count = config->max_page_count;
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

enum err api_service_create(const struct api_config *config, struct api_service **out, char *why,
                            size_t why_len)
{
    struct api_service *service;
    struct db_options options;
    struct db *db = NULL;
    int version = 0;
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
    service = calloc(1, sizeof *service);
    if (service == NULL)
        return ERR_NO_MEMORY;
    service->config = *config;
    service->db_path = strdup(config->db_path);
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
    if (rc == ERR_OK)
        rc = api_seed_admin_token(db, config->admin_token, why, why_len);
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
    api_rate_limiter_destroy(service->rate_limiter);
    pthread_mutex_destroy(&service->inflight_mu);
    free(service->db_path);
    free(service);
}

enum err api_db(struct api_service *service, struct db **out, struct api_problem *problem)
{
    enum err rc = db_pool_acquire(service->pool, out);

    if (rc != ERR_OK)
        snprintf(problem->detail, sizeof problem->detail, "the database is not available");
    return rc;
}

enum err api_path_id(const struct api_request *req, struct core_model_id *id,
                     struct api_problem *problem)
{
    if (req->n_params < 2 || core_model_id_from_parts(req->params[0], req->params[1], id) != ERR_OK)
        return api_fail(problem, ERR_NOT_FOUND,
                        "no model has this id: ids are 'namespace/name', each part 1-96 of "
                        "A-Z a-z 0-9 . _ -");
    return ERR_OK;
}

enum err api_path_model(struct db *db, const struct api_request *req, struct core_model *m,
                        struct api_problem *problem)
{
    struct core_model_id id;
    enum err rc = api_path_id(req, &id, problem);

    if (rc != ERR_OK)
        return rc;
    rc = db_model_get(db, &id, m);
    if (rc == ERR_NOT_FOUND)
        return api_fail(problem, ERR_NOT_FOUND, "model '%s/%s' is not registered", id.ns, id.name);
    return rc;
}

enum err api_path_model_ref(struct db *db, const struct api_request *req, struct api_model_ref *m,
                            struct api_problem *problem)
{
    struct core_model_id id;
    enum err rc = api_path_id(req, &id, problem);

    if (rc != ERR_OK)
        return rc;
    rc = db_model_find(db, &id, &m->key, &m->id);
    if (rc == ERR_NOT_FOUND)
        return api_fail(problem, ERR_NOT_FOUND, "model '%s/%s' is not registered", id.ns, id.name);
    return rc;
}

void api_reply_init(struct api_reply *reply)
{
    memset(reply, 0, sizeof *reply);
}

void api_reply_cleanup(struct api_reply *reply)
{
    json_decref(reply->json);
    free(reply->raw);
    reply->json = NULL;
    reply->raw = NULL;
}

void api_reply_header(struct api_reply *reply, const char *name, const char *value)
{
    for (size_t i = 0; i < reply->n_headers; i++) {
        if (strcmp(reply->headers[i].name, name) == 0) {
            snprintf(reply->headers[i].value, sizeof reply->headers[i].value, "%s", value);
            return;
        }
    }
    if (reply->n_headers == API_MAX_HEADERS)
        return;
    reply->headers[reply->n_headers].name = name;
    snprintf(reply->headers[reply->n_headers].value, sizeof reply->headers[0].value, "%s", value);
    reply->n_headers++;
}

const char *api_reply_header_get(const struct api_reply *reply, const char *name)
{
    for (size_t i = 0; i < reply->n_headers; i++)
        if (strcmp(reply->headers[i].name, name) == 0)
            return reply->headers[i].value;
    return NULL;
}

enum err api_reply_json(struct api_reply *reply, int status, json_t *body)
{
    if (body == NULL)
        return ERR_NO_MEMORY;
    json_decref(reply->json);
    reply->json = body;
    reply->status = status;
    return ERR_OK;
}

/* Eight bytes a step, each mixed in by a multiply and a shift: equal bytes give
 * equal tags, which is all a weak tag needs, at a fraction of a byte-wise hash's
 * cost over a family page. */
static void etag_of(const char *text, size_t len, char *buf, size_t buf_len)
{
    uint64_t h = 14695981039346656037ULL ^ len;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        uint64_t word;
        memcpy(&word, text + i, 8);
        h = (h ^ word) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 32;
    }
    for (; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * 1099511628211ULL;
    h ^= h >> 29;
    snprintf(buf, buf_len, "W/\"%016llx\"", (unsigned long long)h);
}

static bool wants_pretty(const struct api_request *req)
{
    const char *pretty = api_query_get(req, "pretty");

    return pretty && strcmp(pretty, "0") != 0 && strcmp(pretty, "false") != 0;
}

enum err api_reply_text_etag(const struct api_request *req, struct api_reply *reply, char *text,
                             size_t len)
{
    char etag[48];

    etag_of(text, len - 1, etag, sizeof etag);
    api_reply_header(reply, "ETag", etag);
    if (api_etag_matches(req->if_none_match, etag)) {
        free(text);
        reply->status = 304;
        return ERR_OK;
    }
    if (wants_pretty(req)) {
        /* Read back for the server to indent: 15 significant digits survive the
         * trip (DBL_DIG), so the figures print as they would have. */
        json_t *body = json_loadb(text, len, 0, NULL);
        free(text);
        return api_reply_json(reply, 200, body);
    }
    free(reply->raw);
    reply->raw = text;
    reply->raw_len = len;
    reply->content_type = "application/json";
    reply->status = 200;
    return ERR_OK;
}

const char *api_query_get(const struct api_request *req, const char *key)
{
    for (size_t i = 0; i < req->n_query; i++)
        if (strcmp(req->query[i].key, key) == 0)
            return req->query[i].value ? req->query[i].value : "";
    return NULL;
}

enum err api_field_error(struct api_problem *problem, const char *pointer, const char *fmt, ...)
{
    struct api_field_problem *fp;
    va_list ap;

    if (problem->n_errors < API_MAX_ERRORS) {
        fp = &problem->errors[problem->n_errors++];
        snprintf(fp->pointer, sizeof fp->pointer, "%s", pointer);
        va_start(ap, fmt);
        vsnprintf(fp->message, sizeof fp->message, fmt, ap);
        va_end(ap);
        if (problem->detail[0] == '\0') {
            /* Built aside: pointer may point into *problem itself. */
            char detail[sizeof problem->detail];
            snprintf(detail, sizeof detail, "%s: %s", fp->pointer[0] ? fp->pointer : "body",
                     fp->message);
            memcpy(problem->detail, detail, sizeof detail);
        }
    }
    return ERR_INVALID_INPUT;
}

enum err api_fail(struct api_problem *problem, enum err rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(problem->detail, sizeof problem->detail, fmt, ap);
    va_end(ap);
    return rc;
}

static bool in_list(const char *key, const char *const *list)
{
    for (; list && *list; list++)
        if (strcmp(key, *list) == 0)
            return true;
    return false;
}

enum err api_check_members(const json_t *object, const char *prefix, const char *const *allowed,
                           const char *const *read_only, struct api_problem *problem)
{
    const char *key;
    json_t *value;
    enum err rc = ERR_OK;
    char pointer[128];

    /* jansson's iteration API takes a non-const object; it does not modify it. */
    json_object_foreach((json_t *)(uintptr_t)object, key, value)
    {
        (void)value;
        if (in_list(key, allowed))
            continue;
        snprintf(pointer, sizeof pointer, "%s/%s", prefix, key);
        if (in_list(key, read_only))
            rc = api_field_error(problem, pointer, "'%s' is read-only and cannot be set", key);
        else
            rc = api_field_error(problem, pointer, "unknown field '%s'", key);
    }
    return rc;
}

enum err api_check_query(const struct api_request *req, const char *const *allowed,
                         struct api_problem *problem)
{
    for (size_t i = 0; i < req->n_query; i++) {
        const char *key = req->query[i].key;
        if (strcmp(key, "pretty") == 0 || in_list(key, allowed))
            continue;
        if (strcmp(key, "access_token") == 0 || strcmp(key, "token") == 0)
            return api_fail(problem, ERR_BAD_REQUEST,
                            "credentials are not accepted in the query string; use the "
                            "Authorization header");
        api_field_error(problem, key, "unknown query parameter '%s'", key);
        snprintf(problem->detail, sizeof problem->detail, "unknown query parameter '%s'", key);
        return ERR_BAD_REQUEST;
    }
    return ERR_OK;
}

/* Valid UTF-8 (jansson guarantees it) without control characters. */
static bool is_plain_text(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

enum err api_get_string(const json_t *object, const char *key, const char *pointer, char *buf,
                        size_t buf_len, bool *present, struct api_problem *problem)
{
    const json_t *value = json_object_get(object, key);
    size_t len;

    buf[0] = '\0';
    if (present)
        *present = value != NULL;
    if (value == NULL || json_is_null(value))
        return ERR_OK;
    if (!json_is_string(value))
        return api_field_error(problem, pointer, "must be a string");
    len = json_string_length(value);
    if (len >= buf_len)
        return api_field_error(problem, pointer, "must be at most %zu bytes", buf_len - 1);
    if (memchr(json_string_value(value), '\0', len) != NULL ||
        !is_plain_text(json_string_value(value)))
        return api_field_error(problem, pointer, "must not contain control characters");
    memcpy(buf, json_string_value(value), len + 1);
    return ERR_OK;
}

enum err api_get_count(const json_t *object, const char *key, const char *pointer, int64_t max,
                       int64_t *out, bool *present, struct api_problem *problem)
{
    const json_t *value = json_object_get(object, key);

    if (present)
        *present = value != NULL && !json_is_null(value);
    if (value == NULL || json_is_null(value))
        return ERR_OK;
    if (!json_is_integer(value))
        return api_field_error(problem, pointer, "must be a whole number");
    if (json_integer_value(value) < 0)
        return api_field_error(problem, pointer, "must not be negative");
    if (json_integer_value(value) > max)
        return api_field_error(problem, pointer, "must be at most %lld", (long long)max);
    *out = json_integer_value(value);
    return ERR_OK;
}

enum err api_query_int(const struct api_request *req, const char *key, int64_t min, int64_t max,
                       int64_t fallback, int64_t *out, struct api_problem *problem)
{
    const char *text = api_query_get(req, key);
    char *end = NULL;
    long long value;

    if (text == NULL) {
        *out = fallback;
        return ERR_OK;
    }
    errno = 0;
    value = strtoll(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 || value < min ||
        value > max) {
        api_field_error(problem, key, "must be a whole number from %lld to %lld", (long long)min,
                        (long long)max);
        snprintf(problem->detail, sizeof problem->detail,
                 "query parameter '%s' must be a whole number from %lld to %lld", key,
                 (long long)min, (long long)max);
        return ERR_BAD_REQUEST;
    }
    *out = value;
    return ERR_OK;
}

void api_url_encode(const char *text, char *buf, size_t buf_len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    for (; *text && n + 4 < buf_len; text++) {
        unsigned char c = (unsigned char)*text;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            buf[n++] = (char)c;
        } else {
            buf[n++] = '%';
            buf[n++] = hex[c >> 4];
            buf[n++] = hex[c & 15];
        }
    }
    buf[n] = '\0';
}

void api_etag(int64_t version, char *buf, size_t buf_len)
{
    snprintf(buf, buf_len, "\"v%lld\"", (long long)version);
}

bool api_etag_matches(const char *header, const char *etag)
{
    const char *p = header;
    size_t etag_len;

    if (header == NULL)
        return false;
    /* Weak comparison (RFC 9110 8.8.3.2): the W/ prefix matters on neither side. */
    if (strncmp(etag, "W/", 2) == 0)
        etag += 2;
    etag_len = strlen(etag);
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, etag_len) == 0 &&
            (p[etag_len] == '\0' || p[etag_len] == ',' || p[etag_len] == ' '))
            return true;
        while (*p && *p != ',')
            p++;
    }
    return false;
}
