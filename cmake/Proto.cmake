# gRPC/protobuf code generation for proto/*.proto. Generated files go to
# ${CMAKE_BINARY_DIR}/proto, never to the source tree.
find_package(Protobuf REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(GRPCPP REQUIRED IMPORTED_TARGET grpc++)
# Abseil comes with gRPC; proto/grpc_runtime.cc sets one of its switches.
pkg_check_modules(ABSL_SYNC REQUIRED IMPORTED_TARGET absl_synchronization)
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

# immudb_proto_library(<target> <proto files...>): a static library of the
# generated messages and gRPC stubs, compiled without our warning flags.
function(immudb_proto_library target)
  set(out_dir ${CMAKE_BINARY_DIR}/proto)
  file(MAKE_DIRECTORY ${out_dir})
  set(srcs)
  foreach(proto ${ARGN})
    get_filename_component(abs ${proto} ABSOLUTE)
    get_filename_component(dir ${abs} DIRECTORY)
    get_filename_component(name ${abs} NAME_WE)
    set(gen ${out_dir}/${name}.pb.cc ${out_dir}/${name}.pb.h
            ${out_dir}/${name}.grpc.pb.cc ${out_dir}/${name}.grpc.pb.h)
    add_custom_command(
      OUTPUT ${gen}
      COMMAND ${Protobuf_PROTOC_EXECUTABLE}
        --proto_path=${dir} --proto_path=${Protobuf_INCLUDE_DIRS}
        --cpp_out=${out_dir} --grpc_out=${out_dir}
        --plugin=protoc-gen-grpc=${GRPC_CPP_PLUGIN}
        ${abs}
      DEPENDS ${abs} ${Protobuf_PROTOC_EXECUTABLE} ${GRPC_CPP_PLUGIN}
      COMMENT "Generating C++ code from ${name}.proto"
      VERBATIM)
    list(APPEND srcs ${out_dir}/${name}.pb.cc ${out_dir}/${name}.grpc.pb.cc)
  endforeach()
  add_library(${target} STATIC ${srcs} ${CMAKE_SOURCE_DIR}/proto/grpc_runtime.cc)
  target_include_directories(${target} SYSTEM PUBLIC ${out_dir} ${Protobuf_INCLUDE_DIRS})
  target_include_directories(${target} PUBLIC ${CMAKE_SOURCE_DIR}/proto)
  target_link_libraries(${target} PUBLIC protobuf::libprotobuf PkgConfig::GRPCPP
    PRIVATE PkgConfig::ABSL_SYNC)
endfunction()
