/* retrieve.c - passages, vector indexes and hybrid search (retrieve.h). */
#include "retrieve.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "strbuf.h"
#include "text.h"
#include "util.h"

/* ---- chunking and indexing ------------------------------------------------ */

struct chunks {
	struct passage_put *p;
	char **owned; /* texts and vectors to free */
	size_t n, cap, n_owned, cap_owned;
	int rc;
};

static char *chunks_own(struct chunks *c, char *s)
{
	if (!s) {
		c->rc = -ENOMEM;
		return NULL;
	}
	if (c->n_owned == c->cap_owned) {
		size_t cap = c->cap_owned ? c->cap_owned * 2 : 32;
		char **o = realloc(c->owned, cap * sizeof(*o));
		if (!o) {
			free(s);
			c->rc = -ENOMEM;
			return NULL;
		}
		c->owned = o;
		c->cap_owned = cap;
	}
	c->owned[c->n_owned++] = s;
	return s;
}

static void chunks_add(struct chunks *c, const char *msg_id, const char *title, const char *s,
		       size_t len)
{
	char *text, *id;

	/* msg_id may be a heading the caller frees: the chunks keep a copy */
	if (c->rc || !(text = chunks_own(c, util_strtrim(s, len))) || !*text ||
	    !(id = chunks_own(c, strdup(msg_id ? msg_id : ""))))
		return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct passage_put *p = realloc(c->p, cap * sizeof(*p));
		if (!p) {
			c->rc = -ENOMEM;
			return;
		}
		c->p = p;
		c->cap = cap;
	}
	c->p[c->n++] = (struct passage_put){ id, title ? title : "", text, NULL, 0 };
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* Cuts text into windows of PASSAGE_WORDS words overlapping by
 * PASSAGE_OVERLAP, each added as a passage. */
static void chunk_text(struct chunks *c, const char *msg_id, const char *title, const char *text)
{
	size_t n = text ? strlen(text) : 0, nw = 0, cap = 0;
	size_t *starts = NULL, *ends = NULL;

	for (size_t i = 0; i < n;) {
		while (i < n && is_space(text[i]))
			i++;
		if (i >= n)
			break;
		if (nw == cap) {
			cap = cap ? cap * 2 : 256;
			size_t *s2 = realloc(starts, cap * sizeof(*s2));
			size_t *e2 = s2 ? realloc(ends, cap * sizeof(*e2)) : NULL;
			if (s2)
				starts = s2;
			if (!s2 || !e2) {
				c->rc = -ENOMEM;
				goto out;
			}
			ends = e2;
		}
		starts[nw] = i;
		while (i < n && !is_space(text[i]))
			i++;
		ends[nw++] = i;
	}
	for (size_t w = 0; w < nw; w += PASSAGE_WORDS - PASSAGE_OVERLAP) {
		size_t last = w + PASSAGE_WORDS < nw ? w + PASSAGE_WORDS : nw;
		chunks_add(c, msg_id, title, text + starts[w], ends[last - 1] - starts[w]);
		if (last == nw)
			break;
	}
out:
	free(starts);
	free(ends);
}

static void chunks_clear(struct chunks *c)
{
	for (size_t i = 0; i < c->n_owned; i++)
		free(c->owned[i]);
	free(c->owned);
	free(c->p);
}

/* Embeds every passage and stores them all for the document. */
static int chunks_store(struct store *s, struct embedder *e, int64_t tenant,
			const struct passage_doc *d, struct chunks *c)
{
	size_t blob_len = sizeof(float) + (size_t)e->dim;
	const char **texts = NULL;
	float *vecs = NULL;
	int rc = c->rc;

	if (rc)
		return rc;
	if (c->n) {
		texts = malloc(c->n * sizeof(*texts));
		vecs = malloc(c->n * (size_t)e->dim * sizeof(*vecs));
		if (!texts || !vecs) {
			rc = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < c->n; i++)
			texts[i] = c->p[i].text;
		if ((rc = e->embed(e, texts, c->n, vecs)))
			goto out;
		for (size_t i = 0; i < c->n; i++) {
			char *blob = chunks_own(c, malloc(blob_len));
			float scale;
			if (!blob) {
				rc = -ENOMEM;
				goto out;
			}
			vec_quantize(vecs + i * (size_t)e->dim, e->dim, (int8_t *)(blob + sizeof(float)),
				     &scale);
			memcpy(blob, &scale, sizeof(float));
			c->p[i].vec = blob;
			c->p[i].vec_len = blob_len;
		}
	}
	rc = store_passages_set(s, tenant, d, c->p, c->n);
out:
	free(texts);
	free(vecs);
	return rc;
}

