/* store_sqlite.c - the embedded store: one SQLite database in WAL mode.
 *
 * Connections: one writer connection guarded by wlock, and one read-only
 * connection per thread (created on first use), so readers never wait for
 * a long ingest transaction. A thread inside store_begin()..commit() reads
 * through the writer so it sees its own uncommitted rows.
 *
 * Schema versions live in PRAGMA user_version; migrations[] run forward in
 * one transaction each. Tenant, document and inbox ids become inode numbers
 * (fs.h), so they are AUTOINCREMENT: an id is never reused after a delete,
 * or the kernel would take a new file for an old one it still caches. Document bodies live in doc_body so that listing
 * and stat only touch the compact doc table.
 */
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sqlite_errno.h"
#include "strbuf.h"
#include "util.h"

enum stmt_id {
	ST_TENANT_INSERT, ST_TENANT_GET, ST_TENANT_FIND, ST_TENANT_LIST, ST_TENANT_DELETE,
	ST_USAGE_DOCS, ST_USAGE_INBOX,
	ST_DOC_GET, ST_DOC_FIND, ST_DOC_FIND_KEY, ST_DOC_FIND_SID, ST_DOC_LIST, ST_DOC_NAME_TAKEN,
	ST_DOC_INSERT, ST_DOC_UPDATE, ST_BODY_UPSERT, ST_DOC_READ_MD, ST_DOC_READ_JSON,
	ST_DOC_READ_SRC, ST_DOC_DELETE, ST_MSGREF_INSERT, ST_MSGREF_FIND,
	ST_INBOX_INSERT, ST_INBOX_GET, ST_INBOX_FIND, ST_INBOX_LIST, ST_INBOX_LIST_STATE,
	ST_INBOX_UPDATE, ST_INBOX_RENAME, ST_INBOX_DELETE, ST_INBOX_DATA_SET, ST_INBOX_DATA_GET,
	ST_COUNTER_ADD, ST_COUNTERS, ST_EVENT_ADD, ST_EVENT_TRIM, ST_EVENT_LIST,
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
	ST_PASSAGE_INSERT, ST_PASSAGE_GONE_LOG, ST_PASSAGE_DEL_DOC, ST_PASSAGE_LOAD,
	ST_PASSAGE_REVEC, ST_PASSAGE_GONE, ST_PASSAGE_GONE_MAX, ST_PASSAGE_MAX, ST_PASSAGE_GONE_TRIM,
	ST_PASSAGE_STALE,
	ST_PASSAGE_STALE_COUNT, ST_PASSAGE_VEC_SET, ST_PASSAGE_GET,
	ST_ANSWER_SET, ST_ANSWER_GET, ST_ANSWER_SIZE, ST_ANSWER_DELETE, ST_QUERY_PENDING,
	ST_CONFIG_SET, ST_CONFIG_GET,
	ST_JOB_PUT, ST_JOB_NEXT, ST_JOB_TAKE, ST_JOB_FINISH, ST_JOB_RETRY, ST_JOB_RECOVER,
	ST_JOB_STATS, ST_JOB_GET, ST_JOB_DEAD_LIST,
	ST_SUMMARY_SET, ST_SUMMARY_GET, ST_SUMMARY_COUNT, ST_SIMILAR_SET, ST_SIMILAR_GET,
	ST_SIMILAR_PEERS_CLEAR, ST_SIMILAR_PEER_ADD, ST_VIEW_SET, ST_VIEW_GET, ST_PASSAGE_CURSORS, ST_ANSWER_MTIME, ST_JOB_LIST_DUE,
	ST_PASSAGE_GONE_LOG_MSG, ST_PASSAGE_DEL_MSG, ST_PASSAGE_SEQ_MAX,
	ST_FEEDBACK_ADD, ST_FEEDBACK_LIST, ST_FEEDBACK_CLEAR, ST_TENANT_ATTR_SET, ST_INBOX_REINSERT,
	ST__COUNT
};

#define DOC_COLS "id, tenant_id, kind, name, source, instance, source_id, hash, ctime, " \
		 "mtime, size_md, size_json, size_source"
#define INBOX_COLS "id, tenant_id, area, name, state, size, mtime, mode, error"

static const char *const stmt_sql[ST__COUNT] = {
	[ST_TENANT_INSERT] = "INSERT INTO tenant(name, ctime, mode, uid, gid) VALUES (?,?,?,?,?)",
	[ST_TENANT_GET] = "SELECT id, name, ctime, mode, uid, gid FROM tenant WHERE id = ?",
	[ST_TENANT_FIND] = "SELECT id, name, ctime, mode, uid, gid FROM tenant WHERE name = ?",
	[ST_TENANT_LIST] = "SELECT id, name, ctime, mode, uid, gid FROM tenant WHERE id > ? ORDER BY id",
	[ST_TENANT_DELETE] = "DELETE FROM tenant WHERE id = ?",
	[ST_USAGE_DOCS] = "SELECT kind, count(*) FROM doc WHERE tenant_id = ? GROUP BY kind",
	[ST_USAGE_INBOX] = "SELECT area, count(*) FROM inbox WHERE tenant_id = ? GROUP BY area",
	[ST_DOC_GET] = "SELECT " DOC_COLS " FROM doc WHERE id = ?",
	[ST_DOC_FIND] = "SELECT " DOC_COLS " FROM doc WHERE tenant_id = ? AND kind = ? AND name = ?",
	[ST_DOC_FIND_KEY] = "SELECT " DOC_COLS " FROM doc WHERE tenant_id = ? AND kind = ? AND "
			    "source = ? AND instance = ? AND source_id = ?",
	[ST_DOC_FIND_SID] = "SELECT " DOC_COLS " FROM doc WHERE tenant_id = ? AND kind = ? AND "
			    "source = ? AND source_id = ? LIMIT 2",
	[ST_DOC_LIST] = "SELECT " DOC_COLS " FROM doc WHERE tenant_id = ? AND kind = ? AND id > ? "
			"ORDER BY id LIMIT ?",
	[ST_DOC_NAME_TAKEN] = "SELECT 1 FROM doc WHERE tenant_id = ? AND kind = ? AND name = ?",
	[ST_DOC_INSERT] = "INSERT INTO doc(tenant_id, kind, name, source, instance, source_id, hash, "
			  "ctime, mtime, size_md, size_json, size_source) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
	[ST_DOC_UPDATE] = "UPDATE doc SET hash = ?, mtime = ?, size_md = ?, size_json = ?, "
			  "size_source = ? WHERE id = ?",
	[ST_BODY_UPSERT] = "INSERT OR REPLACE INTO doc_body(doc_id, md, json, src) VALUES (?,?,?,?)",
	[ST_DOC_READ_MD] = "SELECT md FROM doc_body WHERE doc_id = ?",
	[ST_DOC_READ_JSON] = "SELECT json FROM doc_body WHERE doc_id = ?",
	[ST_DOC_READ_SRC] = "SELECT src FROM doc_body WHERE doc_id = ?",
	[ST_DOC_DELETE] = "DELETE FROM doc WHERE id = ?",
	[ST_MSGREF_INSERT] = "INSERT OR REPLACE INTO msgref(tenant_id, msgid, doc_id) VALUES (?,?,?)",
	[ST_MSGREF_FIND] = "SELECT d.source_id FROM msgref m JOIN doc d ON d.id = m.doc_id "
			   "WHERE m.tenant_id = ? AND m.msgid = ?",
	[ST_INBOX_INSERT] = "INSERT INTO inbox(tenant_id, area, name, state, size, mtime, mode) "
			    "VALUES (?,?,?,0,0,?,?)",
	[ST_INBOX_GET] = "SELECT " INBOX_COLS " FROM inbox WHERE id = ?",
	[ST_INBOX_FIND] = "SELECT " INBOX_COLS " FROM inbox WHERE tenant_id = ? AND area = ? AND name = ?",
	[ST_INBOX_LIST] = "SELECT " INBOX_COLS " FROM inbox WHERE tenant_id = ? AND area = ? AND id > ? "
			  "ORDER BY id LIMIT ?",
	[ST_INBOX_LIST_STATE] = "SELECT " INBOX_COLS " FROM inbox WHERE state = ? ORDER BY id",
	[ST_INBOX_UPDATE] = "UPDATE inbox SET state = ?, size = ?, mtime = ?, mode = ?, error = ? WHERE id = ?",
	[ST_INBOX_RENAME] = "UPDATE inbox SET name = ? WHERE id = ?",
	[ST_INBOX_DELETE] = "DELETE FROM inbox WHERE id = ?",
	[ST_INBOX_DATA_SET] = "UPDATE inbox SET data = ? WHERE id = ?",
	[ST_INBOX_DATA_GET] = "SELECT data FROM inbox WHERE id = ?",
	[ST_COUNTER_ADD] = "INSERT INTO counter(tenant_id, key, value) VALUES (?,?,?) "
			   "ON CONFLICT(tenant_id, key) DO UPDATE SET value = value + excluded.value",
	[ST_COUNTERS] = "SELECT key, value FROM counter WHERE tenant_id = ?",
	[ST_EVENT_ADD] = "INSERT INTO event(tenant_id, time, text) VALUES (?,?,?)",
	[ST_EVENT_TRIM] = "DELETE FROM event WHERE tenant_id = ?1 AND id <= "
			  "(SELECT id FROM event WHERE tenant_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET 100)",
	[ST_EVENT_LIST] = "SELECT time, text FROM event WHERE tenant_id = ? ORDER BY id DESC LIMIT ?",
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_PASSAGE_INSERT] = "INSERT INTO passage(tenant_id, doc_id, kind, seq, msg_id, title, text, "
			      "status, created, vmodel, vec) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
	[ST_PASSAGE_GONE_LOG] = "INSERT INTO passage_gone(tenant_id, passage_id) "
				"SELECT tenant_id, id FROM passage WHERE doc_id = ?",
	[ST_PASSAGE_DEL_DOC] = "DELETE FROM passage WHERE doc_id = ?",
	[ST_PASSAGE_LOAD] = "SELECT id, doc_id, kind, status, created, title, text, vmodel, vec, vseq "
			    "FROM passage WHERE tenant_id = ? AND id > ? ORDER BY id",
	[ST_PASSAGE_REVEC] = "SELECT id, vmodel, vec, vseq FROM passage WHERE tenant_id = ? "
			     "AND vseq > ? ORDER BY vseq",
	[ST_PASSAGE_GONE] = "SELECT seq, passage_id FROM passage_gone WHERE tenant_id = ? "
			    "AND seq > ? ORDER BY seq",
	[ST_PASSAGE_GONE_MAX] = "SELECT coalesce(max(seq), 0) FROM passage_gone WHERE tenant_id = ?",
	[ST_PASSAGE_MAX] = "SELECT coalesce(max(id), 0) FROM passage WHERE tenant_id = ?",
	[ST_PASSAGE_CURSORS] = "SELECT (SELECT coalesce(max(id), 0) FROM passage WHERE tenant_id = ?1), "
			       "(SELECT coalesce(max(vseq), 0) FROM passage WHERE tenant_id = ?1), "
			       "(SELECT coalesce(max(seq), 0) FROM passage_gone WHERE tenant_id = ?1)",
	[ST_PASSAGE_GONE_TRIM] = "DELETE FROM passage_gone WHERE tenant_id = ? AND seq < ?",
	[ST_PASSAGE_STALE] = "SELECT id, title, text FROM passage WHERE tenant_id = ? AND id > ? "
			     "AND vmodel != ? ORDER BY id LIMIT ?",
	[ST_PASSAGE_STALE_COUNT] = "SELECT count(*), sum(vmodel != ?2) FROM passage "
				   "WHERE tenant_id = ?1",
	[ST_PASSAGE_VEC_SET] = "UPDATE passage SET vmodel = ?, vec = ?, vseq = ? WHERE id = ?",
	[ST_PASSAGE_GET] = "SELECT p.id, p.doc_id, p.kind, d.name, p.msg_id, p.title, p.text, "
			   "p.status, p.created FROM passage p JOIN doc d ON d.id = p.doc_id WHERE p.id = ?",
	[ST_ANSWER_SET] = "INSERT OR REPLACE INTO answer(inbox_id, text, json) VALUES (?,?,?)",
	[ST_ANSWER_GET] = "SELECT text, json FROM answer WHERE inbox_id = ?",
	/* the query file's content (question and answer) changed: its mtime */
	[ST_ANSWER_MTIME] = "UPDATE inbox SET mtime = CAST(strftime('%s', 'now') AS INTEGER) "
			    "WHERE id = ?",
	[ST_ANSWER_SIZE] = "SELECT length(text), length(json) FROM answer WHERE inbox_id = ?",
	[ST_ANSWER_DELETE] = "DELETE FROM answer WHERE inbox_id = ?",
	[ST_QUERY_PENDING] = "SELECT " INBOX_COLS " FROM inbox i WHERE area = ? AND state = ?"
			     " AND NOT EXISTS (SELECT 1 FROM answer a WHERE a.inbox_id = i.id)"
			     " ORDER BY id",
	[ST_CONFIG_SET] = "INSERT OR REPLACE INTO tenant_config(tenant_id, json, mtime) VALUES (?,?,?)",
	[ST_CONFIG_GET] = "SELECT json, mtime FROM tenant_config WHERE tenant_id = ?",
	[ST_JOB_PUT] = "INSERT INTO job(tenant_id, kind, doc_id, state, gen, attempts, run_after, "
		       "error, created) VALUES (?1, ?2, ?3, 0, 1, 0, 0, NULL, ?4) "
		       "ON CONFLICT(kind, doc_id) DO UPDATE SET state = 0, gen = gen + 1, "
		       "attempts = 0, run_after = 0, error = NULL",
	[ST_JOB_NEXT] = "SELECT id, tenant_id, kind, doc_id, gen, attempts, run_after FROM job "
			"WHERE state = 0 ORDER BY run_after, id LIMIT 1",
	[ST_JOB_TAKE] = "UPDATE job SET state = 1, attempts = attempts + 1 WHERE id = ?",
	[ST_JOB_FINISH] = "DELETE FROM job WHERE id = ? AND gen = ?",
	[ST_JOB_RETRY] = "UPDATE job SET state = ?, run_after = ?, error = ? WHERE id = ? AND gen = ?",
	[ST_JOB_RECOVER] = "UPDATE job SET state = 0 WHERE state = 1",
	[ST_JOB_LIST_DUE] = "SELECT EXISTS (SELECT 1 FROM job WHERE doc_id = ? AND state = 0 AND kind IN "
			    "(1, 2, 3))",
	[ST_JOB_STATS] = "SELECT kind, state, count(*) FROM job WHERE tenant_id = ? "
			 "GROUP BY kind, state",
	[ST_SUMMARY_COUNT] = "SELECT count(*) FROM summary WHERE tenant_id = ?",
	[ST_JOB_GET] = "SELECT id, tenant_id, kind, doc_id, gen, attempts, state, error FROM job "
		       "WHERE kind = ? AND doc_id = ?",
	[ST_JOB_DEAD_LIST] = "SELECT doc_id, kind, error FROM job WHERE tenant_id = ? AND state = 2 "
			     "ORDER BY id DESC LIMIT ?",
	[ST_SUMMARY_SET] = "INSERT OR REPLACE INTO summary(doc_id, tenant_id, hash, method, md, json, "
			   "mtime) SELECT id, tenant_id, hash, ?3, ?4, ?5, ?6 FROM doc "
			   "WHERE id = ?1 AND hash = ?2",
	[ST_SUMMARY_GET] = "SELECT s.hash, s.method, s.md, s.json, s.mtime, d.hash FROM summary s "
			   "JOIN doc d ON d.id = s.doc_id WHERE s.doc_id = ?",
	[ST_SIMILAR_SET] = "INSERT OR REPLACE INTO similar(doc_id, json, mtime) VALUES (?,?,?)",
	[ST_SIMILAR_GET] = "SELECT json, mtime FROM similar WHERE doc_id = ?",
	[ST_SIMILAR_PEERS_CLEAR] = "DELETE FROM similar_peer WHERE doc_id = ?",
	[ST_SIMILAR_PEER_ADD] = "INSERT OR IGNORE INTO similar_peer(peer_id, doc_id) VALUES (?,?)",
	/* an unchanged body keeps its mtime (rsync, find -newer) */
	[ST_VIEW_SET] = "INSERT INTO view(doc_id, part, body, mtime, stale) VALUES (?1,?2,?3,?4,0) "
			"ON CONFLICT(doc_id, part) DO UPDATE SET mtime = CASE WHEN body = excluded.body "
			"THEN mtime ELSE excluded.mtime END, body = excluded.body, stale = 0",
	[ST_VIEW_GET] = "SELECT v.stale, v.mtime, length(v.body), d.tenant_id, "
			"CASE WHEN ?3 THEN v.body END FROM view v JOIN doc d ON d.id = v.doc_id "
			"WHERE v.doc_id = ?1 AND v.part = ?2",
	[ST_PASSAGE_GONE_LOG_MSG] = "INSERT INTO passage_gone(tenant_id, passage_id) "
				    "SELECT tenant_id, id FROM passage WHERE doc_id = ? AND msg_id = ?",
	[ST_PASSAGE_DEL_MSG] = "DELETE FROM passage WHERE doc_id = ? AND msg_id = ?",
	[ST_PASSAGE_SEQ_MAX] = "SELECT coalesce(max(seq), -1) FROM passage WHERE doc_id = ?",
	[ST_FEEDBACK_ADD] = "INSERT INTO feedback(tenant_id, time, sign, query, question, doc_id, "
			    "path, vec) VALUES (?,?,?,?,?,?,?,?)",
	[ST_FEEDBACK_LIST] = "SELECT id, time, sign, query, question, doc_id, path, vec FROM feedback "
			     "WHERE tenant_id = ? AND time >= ? ORDER BY id",
	[ST_FEEDBACK_CLEAR] = "DELETE FROM feedback WHERE tenant_id = ?",
	[ST_TENANT_ATTR_SET] = "UPDATE tenant SET mode = ?, uid = ?, gid = ? WHERE id = ?",
	[ST_INBOX_REINSERT] = "INSERT INTO inbox(id, tenant_id, area, name, state, size, mtime, mode) "
			      "VALUES (?,?,?,?,0,0,?,?)",
};

