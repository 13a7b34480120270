/* store.h - all persistent state behind one interface.
 *
 * The filesystem and the ingestion core talk only to these functions; a
 * store implementation (SQLite today: store_sqlite.c; PostgreSQL later)
 * provides struct store_ops. Every function returns 0 (or a count) on
 * success and a negative errno on failure: -ENOENT not found, -EEXIST
 * name taken, -EBUSY/-EAGAIN locked, -EIO corrupt or I/O error, -ENOSPC.
 *
 * Threads: a store may be used from many threads at once. Reads never
 * wait for a writer (SQLite WAL, one connection per thread); writes are
 * serialized. store_begin()/store_commit()/store_rollback() bracket a
 * write transaction on the calling thread; writes outside one commit
 * individually.
 *
 * Ownership: rows are filled into caller-provided structs; char * members
 * of rows and blobs returned through char ** are malloc'd and owned by the
 * caller (free with the matching *_row_clear or free()).
 */
#ifndef DESKFS_STORE_H
#define DESKFS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TENANT_NAME_MAX 64

struct store;

struct tenant_row {
	int64_t id;
	char name[TENANT_NAME_MAX + 1];
	int64_t ctime;
	uint32_t mode, uid, gid;
};

enum doc_kind { DOC_TICKET = 1, DOC_ARTICLE = 2 };
/* The files a document shows; the numbers are part of inode numbers. */
enum doc_part { PART_MD = 1, PART_JSON = 2, PART_SOURCE = 3 };

struct doc_row {
	int64_t id;
	int64_t tenant_id;
	enum doc_kind kind;
	char *name;          /* directory name (tickets) or slug (articles) */
	char *source, *instance, *source_id;
	char hash[33];
	int64_t ctime, mtime;
	int64_t size_md, size_json, size_source;
};

/* What ingestion hands the store for one ticket or article. */
struct doc_put {
	enum doc_kind kind;
	const char *source, *instance, *source_id;
	const char *name;     /* preferred name */
	const char *alt_name; /* used when name is taken; "-2", "-3"... appended after that */
	char hash[33];        /* content hash of json (util_hash_hex) */
	const char *md, *json, *src;
	size_t md_len, json_len, src_len;
	const char *const *msgids; /* e-mail Message-IDs to index for threading */
	size_t n_msgids;
	int64_t mtime;
};

enum doc_put_result { DOC_CREATED = 1, DOC_UPDATED, DOC_UNCHANGED };

/* AREA_TENANT: editors' temporary files beside a tenant's config. */
enum inbox_area { AREA_INBOX = 1, AREA_KB = 2, AREA_QUERY = 3, AREA_TENANT = 4 };
enum inbox_state {
	INBOX_OPEN = 0,     /* being written */
	INBOX_CLOSED = 1,   /* complete, waiting to be ingested (or a temporary name) */
	INBOX_REJECTED = 2, /* ingestion failed: error says why */
};

struct inbox_row {
	int64_t id;
	int64_t tenant_id;
	enum inbox_area area;
	char *name;
	enum inbox_state state;
	int64_t size;
	int64_t mtime;
	uint32_t mode;
	char *error; /* NULL unless rejected (or partially rejected) */
};

/* Counters kept per tenant, shown in status. */
enum tenant_counter {
	CNT_FILES_INGESTED = 0,
	CNT_FILES_REJECTED,
	CNT_RECORDS_REJECTED,
	CNT_UNCHANGED,
	CNT_CREATED,
	CNT_UPDATED,
	CNT_DELETED,
	CNT_PASSAGES_DROPPED, /* passages deleted (their ids are in the drop log) */
	CNT_QUERIES,
	CNT_VSEQ,             /* the last vector write sequence number */
	CNT_GONE_FLOOR,       /* drop-log entries below this seq were trimmed */
	CNT_JOBS_DONE,        /* background jobs completed */
	CNT_JOBS_FAILED,      /* background jobs that gave up (dead) */
	CNT_SUMMARIES_DONE,   /* summary jobs completed */
	CNT__COUNT
};

typedef int (*tenant_cb)(void *ctx, const struct tenant_row *row);
typedef int (*doc_cb)(void *ctx, const struct doc_row *row);
typedef int (*inbox_cb)(void *ctx, const struct inbox_row *row);
typedef int (*event_cb)(void *ctx, int64_t time, const char *text);

