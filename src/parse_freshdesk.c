/* parse_freshdesk.c - Freshdesk API v2 JSON.
 *
 * Shapes handled (docs/formats/freshdesk.md has the field mapping):
 *   - a ticket object ("View a Ticket", optionally with
 *     include=conversations,requester,stats);
 *   - an array of tickets ("List All Tickets" pages) or a filter result
 *     {"total": N, "results": [...]};
 *   - an array of conversations ("List All Conversations of a Ticket"):
 *     grouped by ticket_id into one partial ticket per ticket;
 *   - a solution article ("View an article") or an array of them.
 * Arrays may mix these; conversation groups are put after the other
 * records, in ascending ticket_id order.
 *
 * Every record is checked before it reaches the sink: a missing or
 * non-integer id, a field of the wrong JSON type or an unparseable time
 * rejects that record ("file record 3") and the parse goes on. A bad
 * conversation embedded in a ticket rejects only that conversation
 * ("file conversation 2"); the ticket is still put.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html_text.h"
#include "parse.h"
#include "parse_json.h"
#include "strbuf.h"
#include "ticket.h"
#include "util.h"

#define SOURCE "freshdesk"


/* o["attachments"] into the ticket (m NULL) or message m. Freshdesk
 * documents "size"; some samples show "file_size": both are accepted. */
static void fd_attachments(struct rec *r, json_t *o, struct ticket *t, struct message *m)
{
	json_t *arr = rec_get(r, o, "attachments", JSON_ARRAY, "an array");
	json_t *a;
	size_t i;

	json_array_foreach(arr, i, a) {
		struct attachment *att;
		const char *url;
		json_int_t size;

		if (!json_is_object(a)) {
			rec_fail(r, "attachment %zu is %s, expected an object", i + 1,
				 rec_type_name(a));
			break;
		}
		att = m ? message_add_attachment(m) : ticket_add_attachment(t);
		if (!att) {
			r->rc = -ENOMEM;
			break;
		}
		snprintf(r->path, sizeof(r->path), "attachment %zu: ", i + 1);
		rec_dup(r, &att->name, rec_str(r, a, "name"));
		rec_dup(r, &att->content_type, rec_str(r, a, "content_type"));
		if (rec_int(r, a, "size", &size) || rec_int(r, a, "file_size", &size))
			att->size = size >= 0 ? size : -1;
		url = rec_str(r, a, "attachment_url");
		rec_dup(r, &att->url, url ? url : rec_str(r, a, "url"));
		r->path[0] = '\0';
	}
}

/* The instance from an optional "domain" hint: "acme",
 * "acme.freshdesk.com" or "https://acme.freshdesk.com/..." all give
 * "acme.freshdesk.com". NULL (later "") without a hint. */
