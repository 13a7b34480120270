/* retrieve.c - passages, vector indexes and hybrid search (retrieve.h). */
#include "retrieve.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bm25.h"
#include "config.h"
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

/* Embeds every passage and stores them for the document: all of its
 * passages, or (part non-NULL) those with that message id. */
static int chunks_store(struct store *s, struct embedder *e, int64_t tenant,
			const struct passage_doc *d, struct chunks *c, const char *part)
{
	const char **texts = NULL;
	char *blobs;
	float *vecs = NULL;
	int rc = c->rc;

	if (rc)
		return rc;
	if (c->n && e) {
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
		if (!(blobs = chunks_own(c, vec_blobs(vecs, c->n, e->dim)))) {
			rc = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < c->n; i++) {
			c->p[i].vec = blobs + i * VEC_BLOB_LEN(e->dim);
			c->p[i].vec_len = VEC_BLOB_LEN(e->dim);
		}
	}
	rc = part ? store_passages_set_part(s, tenant, d, part, c->p, c->n) :
		    store_passages_set(s, tenant, d, c->p, c->n);
out:
	free(texts);
	free(vecs);
	return rc;
}

int retrieve_index_ticket(struct store *s, struct embedder *e, int64_t tenant, int64_t doc_id,
			  const struct ticket *t)
{
	struct passage_doc d = { doc_id, DOC_TICKET, t->status ? t->status : "", t->created,
				 e ? e->model : "" };
	struct chunks c = { 0 };
	int rc;

	for (size_t i = 0; i < t->n_msgs; i++)
		chunk_text(&c, t->msgs[i].id, t->subject, t->msgs[i].text);
	if (!t->n_msgs)
		chunk_text(&c, "description", t->subject, t->body_text);
	if (!c.n && t->subject)
		chunk_text(&c, "subject", t->subject, t->subject);
	rc = chunks_store(s, e, tenant, &d, &c, NULL);
	chunks_clear(&c);
	return rc;
}

int retrieve_index_summary(struct store *s, struct embedder *e, int64_t tenant, int64_t doc_id,
			   const struct ticket *t, const char *text)
{
	struct passage_doc d = { doc_id, DOC_TICKET, t->status ? t->status : "", t->created,
				 e ? e->model : "" };
	struct chunks c = { 0 };
	int rc;

	chunk_text(&c, PASSAGE_SUMMARY_ID, t->subject, text);
	rc = chunks_store(s, e, tenant, &d, &c, PASSAGE_SUMMARY_ID);
	chunks_clear(&c);
	return rc;
}

int retrieve_index_article(struct store *s, struct embedder *e, int64_t tenant, int64_t doc_id,
			   const struct article *a)
{
	struct passage_doc d = { doc_id, DOC_ARTICLE, "", a->created, e ? e->model : "" };
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
	rc = chunks_store(s, e, tenant, &d, &c, NULL);
	chunks_clear(&c);
	return rc;
}

/* ---- in-memory tenant indexes ---------------------------------------------
 *
 * One index per tenant: its live passages in id order ("slots"), with
 * what filters need, a BM25 term index (bm25.h) and the vectors of the
 * tenant's current embedding model (int8, stored by column). Refreshed
 * before each search from the store's cursors (store.h): the drop log
 * tombstones slots, new passages are appended,
 * re-embedded vectors are written into their slots. A change of model,
 * a trimmed drop log or a quarter of the slots dead rebuild it. */

#define STATUS_MAX 32

struct tindex {
	int64_t tenant;
	char model[EMBED_MODEL_MAX]; /* vectors held are of this model */
	int dim;                     /* 0 until the first vector */
	int64_t last_id, last_vseq, last_gone;
	bool full_load;              /* the refresh under way loads from scratch */
	size_t n, cap;
	int64_t *ids, *docs, *created;
	uint8_t *kinds, *status, *dead;
	float *scales;               /* 0: no vector of the model */
	int8_t *cols;                /* column-major: component k of slot i at [k * cap + i] */
	struct bm25 *bm;
	char *statuses[STATUS_MAX];  /* interned status strings */
	size_t n_statuses;
	struct tindex *next;
};

struct retriever {
	struct store *store;
	pthread_rwlock_t rw; /* searches read; refreshes (list, loads) write */
	struct tindex *indexes;
};

