/* config.h - a tenant's configuration: TENANT/config (JSON).
 *
 *   {
 *     "providers": [              answerers, tried in this order
 *       {"name": "local", "api": "openai", "endpoint": "http://127.0.0.1:8080/v1",
 *        "model": "llama3", "api_key_env": "LOCAL_KEY", "timeout_s": 30,
 *        "retries": 2, "backoff_ms": 500, "max_tokens": 512,
 *        "breaker_failures": 5, "cooldown_s": 30},
 *       {"name": "offline", "api": "offline"}
 *     ],
 *     "embedder": {"api": "openai", "endpoint": "http://127.0.0.1:8080/v1",
 *                  "model": "nomic-embed-text", "batch": 64, ...},
 *     "k": 5, "context_tokens": 3000, "query_timeout_s": 60,
 *     "summary_providers": ["local", "offline"], "summary_min_words": 30, "summary_chunk_tokens": 6000,
 *     "job_attempts": 4, "job_backoff_s": 30, "feedback_window_days": 30
 *   }
 *
 * Every key is optional; an absent config means the defaults (the offline
 * answerer alone). Unknown keys, wrong types and out-of-range values are
 * errors naming the key ("providers[0].timeout_s: must be a number from
 * 0.1 to 600"). "api_key" may be stored, but is rendered as "***"; writing
 * "***" back keeps the key stored for the provider of that name.
 *
 * Ownership: struct tenant_config owns its strings (config_clear).
 */
#ifndef DESKFS_CONFIG_H
#define DESKFS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "provider.h"

#define CONFIG_PROVIDERS_MAX 8
#define CONFIG_SECRET_MASK "***"

struct tenant_config {
	struct provider_conf providers[CONFIG_PROVIDERS_MAX];
	size_t n_providers;
	struct provider_conf embedder; /* api offline, openai or ollama */
	int k;
	int context_tokens;
	int query_timeout_s;
	/* providers summaries use, by name, in order ("offline": the built-in
	 * summarizer); none: the providers chain */
	char summary_providers[CONFIG_PROVIDERS_MAX][PROVIDER_NAME_MAX];
	size_t n_summary_providers;
	int summary_min_words;    /* tickets with fewer words: extractive summary */
	int summary_chunk_tokens; /* longer tickets are summarized in chunks, merged */
	int job_attempts;         /* background job runs before it is dead */
	int job_backoff_s;        /* wait before the 2nd run, doubling (10 min at most) */
	int feedback_window_days; /* feedback counts this long, fading (0: ignored) */
};

void config_defaults(struct tenant_config *c);
/* Parses and validates text (empty or white space only: the defaults).
 * old (may be NULL) supplies keys written as "***". Returns 0, or
 * -EINVAL with a one-line reason in err, or -ENOMEM. */
int config_parse(const char *text, size_t len, const struct tenant_config *old,
		 struct tenant_config *out, char *err, size_t errlen);
/* The config as indented JSON ending in a newline; with_secrets false
 * masks keys. NULL on allocation failure; the caller frees. */
char *config_render(const struct tenant_config *c, bool with_secrets);
void config_clear(struct tenant_config *c);
/* The model name vectors made by embedder e are stored under:
 * EMBED_OFFLINE_MODEL, or "API:MODEL" (in buf). */
const char *config_embed_model(const struct provider_conf *e, char *buf, size_t len);

struct store;
/* The stored config of tenant, or the defaults (always fills *out);
 * *mtime (may be NULL) is when it was written, untouched if never. */
int config_load(struct store *s, int64_t tenant, struct tenant_config *out, int64_t *mtime);

#endif
