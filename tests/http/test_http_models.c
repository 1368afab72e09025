/* SPDX-License-Identifier: Apache-2.0 */
/* /healthz, /readyz, /openapi.yaml and every /v1/models route against the real
 * server: success answers field by field, and each documented error row. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_TIMEOUT_S 30

static struct ct_server *srv;

static void start_server(void)
{
    char why[4096];

    srv = ct_server_new();
    ck_assert_msg(ct_server_start(srv, why, sizeof why), "%s", why);
}

static void stop_servers(void)
{
    ct_cleanup_all();
    srv = NULL;
}

/* Registers a model from a single-quoted JSON body and insists on 201. */
static void registered(const char *single_quoted)
{
    struct ct_response r;

    ct_send(srv, "POST", "/v1/models", single_quoted, &r);
    ck_assert_msg(r.status == 201, "registering %s answered %ld: %s", single_quoted, r.status,
                  r.status ? r.body : r.error);
    ct_response_cleanup(&r);
}

static const char *str_member(const json_t *object, const char *key)
{
    const char *value = json_string_value(json_object_get(object, key));

    return value ? value : "(missing)";
}

/* "id/relation" of parent i of a model JSON, e.g. "org/base/finetune". */
static const char *parent_at(const json_t *model, size_t i, char *buf, size_t buf_len)
{
    const json_t *parent = json_array_get(json_object_get(model, "parents"), i);

    snprintf(buf, buf_len, "%s/%s", str_member(parent, "id"), str_member(parent, "relation"));
    return buf;
}

/* ---- service routes ---- */

