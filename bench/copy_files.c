/* copy_files - copies every regular file of SRCDIR into DSTDIR the way cp
 * does (open, write, close), timing each file from open to the return of
 * close(), which is when deskfs has ingested it.
 *   copy_files SRCDIR DSTDIR
 * Prints: files, seconds, files/s, p50 and p99 latency in ms. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	char **names = NULL, src[4096], dst[4096], *buf = malloc(1 << 20);
	size_t n = 0, cap = 0;
	double *lat, t0, total;
	struct dirent *e;
	DIR *d;

	if (argc != 3 || !buf) {
		fprintf(stderr, "usage: copy_files SRCDIR DSTDIR\n");
		return 2;
	}
	if (!(d = opendir(argv[1]))) {
		perror(argv[1]);
		return 1;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			names = realloc(names, cap * sizeof(*names));
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	lat = calloc(n ? n : 1, sizeof(*lat));
	total = now();
	for (size_t i = 0; i < n; i++) {
		int in, out;
		ssize_t r;

		snprintf(src, sizeof(src), "%s/%s", argv[1], names[i]);
		snprintf(dst, sizeof(dst), "%s/%s", argv[2], names[i]);
		if ((in = open(src, O_RDONLY)) < 0) {
			perror(src);
			return 1;
		}
		t0 = now();
		if ((out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
			perror(dst);
			return 1;
		}
		while ((r = read(in, buf, 1 << 20)) > 0)
			if (write(out, buf, (size_t)r) != r) {
				perror(dst);
				return 1;
			}
		if (close(out)) {
			perror(dst);
			return 1;
		}
		lat[i] = now() - t0;
		close(in);
	}
	total = now() - total;
	qsort(lat, n, sizeof(*lat), cmp_double);
	printf("files %zu seconds %.2f files/s %.0f p50_ms %.3f p99_ms %.3f\n", n, total,
	       n / total, n ? lat[n / 2] * 1e3 : 0, n ? lat[(size_t)(n * 0.99)] * 1e3 : 0);
	return 0;
}
