/* metrics.c - the metrics registry, collectors and the Prometheus text
 * rendering (metrics.h).
 *
 * The registry is one table of families (families[] below). A family
 * keeps its series in an array sorted by label values, under its own
 * mutex: an update is a binary search and an increment; a new label set
 * costs one allocation. A histogram series counts observations per bucket
 * (not cumulative); the rendering sums them up, so the _bucket lines,
 * _sum and _count of one series always come from one consistent state.
 *
 * Numbers are formatted with printf, which uses '.' as deskfs never calls
 * setlocale().
 */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "strbuf.h"
#include "util.h"

/* Latency buckets, seconds: from a local call to a slow LLM answer. */
static const double seconds_buckets[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
					  1, 2.5, 5, 10, 30, 60 };
#define SECONDS_BUCKETS (sizeof(seconds_buckets) / sizeof(seconds_buckets[0]))

enum family_type { FAM_COUNTER, FAM_HISTOGRAM };
static const char *const type_names[] = { [FAM_COUNTER] = "counter",
					  [FAM_HISTOGRAM] = "histogram" };

struct series {
	char *key;        /* the label values, each NUL-terminated, back to back */
	uint64_t value;   /* counter: its value; histogram: observations */
	double sum;       /* histogram: sum of the observations */
	uint64_t *bucket; /* histogram: per bucket, [n_le] is above the last bound */
};

struct family {
	const char *name, *help;
	enum family_type type;
	const char *labels[METRICS_LABELS_MAX];
	size_t n_labels;
	const double *le; /* histogram bucket bounds, increasing */
	size_t n_le;
	pthread_mutex_t lock;
	struct series *series; /* sorted by key */
	size_t n, cap;
};

#define LABELS(...) .labels = { __VA_ARGS__ }, \
	.n_labels = sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(const char *)
#define SECONDS .le = seconds_buckets, .n_le = SECONDS_BUCKETS

static struct family families[METRIC__COUNT] = {
	[METRIC_PROVIDER_REQUESTS] = {
		"deskfs_provider_requests_total",
		"HTTP requests made to LLM and embedding providers, one per attempt, by outcome.",
		FAM_COUNTER, LABELS("provider", "api", "call", "outcome"),
		.lock = PTHREAD_MUTEX_INITIALIZER },
	[METRIC_PROVIDER_ERRORS] = {
		"deskfs_provider_errors_total",
		"Provider calls that failed after their retries, by the reason of the last failure.",
		FAM_COUNTER, LABELS("provider", "api", "call", "reason"),
		.lock = PTHREAD_MUTEX_INITIALIZER },
	[METRIC_PROVIDER_LATENCY] = {
		"deskfs_provider_latency_seconds",
		"Time of one HTTP request to a provider (each attempt, failed ones included).",
		FAM_HISTOGRAM, LABELS("provider", "api", "call"), SECONDS,
		.lock = PTHREAD_MUTEX_INITIALIZER },
	[METRIC_QUERY_LATENCY] = {
		"deskfs_query_latency_seconds",
		"Time to answer a query file: parsing, retrieval, providers and rendering.",
		FAM_HISTOGRAM, LABELS("mode"), SECONDS,
		.lock = PTHREAD_MUTEX_INITIALIZER },
	[METRIC_COLLECTOR_ERRORS] = {
		"deskfs_metrics_collector_errors_total",
		"Renderings of this file in which a collector failed and its families were left out.",
		FAM_COUNTER, LABELS("collector"),
		.lock = PTHREAD_MUTEX_INITIALIZER },
};

static _Atomic uint64_t dropped;

/* ---- the registry ------------------------------------------------------------ */

/* <0, 0 or >0 as key sorts before, equal to or after values. */
static int key_cmp(const char *key, const char *const *values, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int c = strcmp(key, values[i] ? values[i] : "");
		if (c)
			return c;
		key += strlen(key) + 1;
	}
	return 0;
}

static char *key_make(const char *const *values, size_t n)
{
	size_t len = 0, at = 0;
	char *key;

	for (size_t i = 0; i < n; i++)
		len += strlen(values[i] ? values[i] : "") + 1;
	if (!(key = malloc(len ? len : 1)))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *v = values[i] ? values[i] : "";
		size_t l = strlen(v) + 1;
		memcpy(key + at, v, l);
		at += l;
	}
	return key;
}

