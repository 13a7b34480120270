/* ticket.h - the common model every source format is normalized into.
 *
 * A ticket is keyed by (tenant, source, instance, source_id). Parsers fill a
 * struct ticket with malloc'd strings; the struct owns every pointer in it
 * and ticket_clear() frees them all. A ticket with partial = true carries
 * only messages (and attachments) to merge into an already-stored ticket
 * with the same key (a Freshdesk conversations file, a Zendesk comments
 * file, an e-mail reply).
 *
 * Times are seconds since the epoch, UTC; 0 means unknown. Normalized
 * status is one of "new", "open", "pending", "hold", "solved", "closed",
 * "deleted"; priority one of "low", "normal", "high", "urgent"; the source's
 * own value is kept in *_raw.
 */
#ifndef DESKFS_TICKET_H
#define DESKFS_TICKET_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

enum author_role {
	ROLE_UNKNOWN = 0,
	ROLE_CUSTOMER,
	ROLE_AGENT,
	ROLE_SYSTEM,
};

struct attachment {
	char *name;
	char *content_type;
	int64_t size; /* bytes, -1 unknown */
	char *url;
};

struct message {
	char *id;        /* source message id (conversation id, comment id, Message-ID) */
	enum author_role role;
	char *author;    /* name, e-mail or source user id */
	bool is_public;  /* false: internal note */
	char *text;      /* plain text (converted from html when only html given) */
	char *html;      /* may be NULL */
	int64_t time;
	struct attachment *atts;
	size_t n_atts;
};

struct ticket {
	char *source;    /* "freshdesk", "zendesk", "email", "csv", "file" */
	char *instance;  /* e.g. "acme.freshdesk.com"; "" when unknown, never NULL after ticket_finish() */
	char *source_id; /* the source's ticket id as text */
	bool partial;    /* messages to merge into an existing ticket */
	bool deleted;    /* the source reports the ticket deleted */

	char *subject;
	char *body_text; /* the description / first message in plain text */
	char *body_html;
	char *status, *status_raw;
	char *priority, *priority_raw;
	char *type;
	char *requester, *assignee, *group;
	int64_t created, updated, resolved;
	char **tags;
	size_t n_tags;
	json_t *custom_fields; /* object or NULL; owned (one reference) */

	struct message *msgs;
	size_t n_msgs;
	struct attachment *atts; /* attachments of the ticket itself */
	size_t n_atts;

	/* The verbatim source record this ticket came from (the JSON text of
	 * one array element or NDJSON line, one CSV row with its header, one
	 * message of an mbox), kept as source.json. NULL: the whole file. */
	char *raw;
};

/* A knowledge-base article. Same ownership rules as struct ticket. */
struct article {
	char *source;    /* "freshdesk", "zendesk", "file" */
	char *source_id; /* source article id, or the file name for plain files */
	char *slug;      /* shown as kb/SLUG.md; derived from title when NULL */
	char *title;
	char *body_text; /* Markdown-flavoured text */
	char *body_html;
	char *status;
	char *url;
	char **tags;
	size_t n_tags;
	int64_t created, updated;
};

void ticket_init(struct ticket *t);
void ticket_clear(struct ticket *t);
/* Appends a zeroed message (is_public = true) and returns it, or NULL. */
struct message *ticket_add_message(struct ticket *t);
/* Appends a zeroed attachment (size -1) to the ticket or to message m. */
struct attachment *ticket_add_attachment(struct ticket *t);
struct attachment *message_add_attachment(struct message *m);
int ticket_add_tag(struct ticket *t, const char *tag);
/* Fills derived fields: instance "" when NULL, body_text from body_html,
 * message text from html, messages sorted by time (stable), subject from
 * the body's first line when empty. Returns 0 or -ENOMEM. */
int ticket_finish(struct ticket *t);
/* Merges the messages and attachments of partial ticket src into dst,
 * replacing messages with the same id; returns 0 or -ENOMEM. */
int ticket_merge(struct ticket *dst, const struct ticket *src);

/* True when a and b are the same message: equal ids, or, when either has
 * no id, equal role, time and text. */
bool message_same(const struct message *a, const struct message *b);

/* Normalized JSON (documented in docs/model.md); caller owns the result. */
json_t *ticket_to_json(const struct ticket *t);
/* Parses what ticket_to_json produced; returns 0 or -EINVAL / -ENOMEM. */
int ticket_from_json(json_t *j, struct ticket *t);
/* Readable Markdown rendering, appended to out. */
void ticket_render_md(const struct ticket *t, struct strbuf *out);

void article_init(struct article *a);
void article_clear(struct article *a);
int article_add_tag(struct article *a, const char *tag);
int article_finish(struct article *a);
json_t *article_to_json(const struct article *a);
void article_render_md(const struct article *a, struct strbuf *out);

const char *role_name(enum author_role r);

#endif
