/* parse_email.c - RFC 5322 messages (.eml) and mbox files as tickets.
 *
 * Every message becomes one ticket with one message (source "email",
 * instance ""). Threading: a message whose In-Reply-To or References name
 * a message the sink already knows (sink->thread_find) is put as a partial
 * ticket for that ticket; otherwise it opens a ticket keyed "eml-" + 12 hex
 * digits of XXH3-64 over the thread's root Message-ID (the first id in
 * References, else its own), so replies to an unseen root still group.
 *
 * A message is parsed in three steps: header block (folding, case-blind
 * names), the MIME tree (multiparts split on boundaries, nested up to
 * MIME_MAX_DEPTH), and leaf decoding (quoted-printable, base64, charset to
 * UTF-8 with iconv). Nothing here trusts the input: every scan is bounded by
 * explicit lengths, malformed structure degrades to plain text, and the
 * limits below keep hostile files linear in time and memory.
 *
 * The format as seen by users is documented in docs/formats/email.md.
 */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "html_text.h"
#include "parse.h"
#include "strbuf.h"
#include "ticket.h"
#include "util.h"

#define MIME_MAX_DEPTH 32      /* nested multiparts followed */
#define MIME_MAX_PARTS 10000   /* body parts looked at per message */
#define HDR_MAX_FIELDS 10000   /* header fields kept per header block */
#define REF_MAX_LOOKUPS 200    /* References ids tried, newest first */
#define CHARSET_MAX 64

static const char utf8_repl[] = "\xef\xbf\xbd";

/* strbuf_detach() that is sure to return a terminated string even when
 * nothing was ever appended (strbuf_grow() alone does not write the NUL). */
static char *sb_take(struct strbuf *sb, size_t *len)
{
	strbuf_add(sb, "", 0);
	return strbuf_detach(sb, len);
}

/* util_utf8_sanitize() on [s, s+n) without its NUL bytes; for the same
 * reason it never sees an input that yields nothing. */
static char *utf8_sanitize(const char *s, size_t n)
{
	char *tmp, *r;
	size_t k = 0;

	if (!memchr(s, 0, n))
		return n ? util_utf8_sanitize(s, n) : util_strdup("");
	tmp = malloc(n);
	if (!tmp)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (s[i])
			tmp[k++] = s[i];
	r = k ? util_utf8_sanitize(tmp, k) : util_strdup("");
	free(tmp);
	return r;
}

/* --- lines and small string helpers --------------------------------- */

/* Returns the start of the line after the one at p and sets *eol to the
 * end of p's content (before CR LF or LF). */
