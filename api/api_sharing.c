/* SPDX-License-Identifier: Apache-2.0 */
/* The sharing dividend and the overtake as answers write them; see sharing.h. */
#include "alloc.h"
#include "sharing.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define SECONDS_PER_DAY 86400

enum err api_dividend_fraction(const struct api_request *req, double *out,
                               struct api_problem *problem)
{
    const char *text = api_query_get(req, "counterfactual_fraction");
    char *end = NULL;
    double value;

    *out = CORE_DIVIDEND_FRACTION_DEFAULT;
    if (text == NULL)
        return ERR_OK;
    value = strtod(text, &end);
    if (end == text || *end != '\0' || !(value > 0) || !(value <= 1)) {
        api_field_error(problem, "counterfactual_fraction", "must be a number above 0, at most 1");
        return api_fail(problem, ERR_BAD_REQUEST,
                        "query parameter 'counterfactual_fraction' must be a number above 0, at "
                        "most 1 (the share of a root's pre-training a descendant would otherwise "
                        "have paid)");
    }
    *out = value;
    return ERR_OK;
}

enum err api_overtake_window(const struct api_request *req, int *out, struct api_problem *problem)
{
    int64_t days;
    enum err rc = api_query_int(req, "window_days", 1, CORE_OVERTAKE_WINDOW_DAYS_MAX,
                                CORE_OVERTAKE_WINDOW_DAYS_DEFAULT, &days, problem);

    if (rc == ERR_OK)
        *out = (int)days;
    return rc;
}

void api_dividend_write(struct text *t, const struct core_dividend *d, double fraction)
{
    TEXT_LIT(t, "{\"status\":");
    text_string(t, core_dividend_status_name(d->status));
    TEXT_LIT(t, ",\"avoided_co2e_kg\":");
    if (d->status == CORE_DIVIDEND_NO_DESCENDANTS)
        TEXT_LIT(t, "null");
    else
        text_range(t, d->avoided_kg);
    TEXT_LIT(t, ",\"emitted_co2e_kg\":");
    text_range(t, d->emitted_kg);
    TEXT_LIT(t, ",\"counterfactual_co2e_kg\":");
    text_range(t, d->counterfactual_kg);
    TEXT_LIT(t, ",\"multiple\":");
    if (d->has_multiple && d->status != CORE_DIVIDEND_NO_DESCENDANTS)
        text_range(t, d->multiple);
    else
        TEXT_LIT(t, "null");
    TEXT_LIT(t, ",\"descendants\":");
    text_int(t, (int64_t)d->n_descendants);
    TEXT_LIT(t, ",\"descendants_without_pretraining\":");
    text_int(t, (int64_t)d->n_unknown);
    TEXT_LIT(t, ",\"counterfactual_fraction\":");
    text_real(t, fraction);
    if (d->status == CORE_DIVIDEND_NO_DESCENDANTS)
        TEXT_LIT(t, ",\"reason\":\"no model builds on this one: sharing has avoided nothing yet\"");
    else if (d->status == CORE_DIVIDEND_NO_PRETRAINING)
        TEXT_LIT(t, ",\"reason\":\"a root some descendants build on has no training activity: "
                    "those descendants are left out of avoided_co2e_kg\"");
    TEXT_LIT(t, ",\"method\":");
    text_string(t, API_DIVIDEND_METHOD);
    TEXT_LIT(t, "}");
}

json_t *api_ledger_dividend_json(int64_t n_descendants, int64_t n_unknown,
                                 struct core_range avoided_kg, struct core_range emitted_kg)
{
    struct core_dividend d;
    const char *reason = NULL;
    json_t *o;

