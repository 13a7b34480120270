/* parse_json.h - checked reading of one JSON record, shared by the JSON
 * source parsers (parse_freshdesk.c, parse_zendesk.c).
 *
 * A struct rec accumulates the first validation problem of a record (why;
 * the record is then rejected with that reason) and a sticky -ENOMEM (rc),
 * so that a parser reads every field and checks once at the end. path
 * prefixes messages about nested objects ("attachment 2: ").
 */
#ifndef DESKFS_PARSE_JSON_H
#define DESKFS_PARSE_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "ticket.h"

struct rec {
	char why[256];
	char path[48];
	int rc;
};

/* Records the first problem ("path" + message); later ones are dropped. */
void rec_fail(struct rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "a string", "an integer", ... for messages. */
const char *rec_type_name(json_t *v);
/* o[key] if of type want (else a failure naming want_name); NULL when absent or null. */
json_t *rec_get(struct rec *r, json_t *o, const char *key, json_type want,
		       const char *want_name);
const char *rec_str(struct rec *r, json_t *o, const char *key);
bool rec_int(struct rec *r, json_t *o, const char *key, json_int_t *out);
bool rec_bool(struct rec *r, json_t *o, const char *key, bool def);
int64_t rec_time(struct rec *r, json_t *o, const char *key);
void rec_dup(struct rec *r, char **dst, const char *s);
void rec_fmt(struct rec *r, char **dst, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void rec_html_text(struct rec *r, char **dst, const char *html);
void rec_tags(struct rec *r, json_t *o, const char *key, struct ticket *t,
		     struct article *a);
/* The JSON text of one record, for ticket->raw. */
void rec_raw(struct rec *r, char **dst, json_t *v);
/* Messages: release one; move *m onto t->msgs (m is zeroed). */
void msg_release(struct message *m);
int msg_append(struct ticket *t, struct message *m);

#endif
