/* query_queue.c - background answering of query files (query_queue.h). */
#include "query_queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "inbox.h"
#include "provider.h"
#include "query.h"

struct entry {
	int64_t id, tenant;
	uint64_t seq;      /* the latest run asked for */
	int64_t since_ms;
	bool queued;       /* on the FIFO */
	struct entry *next; /* all entries */
	struct entry *qnext; /* FIFO */
};

struct query_queue {
	struct core *core;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct entry *entries;
	struct entry *head, *tail;
	uint64_t next_seq;
	bool stop;
	query_done_cb done;
	void *done_arg;
	int done_running;          /* callbacks in flight */
	pthread_cond_t done_idle;  /* signalled when done_running drops to 0 */
	int n_workers;
	pthread_t workers[];
};

static struct entry *entry_find(struct query_queue *q, int64_t id)
{
	for (struct entry *e = q->entries; e; e = e->next)
		if (e->id == id)
			return e;
	return NULL;
}

static void entry_drop(struct query_queue *q, struct entry *e)
{
	for (struct entry **p = &q->entries; *p; p = &(*p)->next)
		if (*p == e) {
			*p = e->next;
			free(e);
			return;
		}
}

/* Calls the done callback, if any, outside the lock; q->lock not held. */
static void notify_done(struct query_queue *q, int64_t id)
{
	query_done_cb cb;
	void *arg;

	pthread_mutex_lock(&q->lock);
	cb = q->done;
	arg = q->done_arg;
	if (cb)
		q->done_running++;
	pthread_mutex_unlock(&q->lock);
	if (!cb)
		return;
	cb(arg, id);
	pthread_mutex_lock(&q->lock);
	if (!--q->done_running)
		pthread_cond_broadcast(&q->done_idle);
	pthread_mutex_unlock(&q->lock);
}

/* Runs one query; stores its answer when it is still the latest run. */
static void run_one(struct query_queue *q, int64_t tenant, int64_t id, uint64_t seq)
{
	struct core *c = q->core;
	struct tenant_config cfg;
	struct query_result res = { 0 };
	struct inbox_row row;
	char *data = NULL;
	size_t len = 0;
	struct entry *e;
	bool current, done = false;
	int rc;

	if ((rc = store_inbox_get(c->store, id, &row)))
		goto finish; /* removed meanwhile */
	inbox_row_clear(&row);
	if ((rc = store_inbox_data_read(c->store, id, &data, &len)))
		goto finish;
	config_load(c->store, tenant, &cfg, NULL);
	rc = query_run(c->store, c->retriever, &cfg, tenant, data, len, &res);
	config_clear(&cfg);
	if (rc)
		goto finish;
	pthread_mutex_lock(&q->lock);
	e = entry_find(q, id);
	current = e && e->seq == seq;
	if (current) {
		if (!(rc = store_begin(c->store))) {
			if (!(rc = store_answer_set(c->store, id, res.text, res.text_len, res.json,
						    res.json_len)))
				rc = store_counter_add(c->store, tenant, CNT_QUERIES, 1);
			if (rc)
				store_rollback(c->store);
			else
				rc = store_commit(c->store);
		}
		if (rc)
			fprintf(stderr, "deskfs: cannot store the answer of query %lld: %s\n",
				(long long)id, strerror(-rc));
		if (!e->queued) {
			entry_drop(q, e);
			done = true;
		}
	}
	pthread_mutex_unlock(&q->lock);
	query_result_clear(&res);
	free(data);
	if (done)
		notify_done(q, id);
	return;
finish:
	/* gone or unreadable: nothing to answer; wake whoever waits */
	if (rc && rc != -ENOENT)
		fprintf(stderr, "deskfs: query %lld failed: %s\n", (long long)id, strerror(-rc));
	free(data);
	pthread_mutex_lock(&q->lock);
	e = entry_find(q, id);
	if (e && e->seq == seq && !e->queued) {
		entry_drop(q, e);
		done = true;
	}
	pthread_mutex_unlock(&q->lock);
	if (done)
		notify_done(q, id);
}

