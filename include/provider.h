/* provider.h - answer generation by LLM services, with retries, circuit
 * breakers and a fallback chain (FUSE-free; HTTP through http.h).
 *
 * A provider is one configured service (struct provider_conf, from the
 * tenant's config): its API, endpoint, model, key and limits. APIs:
 *   openai     POST ENDPOINT/chat/completions (OpenAI, vLLM, llama.cpp
 *              server, LM Studio, Ollama's /v1); embeddings ENDPOINT/embeddings
 *   ollama     POST ENDPOINT/api/chat (stream: false); embeddings /api/embed
 *   anthropic  POST ENDPOINT/v1/messages (x-api-key, anthropic-version)
 *   gemini     POST ENDPOINT/v1beta/models/MODEL:generateContent (x-goog-api-key)
 *   offline    the built-in extractive answerer; never fails
 *
 * One call (provider_chat) makes up to 1 + retries attempts: a transport
 * error, HTTP 429 or 5xx, or an unreadable body is retried after an
 * exponential backoff with jitter (backoff_ms * 2^attempt, halved to
 * doubled at random, at most 8 s), or after Retry-After when the server
 * sends one. A retry that would end past the deadline is not made. Other
 * statuses (400, 401, 404...) fail at once.
 *
 * Circuit breaker, one per provider name and endpoint, per process:
 *   closed --breaker_failures failed calls in a row--> open
 *   open --cooldown_s passed--> half-open (one trial call)
 *   half-open --success--> closed;  --failure--> open
 * While open a call fails at once without a request.
 *
 * Keys are sent in headers only and never appear in an error message.
 */
#ifndef DESKFS_PROVIDER_H
#define DESKFS_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#define PROVIDER_NAME_MAX 64
#define PROVIDER_ERR_MAX 256
/* "embedder 'NAME' (API, model M) failed: " + an error */
#define PROVIDER_NOTE_MAX (PROVIDER_ERR_MAX + PROVIDER_NAME_MAX + 320)

enum provider_api { API_OFFLINE = 0, API_OPENAI, API_OLLAMA, API_ANTHROPIC, API_GEMINI };

struct provider_conf {
	char name[PROVIDER_NAME_MAX];
	enum provider_api api;
	char *endpoint;    /* base URL, no trailing '/' */
	char *model;
	char *api_key;     /* stored key or NULL */
	char *api_key_env; /* environment variable holding the key, or NULL */
	int timeout_ms;    /* per attempt */
	int retries;       /* extra attempts */
	int backoff_ms;    /* first backoff */
	int max_tokens;    /* answer length limit */
	int breaker_failures, cooldown_s;
	int batch;         /* embedders: texts per request */
};

struct chat_request {
	const char *system, *user;
};

struct chat_reply {
	char *text;        /* malloc'd */
	int prompt_tokens, completion_tokens;
	int attempts;
	double ms;
};

const char *provider_api_name(enum provider_api api);
/* API_* for a name, or -1. */
int provider_api_parse(const char *name);
/* The default endpoint of an API ("" for offline). */
const char *provider_default_endpoint(enum provider_api api);

/* One call to a (non-offline) provider, retried as above, ending by
 * deadline_ms (CLOCK_MONOTONIC milliseconds; 0: no deadline). Returns 0
 * and *out (chat_reply_clear), or -errno with a one-line reason in err:
 * "HTTP 500 Internal Server Error after 3 attempts". */
int provider_chat(const struct provider_conf *p, const struct chat_request *rq,
		  int64_t deadline_ms, struct chat_reply *out, char err[PROVIDER_ERR_MAX]);
void chat_reply_clear(struct chat_reply *r);

/* Embeds n texts with an HTTP embedder (openai or ollama API) in batches
 * of p->batch; out[n * dim] unit vectors. *dim in: expected (0: any),
 * out: the dimension the service returned. Returns 0 or -errno + err. */
int provider_embed(const struct provider_conf *p, const char *const *texts, size_t n,
		   float **out, int *dim, char err[PROVIDER_ERR_MAX]);

/* "embedder 'NAME' (API, model M) failed: WHY" into out. */
void provider_embed_note(const struct provider_conf *p, const char *why, char *out,
			 size_t len);

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t provider_now_ms(void);
/* Forgets every breaker's state (tests). */
void provider_breakers_reset(void);

#endif
