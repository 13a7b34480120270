#!/usr/bin/env bash
# Summaries and similar tickets, made by background jobs: the offline
# extractive summary (exact text), summaries/NAME.md, similar.md and
# similar.json (never the ticket itself, exact stat sizes); LLM summaries
# through the fake provider: the request, a malformed reply repaired, a
# long ticket summarized in chunks and merged, a failing provider retried
# and then dead with its reason in summary.md and status; unchanged
# re-copies queue nothing, changed ones re-summarize; kill -9 with jobs
# queued, remount: every job completes exactly once.
. "$(dirname "$0")/lib.sh"
fake_provider_start
mount_fs
mkdir "$M/acme"
A=$M/acme

# wait_state FILE STATE: polls FILE (20 s at most) until its state line starts with STATE
wait_state() {
	for _ in $(seq 200); do
		case "$(grep -m1 '^state: ' "$1" 2>/dev/null)" in "state: $2"*) return 0 ;; esac
		sleep 0.1
	done
	fail "$1: state never became '$2': [$(cat "$1" 2>&1)]"
	return 1
}
chat_requests() {
	fake GET /_requests | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if r["path"].endswith("/chat/completions")))'
}
# chat_user N: the user message of the N-th chat request (1-based)
chat_user() {
	fake GET /_requests | python3 -c 'import json,sys
r=[x for x in json.load(sys.stdin) if x["path"].endswith("/chat/completions")]
print([m["content"] for m in r[int(sys.argv[1])-1]["body"]["messages"] if m["role"]=="user"][0])' "$1"
}
stat_size_ok() { # FILE: stat size equals the bytes read
	assert_eq "size of $1" "$(stat -c %s "$1")" "$(wc -c < "$1")"
}

# --- offline: the extractive summary, exact
cp "$FIX/freshdesk/ticket_with_conversations.json" "$FIX/freshdesk/tickets_list.json" "$A/inbox/" 2>/dev/null
wait_state "$A/tickets/20/summary.md" done
assert_eq "offline summary" "$(cat "$A/tickets/20/summary.md")" "# Ticket 20: Support needed..

state: done
method: extractive (built-in)

Problem: Support needed..: Some details on the issue ...

Cause: Not stated in the ticket.

Solution: We are looking into it. Could you send a screenshot?

Result: Resolved (status: solved)."
assert_eq "summaries/20.md is the same file" "$(cat "$A/summaries/20.md")" "$(cat "$A/tickets/20/summary.md")"
assert_eq "summaries/ lists every ticket" "$(ls "$A/summaries" | tr '\n' ' ')" "$(ls "$A/tickets" | sed 's/$/.md/' | tr '\n' ' ')"
assert_eq "grep -ril over summaries" "$(grep -ril screenshot "$A/summaries")" "$A/summaries/20.md"
assert_eq "ticket directory" "$(ls "$A/tickets/20" | tr '\n' ' ')" "similar.json similar.md source.json summary.md ticket.json ticket.md "
wait_state "$A/tickets/20/similar.md" done
sim=$(cat "$A/tickets/20/similar.md")
assert_contains "similar lists another ticket" "$sim" "1. tickets/22/ticket.md (score "
assert_contains "with its summary's problem" "$sim" "   Problem: Site down: The whole site is down."
case "$sim" in *"tickets/20/"*) fail "similar.md lists the ticket itself" ;; *) ok ;; esac
python3 - "$A/tickets/20/similar.json" <<'EOF' && ok || fail "similar.json shape"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["ticket"] == "20" and j["state"].startswith("done"), j
assert [s["ticket"] for s in j["similar"]] and "20" not in [s["ticket"] for s in j["similar"]], j
assert all(set(s) == {"ticket", "path", "title", "score", "problem", "solution"} for s in j["similar"]), j
assert isinstance(j["articles"], list), j
EOF
for f in summary.md similar.md similar.json; do stat_size_ok "$A/tickets/20/$f"; done
assert_fails_with "summary.md is read-only" "Permission denied" sh -c "echo x > '$A/tickets/20/summary.md'"
assert_contains "status shows the queue" "$(cat "$A/status")" "jobs: 0 queued, 0 running, "

