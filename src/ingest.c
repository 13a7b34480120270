/* ingest.c - format detection and the sink that stores parsed records. */
#include "ingest.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "copilot.h"
#include "html_text.h"
#include "parse.h"
#include "retrieve.h"
#include "strbuf.h"
#include "ticket.h"
#include "util.h"

#define MAX_ERROR_LINES 200

struct ingest_ctx {
	struct store *store;
	int64_t tenant;
	enum inbox_area area;
	const char *name;
	const char *data; /* the whole file, for source.json */
	size_t len;
	const char *fmt;  /* short parser name for source wrappers: "email", "csv", "text" */
	struct ingest_report *rep;
	struct embedder *embed; /* NULL: vectors are left to the re-embedder */
	struct strbuf errors;
	int error_lines;
	char *thread_buf;
};

static void sink_reject(void *ctx, const char *where, const char *why)
{
	struct ingest_ctx *c = ctx;

	c->rep->rejected++;
	if (c->error_lines++ < MAX_ERROR_LINES)
		strbuf_addf(&c->errors, "%s: %s\n", where, why);
}

static const char *sink_thread_find(void *ctx, const char *msgid)
{
	struct ingest_ctx *c = ctx;

	free(c->thread_buf);
	c->thread_buf = NULL;
	if (store_thread_find(c->store, c->tenant, msgid, &c->thread_buf))
		return NULL;
	return c->thread_buf;
}

char *ingest_dir_name(const char *source_id)
{
	struct strbuf sb = STRBUF_INIT;

	for (const char *p = source_id; *p && sb.len < 200; p++)
		strbuf_addch(&sb, (*p == '/' || (unsigned char)*p < 0x20) ? '_' : *p);
	if (!sb.len || !strcmp(sb.buf, ".") || !strcmp(sb.buf, "..")) {
		strbuf_reset(&sb);
		strbuf_addstr(&sb, "_");
		strbuf_addstr(&sb, source_id);
	}
	return strbuf_detach(&sb, NULL);
}

/* source.json: the verbatim JSON record, or a wrapper around non-JSON
 * records so that copying source.json back re-creates the document:
 * {"deskfs_source": FORMAT, "name": NAME, "records": ["raw", ...]}.
 * With old_src (the stored source of a ticket this record adds to), the
 * record joins it: a wrapper of the same format takes one more record,
 * anything else becomes (or grows) an array of sources in ingest order,
 * which ingest_json_value() replays element by element. */
static char *source_json(struct ingest_ctx *c, const char *raw, const char *old_src)
{
	const char *rec = raw ? raw : c->data;
	json_t *old = NULL, *cur = NULL, *recs, *arr = NULL;
	const char *of;
	char *out = NULL;

	if (!c->fmt && !old_src)
		return util_strdup(rec); /* the file as copied in, or the parser's dump */
	old = old_src ? json_loads(old_src, JSON_DECODE_ANY, NULL) : NULL;
	if (!c->fmt) {
		cur = json_loads(rec, JSON_DECODE_ANY, NULL);
		if (!cur || !old) {
			out = util_strdup(rec);
			goto out;
		}
	} else {
		json_t *text;
		if (util_utf8_valid(rec, strlen(rec))) {
			text = json_string(rec);
		} else {
			/* JSON holds text only: 8-bit e-mail is kept with U+FFFD
			 * for bytes that are not UTF-8 (the ticket itself was
			 * decoded from the original bytes) */
			char *clean = util_utf8_sanitize(rec, strlen(rec));
			text = clean ? json_string(clean) : json_null();
			free(clean);
		}
		of = json_string_value(json_object_get(old, "deskfs_source"));
		recs = json_object_get(old, "records");
		if (json_is_array(recs) && of && !strcmp(of, c->fmt)) {
			json_array_append_new(recs, text);
			json_object_set_new(old, "name", json_string(c->name));
			out = json_dumps(old, JSON_INDENT(2));
			goto out;
		}
		cur = json_pack("{s:s,s:s,s:[o]}", "deskfs_source", c->fmt, "name", c->name,
				"records", text);
		if (!cur)
			goto out;
		if (!old) {
			out = json_dumps(cur, JSON_INDENT(2));
			goto out;
		}
	}
	arr = json_is_array(old) ? json_incref(old) : json_array();
	if (!json_is_array(old))
		json_array_append(arr, old);
	json_array_append(arr, cur);
	out = json_dumps(arr, JSON_INDENT(2));
out:
	json_decref(arr);
	json_decref(cur);
	json_decref(old);
	return out;
}

