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

/* The header line of a family's CSV. */
static const char family_csv_header[] =
    "id,parents,depth,inferences,own_co2e_kg,own_co2e_kg_low,own_co2e_kg_high,"
    "kept_co2e_kg,kept_co2e_kg_low,kept_co2e_kg_high,inherited_co2e_kg,"
    "inherited_co2e_kg_low,inherited_co2e_kg_high,inference_co2e_kg,"
    "inference_co2e_kg_low,inference_co2e_kg_high,total_co2e_kg,"
    "total_co2e_kg_low,total_co2e_kg_high,co2e_g_per_inference,"
    "co2e_g_per_inference_low,co2e_g_per_inference_high,avoided_co2e_kg,"
    "avoided_co2e_kg_low,avoided_co2e_kg_high";

/* The CSV rows of a family page (RFC 4180, CRLF): one row per model, read back
 * from the page's JSON text (15 significant digits either way), each figure with
 * its low and high bounds beside it. */
static enum err family_csv_rows(const struct text *t, struct api_csv *csv)
{
    json_t *page = t->buf.failed ? NULL : api_json_loadb(t->buf.data, t->buf.len, 0, NULL);
    const json_t *items = json_object_get(page, "items");
    size_t i;
    json_t *item;

    if (page == NULL)
        return ERR_NO_MEMORY;
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
        api_csv_field(csv, json_string_value(json_object_get(item, "id")));
        api_csv_field(csv, parents.buf.failed ? NULL : parents.buf.data);
        csv->buf.failed = csv->buf.failed || parents.buf.failed;
        api_csv_cleanup(&parents);
        api_csv_integer(csv, (int64_t)json_integer_value(json_object_get(item, "depth")));
        api_csv_integer(csv, (int64_t)json_integer_value(json_object_get(fp, "inferences")));
        csv_range(csv, json_object_get(fp, "own_co2e_kg"));
        csv_range(csv, kept_range(item, fp));
        csv_range(csv, json_object_get(fp, "inherited_co2e_kg"));
        csv_range(csv, json_object_get(fp, "inference_co2e_kg"));
        csv_range(csv, json_object_get(fp, "total_co2e_kg"));
        csv_range(csv, json_object_get(fp, "co2e_g_per_inference"));
        csv_range(csv, json_object_get(json_object_get(item, "sharing"), "avoided_co2e_kg"));
        api_csv_row_end(csv);
    }
    json_decref(page);
    return csv->buf.failed ? ERR_NO_MEMORY : ERR_OK;
}

/* The families a page is computed from: the roots of its model and of every
 * member below it (a merge's other roots), up to one more than a cache entry
 * keeps. */
struct family_roots {
    int64_t keys[API_CACHE_MAX_ROOTS + 1];
    size_t n;
};

static void family_roots_add(struct family_roots *roots, int64_t key)
{
    for (size_t i = 0; i < roots->n; i++)
        if (roots->keys[i] == key)
            return;
    if (roots->n < API_CACHE_MAX_ROOTS + 1)
        roots->keys[roots->n++] = key;
}

/* The root of a family page, its id set: its stored id and key and |D(root)|, the
 * root itself included, from its own lineage row; its own roots added to roots
 * (unless NULL). */
static enum err family_root(struct db *db, struct core_model *root, int64_t *size,
                            struct family_roots *roots, struct api_problem *problem)
{
    struct core_lineage lineage;
    enum err rc = db_lineage_load_id(db, &root->id, &lineage);

    if (rc == ERR_NOT_FOUND)
        rc = api_fail(problem, rc, "model '%s' is not registered", CORE_MODEL_ID_TEXT(&root->id));
    for (size_t i = 0; rc == ERR_OK && i < lineage.n_members; i++) {
        const struct core_lineage_member *m = &lineage.members[i];
        if (m->is_self) {
            root->key = m->key;
            root->id = m->id;
            *size = m->descendants;
        }
        if (m->depth == 0 && roots)
            family_roots_add(roots, m->key);
    }
    core_lineage_cleanup(&lineage);
    return rc;
}

/* What reading a family page takes, sized for its limit, and what the last read
 * found. */
