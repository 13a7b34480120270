/* provider.c - LLM and embedding APIs over HTTP, retries and circuit
 * breakers (provider.h). */
#define _GNU_SOURCE /* asprintf */
#include "provider.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "embed.h"
#include "http.h"
#include "metrics.h"
#include "strbuf.h"

#define BACKOFF_MAX_MS 8000
#define HDR_MAX 3 /* extra request headers */
#define RETRY_AFTER_MAX_S 120
#define BREAKERS_MAX 64

static const char *const api_names[] = { [API_OFFLINE] = "offline", [API_OPENAI] = "openai",
					 [API_OLLAMA] = "ollama", [API_ANTHROPIC] = "anthropic",
					 [API_GEMINI] = "gemini" };
static const char *const api_endpoints[] = {
	[API_OFFLINE] = "", [API_OPENAI] = "https://api.openai.com/v1",
	[API_OLLAMA] = "http://127.0.0.1:11434", [API_ANTHROPIC] = "https://api.anthropic.com",
	[API_GEMINI] = "https://generativelanguage.googleapis.com"
};

const char *provider_api_name(enum provider_api api)
{
	return api_names[api];
}

int provider_api_parse(const char *name)
{
	for (int i = 0; i < (int)(sizeof(api_names) / sizeof(api_names[0])); i++)
		if (!strcmp(name, api_names[i]))
			return i;
	return -1;
}

const char *provider_default_endpoint(enum provider_api api)
{
	return api_endpoints[api];
}

int64_t provider_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ---- circuit breakers ------------------------------------------------------ */

struct breaker {
	char key[PROVIDER_NAME_MAX + 512];
	int failures;       /* consecutive failed calls */
	int64_t open_until; /* ms; 0: closed */
	int trial;          /* half-open: a trial call is under way */
};

static pthread_mutex_t breaker_lock = PTHREAD_MUTEX_INITIALIZER;
static struct breaker breakers[BREAKERS_MAX];
static size_t n_breakers;

static struct breaker *breaker_find(const struct provider_conf *p)
{
	char key[sizeof(breakers[0].key)];

	snprintf(key, sizeof(key), "%s %s", p->name, p->endpoint ? p->endpoint : "");
	for (size_t i = 0; i < n_breakers; i++)
		if (!strcmp(breakers[i].key, key))
			return &breakers[i];
	if (n_breakers == BREAKERS_MAX)
		n_breakers = 0; /* forget the oldest rather than fail */
	memset(&breakers[n_breakers], 0, sizeof(breakers[0]));
	snprintf(breakers[n_breakers].key, sizeof(key), "%s", key);
	return &breakers[n_breakers++];
}

/* 0 when a call may go ahead, else -EAGAIN with the reason in err. */
static int breaker_enter(const struct provider_conf *p, char *err, size_t errlen)
{
	int64_t now = provider_now_ms();
	struct breaker *b;
	int rc = 0;

	pthread_mutex_lock(&breaker_lock);
	b = breaker_find(p);
	if (b->open_until && now < b->open_until) {
		snprintf(err, errlen, "circuit open after %d failed calls, next try in %lld s",
			 b->failures, (long long)((b->open_until - now + 999) / 1000));
		rc = -EAGAIN;
	} else if (b->open_until && b->trial) {
		snprintf(err, errlen, "circuit half-open, a trial call is under way");
		rc = -EAGAIN;
	} else if (b->open_until) {
		b->trial = 1;
	}
	pthread_mutex_unlock(&breaker_lock);
	return rc;
}

/* counted false: the call sent nothing (no time left, no request built);
 * only a trial slot it held is given back. */
static void breaker_leave(const struct provider_conf *p, bool ok, bool counted)
{
	struct breaker *b;

	pthread_mutex_lock(&breaker_lock);
	b = breaker_find(p);
	b->trial = 0;
	if (!counted) {
		/* nothing learnt about the provider */
	} else if (ok) {
		b->failures = 0;
		b->open_until = 0;
	} else if (++b->failures >= p->breaker_failures || b->open_until) {
		b->open_until = provider_now_ms() + (int64_t)p->cooldown_s * 1000;
	}
	pthread_mutex_unlock(&breaker_lock);
}

