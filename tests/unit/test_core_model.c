/* SPDX-License-Identifier: Apache-2.0 */
/* Model ids, relations and the storage-free lineage rules. */
#include "model.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct id_case {
    const char *text;
    bool is_valid;
};

static const struct id_case id_cases[] = {
    {"google/bert-base-uncased", true},
    {"a/b", true},
    {"Org_1/model.v2-final", true},
    {"ns/_private", true},
    {"", false},
    {"no-slash", true},
    {"gpt2", true},
    {"bert-base-uncased", true},
    {"distilbert-base-cased", true},
    {"t5.v1_1", true},
    {"gpt2-", false},
    {"gpt2.", false},
    {"-gpt2", false},
    {".gpt2", false},
    {"gpt--2", false},
    {"gpt..2", false},
    {"gp t2", false},
    {"/name", false},
    {"ns/", false},
    {"a/b/c", false},
    {".hidden/name", false},
    {"ns/.hidden", false},
    {"-ns/name", false},
    {"ns/-name", false},
    {"ns/..", false},
    {"ns/na me", false},
    {"ns/na%2Fme", false},
    {"ns/na;me", false},
    {"ns/'; DROP TABLE models; --", false},
    {"ns/caf\xc3\xa9", false},
    {"ns/a\nb", false},
};

START_TEST(model_id_parse_accepts_hub_ids_and_refuses_others)
{
    const struct id_case *c = &id_cases[_i];
    struct core_model_id id;
    memset(&id, 0x5a, sizeof id);
    enum err rc = core_model_id_parse(c->text, &id);

    ck_assert_msg((rc == ERR_OK) == c->is_valid, "'%s': expected %s", c->text,
                  c->is_valid ? "valid" : "invalid");
    if (c->is_valid) {
        char buf[CORE_MODEL_ID_MAX + 1];
        ck_assert_str_eq(core_model_id_format(&id, buf, sizeof buf), c->text);
    }
}
END_TEST

START_TEST(model_id_parts_are_limited_to_96_characters)
{
    char part[200], text[400];
    struct core_model_id id;

    memset(part, 'a', 96);
    part[96] = '\0';
    snprintf(text, sizeof text, "%s/%s", part, part);
    ck_assert_int_eq(core_model_id_parse(text, &id), ERR_OK);
    part[96] = 'a';
    part[97] = '\0';
    snprintf(text, sizeof text, "ns/%s", part);
    ck_assert_int_eq(core_model_id_parse(text, &id), ERR_INVALID_INPUT);
    snprintf(text, sizeof text, "%s/name", part);
    ck_assert_int_eq(core_model_id_parse(text, &id), ERR_INVALID_INPUT);
    ck_assert_int_eq(core_model_id_parse(part, &id), ERR_INVALID_INPUT);
    part[96] = '\0';
    ck_assert_int_eq(core_model_id_parse(part, &id), ERR_OK);
    ck_assert_str_eq(id.ns, "");
}
END_TEST

START_TEST(bare_ids_are_built_from_an_empty_namespace)
{
    struct core_model_id id, parsed;
    char buf[CORE_MODEL_ID_MAX + 1];

    ck_assert_int_eq(core_model_id_from_parts("", "gpt2", &id), ERR_OK);
    ck_assert_str_eq(core_model_id_format(&id, buf, sizeof buf), "gpt2");
    ck_assert_int_eq(core_model_id_from_parts(NULL, "GPT2", &parsed), ERR_OK);
    ck_assert(core_model_id_equal(&id, &parsed));
    ck_assert_int_eq(core_model_id_parse("openai/gpt2", &parsed), ERR_OK);
    ck_assert(!core_model_id_equal(&id, &parsed));
    ck_assert_int_eq(core_model_id_from_parts("", "gpt2-", &id), ERR_INVALID_INPUT);
    ck_assert_int_eq(core_model_id_from_parts("", "", &id), ERR_INVALID_INPUT);
    /* a namespaced name keeps the rules it was registered under */
    ck_assert_int_eq(core_model_id_from_parts("ns", "name-", &id), ERR_OK);
}
END_TEST

