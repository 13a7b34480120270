/* test_parse_text.c - text_parse(): .txt, .md and .html files as tickets and
 * as articles, and the files it must refuse. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "collect.h"
#include "parse.h"

static int run(struct collect *c, const char *fixture, int as_article)
{
	struct parse_input in;
	int rc;

	collect_init(c);
	rc = collect_load_fixture(fixture, &in);
	CHECK_INT(rc, 0);
	if (rc)
		return rc;
	rc = text_parse(&in, as_article, &c->sink);
	free((char *)in.data);
	return rc;
}

static int run_mem(struct collect *c, const char *name, const char *data, size_t len,
		   int as_article)
{
	struct parse_input in = { name, data, len };

	collect_init(c);
	return text_parse(&in, as_article, &c->sink);
}

static json_t *msg(struct collect *c, size_t i)
{
	return json_array_get(json_object_get(json_array_get(c->tickets, 0), "messages"), i);
}

static const char *jstr_at(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "(null)";
}

static const char *art(struct collect *c, const char *key)
{
	return jstr_at(json_array_get(c->articles, 0), key);
}

static const char *tk(struct collect *c, const char *key)
{
	return jstr_at(json_array_get(c->tickets, 0), key);
}

static void check_ticket_message(struct collect *c, const char *text, const char *html)
{
	json_t *m = msg(c, 0);

	CHECK_INT(json_array_size(json_object_get(json_array_get(c->tickets, 0), "messages")), 1);
	CHECK_STR(jstr_at(m, "role"), "customer");
	CHECK(json_is_true(json_object_get(m, "public")));
	CHECK_STR(jstr_at(m, "text"), text);
	CHECK_STR(jstr_at(m, "html"), html);
	CHECK(json_is_null(json_object_get(m, "time")));
}

static void test_txt_ticket(void)
{
	struct collect c;
	const char *body = "Printer on floor 3 is jammed\n\nHi team,\nthe printer   keeps jamming.\n"
			   "\tThanks, Ana";

	CHECK_INT(run(&c, "text/Printer Jam.txt", 0), 1);
	CHECK_INT(json_array_size(c.tickets), 1);
	CHECK_INT(json_array_size(c.articles), 0);
	CHECK_INT(json_array_size(c.rejects), 0);
	CHECK_STR(tk(&c, "source"), "file");
	CHECK_STR(tk(&c, "source_id"), "printer-jam");
	CHECK_STR(tk(&c, "subject"), "Printer on floor 3 is jammed");
	CHECK_STR(tk(&c, "body_text"), body);
	CHECK_STR(tk(&c, "body_html"), "(null)");
	CHECK(json_is_null(json_object_get(json_array_get(c.tickets, 0), "created")));
	CHECK(!json_is_true(json_object_get(json_array_get(c.tickets, 0), "partial")));
	check_ticket_message(&c, body, "(null)");
	collect_clear(&c);
}

static void test_txt_article(void)
{
	struct collect c;

	CHECK_INT(run(&c, "text/Printer Jam.txt", 1), 1);
	CHECK_INT(json_array_size(c.tickets), 0);
	CHECK_INT(json_array_size(c.articles), 1);
	CHECK_STR(art(&c, "source"), "file");
	CHECK_STR(art(&c, "source_id"), "Printer Jam.txt");
	CHECK_STR(art(&c, "slug"), "printer-jam");
	CHECK_STR(art(&c, "title"), "Printer on floor 3 is jammed");
	CHECK_CONTAINS(art(&c, "body_text"), "the printer   keeps jamming.\n\tThanks, Ana");
	CHECK_STR(art(&c, "body_html"), "(null)");
	collect_clear(&c);
}

static void test_md(void)
{
	struct collect c;
	const char *body = "# Reset your password #\n\nIf you forgot your password:\n\n"
			   "1. Open **Settings**.\n2. Click *Reset*.\n\n```sh\n# not a heading\n"
			   "reset --user me\n```";

	CHECK_INT(run(&c, "text/reset-password.md", 0), 1);
	CHECK_STR(tk(&c, "source_id"), "reset-password");
	CHECK_STR(tk(&c, "subject"), "Reset your password");
	CHECK_STR(tk(&c, "body_text"), body);
	CHECK_STR(tk(&c, "body_html"), "(null)");
	check_ticket_message(&c, body, "(null)");
	collect_clear(&c);

	CHECK_INT(run(&c, "text/reset-password.md", 1), 1);
	CHECK_STR(art(&c, "source_id"), "reset-password.md");
	CHECK_STR(art(&c, "slug"), "reset-password");
	CHECK_STR(art(&c, "title"), "Reset your password");
	CHECK_STR(art(&c, "body_text"), body);
	CHECK_STR(art(&c, "body_html"), "(null)");
	collect_clear(&c);
}

/* The first line is the ticket subject; an article prefers the first
 * heading. */
