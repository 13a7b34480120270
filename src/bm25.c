/* bm25.c - in-memory BM25 index (bm25.h).
 *
 * Layout. A term dictionary (open addressing on the XXH3 hash of the stem,
 * linear probing) maps stems to struct term; a small direct-mapped cache
 * from words as written to terms spares most tokens the stemmer. A term
 * keeps its postings in increasing slot order in one of two forms, chosen
 * by density (postings over the slots from its first to its last one):
 *   sparse  a uint32_t slot and a uint8_t tf per posting (5 bytes);
 *   dense   a uint8_t tf per slot of that span, 0 where absent (1 byte).
 * A term goes dense at density 1/DENSE_IN and back to sparse below
 * 1/DENSE_OUT, so conversions cost O(1) amortized per posting. Common
 * terms (stop words) are thus dense: a fifth of the memory, and scored by
 * a vector loop instead of a scatter. Per slot: dl and present/removed bits.
 *
 * Search is exhaustive and document-at-a-time over blocks of up to BLOCK
 * consecutive slots, so its state stays in L1 and no accumulator over all
 * slots is allocated:
 *  - a block starts at the first slot from the previous block's end that
 *    any query term holds, so runs of slots no term holds are skipped;
 *  - if a dense term reaches the block, it is scored whole: length norms
 *    and accumulators for every slot, one vector pass per dense term, then
 *    the sparse terms' postings scattered in; else only the sparse
 *    postings are scattered, a bitmap marking the slots they touch;
 *  - slots scoring above the heap minimum (anything above 0 until the
 *    heap is full) are checked against removal and the filter, then enter
 *    the top-n min-heap. Slots come in increasing order, so "above" gives
 *    ties to the smaller slot.
 * MaxScore pruning (Turtle and Flood, 1995: once the heap is full, terms
 * whose bounds sum below its minimum only complete the scores of passages
 * found through the others) was tried, exact: on the Zipf corpus of
 * bench/bm25_micro.c it lowered the median by about 10% and raised p99 by
 * 10-30%, as top-100 minimums rise slowly and probing a term for each
 * candidate costs about what summing it does. So the search stays
 * exhaustive, and simple.
 */
#include "bm25.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#ifdef __x86_64__
#include <immintrin.h>
#endif

#include "text.h"

#define BLOCK 1024     /* slots scored together: acc and norm stay in L1 */
#define DENSE_MIN 64   /* terms with fewer postings stay sparse */
#define DENSE_IN 4     /* sparse -> dense at postings * DENSE_IN >= span */
#define DENSE_OUT 10   /* dense -> sparse at postings * DENSE_OUT < span */
#define TF_MAX 255
#define DL_MAX (1 << 24) /* dl is a float: exact up to here */
#define CACHE_WORD 23     /* longest word the stem cache holds */
#define CACHE_MIN 1024    /* stem cache entries, at least */
#define CACHE_MAX 65536   /* and at most (2 MB) */

struct term {
	uint8_t *mem;      /* sparse: uint32_t slot[cap] then uint8_t tf[cap];
			    * dense: uint8_t tf[cap] for slots base.., 0 past last */
	uint32_t name;     /* offset of the NUL-terminated stem in names */
	uint32_t count;    /* postings, i.e. df */
	uint32_t last;     /* slot of the last posting */
	uint32_t base;     /* dense: slot of tf[0] */
	uint32_t cap;      /* postings (sparse) or slots (dense) allocated */
	bool dense;
};

/* A direct-mapped cache from a word as written to its term: stemming is
 * most of the cost of indexing, and most tokens are frequent words. */
struct stem_cache {
	uint32_t tag;      /* hash of the word, high half */
	uint32_t id;       /* its term */
	uint8_t len;       /* 0: empty */
	char word[CACHE_WORD];
};

struct bm25 {
	uint64_t *table;   /* hash tag << 32 | (term index + 1); 0: empty */
	size_t table_mask;
	struct term *terms;
	size_t n_terms, terms_cap;
	char *names;
	size_t names_len, names_cap;
	float *dl;         /* tokens of each slot, a whole number <= DL_MAX */
	uint64_t *present; /* bit per slot: added */
	uint64_t *removed; /* bit per slot: removed */
	size_t slots_cap;  /* slots allocated, a multiple of 64 */
	size_t n_slots;    /* last added slot + 1 */
	size_t n_added, n_removed;
	uint64_t total_dl;
	size_t postings_bytes;
	uint32_t *ids;     /* bm25_add scratch: the term of each token */
	size_t n_ids, ids_cap;
	struct stem_cache *cache;
	size_t cache_size; /* a power of two, or 0 */
};

static inline bool bit_get(const uint64_t *b, size_t i)
{
	return b[i >> 6] >> (i & 63) & 1;
}

