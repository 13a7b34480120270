/* reembed.h - passage vectors made in the background (FUSE-free).
 *
 * One thread keeps each tenant's passage vectors in step with the tenant's
 * configured embedder (TENANT/config "embedder"). Ingest embeds with the
 * offline embedder inside its transaction; with an HTTP embedder it stores
 * passages without vectors, and this thread makes them. A change of model
 * makes every passage stale, so the tenant is re-embedded here too while
 * searches use the vectors already made (retrieve.h: a passage without a
 * vector of the current model is found by BM25 only).
 *
 * Per tenant:
 *   idle --woken (ingest, config saved) or REEMBED_POLL_S--> working
 *   working: batches of the embedder's `batch` passages in id order whose
 *     vector is not of the model: embedded with no lock held, written in
 *     one short transaction each; one batch per tenant per round, so
 *     tenants share the thread
 *   a failed batch --> waiting REEMBED_RETRY_S (the provider's own retries,
 *     backoff and circuit breaker apply within the batch); the reason is
 *     kept for TENANT/status
 *
 * Ownership: the store is borrowed and must outlive the thread.
 */
#ifndef DESKFS_REEMBED_H
#define DESKFS_REEMBED_H

#include <stdbool.h>
#include <stdint.h>

#include "embed.h"
#include "provider.h"

#define REEMBED_POLL_S 5
#define REEMBED_RETRY_S 30

struct store;
struct reembed;

struct reembed_progress {
	char model[EMBED_MODEL_MAX]; /* the tenant's embedding model */
	int64_t total, stale;        /* passages; those without its vector */
	int64_t done;                /* vectors made by this thread since the mount */
	char error[PROVIDER_NOTE_MAX]; /* the last failure, "" if none since */
	int64_t error_time;          /* when (seconds since the epoch) */
};

struct reembed *reembed_start(struct store *s);
/* Stops the thread (a batch in progress is finished or abandoned unwritten). */
void reembed_stop(struct reembed *w);
/* Asks for a round now (new passages or a new config). */
void reembed_wake(struct reembed *w);
/* The tenant's progress; total and stale are counted in the store now. */
int reembed_progress(struct reembed *w, int64_t tenant, struct reembed_progress *out);

#endif
