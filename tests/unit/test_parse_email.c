/* test_parse_email.c - email_detect() and email_parse() on the fixtures in
 * tests/fixtures/email/ and on hostile in-memory input. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "check.h"
#include "collect.h"
#include "parse.h"
#include "strbuf.h"

static json_t *tk(struct collect *c, size_t i)
{
	return json_array_get(c->tickets, i);
}

static json_t *msg(struct collect *c, size_t i)
{
	return json_array_get(json_object_get(tk(c, i), "messages"), 0);
}

/* A message field as a string, "(null)" for JSON null, "(absent)". */
static const char *mf(struct collect *c, size_t i, const char *key)
{
	json_t *v = json_object_get(msg(c, i), key);

	if (!v)
		return "(absent)";
	if (json_is_null(v))
		return "(null)";
	return json_string_value(v) ? json_string_value(v) : "(not a string)";
}

/* A ticket field the same way. */
static const char *tf(struct collect *c, size_t i, const char *key)
{
	json_t *v = json_object_get(tk(c, i), key);

	if (!v)
		return "(absent)";
	if (json_is_null(v))
		return "(null)";
	return json_string_value(v) ? json_string_value(v) : "(not a string)";
}

static json_t *att(struct collect *c, size_t i, size_t k)
{
	return json_array_get(json_object_get(msg(c, i), "attachments"), k);
}

static const char *reject(struct collect *c, size_t i)
{
	const char *s = json_string_value(json_array_get(c->rejects, i));

	return s ? s : "(none)";
}

static int parse_fixture(const char *name, struct collect *c)
{
	struct parse_input in;
	char path[256];
	int rc;

	snprintf(path, sizeof(path), "email/%s", name);
	rc = collect_load_fixture(path, &in);
	if (rc) {
		fprintf(stderr, "cannot load fixture '%s': %s\n", path, strerror(-rc));
		return rc;
	}
	rc = email_parse(&in, &c->sink);
	free((char *)in.data);
	return rc;
}

static int parse_mem(const char *data, size_t len, struct collect *c)
{
	struct parse_input in = { "mem.eml", data, len };

	return email_parse(&in, &c->sink);
}

static int parse_str(const char *data, struct collect *c)
{
	return parse_mem(data, strlen(data), c);
}

static int detect_str(const char *data)
{
	struct parse_input in = { "x", data, strlen(data) };

	return email_detect(&in);
}

static int detect_fixture(const char *name)
{
	struct parse_input in;
	char path[256];
	int rc;

	snprintf(path, sizeof(path), "email/%s", name);
	if (collect_load_fixture(path, &in))
		return -1;
	rc = email_detect(&in);
	free((char *)in.data);
	return rc;
}

static void test_detect(void)
{
	CHECK_INT(detect_fixture("plain.eml"), 1);
	CHECK_INT(detect_fixture("qp-cp1252.eml"), 1);
	CHECK_INT(detect_fixture("crlf.eml"), 1);
	CHECK_INT(detect_fixture("thread.mbox"), 2);
	CHECK_INT(detect_fixture("crlf.mbox"), 2);
	CHECK_INT(detect_fixture("malformed.mbox"), 2);
	CHECK_INT(detect_str("From: a@b\nSubject: x\n\nbody"), 1);
	CHECK_INT(detect_str("\xef\xbb\xbf" "from: a@b\nmessage-id: <x@y>\n"), 1);
	CHECK_INT(detect_str("Received: from x\n\tby y\nFrom: a@b\nTo: c@d\n\nhi"), 1);
	CHECK_INT(detect_str("From: a@b\n\nSubject: after the blank line\n"), 0);
	CHECK_INT(detect_str("From: a@b\nX-Other: 1\n\nbody"), 0);
	CHECK_INT(detect_str("Subject: no sender\nDate: Tue, 5 Mar 2024 10:20:30 +0100\n\n"), 0);
	CHECK_INT(detect_str(" From: a@b\nSubject: x\n"), 0);
	CHECK_INT(detect_str("From my point of view, this is fine.\nRegards\n"), 0);
	CHECK_INT(detect_str("From nobody Tue Mar  5 10:20:30 2024\nno headers\n"), 2);
	CHECK_INT(detect_str("{\"tickets\": []}"), 0);
	CHECK_INT(detect_str("id,subject,from\n1,x,y\n"), 0);
	CHECK_INT(detect_str(""), 0);
	CHECK_INT(detect_str("From"), 0);
}

