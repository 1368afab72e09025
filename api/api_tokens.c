/* SPDX-License-Identifier: Apache-2.0 */
/* /v1/tokens (admin) and the `carbontree token` command: create (the secret is
 * shown once), list (never the secret) and revoke API tokens. */
#include "api_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKENS_PAGE_DEFAULT 100
#define TOKENS_PAGE_MAX     500
#define TOKEN_BUF           96

static json_t *words_json(const char *text)
{
    char copy[DB_TOKEN_NAMESPACES_MAX + 1];
    char *save = NULL;
    json_t *array = json_array();

    snprintf(copy, sizeof copy, "%s", text);
    for (char *word = strtok_r(copy, " ", &save); array && word; word = strtok_r(NULL, " ", &save))
        if (json_array_append_new(array, json_string(word)) != 0) {
            /* a word dropped for want of memory would misstate what the token may do */
            json_decref(array);
            return NULL;
        }
    return array;
}

/* NULL when any part of it could not be made. */
static json_t *token_json(const struct db_token *t)
{
    json_t *o = json_pack("{s:I, s:s, s:o, s:o, s:s}", "id", (json_int_t)t->id, "name", t->name,
                          "scopes", words_json(t->scopes), "namespaces", words_json(t->namespaces),
                          "created_at", t->created_at);

    if (o && json_object_set_new(o, "revoked_at",
                                 t->is_revoked ? json_string(t->revoked_at) : json_null()) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Validates name, scopes and namespaces into t (hash and id left to the caller). */
static enum err token_fields(const char *name, const char *const *scopes, size_t n_scopes,
                             const char *const *namespaces, size_t n_namespaces, struct db_token *t,
                             struct api_problem *problem)
{
    unsigned bits = 0, bit;
    size_t used = 0;
    char pointer[48];

    memset(t, 0, sizeof *t);
    if (name == NULL || name[0] == '\0' || strlen(name) > DB_TOKEN_NAME_MAX)
        return api_field_error(problem, "/name", "required: 1 to %d bytes", DB_TOKEN_NAME_MAX);
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return api_field_error(problem, "/name", "must not contain control characters");
    snprintf(t->name, sizeof t->name, "%s", name);
    if (n_scopes == 0)
        return api_field_error(problem, "/scopes",
                               "required: one or more of models:write, inferences:write, admin");
    for (size_t i = 0; i < n_scopes; i++) {
        snprintf(pointer, sizeof pointer, "/scopes/%zu", i);
        if (scopes[i] == NULL || !api_scope_parse(scopes[i], &bit))
            return api_field_error(problem, pointer,
                                   "must be models:write, inferences:write or admin");
        bits |= bit;
    }
    api_scopes_format(bits, t->scopes, sizeof t->scopes);
    t->is_admin = (bits & API_SCOPE_ADMIN) != 0;
    if (n_namespaces == 0)
        return api_field_error(problem, "/namespaces",
                               "required: the namespaces this token may write, or [\"*\"]");
    for (size_t i = 0; i < n_namespaces; i++) {
        const char *ns = namespaces[i];
        snprintf(pointer, sizeof pointer, "/namespaces/%zu", i);
        if (ns == NULL || (strcmp(ns, "*") != 0 && !core_model_part_is_valid(ns, strlen(ns))))
            return api_field_error(problem, pointer, "must be a namespace or \"*\"");
        if (used + strlen(ns) + 2 > sizeof t->namespaces)
            return api_field_error(problem, "/namespaces", "too many namespaces");
        used += (size_t)snprintf(t->namespaces + used, sizeof t->namespaces - used, "%s%s",
                                 used ? " " : "", ns);
    }
    return ERR_OK;
}

/* Creates the token in an open write transaction; secret receives the token. */
static enum err create_token(struct db *db, struct db_token *t, char *secret, size_t secret_len)
{
    enum err rc = api_token_generate(secret, secret_len);

    if (rc != ERR_OK)
        return rc;
    api_token_hash(secret, t->hash);
    return db_token_insert(db, t);
}

enum err api_tokens_post(struct api_service *s, const struct api_request *req,
                         struct api_reply *reply)
{
    static const char *const allowed[] = {"name", "scopes", "namespaces", NULL};
    const json_t *scopes = json_object_get(req->body, "scopes");
    const json_t *namespaces = json_object_get(req->body, "namespaces");
    const char *scope_list[8], *ns_list[64];
    struct api_principal principal;
    struct db_token t;
    struct db *db = req->db;
    char secret[TOKEN_BUF];
    json_t *body = NULL;
    enum err rc;

    rc = api_require(s, req, API_SCOPE_ADMIN, NULL, &principal, reply);
    if (rc != ERR_OK)
        return rc;
    if (!json_is_object(req->body))
        return api_field_error(&reply->problem, "", "the body must be a JSON object");
    rc = api_check_members(req->body, "", allowed, NULL, &reply->problem);
    if (rc != ERR_OK)
        return rc;
    if (!json_is_array(scopes) || json_array_size(scopes) > 8)
        return api_field_error(&reply->problem, "/scopes", "required: an array of scopes");
    if (!json_is_array(namespaces) || json_array_size(namespaces) > 64)
        return api_field_error(&reply->problem, "/namespaces",
                               "required: an array of at most 64 namespaces");
    for (size_t i = 0; i < json_array_size(scopes); i++)
        scope_list[i] = json_string_value(json_array_get(scopes, i));
    for (size_t i = 0; i < json_array_size(namespaces); i++)
        ns_list[i] = json_string_value(json_array_get(namespaces, i));
    rc = token_fields(json_string_value(json_object_get(req->body, "name")), scope_list,
                      json_array_size(scopes), ns_list, json_array_size(namespaces), &t,
                      &reply->problem);
    if (rc != ERR_OK)
        return rc;
    rc = db_write_begin(db);
    if (rc != ERR_OK)
        return rc;
    rc = create_token(db, &t, secret, sizeof secret);
    /* The answer, which alone carries the secret, is built before the commit: a
     * token whose answer could not be made must not exist. */
    if (rc == ERR_OK) {
        body = token_json(&t);
        if (body == NULL || json_object_set_new(body, "token", json_string(secret)) != 0)
            rc = ERR_NO_MEMORY;
    }
    memset(secret, 0, sizeof secret);
    if (rc == ERR_OK)
        rc = db_write_commit(db);
    else
        db_write_rollback(db);
    if (rc != ERR_OK) {
        json_decref(body);
        return rc;
    }
    api_reply_header(reply, "Cache-Control", "no-store");
    return api_reply_json(reply, 201, body);
}

enum err api_tokens_list(struct api_service *s, const struct api_request *req,
                         struct api_reply *reply)
{
    static const char *const allowed[] = {"limit", "cursor", NULL};
    struct api_principal principal;
    struct db_token *items = NULL;
    struct db *db = req->db;
    int64_t limit = 0, cursor = 0;
    size_t n = 0;
    bool has_more = false;
    json_t *array;
    char next[32];
    enum err rc;

    rc = api_require(s, req, API_SCOPE_ADMIN, NULL, &principal, reply);
    if (rc == ERR_OK)
        rc = api_check_query(req, allowed, &reply->problem);
    if (rc == ERR_OK)
        rc = api_query_int(req, "limit", 1, TOKENS_PAGE_MAX, TOKENS_PAGE_DEFAULT, &limit,
                           &reply->problem);
    if (rc == ERR_OK)
        rc = api_query_int(req, "cursor", 0, INT64_MAX, 0, &cursor, &reply->problem);
    if (rc != ERR_OK)
        return rc;
    items = core_calloc((size_t)limit, sizeof *items);
    if (items == NULL)
        return ERR_NO_MEMORY;
    rc = db_token_list(db, cursor, (size_t)limit, items, &n, &has_more);
    if (rc != ERR_OK) {
        free(items);
        return rc;
    }
    array = json_array();
    for (size_t i = 0; array && i < n; i++)
        if (json_array_append_new(array, token_json(&items[i])) != 0) {
            json_decref(array);
            array = NULL;
        }
    snprintf(next, sizeof next, "%lld", n ? (long long)items[n - 1].id : 0LL);
    if (has_more) {
        char link[128];
        snprintf(link, sizeof link, "</v1/tokens?limit=%lld&cursor=%s>; rel=\"next\"",
                 (long long)limit, next);
        api_reply_header(reply, "Link", link);
    }
    free(items);
    return api_reply_json(reply, 200,
                          json_pack("{s:o, s:o}", "items", array, "next_cursor",
                                    has_more ? json_string(next) : json_null()));
}

enum err api_tokens_delete(struct api_service *s, const struct api_request *req,
                           struct api_reply *reply)
{
    const char *id_text = req->n_params > 0 ? req->params[0] : "";
    struct api_principal principal;
    struct db_token t;
    struct db *db = req->db;
    char *end = NULL;
    long long id = strtoll(id_text, &end, 10);
    enum err rc;

    rc = api_require(s, req, API_SCOPE_ADMIN, NULL, &principal, reply);
    if (rc != ERR_OK)
        return rc;
    if (id_text[0] < '1' || id_text[0] > '9' || *end != '\0')
        return api_fail(&reply->problem, ERR_NOT_FOUND, "token ids are positive integers");
    rc = db_write_begin(db);
    if (rc != ERR_OK)
        return rc;
    rc = db_token_revoke(db, (int64_t)id, &t);
    if (rc == ERR_OK)
        rc = db_write_commit(db);
    else
        db_write_rollback(db);
    if (rc == ERR_NOT_FOUND)
        return api_fail(&reply->problem, ERR_NOT_FOUND, "there is no token %lld", id);
    if (rc == ERR_OK)
        reply->status = 204;
    return rc;
}

/* ---- the `carbontree token` command ---- */

static enum err open_for_cli(const struct api_config *config, struct db **db, char *why,
                             size_t why_len)
{
    struct db_options options = {.path = config->db_path,
                                 .busy_timeout_ms = config->busy_timeout_ms};
    int version = 0;
    enum err rc;

    if (!api_crypto_init()) {
        snprintf(why, why_len, "cannot initialise the random number generator");
        return ERR_INTERNAL;
    }
    rc = db_open(&options, db, why, why_len);
    if (rc == ERR_OK && (rc = db_schema_version(*db, &version)) == ERR_OK &&
        version != db_schema_latest()) {
        snprintf(why, why_len,
                 "database schema is at version %d, this binary needs %d: run "
                 "`carbontree migrate` first",
                 version, db_schema_latest());
        rc = ERR_DB;
    }
    if (rc != ERR_OK) {
        db_close(*db);
        *db = NULL;
    }
    return rc;
}

/* Splits a comma-separated list in place into words (at most cap). */
static size_t split_commas(char *text, const char **words, size_t cap)
{
    size_t n = 0;
    char *save = NULL;

    for (char *w = strtok_r(text, ",", &save); w && n < cap; w = strtok_r(NULL, ",", &save))
        words[n++] = w;
    return n;
}

enum err api_cli_token_create(const struct api_config *config, const char *name,
                              const char *scopes_csv, const char *namespaces_csv, FILE *out,
                              char *why, size_t why_len)
{
    char scopes_copy[DB_TOKEN_SCOPES_MAX + 1], ns_copy[DB_TOKEN_NAMESPACES_MAX + 1];
    const char *scopes[8], *namespaces[64];
    struct api_problem problem;
    struct db_token t;
    struct db *db = NULL;
    char secret[TOKEN_BUF];
    size_t n_scopes, n_namespaces;
    enum err rc;

    memset(&problem, 0, sizeof problem);
    snprintf(scopes_copy, sizeof scopes_copy, "%s", scopes_csv ? scopes_csv : "");
    snprintf(ns_copy, sizeof ns_copy, "%s", namespaces_csv ? namespaces_csv : "");
    n_scopes = split_commas(scopes_copy, scopes, 8);
    n_namespaces = split_commas(ns_copy, namespaces, 64);
    rc = token_fields(name, scopes, n_scopes, namespaces, n_namespaces, &t, &problem);
    if (rc != ERR_OK) {
        snprintf(why, why_len, "%s", problem.detail);
        return rc;
    }
    rc = open_for_cli(config, &db, why, why_len);
    if (rc != ERR_OK)
        return rc;
    rc = db_write_begin(db);
    if (rc == ERR_OK) {
        rc = create_token(db, &t, secret, sizeof secret);
        if (rc == ERR_OK)
            rc = db_write_commit(db);
        else
            db_write_rollback(db);
    }
    if (rc == ERR_OK) {
        fprintf(out, "%s\n", secret);
        fprintf(stderr,
                "token %lld '%s' created (scopes: %s; namespaces: %s). It is shown only once.\n",
                (long long)t.id, t.name, t.scopes, t.namespaces);
    } else {
        snprintf(why, why_len, "cannot store the token: %s", db_last_error(db));
    }
    memset(secret, 0, sizeof secret);
    db_close(db);
    return rc;
}

enum err api_cli_token_list(const struct api_config *config, FILE *out, char *why, size_t why_len)
{
    struct db_token *items = core_calloc(TOKENS_PAGE_MAX, sizeof *items);
    struct db *db = NULL;
    int64_t cursor = 0;
    bool has_more = true;
    enum err rc;

    if (items == NULL)
        return ERR_NO_MEMORY;
    rc = open_for_cli(config, &db, why, why_len);
    if (rc == ERR_OK)
        fprintf(out, "%-6s %-24s %-44s %-30s %s\n", "id", "created", "scopes", "namespaces",
                "name");
    while (rc == ERR_OK && has_more) {
        size_t n = 0;
        rc = db_token_list(db, cursor, TOKENS_PAGE_MAX, items, &n, &has_more);
        for (size_t i = 0; rc == ERR_OK && i < n; i++) {
            fprintf(out, "%-6lld %-24s %-44s %-30s %s%s\n", (long long)items[i].id,
                    items[i].created_at, items[i].scopes, items[i].namespaces, items[i].name,
                    items[i].is_revoked ? " (revoked)" : "");
            cursor = items[i].id;
        }
    }
    db_close(db);
    free(items);
    return rc;
}

enum err api_cli_token_revoke(const struct api_config *config, const char *id_text, char *why,
                              size_t why_len)
{
    struct db_token t;
    struct db *db = NULL;
    char *end = NULL;
    long long id = id_text ? strtoll(id_text, &end, 10) : 0;
    enum err rc;

    if (id_text == NULL || id <= 0 || *end != '\0') {
        snprintf(why, why_len, "give the id of the token to revoke (see `carbontree token list`)");
        return ERR_INVALID_INPUT;
    }
    rc = open_for_cli(config, &db, why, why_len);
    if (rc != ERR_OK)
        return rc;
    rc = db_write_begin(db);
    if (rc == ERR_OK) {
        rc = db_token_revoke(db, (int64_t)id, &t);
        if (rc == ERR_OK)
            rc = db_write_commit(db);
        else
            db_write_rollback(db);
    }
    if (rc == ERR_NOT_FOUND)
        snprintf(why, why_len, "there is no token %lld", id);
    db_close(db);
    return rc;
}