/* Trigger body: the views naming ticket ID go stale and are queued for a
 * re-render (v9). */
#define VIEWS_STALE(ID)                                                                          \
	" UPDATE view SET stale = CAST(strftime('%s', 'now') AS INTEGER) WHERE stale = 0"        \
	" AND doc_id IN (SELECT doc_id FROM similar_peer WHERE peer_id = " ID ");"               \
	" INSERT INTO job(tenant_id, kind, doc_id, state, gen, attempts, run_after, error, created)" \
	" SELECT d.tenant_id, 4, p.doc_id, 0, 1, 0, 0, NULL, CAST(strftime('%s', 'now') AS INTEGER)" \
	" FROM similar_peer p JOIN doc d ON d.id = p.doc_id WHERE p.peer_id = " ID               \
	" AND p.doc_id <> " ID " ON CONFLICT(kind, doc_id) DO UPDATE SET state = 0,"             \
	" gen = gen + 1, attempts = 0, run_after = 0, error = NULL;"

_Static_assert(JOB_SIMILAR_VIEW == 4, "the v9 triggers queue job kind 4");
_Static_assert(JOB_SUMMARY == 1 && JOB_SIMILAR == 2 && JOB_SIMILAR_PEER == 3,
	       "ST_JOB_LIST_DUE names the kinds that make a list");

static const char *const migrations[] = {
	/* 1: the foundation */
	"CREATE TABLE tenant(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, ctime INTEGER NOT NULL,"
	" mode INTEGER NOT NULL, uid INTEGER NOT NULL, gid INTEGER NOT NULL);"
	"CREATE TABLE doc(id INTEGER PRIMARY KEY AUTOINCREMENT, tenant_id INTEGER NOT NULL REFERENCES tenant(id),"
	" kind INTEGER NOT NULL, name TEXT NOT NULL, source TEXT NOT NULL, instance TEXT NOT NULL,"
	" source_id TEXT NOT NULL, hash TEXT NOT NULL, ctime INTEGER NOT NULL, mtime INTEGER NOT NULL,"
	" size_md INTEGER NOT NULL, size_json INTEGER NOT NULL, size_source INTEGER NOT NULL,"
	" UNIQUE(tenant_id, kind, name), UNIQUE(tenant_id, kind, source, instance, source_id));"
	"CREATE TABLE doc_body(doc_id INTEGER PRIMARY KEY REFERENCES doc(id) ON DELETE CASCADE,"
	" md BLOB NOT NULL, json BLOB NOT NULL, src BLOB NOT NULL);"
	"CREATE TABLE msgref(tenant_id INTEGER NOT NULL, msgid TEXT NOT NULL,"
	" doc_id INTEGER NOT NULL REFERENCES doc(id) ON DELETE CASCADE,"
	" PRIMARY KEY(tenant_id, msgid)) WITHOUT ROWID;"
	"CREATE INDEX msgref_doc ON msgref(doc_id);"
	"CREATE TABLE inbox(id INTEGER PRIMARY KEY AUTOINCREMENT, tenant_id INTEGER NOT NULL REFERENCES tenant(id),"
	" area INTEGER NOT NULL, name TEXT NOT NULL, state INTEGER NOT NULL, size INTEGER NOT NULL,"
	" mtime INTEGER NOT NULL, mode INTEGER NOT NULL, error TEXT, data BLOB,"
	" UNIQUE(tenant_id, area, name));"
	"CREATE TABLE counter(tenant_id INTEGER NOT NULL, key INTEGER NOT NULL, value INTEGER NOT NULL,"
	" PRIMARY KEY(tenant_id, key)) WITHOUT ROWID;"
	"CREATE TABLE event(id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL, time INTEGER NOT NULL,"
	" text TEXT NOT NULL);"
	"CREATE INDEX event_tenant ON event(tenant_id, id);",
	/* v2: listings page by id within (tenant, kind): without these the
	 * UNIQUE(..., name) indexes were scanned and sorted for every page */
	"CREATE INDEX doc_list ON doc(tenant_id, kind, id);"
	"CREATE INDEX inbox_list ON inbox(tenant_id, area, id);",
	/* v3: retrieval passages (FTS5 tables fts_TENANT are made on first
	 * use) and the answers of query files */
	"CREATE TABLE passage(id INTEGER PRIMARY KEY AUTOINCREMENT, tenant_id INTEGER NOT NULL,"
	" doc_id INTEGER NOT NULL REFERENCES doc(id) ON DELETE CASCADE, kind INTEGER NOT NULL,"
	" seq INTEGER NOT NULL, msg_id TEXT NOT NULL, title TEXT NOT NULL, text TEXT NOT NULL,"
	" status TEXT NOT NULL, created INTEGER NOT NULL, vmodel TEXT NOT NULL, vec BLOB);"
	"CREATE INDEX passage_doc ON passage(doc_id);"
	"CREATE INDEX passage_tenant ON passage(tenant_id, id);"
	"CREATE TABLE answer(inbox_id INTEGER PRIMARY KEY REFERENCES inbox(id) ON DELETE CASCADE,"
	" text BLOB NOT NULL, json BLOB NOT NULL);",
	/* v4: a tenant's configuration (providers, retrieval settings) */
	"CREATE TABLE tenant_config(tenant_id INTEGER PRIMARY KEY REFERENCES tenant(id)"
	" ON DELETE CASCADE, json TEXT NOT NULL, mtime INTEGER NOT NULL);",
	/* v5: BM25 moves in memory (retrieve.h), the FTS5 tables go (migrate()
	 * drops them); vectors get a write sequence so re-embedded ones are
	 * found, and dropped passages a log so indexes tombstone them */
	"ALTER TABLE passage ADD COLUMN vseq INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX passage_vseq ON passage(tenant_id, vseq);"
	"CREATE TABLE passage_gone(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" tenant_id INTEGER NOT NULL, passage_id INTEGER NOT NULL);"
	"CREATE INDEX passage_gone_tenant ON passage_gone(tenant_id, seq);",
	/* v6: background jobs (jobs.h), ticket summaries and similar-ticket
	 * lists; all go with their document */
	"CREATE TABLE job(id INTEGER PRIMARY KEY AUTOINCREMENT, tenant_id INTEGER NOT NULL,"
	" kind INTEGER NOT NULL, doc_id INTEGER NOT NULL REFERENCES doc(id) ON DELETE CASCADE,"
	" state INTEGER NOT NULL, gen INTEGER NOT NULL, attempts INTEGER NOT NULL,"
	" run_after INTEGER NOT NULL, error TEXT, created INTEGER NOT NULL, UNIQUE(kind, doc_id));"
	"CREATE INDEX job_ready ON job(state, run_after, id);"
	"CREATE INDEX job_tenant ON job(tenant_id, state);"
	"CREATE INDEX job_doc ON job(doc_id);"
	"CREATE TABLE summary(doc_id INTEGER PRIMARY KEY REFERENCES doc(id) ON DELETE CASCADE,"
	" tenant_id INTEGER NOT NULL, hash TEXT NOT NULL, method TEXT NOT NULL, md TEXT NOT NULL,"
	" json TEXT NOT NULL, mtime INTEGER NOT NULL);"
	"CREATE TABLE similar(doc_id INTEGER PRIMARY KEY REFERENCES doc(id) ON DELETE CASCADE,"
	" json TEXT NOT NULL, mtime INTEGER NOT NULL);",
	/* v7: feedback on query sources (feedback.h); the document may go,
	 * the line stays (its path says what it was about) */
	"CREATE TABLE feedback(id INTEGER PRIMARY KEY AUTOINCREMENT, tenant_id INTEGER NOT NULL"
	" REFERENCES tenant(id) ON DELETE CASCADE, time INTEGER NOT NULL, sign INTEGER NOT NULL,"
	" query TEXT NOT NULL, question TEXT NOT NULL,"
	" doc_id INTEGER REFERENCES doc(id) ON DELETE SET NULL, path TEXT NOT NULL);"
	"CREATE INDEX feedback_tenant ON feedback(tenant_id, time);"
	"CREATE INDEX feedback_doc ON feedback(doc_id);",
	/* v8: a feedback record keeps its question's vector, made once when
	 * it is written rather than at every later query */
	"ALTER TABLE feedback ADD COLUMN vec BLOB;",
	/* v9: similar.md and similar.json are stored as rendered (a stat or a
	 * read is one row), with which tickets each list names. A listed
	 * ticket whose summary changes, or that goes, marks the views naming
	 * it stale (stale = the time it happened; 0 = fresh) and queues their
	 * re-render (JOB_SIMILAR_VIEW); lists made before v9 are queued too */
	"CREATE TABLE view(doc_id INTEGER NOT NULL REFERENCES doc(id) ON DELETE CASCADE,"
	" part INTEGER NOT NULL, body BLOB NOT NULL, mtime INTEGER NOT NULL,"
	" stale INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(doc_id, part)) WITHOUT ROWID;"
	"CREATE TABLE similar_peer(peer_id INTEGER NOT NULL,"
	" doc_id INTEGER NOT NULL REFERENCES doc(id) ON DELETE CASCADE,"
	" PRIMARY KEY(peer_id, doc_id)) WITHOUT ROWID;"
	"CREATE INDEX similar_peer_doc ON similar_peer(doc_id);"
	"INSERT OR IGNORE INTO similar_peer SELECT json_extract(e.value, '$.doc_id'), s.doc_id"
	" FROM similar s, json_each(s.json, '$.tickets') e"
	" WHERE json_extract(e.value, '$.doc_id') IS NOT NULL;"
	"INSERT INTO job(tenant_id, kind, doc_id, state, gen, attempts, run_after, error, created)"
	" SELECT d.tenant_id, 4, s.doc_id, 0, 1, 0, 0, NULL, CAST(strftime('%s', 'now') AS INTEGER)"
	" FROM similar s JOIN doc d ON d.id = s.doc_id WHERE true ON CONFLICT(kind, doc_id) DO NOTHING;"
	"CREATE TRIGGER summary_views AFTER INSERT ON summary BEGIN"
	VIEWS_STALE("NEW.doc_id") "END;"
	"CREATE TRIGGER doc_views BEFORE DELETE ON doc BEGIN"
	VIEWS_STALE("OLD.id") " DELETE FROM similar_peer WHERE peer_id = OLD.id; END;",
	/* v10: status counts a tenant's jobs by kind and state from the index
	 * alone (no sort of 100,000 rows at every read of status) */
	"CREATE INDEX job_kinds ON job(tenant_id, kind, state);",
};
#define MIGRATION_DROP_FTS 5 /* the version whose migration drops fts_* tables */

