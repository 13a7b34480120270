/* test_bm25 - the in-memory BM25 index against hand-checked cases and an
 * independent brute-force scorer on random corpora (dense and sparse terms,
 * gaps, removals, filters, many blocks, concurrent searches). */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bm25.h"
#include "check.h"
#include "strbuf.h"
#include "text.h"

#define CLOSE(x, y) (fabs((double)(x) - (double)(y)) <= 1e-5 * fabs((double)(y)) + 1e-12)

/* ---- hand-checked cases -------------------------------------------------- */

static void test_basics(void)
{
	struct bm25 *ix = bm25_new();
	struct bm25_hit h[8];
	size_t n;

	CHECK(ix != NULL);
	n = 8;
	CHECK_INT(bm25_search(ix, "vpn", NULL, NULL, h, &n), 0);
	CHECK_INT(n, 0);

	CHECK_INT(bm25_add(ix, 0, "VPN", "connection drops"), 0);
	CHECK_INT(bm25_add(ix, 1, NULL, "printer jams"), 0);
	CHECK_INT(bm25_add(ix, 2, "", "VPN error after the update"), 0);
	CHECK_INT(bm25_add(ix, 2, "x", "y"), -EINVAL);
	CHECK_INT(bm25_add(ix, 1, "x", "y"), -EINVAL);
	CHECK_INT(bm25_add(ix, UINT32_MAX, "x", "y"), -EINVAL);
	CHECK_INT(bm25_passages(ix), 3);
	CHECK(bm25_memory(ix) > 0);

	/* N = 3, avgdl = 10/3; "printer": df 1, dl 2 (worked by hand) */
	n = 8;
	CHECK_INT(bm25_search(ix, "Printer?", NULL, NULL, h, &n), 0);
	CHECK_INT(n, 1);
	CHECK_INT(h[0].slot, 1);
	CHECK(CLOSE(h[0].score, 0.6107697675462934));

	/* "vpn" is in 2 of 3: idf <= 0 becomes 1e-6, still a match; the
	 * shorter passage (dl 3 against 5) ranks first */
	n = 8;
	CHECK_INT(bm25_search(ix, "vpn", NULL, NULL, h, &n), 0);
	CHECK_INT(n, 2);
	CHECK_INT(h[0].slot, 0);
	CHECK_INT(h[1].slot, 2);
	CHECK(CLOSE(h[0].score, 1.042654028436019e-06));
	CHECK(CLOSE(h[1].score, 8.301886792452831e-07));

	CHECK(CLOSE(bm25_term_idf(ix, "printer", 7), log(2.5 / 1.5)));
	CHECK(bm25_term_idf(ix, "vpn", 3) == 1e-6);
	CHECK(CLOSE(bm25_term_idf(ix, "connectXYZ", 7), log(2.5 / 1.5))); /* "connect" */
	CHECK(bm25_term_idf(ix, "connections", 11) == 0); /* not a stem */
	CHECK(bm25_term_idf(ix, "zebra", 5) == 0);

	/* stemming both ways, title words count, stop words are indexed */
	n = 8;
	CHECK_INT(bm25_search(ix, "connected", NULL, NULL, h, &n), 0);
	CHECK_INT(n, 1);
	CHECK_INT(h[0].slot, 0);
	n = 8;
	CHECK_INT(bm25_search(ix, "the updates", NULL, NULL, h, &n), 0);
	CHECK_INT(n, 1);
	CHECK_INT(h[0].slot, 2);

	/* a repeated query term counts once */
	{
		struct bm25_hit h2[8];
		size_t n2 = 8;
		n = 8;
		CHECK_INT(bm25_search(ix, "printer vpn", NULL, NULL, h, &n), 0);
		CHECK_INT(bm25_search(ix, "printers VPN printer printing", NULL, NULL, h2, &n2), 0);
		CHECK_INT(n, 3);
		CHECK_INT(n2, 3);
		/* "printing" stems to "print", not "printer": same terms */
		CHECK(n == n2 && !memcmp(h, h2, n * sizeof(*h)));
	}

	/* a document as the query: a term weighs its count in it */
	{
		struct bm25_hit h2[8];
		size_t n2 = 8;
		n = 8;
		CHECK_INT(bm25_search_doc(ix, "Printer?", NULL, NULL, h, &n), 0);
		CHECK_INT(n, 1);
		CHECK(CLOSE(h[0].score, 0.6107697675462934)); /* once: as bm25_search */
		n = 8;
		CHECK_INT(bm25_search_doc(ix, "printer jam printers", NULL, NULL, h, &n), 0);
		CHECK_INT(bm25_search(ix, "printer jam printers", NULL, NULL, h2, &n2), 0);
		CHECK_INT(n, 1);
		CHECK_INT(n2, 1);
		/* "printer" twice, "jam" once, against once each */
		CHECK(CLOSE(h[0].score - h2[0].score, 0.6107697675462934));
		/* the counts decide the order: "drops" three times outweighs
		 * "printer" once, which bm25_search ranks first */
		n = 8;
		n2 = 8;
		CHECK_INT(bm25_search_doc(ix, "printer drops drops drops", NULL, NULL, h, &n), 0);
		CHECK_INT(bm25_search(ix, "printer drops drops drops", NULL, NULL, h2, &n2), 0);
		CHECK_INT(n, 2);
		CHECK_INT(n2, 2);
		CHECK_INT(h2[0].slot, 1);
		CHECK_INT(h[0].slot, 0);
	}

	/* no indexed word, no words at all, no room */
	n = 8;
	CHECK_INT(bm25_search(ix, "zebra quagga", NULL, NULL, h, &n), 0);
	CHECK_INT(n, 0);
	n = 8;
	CHECK_INT(bm25_search(ix, "?! --", NULL, NULL, h, &n), 0);
	CHECK_INT(n, 0);
	n = 0;
	CHECK_INT(bm25_search(ix, "vpn", NULL, NULL, h, &n), 0);
	CHECK_INT(n, 0);

	/* removed slots are never returned but stay in the statistics */
	bm25_remove(ix, 0);
	bm25_remove(ix, 0);
	bm25_remove(ix, 7);
	CHECK_INT(bm25_removed(ix), 1);
	CHECK_INT(bm25_passages(ix), 2);
	n = 8;
	CHECK_INT(bm25_search(ix, "vpn", NULL, NULL, h, &n), 0);
	CHECK_INT(n, 1);
	CHECK_INT(h[0].slot, 2);
	CHECK(CLOSE(h[0].score, 8.301886792452831e-07));

	/* gaps are allowed */
	CHECK_INT(bm25_add(ix, 1000, "late", "vpn"), 0);
	n = 8;
	CHECK_INT(bm25_search(ix, "late", NULL, NULL, h, &n), 0);
	CHECK_INT(n, 1);
	CHECK_INT(h[0].slot, 1000);
	bm25_free(ix);
	bm25_free(NULL);
}

