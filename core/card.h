/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a Hub model card's metadata: the relation to the parents when the card
 * does not name it, and the training type's many spellings. Pure: no I/O. */
#ifndef CORE_CARD_H
#define CORE_CARD_H

#include "model.h"

#include <stdbool.h>
#include <stddef.h>

#define CORE_CARD_FROM_MAX 160

/* What a card says that bears on its relation to its parents. Strings may be NULL. */
struct core_card_hints {
    const char *name;         /* the repository name, without the namespace */
    const char *library_name; /* the card's library_name */
    bool has_quantized_by;    /* the card names who quantized it */
    const char *const *tags;  /* the card's tags */
    size_t n_tags;
    size_t n_parents;
};

/* The relation the Hub infers for a card without base_model_relation: merge for
 * several parents; quantized for a GGUF, AWQ, GPTQ or EXL2 repository, a card
 * with quantized_by or a base_model:quantized: tag; adapter for library_name peft
 * or a base_model:adapter: tag; finetune otherwise. from (at least
 * CORE_CARD_FROM_MAX bytes) says which of these decided. */
enum core_relation core_card_infer_relation(const struct core_card_hints *hints, char *from,
                                            size_t from_len);

enum core_training { CORE_TRAINING_PRETRAINING, CORE_TRAINING_FINETUNING, CORE_TRAINING_OTHER };

/* The kind of training a card's training_type names, whatever the spelling:
 * "pre-training", "Pretraining", "pre_training", "training" and the continued or
 * second-stage pre-trainings are pre-training; "fine-tuning", "finetune",
 * "fine tuning", "SFT", "instruction tuning" are fine-tuning; anything else is
 * other. */
enum core_training core_card_training(const char *text);

/* Whether a card's figure of grams looks like kilograms written as grams beside
 * other_grams, a sibling's figure (same parent, same relation): the sibling's is
 * about 1,000 times higher, within a factor of 2 of 1,000 (500 to 2,000 times). */
bool core_card_looks_like_kg(double grams, double other_grams);

/* Whether the card's prose (text, may be NULL) states the figure of grams as
 * kilograms: a number written before "kg" or "kilograms" ("149.2 kg", "1,234 kg
 * CO2eq", "5kgCO2e") within 0.5% of grams. quote (at least quote_len bytes, may
 * be 0) gets the words that say it. */
bool core_card_prose_states_kg(const char *text, double grams, char *quote, size_t quote_len);

#endif
