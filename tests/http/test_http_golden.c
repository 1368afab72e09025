/* SPDX-License-Identifier: Apache-2.0 */
/* Golden answers: a fresh server is seeded over HTTP with one deterministic family
 * that touches every part of the footprint arithmetic (each activity method, Hub card
 * grams, fine-tunes, an adapter, a quantization, merges within and across roots,
 * derived and measured inference profiles, deltas, counters and a batch on fixed
 * days, a family without inferences). The answers to the seed's writes and to the
 * reads after it are compared byte for byte with the files under tests/data/golden/:
 * status, Content-Type, ETag, Link, Location and body (304s included).
 *
 * Only created_at and updated_at vary from run to run; their values are masked as
 * "*" before comparing. Anything else that changes is a changed answer.
 *
 * To regenerate the files after an intended change of an answer, run this suite with
 * CARBONTREE_GOLDEN_UPDATE=1 (ctest passes CARBONTREE_SOURCE_DIR, where the files are
 * written), and review the diff before committing it. */
#include "harness.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_TIMEOUT_S 60
#define FAMILY_LIMIT   3 /* small, so that every family answer spans pages and Links */

static struct ct_server *srv;

static void start_server(void)
{
    char why[4096];

    srv = ct_server_new();
    ck_assert_msg(ct_server_start(srv, why, sizeof why), "%s", why);
}

static void stop_servers(void)
{
    ct_cleanup_all();
    srv = NULL;
}

/* ---- the seeded family ---- */

/* Two roots joined by a merge, and a third family without any inference:
 *
 *   gold/base                     every way an activity is obtained; derived profile
 *   ├── gold/ft-card              card mapping in grams
 *   │   ├── gold/adapter          adapter; ranged measured profile at a location
 *   │   │   └── gold/merge-across merge with gold/card-root; a counter that was reset
 *   │   │       └── gold/deep     the deepest member
 *   │   └── gold/merge-in         merge with gold/ft-energy
 *   ├── gold/ft-energy            measured energy; profile with an explicit intensity
 *   │   ├── gold/quant            quantized
 *   │   └── gold/merge-in
 *   └── gold/unused               never used
 *   gold/card-root                a card's bare number of grams
 *   gold/idle-root ── gold/idle-ft  no inference at all
 */
static const char *const members[] = {
    "gold/base",  "gold/ft-card",      "gold/ft-energy", "gold/adapter",
    "gold/quant", "gold/merge-in",     "gold/unused",    "gold/card-root",
    "gold/deep",  "gold/merge-across", "gold/idle-root", "gold/idle-ft",
};
#define N_MEMBERS (sizeof members / sizeof members[0])

static const char *const roots[] = {"gold/base", "gold/card-root", "gold/idle-root"};
#define N_ROOTS (sizeof roots / sizeof roots[0])

static const char *const policies[] = {"none", "equal", "usage"};
#define N_POLICIES (sizeof policies / sizeof policies[0])

/* One write of the seed: method, path, single-quoted body, the status it must get,
 * and an Idempotency-Key when not NULL. */
struct seed_step {
    const char *method;
    const char *path;
    const char *body;
    long status;
    const char *key;
};