static bool accept_odd(uint32_t slot, void *ctx)
{
	(void)ctx;
	return slot & 1;
}

static void test_ties_and_filter(void)
{
	struct bm25 *ix = bm25_new();
	struct bm25_hit h[8];
	size_t n;

	/* identical passages tie: smaller slot first */
	CHECK_INT(bm25_add(ix, 2, "reset", "password reset link expired"), 0);
	CHECK_INT(bm25_add(ix, 3, "other", "nothing here"), 0);
	CHECK_INT(bm25_add(ix, 5, "reset", "password reset link expired"), 0);
	CHECK_INT(bm25_add(ix, 8, "reset", "password reset link expired"), 0);
	CHECK_INT(bm25_add(ix, 9, "reset", "password reset link expired"), 0);
	CHECK_INT(bm25_add(ix, 11, "reset", "password reset link expired again"), 0);
	n = 8;
	CHECK_INT(bm25_search(ix, "password reset", NULL, NULL, h, &n), 0);
	CHECK_INT(n, 5);
	CHECK_INT(h[0].slot, 2);
	CHECK_INT(h[1].slot, 5);
	CHECK_INT(h[2].slot, 8);
	CHECK_INT(h[3].slot, 9);
	CHECK_INT(h[4].slot, 11); /* longer: lower */
	CHECK(h[0].score == h[3].score);
	CHECK(h[4].score < h[3].score);
	n = 2;
	CHECK_INT(bm25_search(ix, "password reset", NULL, NULL, h, &n), 0);
	CHECK_INT(n, 2);
	CHECK_INT(h[0].slot, 2);
	CHECK_INT(h[1].slot, 5);
	n = 2;
	CHECK_INT(bm25_search(ix, "password reset", accept_odd, NULL, h, &n), 0);
	CHECK_INT(n, 2);
	CHECK_INT(h[0].slot, 5);
	CHECK_INT(h[1].slot, 9);
	bm25_free(ix);
}