START_TEST(healthz_answers_200_status_ok)
{
    struct ct_response r;

    ck_assert_int_eq(ct_get(srv, "/healthz", &r), 200);
    ck_assert_str_eq(r.content_type, "application/json");
    ck_assert_str_eq(str_member(r.json, "status"), "ok");
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(readyz_answers_200_with_the_schema_version)
{
    struct ct_response r;

    ck_assert_int_eq(ct_get(srv, "/readyz", &r), 200);
    ck_assert_str_eq(str_member(r.json, "status"), "ready");
    ck_assert_msg(json_is_integer(json_object_get(r.json, "schema_version")), "%s", r.body);
    ck_assert_int_ge(json_integer_value(json_object_get(r.json, "schema_version")), 1);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(openapi_yaml_is_served_as_yaml)
{
    struct ct_response r;
    const char *document;

    ck_assert_int_eq(ct_get(srv, "/openapi.yaml", &r), 200);
    ck_assert_str_eq(r.content_type, "application/yaml");
    /* The document proper follows its leading comment lines (its licence). */
    document = r.body;
    while (document[0] == '#' && strchr(document, '\n') != NULL)
        document = strchr(document, '\n') + 1;
    ck_assert_msg(strncmp(document, "openapi:", 8) == 0, "document starts with '%.20s'", document);
    ct_response_cleanup(&r);
}
END_TEST

/* ---- register and read ---- */

START_TEST(post_model_is_201_with_location_etag_and_every_field)
{
    struct ct_response r, again;

    ct_send(srv, "POST", "/v1/models",
            "{'id':'Org/Base-1.0','task':'text-generation','license':'apache-2.0',"
            "'url':'https://example.org/m','parameters':7000000000}",
            &r);
    ck_assert_int_eq(r.status, 201);
    ck_assert_str_eq(r.content_type, "application/json");
    ck_assert_str_eq(r.location, "/v1/models/Org/Base-1.0");
    ck_assert_msg(r.etag[0] == '"' && strlen(r.etag) > 2, "ETag '%s'", r.etag);
    ck_assert_str_eq(str_member(r.json, "id"), "Org/Base-1.0");
    ck_assert_str_eq(str_member(r.json, "namespace"), "Org");
    ck_assert_str_eq(str_member(r.json, "name"), "Base-1.0");
    ck_assert_str_eq(str_member(r.json, "task"), "text-generation");
    ck_assert_str_eq(str_member(r.json, "license"), "apache-2.0");
    ck_assert_str_eq(str_member(r.json, "url"), "https://example.org/m");
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "parameters")), 7000000000LL);
    ck_assert_int_eq(json_array_size(json_object_get(r.json, "parents")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "depth")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "children_count")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "version")), 1);
    ck_assert_msg(strlen(str_member(r.json, "created_at")) >= 20, "%s", r.body);
    ck_assert_msg(strlen(str_member(r.json, "updated_at")) >= 20, "%s", r.body);

    /* The Location answers with the same representation and ETag. */
    ck_assert_int_eq(ct_get(srv, r.location, &again), 200);
    ck_assert_str_eq(again.etag, r.etag);
    ck_assert_msg(json_equal(again.json, r.json), "GET %s differs: %s", r.location, again.body);
    ct_response_cleanup(&again);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(optional_fields_are_null_when_not_given)
{
    struct ct_response r;

    ct_send(srv, "POST", "/v1/models", "{'id':'org/bare'}", &r);
    ck_assert_int_eq(r.status, 201);
    ck_assert(json_is_null(json_object_get(r.json, "task")));
    ck_assert(json_is_null(json_object_get(r.json, "license")));
    ck_assert(json_is_null(json_object_get(r.json, "url")));
    ck_assert(json_is_null(json_object_get(r.json, "parameters")));
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(get_model_ignores_the_case_of_the_id)
{
    struct ct_response r;

    registered("{'id':'Meta-Llama/Llama-3-8B'}");
    ck_assert_int_eq(ct_get(srv, "/v1/models/meta-llama/LLAMA-3-8b", &r), 200);
    ck_assert_str_eq(str_member(r.json, "id"), "Meta-Llama/Llama-3-8B");
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(get_unknown_model_is_404)
{
    struct ct_response r;

    ct_get(srv, "/v1/models/org/nobody", &r);
    CT_ASSERT_PROBLEM(&r, 404, "not-found", NULL);
    ck_assert_msg(strstr(str_member(r.json, "detail"), "org/nobody") != NULL, "%s", r.body);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(if_none_match_with_the_current_etag_is_304)
{
    struct ct_response r, cached;
    char header[128];
    const char *headers[] = {header, NULL};

    registered("{'id':'org/cached'}");
    ck_assert_int_eq(ct_get(srv, "/v1/models/org/cached", &r), 200);
    snprintf(header, sizeof header, "If-None-Match: %s", r.etag);
    ct_request(srv, "GET", "/v1/models/org/cached", headers, NULL, 0, &cached);
    ck_assert_int_eq(cached.status, 304);
    ck_assert_uint_eq(cached.body_len, 0);
    ck_assert_str_eq(cached.etag, r.etag);
    ct_response_cleanup(&cached);

    snprintf(header, sizeof header, "If-None-Match: W/%s", r.etag);
    ck_assert_int_eq(ct_request(srv, "GET", "/v1/models/org/cached", headers, NULL, 0, &cached),
                     304);
    ct_response_cleanup(&cached);

    snprintf(header, sizeof header, "If-None-Match: \"v999\"");
    ck_assert_int_eq(ct_request(srv, "GET", "/v1/models/org/cached", headers, NULL, 0, &cached),
                     200);
    ct_response_cleanup(&cached);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(head_answers_like_get_without_a_body)
{
    struct ct_response get, head;

    registered("{'id':'org/headed'}");
    ck_assert_int_eq(ct_get(srv, "/v1/models/org/headed", &get), 200);
    ck_assert_int_eq(ct_request(srv, "HEAD", "/v1/models/org/headed", NULL, NULL, 0, &head), 200);
    ck_assert_uint_eq(head.body_len, 0);
    ck_assert_str_eq(head.etag, get.etag);
    ck_assert_str_eq(head.content_type, get.content_type);
    ct_response_cleanup(&head);
    ck_assert_int_eq(ct_request(srv, "HEAD", "/v1/models/org/none", NULL, NULL, 0, &head), 404);
    ct_response_cleanup(&head);
    ct_response_cleanup(&get);
}
END_TEST

START_TEST(pretty_indents_the_body_by_two_spaces)
{
    struct ct_response compact, pretty;

    registered("{'id':'org/pretty'}");
    ck_assert_int_eq(ct_get(srv, "/v1/models/org/pretty", &compact), 200);
    ck_assert_int_eq(ct_get(srv, "/v1/models/org/pretty?pretty=1", &pretty), 200);
    ck_assert_msg(strchr(compact.body, '\n') == compact.body + compact.body_len - 1,
                  "compact body is not one line: %s", compact.body);
    ck_assert_msg(strstr(pretty.body, "\n  \"id\": ") != NULL, "not indented: %s", pretty.body);
    ck_assert(json_equal(compact.json, pretty.json));
    ct_response_cleanup(&pretty);
    ct_get(srv, "/v1/models/org/none?pretty=1", &pretty);
    CT_ASSERT_PROBLEM(&pretty, 404, "not-found", NULL);
    ck_assert_msg(strstr(pretty.body, "\n  \"status\": 404") != NULL, "%s", pretty.body);
    ct_response_cleanup(&pretty);
    ct_response_cleanup(&compact);
}
END_TEST

/* ---- ids ---- */

#define PART_96                                                                                    \
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmn" \
    "opqr"

static const struct {
    const char *name;
    const char *body;
} invalid_ids[] = {
    {"a space", "{'id':'org/bad name'}"},
    {"an @", "{'id':'org/b@d'}"},
    {"a non-ASCII letter", "{'id':'org/caf\\u00e9'}"},
    {"a namespace starting with '.'", "{'id':'.org/name'}"},
    {"a name starting with '.'", "{'id':'org/.name'}"},
    {"a name starting with '-'", "{'id':'org/-name'}"},
    {"a 97-character name", "{'id':'org/" PART_96 "s'}"},
    {"a 97-character namespace", "{'id':'" PART_96 "s/name'}"},
    {"two slashes", "{'id':'org/name/extra'}"},
    {"a bare name ending with '-'", "{'id':'orgname-'}"},
    {"a bare name with '--'", "{'id':'org--name'}"},
    {"an empty name", "{'id':'org/'}"},
    {"an empty namespace", "{'id':'/name'}"},
    {"an empty id", "{'id':''}"},
    {"a number", "{'id':42}"},
    {"null", "{'id':null}"},
    {"no id at all", "{'task':'x'}"},
};

START_TEST(post_with_invalid_id_is_422_on_id)
{
    struct ct_response r;

    ct_send(srv, "POST", "/v1/models", invalid_ids[_i].body, &r);
    ck_assert_msg(r.status == 422, "id with %s answered %ld", invalid_ids[_i].name, r.status);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", "/id");
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(ids_of_96_characters_per_part_are_accepted)
{
    registered("{'id':'" PART_96 "/" PART_96 "'}");
    registered("{'id':'a/b'}");
    registered("{'id':'o_r-g.1/n.a_m-e2'}");
}
END_TEST

/* ---- registration errors ---- */

START_TEST(post_duplicate_id_is_409_whatever_the_case)
{
    static const struct ct_step steps[] = {
        {"first registration", "POST", "/v1/models", "{'id':'org/dup'}", NULL, 201, NULL, NULL},
        {"same id again is a conflict", "POST", "/v1/models", "{'id':'org/dup'}", NULL, 409,
         "conflict", "/id"},
        {"same id in other case is a conflict", "POST", "/v1/models", "{'id':'ORG/Dup'}", NULL, 409,
         "conflict", "/id"},
    };

    ct_run_steps(srv, steps, sizeof steps / sizeof steps[0]);
}
END_TEST

START_TEST(post_unknown_field_is_422_naming_it)
{
    struct ct_response r, check;

    ct_send(srv, "POST", "/v1/models", "{'id':'org/extra','x':1}", &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", "/x");
    ct_response_cleanup(&r);
    /* Nothing was stored. */
    ct_get(srv, "/v1/models/org/extra", &check);
    ck_assert_int_eq(check.status, 404);
    ct_response_cleanup(&check);
}
END_TEST

START_TEST(post_read_only_field_is_422_naming_it)
{
    static const struct ct_step steps[] = {
        {"created_at is read-only", "POST", "/v1/models",
         "{'id':'org/ro','created_at':'2020-01-01T00:00:00Z'}", NULL, 422, "invalid-input",
         "/created_at"},
        {"version is read-only", "POST", "/v1/models", "{'id':'org/ro','version':9}", NULL, 422,
         "invalid-input", "/version"},
        {"owner is read-only", "POST", "/v1/models", "{'id':'org/ro','owner':'someone'}", NULL, 422,
         "invalid-input", "/owner"},
        {"nothing was stored", "GET", "/v1/models/org/ro", NULL, NULL, 404, "not-found", NULL},
    };

    ct_run_steps(srv, steps, sizeof steps / sizeof steps[0]);
}
END_TEST

START_TEST(post_field_of_the_wrong_type_or_range_is_422)
{
    static const struct ct_step steps[] = {
        {"task must be a string", "POST", "/v1/models", "{'id':'org/t','task':5}", NULL, 422,
         "invalid-input", "/task"},
        {"parameters must be whole", "POST", "/v1/models", "{'id':'org/t','parameters':1.5}", NULL,
         422, "invalid-input", "/parameters"},
        {"parameters must not be negative", "POST", "/v1/models", "{'id':'org/t','parameters':-1}",
         NULL, 422, "invalid-input", "/parameters"},
        {"url must be http(s)", "POST", "/v1/models", "{'id':'org/t','url':'ftp://x'}", NULL, 422,
         "invalid-input", "/url"},
        {"control characters are refused", "POST", "/v1/models",
         "{'id':'org/t','license':'a\\u0001b'}", NULL, 422, "invalid-input", "/license"},
        {"the body must be an object", "POST", "/v1/models", "['org/t']", NULL, 422,
         "invalid-input", ""},
        {"parents must be an array", "POST", "/v1/models", "{'id':'org/t','parents':'org/x'}", NULL,
         422, "invalid-input", "/parents"},
        {"relation must be a known name", "POST", "/v1/models",
         "{'id':'org/t','parents':[{'id':'org/x','relation':'clone'}]}", NULL, 422, "invalid-input",
         "/parents/0/relation"},
        {"nothing was stored", "GET", "/v1/models/org/t", NULL, NULL, 404, "not-found", NULL},
    };

    ct_run_steps(srv, steps, sizeof steps / sizeof steps[0]);
}
END_TEST

/* ---- lineage ---- */

START_TEST(registration_enforces_the_lineage_rules)
{
    static const struct ct_step steps[] = {
        {"a base model", "POST", "/v1/models", "{'id':'org/base'}", NULL, 201, NULL, NULL},
        {"a second base model", "POST", "/v1/models", "{'id':'org/other'}", NULL, 201, NULL, NULL},
        {"a fine-tune of a known parent", "POST", "/v1/models",
         "{'id':'org/ft','parents':[{'id':'org/base','relation':'finetune'}]}", NULL, 201, NULL,
         NULL},
        {"an unknown parent is 422", "POST", "/v1/models",
         "{'id':'org/orphan','parents':[{'id':'org/ghost','relation':'finetune'}]}", NULL, 422,
         "invalid-input", "/parents/0/id"},
        {"a model cannot be its own parent", "POST", "/v1/models",
         "{'id':'org/selfie','parents':[{'id':'ORG/Selfie','relation':'finetune'}]}", NULL, 422,
         "invalid-input", "/parents/0"},
        {"a merge of two parents is accepted", "POST", "/v1/models",
         "{'id':'org/merged','parents':[{'id':'org/base','relation':'merge'},"
         "{'id':'org/other','relation':'merge'}]}",
         NULL, 201, NULL, NULL},
        {"a merge of one parent is 422", "POST", "/v1/models",
         "{'id':'org/half','parents':[{'id':'org/base','relation':'merge'}]}", NULL, 422,
         "invalid-input", "/parents/0"},
        {"two parents with mixed relations are 422", "POST", "/v1/models",
         "{'id':'org/mixed','parents':[{'id':'org/base','relation':'merge'},"
         "{'id':'org/other','relation':'finetune'}]}",
         NULL, 422, "invalid-input", NULL},
        {"the same parent twice is 422", "POST", "/v1/models",
         "{'id':'org/twice','parents':[{'id':'org/base','relation':'merge'},"
         "{'id':'org/BASE','relation':'merge'}]}",
         NULL, 422, "invalid-input", "/parents/1"},
        {"parents and base_model together are 422", "POST", "/v1/models",
         "{'id':'org/both','parents':[{'id':'org/base'}],'base_model':'org/base'}", NULL, 422,
         "invalid-input", "/base_model"},
        {"refused registrations stored nothing", "GET", "/v1/models/org/half", NULL, NULL, 404,
         "not-found", NULL},
    };

    ct_run_steps(srv, steps, sizeof steps / sizeof steps[0]);
}
END_TEST

START_TEST(registration_reports_parents_depth_and_children)
{
    struct ct_response r;
    char buf[256];

    registered("{'id':'org/base'}");
    registered("{'id':'org/ft','parents':[{'id':'org/base','relation':'finetune'}]}");
    registered("{'id':'org/q','parents':[{'id':'org/ft','relation':'quantized'}]}");
    ck_assert_int_eq(ct_get(srv, "/v1/models/org/q", &r), 200);
    ck_assert_int_eq(json_array_size(json_object_get(r.json, "parents")), 1);
    ck_assert_str_eq(parent_at(r.json, 0, buf, sizeof buf), "org/ft/quantized");
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "depth")), 2);
    ct_response_cleanup(&r);
    ck_assert_int_eq(ct_get(srv, "/v1/models/org/base", &r), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "children_count")), 1);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(hub_card_base_model_fields_become_parents)
{
    static const struct ct_step refused[] = {
        {"a one-element merge from a card is 422", "POST", "/v1/models",
         "{'id':'org/c4','base_model':['org/base'],'base_model_relation':'merge'}", NULL, 422,
         "invalid-input", "/base_model"},
        {"an unknown relation name is 422", "POST", "/v1/models",
         "{'id':'org/c5','base_model':'org/base','base_model_relation':'copy'}", NULL, 422,
         "invalid-input", "/base_model_relation"},
        {"base_model_relation alone is 422", "POST", "/v1/models",
         "{'id':'org/c6','base_model_relation':'adapter'}", NULL, 422, "invalid-input",
         "/base_model_relation"},
        {"a card parent that is not an id is 422", "POST", "/v1/models",
         "{'id':'org/c7','base_model':'ghost/'}", NULL, 422, "invalid-input", "/base_model"},
    };
    struct ct_response r;
    char buf[256];

    registered("{'id':'org/base'}");
    registered("{'id':'org/other'}");

    ct_send(srv, "POST", "/v1/models", "{'id':'org/c1','base_model':'org/base'}", &r);
    ck_assert_int_eq(r.status, 201);
    ck_assert_int_eq(json_array_size(json_object_get(r.json, "parents")), 1);
    ck_assert_str_eq(parent_at(r.json, 0, buf, sizeof buf), "org/base/finetune");
    ct_response_cleanup(&r);

    ct_send(srv, "POST", "/v1/models", "{'id':'org/c2','base_model':['org/base','org/other']}", &r);
    ck_assert_int_eq(r.status, 201);
    ck_assert_int_eq(json_array_size(json_object_get(r.json, "parents")), 2);
    ck_assert_str_eq(parent_at(r.json, 0, buf, sizeof buf), "org/base/merge");
    ck_assert_str_eq(parent_at(r.json, 1, buf, sizeof buf), "org/other/merge");
    ct_response_cleanup(&r);

    ct_send(srv, "POST", "/v1/models",
            "{'id':'org/c3','base_model':'org/base','base_model_relation':'quantized'}", &r);
    ck_assert_int_eq(r.status, 201);
    ck_assert_str_eq(parent_at(r.json, 0, buf, sizeof buf), "org/base/quantized");
    ct_response_cleanup(&r);

    ct_run_steps(srv, refused, sizeof refused / sizeof refused[0]);
}
END_TEST

START_TEST(lineage_deeper_than_64_generations_is_422)
{
    char body[256];
    struct ct_response r;

    registered("{'id':'chain/m0'}");
    for (int i = 1; i <= 64; i++) {
        snprintf(body, sizeof body, "{'id':'chain/m%d','parents':[{'id':'chain/m%d'}]}", i, i - 1);
        registered(body);
    }
    ct_send(srv, "POST", "/v1/models", "{'id':'chain/m65','parents':[{'id':'chain/m64'}]}", &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", NULL);
    ct_response_cleanup(&r);
    ck_assert_int_eq(ct_get(srv, "/v1/models/chain/m64", &r), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "depth")), 64);
    ct_response_cleanup(&r);
}
END_TEST

/* ---- update ---- */

/* PATCH with If-Match: header, returning the new ETag (copied into etag). */
static long patch_if_match(const char *path, const char *single_quoted, const char *if_match,
                           char *etag, size_t etag_len)
{
    char header[160];
    const char *headers[] = {"Content-Type: application/json", header, NULL};
    char *body = ct_json(single_quoted);
    struct ct_response r;
    long status;

    snprintf(header, sizeof header, "If-Match: %s", if_match);
    status = ct_request(srv, "PATCH", path, headers, body, strlen(body), &r);
    if (status == 200)
        snprintf(etag, etag_len, "%s", r.etag);
    else if (status >= 400)
        CT_ASSERT_PROBLEM(&r, status, "precondition-failed", NULL);
    free(body);
    ct_response_cleanup(&r);
    return status;
}

START_TEST(patch_with_if_match_updates_metadata_and_the_etag)
{
    static const char path[] = "/v1/models/org/p";
    char first[64], etag[64], previous[64], weak[80], list[160];
    const char *headers[] = {list, NULL};
    struct ct_response r;

    ct_send(srv, "POST", "/v1/models", "{'id':'org/p','task':'fill-mask'}", &r);
    ck_assert_int_eq(r.status, 201);
    ck_assert_str_eq(r.etag, "\"v1\""); /* versions start at 1 */
    snprintf(first, sizeof first, "%s", r.etag);
    ct_response_cleanup(&r);

    ck_assert_int_eq(patch_if_match(path, "{'license':'mit'}", first, etag, sizeof etag), 200);
    ck_assert_str_ne(etag, first);
    /* The old ETag is stale now: nothing changes. */
    ck_assert_int_eq(patch_if_match(path, "{'license':'gpl-3.0'}", first, previous, 0), 412);
    snprintf(list, sizeof list, "If-Match: %s", first);
    ct_request(srv, "DELETE", path, headers, NULL, 0, &r);
    CT_ASSERT_PROBLEM(&r, 412, "precondition-failed", NULL);
    ct_response_cleanup(&r);

    /* A weak validator compares as its strong form; * matches any; so does one of a list. */
    snprintf(weak, sizeof weak, "W/%s", etag);
    snprintf(previous, sizeof previous, "%s", etag);
    ck_assert_int_eq(patch_if_match(path, "{'url':'https://example.org'}", weak, etag, sizeof etag),
                     200);
    ck_assert_str_ne(etag, previous);
    ck_assert_int_eq(patch_if_match(path, "{'url':null}", "*", etag, sizeof etag), 200);
    snprintf(list, sizeof list, "%s, %s", first, etag);
    ck_assert_int_eq(patch_if_match(path, "{}", list, etag, sizeof etag), 200);

    ck_assert_int_eq(ct_get(srv, path, &r), 200);
    ck_assert_str_eq(str_member(r.json, "license"), "mit");    /* the 412s changed nothing */
    ck_assert_str_eq(str_member(r.json, "task"), "fill-mask"); /* absent members are kept */
    ck_assert(json_is_null(json_object_get(r.json, "url")));
    ck_assert_str_eq(r.etag, etag);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(patch_null_clears_and_answers_the_new_representation)
{
    struct ct_response r, got;

    registered("{'id':'org/p','task':'fill-mask','parameters':10}");
    ct_send(srv, "PATCH", "/v1/models/org/p", "{'task':null,'parameters':null}", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert(json_is_null(json_object_get(r.json, "task")));
    ck_assert(json_is_null(json_object_get(r.json, "parameters")));
    ck_assert_int_eq(ct_get(srv, "/v1/models/org/p", &got), 200);
    ck_assert_str_eq(got.etag, r.etag);
    ck_assert(json_equal(got.json, r.json));
    ct_response_cleanup(&got);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(patch_replaces_parents)
{
    struct ct_response r;
    char buf[256];

    registered("{'id':'org/a'}");
    registered("{'id':'org/b'}");
    registered("{'id':'org/child','parents':[{'id':'org/a','relation':'finetune'}]}");
    ct_send(srv, "PATCH", "/v1/models/org/child",
            "{'parents':[{'id':'org/b','relation':'adapter'}]}", &r);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_int_eq(json_array_size(json_object_get(r.json, "parents")), 1);
    ck_assert_str_eq(parent_at(r.json, 0, buf, sizeof buf), "org/b/adapter");
    ct_response_cleanup(&r);

    ct_send(srv, "PATCH", "/v1/models/org/child",
            "{'parents':[{'id':'org/a','relation':'merge'},{'id':'org/b','relation':'merge'}]}",
            &r);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_str_eq(parent_at(r.json, 0, buf, sizeof buf), "org/a/merge");
    ck_assert_str_eq(parent_at(r.json, 1, buf, sizeof buf), "org/b/merge");
    ct_response_cleanup(&r);

    /* An empty list makes it a base model again; its old parents lose a child. */
    ct_send(srv, "PATCH", "/v1/models/org/child", "{'parents':[]}", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(json_array_size(json_object_get(r.json, "parents")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "depth")), 0);
    ct_response_cleanup(&r);
    ck_assert_int_eq(ct_get(srv, "/v1/models/org/a", &r), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "children_count")), 0);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(patch_lineage_errors_change_nothing)
{
    static const struct ct_step steps[] = {
        {"a root", "POST", "/v1/models", "{'id':'org/root'}", NULL, 201, NULL, NULL},
        {"its child", "POST", "/v1/models", "{'id':'org/kid','parents':[{'id':'org/root'}]}", NULL,
         201, NULL, NULL},
        {"its grandchild", "POST", "/v1/models",
         "{'id':'org/grandkid','parents':[{'id':'org/kid'}]}", NULL, 201, NULL, NULL},
        {"a descendant as parent closes a cycle: 409", "PATCH", "/v1/models/org/root",
         "{'parents':[{'id':'org/grandkid'}]}", NULL, 409, "conflict", "/parents/0/id"},
        {"the direct child as parent closes a cycle: 409", "PATCH", "/v1/models/org/root",
         "{'parents':[{'id':'org/kid'}]}", NULL, 409, "conflict", NULL},
        {"self as parent is 422", "PATCH", "/v1/models/org/kid", "{'parents':[{'id':'org/kid'}]}",
         NULL, 422, "invalid-input", "/parents/0"},
        {"an unknown parent is 422", "PATCH", "/v1/models/org/kid",
         "{'parents':[{'id':'org/ghost'}]}", NULL, 422, "invalid-input", "/parents/0/id"},
        {"a merge of one parent is 422", "PATCH", "/v1/models/org/kid",
         "{'parents':[{'id':'org/root','relation':'merge'}]}", NULL, 422, "invalid-input", NULL},
        {"a read-only member is 422", "PATCH", "/v1/models/org/kid", "{'id':'org/other'}", NULL,
         422, "invalid-input", "/id"},
        {"an unknown member is 422", "PATCH", "/v1/models/org/kid", "{'colour':'red'}", NULL, 422,
         "invalid-input", "/colour"},
        {"patching an unknown model is 404", "PATCH", "/v1/models/org/ghost", "{'task':'x'}", NULL,
         404, "not-found", NULL},
    };
    struct ct_response r;
    char buf[256];

    ct_run_steps(srv, steps, sizeof steps / sizeof steps[0]);
    ck_assert_int_eq(ct_get(srv, "/v1/models/org/root", &r), 200);
    ck_assert_int_eq(json_array_size(json_object_get(r.json, "parents")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "version")), 1);
    ct_response_cleanup(&r);
    ck_assert_int_eq(ct_get(srv, "/v1/models/org/kid", &r), 200);
    ck_assert_str_eq(parent_at(r.json, 0, buf, sizeof buf), "org/root/finetune");
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "version")), 1);
    ct_response_cleanup(&r);
}
END_TEST

