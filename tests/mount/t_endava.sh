#!/usr/bin/env bash
# The real Endava help-desk export (5,431 anonymized tickets) through cp.
. "$(dirname "$0")/lib.sh"
CSV=${SHARED:+$SHARED/data/endava-helpdesk/all_tickets.csv}
if [ -z "$CSV" ] || [ ! -f "$CSV" ]; then
	echo "SKIP: shared/data/endava-helpdesk/all_tickets.csv not present" >&2
	[ "${CI:-}" = "true" ] && echo "note: shared data missing in CI" >&2
	exit 77
fi
mount_fs
mkdir "$M/endava"
cp "$CSV" "$M/endava/inbox/" && ok || fail "cp all_tickets.csv"
assert_eq "inbox empty" "$(ls -A "$M/endava/inbox")" ""
assert_eq "ticket count" "$(ls "$M/endava/tickets" | wc -l)" "5431"
assert_contains "status" "$(cat "$M/endava/status")" "tickets: 5431"
first=$(sed -n 2p "$CSV" | cut -c1-20)
md=$(cat "$M/endava/tickets/1/ticket.md")
assert_contains "first ticket source" "$md" "- ticket: csv 1 @ all_tickets"
# re-copy: all unchanged
cp "$CSV" "$M/endava/inbox/"
assert_contains "re-copy unchanged" "$(cat "$M/endava/status")" "records unchanged (re-copied): 5431"
assert_eq "grep works" "$(grep -rl 'urgency' "$M/endava/tickets" --include=ticket.md | wc -l)" "5431"
# one article among thousands of ticket passages: a kb-only vector search
# scores just the article slots (retrieve.c kind_rare), and finds it
printf '# Printer toner\n\nReplace the toner cartridge of the floor printer when it shows E42.\n' > "$M/endava/kb/toner.md"
printf 'mode: search\nsources: kb\nretriever: vector\n\nprinter toner cartridge E42\n' > "$M/endava/queries/toner"
python3 - "$M/endava/queries/toner.json" <<'EOF2' && ok || fail "kb-only vector search"
import json, sys
j = json.load(open(sys.argv[1]))
paths = [s["path"] for s in j["sources"]]
assert paths == ["kb/toner.md"], paths
assert j["sources"][0]["vector"]["score"] > 0.3, j["sources"][0]
EOF2
finish
