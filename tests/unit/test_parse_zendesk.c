/* test_parse_zendesk.c - Zendesk ticket, list, incremental export, NDJSON,
 * comments and Help Center article JSON; detection and rejects. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "collect.h"
#include "parse.h"

/* A field of a JSON object as text: the string, "<null>", "<missing>",
 * or the JSON of other values. */
static const char *S(json_t *o, const char *key)
{
	static char buf[8][256];
	static int k;
	json_t *v = json_object_get(o, key);
	char *d;

	if (!v)
		return "<missing>";
	if (json_is_null(v))
		return "<null>";
	if (json_is_string(v))
		return json_string_value(v);
	k = (k + 1) % 8;
	d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	snprintf(buf[k], sizeof(buf[k]), "%s", d ? d : "?");
	free(d);
	return buf[k];
}

static json_t *ticket(struct collect *c, size_t n)
{
	return json_array_get(c->tickets, n);
}

static json_t *msg(struct collect *c, size_t n, size_t k)
{
	return json_array_get(json_object_get(ticket(c, n), "messages"), k);
}

static const char *reject(struct collect *c, size_t n)
{
	const char *s = json_string_value(json_array_get(c->rejects, n));
	return s ? s : "<none>";
}

static int parse_str(struct collect *c, const char *name, const char *json)
{
	struct parse_input in = { name, json, strlen(json) };
	json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
	int rc;

	if (!v) {
		fprintf(stderr, "bad test JSON: %s\n", json);
		return -999;
	}
	rc = zendesk_parse_value(v, "file", &in, &c->sink);
	json_decref(v);
	return rc;
}

static int parse_fixture(struct collect *c, const char *name, int *detect_zd, int *detect_fd)
{
	struct parse_input in;
	json_t *v;
	int rc;

	if (collect_load_fixture(name, &in)) {
		fprintf(stderr, "cannot load fixture %s\n", name);
		return -999;
	}
	v = json_loadb(in.data, in.len, 0, NULL);
	if (!v) {
		free((char *)in.data);
		return -998;
	}
	*detect_zd = zendesk_detect(v);
	*detect_fd = freshdesk_detect(v);
	rc = zendesk_parse_value(v, "file", &in, &c->sink);
	json_decref(v);
	free((char *)in.data);
	return rc;
}

static void test_show_ticket(void)
{
	struct collect c;
	int zd, fd, rc;
	json_t *t, *m, *cf;

	collect_init(&c);
	rc = parse_fixture(&c, "zendesk/ticket.json", &zd, &fd);
	CHECK_INT(rc, 1);
	CHECK(zd);
	CHECK_INT(fd, 0);
	CHECK_INT(json_array_size(c.rejects), 0);
	t = ticket(&c, 0);
	CHECK_STR(S(t, "source"), "zendesk");
	CHECK_STR(S(t, "instance"), "acme.zendesk.com");
	CHECK_STR(S(t, "source_id"), "35436");
	CHECK_STR(S(t, "partial"), "false");
	CHECK_STR(S(t, "deleted"), "false");
	CHECK_STR(S(t, "subject"), "Help, my printer is on fire!");
	CHECK_STR(S(t, "body_text"), "The fire is very colorful.");
	CHECK_STR(S(t, "body_html"), "<null>");
	CHECK_STR(S(t, "status"), "open");
	CHECK_STR(S(t, "status_raw"), "open");
	CHECK_STR(S(t, "priority"), "high");
	CHECK_STR(S(t, "priority_raw"), "high");
	CHECK_STR(S(t, "type"), "incident");
	CHECK_STR(S(t, "requester"), "requester:20978392");
	CHECK_STR(S(t, "assignee"), "agent:235323");
	CHECK_STR(S(t, "group"), "group:98738");
	CHECK_STR(S(t, "created"), "2009-07-20T22:55:29Z");
	CHECK_STR(S(t, "updated"), "2011-05-05T10:38:52Z");
	CHECK_STR(S(t, "resolved"), "<null>");
	CHECK_STR(S(t, "tags"), "[\"enterprise\",\"other_tag\"]");
	cf = json_object_get(t, "custom_fields");
	CHECK_INT(json_object_size(cf), 4);
	CHECK_STR(S(cf, "27642"), "745");
	CHECK_STR(S(cf, "27648"), "yes");
	CHECK_STR(S(cf, "27650"), "<missing>");
	CHECK_STR(S(cf, "27652"), "[\"multi_a\",\"multi_b\"]");
	CHECK_STR(S(cf, "channel"), "web");
	CHECK_STR(S(t, "attachments"), "[]");
	CHECK_INT(json_array_size(json_object_get(t, "messages")), 1);
	m = msg(&c, 0, 0);
	CHECK_STR(S(m, "id"), "description");
	CHECK_STR(S(m, "role"), "customer");
	CHECK_STR(S(m, "author"), "requester:20978392");
	CHECK_STR(S(m, "public"), "true");
	CHECK_STR(S(m, "text"), "The fire is very colorful.");
	CHECK_STR(S(m, "html"), "<null>");
	CHECK_STR(S(m, "time"), "2009-07-20T22:55:29Z");
	collect_clear(&c);
}