#define VSCAN_SPLIT 65536 /* from this many slots the scan runs on two threads */
static atomic_int scans_running; /* column scans under way, process-wide */
/* VSCAN_SPLIT, or DESKFS_TEST_VSCAN_SPLIT from the environment (read by
 * retriever_new) so that tests with small tenants take the two-thread path */
static size_t vscan_split = VSCAN_SPLIT;

struct retriever *retriever_new(struct store *s)
{
	struct retriever *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->store = s;
	pthread_rwlock_init(&r->rw, NULL);
	const char *split = getenv("DESKFS_TEST_VSCAN_SPLIT");
	if (split && strtoull(split, NULL, 10) > 0)
		vscan_split = (size_t)strtoull(split, NULL, 10);
	return r;
}

static void tindex_reset(struct tindex *t)
{
	free(t->ids);
	free(t->docs);
	free(t->created);
	free(t->kinds);
	free(t->status);
	free(t->dead);
	free(t->scales);
	free(t->cols);
	bm25_free(t->bm);
	for (size_t i = 0; i < t->n_statuses; i++)
		free(t->statuses[i]);
	int64_t tenant = t->tenant;
	struct tindex *next = t->next;
	memset(t, 0, sizeof(*t));
	t->tenant = tenant;
	t->next = next;
}

void retriever_free(struct retriever *r)
{
	if (!r)
		return;
	while (r->indexes) {
		struct tindex *t = r->indexes;
		r->indexes = t->next;
		tindex_reset(t);
		free(t);
	}
	pthread_rwlock_destroy(&r->rw);
	free(r);
}

static int status_index(struct tindex *t, const char *status)
{
	for (size_t i = 0; i < t->n_statuses; i++)
		if (!strcmp(t->statuses[i], status))
			return (int)i;
	if (t->n_statuses == STATUS_MAX)
		return STATUS_MAX; /* too many kinds: filter cannot match it */
	if (!(t->statuses[t->n_statuses] = strdup(status)))
		return -ENOMEM;
	return (int)t->n_statuses++;
}

/* The slot of passage id, or -1. */
static ssize_t tindex_slot(const struct tindex *t, int64_t id)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (t->ids[mid] == id)
			return (ssize_t)mid;
		if (t->ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Sizes the vector columns for dim (the model's, known from its first
 * vector) and cap slots: each column moves to its new stride. */
static int tindex_grow_vecs(struct tindex *t, size_t cap)
{
	int8_t *c;

	if (!t->dim)
		return 0;
	if (!(c = calloc(cap, (size_t)t->dim)))
		return -ENOMEM;
	for (size_t k = 0; t->cols && k < (size_t)t->dim; k++)
		memcpy(c + k * cap, t->cols + k * t->cap, t->n);
	free(t->cols);
	t->cols = c;
	return 0;
}

/* Stores a vector blob (embed.h layout) into slot i when it is of the
 * index's model and dimension; other vectors leave the slot without one. */
static int tindex_vec_put(struct tindex *t, size_t i, const char *vmodel, const void *vec,
			  size_t len)
{
	const int8_t *v = (const int8_t *)vec + sizeof(float);
	int rc;

	if (!vec || len <= sizeof(float) || strcmp(vmodel, t->model))
		return 0;
	if (!t->dim) {
		t->dim = (int)(len - sizeof(float));
		if ((rc = tindex_grow_vecs(t, t->cap)))
			return rc;
	}
	if (len != sizeof(float) + (size_t)t->dim)
		return 0;
	memcpy(&t->scales[i], vec, sizeof(float));
	for (size_t k = 0; k < (size_t)t->dim; k++)
		t->cols[k * t->cap + i] = v[k];
	return 0;
}

static int tindex_append(void *arg, const struct passage_load *p)
{
	struct tindex *t = arg;
	int st, rc;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
#define GROW(f) do { void *p_ = realloc(t->f, cap * sizeof(*t->f)); if (!p_) return -ENOMEM; \
		     t->f = p_; } while (0)
		GROW(ids); GROW(docs); GROW(created); GROW(kinds); GROW(status); GROW(dead);
		GROW(scales);
#undef GROW
		if ((rc = tindex_grow_vecs(t, cap)))
			return rc;
		t->cap = cap;
	}
	if ((st = status_index(t, p->status)) < 0)
		return st;
	size_t i = t->n;
	t->ids[i] = p->id;
	t->docs[i] = p->doc_id;
	t->created[i] = p->created;
	t->kinds[i] = (uint8_t)p->kind;
	t->status[i] = (uint8_t)st;
	t->dead[i] = 0;
	t->scales[i] = 0;
	if ((rc = bm25_add(t->bm, (uint32_t)i, p->title, p->text)))
		return rc;
	t->n++;
	t->last_id = p->id;
	/* a full load reads one snapshot, so every vector written up to the
	 * highest vseq it saw is in it; an incremental one must not move the
	 * cursor past re-embedded passages it did not read */
	if (t->full_load && p->vseq > t->last_vseq)
		t->last_vseq = p->vseq;
	return tindex_vec_put(t, i, p->vmodel, p->vec, p->vec_len);
}

