/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the files of api/ only: the service, and what the resources share.
 * The plumbing every handler uses has a header of its own, included here:
 * reply.h, input.h, query.h, path.h and rate_limit.h. */
#ifndef API_INTERNAL_H
#define API_INTERNAL_H

#include "alloc.h"
#include "amortize.h"
#include "api.h"
#include "buf.h"
#include "cache.h"
#include "card.h"
#include "db.h"
#include "field_error.h"
#include "footprint.h"
#include "inference.h"
#include "input.h"
#include "intensity.h"
#include "overtake.h"
#include "path.h"
#include "query.h"
#include "range.h"
#include "rate_limit.h"
#include "reply.h"

#include <pthread.h>

#define API_MAX_INFLIGHT 1024

/* A write carrying an Idempotency-Key, registered while it runs. */
struct api_idempotency {
    char scope[64];
    char key[256];
    char hash[65];
    bool is_registered;
};

struct api_service {
    struct api_config config;
    char *db_path;
    struct db_pool *pool;
    struct api_rate_limiter *rate_limiter; /* NULL: writes are not rate limited */
    struct api_cache *cache;               /* NULL: answers are not cached */
    int64_t others_version;                /* the writer's, at its last look */
    bool has_others_version;               /* (both the writer thread's alone) */
    struct {
        _Atomic uint64_t events[API_CHANGE_KIND_COUNT];
        _Atomic uint64_t inferences;
    } changes;
    pthread_mutex_t inflight_mu;
    size_t n_inflight;
    struct api_idempotency *inflight[API_MAX_INFLIGHT];
};

/* A group commit (api/group.c): its connection, and what its writes changed,
 * told once it commits. */
struct api_group {
    struct api_service *service;
    struct db *db;
    struct api_change_totals held;
};

/* Adds one change to totals (api/changes.c). */
void api_changes_count(struct api_change_totals *totals, enum api_change_kind kind, int64_t delta);

/* Adds totals to the service's totals since start. */
void api_changes_publish(struct api_service *s, const struct api_change_totals *totals);

/* Validates the request's Idempotency-Key (400 when missing or malformed),
 * fingerprints the request and registers the key as in flight (409 when the same
 * scope and key are already running). Pair with api_idempotency_end. */
enum err api_idempotency_begin(struct api_service *s, const struct api_request *req,
                               const char *scope, struct api_idempotency *idem,
                               struct api_problem *problem);
void api_idempotency_end(struct api_service *s, struct api_idempotency *idem);

/* Inside the write transaction: when the key was seen, fills reply with the first
 * answer (same request) and sets *is_replayed, or fails with 422 (other request). */
enum err api_idempotency_replay(struct db *db, const struct api_idempotency *idem,
                                struct api_reply *reply, bool *is_replayed);

/* Inside the write transaction: records reply as the key's answer. */
enum err api_idempotency_store(struct db *db, const struct api_idempotency *idem,
                               const struct api_reply *reply);

/* ---- the service (api/service.c) ---- */

/* ---- shared parsers and renderers ---- */

/* A range as {"value", "low", "high"}. New reference. */
json_t *api_range_json(struct core_range r);

/* Reads a number (exact) or a range object {value, low?, high?} at pointer; a
 * missing bound equals value. ERR_INVALID_INPUT (recorded) when malformed or
 * unordered; bounds of the quantity itself are the core's to check. */
enum err api_range_parse(const json_t *v, const char *pointer, struct core_range *out,
                         struct api_problem *problem);

/* Strubell Table 1 equivalents of a CO2e mass, keyed by item name. New reference. */
json_t *api_equivalences_json(struct core_range co2e_kg);

/* Records a core field error as a problem entry; returns ERR_INVALID_INPUT. */
enum err api_field_from_core(struct api_problem *problem, const struct core_field_error *fe);

/* Reads the carbon intensity of a request object: "carbon_intensity" {value, unit}
 * or "location" (a code of the region tables), else the world default. prefix is
 * the object's JSON pointer ("" for the body). */
enum err api_intensity_parse(struct db *db, const json_t *object, const char *prefix,
                             struct core_intensity *out, struct api_problem *problem);

/* Resolves a location code from the region tables (ISO 3166 alpha-3 or alpha-2
 * country codes, "provider:region" cloud regions). Unknown codes are 422 at
 * pointer, naming the closest known code where one exists. */
enum err api_intensity_lookup(struct db *db, const char *code, const char *pointer,
                              struct core_intensity *out, struct api_problem *problem);

/* The stored and answered form of an intensity: {kg_per_kwh: range, source, ...
 * provenance}. New reference. */
json_t *api_intensity_json(const struct core_intensity *intensity);

