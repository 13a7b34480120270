/* test_metrics - the metrics registry, collectors and the Prometheus text
 * rendering (metrics.h), checked line by line and by a validator of the
 * text format 0.0.4. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "metrics.h"
#include "store.h"
#include "strbuf.h"

/* ---- a validator of the text format (prometheus/docs exposition_formats.md) -- */

#define V_MAX 4096

struct v_label {
	char name[64];
	char value[512]; /* unescaped */
};

struct v_family {
	char name[128];
	char type[16];
	bool help, typed, samples, closed;
};

struct v_hist {
	char family[128], key[1024]; /* labels other than le */
	double last_le, last_count, inf_count;
	bool any, inf;
};

struct validator {
	struct v_family fam[256];
	size_t n_fam;
	char (*lines)[1200]; /* name{labels} of every sample: unique */
	size_t n_lines;
	struct v_hist hist[512];
	size_t n_hist;
	long cur; /* the family whose lines come now, -1 none */
	char err[256];
};

static bool name_ok(const char *s, size_t n, bool colon)
{
	if (!n || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || (colon && c == ':')))
			return false;
	}
	return true;
}

static struct v_family *v_family(struct validator *v, const char *name)
{
	for (size_t i = 0; i < v->n_fam; i++)
		if (!strcmp(v->fam[i].name, name))
			return &v->fam[i];
	if (v->n_fam == 256)
		return NULL;
	memset(&v->fam[v->n_fam], 0, sizeof(v->fam[0]));
	snprintf(v->fam[v->n_fam].name, sizeof(v->fam[0].name), "%s", name);
	return &v->fam[v->n_fam++];
}

/* The family lines about fam now belong to; an error when its group was
 * interrupted by another family's lines. */
static bool v_enter(struct validator *v, struct v_family *f)
{
	long idx = f - v->fam;

	if (v->cur == idx)
		return true;
	if (v->cur >= 0)
		v->fam[v->cur].closed = true;
	if (f->closed) {
		snprintf(v->err, sizeof(v->err), "lines of '%s' are not one group", f->name);
		return false;
	}
	v->cur = idx;
	return true;
}

static bool v_number(const char *s, double *out)
{
	char *end;

	if (!strcmp(s, "+Inf")) {
		*out = INFINITY;
		return true;
	}
	if (!strcmp(s, "-Inf")) {
		*out = -INFINITY;
		return true;
	}
	if (!strcmp(s, "NaN")) {
		*out = NAN;
		return true;
	}
	*out = strtod(s, &end);
	return *s && !*end && strcmp(s, "inf") && strcmp(s, "nan");
}

static bool v_comment(struct validator *v, const char *line)
{
	char name[128], what[8];
	const char *p = line + 2, *sp;
	struct v_family *f;

	if (strncmp(line, "# HELP ", 7) && strncmp(line, "# TYPE ", 7))
		return true; /* a plain comment */
	snprintf(what, sizeof(what), "%.4s", line + 2);
	p = line + 7;
	sp = strchr(p, ' ');
	if (!sp || !name_ok(p, (size_t)(sp - p), true) || (size_t)(sp - p) >= sizeof(name)) {
		snprintf(v->err, sizeof(v->err), "bad %s line: %.100s", what, line);
		return false;
	}
	snprintf(name, sizeof(name), "%.*s", (int)(sp - p), p);
	if (!(f = v_family(v, name)) || !v_enter(v, f))
		return false;
	if (!strcmp(what, "HELP")) {
		if (f->help) {
			snprintf(v->err, sizeof(v->err), "two HELP lines for '%s'", name);
			return false;
		}
		f->help = true;
		for (const char *q = sp + 1; *q; q++)
			if (*q == '\\' && q[1] != '\\' && q[1] != 'n') {
				snprintf(v->err, sizeof(v->err), "bad escape in HELP of '%s'", name);
				return false;
			} else if (*q == '\\') {
				q++;
			}
		return true;
	}
	if (f->typed || f->samples) {
		snprintf(v->err, sizeof(v->err), "TYPE of '%s' twice or after its samples", name);
		return false;
	}
	if (strcmp(sp + 1, "counter") && strcmp(sp + 1, "gauge") && strcmp(sp + 1, "histogram") &&
	    strcmp(sp + 1, "summary") && strcmp(sp + 1, "untyped")) {
		snprintf(v->err, sizeof(v->err), "bad TYPE '%s' of '%s'", sp + 1, name);
		return false;
	}
	f->typed = true;
	snprintf(f->type, sizeof(f->type), "%s", sp + 1);
	return true;
}