/* Completes p with the rendered parts, stores it and counts the outcome;
 * *doc_id is set when the document is new or changed (to be indexed),
 * else 0. */
static int doc_store(struct ingest_ctx *c, struct doc_put *p, const struct strbuf *md,
		     const char *json, const char *src, int64_t *doc_id)
{
	enum doc_put_result res;
	struct doc_row row;
	int rc;

	p->md = md->buf;
	p->md_len = md->len;
	p->json = json;
	p->json_len = strlen(json);
	/* A ticket's hash is of its normalized document (source.json gives it
	 * back); an article's of its kb/SLUG.md text, the content a backup of
	 * kb/ holds, so copying that file back is the same article. */
	if (p->kind == DOC_ARTICLE)
		util_hash_hex(md->buf ? md->buf : "", md->len, p->hash);
	else
		util_hash_hex(json, p->json_len, p->hash);
	p->src = src;
	p->src_len = strlen(src);
	p->mtime = time(NULL);
	*doc_id = 0;
	rc = store_doc_put(c->store, c->tenant, p, &res, &row);
	if (rc)
		return rc;
	*(res == DOC_CREATED ? &c->rep->created :
	  res == DOC_UPDATED ? &c->rep->updated : &c->rep->unchanged) += 1;
	if (res != DOC_UNCHANGED)
		*doc_id = row.id;
	doc_row_clear(&row);
	return 0;
}

/* Renders and stores t (finished, full); counts the outcome. */
static int store_ticket(struct ingest_ctx *c, struct ticket *t, const char *old_src)
{
	struct strbuf md = STRBUF_INIT;
	struct doc_put p = { 0 };
	char *json = NULL, *src = NULL, *name = NULL, *alt = NULL;
	const char **ids = NULL;
	int64_t doc_id;
	json_t *j = NULL;
	int rc;

	ticket_render_md(t, &md);
	j = ticket_to_json(t);
	json = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
	src = source_json(c, t->raw, old_src);
	name = ingest_dir_name(t->source_id);
	alt = malloc(strlen(t->source) + (name ? strlen(name) : 0) + 2);
	ids = calloc(t->n_msgs + 1, sizeof(*ids));
	if (md.err || !json || !src || !name || !alt || !ids) {
		rc = -ENOMEM;
		goto out;
	}
	sprintf(alt, "%s-%s", t->source, name);
	if (!strcmp(t->source, "email"))
		for (size_t i = 0; i < t->n_msgs; i++)
			if (t->msgs[i].id)
				ids[p.n_msgids++] = t->msgs[i].id;
	p.kind = DOC_TICKET;
	p.source = t->source;
	p.instance = t->instance;
	p.source_id = t->source_id;
	p.name = name;
	p.alt_name = alt;
	p.msgids = ids;
	rc = doc_store(c, &p, &md, json, src, &doc_id);
	if (!rc && doc_id)
		rc = retrieve_index_ticket(c->store, c->embed, c->tenant, doc_id, t);
	if (!rc && doc_id)
		rc = copilot_ticket_changed(c->store, c->tenant, doc_id);
out:
	strbuf_release(&md);
	json_decref(j);
	free(json);
	free(src);
	free(name);
	free(alt);
	free(ids);
	return rc;
}

/* Loads the stored ticket with t's key into *old (and its source). */
static int load_existing(struct ingest_ctx *c, const struct ticket *t, struct ticket *old,
			 struct doc_row *row, char **src)
{
	size_t len;
	int rc;

