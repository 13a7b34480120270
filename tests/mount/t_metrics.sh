#!/usr/bin/env bash
# MOUNT/.deskfs/metrics: the directory and its errno; the exact figures
# after ingesting files (store counters, which survive a remount) and
# after queries through the fake provider (a 500 then success: retries
# counted per request; two 503s: one failed call; search and invalid
# queries); the whole file parsed by a strict reader of the Prometheus
# text format 0.0.4 (and promtool when installed); a read in chunks is one
# snapshot; stat gives the size of a fresh rendering; no key or endpoint
# in it; the node_exporter textfile recipe of docs/filesystem.md.
. "$(dirname "$0")/lib.sh"
fake_provider_start
mount_fs
D=$M/.deskfs
F=$D/metrics

# prom FILE [SELECTOR...]: parses FILE strictly (exit 1 naming the first
# problem); prints each selector's value, or "absent"
cat > "$T/prom.py" <<'PY'
import math, re, sys

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')
LABEL = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*')
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}

def die(msg, n=0):
    sys.exit("line %d: %s" % (n, msg) if n else msg)

def labels(s, i, n):
    """Parses {a="x",...} at s[i]; returns (dict, index after '}')."""
    out = {}
    i += 1
    while s[i] != '}':
        m = LABEL.match(s, i)
        if not m or s[m.end():m.end() + 2] != '="':
            die("bad label at %r" % s[i:], n)
        name, i, val = m.group(), m.end() + 2, ""
        while s[i] != '"':
            if s[i] == '\\':
                esc = {'\\': '\\', '"': '"', 'n': '\n'}.get(s[i + 1])
                if esc is None:
                    die("bad escape in a label value", n)
                val, i = val + esc, i + 2
            else:
                val, i = val + s[i], i + 1
        if name in out:
            die("label %s twice" % name, n)
        out[name] = val
        i += 1
        if s[i] == ',':
            i += 1
        elif s[i] != '}':
            die("expected , or }", n)
    return out, i + 1

def value(v, n):
    if v in ("+Inf", "-Inf", "NaN"):
        return float(v.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r'[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?', v):
        die("bad value %r" % v, n)
    return float(v)

def parse(text):
    if not text.endswith("\n"):
        die("no final line feed")
    fams, samples, order, closed, cur = {}, {}, [], set(), None
    hist = {}
    def enter(f, n):
        nonlocal cur
        if cur != f:
            if cur is not None:
                closed.add(cur)
            if f in closed:
                die("lines of %s are not one group" % f, n)
            cur = f
    for n, line in enumerate(text[:-1].split("\n"), 1):
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) < 3 or parts[1] not in ("HELP", "TYPE"):
                continue
            kind, name = parts[1], parts[2]
            if not NAME.fullmatch(name):
                die("bad name %r" % name, n)
            f = fams.setdefault(name, {})
            enter(name, n)
            if kind in f:
                die("two %s lines for %s" % (kind, name), n)
            if kind == "TYPE":
                if f.get("samples"):
                    die("TYPE after samples of " + name, n)
                if len(parts) != 4 or parts[3] not in TYPES:
                    die("bad TYPE line", n)
                f["TYPE"] = parts[3]
            else:
                help_ = parts[3] if len(parts) == 4 else ""
                if re.search(r'\\[^\\n]', help_.replace("\\\\", "")):
                    die("bad escape in HELP", n)
                f["HELP"] = help_
            continue
        m = NAME.match(line)
        if not m:
            die("bad sample line", n)
        name, i, lab = m.group(), m.end(), {}
        if i < len(line) and line[i] == '{':
            lab, i = labels(line, i, n)
        rest = line[i:]
        if not rest.startswith(" ") or len(rest.split()) != 1:
            die("bad value part %r" % rest, n)
        v = value(rest[1:], n)
        fam, suffix = name, ""
        if name not in fams:
            for sfx in ("_bucket", "_sum", "_count"):
                if name.endswith(sfx) and fams.get(name[:-len(sfx)], {}).get("TYPE") == "histogram":
                    fam, suffix = name[:-len(sfx)], sfx
        f = fams.get(fam)
        if not f or "TYPE" not in f or "HELP" not in f:
            die("sample %s without HELP and TYPE first" % name, n)
        if f["TYPE"] == "histogram" and not suffix:
            die("histogram sample without suffix", n)
        enter(fam, n)
        f["samples"] = True
        key = (name, tuple(sorted(lab.items())))
        if key in samples:
            die("duplicate sample " + line, n)
        samples[key] = v
        if f["TYPE"] == "counter" and not (v >= 0):
            die("negative counter", n)
        if suffix:
            base = tuple(sorted((k, x) for k, x in lab.items() if k != "le"))
            h = hist.setdefault((fam, base), {"le": [], "inf": None, "count": None})
            if suffix == "_bucket":
                le = value(lab.get("le", "x"), n)
                if h["inf"] is not None or (h["le"] and (le <= h["le"][-1][0] or v < h["le"][-1][1])):
                    die("buckets not increasing or not cumulative", n)
                h["le"].append((le, v))
                if math.isinf(le):
                    h["inf"] = v
            elif suffix == "_count":
                h["count"] = v
    for (fam, base), h in hist.items():
        if h["inf"] is None or h["count"] != h["inf"]:
            die("%s%s: no +Inf bucket or _count differs from it" % (fam, dict(base)))
    return samples

