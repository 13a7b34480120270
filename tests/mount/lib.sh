# tests/mount/lib.sh - shared by the real-mount tests (t_*.sh).
# Mounts deskfs in a temporary directory, offers assertions that name what
# differed, unmounts in a trap and fails when the daemon log shows a crash
# or a sanitizer report. Exit 77 (skip) without /dev/fuse, except in CI.
set -uo pipefail

BIN=${DESKFS_BIN:?DESKFS_BIN must point at the deskfs binary}
FIX=${DESKFS_FIXTURES:?DESKFS_FIXTURES must point at tests/fixtures}
SHARED=${DESKFS_SHARED:-}
fails=0
passes=0

if [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
	if [ "${CI:-}" = "true" ]; then
		echo "FAIL: /dev/fuse or fusermount3 missing in CI" >&2
		exit 1
	fi
	echo "SKIP: /dev/fuse or fusermount3 missing" >&2
	exit 77
fi

T=$(mktemp -d /tmp/deskfs-test.XXXXXX)
M=$T/mnt
DB=$T/store.db
mkdir -p "$M"

mount_fs() {
	"$BIN" mount --db "$DB" "$@" "$M" || { echo "FAIL: mount failed" >&2; exit 1; }
}

umount_fs() {
	"$BIN" umount "$M" 2>/dev/null || fusermount3 -u -z "$M" 2>/dev/null || true
}

check_log() {
	if [ -f "$DB.log" ] && grep -E "AddressSanitizer|runtime error|LeakSanitizer|Segmentation" "$DB.log" >/dev/null; then
		echo "FAIL: daemon log shows errors:" >&2
		cat "$DB.log" >&2
		fails=$((fails + 1))
	fi
}

FAKE_PID=
# A sanitizer report or crash in the log found here (after finish) fails
# the test too: the trap's exit status replaces the script's.
cleanup() {
	umount_fs
	check_log
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
	rm -rf "$T"
	[ $fails -eq 0 ] || exit 1
}
trap cleanup EXIT

ok() { passes=$((passes + 1)); }
fail() { fails=$((fails + 1)); echo "FAIL: $*" >&2; }

# assert_eq WHAT GOT WANT
assert_eq() {
	if [ "$2" == "$3" ]; then ok; else fail "$1: got [$2], want [$3]"; fi
}

# assert_contains WHAT HAYSTACK NEEDLE
assert_contains() {
	case "$2" in *"$3"*) ok ;; *) fail "$1: [$3] not in [$2]" ;; esac
}

# fake_provider_start: the fake LLM server (tests/fake_provider.py) on
# 127.0.0.1; sets FAKE (its base URL). fake GET|POST PATH [JSON] talks to it.
fake_provider_start() {
	python3 "$(dirname "$0")/../fake_provider.py" --port-file "$T/fake.port" \
		--log "$T/fake.log" &
	FAKE_PID=$!
	for _ in $(seq 200); do [ -s "$T/fake.port" ] && break; sleep 0.05; done
	[ -s "$T/fake.port" ] || { echo "FAIL: fake provider did not start" >&2; exit 1; }
	FAKE=http://127.0.0.1:$(cat "$T/fake.port")
}
fake() {
	local body=${3:-'{}'}
	if [ "$1" = GET ]; then curl -sS "$FAKE$2"; else curl -sS -X POST --data "$body" "$FAKE$2"; fi
}

# assert_fails_with WHAT "errno text" command...: the command must fail and
# say the errno text (e.g. "Permission denied")
assert_fails_with() {
	local what=$1 want=$2 out
	shift 2
	if out=$("$@" 2>&1); then
		fail "$what: succeeded, want failure '$want'"
	else
		case "$out" in *"$want"*) ok ;; *) fail "$what: got [$out], want '$want'" ;; esac
	fi
}

# wait_jobs TENANT: until the tenant's background jobs are done (20 s at most)
wait_jobs() {
	for _ in $(seq 200); do
		case "$(cat "$M/$1/status")" in *"jobs: 0 queued, 0 running"*) return 0 ;; esac
		sleep 0.1
	done
	fail "jobs of $1 never done: $(grep '^jobs' "$M/$1/status")"
}

# wait_gone PATH: the daemon ingests at close(); nothing to wait for, but
# keep callers honest that the path is really gone.
finish() {
	echo "$passes passed, $fails failed"
	[ $fails -eq 0 ]
}

# mount_more DB MOUNTPOINT: a further mount of another store (a restore, a
# backup copy), unmounted and its log checked at exit as for the first;
# umount_more MOUNTPOINT unmounts it earlier.
MORE_MOUNTS=()
mount_more() {
	mkdir -p "$2"
	"$BIN" mount --db "$1" "$2" || { echo "FAIL: mount of $1 on $2 failed" >&2; exit 1; }
	MORE_MOUNTS+=("$2" "$1")
	trap 'cleanup_more; cleanup' EXIT
}
umount_more() {
	"$BIN" umount "$1" 2>/dev/null || fusermount3 -u -z "$1" 2>/dev/null || true
}
cleanup_more() {
	local i
	for ((i = 0; i < ${#MORE_MOUNTS[@]}; i += 2)); do
		umount_more "${MORE_MOUNTS[i]}"
		DB=${MORE_MOUNTS[i + 1]} check_log
	done
}

# known_bug WHAT GOT WANT: an assertion that fails today because of a
# reported bug: a mismatch is reported as KNOWN BUG and not counted; a
# match says the bug looks fixed (make it an assert_eq). As git's
# test_expect_failure, neither outcome fails the test.
known_bug() {
	if [ "$2" == "$3" ]; then
		echo "FIXED? known bug no longer seen, make it an assert_eq: $1" >&2
	else
		echo "KNOWN BUG: $1: got [$2], want [$3]" >&2
	fi
}
