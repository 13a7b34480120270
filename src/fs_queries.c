/* fs_queries.c - TENANT/queries/: write a question to NAME, read the
 * answer from NAME and the machine-readable result from NAME.json
 * (query.h has the format). The files are inbox-area files (inbox.h):
 * the flush of a written NAME queues the query (query_queue.h).
 *
 * What NAME shows:
 *   being written   what was written so far
 *   pending         the question, the separator, "Pending: ..."; an
 *                   open for reading waits (the request is kept, no
 *                   thread blocks) until the answer is stored, up to the
 *                   tenant's query_timeout_s (+ QUERY_WAIT_SLACK_MS)
 *   answered        the answer file; NAME.json the JSON result
 *   temporary name  what was written (never run)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "fs.h"
#include "provider.h"
#include "query.h"

#define QUERY_WAIT_SLACK_MS 5000
#define REAPER_POLL_MS 100 /* checks for interrupted readers */

struct query_wait {
	fuse_req_t req;
	struct fuse_file_info fi; /* fi->fh: the handle */
	int64_t id, deadline_ms;
	struct query_wait *next;
};

/* Replies to w's open and frees w (wait_lock held or w unlinked). */
static void wait_reply(struct query_wait *w, int err)
{
	struct handle *h = (struct handle *)(uintptr_t)w->fi.fh;

	if (err) {
		fuse_reply_err(w->req, err);
		fs_handle_free(h);
	} else if (fuse_reply_open(w->req, &w->fi)) {
		fs_handle_free(h);
	}
	free(w);
}

static void query_done(void *arg, int64_t id)
{
	struct fs *fs = arg;
	struct query_wait **p, *ready = NULL;

	pthread_mutex_lock(&fs->wait_lock);
	for (p = &fs->waiters; *p;) {
		struct query_wait *w = *p;
		if (w->id == id) {
			*p = w->next;
			w->next = ready;
			ready = w;
		} else {
			p = &w->next;
		}
	}
	pthread_mutex_unlock(&fs->wait_lock);
	while (ready) {
		struct query_wait *w = ready;
		ready = w->next;
		wait_reply(w, 0);
	}
}

static void cond_wait_ms(pthread_cond_t *c, pthread_mutex_t *m, int64_t ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000;
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(c, m, &t);
}

/* Ends waits that timed out (the open proceeds; the file says pending)
 * or whose reader was interrupted. */
static void *reaper(void *arg)
{
	struct fs *fs = arg;

	pthread_mutex_lock(&fs->wait_lock);
	while (!fs->stopping) {
		int64_t now = provider_now_ms();
		for (struct query_wait **p = &fs->waiters; *p;) {
			struct query_wait *w = *p;
			bool intr = fuse_req_interrupted(w->req);
			if (intr || now >= w->deadline_ms) {
				*p = w->next;
				wait_reply(w, intr ? EINTR : 0);
			} else {
				p = &w->next;
			}
		}
		if (fs->waiters)
			cond_wait_ms(&fs->wait_cond, &fs->wait_lock, REAPER_POLL_MS);
		else
			pthread_cond_wait(&fs->wait_cond, &fs->wait_lock);
	}
	pthread_mutex_unlock(&fs->wait_lock);
	return NULL;
}

int fs_query_waits_start(struct fs *fs)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&fs->wait_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&fs->wait_cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&fs->reaper, NULL, reaper, fs))
		return -EAGAIN;
	fs->reaper_running = true;
	query_queue_on_done(fs->core->queries, query_done, fs);
	return 0;
}

void fs_query_waits_stop(struct fs *fs)
{
	if (!fs->reaper_running)
		return;
	query_queue_on_done(fs->core->queries, NULL, NULL);
	pthread_mutex_lock(&fs->wait_lock);
	fs->stopping = true;
	while (fs->waiters) {
		struct query_wait *w = fs->waiters;
		fs->waiters = w->next;
		wait_reply(w, EIO);
	}
	pthread_cond_signal(&fs->wait_cond);
	pthread_mutex_unlock(&fs->wait_lock);
	pthread_join(fs->reaper, NULL);
	fs->reaper_running = false;
	pthread_cond_destroy(&fs->wait_cond);
	pthread_mutex_destroy(&fs->wait_lock);
}