/* Parses {a="x",b="y"} at *pp into ls; *pp ends after the '}'. */
static bool v_labels(struct validator *v, const char **pp, struct v_label *ls, size_t *n)
{
	const char *p = *pp + 1;

	*n = 0;
	while (*p != '}') {
		const char *eq = strchr(p, '=');
		size_t o = 0;

		if (!eq || !name_ok(p, (size_t)(eq - p), false) || eq[1] != '"' || *n == 8 ||
		    (size_t)(eq - p) >= sizeof(ls[0].name)) {
			snprintf(v->err, sizeof(v->err), "bad label at: %.60s", p);
			return false;
		}
		snprintf(ls[*n].name, sizeof(ls[0].name), "%.*s", (int)(eq - p), p);
		for (p = eq + 2; *p != '"'; p++) {
			char c = *p;
			if (!c || c == '\n') {
				snprintf(v->err, sizeof(v->err), "unterminated label value");
				return false;
			}
			if (c == '\\') {
				p++;
				if (*p != '\\' && *p != '"' && *p != 'n') {
					snprintf(v->err, sizeof(v->err), "bad escape in a label value");
					return false;
				}
				c = *p == 'n' ? '\n' : *p;
			}
			if (o + 1 < sizeof(ls[0].value))
				ls[*n].value[o++] = c;
		}
		ls[*n].value[o] = 0;
		for (size_t i = 0; i < *n; i++)
			if (!strcmp(ls[i].name, ls[*n].name)) {
				snprintf(v->err, sizeof(v->err), "label '%.60s' twice", ls[i].name);
				return false;
			}
		(*n)++;
		p++;
		if (*p == ',')
			p++;
		else if (*p != '}') {
			snprintf(v->err, sizeof(v->err), "expected , or } at: %.60s", p);
			return false;
		}
	}
	*pp = p + 1;
	return true;
}

static struct v_hist *v_hist(struct validator *v, const char *family, const char *key)
{
	for (size_t i = 0; i < v->n_hist; i++)
		if (!strcmp(v->hist[i].family, family) && !strcmp(v->hist[i].key, key))
			return &v->hist[i];
	if (v->n_hist == 512)
		return NULL;
	memset(&v->hist[v->n_hist], 0, sizeof(v->hist[0]));
	snprintf(v->hist[v->n_hist].family, sizeof(v->hist[0].family), "%s", family);
	snprintf(v->hist[v->n_hist].key, sizeof(v->hist[0].key), "%s", key);
	return &v->hist[v->n_hist++];
}

