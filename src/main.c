/* main.c - the deskfs command line: mount, umount, ingest, status, backup,
 * --help, --version. ingest and status open the store as a client (inbox.h:
 * core_open_client), and backup reads it with SQLite's backup API
 * (backup.h), so all three work beside a mount of the same store. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "backup.h"
#include "fs.h"
#include "inbox.h"
#include "jobs.h"
#include "status.h"
#include "strbuf.h"
#include "util.h"

#define DEFAULT_MAX_FILE_SIZE (256LL << 20)

static void usage(FILE *out)
{
	fprintf(out,
		"usage: deskfs mount [--db FILE] [--max-file-size BYTES] [--workers N] MOUNTPOINT\n"
		"                    [-f] [-d] [-o OPTIONS]\n"
		"       deskfs umount MOUNTPOINT\n"
		"       deskfs ingest [--db FILE] [--max-file-size BYTES] [-q] TENANT PATH...\n"
		"       deskfs status [--db FILE] [TENANT]\n"
		"       deskfs backup [--db FILE] [--force] [-q] OUT\n"
		"       deskfs --help | --version\n"
		"\n"
		"mount options:\n"
		"  --db FILE              the SQLite store (default $XDG_DATA_HOME/deskfs/deskfs.db,\n"
		"                         that is ~/.local/share/deskfs/deskfs.db)\n"
		"  --max-file-size BYTES  largest file accepted in inbox/ and kb/ (default 256 MiB;\n"
		"                         suffixes K, M, G); larger writes fail with EFBIG\n"
		"  --workers N            background job threads: summaries, similar tickets\n"
		"                         (1 to 64, default 2; 0: none, jobs stay queued in the\n"
		"                         store for a later mount)\n"
		"  -f                     stay in the foreground, log to standard error\n"
		"  -d                     FUSE debug output (implies -f)\n"
		"  -s                     single-threaded FUSE loop\n"
		"  -o OPTIONS             FUSE mount options, e.g. allow_other\n"
		"\n"
		"In the background the daemon logs to FILE.log beside the store.\n"
		"\n"
		"ingest puts each file (directories: every file in them, recursively) into\n"
		"TENANT/inbox/ as cp would, creating the tenant if needed; -q prints only the\n"
		"rejected and failed files. Exit status: 0 all ingested, 1 a file was rejected\n"
		"or failed, 2 usage. status prints TENANT/status (every tenant's without TENANT).\n"
		"backup copies the store, consistent while mounted and written, to the new file\n"
		"OUT (a store of its own; --force replaces an existing OUT) and checks the copy.\n"
		"All three work with or without a mount of the same store (docs/cli.md).\n");
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(buf, 0700) && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static char *default_db(void)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	char dir[PATH_MAX], *path;

	if (xdg && *xdg)
		snprintf(dir, sizeof(dir), "%s/deskfs", xdg);
	else
		snprintf(dir, sizeof(dir), "%s/.local/share/deskfs", home ? home : "/tmp");
	if (mkdir_p(dir)) {
		fprintf(stderr, "deskfs: cannot create '%s': %s\n", dir, strerror(errno));
		return NULL;
	}
	path = malloc(strlen(dir) + sizeof("/deskfs.db"));
	if (path)
		sprintf(path, "%s/deskfs.db", dir);
	return path;
}

/* Where a mount's daemon leaves its pid, so umount can wait for it. */
static void pid_file_path(const char *mountpoint, char *out, size_t len)
{
	const char *run = getenv("XDG_RUNTIME_DIR");
	XXH64_hash_t h = XXH3_64bits(mountpoint, strlen(mountpoint));

	snprintf(out, len, "%s/deskfs-%u-%016llx.pid", run && *run ? run : "/tmp",
		 (unsigned)getuid(), (unsigned long long)h);
}