/* ---- delete ---- */

START_TEST(delete_is_204_and_refused_while_children_exist)
{
    static const struct ct_step steps[] = {
        {"a parent", "POST", "/v1/models", "{'id':'org/parent'}", NULL, 201, NULL, NULL},
        {"a child", "POST", "/v1/models", "{'id':'org/child','parents':[{'id':'org/parent'}]}",
         NULL, 201, NULL, NULL},
        {"deleting a parent with children is 409", "DELETE", "/v1/models/org/parent", NULL, NULL,
         409, "conflict", NULL},
        {"the parent is still there", "GET", "/v1/models/org/parent", NULL, NULL, 200, NULL, NULL},
        {"deleting the child is 204", "DELETE", "/v1/models/org/child", NULL, NULL, 204, NULL,
         NULL},
        {"the child is gone", "GET", "/v1/models/org/child", NULL, NULL, 404, "not-found", NULL},
        {"deleting it again is 404", "DELETE", "/v1/models/org/child", NULL, NULL, 404, "not-found",
         NULL},
        {"now the parent can go", "DELETE", "/v1/models/org/parent", NULL, "*", 204, NULL, NULL},
        {"deleting an unknown model is 404", "DELETE", "/v1/models/org/never", NULL, NULL, 404,
         "not-found", NULL},
        {"its id can be registered again", "POST", "/v1/models", "{'id':'org/parent'}", NULL, 201,
         NULL, NULL},
    };

    ct_run_steps(srv, steps, sizeof steps / sizeof steps[0]);
}
END_TEST

