/* fs_inbox.c - TENANT/inbox/: files being copied in, waiting (temporary
 * names) or rejected, each rejected one with a read-only NAME.error. The
 * area helpers serve kb/ (fs_kb.c) and queries/ (fs_queries.c) too. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

/* Each area file may have a read-only companion NAME+suffix, listed
 * before NAME (so "rm -r" meets it first): in inbox/ and kb/ NAME.error
 * while the file is rejected, in queries/ NAME.json once answered. */
struct area_view {
	int file_sub, companion_sub; /* node subs (fs.h enum inbox_sub) */
	const char *suffix;
	bool (*has_companion)(struct fs *fs, const struct inbox_row *r);
};

static bool has_error(struct fs *fs, const struct inbox_row *r)
{
	(void)fs;
	return r->error != NULL;
}

static bool has_answer(struct fs *fs, const struct inbox_row *r)
{
	int64_t text, json;

	return query_queue_pending(fs->core->queries, r->id, NULL) ||
	       !fs_query_answer_size(fs, r->id, &text, &json);
}

static const struct area_view views[] = {
	[AREA_INBOX] = { IS_FILE, IS_ERROR, ".error", has_error },
	[AREA_KB] = { IS_FILE, IS_ERROR, ".error", has_error },
	[AREA_QUERY] = { IS_QUERY, IS_QUERY_JSON, ".json", has_answer },
	[AREA_TENANT] = { IS_FILE, IS_ERROR, ".error", has_error },
};

/* If name is "X" + suffix, returns the length of X, else 0. */
static size_t suffix_base_len(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);

	return n > k && !strcmp(name + n - k, suffix) ? n - k : 0;
}

int fs_area_lookup(struct fs *fs, int64_t tenant, enum inbox_area area, const char *name,
		   struct node *child)
{
	const struct area_view *v = &views[area];
	struct inbox_row r;
	size_t base = suffix_base_len(name, v->suffix);
	int rc;

	rc = store_inbox_find(fs->store, tenant, area, name, &r);
	if (!rc) {
		fs_node(child, C_INBOX, r.id, v->file_sub);
		inbox_row_clear(&r);
		return 0;
	}
	if (rc != -ENOENT || !base)
		return rc;
	char *file = strndup(name, base);
	if (!file)
		return -ENOMEM;
	rc = store_inbox_find(fs->store, tenant, area, file, &r);
	free(file);
	if (rc)
		return rc;
	rc = v->has_companion(fs, &r) ? 0 : -ENOENT;
	fs_node(child, C_INBOX, r.id, v->companion_sub);
	inbox_row_clear(&r);
	return rc;
}

struct area_list {
	struct fs *fs;
	const struct area_view *v;
	struct dir_fill *df;
	off_t off;
	int64_t last;
	int rows, full;
};

static int area_list_one(void *ctx, const struct inbox_row *r)
{
	struct area_list *l = ctx;
	off_t base = OFF_INBOX_BASE + (off_t)r->id * 2;
	struct node n;

	l->rows++;
	l->last = r->id;
	if (l->off < base + 1 && l->v->has_companion(l->fs, r)) {
		char *name = malloc(strlen(r->name) + strlen(l->v->suffix) + 1);
		int stop;
		if (!name)
			return -ENOMEM;
		strcpy(name, r->name);
		strcat(name, l->v->suffix);
		fs_node(&n, C_INBOX, r->id, l->v->companion_sub);
		stop = dir_emit(l->df, name, &n, NULL, base + 1);
		free(name);
		if (stop)
			goto full;
	}
	if (l->off < base + 2) {
		fs_node(&n, C_INBOX, r->id, l->v->file_sub);
		if (dir_emit(l->df, r->name, &n, NULL, base + 2))
			goto full;
	}
	return 0;
full:
	l->full = 1;
	return 1;
}

int fs_area_list(struct fs *fs, int64_t tenant, enum inbox_area area, off_t off,
		 struct dir_fill *df)
{
	struct area_list l = { fs, &views[area], df, off, 0, 0, 0 };
	int rc;

	if (off >= OFF_INBOX_BASE)
		l.last = (off - OFF_INBOX_BASE) / 2 - 1;
	if (l.last < 0)
		l.last = 0;
	do {
		l.rows = 0;
		rc = store_inbox_list(fs->store, tenant, area, l.last, 256, area_list_one, &l);
	} while (rc == 0 && !l.full && l.rows == 256);
	return rc < 0 ? rc : 0;
}

int fs_area_create(struct fs *fs, int64_t tenant, enum inbox_area area, const char *name,
		   mode_t mode, struct node *child)
{
	struct inbox_row r;
	int rc;

	if (suffix_base_len(name, views[area].suffix))
		return -EPERM; /* companion names are deskfs's own */
	rc = inbox_create(fs->core, tenant, area, name, mode & 0777, &r);
	if (rc)
		return rc;
	fs_node(child, C_INBOX, r.id, views[area].file_sub);
	inbox_row_clear(&r);
	return 0;
}

