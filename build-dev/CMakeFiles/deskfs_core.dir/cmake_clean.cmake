file(REMOVE_RECURSE
  "CMakeFiles/deskfs_core.dir/src/html_text.c.o"
  "CMakeFiles/deskfs_core.dir/src/html_text.c.o.d"
  "CMakeFiles/deskfs_core.dir/src/inbox.c.o"
  "CMakeFiles/deskfs_core.dir/src/inbox.c.o.d"
  "CMakeFiles/deskfs_core.dir/src/ingest.c.o"
  "CMakeFiles/deskfs_core.dir/src/ingest.c.o.d"
  "CMakeFiles/deskfs_core.dir/src/parse_common.c.o"
  "CMakeFiles/deskfs_core.dir/src/parse_common.c.o.d"
  "CMakeFiles/deskfs_core.dir/src/parse_csv.c.o"
  "CMakeFiles/deskfs_core.dir/src/parse_csv.c.o.d"
  "CMakeFiles/deskfs_core.dir/src/parse_email.c.o"
  "CMakeFiles/deskfs_core.dir/src/parse_email.c.o.d"
  "CMakeFiles/deskfs_core.dir/src/parse_freshdesk.c.o"
  "CMakeFiles/deskfs_core.dir/src/parse_freshdesk.c.o.d"
  "CMakeFiles/deskfs_core.dir/src/parse_text.c.o"
  "CMakeFiles/deskfs_core.dir/src/parse_text.c.o.d"
  "CMakeFiles/deskfs_core.dir/src/parse_zendesk.c.o"
  "CMakeFiles/deskfs_core.dir/src/parse_zendesk.c.o.d"
  "CMakeFiles/deskfs_core.dir/src/store_sqlite.c.o"
  "CMakeFiles/deskfs_core.dir/src/store_sqlite.c.o.d"
  "CMakeFiles/deskfs_core.dir/src/strbuf.c.o"
  "CMakeFiles/deskfs_core.dir/src/strbuf.c.o.d"
  "CMakeFiles/deskfs_core.dir/src/ticket.c.o"
  "CMakeFiles/deskfs_core.dir/src/ticket.c.o.d"
  "CMakeFiles/deskfs_core.dir/src/util.c.o"
  "CMakeFiles/deskfs_core.dir/src/util.c.o.d"
  "libdeskfs_core.a"
  "libdeskfs_core.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/deskfs_core.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
