/* config.c - parse, validate and render a tenant's config (config.h). */
#define _GNU_SOURCE /* asprintf */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embed.h"
#include "store.h"
#include "util.h"

static void provider_defaults(struct provider_conf *p)
{
	memset(p, 0, sizeof(*p));
	p->timeout_ms = 30000;
	p->retries = 2;
	p->backoff_ms = 500;
	p->max_tokens = 512;
	p->breaker_failures = 5;
	p->cooldown_s = 30;
	p->batch = 64;
}

void config_defaults(struct tenant_config *c)
{
	memset(c, 0, sizeof(*c));
	c->n_providers = 1;
	provider_defaults(&c->providers[0]);
	snprintf(c->providers[0].name, PROVIDER_NAME_MAX, "offline");
	provider_defaults(&c->embedder);
	snprintf(c->embedder.name, PROVIDER_NAME_MAX, "embedder");
	c->k = 5;
	c->context_tokens = 3000;
	c->query_timeout_s = 60;
	c->summary_min_words = 30;
	c->summary_chunk_tokens = 6000;
	c->job_attempts = 4;
	c->job_backoff_s = 30;
	c->feedback_window_days = 30;
}

static void provider_clear(struct provider_conf *p)
{
	free(p->endpoint);
	free(p->model);
	free(p->api_key);
	free(p->api_key_env);
	provider_defaults(p);
}

void config_clear(struct tenant_config *c)
{
	for (size_t i = 0; i < c->n_providers; i++)
		provider_clear(&c->providers[i]);
	c->n_providers = 0;
	provider_clear(&c->embedder);
	snprintf(c->embedder.name, PROVIDER_NAME_MAX, "embedder");
}

const char *config_embed_model(const struct provider_conf *e, char *buf, size_t len)
{
	if (e->api == API_OFFLINE)
		return EMBED_OFFLINE_MODEL;
	snprintf(buf, len, "%s:%s", provider_api_name(e->api), e->model);
	return buf;
}

/* A number in [lo, hi] at key; 1 if absent, 0 if set, -1 (err) if bad. */
static int num_get(json_t *o, const char *key, double lo, double hi, double *out,
		   const char *where, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return 1;
	if (!json_is_number(v) || json_number_value(v) < lo || json_number_value(v) > hi ||
	    isnan(json_number_value(v))) {
		snprintf(err, errlen, "%s%s: must be a number from %g to %g", where, key, lo, hi);
		return -1;
	}
	*out = json_number_value(v);
	return 0;
}

static int int_get(json_t *o, const char *key, int lo, int hi, int *out, const char *where,
		   char *err, size_t errlen)
{
	double d;
	int rc = num_get(o, key, lo, hi, &d, where, err, errlen);

	if (!rc && d != floor(d)) {
		snprintf(err, errlen, "%s%s: must be a whole number from %d to %d", where, key, lo,
			 hi);
		return -1;
	}
	if (!rc)
		*out = (int)d;
	return rc;
}

/* A string at key: 0 set (*out malloc'd), 1 absent, -1 bad or no memory. */
static int str_get(json_t *o, const char *key, size_t max, char **out, const char *where,
		   char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return 1;
	if (!json_is_string(v) || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(err, errlen, "%s%s: must be a string of at most %zu bytes", where, key, max);
		return -1;
	}
	if (!(*out = strdup(json_string_value(v)))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static int keys_check(json_t *o, const char *const *known, const char *where, char *err,
		      size_t errlen)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v) {
		size_t i;
		for (i = 0; known[i] && strcmp(known[i], key); i++)
			;
		if (!known[i]) {
			char list[256] = "";
			for (i = 0; known[i]; i++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
					 i ? ", " : "", known[i]);
			snprintf(err, errlen, "%sunknown key '%.60s' (known: %s)", where, key, list);
			return -1;
		}
	}
	return 0;
}

static const char *const provider_keys[] = { "name", "api", "endpoint", "model", "api_key",
	"api_key_env", "timeout_s", "retries", "backoff_ms", "max_tokens", "breaker_failures",
	"cooldown_s", NULL };
