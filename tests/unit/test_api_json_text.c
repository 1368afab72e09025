/* SPDX-License-Identifier: Apache-2.0 */
/* The JSON text writer (api/json_text.c) against jansson itself: every real,
 * integer and string it writes must be byte for byte what jansson dumps with the
 * server's flags (API_DUMP_FLAGS). Reals are where it could go wrong, as most are
 * formatted without printf: over a million of them are compared, drawn from a
 * fixed seed so that a failure comes back on every run. */
#include "alloc.h"
#include "api.h"
#include "json_text.h"

#include <check.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Under AddressSanitizer the loops run about three times slower. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifdef UNDER_ASAN
#define N_RANDOM_REALS 500000
#else
#define N_RANDOM_REALS 1500000
#endif

static struct text t;
static json_t *real, *integer;
static uint64_t seed;
static size_t n_reals, n_digits_range, n_digits;

static void setup(void)
{
    memset(&t, 0, sizeof t);
    real = json_real(0.0);
    integer = json_integer(0);
    ck_assert_ptr_nonnull(real);
    ck_assert_ptr_nonnull(integer);
    seed = 0x9E3779B97F4A7C15u;
    n_reals = n_digits_range = n_digits = 0;
}

static void teardown(void)
{
    free(t.buf.data);
    json_decref(real);
    json_decref(integer);
}

/* xorshift64: the same values on every run. */
static uint64_t next(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}

/* A uniform double in [0, 1). */
static double unit(void)
{
    return (double)(next() >> 11) * 0x1p-53;
}

/* Fails unless the text (t.buf.len bytes, or failed) is jansson's n bytes. */
static void expect_text(const char *want, size_t n, const char *writer, double v)
{
    if (t.buf.failed)
        ck_abort_msg("%a (%.17g): jansson writes %.*s, %s failed", v, v, (int)n, want, writer);
    if (t.buf.len != n || memcmp(t.buf.data, want, n) != 0)
        ck_abort_msg("%a (%.17g): jansson writes %.*s, %s %.*s", v, v, (int)n, want, writer,
                     (int)t.buf.len, t.buf.data);
}

/* text_real of v, and text_real_digits when it takes v, against jansson. Plain
 * ifs, not ck_assert: Check records every passing assertion, too slow a million
 * times. */
static void expect_real(double v)
{
    char want[64];
    size_t n;

    if (json_real_set(real, v) != 0)
        ck_abort_msg("%a: jansson refuses it", v);
    n = json_dumpb(real, want, sizeof want, API_DUMP_FLAGS | JSON_ENCODE_ANY);
    if (n == 0 || n > sizeof want)
        ck_abort_msg("%a: jansson writes nothing or more than %zu bytes", v, sizeof want);
    t.buf.len = 0;
    text_real(&t, v);
    expect_text(want, n, "text_real", v);
    n_reals++;
    if (fabs(v) >= 1e-13 && fabs(v) < 1e15) {
        n_digits_range++;
        t.buf.len = 0;
        if (text_real_digits(&t, v)) {
            n_digits++;
            expect_text(want, n, "text_real_digits", v);
        } else if (t.buf.len != 0) {
            ck_abort_msg("%a: text_real_digits wrote and returned false", v);
        }
    }
}

static void expect_real_both_signs(double v)
{
    expect_real(v);
    expect_real(-v);
}

/* v and its neighbours two steps either way, both signs. */
static void expect_real_around(double v)
{
    double below = v, above = v;

    if (!isfinite(v)) /* as strtod reads 9.5e308 */
        return;
    expect_real_both_signs(v);
    for (int i = 0; i < 2; i++) {
        below = nextafter(below, 0.0);
        above = nextafter(above, INFINITY);
        if (below > 0.0)
            expect_real_both_signs(below);
        if (isfinite(above))
            expect_real_both_signs(above);
    }
}

/* digits x 10^exp10, as strtod reads it written so. */
static double decimal(uint64_t digits, int exp10)
{
    char buf[64];

    snprintf(buf, sizeof buf, "%" PRIu64 "e%d", digits, exp10);
    return strtod(buf, NULL);
}