static bool v_sample(struct validator *v, const char *line)
{
	struct v_label ls[8];
	size_t nl = 0, nlen = strcspn(line, "{ ");
	const char *p = line + nlen, *suffix = "";
	char name[128], fam[128], key[1024] = "", val[64];
	struct v_family *f = NULL;
	double value, le = NAN;
	bool has_le = false;

	if (!name_ok(line, nlen, true) || nlen >= sizeof(name)) {
		snprintf(v->err, sizeof(v->err), "bad sample line: %.100s", line);
		return false;
	}
	snprintf(name, sizeof(name), "%.*s", (int)nlen, line);
	if (*p == '{' && !v_labels(v, &p, ls, &nl))
		return false;
	if (*p != ' ' || strchr(p + 1, ' ') || !v_number(p + 1, &value)) {
		snprintf(v->err, sizeof(v->err), "bad value in: %.100s", line);
		return false;
	}
	snprintf(val, sizeof(val), "%s", p + 1);
	/* the family: the name itself, or NAME_bucket/_sum/_count of a histogram */
	for (size_t i = 0; i < v->n_fam; i++)
		if (!strcmp(v->fam[i].name, name))
			f = &v->fam[i];
	if (!f) {
		static const char *const sfx[] = { "_bucket", "_sum", "_count" };
		for (size_t s = 0; s < 3 && !f; s++) {
			size_t sl = strlen(sfx[s]);
			if (nlen > sl && !strcmp(name + nlen - sl, sfx[s])) {
				snprintf(fam, sizeof(fam), "%.*s", (int)(nlen - sl), name);
				for (size_t i = 0; i < v->n_fam; i++)
					if (!strcmp(v->fam[i].name, fam) &&
					    !strcmp(v->fam[i].type, "histogram"))
						f = &v->fam[i];
				suffix = sfx[s];
			}
		}
	}
	if (!f || !f->typed || !f->help) {
		snprintf(v->err, sizeof(v->err), "sample '%s' without HELP and TYPE first", name);
		return false;
	}
	if (!v_enter(v, f))
		return false;
	f->samples = true;
	if (!strcmp(f->type, "histogram") && !*suffix) {
		snprintf(v->err, sizeof(v->err), "histogram sample '%s' without a suffix", name);
		return false;
	}
	/* unique name and labels */
	for (size_t i = 0; i < nl; i++) {
		if (!strcmp(ls[i].name, "le") && !strcmp(suffix, "_bucket")) {
			has_le = v_number(ls[i].value, &le);
			continue;
		}
		strncat(key, ls[i].name, sizeof(key) - strlen(key) - 1);
		strncat(key, "=", sizeof(key) - strlen(key) - 1);
		strncat(key, ls[i].value, sizeof(key) - strlen(key) - 1);
		strncat(key, "\x01", sizeof(key) - strlen(key) - 1);
	}
	{
		char full[1200];
		snprintf(full, sizeof(full), "%s %s %s", name, key, has_le ? "" : "-");
		if (has_le)
			snprintf(full + strlen(full), sizeof(full) - strlen(full), "%.17g", le);
		for (size_t i = 0; i < v->n_lines; i++)
			if (!strcmp(v->lines[i], full)) {
				snprintf(v->err, sizeof(v->err), "duplicate sample: %.100s", line);
				return false;
			}
		if (v->n_lines == V_MAX) {
			snprintf(v->err, sizeof(v->err), "too many lines for the validator");
			return false;
		}
		snprintf(v->lines[v->n_lines++], sizeof(v->lines[0]), "%s", full);
	}
	if (*suffix) {
		struct v_hist *h = v_hist(v, f->name, key);
		if (!h)
			return false;
		if (!strcmp(suffix, "_bucket")) {
			if (!has_le || h->inf || (h->any && !(le > h->last_le)) ||
			    (h->any && value < h->last_count)) {
				snprintf(v->err, sizeof(v->err), "buckets not increasing or not "
					 "cumulative: %.100s", line);
				return false;
			}
			h->any = true;
			h->last_le = le;
			h->last_count = value;
			if (isinf(le)) {
				h->inf = true;
				h->inf_count = value;
			}
		} else if (!strcmp(suffix, "_count") && (!h->inf || h->inf_count != value)) {
			snprintf(v->err, sizeof(v->err), "_count %s differs from le=\"+Inf\" or "
				 "there is no +Inf bucket (%s)", val, name);
			return false;
		}
	}
	return true;
}

/* NULL when text is valid, else what is wrong (valid until the next call). */
static const char *validate(const char *text)
{
	static struct validator v;
	static char lines[V_MAX][1200];
	const char *p = text;

	memset(&v, 0, sizeof(v));
	v.lines = lines;
	v.cur = -1;
	if (!*text || text[strlen(text) - 1] != '\n')
		return "the text does not end with a line feed";
	while (*p) {
		const char *eol = strchr(p, '\n');
		char line[2048];
		snprintf(line, sizeof(line), "%.*s", (int)(eol - p), p);
		if (*line == '#' ? !v_comment(&v, line) : *line && !v_sample(&v, line))
			return v.err;
		p = eol + 1;
	}
	for (size_t i = 0; i < v.n_fam; i++)
		if (!v.fam[i].help || !v.fam[i].typed) {
			snprintf(v.err, sizeof(v.err), "'%s' lacks HELP or TYPE", v.fam[i].name);
			return v.err;
		}
	return NULL;
}

static char *render(struct store *s)
{
	struct strbuf sb = STRBUF_INIT;

	CHECK_INT(metrics_render(s, &sb), 0);
	return strbuf_detach(&sb, NULL);
}

