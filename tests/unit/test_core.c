/* test_core - the store, ingestion and inbox lifecycle without FUSE. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "inbox.h"
#include "ingest.h"
#include "store.h"

static const char fd_ticket[] =
	"{\"id\": 7, \"subject\": \"VPN drops\", \"description\": \"<p>It drops.</p>\","
	" \"description_text\": \"It drops.\", \"status\": 2, \"priority\": 3,"
	" \"requester_id\": 5, \"created_at\": \"2024-01-02T03:04:05Z\","
	" \"updated_at\": \"2024-01-02T03:04:05Z\", \"tags\": [\"vpn\"]}";

static int ingest(struct store *s, int64_t tenant, const char *name, const char *data,
		  struct ingest_report *rep)
{
	int rc = store_begin(s);

	if (rc)
		return rc;
	rc = ingest_file(s, tenant, AREA_INBOX, name, data, strlen(data), rep);
	if (rc && rc != -EINVAL) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s) ? -EIO : rc;
}

static void test_store_and_ingest(const char *dir)
{
	char path[4096], err[256], *buf = NULL;
	struct store *s = NULL;
	struct tenant_row t, t2;
	struct ingest_report rep;
	struct doc_row d;
	size_t len;

	snprintf(path, sizeof(path), "%s/core.db", dir);
	CHECK_INT(store_open_sqlite(path, &s, err, sizeof(err)), 0);
	CHECK_INT(store_tenant_create(s, "acme", 0755, 0, 0, &t), 0);
	CHECK_INT(store_tenant_create(s, "acme", 0755, 0, 0, &t2), -EEXIST);
	CHECK_INT(store_tenant_find(s, "acme", &t2), 0);
	CHECK_INT(t2.id, t.id);
	CHECK_INT(store_tenant_find(s, "nope", &t2), -ENOENT);

	CHECK_INT(ingest(s, t.id, "t.json", fd_ticket, &rep), 0);
	CHECK_INT(rep.created, 1);
	CHECK(rep.errors == NULL);
	CHECK_STR(rep.format, "freshdesk json");
	ingest_report_clear(&rep);
	CHECK_INT(store_doc_find(s, t.id, DOC_TICKET, "7", &d), 0);
	CHECK_STR(d.source, "freshdesk");
	CHECK_INT(store_doc_read(s, d.id, PART_MD, &buf, &len), 0);
	CHECK_INT((long long)len, d.size_md);
	CHECK_CONTAINS(buf, "# VPN drops\n");
	CHECK_CONTAINS(buf, "- status: open\n- priority: high\n");
	{
		char part[8];
		CHECK_INT(store_doc_pread(s, d.id, PART_MD, part, 5, 2), 5);
		CHECK(!memcmp(part, "VPN d", 5));
		CHECK_INT(store_doc_pread(s, d.id, PART_MD, part, 8, (off_t)len), 0);
	}
	free(buf);
	doc_row_clear(&d);

	/* the same content again: unchanged; a change: updated */
	CHECK_INT(ingest(s, t.id, "t.json", fd_ticket, &rep), 0);
	CHECK_INT(rep.unchanged, 1);
	CHECK_INT(rep.created + rep.updated, 0);
	ingest_report_clear(&rep);
	{
		char *changed = strdup(fd_ticket);
		memcpy(strstr(changed, "VPN drops"), "VPN fails", 9);
		CHECK_INT(ingest(s, t.id, "t.json", changed, &rep), 0);
		CHECK_INT(rep.updated, 1);
		ingest_report_clear(&rep);
		free(changed);
	}
	/* a second source with the same id gets a prefixed name */
	CHECK_INT(ingest(s, t.id, "z.json",
			 "{\"ticket\": {\"id\": 7, \"url\": \"https://x.zendesk.com/api/v2/tickets/7.json\","
			 " \"subject\": \"Other\", \"description\": \"d\", \"status\": \"open\"}}", &rep), 0);
	CHECK_INT(rep.created, 1);
	ingest_report_clear(&rep);
	CHECK_INT(store_doc_find(s, t.id, DOC_TICKET, "zendesk-7", &d), 0);
	doc_row_clear(&d);

	/* whole-file and record rejections */
	CHECK_INT(ingest(s, t.id, "bad.json", "{\"id\": ", &rep), -EINVAL);
	CHECK(rep.fatal);
	CHECK_CONTAINS(rep.errors, "file: malformed JSON at line 1");
	ingest_report_clear(&rep);
	CHECK_INT(ingest(s, t.id, "empty.txt", " \n\n", &rep), -EINVAL);
	CHECK_CONTAINS(rep.errors, "empty file");
	ingest_report_clear(&rep);
	CHECK_INT(ingest(s, t.id, "conv.json",
			 "[{\"id\": 9, \"ticket_id\": 404, \"body_text\": \"hi\", \"body\": \"hi\","
			 " \"incoming\": true, \"private\": false, \"created_at\": \"2024-01-02T03:04:05Z\"}]",
			 &rep), -EINVAL);
	CHECK_CONTAINS(rep.errors, "ticket 404: messages for a ticket that is not ingested yet");
	ingest_report_clear(&rep);
	{
		char bin[] = "abc\0def";
		CHECK_INT(store_begin(s), 0);
		CHECK_INT(ingest_file(s, t.id, AREA_INBOX, "b.bin", bin, sizeof(bin), &rep), -EINVAL);
		store_commit(s);
		CHECK_CONTAINS(rep.errors, "binary content (NUL byte at offset 3)");
		ingest_report_clear(&rep);
	}
	/* messages of a conversations file merge into the stored ticket */
	CHECK_INT(ingest(s, t.id, "conv.json",
			 "[{\"id\": 9, \"ticket_id\": 7, \"body_text\": \"any news?\", \"body\": \"any news?\","
			 " \"incoming\": true, \"private\": false, \"created_at\": \"2024-01-03T03:04:05Z\"}]",
			 &rep), 0);
	CHECK_INT(rep.updated, 1);
	ingest_report_clear(&rep);
	CHECK_INT(store_doc_find(s, t.id, DOC_TICKET, "7", &d), 0);
	CHECK_INT(store_doc_read(s, d.id, PART_MD, &buf, &len), 0);
	CHECK_CONTAINS(buf, "any news?");
	free(buf);
	CHECK_INT(store_doc_read(s, d.id, PART_SOURCE, &buf, &len), 0);
	CHECK(buf[0] == '[');
	free(buf);
	doc_row_clear(&d);

	/* ids become inode numbers: never reused after a delete */
	{
		struct inbox_row a, b;
		CHECK_INT(store_inbox_create(s, t.id, AREA_INBOX, "x", 0644, &a), 0);
		CHECK_INT(store_inbox_delete(s, a.id), 0);
		CHECK_INT(store_inbox_create(s, t.id, AREA_INBOX, "y", 0644, &b), 0);
		CHECK(b.id > a.id);
		CHECK_INT(store_inbox_delete(s, b.id), 0);
		inbox_row_clear(&a);
		inbox_row_clear(&b);
	}
	CHECK_INT(store_tenant_delete(s, t.id), -ENOTEMPTY);
	CHECK_INT(store_check(s), 0);
	store_close(s);
}