/* The series of values in f (locked), made when missing; NULL when it
 * cannot be (no memory, or the family is full). */
static struct series *series_get(struct family *f, const char *const *values)
{
	size_t lo = 0, hi = f->n;
	struct series ns = { 0 };

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(f->series[mid].key, values, f->n_labels);
		if (!c)
			return &f->series[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (f->n == METRICS_SERIES_MAX)
		return NULL;
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;
		struct series *p = realloc(f->series, cap * sizeof(*p));
		if (!p)
			return NULL;
		f->series = p;
		f->cap = cap;
	}
	if (!(ns.key = key_make(values, f->n_labels)))
		return NULL;
	if (f->type == FAM_HISTOGRAM && !(ns.bucket = calloc(f->n_le + 1, sizeof(uint64_t)))) {
		free(ns.key);
		return NULL;
	}
	memmove(&f->series[lo + 1], &f->series[lo], (f->n - lo) * sizeof(f->series[0]));
	f->series[lo] = ns;
	f->n++;
	return &f->series[lo];
}

void metrics_count(enum metrics_id id, const char *const *values, uint64_t n)
{
	struct family *f;
	struct series *s;

	if ((unsigned)id >= METRIC__COUNT || families[id].type != FAM_COUNTER)
		return;
	f = &families[id];
	pthread_mutex_lock(&f->lock);
	if ((s = series_get(f, values)))
		s->value += n;
	pthread_mutex_unlock(&f->lock);
	if (!s)
		atomic_fetch_add(&dropped, 1);
}

void metrics_observe(enum metrics_id id, const char *const *values, double v)
{
	struct family *f;
	struct series *s;
	size_t b = 0;

	if ((unsigned)id >= METRIC__COUNT || families[id].type != FAM_HISTOGRAM)
		return;
	f = &families[id];
	if (!(v >= 0)) /* NaN or a clock gone backwards */
		v = 0;
	while (b < f->n_le && v > f->le[b])
		b++;
	pthread_mutex_lock(&f->lock);
	if ((s = series_get(f, values))) {
		s->bucket[b]++;
		s->value++;
		s->sum += v;
	}
	pthread_mutex_unlock(&f->lock);
	if (!s)
		atomic_fetch_add(&dropped, 1);
}

void metrics_reset(void)
{
	for (size_t i = 0; i < METRIC__COUNT; i++) {
		struct family *f = &families[i];
		pthread_mutex_lock(&f->lock);
		for (size_t k = 0; k < f->n; k++) {
			free(f->series[k].key);
			free(f->series[k].bucket);
		}
		free(f->series);
		f->series = NULL;
		f->n = f->cap = 0;
		pthread_mutex_unlock(&f->lock);
	}
	atomic_store(&dropped, 0);
}

/* ---- writing the text format --------------------------------------------------- */

void metrics_escape(struct strbuf *out, const char *s, bool label_value)
{
	char *clean = NULL;

	if (!util_utf8_valid(s, strlen(s))) {
		if (!(clean = util_utf8_sanitize(s, strlen(s)))) {
			out->err = -ENOMEM;
			return;
		}
		s = clean;
	}
	for (const char *p = s; *p; p++) {
		size_t plain = strcspn(p, label_value ? "\\\"\n" : "\\\n");
		strbuf_add(out, p, plain);
		p += plain;
		if (!*p)
			break;
		strbuf_addstr(out, *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : "\\n");
	}
	free(clean);
}

/* A sample value as Go's strconv.ParseFloat reads it: integers in full,
 * other numbers in the fewest digits that read back the same. */
static void value_format(double v, char buf[40])
{
	if (isnan(v)) {
		snprintf(buf, 40, "NaN");
	} else if (isinf(v)) {
		snprintf(buf, 40, v > 0 ? "+Inf" : "-Inf");
	} else if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(buf, 40, "%.0f", v == 0 ? 0.0 : v);
	} else {
		snprintf(buf, 40, "%.15g", v);
		if (strtod(buf, NULL) != v)
			snprintf(buf, 40, "%.17g", v);
	}
}

void metrics_family(struct strbuf *out, const char *name, const char *type, const char *help)
{
	strbuf_addf(out, "# HELP %s ", name);
	metrics_escape(out, help, false);
	strbuf_addf(out, "\n# TYPE %s %s\n", name, type);
}

