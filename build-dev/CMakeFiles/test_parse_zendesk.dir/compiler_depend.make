# Empty compiler generated dependencies file for test_parse_zendesk.
# This may be replaced when dependencies are built.
