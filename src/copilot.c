/* copilot.c - summaries and similar tickets: their jobs and files
 * (copilot.h). */
#include "copilot.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "inbox.h"
#include "ingest.h"
#include "jobs.h"
#include "reembed.h"
#include "retrieve.h"
#include "strbuf.h"
#include "summary.h"
#include "ticket.h"
#include "util.h"

int copilot_ticket_changed(struct store *s, int64_t tenant, int64_t doc_id)
{
	return store_job_put(s, tenant, JOB_SUMMARY, doc_id);
}

/* The stored ticket doc_id, parsed; -ENOENT when it went. */
static int ticket_load(struct store *s, int64_t doc_id, struct doc_row *d, struct ticket *t)
{
	int rc;

	ticket_init(t);
	if ((rc = store_doc_get(s, doc_id, d)))
		return rc;
	if ((rc = ingest_ticket_load(s, doc_id, t))) {
		ticket_clear(t);
		doc_row_clear(d);
	}
	return rc;
}

/* Stores the summary and indexes it as the ticket's summary passage, in
 * one transaction; -ESTALE when the ticket changed meanwhile. The offline
 * embedder embeds it here, an HTTP one in the re-embedder (reembed.h). */
static int summary_store(struct core *c, const struct job_row *j, const struct doc_row *d,
			 const struct ticket *t, const struct tenant_config *cfg,
			 const struct summary *sm, const char *method, const char *md,
			 const char *fields)
{
	static const char *const labels[] = { "Problem", "Cause", "Solution", "Result" };
	const char *vals[] = { sm->problem, sm->cause, sm->solution, sm->result };
	struct embedder *e = cfg->embedder.api == API_OFFLINE ? embed_offline() : NULL;
	struct strbuf text = STRBUF_INIT;
	int rc;

	for (int i = 0; i < 4; i++)
		if (summary_field_stated(vals[i]))
			strbuf_addf(&text, "%s: %s\n", labels[i], vals[i]);
	if (text.err) {
		strbuf_release(&text);
		return -ENOMEM;
	}
	if ((rc = store_begin(c->store)))
		goto out;
	if ((rc = store_summary_set(c->store, j->doc_id, d->hash, method, md, fields)) ||
	    (rc = retrieve_index_summary(c->store, e, j->tenant_id, j->doc_id, t,
					 text.buf ? text.buf : ""))) {
		store_rollback(c->store);
		goto out;
	}
	if (!(rc = store_commit(c->store)) && !e)
		reembed_wake(c->reembed);
out:
	strbuf_release(&text);
	return rc;
}

int summary_job_run(struct core *c, const struct job_row *j, char *err, size_t errlen)
{
	struct doc_row d;
	struct ticket t;
	struct tenant_config cfg;
	struct summary sm = { 0 };
	struct strbuf md = STRBUF_INIT;
	char method[SUMMARY_METHOD_MAX], *fields = NULL;
	json_t *o = NULL;
	int rc;

	if ((rc = ticket_load(c->store, j->doc_id, &d, &t)))
		return rc == -ENOENT ? 0 : rc; /* deleted: nothing to summarize */
	config_load(c->store, j->tenant_id, &cfg, NULL);
	if ((rc = summary_make(&cfg, &t, &sm, method, err, errlen)))
		goto out;
	summary_render_md(d.name, t.subject, &sm, method, "done", &md);
	o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "ticket", d.name, "subject",
		      t.subject ? t.subject : "", "method", method, "problem", sm.problem, "cause",
		      sm.cause, "solution", sm.solution, "result", sm.result);
	if (md.err || !o || !(fields = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT))) {
		rc = -ENOMEM;
		goto out;
	}
	rc = summary_store(c, j, &d, &t, &cfg, &sm, method, md.buf, fields);
	if (rc == -ESTALE) { /* changed meanwhile: its new summary job is queued */
		rc = 0;
		goto out;
	}
	if (!rc && !(rc = store_job_put(c->store, j->tenant_id, JOB_SIMILAR, j->doc_id)))
		jobs_wake(c->jobs);
	if (rc)
		snprintf(err, errlen, "cannot store the summary: %s", strerror(-rc));
