/* test_parse_freshdesk.c - Freshdesk API v2 JSON: tickets, conversations,
 * solution articles, detection and rejects. */
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

/* Parses the whole string as one JSON value at "file". */
static int parse_str(struct collect *c, const char *name, const char *json)
{
	struct parse_input in = { name, json, strlen(json) };
	json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
	int rc;

	if (!v) {
		fprintf(stderr, "bad test JSON: %s\n", json);
		return -999;
	}
	rc = freshdesk_parse_value(v, "file", &in, &c->sink);
	json_decref(v);
	return rc;
}

static int parse_fixture(struct collect *c, const char *name, int *detect_fd, int *detect_zd)
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
	*detect_fd = freshdesk_detect(v);
	*detect_zd = zendesk_detect(v);
	rc = freshdesk_parse_value(v, "file", &in, &c->sink);
	json_decref(v);
	free((char *)in.data);
	return rc;
}

static void test_ticket_with_conversations(void)
{
	struct collect c;
	int fd, zd, rc;
	json_t *t, *m, *a, *cf;

	collect_init(&c);
	rc = parse_fixture(&c, "freshdesk/ticket_with_conversations.json", &fd, &zd);
	CHECK_INT(rc, 1);
	CHECK(fd);
	CHECK_INT(zd, 0);
	CHECK_INT(json_array_size(c.tickets), 1);
	CHECK_INT(json_array_size(c.rejects), 0);
	t = ticket(&c, 0);
	CHECK_STR(S(t, "source"), "freshdesk");
	CHECK_STR(S(t, "instance"), "");
	CHECK_STR(S(t, "source_id"), "20");
	CHECK_STR(S(t, "partial"), "false");
	CHECK_STR(S(t, "deleted"), "false");
	CHECK_STR(S(t, "subject"), "Support needed..");
	CHECK_STR(S(t, "body_text"), "Some details on the issue ...");
	CHECK_STR(S(t, "body_html"), "<div>Some details on the issue ...</div>");
	CHECK_STR(S(t, "status"), "solved");
	CHECK_STR(S(t, "status_raw"), "4");
	CHECK_STR(S(t, "priority"), "normal");
	CHECK_STR(S(t, "priority_raw"), "2");
	CHECK_STR(S(t, "type"), "Question");
	CHECK_STR(S(t, "requester"), "Emily Garcia <emily.garcia@example.com>");
	CHECK_STR(S(t, "assignee"), "agent:42");
	CHECK_STR(S(t, "group"), "group:7");
	CHECK_STR(S(t, "created"), "2015-08-18T16:23:45Z");
	CHECK_STR(S(t, "updated"), "2015-08-24T12:01:07Z");
	CHECK_STR(S(t, "resolved"), "2015-08-24T12:01:07Z");
	CHECK_STR(S(t, "tags"), "[\"billing\",\"vip\"]");

	cf = json_object_get(t, "custom_fields");
	CHECK_INT(json_object_size(cf), 7);
	CHECK_STR(S(cf, "cf_category"), "Billing");
	CHECK_STR(S(cf, "cf_order_number"), "88231");
	CHECK_STR(S(cf, "cf_unused"), "<missing>");
	CHECK_STR(S(cf, "source"), "2");
	CHECK_STR(S(cf, "channel"), "portal");
	CHECK_STR(S(cf, "company_id"), "3");
	CHECK_STR(S(cf, "due_by"), "2015-08-21T16:23:45Z");
	CHECK_STR(S(cf, "fr_due_by"), "2015-08-19T16:23:45Z");
	CHECK_STR(S(cf, "product_id"), "<missing>");
	CHECK_STR(S(cf, "email_config_id"), "<missing>");

	/* ticket attachments stay on the ticket, not on the description */
	CHECK_INT(json_array_size(json_object_get(t, "attachments")), 1);
	a = json_array_get(json_object_get(t, "attachments"), 0);
	CHECK_STR(S(a, "name"), "invoice.pdf");
	CHECK_STR(S(a, "content_type"), "application/pdf");
	CHECK_STR(S(a, "size"), "20391");
	CHECK_STR(S(a, "url"), "https://s3.amazonaws.com/cdn.freshdesk.com/data/helpdesk/"
		  "attachments/production/5000011100/original/invoice.pdf");

	CHECK_INT(json_array_size(json_object_get(t, "messages")), 4);
	m = msg(&c, 0, 0);
	CHECK_STR(S(m, "id"), "description");
	CHECK_STR(S(m, "role"), "customer");
	CHECK_STR(S(m, "author"), "Emily Garcia <emily.garcia@example.com>");
	CHECK_STR(S(m, "public"), "true");
	CHECK_STR(S(m, "text"), "Some details on the issue ...");
	CHECK_STR(S(m, "html"), "<div>Some details on the issue ...</div>");
	CHECK_STR(S(m, "time"), "2015-08-18T16:23:45Z");
	CHECK_STR(S(m, "attachments"), "[]");

	m = msg(&c, 0, 1);
	CHECK_STR(S(m, "id"), "3");
	CHECK_STR(S(m, "role"), "agent");
	CHECK_STR(S(m, "author"), "agent:42");
	CHECK_STR(S(m, "public"), "true");
	CHECK_STR(S(m, "text"), "We are looking into it. Could you send a screenshot?");
	CHECK_STR(S(m, "time"), "2015-08-20T09:13:18Z");

	m = msg(&c, 0, 2);
	CHECK_STR(S(m, "id"), "4");
	CHECK_STR(S(m, "role"), "agent");
	CHECK_STR(S(m, "public"), "false");
	CHECK_STR(S(m, "text"), "Please reply as soon as possible.");
	CHECK_STR(S(m, "html"), "<div>Please reply as soon as possible.</div>");

	m = msg(&c, 0, 3);
	CHECK_STR(S(m, "id"), "5");
	CHECK_STR(S(m, "role"), "customer");
	CHECK_STR(S(m, "author"), "Emily Garcia <emily.garcia@example.com>");
	CHECK_STR(S(m, "public"), "true");
	CHECK_STR(S(m, "time"), "2015-08-24T11:59:05Z");
	a = json_array_get(json_object_get(m, "attachments"), 0);
	CHECK_INT(json_array_size(json_object_get(m, "attachments")), 1);
	CHECK_STR(S(a, "name"), "screenshot.png");
	CHECK_STR(S(a, "content_type"), "image/png");
	CHECK_STR(S(a, "size"), "48213"); /* from "file_size" */
	CHECK_STR(S(a, "url"), "https://s3.amazonaws.com/cdn.freshdesk.com/data/helpdesk/"
		  "attachments/production/5000011101/original/screenshot.png");
	collect_clear(&c);
}

