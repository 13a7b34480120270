/* status.c - the text of TENANT/status (status.h). */
#include "status.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "embed.h"
#include "inbox.h"
#include "jobs.h"
#include "reembed.h"
#include "store.h"
#include "util.h"

/* What every section may read: loaded once per render. */
struct status_ctx {
	struct core *c;
	int64_t tenant;
	struct tenant_row t;
	struct tenant_usage u;
	int64_t cnt[CNT__COUNT];
};

typedef int (*section_fn)(const struct status_ctx *x, struct strbuf *sb);

static int section_counts(const struct status_ctx *x, struct strbuf *sb)
{
	const int64_t *cnt = x->cnt;

	strbuf_addf(sb, "tenant: %s\n", x->t.name);
	strbuf_addf(sb, "tickets: %lld\n", (long long)x->u.tickets);
	strbuf_addf(sb, "articles: %lld\n", (long long)x->u.articles);
	strbuf_addf(sb, "inbox files waiting or rejected: %lld\n",
		    (long long)(x->u.inbox + x->u.kb_pending));
	strbuf_addf(sb, "query files: %lld (%lld queries run)\n", (long long)x->u.queries,
		    (long long)cnt[CNT_QUERIES]);
	strbuf_addf(sb, "files ingested: %lld\n", (long long)cnt[CNT_FILES_INGESTED]);
	strbuf_addf(sb, "files rejected: %lld\n", (long long)cnt[CNT_FILES_REJECTED]);
	strbuf_addf(sb, "records rejected: %lld\n", (long long)cnt[CNT_RECORDS_REJECTED]);
	strbuf_addf(sb, "records created: %lld\n", (long long)cnt[CNT_CREATED]);
	strbuf_addf(sb, "records updated: %lld\n", (long long)cnt[CNT_UPDATED]);
	strbuf_addf(sb, "records unchanged (re-copied): %lld\n", (long long)cnt[CNT_UNCHANGED]);
	strbuf_addf(sb, "records deleted at source: %lld\n", (long long)cnt[CNT_DELETED]);
	return 0;
}

/* The embedding progress. A core without the re-embedding thread (a
 * client) reports what reembed_progress() reads from the store for a
 * thread that has done nothing yet: the model, and the passage counts
 * unless the model is the offline one. */
static int embed_progress(const struct status_ctx *x, struct reembed_progress *pr)
{
	struct tenant_config cfg;
	char mbuf[EMBED_MODEL_MAX];
	int rc;

	if (x->c->reembed)
		return reembed_progress(x->c->reembed, x->tenant, pr);
	memset(pr, 0, sizeof(*pr));
	if ((rc = config_load(x->c->store, x->tenant, &cfg, NULL)))
		return rc;
	snprintf(pr->model, sizeof(pr->model), "%s",
		 config_embed_model(&cfg.embedder, mbuf, sizeof(mbuf)));
	config_clear(&cfg);
	if (strcmp(pr->model, EMBED_OFFLINE_MODEL))
		return store_passage_stale_count(x->c->store, x->tenant, pr->model, &pr->total,
						 &pr->stale);
	return 0;
}

static int section_embedder(const struct status_ctx *x, struct strbuf *sb)
{
	struct reembed_progress pr;
	int rc;

	if ((rc = embed_progress(x, &pr)))
		return rc;
	if (!pr.total && !pr.done && !pr.error[0])
		strbuf_addf(sb, "embedder: %s (vectors made at ingest)\n", pr.model);
	else
		strbuf_addf(sb, "embedder: %s (%lld of %lld passages embedded%s)\n", pr.model,
			    (long long)(pr.total - pr.stale), (long long)pr.total,
			    pr.stale ? ", the rest in the background" : "");
	if (pr.error[0]) {
		char when[32];
		util_time_format(pr.error_time, when);
		strbuf_addf(sb, "embedder error at %s: %s (retried every %d s)\n", when, pr.error,
			    REEMBED_RETRY_S);
	}
	return 0;
}

static int event_line(void *ctx, int64_t time, const char *text)
{
	struct strbuf *sb = ctx;
	char when[32];

	util_time_format(time, when);
	strbuf_addf(sb, "  %s  %s\n", when, text);
	return 0;
}

static int section_events(const struct status_ctx *x, struct strbuf *sb)
{
	strbuf_addstr(sb, "recent events (newest first):\n");
	return store_event_list(x->c->store, x->tenant, 20, event_line, sb);
}

/* Background jobs: summaries and similar tickets (jobs.h). */
static int section_jobs(const struct status_ctx *x, struct strbuf *sb)
{
	return jobs_status(x->c->jobs, x->c->store, x->tenant, sb);
}

/* In order; the events stay last (they are the open-ended part). */
static const section_fn sections[] = {
	section_counts,
	section_embedder,
	section_jobs,
	section_events,
};

int status_render(struct core *c, int64_t tenant, struct strbuf *out)
{
	struct status_ctx x = { .c = c, .tenant = tenant };
	int rc;

	if ((rc = store_tenant_get(c->store, tenant, &x.t)) ||
	    (rc = store_tenant_usage(c->store, tenant, &x.u)) ||
	    (rc = store_counters(c->store, tenant, x.cnt)))
		return rc;
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if ((rc = sections[i](&x, out)))
			return rc;
	return out->err;
}