static int tindex_revec(void *arg, const struct passage_load *p)
{
	struct tindex *t = arg;
	ssize_t i = tindex_slot(t, p->id);

	t->last_vseq = p->vseq;
	if (i < 0)
		return 0;
	t->scales[i] = 0; /* re-embedded with another model: no vector */
	return tindex_vec_put(t, (size_t)i, p->vmodel, p->vec, p->vec_len);
}

static int tindex_gone(void *arg, int64_t seq, int64_t passage_id)
{
	struct tindex *t = arg;
	ssize_t i = tindex_slot(t, passage_id);

	t->last_gone = seq;
	if (i >= 0 && !t->dead[i]) {
		t->dead[i] = 1;
		bm25_remove(t->bm, (uint32_t)i);
	}
	return 0;
}

/* True when the tenant's index for model is loaded and no cursor of the
 * store has moved past it: the search needs no refresh (and no write
 * lock, so searches of several workers run side by side). Call with r->rw
 * held for read. */
static bool tindex_current(struct retriever *r, int64_t tenant, const char *model,
			   struct tindex **out)
{
	int64_t id, vseq, gone;
	struct tindex *t;

	for (t = r->indexes; t && t->tenant != tenant; t = t->next)
		;
	if (!t || !t->bm || strcmp(t->model, model) ||
	    store_passage_cursors(r->store, tenant, &id, &vseq, &gone))
		return false;
	*out = t;
	return id <= t->last_id && vseq <= t->last_vseq && gone <= t->last_gone;
}

/* The tenant's index for model, brought up to date; call with r->rw held
 * for write. On error the index is left empty, to load again next time. */
static int tindex_refresh(struct retriever *r, int64_t tenant, const char *model,
			  struct tindex **out)
{
	int64_t cnt[CNT__COUNT];
	struct tindex *t;
	int rc;

	for (t = r->indexes; t && t->tenant != tenant; t = t->next)
		;
	if (!t) {
		if (!(t = calloc(1, sizeof(*t))))
			return -ENOMEM;
		t->tenant = tenant;
		t->next = r->indexes;
		r->indexes = t;
	}
	*out = t;
	if ((rc = store_counters(r->store, tenant, cnt)))
		return rc;
	if (t->bm && (strcmp(t->model, model) || cnt[CNT_GONE_FLOOR] > t->last_gone ||
		      (bm25_removed(t->bm) > 1000 && bm25_removed(t->bm) > t->n / 4)))
		tindex_reset(t);
	if (!t->bm) {
		snprintf(t->model, sizeof(t->model), "%s", model);
		if (!(t->bm = bm25_new()))
			return -ENOMEM;
		/* drops from here on are applied after the load (if the passage
		 * was loaded, it is tombstoned; if not, nothing happens) */
		if ((rc = store_passage_gone_max(r->store, tenant, &t->last_gone)))
			goto fail;
	} else if ((rc = store_passage_gone(r->store, tenant, t->last_gone, tindex_gone, t)) ||
		   (rc = store_passage_revectors(r->store, tenant, t->last_vseq, tindex_revec,
						 t))) {
		goto fail;
	}
	t->full_load = t->last_id == 0;
	rc = store_passage_load(r->store, tenant, t->last_id, tindex_append, t);
	t->full_load = false;
	if (rc)
		goto fail;
	return 0;
fail:
	tindex_reset(t);
	return rc;
}

