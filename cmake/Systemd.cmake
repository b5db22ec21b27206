# immudb_systemd (cmd/common/systemd_service.cc): unit files under a root
# directory and systemctl calls, shared by `immuadmin service` and
# `immuclient audit-mode install|uninstall|start|stop|restart|status`.

add_library(immudb_systemd STATIC ${CMAKE_SOURCE_DIR}/cmd/common/systemd_service.cc)
target_include_directories(immudb_systemd PUBLIC ${CMAKE_SOURCE_DIR} ${CMAKE_SOURCE_DIR}/include)
# Status lives in the engine library.
target_link_libraries(immudb_systemd PUBLIC immudb_engine)
immudb_warnings(immudb_systemd)
