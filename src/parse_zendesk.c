/* parse_zendesk.c - Zendesk Support and Help Center API JSON.
 *
 * Shapes handled (docs/formats/zendesk.md has the field mapping):
 *   - {"ticket": {...}} ("Show Ticket"), optionally with sideloaded
 *     "users" (include=users) and "comments" inside the ticket;
 *   - {"tickets": [...]} list pages and incremental export pages (with
 *     "next_page", "count", "end_of_stream"...), a bare array of tickets,
 *     and a bare ticket object (one NDJSON line);
 *   - {"comments": [...]} ("List Comments") for a ticket whose id is the
 *     first run of digits in the file name: one partial ticket;
 *   - {"article": {...}} / {"articles": [...]} (Help Center).
 *
 * Every record is checked before it reaches the sink: a missing or
 * non-integer id, a field of the wrong JSON type or an unparseable time
 * rejects that record ("file record 3") and the parse goes on; a bad
 * comment rejects only that comment ("file comment 2").
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "html_text.h"
#include "parse.h"
#include "parse_json.h"
#include "strbuf.h"
#include "ticket.h"
#include "util.h"

#define SOURCE "zendesk"


/* The lower-case host of an http(s) URL, or NULL. */
static void url_host(struct rec *r, const char *url, char **dst)
{
	const char *p = url ? strstr(url, "://") : NULL;
	const char *at;
	size_t n;

	if (!p)
		return;
	p += 3;
	n = strcspn(p, "/?#");
	at = memchr(p, '@', n);
	if (at) {
		n -= at + 1 - p;
		p = at + 1;
	}
	n = strcspn(p, ":/?#");
	if (!n)
		return;
	rec_fmt(r, dst, "%.*s", (int)n, p);
	for (char *c = *dst; c && *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c += 'a' - 'A';
}

/* Sideloaded users (include=users): an object mapping "ID" to the user
 * object, or NULL. */
static json_t *users_index(json_t *users)
{
	json_t *idx, *u;
	size_t i;

	if (!json_is_array(users) || !(idx = json_object()))
		return NULL;
	json_array_foreach(users, i, u) {
		json_t *id = json_object_get(u, "id");
		char key[32];

		if (!json_is_integer(id))
			continue;
		snprintf(key, sizeof(key), "%lld", (long long)json_integer_value(id));
		json_object_set(idx, key, u);
	}
	return idx;
}

static json_t *user_find(json_t *idx, json_int_t id)
{
	char key[32];

	if (!idx)
		return NULL;
	snprintf(key, sizeof(key), "%lld", (long long)id);
	return json_object_get(idx, key);
}

/* "Name <email>", "Name" or "email" of a sideloaded user, else NULL. */
static void user_text(struct rec *r, json_t *u, char **dst)
{
	const char *name = json_string_value(json_object_get(u, "name"));
	const char *email = json_string_value(json_object_get(u, "email"));

	if (name && !*name)
		name = NULL;
	if (email && !*email)
		email = NULL;
	if (name && email)
		rec_fmt(r, dst, "%s <%s>", name, email);
	else if (name || email)
		rec_dup(r, dst, name ? name : email);
}

/* ROLE_CUSTOMER / ROLE_AGENT from a sideloaded user's role, else
 * ROLE_UNKNOWN. */
static enum author_role user_role(json_t *u)
{
	const char *role = json_string_value(json_object_get(u, "role"));

	if (!role)
		return ROLE_UNKNOWN;
	if (!strcmp(role, "end-user"))
		return ROLE_CUSTOMER;
	if (!strcmp(role, "agent") || !strcmp(role, "admin"))
		return ROLE_AGENT;
	return ROLE_UNKNOWN;
}

static void zd_attachments(struct rec *r, json_t *o, struct message *m)
{
	json_t *arr = rec_get(r, o, "attachments", JSON_ARRAY, "an array");
	json_t *a;
	size_t i;

	json_array_foreach(arr, i, a) {
		struct attachment *att;
		json_int_t size;

		if (!json_is_object(a)) {
			rec_fail(r, "attachment %zu is %s, expected an object", i + 1,
				 rec_type_name(a));
			break;
		}
		if (!(att = message_add_attachment(m))) {
			r->rc = -ENOMEM;
			break;
		}
		snprintf(r->path, sizeof(r->path), "attachment %zu: ", i + 1);
		rec_dup(r, &att->name, rec_str(r, a, "file_name"));
		rec_dup(r, &att->content_type, rec_str(r, a, "content_type"));
		if (rec_int(r, a, "size", &size))
			att->size = size >= 0 ? size : -1;
		rec_dup(r, &att->url, rec_str(r, a, "content_url"));
		r->path[0] = '\0';
	}
}

/* What is known about the ticket a comment belongs to. In a comments
 * file the requester is unknown (has_req false). */
struct zd_ctx {
	json_t *users;   /* users_index() or NULL */
	bool has_req;
	json_int_t req_id;
	const char *req_text;
};

/* Builds message *m from comment c. Role: the sideloaded user's role when
 * known; else the ticket's requester is the customer and everybody else
 * an agent; in a comments file (requester unknown) a private comment is
 * an agent's (end users cannot write internal notes) and a public one
 * ROLE_UNKNOWN. Author id -1 is Zendesk's system user. */
static void zd_comment(struct rec *r, json_t *c, const struct zd_ctx *z, struct message *m)
{
	json_t *idv = json_object_get(c, "id"), *u = NULL;
	const char *body, *html, *plain;
	json_int_t aid = 0;
	bool has_aid;

	if (!json_is_integer(idv)) {
		rec_fail(r, "comment has no integer 'id'");
		return;
	}
	rec_fmt(r, &m->id, "%lld", (long long)json_integer_value(idv));
	m->is_public = rec_bool(r, c, "public", true);
	has_aid = rec_int(r, c, "author_id", &aid);
	if (has_aid)
		u = user_find(z->users, aid);
	m->role = user_role(u);
	if (m->role == ROLE_UNKNOWN) {
		if (has_aid && aid == -1)
			m->role = ROLE_SYSTEM;
		else if (z->has_req)
			m->role = has_aid && aid == z->req_id ? ROLE_CUSTOMER : ROLE_AGENT;
		else if (!m->is_public)
			m->role = ROLE_AGENT;
	}
	user_text(r, u, &m->author);
	if (!m->author && has_aid) {
		if (z->has_req && aid == z->req_id && z->req_text)
			rec_dup(r, &m->author, z->req_text);
		else if (m->role == ROLE_AGENT)
			rec_fmt(r, &m->author, "agent:%lld", (long long)aid);
		else if (m->role == ROLE_CUSTOMER)
			rec_fmt(r, &m->author, "requester:%lld", (long long)aid);
		else
			rec_fmt(r, &m->author, "user:%lld", (long long)aid);
	}
	body = rec_str(r, c, "body");
	html = rec_str(r, c, "html_body");
	plain = rec_str(r, c, "plain_body");
	rec_dup(r, &m->html, html);
	if (body || plain)
		rec_dup(r, &m->text, body ? body : plain);
	else
		rec_html_text(r, &m->text, html);
	m->time = rec_time(r, c, "created_at");
	zd_attachments(r, c, m);
}

/* Adds the comments of array arr to t; bad comments are rejected at
 * "WHERE comment K". Returns 0 or a fatal negative errno. */
static int zd_comments_add(json_t *arr, const struct zd_ctx *z, struct ticket *t,
			   const char *where, struct parse_sink *s)
{
	json_t *c;
	size_t i;
	int rc;

	json_array_foreach(arr, i, c) {
		struct rec cr = { .rc = 0 };
		struct message m = { .is_public = true };
		char w[160];

		snprintf(w, sizeof(w), "%s comment %zu", where, i + 1);
		if (!json_is_object(c)) {
			parse_rejectf(s, w, "comment is %s, expected an object", rec_type_name(c));
			continue;
		}
		zd_comment(&cr, c, z, &m);
		if (cr.rc || cr.why[0]) {
			msg_release(&m);
			if (cr.rc)
				return cr.rc;
			s->reject(s->ctx, w, cr.why);
			continue;
		}
		if ((rc = msg_append(t, &m)))
			return rc;
	}
	return 0;
}

static const char *const zd_statuses[] = {
	"new", "open", "pending", "hold", "solved", "closed", "deleted",
};

static const char *const zd_priorities[] = { "low", "normal", "high", "urgent" };

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The entry of names equal to s ignoring case, or NULL. */
static const char *name_find(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcasecmp(names[i], s))
			return names[i];
	return NULL;
}

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