struct family_pager {
    struct core_model *root, *member;
    struct db_sharing *sharing;
    int64_t *keys;
    struct core_dividend_share *shares;
    bool *has_share;
    size_t limit;
    enum core_policy policy;
    double fraction;
    int window_days; /* of the family's overtake */
    int64_t size;    /* |D(root)|, the root included */
    size_t n;        /* members on the page */
    bool is_batch;   /* a batch of the streamed family: its items only */
    bool has_more;
    struct family_roots roots; /* the page's families, once read */
};

static void family_pager_free(struct family_pager *pg)
{
    if (pg == NULL)
        return;
    free(pg->keys);
    free(pg->shares);
    free(pg->has_share);
    free(pg->root);
    free(pg->member);
    if (pg->sharing)
        db_sharing_cleanup(pg->sharing);
    free(pg->sharing);
    free(pg);
}

static enum err family_pager_new(size_t limit, struct family_pager **out)
{
    struct family_pager *pg = core_calloc(1, sizeof *pg);

    *out = NULL;
    if (pg == NULL)
        return ERR_NO_MEMORY;
    pg->limit = limit;
    pg->root = core_calloc(1, sizeof *pg->root);
    pg->member = core_malloc(sizeof *pg->member);
    pg->sharing = core_malloc(sizeof *pg->sharing);
    pg->keys = core_calloc(limit, sizeof *pg->keys);
    pg->shares = core_calloc(limit, sizeof *pg->shares);
    pg->has_share = core_calloc(limit, sizeof *pg->has_share);
    if (pg->sharing)
        db_sharing_init(pg->sharing);
    if (!pg->root || !pg->member || !pg->sharing || !pg->keys || !pg->shares || !pg->has_share) {
        family_pager_free(pg);
        return ERR_NO_MEMORY;
    }
    *out = pg;
    return ERR_OK;
}

/* Appends the JSON page of the family of pg->root (its id set) after cursor to t,
 * its items array left open for the caller to close, inside one read transaction:
 * O(family x ancestors) for the sharing dividend, O(page x ancestors) for the
 * members' footprints. A batch (pg->is_batch) has its items only, and costs
 * O(page x ancestors) in all. */
static enum err family_page(struct db *db, struct family_pager *pg, int64_t cursor, struct text *t,
                            struct api_problem *problem)
{
    struct core_dividend dividend;
    struct core_overtake overtake;
    bool has_profile = false;
    enum err rc = db_read_begin(db);

