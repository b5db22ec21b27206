# Audit mode: the auditor (client/auditor*.cc, compiled into immudb_client by
# its glob) serves metrics and calls webhooks with cpp-httplib; `immuclient
# audit-mode`; audit_tests (test/audit/*.cc) against real build/bin/immudb
# children.

target_link_libraries(immudb_client PRIVATE PkgConfig::CPPHTTPLIB)

if(TARGET immuclient AND EXISTS ${CMAKE_SOURCE_DIR}/cmd/immuclient/audit_mode.cc)
  target_sources(immuclient PRIVATE ${CMAKE_SOURCE_DIR}/cmd/immuclient/audit_mode.cc
    ${CMAKE_SOURCE_DIR}/cmd/immuclient/audit_service.cc)
  target_link_libraries(immuclient PRIVATE immudb_systemd)
endif()

if(IMMUDB_BUILD_TESTS)
  file(GLOB AUDIT_TEST_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/test/audit/*.cc)
  if(AUDIT_TEST_SOURCES)
    add_executable(audit_tests ${AUDIT_TEST_SOURCES}
      ${CMAKE_SOURCE_DIR}/test/client/server_process.cc
      ${CMAKE_SOURCE_DIR}/test/client/lying_proxy.cc
      ${CMAKE_SOURCE_DIR}/test/client/tamper_files.cc
      ${CMAKE_SOURCE_DIR}/test/client/test_certs.cc)
    target_include_directories(audit_tests PRIVATE ${CMAKE_SOURCE_DIR}/test
      ${CMAKE_SOURCE_DIR}/test/client)
    target_link_libraries(audit_tests PRIVATE immudb_client immudb_systemd immudb_testutil
      GTest::gtest_main PkgConfig::CPPHTTPLIB)
    target_compile_definitions(audit_tests PRIVATE IMMUDB_BIN_DIR="${CMAKE_BINARY_DIR}/bin")
    add_dependencies(audit_tests immudb)
    if(TARGET immuclient)
      add_dependencies(audit_tests immuclient)
    endif()
    immudb_warnings(audit_tests)
    gtest_discover_tests(audit_tests DISCOVERY_MODE PRE_TEST
      PROPERTIES ENVIRONMENT "IMMUDB_BIN_DIR=${CMAKE_BINARY_DIR}/bin" LABELS audit)
  endif()
endif()