static inline void bit_set(uint64_t *b, size_t i)
{
	b[i >> 6] |= 1ULL << (i & 63);
}

/* Capacity for need elements growing from cap by half (amortized O(1)). */
static size_t grow_cap(size_t cap, size_t need)
{
	size_t n = cap + cap / 2 + 4;

	return n < need ? need : n;
}

/* A term's capacity: grow_cap() within uint32_t (need always fits). */
static size_t term_cap(size_t cap, size_t need)
{
	size_t n = grow_cap(cap, need);

	return n > UINT32_MAX ? UINT32_MAX : n;
}

/* realloc to hold need elements of size; *cap updated on success only. */
static void *array_grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t n = grow_cap(*cap, need);

	if (n > SIZE_MAX / size)
		return NULL;
	if (!(p = realloc(p, n * size)))
		return NULL;
	*cap = n;
	return p;
}

/* ---- postings ----------------------------------------------------------- */

static inline uint32_t *term_slots(const struct term *t)
{
	return (uint32_t *)(void *)t->mem;
}

static inline uint8_t *term_tf(const struct term *t)
{
	return t->dense ? t->mem : t->mem + (size_t)t->cap * sizeof(uint32_t);
}

static inline size_t term_bytes(const struct term *t)
{
	return t->dense ? t->cap : (size_t)t->cap * (sizeof(uint32_t) + 1);
}

/* Replaces t's storage by mem (of cap entries, dense or not). */
static void term_set_mem(struct bm25 *ix, struct term *t, uint8_t *mem, size_t cap, bool dense)
{
	ix->postings_bytes -= term_bytes(t);
	free(t->mem);
	t->mem = mem;
	t->cap = (uint32_t)cap;
	t->dense = dense;
	ix->postings_bytes += term_bytes(t);
}

static int sparse_resize(struct bm25 *ix, struct term *t, size_t cap)
{
	uint8_t *mem = malloc(cap * (sizeof(uint32_t) + 1));

	if (!mem)
		return -ENOMEM;
	if (t->count) {
		memcpy(mem, t->mem, (size_t)t->count * sizeof(uint32_t));
		memcpy(mem + cap * sizeof(uint32_t), term_tf(t), t->count);
	}
	term_set_mem(ix, t, mem, cap, false);
	return 0;
}

static int dense_resize(struct bm25 *ix, struct term *t, size_t cap)
{
	uint8_t *mem = realloc(t->mem, cap);

	if (!mem)
		return -ENOMEM;
	memset(mem + t->cap, 0, cap - t->cap);
	ix->postings_bytes += cap - t->cap;
	t->mem = mem;
	t->cap = (uint32_t)cap;
	return 0;
}

static int term_to_dense(struct bm25 *ix, struct term *t, uint32_t first, size_t cap)
{
	const uint32_t *slots = term_slots(t);
	const uint8_t *tf = term_tf(t);
	uint8_t *mem = calloc(cap, 1);

	if (!mem)
		return -ENOMEM;
	for (size_t i = 0; i < t->count; i++)
		mem[slots[i] - first] = tf[i];
	t->base = first;
	term_set_mem(ix, t, mem, cap, true);
	return 0;
}

static int term_to_sparse(struct bm25 *ix, struct term *t, size_t cap)
{
	uint8_t *mem = malloc(cap * (sizeof(uint32_t) + 1));
	uint32_t *slots = (uint32_t *)(void *)mem;
	uint8_t *tf = mem + cap * sizeof(uint32_t);
	size_t n = 0;

	if (!mem)
		return -ENOMEM;
	for (size_t i = 0; i <= (size_t)t->last - t->base; i++) {
		if (t->mem[i]) {
			slots[n] = t->base + (uint32_t)i;
			tf[n++] = t->mem[i];
		}
	}
	term_set_mem(ix, t, mem, cap, false);
	return 0;
}

/* Makes room for a new posting of t at slot (picking the form it will
 * have), so that term_append() cannot fail. Idempotent until then. */
static int term_reserve(struct bm25 *ix, struct term *t, uint32_t slot)
{
	size_t postings, span;
	uint32_t first;

	postings = (size_t)t->count + 1;
	if (t->dense) {
		span = (size_t)slot - t->base + 1;
		if (postings * DENSE_OUT < span)
			return term_to_sparse(ix, t, term_cap(postings, postings));
		return span <= t->cap ? 0 : dense_resize(ix, t, term_cap(t->cap, span));
	}
	first = t->count ? term_slots(t)[0] : slot;
	span = (size_t)slot - first + 1;
	if (postings >= DENSE_MIN && postings * DENSE_IN >= span)
		return term_to_dense(ix, t, first, term_cap(span, span));
	return postings <= t->cap ? 0 : sparse_resize(ix, t, term_cap(t->cap, postings));
}

