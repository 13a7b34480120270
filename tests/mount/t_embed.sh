#!/usr/bin/env bash
# HTTP embedders, against the fake provider server: TENANT/config
# "embedder"; passages embedded in the background in batches (exact
# request bodies); the question embedded by the same model and vector
# search using those vectors; new tickets embedded after ingest; a
# failing embedder (status says why, queries fall back to BM25 and say
# so); a change of model re-embeds everything; vectors survive a remount
# without a request; the key never shows. Each ticket has two passages:
# its message and, once its summary job ran, its summary.
. "$(dirname "$0")/lib.sh"
fake_provider_start
mount_fs
mkdir "$M/acme"
A="The VPN client drops the tunnel every hour on Windows laptops."
B="Printer on floor three prints blank pages after the driver update."
C="Refund for a duplicated invoice was issued to the customer card."
# one line each: the passage text is the line
for x in A B C; do printf '%s\n' "${!x}" > "$M/acme/inbox/${x,}.txt"; done
[ "$(ls "$M/acme/tickets" | wc -l)" = 3 ] && ok || fail "3 tickets ingested"
wait_jobs acme
assert_contains "offline embedder by default" "$(cat "$M/acme/status")" "embedder: deskfs-hash-v1"

# embeds: the texts sent to the embeddings endpoint PATH, one per line
# (their newlines as "|"), sorted
embeds() {
	fake GET /_requests | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    if r["path"] == sys.argv[1]:
        i = r["body"]["input"]
        for t in (i if isinstance(i, list) else [i]):
            print(t.replace("\n", "|"))' "$1" | sort
}
# wait_embedded MODEL N: status shows N of N passages embedded with MODEL
wait_embedded() {
	local want="embedder: $1 ($2 of $2 passages embedded)"
	for _ in $(seq 200); do
		case "$(cat "$M/acme/status")" in *"$want"*) ok; return ;; esac
		sleep 0.05
	done
	fail "status never showed [$want]: $(grep embedder "$M/acme/status")"
}
search() { # search RETRIEVER QUESTION: the answer of a search-only query
	printf 'mode: search\nretriever: %s\n\n%s\n' "$1" "$2" > "$M/acme/queries/s" && cat "$M/acme/queries/s"
}

# --- an OpenAI-compatible embedder: every passage embedded in batches of 2
printf '{"embedder":{"name":"emb","api":"openai","endpoint":"%s/v1","model":"e-1","api_key":"sk-embed-7","batch":2,"retries":0,"backoff_ms":10}}\n' "$FAKE" > "$T/c1"
cp "$T/c1" "$M/acme/config" || fail "embedder config rejected"
cfg=$(cat "$M/acme/config")
assert_contains "embedder shown" "$cfg" '"model": "e-1"'
assert_contains "embedder key masked" "$cfg" '"api_key": "***"'
wait_embedded openai:e-1 6
got=$(embeds /v1/embeddings)
assert_eq "six texts sent" "$(wc -l <<<"$got")" "6"
assert_eq "none twice" "$(uniq -d <<<"$got")" ""
for x in A B C; do
	assert_eq "message $x sent once" "$(grep -cxF "${!x}" <<<"$got")" "1"
	assert_eq "summary of $x sent once" "$(grep -cF "Problem: ${!x}" <<<"$got")" "1"
done
batches=$(fake GET /_requests | python3 -c 'import json,sys; print(" ".join(str(len(r["body"]["input"])) for r in json.load(sys.stdin)))')
assert_eq "batches of at most 2" "$batches" "2 2 2"
hdr=$(fake GET /_requests | python3 -c 'import json,sys; r=json.load(sys.stdin)[0]; print(r["body"]["model"], r["headers"]["authorization"])')
assert_eq "model and key sent" "$hdr" "e-1 Bearer sk-embed-7"