static void test_plain(void)
{
	struct collect c;

	collect_init(&c);
	CHECK_INT(parse_fixture("plain.eml", &c), 1);
	CHECK_INT(json_array_size(c.tickets), 1);
	CHECK_INT(json_array_size(c.rejects), 0);
	CHECK_STR(tf(&c, 0, "source"), "email");
	CHECK_STR(tf(&c, 0, "instance"), "");
	CHECK_STR(tf(&c, 0, "source_id"), "eml-da8206fda3a0");
	CHECK(json_is_false(json_object_get(tk(&c, 0), "partial")));
	CHECK_STR(tf(&c, 0, "subject"), "Printer on floor 3 is jammed");
	CHECK_STR(tf(&c, 0, "requester"), "alice@example.com");
	CHECK_STR(tf(&c, 0, "status"), "open");
	CHECK_STR(tf(&c, 0, "created"), "2024-03-05T09:20:30Z");
	CHECK_STR(tf(&c, 0, "body_text"), "Hello,\n\nthe printer on floor 3 shows \"paper jam\" again.\n"
					"Can someone take a look?\n\nThanks,\nAlice");
	CHECK_STR(tf(&c, 0, "body_html"), "(null)");
	CHECK_INT(json_array_size(json_object_get(tk(&c, 0), "tags")), 0);
	CHECK_INT(json_array_size(json_object_get(tk(&c, 0), "messages")), 1);
	CHECK_STR(mf(&c, 0, "id"), "20240305102030.4711@example.com");
	CHECK_STR(mf(&c, 0, "role"), "customer");
	CHECK_STR(mf(&c, 0, "author"), "Alice Example <alice@example.com>");
	CHECK(json_is_true(json_object_get(msg(&c, 0), "public")));
	CHECK_STR(mf(&c, 0, "time"), "2024-03-05T09:20:30Z");
	CHECK_STR(mf(&c, 0, "text"), "Hello,\n\nthe printer on floor 3 shows \"paper jam\" again.\n"
				     "Can someone take a look?\n\nThanks,\nAlice");
	CHECK_STR(mf(&c, 0, "html"), "(null)");
	CHECK_INT(json_array_size(json_object_get(msg(&c, 0), "attachments")), 0);
	collect_clear(&c);
}

static void test_qp_cp1252(void)
{
	struct collect c;

	collect_init(&c);
	CHECK_INT(parse_fixture("qp-cp1252.eml", &c), 1);
	CHECK_STR(tf(&c, 0, "subject"), "Rechnung für März");
	CHECK_STR(mf(&c, 0, "author"), "Jürgen Müller <juergen.mueller@example.de>");
	CHECK_STR(tf(&c, 0, "requester"), "juergen.mueller@example.de");
	CHECK_STR(mf(&c, 0, "time"), "2024-03-04T08:00:00Z");
	CHECK_STR(mf(&c, 0, "text"),
		  "Guten Tag,\n\ndie Rechnung für März über 120 € ist noch offen. "
		  "Bitte prüfen Sie den Betrag – danke.    \nGrüße\nJürgen");
	collect_clear(&c);
}

static void test_base64_utf8(void)
{
	struct collect c;

	collect_init(&c);
	CHECK_INT(parse_fixture("base64-utf8.eml", &c), 1);
	CHECK_STR(tf(&c, 0, "subject"), "Заказ №42");
	CHECK_STR(mf(&c, 0, "author"), "Ivan Petrov <ivan@example.ru>");
	CHECK_STR(mf(&c, 0, "time"), "2024-03-06T20:59:59Z");
	CHECK_STR(mf(&c, 0, "text"), "Привет! Заказ №42 не пришёл.\nСпасибо 🙂");
	collect_clear(&c);
}

static void test_rfc2047(void)
{
	struct collect c;

	collect_init(&c);
	CHECK_INT(parse_fixture("rfc2047.eml", &c), 1);
	/* B and Q words, a UTF-8 character split across two words, a second
	 * charset, folding between words, "Re:" stripped */
	CHECK_STR(tf(&c, 0, "subject"), "Grüße aus München und café");
	CHECK_STR(mf(&c, 0, "author"), "Zoë Ångström <zoe@example.se>");
	CHECK_STR(tf(&c, 0, "requester"), "zoe@example.se");
	/* a reply to a root never seen: keyed by the root id */
	CHECK_STR(tf(&c, 0, "source_id"), "eml-d6091fe735c4");
	CHECK(json_is_false(json_object_get(tk(&c, 0), "partial")));
	CHECK_STR(mf(&c, 0, "text"), "Hej!");
	collect_clear(&c);

	/* malformed and edge-case encoded words */
	collect_init(&c);
	CHECK_INT(parse_str("From: a@example.com\n"
			    "Subject: =?utf-8?X?abc?= and =?utf-8?Q?open and =?bogus?Q?x=41?=\n"
			    "\nx\n", &c), 1);
	CHECK_STR(tf(&c, 0, "subject"), "=?utf-8?X?abc?= and =?utf-8?Q?open and xA");
	collect_clear(&c);

	collect_init(&c);
	CHECK_INT(parse_str("From: =?utf-8?b?w6k=?= =?utf-8?b?w6k=?= <e@example.com>\n"
			    "Subject: =?utf-8?q?a?= b =?utf-8?q?c?=   =?iso-8859-2?q?_=B1?=\n"
			    "\nx\n", &c), 1);
	CHECK_STR(mf(&c, 0, "author"), "éé <e@example.com>");
	CHECK_STR(tf(&c, 0, "subject"), "a b c ą");
	collect_clear(&c);

	/* raw 8-bit header bytes: UTF-8 kept, otherwise windows-1252 */
	collect_init(&c);
	CHECK_INT(parse_str("From: \"M\xfcller, Hans\" <hans@example.de>\n"
			    "Subject: Caf\xc3\xa9 \xe2\x98\x95\n\nx\n", &c), 1);
	CHECK_STR(mf(&c, 0, "author"), "Müller, Hans <hans@example.de>");
	CHECK_STR(tf(&c, 0, "subject"), "Café ☕");
	collect_clear(&c);
}

