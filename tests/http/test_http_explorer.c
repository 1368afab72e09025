/* SPDX-License-Identifier: Apache-2.0 */
/* The explorer page and its assets (GET /, GET /explorer/{id}) and the footprint
 * badge (GET …/badge.svg): content types, the Content-Security-Policy, ETags and
 * 304s, the badge's text, and the problems of an unknown asset, an unknown model
 * and a bad metric. The page's behaviour in a browser is tests/browser's. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_TIMEOUT_S 30
#define RAW_TIMEOUT_S  10.0

static struct ct_server *srv;

static void start_server(void)
{
    char why[4096];

    srv = ct_server_new();
    ck_assert_msg(ct_server_start(srv, why, sizeof why), "%s", why);
}

static void stop_server(void)
{
    ct_cleanup_all();
    srv = NULL;
}

static void conditional_get_is_304(const char *path, const char *etag)
{
    char header[128];
    const char *headers[] = {header, NULL};
    struct ct_response r = {0};

    snprintf(header, sizeof header, "If-None-Match: %s", etag);
    ck_assert_int_eq(ct_request(srv, "GET", path, headers, NULL, 0, &r), 304);
    ck_assert_uint_eq(r.body_len, 0);
    ct_response_cleanup(&r);
}

START_TEST(page_is_html_with_a_strict_policy_and_an_etag)
{
    static const char request[] = "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    struct ct_raw_response raw = {0};
    struct ct_response r = {0};
    char csp[512];

    ck_assert_int_eq(ct_get(srv, "/", &r), 200);
    ck_assert_str_eq(r.content_type, "text/html; charset=utf-8");
    ck_assert_ptr_nonnull(strstr(r.body, "<script src=\"/explorer/app.js\" defer></script>"));
    ck_assert_str_ne(r.etag, "");
    conditional_get_is_304("/", r.etag);
    ct_response_cleanup(&r);

    ct_raw(srv, request, sizeof request - 1, RAW_TIMEOUT_S, &raw);
    ck_assert_int_eq(raw.status, 200);
    ck_assert_ptr_nonnull(ct_raw_header(&raw, "Content-Security-Policy", csp, sizeof csp));
    ck_assert_ptr_nonnull(strstr(csp, "default-src 'self'"));
    ck_assert_ptr_nonnull(strstr(csp, "script-src 'self'"));
    ck_assert_ptr_null(strstr(csp, "unsafe"));
    ct_raw_cleanup(&raw);
}
END_TEST

START_TEST(assets_have_their_content_types)
{
    static const struct {
        const char *path;
        const char *content_type;
    } cases[] = {
        {"/explorer/app.js", "text/javascript; charset=utf-8"},
        {"/explorer/app.css", "text/css; charset=utf-8"},
        {"/explorer/icon.svg", "image/svg+xml"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ct_response r = {0};
        ck_assert_int_eq(ct_get(srv, cases[i].path, &r), 200);
        ck_assert_str_eq(r.content_type, cases[i].content_type);
        ck_assert_uint_gt(r.body_len, 0);
        conditional_get_is_304(cases[i].path, r.etag);
        ct_response_cleanup(&r);
    }
}
END_TEST

START_TEST(unknown_asset_is_404)
{
    struct ct_response r = {0};

    ct_get(srv, "/explorer/index.html", &r);
    CT_ASSERT_PROBLEM(&r, 404, "not-found", NULL);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(root_is_never_the_suggestion_for_an_unknown_path)
{
    struct ct_response r = {0};

    ct_get(srv, "/foo", &r);
    CT_ASSERT_PROBLEM(&r, 404, "not-found", NULL);
    ck_assert_msg(strstr(ct_string_at(r.json, "detail"), "did you mean /?") == NULL, "%s", r.body);
    ct_response_cleanup(&r);
}
END_TEST

/* A base of 100 kg with a fine-tune of 5 kg. */
static void seed(void)
{
    static const struct ct_step steps[] = {
        {"a base", "POST", "/v1/models", "{'id': 'ns/base'}", NULL, 201, NULL, NULL},
        {"its training", "POST", "/v1/models/ns/base/activities",
         "{'kind': 'training', 'co2e_kg': 100}", NULL, 201, NULL, NULL},
        {"a fine-tune", "POST", "/v1/models",
         "{'id': 'ns/x', 'parents': [{'id': 'ns/base', 'relation': 'finetune'}]}", NULL, 201, NULL,
         NULL},
        {"its fine-tuning", "POST", "/v1/models/ns/x/activities",
         "{'kind': 'fine_tuning', 'co2e_kg': 5}", NULL, 201, NULL, NULL},
    };

    ct_run_steps(srv, steps, sizeof steps / sizeof steps[0]);
}

START_TEST(badge_shows_the_footprint_total_with_an_etag)
{
    struct ct_response r = {0}, fp = {0};
    char want[64];

    seed();
    ck_assert_int_eq(ct_get(srv, "/v1/models/ns/x/footprint?policy=equal", &fp), 200);
    snprintf(want, sizeof want, ">%.3g kg<", ct_number_at(fp.json, "total_co2e_kg/value"));
    ct_response_cleanup(&fp);

    ck_assert_int_eq(ct_get(srv, "/v1/models/ns/x/badge.svg?policy=equal", &r), 200);
    ck_assert_str_eq(r.content_type, "image/svg+xml");
    ck_assert_msg(strncmp(r.body, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0, "%s",
                  r.body);
    ck_assert_msg(strstr(r.body, want) != NULL, "no %s in %s", want, r.body);
    ck_assert_msg(strstr(r.body, "<title>CO2e of ns/x (equal): ") != NULL, "%s", r.body);
    conditional_get_is_304("/v1/models/ns/x/badge.svg?policy=equal", r.etag);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(badge_per_inference_without_inferences_says_so)
{
    struct ct_response r = {0};

    seed();
    ck_assert_int_eq(ct_get(srv, "/v1/models/ns/base/badge.svg?metric=per_inference", &r), 200);
    ck_assert_msg(strstr(r.body, ">no inferences yet<") != NULL, "%s", r.body);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(badge_refusals_are_problems)
{
    struct ct_response r = {0};

    ct_get(srv, "/v1/models/ns/nobody/badge.svg", &r);
    CT_ASSERT_PROBLEM(&r, 404, "not-found", NULL);
    ct_response_cleanup(&r);
    seed();
    ct_get(srv, "/v1/models/ns/base/badge.svg?metric=mean", &r);
    CT_ASSERT_PROBLEM(&r, 400, "bad-request", "metric");
    ct_response_cleanup(&r);
}
END_TEST

static Suite *explorer_suite(void)
{
    Suite *s = suite_create("http_explorer");
    TCase *tc = tcase_create("explorer");

    tcase_set_timeout(tc, TEST_TIMEOUT_S);
    tcase_add_checked_fixture(tc, start_server, stop_server);
    tcase_add_test(tc, page_is_html_with_a_strict_policy_and_an_etag);
    tcase_add_test(tc, assets_have_their_content_types);
    tcase_add_test(tc, unknown_asset_is_404);
    tcase_add_test(tc, root_is_never_the_suggestion_for_an_unknown_path);
    tcase_add_test(tc, badge_shows_the_footprint_total_with_an_etag);
    tcase_add_test(tc, badge_per_inference_without_inferences_says_so);
    tcase_add_test(tc, badge_refusals_are_problems);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ct_main(explorer_suite());
}