/* Reads the form written by api_intensity_json. ERR_INTERNAL when malformed. */
enum err api_intensity_from_json(const json_t *o, struct core_intensity *out);

/* Validates the "inference" member of a model PATCH into *out and resolves its
 * intensity. */
enum err api_profile_parse(struct db *db, const json_t *inference,
                           struct core_inference_profile *out, struct api_problem *problem);

/* The answered form of a profile. New reference. */
json_t *api_profile_json(const struct core_inference_profile *profile);

#include "estimate.h"

/* Reads an estimate request (method and inputs) from body, resolving hardware and
 * intensity through db, and runs the core. extra_members names further members the
 * caller allows (NULL-terminated, may be NULL). *inputs_out is a new reference with
 * the resolved inputs. */
enum err api_estimate_from_json(struct db *db, const json_t *body, const char *const *extra_members,
                                struct core_estimate *out, json_t **inputs_out,
                                struct api_problem *problem);

/* The answer body of POST /v1/estimates; steals inputs. New reference. */
json_t *api_estimate_json(const struct core_estimate *estimate, json_t *inputs);

/* Parses an activity body and appends it to model m, inside the caller's write
 * transaction. The caller cleans up *out. */
enum err api_activity_add(struct db *db, const struct core_model *m, const json_t *body,
                          struct db_activity *out, struct api_problem *problem);

/* ---- parsers shared by POST /v1/models and `carbontree import` ---- */

/* Validates an activity body (ActivityInput) into *out, resolving locations
 * through db; nothing is stored. On success the caller cleans up *out. */
enum err api_activity_parse(struct db *db, const json_t *body, struct db_activity *out,
                            struct api_problem *problem);

/* What a registration body says beyond the model itself: whether it is a Hub card,
 * the reported activity its co2_eq_emissions becomes, the keys it ignored, where
 * the relation to its parents came from, and the canonical text of everything it
 * decides (facts), which tells a changed card from the same card again. */
struct api_card {
    bool is_card;       /* the body is a Hub card: it has base_model, co2_eq_emissions, tags... */
    bool from_card;     /* lineage came from base_model */
    bool lineage_given; /* the body decides the lineage (a card always does) */
    json_t *activity;   /* NULL or the activity body co2_eq_emissions becomes */
    json_t *ignored;    /* array of the keys carbontree neither keeps nor uses */
    int relation_given; /* 1 given, 0 inferred, -1 without parents */
    char relation_from[CORE_CARD_FROM_MAX];
    /* co2_eq_emissions as read: grams, whether it is a pre-training, and its
     * other fields as the card gives them (empty when absent) */
    bool has_grams, is_pretraining, has_hours;
    double grams, hours;
    char location[256], hardware[256], source[256];
    /* the activity kind co2_eq_emissions' figure stands for ("" without
     * co2_eq_emissions), whether training_type gave it (1) or it was inferred (0,
     * -1 without co2_eq_emissions), and from what */
    char kind[16];
    int training_given;
    char training_from[CORE_CARD_FROM_MAX];
    char *prose;       /* the card's text or description, malloc'd; NULL when none */
    bool count_copied; /* set by the caller: count a figure copied from an ancestor */
    char *facts;       /* digest of the canonical JSON text (64 hex digits), malloc'd */
};

void api_card_cleanup(struct api_card *card);

/* Validates a POST /v1/models body (id, parents or the Hub card's base_model,
 * base_model_relation and co2_eq_emissions, metadata) into *m and *card, with no
 * storage access. A Hub card's other metadata (pipeline_tag, tags, license as a
 * list, unknown keys, ...) is used or listed as ignored, never refused; any other
 * body refuses unknown members. extra_members (NULL-terminated, may be NULL) are
 * further members the caller accepts. ERR_INVALID_INPUT with problem filled; the
 * caller cleans up *card either way. */
enum err api_model_parse(const json_t *body, const char *const *extra_members, struct core_model *m,
                         struct api_card *card, struct api_problem *problem);

/* Reads the YAML front matter of a model card's README.md (text, len bytes): the
 * mapping between a first line "---" and the next line "---" or "...", as a new
 * JSON object in *out (api/api_yaml.c). ERR_INVALID_INPUT with why filled when
 * there is no front matter or it is not a YAML mapping; ERR_NO_MEMORY when memory
 * failed, whatever the text. */
enum err api_front_matter(const char *text, size_t len, json_t **out, char *why, size_t why_len);

/* The text of a model card's README.md after its front matter's closing line
 * (pointing into text, *rest_len bytes), NULL when it has none or only blanks. */
const char *api_front_matter_rest(const char *text, size_t len, size_t *rest_len);

/* Turns a db_model_insert failure into the answer POST /v1/models gives (409 for an
 * existing id, 422 for an unknown parent or too deep a lineage), filling problem. */
