/* SPDX-License-Identifier: Apache-2.0 */
/* Inference profiles in storage: a profile stored by schema 4 as the service's JSON
 * text reads back after migration 5 as the very same figures, bit for bit; profiles
 * are set, replaced and cleared; a lineage carries its nearest profile. */
/* api_profile_json: how schema 4 stored a profile; the connection's handle, to
 * write as schema 4 did. */
#include "api_internal.h"
#include "db_internal.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_MODELS 60

static struct db *db;

static void setup(void)
{
    struct db_options options = {.path = ":memory:", .busy_timeout_ms = 5000, .create = true};
    char why[256];

    ck_assert_msg(db_open(&options, &db, why, sizeof why) == ERR_OK, "open: %s", why);
}

static void teardown(void)
{
    db_close(db);
    db = NULL;
}

static int64_t add(const char *id, const char *parent)
{
    struct core_model m;
    size_t bad = 0;

    memset(&m, 0, sizeof m);
    ck_assert_int_eq(core_model_id_parse(id, &m.id), ERR_OK);
    if (parent) {
        ck_assert_int_eq(core_model_id_parse(parent, &m.parents[0].id), ERR_OK);
        m.parents[0].relation = CORE_RELATION_FINETUNE;
        m.n_parents = 1;
    }
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_model_insert(db, &m, &bad), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
    return m.key;
}

/* A double with all 17 significant digits in use, between lo and hi. */
static double awkward(double lo, double hi)
{
    double u = ((double)rand() + 0.5) / ((double)RAND_MAX + 1.0);

    return lo + (hi - lo) * u * (1.0 + 1e-9 * (double)rand() / (double)RAND_MAX);
}

static struct core_range awkward_range(double lo, double hi)
{
    double a = awkward(lo, hi), b = awkward(lo, hi), c = awkward(lo, hi);
    double low = a < b ? (a < c ? a : c) : (b < c ? b : c);
    double high = a > b ? (a > c ? a : c) : (b > c ? b : c);
    double value = a + b + c - low - high;

    if (!(low <= value && value <= high))
        value = low;
    return core_range_make(low, value, high);
}

/* Profile i of every kind the service stores: measured and derived, ratio and
 * training energy given or not, explicit, default and table intensities (a table
 * with a year and one without). */
static struct core_inference_profile profile_of(int i)
{
    struct core_inference_profile p;

    memset(&p, 0, sizeof p);
    snprintf(p.unit, sizeof p.unit, "%s", i % 3 == 0 ? "request" : i % 3 == 1 ? "token" : "word");
    if (i % 2 == 0) {
        p.source = CORE_INFERENCE_MEASURED;
        p.kwh_per_inference = awkward_range(1e-9, 1.0);
    } else {
        p.source = CORE_INFERENCE_DERIVED;
        p.token_steps = awkward_range(1e6, 1e13);
        p.has_ratio = i % 4 == 1;
        if (p.has_ratio)
            p.ratio = awkward_range(0.1, 0.9);
        p.has_training_kwh = i % 5 < 2;
        if (p.has_training_kwh)
            p.training_kwh = awkward_range(1.0, 1e7);
    }
    switch (i % 4) {
    case 0:
        p.intensity = core_intensity_default();
        break;
    case 1:
        p.intensity.source = CORE_INTENSITY_EXPLICIT;
        p.intensity.kg_per_kwh = awkward_range(0.0, 1.5);
        break;
    default:
        p.intensity.source = CORE_INTENSITY_TABLE;
        p.intensity.kg_per_kwh = core_range_exact(awkward(0.0, 1.0));
        snprintf(p.intensity.location, sizeof p.intensity.location, "%s",
                 i % 4 == 2 ? "FRA" : "gcp:europe-west1");
        snprintf(p.intensity.table, sizeof p.intensity.table, "%s",
                 i % 4 == 2 ? "codecarbon/global_energy_mix.json"
                            : "google-cloud-region-carbon/2024.csv");
        p.intensity.row = (unsigned long)(10 + i);
        p.intensity.year = i % 8 == 2 ? 0 : 2023;
        break;
    }
    return p;
}

static void assert_same_range(struct core_range got, struct core_range expected, const char *what,
                              int i)
{
    ck_assert_msg(memcmp(&got, &expected, sizeof got) == 0,
                  "profile %d, %s: got %.17g [%.17g, %.17g], stored %.17g [%.17g, %.17g]", i, what,
                  got.value, got.low, got.high, expected.value, expected.low, expected.high);
}

