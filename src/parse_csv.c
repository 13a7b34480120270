/* parse_csv.c - CSV ticket exports with a header row (docs/formats/csv.md).
 *
 * The file is read in one pass. A small record reader (struct csv_reader)
 * turns the bytes into records: RFC 4180 quoting ("" inside quotes is one
 * '"', separators and line breaks inside quotes are data), CRLF, LF or a
 * lone CR ending a record, blank lines skipped. Every field of the current
 * record is unescaped into one reused strbuf, NUL-separated, with its start
 * offset and length in a reused array, so the work is linear in the file.
 *
 * The header row is mapped once to column kinds (struct csv_map): each
 * known column name, compared case-insensitively with spaces, '_' and '-'
 * ignored, gives a ticket field and a rank. For each field the column with
 * the lowest rank is the primary one; the others are fallbacks used when
 * the primary is empty in a row and are also kept in custom_fields. Columns
 * of no known name go to custom_fields under their header text.
 *
 * Record numbers count data records from 1 (blank lines are not records);
 * a reject names the record and the physical line it starts on:
 * "record 12 (line 14)".
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html_text.h"
#include "parse.h"
#include "strbuf.h"
#include "ticket.h"
#include "util.h"

enum csv_kind {
	CSV_CUSTOM = 0,
	CSV_ID,
	CSV_SUBJECT,
	CSV_BODY,
	CSV_STATUS,
	CSV_PRIORITY,
	CSV_TYPE,
	CSV_REQUESTER,
	CSV_ASSIGNEE,
	CSV_GROUP,
	CSV_CREATED,
	CSV_UPDATED,
	CSV_RESOLVED,
	CSV_TAGS,
	CSV_NKINDS,
};

#define CSV_MAX_RANK 4

/* Known header names, normalized (lower case, no ' ', '_', '-'); rank
 * 0 .. CSV_MAX_RANK orders columns of the same kind. */
static const struct csv_name {
	const char *name;
	enum csv_kind kind;
	int rank;
} csv_names[] = {
	{ "ticketid", CSV_ID, 0 },
	{ "id", CSV_ID, 1 },
	{ "ticketnumber", CSV_ID, 2 },
	{ "subject", CSV_SUBJECT, 0 },
	{ "title", CSV_SUBJECT, 1 },
	{ "body", CSV_BODY, 0 },
	{ "description", CSV_BODY, 1 },
	{ "text", CSV_BODY, 2 },
	{ "content", CSV_BODY, 3 },
	{ "status", CSV_STATUS, 0 },
	{ "priority", CSV_PRIORITY, 0 },
	{ "type", CSV_TYPE, 0 },
	{ "tickettype", CSV_TYPE, 1 },
	{ "requester", CSV_REQUESTER, 0 },
	{ "email", CSV_REQUESTER, 1 },
	{ "requesteremail", CSV_REQUESTER, 1 },
	{ "customer", CSV_REQUESTER, 2 },
	{ "fullname", CSV_REQUESTER, 3 },
	{ "requestername", CSV_REQUESTER, 3 },
	{ "contactid", CSV_REQUESTER, 4 },
	{ "assignee", CSV_ASSIGNEE, 0 },
	{ "agent", CSV_ASSIGNEE, 1 },
	{ "group", CSV_GROUP, 0 },
	{ "created", CSV_CREATED, 0 },
	{ "createdat", CSV_CREATED, 1 },
	{ "createdtime", CSV_CREATED, 2 },
	{ "updated", CSV_UPDATED, 0 },
	{ "updatedat", CSV_UPDATED, 1 },
	{ "lastupdatetime", CSV_UPDATED, 2 },
	{ "resolved", CSV_RESOLVED, 0 },
	{ "resolvedat", CSV_RESOLVED, 1 },
	{ "resolvedtime", CSV_RESOLVED, 2 },
	{ "closedtime", CSV_RESOLVED, 3 },
	{ "tags", CSV_TAGS, 0 },
};