/* custom_fields / fields: [{"id": 360001, "value": ...}] into
 * t->custom_fields {"360001": ...}; null values are skipped. */
static void zd_custom_fields(struct rec *r, json_t *o, const char *key, struct ticket *t)
{
	json_t *arr = rec_get(r, o, key, JSON_ARRAY, "an array");
	json_t *f;
	size_t i;

	json_array_foreach(arr, i, f) {
		json_t *id = json_object_get(f, "id");
		char name[32];

		if (!json_is_object(f) || !json_is_integer(id)) {
			rec_fail(r, "'%s' element %zu has no integer 'id'", key, i + 1);
			return;
		}
		snprintf(name, sizeof(name), "%lld", (long long)json_integer_value(id));
		cf_set(r, t, name, json_object_get(f, "value"));
	}
}

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

/* Returns 1 put, 0 rejected, < 0 fatal. whole: o is the whole file. */
static int zd_ticket(json_t *o, const char *where, bool whole, json_t *users,
		     struct parse_sink *s)
{
	struct rec r = { .rc = 0 };
	struct zd_ctx z = { users, false, 0, NULL };
	struct ticket t;
	json_t *idv = json_object_get(o, "id"), *via, *ms, *comments;
	const char *str, *desc;
	json_int_t n;
	int rc;

