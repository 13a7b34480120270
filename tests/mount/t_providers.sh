#!/usr/bin/env bash
# LLM providers behind query files, against the fake provider server
# (tests/fake_provider.py): TENANT/config validation and key masking; the
# exact requests of the four APIs and the answers they give; retries on
# 500 and 429 (Retry-After), failures that are not retried, timeouts,
# malformed and truncated bodies, dropped connections; fallback to the
# next provider and to the offline answerer; circuit breakers; pending
# opens that hold no thread; a query interrupted while waiting; answers
# stored (no provider call on re-read, tar or remount); a query pending
# when the daemon was killed is answered after the remount.
. "$(dirname "$0")/lib.sh"
fake_provider_start
mount_fs
mkdir "$M/acme"
printf 'Cannot log in\n\nI cannot log in since the 2.3 update. The page just reloads.\n' > "$M/acme/inbox/login.txt"
wait_jobs acme
Q="customers cannot log in"

# config NAME API [EXTRA JSON]: one provider on the fake server, then offline
config() {
	printf '{"providers":[{"name":"%s","api":"%s","endpoint":"%s","model":"m-%s","api_key":"sk-secret-42","retries":%s,"backoff_ms":10,"timeout_s":%s%s},{"name":"offline","api":"offline"}],"query_timeout_s":%s}\n' \
		"$1" "$2" "$FAKE$([ "$2" = openai ] && echo /v1)" "$2" "${RETRIES:-0}" "${TIMEOUT:-5}" "${EXTRA:-}" "${QTIMEOUT:-20}" > "$T/config.json"
	cp "$T/config.json" "$M/acme/config" || fail "config for $1 rejected"
}
# ask NAME: writes the question to queries/NAME and prints the answer file
ask() { echo "$Q" > "$M/acme/queries/$1" && cat "$M/acme/queries/$1"; }
# requests: the recorded requests as JSON lines (path, then body)
nreq() { fake GET /_requests | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
last_req() { fake GET /_requests | python3 -c 'import json,sys; r=json.load(sys.stdin)[-1]; print(json.dumps(r, sort_keys=True))'; }

# --- config: defaults, validation (EINVAL, status says why), masking
assert_contains "default config" "$(cat "$M/acme/config")" '"api": "offline"'
echo '{"providers": [' > "$T/bad"
assert_fails_with "bad JSON" "Invalid argument" cp "$T/bad" "$M/acme/config"
assert_contains "status says why" "$(cat "$M/acme/status")" "config: write rejected, the config is unchanged: not valid JSON"
echo '{"providers":[{"api":"openai","model":"m","colour":"red"}]}' > "$T/bad"
assert_fails_with "unknown key" "Invalid argument" cp "$T/bad" "$M/acme/config"
assert_contains "unknown key named" "$(cat "$M/acme/status")" "providers[0].unknown key 'colour'"
echo '{"k": 0}' > "$T/bad"
assert_fails_with "k out of range" "Invalid argument" cp "$T/bad" "$M/acme/config"
echo '{"providers":[{"api":"openai"}]}' > "$T/bad"
assert_fails_with "model required" "Invalid argument" cp "$T/bad" "$M/acme/config"
assert_contains "still the defaults" "$(cat "$M/acme/config")" '"api": "offline"'

config oa openai
cfg=$(cat "$M/acme/config")
assert_contains "key masked" "$cfg" '"api_key": "***"'
case "$cfg" in *sk-secret*) fail "key shown in config" ;; *) ok ;; esac
# a shell redirect of bad JSON (its first, empty flush included) keeps the config
echo '{bad' > "$M/acme/config"
assert_contains "redirect of bad JSON keeps the config" "$(cat "$M/acme/config")" '"name": "oa"'
printf '{"providers":[{"api":"openai","model":"m","api_key":"sk-secret-42\x01"}]}' > "$T/bad"
cp "$T/bad" "$M/acme/config" 2>/dev/null
case "$(cat "$M/acme/status")" in *sk-secret*) fail "key quoted in a JSON error" ;; *) ok ;; esac
# writing back what is shown keeps the stored key
cat "$M/acme/config" > "$T/shown" && cp "$T/shown" "$M/acme/config" && ok || fail "config round trip"