static const char *const embedder_keys[] = { "name", "api", "endpoint", "model", "api_key",
	"api_key_env", "timeout_s", "retries", "backoff_ms", "batch", "breaker_failures",
	"cooldown_s", NULL };

/* One provider (or, with embedder set, the embedder) at o; where names it
 * in errors ("providers[1]", "embedder"). */
static int provider_parse(json_t *o, const char *at, bool embedder,
			  const struct tenant_config *old, struct provider_conf *p, char *err,
			  size_t errlen)
{
	char where[40], *name = NULL, *api = NULL;
	double timeout = 30;
	int a, rc = -1;

	snprintf(where, sizeof(where), "%s.", at);
	provider_defaults(p);
	if (!json_is_object(o)) {
		snprintf(err, errlen, "%s: must be an object", at);
		return -1;
	}
	if (keys_check(o, embedder ? embedder_keys : provider_keys, where, err, errlen))
		return -1;
	if (str_get(o, "api", 32, &api, where, err, errlen) < 0)
		goto out;
	a = api ? provider_api_parse(api) : -1;
	if (embedder && a != API_OPENAI && a != API_OLLAMA && a != API_OFFLINE) {
		snprintf(err, errlen, "%sapi: must be one of openai, ollama, offline", where);
		goto out;
	}
	if (a < 0) {
		snprintf(err, errlen, "%sapi: must be one of openai, ollama, anthropic, gemini, "
			 "offline", where);
		goto out;
	}
	p->api = (enum provider_api)a;
	if (str_get(o, "name", PROVIDER_NAME_MAX - 1, &name, where, err, errlen) < 0)
		goto out;
	snprintf(p->name, PROVIDER_NAME_MAX, "%s", name ? name : embedder ? "embedder" : api);
	if (!p->name[0] || strpbrk(p->name, "\n\r\"'")) {
		snprintf(err, errlen, "%sname: must be a non-empty name without quotes", where);
		goto out;
	}
	if (str_get(o, "endpoint", 1024, &p->endpoint, where, err, errlen) < 0 ||
	    str_get(o, "model", 256, &p->model, where, err, errlen) < 0 ||
	    str_get(o, "api_key", 4096, &p->api_key, where, err, errlen) < 0 ||
	    str_get(o, "api_key_env", 256, &p->api_key_env, where, err, errlen) < 0 ||
	    num_get(o, "timeout_s", 0.1, 600, &timeout, where, err, errlen) < 0 ||
	    int_get(o, "retries", 0, 10, &p->retries, where, err, errlen) < 0 ||
	    int_get(o, "backoff_ms", 1, 60000, &p->backoff_ms, where, err, errlen) < 0 ||
	    int_get(o, "max_tokens", 1, 100000, &p->max_tokens, where, err, errlen) < 0 ||
	    int_get(o, "batch", 1, 2048, &p->batch, where, err, errlen) < 0 ||
	    int_get(o, "breaker_failures", 1, 1000, &p->breaker_failures, where, err, errlen) < 0 ||
	    int_get(o, "cooldown_s", 0, 86400, &p->cooldown_s, where, err, errlen) < 0)
		goto out;
	p->timeout_ms = (int)(timeout * 1000);
	if (p->api != API_OFFLINE) {
		if (!p->model || !*p->model) {
			snprintf(err, errlen, "%smodel: required for api '%s'", where, api);
			goto out;
		}
		if (!p->endpoint && !(p->endpoint = strdup(provider_default_endpoint(p->api)))) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		size_t n = strlen(p->endpoint);
		while (n && p->endpoint[n - 1] == '/')
			p->endpoint[--n] = 0;
		if (strncmp(p->endpoint, "http://", 7) && strncmp(p->endpoint, "https://", 8)) {
			snprintf(err, errlen, "%sendpoint: must be an http:// or https:// URL", where);
			goto out;
		}
	}
	if (p->api_key && !strcmp(p->api_key, CONFIG_SECRET_MASK)) {
		/* written back as shown: keep the stored key of that provider */
		const char *keep = NULL;
		for (size_t i = 0; old && !embedder && i < old->n_providers; i++)
			if (!strcmp(old->providers[i].name, p->name))
				keep = old->providers[i].api_key;
		if (old && embedder && !strcmp(old->embedder.name, p->name))
			keep = old->embedder.api_key;
		free(p->api_key);
		p->api_key = NULL;
		if (!keep) {
			snprintf(err, errlen, "%sapi_key: \"***\" stands for a stored key, and "
				 "provider '%s' has none", where, p->name);
			goto out;
		}
		if (!(p->api_key = strdup(keep))) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	free(name);
	free(api);
	if (rc)
		provider_clear(p);
	return rc;
}

static const char *const top_keys[] = { "providers", "embedder", "k", "context_tokens",
	"query_timeout_s", "summary_providers", "summary_min_words", "summary_chunk_tokens", "job_attempts",
	"job_backoff_s", "feedback_window_days", NULL };

int config_parse(const char *text, size_t len, const struct tenant_config *old,
		 struct tenant_config *out, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = NULL, *list;
	size_t i;
	int rc = -EINVAL;

	config_defaults(out);
	for (i = 0; i < len && strchr(" \t\r\n", text[i]); i++)
		;
	if (i == len)
		return 0;
	if (!(j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je))) {
		/* jansson's text may quote the bad token ("near '...'"), which could
		 * be part of a key: only the reason and the place */
		char *near = strstr(je.text, " near ");
		if (near)
			*near = 0;
		snprintf(err, errlen, "not valid JSON: %s (line %d, column %d)", je.text, je.line,
			 je.column);
		return -EINVAL;
	}
	if (!json_is_object(j)) {
		snprintf(err, errlen, "must be a JSON object");
		goto out;
	}
	if (keys_check(j, top_keys, "", err, errlen) ||
	    int_get(j, "k", 1, 100, &out->k, "", err, errlen) < 0 ||
	    int_get(j, "context_tokens", 200, 1000000, &out->context_tokens, "", err, errlen) < 0 ||
	    int_get(j, "query_timeout_s", 1, 3600, &out->query_timeout_s, "", err, errlen) < 0 ||
	    int_get(j, "summary_min_words", 0, 100000, &out->summary_min_words, "", err,
		    errlen) < 0 ||
	    int_get(j, "summary_chunk_tokens", 500, 1000000, &out->summary_chunk_tokens, "", err,
		    errlen) < 0 ||
	    int_get(j, "job_attempts", 1, 20, &out->job_attempts, "", err, errlen) < 0 ||
	    int_get(j, "job_backoff_s", 1, 86400, &out->job_backoff_s, "", err, errlen) < 0 ||
	    int_get(j, "feedback_window_days", 0, 3650, &out->feedback_window_days, "", err,
		    errlen) < 0)
		goto out;
	if ((list = json_object_get(j, "providers"))) {
		if (!json_is_array(list) || !json_array_size(list) ||
		    json_array_size(list) > CONFIG_PROVIDERS_MAX) {
			snprintf(err, errlen, "providers: must be a list of 1 to %d providers",
				 CONFIG_PROVIDERS_MAX);
			goto out;
		}
		config_clear(out);
		for (i = 0; i < json_array_size(list); i++) {
			struct provider_conf *p = &out->providers[i];
			char at[32];
			snprintf(at, sizeof(at), "providers[%zu]", i);
			if (provider_parse(json_array_get(list, i), at, false, old, p, err, errlen))
				goto out;
			out->n_providers = i + 1;
			for (size_t k = 0; k < i; k++)
				if (!strcmp(out->providers[k].name, p->name)) {
					snprintf(err, errlen, "providers[%zu].name: '%s' is used twice "
						 "(give each provider its own name)", i, p->name);
					goto out;
				}
		}
	}
	if ((list = json_object_get(j, "summary_providers"))) {
		if (!json_is_array(list) || !json_array_size(list) ||
		    json_array_size(list) > CONFIG_PROVIDERS_MAX) {
			snprintf(err, errlen, "summary_providers: must be a list of 1 to %d provider "
				 "names", CONFIG_PROVIDERS_MAX);
			goto out;
		}
		for (i = 0; i < json_array_size(list); i++) {
			const char *name = json_string_value(json_array_get(list, i));
			size_t k;
			for (k = 0; name && k < out->n_providers &&
				    strcmp(out->providers[k].name, name); k++)
				;
			if (!name || (k == out->n_providers && strcmp(name, "offline"))) {
				snprintf(err, errlen, "summary_providers[%zu]: must name one of "
					 "\"providers\" or be \"offline\"", i);
				goto out;
			}
			snprintf(out->summary_providers[i], PROVIDER_NAME_MAX, "%s", name);
			out->n_summary_providers = i + 1;
		}
	}
	if ((list = json_object_get(j, "embedder")) &&
	    provider_parse(list, "embedder", true, old, &out->embedder, err, errlen))
		goto out;
	rc = 0;
out:
	json_decref(j);
	if (rc) {
		config_clear(out);
		config_defaults(out);
	}
	return rc;
}