static const struct seed_step seed[] = {
    /* The base: one training activity per way an activity may be obtained. */
    {"POST", "/v1/models",
     "{'id':'gold/base','task':'fill-mask','parameters':110000000,'license':'apache-2.0',"
     "'url':'https://example.org/gold/base'}",
     201, NULL},
    {"POST", "/v1/models/gold/base/activities",
     "{'kind':'training','method':'power','power_w':12041.51,'hours':79.2,'pue':1.58,"
     "'carbon_intensity':{'value':0.954,'unit':'lb/kWh'}}",
     201, NULL},
    {"POST", "/v1/models/gold/base/activities",
     "{'kind':'training','method':'tdp','devices':[{'hardware':'V100','count':8}],"
     "'hours':24,'pue':1.1,'memory_gb':64,'location':'FRA'}",
     201, NULL},
    {"POST", "/v1/models/gold/base/activities",
     "{'kind':'development','method':'flops','parameters':1e9,'tokens':1e10,"
     "'peak_flops_per_s':1e14,'utilisation':0.5,'device_power_w':300,'pue':1.1,"
     "'carbon_intensity':{'value':100,'unit':'g/kWh'}}",
     201, NULL},
    {"POST", "/v1/models/gold/base/activities",
     "{'kind':'training','method':'energy','energy_kwh':{'value':500,'low':450,'high':560},"
     "'location':'GCP:europe-west1'}",
     201, NULL},
    {"POST", "/v1/models/gold/base/activities",
     "{'kind':'embodied','method':'embodied','embodied':[{'units':8,'embodied_kg':150,"
     "'hours':100,'lifetime_hours':35040,'utilisation':0.8}]}",
     201, NULL},
    {"POST", "/v1/models/gold/base/activities",
     "{'kind':'training','energy_kwh':1507,'location':'USA','note':'measured at the meter'}", 201,
     NULL},
    {"POST", "/v1/models/gold/base/activities",
     "{'kind':'other','obtained':'reported','co2e_kg':{'value':12.5,'low':10,'high':15}}", 201,
     NULL},
    {"POST", "/v1/models/gold/base/activities", "{'kind':'idle','obtained':'measured','co2e_kg':3}",
     201, NULL},
    {"PATCH", "/v1/models/gold/base",
     "{'inference':{'unit':'word','derived_from_training':{'ratio':0.5,"
     "'token_steps':128000000000},'location':'FRA'}}",
     200, NULL},

    /* A second root, registered from a card with a bare number of grams. */
    {"POST", "/v1/models", "{'id':'gold/card-root','co2_eq_emissions':123456}", 201, NULL},

    /* Fine-tunes, one from a card mapping in grams, one with a measured activity. */
    {"POST", "/v1/models",
     "{'id':'gold/ft-card','base_model':'gold/base','co2_eq_emissions':"
     "{'emissions':1710,'training_type':'fine-tuning','source':'card'}}",
     201, NULL},
    {"POST", "/v1/models", "{'id':'gold/ft-energy','parents':[{'id':'gold/base'}]}", 201, NULL},
    {"POST", "/v1/models/gold/ft-energy/activities",
     "{'kind':'fine_tuning','energy_kwh':7.571,'location':'FRA'}", 201, NULL},
    {"PATCH", "/v1/models/gold/ft-energy",
     "{'inference':{'unit':'token','energy_kwh_per_inference':0.0001,"
     "'carbon_intensity':{'value':400,'unit':'g/kWh'}}}",
     200, NULL},
    {"POST", "/v1/models", "{'id':'gold/unused','parents':[{'id':'gold/base'}]}", 201, NULL},

    /* An adapter, a quantization, and two merges. */
    {"POST", "/v1/models",
     "{'id':'gold/adapter','base_model':'gold/ft-card','base_model_relation':'adapter'}", 201,
     NULL},
    {"POST", "/v1/models/gold/adapter/activities", "{'kind':'fine_tuning','co2e_kg':0.75}", 201,
     NULL},
    {"PATCH", "/v1/models/gold/adapter",
     "{'inference':{'unit':'request','energy_kwh_per_inference':{'value':0.002,'low':0.001,"
     "'high':0.003},'location':'DEU'}}",
     200, NULL},
    {"POST", "/v1/models",
     "{'id':'gold/quant','parents':[{'id':'gold/ft-energy','relation':'quantized'}]}", 201, NULL},
    {"POST", "/v1/models",
     "{'id':'gold/merge-in','parents':[{'id':'gold/ft-card','relation':'merge'},"
     "{'id':'gold/ft-energy','relation':'merge'}]}",
     201, NULL},
    {"POST", "/v1/models",
     "{'id':'gold/merge-across','base_model':['gold/adapter','gold/card-root']}", 201, NULL},
    {"POST", "/v1/models/gold/merge-across/activities", "{'kind':'other','co2e_kg':2}", 201, NULL},
    {"POST", "/v1/models", "{'id':'gold/deep','parents':[{'id':'gold/merge-across'}]}", 201, NULL},
    {"POST", "/v1/models/gold/deep/activities",
     "{'kind':'fine_tuning','energy_kwh':40,'carbon_intensity':{'value':0.2,'unit':'kg/kWh'}}", 201,
     NULL},

    /* A family with no inference at all: usage falls back to equal. */
    {"POST", "/v1/models", "{'id':'gold/idle-root'}", 201, NULL},
    {"POST", "/v1/models/gold/idle-root/activities", "{'kind':'training','co2e_kg':90}", 201, NULL},
    {"POST", "/v1/models", "{'id':'gold/idle-ft','parents':[{'id':'gold/idle-root'}]}", 201, NULL},
    {"POST", "/v1/models/gold/idle-ft/activities", "{'kind':'fine_tuning','co2e_kg':9}", 201, NULL},

    /* Counts on fixed past days: deltas with keys (one replayed), counters (one
     * reset), and a batch report (replayed). */
    {"POST", "/v1/models/gold/base/inferences", "{'count':1000000,'date':'2026-01-01'}", 200,
     "gold-1"},
    {"POST", "/v1/models/gold/base/inferences", "{'count':1000000,'date':'2026-01-01'}", 200,
     "gold-1"},
    {"POST", "/v1/models/gold/ft-card/inferences", "{'count':250000,'date':'2026-01-02'}", 200,
     "gold-2"},
    {"POST", "/v1/models/gold/adapter/inferences", "{'count':7,'date':'2026-01-01'}", 200,
     "gold-3"},
    {"POST", "/v1/models/gold/adapter/inferences", "{'count':3,'date':'2026-01-03'}", 200,
     "gold-4"},
    {"PUT", "/v1/models/gold/ft-energy/inference-counters/hub-eu",
     "{'total':40000,'date':'2026-01-01'}", 200, NULL},
    {"PUT", "/v1/models/gold/ft-energy/inference-counters/hub-eu",
     "{'total':90000,'date':'2026-01-03'}", 200, NULL},
    {"PUT", "/v1/models/gold/ft-energy/inference-counters/hub-us",
     "{'total':5,'date':'2026-01-03'}", 200, NULL},
    {"PUT", "/v1/models/gold/merge-across/inference-counters/hub-eu",
     "{'total':300,'date':'2026-01-02'}", 200, NULL},
    {"PUT", "/v1/models/gold/merge-across/inference-counters/hub-eu",
     "{'total':20,'reset':true,'date':'2026-01-03'}", 200, NULL},
    {"PUT", "/v1/models/gold/deep/inference-counters/edge",
     "{'total':123456789,'date':'2026-01-02'}", 200, NULL},
    {"POST", "/v1/models/gold/quant/inferences", "{'count':1,'date':'2026-01-02'}", 200, "gold-5"},
    {"POST", "/v1/inference-reports",
     "{'reports':[{'model':'gold/quant','count':4,'date':'2026-01-03'},"
     "{'model':'gold/merge-in','count':12,'date':'2026-01-04'},"
     "{'model':'gold/base','count':500,'date':'2026-01-04'}]}",
     200, "gold-batch"},
    {"POST", "/v1/inference-reports",
     "{'reports':[{'model':'gold/quant','count':4,'date':'2026-01-03'},"
     "{'model':'gold/merge-in','count':12,'date':'2026-01-04'},"
     "{'model':'gold/base','count':500,'date':'2026-01-04'}]}",
     200, "gold-batch"},
};

