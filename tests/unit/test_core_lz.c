/* SPDX-License-Identifier: Apache-2.0 */
/* The LZ codec (core/lz.c): every input comes back byte for byte (empty, short,
 * runs, repeats further back than a match reaches, incompressible, a JSON answer),
 * repetitive text packs small, a packing that does not fit its room is refused, and
 * a damaged packing is refused without writing outside its output. */
#include "lz.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Input number i of the table, into buf (cap bytes); returns its length. */
static size_t input(int i, char *buf, size_t cap)
{
    unsigned x = 12345;
    size_t n = 0;

    switch (i) {
    case 0: /* empty */
        return 0;
    case 1:
        return (size_t)snprintf(buf, cap, "a");
    case 2:
        return (size_t)snprintf(buf, cap, "abcdefghijk");
    case 3: /* one long run */
        memset(buf, 'z', 5000);
        return 5000;
    case 4: /* a JSON answer's repeats */
        for (int m = 0; n < cap - 200 && m < 60; m++)
            n += (size_t)snprintf(buf + n, cap - n,
                                  "{\"source\":\"hub-%d/m-%d\",\"co2e_kg\":{\"value\":0.0,"
                                  "\"low\":0.0,\"high\":0.0},\"family_size\":%d},",
                                  m % 7, m * 31, m * 977);
        return n;
    case 5: /* letters that do not repeat */
        for (n = 0; n < 3000; n++) {
            x = x * 1103515245u + 12345u;
            buf[n] = (char)('a' + (x >> 16) % 26);
        }
        return n;
    case 6: /* a block repeated 70,000 bytes later: beyond a match's reach */
        for (n = 0; n < 1000; n++) {
            x = x * 1103515245u + 12345u;
            buf[n] = (char)(x >> 16);
        }
        memset(buf + 1000, '-', 70000);
        memcpy(buf + 71000, buf, 1000);
        return 72000;
    case 7: /* every byte value, twice */
        for (n = 0; n < 512; n++)
            buf[n] = (char)(n & 0xff);
        return n;
    default: /* counts of 255 and more in both nibbles: long literals, long matches */
        for (n = 0; n < 600; n++) {
            x = x * 1103515245u + 12345u;
            buf[n] = (char)(x >> 16);
        }
        memcpy(buf + 600, buf, 600);
        memcpy(buf + 1200, buf, 1200);
        return 2400;
    }
}

#define N_INPUTS 9
#define CAP      80000

START_TEST(every_input_comes_back_as_it_was)
{
    char *in = malloc(CAP), *packed, *out;
    size_t len = input(_i, in, CAP), packed_len;

    packed = malloc(core_lz_bound(len));
    out = malloc(len + 1);
    ck_assert(in && packed && out);
    packed_len = core_lz_pack(in, len, packed, core_lz_bound(len));
    ck_assert_uint_gt(packed_len, 0);
    ck_assert_uint_le(packed_len, core_lz_bound(len));
    ck_assert(core_lz_unpack(packed, packed_len, out, len));
    ck_assert_int_eq(memcmp(in, out, len), 0);
    /* The length is part of the packing: one byte more or less is refused. */
    if (len > 0)
        ck_assert(!core_lz_unpack(packed, packed_len, out, len - 1));
    ck_assert(!core_lz_unpack(packed, packed_len, out, len + 1));
    if (_i == 3 || _i == 4)
        ck_assert_uint_lt(packed_len, len / 2);
    /* Too little room: 0, nothing promised. */
    if (len > 100)
        ck_assert_uint_eq(core_lz_pack(in, len, packed, 8), 0);
    free(in);
    free(packed);
    free(out);
}
END_TEST

START_TEST(a_damaged_packing_is_refused_within_its_output)
{
    char in[4096], packed[8192], out[4096 + 64], sentinel[64];
    size_t len = input(4, in, sizeof in);
    size_t packed_len = core_lz_pack(in, len, packed, sizeof packed);
    unsigned x = 7;

    ck_assert_uint_gt(packed_len, 0);
    memset(sentinel, 0x5a, sizeof sentinel);
    for (int round = 0; round < 5000; round++) {
        char damaged[8192];
        memcpy(damaged, packed, packed_len);
        for (int k = 0; k < 1 + round % 3; k++) {
            x = x * 1103515245u + 12345u;
            damaged[(x >> 8) % packed_len] = (char)(x >> 20);
        }
        /* A sentinel past the output's end stays untouched whatever the verdict. */
        memset(out + len, 0x5a, sizeof sentinel);
        (void)core_lz_unpack(damaged, packed_len - (size_t)(round % 2), out, len);
        if (memcmp(out + len, sentinel, sizeof sentinel) != 0)
            ck_abort_msg("round %d wrote past the output", round);
    }
}
END_TEST

static Suite *lz_suite(void)
{
    Suite *s = suite_create("core_lz");
    TCase *tc = tcase_create("lz");

    tcase_add_loop_test(tc, every_input_comes_back_as_it_was, 0, N_INPUTS);
    tcase_add_test(tc, a_damaged_packing_is_refused_within_its_output);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(lz_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
