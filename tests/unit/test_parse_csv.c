/* test_parse_csv.c - csv_detect() and csv_parse() against fixtures in
 * tests/fixtures/csv/, hostile input, and the Endava help-desk export in
 * /work/shared/data when present. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "collect.h"
#include "parse.h"

#define ENDAVA_CSV "/work/shared/data/endava-helpdesk/all_tickets.csv"

/* CHECK that json value v equals the JSON text want. */
#define CHECK_JSON(v, want)                                                      \
	do {                                                                     \
		json_error_t e_;                                                 \
		json_t *w_ = json_loads((want), 0, &e_);                         \
		json_t *v_ = (v);                                                \
		if (w_ && v_ && json_equal(v_, w_)) {                            \
			check_passed++;                                          \
		} else {                                                         \
			char *g_ = v_ ? json_dumps(v_, JSON_SORT_KEYS) : NULL;   \
			char *x_ = w_ ? json_dumps(w_, JSON_SORT_KEYS) : NULL;   \
			check_failed++;                                          \
			fprintf(stderr, "%s:%d: json mismatch:\n  got:  %s\n  want: %s\n", \
				__FILE__, __LINE__, g_ ? g_ : "NULL",            \
				x_ ? x_ : (want));                               \
			free(g_);                                                \
			free(x_);                                                \
		}                                                                \
		json_decref(w_);                                                 \
	} while (0)

static json_t *ticket_n(struct collect *c, size_t n)
{
	return json_array_get(c->tickets, n);
}

static const char *reject_n(struct collect *c, size_t n)
{
	const char *s = json_string_value(json_array_get(c->rejects, n));

	return s ? s : "";
}

static int parse_fixture(const char *name, struct collect *c, struct parse_input *in)
{
	int rc = collect_load_fixture(name, in);

	if (rc) {
		fprintf(stderr, "cannot load fixture '%s': %s\n", name, strerror(-rc));
		check_failed++;
		return rc;
	}
	collect_init(c);
	return csv_parse(in, &c->sink);
}

static int parse_mem(const char *name, const char *data, size_t len, struct collect *c)
{
	struct parse_input in = { name, data, len };

	collect_init(c);
	return csv_parse(&in, &c->sink);
}

static int detect_str(const char *s)
{
	struct parse_input in = { "x.csv", s, strlen(s) };

	return csv_detect(&in);
}

static void test_detect(void)
{
	struct parse_input in;

	CHECK_INT(detect_str("\"Ticket ID\",\"Subject\",\"Description\",\"Status\"\n1,a,b,Open\n"), 1);
	CHECK_INT(detect_str("id,subject\n"), 1);
	CHECK_INT(detect_str("ID,Body"), 1);
	CHECK_INT(detect_str("title,body,ticket_type\r\n"), 1);
	CHECK_INT(detect_str("Subject,Content"), 1);
	CHECK_INT(detect_str("\xef\xbb\xbfticket_id;SUBJECT;Created-At\n"), 1);
	CHECK_INT(detect_str("Ticket-Id\tDescription\n"), 1);
	CHECK_INT(detect_str("  ticket id  , sub ject\n"), 1);
	CHECK_INT(detect_str("id,status\n"), 0);
	CHECK_INT(detect_str("subject,status,priority\n"), 0);
	CHECK_INT(detect_str("subject\n"), 0);
	CHECK_INT(detect_str("id subject body\n"), 0);
	CHECK_INT(detect_str("foo,bar,baz\n1,2,3\n"), 0);
	CHECK_INT(detect_str("{\"tickets\": [{\"id\": 1, \"subject\": \"x\"}]}"), 0);
	CHECK_INT(detect_str(""), 0);
	CHECK_INT(detect_str("\n\n\n"), 0);
	CHECK_INT(detect_str("\"id,subject"), 0);
	{
		static const char junk[] = "id,sub\0ject\n";
		struct parse_input j = { "j.csv", junk, sizeof(junk) - 1 };

		CHECK_INT(csv_detect(&j), 0);
	}
	if (!collect_load_fixture("csv/freshdesk_export.csv", &in)) {
		CHECK_INT(csv_detect(&in), 1);
		free((char *)in.data);
	}
	if (!collect_load_fixture("csv/bad_header.csv", &in)) {
		CHECK_INT(csv_detect(&in), 0);
		free((char *)in.data);
	}
}

