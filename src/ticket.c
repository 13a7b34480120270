/* ticket.c - the common ticket/article model: building, merging, JSON,
 * Markdown and the content hash. */
#include "ticket.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "html_text.h"
#include "util.h"

const char *role_name(enum author_role r)
{
	switch (r) {
	case ROLE_CUSTOMER: return "customer";
	case ROLE_AGENT: return "agent";
	case ROLE_SYSTEM: return "system";
	default: return "unknown";
	}
}

static enum author_role role_parse(const char *s)
{
	if (!s)
		return ROLE_UNKNOWN;
	if (!strcmp(s, "customer"))
		return ROLE_CUSTOMER;
	if (!strcmp(s, "agent"))
		return ROLE_AGENT;
	if (!strcmp(s, "system"))
		return ROLE_SYSTEM;
	return ROLE_UNKNOWN;
}

/* Grows *arr (of *n elements of size sz) by one zeroed element. */
static void *array_push(void *arr_ptr, size_t *n, size_t sz)
{
	void **arr = arr_ptr;
	char *p = realloc(*arr, (*n + 1) * sz);

	if (!p)
		return NULL;
	*arr = p;
	memset(p + *n * sz, 0, sz);
	return p + (*n)++ * sz;
}

static void attachment_clear(struct attachment *a)
{
	free(a->name);
	free(a->content_type);
	free(a->url);
}

static void message_clear(struct message *m)
{
	free(m->id);
	free(m->author);
	free(m->text);
	free(m->html);
	for (size_t i = 0; i < m->n_atts; i++)
		attachment_clear(&m->atts[i]);
	free(m->atts);
}

static void tags_free(char **tags, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(tags[i]);
	free(tags);
}

void ticket_init(struct ticket *t)
{
	memset(t, 0, sizeof(*t));
}

void ticket_clear(struct ticket *t)
{
	char **strs[] = { &t->source, &t->instance, &t->source_id, &t->subject,
			  &t->body_text, &t->body_html, &t->status, &t->status_raw,
			  &t->priority, &t->priority_raw, &t->type, &t->requester,
			  &t->assignee, &t->group };

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		free(*strs[i]);
	tags_free(t->tags, t->n_tags);
	json_decref(t->custom_fields);
	for (size_t i = 0; i < t->n_msgs; i++)
		message_clear(&t->msgs[i]);
	free(t->msgs);
	for (size_t i = 0; i < t->n_atts; i++)
		attachment_clear(&t->atts[i]);
	free(t->atts);
	free(t->raw);
	ticket_init(t);
}

struct message *ticket_add_message(struct ticket *t)
{
	struct message *m = array_push(&t->msgs, &t->n_msgs, sizeof(*m));

	if (m)
		m->is_public = true;
	return m;
}

struct attachment *ticket_add_attachment(struct ticket *t)
{
	struct attachment *a = array_push(&t->atts, &t->n_atts, sizeof(*a));

	if (a)
		a->size = -1;
	return a;
}

struct attachment *message_add_attachment(struct message *m)
{
	struct attachment *a = array_push(&m->atts, &m->n_atts, sizeof(*a));

	if (a)
		a->size = -1;
	return a;
}

static int tags_add(char ***tags, size_t *n, const char *tag)
{
	char **slot;

	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*tags)[i], tag))
			return 0;
	slot = array_push(tags, n, sizeof(char *));
	if (!slot)
		return -ENOMEM;
	*slot = strdup(tag);
	if (!*slot) {
		(*n)--;
		return -ENOMEM;
	}
	return 0;
}

int ticket_add_tag(struct ticket *t, const char *tag)
{
	return tags_add(&t->tags, &t->n_tags, tag);
}

/* Fills *text from html when *text is empty. */
static int text_from_html(char **text, const char *html)
{
	if ((*text && **text) || !html || !*html)
		return 0;
	free(*text);
	*text = html_to_text(html, strlen(html));
	return *text ? 0 : -ENOMEM;
}

