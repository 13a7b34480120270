/* fs.c - the FUSE low-level operations table and the routing of every
 * request to the file that owns the node's subtree (routes[] below). */
#include "fs.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "strbuf.h"
#include "util.h"

static const struct node_ops *const routes[K__COUNT] = {
	[K_ROOT] = &fs_root_ops,
	[K_README] = &fs_readme_ops,
	[K_TENANT] = &fs_tenant_ops,
	[K_INBOX_DIR] = &fs_inbox_ops,
	[K_TICKETS_DIR] = &fs_tickets_ops,
	[K_KB_DIR] = &fs_kb_ops,
	[K_STATUS] = &fs_status_ops,
	[K_CONFIG] = &fs_config_ops,
	[K_TICKET_DIR] = &fs_ticket_ops,
	[K_TICKET_PART] = &fs_ticket_part_ops,
	[K_ARTICLE] = &fs_article_ops,
	[K_INBOX_FILE] = &fs_inbox_file_ops,
	[K_INBOX_ERROR] = &fs_inbox_error_ops,
	[K_QUERIES_DIR] = &fs_queries_ops,
	[K_QUERY_FILE] = &fs_query_ops,
	[K_QUERY_JSON] = &fs_query_json_ops,
	[K_DESKFS_DIR] = &fs_deskfs_ops,
	[K_METRICS] = &fs_metrics_ops,
	[K_SUMMARIES_DIR] = &fs_summaries_ops,
	[K_TICKET_VIEW] = &fs_ticket_view_ops,
	[K_FEEDBACK] = &fs_feedback_ops,
};

#define ID_BITS 52

fuse_ino_t fs_ino(enum ino_class cls, int64_t id, int sub)
{
	if (cls == C_ROOT)
		return FUSE_ROOT_ID;
	return ((fuse_ino_t)cls << 56) | ((fuse_ino_t)id << 4) | (fuse_ino_t)sub;
}

void fs_node(struct node *n, enum ino_class cls, int64_t id, int sub)
{
	static const enum node_kind tenant_kinds[] = { K_TENANT, K_INBOX_DIR, K_TICKETS_DIR,
						       K_KB_DIR, K_STATUS, K_QUERIES_DIR, K_CONFIG,
						       K_SUMMARIES_DIR, K_FEEDBACK };
	static const enum node_kind inbox_kinds[] = { K_INBOX_FILE, K_INBOX_ERROR, K_QUERY_FILE,
						      K_QUERY_JSON };
	static const enum node_kind deskfs_kinds[] = { K_DESKFS_DIR, K_METRICS };
	n->id = id;
	n->sub = sub;
	n->ino = fs_ino(cls, id, sub);
	switch (cls) {
	case C_ROOT: n->kind = K_ROOT; break;
	case C_ROOTFILE: n->kind = K_README; break;
	case C_TENANT: n->kind = sub <= TS_FEEDBACK ? tenant_kinds[sub] : K__COUNT; break;
	case C_DOC:
		n->kind = sub == 0 ? K_TICKET_DIR : sub == ARTICLE_SUB ? K_ARTICLE :
			  sub <= 3 ? K_TICKET_PART :
			  sub >= DV_SUMMARY && sub <= DV_SIMILAR_JSON ? K_TICKET_VIEW : K__COUNT;
		break;
	case C_INBOX: n->kind = sub <= IS_QUERY_JSON ? inbox_kinds[sub] : K__COUNT; break;
	case C_DESKFS: n->kind = !id && sub <= DS_METRICS ? deskfs_kinds[sub] : K__COUNT; break;
	default: n->kind = K__COUNT;
	}
}

/* Decodes an inode number; -ENOENT for numbers we never hand out. */
static int node_decode(fuse_ino_t ino, struct node *n)
{
	if (ino == FUSE_ROOT_ID) {
		fs_node(n, C_ROOT, 0, 0);
		return 0;
	}
	fs_node(n, (enum ino_class)(ino >> 56), (int64_t)((ino >> 4) & ((1ULL << ID_BITS) - 1)),
		(int)(ino & 0xf));
	return n->kind == K__COUNT ? -ENOENT : 0;
}

static struct fs *req_fs(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

int fs_tenant_perm(struct fs *fs, int64_t tenant, struct tenant_perm *out)
{
	struct tenant_row t;
	int rc = 0;

	pthread_mutex_lock(&fs->perm_lock);
	for (size_t i = 0; i < fs->n_perms; i++)
		if (fs->perms[i].id == tenant) {
			*out = fs->perms[i];
			goto out;
		}
	pthread_mutex_unlock(&fs->perm_lock);
	if ((rc = store_tenant_get(fs->store, tenant, &t)))
		return rc;
	*out = (struct tenant_perm){ tenant, t.mode & 07777 ? t.mode & 07777 : 0755, t.uid, t.gid };
	fs_tenant_perm_set(fs, out);
	return 0;
out:
	pthread_mutex_unlock(&fs->perm_lock);
	return rc;
}

void fs_tenant_perm_set(struct fs *fs, const struct tenant_perm *p)
{
	pthread_mutex_lock(&fs->perm_lock);
	for (size_t i = 0; i < fs->n_perms; i++)
		if (fs->perms[i].id == p->id) {
			fs->perms[i] = *p;
			goto out;
		}
	if (fs->n_perms == fs->cap_perms) {
		size_t cap = fs->cap_perms ? fs->cap_perms * 2 : 16;
		struct tenant_perm *np = realloc(fs->perms, cap * sizeof(*np));
		if (!np)
			goto out; /* not cached: read from the store next time */
		fs->perms = np;
		fs->cap_perms = cap;
	}
	fs->perms[fs->n_perms++] = *p;
out:
	pthread_mutex_unlock(&fs->perm_lock);
}

/* Owner and permission bits of a node of tenant (0: the mount's own,
 * directories 0755, files the mode given). */
static void stat_perm(struct fs *fs, int64_t tenant, struct stat *st, mode_t type, mode_t mode)
{
	struct tenant_perm p = { 0, 0, fs->uid, fs->gid }; /* a tenant going: no bits */

	if (!tenant) {
		mode = type == S_IFDIR ? 0755 : mode & 0777;
	} else {
		fs_tenant_perm(fs, tenant, &p);
		mode = type == S_IFDIR ? p.mode & 0777 : mode & p.mode & 0666;
	}
	st->st_uid = p.uid;
	st->st_gid = p.gid;
	st->st_mode = type | mode;
}

void fs_stat_dir(struct fs *fs, const struct node *n, int64_t tenant, struct stat *st,
		 time_t mtime, nlink_t nlink)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = n->ino;
	stat_perm(fs, tenant, st, S_IFDIR, 0);
	st->st_nlink = nlink;
	st->st_size = 4096;
	st->st_blksize = 4096;
	st->st_blocks = 8;
	st->st_mtime = st->st_ctime = st->st_atime = mtime;
}