static void test_freshdesk(void)
{
	struct parse_input in;
	struct collect c;
	json_t *t, *m;
	int rc = parse_fixture("csv/freshdesk_export.csv", &c, &in);

	CHECK_INT(rc, 4);
	CHECK_INT(json_array_size(c.tickets), 4);
	CHECK_INT(json_array_size(c.rejects), 0);

	t = ticket_n(&c, 0);
	CHECK_JSON(t, "{\"source\": \"freshdesk\", \"instance\": \"\", \"source_id\": \"101\","
		   " \"partial\": false, \"deleted\": false, \"subject\": \"Printer on fire\","
		   " \"body_text\": \"The printer on floor 3 is on fire.\\nIt says \\\"PC LOAD LETTER\\\", then smoke.\\n\\nPlease help, quickly\","
		   " \"body_html\": null, \"status\": \"open\", \"status_raw\": \"Open\","
		   " \"priority\": \"high\", \"priority_raw\": \"High\", \"type\": \"Incident\","
		   " \"requester\": \"bob@example.com\", \"assignee\": \"Alice Agent\", \"group\": \"IT Support\","
		   " \"created\": \"2024-03-05T04:50:30Z\", \"updated\": \"2024-03-05T06:30:00Z\", \"resolved\": null,"
		   " \"tags\": [\"printer\", \"urgent\", \"hardware\"],"
		   " \"custom_fields\": {\"Source\": \"Email\", \"Due by Time\": \"2024-03-06 10:20:30 +0530\","
		   "  \"Initial response time\": \"2024-03-05 10:30:00 +0530\", \"Full name\": \"Bob Smith\","
		   "  \"Contact ID\": \"5001\", \"Company Name\": \"Acme Corp\", \"Product\": \"Printers\", \"Region\": \"EMEA\"},"
		   " \"messages\": [{\"id\": null, \"role\": \"customer\", \"author\": \"bob@example.com\", \"public\": true,"
		   "  \"text\": \"The printer on floor 3 is on fire.\\nIt says \\\"PC LOAD LETTER\\\", then smoke.\\n\\nPlease help, quickly\","
		   "  \"html\": null, \"time\": \"2024-03-05T04:50:30Z\", \"attachments\": []}],"
		   " \"attachments\": []}");

	/* HTML description; requester falls back from Email to Full name */
	t = ticket_n(&c, 1);
	CHECK_STR(collect_field(&c, 1, "source_id"), "102");
	CHECK_STR(collect_field(&c, 1, "body_html"), "<p>Hello <b>team</b>,</p><p>I cannot log in.</p>");
	CHECK_STR(collect_field(&c, 1, "body_text"), "Hello team,\n\nI cannot log in.");
	CHECK_STR(collect_field(&c, 1, "status"), "pending");
	CHECK_STR(collect_field(&c, 1, "status_raw"), "Waiting on Customer");
	CHECK_STR(collect_field(&c, 1, "priority"), "normal");
	CHECK_STR(collect_field(&c, 1, "priority_raw"), "Medium");
	CHECK_STR(collect_field(&c, 1, "requester"), "Carol Jones");
	CHECK(json_is_null(json_object_get(t, "assignee")));
	CHECK_STR(collect_field(&c, 1, "created"), "2024-03-06T08:00:00Z");
	CHECK_STR(collect_field(&c, 1, "updated"), "2024-03-06T09:15:00Z");
	CHECK_INT(json_array_size(json_object_get(t, "tags")), 0);
	CHECK_JSON(json_object_get(t, "custom_fields"),
		   "{\"Source\": \"Portal\", \"Due by Time\": \"2024-03-07 08:00:00\","
		   " \"Full name\": \"Carol Jones\", \"Contact ID\": \"5002\"}");
	m = json_array_get(json_object_get(t, "messages"), 0);
	CHECK_STR(json_string_value(json_object_get(m, "html")),
		  "<p>Hello <b>team</b>,</p><p>I cannot log in.</p>");
	CHECK_STR(json_string_value(json_object_get(m, "text")), "Hello team,\n\nI cannot log in.");
	CHECK_STR(json_string_value(json_object_get(m, "author")), "Carol Jones");

	/* resolved time; Closed time kept as a custom field */
	t = ticket_n(&c, 2);
	CHECK_STR(collect_field(&c, 2, "status"), "solved");
	CHECK_STR(collect_field(&c, 2, "priority"), "low");
	CHECK_STR(collect_field(&c, 2, "requester"), "5003");
	CHECK_STR(collect_field(&c, 2, "resolved"), "2024-03-02T17:45:10Z");
	CHECK_STR(collect_field(&c, 2, "updated"), "2024-03-03T08:00:00Z");
	CHECK_JSON(json_object_get(t, "tags"), "[\"billing\"]");
	CHECK_JSON(json_object_get(t, "custom_fields"),
		   "{\"Source\": \"Phone\", \"Closed time\": \"2024-03-03 08:00:00\", \"Contact ID\": \"5003\"}");

	/* numeric Freshdesk codes; no Resolved time: Closed time stands in */
	t = ticket_n(&c, 3);
	CHECK_STR(collect_field(&c, 3, "status"), "closed");
	CHECK_STR(collect_field(&c, 3, "status_raw"), "5");
	CHECK_STR(collect_field(&c, 3, "priority"), "urgent");
	CHECK_STR(collect_field(&c, 3, "priority_raw"), "4");
	CHECK_STR(collect_field(&c, 3, "resolved"), "2024-02-10T12:00:00Z");
	CHECK(json_is_null(json_object_get(t, "type")));
	CHECK(json_is_null(json_object_get(t, "requester")));
	CHECK(json_is_null(json_object_get(json_array_get(json_object_get(t, "messages"), 0), "author")));

	collect_clear(&c);
	free((char *)in.data);
}