struct conn {
	sqlite3 *db;
	sqlite3_stmt *st[ST__COUNT];
	struct store *store;       /* readers: the owner, for thread exit */
	struct conn *next, **prev; /* readers: on store->conns */
	int read_depth;            /* readers: store_read_begin() nesting */
};

/* WAL checkpoints run on their own thread and connection, so a commit does
 * not wait for pages to be copied into the database file and synced. The
 * writer's WAL hook wakes the checkpointer once the WAL holds CKPT_PAGES
 * pages, and again each time it has grown by CKPT_PAGES more: one pass
 * (and one fsync) per CKPT_PAGES written, not one per commit, so a page
 * that many commits write is copied once. A checkpoint that runs beside a
 * busy writer cannot reset the WAL (the writer keeps appending), so past
 * CKPT_PAGES_MAX the writer finishes the (by then mostly done) checkpoint
 * itself and the WAL starts over. */
#define CKPT_PAGES 1000
#define CKPT_PAGES_MAX 16000

struct store {
	char *path;
	struct conn writer;
	pthread_mutex_t wlock;
	pthread_key_t key;
	pthread_mutex_t conns_lock;
	struct conn *conns; /* reader connections of all threads */
	pthread_t ckpt_thread;
	bool ckpt_running, ckpt_wanted, ckpt_stop;
	int ckpt_next; /* WAL pages at which the writer next wakes it (wal_hook only) */
	pthread_mutex_t ckpt_lock;
	pthread_cond_t ckpt_cond;
};

/* The store whose write transaction the current thread holds, if any. */
static __thread struct store *txn_owner;

static int passages_drop(struct store *s, int64_t tenant, int64_t doc_id);
static int fts_tables_drop(sqlite3 *db);

/* The one mapper from SQLite result codes to errno. */
int sqlite_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK: case SQLITE_ROW: case SQLITE_DONE: return 0;
	case SQLITE_NOMEM: return -ENOMEM;
	case SQLITE_BUSY: case SQLITE_LOCKED: return -EBUSY;
	case SQLITE_READONLY: return -EROFS;
	case SQLITE_FULL: return -ENOSPC;
	case SQLITE_CONSTRAINT: return -EEXIST;
	case SQLITE_NOTFOUND: return -ENOENT;
	case SQLITE_CANTOPEN: return -EACCES;
	case SQLITE_PERM: case SQLITE_AUTH: return -EACCES;
	case SQLITE_TOOBIG: return -EFBIG;
	case SQLITE_CORRUPT: case SQLITE_NOTADB: case SQLITE_IOERR: return -EIO;
	default: return -EIO;
	}
}

static int conn_open(const char *path, int flags, struct conn *c)
{
	int rc;

	memset(c, 0, sizeof(*c));
	rc = sqlite3_open_v2(path, &c->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(c->db, 10000);
		sqlite3_extended_result_codes(c->db, 0);
		/* The writer gets a 16 MiB page cache; each reader thread 2 MiB,
		 * so RSS stays bounded with 16 FUSE threads (the OS page cache
		 * holds the rest). */
		rc = sqlite3_exec(c->db, (flags & SQLITE_OPEN_READONLY) ?
				  "PRAGMA cache_size = -2000;" :
				  "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;"
				  "PRAGMA cache_size = -16000;", NULL, NULL, NULL);
	}
	return sqlite_errno(rc);
}

static void conn_close(struct conn *c)
{
	for (int i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(c->st[i]);
	sqlite3_close(c->db);
	c->db = NULL;
}

static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store *s = arg;

	if (pages >= CKPT_PAGES_MAX) {
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	} else if (pages >= s->ckpt_next) {
		s->ckpt_next = pages + CKPT_PAGES;
		pthread_mutex_lock(&s->ckpt_lock);
		s->ckpt_wanted = true;
		pthread_cond_signal(&s->ckpt_cond);
		pthread_mutex_unlock(&s->ckpt_lock);
	} else if (pages < CKPT_PAGES) {
		s->ckpt_next = CKPT_PAGES; /* the WAL started over */
	}
	return SQLITE_OK;
}

static void *ckpt_main(void *arg)
{
	struct store *s = arg;
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) ==
	    SQLITE_OK)
		sqlite3_busy_timeout(db, 1000);
	pthread_mutex_lock(&s->ckpt_lock);
	for (;;) {
		while (!s->ckpt_wanted && !s->ckpt_stop)
			pthread_cond_wait(&s->ckpt_cond, &s->ckpt_lock);
		if (s->ckpt_stop)
			break;
		s->ckpt_wanted = false;
		pthread_mutex_unlock(&s->ckpt_lock);
		/* A connection sees the WAL only once it has read the database:
		 * a checkpoint before that is a no-op (pnLog -1). Reading first
		 * each pass also recovers from a first read that failed. */
		sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
		sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&s->ckpt_lock);
	}
	pthread_mutex_unlock(&s->ckpt_lock);
	sqlite3_close(db);
	return NULL;
}

/* Thread exit: the thread's reader connection closes with it. A
 * connection holds three descriptors (database, WAL, shared memory), and
 * FUSE threads come and go: keeping them would exhaust the open-file limit. */
static void reader_destroy(void *p)
{
	struct conn *c = p;
	struct store *s = c->store;

	pthread_mutex_lock(&s->conns_lock);
	*c->prev = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&s->conns_lock);
	conn_close(c);
	free(c);
}

static struct conn *conn_get(struct store *s)
{
	struct conn *c;

	if (txn_owner == s)
		return &s->writer;
	c = pthread_getspecific(s->key);
	if (c)
		return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if (conn_open(s->path, SQLITE_OPEN_READONLY, c)) {
		sqlite3_close(c->db);
		free(c);
		return NULL;
	}
	c->store = s;
	pthread_mutex_lock(&s->conns_lock);
	c->next = s->conns;
	if (c->next)
		c->next->prev = &c->next;
	c->prev = &s->conns;
	s->conns = c;
	pthread_mutex_unlock(&s->conns_lock);
	pthread_setspecific(s->key, c);
	return c;
}

void store_read_begin(struct store *s)
{
	struct conn *c;

	if (txn_owner == s || !(c = conn_get(s)))
		return;
	if (c->read_depth++ == 0)
		sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL);
}

void store_read_end(struct store *s)
{
	struct conn *c;

	if (txn_owner == s || !(c = pthread_getspecific(s->key)) || !c->read_depth)
		return;
	/* the BEGIN may have failed: then no transaction is open */
	if (--c->read_depth == 0 && !sqlite3_get_autocommit(c->db) &&
	    sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		/* a statement left mid-step holds the snapshot: reset them all
		 * so that the next request sees the store as it is */
		for (sqlite3_stmt *p = NULL; (p = sqlite3_next_stmt(c->db, p));)
			sqlite3_reset(p);
		sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
	}
}

void store_read_renew(struct store *s)
{
	struct conn *c;

	if (txn_owner == s || !(c = pthread_getspecific(s->key)) || !c->read_depth ||
	    sqlite3_get_autocommit(c->db))
		return;
	for (sqlite3_stmt *p = NULL; (p = sqlite3_next_stmt(c->db, p));)
		if (sqlite3_stmt_busy(p))
			return;
	if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL);
}

static sqlite3_stmt *stmt_get(struct conn *c, enum stmt_id id)
{
	if (!c)
		return NULL;
	if (!c->st[id] && sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
					     &c->st[id], NULL) != SQLITE_OK) {
		fprintf(stderr, "deskfs: sql prepare failed: %s\n", sqlite3_errmsg(c->db));
		return NULL;
	}
	return c->st[id];
}

/* A read statement on the thread's connection, or a write statement on the
 * writer; writes outside a transaction take wlock until stmt_done(). */
static sqlite3_stmt *stmt_read(struct store *s, enum stmt_id id)
{
	return stmt_get(conn_get(s), id);
}

static sqlite3_stmt *stmt_write(struct store *s, enum stmt_id id, bool *locked)
{
	*locked = false;
	if (txn_owner != s) {
		pthread_mutex_lock(&s->wlock);
		*locked = true;
	}
	return stmt_get(&s->writer, id);
}

static void stmt_done(struct store *s, sqlite3_stmt *st, bool locked)
{
	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	if (locked)
		pthread_mutex_unlock(&s->wlock);
}

/* Steps a write statement to completion; returns 0 or -errno. */
static int stmt_exec(sqlite3_stmt *st)
{
	int rc;

	if (!st)
		return -ENOMEM;
	rc = sqlite3_step(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : sqlite_errno(rc);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_STATIC);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);

	return t ? t : "";
}

static char *col_strdup(sqlite3_stmt *st, int i)
{
	return strdup(col_text(st, i));
}

static int db_exec(sqlite3 *db, const char *sql)
{
	return sqlite_errno(sqlite3_exec(db, sql, NULL, NULL, NULL));
}

/* Runs a cached statement on the writer (wlock held). */
static int writer_exec(struct store *s, enum stmt_id id)
{
	sqlite3_stmt *st = stmt_get(&s->writer, id);
	int rc = stmt_exec(st);

	if (st)
		sqlite3_reset(st);
	return rc;
}

