/* backup.h - a consistent copy of a store that may be mounted and being
 * written (deskfs backup), made with SQLite's online backup API.
 *
 * How the copy is made (store_backup.c):
 *
 *   check SRC and OUT ──> open SRC ──> snapshot ──> copy in steps ──> check
 *   the copy ──> sync ──> rename TMP to OUT
 *
 * - Snapshot: a store runs in WAL mode, so a read transaction is held on
 *   SRC for the whole copy: every step reads the same state of the store,
 *   a commit by another process (a mount, deskfs ingest) can neither tear
 *   the copy nor make it start over, and those writers are never blocked
 *   (they append to the WAL; only checkpoints stop at the snapshot until
 *   the copy is done). A file not in WAL mode is copied with the lock
 *   released between steps; SQLite starts the copy over when another
 *   process wrote meanwhile.
 * - Steps of BACKUP_STEP_PAGES pages, so progress can be shown and a stop
 *   request is seen between steps. SQLITE_BUSY and SQLITE_LOCKED are
 *   retried after BACKUP_BUSY_SLEEP_MS, for BACKUP_BUSY_MAX_MS in a row at
 *   most (then -EBUSY).
 * - The copy is written to a temporary file beside OUT (".NAME.XXXXXX",
 *   mode 0600: the store holds provider keys), checked with PRAGMA
 *   quick_check, switched to journal_mode DELETE (one file at rest; a
 *   mount turns WAL on again), synced, then renamed to OUT. On any failure
 *   the temporary file is removed and OUT is left as it was.
 * - OUT is refused when it is the store itself or one of its files
 *   (-wal, -shm, -journal, .lock, .log), a directory, or an existing file
 *   while force is false (checked again at the rename, RENAME_NOREPLACE).
 *   With force, an OUT with a non-empty OUT-wal beside it is refused too:
 *   SQLite would apply that log to the new copy.
 *
 * Ownership: nothing returned needs freeing; callbacks and stop are
 * borrowed for the call.
 */
#ifndef DESKFS_BACKUP_H
#define DESKFS_BACKUP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BACKUP_STEP_PAGES 1024  /* pages per sqlite3_backup_step() */
#define BACKUP_BUSY_SLEEP_MS 10 /* wait after SQLITE_BUSY / SQLITE_LOCKED */
#define BACKUP_BUSY_MAX_MS 10000

/* Called after each step: pages copied so far of total (the total may
 * change when the copy starts over). */
typedef void (*backup_progress_cb)(void *ctx, int64_t done, int64_t total);

struct backup_opts {
	bool force;                     /* replace an existing OUT */
	backup_progress_cb progress;    /* NULL: none */
	void *ctx;                      /* for progress */
	volatile sig_atomic_t *stop;    /* non-zero (e.g. set by a signal handler): -EINTR */
};

/* What was copied, read from the checked copy. */
struct backup_result {
	int64_t pages, page_size, bytes; /* bytes: the size of OUT */
	int64_t tenants, tickets, articles;
	int64_t inbox_files;             /* rows of inbox/, kb/ and queries/ files */
	int restarts;                    /* times the copy started over */
	bool wal_snapshot;               /* copied from one held snapshot */
};

/* Copies the store at src to out as described above. Returns 0 and fills
 * *res, or a negative errno with a one-line reason in err (which names the
 * file): -ENOENT no store at src, -EEXIST out exists, -EINVAL out is the
 * store or one of its files, -EISDIR out is a directory, -EIO src is not a
 * deskfs store or is corrupt, or the copy failed its check, -EBUSY the
 * store stayed locked or OUT's log is there, -EINTR stopped, or the
 * errno of a failed system call (-ENOSPC, -EACCES...). */
int backup_run(const char *src, const char *out, const struct backup_opts *o,
	       struct backup_result *res, char *err, size_t errlen);

#endif