void provider_breakers_reset(void)
{
	pthread_mutex_lock(&breaker_lock);
	n_breakers = 0;
	pthread_mutex_unlock(&breaker_lock);
}

/* ---- requests and replies per API ----------------------------------------- */

/* The API key: stored, else from the environment; NULL if neither. */
static const char *provider_key(const struct provider_conf *p)
{
	if (p->api_key && *p->api_key)
		return p->api_key;
	if (p->api_key_env && *p->api_key_env) {
		const char *v = getenv(p->api_key_env);
		if (v && *v)
			return v;
	}
	return NULL;
}

/* Appends the header head + value ("x-api-key: " + key) to hdr
 * (malloc'd strings, at most HDR_MAX, NULL-ended); value NULL adds
 * nothing. -ENOMEM rather than a request sent without its key. */
static int hdr_add(char **hdr, const char *head, const char *value)
{
	int n = 0;

	if (!value)
		return 0;
	while (hdr[n])
		n++;
	if (asprintf(&hdr[n], "%s%s", head, value) < 0) {
		hdr[n] = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Builds url, headers and the body; NULL on allocation failure. */
static json_t *chat_body(const struct provider_conf *p, const struct chat_request *rq,
			 struct strbuf *url, char **hdr)
{
	const char *key = provider_key(p);
	json_t *b = NULL;
	int rc = 0;

	switch (p->api) {
	case API_OPENAI:
		strbuf_addf(url, "%s/chat/completions", p->endpoint);
		rc = hdr_add(hdr, "Authorization: Bearer ", key);
		b = json_pack("{s:s,s:[{s:s,s:s},{s:s,s:s}],s:i,s:i,s:b}", "model", p->model,
			      "messages", "role", "system", "content", rq->system, "role", "user",
			      "content", rq->user, "max_tokens", p->max_tokens, "temperature", 0,
			      "stream", 0);
		break;
	case API_OLLAMA:
		strbuf_addf(url, "%s/api/chat", p->endpoint);
		rc = hdr_add(hdr, "Authorization: Bearer ", key);
		b = json_pack("{s:s,s:[{s:s,s:s},{s:s,s:s}],s:b,s:{s:i,s:i}}", "model", p->model,
			      "messages", "role", "system", "content", rq->system, "role", "user",
			      "content", rq->user, "stream", 0, "options", "temperature", 0,
			      "num_predict", p->max_tokens);
		break;
	case API_ANTHROPIC:
		strbuf_addf(url, "%s/v1/messages", p->endpoint);
		rc = hdr_add(hdr, "x-api-key: ", key) ?:
		     hdr_add(hdr, "anthropic-version: ", "2023-06-01");
		b = json_pack("{s:s,s:i,s:s,s:[{s:s,s:s}],s:i}", "model", p->model, "max_tokens",
			      p->max_tokens, "system", rq->system, "messages", "role", "user",
			      "content", rq->user, "temperature", 0);
		break;
	case API_GEMINI:
		strbuf_addf(url, "%s/v1beta/models/%s:generateContent", p->endpoint, p->model);
		rc = hdr_add(hdr, "x-goog-api-key: ", key);
		b = json_pack("{s:{s:[{s:s}]},s:[{s:s,s:[{s:s}]}],s:{s:i,s:i}}",
			      "systemInstruction", "parts", "text", rq->system, "contents", "role",
			      "user", "parts", "text", rq->user, "generationConfig", "temperature", 0,
			      "maxOutputTokens", p->max_tokens);
		break;
	case API_OFFLINE:
		break;
	}
	if (rc) {
		json_decref(b);
		return NULL;
	}
	return b;
}

static int json_int_at(json_t *o, const char *k1, const char *k2)
{
	json_t *v = json_object_get(o, k1);

	if (k2)
		v = json_object_get(v, k2);
	return json_is_integer(v) ? (int)json_integer_value(v) : 0;
}

/* The answer text of a 2xx body; NULL with err set when it has none. */
static char *chat_parse(const struct provider_conf *p, const char *body, struct chat_reply *out,
			char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_loads(body, 0, &je), *t = NULL;
	struct strbuf sb = STRBUF_INIT;
	char *text = NULL;

	if (!j) {
		snprintf(err, errlen, "malformed JSON in the response (%s at byte %d)", je.text,
			 je.position);
		return NULL;
	}
	switch (p->api) {
	case API_OPENAI:
		t = json_object_get(json_object_get(json_array_get(json_object_get(j, "choices"), 0),
						    "message"), "content");
		out->prompt_tokens = json_int_at(j, "usage", "prompt_tokens");
		out->completion_tokens = json_int_at(j, "usage", "completion_tokens");
		break;
	case API_OLLAMA:
		t = json_object_get(json_object_get(j, "message"), "content");
		out->prompt_tokens = json_int_at(j, "prompt_eval_count", NULL);
		out->completion_tokens = json_int_at(j, "eval_count", NULL);
		break;
	case API_ANTHROPIC: {
		json_t *c;
		size_t i;
		json_array_foreach(json_object_get(j, "content"), i, c)
			if (json_is_string(json_object_get(c, "text")))
				strbuf_addstr(&sb, json_string_value(json_object_get(c, "text")));
		out->prompt_tokens = json_int_at(j, "usage", "input_tokens");
		out->completion_tokens = json_int_at(j, "usage", "output_tokens");
		break;
	}
	case API_GEMINI: {
		json_t *c;
		size_t i;
		json_array_foreach(json_object_get(json_object_get(json_array_get(
				json_object_get(j, "candidates"), 0), "content"), "parts"), i, c)
			if (json_is_string(json_object_get(c, "text")))
				strbuf_addstr(&sb, json_string_value(json_object_get(c, "text")));
		out->prompt_tokens = json_int_at(j, "usageMetadata", "promptTokenCount");
		out->completion_tokens = json_int_at(j, "usageMetadata", "candidatesTokenCount");
		break;
	}
	case API_OFFLINE:
		break;
	}
	if (json_is_string(t))
		strbuf_addstr(&sb, json_string_value(t));
	if (sb.len && !sb.err)
		text = strbuf_detach(&sb, NULL);
	else
		snprintf(err, errlen, sb.err ? "out of memory" : "the response has no answer text");
	strbuf_release(&sb);
	json_decref(j);
	return text;
}

/* A short, key-free description of an error body: its message field. */
static void error_detail(const char *body, char *out, size_t outlen)
{
	json_t *j = body ? json_loads(body, 0, NULL) : NULL;
	json_t *e = json_object_get(j, "error"), *m = NULL;

	if (json_is_object(e))
		m = json_object_get(e, "message");
	else if (json_is_string(e))
		m = e;
	snprintf(out, outlen, "%.120s", json_is_string(m) ? json_string_value(m) : "");
	json_decref(j);
}

static unsigned backoff_seed(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (unsigned)(t.tv_nsec ^ (long)pthread_self());
}

/* Milliseconds to wait before attempt (1-based) + 1. */
static int64_t backoff_ms(const struct provider_conf *p, int attempt, double retry_after,
			  unsigned *seed)
{
	int64_t d;

	if (retry_after >= 0) /* the deadline check bounds it; this bounds a call without one */
		return (int64_t)(retry_after < RETRY_AFTER_MAX_S ? retry_after : RETRY_AFTER_MAX_S) * 1000;
	d = (int64_t)p->backoff_ms << (attempt - 1 < 10 ? attempt - 1 : 10);
	if (d > BACKOFF_MAX_MS)
		d = BACKOFF_MAX_MS;
	/* jitter: uniformly between half and the full delay */
	return d / 2 + (int64_t)(rand_r(seed) % (unsigned)(d / 2 + 1));
}

static void sleep_ms(int64_t ms)
{
	struct timespec t = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

/* ---- metrics: what is counted (docs/filesystem.md, .deskfs/metrics) -----------
 *
 * Each HTTP request deskfs makes (one per attempt; libcurl's own resend on
 * a dropped keep-alive connection is inside it) adds one to
 * deskfs_provider_requests_total with its outcome and one observation of
 * its time to deskfs_provider_latency_seconds. Each provider_chat() or
 * provider_embed() call that fails adds one to deskfs_provider_errors_total
 * with the outcome of its last request, or breaker_open, deadline or
 * internal when it made none. Labels: the provider's configured name, its
 * api and call ("chat" or "embed"); never the endpoint or the key. */

/* The outcome of one request: ok, bad_response (2xx without a usable
 * body), 429, 4xx, 5xx, other_status, timeout, transport or internal. */
static const char *attempt_outcome(int rc, const struct http_response *resp, bool usable)
{
	if (rc == -ENOMEM)
		return "internal";
	if (rc == -ETIMEDOUT)
		return "timeout";
	if (rc)
		return "transport";
	if (resp->status >= 200 && resp->status < 300)
		return usable ? "ok" : "bad_response";
	if (resp->status == 429)
		return "429";
	if (resp->status >= 400 && resp->status < 500)
		return "4xx";
	return resp->status >= 500 && resp->status < 600 ? "5xx" : "other_status";
}

static void attempt_count(const struct provider_conf *p, const char *call,
			  const char *outcome, const struct timespec *t0)
{
	const char *api = api_names[p->api];
	struct timespec t1;
	double s;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
	metrics_count(METRIC_PROVIDER_REQUESTS,
		      (const char *const[]){ p->name, api, call, outcome }, 1);
	metrics_observe(METRIC_PROVIDER_LATENCY, (const char *const[]){ p->name, api, call }, s);
}

static void error_count(const struct provider_conf *p, const char *call, const char *reason)
{
	metrics_count(METRIC_PROVIDER_ERRORS,
		      (const char *const[]){ p->name, api_names[p->api], call, reason }, 1);
}

/* One POST with retries; *resp is the final 2xx response. Each request
 * is counted (call: "chat" or "embed"); *last is the outcome of the last
 * one (unchanged when none was made). */
static int post_retried(const struct provider_conf *p, const char *call, const char *url,
			char *const *hdr, const char *body, int64_t deadline_ms, int *attempts,
			const char **last, struct http_response *resp,
			bool (*usable)(const struct provider_conf *, const char *, void *, char *,
				       size_t),
			void *arg, char *err, size_t errlen)
{
	const char *const *headers = (const char *const *)hdr;
	unsigned seed = backoff_seed();
	char why[PROVIDER_ERR_MAX] = "";
	int rc = -EIO;

	for (int a = 1; a <= 1 + p->retries; a++) {
		int64_t now = provider_now_ms(), wait;
		long timeout = p->timeout_ms;
		struct timespec t0;
		bool retryable;

		if (deadline_ms && deadline_ms - now < timeout)
			timeout = (long)(deadline_ms - now);
		if (timeout <= 0) {
			if (a == 1)
				snprintf(why, sizeof(why), "no time left before the query timeout");
			rc = -ETIMEDOUT;
			break;
		}
		*attempts = a;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = http_post_json(url, headers, body, timeout, resp, why, sizeof(why));
		if (rc == -ETIMEDOUT && timeout < p->timeout_ms)
			snprintf(why, sizeof(why), "timeout: the query timeout ran out after %.1f s "
				 "of this attempt", (double)timeout / 1000);
		if (!rc && resp->status >= 200 && resp->status < 300) {
			bool ok = usable(p, resp->body, arg, why, sizeof(why));
			*last = attempt_outcome(rc, resp, ok);
			attempt_count(p, call, *last, &t0);
			if (ok)
				return 0;
			rc = -EPROTO;
			retryable = true;
		} else if (!rc) {
			char detail[128];
			error_detail(resp->body, detail, sizeof(detail));
			snprintf(why, sizeof(why), "HTTP %ld %s%s%s", resp->status,
				 http_status_text(resp->status), *detail ? ": " : "", detail);
			*last = attempt_outcome(rc, resp, false);
			attempt_count(p, call, *last, &t0);
			rc = http_status_to_errno(resp->status);
			retryable = resp->status == 429 || resp->status >= 500;
		} else {
			*last = attempt_outcome(rc, resp, false);
			attempt_count(p, call, *last, &t0);
			retryable = rc != -ENOMEM && rc != -EINVAL;
		}
		if (!retryable || a == 1 + p->retries)
			break;
		wait = backoff_ms(p, a, resp->retry_after, &seed);
		if (deadline_ms && provider_now_ms() + wait >= deadline_ms) {
			char more[64];
			snprintf(more, sizeof(more), "; no retry: %s of %.1f s would pass the "
				 "query timeout", resp->retry_after >= 0 ? "Retry-After" : "backoff",
				 (double)wait / 1000);
			strncat(why, more, sizeof(why) - strlen(why) - 1);
			break;
		}
		http_response_clear(resp);
		sleep_ms(wait);
	}
	http_response_clear(resp);
	snprintf(err, errlen, "%s after %d attempt%s", why, *attempts, *attempts == 1 ? "" : "s");
	return rc;
}

static bool chat_usable(const struct provider_conf *p, const char *body, void *arg, char *err,
			size_t errlen)
{
	struct chat_reply *out = arg;

	free(out->text);
	out->text = chat_parse(p, body, out, err, errlen);
	return out->text != NULL;
}

int provider_chat(const struct provider_conf *p, const struct chat_request *rq,
		  int64_t deadline_ms, struct chat_reply *out, char err[PROVIDER_ERR_MAX])
{
	struct strbuf url = STRBUF_INIT;
	struct http_response resp = { 0 };
	char *hdr[HDR_MAX + 1] = { 0 }, *body = NULL;
	int64_t t0 = provider_now_ms();
	const char *last = "deadline";
	json_t *j = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = breaker_enter(p, err, PROVIDER_ERR_MAX))) {
		error_count(p, "chat", "breaker_open");
		return rc;
	}
	j = chat_body(p, rq, &url, hdr);
	if (!j || url.err || !(body = json_dumps(j, JSON_COMPACT))) {
		snprintf(err, PROVIDER_ERR_MAX, "cannot build the request (out of memory or text "
			 "that is not UTF-8)");
		last = "internal";
		rc = -ENOMEM;
		goto out;
	}
	rc = post_retried(p, "chat", url.buf, hdr, body, deadline_ms, &out->attempts, &last, &resp,
			  chat_usable, out, err, PROVIDER_ERR_MAX);
out:
	if (rc)
		error_count(p, "chat", last);
	/* a call that sent nothing says nothing about the provider */
	breaker_leave(p, rc == 0, out->attempts > 0);
	out->ms = (double)(provider_now_ms() - t0);
	http_response_clear(&resp);
	for (int i = 0; hdr[i]; i++)
		free(hdr[i]);
	free(body);
	json_decref(j);
	strbuf_release(&url);
	if (rc)
		chat_reply_clear(out);
	return rc;
}

void chat_reply_clear(struct chat_reply *r)
{
	free(r->text);
	r->text = NULL;
}

/* ---- embeddings -------------------------------------------------------------- */

/* One request's texts: n of them from index at of total. */
struct embed_batch {
	size_t n;
	int *dim;
	float **all; /* total * dim, allocated once the dimension is known */
	size_t at, total;
};

static bool embed_usable(const struct provider_conf *p, const char *body, void *arg, char *err,
			 size_t errlen)
{
	struct embed_batch *b = arg;
	json_t *j = json_loads(body, 0, NULL), *list, *v;
	size_t i;
	bool ok = false;

	if (!j) {
		snprintf(err, errlen, "malformed JSON in the response");
		return false;
	}
	list = p->api == API_OLLAMA ? json_object_get(j, "embeddings") : json_object_get(j, "data");
	if (json_array_size(list) != b->n) {
		snprintf(err, errlen, "%zu embeddings for %zu texts", json_array_size(list), b->n);
		goto out;
	}
	json_array_foreach(list, i, v) {
		json_t *vec = p->api == API_OLLAMA ? v : json_object_get(v, "embedding");
		size_t idx = p->api == API_OLLAMA ? i : (size_t)json_integer_value(json_object_get(v, "index"));
		int d = (int)json_array_size(vec);

		if (!d || (*b->dim && d != *b->dim) || idx >= b->n) {
			snprintf(err, errlen, "embedding %zu has %d dimensions, expected %d", i, d,
				 *b->dim);
			goto out;
		}
		if (!*b->dim)
			*b->dim = d;
		if (!*b->all && !(*b->all = calloc(b->total * (size_t)d, sizeof(float)))) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		float *dst = *b->all + (b->at + idx) * (size_t)d;
		for (int k = 0; k < d; k++)
			dst[k] = (float)json_number_value(json_array_get(vec, (size_t)k));
		vec_unit(dst, d);
	}
	ok = true;
out:
	json_decref(j);
	return ok;
}

void provider_embed_note(const struct provider_conf *p, const char *why, char *out,
			 size_t len)
{
	snprintf(out, len, "embedder '%s' (%s, model %s) failed: %s", p->name,
		 api_names[p->api], p->model ? p->model : "", why);
}

int provider_embed(const struct provider_conf *p, const char *const *texts, size_t n,
		   float **out, int *dim, char err[PROVIDER_ERR_MAX])
{
	struct strbuf url = STRBUF_INIT;
	char *hdr[HDR_MAX + 1] = { 0 };
	size_t batch = p->batch > 0 ? (size_t)p->batch : 64;
	const char *last = "internal";
	int rc = 0, attempts = 0;

	*out = NULL;
	if (p->api != API_OPENAI && p->api != API_OLLAMA) {
		snprintf(err, PROVIDER_ERR_MAX, "api '%s' has no embeddings", api_names[p->api]);
		rc = -EINVAL;
		goto out;
	}
	strbuf_addf(&url, p->api == API_OLLAMA ? "%s/api/embed" : "%s/embeddings", p->endpoint);
	if (hdr_add(hdr, "Authorization: Bearer ", provider_key(p))) {
		snprintf(err, PROVIDER_ERR_MAX, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = breaker_enter(p, err, PROVIDER_ERR_MAX))) {
		last = "breaker_open";
		goto out;
	}
	for (size_t at = 0; at < n && !rc; at += batch) {
		size_t m = n - at < batch ? n - at : batch;
		struct embed_batch b = { m, dim, out, at, n };
		struct http_response resp = { 0 };
		json_t *in = json_array(), *j;
		char *body;

		for (size_t i = 0; i < m; i++)
			json_array_append_new(in, json_string(texts[at + i]));
		j = json_pack("{s:s,s:o}", "model", p->model, "input", in);
		body = j ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
		if (!body || url.err) {
			snprintf(err, PROVIDER_ERR_MAX, "out of memory");
			last = "internal";
			rc = -ENOMEM;
			break;
		}
		rc = post_retried(p, "embed", url.buf, hdr, body, 0, &attempts, &last, &resp,
				  embed_usable, &b, err, PROVIDER_ERR_MAX);
		http_response_clear(&resp);
		free(body);
	}
	breaker_leave(p, rc == 0, attempts > 0);
out:
	if (rc)
		error_count(p, "embed", last);
	free(hdr[0]);
	strbuf_release(&url);
	if (rc) {
		free(*out);
		*out = NULL;
	}
	return rc;
}