void fs_stat_file(struct fs *fs, const struct node *n, int64_t tenant, struct stat *st,
		  time_t mtime, off_t size, mode_t mode)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = n->ino;
	stat_perm(fs, tenant, st, S_IFREG, mode);
	st->st_nlink = 1;
	st->st_size = size;
	st->st_blksize = 4096;
	st->st_blocks = (size + 511) / 512;
	st->st_mtime = st->st_ctime = st->st_atime = mtime;
}

int fs_stat_content(struct fs *fs, const struct node *n, int64_t tenant, struct stat *st,
		    time_t mtime, mode_t mode)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = routes[n->kind]->content(fs, n, &buf, &len);

	free(buf);
	if (!rc)
		fs_stat_file(fs, n, tenant, st, mtime, (off_t)len, mode);
	return rc;
}

/* ---- hidden inodes (rm -r of read-only views) --------------------------- */

void fs_hide(struct fs *fs, fuse_ino_t ino)
{
	pthread_mutex_lock(&fs->hidden_lock);
	if (fs->n_hidden == fs->cap_hidden) {
		size_t cap = fs->cap_hidden ? fs->cap_hidden * 2 : 64;
		fuse_ino_t *p = realloc(fs->hidden, cap * sizeof(*p));
		if (!p)
			goto out;
		fs->hidden = p;
		fs->cap_hidden = cap;
	}
	fs->hidden[fs->n_hidden++] = ino;
out:
	pthread_mutex_unlock(&fs->hidden_lock);
}

bool fs_hidden(struct fs *fs, fuse_ino_t ino)
{
	bool found = false;

	pthread_mutex_lock(&fs->hidden_lock);
	for (size_t i = 0; i < fs->n_hidden && !found; i++)
		found = fs->hidden[i] == ino;
	pthread_mutex_unlock(&fs->hidden_lock);
	return found;
}

void fs_unhide_range(struct fs *fs, fuse_ino_t lo, fuse_ino_t hi)
{
	pthread_mutex_lock(&fs->hidden_lock);
	for (size_t i = 0; i < fs->n_hidden;)
		if (fs->hidden[i] >= lo && fs->hidden[i] <= hi)
			fs->hidden[i] = fs->hidden[--fs->n_hidden];
		else
			i++;
	pthread_mutex_unlock(&fs->hidden_lock);
}

/* ---- common request plumbing -------------------------------------------- */

static int node_getattr(struct fs *fs, const struct node *n, struct stat *st)
{
	const struct node_ops *ops = routes[n->kind];

	if (!ops->getattr)
		return -ENOENT;
	if (fs_hidden(fs, n->ino))
		return -ENOENT;
	return ops->getattr(fs, n, st);
}

static double node_timeout(struct fs *fs, const struct node *n)
{
	/* Inbox files come and go on their own (ingestion), status changes
	 * with every file and answers with every write: never cache them. */
	if (n->kind == K_INBOX_FILE || n->kind == K_INBOX_ERROR || n->kind == K_STATUS ||
	    n->kind == K_INBOX_DIR || n->kind == K_KB_DIR || n->kind == K_QUERIES_DIR ||
	    n->kind == K_QUERY_FILE || n->kind == K_QUERY_JSON || n->kind == K_METRICS ||
	    n->kind == K_FEEDBACK)
		return 0;
	return fs->attr_timeout;
}

/* Names of files in inbox/, kb/ and queries/ come and go: not cached. An
 * article's name is checked again at each use too: renamed (an editor's
 * backup), its text is a kb file of another inode under the new name. */
static double entry_timeout(struct fs *fs, const struct node *n)
{
	return n->kind == K_INBOX_FILE || n->kind == K_INBOX_ERROR || n->kind == K_QUERY_FILE ||
	       n->kind == K_QUERY_JSON || n->kind == K_ARTICLE ? 0 : fs->entry_timeout;
}

static void reply_entry(fuse_req_t req, struct fs *fs, const struct node *n)
{
	struct fuse_entry_param e;
	int rc;

	memset(&e, 0, sizeof(e));
	rc = node_getattr(fs, n, &e.attr);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	e.ino = n->ino;
	e.attr_timeout = node_timeout(fs, n);
	e.entry_timeout = entry_timeout(fs, n);
	fuse_reply_entry(req, &e);
}

/* Checks a name for create/mkdir/rename targets. */
static int name_check(const char *name)
{
	if (strlen(name) > NAME_MAX)
		return -ENAMETOOLONG;
	return util_name_ok(name) ? 0 : -EINVAL;
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	if (conn->capable & FUSE_CAP_READDIRPLUS_AUTO)
		conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	if (conn->capable & FUSE_CAP_ASYNC_READ)
		conn->want |= FUSE_CAP_ASYNC_READ;
	/* We handle O_TRUNC in open so cp over an existing file is one call. */
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	conn->max_write = 1 << 20;
	conn->max_readahead = 1 << 20;
}

static void lookup_reply(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = req_fs(req);
	struct node dir, child;
	int rc;

	if ((rc = node_decode(parent, &dir)))
		goto err;
	if (strlen(name) > NAME_MAX) {
		rc = -ENAMETOOLONG;
		goto err;
	}
	if (!routes[dir.kind]->lookup) {
		rc = -ENOTDIR;
		goto err;
	}
	if ((rc = routes[dir.kind]->lookup(fs, &dir, name, &child)))
		goto err;
	reply_entry(req, fs, &child);
	return;
err:
	fuse_reply_err(req, -rc);
}

/* lookup, getattr and readdir read in one store snapshot each (store.h):
 * a directory's page and the attributes it carries agree, and find, du
 * and ls -l pay the store's locks once a request, not once a statement. */