void metrics_sample(struct strbuf *out, const char *name, const char *const *labels,
		    double value)
{
	char v[40];

	strbuf_addstr(out, name);
	for (size_t i = 0; labels && labels[i]; i += 2) {
		strbuf_addstr(out, i ? ",": "{");
		strbuf_addf(out, "%s=\"", labels[i]);
		metrics_escape(out, labels[i + 1] ? labels[i + 1] : "", true);
		strbuf_addch(out, '"');
	}
	if (labels && labels[0])
		strbuf_addch(out, '}');
	value_format(value, v);
	strbuf_addf(out, " %s\n", v);
}

/* NAME SUFFIX{labels of key[,le="LE"]} VALUE */
static void series_line(struct strbuf *out, const struct family *f, const char *suffix,
			const char *key, const char *le, const char *value)
{
	strbuf_addf(out, "%s%s", f->name, suffix);
	for (size_t i = 0; i < f->n_labels; i++) {
		strbuf_addf(out, "%s%s=\"", i ? "," : "{", f->labels[i]);
		metrics_escape(out, key, true);
		strbuf_addch(out, '"');
		key += strlen(key) + 1;
	}
	if (le)
		strbuf_addf(out, "%sle=\"%s\"", f->n_labels ? "," : "{", le);
	if (f->n_labels || le)
		strbuf_addch(out, '}');
	strbuf_addf(out, " %s\n", value);
}

static void family_render(struct family *f, struct strbuf *out)
{
	char v[40], le[40];

	pthread_mutex_lock(&f->lock);
	metrics_family(out, f->name, type_names[f->type], f->help);
	for (size_t i = 0; i < f->n; i++) {
		const struct series *s = &f->series[i];
		uint64_t cum = 0;

		snprintf(v, sizeof(v), "%" PRIu64, s->value);
		if (f->type == FAM_COUNTER) {
			series_line(out, f, "", s->key, NULL, v);
			continue;
		}
		for (size_t b = 0; b < f->n_le; b++) {
			char c[24];
			cum += s->bucket[b];
			value_format(f->le[b], le);
			snprintf(c, sizeof(c), "%" PRIu64, cum);
			series_line(out, f, "_bucket", s->key, le, c);
		}
		series_line(out, f, "_bucket", s->key, "+Inf", v);
		value_format(s->sum, le);
		series_line(out, f, "_sum", s->key, NULL, le);
		series_line(out, f, "_count", s->key, NULL, v);
	}
	pthread_mutex_unlock(&f->lock);
}

/* ---- collectors ------------------------------------------------------------------ */

struct collector {
	char name[METRICS_COLLECTOR_NAME_MAX];
	metrics_collector_fn fn;
	void *ctx;
};

/* Renderings hold it for reading while they run collectors; removal
 * takes it for writing, so a removed collector is never running. */
static pthread_rwlock_t collectors_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct collector collectors[METRICS_COLLECTORS_MAX];
static size_t n_collectors;

int metrics_collector_add(const char *name, metrics_collector_fn fn, void *ctx)
{
	int rc = 0;

	if (!name || !*name || strlen(name) >= METRICS_COLLECTOR_NAME_MAX || !fn)
		return -EINVAL;
	pthread_rwlock_wrlock(&collectors_lock);
	for (size_t i = 0; i < n_collectors && !rc; i++)
		if (collectors[i].fn == fn && collectors[i].ctx == ctx)
			rc = -EEXIST;
	if (!rc && n_collectors == METRICS_COLLECTORS_MAX)
		rc = -ENOSPC;
	if (!rc) {
		snprintf(collectors[n_collectors].name, METRICS_COLLECTOR_NAME_MAX, "%s", name);
		collectors[n_collectors].fn = fn;
		collectors[n_collectors].ctx = ctx;
		n_collectors++;
	}
	pthread_rwlock_unlock(&collectors_lock);
	return rc;
}

int metrics_collector_remove(metrics_collector_fn fn, void *ctx)
{
	int rc = -ENOENT;

	pthread_rwlock_wrlock(&collectors_lock);
	for (size_t i = 0; i < n_collectors; i++)
		if (collectors[i].fn == fn && collectors[i].ctx == ctx) {
			memmove(&collectors[i], &collectors[i + 1],
				(n_collectors - i - 1) * sizeof(collectors[0]));
			n_collectors--;
			rc = 0;
			break;
		}
	pthread_rwlock_unlock(&collectors_lock);
	return rc;
}