static int count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* ---- the tests --------------------------------------------------------------- */

static void test_validator(void)
{
	/* the validator must catch what it is there for */
	CHECK(validate("# HELP a x\n# TYPE a counter\na 1\n") == NULL);
	CHECK(validate("# HELP a x\n# TYPE a counter\na 1") != NULL);
	CHECK(validate("# HELP a x\n# TYPE a counter\n# HELP a y\na 1\n") != NULL);
	CHECK(validate("# HELP a x\n# TYPE a counter\na{l=\"x\"} 1\n# HELP b x\n# TYPE b gauge\n"
		       "b 1\na{l=\"y\"} 1\n") != NULL);
	CHECK(validate("# HELP a x\n# TYPE a counter\na{l=\"a\\tb\"} 1\n") != NULL);
	CHECK(validate("# HELP a x\n# TYPE a counter\na{l=\"x\"} 1\na{l=\"x\"} 2\n") != NULL);
	CHECK(validate("# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"
		       "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n") != NULL);
	CHECK(validate("# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\n"
		       "h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n") != NULL);
	CHECK(validate("# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\n"
		       "h_bucket{le=\"+Inf\"} 2\nh_sum 1.5\nh_count 2\n") == NULL);
	CHECK(validate("# HELP a x\n# TYPE a counter\na one\n") != NULL);
}

static void test_escape(void)
{
	struct strbuf sb = STRBUF_INIT;

	metrics_escape(&sb, "a\\b\"c\nd", true);
	CHECK_STR(sb.buf, "a\\\\b\\\"c\\nd");
	strbuf_reset(&sb);
	metrics_escape(&sb, "a\\b\"c\nd", false);
	CHECK_STR(sb.buf, "a\\\\b\"c\\nd");
	strbuf_reset(&sb);
	metrics_escape(&sb, "caf\xe9", true); /* Latin-1: not UTF-8 */
	CHECK_STR(sb.buf, "caf\xef\xbf\xbd");
	strbuf_reset(&sb);
	metrics_family(&sb, "deskfs_x", "gauge", "line\none \\ two \"q\"");
	metrics_sample(&sb, "deskfs_x", (const char *const[]){ "a", "1", "b", "\"", NULL }, 2.5);
	metrics_sample(&sb, "deskfs_x", NULL, -1);
	metrics_sample(&sb, "deskfs_x", (const char *const[]){ "a", "inf", NULL }, INFINITY);
	metrics_sample(&sb, "deskfs_x", (const char *const[]){ "a", "nan", NULL }, NAN);
	metrics_sample(&sb, "deskfs_x", (const char *const[]){ "a", "big", NULL }, 1e300);
	CHECK_STR(sb.buf, "# HELP deskfs_x line\\none \\\\ two \"q\"\n"
			  "# TYPE deskfs_x gauge\n"
			  "deskfs_x{a=\"1\",b=\"\\\"\"} 2.5\n"
			  "deskfs_x -1\n"
			  "deskfs_x{a=\"inf\"} +Inf\n"
			  "deskfs_x{a=\"nan\"} NaN\n"
			  "deskfs_x{a=\"big\"} 1e+300\n");
	CHECK(validate(sb.buf) == NULL);
	strbuf_release(&sb);
}

