/* fs_kb.c - TENANT/kb/: knowledge-base articles as SLUG.md, plus files
 * being copied in (handled like inbox files, fs_inbox.c). Writing over
 * SLUG.md replaces the article (in place, or a file renamed over it);
 * renaming it moves its text to the new name; removing it deletes it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

/* "guide.md" -> article slug "guide"; NULL when not an article name. */
static char *article_slug(const char *name)
{
	size_t n = strlen(name);

	if (n <= 3 || strcmp(name + n - 3, ".md"))
		return NULL;
	return strndup(name, n - 3);
}

static int kb_lookup(struct fs *fs, const struct node *dir, const char *name, struct node *child)
{
	struct doc_row d;
	char *slug;
	int rc;

	rc = fs_area_lookup(fs, dir->id, AREA_KB, name, child);
	if (rc != -ENOENT)
		return rc;
	if (!(slug = article_slug(name)))
		return -ENOENT;
	rc = store_doc_find(fs->store, dir->id, DOC_ARTICLE, slug, &d);
	free(slug);
	if (rc)
		return rc;
	fs_node(child, C_DOC, d.id, ARTICLE_SUB);
	doc_row_clear(&d);
	return 0;
}

struct kb_list {
	struct fs *fs;
	struct dir_fill *df;
	int64_t last;
	int rows, full;
};

static int kb_list_one(void *ctx, const struct doc_row *d)
{
	struct kb_list *l = ctx;
	struct stat st;
	struct node n;
	char *name;
	int stop;

	l->rows++;
	if (!(name = malloc(strlen(d->name) + 4)))
		return -ENOMEM;
	strcpy(name, d->name);
	strcat(name, ".md");
	fs_node(&n, C_DOC, d->id, ARTICLE_SUB);
	fs_stat_file(l->fs, &n, d->tenant_id, &st, d->mtime, d->size_md, 0666);
	stop = dir_emit(l->df, name, &n, &st, 16 + d->id);
	free(name);
	if (stop) {
		l->full = 1;
		return 1;
	}
	l->last = d->id;
	return 0;
}

static int kb_list(struct fs *fs, const struct node *dir, off_t off, struct dir_fill *df)
{
	struct kb_list l = { fs, df, off < 16 ? 0 : off - 16, 0, 0 };
	int rc = 0;

	if (off < OFF_INBOX_BASE) {
		do {
			l.rows = 0;
			rc = store_doc_list(fs->store, dir->id, DOC_ARTICLE, l.last, 512,
					    kb_list_one, &l);
		} while (rc == 0 && !l.full && l.rows == 512);
		if (rc < 0 || l.full)
			return rc < 0 ? rc : 0;
		off = OFF_INBOX_BASE;
	}
	return fs_area_list(fs, dir->id, AREA_KB, off, df);
}

static int kb_create(struct fs *fs, const struct node *dir, const char *name, mode_t mode,
		     struct node *child)
{
	return fs_area_create(fs, dir->id, AREA_KB, name, mode, child);
}

static int kb_unlink(struct fs *fs, const struct node *dir, const char *name)
{
	struct node child;
	int rc;

	if ((rc = kb_lookup(fs, dir, name, &child)))
		return rc;
	if (child.kind != K_ARTICLE)
		return fs_area_unlink(fs, dir->id, AREA_KB, name);
	if ((rc = store_doc_delete(fs->store, child.id)))
		return rc;
	store_counter_add(fs->store, dir->id, CNT_DELETED, 1);
	return 0;
}

/* Renaming an article moves its text to a kb file of the new name, as if
 * it had been copied in under that name: a final name is ingested (the
 * article of that slug), a temporary one (an editor's backup, "NAME~") is
 * kept as it is; the article itself goes. So vim and emacs, which rename
 * the file to its backup name and write a new one, work, and nothing is
 * lost: a rejected text stays, with its NAME.error. */
static int article_rename(struct fs *fs, const struct node *dir, const struct node *art,
			  const struct node *newdir, const char *newname)
{
	struct inbox_row r, old;
	char *md = NULL;
	size_t len = 0;
	ssize_t n;
	int rc;

	if (newdir->kind != K_KB_DIR || newdir->id != dir->id)
		return -EXDEV; /* mv falls back to copy and unlink */
	if ((rc = store_doc_read(fs->store, art->id, PART_MD, &md, &len)))
		return rc;
	if (!store_inbox_find(fs->store, dir->id, AREA_KB, newname, &old)) {
		rc = inbox_unlink(fs->core, old.id); /* renamed over */
		inbox_row_clear(&old);
		if (rc)
			goto out;
	}
	if ((rc = store_doc_delete(fs->store, art->id)) ||
	    (rc = inbox_create(fs->core, dir->id, AREA_KB, newname, 0644, &r)))
		goto out;
	n = inbox_write(fs->core, r.id, md, len, 0);
	inbox_release(fs->core, r.id); /* the close: ingested, or kept */
	rc = n < 0 ? (int)n : 0;
	inbox_row_clear(&r);
out:
	free(md);
	return rc;
}