static void test_generic(void)
{
	struct parse_input in;
	struct collect c;
	json_t *t;
	int rc = parse_fixture("csv/generic.csv", &c, &in);

	CHECK_INT(rc, 4);
	CHECK_INT(json_array_size(c.rejects), 0);

	t = ticket_n(&c, 0);
	CHECK_STR(collect_field(&c, 0, "source"), "csv");
	CHECK_STR(collect_field(&c, 0, "instance"), "");
	CHECK_STR(collect_field(&c, 0, "source_id"), "G-1");
	CHECK_STR(collect_field(&c, 0, "subject"), "VPN drops");
	CHECK_STR(collect_field(&c, 0, "body_text"), "The VPN drops every hour");
	CHECK_STR(collect_field(&c, 0, "status"), "new");
	CHECK_STR(collect_field(&c, 0, "status_raw"), "New");
	CHECK_STR(collect_field(&c, 0, "priority"), "normal");
	CHECK_STR(collect_field(&c, 0, "type"), "incident");
	CHECK_STR(collect_field(&c, 0, "requester"), "ann@example.org");
	CHECK_STR(collect_field(&c, 0, "assignee"), "bert");
	CHECK_STR(collect_field(&c, 0, "group"), "Network");
	CHECK_STR(collect_field(&c, 0, "created"), "2024-05-01T08:00:00Z");
	CHECK_STR(collect_field(&c, 0, "updated"), "2024-05-02T07:30:00Z");
	CHECK(json_is_null(json_object_get(t, "resolved")));
	CHECK_JSON(json_object_get(t, "tags"), "[\"vpn\", \"network\", \"remote\"]");
	CHECK_JSON(json_object_get(t, "custom_fields"), "{\"Region\": \"North\", \"customer\": \"Ann Co\"}");

	/* unknown status/priority: raw kept; unreadable time kept as text */
	t = ticket_n(&c, 1);
	CHECK(json_is_null(json_object_get(t, "status")));
	CHECK_STR(collect_field(&c, 1, "status_raw"), "escalated");
	CHECK(json_is_null(json_object_get(t, "priority")));
	CHECK_STR(collect_field(&c, 1, "priority_raw"), "critical");
	CHECK(json_is_null(json_object_get(t, "created")));
	CHECK_STR(collect_field(&c, 1, "requester"), "Chairs Inc");
	CHECK_JSON(json_object_get(t, "custom_fields"),
		   "{\"created_at\": \"yesterday\", \"customer\": \"Chairs Inc\"}");
	CHECK(json_is_null(json_object_get(json_array_get(json_object_get(t, "messages"), 0), "time")));

	/* a short record is padded */
	t = ticket_n(&c, 2);
	CHECK_STR(collect_field(&c, 2, "source_id"), "G-3");
	CHECK_STR(collect_field(&c, 2, "body_text"), "Only some fields");
	CHECK(json_is_null(json_object_get(t, "status")));
	CHECK_JSON(json_object_get(t, "custom_fields"), "{}");

	/* trailing empty fields; epoch, slash and date-only times */
	t = ticket_n(&c, 3);
	CHECK_STR(collect_field(&c, 3, "status"), "hold");
	CHECK_STR(collect_field(&c, 3, "status_raw"), "on hold");
	CHECK_STR(collect_field(&c, 3, "priority"), "normal");
	CHECK_STR(collect_field(&c, 3, "created"), "2024-05-01T08:00:00Z");
	CHECK_STR(collect_field(&c, 3, "updated"), "2024-05-03T10:00:00Z");
	CHECK_STR(collect_field(&c, 3, "resolved"), "2024-05-04T00:00:00Z");

	collect_clear(&c);
	free((char *)in.data);
}