/* Opens (creating if needed) the store at path and migrates its schema.
 * Returns 0 and *out, or -errno with a one-line reason in err (>= 256). */
int store_open_sqlite(const char *path, struct store **out, char *err, size_t errlen);
void store_close(struct store *s);

int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);
/* A read snapshot: the calling thread's reads between store_read_begin()
 * and store_read_end() see one state of the store and take its locks once
 * (SQLite: one read transaction instead of one per statement, which is
 * seven fcntl() calls a FUSE request under find). Pairs nest; inside a
 * write transaction both do nothing. A failed begin leaves reads as they
 * were (each its own transaction); store_read_end() is still called. */
void store_read_begin(struct store *s);
void store_read_end(struct store *s);
/* Moves the calling thread's open snapshot to the store as it is now, for
 * a reader that looked at state kept outside the store (a query's pending
 * flag, cleared once its answer is committed) and must not then read an
 * older store. Nothing without a snapshot, or while one of its statements
 * is still being stepped (a listing in progress keeps its state). */
void store_read_renew(struct store *s);
/* Runs PRAGMA integrity_check; returns 0 when "ok", -EIO otherwise. */
int store_check(struct store *s);

int store_tenant_create(struct store *s, const char *name, uint32_t mode, uint32_t uid,
			uint32_t gid, struct tenant_row *out);
int store_tenant_get(struct store *s, int64_t id, struct tenant_row *out);
/* Sets a tenant's permission bits and owner (chmod, chown). */
int store_tenant_attr_set(struct store *s, int64_t tenant, uint32_t mode, uint32_t uid,
			  uint32_t gid);
int store_tenant_find(struct store *s, const char *name, struct tenant_row *out);
/* Calls cb for tenants with id > after in id order until cb returns
 * non-zero (which is returned). */
int store_tenant_list(struct store *s, int64_t after, tenant_cb cb, void *ctx);
/* Deletes a tenant with no documents or inbox files; -ENOTEMPTY else. */
int store_tenant_delete(struct store *s, int64_t id);
/* Number of documents of each kind and of files in each area. */
struct tenant_usage {
	int64_t tickets, articles;
	int64_t inbox, kb_pending, queries, temp; /* inbox rows by area */
};
int store_tenant_usage(struct store *s, int64_t tenant, struct tenant_usage *u);

int store_doc_put(struct store *s, int64_t tenant, const struct doc_put *p,
		  enum doc_put_result *res, struct doc_row *out);
int store_doc_get(struct store *s, int64_t id, struct doc_row *out);
int store_doc_find(struct store *s, int64_t tenant, enum doc_kind kind, const char *name,
		   struct doc_row *out);
int store_doc_find_key(struct store *s, int64_t tenant, enum doc_kind kind, const char *source,
		       const char *instance, const char *source_id, struct doc_row *out);
/* The one document of a source with that source id in any instance;
 * -EEXIST when several instances have it. */
int store_doc_find_source_id(struct store *s, int64_t tenant, enum doc_kind kind,
			     const char *source, const char *source_id, struct doc_row *out);
/* Reads one part's bytes into a malloc'd buffer the caller frees. */
int store_doc_read(struct store *s, int64_t id, enum doc_part part, char **buf, size_t *len);
/* Reads up to size bytes of one part at off (a short count at the end);
 * returns the count or -errno. */
ssize_t store_doc_pread(struct store *s, int64_t id, enum doc_part part, char *buf, size_t size,
			off_t off);
int store_doc_list(struct store *s, int64_t tenant, enum doc_kind kind, int64_t after,
		   int limit, doc_cb cb, void *ctx);
int store_doc_delete(struct store *s, int64_t id);
/* The source_id of the e-mail ticket holding Message-ID msgid. */
int store_thread_find(struct store *s, int64_t tenant, const char *msgid, char **source_id);
void doc_row_clear(struct doc_row *r);

int store_inbox_create(struct store *s, int64_t tenant, enum inbox_area area, const char *name,
		       uint32_t mode, struct inbox_row *out);
int store_inbox_get(struct store *s, int64_t id, struct inbox_row *out);
/* Inserts r again under its id, name and mode (state open, empty): a file
 * ingested at a flush and written to again before its last close. */
