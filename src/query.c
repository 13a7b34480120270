/* query.c - parse a query file, retrieve, answer extractively, render the
 * answer file and NAME.json (query.h). */
#include "query.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "provider.h"
#include "strbuf.h"
#include "text.h"
#include "util.h"

#define ANSWER_SENTENCES 3
#define QUOTE_MAX 400

struct query {
	struct retrieve_opts ro;
	int search_only;
	bool no_feedback;
	char status[64];
	char *question;
	struct strbuf errors;
};

static const char *const mode_names[] = { [RETRIEVE_HYBRID] = "hybrid", [RETRIEVE_BM25] = "bm25",
					  [RETRIEVE_VECTOR] = "vector" };

/* One "key: value" option; returns 0 or appends to q->errors. */
static void query_option(struct query *q, const char *key, const char *val)
{
	if (!strcmp(key, "k")) {
		char *end;
		long k = strtol(val, &end, 10);
		if (!*val || *end || k < 1 || k > QUERY_K_MAX)
			strbuf_addf(&q->errors, "k: '%s' is not a number from 1 to %d\n", val,
				    QUERY_K_MAX);
		else
			q->ro.k = (int)k;
	} else if (!strcmp(key, "mode")) {
		if (!strcmp(val, "search") || !strcmp(val, "answer"))
			q->search_only = !strcmp(val, "search");
		else
			strbuf_addf(&q->errors, "mode: '%s' is not answer or search\n", val);
	} else if (!strcmp(key, "sources")) {
		if (!strcmp(val, "tickets"))
			q->ro.filter.kind = DOC_TICKET;
		else if (!strcmp(val, "kb"))
			q->ro.filter.kind = DOC_ARTICLE;
		else if (!strcmp(val, "all"))
			q->ro.filter.kind = 0;
		else
			strbuf_addf(&q->errors, "sources: '%s' is not tickets, kb or all\n", val);
	} else if (!strcmp(key, "retriever")) {
		int m = -1;
		for (int i = 0; i < 3; i++)
			if (!strcmp(val, mode_names[i]))
				m = i;
		if (m < 0)
			strbuf_addf(&q->errors, "retriever: '%s' is not hybrid, bm25 or vector\n", val);
		else
			q->ro.mode = (enum retrieve_mode)m;
	} else if (!strcmp(key, "feedback")) {
		if (!strcmp(val, "on") || !strcmp(val, "off"))
			q->no_feedback = !strcmp(val, "off");
		else
			strbuf_addf(&q->errors, "feedback: '%s' is not on or off\n", val);
	} else if (!strcmp(key, "status")) {
		snprintf(q->status, sizeof(q->status), "%s", val);
		q->ro.filter.status = q->status;
	} else if (!strcmp(key, "since") || !strcmp(key, "until")) {
		int64_t t;
		if (util_time_parse(val, &t))
			strbuf_addf(&q->errors, "%s: '%s' is not a date (2024-03-05 or RFC 3339)\n",
				    key, val);
		else if (key[0] == 's')
			q->ro.filter.since = t;
		else
			q->ro.filter.until = strlen(val) == 10 ? t + 86399 : t; /* a whole day */
	} else {
		strbuf_addf(&q->errors, "unknown option '%s' (known: k, mode, sources, retriever, "
			    "feedback, status, since, until); to ask a question that starts with "
			    "'%s:', put an empty line before it\n", key, key);
	}
}

/* The start of a separator line in what was written, or NULL. */
static const char *find_separator(const char *written, size_t len)
{
	const char *end = written + len;
	size_t n = strlen(QUERY_SEPARATOR);

	for (const char *s = written; s < end;) {
		const char *eol = memchr(s, '\n', (size_t)(end - s));
		if ((size_t)(end - s) >= n && !strncmp(s, QUERY_SEPARATOR, n))
			return s;
		if (!eol)
			break;
		s = eol + 1;
	}
	return NULL;
}

