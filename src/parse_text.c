/* parse_text.c - a plain .txt, Markdown or HTML file as one ticket or one
 * knowledge-base article (source "file").
 *
 * The kind is taken from the extension (.md/.markdown, .html/.htm);
 * anything else is HTML when html_looks_like() says so, plain text
 * otherwise. Markdown files are never sniffed: inline HTML (a <br>) is
 * legal Markdown and converting it would fold the author's line breaks.
 * Text is normalized (BOM dropped, CR LF and CR to LF, leading blank
 * lines and trailing white space removed); invalid UTF-8 becomes U+FFFD,
 * NUL bytes make the file binary and it is rejected. Markdown may open
 * with a YAML front matter block ("---" lines) whose "title:" is used and
 * which is left out of the body.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "html_text.h"
#include "parse.h"
#include "strbuf.h"
#include "ticket.h"
#include "util.h"

#define TITLE_MAX 120 /* bytes, like the subject ticket_finish() derives */

enum text_kind {
	KIND_TEXT,
	KIND_MARKDOWN,
	KIND_HTML,
};

/* The extension of name without the dot ("" when none; a leading dot
 * as in ".profile" does not start an extension). */
static const char *name_ext(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot && dot != name ? dot + 1 : "";
}

static enum text_kind text_kind(const struct parse_input *in, const char *name)
{
	const char *ext = name_ext(name);

	if (!strcasecmp(ext, "md") || !strcasecmp(ext, "markdown"))
		return KIND_MARKDOWN;
	if (!strcasecmp(ext, "html") || !strcasecmp(ext, "htm") ||
	    html_looks_like(in->data, in->len))
		return KIND_HTML;
	return KIND_TEXT;
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(" \t\r\n\f\v", s[i]))
			return false;
	return true;
}

/* Copies [s, s+n) with line ends normalized to LF, leading blank lines
 * and trailing white space removed. */
static char *text_normalize(const char *s, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i = 0, line;

	/* skip leading blank lines, keep the first line's indentation */
	for (line = 0; i < n; i++) {
		if (s[i] == '\n' || s[i] == '\r')
			line = i + 1;
		else if (!strchr(" \t\f\v", s[i]))
			break;
	}
	strbuf_grow(&sb, n - line);
	for (i = line; i < n; i++) {
		if (s[i] == '\r') {
			strbuf_addch(&sb, '\n');
			if (i + 1 < n && s[i + 1] == '\n')
				i++;
		} else {
			strbuf_addch(&sb, s[i]);
		}
	}
	strbuf_rtrim(&sb);
	if (!sb.buf && !sb.err)
		strbuf_addstr(&sb, "");
	return strbuf_detach(&sb, NULL);
}

/* Sets *dst to the trimmed line [s, s+n), Markdown heading marks removed
 * when md, cut to TITLE_MAX bytes on a character boundary. *dst stays
 * NULL when nothing is left. Returns 0 or -ENOMEM. */
static int title_set(char **dst, const char *s, size_t n, bool md)
{
	while (n && strchr(" \t\f\v", *s)) {
		s++;
		n--;
	}
	if (md) {
		size_t k = 0;

		while (k < n && s[k] == '#')
			k++;
		if (k && k <= 6 && (k == n || s[k] == ' ' || s[k] == '\t')) {
			s += k;
			n -= k;
			/* an optional closing sequence: "# Title ##" */
			while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
				n--;
			k = n;
			while (k && s[k - 1] == '#')
				k--;
			if (k < n && (k == 0 || s[k - 1] == ' ' || s[k - 1] == '\t'))
				n = k;
		}
	}
	if (n > TITLE_MAX)
		n = util_utf8_cut(s, TITLE_MAX);
	free(*dst);
	*dst = util_strtrim(s, n);
	if (!*dst)
		return -ENOMEM;
	if (!**dst) {
		free(*dst);
		*dst = NULL;
	}
	return 0;
}

/* The first non-empty line of text as a title. */
static int title_first_line(char **dst, const char *text, bool md)
{
	const char *p = text;
	int rc = 0;

	while (*p && !*dst) {
		size_t n = strcspn(p, "\n");

		if ((rc = title_set(dst, p, n, md)))
			break;
		p += n;
		if (*p)
			p++;
	}
	return rc;
}

/* The first ATX heading ("# Title", up to three spaces of indentation)
 * outside fenced code blocks. */
