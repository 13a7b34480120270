/* fs_root.c - the mount root: README, one directory per tenant and
 * .deskfs/ (deskfs's own files: metrics). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "metrics.h"
#include "strbuf.h"

#define DESKFS_DIR ".deskfs"

const char fs_readme_text[] =
	"deskfs - a help-desk knowledge base as a filesystem\n"
	"\n"
	"  mkdir acme                      create a tenant (names: [a-z0-9][a-z0-9._-]{0,63})\n"
	"  cp export.json acme/inbox/      ingest Freshdesk/Zendesk JSON, NDJSON, CSV, .eml, mbox,\n"
	"                                  Markdown, text or HTML; the file leaves the inbox when done\n"
	"  cat acme/inbox/NAME.error       why a file was rejected (it stays in the inbox)\n"
	"  ls acme/tickets/                one directory per ticket:\n"
	"  cat acme/tickets/ID/ticket.md   ticket.md (readable), ticket.json (normalized),\n"
	"                                  source.json (what was copied in), summary.md,\n"
	"                                  similar.md and similar.json (made in the background)\n"
	"  grep -ril vpn acme/summaries/   every ticket's summary in one directory\n"
	"  cp guide.md acme/kb/            add a knowledge-base article (kb/SLUG.md)\n"
	"  echo QUESTION > acme/queries/q  ask; cat acme/queries/q gives the answer with sources\n"
	"  echo '+1 queries/q tickets/ID' >> acme/feedback\n"
	"                                  rank a source up (+1) or down (-1) for similar questions\n"
	"  cat acme/config                 LLM providers, embedder, k, timeouts (JSON, writable)\n"
	"  cat acme/status                 counts, background jobs and recent events\n"
	"  cat .deskfs/metrics             Prometheus metrics\n"
	"\n"
	"Full documentation: docs/filesystem.md in the deskfs source.\n";


static int newest_tenant(void *ctx, const struct tenant_row *t)
{
	int64_t *newest = ctx;

	if (t->ctime > *newest)
		*newest = t->ctime;
	return 0;
}

/* The root changes when tenants come: its mtime is the newest tenant's
 * creation, stable across reads and remounts (rsync, tar). */
static int root_getattr(struct fs *fs, const struct node *n, struct stat *st)
{
	int64_t newest = 0;

	store_tenant_list(fs->store, 0, newest_tenant, &newest);
	fs_stat_dir(fs, n, 0, st, newest, 2);
	return 0;
}

static int root_lookup(struct fs *fs, const struct node *dir, const char *name, struct node *child)
{
	struct tenant_row t;
	int rc;

	(void)dir;
	if (!strcmp(name, "README")) {
		fs_node(child, C_ROOTFILE, 0, 0);
		return 0;
	}
	if (!strcmp(name, DESKFS_DIR)) {
		fs_node(child, C_DESKFS, 0, DS_DIR);
		return 0;
	}
	if (!core_tenant_name_ok(name))
		return -ENOENT;
	if ((rc = store_tenant_find(fs->store, name, &t)))
		return rc;
	fs_node(child, C_TENANT, t.id, TS_DIR);
	return 0;
}

struct root_list {
	struct fs *fs;
	struct dir_fill *df;
};

static int root_list_one(void *ctx, const struct tenant_row *t)
{
	struct root_list *l = ctx;
	struct node n;

	fs_node(&n, C_TENANT, t->id, TS_DIR);
	return dir_emit(l->df, t->name, &n, NULL, 16 + t->id);
}

static int root_list(struct fs *fs, const struct node *dir, off_t off, struct dir_fill *df)
{
	struct root_list l = { fs, df };
	struct node n;

	(void)dir;
	if (off < 3) {
		fs_node(&n, C_ROOTFILE, 0, 0);
		if (dir_emit(df, "README", &n, NULL, 3))
			return 0;
		off = 3;
	}
	if (off < 4) {
		fs_node(&n, C_DESKFS, 0, DS_DIR);
		if (dir_emit(df, DESKFS_DIR, &n, NULL, 4))
			return 0;
		off = 4;
	}
	return store_tenant_list(fs->store, off < 16 ? 0 : off - 16, root_list_one, &l) < 0 ? -EIO : 0;
}

static int root_mkdir(struct fs *fs, const struct node *dir, const char *name, mode_t mode,
		      struct node *child)
{
	struct tenant_row t;
	int rc;