static void test_list_page(void)
{
	struct collect c;
	int zd, fd, rc;
	json_t *t;

	collect_init(&c);
	rc = parse_fixture(&c, "zendesk/tickets_list.json", &zd, &fd);
	CHECK_INT(rc, 2);
	CHECK(zd);
	CHECK_INT(fd, 0);
	CHECK_INT(json_array_size(c.tickets), 2);
	t = ticket(&c, 0);
	CHECK_STR(S(t, "source_id"), "1");
	CHECK_STR(S(t, "subject"), "Where is my order?");
	CHECK_STR(S(t, "body_text"), "I ordered a lamp last week.\nIt has not arrived.");
	CHECK_STR(S(t, "status"), "pending");
	CHECK_STR(S(t, "priority"), "normal");
	CHECK_STR(S(t, "type"), "question");
	CHECK_STR(S(t, "requester"), "requester:501");
	CHECK_STR(S(t, "assignee"), "agent:601");
	CHECK_STR(S(t, "group"), "group:701");
	CHECK_STR(S(t, "custom_fields"), "{\"channel\":\"email\"}");
	CHECK_STR(S(t, "tags"), "[\"shipping\"]");
	t = ticket(&c, 1);
	CHECK_STR(S(t, "source_id"), "2");
	CHECK_STR(S(t, "subject"), "Raw subject only");
	CHECK_STR(S(t, "status"), "hold");
	CHECK_STR(S(t, "status_raw"), "hold");
	CHECK_STR(S(t, "priority"), "<null>");
	CHECK_STR(S(t, "priority_raw"), "<null>");
	CHECK_STR(S(t, "type"), "<null>");
	CHECK_STR(S(t, "assignee"), "<null>");
	CHECK_STR(S(t, "custom_fields"), "{\"360001\":false,\"channel\":\"api\"}");
	CHECK_INT(json_array_size(c.rejects), 3);
	CHECK_STR(reject(&c, 0), "file record 3: ticket has no integer 'id'");
	CHECK_STR(reject(&c, 1), "file record 4: 'custom_fields' element 1 has no integer 'id'");
	CHECK_STR(reject(&c, 2), "file record 5: 'subject' is an integer, expected a string");
	collect_clear(&c);
}

static void test_incremental(void)
{
	struct collect c;
	int zd, fd, rc;
	json_t *t;

	collect_init(&c);
	rc = parse_fixture(&c, "zendesk/incremental.json", &zd, &fd);
	CHECK_INT(rc, 3);
	CHECK(zd);
	CHECK_INT(fd, 0);
	CHECK_INT(json_array_size(c.rejects), 0);
	t = ticket(&c, 0);
	CHECK_STR(S(t, "source_id"), "101");
	CHECK_STR(S(t, "status"), "solved");
	CHECK_STR(S(t, "priority"), "urgent");
	CHECK_STR(S(t, "type"), "task");
	CHECK_STR(S(t, "resolved"), "2023-11-02T09:45:00Z");
	CHECK_STR(S(t, "custom_fields"), "{\"360002\":3,\"channel\":\"web\"}");
	CHECK_STR(S(t, "tags"), "[\"ops\",\"tls\"]");
	t = ticket(&c, 1);
	CHECK_STR(S(t, "source_id"), "102");
	CHECK_STR(S(t, "deleted"), "true");
	CHECK_STR(S(t, "status"), "deleted");
	CHECK_STR(S(t, "status_raw"), "deleted");
	t = ticket(&c, 2);
	CHECK_STR(S(t, "source_id"), "103");
	CHECK_STR(S(t, "status"), "closed");
	CHECK_STR(S(t, "priority"), "low");
	CHECK_STR(S(t, "deleted"), "false");
	CHECK_STR(S(t, "type"), "<null>");
	collect_clear(&c);
}