/* Counts one occurrence of t in passage slot (term_reserve() done). */
static void term_append(struct term *t, uint32_t slot)
{
	uint8_t *tf;

	if (t->count && t->last == slot) {
		tf = t->dense ? &t->mem[slot - t->base] : &term_tf(t)[t->count - 1];
		if (*tf < TF_MAX)
			(*tf)++;
		return;
	}
	if (t->dense) {
		t->mem[slot - t->base] = 1;
	} else {
		term_slots(t)[t->count] = slot;
		term_tf(t)[t->count] = 1;
	}
	t->count++;
	t->last = slot;
}

/* ---- term dictionary ---------------------------------------------------- */

/* Finds stem w (NUL-terminated) of hash tag: sets *id and returns true. */
static bool term_find(const struct bm25 *ix, const char *w, uint32_t tag, uint32_t *id)
{
	uint64_t e;

	if (!ix->table)
		return false;
	for (size_t i = tag & ix->table_mask; (e = ix->table[i]); i = (i + 1) & ix->table_mask) {
		*id = (uint32_t)e - 1;
		if ((uint32_t)(e >> 32) == tag && !strcmp(ix->names + ix->terms[*id].name, w))
			return true;
	}
	return false;
}

static void table_put(uint64_t *table, size_t mask, uint32_t tag, uint32_t id)
{
	size_t i = tag & mask;

	while (table[i])
		i = (i + 1) & mask;
	table[i] = (uint64_t)tag << 32 | (id + 1);
}

static int table_grow(struct bm25 *ix)
{
	size_t size = ix->table ? 2 * (ix->table_mask + 1) : 1024;
	uint64_t *table = calloc(size, sizeof(*table));

	if (!table)
		return -ENOMEM;
	for (size_t i = 0; ix->table && i <= ix->table_mask; i++)
		if (ix->table[i])
			table_put(table, size - 1, (uint32_t)(ix->table[i] >> 32),
				  (uint32_t)ix->table[i] - 1);
	free(ix->table);
	ix->table = table;
	ix->table_mask = size - 1;
	return 0;
}

/* Sets *id to the term of stem w (len bytes, NUL-terminated), adding it. */
static int term_intern(struct bm25 *ix, const char *w, size_t len, uint32_t *id)
{
	uint32_t tag = (uint32_t)(XXH3_64bits(w, len) >> 32);
	void *p;
	int rc;

	if (term_find(ix, w, tag, id))
		return 0;
	if (ix->n_terms >= UINT32_MAX - 1 || ix->names_len + len + 1 > UINT32_MAX)
		return -ENOMEM;
	if ((!ix->table || 2 * (ix->n_terms + 1) > ix->table_mask + 1) && (rc = table_grow(ix)))
		return rc;
	if (ix->n_terms == ix->terms_cap) {
		if (!(p = array_grow(ix->terms, &ix->terms_cap, ix->n_terms + 1, sizeof(*ix->terms))))
			return -ENOMEM;
		ix->terms = p;
	}
	if (ix->names_len + len + 1 > ix->names_cap) {
		if (!(p = array_grow(ix->names, &ix->names_cap, ix->names_len + len + 1, 1)))
			return -ENOMEM;
		ix->names = p;
	}
	memcpy(ix->names + ix->names_len, w, len + 1);
	memset(&ix->terms[ix->n_terms], 0, sizeof(ix->terms[0]));
	ix->terms[ix->n_terms].name = (uint32_t)ix->names_len;
	ix->names_len += len + 1;
	*id = (uint32_t)ix->n_terms++;
	table_put(ix->table, ix->table_mask, tag, *id);
	return 0;
}

/* ---- building ----------------------------------------------------------- */

struct bm25 *bm25_new(void)
{
	return calloc(1, sizeof(struct bm25));
}

void bm25_free(struct bm25 *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; i < ix->n_terms; i++)
		free(ix->terms[i].mem);
	free(ix->table);
	free(ix->terms);
	free(ix->names);
	free(ix->dl);
	free(ix->present);
	free(ix->removed);
	free(ix->ids);
	free(ix->cache);
	free(ix);
}

