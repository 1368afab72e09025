/* SPDX-License-Identifier: Apache-2.0 */
/* GET /v1/totals and GET /v1/families: the ledger's sums and its families, read
 * from the aggregates the writes maintain, so each answer reads a handful of rows
 * whatever the ledger's size. Families come as JSON or CSV. */
#include "api_internal.h"
#include "sharing.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAMILIES_PAGE_DEFAULT 100
#define FAMILIES_PAGE_MAX     1000

static struct core_range range_sum(const struct db_kind_sums *k)
{
    struct core_range r;

    r.value = k->training_kg.value + k->fine_tuning_kg.value + k->other_kg.value;
    r.low = k->training_kg.low + k->fine_tuning_kg.low + k->other_kg.low;
    r.high = k->training_kg.high + k->fine_tuning_kg.high + k->other_kg.high;
    return r;
}

/* The kinds' members of an answer object, and their sum. */
static void set_kinds(json_t **o, const struct db_kind_sums *k)
{
    api_json_set(o, "training_co2e_kg", api_range_json(k->training_kg));
    api_json_set(o, "fine_tuning_co2e_kg", api_range_json(k->fine_tuning_kg));
    api_json_set(o, "other_co2e_kg", api_range_json(k->other_kg));
    api_json_set(o, "own_co2e_kg", api_range_json(range_sum(k)));
}

static enum err check_namespace(const char *ns, struct api_reply *reply)
{
    if (ns && !core_model_part_is_valid(ns, strlen(ns))) {
        api_field_error(&reply->problem, "namespace", "not a valid namespace");
        return api_fail(&reply->problem, ERR_BAD_REQUEST,
                        "query parameter 'namespace' is not a valid namespace");
    }
    return ERR_OK;
}

enum err api_totals_get(struct api_service *s, const struct api_request *req,
                        struct api_reply *reply)
{
    static const char *const allowed[] = {"namespace", NULL};
    const char *ns = api_query_get(req, "namespace");
    struct db_totals totals;
    json_t *body;
    enum err rc;

    (void)s;
    rc = api_check_query(req, allowed, &reply->problem);
    if (rc == ERR_OK)
        rc = check_namespace(ns, reply);
    if (rc == ERR_OK)
        rc = db_totals_get(req->db, ns, &totals);
    if (rc != ERR_OK)
        return rc;
    body = json_pack("{s:s?, s:I, s:I}", "namespace", ns, "models", (json_int_t)totals.models,
                     "families", (json_int_t)totals.families);
    set_kinds(&body, &totals.co2e);
    api_json_set(&body, "inferences", json_integer((json_int_t)totals.inferences));
    api_json_set(&body, "inference_co2e_kg", api_range_json(totals.inference_co2e_kg));
    /* A descendant is a model with parents: every model that heads no family. */
    api_json_set(&body, "sharing_dividend",
                 api_ledger_dividend_json(totals.models - totals.families,
                                          totals.descendants_without_pretraining, totals.avoided_kg,
                                          range_sum(&totals.co2e)));
    return api_reply_json(reply, 200, body);
}

static const struct {
    const char *name;
    enum db_family_order order;
} family_sorts[] = {
    {"-own_co2e_kg", DB_FAMILY_BY_CO2E},
    {"-inferences", DB_FAMILY_BY_INFERENCES},
    {"-size", DB_FAMILY_BY_SIZE},
};

static enum err family_sort(const struct api_request *req, enum db_family_order *order,
                            struct api_reply *reply)
{
    const char *sort = api_query_get(req, "sort");

    *order = DB_FAMILY_BY_KEY;
    if (sort == NULL)
        return ERR_OK;
    for (size_t i = 0; i < sizeof family_sorts / sizeof family_sorts[0]; i++) {
        if (strcmp(sort, family_sorts[i].name) == 0) {
            *order = family_sorts[i].order;
            return ERR_OK;
        }
    }
    api_field_error(&reply->problem, "sort", "one of -own_co2e_kg, -inferences, -size");
    return api_fail(&reply->problem, ERR_BAD_REQUEST,
                    "query parameter 'sort' is not one of -own_co2e_kg, -inferences, -size");
}

static void csv_range(struct api_csv *csv, struct core_range r)
{
    api_csv_number(csv, r.value);
    api_csv_number(csv, r.low);
    api_csv_number(csv, r.high);
}

/* The CSV form of a family page (RFC 4180, CRLF): one row per family, each range
 * as its central value with low and high beside it. */
static enum err families_csv(const struct db_family_row *items, size_t n, struct api_reply *reply)
{
    struct api_csv csv = {0};