static void *worker(void *arg)
{
	struct query_queue *q = arg;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (!q->head && !q->stop)
			pthread_cond_wait(&q->cond, &q->lock);
		if (q->stop)
			break;
		struct entry *e = q->head;
		q->head = e->qnext;
		if (!q->head)
			q->tail = NULL;
		e->queued = false;
		int64_t tenant = e->tenant, id = e->id;
		uint64_t seq = e->seq;
		pthread_mutex_unlock(&q->lock);
		run_one(q, tenant, id, seq);
		pthread_mutex_lock(&q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

struct query_queue *query_queue_start(struct core *c, int workers)
{
	struct query_queue *q;

	if (workers < 1)
		workers = QUERY_WORKERS_DEFAULT;
	if (!(q = calloc(1, sizeof(*q) + (size_t)workers * sizeof(pthread_t))))
		return NULL;
	q->core = c;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	pthread_cond_init(&q->done_idle, NULL);
	for (int i = 0; i < workers; i++) {
		if (pthread_create(&q->workers[i], NULL, worker, q))
			break;
		q->n_workers++;
	}
	if (!q->n_workers) {
		query_queue_stop(q);
		return NULL;
	}
	return q;
}

void query_queue_stop(struct query_queue *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->stop = true;
	q->done = NULL;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	for (int i = 0; i < q->n_workers; i++)
		pthread_join(q->workers[i], NULL);
	while (q->entries)
		entry_drop(q, q->entries);
	pthread_cond_destroy(&q->cond);
	pthread_cond_destroy(&q->done_idle);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

void query_queue_on_done(struct query_queue *q, query_done_cb cb, void *arg)
{
	pthread_mutex_lock(&q->lock);
	q->done = cb;
	q->done_arg = arg;
	while (q->done_running) /* the old callback may be running: wait it out */
		pthread_cond_wait(&q->done_idle, &q->lock);
	pthread_mutex_unlock(&q->lock);
}

uint64_t query_queue_begin(struct query_queue *q, int64_t id)
{
	struct entry *e;
	uint64_t seq;

	pthread_mutex_lock(&q->lock);
	seq = ++q->next_seq;
	if (!(e = entry_find(q, id)) && (e = calloc(1, sizeof(*e)))) {
		e->id = id;
		e->next = q->entries;
		q->entries = e;
	}
	if (e) {
		e->seq = seq;
		e->since_ms = provider_now_ms();
	}
	pthread_mutex_unlock(&q->lock);
	return seq;
}

int query_queue_submit(struct query_queue *q, int64_t tenant, int64_t id, uint64_t seq)
{
	struct entry *e;
	int rc = 0;

	pthread_mutex_lock(&q->lock);
	e = entry_find(q, id);
	if (!e) {
		rc = -ENOMEM; /* begin could not allocate it */
	} else if (e->seq == seq && !e->queued) {
		e->tenant = tenant;
		e->queued = true;
		e->qnext = NULL;
		if (q->tail)
			q->tail->qnext = e;
		else
			q->head = e;
		q->tail = e;
		pthread_cond_signal(&q->cond);
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}

bool query_queue_pending(struct query_queue *q, int64_t id, int64_t *since_ms)
{
	struct entry *e;

	pthread_mutex_lock(&q->lock);
	e = entry_find(q, id);
	if (e && since_ms)
		*since_ms = e->since_ms;
	pthread_mutex_unlock(&q->lock);
	return e != NULL;
}

static int recover_one(void *ctx, const struct inbox_row *r)
{
	struct query_queue *q = ctx;

	if (inbox_name_is_temp(r->name))
		return 0;
	return query_queue_submit(q, r->tenant_id, r->id, query_queue_begin(q, r->id));
}

int query_queue_recover(struct query_queue *q)
{
	return store_query_pending(q->core->store, recover_one, q);
}