/* Makes dl and the bitmaps hold slots [0, need), the new ones zeroed. */
static int slots_reserve(struct bm25 *ix, size_t need)
{
	size_t cap, words, old = ix->slots_cap / 64;
	void *p;

	if (need <= ix->slots_cap)
		return 0;
	cap = ix->slots_cap * 2 > need ? ix->slots_cap * 2 : need;
	cap = (cap + 63) & ~(size_t)63;
	words = cap / 64;
	/* each array is kept as soon as it has grown: a later failure leaves
	 * them larger than slots_cap, which is harmless */
	if (!(p = realloc(ix->dl, cap * sizeof(*ix->dl))))
		return -ENOMEM;
	ix->dl = p;
	if (!(p = realloc(ix->present, words * sizeof(uint64_t))))
		return -ENOMEM;
	ix->present = p;
	if (!(p = realloc(ix->removed, words * sizeof(uint64_t))))
		return -ENOMEM;
	ix->removed = p;
	memset(ix->dl + ix->slots_cap, 0, (cap - ix->slots_cap) * sizeof(*ix->dl));
	memset(ix->present + old, 0, (words - old) * sizeof(uint64_t));
	memset(ix->removed + old, 0, (words - old) * sizeof(uint64_t));
	ix->slots_cap = cap;
	return 0;
}

struct add_ctx {
	struct bm25 *ix;
	int rc;
};

/* Sizes the stem cache to the vocabulary; without memory, it stays as is. */
static void cache_resize(struct bm25 *ix)
{
	size_t want = CACHE_MIN;
	struct stem_cache *c;

	while (want < 2 * ix->n_terms && want < CACHE_MAX)
		want *= 2;
	if (want <= ix->cache_size || !(c = calloc(want, sizeof(*c))))
		return;
	free(ix->cache);
	ix->cache = c;
	ix->cache_size = want;
}

/* The term of word w as written (len bytes; w is stemmed in place). */
static int word_term(struct bm25 *ix, char *w, size_t len, uint32_t *id)
{
	struct stem_cache *e = NULL;
	uint64_t h;
	int rc;

	if (ix->cache && len <= CACHE_WORD) {
		h = XXH3_64bits(w, len);
		e = &ix->cache[h & (ix->cache_size - 1)];
		if (e->len == len && e->tag == (uint32_t)(h >> 32) && !memcmp(e->word, w, len)) {
			*id = e->id;
			return 0;
		}
		e->len = 0;
		e->tag = (uint32_t)(h >> 32);
		memcpy(e->word, w, len);
	}
	if ((rc = term_intern(ix, w, text_stem(w, len), id)))
		return rc;
	if (e) {
		e->id = *id;
		e->len = (uint8_t)len;
	}
	return 0;
}

static void add_word(char *w, size_t len, void *arg)
{
	struct add_ctx *c = arg;
	struct bm25 *ix = c->ix;
	uint32_t id;
	void *p;

	if (c->rc || (c->rc = word_term(ix, w, len, &id)))
		return;
	if (ix->n_ids == ix->ids_cap) {
		if (!(p = array_grow(ix->ids, &ix->ids_cap, ix->n_ids + 1, sizeof(*ix->ids)))) {
			c->rc = -ENOMEM;
			return;
		}
		ix->ids = p;
	}
	ix->ids[ix->n_ids++] = id;
}

/* Tokens go to terms first (new terms without postings are harmless), then
 * every posting is reserved, then appended: nothing can fail once the
 * index starts changing, so an error leaves it as it was. */
int bm25_add(struct bm25 *ix, uint32_t slot, const char *title, const char *text)
{
	struct add_ctx c = { ix, 0 };
	uint32_t dl;
	int rc;

	if (slot == UINT32_MAX || slot < ix->n_slots)
		return -EINVAL;
	ix->n_ids = 0;
	cache_resize(ix);
	if (title)
		text_words(title, strlen(title), add_word, &c);
	if (text)
		text_words(text, strlen(text), add_word, &c);
	if ((rc = c.rc))
		goto out;
	if ((rc = slots_reserve(ix, (size_t)slot + 1)))
		goto out;
	for (size_t i = 0; i < ix->n_ids; i++)
		if ((rc = term_reserve(ix, &ix->terms[ix->ids[i]], slot)))
			goto out;
	dl = ix->n_ids > DL_MAX ? DL_MAX : (uint32_t)ix->n_ids;
	for (size_t i = 0; i < ix->n_ids; i++)
		term_append(&ix->terms[ix->ids[i]], slot);
	ix->dl[slot] = (float)dl;
	bit_set(ix->present, slot);
	ix->n_slots = (size_t)slot + 1;
	ix->n_added++;
	ix->total_dl += dl;
out:
	return rc;
}

void bm25_remove(struct bm25 *ix, uint32_t slot)
{
	if (slot >= ix->n_slots || !bit_get(ix->present, slot) || bit_get(ix->removed, slot))
		return;
	bit_set(ix->removed, slot);
	ix->n_removed++;
}

size_t bm25_removed(const struct bm25 *ix)
{
	return ix->n_removed;
}

size_t bm25_passages(const struct bm25 *ix)
{
	return ix->n_added - ix->n_removed;
}

