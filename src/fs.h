/* fs.h - the kernel-facing layer: shared by src/fs_*.c only.
 *
 * Inode numbers are derived from store ids, so they are stable across
 * remounts and need no table:  ino = class << 56 | id << 4 | sub.
 *   root                      1
 *   class 1  root files       README (id 0)
 *   class 2  tenant nodes     id = tenant id; sub: 0 dir, 1 inbox/, 2 tickets/,
 *                             3 kb/, 4 status, 5 queries/, 6 config, 7 summaries/,
 *                             8 feedback
 *   class 3  document nodes   id = doc id; sub: 0 ticket dir, 1 ticket.md,
 *                             2 ticket.json, 3 source.json, 5 kb/SLUG.md,
 *                             6 summary.md (also summaries/NAME.md),
 *                             7 similar.md, 8 similar.json
 *   class 4  inbox files      id = inbox id; sub: 0 the file, 1 NAME.error,
 *                             2 a query file, 3 its NAME.json
 *   class 5  .deskfs/ nodes   id 0; sub: 0 .deskfs/, 1 metrics
 * Each decoded node has a kind; routes[kind] (fs.c) holds the node
 * operations of the one file that owns that subtree.
 */
#ifndef DESKFS_FS_H
#define DESKFS_FS_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "inbox.h"
#include "store.h"

enum node_kind {
	K_ROOT, K_README,
	K_TENANT, K_INBOX_DIR, K_TICKETS_DIR, K_KB_DIR, K_STATUS, K_CONFIG,
	K_TICKET_DIR, K_TICKET_PART, K_ARTICLE,
	K_INBOX_FILE, K_INBOX_ERROR,
	K_QUERIES_DIR, K_QUERY_FILE, K_QUERY_JSON,
	K_SUMMARIES_DIR, K_TICKET_VIEW, K_FEEDBACK,
	K_DESKFS_DIR, K_METRICS,
	K__COUNT
};

enum ino_class { C_ROOT = 0, C_ROOTFILE = 1, C_TENANT = 2, C_DOC = 3, C_INBOX = 4,
		 C_DESKFS = 5 };
enum tenant_sub { TS_DIR = 0, TS_INBOX = 1, TS_TICKETS = 2, TS_KB = 3, TS_STATUS = 4,
		  TS_QUERIES = 5, TS_CONFIG = 6, TS_SUMMARIES = 7, TS_FEEDBACK = 8 };
/* Files of a ticket directory made by background jobs (copilot.h). */
enum doc_view_sub { DV_SUMMARY = 6, DV_SIMILAR = 7, DV_SIMILAR_JSON = 8 };
/* Nodes of the .deskfs/ directory at the root (fs_root.c). */
enum deskfs_sub { DS_DIR = 0, DS_METRICS = 1 };
/* Sub-nodes of an inbox-class id (inbox, kb and query files). */
enum inbox_sub { IS_FILE = 0, IS_ERROR = 1, IS_QUERY = 2, IS_QUERY_JSON = 3 };

struct node {
	enum node_kind kind;
	int64_t id;
	int sub;
	fuse_ino_t ino;
};

struct tenant_perm {
	int64_t id;
	uint32_t mode, uid, gid;
};

struct fs {
	struct core *core;
	struct store *store;
	double attr_timeout, entry_timeout;
	uid_t uid;
	gid_t gid;
	time_t mount_time;
	time_t exe_time; /* the deskfs binary's mtime: README's (its text is the binary's) */
	pthread_mutex_t perm_lock; /* perms: tenant owners and modes */
	struct tenant_perm *perms;
	size_t n_perms, cap_perms;
	pthread_mutex_t hidden_lock;
	fuse_ino_t *hidden; /* inodes unlinked by "rm -r" ahead of their rmdir */
	size_t n_hidden, cap_hidden;
	/* open handles of files that can go while open (fs.c open_track) */
	pthread_mutex_t open_lock;
	struct handle *open_files;
	/* opens waiting for a query's answer (fs_queries.c) */
	pthread_mutex_t wait_lock;
	pthread_cond_t wait_cond;
	struct query_wait *waiters;
	pthread_t reaper;
	bool reaper_running, stopping;
};