static void test_ndjson(void)
{
	struct collect c;
	struct parse_input in;
	int rcs[3] = { 0, 0, 0 }, n = 0;
	char *save = NULL, *buf, *line;

	CHECK_INT(collect_load_fixture("zendesk/tickets.ndjson", &in), 0);
	collect_init(&c);
	buf = strdup(in.data);
	for (line = strtok_r(buf, "\n", &save); line && n < 3;
	     line = strtok_r(NULL, "\n", &save)) {
		json_t *v = json_loads(line, 0, NULL);
		char where[32];

		snprintf(where, sizeof(where), "line %d", n + 1);
		CHECK(v != NULL);
		CHECK(zendesk_detect(v));
		CHECK_INT(freshdesk_detect(v), 0);
		rcs[n++] = zendesk_parse_value(v, where, &in, &c.sink);
		json_decref(v);
	}
	CHECK_INT(n, 3);
	CHECK_INT(rcs[0], 1);
	CHECK_INT(rcs[1], 1);
	CHECK_INT(rcs[2], -EINVAL);
	CHECK_INT(json_array_size(c.tickets), 2);
	CHECK_STR(S(ticket(&c, 0), "source_id"), "201");
	CHECK_STR(S(ticket(&c, 0), "instance"), "acme.zendesk.com");
	CHECK_STR(S(ticket(&c, 0), "status"), "closed");
	CHECK_STR(S(ticket(&c, 0), "custom_fields"), "{\"channel\":\"chat\"}");
	CHECK_STR(S(ticket(&c, 1), "source_id"), "202");
	CHECK_STR(S(ticket(&c, 1), "instance"), "");
	CHECK_STR(S(ticket(&c, 1), "status"), "new");
	CHECK_INT(json_array_size(c.rejects), 1);
	CHECK_STR(reject(&c, 0), "line 3: 'created_at' is not an RFC 3339 time");
	collect_clear(&c);
	free(buf);
	free((char *)in.data);
}

