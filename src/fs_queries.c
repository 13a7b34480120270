/* fs_queries.c - TENANT/queries/: write a question to NAME, read the
 * answer from NAME and the machine-readable result from NAME.json
 * (query.h has the format). The files are inbox-area files (inbox.h):
 * the flush of a written NAME runs the query and stores the answer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

#define JSON_SUFFIX ".json"

/* If name is "X.json", returns the length of X, else 0. */
static size_t json_base_len(const char *name)
{
	size_t n = strlen(name), k = strlen(JSON_SUFFIX);

	return n > k && !strcmp(name + n - k, JSON_SUFFIX) ? n - k : 0;
}

static bool has_answer(struct fs *fs, int64_t id)
{
	int64_t t, j;

	return !store_answer_size(fs->store, id, &t, &j);
}

static int queries_lookup(struct fs *fs, const struct node *dir, const char *name,
			  struct node *child)
{
	struct inbox_row r;
	size_t base = json_base_len(name);
	int rc;

	rc = store_inbox_find(fs->store, dir->id, AREA_QUERY, name, &r);
	if (!rc) {
		fs_node(child, C_INBOX, r.id, IS_QUERY);
		inbox_row_clear(&r);
		return 0;
	}
	if (rc != -ENOENT || !base)
		return rc;
	char *file = strndup(name, base);
	if (!file)
		return -ENOMEM;
	rc = store_inbox_find(fs->store, dir->id, AREA_QUERY, file, &r);
	free(file);
	if (rc)
		return rc;
	fs_node(child, C_INBOX, r.id, IS_QUERY_JSON);
	inbox_row_clear(&r);
	if (!has_answer(fs, child->id) || fs_hidden(fs, child->ino))
		return -ENOENT;
	return 0;
}

struct query_list {
	struct fs *fs;
	struct dir_fill *df;
	off_t off;
	int64_t last;
	int rows, full;
};

/* NAME.json is listed before NAME, so "rm -r" meets it first. */
static int query_list_one(void *ctx, const struct inbox_row *r)
{
	struct query_list *l = ctx;
	off_t base = OFF_INBOX_BASE + (off_t)r->id * 2;
	struct node n;

	l->rows++;
	l->last = r->id;
	if (l->off < base + 1 && has_answer(l->fs, r->id)) {
		char *name = malloc(strlen(r->name) + sizeof(JSON_SUFFIX));
		int stop;
		if (!name)
			return -ENOMEM;
		strcpy(name, r->name);
		strcat(name, JSON_SUFFIX);
		fs_node(&n, C_INBOX, r->id, IS_QUERY_JSON);
		stop = dir_emit(l->df, name, &n, NULL, base + 1);
		free(name);
		if (stop)
			goto full;
	}
	if (l->off < base + 2) {
		fs_node(&n, C_INBOX, r->id, IS_QUERY);
		if (dir_emit(l->df, r->name, &n, NULL, base + 2))
			goto full;
	}
	return 0;
full:
	l->full = 1;
	return 1;
}

static int queries_list(struct fs *fs, const struct node *dir, off_t off, struct dir_fill *df)
{
	struct query_list l = { fs, df, off, 0, 0, 0 };
	int rc;

	if (off >= OFF_INBOX_BASE)
		l.last = (off - OFF_INBOX_BASE) / 2 - 1;
	if (l.last < 0)
		l.last = 0;
	do {
		l.rows = 0;
		rc = store_inbox_list(fs->store, dir->id, AREA_QUERY, l.last, 256, query_list_one,
				      &l);
	} while (rc == 0 && !l.full && l.rows == 256);
	return rc < 0 ? rc : 0;
}

static int queries_create(struct fs *fs, const struct node *dir, const char *name, mode_t mode,
			  struct node *child)
{
	int rc;

	if (json_base_len(name))
		return -EPERM; /* NAME.json is deskfs's own */
	if ((rc = fs_area_create(fs, dir->id, AREA_QUERY, name, mode, child)))
		return rc;
	fs_node(child, C_INBOX, child->id, IS_QUERY);
	fs_unhide_range(fs, fs_ino(C_INBOX, child->id, IS_QUERY_JSON),
			fs_ino(C_INBOX, child->id, IS_QUERY_JSON));
	return 0;
}

static int queries_unlink(struct fs *fs, const struct node *dir, const char *name)
{
	struct node child;
	int rc;

	if ((rc = queries_lookup(fs, dir, name, &child)))
		return rc;
	if (child.sub == IS_QUERY)
		return inbox_unlink(fs->core, child.id);
	/* NAME.json is a view of NAME: removing it hides it until NAME is
	 * written again ("rm -r queries" removes it first). */
	fs_hide(fs, child.ino);
	return 0;
}

static int queries_rename(struct fs *fs, const struct node *dir, const char *name,
			  const struct node *newdir, const char *newname)
{
	if (json_base_len(name) || json_base_len(newname))
		return -EPERM;
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

/* ---- NAME: the answer when there is one, else what was written -------- */

static int query_getattr(struct fs *fs, const struct node *n, struct stat *st)
{
	struct inbox_row r;
	int64_t size, jsize;
	int rc;

	if ((rc = store_inbox_get(fs->store, n->id, &r)))
		return rc;
	/* being written: its current content; answered: the answer */
	if (!inbox_open_size(fs->core, n->id, &size) &&
	    store_answer_size(fs->store, n->id, &size, &jsize))
		size = r.size;
	fs_stat_file(fs, n, st, r.mtime, size, r.mode & 0777);
	inbox_row_clear(&r);
	return 0;
}

static int answer_part(struct fs *fs, const struct node *n, bool json, char **buf, size_t *len)
{
	int rc;

	rc = json ? store_answer_get(fs->store, n->id, NULL, NULL, buf, len) :
		    store_answer_get(fs->store, n->id, buf, len, NULL, NULL);
	if (rc == -ENOENT && !json) /* not run (a temporary name): what was written */
		rc = store_inbox_data_read(fs->store, n->id, buf, len);
	if (rc == -ENOENT && !json) {
		*buf = strdup("");
		*len = 0;
		rc = *buf ? 0 : -ENOMEM;
	}
	return rc;
}

static int query_content(struct fs *fs, const struct node *n, char **buf, size_t *len)
{
	return answer_part(fs, n, false, buf, len);
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

static int query_json_getattr(struct fs *fs, const struct node *n, struct stat *st)
{
	struct inbox_row r;
	int64_t size, jsize;
	int rc;

	if ((rc = store_inbox_get(fs->store, n->id, &r)))
		return rc;
	rc = store_answer_size(fs->store, n->id, &size, &jsize);
	if (!rc)
		fs_stat_file(fs, n, st, r.mtime, jsize, 0444);
	inbox_row_clear(&r);
	return rc;
}

static int query_json_content(struct fs *fs, const struct node *n, char **buf, size_t *len)
{
	return answer_part(fs, n, true, buf, len);
}

const struct node_ops fs_query_json_ops = {
	.getattr = query_json_getattr,
	.content = query_json_content,
};