static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct store *s = req_fs(req)->store;

	store_read_begin(s);
	lookup_reply(req, parent, name);
	store_read_end(s);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	/* Inode numbers are derived from ids: nothing to drop. */
	(void)ino;
	(void)nlookup;
	fuse_reply_none(req);
}

static int open_gone_stat(struct fs *fs, fuse_ino_t ino, const struct stat *attr, int to_set,
			  struct stat *st);

static void getattr_reply(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct stat st;
	struct node n;
	int rc;

	(void)fi;
	if (!(rc = node_decode(ino, &n)) && !(rc = node_getattr(fs, &n, &st))) {
		fuse_reply_attr(req, &st, node_timeout(fs, &n));
		return;
	}
	if (rc == -ENOENT && !open_gone_stat(fs, ino, NULL, 0, &st)) {
		fuse_reply_attr(req, &st, 0); /* unlinked while open: see open_keep_take */
		return;
	}
	fuse_reply_err(req, -rc);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct store *s = req_fs(req)->store;

	store_read_begin(s);
	getattr_reply(req, ino, fi);
	store_read_end(s);
}

/* An open file: either a materialized read-only view or an inbox file. */
/* An open file. A reply buffer belongs to the thread that sends it,
 * because the kernel may deliver RELEASE (and another thread free the
 * handle) as soon as the READ reply is written: a snapshot the handle
 * keeps is copied out before the reply (an edit copy is replied under
 * edit_lock, which release takes before freeing it). */
struct handle {
	bool inbox;    /* an inbox/kb file being written or read: id */
	bool stored;   /* a stored document part, read in place */
	int64_t id;
	struct node node; /* stored or generated files */
	char *snap;    /* node_ops.snapshot: content() rendered at open */
	size_t snap_len;
	struct strbuf *edit; /* a file edited whole (node_ops.save): the copy;
			      * a log (node_ops.append): the unfinished line */
	bool append;
	bool edit_dirty;
	pthread_mutex_t edit_lock; /* reads, writes and saves of the copy */
	/* a file that can go while open (open_track): in fs->open_files;
	 * under fs->open_lock */
	struct fs *tracked;
	struct handle *open_prev, *open_next;
	fuse_ino_t open_ino;
	int64_t open_node_id;
	struct stat open_st; /* at open, then at the unlink; setattr keeps it */
	char *gone_buf;      /* a read view's content at the unlink */
	size_t gone_len;
};

/* The size of the part of a len-byte content that a read of size bytes
 * at off returns. */
static size_t read_clip(size_t len, off_t off, size_t size)
{
	if ((size_t)off >= len)
		return 0;
	return size > len - (size_t)off ? len - (size_t)off : size;
}

/* A malloc'd copy of that part, *size set to its size; NULL: no memory.
 * For buffers a handle owns: the reply must not point into them. */
static char *read_copy(const char *buf, size_t len, off_t off, size_t *size)
{
	char *out;

	*size = read_clip(len, off, *size);
	if ((out = malloc(*size ? *size : 1)))
		memcpy(out, buf + (*size ? off : 0), *size);
	return out;
}

/* Replies with buf (ENOMEM when NULL) and frees it. */
static void reply_owned(fuse_req_t req, char *buf, size_t size)
{
	if (buf)
		fuse_reply_buf(req, buf, size);
	else
		fuse_reply_err(req, ENOMEM);
	free(buf);
}

/* ---- files gone while open ----------------------------------------------
 * POSIX keeps an unlinked file for the descriptors still open on it. The
 * handles of files that can go (inbox, kb and query files) are listed in
 * fs->open_files. When one is unlinked, replaced by a rename or (an
 * article) renamed, its handles take its attributes (nlink 0) and a read
 * view its content (open_keep_take, then open_keep_give once the
 * operation succeeded), so reads, fstat and the kernel's getattr before
 * a read go on working (a writer's later writes go nowhere:
 * inbox_unlink). A handle opened while the unlink runs is not kept. An
 * inbox file ingested at a flush while still open is gone from the store
 * as well: getattr then answers from the attributes taken at open. */

static bool node_can_go(const struct node *n)
{
	return n->kind == K_INBOX_FILE || n->kind == K_ARTICLE || n->kind == K_QUERY_FILE ||
	       n->kind == K_QUERY_JSON;
}

/* Lists h, a new handle on n, when n can go; st: n's attributes if known. */
static void open_track(struct fs *fs, struct handle *h, const struct node *n,
		       const struct stat *st)
{
	if (!node_can_go(n))
		return;
	if (st)
		h->open_st = *st;
	else if (node_getattr(fs, n, &h->open_st))
		memset(&h->open_st, 0, sizeof(h->open_st));
	h->open_ino = n->ino;
	h->open_node_id = n->id;
	pthread_mutex_lock(&fs->open_lock);
	h->tracked = fs;
	h->open_next = fs->open_files;
	if (fs->open_files)
		fs->open_files->open_prev = h;
	fs->open_files = h;
	pthread_mutex_unlock(&fs->open_lock);
}

static void open_untrack(struct handle *h)
{
	struct fs *fs = h->tracked;

	if (!fs)
		return;
	pthread_mutex_lock(&fs->open_lock);
	if (h->open_prev)
		h->open_prev->open_next = h->open_next;
	else
		fs->open_files = h->open_next;
	if (h->open_next)
		h->open_next->open_prev = h->open_prev;
	pthread_mutex_unlock(&fs->open_lock);
	free(h->gone_buf);
}

/* A read view's whole content (what its reads return). */
static int view_content(struct fs *fs, const struct node *n, const struct stat *st, char **buf,
			size_t *len)
{
	const struct node_ops *ops = routes[n->kind];
	ssize_t got;

	if (ops->content)
		return ops->content(fs, n, buf, len);
	if (!(*buf = malloc((size_t)st->st_size + 1)))
		return -ENOMEM;
	got = ops->pread(fs, n, *buf, (size_t)st->st_size, 0);
	if (got < 0) {
		free(*buf);
		*buf = NULL;
		return (int)got;
	}
	*len = (size_t)got;
	return 0;
}

