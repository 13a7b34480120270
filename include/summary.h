/* summary.h - a ticket's structured summary: Problem, Cause, Solution,
 * Result (FUSE-free).
 *
 * summary_make tries the tenant's providers in order, like query answers:
 * an HTTP provider is asked for a JSON object with exactly the four fields;
 * a reply that is not one gets one repair request naming what was wrong,
 * and a second bad reply fails that provider. A ticket longer than
 * summary_chunk_tokens is cut at message boundaries into chunks that are
 * summarized one by one and then merged by one more request. The offline
 * provider (and any ticket shorter than summary_min_words words, or sent
 * by a machine) gets the built-in extractive summary: problem from the
 * first customer message, cause from an agent sentence that gives one,
 * solution from the last agent reply, result from the status.
 *
 * Ownership: struct summary owns its four strings (summary_clear).
 */
#ifndef DESKFS_SUMMARY_H
#define DESKFS_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "strbuf.h"
#include "ticket.h"

#define SUMMARY_METHOD_MAX 256
#define SUMMARY_NOT_STATED "Not stated in the ticket."
#define SUMMARY_NO_REPLY "No agent reply in the ticket."
#define SUMMARY_NO_STATUS "The source gives no status."
/* false for an empty field or one of the placeholders above: it says
 * nothing about the ticket (left out of what is indexed and searched) */
bool summary_field_stated(const char *v);

struct summary {
	char *problem, *cause, *solution, *result;
};

void summary_clear(struct summary *s);
int summary_extractive(const struct ticket *t, struct summary *out);
/* Returns 0 with *out and method ("extractive (built-in)", "provider
 * 'NAME' (API, model M)"), or -errno with a one-line reason in err (every
 * provider failed). */
int summary_make(const struct tenant_config *cfg, const struct ticket *t, struct summary *out,
		 char method[SUMMARY_METHOD_MAX], char *err, size_t errlen);
/* Parses a model's reply: a JSON object (a ```json fence is allowed) with
 * exactly the four string fields, none empty. -EINVAL with why. */
int summary_parse_reply(const char *text, struct summary *out, char *why, size_t whylen);
/* {"problem": ..., "cause": ..., "solution": ..., "result": ...} */
char *summary_to_json(const struct summary *s);
/* summary.md: title line, state, method and the four fields. */
void summary_render_md(const char *ticket_name, const char *subject, const struct summary *s,
		       const char *method, const char *state, struct strbuf *out);

#endif