START_TEST(reals_at_the_edges_read_as_jansson_writes_them)
{
    static const double edges[] = {
        /* zero, whole numbers, and where "%.15g" turns to an exponent */
        0.0, 1.0, 2.0, 10.0, 123.0, 999999999999999.0, 1e15 - 1, 1e15, 1e15 + 1, 1e16, 1e17,
        999999999999999.4, 999999999999999.5, 999999999999999.6, 99999999999999.94,
        99999999999999.95, 99999999999999.96, 0x1p53, 0x1p53 + 2, 0x1p63, 0x1p64,
        /* the 16th significant digit a 5: exact halves, and decimals near one */
        0.5, 1.5, 2.5, 0.25, 0.125, 2.5e-7, 0.1234567890123455, 1.234567890123455,
        123456789012345.5, 123456789012344.5, 12345678901234.25, 12345678901234.75,
        1.0000000000000005, 9.999999999999995, 4.999999999999995e-3, 0.30000000000000004, 0.1, 0.2,
        0.3, 1.0 / 3, 2.0 / 3, 3.141592653589793, 2.718281828459045,
        /* "%.15g" writes 0.0001 but 1e-05: rounding can cross the boundary */
        1e-5, 1e-4, 9.99999999999999e-6, 9.999999999999995e-6, 9.9999999999999995e-6,
        9.99999999999999e-5, 9.999999999999995e-5, 9.9999999999999995e-5, 1.00000000000001e-5,
        1.00000000000001e-4, 0.000123456789012345, 0.0000123456789012345,
        /* text_real_digits' own bounds */
        1e-13, 9.99999999999999e-14, 9.999999999999995e-14, 9.9999999999999999e-14, 1e-14,
        999999999999999.9, 999999999999999.94,
        /* the ends of the doubles, and subnormals */
        DBL_MIN, DBL_MAX, DBL_EPSILON, DBL_TRUE_MIN, 2 * DBL_TRUE_MIN, 0x0.fffffffffffffp-1022,
        0x1.8p-1070, 0x1.23456789ap-1030, 1e-310, 4.9406564584124654e-324, 1.7976931348623157e308};

    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        expect_real_around(edges[i]);
    /* Every power of ten, and 5, 1.5 and 9.5 times it. */
    for (int e = -324; e <= 308; e++) {
        expect_real_around(decimal(1, e));
        expect_real_around(decimal(5, e));
        expect_real_around(decimal(15, e - 1));
        expect_real_around(decimal(95, e - 1));
    }
    /* Decimals of 16 digits ending in 5, so that rounding to 15 is a near tie. */
    for (int e = -30; e <= 16; e++) {
        static const uint64_t halves[] = {1000000000000005, 1234567890123455, 9999999999999995,
                                          4999999999999995, 1000000000000015, 5000000000000005};
        for (size_t i = 0; i < sizeof halves / sizeof halves[0]; i++)
            expect_real_around(decimal(halves[i], e - 15));
    }
    /* Exact halves: an odd multiple of 2^-(s+1) times 10^s is a whole number and a
     * half, so with s digits after the point the 16th digit is an exact 5. */
    for (int s = 0; s <= 21; s++) {
        double low = ldexp(pow(10, 14 - s), s + 1), high = ldexp(pow(10, 15 - s), s + 1);
        for (int i = 0; i < 2000; i++) {
            double m = floor(low + unit() * (high - low));
            if (fmod(m, 2.0) < 1.0)
                m += 1.0;
            if (m < high)
                expect_real_both_signs(ldexp(m, -(s + 1)));
        }
    }
    ck_assert_uint_gt(n_reals, 40000);
}
END_TEST

/* A random value: mostly 1e-14..1e16, where the answers' figures lie, else
 * 1e-300..1e300, any bit pattern, or a short or 16-digit decimal. */