static const char *line_next(const char *p, const char *end, const char **eol)
{
	const char *nl, *e;

	if (p >= end) {
		*eol = end;
		return end;
	}
	nl = memchr(p, '\n', (size_t)(end - p));
	e = nl ? nl : end;

	if (e > p && e[-1] == '\r')
		e--;
	*eol = e;
	return nl ? nl + 1 : end;
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static bool blank_line(const char *p, const char *eol)
{
	while (p < eol && (is_wsp(*p) || *p == '\r'))
		p++;
	return p == eol;
}

static bool starts_with_ci(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && !strncasecmp(s, prefix, k);
}

/* Copies [s, s+n) lower-cased and trimmed. */
static char *lower_trim(const char *s, size_t n)
{
	char *r = util_strtrim(s, n);

	if (r)
		for (char *q = r; *q; q++)
			*q = (char)tolower((unsigned char)*q);
	return r;
}

/* Replaces control characters by spaces, folds runs of white space to one
 * space and trims: for one-line values (subject, names). In place. */
static void oneline(char *s)
{
	char *w = s;
	bool sp = false;

	for (const char *r = s; *r; r++) {
		unsigned char c = (unsigned char)*r;

		if (c < 32 || c == 127 || c == ' ') {
			sp = w != s;
			continue;
		}
		if (sp)
			*w++ = ' ';
		sp = false;
		*w++ = (char)c;
	}
	*w = 0;
}

/* --- charsets ------------------------------------------------------- */

/* Appends [s, s+n) converted from cs to UTF-8 by iconv; returns false if
 * iconv does not know cs. Invalid input bytes become U+FFFD. */
static bool iconv_append(struct strbuf *out, const char *cs, const char *s, size_t n)
{
	iconv_t cd = iconv_open("UTF-8", cs);
	char buf[4096];
	char *in = (char *)s, *o;
	size_t inleft = n, oleft;

	if (cd == (iconv_t)-1)
		return false;
	while (inleft) {
		size_t r;
		int err;

		o = buf;
		oleft = sizeof(buf);
		r = iconv(cd, &in, &inleft, &o, &oleft);
		err = errno;
		strbuf_add(out, buf, (size_t)(o - buf));
		if (r != (size_t)-1)
			break;
		if (err == E2BIG)
			continue;
		strbuf_addstr(out, utf8_repl);
		if (err != EILSEQ)
			break; /* EINVAL: truncated sequence at the end */
		in++;
		inleft--;
	}
	o = buf;
	oleft = sizeof(buf);
	iconv(cd, NULL, NULL, &o, &oleft); /* shift back to the initial state */
	strbuf_add(out, buf, (size_t)(o - buf));
	iconv_close(cd);
	return true;
}

/* Normalized lower-case charset name without "*lang" suffix, or "" when
 * absent or not a plausible name (so it is never handed to iconv). */
static void charset_norm(const char *cs, char out[CHARSET_MAX])
{
	size_t n = 0;

	out[0] = 0;
	if (!cs)
		return;
	while (*cs && is_wsp(*cs))
		cs++;
	for (; *cs && *cs != '*' && !is_wsp(*cs); cs++) {
		unsigned char c = (unsigned char)*cs;

		if (!isalnum(c) && !strchr("-_.:+", c))
			goto bad;
		if (n + 1 >= CHARSET_MAX)
			goto bad;
		out[n++] = (char)tolower(c);
	}
	out[n] = 0;
	return;
bad:
	out[0] = 0;
}

/* True if [s, s+n) is valid UTF-8 apart from NUL bytes. */
static bool utf8_valid_nul(const char *s, size_t n)
{
	const char *end = s + n;

	while (s < end) {
		const char *z = memchr(s, 0, (size_t)(end - s));
		const char *e = z ? z : end;

		if (!util_utf8_valid(s, (size_t)(e - s)))
			return false;
		s = z ? z + 1 : end;
	}
	return true;
}

/* Returns [s, s+n) in charset cs as a malloc'd UTF-8 string without NUL
 * bytes, or NULL on allocation failure. No charset (or US-ASCII) means
 * UTF-8 when the bytes are valid UTF-8, else windows-1252; ISO-8859-1 is
 * read as its superset windows-1252 (as browsers do); a charset iconv does
 * not know is taken as UTF-8. */
static char *charset_to_utf8(const char *cs, const char *s, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	char name[CHARSET_MAX];
	const char *conv;
	char *conv_out, *r;
	size_t len;

	charset_norm(cs, name);
	if (!name[0] || !strcmp(name, "us-ascii") || !strcmp(name, "ascii") ||
	    !strcmp(name, "us_ascii"))
		conv = utf8_valid_nul(s, n) ? NULL : "CP1252";
	else if (!strcmp(name, "utf-8") || !strcmp(name, "utf8"))
		conv = NULL;
	else if (!strcmp(name, "iso-8859-1") || !strcmp(name, "iso8859-1") ||
		 !strcmp(name, "iso_8859-1") || !strcmp(name, "latin1") ||
		 !strcmp(name, "latin-1") || !strcmp(name, "l1"))
		conv = "CP1252";
	else
		conv = name;
	if (conv && iconv_append(&sb, conv, s, n)) {
		conv_out = sb_take(&sb, &len);
		if (!conv_out)
			return NULL;
		r = utf8_sanitize(conv_out, len);
		free(conv_out);
		return r;
	}
	strbuf_release(&sb);
	return utf8_sanitize(s, n);
}

/* --- transfer encodings --------------------------------------------- */

/* Decoded bytes go to sb when it is set and are always counted. */
struct dec {
	struct strbuf *sb;
	size_t n;
};

static void dec_put(struct dec *o, const char *b, size_t n)
{
	if (o->sb)
		strbuf_add(o->sb, b, n);
	o->n += n;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Quoted-printable (RFC 2045 6.7): "=XX", soft line breaks ("=" at the end
 * of a line, after trailing white space), a stray "=" kept as is. Line
 * breaks are kept as they were (CR LF or LF). */
static void qp_decode(struct dec *o, const char *p, const char *end)
{
	while (p < end) {
		const char *eol, *next = line_next(p, end, &eol);
		const char *e = eol, *q = p;
		bool soft = false;

		while (e > p && is_wsp(e[-1]))
			e--;
		while (q < e) {
			const char *eq = memchr(q, '=', (size_t)(e - q));

			if (!eq) {
				dec_put(o, q, (size_t)(e - q));
				break;
			}
			dec_put(o, q, (size_t)(eq - q));
			if (eq + 1 == e) {
				soft = true;
				q = e;
			} else if (eq + 2 < e && hexval(eq[1]) >= 0 && hexval(eq[2]) >= 0) {
				char c = (char)(hexval(eq[1]) * 16 + hexval(eq[2]));

				dec_put(o, &c, 1);
				q = eq + 3;
			} else {
				dec_put(o, "=", 1);
				q = eq + 1;
			}
		}
		if (!soft && next > eol)
			dec_put(o, eol, (size_t)(next - eol));
		p = next;
	}
}

/* Base64 (RFC 2045 6.8): every byte outside the alphabet is skipped, so
 * line breaks, padding and garbage do not stop decoding; a trailing group
 * of 2 or 3 characters gives 1 or 2 bytes. */
static void b64_decode(struct dec *o, const char *p, const char *end)
{
	static signed char tab[256];
	static bool init;
	uint32_t acc = 0;
	int nacc = 0;
	char out[3 * 256];
	size_t no = 0;

	if (!init) {
		const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

		memset(tab, -1, sizeof(tab));
		for (int i = 0; i < 64; i++)
			tab[(unsigned char)a[i]] = (signed char)i;
		init = true;
	}
	for (; p < end; p++) {
		int v = tab[(unsigned char)*p];

		if (v < 0)
			continue;
		acc = (acc << 6) | (uint32_t)v;
		if (++nacc == 4) {
			out[no++] = (char)(acc >> 16);
			out[no++] = (char)(acc >> 8);
			out[no++] = (char)acc;
			acc = 0;
			nacc = 0;
			if (no == sizeof(out)) {
				dec_put(o, out, no);
				no = 0;
			}
		}
	}
	if (nacc == 2) {
		out[no++] = (char)(acc >> 4);
	} else if (nacc == 3) {
		out[no++] = (char)(acc >> 10);
		out[no++] = (char)(acc >> 2);
	}
	dec_put(o, out, no);
}

/* Decodes a body by its Content-Transfer-Encoding (lower case, may be
 * NULL); unknown encodings are taken as 8bit. */
static void cte_decode(struct dec *o, const char *cte, const char *p, const char *end)
{
	if (cte && !strcmp(cte, "quoted-printable"))
		qp_decode(o, p, end);
	else if (cte && !strcmp(cte, "base64"))
		b64_decode(o, p, end);
	else
		dec_put(o, p, (size_t)(end - p));
}

/* --- RFC 2047 encoded words ----------------------------------------- */

/* Parses an encoded word "=?cs?E?text?=" at s (s[0..1] == "=?"): appends
 * its bytes to bytes, sets cs and returns the end of the word, or returns
 * NULL when s does not start a well-formed word. */
static const char *ew_parse(const char *s, const char *end, char cs[CHARSET_MAX],
			    struct strbuf *bytes)
{
	const char *name = s + 2, *q, *text, *te;
	char raw[CHARSET_MAX];
	struct dec o = { bytes, 0 };
	char enc;

	q = name;
	while (q < end && *q != '?' && !is_wsp(*q) && q - name < CHARSET_MAX - 1)
		q++;
	if (q >= end || *q != '?' || q == name || end - q < 3)
		return NULL;
	enc = (char)toupper((unsigned char)q[1]);
	if ((enc != 'B' && enc != 'Q') || q[2] != '?')
		return NULL;
	text = q + 3;
	for (te = text; te + 1 < end; te++) {
		if (te[0] == '?' && te[1] == '=')
			break;
		if (is_wsp(*te) || *te == '\r' || *te == '\n')
			return NULL;
	}
	if (te + 1 >= end)
		return NULL;
	memcpy(raw, name, (size_t)(q - name));
	raw[q - name] = 0;
	charset_norm(raw, cs);
	if (enc == 'B') {
		b64_decode(&o, text, te);
		return te + 2;
	}
	for (const char *p = text; p < te; p++) {
		char c = *p;

		if (c == '_') {
			c = ' ';
		} else if (c == '=' && te - p > 2 && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
			c = (char)(hexval(p[1]) * 16 + hexval(p[2]));
			p += 2;
		}
		dec_put(&o, &c, 1);
	}
	return te + 2;
}

/* Appends the UTF-8 form of [s, s+n) in charset cs to out; returns 0 or
 * -ENOMEM. */
static int utf8_append(struct strbuf *out, const char *cs, const char *s, size_t n)
{
	char *u;

	if (!n)
		return 0;
	u = charset_to_utf8(cs, s, n);
	if (!u)
		return -ENOMEM;
	strbuf_addstr(out, u);
	free(u);
	return 0;
}

/* Decodes RFC 2047 encoded words in [s, s+n) to UTF-8. White space between
 * two encoded words is dropped, and the bytes of adjacent words in one
 * charset are joined before conversion (a character may be split across
 * words). Other text with 8-bit bytes is read as UTF-8, else
 * windows-1252. Returns a malloc'd string or NULL. */
static char *rfc2047_decode(const char *s, size_t n)
{
	struct strbuf out = STRBUF_INIT, pend = STRBUF_INIT, word = STRBUF_INIT;
	const char *p = s, *end = s + n, *lit = s;
	char pcs[CHARSET_MAX] = "", cs[CHARSET_MAX];
	bool prev_word = false;
	char *r = NULL;
	int rc = 0;

	while (p + 1 < end) {
		const char *we, *w;

		if (p[0] != '=' || p[1] != '?') {
			p++;
			continue;
		}
		strbuf_reset(&word);
		we = ew_parse(p, end, cs, &word);
		if (!we) {
			p += 2;
			continue;
		}
		for (w = lit; w < p && (is_wsp(*w) || *w == '\r' || *w == '\n'); w++)
			;
		if (!prev_word || w != p || strcmp(cs, pcs)) {
			rc |= utf8_append(&out, pcs[0] ? pcs : "utf-8", pend.buf, pend.len);
			strbuf_reset(&pend);
			if (!prev_word || w != p)
				rc |= utf8_append(&out, NULL, lit, (size_t)(p - lit));
			memcpy(pcs, cs, sizeof(pcs));
		}
		strbuf_add(&pend, word.buf ? word.buf : "", word.len);
		prev_word = true;
		p = lit = we;
	}
	rc |= utf8_append(&out, pcs[0] ? pcs : "utf-8", pend.buf, pend.len);
	rc |= utf8_append(&out, NULL, lit, (size_t)(end - lit));
	if (rc || pend.err || word.err)
		goto out;
	r = sb_take(&out, NULL);
out:
	strbuf_release(&word);
	strbuf_release(&pend);
	strbuf_release(&out);
	return r;
}

/* --- header fields -------------------------------------------------- */

struct hfield {
	char *name;  /* as written */
	char *value; /* unfolded, trimmed, NUL bytes replaced by spaces */
};

struct hdrs {
	struct hfield *v;
	size_t n, cap;
};

static void hdrs_clear(struct hdrs *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->v[i].name);
		free(h->v[i].value);
	}
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}