static int check_mountpoint(const char *mp)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int n = 0;

	if (stat(mp, &st)) {
		if (errno == ENOTCONN)
			fprintf(stderr, "deskfs: '%s' is a stale mount (its daemon died): run "
				"'deskfs umount %s' first\n", mp, mp);
		else if (errno == ENOENT)
			fprintf(stderr, "deskfs: mount point '%s' does not exist\n", mp);
		else
			fprintf(stderr, "deskfs: cannot use mount point '%s': %s\n", mp, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "deskfs: mount point '%s' is not a directory\n", mp);
		return -1;
	}
	if (!(d = opendir(mp))) {
		fprintf(stderr, "deskfs: cannot read mount point '%s': %s\n", mp, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	if (n) {
		fprintf(stderr, "deskfs: mount point '%s' is not empty (deskfs would hide its "
			"files)\n", mp);
		return -1;
	}
	return 0;
}

/* Holds an exclusive lock on DB.lock for the life of the daemon. */
static int lock_db(const char *db)
{
	char path[PATH_MAX + 8], pid[32] = "";
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s.lock", db);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "deskfs: cannot create lock file '%s': %s\n", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = 0;
		pid[strcspn(pid, "\n")] = 0;
		fprintf(stderr, "deskfs: database '%s' is locked: another deskfs (pid %s) has it "
			"mounted\n", db, *pid ? pid : "unknown");
		close(fd);
		return -1;
	}
	return fd;
}

static void lock_note_pid(int fd)
{
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());

	if (ftruncate(fd, 0) == 0)
		(void)!pwrite(fd, pid, (size_t)n, 0);
}

static int64_t parse_size(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (end == s || v <= 0)
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end == 'i' || *end == 'B')
		end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	return *end ? -1 : v;
}

static int cmd_mount(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'b' },
		{ "max-file-size", required_argument, NULL, 'm' },
		{ "workers", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fs_options opt = { 0 };
	int workers = 0;
	struct core *core = NULL;
	char *db = NULL, mp[PATH_MAX], pidfile[PATH_MAX + 64], err[512];
	int64_t max_size = DEFAULT_MAX_FILE_SIZE;
	int c, lockfd = -1, pipefd[2] = { -1, -1 }, rc = 1;

	while ((c = getopt_long(argc, argv, "+fdso:h", longopts, NULL)) != -1 ||
	       (optind < argc && !opt.mountpoint)) {
		if (c == -1) {
			/* a positional: the mount point; options may follow it */
			opt.mountpoint = argv[optind++];
			continue;
		}
		switch (c) {
		case 'b': free(db); db = strdup(optarg); break;
		case 'm':
			if ((max_size = parse_size(optarg)) < 0) {
				fprintf(stderr, "deskfs: bad --max-file-size '%s'\n", optarg);
				goto out;
			}
			break;
		case 'w': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || n < 0 || n > JOBS_WORKERS_MAX) {
				fprintf(stderr, "deskfs: bad --workers '%s' (0 to %d)\n", optarg,
					JOBS_WORKERS_MAX);
				goto out;
			}
			workers = n ? (int)n : JOBS_WORKERS_NONE;
			break;
		}
		case 'f': opt.foreground = true; break;
		case 'd': opt.debug = opt.foreground = true; break;
		case 's': opt.single_thread = true; break;
		case 'o': opt.fuse_opts = optarg; break;
		case 'h': usage(stdout); rc = 0; goto out;
		default: usage(stderr); rc = 2; goto out;
		}
	}
	if (!opt.mountpoint || optind < argc) {
		usage(stderr);
		rc = 2;
		goto out;
	}
	if (check_mountpoint(opt.mountpoint))
		goto out;
	if (!realpath(opt.mountpoint, mp)) {
		fprintf(stderr, "deskfs: cannot resolve '%s': %s\n", opt.mountpoint, strerror(errno));
		goto out;
	}
	opt.mountpoint = mp;
	if (!db && !(db = default_db()))
		goto out;
	if (db[0] != '/') {
		/* the daemon leaves the working directory; its connections
		 * open the store by name later */
		char cwd[PATH_MAX], *abs;
		if (!getcwd(cwd, sizeof(cwd)) || !(abs = malloc(strlen(cwd) + strlen(db) + 2))) {
			fprintf(stderr, "deskfs: cannot resolve '%s': %s\n", db, strerror(errno));
			goto out;
		}
		sprintf(abs, "%s/%s", cwd, db);
		free(db);
		db = abs;
	}
	if ((lockfd = lock_db(db)) < 0)
		goto out;
	if (!opt.foreground) {
		pid_t pid;
		if (pipe(pipefd)) {
			perror("deskfs: pipe");
			goto out;
		}
		pid = fork();
		if (pid < 0) {
			perror("deskfs: fork");
			goto out;
		}
		if (pid > 0) {
			/* The parent returns once the child has mounted or failed. */
			char buf[4];
			int status;
			close(pipefd[1]);
			if (read(pipefd[0], buf, 2) == 2) {
				rc = 0;
			} else {
				waitpid(pid, &status, 0);
				rc = WIFEXITED(status) && WEXITSTATUS(status) ? WEXITSTATUS(status) : 1;
			}
			close(pipefd[0]);
			close(lockfd);
			lockfd = -1;
			goto out;
		}
		close(pipefd[0]);
		setsid();
	}
	lock_note_pid(lockfd);
	rc = core_open(db, max_size, workers, &core, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "deskfs: %s\n", err);
		rc = 1;
		goto out;
	}
	pid_file_path(mp, pidfile, sizeof(pidfile));
	{
		FILE *f = fopen(pidfile, "w");
		if (f) {
			fprintf(f, "%d\n", (int)getpid());
			fclose(f);
		}
	}
	if (!opt.foreground) {
		char logpath[PATH_MAX + 8];
		int fd, nul = open("/dev/null", O_RDWR);
		snprintf(logpath, sizeof(logpath), "%s.log", db);
		fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (nul >= 0) {
			dup2(nul, STDIN_FILENO);
			dup2(nul, STDOUT_FILENO);
			close(nul);
		}
		if (fd >= 0) {
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		if (chdir("/")) {
			/* not fatal */
		}
	}
	fprintf(stderr, "deskfs %s: mounting '%s' on '%s'\n", DESKFS_VERSION, db, mp);
	rc = fs_main(core, &opt, opt.foreground ? -1 : pipefd[1]);
	fprintf(stderr, "deskfs: unmounted '%s'\n", mp);
	unlink(pidfile);
out:
	core_close(core);
	if (lockfd >= 0)
		close(lockfd);
	free(db);
	return rc;
}