out:
	json_decref(o);
	free(fields);
	strbuf_release(&md);
	summary_clear(&sm);
	config_clear(&cfg);
	ticket_clear(&t);
	doc_row_clear(&d);
	return rc;
}

/* A stored summary's fields (NULL when there is none). */
static json_t *summary_fields(struct store *s, int64_t doc_id, struct summary_row *row)
{
	json_t *j = NULL;

	if (!store_summary_get(s, doc_id, row))
		j = json_loads(row->json, 0, NULL);
	return j;
}

static const char *field_text(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? v : "";
}

/* The question similar tickets are found with, read as a document (BM25
 * weighs each word by its count, retrieve_opts.like_doc): the summary's
 * problem, and the cause and solution when the ticket states them, then
 * the ticket's own words, its subject and messages, up to
 * SIMILAR_WORDS_MAX bytes. So the summary's words count once more than
 * the rest. On bench/similar_quality.py the ticket's words with their
 * counts took precision@10 past the TF-IDF baseline (docs/performance.md). */
static void similar_question(struct store *s, int64_t doc_id, json_t *f, struct strbuf *q)
{
	static const char *const keys[] = { "problem", "cause", "solution" };
	size_t i, start;
	json_t *t = NULL, *m;
	char *buf;
	size_t len;

	for (i = 0; i < 3; i++) {
		const char *v = field_text(f, keys[i]);
		if (summary_field_stated(v))
			strbuf_addf(q, "%s%s", q->len ? "\n" : "", v);
	}
	if (store_doc_read(s, doc_id, PART_JSON, &buf, &len))
		return; /* the summary alone */
	t = json_loadb(buf, len, 0, NULL);
	free(buf);
	start = q->len;
	strbuf_addf(q, "\n%s", field_text(t, "subject"));
	json_array_foreach(json_object_get(t, "messages"), i, m) {
		if (q->len - start >= SIMILAR_WORDS_MAX)
			break;
		strbuf_addf(q, "\n%s", field_text(m, "text"));
	}
	strbuf_cut_utf8(q, start, SIMILAR_WORDS_MAX);
	json_decref(t);
}

static json_t *hits_json(const struct hit *h, size_t n, int64_t self, size_t max)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n && json_array_size(a) < max; i++)
		if (h[i].doc_id != self)
			json_array_append_new(a, json_pack("{s:I,s:s,s:s,s:f}", "doc_id",
				(json_int_t)h[i].doc_id, "path", h[i].path, "title",
				h[i].title ? h[i].title : "", "score", h[i].score));
	return a;
}

static int similar_views_store(struct store *s, const struct doc_row *d, const char *list,
			       int64_t list_mtime);