static void assert_same_profile(const struct core_inference_profile *got,
                                const struct core_inference_profile *expected, int i)
{
    ck_assert_str_eq(got->unit, expected->unit);
    ck_assert_int_eq(got->source, expected->source);
    assert_same_range(got->kwh_per_inference, expected->kwh_per_inference, "kWh", i);
    ck_assert_int_eq(got->has_ratio, expected->has_ratio);
    assert_same_range(got->ratio, expected->ratio, "ratio", i);
    assert_same_range(got->token_steps, expected->token_steps, "token steps", i);
    ck_assert_int_eq(got->has_training_kwh, expected->has_training_kwh);
    assert_same_range(got->training_kwh, expected->training_kwh, "training", i);
    assert_same_range(got->intensity.kg_per_kwh, expected->intensity.kg_per_kwh, "intensity", i);
    ck_assert_int_eq(got->intensity.source, expected->intensity.source);
    ck_assert_str_eq(got->intensity.location, expected->intensity.location);
    ck_assert_str_eq(got->intensity.table, expected->intensity.table);
    ck_assert_uint_eq(got->intensity.row, expected->intensity.row);
    ck_assert_int_eq(got->intensity.year, expected->intensity.year);
}

/* What schema 4 held: the profile's answer JSON, written as the PATCH wrote it. */
static void store_as_json(int64_t key, const struct core_inference_profile *p)
{
    json_t *o = api_profile_json(p);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    sqlite3_stmt *stmt = NULL;

    ck_assert_ptr_nonnull(text);
    ck_assert_int_eq(sqlite3_prepare_v2(db->handle,
                                        "UPDATE model_ledger SET profile = ?2 WHERE model_id = ?1",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(stmt, 1, key);
    sqlite3_bind_text(stmt, 2, text, -1, SQLITE_TRANSIENT);
    ck_assert_int_eq(sqlite3_step(stmt), SQLITE_DONE);
    ck_assert_int_eq(sqlite3_changes(db->handle), 1);
    sqlite3_finalize(stmt);
    free(text);
    json_decref(o);
}

START_TEST(profiles_stored_as_json_read_back_the_same_after_migration_5)
{
    static struct core_inference_profile stored[N_MODELS];
    int64_t keys[N_MODELS];
    struct core_lineage lineage;
    int from = 0, to = 0;

    srand(20261203u);
    ck_assert_int_eq(db_migrate_to(db, 4, &from, &to), ERR_OK);
    ck_assert_int_eq(to, 4);
    for (int i = 0; i < N_MODELS; i++) {
        char id[32], parent[32];
        snprintf(id, sizeof id, "up/m%d", i);
        snprintf(parent, sizeof parent, "up/m%d", i - 1);
        keys[i] = add(id, i > 0 ? parent : NULL);
        stored[i] = profile_of(i);
        if (i % 7 != 6) /* some models have no profile of their own */
            store_as_json(keys[i], &stored[i]);
    }
    ck_assert_int_eq(db_migrate(db, &from, &to), ERR_OK);
    ck_assert_int_eq(from, 4);
    ck_assert_int_eq(to, db_schema_latest());
    for (int i = 0; i < N_MODELS; i++) {
        struct core_inference_profile got;
        bool has_profile = false;
        ck_assert_int_eq(db_profile_get(db, keys[i], &got, &has_profile), ERR_OK);
        ck_assert_int_eq(has_profile, i % 7 != 6);
        if (has_profile)
            assert_same_profile(&got, &stored[i], i);
    }
    /* m6 has none of its own: its lineage carries its parent's, the nearest. */
    ck_assert_int_eq(db_lineage_load(db, keys[6], &lineage), ERR_OK);
    ck_assert_uint_eq(lineage.n_members, 7);
    ck_assert(lineage.has_profile);
    ck_assert_uint_eq(lineage.profile_member, 5);
    ck_assert(!lineage.members[6].has_profile && lineage.members[5].has_profile);
    assert_same_profile(&lineage.profile, &stored[5], 5);
    core_lineage_cleanup(&lineage);
}
END_TEST

START_TEST(profiles_are_set_replaced_and_cleared)
{
    struct core_inference_profile p = profile_of(3), q = profile_of(2), got;
    bool has_profile = true;
    int64_t key;

    ck_assert_int_eq(db_migrate(db, NULL, NULL), ERR_OK);
    key = add("set/base", NULL);
    ck_assert_int_eq(db_profile_get(db, key, &got, &has_profile), ERR_OK);
    ck_assert(!has_profile);
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_profile_set(db, key, &p), ERR_OK);
    ck_assert_int_eq(db_profile_set(db, key + 1000, &p), ERR_NOT_FOUND);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
    ck_assert_int_eq(db_profile_get(db, key, &got, &has_profile), ERR_OK);
    ck_assert(has_profile);
    assert_same_profile(&got, &p, 3);
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_profile_set(db, key, &q), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
    ck_assert_int_eq(db_profile_get(db, key, &got, &has_profile), ERR_OK);
    assert_same_profile(&got, &q, 2);
    ck_assert_int_eq(db_write_begin(db), ERR_OK);
    ck_assert_int_eq(db_profile_set(db, key, NULL), ERR_OK);
    ck_assert_int_eq(db_write_commit(db), ERR_OK);
    ck_assert_int_eq(db_profile_get(db, key, &got, &has_profile), ERR_OK);
    ck_assert(!has_profile);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("db_profiles");
    TCase *tc = tcase_create("profiles");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, profiles_stored_as_json_read_back_the_same_after_migration_5);
    tcase_add_test(tc, profiles_are_set_replaced_and_cleared);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
