/* test_html_text.c - html_to_text() output, exactly, and html_looks_like(). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "html_text.h"
#include "strbuf.h"
#include "util.h"

static const struct {
	const char *in;
	const char *want;
} cases[] = {
	/* paragraphs, white space */
	{ "", "" },
	{ "   \n\t ", "" },
	{ "plain text", "plain text" },
	{ "  many   spaces\n\tand\r\nlines  ", "many spaces and lines" },
	{ "<p>One</p><p>Two</p>", "One\n\nTwo" },
	{ "<p>One</p>\n\n<p>Two</p>\n", "One\n\nTwo" },
	{ "<p>   </p><p>&nbsp;</p><p>real</p><p></p>", "real" },
	{ "<P CLASS=x>Upper<BR>Case</P>", "Upper\nCase" },
	{ "a<br>b<br><br><br><br>c", "a\nb\n\nc" },
	{ "<br><br>lead<br><br>", "lead" },
	{ "<div>a</div><div>b</div>", "a\nb" },
	{ "<div>a</div><div><br></div><div>b</div>", "a\n\nb" },
	{ "<div><div><div>deep</div></div></div>", "deep" },
	{ "<p>x<b>bold</b> <i>it</i><span>s</span>y</p>", "xbold itsy" },
	/* entities */
	{ "<p>Hello&nbsp;world &amp; friends</p>", "Hello world & friends" },
	{ "&mdash;&ndash;&hellip;&rsquo;&lsquo;&ldquo;&rdquo;&copy;&reg;&euro;",
	  "\xe2\x80\x94\xe2\x80\x93\xe2\x80\xa6\xe2\x80\x99\xe2\x80\x98\xe2\x80\x9c"
	  "\xe2\x80\x9d\xc2\xa9\xc2\xae\xe2\x82\xac" },
	{ "&apos;&#39;&quot;&lt;&gt;&amp;", "''\"<>&" },
	{ "&trade; &times; &divide; &yuml; &Eacute;t&eacute; &pound;5 &deg;C &frac12;",
	  "\xe2\x84\xa2 \xc3\x97 \xc3\xb7 \xc3\xbf \xc3\x89t\xc3\xa9 \xc2\xa3" "5 \xc2\xb0" "C \xc2\xbd" },
	{ "&#8364; &#x20AC; &#X20ac; &#x1F600;", "\xe2\x82\xac \xe2\x82\xac \xe2\x82\xac \xf0\x9f\x98\x80" },
	{ "&#146;&#150;", "\xe2\x80\x99\xe2\x80\x93" }, /* windows-1252 range */
	{ "&#0; &#xD800; &#99999999999; &#x110000;",
	  "\xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd" },
	{ "&bogus; AT&T &amp &copy2 a&b &# &#x; &;", "&bogus; AT&T & &copy2 a&b &# &#x; &;" },
	{ "Text&#10;with&#9;ws&#13;", "Text with ws" },
	{ "soft&shy;hyphen&#1;&#127;", "softhyphen" },
	/* unicode passes through, invalid UTF-8 is repaired */
	{ "<p>Gr\xc3\xbc\xc3\x9f" "e \xe6\x97\xa5\xe6\x9c\xac &#x65E5;</p>",
	  "Gr\xc3\xbc\xc3\x9f" "e \xe6\x97\xa5\xe6\x9c\xac \xe6\x97\xa5" },
	{ "bad \xff\xfe bytes", "bad \xef\xbf\xbd\xef\xbf\xbd bytes" },
	{ "nbsp\xc2\xa0\xc2\xa0raw", "nbsp raw" },
	{ "\xef\xbb\xbf<p>bom</p>", "bom" },
	{ "ctl\x01\x02\x7f", "ctl" },
	/* headings and rules */
	{ "<h1>Title</h1><p>x</p><hr><h2>Sub</h2><h6>six</h6>",
	  "# Title\n\nx\n\n---\n\n## Sub\n\n###### six" },
	{ "<h3></h3><p>body</p>", "body" },
	{ "<h2 id=\"a\">  Spaced\n title </h2>", "## Spaced title" },
	/* lists */
	{ "<ul><li>a</li><li>b</li></ul>", "- a\n- b" },
	{ "<ul><li>a</li><li>b<ul><li>c</li><li>d<ol><li>e</li></ol></li></ul></li><li>f</li></ul>",
	  "- a\n- b\n  - c\n  - d\n    1. e\n- f" },
	{ "Intro<ol start=\"3\"><li>x<li>y</ol>After", "Intro\n\n3. x\n4. y\n\nAfter" },
	{ "<ol><li>one</li><li>two</li></ol><ol><li>again</li></ol>", "1. one\n2. two\n\n1. again" },
	{ "<ul><li><p>para one</p><p>para two</p></li><li></li><li>x<br>y</li></ul>",
	  "- para one\n\n  para two\n\n- x\n  y" },
	{ "<ul>\n  <li>\n    spaced\n  </li>\n</ul>", "- spaced" },
	{ "<li>orphan</li>text", "- orphan\ntext" },
	{ "<ol><li>a<p>para</p><ul><li>b</li></ul></li><li>c</li></ol>",
	  "1. a\n\n   para\n\n   - b\n2. c" },
	{ "<ol start=9><li>nine<br>more</li><li>ten<br>more</li></ol>",
	  "9. nine\n   more\n10. ten\n    more" },
	{ "<ul><li><h3>Heading item</h3></li></ul>", "- Heading item" },
	{ "<dl><dt>Term</dt><dd>Def</dd></dl>", "Term\nDef" },
	/* blockquotes */
	{ "<blockquote><p>quoted</p><p>two</p></blockquote>reply", "> quoted\n>\n> two\n\nreply" },
	{ "said<blockquote>a<blockquote>b</blockquote>c</blockquote>",
	  "said\n\n> a\n>\n> > b\n>\n> c" },
	{ "<blockquote><ul><li>one</li><li>two</li></ul></blockquote>", "> - one\n> - two" },
	{ "<ul><li>item<blockquote>quoted<br>more</blockquote>after</li></ul>",
	  "- item\n\n  > quoted\n  > more\n\n  after" },
	{ "<blockquote>q<ul><li>a<ul><li>b<blockquote>c</blockquote></li></ul></li></ul></blockquote>",
	  "> q\n>\n> - a\n>   - b\n>\n>     > c" },
	{ "<blockquote>open </ul>still quoted</blockquote>out", "> open still quoted\n\nout" },
	/* pre */
	{ "<pre>\n  code  here\n    more\n\n\nend\n</pre><p>after</p>",
	  "  code  here\n    more\n\n\nend\n\nafter" },
	{ "<p>before</p><pre><code>int x;\r\nreturn &lt;0&gt;;\n</code></pre>",
	  "before\n\nint x;\nreturn <0>;" },
	{ "<blockquote><pre>a\n\nb</pre></blockquote>", "> a\n>\n> b" },
	{ "x <code>inline</code> y", "x inline y" },
	/* tables */
	{ "<table><tr><th>Name</th><th>Qty</th></tr><tr><td>Apple</td><td>3</td></tr></table>",
	  "Name | Qty\nApple | 3" },
	{ "<p>x</p><table>\n<tbody><tr>\n<td> a </td>\n<td>b</td><td>c</td></tr></tbody></table><p>y</p>",
	  "x\n\na | b | c\n\ny" },
	{ "<td>orphan</td><td>cell</td>", "orphan | cell" },
	{ "<table><tr><td><table><tr><td>inner</td></tr></table></td><td>right</td></tr></table>",
	  "inner\n\nright" },
	/* links and images */
	{ "<a href=\"https://x.com\">https://x.com</a>", "https://x.com" },
	{ "see <a href=\"https://x.com/docs\">the docs</a>.", "see [the docs](https://x.com/docs)." },
	{ "<a href=\"https://y.com/a b(c)\">Y</a>", "[Y](https://y.com/a%20b%28c%29)" },
	{ "<a href=\"mailto:j@x.com\">j@x.com</a>", "j@x.com" },
	{ "<a href=\"mailto:j@x.com?subject=hi\">mail me</a>", "[mail me](mailto:j@x.com?subject=hi)" },
	{ "<a href=\"/p?a=1&amp;b=2\">q</a>", "[q](/p?a=1&b=2)" },
	{ "<a href='x.html'>it's</a> <a href=y.html>bare</a>", "[it's](x.html) [bare](y.html)" },
	{ "<a href=\"a.html\" title=\"y>z\">link</a>", "[link](a.html)" },
	{ "<a href=\"#top\">Top</a> <a href=\"javascript:void(0)\">JS</a> <a name=\"x\">anchor</a>",
	  "Top JS anchor" },
	{ "<a href=\"http://e.com\"><img src=\"l.png\"></a>end", "end" },
	{ "<a href=\"http://e.com\"><img src=\"l.png\" alt=\"Logo\"></a>", "[Logo](http://e.com)" },
	{ "<a href=\"http://a.com\">one <a href=\"http://b.com\">two</a>",
	  "[one](http://a.com) [two](http://b.com)" },
	{ "<a href=\"http://a.com\">unterminated link", "[unterminated link](http://a.com)" },
	{ "<ul><li><a href=\"u\">item</a></li></ul>", "- [item](u)" },
	{ "<img alt=\"pic &amp; co\" src=x.png>", "pic & co" },
	{ "<img src=\"only.png\">", "" },
	/* removed content */
	{ "<script>alert(\"<p>x</p>\")</script><style>p{}</style><!-- c --><p>visible</p>", "visible" },
	{ "<SCRIPT type=x>a</ScRiPt>b", "b" },
	{ "<html><head><title>T</title><meta charset=utf-8><style>x</style></head>"
	  "<body><p>x</p></body></html>", "x" },
	{ "<head><title>T</title></head>body text", "body text" },
	{ "<html><head><title>T</title>stray text<p>p</p>", "stray text\n\np" },
	{ "<!DOCTYPE html><p>a<!---->b<!-->c<!-- x -- y -->d</p>", "abcd" },
	{ "<![CDATA[x]]>y<?xml version=\"1.0\"?>z", "yz" },
	{ "<svg><text>drawn</text></svg>shown <svg/>too", "shown too" },
	/* malformed */
	{ "Hello <b", "Hello" },
	{ "<p>a</p><!-- unterminated", "a" },
	{ "before<script>never closed <p>x</p>", "before" },
	{ "x < y and 3>2 <", "x < y and 3>2 <" },
	{ "</p></ul></li></blockquote></pre></table></a>text", "text" },
	{ "<p unterminated=\"yes>broken</p> still", "broken\n\nstill" },
	{ "<p a=\"1\"b='2'c=3 d e/>ok", "ok" },
	{ "<div \"weird\" ='x' =>ok</div>", "ok" },
	{ "<a href=\"x\"", "" },
	{ "<>< >", "<>< >" },
	{ "</ bogus>x</>y", "xy" },
	{ "<averyveryveryverylongtagname attr=1>z", "z" },
};

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *got = html_to_text(cases[i].in, strlen(cases[i].in));

		CHECK_STR(got, cases[i].want);
		if (got && strcmp(got, cases[i].want))
			fprintf(stderr, "  case %zu: %s\n", i, cases[i].in);
		free(got);
	}
}

