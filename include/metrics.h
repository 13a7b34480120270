/* metrics.h - process-wide metrics in the Prometheus text format (version
 * 0.0.4), the content of MOUNT/.deskfs/metrics (FUSE-free).
 *
 * Two sources make one rendering:
 *  - the registry: counters and histograms this process keeps in memory
 *    (they start at zero with each daemon), declared once in the family
 *    table of metrics.c and updated on the hot path by metrics_count() and
 *    metrics_observe(): one short mutex per family and a binary search of
 *    its series by label values;
 *  - collectors: functions called at each rendering that read figures kept
 *    elsewhere and write whole families with metrics_family() and
 *    metrics_sample(). The built-in "store" collector writes the store's
 *    per-tenant counters, usage, summaries and background jobs by state
 *    (they survive restarts); other modules register theirs with
 *    metrics_collector_add().
 *
 * Every family name starts with "deskfs_", says its unit (_seconds) and,
 * for counters, ends in _total. docs/filesystem.md lists every family and
 * exactly what it counts.
 *
 * Label values may be any string: they are escaped (backslash, double
 * quote, line feed) and invalid UTF-8 is replaced. Never pass a secret or
 * an endpoint URL (it may carry credentials) as a label value.
 */
#ifndef DESKFS_METRICS_H
#define DESKFS_METRICS_H

#include <stdbool.h>
#include <stdint.h>

struct store;
struct strbuf;

/* The registry's families (metrics.c's table gives names, labels, buckets). */
enum metrics_id {
	METRIC_PROVIDER_REQUESTS, /* counter {provider, api, call, outcome} */
	METRIC_PROVIDER_ERRORS,   /* counter {provider, api, call, reason} */
	METRIC_PROVIDER_LATENCY,  /* histogram {provider, api, call}, seconds */
	METRIC_QUERY_LATENCY,     /* histogram {mode}, seconds */
	METRIC_COLLECTOR_ERRORS,  /* counter {collector} */
	METRIC__COUNT
};

#define METRICS_LABELS_MAX 4
/* Series a family keeps at most; observations of further label sets are
 * dropped and counted in deskfs_metrics_dropped_total. */
#define METRICS_SERIES_MAX 512
#define METRICS_COLLECTORS_MAX 16
#define METRICS_COLLECTOR_NAME_MAX 64

/* Adds n to the series of counter family id with these label values (one
 * per label of the family, in its order). Never fails (see above). */
void metrics_count(enum metrics_id id, const char *const *values, uint64_t n);
/* Records one observation v (seconds) in histogram family id. */
void metrics_observe(enum metrics_id id, const char *const *values, double v);
/* Forgets every series and the dropped count (tests). */
void metrics_reset(void);

/* ---- collectors --------------------------------------------------------------
 *
 * A collector appends whole families to out: for each, metrics_family()
 * once, then all of its samples with metrics_sample(), before the next
 * family. Its family names must be its own (no other collector's nor the
 * registry's). It returns 0 or a negative errno; on an error its output
 * is discarded, deskfs_metrics_collector_errors_total{collector="NAME"}
 * goes up by one and the rest of the file is still produced (-ENOMEM
 * fails the whole rendering instead). s may be NULL (no store): write
 * nothing that needs it. Collectors run in registration order, after the
 * built-in "store" one, on the thread that renders, possibly on several
 * threads at once; one must not add or remove collectors itself.
 *
 * Example, figures a module keeps in memory per tenant:
 *
 *   static int widgets_collect(void *ctx, struct store *s, struct strbuf *out)
 *   {
 *           metrics_family(out, "deskfs_widgets", "gauge", "Widgets by state.");
 *           for (each tenant t, each state st)
 *                   metrics_sample(out, "deskfs_widgets",
 *                                  (const char *[]){ "tenant", t, "state", st, NULL }, n);
 *           return 0;
 *   }
 *   metrics_collector_add("widgets", widgets_collect, module);
 */
typedef int (*metrics_collector_fn)(void *ctx, struct store *s, struct strbuf *out);

/* Registers fn(ctx, ...) under name (a label value in the error counter).
 * Returns 0, -EEXIST (fn and ctx already registered), -ENOSPC (already
 * METRICS_COLLECTORS_MAX) or -EINVAL (name empty or too long). */
int metrics_collector_add(const char *name, metrics_collector_fn fn, void *ctx);
/* Unregisters fn(ctx); returns when no rendering still runs it, so ctx
 * may be freed afterwards. -ENOENT when it was not registered. */
int metrics_collector_remove(metrics_collector_fn fn, void *ctx);

/* "# HELP NAME HELP" and "# TYPE NAME TYPE" (counter, gauge, histogram,
 * summary or untyped); help is escaped. */
void metrics_family(struct strbuf *out, const char *name, const char *type, const char *help);
/* One sample line: NAME{label="value",...} VALUE. labels: NULL, or name,
 * value pairs ending with NULL; values are escaped. */
void metrics_sample(struct strbuf *out, const char *name, const char *const *labels,
		    double value);
/* Appends s escaped as a label value (label_value: \\ \" \n) or as
 * HELP text (\\ and \n only); invalid UTF-8 becomes U+FFFD. */
void metrics_escape(struct strbuf *out, const char *s, bool label_value);

/* Appends the whole exposition to out: the collectors' families (the
 * store's first; s NULL: no store families), then the registry's.
 * Returns 0 or -ENOMEM. */
int metrics_render(struct store *s, struct strbuf *out);

#endif
