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
	fs_stat_dir(fs, n, n->id, st, t.ctime, 7);
	st->st_mode = S_IFDIR | (t.mode & 07777 ? t.mode & 07777 : 0755);
	return 0;
}

/* The fixed entries, then editors' temporary files (sed -i's sedXXXXXX,
 * vim's probe and swap files: inbox_name_is_temp), kept as they are until
 * renamed onto config, which saves their content as the config. */
static int tenant_lookup(struct fs *fs, const struct node *dir, const char *name,
			 struct node *child)
{
	for (int i = TS_INBOX; i <= TS_FEEDBACK; i++)
		if (!strcmp(name, tenant_children[i])) {
			fs_node(child, C_TENANT, dir->id, i);
			return fs_hidden(fs, child->ino) ? -ENOENT : 0;
		}
	return fs_area_lookup(fs, dir->id, AREA_TENANT, name, child);
}

static int tenant_list(struct fs *fs, const struct node *dir, off_t off, struct dir_fill *df)
{
	struct node n;

	for (int i = TS_INBOX; i <= TS_FEEDBACK; i++) {
		if (off >= 2 + i)
			continue;
		fs_node(&n, C_TENANT, dir->id, i);
		if (dir_emit(df, tenant_children[i], &n, NULL, 2 + i))
			return 0;
	}
	return fs_area_list(fs, dir->id, AREA_TENANT, off < OFF_INBOX_BASE ? OFF_INBOX_BASE : off,
			    df);
}

static bool tenant_temp_name(const char *name)
{
	return inbox_name_is_temp(name) || inbox_name_is_probe(name);
}

static int tenant_create(struct fs *fs, const struct node *dir, const char *name, mode_t mode,
			 struct node *child)
{
	struct node fixed;

	if (!tenant_lookup(fs, dir, name, &fixed))
		return -EEXIST;
	if (!tenant_temp_name(name))
		return -EACCES; /* only editors' temporary files live here */
	return fs_area_create(fs, dir->id, AREA_TENANT, name, mode, child);
}

/* A temporary file renamed onto config saves its content as the config
 * (EINVAL and a status line when invalid; the file then stays). */
static int tenant_rename(struct fs *fs, const struct node *dir, const char *name,
			 const struct node *newdir, const char *newname)
{
	struct node child, target;
	char *data = NULL;
	size_t len = 0;
	int rc;

	if ((rc = tenant_lookup(fs, dir, name, &child)))
		return rc;
	if (child.kind != K_INBOX_FILE)
		return -EPERM; /* the fixed entries keep their names */
	if (newdir->kind != K_TENANT || newdir->id != dir->id)
		return -EXDEV;
	if (!tenant_temp_name(newname)) {
		if (tenant_lookup(fs, dir, newname, &target) || target.sub != TS_CONFIG)
			return -EPERM;
		if (!(rc = store_inbox_data_read(fs->store, child.id, &data, &len)) &&
		    !(rc = fs_config_write(fs, dir->id, data ? data : "", len)))
			rc = inbox_unlink(fs->core, child.id);
		free(data);
		return rc;
	}
	return fs_area_rename(fs, dir->id, AREA_TENANT, name, newdir, newname);
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
	if (child.kind == K_INBOX_FILE || child.kind == K_INBOX_ERROR || child.kind == K_STATUS ||
	    child.kind == K_CONFIG || child.kind == K_FEEDBACK)
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
	if (child.kind == K_INBOX_FILE || child.kind == K_INBOX_ERROR)
		return fs_area_unlink(fs, dir->id, AREA_TENANT, name);
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
	fs_stat_dir(fs, n, n->id, st, t.ctime, n->sub == TS_TICKETS ? 1 : 2);
	return 0;
}

/* chmod and chown of a tenant: stored, and what every node under it shows
 * (fs.h); the kernel checks who may (default_permissions). */
static int tenant_setattr(struct fs *fs, const struct node *n, struct stat *st, int to_set)
{
	const int perm = FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID;
	struct tenant_perm p;
	int rc;

	if (to_set & FUSE_SET_ATTR_SIZE)
		return -EISDIR;
	if (!(to_set & perm))
		return 0; /* times are derived: accept touch */
	if ((rc = fs_tenant_perm(fs, n->id, &p)))
		return rc;
	if (to_set & FUSE_SET_ATTR_MODE)
		p.mode = st->st_mode & 07777;
	if (to_set & FUSE_SET_ATTR_UID)
		p.uid = st->st_uid;
	if (to_set & FUSE_SET_ATTR_GID)
		p.gid = st->st_gid;
	if (!(rc = store_tenant_attr_set(fs->store, n->id, p.mode, p.uid, p.gid)))
		fs_tenant_perm_set(fs, &p);
	return rc;
}

const struct node_ops fs_tenant_ops = {
	.getattr = tenant_getattr,
	.setattr = tenant_setattr,
	.create = tenant_create,
	.rename = tenant_rename,
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
	return fs_stat_content(fs, n, n->id, st, mtime > t.ctime ? mtime : t.ctime, 0444);
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
		fs_stat_file(fs, n, n->id, st, mtime > t.ctime ? mtime : t.ctime, (off_t)sb.len,
			     0666);
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
