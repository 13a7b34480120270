/* test_feedback - feedback records: the grammar and its errors, the
 * listing, decay, similarity and the adjustments of similar questions. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "feedback.h"
#include "ingest.h"
#include "store.h"

static int64_t ticket(struct store *s, int64_t tenant, const char *name, const char *text)
{
	struct ingest_report rep;
	struct doc_row d;
	int64_t id = 0;

	if (store_begin(s))
		return 0;
	ingest_file(s, tenant, AREA_INBOX, name, text, strlen(text), &rep);
	ingest_report_clear(&rep);
	store_commit(s);
	char base[64];
	snprintf(base, sizeof(base), "%.*s", (int)(strchr(name, '.') - name), name);
	if (!store_doc_find(s, tenant, DOC_TICKET, base, &d)) {
		id = d.id;
		doc_row_clear(&d);
	}
	return id;
}

static void query(struct store *s, int64_t tenant, const char *name, const char *text)
{
	struct inbox_row r;

	if (!store_inbox_create(s, tenant, AREA_QUERY, name, 0644, &r)) {
		store_inbox_data_set(s, r.id, text, strlen(text));
		inbox_row_clear(&r);
	}
}

static void test_pieces(void)
{
	CHECK(feedback_decay(0, 100) == 1);
	CHECK(feedback_decay(-5, 100) == 1); /* a clock behind: new */
	CHECK(fabs(feedback_decay(25, 100) - 0.75) < 1e-9);
	CHECK(feedback_decay(100, 100) == 0);
	CHECK(feedback_decay(500, 100) == 0);
	CHECK(feedback_decay(1, 0) == 0);
	CHECK(feedback_factor(0) == 1);
	CHECK(feedback_factor(100) <= 1.5 && feedback_factor(100) > 1.49);
	CHECK(feedback_factor(-100) >= 0.5 && feedback_factor(-100) < 0.51);
	CHECK(fabs(feedback_similarity("printer jams", "printer jams") - 1) < 1e-6);
	CHECK(feedback_similarity("cannot log in after the update",
				  "customers cannot log in after the 2.3 update") >= FEEDBACK_MIN_SIMILARITY);
	CHECK(feedback_similarity("cannot log in after the update", "vpn disconnects every hour") <
	      FEEDBACK_MIN_SIMILARITY);
	CHECK(feedback_similarity("", "anything") == 0);
}

struct collect {
	int n;
	char last[256];
};

static int collect(void *ctx, const struct feedback_row *r)
{
	struct collect *c = ctx;

	c->n++;
	snprintf(c->last, sizeof(c->last), "%lld %+d %s %s %s", (long long)r->time, r->sign,
		 r->query, r->path, r->question);
	return 0;
}