    if (rc != ERR_OK)
        return rc;
    db_sharing_cleanup(pg->sharing);
    db_sharing_init(pg->sharing);
    pg->roots.n = 0;
    rc = family_root(db, pg->root, &pg->size, &pg->roots, problem);
    if (rc == ERR_OK)
        rc = db_family_page(db, pg->root->key, cursor, pg->limit, pg->keys, &pg->n, &pg->has_more);
    /* A batch of the streamed family has no dividend to write: each member's share
     * is read from its own roots, O(page x ancestors). */
    for (size_t i = 0; rc == ERR_OK && pg->is_batch && i < pg->n; i++) {
        pg->has_share[i] = pg->keys[i] != pg->root->key;
        if (pg->has_share[i])
            rc = db_sharing_share(db, pg->sharing, pg->keys[i], pg->fraction, &pg->shares[i]);
    }
    if (rc == ERR_OK && pg->is_batch)
        TEXT_LIT(t, "{\"items\":[");
    /* The whole family below the root, whatever the page: O(family x ancestors); the
     * page's members get their shares on the way. */
    if (rc == ERR_OK && !pg->is_batch) {
        memset(pg->has_share, 0, pg->limit * sizeof *pg->has_share);
        pg->sharing->page_keys = pg->keys;
        pg->sharing->n_page = pg->n;
        pg->sharing->page_shares = pg->shares;
        pg->sharing->page_has_share = pg->has_share;
        rc = db_sharing_family(db, pg->sharing, pg->root->key, pg->fraction, &dividend);
        for (size_t i = 0; rc == ERR_OK && i < pg->sharing->n_roots; i++)
            family_roots_add(&pg->roots, pg->sharing->root_keys[i]);
    }
    /* The family's series is maintained by representative and day: no pass over the
     * members. */
    if (rc == ERR_OK && !pg->is_batch)
        rc = api_family_overtake_compute(db, pg->root->key, pg->window_days, &has_profile,
                                         &overtake);
    if (rc == ERR_OK && !pg->is_batch) {
        TEXT_LIT(t, "{\"model\":");
        api_text_id(t, &pg->root->id);
        TEXT_LIT(t, ",\"policy\":");
        text_string(t, core_policy_name(pg->policy));
        TEXT_LIT(t, ",\"family_size\":");
        text_int(t, pg->size);
        TEXT_LIT(t, ",\"sharing_dividend\":");
        api_dividend_write(t, &dividend, pg->fraction);
        TEXT_LIT(t, ",\"inference_overtakes_training\":");
        api_overtake_write(t, &overtake, has_profile, pg->window_days, true);
        TEXT_LIT(t, ",\"items\":[");
    }
    /* O(page x ancestors): each member's footprint reads its own lineage only. */
    for (size_t i = 0; rc == ERR_OK && i < pg->n; i++) {
        struct core_model *member = pg->member;
        struct api_footprint footprint;
        /* The lineage's own row has the member's id and depth: only its parents
         * are read besides. */
        member->key = pg->keys[i];
        rc = db_model_parents(db, member);
        if (rc == ERR_OK)
            rc = api_footprint_load(db, pg->keys[i], NULL, pg->policy, &footprint);
        if (rc != ERR_OK)
            break;
        if (i > 0)
            TEXT_LIT(t, ",");
        TEXT_LIT(t, "{\"id\":");
        api_text_id(t, &footprint.fp.self->id);
        TEXT_LIT(t, ",\"parents\":[");
        for (size_t p = 0; p < member->n_parents; p++) {
            if (p > 0)
                TEXT_LIT(t, ",");
            TEXT_LIT(t, "{\"id\":");
            api_text_id(t, &member->parents[p].id);
            TEXT_LIT(t, ",\"relation\":");
            text_string(t, core_relation_name(member->parents[p].relation));
            TEXT_LIT(t, "}");
        }
        TEXT_LIT(t, "],\"depth\":");
        text_int(t, footprint.fp.self->depth);
        TEXT_LIT(t, ",\"sharing\":");
        if (pg->has_share[i])
            api_dividend_share_write(t, &pg->shares[i]);
        else
            TEXT_LIT(t, "null"); /* the model the page is read below */
        TEXT_LIT(t, ",\"footprint\":");
        api_footprint_write(t, &footprint);
        TEXT_LIT(t, "}");
        api_footprint_cleanup(&footprint);
    }
    db_read_end(db);
    return rc;
}

/* The whole family as one CSV answer, streamed: a page of FAMILY_PAGE_MAX members
 * at a time (O(page x ancestors) each, so O(family x ancestors) in all), each page read in a read
 * transaction of its own on the connection of the thread that sends it, after the last key sent (a
 * keyset cursor), so memory stays bounded by a page and no transaction is held while the client
 * reads. Each page is consistent in itself; a write between two pages shows in the pages after it
 * only (a model registered meanwhile is listed when its key is past the cursor, one deleted
 * meanwhile may be missing). */
struct family_stream {
    struct api_stream stream;
    struct family_pager *pager;
    int64_t cursor;
    bool is_started;
};

static void family_stream_free(struct api_stream *stream)
{
    struct family_stream *fs = (struct family_stream *)stream;

    family_pager_free(fs->pager);
    free(fs);
}

static enum err family_stream_next(struct api_stream *stream, struct db *db, char **out,
                                   size_t *out_len, bool *is_done)
{
    struct family_stream *fs = (struct family_stream *)stream;
    struct api_problem problem = {0};
    struct api_csv csv = {0};
    struct text t = {0};
    enum err rc;

    *out = NULL;
    *out_len = 0;
    *is_done = false;
    if (!fs->is_started)
        api_csv_header(&csv, family_csv_header);
    fs->is_started = true;
    rc = family_page(db, fs->pager, fs->cursor, &t, &problem);
    if (rc == ERR_OK) {
        TEXT_LIT(&t, "]}");
        rc = family_csv_rows(&t, &csv);
    }
    free(t.buf.data);
    if (rc != ERR_OK) {
        api_csv_cleanup(&csv);
        return rc;
    }
    if (fs->pager->n > 0)
        fs->cursor = fs->pager->keys[fs->pager->n - 1];
    *is_done = !fs->pager->has_more;
    *out = core_buf_steal(&csv.buf, out_len);
    return *out || *out_len == 0 ? ERR_OK : ERR_NO_MEMORY;
}