static void test_alternative(void)
{
	struct collect c;

	collect_init(&c);
	CHECK_INT(parse_fixture("alternative.eml", &c), 1);
	CHECK_STR(tf(&c, 0, "subject"), "Login fails after password reset");
	CHECK_STR(mf(&c, 0, "author"), "Bob Builder <bob@example.org>");
	CHECK_STR(mf(&c, 0, "time"), "2024-03-08T14:15:00Z");
	CHECK_STR(mf(&c, 0, "text"), "Since the reset I get \u201cinvalid credentials\u201d.\n"
				     "Steps:\n1. open https://portal.acme.test\n2. log in");
	CHECK_STR(mf(&c, 0, "html"), "(null)");
	CHECK_STR(tf(&c, 0, "body_html"), "(null)");
	CHECK_INT(json_array_size(json_object_get(msg(&c, 0), "attachments")), 0);
	collect_clear(&c);

	/* html listed first still loses to plain text; an empty plain part
	 * loses to html */
	collect_init(&c);
	CHECK_INT(parse_str("From: a@example.com\nSubject: s\n"
			    "Content-Type: multipart/alternative; boundary=zz\n\n"
			    "--zz\nContent-Type: text/html\n\n<p>html</p>\n"
			    "--zz\nContent-Type: text/plain\n\nplain\n--zz--\n", &c), 1);
	CHECK_STR(mf(&c, 0, "text"), "plain");
	CHECK_INT(parse_str("From: a@example.com\nSubject: s\n"
			    "Content-Type: multipart/alternative; boundary=zz\n\n"
			    "--zz\nContent-Type: text/plain\n\n  \n"
			    "--zz\nContent-Type: text/html\n\n<p>only html</p>\n--zz--\n", &c), 1);
	CHECK_STR(mf(&c, 1, "text"), "only html");
	CHECK_STR(mf(&c, 1, "html"), "<p>only html</p>");
	collect_clear(&c);
}

static void test_html_only(void)
{
	struct collect c;

	collect_init(&c);
	CHECK_INT(parse_fixture("html-only.eml", &c), 1);
	CHECK_STR(mf(&c, 0, "author"), "newsletter@shop.example");
	CHECK_STR(tf(&c, 0, "requester"), "newsletter@shop.example");
	CHECK_STR(mf(&c, 0, "text"), "Hallo Welt\n\nCafé & more");
	CHECK_STR(mf(&c, 0, "html"),
		  "<html><head><style>p { color: red; }</style></head><body>\n"
		  "<p>Hallo <b>Welt</b></p>\n<p>Café &amp; more</p>\n</body></html>");
	CHECK_STR(tf(&c, 0, "body_text"), "Hallo Welt\n\nCafé & more");
	CHECK_STR(tf(&c, 0, "body_html"), mf(&c, 0, "html"));
	collect_clear(&c);
}

static void check_att(struct collect *c, size_t i, size_t k, const char *name,
		      const char *type, long long size)
{
	json_t *a = att(c, i, k);

	CHECK_STR(json_string_value(json_object_get(a, "name")), name);
	CHECK_STR(json_string_value(json_object_get(a, "content_type")), type);
	CHECK_INT(json_integer_value(json_object_get(a, "size")), size);
	CHECK(json_is_null(json_object_get(a, "url")));
}