START_TEST(model_ids_compare_case_insensitively)
{
    struct core_model_id a, b, c;

    ck_assert_int_eq(core_model_id_parse("Google/BERT", &a), ERR_OK);
    ck_assert_int_eq(core_model_id_parse("google/bert", &b), ERR_OK);
    ck_assert_int_eq(core_model_id_parse("google/bert2", &c), ERR_OK);
    ck_assert(core_model_id_equal(&a, &b));
    ck_assert(!core_model_id_equal(&a, &c));
}
END_TEST

START_TEST(relations_round_trip_and_unknown_names_are_refused)
{
    static const char *const names[] = {"finetune", "adapter", "quantized", "merge",
                                        "distillation"};
    enum core_relation r;

    for (size_t i = 0; i < 5; i++) {
        ck_assert_int_eq(core_relation_parse(names[i], &r), ERR_OK);
        ck_assert_str_eq(core_relation_name(r), names[i]);
    }
    ck_assert_int_eq(core_relation_parse("fine-tune", &r), ERR_INVALID_INPUT);
    ck_assert_int_eq(core_relation_parse("Merge", &r), ERR_INVALID_INPUT);
    ck_assert_int_eq(core_relation_parse(NULL, &r), ERR_INVALID_INPUT);
}
END_TEST

static struct core_parent_ref parent(const char *id, enum core_relation relation)
{
    struct core_parent_ref p;

    ck_assert_int_eq(core_model_id_parse(id, &p.id), ERR_OK);
    p.relation = relation;
    return p;
}

struct lineage_case {
    const char *name;
    size_t n_parents;
    const char *parents[3];
    enum core_relation relations[3];
    enum core_lineage_violation expected;
    size_t bad_index;
};

static const struct lineage_case lineage_cases[] = {
    {"base model", 0, {NULL}, {0}, CORE_LINEAGE_OK, 0},
    {"one finetune", 1, {"a/base"}, {CORE_RELATION_FINETUNE}, CORE_LINEAGE_OK, 0},
    {"merge of two",
     2,
     {"a/x", "b/y"},
     {CORE_RELATION_MERGE, CORE_RELATION_MERGE},
     CORE_LINEAGE_OK,
     0},
    {"self parent", 1, {"me/model"}, {CORE_RELATION_FINETUNE}, CORE_LINEAGE_SELF_PARENT, 0},
    {"self parent differing in case",
     2,
     {"a/x", "ME/Model"},
     {CORE_RELATION_MERGE, CORE_RELATION_MERGE},
     CORE_LINEAGE_SELF_PARENT,
     1},
    {"merge of one", 1, {"a/x"}, {CORE_RELATION_MERGE}, CORE_LINEAGE_MERGE_NEEDS_TWO, 0},
    {"two parents not merge",
     2,
     {"a/x", "b/y"},
     {CORE_RELATION_MERGE, CORE_RELATION_ADAPTER},
     CORE_LINEAGE_MIXED_MERGE,
     1},
    {"duplicate parent",
     3,
     {"a/x", "b/y", "A/X"},
     {CORE_RELATION_MERGE, CORE_RELATION_MERGE, CORE_RELATION_MERGE},
     CORE_LINEAGE_DUPLICATE_PARENT,
     2},
};

START_TEST(lineage_rules_refuse_self_duplicate_and_malformed_merges)
{
    const struct lineage_case *c = &lineage_cases[_i];
    struct core_model_id self;
    struct core_parent_ref parents[3];
    size_t bad = 99;

    ck_assert_int_eq(core_model_id_parse("me/model", &self), ERR_OK);
    for (size_t i = 0; i < c->n_parents; i++)
        parents[i] = parent(c->parents[i], c->relations[i]);
    ck_assert_msg(core_lineage_check(&self, parents, c->n_parents, &bad) == c->expected, "%s",
                  c->name);
    if (c->expected != CORE_LINEAGE_OK)
        ck_assert_uint_eq(bad, c->bad_index);
    ck_assert_str_ne(core_lineage_violation_text(c->expected), "");
}
END_TEST