/* If [p, eol) is "Name: value" (obsolete white space before the colon
 * allowed), sets *name_end and *colon and returns true. */
static bool field_line(const char *p, const char *eol, const char **name_end,
		       const char **colon)
{
	const char *q = p;

	while (q < eol && (unsigned char)*q > 32 && (unsigned char)*q < 127 && *q != ':')
		q++;
	if (q == p)
		return false;
	*name_end = q;
	while (q < eol && is_wsp(*q))
		q++;
	if (q >= eol || *q != ':')
		return false;
	*colon = q;
	return true;
}

static int hdrs_push(struct hdrs *h, const char *name, size_t nlen, struct strbuf *val)
{
	struct hfield *f;
	char *v;

	if (val->err)
		return -ENOMEM;
	for (size_t i = 0; i < val->len; i++)
		if (!val->buf[i])
			val->buf[i] = ' ';
	v = util_strtrim(val->buf ? val->buf : "", val->len);
	strbuf_reset(val);
	if (!v)
		return -ENOMEM;
	if (h->n >= HDR_MAX_FIELDS) {
		free(v);
		return 0;
	}
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 16;
		struct hfield *nv = realloc(h->v, cap * sizeof(*nv));

		if (!nv) {
			free(v);
			return -ENOMEM;
		}
		h->v = nv;
		h->cap = cap;
	}
	f = &h->v[h->n];
	f->name = util_strndup(name, nlen);
	f->value = v;
	if (!f->name) {
		free(v);
		return -ENOMEM;
	}
	h->n++;
	return 0;
}

/* Parses the header block at [p, end) into h. The block ends at a blank
 * line (consumed) or at the first line that is neither a field nor a
 * continuation; *body is set to where the body starts. Returns 0 or
 * -ENOMEM. */
static int hdrs_parse(const char *p, const char *end, struct hdrs *h, const char **body)
{
	struct strbuf val = STRBUF_INIT;
	const char *name = NULL;
	size_t nlen = 0;
	int rc = 0;

	while (p < end) {
		const char *eol, *next = line_next(p, end, &eol), *ne, *colon;

		if (blank_line(p, eol)) {
			p = next;
			break;
		}
		if (is_wsp(*p) && name) {
			strbuf_add(&val, p, (size_t)(eol - p));
		} else if (field_line(p, eol, &ne, &colon)) {
			if (name) {
				rc = hdrs_push(h, name, nlen, &val);
				if (rc)
					goto out;
			}
			name = p;
			nlen = (size_t)(ne - p);
			strbuf_add(&val, colon + 1, (size_t)(eol - colon - 1));
		} else {
			break;
		}
		p = next;
	}
	if (name)
		rc = hdrs_push(h, name, nlen, &val);
out:
	strbuf_release(&val);
	*body = p;
	return rc;
}

/* The value of the first field called name (any case), or NULL. */
static const char *hdr_get(const struct hdrs *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (!strcasecmp(h->v[i].name, name))
			return h->v[i].value;
	return NULL;
}

/* --- structured values: parameters, addresses, ids ------------------- */

/* The lower-cased first token of a Content-Type / Content-Disposition
 * value ("text/plain"), or NULL when empty, not a token or on ENOMEM. */
static char *value_main(const char *v)
{
	size_t n = strcspn(v, ";(");
	char *r = lower_trim(v, n);

	if (!r)
		return NULL;
	for (const char *q = r; *q; q++)
		if (!isalnum((unsigned char)*q) && !strchr("!#$%&'*+-.^_`{|}~/", *q))
			*r = 0;
	if (!*r) {
		free(r);
		r = NULL;
	}
	return r;
}

/* Percent-decodes [s, s+n) (RFC 2231 extended values) onto sb. */
static void pct_decode(struct strbuf *sb, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			strbuf_addch(sb, (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
			i += 2;
		} else {
			strbuf_addch(sb, s[i]);
		}
	}
}

#define PARAM_MAX_SECTIONS 64

/* Looks up parameter want in a Content-Type / Content-Disposition value:
 * plain (name=value, name="quoted"), RFC 2231 extended (name*=cs'lang'%XX)
 * and continued (name*0=, name*1*=) forms; extended forms win. Returns a
 * malloc'd value (*utf8 set when it was converted from an RFC 2231
 * charset) or NULL when absent. *err is set on ENOMEM. */