static double random_real(void)
{
    uint64_t r = next();
    double sign = r & 1 ? -1.0 : 1.0;
    unsigned kind = (unsigned)(r >> 1) % 8;
    double v;

    switch (kind) {
    case 0:
    case 1:
    case 2:
    case 3: /* mantissa times a power of ten, 1e-14..1e16 */
        return sign * (1 + 9 * unit()) * pow(10, (double)(next() % 30) - 14);
    case 4: /* 1e-300..1e300 */
        return sign * (1 + 9 * unit()) * pow(10, (double)(next() % 600) - 300);
    case 5: /* any finite bit pattern, subnormals included */
        do {
            uint64_t bits = next();
            memcpy(&v, &bits, sizeof v);
        } while (!isfinite(v));
        return v;
    case 6: /* 16 digits, the last a 5: a near tie at 15 */
        return sign * decimal((100000000000000 + next() % 900000000000000) * 10 + 5,
                              (int)(next() % 32) - 30);
    default: { /* 1 to 17 digits, as money and measurements are written */
        uint64_t digits = next() % (uint64_t)pow(10, (double)(1 + next() % 17));
        return sign * decimal(digits, (int)(next() % 26) - 20);
    }
    }
}

START_TEST(random_reals_read_as_jansson_writes_them)
{
    for (size_t i = 0; i < N_RANDOM_REALS; i++)
        expect_real(random_real());
    ck_assert_uint_eq(n_reals, N_RANDOM_REALS);
    /* Most values of its range skip printf, else the test proves little of it. */
    ck_assert_uint_gt(n_digits, n_digits_range / 20 * 19);
    printf("%zu random reals as jansson writes them; of %zu from 1e-13 to 1e15, %zu without "
           "printf\n",
           n_reals, n_digits_range, n_digits);
}
END_TEST

START_TEST(reals_jansson_cannot_hold_fail_the_text)
{
    static const double values[] = {NAN, -NAN, INFINITY, -INFINITY};

    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        struct api_request req;
        struct api_reply reply;
        size_t len;

        ck_assert_ptr_null(json_real(values[i])); /* jansson has no such value */
        memset(&t, 0, sizeof t);
        TEXT_LIT(&t, "{\"kg\":");
        ck_assert(!text_real_digits(&t, values[i]));
        len = t.buf.len;
        text_real(&t, values[i]);
        ck_assert(t.buf.failed);
        TEXT_LIT(&t, "1}");
        text_int(&t, 1);
        ck_assert_uint_eq(t.buf.len, len); /* nothing after the failure */
        /* No half-written JSON reaches the client: the answer is an error. */
        memset(&req, 0, sizeof req);
        api_reply_init(&reply);
        ck_assert_int_eq(text_reply(&t, &req, &reply), ERR_NO_MEMORY);
        ck_assert_ptr_null(reply.raw);
        ck_assert_ptr_null(reply.json);
        ck_assert_ptr_null(t.buf.data);
        ck_assert(!t.buf.failed);
        api_reply_cleanup(&reply);
    }
}
END_TEST

static void expect_int(int64_t v)
{
    char want[32];
    size_t n;

    json_integer_set(integer, (json_int_t)v);
    n = json_dumpb(integer, want, sizeof want, API_DUMP_FLAGS | JSON_ENCODE_ANY);
    t.buf.len = 0;
    text_int(&t, v);
    if (t.buf.failed || t.buf.len != n || memcmp(t.buf.data, want, n) != 0)
        ck_abort_msg("%" PRId64 ": jansson writes %.*s, text_int %.*s", v, (int)n, want,
                     (int)t.buf.len, t.buf.data);
}

START_TEST(integers_read_as_jansson_writes_them)
{
    static const int64_t edges[] = {INT64_MIN, INT64_MIN + 1, INT64_MAX, 0, -1, 4294967296};

    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        expect_int(edges[i]);
    for (int64_t ten = 1;; ten *= 10) {
        expect_int(ten);
        expect_int(ten - 1);
        expect_int(-ten);
        expect_int(1 - ten);
        if (ten > INT64_MAX / 10)
            break;
    }
    for (int i = 0; i < 200000; i++) {
        uint64_t r = next();
        int64_t v;
        if (i % 2) {
            memcpy(&v, &r, sizeof v); /* any 64 bits */
        } else {
            v = (int64_t)(r >> (1 + next() % 63)); /* any magnitude */
            if (next() & 1)
                v = -v;
        }
        expect_int(v);
    }
}
END_TEST