static void test_comments_file(void)
{
	struct collect c;
	int zd, fd, rc;
	json_t *t, *m, *a;

	collect_init(&c);
	rc = parse_fixture(&c, "zendesk/4821-comments.json", &zd, &fd);
	CHECK_INT(rc, 1);
	CHECK(zd);
	CHECK_INT(fd, 0);
	t = ticket(&c, 0);
	CHECK_STR(S(t, "source"), "zendesk");
	CHECK_STR(S(t, "source_id"), "4821");
	CHECK_STR(S(t, "partial"), "true");
	/* from the attachment's API url */
	CHECK_STR(S(t, "instance"), "acme.zendesk.com");
	CHECK_INT(json_array_size(json_object_get(t, "messages")), 2);
	m = msg(&c, 0, 0);
	CHECK_STR(S(m, "id"), "1274");
	CHECK_STR(S(m, "role"), "unknown");
	CHECK_STR(S(m, "author"), "user:123123");
	CHECK_STR(S(m, "public"), "true");
	CHECK_STR(S(m, "text"), "Thanks for your help!");
	CHECK_STR(S(m, "html"), "<div class=\"zd-comment\" dir=\"auto\"><p dir=\"auto\">"
		  "Thanks for your help!</p></div>");
	CHECK_STR(S(m, "time"), "2009-07-20T22:55:29Z");
	CHECK_INT(json_array_size(json_object_get(m, "attachments")), 1);
	a = json_array_get(json_object_get(m, "attachments"), 0);
	CHECK_STR(S(a, "name"), "crash.log");
	CHECK_STR(S(a, "content_type"), "text/plain");
	CHECK_STR(S(a, "size"), "2532");
	CHECK_STR(S(a, "url"), "https://acme.zendesk.com/attachments/token/"
		  "tyBq1ms40dFaHefSIigxZpwGg/?name=crash.log");
	m = msg(&c, 0, 1);
	CHECK_STR(S(m, "id"), "1275");
	CHECK_STR(S(m, "role"), "agent");
	CHECK_STR(S(m, "author"), "agent:235323");
	CHECK_STR(S(m, "public"), "false");
	CHECK_INT(json_array_size(c.rejects), 2);
	CHECK_STR(reject(&c, 0), "file comment 3: comment has no integer 'id'");
	CHECK_STR(reject(&c, 1), "file comment 4: 'public' is a string, expected a boolean");
	collect_clear(&c);

	/* the ticket id is the first run of digits, leading zeros dropped;
	 * sideloaded users give roles and names; html only gives text */
	collect_init(&c);
	rc = parse_str(&c, "ticket_0042_comments.json",
		       "{\"comments\":[{\"id\":1,\"author_id\":7,\"html_body\":\"<p>hi</p>\","
		       "\"public\":true},{\"id\":2,\"author_id\":8,\"plain_body\":\"yo\"},"
		       "{\"id\":3,\"author_id\":-1,\"body\":\"sys\"}],"
		       "\"users\":[{\"id\":7,\"name\":\"Kim\",\"email\":\"kim@x.org\","
		       "\"role\":\"end-user\"},{\"id\":8,\"email\":\"a@acme.com\",\"role\":\"agent\"}],"
		       "\"next_page\":\"https://Sub.Example.com/api/v2/tickets/42/comments.json?page=2\"}");
	CHECK_INT(rc, 1);
	t = ticket(&c, 0);
	CHECK_STR(S(t, "source_id"), "42");
	CHECK_STR(S(t, "instance"), "sub.example.com");
	CHECK_STR(S(msg(&c, 0, 0), "role"), "customer");
	CHECK_STR(S(msg(&c, 0, 0), "author"), "Kim <kim@x.org>");
	CHECK_STR(S(msg(&c, 0, 0), "text"), "hi");
	CHECK_STR(S(msg(&c, 0, 1), "role"), "agent");
	CHECK_STR(S(msg(&c, 0, 1), "author"), "a@acme.com");
	CHECK_STR(S(msg(&c, 0, 1), "text"), "yo");
	CHECK_STR(S(msg(&c, 0, 2), "role"), "system");
	CHECK_STR(S(msg(&c, 0, 2), "author"), "user:-1");
	CHECK_INT(json_array_size(c.rejects), 0);

	/* no digits in the name */
	rc = parse_str(&c, "comments.json", "{\"comments\":[{\"id\":1,\"body\":\"x\"}]}");
	CHECK_INT(rc, -EINVAL);
	CHECK_STR(reject(&c, 0), "file: comments file name must contain the ticket id, "
		  "e.g. 4821-comments.json");
	/* an empty page puts nothing; an all-bad page is unusable */
	CHECK_INT(parse_str(&c, "7-comments.json", "{\"comments\":[]}"), 0);
	CHECK_INT(parse_str(&c, "7-comments.json", "{\"comments\":[\"x\"]}"), -EINVAL);
	CHECK_STR(reject(&c, 1), "file comment 1: comment is a string, expected an object");
	CHECK_INT(json_array_size(c.tickets), 1);
	collect_clear(&c);
}

