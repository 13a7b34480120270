/* html_text.c - HTML to Markdown-flavoured text in a single pass.
 *
 * The input is scanned once. Text runs are decoded (character references)
 * and folded into words; tags only adjust a small layout state. Output is
 * written lazily: a block boundary records how many line breaks are
 * pending (nl, at most one blank line is ever written) and a list item or
 * heading records a pending marker ("- ", "2. ", "## "); both materialize
 * when the next visible content arrives. That gives "no leading or
 * trailing blank lines" for free and makes malformed markup (a missing
 * </li>, an unclosed <p>, stray end tags) harmless.
 *
 * Layout choices: p, headings, blockquote, pre, table, hr and top-level
 * lists are paragraphs (blank line around them); div, li, tr, dt/dd and
 * <br> are line breaks (<br> accumulates, so <br><br> is a blank line);
 * table cells are joined with " | "; &nbsp; folds like a space.
 *
 * Lists and blockquotes are containers kept on a stack (nest); every line
 * starts with one prefix per container, outermost first: "> " for a
 * quote, the item marker or its width in spaces for a list. So a nested
 * list indents two spaces per level and a quote inside a list item reads
 * "  > text". Nesting deeper than MAX_DEPTH still parses but the prefix
 * stops growing, so hostile input cannot make the output quadratic.
 */
#include "html_text.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "strbuf.h"
#include "util.h"

#define MAX_DEPTH 16

enum nest_kind {
	NEST_LIST = 1,
	NEST_QUOTE,
};

struct nest_level {
	enum nest_kind kind;
	bool ordered;   /* lists: <ol> */
	long count;     /* lists: the last item number */
	int width;      /* lists: width of the last item marker */
};

struct conv {
	struct strbuf out;
	int nl;             /* pending line breaks, 0..2 */
	bool space;         /* pending inter-word space */
	bool bol;           /* nothing written on the current line yet */
	bool sep;           /* pending table cell separator */
	int pre;            /* <pre> depth */
	bool pre_fresh;     /* just after <pre>: one newline is dropped */
	int pre_nl;         /* pending newlines inside <pre> */
	int nest;           /* container depth (lists, quotes) */
	int line_nest;      /* containers prefixed to the current line */
	struct nest_level lv[MAX_DEPTH]; /* the outermost MAX_DEPTH of them */
	char marker[64];    /* pending item or heading marker */
	int tables;
	int cells[MAX_DEPTH + 1]; /* cells so far in the current row */
	bool in_head;
	/* Searches that failed stay failed for later positions: remembering
	 * them keeps hostile input (thousands of unclosed <svg> or unclosed
	 * quotes) linear instead of quadratic. */
	const char *no_dquote, *no_squote; /* no '"' / '\'' from here on */
	unsigned no_end_tag;               /* bit per soft_skip_names entry */
	bool in_link;
	bool link_started;
	size_t link_start;  /* output offset of the link text */
	char *href;
};

/* ---- character references ---- */

struct entity {
	const char *name;
	uint32_t cp;
};

/* U+00A0 .. U+00FF in order. */
static const char *const latin1_names[96] = {
	"nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect",
	"uml", "copy", "ordf", "laquo", "not", "shy", "reg", "macr",
	"deg", "plusmn", "sup2", "sup3", "acute", "micro", "para", "middot",
	"cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
	"Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil",
	"Egrave", "Eacute", "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml",
	"ETH", "Ntilde", "Ograve", "Oacute", "Ocirc", "Otilde", "Ouml", "times",
	"Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute", "THORN", "szlig",
	"agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
	"egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml",
	"eth", "ntilde", "ograve", "oacute", "ocirc", "otilde", "ouml", "divide",
	"oslash", "ugrave", "uacute", "ucirc", "uuml", "yacute", "thorn", "yuml",
};