static void test_tickets_list(void)
{
	struct collect c;
	int fd, zd, rc;
	json_t *t;

	collect_init(&c);
	rc = parse_fixture(&c, "freshdesk/tickets_list.json", &fd, &zd);
	CHECK_INT(rc, 4);
	CHECK(fd);
	CHECK_INT(zd, 0);
	CHECK_INT(json_array_size(c.tickets), 4);
	CHECK_INT(json_array_size(c.rejects), 4);
	CHECK_STR(reject(&c, 0), "file record 3: ticket has no integer 'id'");
	CHECK_STR(reject(&c, 1), "file record 5: 'updated_at' is not an RFC 3339 time");
	CHECK_STR(reject(&c, 2), "file record 6: 'tags' element 2 is an integer, expected a string");
	CHECK_STR(reject(&c, 3), "file record 8: record is a string, expected an object");

	t = ticket(&c, 0);
	CHECK_STR(S(t, "source_id"), "21");
	CHECK_STR(S(t, "status"), "open");
	CHECK_STR(S(t, "status_raw"), "2");
	CHECK_STR(S(t, "priority"), "low");
	CHECK_STR(S(t, "priority_raw"), "1");
	CHECK_STR(S(t, "type"), "<null>");
	CHECK_STR(S(t, "requester"), "requester:1002");
	CHECK_STR(S(t, "assignee"), "<null>");
	CHECK_STR(S(t, "group"), "<null>");
	CHECK_STR(S(t, "body_text"), "I cannot log in since yesterday.");
	CHECK_STR(S(t, "resolved"), "<null>");
	CHECK_STR(S(t, "tags"), "[]");
	CHECK_STR(S(json_object_get(t, "custom_fields"), "channel"), "email");
	CHECK_STR(S(json_object_get(t, "custom_fields"), "due_by"), "2015-08-27T11:30:00Z");
	CHECK_STR(S(msg(&c, 0, 0), "author"), "requester:1002");

	t = ticket(&c, 1);
	CHECK_STR(S(t, "source_id"), "22");
	CHECK_STR(S(t, "status"), "pending");
	CHECK_STR(S(t, "priority"), "urgent");
	CHECK_STR(S(t, "priority_raw"), "4");
	CHECK_STR(S(t, "type"), "Incident");
	CHECK_STR(S(t, "assignee"), "agent:43");
	CHECK_STR(S(t, "group"), "group:9");
	/* no description_text: converted from the HTML description */
	CHECK_STR(S(t, "body_text"), "The whole site is down.");
	CHECK_STR(S(t, "body_html"), "<p>The whole site is down.</p>");
	CHECK_STR(S(msg(&c, 1, 0), "text"), "The whole site is down.");
	CHECK_STR(S(json_object_get(t, "custom_fields"), "cf_region"), "EU");
	CHECK_STR(S(json_object_get(t, "custom_fields"), "product_id"), "11");
	CHECK_STR(S(json_object_get(t, "custom_fields"), "email_config_id"), "5000042");
	CHECK_STR(S(json_object_get(t, "custom_fields"), "channel"), "phone");

	t = ticket(&c, 2);
	CHECK_STR(S(t, "source_id"), "24");
	CHECK_STR(S(t, "status"), "closed");
	CHECK_STR(S(t, "status_raw"), "5");
	CHECK_STR(S(t, "priority"), "high");
	CHECK_STR(S(t, "deleted"), "false");
	CHECK_INT(json_array_size(json_object_get(t, "messages")), 0);
	CHECK_STR(S(json_object_get(t, "custom_fields"), "channel"), "chat");

	t = ticket(&c, 3);
	CHECK_STR(S(t, "source_id"), "27");
	CHECK_STR(S(t, "deleted"), "true");
	CHECK_STR(S(t, "status"), "deleted");
	CHECK_STR(S(t, "status_raw"), "5");
	collect_clear(&c);

	/* custom statuses, unknown priority and offsets */
	collect_init(&c);
	rc = parse_str(&c, "x.json", "[{\"id\":26,\"subject\":\"s\",\"status\":6,\"priority\":9,"
		       "\"created_at\":\"2015-08-21T10:00:00+02:00\","
		       "\"updated_at\":\"2015-08-21T11:00:00.250+02:00\"}]");
	CHECK_INT(rc, 1);
	t = ticket(&c, 0);
	CHECK_STR(S(t, "status"), "open");
	CHECK_STR(S(t, "status_raw"), "6");
	CHECK_STR(S(t, "priority"), "<null>");
	CHECK_STR(S(t, "priority_raw"), "9");
	CHECK_STR(S(t, "created"), "2015-08-21T08:00:00Z");
	CHECK_STR(S(t, "updated"), "2015-08-21T09:00:00Z");
	collect_clear(&c);
}