    /* The shares are summed as the writes keep them; the rest follows from the sums
     * as core_dividend_finish derives a family's. */
    core_dividend_start(&d, emitted_kg);
    d.n_descendants = n_descendants > 0 ? (size_t)n_descendants : 0;
    d.n_unknown = n_unknown > 0 ? (size_t)n_unknown : 0;
    d.avoided_kg = avoided_kg;
    d.counterfactual_kg = core_range_add(emitted_kg, avoided_kg);
    core_dividend_finish(&d);
    if (d.status == CORE_DIVIDEND_NO_DESCENDANTS)
        reason = "no model builds on another: sharing has avoided nothing yet";
    else if (d.status == CORE_DIVIDEND_NO_PRETRAINING)
        reason = "some descendants build on a root without a training activity: they are left "
                 "out of avoided_co2e_kg";
    o = json_pack(
        "{s:s, s:o, s:o, s:o, s:o, s:I, s:I, s:f, s:s}", "status",
        core_dividend_status_name(d.status), "avoided_co2e_kg",
        d.status == CORE_DIVIDEND_NO_DESCENDANTS ? json_null() : api_range_json(d.avoided_kg),
        "emitted_co2e_kg", api_range_json(d.emitted_kg), "counterfactual_co2e_kg",
        api_range_json(d.counterfactual_kg), "multiple",
        d.has_multiple && d.status != CORE_DIVIDEND_NO_DESCENDANTS ? api_range_json(d.multiple)
                                                                   : json_null(),
        "descendants", (json_int_t)d.n_descendants, "descendants_without_pretraining",
        (json_int_t)d.n_unknown, "counterfactual_fraction", CORE_DIVIDEND_FRACTION_DEFAULT,
        "method", API_LEDGER_DIVIDEND_METHOD);
    if (o && reason && json_object_set_new(o, "reason", json_string(reason)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

void api_dividend_share_write(struct text *t, const struct core_dividend_share *share)
{
    TEXT_LIT(t, "{\"status\":");
    text_string(t, core_dividend_status_name(share->status));
    TEXT_LIT(t, ",\"counterfactual_co2e_kg\":");
    if (share->status == CORE_DIVIDEND_OK)
        text_range(t, share->counterfactual_kg);
    else
        TEXT_LIT(t, "null");
    TEXT_LIT(t, ",\"avoided_co2e_kg\":");
    if (share->status == CORE_DIVIDEND_OK)
        text_range(t, share->avoided_kg);
    else
        TEXT_LIT(t, "null");
    TEXT_LIT(t, "}");
}

/* YYYY-MM-DD of a fractional day since 1970-01-01, or null. */
static void date_write(struct text *t, double day)
{
    time_t seconds;
    struct tm tm;
    char buf[16];

    if (!isfinite(day) || day < 0 || day > 2932896.0 /* 9999-12-31 */) {
        TEXT_LIT(t, "null");
        return;
    }
    seconds = (time_t)floor(day) * SECONDS_PER_DAY;
    if (gmtime_r(&seconds, &tm) == NULL || strftime(buf, sizeof buf, "%Y-%m-%d", &tm) != 10) {
        TEXT_LIT(t, "null");
        return;
    }
    text_string(t, buf);
}

/* A real, or null when it is not finite (a bound that never comes). */
static void real_or_null(struct text *t, double value)
{
    if (isfinite(value))
        text_real(t, value);
    else
        TEXT_LIT(t, "null");
}

static const char *overtake_reason(enum core_overtake_status status, bool is_family)
{
    switch (status) {
    case CORE_OVERTAKE_OVERTAKEN:
    case CORE_OVERTAKE_PROJECTED:
        return NULL;
    case CORE_OVERTAKE_NO_USAGE:
        return "no inference has been counted";
    case CORE_OVERTAKE_NO_RATE:
        return "no inference was counted in the window: there is no rate to project";
    case CORE_OVERTAKE_NO_TRAINING:
        return is_family ? "the family and the ancestors of its model have no training or "
                           "fine-tuning activity"
                         : "the model and its ancestors have no training or fine-tuning activity";
    }
    return NULL;
}

void api_overtake_write(struct text *t, const struct core_overtake *o, bool has_profile,
                        int window_days, bool is_family)
{
    const char *method = is_family ? API_FAMILY_OVERTAKE_METHOD : API_OVERTAKE_METHOD;
    const char *reason;

    TEXT_LIT(t, "{\"status\":");
    if (!has_profile) {
        if (is_family)
            TEXT_LIT(t, "\"no_profile\",\"reason\":\"no member's lineage has an inference "
                        "profile: the family's inferences have no CO2e\",\"method\":");
        else
            TEXT_LIT(t, "\"no_profile\",\"reason\":\"the model has no inference profile (PATCH "
                        "its \\\"inference\\\"): its inferences have no CO2e\",\"method\":");
        text_string(t, method);
        TEXT_LIT(t, "}");
        return;
    }
    text_string(t, core_overtake_status_name(o->status));
    reason = overtake_reason(o->status, is_family);
    if (reason) {
        TEXT_LIT(t, ",\"reason\":");
        text_string(t, reason);
    }
    TEXT_LIT(t, ",\"training_co2e_kg\":");
    text_range(t, o->training_kg);
    TEXT_LIT(t, ",\"inference_co2e_kg\":");
    text_range(t, o->inference_kg);
    TEXT_LIT(t, ",\"rate_co2e_kg_per_day\":");
    text_range(t, o->rate_kg_per_day);
    TEXT_LIT(t, ",\"window_days\":");
    text_int(t, window_days);
    TEXT_LIT(t, ",\"first_use_date\":");
    if (o->status == CORE_OVERTAKE_NO_USAGE)
        TEXT_LIT(t, "null");
    else
        date_write(t, (double)o->first_use_day);
    TEXT_LIT(t, ",\"date\":");
    if (o->has_day) {
        TEXT_LIT(t, "{\"value\":");
        date_write(t, o->day.value);
        TEXT_LIT(t, ",\"low\":");
        date_write(t, o->day.low);
        TEXT_LIT(t, ",\"high\":");
        date_write(t, o->day.high);
        TEXT_LIT(t, "},\"days_after_first_use\":{\"value\":");
        real_or_null(t, o->days_after_first_use.value);
        TEXT_LIT(t, ",\"low\":");
        real_or_null(t, o->days_after_first_use.low);
        TEXT_LIT(t, ",\"high\":");
        real_or_null(t, o->days_after_first_use.high);
        TEXT_LIT(t, "}");
    } else {
        TEXT_LIT(t, "null,\"days_after_first_use\":null");
    }
    TEXT_LIT(t, ",\"method\":");
    text_string(t, method);
    TEXT_LIT(t, "}");
}

/* Runs core_overtake on the series days[0..n) as of today (UTC). */
static enum err overtake_as_of_today(struct core_range training_kg,
                                     const struct core_usage_day *days, size_t n, int window_days,
                                     struct core_overtake *out)
{
    struct core_overtake_input in = {0};

    in.training_kg = training_kg;
    in.days = days;
    in.n_days = n;
    in.as_of_day = (int64_t)(time(NULL) / SECONDS_PER_DAY);
    /* A count dated later than today's clock (a reporter ahead of ours) still counts. */
    if (n > 0 && days[n - 1].day > in.as_of_day)
        in.as_of_day = days[n - 1].day;
    in.window_days = window_days;
    if (core_overtake(&in, out) != ERR_OK)
        return ERR_INTERNAL; /* the ledger's figures are validated when written */
    return ERR_OK;
}

enum err api_overtake_compute(struct db *db, int64_t model_key, struct core_range g_per_inference,
                              int window_days, struct core_overtake *out)
{
    struct core_range training_kg;
    struct db_usage_day *counts = NULL;
    struct core_usage_day *days = NULL;
    size_t n = 0;
    enum err rc;

    rc = db_lineage_training_kg(db, model_key, &training_kg);
    if (rc == ERR_OK)
        rc = db_usage_days(db, model_key, &counts, &n);
    if (rc != ERR_OK)
        return rc;
    days = core_calloc(n ? n : 1, sizeof *days);
    if (days == NULL) {
        free(counts);
        return ERR_NO_MEMORY;
    }
    for (size_t i = 0; i < n; i++)
        days[i] = core_usage_day_of(counts[i].day, counts[i].count, g_per_inference);
    rc = overtake_as_of_today(training_kg, days, n, window_days, out);
    free(days);
    free(counts);
    return rc;
}

static int usage_day_cmp(const void *a, const void *b)
{
    const struct core_usage_day *x = a, *y = b;

    return (x->day > y->day) - (x->day < y->day);
}

/* Prices each representative's counts at the CO2e of one of its inferences into
 * days (room for n), *n_days entries out; *has_profile when any has one. A member
 * without a profile in its lineage has inferences of no CO2e: left out. */
static enum err price_family_days(struct db *db, const struct db_family_usage_day *counts, size_t n,
                                  struct core_usage_day *days, size_t *n_days, bool *has_profile)
{
    size_t m = 0;
    enum err rc = ERR_OK;

    for (size_t i = 0; rc == ERR_OK && i < n;) {
        struct api_footprint fp;
        size_t end = i;
        while (end < n && counts[end].rep_key == counts[i].rep_key)
            end++;
        rc = api_footprint_load(db, counts[i].rep_key, NULL, CORE_POLICY_NONE, &fp);
        if (rc == ERR_NOT_FOUND) { /* counts filed before a representative was known */
            rc = ERR_OK;
            i = end;
            continue;
        }
        if (rc != ERR_OK)
            break;
        if (fp.fp.has_inference) {
            *has_profile = true;
            for (size_t k = i; k < end; k++)
                days[m++] =
                    core_usage_day_of(counts[k].day, counts[k].count, fp.fp.inference_g_each);
        }
        api_footprint_cleanup(&fp);
        i = end;
    }
    *n_days = m;
    return rc;
}

enum err api_family_overtake_compute(struct db *db, int64_t model_key, int window_days,
                                     bool *has_profile, struct core_overtake *out)
{
    struct core_range training_kg;
    struct db_family_usage_day *counts = NULL;
    struct core_usage_day *days = NULL;
    size_t n = 0, n_days = 0, merged = 0;
    enum err rc;

    rc = db_family_training_kg(db, model_key, &training_kg);
    if (rc == ERR_OK)
        rc = db_family_usage_days(db, model_key, &counts, &n);
    if (rc != ERR_OK)
        return rc;
    /* Without a count, the family has no usage, whatever its profiles. */
    *has_profile = n == 0;
    days = core_calloc(n ? n : 1, sizeof *days);
    if (days == NULL) {
        free(counts);
        return ERR_NO_MEMORY;
    }
    rc = price_family_days(db, counts, n, days, &n_days, has_profile);
    if (rc == ERR_OK) {
        /* One entry a day: the representatives' CO2e of that day summed. */
        qsort(days, n_days, sizeof *days, usage_day_cmp);
        for (size_t i = 0; i < n_days; i++) {
            if (merged > 0 && days[merged - 1].day == days[i].day)
                days[merged - 1].co2e_kg =
                    core_range_add(days[merged - 1].co2e_kg, days[i].co2e_kg);
            else
                days[merged++] = days[i];
        }
        rc = overtake_as_of_today(training_kg, days, merged, window_days, out);
    }
    free(days);
    free(counts);
    return rc;
}