static const struct entity entities[] = {
	{ "quot", 34 }, { "amp", 38 }, { "apos", 39 }, { "lt", 60 }, { "gt", 62 },
	{ "QUOT", 34 }, { "AMP", 38 }, { "LT", 60 }, { "GT", 62 },
	{ "COPY", 169 }, { "REG", 174 }, { "TRADE", 8482 },
	{ "Tab", 9 }, { "NewLine", 10 }, { "excl", 33 }, { "num", 35 },
	{ "dollar", 36 }, { "percnt", 37 }, { "lpar", 40 }, { "rpar", 41 },
	{ "ast", 42 }, { "plus", 43 }, { "comma", 44 }, { "period", 46 },
	{ "sol", 47 }, { "colon", 58 }, { "semi", 59 }, { "equals", 61 },
	{ "quest", 63 }, { "commat", 64 }, { "lsqb", 91 }, { "bsol", 92 },
	{ "rsqb", 93 }, { "Hat", 94 }, { "lowbar", 95 }, { "grave", 96 },
	{ "lcub", 123 }, { "verbar", 124 }, { "vert", 124 }, { "rcub", 125 },
	{ "half", 189 }, { "centerdot", 183 },
	{ "OElig", 338 }, { "oelig", 339 }, { "Scaron", 352 }, { "scaron", 353 },
	{ "Yuml", 376 }, { "fnof", 402 }, { "circ", 710 }, { "tilde", 732 },
	{ "Alpha", 913 }, { "Beta", 914 }, { "Gamma", 915 }, { "Delta", 916 },
	{ "Epsilon", 917 }, { "Zeta", 918 }, { "Eta", 919 }, { "Theta", 920 },
	{ "Iota", 921 }, { "Kappa", 922 }, { "Lambda", 923 }, { "Mu", 924 },
	{ "Nu", 925 }, { "Xi", 926 }, { "Omicron", 927 }, { "Pi", 928 },
	{ "Rho", 929 }, { "Sigma", 931 }, { "Tau", 932 }, { "Upsilon", 933 },
	{ "Phi", 934 }, { "Chi", 935 }, { "Psi", 936 }, { "Omega", 937 },
	{ "alpha", 945 }, { "beta", 946 }, { "gamma", 947 }, { "delta", 948 },
	{ "epsilon", 949 }, { "zeta", 950 }, { "eta", 951 }, { "theta", 952 },
	{ "iota", 953 }, { "kappa", 954 }, { "lambda", 955 }, { "mu", 956 },
	{ "nu", 957 }, { "xi", 958 }, { "omicron", 959 }, { "pi", 960 },
	{ "rho", 961 }, { "sigmaf", 962 }, { "sigma", 963 }, { "tau", 964 },
	{ "upsilon", 965 }, { "phi", 966 }, { "chi", 967 }, { "psi", 968 },
	{ "omega", 969 }, { "thetasym", 977 }, { "upsih", 978 }, { "piv", 982 },
	{ "ensp", 8194 }, { "emsp", 8195 }, { "thinsp", 8201 }, { "zwnj", 8204 },
	{ "zwj", 8205 }, { "lrm", 8206 }, { "rlm", 8207 }, { "hyphen", 8208 },
	{ "dash", 8208 }, { "ndash", 8211 }, { "mdash", 8212 }, { "horbar", 8213 },
	{ "lsquo", 8216 }, { "rsquo", 8217 }, { "rsquor", 8217 }, { "sbquo", 8218 },
	{ "ldquo", 8220 }, { "rdquo", 8221 }, { "rdquor", 8221 }, { "bdquo", 8222 },
	{ "dagger", 8224 }, { "Dagger", 8225 }, { "bull", 8226 }, { "bullet", 8226 },
	{ "hellip", 8230 }, { "mldr", 8230 }, { "permil", 8240 }, { "prime", 8242 },
	{ "Prime", 8243 }, { "lsaquo", 8249 }, { "rsaquo", 8250 }, { "oline", 8254 },
	{ "frasl", 8260 }, { "euro", 8364 }, { "numero", 8470 }, { "trade", 8482 },
	{ "larr", 8592 }, { "uarr", 8593 }, { "rarr", 8594 }, { "darr", 8595 },
	{ "harr", 8596 }, { "crarr", 8629 }, { "lArr", 8656 }, { "uArr", 8657 },
	{ "rArr", 8658 }, { "dArr", 8659 }, { "hArr", 8660 }, { "forall", 8704 },
	{ "part", 8706 }, { "exist", 8707 }, { "empty", 8709 }, { "nabla", 8711 },
	{ "isin", 8712 }, { "notin", 8713 }, { "ni", 8715 }, { "prod", 8719 },
	{ "sum", 8721 }, { "minus", 8722 }, { "lowast", 8727 }, { "radic", 8730 },
	{ "prop", 8733 }, { "infin", 8734 }, { "ang", 8736 }, { "and", 8743 },
	{ "or", 8744 }, { "cap", 8745 }, { "cup", 8746 }, { "int", 8747 },
	{ "there4", 8756 }, { "sim", 8764 }, { "cong", 8773 }, { "asymp", 8776 },
	{ "ne", 8800 }, { "equiv", 8801 }, { "le", 8804 }, { "ge", 8805 },
	{ "sub", 8834 }, { "sup", 8835 }, { "nsub", 8836 }, { "sube", 8838 },
	{ "supe", 8839 }, { "oplus", 8853 }, { "otimes", 8855 }, { "perp", 8869 },
	{ "sdot", 8901 }, { "lceil", 8968 }, { "rceil", 8969 }, { "lfloor", 8970 },
	{ "rfloor", 8971 }, { "lang", 10216 }, { "rang", 10217 }, { "loz", 9674 },
	{ "starf", 9733 }, { "star", 9734 }, { "spades", 9824 }, { "clubs", 9827 },
	{ "hearts", 9829 }, { "diams", 9830 }, { "check", 10003 }, { "cross", 10007 },
};

