file(REMOVE_RECURSE
  "libdeskfs_core.a"
)