static void test_embedded_comments(void)
{
	struct collect c;
	int zd, fd, rc;
	json_t *t, *m;

	collect_init(&c);
	rc = parse_fixture(&c, "zendesk/ticket_with_comments.json", &zd, &fd);
	CHECK_INT(rc, 1);
	CHECK(zd);
	CHECK_INT(fd, 0);
	CHECK_INT(json_array_size(c.rejects), 0);
	t = ticket(&c, 0);
	CHECK_STR(S(t, "source_id"), "4821");
	CHECK_STR(S(t, "status"), "solved");
	CHECK_STR(S(t, "priority"), "urgent");
	CHECK_STR(S(t, "type"), "problem");
	CHECK_STR(S(t, "requester"), "Pat Lee <pat@example.net>");
	CHECK_STR(S(t, "assignee"), "Sam Agent <sam@acme.com>");
	CHECK_STR(S(t, "body_text"), "The CSV export stops at 1000 rows.");
	CHECK_STR(S(t, "body_html"), "<div class=\"zd-comment\"><p>The CSV export stops at "
		  "1000 rows.</p></div>");
	CHECK_INT(json_array_size(json_object_get(t, "messages")), 4);
	m = msg(&c, 0, 0);
	CHECK_STR(S(m, "id"), "9001");
	CHECK_STR(S(m, "role"), "customer");
	CHECK_STR(S(m, "author"), "Pat Lee <pat@example.net>");
	m = msg(&c, 0, 1);
	CHECK_STR(S(m, "id"), "9002");
	CHECK_STR(S(m, "role"), "agent");
	CHECK_STR(S(m, "author"), "Sam Agent <sam@acme.com>");
	CHECK_STR(S(m, "public"), "true");
	CHECK_STR(S(json_array_get(json_object_get(m, "attachments"), 0), "name"), "steps.pdf");
	CHECK_STR(S(json_array_get(json_object_get(m, "attachments"), 0), "size"), "10240");
	m = msg(&c, 0, 2);
	CHECK_STR(S(m, "id"), "9003");
	CHECK_STR(S(m, "role"), "agent");
	CHECK_STR(S(m, "author"), "Alex Admin <alex@acme.com>");
	CHECK_STR(S(m, "public"), "false");
	m = msg(&c, 0, 3);
	CHECK_STR(S(m, "id"), "9004");
	CHECK_STR(S(m, "role"), "agent");
	CHECK_STR(S(m, "author"), "agent:532");
	CHECK_STR(S(m, "html"), "<null>");
	collect_clear(&c);

	/* without users: the requester is the customer, the rest agents; a
	 * bad comment is dropped with its own reject */
	collect_init(&c);
	rc = parse_str(&c, "t.json",
		       "{\"id\":5,\"via\":{\"channel\":7},\"requester_id\":1,\"description\":\"d\","
		       "\"comments\":[{\"id\":1,\"author_id\":1,\"body\":\"q\"},"
		       "{\"id\":2,\"author_id\":2,\"body\":\"a\",\"public\":false},"
		       "{\"id\":3,\"body\":\"x\",\"attachments\":[{\"file_name\":[]}]}]}");
	CHECK_INT(rc, 1);
	CHECK_INT(json_array_size(json_object_get(ticket(&c, 0), "messages")), 2);
	CHECK_STR(S(msg(&c, 0, 0), "role"), "customer");
	CHECK_STR(S(msg(&c, 0, 0), "author"), "requester:1");
	CHECK_STR(S(msg(&c, 0, 1), "role"), "agent");
	CHECK_STR(S(msg(&c, 0, 1), "author"), "agent:2");
	CHECK_STR(S(msg(&c, 0, 1), "public"), "false");
	/* via.channel that is not a string is ignored */
	CHECK_STR(S(ticket(&c, 0), "custom_fields"), "{}");
	CHECK_INT(json_array_size(c.rejects), 1);
	CHECK_STR(reject(&c, 0), "file comment 3: attachment 1: 'file_name' is an array, "
		  "expected a string");
	collect_clear(&c);
}

static void test_articles(void)
{
	struct collect c;
	int zd, fd, rc;
	json_t *a;

	collect_init(&c);
	rc = parse_fixture(&c, "zendesk/article.json", &zd, &fd);
	CHECK_INT(rc, 1);
	CHECK(zd);
	CHECK_INT(fd, 0);
	CHECK_INT(json_array_size(c.articles), 1);
	CHECK_INT(json_array_size(c.tickets), 0);
	a = json_array_get(c.articles, 0);
	CHECK_STR(S(a, "source"), "zendesk");
	CHECK_STR(S(a, "source_id"), "37486578");
	CHECK_STR(S(a, "title"), "Securing your account");
	CHECK_STR(S(a, "body_html"), "<p>Turn on <strong>two-factor authentication</strong>.</p>");
	CHECK_STR(S(a, "body_text"), "Turn on two-factor authentication.");
	CHECK_STR(S(a, "status"), "published");
	CHECK_STR(S(a, "url"), "https://acme.zendesk.com/hc/en-us/articles/37486578-Securing-your-account");
	CHECK_STR(S(a, "tags"), "[\"security\",\"2fa\"]");
	CHECK_STR(S(a, "created"), "2012-04-04T09:14:01Z");
	CHECK_STR(S(a, "updated"), "2012-04-05T10:00:00Z");
	collect_clear(&c);

	collect_init(&c);
	rc = parse_fixture(&c, "zendesk/articles.json", &zd, &fd);
	CHECK_INT(rc, 1);
	CHECK(zd);
	CHECK_INT(fd, 0);
	a = json_array_get(c.articles, 0);
	CHECK_STR(S(a, "source_id"), "37486579");
	CHECK_STR(S(a, "status"), "draft");
	CHECK_STR(S(a, "tags"), "[]");
	CHECK_STR(S(a, "body_text"), "Invoices are sent monthly.");
	CHECK_INT(json_array_size(c.rejects), 2);
	CHECK_STR(reject(&c, 0), "file record 2: article has no integer 'id'");
	CHECK_STR(reject(&c, 1), "file record 3: 'draft' is a string, expected a boolean");
	collect_clear(&c);
}