/* Names browsers also accept without the final ';'. */
static const char *const legacy_names[] = {
	"amp", "lt", "gt", "quot", "nbsp", "copy", "reg",
	"AMP", "LT", "GT", "QUOT", "COPY", "REG",
};

/* Windows-1252 for numeric references in 0x80..0x9f, as browsers do;
 * 0 marks the undefined positions (dropped like other controls). */
static const uint16_t cp1252[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
};

static bool name_is(const char *name, const char *s, size_t n)
{
	return strlen(name) == n && !memcmp(name, s, n);
}

static bool entity_lookup(const char *s, size_t n, bool legacy_only, uint32_t *cp)
{
	if (legacy_only) {
		for (size_t i = 0; i < sizeof(legacy_names) / sizeof(*legacy_names); i++)
			if (name_is(legacy_names[i], s, n))
				return entity_lookup(s, n, false, cp);
		return false;
	}
	for (size_t i = 0; i < 96; i++) {
		if (name_is(latin1_names[i], s, n)) {
			*cp = 0xa0 + (uint32_t)i;
			return true;
		}
	}
	for (size_t i = 0; i < sizeof(entities) / sizeof(*entities); i++) {
		if (name_is(entities[i].name, s, n)) {
			*cp = entities[i].cp;
			return true;
		}
	}
	return false;
}

/* Decodes the character reference starting at p (an '&'). Returns the
 * bytes consumed and sets *cp, or 0 when p does not start a reference
 * (the '&' is then literal). Bad numeric values become U+FFFD. */