/* A node about to go, as its open handles are to keep it: its attributes
 * (nlink 0) and, for handles reading a view, its content. Taken before
 * the unlink or rename, given to the handles only once it succeeded. */
struct keep {
	fuse_ino_t ino; /* 0: no open handle, nothing to give */
	struct stat st;
	char *buf;
	size_t len;
};

static void open_keep_take(struct fs *fs, const struct node *n, struct keep *k)
{
	struct handle *h;
	bool any = false, view = false;

	memset(k, 0, sizeof(*k));
	pthread_mutex_lock(&fs->open_lock);
	for (h = fs->open_files; h; h = h->open_next)
		if (h->open_ino == n->ino) {
			any = true;
			view |= !h->inbox;
		}
	pthread_mutex_unlock(&fs->open_lock);
	if (!any || node_getattr(fs, n, &k->st))
		return;
	k->st.st_nlink = 0;
	if (view && view_content(fs, n, &k->st, &k->buf, &k->len))
		k->buf = NULL;
	k->ino = n->ino;
}

/* gone: the unlink or rename succeeded, the handles keep what k holds.
 * Frees k's content either way. */
static void open_keep_give(struct fs *fs, struct keep *k, bool gone)
{
	struct handle *h;

	if (k->ino && gone) {
		pthread_mutex_lock(&fs->open_lock);
		for (h = fs->open_files; h; h = h->open_next) {
			if (h->open_ino != k->ino)
				continue;
			h->open_st = k->st;
			if (!h->inbox && k->buf && !h->gone_buf &&
			    (h->gone_buf = malloc(k->len ? k->len : 1))) {
				memcpy(h->gone_buf, k->buf, k->len);
				h->gone_len = k->len;
			}
		}
		pthread_mutex_unlock(&fs->open_lock);
	}
	free(k->buf);
	memset(k, 0, sizeof(*k));
}

/* Replies to a read of a read view gone while open (true). */
static bool open_gone_read(struct fs *fs, struct handle *h, fuse_req_t req, size_t size,
			   off_t off)
{
	char *buf = NULL;
	bool gone;

	pthread_mutex_lock(&fs->open_lock);
	gone = h->gone_buf != NULL;
	if (gone)
		buf = read_copy(h->gone_buf, h->gone_len, off, &size);
	pthread_mutex_unlock(&fs->open_lock);
	if (gone)
		reply_owned(req, buf, size);
	return gone;
}

static bool open_any(struct fs *fs)
{
	bool any;

	pthread_mutex_lock(&fs->open_lock);
	any = fs->open_files != NULL;
	pthread_mutex_unlock(&fs->open_lock);
	return any;
}

/* Before name in dir goes, unlinked or replaced by a rename from inode
 * from: takes what the open handles of the node it names keep, k[0], and
 * of a query's NAME.json, k[1]. Not a file renamed onto its own name, nor
 * an article replaced (its text is updated in place, its inode stays). */
static void open_keep_name(struct fs *fs, const struct node *dir, const char *name,
			   fuse_ino_t from, struct keep k[2])
{
	struct node child;

	memset(k, 0, 2 * sizeof(*k));
	if (!open_any(fs) || !routes[dir->kind]->lookup ||
	    routes[dir->kind]->lookup(fs, dir, name, &child) || !node_can_go(&child) ||
	    (from && (child.ino == from || child.kind == K_ARTICLE)))
		return;
	open_keep_take(fs, &child, &k[0]);
	if (child.kind == K_QUERY_FILE) {
		struct node json;
		fs_node(&json, C_INBOX, child.id, IS_QUERY_JSON);
		open_keep_take(fs, &json, &k[1]);
	}
}

/* The attributes of ino, gone from the store while open, into st (0;
 * -ENOENT: not such a file), with setattr's to_set changes applied first
 * when attr is given: mode and times; a size only to an inbox or query
 * file's own writer (its route truncated the open content already); an
 * owner never (-EPERM). */
static int open_gone_stat(struct fs *fs, fuse_ino_t ino, const struct stat *attr, int to_set,
			  struct stat *st)
{
	struct handle *h, *first = NULL;
	int64_t inbox_id = 0, size;
	int rc = 0;

	pthread_mutex_lock(&fs->open_lock);
	for (h = fs->open_files; h; h = h->open_next)
		if (h->open_ino == ino) {
			first = first ? first : h;
			if (h->inbox && h->id == h->open_node_id)
				inbox_id = h->id;
		}
	if (!first) {
		rc = -ENOENT;
		goto out;
	}
	if (attr && ((to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) ||
		     ((to_set & FUSE_SET_ATTR_SIZE) && !inbox_id))) {
		rc = -EPERM;
		goto out;
	}
	for (h = first; attr && h; h = h->open_next) {
		if (h->open_ino != ino)
			continue;
		if (to_set & FUSE_SET_ATTR_MODE)
			h->open_st.st_mode = (h->open_st.st_mode & S_IFMT) | (attr->st_mode & 07777);
		if (to_set & FUSE_SET_ATTR_MTIME_NOW)
			h->open_st.st_mtime = time(NULL);
		else if (to_set & FUSE_SET_ATTR_MTIME)
			h->open_st.st_mtime = attr->st_mtime;
	}
	*st = first->open_st;
	st->st_nlink = 0;
out:
	pthread_mutex_unlock(&fs->open_lock);
	if (!rc && inbox_id && inbox_open_size(fs->core, inbox_id, &size)) {
		st->st_size = size;
		st->st_blocks = (size + 511) / 512;
	}
	return rc;
}

#define EDIT_MAX (1 << 20) /* bytes: config files are small */

/* Opens a copy of n's content for editing (empty with O_TRUNC). */
static int edit_open(struct fs *fs, const struct node *n, int flags, struct handle *h)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = 0;

	if (!(h->edit = calloc(1, sizeof(*h->edit))))
		return -ENOMEM;
	pthread_mutex_init(&h->edit_lock, NULL);
	if (flags & O_TRUNC)
		h->edit_dirty = true;
	else if (!(rc = routes[n->kind]->content(fs, n, &buf, &len)))
		strbuf_add(h->edit, buf, len);
	free(buf);
	h->node = *n;
	return rc ? rc : h->edit->err;
}

