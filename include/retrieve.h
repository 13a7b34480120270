/* retrieve.h - hybrid retrieval over one tenant's passages.
 *
 * Indexing (inside the ingest transaction): a ticket is cut into one
 * passage per message and an article into one per section; text longer
 * than PASSAGE_WORDS words is cut into windows that overlap by
 * PASSAGE_OVERLAP words. Each passage keeps its message id (or section
 * heading), is indexed by FTS5 and embedded by the offline embedder.
 *
 * Search: BM25 (FTS5) and exact vector search each rank a window of
 * RRF_WINDOW passages; weighted reciprocal rank fusion, score = sum of
 * weight / (RRF_K + rank), merges them; passages are grouped by document (a
 * document appears once, with its best passages) and the best k
 * documents returned. Everything is scoped to one tenant: FTS tables and
 * vector indexes are per tenant.
 *
 * Vector indexes live in memory (int8, one scale per vector), loaded from
 * the store on first use and brought up to date before each search:
 * new passages are appended; when passages were dropped (a document
 * changed or was deleted) the tenant's index is reloaded.
 */
#ifndef DESKFS_RETRIEVE_H
#define DESKFS_RETRIEVE_H

#include <stddef.h>
#include <stdint.h>

#include "embed.h"
#include "store.h"
#include "ticket.h"

#define PASSAGE_WORDS 120
#define PASSAGE_OVERLAP 30
#define RRF_K 60
#define RRF_WINDOW 100
/* Weight of the vector list in the fusion (BM25's is 1): the offline
 * embedder ranks worse than BM25; on SciFact 0.5 gave hybrid nDCG@10
 * 0.622 against 0.583 at equal weights (docs/performance.md). */
#define RRF_VECTOR_WEIGHT 0.5
#define HIT_PASSAGES 2 /* passages kept per document */

enum retrieve_mode { RETRIEVE_HYBRID = 0, RETRIEVE_BM25, RETRIEVE_VECTOR };

struct retriever;

/* e: the embedder of stored vectors; not owned. */
struct retriever *retriever_new(struct store *s, struct embedder *e);
void retriever_free(struct retriever *r);

/* Replaces the passages of a ticket or article document (store txn held). */
int retrieve_index_ticket(struct store *s, struct embedder *e, int64_t tenant, int64_t doc_id,
			  const struct ticket *t);
int retrieve_index_article(struct store *s, struct embedder *e, int64_t tenant, int64_t doc_id,
			   const struct article *a);

struct hit_passage {
	struct passage_row row;
	double fused;
};

struct hit {
	int64_t doc_id;
	enum doc_kind kind;
	char *path;            /* in the tenant: "tickets/4821/ticket.md", "kb/reset.md" */
	char *title;
	double score;          /* fused (RRF) score of its best passage */
	double bm25, vector;   /* that passage's scores; 0 when not ranked */
	int bm25_rank, vector_rank; /* 1-based ranks in each list; 0: not in it */
	struct hit_passage passages[HIT_PASSAGES];
	size_t n_passages;
};

struct retrieve_opts {
	int k;
	enum retrieve_mode mode;
	struct passage_filter filter;
};

struct retrieve_timing {
	double bm25_ms, vector_ms, total_ms;
};

/* The best o->k documents for question; *hits is malloc'd (hits_free). */
int retrieve(struct retriever *r, int64_t tenant, const char *question,
	     const struct retrieve_opts *o, struct hit **hits, size_t *n,
	     struct retrieve_timing *timing);
void hits_free(struct hit *h, size_t n);

/* The FTS5 MATCH expression for free text: its words quoted and OR-ed;
 * NULL when it has none. Caller frees. */
char *retrieve_match_expr(const char *text);

#endif