/* text_string of s against jansson's json_string; NULL want: jansson refuses s. */
static void expect_string(const char *s)
{
    json_t *js = json_string(s);
    char *want = js ? json_dumps(js, API_DUMP_FLAGS | JSON_ENCODE_ANY) : NULL;

    t.buf.len = 0;
    t.buf.failed = false;
    text_string(&t, s);
    if (js == NULL) {
        if (!t.buf.failed || t.buf.len != 0)
            ck_abort_msg("jansson refuses \"%s\", text_string wrote %.*s", s, (int)t.buf.len,
                         t.buf.data);
    } else if (want == NULL || t.buf.failed || t.buf.len != strlen(want) ||
               memcmp(t.buf.data, want, t.buf.len) != 0) {
        ck_abort_msg("jansson writes %s, text_string %.*s", want ? want : "(nothing)",
                     (int)t.buf.len, t.buf.data);
    }
    free(want);
    json_decref(js);
}

/* Appends code point c as UTF-8. */
static size_t utf8(char *p, uint32_t c)
{
    if (c < 0x80) {
        p[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        p[0] = (char)(0xC0 | c >> 6);
        p[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        p[0] = (char)(0xE0 | c >> 12);
        p[1] = (char)(0x80 | (c >> 6 & 0x3F));
        p[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    p[0] = (char)(0xF0 | c >> 18);
    p[1] = (char)(0x80 | (c >> 12 & 0x3F));
    p[2] = (char)(0x80 | (c >> 6 & 0x3F));
    p[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

START_TEST(strings_read_as_jansson_writes_them)
{
    static const char *const fixed[] = {
        "", "plain", "ns/name-1.2_x", "a \"quoted\" \\path\\", "\b\f\n\r\t", "\x01\x1f\x7f",
        "slash / stays", "caf\xC3\xA9", "\xE2\x82\xAC 5", "\xF0\x9F\x98\x80",
        "\xEF\xBF\xBF\xF4\x8F\xBF\xBF", "mixed \x01 \xC3\xA9 \" \xF0\x9F\x8C\x8D\n",
        /* not UTF-8: a stray byte, a cut sequence, an overlong one, a surrogate,
         * beyond U+10FFFF */
        "\xFF", "a\xC3", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80"};
    static const struct {
        const char *in, *out;
    } escapes[] = {{"\xC3\xA9", "\"\\u00E9\""},
                   {"\xE2\x82\xAC", "\"\\u20AC\""},
                   {"\xF0\x9F\x98\x80", "\"\\uD83D\\uDE00\""},
                   {"\xF4\x8F\xBF\xBF", "\"\\uDBFF\\uDFFF\""},
                   {"\x01\"\\\x7f", "\"\\u0001\\\"\\\\\x7f\""}};
    static const char specials[] = "\"\\\b\f\n\r\t\x01\x1f\x7f/ ";
    char s[8 * 4 + 1];

    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        expect_string(fixed[i]);
    for (size_t i = 0; i < sizeof escapes / sizeof escapes[0]; i++) {
        t.buf.len = 0;
        t.buf.failed = false;
        text_string(&t, escapes[i].in);
        ck_assert(!t.buf.failed);
        ck_assert_uint_eq(t.buf.len, strlen(escapes[i].out));
        ck_assert_mem_eq(t.buf.data, escapes[i].out, t.buf.len);
    }
    /* Every byte below 0x80 alone, every code point of the BMP, some beyond. */
    for (uint32_t c = 1; c <= 0x10FFFF; c += c < 0x10000 ? 1 : 0xFF) {
        if (c >= 0xD800 && c <= 0xDFFF)
            continue;
        s[utf8(s, c)] = '\0';
        expect_string(s);
    }
    /* Random strings: ASCII with many escapes (written by hand), and mixed. */
    for (int i = 0; i < 50000; i++) {
        size_t len = 0, n = next() % 9;
        for (size_t k = 0; k < n; k++) {
            uint64_t r = next();
            uint32_t c;
            if ((i % 2 == 0 || r % 4 == 0) && r % 3 == 0)
                c = (uint32_t)specials[(r >> 8) % (sizeof specials - 1)];
            else if (i % 2 == 0 || r % 4 == 0)
                c = (uint32_t)(1 + (r >> 8) % 0x7F);
            else if (r % 4 == 1)
                c = (uint32_t)(0x80 + (r >> 8) % 0x780);
            else if (r % 4 == 2)
                c = (uint32_t)(0x800 + (r >> 8) % 0xF800);
            else
                c = (uint32_t)(0x10000 + (r >> 8) % 0x100000);
            if (c >= 0xD800 && c <= 0xDFFF)
                c = 'x';
            len += utf8(s + len, c);
        }
        s[len] = '\0';
        expect_string(s);
    }
}
END_TEST

START_TEST(an_object_written_member_by_member_reads_as_jansson_dumps_it)
{
    json_t *o = json_pack("{s:s, s:I, s:f, s:[f, f, f], s:n, s:{s:b}}", "id", "ns/name", "n",
                          (json_int_t)-42, "kg", 0.1 + 0.2, "tab\t\"q\"", 1e20, -0.0, 2.5e-7,
                          "caf\xC3\xA9", "sub", "ok", 1);
    char *want = json_dumps(o, API_DUMP_FLAGS);
    struct api_request req;
    struct api_reply reply;

    ck_assert_ptr_nonnull(want);
    TEXT_LIT(&t, "{");
    text_key(&t, "id", true);
    text_string(&t, "ns/name");
    text_key(&t, "n", false);
    text_int(&t, -42);
    text_key(&t, "kg", false);
    text_real(&t, 0.1 + 0.2);
    text_key(&t, "tab\t\"q\"", false);
    TEXT_LIT(&t, "[");
    text_real(&t, 1e20);
    TEXT_LIT(&t, ",");
    text_real(&t, -0.0);
    TEXT_LIT(&t, ",");
    text_real(&t, 2.5e-7);
    TEXT_LIT(&t, "]");
    text_key(&t, "caf\xC3\xA9", false);
    TEXT_LIT(&t, "null");
    text_key(&t, "sub", false);
    text_json(&t, json_pack("{s:b}", "ok", 1));
    TEXT_LIT(&t, "}");
    ck_assert(!t.buf.failed);
    ck_assert_uint_eq(t.buf.len, strlen(want));
    ck_assert_mem_eq(t.buf.data, want, t.buf.len);
    /* The reply is the text and a newline, as the server ends a JSON answer. */
    memset(&req, 0, sizeof req);
    api_reply_init(&reply);
    ck_assert_int_eq(text_reply(&t, &req, &reply), ERR_OK);
    ck_assert_int_eq(reply.status, 200);
    ck_assert_uint_eq(reply.raw_len, strlen(want) + 1);
    ck_assert_mem_eq(reply.raw, want, strlen(want));
    ck_assert_int_eq(reply.raw[strlen(want)], '\n');
    ck_assert_ptr_null(t.buf.data);
    api_reply_cleanup(&reply);
    free(want);
    json_decref(o);
}
END_TEST

/* Allocation n of jansson fails (counted from the last reset). */
static int n_allocations, fail_at;

static void *failing_malloc(size_t size)
{
    return ++n_allocations == fail_at ? NULL : malloc(size);
}

/* jansson 2.14's json_dumps, failing an allocation part way, can return this body
 * with "count" cut from the first object; api_json_dumps answers the whole text or
 * NULL, at every allocation. */
START_TEST(a_dump_that_runs_out_of_memory_is_whole_or_null)
{
    json_t *v = json_loads("{\"reports\":[{\"model\":\"hub-a/base\",\"count\":5},"
                           "{\"model\":\"hub-b/merged\",\"count\":7,\"date\":\"2024-01-01\"}]}",
                           0, NULL);
    char *want = api_json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    int n_null = 0;

    ck_assert_ptr_nonnull(want);
    ck_assert_str_eq(want, "{\"reports\":[{\"count\":5,\"model\":\"hub-a/base\"},{\"count\":7,"
                           "\"date\":\"2024-01-01\",\"model\":\"hub-b/merged\"}]}");
    json_set_alloc_funcs(failing_malloc, free);
    for (fail_at = 1;; fail_at++) {
        char *got;
        n_allocations = 0;
        got = api_json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
        if (got == NULL)
            n_null++;
        else
            ck_assert_msg(strcmp(got, want) == 0, "allocation %d failed: %s", fail_at, got);
        free(got);
        if (n_allocations < fail_at)
            break; /* a run that reached no failure: every point was tried */
    }
    json_set_alloc_funcs(malloc, free);
    ck_assert_int_gt(n_null, 0);
    free(want);
    json_decref(v);
}
END_TEST

/* Core allocations fail: the nth only, or every one from the nth on. */
static int core_calls, core_fail_at;
static bool core_fail_from;

static bool core_fails(void)
{
    ++core_calls;
    return core_fail_from ? core_calls >= core_fail_at : core_calls == core_fail_at;
}

/* jansson 2.14's lexer drops a character it has no memory to keep, and a dropped
 * closing quote makes it decode the string past its buffer (a heap overflow under
 * AddressSanitizer) or read a different text. With the service's allocator
 * installed, every reading of a text whose strings cross the lexer's buffer sizes
 * (16, 32, 64, 128 bytes) is the whole text or out of memory, at each allocation
 * and with memory gone from each allocation on. */
START_TEST(a_reading_that_runs_out_of_memory_is_the_text_or_out_of_memory)
{
    char text[16384];
    size_t len = 0;
    json_t *want, *got;
    json_error_t error;
    int n_short = 0;

    len += (size_t)snprintf(text + len, sizeof text - len, "{");
    for (int n = 1; n <= 140; n++)
        len += (size_t)snprintf(text + len, sizeof text - len, "%s\"k%d\":\"%0*d\"",
                                n > 1 ? "," : "", n, n, 0);
    len += (size_t)snprintf(text + len, sizeof text - len, "}");
    want = json_loadb(text, len, 0, NULL);
    ck_assert_ptr_nonnull(want);
    api_json_install_allocator();
    core_alloc_set_fail_hook(core_fails);
    for (int from = 0; from <= 1; from++) {
        core_fail_from = from;
        for (core_fail_at = 1;; core_fail_at++) {
            enum err rc;
            core_calls = 0;
            rc = api_json_decode(text, len, 0, &got, &error);
            if (rc == ERR_OK)
                ck_assert_msg(json_equal(got, want), "allocation %d: another document",
                              core_fail_at);
            else
                ck_assert_msg(rc == ERR_NO_MEMORY, "allocation %d: %s", core_fail_at, error.text);
            n_short += rc == ERR_NO_MEMORY;
            json_decref(got);
            if (core_calls < core_fail_at)
                break; /* a run that reached no failure: every point was tried */
        }
    }
    core_alloc_set_fail_hook(NULL);
    json_set_alloc_funcs(malloc, free);
    ck_assert_int_gt(n_short, 0);
    json_decref(want);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api_json_text");
    TCase *tc = tcase_create("json_text");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, reals_at_the_edges_read_as_jansson_writes_them);
    tcase_add_test(tc, random_reals_read_as_jansson_writes_them);
    tcase_add_test(tc, reals_jansson_cannot_hold_fail_the_text);
    tcase_add_test(tc, integers_read_as_jansson_writes_them);
    tcase_add_test(tc, strings_read_as_jansson_writes_them);
    tcase_add_test(tc, an_object_written_member_by_member_reads_as_jansson_dumps_it);
    tcase_add_test(tc, a_dump_that_runs_out_of_memory_is_whole_or_null);
    tcase_add_test(tc, a_reading_that_runs_out_of_memory_is_the_text_or_out_of_memory);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