static void test_markdown_heading_later(void)
{
	struct collect c;

	CHECK_INT(run(&c, "text/Setup Guide.markdown", 0), 1);
	CHECK_STR(tk(&c, "source_id"), "setup-guide");
	CHECK_STR(tk(&c, "subject"), "Intro paragraph before any heading.");
	collect_clear(&c);

	CHECK_INT(run(&c, "text/Setup Guide.markdown", 1), 1);
	CHECK_STR(art(&c, "source_id"), "Setup Guide.markdown");
	CHECK_STR(art(&c, "slug"), "setup-guide");
	CHECK_STR(art(&c, "title"), "Installing the agent");
	CHECK_STR(art(&c, "body_text"),
		  "Intro paragraph before any heading.\n\n## Installing the agent\n\n"
		  "Run the installer.");
	collect_clear(&c);
}

static void test_md_front_matter(void)
{
	struct collect c;

	CHECK_INT(run(&c, "text/front-matter.md", 1), 1);
	CHECK_STR(art(&c, "title"), "Billing FAQ: refunds & credits");
	CHECK_STR(art(&c, "slug"), "front-matter");
	CHECK_STR(art(&c, "body_text"), "# Ignored heading\n\nRefunds take 5 days.");
	collect_clear(&c);

	CHECK_INT(run(&c, "text/front-matter.md", 0), 1);
	CHECK_STR(tk(&c, "subject"), "Billing FAQ: refunds & credits");
	CHECK_STR(tk(&c, "body_text"), "# Ignored heading\n\nRefunds take 5 days.");
	collect_clear(&c);

	/* an unclosed block is ordinary text */
	static const char open[] = "---\ntitle: nope\nbody\n";
	CHECK_INT(run_mem(&c, "o.md", open, sizeof(open) - 1, 1), 1);
	CHECK_STR(art(&c, "title"), "---");
	CHECK_STR(art(&c, "body_text"), "---\ntitle: nope\nbody");
	collect_clear(&c);
}

static const char welcome_text[] =
	"# Welcome aboard\n\n"
	"Thanks for joining us \xe2\x80\x94 here\xe2\x80\x99s what to do:\n\n"
	"- Read the [guide](https://help.example.com/start)\n"
	"- Email help@example.com\n\n"
	"\xc2\xa9 2024 Example";

static void test_html(void)
{
	struct collect c;
	struct parse_input in;

	CHECK_INT(collect_load_fixture("text/welcome.html", &in), 0);
	CHECK_INT(run(&c, "text/welcome.html", 0), 1);
	CHECK_STR(tk(&c, "source"), "file");
	CHECK_STR(tk(&c, "source_id"), "welcome");
	CHECK_STR(tk(&c, "subject"), "Welcome & Getting Started");
	CHECK_STR(tk(&c, "body_text"), welcome_text);
	CHECK_STR(tk(&c, "body_html"), in.data);
	check_ticket_message(&c, welcome_text, in.data);
	collect_clear(&c);

	CHECK_INT(run(&c, "text/welcome.html", 1), 1);
	CHECK_STR(art(&c, "source_id"), "welcome.html");
	CHECK_STR(art(&c, "slug"), "welcome");
	CHECK_STR(art(&c, "title"), "Welcome & Getting Started");
	CHECK_STR(art(&c, "body_text"), welcome_text);
	CHECK_STR(art(&c, "body_html"), in.data);
	collect_clear(&c);
	free((char *)in.data);
}

static void test_html_h1_and_first_line(void)
{
	struct collect c;

	/* upper-case extension, no <title>: the first <h1> */
	CHECK_INT(run(&c, "text/outage.HTM", 0), 1);
	CHECK_STR(tk(&c, "source_id"), "outage");
	CHECK_STR(tk(&c, "subject"), "Outage report");
	CHECK_STR(tk(&c, "body_text"), "# Outage report\n\nAll systems down.");
	collect_clear(&c);

	CHECK_INT(run(&c, "text/outage.HTM", 1), 1);
	CHECK_STR(art(&c, "title"), "Outage report");
	collect_clear(&c);

	/* neither: the first line of the converted text */
	CHECK_INT(run(&c, "text/No Title.html", 1), 1);
	CHECK_STR(art(&c, "source_id"), "No Title.html");
	CHECK_STR(art(&c, "slug"), "no-title");
	CHECK_STR(art(&c, "title"), "Just a paragraph with a [link](https://x.io).");
	CHECK_STR(art(&c, "body_text"), "Just a paragraph with a [link](https://x.io).");
	collect_clear(&c);
}

/* A .txt file whose content is HTML is converted. */
static void test_txt_sniffed_html(void)
{
	struct collect c;

	CHECK_INT(run(&c, "text/pasted.txt", 0), 1);
	CHECK_STR(tk(&c, "source_id"), "pasted");
	CHECK_STR(tk(&c, "subject"), "Customer wrote:");
	CHECK_STR(tk(&c, "body_text"), "Customer wrote:\n\nMy order #123 never arrived.");
	CHECK_STR(tk(&c, "body_html"),
		  "Customer wrote:<br>\n<p>My <b>order</b> #123 never arrived.</p>\n");
	collect_clear(&c);

	/* Markdown is never sniffed: inline HTML stays as written */
	static const char md[] = "# Note\n\nline one<br>\nline two\n";
	CHECK_INT(run_mem(&c, "n.md", md, sizeof(md) - 1, 1), 1);
	CHECK_STR(art(&c, "title"), "Note");
	CHECK_STR(art(&c, "body_text"), "# Note\n\nline one<br>\nline two");
	CHECK_STR(art(&c, "body_html"), "(null)");
	collect_clear(&c);
}