/* ---- list ---- */

/* The URL inside Link: <...>; rel="next", or "" when there is none. */
static const char *next_link(const struct ct_response *r, char *buf, size_t buf_len)
{
    const char *open = strchr(r->link, '<');
    const char *close = open ? strchr(open, '>') : NULL;

    buf[0] = '\0';
    if (open && close && strstr(close, "rel=\"next\""))
        snprintf(buf, buf_len, "%.*s", (int)(close - open - 1), open + 1);
    return buf;
}

/* Follows Link from first_page, counting each model id seen into seen[] (by the
 * number after prefix) and checking next_cursor against the link. Returns pages. */
static int walk_pages(const char *first_page, const char *prefix, int *seen, int n_seen)
{
    char url[1024];
    int pages = 0;

    snprintf(url, sizeof url, "%s", first_page);
    while (url[0] && pages < 100) {
        struct ct_response r;
        const json_t *items, *cursor;
        char next[1024], expect[64];

        ck_assert_msg(ct_get(srv, url, &r) == 200, "GET %s: %ld %s", url, r.status, r.body);
        pages++;
        items = json_object_get(r.json, "items");
        ck_assert(json_is_array(items));
        for (size_t i = 0; i < json_array_size(items); i++) {
            const char *id = str_member(json_array_get(items, i), "id");
            int k;
            ck_assert_msg(strncmp(id, prefix, strlen(prefix)) == 0, "unexpected %s in %s", id, url);
            k = atoi(id + strlen(prefix));
            ck_assert_int_lt(k, n_seen);
            seen[k]++;
        }
        cursor = json_object_get(r.json, "next_cursor");
        next_link(&r, next, sizeof next);
        if (json_is_null(cursor)) {
            ck_assert_msg(next[0] == '\0', "last page has Link '%s'", r.link);
        } else {
            ck_assert_msg(json_is_string(cursor), "next_cursor: %s", r.body);
            snprintf(expect, sizeof expect, "cursor=%s", json_string_value(cursor));
            ck_assert_msg(strstr(next, expect) != NULL, "Link '%s' lacks %s", r.link, expect);
        }
        snprintf(url, sizeof url, "%s", next);
        ct_response_cleanup(&r);
    }
    return pages;
}