/* ?all=true: checks what can fail before the first byte (the model exists), then
 * answers with the stream. */
static enum err family_all(const struct api_request *req, struct family_pager *pg,
                           struct api_reply *reply)
{
    struct family_stream *fs;
    enum err rc;

    if (api_query_get(req, "limit") || api_query_get(req, "cursor")) {
        api_field_error(&reply->problem, api_query_get(req, "limit") ? "limit" : "cursor",
                        "not with all=true");
        return api_fail(&reply->problem, ERR_BAD_REQUEST,
                        "all=true answers the whole family: it takes no limit or cursor");
    }
    if (!api_csv_wanted_vary(req, reply)) {
        api_field_error(&reply->problem, "all", "only with format=csv");
        return api_fail(&reply->problem, ERR_BAD_REQUEST,
                        "all=true answers in CSV only: add format=csv (or Accept: text/csv)");
    }
    /* The root is looked up now, so an unknown model is a 404, not a cut stream. */
    rc = db_read_begin(req->db);
    if (rc != ERR_OK)
        return rc;
    rc = family_root(req->db, pg->root, &pg->size, NULL, &reply->problem);
    db_read_end(req->db);
    if (rc != ERR_OK)
        return rc;
    fs = core_calloc(1, sizeof *fs);
    if (fs == NULL)
        return ERR_NO_MEMORY;
    fs->stream.next = family_stream_next;
    fs->stream.free = family_stream_free;
    fs->pager = pg;
    pg->is_batch = true;
    api_csv_attachment(reply, &pg->root->id, "family");
    reply->stream = &fs->stream;
    reply->content_type = "text/csv; charset=utf-8";
    reply->status = 200;
    return ERR_OK;
}

static enum err query_all(const struct api_request *req, bool *all, struct api_problem *problem)
{
    const char *value = api_query_get(req, "all");

    *all = false;
    if (value == NULL || strcmp(value, "false") == 0)
        return ERR_OK;
    if (strcmp(value, "true") == 0) {
        *all = true;
        return ERR_OK;
    }
    api_field_error(problem, "all", "one of true, false");
    return api_fail(problem, ERR_BAD_REQUEST, "query parameter 'all' is not one of true, false");
}

/* Where a page ended: whether more follow, and the last member's key. */
struct page_end {
    bool has_more;
    size_t n;
    int64_t last_key;
};

/* The JSON text of the page after cursor into t, from the cache when its families
 * are unchanged since it was kept; else read, then kept. */
static enum err family_text(struct api_service *s, const struct api_request *req,
                            struct family_pager *pg, int64_t cursor, struct text *t,
                            struct page_end *end, struct api_problem *problem)
{
    char key[CORE_MODEL_ID_MAX + 128], *body = NULL;
    int64_t aux[API_CACHE_AUX];
    struct api_cache_stamp stamp;
    size_t len = 0;
    int key_len = snprintf(key, sizeof key, "family\n%s\n%s\n%zu\n%lld\n%.17g",
                           CORE_MODEL_ID_TEXT(&pg->root->id), core_policy_name(pg->policy),
                           pg->limit, (long long)cursor, pg->fraction);
    enum err rc;