static void test_attachments(void)
{
	struct collect c;

	collect_init(&c);
	CHECK_INT(parse_fixture("attachments.eml", &c), 1);
	CHECK_STR(tf(&c, 0, "subject"), "Reports for Q1");
	CHECK_STR(tf(&c, 0, "source_id"), "eml-1691434692b6");
	CHECK_STR(mf(&c, 0, "time"), "2024-03-10T17:30:00Z");
	CHECK_STR(mf(&c, 0, "text"), "Please find the reports attached.\n\n-- \nCarol, Finance");
	CHECK_STR(mf(&c, 0, "html"), "(null)");
	CHECK_INT(json_array_size(json_object_get(msg(&c, 0), "attachments")), 5);
	check_att(&c, 0, 0, "report.pdf", "application/pdf", 272);
	check_att(&c, 0, 1, "büro.png", "image/png", 48);
	check_att(&c, 0, 2, "Kostenübersicht 2024.csv", "text/csv", 24);
	check_att(&c, 0, 3, "very-long-file.bin", "application/octet-stream", 20);
	check_att(&c, 0, 4, "attachment-5.eml", "message/rfc822", 52);
	CHECK_INT(json_array_size(json_object_get(tk(&c, 0), "attachments")), 0);
	collect_clear(&c);

	/* unnamed attachment, path in a name, RFC 2231 with a charset */
	collect_init(&c);
	CHECK_INT(parse_str("From: a@example.com\nSubject: s\n"
			    "Content-Type: multipart/mixed; boundary=\"q\"\n\n"
			    "--q\n\nbody text\n"
			    "--q\nContent-Disposition: attachment\n"
			    "Content-Type: application/octet-stream\n\n12345\n"
			    "--q\nContent-Type: text/plain; name=\"C:\\\\temp\\\\..\\\\evil.txt\"\n\nab\n"
			    "--q\nContent-Disposition: attachment; filename*=iso-8859-1'de'%E4pfel.txt;"
			    " filename=\"plain.txt\"\n\nabc\n"
			    "--q\nContent-Disposition: attachment; filename=\"../../etc/passwd\"\n\nx\n"
			    "--q--\n", &c), 1);
	CHECK_STR(mf(&c, 0, "text"), "body text");
	CHECK_INT(json_array_size(json_object_get(msg(&c, 0), "attachments")), 4);
	check_att(&c, 0, 0, "attachment-1", "application/octet-stream", 5);
	check_att(&c, 0, 1, "evil.txt", "text/plain", 2);
	check_att(&c, 0, 2, "äpfel.txt", "text/plain", 3);
	check_att(&c, 0, 3, "passwd", "text/plain", 1);
	collect_clear(&c);
}

static void test_thread_mbox(void)
{
	struct collect c;

	collect_init(&c);
	CHECK_INT(parse_fixture("thread.mbox", &c), 3);
	CHECK_INT(json_array_size(c.tickets), 3);
	CHECK_INT(json_array_size(c.rejects), 0);

	CHECK_STR(tf(&c, 0, "source_id"), "eml-990608603340");
	CHECK(json_is_false(json_object_get(tk(&c, 0), "partial")));
	CHECK_STR(tf(&c, 0, "subject"), "VPN keeps disconnecting");
	CHECK_STR(tf(&c, 0, "requester"), "alice@example.com");
	CHECK_STR(tf(&c, 0, "created"), "2024-03-11T09:00:00Z");
	CHECK_STR(tf(&c, 0, "body_text"), "My VPN drops every 10 minutes.");
	CHECK_STR(mf(&c, 0, "id"), "root-1@example.com");

	CHECK_STR(tf(&c, 1, "source_id"), "eml-990608603340");
	CHECK(json_is_true(json_object_get(tk(&c, 1), "partial")));
	CHECK_STR(tf(&c, 1, "status"), "(null)");
	CHECK_STR(tf(&c, 1, "requester"), "(null)");
	CHECK_STR(tf(&c, 1, "created"), "(null)");
	CHECK_INT(json_array_size(json_object_get(tk(&c, 1), "messages")), 1);
	CHECK_STR(mf(&c, 1, "id"), "reply-2@acme.test");
	CHECK_STR(mf(&c, 1, "role"), "agent");
	CHECK_STR(mf(&c, 1, "author"), "Bob (Support) <bob@acme.test>");
	CHECK_STR(mf(&c, 1, "time"), "2024-03-11T09:30:00Z");
	CHECK_STR(mf(&c, 1, "text"),
		  "Which client version do you use?\n\n> My VPN drops every 10 minutes.");

	CHECK_STR(tf(&c, 2, "source_id"), "eml-990608603340");
	CHECK(json_is_true(json_object_get(tk(&c, 2), "partial")));
	CHECK_STR(mf(&c, 2, "id"), "reply-3@example.com");
	CHECK_STR(mf(&c, 2, "role"), "customer");
	CHECK_STR(mf(&c, 2, "author"), "Alice Example <alice@example.com>");
	CHECK_STR(mf(&c, 2, "text"), "Version 5.2.1.");
	collect_clear(&c);

	/* without thread_find every message opens (or re-opens) its thread */
	collect_init(&c);
	c.sink.thread_find = NULL;
	CHECK_INT(parse_fixture("thread.mbox", &c), 3);
	CHECK_STR(tf(&c, 1, "source_id"), "eml-990608603340");
	CHECK_STR(tf(&c, 2, "source_id"), "eml-990608603340");
	/* the second and third share the first's root within this file */
	CHECK(json_is_true(json_object_get(tk(&c, 1), "partial")));
	CHECK(json_is_true(json_object_get(tk(&c, 2), "partial")));
	collect_clear(&c);
}