struct csv_reader {
	const char *p, *end;
	char sep;
	unsigned long line;   /* physical line at p, from 1 */
	unsigned long start;  /* line the last record started on */
	struct strbuf buf;    /* field contents, each NUL-terminated */
	size_t *off, *len;    /* per field */
	size_t n, cap;
};

struct csv_col {
	char *name;           /* header text, trimmed ("column N" when empty) */
	enum csv_kind kind;
	int rank;
	bool custom;          /* also (or only) stored in custom_fields */
};

struct csv_map {
	struct csv_col *cols;
	size_t n;
	/* per kind: column indices in rank order, -1 terminated */
	long *order[CSV_NKINDS];
	long *order_mem;
	bool freshdesk;
};

/* ---- record reader ---------------------------------------------------- */

static void reader_init(struct csv_reader *r, const char *p, const char *end, char sep)
{
	memset(r, 0, sizeof(*r));
	r->p = p;
	r->end = end;
	r->sep = sep;
	r->line = 1;
	strbuf_init(&r->buf);
}

static void reader_release(struct csv_reader *r)
{
	strbuf_release(&r->buf);
	free(r->off);
	free(r->len);
}

static int reader_new_field(struct csv_reader *r)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 32;
		size_t *off = realloc(r->off, cap * sizeof(*off));

		if (!off)
			return -ENOMEM;
		r->off = off;
		off = realloc(r->len, cap * sizeof(*off));
		if (!off)
			return -ENOMEM;
		r->len = off;
		r->cap = cap;
	}
	r->off[r->n] = r->buf.len;
	r->len[r->n] = 0;
	r->n++;
	return 0;
}

/* Consumes a line break at r->p (CRLF, LF or CR); returns true if one. */
static bool reader_eol(struct csv_reader *r)
{
	if (r->p < r->end && *r->p == '\r') {
		r->p++;
		if (r->p < r->end && *r->p == '\n')
			r->p++;
		r->line++;
		return true;
	}
	if (r->p < r->end && *r->p == '\n') {
		r->p++;
		r->line++;
		return true;
	}
	return false;
}

/*
 * Reads the next record into r->buf / r->off / r->len / r->n, r->start set
 * to its first line. Returns 1, 0 at the end of the data, -EINVAL for an
 * unterminated quoted field (the rest of the data is consumed) or -ENOMEM.
 */
static int reader_next(struct csv_reader *r)
{
	const char *q;
	int rc;

	while (reader_eol(r))
		;
	if (r->p >= r->end)
		return 0;
	r->start = r->line;
	strbuf_reset(&r->buf);
	r->n = 0;
	for (;;) {
		size_t fstart;

		rc = reader_new_field(r);
		if (rc)
			return rc;
		fstart = r->buf.len;
		if (r->p < r->end && *r->p == '"') {
			r->p++;
			for (;;) {
				for (q = r->p; q < r->end && *q != '"' && *q != '\r' &&
				     *q != '\n'; q++)
					;
				strbuf_add(&r->buf, r->p, (size_t)(q - r->p));
				r->p = q;
				if (q >= r->end)
					return -EINVAL;
				if (*q == '"') {
					if (q + 1 < r->end && q[1] == '"') {
						strbuf_addch(&r->buf, '"');
						r->p = q + 2;
						continue;
					}
					r->p = q + 1;
					break;
				}
				/* a line break inside quotes is data, kept as LF */
				reader_eol(r);
				strbuf_addch(&r->buf, '\n');
			}
		}
		/* unquoted data, or stray text after a closing quote: literal */
		for (q = r->p; q < r->end && *q != r->sep && *q != '\r' && *q != '\n'; q++)
			;
		strbuf_add(&r->buf, r->p, (size_t)(q - r->p));
		r->p = q;
		r->len[r->n - 1] = r->buf.len - fstart;
		strbuf_addch(&r->buf, 0);
		if (r->buf.err)
			return r->buf.err;
		if (r->p < r->end && *r->p == r->sep) {
			r->p++;
			continue;
		}
		reader_eol(r);
		return 1;
	}
}

/* Field i of the current record with surrounding white space removed;
 * missing fields (a short record) read as "". */