int fs_area_unlink(struct fs *fs, int64_t tenant, enum inbox_area area, const char *name)
{
	struct inbox_row r;
	struct node child;
	int rc;

	if ((rc = fs_area_lookup(fs, tenant, area, name, &child)))
		return rc;
	if (child.sub == views[area].file_sub)
		return inbox_unlink(fs->core, child.id);
	/* Removing NAME.error dismisses the message; the file stays. */
	if ((rc = store_inbox_get(fs->store, child.id, &r)))
		return rc;
	free(r.error);
	r.error = NULL;
	rc = store_inbox_update(fs->store, &r);
	inbox_row_clear(&r);
	return rc;
}

int fs_area_rename(struct fs *fs, int64_t tenant, enum inbox_area area, const char *name,
		   const struct node *newdir, const char *newname)
{
	struct node child;
	int rc;

	if ((rc = fs_area_lookup(fs, tenant, area, name, &child)))
		return rc;
	if (child.sub != views[area].file_sub || suffix_base_len(newname, views[area].suffix))
		return -EPERM;
	if (newdir->kind != (area == AREA_INBOX ? K_INBOX_DIR : area == AREA_KB ? K_KB_DIR :
			     K_QUERIES_DIR) || newdir->id != tenant)
		return -EXDEV;
	return inbox_rename(fs->core, child.id, newname);
}

static int inbox_dir_lookup(struct fs *fs, const struct node *dir, const char *name,
			    struct node *child)
{
	return fs_area_lookup(fs, dir->id, AREA_INBOX, name, child);
}

static int inbox_dir_list(struct fs *fs, const struct node *dir, off_t off, struct dir_fill *df)
{
	return fs_area_list(fs, dir->id, AREA_INBOX, off, df);
}

static int inbox_dir_create(struct fs *fs, const struct node *dir, const char *name, mode_t mode,
			    struct node *child)
{
	return fs_area_create(fs, dir->id, AREA_INBOX, name, mode, child);
}

static int inbox_dir_unlink(struct fs *fs, const struct node *dir, const char *name)
{
	return fs_area_unlink(fs, dir->id, AREA_INBOX, name);
}

static int inbox_dir_rename(struct fs *fs, const struct node *dir, const char *name,
			    const struct node *newdir, const char *newname)
{
	return fs_area_rename(fs, dir->id, AREA_INBOX, name, newdir, newname);
}

static int inbox_dir_rmdir(struct fs *fs, const struct node *dir, const char *name)
{
	struct node child;

	return inbox_dir_lookup(fs, dir, name, &child) ? -ENOENT : -ENOTDIR;
}

const struct node_ops fs_inbox_ops = {
	.getattr = fs_tenant_subdir_getattr,
	.lookup = inbox_dir_lookup,
	.list = inbox_dir_list,
	.create = inbox_dir_create,
	.unlink = inbox_dir_unlink,
	.rename = inbox_dir_rename,
	.rmdir = inbox_dir_rmdir,
};

/* ---- the files ---------------------------------------------------------- */

static int file_getattr(struct fs *fs, const struct node *n, struct stat *st)
{
	struct inbox_row r;
	int64_t size;
	int rc;

	if ((rc = store_inbox_get(fs->store, n->id, &r)))
		return rc;
	if (inbox_size(fs->core, n->id, &size))
		size = r.size;
	fs_stat_file(fs, n, r.tenant_id, st, r.mtime, size, r.mode & 0777);
	inbox_row_clear(&r);
	return 0;
}

static int file_open(struct fs *fs, const struct node *n, int flags, int64_t *id)
{
	*id = n->id;
	return inbox_open(fs->core, n->id, (flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY);
}

static int file_setattr(struct fs *fs, const struct node *n, struct stat *st, int to_set)
{
	struct inbox_row r;
	int rc;

	if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))
		return -EPERM;
	if ((to_set & FUSE_SET_ATTR_SIZE) && (rc = inbox_truncate(fs->core, n->id, st->st_size)))
		return rc;
	if (!(to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW)))
		return 0;
	if ((rc = store_inbox_get(fs->store, n->id, &r)))
		return rc;
	if (to_set & FUSE_SET_ATTR_MODE)
		r.mode = st->st_mode & 0777;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		r.mtime = time(NULL);
	else if (to_set & FUSE_SET_ATTR_MTIME)
		r.mtime = st->st_mtime;
	rc = store_inbox_update(fs->store, &r);
	inbox_row_clear(&r);
	return rc;
}

const struct node_ops fs_inbox_file_ops = {
	.getattr = file_getattr,
	.open = file_open,
	.setattr = file_setattr,
};

static int error_content(struct fs *fs, const struct node *n, char **buf, size_t *len)
{
	struct inbox_row r;
	int rc;

	if ((rc = store_inbox_get(fs->store, n->id, &r)))
		return rc;
	if (!r.error) {
		inbox_row_clear(&r);
		return -ENOENT;
	}
	*buf = r.error;
	*len = strlen(r.error);
	r.error = NULL;
	inbox_row_clear(&r);
	return 0;
}

static int error_getattr(struct fs *fs, const struct node *n, struct stat *st)
{
	struct inbox_row r;
	int rc;

	if ((rc = store_inbox_get(fs->store, n->id, &r)))
		return rc;
	rc = r.error ? 0 : -ENOENT;
	if (!rc)
		fs_stat_file(fs, n, r.tenant_id, st, r.mtime, (off_t)strlen(r.error), 0444);
	inbox_row_clear(&r);
	return rc;
}

const struct node_ops fs_inbox_error_ops = {
	.getattr = error_getattr,
	.content = error_content,
};