	ticket_init(&t);
	if (!json_is_integer(idv)) {
		s->reject(s->ctx, where, "ticket has no integer 'id'");
		rc = 0;
		goto out;
	}
	rec_dup(&r, &t.source, SOURCE);
	url_host(&r, rec_str(&r, o, "url"), &t.instance);
	rec_fmt(&r, &t.source_id, "%lld", (long long)json_integer_value(idv));
	str = rec_str(&r, o, "subject");
	rec_dup(&r, &t.subject, str && *str ? str : rec_str(&r, o, "raw_subject"));
	desc = rec_str(&r, o, "description");
	rec_dup(&r, &t.body_text, desc);
	if ((str = rec_str(&r, o, "status"))) {
		const char *st = name_find(zd_statuses, ARRAY_SIZE(zd_statuses), str);

		rec_dup(&r, &t.status_raw, str);
		rec_dup(&r, &t.status, st ? st : "open");
		t.deleted = st && !strcmp(st, "deleted");
	}
	if ((str = rec_str(&r, o, "priority"))) {
		rec_dup(&r, &t.priority_raw, str);
		rec_dup(&r, &t.priority,
			name_find(zd_priorities, ARRAY_SIZE(zd_priorities), str));
	}
	rec_dup(&r, &t.type, rec_str(&r, o, "type"));
	if ((z.has_req = rec_int(&r, o, "requester_id", &z.req_id))) {
		user_text(&r, user_find(users, z.req_id), &t.requester);
		if (!t.requester)
			rec_fmt(&r, &t.requester, "requester:%lld", (long long)z.req_id);
		z.req_text = t.requester;
	}
	if (rec_int(&r, o, "assignee_id", &n)) {
		user_text(&r, user_find(users, n), &t.assignee);
		if (!t.assignee)
			rec_fmt(&r, &t.assignee, "agent:%lld", (long long)n);
	}
	if (rec_int(&r, o, "group_id", &n))
		rec_fmt(&r, &t.group, "group:%lld", (long long)n);
	t.created = rec_time(&r, o, "created_at");
	t.updated = rec_time(&r, o, "updated_at");
	if ((ms = rec_get(&r, o, "metric_set", JSON_OBJECT, "an object"))) {
		snprintf(r.path, sizeof(r.path), "metric_set: ");
		t.resolved = rec_time(&r, ms, "solved_at");
		r.path[0] = '\0';
	}
	rec_tags(&r, o, "tags", &t, NULL);
	zd_custom_fields(&r, o, "custom_fields", &t);
	zd_custom_fields(&r, o, "fields", &t);
	if ((via = rec_get(&r, o, "via", JSON_OBJECT, "an object")))
		cf_set(&r, &t, "channel", json_is_string(json_object_get(via, "channel")) ?
		       json_object_get(via, "channel") : NULL);
	if (!whole)
		rec_raw(&r, &t.raw, o);