struct scored {
	int64_t id;
	uint32_t slot;
	float score;
	int64_t doc;
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
	const struct scored *x = a, *y = b;

	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Which slots a search may return: live ones passing the filter. */
struct slot_filter {
	const struct tindex *t;
	const struct passage_filter *f;
	int want_status; /* -1: any */
};

static void slot_filter_init(struct slot_filter *sf, const struct tindex *t,
			     const struct passage_filter *f)
{
	sf->t = t;
	sf->f = f;
	sf->want_status = -1;
	if (f && f->status && *f->status) {
		sf->want_status = STATUS_MAX + 1; /* no passage has it */
		for (size_t i = 0; i < t->n_statuses; i++)
			if (!strcmp(t->statuses[i], f->status))
				sf->want_status = (int)i;
	}
}

static bool slot_ok(uint32_t i, void *arg)
{
	const struct slot_filter *sf = arg;
	const struct tindex *t = sf->t;
	const struct passage_filter *f = sf->f;

	if (t->dead[i])
		return false;
	return !f || !((f->kind && t->kinds[i] != f->kind) ||
		       (sf->want_status >= 0 && t->status[i] != sf->want_status) ||
		       (f->since && t->created[i] < f->since) ||
		       (f->until && t->created[i] > f->until));
}

/* The scan's inner loop, compiled for AVX-512 and AVX2 where the CPU has
 * them and at -O3 whatever the build type: GCC 12 does not vectorize them
 * at -O2, and vectorized they run 3 to 4 times as fast (docs/performance.md). */
#define VSCAN_KERNEL \
	__attribute__((target_clones("arch=x86-64-v4", "avx2", "default"), optimize("O3")))

/* acc[i] += w[0] * c0[i] + ... + w[3] * c3[i]: four components of every
 * vector at once, so acc is read and written once for four columns (twice
 * as fast as one column a pass). A scan pads its last group with weight 0. */
VSCAN_KERNEL
static void col_accumulate4(int32_t *restrict acc, const int8_t *restrict c0,
			    const int8_t *restrict c1, const int8_t *restrict c2,
			    const int8_t *restrict c3, const int32_t w[4], size_t n)
{
	const int32_t w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];

	for (size_t i = 0; i < n; i++)
		acc[i] += w0 * (int32_t)c0[i] + w1 * (int32_t)c1[i] + w2 * (int32_t)c2[i] +
			  w3 * (int32_t)c3[i];
}

/* Dot product of float q with slot i's vector, scaled. */
static float slot_dot(const struct tindex *t, const float *q, size_t i)
{
	float s = 0;

	/* a component of q that is zero reads no column (a cache miss each) */
	for (size_t k = 0; k < (size_t)t->dim; k++)
		if (q[k] != 0)
			s += q[k] * (float)t->cols[k * t->cap + i];
	return s * t->scales[i];
}

/* True when slots of kind are so few that scoring each whole (dim reads
 * apiece, each from another cache line of the column-major layout) costs
 * less than the column scan (nz columns of every slot, read in sequence):
 * a byte scan counts them. */
static bool kind_rare(const struct tindex *t, int kind, size_t nz)
{
	size_t m = 0;

	for (size_t i = 0; i < t->n; i++)
		m += t->kinds[i] == kind;
	return m * (size_t)t->dim * 64 < t->n * nz;
}

#define VSCAN_BLOCK 4096

/* One range of slots of a column scan, into its own top-k heap. */
struct scan {
	const struct tindex *t;
	const struct slot_filter *sf;
	const int8_t *q8;
	const uint32_t *ks;
	size_t nz;
	float qscale;
	size_t from, to;
	struct scored *heap;
	size_t got, cap;
};

