/* main.c - the deskfs command line: mount, umount, --help, --version. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "fs.h"
#include "inbox.h"
#include "strbuf.h"

#define DEFAULT_MAX_FILE_SIZE (256LL << 20)

static void usage(FILE *out)
{
	fprintf(out,
		"usage: deskfs mount [--db FILE] [--max-file-size BYTES] MOUNTPOINT [-f] [-d] [-o OPTIONS]\n"
		"       deskfs umount MOUNTPOINT\n"
		"       deskfs --help | --version\n"
		"\n"
		"mount options:\n"
		"  --db FILE              the SQLite store (default $XDG_DATA_HOME/deskfs/deskfs.db,\n"
		"                         that is ~/.local/share/deskfs/deskfs.db)\n"
		"  --max-file-size BYTES  largest file accepted in inbox/ and kb/ (default 256 MiB;\n"
		"                         suffixes K, M, G); larger writes fail with EFBIG\n"
		"  -f                     stay in the foreground, log to standard error\n"
		"  -d                     FUSE debug output (implies -f)\n"
		"  -s                     single-threaded FUSE loop\n"
		"  -o OPTIONS             FUSE mount options, e.g. allow_other\n"
		"\n"
		"In the background the daemon logs to FILE.log beside the store.\n");
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fs_options opt = { 0 };
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
	rc = core_open(db, max_size, &core, err, sizeof(err));
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
	fprintf(stderr, "deskfs: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
