#include "server/reflection_service.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include <algorithm>

namespace immudb::server {
namespace {

namespace pb = google::protobuf;
using reflection_wire::ServerReflectionRequest;
using reflection_wire::ServerReflectionResponse;

void SetError(ServerReflectionResponse* resp, grpc::StatusCode code, const std::string& msg) {
  resp->mutable_error_response()->set_error_code(static_cast<int32_t>(code));
  resp->mutable_error_response()->set_error_message(msg);
}

// Adds `file` and, depth first, the files it imports, each once per response.
void AddFile(const pb::FileDescriptor* file, std::vector<std::string>* sent,
             reflection_wire::FileDescriptorResponse* out) {
  if (std::find(sent->begin(), sent->end(), file->name()) != sent->end()) return;
  sent->push_back(file->name());
  pb::FileDescriptorProto proto;
  file->CopyTo(&proto);
  proto.SerializeToString(out->add_file_descriptor_proto());
  for (int i = 0; i < file->dependency_count(); i++) AddFile(file->dependency(i), sent, out);
}

}  // namespace

void ReflectionServiceImpl::Answer(const ServerReflectionRequest& req,
                                   ServerReflectionResponse* resp) const {
  const pb::DescriptorPool* pool = pb::DescriptorPool::generated_pool();
  resp->set_valid_host(req.host());
  *resp->mutable_original_request() = req;
  const pb::FileDescriptor* file = nullptr;
  switch (req.message_request_case()) {
    case ServerReflectionRequest::kListServices:
      for (const std::string& name : services_) {
        resp->mutable_list_services_response()->add_service()->set_name(name);
      }
      return;
    case ServerReflectionRequest::kFileByFilename:
      file = pool->FindFileByName(req.file_by_filename());
      if (file == nullptr) return SetError(resp, grpc::StatusCode::NOT_FOUND, "File not found.");
      break;
    case ServerReflectionRequest::kFileContainingSymbol:
      file = pool->FindFileContainingSymbol(req.file_containing_symbol());
      if (file == nullptr) return SetError(resp, grpc::StatusCode::NOT_FOUND, "Symbol not found.");
      break;
    case ServerReflectionRequest::kFileContainingExtension: {
      const pb::Descriptor* type =
          pool->FindMessageTypeByName(req.file_containing_extension().containing_type());
      const pb::FieldDescriptor* ext =
          type == nullptr ? nullptr
                          : pool->FindExtensionByNumber(
                                type, req.file_containing_extension().extension_number());
      if (ext == nullptr) {
        return SetError(resp, grpc::StatusCode::NOT_FOUND, "Extension not found.");
      }
      file = ext->file();
      break;
    }
    case ServerReflectionRequest::kAllExtensionNumbersOfType: {
      const pb::Descriptor* type = pool->FindMessageTypeByName(req.all_extension_numbers_of_type());
      if (type == nullptr) return SetError(resp, grpc::StatusCode::NOT_FOUND, "Type not found.");
      std::vector<const pb::FieldDescriptor*> exts;
      pool->FindAllExtensions(type, &exts);
      auto* out = resp->mutable_all_extension_numbers_response();
      out->set_base_type_name(type->full_name());
      for (const pb::FieldDescriptor* e : exts) out->add_extension_number(e->number());
      return;
    }
    default:
      return SetError(resp, grpc::StatusCode::UNIMPLEMENTED, "The action is not defined.");
  }
  std::vector<std::string> sent;
  AddFile(file, &sent, resp->mutable_file_descriptor_response());
}

grpc::Status ReflectionServiceImpl::DoServerReflectionInfo(
    grpc::ServerContextBase*,
    grpc::ServerReaderWriterInterface<ServerReflectionResponse, ServerReflectionRequest>* stream) {
  ServerReflectionRequest req;
  while (stream->Read(&req)) {
    ServerReflectionResponse resp;
    Answer(req, &resp);
    if (!stream->Write(resp, grpc::WriteOptions())) break;
  }
  return grpc::Status::OK;
}

}  // namespace immudb::server