    if (api_cache_get(s->cache, key, (size_t)key_len, 0, &body, &len, aux)) {
        static const char head[] = "{\"model\":\"";
        const char *quote = len > sizeof head - 1 && memcmp(body, head, sizeof head - 1) == 0
                                ? memchr(body + sizeof head - 1, '"', len - (sizeof head - 1))
                                : NULL;
        /* The page names its model as stored, as a page read now would: a CSV
         * answer's file name is made of it. */
        if (quote && (size_t)(quote - body) - (sizeof head - 1) <= CORE_MODEL_ID_MAX) {
            char id[CORE_MODEL_ID_MAX + 1];
            size_t id_len = (size_t)(quote - body) - (sizeof head - 1);
            memcpy(id, body + sizeof head - 1, id_len);
            id[id_len] = '\0';
            core_model_id_parse(id, &pg->root->id);
        }
        core_buf_append(&t->buf, body, len);
        free(body);
        end->has_more = aux[0] > 0;
        end->n = aux[0] > 0 ? 1 : 0;
        end->last_key = aux[1];
        return t->buf.failed ? ERR_NO_MEMORY : ERR_OK;
    }
    api_cache_stamp(s->cache, &stamp);
    rc = family_page(req->db, pg, cursor, t, problem);
    if (rc != ERR_OK)
        return rc;
    end->has_more = pg->has_more;
    end->n = pg->n;
    end->last_key = pg->n ? pg->keys[pg->n - 1] : 0;
    TEXT_LIT(t, "],\"next_cursor\":");
    if (pg->has_more) {
        TEXT_LIT(t, "\"");
        text_int(t, end->last_key);
        TEXT_LIT(t, "\"");
    } else {
        TEXT_LIT(t, "null");
    }
    TEXT_LIT(t, "}");
    aux[0] = end->has_more && end->n > 0;
    aux[1] = end->last_key;
    if (!t->buf.failed)
        api_cache_put(s->cache, &stamp, key, (size_t)key_len, pg->roots.keys, pg->roots.n, 0,
                      t->buf.data, t->buf.len, aux);
    return t->buf.failed ? ERR_NO_MEMORY : ERR_OK;
}

enum err api_family_get(struct api_service *s, const struct api_request *req,
                        struct api_reply *reply)
{
    static const char *const allowed[] = {
        "policy",      "limit",  "cursor", "counterfactual_fraction",
        "window_days", "format", "all",    NULL};
    struct family_pager *pg = NULL;
    double fraction = CORE_DIVIDEND_FRACTION_DEFAULT;
    int window_days = CORE_OVERTAKE_WINDOW_DAYS_DEFAULT;
    enum core_policy policy;
    int64_t limit = 0, cursor = 0;
    bool all = false;
    struct text t = {0};
    struct page_end page_end;
    enum err rc;

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
    if (rc == ERR_OK)
        rc = api_overtake_window(req, &window_days, &reply->problem);
    if (rc == ERR_OK)
        rc = query_all(req, &all, &reply->problem);
    if (rc == ERR_OK)
        rc = family_pager_new(all ? FAMILY_PAGE_MAX : (size_t)limit, &pg);
    if (rc == ERR_OK) {
        pg->policy = policy;
        pg->fraction = fraction;
        pg->window_days = window_days;
        rc = api_path_id(req, &pg->root->id, &reply->problem);
    }
    if (rc == ERR_OK && all) {
        rc = family_all(req, pg, reply);
        if (rc == ERR_OK)
            pg = NULL; /* the stream owns it */
        goto out;
    }
    if (rc == ERR_OK)
        rc = family_text(s, req, pg, cursor, &t, &page_end, &reply->problem);
    if (rc != ERR_OK)
        goto out;
    if (page_end.has_more && page_end.n > 0) {
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
        char window_param[40] = "";
        if (api_query_get(req, "window_days"))
            snprintf(window_param, sizeof window_param, "&window_days=%d", window_days);
        snprintf(link, sizeof link, "<%s?policy=%s&limit=%lld&cursor=%lld%s%s%s>; rel=\"next\"",
                 req->path, enc, (long long)limit, (long long)page_end.last_key, fraction_param,
                 window_param, api_csv_format_param(req));
        api_reply_header(reply, "Link", link);
    }
    if (api_csv_wanted_vary(req, reply)) {
        struct api_csv csv = {0};
        api_csv_attachment(reply, &pg->root->id, "family");
        api_csv_header(&csv, family_csv_header);
        rc = family_csv_rows(&t, &csv);
        if (rc == ERR_OK)
            rc = api_csv_reply(&csv, reply);
        else
            api_csv_cleanup(&csv);
    } else
        rc = text_reply(&t, req, reply);
out:
    free(t.buf.data);
    family_pager_free(pg);
    return rc;
}