/* Splits what was written into options and the question. */
static int query_parse(struct query *q, const char *written, size_t len)
{
	const char *p = written, *end = written + len;
	const char *sep = find_separator(written, len);
	bool options = true;

	/* an answer file written back: the query is what precedes the separator */
	if (sep)
		end = sep;
	while (p < end && options) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end, *colon;
		size_t klen = 0;

		while (p + klen < le && (islower((unsigned char)p[klen]) || p[klen] == '_'))
			klen++;
		colon = p + klen;
		if (p == le || (le - p == 1 && *p == '\r')) {
			p = eol ? eol + 1 : end; /* an empty line ends the options */
			break;
		}
		if (!klen || colon >= le || *colon != ':' ||
		    (colon + 1 < le && colon[1] != ' ' && colon[1] != '\t')) {
			options = false;
			break;
		}
		char key[32], *val = util_strtrim(colon + 1, (size_t)(le - colon - 1));
		snprintf(key, sizeof(key), "%.*s", (int)(klen < 31 ? klen : 31), p);
		if (!val)
			return -ENOMEM;
		query_option(q, key, val);
		free(val);
		p = eol ? eol + 1 : end;
	}
	q->question = util_strtrim(p, (size_t)(end - p));
	if (!q->question)
		return -ENOMEM;
	if (!*q->question)
		strbuf_addstr(&q->errors, "no question: write the question after the options\n");
	return q->errors.err;
}

char *query_question(const char *written, size_t len)
{
	struct query q = { .errors = STRBUF_INIT };
	char *clean = util_utf8_sanitize(written, len);

	if (clean && !query_parse(&q, clean, strlen(clean)) && q.question && !*q.question) {
		free(q.question);
		q.question = NULL;
	}
	strbuf_release(&q.errors);
	free(clean);
	return q.question;
}

/* ---- the offline extractive answerer -------------------------------------- */

struct terms {
	char (*w)[TEXT_MAX_WORD];
	size_t n, cap;
	unsigned long long mask; /* per sentence: which terms occur (first 64) */
};

static void term_collect(char *w, size_t len, void *arg)
{
	struct terms *t = arg;

	if (text_is_stopword(w, len))
		return;
	len = text_stem(w, len);
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->w[i], w))
			return;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		void *p = realloc(t->w, cap * sizeof(*t->w));
		if (!p)
			return;
		t->w = p;
		t->cap = cap;
	}
	memcpy(t->w[t->n++], w, len + 1);
}

static void term_mark(char *w, size_t len, void *arg)
{
	struct terms *t = arg;

	if (text_is_stopword(w, len))
		return;
	text_stem(w, len);
	for (size_t i = 0; i < t->n && i < 64; i++)
		if (!strcmp(t->w[i], w))
			t->mask |= 1ULL << i;
}

struct sentence {
	const char *s;
	size_t len;
	int source; /* 1-based source number */
	double score;
};

static int cmp_sentence(const void *a, const void *b)
{
	const struct sentence *x = a, *y = b;

	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return x->source - y->source;
}

/* The sentences of the hits' passages that share a term with the question. */
struct sentences {
	struct terms *t;
	struct sentence *ss;
	size_t n, cap;
	int source; /* 1-based */
};

static bool sentence_score(void *ctx, const char *s, size_t len)
{
	struct sentences *x = ctx;
	size_t words = text_word_count(s, len);

	if (words < 4 || words > 80)
		return false;
	char *copy = util_strndup(s, len);
	if (copy) {
		x->t->mask = 0;
		text_words(copy, len, term_mark, x->t);
		free(copy);
	}
	int hits = __builtin_popcountll(x->t->mask);
	if (!hits)
		return false;
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 64;
		void *np = realloc(x->ss, cap * sizeof(*x->ss));
		if (!np)
			return true; /* the rest of this passage is left out */
		x->ss = np;
		x->cap = cap;
	}
	x->ss[x->n++] = (struct sentence){ s, len, x->source,
		(double)hits / (double)(x->t->n ? x->t->n : 1) + 0.05 / (double)x->source };
	return false;
}

