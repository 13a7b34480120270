
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/src/html_text.c" "CMakeFiles/deskfs_core.dir/src/html_text.c.o" "gcc" "CMakeFiles/deskfs_core.dir/src/html_text.c.o.d"
  "/work/main/src/inbox.c" "CMakeFiles/deskfs_core.dir/src/inbox.c.o" "gcc" "CMakeFiles/deskfs_core.dir/src/inbox.c.o.d"
  "/work/main/src/ingest.c" "CMakeFiles/deskfs_core.dir/src/ingest.c.o" "gcc" "CMakeFiles/deskfs_core.dir/src/ingest.c.o.d"
  "/work/main/src/parse_common.c" "CMakeFiles/deskfs_core.dir/src/parse_common.c.o" "gcc" "CMakeFiles/deskfs_core.dir/src/parse_common.c.o.d"
  "/work/main/src/parse_csv.c" "CMakeFiles/deskfs_core.dir/src/parse_csv.c.o" "gcc" "CMakeFiles/deskfs_core.dir/src/parse_csv.c.o.d"
  "/work/main/src/parse_email.c" "CMakeFiles/deskfs_core.dir/src/parse_email.c.o" "gcc" "CMakeFiles/deskfs_core.dir/src/parse_email.c.o.d"
  "/work/main/src/parse_freshdesk.c" "CMakeFiles/deskfs_core.dir/src/parse_freshdesk.c.o" "gcc" "CMakeFiles/deskfs_core.dir/src/parse_freshdesk.c.o.d"
  "/work/main/src/parse_text.c" "CMakeFiles/deskfs_core.dir/src/parse_text.c.o" "gcc" "CMakeFiles/deskfs_core.dir/src/parse_text.c.o.d"
  "/work/main/src/parse_zendesk.c" "CMakeFiles/deskfs_core.dir/src/parse_zendesk.c.o" "gcc" "CMakeFiles/deskfs_core.dir/src/parse_zendesk.c.o.d"
  "/work/main/src/store_sqlite.c" "CMakeFiles/deskfs_core.dir/src/store_sqlite.c.o" "gcc" "CMakeFiles/deskfs_core.dir/src/store_sqlite.c.o.d"
  "/work/main/src/strbuf.c" "CMakeFiles/deskfs_core.dir/src/strbuf.c.o" "gcc" "CMakeFiles/deskfs_core.dir/src/strbuf.c.o.d"
  "/work/main/src/ticket.c" "CMakeFiles/deskfs_core.dir/src/ticket.c.o" "gcc" "CMakeFiles/deskfs_core.dir/src/ticket.c.o.d"
  "/work/main/src/util.c" "CMakeFiles/deskfs_core.dir/src/util.c.o" "gcc" "CMakeFiles/deskfs_core.dir/src/util.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
