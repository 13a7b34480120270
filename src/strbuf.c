#include "strbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void strbuf_init(struct strbuf *sb)
{
	sb->buf = NULL;
	sb->len = 0;
	sb->cap = 0;
	sb->err = 0;
}

void strbuf_release(struct strbuf *sb)
{
	free(sb->buf);
	strbuf_init(sb);
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	sb->err = 0;
	if (sb->buf)
		sb->buf[0] = 0;
}

void strbuf_cut_utf8(struct strbuf *sb, size_t start, size_t max)
{
	if (sb->err || sb->len <= start + max)
		return;
	sb->len = start + util_utf8_cut(sb->buf + start, max);
	sb->buf[sb->len] = 0;
}

int strbuf_grow(struct strbuf *sb, size_t extra)
{
	size_t want, cap;
	char *p;

	if (sb->err)
		return sb->err;
	if (extra > ((size_t)-1) / 2 - sb->len - 1)
		goto nomem;
	want = sb->len + extra + 1;
	if (want <= sb->cap)
		return 0;
	cap = sb->cap ? sb->cap : 64;
	while (cap < want)
		cap *= 2;
	p = realloc(sb->buf, cap);
	if (!p)
		goto nomem;
	sb->buf = p;
	sb->cap = cap;
	sb->buf[sb->len] = 0;
	return 0;
nomem:
	sb->err = -ENOMEM;
	return sb->err;
}

void strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	if (strbuf_grow(sb, len))
		return;
	if (len)
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = 0;
}

void strbuf_addstr(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void strbuf_addch(struct strbuf *sb, char c)
{
	strbuf_add(sb, &c, 1);
}

void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	if (strbuf_grow(sb, 64))
		return;
	va_copy(cp, ap);
	n = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, cp);
	va_end(cp);
	if (n < 0) {
		sb->err = -EINVAL;
		return;
	}
	if ((size_t)n >= sb->cap - sb->len) {
		if (strbuf_grow(sb, (size_t)n))
			return;
		va_copy(cp, ap);
		vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, cp);
		va_end(cp);
	}
	sb->len += (size_t)n;
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

void strbuf_rtrim(struct strbuf *sb)
{
	while (sb->len && strchr(" \t\r\n", sb->buf[sb->len - 1]))
		sb->len--;
	if (sb->buf)
		sb->buf[sb->len] = 0;
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
	char *res;

	if (sb->err) {
		strbuf_release(sb);
		return NULL;
	}
	if (!sb->buf && strbuf_grow(sb, 0))
		return NULL;
	res = sb->buf;
	if (len)
		*len = sb->len;
	strbuf_init(sb);
	return res;
}