static void test_counters(void)
{
	const char *odd[] = { "we\"ird\\name\nx", "openai", "chat", "5xx" };
	char *out;

	metrics_reset();
	metrics_count(METRIC_PROVIDER_REQUESTS, (const char *const[]){ "b", "openai", "chat", "ok" }, 2);
	metrics_count(METRIC_PROVIDER_REQUESTS, (const char *const[]){ "a", "ollama", "embed", "ok" }, 1);
	metrics_count(METRIC_PROVIDER_REQUESTS, (const char *const[]){ "b", "openai", "chat", "ok" }, 3);
	metrics_count(METRIC_PROVIDER_REQUESTS, odd, 1);
	metrics_count(METRIC_PROVIDER_ERRORS, (const char *const[]){ "b", "openai", "chat", "429" }, 1);
	/* a counter update of a histogram family (or the reverse) does nothing */
	metrics_count(METRIC_QUERY_LATENCY, (const char *const[]){ "answer" }, 1);
	metrics_observe(METRIC_PROVIDER_ERRORS, (const char *const[]){ "b", "x", "y", "z" }, 1);
	out = render(NULL);
	CHECK(validate(out) == NULL);
	if (validate(out))
		fprintf(stderr, "%s\n%s", validate(out), out);
	/* sorted by label values, one line each */
	CHECK_CONTAINS(out, "# HELP deskfs_provider_requests_total HTTP requests");
	CHECK_CONTAINS(out, "# TYPE deskfs_provider_requests_total counter\n"
		       "deskfs_provider_requests_total{provider=\"a\",api=\"ollama\",call=\"embed\","
		       "outcome=\"ok\"} 1\n"
		       "deskfs_provider_requests_total{provider=\"b\",api=\"openai\",call=\"chat\","
		       "outcome=\"ok\"} 5\n"
		       "deskfs_provider_requests_total{provider=\"we\\\"ird\\\\name\\nx\",api=\"openai\","
		       "call=\"chat\",outcome=\"5xx\"} 1\n"
		       "# HELP deskfs_provider_errors_total");
	CHECK_CONTAINS(out, "# TYPE deskfs_provider_errors_total counter\n"
		       "deskfs_provider_errors_total{provider=\"b\",api=\"openai\",call=\"chat\","
		       "reason=\"429\"} 1\n# HELP");
	CHECK_INT(count_of(out, "deskfs_query_latency_seconds_"), 0);
	CHECK_INT(count_of(out, "# TYPE "), count_of(out, "# HELP "));
	CHECK_INT(count_of(out, "# TYPE deskfs_provider_requests_total "), 1);
	CHECK_CONTAINS(out, "deskfs_build_info{version=\"" DESKFS_VERSION "\"} 1\n");
	CHECK_CONTAINS(out, "\ndeskfs_metrics_dropped_total 0\n");
	/* no store: no store families */
	CHECK_INT(count_of(out, "deskfs_tenants"), 0);
	free(out);
	metrics_reset();
	out = render(NULL);
	CHECK_INT(count_of(out, "deskfs_provider_requests_total{"), 0);
	CHECK_CONTAINS(out, "# TYPE deskfs_provider_requests_total counter\n");
	free(out);
}

static void test_histogram(void)
{
	const char *const answer[] = { "answer" }, *const search[] = { "search" };
	char *out;

	metrics_reset();
	/* bounds are inclusive (le); 100 s is past the last bound (60) */
	metrics_observe(METRIC_QUERY_LATENCY, answer, 0.001);
	metrics_observe(METRIC_QUERY_LATENCY, answer, 0.005);
	metrics_observe(METRIC_QUERY_LATENCY, answer, 0.007);
	metrics_observe(METRIC_QUERY_LATENCY, answer, 0.25);
	metrics_observe(METRIC_QUERY_LATENCY, answer, 100);
	metrics_observe(METRIC_QUERY_LATENCY, answer, -3); /* counted as 0 */
	metrics_observe(METRIC_QUERY_LATENCY, search, 0.1);
	metrics_observe(METRIC_QUERY_LATENCY, search, 0.2);
	out = render(NULL);
	CHECK(validate(out) == NULL);
	CHECK_CONTAINS(out, "# HELP deskfs_query_latency_seconds Time to answer a query file");
	CHECK_CONTAINS(out, "# TYPE deskfs_query_latency_seconds histogram\n"
		"deskfs_query_latency_seconds_bucket{mode=\"answer\",le=\"0.005\"} 3\n"
		"deskfs_query_latency_seconds_bucket{mode=\"answer\",le=\"0.01\"} 4\n"
		"deskfs_query_latency_seconds_bucket{mode=\"answer\",le=\"0.025\"} 4\n"
		"deskfs_query_latency_seconds_bucket{mode=\"answer\",le=\"0.05\"} 4\n"
		"deskfs_query_latency_seconds_bucket{mode=\"answer\",le=\"0.1\"} 4\n"
		"deskfs_query_latency_seconds_bucket{mode=\"answer\",le=\"0.25\"} 5\n"
		"deskfs_query_latency_seconds_bucket{mode=\"answer\",le=\"0.5\"} 5\n"
		"deskfs_query_latency_seconds_bucket{mode=\"answer\",le=\"1\"} 5\n"
		"deskfs_query_latency_seconds_bucket{mode=\"answer\",le=\"2.5\"} 5\n"
		"deskfs_query_latency_seconds_bucket{mode=\"answer\",le=\"5\"} 5\n"
		"deskfs_query_latency_seconds_bucket{mode=\"answer\",le=\"10\"} 5\n"
		"deskfs_query_latency_seconds_bucket{mode=\"answer\",le=\"30\"} 5\n"
		"deskfs_query_latency_seconds_bucket{mode=\"answer\",le=\"60\"} 5\n"
		"deskfs_query_latency_seconds_bucket{mode=\"answer\",le=\"+Inf\"} 6\n"
		"deskfs_query_latency_seconds_sum{mode=\"answer\"} 100.263\n"
		"deskfs_query_latency_seconds_count{mode=\"answer\"} 6\n"
		"deskfs_query_latency_seconds_bucket{mode=\"search\",le=\"0.005\"} 0\n");
	/* the shortest text that reads back as the sum: 0.1 + 0.2 */
	CHECK_CONTAINS(out, "deskfs_query_latency_seconds_bucket{mode=\"search\",le=\"+Inf\"} 2\n"
		       "deskfs_query_latency_seconds_sum{mode=\"search\"} 0.30000000000000004\n"
		       "deskfs_query_latency_seconds_count{mode=\"search\"} 2\n");
	CHECK_INT(count_of(out, "# TYPE deskfs_query_latency_seconds "), 1);
	CHECK_INT(count_of(out, "# HELP deskfs_query_latency_seconds "), 1);
	free(out);
}