size_t bm25_memory(const struct bm25 *ix)
{
	return sizeof(*ix) + (ix->table ? (ix->table_mask + 1) * sizeof(uint64_t) : 0) +
	       ix->terms_cap * sizeof(struct term) + ix->names_cap +
	       ix->slots_cap * sizeof(float) + ix->slots_cap / 64 * 2 * sizeof(uint64_t) +
	       ix->ids_cap * sizeof(uint32_t) + ix->cache_size * sizeof(struct stem_cache) +
	       ix->postings_bytes;
}

/* ---- search ------------------------------------------------------------- */

static inline float term_score(float w, unsigned tf, float norm)
{
	float t = (float)tf;

	return w * t / (t + norm);
}

/* ---- kernels: the loops over whole blocks ------------------------------
 * Plain C, and on x86-64 SSE2 (always there) and AVX2 (when the CPU has it)
 * versions, picked per search. All compute the same IEEE operations in the
 * same order as term_score(), so they give the same floats. */

struct kernels {
	/* norm[i] = a + b * dl[i] for i < n */
	void (*norm)(float *restrict norm, const float *restrict dl, float a, float b, size_t n);
	/* acc[i] += term_score(w, tf[i], norm[i]) for i < n; tf 0 adds 0 */
	void (*add)(float *restrict acc, const uint8_t *restrict tf, const float *restrict norm,
		    float w, size_t n);
	/* the first i in [from, n) with acc[i] > cut, or n */
	size_t (*next_above)(const float *acc, size_t from, size_t n, float cut);
};

static void norm_c(float *restrict norm, const float *restrict dl, float a, float b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		norm[i] = a + b * dl[i];
}

static void add_c(float *restrict acc, const uint8_t *restrict tf, const float *restrict norm,
		  float w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		acc[i] += term_score(w, tf[i], norm[i]);
}

static size_t next_above_c(const float *acc, size_t from, size_t n, float cut)
{
	while (from < n && !(acc[from] > cut))
		from++;
	return from;
}

#ifdef __x86_64__
static void norm_sse2(float *restrict norm, const float *restrict dl, float a, float b, size_t n)
{
	__m128 va = _mm_set1_ps(a), vb = _mm_set1_ps(b);
	size_t i = 0;

	for (; i + 4 <= n; i += 4)
		_mm_storeu_ps(norm + i, _mm_add_ps(va, _mm_mul_ps(vb, _mm_loadu_ps(dl + i))));
	norm_c(norm + i, dl + i, a, b, n - i);
}

static inline __m128 add4_sse2(__m128 acc, __m128i tf32, __m128 norm, __m128 w)
{
	__m128 t = _mm_cvtepi32_ps(tf32);

	return _mm_add_ps(acc, _mm_div_ps(_mm_mul_ps(w, t), _mm_add_ps(t, norm)));
}

static void add_sse2(float *restrict acc, const uint8_t *restrict tf, const float *restrict norm,
		     float w, size_t n)
{
	__m128 vw = _mm_set1_ps(w);
	__m128i z = _mm_setzero_si128();
	size_t i = 0;

	for (; i + 16 <= n; i += 16) {
		__m128i q = _mm_loadu_si128((const __m128i *)(const void *)(tf + i));
		__m128i lo = _mm_unpacklo_epi8(q, z), hi = _mm_unpackhi_epi8(q, z);
		_mm_storeu_ps(acc + i, add4_sse2(_mm_loadu_ps(acc + i), _mm_unpacklo_epi16(lo, z),
						 _mm_loadu_ps(norm + i), vw));
		_mm_storeu_ps(acc + i + 4, add4_sse2(_mm_loadu_ps(acc + i + 4),
						     _mm_unpackhi_epi16(lo, z),
						     _mm_loadu_ps(norm + i + 4), vw));
		_mm_storeu_ps(acc + i + 8, add4_sse2(_mm_loadu_ps(acc + i + 8),
						     _mm_unpacklo_epi16(hi, z),
						     _mm_loadu_ps(norm + i + 8), vw));
		_mm_storeu_ps(acc + i + 12, add4_sse2(_mm_loadu_ps(acc + i + 12),
						      _mm_unpackhi_epi16(hi, z),
						      _mm_loadu_ps(norm + i + 12), vw));
	}
	add_c(acc + i, tf + i, norm + i, w, n - i);
}

static size_t next_above_sse2(const float *acc, size_t from, size_t n, float cut)
{
	__m128 vc = _mm_set1_ps(cut);

	for (; from + 4 <= n; from += 4) {
		int m = _mm_movemask_ps(_mm_cmpgt_ps(_mm_loadu_ps(acc + from), vc));
		if (m)
			return from + (size_t)__builtin_ctz((unsigned)m);
	}
	return next_above_c(acc, from, n, cut);
}

