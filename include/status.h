/* status.h - the text of TENANT/status (FUSE-free).
 *
 * The same text is shown by the mount (cat TENANT/status, fs_tenant.c) and
 * by the command line (deskfs status, main.c), which may run beside a
 * mount or alone. It is built from what the store holds, plus what the
 * core's own threads know when it has them (the re-embedder's progress and
 * last error): a client core (core_open_client) has none, so those lines
 * say only what the store says.
 *
 * Layout: a list of sections (status.c, sections[]), each appending lines;
 * the recent events come last. A new kind of line is a new section.
 */
#ifndef DESKFS_STATUS_H
#define DESKFS_STATUS_H

#include <stdint.h>

#include "inbox.h"
#include "strbuf.h"

/* Appends the status text of tenant to out. Returns 0, -ENOENT for an
 * unknown tenant, another -errno from the store, or -ENOMEM (out->err). */
int status_render(struct core *c, int64_t tenant, struct strbuf *out);

#endif
