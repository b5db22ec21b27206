#include "cmd/immugw/rest_json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>

namespace immudb::gateway {
namespace {

namespace pb = google::protobuf;

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// One parameter as a JSON member, typed by the field it names.
Result<std::string> ParamMember(const pb::Descriptor* d, const std::string& name,
                                const std::string& value) {
  const pb::FieldDescriptor* f = d->FindFieldByName(name);
  for (int i = 0; f == nullptr && i < d->field_count(); ++i) {
    if (d->field(i)->json_name() == name) f = d->field(i);
  }
  if (f == nullptr) return Status::InvalidArgument("unknown parameter " + name);
  if (f->is_repeated() || f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
    return Status::InvalidArgument("parameter " + name + " is not a scalar field");
  }
  std::string v;
  if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_BOOL) {
    if (value != "true" && value != "false") {
      return Status::InvalidArgument("parameter " + name + " must be true or false");
    }
    v = value;
  } else {
    v = Quote(value);
  }
  return Quote(f->name()) + ":" + v;
}

}  // namespace

Status DecodeRequest(const std::string& body,
                     const std::vector<std::pair<std::string, std::string>>& params,
                     google::protobuf::Message* msg) {
  pb::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = false;
  if (body.find_first_not_of(" \t\r\n") != std::string::npos) {
    pb::util::Status st = pb::util::JsonStringToMessage(body, msg, opts);
    if (!st.ok()) {
      return Status::InvalidArgument("malformed JSON body: " + std::string(st.message()));
    }
  }
  if (params.empty()) return Status::OK();
  std::string json = "{";
  for (const auto& [name, value] : params) {
    IMMUDB_ASSIGN_OR_RETURN(std::string member, ParamMember(msg->GetDescriptor(), name, value));
    json += (json.size() > 1 ? "," : "") + member;
  }
  json += "}";
  std::unique_ptr<pb::Message> extra(msg->New());
  pb::util::Status st = pb::util::JsonStringToMessage(json, extra.get(), opts);
  if (!st.ok()) return Status::InvalidArgument("bad parameter: " + std::string(st.message()));
  msg->MergeFrom(*extra);
  return Status::OK();
}

std::string EncodeReply(const google::protobuf::Message& msg, bool verified) {
  pb::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  opts.always_print_primitive_fields = false;
  std::string out;
  if (!pb::util::MessageToJsonString(msg, &out, opts).ok()) out = "{}";
  if (!verified) return out;
  if (out == "{}") return "{\"verified\":true}";
  out.pop_back();
  return out + ",\"verified\":true}";
}

int HttpStatus(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return 200;
    case grpc::StatusCode::CANCELLED:
      return 499;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
      return 400;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 504;
    case grpc::StatusCode::NOT_FOUND:
      return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
      return 409;
    case grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::UNIMPLEMENTED:
      return 501;
    case grpc::StatusCode::UNAVAILABLE:
      return 503;
    default:
      return 500;
  }
}

std::string ErrorBody(grpc::StatusCode code, const std::string& message) {
  return "{\"error\":" + Quote(message) + ",\"code\":" + std::to_string(static_cast<int>(code)) +
         ",\"message\":" + Quote(message) + ",\"details\":[]}";
}

}  // namespace immudb::gateway