static void test_len_and_nul(void)
{
	static const char in[] = "<p>a\0b</p><p>cut here";
	char *got;

	/* embedded NUL bytes are dropped, len is honoured */
	got = html_to_text(in, sizeof(in) - 1);
	CHECK_STR(got, "ab\n\ncut here");
	free(got);
	got = html_to_text(in, 10);
	CHECK_STR(got, "ab");
	free(got);
	got = html_to_text("&amp;", 3); /* reference cut by len */
	CHECK_STR(got, "&am");
	free(got);
	got = html_to_text(NULL, 0);
	CHECK_STR(got, "");
	free(got);
}

/* Nesting far past the indentation limit stays linear and well formed. */
static void test_deep_nesting(void)
{
	struct strbuf sb = STRBUF_INIT;
	char *got;

	for (int i = 0; i < 20000; i++)
		strbuf_addstr(&sb, "<ul><li>x<blockquote><table><tr><td>y");
	got = html_to_text(sb.buf, sb.len);
	CHECK(got != NULL);
	if (got) {
		CHECK(strlen(got) < 40 * sb.len);
		CHECK(!strstr(got, "\n\n\n"));
		CHECK(util_utf8_valid(got, strlen(got)));
		CHECK(!strncmp(got, "- x\n\n  > y\n  > - x\n  >\n  >   > y", 32));
	}
	free(got);
	strbuf_release(&sb);
}

