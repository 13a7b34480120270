/* embed_offline.c - the built-in feature-hashing embedder (embed.h).
 *
 * Features and weights: each stemmed non-stop word 1.0, each pair of
 * adjacent stemmed words 0.5, each character trigram of a word (with "^"
 * and "$" marking its ends) 0.3 spread over the word's trigrams. A
 * feature's XXH3 hash picks the bucket and the sign; counts are damped
 * (sqrt) and the vector scaled to unit length. */
#include "embed.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "text.h"

struct feat_ctx {
	float *v;
	int dim;
	char prev[TEXT_MAX_WORD];
	size_t prev_len;
	float prev_w;
	embed_weight_fn weight; /* NULL: every word weighs 1 */
	void *weight_ctx;
};

static void feat_add(struct feat_ctx *c, const void *key, size_t len, uint64_t seed, float w)
{
	uint64_t h = XXH3_64bits_withSeed(key, len, seed);

	c->v[h % (uint64_t)c->dim] += (h >> 63) ? w : -w;
}

static void feat_word(char *w, size_t len, void *arg)
{
	struct feat_ctx *c = arg;
	char padded[TEXT_MAX_WORD + 2];
	size_t n;

	/* character trigrams of the surface word catch typos and variants */
	padded[0] = '^';
	memcpy(padded + 1, w, len);
	padded[len + 1] = '$';
	n = len + 2;
	if (text_is_stopword(w, len)) {
		for (size_t i = 0; i + 3 <= n; i++)
			feat_add(c, padded + i, 3, 3, 0.3f / (float)(n - 2));
		c->prev_len = 0;
		return;
	}
	len = text_stem(w, len);
	float wt = c->weight ? c->weight(w, len, c->weight_ctx) : 1.0f;
	for (size_t i = 0; i + 3 <= n; i++)
		feat_add(c, padded + i, 3, 3, wt * 0.3f / (float)(n - 2));
	feat_add(c, w, len, 1, wt);
	if (c->prev_len) {
		char pair[2 * TEXT_MAX_WORD + 1];
		memcpy(pair, c->prev, c->prev_len);
		pair[c->prev_len] = ' ';
		memcpy(pair + c->prev_len + 1, w, len);
		feat_add(c, pair, c->prev_len + 1 + len, 2, 0.5f * sqrtf(wt * c->prev_w));
	}
	memcpy(c->prev, w, len);
	c->prev_len = len;
	c->prev_w = wt;
}

static void embed_one(const char *text, embed_weight_fn weight, void *ctx, float *out)
{
	struct feat_ctx c = { out, EMBED_OFFLINE_DIM, { 0 }, 0, 0, weight, ctx };

	memset(c.v, 0, sizeof(float) * EMBED_OFFLINE_DIM);
	text_words(text, strlen(text), feat_word, &c);
	/* damped counts; a weighted query keeps its weights' scale */
	for (int i = 0; i < EMBED_OFFLINE_DIM && !weight; i++) {
		float x = c.v[i];
		c.v[i] = x < 0 ? -sqrtf(-x) : sqrtf(x);
	}
	vec_unit(c.v, EMBED_OFFLINE_DIM);
}

static int offline_embed(struct embedder *e, const char *const *texts, size_t n, float *out)
{
	for (size_t t = 0; t < n; t++)
		embed_one(texts[t], NULL, NULL, out + t * (size_t)e->dim);
	return 0;
}

void embed_offline_query(const char *text, embed_weight_fn weight, void *ctx, float *out)
{
	embed_one(text, weight, ctx, out);
}

struct embedder *embed_offline(void)
{
	static struct embedder e = { EMBED_OFFLINE_MODEL, EMBED_OFFLINE_DIM, offline_embed };

	return &e;
}

bool vec_unit(float *v, int dim)
{
	double norm = 0;

	for (int k = 0; k < dim; k++)
		norm += (double)v[k] * v[k];
	if (norm <= 0)
		return false;
	float inv = (float)(1.0 / sqrt(norm));
	for (int k = 0; k < dim; k++)
		v[k] *= inv;
	return true;
}

void vec_quantize(const float *v, int dim, int8_t *q, float *scale)
{
	float max = 0;

	for (int i = 0; i < dim; i++)
		if (fabsf(v[i]) > max)
			max = fabsf(v[i]);
	*scale = max > 0 ? max / 127.0f : 0;
	for (int i = 0; i < dim; i++)
		q[i] = max > 0 ? (int8_t)lrintf(v[i] / *scale) : 0;
}

char *vec_blobs(const float *v, size_t n, int dim)
{
	size_t len = VEC_BLOB_LEN(dim);
	char *b = malloc(n * len);

	if (!b)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		float scale;
		vec_quantize(v + i * (size_t)dim, dim, (int8_t *)(b + i * len + sizeof(float)),
			     &scale);
		memcpy(b + i * len, &scale, sizeof(float));
	}
	return b;
}

float vec_dot_q8(const float *q, const int8_t *v, float scale, int dim)
{
	float s = 0;

	for (int i = 0; i < dim; i++)
		s += q[i] * (float)v[i];
	return s * scale;
}
