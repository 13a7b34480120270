file(REMOVE_RECURSE
  "CMakeFiles/test_parse_zendesk.dir/tests/unit/test_parse_zendesk.c.o"
  "CMakeFiles/test_parse_zendesk.dir/tests/unit/test_parse_zendesk.c.o.d"
  "test_parse_zendesk"
  "test_parse_zendesk.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_parse_zendesk.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
