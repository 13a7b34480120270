file(REMOVE_RECURSE
  "CMakeFiles/test_parse_csv.dir/tests/unit/test_parse_csv.c.o"
  "CMakeFiles/test_parse_csv.dir/tests/unit/test_parse_csv.c.o.d"
  "test_parse_csv"
  "test_parse_csv.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_parse_csv.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
