/* SPDX-License-Identifier: Apache-2.0 */
/* Group commit. Writes queue here; the writer thread takes everything queued (up
 * to a batch), runs each request as a savepoint of one transaction, commits once
 * and only then lets the requests answer. Batches adapt to load by themselves:
 * the writer never waits for company, so a lone write starts at once, and while
 * one group syncs the next one gathers. A group that cannot commit, or in which a
 * request met a storage failure, is rolled back and its requests run again one
 * transaction each, so every request gets the answer it would have had alone.
 *
 * The writer also folds: increments leave deltas pending for their ancestors'
 * family sums, their families' days and the totals, and the writer adds them in,
 * a transaction per batch, once the oldest has waited the fold interval (at once
 * when the writer is idle then) or as soon as the threshold of deltas is pending. */
#include "writer.h"

#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

struct writer {
    struct api_service *service;
    size_t max_batch;
    struct writer_fold fold;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    struct writer_job *head, *tail; /* FIFO */
    bool is_stopping;
    /* Writer thread only: a write committed since the last fold, and since when. */
    bool is_fold_owed;
    struct timespec fold_due;
};

/* How long the writer waits for a write before it looks for other processes'
 * commits (api_service_watch_others): the longest a cached answer may outlive a
 * commit by carbontree import beside the server, give or take a batch. */
#define WATCH_INTERVAL_NS 200000000L

static bool is_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Takes up to max_batch jobs from the queue into batch; waits while it is empty,
 * WATCH_INTERVAL_NS at most, and no longer than until the fold is due when one
 * is owed. Returns how many were taken (0 when the wait ended with none);
 * *is_fold_due when the fold fell due first, *is_done when stopping with
 * nothing left. */
static size_t take(struct writer *w, struct writer_job **batch, bool *is_fold_due, bool *is_done)
{
    struct timespec watch;
    size_t n = 0;

    *is_fold_due = false;
    clock_gettime(CLOCK_REALTIME, &watch);
    watch.tv_nsec += WATCH_INTERVAL_NS;
    if (watch.tv_nsec >= 1000000000L) {
        watch.tv_sec++;
        watch.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->mu);
    while (w->head == NULL && !w->is_stopping) {
        bool is_fold_first = w->is_fold_owed && is_before(&w->fold_due, &watch);
        if (pthread_cond_timedwait(&w->wake, &w->mu, is_fold_first ? &w->fold_due : &watch) ==
                ETIMEDOUT &&
            w->head == NULL) {
            *is_fold_due = is_fold_first;
            break;
        }
    }
    while (w->head != NULL && n < w->max_batch) {
        batch[n++] = w->head;
        w->head = w->head->next;
    }
    if (w->head == NULL)
        w->tail = NULL;
    *is_done = n == 0 && w->is_stopping;
    pthread_mutex_unlock(&w->mu);
    return n;
}

enum group_outcome {
    GROUP_COMMITTED, /* every answer stands */
    GROUP_RUN_ALONE, /* rolled back: run each request again in its own transaction */
    GROUP_REFUSED,   /* no transaction could begin: each request was answered rc */
};

/* Runs the batch as one transaction on db. */
static enum group_outcome run_group(struct writer *w, struct db *db, struct writer_job **batch,
                                    size_t n)
{
    struct api_group *group = NULL;
    size_t n_writes = 0;
    enum err rc = api_group_begin(w->service, db, &group);

    if (rc == ERR_BUSY || rc == ERR_IO) {
        /* Another process holds the lock past the busy timeout (or storage is
         * gone): one wait for the whole batch, not one per request. */
        for (size_t i = 0; i < n; i++)
            batch[i]->refuse(batch[i]->arg, rc);
        return GROUP_REFUSED;
    }
    if (rc != ERR_OK)
        return GROUP_RUN_ALONE;
    for (size_t i = 0; i < n; i++) {
        int status = batch[i]->run(batch[i]->arg, db, group);
        if (status >= 500 || !api_group_is_intact(group)) {
            api_group_rollback(group);
            return GROUP_RUN_ALONE;
        }
        if (status < 400)
            n_writes++;
    }
    if (n_writes == 0) {
        api_group_rollback(group); /* every request was refused: nothing to sync */
        return GROUP_COMMITTED;
    }
    return api_group_commit(group, n_writes) == ERR_OK ? GROUP_COMMITTED : GROUP_RUN_ALONE;
}

