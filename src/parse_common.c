#include <stdarg.h>
#include <stdio.h>

#include "parse.h"
#include "strbuf.h"

void parse_rejectf(struct parse_sink *s, const char *where, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	if (s->reject)
		s->reject(s->ctx, where, sb.buf ? sb.buf : "out of memory");
	strbuf_release(&sb);
}
