/* bm25.h - an in-memory BM25 index over numbered passages, exact top-n.
 *
 * Replaces FTS5's bm25() ranking, which scores every matching row. Terms
 * are text_words() lower-cased and text_stem() stemmed, every word indexed
 * (stop words too), as FTS5's "porter unicode61" does. A passage is one
 * field: its title words then its text words.
 *
 * Scoring is FTS5's bm25() with k1 = 1.2, b = 0.75, positive (higher is
 * better): for each distinct query term t in the index,
 *   idf = log((N - df + 0.5) / (df + 0.5)), 1e-6 when that is <= 0,
 *   score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))
 * with N the passages added, df those containing t, dl a passage's token
 * count and avgdl the mean dl. Differences from FTS5, by design:
 *  - a term repeated in the query counts once (FTS5 counts each phrase);
 *  - tf saturates at 255 and dl at 2^24 (passages are ~120 words);
 *  - removed passages stay in N, df and avgdl until the index is rebuilt
 *    (as Lucene keeps deleted documents in its statistics until a merge),
 *    so bm25_removed() tells the caller when a rebuild is worth it.
 * Scores are computed in float; they equal a double-precision brute force
 * up to float rounding, and the returned passages are its exact top-n
 * (ties, up to that rounding, go to the smaller slot).
 *
 * Concurrency: bm25_search() only reads the index and allocates its own
 * scratch, so any number may run at once while no bm25_add() or
 * bm25_remove() runs; the caller serializes writers (a rwlock).
 */
#ifndef DESKFS_BM25_H
#define DESKFS_BM25_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BM25_K1 1.2
#define BM25_B 0.75

struct bm25;

struct bm25_hit {
	uint32_t slot;
	float score;
};

/* Search filter: true keeps slot. Called only for a passage that would
 * enter the current top-n, at most once per passage and search. */
typedef bool (*bm25_accept_fn)(uint32_t slot, void *ctx);

/* An empty index, or NULL when out of memory. Free with bm25_free(). */
struct bm25 *bm25_new(void);
/* Frees ix and everything it holds; bm25_free(NULL) is a no-op. */
void bm25_free(struct bm25 *ix);

/* Indexes passage slot (the caller's dense array index) from title and
 * text, either of which may be NULL. Slots are added in strictly increasing
 * order, gaps allowed, below UINT32_MAX. Returns 0, -EINVAL (slot not
 * above the last one added) or -ENOMEM; on error no search, count or
 * statistic changes (some capacity may have grown). */
int bm25_add(struct bm25 *ix, uint32_t slot, const char *title, const char *text);

/* Marks an added slot removed: never returned again, but still counted in
 * the statistics (see above). Unknown or already removed slots are ignored. */
void bm25_remove(struct bm25 *ix, uint32_t slot);
/* Slots removed so far. */
size_t bm25_removed(const struct bm25 *ix);
/* Passages added and not removed. */
size_t bm25_passages(const struct bm25 *ix);
/* Bytes allocated by the index (capacity, not just use). */
size_t bm25_memory(const struct bm25 *ix);

/* The idf search gives stem (len bytes, already text_stem()med, not
 * necessarily NUL-terminated): log((N - df + 0.5) / (df + 0.5)), or 1e-6
 * when that is <= 0; 0 for a term in no passage. */
double bm25_term_idf(const struct bm25 *ix, const char *stem, size_t len);

/* Fills out[0..*n) with the best passages for query, best first; *n is the
 * capacity of out on entry and the number of hits on return (0 when the
 * query has no indexed term). accept may be NULL (all slots kept).
 * Returns 0 or -ENOMEM (then *n is 0). */
int bm25_search(const struct bm25 *ix, const char *query, bm25_accept_fn accept, void *ctx,
		struct bm25_hit *out, size_t *n);
/* The same with a document's text as the query ("more like this"): a
 * term weighs the number of times it occurs in text (BM25's query term
 * frequency, linear), where bm25_search counts a repeated term once. */
int bm25_search_doc(const struct bm25 *ix, const char *text, bm25_accept_fn accept, void *ctx,
		    struct bm25_hit *out, size_t *n);

#endif
