/* SPDX-License-Identifier: Apache-2.0 */
/* Matching a text to an ISO 3166-1 country: each spelling, case and blanks
 * ignored, and texts that spell no country. */
#include "country.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static const struct core_country countries[] = {
    {"DE", "DEU", "276", "Germany", "", ""},
    {"KR", "KOR", "410", "Korea, Republic of", "South Korea", ""},
    {"BO", "BOL", "068", "Bolivia, Plurinational State of", "Bolivia",
     "Plurinational State of Bolivia"},
    {"GB", "GBR", "826", "United Kingdom", "",
     "United Kingdom of Great Britain and Northern Ireland"},
    {"RU", "RUS", "643", "Russian Federation", "", ""},
};

#define N_COUNTRIES (sizeof countries / sizeof countries[0])

static const struct {
    const char *text;
    const char *alpha3; /* NULL: no country */
    enum core_location_match how;
} cases[] = {
    {"DE", "DEU", CORE_LOCATION_ISO_ALPHA2},
    {"de", "DEU", CORE_LOCATION_ISO_ALPHA2},
    {" DEU ", "DEU", CORE_LOCATION_ISO_ALPHA3},
    {"276", "DEU", CORE_LOCATION_ISO_NUMERIC},
    {"GERMANY", "DEU", CORE_LOCATION_COUNTRY_NAME},
    {"south korea", "KOR", CORE_LOCATION_COUNTRY_NAME},
    {"Korea, Republic of", "KOR", CORE_LOCATION_COUNTRY_NAME},
    {"68", "BOL", CORE_LOCATION_ISO_NUMERIC},
    {"068", "BOL", CORE_LOCATION_ISO_NUMERIC},
    {"Plurinational State of Bolivia", "BOL", CORE_LOCATION_COUNTRY_NAME},
    {"UK", "GBR", CORE_LOCATION_COUNTRY_NAME},
    {"u.k.", "GBR", CORE_LOCATION_COUNTRY_NAME},
    {"Scotland", "GBR", CORE_LOCATION_COUNTRY_NAME},
    {" Russia ", "RUS", CORE_LOCATION_COUNTRY_NAME},
    {"America", NULL, CORE_LOCATION_NONE}, /* a name the table's countries lack */
    {"", NULL, CORE_LOCATION_NONE},
    {"D", NULL, CORE_LOCATION_NONE},
    {"DEUT", NULL, CORE_LOCATION_NONE},
    {"0276", NULL, CORE_LOCATION_NONE},
    {"Korea", NULL, CORE_LOCATION_NONE},
    {"Berlin, Germany", NULL, CORE_LOCATION_NONE},
};

START_TEST(spellings_of_the_table)
{
    enum core_location_match how = CORE_LOCATION_CODE;
    const struct core_country *c = core_country_match(countries, N_COUNTRIES, cases[_i].text, &how);

    if (cases[_i].alpha3 == NULL) {
        ck_assert_msg(c == NULL, "%s matched %s", cases[_i].text, c ? c->alpha3 : "");
        ck_assert_int_eq(how, CORE_LOCATION_NONE);
        return;
    }
    ck_assert_msg(c != NULL, "%s", cases[_i].text);
    ck_assert_str_eq(c->alpha3, cases[_i].alpha3);
    ck_assert_int_eq(how, cases[_i].how);
}
END_TEST

START_TEST(every_match_has_a_name_and_none_has_none)
{
    ck_assert_str_eq(core_location_match_name(CORE_LOCATION_NONE), "");
    ck_assert_str_eq(core_location_match_name(CORE_LOCATION_ISO_ALPHA2), "iso-alpha2");
    ck_assert_str_eq(core_location_match_name(CORE_LOCATION_FREE_TEXT), "free-text");
    for (int how = CORE_LOCATION_CODE; how <= CORE_LOCATION_FREE_TEXT; how++)
        ck_assert_str_ne(core_location_match_name((enum core_location_match)how), "");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core_country");
    TCase *tc = tcase_create("country");
    SRunner *sr;
    int failed;

    tcase_add_loop_test(tc, spellings_of_the_table, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, every_match_has_a_name_and_none_has_none);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