static int migrate(struct store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int version = 0, rc;
	int latest = (int)(sizeof(migrations) / sizeof(migrations[0]));

	rc = sqlite3_prepare_v2(s->writer.db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	else
		rc = sqlite3_errcode(s->writer.db);
	sqlite3_finalize(st);
	if (rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE) {
		snprintf(err, errlen, "cannot read database '%s': %s", s->path,
			 sqlite3_errstr(rc));
		return sqlite_errno(rc);
	}
	if (version > latest) {
		snprintf(err, errlen, "database '%s' has schema version %d, newer than this "
			 "deskfs understands (%d)", s->path, version, latest);
		return -EPROTO;
	}
	for (int v = version; v < latest; v++) {
		char pragma[64];
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d;", v + 1);
		if ((rc = db_exec(s->writer.db, "BEGIN IMMEDIATE")) ||
		    (rc = db_exec(s->writer.db, migrations[v])) ||
		    (v + 1 == MIGRATION_DROP_FTS && (rc = fts_tables_drop(s->writer.db))) ||
		    (rc = db_exec(s->writer.db, pragma)) ||
		    (rc = db_exec(s->writer.db, "COMMIT"))) {
			snprintf(err, errlen, "cannot migrate database '%s' to version %d: %s",
				 s->path, v + 1, sqlite3_errmsg(s->writer.db));
			db_exec(s->writer.db, "ROLLBACK");
			return rc;
		}
	}
	return 0;
}

int store_open_sqlite(const char *path, struct store **out, char *err, size_t errlen)
{
	struct store *s;
	int rc;

	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&s->wlock, NULL);
	pthread_mutex_init(&s->conns_lock, NULL);
	pthread_mutex_init(&s->ckpt_lock, NULL);
	pthread_cond_init(&s->ckpt_cond, NULL);
	s->ckpt_next = CKPT_PAGES;
	pthread_key_create(&s->key, reader_destroy);
	rc = conn_open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &s->writer);
	if (rc) {
		snprintf(err, errlen, "cannot open database '%s': %s", path,
			 s->writer.db ? sqlite3_errmsg(s->writer.db) : "out of memory");
		goto fail;
	}
	/* journal_mode is the first statement to touch the file: a file that
	 * is not a database fails here. */
	rc = db_exec(s->writer.db, "PRAGMA journal_mode = WAL");
	if (rc) {
		snprintf(err, errlen, "cannot open database '%s': %s", path,
			 sqlite3_errmsg(s->writer.db));
		goto fail;
	}
	rc = migrate(s, err, errlen);
	if (rc)
		goto fail;
	rc = db_exec(s->writer.db, "PRAGMA quick_check");
	if (rc) {
		snprintf(err, errlen, "database '%s' is corrupt: %s", path,
			 sqlite3_errmsg(s->writer.db));
		goto fail;
	}
	if (pthread_create(&s->ckpt_thread, NULL, ckpt_main, s) == 0) {
		s->ckpt_running = true;
		sqlite3_wal_hook(s->writer.db, wal_hook, s);
	}
	*out = s;
	return 0;
fail:
	store_close(s);
	return rc;
}

void store_close(struct store *s)
{
	struct conn *c, *next;

	if (!s)
		return;
	if (s->ckpt_running) {
		pthread_mutex_lock(&s->ckpt_lock);
		s->ckpt_stop = true;
		pthread_cond_signal(&s->ckpt_cond);
		pthread_mutex_unlock(&s->ckpt_lock);
		pthread_join(s->ckpt_thread, NULL);
	}
	pthread_setspecific(s->key, NULL);
	for (c = s->conns; c; c = next) {
		next = c->next;
		conn_close(c);
		free(c);
	}
	if (s->writer.db) {
		/* Fold the WAL back so the database is one file at rest; another
		 * process (a mount, deskfs ingest) writing now is not waited for. */
		sqlite3_busy_timeout(s->writer.db, 0);
		sqlite3_wal_checkpoint_v2(s->writer.db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
		conn_close(&s->writer);
	}
	pthread_key_delete(s->key);
	pthread_mutex_destroy(&s->wlock);
	pthread_mutex_destroy(&s->conns_lock);
	pthread_mutex_destroy(&s->ckpt_lock);
	pthread_cond_destroy(&s->ckpt_cond);
	free(s->path);
	free(s);
}

int store_begin(struct store *s)
{
	int rc;

	pthread_mutex_lock(&s->wlock);
	rc = writer_exec(s, ST_BEGIN);
	if (rc) {
		pthread_mutex_unlock(&s->wlock);
		return rc;
	}
	txn_owner = s;
	return 0;
}

int store_commit(struct store *s)
{
	int rc = writer_exec(s, ST_COMMIT);

	if (rc)
		writer_exec(s, ST_ROLLBACK);
	txn_owner = NULL;
	pthread_mutex_unlock(&s->wlock);
	return rc;
}

void store_rollback(struct store *s)
{
	writer_exec(s, ST_ROLLBACK);
	txn_owner = NULL;
	pthread_mutex_unlock(&s->wlock);
}

int store_check(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int rc = -EIO;

	pthread_mutex_lock(&s->wlock);
	if (sqlite3_prepare_v2(s->writer.db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW &&
	    !strcmp((const char *)sqlite3_column_text(st, 0), "ok"))
		rc = 0;
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->wlock);
	return rc;
}

/* ---- tenants ---------------------------------------------------------------- */

static void tenant_from_row(sqlite3_stmt *st, struct tenant_row *r)
{
	r->id = sqlite3_column_int64(st, 0);
	snprintf(r->name, sizeof(r->name), "%s", (const char *)sqlite3_column_text(st, 1));
	r->ctime = sqlite3_column_int64(st, 2);
	r->mode = (uint32_t)sqlite3_column_int64(st, 3);
	r->uid = (uint32_t)sqlite3_column_int64(st, 4);
	r->gid = (uint32_t)sqlite3_column_int64(st, 5);
}

/* Runs a one-row read; fills with fill() on a row. */
static int read_one(struct store *s, sqlite3_stmt *st, void (*fill)(sqlite3_stmt *, void *),
		    void *out)
{
	int rc;

	if (!st)
		return -ENOMEM;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		fill(st, out);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : sqlite_errno(rc);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

static void fill_tenant(sqlite3_stmt *st, void *out)
{
	tenant_from_row(st, out);
}

int store_tenant_create(struct store *s, const char *name, uint32_t mode, uint32_t uid,
			uint32_t gid, struct tenant_row *out)
{
	bool locked;
	sqlite3_stmt *st = stmt_write(s, ST_TENANT_INSERT, &locked);
	int rc = -ENOMEM;

	if (st) {
		bind_text(st, 1, name);
		sqlite3_bind_int64(st, 2, time(NULL));
		sqlite3_bind_int64(st, 3, mode);
		sqlite3_bind_int64(st, 4, uid);
		sqlite3_bind_int64(st, 5, gid);
		rc = stmt_exec(st);
		if (!rc && out) {
			out->id = sqlite3_last_insert_rowid(s->writer.db);
			snprintf(out->name, sizeof(out->name), "%s", name);
			out->ctime = time(NULL);
			out->mode = mode;
			out->uid = uid;
			out->gid = gid;
		}
	}
	stmt_done(s, st, locked);
	return rc;
}

int store_tenant_get(struct store *s, int64_t id, struct tenant_row *out)
{
	sqlite3_stmt *st = stmt_read(s, ST_TENANT_GET);

	if (st)
		sqlite3_bind_int64(st, 1, id);
	return read_one(s, st, fill_tenant, out);
}

int store_tenant_find(struct store *s, const char *name, struct tenant_row *out)
{
	sqlite3_stmt *st = stmt_read(s, ST_TENANT_FIND);

	if (st)
		bind_text(st, 1, name);
	return read_one(s, st, fill_tenant, out);
}

int store_tenant_list(struct store *s, int64_t after, tenant_cb cb, void *ctx)
{
	sqlite3_stmt *st = stmt_read(s, ST_TENANT_LIST);
	struct tenant_row r;
	int rc;

	if (!st)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, after);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		tenant_from_row(st, &r);
		if ((rc = cb(ctx, &r)))
			goto out;
	}
	rc = sqlite_errno(rc);
out:
	sqlite3_reset(st);
	return rc;
}

int store_tenant_usage(struct store *s, int64_t tenant, struct tenant_usage *u)
{
	sqlite3_stmt *st;
	int rc;

	memset(u, 0, sizeof(*u));
	if (!(st = stmt_read(s, ST_USAGE_DOCS)))
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, tenant);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*(sqlite3_column_int(st, 0) == DOC_TICKET ? &u->tickets : &u->articles) =
			sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sqlite_errno(rc);
	if (!(st = stmt_read(s, ST_USAGE_INBOX)))
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, tenant);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int area = sqlite3_column_int(st, 0);
		*(area == AREA_INBOX ? &u->inbox : area == AREA_KB ? &u->kb_pending :
		  area == AREA_QUERY ? &u->queries : &u->temp) =
			sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : sqlite_errno(rc);
}

int store_tenant_delete(struct store *s, int64_t id)
{
	struct tenant_usage u;
	int rc;

	if ((rc = store_begin(s)))
		return rc;
	if ((rc = store_tenant_usage(s, id, &u)))
		goto fail;
	if (u.tickets || u.articles || u.inbox || u.kb_pending || u.queries || u.temp) {
		rc = -ENOTEMPTY;
		goto fail;
	}
	char sql[320];
	snprintf(sql, sizeof(sql), "DELETE FROM counter WHERE tenant_id = %lld;"
		 "DELETE FROM event WHERE tenant_id = %lld; DELETE FROM passage_gone WHERE tenant_id = %lld;"
		 "DELETE FROM tenant_config WHERE tenant_id = %lld;"
		 "DELETE FROM feedback WHERE tenant_id = %lld;",
		 (long long)id, (long long)id, (long long)id, (long long)id, (long long)id);
	if ((rc = db_exec(s->writer.db, sql)))
		goto fail;
	sqlite3_stmt *st = stmt_get(&s->writer, ST_TENANT_DELETE);
	if (!st) {
		rc = -ENOMEM;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, id);
	rc = stmt_exec(st);
	sqlite3_reset(st);
	if (!rc && !sqlite3_changes(s->writer.db))
		rc = -ENOENT;
	if (rc)
		goto fail;
	return store_commit(s);
fail:
	store_rollback(s);
	return rc;
}

/* ---- documents ---------------------------------------------------------------- */

static void doc_from_row(sqlite3_stmt *st, struct doc_row *r)
{
	r->id = sqlite3_column_int64(st, 0);
	r->tenant_id = sqlite3_column_int64(st, 1);
	r->kind = (enum doc_kind)sqlite3_column_int(st, 2);
	r->name = col_strdup(st, 3);
	r->source = col_strdup(st, 4);
	r->instance = col_strdup(st, 5);
	r->source_id = col_strdup(st, 6);
	snprintf(r->hash, sizeof(r->hash), "%s", (const char *)sqlite3_column_text(st, 7));
	r->ctime = sqlite3_column_int64(st, 8);
	r->mtime = sqlite3_column_int64(st, 9);
	r->size_md = sqlite3_column_int64(st, 10);
	r->size_json = sqlite3_column_int64(st, 11);
	r->size_source = sqlite3_column_int64(st, 12);
}

static void fill_doc(sqlite3_stmt *st, void *out)
{
	doc_from_row(st, out);
}

void doc_row_clear(struct doc_row *r)
{
	free(r->name);
	free(r->source);
	free(r->instance);
	free(r->source_id);
	memset(r, 0, sizeof(*r));
}

int store_doc_get(struct store *s, int64_t id, struct doc_row *out)
{
	sqlite3_stmt *st = stmt_read(s, ST_DOC_GET);

	if (st)
		sqlite3_bind_int64(st, 1, id);
	return read_one(s, st, fill_doc, out);
}

int store_doc_find(struct store *s, int64_t tenant, enum doc_kind kind, const char *name,
		   struct doc_row *out)
{
	sqlite3_stmt *st = stmt_read(s, ST_DOC_FIND);

	if (st) {
		sqlite3_bind_int64(st, 1, tenant);
		sqlite3_bind_int(st, 2, kind);
		bind_text(st, 3, name);
	}
	return read_one(s, st, fill_doc, out);
}

int store_doc_find_key(struct store *s, int64_t tenant, enum doc_kind kind, const char *source,
		       const char *instance, const char *source_id, struct doc_row *out)
{
	sqlite3_stmt *st = stmt_read(s, ST_DOC_FIND_KEY);

	if (st) {
		sqlite3_bind_int64(st, 1, tenant);
		sqlite3_bind_int(st, 2, kind);
		bind_text(st, 3, source);
		bind_text(st, 4, instance);
		bind_text(st, 5, source_id);
	}
	return read_one(s, st, fill_doc, out);
}