static void test_escaped_mbox(void)
{
	struct collect c;

	collect_init(&c);
	CHECK_INT(parse_fixture("escaped.mbox", &c), 2);
	CHECK_STR(mf(&c, 0, "text"), "Hi,\n\nFrom the desk of Carol:\n>From here on it is quoted.\n"
				     "> From is not escaped here.\nBye");
	CHECK_STR(mf(&c, 0, "author"), "carol@example.com");
	CHECK_STR(tf(&c, 1, "source_id"), "eml-5d1e65dc1f40");
	CHECK(json_is_false(json_object_get(tk(&c, 1), "partial")));
	CHECK_STR(mf(&c, 1, "time"), "2024-03-12T09:00:00Z");
	CHECK_STR(mf(&c, 1, "text"), "No Date header here; the envelope date is used.");
	collect_clear(&c);
}

static void test_orphan_reply(void)
{
	struct collect c;

	collect_init(&c);
	CHECK_INT(parse_fixture("orphan-reply.eml", &c), 1);
	CHECK_STR(tf(&c, 0, "source_id"), "eml-880a9df6d460");
	CHECK(json_is_false(json_object_get(tk(&c, 0), "partial")));
	CHECK_STR(tf(&c, 0, "subject"), "Lieferung 4711");
	CHECK_STR(tf(&c, 0, "requester"), "erik@example.no");
	CHECK_STR(mf(&c, 0, "author"), "Erik <erik@example.no>");
	CHECK_STR(mf(&c, 0, "time"), "2024-03-13T06:45:00Z");
	/* a later reply to it (another file) joins the same ticket */
	CHECK_INT(parse_str("From: support@acme.test\nSubject: Re: Lieferung 4711\n"
			    "Message-ID: <ans-4@acme.test>\nIn-Reply-To: <orphan-3@example.no>\n"
			    "Date: Wed, 13 Mar 2024 08:00:00 +0100\nX-Deskfs-Role: agent\n\n"
			    "Shipped today.\n", &c), 1);
	CHECK_STR(tf(&c, 1, "source_id"), "eml-880a9df6d460");
	CHECK(json_is_true(json_object_get(tk(&c, 1), "partial")));
	CHECK_STR(mf(&c, 1, "role"), "agent");
	CHECK_STR(mf(&c, 1, "text"), "Shipped today.");
	collect_clear(&c);

	/* two replies to one unseen root that do not cite each other, in one
	 * mbox: the second joins the first's ticket */
	collect_init(&c);
	CHECK_INT(parse_str("From x Wed Mar 13 09:00:00 2024\n"
			    "From: a@example.com\nMessage-ID: <r1@x>\nReferences: <gone@x>\n\none\n\n"
			    "From x Wed Mar 13 09:01:00 2024\n"
			    "From: b@example.com\nMessage-ID: <r2@x>\nReferences: <gone@x>\n\ntwo\n",
			    &c), 2);
	CHECK_STR(tf(&c, 0, "source_id"), tf(&c, 1, "source_id"));
	CHECK(json_is_false(json_object_get(tk(&c, 0), "partial")));
	CHECK(json_is_true(json_object_get(tk(&c, 1), "partial")));
	CHECK_STR(mf(&c, 1, "time"), "2024-03-13T09:01:00Z");
	collect_clear(&c);
}

static void test_malformed_mbox(void)
{
	struct collect c;

	collect_init(&c);
	CHECK_INT(parse_fixture("malformed.mbox", &c), 2);
	CHECK_INT(json_array_size(c.tickets), 2);
	CHECK_INT(json_array_size(c.rejects), 3);
	CHECK_STR(reject(&c, 0), "message 2: no header fields found");
	CHECK_STR(reject(&c, 1), "message 3: no From header field");
	CHECK_STR(reject(&c, 2), "message 4: empty From header field");
	CHECK_STR(tf(&c, 0, "subject"), "First good");
	CHECK_STR(tf(&c, 1, "subject"), "Second good");
	CHECK_STR(mf(&c, 1, "id"), "good-5@example.com");
	CHECK_STR(mf(&c, 1, "time"), "2024-03-14T10:04:00Z");
	CHECK_STR(mf(&c, 1, "text"), "also fine");
	collect_clear(&c);
}