/* A term dense at first, then sparse (a long gap), then dense again; and
 * enough distinct words for the dictionary to grow. */
static void test_forms(void)
{
	struct bm25 *ix = bm25_new();
	struct bm25_hit *h = calloc(1000, sizeof(*h));
	char word[32];
	size_t n;
	bool ok;

	for (uint32_t s = 0; s < 100; s++)
		CHECK_INT(bm25_add(ix, s, NULL, "alpha beta"), 0);
	CHECK_INT(bm25_add(ix, 2000, NULL, "alpha beta"), 0);
	n = 1000;
	CHECK_INT(bm25_search(ix, "alpha", NULL, NULL, h, &n), 0);
	CHECK_INT(n, 101);
	ok = n == 101 && h[100].slot == 2000;
	for (size_t i = 0; i < 100 && ok; i++)
		ok = h[i].slot == i && h[i].score == h[0].score;
	CHECK(ok);
	for (uint32_t s = 2001; s < 2600; s++)
		CHECK_INT(bm25_add(ix, s, NULL, s % 3 ? "alpha" : "gamma"), 0);
	n = 1000;
	CHECK_INT(bm25_search(ix, "alpha beta", NULL, NULL, h, &n), 0);
	CHECK_INT(n, 500);
	/* "alpha" is now in 500 of 700 passages (idf 1e-6), "beta" in 101 of
	 * them: the "alpha beta" passages first, then the "alpha" ones */
	ok = n == 500 && h[0].slot == 0 && h[100].slot == 2000 && h[101].slot == 2002 &&
	     h[499].slot == 2599;
	for (size_t i = 1; i < n && ok; i++)
		ok = h[i - 1].score > h[i].score ||
		     (h[i - 1].score == h[i].score && h[i - 1].slot < h[i].slot);
	CHECK(ok);
	n = 3;
	CHECK_INT(bm25_search(ix, "alpha", accept_odd, NULL, h, &n), 0);
	CHECK_INT(n, 3);
	CHECK_INT(h[0].slot, 2003);
	CHECK_INT(h[1].slot, 2005);
	CHECK_INT(h[2].slot, 2009);

	for (uint32_t s = 3000; s < 9000; s++) {
		snprintf(word, sizeof(word), "w%u alpha", s);
		CHECK_INT(bm25_add(ix, s, "title", word), 0);
	}
	n = 10;
	CHECK_INT(bm25_search(ix, "W4321 w8999 nothing", NULL, NULL, h, &n), 0);
	CHECK_INT(n, 2);
	CHECK_INT(h[0].slot, 4321);
	CHECK_INT(h[1].slot, 8999);
	free(h);
	bm25_free(ix);
}

/* ---- random corpora against brute force ---------------------------------- */