/* Reads column 0 of a one-row statement bound to id into a malloc'd buffer. */
static int read_blob(sqlite3_stmt *st, int64_t id, char **buf, size_t *len)
{
	int rc;

	if (!st)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const void *p = sqlite3_column_blob(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		*buf = malloc(n + 1);
		if (*buf) {
			if (n)
				memcpy(*buf, p, n);
			(*buf)[n] = 0;
			*len = n;
			rc = 0;
		} else {
			rc = -ENOMEM;
		}
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : sqlite_errno(rc);
	}
	sqlite3_reset(st);
	return rc;
}

int store_doc_find_source_id(struct store *s, int64_t tenant, enum doc_kind kind,
			     const char *source, const char *source_id, struct doc_row *out)
{
	sqlite3_stmt *st = stmt_read(s, ST_DOC_FIND_SID);
	int rc, rows = 0;

	if (!st)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, tenant);
	sqlite3_bind_int(st, 2, kind);
	bind_text(st, 3, source);
	bind_text(st, 4, source_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && ++rows == 1)
		doc_from_row(st, out);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rows == 2)
		doc_row_clear(out);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sqlite_errno(rc);
	return rows == 1 ? 0 : rows ? -EEXIST : -ENOENT;
}

int store_doc_read(struct store *s, int64_t id, enum doc_part part, char **buf, size_t *len)
{
	enum stmt_id sid = part == PART_MD ? ST_DOC_READ_MD :
			   part == PART_JSON ? ST_DOC_READ_JSON : ST_DOC_READ_SRC;

	return read_blob(stmt_read(s, sid), id, buf, len);
}

int store_doc_list(struct store *s, int64_t tenant, enum doc_kind kind, int64_t after,
		   int limit, doc_cb cb, void *ctx)
{
	sqlite3_stmt *st = stmt_read(s, ST_DOC_LIST);
	struct doc_row r;
	int rc;

	if (!st)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, tenant);
	sqlite3_bind_int(st, 2, kind);
	sqlite3_bind_int64(st, 3, after);
	sqlite3_bind_int(st, 4, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		doc_from_row(st, &r);
		rc = cb(ctx, &r);
		doc_row_clear(&r);
		if (rc)
			goto out;
	}
	rc = sqlite_errno(rc);
out:
	sqlite3_reset(st);
	return rc;
}

static bool doc_name_taken(struct store *s, int64_t tenant, enum doc_kind kind, const char *name)
{
	sqlite3_stmt *st = stmt_get(&s->writer, ST_DOC_NAME_TAKEN);
	bool taken;

	sqlite3_bind_int64(st, 1, tenant);
	sqlite3_bind_int(st, 2, kind);
	bind_text(st, 3, name);
	taken = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return taken;
}

/* Picks a free name: p->name, then p->alt_name, then alt_name-2, -3... */
static char *doc_pick_name(struct store *s, int64_t tenant, const struct doc_put *p)
{
	const char *base = p->alt_name ? p->alt_name : p->name;
	char buf[512];

	if (!doc_name_taken(s, tenant, p->kind, p->name))
		return strdup(p->name);
	if (p->alt_name && !doc_name_taken(s, tenant, p->kind, p->alt_name))
		return strdup(p->alt_name);
	for (int i = 2; i < 1000000; i++) {
		snprintf(buf, sizeof(buf), "%.200s-%d", base, i);
		if (!doc_name_taken(s, tenant, p->kind, buf))
			return strdup(buf);
	}
	return NULL;
}

static int doc_put_body(struct store *s, int64_t id, const struct doc_put *p)
{
	sqlite3_stmt *st = stmt_get(&s->writer, ST_BODY_UPSERT);
	int rc;

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_blob64(st, 2, p->md, p->md_len, SQLITE_STATIC);
	sqlite3_bind_blob64(st, 3, p->json, p->json_len, SQLITE_STATIC);
	sqlite3_bind_blob64(st, 4, p->src, p->src_len, SQLITE_STATIC);
	rc = stmt_exec(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

int store_doc_put(struct store *s, int64_t tenant, const struct doc_put *p,
		  enum doc_put_result *res, struct doc_row *out)
{
	struct doc_row cur = { 0 };
	sqlite3_stmt *st;
	char *name = NULL;
	int64_t id;
	int rc;

	if (txn_owner != s)
		return -EINVAL; /* callers bracket puts with store_begin() */
	rc = store_doc_find_key(s, tenant, p->kind, p->source, p->instance, p->source_id, &cur);
	if (rc && rc != -ENOENT)
		return rc;
	if (!rc && !strcmp(cur.hash, p->hash)) {
		*res = DOC_UNCHANGED;
		goto done;
	}
	if (!rc) {
		st = stmt_get(&s->writer, ST_DOC_UPDATE);
		bind_text(st, 1, p->hash);
		sqlite3_bind_int64(st, 2, p->mtime);
		sqlite3_bind_int64(st, 3, (int64_t)p->md_len);
		sqlite3_bind_int64(st, 4, (int64_t)p->json_len);
		sqlite3_bind_int64(st, 5, (int64_t)p->src_len);
		sqlite3_bind_int64(st, 6, cur.id);
		rc = stmt_exec(st);
		sqlite3_reset(st);
		id = cur.id;
		*res = DOC_UPDATED;
	} else {
		name = doc_pick_name(s, tenant, p);
		if (!name)
			return -ENOMEM;
		st = stmt_get(&s->writer, ST_DOC_INSERT);
		sqlite3_bind_int64(st, 1, tenant);
		sqlite3_bind_int(st, 2, p->kind);
		bind_text(st, 3, name);
		bind_text(st, 4, p->source);
		bind_text(st, 5, p->instance);
		bind_text(st, 6, p->source_id);
		bind_text(st, 7, p->hash);
		sqlite3_bind_int64(st, 8, p->mtime);
		sqlite3_bind_int64(st, 9, p->mtime);
		sqlite3_bind_int64(st, 10, (int64_t)p->md_len);
		sqlite3_bind_int64(st, 11, (int64_t)p->json_len);
		sqlite3_bind_int64(st, 12, (int64_t)p->src_len);
		rc = stmt_exec(st);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		id = sqlite3_last_insert_rowid(s->writer.db);
		*res = DOC_CREATED;
	}
	if (!rc)
		rc = doc_put_body(s, id, p);
	for (size_t i = 0; !rc && i < p->n_msgids; i++) {
		st = stmt_get(&s->writer, ST_MSGREF_INSERT);
		sqlite3_bind_int64(st, 1, tenant);
		bind_text(st, 2, p->msgids[i]);
		sqlite3_bind_int64(st, 3, id);
		rc = stmt_exec(st);
		sqlite3_reset(st);
	}
	if (rc)
		goto out;
	doc_row_clear(&cur);
	rc = store_doc_get(s, id, &cur);
	if (rc)
		goto out;
done:
	if (out)
		*out = cur;
	else
		doc_row_clear(&cur);
	free(name);
	return 0;
out:
	doc_row_clear(&cur);
	free(name);
	return rc;
}

int store_doc_delete(struct store *s, int64_t id)
{
	bool own = txn_owner != s;
	struct doc_row d;
	sqlite3_stmt *st;
	int rc;

	if (own && (rc = store_begin(s)))
		return rc;
	if ((rc = store_doc_get(s, id, &d)))
		goto out;
	rc = passages_drop(s, d.tenant_id, id);
	doc_row_clear(&d);
	if (rc)
		goto out;
	if (!(st = stmt_get(&s->writer, ST_DOC_DELETE))) {
		rc = -ENOMEM;
		goto out;
	}
	sqlite3_bind_int64(st, 1, id);
	rc = stmt_exec(st);
	sqlite3_reset(st);
	if (!rc && !sqlite3_changes(s->writer.db))
		rc = -ENOENT;
out:
	if (own) {
		if (rc)
			store_rollback(s);
		else
			rc = store_commit(s);
	}
	return rc;
}

int store_thread_find(struct store *s, int64_t tenant, const char *msgid, char **source_id)
{
	sqlite3_stmt *st = stmt_read(s, ST_MSGREF_FIND);
	int rc;

	if (!st)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, tenant);
	bind_text(st, 2, msgid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*source_id = col_strdup(st, 0);
		rc = *source_id ? 0 : -ENOMEM;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : sqlite_errno(rc);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

/* ---- inbox ------------------------------------------------------------------- */

static void inbox_from_row(sqlite3_stmt *st, struct inbox_row *r)
{
	r->id = sqlite3_column_int64(st, 0);
	r->tenant_id = sqlite3_column_int64(st, 1);
	r->area = (enum inbox_area)sqlite3_column_int(st, 2);
	r->name = col_strdup(st, 3);
	r->state = (enum inbox_state)sqlite3_column_int(st, 4);
	r->size = sqlite3_column_int64(st, 5);
	r->mtime = sqlite3_column_int64(st, 6);
	r->mode = (uint32_t)sqlite3_column_int64(st, 7);
	r->error = sqlite3_column_type(st, 8) == SQLITE_NULL ? NULL : col_strdup(st, 8);
}

static void fill_inbox(sqlite3_stmt *st, void *out)
{
	inbox_from_row(st, out);
}

void inbox_row_clear(struct inbox_row *r)
{
	free(r->name);
	free(r->error);
	memset(r, 0, sizeof(*r));
}

int store_inbox_recreate(struct store *s, const struct inbox_row *r)
{
	bool locked;
	sqlite3_stmt *st = stmt_write(s, ST_INBOX_REINSERT, &locked);
	int rc = -ENOMEM;

	if (st) {
		sqlite3_bind_int64(st, 1, r->id);
		sqlite3_bind_int64(st, 2, r->tenant_id);
		sqlite3_bind_int(st, 3, r->area);
		bind_text(st, 4, r->name);
		sqlite3_bind_int64(st, 5, (int64_t)time(NULL));
		sqlite3_bind_int64(st, 6, r->mode);
		rc = stmt_exec(st);
	}
	stmt_done(s, st, locked);
	return rc;
}

int store_inbox_create(struct store *s, int64_t tenant, enum inbox_area area, const char *name,
		       uint32_t mode, struct inbox_row *out)
{
	bool locked;
	sqlite3_stmt *st = stmt_write(s, ST_INBOX_INSERT, &locked);
	int64_t now = time(NULL);
	int rc = -ENOMEM;

	if (st) {
		sqlite3_bind_int64(st, 1, tenant);
		sqlite3_bind_int(st, 2, area);
		bind_text(st, 3, name);
		sqlite3_bind_int64(st, 4, now);
		sqlite3_bind_int64(st, 5, mode);
		rc = stmt_exec(st);
		if (!rc && out) {
			memset(out, 0, sizeof(*out));
			out->id = sqlite3_last_insert_rowid(s->writer.db);
			out->tenant_id = tenant;
			out->area = area;
			out->name = strdup(name);
			out->state = INBOX_OPEN;
			out->mtime = now;
			out->mode = mode;
			if (!out->name)
				rc = -ENOMEM;
		}
	}
	stmt_done(s, st, locked);
	return rc;
}

int store_inbox_get(struct store *s, int64_t id, struct inbox_row *out)
{
	sqlite3_stmt *st = stmt_read(s, ST_INBOX_GET);

	if (st)
		sqlite3_bind_int64(st, 1, id);
	return read_one(s, st, fill_inbox, out);
}

int store_inbox_find(struct store *s, int64_t tenant, enum inbox_area area, const char *name,
		     struct inbox_row *out)
{
	sqlite3_stmt *st = stmt_read(s, ST_INBOX_FIND);

	if (st) {
		sqlite3_bind_int64(st, 1, tenant);
		sqlite3_bind_int(st, 2, area);
		bind_text(st, 3, name);
	}
	return read_one(s, st, fill_inbox, out);
}

static int inbox_each(sqlite3_stmt *st, inbox_cb cb, void *ctx)
{
	struct inbox_row r;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		inbox_from_row(st, &r);
		rc = cb(ctx, &r);
		inbox_row_clear(&r);
		if (rc)
			goto out;
	}
	rc = sqlite_errno(rc);
out:
	sqlite3_reset(st);
	return rc;
}

int store_inbox_list(struct store *s, int64_t tenant, enum inbox_area area, int64_t after,
		     int limit, inbox_cb cb, void *ctx)
{
	sqlite3_stmt *st = stmt_read(s, ST_INBOX_LIST);

	if (!st)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, tenant);
	sqlite3_bind_int(st, 2, area);
	sqlite3_bind_int64(st, 3, after);
	sqlite3_bind_int(st, 4, limit);
	return inbox_each(st, cb, ctx);
}

int store_inbox_list_state(struct store *s, enum inbox_state state, inbox_cb cb, void *ctx)
{
	sqlite3_stmt *st = stmt_read(s, ST_INBOX_LIST_STATE);

	if (!st)
		return -ENOMEM;
	sqlite3_bind_int(st, 1, state);
	return inbox_each(st, cb, ctx);
}

int store_inbox_update(struct store *s, const struct inbox_row *r)
{
	bool locked;
	sqlite3_stmt *st = stmt_write(s, ST_INBOX_UPDATE, &locked);
	int rc = -ENOMEM;

	if (st) {
		sqlite3_bind_int(st, 1, r->state);
		sqlite3_bind_int64(st, 2, r->size);
		sqlite3_bind_int64(st, 3, r->mtime);
		sqlite3_bind_int64(st, 4, r->mode);
		if (r->error)
			bind_text(st, 5, r->error);
		else
			sqlite3_bind_null(st, 5);
		sqlite3_bind_int64(st, 6, r->id);
		rc = stmt_exec(st);
		if (!rc && !sqlite3_changes(s->writer.db))
			rc = -ENOENT;
	}
	stmt_done(s, st, locked);
	return rc;
}

int store_inbox_rename(struct store *s, int64_t id, const char *name)
{
	bool locked;
	sqlite3_stmt *st = stmt_write(s, ST_INBOX_RENAME, &locked);
	int rc = -ENOMEM;

	if (st) {
		bind_text(st, 1, name);
		sqlite3_bind_int64(st, 2, id);
		rc = stmt_exec(st);
		if (!rc && !sqlite3_changes(s->writer.db))
			rc = -ENOENT;
	}
	stmt_done(s, st, locked);
	return rc;
}

/* Runs write statement which with id as its one parameter. */
static int exec_on_id(struct store *s, enum stmt_id which, int64_t id)
{
	bool locked;
	sqlite3_stmt *st = stmt_write(s, which, &locked);
	int rc = -ENOMEM;

	if (st) {
		sqlite3_bind_int64(st, 1, id);
		rc = stmt_exec(st);
	}
	stmt_done(s, st, locked);
	return rc;
}

int store_inbox_delete(struct store *s, int64_t id)
{
	return exec_on_id(s, ST_INBOX_DELETE, id);
}

/* ---- counters and events ---------------------------------------------------- */

int store_counter_add(struct store *s, int64_t tenant, enum tenant_counter c, int64_t delta)
{
	bool locked;
	sqlite3_stmt *st;
	int rc = -ENOMEM;

	if (!delta)
		return 0;
	st = stmt_write(s, ST_COUNTER_ADD, &locked);

	if (st) {
		sqlite3_bind_int64(st, 1, tenant);
		sqlite3_bind_int(st, 2, c);
		sqlite3_bind_int64(st, 3, delta);
		rc = stmt_exec(st);
	}
	stmt_done(s, st, locked);
	return rc;
}

int store_counters(struct store *s, int64_t tenant, int64_t out[CNT__COUNT])
{
	sqlite3_stmt *st = stmt_read(s, ST_COUNTERS);
	int rc;

	memset(out, 0, sizeof(int64_t) * CNT__COUNT);
	if (!st)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, tenant);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int k = sqlite3_column_int(st, 0);
		if (k >= 0 && k < CNT__COUNT)
			out[k] = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : sqlite_errno(rc);
}

