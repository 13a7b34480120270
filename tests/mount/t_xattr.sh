#!/usr/bin/env bash
# Extended attributes: the read-only user.deskfs.* set of tickets (the
# directory, its files, summaries/ID.md), kb articles and query files, with
# exact names and values (the hash is XXH3-128 of ticket.json, ingest times
# inside the test's window and equal to stat's mtime, summary and query
# states, the answering provider and model); ENODATA for other names and on
# nodes without attributes; EPERM / ENOTSUP for setfattr and setfattr -x;
# cp --preserve=xattr and rsync -X out of the mount; ls -l, stat and
# find -newer after a change.
. "$(dirname "$0")/lib.sh"
command -v getfattr >/dev/null || { echo "FAIL: getfattr missing (package attr; scripts/deps.sh)" >&2; exit 1; }
command -v xxh128sum >/dev/null || { echo "FAIL: xxh128sum missing (package xxhash; scripts/deps.sh)" >&2; exit 1; }
command -v strace >/dev/null || { echo "FAIL: strace missing (scripts/deps.sh)" >&2; exit 1; }
fake_provider_start
mount_fs
mkdir "$M/acme"
A=$M/acme

# names FILE: the attribute names getfattr lists, sorted, on one line
names() { getfattr -m - --absolute-names "$1" 2>&1 | sed '1d;/^$/d' | sort | tr '\n' ' ' | sed 's/ $//'; }
# val FILE NAME: the value of user.deskfs.NAME (or getfattr's error)
val() { getfattr --only-values --absolute-names -n "user.deskfs.$2" "$1" 2>&1; }
# xerr OP FILE NAME: the errno name of a get/set/remove/list (OK when it succeeds)
xerr() {
	python3 - "$@" <<'EOF'
import errno, os, sys
op, path = sys.argv[1], sys.argv[2]
name = sys.argv[3] if len(sys.argv) > 3 else ""
try:
    if op == "get": os.getxattr(path, name)
    elif op == "set": os.setxattr(path, name, b"x")
    elif op == "remove": os.removexattr(path, name)
    elif op == "list": print(" ".join(os.listxattr(path)) or "EMPTY"); sys.exit(0)
    print("OK")
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))
EOF
}
# epoch ISO-TIME
epoch() { date -u -d "$1" +%s 2>/dev/null || echo "bad time [$1]"; }
# next_second: returns once the clock is in a later second than when called
next_second() { local s; s=$(date +%s); while [ "$(date +%s)" = "$s" ]; do sleep 0.05; done; }
TICKET_ATTRS="user.deskfs.first_ingested user.deskfs.hash user.deskfs.ingested user.deskfs.kind user.deskfs.source user.deskfs.source_id user.deskfs.summary"
ARTICLE_ATTRS="user.deskfs.first_ingested user.deskfs.hash user.deskfs.ingested user.deskfs.kind user.deskfs.source user.deskfs.source_id"
QUERY_ATTRS="user.deskfs.kind user.deskfs.latency_ms user.deskfs.model user.deskfs.provider user.deskfs.state"

# --- tickets and articles, offline
t0=$(date +%s)
cp "$FIX/freshdesk/ticket_with_conversations.json" "$FIX/freshdesk/tickets_list.json" \
	"$FIX/zendesk/ticket.json" "$A/inbox/" 2>/dev/null
printf 'VPN drops every hour\n\nOur VPN drops every hour since Monday.\n' > "$A/inbox/vpn.txt"
printf '# Reset a password\n\nOpen Settings and press Reset.\n' > "$A/kb/reset.md"
wait_jobs acme
t1=$(date +%s)

for f in "" /ticket.md /ticket.json /source.json /summary.md /similar.md /similar.json; do
	assert_eq "names of tickets/20$f" "$(names "$A/tickets/20$f")" "$TICKET_ATTRS"
