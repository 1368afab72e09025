/* SPDX-License-Identifier: Apache-2.0 */
/* The writer: one thread runs every write request and commits them in
 * groups, so many durable writes share one fsync. */
#ifndef SERVER_WRITER_H
#define SERVER_WRITER_H

#include "api.h"

#include <stdbool.h>
#include <stddef.h>

/* A write request waiting for the writer. The submitter keeps it alive until done
 * is called, and must not touch it from then until done returns. */
struct writer_job {
    /* Runs the request on the writer's connection db, in its own transaction
     * (group NULL) or as part of group, replacing any answer an earlier run left;
     * returns its HTTP status. Called a second time, alone, when the group it ran
     * in could not commit. */
    int (*run)(void *arg, struct db *db, struct api_group *group);
    /* The answer is final: its writes are committed (or it has none). Called on
     * the writer thread; the last use of the job. */
    void (*done)(void *arg);
    /* Answers the request with the failure rc without running it (the writer has
     * no connection, or the group's transaction could not begin: the database is
     * locked or unavailable). */
    void (*refuse)(void *arg, enum err rc);
    void *arg;
    struct writer_job *next;
};

struct writer;

/* Starts the writer thread, which takes its own connection of service and runs
 * every write on it. Groups hold at most max_batch requests (1: every write
 * commits on its own). */
enum err writer_start(struct api_service *service, size_t max_batch, struct writer **out);

/* When the writer folds pending inference deltas: once the first write since the
 * last fold is interval_ms old (at once if the writer is idle then), or as soon
 * as threshold deltas are pending; threshold deltas per transaction. */
struct writer_fold {
    unsigned interval_ms;
    size_t threshold;
};

#define WRITER_FOLD_INTERVAL_MS 1000
#define WRITER_FOLD_THRESHOLD   1024

/* writer_start with fold settings other than the defaults above. */
enum err writer_start_folding(struct api_service *service, size_t max_batch,
                              const struct writer_fold *fold, struct writer **out);

/* Queues job; false once the writer is stopping (then the caller runs it itself). */
bool writer_submit(struct writer *w, struct writer_job *job);

/* Runs what is queued, stops the thread and frees the writer. NULL is a no-op. */
void writer_stop(struct writer *w);

#endif