# --- OpenAI-compatible chat completions
fake POST /_reset >/dev/null
out=$(ask openai)
assert_contains "openai answer" "$out" "Answer (provider 'oa': openai model m-openai):
Fake answer from openai for m-openai: see [1]."
assert_contains "sources still listed" "$out" '[1] tickets/login/ticket.md  "Cannot log in"'
python3 - "$(last_req)" <<'PY' && ok || fail "openai request"
import json, sys
r = json.loads(sys.argv[1]); b = r["body"]
assert r["path"] == "/v1/chat/completions" or r["path"] == "/chat/completions", r["path"]
assert r["headers"]["authorization"] == "Bearer sk-secret-42", r["headers"]
assert r["headers"]["content-type"] == "application/json"
assert set(b) == {"model", "messages", "max_tokens", "temperature", "stream"}, b
assert b["model"] == "m-openai" and b["max_tokens"] == 512 and b["temperature"] == 0 and b["stream"] is False
assert [m["role"] for m in b["messages"]] == ["system", "user"]
assert "cite" in b["messages"][0]["content"].lower() and "do not answer" in b["messages"][0]["content"]
assert b["messages"][1]["content"] == ('Sources:\n\n[1] tickets/login/ticket.md "Cannot log in"\n'
    'Cannot log in\n\nI cannot log in since the 2.3 update. The page just reloads.\n\n'
    '[1] tickets/login/ticket.md "Cannot log in"\n'
    'Problem: Cannot log in: I cannot log in since the 2.3 update. The page just reloads.\n\n'
    'Question: customers cannot log in\n'), repr(b["messages"][1]["content"])
PY
json=$(cat "$M/acme/queries/openai.json")
assert_contains "json provider" "$json" '"provider": "oa"'
assert_contains "json model" "$json" '"model": "m-openai"'
assert_contains "json prompt tokens" "$json" '"prompt": '
case "$json" in *'"prompt": 0,'*) fail "prompt tokens not recorded" ;; *) ok ;; esac

# --- Ollama /api/chat
config ol ollama
out=$(ask ollama)
assert_contains "ollama answer" "$out" "Fake answer from ollama for m-ollama: see [1]."
python3 - "$(last_req)" <<'PY' && ok || fail "ollama request"
import json, sys
r = json.loads(sys.argv[1]); b = r["body"]
assert r["path"] == "/api/chat", r["path"]
assert set(b) == {"model", "messages", "stream", "options"}, b
assert b["stream"] is False and b["options"] == {"temperature": 0, "num_predict": 512}, b
assert b["messages"][1]["content"].endswith("Question: customers cannot log in\n")
PY

# --- Anthropic /v1/messages
config an anthropic
out=$(ask anthropic)
assert_contains "anthropic answer" "$out" "Fake answer from anthropic for m-anthropic: see [1]."
python3 - "$(last_req)" <<'PY' && ok || fail "anthropic request"
import json, sys
r = json.loads(sys.argv[1]); b = r["body"]; h = r["headers"]
assert r["path"] == "/v1/messages", r["path"]
assert h["x-api-key"] == "sk-secret-42" and h["anthropic-version"] == "2023-06-01", h
assert "authorization" not in h
assert set(b) == {"model", "max_tokens", "system", "messages", "temperature"}, b
assert b["messages"] == [{"role": "user", "content": b["messages"][0]["content"]}]
assert "cite" in b["system"].lower()
PY

# --- Gemini generateContent
config ge gemini
out=$(ask gemini)
assert_contains "gemini answer" "$out" "Fake answer from gemini for m-gemini: see [1]."
python3 - "$(last_req)" <<'PY' && ok || fail "gemini request"
import json, sys
r = json.loads(sys.argv[1]); b = r["body"]; h = r["headers"]
assert r["path"] == "/v1beta/models/m-gemini:generateContent", r["path"]
assert h["x-goog-api-key"] == "sk-secret-42" and "key=" not in r.get("query", ""), r
assert set(b) == {"systemInstruction", "contents", "generationConfig"}, b
assert b["contents"][0]["role"] == "user" and b["generationConfig"] == {"temperature": 0, "maxOutputTokens": 512}
PY