/* Directory listing: emit entries from offset off; fs.c fills the reply. */
struct dir_fill;
/* Adds one entry; returns 1 when the reply buffer is full (stop). */
/* st may be NULL (then the node's getattr fills it). */
int dir_emit(struct dir_fill *df, const char *name, const struct node *n,
	     const struct stat *st, off_t next_off);

struct node_ops {
	int (*getattr)(struct fs *fs, const struct node *n, struct stat *st);
	int (*lookup)(struct fs *fs, const struct node *dir, const char *name, struct node *child);
	/* Entries after "." and ".."; offsets >= 3 are the node's own cursor. */
	int (*list)(struct fs *fs, const struct node *dir, off_t off, struct dir_fill *df);
	int (*mkdir)(struct fs *fs, const struct node *dir, const char *name, mode_t mode,
		     struct node *child);
	int (*rmdir)(struct fs *fs, const struct node *dir, const char *name);
	int (*create)(struct fs *fs, const struct node *dir, const char *name, mode_t mode,
		      struct node *child);
	int (*unlink)(struct fs *fs, const struct node *dir, const char *name);
	int (*rename)(struct fs *fs, const struct node *dir, const char *name,
		      const struct node *newdir, const char *newname);
	/* Read-only files: the whole content, malloc'd, the caller frees. */
	int (*content)(struct fs *fs, const struct node *n, char **buf, size_t *len);
	/* content() is rendered once at open and every read of that open file
	 * reads this snapshot (figures that change between reads: metrics);
	 * otherwise each read renders it again. */
	bool snapshot;
	/* Read-only stored files read in place instead (no buffer per open). */
	ssize_t (*pread)(struct fs *fs, const struct node *n, char *buf, size_t size, off_t off);
	/* Writable files (inbox): the handle is the node id. */
	/* *id receives the inbox file id the handle reads and writes. */
	int (*open)(struct fs *fs, const struct node *n, int flags, int64_t *id);
	int (*setattr)(struct fs *fs, const struct node *n, struct stat *st, int to_set);
	/* Files edited whole (config): an open for writing edits a copy of
	 * content() in the handle; flush saves it, and save's error (EINVAL
	 * for invalid content) is what close() returns. */
	int (*save)(struct fs *fs, const struct node *n, const char *buf, size_t len);
	/* Files written as a log (feedback): every write adds to it whatever
	 * its offset (O_APPEND or not; O_TRUNC does not empty it). append()
	 * gets complete lines (a line split across writes waits for its end;
	 * an unterminated last line comes at close) and takes all or none:
	 * its error (EINVAL) is what the write, or the close, returns. */
	int (*append)(struct fs *fs, const struct node *n, const char *buf, size_t len);
};

extern const struct node_ops fs_root_ops, fs_readme_ops;
extern const struct node_ops fs_tenant_ops, fs_status_ops, fs_config_ops, fs_feedback_ops;
extern const struct node_ops fs_tickets_ops, fs_ticket_ops, fs_ticket_part_ops;
extern const struct node_ops fs_kb_ops, fs_article_ops;
extern const struct node_ops fs_inbox_ops, fs_inbox_file_ops, fs_inbox_error_ops;
extern const struct node_ops fs_queries_ops, fs_query_ops, fs_query_json_ops;
extern const struct node_ops fs_deskfs_ops, fs_metrics_ops;
extern const struct node_ops fs_summaries_ops, fs_ticket_view_ops;

fuse_ino_t fs_ino(enum ino_class cls, int64_t id, int sub);
/* Fills n from (class, id, sub) and its kind. */
void fs_node(struct node *n, enum ino_class cls, int64_t id, int sub);
/* Access control: everything under a tenant has the tenant directory's
 * owner and group; directories its permission bits, files their own mode
 * (0666 writable, 0444 read-only, or the mode a file was created with)
 * masked by the tenant's read and write bits. The kernel enforces them
 * (the mount has default_permissions). Nodes outside tenants (tenant 0)
 * belong to the user who mounted, with the mode given. */

/* The tenant's owner and mode (cached; -ENOENT when it went). */
int fs_tenant_perm(struct fs *fs, int64_t tenant, struct tenant_perm *out);
/* Updates the cache after a chmod or chown. */
void fs_tenant_perm_set(struct fs *fs, const struct tenant_perm *p);