# --- similar.md quotes the listed tickets' summaries: stored rendered,
# made again when a listed ticket changes its summary or goes
mkdir "$M/views"
W=$M/views
vt() { # ID DESCRIPTION: a Freshdesk ticket file
	printf '{"id": %d, "subject": "VPN trouble %d", "description_text": "%s", "status": 2, "priority": 1, "created_at": "2024-06-01T10:00:00Z", "updated_at": "2024-06-01T10:00:00Z"}\n' "$1" "$1" "$2" > "$T/v$1.json"
}
# six tickets: each lists the other five; 902's change makes the lists of
# only its best SIMILAR_PEERS (3) again, the other two quote it through
# the stale-view triggers
vt 901 "The VPN drops every hour on the office network."
vt 902 "Our VPN drops every hour after the update."
vt 903 "VPN drops hourly for remote staff."
vt 904 "The VPN client disconnects at home."
vt 905 "VPN tunnel is slow in the branch office."
vt 906 "Cannot reach the VPN gateway from the hotel."
cp "$T"/v90?.json "$W/inbox/"
wait_jobs views
for t in 901 903 904 905 906; do
	assert_contains "$t lists 902 with its problem" "$(cat "$W/tickets/$t/similar.md")" \
		"   Problem: VPN trouble 902: Our VPN drops every hour after the update."
done
m0=$(stat -c %Y "$W/tickets/901/similar.md")
sleep 1.1
vt 902 "Our VPN drops every hour after the firmware update of the router."
cp "$T/v902.json" "$W/inbox/"
wait_jobs views
for t in 901 903 904 905 906; do
	sim=$(cat "$W/tickets/$t/similar.md")
	assert_contains "$t quotes 902's new problem" "$sim" \
		"   Problem: VPN trouble 902: Our VPN drops every hour after the firmware update of the router."
	case "$sim" in *"after the update."*) fail "$t still quotes 902's old summary" ;; *) ok ;; esac
done
m1=$(stat -c %Y "$W/tickets/901/similar.md")
[ "$m1" -gt "$m0" ] && ok || fail "similar.md mtime did not move with its content: $m0 -> $m1"
for f in similar.md similar.json; do stat_size_ok "$W/tickets/901/$f"; done
m2=$(stat -c %Y "$W/tickets/903/similar.md")
rm -r "$W/tickets/902"
wait_jobs views
for t in 901 903 904 905 906; do
	case "$(cat "$W/tickets/$t/similar.md" "$W/tickets/$t/similar.json")" in
	*"tickets/902"*) fail "$t still lists the deleted 902" ;; *) ok ;; esac
	for f in similar.md similar.json; do stat_size_ok "$W/tickets/$t/$f"; done
done
[ "$(stat -c %Y "$W/tickets/903/similar.md")" -ge "$m2" ] && ok || fail "mtime went back"
# unchanged: a remount renders nothing new (same bytes, same mtime)
before=$(stat -c '%s %Y' "$W/tickets/901/similar.md" "$W/tickets/901/similar.json")
umount_fs
mount_fs
assert_eq "stable across a remount" "$(stat -c '%s %Y' "$W/tickets/901/similar.md" "$W/tickets/901/similar.json")" "$before"

# --- an LLM summary: the request, the stored result
printf '{"providers":[{"name":"oa","api":"openai","endpoint":"%s/v1","model":"m1","retries":0,"timeout_s":5},{"name":"offline","api":"offline"}],"summary_min_words":0,"summary_chunk_tokens":500,"job_attempts":2,"job_backoff_s":1}\n' "$FAKE" > "$T/cfg" && cp "$T/cfg" "$A/config" || fail "config"
GOOD='{"problem":"VPN drops hourly","cause":"An expired certificate","solution":"Renewed the certificate","result":"Resolved"}'
fake POST /_reset >/dev/null
fake POST /_control "{\"replies\":[$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$GOOD")]}" >/dev/null
printf 'VPN drops every hour\n\nOur VPN drops every hour since Monday.\n' > "$A/inbox/vpn.txt"
V=$A/tickets/$(ls "$A/tickets" | grep -i vpn)
wait_state "$V/summary.md" done
assert_eq "LLM summary" "$(sed -n '3,12p' "$V/summary.md")" "state: done
method: provider 'oa' (openai, model m1)

Problem: VPN drops hourly

Cause: An expired certificate

Solution: Renewed the certificate

