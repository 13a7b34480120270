/* sqlite_errno.h - the one mapper of SQLite result codes to negative
 * errno values, for the files that talk to SQLite (store_sqlite.c,
 * store_backup.c). */
#ifndef DESKFS_SQLITE_ERRNO_H
#define DESKFS_SQLITE_ERRNO_H

/* 0 for SQLITE_OK, ROW and DONE; -EBUSY for BUSY and LOCKED; -ENOMEM,
 * -EROFS, -ENOSPC, -EEXIST (constraint), -ENOENT, -EACCES, -EFBIG; -EIO
 * for corruption, I/O errors and anything else. */
int sqlite_errno(int rc);

#endif