static void test_inbox_lifecycle(const char *dir)
{
	char path[4096], err[256], *buf;
	struct core *c = NULL;
	struct inbox_row r, r2;
	struct tenant_row t;
	int64_t size;
	size_t len;

	snprintf(path, sizeof(path), "%s/inbox.db", dir);
	CHECK_INT(core_open(path, 1024, 0, &c, err, sizeof(err)), 0);
	CHECK_INT(store_tenant_create(c->store, "t", 0755, 0, 0, &t), 0);

	CHECK(inbox_name_is_temp(".x.json.AbC123"));
	CHECK(inbox_name_is_temp("x.json~"));
	CHECK(inbox_name_is_temp("x.swp"));
	CHECK(!inbox_name_is_temp("x.json"));

	/* a final name is ingested at flush and leaves the inbox */
	CHECK_INT(inbox_create(c, t.id, AREA_INBOX, "t.json", 0644, &r), 0);
	CHECK_INT(inbox_write(c, r.id, fd_ticket, strlen(fd_ticket), 0), (long long)strlen(fd_ticket));
	CHECK_INT(inbox_write(c, r.id, "x", 1, 2000), -EFBIG);
	CHECK_INT(inbox_size(c, r.id, &size), 0);
	CHECK_INT(size, (long long)strlen(fd_ticket));
	CHECK_INT(inbox_flush(c, r.id), 0);
	inbox_release(c, r.id);
	CHECK_INT(store_inbox_get(c->store, r.id, &r2), -ENOENT);
	inbox_row_clear(&r);

	/* a temporary name waits; a rename ingests it */
	CHECK_INT(inbox_create(c, t.id, AREA_INBOX, ".n.txt.XYZ", 0644, &r), 0);
	CHECK_INT(inbox_write(c, r.id, "Printer jam\nfloor 3\n", 20, 0), 20);
	inbox_release(c, r.id);
	CHECK_INT(store_inbox_get(c->store, r.id, &r2), 0);
	CHECK_INT(r2.state, INBOX_CLOSED);
	inbox_row_clear(&r2);
	CHECK_INT(inbox_rename(c, r.id, "n.txt"), 0);
	CHECK_INT(store_inbox_get(c->store, r.id, &r2), -ENOENT);
	inbox_row_clear(&r);

	/* a rejected file stays with its content and reason */
	CHECK_INT(inbox_create(c, t.id, AREA_INBOX, "bad.json", 0644, &r), 0);
	CHECK_INT(inbox_write(c, r.id, "{oops", 5, 0), 5);
	CHECK_INT(inbox_flush(c, r.id), 0);
	inbox_release(c, r.id);
	CHECK_INT(store_inbox_get(c->store, r.id, &r2), 0);
	CHECK_INT(r2.state, INBOX_REJECTED);
	CHECK_CONTAINS(r2.error, "deskfs could not ingest 'bad.json' (json)");
	CHECK_INT(store_inbox_data_read(c->store, r.id, &buf, &len), 0);
	CHECK_INT((long long)len, 5);
	free(buf);
	inbox_row_clear(&r2);
	inbox_row_clear(&r);

	/* a file still open when the daemon died is kept with a reason */
	CHECK_INT(inbox_create(c, t.id, AREA_INBOX, "half.json", 0644, &r), 0);
	CHECK_INT(inbox_write(c, r.id, "{\"id\":", 6, 0), 6);
	core_close(c); /* no flush: as if killed */
	c = NULL;
	CHECK_INT(core_open(path, 1024, 0, &c, err, sizeof(err)), 0);
	CHECK_INT(store_inbox_get(c->store, r.id, &r2), 0);
	CHECK_INT(r2.state, INBOX_REJECTED);
	CHECK_CONTAINS(r2.error, "deskfs stopped while this file was being written");
	inbox_row_clear(&r2);
	inbox_row_clear(&r);
	core_close(c);
}

