/* parse_json.c - checked reading of one JSON record; see parse_json.h. */
#include "parse_json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html_text.h"
#include "strbuf.h"
#include "util.h"

void rec_fail(struct rec *r, const char *fmt, ...)
{
	va_list ap;

	if (r->why[0])
		return;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

const char *rec_type_name(json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a real number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

/* o[key] when it has type want (JSON_TRUE: any boolean); NULL when absent
 * or null; a type mismatch fails the record. */
json_t *rec_get(struct rec *r, json_t *o, const char *key, json_type want,
		       const char *want_name)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return NULL;
	if (json_typeof(v) == want || (want == JSON_TRUE && json_is_boolean(v)))
		return v;
	rec_fail(r, "%s'%s' is %s, expected %s", r->path, key, rec_type_name(v), want_name);
	return NULL;
}

const char *rec_str(struct rec *r, json_t *o, const char *key)
{
	return json_string_value(rec_get(r, o, key, JSON_STRING, "a string"));
}

bool rec_int(struct rec *r, json_t *o, const char *key, json_int_t *out)
{
	json_t *v = rec_get(r, o, key, JSON_INTEGER, "an integer");

	if (v)
		*out = json_integer_value(v);
	return v != NULL;
}

bool rec_bool(struct rec *r, json_t *o, const char *key, bool def)
{
	json_t *v = rec_get(r, o, key, JSON_TRUE, "a boolean");

	return v ? json_is_true(v) : def;
}

/* An RFC 3339 time; 0 when absent, null or "". */
int64_t rec_time(struct rec *r, json_t *o, const char *key)
{
	const char *s = rec_str(r, o, key);
	int64_t t = 0;

	if (s && *s && util_time_parse(s, &t)) {
		rec_fail(r, "%s'%s' is not an RFC 3339 time", r->path, key);
		t = 0;
	}
	return t;
}

/* Replaces *dst with a copy of s (NULL leaves NULL). */
void rec_dup(struct rec *r, char **dst, const char *s)
{
	if (!s || r->rc)
		return;
	free(*dst);
	*dst = strdup(s);
	if (!*dst)
		r->rc = -ENOMEM;
}


void rec_fmt(struct rec *r, char **dst, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	if (r->rc)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	free(*dst);
	*dst = strbuf_detach(&sb, NULL);
	if (!*dst)
		r->rc = -ENOMEM;
}

/* *dst = html_to_text(html). */
void rec_html_text(struct rec *r, char **dst, const char *html)
{
	if (!html || r->rc)
		return;
	free(*dst);
	*dst = html_to_text(html, strlen(html));
	if (!*dst)
		r->rc = -ENOMEM;
}

void rec_tags(struct rec *r, json_t *o, const char *key, struct ticket *t,
		     struct article *a)
{
	json_t *tags = rec_get(r, o, key, JSON_ARRAY, "an array");
	json_t *v;
	size_t i;

	json_array_foreach(tags, i, v) {
		const char *tag = json_string_value(v);

		if (!tag) {
			rec_fail(r, "'%s' element %zu is %s, expected a string", key,
				 i + 1, rec_type_name(v));
			return;
		}
		if (!*tag || r->rc)
			continue;
		if ((t ? ticket_add_tag(t, tag) : article_add_tag(a, tag)) == -ENOMEM)
			r->rc = -ENOMEM;
	}
}

/* The JSON text of one record, for ticket->raw. */
void rec_raw(struct rec *r, char **dst, json_t *v)
{
	if (r->rc)
		return;
	*dst = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!*dst)
		r->rc = -ENOMEM;
}

/* Frees what a message built outside a ticket owns. */
void msg_release(struct message *m)
{
	free(m->id);
	free(m->author);
	free(m->text);
	free(m->html);
	for (size_t i = 0; i < m->n_atts; i++) {
		free(m->atts[i].name);
		free(m->atts[i].content_type);
		free(m->atts[i].url);
	}
	free(m->atts);
	memset(m, 0, sizeof(*m));
}

/* Moves *m into t; on failure m is released. Returns 0 or -ENOMEM. */
int msg_append(struct ticket *t, struct message *m)
{
	struct message *dst = ticket_add_message(t);

	if (!dst) {
		msg_release(m);
		return -ENOMEM;
	}
	*dst = *m;
	memset(m, 0, sizeof(*m));
	return 0;
}
