/* SPDX-License-Identifier: Apache-2.0 */
/* ISO 3166-1 countries and the spellings a location may use for one: alpha-2
 * ("DE"), alpha-3 ("DEU"), numeric ("276") or an English name ("Germany"). Pure:
 * the caller (db) fills the table from reference-data/iso-codes/iso_3166-1.json. */
#ifndef CORE_COUNTRY_H
#define CORE_COUNTRY_H

#include <stddef.h>

/* One country. Texts are NUL-terminated; a name the file does not give is "". */
struct core_country {
    char alpha2[3];
    char alpha3[4];
    char numeric[4];         /* three digits, "276" */
    char name[96];           /* ISO English short name: "Korea, Republic of" */
    char common_name[64];    /* "South Korea", or "" */
    char official_name[128]; /* "Republic of Korea", or "" */
};

/* How a text named a country or a region. */
enum core_location_match {
    CORE_LOCATION_NONE,
    CORE_LOCATION_CODE,         /* the row's own code ("US-CA", "WORLD", "gcp:europe-west1") */
    CORE_LOCATION_ISO_ALPHA2,   /* "DE" */
    CORE_LOCATION_ISO_ALPHA3,   /* "DEU" */
    CORE_LOCATION_ISO_NUMERIC,  /* "276" */
    CORE_LOCATION_COUNTRY_NAME, /* "Germany", "South Korea" */
    CORE_LOCATION_CLOUD_REGION, /* a provider's region without the provider ("us-east-1") */
    CORE_LOCATION_FREE_TEXT,    /* a country named inside longer text ("Frankfurt, Germany") */
};

/* "code", "iso-alpha2", "iso-alpha3", "iso-numeric", "country-name", "cloud-region",
 * "free-text"; "" for CORE_LOCATION_NONE. Static storage. */
const char *core_location_match_name(enum core_location_match how);

/* The country of countries[0..n_countries) that text spells, ignoring case and
 * blanks at either end: an alpha-2, alpha-3 or numeric code (one or two digits are
 * read with leading zeros: "76" is "076"), or the name, common name or official
 * name, or an English name in common use that ISO does not list ("UK", "Russia"). Sets *how to the
 * kind of spelling. NULL (and *how CORE_LOCATION_NONE) when no country is spelt so. The result
 * borrows from countries. */
const struct core_country *core_country_match(const struct core_country *countries,
                                              size_t n_countries, const char *text,
                                              enum core_location_match *how);

#endif