static void test_dropped(void)
{
	char name[32], *out;

	metrics_reset();
	for (int i = 0; i <= METRICS_SERIES_MAX; i++) {
		snprintf(name, sizeof(name), "p%04d", i);
		metrics_count(METRIC_PROVIDER_REQUESTS,
			      (const char *const[]){ name, "openai", "chat", "ok" }, 1);
	}
	/* an existing series still counts */
	metrics_count(METRIC_PROVIDER_REQUESTS, (const char *const[]){ "p0000", "openai", "chat", "ok" }, 1);
	out = render(NULL);
	CHECK(validate(out) == NULL);
	CHECK_INT(count_of(out, "deskfs_provider_requests_total{"), METRICS_SERIES_MAX);
	CHECK_CONTAINS(out, "{provider=\"p0000\",api=\"openai\",call=\"chat\",outcome=\"ok\"} 2\n");
	CHECK_INT(count_of(out, "provider=\"p0512\""), 0);
	CHECK_CONTAINS(out, "\ndeskfs_metrics_dropped_total 1\n");
	free(out);
	metrics_reset();
}

/* ---- collectors ---------------------------------------------------------------- */

struct fake {
	int rc;
	int calls;
	const char *family;
};

static int fake_collect(void *ctx, struct store *s, struct strbuf *out)
{
	struct fake *f = ctx;

	(void)s;
	f->calls++;
	metrics_family(out, f->family, "gauge", "A test family.");
	metrics_sample(out, f->family, (const char *const[]){ "tenant", "a\"b", "state", "done",
			NULL }, 7);
	return f->rc;
}

static int other_collect(void *ctx, struct store *s, struct strbuf *out)
{
	(void)ctx;
	(void)s;
	(void)out;
	return 0;
}