static json_t *provider_render(const struct provider_conf *p, bool embedder, bool with_secrets)
{
	json_t *o = json_object();

	json_object_set_new(o, "name", json_string(p->name));
	json_object_set_new(o, "api", json_string(provider_api_name(p->api)));
	if (p->api == API_OFFLINE)
		return o;
	json_object_set_new(o, "endpoint", json_string(p->endpoint));
	json_object_set_new(o, "model", json_string(p->model));
	if (p->api_key)
		json_object_set_new(o, "api_key", json_string(with_secrets ? p->api_key :
							     CONFIG_SECRET_MASK));
	if (p->api_key_env)
		json_object_set_new(o, "api_key_env", json_string(p->api_key_env));
	json_object_set_new(o, "timeout_s", json_real(p->timeout_ms / 1000.0));
	json_object_set_new(o, "retries", json_integer(p->retries));
	json_object_set_new(o, "backoff_ms", json_integer(p->backoff_ms));
	if (embedder)
		json_object_set_new(o, "batch", json_integer(p->batch));
	else
		json_object_set_new(o, "max_tokens", json_integer(p->max_tokens));
	json_object_set_new(o, "breaker_failures", json_integer(p->breaker_failures));
	json_object_set_new(o, "cooldown_s", json_integer(p->cooldown_s));
	return o;
}