static size_t entity_decode(const char *p, const char *end, uint32_t *cp)
{
	const char *q = p + 1;

	if (q < end && *q == '#') {
		bool hex = false;
		uint32_t v = 0;
		size_t digits = 0;

		q++;
		if (q < end && (*q == 'x' || *q == 'X')) {
			hex = true;
			q++;
		}
		for (; q < end; q++, digits++) {
			unsigned char c = (unsigned char)*q;
			uint32_t d;

			if (isdigit(c))
				d = c - '0';
			else if (hex && isxdigit(c))
				d = (uint32_t)(tolower(c) - 'a' + 10);
			else
				break;
			v = v * (hex ? 16 : 10) + d;
			if (v > 0x10ffff)
				v = 0x110000; /* saturate: stays invalid */
		}
		if (!digits)
			return 0;
		if (q < end && *q == ';')
			q++;
		if (v == 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
			v = 0xfffd;
		else if (v >= 0x80 && v <= 0x9f)
			v = cp1252[v - 0x80];
		*cp = v;
		return (size_t)(q - p);
	}
	while (q < end && q - p <= 32 && isalnum((unsigned char)*q))
		q++;
	if (q == p + 1 || q - p > 32)
		return 0;
	if (q < end && *q == ';') {
		if (!entity_lookup(p + 1, (size_t)(q - p - 1), false, cp))
			return 0;
		return (size_t)(q + 1 - p);
	}
	if (q < end && *q == '=')
		return 0;
	if (!entity_lookup(p + 1, (size_t)(q - p - 1), true, cp))
		return 0;
	return (size_t)(q - p);
}

/* ---- output ---- */

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int nest_top(const struct conv *c)
{
	return c->nest > MAX_DEPTH ? MAX_DEPTH : c->nest;
}

/* The innermost list container, or NULL. */
static struct nest_level *nest_list(struct conv *c)
{
	for (int i = nest_top(c) - 1; i >= 0; i--)
		if (c->lv[i].kind == NEST_LIST)
			return &c->lv[i];
	return NULL;
}

static struct nest_level *nest_push(struct conv *c, enum nest_kind kind)
{
	struct nest_level *l = NULL;

	if (c->nest < MAX_DEPTH) {
		l = &c->lv[c->nest];
		memset(l, 0, sizeof(*l));
		l->kind = kind;
		l->width = 2;
	}
	c->nest++;
	return l;
}

/* Closes the innermost container of this kind and any opened inside it.
 * Returns false for a stray end tag, which is ignored. */
static bool nest_pop(struct conv *c, enum nest_kind kind)
{
	if (c->nest > MAX_DEPTH) {
		c->nest--;
		return true;
	}
	for (int i = c->nest - 1; i >= 0; i--) {
		if (c->lv[i].kind == kind) {
			c->nest = i;
			return true;
		}
	}
	return false;
}

/* Writes the line prefix for the first depth containers. A content line
 * puts the pending item marker at the innermost list; a blank line gets
 * the prefix without trailing spaces. */
static void add_prefix(struct conv *c, int depth, bool blank)
{
	size_t start = c->out.len;
	int mi = -1;

	if (depth > MAX_DEPTH)
		depth = MAX_DEPTH;
	for (int i = depth - 1; i >= 0 && !blank && c->marker[0] && c->marker[0] != '#'; i--) {
		if (c->lv[i].kind == NEST_LIST) {
			mi = i;
			break;
		}
	}
	for (int i = 0; i < depth; i++) {
		if (c->lv[i].kind == NEST_QUOTE) {
			strbuf_addstr(&c->out, "> ");
		} else if (i == mi) {
			strbuf_addstr(&c->out, c->marker);
			c->lv[i].width = (int)strlen(c->marker);
			c->marker[0] = 0;
		} else {
			strbuf_addf(&c->out, "%*s", c->lv[i].width, "");
		}
	}
	if (!blank && c->marker[0]) {
		strbuf_addstr(&c->out, c->marker);
		c->marker[0] = 0;
	}
	while (blank && c->out.len > start && c->out.buf[c->out.len - 1] == ' ')
		c->out.buf[--c->out.len] = 0;
}

static void want_nl(struct conv *c, int n)
{
	if (c->nl < n)
		c->nl = n;
}

/* Writes visible content, materializing pending breaks, prefixes and
 * separators first. */
static void put_content(struct conv *c, const char *s, size_t n)
{
	if (c->out.len && c->nl) {
		strbuf_addch(&c->out, '\n');
		if (c->nl > 1) {
			add_prefix(c, c->line_nest < c->nest ? c->line_nest : c->nest, true);
			strbuf_addch(&c->out, '\n');
		}
		c->bol = true;
	}
	c->nl = 0;
	if (c->pre_nl) {
		if (c->out.len) {
			for (int i = 0; i < c->pre_nl; i++) {
				if (i)
					add_prefix(c, c->nest, true);
				strbuf_addch(&c->out, '\n');
			}
			c->bol = true;
		}
		c->pre_nl = 0;
	}
	if (c->bol) {
		add_prefix(c, c->nest, false);
		c->line_nest = c->nest;
		c->bol = false;
	} else if (c->sep) {
		strbuf_addstr(&c->out, " | ");
	} else if (c->space) {
		strbuf_addch(&c->out, ' ');
	}
	c->space = false;
	c->sep = false;
	if (c->in_link && !c->link_started) {
		c->link_started = true;
		c->link_start = c->out.len;
	}
	strbuf_add(&c->out, s, n);
}

static void put_space(struct conv *c, unsigned char ch)
{
	if (!c->pre) {
		c->space = true;
		return;
	}
	if (ch == '\n') {
		c->pre_nl++;
	} else {
		char s = ch == '\t' ? '\t' : ' ';

		put_content(c, &s, 1);
	}
}

static void put_cp(struct conv *c, uint32_t cp)
{
	char buf[4];
	int n;

	if (cp == 0xa0 || (cp < 0x80 && is_space((unsigned char)cp))) {
		put_space(c, cp == '\r' ? '\n' : (unsigned char)cp);
		return;
	}
	if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) || cp == 0xad)
		return;
	n = util_utf8_encode(cp, buf);
	if (n)
		put_content(c, buf, (size_t)n);
}

/* Emits the text run [p, end): references decoded, white space folded
 * (kept in <pre>), control characters dropped. */
static void put_text(struct conv *c, const char *p, const char *end)
{
	if (c->pre && c->pre_fresh && p < end) {
		c->pre_fresh = false;
		if (*p == '\r')
			p++;
		if (p < end && *p == '\n')
			p++;
	}
	while (p < end) {
		unsigned char ch = (unsigned char)*p;
		const char *q;

		if (ch == '&') {
			uint32_t cp;
			size_t n = entity_decode(p, end, &cp);

			if (n) {
				put_cp(c, cp);
				p += n;
			} else {
				put_content(c, "&", 1);
				p++;
			}
			continue;
		}
		if (is_space(ch)) {
			if (ch == '\r' && p + 1 < end && p[1] == '\n')
				p++;
			put_space(c, ch == '\r' ? '\n' : ch);
			p++;
			continue;
		}
		if (ch == 0xc2 && p + 1 < end && (unsigned char)p[1] == 0xa0) {
			put_space(c, ' ');
			p += 2;
			continue;
		}
		if (ch < 0x20 || ch == 0x7f) {
			p++;
			continue;
		}
		for (q = p + 1; q < end; q++) {
			unsigned char d = (unsigned char)*q;

			if (d == '&' || d < 0x21 || d == 0x7f ||
			    (d == 0xc2 && q + 1 < end && (unsigned char)q[1] == 0xa0))
				break;
		}
		put_content(c, p, (size_t)(q - p));
		p = q;
	}
}

