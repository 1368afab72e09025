/* SPDX-License-Identifier: Apache-2.0 */
/* What people and browsers meet: the CORS allow-list (--cors-origins), CSV for
 * the model and activity lists (Accept: text/csv), and the manual page of every
 * command (`carbontree <command> --help`, `carbontree help <command>`). */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TEST_TIMEOUT_S    30
#define COMMAND_TIMEOUT_S 10.0
#define RAW_TIMEOUT_S     10.0

#define ALLOWED     "https://dash.example.org"
#define ALLOWED_TOO "http://localhost:3000"
#define EXPOSED     "ETag, Link, Location, Retry-After, X-Request-Id, Idempotent-Replayed"
#define REQUEST_HEADERS                                                                            \
    "Authorization, Content-Type, Idempotency-Key, If-Match, If-None-Match, X-Request-Id"

static struct ct_server *srv;

/* A server with extra serve flags (NULL-terminated, static) or environment. */
static struct ct_server *started(const char *const *args, const char *const *env)
{
    struct ct_server *s = ct_server_new();
    char why[4096];

    s->args = args;
    s->env = env;
    ck_assert_msg(ct_server_start(s, why, sizeof why), "%s", why);
    return s;
}

static void start_cors_server(void)
{
    static const char *const args[] = {"--cors-origins", ALLOWED ", " ALLOWED_TOO, NULL};

    srv = started(args, NULL);
}

static void start_plain_server(void)
{
    srv = started(NULL, NULL);
}

static void stop_servers(void)
{
    ct_cleanup_all();
    srv = NULL;
}

/* ---- CORS ---- */

/* One request over a fresh connection: method, path, extra header lines (each
 * ending in CRLF, may be ""), and a JSON body sent with the admin token (or NULL). */