int store_inbox_recreate(struct store *s, const struct inbox_row *r);
int store_inbox_find(struct store *s, int64_t tenant, enum inbox_area area, const char *name,
		     struct inbox_row *out);
int store_inbox_list(struct store *s, int64_t tenant, enum inbox_area area, int64_t after,
		     int limit, inbox_cb cb, void *ctx);
/* Lists every inbox file of every tenant in a state (for recovery). */
int store_inbox_list_state(struct store *s, enum inbox_state state, inbox_cb cb, void *ctx);
/* Updates state, size, mtime and error (NULL clears it). */
int store_inbox_update(struct store *s, const struct inbox_row *r);
int store_inbox_rename(struct store *s, int64_t id, const char *name);
int store_inbox_delete(struct store *s, int64_t id);
/* The content of a closed inbox file (kept while it waits or was rejected). */
int store_inbox_data_set(struct store *s, int64_t id, const char *data, size_t len);
int store_inbox_data_read(struct store *s, int64_t id, char **buf, size_t *len);
void inbox_row_clear(struct inbox_row *r);

int store_counter_add(struct store *s, int64_t tenant, enum tenant_counter c, int64_t delta);
int store_counters(struct store *s, int64_t tenant, int64_t out[CNT__COUNT]);
/* Appends a line to the tenant's event log (kept: the newest 100). */
int store_event_add(struct store *s, int64_t tenant, const char *text);
/* Newest first, at most limit. */
int store_event_list(struct store *s, int64_t tenant, int limit, event_cb cb, void *ctx);

/* ---- retrieval: passages and their vectors ---------------------------------
 *
 * A passage is one retrieval unit of a document: a ticket message or an
 * article section (chunked with overlap, retrieve.h). Term and vector
 * indexes are built in memory from these rows (retrieve.c), kept current
 * through three cursors: new passages (id), vectors written again by the
 * re-embedder (vseq, one number per batch), and dropped passages (the
 * drop log's seq; entries below CNT_GONE_FLOOR were trimmed). Vectors are
 * stored quantized: float scale, int8[dim], under their model's name. */

struct passage_put {
	const char *msg_id; /* the message id or section heading ("" if none) */
	const char *title;
	const char *text;
	const void *vec;    /* vector blob (embed.h layout), vec_len bytes; NULL: none yet */
	size_t vec_len;
};

/* What a document's passages share, for filters. */
struct passage_doc {
	int64_t doc_id;
	enum doc_kind kind;
	const char *status; /* ticket status ("" for articles) */
	int64_t created;    /* ticket or article creation time */
	const char *vmodel; /* embedding model of the vectors */
};

struct passage_filter {
	enum doc_kind kind; /* 0: any */
	const char *status; /* NULL or "": any */
	int64_t since, until;
};

struct passage_row {
	int64_t id, doc_id;
	enum doc_kind kind;
	char *doc_name, *msg_id, *title, *text, *status;
	int64_t created;
};

/* A row as the loaders give it; strings and vec valid during the call.
 * Each loader fills the fields its description names. */
struct passage_load {
	int64_t id, doc_id;
	enum doc_kind kind;
	const char *status, *title, *text;
	int64_t created;
	const char *vmodel; /* "" when it has no vector yet */
	const void *vec;
	size_t vec_len;
	int64_t vseq;
};
typedef int (*passage_load_cb)(void *ctx, const struct passage_load *p);

/* Replaces the passages of document d->doc_id (inside a transaction). */
int store_passages_set(struct store *s, int64_t tenant, const struct passage_doc *d,
		       const struct passage_put *p, size_t n);
/* Replaces the passages of document d->doc_id with message id msg_id
 * (a derived part, such as the summary), keeping the others (in a txn). */
int store_passages_set_part(struct store *s, int64_t tenant, const struct passage_doc *d,
			    const char *msg_id, const struct passage_put *p, size_t n);
/* Every field of the tenant's passages with id > after, in id order. */
int store_passage_load(struct store *s, int64_t tenant, int64_t after, passage_load_cb cb,
		       void *ctx);
/* id, vmodel, vec and vseq of passages whose vector was written with a
 * sequence number > after_vseq, in vseq order. */
int store_passage_revectors(struct store *s, int64_t tenant, int64_t after_vseq,
			    passage_load_cb cb, void *ctx);