/* Who made the request being served (set by the operations that use it:
 * mkdir, whose tenant belongs to its caller). */
extern __thread uid_t fs_caller_uid;
extern __thread gid_t fs_caller_gid;

/* Attribute helpers: a directory / a regular file of tenant (see above). */
void fs_stat_dir(struct fs *fs, const struct node *n, int64_t tenant, struct stat *st,
		 time_t mtime, nlink_t nlink);
void fs_stat_file(struct fs *fs, const struct node *n, int64_t tenant, struct stat *st,
		  time_t mtime, off_t size, mode_t mode);
/* fs_stat_file with the exact size of the node's content() (rendered). */
int fs_stat_content(struct fs *fs, const struct node *n, int64_t tenant, struct stat *st,
		    time_t mtime, mode_t mode);

/* Restores a tenant's default config, or saves buf as it (validated:
 * -EINVAL and a status line when invalid) (fs_config.c). */
int fs_config_reset(struct fs *fs, int64_t tenant);
int fs_config_write(struct fs *fs, int64_t tenant, const char *buf, size_t len);

/* getattr of a tenant's tickets/, inbox/ and kb/ (fs_tenant.c). */
int fs_tenant_subdir_getattr(struct fs *fs, const struct node *n, struct stat *st);

void fs_hide(struct fs *fs, fuse_ino_t ino);
bool fs_hidden(struct fs *fs, fuse_ino_t ino);
void fs_unhide_range(struct fs *fs, fuse_ino_t lo, fuse_ino_t hi);

#define ARTICLE_SUB 5
/* Offsets in directories that list inbox files after other entries. */
#define OFF_INBOX_BASE ((off_t)1 << 48)

/* Inbox files of a tenant area, shared by inbox/ and kb/ (fs_inbox.c). */
int fs_area_lookup(struct fs *fs, int64_t tenant, enum inbox_area area, const char *name,
		   struct node *child);
int fs_area_list(struct fs *fs, int64_t tenant, enum inbox_area area, off_t off,
		 struct dir_fill *df);
int fs_area_create(struct fs *fs, int64_t tenant, enum inbox_area area, const char *name,
		   mode_t mode, struct node *child);
int fs_area_unlink(struct fs *fs, int64_t tenant, enum inbox_area area, const char *name);
int fs_area_rename(struct fs *fs, int64_t tenant, enum inbox_area area, const char *name,
		   const struct node *newdir, const char *newname);

/* Opens of a query that is still being answered wait for the answer
 * without holding a thread: fs_query_wait() keeps the request (true: the
 * caller must not reply) and answers it when the query is done, at the
 * tenant's query timeout (the file then says it is pending), or with
 * EINTR when the reader is interrupted. */
struct handle;
void fs_handle_free(struct handle *h); /* an open file's handle (fs.c) */
int fs_query_waits_start(struct fs *fs);
/* Call after query_queue_pending() said no (fs_queries.c). */
int fs_query_answer_size(struct fs *fs, int64_t id, int64_t *text, int64_t *json);
void fs_query_waits_stop(struct fs *fs);
bool fs_query_wait(struct fs *fs, fuse_req_t req, const struct node *n,
		   const struct fuse_file_info *fi);

/* Extended attributes (fs_xattr.c): the read-only user.deskfs.* set of a
 * node. get: *val malloc'd (the caller frees), -ENODATA when the node
 * has no such attribute; list: the names, each NUL-terminated, malloc'd;
 * set (also remove): always refused, with the errno that says why. */
int fs_xattr_get(struct fs *fs, const struct node *n, const char *name, char **val,
		 size_t *len);
int fs_xattr_list(struct fs *fs, const struct node *n, char **names, size_t *len);
int fs_xattr_set(struct fs *fs, const struct node *n, const char *name);

/* The README text at the mount root. */
extern const char fs_readme_text[];

/* Mounts and serves until unmounted; returns the exit status. */
struct fs_options {
	const char *mountpoint;
	bool foreground, debug, single_thread;
	const char *fuse_opts; /* comma-separated -o options, or NULL */
	unsigned max_threads;
};
int fs_main(struct core *core, const struct fs_options *opt, int ready_fd);

#endif