int ticket_finish(struct ticket *t)
{
	int rc = 0;

	if (!t->instance && (rc = util_set_str(&t->instance, "")))
		return rc;
	if ((rc = text_from_html(&t->body_text, t->body_html)))
		return rc;
	for (size_t i = 0; i < t->n_msgs; i++)
		if ((rc = text_from_html(&t->msgs[i].text, t->msgs[i].html)))
			return rc;
	/* insertion sort keeps equal times in their original order */
	for (size_t i = 1; i < t->n_msgs; i++) {
		struct message m = t->msgs[i];
		size_t j = i;
		while (j > 0 && t->msgs[j - 1].time > m.time) {
			t->msgs[j] = t->msgs[j - 1];
			j--;
		}
		t->msgs[j] = m;
	}
	if ((!t->subject || !*t->subject) && !t->partial) {
		const char *src = t->body_text;
		if ((!src || !*src) && t->n_msgs)
			src = t->msgs[0].text;
		if (src && *src) {
			const char *p = src;
			while (*p == '\n' || *p == ' ' || *p == '\t' || *p == '\r')
				p++;
			size_t n = strcspn(p, "\r\n");
			if (n > 120)
				n = 120;
			free(t->subject);
			t->subject = util_strtrim(p, n);
		} else {
			rc = util_set_str(&t->subject, "(no subject)");
		}
		if (!t->subject)
			return -ENOMEM;
	}
	return rc;
}

static int attachment_copy(struct attachment *dst, const struct attachment *src)
{
	dst->name = util_strdup(src->name);
	dst->content_type = util_strdup(src->content_type);
	dst->url = util_strdup(src->url);
	dst->size = src->size;
	if ((src->name && !dst->name) || (src->content_type && !dst->content_type) ||
	    (src->url && !dst->url))
		return -ENOMEM;
	return 0;
}

static int message_copy(struct message *dst, const struct message *src)
{
	int rc = 0;

	dst->id = util_strdup(src->id);
	dst->role = src->role;
	dst->author = util_strdup(src->author);
	dst->is_public = src->is_public;
	dst->text = util_strdup(src->text);
	dst->html = util_strdup(src->html);
	dst->time = src->time;
	for (size_t i = 0; i < src->n_atts && !rc; i++) {
		struct attachment *a = message_add_attachment(dst);
		rc = a ? attachment_copy(a, &src->atts[i]) : -ENOMEM;
	}
	return rc;
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

bool message_same(const struct message *a, const struct message *b)
{
	if (a->id && b->id)
		return !strcmp(a->id, b->id);
	return a->role == b->role && a->time == b->time && str_eq(a->text, b->text);
}

int ticket_merge(struct ticket *dst, const struct ticket *src)
{
	int rc = 0;

	for (size_t i = 0; i < src->n_msgs && !rc; i++) {
		const struct message *sm = &src->msgs[i];
		struct message *dm = NULL;
		for (size_t j = 0; j < dst->n_msgs; j++)
			if (message_same(&dst->msgs[j], sm))
				dm = &dst->msgs[j];
		if (dm)
			message_clear(dm);
		else if (!(dm = ticket_add_message(dst)))
			return -ENOMEM;
		memset(dm, 0, sizeof(*dm));
		rc = message_copy(dm, sm);
		if (sm->time > dst->updated)
			dst->updated = sm->time;
	}
	for (size_t i = 0; i < src->n_atts && !rc; i++) {
		bool dup = false;
		for (size_t j = 0; j < dst->n_atts; j++)
			if (dst->atts[j].name && src->atts[i].name &&
			    !strcmp(dst->atts[j].name, src->atts[i].name) &&
			    dst->atts[j].size == src->atts[i].size)
				dup = true;
		if (dup)
			continue;
		struct attachment *a = ticket_add_attachment(dst);
		rc = a ? attachment_copy(a, &src->atts[i]) : -ENOMEM;
	}
	if (!rc)
		rc = ticket_finish(dst);
	return rc;
}

/* ---- JSON ---------------------------------------------------------------- */

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *jtime(int64_t t)
{
	char buf[32];

	if (!t)
		return json_null();
	util_time_format(t, buf);
	return json_string(buf);
}

static json_t *tags_to_json(char **tags, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(tags[i]));
	return a;
}