static void scan_range(struct scan *s)
{
	const struct tindex *t = s->t;
	int32_t acc[VSCAN_BLOCK];

	for (size_t b = s->from; b < s->to; b += VSCAN_BLOCK) {
		size_t m = s->to - b < VSCAN_BLOCK ? s->to - b : VSCAN_BLOCK;
		memset(acc, 0, m * sizeof(*acc));
		for (size_t j = 0; j < s->nz; j += 4) {
			const int8_t *c[4];
			int32_t w[4];
			for (size_t g = 0; g < 4; g++) {
				/* past the last component: the first one again, weight 0 */
				uint32_t k = s->ks[j + g < s->nz ? j + g : j];
				c[g] = t->cols + k * t->cap + b;
				w[g] = j + g < s->nz ? s->q8[k] : 0;
			}
			col_accumulate4(acc, c[0], c[1], c[2], c[3], w, m);
		}
		for (size_t j = 0; j < m; j++) {
			size_t i = b + j;
			float sc = (float)acc[j] * s->qscale * t->scales[i];
			/* heap_push's own first test, before the filter: most
			 * slots of a large index stop here */
			if (s->got == s->cap && sc <= s->heap[0].score)
				continue;
			if (t->scales[i] == 0 || !slot_ok((uint32_t)i, (void *)s->sf))
				continue;
			heap_push(s->heap, &s->got, s->cap,
				  (struct scored){ t->ids[i], (uint32_t)i, sc, t->docs[i] });
		}
	}
}

static void *scan_thread(void *arg)
{
	scan_range(arg);
	return NULL;
}

/* Exact top-k vector search. Vectors are stored by column, so the scan
 * reads only the components where the quantized question is not zero
 * (a question of the offline embedder has a few dozen of its 256), a
 * block of VSCAN_BLOCK slots at a time so the sums stay in L1 cache; a
 * large index is scanned in two halves on two threads. */
static int vector_search(const struct tindex *t, const struct slot_filter *sf, const float *q,
			 int dim, struct scored *out, size_t *n)
{
	size_t got = 0, cap = *n, nz = 0;
	uint32_t *ks = NULL;
	int8_t *q8 = NULL;
	float qscale;
	int rc = 0;

	*n = 0;
	if (dim != t->dim || !t->n)
		return 0; /* no vector of this model yet */
	q8 = malloc((size_t)dim);
	ks = malloc((size_t)dim * sizeof(*ks));
	if (!q8 || !ks) {
		rc = -ENOMEM;
		goto out;
	}
	vec_quantize(q, dim, q8, &qscale);
	for (size_t k = 0; k < (size_t)dim; k++)
		if (q8[k])
			ks[nz++] = (uint32_t)k;
	if (sf->f && sf->f->kind && kind_rare(t, sf->f->kind, nz)) {
		/* few slots of the kind wanted (articles among many tickets):
		 * score just those, one whole vector each */
		for (size_t i = 0; i < t->n; i++)
			if (t->kinds[i] == sf->f->kind && t->scales[i] != 0 &&
			    slot_ok((uint32_t)i, (void *)sf))
				heap_push(out, &got, cap, (struct scored){ t->ids[i], (uint32_t)i,
						slot_dot(t, q, i), t->docs[i] });
		goto done;
	}
	struct scan half = { t, sf, q8, ks, nz, qscale, 0, t->n, out, 0, cap };
	pthread_t helper;
	bool split = false;
	/* only a scan running alone takes the second core: beside others it
	 * would just queue the work (and their tail latency grew) */
	int running = atomic_fetch_add(&scans_running, 1);
	if (running == 0 && t->n >= vscan_split) {
		/* the second half of the slots on a helper thread, with its own heap */
		struct scan *h2 = &(struct scan){ t, sf, q8, ks, nz, qscale, t->n / 2, t->n,
						  malloc(cap * sizeof(*out)), 0, cap };
		half.to = t->n / 2;
		if (h2->heap && !pthread_create(&helper, NULL, scan_thread, h2)) {
			split = true;
			scan_range(&half);
			pthread_join(helper, NULL);
			got = half.got;
			for (size_t i = 0; i < h2->got; i++)
				heap_push(out, &got, cap, h2->heap[i]);
		} else {
			half.to = t->n;
		}
		free(h2->heap);
	}
	if (!split) {
		scan_range(&half);
		got = half.got;
	}
	atomic_fetch_sub(&scans_running, 1);
done:
	qsort(out, got, sizeof(*out), cmp_scored_desc);
	*n = got;
out:
	free(q8);
	free(ks);
	return rc;
}

