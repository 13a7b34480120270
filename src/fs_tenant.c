/* fs_tenant.c - a tenant directory (inbox/, tickets/, kb/, queries/,
 * status, config) and its status file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "reembed.h"
#include "strbuf.h"
#include "util.h"

static const char *const tenant_children[] = {
	[TS_INBOX] = "inbox", [TS_TICKETS] = "tickets", [TS_KB] = "kb", [TS_STATUS] = "status",
	[TS_QUERIES] = "queries", [TS_CONFIG] = "config",
};

static int tenant_getattr(struct fs *fs, const struct node *n, struct stat *st)
{
	struct tenant_row t;
	int rc;

	if ((rc = store_tenant_get(fs->store, n->id, &t)))
		return rc;
	fs_stat_dir(fs, n, st, t.ctime, 6);
	st->st_mode = S_IFDIR | (t.mode & 07777 ? t.mode & 07777 : 0755);
	return 0;
}

static int tenant_lookup(struct fs *fs, const struct node *dir, const char *name,
			 struct node *child)
{
	for (int i = TS_INBOX; i <= TS_CONFIG; i++)
		if (!strcmp(name, tenant_children[i])) {
			fs_node(child, C_TENANT, dir->id, i);
			return fs_hidden(fs, child->ino) ? -ENOENT : 0;
		}
	return -ENOENT;
}

static int tenant_list(struct fs *fs, const struct node *dir, off_t off, struct dir_fill *df)
{
	struct node n;

	(void)fs;
	for (int i = TS_INBOX; i <= TS_CONFIG; i++) {
		if (off >= 2 + i)
			continue;
		fs_node(&n, C_TENANT, dir->id, i);
		if (dir_emit(df, tenant_children[i], &n, NULL, 2 + i))
			break;
	}
	return 0;
}

/* "rm -r TENANT" empties the fixed subdirectories and removes them before
 * the tenant: they are hidden until the tenant goes (rmdir of the tenant
 * fails with ENOTEMPTY while it holds anything). */
static int tenant_rmdir(struct fs *fs, const struct node *dir, const char *name)
{
	struct tenant_usage u;
	struct node child;
	int rc;

	if ((rc = tenant_lookup(fs, dir, name, &child)))
		return rc;
	if (child.sub == TS_STATUS || child.sub == TS_CONFIG)
		return -ENOTDIR;
	if ((rc = store_tenant_usage(fs->store, dir->id, &u)))
		return rc;
	if ((child.sub == TS_INBOX && u.inbox) || (child.sub == TS_TICKETS && u.tickets) ||
	    (child.sub == TS_KB && (u.articles || u.kb_pending)) ||
	    (child.sub == TS_QUERIES && u.queries))
		return -ENOTEMPTY;
	fs_hide(fs, child.ino);
	return 0;
}

static int tenant_unlink(struct fs *fs, const struct node *dir, const char *name)
{
	struct node child;
	int rc;

	if ((rc = tenant_lookup(fs, dir, name, &child)))
		return rc;
	if (child.sub == TS_CONFIG)
		return fs_config_reset(fs, dir->id); /* stays, with the defaults */
	if (child.sub != TS_STATUS)
		return -EISDIR;
	fs_hide(fs, child.ino);
	return 0;
}

/* tickets/, inbox/, kb/ and queries/: directories dated by their tenant. tickets/
 * reports nlink 1 ("not counted", as btrfs does): counting subdirectories
 * would cost a count over every ticket on each stat. */
int fs_tenant_subdir_getattr(struct fs *fs, const struct node *n, struct stat *st)
{
	struct tenant_row t;
	int rc;

	if ((rc = store_tenant_get(fs->store, n->id, &t)))
		return rc;
	fs_stat_dir(fs, n, st, t.ctime, n->sub == TS_TICKETS ? 1 : 2);
	return 0;
}

const struct node_ops fs_tenant_ops = {
	.getattr = tenant_getattr,
	.lookup = tenant_lookup,
	.list = tenant_list,
	.rmdir = tenant_rmdir,
	.unlink = tenant_unlink,
};

/* ---- status ------------------------------------------------------------- */

struct event_fill {
	struct strbuf *sb;
};