static void fd_instance(struct rec *r, json_t *o, char **dst)
{
	const char *d = rec_str(r, o, "domain");
	const char *p;
	size_t n;

	if (!d)
		return;
	p = strstr(d, "://");
	if (p)
		d = p + 3;
	n = strcspn(d, "/:?#");
	if (!n)
		return;
	if (memchr(d, '.', n))
		rec_fmt(r, dst, "%.*s", (int)n, d);
	else
		rec_fmt(r, dst, "%.*s.freshdesk.com", (int)n, d);
	for (char *c = *dst; c && *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c += 'a' - 'A';
}

/* Requester identity: the ticket's requester_id (known when has_id) and
 * its display text. */
struct fd_requester {
	bool has_id;
	json_int_t id;
	const char *text;
};

/* Builds message *m from conversation c. A conversation is the
 * customer's when incoming or written by the ticket's requester, else an
 * agent's; private conversations are internal notes. */
static void fd_conversation(struct rec *r, json_t *c, const struct fd_requester *req,
			    struct message *m)
{
	json_t *idv = json_object_get(c, "id");
	json_int_t uid = 0;
	bool has_uid, incoming;
	const char *html, *text;

	if (!json_is_integer(idv)) {
		rec_fail(r, "conversation has no integer 'id'");
		return;
	}
	m->is_public = true;
	rec_fmt(r, &m->id, "%lld", (long long)json_integer_value(idv));
	incoming = rec_bool(r, c, "incoming", false);
	has_uid = rec_int(r, c, "user_id", &uid);
	if (has_uid && req->has_id && uid == req->id) {
		m->role = ROLE_CUSTOMER;
		rec_dup(r, &m->author, req->text);
	} else if (incoming) {
		m->role = ROLE_CUSTOMER;
		if (has_uid)
			rec_fmt(r, &m->author, "contact:%lld", (long long)uid);
	} else {
		m->role = ROLE_AGENT;
		if (has_uid)
			rec_fmt(r, &m->author, "agent:%lld", (long long)uid);
	}
	m->is_public = !rec_bool(r, c, "private", false);
	html = rec_str(r, c, "body");
	text = rec_str(r, c, "body_text");
	rec_dup(r, &m->html, html);
	if (text)
		rec_dup(r, &m->text, text);
	else
		rec_html_text(r, &m->text, html);
	m->time = rec_time(r, c, "created_at");
	fd_attachments(r, c, NULL, m);
}

static const char *const fd_status_names[] = {
	[2] = "open", [3] = "pending", [4] = "solved", [5] = "closed",
};

static const char *const fd_priority_names[] = {
	[1] = "low", [2] = "normal", [3] = "high", [4] = "urgent",
};

static const char *const fd_source_names[] = {
	[1] = "email", [2] = "portal", [3] = "phone", [7] = "chat",
	[9] = "feedback_widget", [10] = "outbound_email",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void cf_set(struct rec *r, struct ticket *t, const char *key, json_t *v)
{
	if (r->rc || !v || json_is_null(v))
		return;
	if (!t->custom_fields && !(t->custom_fields = json_object())) {
		r->rc = -ENOMEM;
		return;
	}
	if (json_object_set(t->custom_fields, key, v))
		r->rc = -ENOMEM;
}

static void fd_custom_fields(struct rec *r, json_t *o, struct ticket *t)
{
	static const char *const extra[] = {
		"source", "due_by", "fr_due_by", "company_id", "product_id",
		"email_config_id",
	};
	json_t *cf = rec_get(r, o, "custom_fields", JSON_OBJECT, "an object");
	const char *key;
	json_int_t src;
	json_t *v;

	json_object_foreach(cf, key, v)
		cf_set(r, t, key, v);
	for (size_t i = 0; i < ARRAY_SIZE(extra); i++)
		cf_set(r, t, extra[i], json_object_get(o, extra[i]));
	if (rec_int(r, o, "source", &src) && src > 0 &&
	    src < (json_int_t)ARRAY_SIZE(fd_source_names) && fd_source_names[src]) {
		json_t *ch = json_string(fd_source_names[src]);

		if (!ch)
			r->rc = -ENOMEM;
		cf_set(r, t, "channel", ch);
		json_decref(ch);
	}
}

static void fd_requester(struct rec *r, json_t *o, struct ticket *t, struct fd_requester *req)
{
	json_t *ro;
	const char *name = NULL, *email = NULL;

	req->has_id = rec_int(r, o, "requester_id", &req->id);
	ro = rec_get(r, o, "requester", JSON_OBJECT, "an object");
	if (ro) {
		snprintf(r->path, sizeof(r->path), "requester: ");
		name = rec_str(r, ro, "name");
		email = rec_str(r, ro, "email");
		r->path[0] = '\0';
		if (name && !*name)
			name = NULL;
		if (email && !*email)
			email = NULL;
	}
	if (name && email)
		rec_fmt(r, &t->requester, "%s <%s>", name, email);
	else if (name || email)
		rec_dup(r, &t->requester, name ? name : email);
	else if (req->has_id)
		rec_fmt(r, &t->requester, "requester:%lld", (long long)req->id);
	req->text = t->requester;
}

/* Result of building one record: 1 put, 0 rejected, < 0 fatal. */
static int put_ticket(struct parse_sink *s, struct ticket *t, struct rec *r, const char *where)
{
	int rc;

	if (r->rc)
		return r->rc;
	if (r->why[0]) {
		s->reject(s->ctx, where, r->why);
		return 0;
	}
	rc = s->put_ticket(s->ctx, t);
	return rc < 0 ? rc : 1;
}

static int fd_ticket(json_t *o, const char *where, bool whole, struct parse_sink *s)
{
	struct rec r = { .rc = 0 };
	struct fd_requester req = { false, 0, NULL };
	struct ticket t;
	json_t *idv = json_object_get(o, "id"), *stats, *convs, *c;
	const char *html, *text;
	json_int_t n;
	size_t i;
	int rc;

	ticket_init(&t);
	if (!json_is_integer(idv)) {
		s->reject(s->ctx, where, "ticket has no integer 'id'");
		rc = 0;
		goto out;
	}
	rec_dup(&r, &t.source, SOURCE);
	fd_instance(&r, o, &t.instance);
	rec_fmt(&r, &t.source_id, "%lld", (long long)json_integer_value(idv));
	rec_dup(&r, &t.subject, rec_str(&r, o, "subject"));
	if (rec_int(&r, o, "status", &n)) {
		rec_fmt(&r, &t.status_raw, "%lld", (long long)n);
		rec_dup(&r, &t.status, n > 0 && n < (json_int_t)ARRAY_SIZE(fd_status_names) &&
			fd_status_names[n] ? fd_status_names[n] : "open");
	}
	if (rec_bool(&r, o, "deleted", false)) {
		t.deleted = true;
		rec_dup(&r, &t.status, "deleted");
	}
	if (rec_int(&r, o, "priority", &n)) {
		rec_fmt(&r, &t.priority_raw, "%lld", (long long)n);
		if (n > 0 && n < (json_int_t)ARRAY_SIZE(fd_priority_names))
			rec_dup(&r, &t.priority, fd_priority_names[n]);
	}
	rec_dup(&r, &t.type, rec_str(&r, o, "type"));
	fd_requester(&r, o, &t, &req);
	if (rec_int(&r, o, "responder_id", &n))
		rec_fmt(&r, &t.assignee, "agent:%lld", (long long)n);
	if (rec_int(&r, o, "group_id", &n))
		rec_fmt(&r, &t.group, "group:%lld", (long long)n);
	t.created = rec_time(&r, o, "created_at");
	t.updated = rec_time(&r, o, "updated_at");
	stats = rec_get(&r, o, "stats", JSON_OBJECT, "an object");
	if (stats) {
		snprintf(r.path, sizeof(r.path), "stats: ");
		t.resolved = rec_time(&r, stats, "resolved_at");
		r.path[0] = '\0';
	}
	if (!t.resolved)
		t.resolved = rec_time(&r, o, "resolved_at");
	rec_tags(&r, o, "tags", &t, NULL);
	fd_custom_fields(&r, o, &t);

	html = rec_str(&r, o, "description");
	text = rec_str(&r, o, "description_text");
	rec_dup(&r, &t.body_html, html);
	if (text)
		rec_dup(&r, &t.body_text, text);
	else
		rec_html_text(&r, &t.body_text, html);
	if (!r.rc && ((html && *html) || (text && *text))) {
		struct message *m = ticket_add_message(&t);

		if (!m) {
			rc = -ENOMEM;
			goto out;
		}
		m->role = ROLE_CUSTOMER;
		m->time = t.created;
		rec_dup(&r, &m->id, "description");
		rec_dup(&r, &m->author, t.requester);
		rec_dup(&r, &m->text, t.body_text);
		rec_dup(&r, &m->html, t.body_html);
	}
	fd_attachments(&r, o, &t, NULL);
	if (!whole)
		rec_raw(&r, &t.raw, o);

	convs = rec_get(&r, o, "conversations", JSON_ARRAY, "an array");
	json_array_foreach(convs, i, c) {
		struct rec cr = { .rc = 0 };
		struct message m = { .is_public = true };
		char w[160];

		if (r.rc || r.why[0])
			break;
		snprintf(w, sizeof(w), "%s conversation %zu", where, i + 1);
		if (!json_is_object(c)) {
			parse_rejectf(s, w, "conversation is %s, expected an object",
				      rec_type_name(c));
			continue;
		}
		fd_conversation(&cr, c, &req, &m);
		if (cr.rc || cr.why[0]) {
			msg_release(&m);
			if (cr.rc) {
				rc = cr.rc;
				goto out;
			}
			s->reject(s->ctx, w, cr.why);
			continue;
		}
		if ((rc = msg_append(&t, &m)))
			goto out;
	}
	rc = put_ticket(s, &t, &r, where);
out:
	ticket_clear(&t);
	return rc;
}

static int fd_article(json_t *o, const char *where, struct parse_sink *s)
{
	struct rec r = { .rc = 0 };
	struct article a;
	json_t *idv = json_object_get(o, "id");
	const char *html, *text;
	json_int_t n;
	int rc = 0;

	article_init(&a);
	if (!json_is_integer(idv)) {
		s->reject(s->ctx, where, "article has no integer 'id'");
		goto out;
	}
	rec_dup(&r, &a.source, SOURCE);
	rec_fmt(&r, &a.source_id, "%lld", (long long)json_integer_value(idv));
	rec_dup(&r, &a.title, rec_str(&r, o, "title"));
	html = rec_str(&r, o, "description");
	text = rec_str(&r, o, "description_text");
	rec_dup(&r, &a.body_html, html);
	if (html)
		rec_html_text(&r, &a.body_text, html);
	else
		rec_dup(&r, &a.body_text, text);
	if (rec_int(&r, o, "status", &n)) {
		if (n == 1)
			rec_dup(&r, &a.status, "draft");
		else if (n == 2)
			rec_dup(&r, &a.status, "published");
		else
			rec_fmt(&r, &a.status, "%lld", (long long)n);
	}
	rec_tags(&r, o, "tags", NULL, &a);
	a.created = rec_time(&r, o, "created_at");
	a.updated = rec_time(&r, o, "updated_at");
	if (r.rc) {
		rc = r.rc;
	} else if (r.why[0]) {
		s->reject(s->ctx, where, r.why);
	} else {
		rc = s->put_article(s->ctx, &a);
		rc = rc < 0 ? rc : 1;
	}
out:
	article_clear(&a);
	return rc;
}

enum fd_kind { FD_TICKET, FD_CONVERSATION, FD_ARTICLE };

static enum fd_kind fd_kind(json_t *o)
{
	if (json_object_get(o, "ticket_id"))
		return FD_CONVERSATION;
	if (json_object_get(o, "folder_id") || json_object_get(o, "category_id") ||
	    (json_object_get(o, "title") && !json_object_get(o, "subject")))
		return FD_ARTICLE;
	return FD_TICKET;
}

struct conv_ref {
	json_int_t ticket_id;
	size_t idx;
};

static int conv_ref_cmp(const void *a, const void *b)
{
	const struct conv_ref *x = a, *y = b;

	if (x->ticket_id != y->ticket_id)
		return x->ticket_id < y->ticket_id ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* One partial ticket from the conversations arr[refs[0..n).idx], all of
 * ticket refs[0].ticket_id. single: arr is the whole value at where. */
static int fd_conv_group(json_t *arr, const struct conv_ref *refs, size_t n, bool single,
			 const char *where, bool whole, struct parse_sink *s)
{
	const struct fd_requester req = { false, 0, NULL };
	struct rec r = { .rc = 0 };
	struct ticket t;
	json_t *raw = NULL;
	int rc = 0;

	ticket_init(&t);
	t.partial = true;
	rec_dup(&r, &t.source, SOURCE);
	rec_fmt(&r, &t.source_id, "%lld", (long long)refs[0].ticket_id);
	if (!whole && !(raw = json_array())) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && !r.rc; i++) {
		json_t *c = single ? arr : json_array_get(arr, refs[i].idx);
		struct rec cr = { .rc = 0 };
		struct message m = { .is_public = true };
		char w[160];

		if (single)
			snprintf(w, sizeof(w), "%s", where);
		else
			snprintf(w, sizeof(w), "%s record %zu", where, refs[i].idx + 1);
		fd_conversation(&cr, c, &req, &m);
		if (!t.instance)
			fd_instance(&cr, c, &t.instance);
		if (cr.rc || cr.why[0]) {
			msg_release(&m);
			if (cr.rc) {
				rc = cr.rc;
				goto out;
			}
			s->reject(s->ctx, w, cr.why);
			continue;
		}
		if ((rc = msg_append(&t, &m)))
			goto out;
		if (raw && json_array_append(raw, c))
			r.rc = -ENOMEM;
	}
	if (!t.n_msgs && !r.rc)
		goto out;
	if (raw)
		rec_raw(&r, &t.raw, raw);
	rc = put_ticket(s, &t, &r, where);
out:
	json_decref(raw);
	ticket_clear(&t);
	return rc;
}

static int fd_array(json_t *arr, const char *where, struct parse_sink *s)
{
	size_t n = json_array_size(arr), n_refs = 0, i;
	struct conv_ref *refs = NULL;
	int count = 0, rc = 0;
	json_t *e;

	if (n && !(refs = calloc(n, sizeof(*refs))))
		return -ENOMEM;
	json_array_foreach(arr, i, e) {
		char w[160];
		json_t *tid;

		snprintf(w, sizeof(w), "%s record %zu", where, i + 1);
		if (!json_is_object(e)) {
			parse_rejectf(s, w, "record is %s, expected an object", rec_type_name(e));
			continue;
		}
		switch (fd_kind(e)) {
		case FD_CONVERSATION:
			tid = json_object_get(e, "ticket_id");
			if (!json_is_integer(tid)) {
				s->reject(s->ctx, w, "conversation has no integer 'ticket_id'");
				continue;
			}
			refs[n_refs].ticket_id = json_integer_value(tid);
			refs[n_refs++].idx = i;
			rc = 0;
			break;
		case FD_ARTICLE:
			rc = fd_article(e, w, s);
			break;
		default:
			rc = fd_ticket(e, w, false, s);
			break;
		}
		if (rc < 0)
			goto out;
		count += rc;
	}
	if (n_refs)
		qsort(refs, n_refs, sizeof(*refs), conv_ref_cmp);
	for (size_t start = 0, end; start < n_refs; start = end) {
		for (end = start + 1; end < n_refs; end++)
			if (refs[end].ticket_id != refs[start].ticket_id)
				break;
		rc = fd_conv_group(arr, refs + start, end - start, false, where,
				   !strcmp(where, "file") && start == 0 && end == n_refs &&
				   n_refs == n, s);
		if (rc < 0)
			goto out;
		count += rc;
	}
	rc = count;
out:
	free(refs);
	return rc;
}

/* Freshdesk-only shapes; anything Zendesk-like is refused first. */
static int fd_looks_like(json_t *o)
{
	json_t *status = json_object_get(o, "status");

	if (!json_is_object(o) || json_object_get(o, "via") ||
	    json_object_get(o, "submitter_id"))
		return 0;
	if (json_object_get(o, "description_text") || json_is_array(json_object_get(o, "conversations")))
		return 1;
	if (json_object_get(o, "requester_id") && json_is_integer(status))
		return 1;
	if (json_object_get(o, "body_text") && json_object_get(o, "ticket_id"))
		return 1;
	if (json_object_get(o, "folder_id") && json_object_get(o, "description"))
		return 1;
	return 0;
}

int freshdesk_detect(json_t *v)
{
	if (zendesk_detect(v))
		return 0;
	if (json_is_object(v) && json_is_array(json_object_get(v, "results")))
		return fd_looks_like(json_array_get(json_object_get(v, "results"), 0));
	if (json_is_array(v))
		return fd_looks_like(json_array_get(v, 0));
	return fd_looks_like(v);
}

int freshdesk_parse_value(json_t *v, const char *where, const struct parse_input *in,
			  struct parse_sink *s)
{
	bool whole = !strcmp(where, "file");
	json_t *results;
	int rc;

	(void)in;
	if (json_is_array(v))
		return fd_array(v, where, s);
	if (!json_is_object(v)) {
		parse_rejectf(s, where, "value is %s, expected a freshdesk ticket, "
			      "conversation or article object or an array of them",
			      rec_type_name(v));
		return -EINVAL;
	}
	results = json_object_get(v, "results");
	if (json_is_array(results))
		return fd_array(results, where, s);
	switch (fd_kind(v)) {
	case FD_CONVERSATION: {
		json_t *tid = json_object_get(v, "ticket_id");
		struct conv_ref ref = { json_integer_value(tid), 0 };

		if (!json_is_integer(tid)) {
			s->reject(s->ctx, where, "conversation has no integer 'ticket_id'");
			return -EINVAL;
		}
		rc = fd_conv_group(v, &ref, 1, true, where, whole, s);
		break;
	}
	case FD_ARTICLE:
		rc = fd_article(v, where, s);
		break;
	default:
		rc = fd_ticket(v, where, whole, s);
		break;
	}
	return rc == 0 ? -EINVAL : rc;
}