static json_t *atts_to_json(const struct attachment *atts, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:o,s:o,s:o,s:o}",
			"name", jstr(atts[i].name),
			"content_type", jstr(atts[i].content_type),
			"size", atts[i].size >= 0 ? json_integer(atts[i].size) : json_null(),
			"url", jstr(atts[i].url)));
	return a;
}

json_t *ticket_to_json(const struct ticket *t)
{
	json_t *msgs = json_array(), *j;

	for (size_t i = 0; i < t->n_msgs; i++) {
		const struct message *m = &t->msgs[i];
		json_array_append_new(msgs, json_pack("{s:o,s:s,s:o,s:b,s:o,s:o,s:o,s:o}",
			"id", jstr(m->id), "role", role_name(m->role),
			"author", jstr(m->author), "public", m->is_public,
			"text", jstr(m->text), "html", jstr(m->html),
			"time", jtime(m->time),
			"attachments", atts_to_json(m->atts, m->n_atts)));
	}
	j = json_pack("{s:o,s:o,s:o,s:b,s:b,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
		"source", jstr(t->source), "instance", jstr(t->instance ? t->instance : ""),
		"source_id", jstr(t->source_id), "partial", t->partial,
		"deleted", t->deleted, "subject", jstr(t->subject),
		"status", jstr(t->status), "status_raw", jstr(t->status_raw),
		"priority", jstr(t->priority), "priority_raw", jstr(t->priority_raw),
		"type", jstr(t->type), "requester", jstr(t->requester),
		"assignee", jstr(t->assignee));
	if (!j)
		goto fail;
	if (json_object_set_new(j, "group", jstr(t->group)) ||
	    json_object_set_new(j, "created", jtime(t->created)) ||
	    json_object_set_new(j, "updated", jtime(t->updated)) ||
	    json_object_set_new(j, "resolved", jtime(t->resolved)) ||
	    json_object_set_new(j, "tags", tags_to_json(t->tags, t->n_tags)) ||
	    json_object_set_new(j, "custom_fields",
				t->custom_fields ? json_deep_copy(t->custom_fields) : json_object()) ||
	    json_object_set_new(j, "body_text", jstr(t->body_text)) ||
	    json_object_set_new(j, "body_html", jstr(t->body_html)) ||
	    json_object_set(j, "messages", msgs) ||
	    json_object_set_new(j, "attachments", atts_to_json(t->atts, t->n_atts)))
		goto fail;
	json_decref(msgs);
	return j;
fail:
	json_decref(msgs);
	json_decref(j);
	return NULL;
}

static int jget_str(json_t *o, const char *key, char **out)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -EINVAL;
	return util_set_str(out, json_string_value(v));
}

static int jget_time(json_t *o, const char *key, int64_t *out)
{
	const char *s = json_string_value(json_object_get(o, key));

	*out = 0;
	return s ? util_time_parse(s, out) : 0;
}

static int atts_from_json(json_t *arr, struct attachment *(*add)(void *), void *owner)
{
	size_t i;
	json_t *v;
	int rc = 0;

	json_array_foreach(arr, i, v) {
		struct attachment *a = add(owner);
		if (!a)
			return -ENOMEM;
		rc = jget_str(v, "name", &a->name);
		if (!rc)
			rc = jget_str(v, "content_type", &a->content_type);
		if (!rc)
			rc = jget_str(v, "url", &a->url);
		if (rc)
			return rc;
		if (json_is_integer(json_object_get(v, "size")))
			a->size = json_integer_value(json_object_get(v, "size"));
	}
	return 0;
}

static struct attachment *add_ticket_att(void *t)
{
	return ticket_add_attachment(t);
}

static struct attachment *add_msg_att(void *m)
{
	return message_add_attachment(m);
}