	comments = rec_get(&r, o, "comments", JSON_ARRAY, "an array");
	if (comments && !r.rc && !r.why[0]) {
		if ((rc = zd_comments_add(comments, &z, &t, where, s)))
			goto out;
		if (t.n_msgs)
			rec_dup(&r, &t.body_html, t.msgs[0].html);
	}
	if (!t.n_msgs && desc && *desc && !r.rc) {
		struct message *m = ticket_add_message(&t);

		if (!m) {
			rc = -ENOMEM;
			goto out;
		}
		m->role = ROLE_CUSTOMER;
		m->time = t.created;
		rec_dup(&r, &m->id, "description");
		rec_dup(&r, &m->author, t.requester);
		rec_dup(&r, &m->text, desc);
	}
	rc = put_ticket(s, &t, &r, where);
out:
	ticket_clear(&t);
	return rc;
}

/* Instance of a comments page: the host of any API URL in it (next_page,
 * previous_page, an attachment's "url"). */
static void zd_comments_instance(struct rec *r, json_t *v, json_t *comments, char **dst)
{
	static const char *const keys[] = { "next_page", "previous_page" };
	json_t *c, *a;
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(keys) && !*dst; i++) {
		const char *u = json_string_value(json_object_get(v, keys[i]));

		if (u && strstr(u, "/api/v2/"))
			url_host(r, u, dst);
	}
	json_array_foreach(comments, i, c) {
		json_array_foreach(json_object_get(c, "attachments"), j, a) {
			const char *u = json_string_value(json_object_get(a, "url"));

			if (!*dst && u && strstr(u, "/api/v2/"))
				url_host(r, u, dst);
		}
	}
}

/* A comments page: one partial ticket whose id is the first run of
 * digits in the file name. */
static int zd_comments(json_t *v, json_t *comments, const char *where, bool whole,
		       const struct parse_input *in, json_t *users, struct parse_sink *s)
{
	struct rec r = { .rc = 0 };
	struct zd_ctx z = { users, false, 0, NULL };
	const char *name = in ? in->name : NULL, *p;
	struct ticket t;
	size_t n;
	int rc;

	ticket_init(&t);
	p = name ? name + strcspn(name, "0123456789") : NULL;
	if (!p || !*p) {
		s->reject(s->ctx, where,
			  "comments file name must contain the ticket id, e.g. 4821-comments.json");
		rc = -EINVAL;
		goto out;
	}
	n = strspn(p, "0123456789");
	while (n > 1 && *p == '0') {
		p++;
		n--;
	}
	t.partial = true;
	rec_dup(&r, &t.source, SOURCE);
	rec_fmt(&r, &t.source_id, "%.*s", (int)n, p);
	zd_comments_instance(&r, v, comments, &t.instance);
	if (!whole)
		rec_raw(&r, &t.raw, v);
	if (r.rc) {
		rc = r.rc;
		goto out;
	}
	if ((rc = zd_comments_add(comments, &z, &t, where, s)))
		goto out;
	if (t.n_msgs)
		rc = put_ticket(s, &t, &r, where);
	else
		rc = json_array_size(comments) ? -EINVAL : 0; /* all rejected */
out:
	ticket_clear(&t);
	return rc;
}