static ssize_t edit_write(struct handle *h, const char *buf, size_t size, off_t off)
{
	struct strbuf *sb = h->edit;

	if ((uint64_t)off + size > EDIT_MAX)
		return -EFBIG;
	if ((size_t)off + size > sb->len) {
		size_t old = sb->len;
		if (strbuf_grow(sb, (size_t)off + size - old))
			return -ENOMEM;
		memset(sb->buf + old, 0, (size_t)off + size - old);
		sb->len = (size_t)off + size;
		sb->buf[sb->len] = 0;
	}
	memcpy(sb->buf + off, buf, size);
	h->edit_dirty = true;
	return (ssize_t)size;
}

static int edit_truncate(struct handle *h, off_t size)
{
	struct strbuf *sb = h->edit;

	if (size > EDIT_MAX)
		return -EFBIG;
	if ((size_t)size > sb->len) {
		char zero[1] = { 0 };
		for (size_t i = sb->len; i < (size_t)size; i++)
			strbuf_add(sb, zero, 1);
	} else if (sb->buf) {
		sb->len = (size_t)size;
		sb->buf[sb->len] = 0;
	}
	h->edit_dirty = true;
	return sb->err;
}

/* final: the last close. An emptied file is saved only then: a shell's
 * "> config" closes a duplicate descriptor (a flush) before writing. */
static int edit_save(struct fs *fs, struct handle *h, bool final)
{
	int rc;

	pthread_mutex_lock(&h->edit_lock);
	if (!h->edit_dirty || (!final && !h->edit->len))
		rc = 0;
	else if (!(rc = routes[h->node.kind]->save(fs, &h->node,
						   h->edit->buf ? h->edit->buf : "", h->edit->len)))
		h->edit_dirty = false;
	pthread_mutex_unlock(&h->edit_lock);
	return rc;
}

/* A write to a log file: the complete lines go to append(), the rest
 * waits; on error this write's bytes are dropped again. */
static int log_write(struct fs *fs, struct handle *h, const char *buf, size_t size)
{
	struct strbuf *sb = h->edit;
	size_t keep, upto = 0;
	int rc = 0;

	pthread_mutex_lock(&h->edit_lock);
	keep = sb->len;
	if (keep + size > EDIT_MAX) {
		rc = -EFBIG;
		goto out;
	}
	strbuf_add(sb, buf, size);
	if (sb->err) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = sb->len; i > 0 && !upto; i--)
		if (sb->buf[i - 1] == '\n')
			upto = i;
	if (upto && !(rc = routes[h->node.kind]->append(fs, &h->node, sb->buf, upto))) {
		memmove(sb->buf, sb->buf + upto, sb->len - upto);
		sb->len -= upto;
		sb->buf[sb->len] = 0;
	}
out:
	if (rc && !sb->err) {
		sb->len = keep;
		if (sb->buf)
			sb->buf[keep] = 0;
	}
	pthread_mutex_unlock(&h->edit_lock);
	return rc;
}

/* Flush or close of a log file: an unterminated last line is added. */
static int log_finish(struct fs *fs, struct handle *h)
{
	int rc = 0;

	pthread_mutex_lock(&h->edit_lock);
	if (h->edit->len) {
		rc = routes[h->node.kind]->append(fs, &h->node, h->edit->buf, h->edit->len);
		h->edit->len = 0; /* taken or refused: either way said once */
		h->edit->buf[0] = 0;
	}
	pthread_mutex_unlock(&h->edit_lock);
	return rc;
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct stat st;
	struct node n;
	int rc;

	if ((rc = node_decode(ino, &n)))
		goto err;
	if (fi && fi->fh && ((struct handle *)(uintptr_t)fi->fh)->edit &&
	    !((struct handle *)(uintptr_t)fi->fh)->append && (to_set & FUSE_SET_ATTR_SIZE)) {
		struct handle *h = (struct handle *)(uintptr_t)fi->fh;
		pthread_mutex_lock(&h->edit_lock);
		rc = edit_truncate(h, attr->st_size);
		pthread_mutex_unlock(&h->edit_lock);
		if (rc)
			goto err;
		to_set &= ~FUSE_SET_ATTR_SIZE;
	}
	if (!to_set) {
		rc = 0;
	} else if (routes[n.kind]->setattr) {
		rc = routes[n.kind]->setattr(fs, &n, attr, to_set);
	} else if (routes[n.kind]->lookup && !(to_set & ~(FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
			FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW | FUSE_SET_ATTR_CTIME))) {
		/* Directory times are derived; accept "touch" and rsync's
		 * directory time updates without storing them. */
		rc = 0;
	} else {
		rc = (to_set & FUSE_SET_ATTR_SIZE) ? -EACCES : -EPERM;
	}
	if (!rc)
		rc = node_getattr(fs, &n, &st);
	if (rc == -ENOENT && (rc = open_gone_stat(fs, ino, attr, to_set, &st)) == 0) {
		fuse_reply_attr(req, &st, 0); /* unlinked while open: see open_keep_take */
		return;
	}
	if (rc)
		goto err;
	fuse_reply_attr(req, &st, node_timeout(fs, &n));
	return;
err:
	fuse_reply_err(req, -rc);
}

struct dir_fill {
	fuse_req_t req;
	struct fs *fs;
	char *buf;
	size_t size, pos;
	bool plus;
};