done
assert_eq "names of summaries/20.md" "$(names "$A/summaries/20.md")" "$TICKET_ATTRS"
assert_eq "kind" "$(val "$A/tickets/20" kind)" "ticket"
assert_eq "source" "$(val "$A/tickets/20/ticket.md" source)" "freshdesk"
assert_eq "source_id" "$(val "$A/tickets/20/ticket.md" source_id)" "20"
assert_eq "no instance when the export has none" "$(xerr get "$A/tickets/20" user.deskfs.instance)" "ENODATA"
assert_eq "hash is XXH3-128 of ticket.json" "$(val "$A/tickets/20/source.json" hash)" \
	"$(xxh128sum < "$A/tickets/20/ticket.json" | cut -d' ' -f1)"
assert_eq "summaries/ID.md: the ticket's hash" "$(val "$A/summaries/20.md" hash)" "$(val "$A/tickets/20" hash)"
assert_eq "summary" "$(val "$A/tickets/20/summary.md" summary)" "done"
ing=$(val "$A/tickets/20/ticket.md" ingested)
case "$ing" in [0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z) ok ;; *) fail "ingested is not ISO 8601 UTC: [$ing]" ;; esac
e=$(epoch "$ing")
[ "$e" -ge "$t0" ] 2>/dev/null && [ "$e" -le "$t1" ] && ok || fail "ingested $ing ($e) not in [$t0, $t1]"
assert_eq "ingested is the mtime" "$e" "$(stat -c %Y "$A/tickets/20/ticket.md")"
assert_eq "ticket dir dated alike" "$(stat -c %Y "$A/tickets/20")" "$e"
assert_eq "first_ingested" "$(val "$A/tickets/20" first_ingested)" "$ing"
# zendesk: the instance is the host of the export's url
assert_eq "names with an instance" "$(names "$A/tickets/35436")" \
	"user.deskfs.first_ingested user.deskfs.hash user.deskfs.ingested user.deskfs.instance user.deskfs.kind user.deskfs.source user.deskfs.source_id user.deskfs.summary"
assert_eq "zendesk source" "$(val "$A/tickets/35436/ticket.md" source)" "zendesk"
assert_eq "zendesk instance" "$(val "$A/tickets/35436/ticket.md" instance)" "acme.zendesk.com"
assert_eq "zendesk source_id" "$(val "$A/tickets/35436/ticket.md" source_id)" "35436"
assert_eq "file ticket" "$(val "$A/tickets/vpn" source) $(val "$A/tickets/vpn" source_id)" "file vpn"
# kb/SLUG.md
assert_eq "article names" "$(names "$A/kb/reset.md")" "$ARTICLE_ATTRS"
assert_eq "article kind" "$(val "$A/kb/reset.md" kind)" "article"
assert_eq "article source" "$(val "$A/kb/reset.md" source) $(val "$A/kb/reset.md" source_id)" "file reset"
case "$(val "$A/kb/reset.md" hash)" in [0-9a-f][0-9a-f][0-9a-f][0-9a-f]*) ok ;; *) fail "article hash [$(val "$A/kb/reset.md" hash)]" ;; esac
assert_eq "article hash is XXH3-128 of kb/SLUG.md" "$(val "$A/kb/reset.md" hash)" \
	"$(xxh128sum < "$A/kb/reset.md" | cut -d' ' -f1)"
assert_eq "article has no summary" "$(xerr get "$A/kb/reset.md" user.deskfs.summary)" "ENODATA"
assert_eq "article ingested is its mtime" "$(epoch "$(val "$A/kb/reset.md" ingested)")" "$(stat -c %Y "$A/kb/reset.md")"

# --- other names, other nodes
assert_eq "unknown deskfs name" "$(xerr get "$A/tickets/20/ticket.md" user.deskfs.nope)" "ENODATA"
assert_contains "getfattr says so" "$(getfattr -n user.deskfs.nope "$A/tickets/20/ticket.md" 2>&1)" "No such attribute"
assert_eq "get user.other" "$(xerr get "$A/tickets/20/ticket.md" user.other)" "ENODATA"
for n in security.selinux security.capability system.posix_acl_access system.posix_acl_default trusted.x; do
	assert_eq "get $n" "$(xerr get "$A/tickets/20/ticket.md" "$n")" "ENOTSUP"
