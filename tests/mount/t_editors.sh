#!/usr/bin/env bash
# Editors and scripted edits on knowledge-base articles, TENANT/config and
# query files. For articles: sed -i (a
# temporary "sedXXXXXX" renamed over the file), vim -es (its probe file,
# swap file and backup), write-then-rename, an emacs-style backup rename,
# backup copies left beside, renaming and removing articles. Each edit
# takes effect once (re-indexed: queries see the new text), and leaves no
# stray file and nothing rejected.
. "$(dirname "$0")/lib.sh"
mount_fs
mkdir "$M/acme"
K=$M/acme/kb
printf '# Reset a password\n\nOpen the login page and press Forgot password.\n' > "$K/reset.md"
printf '# VPN setup\n\nInstall the client and import the profile.\n' > "$K/vpn.md"

# search WORDS: the first source of a search-only query
search() {
	printf 'mode: search\nk: 1\nsources: kb\n\n%s\n' "$1" > "$M/acme/queries/s"
	grep -o '^\[1\] [^ ]*' "$M/acme/queries/s" | cut -d' ' -f2
}
# clean: only the articles are listed, nothing was rejected
clean() { # WHAT LISTING
	assert_eq "$1: listing" "$(ls -A "$K" | tr '\n' ' ')" "$2"
	assert_contains "$1: nothing rejected" "$(cat "$M/acme/status")" "files rejected: 0"
	assert_contains "$1: no pending file" "$(cat "$M/acme/status")" "inbox files waiting or rejected: 0"
}
articles() { grep '^articles:' "$M/acme/status"; }

# --- sed -i: a temporary file in kb/, renamed over the article
sed -i 's/Forgot password/Send reset link/' "$K/reset.md" && ok || fail "sed -i"
assert_eq "sed -i edit" "$(sed -n 3p "$K/reset.md")" "Open the login page and press Send reset link."
clean "sed -i" "reset.md vpn.md "
assert_eq "re-indexed after sed" "$(search 'send reset link')" "kb/reset.md"
assert_eq "two articles" "$(articles)" "articles: 2"

# --- vim -es with default settings (swap file, probe file, backup)
( cd "$K" && HOME=$T vim -es -u DEFAULTS -i NONE -c '%s/Send reset link/Email me a link/' -c 'wq' reset.md ) \
	&& ok || fail "vim -es"
assert_eq "vim edit" "$(sed -n 3p "$K/reset.md")" "Open the login page and press Email me a link."
clean "vim" "reset.md vpn.md "
assert_eq "re-indexed after vim" "$(search 'email me a link')" "kb/reset.md"
assert_eq "vim did not add an article" "$(articles)" "articles: 2"
# vim keeping a backup beside (backupskip: the mount is under /tmp, which
# vim skips by default)
( cd "$K" && HOME=$T vim -es -u DEFAULTS -i NONE -c 'set backupcopy=no backup backupskip=' \
	-c '%s/Email me a link/Text me a code/' -c 'wq' reset.md ) && ok || fail "vim backupcopy=no"
assert_eq "vim rename edit" "$(sed -n 3p "$K/reset.md")" "Open the login page and press Text me a code."
assert_eq "its backup kept, holding the old text" "$(sed -n 3p "$K/reset.md~")" "Open the login page and press Email me a link."
rm "$K/reset.md~" && ok || fail "rm backup"
clean "vim backupcopy=no" "reset.md vpn.md "
assert_eq "re-indexed after vim rename" "$(search 'text me a code')" "kb/reset.md"

# --- write-then-rename (rsync, many editors): a hidden temporary renamed over
printf '# Reset a password\n\nCall the help desk on 555-0100.\n' > "$K/.reset.md.XXtmp"
assert_eq "temporary not ingested" "$(articles)" "articles: 2"
mv "$K/.reset.md.XXtmp" "$K/reset.md" && ok || fail "mv over"
assert_eq "renamed over" "$(sed -n 3p "$K/reset.md")" "Call the help desk on 555-0100."
clean "write-then-rename" "reset.md vpn.md "
assert_eq "re-indexed after rename" "$(search 'help desk 555-0100')" "kb/reset.md"

# --- emacs: rename to NAME~, write NAME anew, delete the backup later
mv "$K/vpn.md" "$K/vpn.md~" && ok || fail "rename to backup"
assert_eq "backup holds the text" "$(cat "$K/vpn.md~")" "$(printf '# VPN setup\n\nInstall the client and import the profile.')"
assert_eq "the article is gone meanwhile" "$(articles)" "articles: 1"
printf '# VPN setup\n\nInstall the client, import the profile and sign in.\n' > "$K/vpn.md"
rm "$K/vpn.md~"
clean "emacs" "reset.md vpn.md "
assert_eq "emacs edit" "$(sed -n 3p "$K/vpn.md")" "Install the client, import the profile and sign in."

# --- backup copies beside an article stay files, never articles
cp "$K/reset.md" "$K/reset.md~" && cp "$K/reset.md" "$K/#reset.md#" && ok || fail "backup copies"
assert_eq "backups not ingested" "$(articles)" "articles: 2"
rm "$K/reset.md~" "$K/#reset.md#"
clean "backups" "reset.md vpn.md "

