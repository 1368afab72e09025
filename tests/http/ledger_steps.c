/* SPDX-License-Identifier: Apache-2.0 */
/* Steps shared by the ledger's HTTP suites (activities, profiles, amortization,
 * inferences, counters, reports, footprints): one server per test, and requests
 * that insist on their answer, so that a test body reads as the scenario it checks. */
#include "ledger_steps.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ct_server *srv;

void start_server(void)
{
    char why[4096];

    srv = ct_server_new();
    ck_assert_msg(ct_server_start(srv, why, sizeof why), "%s", why);
}

/* Eight HTTP workers, so that parallel requests really run in parallel. */
void start_threaded_server(void)
{
    static const char *const args[] = {"--threads", "8", NULL};
    char why[4096];

    srv = ct_server_new();
    srv->args = args;
    ck_assert_msg(ct_server_start(srv, why, sizeof why), "%s", why);
}

void stop_servers(void)
{
    ct_cleanup_all();
    srv = NULL;
}

/* The member at a '/'-separated path of object keys and array indexes, or NULL. */
const json_t *at(const json_t *root, const char *path)
{
    char copy[256], *save = NULL;
    const json_t *v = root;

    snprintf(copy, sizeof copy, "%s", path);
    for (char *part = strtok_r(copy, "/", &save); part && v; part = strtok_r(NULL, "/", &save)) {
        if (json_is_array(v))
            v = json_array_get(v, strtoul(part, NULL, 10));
        else
            v = json_object_get(v, part);
    }
    return v;
}

double num_at(const struct ct_response *r, const char *path)
{
    const json_t *v = at(r->json, path);

    ck_assert_msg(json_is_number(v), "'%s' is not a number in %s", path, r->body);
    return json_number_value(v);
}

long long int_at(const struct ct_response *r, const char *path)
{
    const json_t *v = at(r->json, path);

    ck_assert_msg(json_is_integer(v), "'%s' is not an integer in %s", path, r->body);
    return (long long)json_integer_value(v);
}

const char *str_at(const struct ct_response *r, const char *path)
{
    const char *text = json_string_value(at(r->json, path));

    return text ? text : "(missing)";
}

bool near(double actual, double expected)
{
    return fabs(actual - expected) <= 1e-9 * fabs(expected) + 1e-12;
}

/* Registers a model from a single-quoted JSON body and insists on 201. */
void registered(const char *single_quoted)
{
    struct ct_response r;

    ct_send(srv, "POST", "/v1/models", single_quoted, &r);
    ck_assert_msg(r.status == 201, "registering %s answered %ld: %s", single_quoted, r.status,
                  r.status ? r.body : r.error);
    ct_response_cleanup(&r);
}

/* method path with a single-quoted JSON body and, when key is not NULL, an
 * Idempotency-Key. */
long send_keyed(const char *method, const char *path, const char *key, const char *single_quoted,
                struct ct_response *out)
{
    char key_header[300];
    const char *headers[] = {"Content-Type: application/json", NULL, NULL};
    char *body = ct_json(single_quoted);
    long status;

    if (key) {
        snprintf(key_header, sizeof key_header, "Idempotency-Key: %s", key);
        headers[1] = key_header;
    }
    status = ct_request(srv, method, path, headers, body, strlen(body), out);
    free(body);
    return status;
}

/* The same over a raw socket, to read headers the harness does not keep
 * (Idempotent-Replayed). */
