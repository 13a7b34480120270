/* bm25_micro - build and query time of the in-memory BM25 index (bm25.h).
 *   bm25_micro [N] [QUERIES] [SEED]
 * Two corpora of N passages (default 400000) of 120 words each:
 *   uniform  words drawn uniformly from gen_freshdesk's 80-word vocabulary,
 *            so every term is in most passages: the worst case;
 *   zipf     20,000 synthetic words with Zipf s = 1, like natural text.
 * Then QUERIES (default 200) queries of 3-8 words drawn the same way, top
 * 100 each, on one core. Prints build time (in bm25_add only, not
 * generating the text), index memory and query latency percentiles. Deterministic for a given seed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bm25.h"

#define WORDS_PER_PASSAGE 120
#define ZIPF_WORDS 20000
#define TOP 100

#include "vocab.h"

static double rnd_unit(void)
{
	return (double)rnd(1U << 30) / (double)(1U << 30);
}

struct vocab {
	char (*word)[16];
	double *cdf; /* NULL: uniform */
	size_t n;
};

/* Word rank r as letters, e.g. "kobami": Porter-stemmable, mostly unique. */
static void zipf_word_name(unsigned r, char *out)
{
	static const char cons[] = "bcdfgklmnprstvz", vow[] = "aeiou";
	size_t len = 0;

	out[len++] = "kpt"[r % 3];
	r /= 3;
	do {
		out[len++] = vow[r % 5];
		r /= 5;
		out[len++] = cons[r % 15];
		r /= 15;
	} while (r);
	out[len] = 0;
}

static int vocab_init(struct vocab *v, bool zipf)
{
	double sum = 0;

	v->n = zipf ? ZIPF_WORDS : NWORDS;
	v->word = calloc(v->n, sizeof(*v->word));
	v->cdf = zipf ? malloc(v->n * sizeof(double)) : NULL;
	if (!v->word || (zipf && !v->cdf))
		return -1;
	for (size_t i = 0; i < v->n; i++) {
		if (zipf) {
			zipf_word_name((unsigned)i, v->word[i]);
			sum += 1.0 / (double)(i + 1);
			v->cdf[i] = sum;
		} else {
			snprintf(v->word[i], sizeof(v->word[i]), "%s", words[i]);
		}
	}
	for (size_t i = 0; zipf && i < v->n; i++)
		v->cdf[i] /= sum;
	return 0;
}

static const char *vocab_draw(const struct vocab *v)
{
	size_t lo = 0, hi;
	double u;

	if (!v->cdf)
		return v->word[rnd((unsigned)v->n)];
	u = rnd_unit();
	hi = v->n - 1;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (v->cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return v->word[lo];
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

static void append(char *buf, size_t *len, const char *w)
{
	size_t n = strlen(w);

	if (*len)
		buf[(*len)++] = ' ';
	memcpy(buf + *len, w, n + 1);
	*len += n;
}

static int run(const char *name, bool zipf, size_t n, size_t n_queries, unsigned long long seed)
{
	struct vocab v = { 0 };
	struct bm25 *ix = NULL;
	struct bm25_hit hits[TOP];
	char text[WORDS_PER_PASSAGE * 16], query[8 * 16];
	double t0, build_ms, *lat = NULL, sum = 0;
	size_t total_hits = 0;
	int rc = -1;

	state = seed;
	if (vocab_init(&v, zipf) || !(ix = bm25_new()) ||
	    !(lat = malloc(n_queries * sizeof(*lat)))) {
		fprintf(stderr, "bm25_micro: out of memory\n");
		goto out;
	}
	build_ms = 0;
	for (size_t s = 0; s < n; s++) {
		size_t len = 0;
		for (int k = 0; k < WORDS_PER_PASSAGE; k++)
			append(text, &len, vocab_draw(&v));
		t0 = now_ms();
		if ((rc = bm25_add(ix, (uint32_t)s, NULL, text))) {
			fprintf(stderr, "bm25_micro: add %zu: %s\n", s, strerror(-rc));
			goto out;
		}
		build_ms += now_ms() - t0;
	}
	for (size_t q = 0; q < n_queries; q++) {
		size_t len = 0, nh = TOP;
		unsigned nw = 3 + rnd(6);
		for (unsigned k = 0; k < nw; k++)
			append(query, &len, vocab_draw(&v));
		t0 = now_ms();
		if ((rc = bm25_search(ix, query, NULL, NULL, hits, &nh))) {
			fprintf(stderr, "bm25_micro: search '%s': %s\n", query, strerror(-rc));
			goto out;
		}
		lat[q] = now_ms() - t0;
		sum += lat[q];
		total_hits += nh;
	}
	qsort(lat, n_queries, sizeof(*lat), cmp_double);
	printf("%-8s %zu passages: build %.2f s (%.2f us/passage), memory %.1f MB "
	       "(%.1f bytes/passage)\n",
	       name, n, build_ms / 1e3, build_ms * 1e3 / (double)n, bm25_memory(ix) / 1e6,
	       (double)bm25_memory(ix) / (double)n);
	printf("%-8s %zu queries top-%d: p50 %.3f ms, p99 %.3f ms, max %.3f ms, mean %.3f ms, "
	       "%.1f hits/query\n",
	       name, n_queries, TOP, lat[n_queries / 2], lat[(n_queries * 99) / 100],
	       lat[n_queries - 1], sum / (double)n_queries,
	       (double)total_hits / (double)n_queries);
	rc = 0;
out:
	bm25_free(ix);
	free(lat);
	free(v.word);
	free(v.cdf);
	return rc;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 400000;
	size_t q = argc > 2 ? strtoull(argv[2], NULL, 10) : 200;
	unsigned long long seed = argc > 3 ? strtoull(argv[3], NULL, 10) : 42;

	if (!n || !q || n >= UINT32_MAX) {
		fprintf(stderr, "usage: bm25_micro [N] [QUERIES] [SEED]\n");
		return 2;
	}
	if (run("uniform", false, n, q, seed) || run("zipf", true, n, q, seed))
		return 1;
	return 0;
}
