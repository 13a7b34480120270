/* util.h - small helpers shared by the core: strings, times, UTF-8, names.
 * Every function returning char * returns a malloc'd string the caller
 * frees, or NULL on allocation failure (or on bad input where stated). */
#ifndef DESKFS_UTIL_H
#define DESKFS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* strdup that accepts NULL (returns NULL). */
char *util_strdup(const char *s);
char *util_strndup(const char *s, size_t n);
/* Replaces *dst with a copy of src (NULL allowed); returns 0 or -ENOMEM. */
int util_set_str(char **dst, const char *src);
/* Duplicates s with leading and trailing white space removed. */
char *util_strtrim(const char *s, size_t n);

/* Parses an RFC 3339 / ISO 8601 timestamp ("2024-03-05T10:20:30Z",
 * "+02:00" offsets, fractions, "2024-03-05 10:20:30", "2024-03-05") into
 * seconds since the epoch UTC. Returns 0 and sets *out, or -EINVAL. */
int util_time_parse(const char *s, int64_t *out);
/* Formats t as RFC 3339 UTC ("2024-03-05T10:20:30Z") into buf (>= 21 bytes). */
void util_time_format(int64_t t, char buf[32]);

/* True if [s, s+n) is valid UTF-8 without NUL bytes. */
bool util_utf8_valid(const char *s, size_t n);
/* The length of the longest prefix of s, of at most max bytes, that does
 * not end inside a UTF-8 character (s holds more than max bytes). */
size_t util_utf8_cut(const char *s, size_t max);
/* Copies s replacing invalid UTF-8 sequences with U+FFFD. */
char *util_utf8_sanitize(const char *s, size_t n);
/* Appends the UTF-8 encoding of code point cp to out (4 bytes max);
 * returns the number of bytes written (0 for invalid cp). */
int util_utf8_encode(uint32_t cp, char out[4]);

/* A file-name-safe slug of s: lower case ASCII letters, digits and '-',
 * runs of other characters folded to one '-', at most max bytes, never
 * empty ("untitled"). */
char *util_slugify(const char *s, size_t max);
/* True if name is usable as one path component: non-empty, not "." or
 * "..", no '/', at most NAME_MAX bytes. */
bool util_name_ok(const char *name);

struct timespec;
/* Milliseconds on CLOCK_MONOTONIC since *t0 (taken with clock_gettime). */
double util_ms_since(const struct timespec *t0);

/* XXH3-128 of [s, s+n) as 32 lower-case hex digits + NUL: the content
 * hash of a document (taken over its ticket.json text). */
void util_hash_hex(const char *s, size_t n, char hex[33]);

/* Reads a whole file into a malloc'd buffer (NUL-terminated, *len set).
 * Returns 0 or -errno. */
int util_read_file(const char *path, char **buf, size_t *len);

#endif
