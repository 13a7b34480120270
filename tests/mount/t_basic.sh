#!/usr/bin/env bash
# Tenants, ingestion by cp/rsync, browsing with coreutils, errors, remount.
. "$(dirname "$0")/lib.sh"
mount_fs

# --- the root
assert_eq "root listing" "$(ls "$M")" "README"
assert_contains "README" "$(cat "$M/README")" "deskfs - a help-desk knowledge base"
assert_eq "README size" "$(stat -c %s "$M/README")" "$(cat "$M/README" | wc -c)"
assert_eq "README mtime is the binary's" "$(stat -c %Y "$M/README")" "$(stat -L -c %Y "$BIN")"
now=$(date +%s)
for f in .deskfs .deskfs/metrics; do # the mount's time: within the last minute
	t=$(stat -c %Y "$M/$f")
	[ "$t" -le "$now" ] && [ "$t" -gt $((now - 60)) ] && ok || fail "$f mtime $t, now $now"
done
assert_fails_with "write README" "Permission denied" sh -c "echo x > '$M/README'"
assert_fails_with "rm README" "Operation not permitted" rm -f "$M/README"

# --- tenants
mkdir "$M/acme" && ok || fail "mkdir acme"
mkdir "$M/globex" && ok || fail "mkdir globex"
assert_fails_with "bad tenant name" "Invalid argument" mkdir "$M/Acme"
assert_fails_with "bad tenant name 2" "Invalid argument" mkdir "$M/-x"
assert_fails_with "tenant name too long" "Invalid argument" mkdir "$M/$(printf 'a%.0s' $(seq 65))"
assert_fails_with "existing tenant" "File exists" mkdir "$M/acme"
assert_eq "tenant listing" "$(ls "$M/acme" | tr '\n' ' ')" "config feedback inbox kb queries status summaries tickets "
assert_eq "tenant nlink" "$(stat -c %h "$M/acme")" "7"
assert_fails_with "mkdir in tenant" "Operation not permitted" mkdir "$M/acme/other"
assert_fails_with "file in tickets" "Permission denied" sh -c "echo x > '$M/acme/tickets/x'"
assert_fails_with "file in tenant" "Permission denied" sh -c "echo x > '$M/acme/x'"

# --- Freshdesk ticket with conversations
cp "$FIX/freshdesk/ticket_with_conversations.json" "$M/acme/inbox/" && ok || fail "cp freshdesk"
assert_eq "inbox empty after ingest" "$(ls -A "$M/acme/inbox")" ""
assert_eq "ticket dir" "$(ls "$M/acme/tickets")" "20"
assert_eq "ticket files" "$(ls "$M/acme/tickets/20" | tr '\n' ' ')" "similar.json similar.md source.json summary.md ticket.json ticket.md "
md=$(cat "$M/acme/tickets/20/ticket.md")
assert_contains "ticket.md subject" "$md" "# Support needed.."
assert_contains "ticket.md status" "$md" "- status: solved"
assert_contains "ticket.md internal note" "$md" "agent (agent:42), internal note, 2015-08-20T09:15:02Z"
assert_eq "ticket.md size" "$(stat -c %s "$M/acme/tickets/20/ticket.md")" "$(printf '%s\n' "$md" | wc -c)"
for f in ticket.json source.json; do
	assert_eq "$f size" "$(stat -c %s "$M/acme/tickets/20/$f")" "$(cat "$M/acme/tickets/20/$f" | wc -c)"
done
assert_contains "ticket.json" "$(cat "$M/acme/tickets/20/ticket.json")" '"source_id": "20"'
ino1=$(stat -c %i "$M/acme/tickets/20/ticket.md")
mtime1=$(stat -c %Y "$M/acme/tickets/20/ticket.md")
assert_fails_with "write ticket.md" "Permission denied" sh -c "echo x >> '$M/acme/tickets/20/ticket.md'"
assert_fails_with "truncate ticket.md" "Permission denied" truncate -s 0 "$M/acme/tickets/20/ticket.md"

