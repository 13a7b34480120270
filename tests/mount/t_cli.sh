#!/usr/bin/env bash
# deskfs ingest and deskfs status, without and with a mount of the same
# store: the same counters, events and rejected files as cp, exit codes,
# plain lines off a terminal and a progress line on one.
. "$(dirname "$0")/lib.sh"
GEN=${DESKFS_GEN:?DESKFS_GEN must point at gen_freshdesk}

# no_sanitizer WHAT TEXT: the command's own output shows no sanitizer report
no_sanitizer() {
	case "$2" in *AddressSanitizer*|*LeakSanitizer*|*"runtime error"*) fail "$1: $2" ;; esac
}
# run CMD...: sets out (stdout and stderr) and rc
run() { out=$("$@" 2>&1); rc=$?; no_sanitizer "$*" "$out"; }
lines_of() { grep -c "^$1 " <<<"$out"; }
# The jobs line may differ between two reads: the daemon runs the jobs
# meanwhile, and their rate is known to its own threads only (docs/cli.md).
# Everything else must be the same.
status_norm() { grep -v '^jobs: '; }

# --- usage errors: exit 2, one line, no store created
run "$BIN" ingest --db "$DB"
assert_eq "ingest without arguments" "$rc" 2
assert_contains "ingest usage" "$out" "usage: deskfs ingest"
run "$BIN" ingest --db "$DB" acme
assert_eq "ingest without paths" "$rc" 2
run "$BIN" ingest --db "$DB" Acme "$FIX/freshdesk"
assert_eq "bad tenant name" "$rc" 2
assert_eq "bad tenant name message" "$out" \
	"deskfs: bad tenant name 'Acme' (names: [a-z0-9][a-z0-9._-]{0,63})"
run "$BIN" ingest --db "$DB" "$(printf 'a%.0s' $(seq 65))" "$FIX/freshdesk"
assert_eq "tenant name too long" "$rc" 2
run "$BIN" ingest --db "$DB" --frobnicate acme "$FIX/freshdesk"
assert_eq "unknown ingest option" "$rc" 2
run "$BIN" ingest --db "$DB" --max-file-size lots acme "$FIX/freshdesk"
assert_eq "bad --max-file-size" "$rc" 2
run "$BIN" status --db "$DB" -x
assert_eq "unknown status option" "$rc" 2
run "$BIN" status --db "$DB" -bad-
assert_eq "status bad tenant name" "$rc" 2
run "$BIN" status --db "$DB" a b
assert_eq "status two tenants" "$rc" 2
[ ! -e "$DB" ] && ok || fail "a usage error created the store"
run "$BIN" status --db "$DB"
assert_eq "status without a store" "$rc" 1
assert_contains "status without a store message" "$out" "deskfs: no database '$DB'"
[ ! -e "$DB" ] && ok || fail "status created the store"
assert_contains "--help names ingest" "$("$BIN" --help)" "deskfs ingest [--db FILE]"
assert_contains "--help names status" "$("$BIN" --help)" "deskfs status [--db FILE] [TENANT]"

# --- a directory of good fixtures, without a mount: exit 0, one plain line
# per file in name order (output is not a terminal), temporary names skipped
S=$T/src
mkdir -p "$S/fd" "$S/zd" "$S/mail" "$S/text/deeper" "$S/.git"
cp "$FIX/freshdesk/ticket_with_conversations.json" "$FIX/freshdesk/article.json" "$S/fd/"
cp "$FIX/zendesk/ticket.json" "$FIX/zendesk/ticket_with_comments.json" \
	"$FIX/zendesk/incremental.json" "$FIX/zendesk/article.json" "$S/zd/"