/* single-token words with shared stems, stop words and digits */
static const char *const vocab[] = {
	"the", "a", "is", "to", "not", "vpn", "connect", "connected", "connection",
	"connections", "connecting", "printer", "printers", "print", "printing", "reset",
	"password", "passwords", "login", "error", "errors", "crash", "crashed", "crashes",
	"update", "updated", "updates", "account", "email", "emails", "slow", "network",
	"wifi", "2024", "42", "x", "refund", "invoice", "license", "timeout", "browser",
	"chrome", "token", "expired", "locked", "sync", "backup", "restore", "folder", "share",
	"export", "import", "mobile", "app", "portal", "order", "shipping", "delivery",
	"customer", "billing",
};
#define NVOCAB (sizeof(vocab) / sizeof(vocab[0]))

static uint64_t rng;

static unsigned rnd(unsigned n)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((rng >> 33) % n);
}

/* a word index, Zipf-like (rank r with weight about 1/r) under perm */
static unsigned zipf_word(const unsigned *perm)
{
	unsigned r = rnd(1000) + 1, rank = 0;
	double x = (double)r / 1000 * log(NVOCAB + 1.0);

	rank = (unsigned)(exp(x) - 1);
	if (rank >= NVOCAB)
		rank = NVOCAB - 1;
	return perm[rank];
}

struct brute {
	unsigned stem_of[NVOCAB]; /* vocabulary word -> stem id */
	unsigned n_stems;
	size_t n_slots;           /* slot range */
	uint16_t (*tf)[NVOCAB];   /* per slot and stem */
	uint32_t *dl;
	bool *present, *removed;
	size_t n_added;
	double total_dl;
};

static void brute_stems(struct brute *b)
{
	char stems[NVOCAB][TEXT_MAX_WORD];

	b->n_stems = 0;
	for (size_t i = 0; i < NVOCAB; i++) {
		char w[TEXT_MAX_WORD];
		unsigned j;
		snprintf(w, sizeof(w), "%s", vocab[i]);
		text_stem(w, strlen(w));
		for (j = 0; j < b->n_stems && strcmp(stems[j], w); j++)
			;
		if (j == b->n_stems)
			snprintf(stems[b->n_stems++], TEXT_MAX_WORD, "%s", w);
		b->stem_of[i] = j;
	}
}

struct filter {
	unsigned *calls;
	const struct brute *b;
	unsigned mod;
	int bad; /* calls for removed slots or repeated */
};

static bool filter_ok(const struct filter *f, uint32_t slot)
{
	return (uint32_t)(slot * 2654435761u) >> 28 >= f->mod;
}

static bool accept_filter(uint32_t slot, void *ctx)
{
	struct filter *f = ctx;

	if (f->calls[slot]++ || f->b->removed[slot])
		f->bad++;
	return filter_ok(f, slot);
}

struct scored {
	uint32_t slot;
	double score;
};

static int cmp_scored(const void *x, const void *y)
{
	const struct scored *a = x, *b = y;

	if (a->score != b->score)
		return a->score < b->score ? 1 : -1;
	return (a->slot > b->slot) - (a->slot < b->slot);
}

