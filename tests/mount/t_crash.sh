#!/usr/bin/env bash
# kill -9 in the middle of a bulk copy: after a remount the store passes
# SQLite's integrity check and every file whose close() returned 0 is
# exactly one ticket; the file in flight is either a ticket or kept in the
# inbox with a reason.
. "$(dirname "$0")/lib.sh"
GEN=${DESKFS_GEN:?DESKFS_GEN must point at gen_freshdesk}
command -v sqlite3 >/dev/null || { fail "sqlite3 missing"; finish; exit 1; }
"$GEN" 3000 "$T/src" 1 7 || { fail "generator"; finish; exit 1; }
mount_fs
mkdir "$M/acme"
pid=$(head -1 "$DB.lock")
[ -n "$pid" ] && kill -0 "$pid" && ok || fail "daemon pid from lock file: [$pid]"

(
	for f in "$T"/src/ticket-*.json; do
		cp "$f" "$M/acme/inbox/" 2>/dev/null || exit 0
		basename "$f" >> "$T/done.log"
	done
) &
copier=$!
# Kill once a good part of the copy has happened (polling, no fixed sleep).
touch "$T/done.log"
while [ "$(wc -l < "$T/done.log")" -lt 500 ]; do
	kill -0 $copier 2>/dev/null || break
	sleep 0.05
done
kill -9 "$pid"
wait $copier
done_n=$(wc -l < "$T/done.log")
[ "$done_n" -ge 500 ] && [ "$done_n" -lt 3000 ] && ok || fail "copied before kill: $done_n"
while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
assert_fails_with "mount over a stale mount" "is a stale mount" "$BIN" mount --db "$T/other.db" "$M"
fusermount3 -u -z "$M" 2>/dev/null

assert_eq "integrity after kill" "$(sqlite3 "$DB" 'PRAGMA integrity_check')" "ok"
mount_fs
ls "$M/acme/tickets" | sort > "$T/tickets.txt"
sed -e 's/^ticket-//' -e 's/\.json$//' "$T/done.log" | sort > "$T/want.txt"
missing=$(comm -23 "$T/want.txt" "$T/tickets.txt" | wc -l)
assert_eq "every closed file is a ticket" "$missing" "0"
extra=$(comm -13 "$T/want.txt" "$T/tickets.txt")
n_extra=$(printf '%s' "$extra" | grep -c . || true)
[ "$n_extra" -le 1 ] && ok || fail "tickets without a finished cp: $extra"
# one ticket per file: no duplicate directories such as freshdesk-12
assert_eq "no duplicate tickets" "$(grep -c -- '-' "$T/tickets.txt" || true)" "0"
inbox=$(ls -A "$M/acme/inbox")
case "$inbox" in
	"") ok ;;
	*.json*) [ "$(ls "$M/acme/inbox" | grep -vc '\.error$')" -le 1 ] && ok ||
		fail "inbox after crash: $inbox" ;;
esac
for e in "$M"/acme/inbox/*.error; do
	[ -e "$e" ] || continue
	assert_contains "crash reason" "$(cat "$e")" "deskfs stopped while this file was being written"
done
umount_fs
assert_eq "integrity after remount" "$(sqlite3 "$DB" 'PRAGMA integrity_check')" "ok"
finish