enum err api_model_insert_error(enum err rc, const struct core_model *m, size_t bad_parent,
                                bool from_card, struct api_problem *problem);

enum api_card_outcome { API_CARD_CREATED, API_CARD_UPDATED, API_CARD_UNCHANGED };

struct api_card_result {
    enum api_card_outcome outcome;
    json_t *flags;        /* what looked wrong in the card's figure: [{"flag", "detail"}] */
    json_t *placeholders; /* ids of the placeholder parents this registration created */
    int activities_added, activities_removed;
};

/* Stores a parsed registration inside the caller's write transaction. A card's
 * parents that are not registered become placeholders; a placeholder of m's id is
 * completed. An already registered model is a conflict unless sync is set: then
 * the body's facts replace the stored ones (the card's own reported activity
 * included) or, when they are the same, nothing is written. On return m is the
 * model as stored. The caller releases res->placeholders. */
enum err api_card_store(struct db *db, struct core_model *m, const struct api_card *card, bool sync,
                        struct api_card_result *res, struct api_problem *problem);

/* Flags what looks wrong in the card's figure of stored model m into flags:
 * copied_from_ancestor when m is a quantization or an adapter and an ancestor
 * reported the very same figure (*copied set: the card repeats it rather than
 * measured its own work), implausible_figure below 1 g for a pre-training, above
 * 10^12 g, or grams that look like kg: a sibling (same parent, same relation)
 * reports about 1,000 times more, or the card's prose states the figure in kg. */
enum err api_card_check_figure(struct db *db, const struct core_model *m,
                               const struct api_card *card, json_t *flags, bool *copied);

/* Adds the "card" member (relation source, ignored keys) of model m to o, when m
 * was registered from a Hub card. */
enum err api_card_attach(struct db *db, const struct core_model *m, json_t *o);

/* ---- footprints (api/api_footprint.c) ---- */

/* A model's footprint under one policy with what it borrows from: the lineage
 * read from db and the allocations the core wrote. fp points into the struct
 * itself: fill it in place, never copy it. */
struct api_footprint {
    struct core_lineage lineage;
    struct core_allocation *allocations;
    struct core_footprint fp;
    /* GET …/footprint only: the day inference overtakes training */
    bool has_overtake;
    int window_days;
    struct core_overtake overtake;
    /* GET …/footprint only: the flags of the cards in the lineage, [{"model",
     * "flag", "detail"}]; NULL or empty: no "warnings" member */
    json_t *warnings;
};

/* Reads the lineage of the model named id (one statement, no transaction
 * needed), or, when id is NULL, of the model with storage key key (inside the
 * caller's read snapshot), and computes its footprint under policy into *out.
 * ERR_NOT_FOUND when there is no such model; ERR_INTERNAL when the stored
 * aggregates contradict each other. On success the caller frees *out with
 * api_footprint_cleanup; on failure nothing is left to free. */
enum err api_footprint_load(struct db *db, int64_t key, const struct core_model_id *id,
                            enum core_policy policy, struct api_footprint *out);

void api_footprint_cleanup(struct api_footprint *footprint);

/* The policy of ?policy= (usage when absent); 400 naming the parameter otherwise. */
enum err api_policy_from_query(const struct api_request *req, enum core_policy *policy,
                               struct api_problem *problem);

struct text;

/* A model id as a JSON string. */
void api_text_id(struct text *t, const struct core_model_id *id);

/* The footprint object of GET …/footprint, as JSON text. */
void api_footprint_write(struct text *t, const struct api_footprint *footprint);

/* ---- CSV answers (api/api_csv.c) ---- */

/* A CSV text being built (RFC 4180, CRLF) in a core_buf. Start from {0}; on
 * allocation failure every call does nothing and api_csv_reply reports it. */
struct api_csv {
    struct core_buf buf;
    bool is_row_open; /* a field was written since the last line end */
};

/* Whether the request asks for CSV: ?format=csv, or, without ?format=, Accept
 * names text/csv and not application/json. */
bool api_csv_wanted(const struct api_request *req);

/* 400 naming "format" unless ?format= is absent, csv or json (a route with a CSV
 * form accepts "format"). */
enum err api_csv_format_check(const struct api_request *req, struct api_problem *problem);

/* "&format=csv" or "&format=json" as the request gave it, for a next-page Link;
 * "" without ?format=. */
const char *api_csv_format_param(const struct api_request *req);

/* Content-Disposition of a CSV answer: "<ns>_<name>_<what>.csv" for a model's
 * resource, "<what>.csv" when id is NULL. */
void api_csv_attachment(struct api_reply *reply, const struct core_model_id *id, const char *what);

/* Appends len bytes as they are (no separator, no quoting). */
void api_csv_raw(struct api_csv *csv, const char *text, size_t len);

