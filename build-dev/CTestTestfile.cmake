# CMake generated Testfile for 
# Source directory: /work/main
# Build directory: /work/main/build-dev
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test(unit/test_core "/work/main/build-dev/test_core")
set_tests_properties(unit/test_core PROPERTIES  ENVIRONMENT "DESKFS_FIXTURES=/work/main/tests/fixtures" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/CMakeLists.txt;57;add_test;/work/main/CMakeLists.txt;0;")
add_test(unit/test_html_text "/work/main/build-dev/test_html_text")
set_tests_properties(unit/test_html_text PROPERTIES  ENVIRONMENT "DESKFS_FIXTURES=/work/main/tests/fixtures" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/CMakeLists.txt;57;add_test;/work/main/CMakeLists.txt;0;")
add_test(unit/test_parse_csv "/work/main/build-dev/test_parse_csv")
set_tests_properties(unit/test_parse_csv PROPERTIES  ENVIRONMENT "DESKFS_FIXTURES=/work/main/tests/fixtures" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/CMakeLists.txt;57;add_test;/work/main/CMakeLists.txt;0;")
add_test(unit/test_parse_email "/work/main/build-dev/test_parse_email")
set_tests_properties(unit/test_parse_email PROPERTIES  ENVIRONMENT "DESKFS_FIXTURES=/work/main/tests/fixtures" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/CMakeLists.txt;57;add_test;/work/main/CMakeLists.txt;0;")
add_test(unit/test_parse_freshdesk "/work/main/build-dev/test_parse_freshdesk")
set_tests_properties(unit/test_parse_freshdesk PROPERTIES  ENVIRONMENT "DESKFS_FIXTURES=/work/main/tests/fixtures" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/CMakeLists.txt;57;add_test;/work/main/CMakeLists.txt;0;")
add_test(unit/test_parse_text "/work/main/build-dev/test_parse_text")
set_tests_properties(unit/test_parse_text PROPERTIES  ENVIRONMENT "DESKFS_FIXTURES=/work/main/tests/fixtures" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/CMakeLists.txt;57;add_test;/work/main/CMakeLists.txt;0;")
add_test(unit/test_parse_zendesk "/work/main/build-dev/test_parse_zendesk")
set_tests_properties(unit/test_parse_zendesk PROPERTIES  ENVIRONMENT "DESKFS_FIXTURES=/work/main/tests/fixtures" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/CMakeLists.txt;57;add_test;/work/main/CMakeLists.txt;0;")
add_test(mount/t_basic "bash" "/work/main/tests/mount/t_basic.sh")
set_tests_properties(mount/t_basic PROPERTIES  ENVIRONMENT "DESKFS_BIN=/work/main/build-dev/deskfs;DESKFS_GEN=/work/main/build-dev/gen_freshdesk;DESKFS_FIXTURES=/work/main/tests/fixtures;DESKFS_SHARED=/work/main/../shared" RUN_SERIAL "TRUE" SKIP_RETURN_CODE "77" TIMEOUT "900" _BACKTRACE_TRIPLES "/work/main/CMakeLists.txt;66;add_test;/work/main/CMakeLists.txt;0;")
add_test(mount/t_crash "bash" "/work/main/tests/mount/t_crash.sh")
set_tests_properties(mount/t_crash PROPERTIES  ENVIRONMENT "DESKFS_BIN=/work/main/build-dev/deskfs;DESKFS_GEN=/work/main/build-dev/gen_freshdesk;DESKFS_FIXTURES=/work/main/tests/fixtures;DESKFS_SHARED=/work/main/../shared" RUN_SERIAL "TRUE" SKIP_RETURN_CODE "77" TIMEOUT "900" _BACKTRACE_TRIPLES "/work/main/CMakeLists.txt;66;add_test;/work/main/CMakeLists.txt;0;")
add_test(mount/t_endava "bash" "/work/main/tests/mount/t_endava.sh")
set_tests_properties(mount/t_endava PROPERTIES  ENVIRONMENT "DESKFS_BIN=/work/main/build-dev/deskfs;DESKFS_GEN=/work/main/build-dev/gen_freshdesk;DESKFS_FIXTURES=/work/main/tests/fixtures;DESKFS_SHARED=/work/main/../shared" RUN_SERIAL "TRUE" SKIP_RETURN_CODE "77" TIMEOUT "900" _BACKTRACE_TRIPLES "/work/main/CMakeLists.txt;66;add_test;/work/main/CMakeLists.txt;0;")
add_test(mount/t_formats "bash" "/work/main/tests/mount/t_formats.sh")
set_tests_properties(mount/t_formats PROPERTIES  ENVIRONMENT "DESKFS_BIN=/work/main/build-dev/deskfs;DESKFS_GEN=/work/main/build-dev/gen_freshdesk;DESKFS_FIXTURES=/work/main/tests/fixtures;DESKFS_SHARED=/work/main/../shared" RUN_SERIAL "TRUE" SKIP_RETURN_CODE "77" TIMEOUT "900" _BACKTRACE_TRIPLES "/work/main/CMakeLists.txt;66;add_test;/work/main/CMakeLists.txt;0;")
