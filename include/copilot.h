/* copilot.h - what a support agent reads beside a ticket: its summary
 * (tickets/NAME/summary.md, also summaries/NAME.md) and the tickets that
 * look like it with related articles (similar.md, similar.json). Both are
 * made by background jobs (jobs.h) and stored as rendered, so stat and
 * read are one indexed row and a file always matches its stat size.
 * similar.md quotes the listed tickets' summaries: when one changes, or a
 * listed ticket goes, the store marks the files stale and queues a
 * JOB_SIMILAR_VIEW that renders them again (store.h, "Rendered files");
 * meanwhile a read renders them on the spot.
 *
 * Pipeline of one ticket:
 *   ingested new or changed --> summary job --> similar job --> similar
 *   jobs of its SIMILAR_PEERS best matches (so their lists show it)
 *   --> view jobs of the tickets whose lists quote its summary
 * A job that fails for good leaves "state: failed: REASON" in the file.
 * Similar tickets are found by hybrid retrieval (retrieve.h) over the
 * tenant's tickets with the summary's problem (and its cause and solution
 * when the ticket states them) as the question; the ticket itself is never
 * in its list.
 *
 * Ownership: returned buffers are malloc'd; the caller frees them.
 */
#ifndef DESKFS_COPILOT_H
#define DESKFS_COPILOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define SIMILAR_TICKETS 10
#define SIMILAR_WORDS_MAX 4096 /* bytes of a ticket's own text in its similar search */
#define SIMILAR_ARTICLES 3
#define SIMILAR_PEERS 3 /* a new ticket's best matches whose lists are made again */

struct core;

/* Queues the summary of a new or changed ticket (in the ingest txn). */
int copilot_ticket_changed(struct store *s, int64_t tenant, int64_t doc_id);

/* Job handlers (job_run_fn). */
int summary_job_run(struct core *c, const struct job_row *j, char *err, size_t errlen);
int similar_job_run(struct core *c, const struct job_row *j, char *err, size_t errlen);
int similar_view_job_run(struct core *c, const struct job_row *j, char *err, size_t errlen);

/* A rendered file: body (malloc'd; NULL when only its size was asked
 * for), its length, mtime and the tenant it belongs to. */
struct copilot_file {
	char *body;
	size_t len;
	int64_t mtime, tenant_id;
};
/* summary.md of ticket doc_id: pending, failed or the summary; mtime when
 * it was made (the ticket's mtime while pending). */
int copilot_summary_md(struct store *s, int64_t doc_id, bool body, struct copilot_file *out);
/* similar.md (json false) or similar.json (json true) of ticket doc_id:
 * the stored rendering, or (not yet rendered, or stale) rendered now. */
int copilot_similar(struct store *s, int64_t doc_id, bool json, bool body,
		    struct copilot_file *out);

#endif