int similar_job_run(struct core *c, const struct job_row *j, char *err, size_t errlen)
{
	struct summary_row row;
	struct tenant_config cfg;
	struct strbuf q = STRBUF_INIT;
	struct retrieve_opts o = { .mode = RETRIEVE_HYBRID };
	struct retrieve_timing tm;
	struct hit *tickets = NULL, *articles = NULL;
	size_t n_tickets = 0, n_articles = 0, n_peers = 0;
	int64_t peers[SIMILAR_TICKETS];
	json_t *f = summary_fields(c->store, j->doc_id, &row), *out = NULL;
	struct doc_row d = { 0 };
	char *text = NULL;
	bool due;
	int rc;

	config_load(c->store, j->tenant_id, &cfg, NULL);
	if (!f || store_doc_get(c->store, j->doc_id, &d)) {
		rc = 0; /* no summary (the ticket went): nothing to compare */
		goto out;
	}
	similar_question(c->store, j->doc_id, f, &q);
	if (q.err) {
		rc = -ENOMEM;
		goto out;
	}
	o.embedder = &cfg.embedder;
	o.like_doc = j->doc_id;
	o.k = SIMILAR_TICKETS + 1;
	o.filter.kind = DOC_TICKET;
	if (!(rc = retrieve(c->retriever, j->tenant_id, q.buf, &o, &tickets, &n_tickets, &tm))) {
		o.k = SIMILAR_ARTICLES;
		o.filter.kind = DOC_ARTICLE;
		rc = retrieve(c->retriever, j->tenant_id, q.buf, &o, &articles, &n_articles, &tm);
	}
	if (rc) {
		snprintf(err, errlen, "retrieval failed: %s", strerror(-rc));
		goto out;
	}
	out = json_pack("{s:o,s:o}", "tickets", hits_json(tickets, n_tickets, j->doc_id,
							    SIMILAR_TICKETS),
			"articles", hits_json(articles, n_articles, 0, SIMILAR_ARTICLES));
	if (!out || !(text = json_dumps(out, JSON_PRESERVE_ORDER | JSON_COMPACT))) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n_tickets && n_peers < SIMILAR_TICKETS; i++)
		if (tickets[i].doc_id != j->doc_id)
			peers[n_peers++] = tickets[i].doc_id;
	/* the list, whom it names and its rendered files change together */
	int64_t now = (int64_t)time(NULL);
	if (!(rc = store_begin(c->store))) {
		if ((rc = store_similar_set(c->store, j->doc_id, text, now, peers, n_peers)) ||
		    (rc = similar_views_store(c->store, &d, text, now)))
			store_rollback(c->store);
		else
			rc = store_commit(c->store);
	}
	if (rc) {
		snprintf(err, errlen, "cannot store the similar tickets: %s", strerror(-rc));
		goto out;
	}
	for (size_t i = 0; j->kind == JOB_SIMILAR && i < n_peers && i < SIMILAR_PEERS; i++)
		/* not when its list is due anyway (most peers in a bulk copy):
		 * that run searches an index holding this ticket */
		if (!store_job_list_due(c->store, peers[i], &due) && !due)
			store_job_put(c->store, j->tenant_id, JOB_SIMILAR_PEER, peers[i]);
	jobs_wake(c->jobs);
out:
	free(text);
	json_decref(out);
	json_decref(f);
	hits_free(tickets, n_tickets);
	hits_free(articles, n_articles);
	strbuf_release(&q);
	summary_row_clear(&row);
	config_clear(&cfg);
	doc_row_clear(&d);
	return rc;
}

int similar_view_job_run(struct core *c, const struct job_row *j, char *err, size_t errlen)
{
	struct doc_row d;
	char *list = NULL;
	int64_t mtime = 0;
	int rc;

	if ((rc = store_doc_get(c->store, j->doc_id, &d)))
		return rc == -ENOENT ? 0 : rc;
	/* read the list under the write lock: no newer one can land between */
	if ((rc = store_begin(c->store)))
		goto out;
	rc = store_similar_get(c->store, j->doc_id, &list, &mtime);
	if (!rc)
		rc = similar_views_store(c->store, &d, list, mtime);
	else if (rc == -ENOENT)
		rc = 0; /* no list (yet): the files show the jobs' state */
	if (rc)
		store_rollback(c->store);
	else
		rc = store_commit(c->store);
	if (rc)
		snprintf(err, errlen, "cannot render the similar tickets: %s", strerror(-rc));
out:
	free(list);
	doc_row_clear(&d);
	return rc;
}

/* "pending" or "failed: REASON" for a job without a result; in state. */
static void job_state(struct store *s, enum job_kind kind, int64_t doc_id, char *state,
		      size_t len)
{
	struct job_row j;
	int rc = store_job_get(s, kind, doc_id, &j);

	if (!rc && j.state == JOB_DEAD)
		snprintf(state, len, "failed: %s", j.error ? j.error : "unknown error");
	else
		snprintf(state, len, "pending");
	if (!rc)
		job_row_clear(&j);
}

/* Hands sb's text (or, body false, only its length) to out. */
static int finish(struct strbuf *sb, bool body, struct copilot_file *out)
{
	if (sb->err) {
		strbuf_release(sb);
		return -ENOMEM;
	}
	if (!body) {
		out->len = sb->len;
		strbuf_release(sb);
		return 0;
	}
	if (!sb->buf)
		strbuf_addstr(sb, "");
	out->body = strbuf_detach(sb, &out->len);
	return out->body ? 0 : -ENOMEM;
}

