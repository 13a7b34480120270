/* collect.h - a parse_sink for unit tests that keeps what parsers emit:
 * tickets and articles as their normalized JSON (ticket_to_json), rejects
 * as "where: why" strings, and threads e-mail by Message-ID. */
#ifndef DESKFS_COLLECT_H
#define DESKFS_COLLECT_H

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"
#include "ticket.h"
#include "util.h"

struct collect {
	json_t *tickets;  /* array of ticket_to_json() objects, in put order */
	json_t *articles; /* array of article_to_json() objects */
	json_t *rejects;  /* array of "where: why" strings */
	json_t *threads;  /* object: message id -> source_id */
	struct parse_sink sink;
};

static int collect_put_ticket(void *ctx, struct ticket *t)
{
	struct collect *c = ctx;
	json_t *j;

	if (ticket_finish(t))
		return -12;
	j = ticket_to_json(t);
	if (!j)
		return -12;
	json_array_append_new(c->tickets, j);
	for (size_t i = 0; i < t->n_msgs; i++)
		if (t->msgs[i].id && !strcmp(t->source, "email"))
			json_object_set_new(c->threads, t->msgs[i].id,
					    json_string(t->source_id));
	return 0;
}

static int collect_put_article(void *ctx, struct article *a)
{
	struct collect *c = ctx;
	json_t *j;

	if (article_finish(a))
		return -12;
	j = article_to_json(a);
	if (!j)
		return -12;
	json_array_append_new(c->articles, j);
	return 0;
}

static void collect_reject(void *ctx, const char *where, const char *why)
{
	struct collect *c = ctx;
	char buf[2048];

	snprintf(buf, sizeof(buf), "%s: %s", where, why);
	json_array_append_new(c->rejects, json_string(buf));
}

static const char *collect_thread_find(void *ctx, const char *id)
{
	struct collect *c = ctx;

	return json_string_value(json_object_get(c->threads, id));
}

static inline void collect_init(struct collect *c)
{
	c->tickets = json_array();
	c->articles = json_array();
	c->rejects = json_array();
	c->threads = json_object();
	c->sink.ctx = c;
	c->sink.put_ticket = collect_put_ticket;
	c->sink.put_article = collect_put_article;
	c->sink.reject = collect_reject;
	c->sink.thread_find = collect_thread_find;
}

static inline void collect_clear(struct collect *c)
{
	json_decref(c->tickets);
	json_decref(c->articles);
	json_decref(c->rejects);
	json_decref(c->threads);
}

/* The n-th collected ticket's field as a string ("" when absent). */
static inline const char *collect_field(struct collect *c, size_t n, const char *key)
{
	const char *s = json_string_value(json_object_get(json_array_get(c->tickets, n), key));
	return s ? s : "";
}

/* Loads tests/fixtures/NAME (DESKFS_FIXTURES) into a parse_input; the
 * caller frees in->data. Returns 0 or -errno. */
static inline int collect_load_fixture(const char *name, struct parse_input *in)
{
	const char *dir = getenv("DESKFS_FIXTURES");
	char path[4096];
	char *buf;
	size_t len;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/fixtures", name);
	rc = util_read_file(path, &buf, &len);
	if (rc)
		return rc;
	in->name = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	in->data = buf;
	in->len = len;
	return 0;
}

#endif