int dir_emit(struct dir_fill *df, const char *name, const struct node *n,
	     const struct stat *st, off_t next_off)
{
	struct fuse_entry_param e;
	size_t need;

	if (fs_hidden(df->fs, n->ino))
		return 0;
	memset(&e, 0, sizeof(e));
	if (st) {
		e.attr = *st;
	} else if (node_getattr(df->fs, n, &e.attr)) {
		return 0; /* vanished meanwhile */
	}
	e.attr.st_ino = n->ino;
	if (df->plus) {
		e.ino = n->ino;
		e.attr_timeout = node_timeout(df->fs, n);
		e.entry_timeout = entry_timeout(df->fs, n);
		need = fuse_add_direntry_plus(df->req, df->buf + df->pos, df->size - df->pos, name,
					      &e, next_off);
	} else {
		need = fuse_add_direntry(df->req, df->buf + df->pos, df->size - df->pos, name,
					 &e.attr, next_off);
	}
	if (need > df->size - df->pos)
		return 1;
	df->pos += need;
	return 0;
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus)
{
	struct fs *fs = req_fs(req);
	struct dir_fill df = { req, fs, NULL, size, 0, plus };
	struct node n;
	int rc;

	store_read_begin(fs->store); /* one snapshot: see op_lookup */
	if ((rc = node_decode(ino, &n)))
		goto err;
	if (!routes[n.kind]->list) {
		rc = -ENOTDIR;
		goto err;
	}
	if (!(df.buf = malloc(size))) {
		rc = -ENOMEM;
		goto err;
	}
	/* "." and ".." are plain entries: readdirplus must not count lookups
	 * for them, so they go through fuse_add_direntry either way. */
	if (off < 1) {
		struct stat st = { .st_ino = n.ino, .st_mode = S_IFDIR };
		size_t need = plus ? fuse_add_direntry_plus(req, df.buf, size, ".",
				&(struct fuse_entry_param){ .attr = st }, 1) :
			fuse_add_direntry(req, df.buf, size, ".", &st, 1);
		if (need > size)
			goto reply;
		df.pos += need;
		off = 1;
	}
	if (off < 2) {
		struct stat st = { .st_ino = FUSE_ROOT_ID, .st_mode = S_IFDIR };
		size_t need = plus ? fuse_add_direntry_plus(req, df.buf + df.pos, size - df.pos,
				"..", &(struct fuse_entry_param){ .attr = st }, 2) :
			fuse_add_direntry(req, df.buf + df.pos, size - df.pos, "..", &st, 2);
		if (need > size - df.pos)
			goto reply;
		df.pos += need;
		off = 2;
	}
	rc = routes[n.kind]->list(fs, &n, off, &df);
	if (rc < 0 && !df.pos)
		goto err;
reply:
	fuse_reply_buf(req, df.buf, df.pos);
	goto out;
err:
	fuse_reply_err(req, -rc);
out:
	free(df.buf);
	store_read_end(fs->store);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, true);
}

__thread uid_t fs_caller_uid;
__thread gid_t fs_caller_gid;

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct fs *fs = req_fs(req);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct node dir, child;
	int rc;

	fs_caller_uid = ctx->uid;
	fs_caller_gid = ctx->gid;
	if ((rc = node_decode(parent, &dir)) || (rc = name_check(name)))
		goto err;
	if (!routes[dir.kind]->mkdir) {
		rc = routes[dir.kind]->lookup ? -EPERM : -ENOTDIR;
		goto err;
	}
	if ((rc = routes[dir.kind]->mkdir(fs, &dir, name, mode, &child)))
		goto err;
	reply_entry(req, fs, &child);
	return;
err:
	fuse_reply_err(req, -rc);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = req_fs(req);
	struct node dir;
	int rc;

	if (!(rc = node_decode(parent, &dir)))
		rc = routes[dir.kind]->rmdir ? routes[dir.kind]->rmdir(fs, &dir, name) : -EPERM;
	fuse_reply_err(req, -rc);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = req_fs(req);
	struct keep keep[2] = { 0 };
	struct node dir;
	int rc;

	if ((rc = node_decode(parent, &dir)))
		goto out;
	if (!routes[dir.kind]->unlink) {
		rc = -EPERM;
		goto out;
	}
	open_keep_name(fs, &dir, name, 0, keep);
	rc = routes[dir.kind]->unlink(fs, &dir, name);
out:
	for (int i = 0; i < 2; i++)
		open_keep_give(fs, &keep[i], !rc);
	fuse_reply_err(req, -rc);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	struct fs *fs = req_fs(req);
	struct keep keep[3] = { 0 }; /* the file replaced, its NAME.json, an article moved */
	struct node dir, newdir, from;
	int rc;

	if ((rc = node_decode(parent, &dir)) || (rc = node_decode(newparent, &newdir)) ||
	    (rc = name_check(newname)))
		goto out;
	if (flags) {
		rc = -EINVAL; /* RENAME_EXCHANGE / NOREPLACE are not supported */
		goto out;
	}
	if (!routes[dir.kind]->rename) {
		rc = -EPERM;
		goto out;
	}
	if (open_any(fs) && routes[dir.kind]->lookup &&
	    !routes[dir.kind]->lookup(fs, &dir, name, &from)) {
		open_keep_name(fs, &newdir, newname, from.ino, keep);
		/* a renamed article's text becomes a kb file: its inode goes */
		if (from.kind == K_ARTICLE && (strcmp(name, newname) || dir.ino != newdir.ino))
			open_keep_take(fs, &from, &keep[2]);
	}
	rc = routes[dir.kind]->rename(fs, &dir, name, &newdir, newname);
out:
	for (int i = 0; i < 3; i++)
		open_keep_give(fs, &keep[i], !rc);
	fuse_reply_err(req, -rc);
}

void fs_handle_free(struct handle *h)
{
	if (h) {
		open_untrack(h);
		free(h->snap);
	}
	if (h && h->edit) {
		pthread_mutex_destroy(&h->edit_lock);
		strbuf_release(h->edit);
		free(h->edit);
	}
	free(h);
}


static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct fuse_entry_param e;
	struct node dir, child;
	struct handle *h = NULL;
	int rc;

	if ((rc = node_decode(parent, &dir)) || (rc = name_check(name)))
		goto err;
	if (!routes[dir.kind]->create) {
		rc = -EACCES;
		goto err;
	}
	if (!(h = calloc(1, sizeof(*h)))) {
		rc = -ENOMEM;
		goto err;
	}
	if ((rc = routes[dir.kind]->create(fs, &dir, name, mode, &child)))
		goto err;
	h->inbox = true;
	h->id = child.id;
	memset(&e, 0, sizeof(e));
	if ((rc = node_getattr(fs, &child, &e.attr))) {
		inbox_release(fs->core, child.id);
		goto err;
	}
	e.ino = child.ino;
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->direct_io = 0;
	open_track(fs, h, &child, &e.attr);
	if (fuse_reply_create(req, &e, fi)) {
		inbox_release(fs->core, child.id);
		fs_handle_free(h);
	}
	return;
