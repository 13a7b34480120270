/* feedback.c - feedback records: parsing, listing and the rank
 * adjustments they give later questions (feedback.h). */
#include "feedback.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embed.h"
#include "query.h"
#include "util.h"

#define FIELDS_MAX 5

double feedback_decay(int64_t age_s, int64_t window_s)
{
	if (window_s <= 0 || age_s >= window_s)
		return 0;
	if (age_s <= 0)
		return 1;
	return 1.0 - (double)age_s / (double)window_s;
}

double feedback_factor(double adj)
{
	return 1.0 + FEEDBACK_GAIN * tanh(adj);
}

/* The offline vector of a question (all zero without words). */
static void question_vec(const char *text, float *v)
{
	struct embedder *e = embed_offline();

	if (e->embed(e, &text, 1, v))
		memset(v, 0, sizeof(float) * EMBED_OFFLINE_DIM);
}

static double vec_cos(const float *a, const float *b)
{
	double d = 0;

	for (int i = 0; i < EMBED_OFFLINE_DIM; i++)
		d += (double)a[i] * b[i];
	return d < 0 ? 0 : d > 1 ? 1 : d;
}

double feedback_similarity(const char *a, const char *b)
{
	float va[EMBED_OFFLINE_DIM], vb[EMBED_OFFLINE_DIM];

	question_vec(a, va);
	question_vec(b, vb);
	return vec_cos(va, vb);
}

/* ---- recording ------------------------------------------------------------- */

struct parsed {
	struct feedback_row row;
	char *question, *query, *path; /* owned; row points at them */
	float vec[EMBED_OFFLINE_DIM];  /* the question's, stored with the row */
};

static void parsed_clear(struct parsed *p)
{
	free(p->question);
	free(p->query);
	free(p->path);
}

