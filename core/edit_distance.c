/* SPDX-License-Identifier: Apache-2.0 */
/* Levenshtein distance (edit_distance.h), one row of the table at a time. */
#include "edit_distance.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>

static bool same_byte(char x, char y, bool is_case_insensitive)
{
    if (is_case_insensitive)
        return tolower((unsigned char)x) == tolower((unsigned char)y);
    return x == y;
}

size_t core_edit_distance(const char *a, const char *b, bool is_case_insensitive)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t row[CORE_EDIT_DISTANCE_MAX_LEN + 1];

    if (la > CORE_EDIT_DISTANCE_MAX_LEN || lb > CORE_EDIT_DISTANCE_MAX_LEN)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t best = prev + (same_byte(a[i - 1], b[j - 1], is_case_insensitive) ? 0 : 1);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}