/* The question's vector by an HTTP embedder; *q malloc'd, *dim its length. */
static int question_embed_http(const struct provider_conf *e, const char *question, float **q,
			       int *dim, char *err, size_t errlen)
{
	char perr[PROVIDER_ERR_MAX];
	int rc;

	*dim = 0;
	if ((rc = provider_embed(e, &question, 1, q, dim, perr)))
		provider_embed_note(e, perr, err, errlen);
	return rc;
}

/* acc[t->dim] += slot i's stored vector (dequantized: unit length, up to
 * the int8 rounding, for a vector of the offline embedder). */
static void slot_vector_add(const struct tindex *t, size_t i, float *acc)
{
	for (size_t k = 0; k < (size_t)t->dim; k++)
		acc[k] += (float)t->cols[k * t->cap + i] * t->scales[i];
}

/* The mean of document doc's stored vectors, unit length, into q[t->dim];
 * false when it has none. */
static bool doc_vector(const struct tindex *t, int64_t doc, float *q)
{
	size_t found = 0;

	memset(q, 0, sizeof(float) * (size_t)t->dim);
	for (size_t i = 0; i < t->n; i++) {
		if (t->docs[i] != doc || t->dead[i] || t->scales[i] == 0)
			continue;
		slot_vector_add(t, i, q);
		found++;
	}
	return found && vec_unit(q, t->dim);
}

/* Question words weigh their IDF in the tenant (bm25.h), relative to a
 * word in one passage of ten. */
static float idf_weight(const char *stem, size_t len, void *ctx)
{
	const struct bm25 *bm = ctx;
	double n = (double)bm25_passages(bm) + 1, ref = log((n + 0.5) / (n / 10 + 0.5));

	return (float)(bm25_term_idf(bm, stem, len) / (ref > 0.1 ? ref : 0.1));
}

/* Pseudo-relevance feedback for the offline embedder's question in hybrid
 * mode: q (unit length) becomes q + PRF_WEIGHT times the mean of the
 * stored (unit) vectors of the best PRF_PASSAGES BM25 passages, made unit
 * length again.
 * The vector list then ranks what resembles the best BM25 hits as well as
 * the question, which BM25 alone does not (docs/performance.md: on SciFact
 * it turns hybrid from below BM25 alone to above it). The sum is dense,
 * and the column scan reads one column per non-zero component, so only the
 * largest PRF_COLUMN_BUDGET / t->n components are kept (all of them below
 * about 230,000 slots), never fewer than the question's own. */
#define PRF_PASSAGES 3
#define PRF_WEIGHT 2.0f
#define PRF_COLUMN_BUDGET (60u * 1000 * 1000)

