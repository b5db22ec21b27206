# immugw: a REST proxy on :3323 that verifies immudb's proofs for its clients
# (cmd/immugw, docs/immugw.md), and immugw_tests (test/immugw/*.cc).

file(GLOB IMMUGW_LIB_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/cmd/immugw/*.cc)
list(FILTER IMMUGW_LIB_SOURCES EXCLUDE REGEX "(main|_test)\\.cc$")
add_library(immugw_lib STATIC ${IMMUGW_LIB_SOURCES})
target_link_libraries(immugw_lib PUBLIC immudb_client
  PRIVATE immudb_toml_settings PkgConfig::CPPHTTPLIB tomlplusplus::tomlplusplus)
target_compile_definitions(immugw_lib PRIVATE IMMUDB_VERSION="${PROJECT_VERSION}")
immudb_warnings(immugw_lib)

add_executable(immugw ${CMAKE_SOURCE_DIR}/cmd/immugw/main.cc)
target_link_libraries(immugw PRIVATE immugw_lib spdlog::spdlog)
immudb_warnings(immugw)

if(IMMUDB_BUILD_TESTS)
  file(GLOB IMMUGW_TEST_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/test/immugw/*.cc)
  if(IMMUGW_TEST_SOURCES)
    add_executable(immugw_tests ${IMMUGW_TEST_SOURCES}
      ${CMAKE_SOURCE_DIR}/test/client/server_process.cc
      ${CMAKE_SOURCE_DIR}/test/client/lying_proxy.cc
      ${CMAKE_SOURCE_DIR}/test/client/tamper_files.cc
      ${CMAKE_SOURCE_DIR}/test/client/test_certs.cc)
    target_include_directories(immugw_tests PRIVATE ${CMAKE_SOURCE_DIR}/test
      ${CMAKE_SOURCE_DIR}/test/client)
    target_link_libraries(immugw_tests PRIVATE immugw_lib immudb_testutil GTest::gtest_main
      PkgConfig::CPPHTTPLIB)
    target_compile_definitions(immugw_tests PRIVATE IMMUDB_BIN_DIR="${CMAKE_BINARY_DIR}/bin")
    add_dependencies(immugw_tests immudb immugw)
    immudb_warnings(immugw_tests)
    gtest_discover_tests(immugw_tests DISCOVERY_MODE PRE_TEST
      PROPERTIES ENVIRONMENT "IMMUDB_BIN_DIR=${CMAKE_BINARY_DIR}/bin" LABELS immugw)
  endif()
endif()
