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
finish