/* Scores every live, accepted slot for the distinct stems of words[0..nw). */
static size_t brute_search(const struct brute *b, const unsigned *words, size_t nw,
			   const struct filter *f, struct scored *out, double *score_of)
{
	bool in_query[NVOCAB] = { false };
	double idf[NVOCAB], avgdl = b->total_dl / (double)b->n_added;
	size_t n = 0;

	for (size_t i = 0; i < nw; i++)
		in_query[b->stem_of[words[i]]] = true;
	for (unsigned t = 0; t < b->n_stems; t++) {
		double df = 0;
		if (!in_query[t])
			continue;
		for (size_t s = 0; s < b->n_slots; s++)
			df += b->present[s] && b->tf[s][t];
		idf[t] = log((b->n_added - df + 0.5) / (df + 0.5));
		if (idf[t] <= 0)
			idf[t] = 1e-6;
		if (!df)
			in_query[t] = false;
	}
	for (size_t s = 0; s < b->n_slots; s++) {
		double score = 0;
		score_of[s] = 0;
		if (!b->present[s])
			continue;
		for (unsigned t = 0; t < b->n_stems; t++) {
			double tf = b->tf[s][t];
			if (in_query[t] && tf)
				score += idf[t] * tf * (1.2 + 1) /
					 (tf + 1.2 * (1 - 0.75 + 0.75 * b->dl[s] / avgdl));
		}
		score_of[s] = score;
		if (score > 0 && !b->removed[s] && (!f || filter_ok(f, (uint32_t)s))) {
			out[n].slot = (uint32_t)s;
			out[n++].score = score;
		}
	}
	qsort(out, n, sizeof(*out), cmp_scored);
	return n;
}

/* got[0..ng) must be a top-ng of want[0..nw) up to float rounding. */
static void compare(const struct bm25_hit *got, size_t ng, const struct scored *want, size_t nw,
		    size_t cap, const double *score_of, const struct brute *b,
		    const struct filter *f)
{
	bool ok = true;

	CHECK_INT(ng, nw < cap ? nw : cap);
	if (ng != (nw < cap ? nw : cap))
		return;
	for (size_t i = 0; i < ng; i++) {
		uint32_t s = got[i].slot;
		ok &= s < b->n_slots && b->present[s] && !b->removed[s];
		ok &= !f || filter_ok(f, s);
		ok &= s < b->n_slots && CLOSE(got[i].score, score_of[s]);
		ok &= CLOSE(got[i].score, want[i].score);
		if (i) {
			ok &= got[i - 1].score >= got[i].score;
			ok &= got[i - 1].score > got[i].score || got[i - 1].slot < got[i].slot;
		}
		for (size_t j = 0; j < i; j++)
			ok &= got[j].slot != s;
	}
	/* whatever brute force ranks clearly above the last hit is in */
	for (size_t j = 0; ng && j < nw && want[j].score > want[ng - 1].score * (1 + 1e-5); j++) {
		bool found = false;
		for (size_t i = 0; i < ng && !found; i++)
			found = got[i].slot == want[j].slot;
		ok &= found;
	}
	CHECK(ok);
	if (!ok) {
		for (size_t i = 0; i < ng; i++)
			fprintf(stderr, "  %zu: got %u %.9g  want %u %.9g\n", i, got[i].slot,
				got[i].score, want[i].slot, want[i].score);
	}
}

/* A corpus of n_passages passages over slots with gaps; the word
 * distribution changes between thirds of the corpus so terms go dense
 * and back to sparse; some passages are removed as it grows. */