/* Appends the best sentences of the hits' passages, each with its [n]. */
static int answer_extract(const char *question, const struct hit *hits, size_t n_hits,
			  struct strbuf *out)
{
	struct terms t = { 0 };
	size_t used = 0;
	char *qcopy = strdup(question);

	if (!qcopy)
		return -ENOMEM;
	text_words(qcopy, strlen(qcopy), term_collect, &t);
	free(qcopy);
	struct sentences x = { &t, NULL, 0, 0, 0 };
	for (size_t h = 0; h < n_hits; h++)
		for (size_t pi = 0; pi < hits[h].n_passages; pi++) {
			x.source = (int)h + 1;
			text_sentences(hits[h].passages[pi].row.text, sentence_score, &x);
		}
	struct sentence *ss = x.ss;
	size_t n = x.n;
	if (n)
		qsort(ss, n, sizeof(*ss), cmp_sentence);
	for (size_t i = 0; i < n && used < ANSWER_SENTENCES; i++) {
		bool dup = false;
		for (size_t j = 0; j < i; j++)
			if (ss[j].len == ss[i].len && !memcmp(ss[j].s, ss[i].s, ss[i].len))
				dup = true;
		if (dup)
			continue;
		if (used)
			strbuf_addch(out, ' ');
		strbuf_add(out, ss[i].s, ss[i].len);
		strbuf_addf(out, " [%d]", ss[i].source);
		used++;
	}
	if (!used)
		strbuf_addstr(out, "The sources found do not answer this question.");
	strbuf_addch(out, '\n');
	free(ss);
	free(t.w);
	return out->err;
}

/* ---- rendering -------------------------------------------------------------- */

static void quote_passage(struct strbuf *sb, const char *text)
{
	size_t n = strlen(text), cut = n > QUOTE_MAX ? util_utf8_cut(text, QUOTE_MAX) : n;

	strbuf_addstr(sb, "    > ");
	for (size_t i = 0; i < cut; i++) {
		if (text[i] == '\n')
			strbuf_addstr(sb, "\n    > ");
		else if (text[i] != '\r')
			strbuf_addch(sb, text[i]);
	}
	strbuf_addstr(sb, cut < n ? " ...\n" : "\n");
}

static json_t *hit_json(const struct hit *h, int n)
{
	json_t *ps = json_array();
	json_t *o;

	for (size_t i = 0; i < h->n_passages; i++)
		json_array_append_new(ps, json_pack("{s:s,s:s,s:f}", "message_id",
						    h->passages[i].row.msg_id, "text",
						    h->passages[i].row.text, "score",
						    h->passages[i].fused));
	o = json_pack("{s:i,s:s,s:s,s:s,s:f,s:{s:f,s:i},s:{s:f,s:i},s:o}", "n", n, "path",
		      h->path, "title", h->title, "kind",
		      h->kind == DOC_TICKET ? "ticket" : "article", "score", h->score, "bm25",
		      "score", h->bm25, "rank", h->bm25_rank, "vector", "score", h->vector,
		      "rank", h->vector_rank, "passages", ps);
	if (o && h->feedback != 1)
		json_object_set_new(o, "feedback", json_real(h->feedback));
	return o;
}

const char query_system_prompt[] =
	"You are a help-desk assistant. Answer the question using only the numbered sources "
	"given, which are past support tickets and knowledge-base articles. Cite the sources "
	"that support each statement by number in square brackets, like [1] or [2][3]. If the "
	"sources do not answer the question, say so plainly instead of guessing. Be concise.";

#define CHARS_PER_TOKEN 4 /* budget estimate for English text */

/* The user message: numbered passages within the context budget, then
 * the question. Numbers are the hits' numbers in the Sources list. */