cp "$FIX/email/plain.eml" "$FIX/email/thread.mbox" "$S/mail/"
cp "$FIX/text/Printer Jam.txt" "$S/text/"
cp "$FIX/text/reset-password.md" "$S/text/deeper/"
echo "never ingested" > "$S/.hidden.txt"
echo "never ingested" > "$S/text/draft.txt~"
echo "never ingested" > "$S/text/.draft.txt.swp"
echo "never ingested" > "$S/.git/config.txt"
run "$BIN" ingest --db "$DB" acme "$S"
assert_eq "good fixtures exit" "$rc" 0
assert_eq "tenant created" "$(head -1 <<<"$out")" "created tenant 'acme'"
assert_eq "file order" "$(grep '^ingested ' <<<"$out" | sed 's/^ingested \(.*\): .*/\1/')" \
"$S/fd/article.json
$S/fd/ticket_with_conversations.json
$S/mail/plain.eml
$S/mail/thread.mbox
$S/text/Printer Jam.txt
$S/text/deeper/reset-password.md
$S/zd/article.json
$S/zd/incremental.json
$S/zd/ticket.json
$S/zd/ticket_with_comments.json"
assert_contains "per-file line" "$out" \
	"ingested $S/fd/ticket_with_conversations.json: 1 created, 0 updated, 0 unchanged"
assert_contains "summary" "$out" \
	"total: 10 files into 'acme': 10 ingested, 0 rejected, 0 failed; records: 11 created, 2 updated, 1 unchanged; "
case "$out" in *never*|*.git*|*hidden*|*draft*) fail "a temporary name was ingested: $out" ;; *) ok ;; esac
case "$out" in *$'\r'*) fail "progress line off a terminal" ;; *) ok ;; esac

# again: everything unchanged, --quiet says nothing
run "$BIN" ingest --db "$DB" acme "$S"
assert_eq "again exit" "$rc" 0
assert_contains "again unchanged" "$out" "records: 0 created, 0 updated, "
run "$BIN" ingest --db "$DB" --quiet acme "$S"
assert_eq "quiet exit" "$rc" 0
assert_eq "quiet output" "$out" ""

# --- a rejected file: exit 1, it stays in the inbox with NAME.error
head -c 2048 /dev/urandom > "$T/junk.bin"
printf '\0' >> "$T/junk.bin"
run "$BIN" ingest --db "$DB" acme "$T/junk.bin" "$FIX/zendesk/ticket.json"
assert_eq "rejected exit" "$rc" 1
assert_contains "rejected line" "$out" "rejected $T/junk.bin: file: binary content (NUL byte at offset"
assert_contains "rejected summary" "$out" "2 files into 'acme': 1 ingested, 1 rejected, 0 failed"
run "$BIN" ingest --db "$DB" -q acme "$T/junk.bin"
assert_eq "quiet rejected exit" "$rc" 1
assert_eq "quiet rejected output" "$(lines_of rejected)/$(wc -l <<<"$out")" "1/1"

# --- failures: too large, missing, not a regular file: exit 1, nothing kept
head -c 3000 /dev/zero | tr '\0' 'x' > "$T/big.txt"
run "$BIN" ingest --db "$DB" --max-file-size 2K acme "$T/big.txt"
assert_eq "too large exit" "$rc" 1
assert_contains "too large line" "$out" \
	"failed $T/big.txt: too large (2.9 KiB; the largest file accepted is 2.0 KiB, see --max-file-size)"
run "$BIN" ingest --db "$DB" acme "$T/nope.json"
assert_eq "missing path exit" "$rc" 1
assert_contains "missing path line" "$out" "failed $T/nope.json: No such file or directory"
mkfifo "$T/fifo"
run "$BIN" ingest --db "$DB" acme "$T/fifo"
assert_eq "fifo exit" "$rc" 1
assert_contains "fifo line" "$out" "failed $T/fifo: not a regular file"