char *config_render(const struct tenant_config *c, bool with_secrets)
{
	json_t *j = json_object(), *list = json_array();
	char *s = NULL, *out = NULL;

	for (size_t i = 0; i < c->n_providers; i++)
		json_array_append_new(list, provider_render(&c->providers[i], false, with_secrets));
	json_object_set_new(j, "providers", list);
	json_object_set_new(j, "embedder", provider_render(&c->embedder, true, with_secrets));
	json_object_set_new(j, "k", json_integer(c->k));
	json_object_set_new(j, "context_tokens", json_integer(c->context_tokens));
	json_object_set_new(j, "query_timeout_s", json_integer(c->query_timeout_s));
	if (c->n_summary_providers) {
		json_t *names = json_array();
		for (size_t i = 0; i < c->n_summary_providers; i++)
			json_array_append_new(names, json_string(c->summary_providers[i]));
		json_object_set_new(j, "summary_providers", names);
	}
	json_object_set_new(j, "summary_min_words", json_integer(c->summary_min_words));
	json_object_set_new(j, "summary_chunk_tokens", json_integer(c->summary_chunk_tokens));
	json_object_set_new(j, "job_attempts", json_integer(c->job_attempts));
	json_object_set_new(j, "job_backoff_s", json_integer(c->job_backoff_s));
	json_object_set_new(j, "feedback_window_days", json_integer(c->feedback_window_days));
	s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	if (s && asprintf(&out, "%s\n", s) < 0)
		out = NULL;
	free(s);
	json_decref(j);
	return out;
}

int config_load(struct store *s, int64_t tenant, struct tenant_config *out, int64_t *mtime)
{
	char *json = NULL, err[256];
	int rc = store_config_get(s, tenant, &json, mtime);

	if (rc) {
		config_defaults(out);
		return rc == -ENOENT ? 0 : rc;
	}
	rc = config_parse(json, strlen(json), NULL, out, err, sizeof(err));
	free(json);
	return rc;
}