/* Appends the decoded attribute value [p, end) to sb, dropping tabs and
 * line breaks (as browsers do for URLs). */
static void decode_attr(struct strbuf *sb, const char *p, const char *end)
{
	while (p < end) {
		uint32_t cp;
		size_t n;
		char buf[4];

		if (*p == '&' && (n = entity_decode(p, end, &cp))) {
			int k = cp < 0x20 ? 0 : util_utf8_encode(cp, buf);

			strbuf_add(sb, buf, (size_t)k);
			p += n;
			continue;
		}
		if ((unsigned char)*p >= 0x20 && *p != 0x7f)
			strbuf_addch(sb, *p);
		p++;
	}
}

static bool starts_with_ci(const char *s, const char *prefix)
{
	return !strncasecmp(s, prefix, strlen(prefix));
}

static void link_close(struct conv *c)
{
	char *href = c->href;
	const char *text, *addr;
	size_t tlen, alen;

	if (!c->in_link)
		return;
	c->in_link = false;
	c->href = NULL;
	if (!href || !c->link_started || c->out.err)
		goto out;
	text = c->out.buf + c->link_start;
	tlen = c->out.len - c->link_start;
	addr = href;
	alen = strlen(href);
	if (starts_with_ci(href, "mailto:")) {
		addr += 7;
		alen = strcspn(addr, "?");
	}
	if ((tlen == strlen(href) && !memcmp(text, href, tlen)) ||
	    (tlen == alen && !memcmp(text, addr, tlen)))
		goto out; /* the text is the url: keep it bare */
	if (strbuf_grow(&c->out, 1))
		goto out;
	memmove(c->out.buf + c->link_start + 1, c->out.buf + c->link_start, tlen + 1);
	c->out.buf[c->link_start] = '[';
	c->out.len++;
	strbuf_addstr(&c->out, "](");
	for (const char *s = href; *s; s++) {
		if (*s == ' ')
			strbuf_addstr(&c->out, "%20");
		else if (*s == '(')
			strbuf_addstr(&c->out, "%28");
		else if (*s == ')')
			strbuf_addstr(&c->out, "%29");
		else
			strbuf_addch(&c->out, *s);
	}
	strbuf_addch(&c->out, ')');
out:
	free(href);
}

static void link_open(struct conv *c, const char *v, const char *vend)
{
	struct strbuf sb = STRBUF_INIT;
	char *href;

	link_close(c);
	if (!v)
		return;
	decode_attr(&sb, v, vend);
	href = util_strtrim(sb.buf ? sb.buf : "", sb.len);
	strbuf_release(&sb);
	if (!href)
		return;
	/* in-page anchors and scripts carry no destination worth keeping */
	if (!*href || *href == '#' || starts_with_ci(href, "javascript:") ||
	    starts_with_ci(href, "data:")) {
		free(href);
		return;
	}
	c->href = href;
	c->in_link = true;
	c->link_started = false;
}

/* ---- tags ---- */

enum tag_kind {
	T_OTHER,
	T_PARA,    /* paragraph-level block */
	T_LINE,    /* line-level block */
	T_BR,
	T_HR,
	T_HEADING,
	T_LIST,
	T_LI,
	T_QUOTE,
	T_PRE,
	T_TABLE,
	T_TR,
	T_CELL,
	T_A,
	T_IMG,
	T_HEAD,
	T_BODY,
	T_HEADONLY, /* meta, link, base: allowed in <head> */
	T_SKIP,     /* script, style: contents dropped up to the end tag */
	T_SKIPSOFT, /* title, template, svg...: dropped only when closed */
};

static const struct {
	const char *name;
	enum tag_kind kind;
} tags[] = {
	{ "p", T_PARA }, { "blockquote", T_QUOTE }, { "pre", T_PRE },
	{ "listing", T_PRE }, { "xmp", T_PRE }, { "plaintext", T_PRE },
	{ "table", T_TABLE }, { "hr", T_HR }, { "ul", T_LIST }, { "ol", T_LIST },
	{ "menu", T_LIST }, { "dl", T_PARA }, { "address", T_PARA },
	{ "figure", T_PARA }, { "section", T_PARA }, { "article", T_PARA },
	{ "header", T_PARA }, { "footer", T_PARA }, { "aside", T_PARA },
	{ "nav", T_PARA }, { "main", T_PARA }, { "form", T_PARA },
	{ "fieldset", T_PARA }, { "details", T_PARA },
	{ "div", T_LINE }, { "dt", T_LINE }, { "dd", T_LINE }, { "caption", T_LINE },
	{ "center", T_LINE }, { "figcaption", T_LINE }, { "summary", T_LINE },
	{ "legend", T_LINE }, { "option", T_LINE }, { "tbody", T_OTHER },
	{ "br", T_BR }, { "li", T_LI }, { "tr", T_TR }, { "td", T_CELL },
	{ "th", T_CELL }, { "a", T_A }, { "img", T_IMG }, { "head", T_HEAD },
	{ "body", T_BODY }, { "html", T_BODY }, { "meta", T_HEADONLY },
	{ "link", T_HEADONLY }, { "base", T_HEADONLY },
	{ "script", T_SKIP }, { "style", T_SKIP },
	{ "title", T_SKIPSOFT }, { "template", T_SKIPSOFT }, { "svg", T_SKIPSOFT },
	{ "math", T_SKIPSOFT }, { "iframe", T_SKIPSOFT }, { "object", T_SKIPSOFT },
	{ "noframes", T_SKIPSOFT }, { "textarea", T_OTHER },
};