Result: Resolved"
assert_eq "one chat request" "$(chat_requests)" 1
assert_contains "the ticket in the request" "$(chat_user 1)" "Our VPN drops every hour since Monday."
sys=$(fake GET /_requests | python3 -c 'import json,sys; r=json.load(sys.stdin)[0]; print([m["content"] for m in r["body"]["messages"] if m["role"]=="system"][0])')
assert_contains "system prompt asks for the four fields" "$sys" 'exactly these four string fields'

# --- a malformed reply, then a good one after the repair request
fake POST /_reset >/dev/null
fake POST /_control "{\"replies\":[\"Sure! Here is the summary.\", $(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$GOOD")]}" >/dev/null
printf 'Printer offline\n\nThe printer on floor 2 shows offline.\n' > "$A/inbox/printer.txt"
P=$A/tickets/$(ls "$A/tickets" | grep -i printer)
wait_state "$P/summary.md" done
assert_eq "repaired: two requests" "$(chat_requests)" 2
assert_contains "the repair request says why" "$(chat_user 2)" "Your previous reply was not usable (not a JSON object"
assert_contains "repaired summary stored" "$(cat "$P/summary.md")" "Problem: VPN drops hourly"
# a reply with a missing field, twice: that provider failed, the next (offline) summarizes
fake POST /_reset >/dev/null
fake POST /_control '{"replies":["{\"problem\":\"x\"}","{\"problem\":\"x\"}"]}' >/dev/null
printf 'Mail bounces\n\nMail to partners bounces with 550.\n' > "$A/inbox/mail.txt"
B=$A/tickets/$(ls "$A/tickets" | grep -i mail)
wait_state "$B/summary.md" done
assert_contains "fallback to the extractive summary" "$(cat "$B/summary.md")" "method: extractive (built-in)"
assert_contains "its problem" "$(cat "$B/summary.md")" "Problem: Mail bounces: Mail to partners bounces with 550."

# --- a long ticket: chunks, then one merge request
fake POST /_reset >/dev/null
fake POST /_control "{\"reply\":$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$GOOD")}" >/dev/null
python3 - "$T/long.json" <<'EOF'
import json, sys
words = " ".join("word%d" % i for i in range(300))
convs = [{"id": 900 + i, "body_text": "Message %d. %s" % (i, words), "incoming": i % 2 == 0,
          "private": False, "created_at": "2024-05-0%dT10:00:00Z" % (i + 2)} for i in range(3)]
json.dump({"id": 777, "subject": "Long one", "description_text": "Start.", "status": 2,
           "priority": 1, "created_at": "2024-05-01T10:00:00Z", "updated_at": "2024-05-05T10:00:00Z",
           "conversations": convs}, open(sys.argv[1], "w"))
EOF
cp "$T/long.json" "$A/inbox/"
wait_state "$A/tickets/777/summary.md" done
assert_eq "3 chunks + 1 merge" "$(chat_requests)" 4
assert_contains "chunk request" "$(chat_user 1)" "Part 1 of a long ticket."
assert_contains "merge request" "$(chat_user 4)" "Merge them into one summary of the whole ticket."
assert_contains "merge request has the parts" "$(chat_user 4)" "Part 3:"

# --- unchanged re-copy: no job; changed: summarized again
wait_state "$A/tickets/777/similar.md" done
fake POST /_reset >/dev/null
fake POST /_control "{\"reply\":$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$GOOD")}" >/dev/null
cp "$T/long.json" "$A/inbox/"
sleep 1
assert_eq "unchanged re-copy: no request" "$(chat_requests)" 0
printf 'VPN drops every hour\n\nOur VPN drops every hour since Monday. Now also on Wi-Fi.\n' > "$A/inbox/vpn.txt"
for _ in $(seq 100); do [ "$(chat_requests)" -ge 1 ] && break; sleep 0.1; done
wait_state "$V/summary.md" done
assert_eq "changed: summarized again" "$(chat_requests)" 1