/* Splits line (modified) into at most FIELDS_MAX fields; the count. */
static int fields_split(char *line, char **f)
{
	int n = 0;

	for (char *p = line; *p;) {
		while (*p == ' ' || *p == '\t')
			*p++ = 0;
		if (!*p)
			break;
		if (n == FIELDS_MAX)
			return n + 1;
		f[n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	return n;
}

/* queries/NAME: its question into p. */
static int query_resolve(struct store *s, int64_t tenant, const char *field, struct parsed *p,
			 char *err, size_t errlen)
{
	const char *name = !strncmp(field, "queries/", 8) ? field + 8 : NULL;
	struct inbox_row r;
	char *data = NULL;
	size_t len = 0;
	int rc;

	if (!name || !*name || strchr(name, '/')) {
		snprintf(err, errlen, "'%s' is not a query: expected queries/NAME", field);
		return -EINVAL;
	}
	rc = store_inbox_find(s, tenant, AREA_QUERY, name, &r);
	if (rc == -ENOENT) {
		snprintf(err, errlen, "there is no query file %s in this tenant", field);
		return -EINVAL;
	}
	if (rc)
		return rc;
	rc = store_inbox_data_read(s, r.id, &data, &len);
	inbox_row_clear(&r);
	if (rc == -ENOENT) {
		data = NULL;
		len = 0;
	} else if (rc) {
		return rc;
	}
	p->question = query_question(data ? data : "", len);
	free(data);
	if (!p->question) {
		snprintf(err, errlen, "%s has no question yet", field);
		return -EINVAL;
	}
	if (!(p->query = strdup(field)))
		return -ENOMEM;
	return 0;
}

/* tickets/ID[/FILE] or kb/SLUG.md: its document into p. */
static int source_resolve(struct store *s, int64_t tenant, const char *field, struct parsed *p,
			  char *err, size_t errlen)
{
	enum doc_kind kind = 0;
	char *name = NULL;
	struct doc_row d;
	int rc;

	if (!strncmp(field, "tickets/", 8)) {
		const char *id = field + 8, *slash = strchr(id, '/');
		if (slash && strchr(slash + 1, '/'))
			slash = NULL, id = "";
		kind = DOC_TICKET;
		name = strndup(id, slash ? (size_t)(slash - id) : strlen(id));
	} else if (!strncmp(field, "kb/", 3) && strlen(field) > 6 &&
		   !strcmp(field + strlen(field) - 3, ".md") && !strchr(field + 3, '/')) {
		kind = DOC_ARTICLE;
		name = strndup(field + 3, strlen(field) - 6);
	}
	if (!kind || (name && !*name)) {
		snprintf(err, errlen, "'%s' is not a source: expected tickets/ID or kb/SLUG.md, "
			 "as an answer's Sources list shows it", field);
		rc = -EINVAL;
		goto out;
	}
	if (!name) {
		rc = -ENOMEM;
		goto out;
	}
	rc = store_doc_find(s, tenant, kind, name, &d);
	if (rc == -ENOENT) {
		snprintf(err, errlen, "there is no %s %s in this tenant",
			 kind == DOC_TICKET ? "ticket" : "article", field);
		rc = -EINVAL;
		goto out;
	}
	if (rc)
		goto out;
	p->row.doc_id = d.id;
	doc_row_clear(&d);
	if (kind == DOC_TICKET) {
		size_t n = strlen(name) + 9;
		if ((p->path = malloc(n)))
			snprintf(p->path, n, "tickets/%s", name);
	} else {
		p->path = strdup(field);
	}
	rc = p->path ? 0 : -ENOMEM;
out:
	free(name);
	return rc;
}

/* One line (NUL-terminated, modified); 1 when it holds no record. */
static int line_parse(struct store *s, int64_t tenant, char *line, int64_t now,
		      struct parsed *p, char *err, size_t errlen)
{
	char *f[FIELDS_MAX];
	int n, rc, i = 0;

	memset(p, 0, sizeof(*p));
	n = fields_split(line, f);
	if (!n || f[0][0] == '#')
		return 1;
	if (n > 4 || n < 3) {
		snprintf(err, errlen, "expected SIGN QUERY SOURCE (like +1 queries/login "
			 "tickets/4821), got %d field%s", n, n == 1 ? "" : "s");
		return -EINVAL;
	}
	p->row.time = now;
	if (n == 4 && util_time_parse(f[i++], &p->row.time)) {
		snprintf(err, errlen, "'%s' is not a time (2026-11-22T10:11:12Z)", f[0]);
		return -EINVAL;
	}
	if (!strcmp(f[i], "+1") || !strcmp(f[i], "-1")) {
		p->row.sign = f[i][0] == '+' ? 1 : -1;
	} else {
		snprintf(err, errlen, "'%s' is not +1 or -1", f[i]);
		return -EINVAL;
	}
	if ((rc = query_resolve(s, tenant, f[i + 1], p, err, errlen)) ||
	    (rc = source_resolve(s, tenant, f[i + 2], p, err, errlen)))
		return rc;
	p->row.query = p->query;
	p->row.question = p->question;
	p->row.path = p->path;
	question_vec(p->question, p->vec);
	return 0;
}

int feedback_append(struct store *s, int64_t tenant, const char *text, size_t len, int64_t now,
		    char *err, size_t errlen)
{
	struct parsed *recs = NULL;
	struct feedback_row *rows = NULL;
	size_t n = 0, cap = 0;
	char why[600];
	int rc = 0, lineno = 0;

	*err = 0;
	for (const char *p = text, *end = text + len; p < end && !rc; lineno++) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t ll = (size_t)((eol ? eol : end) - p);
		char *line;
		if (ll && p[ll - 1] == '\r')
			ll--;
		if (ll > FEEDBACK_LINE_MAX) {
			snprintf(err, errlen, "line %d: longer than %d bytes", lineno + 1,
				 FEEDBACK_LINE_MAX);
			rc = -EINVAL;
			break;
		}
		if (memchr(p, 0, ll)) {
			snprintf(err, errlen, "line %d: holds a NUL byte", lineno + 1);
			rc = -EINVAL;
			break;
		}
		if (!(line = strndup(p, ll))) {
			rc = -ENOMEM;
			break;
		}
		p = eol ? eol + 1 : end;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			struct parsed *np = realloc(recs, nc * sizeof(*np));
			if (!np) {
				free(line);
				rc = -ENOMEM;
				break;
			}
			recs = np;
			cap = nc;
		}
		rc = line_parse(s, tenant, line, now, &recs[n], why, sizeof(why));
		free(line);
		if (rc == 1) {
			rc = 0;
		} else if (rc) {
			parsed_clear(&recs[n]);
			if (rc == -EINVAL)
				snprintf(err, errlen, "line %d: %s", lineno + 1, why);
		} else {
			n++;
		}
	}
	if (rc || !n)
		goto out;
	if (!(rows = malloc(n * sizeof(*rows)))) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		rows[i] = recs[i].row;
		rows[i].vec = recs[i].vec;
		rows[i].vec_len = sizeof(recs[i].vec);
	}
	rc = store_feedback_add(s, tenant, rows, n);