static int cmd_umount(int argc, char **argv)
{
	char mp[PATH_MAX], pidfile[PATH_MAX + 64];
	int status, pid = 0;
	pid_t child;
	FILE *f;

	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	if (!realpath(argv[1], mp))
		snprintf(mp, sizeof(mp), "%s", argv[1]);
	pid_file_path(mp, pidfile, sizeof(pidfile));
	if ((f = fopen(pidfile, "r"))) {
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	child = fork();
	if (child == 0) {
		execlp("fusermount3", "fusermount3", "-u", "-z", mp, (char *)NULL);
		fprintf(stderr, "deskfs: cannot run fusermount3: %s\n", strerror(errno));
		_exit(127);
	}
	if (child < 0 || waitpid(child, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fprintf(stderr, "deskfs: cannot unmount '%s'\n", argv[1]);
		return 1;
	}
	/* Wait for the daemon to close the store, so a new mount can take it. */
	for (int i = 0; pid > 0 && i < 3000 && kill(pid, 0) == 0; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* ---- shared by ingest and backup: progress line, stop signals, formats -- */

#define PROGRESS_MS 100 /* the progress line is redrawn at most this often */

/* The self-redrawing progress line of ingest and backup, on standard error
 * when it is a terminal. */
struct progress {
	bool on;    /* standard error is a terminal (and not --quiet) */
	bool drawn; /* the line is on the screen */
	struct timespec drawn_at;
};

/* SIGINT and SIGTERM stop ingest and backup between two steps; the
 * handler is reset, so a second signal kills. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void stop_signals_catch(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sa.sa_flags = SA_RESTART | SA_RESETHAND; /* a second signal kills */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Removes the progress line, so that a line can be printed in its place. */
static void progress_clear(struct progress *p)
{
	if (p->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		p->drawn = false;
	}
}

/* True when the line is to be drawn now: at most every PROGRESS_MS unless
 * forced. */
static bool progress_due(struct progress *p, bool force)
{
	if (!p->on || (!force && util_ms_since(&p->drawn_at) < PROGRESS_MS))
		return false;
	clock_gettime(CLOCK_MONOTONIC, &p->drawn_at);
	return true;
}

/* Draws "[#####     ] TEXT": the bar (done of total) only where it fits,
 * the rest cut to the terminal's width (a wrapped line could not be
 * redrawn). */
static void progress_show(struct progress *p, size_t done, size_t total, const struct strbuf *text)
{
	struct strbuf bar = STRBUF_INIT;
	struct winsize ws;
	size_t width = 80;

	if (!ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) && ws.ws_col > 0)
		width = ws.ws_col;
	if (text->len + 24 < width) {
		size_t fill = total ? done * 20 / total : 20;
		strbuf_addch(&bar, '[');
		for (size_t i = 0; i < 20; i++)
			strbuf_addch(&bar, i < fill ? '#' : ' ');
		strbuf_addstr(&bar, "] ");
	}
	if (!text->err && !bar.err) {
		size_t room = width - 1 > bar.len ? width - 1 - bar.len : 0;
		fprintf(stderr, "\r%s%.*s\033[K", bar.buf ? bar.buf : "",
			(int)(text->len < room ? text->len : room), text->buf ? text->buf : "");
		fflush(stderr);
		p->drawn = true;
	}
	strbuf_release(&bar);
}

static void fmt_duration(double s, char buf[32])
{
	long t = (long)(s + 0.5);

	if (s < 10)
		snprintf(buf, 32, "%.1fs", s);
	else if (t < 60)
		snprintf(buf, 32, "%lds", t);
	else if (t < 3600)
		snprintf(buf, 32, "%ldm%02lds", t / 60, t % 60);
	else
		snprintf(buf, 32, "%ldh%02ldm", t / 3600, t / 60 % 60);
}

static void fmt_bytes(int64_t n, char buf[32])
{
	if (n < 1024)
		snprintf(buf, 32, "%lld bytes", (long long)n);
	else if (n < 1024 * 1024)
		snprintf(buf, 32, "%.1f KiB", (double)n / 1024);
	else if (n < 1024LL * 1024 * 1024)
		snprintf(buf, 32, "%.1f MiB", (double)n / (1024 * 1024));
	else
		snprintf(buf, 32, "%.1f GiB", (double)n / (1024.0 * 1024 * 1024));
}

/* ---- deskfs ingest --------------------------------------------------------
 *
 * The paths are walked first (so the progress line knows the total), then
 * each file goes through inbox_put(), the path of a cp into TENANT/inbox/.
 * Output: per-file lines on standard output ("ingested", "rejected",
 * "failed"; the ingested ones only when standard output is not a terminal),
 * a self-updating progress line on standard error when it is a terminal,
 * and a summary line. SIGINT/SIGTERM stop after the current file; a second
 * one kills at once. */

struct ingest_file {
	char *path;
	const char *name; /* in path: the name it gets in the inbox */
	int64_t size;
};

struct ingest_run {
	struct core *core;
	struct tenant_row tenant;
	uint32_t mode; /* of new inbox files and of a new tenant */
	bool quiet, ok_lines;
	struct progress pl;
	struct ingest_file *files;
	size_t n_files, cap_files;
	size_t done, ingested, rejected, failed;
	size_t walk_failed; /* paths that could not be read (in failed too) */
	int64_t bytes_total, bytes_done;
	long long created, updated, unchanged;
	struct timespec t0;
};

/* A per-file or summary line on standard output (above the progress line). */
static void ingest_say(struct ingest_run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void ingest_say(struct ingest_run *r, const char *fmt, ...)
{
	va_list ap;

	progress_clear(&r->pl);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

/* Draws the progress line (progress_show), at most every PROGRESS_MS
 * unless forced: "[#####     ] 12/40 files, ETA 3s: 30 created, 2 updated,
 * 0 unchanged, 1 rejected, 8.5 files/s". */
static void ingest_progress(struct ingest_run *r, bool force)
{
	struct strbuf line = STRBUF_INIT;
	double secs = util_ms_since(&r->t0) / 1e3, rate;
	size_t total = r->n_files;
	char eta[32] = "--";

	if (!progress_due(&r->pl, force))
		return;
	/* by bytes: file sizes vary far more than per-file costs */
	if (r->bytes_done > 0 && secs > 0)
		fmt_duration((double)(r->bytes_total - r->bytes_done) / ((double)r->bytes_done / secs),
			     eta);
	strbuf_addf(&line, "%zu/%zu files, ETA %s: %lld created, %lld updated, %lld unchanged, "
		    "%zu rejected", r->done, total, eta, r->created, r->updated, r->unchanged,
		    r->rejected);
	if (r->failed)
		strbuf_addf(&line, ", %zu failed", r->failed);
	rate = secs > 0 ? (double)r->done / secs : 0.0;
	strbuf_addf(&line, ", %.*f files/s", rate < 10 ? 1 : 0, rate);
	progress_show(&r->pl, r->done, total, &line);
	strbuf_release(&line);
}

static int ingest_add(struct ingest_run *r, const char *path, int64_t size)
{
	struct ingest_file *f;
	const char *slash;

	if (r->n_files == r->cap_files) {
		size_t cap = r->cap_files ? r->cap_files * 2 : 64;
		if (!(f = realloc(r->files, cap * sizeof(*f))))
			return -ENOMEM;
		r->files = f;
		r->cap_files = cap;
	}
	f = &r->files[r->n_files];
	if (!(f->path = strdup(path)))
		return -ENOMEM;
	slash = strrchr(f->path, '/');
	f->name = slash ? slash + 1 : f->path;
	f->size = size;
	r->bytes_total += size;
	r->n_files++;
	return 0;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int ingest_walk(struct ingest_run *r, const char *path, bool top);

/* Every file under dir, in byte order of names; temporary names (inbox.h)
 * and links to directories are skipped. */
static int ingest_walk_dir(struct ingest_run *r, const char *dir)
{
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, name_cmp), rc = 0;
	size_t dlen = strlen(dir);

	if (n < 0) {
		ingest_say(r, "failed %s: %s\n", dir, strerror(errno));
		r->failed++;
		r->walk_failed++;
		return 0;
	}
	while (dlen > 1 && dir[dlen - 1] == '/')
		dlen--;
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		char *path;
		struct stat st;

		if (rc || inbox_name_is_temp(name))
			continue;
		if (!(path = malloc(dlen + strlen(name) + 2))) {
			rc = -ENOMEM;
			continue;
		}
		sprintf(path, "%.*s/%s", (int)dlen, dir, name);
		if (!(lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && stat(path, &st) == 0 &&
		      S_ISDIR(st.st_mode)))
			rc = ingest_walk(r, path, false);
		free(path);
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return rc;
}

/* Adds path (a file, or a directory's files) to the run. Problems with a
 * path are reported and counted as failed files; returns only -ENOMEM. */
static int ingest_walk(struct ingest_run *r, const char *path, bool top)
{
	struct stat st;
	const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;

	if (stat(path, &st)) {
		ingest_say(r, "failed %s: %s\n", path, strerror(errno));
		r->failed++;
		r->walk_failed++;
		return 0;
	}
	if (S_ISDIR(st.st_mode))
		return ingest_walk_dir(r, path);
	if (!S_ISREG(st.st_mode)) {
		ingest_say(r, "failed %s: not a regular file\n", path);
		r->failed++;
		r->walk_failed++;
		return 0;
	}
	if (inbox_name_is_temp(name)) {
		if (top && !r->quiet)
			ingest_say(r, "skipped %s: a temporary name, never ingested\n", path);
		return 0;
	}
	return ingest_add(r, path, (int64_t)st.st_size);
}

/* Puts one file into the tenant's inbox and reports what became of it. */
static void ingest_one(struct ingest_run *r, const struct ingest_file *f)
{
	struct inbox_result res;
	char a[32], b[32];
	int fd, rc;

	fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
	} else {
		rc = inbox_put(r->core, r->tenant.id, AREA_INBOX, f->name, r->mode & 0666, fd, &res);
		close(fd);
	}
	r->done++;
	r->bytes_done += f->size;
	if (rc) {
		r->failed++;
		if (rc == -EFBIG) {
			fmt_bytes(f->size, a);
			fmt_bytes(r->core->max_file_size, b);
			ingest_say(r, "failed %s: too large (%s; the largest file accepted is %s, "
				   "see --max-file-size)\n", f->path, a, b);
		} else if (rc == -EBUSY) {
			ingest_say(r, "failed %s: busy: another process is writing '%s' in the inbox "
				   "or holds the store; try again\n", f->path, f->name);
		} else if (rc == -ENOENT) {
			ingest_say(r, "failed %s: removed from the inbox while being ingested\n",
				   f->path);
		} else {
			ingest_say(r, "failed %s: %s\n", f->path, strerror(-rc));
		}
		return;
	}
	r->created += res.created;
	r->updated += res.updated;
	r->unchanged += res.unchanged;
	if (res.rejected) {
		r->rejected++;
		if (res.fatal)
			ingest_say(r, "rejected %s: %s\n", f->path, res.reason);
		else
			ingest_say(r, "rejected part of %s (%d created, %d updated, %d unchanged, "
				   "%d rejected): %s\n", f->path, res.created, res.updated,
				   res.unchanged, res.records_rejected, res.reason);
		return;
	}
	r->ingested++;
	if (r->ok_lines) {
		if (res.deleted)
			ingest_say(r, "ingested %s: %d created, %d updated, %d unchanged, %d "
				   "deleted\n", f->path, res.created, res.updated, res.unchanged,
				   res.deleted);
		else
			ingest_say(r, "ingested %s: %d created, %d updated, %d unchanged\n", f->path,
				   res.created, res.updated, res.unchanged);
	}
}

/* The tenant, created as mkdir in the mount would if missing. */
static int ingest_tenant(struct ingest_run *r, const char *name)
{
	int rc = store_tenant_find(r->core->store, name, &r->tenant);

	if (rc != -ENOENT)
		return rc;
	rc = store_tenant_create(r->core->store, name, r->mode & 0777, (uint32_t)getuid(),
				 (uint32_t)getgid(), &r->tenant);
	if (rc == -EEXIST) /* made meanwhile, by a mount or another ingest */
		return store_tenant_find(r->core->store, name, &r->tenant);
	if (!rc && !r->quiet)
		ingest_say(r, "created tenant '%s'\n", name);
	return rc;
}

static int cmd_ingest(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'b' },
		{ "max-file-size", required_argument, NULL, 'm' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ingest_run r = { .mode = 0777 };
	char *db = NULL, err[512], took[32];
	const char *tenant;
	int64_t max_size = DEFAULT_MAX_FILE_SIZE;
	mode_t mask;
	int c, e, rc = 1;

	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': free(db); db = strdup(optarg); break;
		case 'm':
			if ((max_size = parse_size(optarg)) < 0) {
				fprintf(stderr, "deskfs: bad --max-file-size '%s'\n", optarg);
				rc = 2;
				goto out;
			}
			break;
		case 'q': r.quiet = true; break;
		case 'h': usage(stdout); rc = 0; goto out;
		default: usage(stderr); rc = 2; goto out;
		}
	}
	if (argc - optind < 2) {
		fprintf(stderr, "usage: deskfs ingest [--db FILE] [--max-file-size BYTES] [-q] "
			"TENANT PATH...\n");
		rc = 2;
		goto out;
	}
	tenant = argv[optind++];
	if (!core_tenant_name_ok(tenant)) {
		fprintf(stderr, "deskfs: bad tenant name '%s' (names: [a-z0-9][a-z0-9._-]{0,63})\n",
			tenant);
		rc = 2;
		goto out;
	}
	mask = umask(0);
	umask(mask);
	r.mode &= ~(uint32_t)mask;
	r.pl.on = !r.quiet && isatty(STDERR_FILENO);
	r.ok_lines = !r.quiet && !isatty(STDOUT_FILENO);
	if (!db && !(db = default_db()))
		goto out;
	if (core_open_client(db, max_size, &r.core, err, sizeof(err))) {
		fprintf(stderr, "deskfs: %s\n", err);
		goto out;
	}
	if ((e = ingest_tenant(&r, tenant))) {
		fprintf(stderr, "deskfs: cannot create tenant '%s' in '%s': %s\n", tenant, db,
			strerror(-e));
		goto out;
	}
	for (int i = optind; i < argc; i++)
		if (ingest_walk(&r, argv[i], true)) {
			fprintf(stderr, "deskfs: out of memory\n");
			goto out;
		}
	stop_signals_catch();
	clock_gettime(CLOCK_MONOTONIC, &r.t0);
	for (size_t i = 0; i < r.n_files && !stop_requested; i++) {
		ingest_progress(&r, i == 0);
		ingest_one(&r, &r.files[i]);
		ingest_progress(&r, false);
	}
	progress_clear(&r.pl);
	fmt_duration(util_ms_since(&r.t0) / 1e3, took);
	if (stop_requested)
		ingest_say(&r, "interrupted after %zu of %zu files ", r.done + r.walk_failed,
			   r.n_files + r.walk_failed);
	else if (!r.quiet)
		ingest_say(&r, "total: %zu files ", r.n_files + r.walk_failed);
	if (!r.quiet || stop_requested)
		ingest_say(&r, "into '%s': %zu ingested, %zu rejected, %zu failed; records: %lld "
			   "created, %lld updated, %lld unchanged; %s\n", tenant, r.ingested,
			   r.rejected, r.failed, r.created, r.updated, r.unchanged, took);
	rc = stop_requested ? 130 : r.rejected || r.failed ? 1 : 0;
out:
	for (size_t i = 0; i < r.n_files; i++)
		free(r.files[i].path);
	free(r.files);
	core_close(r.core);
	free(db);
	return rc;
}

/* ---- deskfs status ------------------------------------------------------- */

struct tenant_names {
	struct tenant_row *rows;
	size_t n, cap;
};

static int tenant_collect(void *ctx, const struct tenant_row *row)
{
	struct tenant_names *l = ctx;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct tenant_row *rows = realloc(l->rows, cap * sizeof(*rows));
		if (!rows)
			return -ENOMEM;
		l->rows = rows;
		l->cap = cap;
	}
	l->rows[l->n++] = *row;
	return 0;
}

/* Prints the status text of one tenant (status.h); 0 or 1 (exit status). */
static int status_print(struct core *core, const struct tenant_row *t)
{
	struct strbuf sb = STRBUF_INIT;
	int rc = status_render(core, t->id, &sb);

	if (rc)
		fprintf(stderr, "deskfs: cannot read the status of '%s': %s\n", t->name,
			strerror(-rc));
	else
		fwrite(sb.buf, 1, sb.len, stdout);
	strbuf_release(&sb);
	return rc ? 1 : 0;
}

static int cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tenant_names l = { NULL, 0, 0 };
	struct core *core = NULL;
	struct tenant_row t;
	char *db = NULL, err[512];
	const char *tenant = NULL;
	int c, e, rc = 1;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': free(db); db = strdup(optarg); break;
		case 'h': usage(stdout); rc = 0; goto out;
		default: usage(stderr); rc = 2; goto out;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, "usage: deskfs status [--db FILE] [TENANT]\n");
		rc = 2;
		goto out;
	}
	if (optind < argc && !core_tenant_name_ok(tenant = argv[optind])) {
		fprintf(stderr, "deskfs: bad tenant name '%s' (names: [a-z0-9][a-z0-9._-]{0,63})\n",
			tenant);
		rc = 2;
		goto out;
	}
	if (!db && !(db = default_db()))
		goto out;
	/* opening would create it */
	if (access(db, F_OK)) {
		fprintf(stderr, "deskfs: no database '%s': %s\n", db, strerror(errno));
		goto out;
	}
	if (core_open_client(db, DEFAULT_MAX_FILE_SIZE, &core, err, sizeof(err))) {
		fprintf(stderr, "deskfs: %s\n", err);
		goto out;
	}
	if (tenant) {
		if ((e = store_tenant_find(core->store, tenant, &t)) == -ENOENT) {
			fprintf(stderr, "deskfs: no tenant '%s' in '%s'\n", tenant, db);
			goto out;
		}
		if (e) {
			fprintf(stderr, "deskfs: cannot read tenant '%s' in '%s': %s\n", tenant, db,
				strerror(-e));
			goto out;
		}
		rc = status_print(core, &t);
		goto out;
	}
	if ((e = store_tenant_list(core->store, 0, tenant_collect, &l))) {
		fprintf(stderr, "deskfs: cannot list the tenants of '%s': %s\n", db, strerror(-e));
		goto out;
	}
	if (!l.n)
		fprintf(stderr, "deskfs: no tenants in '%s'\n", db);
	rc = 0;
	for (size_t i = 0; i < l.n; i++) {
		printf("%s==> %s <==\n", i ? "\n" : "", l.rows[i].name);
		rc |= status_print(core, &l.rows[i]);
	}
