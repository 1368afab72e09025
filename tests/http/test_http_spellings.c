/* SPDX-License-Identifier: Apache-2.0 */
/* Same question, same answer however it is spelled. Whole numbers however JSON
 * spells them, at every integer member of every write route: 1e6, 1000000.0, 2E3
 * and 1E0 are the whole numbers they name; a fraction, a value beyond 64 bits and a
 * negative are refused with a detail that says which. An unknown member or query
 * parameter is refused naming the nearest allowed one and listing them all. */
#include "ledger_steps.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* One integer member of a write route. path and body are templates: '$' stands for
 * the spelling and '#' for a serial that keeps ids and reporters apart; body is
 * single-quoted JSON. answer is the member of the answer that echoes the value. */
static const struct integer_field {
    const char *name;
    const char *method;
    const char *path;
    bool is_keyed;
    const char *body;
    const char *pointer;
    const char *answer;
} fields[] = {
    {"register: parameters", "POST", "/v1/models", false, "{'id':'sp/new-#','parameters':$}",
     "/parameters", "parameters"},
    {"patch: parameters", "PATCH", "/v1/models/sp/m", false, "{'parameters':$}", "/parameters",
     "parameters"},
    {"delta: count", "POST", "/v1/models/sp/m/inferences", true, "{'count':$}", "/count", "count"},
    {"counter: total", "PUT", "/v1/models/sp/m/inference-counters/r#", false, "{'total':$}",
     "/total", "total"},
    {"batch: reports[].count", "POST", "/v1/inference-reports", true,
     "{'reports':[{'model':'sp/m','count':$}]}", "/reports/0/count", NULL},
};

static const struct spelling {
    const char *text;
    long long value;
} accepted[] = {
    {"1e6", 1000000}, {"1000000.0", 1000000}, {"2E3", 2000}, {"1E0", 1}, {"1e+2", 100}, {"-0.0", 0},
};

/* wording: a fragment the refusal's detail must contain; pointer_is_body when the
 * parser refuses the number before any member is read (the pointer is then ""). */
static const struct refusal {
    const char *text;
    const char *wording;
    bool pointer_is_body;
} refused[] = {
    {"1.5", "not a fraction", false},
    {"1e-3", "not a fraction", false},
    {"1000000.5", "not a fraction", false},
    {"9223372036854775808", "beyond 64 bits", true},
    {"1e19", "beyond 64 bits", false},
    {"9.3e18", "beyond 64 bits", false},
    {"-1e19", "beyond 64 bits", false},
    {"-1", "negative", false},
    {"-1e0", "negative", false},
    {"'1e6'", "not a string", false},
};

/* Copies template into out, writing serial for each '#' and spelling for each '$'. */
static void fill(const char *template, int serial, const char *spelling, char *out, size_t out_len)
{
    size_t n = 0;

    for (; *template && n + 1 < out_len; template ++) {
        if (*template == '#')
            n += (size_t)snprintf(out + n, out_len - n, "%d", serial);
        else if (*template == '$')
            n += (size_t)snprintf(out + n, out_len - n, "%s", spelling);
        else
            out[n++] = *template;
        if (n >= out_len)
            n = out_len - 1;
    }
    out[n] = '\0';
}

static long send_spelling(const struct integer_field *f, int serial, const char *spelling,
                          struct ct_response *r)
{
    char path[160], body[200], key[32];

    fill(f->path, serial, spelling, path, sizeof path);
    fill(f->body, serial, spelling, body, sizeof body);
    snprintf(key, sizeof key, "spelling-%d", serial);
    return send_keyed(f->method, path, f->is_keyed ? key : NULL, body, r);
}

/* The negative refusal reads "must not be negative" or "must be at least 0". */
static bool says(const char *detail, const char *wording)
{
    if (strcmp(wording, "negative") == 0)
        return strstr(detail, "negative") || strstr(detail, "at least 0");
    if (strcmp(wording, "not a string") == 0)
        return strstr(detail, "whole number") && strstr(detail, "string");
    return strstr(detail, wording) != NULL;
}