# --- a failing provider: retried, then dead with its reason
printf '{"providers":[{"name":"oa","api":"openai","endpoint":"%s/v1","model":"m1","retries":0,"timeout_s":5},{"name":"offline","api":"offline"}],"summary_providers":["oa"],"summary_min_words":0,"job_attempts":2,"job_backoff_s":1}\n' "$FAKE" > "$T/cfg" && cp "$T/cfg" "$A/config" || fail "config 2"
fake POST /_reset >/dev/null
fake POST /_control '{"default":"500"}' >/dev/null
printf 'Disk full\n\nThe disk on the build server is full.\n' > "$A/inbox/disk.txt"
D=$A/tickets/$(ls "$A/tickets" | grep -i disk)
wait_state "$D/summary.md" failed
assert_contains "failure reason" "$(cat "$D/summary.md")" "state: failed: provider 'oa' (openai, model m1) failed: HTTP 500"
assert_contains "attempts" "$(cat "$D/summary.md")" "(attempt 2 of 2)"
assert_eq "two attempts made" "$(chat_requests)" 2
assert_contains "similar.md says why too" "$(cat "$D/similar.md")" "state: failed: provider 'oa'"
st=$(cat "$A/status")
assert_contains "status counts the failure" "$st" "1 failed"
assert_contains "status gives the reason" "$st" "summary of tickets/$(basename "$D"): provider 'oa' (openai, model m1) failed: HTTP 500"
stat_size_ok "$D/summary.md"
met=$(cat "$M/.deskfs/metrics")
assert_contains "metrics: the failed summary" "$met" 'deskfs_summaries{tenant="acme",state="failed"} 1'
assert_contains "metrics: the dead job" "$met" 'deskfs_jobs{tenant="acme",state="dead"} 1'

# --- kill -9 with jobs queued; after the remount every job completes once
fake POST /_reset >/dev/null
fake POST /_control "{\"default\":\"slow:0.3\",\"reply\":$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$GOOD")}" >/dev/null
printf '{"providers":[{"name":"oa","api":"openai","endpoint":"%s/v1","model":"m1","retries":0,"timeout_s":5}],"summary_min_words":0}\n' "$FAKE" > "$T/cfg" && cp "$T/cfg" "$A/config" || fail "config 3"
before=$(sed -n 's/^jobs: .*(\([0-9]*\) summaries).*/\1/p' "$A/status")
mkdir -p "$T/batch"
for i in $(seq 1 12); do
	printf '{"id": %d, "subject": "Batch %d", "description_text": "Batch ticket %d needs help.", "status": 2, "priority": 1, "created_at": "2024-06-01T10:00:00Z", "updated_at": "2024-06-01T10:00:00Z"}\n' $((5000 + i)) "$i" "$i" > "$T/batch/b$i.json"
done
cp "$T/batch/"*.json "$A/inbox/"
sleep 0.5
kill -9 "$(head -1 "$DB.lock")"
sleep 0.3
umount_fs
fake POST /_control '{"default":"ok"}' >/dev/null
mount_fs
for i in $(seq 1 12); do wait_state "$A/tickets/$((5000 + i))/similar.md" done; done
for _ in $(seq 100); do case "$(cat "$A/status")" in *"jobs: 0 queued, 0 running"*) break ;; esac; sleep 0.1; done
after=$(sed -n 's/^jobs: .*(\([0-9]*\) summaries).*/\1/p' "$A/status")
assert_eq "every summary job done exactly once" "$((after - before))" 12
for i in $(seq 1 12); do
	assert_contains "batch $i summary" "$(cat "$A/tickets/$((5000 + i))/summary.md")" "Problem: VPN drops hourly"
done
got=$(chat_requests)
[ "$got" -ge 12 ] && ok || fail "at least one request per batch ticket: $got"
# --- --workers 0: no jobs run; they wait in the store for the next mount
umount_fs
mount_fs --workers 0
mkdir "$M/idle"
printf 'Idle one\n\nNothing runs this.\n' > "$M/idle/inbox/idle.txt"
sleep 2.5 # more than a worker's poll (JOBS_POLL_S)
assert_contains "queued, not run" "$(cat "$M/idle/status")" "jobs: 1 queued, 0 running, 0 done"
assert_contains "summary pending" "$(cat "$M/idle/tickets/idle/summary.md")" "state: pending"
umount_fs
mount_fs
wait_state "$M/idle/tickets/idle/summary.md" done
assert_fails_with "--workers -1 refused" "bad --workers '-1' (0 to 64)" "$BIN" mount --db "$DB" --workers -1 "$M"
finish