/* Runs one collector into a buffer of its own and appends its output
 * only when it succeeded. Returns 0 or -ENOMEM. */
static int collect_one(const char *name, metrics_collector_fn fn, void *ctx, struct store *s,
		       struct strbuf *out)
{
	struct strbuf part = STRBUF_INIT;
	int rc = fn(ctx, s, &part);

	if (!rc)
		rc = part.err;
	if (rc == -ENOMEM)
		goto out;
	if (rc) {
		metrics_count(METRIC_COLLECTOR_ERRORS, (const char *const[]){ name }, 1);
		rc = 0;
	} else if (part.len) {
		strbuf_add(out, part.buf, part.len);
		rc = out->err;
	}
out:
	strbuf_release(&part);
	return rc;
}

/* ---- the store collector: per-tenant figures that survive restarts ------------- */

struct tenant_fig {
	char name[TENANT_NAME_MAX + 1];
	int64_t id;
	int64_t cnt[CNT__COUNT];
	struct tenant_usage u;
	struct job_stats js;
	int64_t summaries_stored, summaries_pending;
};

struct tenant_figs {
	struct tenant_fig *t;
	size_t n, cap;
};

static int tenant_collect(void *ctx, const struct tenant_row *row)
{
	struct tenant_figs *f = ctx;

	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		struct tenant_fig *p = realloc(f->t, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		f->t = p;
		f->cap = cap;
	}
	memset(&f->t[f->n], 0, sizeof(f->t[0]));
	snprintf(f->t[f->n].name, sizeof(f->t[0].name), "%s", row->name);
	f->t[f->n++].id = row->id;
	return 0;
}

/* One figure of a tenant, shown with label=value (value NULL: only the
 * tenant label): the int64_t at offset off in struct tenant_fig. */
struct fig_col {
	const char *value;
	size_t off;
};

/* A family with one sample per tenant and column. */
static void fig_family(struct strbuf *out, const struct tenant_figs *f, const char *name,
		       const char *type, const char *help, const char *label,
		       const struct fig_col *cols, size_t n_cols)
{
	metrics_family(out, name, type, help);
	for (size_t i = 0; i < f->n; i++)
		for (size_t c = 0; c < n_cols; c++) {
			const struct tenant_fig *t = &f->t[i];
			int64_t v = *(const int64_t *)((const char *)t + cols[c].off);
			metrics_sample(out, name, (const char *const[]){ "tenant", t->name,
					cols[c].value ? label : NULL, cols[c].value, NULL },
				       (double)v);
		}
}

#define CNT(c) offsetof(struct tenant_fig, cnt) + (size_t)(c) * sizeof(int64_t)
#define FIG(field) offsetof(struct tenant_fig, field)
#define USAGE(field) FIG(u.field)

