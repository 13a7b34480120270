/* jobs.h - the background job queue: work persisted in the store (store.h,
 * "background jobs"), run by a pool of worker threads (FUSE-free).
 *
 * A worker claims the next ready job, runs its kind's handler with no lock
 * held, and then finishes it (row deleted) or, on failure, retries it after
 * job_backoff_s * 2^(attempt-1) seconds (at most 10 minutes), until the
 * tenant's job_attempts runs have failed: the job is then dead and keeps
 * its reason, which status and the job's file show. Jobs a dead daemon was
 * running are queued again at start, so each job completes exactly once
 * (a handler interrupted by a crash runs again from the start; handlers
 * store their result in one transaction).
 *
 * Workers sleep until jobs_wake(), the earliest run_after, or a poll of
 * JOBS_POLL_S seconds (jobs queued by another process: deskfs ingest).
 */
#ifndef DESKFS_JOBS_H
#define DESKFS_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define JOBS_WORKERS_DEFAULT 2
#define JOBS_WORKERS_NONE (-1) /* --workers 0: this process runs no jobs */
#define JOBS_WORKERS_MAX 64
#define JOBS_POLL_S 2
#define JOBS_BACKOFF_MAX_S 600

struct core;
struct jobs;
struct strbuf;

/* A job handler: 0 when done, -errno with a one-line reason in err. */
typedef int (*job_run_fn)(struct core *c, const struct job_row *j, char *err, size_t errlen);

struct jobs *jobs_start(struct core *c, int workers);
/* Stops the workers after their current job; running jobs that do not
 * finish are run again at the next start. */
void jobs_stop(struct jobs *q);
void jobs_wake(struct jobs *q);
/* Status lines for a tenant: depth, done, failed with reasons, rate, ETA. */
int jobs_status(struct jobs *q, struct store *s, int64_t tenant, struct strbuf *out);

#endif