int ticket_from_json(json_t *j, struct ticket *t)
{
	struct { const char *key; char **dst; } strs[] = {
		{ "source", &t->source }, { "instance", &t->instance },
		{ "source_id", &t->source_id }, { "subject", &t->subject },
		{ "body_text", &t->body_text }, { "body_html", &t->body_html },
		{ "status", &t->status }, { "status_raw", &t->status_raw },
		{ "priority", &t->priority }, { "priority_raw", &t->priority_raw },
		{ "type", &t->type }, { "requester", &t->requester },
		{ "assignee", &t->assignee }, { "group", &t->group },
	};
	size_t i;
	json_t *v;
	int rc = 0;

	if (!json_is_object(j))
		return -EINVAL;
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]) && !rc; i++)
		rc = jget_str(j, strs[i].key, strs[i].dst);
	if (!rc)
		rc = jget_time(j, "created", &t->created);
	if (!rc)
		rc = jget_time(j, "updated", &t->updated);
	if (!rc)
		rc = jget_time(j, "resolved", &t->resolved);
	if (rc)
		return rc;
	t->partial = json_is_true(json_object_get(j, "partial"));
	t->deleted = json_is_true(json_object_get(j, "deleted"));
	json_array_foreach(json_object_get(j, "tags"), i, v)
		if (json_is_string(v) && (rc = ticket_add_tag(t, json_string_value(v))))
			return rc;
	v = json_object_get(j, "custom_fields");
	if (json_is_object(v) && json_object_size(v))
		t->custom_fields = json_deep_copy(v);
	json_array_foreach(json_object_get(j, "messages"), i, v) {
		struct message *m = ticket_add_message(t);
		if (!m)
			return -ENOMEM;
		if ((rc = jget_str(v, "id", &m->id)) || (rc = jget_str(v, "author", &m->author)) ||
		    (rc = jget_str(v, "text", &m->text)) || (rc = jget_str(v, "html", &m->html)) ||
		    (rc = jget_time(v, "time", &m->time)))
			return rc;
		m->role = role_parse(json_string_value(json_object_get(v, "role")));
		m->is_public = !json_is_false(json_object_get(v, "public"));
		if ((rc = atts_from_json(json_object_get(v, "attachments"), add_msg_att, m)))
			return rc;
	}
	return atts_from_json(json_object_get(j, "attachments"), add_ticket_att, t);
}

/* ---- Markdown --------------------------------------------------------------- */

static void md_field(struct strbuf *out, const char *name, const char *value)
{
	if (value && *value)
		strbuf_addf(out, "- %s: %s\n", name, value);
}

static void md_time(struct strbuf *out, const char *name, int64_t t)
{
	char buf[32];

	if (!t)
		return;
	util_time_format(t, buf);
	md_field(out, name, buf);
}

static void md_attachments(struct strbuf *out, const struct attachment *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		strbuf_addf(out, "- %s", a[i].name ? a[i].name : "(unnamed)");
		if (a[i].content_type)
			strbuf_addf(out, " (%s", a[i].content_type);
		if (a[i].size >= 0)
			strbuf_addf(out, "%s%lld bytes", a[i].content_type ? ", " : " (",
				    (long long)a[i].size);
		if (a[i].content_type || a[i].size >= 0)
			strbuf_addch(out, ')');
		if (a[i].url)
			strbuf_addf(out, " <%s>", a[i].url);
		strbuf_addch(out, '\n');
	}
}

static void md_text(struct strbuf *out, const char *text)
{
	size_t start = out->len;

	strbuf_addstr(out, text && *text ? text : "(empty)");
	strbuf_rtrim(out);
	if (out->len == start)
		strbuf_addstr(out, "(empty)");
	strbuf_addstr(out, "\n");
}