out:
	free(l.rows);
	core_close(core);
	free(db);
	return rc;
}

/* ---- deskfs backup -------------------------------------------------------
 *
 * A consistent copy of the store, mounted or not (backup.h). Output: a
 * progress line on standard error when it is a terminal, else a plain
 * "copied N/M pages" line on standard output at most every
 * BACKUP_LINE_MS; then one summary line. --quiet: only errors.
 * SIGINT/SIGTERM stop between two steps (the temporary file is removed). */

#define BACKUP_LINE_MS 1000

static const char *plural(int64_t n)
{
	return n == 1 ? "" : "s";
}

struct backup_cli {
	struct progress pl;
	bool lines; /* plain progress lines */
	struct timespec t0, said_at;
};

static void backup_progress(void *ctx, int64_t done, int64_t total)
{
	struct backup_cli *b = ctx;
	struct strbuf line = STRBUF_INIT;
	double ms = util_ms_since(&b->t0);
	char eta[32] = "--";

	if (b->lines && done < total && util_ms_since(&b->said_at) >= BACKUP_LINE_MS) {
		clock_gettime(CLOCK_MONOTONIC, &b->said_at);
		printf("copied %lld/%lld pages\n", (long long)done, (long long)total);
		fflush(stdout);
	}
	if (!progress_due(&b->pl, done == total))
		return;
	if (done > 0)
		fmt_duration((double)(total - done) * ms / (double)done / 1e3, eta);
	strbuf_addf(&line, "%lld/%lld pages, ETA %s", (long long)done, (long long)total, eta);
	progress_show(&b->pl, (size_t)done, (size_t)total, &line);
	strbuf_release(&line);
}

