/* ingest.h - turns the bytes of one copied-in file into stored documents.
 *
 * ingest_file() detects the format from the content (the name only breaks
 * ties), runs the parser, and writes every good record through the store.
 * It must be called inside a store transaction (store_begin) so that a file
 * is ingested whole or not at all; the caller commits.
 */
#ifndef DESKFS_INGEST_H
#define DESKFS_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct ingest_report {
	const char *format;  /* "freshdesk json", "zendesk ndjson", "csv", ... */
	int created, updated, unchanged, deleted;
	int rejected;        /* records rejected */
	char *errors;        /* malloc'd "where: why" lines, NULL when none */
	int fatal;           /* the file as a whole was rejected */
	bool embed_later;    /* passages stored without vectors (reembed.h) */
};

/* Returns 0 when the file was understood (records may still have been
 * rejected: see report->rejected), -EINVAL when the whole file was
 * rejected (report->errors says why), or another -errno from the store.
 * The caller frees report->errors. */
int ingest_file(struct store *s, int64_t tenant, enum inbox_area area, const char *name,
		const char *data, size_t len, struct ingest_report *report);
void ingest_report_clear(struct ingest_report *r);

struct ticket;
/* Parses stored ticket doc_id's ticket.json into t (ticket_init'd by the
 * caller); -EIO when it is not the JSON ingestion stored. */
int ingest_ticket_load(struct store *s, int64_t doc_id, struct ticket *t);

/* A ticket directory name for a source id: '/' and control characters
 * replaced by '_', at most 200 bytes, never "." or "..". Caller frees. */
char *ingest_dir_name(const char *source_id);

#endif
