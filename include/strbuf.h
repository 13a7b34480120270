/* strbuf.h - growable byte buffers with a sticky allocation error.
 *
 * A strbuf always holds a NUL-terminated string (buf[len] == 0) once any
 * append succeeded. Appends after an allocation failure do nothing and leave
 * sb->err at -ENOMEM, so a chain of appends is checked once at the end
 * (the SQLite "pRc" idiom). Ownership: the strbuf owns buf until
 * strbuf_detach() hands it to the caller, who frees it with free().
 */
#ifndef DESKFS_STRBUF_H
#define DESKFS_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *buf;
	size_t len;
	size_t cap;
	int err; /* 0 or -ENOMEM, sticky */
};

#define STRBUF_INIT { NULL, 0, 0, 0 }

void strbuf_init(struct strbuf *sb);
/* Frees the buffer and resets sb to STRBUF_INIT. */
void strbuf_release(struct strbuf *sb);
/* Empties the buffer, keeping its allocation and clearing err. */
void strbuf_reset(struct strbuf *sb);
/* Returns 0 or -ENOMEM; ensures room for extra more bytes plus the NUL. */
int strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
/* Keeps at most max bytes of sb after its first start bytes, ending on a
 * whole UTF-8 character; nothing when they fit or sb failed (err). */
void strbuf_cut_utf8(struct strbuf *sb, size_t start, size_t max);
/* Removes trailing white space (space, tab, CR, LF). */
void strbuf_rtrim(struct strbuf *sb);
/* Returns the buffer (never NULL: "" when empty) and resets sb; the caller
 * frees the result. Returns NULL if an append failed (sb->err set). */
char *strbuf_detach(struct strbuf *sb, size_t *len);

#endif