static const char *reader_field(const struct csv_reader *r, size_t i, size_t *len)
{
	const char *s;
	size_t n;

	if (i >= r->n) {
		*len = 0;
		return "";
	}
	s = r->buf.buf + r->off[i];
	n = r->len[i];
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	*len = n;
	return s;
}

/* ---- header ------------------------------------------------------------ */

/* ',' unless the first line has none outside quotes but has ';' or TAB. */
static char csv_sniff_sep(const char *p, const char *end)
{
	size_t comma = 0, semi = 0, tab = 0;
	bool quoted = false;

	for (; p < end && (quoted || (*p != '\n' && *p != '\r')); p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (quoted)
			continue;
		else if (*p == ',')
			comma++;
		else if (*p == ';')
			semi++;
		else if (*p == '\t')
			tab++;
	}
	if (comma || (!semi && !tab))
		return ',';
	return semi >= tab ? ';' : '\t';
}

static const char *csv_skip_bom(const char *p, const char *end)
{
	if (end - p >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		return p + 3;
	return p;
}

static void csv_norm(const char *s, size_t n, char *out, size_t outsz)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k + 1 < outsz; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ' ' || c == '_' || c == '-' || c == '\t')
			continue;
		out[k++] = (char)tolower(c);
	}
	out[k] = 0;
}

static void map_release(struct csv_map *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->cols[i].name);
	free(m->cols);
	free(m->order_mem);
	memset(m, 0, sizeof(*m));
}

/* Maps the header record in r; returns 0 or -ENOMEM. */
static int map_header(struct csv_map *m, const struct csv_reader *r)
{
	bool seen_ticketid = false, seen_subject = false, seen_desc = false;
	size_t pos = 0;
	int rc = -ENOMEM;

	memset(m, 0, sizeof(*m));
	m->cols = calloc(r->n, sizeof(*m->cols));
	m->order_mem = malloc((r->n + CSV_NKINDS) * sizeof(*m->order_mem));
	if (!m->cols || !m->order_mem)
		goto out;
	m->n = r->n;
	for (size_t i = 0; i < r->n; i++) {
		struct csv_col *c = &m->cols[i];
		char norm[64];
		size_t len;
		const char *s = reader_field(r, i, &len);

		if (len)
			c->name = util_strndup(s, len);
		else if ((c->name = malloc(32)))
			snprintf(c->name, 32, "column %zu", i + 1);
		if (!c->name)
			goto out;
		csv_norm(s, len, norm, sizeof(norm));
		for (size_t k = 0; k < sizeof(csv_names) / sizeof(csv_names[0]); k++) {
			if (!strcmp(norm, csv_names[k].name)) {
				c->kind = csv_names[k].kind;
				c->rank = csv_names[k].rank;
				break;
			}
		}
		if (!strcmp(norm, "ticketid"))
			seen_ticketid = true;
		else if (!strcmp(norm, "subject"))
			seen_subject = true;
		else if (!strcmp(norm, "description") || !strcmp(norm, "status"))
			seen_desc = true;
		c->custom = c->kind == CSV_CUSTOM;
	}
	/* per kind, the columns in rank order (stable); the first is primary */
	for (int k = 1; k < CSV_NKINDS; k++) {
		m->order[k] = &m->order_mem[pos];
		for (int rank = 0; rank <= CSV_MAX_RANK; rank++)
			for (size_t i = 0; i < m->n; i++)
				if ((int)m->cols[i].kind == k && m->cols[i].rank == rank) {
					if (&m->order_mem[pos] != m->order[k])
						m->cols[i].custom = true;
					m->order_mem[pos++] = (long)i;
				}
		m->order_mem[pos++] = -1;
	}
	m->freshdesk = seen_ticketid && seen_subject && seen_desc;
	rc = 0;
out:
	if (rc)
		map_release(m);
	return rc;
}

static bool map_has(const struct csv_map *m, enum csv_kind k)
{
	return m->order[k] && m->order[k][0] >= 0;
}

static bool map_ok(const struct csv_map *m)
{
	bool id = map_has(m, CSV_ID), subj = map_has(m, CSV_SUBJECT),
	     body = map_has(m, CSV_BODY);

	return m->n >= 2 && ((id && (subj || body)) || (subj && body));
}

