# immudb_process_tests(<target> DIR <dir> [HELPERS ...] [LIBS ...]
#                      [DEPENDS ...] LABEL <label>)
# A test binary whose tests run build/bin/immudb (and the other binaries in
# DEPENDS) as child processes, when the tests are built and <dir> (below the
# source tree) has sources: <dir>/*.cc with the launcher of test/client
# (server_process.cc: free port, stop by PID; test_certs.cc) and the further
# test/client helpers named in HELPERS (lying_proxy, tamper_files), linked
# with LIBS and gtest_main, its tests discovered by ctest under LABEL.
function(immudb_process_tests target)
  cmake_parse_arguments(ARG "" "DIR;LABEL" "HELPERS;LIBS;DEPENDS" ${ARGN})
  if(NOT IMMUDB_BUILD_TESTS)
    return()
  endif()
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/${ARG_DIR}/*.cc)
  if(NOT sources)
    return()
  endif()
  set(helper_sources ${CMAKE_SOURCE_DIR}/test/client/server_process.cc
    ${CMAKE_SOURCE_DIR}/test/client/test_certs.cc)
  foreach(helper ${ARG_HELPERS})
    list(APPEND helper_sources ${CMAKE_SOURCE_DIR}/test/client/${helper}.cc)
  endforeach()
  add_executable(${target} ${sources} ${helper_sources})
  target_include_directories(${target} PRIVATE ${CMAKE_SOURCE_DIR}/test
    ${CMAKE_SOURCE_DIR}/test/client)
  target_link_libraries(${target} PRIVATE ${ARG_LIBS} GTest::gtest_main)
  target_compile_definitions(${target} PRIVATE IMMUDB_BIN_DIR="${CMAKE_BINARY_DIR}/bin")
  add_dependencies(${target} immudb ${ARG_DEPENDS})
  immudb_warnings(${target})
  gtest_discover_tests(${target} DISCOVERY_MODE PRE_TEST
    PROPERTIES ENVIRONMENT "IMMUDB_BIN_DIR=${CMAKE_BINARY_DIR}/bin" LABELS ${ARG_LABEL})
endfunction()
