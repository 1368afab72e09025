/* SPDX-License-Identifier: Apache-2.0 */
/* Bearer tokens: random, shown once, stored as a BLAKE2b-256 hash,
 * compared in constant time; scopes and namespaces decide what a token may write,
 * and a write takes its place in the token's rate budget (api/rate_limit.c).
 * Randomness and hashing come from libsodium. */
#include "api_internal.h"
#include "log.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TOKEN_PREFIX       "ct_"
#define TOKEN_RANDOM_BYTES 32 /* 256 bits */
#define TOKEN_TEXT_MAX     512
#define ADMIN_TOKEN_MIN    24 /* a seeded admin token shorter than this is refused */

static const struct {
    const char *name;
    unsigned bit;
} scope_names[] = {
    {"models:write", API_SCOPE_MODELS_WRITE},
    {"inferences:write", API_SCOPE_INFERENCES_WRITE},
    {"admin", API_SCOPE_ADMIN},
};

#define N_SCOPES (sizeof scope_names / sizeof scope_names[0])

bool api_scope_parse(const char *name, unsigned *bit)
{
    for (size_t i = 0; i < N_SCOPES; i++) {
        if (strcmp(name, scope_names[i].name) == 0) {
            *bit = scope_names[i].bit;
            return true;
        }
    }
    return false;
}

void api_scopes_format(unsigned scopes, char *buf, size_t buf_len)
{
    size_t n = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < N_SCOPES; i++) {
        if (scopes & scope_names[i].bit)
            n += (size_t)snprintf(buf + n, n < buf_len ? buf_len - n : 0, "%s%s", n ? " " : "",
                                  scope_names[i].name);
    }
}

unsigned api_scopes_from_text(const char *text)
{
    char copy[DB_TOKEN_SCOPES_MAX + 1];
    char *save = NULL;
    unsigned scopes = 0, bit;

    snprintf(copy, sizeof copy, "%s", text);
    for (char *word = strtok_r(copy, " ", &save); word; word = strtok_r(NULL, " ", &save))
        if (api_scope_parse(word, &bit))
            scopes |= bit;
    return scopes;
}

void api_token_hash(const char *token, unsigned char out[32])
{
    crypto_generichash(out, 32, (const unsigned char *)token, strlen(token), NULL, 0);
}

enum err api_token_generate(char *buf, size_t buf_len)
{
    unsigned char random[TOKEN_RANDOM_BYTES];
    size_t prefix = strlen(TOKEN_PREFIX);

    if (buf_len < prefix + sodium_base64_ENCODED_LEN(TOKEN_RANDOM_BYTES,
                                                     sodium_base64_VARIANT_URLSAFE_NO_PADDING))
        return ERR_INTERNAL;
    randombytes_buf(random, sizeof random);
    memcpy(buf, TOKEN_PREFIX, prefix);
    sodium_bin2base64(buf + prefix, buf_len - prefix, random, sizeof random,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(random, sizeof random);
    return ERR_OK;
}

bool api_crypto_init(void)
{
    return sodium_init() >= 0;
}

/* RFC 6750 token68 characters. */
static bool is_token_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("-._~+/=", c) != NULL;
}

static enum err unauthorized(struct api_reply *reply, const char *error, const char *detail)
{
    char header[160];

    if (error)
        snprintf(header, sizeof header, "Bearer realm=\"carbontree\", error=\"%s\"", error);
    else
        snprintf(header, sizeof header, "Bearer realm=\"carbontree\"");
    api_reply_header(reply, "WWW-Authenticate", header);
    return api_fail(&reply->problem, ERR_UNAUTHORIZED, "%s", detail);
}

enum err api_authenticate(struct db *db, const struct api_request *req, struct api_principal *out,
                          struct api_reply *reply)
{
    const char *header = req->authorization;
    const char *token;
    unsigned char hash[32];
    struct db_token t;
    enum err rc;

    memset(out, 0, sizeof *out);
    if (req->n_authorization > 1)
        return unauthorized(reply, "invalid_request", "send exactly one Authorization header");
    if (header == NULL)
        return unauthorized(reply, NULL,
                            "this request needs a token: send Authorization: Bearer <token>");
    if (strncasecmp(header, "Bearer ", 7) != 0)
        return unauthorized(reply, "invalid_request",
                            "the Authorization header must use the Bearer scheme");
    token = header + 7;
    while (*token == ' ')
        token++;
    if (*token == '\0' || strlen(token) > TOKEN_TEXT_MAX)
        return unauthorized(reply, "invalid_request", "the bearer token is empty or too long");
    for (const char *p = token; *p; p++)
        if (!is_token_char(*p))
            return unauthorized(reply, "invalid_request", "the bearer token is malformed");
    api_token_hash(token, hash);
    rc = db_token_find(db, hash, &t);
    if (rc == ERR_NOT_FOUND || (rc == ERR_OK && sodium_memcmp(hash, t.hash, 32) != 0))
        return unauthorized(reply, "invalid_token", "the bearer token is not known");
    if (rc != ERR_OK)
        return rc;
    if (t.is_revoked)
        return unauthorized(reply, "invalid_token", "the bearer token was revoked");
    out->is_authenticated = true;
    out->token_id = t.id;
    out->scopes = api_scopes_from_text(t.scopes);
    if (t.is_admin)
        out->scopes |= API_SCOPE_ADMIN;
    snprintf(out->name, sizeof out->name, "%s", t.name);
    snprintf(out->namespaces, sizeof out->namespaces, "%s", t.namespaces);
    snprintf(out->idempotency_scope, sizeof out->idempotency_scope, "token:%lld", (long long)t.id);
    return ERR_OK;
}

