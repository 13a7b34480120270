/* check.h - a minimal unit-test harness: CHECK* record a failure with file
 * and line and go on; check_done() prints "N passed, N failed" and returns
 * the exit status. */
#ifndef DESKFS_CHECK_H
#define DESKFS_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (cond) {                                                      \
			check_passed++;                                          \
		} else {                                                         \
			check_failed++;                                          \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__,   \
				__LINE__, #cond);                                \
		}                                                                \
	} while (0)

#define CHECK_STR(a, b)                                                          \
	do {                                                                     \
		const char *a_ = (a), *b_ = (b);                                 \
		if (a_ && b_ && !strcmp(a_, b_)) {                               \
			check_passed++;                                          \
		} else {                                                         \
			check_failed++;                                          \
			fprintf(stderr, "%s:%d: %s == %s failed:\n  got:  %s%s%s\n  want: %s%s%s\n", \
				__FILE__, __LINE__, #a, #b, a_ ? "\"" : "",      \
				a_ ? a_ : "NULL", a_ ? "\"" : "", b_ ? "\"" : "", \
				b_ ? b_ : "NULL", b_ ? "\"" : "");               \
		}                                                                \
	} while (0)

#define CHECK_INT(a, b)                                                          \
	do {                                                                     \
		long long a_ = (long long)(a), b_ = (long long)(b);              \
		if (a_ == b_) {                                                  \
			check_passed++;                                          \
		} else {                                                         \
			check_failed++;                                          \
			fprintf(stderr, "%s:%d: %s == %s failed: got %lld, want %lld\n", \
				__FILE__, __LINE__, #a, #b, a_, b_);             \
		}                                                                \
	} while (0)

/* CHECK_CONTAINS(haystack, needle) */
#define CHECK_CONTAINS(h, n)                                                     \
	do {                                                                     \
		const char *h_ = (h), *n_ = (n);                                 \
		if (h_ && n_ && strstr(h_, n_)) {                                \
			check_passed++;                                          \
		} else {                                                         \
			check_failed++;                                          \
			fprintf(stderr, "%s:%d: \"%s\" not found in:\n%s\n",     \
				__FILE__, __LINE__, n_ ? n_ : "NULL",            \
				h_ ? h_ : "NULL");                               \
		}                                                                \
	} while (0)

static inline int check_done(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