# --- times: the write's while pending, the answer's once answered
fake POST /_control '{"default": "slow:2.2"}' >/dev/null
echo "$Q" > "$M/acme/queries/timed"
w=$(stat -c %Y "$M/acme/queries/timed")
cat "$M/acme/queries/timed" >/dev/null
a=$(stat -c %Y "$M/acme/queries/timed")
[ "$a" -ge $((w + 2)) ] && ok || fail "answered query's mtime $a, written at $w"
assert_eq "NAME.json has the same time" "$(stat -c %Y "$M/acme/queries/timed.json")" "$a"
fake POST /_control '{"default": "ok"}' >/dev/null

# --- a question that is not UTF-8 is still answered
printf 'customers cannot log in \xe9t\xe9\n' > "$M/acme/queries/latin1"
assert_contains "latin-1 question answered" "$(cat "$M/acme/queries/latin1")" "Fake answer from gemini"

# --- retries: 500 then success; 429 honours Retry-After
RETRIES=2 config r1 openai
fake POST /_reset >/dev/null
fake POST /_control '{"faults": ["500"]}' >/dev/null
out=$(ask retry500)
assert_contains "retried after 500" "$out" "Fake answer from openai"
assert_eq "two requests" "$(nreq)" 2
assert_contains "attempts recorded" "$(cat "$M/acme/queries/retry500.json")" '"attempts": 2'
fake POST /_reset >/dev/null
fake POST /_control '{"faults": ["429:1"]}' >/dev/null
start=$(date +%s%N)
out=$(ask retry429)
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
assert_contains "answered after 429" "$out" "Fake answer from openai"
[ "$elapsed_ms" -ge 1000 ] && ok || fail "Retry-After: 1 not honoured (answered in $elapsed_ms ms)"

# --- failures, each named in the answer file, then the offline fallback
check_failure() { # NAME FAULT WANT [REQUESTS]
	fake POST /_reset >/dev/null
	fake POST /_control "{\"default\": \"$2\"}" >/dev/null
	out=$(ask "$1")
	fake POST /_control '{"default": "ok"}' >/dev/null
	assert_contains "$1: reason" "$out" "provider '$PROV' ($API, model m-$API) failed: $3"
	assert_contains "$1: offline fallback" "$out" "Answer (offline extractive answerer"
	assert_contains "$1: sources listed" "$out" '[1] tickets/login/ticket.md'
	[ -z "${4:-}" ] || assert_eq "$1: requests" "$(nreq)" "$4"
}
PROV=f1 API=openai
EXTRA=",\"breaker_failures\":100" RETRIES=2 config f1 openai
check_failure fail500 500 "HTTP 500 Internal Server Error: " 3
assert_contains "after 3 attempts" "$out" "after 3 attempts"
check_failure fail401 401 "HTTP 401 Unauthorized" 1
check_failure badjson bad_json "malformed JSON in the response"
check_failure truncated truncated "response truncated"
# (libcurl itself resends once a request dropped on a reused connection)
check_failure dropped drop "connection closed with no response"
check_failure empty empty "the response has no answer text"
PROV=f2
RETRIES=0 TIMEOUT=0.5 config f2 openai
check_failure slow slow:3 "timeout after 0.5 s after 1 attempt" 1

# --- every provider failing: no answer, the sources all the same
fake POST /_reset >/dev/null
printf '{"providers":[{"name":"only","api":"openai","endpoint":"%s","model":"m","retries":0}]}\n' "$FAKE" > "$T/c" && cp "$T/c" "$M/acme/config"
fake POST /_control '{"faults": ["503"]}' >/dev/null
out=$(ask allfail)
assert_contains "no answer" "$out" "No answer: every provider failed"
assert_contains "no answer: sources" "$out" '[1] tickets/login/ticket.md'
assert_contains "no answer: json error" "$(cat "$M/acme/queries/allfail.json")" '"error": "every provider failed"'