out:
	for (size_t i = 0; i < n; i++)
		parsed_clear(&recs[i]);
	free(recs);
	free(rows);
	return rc;
}

/* ---- listing ----------------------------------------------------------------- */

struct render {
	struct strbuf *out;
	int64_t newest;
};

static int render_one(void *ctx, const struct feedback_row *r)
{
	struct render *x = ctx;
	char when[32];

	util_time_format(r->time, when);
	strbuf_addf(x->out, "%s %+d %s %s%s\n", when, r->sign, r->query, r->path,
		    r->doc_id ? "" : "  # gone");
	if (r->time > x->newest)
		x->newest = r->time;
	return x->out->err;
}

int feedback_render(struct store *s, int64_t tenant, struct strbuf *out, int64_t *mtime)
{
	struct render x = { out, 0 };
	int rc = store_feedback_list(s, tenant, INT64_MIN, render_one, &x);

	if (mtime)
		*mtime = x.newest;
	return rc ? rc : out->err;
}

/* ---- adjustments ------------------------------------------------------------- */

struct boosts {
	float q[EMBED_OFFLINE_DIM];
	int64_t now, window;
	struct feedback_boost *b;
	size_t n, cap;
	int err;
};

static int boost_one(void *ctx, const struct feedback_row *r)
{
	struct boosts *x = ctx;
	float v[EMBED_OFFLINE_DIM];
	double sim, w;
	size_t i;

	if (!r->doc_id)
		return 0;
	if (r->vec_len == sizeof(v))
		memcpy(v, r->vec, sizeof(v));
	else
		question_vec(r->question, v); /* a record without one */
	sim = vec_cos(x->q, v);
	w = feedback_decay(x->now - r->time, x->window);
	if (sim < FEEDBACK_MIN_SIMILARITY || w <= 0)
		return 0;
	for (i = 0; i < x->n && x->b[i].doc_id != r->doc_id; i++)
		;
	if (i == x->n) {
		if (x->n == x->cap) {
			size_t nc = x->cap ? x->cap * 2 : 8;
			struct feedback_boost *nb = realloc(x->b, nc * sizeof(*nb));
			if (!nb)
				return -ENOMEM;
			x->b = nb;
			x->cap = nc;
		}
		x->b[x->n++] = (struct feedback_boost){ r->doc_id, 0, 1 };
	}
	x->b[i].adj += r->sign * sim * w;
	return 0;
}

int feedback_boosts(struct store *s, int64_t tenant, const char *question, int64_t now,
		    int64_t window_s, struct feedback_boost **out, size_t *n)
{
	struct boosts *x;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (window_s <= 0)
		return 0;
	if (!(x = calloc(1, sizeof(*x))))
		return -ENOMEM;
	x->now = now;
	x->window = window_s;
	question_vec(question, x->q);
	if ((rc = store_feedback_list(s, tenant, now - window_s, boost_one, x))) {
		free(x->b);
		goto out;
	}
	for (size_t i = 0; i < x->n; i++)
		x->b[i].factor = feedback_factor(x->b[i].adj);
	*out = x->b;
	*n = x->n;
out:
	free(x);
	return rc;
}
