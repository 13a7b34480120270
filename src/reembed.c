/* reembed.c - the background embedding thread (reembed.h). */
#include "reembed.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "store.h"
#include "util.h"

/* What the thread remembers of one tenant. */
struct tenant_state {
	int64_t tenant;
	char model[EMBED_MODEL_MAX];
	int64_t cursor;      /* passages up to this id have vectors of model */
	int64_t done;
	int64_t retry_at;    /* monotonic ms; 0: no wait */
	char error[PROVIDER_NOTE_MAX];
	int64_t error_time;
	struct tenant_state *next;
};

struct reembed {
	struct store *store;
	pthread_t thread;
	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t cond;
	bool stop, woken;
	struct tenant_state *tenants;
};

/* A batch of stale passages. */
struct batch {
	int64_t *ids;
	char **texts;
	size_t n, cap;
};

static void batch_clear(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->texts[i]);
	free(b->ids);
	free(b->texts);
	memset(b, 0, sizeof(*b));
}

static int batch_add(void *arg, const struct passage_load *p)
{
	struct batch *b = arg;
	char *text;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		int64_t *ids = realloc(b->ids, cap * sizeof(*ids));
		if (!ids)
			return -ENOMEM;
		b->ids = ids;
		char **texts = realloc(b->texts, cap * sizeof(*texts));
		if (!texts)
			return -ENOMEM;
		b->texts = texts;
		b->cap = cap;
	}
	/* what the offline embedder sees at ingest: the passage's text */
	if (!(text = strdup(p->text)))
		return -ENOMEM;
	b->ids[b->n] = p->id;
	b->texts[b->n++] = text;
	return 0;
}

/* Call with w->lock held. */
static struct tenant_state *state_get(struct reembed *w, int64_t tenant)
{
	struct tenant_state *t;

	for (t = w->tenants; t; t = t->next)
		if (t->tenant == tenant)
			return t;
	if (!(t = calloc(1, sizeof(*t))))
		return NULL;
	t->tenant = tenant;
	t->next = w->tenants;
	w->tenants = t;
	return t;
}

/* Moves t's cursor to id after n passages were embedded, unless the model
 * changed meanwhile (the cursor then restarted from 0). */
static void cursor_advance(struct reembed *w, struct tenant_state *t, const char *model,
			   int64_t id, size_t n)
{
	pthread_mutex_lock(&w->lock);
	if (!strcmp(t->model, model) && id > t->cursor) {
		t->cursor = id;
		t->done += (int64_t)n;
		if (n)
			t->error[0] = 0;
	}
	pthread_mutex_unlock(&w->lock);
}

/* Embeds and writes one batch of the tenant's stale passages. Returns 1
 * if it did work, 0 if nothing was stale, -errno (err set) on failure. */
static int tenant_round(struct reembed *w, int64_t tenant, char *err, size_t errlen)
{
	struct tenant_config cfg;
	struct tenant_state *t = NULL;
	struct batch b = { 0 };
	char mbuf[EMBED_MODEL_MAX], model[EMBED_MODEL_MAX], perr[PROVIDER_ERR_MAX];
	float *vecs = NULL;
	char *blobs = NULL;
	int64_t cursor, top = 0;
	int dim = 0, rc;

	if ((rc = config_load(w->store, tenant, &cfg, NULL))) {
		snprintf(err, errlen, "cannot read the config: %s", strerror(-rc));
		return rc;
	}
	snprintf(model, sizeof(model), "%s", config_embed_model(&cfg.embedder, mbuf, sizeof(mbuf)));
	pthread_mutex_lock(&w->lock);
	if (!(t = state_get(w, tenant))) {
		pthread_mutex_unlock(&w->lock);
		rc = -ENOMEM;
		goto out;
	}
	if (strcmp(t->model, model)) {
		snprintf(t->model, sizeof(t->model), "%s", model);
		t->cursor = 0;
		t->retry_at = 0;
		t->error[0] = 0;
	}
	cursor = t->cursor;
	bool waiting = t->retry_at && provider_now_ms() < t->retry_at;
	pthread_mutex_unlock(&w->lock);
	if (waiting) {
		rc = 0;
		goto out;
	}
	/* Passages at or below the cursor were all seen with this model; the
	 * highest id read first bounds what a short scan has seen. */
	int limit = cfg.embedder.batch > 0 ? cfg.embedder.batch : 64;
	if (!(rc = store_passage_max(w->store, tenant, &top)) && top > cursor)
		rc = store_passage_stale(w->store, tenant, model, cursor, limit, batch_add, &b);
	if (rc) {
		snprintf(err, errlen, "cannot read passages: %s", strerror(-rc));
		goto out;
	}
	if (!b.n) {
		cursor_advance(w, t, model, top, 0);
		goto out;
	}
	if (cfg.embedder.api == API_OFFLINE) {
		struct embedder *e = embed_offline();
		dim = e->dim;
		if (!(vecs = malloc(b.n * (size_t)dim * sizeof(float))))
			rc = -ENOMEM;
		else
			rc = e->embed(e, (const char *const *)b.texts, b.n, vecs);
		if (rc)
			snprintf(err, errlen, "offline embedder: %s", strerror(-rc));
	} else if ((rc = provider_embed(&cfg.embedder, (const char *const *)b.texts, b.n, &vecs,
					&dim, perr))) {
		provider_embed_note(&cfg.embedder, perr, err, errlen);
	}
	if (rc)
		goto out;
	if (!(blobs = vec_blobs(vecs, b.n, dim))) {
		rc = -ENOMEM;
		goto out;
	}
	if (!(rc = store_begin(w->store))) {
		rc = store_passage_vec_set(w->store, tenant, b.ids, b.n, model, blobs,
					   VEC_BLOB_LEN(dim));
		if (rc)
			store_rollback(w->store);
		else
			rc = store_commit(w->store);
	}
	if (rc) {
		snprintf(err, errlen, "cannot store vectors: %s", strerror(-rc));
		goto out;
	}
	cursor = b.ids[b.n - 1];
	cursor_advance(w, t, model, (int)b.n < limit && top > cursor ? top : cursor, b.n);
	rc = 1;
out:
	if (rc < 0 && t) {
		pthread_mutex_lock(&w->lock);
		snprintf(t->error, sizeof(t->error), "%s", err);
		t->error_time = (int64_t)time(NULL);
		t->retry_at = provider_now_ms() + REEMBED_RETRY_S * 1000;
		pthread_mutex_unlock(&w->lock);
	}
	free(blobs);
	free(vecs);
	batch_clear(&b);
	config_clear(&cfg);
	return rc;
}

