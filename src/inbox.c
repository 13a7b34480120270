/* inbox.c - the life of a copied-in file; see the state machine in inbox.h. */
#include "inbox.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ingest.h"
#include "jobs.h"
#include "query.h"
#include "reembed.h"
#include "strbuf.h"
#include "util.h"

struct open_file {
	int64_t id;
	int refs;
	bool dirty; /* written since the last flush */
	struct strbuf data;
	/* ingested at a flush while still open (name set): written to again,
	 * it is put back under the same id and ingested again at its flush */
	struct inbox_row taken;
	struct open_file *next;
};

static struct open_file **bucket(struct core *c, int64_t id)
{
	return &c->open[(uint64_t)id % OPEN_BUCKETS];
}

/* Call with c->lock held. */
static struct open_file *open_find(struct core *c, int64_t id)
{
	for (struct open_file *f = *bucket(c, id); f; f = f->next)
		if (f->id == id)
			return f;
	return NULL;
}

static void open_remove(struct core *c, struct open_file *f)
{
	for (struct open_file **pp = bucket(c, f->id); *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	strbuf_release(&f->data);
	inbox_row_clear(&f->taken);
	free(f);
}

bool inbox_name_is_temp(const char *name)
{
	static const char *const suffixes[] = { "~", ".swp", ".swx", ".swo", ".tmp", ".part",
						".crdownload", ".error", NULL };
	size_t n = strlen(name);

	if (name[0] == '.' || name[0] == '#')
		return true;
	if (n == 9 && !strncmp(name, "sed", 3)) {
		size_t i = 3;
		while (i < n && isalnum((unsigned char)name[i]))
			i++;
		if (i == n)
			return true;
	}
	for (const char *const *s = suffixes; *s; s++) {
		size_t k = strlen(*s);
		if (n >= k && !strcasecmp(name + n - k, *s))
			return true;
	}
	return false;
}

/* A client (inbox.h) opens the store and nothing else. */
static int core_open_as(const char *db_path, int64_t max_file_size, int job_workers, bool client,
			struct core **out, char *err, size_t errlen)
{
	struct core *c = calloc(1, sizeof(*c));
	int rc;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->max_file_size = max_file_size;
	c->job_workers = job_workers;
	c->client = client;
	pthread_mutex_init(&c->lock, NULL);
	rc = store_open_sqlite(db_path, &c->store, err, errlen);
	if (rc || client)
		goto out;
	if (!(c->retriever = retriever_new(c->store))) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
	}
	if (!rc && (rc = inbox_recover(c)))
		snprintf(err, errlen, "cannot recover inbox files in '%s': %s", db_path,
			 strerror(-rc));
	if (!rc && !(c->queries = query_queue_start(c, QUERY_WORKERS_DEFAULT))) {
		snprintf(err, errlen, "cannot start query workers");
		rc = -ENOMEM;
	}
	if (!rc && !(c->reembed = reembed_start(c->store))) {
		snprintf(err, errlen, "cannot start the embedding thread");
		rc = -ENOMEM;
	}
	if (!rc && c->job_workers != JOBS_WORKERS_NONE &&
	    !(c->jobs = jobs_start(c, c->job_workers ? c->job_workers : JOBS_WORKERS_DEFAULT))) {
		snprintf(err, errlen, "cannot start the job workers");
		rc = -ENOMEM;
	}
	if (!rc && (rc = query_queue_recover(c->queries)))
		snprintf(err, errlen, "cannot queue unanswered queries in '%s': %s", db_path,
			 strerror(-rc));
out:
	if (rc) {
		core_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

int core_open(const char *db_path, int64_t max_file_size, int job_workers, struct core **out,
	      char *err, size_t errlen)
{
	return core_open_as(db_path, max_file_size, job_workers, false, out, err, errlen);
}

int core_open_client(const char *db_path, int64_t max_file_size, struct core **out, char *err,
		     size_t errlen)
{
	return core_open_as(db_path, max_file_size, 0, true, out, err, errlen);
}

bool core_tenant_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (!n || n > TENANT_NAME_MAX || !(islower((unsigned char)name[0]) ||
					   isdigit((unsigned char)name[0])))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (ch >= 0x80 || !(islower(ch) || isdigit(ch) || ch == '.' || ch == '_' ||
				    ch == '-'))
			return false;
	}
	return true;
}

