/* SPDX-License-Identifier: Apache-2.0 */
/* Steps shared by the ledger's HTTP suites: the server of the running test, JSON
 * lookups, assertions on figures, and requests that insist on their answer (a step
 * that answers otherwise fails the test, naming the request). */
#ifndef TESTS_HTTP_LEDGER_STEPS_H
#define TESTS_HTTP_LEDGER_STEPS_H

#include "harness.h"

#include <stdbool.h>
#include <stdio.h>

#define TEST_TIMEOUT_S 30

/* The server of the running test, started by the fixture. */
extern struct ct_server *srv;

/* Fixtures: one fresh server per test (threaded: eight HTTP workers, so that
 * parallel requests really run in parallel), stopped and removed afterwards. */
void start_server(void);
void start_threaded_server(void);
void stop_servers(void);

/* The member at a '/'-separated path of object keys and array indexes, or NULL. */
const json_t *at(const json_t *root, const char *path);

/* The number, integer or text at path of a response; the first two fail the test
 * when it is missing or of another type, str_at answers "(missing)". */
double num_at(const struct ct_response *r, const char *path);
long long int_at(const struct ct_response *r, const char *path);
const char *str_at(const struct ct_response *r, const char *path);

/* actual equals expected within 1e-9 relative (plus 1e-12 absolute). */
bool near(double actual, double expected);

/* A number at path equal to expected within 1e-9 relative. */
#define ASSERT_NUM(resp, path, expected)                                                           \
    do {                                                                                           \
        double got_ = num_at((resp), (path));                                                      \
        double want_ = (expected);                                                                 \
        ck_assert_msg(near(got_, want_), "%s is %.17g, expected %.17g; body: %s", (path), got_,    \
                      want_, (resp)->body);                                                        \
    } while (0)

/* A range {value, low, high} at path. */
#define ASSERT_RANGE(resp, path, v, lo, hi)                                                        \
    do {                                                                                           \
        char p_[200];                                                                              \
        snprintf(p_, sizeof p_, "%s/value", (path));                                               \
        ASSERT_NUM((resp), p_, (v));                                                               \
        snprintf(p_, sizeof p_, "%s/low", (path));                                                 \
        ASSERT_NUM((resp), p_, (lo));                                                              \
        snprintf(p_, sizeof p_, "%s/high", (path));                                                \
        ASSERT_NUM((resp), p_, (hi));                                                              \
    } while (0)

#define ASSERT_STATUS(resp, want)                                                                  \
    ck_assert_msg((resp)->status == (want), "answered %ld, expected %d: %s", (resp)->status,       \
                  (want), (resp)->status ? (resp)->body : (resp)->error)

/* Registers a model from a single-quoted JSON body and insists on 201. */
void registered(const char *single_quoted);

/* method path with a single-quoted JSON body and, when key is not NULL, an
 * Idempotency-Key. Returns the status. */
long send_keyed(const char *method, const char *path, const char *key, const char *single_quoted,
                struct ct_response *out);

/* The same over a raw socket, to read headers the harness does not keep
 * (Idempotent-Replayed). */
void raw_keyed(const char *method, const char *path, const char *key, const char *single_quoted,
               struct ct_raw_response *out);

/* POST …/activities; insists on 201 and returns the activity id. */
long long activity_added(const char *model, const char *single_quoted);

/* POST …/inferences of count with a fresh key; insists on 200. */
void counted(const char *model, long long count);

/* GET …/footprint?policy=<policy> into out; insists on 200. */
void footprint(const char *model, const char *policy, struct ct_response *out);

/* The model's cumulative inferences, as the footprint reports them. */
long long inferences_of(const char *model);

/* The central value of the model's total_co2e_kg under policy. */
double total_kg(const char *model, const char *policy);

/* The allocations[] entry whose source is source; fails when there is none. */
const json_t *allocation(const struct ct_response *r, const char *source);

/* Asserts the allocation from source: its source_co2e_kg, share and co2e_kg values. */
void assert_allocation(const struct ct_response *r, const char *source, double source_kg,
                       double share, double kg);

/* fam/base (1000 kg reported) with fine-tunes fam/ft1, ft2, ft3 (10, 20, 30 kg) that
 * served 100, 300 and 600 inferences. */
void three_fine_tunes(void);

#endif
