/* SPDX-License-Identifier: Apache-2.0 */
/* Prints the problem types of the error table (core/err.h) as JSON, for
 * scripts/gen-problems.sh to write into openapi.yaml: one entry per distinct type
 * slug, in table order, with its type URI, status, title, Retry-After, the generic
 * detail answered in place of the handler's (null: none) and the codes that answer
 * it. ERR_OK is no problem and is left out. */
#include "err.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes text as a JSON string. The table's texts are ASCII, but a quote or
 * backslash must not break the output. */
static void print_string(const char *text)
{
    putchar('"');
    for (; *text; text++) {
        if (*text == '"' || *text == '\\')
            putchar('\\');
        putchar(*text);
    }
    putchar('"');
}

/* Whether an earlier row already answers with rc's slug. */
static bool is_slug_seen(enum err rc)
{
    for (int i = ERR_OK + 1; i < (int)rc; i++)
        if (strcmp(err_slug((enum err)i), err_slug(rc)) == 0)
            return true;
    return false;
}

int main(void)
{
    bool is_first = true;

    printf("{\"type_base\": ");
    print_string(ERR_TYPE_BASE);
    printf(", \"problem_types\": [");
    for (int i = ERR_OK + 1; i < ERR_COUNT; i++) {
        enum err rc = (enum err)i;
        bool is_first_code = true;
        if (is_slug_seen(rc))
            continue;
        printf("%s\n  {\"slug\": ", is_first ? "" : ",");
        print_string(err_slug(rc));
        printf(", \"type\": \"%s%s\", \"status\": %d, \"title\": ", ERR_TYPE_BASE, err_slug(rc),
               err_http_status(rc));
        print_string(err_title(rc));
        printf(", \"retry_after_s\": %d, \"generic_detail\": ", err_retry_after_s(rc));
        if (err_default_detail(rc))
            print_string(err_default_detail(rc));
        else
            printf("null");
        printf(", \"codes\": [");
        for (int j = i; j < ERR_COUNT; j++) {
            if (strcmp(err_slug((enum err)j), err_slug(rc)) != 0)
                continue;
            printf("%s\"%s\"", is_first_code ? "" : ", ", err_name((enum err)j));
            is_first_code = false;
        }
        printf("]}");
        is_first = false;
    }
    printf("\n]}\n");
    return fflush(stdout) == 0 && !ferror(stdout) ? EXIT_SUCCESS : EXIT_FAILURE;
}