static void test_collectors(void)
{
	struct fake good = { 0, 0, "deskfs_summaries" }, bad = { -EIO, 0, "deskfs_broken" };
	struct fake many[METRICS_COLLECTORS_MAX];
	char *out;
	int added = 0;

	metrics_reset();
	CHECK_INT(metrics_collector_add("jobs", fake_collect, &good), 0);
	CHECK_INT(metrics_collector_add("jobs", fake_collect, &good), -EEXIST);
	CHECK_INT(metrics_collector_add("broken", fake_collect, &bad), 0);
	CHECK_INT(metrics_collector_add("", other_collect, NULL), -EINVAL);
	out = render(NULL);
	CHECK(validate(out) == NULL);
	CHECK_INT(good.calls, 1);
	CHECK_INT(bad.calls, 1);
	CHECK_CONTAINS(out, "# HELP deskfs_summaries A test family.\n"
		       "# TYPE deskfs_summaries gauge\n"
		       "deskfs_summaries{tenant=\"a\\\"b\",state=\"done\"} 7\n");
	/* a failing collector's output is left out and counted */
	CHECK_INT(count_of(out, "deskfs_broken"), 0);
	CHECK_CONTAINS(out, "deskfs_metrics_collector_errors_total{collector=\"broken\"} 1\n");
	free(out);
	out = render(NULL);
	CHECK_CONTAINS(out, "deskfs_metrics_collector_errors_total{collector=\"broken\"} 2\n");
	free(out);
	CHECK_INT(metrics_collector_remove(fake_collect, &bad), 0);
	CHECK_INT(metrics_collector_remove(fake_collect, &bad), -ENOENT);
	out = render(NULL);
	CHECK_INT(bad.calls, 2);
	CHECK_INT(good.calls, 3);
	CHECK_CONTAINS(out, "deskfs_metrics_collector_errors_total{collector=\"broken\"} 2\n");
	free(out);
	/* no more than METRICS_COLLECTORS_MAX */
	for (int i = 0; i < METRICS_COLLECTORS_MAX; i++) {
		many[i] = good;
		if (!metrics_collector_add("many", other_collect, &many[i]))
			added++;
	}
	CHECK_INT(added, METRICS_COLLECTORS_MAX - 1);
	CHECK_INT(metrics_collector_add("one-more", other_collect, NULL), -ENOSPC);
	for (int i = 0; i < METRICS_COLLECTORS_MAX; i++)
		metrics_collector_remove(other_collect, &many[i]);
	CHECK_INT(metrics_collector_remove(fake_collect, &good), 0);
	metrics_reset();
}

static int nomem_collect(void *ctx, struct store *s, struct strbuf *out)
{
	(void)ctx;
	(void)s;
	(void)out;
	return -ENOMEM;
}

/* an allocation failure fails the whole rendering */
static void test_collector_nomem(void)
{
	struct strbuf sb = STRBUF_INIT;

	CHECK_INT(metrics_collector_add("nomem", nomem_collect, NULL), 0);
	CHECK_INT(metrics_render(NULL, &sb), -ENOMEM);
	CHECK_INT(metrics_collector_remove(nomem_collect, NULL), 0);
	strbuf_release(&sb);
}

/* ---- the store's figures ------------------------------------------------------------ */

