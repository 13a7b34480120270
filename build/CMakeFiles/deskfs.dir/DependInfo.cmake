
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/src/fs.c" "CMakeFiles/deskfs.dir/src/fs.c.o" "gcc" "CMakeFiles/deskfs.dir/src/fs.c.o.d"
  "/work/main/src/fs_inbox.c" "CMakeFiles/deskfs.dir/src/fs_inbox.c.o" "gcc" "CMakeFiles/deskfs.dir/src/fs_inbox.c.o.d"
  "/work/main/src/fs_kb.c" "CMakeFiles/deskfs.dir/src/fs_kb.c.o" "gcc" "CMakeFiles/deskfs.dir/src/fs_kb.c.o.d"
  "/work/main/src/fs_root.c" "CMakeFiles/deskfs.dir/src/fs_root.c.o" "gcc" "CMakeFiles/deskfs.dir/src/fs_root.c.o.d"
  "/work/main/src/fs_tenant.c" "CMakeFiles/deskfs.dir/src/fs_tenant.c.o" "gcc" "CMakeFiles/deskfs.dir/src/fs_tenant.c.o.d"
  "/work/main/src/fs_tickets.c" "CMakeFiles/deskfs.dir/src/fs_tickets.c.o" "gcc" "CMakeFiles/deskfs.dir/src/fs_tickets.c.o.d"
  "/work/main/src/main.c" "CMakeFiles/deskfs.dir/src/main.c.o" "gcc" "CMakeFiles/deskfs.dir/src/main.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build/CMakeFiles/deskfs_core.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