/* The drop log after after_seq, in order; and its last seq (0: empty). */
int store_passage_gone(struct store *s, int64_t tenant, int64_t after_seq,
		       int (*cb)(void *ctx, int64_t seq, int64_t passage_id), void *ctx);
int store_passage_gone_max(struct store *s, int64_t tenant, int64_t *seq);
/* The tenant's highest passage id (ids only grow), 0 when none. */
int store_passage_max(struct store *s, int64_t tenant, int64_t *id);
/* The three cursors an index follows (highest passage id, vector write
 * sequence, drop log seq), in one read: equal to an index's, it is current. */
int store_passage_cursors(struct store *s, int64_t tenant, int64_t *max_id, int64_t *max_vseq,
			  int64_t *max_gone);
/* id, title and text of up to limit passages with id > after whose vector
 * is not of vmodel (or missing), in id order. */
int store_passage_stale(struct store *s, int64_t tenant, const char *vmodel, int64_t after,
			int limit, passage_load_cb cb, void *ctx);
int store_passage_stale_count(struct store *s, int64_t tenant, const char *vmodel,
			      int64_t *total, int64_t *stale);
/* Sets n vectors (blobs: n * blob_len bytes) of vmodel, under a new
 * vseq (inside a transaction); passages gone meanwhile are skipped. */
int store_passage_vec_set(struct store *s, int64_t tenant, const int64_t *ids, size_t n,
			  const char *vmodel, const void *blobs, size_t blob_len);
int store_passage_get(struct store *s, int64_t id, struct passage_row *out);
void passage_row_clear(struct passage_row *r);

/* The stored answer of a query file (text and JSON), -ENOENT if none;
 * setting one makes the answer time the query file's mtime. */
int store_answer_set(struct store *s, int64_t inbox_id, const char *text, size_t text_len,
		     const char *json, size_t json_len);
int store_answer_get(struct store *s, int64_t inbox_id, char **text, size_t *text_len,
		     char **json, size_t *json_len);
/* Sizes of the stored answer without reading it. */
int store_answer_size(struct store *s, int64_t inbox_id, int64_t *text_len, int64_t *json_len);
int store_answer_delete(struct store *s, int64_t inbox_id);
/* Query files written under a final name and not answered yet (to run
 * again after a crash), in id order. */
int store_query_pending(struct store *s, inbox_cb cb, void *ctx);

/* A tenant's configuration as JSON (secrets included: never show it
 * as is); -ENOENT when none was written. *json is malloc'd. */
int store_config_set(struct store *s, int64_t tenant, const char *json);
int store_config_get(struct store *s, int64_t tenant, char **json, int64_t *mtime);

/* ---- background jobs (jobs.h), summaries, similar-ticket lists ------------
 *
 * A job is one unit of background work on one document; (kind, doc) has at
 * most one row. store_job_put queues it, or queues it again (attempts
 * reset, gen + 1) when it exists in any state. States:
 *   queued --claim--> running --finish--> (row deleted)
 *   running --retry--> queued (run_after later) or dead (error kept)
 *   running, daemon died --store_job_recover--> queued
 * finish and retry change nothing when gen moved on (queued again while
 * running): the new run stays queued. Rows go with their document.
 */
/* JOB_SIMILAR_PEER: the list of a ticket a new or changed one ranks high
 * in, made again so that it shows the newcomer (it queues nothing more). */
/* JOB_SIMILAR_VIEW: similar.md/json rendered again from the stored list
 * (queued by the schema's triggers, store_view_set). */
enum job_kind { JOB_SUMMARY = 1, JOB_SIMILAR = 2, JOB_SIMILAR_PEER = 3, JOB_SIMILAR_VIEW = 4 };
enum job_state { JOB_QUEUED = 0, JOB_RUNNING = 1, JOB_DEAD = 2 };

struct job_row {
	int64_t id, tenant_id, doc_id, gen;
	enum job_kind kind;
	enum job_state state;
	int attempts;  /* including the run just claimed */
	char *error;   /* store_job_get only; job_row_clear */
};

struct job_stats {
	int64_t queued, running, dead;
	int64_t summary[3]; /* summary jobs by enum job_state */
};