static void test_semicolon_and_tab(void)
{
	struct parse_input in;
	struct collect c;
	int rc = parse_fixture("csv/semicolon.csv", &c, &in);
	static const char tsv[] = "id\tsubject\tbody\n1\tTabbed, with comma\t\"quoted\ttab\"\n";

	CHECK_INT(rc, 2);
	CHECK_INT(json_array_size(c.rejects), 1);
	CHECK_STR(reject_n(&c, 0),
		  "record 1 (line 2): 5 fields but the header has 4 columns; expected at most 4 (quote a field that contains ';')");
	CHECK_STR(collect_field(&c, 0, "source_id"), "8");
	CHECK_STR(collect_field(&c, 0, "subject"), "Quoted; semi");
	CHECK_STR(collect_field(&c, 0, "body_text"), "body \"x\"");
	CHECK_STR(collect_field(&c, 0, "status"), "pending");
	CHECK_STR(collect_field(&c, 1, "source_id"), "9");
	CHECK_STR(collect_field(&c, 1, "subject"), "Comma, ok");
	CHECK_STR(collect_field(&c, 1, "body_text"), "plain body, with commas");
	collect_clear(&c);
	free((char *)in.data);

	rc = parse_mem("t.tsv", tsv, sizeof(tsv) - 1, &c);
	CHECK_INT(rc, 1);
	CHECK_STR(collect_field(&c, 0, "subject"), "Tabbed, with comma");
	CHECK_STR(collect_field(&c, 0, "body_text"), "quoted\ttab");
	collect_clear(&c);
}

static void test_bom_crlf(void)
{
	struct parse_input in;
	struct collect c;
	int rc = parse_fixture("csv/bom_crlf.csv", &c, &in);

	CHECK_INT(rc, 2);
	CHECK_STR(collect_field(&c, 0, "source"), "freshdesk");
	CHECK_STR(collect_field(&c, 0, "source_id"), "1");
	CHECK_STR(collect_field(&c, 0, "subject"), "Hi");
	CHECK_STR(collect_field(&c, 0, "body_text"), "line1\nline2");
	CHECK_STR(collect_field(&c, 0, "status"), "open");
	CHECK_STR(collect_field(&c, 1, "source_id"), "3");
	CHECK_STR(collect_field(&c, 1, "body_text"), "done");
	CHECK_STR(collect_field(&c, 1, "status_raw"), "Closed");
	CHECK_INT(json_array_size(c.rejects), 1);
	CHECK_STR(reject_n(&c, 0),
		  "record 2 (line 4): empty 'Subject' and 'Description'; expected a subject or a body");
	collect_clear(&c);
	free((char *)in.data);
}

static void test_bad_rows(void)
{
	struct parse_input in;
	struct collect c;
	int rc = parse_fixture("csv/bad_rows.csv", &c, &in);

	CHECK_INT(rc, 4);
	CHECK_INT(json_array_size(c.tickets), 4);
	CHECK_STR(collect_field(&c, 0, "source_id"), "1");
	CHECK_STR(collect_field(&c, 1, "source_id"), "4");
	CHECK_STR(collect_field(&c, 1, "subject"), "multi\nline");
	CHECK_STR(collect_field(&c, 2, "source_id"), "5");
	CHECK_STR(collect_field(&c, 3, "source_id"), "6");
	CHECK_STR(collect_field(&c, 3, "subject"), "short");
	CHECK(json_is_null(json_object_get(ticket_n(&c, 3), "body_text")));
	CHECK_INT(json_array_size(json_object_get(ticket_n(&c, 3), "messages")), 0);
	CHECK_INT(json_array_size(c.rejects), 4);
	CHECK_STR(reject_n(&c, 0), "record 2 (line 3): empty 'subject' and 'body'; expected a subject or a body");
	CHECK_STR(reject_n(&c, 1),
		  "record 3 (line 4): 5 fields but the header has 4 columns; expected at most 4 (quote a field that contains ',')");
	CHECK_STR(reject_n(&c, 2), "record 5 (line 7): empty 'id'; expected the ticket id");
	CHECK_STR(reject_n(&c, 3),
		  "record 8 (line 11): unterminated quoted field; expected a closing '\"' before the end of the file");
	collect_clear(&c);
	free((char *)in.data);
}