static void test_detect(void)
{
	static const char *const yes[] = {
		"{\"ticket\":{\"id\":1}}",
		"{\"tickets\":[],\"count\":0,\"end_of_stream\":true}",
		"{\"comments\":[]}",
		"{\"article\":{\"id\":1}}",
		"{\"articles\":[]}",
		"{\"id\":1,\"url\":\"https://a.zendesk.com/api/v2/tickets/1.json\"}",
		"{\"id\":1,\"via\":{\"channel\":\"web\"}}",
		"{\"id\":1,\"requester_id\":2,\"submitter_id\":2}",
		"[{\"id\":1,\"via\":{\"channel\":\"web\"}}]",
	};
	static const char *const no[] = {
		"{\"id\":1,\"requester_id\":2,\"status\":2}",
		"{\"id\":1,\"description_text\":\"x\"}",
		"{\"id\":1,\"url\":\"https://a.example.com/x\"}",
		"{\"via\":{}}",
		"{\"ticket\":[]}",
		"[]", "[{}]", "{}", "1", "true", "null",
	};
	static const char *const fdfix[] = {
		"freshdesk/ticket_with_conversations.json", "freshdesk/tickets_list.json",
		"freshdesk/conversations.json", "freshdesk/article.json",
		"freshdesk/articles.json",
	};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		json_t *v = json_loads(yes[i], JSON_DECODE_ANY, NULL);
		CHECK(v && zendesk_detect(v));
		CHECK(v && !freshdesk_detect(v));
		json_decref(v);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		json_t *v = json_loads(no[i], JSON_DECODE_ANY, NULL);
		CHECK(v && !zendesk_detect(v));
		json_decref(v);
	}
	for (size_t i = 0; i < sizeof(fdfix) / sizeof(fdfix[0]); i++) {
		struct parse_input in;
		json_t *v = NULL;

		CHECK_INT(collect_load_fixture(fdfix[i], &in), 0);
		if (in.data)
			v = json_loadb(in.data, in.len, 0, NULL);
		CHECK(v != NULL);
		CHECK_INT(zendesk_detect(v), 0);
		CHECK(freshdesk_detect(v));
		json_decref(v);
		free((char *)in.data);
	}
}