static void test_random(uint64_t seed, size_t n_passages, unsigned max_gap, unsigned max_len,
			size_t n_queries)
{
	struct brute b = { 0 };
	struct bm25 *ix = bm25_new();
	struct strbuf title = STRBUF_INIT, text = STRBUF_INIT;
	unsigned perm[NVOCAB];
	size_t slot = 0, cap_slots = n_passages * max_gap + 1;
	struct scored *want;
	double *score_of;
	struct bm25_hit *got;
	int add_errors = 0;

	rng = seed;
	brute_stems(&b);
	b.tf = calloc(cap_slots, sizeof(*b.tf));
	b.dl = calloc(cap_slots, sizeof(*b.dl));
	b.present = calloc(cap_slots, sizeof(bool));
	b.removed = calloc(cap_slots, sizeof(bool));
	want = calloc(cap_slots, sizeof(*want));
	score_of = calloc(cap_slots, sizeof(*score_of));
	got = calloc(cap_slots, sizeof(*got));
	for (size_t i = 0; i < NVOCAB; i++)
		perm[i] = (unsigned)i;
	for (size_t p = 0; p < n_passages; p++) {
		unsigned nt, nx;
		if (p % (n_passages / 3 + 1) == 0) {
			for (size_t i = NVOCAB - 1; i > 0; i--) {
				size_t j = rnd((unsigned)i + 1);
				unsigned x = perm[i];
				perm[i] = perm[j];
				perm[j] = x;
			}
		}
		slot += p ? 1 + rnd(max_gap) : rnd(3);
		nt = rnd(4);
		nx = rnd(max_len + 1);
		strbuf_reset(&title);
		strbuf_reset(&text);
		for (unsigned k = 0; k < nt + nx; k++) {
			unsigned w = zipf_word(perm);
			struct strbuf *sb = k < nt ? &title : &text;
			bool upper = !rnd(7);
			/* mixed case and punctuation: the tokenizer's business */
			if (upper)
				w = 5; /* "vpn" */
			strbuf_addf(sb, "%s%s", sb->len ? (rnd(5) ? " " : ", ") : "",
				    upper ? "VPN" : vocab[w]);
			b.tf[slot][b.stem_of[w]]++;
		}
		b.dl[slot] = nt + nx;
		b.present[slot] = true;
		b.n_added++;
		b.total_dl += nt + nx;
		add_errors += bm25_add(ix, (uint32_t)slot, nt ? title.buf : NULL,
				       nx ? text.buf : (rnd(2) ? "" : NULL)) != 0;
		if (p > 10 && !rnd(10)) {
			size_t victim = slot - rnd((unsigned)(slot + 1));
			bm25_remove(ix, (uint32_t)victim);
			if (b.present[victim])
				b.removed[victim] = true;
		}
	}
	b.n_slots = slot + 1;
	CHECK_INT(add_errors, 0);
	{
		size_t removed = 0;
		for (size_t s = 0; s < b.n_slots; s++)
			removed += b.removed[s];
		CHECK_INT(bm25_removed(ix), removed);
		CHECK_INT(bm25_passages(ix), b.n_added - removed);
	}

	for (size_t qi = 0; qi < n_queries; qi++) {
		static const size_t caps[] = { 1, 3, 10, 50, 100000 };
		unsigned words[12], nw = 1 + rnd(8);
		struct strbuf q = STRBUF_INIT;
		struct filter f = { NULL, &b, rnd(16), 0 };
		bool filtered = rnd(2);
		size_t cap = caps[rnd(5)], ng = cap, nwant;
		int rc;

		for (unsigned k = 0; k < nw; k++) {
			/* uniform here: rare words make selective queries */
			words[k] = rnd(3) ? zipf_word(perm) : rnd(NVOCAB);
			strbuf_addf(&q, "%s%s", k ? " " : "", vocab[words[k]]);
		}
		if (!rnd(5))
			strbuf_addstr(&q, " zebra");
		if (filtered)
			f.calls = calloc(b.n_slots, sizeof(unsigned));
		rc = bm25_search(ix, q.buf, filtered ? accept_filter : NULL, &f, got, &ng);
		CHECK_INT(rc, 0);
		nwant = brute_search(&b, words, nw, filtered ? &f : NULL, want, score_of);
		compare(got, ng, want, nwant, cap, score_of, &b, filtered ? &f : NULL);
		CHECK_INT(f.bad, 0);
		free(f.calls);
		strbuf_release(&q);
	}
	bm25_free(ix);
	strbuf_release(&title);
	strbuf_release(&text);
	free(b.tf);
	free(b.dl);
	free(b.present);
	free(b.removed);
	free(want);
	free(score_of);
	free(got);
}

/* ---- concurrent searches -------------------------------------------------- */

struct reader {
	const struct bm25 *ix;
	const struct bm25_hit *want; /* 20 queries x 10 hits */
	const size_t *n_want;
	int bad;
};

