/* fs_xattr.c - read-only user.deskfs.* extended attributes (fs.h).
 *
 * Which nodes have which (values are plain text without a newline):
 *
 *   tickets/ID/, its files, summaries/ID.md   kind ("ticket"), source,
 *                                             instance (when known),
 *                                             source_id, hash, ingested,
 *                                             first_ingested, summary
 *   kb/SLUG.md                                kind ("article") and the
 *                                             same but summary
 *   queries/NAME, queries/NAME.json           kind ("query"); state once
 *                                             run; provider, model and
 *                                             latency_ms once answered
 *
 * Values come from store rows (the doc row, the summary and job rows, the
 * stored answer's JSON), never from rendered content, and a listing
 * reads only what says whether an attribute exists (no answer JSON).
 * Other nodes have none. get of another user.* name is -ENODATA; of a
 * security.*, system.* or trusted.* name -ENOTSUP: deskfs keeps no labels,
 * ACLs or capabilities, and ls -l, which asks for security.selinux and
 * system.posix_acl_* on every entry, takes ENOTSUP as "not on this device"
 * and stops asking (three round trips an entry otherwise). set and remove: -EPERM for
 * a user.deskfs.* name on a node that has deskfs attributes (they are
 * read-only, as a VFS immutable inode's are), -ENOTSUP for anything else
 * (deskfs keeps no attributes of its own; cp --preserve=xattr and cp -a
 * take that errno as "not supported here" and say nothing, so copying a
 * file of the mount into an inbox stays quiet).
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "strbuf.h"
#include "util.h"

#define XATTR_PREFIX "user.deskfs."
#define XATTR_PREFIX_LEN (sizeof(XATTR_PREFIX) - 1)
#define XATTR_VALUE_MAX 4096 /* longer reasons are cut (a UTF-8 boundary) */

/* Node groups an attribute belongs to. */
enum { XG_DOC = 1, XG_TICKET = 2, XG_QUERY = 4 };

static unsigned node_groups(const struct node *n)
{
	switch (n->kind) {
	case K_TICKET_DIR:
	case K_TICKET_PART:
	case K_TICKET_VIEW:
		return XG_DOC | XG_TICKET;
	case K_ARTICLE:
		return XG_DOC;
	case K_QUERY_FILE:
	case K_QUERY_JSON:
		return XG_QUERY;
	default:
		return 0;
	}
}

/* What a query file's attributes depend on. */
enum query_state {
	QS_UNKNOWN = 0, /* not looked at yet */
	QS_PENDING,     /* queued or running */
	QS_ANSWERED,    /* an answer is stored */
	QS_NONE,        /* being written, a temporary name, or never run */
};

/* What one request has read so far: rows are loaded on first use. */
struct xa {
	struct fs *fs;
	const struct node *n;
	struct doc_row doc;
	bool have_doc;
	enum query_state query;
	json_t *answer; /* the stored answer's JSON, once read */
};

static int xa_doc(struct xa *x, const struct doc_row **d)
{
	int rc;

	if (!x->have_doc) {
		if ((rc = store_doc_get(x->fs->store, x->n->id, &x->doc)))
			return rc;
		x->have_doc = true;
	}
	*d = &x->doc;
	return 0;
}

static int xa_query(struct xa *x, enum query_state *state)
{
	int64_t size, text, json;
	int rc;

	if (x->query == QS_UNKNOWN) {
		if (query_queue_pending(x->fs->core->queries, x->n->id, NULL))
			x->query = QS_PENDING; /* first: it ends once the answer is stored */
		else if (x->n->kind == K_QUERY_FILE && inbox_open_size(x->fs->core, x->n->id, &size))
			x->query = QS_NONE; /* being written: an older answer does not count */
		else if (!(rc = store_answer_size(x->fs->store, x->n->id, &text, &json)))
			x->query = QS_ANSWERED;
		else if (rc == -ENOENT)
			x->query = QS_NONE;
		else
			return rc;
	}
	*state = x->query;
	return 0;
}

/* The answer JSON of an answered query; -ENODATA when it has none. */
static int xa_answer(struct xa *x, json_t **answer)
{
	char *json = NULL;
	size_t len = 0;
	enum query_state state;
	int rc;

	if ((rc = xa_query(x, &state)))
		return rc;
	if (state != QS_ANSWERED)
		return -ENODATA;
	if (!x->answer) {
		if ((rc = store_answer_get(x->fs->store, x->n->id, NULL, NULL, &json, &len)))
			return rc == -ENOENT ? -ENODATA : rc;
		x->answer = json_loadb(json, len, 0, NULL);
		free(json);
		if (!x->answer)
			return -EIO; /* a stored answer is always valid JSON */
	}
	*answer = x->answer;
	return 0;
}