static void test_crlf(void)
{
	struct collect c;

	collect_init(&c);
	CHECK_INT(parse_fixture("crlf.eml", &c), 1);
	CHECK_STR(tf(&c, 0, "subject"), "CRLF message");
	CHECK_STR(mf(&c, 0, "id"), "crlf-1@example.com");
	CHECK_STR(mf(&c, 0, "author"), "Frank <frank@example.com>");
	CHECK_STR(mf(&c, 0, "time"), "2024-03-15T16:00:00Z");
	CHECK_STR(mf(&c, 0, "text"), "Line one is soft wrapped.\nLine two.");
	CHECK_INT(json_array_size(json_object_get(msg(&c, 0), "attachments")), 1);
	check_att(&c, 0, 0, "logs.zip", "application/zip", 10);
	collect_clear(&c);

	collect_init(&c);
	CHECK_INT(parse_fixture("crlf.mbox", &c), 2);
	CHECK_STR(tf(&c, 0, "source_id"), "eml-25a6fd8f0983");
	CHECK_STR(tf(&c, 0, "subject"), "Disk full");
	CHECK_STR(mf(&c, 0, "text"), "The disk is full.");
	CHECK_STR(tf(&c, 1, "source_id"), "eml-25a6fd8f0983");
	CHECK(json_is_true(json_object_get(tk(&c, 1), "partial")));
	CHECK_STR(mf(&c, 1, "role"), "agent");
	CHECK_STR(mf(&c, 1, "text"), "From now on, please clean up.");
	collect_clear(&c);
}

/* The time of a one-message parse with the given Date value. */
static char *date_of(const char *date)
{
	struct strbuf sb = STRBUF_INIT;
	struct collect c;
	char *r;

	strbuf_addf(&sb, "From: a@example.com\nSubject: d\nDate: %s\n\nx\n", date);
	collect_init(&c);
	if (parse_str(sb.buf, &c) != 1)
		r = strdup("(parse failed)");
	else
		r = strdup(mf(&c, 0, "time"));
	collect_clear(&c);
	strbuf_release(&sb);
	return r;
}

static void check_date(const char *in, const char *want)
{
	char *got = date_of(in);

	CHECK_STR(got, want);
	free(got);
}

static void test_dates(void)
{
	check_date("Tue, 5 Mar 2024 10:20:30 +0100", "2024-03-05T09:20:30Z");
	check_date("Tue, 05 Mar 2024 10:20:30 GMT", "2024-03-05T10:20:30Z");
	check_date("5 Mar 2024 10:20 -0000", "2024-03-05T10:20:00Z");
	check_date("Tue, 5 Mar 24 10:20:30 EST", "2024-03-05T15:20:30Z");
	check_date("Fri, 31 Dec 99 23:59:59 PDT", "2000-01-01T06:59:59Z");
	check_date("Thu, 1 Jan 104 00:00:00 UT", "2004-01-01T00:00:00Z");
	check_date("Tue,  5 Mar 2024 10:20:30 +0530 (IST)", "2024-03-05T04:50:30Z");
	check_date("Tue (comment), 5 (x) Mar 2024 10:20:30 (y) -0800", "2024-03-05T18:20:30Z");
	check_date("Tuesday, 5 March 2024 10:20:30 +0000", "2024-03-05T10:20:30Z");
	check_date("Thu, 29 Feb 2024 23:00:00 -0100", "2024-03-01T00:00:00Z");
	check_date("Tue Mar  5 10:20:30 2024", "2024-03-05T10:20:30Z");
	check_date("2024-03-05T10:20:30Z", "2024-03-05T10:20:30Z");
	check_date("Tue, 5 Mar 2024 10:20:30 Z", "2024-03-05T10:20:30Z");
	check_date("garbage", "(null)");
	check_date("Tue, 32 Mar 2024 10:20:30 +0000", "(null)");
	check_date("Tue, 5 Mar 2024 25:20:30 +0000", "(null)");
	check_date("Tue, 5 Foo 2024 10:20:30 +0000", "(null)");
	check_date("", "(null)");
}