# --- unchanged re-copy counts as unchanged, changes nothing
cp "$FIX/freshdesk/ticket_with_conversations.json" "$M/acme/inbox/again.json"
st=$(cat "$M/acme/status")
assert_contains "status unchanged" "$st" "records unchanged (re-copied): 1"
assert_contains "status tickets" "$st" "tickets: 1"
assert_eq "mtime stable" "$(stat -c %Y "$M/acme/tickets/20/ticket.md")" "$mtime1"

# --- changed content updates the ticket
sed 's/Support needed\.\./Support needed urgently/' "$FIX/freshdesk/ticket_with_conversations.json" > "$T/changed.json"
cp "$T/changed.json" "$M/acme/inbox/"
assert_contains "updated subject" "$(head -1 "$M/acme/tickets/20/ticket.md")" "Support needed urgently"
assert_eq "inode stable" "$(stat -c %i "$M/acme/tickets/20/ticket.md")" "$ino1"

# --- tenants are separate
assert_eq "globex has no tickets" "$(ls "$M/globex/tickets")" ""

# --- rejected files stay with a reason
printf '{"id": 1, "subject": ' > "$T/broken.json"
cp "$T/broken.json" "$M/acme/inbox/" && ok || fail "cp of a broken file must succeed"
assert_eq "broken stays" "$(ls "$M/acme/inbox" | tr '\n' ' ')" "broken.json broken.json.error "
err=$(cat "$M/acme/inbox/broken.json.error")
assert_contains "error names file" "$err" "deskfs could not ingest 'broken.json'"
assert_contains "error says why" "$err" "malformed JSON at line 1"
assert_eq "broken content kept" "$(cat "$M/acme/inbox/broken.json")" "$(cat "$T/broken.json")"
assert_eq "error size" "$(stat -c %s "$M/acme/inbox/broken.json.error")" "$(wc -c < "$M/acme/inbox/broken.json.error")"
assert_fails_with "error file read-only" "Permission denied" sh -c "echo x > '$M/acme/inbox/broken.json.error'"
# replacing the file clears the error
cp "$FIX/freshdesk/ticket_with_conversations.json" "$M/acme/inbox/broken.json"
assert_eq "replaced file ingested" "$(ls -A "$M/acme/inbox")" ""

head -c 4096 /dev/urandom > "$T/junk.bin"
printf '\0' >> "$T/junk.bin"
cp "$T/junk.bin" "$M/acme/inbox/"
assert_contains "binary rejected" "$(cat "$M/acme/inbox/junk.bin.error")" "binary content"
rm "$M/acme/inbox/junk.bin" && ok || fail "rm rejected file"
assert_eq "rm clears error" "$(ls -A "$M/acme/inbox")" ""
: > "$T/empty.json"
cp "$T/empty.json" "$M/acme/inbox/"
assert_contains "empty rejected" "$(cat "$M/acme/inbox/empty.json.error")" "empty file"
rm "$M/acme/inbox/empty.json"

# --- hostile names
assert_fails_with "dotdot name" "" sh -c "echo x > '$M/acme/inbox/..'"
assert_fails_with "long name" "File name too long" sh -c "echo x > '$M/acme/inbox/$(printf 'n%.0s' $(seq 300))'"
assert_fails_with "error-suffixed name" "Operation not permitted" sh -c "echo x > '$M/acme/inbox/x.error'"

# --- temporary names wait until renamed
printf 'Printer on floor 3 is jammed\nIt shows error 42.\n' > "$M/acme/inbox/.note.txt.XyZ123"
assert_eq "temp waits" "$(ls -A "$M/acme/inbox")" ".note.txt.XyZ123"
mv "$M/acme/inbox/.note.txt.XyZ123" "$M/acme/inbox/note.txt"
assert_eq "renamed ingested" "$(ls -A "$M/acme/inbox")" ""
assert_contains "text ticket" "$(cat "$M/acme/tickets/note/ticket.md")" "# Printer on floor 3 is jammed"