static void raw(const struct ct_server *s, const char *method, const char *path,
                const char *headers, const char *body, struct ct_raw_response *out)
{
    char request[4096];
    int len;

    if (body)
        len = snprintf(request, sizeof request,
                       "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s"
                       "Authorization: Bearer " CT_ADMIN_TOKEN "\r\n"
                       "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                       method, path, headers, strlen(body), body);
    else
        len = snprintf(request, sizeof request,
                       "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s\r\n", method,
                       path, headers);
    ck_assert_int_lt(len, (int)sizeof request);
    ct_raw(s, request, (size_t)len, RAW_TIMEOUT_S, out);
    ck_assert_msg(out->status > 0, "%s %s: no answer", method, path);
}

/* Value of a header, or "" when absent. */
static const char *head_value(const struct ct_raw_response *r, const char *name, char *buf,
                              size_t buf_len)
{
    return ct_raw_header(r, name, buf, buf_len) ? buf : "";
}

/* Whether the head holds any Access-Control-* header. */
static bool has_cors_header(const struct ct_raw_response *r)
{
    for (const char *line = r->head; line && *line; line = strchr(line, '\n')) {
        if (*line == '\n')
            line++;
        if (strncasecmp(line, "Access-Control-", 15) == 0)
            return true;
        if (strchr(line, '\n') == NULL)
            break;
    }
    return false;
}

/* The answer carries the headers of an allowed origin (not a preflight's). */
static void assert_cors_for(const struct ct_raw_response *r, const char *allow_origin)
{
    char buf[512];

    ck_assert_msg(
        strcmp(head_value(r, "Access-Control-Allow-Origin", buf, sizeof buf), allow_origin) == 0,
        "Access-Control-Allow-Origin '%s', want '%s'; head:\n%s", buf, allow_origin, r->head);
    ck_assert_str_eq(head_value(r, "Access-Control-Expose-Headers", buf, sizeof buf), EXPOSED);
    /* One Vary header naming Origin (list answers also vary on Accept). */
    ck_assert_msg(strstr(head_value(r, "Vary", buf, sizeof buf), "Origin") != NULL,
                  "Vary '%s' does not name Origin", buf);
    ck_assert_msg(!ct_raw_header(r, "Access-Control-Allow-Credentials", buf, sizeof buf),
                  "credentials allowed: %s", r->head);
    ck_assert_msg(!ct_raw_header(r, "Access-Control-Allow-Methods", buf, sizeof buf),
                  "a simple request got preflight headers: %s", r->head);
}

START_TEST(allowed_origin_on_a_read_gets_cors_headers)
{
    struct ct_raw_response r;

    raw(srv, "GET", "/healthz", "Origin: " ALLOWED "\r\n", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    assert_cors_for(&r, ALLOWED);
    ct_raw_cleanup(&r);

    /* The second origin of the list, with a list page. */
    raw(srv, "GET", "/v1/models?limit=1", "Origin: " ALLOWED_TOO "\r\n", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    assert_cors_for(&r, ALLOWED_TOO);
    ct_raw_cleanup(&r);
}
END_TEST

START_TEST(allowed_origin_on_a_problem_gets_cors_headers)
{
    struct ct_raw_response r;

    /* A 404 from the handler (no such model)... */
    raw(srv, "GET", "/v1/models/org/nobody", "Origin: " ALLOWED "\r\n", NULL, &r);
    CT_ASSERT_PROBLEM(&r, 404, "not-found", NULL);
    assert_cors_for(&r, ALLOWED);
    ct_raw_cleanup(&r);

    /* ...one decided before any handler (no such route)... */
    raw(srv, "GET", "/v1/nothing", "Origin: " ALLOWED "\r\n", NULL, &r);
    CT_ASSERT_PROBLEM(&r, 404, "not-found", NULL);
    assert_cors_for(&r, ALLOWED);
    ct_raw_cleanup(&r);

    /* ...and a refused write (no token). */
    raw(srv, "DELETE", "/v1/models/org/nobody", "Origin: " ALLOWED "\r\n", NULL, &r);
    CT_ASSERT_PROBLEM(&r, 401, "unauthorized", NULL);
    assert_cors_for(&r, ALLOWED);
    ct_raw_cleanup(&r);
}
END_TEST

START_TEST(allowed_origin_on_a_write_gets_cors_headers)
{
    struct ct_raw_response r;
    char buf[512];

    raw(srv, "POST", "/v1/models", "Origin: " ALLOWED "\r\n", "{\"id\":\"org/cors\"}", &r);
    ck_assert_msg(r.status == 201, "status %d: %s", r.status, r.body);
    assert_cors_for(&r, ALLOWED);
    ck_assert_str_eq(head_value(&r, "Location", buf, sizeof buf), "/v1/models/org/cors");
    ct_raw_cleanup(&r);
}
END_TEST

START_TEST(preflight_on_a_known_route_is_204_with_methods_headers_and_max_age)
{
    static const struct {
        const char *path;
        const char *methods;
    } cases[] = {
        {"/v1/models", "OPTIONS, GET, HEAD, POST"},
        {"/v1/models/org/any", "OPTIONS, GET, HEAD, PUT, PATCH, DELETE"},
        {"/v1/models/org/any/inferences", "OPTIONS, GET, HEAD, POST"},
    };
    struct ct_raw_response r;
    char buf[512];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        raw(srv, "OPTIONS", cases[i].path,
            "Origin: " ALLOWED "\r\nAccess-Control-Request-Method: POST\r\n"
            "Access-Control-Request-Headers: authorization, content-type\r\n",
            NULL, &r);
        ck_assert_msg(r.status == 204, "%s: status %d", cases[i].path, r.status);
        ck_assert_uint_eq(r.body_len, 0);
        ck_assert_str_eq(head_value(&r, "Access-Control-Allow-Origin", buf, sizeof buf), ALLOWED);
        ck_assert_str_eq(head_value(&r, "Access-Control-Allow-Methods", buf, sizeof buf),
                         cases[i].methods);
        ck_assert_str_eq(head_value(&r, "Allow", buf, sizeof buf), cases[i].methods);
        ck_assert_str_eq(head_value(&r, "Access-Control-Allow-Headers", buf, sizeof buf),
                         REQUEST_HEADERS);
        ck_assert_str_eq(head_value(&r, "Access-Control-Max-Age", buf, sizeof buf), "600");
        ck_assert_str_eq(head_value(&r, "Access-Control-Expose-Headers", buf, sizeof buf), EXPOSED);
        ck_assert_str_eq(head_value(&r, "Vary", buf, sizeof buf), "Origin");
        ck_assert_msg(!ct_raw_header(&r, "Access-Control-Allow-Credentials", buf, sizeof buf),
                      "credentials allowed: %s", r.head);
        ct_raw_cleanup(&r);
    }

    /* A plain OPTIONS (no Access-Control-Request-Method) is no preflight. */
    raw(srv, "OPTIONS", "/v1/models", "Origin: " ALLOWED "\r\n", NULL, &r);
    ck_assert_int_eq(r.status, 204);
    assert_cors_for(&r, ALLOWED);
    ct_raw_cleanup(&r);
}
END_TEST

START_TEST(preflight_on_an_unknown_route_is_404)
{
    struct ct_raw_response r;
    char buf[512];

    raw(srv, "OPTIONS", "/v1/nothing",
        "Origin: " ALLOWED "\r\nAccess-Control-Request-Method: GET\r\n", NULL, &r);
    CT_ASSERT_PROBLEM(&r, 404, "not-found", NULL);
    assert_cors_for(&r, ALLOWED);
    ck_assert_msg(!ct_raw_header(&r, "Access-Control-Max-Age", buf, sizeof buf), "%s", r.head);
    ct_raw_cleanup(&r);
}
END_TEST

START_TEST(disallowed_origin_gets_no_cors_headers)
{
    static const char *const origins[] = {
        "https://evil.example",
        "https://dash.example.org.evil.example", /* an allowed origin as a prefix */
        "https://dash.example.org:8443",         /* another port */
        "http://dash.example.org",               /* another scheme */
        "null",
    };
    struct ct_raw_response r;
    char header[256], buf[512];

    for (size_t i = 0; i < sizeof origins / sizeof origins[0]; i++) {
        snprintf(header, sizeof header, "Origin: %s\r\n", origins[i]);
        raw(srv, "GET", "/healthz", header, NULL, &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_msg(!has_cors_header(&r), "%s got CORS headers:\n%s", origins[i], r.head);
        ck_assert_str_eq(head_value(&r, "Vary", buf, sizeof buf), "Origin");
        ct_raw_cleanup(&r);

        snprintf(header, sizeof header, "Origin: %s\r\nAccess-Control-Request-Method: POST\r\n",
                 origins[i]);
        raw(srv, "OPTIONS", "/v1/models", header, NULL, &r);
        ck_assert_int_eq(r.status, 204);
        ck_assert_msg(!has_cors_header(&r), "%s preflight got CORS headers:\n%s", origins[i],
                      r.head);
        ct_raw_cleanup(&r);
    }

    /* Without Origin (not a browser's cross-origin request): no CORS headers. */
    raw(srv, "GET", "/healthz", "", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(!has_cors_header(&r), "%s", r.head);
    ct_raw_cleanup(&r);
}
END_TEST

START_TEST(star_from_the_environment_allows_every_origin)
{
    static const char *const env[] = {"CARBONTREE_CORS_ORIGINS=*", NULL};
    struct ct_server *any = started(NULL, env);
    struct ct_raw_response r;
    char buf[512];

    raw(any, "GET", "/v1/models", "Origin: https://anyone.example\r\n", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    assert_cors_for(&r, "*");
    ct_raw_cleanup(&r);

    raw(any, "OPTIONS", "/v1/models/org/any/activities",
        "Origin: https://anyone.example\r\nAccess-Control-Request-Method: POST\r\n", NULL, &r);
    ck_assert_int_eq(r.status, 204);
    ck_assert_str_eq(head_value(&r, "Access-Control-Allow-Origin", buf, sizeof buf), "*");
    ck_assert_str_eq(head_value(&r, "Access-Control-Allow-Methods", buf, sizeof buf),
                     "OPTIONS, GET, HEAD, POST");
    ct_raw_cleanup(&r);
}
END_TEST

START_TEST(cors_is_off_by_default)
{
    struct ct_server *plain = started(NULL, NULL);
    struct ct_raw_response r;
    char buf[64];

    raw(plain, "GET", "/healthz", "Origin: " ALLOWED "\r\n", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(!has_cors_header(&r), "%s", r.head);
    ck_assert_msg(!ct_raw_header(&r, "Vary", buf, sizeof buf), "%s", r.head);
    ct_raw_cleanup(&r);

    raw(plain, "OPTIONS", "/v1/models",
        "Origin: " ALLOWED "\r\nAccess-Control-Request-Method: POST\r\n", NULL, &r);
    ck_assert_int_eq(r.status, 204);
    ck_assert_msg(!has_cors_header(&r), "%s", r.head);
    ct_raw_cleanup(&r);
}
END_TEST

static const char *const bad_origin_lists[] = {
    "https://dash.example.org/",     /* a trailing slash is no origin */
    "https://dash.example.org/path", /* nor is a path */
    "dash.example.org",              /* no scheme */
    "ftp://dash.example.org",        /* not http(s) */
    "*, https://dash.example.org",   /* * alone or not at all */
    "https://a.example,,https://b.example",
};

START_TEST(malformed_origin_list_stops_serve)
{
    struct ct_server *s = ct_server_new();
    const char *argv[] = {"serve",    "--listen",       "127.0.0.1",      "--port", "0", "--db",
                          s->db_path, "--auto-migrate", "--cors-origins", NULL,     NULL};
    struct ct_command c;

    argv[9] = bad_origin_lists[_i];
    ct_run(argv, NULL, COMMAND_TIMEOUT_S, &c);
    ck_assert_msg(c.status == 1, "'%s': exit %d: %s", argv[9], c.status, c.output);
    ck_assert_msg(strstr(c.output, "--cors-origins") != NULL, "%s", c.output);
    free(c.output);
}
END_TEST

/* ---- CSV lists ---- */

/* One parsed CSV text: rows of fields, each a malloc'd string. */
struct csv {
    size_t n_rows;
    size_t n_fields[64];
    char *fields[64][16];
};

static void csv_free(struct csv *csv)
{
    for (size_t r = 0; r < csv->n_rows; r++)
        for (size_t f = 0; f < csv->n_fields[r]; f++)
            free(csv->fields[r][f]);
    memset(csv, 0, sizeof *csv);
}

/* Parses RFC 4180 text, insisting on CRLF line ends and a final CRLF. */
static void csv_parse(const char *text, struct csv *out)
{
    const char *p = text;

    memset(out, 0, sizeof *out);
    while (*p) {
        size_t r = out->n_rows++;
        ck_assert_msg(r < 64, "too many rows");
        for (;;) {
            char field[1024];
            size_t len = 0;
            ck_assert_msg(out->n_fields[r] < 16, "too many fields in row %zu", r);
            if (*p == '"') {
                for (p++;; p++) {
                    ck_assert_msg(*p != '\0', "unterminated quoted field in row %zu", r);
                    if (*p == '"' && p[1] == '"')
                        p++;
                    else if (*p == '"')
                        break;
                    ck_assert(len + 1 < sizeof field);
                    field[len++] = *p;
                }
                p++;
            } else {
                while (*p && *p != ',' && *p != '\r' && *p != '\n') {
                    ck_assert_msg(*p != '"', "a bare quote in row %zu", r);
                    ck_assert(len + 1 < sizeof field);
                    field[len++] = *p++;
                }
            }
            field[len] = '\0';
            out->fields[r][out->n_fields[r]++] = strdup(field);
            if (*p == ',') {
                p++;
                continue;
            }
            ck_assert_msg(p[0] == '\r' && p[1] == '\n', "row %zu does not end in CRLF: '%.20s'", r,
                          p);
            p += 2;
            break;
        }
    }
}

static const char *cell(const struct csv *csv, size_t row, size_t field)
{
    ck_assert_msg(row < csv->n_rows && field < csv->n_fields[row], "no cell %zu,%zu", row, field);
    return csv->fields[row][field];
}

/* GET path with Accept: text/csv; insists on 200 and the CSV content type. */
static void get_csv(const char *path, struct ct_response *r, struct csv *csv)
{
    static const char *const headers[] = {"Accept: text/csv", NULL};

    ct_request(srv, "GET", path, headers, NULL, 0, r);
    ck_assert_msg(r->status == 200, "GET %s: %ld %s", path, r->status, r->body);
    ck_assert_str_eq(r->content_type, "text/csv; charset=utf-8");
    csv_parse(r->body, csv);
}

static void registered(const char *single_quoted)
{
    struct ct_response r;

    ct_send(srv, "POST", "/v1/models", single_quoted, &r);
    ck_assert_msg(r.status == 201, "registering %s answered %ld: %s", single_quoted, r.status,
                  r.body);
    ct_response_cleanup(&r);
}

#define MODELS_HEADER                                                                              \
    "id,namespace,name,parents,depth,children_count,task,license,url,parameters,created_at,"       \
    "updated_at"

START_TEST(models_csv_has_a_header_and_one_row_per_model)
{
    static const char *const names[] = {"id",    "namespace",      "name",       "parents",
                                        "depth", "children_count", "task",       "license",
                                        "url",   "parameters",     "created_at", "updated_at"};
    struct ct_response r, json;
    struct csv csv;

    registered("{'id':'org/base','task':'text, \\'quoted\\' generation','license':'mit',"
               "'url':'https://example.org/base','parameters':110000000}");
    registered("{'id':'org/other'}");
    registered("{'id':'org/tuned','parents':[{'id':'org/base','relation':'finetune'}]}");
    registered("{'id':'org/merged','parents':[{'id':'org/base','relation':'merge'},"
               "{'id':'org/other','relation':'merge'}]}");

    get_csv("/v1/models", &r, &csv);
    ck_assert_msg(strncmp(r.body, MODELS_HEADER "\r\n", strlen(MODELS_HEADER) + 2) == 0,
                  "header line: %.200s", r.body);
    ck_assert_uint_eq(csv.n_rows, 5);
    for (size_t i = 0; i < 12; i++)
        ck_assert_str_eq(cell(&csv, 0, i), names[i]);
    for (size_t row = 1; row < csv.n_rows; row++)
        ck_assert_msg(csv.n_fields[row] == 12, "row %zu has %zu fields", row, csv.n_fields[row]);

    /* A field with a comma and quotes comes back whole. */
    ck_assert_str_eq(cell(&csv, 1, 0), "org/base");
    ck_assert_str_eq(cell(&csv, 1, 1), "org");
    ck_assert_str_eq(cell(&csv, 1, 2), "base");
    ck_assert_str_eq(cell(&csv, 1, 3), "");
    ck_assert_str_eq(cell(&csv, 1, 4), "0");
    ck_assert_str_eq(cell(&csv, 1, 5), "2");
    ck_assert_str_eq(cell(&csv, 1, 6), "text, \"quoted\" generation");
    ck_assert_msg(strstr(r.body, ",\"text, \"\"quoted\"\" generation\",") != NULL,
                  "the task is not quoted as RFC 4180 says: %s", r.body);
    ck_assert_str_eq(cell(&csv, 1, 7), "mit");
    ck_assert_str_eq(cell(&csv, 1, 8), "https://example.org/base");
    ck_assert_str_eq(cell(&csv, 1, 9), "110000000");
    /* Absent optional fields are empty. */
    for (size_t i = 6; i <= 9; i++)
        ck_assert_str_eq(cell(&csv, 2, i), "");
    ck_assert_str_eq(cell(&csv, 3, 3), "org/base:finetune");
    ck_assert_str_eq(cell(&csv, 3, 4), "1");
    ck_assert_str_eq(cell(&csv, 4, 3), "org/base:merge;org/other:merge");

    /* The timestamps are the JSON answer's. */
    ck_assert_int_eq(ct_get(srv, "/v1/models/org/base", &json), 200);
    ck_assert_str_eq(cell(&csv, 1, 10),
                     json_string_value(json_object_get(json.json, "created_at")));
    ck_assert_str_eq(cell(&csv, 1, 11),
                     json_string_value(json_object_get(json.json, "updated_at")));
    ct_response_cleanup(&json);
    csv_free(&csv);
    ct_response_cleanup(&r);

    /* Filters apply to CSV too; an empty page is the header line alone. */
    get_csv("/v1/models?namespace=nobody", &r, &csv);
    ck_assert_str_eq(r.body, MODELS_HEADER "\r\n");
    csv_free(&csv);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(csv_keeps_formula_like_text_as_text_and_varies_on_accept)
{
    struct ct_raw_response raw_r;
    struct ct_response r;
    struct csv csv;
    char buf[128];

    registered("{'id':'org/sheet','task':'=HYPERLINK(1)','license':'+1','url':'https://x.org/-a'}");
    get_csv("/v1/models", &r, &csv);
    ck_assert_str_eq(cell(&csv, 1, 0), "org/sheet");
    ck_assert_str_eq(cell(&csv, 1, 6), "'=HYPERLINK(1)");
    ck_assert_str_eq(cell(&csv, 1, 7), "'+1");
    ck_assert_str_eq(cell(&csv, 1, 8), "https://x.org/-a");
    csv_free(&csv);
    ct_response_cleanup(&r);
    /* the JSON answer keeps the text as given */
    ck_assert_int_eq(ct_get(srv, "/v1/models/org/sheet", &r), 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "task")), "=HYPERLINK(1)");
    ct_response_cleanup(&r);
    raw(srv, "GET", "/v1/models", "Accept: text/csv\r\n", NULL, &raw_r);
    ck_assert_msg(strstr(head_value(&raw_r, "Vary", buf, sizeof buf), "Accept") != NULL, "%s",
                  raw_r.head);
    ct_raw_cleanup(&raw_r);
}
END_TEST

START_TEST(models_csv_pages_follow_link)
{
    int seen[7] = {0};
    int pages = 0;
    char url[1024] = "/v1/models?limit=3";
    char body[64];

    for (int i = 0; i < 7; i++) {
        snprintf(body, sizeof body, "{'id':'page/m%d'}", i);
        registered(body);
    }
    while (url[0] && pages < 10) {
        struct ct_response r;
        struct csv csv;
        const char *start, *end;
        get_csv(url, &r, &csv);
        pages++;
        ck_assert_str_eq(cell(&csv, 0, 0), "id");
        ck_assert_msg(csv.n_rows >= 2 && csv.n_rows <= 4, "page %d has %zu rows", pages,
                      csv.n_rows);
        for (size_t row = 1; row < csv.n_rows; row++) {
            int i = -1;
            ck_assert_msg(sscanf(cell(&csv, row, 0), "page/m%d", &i) == 1 && i >= 0 && i < 7,
                          "row %s", cell(&csv, row, 0));
            seen[i]++;
        }
        start = strchr(r.link, '<');
        end = start ? strchr(start, '>') : NULL;
        if (start && end && strstr(r.link, "rel=\"next\"")) {
            snprintf(url, sizeof url, "%.*s", (int)(end - start - 1), start + 1);
            ck_assert_msg(strstr(url, "limit=3") != NULL, "Link '%s'", r.link);
        } else {
            ck_assert_msg(r.link[0] == '\0', "Link '%s'", r.link);
            url[0] = '\0';
        }
        csv_free(&csv);
        ct_response_cleanup(&r);
    }
    ck_assert_int_eq(pages, 3);
    for (int i = 0; i < 7; i++)
        ck_assert_msg(seen[i] == 1, "page/m%d seen %d times", i, seen[i]);
}
END_TEST

START_TEST(json_stays_the_default_and_wins_when_both_are_accepted)
{
    static const char *const both[] = {"Accept: text/csv, application/json", NULL};
    static const char *const any[] = {"Accept: */*", NULL};
    struct ct_response r;

    registered("{'id':'org/json'}");
    ct_request(srv, "GET", "/v1/models", both, NULL, 0, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.content_type, "application/json");
    ck_assert_msg(json_is_array(json_object_get(r.json, "items")), "%s", r.body);
    ct_response_cleanup(&r);

    ct_request(srv, "GET", "/v1/models/org/json/activities", any, NULL, 0, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.content_type, "application/json");
    ct_response_cleanup(&r);
}
END_TEST

#define ACTIVITIES_HEADER                                                                          \
    "id,model,kind,obtained,method,energy_kwh,co2e_kg,co2e_kg_low,co2e_kg_high,"                   \
    "methodology_version,created_at"

START_TEST(activities_csv_has_a_row_per_activity_and_pages_follow_link)
{
    static const char *const bodies[] = {
        "{'kind':'training','co2e_kg':{'value':10,'low':8,'high':12.5}}",
        "{'kind':'fine_tuning','energy_kwh':100,'location':'FRA'}",
        "{'kind':'other','obtained':'measured','co2e_kg':3}",
    };
    struct ct_response r, json;
    struct csv csv;
    char url[1024];
    const char *start, *end;

    registered("{'id':'led/ger'}");
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        ct_send(srv, "POST", "/v1/models/led/ger/activities", bodies[i], &r);
        ck_assert_msg(r.status == 201, "%s: %ld %s", bodies[i], r.status, r.body);
        ct_response_cleanup(&r);
    }
    ck_assert_int_eq(ct_get(srv, "/v1/models/led/ger/activities", &json), 200);

    get_csv("/v1/models/led/ger/activities", &r, &csv);
    ck_assert_msg(strncmp(r.body, ACTIVITIES_HEADER "\r\n", strlen(ACTIVITIES_HEADER) + 2) == 0,
                  "header line: %.200s", r.body);
    ck_assert_uint_eq(csv.n_rows, 4);
    for (size_t row = 1; row < 4; row++) {
        const json_t *item = json_array_get(json_object_get(json.json, "items"), row - 1);
        const json_t *co2e = json_object_get(item, "co2e_kg");
        char number[64];
        ck_assert_uint_eq(csv.n_fields[row], 11);
        snprintf(number, sizeof number, "%lld",
                 (long long)json_integer_value(json_object_get(item, "id")));
        ck_assert_str_eq(cell(&csv, row, 0), number);
        ck_assert_str_eq(cell(&csv, row, 1), "led/ger");
        ck_assert_str_eq(cell(&csv, row, 2), json_string_value(json_object_get(item, "kind")));
        ck_assert_str_eq(cell(&csv, row, 3), json_string_value(json_object_get(item, "obtained")));
        ck_assert_double_eq_tol(strtod(cell(&csv, row, 6), NULL),
                                json_number_value(json_object_get(co2e, "value")), 1e-9);
        ck_assert_double_eq_tol(strtod(cell(&csv, row, 7), NULL),
                                json_number_value(json_object_get(co2e, "low")), 1e-9);
        ck_assert_double_eq_tol(strtod(cell(&csv, row, 8), NULL),
                                json_number_value(json_object_get(co2e, "high")), 1e-9);
        ck_assert_str_eq(cell(&csv, row, 9),
                         json_string_value(json_object_get(item, "methodology_version")));
        ck_assert_str_eq(cell(&csv, row, 10),
                         json_string_value(json_object_get(item, "created_at")));
    }
    ck_assert_str_eq(cell(&csv, 1, 3), "reported");
    ck_assert_str_eq(cell(&csv, 1, 4), ""); /* no method */
    ck_assert_str_eq(cell(&csv, 1, 5), ""); /* no energy */
    ck_assert_str_eq(cell(&csv, 1, 6), "10");
    ck_assert_str_eq(cell(&csv, 1, 7), "8");
    ck_assert_str_eq(cell(&csv, 1, 8), "12.5");
    ck_assert_str_eq(cell(&csv, 2, 3), "measured");
    ck_assert_str_eq(cell(&csv, 2, 5), "100");
    ck_assert_msg(strtod(cell(&csv, 2, 6), NULL) > 0, "CO2e of measured energy: %s",
                  cell(&csv, 2, 6));
    csv_free(&csv);
    ct_response_cleanup(&r);
    ct_response_cleanup(&json);

    /* One per page: the Link of the CSV answer leads to the next. */
    get_csv("/v1/models/led/ger/activities?limit=2", &r, &csv);
    ck_assert_uint_eq(csv.n_rows, 3);
    start = strchr(r.link, '<');
    end = start ? strchr(start, '>') : NULL;
    ck_assert_msg(start && end && strstr(r.link, "rel=\"next\""), "Link '%s'", r.link);
    snprintf(url, sizeof url, "%.*s", (int)(end - start - 1), start + 1);
    csv_free(&csv);
    ct_response_cleanup(&r);
    get_csv(url, &r, &csv);
    ck_assert_uint_eq(csv.n_rows, 2);
    ck_assert_str_eq(cell(&csv, 1, 2), "other");
    ck_assert_str_eq(r.link, "");
    csv_free(&csv);
    ct_response_cleanup(&r);

    /* An unknown model is still a problem, whatever Accept says. */
    {
        static const char *const headers[] = {"Accept: text/csv", NULL};
        ct_request(srv, "GET", "/v1/models/led/nobody/activities", headers, NULL, 0, &r);
        CT_ASSERT_PROBLEM(&r, 404, "not-found", NULL);
        ct_response_cleanup(&r);
    }
}
END_TEST

/* ---- manual pages ---- */

static const struct {
    const char *command;
    const char *mentions[6]; /* what its page must name, NULL-terminated */
    const char *omits;       /* an option that does not apply, or NULL */
} pages[] = {
    {"serve",
     {"--listen", "--cors-origins", "CARBONTREE_CORS_ORIGINS", "CARBONTREE_ADMIN_TOKEN",
      "--auto-migrate", NULL},
     NULL},
    {"migrate", {"--db", "CARBONTREE_DB", "--busy-timeout", "--max-page-count", NULL}, "--listen"},
    {"token", {"--name", "--scopes", "--namespaces", "--admin", "--db", NULL}, "--cors-origins"},
    {"import", {"carbontree import FILE", "--batch", "--db", NULL}, "--listen"},
    {"version", {"carbontree version", NULL}, "--db"},
    {"help", {"carbontree help [COMMAND]", NULL}, "--db"},
};

static void assert_manual_page(const char *command, const char *output)
{
    static const char *const sections[] = {"NAME\n",    "SYNOPSIS\n",    "DESCRIPTION\n",
                                           "OPTIONS\n", "ENVIRONMENT\n", "EXIT STATUS\n",
                                           "EXAMPLES\n"};
    const char *previous = output;
    char name[64];

    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        const char *at = strstr(output, sections[i]);
        ck_assert_msg(at != NULL, "%s: no %s section:\n%s", command, sections[i], output);
        ck_assert_msg(at >= previous, "%s: %s out of order", command, sections[i]);
        previous = at;
    }
    snprintf(name, sizeof name, "NAME\n    carbontree %s - ", command);
    ck_assert_msg(strncmp(output, name, strlen(name)) == 0, "%s: starts '%.60s'", command, output);
    ck_assert_msg(strstr(output, "--help") != NULL, "%s: no --help", command);
}

START_TEST(each_command_has_a_manual_page)
{
    const char *argv[] = {pages[_i].command, "--help", NULL};
    const char *short_argv[] = {pages[_i].command, "-h", NULL};
    const char *help_argv[] = {"help", pages[_i].command, NULL};
    struct ct_command c, short_c, help_c;

    ct_run(argv, NULL, COMMAND_TIMEOUT_S, &c);
    ck_assert_msg(c.status == 0, "%s --help: exit %d: %s", pages[_i].command, c.status, c.output);
    assert_manual_page(pages[_i].command, c.output);
    for (size_t i = 0; pages[_i].mentions[i]; i++)
        ck_assert_msg(strstr(c.output, pages[_i].mentions[i]) != NULL, "%s --help lacks %s:\n%s",
                      pages[_i].command, pages[_i].mentions[i], c.output);
    if (pages[_i].omits)
        ck_assert_msg(strstr(c.output, pages[_i].omits) == NULL, "%s --help names %s:\n%s",
                      pages[_i].command, pages[_i].omits, c.output);

    /* -h and `carbontree help <command>` print the same page. */
    ct_run(short_argv, NULL, COMMAND_TIMEOUT_S, &short_c);
    ck_assert_int_eq(short_c.status, 0);
    ck_assert_str_eq(short_c.output, c.output);
    ct_run(help_argv, NULL, COMMAND_TIMEOUT_S, &help_c);
    ck_assert_int_eq(help_c.status, 0);
    ck_assert_str_eq(help_c.output, c.output);
    free(help_c.output);
    free(short_c.output);
    free(c.output);
}
END_TEST

START_TEST(help_lists_every_command)
{
    const char *argv[] = {"help", NULL};
    struct ct_command c;

    ct_run(argv, NULL, COMMAND_TIMEOUT_S, &c);
    ck_assert_msg(c.status == 0, "exit %d: %s", c.status, c.output);
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        char line[64];
        snprintf(line, sizeof line, "\n  %s ", pages[i].command);
        ck_assert_msg(strstr(c.output, line) != NULL, "no %s in:\n%s", pages[i].command, c.output);
    }
    free(c.output);
}
END_TEST

START_TEST(unknown_command_exits_2)
{
    const char *unknown[] = {"serv", NULL};
    const char *help_unknown[] = {"help", "serv", NULL};
    const char *unknown_help[] = {"serv", "--help", NULL};
    const char *const *cases[] = {unknown, help_unknown, unknown_help};
    struct ct_command c;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ct_run(cases[i], NULL, COMMAND_TIMEOUT_S, &c);
        ck_assert_msg(c.status == 2, "case %zu: exit %d: %s", i, c.status, c.output);
        ck_assert_msg(strstr(c.output, "unknown command 'serv'") != NULL, "case %zu: %s", i,
                      c.output);
        free(c.output);
    }
}
END_TEST

static Suite *people_suite(void)
{
    Suite *s = suite_create("http_people");
    TCase *cors = tcase_create("cors");
    TCase *csv = tcase_create("csv");
    TCase *manual = tcase_create("manual");

    tcase_add_checked_fixture(cors, start_cors_server, stop_servers);
    tcase_add_checked_fixture(csv, start_plain_server, stop_servers);
    tcase_add_checked_fixture(manual, NULL, stop_servers);
    tcase_set_timeout(cors, TEST_TIMEOUT_S);
    tcase_set_timeout(csv, TEST_TIMEOUT_S);
    tcase_set_timeout(manual, TEST_TIMEOUT_S);
    suite_add_tcase(s, cors);
    suite_add_tcase(s, csv);
    suite_add_tcase(s, manual);

    tcase_add_test(cors, allowed_origin_on_a_read_gets_cors_headers);
    tcase_add_test(cors, allowed_origin_on_a_problem_gets_cors_headers);
    tcase_add_test(cors, allowed_origin_on_a_write_gets_cors_headers);
    tcase_add_test(cors, preflight_on_a_known_route_is_204_with_methods_headers_and_max_age);
    tcase_add_test(cors, preflight_on_an_unknown_route_is_404);
    tcase_add_test(cors, disallowed_origin_gets_no_cors_headers);
    tcase_add_test(cors, star_from_the_environment_allows_every_origin);
    tcase_add_test(cors, cors_is_off_by_default);
    tcase_add_loop_test(cors, malformed_origin_list_stops_serve, 0,
                        (int)(sizeof bad_origin_lists / sizeof bad_origin_lists[0]));

    tcase_add_test(csv, models_csv_has_a_header_and_one_row_per_model);
    tcase_add_test(csv, models_csv_pages_follow_link);
    tcase_add_test(csv, csv_keeps_formula_like_text_as_text_and_varies_on_accept);
    tcase_add_test(csv, json_stays_the_default_and_wins_when_both_are_accepted);
    tcase_add_test(csv, activities_csv_has_a_row_per_activity_and_pages_follow_link);

    tcase_add_loop_test(manual, each_command_has_a_manual_page, 0,
                        (int)(sizeof pages / sizeof pages[0]));
    tcase_add_test(manual, help_lists_every_command);
    tcase_add_test(manual, unknown_command_exits_2);
    return s;
}

int main(void)
{
    return ct_main(people_suite());
}