START_TEST(list_pages_follow_link_and_visit_every_model_once)
{
    int seen[8] = {0};
    int pages;
    char body[128];

    for (int i = 0; i < 8; i++) {
        snprintf(body, sizeof body, "{'id':'page/m%d'}", i);
        registered(body);
    }
    pages = walk_pages("/v1/models?limit=3", "page/m", seen, 8);
    ck_assert_int_eq(pages, 3);
    for (int i = 0; i < 8; i++)
        ck_assert_msg(seen[i] == 1, "page/m%d seen %d times", i, seen[i]);
}
END_TEST

START_TEST(list_filters_by_parent_and_namespace)
{
    int seen[6] = {0};
    struct ct_response r;
    char body[160];

    registered("{'id':'fam/base'}");
    registered("{'id':'fam/other'}");
    for (int i = 0; i < 6; i++) {
        snprintf(body, sizeof body, "{'id':'kids/k%d','parents':[{'id':'fam/%s'}]}", i,
                 i % 2 == 0 ? "base" : "other");
        registered(body);
    }
    registered("{'id':'kids/grand','parents':[{'id':'kids/k0'}]}");

    /* Direct children of fam/base only (k0, k2, k4), two per page. */
    ck_assert_int_eq(walk_pages("/v1/models?parent=fam/base&limit=2", "kids/k", seen, 6), 2);
    for (int i = 0; i < 6; i++)
        ck_assert_msg(seen[i] == (i % 2 == 0), "kids/k%d seen %d times", i, seen[i]);

    ck_assert_int_eq(ct_get(srv, "/v1/models?namespace=fam", &r), 200);
    ck_assert_int_eq(json_array_size(json_object_get(r.json, "items")), 2);
    ck_assert(json_is_null(json_object_get(r.json, "next_cursor")));
    ck_assert_str_eq(r.link, "");
    ct_response_cleanup(&r);

    ck_assert_int_eq(ct_get(srv, "/v1/models?namespace=kids&parent=fam/other", &r), 200);
    ck_assert_int_eq(json_array_size(json_object_get(r.json, "items")), 3);
    ct_response_cleanup(&r);

    ck_assert_int_eq(ct_get(srv, "/v1/models?namespace=nobody", &r), 200);
    ck_assert_int_eq(json_array_size(json_object_get(r.json, "items")), 0);
    ct_response_cleanup(&r);
}
END_TEST

