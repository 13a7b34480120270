# Empty compiler generated dependencies file for deskfs.
# This may be replaced when dependencies are built.