static char *param_get(const char *v, const char *want, bool *utf8, int *err)
{
	struct strbuf sect[PARAM_MAX_SECTIONS];
	bool sect_ext[PARAM_MAX_SECTIONS] = { false }, have_sect[PARAM_MAX_SECTIONS] = { false };
	char *plain = NULL, *ext = NULL, *r = NULL;
	size_t wl = strlen(want);
	const char *p = v + strcspn(v, ";");

	*utf8 = false;
	for (int i = 0; i < PARAM_MAX_SECTIONS; i++)
		strbuf_init(&sect[i]);
	while (*p) {
		const char *a, *ae;
		struct strbuf val = STRBUF_INIT;
		char *attr;

		while (*p == ';' || is_wsp(*p) || *p == '\r' || *p == '\n')
			p++;
		if (!*p)
			break;
		a = p;
		while (*p && *p != '=' && *p != ';')
			p++;
		ae = p;
		if (*p != '=')
			continue;
		p++;
		while (is_wsp(*p))
			p++;
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				strbuf_addch(&val, *p);
			}
			if (*p == '"')
				p++;
			while (*p && *p != ';')
				p++;
		} else {
			const char *vs = p;

			while (*p && *p != ';')
				p++;
			strbuf_add(&val, vs, (size_t)(p - vs));
		}
		attr = lower_trim(a, (size_t)(ae - a));
		if (!attr || val.err) {
			free(attr);
			strbuf_release(&val);
			*err = -ENOMEM;
			goto out;
		}
		if (!strncmp(attr, want, wl)) {
			const char *rest = attr + wl;
			char *vs = util_strtrim(val.buf ? val.buf : "", val.len);

			if (!vs) {
				free(attr);
				strbuf_release(&val);
				*err = -ENOMEM;
				goto out;
			}
			if (!*rest && !plain) {
				plain = vs, vs = NULL;
			} else if (!strcmp(rest, "*") && !ext) {
				ext = vs, vs = NULL;
			} else if (rest[0] == '*' && isdigit((unsigned char)rest[1])) {
				char *e;
				long k = strtol(rest + 1, &e, 10);

				if (k >= 0 && k < PARAM_MAX_SECTIONS && (!*e || !strcmp(e, "*")) &&
				    !have_sect[k]) {
					have_sect[k] = true;
					sect_ext[k] = *e == '*';
					strbuf_addstr(&sect[k], vs);
				}
			}
			free(vs);
		}
		free(attr);
		strbuf_release(&val);
	}
	if (have_sect[0] || ext) {
		struct strbuf raw = STRBUF_INIT;
		char cs[CHARSET_MAX] = "";
		const char *s0 = have_sect[0] ? (sect[0].buf ? sect[0].buf : "") : ext;
		bool e0 = have_sect[0] ? sect_ext[0] : true;
		const char *q1, *q2;

		if (e0 && (q1 = strchr(s0, '\'')) && (q2 = strchr(q1 + 1, '\''))) {
			char tmp[CHARSET_MAX];
			size_t cl = (size_t)(q1 - s0);

			if (cl < CHARSET_MAX) {
				memcpy(tmp, s0, cl);
				tmp[cl] = 0;
				charset_norm(tmp, cs);
			}
			s0 = q2 + 1;
		}
		if (e0)
			pct_decode(&raw, s0, strlen(s0));
		else
			strbuf_addstr(&raw, s0);
		for (int k = 1; have_sect[0] && k < PARAM_MAX_SECTIONS && have_sect[k]; k++) {
			if (sect_ext[k])
				pct_decode(&raw, sect[k].buf ? sect[k].buf : "", sect[k].len);
			else
				strbuf_add(&raw, sect[k].buf ? sect[k].buf : "", sect[k].len);
		}
		if (raw.err) {
			*err = -ENOMEM;
		} else if (cs[0] || e0) {
			r = charset_to_utf8(cs[0] ? cs : NULL, raw.buf ? raw.buf : "", raw.len);
			*utf8 = true;
			if (!r)
				*err = -ENOMEM;
		} else {
			r = sb_take(&raw, NULL);
			if (!r)
				*err = -ENOMEM;
		}
		strbuf_release(&raw);
		goto out;
	}
	r = plain;
	plain = NULL;
out:
	for (int i = 0; i < PARAM_MAX_SECTIONS; i++)
		strbuf_release(&sect[i]);
	free(plain);
	free(ext);
	return r;
}

/* The first mailbox of an address field: *name (display name, RFC 2047
 * decoded, or NULL) and *addr (or NULL). Returns 0 or -ENOMEM. */
static int mailbox_parse(const char *v, char **name, char **addr)
{
	struct strbuf nm = STRBUF_INIT, ad = STRBUF_INIT, cm = STRBUF_INIT;
	const char *p = v, *lt = NULL, *comma = NULL;
	int depth = 0, rc = 0;
	bool quote = false;

	*name = *addr = NULL;
	/* find the first top-level '<' and ',' */
	for (p = v; *p; p++) {
		if (quote) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				quote = false;
		} else if (*p == '"' && !depth) {
			quote = true;
		} else if (*p == '(') {
			depth++;
		} else if (*p == ')' && depth) {
			depth--;
		} else if (!depth && *p == '<' && !lt) {
			lt = p;
		} else if (!depth && *p == ',' && !comma) {
			comma = p;
		}
	}
	if (lt && comma && comma < lt && memchr(v, '@', (size_t)(comma - v)))
		lt = NULL; /* "a@x, B <b@y>": the first mailbox is a@x */
	if (!lt && !comma)
		comma = p;
	if (lt) {
		const char *gt = strchr(lt, '>');

		strbuf_add(&ad, lt + 1, gt ? (size_t)(gt - lt - 1) : strlen(lt + 1));
		p = v;
		while (p < lt) {
			if (*p == '"') {
				for (p++; p < lt && *p != '"'; p++) {
					if (*p == '\\' && p + 1 < lt)
						p++;
					strbuf_addch(&nm, *p);
				}
				if (p < lt)
					p++;
			} else {
				strbuf_addch(&nm, *p++);
			}
		}
	} else {
		/* addr-spec with an optional "(Display Name)" comment */
		depth = 0;
		for (p = v; p < comma; p++) {
			if (*p == '(') {
				if (depth++)
					strbuf_addch(&cm, *p);
			} else if (*p == ')' && depth) {
				if (--depth)
					strbuf_addch(&cm, *p);
			} else if (depth) {
				strbuf_addch(&cm, *p);
			} else if (*p != '"') {
				strbuf_addch(&ad, *p);
			}
		}
		strbuf_add(&nm, cm.buf ? cm.buf : "", cm.len);
	}
	if (nm.err || ad.err || cm.err) {
		rc = -ENOMEM;
		goto out;
	}
	*addr = charset_to_utf8(NULL, ad.buf ? ad.buf : "", ad.len);
	*name = rfc2047_decode(nm.buf ? nm.buf : "", nm.len);
	if (!*addr || !*name) {
		rc = -ENOMEM;
		goto out;
	}
	oneline(*name);
	oneline(*addr);
	if (!**name || !strcmp(*name, *addr)) {
		free(*name);
		*name = NULL;
	}
	if (!**addr) {
		free(*addr);
		*addr = NULL;
	}
out:
	if (rc) {
		free(*name);
		free(*addr);
		*name = *addr = NULL;
	}
	strbuf_release(&nm);
	strbuf_release(&ad);
	strbuf_release(&cm);
	return rc;
}

/* Message ids in a Message-ID / In-Reply-To / References value: the
 * "<...>" tokens without brackets, or the white-space separated words when
 * there is no '<'. Calls fn for each; stops early when fn returns non-0
 * and returns that. */
static int ids_each(const char *v, int (*fn)(void *arg, const char *id, size_t n), void *arg)
{
	bool angle = strchr(v, '<') != NULL;
	const char *p = v;
	int rc;

	while (*p) {
		const char *s, *e;

		if (angle) {
			s = strchr(p, '<');
			if (!s)
				break;
			s++;
			e = strchr(s, '>');
			if (!e)
				e = s + strlen(s);
			p = *e ? e + 1 : e;
		} else {
			while (*p && (is_wsp(*p) || *p == ','))
				p++;
			s = p;
			while (*p && !is_wsp(*p) && *p != ',')
				p++;
			e = p;
		}
		while (s < e && is_wsp(*s))
			s++;
		while (e > s && is_wsp(e[-1]))
			e--;
		if (e > s) {
			rc = fn(arg, s, (size_t)(e - s));
			if (rc)
				return rc;
		}
	}
	return 0;
}

struct id_list {
	char **v;
	size_t n, cap;
	int err;
};

static int id_list_add(void *arg, const char *id, size_t n)
{
	struct id_list *l = arg;
	char *s;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		char **nv = realloc(l->v, cap * sizeof(*nv));

		if (!nv)
			goto nomem;
		l->v = nv;
		l->cap = cap;
	}
	s = charset_to_utf8(NULL, id, n);
	if (!s)
		goto nomem;
	oneline(s);
	l->v[l->n++] = s;
	return 0;
nomem:
	l->err = -ENOMEM;
	return -ENOMEM;
}

static int id_first(void *arg, const char *id, size_t n)
{
	char **out = arg;

	*out = charset_to_utf8(NULL, id, n);
	if (*out)
		oneline(*out);
	return 1;
}