static int cmp_float_desc(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

static void question_feedback(const struct tindex *t, const struct scored *bm, size_t nb,
			      float *q)
{
	float fb[EMBED_OFFLINE_DIM] = { 0 }, mag[EMBED_OFFLINE_DIM];
	size_t used = 0, own = 0, keep;

	if (t->dim != EMBED_OFFLINE_DIM)
		return;
	for (size_t i = 0; i < nb && used < PRF_PASSAGES; i++)
		if (t->scales[bm[i].slot] != 0) {
			slot_vector_add(t, bm[i].slot, fb);
			used++;
		}
	if (!used)
		return;
	for (size_t k = 0; k < EMBED_OFFLINE_DIM; k++) {
		own += q[k] != 0;
		q[k] += PRF_WEIGHT * fb[k] / (float)used;
		mag[k] = fabsf(q[k]);
	}
	keep = PRF_COLUMN_BUDGET / (t->n ? t->n : 1);
	if (keep < own)
		keep = own;
	if (keep && keep < EMBED_OFFLINE_DIM) {
		qsort(mag, EMBED_OFFLINE_DIM, sizeof(float), cmp_float_desc);
		float least = mag[keep - 1];
		for (size_t k = 0; k < EMBED_OFFLINE_DIM; k++)
			if (fabsf(q[k]) < least)
				q[k] = 0;
	}
	vec_unit(q, EMBED_OFFLINE_DIM);
}

/* ---- fusion ------------------------------------------------------------- */

struct fused {
	int64_t id, doc;
	double bm25, vector, rrf, feedback;
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

static char *hit_path(const struct passage_row *p)
{
	size_t n = strlen(p->doc_name) + 24;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, p->kind == DOC_TICKET ? "tickets/%s/ticket.md" : "kb/%s.md",
			 p->doc_name);
	return s;
}

/* Ranks one list into f (fusing with what is there): weight / (RRF_K + rank). */
static void fuse_list(struct fused *f, size_t *nf, const struct scored *l, size_t n, bool bm25,
		      double weight)
{
	for (size_t i = 0; i < n; i++) {
		struct fused *x = fused_find(f, *nf, l[i].id);
		if (!x) {
			x = &f[(*nf)++];
			*x = (struct fused){ .id = l[i].id, .doc = l[i].doc, .feedback = 1 };
		}
		if (bm25) {
			x->bm25 = l[i].score;
			x->bm25_rank = (int)i + 1;
		} else {
			x->vector = l[i].score;
			x->vector_rank = (int)i + 1;
		}
		x->rrf += weight / (RRF_K + (double)i + 1);
	}
}

/* The vector list ranks the BM25 window too: each BM25 passage missing
 * from it is scored by vector and the list re-sorted, so fusion compares
 * both scores of every candidate (vec holds 2 * RRF_WINDOW). */
static void vector_fill(const struct tindex *t, const float *q, int dim, const struct scored *bm,
			size_t nb, struct scored *vec, size_t *nv)
{
	size_t n = *nv;

	for (size_t i = 0; i < nb; i++) {
		uint32_t slot = bm[i].slot;
		bool have = false;
		for (size_t j = 0; j < *nv && !have; j++)
			have = vec[j].slot == slot;
		if (have || t->scales[slot] == 0 || t->dim != dim)
			continue;
		vec[n++] = (struct scored){ bm[i].id, slot, slot_dot(t, q, slot), bm[i].doc };
	}
	qsort(vec, n, sizeof(*vec), cmp_scored_desc);
	*nv = n;
}

static int lists_rank(struct retriever *r, int64_t tenant, const char *question,
		      const struct retrieve_opts *o, struct scored *bm, size_t *nb,
		      struct scored *vec, size_t *nv, struct retrieve_timing *timing)
{
	const struct provider_conf *e = o->embedder;
	bool http = e && e->api != API_OFFLINE, want_vec = o->mode != RETRIEVE_BM25;
	char mbuf[EMBED_MODEL_MAX];
	const char *model = e ? config_embed_model(e, mbuf, sizeof(mbuf)) : EMBED_OFFLINE_MODEL;
	struct bm25_hit hb[RRF_WINDOW];
	struct slot_filter sf;
	struct timespec t0, t1;
	struct tindex *t;
	float *q = NULL;
	int dim = 0, rc = 0;

	/* an HTTP embedder is called before any lock is taken */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (want_vec && http && !o->like_doc &&
	    question_embed_http(e, question, &q, &dim, timing->vector_error,
						    sizeof(timing->vector_error))) {
		free(q);
		q = NULL; /* BM25 alone; the error is reported */
	}
	timing->embed_ms = util_ms_since(&t1);
	/* refresh exclusively when the store moved on, then search shared:
	 * searches run side by side */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_rwlock_rdlock(&r->rw);
	if (!tindex_current(r, tenant, model, &t)) {
		pthread_rwlock_unlock(&r->rw);
		pthread_rwlock_wrlock(&r->rw);
		rc = tindex_refresh(r, tenant, model, &t);
		pthread_rwlock_unlock(&r->rw);
		if (!rc)
			pthread_rwlock_rdlock(&r->rw);
	}
	timing->refresh_ms = util_ms_since(&t0);
	if (rc)
		goto out;
	slot_filter_init(&sf, t, &o->filter);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (o->mode != RETRIEVE_VECTOR) {
		size_t n = RRF_WINDOW;
		/* a document's text as the question: its words weigh their counts */
		if (!(rc = (o->like_doc ? bm25_search_doc : bm25_search)(t->bm, question, slot_ok,
									  &sf, hb, &n)))
			for (size_t i = 0; i < n; i++)
				bm[(*nb)++] = (struct scored){ t->ids[hb[i].slot], hb[i].slot,
							       hb[i].score, t->docs[hb[i].slot] };
	}
	timing->bm25_ms = util_ms_since(&t0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!rc && want_vec && o->like_doc) {
		/* a document's own vectors: no embedding request */
		dim = t->dim;
		if (dim && !(q = malloc(sizeof(float) * (size_t)dim)))
			rc = -ENOMEM;
		else if (dim && !doc_vector(t, o->like_doc, q)) {
			free(q);
			q = NULL;
		}
	} else if (!rc && want_vec && !http) {
		/* the offline embedder weighs the question's words by their IDF */
		dim = EMBED_OFFLINE_DIM;
		if (!(q = malloc(sizeof(float) * EMBED_OFFLINE_DIM)))
			rc = -ENOMEM;
		else
			embed_offline_query(question, idf_weight, t->bm, q);
		if (q && o->mode == RETRIEVE_HYBRID)
			question_feedback(t, bm, *nb, q);
	}
	if (!rc && q) {
		*nv = RRF_WINDOW;
		rc = vector_search(t, &sf, q, dim, vec, nv);
		if (!rc && *nv && o->mode == RETRIEVE_HYBRID)
			vector_fill(t, q, dim, bm, *nb, vec, nv);
		/* a question without words matches nothing by vector either */
		while (*nv && vec[*nv - 1].score <= 0)
			(*nv)--;
	}
	timing->vector_ms = util_ms_since(&t1);
	pthread_rwlock_unlock(&r->rw);
out:
	free(q);
	return rc;
}

/* Multiplies the fused score of each passage of a document with feedback
 * (feedback.h) by the document's factor. */
static void feedback_apply(struct fused *f, size_t nf, const struct retrieve_opts *o)
{
	for (size_t b = 0; b < o->n_boosts; b++)
		for (size_t i = 0; i < nf; i++)
			if (f[i].doc == o->boosts[b].doc_id) {
				f[i].rrf *= o->boosts[b].factor;
				f[i].feedback = o->boosts[b].factor;
			}
}

int retrieve(struct retriever *r, int64_t tenant, const char *question,
	     const struct retrieve_opts *o, struct hit **hits, size_t *n_hits,
	     struct retrieve_timing *timing)
{
	struct scored bm[RRF_WINDOW], vec[2 * RRF_WINDOW];
	struct fused f[3 * RRF_WINDOW];
	struct hit *out = NULL;
	size_t nf = 0, nv = 0, nb = 0, nout = 0;
	struct timespec t0;
	int rc;

	*hits = NULL;
	*n_hits = 0;
	memset(timing, 0, sizeof(*timing));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((rc = lists_rank(r, tenant, question, o, bm, &nb, vec, &nv, timing)))
		goto out;
	fuse_list(f, &nf, bm, nb, true, 1.0);
	fuse_list(f, &nf, vec, nv, false, o->embedder && o->embedder->api != API_OFFLINE ?
		  RRF_VECTOR_WEIGHT_HTTP : RRF_VECTOR_WEIGHT);
	feedback_apply(f, nf, o);
	qsort(f, nf, sizeof(*f), cmp_fused_desc);
	if (!(out = calloc((size_t)(o->k > 0 ? o->k : 1), sizeof(*out)))) {
		rc = -ENOMEM;
		goto out;
	}
	/* group by document, best passage first; a passage is read from the
	 * store only when its document takes it (one of the k, with room) */
	for (size_t i = 0; i < nf; i++) {
		struct passage_row p;
		struct hit *h = NULL;
		for (size_t j = 0; j < nout && !h; j++)
			if (out[j].doc_id == f[i].doc)
				h = &out[j];
		if (h ? h->n_passages == HIT_PASSAGES : nout == (size_t)o->k)
			continue;
		if ((rc = store_passage_get(r->store, f[i].id, &p))) {
			if (rc == -ENOENT) { /* dropped meanwhile */
				timing->stale++;
				rc = 0;
				continue;
			}
			goto out;
		}
		if (!h) {
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
			h->feedback = f[i].feedback;
			if (!h->path || !h->title) { /* hits_free frees what was made */
				passage_row_clear(&p);
				rc = -ENOMEM;
				goto out;
			}
		}
		h->passages[h->n_passages].row = p;
		h->passages[h->n_passages++].fused = f[i].rrf;
		if (nout == (size_t)o->k) {
			/* all k documents found: done once each has its passages */
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
