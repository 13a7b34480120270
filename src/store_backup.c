/* store_backup.c - deskfs backup: a consistent online copy of a SQLite
 * store, with SQLite's backup API (how and why: backup.h).
 *
 * This file reads SQL of its own (the schema's table names, for the check
 * that SRC is a store and for the counts of the copy) because a copy is a
 * matter of the SQLite store alone; a PostgreSQL store would back up with
 * its own tools. Nothing here goes through store.h.
 */
#define _GNU_SOURCE /* renameat2 */
#include "backup.h"
#include "sqlite_errno.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* One backup in progress: what backup_run() releases at out. */
struct bk {
	const struct backup_opts *o;
	const char *src, *out;
	sqlite3 *sdb, *ddb;
	char tmp[PATH_MAX]; /* the temporary copy while it exists, else "" */
	int busy_ms;        /* spent waiting on locks since the last progress */
	char *err;
	size_t errlen;
};

/* The companions SQLite and deskfs keep beside a store (main.c: .lock,
 * .log); none of them may be overwritten by a copy. */
static const char *const companions[] = { "", "-wal", "-shm", "-journal", ".lock", ".log" };

static int bk_fail(struct bk *b, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bk_fail(struct bk *b, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->err, b->errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* SQLite result codes to errno, for this file (store_sqlite.c has its own,
 * static, mapper; these are the codes a copy meets). */
static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* True, after a short sleep, when rc is a lock held by another connection
 * and the wait so far is within BACKUP_BUSY_MAX_MS: the caller retries. */
static bool busy_retry(struct bk *b, int rc)
{
	if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
		return false;
	if (b->busy_ms >= BACKUP_BUSY_MAX_MS)
		return false;
	sleep_ms(BACKUP_BUSY_SLEEP_MS);
	b->busy_ms += BACKUP_BUSY_SLEEP_MS;
	return true;
}

/* Runs one statement (retrying on locks); the first column of its first
 * row goes to *num and/or text (NULL: not wanted; text gets "" without a
 * row). Returns a SQLite result code. */
static int db_query(struct bk *b, sqlite3 *db, const char *sql, int64_t *num, char *text,
		    size_t tlen)
{
	sqlite3_stmt *st = NULL;
	int rc = SQLITE_OK;

	for (;;) {
		if (!st)
			rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
		if (st)
			rc = sqlite3_step(st);
		if (rc == SQLITE_ROW || rc == SQLITE_DONE || !busy_retry(b, rc))
			break;
		if (st)
			sqlite3_reset(st);
	}
	if (num)
		*num = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	if (text)
		snprintf(text, tlen, "%s", rc == SQLITE_ROW && sqlite3_column_text(st, 0) ?
			 (const char *)sqlite3_column_text(st, 0) : "");
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The absolute path of a file that may not exist yet (its directory
 * must): realpath of the directory, then the name. */
static int path_resolve(const char *path, char out[PATH_MAX])
{
	char dir[PATH_MAX], rdir[PATH_MAX];
	const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;

	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EISDIR;
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (!realpath(dir, rdir))
		return -errno;
	if ((size_t)snprintf(out, PATH_MAX, "%s/%s", strcmp(rdir, "/") ? rdir : "", name) >=
	    PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* SRC must be a file; OUT must not be SRC or one of its companions, nor a
 * directory, nor (without force) an existing file, nor a file with a log
 * beside it. Fills rout with OUT's absolute path. */
static int paths_check(struct bk *b, char rout[PATH_MAX])
{
	char rsrc[PATH_MAX], wal[PATH_MAX + 8];
	struct stat ss, os = { 0 };
	int rc;

	if (stat(b->src, &ss)) {
		if (errno == ENOENT)
			return bk_fail(b, -ENOENT, "no database '%s': %s", b->src, strerror(errno));
		return bk_fail(b, -errno, "cannot read database '%s': %s", b->src, strerror(errno));
	}
	if (!S_ISREG(ss.st_mode))
		return bk_fail(b, -EIO, "'%s' is not a database: not a regular file", b->src);
	if (!realpath(b->src, rsrc))
		return bk_fail(b, -errno, "cannot resolve '%s': %s", b->src, strerror(errno));
	if ((rc = path_resolve(b->out, rout)))
		return bk_fail(b, rc, "cannot write '%s': %s", b->out, strerror(-rc));
	if (stat(rout, &os) == 0) {
		if (S_ISDIR(os.st_mode))
			return bk_fail(b, -EISDIR, "'%s' is a directory", b->out);
	} else if (errno != ENOENT) {
		return bk_fail(b, -errno, "cannot write '%s': %s", b->out, strerror(errno));
	} else {
		os.st_ino = 0;
	}
	/* by name, and by inode for links to them */
	for (size_t i = 0; i < sizeof(companions) / sizeof(*companions); i++) {
		char comp[PATH_MAX + 16];
		struct stat cs;
		snprintf(comp, sizeof(comp), "%s%s", rsrc, companions[i]);
		if (!strcmp(rout, comp) || (os.st_ino && !stat(comp, &cs) && cs.st_dev == os.st_dev &&
					    cs.st_ino == os.st_ino))
			return i ? bk_fail(b, -EINVAL, "'%s' is a file of the store '%s'", b->out,
					   b->src) :
				   bk_fail(b, -EINVAL, "'%s' is the store itself", b->out);
	}
	if (os.st_ino && !b->o->force)
		return bk_fail(b, -EEXIST, "'%s' exists", b->out);
	snprintf(wal, sizeof(wal), "%s-wal", rout);
	if (access(wal, F_OK) == 0)
		return bk_fail(b, -EBUSY, "'%s' is beside '%s' (it is mounted, or its daemon died): "
			       "not replaced", wal, b->out);
	return 0;
}

/* Opens SRC, checks it is a deskfs store, and takes the snapshot (WAL). */
static int source_open(struct bk *b, struct backup_result *res)
{
	char mode[32];
	int64_t n;
	int rc;

	/* read-write (never created), so that closing the last connection
	 * folds the WAL back as the store's own close does */
	rc = sqlite3_open_v2(b->src, &b->sdb, SQLITE_OPEN_READWRITE, NULL);
	if (rc != SQLITE_OK)
		return bk_fail(b, sqlite_errno(rc), "cannot open database '%s': %s", b->src,
			       b->sdb ? sqlite3_errmsg(b->sdb) : "out of memory");
	sqlite3_busy_timeout(b->sdb, 0); /* busy_retry() waits */
	rc = db_query(b, b->sdb, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
		      "name IN ('tenant', 'doc', 'inbox')", &n, NULL, 0);
	if (rc != SQLITE_OK)
		return bk_fail(b, sqlite_errno(rc) == -EBUSY ? -EBUSY : -EIO, "cannot read database "
			       "'%s': %s", b->src, sqlite3_errmsg(b->sdb));
	if (n != 3)
		return bk_fail(b, -EIO, "'%s' is not a deskfs store", b->src);
	rc = db_query(b, b->sdb, "PRAGMA journal_mode", NULL, mode, sizeof(mode));
	if (rc == SQLITE_OK && !strcmp(mode, "wal")) {
		/* BEGIN takes no lock; the first read opens the snapshot that
		 * every step then reads */
		rc = sqlite3_exec(b->sdb, "BEGIN", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			rc = db_query(b, b->sdb, "SELECT count(*) FROM sqlite_schema", NULL, NULL, 0);
		res->wal_snapshot = rc == SQLITE_OK;
	}
	if (rc != SQLITE_OK)
		return bk_fail(b, sqlite_errno(rc), "cannot read database '%s': %s", b->src,
			       sqlite3_errmsg(b->sdb));
	return 0;
}

/* Copies every page into the temporary file, in steps. */
static int pages_copy(struct bk *b, struct backup_result *res)
{
	sqlite3_backup *bk;
	int64_t done = 0, total;
	int rc, fd;

	fd = mkstemp(b->tmp);
	if (fd < 0) {
		int e = errno;
		b->tmp[0] = 0;
		return bk_fail(b, -e, "cannot create a file beside '%s': %s", b->out, strerror(e));
	}
	close(fd);
	rc = sqlite3_open_v2(b->tmp, &b->ddb, SQLITE_OPEN_READWRITE, NULL);
	if (rc != SQLITE_OK)
		return bk_fail(b, sqlite_errno(rc), "cannot open '%s': %s", b->tmp,
			       b->ddb ? sqlite3_errmsg(b->ddb) : "out of memory");
	sqlite3_busy_timeout(b->ddb, 0);
	bk = sqlite3_backup_init(b->ddb, "main", b->sdb, "main");
	if (!bk)
		return bk_fail(b, sqlite_errno(sqlite3_errcode(b->ddb)), "cannot copy '%s': %s", b->src,
			       sqlite3_errmsg(b->ddb));
	for (;;) {
		if (b->o->stop && *b->o->stop) {
			rc = SQLITE_INTERRUPT;
			break;
		}
		rc = sqlite3_backup_step(bk, BACKUP_STEP_PAGES);
		if (rc == SQLITE_OK || rc == SQLITE_DONE) {
			int64_t now;
			total = sqlite3_backup_pagecount(bk);
			now = total - sqlite3_backup_remaining(bk);
			if (now < done)
				res->restarts++;
			done = now;
			b->busy_ms = 0;
			if (b->o->progress)
				b->o->progress(b->o->ctx, done, total);
			if (rc == SQLITE_DONE)
				break;
			if (!res->wal_snapshot)
				sleep_ms(1); /* the lock is free between steps: let writers in */
		} else if (!busy_retry(b, rc)) {
			break;
		}
	}
	/* finish returns the step's error, or its own */
	if (sqlite3_backup_finish(bk) != SQLITE_OK && rc == SQLITE_DONE)
		rc = sqlite3_errcode(b->ddb);
	if (rc == SQLITE_INTERRUPT)
		return bk_fail(b, -EINTR, "interrupted");
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		return bk_fail(b, -EBUSY, "database '%s' stayed locked for %d s", b->src,
			       BACKUP_BUSY_MAX_MS / 1000);
	if (rc != SQLITE_DONE)
		return bk_fail(b, sqlite_errno(rc) ? sqlite_errno(rc) : -EIO, "cannot copy '%s' to '%s': %s",
			       b->src, b->tmp, sqlite3_errstr(rc));
	return 0;
}

/* Checks the copy and reads what it holds; then closes and syncs it. */
static int copy_check(struct bk *b, struct backup_result *res)
{
	char text[256];
	struct stat st;
	int rc, fd;

	rc = db_query(b, b->ddb, "PRAGMA journal_mode = DELETE", NULL, NULL, 0);
	if (rc == SQLITE_OK)
		rc = db_query(b, b->ddb, "PRAGMA quick_check", NULL, text, sizeof(text));
	if (rc != SQLITE_OK)
		return bk_fail(b, sqlite_errno(rc), "cannot check the copy '%s': %s", b->tmp,
			       sqlite3_errmsg(b->ddb));
	if (strcmp(text, "ok"))
		return bk_fail(b, -EIO, "the copy of '%s' failed its check (quick_check: %s)",
			       b->src, text);
	if ((rc = db_query(b, b->ddb, "PRAGMA page_count", &res->pages, NULL, 0)) ||
	    (rc = db_query(b, b->ddb, "PRAGMA page_size", &res->page_size, NULL, 0)) ||
	    (rc = db_query(b, b->ddb, "SELECT count(*) FROM tenant", &res->tenants, NULL, 0)) ||
	    (rc = db_query(b, b->ddb, "SELECT count(*) FROM doc WHERE kind = 1", &res->tickets,
			   NULL, 0)) ||
	    (rc = db_query(b, b->ddb, "SELECT count(*) FROM doc WHERE kind = 2", &res->articles,
			   NULL, 0)) ||
	    (rc = db_query(b, b->ddb, "SELECT count(*) FROM inbox", &res->inbox_files, NULL, 0)))
		return bk_fail(b, sqlite_errno(rc), "cannot read the copy '%s': %s", b->tmp,
			       sqlite3_errmsg(b->ddb));
	rc = sqlite3_close(b->ddb);
	b->ddb = NULL;
	if (rc != SQLITE_OK)
		return bk_fail(b, sqlite_errno(rc), "cannot close the copy '%s': %s", b->tmp,
			       sqlite3_errstr(rc));
	fd = open(b->tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) || fstat(fd, &st)) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return bk_fail(b, -e, "cannot write '%s': %s", b->tmp, strerror(e));
	}
	close(fd);
	res->bytes = st.st_size;
	return 0;
}

/* Renames the copy to OUT (without force: never over a file that appeared
 * meanwhile) and syncs the directory. */
static int copy_publish(struct bk *b, const char *rout)
{
	char dir[PATH_MAX];
	int rc, fd;

	if (b->o->force)
		rc = rename(b->tmp, rout);
	else if ((rc = renameat2(AT_FDCWD, b->tmp, AT_FDCWD, rout, RENAME_NOREPLACE)) &&
		 (errno == EINVAL || errno == ENOSYS)) {
		/* a filesystem without RENAME_NOREPLACE: link() fails on EEXIST too */
		rc = link(b->tmp, rout);
		if (rc == 0)
			unlink(b->tmp);
	}
	if (rc) {
		if (errno == EEXIST)
			return bk_fail(b, -EEXIST, "'%s' exists", b->out);
		return bk_fail(b, -errno, "cannot rename '%s' to '%s': %s", b->tmp, b->out,
			       strerror(errno));
	}
	b->tmp[0] = 0;
	snprintf(dir, sizeof(dir), "%s", rout);
	*strrchr(dir, '/') = 0;
	fd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	return 0;
}

int backup_run(const char *src, const char *out, const struct backup_opts *o,
	       struct backup_result *res, char *err, size_t errlen)
{
	struct bk b = { .o = o, .src = src, .out = out, .err = err, .errlen = errlen };
	char rout[PATH_MAX];
	const char *name;
	int rc;

	memset(res, 0, sizeof(*res));
	if ((rc = paths_check(&b, rout)))
		goto out;
	if ((rc = source_open(&b, res)))
		goto out;
	name = strrchr(rout, '/') + 1;
	if ((size_t)snprintf(b.tmp, sizeof(b.tmp), "%.*s.%s.XXXXXX", (int)(name - rout), rout,
			     name) >= sizeof(b.tmp)) {
		b.tmp[0] = 0;
		rc = bk_fail(&b, -ENAMETOOLONG, "cannot write '%s': %s", out, strerror(ENAMETOOLONG));
		goto out;
	}
	if ((rc = pages_copy(&b, res)))
		goto out;
	if ((rc = copy_check(&b, res)))
		goto out;
	rc = copy_publish(&b, rout);
out:
	sqlite3_close(b.ddb);
	if (b.tmp[0]) {
		char side[PATH_MAX + 16];
		unlink(b.tmp);
		for (size_t i = 1; i < 4; i++) { /* -wal, -shm, -journal */
			snprintf(side, sizeof(side), "%s%s", b.tmp, companions[i]);
			unlink(side);
		}
	}
	if (b.sdb) {
		if (res->wal_snapshot)
			sqlite3_exec(b.sdb, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(b.sdb);
	}
	return rc;
}