done
assert_eq "get on a directory" "$(xerr get "$A/tickets/20" system.posix_acl_default)" "ENOTSUP"
assert_eq "get on the root" "$(xerr get "$M" security.selinux)" "ENOTSUP"
for p in "$M" "$M/README" "$M/.deskfs/metrics" "$A" "$A/status" "$A/config" "$A/tickets" "$A/kb" "$A/inbox" "$A/queries" "$A/summaries"; do
	assert_eq "nothing listed on $p" "$(xerr list "$p")" "EMPTY"
	assert_eq "no kind on $p" "$(xerr get "$p" user.deskfs.kind)" "ENODATA"
done

# --- read-only: EPERM for deskfs's names, ENOTSUP for any other
for f in "$A/tickets/20" "$A/tickets/20/ticket.md" "$A/summaries/20.md" "$A/kb/reset.md"; do
	assert_eq "set hash on $f" "$(xerr set "$f" user.deskfs.hash)" "EPERM"
	assert_eq "remove hash on $f" "$(xerr remove "$f" user.deskfs.hash)" "EPERM"
	assert_eq "set a new deskfs name on $f" "$(xerr set "$f" user.deskfs.colour)" "EPERM"
	assert_eq "set user.other on $f" "$(xerr set "$f" user.other)" "ENOTSUP"
	assert_eq "remove user.other on $f" "$(xerr remove "$f" user.other)" "ENOTSUP"
done
assert_eq "set on status" "$(xerr set "$A/status" user.deskfs.hash)" "ENOTSUP"
assert_fails_with "setfattr -n" "setfattr: $A/tickets/20/ticket.md: Operation not permitted" \
	setfattr -n user.deskfs.hash -v x "$A/tickets/20/ticket.md"
assert_fails_with "setfattr -x" "Operation not permitted" setfattr -x user.deskfs.summary "$A/tickets/20"
assert_fails_with "setfattr user.other" "Operation not supported" setfattr -n user.note -v x "$A/kb/reset.md"
assert_eq "value unchanged" "$(val "$A/tickets/20/ticket.md" hash)" "$(val "$A/tickets/20" hash)"

# --- ls -l, stat: no ACL mark, no error from the attribute calls ls makes
out=$(ls -l "$A/tickets/20" 2>&1 >/dev/null)
assert_eq "ls -l stderr" "$out" ""
# ls -l asks for a label and ACLs per entry until one says "not supported
# on this device": a few calls for the whole listing, not 3 an entry
entries=$(ls -A "$A" | wc -l)
strace -f -o "$T/ls.strace" -e trace=getxattr,lgetxattr ls -l "$A" >/dev/null
calls=$(grep -c 'xattr(' "$T/ls.strace")
assert_eq "tenant has entries to list" "$([ "$entries" -ge 8 ] && echo yes)" "yes"
assert_eq "ls -l attribute calls ($calls for $entries entries)" "$([ "$calls" -le 3 ] && echo few)" "few"
assert_eq "ls -l modes" "$(ls -l "$A/tickets/20" | awk 'NR > 1 {print $1}' | sort -u | tr '\n' ' ')" "-r--r--r-- "
assert_eq "ls -ld" "$(ls -ld "$A/tickets/20" | cut -c1-10)" "drwxr-xr-x"
assert_eq "ls -l kb" "$(ls -l "$A/kb" | awk 'NR > 1 {print $1}')" "-rw-r--r--"

# --- copying out keeps them
mkdir "$T/out"
cp --preserve=xattr "$A/tickets/20/ticket.md" "$A/kb/reset.md" "$T/out/" && ok || fail "cp --preserve=xattr"
assert_eq "cp kept the names" "$(names "$T/out/ticket.md")" "$TICKET_ATTRS"
assert_eq "cp kept the hash" "$(val "$T/out/ticket.md" hash)" "$(val "$A/tickets/20" hash)"
assert_eq "cp kept the article's" "$(val "$T/out/reset.md" source_id)" "reset"
rsync -aX "$A/tickets/" "$T/rs/" && ok || fail "rsync -aX"
assert_eq "rsync -X kept them" "$(val "$T/rs/35436/ticket.json" instance)" "acme.zendesk.com"
assert_eq "rsync -X, a directory" "$(val "$T/rs/20" summary)" "done"
mkdir "$M/globex"
out=$(cp -a "$A/kb/reset.md" "$M/globex/kb/" 2>&1) && ok || fail "cp -a into another tenant: $out"
assert_eq "cp -a into another tenant is quiet" "$out" ""
assert_eq "the copy is its own article" "$(val "$M/globex/kb/reset.md" source_id)" "reset"

