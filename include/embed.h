/* embed.h - text to vectors for retrieval.
 *
 * An embedder maps texts to unit-length float vectors of a fixed
 * dimension. Stored vectors record the model name and dimension, so a
 * change of model is detected and the passages re-embedded. The built-in
 * offline embedder needs no network and is deterministic: feature hashing
 * of stemmed words (minus stop words), word bigrams and character
 * trigrams into EMBED_OFFLINE_DIM signed buckets.
 *
 * Stored and in-memory vectors are quantized to int8 with one scale per
 * vector (vec_quantize); cosine similarity of unit vectors is then the
 * scaled integer dot product.
 */
#ifndef DESKFS_EMBED_H
#define DESKFS_EMBED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EMBED_OFFLINE_MODEL "deskfs-hash-v1"
#define EMBED_OFFLINE_DIM 256
#define EMBED_MODEL_MAX 320 /* "API:MODEL" */

struct embedder {
	const char *model;
	int dim;
	/* Embeds n texts into out[n * dim], each of unit length (or all zero
	 * for a text without words). Returns 0 or -errno. */
	int (*embed)(struct embedder *e, const char *const *texts, size_t n, float *out);
};

/* The built-in offline embedder (a static instance; nothing to free). */
struct embedder *embed_offline(void);

/* The weight of a stemmed word in a question (its IDF in the tenant). */
typedef float (*embed_weight_fn)(const char *stem, size_t len, void *ctx);
/* A question's vector by the offline embedder, each word's features
 * scaled by weight (out[EMBED_OFFLINE_DIM]): the dot product with a
 * passage's vector then favours the rare words they share, as BM25 does. */
void embed_offline_query(const char *text, embed_weight_fn weight, void *ctx, float *out);

/* Bytes of one stored vector of dim: float scale, then int8[dim]. */
#define VEC_BLOB_LEN(dim) (sizeof(float) + (size_t)(dim))
/* The n vectors v[n * dim] quantized as stored blobs, VEC_BLOB_LEN(dim)
 * bytes each; malloc'd (the caller frees), NULL when out of memory. */
char *vec_blobs(const float *v, size_t n, int dim);

/* Scales v[dim] to unit length; false (v unchanged) when it is zero. */
bool vec_unit(float *v, int dim);
/* q[dim] = round(v / scale), scale = max|v| / 127. */
void vec_quantize(const float *v, int dim, int8_t *q, float *scale);
/* Dot product of float query q with quantized vector (v, scale). */
float vec_dot_q8(const float *q, const int8_t *v, float scale, int dim);

#endif
