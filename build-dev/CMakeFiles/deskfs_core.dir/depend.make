# Empty dependencies file for deskfs_core.
# This may be replaced when dependencies are built.