int store_job_put(struct store *s, int64_t tenant, enum job_kind kind, int64_t doc_id);
/* Takes the next job whose run_after (epoch ms) has come; -ENOENT when
 * none, with *next_ms the earliest later run_after (0: nothing queued). */
int store_job_claim(struct store *s, int64_t now_ms, struct job_row *out, int64_t *next_ms);
int store_job_finish(struct store *s, const struct job_row *j);
int store_job_retry(struct store *s, const struct job_row *j, int64_t run_after_ms,
		    const char *error, bool dead);
int store_job_recover(struct store *s);
int store_job_stats(struct store *s, int64_t tenant, struct job_stats *out);
int store_job_get(struct store *s, enum job_kind kind, int64_t doc_id, struct job_row *out);
/* *due: a summary, similar or similar-peer job of doc_id is queued (not
 * running), so its similar list will be made again anyway. */
int store_job_list_due(struct store *s, int64_t doc_id, bool *due);
/* Dead jobs of a tenant, newest first. */
int store_job_dead_list(struct store *s, int64_t tenant, int limit,
			int (*cb)(void *ctx, int64_t doc_id, enum job_kind kind, const char *error),
			void *ctx);
void job_row_clear(struct job_row *j);

struct summary_row {
	char hash[33];  /* the ticket content hash that was summarized */
	bool current;   /* hash is still the ticket's */
	char *method, *md, *json;
	int64_t mtime;
};
/* Stores a ticket's summary if hash is still its content hash; -ESTALE
 * when the ticket changed or went meanwhile. */
int store_summary_set(struct store *s, int64_t doc_id, const char *hash, const char *method,
		      const char *md, const char *json);
int store_summary_get(struct store *s, int64_t doc_id, struct summary_row *out);
/* Stored summaries of the tenant (current or of an earlier version). */
int store_summary_count(struct store *s, int64_t tenant, int64_t *n);
void summary_row_clear(struct summary_row *r);
/* A ticket's similar-ticket list (copilot.c's JSON) and the tickets it
 * names (peers), inside store_begin() (-EINVAL outside one). */
int store_similar_set(struct store *s, int64_t doc_id, const char *json, int64_t mtime,
		      const int64_t *peers, size_t n_peers);
int store_similar_get(struct store *s, int64_t doc_id, char **json, int64_t *mtime);

/* Rendered files of a ticket, stored so that stat and read are one row
 * (copilot.h). A view goes stale when a ticket its list names changes its
 * summary or goes (schema triggers; a JOB_SIMILAR_VIEW job is queued to
 * render it again); an unchanged body keeps its mtime. */
enum view_part { VIEW_SIMILAR_MD = 1, VIEW_SIMILAR_JSON = 2 };
struct view_row {
	int64_t tenant_id, mtime; /* mtime: when the body changed or went stale */
	size_t len;
	char *body; /* malloc'd when asked for and fresh; the caller frees it */
};
int store_view_set(struct store *s, int64_t doc_id, enum view_part part, const char *body,
		   size_t len, int64_t mtime);
/* 0 with the row; -ESTALE (tenant_id and mtime set, no body) when stale;
 * -ENOENT when never rendered. */
int store_view_get(struct store *s, int64_t doc_id, enum view_part part, struct view_row *out,
		   bool body);

/* ---- feedback on query sources (feedback.h) --------------------------------- */

struct feedback_row {
	int64_t id, time;
	int sign;             /* +1 or -1 */
	const char *query;    /* "queries/NAME" */
	const char *question; /* the query's question when the line was written */
	int64_t doc_id;       /* 0: the document went since */
	const char *path;     /* the source as written: "tickets/4821", "kb/reset.md" */
	const void *vec;      /* the question's vector (feedback.h); NULL: none stored */
	size_t vec_len;
};
/* Rows valid during the call; non-zero stops the walk (returned). */
typedef int (*feedback_cb)(void *ctx, const struct feedback_row *r);

/* Records n lines in one transaction (ids are assigned). */
int store_feedback_add(struct store *s, int64_t tenant, const struct feedback_row *rows,
		       size_t n);
/* The tenant's feedback with time >= since, oldest first. */
int store_feedback_list(struct store *s, int64_t tenant, int64_t since, feedback_cb cb,
			void *ctx);
int store_feedback_clear(struct store *s, int64_t tenant);

#endif
