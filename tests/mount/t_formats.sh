#!/usr/bin/env bash
# Every input format through cp: Zendesk, NDJSON, e-mail threads, CSV, text,
# knowledge-base articles; partial rejections keep the good records.
. "$(dirname "$0")/lib.sh"
mount_fs
mkdir "$M/z" "$M/e" "$M/c" "$M/k"

# --- Zendesk: ticket with comments, then a comments file merged into it
cp "$FIX/zendesk/ticket_with_comments.json" "$M/z/inbox/" && ok || fail "cp zendesk ticket"
assert_eq "zendesk ticket" "$(ls "$M/z/tickets")" "4821"
before=$(grep -c '^## ' "$M/z/tickets/4821/ticket.md")
cp "$FIX/zendesk/4821-comments.json" "$M/z/inbox/"
after=$(grep -c '^## ' "$M/z/tickets/4821/ticket.md")
[ "$after" -ge "$before" ] && ok || fail "comments merged: $before -> $after"
err=$(cat "$M/z/inbox/4821-comments.json.error")
assert_contains "bad comment listed" "$err" "file comment 3: comment has no integer 'id'"
assert_contains "partial header" "$err" "deskfs could not ingest '4821-comments.json' completely (zendesk json)"
assert_contains "partial footer" "$err" "The good records were stored"
assert_contains "source.json merged array" "$(head -c 2 "$M/z/tickets/4821/source.json")" "["

# --- NDJSON export: good lines stored, bad lines listed
cp "$FIX/zendesk/tickets.ndjson" "$M/z/inbox/"
[ -d "$M/z/tickets/201" ] && [ -d "$M/z/tickets/202" ] && ok || fail "ndjson tickets: $(ls "$M/z/tickets")"
assert_contains "ndjson line error" "$(cat "$M/z/inbox/tickets.ndjson.error")" "line "

# --- e-mail: an mbox thread becomes one ticket, an .eml another
cp "$FIX/email/thread.mbox" "$FIX/email/plain.eml" "$M/e/inbox/" && ok || fail "cp email"
assert_eq "email tickets" "$(ls "$M/e/tickets" | wc -l)" "2"
thread=$(grep -l '^## 3\. ' "$M"/e/tickets/*/ticket.md)
[ -n "$thread" ] && ok || fail "three messages threaded into one ticket"
assert_contains "thread roles" "$(cat "$thread")" "## 2. agent (Bob (Support) <bob@acme.test>), public, 2024-03-11T09:30:00Z"
assert_contains "email source wrapper" "$(cat "$(dirname "$thread")/source.json")" '"deskfs_source": "email"'
# a reply copied later threads into the stored ticket
n_before=$(ls "$M/e/tickets" | wc -l)

# --- CSV exports
cp "$FIX/csv/freshdesk_export.csv" "$FIX/csv/generic.csv" "$M/c/inbox/" && ok || fail "cp csv"
[ "$(ls "$M/c/tickets" | wc -l)" -ge 4 ] && ok || fail "csv tickets: $(ls "$M/c/tickets")"
cp "$FIX/csv/bad_header.csv" "$M/c/inbox/"
assert_contains "csv header error" "$(cat "$M/c/inbox/bad_header.csv.error")" "does not name the expected columns"

# --- text, Markdown, HTML dropped in the inbox become tickets
cp "$FIX/text/Printer Jam.txt" "$FIX/text/welcome.html" "$M/c/inbox/"
assert_contains "txt ticket" "$(cat "$M/c/tickets/printer-jam/ticket.md")" "- ticket: file printer-jam"
# a changed text file replaces the ticket's one message (its messages have no
# ids: the file is the whole ticket), and source.json holds the new text only
{ cat "$FIX/text/Printer Jam.txt"; echo "Fixed: it works again."; } > "$M/c/inbox/Printer Jam.txt"
md=$(cat "$M/c/tickets/printer-jam/ticket.md")
assert_eq "txt re-copy: one message" "$(grep -c '^## ' <<<"$md")" 1
assert_contains "txt re-copy: the new text" "$md" "Fixed: it works again."
assert_eq "txt re-copy: source records" "$(grep -c 'Hi team' "$M/c/tickets/printer-jam/source.json")" 1
# so does a changed CSV row, and an unchanged one stays unchanged
sed 's/The VPN drops every hour/The VPN drops every minute/' "$FIX/csv/generic.csv" > "$T/generic.csv"
cp "$T/generic.csv" "$M/c/inbox/"
md=$(cat "$M/c/tickets/G-1/ticket.md")
assert_eq "csv re-copy: one message" "$(grep -c '^## ' <<<"$md")" 1
assert_contains "csv re-copy: the new text" "$md" "The VPN drops every minute"
assert_eq "csv re-copy: the old text gone" "$(grep -c 'every hour' <<<"$md")" 0
[ -d "$M/c/tickets/welcome" ] && ok || fail "html ticket"
assert_eq "html converted" "$(grep -c '<' "$M/c/tickets/welcome/ticket.md")" "0"

# --- knowledge base
cp "$FIX/freshdesk/article.json" "$FIX/text/Setup Guide.markdown" "$M/k/kb/" && ok || fail "cp kb"
assert_eq "kb listing" "$(ls "$M/k/kb" | tr '\n' ' ')" "how-to-reset-your-password.md setup-guide.md "
assert_eq "kb title" "$(head -1 "$M/k/kb/how-to-reset-your-password.md")" "# How to reset your password"
assert_eq "kb size" "$(stat -c %s "$M/k/kb/setup-guide.md")" "$(wc -c < "$M/k/kb/setup-guide.md")"
printf '# Setup guide v2\n\nNew text.\n' > "$M/k/kb/setup-guide.md" && ok || fail "overwrite article"
assert_eq "article replaced" "$(head -1 "$M/k/kb/setup-guide.md")" "# Setup guide v2"
assert_eq "kb after overwrite" "$(ls "$M/k/kb" | tr '\n' ' ')" "how-to-reset-your-password.md setup-guide.md "
cp "$FIX/zendesk/ticket.json" "$M/k/kb/"
assert_contains "ticket in kb rejected" "$(cat "$M/k/kb/ticket.json.error")" "tickets go in inbox/"
rm "$M/k/kb/setup-guide.md" && ok || fail "rm article"
assert_eq "article removed" "$(ls "$M/k/kb" | grep -c setup-guide)" "0"

# --- restore: a ticket's source.json copied into a fresh tenant re-creates it
mkdir "$M/r"
cp "$M/z/tickets/4821/source.json" "$M/r/inbox/4821.json"
assert_eq "restored ticket" "$(ls "$M/r/tickets")" "4821"
assert_eq "restored content" "$(cat "$M/r/tickets/4821/ticket.json")" "$(cat "$M/z/tickets/4821/ticket.json")"
cp "$thread" "$T/thread.md"
cp "$(dirname "$thread")/source.json" "$M/r/inbox/thread.json"
assert_eq "restored email" "$(cat "$M/r/tickets/$(basename "$(dirname "$thread")")/ticket.md")" "$(cat "$T/thread.md")"
finish