# --- a change: new hash and ingest time, same first_ingested; find -newer
old_hash=$(val "$A/tickets/vpn" hash)
next_second
touch "$T/ref"
next_second
cp "$FIX/freshdesk/ticket_with_conversations.json" "$A/inbox/" # unchanged: touches nothing
printf 'VPN drops every hour\n\nOur VPN drops every hour since Monday. Still.\n' > "$A/inbox/vpn.txt"
printf '# Guide\n\nRead it.\n' > "$A/kb/guide.md"
wait_jobs acme
t2=$(date +%s)
new_hash=$(val "$A/tickets/vpn" hash)
[ "$new_hash" != "$old_hash" ] && ok || fail "hash did not change: $new_hash"
assert_eq "new hash is XXH3-128 of ticket.json" "$new_hash" "$(xxh128sum < "$A/tickets/vpn/ticket.json" | cut -d' ' -f1)"
e=$(epoch "$(val "$A/tickets/vpn" ingested)")
[ "$e" -gt "$(stat -c %Y "$T/ref")" ] && [ "$e" -le "$t2" ] && ok || fail "new ingested $e not after the ref, up to $t2"
first=$(epoch "$(val "$A/tickets/vpn" first_ingested)")
[ "$first" -ge "$t0" ] && [ "$first" -le "$t1" ] && ok || fail "first_ingested moved: $first"
assert_eq "unchanged ticket keeps its ingest time" "$(val "$A/tickets/20" ingested)" "$ing"
assert_eq "find -newer" "$(cd "$A" && find tickets summaries kb -newer "$T/ref" ! -name 'similar.*' | sort | tr '\n' ' ')" \
	"kb/guide.md summaries/vpn.md tickets/vpn tickets/vpn/source.json tickets/vpn/summary.md tickets/vpn/ticket.json tickets/vpn/ticket.md "
s=$(stat -c %Y "$A/tickets/vpn/summary.md")
[ "$s" -ge "$e" ] && [ "$s" -le "$t2" ] && ok || fail "summary.md mtime $s not in [$e, $t2]"

# --- query files, offline
echo "customers cannot log in" > "$A/queries/login" && cat "$A/queries/login" >/dev/null
assert_eq "query names" "$(names "$A/queries/login")" "$QUERY_ATTRS"
assert_eq "query.json names" "$(names "$A/queries/login.json")" "$QUERY_ATTRS"
assert_eq "query kind" "$(val "$A/queries/login" kind)" "query"
assert_eq "query state" "$(val "$A/queries/login" state)" "done"
assert_eq "offline provider" "$(val "$A/queries/login.json" provider)" "offline"
assert_eq "offline model" "$(val "$A/queries/login.json" model)" "extractive-v1"
assert_eq "latency_ms is timings_ms.total" "$(val "$A/queries/login" latency_ms)" \
	"$(python3 -c 'import json,sys; print("%.0f" % json.load(open(sys.argv[1]))["timings_ms"]["total"])' "$A/queries/login.json")"
assert_eq "set on a query" "$(xerr set "$A/queries/login" user.deskfs.state)" "EPERM"
assert_eq "set user.other on a query" "$(xerr set "$A/queries/login" user.other)" "ENOTSUP"
printf 'k: 0\nwhy\n' > "$A/queries/bad" && cat "$A/queries/bad" >/dev/null
assert_eq "invalid query state" "$(val "$A/queries/bad" state)" "failed: k: '0' is not a number from 1 to 100"
assert_eq "invalid query provider" "$(val "$A/queries/bad" provider) $(val "$A/queries/bad" model)" "none none"
echo "never run" > "$A/queries/.draft.swp"
assert_eq "a temporary name: kind only" "$(names "$A/queries/.draft.swp")" "user.deskfs.kind"
assert_eq "no state" "$(xerr get "$A/queries/.draft.swp" user.deskfs.state)" "ENODATA"