	rc = store_doc_find_key(c->store, c->tenant, DOC_TICKET, t->source,
				t->instance ? t->instance : "", t->source_id, row);
	/* Messages from a file that does not know its instance (a Zendesk
	 * comments page) go to the one ticket with that id, if only one. */
	if (rc == -ENOENT && t->partial && (!t->instance || !*t->instance))
		rc = store_doc_find_source_id(c->store, c->tenant, DOC_TICKET, t->source,
					      t->source_id, row);
	if (rc == -EEXIST)
		rc = -ENOENT;
	if (rc)
		return rc;
	if (!(rc = ingest_ticket_load(c->store, row->id, old)))
		rc = store_doc_read(c->store, row->id, PART_SOURCE, src, &len);
	return rc;
}

int ingest_ticket_load(struct store *s, int64_t doc_id, struct ticket *t)
{
	char *buf = NULL;
	size_t len;
	json_t *j;
	int rc;

	if ((rc = store_doc_read(s, doc_id, PART_JSON, &buf, &len)))
		return rc;
	j = json_loadb(buf, len, 0, NULL);
	free(buf);
	rc = j ? ticket_from_json(j, t) : -EIO;
	json_decref(j);
	return rc;
}

static int sink_put_ticket(void *ctx, struct ticket *t)
{
	struct ingest_ctx *c = ctx;
	struct ticket old;
	struct doc_row row = { 0 };
	char where[320], *old_src = NULL;
	bool kept = false;
	int rc;

	ticket_init(&old);
	if (c->area != AREA_INBOX) {
		sink_reject(c, "file", "a ticket was found: tickets go in inbox/, kb/ takes articles");
		return 0;
	}
	if (!t->source || !t->source_id || !*t->source_id) {
		sink_reject(c, "record", "ticket has no id");
		return 0;
	}
	if ((rc = ticket_finish(t)))
		return rc;
	rc = load_existing(c, t, &old, &row, &old_src);
	if (rc && rc != -ENOENT)
		goto out;
	if (t->deleted) {
		if (!rc) {
			if ((rc = store_doc_delete(c->store, row.id)))
				goto out;
			c->rep->deleted++;
		} else {
			c->rep->unchanged++;
		}
		rc = 0;
		goto out;
	}
	if (t->partial) {
		if (rc == -ENOENT) {
			snprintf(where, sizeof(where), "ticket %s", t->source_id);
			sink_reject(c, where, "messages for a ticket that is not ingested yet: copy the "
				    "ticket first, then this file again");
			rc = 0;
			goto out;
		}
		if ((rc = ticket_merge(&old, t)))
			goto out;
		free(old.raw);
		old.raw = t->raw;
		t->raw = NULL;
		rc = store_ticket(c, &old, old_src);
		goto out;
	}
	if (rc == -ENOENT) {
		rc = 0;
	} else {
		/* A full ticket replaces the stored one but keeps the messages
		 * merged in from other files (a conversations or comments file,
		 * a later e-mail of its thread) that it does not carry itself;
		 * their records stay in source.json. A stored message without an
		 * id came from an earlier version of this very record: only CSV
		 * rows and text files make messages without ids. */
		for (size_t i = 0; i < old.n_msgs && !rc; i++) {
			bool have = !old.msgs[i].id;
			for (size_t k = 0; k < t->n_msgs && !have; k++)
				have = message_same(&t->msgs[k], &old.msgs[i]);
			if (!have) {
				kept = true;
				struct ticket one;
				ticket_init(&one);
				one.msgs = &old.msgs[i];
				one.n_msgs = 1;
				rc = ticket_merge(t, &one);
			}
		}
	}
	if (!rc)
		rc = store_ticket(c, t, kept ? old_src : NULL);
out:
	free(old_src);
	doc_row_clear(&row);
	ticket_clear(&old);
	return rc;
}

