/* SPDX-License-Identifier: Apache-2.0 */
/* GET …/family: the DAG below a model, a page at a time, each member with its
 * amortized footprint, as JSON or CSV. O(page x ancestors) rows whatever the
 * family size. */
#include "api_internal.h"
#include "json_text.h"
#include "sharing.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAMILY_PAGE_DEFAULT 100
#define FAMILY_PAGE_MAX     1000

/* A range's value, low and high as three fields; three empty ones when it is not
 * a range (null: the figure does not apply). */
static void csv_range(struct api_csv *csv, const json_t *range)
{
    static const char *const parts[] = {"value", "low", "high"};

    for (size_t i = 0; i < 3; i++) {
        if (json_is_object(range))
            api_csv_number(csv, json_number_value(json_object_get(range, parts[i])));
        else
            api_csv_field(csv, NULL);
    }
}

/* The part of its own emissions a member keeps: its own allocation (the one whose
 * source is itself). Every other part of them is in its descendants' inherited
 * figures, so kept plus inherited over a whole family is the family's total. */
static const json_t *kept_range(const json_t *item, const json_t *fp)
{
    const char *id = json_string_value(json_object_get(item, "id"));
    size_t i;
    json_t *a;

    json_array_foreach(json_object_get(fp, "allocations"), i, a)
    {
        const char *source = json_string_value(json_object_get(a, "source"));
        if (id && source && strcmp(id, source) == 0)
            return json_object_get(a, "co2e_kg");
    }
    return NULL;
}

/* The CSV form of a family page (RFC 4180, CRLF): one row per model, read back
 * from the page's JSON text (15 significant digits either way), each figure with
 * its low and high bounds beside it. */
static enum err family_csv(const struct text *t, struct api_reply *reply)
{
    struct api_csv csv = {0};
    json_t *page = t->buf.failed ? NULL : json_loadb(t->buf.data, t->buf.len, 0, NULL);
    const json_t *items = json_object_get(page, "items");
    size_t i;
    json_t *item;
    enum err rc;

    if (page == NULL)
        return ERR_NO_MEMORY;

    api_csv_header(&csv, "id,parents,depth,inferences,own_co2e_kg,own_co2e_kg_low,own_co2e_kg_high,"
                         "kept_co2e_kg,kept_co2e_kg_low,kept_co2e_kg_high,inherited_co2e_kg,"
                         "inherited_co2e_kg_low,inherited_co2e_kg_high,inference_co2e_kg,"
                         "inference_co2e_kg_low,inference_co2e_kg_high,total_co2e_kg,"
                         "total_co2e_kg_low,total_co2e_kg_high,co2e_g_per_inference,"
                         "co2e_g_per_inference_low,co2e_g_per_inference_high,avoided_co2e_kg,"
                         "avoided_co2e_kg_low,avoided_co2e_kg_high");
    json_array_foreach((json_t *)(uintptr_t)items, i, item)
    {
        struct api_csv parents = {0};
        const json_t *fp = json_object_get(item, "footprint");
        size_t j;
        json_t *p;

        json_array_foreach(json_object_get(item, "parents"), j, p)
        {
            const char *parent = json_string_value(json_object_get(p, "id"));
            const char *relation = json_string_value(json_object_get(p, "relation"));
            if (j)
                api_csv_raw(&parents, ";", 1);
            api_csv_raw(&parents, parent, strlen(parent));
            api_csv_raw(&parents, ":", 1);
            api_csv_raw(&parents, relation, strlen(relation));
        }
        api_csv_field(&csv, json_string_value(json_object_get(item, "id")));
        api_csv_field(&csv, parents.buf.failed ? NULL : parents.buf.data);
        csv.buf.failed = csv.buf.failed || parents.buf.failed;
        api_csv_cleanup(&parents);
        api_csv_integer(&csv, (int64_t)json_integer_value(json_object_get(item, "depth")));
        api_csv_integer(&csv, (int64_t)json_integer_value(json_object_get(fp, "inferences")));
        csv_range(&csv, json_object_get(fp, "own_co2e_kg"));
        csv_range(&csv, kept_range(item, fp));
        csv_range(&csv, json_object_get(fp, "inherited_co2e_kg"));
        csv_range(&csv, json_object_get(fp, "inference_co2e_kg"));
        csv_range(&csv, json_object_get(fp, "total_co2e_kg"));
        csv_range(&csv, json_object_get(fp, "co2e_g_per_inference"));
        csv_range(&csv, json_object_get(json_object_get(item, "sharing"), "avoided_co2e_kg"));
        api_csv_row_end(&csv);
    }
    rc = api_csv_reply(&csv, reply);
    json_decref(page);
    return rc;
}

