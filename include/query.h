/* query.h - query files: what was written, run, and the answer.
 *
 * A query file holds optional "key: value" lines, then the question:
 *
 *   k: 5
 *   mode: search
 *   customers cannot log in after the 2.3 update
 *
 * Sources with feedback (feedback.h) on similar earlier questions are
 * ranked up or down; the option "feedback: off" ranks without it.
 *
 * Option lines are lines of the form "word: value" (a lower-case word)
 * before the question; an empty line ends them (so a question that
 * starts like an option can follow an empty line). Unknown keys and bad
 * values are reported in the answer file, not silently ignored.
 *
 * The answer file is the query as written, the line QUERY_SEPARATOR, and
 * the result: the answer with [n] citations (not in mode: search) and the
 * numbered sources. Writing the answer file back (an editor saving it)
 * re-runs the query above the separator. NAME.json holds the same
 * result for programs.
 */
#ifndef DESKFS_QUERY_H
#define DESKFS_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "retrieve.h"

#define QUERY_SEPARATOR "--- deskfs answer ---"
#define QUERY_K_DEFAULT 5
#define QUERY_K_MAX 100

struct query_result {
	char *text, *json; /* malloc'd, NUL-terminated */
	size_t text_len, json_len;
};

/* Runs the query written (len bytes) against tenant with its config:
 * retrieval, then the providers of cfg in order until one answers (the
 * offline answerer never fails). Always produces a result: option errors
 * and provider failures are written into it. Returns 0 or -ENOMEM. */
int query_run(struct store *s, struct retriever *r, const struct tenant_config *cfg,
	      int64_t tenant, const char *written, size_t len, struct query_result *out);
/* The file shown while a query runs: what was written, the separator and
 * a line saying it is pending. NULL on allocation failure. */
char *query_pending_text(const char *written, size_t len, double elapsed_s, size_t *out_len);
#define QUERY_PENDING_JSON "{\n  \"state\": \"pending\"\n}\n"

/* The question of a query file's content (options and any answer left
 * out), malloc'd; NULL when it has none (or out of memory). */
char *query_question(const char *written, size_t len);

/* The system prompt sent to LLM providers. */
extern const char query_system_prompt[];
void query_result_clear(struct query_result *q);

#endif