static void id_list_clear(struct id_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* --- dates ---------------------------------------------------------- */

static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* 1..12 for a month abbreviation ("Mar", "mar.") or full name, else 0. */
static int month_index(const char *s, size_t n)
{
	static const char *const mon[] = { "january", "february", "march", "april",
					   "may", "june", "july", "august", "september",
					   "october", "november", "december" };

	if (n == 4 && s[3] == '.')
		n = 3;
	for (int i = 0; i < 12; i++)
		if ((n == 3 || n == strlen(mon[i])) && !strncasecmp(s, mon[i], n))
			return i + 1;
	return 0;
}

/* Zone names of RFC 5322 4.3 in minutes east of UTC; military letters are
 * taken as UTC as the RFC advises. Returns false if s is not a zone. */
static bool zone_name(const char *s, size_t n, int *off)
{
	static const struct {
		const char *name;
		int off;
	} z[] = {
		{ "ut", 0 },        { "utc", 0 },       { "gmt", 0 },       { "z", 0 },
		{ "est", -5 * 60 }, { "edt", -4 * 60 }, { "cst", -6 * 60 }, { "cdt", -5 * 60 },
		{ "mst", -7 * 60 }, { "mdt", -6 * 60 }, { "pst", -8 * 60 }, { "pdt", -7 * 60 },
	};

	for (size_t i = 0; i < sizeof(z) / sizeof(z[0]); i++)
		if (strlen(z[i].name) == n && !strncasecmp(s, z[i].name, n)) {
			*off = z[i].off;
			return true;
		}
	if (n == 1 && isalpha((unsigned char)*s) && tolower((unsigned char)*s) != 'j') {
		*off = 0;
		return true;
	}
	return false;
}

/* Parses an RFC 5322 date ("Tue, 5 Mar 2024 10:20:30 +0100"), its obsolete
 * forms (2- and 3-digit years, zone names, missing seconds or day name,
 * comments) and the asctime form of mbox "From " lines ("Tue Mar  5
 * 10:20:30 2024"), tokens in any order. Returns 0 and sets *out (UTC epoch
 * seconds), or -EINVAL. */
static int date_parse(const char *s, int64_t *out)
{
	int day = -1, mon = 0, year = -1, hh = -1, mi = 0, ss = 0, off = 0;
	bool have_zone = false;
	const char *p = s;
	int depth = 0;

	while (*p) {
		const char *t;
		size_t n;

		if (*p == '(') {
			depth++;
			p++;
			continue;
		}
		if (*p == ')') {
			if (depth)
				depth--;
			p++;
			continue;
		}
		if (depth || is_wsp(*p) || *p == ',' || *p == '\r' || *p == '\n') {
			p++;
			continue;
		}
		t = p;
		while (*p && !is_wsp(*p) && *p != ',' && *p != '(' && *p != ')')
			p++;
		n = (size_t)(p - t);
		if ((*t == '+' || *t == '-') && n == 5 && isdigit((unsigned char)t[1]) &&
		    strspn(t + 1, "0123456789") >= 4) {
			int h = (t[1] - '0') * 10 + t[2] - '0';
			int m = (t[3] - '0') * 10 + t[4] - '0';

			if (!have_zone && h < 24 && m < 60) {
				off = (h * 60 + m) * (*t == '-' ? -1 : 1);
				have_zone = true;
			}
		} else if (isdigit((unsigned char)*t) && memchr(t, ':', n)) {
			int a = -1, b = -1, c = 0, k = 0;

			if (hh >= 0)
				continue;
			if (sscanf(t, "%2d:%2d%n", &a, &b, &k) < 2)
				return -EINVAL;
			if ((size_t)k < n && t[k] == ':' && sscanf(t + k, ":%2d", &c) != 1)
				return -EINVAL;
			if (a > 23 || b > 59 || c > 60)
				return -EINVAL;
			hh = a, mi = b, ss = c;
		} else if (isdigit((unsigned char)*t)) {
			size_t dn = strspn(t, "0123456789");
			long v;

			if (dn != n || n > 4)
				continue;
			v = strtol(t, NULL, 10);
			if (n <= 2 && day < 0)
				day = (int)v;
			else if (year < 0)
				year = (int)v, year += n <= 2 ? (v < 50 ? 2000 : 1900) : (n == 3 ? 1900 : 0);
		} else if (isalpha((unsigned char)*t)) {
			int m = month_index(t, n);
			int z;

			if (m && !mon)
				mon = m;
			else if (!have_zone && zone_name(t, n, &z))
				off = z, have_zone = true;
		}
	}
	if (day < 1 || day > 31 || !mon || year < 0 || hh < 0)
		return -EINVAL;
	*out = days_from_civil(year, mon, day) * 86400 + hh * 3600 + mi * 60 + ss -
	       (int64_t)off * 60;
	return 0;
}

/* --- MIME ----------------------------------------------------------- */

/* What the walk over one message's MIME tree collects. */
struct body {
	struct strbuf plain, html; /* inline text/plain and text/html, UTF-8 */
	struct message *m;         /* attachments are added here */
	size_t parts;              /* leaf parts seen */
};

struct range {
	const char *p, *end;
};

/* True if [p, eol) is "--boundary" or "--boundary--" (then *close). */
static bool delim_line(const char *p, const char *eol, const char *b, size_t bl, bool *close)
{
	const char *q;

	if ((size_t)(eol - p) < 2 + bl || p[0] != '-' || p[1] != '-' || memcmp(p + 2, b, bl))
		return false;
	q = p + 2 + bl;
	*close = eol - q >= 2 && q[0] == '-' && q[1] == '-';
	if (*close)
		q += 2;
	while (q < eol && is_wsp(*q))
		q++;
	return q == eol;
}

/* Splits a multipart body on boundary b into *parts (malloc'd, *n set).
 * The line break before a delimiter belongs to it; a missing close
 * delimiter ends the last part at end. Returns 0 (with *n == 0 when no
 * delimiter line was found) or -ENOMEM. */
static int mp_split(const char *p, const char *end, const char *b, struct range **parts,
		    size_t *n)
{
	size_t bl = strlen(b), cap = 0;
	const char *part = NULL;
	bool close = false;

	*parts = NULL;
	*n = 0;
	while (p < end) {
		const char *eol, *next = line_next(p, end, &eol);

		if (eol - p >= 2 && p[0] == '-' && p[1] == '-' && delim_line(p, eol, b, bl, &close)) {
			if (part) {
				const char *e = p;

				if (e > part && e[-1] == '\n')
					e--;
				if (e > part && e[-1] == '\r')
					e--;
				if (*n == cap) {
					size_t nc = cap ? cap * 2 : 8;
					struct range *nv = realloc(*parts, nc * sizeof(*nv));

					if (!nv)
						goto nomem;
					*parts = nv;
					cap = nc;
				}
				(*parts)[(*n)++] = (struct range){ part, e };
				if (*n >= MIME_MAX_PARTS)
					return 0;
			} else if (!*n && !*parts) {
				/* first delimiter: remember that one was seen */
				*parts = malloc(8 * sizeof(**parts));
				if (!*parts)
					goto nomem;
				cap = 8;
			}
			if (close)
				return 0;
			part = next;
		}
		p = next;
	}
	if (part) {
		if (*n == cap) {
			struct range *nv = realloc(*parts, (cap + 1) * sizeof(*nv));

			if (!nv)
				goto nomem;
			*parts = nv;
		}
		(*parts)[(*n)++] = (struct range){ part, end };
	}
	return 0;
nomem:
	free(*parts);
	*parts = NULL;
	*n = 0;
	return -ENOMEM;
}

/* Converts CR LF and lone CR to LF and drops trailing white space, in
 * place. */
static void text_normalize(char *s)
{
	char *w = s;

	for (const char *r = s; *r; r++) {
		if (*r == '\r') {
			*w++ = '\n';
			if (r[1] == '\n')
				r++;
		} else {
			*w++ = *r;
		}
	}
	while (w > s && (is_wsp(w[-1]) || w[-1] == '\n'))
		w--;
	*w = 0;
}

/* Sets *out to the display name of an attachment: RFC 2047 decoded
 * (unless already UTF-8), directories dropped, one line; NULL when nothing
 * is left. Returns 0 or -ENOMEM. */
static int att_name(const char *raw, bool utf8, char **out)
{
	char *s = utf8 ? util_strdup(raw) : rfc2047_decode(raw, strlen(raw));
	const char *base;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	oneline(s);
	base = s;
	for (const char *q = s; *q; q++)
		if (*q == '/' || *q == '\\')
			base = q + 1;
	if (*base && !(*out = util_strdup(base))) {
		free(s);
		return -ENOMEM;
	}
	free(s);
	return 0;
}

static int mime_part(struct body *b, const struct hdrs *h, const char *p, const char *end,
		     int depth);

static int mime_entity(struct body *b, const char *p, const char *end, int depth)
{
	struct hdrs h = { NULL, 0, 0 };
	const char *body;
	int rc;

	rc = hdrs_parse(p, end, &h, &body);
	if (!rc)
		rc = mime_part(b, &h, body, end, depth);
	hdrs_clear(&h);
	return rc;
}

/* Preference of a multipart/alternative child: inline text/plain first,
 * then nested multiparts (e.g. related around html), then text/html. */
static int alt_rank(const char *p, const char *end)
{
	struct hdrs h = { NULL, 0, 0 };
	const char *body, *ct, *cd;
	char *type = NULL, *disp = NULL;
	int rank = 3;

	if (hdrs_parse(p, end, &h, &body))
		goto out;
	ct = hdr_get(&h, "content-type");
	cd = hdr_get(&h, "content-disposition");
	type = ct ? value_main(ct) : NULL;
	disp = cd ? value_main(cd) : NULL;
	if (disp && !strcmp(disp, "attachment"))
		rank = 3;
	else if (!type || !strcmp(type, "text/plain") || !strchr(type, '/'))
		rank = 0;
	else if (!strncmp(type, "multipart/", 10))
		rank = 1;
	else if (!strcmp(type, "text/html"))
		rank = 2;
out:
	free(type);
	free(disp);
	hdrs_clear(&h);
	return rank;
}

/* multipart/alternative: the best child that yields any text. */
static int mime_alternative(struct body *b, const struct range *parts, size_t n, int depth)
{
	int *rank = calloc(n, sizeof(*rank));
	int rc = 0;

	if (!rank)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		rank[i] = alt_rank(parts[i].p, parts[i].end);
	for (int r = 0; r <= 3; r++) {
		for (size_t i = 0; i < n; i++) {
			size_t pl = b->plain.len, hl = b->html.len;

			if (rank[i] != r)
				continue;
			rc = mime_entity(b, parts[i].p, parts[i].end, depth + 1);
			if (rc || b->plain.len != pl || b->html.len != hl)
				goto out;
		}
	}
out:
	free(rank);
	return rc;
}

static int mime_attachment(struct body *b, const char *type, const char *cte, const char *name,
			   bool name_utf8, const char *p, const char *end)
{
	struct dec o = { NULL, 0 };
	struct attachment *a;

	cte_decode(&o, cte, p, end);
	a = message_add_attachment(b->m);
	if (!a)
		return -ENOMEM;
	a->size = (int64_t)o.n;
	a->content_type = util_strdup(type);
	if (!a->content_type)
		return -ENOMEM;
	if (name) {
		if (att_name(name, name_utf8, &a->name))
			return -ENOMEM;
	}
	if (!a->name) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "attachment-%zu%s", b->m->n_atts,
			    !strcmp(type, "message/rfc822") ? ".eml" : "");
		a->name = sb_take(&sb, NULL);
		if (!a->name)
			return -ENOMEM;
	}
	return 0;
}