static void prompt_build(const char *question, const struct hit *hits, size_t n_hits,
			 int context_tokens, struct strbuf *sb)
{
	long budget = (long)context_tokens * CHARS_PER_TOKEN - (long)sizeof(query_system_prompt) -
		      (long)strlen(question) - 64;

	strbuf_addstr(sb, "Sources:\n");
	/* best passages of every hit first, then the second passages */
	for (size_t pass = 0; pass < HIT_PASSAGES; pass++)
		for (size_t i = 0; i < n_hits; i++) {
			const struct hit *h = &hits[i];
			if (pass >= h->n_passages)
				continue;
			const char *t = h->passages[pass].row.text;
			long head = (long)strlen(h->path) + (long)strlen(h->title) + 16;
			long len = (long)strlen(t);
			if (budget - head < 40)
				goto done;
			if (len > budget - head)
				len = (long)util_utf8_cut(t, (size_t)(budget - head));
			strbuf_addf(sb, "\n[%zu] %s \"%s\"\n", i + 1, h->path, h->title);
			strbuf_add(sb, t, (size_t)len);
			strbuf_addch(sb, '\n');
			budget -= head + len;
		}
done:
	strbuf_addf(sb, "\nQuestion: %s\n", question);
}

struct generation {
	const struct provider_conf *by; /* the provider that answered, or NULL */
	int prompt_tokens, completion_tokens;
	json_t *tries;                  /* one object per provider tried */
	struct strbuf failures;         /* "provider 'x' (api, model): reason" lines */
};

/* Asks the providers of cfg in order; the answer goes to answer. */
static int answer_generate(const struct query *q, const struct tenant_config *cfg,
			   const struct hit *hits, size_t n_hits, int64_t deadline,
			   struct strbuf *answer, struct generation *g)
{
	struct strbuf user = STRBUF_INIT;
	struct chat_request rq = { query_system_prompt, NULL };
	int rc = 0;

	if (!n_hits) {
		strbuf_addstr(answer, "No ticket or article matched this question, so there is "
			      "no answer.\n");
		return answer->err;
	}
	prompt_build(q->question, hits, n_hits, cfg->context_tokens, &user);
	if (user.err)
		return -ENOMEM;
	rq.user = user.buf;
	for (size_t i = 0; i < cfg->n_providers && !g->by; i++) {
		const struct provider_conf *p = &cfg->providers[i];
		struct chat_reply rep;
		char err[PROVIDER_ERR_MAX];
		struct timespec t0;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (p->api == API_OFFLINE) {
			if ((rc = answer_extract(q->question, hits, n_hits, answer)))
				break;
			g->by = p;
			json_array_append_new(g->tries, json_pack("{s:s,s:s,s:s,s:b,s:i,s:f}", "name",
				p->name, "api", "offline", "model", "extractive-v1", "ok", 1,
				"attempts", 1, "ms", util_ms_since(&t0)));
			break;
		}
		rc = provider_chat(p, &rq, deadline, &rep, err);
		if (rc == -ENOMEM)
			break;
		json_array_append_new(g->tries, json_pack("{s:s,s:s,s:s,s:b,s:i,s:f,s:s*}", "name",
			p->name, "api", provider_api_name(p->api), "model", p->model, "ok", !rc,
			"attempts", rc ? 0 : rep.attempts, "ms", util_ms_since(&t0), "error",
			rc ? err : NULL));
		if (rc) {
			strbuf_addf(&g->failures, "provider '%s' (%s, model %s) failed: %s\n", p->name,
				    provider_api_name(p->api), p->model, err);
			rc = 0;
			continue;
		}
		g->by = p;
		g->prompt_tokens = rep.prompt_tokens;
		g->completion_tokens = rep.completion_tokens;
		strbuf_addstr(answer, rep.text);
		strbuf_rtrim(answer);
		strbuf_addch(answer, '\n');
		chat_reply_clear(&rep);
	}
	strbuf_release(&user);
	return rc ? rc : answer->err;
}

