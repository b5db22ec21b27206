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

immudb_process_tests(audit_tests DIR test/audit
  HELPERS lying_proxy tamper_files
  LIBS immudb_client immudb_systemd immudb_testutil PkgConfig::CPPHTTPLIB
  LABEL audit)
if(TARGET audit_tests AND TARGET immuclient)
  add_dependencies(audit_tests immuclient)
endif()