START_TEST(lineage_refuses_more_than_sixteen_parents)
{
    struct core_model_id self;
    struct core_parent_ref parents[CORE_MODEL_MAX_PARENTS + 1];
    char id[32];
    size_t bad = 0;

    ck_assert_int_eq(core_model_id_parse("me/model", &self), ERR_OK);
    for (size_t i = 0; i <= CORE_MODEL_MAX_PARENTS; i++) {
        snprintf(id, sizeof id, "ns/p%zu", i);
        parents[i] = parent(id, CORE_RELATION_MERGE);
    }
    ck_assert_int_eq(core_lineage_check(&self, parents, CORE_MODEL_MAX_PARENTS, &bad),
                     CORE_LINEAGE_OK);
    ck_assert_int_eq(core_lineage_check(&self, parents, CORE_MODEL_MAX_PARENTS + 1, &bad),
                     CORE_LINEAGE_TOO_MANY_PARENTS);
}
END_TEST

START_TEST(error_table_maps_codes_to_statuses_and_slugs)
{
    ck_assert_int_eq(err_http_status(ERR_OK), 200);
    ck_assert_int_eq(err_http_status(ERR_INVALID_INPUT), 422);
    ck_assert_int_eq(err_http_status(ERR_MALFORMED_JSON), 400);
    ck_assert_int_eq(err_http_status(ERR_BUSY), 503);
    ck_assert_int_eq(err_http_status(ERR_FULL), 507);
    ck_assert_int_eq(err_http_status(ERR_DB), 500);
    ck_assert_str_eq(err_slug(ERR_CONFLICT), "conflict");
    ck_assert_str_eq(err_name(ERR_NOT_FOUND), "ERR_NOT_FOUND");
    ck_assert_int_eq(err_http_status((enum err)9999), 500);
}
END_TEST

/* What the table promises every answer: 5xx never carry the handler's detail, the
 * rows that share a slug agree on all the client sees, and only 429 and 503
 * answers ask for a retry. */
START_TEST(error_table_rows_keep_internals_out_and_agree_per_slug)
{
    for (int i = ERR_OK + 1; i < ERR_COUNT; i++) {
        enum err rc = (enum err)i;
        int status = err_http_status(rc);
        ck_assert_msg(status < 500 || err_default_detail(rc) != NULL, "%s", err_name(rc));
        ck_assert_msg(err_retry_after_s(rc) == 0 || status == 429 || status == 503, "%s",
                      err_name(rc));
        ck_assert_msg(err_log_level(rc) != ERR_LOG_NONE || rc == ERR_SHUTTING_DOWN, "%s",
                      err_name(rc));
        for (int j = ERR_OK + 1; j < i; j++) {
            enum err other = (enum err)j;
            if (strcmp(err_slug(rc), err_slug(other)) != 0)
                continue;
            ck_assert_int_eq(err_http_status(other), status);
            ck_assert_str_eq(err_title(other), err_title(rc));
            ck_assert_int_eq(err_retry_after_s(other), err_retry_after_s(rc));
            ck_assert_int_eq(err_default_detail(other) != NULL, err_default_detail(rc) != NULL);
        }
    }
    ck_assert_int_eq(err_retry_after_s(ERR_BUSY), 1);
    ck_assert_int_eq(err_retry_after_s(ERR_NOT_FOUND), 0);
    ck_assert_ptr_null(err_default_detail(ERR_INVALID_INPUT));
    ck_assert_int_eq(err_log_level(ERR_DB), ERR_LOG_ERROR);
    ck_assert_int_eq(err_log_level(ERR_CONFLICT), ERR_LOG_DEBUG);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("core_model");
    TCase *tc = tcase_create("model");

    tcase_add_loop_test(tc, model_id_parse_accepts_hub_ids_and_refuses_others, 0,
                        (int)(sizeof id_cases / sizeof id_cases[0]));
    tcase_add_test(tc, model_id_parts_are_limited_to_96_characters);
    tcase_add_test(tc, bare_ids_are_built_from_an_empty_namespace);
    tcase_add_test(tc, model_ids_compare_case_insensitively);
    tcase_add_test(tc, relations_round_trip_and_unknown_names_are_refused);
    tcase_add_loop_test(tc, lineage_rules_refuse_self_duplicate_and_malformed_merges, 0,
                        (int)(sizeof lineage_cases / sizeof lineage_cases[0]));
    tcase_add_test(tc, lineage_refuses_more_than_sixteen_parents);
    tcase_add_test(tc, error_table_maps_codes_to_statuses_and_slugs);
    tcase_add_test(tc, error_table_rows_keep_internals_out_and_agree_per_slug);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