void core_close(struct core *c)
{
	if (!c)
		return;
	jobs_stop(c->jobs);
	query_queue_stop(c->queries);
	reembed_stop(c->reembed);
	for (int i = 0; i < OPEN_BUCKETS; i++)
		while (c->open[i])
			open_remove(c, c->open[i]);
	retriever_free(c->retriever);
	store_close(c->store);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int inbox_create(struct core *c, int64_t tenant, enum inbox_area area, const char *name,
		 uint32_t mode, struct inbox_row *out)
{
	struct open_file *f = calloc(1, sizeof(*f));
	int rc;

	if (!f)
		return -ENOMEM;
	rc = store_inbox_create(c->store, tenant, area, name, mode, out);
	if (rc) {
		free(f);
		return rc;
	}
	f->id = out->id;
	f->refs = 1;
	f->dirty = true;
	strbuf_init(&f->data);
	pthread_mutex_lock(&c->lock);
	f->next = *bucket(c, f->id);
	*bucket(c, f->id) = f;
	pthread_mutex_unlock(&c->lock);
	return 0;
}

int inbox_open(struct core *c, int64_t id, bool trunc)
{
	struct open_file *f;
	char *buf = NULL;
	size_t len = 0;
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	f = open_find(c, id);
	if (f) {
		f->refs++;
		goto trunc;
	}
	if (!trunc) {
		rc = store_inbox_data_read(c->store, id, &buf, &len);
		if (rc)
			goto out;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		rc = -ENOMEM;
		goto out;
	}
	f->id = id;
	f->refs = 1;
	f->data.buf = buf;
	f->data.len = len;
	f->data.cap = buf ? len + 1 : 0;
	buf = NULL;
	f->next = *bucket(c, id);
	*bucket(c, id) = f;
trunc:
	if (trunc) {
		strbuf_reset(&f->data);
		f->dirty = true;
	}
out:
	pthread_mutex_unlock(&c->lock);
	free(buf);
	return rc;
}

ssize_t inbox_read(struct core *c, int64_t id, char *buf, size_t size, off_t off)
{
	struct open_file *f;
	ssize_t n = 0;

	pthread_mutex_lock(&c->lock);
	f = open_find(c, id);
	if (!f) {
		n = -EBADF;
	} else if ((size_t)off < f->data.len) {
		n = (ssize_t)(f->data.len - (size_t)off < size ? f->data.len - (size_t)off : size);
		memcpy(buf, f->data.buf + off, (size_t)n);
	}
	pthread_mutex_unlock(&c->lock);
	return n;
}

ssize_t inbox_write(struct core *c, int64_t id, const char *buf, size_t size, off_t off)
{
	struct open_file *f;
	ssize_t rc = (ssize_t)size;

	if (off < 0)
		return -EINVAL;
	if ((int64_t)off + (int64_t)size > c->max_file_size)
		return -EFBIG;
	pthread_mutex_lock(&c->lock);
	f = open_find(c, id);
	if (!f) {
		rc = -EBADF;
		goto out;
	}
	if ((size_t)off + size > f->data.len) {
		size_t grow = (size_t)off + size - f->data.len;
		if (strbuf_grow(&f->data, grow)) {
			f->data.err = 0;
			rc = -ENOMEM;
			goto out;
		}
		memset(f->data.buf + f->data.len, 0, grow);
		f->data.len += grow;
		f->data.buf[f->data.len] = 0;
	}
	memcpy(f->data.buf + off, buf, size);
	f->dirty = true;
out:
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int inbox_truncate(struct core *c, int64_t id, off_t size)
{
	struct open_file *f;
	int rc = 0;

	if (size < 0)
		return -EINVAL;
	if (size > c->max_file_size)
		return -EFBIG;
	if ((rc = inbox_open(c, id, size == 0)))
		return rc;
	pthread_mutex_lock(&c->lock);
	f = open_find(c, id);
	if ((size_t)size > f->data.len) {
		size_t grow = (size_t)size - f->data.len;
		if (strbuf_grow(&f->data, grow)) {
			f->data.err = 0;
			rc = -ENOMEM;
		} else {
			memset(f->data.buf + f->data.len, 0, grow);
			f->data.len += grow;
			f->data.buf[f->data.len] = 0;
		}
	} else if (f->data.buf) {
		f->data.len = (size_t)size;
		f->data.buf[size] = 0;
	}
	f->dirty = true;
	pthread_mutex_unlock(&c->lock);
	inbox_release(c, id);
	return rc;
}

bool inbox_open_size(struct core *c, int64_t id, int64_t *size)
{
	struct open_file *f;

	pthread_mutex_lock(&c->lock);
	f = open_find(c, id);
	if (f)
		*size = (int64_t)f->data.len;
	pthread_mutex_unlock(&c->lock);
	return f != NULL;
}

int inbox_size(struct core *c, int64_t id, int64_t *size)
{
	struct inbox_row r;
	int rc;

	if (inbox_open_size(c, id, size))
		return 0;
	rc = store_inbox_get(c->store, id, &r);
	if (!rc)
		*size = r.size;
	inbox_row_clear(&r);
	return rc;
}

static void counts_line(struct strbuf *sb, const struct ingest_report *rep)
{
	strbuf_addf(sb, "%d created, %d updated, %d unchanged", rep->created, rep->updated,
		    rep->unchanged);
	if (rep->deleted)
		strbuf_addf(sb, ", %d deleted", rep->deleted);
	strbuf_addf(sb, ", %d rejected", rep->rejected);
}

/* What became of a file, for inbox_put(). */
static void result_fill(struct inbox_result *res, const struct ingest_report *rep)
{
	const char *first = rep->errors ? rep->errors : "unknown error";

	res->fatal = rep->fatal;
	res->rejected = rep->fatal || rep->rejected;
	res->kept = res->rejected;
	res->created = rep->created;
	res->updated = rep->updated;
	res->unchanged = rep->unchanged;
	res->deleted = rep->deleted;
	res->records_rejected = rep->rejected;
	snprintf(res->format, sizeof(res->format), "%s", rep->format ? rep->format : "unknown");
	if (res->rejected)
		snprintf(res->reason, sizeof(res->reason), "%.*s", (int)strcspn(first, "\n"),
			 first);
}

/* Ingests row r with content data in one transaction: documents, the inbox
 * row's fate, counters and the event line. res (may be NULL) gets the
 * outcome once committed. */
static int ingest_row(struct core *c, struct inbox_row *r, const char *data, size_t len,
		      struct inbox_result *res)
{
	struct ingest_report rep;
	struct strbuf msg = STRBUF_INIT;
	int rc;

	if ((rc = store_begin(c->store)))
		return rc;
	rc = ingest_file(c->store, r->tenant_id, r->area, r->name, data, len, &rep);
	if (rc && rc != -EINVAL) {
		/* store failure: nothing of this file is kept; the content stays
		 * in the inbox with the reason */
		store_rollback(c->store);
		if (store_begin(c->store))
			goto out;
		ingest_report_clear(&rep);
		rep.format = "unknown";
		rep.fatal = 1;
		strbuf_addf(&msg, "store error: %s", strerror(-rc));
		rep.errors = strbuf_detach(&msg, NULL);
	}
	if (!rep.fatal && !rep.rejected) {
		rc = store_inbox_delete(c->store, r->id);
		store_counter_add(c->store, r->tenant_id, CNT_FILES_INGESTED, 1);
		strbuf_addf(&msg, "ingested '%s' (%s): ", r->name, rep.format);
		counts_line(&msg, &rep);
	} else {
		struct strbuf err = STRBUF_INIT;
		strbuf_addf(&err, "deskfs could not ingest '%s'%s (%s)\n\n", r->name,
			    rep.fatal ? "" : " completely", rep.format ? rep.format : "unknown format");
		strbuf_addstr(&err, rep.errors ? rep.errors : "unknown error\n");
		strbuf_addstr(&err, "\n");
		counts_line(&err, &rep);
		strbuf_addstr(&err, rep.fatal ?
			      ".\nNothing from this file was stored. Fix it and copy it again, or delete it.\n" :
			      ".\nThe good records were stored. Fix the rejected ones and copy the file "
			      "again (unchanged records are skipped), or delete it.\n");
		free(r->error);
		r->error = strbuf_detach(&err, NULL);
		r->state = INBOX_REJECTED;
		r->size = (int64_t)len;
		r->mtime = time(NULL);
		rc = store_inbox_update(c->store, r);
		if (!rc)
			rc = store_inbox_data_set(c->store, r->id, data, len);
		store_counter_add(c->store, r->tenant_id,
				  rep.fatal ? CNT_FILES_REJECTED : CNT_FILES_INGESTED, 1);
		store_counter_add(c->store, r->tenant_id, CNT_RECORDS_REJECTED, rep.rejected);
		const char *first = rep.errors ? rep.errors : "unknown error";
		strbuf_addf(&msg, "rejected %s'%s' (%s): %.*s", rep.fatal ? "" : "part of ",
			    r->name, rep.format ? rep.format : "unknown",
			    (int)strcspn(first, "\n"), first);
	}
	store_counter_add(c->store, r->tenant_id, CNT_CREATED, rep.created);
	store_counter_add(c->store, r->tenant_id, CNT_UPDATED, rep.updated);
	store_counter_add(c->store, r->tenant_id, CNT_UNCHANGED, rep.unchanged);
	store_counter_add(c->store, r->tenant_id, CNT_DELETED, rep.deleted);
	store_event_add(c->store, r->tenant_id, msg.buf ? msg.buf : "");
	if (rc)
		store_rollback(c->store);
	else
		rc = store_commit(c->store);
	if (!rc && rep.created + rep.updated > 0) {
		jobs_wake(c->jobs); /* summaries of the new and changed tickets */
		if (rep.embed_later)
			reembed_wake(c->reembed);
	}
	if (!rc && res)
		result_fill(res, &rep);
out:
	ingest_report_clear(&rep);
	strbuf_release(&msg);
	return rc;
}

/* Stores data as the content of r, now CLOSED, in one transaction; in
 * queries/ its old answer goes with it. res (may be NULL): kept. */
static int store_closed(struct core *c, struct inbox_row *r, const char *data, size_t len,
			struct inbox_result *res)
{
	int rc;

	if ((rc = store_begin(c->store)))
		return rc;
	r->state = INBOX_CLOSED;
	r->size = (int64_t)len;
	r->mtime = time(NULL);
	free(r->error);
	r->error = NULL;
	if (!(rc = store_inbox_update(c->store, r)) &&
	    !(rc = store_inbox_data_set(c->store, r->id, data, len)) && r->area == AREA_QUERY)
		rc = store_answer_delete(c->store, r->id);
	if (rc) {
		store_rollback(c->store);
		return rc;
	}
	if (!(rc = store_commit(c->store)) && res)
		res->kept = true;
	return rc;
}

/* Stores the question in row r and queues its run (query_queue.h). */
static int query_row(struct core *c, struct inbox_row *r, const char *data, size_t len)
{
	uint64_t seq = query_queue_begin(c->queries, r->id);
	int rc = store_closed(c, r, data, len, NULL);
	/* even after a failed write: the run ends the pending state */
	int rc2 = query_queue_submit(c->queries, r->tenant_id, r->id, seq);

	return rc ? rc : rc2;
}

/* A file under its final name: ingested, or, in queries/, run (not by a
 * client core: it has no query workers). */
static int settle_final(struct core *c, struct inbox_row *r, const char *data, size_t len,
			struct inbox_result *res)
{
	if (r->area == AREA_QUERY)
		return c->queries ? query_row(c, r, data, len) : -EOPNOTSUPP;
	if (r->area == AREA_TENANT)
		return store_closed(c, r, data, len, res); /* renamed onto config (fs) */
	return ingest_row(c, r, data, len, res);
}

bool inbox_name_is_probe(const char *name)
{
	size_t n = strspn(name, "0123456789");

	return n >= 4 && !name[n];
}

/* Persists or ingests the content of r; data is the current content. */
static int settle(struct core *c, struct inbox_row *r, const char *data, size_t len,
		  struct inbox_result *res)
{
	return inbox_name_is_temp(r->name) || (!len && inbox_name_is_probe(r->name)) ?
	       store_closed(c, r, data, len, res) : settle_final(c, r, data, len, res);
}

/* Remembers row r of open file id, ingested (and so gone from the area). */
static void taken_note(struct core *c, int64_t id, const struct inbox_row *r)
{
	struct open_file *f;
	char *name = strdup(r->name);

	pthread_mutex_lock(&c->lock);
	if ((f = open_find(c, id)) && name) {
		inbox_row_clear(&f->taken);
		f->taken = *r;
		f->taken.name = name;
		f->taken.error = NULL;
		name = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	free(name);
}

/* Open file id has no row: if it was ingested while open, its row is put
 * back into *r (1); 0 when it was unlinked. */
static int taken_restore(struct core *c, int64_t id, struct inbox_row *r)
{
	struct open_file *f;
	struct inbox_row t = { 0 };
	int rc;

	pthread_mutex_lock(&c->lock);
	if ((f = open_find(c, id)) && f->taken.name) {
		t = f->taken;
		t.name = strdup(f->taken.name);
	}
	pthread_mutex_unlock(&c->lock);
	if (!t.name)
		return 0;
	if ((rc = store_inbox_recreate(c->store, &t))) {
		free(t.name);
		return rc;
	}
	t.state = INBOX_OPEN;
	*r = t;
	return 1;
}

/* final: the last handle is going. An empty file is settled only then:
 * a shell's "> FILE" closes a duplicate descriptor (a flush) before
 * anything is written. res (may be NULL) gets the outcome. */
static int flush_content(struct core *c, int64_t id, bool final, struct inbox_result *res)
{
	struct inbox_result own = { 0 };
	struct open_file *f;
	struct inbox_row r;
	char *data = NULL;
	size_t len = 0;
	int rc;

	pthread_mutex_lock(&c->lock);
	f = open_find(c, id);
	if (!f || !f->dirty || (!final && !f->data.len)) {
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	/* Snapshot the content: ingestion runs without the table lock. */
	len = f->data.len;
	data = util_strndup(f->data.buf ? f->data.buf : "", len);
	f->dirty = false;
	pthread_mutex_unlock(&c->lock);
	if (!data)
		return -ENOMEM;
	rc = store_inbox_get(c->store, id, &r);
	if (rc == -ENOENT && !(rc = taken_restore(c, id, &r)))
		goto out; /* unlinked while open */
	if (rc == 1)
		rc = 0;
	if (!rc && !(rc = settle(c, &r, data, len, res ? res : &own)) &&
	    !(res ? res : &own)->kept && r.area != AREA_QUERY)
		taken_note(c, id, &r); /* the row went with its ingestion */
	inbox_row_clear(&r);
out:
	free(data);
	return rc;
}

int inbox_flush(struct core *c, int64_t id)
{
	return flush_content(c, id, false, NULL);
}

void inbox_release(struct core *c, int64_t id)
{
	struct open_file *f;
	bool flush;

	pthread_mutex_lock(&c->lock);
	f = open_find(c, id);
	flush = f && f->refs == 1 && f->dirty;
	pthread_mutex_unlock(&c->lock);
	if (flush)
		flush_content(c, id, true, NULL);
	pthread_mutex_lock(&c->lock);
	f = open_find(c, id);
	if (f && --f->refs <= 0)
		open_remove(c, f);
	pthread_mutex_unlock(&c->lock);
}

int inbox_rename(struct core *c, int64_t id, const char *name)
{
	struct inbox_row r, old;
	char *data = NULL;
	size_t len;
	bool open;
	int rc;

	if ((rc = store_inbox_get(c->store, id, &r)))
		return rc;
	if (!strcmp(r.name, name))
		goto out;
	if (!store_inbox_find(c->store, r.tenant_id, r.area, name, &old)) {
		if (old.id != id)
			inbox_unlink(c, old.id);
		inbox_row_clear(&old);
	}
	if ((rc = store_inbox_rename(c->store, id, name)))
		goto out;
	pthread_mutex_lock(&c->lock);
	open = open_find(c, id) != NULL;
	pthread_mutex_unlock(&c->lock);
	/* A closed temporary file renamed to a final name is ingested now;
	 * an open one is ingested at its flush. */
	if (!open && r.state == INBOX_CLOSED && !inbox_name_is_temp(name)) {
		rc = store_inbox_data_read(c->store, id, &data, &len);
		if (!rc) {
			free(r.name);
			r.name = strdup(name);
			rc = r.name ? settle_final(c, &r, data, len, NULL) : -ENOMEM;
		}
	}
out:
	free(data);
	inbox_row_clear(&r);
	return rc;
}

int inbox_unlink(struct core *c, int64_t id)
{
	struct open_file *f;

	pthread_mutex_lock(&c->lock);
	if ((f = open_find(c, id)))
		inbox_row_clear(&f->taken); /* removed: later writes go nowhere */
	pthread_mutex_unlock(&c->lock);
	return store_inbox_delete(c->store, id);
}

int inbox_seed(struct core *c, int64_t id, const char *buf, size_t len)
{
	ssize_t n = inbox_write(c, id, buf, len, 0);
	struct open_file *f;

	if (n < 0)
		return (int)n;
	pthread_mutex_lock(&c->lock);
	if ((f = open_find(c, id)))
		f->dirty = false;
	pthread_mutex_unlock(&c->lock);
	return 0;
}

static int recover_one(void *ctx, const struct inbox_row *row)
{
	struct core *c = ctx;
	struct inbox_row r = *row;
	char *data = NULL;
	size_t len = 0;
	int rc;

	if (row->state == INBOX_OPEN) {
		r.state = INBOX_REJECTED;
		r.error = (char *)"deskfs stopped while this file was being written (its close() "
				  "never returned), so its content may be incomplete: copy it again\n";
		r.size = 0;
		return store_inbox_update(c->store, &r);
	}
	/* closed queries were answered with the close (answers are kept) */
	if (inbox_name_is_temp(row->name) || row->area == AREA_QUERY || row->area == AREA_TENANT)
		return 0;
	rc = store_inbox_data_read(c->store, row->id, &data, &len);
	if (!rc) {
		r.name = strdup(row->name);
		r.error = NULL;
		rc = r.name ? ingest_row(c, &r, data, len, NULL) : -ENOMEM;
		free(r.name);
		free(r.error);
	}
	free(data);
	return rc;
}

/* Collects ids first: ingesting while iterating would write under a read. */
struct id_list {
	struct inbox_row *rows;
	size_t n;
};

static int collect_row(void *ctx, const struct inbox_row *row)
{
	struct id_list *l = ctx;
	struct inbox_row *p = realloc(l->rows, (l->n + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	l->rows = p;
	p[l->n] = *row;
	p[l->n].name = strdup(row->name);
	p[l->n].error = NULL;
	l->n++;
	return p[l->n - 1].name ? 0 : -ENOMEM;
}

int inbox_recover(struct core *c)
{
	struct id_list l = { NULL, 0 };
	int rc;

	rc = store_inbox_list_state(c->store, INBOX_OPEN, collect_row, &l);
	if (!rc)
		rc = store_inbox_list_state(c->store, INBOX_CLOSED, collect_row, &l);
	for (size_t i = 0; i < l.n; i++) {
		if (!rc)
			rc = recover_one(c, &l.rows[i]);
		free(l.rows[i].name);
	}
	free(l.rows);
	return rc;
}

/* ---- inbox_put: a whole file, as a cp(1) into the mount writes it ---------- */

/* Tries of a step that found the store locked by another process; each
 * try already waited the store's busy timeout. */
#define PUT_TRIES 6
/* Bytes per inbox_write: the content is copied in pieces, as through FUSE,
 * so a file is held twice at most (open content, flush snapshot). */
#define PUT_CHUNK ((size_t)1 << 20)

/* Marks the open file id as having content to settle (a flush to retry)
 * or not (a copy that failed is dropped, never settled half-written). */
static void open_set_dirty(struct core *c, int64_t id, bool dirty)
{
	struct open_file *f;

	pthread_mutex_lock(&c->lock);
	if ((f = open_find(c, id)))
		f->dirty = dirty;
	pthread_mutex_unlock(&c->lock);
}

/* Opens name for writing as open(O_CREAT | O_TRUNC) in the mount does: an
 * existing file truncated, or a new one (*created). A file still OPEN in
 * the store is being written by another process: -EBUSY. */
static int put_open(struct core *c, int64_t tenant, enum inbox_area area, const char *name,
		    uint32_t mode, int64_t *id, bool *created)
{
	struct inbox_row r;
	int rc = -EBUSY;

	*created = false;
	for (int i = 0; i < PUT_TRIES; i++) {
		rc = store_inbox_find(c->store, tenant, area, name, &r);
		if (!rc) {
			bool busy = r.state == INBOX_OPEN;
			*id = r.id;
			inbox_row_clear(&r);
			return busy ? -EBUSY : inbox_open(c, *id, true);
		}
		if (rc != -ENOENT)
			return rc;
		rc = inbox_create(c, tenant, area, name, mode, &r);
		if (!rc) {
			*id = r.id;
			*created = true;
			inbox_row_clear(&r);
			return 0;
		}
		/* -EEXIST: created meanwhile by another process; look again */
		if (rc != -EBUSY && rc != -EEXIST)
			return rc;
	}
	return rc;
}

int inbox_put(struct core *c, int64_t tenant, enum inbox_area area, const char *name,
	      uint32_t mode, int fd, struct inbox_result *res)
{
	struct stat st;
	char *buf = NULL;
	int64_t id = 0;
	bool created = false, opened = false;
	off_t off = 0;
	ssize_t n;
	int rc;

	memset(res, 0, sizeof(*res));
	if (area == AREA_QUERY && !c->queries)
		return -EOPNOTSUPP;
	if (fstat(fd, &st))
		return -errno;
	if (S_ISREG(st.st_mode) && st.st_size > c->max_file_size)
		return -EFBIG;
	if (!(buf = malloc(PUT_CHUNK)))
		return -ENOMEM;
	if ((rc = put_open(c, tenant, area, name, mode, &id, &created)))
		goto out;
	opened = true;
	for (;;) {
		n = read(fd, buf, PUT_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		if ((n = inbox_write(c, id, buf, (size_t)n, off)) < 0) {
			rc = (int)n;
			goto out;
		}
		off += n;
	}
	/* the flush of the last close (an empty file is settled too) */
	for (int i = 0; i < PUT_TRIES; i++) {
		if ((rc = flush_content(c, id, true, res)) != -EBUSY)
			break;
		open_set_dirty(c, id, true);
	}
	if (!rc && !res->kept && !res->format[0])
		rc = -ENOENT; /* removed from the area while being written */
out:
	if (opened) {
		if (rc)
			open_set_dirty(c, id, false);
		inbox_release(c, id);
		if (rc && created)
			inbox_unlink(c, id);
	}
	free(buf);
	return rc;
}
