# Empty compiler generated dependencies file for test_parse_email.
# This may be replaced when dependencies are built.