samples = parse(open(sys.argv[1], encoding="utf-8").read())
for sel in sys.argv[2:]:
    m = NAME.match(sel)
    lab = labels(sel, m.end(), 0)[0] if m.end() < len(sel) else {}
    v = samples.get((m.group(), tuple(sorted(lab.items()))))
    print("absent" if v is None else ("%d" % v if v == int(v) else repr(v)))
PY
prom() { python3 "$T/prom.py" "$@"; }
# m SELECTOR...: the values in a fresh copy of the metrics file
m() { cp "$F" "$T/now.prom" && prom "$T/now.prom" "$@"; }
valid() { # WHAT FILE
	local why
	if why=$(prom "$2" 2>&1); then ok; else fail "$1: not valid: $why"; fi
}

# --- the directory
assert_eq "ls hides .deskfs" "$(ls "$M")" "README"
assert_contains "ls -a shows .deskfs" "$(ls -a "$M" | tr '\n' ' ')" " .deskfs "
assert_eq ".deskfs mode and owner" "$(stat -c '%F %a %u %g' "$D")" "directory 700 $(stat -c '%u %g' "$M")"
assert_eq "metrics mode" "$(stat -c '%F %a' "$F")" "regular file 400"
assert_eq ".deskfs listing" "$(ls -A "$D")" "metrics"
assert_fails_with "create in .deskfs" "Permission denied" touch "$D/x"
assert_fails_with "write metrics" "Permission denied" sh -c "echo x > '$F'"
assert_fails_with "truncate metrics" "Permission denied" truncate -s 0 "$F"
assert_fails_with "mkdir in .deskfs" "Operation not permitted" mkdir "$D/d"
assert_fails_with "rm metrics" "Operation not permitted" rm -f "$F"
assert_fails_with "mv metrics" "Operation not permitted" mv "$F" "$D/m2"
assert_fails_with "chmod metrics" "Operation not permitted" chmod 600 "$F"
assert_fails_with "rmdir .deskfs" "Operation not permitted" rmdir "$D"
assert_fails_with "mkdir .deskfs" "File exists" mkdir "$D"
assert_fails_with "rm -r .deskfs" "Operation not permitted" rm -rf "$D"
assert_fails_with "no other name" "No such file" cat "$D/nope"