	(void)dir;
	if (!strcmp(name, "README") || !strcmp(name, DESKFS_DIR))
		return -EEXIST;
	if (!core_tenant_name_ok(name))
		return -EINVAL;
	rc = store_tenant_create(fs->store, name, mode & 07777, fs_caller_uid, fs_caller_gid, &t);
	if (rc)
		return rc;
	fs_node(child, C_TENANT, t.id, TS_DIR);
	return 0;
}

static int root_rmdir(struct fs *fs, const struct node *dir, const char *name)
{
	struct tenant_row t;
	int rc;

	(void)dir;
	if (!strcmp(name, "README"))
		return -ENOTDIR;
	if (!strcmp(name, DESKFS_DIR))
		return -EPERM;
	if ((rc = store_tenant_find(fs->store, name, &t)))
		return rc;
	if ((rc = store_tenant_delete(fs->store, t.id)))
		return rc;
	fs_unhide_range(fs, fs_ino(C_TENANT, t.id, 0), fs_ino(C_TENANT, t.id, 15));
	return 0;
}

static int root_unlink(struct fs *fs, const struct node *dir, const char *name)
{
	struct node n;

	if (!strcmp(name, "README"))
		return -EPERM;
	return root_lookup(fs, dir, name, &n) ? -ENOENT : -EISDIR;
}

const struct node_ops fs_root_ops = {
	.getattr = root_getattr,
	.lookup = root_lookup,
	.list = root_list,
	.mkdir = root_mkdir,
	.rmdir = root_rmdir,
	.unlink = root_unlink,
};

static int readme_getattr(struct fs *fs, const struct node *n, struct stat *st)
{
	fs_stat_file(fs, n, 0, st, fs->exe_time, sizeof(fs_readme_text) - 1, 0444);
	return 0;
}

static int readme_content(struct fs *fs, const struct node *n, char **buf, size_t *len)
{
	(void)fs;
	(void)n;
	*buf = strdup(fs_readme_text);
	*len = sizeof(fs_readme_text) - 1;
	return *buf ? 0 : -ENOMEM;
}

const struct node_ops fs_readme_ops = {
	.getattr = readme_getattr,
	.content = readme_content,
};

/* ---- .deskfs/: deskfs's own files ---------------------------------------------
 *
 * Read-only: creating is EACCES, mkdir, unlink, rename and rmdir EPERM.
 * metrics is rendered at each open (a snapshot for that open file, see
 * node_ops.snapshot); stat renders it too for an exact size. Times are
 * the mount's (metrics counts since then): stable across reads, so rsync
 * and tar see no change while the content stays put. */

static int deskfs_getattr(struct fs *fs, const struct node *n, struct stat *st)
{
	fs_stat_dir(fs, n, 0, st, fs->mount_time, 2);
	st->st_mode = S_IFDIR | 0700; /* the mount owner's only */
	return 0;
}

static int deskfs_lookup(struct fs *fs, const struct node *dir, const char *name,
			 struct node *child)
{
	(void)fs;
	(void)dir;
	if (strcmp(name, "metrics"))
		return -ENOENT;
	fs_node(child, C_DESKFS, 0, DS_METRICS);
	return 0;
}

static int deskfs_list(struct fs *fs, const struct node *dir, off_t off, struct dir_fill *df)
{
	struct node n;

	(void)fs;
	(void)dir;
	if (off < 3) {
		fs_node(&n, C_DESKFS, 0, DS_METRICS);
		dir_emit(df, "metrics", &n, NULL, 3);
	}
	return 0;
}

const struct node_ops fs_deskfs_ops = {
	.getattr = deskfs_getattr,
	.lookup = deskfs_lookup,
	.list = deskfs_list,
};

static int metrics_content(struct fs *fs, const struct node *n, char **buf, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	int rc;

	(void)n;
	if ((rc = metrics_render(fs->store, &sb))) {
		strbuf_release(&sb);
		return rc;
	}
	*buf = strbuf_detach(&sb, len);
	return *buf ? 0 : -ENOMEM;
}

static int metrics_getattr(struct fs *fs, const struct node *n, struct stat *st)
{
	return fs_stat_content(fs, n, 0, st, fs->mount_time, 0400);
}

const struct node_ops fs_metrics_ops = {
	.getattr = metrics_getattr,
	.content = metrics_content,
	.snapshot = true,
};