static void test_open_errors(const char *dir)
{
	char path[4096], err[512];
	struct store *s = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/junk.db", dir);
	f = fopen(path, "w");
	fputs("this is not a database, just text that is long enough to fill a header page", f);
	fclose(f);
	CHECK(store_open_sqlite(path, &s, err, sizeof(err)) < 0);
	CHECK_CONTAINS(err, "junk.db");
	CHECK(s == NULL);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

static void *reader_thread(void *arg)
{
	struct tenant_row t;

	store_tenant_find(arg, "acme", &t);
	return NULL;
}

/* Threads come and go under FUSE: their connections must not pile up. */
static void test_thread_churn(const char *dir)
{
	char path[4096], err[256];
	struct store *s = NULL;
	struct tenant_row t;
	int before;

	snprintf(path, sizeof(path), "%s/churn.db", dir);
	CHECK_INT(store_open_sqlite(path, &s, err, sizeof(err)), 0);
	CHECK_INT(store_tenant_create(s, "acme", 0755, 0, 0, &t), 0);
	/* SQLite may keep one closed descriptor for reuse while other
	 * connections hold locks; what matters is that nothing grows. */
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 200; i++) {
			pthread_t th;
			pthread_create(&th, NULL, reader_thread, s);
			pthread_join(th, NULL);
		}
		if (round == 0)
			before = count_fds();
	}
	CHECK_INT(count_fds(), before);
	store_close(s);
}

/* store_read_begin/end: reads inside see one state of the store, the
 * next read after the end sees the store as it is; pairs nest. */