static const char *const reader_queries[] = {
	"vpn", "printer error", "the a is", "password reset login", "connections crashed",
	"update 2024", "refund invoice order", "x 42", "wifi network slow", "token expired",
	"mobile app", "email emails", "sync backup restore", "the", "chrome browser timeout",
	"customer billing", "shipping delivery", "license", "folder share export", "locked",
};

static void *reader_run(void *arg)
{
	struct reader *r = arg;

	for (int round = 0; round < 20; round++) {
		for (size_t q = 0; q < 20; q++) {
			struct bm25_hit h[10];
			size_t n = 10;
			if (bm25_search(r->ix, reader_queries[q], NULL, NULL, h, &n) ||
			    n != r->n_want[q] || memcmp(h, r->want + q * 10, n * sizeof(*h)))
				r->bad++;
		}
	}
	return NULL;
}

static void test_threads(void)
{
	struct bm25 *ix = bm25_new();
	struct bm25_hit want[20 * 10];
	size_t n_want[20];
	struct reader r[2];
	pthread_t th[2];
	struct strbuf sb = STRBUF_INIT;

	rng = 99;
	for (uint32_t s = 0; s < 5000; s++) {
		strbuf_reset(&sb);
		for (int k = 0; k < 30; k++)
			strbuf_addf(&sb, "%s ", vocab[rnd(NVOCAB)]);
		CHECK_INT(bm25_add(ix, s, NULL, sb.buf), 0);
	}
	strbuf_release(&sb);
	for (size_t q = 0; q < 20; q++) {
		n_want[q] = 10;
		CHECK_INT(bm25_search(ix, reader_queries[q], NULL, NULL, want + q * 10, &n_want[q]), 0);
	}
	for (int i = 0; i < 2; i++) {
		r[i] = (struct reader){ ix, want, n_want, 0 };
		CHECK_INT(pthread_create(&th[i], NULL, reader_run, &r[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		CHECK_INT(r[i].bad, 0);
	}
	bm25_free(ix);
}

/* A dense term whose range starts after a sparse term's posting: a sparse
 * block once walked the dense term's (absent) slot list and crashed. The
 * random corpora never had a dense run in a block of their own. */
static void test_dense_after_sparse(void)
{
	struct bm25 *ix = bm25_new();
	struct bm25_hit hits[10];
	size_t n = 10;

	CHECK(ix != NULL);
	CHECK_INT(bm25_add(ix, 0, "", "zebra"), 0);
	for (uint32_t s = 1; s < 5000; s++)
		bm25_add(ix, s, "", "filler words here");
	for (uint32_t s = 5000; s < 5200; s++)
		bm25_add(ix, s, "", "printer");
	CHECK_INT(bm25_search(ix, "zebra printer", NULL, NULL, hits, &n), 0);
	CHECK_INT(n, 10);
	CHECK_INT(hits[0].slot, 0); /* the rare term first */
	for (size_t i = 1; i < n; i++)
		CHECK(hits[i].slot >= 5000 && hits[i].slot < 5200);
	bm25_free(ix);
}

int main(void)
{
	static const char *const simd[] = { "off", "sse2" };

	test_dense_after_sparse();

	test_basics();
	test_ties_and_filter();
	test_forms();
	/* one block, small corpora */
	test_random(1, 300, 2, 30, 300);
	test_random(2, 600, 1, 12, 300);
	/* many blocks, wide gaps (dense terms go sparse again), long passages */
	test_random(3, 4000, 5, 40, 200);
	test_random(4, 3000, 30, 150, 100);
	test_random(5, 8000, 1, 8, 200);
	test_threads();
	/* the narrower kernels (the default is the widest the CPU has) */
	for (size_t i = 0; i < sizeof(simd) / sizeof(simd[0]); i++) {
		setenv("DESKFS_BM25_SIMD", simd[i], 1);
		test_random(6 + i, 4000, 3, 30, 100);
		test_ties_and_filter();
	}
	unsetenv("DESKFS_BM25_SIMD");
	return check_done();
}