int retrieve_index_ticket(struct store *s, struct embedder *e, int64_t tenant, int64_t doc_id,
			  const struct ticket *t)
{
	struct passage_doc d = { doc_id, DOC_TICKET, t->status ? t->status : "", t->created,
				 e->model };
	struct chunks c = { 0 };
	int rc;

	for (size_t i = 0; i < t->n_msgs; i++)
		chunk_text(&c, t->msgs[i].id, t->subject, t->msgs[i].text);
	if (!t->n_msgs)
		chunk_text(&c, "description", t->subject, t->body_text);
	if (!c.n && t->subject)
		chunk_text(&c, "subject", t->subject, t->subject);
	rc = chunks_store(s, e, tenant, &d, &c);
	chunks_clear(&c);
	return rc;
}

int retrieve_index_article(struct store *s, struct embedder *e, int64_t tenant, int64_t doc_id,
			   const struct article *a)
{
	struct passage_doc d = { doc_id, DOC_ARTICLE, "", a->created, e->model };
	struct chunks c = { 0 };
	const char *body = a->body_text ? a->body_text : "", *p = body, *sec = body;
	char *heading = NULL;
	int rc;

	/* sections start at Markdown headings; a section's heading is its id */
	for (;;) {
		const char *eol = strchr(p, '\n');
		bool end = !*p;
		if (end || (*p == '#' && p != body)) {
			char *text = util_strndup(sec, (size_t)(p - sec));
			if (!text)
				c.rc = -ENOMEM;
			chunk_text(&c, heading ? heading : "", a->title, text);
			free(text);
			if (end)
				break;
			free(heading);
			const char *h = p;
			while (*h == '#')
				h++;
			heading = util_strtrim(h, (size_t)((eol ? eol : p + strlen(p)) - h));
			sec = p;
		}
		if (!eol)
			p += strlen(p);
		else
			p = eol + 1;
	}
	free(heading);
	if (!c.n && a->title)
		chunk_text(&c, "title", a->title, a->title);
	rc = chunks_store(s, e, tenant, &d, &c);
	chunks_clear(&c);
	return rc;
}

/* ---- in-memory vector indexes ---------------------------------------------- */

#define STATUS_MAX 32

struct vindex {
	int64_t tenant;
	int64_t last_id, dropped;
	size_t n, cap;
	int64_t *ids, *docs, *created;
	uint8_t *kinds, *status;
	float *scales;
	int8_t *vecs;
	char *statuses[STATUS_MAX]; /* interned status strings; [0] = "" */
	size_t n_statuses;
	struct vindex *next;
};

struct retriever {
	struct store *store;
	struct embedder *embed;
	pthread_rwlock_t rw;  /* searches read; refreshes (list, appends, reloads) write */
	struct vindex *indexes;
};

struct retriever *retriever_new(struct store *s, struct embedder *e)
{
	struct retriever *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->store = s;
	r->embed = e;
	pthread_rwlock_init(&r->rw, NULL);
	return r;
}

static void vindex_reset(struct vindex *v)
{
	free(v->ids);
	free(v->docs);
	free(v->created);
	free(v->kinds);
	free(v->status);
	free(v->scales);
	free(v->vecs);
	for (size_t i = 0; i < v->n_statuses; i++)
		free(v->statuses[i]);
	int64_t tenant = v->tenant;
	struct vindex *next = v->next;
	memset(v, 0, sizeof(*v));
	v->tenant = tenant;
	v->next = next;
}