# the question goes to the same model; an exact text is the nearest vector
fake POST /_reset >/dev/null
out=$(search vector "$B")
assert_contains "vector search finds B first" "$out" '[1] tickets/b/ticket.md'
assert_eq "question embedded by e-1" "$(embeds /v1/embeddings)" "$B"
vec=$(python3 -c 'import json,sys; print("%.2f" % json.load(open(sys.argv[1]))["sources"][0]["vector"]["score"])' "$M/acme/queries/s.json")
assert_eq "cosine of identical texts (int8 rounding)" "$vec" "1.00"

# --- a new ticket is embedded after ingest, not inside it
fake POST /_reset >/dev/null
D="Outlook asks for the password again after every restart."
printf '%s\n' "$D" > "$M/acme/inbox/d.txt"
wait_jobs acme
wait_embedded openai:e-1 8
got=$(embeds /v1/embeddings)
assert_eq "only the new passages sent" "$(grep -cxF "$D" <<<"$got") $(grep -cF "Problem: $D" <<<"$got") $(wc -l <<<"$got")" "1 1 2"

# --- a failing embedder: status says why; queries use BM25 and say so
fake POST /_reset >/dev/null
fake POST /_control '{"default": "500"}' >/dev/null
printf 'Wifi drops in the meeting room.\n' > "$M/acme/inbox/e.txt"
wait_jobs acme
for _ in $(seq 100); do grep -q "embedder error" "$M/acme/status" && break; sleep 0.05; done
st=$(cat "$M/acme/status")
assert_contains "status: 8 of 10" "$st" "embedder: openai:e-1 (8 of 10 passages embedded, the rest in the background)"
assert_contains "status: why" "$st" "embedder 'emb' (openai, model e-1) failed: HTTP 500 Internal Server Error"
out=$(search hybrid "wifi meeting room")
assert_contains "query says vectors were skipped" "$out" "Vector search skipped: embedder 'emb' (openai, model e-1) failed: HTTP 500"
assert_contains "BM25 still finds E" "$out" '[1] tickets/e/ticket.md'
fake POST /_control '{"default": "ok"}' >/dev/null

# --- a change of model re-embeds every passage (ollama's /api/embed)
fake POST /_reset >/dev/null
printf '{"embedder":{"name":"emb","api":"ollama","endpoint":"%s","model":"e-2","batch":64}}\n' "$FAKE" > "$T/c2"
cp "$T/c2" "$M/acme/config" || fail "second embedder config rejected"
wait_embedded ollama:e-2 10
assert_eq "all 10 passages re-embedded by e-2" "$(embeds /api/embed | wc -l)" 10
out=$(search vector "$D")
assert_contains "vectors of the new model used" "$out" '[1] tickets/d/ticket.md'

# --- stored vectors survive a remount: no embedding request until a query
umount_fs
fake POST /_reset >/dev/null
mount_fs
ls -R "$M/acme" >/dev/null
cat "$M/acme/status" >/dev/null
sleep 0.5
assert_eq "no request after remount" "$(embeds /api/embed | wc -l)" 0
assert_contains "still all embedded" "$(cat "$M/acme/status")" "embedder: ollama:e-2 (10 of 10 passages embedded)"

# --- back to the built-in embedder: re-embedded offline, no request
fake POST /_reset >/dev/null
echo '{"embedder":{"api":"offline"}}' > "$M/acme/config"
wait_embedded deskfs-hash-v1 10
out=$(search vector "VPN tunnel drops")
assert_contains "offline vectors again" "$out" '[1] tickets/a/ticket.md'
assert_eq "no request for offline vectors" "$(fake GET /_requests | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 0

# --- bad embedder configs
echo '{"embedder":{"api":"gemini","model":"m"}}' > "$T/bad"
assert_fails_with "gemini cannot embed" "Invalid argument" cp "$T/bad" "$M/acme/config"
assert_contains "status says why" "$(cat "$M/acme/status")" "embedder.api: must be one of openai, ollama, offline"
if grep -rq "sk-embed-7" "$M" "$DB.log" 2>/dev/null; then fail "embedder key leaked"; else ok; fi
finish
