/* SPDX-License-Identifier: Apache-2.0 */
/* Matching a text against the ISO 3166-1 table the caller holds. Pure; no
 * allocation. */
#include "country.h"

#include <assert.h>
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

const char *core_location_match_name(enum core_location_match how)
{
    switch (how) {
    case CORE_LOCATION_CODE:
        return "code";
    case CORE_LOCATION_ISO_ALPHA2:
        return "iso-alpha2";
    case CORE_LOCATION_ISO_ALPHA3:
        return "iso-alpha3";
    case CORE_LOCATION_ISO_NUMERIC:
        return "iso-numeric";
    case CORE_LOCATION_COUNTRY_NAME:
        return "country-name";
    case CORE_LOCATION_CLOUD_REGION:
        return "cloud-region";
    case CORE_LOCATION_FREE_TEXT:
        return "free-text";
    case CORE_LOCATION_NONE:
        break;
    }
    return "";
}

/* Whether text[0..len) equals word, ignoring ASCII case. An empty word never
 * matches: a country without a common name is not spelt "". */
static bool equals_nocase(const char *text, size_t len, const char *word)
{
    if (word[0] == '\0' || strlen(word) != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (tolower((unsigned char)text[i]) != tolower((unsigned char)word[i]))
            return false;
    return true;
}

/* text[0..len) as a three-digit numeric code into out, or false when it is not
 * one to three digits. */
static bool numeric_code(const char *text, size_t len, char out[4])
{
    if (len == 0 || len > 3)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isdigit((unsigned char)text[i]))
            return false;
    memset(out, '0', 3);
    memcpy(out + 3 - len, text, len);
    out[3] = '\0';
    return true;
}

/* English names in common use that ISO 3166-1 does not list for the country it
 * means ("UK" is reserved by ISO for GB; cards write "Russia", "Turkey", "USA"'s
 * dotted forms). Only names of one country: "Korea" or "Congo" alone are not here. */
static const struct {
    const char *name;
    const char *alpha2;
} other_names[] = {
    {"UK", "GB"},
    {"U.K.", "GB"},
    {"Great Britain", "GB"},
    {"Britain", "GB"},
    {"England", "GB"},
    {"Scotland", "GB"},
    {"Wales", "GB"},
    {"Northern Ireland", "GB"},
    {"U.S.", "US"},
    {"U.S.A.", "US"},
    {"America", "US"},
    {"United States of America", "US"},
    {"Russia", "RU"},
    {"Turkey", "TR"},
    {"Holland", "NL"},
    {"The Netherlands", "NL"},
    {"Brunei", "BN"},
    {"Cape Verde", "CV"},
    {"Ivory Coast", "CI"},
    {"Swaziland", "SZ"},
    {"Macedonia", "MK"},
    {"Vatican", "VA"},
    {"Vatican City", "VA"},
    {"Palestine", "PS"},
    {"Micronesia", "FM"},
    {"DR Congo", "CD"},
    {"Czech Republic", "CZ"},
};

const struct core_country *core_country_match(const struct core_country *countries,
                                              size_t n_countries, const char *text,
                                              enum core_location_match *how)
{
    size_t len;
    char numeric[4];
    bool is_numeric;

    assert(text && how && (countries || n_countries == 0));
    *how = CORE_LOCATION_NONE;
    while (*text == ' ' || *text == '\t')
        text++;
    len = strlen(text);
    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
        len--;
    is_numeric = numeric_code(text, len, numeric);
    for (size_t i = 0; i < n_countries; i++) {
        const struct core_country *c = &countries[i];
        if (is_numeric && strcmp(c->numeric, numeric) == 0)
            *how = CORE_LOCATION_ISO_NUMERIC;
        else if (equals_nocase(text, len, c->alpha2))
            *how = CORE_LOCATION_ISO_ALPHA2;
        else if (equals_nocase(text, len, c->alpha3))
            *how = CORE_LOCATION_ISO_ALPHA3;
        else if (equals_nocase(text, len, c->name) || equals_nocase(text, len, c->common_name) ||
                 equals_nocase(text, len, c->official_name))
            *how = CORE_LOCATION_COUNTRY_NAME;
        else
            continue;
        return c;
    }
    for (size_t k = 0; k < sizeof other_names / sizeof other_names[0]; k++) {
        if (!equals_nocase(text, len, other_names[k].name))
            continue;
        for (size_t i = 0; i < n_countries; i++) {
            if (strcmp(countries[i].alpha2, other_names[k].alpha2) == 0) {
                *how = CORE_LOCATION_COUNTRY_NAME;
                return &countries[i];
            }
        }
    }
    return NULL;
}
