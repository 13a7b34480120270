#!/usr/bin/env bash
# The filesystem stays usable while a large file is being ingested, and two
# tenants ingest side by side without seeing each other's tickets.
. "$(dirname "$0")/lib.sh"
GEN=${DESKFS_GEN:?DESKFS_GEN must point at gen_freshdesk}
mount_fs
mkdir "$M/big" "$M/other"
"$GEN" 20000 "$T/src" 1 3 >/dev/null
# one NDJSON export of 20,000 tickets (about 140 MB)
for f in "$T"/src/ticket-*.json; do tr -d '\n' < "$f"; echo; done > "$T/big.ndjson"
cp "$FIX/freshdesk/ticket_with_conversations.json" "$M/other/inbox/"

cp "$T/big.ndjson" "$M/big/inbox/" &
copier=$!
# wait until the daemon has the whole file and is ingesting it (cp blocks
# in close() meanwhile); then use the mount from here
while [ "$(stat -c %s "$M/big/inbox/big.ndjson" 2>/dev/null || echo 0)" -lt "$(stat -c %s "$T/big.ndjson")" ]; do
	kill -0 $copier 2>/dev/null || break
	sleep 0.01
done
if kill -0 $copier 2>/dev/null; then
	# while the ingest runs: list, read, stat and ingest elsewhere
	ls "$M" >/dev/null && ok || fail "ls during ingest"
	assert_contains "read during ingest" "$(cat "$M/other/tickets/20/ticket.md")" "Support needed"
	cp "$FIX/zendesk/ticket.json" "$M/other/inbox/" && ok || fail "ingest elsewhere during ingest"
	kill -0 $copier 2>/dev/null && ok || echo "note: the big ingest ended before the checks" >&2
else
	echo "note: the big ingest ended before it could be observed" >&2
fi
wait $copier && ok || fail "cp of the big file"
assert_eq "big ingested" "$(ls "$M/big/tickets" | wc -l)" "20000"
assert_eq "tenants isolated" "$(ls "$M/other/tickets" | tr '\n' ' ')" "20 35436 "
assert_eq "no ticket 20 leaked" "$(grep -c 'Support needed' "$M/big/tickets/20/ticket.md")" "0"
finish
