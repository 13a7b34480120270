#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "strbuf.h"

char *util_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *util_strndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

int util_set_str(char **dst, const char *src)
{
	char *copy = NULL;

	if (src && !(copy = strdup(src)))
		return -ENOMEM;
	free(*dst);
	*dst = copy;
	return 0;
}

char *util_strtrim(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return util_strndup(s, n);
}

static int parse_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -EINVAL;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int util_time_parse(const char *s, int64_t *out)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0;
	const char *p = s;

	if (!s)
		return -EINVAL;
	while (isspace((unsigned char)*p))
		p++;
	if (parse_digits(&p, 4, &y) || *p++ != '-' || parse_digits(&p, 2, &mo) ||
	    *p++ != '-' || parse_digits(&p, 2, &d))
		return -EINVAL;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (parse_digits(&p, 2, &h) || *p++ != ':' || parse_digits(&p, 2, &mi))
			return -EINVAL;
		if (*p == ':') {
			p++;
			if (parse_digits(&p, 2, &sec))
				return -EINVAL;
		}
		if (*p == '.' || *p == ',') {
			p++;
			while (isdigit((unsigned char)*p))
				p++;
		}
		while (*p == ' ')
			p++;
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			sign = *p++ == '-' ? -1 : 1;
			if (parse_digits(&p, 2, &oh))
				return -EINVAL;
			if (*p == ':')
				p++;
			if (isdigit((unsigned char)*p) && parse_digits(&p, 2, &om))
				return -EINVAL;
		} else if (!strncmp(p, "UTC", 3)) {
			p += 3;
		}
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	*out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 +
	       mi * 60 + sec - sign * (oh * 3600 + om * 60);
	return 0;
}

void util_time_format(int64_t t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Length of the valid UTF-8 sequence at s (max n bytes), or 0. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return c ? 1 : 0;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

size_t util_utf8_cut(const char *s, size_t max)
{
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}

bool util_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		if (p[i] && p[i] < 0x80) {
			i++;
			continue;
		}
		size_t l = utf8_seq_len(p + i, n - i);
		if (!l)
			return false;
		i += l;
	}
	return true;
}

char *util_utf8_sanitize(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	struct strbuf sb = STRBUF_INIT;
	size_t i = 0;

	strbuf_grow(&sb, n);
	while (i < n) {
		size_t l = utf8_seq_len(p + i, n - i);
		if (l) {
			strbuf_add(&sb, p + i, l);
			i += l;
		} else {
			if (p[i])
				strbuf_addstr(&sb, "\xef\xbf\xbd");
			i++;
		}
	}
	return strbuf_detach(&sb, NULL);
}

int util_utf8_encode(uint32_t cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp >= 0xd800 && cp <= 0xdfff)
		return 0;
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	if (cp <= 0x10ffff) {
		out[0] = (char)(0xf0 | (cp >> 18));
		out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[3] = (char)(0x80 | (cp & 0x3f));
		return 4;
	}
	return 0;
}

char *util_slugify(const char *s, size_t max)
{
	struct strbuf sb = STRBUF_INIT;
	bool dash = false;

	for (const char *p = s ? s : ""; *p && sb.len < max; p++) {
		unsigned char c = (unsigned char)*p;
		if (isalnum(c) && c < 0x80) {
			if (dash && sb.len)
				strbuf_addch(&sb, '-');
			dash = false;
			strbuf_addch(&sb, (char)tolower(c));
		} else {
			dash = true;
		}
	}
	while (sb.len && sb.buf[sb.len - 1] == '-')
		sb.buf[--sb.len] = 0;
	if (!sb.len)
		strbuf_addstr(&sb, "untitled");
	return strbuf_detach(&sb, NULL);
}

bool util_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	return n && n <= NAME_MAX && strcmp(name, ".") && strcmp(name, "..") &&
	       !strchr(name, '/');
}

int util_read_file(const char *path, char **buf, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	char chunk[65536];
	ssize_t n;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		strbuf_add(&sb, chunk, (size_t)n);
	}
	if (sb.err) {
		rc = sb.err;
		goto out;
	}
	*buf = strbuf_detach(&sb, len);
	if (!*buf)
		rc = -ENOMEM;
out:
	close(fd);
	strbuf_release(&sb);
	return rc;
}

void util_hash_hex(const char *s, size_t n, char hex[33])
{
	XXH128_hash_t h = XXH3_128bits(s, n);

	snprintf(hex, 33, "%016llx%016llx", (unsigned long long)h.high64,
		 (unsigned long long)h.low64);
}

double util_ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}