/* ---- the transcript ---- */

/* What the reads answered, in order, as text. */
struct transcript {
    char *text;
    size_t len;
    size_t cap;
};

static void append(struct transcript *t, const char *bytes, size_t len)
{
    if (t->len + len + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->len + len + 1)
            cap *= 2;
        t->text = realloc(t->text, cap);
        ck_assert_ptr_nonnull(t->text);
        t->cap = cap;
    }
    memcpy(t->text + t->len, bytes, len);
    t->len += len;
    t->text[t->len] = '\0';
}

static void appendf(struct transcript *t, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void appendf(struct transcript *t, const char *format, ...)
{
    char line[2048];
    va_list ap;
    int n;

    va_start(ap, format);
    n = vsnprintf(line, sizeof line, format, ap);
    va_end(ap);
    ck_assert_msg(n >= 0 && (size_t)n < sizeof line, "transcript line too long");
    append(t, line, (size_t)n);
}

/* The body with the string value of every "created_at" and "updated_at" member (JSON,
 * compact or pretty) replaced by "*", the rest unchanged byte for byte. */
static void append_masked(struct transcript *t, const char *body, size_t len)
{
    static const char *const keys[] = {"\"created_at\":", "\"updated_at\":"};
    size_t i = 0;

    while (i < len) {
        size_t matched = 0;
        for (size_t k = 0; k < sizeof keys / sizeof keys[0] && !matched; k++)
            if (strncmp(body + i, keys[k], strlen(keys[k])) == 0)
                matched = strlen(keys[k]);
        if (!matched) {
            append(t, body + i, 1);
            i++;
            continue;
        }
        append(t, body + i, matched);
        i += matched;
        while (i < len && body[i] == ' ')
            append(t, body + i++, 1);
        if (i < len && body[i] == '"') {
            size_t end = i + 1;
            while (end < len && body[end] != '"')
                end++;
            ck_assert_msg(end < len, "unterminated time at byte %zu", i);
            append(t, "\"*\"", 3);
            i = end + 1;
        }
    }
}

/* One request and everything a client sees of its answer, appended to t unless t is
 * NULL. headers: NULL-terminated "Name: value" lines (may be NULL); a body is sent
 * as JSON. Its Link header is copied into link when not NULL. Returns the status. */
static long record(struct transcript *t, const char *method, const char *path,
                   const char *const *headers, const char *single_quoted, char *link,
                   size_t link_len)
{
    struct ct_response r;
    char *body = single_quoted ? ct_json(single_quoted) : NULL;
    const char *all[8] = {NULL};
    size_t n = 0;
    long status;

    if (body)
        all[n++] = "Content-Type: application/json";
    for (size_t i = 0; headers && headers[i]; i++) {
        ck_assert_uint_lt(n, sizeof all / sizeof all[0] - 1);
        all[n++] = headers[i];
    }
    ct_request(srv, method, path, all, body, body ? strlen(body) : 0, &r);
    free(body);
    ck_assert_msg(r.status != 0, "%s %s failed: %s", method, path, r.error);
    if (t) {
        appendf(t, "=== %s %s\n", method, path);
        for (size_t i = 0; headers && headers[i]; i++)
            appendf(t, "header: %s\n", headers[i]);
        if (single_quoted)
            appendf(t, "body: %s\n", single_quoted);
        appendf(t,
                "status: %ld\ncontent-type: %s\netag: %s\nlink: %s\nlocation: %s\nlength: "
                "%zu\n\n",
                r.status, r.content_type, r.etag, r.link, r.location, r.body_len);
        append_masked(t, r.body, r.body_len);
        append(t, "\n", 1);
    }
    if (link)
        snprintf(link, link_len, "%s", r.link);
    status = r.status;
    ct_response_cleanup(&r);
    return status;
}

/* Runs the seed, each step insisting on its status; with t, records every answer. */
static void seeded_into(struct transcript *t)
{
    for (size_t i = 0; i < sizeof seed / sizeof seed[0]; i++) {
        const struct seed_step *step = &seed[i];
        char key_header[128];
        const char *headers[] = {NULL, NULL};
        long status;

        if (step->key) {
            snprintf(key_header, sizeof key_header, "Idempotency-Key: %s", step->key);
            headers[0] = key_header;
        }
        status = record(t, step->method, step->path, headers, step->body, NULL, 0);
        ck_assert_msg(status == step->status, "seed step %zu (%s %s %s) answered %ld", i,
                      step->method, step->path, step->body, status);
    }
}

static void seeded(void)
{
    seeded_into(NULL);
}

static void get(struct transcript *t, const char *path)
{
    record(t, "GET", path, NULL, NULL, NULL, 0);
}

/* GET path again with If-None-Match of the ETag it answers now (a 304). */
static void revalidated(struct transcript *t, const char *path)
{
    struct ct_response r;
    char header[128];
    const char *headers[] = {header, NULL};

    ck_assert_int_eq(ct_get(srv, path, &r), 200);
    snprintf(header, sizeof header, "If-None-Match: %s", r.etag);
    ct_response_cleanup(&r);
    record(t, "GET", path, headers, NULL, NULL, 0);
}

/* ---- comparing with the golden file ---- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    size_t cap = 0, n = 0;

    if (f == NULL)
        return NULL;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            text = realloc(text, cap);
            ck_assert_ptr_nonnull(text);
        }
        size_t got = fread(text + n, 1, 4096, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    text[n] = '\0';
    *len = n;
    return text;
}

static void golden_path(const char *name, char *out, size_t out_len)
{
    const char *source = getenv("CARBONTREE_SOURCE_DIR");

    snprintf(out, out_len, "%s/tests/data/golden/%s", source && source[0] ? source : ".", name);
}

/* Where a and b first differ: line, column, and up to 60 bytes either side. */
static void first_difference(const char *a, size_t a_len, const char *b, size_t b_len, char *why,
                             size_t why_len)
{
    size_t i = 0, line = 1, start = 0, from;

    while (i < a_len && i < b_len && a[i] == b[i]) {
        if (a[i] == '\n') {
            line++;
            start = i + 1;
        }
        i++;
    }
    from = i - start > 60 ? i - 60 : start;
    snprintf(why, why_len,
             "first difference at line %zu, column %zu:\n  golden: ...%.*s\n  actual: ...%.*s",
             line, i - start + 1,
             (int)(strcspn(a + from, "\n") < 120 ? strcspn(a + from, "\n") : 120), a + from,
             (int)(strcspn(b + from, "\n") < 120 ? strcspn(b + from, "\n") : 120), b + from);
}

/* Compares the transcript with tests/data/golden/<name>, or writes it there when
 * CARBONTREE_GOLDEN_UPDATE=1. On a difference the actual transcript is left in
 * <name>.actual in the working directory, for diff. */
static void assert_golden(const char *name, struct transcript *t)
{
    const char *update = getenv("CARBONTREE_GOLDEN_UPDATE");
    char path[1024], why[4096];
    size_t len = 0;
    char *golden;

    golden_path(name, path, sizeof path);
    if (update && strcmp(update, "1") == 0) {
        FILE *f = fopen(path, "wb");
        ck_assert_msg(f != NULL, "cannot write %s: %s", path, strerror(errno));
        ck_assert_int_eq(fwrite(t->text, 1, t->len, f), t->len);
        ck_assert_int_eq(fclose(f), 0);
        free(t->text);
        return;
    }
    golden = read_file(path, &len);
    ck_assert_msg(golden != NULL, "cannot read %s: %s (CARBONTREE_GOLDEN_UPDATE=1 writes it)", path,
                  strerror(errno));
    if (len != t->len || memcmp(golden, t->text, len) != 0) {
        char actual[300];
        FILE *f;

        snprintf(actual, sizeof actual, "%s.actual", name);
        f = fopen(actual, "wb");
        if (f) {
            fwrite(t->text, 1, t->len, f);
            fclose(f);
        }
        first_difference(golden, len, t->text, t->len, why, sizeof why);
        ck_abort_msg("%s differs from the answers (%zu bytes golden, %zu actual; see %s): %s", path,
                     len, t->len, actual, why);
    }
    free(golden);
    free(t->text);
}

/* ---- the reads ---- */

START_TEST(footprints_match_the_golden_answers)
{
    struct transcript t = {0};
    char path[256];

    seeded();
    for (size_t m = 0; m < N_MEMBERS; m++)
        for (size_t p = 0; p < N_POLICIES; p++) {
            snprintf(path, sizeof path, "/v1/models/%s/footprint?policy=%s", members[m],
                     policies[p]);
            get(&t, path);
        }
    get(&t, "/v1/models/gold/merge-across/footprint");
    get(&t, "/v1/models/gold/merge-across/footprint?policy=usage&pretty=1");
    revalidated(&t, "/v1/models/gold/deep/footprint?policy=usage");
    assert_golden("footprints.txt", &t);
}
END_TEST

/* Every page of a family, from the first, following next_cursor as Link names it. */
static void family_pages(struct transcript *t, const char *root, const char *policy, bool csv)
{
    static const char *const accept_csv[] = {"Accept: text/csv", NULL};
    char path[512];
    long long cursor = 0;

    for (int page = 0; page < 20; page++) {
        char link[1024];
        const char *at;

        if (page == 0)
            snprintf(path, sizeof path, "/v1/models/%s/family?policy=%s&limit=%d", root, policy,
                     FAMILY_LIMIT);
        else
            snprintf(path, sizeof path, "/v1/models/%s/family?policy=%s&limit=%d&cursor=%lld", root,
                     policy, FAMILY_LIMIT, cursor);
        record(t, "GET", path, csv ? accept_csv : NULL, NULL, link, sizeof link);
        at = strstr(link, "cursor=");
        if (at == NULL)
            return;
        cursor = strtoll(at + strlen("cursor="), NULL, 10);
    }
    ck_abort_msg("the family of %s has more than 20 pages", root);
}

START_TEST(family_pages_match_the_golden_answers)
{
    struct transcript t = {0};

    seeded();
    for (size_t r = 0; r < N_ROOTS; r++)
        for (size_t p = 0; p < N_POLICIES; p++)
            family_pages(&t, roots[r], policies[p], false);
    get(&t, "/v1/models/gold/base/family");
    get(&t, "/v1/models/gold/card-root/family?policy=equal&pretty=1");
    revalidated(&t, "/v1/models/gold/base/family?policy=equal&limit=3&cursor=4");
    assert_golden("family_json.txt", &t);
}
END_TEST

START_TEST(family_csv_matches_the_golden_answers)
{
    struct transcript t = {0};

    seeded();
    for (size_t r = 0; r < N_ROOTS; r++)
        for (size_t p = 0; p < N_POLICIES; p++)
            family_pages(&t, roots[r], policies[p], true);
    assert_golden("family_csv.txt", &t);
}
END_TEST

START_TEST(ancestors_and_compare_match_the_golden_answers)
{
    struct transcript t = {0};

    seeded();
    get(&t, "/v1/models/gold/deep/ancestors");
    get(&t, "/v1/models/gold/merge-in/ancestors");
    get(&t, "/v1/models/gold/base/ancestors");
    record(&t, "POST", "/v1/compare", NULL,
           "{'a':{'model':'gold/ft-energy'},'b':{'model':'gold/adapter'},'policy':'usage'}", NULL,
           0);
    record(&t, "POST", "/v1/compare", NULL,
           "{'a':{'model':'gold/base'},'b':{'model':'gold/quant'},'policy':'equal',"
           "'volume':1000000}",
           NULL, 0);
    record(&t, "POST", "/v1/compare", NULL,
           "{'a':{'model':'gold/ft-energy'},'b':{'fixed_co2e_kg':5000,"
           "'co2e_g_per_inference':0.001},'policy':'none','volume':250000000}",
           NULL, 0);
    record(&t, "POST", "/v1/compare", NULL,
           "{'a':{'fixed_co2e_kg':{'value':100,'low':90,'high':120},'co2e_g_per_inference':2},"
           "'b':{'model':'gold/deep'},'volume':10}",
           NULL, 0);
    assert_golden("ancestors_compare.txt", &t);
}
END_TEST

START_TEST(models_and_lists_match_the_golden_answers)
{
    struct transcript t = {0};
    char path[256];

    seeded();
    for (size_t m = 0; m < N_MEMBERS; m++) {
        snprintf(path, sizeof path, "/v1/models/%s", members[m]);
        get(&t, path);
    }
    get(&t, "/v1/models/gold/merge-in?pretty=1");
    revalidated(&t, "/v1/models/gold/base");
    get(&t, "/v1/models");
    get(&t, "/v1/models?limit=5");
    get(&t, "/v1/models?limit=5&cursor=5");
    get(&t, "/v1/models?namespace=gold&limit=100");
    get(&t, "/v1/models?parent=gold/base");
    get(&t, "/v1/models/gold/base/activities");
    get(&t, "/v1/models/gold/base/activities?limit=3");
    get(&t, "/v1/models/gold/ft-card/activities");
    get(&t, "/v1/models/gold/card-root/activities");
    get(&t, "/v1/models/gold/deep/activities");
    assert_golden("models.txt", &t);
}
END_TEST

START_TEST(writes_and_series_match_the_golden_answers)
{
    struct transcript t = {0};
    char path[256];

    seeded_into(&t);
    for (size_t m = 0; m < N_MEMBERS; m++) {
        snprintf(path, sizeof path, "/v1/models/%s/inferences?from=2025-12-31&to=2026-01-05",
                 members[m]);
        get(&t, path);
    }
    assert_golden("writes_series.txt", &t);
}
END_TEST

static Suite *golden_suite(void)
{
    Suite *s = suite_create("http_golden");
    TCase *tc = tcase_create("golden");

    tcase_add_checked_fixture(tc, start_server, stop_servers);
    tcase_set_timeout(tc, TEST_TIMEOUT_S);
    tcase_add_test(tc, writes_and_series_match_the_golden_answers);
    tcase_add_test(tc, footprints_match_the_golden_answers);
    tcase_add_test(tc, family_pages_match_the_golden_answers);
    tcase_add_test(tc, family_csv_matches_the_golden_answers);
    tcase_add_test(tc, ancestors_and_compare_match_the_golden_answers);
    tcase_add_test(tc, models_and_lists_match_the_golden_answers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ct_main(golden_suite());
}
