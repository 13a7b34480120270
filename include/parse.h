/* parse.h - the contract between format parsers and ingestion.
 *
 * A parser reads one file (already in memory, NUL-terminated, valid UTF-8
 * unless stated) and hands each record it understands to the sink. It does
 * not touch the store. Record-level problems go to sink->reject() and
 * parsing continues with the next record; a problem with the file as a
 * whole is reported with reject() too and the parser returns -EINVAL.
 *
 * Return value: the number of records handed to the sink (>= 0), or a
 * negative errno (-EINVAL: the file is not of this format or is unusable,
 * -ENOMEM, or whatever a sink callback returned: a negative return from
 * put_ticket/put_article aborts the parse and is passed up unchanged).
 *
 * Ownership: the parser owns the struct it passes to put_ticket/put_article
 * and clears it after the call; the sink copies what it keeps.
 */
#ifndef DESKFS_PARSE_H
#define DESKFS_PARSE_H

#include <jansson.h>
#include <stddef.h>

#include "ticket.h"

struct parse_sink {
	void *ctx;
	int (*put_ticket)(void *ctx, struct ticket *t);
	int (*put_article)(void *ctx, struct article *a);
	/* where: "record 3", "line 17", "message 2 (Message-ID <x@y>)";
	 * why: lower-case, no final full stop, what was expected. */
	void (*reject)(void *ctx, const char *where, const char *why);
	/* E-mail threading: the source_id of the stored (or already put)
	 * e-mail ticket containing message_id, or NULL. The string stays valid
	 * until the next call. May be NULL (no threading). */
	const char *(*thread_find)(void *ctx, const char *message_id);
};

/* What a parser knows about the file besides its bytes. */
struct parse_input {
	const char *name;  /* file name as copied in, e.g. "4821-comments.json" */
	const char *data;  /* NUL-terminated */
	size_t len;
};

/* Convenience for parsers: reject with a printf-style reason. */
void parse_rejectf(struct parse_sink *s, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* JSON sources. Each *_detect says whether a parsed JSON value looks like
 * that source's format; *_parse_value handles one top-level value (an
 * object or an array) found at `where` ("file", "line 3"). */
int freshdesk_detect(json_t *v);
int freshdesk_parse_value(json_t *v, const char *where, const struct parse_input *in,
			  struct parse_sink *s);
int zendesk_detect(json_t *v);
int zendesk_parse_value(json_t *v, const char *where, const struct parse_input *in,
			struct parse_sink *s);

/* CSV exports with a header row (Freshdesk export columns or the generic
 * mapping in docs/formats/csv.md). */
int csv_detect(const struct parse_input *in);
int csv_parse(const struct parse_input *in, struct parse_sink *s);

/* E-mail: a single RFC 5322 message (.eml) or an mbox. in->data may hold
 * any bytes (8-bit charsets are converted to UTF-8). */
int email_detect(const struct parse_input *in); /* 1 eml, 2 mbox, 0 no */
int email_parse(const struct parse_input *in, struct parse_sink *s);

/* Plain .txt/.md/.html: a ticket (as_article = 0) or an article. */
int text_parse(const struct parse_input *in, int as_article, struct parse_sink *s);

#endif
