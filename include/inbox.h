/* inbox.h - files copied into TENANT/inbox/ and TENANT/kb/, from create to
 * ingestion.
 *
 * State machine of one inbox file (states are enum inbox_state):
 *
 *   create ──> OPEN ──flush/close──> ingest ──ok──> (row deleted: the
 *               ^                      │            file leaves the inbox)
 *               │ open for write       └─rejected─> REJECTED (content and
 *               │                                    NAME.error kept)
 *   temporary name (".x.XXXXXX", "*.swp", "*~", ...): flush stores the
 *   content as CLOSED and never ingests; rename to a final name ingests.
 *
 * While open, content lives in memory in an open-file table shared by all
 * handles of the file; at flush it is either ingested (one store
 * transaction that also deletes the inbox row) or stored in the inbox row.
 * So once close() has returned 0 the content is durable: as documents or
 * as a waiting/rejected inbox file. A file still OPEN when the daemon died
 * was never closed; inbox_recover() marks it REJECTED with a reason.
 *
 * In queries/ (area AREA_QUERY) the flush queues the query instead
 * (query_queue.h): the row stays CLOSED with the question as its content,
 * and the answer is stored beside it when ready.
 *
 * All functions return 0 (or a byte count) or a negative errno.
 */
#ifndef DESKFS_INBOX_H
#define DESKFS_INBOX_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "query_queue.h"
#include "retrieve.h"
#include "store.h"

#define OPEN_BUCKETS 256

struct open_file;

struct core {
	struct store *store;
	struct retriever *retriever; /* query files and their vector indexes */
	struct query_queue *queries; /* query files being answered */
	struct reembed *reembed;     /* vectors of HTTP embedders, re-embedding */
	struct jobs *jobs;           /* background jobs: summaries, similar tickets */
	int job_workers;             /* job worker threads (0: JOBS_WORKERS_DEFAULT, JOBS_WORKERS_NONE) */
	int64_t max_file_size; /* bytes; writes beyond it fail with EFBIG */
	bool client;           /* opened by core_open_client() */
	pthread_mutex_t lock;  /* guards the open-file table */
	struct open_file *open[OPEN_BUCKETS];
};

/* Opens the store at db_path for the mount's daemon: recovers interrupted
 * inbox files and starts the query workers and the re-embedder. Only one
 * process may do this at a time (the daemon holds DB.lock, main.c).
 * job_workers: background job threads (0: JOBS_WORKERS_DEFAULT;
 * JOBS_WORKERS_NONE: none, jobs wait in the store for another mount). On
 * failure err holds a one-line reason. */
int core_open(const char *db_path, int64_t max_file_size, int job_workers, struct core **out,
	      char *err, size_t errlen);
/* Opens the store for a client (the command line), with or without a
 * daemon on the same store: no lock, no inbox recovery (OPEN files may be
 * a live mount's copies in progress), no threads of its own (query
 * workers, re-embedder) and no retriever. Files it ingests are seen by the
 * daemon through the store: new vectors for an HTTP embedder are made by
 * the daemon's re-embedder at its next poll (reembed.h), or at the next
 * mount. Query files cannot be written through a client core (EOPNOTSUPP). */
int core_open_client(const char *db_path, int64_t max_file_size, struct core **out, char *err,
		     size_t errlen);
void core_close(struct core *c);

/* True for a tenant name mkdir accepts: [a-z0-9][a-z0-9._-]{0,63}. */
bool core_tenant_name_ok(const char *name);

/* True for names editors, sed -i and rsync use while writing; never
 * ingested: ".NAME" (rsync, vim swap files), "#NAME#" (emacs), "NAME~",
 * *.swp, *.swx, *.swo, *.tmp, *.part, *.crdownload, and GNU sed -i's
 * "sedXXXXXX" (six letters or digits). vim's probe of a directory (an
 * empty file named by digits, "4913") is kept too: see inbox_flush. */
bool inbox_name_is_temp(const char *name);
/* vim checks that it may create files in a directory with an empty file
 * named by digits ("4913", then 5036...) and removes it at once. */
bool inbox_name_is_probe(const char *name);

int inbox_create(struct core *c, int64_t tenant, enum inbox_area area, const char *name,
		 uint32_t mode, struct inbox_row *out);
/* Takes a reference on file id for an open(2); trunc empties it. */
int inbox_open(struct core *c, int64_t id, bool trunc);
/* Drops the reference; the last one flushes pending writes. */
void inbox_release(struct core *c, int64_t id);
ssize_t inbox_read(struct core *c, int64_t id, char *buf, size_t size, off_t off);
ssize_t inbox_write(struct core *c, int64_t id, const char *buf, size_t size, off_t off);
/* Fills open file id (just created) with an article's current text, the
 * start of an edit: not itself a change (a flush before any write does
 * not ingest it). */
int inbox_seed(struct core *c, int64_t id, const char *buf, size_t len);
/* Ingests (or, for a temporary name, stores) what was written since the
 * last flush. An empty file waits for the last release (inbox_release). */
int inbox_flush(struct core *c, int64_t id);
int inbox_truncate(struct core *c, int64_t id, off_t size);
/* True while id is open for writing; *size is its current size. */
bool inbox_open_size(struct core *c, int64_t id, int64_t *size);
/* The current size (open content or stored), for stat. */
int inbox_size(struct core *c, int64_t id, int64_t *size);
/* Renames within the same area; replaces an existing file of that name.
 * A rename from a temporary to a final name ingests the file. */
int inbox_rename(struct core *c, int64_t id, const char *name);
int inbox_unlink(struct core *c, int64_t id);
int inbox_recover(struct core *c);

/* What inbox_put() made of a file: what a copy's close() would have. */
struct inbox_result {
	bool kept;     /* it stays in the area: rejected, or a temporary name */
	bool rejected; /* the whole file (fatal) or some records were rejected */
	bool fatal;    /* nothing of it was stored */
	int created, updated, unchanged, deleted, records_rejected;
	char format[32];  /* "freshdesk json", "csv", ... ("" if not ingested) */
	char reason[256]; /* first line of the reasons when rejected, else "" */
};

/* Puts the content read from fd (to its end) into area under name, through
 * the path a cp(1) into the mount takes: inbox_create (or, when name
 * exists, inbox_open with truncation), inbox_write, and the flush of the
 * last close. So counters, events and a rejected file (kept with its
 * NAME.error) are the same as with cp. A store that stays locked (another
 * process's long transaction) is waited for a while. Returns 0 with *res
 * filled (a rejected file is a 0, as its close() is), or -errno with
 * nothing of the file stored: -EFBIG beyond max_file_size, -EBUSY when
 * name is being written by another process or the store stayed locked,
 * -EOPNOTSUPP for queries/ in a client core, -EIO and others from read(2)
 * or the store. */
int inbox_put(struct core *c, int64_t tenant, enum inbox_area area, const char *name,
	      uint32_t mode, int fd, struct inbox_result *res);

#endif