bool fs_query_wait(struct fs *fs, fuse_req_t req, const struct node *n,
		   const struct fuse_file_info *fi)
{
	struct tenant_config cfg;
	struct inbox_row r;
	struct query_wait *w;
	int64_t timeout_ms = 60000;

	if (!query_queue_pending(fs->core->queries, n->id, NULL))
		return false;
	if (!store_inbox_get(fs->store, n->id, &r)) {
		config_load(fs->store, r.tenant_id, &cfg, NULL);
		timeout_ms = (int64_t)cfg.query_timeout_s * 1000;
		config_clear(&cfg);
		inbox_row_clear(&r);
	}
	if (!(w = calloc(1, sizeof(*w))))
		return false; /* open now; the file says pending */
	w->req = req;
	w->fi = *fi;
	w->id = n->id;
	w->deadline_ms = provider_now_ms() + timeout_ms + QUERY_WAIT_SLACK_MS;
	pthread_mutex_lock(&fs->wait_lock);
	/* checked again under the lock: query_done takes it after the
	 * query stopped being pending, so no wake-up is lost */
	if (fs->stopping || !query_queue_pending(fs->core->queries, n->id, NULL)) {
		pthread_mutex_unlock(&fs->wait_lock);
		free(w);
		return false;
	}
	w->next = fs->waiters;
	fs->waiters = w;
	pthread_cond_signal(&fs->wait_cond);
	pthread_mutex_unlock(&fs->wait_lock);
	return true;
}

static int queries_lookup(struct fs *fs, const struct node *dir, const char *name,
			  struct node *child)
{
	return fs_area_lookup(fs, dir->id, AREA_QUERY, name, child);
}

static int queries_list(struct fs *fs, const struct node *dir, off_t off, struct dir_fill *df)
{
	return fs_area_list(fs, dir->id, AREA_QUERY, off, df);
}

static int queries_create(struct fs *fs, const struct node *dir, const char *name, mode_t mode,
			  struct node *child)
{
	int rc = fs_area_create(fs, dir->id, AREA_QUERY, name, mode, child);

	if (!rc)
		fs_unhide_range(fs, fs_ino(C_INBOX, child->id, IS_QUERY_JSON),
				fs_ino(C_INBOX, child->id, IS_QUERY_JSON));
	return rc;
}

static int queries_unlink(struct fs *fs, const struct node *dir, const char *name)
{
	struct node child;
	int rc;

	if ((rc = queries_lookup(fs, dir, name, &child)))
		return rc;
	if (child.sub == IS_QUERY)
		return inbox_unlink(fs->core, child.id);
	if (fs_hidden(fs, child.ino))
		return -ENOENT;
	/* NAME.json is a view of NAME: removing it hides it until NAME is
	 * written again ("rm -r queries" removes it first). */
	fs_hide(fs, child.ino);
	return 0;
}

static int queries_rename(struct fs *fs, const struct node *dir, const char *name,
			  const struct node *newdir, const char *newname)
{
	return fs_area_rename(fs, dir->id, AREA_QUERY, name, newdir, newname);
}

static int queries_rmdir(struct fs *fs, const struct node *dir, const char *name)
{
	struct node child;

	return queries_lookup(fs, dir, name, &child) ? -ENOENT : -ENOTDIR;
}

const struct node_ops fs_queries_ops = {
	.getattr = fs_tenant_subdir_getattr,
	.lookup = queries_lookup,
	.list = queries_list,
	.create = queries_create,
	.unlink = queries_unlink,
	.rename = queries_rename,
	.rmdir = queries_rmdir,
};

/* ---- NAME and NAME.json ---------------------------------------------------
 * NAME: while being written its current content; once run the answer;
 * else (a temporary name, never run) what was written. NAME.json: the
 * JSON result, read-only, present once run. */

