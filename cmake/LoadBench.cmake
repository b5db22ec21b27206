# gRPC load tool (build/bin/immudb-load), its bare-gRPC baseline
# (build/bin/immudb-echo-server) and the immudb_load_smoke test that runs
# bench/load.sh briefly. Included from CMakeLists.txt after the client targets.

if(NOT TARGET immudb_client)
  message(STATUS "LoadBench: immudb_client not defined, skipping immudb-load")
  return()
endif()

# The load tool's lean gRPC client (--api h2) speaks HTTP/2 through
# libnghttp2 (Debian libnghttp2-dev), which does the framing, HPACK header
# compression with Huffman coding and flow control.
pkg_check_modules(NGHTTP2 REQUIRED IMPORTED_TARGET libnghttp2)
add_library(immudb_h2_load STATIC ${CMAKE_SOURCE_DIR}/bench/h2_load.cc)
target_include_directories(immudb_h2_load PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(immudb_h2_load PUBLIC immudb_client PRIVATE PkgConfig::NGHTTP2)
immudb_warnings(immudb_h2_load)

add_executable(immudb-load ${CMAKE_SOURCE_DIR}/bench/immudb_load.cc)
target_include_directories(immudb-load PRIVATE ${CMAKE_SOURCE_DIR})
target_link_libraries(immudb-load PRIVATE immudb_h2_load immudb_client CLI11::CLI11
  Threads::Threads)
immudb_warnings(immudb-load)

add_executable(immudb-echo-server ${CMAKE_SOURCE_DIR}/bench/echo_server.cc)
target_include_directories(immudb-echo-server PRIVATE ${CMAKE_SOURCE_DIR})
target_link_libraries(immudb-echo-server PRIVATE immudb_proto CLI11::CLI11 Threads::Threads
  ${IMMUDB_SERVER_ALLOCATOR})
immudb_warnings(immudb-echo-server)

# The HTTP/2 client against a build/bin/immudb child (test/load).
immudb_process_tests(load_tests DIR test/load LIBS immudb_h2_load immudb_testutil
  DEPENDS immudb-load LABEL load)

if(IMMUDB_BUILD_TESTS)
  # About 1 s per workload against immudb and against the echo server, then
  # verified calls whose proofs immudb-load checks.
  add_test(NAME immudb_load_smoke
    COMMAND ${CMAKE_SOURCE_DIR}/bench/load.sh --duration 1 --keys 1000
      --bin ${CMAKE_BINARY_DIR}/bin --check)
  set_tests_properties(immudb_load_smoke PROPERTIES LABELS fast TIMEOUT 60)
endif()