/* The string member key of the JSON answer to GET path (200 required). */
static void assert_member(const char *path, const char *key, const char *expected)
{
    struct ct_response r;
    const json_t *value;

    ck_assert_msg(ct_get(srv, path, &r) == 200, "GET %s answered %ld: %s", path, r.status, r.body);
    value = json_object_get(r.json, key);
    if (expected == NULL)
        ck_assert_msg(json_is_null(value), "GET %s: %s is not null: %s", path, key, r.body);
    else
        ck_assert_msg(json_is_string(value) && strcmp(json_string_value(value), expected) == 0,
                      "GET %s: %s is not '%s': %s", path, key, expected, r.body);
    ct_response_cleanup(&r);
}

START_TEST(bare_ids_are_models_on_every_route)
{
    static const struct ct_step steps[] = {
        {"a bare id registers", "POST", "/v1/models", "{'id':'gpt2','task':'text-generation'}",
         NULL, 201, NULL, NULL},
        {"a bare id is the same whatever its case", "POST", "/v1/models", "{'id':'GPT2'}", NULL,
         409, "conflict", NULL},
        {"a card names a bare base_model", "POST", "/v1/models",
         "{'id':'acme/gpt2-support','base_model':'gpt2'}", NULL, 201, NULL, NULL},
        {"a bare id is a parent", "POST", "/v1/models",
         "{'id':'distilgpt2','parents':[{'id':'gpt2','relation':'distillation'}]}", NULL, 201, NULL,
         NULL},
        {"a card's unknown bare parent becomes a placeholder", "POST", "/v1/models",
         "{'id':'acme/bert-tuned','base_model':'bert-base-uncased'}", NULL, 201, NULL, NULL},
        {"PUT registers a bare id", "PUT", "/v1/models/bert-base-uncased",
         "{'license':'apache-2.0'}", NULL, 201, NULL, NULL},
        {"an activity of a bare model", "POST", "/v1/models/gpt2/activities",
         "{'kind':'training','co2e_kg':100}", NULL, 201, NULL, NULL},
        {"a bare model's footprint", "GET", "/v1/models/gpt2/footprint", NULL, NULL, 200, NULL,
         NULL},
        {"its child's footprint", "GET", "/v1/models/acme/gpt2-support/footprint", NULL, NULL, 200,
         NULL, NULL},
        {"a bare model's family", "GET", "/v1/models/gpt2/family", NULL, NULL, 200, NULL, NULL},
        {"its child's family", "GET", "/v1/models/acme/gpt2-support/family", NULL, NULL, 200, NULL,
         NULL},
        {"a bare model's inferences", "GET", "/v1/models/gpt2/inferences", NULL, NULL, 200, NULL,
         NULL},
        {"its child's ancestors", "GET", "/v1/models/acme/gpt2-support/ancestors", NULL, NULL, 200,
         NULL, NULL},
        {"a bare model's ancestors", "GET", "/v1/models/distilgpt2/ancestors", NULL, NULL, 200,
         NULL, NULL},
        {"a bare model's activities", "GET", "/v1/models/gpt2/activities", NULL, NULL, 200, NULL,
         NULL},
        {"a bare model's series", "GET", "/v1/models/gpt2/series", NULL, NULL, 200, NULL, NULL},
        {"a bare model's badge", "GET", "/v1/models/gpt2/badge.svg", NULL, NULL, 200, NULL, NULL},
        {"a bare model's CSV family", "GET", "/v1/models/gpt2/family?format=csv", NULL, NULL, 200,
         NULL, NULL},
        {"an unknown bare model is 404", "GET", "/v1/models/gpt3", NULL, NULL, 404, "not-found",
         NULL},
        {"a malformed bare id is 404", "GET", "/v1/models/gpt2-", NULL, NULL, 404, "not-found",
         NULL},
        {"a bare model with children stays", "DELETE", "/v1/models/gpt2", NULL, NULL, 409,
         "conflict", NULL},
        {"a bare leaf goes", "DELETE", "/v1/models/distilgpt2", NULL, NULL, 204, NULL, NULL},
    };
    static const char *const keyed[] = {"Content-Type: application/json", "Idempotency-Key: bare-1",
                                        NULL};
    static const char count[] = "{\"count\":10}";
    struct ct_response r;

    ct_run_steps(srv, steps, sizeof steps / sizeof steps[0]);
    ck_assert_int_eq(
        ct_request(srv, "POST", "/v1/models/gpt2/inferences", keyed, count, sizeof count - 1, &r),
        200);
    ct_response_cleanup(&r);
    assert_member("/v1/models/gpt2/inferences", "model", "gpt2");
    assert_member("/v1/models/acme/gpt2-support/inferences", "model", "acme/gpt2-support");
    assert_member("/v1/models/gpt2", "id", "gpt2");
    assert_member("/v1/models/gpt2", "namespace", NULL);
    assert_member("/v1/models/gpt2/footprint", "model", "gpt2");
    assert_member("/v1/models/acme/gpt2-support/footprint", "model", "acme/gpt2-support");
    assert_member("/v1/models/bert-base-uncased", "license", "apache-2.0");
    ck_assert_int_eq(ct_get(srv, "/v1/models/acme/gpt2-support", &r), 200);
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(r.json, "parents"), 0), "id")),
                     "gpt2");
    ct_response_cleanup(&r);
    ck_assert_int_eq(ct_send(srv, "POST", "/v1/models", "{'id':'t5-small'}", &r), 201);
    ck_assert_str_eq(r.location, "/v1/models/t5-small");
    ct_response_cleanup(&r);
}
END_TEST

