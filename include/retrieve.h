/* retrieve.h - hybrid retrieval over one tenant's passages.
 *
 * Indexing (inside the ingest transaction): a ticket is cut into one
 * passage per message (and, once summarized, its summary) and an
 * article into one per section; text longer
 * than PASSAGE_WORDS words is cut into windows that overlap by
 * PASSAGE_OVERLAP words. Each passage keeps its message id (or section
 * heading) and is stored with the vector of the tenant's embedder (the
 * offline one here; an HTTP one later, reembed.h).
 *
 * Search: BM25 (bm25.h, in memory) and vector search each rank a window
 * of RRF_WINDOW passages; in hybrid mode with the offline embedder the
 * vector question is widened by the best BM25 passages' vectors
 * (pseudo-relevance feedback), and the BM25 passages missing from
 * the vector list are scored by vector and added to it; weighted
 * reciprocal rank fusion, score = sum of weight / (RRF_K + rank), merges
 * the lists; feedback factors scale the fused scores of the documents
 * they are about; passages are grouped by document (a document appears once,
 * with its best passages) and the best k documents returned. With the
 * offline embedder the question's words weigh their IDF in the tenant.
 *
 * Indexes are per tenant, in memory, built at the tenant's first search
 * and refreshed before each one from the store's cursors (store.h): no
 * search ever sees another tenant's passages.
 */
#ifndef DESKFS_RETRIEVE_H
#define DESKFS_RETRIEVE_H

#include <stddef.h>
#include <stdint.h>

#include "embed.h"
#include "feedback.h"
#include "provider.h"
#include "store.h"
#include "ticket.h"

#define PASSAGE_WORDS 120
#define PASSAGE_OVERLAP 30
#define RRF_K 60
#define RRF_WINDOW 100
/* Weight of the vector list in the fusion (BM25's is 1). The offline
 * embedder ranks far worse than BM25: on SciFact, with the question
 * widened by feedback, its list weighs best at 0.25 (0.15, 0.4, 0.6 and
 * 1 were worse: docs/performance.md). An HTTP embedder's list counts
 * fully. */
#define RRF_VECTOR_WEIGHT 0.25
#define RRF_VECTOR_WEIGHT_HTTP 1.0
#define HIT_PASSAGES 2 /* passages kept per document */

enum retrieve_mode { RETRIEVE_HYBRID = 0, RETRIEVE_BM25, RETRIEVE_VECTOR };

struct retriever;

struct retriever *retriever_new(struct store *s);
void retriever_free(struct retriever *r);

/* Replaces the passages of a ticket or article document (store txn held);
 * e NULL stores them without vectors (the re-embedder makes them). */
int retrieve_index_ticket(struct store *s, struct embedder *e, int64_t tenant, int64_t doc_id,
			  const struct ticket *t);
int retrieve_index_article(struct store *s, struct embedder *e, int64_t tenant, int64_t doc_id,
			   const struct article *a);
/* Replaces the passages of a ticket's summary (message id
 * PASSAGE_SUMMARY_ID), leaving its messages' (store txn held). */
#define PASSAGE_SUMMARY_ID "summary"
int retrieve_index_summary(struct store *s, struct embedder *e, int64_t tenant, int64_t doc_id,
			   const struct ticket *t, const char *text);

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
	double feedback;       /* the feedback factor in score (1: none) */
	struct hit_passage passages[HIT_PASSAGES];
	size_t n_passages;
};

struct retrieve_opts {
	int k;
	enum retrieve_mode mode;
	struct passage_filter filter;
	const struct provider_conf *embedder; /* the tenant's; NULL: offline */
	/* non-zero: "more like this" document: vector search with its own
	 * stored vectors (their mean) instead of the question's, so nothing
	 * is embedded, and the question is taken as a document's text, each
	 * word weighing its count in BM25 (bm25_search_doc) */
	int64_t like_doc;
	/* feedback adjustments (feedback.h): a listed document's fused scores
	 * are multiplied by its factor before documents are ranked */
	const struct feedback_boost *boosts;
	size_t n_boosts;
};

struct retrieve_timing {
	double embed_ms, refresh_ms, bm25_ms, vector_ms, total_ms;
	int stale; /* ranked passages gone from the store (0 unless the index lags) */
	char vector_error[PROVIDER_NOTE_MAX]; /* the question could not be embedded */
};

/* The best o->k documents for question; *hits is malloc'd (hits_free). */
int retrieve(struct retriever *r, int64_t tenant, const char *question,
	     const struct retrieve_opts *o, struct hit **hits, size_t *n,
	     struct retrieve_timing *timing);
void hits_free(struct hit *h, size_t n);


#endif