# --- circuit breaker: open after 2 failed calls, then no request at all
EXTRA=',"breaker_failures":2,"cooldown_s":60' RETRIES=0 config br openai
fake POST /_reset >/dev/null
fake POST /_control '{"default": "500"}' >/dev/null
ask br1 >/dev/null; ask br2 >/dev/null
assert_eq "two failed calls" "$(nreq)" 2
out=$(ask br3)
assert_contains "breaker open" "$out" "provider 'br' (openai, model m-openai) failed: circuit open after 2 failed calls"
assert_eq "no request while open" "$(nreq)" 2
fake POST /_reset >/dev/null

# --- the query deadline bounds a slow provider (query_timeout_s)
QTIMEOUT=1 TIMEOUT=30 config qt openai
fake POST /_control '{"faults": ["slow:10"]}' >/dev/null
out=$(ask deadline)
assert_contains "deadline" "$out" "provider 'qt' (openai, model m-openai) failed: timeout: the query timeout ran out after"

# --- pending opens hold no thread: 4 slow queries x 8 readers = 32 waiting
# opens (more than the 16 FUSE threads) while listing, status and ingestion
# still work
TIMEOUT=30 config slow openai
fake POST /_reset >/dev/null
fake POST /_control '{"default": "slow:3"}' >/dev/null
for i in 1 2 3 4; do echo "$Q $i" > "$M/acme/queries/p$i"; done
readers=()
for i in 1 2 3 4; do for r in 1 2 3 4 5 6 7 8; do
	cat "$M/acme/queries/p$i" > "$T/p$i.$r" &
	readers+=($!)
done; done
sleep 0.3
assert_eq "list while pending" "$(ls "$M/acme/queries" | grep -c '^p[0-9]$')" 4
assert_contains "status while pending" "$(cat "$M/acme/status")" "tenant: acme"
printf 'Printer jams\n\nThe printer jams on tray 2.\n' > "$M/acme/inbox/printer.txt"
assert_eq "ingest while pending" "$(ls "$M/acme/tickets" | grep -c printer)" 1
waiting=$(for f in "$T"/p?.?; do [ -s "$f" ] || echo x; done | wc -l)
assert_eq "readers still waiting meanwhile" "$waiting" 32
wait "${readers[@]}"
fake POST /_control '{"default": "ok"}' >/dev/null
for i in 1 2 3 4; do
	assert_eq "p$i: the 8 readers got the same answer" "$(cat "$T"/p$i.? | grep -c 'Fake answer from openai')" 8
done

# --- a reader interrupted while it waits gets EINTR and the mount stays usable
fake POST /_control '{"faults": ["slow:3"]}' >/dev/null
echo "$Q" > "$M/acme/queries/intr"
timeout -s INT 0.5 cat "$M/acme/queries/intr" >/dev/null 2>&1
assert_eq "interrupted cat" "$?" 124
assert_contains "answer after the interruption" "$(cat "$M/acme/queries/intr")" "Fake answer from openai"

# --- stored: re-reading, tar and a remount make no provider call
fake POST /_reset >/dev/null
cat "$M/acme/queries/"* >/dev/null
tar -cf /dev/null -C "$M" acme
umount_fs; mount_fs
cat "$M/acme/queries/openai" "$M/acme/queries/p1.json" >/dev/null
assert_eq "no provider call after the answers" "$(nreq)" 0

# --- killed while a query is pending: answered after the remount
fake POST /_reset >/dev/null
fake POST /_control '{"faults": ["slow:30"]}' >/dev/null
echo "$Q" > "$M/acme/queries/crash"
for _ in $(seq 200); do [ "$(nreq)" = 1 ] && break; sleep 0.05; done
assert_eq "the provider was called before the kill" "$(nreq)" 1
kill -9 "$(head -1 "$DB.lock")"
umount_fs
mount_fs
assert_contains "answered after the crash" "$(cat "$M/acme/queries/crash")" "Fake answer from openai"

# --- truncating the config restores the defaults
: > "$M/acme/config"
# (an emptied file is saved at the last close, which the kernel sends after close returns)
for _ in $(seq 100); do grep -q '"name": "offline"' "$M/acme/config" && break; sleep 0.05; done
assert_contains "truncated config: defaults" "$(cat "$M/acme/config")" '"name": "offline"'

# --- keys never appear in any file of the mount or the log
if grep -r -l "sk-secret-42" "$M" "$DB.log" 2>/dev/null; then fail "key leaked"; else ok; fi
finish
