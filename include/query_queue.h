/* query_queue.h - query files answered in the background (FUSE-free).
 *
 * State of one query file (by inbox id), kept in memory; the store keeps
 * what survives a crash (a written query without an answer is queued
 * again by query_queue_recover):
 *
 *   written (flush) --begin--> queued --a worker takes it--> running
 *   running --answer stored--> answered (entry dropped, done callback)
 *   written again while queued or running: a new run is queued and the
 *   older run's answer, if it finishes later, is thrown away.
 *
 * Workers run retrieval and the provider chain without holding any lock;
 * a provider call is bounded by the tenant's query_timeout_s, so a run
 * always ends. The done callback (the filesystem replies to opens that
 * wait for an answer) runs on a worker thread with no lock held.
 */
#ifndef DESKFS_QUERY_QUEUE_H
#define DESKFS_QUERY_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

struct core;
struct query_queue;

#define QUERY_WORKERS_DEFAULT 4

typedef void (*query_done_cb)(void *arg, int64_t id);

struct query_queue *query_queue_start(struct core *c, int workers);
/* Stops taking work, waits for running queries to end; queued ones stay
 * unanswered in the store and run again at the next start. */
void query_queue_stop(struct query_queue *q);
/* Sets the done callback; returns once no call of the previous one is
 * running (so its argument may be freed after setting NULL). */
void query_queue_on_done(struct query_queue *q, query_done_cb cb, void *arg);

/* Marks id pending before its new content is stored; returns the run's
 * sequence number for query_queue_submit. */
uint64_t query_queue_begin(struct query_queue *q, int64_t id);
/* Queues the run (after the content was stored). 0 or -ENOMEM. */
int query_queue_submit(struct query_queue *q, int64_t tenant, int64_t id, uint64_t seq);
/* True while id is queued or running; *since_ms (may be NULL) is when it
 * was written (CLOCK_MONOTONIC ms). */
bool query_queue_pending(struct query_queue *q, int64_t id, int64_t *since_ms);
/* Queues every written, unanswered query in the store. */
int query_queue_recover(struct query_queue *q);

#endif
