file(REMOVE_RECURSE
  "CMakeFiles/test_html_text.dir/tests/unit/test_html_text.c.o"
  "CMakeFiles/test_html_text.dir/tests/unit/test_html_text.c.o.d"
  "test_html_text"
  "test_html_text.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_html_text.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