int query_run(struct store *s, struct retriever *r, const struct tenant_config *cfg,
	      int64_t tenant, const char *written, size_t len, struct query_result *out)
{
	struct feedback_boost *boosts = NULL;
	struct query q = { .ro = { .k = cfg->k }, .errors = STRBUF_INIT };
	struct strbuf text = STRBUF_INIT, answer = STRBUF_INIT;
	struct generation g = { .failures = STRBUF_INIT, .tries = json_array() };
	struct retrieve_timing tm = { 0 };
	int64_t deadline = provider_now_ms() + (int64_t)cfg->query_timeout_s * 1000;
	struct hit *hits = NULL;
	size_t n_hits = 0;
	struct timespec t0, t1;
	double gen_ms = 0;
	json_t *j = NULL, *srcs;
	bool generate, invalid = false;
	char *clean = NULL;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(out, 0, sizeof(*out));
	/* invalid UTF-8 (a Latin-1 editor) becomes U+FFFD, never a failed run */
	if (!(clean = util_utf8_sanitize(written, len))) {
		rc = -ENOMEM;
		goto out;
	}
	written = clean;
	len = strlen(clean);
	if (!g.tries || (rc = query_parse(&q, written, len)))
		goto out;
	invalid = q.errors.len != 0;
	if (!invalid) {
		q.ro.embedder = &cfg->embedder;
		/* feedback that cannot be read leaves the ranking as it is */
		if (!q.no_feedback)
			feedback_boosts(s, tenant, q.question, (int64_t)time(NULL),
					(int64_t)cfg->feedback_window_days * 86400, &boosts,
					&q.ro.n_boosts);
		q.ro.boosts = boosts;
		rc = retrieve(r, tenant, q.question, &q.ro, &hits, &n_hits, &tm);
		if (rc == -ENOMEM)
			goto out;
		if (rc)
			strbuf_addf(&q.errors, "retrieval failed: %s\n", strerror(-rc));
		rc = 0;
	}
	generate = !q.errors.len && !q.search_only;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (generate && (rc = answer_generate(&q, cfg, hits, n_hits, deadline, &answer, &g)))
		goto out;
	gen_ms = util_ms_since(&t1);

	/* the text: the query as written, the separator, the result */
	{
		const char *sep = find_separator(written, len);
		size_t qlen = sep ? (size_t)(sep - written) : len;

		while (qlen && isspace((unsigned char)written[qlen - 1]))
			qlen--;
		strbuf_add(&text, written, qlen);
	}
	strbuf_addstr(&text, "\n\n" QUERY_SEPARATOR "\n");
	if (q.errors.len) {
		strbuf_addstr(&text, "This query was not run:\n");
		strbuf_addstr(&text, q.errors.buf);
	} else {
		if (generate) {
			strbuf_addstr(&text, g.failures.buf ? g.failures.buf : "");
			if (!n_hits)
				strbuf_addstr(&text, "Answer:\n");
			else if (!g.by)
				strbuf_addstr(&text, "No answer: every provider failed (see above). "
					      "The sources retrieved are listed below.\n");
			else if (g.by->api == API_OFFLINE)
				strbuf_addstr(&text, "Answer (offline extractive answerer: sentences "
					      "quoted from the sources below, not generated):\n");
			else
				strbuf_addf(&text, "Answer (provider '%s': %s model %s):\n",
					    g.by->name, provider_api_name(g.by->api), g.by->model);
			strbuf_addstr(&text, answer.buf ? answer.buf : "");
			strbuf_addch(&text, '\n');
		}
		if (tm.vector_error[0])
			strbuf_addf(&text, "Vector search skipped: %s\n", tm.vector_error);
		strbuf_addf(&text, "Sources (%zu, %s retrieval):\n", n_hits, mode_names[q.ro.mode]);
		if (!n_hits)
			strbuf_addstr(&text, "(none matched)\n");
		for (size_t i = 0; i < n_hits; i++) {
			strbuf_addf(&text, "[%zu] %s  \"%s\"  score %.4f", i + 1, hits[i].path,
				    hits[i].title, hits[i].score);
			if (hits[i].feedback != 1)
				strbuf_addf(&text, " (feedback x%.2f)", hits[i].feedback);
			strbuf_addch(&text, '\n');
			for (size_t p = 0; p < hits[i].n_passages; p++)
				quote_passage(&text, hits[i].passages[p].row.text);
		}
	}

	srcs = json_array();
	for (size_t i = 0; i < n_hits; i++)
		json_array_append_new(srcs, hit_json(&hits[i], (int)i + 1));
	j = json_pack("{s:s,s:s,s:{s:i,s:s,s:s,s:s,s:s*,s:I,s:I},s:s*,s:s*,s:s*,s:i,s:o,"
		      "s:{s:s,s:s,s:s},s:O,s:{s:f,s:f,s:f,s:f,s:f,s:f,s:f},s:{s:i,s:i}}",
		      "state", "done", "question", q.question ? q.question : "",
		      "options", "k", q.ro.k, "mode", q.search_only ? "search" : "answer",
		      "sources", q.ro.filter.kind == DOC_TICKET ? "tickets" :
				 q.ro.filter.kind == DOC_ARTICLE ? "kb" : "all",
		      "retriever", mode_names[q.ro.mode], "status",
		      q.status[0] ? q.status : NULL, "since", (json_int_t)q.ro.filter.since,
		      "until", (json_int_t)q.ro.filter.until,
		      "answer", generate && (g.by || !n_hits) ? answer.buf : NULL,
		      "error", q.errors.len ? q.errors.buf :
			       generate && n_hits && !g.by ? "every provider failed" : NULL,
		      "vector_error", tm.vector_error[0] ? tm.vector_error : NULL,
		      "stale_passages", tm.stale,
		      "sources", srcs,
		      "answerer", "provider", g.by ? g.by->name : "none",
		      "api", g.by ? provider_api_name(g.by->api) : "none",
		      "model", !g.by ? "none" : g.by->api == API_OFFLINE ? "extractive-v1" : g.by->model,
		      "providers", g.tries,
		      "timings_ms", "embed", tm.embed_ms, "index_refresh", tm.refresh_ms,
		      "bm25", tm.bm25_ms, "vector", tm.vector_ms, "retrieval",
		      tm.total_ms, "generation", gen_ms, "total", tm.total_ms + gen_ms,
		      "tokens", "prompt", g.prompt_tokens, "completion", g.completion_tokens);
	if (!j || text.err) {
		rc = -ENOMEM;
		goto out;
	}
	out->json = json_dumps(j, JSON_INDENT(2));
	if (!out->json) {
		rc = -ENOMEM;
		goto out;
	}
	out->json_len = strlen(out->json);
	out->text = strbuf_detach(&text, &out->text_len);
	/* every run that produced an answer file (docs/filesystem.md) */
	metrics_observe(METRIC_QUERY_LATENCY, (const char *const[]){ invalid ? "invalid" :
			q.search_only ? "search" : "answer" }, util_ms_since(&t0) / 1000);
out:
	if (!g.tries)
		rc = -ENOMEM;
	json_decref(j);
	json_decref(g.tries);
	strbuf_release(&g.failures);
	hits_free(hits, n_hits);
	strbuf_release(&text);
	strbuf_release(&answer);
	strbuf_release(&q.errors);
	free(q.question);
	free(boosts);
	free(clean);
	if (rc)
		query_result_clear(out);
	return rc;
}

char *query_pending_text(const char *written, size_t len, double elapsed_s, size_t *out_len)
{
	struct strbuf sb = STRBUF_INIT;
	const char *sep = find_separator(written, len);
	size_t qlen = sep ? (size_t)(sep - written) : len;

	while (qlen && isspace((unsigned char)written[qlen - 1]))
		qlen--;
	strbuf_add(&sb, written, qlen);
	strbuf_addf(&sb, "\n\n" QUERY_SEPARATOR "\nPending: the answer is being produced "
		    "(written %.0f s ago). Read this file again for it.\n", elapsed_s);
	return strbuf_detach(&sb, out_len);
}

void query_result_clear(struct query_result *q)
{
	free(q->text);
	free(q->json);
	memset(q, 0, sizeof(*q));
}