int copilot_summary_md(struct store *s, int64_t doc_id, bool body, struct copilot_file *out)
{
	struct strbuf sb = STRBUF_INIT;
	struct summary_row row;
	struct doc_row d;
	char state[1400];
	json_t *f = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = store_doc_get(s, doc_id, &d)))
		return rc;
	out->tenant_id = d.tenant_id;
	out->mtime = d.mtime;
	if (!store_summary_get(s, doc_id, &row) && row.current) {
		out->mtime = row.mtime; /* the common case: the stored text as is */
		strbuf_addstr(&sb, row.md);
	} else {
		f = row.json ? json_loads(row.json, 0, NULL) : NULL;
		job_state(s, JOB_SUMMARY, doc_id, state, sizeof(state));
		if (f && !strcmp(state, "pending"))
			snprintf(state, sizeof(state), "pending (the ticket changed; this is the "
				 "summary of its previous version)");
		struct summary sm = { (char *)field_text(f, "problem"), (char *)field_text(f, "cause"),
				      (char *)field_text(f, "solution"), (char *)field_text(f, "result") };
		summary_render_md(d.name, f ? field_text(f, "subject") : NULL, f ? &sm : NULL,
				  row.method, state, &sb);
	}
	json_decref(f);
	summary_row_clear(&row);
	doc_row_clear(&d);
	return finish(&sb, body, out);
}

/* One similar ticket, with its summary's problem and solution; false when
 * the ticket went since the list was made. */
static bool similar_entry(struct store *s, json_t *e, json_t **out)
{
	int64_t id = (int64_t)json_integer_value(json_object_get(e, "doc_id"));
	struct summary_row row;
	struct doc_row d;

	if (store_doc_get(s, id, &d))
		return false;
	json_t *f = summary_fields(s, id, &row);
	*out = json_pack("{s:s,s:s,s:s,s:O,s:s,s:s}", "ticket", d.name, "path",
			 field_text(e, "path"), "title", field_text(e, "title"), "score",
			 json_object_get(e, "score"), "problem", f ? field_text(f, "problem") : "",
			 "solution", f ? field_text(f, "solution") : "");
	json_decref(f);
	summary_row_clear(&row);
	doc_row_clear(&d);
	return *out != NULL;
}

static void similar_md(const char *name, json_t *view, struct strbuf *sb)
{
	json_t *a = json_object_get(view, "similar"), *e;
	size_t i;

	strbuf_addf(sb, "# Tickets like %s\n\nstate: %s\n", name,
		    field_text(view, "state"));
	if (!a)
		return;
	strbuf_addstr(sb, "\nSimilar tickets:\n");
	if (!json_array_size(a))
		strbuf_addstr(sb, "(none found)\n");
	json_array_foreach(a, i, e) {
		const char *prob = field_text(e, "problem"), *sol = field_text(e, "solution");
		strbuf_addf(sb, "\n%zu. %s (score %.4f)\n   %s\n", i + 1, field_text(e, "path"),
			    json_real_value(json_object_get(e, "score")), field_text(e, "title"));
		strbuf_addf(sb, "   Problem: %s\n   Solution: %s\n", *prob ? prob : "(summary pending)",
			    *sol ? sol : "(summary pending)");
	}
	a = json_object_get(view, "articles");
	strbuf_addstr(sb, "\nRelated articles:\n");
	if (!json_array_size(a))
		strbuf_addstr(sb, "(none found)\n");
	json_array_foreach(a, i, e)
		strbuf_addf(sb, "\n%zu. %s (score %.4f)\n   %s\n", i + 1, field_text(e, "path"),
			    json_real_value(json_object_get(e, "score")), field_text(e, "title"));
}

/* Ticket d's similar view as JSON: its stored list (NULL: none yet) with
 * each listed ticket's current summary lines, or the jobs' state. */