static int zd_article(json_t *o, const char *where, struct parse_sink *s)
{
	struct rec r = { .rc = 0 };
	struct article a;
	json_t *idv = json_object_get(o, "id");
	const char *title, *body;
	int rc = 0;

	article_init(&a);
	if (!json_is_integer(idv)) {
		s->reject(s->ctx, where, "article has no integer 'id'");
		goto out;
	}
	rec_dup(&r, &a.source, SOURCE);
	rec_fmt(&r, &a.source_id, "%lld", (long long)json_integer_value(idv));
	title = rec_str(&r, o, "title");
	rec_dup(&r, &a.title, title ? title : rec_str(&r, o, "name"));
	body = rec_str(&r, o, "body");
	rec_dup(&r, &a.body_html, body);
	rec_html_text(&r, &a.body_text, body);
	rec_dup(&r, &a.status, rec_bool(&r, o, "draft", false) ? "draft" : "published");
	rec_dup(&r, &a.url, rec_str(&r, o, "html_url"));
	rec_tags(&r, o, "label_names", NULL, &a);
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

/* Each element of arr as a ticket (or article), "WHERE record K". */
static int zd_records(json_t *arr, const char *where, bool articles, json_t *users,
		      struct parse_sink *s)
{
	int count = 0, rc;
	json_t *e;
	size_t i;

	json_array_foreach(arr, i, e) {
		char w[160];

		snprintf(w, sizeof(w), "%s record %zu", where, i + 1);
		if (!json_is_object(e)) {
			parse_rejectf(s, w, "record is %s, expected an object", rec_type_name(e));
			continue;
		}
		rc = articles ? zd_article(e, w, s) : zd_ticket(e, w, false, users, s);
		if (rc < 0)
			return rc;
		count += rc;
	}
	return count;
}

/* A bare ticket object: an id and either an API url, "via", or both
 * requester_id and submitter_id. */
static bool zd_is_ticket(json_t *o)
{
	const char *url = json_string_value(json_object_get(o, "url"));

	if (!json_is_object(o) || !json_object_get(o, "id"))
		return false;
	if (url && strstr(url, "/api/v2/tickets/"))
		return true;
	if (json_is_object(json_object_get(o, "via")))
		return true;
	return json_object_get(o, "requester_id") && json_object_get(o, "submitter_id");
}

int zendesk_detect(json_t *v)
{
	if (json_is_array(v))
		return zd_is_ticket(json_array_get(v, 0));
	if (!json_is_object(v))
		return 0;
	if (json_is_object(json_object_get(v, "ticket")) ||
	    json_is_array(json_object_get(v, "tickets")) ||
	    json_is_array(json_object_get(v, "comments")) ||
	    json_is_object(json_object_get(v, "article")) ||
	    json_is_array(json_object_get(v, "articles")))
		return 1;
	return zd_is_ticket(v);
}

static const struct zd_shape {
	const char *key;
	json_type type;
} zd_shapes[] = {
	{ "ticket", JSON_OBJECT }, { "tickets", JSON_ARRAY }, { "comments", JSON_ARRAY },
	{ "article", JSON_OBJECT }, { "articles", JSON_ARRAY },
};

int zendesk_parse_value(json_t *v, const char *where, const struct parse_input *in,
			struct parse_sink *s)
{
	bool whole = !strcmp(where, "file");
	json_t *users = NULL, *x = NULL;
	size_t i;
	int rc;

	if (json_is_array(v))
		return zd_records(v, where, false, NULL, s);
	if (!json_is_object(v)) {
		parse_rejectf(s, where, "value is %s, expected a zendesk ticket, ticket "
			      "list, comment list or article", rec_type_name(v));
		return -EINVAL;
	}
	users = users_index(json_object_get(v, "users"));
	if (json_object_get(v, "id")) {
		/* a bare ticket, e.g. one line of an NDJSON export */
		rc = zd_ticket(v, where, whole, users, s);
		rc = rc ? rc : -EINVAL;
		goto out;
	}
	for (i = 0; i < ARRAY_SIZE(zd_shapes); i++)
		if ((x = json_object_get(v, zd_shapes[i].key)))
			break;
	if (x && json_typeof(x) != zd_shapes[i].type) {
		parse_rejectf(s, where, "'%s' is %s, expected %s", zd_shapes[i].key,
			      rec_type_name(x), zd_shapes[i].type == JSON_OBJECT ?
			      "an object" : "an array");
		rc = -EINVAL;
		goto out;
	}
	switch (i) {
	case 0:
		rc = zd_ticket(x, where, whole, users, s);
		rc = rc ? rc : -EINVAL;
		break;
	case 1:
		rc = zd_records(x, where, false, users, s);
		break;
	case 2:
		rc = zd_comments(v, x, where, whole, in, users, s);
		break;
	case 3:
		rc = zd_article(x, where, s);
		rc = rc ? rc : -EINVAL;
		break;
	case 4:
		rc = zd_records(x, where, true, users, s);
		break;
	default:
		parse_rejectf(s, where, "expected a zendesk ticket, ticket list, comment "
			      "list or article");
		rc = -EINVAL;
		break;
	}
out:
	json_decref(users);
	return rc;
}