__attribute__((target("avx2"))) static void
norm_avx2(float *restrict norm, const float *restrict dl, float a, float b, size_t n)
{
	__m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b);
	size_t i = 0;

	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(norm + i,
				 _mm256_add_ps(va, _mm256_mul_ps(vb, _mm256_loadu_ps(dl + i))));
	norm_c(norm + i, dl + i, a, b, n - i);
}

__attribute__((target("avx2"))) static void
add_avx2(float *restrict acc, const uint8_t *restrict tf, const float *restrict norm, float w,
	 size_t n)
{
	__m256 vw = _mm256_set1_ps(w);
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		__m128i q = _mm_loadl_epi64((const __m128i *)(const void *)(tf + i));
		__m256 t = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(q));
		__m256 v = _mm256_div_ps(_mm256_mul_ps(vw, t),
					 _mm256_add_ps(t, _mm256_loadu_ps(norm + i)));
		_mm256_storeu_ps(acc + i, _mm256_add_ps(_mm256_loadu_ps(acc + i), v));
	}
	add_c(acc + i, tf + i, norm + i, w, n - i);
}

__attribute__((target("avx2"))) static size_t
next_above_avx2(const float *acc, size_t from, size_t n, float cut)
{
	__m256 vc = _mm256_set1_ps(cut);

	for (; from + 8 <= n; from += 8) {
		int m = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(acc + from), vc, _CMP_GT_OQ));
		if (m)
			return from + (size_t)__builtin_ctz((unsigned)m);
	}
	return next_above_c(acc, from, n, cut);
}
#endif

/* The widest kernels the CPU runs; DESKFS_BM25_SIMD=sse2 or =off in the
 * environment picks narrower ones, for tests and benchmarks. */
static struct kernels kernels_pick(void)
{
	const char *simd = getenv("DESKFS_BM25_SIMD");

	if (simd && !strcmp(simd, "off"))
		return (struct kernels){ norm_c, add_c, next_above_c };
#ifdef __x86_64__
	if (!(simd && !strcmp(simd, "sse2")) && __builtin_cpu_supports("avx2"))
		return (struct kernels){ norm_avx2, add_avx2, next_above_avx2 };
	return (struct kernels){ norm_sse2, add_sse2, next_above_sse2 };
#else
	return (struct kernels){ norm_c, add_c, next_above_c };
#endif
}

struct qterm {
	const uint32_t *slots; /* sparse */
	const uint8_t *tf;
	uint32_t base, span;   /* dense: tf covers slots [base, base + span) */
	uint32_t count;
	size_t pos;            /* sparse cursor: its first posting not yet summed */
	float w;               /* idf * (k1 + 1) */
	bool dense;
};

struct search {
	const struct bm25 *ix;
	bm25_accept_fn accept;
	void *ctx;
	struct kernels k;
	struct qterm *q;
	size_t m;
	float a, b;            /* length norm: k1 * (1 - b + b * dl / avgdl) = a + b * dl */
	struct bm25_hit *heap; /* the caller's out as a min-heap, worst hit on top */
	size_t n_heap, cap;
	uint32_t *ids;         /* query parsing: the term of each word */
	size_t n_ids, ids_cap;
	int rc;
	float acc[BLOCK];      /* score of slot start + i */
	float norm[BLOCK];     /* a + b * dl of slot start + i */
	uint16_t cand[BLOCK];  /* the block's slots that may enter, as offsets */
	uint64_t touched[BLOCK / 64]; /* sparse blocks: acc[i] and norm[i] are set */
};

static inline bool hit_worse(const struct bm25_hit *x, const struct bm25_hit *y)
{
	return x->score < y->score || (x->score == y->score && x->slot > y->slot);
}

static void heap_sift_down(struct bm25_hit *h, size_t n, size_t i)
{
	struct bm25_hit x = h[i];

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && hit_worse(&h[c + 1], &h[c]))
			c++;
		if (!hit_worse(&h[c], &x))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

static void heap_push(struct search *s, uint32_t slot, float score)
{
	struct bm25_hit x = { slot, score };
	size_t i;

	if (s->n_heap == s->cap) {
		s->heap[0] = x;
		heap_sift_down(s->heap, s->n_heap, 0);
		return;
	}
	for (i = s->n_heap++; i; i = (i - 1) / 2) {
		size_t parent = (i - 1) / 2;
		if (!hit_worse(&x, &s->heap[parent]))
			break;
		s->heap[i] = s->heap[parent];
	}
	s->heap[i] = x;
}

/* The score a slot must beat to enter: the heap minimum once it is full,
 * else 0 (every match scores above 0). Slots come in increasing order, so
 * one that ties the minimum loses (ties go to the smaller slot). */
static inline float search_bar(const struct search *s)
{
	return s->n_heap == s->cap ? s->heap[0].score : 0;
}