START_TEST(every_spelling_of_a_whole_number_is_accepted)
{
    const struct integer_field *f = &fields[_i];
    struct ct_response r;

    registered("{'id':'sp/m'}");
    for (size_t j = 0; j < sizeof accepted / sizeof accepted[0]; j++) {
        send_spelling(f, (int)j, accepted[j].text, &r);
        ck_assert_msg(r.status == 200 || r.status == 201, "%s = %s answered %ld: %s", f->name,
                      accepted[j].text, r.status, r.body);
        if (f->answer) {
            const json_t *v = at(r.json, f->answer);
            ck_assert_msg(json_is_integer(v) && json_integer_value(v) == accepted[j].value,
                          "%s = %s: the answer's %s is not %lld: %s", f->name, accepted[j].text,
                          f->answer, accepted[j].value, r.body);
        }
        ct_response_cleanup(&r);
    }
}
END_TEST

START_TEST(fractions_values_beyond_64_bits_and_negatives_are_refused_saying_which)
{
    const struct integer_field *f = &fields[_i];
    struct ct_response r;

    registered("{'id':'sp/m'}");
    for (size_t j = 0; j < sizeof refused / sizeof refused[0]; j++) {
        const char *detail;
        send_spelling(f, (int)j, refused[j].text, &r);
        CT_ASSERT_PROBLEM(&r, 422, "invalid-input", refused[j].pointer_is_body ? "" : f->pointer);
        detail = str_at(&r, "detail");
        ck_assert_msg(says(detail, refused[j].wording), "%s = %s: the detail does not say '%s': %s",
                      f->name, refused[j].text, refused[j].wording, detail);
        ct_response_cleanup(&r);
    }
    /* Nothing refused was counted. */
    ck_assert_int_eq(inferences_of("sp/m"), 0);
}
END_TEST