static int title_md_heading(char **dst, const char *text)
{
	const char *p = text;
	bool fenced = false;
	int rc = 0;

	while (*p && !*dst) {
		size_t n = strcspn(p, "\n"), ind = 0, k = 0;

		while (ind < n && ind < 4 && p[ind] == ' ')
			ind++;
		if (ind < 4 && (!strncmp(p + ind, "```", 3) || !strncmp(p + ind, "~~~", 3))) {
			fenced = !fenced;
		} else if (!fenced && ind < 4) {
			while (ind + k < n && p[ind + k] == '#')
				k++;
			if (k >= 1 && k <= 6 &&
			    (ind + k == n || p[ind + k] == ' ' || p[ind + k] == '\t') &&
			    (rc = title_set(dst, p + ind, n - ind, true)))
				break;
		}
		p += n;
		if (*p)
			p++;
	}
	return rc;
}

/* Markdown YAML front matter: when text opens with a "---" line closed by
 * a "---" or "..." line, sets *title from its "title:" key (quotes
 * removed) and *body past the block. */
static int md_front_matter(const char *text, char **title, const char **body)
{
	const char *p, *line;
	int rc = 0;

	*body = text;
	if (strncmp(text, "---\n", 4))
		return 0;
	for (p = text + 4; *p; p += *p ? 1 : 0) {
		size_t n = strcspn(p, "\n");

		line = p;
		p += n;
		if ((n == 3 && (!strncmp(line, "---", 3) || !strncmp(line, "...", 3)))) {
			while (*p == '\n')
				p++;
			*body = p;
			return 0;
		}
		if (n > 6 && !strncasecmp(line, "title:", 6) && !*title) {
			const char *v = line + 6;
			size_t vn = n - 6;

			while (vn && (*v == ' ' || *v == '\t')) {
				v++;
				vn--;
			}
			while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
				vn--;
			if (vn >= 2 && (*v == '"' || *v == '\'') && v[vn - 1] == *v) {
				v++;
				vn -= 2;
			}
			if ((rc = title_set(title, v, vn, false)))
				return rc;
		}
	}
	/* never closed: not front matter after all */
	free(*title);
	*title = NULL;
	return 0;
}

/* Case-insensitive search for "<name" followed by '>', '/' or space. */
static const char *html_find_open(const char *p, const char *end, const char *name)
{
	size_t n = strlen(name);

	for (; (p = memchr(p, '<', (size_t)(end - p))); p++) {
		if ((size_t)(end - p) > n + 1 && !strncasecmp(p + 1, name, n) &&
		    strchr("> \t\r\n/", p[n + 1]))
			return p;
	}
	return NULL;
}

static const char *html_find_close(const char *p, const char *end, const char *name)
{
	size_t n = strlen(name);

	for (; (p = memchr(p, '<', (size_t)(end - p))); p++)
		if ((size_t)(end - p) >= n + 2 && p[1] == '/' && !strncasecmp(p + 2, name, n))
			return p;
	return NULL;
}

/* The text content of the first <name> element, on one line. */
static int html_element_title(char **dst, const char *html, size_t len, const char *name)
{
	const char *end = html + len, *p, *q;
	char *text;
	int rc;

	p = html_find_open(html, end, name);
	if (!p || !(p = memchr(p, '>', (size_t)(end - p))))
		return 0;
	p++;
	q = html_find_close(p, end, name);
	text = html_to_text(p, (size_t)((q ? q : end) - p));
	if (!text)
		return -ENOMEM;
	if (!q)
		text[strcspn(text, "\n")] = 0; /* unclosed: its first line only */
	for (char *s = text; *s; s++)
		if (*s == '\n')
			*s = ' ';
	rc = title_set(dst, text, strlen(text), true);
	free(text);
	return rc;
}

/* What one file yields, before it becomes a ticket or an article. */
struct text_doc {
	char *base;   /* file name without extension */
	char *title;
	char *text;
	char *html;   /* the original HTML, or NULL */
};

static void text_doc_clear(struct text_doc *d)
{
	free(d->base);
	free(d->title);
	free(d->text);
	free(d->html);
}

