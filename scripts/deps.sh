#!/usr/bin/env bash
# Installs the Debian packages deskfs needs to build, run and test, when
# any is missing. Sourced by scripts/run and scripts/test.
deskfs_deps() {
	local pkgs="build-essential cmake pkg-config libfuse3-dev fuse3 libsqlite3-dev
		libcurl4-openssl-dev libjansson-dev libxxhash-dev rsync vim tar findutils sqlite3 procps bc
		attr xxhash passwd util-linux strace
		curl python3"
	local missing=()
	for p in $pkgs; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "deskfs: installing ${missing[*]}" >&2
	local sudo=""
	[ "$(id -u)" -ne 0 ] && sudo="sudo"
	$sudo apt-get update -qq >/dev/null &&
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}
