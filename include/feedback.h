/* feedback.h - TENANT/feedback: agents say which sources of an answer
 * helped, and later, similar questions rank those sources up or down.
 *
 * Grammar, one record per line (blank lines and lines starting with '#'
 * are skipped; fields are separated by spaces or tabs):
 *
 *   [TIME] SIGN QUERY SOURCE
 *   TIME   = an RFC 3339 UTC time as the listing shows it (2026-11-22T10:11:12Z);
 *            without it the record is dated now
 *   SIGN   = "+1" or "-1"
 *   QUERY  = "queries/NAME": an existing query file of the tenant; its
 *            question is recorded with the line
 *   SOURCE = "tickets/ID" or any file under it ("tickets/ID/ticket.md"),
 *            or "kb/SLUG.md": an existing ticket or article of the tenant
 *
 * A record adjusts the rank of its source in later queries whose question
 * is similar to the recorded one (the cosine of their offline-embedder
 * vectors, counted from FEEDBACK_MIN_SIMILARITY up; the recorded one is
 * made when the line is written and stored with it), weighted by its age:
 * full when new, falling linearly to nothing at the end of the tenant's
 * feedback window (config feedback_window_days, default 30). A source's
 * records add up to adj = sum(sign * similarity * decay); its fused score
 * is multiplied by 1 + FEEDBACK_GAIN * tanh(adj), so between 0.5 and 1.5.
 */
#ifndef DESKFS_FEEDBACK_H
#define DESKFS_FEEDBACK_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "strbuf.h"

#define FEEDBACK_MIN_SIMILARITY 0.3
#define FEEDBACK_GAIN 0.5
#define FEEDBACK_LINE_MAX 4096

/* One source's adjustment for a question. */
struct feedback_boost {
	int64_t doc_id;
	double adj;    /* sum of sign * similarity * decay */
	double factor; /* what its fused score is multiplied by */
};

/* Records the complete lines of text (len bytes) for tenant, now being
 * the time of undated lines. All or nothing: a bad line records none and
 * returns -EINVAL with "line N: why" in err. */
int feedback_append(struct store *s, int64_t tenant, const char *text, size_t len, int64_t now,
		    char *err, size_t errlen);

/* The listing: every record, oldest first, one "TIME SIGN QUERY SOURCE"
 * line each (a source since deleted is followed by "  # gone"). *mtime
 * (may be NULL) gets the newest record's time, 0 with none. */
int feedback_render(struct store *s, int64_t tenant, struct strbuf *out, int64_t *mtime);

/* The adjustments of the sources with records similar to question and
 * younger than window_s at now; *out malloc'd (free), *n may be 0. */
int feedback_boosts(struct store *s, int64_t tenant, const char *question, int64_t now,
		    int64_t window_s, struct feedback_boost **out, size_t *n);

/* The pieces, for tests: decay of a record age_s old in window_s (1 new,
 * 0 at or past the window), the similarity of two questions (0..1), and
 * the score factor of an adjustment. */
double feedback_decay(int64_t age_s, int64_t window_s);
double feedback_similarity(const char *a, const char *b);
double feedback_factor(double adj);

#endif