int store_event_add(struct store *s, int64_t tenant, const char *text)
{
	bool locked;
	sqlite3_stmt *st = stmt_write(s, ST_EVENT_ADD, &locked);
	int rc = -ENOMEM;

	if (st) {
		sqlite3_bind_int64(st, 1, tenant);
		sqlite3_bind_int64(st, 2, time(NULL));
		bind_text(st, 3, text);
		rc = stmt_exec(st);
		sqlite3_reset(st);
		/* keep the newest 100: trim now and then, not on every insert */
		st = sqlite3_last_insert_rowid(s->writer.db) % 64 ? NULL :
		     stmt_get(&s->writer, ST_EVENT_TRIM);
		if (!rc && st) {
			sqlite3_bind_int64(st, 1, tenant);
			rc = stmt_exec(st);
		}
	}
	stmt_done(s, st, locked);
	return rc;
}

int store_event_list(struct store *s, int64_t tenant, int limit, event_cb cb, void *ctx)
{
	sqlite3_stmt *st = stmt_read(s, ST_EVENT_LIST);
	int rc;

	if (!st)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, tenant);
	sqlite3_bind_int(st, 2, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = cb(ctx, sqlite3_column_int64(st, 0),
			     (const char *)sqlite3_column_text(st, 1))))
			goto out;
	rc = sqlite_errno(rc);
out:
	sqlite3_reset(st);
	return rc;
}

int store_inbox_data_set(struct store *s, int64_t id, const char *data, size_t len)
{
	bool locked;
	sqlite3_stmt *st = stmt_write(s, ST_INBOX_DATA_SET, &locked);
	int rc = -ENOMEM;

	if (st) {
		sqlite3_bind_blob64(st, 1, data ? data : "", len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, id);
		rc = stmt_exec(st);
	}
	stmt_done(s, st, locked);
	return rc;
}

int store_inbox_data_read(struct store *s, int64_t id, char **buf, size_t *len)
{
	return read_blob(stmt_read(s, ST_INBOX_DATA_GET), id, buf, len);
}

ssize_t store_doc_pread(struct store *s, int64_t id, enum doc_part part, char *buf, size_t size,
			off_t off)
{
	static const char *const cols[] = { [PART_MD] = "md", [PART_JSON] = "json",
					    [PART_SOURCE] = "src" };
	struct conn *c = conn_get(s);
	sqlite3_blob *blob = NULL;
	ssize_t n;
	int rc, len;

	if (!c)
		return -ENOMEM;
	rc = sqlite3_blob_open(c->db, "main", "doc_body", cols[part], id, 0, &blob);
	if (rc != SQLITE_OK) {
		n = rc == SQLITE_ERROR ? -ENOENT : sqlite_errno(rc);
		goto out;
	}
	len = sqlite3_blob_bytes(blob);
	if (off >= len) {
		n = 0;
		goto out;
	}
	n = (ssize_t)((size_t)(len - off) < size ? (size_t)(len - off) : size);
	rc = sqlite3_blob_read(blob, buf, (int)n, (int)off);
	if (rc != SQLITE_OK)
		n = sqlite_errno(rc);
out:
	sqlite3_blob_close(blob);
	return n;
}

/* ---- retrieval ---------------------------------------------------------------- */

#define PASSAGE_GONE_KEEP 100000 /* drop-log entries kept per tenant */

/* Keeps the last PASSAGE_GONE_KEEP entries of the tenant's drop log (in
 * batches of a tenth of that); CNT_GONE_FLOOR records the cut, so a
 * reader that had not reached it knows it missed entries. */
static int passages_gone_trim(struct store *s, int64_t tenant)
{
	sqlite3_stmt *st = stmt_get(&s->writer, ST_PASSAGE_GONE_MAX);
	int64_t cnt[CNT__COUNT], max = 0, cut;
	int rc;

	if (!st)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, tenant);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		max = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return sqlite_errno(rc);
	if ((rc = store_counters(s, tenant, cnt)))
		return rc;
	cut = max - PASSAGE_GONE_KEEP;
	if (cut <= cnt[CNT_GONE_FLOOR] + PASSAGE_GONE_KEEP / 10)
		return 0;
	if (!(st = stmt_get(&s->writer, ST_PASSAGE_GONE_TRIM)))
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, tenant);
	sqlite3_bind_int64(st, 2, cut);
	rc = stmt_exec(st);
	sqlite3_reset(st);
	return rc ? rc : store_counter_add(s, tenant, CNT_GONE_FLOOR, cut - cnt[CNT_GONE_FLOOR]);
}

/* Removes doc_id's passages, logging their ids (writer, in a txn). */
static int passages_drop(struct store *s, int64_t tenant, int64_t doc_id)
{
	sqlite3_stmt *st = stmt_get(&s->writer, ST_PASSAGE_GONE_LOG);
	int rc, n;

	if (!st)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, doc_id);
	rc = stmt_exec(st);
	sqlite3_reset(st);
	if (rc || !(n = sqlite3_changes(s->writer.db)))
		return rc;
	if (!(st = stmt_get(&s->writer, ST_PASSAGE_DEL_DOC)))
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, doc_id);
	rc = stmt_exec(st);
	sqlite3_reset(st);
	if (!rc)
		rc = store_counter_add(s, tenant, CNT_PASSAGES_DROPPED, n);
	if (!rc)
		rc = passages_gone_trim(s, tenant);
	return rc;
}

/* Drops the FTS5 tables of schema versions before 5 (inside migrate()'s
 * transaction). */
static int fts_tables_drop(sqlite3 *db)
{
	sqlite3_stmt *st;
	struct strbuf sql = STRBUF_INIT;
	int rc;

	rc = sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND "
				"name GLOB 'fts_[0-9]*' AND sql LIKE '%fts5%'", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sqlite_errno(rc);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		strbuf_addf(&sql, "DROP TABLE \"%s\";", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		rc = sqlite_errno(rc);
	else if (sql.err)
		rc = -ENOMEM;
	else
		rc = sql.len ? db_exec(db, sql.buf) : 0;
	strbuf_release(&sql);
	return rc;
}

/* Inserts passages p[n] of d numbered from seq (writer, in a txn). */
static int passages_insert(struct store *s, int64_t tenant, const struct passage_doc *d,
			   const struct passage_put *p, size_t n, int64_t seq)
{
	sqlite3_stmt *st;
	int rc;

	for (size_t i = 0; i < n; i++) {
		if (!(st = stmt_get(&s->writer, ST_PASSAGE_INSERT)))
			return -ENOMEM;
		sqlite3_bind_int64(st, 1, tenant);
		sqlite3_bind_int64(st, 2, d->doc_id);
		sqlite3_bind_int(st, 3, d->kind);
		sqlite3_bind_int64(st, 4, seq + (int64_t)i);
		bind_text(st, 5, p[i].msg_id);
		bind_text(st, 6, p[i].title);
		bind_text(st, 7, p[i].text);
		bind_text(st, 8, d->status);
		sqlite3_bind_int64(st, 9, d->created);
		bind_text(st, 10, p[i].vec ? d->vmodel : "");
		if (p[i].vec)
			sqlite3_bind_blob(st, 11, p[i].vec, (int)p[i].vec_len, SQLITE_STATIC);
		rc = stmt_exec(st);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (rc)
			return rc;
	}
	return 0;
}

int store_passages_set(struct store *s, int64_t tenant, const struct passage_doc *d,
		       const struct passage_put *p, size_t n)
{
	int rc;

	if (txn_owner != s)
		return -EINVAL;
	if ((rc = passages_drop(s, tenant, d->doc_id)))
		return rc;
	return passages_insert(s, tenant, d, p, n, 0);
}

/* Runs writer statement id bound to (doc_id, msg_id); *changes: rows. */
static int passage_msg_exec(struct store *s, enum stmt_id id, int64_t doc_id, const char *msg_id,
			    int *changes)
{
	sqlite3_stmt *st = stmt_get(&s->writer, id);
	int rc;

	if (!st)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, doc_id);
	bind_text(st, 2, msg_id);
	rc = stmt_exec(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	*changes = sqlite3_changes(s->writer.db);
	return rc;
}

int store_passages_set_part(struct store *s, int64_t tenant, const struct passage_doc *d,
			    const char *msg_id, const struct passage_put *p, size_t n)
{
	sqlite3_stmt *st;
	int64_t seq = 0;
	int rc, dropped = 0;

	if (txn_owner != s)
		return -EINVAL;
	if ((rc = passage_msg_exec(s, ST_PASSAGE_GONE_LOG_MSG, d->doc_id, msg_id, &dropped)))
		return rc;
	if (dropped && ((rc = passage_msg_exec(s, ST_PASSAGE_DEL_MSG, d->doc_id, msg_id,
					       &dropped)) ||
			(rc = store_counter_add(s, tenant, CNT_PASSAGES_DROPPED, dropped)) ||
			(rc = passages_gone_trim(s, tenant))))
		return rc;
	if (!(st = stmt_get(&s->writer, ST_PASSAGE_SEQ_MAX)))
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, d->doc_id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		seq = sqlite3_column_int64(st, 0) + 1;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return sqlite_errno(rc);
	return passages_insert(s, tenant, d, p, n, seq);
}

/* Steps st (bound, on a reader) calling cb with fill()'s row; resets st. */
static int passage_rows(sqlite3_stmt *st, void (*fill)(sqlite3_stmt *, struct passage_load *),
			passage_load_cb cb, void *ctx)
{
	int rc, r = 0;

	while (!r && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct passage_load p = { 0 };
		fill(st, &p);
		r = cb(ctx, &p);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r ? r : rc == SQLITE_DONE ? 0 : sqlite_errno(rc);
}

static void fill_load(sqlite3_stmt *st, struct passage_load *p)
{
	p->id = sqlite3_column_int64(st, 0);
	p->doc_id = sqlite3_column_int64(st, 1);
	p->kind = (enum doc_kind)sqlite3_column_int(st, 2);
	p->status = col_text(st, 3);
	p->created = sqlite3_column_int64(st, 4);
	p->title = col_text(st, 5);
	p->text = col_text(st, 6);
	p->vmodel = col_text(st, 7);
	p->vec = sqlite3_column_blob(st, 8);
	p->vec_len = (size_t)sqlite3_column_bytes(st, 8);
	p->vseq = sqlite3_column_int64(st, 9);
}

int store_passage_load(struct store *s, int64_t tenant, int64_t after, passage_load_cb cb,
		       void *ctx)
{
	sqlite3_stmt *st = stmt_read(s, ST_PASSAGE_LOAD);

	if (!st)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, tenant);
	sqlite3_bind_int64(st, 2, after);
	return passage_rows(st, fill_load, cb, ctx);
}

static void fill_revec(sqlite3_stmt *st, struct passage_load *p)
{
	p->id = sqlite3_column_int64(st, 0);
	p->vmodel = col_text(st, 1);
	p->vec = sqlite3_column_blob(st, 2);
	p->vec_len = (size_t)sqlite3_column_bytes(st, 2);
	p->vseq = sqlite3_column_int64(st, 3);
}

int store_passage_revectors(struct store *s, int64_t tenant, int64_t after_vseq,
			    passage_load_cb cb, void *ctx)
{
	sqlite3_stmt *st = stmt_read(s, ST_PASSAGE_REVEC);

	if (!st)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, tenant);
	sqlite3_bind_int64(st, 2, after_vseq);
	return passage_rows(st, fill_revec, cb, ctx);
}