static void test_store(const char *dir)
{
	char path[4096], err[256], *out;
	struct store *s = NULL;
	struct tenant_row a, b;

	metrics_reset();
	snprintf(path, sizeof(path), "%s/metrics.db", dir);
	CHECK_INT(store_open_sqlite(path, &s, err, sizeof(err)), 0);
	if (!s)
		return;
	out = render(s);
	CHECK(validate(out) == NULL);
	CHECK_CONTAINS(out, "# TYPE deskfs_tenants gauge\ndeskfs_tenants 0\n");
	CHECK_CONTAINS(out, "# TYPE deskfs_documents_ingested_total counter\n# HELP");
	free(out);
	CHECK_INT(store_tenant_create(s, "acme", 0755, 0, 0, &a), 0);
	CHECK_INT(store_tenant_create(s, "beta", 0755, 0, 0, &b), 0);
	CHECK_INT(store_counter_add(s, a.id, CNT_CREATED, 3), 0);
	CHECK_INT(store_counter_add(s, a.id, CNT_UPDATED, 2), 0);
	CHECK_INT(store_counter_add(s, a.id, CNT_UNCHANGED, 1), 0);
	CHECK_INT(store_counter_add(s, a.id, CNT_FILES_INGESTED, 4), 0);
	CHECK_INT(store_counter_add(s, a.id, CNT_FILES_REJECTED, 5), 0);
	CHECK_INT(store_counter_add(s, a.id, CNT_RECORDS_REJECTED, 6), 0);
	CHECK_INT(store_counter_add(s, a.id, CNT_DELETED, 7), 0);
	CHECK_INT(store_counter_add(s, b.id, CNT_QUERIES, 8), 0);
	out = render(s);
	CHECK(validate(out) == NULL);
	if (validate(out))
		fprintf(stderr, "%s\n%s", validate(out), out);
	CHECK_CONTAINS(out, "deskfs_tenants 2\n");
	CHECK_CONTAINS(out, "# TYPE deskfs_documents_ingested_total counter\n"
		       "deskfs_documents_ingested_total{tenant=\"acme\",result=\"created\"} 3\n"
		       "deskfs_documents_ingested_total{tenant=\"acme\",result=\"updated\"} 2\n"
		       "deskfs_documents_ingested_total{tenant=\"acme\",result=\"unchanged\"} 1\n"
		       "deskfs_documents_ingested_total{tenant=\"beta\",result=\"created\"} 0\n");
	CHECK_CONTAINS(out, "deskfs_files_total{tenant=\"acme\",outcome=\"ingested\"} 4\n"
		       "deskfs_files_total{tenant=\"acme\",outcome=\"rejected\"} 5\n");
	CHECK_CONTAINS(out, "deskfs_records_rejected_total{tenant=\"acme\"} 6\n");
	CHECK_CONTAINS(out, "deskfs_documents_deleted_total{tenant=\"acme\"} 7\n");
	CHECK_CONTAINS(out, "deskfs_queries_total{tenant=\"acme\"} 0\n"
		       "deskfs_queries_total{tenant=\"beta\"} 8\n");
	CHECK_CONTAINS(out, "deskfs_documents{tenant=\"acme\",kind=\"ticket\"} 0\n"
		       "deskfs_documents{tenant=\"acme\",kind=\"article\"} 0\n");
	CHECK_CONTAINS(out, "deskfs_inbox_files{tenant=\"beta\",area=\"queries\"} 0\n");
	free(out);
	/* figures kept in the store survive a reopen (a restart) */
	store_close(s);
	s = NULL;
	CHECK_INT(store_open_sqlite(path, &s, err, sizeof(err)), 0);
	if (!s)
		return;
	out = render(s);
	CHECK_CONTAINS(out, "deskfs_documents_ingested_total{tenant=\"acme\",result=\"created\"} 3\n");
	free(out);
	store_close(s);
}

/* ---- threads ------------------------------------------------------------------------ */

#define THREADS 8
#define ROUNDS 20000

static void *count_thread(void *arg)
{
	long t = (long)arg;
	char name[16];

	snprintf(name, sizeof(name), "t%ld", t % 2);
	for (int i = 0; i < ROUNDS; i++) {
		metrics_count(METRIC_PROVIDER_REQUESTS,
			      (const char *const[]){ name, "openai", "chat", "ok" }, 1);
		metrics_observe(METRIC_PROVIDER_LATENCY, (const char *const[]){ name, "openai", "chat" },
				(double)(i % 100) / 1000);
	}
	return NULL;
}

static void *render_thread(void *arg)
{
	bool *bad = arg;

	for (int i = 0; i < 50; i++) {
		struct strbuf sb = STRBUF_INIT;
		if (metrics_render(NULL, &sb) || validate(sb.buf))
			*bad = true;
		strbuf_release(&sb);
	}
	return NULL;
}

static void test_threads(void)
{
	pthread_t th[THREADS], r;
	bool bad = false;
	char want[256], *out;

	metrics_reset();
	for (long i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, count_thread, (void *)i);
	pthread_create(&r, NULL, render_thread, &bad);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_join(r, NULL);
	CHECK(!bad);
	out = render(NULL);
	for (int t = 0; t < 2; t++) {
		snprintf(want, sizeof(want), "deskfs_provider_requests_total{provider=\"t%d\","
			 "api=\"openai\",call=\"chat\",outcome=\"ok\"} %d\n", t, THREADS / 2 * ROUNDS);
		CHECK_CONTAINS(out, want);
		snprintf(want, sizeof(want), "deskfs_provider_latency_seconds_count{provider=\"t%d\","
			 "api=\"openai\",call=\"chat\"} %d\n", t, THREADS / 2 * ROUNDS);
		CHECK_CONTAINS(out, want);
	}
	free(out);
	metrics_reset();
}

int main(void)
{
	char dir[] = "/tmp/deskfs-metrics.XXXXXX";
	char cmd[128];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_validator();
	test_escape();
	test_counters();
	test_histogram();
	test_dropped();
	test_collectors();
	test_collector_nomem();
	test_store(dir);
	test_threads();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_done();
}