# --- with a provider: summaries pending and failed, a pending query, the answerer
printf '{"providers":[{"name":"oa","api":"openai","endpoint":"%s/v1","model":"m1","retries":0,"timeout_s":10},{"name":"offline","api":"offline"}],"summary_providers":["oa"],"summary_min_words":0,"job_attempts":1,"job_backoff_s":1,"query_timeout_s":20}\n' "$FAKE" > "$T/cfg"
cp "$T/cfg" "$A/config" || fail "config"
GOOD='{"problem":"Printer jams","cause":"Worn roller","solution":"Replaced the roller","result":"Resolved"}'
fake POST /_control "{\"faults\":[\"slow:2\"],\"replies\":[$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$GOOD")]}" >/dev/null
printf 'Printer jams\n\nThe printer jams on every page since Monday.\n' > "$A/inbox/printer.txt"
assert_eq "summary pending while its job runs" "$(val "$A/tickets/printer" summary)" "pending"
wait_jobs acme
assert_eq "then done" "$(val "$A/tickets/printer/summary.md" summary)" "done"
fake POST /_control '{"faults":["500"]}' >/dev/null
printf 'Scanner stuck\n\nThe scanner is stuck at 50 percent.\n' > "$A/inbox/scanner.txt"
wait_jobs acme
sm=$(val "$A/summaries/scanner.md" summary)
assert_contains "failed summary" "$sm" "failed: provider 'oa' (openai, model m1) failed: HTTP 500"
assert_contains "with its attempts" "$sm" "(attempt 1 of 1)"
assert_eq "one line" "$(printf '%s' "$sm" | wc -l)" "0"
assert_contains "as summary.md says" "$(grep -m1 '^state: ' "$A/summaries/scanner.md")" "state: $sm"
fake POST /_control '{"faults":["slow:2"]}' >/dev/null
echo "the printer jams" > "$A/queries/slow"
assert_eq "pending query names" "$(names "$A/queries/slow")" "user.deskfs.kind user.deskfs.state"
assert_eq "pending query state" "$(val "$A/queries/slow" state)" "pending"
assert_eq "pending json state" "$(val "$A/queries/slow.json" state)" "pending"
assert_eq "no provider yet" "$(xerr get "$A/queries/slow" user.deskfs.provider)" "ENODATA"
cat "$A/queries/slow" >/dev/null # waits for the answer
assert_eq "answered names" "$(names "$A/queries/slow")" "$QUERY_ATTRS"
assert_eq "answered by" "$(val "$A/queries/slow" provider) $(val "$A/queries/slow" model)" "oa m1"
assert_eq "state done" "$(val "$A/queries/slow.json" state)" "done"
lat=$(val "$A/queries/slow" latency_ms)
[ "$lat" -ge 2000 ] 2>/dev/null && [ "$lat" -lt 20000 ] && ok || fail "latency_ms [$lat] for a 2 s provider"
printf '{"providers":[{"name":"oa","api":"openai","endpoint":"%s/v1","model":"m1","retries":0}]}\n' "$FAKE" > "$T/cfg1"
cp "$T/cfg1" "$A/config" || fail "config without offline"
fake POST /_control '{"faults":["500"]}' >/dev/null
echo "the printer jams" > "$A/queries/nobody" && cat "$A/queries/nobody" >/dev/null
assert_eq "every provider failed" "$(val "$A/queries/nobody" state)" "failed: every provider failed"
assert_eq "answered by none" "$(val "$A/queries/nobody.json" provider) $(val "$A/queries/nobody.json" model)" "none none"

# --- nothing in the daemon log, and the attributes survive a remount
umount_fs
mount_fs
assert_eq "after a remount" "$(val "$A/tickets/vpn" hash) $(val "$A/queries/slow" provider)" "$new_hash oa"
umount_fs
check_log # here, not only in the EXIT trap, whose findings cannot change the exit status
finish