/* Offers the block's candidates cand[0..n) (offsets from start, scores in
 * acc) to the heap, in slot order, skipping removed and rejected slots. */
static void search_admit(struct search *s, uint32_t start, size_t n)
{
	const struct bm25 *ix = s->ix;

	for (size_t k = 0; k < n; k++) {
		uint16_t c = s->cand[k];
		uint32_t slot = start + c;
		if (!(s->acc[c] > search_bar(s)) || bit_get(ix->removed, slot))
			continue;
		if (s->accept && !s->accept(slot, s->ctx))
			continue;
		heap_push(s, slot, s->acc[c]);
	}
}

static inline bool qterm_overlaps(const struct qterm *q, size_t start, size_t end)
{
	return q->dense && q->base < end && (size_t)q->base + q->span > start;
}

/* Scores [start, end) whole: dense terms by the vector kernel, sparse ones
 * by scattering their postings. */
static void search_dense_block(struct search *s, uint32_t start, uint32_t end)
{
	size_t len = end - start, n = 0;
	float bar = search_bar(s);

	s->k.norm(s->norm, s->ix->dl + start, s->a, s->b, len);
	memset(s->acc, 0, len * sizeof(float));
	for (size_t j = 0; j < s->m; j++) {
		const struct qterm *q = &s->q[j];
		uint32_t lo, hi;
		if (!qterm_overlaps(q, start, end))
			continue;
		lo = q->base > start ? q->base : start;
		hi = q->base + q->span < end ? q->base + q->span : end;
		s->k.add(s->acc + (lo - start), q->tf + (lo - q->base), s->norm + (lo - start), q->w,
			 hi - lo);
	}
	for (size_t j = 0; j < s->m; j++) {
		struct qterm *q = &s->q[j];
		/* sparse terms' postings; dense ones (no slot list) were added above */
		for (; !q->dense && q->pos < q->count && q->slots[q->pos] < end; q->pos++) {
			size_t i = q->slots[q->pos] - start;
			s->acc[i] += term_score(q->w, q->tf[q->pos], s->norm[i]);
		}
	}
	for (size_t i = 0; (i = s->k.next_above(s->acc, i, len, bar)) < len; i++)
		s->cand[n++] = (uint16_t)i;
	search_admit(s, start, n);
}

/* Scores the slots of [start, end) that sparse terms hold (no dense term
 * reaches the block): their postings are scattered, touched marks them. */
static void search_sparse_block(struct search *s, uint32_t start, uint32_t end)
{
	size_t words = (end - start + 63) / 64, n = 0;
	float bar = search_bar(s);

	memset(s->touched, 0, words * sizeof(uint64_t));
	for (size_t j = 0; j < s->m; j++) {
		struct qterm *q = &s->q[j];
		/* dense terms have no slot list (and none overlaps a sparse block) */
		for (; !q->dense && q->pos < q->count && q->slots[q->pos] < end; q->pos++) {
			uint32_t slot = q->slots[q->pos];
			size_t i = slot - start;
			uint64_t word = s->touched[i / 64], bit = 1ULL << (i % 64);
			/* branch-free: whether terms share a slot is unpredictable */
			float nr = s->a + s->b * s->ix->dl[slot], old = word & bit ? s->acc[i] : 0;
			s->norm[i] = nr;
			s->acc[i] = old + term_score(q->w, q->tf[q->pos], nr);
			s->touched[i / 64] = word | bit;
		}
	}
	for (size_t k = 0; k < words; k++) {
		for (uint64_t bits = s->touched[k]; bits; bits &= bits - 1) {
			size_t i = k * 64 + (size_t)__builtin_ctzll(bits);
			if (s->acc[i] > bar)
				s->cand[n++] = (uint16_t)i;
		}
	}
	search_admit(s, start, n);
}

/* Scores block after block, each starting at the first posting left. */
static void search_run(struct search *s)
{
	size_t next = 0, n_slots = s->ix->n_slots;

	for (;;) {
		size_t start = SIZE_MAX, end;
		bool dense_block = false;

		for (size_t j = 0; j < s->m; j++) {
			const struct qterm *q = &s->q[j];
			size_t at;
			if (q->dense) {
				if ((size_t)q->base + q->span <= next)
					continue;
				at = q->base > next ? q->base : next;
			} else {
				if (q->pos >= q->count)
					continue;
				at = q->slots[q->pos];
			}
			if (at < start)
				start = at;
		}
		if (start == SIZE_MAX)
			break;
		end = start + BLOCK < n_slots ? start + BLOCK : n_slots;
		for (size_t j = 0; j < s->m && !dense_block; j++)
			dense_block = qterm_overlaps(&s->q[j], start, end);
		if (dense_block)
			search_dense_block(s, (uint32_t)start, (uint32_t)end);
		else
			search_sparse_block(s, (uint32_t)start, (uint32_t)end);
		next = end;
	}
}