static void test_ids_and_roles(void)
{
	const char *raw = "From: Nobody <n@example.com>\nSubject: no id\nX-Deskfs-Role: system\n\nbody";
	char want_id[64], want_sid[32], hex[17];
	struct collect c;

	snprintf(hex, sizeof(hex), "%016llx",
		 (unsigned long long)XXH3_64bits(raw, strlen(raw)));
	snprintf(want_id, sizeof(want_id), "deskfs-%s", hex);
	snprintf(hex, sizeof(hex), "%016llx",
		 (unsigned long long)XXH3_64bits(want_id, strlen(want_id)));
	snprintf(want_sid, sizeof(want_sid), "eml-%.12s", hex);

	collect_init(&c);
	/* trailing line breaks are not part of the hashed message */
	CHECK_INT(parse_str("From: Nobody <n@example.com>\nSubject: no id\n"
			    "X-Deskfs-Role: system\n\nbody\n\n\n", &c), 1);
	CHECK_STR(mf(&c, 0, "id"), want_id);
	CHECK_INT(strlen(mf(&c, 0, "id")), 23);
	CHECK_STR(tf(&c, 0, "source_id"), want_sid);
	CHECK_STR(mf(&c, 0, "role"), "system");
	CHECK_STR(mf(&c, 0, "time"), "(null)");
	CHECK_STR(tf(&c, 0, "created"), "(null)");

	/* odd Message-ID forms and address forms */
	CHECK_INT(parse_str("FROM: joe@example.com (Joe Bloggs)\nmessage-id:  bare-id@x  \n"
			    "SUBJECT: re: RE:Re[3]: Fw:  sv:aw: hello\n\n", &c), 1);
	CHECK_STR(mf(&c, 1, "id"), "bare-id@x");
	CHECK_STR(mf(&c, 1, "author"), "Joe Bloggs <joe@example.com>");
	CHECK_STR(tf(&c, 1, "subject"), "hello");
	CHECK_STR(mf(&c, 1, "text"), "");
	CHECK_INT(parse_str("From: Support Team\nSubject: x\nMessage-ID: <>\nTo: y\n\nz", &c), 1);
	CHECK_STR(mf(&c, 2, "author"), "Support Team");
	CHECK_STR(tf(&c, 2, "requester"), "Support Team");
	CHECK(!strncmp(mf(&c, 2, "id"), "deskfs-", 7));
	CHECK_INT(parse_str("From: a@x.example, \"Doe, Jane\" <jane@x.example>\nSubject: two\n\n.", &c), 1);
	CHECK_STR(mf(&c, 3, "author"), "a@x.example");
	CHECK_INT(parse_str("From: \"Doe, \\\"JJ\\\" Jane\" <jane@x.example>\nSubject: q\n\n.", &c), 1);
	CHECK_STR(mf(&c, 4, "author"), "Doe, \"JJ\" Jane <jane@x.example>");
	CHECK_INT(parse_str("From: <only@x.example>\nSubject: q\n\n.", &c), 1);
	CHECK_STR(mf(&c, 5, "author"), "only@x.example");
	CHECK_INT(json_array_size(c.rejects), 0);
	collect_clear(&c);
}

static int failing_put(void *ctx, struct ticket *t)
{
	(void)ctx;
	(void)t;
	return -EIO;
}