# --- the mount sees all of it
mount_fs
assert_eq "inbox keeps the rejected file" "$(ls "$M/acme/inbox" | tr '\n' ' ')" "junk.bin junk.bin.error "
assert_contains "NAME.error" "$(cat "$M/acme/inbox/junk.bin.error")" "deskfs could not ingest 'junk.bin'"
assert_eq "rejected content kept" "$(cmp "$M/acme/inbox/junk.bin" "$T/junk.bin" && echo same)" "same"
assert_eq "tickets" "$(ls "$M/acme/tickets" | wc -l)" "$(grep '^tickets: ' "$M/acme/status" | cut -d' ' -f2)"
assert_contains "ticket.md" "$(cat "$M/acme/tickets/20/ticket.md")" "# Support needed.."
[ -f "$M/acme/kb/$(ls "$M/acme/kb" | head -1)" ] && ok || fail "articles in kb/"
st=$(cat "$M/acme/status")
assert_contains "status files ingested" "$st" "files ingested: 31"
assert_contains "status files rejected" "$st" "files rejected: 2"
assert_contains "status records created" "$st" "records created: 11"
assert_contains "status event" "$st" "rejected 'junk.bin' (binary): file: binary content"
assert_eq "status through the CLI equals the mount's" "$("$BIN" status --db "$DB" acme | status_norm)" \
	"$(status_norm <<<"$st")"

# --- ingest while mounted: the new ticket is there at once, and found by a
# query whose index was built before (it refreshes from the store)
echo "how do I reset my password" > "$M/acme/queries/before"
assert_contains "query before" "$(cat "$M/acme/queries/before")" "--- deskfs answer ---"
sed -e 's/"id": 20,/"id": 777,/' -e 's/Support needed\.\./Quasarfrob printer melted/' \
	"$FIX/freshdesk/ticket_with_conversations.json" > "$T/t777.json"
run "$BIN" ingest --db "$DB" acme "$T/t777.json"
assert_eq "mounted ingest exit" "$rc" 0
assert_contains "mounted ingest line" "$out" "ingested $T/t777.json: 1 created, 0 updated, 0 unchanged"
assert_contains "new ticket in the mount" "$(ls "$M/acme/tickets")" "777"
assert_contains "new ticket.md" "$(head -1 "$M/acme/tickets/777/ticket.md")" "Quasarfrob printer melted"
echo "quasarfrob printer melted" > "$M/acme/queries/after"
assert_contains "query finds it" "$(cat "$M/acme/queries/after")" "tickets/777/ticket.md"
# a new tenant appears in the mount too
run "$BIN" ingest --db "$DB" globex "$FIX/zendesk/ticket.json"
assert_eq "new tenant exit" "$rc" 0
assert_eq "new tenant in the mount" "$(ls "$M" | tr '\n' ' ')" "README acme globex "
assert_eq "new tenant ticket" "$(ls "$M/globex/tickets" | wc -l)" "1"
# a file being copied into the mount is left alone: no recovery marks it
# rejected, and a file of the same name is not put over it
exec 3>"$M/globex/inbox/ticket.json"
run "$BIN" ingest --db "$DB" globex "$FIX/freshdesk/ticket_with_conversations.json"
assert_eq "ingest beside a copy in progress" "$rc" 0
assert_eq "copy in progress untouched" "$(ls "$M/globex/inbox")" "ticket.json"
run "$BIN" ingest --db "$DB" globex "$FIX/zendesk/ticket.json"
assert_eq "same name as a copy in progress" "$rc" 1
assert_contains "same name message" "$out" "failed $FIX/zendesk/ticket.json: busy: another process is writing 'ticket.json'"
sed 's/"id": 20,/"id": 4242,/' "$FIX/freshdesk/ticket_with_conversations.json" >&3
exec 3>&-
assert_eq "the copy completed" "$(ls -A "$M/globex/inbox")" ""
assert_contains "the copy's ticket" "$(ls "$M/globex/tickets")" "4242"
# a rejected file while mounted shows up in the mount's inbox
printf '{"id": 1, "subject": ' > "$T/broken.json"
run "$BIN" ingest --db "$DB" globex "$T/broken.json"
assert_eq "mounted rejected exit" "$rc" 1
assert_eq "mounted rejected inbox" "$(ls "$M/globex/inbox" | tr '\n' ' ')" "broken.json broken.json.error "
assert_contains "mounted NAME.error" "$(cat "$M/globex/inbox/broken.json.error")" "malformed JSON at line 1"
# fixing it through the CLI replaces it, as cp over it would
mkdir "$T/fixed"
cp "$FIX/freshdesk/ticket_with_conversations.json" "$T/fixed/broken.json"
run "$BIN" ingest --db "$DB" globex "$T/fixed/broken.json"
assert_eq "replace exit" "$rc" 0
assert_eq "replaced file left the inbox" "$(ls -A "$M/globex/inbox")" ""