static int status_event(void *ctx, int64_t time, const char *text)
{
	struct event_fill *f = ctx;
	char when[32];

	util_time_format(time, when);
	strbuf_addf(f->sb, "  %s  %s\n", when, text);
	return 0;
}

static int status_render(struct fs *fs, int64_t tenant, struct strbuf *sb)
{
	int64_t cnt[CNT__COUNT];
	struct tenant_usage u;
	struct tenant_row t;
	struct event_fill f = { sb };
	int rc;

	if ((rc = store_tenant_get(fs->store, tenant, &t)) ||
	    (rc = store_tenant_usage(fs->store, tenant, &u)) ||
	    (rc = store_counters(fs->store, tenant, cnt)))
		return rc;
	strbuf_addf(sb, "tenant: %s\n", t.name);
	strbuf_addf(sb, "tickets: %lld\n", (long long)u.tickets);
	strbuf_addf(sb, "articles: %lld\n", (long long)u.articles);
	strbuf_addf(sb, "inbox files waiting or rejected: %lld\n", (long long)(u.inbox + u.kb_pending));
	strbuf_addf(sb, "query files: %lld (%lld queries run)\n", (long long)u.queries,
		    (long long)cnt[CNT_QUERIES]);
	strbuf_addf(sb, "files ingested: %lld\n", (long long)cnt[CNT_FILES_INGESTED]);
	strbuf_addf(sb, "files rejected: %lld\n", (long long)cnt[CNT_FILES_REJECTED]);
	strbuf_addf(sb, "records rejected: %lld\n", (long long)cnt[CNT_RECORDS_REJECTED]);
	strbuf_addf(sb, "records created: %lld\n", (long long)cnt[CNT_CREATED]);
	strbuf_addf(sb, "records updated: %lld\n", (long long)cnt[CNT_UPDATED]);
	strbuf_addf(sb, "records unchanged (re-copied): %lld\n", (long long)cnt[CNT_UNCHANGED]);
	strbuf_addf(sb, "records deleted at source: %lld\n", (long long)cnt[CNT_DELETED]);
	struct reembed_progress pr;
	if ((rc = reembed_progress(fs->core->reembed, tenant, &pr)))
		return rc;
	if (!pr.total && !pr.done && !pr.error[0])
		strbuf_addf(sb, "embedder: %s (vectors made at ingest)\n", pr.model);
	else
		strbuf_addf(sb, "embedder: %s (%lld of %lld passages embedded%s)\n", pr.model,
			    (long long)(pr.total - pr.stale), (long long)pr.total,
			    pr.stale ? ", the rest in the background" : "");
	if (pr.error[0]) {
		char when[32];
		util_time_format(pr.error_time, when);
		strbuf_addf(sb, "embedder error at %s: %s (retried every %d s)\n", when, pr.error,
			    REEMBED_RETRY_S);
	}
	strbuf_addstr(sb, "recent events (newest first):\n");
	rc = store_event_list(fs->store, tenant, 20, status_event, &f);
	return rc ? rc : sb->err;
}

static int status_content(struct fs *fs, const struct node *n, char **buf, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	int rc = status_render(fs, n->id, &sb);

	if (rc) {
		strbuf_release(&sb);
		return rc;
	}
	*buf = strbuf_detach(&sb, len);
	return *buf ? 0 : -ENOMEM;
}

static int newest_event(void *ctx, int64_t time, const char *text)
{
	(void)text;
	*(int64_t *)ctx = time;
	return 0;
}

/* The size is exact (the text is rendered); the mtime is that of the
 * newest event, so tar and rsync see a stable file between events. */
static int status_getattr(struct fs *fs, const struct node *n, struct stat *st)
{
	struct tenant_row t;
	int64_t mtime = 0;
	char *buf;
	size_t len;
	int rc = status_content(fs, n, &buf, &len);

	if (rc)
		return rc;
	free(buf);
	if ((rc = store_tenant_get(fs->store, n->id, &t)))
		return rc;
	store_event_list(fs->store, n->id, 1, newest_event, &mtime);
	fs_stat_file(fs, n, st, mtime > t.ctime ? mtime : t.ctime, (off_t)len, 0444);
	return 0;
}

const struct node_ops fs_status_ops = {
	.getattr = status_getattr,
	.content = status_content,
};
