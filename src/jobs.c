/* jobs.c - the background job queue and its workers (jobs.h). */
#include "jobs.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "copilot.h"
#include "inbox.h"
#include "strbuf.h"

#define RATE_RING 256   /* completion times kept per tenant for the rate */
#define RATE_WINDOW_MS 60000

static const job_run_fn handlers[] = {
	[JOB_SUMMARY] = summary_job_run,
	[JOB_SIMILAR] = similar_job_run,
	[JOB_SIMILAR_PEER] = similar_job_run,
	[JOB_SIMILAR_VIEW] = similar_view_job_run,
};
static const char *const kind_names[] = { [JOB_SUMMARY] = "summary", [JOB_SIMILAR] = "similar",
					  [JOB_SIMILAR_PEER] = "similar",
					  [JOB_SIMILAR_VIEW] = "similar view" };

/* Recent completions of one tenant, for the rate and the ETA. */
struct rate {
	int64_t tenant;
	int64_t at[RATE_RING]; /* epoch ms */
	size_t n, next;
	struct rate *link;
};

struct jobs {
	struct core *core;
	pthread_t *threads;
	int n_threads;
	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t cond;
	bool stop;
	uint64_t wakes;
	struct rate *rates;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Call with q->lock held. */
static struct rate *rate_get(struct jobs *q, int64_t tenant, bool add)
{
	struct rate *r;