static int store_collect(void *ctx, struct store *s, struct strbuf *out)
{
	static const struct fig_col docs[] = { { "ticket", USAGE(tickets) },
					       { "article", USAGE(articles) } };
	static const struct fig_col areas[] = { { "inbox", USAGE(inbox) },
						{ "kb", USAGE(kb_pending) },
						{ "queries", USAGE(queries) } };
	static const struct fig_col files[] = { { "ingested", CNT(CNT_FILES_INGESTED) },
						{ "rejected", CNT(CNT_FILES_REJECTED) } };
	static const struct fig_col records[] = { { "created", CNT(CNT_CREATED) },
						  { "updated", CNT(CNT_UPDATED) },
						  { "unchanged", CNT(CNT_UNCHANGED) } };
	static const struct fig_col rejected[] = { { NULL, CNT(CNT_RECORDS_REJECTED) } };
	static const struct fig_col deleted[] = { { NULL, CNT(CNT_DELETED) } };
	static const struct fig_col queries[] = { { NULL, CNT(CNT_QUERIES) } };
	static const struct fig_col summaries[] = { { "done", FIG(summaries_stored) },
						    { "pending", FIG(summaries_pending) },
						    { "failed", FIG(js.summary[JOB_DEAD]) } };
	static const struct fig_col jobs[] = { { "queued", FIG(js.queued) },
					       { "running", FIG(js.running) },
					       { "dead", FIG(js.dead) } };
	static const struct fig_col jobs_done[] = { { NULL, CNT(CNT_JOBS_DONE) } };
	struct tenant_figs f = { 0 };
	int rc;

	(void)ctx;
	if (!s)
		return 0;
	/* first the list, then each tenant's figures: no store call runs
	 * inside another one's callback */
	if ((rc = store_tenant_list(s, 0, tenant_collect, &f)))
		goto out;
	for (size_t i = 0; i < f.n; i++) {
		struct tenant_fig *t = &f.t[i];
		if ((rc = store_counters(s, t->id, t->cnt)) ||
		    (rc = store_tenant_usage(s, t->id, &t->u)) ||
		    (rc = store_job_stats(s, t->id, &t->js)) ||
		    (rc = store_summary_count(s, t->id, &t->summaries_stored)))
			goto out;
		t->summaries_pending = t->js.summary[JOB_QUEUED] + t->js.summary[JOB_RUNNING];
	}
	metrics_family(out, "deskfs_tenants", "gauge", "Tenants (directories at the mount root).");
	metrics_sample(out, "deskfs_tenants", NULL, (double)f.n);
	fig_family(out, &f, "deskfs_documents", "gauge",
		   "Documents stored: tickets (tickets/ID) and knowledge-base articles (kb/SLUG.md).",
		   "kind", docs, 2);
	fig_family(out, &f, "deskfs_inbox_files", "gauge",
		   "Files held in inbox/ and kb/ (being written, waiting or rejected) and query "
		   "files in queries/.", "area", areas, 3);
	fig_family(out, &f, "deskfs_files_total", "counter",
		   "Files copied into inbox/ or kb/ and processed: ingested (wholly or in part) "
		   "or rejected (nothing stored).", "outcome", files, 2);
	fig_family(out, &f, "deskfs_documents_ingested_total", "counter",
		   "Records of ingested files, by what they did to their stored document.",
		   "result", records, 3);
	fig_family(out, &f, "deskfs_records_rejected_total", "counter",
		   "Records of ingested files that could not be stored (listed in NAME.error).",
		   NULL, rejected, 1);
	fig_family(out, &f, "deskfs_documents_deleted_total", "counter",
		   "Documents deleted: rm of a ticket or article, or a deletion in an ingested export.",
		   NULL, deleted, 1);
	fig_family(out, &f, "deskfs_queries_total", "counter",
		   "Answers of query files stored (runs overtaken by a newer write are not counted).",
		   NULL, queries, 1);
	fig_family(out, &f, "deskfs_summaries", "gauge",
		   "Ticket summaries by state: done (stored), pending (job queued or running), "
		   "failed (job dead).", "state", summaries, 3);
	fig_family(out, &f, "deskfs_jobs", "gauge", "Background jobs in the queue by state.",
		   "state", jobs, 3);
	fig_family(out, &f, "deskfs_jobs_done_total", "counter", "Background jobs completed.",
		   NULL, jobs_done, 1);
	rc = out->err;
out:
	free(f.t);
	return rc;
}

/* ---- the whole file ---------------------------------------------------------------- */

int metrics_render(struct store *s, struct strbuf *out)
{
	char v[40];
	int rc;

	metrics_family(out, "deskfs_build_info", "gauge", "The deskfs version, as a label.");
	metrics_sample(out, "deskfs_build_info", (const char *const[]){ "version",
		       DESKFS_VERSION, NULL }, 1);
	if ((rc = collect_one("store", store_collect, NULL, s, out)))
		return rc;
	pthread_rwlock_rdlock(&collectors_lock);
	for (size_t i = 0; i < n_collectors && !rc; i++)
		rc = collect_one(collectors[i].name, collectors[i].fn, collectors[i].ctx, s, out);
	pthread_rwlock_unlock(&collectors_lock);
	if (rc)
		return rc;
	for (size_t i = 0; i < METRIC__COUNT; i++)
		family_render(&families[i], out);
	metrics_family(out, "deskfs_metrics_dropped_total", "counter",
		       "Observations dropped because their family already had "
		       "the most series it keeps.");
	snprintf(v, sizeof(v), "%" PRIu64, atomic_load(&dropped));
	strbuf_addf(out, "deskfs_metrics_dropped_total %s\n", v);
	return out->err;
}