static void test_conversations(void)
{
	struct collect c;
	int fd, zd, rc;
	json_t *t, *m;

	collect_init(&c);
	rc = parse_fixture(&c, "freshdesk/conversations.json", &fd, &zd);
	CHECK_INT(rc, 1);
	CHECK(fd);
	CHECK_INT(zd, 0);
	CHECK_INT(json_array_size(c.rejects), 0);
	t = ticket(&c, 0);
	CHECK_STR(S(t, "source"), "freshdesk");
	CHECK_STR(S(t, "instance"), "");
	CHECK_STR(S(t, "source_id"), "20");
	CHECK_STR(S(t, "partial"), "true");
	CHECK_INT(json_array_size(json_object_get(t, "messages")), 3);
	m = msg(&c, 0, 0);
	CHECK_STR(S(m, "id"), "3");
	CHECK_STR(S(m, "role"), "agent");
	CHECK_STR(S(m, "author"), "agent:1");
	CHECK_STR(S(m, "public"), "false");
	CHECK_STR(S(m, "time"), "2015-08-24T11:59:05Z");
	m = msg(&c, 0, 1);
	CHECK_STR(S(m, "id"), "4");
	CHECK_STR(S(m, "role"), "customer");
	CHECK_STR(S(m, "author"), "contact:1001");
	CHECK_STR(S(m, "public"), "true");
	CHECK_STR(S(m, "text"), "Hi, any news on this?");
	CHECK_STR(S(json_array_get(json_object_get(m, "attachments"), 0), "name"), "log.txt");
	CHECK_STR(S(json_array_get(json_object_get(m, "attachments"), 0), "size"), "812");
	m = msg(&c, 0, 2);
	CHECK_STR(S(m, "id"), "5");
	CHECK_STR(S(m, "role"), "agent");
	collect_clear(&c);

	/* several tickets in one array: grouped by ticket_id, in id order;
	 * a domain hint sets the instance; text from HTML when no body_text */
	collect_init(&c);
	rc = parse_str(&c, "convs.json",
		       "[{\"id\":1,\"ticket_id\":9,\"body\":\"<p>a</p>\",\"incoming\":true,"
		       "\"created_at\":\"2020-01-01T00:00:00Z\"},"
		       "{\"id\":2,\"ticket_id\":8,\"body_text\":\"b\",\"domain\":\"Acme\"},"
		       "{\"id\":3,\"ticket_id\":9,\"body_text\":\"c\",\"private\":true,"
		       "\"created_at\":\"2020-01-02T00:00:00Z\"},"
		       "{\"id\":4,\"ticket_id\":\"9\",\"body_text\":\"d\"},"
		       "{\"id\":\"5\",\"ticket_id\":9,\"body_text\":\"e\"},"
		       "{\"id\":6,\"ticket_id\":9,\"body_text\":\"f\",\"private\":\"no\"}]");
	CHECK_INT(rc, 2);
	CHECK_INT(json_array_size(c.tickets), 2);
	CHECK_STR(S(ticket(&c, 0), "source_id"), "8");
	CHECK_STR(S(ticket(&c, 0), "instance"), "acme.freshdesk.com");
	CHECK_STR(S(ticket(&c, 1), "source_id"), "9");
	CHECK_STR(S(ticket(&c, 1), "instance"), "");
	CHECK_INT(json_array_size(json_object_get(ticket(&c, 1), "messages")), 2);
	CHECK_STR(S(msg(&c, 1, 0), "text"), "a");
	CHECK_STR(S(msg(&c, 1, 0), "html"), "<p>a</p>");
	CHECK_STR(S(msg(&c, 1, 0), "role"), "customer");
	CHECK_STR(S(msg(&c, 1, 1), "text"), "c");
	CHECK_STR(S(msg(&c, 1, 1), "public"), "false");
	CHECK_INT(json_array_size(c.rejects), 3);
	CHECK_STR(reject(&c, 0), "file record 4: conversation has no integer 'ticket_id'");
	CHECK_STR(reject(&c, 1), "file record 5: conversation has no integer 'id'");
	CHECK_STR(reject(&c, 2), "file record 6: 'private' is a string, expected a boolean");
	collect_clear(&c);

	/* one conversation object on its own (an NDJSON line) */
	collect_init(&c);
	rc = parse_str(&c, "c.json", "{\"id\":7,\"ticket_id\":3,\"body_text\":\"x\","
		       "\"domain\":\"https://help.example.com/a\"}");
	CHECK_INT(rc, 1);
	CHECK_STR(S(ticket(&c, 0), "instance"), "help.example.com");
	CHECK_STR(S(ticket(&c, 0), "partial"), "true");
	collect_clear(&c);
}

