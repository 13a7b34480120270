/* fs_queries.c - TENANT/queries/: write a question to NAME, read the
 * answer from NAME and the machine-readable result from NAME.json
 * (query.h has the format). The files are inbox-area files (inbox.h):
 * the flush of a written NAME runs the query and stores the answer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

static int queries_lookup(struct fs *fs, const struct node *dir, const char *name,
			  struct node *child)
{
	return fs_area_lookup(fs, dir->id, AREA_QUERY, name, child);
}

static int queries_list(struct fs *fs, const struct node *dir, off_t off, struct dir_fill *df)
{
	return fs_area_list(fs, dir->id, AREA_QUERY, off, df);
}

static int queries_create(struct fs *fs, const struct node *dir, const char *name, mode_t mode,
			  struct node *child)
{
	int rc = fs_area_create(fs, dir->id, AREA_QUERY, name, mode, child);

	if (!rc)
		fs_unhide_range(fs, fs_ino(C_INBOX, child->id, IS_QUERY_JSON),
				fs_ino(C_INBOX, child->id, IS_QUERY_JSON));
	return rc;
}

static int queries_unlink(struct fs *fs, const struct node *dir, const char *name)
{
	struct node child;
	int rc;

	if ((rc = queries_lookup(fs, dir, name, &child)))
		return rc;
	if (child.sub == IS_QUERY)
		return inbox_unlink(fs->core, child.id);
	if (fs_hidden(fs, child.ino))
		return -ENOENT;
	/* NAME.json is a view of NAME: removing it hides it until NAME is
	 * written again ("rm -r queries" removes it first). */
	fs_hide(fs, child.ino);
	return 0;
}

static int queries_rename(struct fs *fs, const struct node *dir, const char *name,
			  const struct node *newdir, const char *newname)
{
	return fs_area_rename(fs, dir->id, AREA_QUERY, name, newdir, newname);
}

static int queries_rmdir(struct fs *fs, const struct node *dir, const char *name)
{
	struct node child;

	return queries_lookup(fs, dir, name, &child) ? -ENOENT : -ENOTDIR;
}

const struct node_ops fs_queries_ops = {
	.getattr = fs_tenant_subdir_getattr,
	.lookup = queries_lookup,
	.list = queries_list,
	.create = queries_create,
	.unlink = queries_unlink,
	.rename = queries_rename,
	.rmdir = queries_rmdir,
};

/* ---- NAME and NAME.json ---------------------------------------------------
 * NAME: while being written its current content; once run the answer;
 * else (a temporary name, never run) what was written. NAME.json: the
 * JSON result, read-only, present once run. */

static int query_getattr(struct fs *fs, const struct node *n, struct stat *st)
{
	struct inbox_row r;
	int64_t size, text, json;
	int rc;

	if ((rc = store_inbox_get(fs->store, n->id, &r)))
		return rc;
	rc = store_answer_size(fs->store, n->id, &text, &json);
	if (n->sub == IS_QUERY_JSON) {
		if (!rc)
			fs_stat_file(fs, n, st, r.mtime, json, 0444);
	} else {
		if (!inbox_open_size(fs->core, n->id, &size))
			size = rc ? r.size : text;
		fs_stat_file(fs, n, st, r.mtime, size, r.mode & 0777);
		rc = 0;
	}
	inbox_row_clear(&r);
	return rc;
}

static int query_content(struct fs *fs, const struct node *n, char **buf, size_t *len)
{
	bool json = n->sub == IS_QUERY_JSON;
	int rc;

	rc = json ? store_answer_get(fs->store, n->id, NULL, NULL, buf, len) :
		    store_answer_get(fs->store, n->id, buf, len, NULL, NULL);
	if (rc == -ENOENT && !json)
		rc = store_inbox_data_read(fs->store, n->id, buf, len);
	if (rc == -ENOENT && !json) {
		*buf = strdup("");
		*len = 0;
		rc = *buf ? 0 : -ENOMEM;
	}
	return rc;
}

static int query_open(struct fs *fs, const struct node *n, int flags, int64_t *id)
{
	*id = n->id;
	fs_unhide_range(fs, fs_ino(C_INBOX, n->id, IS_QUERY_JSON),
			fs_ino(C_INBOX, n->id, IS_QUERY_JSON));
	return inbox_open(fs->core, n->id, (flags & O_TRUNC) != 0);
}

static int query_setattr(struct fs *fs, const struct node *n, struct stat *st, int to_set)
{
	return fs_inbox_file_ops.setattr(fs, n, st, to_set);
}

const struct node_ops fs_query_ops = {
	.getattr = query_getattr,
	.content = query_content,
	.open = query_open,
	.setattr = query_setattr,
};

const struct node_ops fs_query_json_ops = {
	.getattr = query_getattr,
	.content = query_content,
};