static void test_hostile(void)
{
	static const char junk[] = "\x00\x01\x02\xff\xfe\x00 binary \x7f\x80 junk\n\x00\x00";
	static const char unknown_cs[] = "From: a@example.com\nSubject: u\n"
					 "Content-Type: text/plain; charset=x-unknown-42\n\n"
					 "\xc3\xa9t\xe9\x00!\n";
	struct strbuf sb = STRBUF_INIT;
	struct collect c;

	collect_init(&c);
	CHECK_INT(parse_mem("", 0, &c), -EINVAL);
	CHECK_INT(parse_str("\n\r\n  \n", &c), -EINVAL);
	CHECK_INT(parse_mem(junk, sizeof(junk) - 1, &c), -EINVAL);
	CHECK_INT(parse_str("just some text\nwithout headers\n", &c), -EINVAL);
	CHECK_INT(parse_str("Subject: no sender\n\nbody\n", &c), -EINVAL);
	CHECK_INT(json_array_size(c.rejects), 5);
	CHECK_STR(reject(&c, 0), "file: empty file");
	CHECK_STR(reject(&c, 1), "file: empty file");
	CHECK_STR(reject(&c, 2), "message 1: no header fields found");
	CHECK_STR(reject(&c, 3), "message 1: no header fields found");
	CHECK_STR(reject(&c, 4), "message 1: no From header field");
	CHECK_INT(json_array_size(c.tickets), 0);
	collect_clear(&c);

	collect_init(&c);
	/* unterminated multipart: the last part runs to the end */
	CHECK_INT(parse_str("From: a@example.com\nSubject: u\n"
			    "Content-Type: multipart/mixed; boundary=\"b\"\n\n"
			    "--b\nContent-Type: text/plain\n\nfirst\n"
			    "--b\nContent-Type: application/pdf; name=x.pdf\n"
			    "Content-Transfer-Encoding: base64\n\nAAAA\nAA", &c), 1);
	CHECK_STR(mf(&c, 0, "text"), "first");
	check_att(&c, 0, 0, "x.pdf", "application/pdf", 4);
	/* boundary never appears: the body is the text */
	CHECK_INT(parse_str("From: a@example.com\nSubject: u\n"
			    "Content-Type: multipart/mixed; boundary=\"missing\"\n\n"
			    "--other\nplain words\n", &c), 1);
	CHECK_STR(mf(&c, 1, "text"), "--other\nplain words");
	/* no boundary parameter at all */
	CHECK_INT(parse_str("From: a@example.com\nSubject: u\n"
			    "Content-Type: multipart/mixed\n\nhello\n", &c), 1);
	CHECK_STR(mf(&c, 2, "text"), "hello");
	/* base64 with garbage, quoted-printable with bad escapes */
	CHECK_INT(parse_str("From: a@example.com\nSubject: u\n"
			    "Content-Transfer-Encoding: BASE64\n\nSGVs#bG8*\n=\n=\n", &c), 1);
	CHECK_STR(mf(&c, 3, "text"), "Hello");
	CHECK_INT(parse_str("From: a@example.com\nSubject: u\n"
			    "Content-Transfer-Encoding: quoted-printable\n\n"
			    "a=ZZb=4=\nc=3d=3D=\n", &c), 1);
	CHECK_STR(mf(&c, 4, "text"), "a=ZZb=4c==");
	/* unknown charset: UTF-8 kept, invalid bytes replaced, NUL dropped */
	CHECK_INT(parse_mem(unknown_cs, sizeof(unknown_cs) - 1, &c), 1);
	CHECK_STR(mf(&c, 5, "text"), "ét\xef\xbf\xbd!");
	/* charset names iconv must never see */
	CHECK_INT(parse_str("From: a@example.com\nSubject: u\n"
			    "Content-Type: text/plain; charset=\"utf-8//TRANSLIT\"\n\nok\n", &c), 1);
	CHECK_STR(mf(&c, 6, "text"), "ok");
	/* 8-bit body without a charset: windows-1252 */
	CHECK_INT(parse_str("From: a@example.com\nSubject: u\n\nna\xefve \x93q\x94\n", &c), 1);
	CHECK_STR(mf(&c, 7, "text"), "naïve “q”");
	/* header block without a blank line before the body */
	CHECK_INT(parse_str("From: a@example.com\nSubject: u\nthis is body\nmore", &c), 1);
	CHECK_STR(mf(&c, 8, "text"), "this is body\nmore");
	/* headers only, no body, no final newline */
	CHECK_INT(parse_str("From: a@example.com\nSubject: only headers", &c), 1);
	CHECK_STR(mf(&c, 9, "text"), "");
	CHECK_STR(tf(&c, 9, "subject"), "only headers");
	CHECK_INT(json_array_size(c.rejects), 0);
	collect_clear(&c);

	/* deep nesting: parts below the depth limit are ignored */
	collect_init(&c);
	strbuf_addstr(&sb, "From: a@example.com\nSubject: deep\n");
	for (int i = 0; i < 200; i++)
		strbuf_addf(&sb, "Content-Type: multipart/mixed; boundary=\"d%d\"\n\n--d%d\n", i, i);
	strbuf_addstr(&sb, "Content-Type: text/plain\n\ntoo deep\n");
	CHECK_INT(parse_str(sb.buf, &c), 1);
	CHECK_STR(mf(&c, 0, "text"), "");
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "From: a@example.com\nSubject: shallow\n");
	for (int i = 0; i < 5; i++)
		strbuf_addf(&sb, "Content-Type: multipart/related; boundary=\"d%d\"\n\n--d%d\n", i, i);
	strbuf_addstr(&sb, "Content-Type: text/plain\n\nfound\n");
	CHECK_INT(parse_str(sb.buf, &c), 1);
	CHECK_STR(mf(&c, 1, "text"), "found");
	collect_clear(&c);

	/* huge headers: a 1 MB folded subject and 20000 fields */
	collect_init(&c);
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "From: a@example.com\nSubject: start");
	for (int i = 0; i < 100000; i++)
		strbuf_addstr(&sb, "\n\tfolded");
	strbuf_addstr(&sb, "\n");
	for (int i = 0; i < 20000; i++)
		strbuf_addf(&sb, "X-Filler-%d: %d\n", i, i);
	strbuf_addstr(&sb, "Message-ID: <late@example.com>\n\nbody\n");
	CHECK_INT(parse_str(sb.buf, &c), 1);
	CHECK_INT(strlen(tf(&c, 0, "subject")), 5 + 100000 * 7);
	CHECK(!strncmp(tf(&c, 0, "subject"), "start folded folded", 19));
	CHECK_STR(mf(&c, 0, "text"), "body");
	/* fields past the limit are dropped, so the late Message-ID is lost */
	CHECK(!strncmp(mf(&c, 0, "id"), "deskfs-", 7));
	collect_clear(&c);
	strbuf_release(&sb);

	/* a sink error aborts and is passed up */
	collect_init(&c);
	c.sink.put_ticket = failing_put;
	CHECK_INT(parse_fixture("thread.mbox", &c), -EIO);
	collect_clear(&c);
}

int main(void)
{
	test_detect();
	test_plain();
	test_qp_cp1252();
	test_base64_utf8();
	test_rfc2047();
	test_alternative();
	test_html_only();
	test_attachments();
	test_thread_mbox();
	test_escaped_mbox();
	test_orphan_reply();
	test_malformed_mbox();
	test_crlf();
	test_dates();
	test_ids_and_roles();
	test_hostile();
	return check_done();
}
