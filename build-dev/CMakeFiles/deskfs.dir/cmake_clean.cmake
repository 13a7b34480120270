file(REMOVE_RECURSE
  "CMakeFiles/deskfs.dir/src/fs.c.o"
  "CMakeFiles/deskfs.dir/src/fs.c.o.d"
  "CMakeFiles/deskfs.dir/src/fs_inbox.c.o"
  "CMakeFiles/deskfs.dir/src/fs_inbox.c.o.d"
  "CMakeFiles/deskfs.dir/src/fs_kb.c.o"
  "CMakeFiles/deskfs.dir/src/fs_kb.c.o.d"
  "CMakeFiles/deskfs.dir/src/fs_root.c.o"
  "CMakeFiles/deskfs.dir/src/fs_root.c.o.d"
  "CMakeFiles/deskfs.dir/src/fs_tenant.c.o"
  "CMakeFiles/deskfs.dir/src/fs_tenant.c.o.d"
  "CMakeFiles/deskfs.dir/src/fs_tickets.c.o"
  "CMakeFiles/deskfs.dir/src/fs_tickets.c.o.d"
  "CMakeFiles/deskfs.dir/src/main.c.o"
  "CMakeFiles/deskfs.dir/src/main.c.o.d"
  "deskfs"
  "deskfs.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/deskfs.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