static void test_bad_files(void)
{
	struct parse_input in;
	struct collect c;
	int rc = parse_fixture("csv/bad_header.csv", &c, &in);
	static const char junk[] = "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0";
	static const char ctl[] = "id,subject\x01\x02\x03\n";
	static const char latin1[] = "id,subject\n1,caf\xe9\n";
	static const char quote_hdr[] = "\"id,subject\n1,a\n";
	static const char one_col[] = "subject\nhello\n";

	CHECK_INT(rc, -EINVAL);
	CHECK_INT(json_array_size(c.tickets), 0);
	CHECK_INT(json_array_size(c.rejects), 1);
	CHECK_STR(reject_n(&c, 0),
		  "file: header row 'foo,bar,baz' does not name the expected columns: an id column (id, ticket id) with a subject or body column (subject, title, body, description, text, content), or a subject and a body column");
	collect_clear(&c);
	free((char *)in.data);

	CHECK_INT(parse_mem("e.csv", "", 0, &c), -EINVAL);
	CHECK_STR(reject_n(&c, 0), "file: empty file; expected a header row and data records");
	collect_clear(&c);

	CHECK_INT(parse_mem("b.csv", "\r\n\n", 3, &c), -EINVAL);
	CHECK_STR(reject_n(&c, 0), "file: empty file; expected a header row and data records");
	collect_clear(&c);

	CHECK_INT(parse_mem("j.csv", junk, sizeof(junk) - 1, &c), -EINVAL);
	CHECK_STR(reject_n(&c, 0), "file: binary data (control byte 0x00 at offset 7); expected CSV text");
	collect_clear(&c);

	CHECK_INT(parse_mem("c.csv", ctl, sizeof(ctl) - 1, &c), -EINVAL);
	CHECK_STR(reject_n(&c, 0), "file: binary data (control byte 0x01 at offset 10); expected CSV text");
	collect_clear(&c);

	CHECK_INT(parse_mem("q.csv", quote_hdr, sizeof(quote_hdr) - 1, &c), -EINVAL);
	CHECK_STR(reject_n(&c, 0),
		  "file: header row has an unterminated quoted field; expected a closing '\"'");
	collect_clear(&c);

	CHECK_INT(parse_mem("o.csv", one_col, sizeof(one_col) - 1, &c), -EINVAL);
	CHECK_CONTAINS(reject_n(&c, 0), "file: header row 'subject' does not name");
	collect_clear(&c);

	/* header only: no records, no error */
	CHECK_INT(parse_mem("h.csv", "id,subject\n", 11, &c), 0);
	CHECK_INT(json_array_size(c.rejects), 0);
	collect_clear(&c);

	/* invalid UTF-8 (Latin-1) is replaced, not refused */
	CHECK_INT(parse_mem("l.csv", latin1, sizeof(latin1) - 1, &c), 1);
	CHECK_STR(collect_field(&c, 0, "subject"), "caf\xef\xbf\xbd");
	collect_clear(&c);
}

static int abort_put(void *ctx, struct ticket *t)
{
	int *n = ctx;

	return ++*n == 2 ? -ECANCELED : 0;
}

static void test_sink_abort(void)
{
	static const char data[] = "id,subject\n1,a\n2,b\n3,c\n";
	struct parse_input in = { "a.csv", data, sizeof(data) - 1 };
	struct parse_sink s = { 0 };
	int n = 0;

	s.ctx = &n;
	s.put_ticket = abort_put;
	CHECK_INT(csv_parse(&in, &s), -ECANCELED);
	CHECK_INT(n, 2);
}

