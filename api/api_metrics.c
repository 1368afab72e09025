/* SPDX-License-Identifier: Apache-2.0 */
/* GET /metrics: the Prometheus text exposition format 0.0.4 of the service (build,
 * database size, writes, write batches, and the HTTP metrics the server passes in
 * the request) and of the ledger (per-model footprints and
 * inference counts, per-family totals), bounded to the most-used models and
 * families. Builds text only: no MHD, no SQL. */
#include "api_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct label {
    const char *name;
    const char *value;
};

static const char *const part_names[] = {"own", "inherited", "inference", "total"};
#define N_PARTS (sizeof part_names / sizeof part_names[0])

/* Escapes for the exposition format: backslash and line feed everywhere, and the
 * double quote inside label values. */
static void text_escaped(struct core_buf *t, const char *s, bool is_label_value)
{
    for (const char *p = s; *p; p++) {
        if (*p == '\\')
            core_buf_append_str(t, "\\\\");
        else if (*p == '\n')
            core_buf_append_str(t, "\\n");
        else if (*p == '"' && is_label_value)
            core_buf_append_str(t, "\\\"");
        else
            core_buf_append(t, p, 1);
    }
}

/* A float as the shortest of %.15g, %.16g and %.17g that reads back exactly. */
static void text_number(struct core_buf *t, double v)
{
    char buf[40];

    if (isnan(v)) {
        core_buf_append_str(t, "NaN");
        return;
    }
    if (isinf(v)) {
        core_buf_append_str(t, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    for (int precision = 15; precision <= 17; precision++) {
        double back;
        snprintf(buf, sizeof buf, "%.*g", precision, v);
        back = strtod(buf, NULL);
        if (!(back < v) && !(back > v))
            break;
    }
    core_buf_append_str(t, buf);
}

/* The HELP and TYPE lines that open a metric family. */
static void family(struct core_buf *t, const char *name, const char *type, const char *help)
{
    core_buf_printf(t, "# HELP %s ", name);
    text_escaped(t, help, false);
    core_buf_printf(t, "\n# TYPE %s %s\n", name, type);
}

static void sample_start(struct core_buf *t, const char *name, const struct label *labels,
                         size_t n_labels)
{
    core_buf_append_str(t, name);
    for (size_t i = 0; i < n_labels; i++) {
        core_buf_append_str(t, i == 0 ? "{" : ",");
        core_buf_append_str(t, labels[i].name);
        core_buf_append_str(t, "=\"");
        text_escaped(t, labels[i].value, true);
        core_buf_append_str(t, "\"");
    }
    if (n_labels > 0)
        core_buf_append_str(t, "}");
    core_buf_append_str(t, " ");
}

static void sample(struct core_buf *t, const char *name, const struct label *labels,
                   size_t n_labels, double value)
{
    sample_start(t, name, labels, n_labels);
    text_number(t, value);
    core_buf_append_str(t, "\n");
}

static void sample_count(struct core_buf *t, const char *name, const struct label *labels,
                         size_t n_labels, uint64_t value)
{
    sample_start(t, name, labels, n_labels);
    core_buf_printf(t, "%" PRIu64 "\n", value);
}

static void service_metrics(struct api_service *s, struct core_buf *t)
{
    struct api_change_totals totals;
    struct db_write_batches batches;
    struct db_fold_stats folds;
    struct label label;
    char le[32];

    memset(&totals, 0, sizeof totals);
    api_changes_totals(s, &totals);
    family(t, "carbontree_writes_total", "counter",
           "Changes committed since the process started, by kind of change.");
    for (int i = 0; i < API_CHANGE_KIND_COUNT; i++) {
        label = (struct label){"kind", api_change_kind_name((enum api_change_kind)i)};
        sample_count(t, "carbontree_writes_total", &label, 1, totals.events[i]);
    }
    family(t, "carbontree_inferences_counted_total", "counter",
           "Inferences counted (deltas, counter increases and batch items) since the process "
           "started.");
    sample_count(t, "carbontree_inferences_counted_total", NULL, 0, totals.inferences);

    db_write_batches(&batches);
    family(t, "carbontree_db_write_batch_size", "histogram",
           "Writes per committed write transaction (one fsync) since the process started: "
           "writes that arrive together are committed as one group.");
    for (size_t i = 0; i < DB_WRITE_BATCH_BUCKETS; i++) {
        snprintf(le, sizeof le, "%" PRIu64, batches.bound[i]);
        label = (struct label){"le", le};
        sample_count(t, "carbontree_db_write_batch_size_bucket", &label, 1, batches.count_le[i]);
    }
    label = (struct label){"le", "+Inf"};
    sample_count(t, "carbontree_db_write_batch_size_bucket", &label, 1, batches.count);
    sample_count(t, "carbontree_db_write_batch_size_sum", NULL, 0, batches.writes);
    sample_count(t, "carbontree_db_write_batch_size_count", NULL, 0, batches.count);

    db_fold_stats(&folds);
    family(t, "carbontree_folds_total", "counter",
           "Folds since the process started that added pending inference deltas to the "
           "ancestors' family sums and the totals, one transaction each.");
    sample_count(t, "carbontree_folds_total", NULL, 0, folds.folds);
    family(t, "carbontree_folded_deltas_total", "counter",
           "Pending deltas (one per model with increments since its last fold) folded since the "
           "process started.");
    sample_count(t, "carbontree_folded_deltas_total", NULL, 0, folds.rows);
    family(t, "carbontree_folded_inferences_total", "counter",
           "Inferences the folds since the process started added to the family sums.");
    sample_count(t, "carbontree_folded_inferences_total", NULL, 0, folds.inferences);
    family(t, "carbontree_fold_seconds_total", "counter",
           "Seconds the folds since the process started took, commits included.");
    sample(t, "carbontree_fold_seconds_total", NULL, 0, folds.seconds);
}

static void cache_metrics(struct api_service *s, struct core_buf *t)
{
    struct api_cache_stats stats;

    api_cache_stats(s->cache, &stats);
    family(t, "carbontree_cache_hits_total", "counter",
           "Footprint and family answers served from the cache of rendered answers.");
    sample_count(t, "carbontree_cache_hits_total", NULL, 0, stats.hits);
    family(t, "carbontree_cache_misses_total", "counter",
           "Footprint and family answers read from the database: not cached, or cached before "
           "a write to their family.");
    sample_count(t, "carbontree_cache_misses_total", NULL, 0, stats.misses);
    family(t, "carbontree_cache_evictions_total", "counter",
           "Cached answers dropped to keep the cache within --cache-size.");
    sample_count(t, "carbontree_cache_evictions_total", NULL, 0, stats.evictions);
    family(t, "carbontree_cache_entries", "gauge", "Answers the cache holds.");
    sample_count(t, "carbontree_cache_entries", NULL, 0, stats.entries);
    family(t, "carbontree_cache_bytes", "gauge",
           "Bytes the cache holds (bodies, keys and bookkeeping), at most --cache-size.");
    sample_count(t, "carbontree_cache_bytes", NULL, 0, stats.bytes);
}

static void storage_metrics(const struct db_storage_size *size, int64_t pending, struct core_buf *t)
{
    family(t, "carbontree_inference_pending_deltas", "gauge",
           "Models whose increments are not folded yet into their ancestors' family sums and "
           "the totals (answers add them; lists ordered by a family sum order by the folded "
           "part).");
    sample_count(t, "carbontree_inference_pending_deltas", NULL, 0, (uint64_t)pending);
    family(t, "carbontree_db_size_bytes", "gauge",
           "Size of the database file: its page count times its page size.");
    sample(t, "carbontree_db_size_bytes", NULL, 0,
           (double)size->page_count * (double)size->page_size);
    family(t, "carbontree_db_wal_bytes", "gauge",
           "Size of the database's write-ahead log file (0 when there is none).");
    sample(t, "carbontree_db_wal_bytes", NULL, 0, (double)size->wal_bytes);
}

/* Footprint gauges into co2e and inference counters into counts, for the models
 * of keys, under every policy. O(models x ancestors) rows: each model's lineage is
 * read once for the three policies. */
static enum err model_metrics(struct db *db, const int64_t *keys, size_t n_keys,
                              struct core_buf *co2e, struct core_buf *counts)
{
    char id[CORE_MODEL_ID_MAX + 1];
    struct core_allocation *allocations = NULL;
    size_t cap = 0;
    enum err rc = ERR_OK;

    for (size_t i = 0; rc == ERR_OK && i < n_keys; i++) {
        struct core_lineage lineage;
        rc = db_lineage_load(db, keys[i], &lineage);
        if (rc != ERR_OK)
            break;
        if (lineage.n_members > cap) {
            struct core_allocation *grown =
                core_realloc(allocations, lineage.n_members * sizeof *allocations);
            if (grown == NULL)
                rc = ERR_NO_MEMORY;
            else {
                allocations = grown;
                cap = lineage.n_members;
            }
        }
        for (int p = 0; rc == ERR_OK && p < CORE_POLICY_COUNT; p++) {
            struct core_footprint fp;
            double values[N_PARTS];
            if (core_footprint(&lineage, (enum core_policy)p, allocations, &fp) != ERR_OK) {
                rc = ERR_INTERNAL; /* the aggregates contradict each other */
                break;
            }
            values[0] = fp.own_kg.value;
            values[1] = fp.inherited_kg.value;
            values[2] = fp.inference_kg.value;
            values[3] = fp.total_kg.value;
            core_model_id_format(&fp.self->id, id, sizeof id);
            for (size_t k = 0; k < N_PARTS; k++) {
                struct label labels[] = {{"model", id},
                                         {"policy", core_policy_name((enum core_policy)p)},
                                         {"part", part_names[k]}};
                sample(co2e, "carbontree_model_co2e_kg", labels, 3, values[k]);
            }
            if (p == 0) {
                struct label label = {"model", id};
                sample_count(counts, "carbontree_model_inferences_total", &label, 1,
                             (uint64_t)fp.self->inferences);
            }
        }
        core_lineage_cleanup(&lineage);
    }
    free(allocations);
    return rc;
}

static void family_metrics(const struct db_family_total *families, size_t n, struct core_buf *t)
{
    char id[CORE_MODEL_ID_MAX + 1];

    family(t, "carbontree_family_co2e_kg", "gauge",
           "Emissions of a base model's family (the base and every model derived from it): the "
           "sum of the members' own emissions, which each policy allocates in full over the "
           "family, so every policy gives the same sum. Inference emissions are not included. "
           "Only the families of the --metrics-max-models base models with the most inferences.");
    for (size_t i = 0; i < n; i++) {
        core_model_id_format(&families[i].root, id, sizeof id);
        for (int p = 0; p < CORE_POLICY_COUNT; p++) {
            struct label labels[] = {{"root", id},
                                     {"policy", core_policy_name((enum core_policy)p)}};
            sample(t, "carbontree_family_co2e_kg", labels, 2, families[i].own_co2e_kg.value);
        }
    }
}

/* The ledger's sharing dividend, from the sums the writes keep (one row). */
static void dividend_metrics(const struct db_totals *totals, struct core_buf *t)
{
    const struct {
        const char *bound;
        double kg;
    } bounds[] = {{"low", totals->avoided_kg.low},
                  {"central", totals->avoided_kg.value},
                  {"high", totals->avoided_kg.high}};

    family(t, "carbontree_sharing_avoided_co2e_kg", "gauge",
           "Emissions the ledger's descendants avoided by building on shared models: each model "
           "with parents would otherwise have paid the pre-training (training activities) of "
           "every distinct root it builds on; that less its own emissions, never below zero, "
           "summed over the descendants whose roots all have known pre-training (as GET "
           "/v1/totals answers in sharing_dividend). Bound low, central or high of the range.");
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
        struct label label = {"bound", bounds[i].bound};
        sample(t, "carbontree_sharing_avoided_co2e_kg", &label, 1, bounds[i].kg);
    }
    family(t, "carbontree_sharing_descendants_without_pretraining", "gauge",
           "Models with parents that build on a root without a training activity: left out of "
           "carbontree_sharing_avoided_co2e_kg.");
    sample_count(t, "carbontree_sharing_descendants_without_pretraining", NULL, 0,
                 (uint64_t)totals->descendants_without_pretraining);
}

/* Everything read from the database, in one read snapshot. */
static enum err ledger_metrics(struct db *db, size_t max_models, struct core_buf *t)
{
    struct db_storage_size size;
    struct db_totals totals;
    struct core_buf co2e = {0}, counts = {0};
    int64_t *keys = NULL;
    struct db_family_total *families = NULL;
    size_t n_keys = 0, n_families = 0;
    int64_t pending = 0;
    enum err rc;

    if (max_models > 0) {
        keys = core_calloc(max_models, sizeof *keys);
        families = core_calloc(max_models, sizeof *families);
        if (keys == NULL || families == NULL) {
            rc = ERR_NO_MEMORY;
            goto out;
        }
    }
    family(&co2e, "carbontree_model_co2e_kg", "gauge",
           "A model's footprint in kg CO2e under an allocation policy (none, equal, usage): "
           "part own is its own emissions, inherited its shares of its ancestors' emissions, "
           "inference its inference emissions, total its own share plus inherited plus "
           "inference (as GET /v1/models/{namespace}/{name}/footprint answers). Only the "
           "--metrics-max-models models with the most inferences.");
    family(&counts, "carbontree_model_inferences_total", "counter",
           "Inferences counted for a model, cumulative. Only the --metrics-max-models models "
           "with the most inferences.");
    rc = db_read_begin(db);
    if (rc != ERR_OK)
        goto out;
    rc = db_storage_size(db, &size);
    if (rc == ERR_OK)
        rc = db_fold_pending(db, &pending);
    if (rc == ERR_OK)
        rc = db_totals_get(db, NULL, &totals);
    if (rc == ERR_OK && max_models > 0)
        rc = db_metrics_top_models(db, max_models, keys, &n_keys);
    if (rc == ERR_OK)
        rc = model_metrics(db, keys, n_keys, &co2e, &counts);
    if (rc == ERR_OK && max_models > 0)
        rc = db_metrics_families(db, max_models, families, &n_families);
    db_read_end(db);
    if (rc != ERR_OK)
        goto out;
    storage_metrics(&size, pending, t);
    dividend_metrics(&totals, t);
    core_buf_append(t, co2e.data ? co2e.data : "", co2e.len);
    core_buf_append(t, counts.data ? counts.data : "", counts.len);
    family_metrics(families, n_families, t);
    if (co2e.failed || counts.failed)
        t->failed = true;
out:
    core_buf_cleanup(&co2e);
    core_buf_cleanup(&counts);
    free(keys);
    free(families);
    return rc;
}

enum err api_metrics_get(struct api_service *s, const struct api_request *req,
                         struct api_reply *reply)
{
    struct core_buf t = {0};
    struct db *db = req->db;
    struct label label = {"version", s->config.version ? s->config.version : "unknown"};
    enum err rc;

    /* Query parameters are ignored, as Prometheus may add its own. */
    family(&t, "carbontree_build_info", "gauge", "The running build: always 1, labelled.");
    sample(&t, "carbontree_build_info", &label, 1, 1.0);
    if (req->server_metrics != NULL)
        core_buf_append(&t, req->server_metrics, req->server_metrics_len);
    service_metrics(s, &t);
    cache_metrics(s, &t);
    rc = ledger_metrics(db, s->config.metrics_max_models, &t);
    if (rc == ERR_OK && t.failed)
        rc = ERR_NO_MEMORY;
    if (rc != ERR_OK) {
        core_buf_cleanup(&t);
        return rc;
    }
    reply->raw = core_buf_steal(&t, &reply->raw_len);
    reply->content_type = METRICS_CONTENT_TYPE;
    reply->status = 200;
    return ERR_OK;
}
