# Empty dependencies file for deskfs.
# This may be replaced when dependencies are built.