void ticket_render_md(const struct ticket *t, struct strbuf *out)
{
	strbuf_addf(out, "# %s\n\n", t->subject ? t->subject : "(no subject)");
	strbuf_addf(out, "- ticket: %s %s%s%s\n", t->source ? t->source : "?",
		    t->source_id ? t->source_id : "?",
		    t->instance && *t->instance ? " @ " : "",
		    t->instance && *t->instance ? t->instance : "");
	md_field(out, "status", t->status);
	md_field(out, "priority", t->priority);
	md_field(out, "type", t->type);
	md_field(out, "requester", t->requester);
	md_field(out, "assignee", t->assignee);
	md_field(out, "group", t->group);
	md_time(out, "created", t->created);
	md_time(out, "updated", t->updated);
	md_time(out, "resolved", t->resolved);
	if (t->n_tags) {
		strbuf_addstr(out, "- tags:");
		for (size_t i = 0; i < t->n_tags; i++)
			strbuf_addf(out, "%s %s", i ? "," : "", t->tags[i]);
		strbuf_addch(out, '\n');
	}
	if (t->custom_fields && json_object_size(t->custom_fields)) {
		const char *key;
		json_t *v;
		json_object_foreach(t->custom_fields, key, v) {
			char *s = json_is_string(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
			strbuf_addf(out, "- %s: %s\n", key, s ? s : json_string_value(v));
			free(s);
		}
	}
	if (t->deleted)
		strbuf_addstr(out, "- deleted at source\n");
	if (!t->n_msgs) {
		strbuf_addstr(out, "\n## Description\n\n");
		md_text(out, t->body_text);
	}
	for (size_t i = 0; i < t->n_msgs; i++) {
		const struct message *m = &t->msgs[i];
		char when[32] = "time unknown";
		if (m->time)
			util_time_format(m->time, when);
		strbuf_addf(out, "\n## %zu. %s%s%s%s, %s, %s\n\n", i + 1, role_name(m->role),
			    m->author ? " (" : "", m->author ? m->author : "",
			    m->author ? ")" : "", m->is_public ? "public" : "internal note", when);
		md_text(out, m->text);
		if (m->n_atts) {
			strbuf_addstr(out, "\nAttachments:\n");
			md_attachments(out, m->atts, m->n_atts);
		}
	}
	if (t->n_atts) {
		strbuf_addstr(out, "\n## Attachments\n\n");
		md_attachments(out, t->atts, t->n_atts);
	}
}

/* ---- articles ------------------------------------------------------------- */

void article_init(struct article *a)
{
	memset(a, 0, sizeof(*a));
}

void article_clear(struct article *a)
{
	free(a->source);
	free(a->source_id);
	free(a->slug);
	free(a->title);
	free(a->body_text);
	free(a->body_html);
	free(a->status);
	free(a->url);
	tags_free(a->tags, a->n_tags);
	article_init(a);
}

int article_add_tag(struct article *a, const char *tag)
{
	return tags_add(&a->tags, &a->n_tags, tag);
}

int article_finish(struct article *a)
{
	int rc;

	if ((rc = text_from_html(&a->body_text, a->body_html)))
		return rc;
	if (!a->title || !*a->title) {
		const char *p = a->body_text ? a->body_text : "";
		while (*p == '#' || *p == ' ' || *p == '\n')
			p++;
		free(a->title);
		a->title = util_strtrim(p, strcspn(p, "\r\n") > 120 ? 120 : strcspn(p, "\r\n"));
		if (!a->title)
			return -ENOMEM;
		if (!*a->title && (rc = util_set_str(&a->title, "Untitled")))
			return rc;
	}
	if (!a->slug) {
		a->slug = util_slugify(a->title, 80);
		if (!a->slug)
			return -ENOMEM;
	}
	return 0;
}

json_t *article_to_json(const struct article *a)
{
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
		"source", jstr(a->source), "source_id", jstr(a->source_id),
		"slug", jstr(a->slug), "title", jstr(a->title),
		"body_text", jstr(a->body_text), "body_html", jstr(a->body_html),
		"status", jstr(a->status), "url", jstr(a->url),
		"tags", tags_to_json(a->tags, a->n_tags),
		"created", jtime(a->created), "updated", jtime(a->updated));
}

void article_render_md(const struct article *a, struct strbuf *out)
{
	const char *body = a->body_text ? a->body_text : "";

	/* Markdown files that already open with their title keep it as is. */
	if (!(body[0] == '#' && body[1] == ' '))
		strbuf_addf(out, "# %s\n\n", a->title ? a->title : "Untitled");
	strbuf_addstr(out, body);
	strbuf_rtrim(out);
	strbuf_addch(out, '\n');
}