/* /v1/models/{a}/footprint is the model a/footprint and the footprint of the bare
 * model a: registration keeps the two from both existing, and the path answers for
 * whichever is registered. */
START_TEST(a_path_names_a_bare_model_or_a_namespaced_one_never_both)
{
    static const struct ct_step steps[] = {
        {"a namespaced model named like a sub-resource", "POST", "/v1/models",
         "{'id':'acme/footprint'}", NULL, 201, NULL, NULL},
        {"its path answers for it", "GET", "/v1/models/acme/footprint", NULL, NULL, 200, NULL,
         NULL},
        {"the bare model of its namespace is refused", "POST", "/v1/models", "{'id':'acme'}", NULL,
         409, "conflict", NULL},
        {"by PUT too", "PUT", "/v1/models/acme", "{}", NULL, 409, "conflict", NULL},
        {"a bare model", "POST", "/v1/models", "{'id':'gpt2'}", NULL, 201, NULL, NULL},
        {"a model under its name called like a sub-resource is refused", "POST", "/v1/models",
         "{'id':'gpt2/family'}", NULL, 409, "conflict", NULL},
        {"by PUT on the path too", "PUT", "/v1/models/gpt2/footprint", "{}", NULL, 409, "conflict",
         NULL},
        {"and as a card's placeholder parent", "POST", "/v1/models",
         "{'id':'acme/x','base_model':'gpt2/series'}", NULL, 409, "conflict", NULL},
        {"other names under it are models", "POST", "/v1/models", "{'id':'gpt2/chat'}", NULL, 201,
         NULL, NULL},
        {"a sub-resource name under an unregistered namespace is a model's", "GET",
         "/v1/models/nobody/footprint", NULL, NULL, 404, "not-found", NULL},
        {"the namespaced model's own sub-resources", "GET", "/v1/models/acme/footprint/footprint",
         NULL, NULL, 200, NULL, NULL},
    };

    ct_run_steps(srv, steps, sizeof steps / sizeof steps[0]);
    assert_member("/v1/models/acme/footprint", "id", "acme/footprint");
    assert_member("/v1/models/gpt2/footprint", "model", "gpt2");
    assert_member("/v1/models/gpt2/chat", "id", "gpt2/chat");
}
END_TEST