# --- a fresh mount: valid, the families there, no provider samples yet
cp "$F" "$T/m0.prom"
valid "fresh" "$T/m0.prom"
assert_eq "fresh figures" "$(prom "$T/m0.prom" 'deskfs_tenants' \
	'deskfs_provider_requests_total{provider="fk",api="openai",call="chat",outcome="ok"}' \
	'deskfs_metrics_dropped_total' 'deskfs_build_info{version="0.1.0"}' | tr '\n' ' ')" "0 absent 0 1 "
for fam in deskfs_tenants deskfs_documents deskfs_inbox_files deskfs_files_total \
	deskfs_documents_ingested_total deskfs_records_rejected_total deskfs_documents_deleted_total \
	deskfs_queries_total deskfs_provider_requests_total deskfs_provider_errors_total \
	deskfs_provider_latency_seconds deskfs_query_latency_seconds \
	deskfs_metrics_collector_errors_total deskfs_metrics_dropped_total; do
	assert_eq "one TYPE for $fam" "$(grep -c "^# TYPE $fam " "$T/m0.prom")" 1
done

# --- ingestion: the store's counters
mkdir "$M/acme"
printf 'Cannot log in\n\nI cannot log in since the 2.3 update. The page just reloads.\n' > "$T/login.txt"
cp "$T/login.txt" "$M/acme/inbox/"                         # 1 created
cp "$T/login.txt" "$M/acme/inbox/"                         # 1 unchanged
cp "$FIX/zendesk/tickets.ndjson" "$M/acme/inbox/"          # 2 created, 1 record rejected, stays
printf '{"id": 1, "subject": ' > "$T/broken.json"
cp "$T/broken.json" "$M/acme/inbox/"                       # rejected (1 record), stays
assert_eq "ingestion figures" "$(m 'deskfs_tenants' \
	'deskfs_files_total{tenant="acme",outcome="ingested"}' \
	'deskfs_files_total{tenant="acme",outcome="rejected"}' \
	'deskfs_documents_ingested_total{tenant="acme",result="created"}' \
	'deskfs_documents_ingested_total{tenant="acme",result="updated"}' \
	'deskfs_documents_ingested_total{tenant="acme",result="unchanged"}' \
	'deskfs_records_rejected_total{tenant="acme"}' \
	'deskfs_documents{tenant="acme",kind="ticket"}' \
	'deskfs_documents{tenant="acme",kind="article"}' \
	'deskfs_inbox_files{tenant="acme",area="inbox"}' | tr '\n' ' ')" "1 3 1 3 0 1 2 3 0 2 "

# --- queries through the fake provider
printf '{"providers":[{"name":"fk","api":"openai","endpoint":"%s/v1","model":"m","api_key":"sk-secret-42","retries":1,"backoff_ms":10,"timeout_s":5},{"name":"offline","api":"offline"}]}\n' "$FAKE" > "$T/config.json"
cp "$T/config.json" "$M/acme/config" || fail "config rejected"
Q="customers cannot log in"
fake POST /_reset >/dev/null
fake POST /_control '{"faults": ["500"]}' >/dev/null
echo "$Q" > "$M/acme/queries/q1"
assert_contains "q1: answered after a 500" "$(cat "$M/acme/queries/q1")" "Fake answer from openai"
fake POST /_control '{"faults": ["503", "503"]}' >/dev/null
echo "$Q" > "$M/acme/queries/q2"
assert_contains "q2: the offline answerer after two 503s" "$(cat "$M/acme/queries/q2")" \
	"Answer (offline extractive answerer"
printf 'mode: search\n\n%s\n' "$Q" > "$M/acme/queries/q3"
assert_contains "q3: search" "$(cat "$M/acme/queries/q3")" "Sources ("
printf 'colour: red\n%s\n' "$Q" > "$M/acme/queries/q4"
assert_contains "q4: not run" "$(cat "$M/acme/queries/q4")" "This query was not run"
assert_eq "requests the fake server saw" \
	"$(fake GET /_requests | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 4