    api_csv_header(&csv, "id,size,inferences,training_co2e_kg,training_co2e_kg_low,"
                         "training_co2e_kg_high,fine_tuning_co2e_kg,fine_tuning_co2e_kg_low,"
                         "fine_tuning_co2e_kg_high,other_co2e_kg,other_co2e_kg_low,"
                         "other_co2e_kg_high,own_co2e_kg,own_co2e_kg_low,own_co2e_kg_high");
    for (size_t i = 0; i < n; i++) {
        char id[200];
        snprintf(id, sizeof id, "%s", CORE_MODEL_ID_TEXT(&items[i].id));
        api_csv_field(&csv, id);
        api_csv_integer(&csv, items[i].size);
        api_csv_integer(&csv, items[i].inferences);
        csv_range(&csv, items[i].co2e.training_kg);
        csv_range(&csv, items[i].co2e.fine_tuning_kg);
        csv_range(&csv, items[i].co2e.other_kg);
        csv_range(&csv, range_sum(&items[i].co2e));
        api_csv_row_end(&csv);
    }
    return api_csv_reply(&csv, reply);
}

static json_t *family_json(const struct db_family_row *f)
{
    char id[200];
    json_t *o;

    snprintf(id, sizeof id, "%s", CORE_MODEL_ID_TEXT(&f->id));
    o = json_pack("{s:s, s:I, s:I}", "id", id, "size", (json_int_t)f->size, "inferences",
                  (json_int_t)f->inferences);
    set_kinds(&o, &f->co2e);
    return o;
}

enum err api_families_list(struct api_service *s, const struct api_request *req,
                           struct api_reply *reply)
{
    static const char *const allowed[] = {"limit", "cursor", "sort", "format", NULL};
    struct db_family_row *items = NULL;
    enum db_family_order order = DB_FAMILY_BY_KEY;
    const char *sort = api_query_get(req, "sort");
    int64_t limit = 0, cursor = 0;
    size_t n = 0;
    bool has_more = false;
    json_t *array = NULL;
    char next[32];
    enum err rc;

    (void)s;
    rc = api_check_query(req, allowed, &reply->problem);
    if (rc == ERR_OK)
        rc = api_query_int(req, "limit", 1, FAMILIES_PAGE_MAX, FAMILIES_PAGE_DEFAULT, &limit,
                           &reply->problem);
    if (rc == ERR_OK)
        rc = api_query_int(req, "cursor", 0, INT64_MAX, 0, &cursor, &reply->problem);
    if (rc == ERR_OK)
        rc = family_sort(req, &order, reply);
    if (rc == ERR_OK)
        rc = api_csv_format_check(req, &reply->problem);
    if (rc != ERR_OK)
        return rc;
    items = core_calloc((size_t)limit, sizeof *items);
    if (items == NULL)
        return ERR_NO_MEMORY;
    rc = db_read_begin(req->db);
    if (rc == ERR_OK) {
        rc = db_family_list(req->db, order, cursor, (size_t)limit, items, &n, &has_more);
        db_read_end(req->db);
    }
    if (rc == ERR_NOT_FOUND) {
        api_field_error(&reply->problem, "cursor", "not a family's root");
        rc = api_fail(&reply->problem, ERR_BAD_REQUEST,
                      "query parameter 'cursor' names no family's root");
    }
    if (rc != ERR_OK)
        goto out;
    snprintf(next, sizeof next, "%lld", n > 0 ? (long long)items[n - 1].key : 0LL);
    if (has_more && n > 0) {
        char link[192];
        snprintf(link, sizeof link, "</v1/families?limit=%lld&cursor=%s%s%s%s>; rel=\"next\"",
                 (long long)limit, next, sort ? "&sort=" : "", sort ? sort : "",
                 api_csv_format_param(req));
        api_reply_header(reply, "Link", link);
    }
    if (api_csv_wanted_vary(req, reply)) {
        api_csv_attachment(reply, NULL, "families");
        rc = families_csv(items, n, reply);
        goto out;
    }
    array = json_array();
    for (size_t i = 0; array && i < n; i++)
        api_json_append(&array, family_json(&items[i]));
    if (array == NULL)
        rc = ERR_NO_MEMORY;
    else if (has_more && n > 0)
        rc = api_reply_json(reply, 200,
                            json_pack("{s:o, s:s}", "items", array, "next_cursor", next));
    else
        rc = api_reply_json(reply, 200, json_pack("{s:o, s:n}", "items", array, "next_cursor"));
out:
    free(items);
    return rc;
}