struct tenant_ids {
	int64_t *ids;
	size_t n, cap;
};

static int tenant_collect(void *arg, const struct tenant_row *row)
{
	struct tenant_ids *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		int64_t *ids = realloc(l->ids, cap * sizeof(*ids));
		if (!ids)
			return -ENOMEM;
		l->ids = ids;
		l->cap = cap;
	}
	l->ids[l->n++] = row->id;
	return 0;
}

static bool stopping(struct reembed *w)
{
	pthread_mutex_lock(&w->lock);
	bool stop = w->stop;
	pthread_mutex_unlock(&w->lock);
	return stop;
}

static void *reembed_main(void *arg)
{
	struct reembed *w = arg;
	char err[PROVIDER_NOTE_MAX];

	for (;;) {
		struct tenant_ids l = { 0 };
		bool worked = false;

		pthread_mutex_lock(&w->lock);
		w->woken = false;
		pthread_mutex_unlock(&w->lock);
		if (stopping(w))
			break;
		if (!store_tenant_list(w->store, 0, tenant_collect, &l))
			for (size_t i = 0; i < l.n && !stopping(w); i++)
				worked |= tenant_round(w, l.ids[i], err, sizeof(err)) > 0;
		free(l.ids);
		if (worked)
			continue;
		pthread_mutex_lock(&w->lock);
		if (!w->stop && !w->woken) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += REEMBED_POLL_S;
			pthread_cond_timedwait(&w->cond, &w->lock, &ts);
		}
		pthread_mutex_unlock(&w->lock);
	}
	return NULL;
}

struct reembed *reembed_start(struct store *s)
{
	struct reembed *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->store = s;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	if (pthread_create(&w->thread, NULL, reembed_main, w)) {
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->cond);
		free(w);
		return NULL;
	}
	return w;
}

void reembed_stop(struct reembed *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	while (w->tenants) {
		struct tenant_state *t = w->tenants;
		w->tenants = t->next;
		free(t);
	}
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w);
}

void reembed_wake(struct reembed *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->woken = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

int reembed_progress(struct reembed *w, int64_t tenant, struct reembed_progress *out)
{
	struct tenant_config cfg;
	char mbuf[EMBED_MODEL_MAX];
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = config_load(w->store, tenant, &cfg, NULL)))
		return rc;
	snprintf(out->model, sizeof(out->model), "%s",
		 config_embed_model(&cfg.embedder, mbuf, sizeof(mbuf)));
	config_clear(&cfg);
	pthread_mutex_lock(&w->lock);
	for (struct tenant_state *t = w->tenants; t; t = t->next)
		if (t->tenant == tenant && !strcmp(t->model, out->model)) {
			out->done = t->done;
			snprintf(out->error, sizeof(out->error), "%s", t->error);
			out->error_time = t->error_time;
		}
	pthread_mutex_unlock(&w->lock);
	/* counting reads every passage of the tenant: only when this thread
	 * has (or had) work, which an offline tenant has only after a change
	 * of model */
	if (strcmp(out->model, EMBED_OFFLINE_MODEL) || out->done || out->error[0])
		return store_passage_stale_count(w->store, tenant, out->model, &out->total,
						 &out->stale);
	return 0;
}