struct tag {
	char name[16];     /* lower case; "" when too long */
	bool closing;
	bool self_closing;
	const char *href, *href_end;
	const char *alt, *alt_end;
	const char *start, *start_end;
};

/* T_SKIPSOFT elements, for conv.no_end_tag. */
static const char *const soft_skip_names[] = {
	"title", "template", "svg", "math", "iframe", "object", "noframes",
};

static unsigned soft_skip_bit(const char *name)
{
	for (unsigned i = 0; i < sizeof(soft_skip_names) / sizeof(*soft_skip_names); i++)
		if (!strcmp(soft_skip_names[i], name))
			return 1u << i;
	return 0;
}

static enum tag_kind tag_kind(const char *name)
{
	if (name[0] == 'h' && name[1] >= '1' && name[1] <= '6' && !name[2])
		return T_HEADING;
	for (size_t i = 0; i < sizeof(tags) / sizeof(*tags); i++)
		if (!strcmp(tags[i].name, name))
			return tags[i].kind;
	return T_OTHER;
}

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && is_space((unsigned char)*p))
		p++;
	return p;
}

/* Parses attributes from p (just after the tag name) to the closing '>'.
 * Quoted values may contain '>'; an unterminated quote ends at the next
 * '>'. Returns the position after '>', or NULL when the input ends first. */
static const char *parse_attrs(struct conv *c, struct tag *t, const char *p,
			       const char *end)
{
	for (;;) {
		const char *name, *name_end, *v = NULL, *v_end = NULL;

		while (p < end && (is_space((unsigned char)*p) || *p == '/')) {
			t->self_closing = *p == '/';
			p++;
		}
		if (p >= end)
			return NULL;
		if (*p == '>')
			return p + 1;
		t->self_closing = false;
		name = p++;
		while (p < end && !is_space((unsigned char)*p) && *p != '>' && *p != '/' &&
		       *p != '=')
			p++;
		name_end = p;
		p = skip_ws(p, end);
		if (p < end && *p == '=') {
			p = skip_ws(p + 1, end);
			if (p >= end)
				return NULL;
			if (*p == '"' || *p == '\'') {
				const char **none = *p == '"' ? &c->no_dquote : &c->no_squote;
				const char *q = NULL;

				if (!*none || p + 1 < *none) {
					q = memchr(p + 1, *p, (size_t)(end - p - 1));
					if (!q)
						*none = p + 1;
				}
				v = p + 1;
				if (q) {
					v_end = q;
					p = q + 1;
				} else {
					q = memchr(v, '>', (size_t)(end - v));
					v_end = q ? q : end;
					p = v_end;
				}
			} else {
				v = p;
				while (p < end && !is_space((unsigned char)*p) && *p != '>')
					p++;
				v_end = p;
			}
		}
		if (!v)
			continue;
		if (name_end - name == 4 && !strncasecmp(name, "href", 4)) {
			t->href = v;
			t->href_end = v_end;
		} else if (name_end - name == 3 && !strncasecmp(name, "alt", 3)) {
			t->alt = v;
			t->alt_end = v_end;
		} else if (name_end - name == 5 && !strncasecmp(name, "start", 5)) {
			t->start = v;
			t->start_end = v_end;
		}
	}
}

/* Finds "</name" (case-insensitive, followed by a non-name character) in
 * [p, end); returns its position or NULL. */
static const char *find_end_tag(const char *p, const char *end, const char *name)
{
	size_t n = strlen(name);

	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p));

		if (!lt)
			return NULL;
		if ((size_t)(end - lt) >= n + 2 && lt[1] == '/' &&
		    !strncasecmp(lt + 2, name, n) &&
		    ((size_t)(end - lt) == n + 2 || !isalnum((unsigned char)lt[n + 2])))
			return lt;
		p = lt + 1;
	}
	return NULL;
}

static int *row_cells(struct conv *c)
{
	return &c->cells[c->tables > MAX_DEPTH ? MAX_DEPTH : c->tables];
}