static int sink_put_article(void *ctx, struct article *a)
{
	struct ingest_ctx *c = ctx;
	struct strbuf md = STRBUF_INIT;
	struct doc_put p = { 0 };
	char *json = NULL, *src = NULL, *alt = NULL;
	int64_t doc_id;
	json_t *j = NULL;
	int rc;

	if ((rc = article_finish(a)))
		return rc;
	article_render_md(a, &md);
	j = article_to_json(a);
	json = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
	src = source_json(c, NULL, NULL);
	alt = malloc(strlen(a->slug) + strlen(a->source ? a->source : "file") + 2);
	if (md.err || !json || !src || !alt) {
		rc = -ENOMEM;
		goto out;
	}
	sprintf(alt, "%s-%s", a->source ? a->source : "file", a->slug);
	p.kind = DOC_ARTICLE;
	p.source = a->source ? a->source : "file";
	p.instance = "";
	/* Plain files are keyed by their slug, so writing kb/SLUG.md (or
	 * copying guide.txt over guide.md) replaces the same article. */
	p.source_id = !strcmp(p.source, "file") || !a->source_id ? a->slug : a->source_id;
	p.name = a->slug;
	p.alt_name = alt;
	rc = doc_store(c, &p, &md, json, src, &doc_id);
	if (!rc && doc_id)
		rc = retrieve_index_article(c->store, c->embed, c->tenant, doc_id, a);
out:
	strbuf_release(&md);
	json_decref(j);
	free(json);
	free(src);
	free(alt);
	return rc;
}

static const char *name_ext(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot ? dot + 1 : "";
}

static int ext_is(const char *name, const char *const *exts)
{
	const char *e = name_ext(name);

	for (; *exts; exts++)
		if (!strcasecmp(e, *exts))
			return 1;
	return 0;
}

/* One top-level JSON value: Freshdesk, Zendesk, or a deskfs source wrapper. */
static int ingest_json_value(struct ingest_ctx *c, json_t *v, const char *where,
			     const struct parse_input *in, struct parse_sink *sink);

static int ingest_wrapper(struct ingest_ctx *c, json_t *v, struct parse_sink *sink)
{
	const char *fmt = json_string_value(json_object_get(v, "deskfs_source"));
	const char *name = json_string_value(json_object_get(v, "name"));
	json_t *recs = json_object_get(v, "records"), *r;
	size_t i;
	int rc = 0, n = 0;

	if (!fmt || !json_is_array(recs)) {
		sink_reject(c, "file", "deskfs source wrapper needs 'deskfs_source' and 'records'");
		return -EINVAL;
	}
	/* the records are the source now: source.json names and holds them,
	 * not the wrapper file they came in */
	const char *file_name = c->name, *file_data = c->data;
	size_t file_len = c->len;
	c->fmt = fmt;
	if (name)
		c->name = name;
	json_array_foreach(recs, i, r) {
		struct parse_input in = { c->name, json_string_value(r), json_string_length(r) };
		if (!in.data) {
			sink_reject(c, "record", "wrapper records must be strings");
			continue;
		}
		c->data = in.data;
		c->len = in.len;
		if (!strcmp(fmt, "email"))
			rc = email_parse(&in, sink);
		else if (!strcmp(fmt, "csv"))
			rc = csv_parse(&in, sink);
		else if (!strcmp(fmt, "text"))
			rc = text_parse(&in, c->area == AREA_KB, sink);
		else {
			sink_reject(c, "file", "unknown deskfs_source format");
			rc = -EINVAL;
			break;
		}
		if (rc < 0 && rc != -EINVAL)
			break;
		n += rc > 0 ? rc : 0;
		rc = 0;
	}
	c->name = file_name;
	c->data = file_data;
	c->len = file_len;
	return rc < 0 ? rc : n;
}

/* Whether array v is a source.json merged from several files (see
 * source_json()): it holds a whole file's value, an array or an object
 * wrapping records (without an id of its own: a Zendesk ticket may carry
 * its "comments"), which an export's array of records never does. */
static bool sources_array(json_t *v)
{
	static const char *const wraps[] = { "deskfs_source", "ticket", "tickets", "comments",
					     "article", "articles", "results" };
	size_t i;
	json_t *e;

	json_array_foreach(v, i, e) {
		if (json_is_array(e))
			return true;
		if (!json_is_object(e) || json_object_get(e, "id"))
			continue;
		for (size_t k = 0; k < sizeof(wraps) / sizeof(*wraps); k++)
			if (json_object_get(e, wraps[k]))
				return true;
	}
	return false;
}

static int ingest_json_value(struct ingest_ctx *c, json_t *v, const char *where,
			     const struct parse_input *in, struct parse_sink *sink);