/* The root of a family page, named by the path: its stored id and |D(root)|, the
 * root itself included, from its own lineage row. */
static enum err family_root(struct db *db, const struct api_request *req, struct core_model *root,
                            int64_t *size, struct api_problem *problem)
{
    struct core_lineage lineage;
    enum err rc = api_path_id(req, &root->id, problem);

    if (rc != ERR_OK)
        return rc; /* a malformed id: the problem says so, and root->id is not set */
    rc = db_lineage_load_id(db, &root->id, &lineage);
    if (rc == ERR_NOT_FOUND)
        rc = api_fail(problem, rc, "model '%s' is not registered", CORE_MODEL_ID_TEXT(&root->id));
    for (size_t i = 0; rc == ERR_OK && i < lineage.n_members; i++) {
        const struct core_lineage_member *m = &lineage.members[i];
        if (m->is_self) {
            root->key = m->key;
            root->id = m->id;
            *size = m->descendants;
        }
    }
    core_lineage_cleanup(&lineage);
    return rc;
}

enum err api_family_get(struct api_service *s, const struct api_request *req,
                        struct api_reply *reply)
{
    static const char *const allowed[] = {"policy", "limit", "cursor", "counterfactual_fraction",
                                          "format", NULL};
    struct core_model *root = NULL, *member = NULL;
    struct db_sharing *sharing = NULL;
    struct core_dividend dividend;
    struct core_dividend_share *shares = NULL;
    bool *has_share = NULL;
    double fraction = CORE_DIVIDEND_FRACTION_DEFAULT;
    struct db *db = req->db;
    int64_t *keys = NULL, limit = 0, cursor = 0, size = 0;
    enum core_policy policy;
    size_t n = 0;
    bool has_more = false;
    struct text t = {0};
    enum err rc;

    (void)s; /* the request carries the connection */