void retriever_free(struct retriever *r)
{
	if (!r)
		return;
	while (r->indexes) {
		struct vindex *v = r->indexes;
		r->indexes = v->next;
		vindex_reset(v);
		free(v);
	}
	pthread_rwlock_destroy(&r->rw);
	free(r);
}

static int status_index(struct vindex *v, const char *status)
{
	for (size_t i = 0; i < v->n_statuses; i++)
		if (!strcmp(v->statuses[i], status))
			return (int)i;
	if (v->n_statuses == STATUS_MAX)
		return STATUS_MAX; /* too many kinds: filter cannot match it */
	if (!(v->statuses[v->n_statuses] = strdup(status)))
		return -ENOMEM;
	return (int)v->n_statuses++;
}

struct load_ctx {
	struct vindex *v;
	int dim;
	const char *model;
};

static int vindex_add(void *arg, int64_t id, const struct passage_doc *d, const void *vec,
		      size_t len)
{
	struct load_ctx *l = arg;
	struct vindex *v = l->v;
	int st;

	v->last_id = id;
	/* vectors of another model or dimension are skipped until re-embedded */
	if (len != sizeof(float) + (size_t)l->dim || !d->vmodel || strcmp(d->vmodel, l->model))
		return 0;
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 1024;
#define GROW(f) do { void *p_ = realloc(v->f, cap * sizeof(*v->f)); if (!p_) return -ENOMEM; \
		     v->f = p_; } while (0)
		GROW(ids); GROW(docs); GROW(created); GROW(kinds); GROW(status); GROW(scales);
#undef GROW
		int8_t *nv = realloc(v->vecs, cap * (size_t)l->dim);
		if (!nv)
			return -ENOMEM;
		v->vecs = nv;
		v->cap = cap;
	}
	if ((st = status_index(v, d->status ? d->status : "")) < 0)
		return st;
	v->ids[v->n] = id;
	v->docs[v->n] = d->doc_id;
	v->created[v->n] = d->created;
	v->kinds[v->n] = (uint8_t)d->kind;
	v->status[v->n] = (uint8_t)st;
	memcpy(&v->scales[v->n], vec, sizeof(float));
	memcpy(v->vecs + v->n * (size_t)l->dim, (const char *)vec + sizeof(float), (size_t)l->dim);
	v->n++;
	return 0;
}

/* The tenant's index, brought up to date; call with r->rw held for write. */
static int vindex_refresh(struct retriever *r, int64_t tenant, struct vindex **out)
{
	int64_t cnt[CNT__COUNT];
	struct vindex *v;
	int rc;

	for (v = r->indexes; v && v->tenant != tenant; v = v->next)
		;
	if (!v) {
		if (!(v = calloc(1, sizeof(*v))))
			return -ENOMEM;
		v->tenant = tenant;
		v->next = r->indexes;
		r->indexes = v;
	}
	if ((rc = store_counters(r->store, tenant, cnt)))
		return rc;
	if (cnt[CNT_PASSAGES_DROPPED] != v->dropped) {
		vindex_reset(v);
		v->dropped = cnt[CNT_PASSAGES_DROPPED];
	}
	struct load_ctx l = { v, r->embed->dim, r->embed->model };
	rc = store_passage_vectors(r->store, tenant, v->last_id, vindex_add, &l);
	if (rc)
		vindex_reset(v); /* reload from scratch next time */
	*out = v;
	return rc;
}

struct scored {
	int64_t id, doc;
	float score;
};

/* Min-heap of the best n scored entries. */
static void heap_push(struct scored *h, size_t *n, size_t cap, struct scored x)
{
	size_t i;

	if (*n == cap) {
		if (x.score <= h[0].score)
			return;
		/* replace the root and sift down */
		i = 0;
		for (;;) {
			size_t l = 2 * i + 1, m = i;
			if (l < *n && h[l].score < (m == i ? x.score : h[m].score))
				m = l;
			if (l + 1 < *n && h[l + 1].score < (m == i ? x.score : h[m].score))
				m = l + 1;
			if (m == i)
				break;
			h[i] = h[m];
			i = m;
		}
		h[i] = x;
		return;
	}
	i = (*n)++;
	while (i && h[(i - 1) / 2].score > x.score) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = x;
}