/* Many records and one huge field: linear time, exact counts. */
static void test_big(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct collect c;
	clock_t t0;
	double secs;
	const size_t rows = 100000, huge = 4 << 20;
	int rc;

	strbuf_addstr(&sb, "id,subject,body,tags\n");
	for (size_t i = 1; i <= rows; i++)
		strbuf_addf(&sb, "%zu,Subject %zu,\"Body, line one\nline \"\"two\"\"\",a;b|c\n", i, i);
	strbuf_addf(&sb, "%zu,Huge,\"", rows + 1);
	for (size_t i = 0; i < huge / 8; i++)
		strbuf_add(&sb, "xxxx\"\"y\n", 8);
	strbuf_addstr(&sb, "\",t\n");
	CHECK_INT(sb.err, 0);

	t0 = clock();
	rc = parse_mem("big.csv", sb.buf, sb.len, &c);
	secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	printf("big: %zu records + a %zu-byte field in %.2f s\n", rows, huge, secs);
	CHECK_INT(rc, (int)rows + 1);
	CHECK_INT(json_array_size(c.rejects), 0);
	CHECK_STR(collect_field(&c, 41, "body_text"), "Body, line one\nline \"two\"");
	CHECK_JSON(json_object_get(ticket_n(&c, 41), "tags"), "[\"a\", \"b\", \"c\"]");
	CHECK_INT(strlen(collect_field(&c, rows, "body_text")), huge / 8 * 7 - 1);
	CHECK(secs < 30.0);
	collect_clear(&c);
	strbuf_release(&sb);
}

static void test_endava(void)
{
	struct parse_input in;
	struct collect c;
	char *buf;
	size_t len;
	json_t *t;
	int rc = util_read_file(ENDAVA_CSV, &buf, &len);

	if (rc) {
		printf("skipping the Endava export: %s: %s\n", ENDAVA_CSV, strerror(-rc));
		return;
	}
	in.name = "all_tickets.csv";
	in.data = buf;
	in.len = len;
	CHECK_INT(csv_detect(&in), 1);
	collect_init(&c);
	rc = csv_parse(&in, &c.sink);
	/* 5,432 lines: the header and 5,431 records, none rejected */
	CHECK_INT(rc, 5431);
	CHECK_INT(json_array_size(c.tickets), 5431);
	CHECK_INT(json_array_size(c.rejects), 0);

	t = ticket_n(&c, 0);
	/* the first record has an empty title: ticket_finish() derives the
	 * subject from the body's first line */
	CHECK_JSON(t, "{\"source\": \"csv\", \"instance\": \"all_tickets\", \"source_id\": \"1\","
		   " \"partial\": false, \"deleted\": false,"
		   " \"subject\": \"hi since recruiter lead permission approve requisitions makes please make thanks recruiter\","
		   " \"body_text\": \"hi since recruiter lead permission approve requisitions makes please make thanks recruiter\","
		   " \"body_html\": null, \"status\": null, \"status_raw\": null, \"priority\": null, \"priority_raw\": null,"
		   " \"type\": \"1\", \"requester\": null, \"assignee\": null, \"group\": null,"
		   " \"created\": null, \"updated\": null, \"resolved\": null, \"tags\": [],"
		   " \"custom_fields\": {\"category\": \"4\", \"sub_category1\": \"2\", \"sub_category2\": \"21\","
		   "  \"business_service\": \"71\", \"urgency\": \"3\", \"impact\": \"4\"},"
		   " \"messages\": [{\"id\": null, \"role\": \"customer\", \"author\": null, \"public\": true,"
		   "  \"text\": \"hi since recruiter lead permission approve requisitions makes please make thanks recruiter\","
		   "  \"html\": null, \"time\": null, \"attachments\": []}],"
		   " \"attachments\": []}");
	CHECK_STR(collect_field(&c, 1, "source_id"), "2");
	CHECK_STR(collect_field(&c, 1, "subject"), "connection with icon");
	/* line 1674 has the file's only quoted field */
	CHECK_STR(collect_field(&c, 1672, "source_id"), "1673");
	CHECK_STR(collect_field(&c, 1672, "body_text"), "recurrent wireless vs ..., pc si validate");
	CHECK_STR(collect_field(&c, 5430, "source_id"), "5431");
	CHECK_STR(collect_field(&c, 5430, "type"), "0");
	collect_clear(&c);
	free(buf);
}

int main(void)
{
	test_detect();
	test_freshdesk();
	test_generic();
	test_semicolon_and_tab();
	test_bom_crlf();
	test_bad_rows();
	test_bad_files();
	test_sink_abort();
	test_big();
	test_endava();
	return check_done();
}