/* The header row: names as given (already comma-separated), then CRLF. */
void api_csv_header(struct api_csv *csv, const char *names);

/* One field, after a comma unless it starts the row; quoted when it holds a comma,
 * a quote or a line break (quotes doubled). NULL is an empty field. */
void api_csv_field(struct api_csv *csv, const char *text);

/* A free-text field: as api_csv_field, but text a spreadsheet would take for a
 * formula gets a leading apostrophe. */
void api_csv_text(struct api_csv *csv, const char *text);

/* api_csv_wanted, and sets Vary: Accept on reply (the answer depends on it). */
bool api_csv_wanted_vary(const struct api_request *req, struct api_reply *reply);

/* A number with 15 significant digits (as the JSON answers), or an integer. */
void api_csv_number(struct api_csv *csv, double value);
void api_csv_integer(struct api_csv *csv, int64_t value);

/* Ends the row with CRLF. */
void api_csv_row_end(struct api_csv *csv);

/* Hands the text to reply: 200, text/csv; charset=utf-8. ERR_NO_MEMORY (text
 * freed) when an append failed. csv is empty afterwards. */
enum err api_csv_reply(struct api_csv *csv, struct api_reply *reply);

/* Frees the text (for paths that do not reply with it). */
void api_csv_cleanup(struct api_csv *csv);

/* ---- reference data (api/regions.c, api/reference.c) ---- */

/* A region row as GET /v1/regions lists it: code, name, kind, provider, intensity
 * in g and kg per kWh, year, table, row, source, licence, attribution, preferred.
 * New reference (NULL on allocation failure). */
json_t *api_region_json(const struct db_region *region);

/* A hardware row as GET /v1/hardware lists it: name, kind, tdp_w, peak FLOP/s,
 * memory, table, row, source, licence, attribution, preferred. New reference. */
json_t *api_hardware_json(const struct db_hardware *hardware);

/* api_intensity_json plus, for a table intensity, the region row's name, g/kWh,
 * upstream source, licence and attribution (read again through db). New
 * reference; NULL on allocation failure. */
json_t *api_intensity_provenance_json(struct db *db, const struct core_intensity *intensity);

/* ---- authentication and authorisation (api/auth.c) ---- */

enum api_scope {
    API_SCOPE_MODELS_WRITE = 1,
    API_SCOPE_INFERENCES_WRITE = 2,
    API_SCOPE_ADMIN = 4, /* implies every other scope and every namespace */
};

/* Who a request comes from, once its token checked out. */
struct api_principal {
    bool is_authenticated;
    int64_t token_id;
    unsigned scopes;
    char name[DB_TOKEN_NAME_MAX + 1];
    char namespaces[DB_TOKEN_NAMESPACES_MAX + 1];
    char idempotency_scope[32]; /* "token:<id>": idempotency keys are per token */
};

/* libsodium's one-time initialisation; false when it failed. */
bool api_crypto_init(void);

/* A new random token "ct_" + 43 base64url characters (256 bits) into buf. */
enum err api_token_generate(char *buf, size_t buf_len);

/* BLAKE2b-256 of a token: what the database keeps. */
void api_token_hash(const char *token, unsigned char out[32]);

bool api_scope_parse(const char *name, unsigned *bit);
unsigned api_scopes_from_text(const char *space_separated);
void api_scopes_format(unsigned scopes, char *buf, size_t buf_len);

/* Checks the request's bearer token: 401 (with WWW-Authenticate) when missing,
 * malformed, unknown or revoked. */
enum err api_authenticate(struct db *db, const struct api_request *req, struct api_principal *out,
                          struct api_reply *reply);

/* 403 unless the principal has scope and (ns not NULL) may write namespace ns. */
enum err api_authorize(const struct api_principal *p, unsigned scope, const char *ns,
                       struct api_reply *reply);

/* Whether the principal may write models of namespace ns. */
bool api_principal_may_write(const struct api_principal *p, const char *ns);

/* Authenticate, authorise, then take one write from the token's rate budget (429
 * with Retry-After when it is spent), once per request: a run again of a request
 * whose req->write_state says it was charged takes nothing. Call before changing
 * anything. */
enum err api_require(struct api_service *s, const struct api_request *req, unsigned scope,
                     const char *ns, struct api_principal *out, struct api_reply *reply);

/* The gate of a write on a model named by the path ({namespace}/...): api_require
 * with the path's namespace. */
enum err api_path_write_gate(struct api_service *s, const struct api_request *req, unsigned scope,
                             struct api_principal *out, struct api_reply *reply);

/* Stores token as the first admin token when the database has none (start-up). */
enum err api_seed_admin_token(struct db *db, const char *token, char *why, size_t why_len);

#endif
