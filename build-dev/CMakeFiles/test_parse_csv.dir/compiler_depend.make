# Empty compiler generated dependencies file for test_parse_csv.
# This may be replaced when dependencies are built.