static void check_rejected(const char *fixture, const char *why)
{
	struct collect c;

	for (int as_article = 0; as_article < 2; as_article++) {
		CHECK_INT(run(&c, fixture, as_article), -EINVAL);
		CHECK_INT(json_array_size(c.tickets), 0);
		CHECK_INT(json_array_size(c.articles), 0);
		CHECK_INT(json_array_size(c.rejects), 1);
		CHECK_STR(json_string_value(json_array_get(c.rejects, 0)), why);
		collect_clear(&c);
	}
}

static void test_rejects(void)
{
	struct collect c;

	check_rejected("text/empty.txt", "file: empty file: expected text");
	check_rejected("text/blank.md", "file: empty file: expected text");
	check_rejected("text/binary.txt", "file: binary data: expected text");
	check_rejected("text/notext.html", "file: html without visible text: expected text");

	CHECK_INT(run_mem(&c, "x.txt", NULL, 0, 0), -EINVAL);
	CHECK_STR(json_string_value(json_array_get(c.rejects, 0)),
		  "file: empty file: expected text");
	collect_clear(&c);
	CHECK_INT(run_mem(&c, "bom.txt", "\xef\xbb\xbf \n", 5, 0), -EINVAL);
	CHECK_INT(json_array_size(c.rejects), 1);
	collect_clear(&c);
}

static void test_odd_input(void)
{
	struct collect c;
	char *big;

	/* invalid UTF-8 is repaired, not rejected */
	CHECK_INT(run(&c, "text/latin1.txt", 0), 1);
	CHECK_STR(tk(&c, "subject"), "Caf\xef\xbf\xbd menu");
	CHECK_STR(tk(&c, "body_text"), "Caf\xef\xbf\xbd menu\nna\xef\xbf\xbdve text");
	collect_clear(&c);

	/* no name, no extension, BOM, lone CR line ends */
	CHECK_INT(run_mem(&c, NULL, "\xef\xbb\xbfone\rtwo\r", 11, 0), 1);
	CHECK_STR(tk(&c, "source_id"), "untitled");
	CHECK_STR(tk(&c, "subject"), "one");
	CHECK_STR(tk(&c, "body_text"), "one\ntwo");
	collect_clear(&c);
	CHECK_INT(run_mem(&c, "", "x", 1, 1), 1);
	CHECK_STR(art(&c, "source_id"), "untitled");
	CHECK_STR(art(&c, "slug"), "untitled");
	collect_clear(&c);

	/* dot files and several dots */
	CHECK_INT(run_mem(&c, ".notes", "hello", 5, 0), 1);
	CHECK_STR(tk(&c, "source_id"), "notes");
	collect_clear(&c);
	CHECK_INT(run_mem(&c, "Release.Notes.v2.TXT", "hello", 5, 1), 1);
	CHECK_STR(art(&c, "slug"), "release-notes-v2");
	collect_clear(&c);

	/* a huge single line: the subject is cut on a character boundary */
	big = malloc(300000);
	for (size_t i = 0; i + 1 < 300000; i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	CHECK_INT(run_mem(&c, "big.txt", big, 300000, 0), 1);
	CHECK_INT(strlen(tk(&c, "subject")), 120);
	CHECK(util_utf8_valid(tk(&c, "subject"), 120));
	CHECK_INT(strlen(tk(&c, "body_text")), 300000);
	collect_clear(&c);
	free(big);

	/* a long slug is cut to 64 bytes */
	CHECK_INT(run_mem(&c, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.txt",
			  "x", 1, 0), 1);
	CHECK_INT(strlen(tk(&c, "source_id")), 64);
	collect_clear(&c);

	/* malformed HTML by extension */
	static const char bad[] = "<title>Unclosed <b>title<p>body &amp; <a href=\"x";
	CHECK_INT(run_mem(&c, "bad.html", bad, sizeof(bad) - 1, 0), 1);
	CHECK_STR(tk(&c, "subject"), "Unclosed title");
	CHECK_STR(tk(&c, "body_text"), "Unclosed title\n\nbody &");
	collect_clear(&c);
}

static int fail_put_ticket(void *ctx, struct ticket *t)
{
	return -ENOSPC;
}

/* A negative return from the sink is passed up unchanged. */
static void test_sink_error(void)
{
	struct collect c;
	struct parse_input in = { "a.txt", "hello", 5 };

	collect_init(&c);
	c.sink.put_ticket = fail_put_ticket;
	CHECK_INT(text_parse(&in, 0, &c.sink), -ENOSPC);
	collect_clear(&c);
}

int main(void)
{
	test_txt_ticket();
	test_txt_article();
	test_md();
	test_markdown_heading_later();
	test_md_front_matter();
	test_html();
	test_html_h1_and_first_line();
	test_txt_sniffed_html();
	test_rejects();
	test_odd_input();
	test_sink_error();
	return check_done();
}
