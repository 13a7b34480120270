/* fs_tickets.c - TENANT/tickets/, one directory per ticket, and the
 * read-only files in it (ticket.md, ticket.json, source.json, and the
 * job-made summary.md, similar.md, similar.json); TENANT/summaries/. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "copilot.h"
#include "fs.h"

static const char *const part_names[] = {
	[PART_MD] = "ticket.md", [PART_JSON] = "ticket.json", [PART_SOURCE] = "source.json",
	[DV_SUMMARY] = "summary.md", [DV_SIMILAR] = "similar.md", [DV_SIMILAR_JSON] = "similar.json",
};

/* The files of a ticket directory, in listing order. */
static const int ticket_files[] = { PART_MD, PART_JSON, PART_SOURCE, DV_SUMMARY, DV_SIMILAR,
				    DV_SIMILAR_JSON };
#define N_TICKET_FILES (sizeof(ticket_files) / sizeof(ticket_files[0]))

#define LIST_CHUNK 512

static int tickets_lookup(struct fs *fs, const struct node *dir, const char *name,
			  struct node *child)
{
	struct doc_row d;
	int rc;

	if ((rc = store_doc_find(fs->store, dir->id, DOC_TICKET, name, &d)))
		return rc;
	fs_node(child, C_DOC, d.id, 0);
	doc_row_clear(&d);
	return 0;
}

struct doc_list {
	struct fs *fs;
	struct dir_fill *df;
	int64_t last;
	int rows, full;
};

static int tickets_list_one(void *ctx, const struct doc_row *d)
{
	struct doc_list *l = ctx;
	struct stat st;
	struct node n;

	l->rows++;
	fs_node(&n, C_DOC, d->id, 0);
	fs_stat_dir(l->fs, &n, d->tenant_id, &st, d->mtime, 2);
	if (dir_emit(l->df, d->name, &n, &st, 16 + d->id)) {
		l->full = 1;
		return 1;
	}
	l->last = d->id;
	return 0;
}

/* Lists the tenant's tickets from directory offset off (16 + doc id) in
 * chunks, one entry each by one(). */
static int ticket_entries(struct fs *fs, int64_t tenant, off_t off, struct dir_fill *df,
			  doc_cb one)
{
	struct doc_list l = { fs, df, off < 16 ? 0 : off - 16, 0, 0 };
	int rc;

	do {
		l.rows = 0;
		rc = store_doc_list(fs->store, tenant, DOC_TICKET, l.last, LIST_CHUNK, one, &l);
	} while (rc == 0 && !l.full && l.rows == LIST_CHUNK);
	return rc < 0 ? rc : 0;
}

static int tickets_list(struct fs *fs, const struct node *dir, off_t off, struct dir_fill *df)
{
	return ticket_entries(fs, dir->id, off, df, tickets_list_one);
}

static bool ticket_parts_hidden(struct fs *fs, int64_t id)
{
	for (int p = PART_MD; p <= PART_SOURCE; p++)
		if (!fs_hidden(fs, fs_ino(C_DOC, id, p)))
			return false;
	return true;
}

/* rmdir of a ticket directory deletes the ticket once its files are gone
 * (rm -r unlinks them first); a plain rmdir of a full one is ENOTEMPTY. */
static int tickets_rmdir(struct fs *fs, const struct node *dir, const char *name)
{
	struct node child;
	int rc;

	if ((rc = tickets_lookup(fs, dir, name, &child)))
		return rc;
	if (!ticket_parts_hidden(fs, child.id))
		return -ENOTEMPTY;
	if ((rc = store_doc_delete(fs->store, child.id)))
		return rc;
	store_counter_add(fs->store, dir->id, CNT_DELETED, 1);
	fs_unhide_range(fs, fs_ino(C_DOC, child.id, 0), fs_ino(C_DOC, child.id, 15));
	return 0;
}

static int tickets_unlink(struct fs *fs, const struct node *dir, const char *name)
{
	struct node child;

	return tickets_lookup(fs, dir, name, &child) ? -ENOENT : -EISDIR;
}

const struct node_ops fs_tickets_ops = {
	.getattr = fs_tenant_subdir_getattr,
	.lookup = tickets_lookup,
	.list = tickets_list,
	.rmdir = tickets_rmdir,
	.unlink = tickets_unlink,
};

/* ---- one ticket directory -------------------------------------------------- */

static int ticket_getattr(struct fs *fs, const struct node *n, struct stat *st)
{
	struct doc_row d;
	int rc;

	if ((rc = store_doc_get(fs->store, n->id, &d)))
		return rc;
	fs_stat_dir(fs, n, d.tenant_id, st, d.mtime, 2);
	doc_row_clear(&d);
	return 0;
}

static int ticket_lookup(struct fs *fs, const struct node *dir, const char *name,
			 struct node *child)
{
	for (size_t i = 0; i < N_TICKET_FILES; i++)
		if (!strcmp(name, part_names[ticket_files[i]])) {
			fs_node(child, C_DOC, dir->id, ticket_files[i]);
			return fs_hidden(fs, child->ino) ? -ENOENT : 0;
		}
	return -ENOENT;
}