# --- rsync into the inbox (temporary names, then rename)
mkdir -p "$T/export"
sed 's/"id": 20,/"id": 31,/' "$FIX/freshdesk/ticket_with_conversations.json" > "$T/export/t31.json"
sed 's/"id": 20,/"id": 32,/' "$FIX/freshdesk/ticket_with_conversations.json" > "$T/export/t32.json"
printf 'VPN drops every hour\n\nSince Monday the VPN disconnects.\n' > "$T/export/vpn.md"
rsync -a "$T/export/" "$M/acme/inbox/" && ok || fail "rsync into inbox"
assert_eq "rsync inbox empty" "$(ls -A "$M/acme/inbox")" ""
n=$(ls "$M/acme/tickets" | wc -l)
[ "$n" -ge 3 ] && ok || fail "rsync tickets: $n"

# --- find, grep, tar
assert_eq "find ticket.md" "$(find "$M/acme/tickets" -name ticket.md | wc -l)" "$n"
grep -rq "screenshot" "$M/acme/tickets" && ok || fail "grep -r"
tar -C "$M" -cf "$T/acme.tar" acme 2>"$T/tar.err" && ok || fail "tar: $(cat "$T/tar.err")"
assert_eq "tar quiet" "$(cat "$T/tar.err")" ""
assert_eq "tar members" "$(tar -tf "$T/acme.tar" | grep -c 'ticket.md$')" "$n"

# --- rm -r of a ticket
assert_fails_with "rmdir full ticket" "Directory not empty" rmdir "$M/acme/tickets/note"
rm -r "$M/acme/tickets/note" && ok || fail "rm -r ticket"
[ ! -e "$M/acme/tickets/note" ] && ok || fail "ticket still there"

# --- tenant removal
assert_fails_with "rmdir non-empty tenant" "Directory not empty" rmdir "$M/acme"
rmdir "$M/globex" && ok || fail "rmdir empty tenant"

# --- remount keeps everything, same inodes and mtimes (once the background
# jobs are done: they change summary.md and similar.md); .deskfs/ carries
# the mount's time (metrics counts from it), so it is compared apart
wait_jobs acme
walk() { (cd "$M" && find . -path ./.deskfs -prune -o -printf '%p %i %s %T@\n' | sort); }
before=$(walk)
d0=$(stat -c %Y "$M/.deskfs")
sleep 1.1
umount_fs
mount_fs
after=$(walk)
assert_eq "remount identical" "$after" "$before"
[ "$(stat -c %Y "$M/.deskfs")" -gt "$d0" ] && ok || fail ".deskfs mtime is not the new mount's"
mkdir "$T/mnt2"
assert_fails_with "second mount of same db" "is locked" "$BIN" mount --db "$DB" "$T/mnt2"
assert_fails_with "non-empty mount point" "is not empty" "$BIN" mount --db "$T/other.db" "$T"
assert_fails_with "missing mount point" "does not exist" "$BIN" mount --db "$T/other.db" "$T/nope"
printf 'this is not an SQLite database, only text long enough for a header\n%.0s' 1 2 3 > "$T/corrupt.db"
out=$("$BIN" mount --db "$T/corrupt.db" "$T/mnt2" 2>&1); rc=$?
[ $rc -ne 0 ] && ok || fail "mount of a corrupt db succeeded"
assert_contains "corrupt db message" "$out" "cannot open database '$T/corrupt.db'"
assert_eq "corrupt db one line" "$(printf '%s\n' "$out" | wc -l)" "1"
assert_contains "--help" "$("$BIN" --help)" "usage: deskfs mount [--db FILE]"
assert_contains "--version" "$("$BIN" --version)" "deskfs 0.1.0"
assert_fails_with "unknown command" "unknown command 'frobnicate'" "$BIN" frobnicate

# a relative --db names a file in the caller's directory, not the daemon's
(cd "$T" && "$BIN" mount --db rel.db mnt2) && ok || fail "mount with a relative --db"
mkdir "$T/mnt2/rel" && echo "relative store" > "$T/mnt2/rel/inbox/r.txt" && ok || fail "use relative store"
assert_eq "relative store listing" "$(ls "$T/mnt2/rel/tickets" | wc -l)" "1"
"$BIN" umount "$T/mnt2" && [ -s "$T/rel.db" ] && ok || fail "relative store file"

rm -r "$M/acme" && ok || fail "rm -r tenant"
assert_eq "all gone" "$(ls "$M")" "README"
finish