int store_passage_gone(struct store *s, int64_t tenant, int64_t after_seq,
		       int (*cb)(void *ctx, int64_t seq, int64_t passage_id), void *ctx)
{
	sqlite3_stmt *st = stmt_read(s, ST_PASSAGE_GONE);
	int rc, r = 0;

	if (!st)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, tenant);
	sqlite3_bind_int64(st, 2, after_seq);
	while (!r && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = cb(ctx, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
	sqlite3_reset(st);
	return r ? r : rc == SQLITE_DONE ? 0 : sqlite_errno(rc);
}

/* The single integer a statement binding one id (a tenant's, a
 * document's) returns. */
static int id_int64(struct store *s, enum stmt_id id, int64_t key, int64_t *out)
{
	sqlite3_stmt *st = stmt_read(s, id);
	int rc;

	if (!st)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, key);
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : sqlite_errno(rc);
}

int store_passage_gone_max(struct store *s, int64_t tenant, int64_t *seq)
{
	return id_int64(s, ST_PASSAGE_GONE_MAX, tenant, seq);
}

int store_summary_count(struct store *s, int64_t tenant, int64_t *n)
{
	return id_int64(s, ST_SUMMARY_COUNT, tenant, n);
}

int store_passage_max(struct store *s, int64_t tenant, int64_t *id)
{
	return id_int64(s, ST_PASSAGE_MAX, tenant, id);
}

int store_passage_cursors(struct store *s, int64_t tenant, int64_t *max_id, int64_t *max_vseq,
			  int64_t *max_gone)
{
	sqlite3_stmt *st = stmt_read(s, ST_PASSAGE_CURSORS);
	int rc;

	if (!st)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, tenant);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*max_id = sqlite3_column_int64(st, 0);
		*max_vseq = sqlite3_column_int64(st, 1);
		*max_gone = sqlite3_column_int64(st, 2);
		rc = 0;
	} else {
		rc = sqlite_errno(rc == SQLITE_DONE ? SQLITE_CORRUPT : rc);
	}
	sqlite3_reset(st);
	return rc;
}

static void fill_stale(sqlite3_stmt *st, struct passage_load *p)
{
	p->id = sqlite3_column_int64(st, 0);
	p->title = col_text(st, 1);
	p->text = col_text(st, 2);
}

int store_passage_stale(struct store *s, int64_t tenant, const char *vmodel, int64_t after,
			int limit, passage_load_cb cb, void *ctx)
{
	sqlite3_stmt *st = stmt_read(s, ST_PASSAGE_STALE);

	if (!st)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, tenant);
	sqlite3_bind_int64(st, 2, after);
	sqlite3_bind_text(st, 3, vmodel, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, limit);
	return passage_rows(st, fill_stale, cb, ctx);
}

int store_passage_stale_count(struct store *s, int64_t tenant, const char *vmodel,
			      int64_t *total, int64_t *stale)
{
	sqlite3_stmt *st = stmt_read(s, ST_PASSAGE_STALE_COUNT);
	int rc;

	if (!st)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, tenant);
	sqlite3_bind_text(st, 2, vmodel, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*total = sqlite3_column_int64(st, 0);
		*stale = sqlite3_column_int64(st, 1);
		rc = 0;
	} else {
		rc = sqlite_errno(rc);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

int store_passage_vec_set(struct store *s, int64_t tenant, const int64_t *ids, size_t n,
			  const char *vmodel, const void *blobs, size_t blob_len)
{
	sqlite3_stmt *st;
	int64_t cnt[CNT__COUNT];
	int rc;

	if (txn_owner != s)
		return -EINVAL;
	/* one sequence number for the batch, after every earlier one */
	if ((rc = store_counter_add(s, tenant, CNT_VSEQ, 1)) ||
	    (rc = store_counters(s, tenant, cnt)))
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (!(st = stmt_get(&s->writer, ST_PASSAGE_VEC_SET)))
			return -ENOMEM;
		bind_text(st, 1, vmodel);
		sqlite3_bind_blob(st, 2, (const char *)blobs + i * blob_len, (int)blob_len,
				  SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, cnt[CNT_VSEQ]);
		sqlite3_bind_int64(st, 4, ids[i]);
		rc = stmt_exec(st);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (rc)
			return rc;
	}
	return 0;
}

int store_passage_get(struct store *s, int64_t id, struct passage_row *out)
{
	sqlite3_stmt *st = stmt_read(s, ST_PASSAGE_GET);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!st)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->doc_id = sqlite3_column_int64(st, 1);
		out->kind = (enum doc_kind)sqlite3_column_int(st, 2);
		out->doc_name = col_strdup(st, 3);
		out->msg_id = col_strdup(st, 4);
		out->title = col_strdup(st, 5);
		out->text = col_strdup(st, 6);
		out->status = col_strdup(st, 7);
		out->created = sqlite3_column_int64(st, 8);
		rc = out->doc_name && out->msg_id && out->title && out->text && out->status ?
		     0 : -ENOMEM;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : sqlite_errno(rc);
	}
	sqlite3_reset(st);
	if (rc)
		passage_row_clear(out);
	return rc;
}

void passage_row_clear(struct passage_row *r)
{
	free(r->doc_name);
	free(r->msg_id);
	free(r->title);
	free(r->text);
	free(r->status);
	memset(r, 0, sizeof(*r));
}

int store_answer_set(struct store *s, int64_t inbox_id, const char *text, size_t text_len,
		     const char *json, size_t json_len)
{
	bool locked;
	sqlite3_stmt *st = stmt_write(s, ST_ANSWER_SET, &locked);
	int rc = -ENOMEM;

	if (st) {
		sqlite3_bind_int64(st, 1, inbox_id);
		sqlite3_bind_blob64(st, 2, text, text_len, SQLITE_STATIC);
		sqlite3_bind_blob64(st, 3, json, json_len, SQLITE_STATIC);
		rc = stmt_exec(st);
	}
	stmt_done(s, st, locked);
	return rc ? rc : exec_on_id(s, ST_ANSWER_MTIME, inbox_id);
}

int store_answer_get(struct store *s, int64_t inbox_id, char **text, size_t *text_len,
		     char **json, size_t *json_len)
{
	sqlite3_stmt *st = stmt_read(s, ST_ANSWER_GET);
	int rc;

	if (!st)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, inbox_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		char **dst[2] = { text, json };
		size_t *lens[2] = { text_len, json_len };
		rc = 0;
		for (int i = 0; i < 2; i++) {
			size_t n = (size_t)sqlite3_column_bytes(st, i);
			if (!dst[i])
				continue;
			*dst[i] = malloc(n + 1);
			if (!*dst[i]) {
				rc = -ENOMEM;
				continue;
			}
			if (n)
				memcpy(*dst[i], sqlite3_column_blob(st, i), n);
			(*dst[i])[n] = 0;
			*lens[i] = n;
		}
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : sqlite_errno(rc);
	}
	sqlite3_reset(st);
	return rc;
}

int store_answer_size(struct store *s, int64_t inbox_id, int64_t *text_len, int64_t *json_len)
{
	sqlite3_stmt *st = stmt_read(s, ST_ANSWER_SIZE);
	int rc;

	if (!st)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, inbox_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*text_len = sqlite3_column_int64(st, 0);
		*json_len = sqlite3_column_int64(st, 1);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : sqlite_errno(rc);
	}
	sqlite3_reset(st);
	return rc;
}

int store_answer_delete(struct store *s, int64_t inbox_id)
{
	return exec_on_id(s, ST_ANSWER_DELETE, inbox_id);
}

int store_query_pending(struct store *s, inbox_cb cb, void *ctx)
{
	sqlite3_stmt *st = stmt_read(s, ST_QUERY_PENDING);

	if (!st)
		return -ENOMEM;
	sqlite3_bind_int(st, 1, AREA_QUERY);
	sqlite3_bind_int(st, 2, INBOX_CLOSED);
	return inbox_each(st, cb, ctx);
}

/* A JSON text stored under an id with the time it was written (configs,
 * similar-ticket lists): the statement binds id, json, mtime / reads
 * json, mtime. */
static int json_row_set(struct store *s, enum stmt_id id, int64_t key, const char *json,
			int64_t mtime)
{
	bool locked;
	sqlite3_stmt *st = stmt_write(s, id, &locked);
	int rc = -ENOMEM;

	if (st) {
		sqlite3_bind_int64(st, 1, key);
		bind_text(st, 2, json);
		sqlite3_bind_int64(st, 3, mtime);
		rc = stmt_exec(st);
	}
	stmt_done(s, st, locked);
	return rc;
}

static int json_row_get(struct store *s, enum stmt_id id, int64_t key, char **json,
			int64_t *mtime)
{
	sqlite3_stmt *st = stmt_read(s, id);
	int rc;

	*json = NULL;
	if (!st)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*json = col_strdup(st, 0);
		if (mtime)
			*mtime = sqlite3_column_int64(st, 1);
		rc = *json ? 0 : -ENOMEM;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : sqlite_errno(rc);
	}
	sqlite3_reset(st);
	return rc;
}

int store_config_set(struct store *s, int64_t tenant, const char *json)
{
	return json_row_set(s, ST_CONFIG_SET, tenant, json, (int64_t)time(NULL));
}

int store_config_get(struct store *s, int64_t tenant, char **json, int64_t *mtime)
{
	return json_row_get(s, ST_CONFIG_GET, tenant, json, mtime);
}

/* ---- background jobs, summaries, similar-ticket lists ---------------------- */

int store_job_put(struct store *s, int64_t tenant, enum job_kind kind, int64_t doc_id)
{
	bool locked;
	sqlite3_stmt *st = stmt_write(s, ST_JOB_PUT, &locked);
	int rc = -ENOMEM;

	if (st) {
		sqlite3_bind_int64(st, 1, tenant);
		sqlite3_bind_int(st, 2, kind);
		sqlite3_bind_int64(st, 3, doc_id);
		sqlite3_bind_int64(st, 4, (int64_t)time(NULL));
		rc = stmt_exec(st);
	}
	stmt_done(s, st, locked);
	return rc;
}

/* The ready job with the earliest run_after is taken (state running,
 * one more attempt) in one transaction, so two workers never take the
 * same job. */
int store_job_claim(struct store *s, int64_t now_ms, struct job_row *out, int64_t *next_ms)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	*next_ms = 0;
	if ((rc = store_begin(s)))
		return rc;
	if (!(st = stmt_get(&s->writer, ST_JOB_NEXT))) {
		rc = -ENOMEM;
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->tenant_id = sqlite3_column_int64(st, 1);
		out->kind = (enum job_kind)sqlite3_column_int(st, 2);
		out->doc_id = sqlite3_column_int64(st, 3);
		out->gen = sqlite3_column_int64(st, 4);
		out->attempts = sqlite3_column_int(st, 5) + 1;
		int64_t after = sqlite3_column_int64(st, 6);
		rc = after > now_ms ? -ENOENT : 0;
		if (rc)
			*next_ms = after;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : sqlite_errno(rc);
	}
	sqlite3_reset(st);
	if (!rc && (st = stmt_get(&s->writer, ST_JOB_TAKE))) {
		sqlite3_bind_int64(st, 1, out->id);
		rc = stmt_exec(st);
		sqlite3_reset(st);
	}
