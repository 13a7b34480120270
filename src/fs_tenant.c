/* fs_tenant.c - a tenant directory (inbox/, tickets/, kb/, queries/,
 * summaries/, status, config, feedback), its status and feedback files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "feedback.h"
#include "fs.h"
#include "status.h"
#include "strbuf.h"

static const char *const tenant_children[] = {
	[TS_INBOX] = "inbox", [TS_TICKETS] = "tickets", [TS_KB] = "kb", [TS_STATUS] = "status",
	[TS_QUERIES] = "queries", [TS_CONFIG] = "config", [TS_SUMMARIES] = "summaries",
	[TS_FEEDBACK] = "feedback",
};

static int tenant_getattr(struct fs *fs, const struct node *n, struct stat *st)
{
	struct tenant_row t;
	int rc;

	if ((rc = store_tenant_get(fs->store, n->id, &t)))
		return rc;
	fs_stat_dir(fs, n, st, t.ctime, 7);
	st->st_mode = S_IFDIR | (t.mode & 07777 ? t.mode & 07777 : 0755);
	return 0;
}

static int tenant_lookup(struct fs *fs, const struct node *dir, const char *name,
			 struct node *child)
{
	for (int i = TS_INBOX; i <= TS_FEEDBACK; i++)
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
	for (int i = TS_INBOX; i <= TS_FEEDBACK; i++) {
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
	if (child.sub == TS_STATUS || child.sub == TS_CONFIG || child.sub == TS_FEEDBACK)
		return -ENOTDIR;
	if ((rc = store_tenant_usage(fs->store, dir->id, &u)))
		return rc;
	if ((child.sub == TS_INBOX && u.inbox) || (child.sub == TS_TICKETS && u.tickets) ||
	    (child.sub == TS_KB && (u.articles || u.kb_pending)) ||
	    (child.sub == TS_QUERIES && u.queries) || (child.sub == TS_SUMMARIES && u.tickets))
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
	if (child.sub == TS_FEEDBACK)
		return store_feedback_clear(fs->store, dir->id); /* stays, empty */
	if (child.sub != TS_STATUS)
		return -EISDIR;
	fs_hide(fs, child.ino);
	return 0;
}

/* tickets/, inbox/, kb/, queries/ and summaries/: directories dated by their
 * tenant. tickets/ reports nlink 1 ("not counted", as btrfs does): counting subdirectories
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

/* ---- status: the text is the core's (status.h) ---------------------------- */

static int status_content(struct fs *fs, const struct node *n, char **buf, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	int rc = status_render(fs->core, n->id, &sb);

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
	int rc;

	if ((rc = store_tenant_get(fs->store, n->id, &t)))
		return rc;
	store_event_list(fs->store, n->id, 1, newest_event, &mtime);
	return fs_stat_content(fs, n, st, mtime > t.ctime ? mtime : t.ctime, 0444);
}

const struct node_ops fs_status_ops = {
	.getattr = status_getattr,
	.content = status_content,
};

/* ---- feedback: a log of +1/-1 lines (feedback.h) ---------------------------- */

static int feedback_content(struct fs *fs, const struct node *n, char **buf, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	int rc = feedback_render(fs->store, n->id, &sb, NULL);

	if (!rc && !sb.buf)
		strbuf_addstr(&sb, "");
	if (!rc && !(*buf = strbuf_detach(&sb, len)))
		rc = -ENOMEM;
	strbuf_release(&sb);
	return rc;
}

/* Dated by the newest record (the tenant's creation without any). */
static int feedback_getattr(struct fs *fs, const struct node *n, struct stat *st)
{
	struct strbuf sb = STRBUF_INIT;
	struct tenant_row t;
	int64_t mtime = 0;
	int rc;

	if (!(rc = store_tenant_get(fs->store, n->id, &t)) &&
	    !(rc = feedback_render(fs->store, n->id, &sb, &mtime)))
		fs_stat_file(fs, n, st, mtime > t.ctime ? mtime : t.ctime, (off_t)sb.len, 0644);
	strbuf_release(&sb);
	return rc;
}

static int feedback_append_lines(struct fs *fs, const struct node *n, const char *buf,
				 size_t len)
{
	char err[700];
	int rc = feedback_append(fs->store, n->id, buf, len, (int64_t)time(NULL), err,
				 sizeof(err));

	if (rc == -EINVAL) {
		char line[800];
		snprintf(line, sizeof(line), "feedback: write rejected, nothing of it recorded: %s",
			 err);
		store_event_add(fs->store, n->id, line);
	}
	return rc;
}

/* The log only grows: truncating it is refused (rm empties it). */
static int feedback_setattr(struct fs *fs, const struct node *n, struct stat *st, int to_set)
{
	(void)fs;
	(void)n;
	(void)st;
	return to_set & FUSE_SET_ATTR_SIZE ? -EPERM : 0;
}

const struct node_ops fs_feedback_ops = {
	.getattr = feedback_getattr,
	.content = feedback_content,
	.append = feedback_append_lines,
	.setattr = feedback_setattr,
};
