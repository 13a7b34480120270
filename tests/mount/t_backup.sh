#!/usr/bin/env bash
# Backups and restores. rsync -a and tar of a live mount: exit 0, nothing on
# standard error, a second rsync transfers nothing, sizes, mtimes and inode
# numbers stable, the copies equal the mount, and no provider call. A
# restore by cp of the copied source.json and kb files into a fresh store
# gives the same ticket names and bytes. deskfs backup of a mounted store
# while a cp into it runs and a file is being written: the copy mounts as a
# store of its own with the exact tickets of the snapshot; the command's
# errors (OUT exists, a mounted OUT, the store itself, no store, usage).
. "$(dirname "$0")/lib.sh"
GEN=${DESKFS_GEN:?DESKFS_GEN must point at gen_freshdesk}
fake_provider_start
mount_fs
mkdir "$M/acme"
A=$M/acme

nreq() { fake GET /_requests | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
# run CMD...: sets out (stdout and stderr) and rc
run() { out=$("$@" 2>&1); rc=$?; }
# walk DIR: every entry with its type, size, mtime (ns), inode, mode and links
walk() { (cd "$1" && find . -printf '%p %y %s %T@ %i %m %n\n' | sort); }
# hashes MOUNT tickets|kb: "PATH HASH" of acme's tickets or articles, the
# content hash the mount shows as user.deskfs.hash (XXH3-128 of ticket.json)
hashes() {
	local d
	for d in "$1/acme/$2"/*; do
		echo "${d#"$1"/} $(getfattr --only-values --absolute-names -n user.deskfs.hash "$d" 2>&1)"
	done
}
has_hashes() { command -v getfattr >/dev/null && getfattr -n user.deskfs.hash "$A/tickets/20" >/dev/null 2>&1; }
# same DIR1 DIR2 NAMES...: files under both trees that differ, or are missing
same_files() {
	local a=$1 b=$2 f bad=
	shift 2
	for f in "$@"; do cmp -s "$a/$f" "$b/$f" || bad="$bad $f"; done
	echo "${bad:- none}"
}

# --- a tenant with a provider, tickets, articles, a query, jobs done
printf '{"providers":[{"name":"fake","api":"openai","endpoint":"%s/v1","model":"m1","retries":0,"timeout_s":5},{"name":"offline","api":"offline"}]}\n' "$FAKE" > "$T/cfg"
cp "$T/cfg" "$A/config" || fail "config"
"$GEN" 12 "$T/gen" 9001 11 >/dev/null
cp "$FIX/freshdesk/ticket_with_conversations.json" "$FIX/zendesk/ticket_with_comments.json" \
	"$FIX/email/plain.eml" "$FIX/text/Printer Jam.txt" "$T"/gen/* "$A/inbox/" || fail "cp tickets"
cp "$FIX/text/reset-password.md" "$FIX/text/Setup Guide.markdown" "$A/kb/" || fail "cp kb"
# a ticket merged from three files: the ticket, its conversations, then the
# ticket again, changed. source.json keeps every file's record, in order, so
# the restore below re-creates all five messages.
python3 - "$FIX/freshdesk" "$T" <<'EOF'
import json, sys
src, out = sys.argv[1], sys.argv[2]
t = json.load(open(src + "/ticket_with_conversations.json"))
del t["conversations"]
t["id"] = 21
json.dump(t, open(out + "/t21.json", "w"))
t["subject"] = "Support needed, changed"
json.dump(t, open(out + "/t21-changed.json", "w"))
c = json.load(open(src + "/conversations.json"))
for x in c:
    x["ticket_id"] = 21
json.dump(c, open(out + "/t21-conversations.json", "w"))
EOF
for f in t21 t21-conversations t21-changed; do cp "$T/$f.json" "$A/inbox/" || fail "cp $f"; done
assert_eq "merged ticket's messages" "$(grep -c '^## ' "$A/tickets/21/ticket.md")" 5
assert_eq "merged ticket's subject" "$(head -1 "$A/tickets/21/ticket.md")" "# Support needed, changed"
assert_eq "merged ticket's source records" \
	"$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$A/tickets/21/source.json")" 3
wait_jobs acme
assert_eq "inbox empty" "$(ls -A "$A/inbox")" ""
assert_eq "tickets" "$(ls "$A/tickets" | wc -l)" 17
assert_eq "articles" "$(ls "$A/kb" | tr '\n' ' ')" "reset-password.md setup-guide.md "
echo "customers cannot log in" > "$A/queries/login"
assert_contains "query answered by the fake provider" "$(cat "$A/queries/login")" "provider 'fake'"
wait_jobs acme
n0=$(nreq)
[ "$n0" -ge 1 ] && ok || fail "the query made no provider request"

# --- rsync -a of the whole mount. .deskfs/metrics is included: it changes
# only with provider requests, queries and ingestion, and none happen while
# the copies run (docs/filesystem.md: exclude /.deskfs when the mount is busy)
walk "$M" > "$T/walk1"
R=$T/rsync
rsync -a "$M/" "$R/" 2>"$T/rsync.err"
assert_eq "rsync exit" "$?" 0
assert_eq "rsync stderr" "$(cat "$T/rsync.err")" ""
run rsync -a -i "$M/" "$R/"
assert_eq "second rsync exit" "$rc" 0
assert_eq "second rsync itemizes nothing" "$out" ""
run rsync -a --stats "$M/" "$R/"
assert_contains "third rsync transfers nothing" "$out" "Number of regular files transferred: 0"
walk "$M" > "$T/walk2"
assert_eq "sizes, mtimes, inodes stable across rsync" "$(diff "$T/walk1" "$T/walk2")" ""
# the copy has what the mount has: every file's bytes, size, mtime and mode
diff -r "$M" "$R" >"$T/diff.out" 2>&1
assert_eq "rsync copy equals the mount" "$(cat "$T/diff.out")" ""
attrs() { (cd "$1" && find . -type f -printf '%p %s %T@ %m\n' | sort); }
assert_eq "rsync copy keeps sizes, mtimes, modes" "$(attrs "$R")" "$(attrs "$M")"
assert_eq "rsync copy has the tickets" "$(ls "$R/acme/tickets" | wc -l)" 17
[ -s "$R/.deskfs/metrics" ] && ok || fail "metrics not copied"

# --- tar of the whole mount
tar -cf "$T/mount.tar" -C "$M" . 2>"$T/tar.err"
assert_eq "tar exit" "$?" 0
assert_eq "tar stderr (no 'file changed as we read it')" "$(cat "$T/tar.err")" ""
assert_eq "tar members" "$(tar -tf "$T/mount.tar" | sed 's|/$||' | sort)" "$(cd "$M" && find . | sort)"
mkdir "$T/untar"
tar -xf "$T/mount.tar" -C "$T/untar" && ok || fail "untar"
diff -r "$R" "$T/untar" >"$T/diff.out" 2>&1
assert_eq "tar copy equals the rsync copy" "$(cat "$T/diff.out")" ""
walk "$M" > "$T/walk3"
assert_eq "sizes, mtimes, inodes stable across tar" "$(diff "$T/walk1" "$T/walk3")" ""
assert_eq "no provider call from rsync or tar" "$(nreq)" "$n0"

# --- restore into a fresh store by cp, from the rsync copy
M2=$T/mnt2
mount_more "$T/restore.db" "$M2"
mkdir "$M2/acme"
cp "$R/acme/config" "$M2/acme/config" || fail "restore config"
for d in "$R"/acme/tickets/*/; do
	id=$(basename "$d")
	cp "$d/source.json" "$M2/acme/inbox/$id.json" || fail "restore ticket $id"
done
cp "$R"/acme/kb/*.md "$M2/acme/kb/" || fail "restore kb"
assert_eq "restore inbox empty" "$(ls -A "$M2/acme/inbox")" ""
assert_eq "restored ticket names" "$(ls "$M2/acme/tickets")" "$(ls "$R/acme/tickets")"
assert_eq "restored kb names" "$(ls "$M2/acme/kb")" "$(ls "$R/acme/kb")"
files=()
wrapped=()
for d in "$R"/acme/tickets/*/; do
	id=$(basename "$d")
	files+=("tickets/$id/ticket.md" "tickets/$id/ticket.json")
	if grep -q '"deskfs_source"' "$d/source.json"; then
		wrapped+=("tickets/$id/source.json")
	else
		files+=("tickets/$id/source.json")
	fi
done
for f in "$R"/acme/kb/*.md; do files+=("kb/$(basename "$f")"); done
assert_eq "restored tickets and articles differ in" "$(same_files "$R/acme" "$M2/acme" "${files[@]}")" " none"
assert_eq "wrapped sources (e-mail, text)" "${#wrapped[@]}" 2
# e-mail and text tickets: source.json is a wrapper of the raw records
# under the original file's name; copied back it is the same wrapper
assert_eq "restored wrapped source.json differ in" "$(same_files "$R/acme" "$M2/acme" "${wrapped[@]}")" " none"
if has_hashes; then
	assert_eq "restored ticket hashes" "$(hashes "$M2" tickets)" "$(hashes "$M" tickets)"
	# an article's hash is of its kb/SLUG.md text: "Setup Guide.markdown"
	# restored from setup-guide.md is the same article
	assert_eq "restored article hashes" "$(hashes "$M2" kb)" "$(hashes "$M" kb)"
	# and the originals copied over the restore are unchanged, not updates
	cp "$FIX/text/reset-password.md" "$FIX/text/Setup Guide.markdown" "$M2/acme/kb/"
	assert_contains "originals over the restore: unchanged" "$(cat "$M2/acme/status")" \
		"records unchanged (re-copied): 2"
else
	echo "skip: no user.deskfs.hash (getfattr missing, or a deskfs without it): hashes not compared" >&2
fi
assert_eq "restored config" "$(cat "$M2/acme/config")" "$(cat "$R/acme/config")"
assert_contains "restored status" "$(cat "$M2/acme/status")" "tickets: 17"
M=$M2 wait_jobs acme # its summaries ask the fake provider too
umount_more "$M2"
n1=$(nreq)

# --- deskfs backup of the mounted store, while a cp into another tenant
# runs and a file is held open in acme/inbox/ (being written)
"$GEN" 3000 "$T/big" 100001 5 >/dev/null
mkdir "$M/busy"
cp "$T"/big/* "$M/busy/inbox/" &
cp_pid=$!
# The file is written by a process of its own: a descriptor the shell held
# would be closed, so flushed (and the file ingested), by every subshell
python3 - "$A/inbox/slow.json" "$T/slow.ready" "$T/slow.go" <<'EOF' &
import os, sys, time
f = open(sys.argv[1], "w")
f.write('{"id": 7777, ')
f.flush()
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.02)
f.write('"subject": "Slow", "description_text": "Written slowly.", "status": 2, "priority": 1, '
        '"created_at": "2024-06-01T10:00:00Z", "updated_at": "2024-06-01T10:00:00Z"}\n')
f.close()
EOF
slow_pid=$!
for _ in $(seq 200); do [ -e "$T/slow.ready" ] && [ -n "$(ls "$M/busy/tickets")" ] && break; sleep 0.05; done
run "$BIN" backup --db "$DB" "$T/copy.db"
kill -0 "$cp_pid" 2>/dev/null && ok || fail "the cp ended before the backup did: not a concurrent test"
assert_eq "backup exit" "$rc" 0
assert_contains "backup line" "$out" "backed up '$DB' to '$T/copy.db': 2 tenants, "
assert_contains "backup bytes" "$out" "($(stat -c %s "$T/copy.db") bytes, "
assert_contains "backup checked" "$out" "; quick_check ok; "
assert_eq "backup output is one line" "$(wc -l <<<"$out")" 1
counts=$(sed -n 's/^backed up [^:]*: \([^;]*\);.*/\1/p' <<<"$out")
assert_eq "copy is private" "$(stat -c %a "$T/copy.db")" 600
assert_eq "no temporary file left" "$(ls -A "$T" | grep -c '^\.copy\.db\.')" 0
touch "$T/slow.go"
wait "$slow_pid" && ok || fail "the slow writer"
wait "$cp_pid" && ok || fail "cp into busy/inbox"
assert_eq "all busy tickets in the mount" "$(ls "$M/busy/tickets" | wc -l)" 3000
assert_contains "the slow file was ingested" "$(ls "$A/tickets")" "7777"

# backing up the copy (journal_mode DELETE, no snapshot held): the same counts
run "$BIN" backup --db "$T/copy.db" -q "$T/copy2.db"
assert_eq "backup of the copy, quiet" "$rc/$out" "0/"
run "$BIN" backup --db "$T/copy2.db" "$T/copy3.db"
assert_contains "the copy of the copy" "$out" "backed up '$T/copy2.db' to '$T/copy3.db': $counts; "

# the copy is a store: mount it
M3=$T/mnt3
mount_more "$T/copy.db" "$M3"
C=$M3/acme
assert_eq "copy: acme tickets (before the slow file)" "$(ls "$C/tickets")" "$(ls "$A/tickets" | grep -vx 7777)"
assert_eq "copy: acme articles" "$(ls "$C/kb")" "$(ls "$A/kb")"
assert_eq "copy: ticket.md" "$(head -1 "$C/tickets/20/ticket.md")" "# Support needed.."
files=()
for d in "$C"/tickets/*/; do
	for f in ticket.md ticket.json source.json summary.md; do files+=("tickets/$(basename "$d")/$f"); done
done
assert_eq "copy: acme tickets differ in" "$(same_files "$A" "$C" "${files[@]}")" " none"
assert_eq "copy: the config" "$(cat "$C/config")" "$(cat "$A/config")"
if has_hashes; then
	assert_eq "copy: ticket hashes" "$(hashes "$M3" tickets)" "$(hashes "$M" tickets | grep -v '^acme/tickets/7777 ')"
	assert_eq "copy: article hashes" "$(hashes "$M3" kb)" "$(hashes "$M" kb)"
fi
assert_eq "copy: the query answer" "$(cat "$C/queries/login")" "$(cat "$A/queries/login")"
assert_eq "copy: the file being written is rejected" "$(ls "$C/inbox" | tr '\n' ' ')" "slow.json slow.json.error "
assert_contains "copy: why" "$(cat "$C/inbox/slow.json.error")" "deskfs stopped while this file was being written"
# busy: one snapshot, so its counters agree with its tickets
nb=$(ls "$M3/busy/tickets" | wc -l)
[ "$nb" -ge 1 ] && [ "$nb" -lt 3000 ] && ok || fail "copy: busy tickets $nb, want a part of 3000"
# inbox files: acme's slow.json and queries/login; busy's inbox held the file being ingested
# (open, so in the copy) or none
case "$counts" in
"2 tenants, $((17 + nb)) tickets, 2 articles, "[23]" inbox files") ok ;;
*) fail "copy: the backup line's counts [$counts], want $((17 + nb)) tickets" ;;
esac
st=$(cat "$M3/busy/status")
assert_contains "copy: busy status tickets" "$st" "tickets: $nb
"
assert_contains "copy: busy counter agrees" "$st" "files ingested: $nb
"
bad=
for d in $(ls "$M3/busy/tickets" | sed -n '1~37p'); do
	cmp -s "$M3/busy/tickets/$d/ticket.md" "$M/busy/tickets/$d/ticket.md" || bad="$bad $d"
done
assert_eq "copy: busy tickets differ" "${bad:- none}" " none"
assert_eq "mounting the copy runs no job again" "$(nreq)" "$n1"

# --- errors: one line, exit 1 (2: usage), nothing written
sum=$(md5sum < "$T/copy2.db")
run "$BIN" backup --db "$DB" "$T/copy2.db"
assert_eq "OUT exists: exit" "$rc" 1
assert_eq "OUT exists: message" "$out" "deskfs: '$T/copy2.db' exists (--force replaces it)"
assert_eq "OUT exists: untouched" "$(md5sum < "$T/copy2.db")" "$sum"
run "$BIN" backup --db "$DB" --force "$T/copy.db"
assert_eq "--force over a mounted copy: exit" "$rc" 1
assert_eq "--force over a mounted copy: message" "$out" \
	"deskfs: '$T/copy.db-wal' is beside '$T/copy.db' (it is mounted, or its daemon died): not replaced"
umount_more "$M3"
run "$BIN" backup --db "$DB" --force "$T/copy2.db"
assert_eq "--force exit" "$rc" 0
assert_contains "--force line" "$out" "backed up '$DB' to '$T/copy2.db': 2 tenants, 3018 tickets, 2 articles, 1 inbox file; "
run "$BIN" backup --db "$DB" "$DB"
assert_eq "the store itself: exit" "$rc" 1
assert_eq "the store itself: message" "$out" "deskfs: '$DB' is the store itself"
ln -s "$DB" "$T/link.db"
run "$BIN" backup --db "$DB" --force "$T/link.db"
assert_eq "a link to the store: message" "$out" "deskfs: '$T/link.db' is the store itself"
run "$BIN" backup --db "$DB" --force "$DB-wal"
assert_eq "the store's WAL: message" "$out" "deskfs: '$DB-wal' is a file of the store '$DB'"
run "$BIN" backup --db "$T/nope.db" "$T/x.db"
assert_eq "no store: exit" "$rc" 1
assert_eq "no store: message" "$out" "deskfs: no database '$T/nope.db': No such file or directory"
[ ! -e "$T/nope.db" ] && [ ! -e "$T/x.db" ] && ok || fail "no store: a file was created"
echo "not a store" > "$T/text.db"
run "$BIN" backup --db "$T/text.db" "$T/x.db"
assert_eq "not a database: message" "$out" "deskfs: cannot read database '$T/text.db': file is not a database"
run "$BIN" backup --db "$DB" "$T"
assert_eq "a directory: message" "$out" "deskfs: '$T' is a directory"
run "$BIN" backup --db "$DB" "$T/no/such/x.db"
assert_eq "no directory: message" "$out" "deskfs: cannot write '$T/no/such/x.db': No such file or directory"
run "$BIN" backup --db "$DB"
assert_eq "no OUT: exit" "$rc" 2
assert_eq "no OUT: message" "$out" "usage: deskfs backup [--db FILE] [--force] [-q] OUT"
run "$BIN" backup --db "$DB" --nope "$T/x.db"
assert_eq "unknown option: exit" "$rc" 2
[ ! -e "$T/x.db" ] && ok || fail "a failed backup left OUT"
assert_eq "no temporary files left" "$(ls -A "$T" | grep -c '^\.')" 0
assert_contains "--help names backup" "$("$BIN" --help)" "deskfs backup [--db FILE] [--force] [-q] OUT"

# --- a terminal gets the progress line
if command -v script >/dev/null; then
	out=$(script -qec "'$BIN' backup --db '$DB' '$T/tty.db'" /dev/null)
	assert_contains "progress line" "$out" $'\r'
	assert_contains "progress text" "$out" "pages, ETA "
	assert_contains "terminal summary" "$out" "backed up '$DB' to '$T/tty.db': "
else
	echo "skip: script(1) from util-linux is missing: the progress line is not checked" >&2
fi
finish