static int mime_text(struct body *b, const char *type, const char *cte, const char *ctv,
		     const char *p, const char *end)
{
	struct strbuf raw = STRBUF_INIT, *dst = strcmp(type, "text/html") ? &b->plain : &b->html;
	struct dec o = { &raw, 0 };
	char *charset = NULL, *u = NULL;
	bool utf8;
	int rc = 0;

	cte_decode(&o, cte, p, end);
	if (raw.err) {
		rc = -ENOMEM;
		goto out;
	}
	if (ctv) {
		charset = param_get(ctv, "charset", &utf8, &rc);
		if (rc)
			goto out;
	}
	u = charset_to_utf8(charset, raw.buf ? raw.buf : "", raw.len);
	if (!u) {
		rc = -ENOMEM;
		goto out;
	}
	text_normalize(u);
	if (*u) {
		if (dst->len)
			strbuf_addstr(dst, dst == &b->plain ? "\n\n" : "\n");
		strbuf_addstr(dst, u);
		if (dst->err)
			rc = -ENOMEM;
	}
out:
	free(u);
	free(charset);
	strbuf_release(&raw);
	return rc;
}

/* One MIME entity with headers h and body [p, end). */
static int mime_part(struct body *b, const struct hdrs *h, const char *p, const char *end,
		     int depth)
{
	const char *ctv = hdr_get(h, "content-type");
	const char *cdv = hdr_get(h, "content-disposition");
	const char *ctev = hdr_get(h, "content-transfer-encoding");
	char *type = ctv ? value_main(ctv) : NULL;
	char *disp = cdv ? value_main(cdv) : NULL;
	char *cte = ctev ? value_main(ctev) : NULL;
	char *name = NULL, *boundary = NULL;
	struct range *parts = NULL;
	bool name_utf8 = false, utf8;
	size_t n = 0;
	int rc = 0;

	if (!type || !strchr(type, '/')) {
		free(type);
		type = util_strdup("text/plain");
		if (!type) {
			rc = -ENOMEM;
			goto out;
		}
	}
	if (!strncmp(type, "multipart/", 10)) {
		if (depth >= MIME_MAX_DEPTH)
			goto out;
		boundary = param_get(ctv, "boundary", &utf8, &rc);
		if (rc)
			goto out;
		if (boundary && *boundary && strlen(boundary) <= 200) {
			rc = mp_split(p, end, boundary, &parts, &n);
			if (rc)
				goto out;
		}
		if (parts) {
			if (!strcmp(type, "multipart/alternative")) {
				rc = mime_alternative(b, parts, n, depth);
				goto out;
			}
			for (size_t i = 0; i < n && !rc; i++)
				rc = mime_entity(b, parts[i].p, parts[i].end, depth + 1);
			goto out;
		}
		/* no usable boundary: read the body as plain text */
		strcpy(type, "text/plain");
	}
	if (++b->parts > MIME_MAX_PARTS)
		goto out;
	if (cdv) {
		name = param_get(cdv, "filename", &name_utf8, &rc);
		if (rc)
			goto out;
	}
	if (!name && ctv) {
		name = param_get(ctv, "name", &name_utf8, &rc);
		if (rc)
			goto out;
	}
	if ((disp && !strcmp(disp, "attachment")) || name || !strcmp(type, "message/rfc822"))
		rc = mime_attachment(b, type, cte, name, name_utf8, p, end);
	else if (!strcmp(type, "text/plain") || !strcmp(type, "text/html"))
		rc = mime_text(b, type, cte, ctv, p, end);
	/* anything else (unnamed inline images, calendars...) is left out */
out:
	free(parts);
	free(boundary);
	free(name);
	free(cte);
	free(disp);
	free(type);
	return rc;
}