static void test_records(const char *dir)
{
	char path[4096], err[512];
	struct store *s = NULL;
	struct tenant_row t, u;
	struct strbuf sb = STRBUF_INIT;
	struct feedback_boost *b = NULL;
	struct collect c = { 0 };
	size_t n = 0;
	int64_t now = 1800000000, t1, t2, mtime;

	snprintf(path, sizeof(path), "%s/fb.db", dir);
	CHECK_INT(store_open_sqlite(path, &s, err, sizeof(err)), 0);
	CHECK_INT(store_tenant_create(s, "acme", 0755, 0, 0, &t), 0);
	CHECK_INT(store_tenant_create(s, "other", 0755, 0, 0, &u), 0);
	t1 = ticket(s, t.id, "t1.txt", "Login fails\n\nI cannot log in since the update.\n");
	t2 = ticket(s, t.id, "t2.txt", "Printer\n\nThe printer jams.\n");
	CHECK(t1 && t2);
	ticket(s, u.id, "o1.txt", "Other\n\nSomething else.\n");
	query(s, t.id, "login", "k: 3\nmode: search\n\ncannot log in after the update\n");
	query(s, t.id, "empty", "k: 3\n");

	/* good lines, with comments, blank and CRLF lines, a dated line */
	const char *good = "# verdicts\n+1 queries/login tickets/t1/ticket.md\r\n\n"
			   "2027-01-01T00:00:00Z\t-1   queries/login tickets/t2\n";
	CHECK_INT(feedback_append(s, t.id, good, strlen(good), now, err, sizeof(err)), 0);
	CHECK_INT(store_feedback_list(s, t.id, INT64_MIN, collect, &c), 0);
	CHECK_INT(c.n, 2);
	CHECK_STR(c.last, "1798761600 -1 queries/login tickets/t2 cannot log in after the update");

	/* bad lines: EINVAL, the line and why, nothing recorded */
	static const struct { const char *line, *why; } bad[] = {
		{ "+1 queries/login", "line 1: expected SIGN QUERY SOURCE (like +1 queries/login "
				      "tickets/4821), got 2 fields" },
		{ "+1 a b c d", "line 1: expected SIGN QUERY SOURCE (like +1 queries/login "
				"tickets/4821), got 5 fields" },
		{ "1 queries/login tickets/t1", "line 1: '1' is not +1 or -1" },
		{ "+1 queries/nope tickets/t1", "line 1: there is no query file queries/nope in this "
					       "tenant" },
		{ "+1 queries/empty tickets/t1", "line 1: queries/empty has no question yet" },
		{ "+1 queries/a/b tickets/t1", "line 1: 'queries/a/b' is not a query: expected "
					      "queries/NAME" },
		{ "+1 queries/login tickets/o1", "line 1: there is no ticket tickets/o1 in this "
						"tenant" },
		{ "+1 queries/login tickets/t1/a/b", "line 1: 'tickets/t1/a/b' is not a source: "
			"expected tickets/ID or kb/SLUG.md, as an answer's Sources list shows it" },
		{ "+1 queries/login kb/x", "line 1: 'kb/x' is not a source: expected tickets/ID or "
			"kb/SLUG.md, as an answer's Sources list shows it" },
		{ "+1 queries/login kb/x.md", "line 1: there is no article kb/x.md in this tenant" },
		{ "noon +1 queries/login tickets/t1", "line 1: 'noon' is not a time "
						      "(2026-11-22T10:11:12Z)" },
		{ "+1 queries/login tickets/t1\n+1 queries/login tickets/zz",
		  "line 2: there is no ticket tickets/zz in this tenant" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(feedback_append(s, t.id, bad[i].line, strlen(bad[i].line), now, err,
					  sizeof(err)), -EINVAL);
		CHECK_STR(err, bad[i].why);
	}
	CHECK_INT(feedback_append(s, t.id, "+1 x\0y z\n", 9, now, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "line 1: holds a NUL byte");
	c.n = 0;
	CHECK_INT(store_feedback_list(s, t.id, INT64_MIN, collect, &c), 0);
	CHECK_INT(c.n, 2);

	/* listing */
	CHECK_INT(feedback_render(s, t.id, &sb, &mtime), 0);
	CHECK_STR(sb.buf, "2027-01-15T08:00:00Z +1 queries/login tickets/t1\n"
			  "2027-01-01T00:00:00Z -1 queries/login tickets/t2\n");
	CHECK_INT(mtime, now); /* the newest record */
	strbuf_release(&sb);

	/* adjustments: a similar question gets both, an unrelated one none */
	CHECK_INT(feedback_boosts(s, t.id, "customers cannot log in after the 2.3 update", now,
				  30 * 86400, &b, &n), 0);
	CHECK_INT(n, 2);
	for (size_t i = 0; i < n; i++) {
		if (b[i].doc_id == t1)
			CHECK(b[i].adj > 0.5 && b[i].factor > 1.2 && b[i].factor < 1.5);
		else
			CHECK(b[i].doc_id == t2 && b[i].adj < 0 && b[i].factor < 1);
	}
	free(b);
	CHECK_INT(feedback_boosts(s, t.id, "printer jams", now, 30 * 86400, &b, &n), 0);
	CHECK_INT(n, 0);
	free(b);
	/* 20 days later the 2027-01-01 line is 34 days old: outside 30 days */
	CHECK_INT(feedback_boosts(s, t.id, "cannot log in after the update", now + 20 * 86400,
				  30 * 86400, &b, &n), 0);
	CHECK_INT(n, 1);
	CHECK(n == 1 && b[0].doc_id == t1 && fabs(b[0].adj - (1 - 20.0 / 30)) < 1e-6);
	free(b);
	CHECK_INT(feedback_boosts(s, t.id, "cannot log in", now, 0, &b, &n), 0);
	CHECK_INT(n, 0);
	free(b);
	CHECK_INT(feedback_boosts(s, u.id, "cannot log in after the update", now, 30 * 86400,
				  &b, &n), 0);
	CHECK_INT(n, 0); /* per tenant */
	free(b);

	/* a deleted source: listed as gone, adjusts nothing */
	CHECK_INT(store_doc_delete(s, t2), 0);
	CHECK_INT(feedback_render(s, t.id, &sb, NULL), 0);
	CHECK(strstr(sb.buf, "-1 queries/login tickets/t2  # gone\n") != NULL);
	strbuf_release(&sb);
	CHECK_INT(store_feedback_clear(s, t.id), 0);
	CHECK_INT(feedback_render(s, t.id, &sb, NULL), 0);
	CHECK(sb.len == 0);
	strbuf_release(&sb);
	store_close(s);
}

int main(void)
{
	char dir[] = "/tmp/deskfs-feedback.XXXXXX";
	char cmd[128];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_pieces();
	test_records(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_done();
}