/* The first non-empty value of kind k in the current record, or NULL;
 * *col set to its column. */
static const char *map_value(const struct csv_map *m, const struct csv_reader *r,
			     enum csv_kind k, size_t *len, long *col)
{
	for (const long *o = m->order[k]; o && *o >= 0; o++) {
		const char *s = reader_field(r, (size_t)*o, len);

		if (*len) {
			if (col)
				*col = *o;
			return s;
		}
	}
	return NULL;
}

/* ---- values ------------------------------------------------------------ */

static bool word_eq(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && !strncasecmp(s, w, n);
}

static const char *csv_status(const char *s, size_t n)
{
	static const struct {
		const char *raw, *norm;
	} tab[] = {
		{ "new", "new" }, { "open", "open" }, { "2", "open" },
		{ "pending", "pending" }, { "3", "pending" },
		{ "waiting on customer", "pending" }, { "6", "pending" },
		{ "waiting on third party", "pending" }, { "7", "pending" },
		{ "on hold", "hold" }, { "hold", "hold" },
		{ "resolved", "solved" }, { "solved", "solved" }, { "4", "solved" },
		{ "closed", "closed" }, { "5", "closed" },
		{ "deleted", "deleted" },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (word_eq(s, n, tab[i].raw))
			return tab[i].norm;
	return NULL;
}

static const char *csv_priority(const char *s, size_t n)
{
	static const struct {
		const char *raw, *norm;
	} tab[] = {
		{ "low", "low" }, { "1", "low" },
		{ "medium", "normal" }, { "normal", "normal" }, { "2", "normal" },
		{ "high", "high" }, { "3", "high" },
		{ "urgent", "urgent" }, { "4", "urgent" },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (word_eq(s, n, tab[i].raw))
			return tab[i].norm;
	return NULL;
}

/* util_time_parse, plus "YYYY/MM/DD[ HH:MM[:SS]]" and plain epoch
 * seconds (9 to 11 digits). Returns 0 or -EINVAL. */
static int csv_time_parse(const char *s, size_t n, int64_t *out)
{
	char buf[64];
	size_t i;

	if (!n || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = 0;
	if (!util_time_parse(buf, out))
		return 0;
	for (i = 0; i < n && isdigit((unsigned char)buf[i]); i++)
		;
	if (i == n && n >= 9 && n <= 11) {
		*out = strtoll(buf, NULL, 10);
		return 0;
	}
	if (n >= 10 && buf[4] == '/' && buf[7] == '/') {
		buf[4] = buf[7] = '-';
		return util_time_parse(buf, out);
	}
	return -EINVAL;
}

static int csv_add_tags(struct ticket *t, const char *s, size_t n)
{
	char *copy = util_strndup(s, n), *tok, *save = NULL;
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",;|", &save); tok && !rc;
	     tok = strtok_r(NULL, ",;|", &save)) {
		char *tag = util_strtrim(tok, strlen(tok));

		if (!tag) {
			rc = -ENOMEM;
			break;
		}
		if (*tag)
			rc = ticket_add_tag(t, tag);
		free(tag);
	}
	free(copy);
	return rc;
}

static int set_custom(struct ticket *t, const char *key, const char *s, size_t n)
{
	json_t *v;

	if (!t->custom_fields && !(t->custom_fields = json_object()))
		return -ENOMEM;
	if (json_object_get(t->custom_fields, key))
		return 0; /* a repeated header name: the first column wins */
	v = json_stringn(s, n);
	if (!v || json_object_set_new(t->custom_fields, key, v))
		return -ENOMEM;
	return 0;
}

/* ---- records ------------------------------------------------------------ */

struct csv_ctx {
	struct csv_reader r;
	struct csv_map map;
	struct parse_sink *sink;
	const char *instance;
	unsigned long recno;
	char where[64];
};

static int dup_field(char **dst, const char *s, size_t n)
{
	if (!s)
		return 0;
	*dst = util_strndup(s, n);
	return *dst ? 0 : -ENOMEM;
}

/* Fills t from the current record. Returns 0, 1 when the record was
 * rejected (reported), or -ENOMEM. */
static int csv_build(struct csv_ctx *c, struct ticket *t)
{
	const struct csv_map *m = &c->map;
	const struct csv_reader *r = &c->r;
	const char *s, *subj, *body;
	size_t n, subj_n = 0, body_n = 0;
	long col = -1;
	int rc;

	if (r->n > m->n) {
		size_t last = r->n;

		while (last > m->n && !r->len[last - 1])
			last--;
		if (last > m->n) {
			parse_rejectf(c->sink, c->where,
				      "%zu fields but the header has %zu columns; expected at most %zu (quote a field that contains '%s')",
				      last, m->n, m->n, r->sep == '\t' ? "\\t" : (r->sep == ';' ? ";" : ","));
			return 1;
		}
	}
	subj = map_value(m, r, CSV_SUBJECT, &subj_n, NULL);
	body = map_value(m, r, CSV_BODY, &body_n, NULL);
	if (!subj && !body) {
		if (map_has(m, CSV_SUBJECT) && map_has(m, CSV_BODY))
			parse_rejectf(c->sink, c->where,
				      "empty '%s' and '%s'; expected a subject or a body",
				      m->cols[m->order[CSV_SUBJECT][0]].name,
				      m->cols[m->order[CSV_BODY][0]].name);
		else
			parse_rejectf(c->sink, c->where, "empty '%s'; expected a %s",
				      m->cols[m->order[map_has(m, CSV_SUBJECT) ? CSV_SUBJECT : CSV_BODY][0]].name,
				      map_has(m, CSV_SUBJECT) ? "subject" : "body");
		return 1;
	}

	t->source = strdup(m->freshdesk ? "freshdesk" : "csv");
	if (!t->source)
		return -ENOMEM;
	if (map_has(m, CSV_ID)) {
		s = map_value(m, r, CSV_ID, &n, NULL);
		if (!s) {
			parse_rejectf(c->sink, c->where, "empty '%s'; expected the ticket id",
				      m->cols[m->order[CSV_ID][0]].name);
			return 1;
		}
		rc = dup_field(&t->source_id, s, n);
		t->instance = strdup("");
	} else {
		char num[32];

		snprintf(num, sizeof(num), "%lu", c->recno);
		t->source_id = strdup(num);
		t->instance = strdup(c->instance);
		rc = 0;
	}
	if (rc || !t->source_id || !t->instance)
		return -ENOMEM;

	if (dup_field(&t->subject, subj, subj_n))
		return -ENOMEM;
	if (body) {
		if (html_looks_like(body, body_n)) {
			t->body_html = util_strndup(body, body_n);
			t->body_text = t->body_html ? html_to_text(body, body_n) : NULL;
		} else {
			t->body_text = util_strndup(body, body_n);
		}
		if (!t->body_text)
			return -ENOMEM;
	}

	s = map_value(m, r, CSV_STATUS, &n, NULL);
	if (s) {
		const char *norm = csv_status(s, n);

		if (dup_field(&t->status_raw, s, n) || (norm && !(t->status = strdup(norm))))
			return -ENOMEM;
	}
	s = map_value(m, r, CSV_PRIORITY, &n, NULL);
	if (s) {
		const char *norm = csv_priority(s, n);

		if (dup_field(&t->priority_raw, s, n) ||
		    (norm && !(t->priority = strdup(norm))))
			return -ENOMEM;
	}
	s = map_value(m, r, CSV_TYPE, &n, NULL);
	if (dup_field(&t->type, s, n))
		return -ENOMEM;
	s = map_value(m, r, CSV_REQUESTER, &n, NULL);
	if (dup_field(&t->requester, s, n))
		return -ENOMEM;
	s = map_value(m, r, CSV_ASSIGNEE, &n, NULL);
	if (dup_field(&t->assignee, s, n))
		return -ENOMEM;
	s = map_value(m, r, CSV_GROUP, &n, NULL);
	if (dup_field(&t->group, s, n))
		return -ENOMEM;
	s = map_value(m, r, CSV_TAGS, &n, NULL);
	if (s && csv_add_tags(t, s, n))
		return -ENOMEM;

	for (int k = CSV_CREATED; k <= CSV_RESOLVED; k++) {
		int64_t *dst = k == CSV_CREATED ? &t->created :
			       k == CSV_UPDATED ? &t->updated : &t->resolved;

		s = map_value(m, r, (enum csv_kind)k, &n, &col);
		/* an unreadable time is kept as text in custom_fields */
		if (s && csv_time_parse(s, n, dst) &&
		    !m->cols[col].custom && set_custom(t, m->cols[col].name, s, n))
			return -ENOMEM;
	}

	for (size_t i = 0; i < m->n; i++) {
		if (!m->cols[i].custom)
			continue;
		s = reader_field(r, i, &n);
		if (n && set_custom(t, m->cols[i].name, s, n))
			return -ENOMEM;
	}

	if (t->body_text && *t->body_text) {
		struct message *msg = ticket_add_message(t);

		if (!msg)
			return -ENOMEM;
		msg->role = ROLE_CUSTOMER;
		msg->is_public = true;
		msg->time = t->created;
		msg->author = util_strdup(t->requester);
		msg->text = strdup(t->body_text);
		msg->html = util_strdup(t->body_html);
		if (!msg->text || (t->requester && !msg->author) ||
		    (t->body_html && !msg->html))
			return -ENOMEM;
	}
	return 0;
}

/* ---- entry points ------------------------------------------------------- */

/* Where the data looks binary: a NUL byte, or control characters other
 * than TAB, CR, LF, FF in the header line or in more than 1/64 of the
 * first 64 KiB. Returns the offending offset or -1. */
static long csv_binary_at(const char *data, size_t len)
{
	size_t scan = len < 65536 ? len : 65536, ctl = 0;
	bool header = true;
	const char *nul = memchr(data, 0, len);

	if (nul)
		return (long)(nul - data);
	for (size_t i = 0; i < scan; i++) {
		unsigned char ch = (unsigned char)data[i];

		if (ch == '\n')
			header = false;
		if ((ch < 0x20 && ch != '\t' && ch != '\r' && ch != '\n' && ch != '\f') ||
		    ch == 0x7f) {
			if (header || ++ctl > scan / 64)
				return (long)i;
		}
	}
	return -1;
}

int csv_detect(const struct parse_input *in)
{
	struct csv_reader r;
	struct csv_map m;
	const char *p, *end;
	int ok = 0;

	if (!in || !in->data || !in->len)
		return 0;
	end = in->data + in->len;
	p = csv_skip_bom(in->data, end);
	/* look at the header line only: at most 64 KiB */
	if (memchr(p, 0, (size_t)(end - p) < 65536 ? (size_t)(end - p) : 65536))
		return 0;
	reader_init(&r, p, end, csv_sniff_sep(p, end));
	if (reader_next(&r) == 1 && r.n >= 2 && !map_header(&m, &r)) {
		ok = map_ok(&m);
		map_release(&m);
	}
	reader_release(&r);
	return ok;
}

/* The file name without directory and extension. */
/* t->raw for one record: the header row and the record's own text, for
 * source.json. (A file without an id column numbers its records; such a
 * record copied back alone would become record 1: see docs/formats/csv.md.) */
static char *csv_raw(const char *hdr, const char *hdr_end, const char *rec, const char *rec_end)
{
	struct strbuf sb = STRBUF_INIT;

	while (hdr_end > hdr && (hdr_end[-1] == '\n' || hdr_end[-1] == '\r'))
		hdr_end--;
	while (rec < rec_end && (*rec == '\n' || *rec == '\r'))
		rec++;
	while (rec_end > rec && (rec_end[-1] == '\n' || rec_end[-1] == '\r'))
		rec_end--;
	strbuf_add(&sb, hdr, (size_t)(hdr_end - hdr));
	strbuf_addch(&sb, '\n');
	strbuf_add(&sb, rec, (size_t)(rec_end - rec));
	strbuf_addch(&sb, '\n');
	return strbuf_detach(&sb, NULL);
}

static char *csv_instance(const char *name)
{
	const char *base, *dot;

	if (!name)
		return strdup("");
	base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	dot = strrchr(base, '.');
	if (!dot || dot == base)
		dot = base + strlen(base);
	return util_strndup(base, (size_t)(dot - base));
}

int csv_parse(const struct parse_input *in, struct parse_sink *s)
{
	struct csv_ctx c;
	struct ticket t;
	char *clean = NULL;
	char *instance = NULL;
	const char *data, *p, *end, *hdr, *hdr_end;
	size_t len;
	long bad;
	int count = 0, rc;

	memset(&c, 0, sizeof(c));
	c.sink = s;
	ticket_init(&t);
	if (!in || !in->data) {
		parse_rejectf(s, "file", "no data; expected a CSV file with a header row");
		return -EINVAL;
	}
	data = in->data;
	len = in->len;
	bad = csv_binary_at(data, len);
	if (bad >= 0) {
		parse_rejectf(s, "file",
			      "binary data (control byte 0x%02x at offset %ld); expected CSV text",
			      (unsigned char)data[bad], bad);
		return -EINVAL;
	}
	if (!util_utf8_valid(data, len)) {
		/* e.g. a Windows-1252 export: keep going with U+FFFD */
		clean = util_utf8_sanitize(data, len);
		if (!clean)
			return -ENOMEM;
		data = clean;
		len = strlen(clean);
	}
	end = data + len;
	p = csv_skip_bom(data, end);
	reader_init(&c.r, p, end, csv_sniff_sep(p, end));

	hdr = p;
	rc = reader_next(&c.r);
	hdr_end = c.r.p;
	if (rc == 0 || (rc == 1 && c.r.n == 1 && !c.r.len[0])) {
		parse_rejectf(s, "file", "empty file; expected a header row and data records");
		rc = -EINVAL;
		goto out;
	}
	if (rc == -EINVAL) {
		parse_rejectf(s, "file",
			      "header row has an unterminated quoted field; expected a closing '\"'");
		goto out;
	}
	if (rc < 0)
		goto out;
	rc = map_header(&c.map, &c.r);
	if (rc)
		goto out;
	if (!map_ok(&c.map)) {
		size_t hl;
		const char *h = c.r.buf.buf;

		/* fields are NUL-separated; show them joined by the separator */
		for (size_t i = 0; i + 1 < c.r.buf.len; i++)
			if (!c.r.buf.buf[i])
				c.r.buf.buf[i] = c.r.sep;
		hl = strlen(h);
		parse_rejectf(s, "file",
			      "header row '%.*s%s' does not name the expected columns: an id column (id, ticket id) with a subject or body column (subject, title, body, description, text, content), or a subject and a body column",
			      (int)(hl > 200 ? 200 : hl), h, hl > 200 ? "..." : "");
		rc = -EINVAL;
		goto out;
	}
	instance = csv_instance(in->name);
	if (!instance) {
		rc = -ENOMEM;
		goto out;
	}
	c.instance = instance;

	for (;;) {
		const char *rec = c.r.p;
		rc = reader_next(&c.r);
		if (rc == 0)
			break;
		c.recno++;
		snprintf(c.where, sizeof(c.where), "record %lu (line %lu)", c.recno, c.r.start);
		if (rc == -EINVAL) {
			parse_rejectf(s, c.where,
				      "unterminated quoted field; expected a closing '\"' before the end of the file");
			break;
		}
		if (rc < 0)
			goto out;
		rc = csv_build(&c, &t);
		if (rc < 0)
			goto out;
		if (rc == 0) {
			t.raw = csv_raw(hdr, hdr_end, rec, c.r.p);
			if (!t.raw) {
				rc = -ENOMEM;
				goto out;
			}
			rc = s->put_ticket(s->ctx, &t);
			if (rc < 0)
				goto out;
			count++;
		}
		ticket_clear(&t);
		ticket_init(&t);
	}
	rc = count;
out:
	ticket_clear(&t);
	map_release(&c.map);
	reader_release(&c.r);
	free(instance);
	free(clean);
	return rc;
}