out:
	if (rc) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s);
}

/* Runs st (bound, on the writer, in the transaction store_begin opened
 * for it) and, if it changed job j's row, adds one to each counter of
 * cnt[0..n) for j's tenant; commits, or rolls back on an error. */
static int job_settle(struct store *s, sqlite3_stmt *st, const struct job_row *j,
		      const enum tenant_counter *cnt, size_t n)
{
	int rc = stmt_exec(st);
	int changed = sqlite3_changes(s->writer.db);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	for (size_t i = 0; !rc && changed && i < n; i++)
		rc = store_counter_add(s, j->tenant_id, cnt[i], 1);
	if (rc) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s);
}

/* Begins the transaction of a finish or retry and gives its statement. */
static sqlite3_stmt *job_stmt(struct store *s, enum stmt_id id, int *rc)
{
	sqlite3_stmt *st;

	if ((*rc = store_begin(s)))
		return NULL;
	if (!(st = stmt_get(&s->writer, id))) {
		store_rollback(s);
		*rc = -ENOMEM;
	}
	return st;
}

int store_job_finish(struct store *s, const struct job_row *j)
{
	static const enum tenant_counter done[] = { CNT_JOBS_DONE, CNT_SUMMARIES_DONE };
	int rc;
	sqlite3_stmt *st = job_stmt(s, ST_JOB_FINISH, &rc);

	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, j->id);
	sqlite3_bind_int64(st, 2, j->gen);
	/* a job queued again meanwhile (gen moved on) stays for its next run */
	return job_settle(s, st, j, done, j->kind == JOB_SUMMARY ? 2 : 1);
}

int store_job_retry(struct store *s, const struct job_row *j, int64_t run_after_ms,
		    const char *error, bool dead)
{
	static const enum tenant_counter failed[] = { CNT_JOBS_FAILED };
	int rc;
	sqlite3_stmt *st = job_stmt(s, ST_JOB_RETRY, &rc);

	if (!st)
		return rc;
	sqlite3_bind_int(st, 1, dead ? JOB_DEAD : JOB_QUEUED);
	sqlite3_bind_int64(st, 2, run_after_ms);
	bind_text(st, 3, error);
	sqlite3_bind_int64(st, 4, j->id);
	sqlite3_bind_int64(st, 5, j->gen);
	return job_settle(s, st, j, failed, dead ? 1 : 0);
}

int store_job_recover(struct store *s)
{
	bool locked;
	sqlite3_stmt *st = stmt_write(s, ST_JOB_RECOVER, &locked);
	int rc = stmt_exec(st);

	stmt_done(s, st, locked);
	return rc;
}

int store_job_stats(struct store *s, int64_t tenant, struct job_stats *out)
{
	sqlite3_stmt *st = stmt_read(s, ST_JOB_STATS);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!st)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, tenant);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int kind = sqlite3_column_int(st, 0), state = sqlite3_column_int(st, 1);
		int64_t n = sqlite3_column_int64(st, 2);
		if (state < JOB_QUEUED || state > JOB_DEAD)
			continue;
		*(state == JOB_QUEUED ? &out->queued : state == JOB_RUNNING ? &out->running :
		  &out->dead) += n;
		if (kind == JOB_SUMMARY)
			out->summary[state] += n;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : sqlite_errno(rc);
}

int store_job_list_due(struct store *s, int64_t doc_id, bool *due)
{
	int64_t n;
	int rc = id_int64(s, ST_JOB_LIST_DUE, doc_id, &n);

	*due = !rc && n;
	return rc;
}

int store_job_get(struct store *s, enum job_kind kind, int64_t doc_id, struct job_row *out)
{
	sqlite3_stmt *st = stmt_read(s, ST_JOB_GET);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!st)
		return -ENOMEM;
	sqlite3_bind_int(st, 1, kind);
	sqlite3_bind_int64(st, 2, doc_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->tenant_id = sqlite3_column_int64(st, 1);
		out->kind = (enum job_kind)sqlite3_column_int(st, 2);
		out->doc_id = sqlite3_column_int64(st, 3);
		out->gen = sqlite3_column_int64(st, 4);
		out->attempts = sqlite3_column_int(st, 5);
		out->state = (enum job_state)sqlite3_column_int(st, 6);
		out->error = sqlite3_column_type(st, 7) == SQLITE_NULL ? NULL : col_strdup(st, 7);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : sqlite_errno(rc);
	}
	sqlite3_reset(st);
	return rc;
}

int store_job_dead_list(struct store *s, int64_t tenant, int limit,
			int (*cb)(void *ctx, int64_t doc_id, enum job_kind kind, const char *error),
			void *ctx)
{
	sqlite3_stmt *st = stmt_read(s, ST_JOB_DEAD_LIST);
	int rc, r = 0;

	if (!st)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, tenant);
	sqlite3_bind_int(st, 2, limit);
	while (!r && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = cb(ctx, sqlite3_column_int64(st, 0), (enum job_kind)sqlite3_column_int(st, 1),
		       col_text(st, 2));
	sqlite3_reset(st);
	return r ? r : rc == SQLITE_DONE ? 0 : sqlite_errno(rc);
}

void job_row_clear(struct job_row *j)
{
	free(j->error);
	j->error = NULL;
}

int store_summary_set(struct store *s, int64_t doc_id, const char *hash, const char *method,
		      const char *md, const char *json)
{
	bool locked;
	sqlite3_stmt *st = stmt_write(s, ST_SUMMARY_SET, &locked);
	int rc = -ENOMEM;

	if (st) {
		sqlite3_bind_int64(st, 1, doc_id);
		bind_text(st, 2, hash);
		bind_text(st, 3, method);
		bind_text(st, 4, md);
		bind_text(st, 5, json);
		sqlite3_bind_int64(st, 6, (int64_t)time(NULL));
		rc = stmt_exec(st);
		/* the ticket changed (or went) while it was being summarized */
		if (!rc && !sqlite3_changes(s->writer.db))
			rc = -ESTALE;
	}
	stmt_done(s, st, locked);
	return rc;
}

int store_summary_get(struct store *s, int64_t doc_id, struct summary_row *out)
{
	sqlite3_stmt *st = stmt_read(s, ST_SUMMARY_GET);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!st)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, doc_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(out->hash, sizeof(out->hash), "%s", col_text(st, 0));
		out->method = col_strdup(st, 1);
		out->md = col_strdup(st, 2);
		out->json = col_strdup(st, 3);
		out->mtime = sqlite3_column_int64(st, 4);
		out->current = !strcmp(out->hash, col_text(st, 5));
		rc = out->method && out->md && out->json ? 0 : -ENOMEM;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : sqlite_errno(rc);
	}
	sqlite3_reset(st);
	if (rc)
		summary_row_clear(out);
	return rc;
}

void summary_row_clear(struct summary_row *r)
{
	free(r->method);
	free(r->md);
	free(r->json);
	r->method = r->md = r->json = NULL;
}

int store_similar_set(struct store *s, int64_t doc_id, const char *json, int64_t mtime,
		      const int64_t *peers, size_t n_peers)
{
	sqlite3_stmt *st;
	int rc;

	if (txn_owner != s)
		return -EINVAL;
	if ((rc = json_row_set(s, ST_SIMILAR_SET, doc_id, json, mtime)))
		return rc;
	rc = exec_on_id(s, ST_SIMILAR_PEERS_CLEAR, doc_id);
	for (size_t i = 0; i < n_peers && !rc; i++) {
		if (!(st = stmt_get(&s->writer, ST_SIMILAR_PEER_ADD)))
			return -ENOMEM;
		sqlite3_bind_int64(st, 1, peers[i]);
		sqlite3_bind_int64(st, 2, doc_id);
		rc = stmt_exec(st);
		stmt_done(s, st, false);
	}
	return rc;
}

int store_view_set(struct store *s, int64_t doc_id, enum view_part part, const char *body,
		   size_t len, int64_t mtime)
{
	bool locked;
	sqlite3_stmt *st = stmt_write(s, ST_VIEW_SET, &locked);
	int rc = -ENOMEM;

	if (st) {
		sqlite3_bind_int64(st, 1, doc_id);
		sqlite3_bind_int(st, 2, part);
		sqlite3_bind_blob64(st, 3, len ? body : "", len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, mtime);
		rc = stmt_exec(st);
	}
	stmt_done(s, st, locked);
	return rc;
}

int store_view_get(struct store *s, int64_t doc_id, enum view_part part, struct view_row *out,
		   bool body)
{
	sqlite3_stmt *st = stmt_read(s, ST_VIEW_GET);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!st)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, doc_id);
	sqlite3_bind_int(st, 2, part);
	sqlite3_bind_int(st, 3, body);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		int64_t stale = sqlite3_column_int64(st, 0);
		out->mtime = stale ? stale : sqlite3_column_int64(st, 1);
		out->len = (size_t)sqlite3_column_int64(st, 2);
		out->tenant_id = sqlite3_column_int64(st, 3);
		rc = 0;
		if (body && !stale) {
			const void *b = sqlite3_column_blob(st, 4);
			if (!(out->body = malloc(out->len + 1)))
				rc = -ENOMEM;
			else if (out->len)
				memcpy(out->body, b, out->len);
		}
		if (!rc && stale)
			rc = -ESTALE;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : sqlite_errno(rc);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

int store_similar_get(struct store *s, int64_t doc_id, char **json, int64_t *mtime)
{
	return json_row_get(s, ST_SIMILAR_GET, doc_id, json, mtime);
}

/* ---- feedback (feedback.h) and tenant ownership -------------------------- */

int store_feedback_add(struct store *s, int64_t tenant, const struct feedback_row *rows,
		       size_t n)
{
	sqlite3_stmt *st;
	int rc = 0;

	if ((rc = store_begin(s)))
		return rc;
	for (size_t i = 0; i < n && !rc; i++) {
		if (!(st = stmt_get(&s->writer, ST_FEEDBACK_ADD))) {
			rc = -ENOMEM;
			break;
		}
		sqlite3_bind_int64(st, 1, tenant);
		sqlite3_bind_int64(st, 2, rows[i].time);
		sqlite3_bind_int(st, 3, rows[i].sign);
		bind_text(st, 4, rows[i].query);
		bind_text(st, 5, rows[i].question);
		if (rows[i].doc_id)
			sqlite3_bind_int64(st, 6, rows[i].doc_id);
		bind_text(st, 7, rows[i].path);
		if (rows[i].vec)
			sqlite3_bind_blob(st, 8, rows[i].vec, (int)rows[i].vec_len, SQLITE_STATIC);
		rc = stmt_exec(st);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	if (rc) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s);
}

int store_feedback_list(struct store *s, int64_t tenant, int64_t since, feedback_cb cb,
			void *ctx)
{
	sqlite3_stmt *st = stmt_read(s, ST_FEEDBACK_LIST);
	int rc;

	if (!st)
		return -ENOMEM;
	sqlite3_bind_int64(st, 1, tenant);
	sqlite3_bind_int64(st, 2, since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct feedback_row r = {
			.id = sqlite3_column_int64(st, 0), .time = sqlite3_column_int64(st, 1),
			.sign = sqlite3_column_int(st, 2), .query = col_text(st, 3),
			.question = col_text(st, 4), .doc_id = sqlite3_column_int64(st, 5),
			.path = col_text(st, 6), .vec = sqlite3_column_blob(st, 7),
			.vec_len = (size_t)sqlite3_column_bytes(st, 7),
		};
		if ((rc = cb(ctx, &r)))
			goto out;
	}
	rc = sqlite_errno(rc);
out:
	sqlite3_reset(st);
	return rc;
}

int store_feedback_clear(struct store *s, int64_t tenant)
{
	bool locked;
	sqlite3_stmt *st = stmt_write(s, ST_FEEDBACK_CLEAR, &locked);
	int rc = -ENOMEM;

	if (st) {
		sqlite3_bind_int64(st, 1, tenant);
		rc = stmt_exec(st);
	}
	stmt_done(s, st, locked);
	return rc;
}

int store_tenant_attr_set(struct store *s, int64_t tenant, uint32_t mode, uint32_t uid,
			  uint32_t gid)
{
	bool locked;
	sqlite3_stmt *st = stmt_write(s, ST_TENANT_ATTR_SET, &locked);
	int rc = -ENOMEM;

	if (st) {
		sqlite3_bind_int64(st, 1, mode);
		sqlite3_bind_int64(st, 2, uid);
		sqlite3_bind_int64(st, 3, gid);
		sqlite3_bind_int64(st, 4, tenant);
		rc = stmt_exec(st);
		if (!rc && !sqlite3_changes(s->writer.db))
			rc = -ENOENT;
	}
	stmt_done(s, st, locked);
	return rc;
}
