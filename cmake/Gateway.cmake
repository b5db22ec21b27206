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

immudb_process_tests(immugw_tests DIR test/immugw
  HELPERS lying_proxy tamper_files
  LIBS immugw_lib immudb_testutil PkgConfig::CPPHTTPLIB
  DEPENDS immugw
  LABEL immugw)
