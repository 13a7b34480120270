file(REMOVE_RECURSE
  "CMakeFiles/test_parse_text.dir/tests/unit/test_parse_text.c.o"
  "CMakeFiles/test_parse_text.dir/tests/unit/test_parse_text.c.o.d"
  "test_parse_text"
  "test_parse_text.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_parse_text.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
