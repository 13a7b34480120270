file(REMOVE_RECURSE
  "CMakeFiles/test_parse_email.dir/tests/unit/test_parse_email.c.o"
  "CMakeFiles/test_parse_email.dir/tests/unit/test_parse_email.c.o.d"
  "test_parse_email"
  "test_parse_email.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_parse_email.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
