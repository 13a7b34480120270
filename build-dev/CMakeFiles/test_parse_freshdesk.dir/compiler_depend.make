# Empty compiler generated dependencies file for test_parse_freshdesk.
# This may be replaced when dependencies are built.