# every tenant: a header line each, the text the mount shows
run "$BIN" status --db "$DB"
assert_eq "status all exit" "$rc" 0
assert_eq "status all" "$(status_norm <<<"$out")" "==> acme <==
$(status_norm < "$M/acme/status")

==> globex <==
$(status_norm < "$M/globex/status")"
run "$BIN" status --db "$DB" nosuch
assert_eq "unknown tenant exit" "$rc" 1
assert_contains "unknown tenant message" "$out" "no tenant 'nosuch'"

# --- cp into the mount and ingest beside it, at once: nothing lost
"$GEN" 400 "$T/gen_a" 100001 3 >/dev/null
"$GEN" 400 "$T/gen_b" 200001 5 >/dev/null
mkdir "$M/busy"
cp "$T"/gen_b/* "$M/busy/inbox/" &
cp_pid=$!
run "$BIN" ingest --db "$DB" busy "$T/gen_a"
wait $cp_pid && ok || fail "cp beside ingest"
assert_eq "concurrent ingest exit" "$rc" 0
assert_eq "concurrent ingest lines" "$(lines_of ingested)" "400"
assert_eq "concurrent tickets" "$(ls "$M/busy/tickets" | wc -l)" "800"
assert_contains "concurrent counters" "$(cat "$M/busy/status")" "files ingested: 800"
assert_eq "concurrent inbox empty" "$(ls -A "$M/busy/inbox")" ""

# --- an interrupt stops after the current file; nothing is left half-written
"$GEN" 3000 "$T/gen_c" 300001 7 >/dev/null
"$BIN" ingest --db "$DB" busy "$T/gen_c" > "$T/int.out" 2>&1 &
pid=$!
for _ in $(seq 200); do grep -q '^ingested ' "$T/int.out" && break; sleep 0.05; done
kill -INT $pid
wait $pid
assert_eq "interrupt exit" "$?" 130
assert_contains "interrupt summary" "$(cat "$T/int.out")" "interrupted after "
no_sanitizer "interrupted ingest" "$(cat "$T/int.out")"
n=$(grep -c '^ingested ' "$T/int.out")
[ "$n" -lt 3000 ] && ok || fail "interrupt did not stop the run ($n files)"
assert_eq "interrupt inbox empty" "$(ls -A "$M/busy/inbox")" ""
assert_eq "interrupt tickets" "$(ls "$M/busy/tickets" | wc -l)" "$((800 + n))"

# --- a terminal gets one self-updating progress line and the summary
if command -v script >/dev/null; then
	out=$(script -qec "'$BIN' ingest --db '$DB' acme '$S' '$T/junk.bin'" /dev/null); rc=$?
	assert_eq "terminal exit" "$rc" 1
	no_sanitizer "ingest on a terminal" "$out"
	assert_contains "progress line" "$out" $'\r'
	assert_contains "progress text" "$out" "files, ETA "
	assert_contains "terminal rejected line" "$out" "rejected $T/junk.bin: "
	assert_contains "terminal summary" "$out" "total: 11 files into 'acme': 10 ingested, 1 rejected"
	case "$out" in *"ingested $S/"*) fail "per-file ingested lines on a terminal" ;; *) ok ;; esac
else
	echo "skip: script(1) from util-linux is missing: the progress line is not checked" >&2
fi

umount_fs
# the store is consistent after all of it
run "$BIN" status --db "$DB" busy
assert_contains "after umount" "$out" "tickets: $((800 + n))"
finish