static int cmp_scored_desc(const void *a, const void *b)
{
	float x = ((const struct scored *)a)->score, y = ((const struct scored *)b)->score;

	return x < y ? 1 : x > y ? -1 : 0;
}

static int32_t dot_i8(const int8_t *a, const int8_t *b, int dim)
{
	int32_t s = 0;

	for (int i = 0; i < dim; i++)
		s += (int32_t)a[i] * (int32_t)b[i];
	return s;
}

static int vector_search(struct retriever *r, int64_t tenant, const float *q,
			 const struct passage_filter *f, struct scored *out, size_t *n)
{
	int dim = r->embed->dim, rc;
	size_t got = 0, cap = *n;
	struct vindex *v;
	int8_t *q8 = malloc((size_t)dim);
	float qscale;
	int want_status = -1;

	if (!q8)
		return -ENOMEM;
	vec_quantize(q, dim, q8, &qscale);
	/* refresh exclusively, then scan shared: searches run side by side */
	pthread_rwlock_wrlock(&r->rw);
	rc = vindex_refresh(r, tenant, &v);
	pthread_rwlock_unlock(&r->rw);
	if (rc)
		goto done;
	pthread_rwlock_rdlock(&r->rw);
	if (f && f->status && *f->status) {
		want_status = STATUS_MAX + 1; /* no passage has it */
		for (size_t i = 0; i < v->n_statuses; i++)
			if (!strcmp(v->statuses[i], f->status))
				want_status = (int)i;
	}
	for (size_t i = 0; i < v->n; i++) {
		if (f && ((f->kind && v->kinds[i] != f->kind) ||
			  (want_status >= 0 && v->status[i] != want_status) ||
			  (f->since && v->created[i] < f->since) ||
			  (f->until && v->created[i] > f->until)))
			continue;
		float sc = (float)dot_i8(q8, v->vecs + i * (size_t)dim, dim) * qscale * v->scales[i];
		heap_push(out, &got, cap, (struct scored){ v->ids[i], v->docs[i], sc });
	}
	qsort(out, got, sizeof(*out), cmp_scored_desc);
	pthread_rwlock_unlock(&r->rw);
done:
	free(q8);
	*n = got;
	return rc;
}

/* ---- fusion ------------------------------------------------------------- */

struct fused {
	int64_t id;
	double bm25, vector, rrf;
	int bm25_rank, vector_rank;
};

static struct fused *fused_find(struct fused *f, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (f[i].id == id)
			return &f[i];
	return NULL;
}