/* The file shown while a query is pending (-ENOENT when it is not). */
static int query_pending_content(struct fs *fs, const struct node *n, char **buf, size_t *len)
{
	int64_t since;
	char *data;
	size_t dlen;
	int rc;

	if (!query_queue_pending(fs->core->queries, n->id, &since))
		return -ENOENT;
	if (n->sub == IS_QUERY_JSON) {
		*buf = strdup(QUERY_PENDING_JSON);
		*len = strlen(QUERY_PENDING_JSON);
		return *buf ? 0 : -ENOMEM;
	}
	if ((rc = store_inbox_data_read(fs->store, n->id, &data, &dlen)))
		return rc;
	*buf = query_pending_text(data, dlen, (double)(provider_now_ms() - since) / 1000, len);
	free(data);
	return *buf ? 0 : -ENOMEM;
}

/* The sizes of query id's stored answer, for a caller that found it not
 * pending: an answer committed since the request's snapshot began is
 * seen too (a query stops being pending only after its answer is stored,
 * so one of the two is always seen). */
int fs_query_answer_size(struct fs *fs, int64_t id, int64_t *text, int64_t *json)
{
	int rc = store_answer_size(fs->store, id, text, json);

	if (rc == -ENOENT) {
		store_read_renew(fs->store);
		rc = store_answer_size(fs->store, id, text, json);
	}
	return rc;
}

static int query_getattr(struct fs *fs, const struct node *n, struct stat *st)
{
	struct inbox_row r;
	int64_t size, text, json;
	char *pending = NULL;
	size_t plen;
	int rc;

	if ((rc = store_inbox_get(fs->store, n->id, &r)))
		return rc;
	/* pending first: it ends only after the answer is stored */
	if (!(rc = query_pending_content(fs, n, &pending, &plen)))
		text = json = (int64_t)plen;
	else if (rc == -ENOENT)
		rc = fs_query_answer_size(fs, n->id, &text, &json);
	free(pending);
	if (n->sub == IS_QUERY_JSON) {
		if (!rc)
			fs_stat_file(fs, n, r.tenant_id, st, r.mtime, json, 0444);
	} else {
		if (!inbox_open_size(fs->core, n->id, &size))
			size = rc ? r.size : text;
		fs_stat_file(fs, n, r.tenant_id, st, r.mtime, size, r.mode & 0777);
		rc = 0;
	}
	inbox_row_clear(&r);
	return rc;
}

static int query_content(struct fs *fs, const struct node *n, char **buf, size_t *len)
{
	bool json = n->sub == IS_QUERY_JSON;
	int rc;

	rc = query_pending_content(fs, n, buf, len); /* first: see query_getattr */
	if (rc == -ENOENT)
		rc = json ? store_answer_get(fs->store, n->id, NULL, NULL, buf, len) :
			    store_answer_get(fs->store, n->id, buf, len, NULL, NULL);
	if (rc == -ENOENT && !json)
		rc = store_inbox_data_read(fs->store, n->id, buf, len);
	if (rc == -ENOENT && !json) {
		*buf = strdup("");
		*len = 0;
		rc = *buf ? 0 : -ENOMEM;
	}
	return rc;
}

static int query_open(struct fs *fs, const struct node *n, int flags, int64_t *id)
{
	*id = n->id;
	fs_unhide_range(fs, fs_ino(C_INBOX, n->id, IS_QUERY_JSON),
			fs_ino(C_INBOX, n->id, IS_QUERY_JSON));
	return inbox_open(fs->core, n->id, (flags & O_TRUNC) != 0);
}

static int query_setattr(struct fs *fs, const struct node *n, struct stat *st, int to_set)
{
	return fs_inbox_file_ops.setattr(fs, n, st, to_set);
}

const struct node_ops fs_query_ops = {
	.getattr = query_getattr,
	.content = query_content,
	.open = query_open,
	.setattr = query_setattr,
};

const struct node_ops fs_query_json_ops = {
	.getattr = query_getattr,
	.content = query_content,
};
