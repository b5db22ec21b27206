// The reflection service of --grpc-dispatch=queues, request by request
// (startup_test compares it with gRPC's plugin over the wire).
#include "server/reflection_service.h"

#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>

#include <set>

#include "server/service.h"

namespace immudb::server {
namespace {

using reflection_wire::ServerReflectionRequest;
using reflection_wire::ServerReflectionResponse;

class ReflectionServiceTest : public ::testing::Test {
 protected:
  ServerReflectionResponse Ask(const ServerReflectionRequest& req) {
    ServerReflectionResponse resp;
    svc_.Answer(req, &resp);
    return resp;
  }
  std::set<std::string> Files(const ServerReflectionResponse& resp) {
    std::set<std::string> names;
    for (const std::string& bytes : resp.file_descriptor_response().file_descriptor_proto()) {
      google::protobuf::FileDescriptorProto f;
      EXPECT_TRUE(f.ParseFromString(bytes));
      EXPECT_TRUE(names.insert(f.name()).second) << "twice: " << f.name();
    }
    return names;
  }

  ServerState state_;
  BlockingPool pool_{1};
  ReflectionServiceImpl svc_{&state_, &pool_, {"a.Service", "b.Service"}};
};

TEST_F(ReflectionServiceTest, ListsTheServicesItWasGiven) {
  ServerReflectionRequest req;
  req.set_host("h");
  req.set_list_services("");
  const ServerReflectionResponse resp = Ask(req);
  EXPECT_EQ(resp.valid_host(), "h");
  EXPECT_EQ(resp.original_request().SerializeAsString(), req.SerializeAsString());
  ASSERT_EQ(resp.list_services_response().service_size(), 2);
  EXPECT_EQ(resp.list_services_response().service(0).name(), "a.Service");
  EXPECT_EQ(resp.list_services_response().service(1).name(), "b.Service");
}

TEST_F(ReflectionServiceTest, AFileComesWithEveryFileItImports) {
  ServerReflectionRequest req;
  req.set_file_containing_symbol("immudb.schema.ImmuService");
  const std::set<std::string> by_symbol = Files(Ask(req));
  EXPECT_TRUE(by_symbol.count("schema.proto"));
  EXPECT_TRUE(by_symbol.count("google/protobuf/empty.proto"));
  EXPECT_TRUE(by_symbol.count("google/protobuf/struct.proto"));
  req.set_file_by_filename("schema.proto");
  EXPECT_EQ(Files(Ask(req)), by_symbol);
  // A message's file, and one without imports.
  req.set_file_containing_symbol("google.protobuf.Empty");
  EXPECT_EQ(Files(Ask(req)), std::set<std::string>{"google/protobuf/empty.proto"});
}

TEST_F(ReflectionServiceTest, UnknownNamesAnswerNotFound) {
  ServerReflectionRequest req;
  req.set_file_by_filename("nope.proto");
  EXPECT_EQ(Ask(req).error_response().error_code(), grpc::StatusCode::NOT_FOUND);
  req.set_file_containing_symbol("immudb.schema.Nope");
  EXPECT_EQ(Ask(req).error_response().error_code(), grpc::StatusCode::NOT_FOUND);
  req.mutable_file_containing_extension()->set_containing_type("immudb.schema.Entry");
  req.mutable_file_containing_extension()->set_extension_number(1000);
  EXPECT_EQ(Ask(req).error_response().error_code(), grpc::StatusCode::NOT_FOUND);
  req.set_all_extension_numbers_of_type("immudb.schema.Nope");
  EXPECT_EQ(Ask(req).error_response().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ReflectionServiceTest, ExtensionNumbersOfAType) {
  ServerReflectionRequest req;
  req.set_all_extension_numbers_of_type("immudb.schema.Entry");
  const ServerReflectionResponse resp = Ask(req);
  EXPECT_FALSE(resp.has_error_response());
  EXPECT_EQ(resp.all_extension_numbers_response().base_type_name(), "immudb.schema.Entry");
  EXPECT_EQ(resp.all_extension_numbers_response().extension_number_size(), 0);
}

TEST_F(ReflectionServiceTest, ARequestWithoutAnActionIsUnimplemented) {
  EXPECT_EQ(Ask(ServerReflectionRequest()).error_response().error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

}  // namespace
}  // namespace immudb::server