static void list_item(struct conv *c)
{
	struct nest_level *l = nest_list(c);

	want_nl(c, 1);
	if (l && l->ordered) {
		if (l->count < 999999999)
			l->count++;
		snprintf(c->marker, sizeof(c->marker), "%ld. ", l->count);
	} else {
		strcpy(c->marker, "- ");
	}
}

static void list_open(struct conv *c, const struct tag *t)
{
	struct nest_level *l;

	want_nl(c, nest_list(c) ? 1 : 2);
	l = nest_push(c, NEST_LIST);
	if (!l)
		return;
	l->ordered = !strcmp(t->name, "ol");
	if (l->ordered && t->start) {
		char buf[16];
		size_t n = (size_t)(t->start_end - t->start);
		long v;

		if (n >= sizeof(buf))
			n = sizeof(buf) - 1;
		memcpy(buf, t->start, n);
		buf[n] = 0;
		v = strtol(buf, NULL, 10);
		if (v > 0 && v < 999999999)
			l->count = v - 1;
	}
}

static void tag_open(struct conv *c, const struct tag *t, enum tag_kind k)
{
	switch (k) {
	case T_PARA:
		want_nl(c, 2);
		break;
	case T_LINE:
		want_nl(c, 1);
		break;
	case T_BR:
		if (c->nl < 2)
			c->nl++;
		break;
	case T_HR:
		want_nl(c, 2);
		put_content(c, "---", 3);
		want_nl(c, 2);
		break;
	case T_HEADING:
		want_nl(c, 2);
		if (!c->marker[0]) {
			int level = t->name[1] - '0';

			memset(c->marker, '#', (size_t)level);
			c->marker[level] = ' ';
			c->marker[level + 1] = 0;
		}
		break;
	case T_LIST:
		list_open(c, t);
		break;
	case T_LI:
		list_item(c);
		break;
	case T_QUOTE:
		want_nl(c, 2);
		nest_push(c, NEST_QUOTE);
		break;
	case T_PRE:
		want_nl(c, 2);
		c->pre++;
		c->pre_fresh = true;
		break;
	case T_TABLE:
		want_nl(c, 2);
		c->tables++;
		*row_cells(c) = 0;
		break;
	case T_TR:
		want_nl(c, 1);
		*row_cells(c) = 0;
		break;
	case T_CELL:
		if ((*row_cells(c))++ > 0 && !c->nl && !c->bol)
			c->sep = true;
		break;
	case T_A:
		link_open(c, t->href, t->href_end);
		break;
	case T_IMG:
		if (t->alt)
			put_text(c, t->alt, t->alt_end);
		break;
	case T_HEAD:
		c->in_head = true;
		break;
	default:
		break;
	}
}

static void tag_close(struct conv *c, enum tag_kind k)
{
	switch (k) {
	case T_PARA:
		want_nl(c, 2);
		break;
	case T_LINE:
		want_nl(c, 1);
		break;
	case T_BR: /* </br> acts as <br> in browsers */
		if (c->nl < 2)
			c->nl++;
		break;
	case T_HEADING:
		want_nl(c, 2);
		if (c->marker[0] == '#')
			c->marker[0] = 0; /* empty heading */
		break;
	case T_LIST:
		if (!nest_pop(c, NEST_LIST))
			break;
		want_nl(c, nest_list(c) ? 1 : 2);
		c->marker[0] = 0;
		break;
	case T_LI:
		want_nl(c, 1);
		c->marker[0] = 0;
		break;
	case T_QUOTE:
		if (nest_pop(c, NEST_QUOTE))
			want_nl(c, 2);
		break;
	case T_PRE:
		if (c->pre > 0)
			c->pre--;
		c->pre_nl = 0;
		c->pre_fresh = false;
		want_nl(c, 2);
		break;
	case T_TABLE:
		if (c->tables > 0)
			c->tables--;
		want_nl(c, 2);
		break;
	case T_TR:
		want_nl(c, 1);
		*row_cells(c) = 0;
		break;
	case T_A:
		link_close(c);
		break;
	case T_HEAD:
		c->in_head = false;
		break;
	default:
		break;
	}
}