static void test_hostile(void)
{
	struct collect c;
	int rc;

	collect_init(&c);
	CHECK_INT(parse_str(&c, "x.json", "\"str\""), -EINVAL);
	CHECK_STR(reject(&c, 0), "file: value is a string, expected a zendesk ticket, ticket "
		  "list, comment list or article");
	CHECK_INT(parse_str(&c, "x.json", "{\"foo\":1}"), -EINVAL);
	CHECK_STR(reject(&c, 1), "file: expected a zendesk ticket, ticket list, comment list "
		  "or article");
	CHECK_INT(parse_str(&c, "x.json", "{\"tickets\":{}}"), -EINVAL);
	CHECK_STR(reject(&c, 2), "file: 'tickets' is an object, expected an array");
	CHECK_INT(parse_str(&c, "x.json", "{\"ticket\":null}"), -EINVAL);
	CHECK_STR(reject(&c, 3), "file: 'ticket' is null, expected an object");
	CHECK_INT(parse_str(&c, "x.json", "{\"ticket\":{\"id\":\"12\"}}"), -EINVAL);
	CHECK_STR(reject(&c, 4), "file: ticket has no integer 'id'");
	CHECK_INT(parse_str(&c, "x.json", "[1,{\"id\":null}]"), 0);
	CHECK_STR(reject(&c, 5), "file record 1: record is an integer, expected an object");
	CHECK_STR(reject(&c, 6), "file record 2: ticket has no integer 'id'");
	CHECK_INT(parse_str(&c, "x.json", "{\"ticket\":{\"id\":1,\"tags\":\"a\"}}"), -EINVAL);
	CHECK_STR(reject(&c, 7), "file: 'tags' is a string, expected an array");
	CHECK_INT(parse_str(&c, "x.json", "{\"ticket\":{\"id\":1,\"requester_id\":1.5}}"),
		  -EINVAL);
	CHECK_STR(reject(&c, 8), "file: 'requester_id' is a real number, expected an integer");
	CHECK_INT(parse_str(&c, "x.json", "{\"ticket\":{\"id\":1,\"metric_set\":"
			    "{\"solved_at\":\"2024-13-45T99:00:00Z\"}}}"), -EINVAL);
	CHECK_STR(reject(&c, 9), "file: metric_set: 'solved_at' is not an RFC 3339 time");
	CHECK_INT(parse_str(&c, "x.json", "{\"article\":{\"title\":\"t\"}}"), -EINVAL);
	CHECK_STR(reject(&c, 10), "file: article has no integer 'id'");
	CHECK_INT(json_array_size(c.rejects), 11);
	CHECK_INT(json_array_size(c.tickets), 0);
	CHECK_INT(parse_str(&c, "x.json", "{\"tickets\":[]}"), 0);
	collect_clear(&c);

	/* odd but valid values */
	collect_init(&c);
	rc = parse_str(&c, "x.json",
		       "{\"ticket\":{\"id\":9223372036854775807,\"status\":\"Solved\","
		       "\"priority\":\"P1\",\"url\":\"https://user@Acme.ZenDesk.com:443/api/v2/tickets/1\","
		       "\"subject\":null,\"raw_subject\":\"raw\",\"description\":\"\","
		       "\"custom_fields\":[{\"id\":1,\"value\":{\"nested\":[1,2]}}]}}");
	CHECK_INT(rc, 1);
	CHECK_STR(S(ticket(&c, 0), "source_id"), "9223372036854775807");
	CHECK_STR(S(ticket(&c, 0), "instance"), "acme.zendesk.com");
	CHECK_STR(S(ticket(&c, 0), "status"), "solved");
	CHECK_STR(S(ticket(&c, 0), "status_raw"), "Solved");
	CHECK_STR(S(ticket(&c, 0), "priority"), "<null>");
	CHECK_STR(S(ticket(&c, 0), "priority_raw"), "P1");
	CHECK_STR(S(ticket(&c, 0), "subject"), "raw");
	CHECK_STR(S(ticket(&c, 0), "custom_fields"), "{\"1\":{\"nested\":[1,2]}}");
	CHECK_INT(json_array_size(json_object_get(ticket(&c, 0), "messages")), 0);
	rc = parse_str(&c, "x.json", "{\"ticket\":{\"id\":2,\"status\":\"escalated\"}}");
	CHECK_INT(rc, 1);
	CHECK_STR(S(ticket(&c, 1), "status"), "open");
	CHECK_STR(S(ticket(&c, 1), "status_raw"), "escalated");
	CHECK_STR(S(ticket(&c, 1), "instance"), "");
	collect_clear(&c);
}

static int fail_put(void *ctx, struct ticket *t)
{
	(void)ctx;
	(void)t;
	return -EIO;
}

static void noop_reject(void *ctx, const char *where, const char *why)
{
	(void)ctx;
	(void)where;
	(void)why;
}

static void test_sink_error(void)
{
	struct parse_sink s = { NULL, fail_put, NULL, noop_reject, NULL };
	struct parse_input in = { "9-comments.json", "", 0 };
	json_t *v = json_loads("{\"tickets\":[{\"id\":1},{\"id\":2}]}", 0, NULL);

	CHECK_INT(zendesk_parse_value(v, "file", &in, &s), -EIO);
	json_decref(v);
	v = json_loads("{\"comments\":[{\"id\":1,\"body\":\"b\"}]}", 0, NULL);
	CHECK_INT(zendesk_parse_value(v, "file", &in, &s), -EIO);
	json_decref(v);
}

int main(void)
{
	test_show_ticket();
	test_list_page();
	test_incremental();
	test_ndjson();
	test_comments_file();
	test_embedded_comments();
	test_articles();
	test_detect();
	test_hostile();
	test_sink_error();
	return check_done();
}