err:
	free(h);
	fuse_reply_err(req, -rc);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	const struct node_ops *ops;
	const struct stat *known = NULL; /* n's attributes, when read here */
	struct handle *h = NULL;
	struct stat st;
	struct node n;
	int rc;

	if ((rc = node_decode(ino, &n)))
		goto err;
	ops = routes[n.kind];
	if (!(h = calloc(1, sizeof(*h)))) {
		rc = -ENOMEM;
		goto err;
	}
	/* Files with a read view (articles, query answers) are read through it
	 * and written through the inbox. */
	if (ops->save && (fi->flags & O_ACCMODE) != O_RDONLY) {
		if ((rc = edit_open(fs, &n, fi->flags, h)))
			goto err;
		fi->direct_io = 1;
	} else if (ops->append && (fi->flags & O_ACCMODE) != O_RDONLY) {
		if (!(h->edit = calloc(1, sizeof(*h->edit)))) {
			rc = -ENOMEM;
			goto err;
		}
		pthread_mutex_init(&h->edit_lock, NULL);
		h->append = true;
		h->node = n;
		fi->direct_io = 1;
	} else if (ops->open && (!(ops->pread || ops->content) ||
				 (fi->flags & O_ACCMODE) != O_RDONLY)) {
		if ((rc = ops->open(fs, &n, fi->flags, &h->id)))
			goto err;
		h->inbox = true;
	} else if (ops->pread) {
		if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
			rc = -EACCES;
			goto err;
		}
		h->node = n;
		h->stored = true;
	} else if (ops->content) {
		if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
			rc = -EACCES;
			goto err;
		}
		if (ops->snapshot) {
			/* rendered once: reads in several chunks see one state */
			rc = fs_hidden(fs, n.ino) ? -ENOENT :
			     ops->content(fs, &n, &h->snap, &h->snap_len);
			if (rc)
				goto err;
			fi->direct_io = 1;
		} else if ((rc = node_getattr(fs, &n, &st))) {
			goto err;
		} else {
			known = &st;
		}
		h->node = n;
		/* Generated views (status) may change between stat and read. */
		if (n.kind == K_STATUS || n.kind == K_INBOX_ERROR || n.kind == K_QUERY_FILE ||
		    n.kind == K_QUERY_JSON || n.kind == K_CONFIG)
			fi->direct_io = 1;
	} else {
		rc = routes[n.kind]->list ? -EISDIR : -EACCES;
		goto err;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	open_track(fs, h, &n, known);
	/* an answer being produced: the reply waits for it */
	if (!h->inbox && !h->edit && (n.kind == K_QUERY_FILE || n.kind == K_QUERY_JSON) &&
	    fs_query_wait(fs, req, &n, fi))
		return;
	if (fuse_reply_open(req, fi)) {
		if (h->inbox)
			inbox_release(fs->core, h->id);
		fs_handle_free(h);
	}
	return;
err:
	fs_handle_free(h);
	fuse_reply_err(req, -rc);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;
	struct fs *fs = req_fs(req);
	char *buf;
	ssize_t n;

	(void)ino;
	if (h->tracked && !h->inbox && open_gone_read(fs, h, req, size, off))
		return;
	if (h->edit && !h->append) {
		pthread_mutex_lock(&h->edit_lock);
		size = read_clip(h->edit->len, off, size);
		fuse_reply_buf(req, size ? h->edit->buf + off : NULL, size);
		pthread_mutex_unlock(&h->edit_lock);
		return;
	}
	if (h->stored) {
		struct node node = h->node;
		if (!(buf = malloc(size ? size : 1))) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		n = routes[node.kind]->pread(fs, &node, buf, size, off);
		if (n < 0)
			fuse_reply_err(req, (int)-n);
		else
			fuse_reply_buf(req, buf, (size_t)n);
		free(buf);
		return;
	}
	if (h->snap) {
		/* a snapshot taken at open: the slice is copied (see struct handle) */
		buf = read_copy(h->snap, h->snap_len, off, &size);
		reply_owned(req, buf, size);
		return;
	}
	if (!h->inbox) {
		/* generated content: rendered for each read */
		struct node node = h->node;
		size_t len;
		int rc = routes[node.kind]->content(fs, &node, &buf, &len);
		if (rc) {
			fuse_reply_err(req, -rc);
			return;
		}
		size = read_clip(len, off, size);
		fuse_reply_buf(req, size ? buf + off : NULL, size);
		free(buf);
		return;
	}
	if (!(buf = malloc(size ? size : 1))) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	n = inbox_read(fs->core, h->id, buf, size, off);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;
	ssize_t n;

	(void)ino;
	if (h->append) {
		int rc = log_write(req_fs(req), h, buf, size);
		if (rc)
			fuse_reply_err(req, -rc);
		else
			fuse_reply_write(req, size);
		return;
	}
	if (h->edit) {
		pthread_mutex_lock(&h->edit_lock);
		n = edit_write(h, buf, size, off);
		pthread_mutex_unlock(&h->edit_lock);
		if (n < 0)
			fuse_reply_err(req, (int)-n);
		else
			fuse_reply_write(req, (size_t)n);
		return;
	}
	if (!h->inbox) {
		fuse_reply_err(req, EBADF);
		return;
	}
	n = inbox_write(req_fs(req)->core, h->id, buf, size, off);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
}

/* flush and fsync: the content written so far is saved (or ingested). */
static void handle_flush(fuse_req_t req, struct handle *h)
{
	int rc = 0;

	/* close() waits for this reply: ingestion (or storing the content) is
	 * done before close() returns, so a returned 0 means durable. A
	 * rejected file still closes fine: its reason is in NAME.error. */
	if (h->append)
		rc = log_finish(req_fs(req), h);
	else if (h->edit)
		rc = edit_save(req_fs(req), h, false);
	else if (h->inbox && (rc = inbox_flush(req_fs(req)->core, h->id)) == -EINVAL)
		rc = 0;
	fuse_reply_err(req, -rc);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	handle_flush(req, (struct handle *)(uintptr_t)fi->fh);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;

	(void)ino;
	if (h->inbox)
		inbox_release(req_fs(req)->core, h->id);
	if (h->append)
		log_finish(req_fs(req), h); /* an error is in status */
	else if (h->edit)
		edit_save(req_fs(req), h, true); /* an error is in status */
	fs_handle_free(h);
	fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	handle_flush(req, (struct handle *)(uintptr_t)fi->fh);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;

	(void)ino;
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = 4096;
	sv.f_frsize = 4096;
	sv.f_blocks = sv.f_bfree = sv.f_bavail = 1ULL << 30;
	sv.f_files = sv.f_ffree = sv.f_favail = 1ULL << 30;
	sv.f_namemax = NAME_MAX;
	fuse_reply_statfs(req, &sv);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	(void)parent;
	(void)name;
	(void)mode;
	(void)rdev;
	fuse_reply_err(req, EPERM);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	(void)link;
	(void)parent;
	(void)name;
	fuse_reply_err(req, EPERM);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	(void)ino;
	(void)newparent;
	(void)newname;
	fuse_reply_err(req, EPERM);
}