START_TEST(list_with_bad_query_is_refused)
{
    static const struct ct_step steps[] = {
        {"limit 0 is 400", "GET", "/v1/models?limit=0", NULL, NULL, 400, "bad-request", NULL},
        {"limit above 500 is 400", "GET", "/v1/models?limit=501", NULL, NULL, 400, "bad-request",
         NULL},
        {"a non-numeric cursor is 400", "GET", "/v1/models?cursor=abc", NULL, NULL, 400,
         "bad-request", NULL},
        {"an unknown parameter is 400", "GET", "/v1/models?sort=name", NULL, NULL, 400,
         "bad-request", "sort"},
        {"a malformed parent id is 400", "GET", "/v1/models?parent=no/pe/x", NULL, NULL, 400,
         "bad-request", "parent"},
        {"an unknown parent is 404", "GET", "/v1/models?parent=org/ghost", NULL, NULL, 404,
         "not-found", NULL},
        {"limit 500 is fine", "GET", "/v1/models?limit=500", NULL, NULL, 200, NULL, NULL},
    };

    ct_run_steps(srv, steps, sizeof steps / sizeof steps[0]);
}
END_TEST

static Suite *models_suite(void)
{
    Suite *s = suite_create("http_models");
    TCase *service = tcase_create("service");
    TCase *models = tcase_create("models");
    TCase *lineage = tcase_create("lineage");
    TCase *list = tcase_create("list");
    TCase *all[] = {service, models, lineage, list};

    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        tcase_add_checked_fixture(all[i], start_server, stop_servers);
        tcase_set_timeout(all[i], TEST_TIMEOUT_S);
        suite_add_tcase(s, all[i]);
    }
    tcase_add_test(service, healthz_answers_200_status_ok);
    tcase_add_test(service, readyz_answers_200_with_the_schema_version);
    tcase_add_test(service, openapi_yaml_is_served_as_yaml);

    tcase_add_test(models, post_model_is_201_with_location_etag_and_every_field);
    tcase_add_test(models, optional_fields_are_null_when_not_given);
    tcase_add_test(models, get_model_ignores_the_case_of_the_id);
    tcase_add_test(models, get_unknown_model_is_404);
    tcase_add_test(models, if_none_match_with_the_current_etag_is_304);
    tcase_add_test(models, head_answers_like_get_without_a_body);
    tcase_add_test(models, pretty_indents_the_body_by_two_spaces);
    tcase_add_loop_test(models, post_with_invalid_id_is_422_on_id, 0,
                        (int)(sizeof invalid_ids / sizeof invalid_ids[0]));
    tcase_add_test(models, ids_of_96_characters_per_part_are_accepted);
    tcase_add_test(models, bare_ids_are_models_on_every_route);
    tcase_add_test(models, a_path_names_a_bare_model_or_a_namespaced_one_never_both);
    tcase_add_test(models, post_duplicate_id_is_409_whatever_the_case);
    tcase_add_test(models, post_unknown_field_is_422_naming_it);
    tcase_add_test(models, post_read_only_field_is_422_naming_it);
    tcase_add_test(models, post_field_of_the_wrong_type_or_range_is_422);
    tcase_add_test(models, patch_with_if_match_updates_metadata_and_the_etag);
    tcase_add_test(models, patch_null_clears_and_answers_the_new_representation);
    tcase_add_test(models, delete_is_204_and_refused_while_children_exist);

    tcase_add_test(lineage, registration_enforces_the_lineage_rules);
    tcase_add_test(lineage, registration_reports_parents_depth_and_children);
    tcase_add_test(lineage, hub_card_base_model_fields_become_parents);
    tcase_add_test(lineage, lineage_deeper_than_64_generations_is_422);
    tcase_add_test(lineage, patch_replaces_parents);
    tcase_add_test(lineage, patch_lineage_errors_change_nothing);

    tcase_add_test(list, list_pages_follow_link_and_visit_every_model_once);
    tcase_add_test(list, list_filters_by_parent_and_namespace);
    tcase_add_test(list, list_with_bad_query_is_refused);
    return s;
}

int main(void)
{
    return ct_main(models_suite());
}