static int text_doc_load(struct text_doc *d, const struct parse_input *in, int as_article,
			 struct parse_sink *s)
{
	const char *name = in->name && *in->name ? in->name : "untitled";
	const char *ext = name_ext(name);
	const char *data = in->data ? in->data : "";
	size_t len = in->data ? in->len : 0;
	enum text_kind kind = text_kind(in, name);
	char *clean = NULL;
	int rc = 0;

	d->base = util_strndup(name, *ext ? (size_t)(ext - 1 - name) : strlen(name));
	if (!d->base)
		return -ENOMEM;
	if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3)) {
		data += 3;
		len -= 3;
	}
	if (memchr(data, 0, len)) {
		parse_rejectf(s, "file", "binary data: expected text");
		return -EINVAL;
	}
	if (blank(data, len)) {
		parse_rejectf(s, "file", "empty file: expected text");
		return -EINVAL;
	}
	if (!util_utf8_valid(data, len)) {
		clean = util_utf8_sanitize(data, len);
		if (!clean)
			return -ENOMEM;
		data = clean;
		len = strlen(clean);
	}

	if (kind == KIND_HTML) {
		d->html = util_strndup(data, len);
		d->text = html_to_text(data, len);
		if (!d->html || !d->text) {
			rc = -ENOMEM;
			goto out;
		}
		if (!*d->text) {
			parse_rejectf(s, "file", "html without visible text: expected text");
			rc = -EINVAL;
			goto out;
		}
		if ((rc = html_element_title(&d->title, data, len, "title")) ||
		    (!d->title && (rc = html_element_title(&d->title, data, len, "h1"))) ||
		    (!d->title && (rc = title_first_line(&d->title, d->text, true))))
			goto out;
	} else if (kind == KIND_MARKDOWN) {
		char *all = text_normalize(data, len);
		const char *body;

		if (!all) {
			rc = -ENOMEM;
			goto out;
		}
		rc = md_front_matter(all, &d->title, &body);
		if (!rc && !(d->text = util_strdup(body)))
			rc = -ENOMEM;
		free(all);
		if (rc)
			goto out;
		if (!d->title && as_article && (rc = title_md_heading(&d->title, d->text)))
			goto out;
		if (!d->title && (rc = title_first_line(&d->title, d->text, true)))
			goto out;
	} else {
		d->text = text_normalize(data, len);
		if (!d->text) {
			rc = -ENOMEM;
			goto out;
		}
		if ((rc = title_first_line(&d->title, d->text, false)))
			goto out;
	}
out:
	free(clean);
	return rc;
}

static int text_put_ticket(struct text_doc *d, struct parse_sink *s)
{
	struct ticket t;
	struct message *m;
	int rc = -ENOMEM;

	ticket_init(&t);
	if (!(t.source = util_strdup("file")) ||
	    !(t.source_id = util_slugify(d->base, 64)) ||
	    util_set_str(&t.subject, d->title) ||
	    util_set_str(&t.body_text, d->text) ||
	    util_set_str(&t.body_html, d->html) ||
	    !(m = ticket_add_message(&t)))
		goto out;
	m->role = ROLE_CUSTOMER;
	m->is_public = true;
	if (!(m->text = util_strdup(d->text)) || util_set_str(&m->html, d->html))
		goto out;
	rc = s->put_ticket(s->ctx, &t);
out:
	ticket_clear(&t);
	return rc;
}

static int text_put_article(struct text_doc *d, const struct parse_input *in,
			    struct parse_sink *s)
{
	struct article a;
	int rc = -ENOMEM;

	article_init(&a);
	if (!(a.source = util_strdup("file")) ||
	    !(a.source_id = util_strdup(in->name && *in->name ? in->name : "untitled")) ||
	    !(a.slug = util_slugify(d->base, 64)) ||
	    util_set_str(&a.title, d->title) ||
	    util_set_str(&a.body_text, d->text) ||
	    util_set_str(&a.body_html, d->html))
		goto out;
	rc = s->put_article(s->ctx, &a);
out:
	article_clear(&a);
	return rc;
}

int text_parse(const struct parse_input *in, int as_article, struct parse_sink *s)
{
	struct text_doc d = { NULL, NULL, NULL, NULL };
	int rc;

	rc = text_doc_load(&d, in, as_article, s);
	if (rc)
		goto out;
	rc = as_article ? text_put_article(&d, in, s) : text_put_ticket(&d, s);
	if (rc >= 0)
		rc = 1;
out:
	text_doc_clear(&d);
	return rc;
}