static void test_embedded_bad_conversation(void)
{
	struct collect c;
	int rc;

	collect_init(&c);
	rc = parse_str(&c, "t.json",
		       "{\"id\":5,\"subject\":\"s\",\"requester_id\":10,\"status\":2,"
		       "\"description_text\":\"d\",\"created_at\":\"2020-01-01T00:00:00Z\","
		       "\"conversations\":[{\"id\":1,\"body_text\":\"ok\",\"user_id\":10,"
		       "\"created_at\":\"2020-01-02T00:00:00Z\"},7,"
		       "{\"id\":3,\"body_text\":\"bad\",\"created_at\":\"bad\"},"
		       "{\"id\":4,\"body_text\":\"att\",\"created_at\":\"2020-01-03T00:00:00Z\","
		       "\"attachments\":[{\"name\":\"a\",\"size\":\"12\"}]}]}");
	CHECK_INT(rc, 1);
	CHECK_INT(json_array_size(json_object_get(ticket(&c, 0), "messages")), 2);
	CHECK_STR(S(msg(&c, 0, 1), "id"), "1");
	/* user_id == requester_id: the customer, even without incoming */
	CHECK_STR(S(msg(&c, 0, 1), "role"), "customer");
	CHECK_STR(S(msg(&c, 0, 1), "author"), "requester:10");
	/* no description attachments: the ticket has none here */
	CHECK_STR(S(ticket(&c, 0), "attachments"), "[]");
	CHECK_INT(json_array_size(c.rejects), 3);
	CHECK_STR(reject(&c, 0), "file conversation 2: conversation is an integer, expected an object");
	CHECK_STR(reject(&c, 1), "file conversation 3: 'created_at' is not an RFC 3339 time");
	CHECK_STR(reject(&c, 2), "file conversation 4: attachment 1: 'size' is a string, "
		  "expected an integer");
	collect_clear(&c);
}