void raw_keyed(const char *method, const char *path, const char *key, const char *single_quoted,
               struct ct_raw_response *out)
{
    char *body = ct_json(single_quoted);
    char request[8192];
    int n = snprintf(request, sizeof request,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "Authorization: Bearer " CT_ADMIN_TOKEN "\r\n"
                     "Idempotency-Key: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     method, path, key, strlen(body), body);

    free(body);
    ck_assert_int_lt(n, (int)sizeof request);
    ct_raw(srv, request, (size_t)n, 10, out);
}

/* POST …/activities; insists on 201 and returns the activity id. */
long long activity_added(const char *model, const char *single_quoted)
{
    struct ct_response r;
    char path[256];
    long long id;

    snprintf(path, sizeof path, "/v1/models/%s/activities", model);
    ct_send(srv, "POST", path, single_quoted, &r);
    ck_assert_msg(r.status == 201, "activity %s on %s answered %ld: %s", single_quoted, model,
                  r.status, r.status ? r.body : r.error);
    id = int_at(&r, "id");
    ct_response_cleanup(&r);
    return id;
}

/* POST …/inferences of count with a fresh key; insists on 200. */
void counted(const char *model, long long count)
{
    static unsigned serial;
    struct ct_response r;
    char path[256], key[64], body[64];

    snprintf(path, sizeof path, "/v1/models/%s/inferences", model);
    snprintf(key, sizeof key, "count-%u-%lld", serial++, count);
    snprintf(body, sizeof body, "{'count':%lld}", count);
    send_keyed("POST", path, key, body, &r);
    ck_assert_msg(r.status == 200, "counting %lld on %s answered %ld: %s", count, model, r.status,
                  r.status ? r.body : r.error);
    ct_response_cleanup(&r);
}

/* GET …/footprint?policy=<policy> into out; insists on 200. */
void footprint(const char *model, const char *policy, struct ct_response *out)
{
    char path[256];

    snprintf(path, sizeof path, "/v1/models/%s/footprint?policy=%s", model, policy);
    ct_get(srv, path, out);
    ck_assert_msg(out->status == 200, "GET %s answered %ld: %s", path, out->status,
                  out->status ? out->body : out->error);
}

/* The model's cumulative inferences, as the footprint reports them. */
long long inferences_of(const char *model)
{
    struct ct_response r;
    long long n;

    footprint(model, "none", &r);
    n = int_at(&r, "inferences");
    ct_response_cleanup(&r);
    return n;
}

double total_kg(const char *model, const char *policy)
{
    struct ct_response r;
    double kg;

    footprint(model, policy, &r);
    kg = num_at(&r, "total_co2e_kg/value");
    ct_response_cleanup(&r);
    return kg;
}

/* The allocations[] entry whose source is source; fails when there is none. */
const json_t *allocation(const struct ct_response *r, const char *source)
{
    const json_t *list = json_object_get(r->json, "allocations");

    for (size_t i = 0; i < json_array_size(list); i++) {
        const json_t *item = json_array_get(list, i);
        const char *id = json_string_value(json_object_get(item, "source"));
        if (id && strcmp(id, source) == 0)
            return item;
    }
    ck_abort_msg("no allocation from %s in %s", source, r->body);
    return NULL;
}

void assert_allocation(const struct ct_response *r, const char *source, double source_kg,
                       double share, double kg)
{
    const json_t *a = allocation(r, source);
    double got_source =
        json_number_value(json_object_get(json_object_get(a, "source_co2e_kg"), "value"));
    double got_share = json_number_value(json_object_get(a, "share"));
    double got_kg = json_number_value(json_object_get(json_object_get(a, "co2e_kg"), "value"));

    ck_assert_msg(near(got_source, source_kg) && near(got_share, share) && near(got_kg, kg),
                  "allocation from %s is (%g kg, share %g, %g kg), expected (%g, %g, %g): %s",
                  source, got_source, got_share, got_kg, source_kg, share, kg, r->body);
}

/* base (1000 kg reported) with fine-tunes ft1, ft2, ft3 (10, 20, 30 kg) that served
 * 100, 300 and 600 inferences. */
void three_fine_tunes(void)
{
    registered("{'id':'fam/base'}");
    activity_added("fam/base", "{'kind':'training','co2e_kg':1000}");
    for (int i = 1; i <= 3; i++) {
        char body[128], id[32];
        snprintf(body, sizeof body, "{'id':'fam/ft%d','parents':[{'id':'fam/base'}]}", i);
        registered(body);
        snprintf(id, sizeof id, "fam/ft%d", i);
        snprintf(body, sizeof body, "{'kind':'fine_tuning','co2e_kg':%d}", 10 * i);
        activity_added(id, body);
    }
    counted("fam/ft1", 100);
    counted("fam/ft2", 300);
    counted("fam/ft3", 600);
}