# --- in place: truncate and write (nano, shell redirection)
printf '# Reset a password\n\nUse the self-service portal.\n' > "$K/reset.md"
assert_eq "rewritten in place" "$(sed -n 3p "$K/reset.md")" "Use the self-service portal."
assert_eq "re-indexed in place" "$(search 'self-service portal')" "kb/reset.md"
printf 'Ask your manager first.\n' >> "$K/reset.md"
assert_eq "appended" "$(tail -1 "$K/reset.md")" "Ask your manager first."

# --- renaming an article renames it; rm removes it (and from the index)
mv "$K/reset.md" "$K/password.md" && ok || fail "mv rename"
clean "rename" "password.md vpn.md "
assert_eq "renamed keeps the text" "$(sed -n 3p "$K/password.md")" "Use the self-service portal."
assert_eq "found under its new name" "$(search 'self-service portal')" "kb/password.md"
assert_fails_with "cross-directory rename" "Invalid cross-device link" \
	python3 -c 'import os, sys; os.rename(sys.argv[1], sys.argv[2])' "$K/vpn.md" "$M/acme/inbox/vpn.md"
rm "$K/password.md" && ok || fail "rm article"
clean "rm" "vpn.md "
assert_eq "gone from queries" "$(search 'self-service portal')" "kb/vpn.md"
assert_eq "one article" "$(articles)" "articles: 1"

# --- written again after an fsync (ingested then): nothing of it is lost
python3 - "$K/notes.md" <<'PY' && ok || fail "write after fsync"
import os, sys
f = open(sys.argv[1], "w")
f.write("# Notes\n\nfirst part.\n"); f.flush(); os.fsync(f.fileno())
f.write("second part after the fsync.\n"); f.close()
PY
assert_eq "both parts kept" "$(tail -2 "$K/notes.md" | tr '\n' '|')" "first part.|second part after the fsync.|"
clean "fsync" "notes.md vpn.md "

# --- TENANT/config: sed -i (its temporary file beside config), vim; invalid
# content gets EINVAL, the config stays and status says why
C=$M/acme/config
tenant_ls() { ls -A "$M/acme" | tr '\n' ' '; }
fixed="config feedback inbox kb queries status summaries tickets "
sed -i 's/"k": 5/"k": 8/' "$C" && ok || fail "sed -i config"
assert_contains "sed -i config saved" "$(cat "$C")" '"k": 8,'
assert_eq "no stray file beside config" "$(tenant_ls)" "$fixed"
assert_fails_with "sed -i invalid config" "Invalid argument" sed -i 's/"k": 8/"k": 0/' "$C"
assert_contains "config unchanged" "$(cat "$C")" '"k": 8,'
assert_contains "status says why" "$(grep 'config: write rejected' "$M/acme/status" | head -1)" "k: must be a number from 1 to 100"
rm -f "$M/acme"/sed* # sed leaves its temporary file when the rename fails
assert_eq "only the fixed entries" "$(tenant_ls)" "$fixed"
( cd "$M/acme" && HOME=$T vim -es -u DEFAULTS -i NONE -c '%s/"k": 8/"k": 9/' -c 'wq' config ) && ok || fail "vim config"
assert_contains "vim config saved" "$(cat "$C")" '"k": 9,'
assert_eq "no stray file after vim" "$(tenant_ls)" "$fixed"
assert_fails_with "files other than editors' are refused" "Permission denied" sh -c "echo x > '$M/acme/notes.txt'"
printf '{"k": 3}\n' > "$M/acme/.config.tmp" && mv "$M/acme/.config.tmp" "$C" && ok || fail "write-then-rename config"
assert_contains "renamed config saved" "$(cat "$C")" '"k": 3,'
assert_eq "no stray file after mv" "$(tenant_ls)" "$fixed"

# --- query files: sed -i and vim re-run the query once each
runs() { grep -o '([0-9]* queries run)' "$M/acme/status" | tr -dc 0-9; }
echo "how do I install the vpn client" > "$M/acme/queries/vpn"
cat "$M/acme/queries/vpn" >/dev/null
r0=$(runs)
sed -i 's/install the vpn client/sign in to the vpn/' "$M/acme/queries/vpn" && ok || fail "sed -i query"
assert_eq "sed -i re-ran it" "$(head -1 "$M/acme/queries/vpn")" "how do I sign in to the vpn"
assert_eq "once" "$(runs)" "$((r0 + 1))"
assert_eq "no stray file in queries" "$(ls -A "$M/acme/queries" | tr '\n' ' ')" "s s.json vpn vpn.json "
( cd "$M/acme/queries" && HOME=$T vim -es -u DEFAULTS -i NONE -c '1s/sign in to/import a profile into/' -c 'wq' vpn ) \
	&& ok || fail "vim query"
assert_eq "vim re-ran it" "$(head -1 "$M/acme/queries/vpn")" "how do I import a profile into the vpn"
assert_eq "once more" "$(runs)" "$((r0 + 2))"
assert_contains "answered" "$(cat "$M/acme/queries/vpn")" "kb/vpn.md"
assert_eq "no stray file after vim" "$(ls -A "$M/acme/queries" | tr '\n' ' ')" "s s.json vpn vpn.json "
finish