START_TEST(the_largest_64_bit_values_are_told_apart)
{
    struct ct_response r;

    registered("{'id':'sp/m'}");
    /* 2^63 - 1 written out is an integer; 9223372036854775807.0 rounds to 2^63, a
     * double past it; -2^63 as a real is the smallest 64-bit value (negative here). */
    send_keyed("POST", "/v1/models/sp/m/inferences", "k-max", "{'count':9223372036854775807}", &r);
    ASSERT_STATUS(&r, 200);
    ct_response_cleanup(&r);
    send_keyed("PUT", "/v1/models/sp/m/inference-counters/edge", NULL,
               "{'total':9223372036854775807.0}", &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", "/total");
    ck_assert_msg(strstr(str_at(&r, "detail"), "beyond 64 bits"), "%s", r.body);
    ct_response_cleanup(&r);
    send_keyed("PUT", "/v1/models/sp/m/inference-counters/edge", NULL,
               "{'total':-9.223372036854775808e18}", &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", "/total");
    ck_assert_msg(strstr(str_at(&r, "detail"), "at least 0"), "%s", r.body);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(a_retry_whose_whole_numbers_are_respelled_replays_the_first_answer)
{
    struct ct_response first, again;

    registered("{'id':'sp/m'}");
    send_keyed("POST", "/v1/models/sp/m/inferences", "respelled", "{'count':1e6}", &first);
    ASSERT_STATUS(&first, 200);
    send_keyed("POST", "/v1/models/sp/m/inferences", "respelled", "{'count':1000000}", &again);
    ASSERT_STATUS(&again, 200);
    ck_assert_msg(json_equal(first.json, again.json), "the retry answered %s, first %s", again.body,
                  first.body);
    ct_response_cleanup(&again);
    /* Another number under the same key is another request. */
    send_keyed("POST", "/v1/models/sp/m/inferences", "respelled", "{'count':1000001}", &again);
    CT_ASSERT_PROBLEM(&again, 422, "invalid-input", NULL);
    ct_response_cleanup(&again);
    ct_response_cleanup(&first);
    ck_assert_int_eq(inferences_of("sp/m"), 1000000);
}
END_TEST

/* A query parameter typed integer reads a whole number as a body member does. */
static const struct {
    const char *path;
    long status;
} query_spellings[] = {
    {"/v1/models?limit=1e1", 200},
    {"/v1/models?limit=10.0", 200},
    {"/v1/hardware?limit=2E1&cursor=0.0", 200},
    {"/v1/models?limit=1.5", 400},
    {"/v1/models?limit=1e-3", 400},
    {"/v1/models?limit=1e400", 400},
    {"/v1/models?limit=inf", 400},
    {"/v1/models?limit=0x10", 400},
    {"/v1/models?limit=-1e1", 400},
    {"/v1/models?cursor=1e19", 400},
};

START_TEST(query_integers_take_the_same_spellings)
{
    struct ct_response r;

    for (size_t i = 0; i < sizeof query_spellings / sizeof query_spellings[0]; i++) {
        ct_get(srv, query_spellings[i].path, &r);
        ck_assert_msg(r.status == query_spellings[i].status, "%s answered %ld: %s",
                      query_spellings[i].path, r.status, r.body);
        if (r.status == 400)
            ck_assert_msg(strstr(str_at(&r, "detail"), "must be a whole number") != NULL, "%s: %s",
                          query_spellings[i].path, r.body);
        ct_response_cleanup(&r);
    }
}
END_TEST

/* ---- unknown names ---- */

/* An unknown name and the answer that must name its nearest allowed one (NULL: none
 * is near, and the answer must not guess) and list the allowed ones (listed: a
 * fragment of that list). */
static const struct unknown_name {
    const char *method;
    const char *path;
    bool is_keyed;
    const char *body; /* single-quoted JSON; NULL for a query parameter */
    long status;
    const char *pointer;
    const char *nearest;
    const char *listed;
} unknown_names[] = {
    {"POST", "/v1/estimates", false, "{'method':'tdp','gpu':'V100','hours':3}", 422, "/gpu",
     "devices[].hardware", "allowed fields: method, hours, pue, carbon_intensity, location"},
    {"POST", "/v1/estimates", false,
     "{'method':'tdp','devices':[{'hardware':'V100'}],'region':'FRA','hours':3}", 422, "/region",
     "location", "allowed fields: method, hours"},
    {"POST", "/v1/estimates", false,
     "{'method':'tdp','devices':[{'hardware':'V100'}],'utilization':0.5,'hours':3}", 422,
     "/utilization", "utilisation", "utilisation"},
    {"POST", "/v1/estimates", false,
     "{'method':'tdp','devices':[{'hardware':'V100'}],'duration_hours':3}", 422, "/duration_hours",
     "hours", "allowed fields: method, hours"},
    {"POST", "/v1/estimates", false, "{'method':'tdp','devices':[{'gpu':'V100'}],'hours':3}", 422,
     "/devices/0/gpu", "hardware", "allowed fields: hardware, count, tdp_w, utilisation"},
    {"POST", "/v1/estimates", false, "{'method':'power','power':300,'hours':3}", 422, "/power",
     "power_w", "power_w"},
    {"POST", "/v1/estimates", false,
     "{'method':'tdp','devices':[{'hardware':'V100'}],'hours':3,'zzzzzz':1}", 422, "/zzzzzz", NULL,
     "allowed fields: method, hours"},
    {"POST", "/v1/models/sp/m/inferences", true, "{'count':1,'dat':'2024-01-01'}", 422, "/dat",
     "date", "allowed fields: count, date"},
    {"PUT", "/v1/models/sp/m/inference-counters/r1", false, "{'count':5}", 422, "/count", "total",
     "allowed fields: total, reset, date"},
    {"POST", "/v1/inference-reports", true, "{'reports':[{'model':'sp/m','cuont':1}]}", 422,
     "/reports/0/cuont", "count", "allowed fields: model, count, date"},
    {"GET", "/v1/models?page=2", false, NULL, 400, "page", "cursor",
     "accepted parameters: limit, cursor, namespace, parent, sort, format, q, include, policy, "
     "pretty"},
    {"GET", "/v1/models?offset=20", false, NULL, 400, "offset", "cursor",
     "accepted parameters: limit, cursor"},
    {"GET", "/v1/models?per_page=5", false, NULL, 400, "per_page", "limit",
     "accepted parameters: limit, cursor"},
    {"GET", "/v1/hardware?prety=1", false, NULL, 400, "prety", "pretty",
     "accepted parameters: limit, cursor, name, kind, pretty"},
    {"GET", "/v1/regions?zzzzzz=1", false, NULL, 400, "zzzzzz", NULL, "provider, country"},
};

START_TEST(an_unknown_name_is_refused_naming_the_nearest_and_listing_the_allowed)
{
    const struct unknown_name *u = &unknown_names[_i];
    struct ct_response r;
    const char *detail;
    char guess[96];

    registered("{'id':'sp/m'}");
    if (u->body)
        send_keyed(u->method, u->path, u->is_keyed ? "unknown-1" : NULL, u->body, &r);
    else
        ct_get(srv, u->path, &r);
    CT_ASSERT_PROBLEM(&r, u->status, u->status == 400 ? "bad-request" : "invalid-input",
                      u->pointer);
    detail = str_at(&r, "detail");
    ck_assert_msg(strstr(detail, "unknown ") != NULL, "%s %s: %s", u->method, u->path, detail);
    if (u->nearest) {
        snprintf(guess, sizeof guess, "did you mean '%s'?", u->nearest);
        ck_assert_msg(strstr(detail, guess) != NULL, "%s %s: no \"%s\" in %s", u->method, u->path,
                      guess, detail);
    } else {
        ck_assert_msg(strstr(detail, "did you mean") == NULL, "%s %s guesses: %s", u->method,
                      u->path, detail);
    }
    ck_assert_msg(strstr(detail, u->listed) != NULL, "%s %s: no \"%s\" in %s", u->method, u->path,
                  u->listed, detail);
    ct_response_cleanup(&r);
}
END_TEST

static Suite *spellings_suite(void)
{
    Suite *s = suite_create("http_spellings");
    TCase *numbers = tcase_create("whole_numbers");
    TCase *names = tcase_create("unknown_names");
    int n_fields = (int)(sizeof fields / sizeof fields[0]);

    tcase_add_checked_fixture(numbers, start_server, stop_servers);
    tcase_set_timeout(numbers, TEST_TIMEOUT_S);
    suite_add_tcase(s, numbers);
    tcase_add_loop_test(numbers, every_spelling_of_a_whole_number_is_accepted, 0, n_fields);
    tcase_add_loop_test(numbers,
                        fractions_values_beyond_64_bits_and_negatives_are_refused_saying_which, 0,
                        n_fields);
    tcase_add_test(numbers, the_largest_64_bit_values_are_told_apart);
    tcase_add_test(numbers, a_retry_whose_whole_numbers_are_respelled_replays_the_first_answer);
    tcase_add_test(numbers, query_integers_take_the_same_spellings);

    tcase_add_checked_fixture(names, start_server, stop_servers);
    tcase_set_timeout(names, TEST_TIMEOUT_S);
    suite_add_tcase(s, names);
    tcase_add_loop_test(names,
                        an_unknown_name_is_refused_naming_the_nearest_and_listing_the_allowed, 0,
                        (int)(sizeof unknown_names / sizeof unknown_names[0]));
    return s;
}

int main(void)
{
    return ct_main(spellings_suite());
}