static void test_read_snapshot(const char *dir)
{
	char path[4096], err[256];
	struct store *s = NULL;
	struct tenant_row t, got;

	snprintf(path, sizeof(path), "%s/snap.db", dir);
	CHECK_INT(store_open_sqlite(path, &s, err, sizeof(err)), 0);
	CHECK_INT(store_tenant_create(s, "acme", 0755, 0, 0, &t), 0);
	store_read_begin(s);
	CHECK_INT(store_tenant_get(s, t.id, &got), 0);
	CHECK_INT((int)got.mode, 0755);
	CHECK_INT(store_tenant_attr_set(s, t.id, 0700, 0, 0), 0); /* the writer commits */
	store_read_begin(s); /* nested: the same snapshot */
	CHECK_INT(store_tenant_get(s, t.id, &got), 0);
	CHECK_INT((int)got.mode, 0755);
	store_read_end(s);
	CHECK_INT(store_tenant_get(s, t.id, &got), 0);
	CHECK_INT((int)got.mode, 0755);
	store_read_end(s);
	CHECK_INT(store_tenant_get(s, t.id, &got), 0);
	CHECK_INT((int)got.mode, 0700);
	/* an unmatched end does nothing; reads stay current */
	store_read_end(s);
	CHECK_INT(store_tenant_attr_set(s, t.id, 0750, 0, 0), 0);
	CHECK_INT(store_tenant_get(s, t.id, &got), 0);
	CHECK_INT((int)got.mode, 0750);
	/* inside a write transaction both do nothing */
	CHECK_INT(store_begin(s), 0);
	store_read_begin(s);
	CHECK_INT(store_tenant_attr_set(s, t.id, 0711, 0, 0), 0);
	CHECK_INT(store_tenant_get(s, t.id, &got), 0);
	CHECK_INT((int)got.mode, 0711);
	store_read_end(s);
	CHECK_INT(store_commit(s), 0);
	CHECK_INT(store_tenant_get(s, t.id, &got), 0);
	CHECK_INT((int)got.mode, 0711);
	/* a renewed snapshot sees what was committed since it began, and
	 * stays one snapshot after that; without a snapshot renew does nothing */
	store_read_begin(s);
	CHECK_INT(store_tenant_get(s, t.id, &got), 0);
	CHECK_INT(store_tenant_attr_set(s, t.id, 0701, 0, 0), 0);
	CHECK_INT(store_tenant_get(s, t.id, &got), 0);
	CHECK_INT((int)got.mode, 0711);
	store_read_renew(s);
	CHECK_INT(store_tenant_get(s, t.id, &got), 0);
	CHECK_INT((int)got.mode, 0701);
	CHECK_INT(store_tenant_attr_set(s, t.id, 0770, 0, 0), 0);
	CHECK_INT(store_tenant_get(s, t.id, &got), 0);
	CHECK_INT((int)got.mode, 0701);
	store_read_end(s);
	store_read_renew(s);
	CHECK_INT(store_tenant_get(s, t.id, &got), 0);
	CHECK_INT((int)got.mode, 0770);
	store_close(s);
}

static long long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : (long long)st.st_size;
}

/* The checkpointer thread copies the WAL into the database file once the
 * WAL holds a few thousand pages (store_sqlite.c: CKPT_PAGES), long before
 * the writer would do it itself (CKPT_PAGES_MAX, 16,000 pages): 40 commits
 * of a 512 KiB file (about 5,200 pages) must reach the database file. */
static void test_checkpointer(const char *dir)
{
	char path[4096], err[256];
	struct store *s = NULL;
	struct tenant_row t;
	struct inbox_row r;
	size_t len = 512 * 1024;
	char *data = malloc(len);
	long long before;
	int waited = 0;

	snprintf(path, sizeof(path), "%s/ckpt.db", dir);
	CHECK_INT(store_open_sqlite(path, &s, err, sizeof(err)), 0);
	CHECK_INT(store_tenant_create(s, "acme", 0755, 0, 0, &t), 0);
	CHECK_INT(store_inbox_create(s, t.id, AREA_INBOX, "big.txt", 0644, &r), 0);
	before = file_size(path);
	for (int i = 0; i < 40 && data; i++) {
		memset(data, 'a' + i % 26, len);
		CHECK_INT(store_inbox_data_set(s, r.id, data, len), 0);
	}
	while (file_size(path) < before + (long long)len && waited++ < 100)
		usleep(100 * 1000);
	CHECK(file_size(path) >= before + (long long)len);
	inbox_row_clear(&r);
	free(data);
	store_close(s);
}

int main(void)
{
	char dir[] = "/tmp/deskfs-core.XXXXXX";
	char cmd[128];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_store_and_ingest(dir);
	test_inbox_lifecycle(dir);
	test_open_errors(dir);
	test_thread_churn(dir);
	test_read_snapshot(dir);
	test_checkpointer(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_done();
}