static void test_articles(void)
{
	struct collect c;
	int fd, zd, rc;
	json_t *a;

	collect_init(&c);
	rc = parse_fixture(&c, "freshdesk/article.json", &fd, &zd);
	CHECK_INT(rc, 1);
	CHECK(fd);
	CHECK_INT(zd, 0);
	CHECK_INT(json_array_size(c.tickets), 0);
	CHECK_INT(json_array_size(c.articles), 1);
	a = json_array_get(c.articles, 0);
	CHECK_STR(S(a, "source"), "freshdesk");
	CHECK_STR(S(a, "source_id"), "5000184394");
	CHECK_STR(S(a, "title"), "How to reset your password");
	CHECK_STR(S(a, "status"), "published");
	CHECK_STR(S(a, "body_html"), "<h2>Steps</h2><ol><li>Open the login page</li>"
		  "<li>Click <b>Forgot password</b></li></ol>");
	CHECK_STR(S(a, "body_text"), "## Steps\n\n1. Open the login page\n2. Click Forgot password");
	CHECK_STR(S(a, "tags"), "[\"password\",\"login\"]");
	CHECK_STR(S(a, "created"), "2017-03-06T09:22:24Z");
	CHECK_STR(S(a, "updated"), "2017-03-07T10:00:01Z");
	CHECK_STR(S(a, "url"), "<null>");
	CHECK_STR(S(a, "slug"), "how-to-reset-your-password");
	collect_clear(&c);

	collect_init(&c);
	rc = parse_fixture(&c, "freshdesk/articles.json", &fd, &zd);
	CHECK_INT(rc, 2);
	CHECK(fd);
	CHECK_INT(zd, 0);
	CHECK_INT(json_array_size(c.articles), 2);
	CHECK_STR(S(json_array_get(c.articles, 0), "status"), "draft");
	CHECK_STR(S(json_array_get(c.articles, 0), "body_text"), "Coming soon.");
	CHECK_STR(S(json_array_get(c.articles, 1), "status"), "published");
	CHECK_STR(S(json_array_get(c.articles, 1), "tags"), "[\"api\"]");
	CHECK_STR(S(json_array_get(c.articles, 1), "body_text"), "The limit is 100 calls a minute.");
	CHECK_INT(json_array_size(c.rejects), 1);
	CHECK_STR(reject(&c, 0), "file record 3: article has no integer 'id'");
	collect_clear(&c);
}

