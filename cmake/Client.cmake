# Client library (immudb_client), build/bin/immuclient and client_tests.
# Included from CMakeLists.txt after the server targets (needs immudb_proto).

file(GLOB CLIENT_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/client/*.cc)
list(FILTER CLIENT_SOURCES EXCLUDE REGEX "_test\\.cc$")
add_library(immudb_client STATIC ${CLIENT_SOURCES})
target_include_directories(immudb_client PUBLIC ${CMAKE_SOURCE_DIR}
  PRIVATE ${CMAKE_SOURCE_DIR}/engine)
target_link_libraries(immudb_client PUBLIC immudb_engine immudb_proto immudb_stream_framing OpenSSL::Crypto)
immudb_warnings(immudb_client)

if(EXISTS ${CMAKE_SOURCE_DIR}/cmd/immuclient/main.cc)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(LIBEDIT REQUIRED IMPORTED_TARGET libedit)
  add_executable(immuclient
    ${CMAKE_SOURCE_DIR}/cmd/immuclient/main.cc
    ${CMAKE_SOURCE_DIR}/cmd/immuclient/commands.cc
    ${CMAKE_SOURCE_DIR}/cmd/immuclient/context.cc
    ${CMAKE_SOURCE_DIR}/cmd/immuclient/interactive.cc
    ${CMAKE_SOURCE_DIR}/cmd/immuclient/print.cc)
  target_include_directories(immuclient PRIVATE ${CMAKE_SOURCE_DIR}/cmd/immuclient)
  target_link_libraries(immuclient PRIVATE immudb_client immudb_toml_settings CLI11::CLI11
    PkgConfig::LIBEDIT)
  target_compile_definitions(immuclient PRIVATE IMMUDB_VERSION="${PROJECT_VERSION}")
  immudb_warnings(immuclient)
endif()

if(IMMUDB_BUILD_TESTS)
  file(GLOB CLIENT_TEST_SOURCES CONFIGURE_DEPENDS
    ${CMAKE_SOURCE_DIR}/client/*_test.cc ${CMAKE_SOURCE_DIR}/test/client/*.cc)
  add_executable(client_tests ${CLIENT_TEST_SOURCES})
  target_include_directories(client_tests PRIVATE ${CMAKE_SOURCE_DIR}/test)
  target_link_libraries(client_tests PRIVATE immudb_client immudb_testutil GTest::gtest_main)
  target_compile_definitions(client_tests PRIVATE IMMUDB_BIN_DIR="${CMAKE_BINARY_DIR}/bin"
    IMMUDB_VERSION_STRING="${PROJECT_VERSION}")
  add_dependencies(client_tests immudb)
  if(TARGET immuclient)
    add_dependencies(client_tests immuclient)
  endif()
  immudb_warnings(client_tests)
  gtest_discover_tests(client_tests DISCOVERY_MODE PRE_TEST
    PROPERTIES ENVIRONMENT "IMMUDB_BIN_DIR=${CMAKE_BINARY_DIR}/bin" LABELS client)
endif()