/* Handles the markup starting at p (a '<'); returns where to continue. */
static const char *parse_markup(struct conv *c, const char *p, const char *end)
{
	const char *q = p + 1, *after, *e;
	struct tag t;
	enum tag_kind k;
	size_t n = 0;

	memset(&t, 0, sizeof(t));
	if (q >= end) {
		put_content(c, "<", 1);
		return end;
	}
	if (*q == '!' || *q == '?') {
		if (end - q >= 3 && q[1] == '-' && q[2] == '-') {
			/* comment; "<!-->" and "<!--->" are empty comments */
			const char *s = q + 3;

			if (s < end && *s == '>')
				return s + 1;
			if (end - s >= 2 && s[0] == '-' && s[1] == '>')
				return s + 2;
			for (; s + 2 < end; s++)
				if (s[0] == '-' && s[1] == '-' && s[2] == '>')
					return s + 3;
			return end;
		}
		e = memchr(q, '>', (size_t)(end - q));
		return e ? e + 1 : end;
	}
	if (*q == '/') {
		t.closing = true;
		q++;
		if (q < end && !isalpha((unsigned char)*q)) {
			/* "</>" is ignored, "</ x>" is a bogus comment */
			e = memchr(q, '>', (size_t)(end - q));
			return e ? e + 1 : end;
		}
	}
	if (q >= end)
		return end;
	if (!isalpha((unsigned char)*q)) {
		put_content(c, "<", 1);
		return p + 1;
	}
	for (; q < end && (isalnum((unsigned char)*q) || *q == '-' || *q == ':'); q++, n++)
		if (n < sizeof(t.name) - 1)
			t.name[n] = (char)tolower((unsigned char)*q);
	if (n >= sizeof(t.name))
		t.name[0] = 0;
	after = parse_attrs(c, &t, q, end);
	if (!after)
		return end; /* unterminated tag at the end of input: dropped */
	c->pre_fresh = c->pre_fresh && !strcmp(t.name, "code");
	k = t.name[0] ? tag_kind(t.name) : T_OTHER;
	if (c->in_head) {
		if (t.closing && (k == T_HEAD || k == T_BODY))
			c->in_head = false;
		else if (!t.closing && k != T_HEAD && k != T_HEADONLY && k != T_SKIP &&
			 k != T_SKIPSOFT)
			c->in_head = false; /* anything else implies <body> */
		if (c->in_head && k != T_SKIP && k != T_SKIPSOFT)
			return after;
	}
	if (t.closing) {
		tag_close(c, k);
		return after;
	}
	if (k == T_SKIP)
		return (e = find_end_tag(after, end, t.name)) ? e : end;
	if (k == T_SKIPSOFT && !t.self_closing) {
		unsigned bit = soft_skip_bit(t.name);

		if (c->no_end_tag & bit)
			return after;
		if ((e = find_end_tag(after, end, t.name)))
			return e;
		c->no_end_tag |= bit;
		return after;
	}
	tag_open(c, &t, k);
	return after;
}

char *html_to_text(const char *html, size_t len)
{
	struct conv c;
	const char *p = html ? html : "", *end = p + (html ? len : 0);
	char *res;
	size_t n;

	memset(&c, 0, sizeof(c));
	strbuf_init(&c.out);
	c.bol = true;
	if (end - p >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p));
		const char *stop = lt ? lt : end;

		if (c.in_head) {
			const char *s = skip_ws(p, stop);

			if (s < stop)
				c.in_head = false; /* stray text ends <head> */
		}
		if (!c.in_head)
			put_text(&c, p, stop);
		if (!lt)
			break;
		p = parse_markup(&c, lt, end);
	}
	link_close(&c);
	strbuf_rtrim(&c.out);
	if (!c.out.err && !c.out.buf)
		strbuf_addstr(&c.out, "");
	res = strbuf_detach(&c.out, &n);
	if (res && !util_utf8_valid(res, n)) {
		char *clean = util_utf8_sanitize(res, n);

		free(res);
		res = clean;
	}
	return res;
}

/* ---- detection ---- */

static bool tag_at(const char *p, const char *end, const char *name, bool exact)
{
	size_t n = strlen(name);

	if ((size_t)(end - p) < n || strncasecmp(p, name, n))
		return false;
	if (exact)
		return true;
	if ((size_t)(end - p) == n)
		return false;
	return p[n] == '>' || p[n] == '/' || is_space((unsigned char)p[n]);
}

int html_looks_like(const char *s, size_t len)
{
	static const char *const words[] = {
		"<p", "<div", "<br", "<html", "<body", "<head", "<span", "<ul",
		"<ol", "<table", "<strong", "<img", "<blockquote",
		"<h1", "<h2", "<h3", "<h4", "<h5", "<h6",
	};
	static const char *const exact[] = {
		"<b>", "<em>", "<i>", "<!doctype", "</p>", "</div>",
	};
	const char *p = s, *end = s + (s ? len : 0);

	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p));

		if (!lt)
			break;
		for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
			if (tag_at(lt, end, words[i], false))
				return 1;
		for (size_t i = 0; i < sizeof(exact) / sizeof(*exact); i++)
			if (tag_at(lt, end, exact[i], true))
				return 1;
		if (tag_at(lt, end, "<a", false)) {
			const char *q = skip_ws(lt + 2, end);

			if ((size_t)(end - q) >= 4 && !strncasecmp(q, "href", 4))
				return 1;
		}
		p = lt + 1;
	}
	return 0;
}
