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
	int64_t max_file_size; /* bytes; writes beyond it fail with EFBIG */
	pthread_mutex_t lock;  /* guards the open-file table */
	struct open_file *open[OPEN_BUCKETS];
};

/* Opens the store at db_path and recovers interrupted inbox files. On
 * failure err holds a one-line reason. */
int core_open(const char *db_path, int64_t max_file_size, struct core **out, char *err,
	      size_t errlen);
void core_close(struct core *c);

/* True for names editors and rsync use while writing; never ingested. */
bool inbox_name_is_temp(const char *name);

int inbox_create(struct core *c, int64_t tenant, enum inbox_area area, const char *name,
		 uint32_t mode, struct inbox_row *out);
/* Takes a reference on file id for an open(2); trunc empties it. */
int inbox_open(struct core *c, int64_t id, bool trunc);
/* Drops the reference; the last one flushes pending writes. */
void inbox_release(struct core *c, int64_t id);
ssize_t inbox_read(struct core *c, int64_t id, char *buf, size_t size, off_t off);
ssize_t inbox_write(struct core *c, int64_t id, const char *buf, size_t size, off_t off);
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

#endif