/* A mixed array (a source.json merged from several files): each element
 * on its own, in order. */
static int ingest_json_each(struct ingest_ctx *c, json_t *v, const char *where,
			    const struct parse_input *in, struct parse_sink *sink)
{
	size_t i;
	json_t *e;
	int n = 0, rc;

	json_array_foreach(v, i, e) {
		char w[96];
		snprintf(w, sizeof(w), "%s record %zu", where, i + 1);
		rc = ingest_json_value(c, e, w, in, sink);
		if (rc < 0 && rc != -EINVAL)
			return rc;
		n += rc > 0 ? rc : 0;
	}
	return n ? n : -EINVAL;
}

static int ingest_json_value(struct ingest_ctx *c, json_t *v, const char *where,
			     const struct parse_input *in, struct parse_sink *sink)
{
	if (json_is_object(v) && json_object_get(v, "deskfs_source"))
		return ingest_wrapper(c, v, sink);
	if (json_is_array(v) && sources_array(v))
		return ingest_json_each(c, v, where, in, sink);
	if (zendesk_detect(v)) {
		c->rep->format = "zendesk json";
		return zendesk_parse_value(v, where, in, sink);
	}
	if (freshdesk_detect(v)) {
		c->rep->format = "freshdesk json";
		return freshdesk_parse_value(v, where, in, sink);
	}
	if (json_is_array(v) && json_array_size(v))
		return ingest_json_each(c, v, where, in, sink);
	sink_reject(c, where, json_is_array(v) && !json_array_size(v) ? "empty JSON array" :
		    "not a Freshdesk or Zendesk ticket, conversation or article: expected an "
		    "object with fields such as 'id', 'subject' and 'description'");
	return -EINVAL;
}

static int ingest_json(struct ingest_ctx *c, const struct parse_input *in, struct parse_sink *sink)
{
	json_error_t err;
	json_t *v = json_loadb(in->data, in->len, 0, &err);
	char where[64];
	int rc, total = 0, lines = 0, good = 0;

	if (v) {
		rc = ingest_json_value(c, v, "file", in, sink);
		json_decref(v);
		return rc;
	}
	/* NDJSON: several values, one a line. A file that fails on its
	 * first line is just malformed JSON. */
	if (err.line <= 1 || !memchr(in->data, '\n', in->len)) {
		char why[256];
		snprintf(why, sizeof(why), "malformed JSON at line %d, column %d: %s",
			 err.line, err.column, err.text);
		sink_reject(c, "file", why);
		return -EINVAL;
	}
	c->rep->format = "ndjson";
	for (const char *p = in->data, *end = in->data + in->len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		lines++;
		snprintf(where, sizeof(where), "line %d", lines);
		while (n && isspace((unsigned char)p[n - 1]))
			n--;
		if (n) {
			v = json_loadb(p, n, 0, &err);
			if (!v) {
				char why[256];
				snprintf(why, sizeof(why), "malformed JSON at column %d: %s",
					 err.column, err.text);
				sink_reject(c, where, why);
			} else {
				rc = ingest_json_value(c, v, where, in, sink);
				json_decref(v);
				if (rc < 0 && rc != -EINVAL)
					return rc;
				if (rc > 0) {
					total += rc;
					good++;
				}
			}
		}
		p = nl ? nl + 1 : end;
	}
	if (!good) {
		sink_reject(c, "file", "no line holds a ticket: expected one JSON object a line");
		return -EINVAL;
	}
	return total;
}

/* Finds the first NUL byte or invalid UTF-8 sequence; -1 when clean. */
static long first_bad_byte(const char *data, size_t len, int *is_nul)
{
	const char *nul = memchr(data, 0, len);

	if (nul) {
		*is_nul = 1;
		return nul - data;
	}
	*is_nul = 0;
	if (util_utf8_valid(data, len))
		return -1;
	/* locate it */
	size_t lo = 0, hi = len;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		/* back up to a character boundary */
		while (mid > lo && ((unsigned char)data[mid] & 0xc0) == 0x80)
			mid--;
		if (mid == lo)
			break;
		if (util_utf8_valid(data + lo, mid - lo))
			lo = mid;
		else
			hi = mid;
	}
	return (long)lo;
}

