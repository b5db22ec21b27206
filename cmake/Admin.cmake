# build/bin/immuadmin (cmd/immuadmin) and admin_tests (test/admin).
# Included from CMakeLists.txt after cmake/Client.cmake (needs immudb_client).

if(NOT TARGET immudb_client)
  return()
endif()

file(GLOB ADMIN_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/cmd/immuadmin/*.cc)
list(FILTER ADMIN_SOURCES EXCLUDE REGEX "/main\\.cc$")
add_library(immuadmin_lib STATIC ${ADMIN_SOURCES})
# zlib for the gzip of the offline backup archives (zlib1g-dev, a dependency of libgrpc++-dev).
find_package(ZLIB REQUIRED)
# engine/ for the offline verifier (store/verify_dir.h) and util/ (crc32c, coding).
target_include_directories(immuadmin_lib PUBLIC ${CMAKE_SOURCE_DIR} ${CMAKE_SOURCE_DIR}/engine)
target_link_libraries(immuadmin_lib PUBLIC immudb_client immudb_engine immudb_toml_settings
  immudb_systemd ZLIB::ZLIB)
immudb_warnings(immuadmin_lib)

add_executable(immuadmin ${CMAKE_SOURCE_DIR}/cmd/immuadmin/main.cc)
target_link_libraries(immuadmin PRIVATE immuadmin_lib CLI11::CLI11)
target_compile_definitions(immuadmin PRIVATE IMMUDB_VERSION="${PROJECT_VERSION}")
immudb_warnings(immuadmin)

immudb_process_tests(admin_tests DIR test/admin
  LIBS immuadmin_lib immudb_testutil
  DEPENDS immuadmin
  LABEL admin)
