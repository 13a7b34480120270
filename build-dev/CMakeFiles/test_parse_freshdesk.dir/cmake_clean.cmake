file(REMOVE_RECURSE
  "CMakeFiles/test_parse_freshdesk.dir/tests/unit/test_parse_freshdesk.c.o"
  "CMakeFiles/test_parse_freshdesk.dir/tests/unit/test_parse_freshdesk.c.o.d"
  "test_parse_freshdesk"
  "test_parse_freshdesk.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_parse_freshdesk.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