/* Inputs that would make a naive converter quadratic: unclosed elements
 * whose end tag is searched for, unclosed quotes. 200,000 repetitions
 * would take minutes if each one rescanned the rest of the input. */
static void test_hostile_linear(void)
{
	static const struct {
		const char *unit;
		const char *first;
	} units[] = {
		{ "<svg>x", "xxx" },
		{ "<title>t ", "t t t" },
		{ "<p a=\"x>y", "y\n\ny\n\ny" },
		{ "<p a='x>y", "y\n\ny\n\ny" },
		{ "<a href=\"u\">z", "[z](u)[z](u)" },
	};

	for (size_t u = 0; u < sizeof(units) / sizeof(*units); u++) {
		struct strbuf sb = STRBUF_INIT;
		char *got;

		for (int i = 0; i < 200000; i++)
			strbuf_addstr(&sb, units[u].unit);
		got = html_to_text(sb.buf, sb.len);
		CHECK(got != NULL);
		if (got)
			CHECK(!strncmp(got, units[u].first, strlen(units[u].first)));
		free(got);
		strbuf_release(&sb);
	}
}

/* Pseudo-random soup of markup fragments: never crashes, always valid
 * UTF-8, never leading/trailing blank lines or more than one blank line. */
static void test_soup(void)
{
	static const char *const frags[] = {
		"<", ">", "&", "#", "x", ";", "\"", "'", "=", "/", "p", "li", "ul", "ol",
		"a", " href=", "pre", "blockquote", "table", "td", "tr", "br", "!--",
		"-->", "script", "head", "amp", "#x1F600", "\n", " ", "\xc3", "\xa9",
		"\xff", "h1", "img alt=", "nbsp", "\r",
	};
	unsigned seed = 12345;
	int bad = 0;

	for (int it = 0; it < 20000; it++) {
		char buf[512];
		size_t n = 0;
		int k;

		seed = seed * 1103515245u + 12345u;
		k = (int)((seed >> 16) % 60);
		for (int i = 0; i < k; i++) {
			const char *f;
			size_t l;

			seed = seed * 1103515245u + 12345u;
			f = frags[(seed >> 16) % (sizeof(frags) / sizeof(*frags))];
			l = strlen(f);
			if (n + l >= sizeof(buf))
				break;
			memcpy(buf + n, f, l);
			n += l;
		}
		char *got = html_to_text(buf, n);
		size_t gl = got ? strlen(got) : 0;

		if (!got || !util_utf8_valid(got, gl) ||
		    (gl && (got[0] == '\n' || got[gl - 1] == '\n' || got[gl - 1] == ' ')) ||
		    strstr(got, "\n\n\n"))
			bad++;
		free(got);
		(void)html_looks_like(buf, n);
	}
	CHECK_INT(bad, 0);
}