static void test_detect(void)
{
	static const char *const yes[] = {
		"{\"id\":1,\"description_text\":\"x\"}",
		"{\"id\":1,\"requester_id\":2,\"status\":2}",
		"[{\"id\":1,\"ticket_id\":2,\"body_text\":\"x\"}]",
		"{\"id\":1,\"folder_id\":2,\"description\":\"x\"}",
		"{\"id\":1,\"conversations\":[]}",
		"{\"total\":1,\"results\":[{\"id\":1,\"requester_id\":2,\"status\":5}]}",
	};
	static const char *const no[] = {
		"{\"id\":1,\"requester_id\":2,\"status\":\"open\"}",
		"{\"id\":1,\"requester_id\":2,\"status\":2,\"via\":{\"channel\":\"web\"}}",
		"{\"ticket\":{\"id\":1,\"description_text\":\"x\"}}",
		"{\"tickets\":[]}",
		"{\"comments\":[{\"id\":1,\"body\":\"x\"}]}",
		"{\"article\":{\"id\":1}}",
		"[]", "[1]", "{}", "42", "\"s\"", "null",
		"{\"id\":1,\"subject\":\"x\"}",
	};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		json_t *v = json_loads(yes[i], JSON_DECODE_ANY, NULL);
		CHECK(v && freshdesk_detect(v));
		json_decref(v);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		json_t *v = json_loads(no[i], JSON_DECODE_ANY, NULL);
		CHECK(v && !freshdesk_detect(v));
		json_decref(v);
	}
	/* Zendesk fixtures are not Freshdesk */
	static const char *const zd[] = {
		"zendesk/ticket.json", "zendesk/tickets_list.json", "zendesk/incremental.json",
		"zendesk/4821-comments.json", "zendesk/article.json", "zendesk/articles.json",
		"zendesk/ticket_with_comments.json",
	};
	for (size_t i = 0; i < sizeof(zd) / sizeof(zd[0]); i++) {
		struct parse_input in;
		json_t *v = NULL;

		CHECK_INT(collect_load_fixture(zd[i], &in), 0);
		if (in.data)
			v = json_loadb(in.data, in.len, 0, NULL);
		CHECK(v != NULL);
		CHECK_INT(freshdesk_detect(v), 0);
		CHECK(zendesk_detect(v));
		json_decref(v);
		free((char *)in.data);
	}
}

static void test_hostile(void)
{
	struct collect c;
	int rc;

	collect_init(&c);
	CHECK_INT(parse_str(&c, "x.json", "42"), -EINVAL);
	CHECK_STR(reject(&c, 0), "file: value is an integer, expected a freshdesk ticket, "
		  "conversation or article object or an array of them");
	CHECK_INT(parse_str(&c, "x.json", "{\"subject\":\"no id\"}"), -EINVAL);
	CHECK_STR(reject(&c, 1), "file: ticket has no integer 'id'");
	CHECK_INT(parse_str(&c, "x.json", "{\"id\":1.5,\"subject\":\"real id\"}"), -EINVAL);
	CHECK_STR(reject(&c, 2), "file: ticket has no integer 'id'");
	CHECK_INT(parse_str(&c, "x.json", "{\"id\":1,\"subject\":[\"x\"]}"), -EINVAL);
	CHECK_STR(reject(&c, 3), "file: 'subject' is an array, expected a string");
	CHECK_INT(parse_str(&c, "x.json", "{\"id\":1,\"status\":\"2\"}"), -EINVAL);
	CHECK_STR(reject(&c, 4), "file: 'status' is a string, expected an integer");
	CHECK_INT(parse_str(&c, "x.json", "{\"id\":1,\"stats\":{\"resolved_at\":\"x\"}}"), -EINVAL);
	CHECK_STR(reject(&c, 5), "file: stats: 'resolved_at' is not an RFC 3339 time");
	CHECK_INT(parse_str(&c, "x.json", "{\"id\":1,\"requester\":{\"name\":3}}"), -EINVAL);
	CHECK_STR(reject(&c, 6), "file: requester: 'name' is an integer, expected a string");
	CHECK_INT(parse_str(&c, "x.json", "{\"id\":1,\"attachments\":[null]}"), -EINVAL);
	CHECK_STR(reject(&c, 7), "file: attachment 1 is null, expected an object");
	CHECK_INT(parse_str(&c, "x.json", "{\"id\":1,\"custom_fields\":[]}"), -EINVAL);
	CHECK_STR(reject(&c, 8), "file: 'custom_fields' is an array, expected an object");
	CHECK_INT(parse_str(&c, "x.json", "{\"id\":1,\"conversations\":{}}"), -EINVAL);
	CHECK_STR(reject(&c, 9), "file: 'conversations' is an object, expected an array");
	CHECK_INT(parse_str(&c, "x.json", "{\"id\":\"x\",\"ticket_id\":null,\"body\":\"b\"}"),
		  -EINVAL);
	CHECK_STR(reject(&c, 10), "file: conversation has no integer 'ticket_id'");
	CHECK_INT(parse_str(&c, "x.json", "[]"), 0);
	CHECK_INT(json_array_size(c.rejects), 11);
	CHECK_INT(json_array_size(c.tickets), 0);
	collect_clear(&c);

	/* huge values, negative sizes, empty strings and unicode survive */
	collect_init(&c);
	rc = parse_str(&c, "x.json",
		       "{\"id\":9223372036854775807,\"subject\":\"\\u00e9t\\u00e9 \\ud83d\\ude00\","
		       "\"requester_id\":-1,\"created_at\":\"\",\"description\":\"\","
		       "\"attachments\":[{\"name\":\"n\",\"size\":-5}],"
		       "\"tags\":[\"\",\"t\",\"t\"]}");
	CHECK_INT(rc, 1);
	CHECK_STR(S(ticket(&c, 0), "source_id"), "9223372036854775807");
	CHECK_STR(S(ticket(&c, 0), "subject"), "\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80");
	CHECK_STR(S(ticket(&c, 0), "requester"), "requester:-1");
	CHECK_STR(S(ticket(&c, 0), "created"), "<null>");
	CHECK_STR(S(ticket(&c, 0), "tags"), "[\"t\"]");
	CHECK_INT(json_array_size(json_object_get(ticket(&c, 0), "messages")), 0);
	CHECK_STR(S(json_array_get(json_object_get(ticket(&c, 0), "attachments"), 0), "size"),
		  "<null>");
	collect_clear(&c);

	/* a long subject and a big array */
	collect_init(&c);
	{
		struct strbuf sb = STRBUF_INIT;

		strbuf_addch(&sb, '[');
		for (int i = 1; i <= 2000; i++)
			strbuf_addf(&sb, "%s{\"id\":%d,\"ticket_id\":%d,\"body_text\":\"m%d\"}",
				    i > 1 ? "," : "", i, i % 7, i);
		strbuf_addch(&sb, ']');
		rc = parse_str(&c, "big.json", sb.buf);
		CHECK_INT(rc, 7);
		CHECK_STR(S(ticket(&c, 0), "source_id"), "0");
		CHECK_INT(json_array_size(json_object_get(ticket(&c, 0), "messages")), 285);
		CHECK_INT(json_array_size(c.rejects), 0);
		strbuf_release(&sb);
	}
	collect_clear(&c);
}