/* --- messages and threads ------------------------------------------- */

struct email_state {
	struct parse_sink *s;
	uint64_t *roots; /* open-addressing set of (root hash >> 16) + 1 */
	size_t nroots, cap;
};

/* Adds key to the set of thread roots opened by this file; returns 1 if it
 * was there already, 0 if added, -ENOMEM. */
static int roots_add(struct email_state *st, uint64_t key)
{
	size_t i;

	if ((st->nroots + 1) * 2 > st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 64;
		uint64_t *nv = calloc(cap, sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		for (size_t j = 0; j < st->cap; j++) {
			if (!st->roots[j])
				continue;
			for (i = st->roots[j] & (cap - 1); nv[i]; i = (i + 1) & (cap - 1))
				;
			nv[i] = st->roots[j];
		}
		free(st->roots);
		st->roots = nv;
		st->cap = cap;
	}
	for (i = key & (st->cap - 1); st->roots[i]; i = (i + 1) & (st->cap - 1))
		if (st->roots[i] == key)
			return 1;
	st->roots[i] = key;
	st->nroots++;
	return 0;
}

/* Strips reply and forward prefixes ("Re:", "Fwd:", "Fw:", "AW:", "SV:",
 * also "Re[2]:"), repeatedly and in any case; returns the rest. */
static const char *subject_strip(const char *s)
{
	static const char *const pre[] = { "re", "fwd", "fw", "aw", "sv" };

	for (;;) {
		const char *q = NULL;

		while (*s == ' ')
			s++;
		for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]) && !q; i++) {
			size_t k = strlen(pre[i]);

			if (strncasecmp(s, pre[i], k))
				continue;
			q = s + k;
			if (*q == '[') {
				q += 1 + strspn(q + 1, "0123456789");
				q = *q == ']' ? q + 1 : NULL;
			}
			if (q && *q != ':')
				q = NULL;
		}
		if (!q)
			return s;
		s = q + 1;
	}
}

/* The source_id of the stored ticket holding a message this one answers
 * (In-Reply-To, then References newest first), or NULL. */
static const char *thread_lookup(struct parse_sink *s, const char *self, const char *irt,
				 const struct id_list *refs)
{
	const char *sid;
	size_t tries = 0;

	if (!s->thread_find)
		return NULL;
	if (irt && strcmp(irt, self)) {
		sid = s->thread_find(s->ctx, irt);
		if (sid)
			return sid;
	}
	for (size_t i = refs->n; i-- > 0 && tries < REF_MAX_LOOKUPS;) {
		if (!strcmp(refs->v[i], self) || (irt && !strcmp(refs->v[i], irt)))
			continue;
		tries++;
		sid = s->thread_find(s->ctx, refs->v[i]);
		if (sid)
			return sid;
	}
	return NULL;
}

static void hex64(uint64_t v, char out[17])
{
	snprintf(out, 17, "%016llx", (unsigned long long)v);
}

/* Fills message m from headers h and body [body, end); *addr_out gets the
 * From address (or NULL). Returns 0, -ENOMEM, or 1 after rejecting. */
static int message_fill(struct email_state *st, const char *where, const struct hdrs *h,
			const char *raw, size_t rawlen, const char *body, const char *end,
			const char *envelope, struct message *m, char **addr_out)
{
	struct body b = { STRBUF_INIT, STRBUF_INIT, m, 0 };
	const char *from = hdr_get(h, "from"), *v;
	char *name = NULL, *addr = NULL;
	int rc;

	*addr_out = NULL;
	if (!from) {
		parse_rejectf(st->s, where, "no From header field");
		return 1;
	}
	rc = mailbox_parse(from, &name, &addr);
	if (rc)
		goto out;
	if (!name && !addr) {
		parse_rejectf(st->s, where, "empty From header field");
		rc = 1;
		goto out;
	}
	if (name && addr) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "%s <%s>", name, addr);
		m->author = sb_take(&sb, NULL);
	} else {
		m->author = util_strdup(name ? name : addr);
	}
	if (!m->author)
		goto nomem;

	v = hdr_get(h, "message-id");
	if (v)
		ids_each(v, id_first, &m->id);
	if (!m->id || !*m->id) {
		char hex[17];
		struct strbuf sb = STRBUF_INIT;

		free(m->id);
		hex64(XXH3_64bits(raw, rawlen), hex);
		strbuf_addf(&sb, "deskfs-%s", hex);
		m->id = sb_take(&sb, NULL);
		if (!m->id)
			goto nomem;
	}

	m->role = ROLE_CUSTOMER;
	v = hdr_get(h, "x-deskfs-role");
	if (v && !strcasecmp(v, "agent"))
		m->role = ROLE_AGENT;
	else if (v && !strcasecmp(v, "system"))
		m->role = ROLE_SYSTEM;
	m->is_public = true;

	v = hdr_get(h, "date");
	if (!v || (date_parse(v, &m->time) && util_time_parse(v, &m->time)))
		if (!envelope || date_parse(envelope, &m->time))
			m->time = 0;

	rc = mime_part(&b, h, body, end, 0);
	if (rc)
		goto out;
	if (b.plain.err || b.html.err)
		goto nomem;
	if (b.plain.len) {
		m->text = sb_take(&b.plain, NULL);
	} else if (b.html.len) {
		m->text = html_to_text(b.html.buf, b.html.len);
		if (m->text)
			text_normalize(m->text);
		m->html = sb_take(&b.html, NULL);
		if (!m->html)
			goto nomem;
	} else {
		m->text = util_strdup("");
	}
	if (!m->text)
		goto nomem;
	*addr_out = addr;
	addr = NULL;
	rc = 0;
	goto out;
nomem:
	rc = -ENOMEM;
out:
	strbuf_release(&b.plain);
	strbuf_release(&b.html);
	free(name);
	free(addr);
	return rc;
}

/* Parses one message [raw, raw+len) and puts it. Returns 1 when put, 0
 * when rejected, or a negative errno. */