static json_t *similar_view(struct store *s, const struct doc_row *d, const char *list_text,
			    int64_t list_mtime)
{
	json_t *view = json_pack("{s:s}", "ticket", d->name), *list, *e, *x;
	char state[1400], when[32];
	size_t i;

	if (!view)
		return NULL;
	if (list_text && (list = json_loads(list_text, 0, NULL))) {
		json_t *sim = json_array(), *art = json_object_get(list, "articles");
		json_array_foreach(json_object_get(list, "tickets"), i, e)
			if (e && similar_entry(s, e, &x))
				json_array_append_new(sim, x);
		util_time_format(list_mtime, when);
		snprintf(state, sizeof(state), "done (computed %s)", when);
		json_object_set_new(view, "state", json_string(state));
		json_object_set_new(view, "similar", sim);
		json_object_set_new(view, "articles", art ? json_deep_copy(art) : json_array());
		json_array_foreach(json_object_get(view, "articles"), i, e)
			json_object_del(e, "doc_id");
		json_decref(list);
	} else {
		job_state(s, JOB_SIMILAR, d->id, state, sizeof(state));
		if (!strcmp(state, "pending"))
			job_state(s, JOB_SUMMARY, d->id, state, sizeof(state));
		json_object_set_new(view, "state", json_string(state));
	}
	return view;
}

/* similar.md or similar.json of a view, into sb. */
static void similar_text(const char *name, json_t *view, bool as_json, struct strbuf *sb)
{
	char *t;

	if (!as_json) {
		similar_md(name, view, sb);
	} else if ((t = json_dumps(view, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) {
		strbuf_addstr(sb, t);
		strbuf_addch(sb, '\n');
		free(t);
	} else {
		sb->err = -ENOMEM;
	}
}

/* Renders ticket d's files from list and stores them; inside store_begin(),
 * so no summary they quote can change before they land. */
static int similar_views_store(struct store *s, const struct doc_row *d, const char *list,
			       int64_t list_mtime)
{
	static const enum view_part parts[] = { VIEW_SIMILAR_MD, VIEW_SIMILAR_JSON };
	json_t *view = similar_view(s, d, list, list_mtime);
	int rc = view ? 0 : -ENOMEM;

	for (size_t i = 0; i < 2 && !rc; i++) {
		struct strbuf sb = STRBUF_INIT;
		similar_text(d->name, view, parts[i] == VIEW_SIMILAR_JSON, &sb);
		rc = sb.err ? -ENOMEM : store_view_set(s, d->id, parts[i], sb.buf, sb.len,
							(int64_t)time(NULL));
		strbuf_release(&sb);
	}
	json_decref(view);
	return rc;
}

int copilot_similar(struct store *s, int64_t doc_id, bool as_json, bool body,
		    struct copilot_file *out)
{
	struct strbuf sb = STRBUF_INIT;
	struct view_row v;
	struct doc_row d;
	char *list = NULL;
	int64_t list_mtime = 0;
	json_t *view;
	int rc = store_view_get(s, doc_id, as_json ? VIEW_SIMILAR_JSON : VIEW_SIMILAR_MD, &v, body);

	memset(out, 0, sizeof(*out));
	if (!rc) { /* the common case: the stored rendering */
		*out = (struct copilot_file){ v.body, v.len, v.mtime, v.tenant_id };
		return 0;
	}
	if (rc != -ESTALE && rc != -ENOENT)
		return rc;
	/* stale (its re-render is queued) or not rendered: render it now */
	bool stale = rc == -ESTALE;
	if ((rc = store_doc_get(s, doc_id, &d)))
		return rc;
	store_similar_get(s, doc_id, &list, &list_mtime);
	if (!(view = similar_view(s, &d, list, list_mtime))) {
		rc = -ENOMEM;
		goto out;
	}
	similar_text(d.name, view, as_json, &sb);
	out->tenant_id = d.tenant_id;
	out->mtime = stale ? v.mtime : list ? list_mtime : d.mtime;
	json_decref(view);
	rc = finish(&sb, body, out);
out:
	free(list);
	doc_row_clear(&d);
	if (rc)
		strbuf_release(&sb);
	return rc;
}