/* A sink that records ticket->raw (not part of ticket_to_json). */
struct raw_sink {
	int n;
	char raw[4][512];
};

static int raw_put(void *ctx, struct ticket *t)
{
	struct raw_sink *r = ctx;

	if (r->n < 4)
		snprintf(r->raw[r->n++], sizeof(r->raw[0]), "%s", t->raw ? t->raw : "<null>");
	return 0;
}

static int fail_put(void *ctx, struct ticket *t)
{
	(void)ctx;
	(void)t;
	return -ENOSPC;
}

static void noop_reject(void *ctx, const char *where, const char *why)
{
	(void)ctx;
	(void)where;
	(void)why;
}

static void test_raw_and_sink_errors(void)
{
	struct raw_sink r = { 0 };
	struct parse_sink s = { &r, raw_put, NULL, noop_reject, NULL };
	struct parse_input in = { "x.json", "", 0 };
	json_t *v;

	v = json_loads("{\"id\":1}", 0, NULL);
	CHECK_INT(freshdesk_parse_value(v, "file", &in, &s), 1);
	CHECK_INT(freshdesk_parse_value(v, "line 3", &in, &s), 1);
	json_decref(v);
	v = json_loads("[{\"id\":2},{\"id\":3,\"ticket_id\":2,\"body_text\":\"x\"}]", 0, NULL);
	CHECK_INT(freshdesk_parse_value(v, "file", &in, &s), 2);
	json_decref(v);
	CHECK_INT(r.n, 4);
	CHECK_STR(r.raw[0], "<null>");
	CHECK_STR(r.raw[1], "{\n  \"id\": 1\n}");
	CHECK_STR(r.raw[2], "{\n  \"id\": 2\n}");
	CHECK_STR(r.raw[3], "[\n  {\n    \"id\": 3,\n    \"ticket_id\": 2,\n"
		  "    \"body_text\": \"x\"\n  }\n]");

	/* a failing sink aborts the parse with its error */
	s.put_ticket = fail_put;
	v = json_loads("[{\"id\":2},{\"id\":3}]", 0, NULL);
	CHECK_INT(freshdesk_parse_value(v, "file", &in, &s), -ENOSPC);
	json_decref(v);
}

int main(void)
{
	test_ticket_with_conversations();
	test_tickets_list();
	test_conversations();
	test_embedded_bad_conversation();
	test_articles();
	test_detect();
	test_hostile();
	test_raw_and_sink_errors();
	return check_done();
}