bool api_principal_may_write(const struct api_principal *p, const char *ns)
{
    char copy[DB_TOKEN_NAMESPACES_MAX + 1];
    char *save = NULL;

    if (p->scopes & API_SCOPE_ADMIN)
        return true;
    snprintf(copy, sizeof copy, "%s", p->namespaces);
    for (char *word = strtok_r(copy, " ", &save); word; word = strtok_r(NULL, " ", &save))
        if (strcmp(word, "*") == 0 || strcasecmp(word, ns) == 0)
            return true;
    return false;
}

/* 403 with the RFC 6750 insufficient_scope challenge; detail is the message. */
static enum err forbidden(struct api_reply *reply, const char *detail)
{
    api_reply_header(reply, "WWW-Authenticate",
                     "Bearer realm=\"carbontree\", error=\"insufficient_scope\"");
    return api_fail(&reply->problem, ERR_FORBIDDEN, "%s", detail);
}

enum err api_authorize(const struct api_principal *p, unsigned scope, const char *ns,
                       struct api_reply *reply)
{
    char name[32], detail[200];

    if ((p->scopes & scope) != scope && !(p->scopes & API_SCOPE_ADMIN)) {
        api_scopes_format(scope, name, sizeof name);
        snprintf(detail, sizeof detail, "this request needs the scope '%s'", name);
        return forbidden(reply, detail);
    }
    if (ns && !api_principal_may_write(p, ns)) {
        /* A bare id (gpt2) is no namespace's: only a token for every namespace writes it. */
        if (ns[0] == '\0')
            snprintf(detail, sizeof detail,
                     "this token may not write models without a namespace (its namespaces "
                     "are not '*')");
        else
            snprintf(detail, sizeof detail, "this token may not write models of namespace '%.96s'",
                     ns);
        return forbidden(reply, detail);
    }
    return ERR_OK;
}

enum err api_require(struct api_service *s, const struct api_request *req, unsigned scope,
                     const char *ns, struct api_principal *out, struct api_reply *reply)
{
    enum err rc = api_authenticate(req->db, req, out, reply);
    int retry_after;

    if (rc == ERR_OK)
        rc = api_authorize(out, scope, ns, reply);
    if (rc != ERR_OK)
        return rc;
    /* A run again of a write already charged takes nothing more. */
    if (req->write_state != NULL && req->write_state->is_rate_charged)
        return ERR_OK;
    retry_after = api_rate_limiter_take(s->rate_limiter, out->token_id);
    if (retry_after > 0) {
        reply->problem.retry_after_s = retry_after;
        return api_fail(&reply->problem, ERR_RATE_LIMITED,
                        "this token is over its write rate of %g per second; retry after %d s",
                        s->config.write_rate_per_s, retry_after);
    }
    if (req->write_state != NULL)
        req->write_state->is_rate_charged = true;
    return ERR_OK;
}

enum err api_seed_admin_token(struct db *db, const char *token, char *why, size_t why_len)
{
    struct db_token t;
    bool has_admin = false;
    enum err rc;

    if (token == NULL || token[0] == '\0')
        return ERR_OK;
    if (strlen(token) < ADMIN_TOKEN_MIN || strlen(token) > TOKEN_TEXT_MAX) {
        snprintf(why, why_len, "CARBONTREE_ADMIN_TOKEN must be %d to %d characters",
                 ADMIN_TOKEN_MIN, TOKEN_TEXT_MAX);
        return ERR_INVALID_INPUT;
    }
    for (const char *p = token; *p; p++) {
        if (!is_token_char(*p)) {
            snprintf(why, why_len,
                     "CARBONTREE_ADMIN_TOKEN may hold only A-Z a-z 0-9 - . _ ~ + / =");
            return ERR_INVALID_INPUT;
        }
    }
    rc = db_write_begin(db);
    if (rc != ERR_OK)
        return rc;
    rc = db_token_has_admin(db, &has_admin);
    if (rc == ERR_OK && !has_admin) {
        memset(&t, 0, sizeof t);
        snprintf(t.name, sizeof t.name, "admin (from CARBONTREE_ADMIN_TOKEN)");
        snprintf(t.scopes, sizeof t.scopes, "admin models:write inferences:write");
        snprintf(t.namespaces, sizeof t.namespaces, "*");
        t.is_admin = true;
        api_token_hash(token, t.hash);
        rc = db_token_insert(db, &t);
        if (rc == ERR_OK) {
            log_write(LOG_INFO, NULL, "created the first admin token from CARBONTREE_ADMIN_TOKEN");
        } else if (rc == ERR_CONFLICT) {
            /* The value is stored already, revoked or without admin rights: it stays so. */
            log_write(LOG_WARN, NULL,
                      "CARBONTREE_ADMIN_TOKEN names a token this database already has (revoked "
                      "or not an admin); no admin token was created: use `carbontree token "
                      "create --admin`");
            rc = ERR_OK;
        }
    }
    if (rc == ERR_OK)
        return db_write_commit(db);
    db_write_rollback(db);
    snprintf(why, why_len, "cannot store the admin token: %s", db_last_error(db));
    return rc;
}

enum err api_read_gate(struct api_service *s, const struct api_request *req,
                       struct api_reply *reply)
{
    struct api_principal principal;

    if (!s->config.is_read_auth)
        return ERR_OK;
    return api_authenticate(req->db, req, &principal, reply);
}

enum err api_path_write_gate(struct api_service *s, const struct api_request *req, unsigned scope,
                             struct api_principal *out, struct api_reply *reply)
{
    return api_require(s, req, scope, req->n_params ? req->params[0] : NULL, out, reply);
}
