#!/usr/bin/env bash
# POSIX behaviour in the writable places (inbox/, kb/, queries/): create
# with O_EXCL, O_APPEND, truncate and ftruncate, fsync, utimensat, rename
# over an existing file, unlink of a file open for writing, and the
# operations refused with their errno (link, symlink, mknod, mkdir), as
# docs/filesystem.md's table gives them. Temporary names keep the files
# from being ingested, so their content can be checked.
. "$(dirname "$0")/lib.sh"
mount_fs
mkdir "$M/acme"
out=$(python3 - "$M" <<'PY'
import errno, os, sys
M = sys.argv[1]
def t(name, fn, want):
    try:
        got = fn()
        got = "ok" if got is None else got
    except OSError as e:
        got = errno.errorcode[e.errno]
    print(("ok  " if got == want else "BAD ") + f"{name}: got {got!r}, want {want!r}")
def wr(p, data, flags=os.O_WRONLY | os.O_CREAT | os.O_TRUNC):
    fd = os.open(p, flags, 0o644)
    os.write(fd, data)
    os.close(fd)
def rd(p):
    with open(p, "rb") as f:
        return f.read()
for area, name in (("inbox", "a.tmp"), ("kb", "a.tmp"), ("queries", "q")):
    d = f"{M}/acme/{area}"
    p = f"{d}/{name}"
    query = area == "queries"  # a query file reads back as its answer
    t(f"{area}: create with O_EXCL", lambda: wr(p, b"one\n", os.O_WRONLY | os.O_CREAT | os.O_EXCL), "ok")
    t(f"{area}: O_EXCL on an existing name", lambda: wr(p, b"x", os.O_WRONLY | os.O_CREAT | os.O_EXCL), "EEXIST")
    t(f"{area}: O_APPEND", lambda: (wr(p, b"two\n", os.O_WRONLY | os.O_APPEND), rd(p)[:8])[1], b"one\ntwo\n")
    if not query:
        t(f"{area}: truncate", lambda: (os.truncate(p, 4), os.stat(p).st_size)[1], 4)
        t(f"{area}: ftruncate", lambda: (lambda fd: (os.ftruncate(fd, 2), os.close(fd), os.stat(p).st_size)[2])(os.open(p, os.O_RDWR)), 2)
        t(f"{area}: utimensat", lambda: (os.utime(p, (1700000000, 1700000000)), os.stat(p).st_mtime)[1], 1700000000)
        t(f"{area}: chmod", lambda: (os.chmod(p, 0o600), oct(os.stat(p).st_mode & 0o777))[1], "0o600")
    t(f"{area}: write, fsync, write, close", lambda: (lambda fd: (os.write(fd, b"A"), os.fsync(fd), os.write(fd, b"B"), os.close(fd)))(os.open(p, os.O_WRONLY | os.O_TRUNC)) and None, "ok")
    if not query:
        t(f"{area}: both writes kept", lambda: rd(p), b"AB")
    other = f"{d}/b.tmp" if not query else f"{d}/r"
    wr(other, b"other\n")
    t(f"{area}: rename over an existing file", lambda: (os.rename(other, p), os.path.exists(other), rd(p)[:6])[1:], (False, b"other\n"))
    t(f"{area}: link", lambda: os.link(p, f"{d}/c.tmp"), "EPERM")
    t(f"{area}: symlink", lambda: os.symlink("x", f"{d}/s.tmp"), "EPERM")
    t(f"{area}: mkfifo", lambda: os.mkfifo(f"{d}/f.tmp"), "EPERM")
    t(f"{area}: mkdir", lambda: os.mkdir(f"{d}/sub"), "EPERM")
    t(f"{area}: rename to another directory", lambda: os.rename(p, f"{M}/acme/{'kb' if area == 'inbox' else 'inbox'}/z.tmp"), "EXDEV")
# unlink of a file open for writing: the name goes at once; the writer's
# later writes and close succeed, and nothing is ingested
p = f"{M}/acme/inbox/x.json"
fd = os.open(p, os.O_WRONLY | os.O_CREAT)
os.write(fd, b'{"ticket": {"id": 1')
os.unlink(p)
t("inbox: name gone after unlink", lambda: os.path.exists(p), False)
t("inbox: write after unlink", lambda: os.write(fd, b', "subject": "s"}}'), 18)
t("inbox: close after unlink", lambda: os.close(fd), "ok")
t("inbox: nothing ingested", lambda: ("x.json" in os.listdir(f"{M}/acme/inbox"), os.listdir(f"{M}/acme/tickets")), (False, []))
# an unlinked file stays for the descriptors open on it: reads go on with
# the content it had, fstat says nlink 0, and a writer's writes, ftruncate,
# fchmod and futimens apply to the unlinked file only
def fd_stat(fd):
    st = os.fstat(fd)
    return (st.st_nlink, st.st_size)
p = f"{M}/acme/inbox/k.tmp"
wr(p, b"keep me\n")
fd = os.open(p, os.O_RDWR)
os.unlink(p)
t("inbox: unlinked, read", lambda: os.read(fd, 100), b"keep me\n")
t("inbox: unlinked, fstat", lambda: fd_stat(fd), (0, 8))
t("inbox: unlinked, write", lambda: os.write(fd, b"more\n"), 5)
t("inbox: unlinked, pread", lambda: os.pread(fd, 100, 0), b"keep me\nmore\n")
t("inbox: unlinked, ftruncate", lambda: (os.ftruncate(fd, 4), fd_stat(fd))[1], (0, 4))
t("inbox: unlinked, fchmod", lambda: (os.fchmod(fd, 0o600), oct(os.fstat(fd).st_mode & 0o777))[1], "0o600")
t("inbox: unlinked, futimens", lambda: (os.utime(fd, (1600000000, 1600000000)), os.fstat(fd).st_mtime)[1], 1600000000)
t("inbox: unlinked, close", lambda: os.close(fd), "ok")
t("inbox: unlinked, gone", lambda: "k.tmp" in os.listdir(f"{M}/acme/inbox"), False)
# replaced by a rename: the reader keeps the old content, a new open gets the new
p = f"{M}/acme/inbox/r.tmp"
wr(p, b"old\n")
fd = os.open(p, os.O_RDONLY)
wr(f"{M}/acme/inbox/s.tmp", b"new text\n")
os.rename(f"{M}/acme/inbox/s.tmp", p)
t("inbox: replaced, old reader", lambda: (os.pread(fd, 100, 0), fd_stat(fd)), (b"old\n", (0, 4)))
t("inbox: replaced, new reader", lambda: rd(p), b"new text\n")
os.close(fd)
os.unlink(p)
# ingested at the close of a duplicate while still open: fstat goes on working
p = f"{M}/acme/inbox/open.json"
fd = os.open(p, os.O_WRONLY | os.O_CREAT, 0o644)
body = b'{"ticket": {"id": 77, "subject": "ingested while open", "description": "d"}}'
os.write(fd, body)
os.close(os.dup(fd))
t("inbox: ingested while open", lambda: (os.path.exists(p), os.path.isdir(f"{M}/acme/tickets/77")), (False, True))
t("inbox: ingested while open, fstat", lambda: fd_stat(fd), (0, len(body)))
os.close(fd)
# an article: its reader keeps its text
p = f"{M}/acme/kb/keep.md"
wr(p, b"# Keep\n\nThe article's text.\n")
text = rd(p)
fd = os.open(p, os.O_RDONLY)
os.unlink(p)
t("kb: unlinked, gone", lambda: "keep.md" in os.listdir(f"{M}/acme/kb"), False)
t("kb: unlinked, read", lambda: os.read(fd, 1000), text)
t("kb: unlinked, fstat", lambda: fd_stat(fd), (0, len(text)))
os.close(fd)
# a query: its answer and NAME.json stay readable for open readers
p = f"{M}/acme/queries/q2"
wr(p, b"mode: search\nprinter jam\n")
answer, result = rd(p), rd(p + ".json")
fd, fj = os.open(p, os.O_RDONLY), os.open(p + ".json", os.O_RDONLY)
os.unlink(p)
t("queries: unlinked, names gone", lambda: [n for n in os.listdir(f"{M}/acme/queries") if n.startswith("q2")], [])
t("queries: unlinked, answer", lambda: (os.read(fd, 100000), fd_stat(fd)), (answer, (0, len(answer))))
t("queries: unlinked, NAME.json", lambda: os.read(fj, 100000), result)
os.close(fd)
os.close(fj)
# a rename that fails keeps nothing: the reader of the file it would have
# replaced reads the live file on
p = f"{M}/acme/queries/q3"
wr(p, b"mode: search\nfirst question\n")
fd = os.open(p, os.O_RDONLY)
wr(f"{M}/acme/kb/zz.tmp", b"x\n")
t("queries: rename from kb/ onto it", lambda: os.rename(f"{M}/acme/kb/zz.tmp", p), "EXDEV")
wr(p, b"mode: search\nsecond question\n")
t("queries: failed rename, reader reads live", lambda: b"second question" in os.pread(fd, 100000, 0), True)
t("queries: failed rename, fstat", lambda: os.fstat(fd).st_nlink, 1)
os.close(fd)
# a renamed article (an editor's backup) leaves with its text: its reader keeps it
p = f"{M}/acme/kb/mv.md"
wr(p, b"# Moved\n\nThe text before the move.\n")
text = rd(p)
fd = os.open(p, os.O_RDONLY)
os.rename(p, p + "~")
t("kb: renamed, read", lambda: (os.pread(fd, 1000, 0), fd_stat(fd)), (text, (0, len(text))))
t("kb: renamed, fchown refused", lambda: os.fchown(fd, 12345, -1), "EPERM")
t("kb: renamed, fchmod", lambda: (os.fchmod(fd, 0o644), fd_stat(fd))[1], (0, len(text)))
os.close(fd)
# read-only places
t("tickets/: create", lambda: wr(f"{M}/acme/tickets/x", b"x"), "EACCES")
t("root: create", lambda: wr(f"{M}/x", b"x"), "EACCES")
t("status: open for writing", lambda: wr(f"{M}/acme/status", b"x"), "EACCES")
t("status: truncate", lambda: os.truncate(f"{M}/acme/status", 0), "EACCES")
t("README: unlink", lambda: os.unlink(f"{M}/README"), "EPERM")
t("tenant: mkdir inside", lambda: os.mkdir(f"{M}/acme/sub"), "EPERM")
t("root: mkdir bad name", lambda: os.mkdir(f"{M}/Bad Name"), "EINVAL")
t("root: name too long", lambda: os.mkdir(f"{M}/" + "a" * 300), "ENAMETOOLONG")
PY
)
while IFS= read -r line; do
	case "$line" in "ok  "*) ok ;; *) fail "$line" ;; esac
done <<<"$out"
[ "$(grep -c . <<<"$out")" -ge 50 ] && ok || fail "too few checks ran: $out"
finish