static bool is_past(const struct timespec *t)
{
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/* The fold falls due one interval from now (the clock pthread_cond_timedwait
 * reads). */
static void set_due(struct writer *w)
{
    clock_gettime(CLOCK_REALTIME, &w->fold_due);
    w->fold_due.tv_sec += (time_t)(w->fold.interval_ms / 1000);
    w->fold_due.tv_nsec += (long)(w->fold.interval_ms % 1000) * 1000000L;
    if (w->fold_due.tv_nsec >= 1000000000L) {
        w->fold_due.tv_sec++;
        w->fold_due.tv_nsec -= 1000000000L;
    }
}

/* Folds everything pending when it is due (is_due) or past the threshold. A fold
 * that fails leaves the deltas pending, which answers count anyway: it is tried
 * again one interval later. */
static void fold(struct writer *w, struct db *db, bool is_due)
{
    int64_t pending = 0;
    enum err rc;

    if (!is_due && is_past(&w->fold_due))
        is_due = true;
    if (!is_due) {
        rc = api_fold_pending(db, &pending);
        if (rc != ERR_OK || pending < (int64_t)w->fold.threshold)
            return;
    }
    rc = api_fold(db, w->fold.threshold, NULL);
    if (rc != ERR_OK) {
        log_write(LOG_WARN, NULL, "writer: the fold of pending inferences failed: %s",
                  err_name(rc));
        set_due(w);
        return;
    }
    w->is_fold_owed = false;
}

/* A write committed: the fold is owed, due one interval after the first write
 * since the last fold. */
static void owe_fold(struct writer *w)
{
    if (w->is_fold_owed)
        return;
    w->is_fold_owed = true;
    set_due(w);
}

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    struct writer_job **batch = calloc(w->max_batch, sizeof *batch);
    struct db *db = NULL; /* the writer's connection: every write runs on it */
    size_t n;

    if (batch == NULL)
        abort(); /* checked by writer_start before the thread started */
    for (;;) {
        bool is_fold_due = false, is_done = false;
        enum err rc;
        enum group_outcome outcome = GROUP_REFUSED;
        n = take(w, batch, &is_fold_due, &is_done);
        if (is_done)
            break;
        rc = db ? ERR_OK : api_service_connection(w->service, &db);
        /* Before every batch, and at least every WATCH_INTERVAL_NS when idle. */
        if (rc == ERR_OK)
            api_service_watch_others(w->service, db);
        if (n == 0) {
            if (is_fold_due && rc == ERR_OK)
                fold(w, db, true);
            else if (is_fold_due)
                w->is_fold_owed = false; /* no connection: nothing to fold with */
            continue;
        }
        if (rc != ERR_OK) {
            /* No connection yet: this batch is refused, the next one tries again. */
            for (size_t i = 0; i < n; i++)
                batch[i]->refuse(batch[i]->arg, rc);
        } else {
            outcome = n > 1 ? run_group(w, db, batch, n) : GROUP_RUN_ALONE;
        }
        if (n > 1 && outcome == GROUP_RUN_ALONE)
            log_write(LOG_WARN, NULL,
                      "writer: a group of %zu writes did not commit; running them one by one", n);
        for (size_t i = 0; outcome == GROUP_RUN_ALONE && i < n; i++)
            batch[i]->run(batch[i]->arg, db, NULL);
        for (size_t i = 0; i < n; i++)
            batch[i]->done(batch[i]->arg);
        if (rc == ERR_OK && outcome != GROUP_REFUSED) {
            owe_fold(w);
            fold(w, db, false);
        }
    }
    free(batch);
    return NULL;
}

enum err writer_start(struct api_service *service, size_t max_batch, struct writer **out)
{
    const struct writer_fold fold = {WRITER_FOLD_INTERVAL_MS, WRITER_FOLD_THRESHOLD};

    return writer_start_folding(service, max_batch, &fold, out);
}

enum err writer_start_folding(struct api_service *service, size_t max_batch,
                              const struct writer_fold *fold, struct writer **out)
{
    struct writer *w = calloc(1, sizeof *w);
    void *probe;

    if (w == NULL)
        return ERR_NO_MEMORY;
    /* The thread's batch array, tried here so the thread itself cannot fail. */
    probe = calloc(max_batch > 0 ? max_batch : 1, sizeof(struct writer_job *));
    if (probe == NULL) {
        free(w);
        return ERR_NO_MEMORY;
    }
    free(probe);
    w->service = service;
    w->max_batch = max_batch > 0 ? max_batch : 1;
    w->fold = *fold;
    if (w->fold.threshold == 0)
        w->fold.threshold = 1;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->wake, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return ERR_INTERNAL;
    }
    *out = w;
    return ERR_OK;
}

bool writer_submit(struct writer *w, struct writer_job *job)
{
    bool is_queued;

    job->next = NULL;
    pthread_mutex_lock(&w->mu);
    is_queued = !w->is_stopping;
    if (is_queued) {
        if (w->tail)
            w->tail->next = job;
        else
            w->head = job;
        w->tail = job;
        pthread_cond_signal(&w->wake);
    }
    pthread_mutex_unlock(&w->mu);
    return is_queued;
}

void writer_stop(struct writer *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    w->is_stopping = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