static int ticket_list(struct fs *fs, const struct node *dir, off_t off, struct dir_fill *df)
{
	struct node n;

	(void)fs;
	for (size_t i = 0; i < N_TICKET_FILES; i++) {
		if (off >= 3 + (off_t)i)
			continue;
		fs_node(&n, C_DOC, dir->id, ticket_files[i]);
		if (fs_hidden(fs, n.ino))
			continue;
		if (dir_emit(df, part_names[ticket_files[i]], &n, NULL, 3 + (off_t)i))
			break;
	}
	return 0;
}

/* The files are views of one document: unlinking one hides it (so that
 * rm -r works); the ticket itself goes with the directory. */
static int ticket_unlink(struct fs *fs, const struct node *dir, const char *name)
{
	struct node child;
	int rc;

	if ((rc = ticket_lookup(fs, dir, name, &child)))
		return rc;
	fs_hide(fs, child.ino);
	return 0;
}

const struct node_ops fs_ticket_ops = {
	.getattr = ticket_getattr,
	.lookup = ticket_lookup,
	.list = ticket_list,
	.unlink = ticket_unlink,
};

static int part_getattr(struct fs *fs, const struct node *n, struct stat *st)
{
	struct doc_row d;
	int64_t size;
	int rc;

	if ((rc = store_doc_get(fs->store, n->id, &d)))
		return rc;
	size = n->sub == PART_MD ? d.size_md : n->sub == PART_JSON ? d.size_json : d.size_source;
	fs_stat_file(fs, n, d.tenant_id, st, d.mtime, size, 0444);
	doc_row_clear(&d);
	return 0;
}

static ssize_t part_pread(struct fs *fs, const struct node *n, char *buf, size_t size, off_t off)
{
	return store_doc_pread(fs->store, n->id, (enum doc_part)n->sub, buf, size, off);
}

const struct node_ops fs_ticket_part_ops = {
	.getattr = part_getattr,
	.pread = part_pread,
};

/* ---- summary.md, similar.md, similar.json: rendered from stored results ---- */

static int view_render(struct fs *fs, const struct node *n, bool body, struct copilot_file *f)
{
	if (n->sub == DV_SUMMARY)
		return copilot_summary_md(fs->store, n->id, body, f);
	return copilot_similar(fs->store, n->id, n->sub == DV_SIMILAR_JSON, body, f);
}

static int view_content(struct fs *fs, const struct node *n, char **buf, size_t *len)
{
	struct copilot_file f;
	int rc = view_render(fs, n, true, &f);

	if (!rc) {
		*buf = f.body;
		*len = f.len;
	}
	return rc;
}

static int view_getattr(struct fs *fs, const struct node *n, struct stat *st)
{
	struct copilot_file f;
	int rc = view_render(fs, n, false, &f);

	if (!rc)
		fs_stat_file(fs, n, f.tenant_id, st, (time_t)f.mtime, (off_t)f.len, 0444);
	return rc;
}

const struct node_ops fs_ticket_view_ops = {
	.getattr = view_getattr,
	.content = view_content,
};

/* ---- TENANT/summaries/: NAME.md for every ticket, the ticket's summary.md -- */

static int summaries_lookup(struct fs *fs, const struct node *dir, const char *name,
			    struct node *child)
{
	size_t n = strlen(name);
	struct doc_row d;
	char *ticket;
	int rc;

	if (n <= 3 || strcmp(name + n - 3, ".md") || !(ticket = strndup(name, n - 3)))
		return n <= 3 || strcmp(name + n - 3, ".md") ? -ENOENT : -ENOMEM;
	rc = store_doc_find(fs->store, dir->id, DOC_TICKET, ticket, &d);
	free(ticket);
	if (rc)
		return rc;
	fs_node(child, C_DOC, d.id, DV_SUMMARY);
	doc_row_clear(&d);
	return 0;
}

static int summaries_list_one(void *ctx, const struct doc_row *d)
{
	struct doc_list *l = ctx;
	struct node n;
	char *name = malloc(strlen(d->name) + 4);

	if (!name)
		return -ENOMEM;
	l->rows++;
	sprintf(name, "%s.md", d->name);
	fs_node(&n, C_DOC, d->id, DV_SUMMARY);
	int full = dir_emit(l->df, name, &n, NULL, 16 + d->id);
	free(name);
	if (full) {
		l->full = 1;
		return 1;
	}
	l->last = d->id;
	return 0;
}

static int summaries_list(struct fs *fs, const struct node *dir, off_t off, struct dir_fill *df)
{
	return ticket_entries(fs, dir->id, off, df, summaries_list_one);
}

const struct node_ops fs_summaries_ops = {
	.getattr = fs_tenant_subdir_getattr,
	.lookup = summaries_lookup,
	.list = summaries_list,
};