    rc = api_check_query(req, allowed, &reply->problem);
    if (rc == ERR_OK)
        rc = api_csv_format_check(req, &reply->problem);
    if (rc == ERR_OK)
        rc = api_policy_from_query(req, &policy, &reply->problem);
    if (rc == ERR_OK)
        rc = api_query_int(req, "limit", 1, FAMILY_PAGE_MAX, FAMILY_PAGE_DEFAULT, &limit,
                           &reply->problem);
    if (rc == ERR_OK)
        rc = api_query_int(req, "cursor", 0, INT64_MAX, 0, &cursor, &reply->problem);
    if (rc == ERR_OK)
        rc = api_dividend_fraction(req, &fraction, &reply->problem);
    if (rc != ERR_OK)
        return rc;
    root = core_malloc(sizeof *root);
    member = core_malloc(sizeof *member);
    sharing = core_malloc(sizeof *sharing);
    keys = core_calloc((size_t)limit, sizeof *keys);
    shares = core_calloc((size_t)limit, sizeof *shares);
    has_share = core_calloc((size_t)limit, sizeof *has_share);
    if (sharing)
        db_sharing_init(sharing);
    if (!root || !member || !sharing || !keys || !shares || !has_share) {
        rc = ERR_NO_MEMORY;
        goto out;
    }
    rc = db_read_begin(db);
    if (rc != ERR_OK)
        goto out;
    rc = family_root(db, req, root, &size, &reply->problem);
    if (rc == ERR_OK)
        rc = db_family_page(db, root->key, cursor, (size_t)limit, keys, &n, &has_more);
    /* The whole family below the root, whatever the page: O(family x ancestors); the
     * page's members get their shares on the way. */
    if (rc == ERR_OK) {
        sharing->page_keys = keys;
        sharing->n_page = n;
        sharing->page_shares = shares;
        sharing->page_has_share = has_share;
        rc = db_sharing_family(db, sharing, root->key, fraction, &dividend);
    }
    if (rc == ERR_OK) {
        TEXT_LIT(&t, "{\"model\":");
        api_text_id(&t, &root->id);
        TEXT_LIT(&t, ",\"policy\":");
        text_string(&t, core_policy_name(policy));
        TEXT_LIT(&t, ",\"family_size\":");
        text_int(&t, size);
        TEXT_LIT(&t, ",\"sharing_dividend\":");
        api_dividend_write(&t, &dividend, fraction);
        TEXT_LIT(&t, ",\"items\":[");
    }
    /* O(page x ancestors): each member's footprint reads its own lineage only. */
    for (size_t i = 0; rc == ERR_OK && i < n; i++) {
        struct api_footprint footprint;
        /* The lineage's own row has the member's id and depth: only its parents
         * are read besides. */
        member->key = keys[i];
        rc = db_model_parents(db, member);
        if (rc == ERR_OK)
            rc = api_footprint_load(db, keys[i], NULL, policy, &footprint);
        if (rc != ERR_OK)
            break;
        if (i > 0)
            TEXT_LIT(&t, ",");
        TEXT_LIT(&t, "{\"id\":");
        api_text_id(&t, &footprint.fp.self->id);
        TEXT_LIT(&t, ",\"parents\":[");
        for (size_t p = 0; p < member->n_parents; p++) {
            if (p > 0)
                TEXT_LIT(&t, ",");
            TEXT_LIT(&t, "{\"id\":");
            api_text_id(&t, &member->parents[p].id);
            TEXT_LIT(&t, ",\"relation\":");
            text_string(&t, core_relation_name(member->parents[p].relation));
            TEXT_LIT(&t, "}");
        }
        TEXT_LIT(&t, "],\"depth\":");
        text_int(&t, footprint.fp.self->depth);
        TEXT_LIT(&t, ",\"sharing\":");
        if (has_share[i])
            api_dividend_share_write(&t, &shares[i]);
        else
            TEXT_LIT(&t, "null"); /* the model the page is read below */
        TEXT_LIT(&t, ",\"footprint\":");
        api_footprint_write(&t, &footprint);
        TEXT_LIT(&t, "}");
        api_footprint_cleanup(&footprint);
    }
    db_read_end(db);
    if (rc != ERR_OK)
        goto out;
    TEXT_LIT(&t, "],\"next_cursor\":");
    if (has_more) {
        TEXT_LIT(&t, "\"");
        text_int(&t, n ? keys[n - 1] : 0);
        TEXT_LIT(&t, "\"");
    } else {
        TEXT_LIT(&t, "null");
    }
    TEXT_LIT(&t, "}");
    if (has_more && n > 0) {
        char link[768], enc[300], fraction_param[340] = "";
        const char *fraction_text = api_query_get(req, "counterfactual_fraction");
        api_url_encode(api_query_get(req, "policy") ? api_query_get(req, "policy") : "usage", enc,
                       sizeof enc);
        if (fraction_text) {
            char fraction_enc[300];
            api_url_encode(fraction_text, fraction_enc, sizeof fraction_enc);
            snprintf(fraction_param, sizeof fraction_param, "&counterfactual_fraction=%s",
                     fraction_enc);
        }
        snprintf(link, sizeof link, "<%s?policy=%s&limit=%lld&cursor=%lld%s%s>; rel=\"next\"",
                 req->path, enc, (long long)limit, (long long)keys[n - 1], fraction_param,
                 api_csv_format_param(req));
        api_reply_header(reply, "Link", link);
    }
    if (api_csv_wanted_vary(req, reply)) {
        api_csv_attachment(reply, &root->id, "family");
        rc = family_csv(&t, reply);
    } else
        rc = text_reply(&t, req, reply);
out:
    free(t.buf.data);
    free(keys);
    free(shares);
    free(has_share);
    free(root);
    free(member);
    if (sharing)
        db_sharing_cleanup(sharing);
    free(sharing);
    return rc;
}