int ingest_file(struct store *s, int64_t tenant, enum inbox_area area, const char *name,
		const char *data, size_t len, struct ingest_report *rep)
{
	static const char *const text_exts[] = { "txt", "md", "markdown", "html", "htm", "text", NULL };
	static const char *const csv_exts[] = { "csv", "tsv", NULL };
	struct ingest_ctx c = { .store = s, .tenant = tenant, .area = area, .name = name,
				.data = data, .len = len, .rep = rep };
	struct parse_sink sink = { &c, sink_put_ticket, sink_put_article, sink_reject,
				   sink_thread_find };
	struct parse_input in = { name, data, len };
	const char *p;
	int rc, is_nul, kind;
	long bad;

	memset(rep, 0, sizeof(*rep));
	strbuf_init(&c.errors);
	/* the offline embedder is quick enough to run here; an HTTP one runs
	 * later, outside the transaction (reembed.h) */
	struct tenant_config cfg;
	if ((rc = config_load(s, tenant, &cfg, NULL)))
		return rc;
	c.embed = cfg.embedder.api == API_OFFLINE ? embed_offline() : NULL;
	rep->embed_later = !c.embed;
	config_clear(&cfg);
	if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3)) {
		in.data += 3;
		in.len -= 3;
		c.data = in.data;
		c.len = in.len;
	}
	for (p = in.data; p < in.data + in.len && isspace((unsigned char)*p); p++)
		;
	if (p == in.data + in.len) {
		rep->format = "empty";
		sink_reject(&c, "file", "empty file: expected a help-desk export (JSON, NDJSON, CSV, "
			    "e-mail) or a Markdown, text or HTML document");
		rc = -EINVAL;
		goto out;
	}
	bad = first_bad_byte(in.data, in.len, &is_nul);
	if (bad >= 0 && is_nul) {
		char why[200];
		rep->format = "binary";
		snprintf(why, sizeof(why), "binary content (NUL byte at offset %ld): expected JSON, "
			 "CSV, e-mail, Markdown, text or HTML", bad);
		sink_reject(&c, "file", why);
		rc = -EINVAL;
		goto out;
	}
	if ((kind = email_detect(&in))) {
		rep->format = kind == 2 ? "mbox" : "email";
		c.fmt = "email";
		rc = email_parse(&in, &sink);
		goto out;
	}
	if (bad >= 0) {
		char why[200];
		rep->format = "binary";
		snprintf(why, sizeof(why), "not UTF-8 text (invalid byte at offset %ld): convert the "
			 "file to UTF-8, or expected JSON, CSV, e-mail, Markdown, text or HTML", bad);
		sink_reject(&c, "file", why);
		rc = -EINVAL;
		goto out;
	}
	if (*p == '{' || *p == '[') {
		rep->format = "json";
		rc = ingest_json(&c, &in, &sink);
		goto out;
	}
	if ((!ext_is(name, text_exts) && csv_detect(&in)) || ext_is(name, csv_exts)) {
		rep->format = "csv";
		c.fmt = "csv";
		rc = csv_parse(&in, &sink);
		goto out;
	}
	rep->format = html_looks_like(in.data, in.len) ? "html" : "text";
	c.fmt = "text";
	rc = text_parse(&in, area == AREA_KB, &sink);
out:
	if (rc >= 0 && !rep->created && !rep->updated && !rep->unchanged && !rep->deleted &&
	    rep->rejected) {
		rc = -EINVAL;
	}
	if (c.error_lines > MAX_ERROR_LINES)
		strbuf_addf(&c.errors, "... and %d more\n", c.error_lines - MAX_ERROR_LINES);
	rep->fatal = rc == -EINVAL;
	rep->errors = c.errors.len ? strbuf_detach(&c.errors, NULL) : NULL;
	strbuf_release(&c.errors);
	free(c.thread_buf);
	return rc < 0 ? rc : 0;
}

void ingest_report_clear(struct ingest_report *r)
{
	free(r->errors);
	memset(r, 0, sizeof(*r));
}