static void test_looks_like(void)
{
	static const char *const yes[] = {
		"<p>x", "text <P class=a>x", "<div>", "a<br>b", "a<br/>b", "<BR />",
		"<html>", "<body bgcolor=x>", "<span>", "<a href=\"x\">", "<A  HREF=x>",
		"<ul>", "<table>", "<h1>", "<H6 id=a>", "<b>bold", "<strong>",
		"<em>", "<i>", "<img src=x>", "<!DOCTYPE html>", "<!doctype html>",
		"x</p>", "<ol>\n<li>",
	};
	static const char *const no[] = {
		"", "plain text", "a < b > c", "<pre>", "<b", "<bold>", "<a name=x>",
		"<abbr>", "<h7>", "<i >", "<embed>", "<p", "email <john@x.com>",
		"<paragraph>", "<divider>",
	};

	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++) {
		CHECK_INT(html_looks_like(yes[i], strlen(yes[i])), 1);
		if (!html_looks_like(yes[i], strlen(yes[i])))
			fprintf(stderr, "  yes case: %s\n", yes[i]);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++) {
		CHECK_INT(html_looks_like(no[i], strlen(no[i])), 0);
		if (html_looks_like(no[i], strlen(no[i])))
			fprintf(stderr, "  no case: %s\n", no[i]);
	}
	/* len is honoured */
	CHECK_INT(html_looks_like("abc<p>", 5), 0);
	CHECK_INT(html_looks_like(NULL, 0), 0);
}

int main(void)
{
	test_cases();
	test_len_and_nul();
	test_deep_nesting();
	test_hostile_linear();
	test_soup();
	test_looks_like();
	return check_done();
}