L='provider="fk",api="openai",call="chat"'
assert_eq "provider and query figures" "$(m \
	"deskfs_provider_requests_total{$L,outcome=\"ok\"}" \
	"deskfs_provider_requests_total{$L,outcome=\"5xx\"}" \
	"deskfs_provider_errors_total{$L,reason=\"5xx\"}" \
	"deskfs_provider_latency_seconds_count{$L}" \
	"deskfs_provider_latency_seconds_bucket{$L,le=\"+Inf\"}" \
	'deskfs_query_latency_seconds_count{mode="answer"}' \
	'deskfs_query_latency_seconds_count{mode="search"}' \
	'deskfs_query_latency_seconds_count{mode="invalid"}' \
	'deskfs_queries_total{tenant="acme"}' \
	'deskfs_inbox_files{tenant="acme",area="queries"}' | tr '\n' ' ')" "1 3 1 4 4 2 1 1 4 4 "
assert_eq "only these provider series" "$(grep -c '^deskfs_provider_\(requests\|errors\)_total{' "$T/now.prom")" 3
assert_eq "no embedding calls (offline embedder)" "$(grep -c 'call="embed"' "$T/now.prom")" 0
# latency: each request took some time, and the sum of a query is at least its provider's
sum=$(prom "$T/now.prom" "deskfs_provider_latency_seconds_sum{$L}")
python3 -c "import sys; sys.exit(not 0 < float('$sum') < 60)" && ok || fail "provider latency sum $sum"
case "$(cat "$T/now.prom")" in *sk-secret*|*127.0.0.1*|*"$FAKE"*) fail "a key or an endpoint in the metrics" ;; *) ok ;; esac
valid "after queries" "$T/now.prom"

# --- stat: the size of a fresh rendering (nothing changes meanwhile)
assert_eq "stat size" "$(stat -c %s "$F")" "$(cat "$F" | wc -c)"

# --- one open is one snapshot: read in small chunks while a file is ingested
printf 'Printer jams\n\nThe printer jams on tray 2.\n' > "$T/printer.txt"
python3 - "$F" "$T/printer.txt" "$M/acme/inbox/printer.txt" "$T/chunks.prom" <<'PY' && ok || fail "snapshot per open"
import shutil, sys
with open(sys.argv[1], "rb", buffering=0) as f:
    data = f.read(100)
    shutil.copyfile(sys.argv[2], sys.argv[3])  # ingested at close: the counters move
    while True:
        b = f.read(100)
        if not b:
            break
        data += b
open(sys.argv[4], "wb").write(data)
PY
valid "chunked read" "$T/chunks.prom"
assert_eq "the snapshot is from the open" \
	"$(prom "$T/chunks.prom" 'deskfs_files_total{tenant="acme",outcome="ingested"}')" 3
assert_eq "a new open sees the ingest" "$(m 'deskfs_files_total{tenant="acme",outcome="ingested"}')" 4

# --- the node_exporter textfile recipe (docs/filesystem.md)
mkdir -p "$T/textfile"
cp "$F" "$T/textfile/deskfs.prom.$$" && mv "$T/textfile/deskfs.prom.$$" "$T/textfile/deskfs.prom" &&
	ok || fail "textfile recipe"
valid "textfile copy" "$T/textfile/deskfs.prom"
if command -v promtool >/dev/null; then
	out=$(promtool check metrics < "$T/textfile/deskfs.prom" 2>&1) && ok || fail "promtool: $out"
else
	echo "promtool not installed: its check is skipped" >&2
fi

# --- a remount: the store's figures stay, the in-memory ones start again
umount_fs
mount_fs
assert_eq "after a remount" "$(m 'deskfs_files_total{tenant="acme",outcome="ingested"}' \
	'deskfs_documents_ingested_total{tenant="acme",result="created"}' \
	'deskfs_queries_total{tenant="acme"}' \
	"deskfs_provider_requests_total{$L,outcome=\"ok\"}" \
	'deskfs_query_latency_seconds_count{mode="answer"}' | tr '\n' ' ')" "4 4 4 absent absent "
valid "after a remount" "$T/now.prom"

finish