static int cmd_backup(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'b' },
		{ "force", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct backup_cli cli = { 0 };
	struct backup_opts o = { .progress = backup_progress, .ctx = &cli, .stop = &stop_requested };
	struct backup_result res;
	char *db = NULL, err[PATH_MAX * 2 + 256], size[32], took[32];
	bool quiet = false;
	int c, e, rc = 1;

	while ((c = getopt_long(argc, argv, "fqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': free(db); db = strdup(optarg); break;
		case 'f': o.force = true; break;
		case 'q': quiet = true; break;
		case 'h': usage(stdout); rc = 0; goto out;
		default: usage(stderr); rc = 2; goto out;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "usage: deskfs backup [--db FILE] [--force] [-q] OUT\n");
		rc = 2;
		goto out;
	}
	if (!db && !(db = default_db()))
		goto out;
	cli.pl.on = !quiet && isatty(STDERR_FILENO);
	cli.lines = !quiet && !isatty(STDOUT_FILENO);
	clock_gettime(CLOCK_MONOTONIC, &cli.t0);
	cli.said_at = cli.t0;
	stop_signals_catch();
	e = backup_run(db, argv[optind], &o, &res, err, sizeof(err));
	progress_clear(&cli.pl);
	if (e == -EINTR) {
		fprintf(stderr, "deskfs: backup interrupted; '%s' not written\n", argv[optind]);
		rc = 130;
		goto out;
	}
	if (e) {
		fprintf(stderr, "deskfs: %s%s\n", err, e == -EEXIST ? " (--force replaces it)" : "");
		goto out;
	}
	rc = 0;
	if (quiet)
		goto out;
	fmt_bytes(res.bytes, size);
	fmt_duration(util_ms_since(&cli.t0) / 1e3, took);
	printf("backed up '%s' to '%s': %lld tenant%s, %lld ticket%s, %lld article%s, %lld inbox "
	       "file%s; %s (%lld bytes, %lld pages); quick_check ok", db, argv[optind],
	       (long long)res.tenants, plural(res.tenants), (long long)res.tickets,
	       plural(res.tickets), (long long)res.articles, plural(res.articles),
	       (long long)res.inbox_files, plural(res.inbox_files), size, (long long)res.bytes,
	       (long long)res.pages);
	if (res.restarts)
		printf("; started over %d times (written meanwhile)", res.restarts);
	printf("; %s\n", took);
out:
	free(db);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("deskfs %s (libfuse %s)\n", DESKFS_VERSION, fuse_pkgversion());
		return 0;
	}
	if (!strcmp(argv[1], "mount"))
		return cmd_mount(argc - 1, argv + 1);
	if (!strcmp(argv[1], "umount") || !strcmp(argv[1], "unmount"))
		return cmd_umount(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ingest"))
		return cmd_ingest(argc - 1, argv + 1);
	if (!strcmp(argv[1], "status"))
		return cmd_status(argc - 1, argv + 1);
	if (!strcmp(argv[1], "backup"))
		return cmd_backup(argc - 1, argv + 1);
	fprintf(stderr, "deskfs: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