static int email_message(struct email_state *st, int index, const char *raw, size_t len,
			 const char *envelope)
{
	struct id_list refs = { NULL, 0, 0, 0 };
	struct hdrs h = { NULL, 0, 0 };
	char where[48], *addr = NULL, *irt = NULL;
	const char *body, *v, *sid;
	struct message *m;
	struct ticket t;
	int rc;

	ticket_init(&t);
	snprintf(where, sizeof(where), "message %d", index);
	rc = hdrs_parse(raw, raw + len, &h, &body);
	if (rc)
		goto out;
	if (!h.n) {
		parse_rejectf(st->s, where, "no header fields found");
		goto out;
	}
	m = ticket_add_message(&t);
	if (!m)
		goto nomem;
	rc = message_fill(st, where, &h, raw, len, body, raw + len, envelope, m, &addr);
	if (rc) {
		rc = rc > 0 ? 0 : rc;
		goto out;
	}

	v = hdr_get(&h, "in-reply-to");
	if (v)
		ids_each(v, id_first, &irt);
	v = hdr_get(&h, "references");
	if (v && ids_each(v, id_list_add, &refs) && refs.err)
		goto nomem;
	if (!(t.source = util_strdup("email")) || !(t.instance = util_strdup("")))
		goto nomem;

	sid = thread_lookup(st->s, m->id, irt, &refs);
	if (sid) {
		t.partial = true;
		if (!(t.source_id = util_strdup(sid)))
			goto nomem;
	} else {
		const char *root = refs.n ? refs.v[0] : m->id;
		uint64_t hv = XXH3_64bits(root, strlen(root));
		char hex[17], id[20];

		hex64(hv, hex);
		snprintf(id, sizeof(id), "eml-%.12s", hex);
		if (!(t.source_id = util_strdup(id)))
			goto nomem;
		rc = roots_add(st, (hv >> 16) + 1);
		if (rc < 0)
			goto out;
		if (rc) {
			t.partial = true; /* a root this file opened already */
		} else {
			const char *subj = hdr_get(&h, "subject");

			if (subj) {
				char *d = rfc2047_decode(subj, strlen(subj));

				if (!d)
					goto nomem;
				oneline(d);
				t.subject = util_strdup(subject_strip(d));
				free(d);
				if (!t.subject)
					goto nomem;
			}
			t.requester = util_strdup(addr ? addr : m->author);
			t.body_text = util_strdup(m->text);
			t.status = util_strdup("open");
			if (!t.requester || !t.body_text || !t.status)
				goto nomem;
			if (m->html && !(t.body_html = util_strdup(m->html)))
				goto nomem;
			t.created = m->time;
		}
	}
	/* this message alone is its ticket's source record */
	if (!(t.raw = util_strndup(raw, len)))
		goto nomem;
	rc = st->s->put_ticket(st->s->ctx, &t);
	if (rc >= 0)
		rc = 1;
	goto out;
nomem:
	rc = -ENOMEM;
out:
	ticket_clear(&t);
	id_list_clear(&refs);
	hdrs_clear(&h);
	free(irt);
	free(addr);
	return rc;
}

/* --- files ---------------------------------------------------------- */

static const char *skip_bom(const char *p, const char *end)
{
	if (end - p >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	return p;
}

/* The envelope date part of a "From sender date" line [p, eol), copied. */
static char *envelope_date(const char *p, const char *eol)
{
	p += 5;
	while (p < eol && is_wsp(*p))
		p++;
	while (p < eol && !is_wsp(*p))
		p++;
	return util_strndup(p, (size_t)(eol - p));
}

/* True if the line [p, eol) followed by the line at next is an mbox
 * separator: "From " and either a date after the sender or a header field
 * on the next line. */
static bool from_line(const char *p, const char *eol, const char *next, const char *end,
		      bool *nomem)
{
	const char *ne, *colon, *neol;
	char *d;
	int64_t t;
	bool ok;

	if (eol - p < 5 || memcmp(p, "From ", 5))
		return false;
	line_next(next, end, &neol);
	if (next < end && field_line(next, neol, &ne, &colon))
		return true;
	d = envelope_date(p, eol);
	if (!d) {
		*nomem = true;
		return false;
	}
	ok = !date_parse(d, &t);
	free(d);
	return ok;
}

int email_detect(const struct parse_input *in)
{
	const char *end = in->data + in->len, *p = skip_bom(in->data, end);
	const char *eol, *next, *ne, *colon;
	bool from = false, other = false, nomem = false;

	if (p >= end)
		return 0;
	next = line_next(p, end, &eol);
	if (from_line(p, eol, next, end, &nomem))
		return 2;
	if (!field_line(p, eol, &ne, &colon))
		return 0;
	while (p < end) {
		next = line_next(p, end, &eol);
		if (blank_line(p, eol))
			break;
		if (!is_wsp(*p)) {
			size_t n;

			if (!field_line(p, eol, &ne, &colon))
				break;
			n = (size_t)(ne - p);
			if (n == 4 && starts_with_ci(p, n, "from"))
				from = true;
			else if ((n == 7 && starts_with_ci(p, n, "subject")) ||
				 (n == 4 && starts_with_ci(p, n, "date")) ||
				 (n == 10 && starts_with_ci(p, n, "message-id")) ||
				 (n == 2 && starts_with_ci(p, n, "to")))
				other = true;
		}
		p = next;
	}
	return from && other ? 1 : 0;
}

/* Copies [p, end) undoing mboxrd quoting (one '>' off ^>+"From "), without
 * trailing line breaks. */
static char *mbox_unescape(const char *p, const char *end, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_grow(&sb, (size_t)(end - p));
	while (p < end) {
		const char *eol, *next = line_next(p, end, &eol);
		const char *q = p;

		while (q < eol && *q == '>')
			q++;
		if (q > p && eol - q >= 5 && !memcmp(q, "From ", 5))
			p++;
		strbuf_add(&sb, p, (size_t)(next - p));
		p = next;
	}
	while (sb.len && (sb.buf[sb.len - 1] == '\n' || sb.buf[sb.len - 1] == '\r'))
		sb.buf[--sb.len] = 0;
	return sb_take(&sb, len);
}

static int mbox_parse(struct email_state *st, const char *p, const char *end)
{
	int index = 0, count = 0, rc = 0;
	bool nomem = false;

	while (p < end) {
		const char *eol, *body = line_next(p, end, &eol), *q = body, *mend = end;
		char *env = envelope_date(p, eol), *msg;
		bool prev_blank = false;
		size_t len;

		if (!env)
			return -ENOMEM;
		while (q < end) {
			const char *qeol, *qn = line_next(q, end, &qeol);

			if (prev_blank && from_line(q, qeol, qn, end, &nomem)) {
				mend = q;
				break;
			}
			prev_blank = blank_line(q, qeol);
			q = qn;
		}
		msg = nomem ? NULL : mbox_unescape(body, mend, &len);
		if (!msg) {
			free(env);
			return -ENOMEM;
		}
		rc = email_message(st, ++index, msg, len, env);
		free(msg);
		free(env);
		if (rc < 0)
			return rc;
		count += rc;
		p = mend;
	}
	return count;
}

int email_parse(const struct parse_input *in, struct parse_sink *s)
{
	const char *end = in->data + in->len, *p = skip_bom(in->data, end);
	struct email_state st = { s, NULL, 0, 0 };
	const char *eol, *next, *e = end;
	bool nomem = false;
	int rc;

	while (e > p && (is_wsp(e[-1]) || e[-1] == '\r' || e[-1] == '\n'))
		e--;
	if (e == p) {
		parse_rejectf(s, "file", "empty file");
		return -EINVAL;
	}
	/* the message ends before its trailing line breaks, as in an mbox */
	e = end;
	while (e > p && (e[-1] == '\r' || e[-1] == '\n'))
		e--;
	next = line_next(p, end, &eol);
	if (from_line(p, eol, next, end, &nomem)) {
		rc = mbox_parse(&st, p, end);
	} else if (nomem) {
		rc = -ENOMEM;
	} else {
		rc = email_message(&st, 1, p, (size_t)(e - p), NULL);
		if (rc == 0)
			rc = -EINVAL; /* the file's only message was rejected */
	}
	free(st.roots);
	return rc;
}