/* Appends text as one line: line breaks become "; ", other control
 * characters spaces, trailing white space goes. */
static void add_line(struct strbuf *v, const char *s)
{
	size_t start = v->len;

	for (; *s; s++) {
		if (*s == '\r' && s[1] == '\n')
			continue;
		if (*s == '\n') {
			while (s[1] == '\n' || s[1] == '\r' || s[1] == ' ' || s[1] == '\t')
				s++;
			if (s[1])
				strbuf_addstr(v, "; ");
		} else {
			strbuf_addch(v, (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
		}
	}
	strbuf_rtrim(v);
	strbuf_cut_utf8(v, start, XATTR_VALUE_MAX);
}

/* ---- the attributes ---------------------------------------------------------
 * Each getter fills v, or only says whether the node has the attribute
 * when v is NULL: 0 it has, -ENODATA it has not, another -errno. */

static int get_kind(struct xa *x, struct strbuf *v)
{
	if (v)
		strbuf_addstr(v, x->n->kind == K_ARTICLE ? "article" :
				 node_groups(x->n) & XG_TICKET ? "ticket" : "query");
	return 0;
}

static int get_source(struct xa *x, struct strbuf *v)
{
	const struct doc_row *d;
	int rc = xa_doc(x, &d);

	if (!rc && v)
		add_line(v, d->source ? d->source : "");
	return rc;
}

static int get_instance(struct xa *x, struct strbuf *v)
{
	const struct doc_row *d;
	int rc = xa_doc(x, &d);

	if (!rc && (!d->instance || !*d->instance))
		rc = -ENODATA; /* unknown: the export did not say */
	if (!rc && v)
		add_line(v, d->instance);
	return rc;
}

static int get_source_id(struct xa *x, struct strbuf *v)
{
	const struct doc_row *d;
	int rc = xa_doc(x, &d);

	if (!rc && v)
		add_line(v, d->source_id ? d->source_id : "");
	return rc;
}

static int get_hash(struct xa *x, struct strbuf *v)
{
	const struct doc_row *d;
	int rc = xa_doc(x, &d);

	if (!rc && v)
		strbuf_addstr(v, d->hash);
	return rc;
}

static int add_time(struct xa *x, struct strbuf *v, bool first)
{
	const struct doc_row *d;
	char when[32];
	int rc = xa_doc(x, &d);

	if (!rc && v) {
		util_time_format(first ? d->ctime : d->mtime, when);
		strbuf_addstr(v, when);
	}
	return rc;
}

static int get_ingested(struct xa *x, struct strbuf *v)
{
	return add_time(x, v, false);
}

static int get_first_ingested(struct xa *x, struct strbuf *v)
{
	return add_time(x, v, true);
}

/* As summary.md's state line says it (copilot.c), without its note on a
 * previous version's summary: done, pending or failed: REASON. */
static int get_summary(struct xa *x, struct strbuf *v)
{
	struct summary_row row = { 0 };
	struct job_row j = { 0 };
	int rc;

	if (!v)
		return 0; /* every ticket has one */
	rc = store_summary_get(x->fs->store, x->n->id, &row);
	if (!rc && row.current) {
		strbuf_addstr(v, "done");
		goto out;
	}
	if ((rc && rc != -ENOENT) ||
	    ((rc = store_job_get(x->fs->store, JOB_SUMMARY, x->n->id, &j)) && rc != -ENOENT))
		goto out;
	if (!rc && j.state == JOB_DEAD) {
		strbuf_addstr(v, "failed: ");
		add_line(v, j.error ? j.error : "unknown error");
	} else {
		strbuf_addstr(v, "pending"); /* queued or running (no job: about to be) */
	}
	rc = 0;
out:
	job_row_clear(&j);
	summary_row_clear(&row);
	return rc;
}

/* pending, done, or failed: ERROR when the answer has one (an option
 * error, "every provider failed"). */
static int get_state(struct xa *x, struct strbuf *v)
{
	const char *err;
	json_t *a;
	enum query_state state;
	int rc;

	if ((rc = xa_query(x, &state)))
		return rc;
	if (state == QS_NONE)
		return -ENODATA;
	if (!v)
		return 0;
	if (state == QS_PENDING) {
		strbuf_addstr(v, "pending");
		return 0;
	}
	if ((rc = xa_answer(x, &a)))
		return rc;
	err = json_string_value(json_object_get(a, "error"));
	if (err && *err) {
		strbuf_addstr(v, "failed: ");
		add_line(v, err);
	} else {
		strbuf_addstr(v, "done");
	}
	return 0;
}

/* For the attributes of an answered query: -ENODATA when it is not
 * answered, else 0 and *a, its JSON, read only when a value is wanted. */
static int answered(struct xa *x, struct strbuf *v, json_t **a)
{
	enum query_state state;
	int rc;

	*a = NULL;
	if ((rc = xa_query(x, &state)))
		return rc;
	if (state != QS_ANSWERED)
		return -ENODATA;
	return v ? xa_answer(x, a) : 0;
}

/* answerer.KEY of the answer ("none" when no provider answered). */
static int add_answerer(struct xa *x, struct strbuf *v, const char *key)
{
	const char *s;
	json_t *a;
	int rc;

	if ((rc = answered(x, v, &a)) || !v)
		return rc;
	s = json_string_value(json_object_get(json_object_get(a, "answerer"), key));
	add_line(v, s ? s : "none");
	return 0;
}

static int get_provider(struct xa *x, struct strbuf *v)
{
	return add_answerer(x, v, "provider");
}

static int get_model(struct xa *x, struct strbuf *v)
{
	return add_answerer(x, v, "model");
}

/* timings_ms.total (retrieval and generation), in whole milliseconds. */
static int get_latency(struct xa *x, struct strbuf *v)
{
	json_t *a;
	int rc;

	if ((rc = answered(x, v, &a)) || !v)
		return rc;
	strbuf_addf(v, "%.0f", json_number_value(json_object_get(
		json_object_get(a, "timings_ms"), "total")));
	return 0;
}

static const struct xattr_def {
	const char *name; /* after XATTR_PREFIX */
	unsigned groups;
	int (*get)(struct xa *x, struct strbuf *v);
} xattrs[] = {
	{ "kind", XG_DOC | XG_QUERY, get_kind },
	{ "source", XG_DOC, get_source },
	{ "instance", XG_DOC, get_instance },
	{ "source_id", XG_DOC, get_source_id },
	{ "hash", XG_DOC, get_hash },
	{ "ingested", XG_DOC, get_ingested },
	{ "first_ingested", XG_DOC, get_first_ingested },
	{ "summary", XG_TICKET, get_summary },
	{ "state", XG_QUERY, get_state },
	{ "provider", XG_QUERY, get_provider },
	{ "model", XG_QUERY, get_model },
	{ "latency_ms", XG_QUERY, get_latency },
};
#define N_XATTRS (sizeof(xattrs) / sizeof(xattrs[0]))

static void xa_clear(struct xa *x)
{
	if (x->have_doc)
		doc_row_clear(&x->doc);
	json_decref(x->answer);
}

int fs_xattr_get(struct fs *fs, const struct node *n, const char *name, char **val,
		 size_t *len)
{
	struct xa x = { .fs = fs, .n = n };
	struct strbuf v = STRBUF_INIT;
	unsigned groups = node_groups(n);
	int rc = -ENODATA;

	*val = NULL;
	*len = 0;
	if (strncmp(name, "user.", 5)) {
		rc = -ENOTSUP;
		goto out;
	}
	if (!groups || strncmp(name, XATTR_PREFIX, XATTR_PREFIX_LEN))
		goto out;
	for (size_t i = 0; i < N_XATTRS; i++)
		if ((xattrs[i].groups & groups) && !strcmp(name + XATTR_PREFIX_LEN, xattrs[i].name)) {
			rc = xattrs[i].get(&x, &v);
			break;
		}
	if (rc)
		goto out;
	if (!(*val = strbuf_detach(&v, len)))
		rc = -ENOMEM;
out:
	strbuf_release(&v);
	xa_clear(&x);
	return rc;
}

int fs_xattr_list(struct fs *fs, const struct node *n, char **names, size_t *len)
{
	struct xa x = { .fs = fs, .n = n };
	struct strbuf l = STRBUF_INIT;
	unsigned groups = node_groups(n);
	int rc = 0;

	*names = NULL;
	*len = 0;
	for (size_t i = 0; i < N_XATTRS && groups; i++) {
		if (!(xattrs[i].groups & groups))
			continue;
		rc = xattrs[i].get(&x, NULL);
		if (rc == -ENODATA)
			continue;
		if (rc)
			goto out;
		strbuf_addstr(&l, XATTR_PREFIX);
		strbuf_addstr(&l, xattrs[i].name);
		strbuf_addch(&l, '\0');
	}
	rc = 0;
	if (l.err || (l.len && !(*names = strbuf_detach(&l, len))))
		rc = -ENOMEM;
out:
	strbuf_release(&l);
	xa_clear(&x);
	return rc;
}

int fs_xattr_set(struct fs *fs, const struct node *n, const char *name)
{
	(void)fs;
	if (node_groups(n) && !strncmp(name, XATTR_PREFIX, XATTR_PREFIX_LEN))
		return -EPERM;
	return -ENOTSUP;
}