static int kb_rename(struct fs *fs, const struct node *dir, const char *name,
		     const struct node *newdir, const char *newname)
{
	struct node child;
	int rc;

	if ((rc = kb_lookup(fs, dir, name, &child)))
		return rc;
	if (child.kind == K_ARTICLE)
		return strcmp(name, newname) || newdir->ino != dir->ino ?
		       article_rename(fs, dir, &child, newdir, newname) : 0;
	return fs_area_rename(fs, dir->id, AREA_KB, name, newdir, newname);
}

static int kb_rmdir(struct fs *fs, const struct node *dir, const char *name)
{
	struct node child;

	return kb_lookup(fs, dir, name, &child) ? -ENOENT : -ENOTDIR;
}

const struct node_ops fs_kb_ops = {
	.getattr = fs_tenant_subdir_getattr,
	.lookup = kb_lookup,
	.list = kb_list,
	.create = kb_create,
	.unlink = kb_unlink,
	.rename = kb_rename,
	.rmdir = kb_rmdir,
};

/* ---- kb/SLUG.md ------------------------------------------------------------ */

static int article_getattr(struct fs *fs, const struct node *n, struct stat *st)
{
	struct doc_row d;
	int rc;

	if ((rc = store_doc_get(fs->store, n->id, &d)))
		return rc;
	fs_stat_file(fs, n, d.tenant_id, st, d.mtime, d.size_md, 0666);
	doc_row_clear(&d);
	return 0;
}

static ssize_t article_pread(struct fs *fs, const struct node *n, char *buf, size_t size,
			     off_t off)
{
	return store_doc_pread(fs->store, n->id, PART_MD, buf, size, off);
}

/* Opening SLUG.md for writing starts a pending kb file of the same name;
 * closing it re-ingests the article. */
static int article_open(struct fs *fs, const struct node *n, int flags, int64_t *id)
{
	struct inbox_row r;
	struct doc_row d;
	char *name = NULL;
	int rc;

	if ((rc = store_doc_get(fs->store, n->id, &d)))
		return rc;
	if (!(name = malloc(strlen(d.name) + 4))) {
		rc = -ENOMEM;
		goto out;
	}
	strcpy(name, d.name);
	strcat(name, ".md");
	rc = store_inbox_find(fs->store, d.tenant_id, AREA_KB, name, &r);
	if (!rc) {
		*id = r.id;
		inbox_row_clear(&r);
		rc = inbox_open(fs->core, *id, flags & O_TRUNC);
		goto out;
	}
	if ((rc = inbox_create(fs->core, d.tenant_id, AREA_KB, name, 0644, &r)))
		goto out;
	*id = r.id;
	inbox_row_clear(&r);
	if (!(flags & O_TRUNC)) {
		/* write in place: start from the current text */
		char *buf;
		size_t len;
		if (!(rc = store_doc_read(fs->store, n->id, PART_MD, &buf, &len))) {
			rc = inbox_seed(fs->core, *id, buf, len);
			free(buf);
		}
		if (rc) {
			inbox_release(fs->core, *id);
			inbox_unlink(fs->core, *id);
		}
	}
out:
	free(name);
	doc_row_clear(&d);
	return rc;
}

/* O_TRUNC arrives with open; a separate truncate, or a change of mode or
 * owner, is refused. Setting what is there already (an editor restoring
 * the mode and owner of the file it rewrote) is fine. */
static int article_setattr(struct fs *fs, const struct node *n, struct stat *st, int to_set)
{
	struct stat cur;
	int rc;

	if ((rc = article_getattr(fs, n, &cur)))
		return rc;
	if ((to_set & FUSE_SET_ATTR_MODE) && (st->st_mode & 07777) == (cur.st_mode & 07777))
		to_set &= ~FUSE_SET_ATTR_MODE;
	if ((to_set & FUSE_SET_ATTR_UID) && st->st_uid == cur.st_uid)
		to_set &= ~FUSE_SET_ATTR_UID;
	if ((to_set & FUSE_SET_ATTR_GID) && st->st_gid == cur.st_gid)
		to_set &= ~FUSE_SET_ATTR_GID;
	return to_set & ~(FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW |
			  FUSE_SET_ATTR_MTIME_NOW | FUSE_SET_ATTR_CTIME) ? -EPERM : 0;
}

const struct node_ops fs_article_ops = {
	.getattr = article_getattr,
	.pread = article_pread,
	.open = article_open,
	.setattr = article_setattr,
};
