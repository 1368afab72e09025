/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the fuzz targets: one api service over a throw-away database (migrated
 * and seeded once per process), the server's body decode, and the invariants every
 * reply must hold. Harness code: a broken invariant aborts, which libFuzzer reports. */
#ifndef TESTS_FUZZ_COMMON_H
#define TESTS_FUZZ_COMMON_H

#include "api.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FUZZ_BODY_MAX       65536 /* the server's default --body-max */
#define FUZZ_JSON_DEPTH_MAX 32    /* server/http.c MAX_JSON_DEPTH */

/* Three bearer tokens, fixed for the life of the process: [0] the admin token the
 * service seeds (api_config.admin_token); [1] models:write and inferences:write on
 * namespace hub-a; [2] inferences:write on hub-b. [1] and [2] are created by
 * fuzz_setup through POST /v1/tokens. */
#define FUZZ_N_TOKENS 3
extern const char *fuzz_tokens[FUZZ_N_TOKENS];

/* Whether a DELETE with these path parameters would remove what every later input
 * relies on: one of the three tokens (id text as api_tokens_delete reads it) or a
 * seeded model. The handler target points such deletes elsewhere. */
bool fuzz_token_is_protected(const char *id_text);
bool fuzz_model_is_seeded(const char *ns, const char *name);

/* Seeded models (namespace, name), every one present before the first input. */
#define FUZZ_N_MODELS 4
extern const char *const fuzz_models[FUZZ_N_MODELS][2];

/* libFuzzer entry points, defined by each target. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with a message when cond is false. */
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fuzz_fail(__FILE__, __LINE__, __VA_ARGS__);                                            \
    } while (0)
_Noreturn void fuzz_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Creates a private directory (under $CARBONTREE_FUZZ_DIR, else /dev/shm, else
 * /tmp), migrates a database there, seeds fuzz_models through the real handlers
 * and opens the harness's own read-only connection. Removes it all at exit. */
void fuzz_setup(void);
struct api_service *fuzz_service(void);

/* Fills req with the fixed parts (request id, path) every request carries, and the
 * service's connection for the calling thread. Call after fuzz_setup. */
void fuzz_request_init(struct api_request *req, const char *method, const char *path);

/* The server's decode of a write body (server/http.c finish_request): empty,
 * nested deeper than FUZZ_JSON_DEPTH_MAX or not JSON (duplicates rejected) is
 * ERR_MALFORMED_JSON with the detail in problem. *out is a new reference. */
enum err fuzz_decode_body(const char *text, size_t len, json_t **out, struct api_problem *problem);

/* Differential property: body re-serialised re-parses to an equal value. */
void fuzz_check_roundtrip(const json_t *body);

/* Whether status is in the documented set (openapi.yaml). */
bool fuzz_status_documented(int status);

/* Reply invariants: documented status, never 5xx (no faults are injected), error
 * answers are problem+json whose status equals the reply's, every JSON body
 * serialises with the server's flags. */
void fuzz_check_reply(const struct api_request *req, const struct api_reply *reply);

/* Commit counter of the database as the harness connection sees it: it changes
 * exactly when another connection (the service's) committed in between. */
int64_t fuzz_data_version(void);

/* With CARBONTREE_FUZZ_STATS set, counts answers per route (method and path,
 * static strings) and status, and how many changed the database, and prints the
 * table at exit: a way to see that inputs get past validation. */
void fuzz_count(const char *method, const char *path, int status, bool has_changed);

/* Aborts unless PRAGMA quick_check answers ok. */
void fuzz_quick_check(void);

#endif