static int cmp_fused_desc(const void *a, const void *b)
{
	const struct fused *x = a, *y = b;

	if (x->rrf != y->rrf)
		return x->rrf < y->rrf ? 1 : -1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void word_quote(char *w, size_t len, void *arg)
{
	struct strbuf *sb = arg;

	if (sb->len)
		strbuf_addstr(sb, " OR ");
	strbuf_addch(sb, '"');
	strbuf_add(sb, w, len); /* words hold no quotes */
	strbuf_addch(sb, '"');
}

char *retrieve_match_expr(const char *text)
{
	struct strbuf sb = STRBUF_INIT;

	text_words(text, strlen(text), word_quote, &sb);
	if (!sb.len || sb.err) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

static char *hit_path(const struct passage_row *p)
{
	size_t n = strlen(p->doc_name) + 24;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, p->kind == DOC_TICKET ? "tickets/%s/ticket.md" : "kb/%s.md",
			 p->doc_name);
	return s;
}

int retrieve(struct retriever *r, int64_t tenant, const char *question,
	     const struct retrieve_opts *o, struct hit **hits, size_t *n_hits,
	     struct retrieve_timing *timing)
{
	struct passage_hit bm[RRF_WINDOW];
	struct scored vec[RRF_WINDOW];
	struct fused f[2 * RRF_WINDOW];
	struct hit *out = NULL;
	size_t nf = 0, nv = 0, nout = 0;
	int nb = 0, rc = 0;
	struct timespec t0, t1;
	char *match = NULL;
	float *q = NULL;

	*hits = NULL;
	*n_hits = 0;
	memset(timing, 0, sizeof(*timing));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (o->mode != RETRIEVE_VECTOR && (match = retrieve_match_expr(question))) {
		nb = RRF_WINDOW;
		if ((rc = store_passage_search(r->store, tenant, match, &o->filter, bm, &nb)))
			goto out;
	}
	timing->bm25_ms = util_ms_since(&t0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (o->mode != RETRIEVE_BM25) {
		if (!(q = malloc(sizeof(float) * (size_t)r->embed->dim))) {
			rc = -ENOMEM;
			goto out;
		}
		if ((rc = r->embed->embed(r->embed, &question, 1, q)))
			goto out;
		nv = RRF_WINDOW;
		if ((rc = vector_search(r, tenant, q, &o->filter, vec, &nv)))
			goto out;
		/* a question without words matches nothing by vector either */
		while (nv && vec[nv - 1].score <= 0)
			nv--;
	}
	timing->vector_ms = util_ms_since(&t1);
	for (int i = 0; i < nb; i++) {
		f[nf] = (struct fused){ bm[i].id, bm[i].score, 0, 1.0 / (RRF_K + i + 1), i + 1, 0 };
		nf++;
	}
	for (size_t i = 0; i < nv; i++) {
		struct fused *x = fused_find(f, nf, vec[i].id);
		if (!x) {
			x = &f[nf++];
			*x = (struct fused){ vec[i].id, 0, 0, 0, 0, 0 };
		}
		x->vector = vec[i].score;
		x->vector_rank = (int)i + 1;
		x->rrf += RRF_VECTOR_WEIGHT / (RRF_K + (double)i + 1);
	}
	qsort(f, nf, sizeof(*f), cmp_fused_desc);
	if (!(out = calloc((size_t)(o->k > 0 ? o->k : 1), sizeof(*out)))) {
		rc = -ENOMEM;
		goto out;
	}
	/* group by document, best passage first */
	for (size_t i = 0; i < nf; i++) {
		struct passage_row p;
		struct hit *h = NULL;
		if ((rc = store_passage_get(r->store, f[i].id, &p))) {
			if (rc == -ENOENT) { /* dropped meanwhile */
				rc = 0;
				continue;
			}
			goto out;
		}
		for (size_t j = 0; j < nout; j++)
			if (out[j].doc_id == p.doc_id)
				h = &out[j];
		if (!h && nout < (size_t)o->k) {
			h = &out[nout++];
			h->doc_id = p.doc_id;
			h->kind = p.kind;
			h->path = hit_path(&p);
			h->title = strdup(p.title);
			h->score = f[i].rrf;
			h->bm25 = f[i].bm25;
			h->vector = f[i].vector;
			h->bm25_rank = f[i].bm25_rank;
			h->vector_rank = f[i].vector_rank;
			if (!h->path || !h->title) {
				passage_row_clear(&p);
				nout--;
				rc = -ENOMEM;
				goto out;
			}
		}
		if (h && h->n_passages < HIT_PASSAGES) {
			h->passages[h->n_passages].row = p;
			h->passages[h->n_passages++].fused = f[i].rrf;
		} else {
			passage_row_clear(&p);
		}
		if (nout == (size_t)o->k && !h) {
			/* all k documents found; later passages only add to them */
			bool full = true;
			for (size_t j = 0; j < nout; j++)
				full &= out[j].n_passages == HIT_PASSAGES;
			if (full)
				break;
		}
	}
	*hits = out;
	*n_hits = nout;
	out = NULL;
out:
	if (out)
		hits_free(out, nout);
	timing->total_ms = util_ms_since(&t0);
	free(match);
	free(q);
	return rc;
}

void hits_free(struct hit *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].path);
		free(h[i].title);
		for (size_t j = 0; j < h[i].n_passages; j++)
			passage_row_clear(&h[i].passages[j].row);
	}
	free(h);
}