	for (r = q->rates; r; r = r->link)
		if (r->tenant == tenant)
			return r;
	if (!add || !(r = calloc(1, sizeof(*r))))
		return NULL;
	r->tenant = tenant;
	r->link = q->rates;
	q->rates = r;
	return r;
}

static void rate_note(struct jobs *q, int64_t tenant)
{
	pthread_mutex_lock(&q->lock);
	struct rate *r = rate_get(q, tenant, true);
	if (r) {
		r->at[r->next] = now_ms();
		r->next = (r->next + 1) % RATE_RING;
		if (r->n < RATE_RING)
			r->n++;
	}
	pthread_mutex_unlock(&q->lock);
}

/* Jobs a second over the last minute's completions; 0 when too few. */
static double rate_get_per_s(struct jobs *q, int64_t tenant)
{
	double per_s = 0;

	pthread_mutex_lock(&q->lock);
	struct rate *r = rate_get(q, tenant, false);
	if (r && r->n >= 2) {
		int64_t now = now_ms(), oldest = now;
		size_t n = 0;
		for (size_t i = 0; i < r->n; i++)
			if (now - r->at[i] <= RATE_WINDOW_MS) {
				n++;
				oldest = r->at[i] < oldest ? r->at[i] : oldest;
			}
		/* n completions over the time since the first of them */
		if (n >= 2 && now > oldest)
			per_s = (double)n * 1000.0 / (double)(now - oldest);
	}
	pthread_mutex_unlock(&q->lock);
	return per_s;
}

static int64_t backoff_ms(const struct tenant_config *cfg, int attempt)
{
	int64_t s = cfg->job_backoff_s;

	for (int i = 1; i < attempt && s < JOBS_BACKOFF_MAX_S; i++)
		s *= 2;
	return (s < JOBS_BACKOFF_MAX_S ? s : JOBS_BACKOFF_MAX_S) * 1000;
}

static void job_run(struct jobs *q, struct job_row *j)
{
	struct store *s = q->core->store;
	char err[1024] = "";
	int rc;

	if (j->kind < JOB_SUMMARY || j->kind > JOB_SIMILAR_VIEW) {
		store_job_retry(s, j, 0, "unknown job kind (written by a newer deskfs?)", true);
		return;
	}
	rc = handlers[j->kind](q->core, j, err, sizeof(err));
	if (!rc) {
		store_job_finish(s, j);
		rate_note(q, j->tenant_id);
		return;
	}
	if (!*err)
		snprintf(err, sizeof(err), "%s", strerror(-rc));
	struct tenant_config cfg;
	config_load(s, j->tenant_id, &cfg, NULL);
	bool dead = j->attempts >= cfg.job_attempts;
	char line[1200];
	snprintf(line, sizeof(line), "%s (attempt %d of %d)", err, j->attempts, cfg.job_attempts);
	store_job_retry(s, j, dead ? 0 : now_ms() + backoff_ms(&cfg, j->attempts), line, dead);
	config_clear(&cfg);
	if (dead) {
		char ev[1400];
		snprintf(ev, sizeof(ev), "%s job failed for good: %s", kind_names[j->kind], line);
		store_event_add(s, j->tenant_id, ev);
	}
}

static void *worker_main(void *arg)
{
	struct jobs *q = arg;

	pthread_mutex_lock(&q->lock);
	while (!q->stop) {
		uint64_t wakes = q->wakes;
		struct job_row j;
		int64_t next = 0;
		pthread_mutex_unlock(&q->lock);
		int rc = store_job_claim(q->core->store, now_ms(), &j, &next);
		if (!rc)
			job_run(q, &j);
		pthread_mutex_lock(&q->lock);
		if (!rc || q->stop || q->wakes != wakes)
			continue;
		/* nothing ready: sleep until woken, the next run_after, or the poll */
		int64_t until = now_ms() + JOBS_POLL_S * 1000;
		if (next && next < until)
			until = next;
		struct timespec ts = { (time_t)(until / 1000), (long)(until % 1000) * 1000000 };
		pthread_cond_timedwait(&q->cond, &q->lock, &ts);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

struct jobs *jobs_start(struct core *c, int workers)
{
	struct jobs *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->core = c;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	if (workers < 1)
		workers = 1;
	if (workers > JOBS_WORKERS_MAX)
		workers = JOBS_WORKERS_MAX;
	if (store_job_recover(c->store) || !(q->threads = calloc((size_t)workers, sizeof(pthread_t))))
		goto fail;
	for (; q->n_threads < workers; q->n_threads++)
		if (pthread_create(&q->threads[q->n_threads], NULL, worker_main, q))
			goto fail;
	return q;
fail:
	jobs_stop(q);
	return NULL;
}

void jobs_stop(struct jobs *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->stop = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	for (int i = 0; i < q->n_threads; i++)
		pthread_join(q->threads[i], NULL);
	while (q->rates) {
		struct rate *r = q->rates;
		q->rates = r->link;
		free(r);
	}
	free(q->threads);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

void jobs_wake(struct jobs *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->wakes++;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

struct dead_lines {
	struct strbuf *out;
	struct store *s;
};

static int dead_line(void *ctx, int64_t doc_id, enum job_kind kind, const char *error)
{
	struct dead_lines *d = ctx;
	struct doc_row doc;

	if (store_doc_get(d->s, doc_id, &doc))
		return 0;
	strbuf_addf(d->out, "  %s of tickets/%s: %s\n",
		    kind >= JOB_SUMMARY && kind <= JOB_SIMILAR_VIEW ? kind_names[kind] : "job", doc.name,
		    error);
	doc_row_clear(&doc);
	return 0;
}

int jobs_status(struct jobs *q, struct store *s, int64_t tenant, struct strbuf *out)
{
	struct job_stats js;
	int64_t cnt[CNT__COUNT];
	int rc;

	if ((rc = store_job_stats(s, tenant, &js)) || (rc = store_counters(s, tenant, cnt)))
		return rc;
	strbuf_addf(out, "jobs: %lld queued, %lld running, %lld done (%lld summaries), %lld failed",
		    (long long)js.queued, (long long)js.running, (long long)cnt[CNT_JOBS_DONE],
		    (long long)cnt[CNT_SUMMARIES_DONE], (long long)js.dead);
	/* while work is queued: the last minute's rate and what it leaves */
	int64_t left = js.queued + js.running;
	double per_s = q && left ? rate_get_per_s(q, tenant) : 0;
	if (per_s > 0)
		strbuf_addf(out, "; %.1f jobs/s, about %.0f s left", per_s, (double)left / per_s);
	strbuf_addch(out, '\n');
	if (js.dead) {
		struct dead_lines d = { out, s };
		strbuf_addstr(out, "failed jobs (newest first):\n");
		rc = store_job_dead_list(s, tenant, 10, dead_line, &d);
	}
	return rc ? rc : out->err;
}