/* FTS5's idf: removed passages still count (bm25.h). */
static double term_idf(const struct bm25 *ix, const struct term *t)
{
	double n = (double)ix->n_added, df = t->count;
	double idf = log((n - df + 0.5) / (df + 0.5));

	return idf > 0 ? idf : 1e-6;
}

double bm25_term_idf(const struct bm25 *ix, const char *stem, size_t len)
{
	char w[TEXT_MAX_WORD];
	uint32_t id;

	if (len >= sizeof(w))
		return 0;
	memcpy(w, stem, len);
	w[len] = 0;
	if (!term_find(ix, w, (uint32_t)(XXH3_64bits(w, len) >> 32), &id) ||
	    !ix->terms[id].count)
		return 0;
	return term_idf(ix, &ix->terms[id]);
}

static void query_word(char *w, size_t len, void *arg)
{
	struct search *s = arg;
	uint32_t id;
	void *p;

	if (s->rc)
		return;
	len = text_stem(w, len);
	if (!term_find(s->ix, w, (uint32_t)(XXH3_64bits(w, len) >> 32), &id) ||
	    !s->ix->terms[id].count)
		return;
	if (s->n_ids == s->ids_cap) {
		if (!(p = array_grow(s->ids, &s->ids_cap, s->n_ids + 1, sizeof(*s->ids)))) {
			s->rc = -ENOMEM;
			return;
		}
		s->ids = p;
	}
	s->ids[s->n_ids++] = id;
}

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return (a > b) - (a < b);
}

static int cmp_hit_best(const void *x, const void *y)
{
	return hit_worse(y, x) ? -1 : hit_worse(x, y) ? 1 : 0;
}

/* Fills s->q from the query's distinct terms; by_count: each weighs the
 * times it occurs in the query. */
static int search_terms(struct search *s, const char *query, bool by_count)
{
	const struct bm25 *ix = s->ix;
	double avgdl = (double)ix->total_dl / (double)ix->n_added;
	size_t m = 0;

	text_words(query, strlen(query), query_word, s);
	if (s->rc || !s->n_ids)
		return s->rc;
	qsort(s->ids, s->n_ids, sizeof(*s->ids), cmp_u32);
	for (size_t i = 0; i < s->n_ids; i++)
		m += !i || s->ids[i] != s->ids[i - 1];
	if (!(s->q = calloc(m, sizeof(*s->q))))
		return -ENOMEM;
	s->a = (float)(BM25_K1 * (1 - BM25_B));
	s->b = (float)(BM25_K1 * BM25_B / avgdl);
	for (size_t i = 0, w = 0, next; w < m; i = next, w++) {
		const struct term *t = &ix->terms[s->ids[i]];
		struct qterm *q = &s->q[w];
		for (next = i + 1; next < s->n_ids && s->ids[next] == s->ids[i]; next++)
			;
		q->w = (float)(term_idf(ix, t) * (BM25_K1 + 1) * (by_count ? (double)(next - i) : 1));
		q->dense = t->dense;
		q->tf = term_tf(t);
		q->count = t->count;
		if (t->dense) {
			q->base = t->base;
			q->span = t->last - t->base + 1;
		} else {
			q->slots = term_slots(t);
		}
	}
	s->m = m;
	return 0;
}

static int search(const struct bm25 *ix, const char *query, bool by_count,
		  bm25_accept_fn accept, void *ctx, struct bm25_hit *out, size_t *n)
{
	struct search *s = NULL;
	int rc = 0;

	if (!*n || !ix->n_added || !ix->total_dl)
		goto out;
	if (!(s = calloc(1, sizeof(*s)))) {
		rc = -ENOMEM;
		goto out;
	}
	s->ix = ix;
	s->accept = accept;
	s->ctx = ctx;
	s->heap = out;
	s->cap = *n;
	s->k = kernels_pick();
	if ((rc = search_terms(s, query, by_count)) || !s->m)
		goto out;
	search_run(s);
	qsort(out, s->n_heap, sizeof(*out), cmp_hit_best);
out:
	*n = s && !rc ? s->n_heap : 0;
	if (s) {
		free(s->q);
		free(s->ids);
		free(s);
	}
	return rc;
}

int bm25_search(const struct bm25 *ix, const char *query, bm25_accept_fn accept, void *ctx,
		struct bm25_hit *out, size_t *n)
{
	return search(ix, query, false, accept, ctx, out, n);
}

int bm25_search_doc(const struct bm25 *ix, const char *text, bm25_accept_fn accept, void *ctx,
		    struct bm25_hit *out, size_t *n)
{
	return search(ix, text, true, accept, ctx, out, n);
}
