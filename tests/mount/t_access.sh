#!/usr/bin/env bash
# Access control with two Unix users on one mount (-o allow_other; the
# kernel enforces modes, default_permissions): each tenant's owner, group
# and mode are set with chown/chmod, kept across a remount, and inherited
# by everything under it (answers and summaries included); user B cannot
# list, read, write or query user A's tenant, and uses its own; .deskfs/
# stays the mount owner's. Needs root (useradd, runuser); skipped without.
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ] || ! command -v useradd >/dev/null || ! command -v runuser >/dev/null; then
	echo "SKIP: needs root, useradd and runuser" >&2
	exit 77
fi
for u in deskfs-a deskfs-b; do
	id "$u" >/dev/null 2>&1 || useradd --no-create-home --shell /bin/sh "$u" ||
		{ echo "FAIL: useradd $u" >&2; exit 1; }
done
chmod 755 "$T" # the users reach the mount point
as() { local u=$1; shift; runuser -u "$u" -- "$@"; }

mount_fs -o allow_other
mkdir "$M/alpha" "$M/beta"
chown deskfs-a:deskfs-a "$M/alpha" && chmod 0700 "$M/alpha" && ok || fail "chown/chmod alpha"
chown deskfs-b "$M/beta" && chmod 2750 "$M/beta" && ok || fail "chown/chmod beta"
assert_eq "alpha owner and mode" "$(stat -c '%U:%G %a' "$M/alpha")" "deskfs-a:deskfs-a 700"
assert_eq "beta owner and mode" "$(stat -c '%U %a' "$M/beta")" "deskfs-b 2750"

# --- A works in its tenant
printf 'Cannot log in\n\nI cannot log in since the 2.3 update.\n' > "$T/login.txt"
chmod 644 "$T/login.txt"
as deskfs-a cp "$T/login.txt" "$M/alpha/inbox/" && ok || fail "A copies into its inbox"
assert_eq "A lists its tickets" "$(as deskfs-a ls "$M/alpha/tickets")" "login"
as deskfs-a sh -c "echo 'why can I not log in' > '$M/alpha/queries/q'" && ok || fail "A asks"
assert_contains "A reads its answer" "$(as deskfs-a cat "$M/alpha/queries/q")" "tickets/login/ticket.md"
wait_jobs alpha
assert_contains "A reads its summary" "$(as deskfs-a cat "$M/alpha/summaries/login.md")" "state: done"
# inherited: owner A, the tenant's bits (0700: files 0600 writable, 0400 read-only)
assert_eq "answer inherits" "$(stat -c '%U %a' "$M/alpha/queries/q.json")" "deskfs-a 400"
assert_eq "summary inherits" "$(stat -c '%U %a' "$M/alpha/summaries/login.md")" "deskfs-a 400"
assert_eq "ticket dir inherits" "$(stat -c '%U %a' "$M/alpha/tickets/login")" "deskfs-a 700"
assert_eq "config inherits" "$(stat -c '%U %a' "$M/alpha/config")" "deskfs-a 600"
assert_eq "query file keeps its mode, masked" "$(stat -c '%U %a' "$M/alpha/queries/q")" "deskfs-a 600"

# --- B is kept out of alpha, and works in beta
assert_fails_with "B lists alpha" "Permission denied" as deskfs-b ls "$M/alpha"
assert_fails_with "B reads a ticket" "Permission denied" as deskfs-b cat "$M/alpha/tickets/login/ticket.md"
assert_fails_with "B reads a summary" "Permission denied" as deskfs-b cat "$M/alpha/summaries/login.md"
assert_fails_with "B copies into the inbox" "Permission denied" as deskfs-b cp "$T/login.txt" "$M/alpha/inbox/"
assert_fails_with "B asks" "Permission denied" as deskfs-b sh -c "echo q > '$M/alpha/queries/b'"
assert_fails_with "B reads the answer" "Permission denied" as deskfs-b cat "$M/alpha/queries/q"
assert_fails_with "B writes the config" "Permission denied" as deskfs-b sh -c "echo '{}' > '$M/alpha/config'"
assert_fails_with "B gives feedback" "Permission denied" as deskfs-b sh -c "echo '+1 queries/q tickets/login' >> '$M/alpha/feedback'"
assert_fails_with "B chmods alpha" "Operation not permitted" as deskfs-b chmod 0777 "$M/alpha"
assert_fails_with "B removes alpha" "Permission denied" as deskfs-b rm -rf "$M/alpha/tickets/login"
assert_eq "alpha untouched" "$(ls "$M/alpha/tickets")" "login"
as deskfs-b cp "$T/login.txt" "$M/beta/inbox/" && ok || fail "B copies into beta"
as deskfs-b sh -c "echo 'log in fails' > '$M/beta/queries/q'" && ok || fail "B asks in beta"
assert_contains "B reads its answer" "$(as deskfs-b cat "$M/beta/queries/q")" "tickets/login/ticket.md"
# beta is 2750 with group deskfs-b... A is not in it: out too
assert_fails_with "A lists beta" "Permission denied" as deskfs-a ls "$M/beta"
# the root lists both names (like /home), but only the owners get in
assert_eq "B sees the tenant names" "$(as deskfs-b ls "$M" | tr '\n' ' ')" "README alpha beta "

# --- .deskfs/ is the mount owner's
assert_eq ".deskfs mode" "$(stat -c '%a' "$M/.deskfs")" "700"
assert_fails_with "B reads metrics" "Permission denied" as deskfs-b cat "$M/.deskfs/metrics"
assert_contains "root reads metrics" "$(cat "$M/.deskfs/metrics")" "deskfs_documents"

# --- a tenant made by a user is theirs (root may give the root dir away)
chmod 1777 "$M" 2>/dev/null && fail "root dir mode changed" || ok
assert_fails_with "B cannot mkdir at the root" "Permission denied" as deskfs-b mkdir "$M/gamma"

# --- kept across a remount
umount_fs
mount_fs -o allow_other
assert_eq "alpha after remount" "$(stat -c '%U:%G %a' "$M/alpha")" "deskfs-a:deskfs-a 700"
assert_eq "beta after remount" "$(stat -c '%U %a' "$M/beta")" "deskfs-b 2750"
assert_fails_with "B still out after remount" "Permission denied" as deskfs-b ls "$M/alpha/tickets"
assert_eq "A still in after remount" "$(as deskfs-a ls "$M/alpha/tickets")" "login"
finish
