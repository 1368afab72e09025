/* SPDX-License-Identifier: Apache-2.0 */
/* Card readings: the relation the Hub infers from a card without
 * base_model_relation, with the sign that decided, and training_type's
 * spellings. */
#include "card.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static enum core_relation infer(const char *name, const char *library, bool quantized_by,
                                const char *tag, size_t n_parents, char *from)
{
    const char *tags[1] = {tag};
    struct core_card_hints hints = {.name = name,
                                    .library_name = library,
                                    .has_quantized_by = quantized_by,
                                    .tags = tags,
                                    .n_tags = tag ? 1 : 0,
                                    .n_parents = n_parents};

    return core_card_infer_relation(&hints, from, CORE_CARD_FROM_MAX);
}

START_TEST(relations_are_inferred_as_the_hub_does)
{
    char from[CORE_CARD_FROM_MAX];

    ck_assert_int_eq(infer("Llama-2-7B-GGUF", NULL, false, NULL, 1, from), CORE_RELATION_QUANTIZED);
    ck_assert_str_eq(from, "repository name (gguf)");
    ck_assert_int_eq(infer("Mistral-7B-Instruct-v0.2-AWQ", NULL, false, NULL, 1, from),
                     CORE_RELATION_QUANTIZED);
    ck_assert_int_eq(infer("phi-2-gptq", NULL, false, NULL, 1, from), CORE_RELATION_QUANTIZED);
    ck_assert_int_eq(infer("model", NULL, true, NULL, 1, from), CORE_RELATION_QUANTIZED);
    ck_assert_str_eq(from, "quantized_by");
    ck_assert_int_eq(infer("model", NULL, false, "base_model:quantized:org/base", 1, from),
                     CORE_RELATION_QUANTIZED);
    ck_assert_int_eq(infer("model", NULL, false, "gguf", 1, from), CORE_RELATION_QUANTIZED);
    ck_assert_int_eq(infer("model", "peft", false, NULL, 1, from), CORE_RELATION_ADAPTER);
    ck_assert_str_eq(from, "library_name peft");
    ck_assert_int_eq(infer("model", NULL, false, "base_model:adapter:org/base", 1, from),
                     CORE_RELATION_ADAPTER);
    ck_assert_int_eq(infer("a-merge", NULL, false, NULL, 3, from), CORE_RELATION_MERGE);
    ck_assert_str_eq(from, "several parents");
    ck_assert_int_eq(
        infer("bert-finetuned-squad", "transformers", false, "generated_from_trainer", 1, from),
        CORE_RELATION_FINETUNE);
    /* A format inside another word is not a sign: "awqward" is no AWQ. */
    ck_assert_int_eq(infer("awqward-model", NULL, false, NULL, 1, from), CORE_RELATION_FINETUNE);
}
END_TEST

START_TEST(training_types_read_in_every_spelling)
{
    static const char *const pre[] = {"pre-training",
                                      "Pre-Training",
                                      "pretraining",
                                      "pre_training",
                                      "training",
                                      "continued pre-training",
                                      "second-stage pre-training",
                                      NULL};
    static const char *const fine[] = {"fine-tuning",        "finetuning", "Fine Tuning",
                                       "fine_tuning",        "finetune",   "SFT",
                                       "instruction tuning", NULL};

    for (const char *const *t = pre; *t; t++)
        ck_assert_msg(core_card_training(*t) == CORE_TRAINING_PRETRAINING, "%s", *t);
    for (const char *const *t = fine; *t; t++)
        ck_assert_msg(core_card_training(*t) == CORE_TRAINING_FINETUNING, "%s", *t);
    ck_assert_int_eq(core_card_training("distillation"), CORE_TRAINING_OTHER);
    ck_assert_int_eq(core_card_training(NULL), CORE_TRAINING_OTHER);
}
END_TEST

START_TEST(grams_that_look_like_kg_beside_a_sibling)
{
    ck_assert(core_card_looks_like_kg(5, 5000));
    ck_assert(core_card_looks_like_kg(5, 2500));   /* 500 x */
    ck_assert(core_card_looks_like_kg(5, 10000));  /* 2,000 x */
    ck_assert(!core_card_looks_like_kg(5, 2490));  /* below 500 x */
    ck_assert(!core_card_looks_like_kg(5, 10050)); /* above 2,000 x */
    ck_assert(!core_card_looks_like_kg(5000, 5));  /* the higher one is not flagged */
    ck_assert(!core_card_looks_like_kg(5, 5));
    ck_assert(!core_card_looks_like_kg(0, 1000));
}
END_TEST

START_TEST(prose_that_states_the_figure_in_kg)
{
    char quote[64];

    ck_assert(core_card_prose_states_kg("Training emitted 149.2 kg of CO2eq.", 149.2, quote,
                                        sizeof quote));
    ck_assert_str_eq(quote, "149.2 kg");
    ck_assert(core_card_prose_states_kg("about 1,234 kilograms CO2", 1234, quote, sizeof quote));
    ck_assert(core_card_prose_states_kg("5kgCO2e in total", 5, quote, sizeof quote));
    ck_assert_str_eq(quote, "5kg");
    ck_assert(core_card_prose_states_kg("roughly 149 kg", 149.2, quote, sizeof quote)); /* 0.13% */
    ck_assert(!core_card_prose_states_kg("149.2 g of CO2", 149.2, quote, sizeof quote));
    ck_assert(!core_card_prose_states_kg("0.1492 kg of CO2", 149.2, quote, sizeof quote));
    ck_assert(!core_card_prose_states_kg("149.2 kWh, 140 kilowatts", 149.2, quote, sizeof quote));
    ck_assert(!core_card_prose_states_kg("v2149.2 kg", 149.2, quote, sizeof quote));
    ck_assert(!core_card_prose_states_kg("5 kgf", 5, quote, sizeof quote));
    ck_assert(!core_card_prose_states_kg(NULL, 5, quote, sizeof quote));
    ck_assert(!core_card_prose_states_kg("0 kg", 0, quote, sizeof quote));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core_card");
    TCase *tc = tcase_create("card");
    SRunner *runner;
    int failed;

    tcase_add_test(tc, relations_are_inferred_as_the_hub_does);
    tcase_add_test(tc, training_types_read_in_every_spelling);
    tcase_add_test(tc, grams_that_look_like_kg_beside_a_sibling);
    tcase_add_test(tc, prose_that_states_the_figure_in_kg);
    suite_add_tcase(s, tc);
    runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