/* Extended attributes: fs_xattr.c says which a node has, from store rows
 * (a node gone gives their lookup's ENOENT); no rendering here. */
static int xattr_node_ok(struct fs *fs, const struct node *n)
{
	return fs_hidden(fs, n->ino) ? -ENOENT : 0;
}

/* Replies to getxattr/listxattr with buf (len bytes) or its size. */
static void xattr_reply(fuse_req_t req, int rc, const char *buf, size_t len, size_t size)
{
	if (!rc && size && size < len)
		rc = -ERANGE;
	if (rc)
		fuse_reply_err(req, -rc);
	else if (!size)
		fuse_reply_xattr(req, len);
	else
		fuse_reply_buf(req, buf, len);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct fs *fs = req_fs(req);
	struct node n;
	char *val = NULL;
	size_t len = 0;
	int rc;

	if (!(rc = node_decode(ino, &n)) && !(rc = xattr_node_ok(fs, &n)))
		rc = fs_xattr_get(fs, &n, name, &val, &len);
	xattr_reply(req, rc, val, len, size);
	free(val);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct fs *fs = req_fs(req);
	struct node n;
	char *names = NULL;
	size_t len = 0;
	int rc;

	if (!(rc = node_decode(ino, &n)) && !(rc = xattr_node_ok(fs, &n)))
		rc = fs_xattr_list(fs, &n, &names, &len);
	xattr_reply(req, rc, names, len, size);
	free(names);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			size_t size, int flags)
{
	struct fs *fs = req_fs(req);
	struct node n;
	int rc;

	(void)value;
	(void)size;
	(void)flags;
	if (!(rc = node_decode(ino, &n)) && !(rc = xattr_node_ok(fs, &n)))
		rc = fs_xattr_set(fs, &n, name);
	fuse_reply_err(req, -rc);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct fs *fs = req_fs(req);
	struct node n;
	int rc;

	if (!(rc = node_decode(ino, &n)) && !(rc = xattr_node_ok(fs, &n)))
		rc = fs_xattr_set(fs, &n, name);
	fuse_reply_err(req, -rc);
}

static const struct fuse_lowlevel_ops fs_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.statfs = op_statfs,
	.create = op_create,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.setxattr = op_setxattr,
	.removexattr = op_removexattr,
};

int fs_main(struct core *core, const struct fs_options *opt, int ready_fd)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_session *se = NULL;
	struct fuse_loop_config *cfg = NULL;
	struct fs fs = { 0 };
	int rc = 1;

	fs.core = core;
	fs.store = core->store;
	fs.attr_timeout = 1.0;
	fs.entry_timeout = 1.0;
	fs.uid = getuid();
	fs.gid = getgid();
	fs.mount_time = time(NULL);
	struct stat exe;
	fs.exe_time = stat("/proc/self/exe", &exe) ? fs.mount_time : exe.st_mtime;
	pthread_mutex_init(&fs.hidden_lock, NULL);
	pthread_mutex_init(&fs.perm_lock, NULL);
	pthread_mutex_init(&fs.open_lock, NULL);
	if (fs_query_waits_start(&fs)) {
		fprintf(stderr, "deskfs: cannot start a thread\n");
		goto out;
	}
	if (fuse_opt_add_arg(&args, "deskfs") ||
	    fuse_opt_add_arg(&args, "-o") ||
	    fuse_opt_add_arg(&args, "fsname=deskfs,subtype=deskfs,default_permissions") ||
	    (opt->debug && fuse_opt_add_arg(&args, "-d")) ||
	    (opt->fuse_opts && (fuse_opt_add_arg(&args, "-o") ||
				fuse_opt_add_arg(&args, opt->fuse_opts)))) {
		fprintf(stderr, "deskfs: out of memory\n");
		goto out;
	}
	se = fuse_session_new(&args, &fs_ops, sizeof(fs_ops), &fs);
	if (!se) {
		fprintf(stderr, "deskfs: cannot start a FUSE session (bad -o option?)\n");
		goto out;
	}
	if (fuse_set_signal_handlers(se)) {
		fprintf(stderr, "deskfs: cannot set signal handlers\n");
		goto out_session;
	}
	if (fuse_session_mount(se, opt->mountpoint)) {
		fprintf(stderr, "deskfs: cannot mount on '%s' (is /dev/fuse usable and fusermount3 "
			"installed?)\n", opt->mountpoint);
		goto out_signals;
	}
	if (ready_fd >= 0) {
		/* Tell the parent the mount is up, then detach from it. */
		(void)!write(ready_fd, "ok", 2);
		close(ready_fd);
	}
	if (opt->single_thread) {
		rc = fuse_session_loop(se);
	} else {
		cfg = fuse_loop_cfg_create();
		fuse_loop_cfg_set_max_threads(cfg, opt->max_threads ? opt->max_threads : 16);
		/* Idle threads stay: each thread has its own store connection. */
		fuse_loop_cfg_set_idle_threads(cfg, opt->max_threads ? opt->max_threads : 16);
		rc = fuse_session_loop_mt(se, cfg);
		fuse_loop_cfg_destroy(cfg);
	}
	rc = rc ? 1 : 0;
	fs_query_waits_stop(&fs);
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out:
	fs_query_waits_stop(&fs);
	fuse_opt_free_args(&args);
	free(fs.hidden);
	pthread_mutex_destroy(&fs.hidden_lock);
	free(fs.perms);
	pthread_mutex_destroy(&fs.perm_lock);
	pthread_mutex_destroy(&fs.open_lock);
	return rc;
}
