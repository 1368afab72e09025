/* SPDX-License-Identifier: Apache-2.0 */
/* Card metadata readings: relation inference and training types. */
#include "card.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Whether needle occurs in haystack, ignoring case. */
static bool contains_nocase(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);

    for (const char *p = haystack; p && *p; p++)
        if (strncasecmp(p, needle, n) == 0)
            return true;
    return false;
}

/* Whether the repository name carries a quantization format as a word of its own
 * ("Llama-2-7B-GGUF", "mistral-7b.awq"), not inside another word. */
static bool name_says_quantized(const char *name, const char **format)
{
    static const char *const formats[] = {"gguf", "awq", "gptq", "exl2", "ggml", NULL};

    for (const char *const *f = formats; name && *f; f++) {
        size_t n = strlen(*f);
        for (const char *p = name; *p; p++) {
            bool starts = p == name || !isalnum((unsigned char)p[-1]);
            if (starts && strncasecmp(p, *f, n) == 0 && !isalpha((unsigned char)p[n])) {
                *format = *f;
                return true;
            }
        }
    }
    return false;
}

enum core_relation core_card_infer_relation(const struct core_card_hints *h, char *from,
                                            size_t from_len)
{
    const char *format = NULL;

    if (h->n_parents > 1) {
        snprintf(from, from_len, "several parents");
        return CORE_RELATION_MERGE;
    }
    if (name_says_quantized(h->name, &format)) {
        snprintf(from, from_len, "repository name (%s)", format);
        return CORE_RELATION_QUANTIZED;
    }
    for (size_t i = 0; i < h->n_tags; i++) {
        const char *t = h->tags[i];
        if (t && strncasecmp(t, "base_model:quantized:", 21) == 0) {
            snprintf(from, from_len, "tag %.120s", t);
            return CORE_RELATION_QUANTIZED;
        }
    }
    for (size_t i = 0; i < h->n_tags; i++) {
        const char *t = h->tags[i];
        if (t && (strcasecmp(t, "gguf") == 0 || strcasecmp(t, "awq") == 0 ||
                  strcasecmp(t, "gptq") == 0 || strcasecmp(t, "exl2") == 0)) {
            snprintf(from, from_len, "tag %.120s", t);
            return CORE_RELATION_QUANTIZED;
        }
    }
    if (h->has_quantized_by) {
        snprintf(from, from_len, "quantized_by");
        return CORE_RELATION_QUANTIZED;
    }
    if (h->library_name && strcasecmp(h->library_name, "peft") == 0) {
        snprintf(from, from_len, "library_name peft");
        return CORE_RELATION_ADAPTER;
    }
    for (size_t i = 0; i < h->n_tags; i++) {
        const char *t = h->tags[i];
        if (t && strncasecmp(t, "base_model:adapter:", 19) == 0) {
            snprintf(from, from_len, "tag %.120s", t);
            return CORE_RELATION_ADAPTER;
        }
    }
    snprintf(from, from_len, "one parent, no quantization or adapter sign");
    return CORE_RELATION_FINETUNE;
}

enum core_training core_card_training(const char *text)
{
    char word[64];
    size_t n = 0;

    if (text == NULL)
        return CORE_TRAINING_OTHER;
    /* Compare letters only, so "Pre-Training", "pre_training" and "pretraining"
     * read alike. */
    for (const char *p = text; *p && n + 1 < sizeof word; p++)
        if (isalpha((unsigned char)*p))
            word[n++] = (char)tolower((unsigned char)*p);
    word[n] = '\0';
    if (strcmp(word, "pretraining") == 0 || strcmp(word, "training") == 0 ||
        strcmp(word, "pretrain") == 0 || contains_nocase(word, "continuedpretraining") ||
        contains_nocase(word, "secondstagepretraining") ||
        contains_nocase(word, "continualpretraining") || strcmp(word, "fromscratch") == 0)
        return CORE_TRAINING_PRETRAINING;
    if (strcmp(word, "finetuning") == 0 || strcmp(word, "finetune") == 0 ||
        strcmp(word, "finetuned") == 0 || strcmp(word, "sft") == 0 ||
        contains_nocase(word, "instructiontuning") || contains_nocase(word, "finetuning"))
        return CORE_TRAINING_FINETUNING;
    return CORE_TRAINING_OTHER;
}

bool core_card_looks_like_kg(double grams, double other_grams)
{
    /* 1,000 within a factor of 2: a unit slip, not two runs of different size */
    return grams > 0 && other_grams >= 500 * grams && other_grams <= 2000 * grams;
}

/* The number written at p ("1,234.5"), its end in *end; false when p starts none.
 * Thousands separators are commas followed by three digits. */
static bool read_number(const char *p, double *value, const char **end)
{
    char digits[64];
    size_t n = 0;
    bool has_point = false;

    if (!isdigit((unsigned char)*p))
        return false;
    while (n + 1 < sizeof digits) {
        if (isdigit((unsigned char)*p)) {
            digits[n++] = *p++;
        } else if (*p == ',' && !has_point && isdigit((unsigned char)p[1]) &&
                   isdigit((unsigned char)p[2]) && isdigit((unsigned char)p[3]) &&
                   !isdigit((unsigned char)p[4])) {
            p++;
        } else if (*p == '.' && !has_point && isdigit((unsigned char)p[1])) {
            has_point = true;
            digits[n++] = *p++;
        } else {
            break;
        }
    }
    digits[n] = '\0';
    *value = strtod(digits, NULL);
    *end = p;
    return true;
}

/* Whether p starts the unit kilograms: "kg" not followed by a letter other than
 * the "CO2" of "kgCO2e", or "kilogram". */
static bool says_kg(const char *p)
{
    if (strncasecmp(p, "kilogram", 8) == 0)
        return true;
    if (strncasecmp(p, "kg", 2) != 0)
        return false;
    return !isalpha((unsigned char)p[2]) || strncasecmp(p + 2, "co2", 3) == 0;
}

bool core_card_prose_states_kg(const char *text, double grams, char *quote, size_t quote_len)
{
    if (text == NULL || !(grams > 0))
        return false;
    for (const char *p = text; *p; p++) {
        const char *end, *unit;
        double value;
        if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '.' || p[-1] == ','))
            continue;
        if (!read_number(p, &value, &end))
            continue;
        unit = end;
        while (*unit == ' ')
            unit++;
        if (says_kg(unit) && fabs(value - grams) <= 0.005 * grams) {
            if (quote_len > 0)
                snprintf(quote, quote_len, "%.*s", (int)(unit - p) + 2, p);
            return true;
        }
        p = end - 1;
    }
    return false;
}
