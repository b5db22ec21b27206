#include "server/rest_gateway.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/client_context.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <future>
#include <map>
#include <string_view>

#include "server/errors.h"
#include "server/json.h"

namespace immudb::server {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::MethodDescriptor;
using google::protobuf::Reflection;

constexpr int kGrpcInvalidArgument = 3;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes; false on a malformed escape.
bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      *out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = HexDigit(in[i + 1]);
    const int lo = HexDigit(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    *out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    out.push_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) return out;
    start = slash + 1;
  }
}

// Standard or URL-safe base64, padding optional (grpc-gateway accepts both
// alphabets for bytes in paths and queries).
bool DecodeBase64(std::string_view in, std::string* out) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return false;
  out->clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+' || c == '-') {
      v = 62;
    } else if (c == '/' || c == '_') {
      v = 63;
    } else {
      return false;
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      *out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return true;
}

template <typename T>
bool ParseInteger(const std::string& v, T* out) {
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), *out);
  return !v.empty() && ec == std::errc() && p == v.data() + v.size();
}

bool ParseBool(const std::string& v, bool* out) {
  for (const char* t : {"1", "t", "T", "true", "TRUE", "True"}) {
    if (v == t) {
      *out = true;
      return true;
    }
  }
  for (const char* f : {"0", "f", "F", "false", "FALSE", "False"}) {
    if (v == f) {
      *out = false;
      return true;
    }
  }
  return false;
}

bool ParseDouble(const std::string& v, double* out) {
  if (v.empty() || std::isspace(static_cast<unsigned char>(v[0]))) return false;
  char* end = nullptr;
  *out = std::strtod(v.c_str(), &end);
  return end == v.c_str() + v.size();
}

// Sets (or, for a repeated field, appends) `text` into field `f` of `m`.
// Returns "" or what is wrong with the value.
std::string SetFromText(Message* m, const FieldDescriptor* f, const std::string& text) {
  const Reflection* r = m->GetReflection();
  const bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t v;
      if (!ParseInteger(text, &v)) return "not a 32-bit integer";
      rep ? r->AddInt32(m, f, v) : r->SetInt32(m, f, v);
      return "";
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t v;
      if (!ParseInteger(text, &v)) return "not a 64-bit integer";
      rep ? r->AddInt64(m, f, v) : r->SetInt64(m, f, v);
      return "";
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t v;
      if (!ParseInteger(text, &v)) return "not an unsigned 32-bit integer";
      rep ? r->AddUInt32(m, f, v) : r->SetUInt32(m, f, v);
      return "";
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t v;
      if (!ParseInteger(text, &v)) return "not an unsigned 64-bit integer";
      rep ? r->AddUInt64(m, f, v) : r->SetUInt64(m, f, v);
      return "";
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      double v;
      if (!ParseDouble(text, &v)) return "not a number";
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT) {
        rep ? r->AddFloat(m, f, static_cast<float>(v)) : r->SetFloat(m, f, static_cast<float>(v));
      } else {
        rep ? r->AddDouble(m, f, v) : r->SetDouble(m, f, v);
      }
      return "";
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      bool v;
      if (!ParseBool(text, &v)) return "not a boolean";
      rep ? r->AddBool(m, f, v) : r->SetBool(m, f, v);
      return "";
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto* e = f->enum_type()->FindValueByName(text);
      int n;
      if (!e && ParseInteger(text, &n)) e = f->enum_type()->FindValueByNumber(n);
      if (!e) return "not a value of " + f->enum_type()->name();
      rep ? r->AddEnum(m, f, e) : r->SetEnum(m, f, e);
      return "";
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string v = text;
      if (f->type() == FieldDescriptor::TYPE_BYTES && !DecodeBase64(text, &v)) {
        return "not base64";
      }
      rep ? r->AddString(m, f, std::move(v)) : r->SetString(m, f, std::move(v));
      return "";
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return "not a scalar field";
  }
  return "unsupported field type";
}

const FieldDescriptor* FieldByName(const Descriptor* d, std::string_view name) {
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->name() == name || f->json_name() == name) return f;
  }
  return nullptr;
}

// Applies one query parameter ("a.b.c" = values) to `m`. Unknown fields are
// ignored, as grpc-gateway does. Returns "" or the error.
std::string ApplyParam(Message* m, const std::string& dotted,
                       const std::vector<std::string>& vals) {
  Message* cur = m;
  std::string_view rest = dotted;
  while (true) {
    const size_t dot = rest.find('.');
    const FieldDescriptor* f = FieldByName(cur->GetDescriptor(), rest.substr(0, dot));
    if (!f) return "";
    if (dot == std::string_view::npos) {
      if (f->is_map() || f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        return "parameter " + dotted + " is not a scalar field";
      }
      if (!f->is_repeated() && vals.size() > 1) {
        return "parameter " + dotted + " is not repeated but given " + std::to_string(vals.size()) +
               " times";
      }
      for (const std::string& v : vals) {
        std::string err = SetFromText(cur, f, v);
        if (!err.empty()) return "type mismatch, parameter: " + dotted + ", error: " + err;
      }
      return "";
    }
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || f->is_repeated()) {
      return "parameter " + dotted + " does not name a field";
    }
    cur = cur->GetReflection()->MutableMessage(cur, f);
    rest = rest.substr(dot + 1);
  }
}

// Header names as Go's net/http writes them ("grpc-metadata-immudb-uuid" ->
// "Grpc-Metadata-Immudb-Uuid").
std::string CanonicalHeader(std::string_view key) {
  std::string out(key);
  bool upper = true;
  for (char& c : out) {
    c = static_cast<char>(upper ? std::toupper(static_cast<unsigned char>(c))
                                : std::tolower(static_cast<unsigned char>(c)));
    upper = c == '-';
  }
  return out;
}

bool LegalMetadataKey(std::string_view k) {
  if (k.empty() || StartsWith(k, "grpc-")) return false;
  return std::all_of(k.begin(), k.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

bool LegalMetadataValue(std::string_view v) {
  return std::all_of(v.begin(), v.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

// Copies the caller's credentials and Grpc-Metadata-* headers into `ctx`
// (grpc-gateway's incoming header rules plus immudb's `sessionid`). Returns
// "" or what is wrong with a header.
std::string CopyMetadata(const httplib::Request& req, grpc::ClientContext* ctx) {
  for (const auto& [name, value] : req.headers) {
    const std::string lower = Lower(name);
    std::string key;
    if (lower == "authorization" || lower == "sessionid") {
      key = lower;
    } else if (StartsWith(lower, "grpc-metadata-")) {
      key = lower.substr(std::string_view("grpc-metadata-").size());
    } else {
      continue;
    }
    if (!LegalMetadataKey(key)) return "invalid metadata header " + name;
    std::string v = value;
    if (key.size() > 4 && key.compare(key.size() - 4, 4, "-bin") == 0) {
      if (!DecodeBase64(value, &v)) return "invalid binary header " + name;
    } else if (!LegalMetadataValue(v)) {
      return "invalid value in header " + name;
    }
    ctx->AddMetadata(key, v);
  }
  std::string xff = req.get_header_value("X-Forwarded-For");
  if (LegalMetadataValue(xff) && LegalMetadataValue(req.remote_addr)) {
    ctx->AddMetadata("x-forwarded-for",
                     xff.empty() ? req.remote_addr : xff + ", " + req.remote_addr);
  }
  const std::string host = req.get_header_value("Host");
  if (!host.empty() && LegalMetadataValue(host)) ctx->AddMetadata("x-forwarded-host", host);
  return "";
}

void WriteError(httplib::Response& res, int code, const std::string& message) {
  res.status = HttpStatusFromGrpcCode(code);
  Json::Object body;
  body["error"] = message;
  body["code"] = static_cast<int64_t>(code);
  body["message"] = message;
  // grpc-gateway lists the status details here; the server sends none.
  body["details"] = Json::Array{};
  res.set_content(Json(std::move(body)).Dump(), "application/json");
}

const char* StatusText(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 416:
      return "Range Not Satisfiable";
    default:
      return status < 500 ? "Bad Request" : "Internal Server Error";
  }
}

void WritePlain(httplib::Response& res, int status, const char* text) {
  res.status = status;
  res.set_content(std::string(text) + "\n", "text/plain; charset=utf-8");
}

bool IsBlank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

bool IsLoopback(const std::string& addr) {
  return StartsWith(addr, "127.") || addr == "::1" || StartsWith(addr, "::ffff:127.");
}

// One unary call through the generic stub; blocks until it completes.
grpc::Status CallUnary(const std::shared_ptr<grpc::Channel>& channel, const std::string& path,
                       grpc::ClientContext* ctx, const Message& req, Message* resp) {
  grpc::TemplatedGenericStub<Message, Message> stub(channel);
  std::promise<grpc::Status> done;
  std::future<grpc::Status> result = done.get_future();
  stub.UnaryCall(ctx, path, grpc::StubOptions(), &req, resp,
                 [&done](grpc::Status st) { done.set_value(std::move(st)); });
  return result.get();
}

// The route of RestRoutes() whose path matches `segments` for `verb`
// ("" = any verb); nullptr when none does.
const RestRoute* MatchRoute(std::string_view verb, const std::vector<std::string>& segments) {
  for (const RestRoute& r : RestRoutes()) {
    if (!verb.empty() && verb != r.verb) continue;
    const auto pattern = SplitPath(std::string_view(r.path).substr(1));
    if (pattern.size() != segments.size()) continue;
    bool ok = true;
    for (size_t i = 0; ok && i < pattern.size(); ++i) {
      ok = (!pattern[i].empty() && pattern[i].front() == '{') || pattern[i] == segments[i];
    }
    if (ok) return &r;
  }
  return nullptr;
}

// The route-relative path of a request target ("/api/v2/db/x?y" ->
// "/db/x"); false outside /api/.
bool RoutePath(std::string_view target, std::string_view* out) {
  target = target.substr(0, target.find('?'));
  for (std::string_view prefix : {"/api/v2/", "/api/"}) {
    if (StartsWith(target, prefix)) {
      *out = target.substr(prefix.size() - 1);
      return true;
    }
  }
  return false;
}

constexpr char kDocsPage[] =
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>immudb REST API</title></head>"
    "<body><h1>immudb REST API</h1><p>OpenAPI 2.0 document: "
    "<a href=\"/api/docs/swagger.json\">/api/docs/swagger.json</a></p></body></html>\n";

constexpr char kMissingConsolePage[] =
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>immudb</title></head>"
    "<body><h1>immudb</h1><p>This server has no web console. The REST API is under "
    "<a href=\"/api/docs/\">/api</a>.</p></body></html>\n";

}  // namespace

int HttpStatusFromGrpcCode(int code) {
  static constexpr int kMap[] = {200, 408, 500, 400, 504, 404, 409, 403, 429,
                                 400, 409, 400, 501, 500, 503, 500, 401};
  return code >= 0 && code <= 16 ? kMap[code] : 500;
}

RestGateway::RestGateway(std::shared_ptr<grpc::Channel> channel) : channel_(std::move(channel)) {}

RestGateway::~RestGateway() { Stop(); }

Status RestGateway::Start(const RestGatewayOptions& options) {
  options_ = options;
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const RestRoute& r : RestRoutes()) {
    if (!pool->FindMethodByName(r.method)) {
      return Status::Internal(std::string("web server: no RPC ") + r.method);
    }
  }
  if (options.swagger_ui) openapi_ = OpenApiDocument();
  if (options.certificate.empty()) {
    http_ = NewGuardedHttpServer(options.limits);
  } else {
    http_ = NewGuardedHttpsServer(options.limits, options.certificate, options.pkey,
                                  options.mtls ? options.clientcas : std::string());
    if (!http_->is_valid()) {
      http_.reset();
      return Status::InvalidArgument("web server: cannot load certificate " + options.certificate +
                                     " and key " + options.pkey);
    }
  }
  http_->set_payload_max_length(options.max_body_bytes);
  // Requests without a body (GET, and POST with neither Content-Length nor
  // Transfer-Encoding, which httplib would refuse) are answered here, before
  // httplib's regex routing; body routes are literal paths registered below.
  http_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    // Outside /api: immudb's web console place. This server has no console:
    // as immudb built without it, every such path redirects to /missing/, a
    // page that says so.
    const std::string_view path = std::string_view(req.target).substr(0, req.target.find('?'));
    if (path != "/api" && !StartsWith(path, "/api/")) {
      if (path == "/missing/") {
        res.set_content(kMissingConsolePage, "text/html; charset=utf-8");
      } else {
        res.status = 307;
        res.set_header("Location", "/missing/");
      }
      return httplib::Server::HandlerResponse::Handled;
    }
    const bool bodyless_post = req.method == "POST" && !req.has_header("Content-Length") &&
                               !req.has_header("Transfer-Encoding");
    if (req.method != "GET" && !bodyless_post) return httplib::Server::HandlerResponse::Unhandled;
    Handle(req, res);
    return httplib::Server::HandlerResponse::Handled;
  });
  for (const RestRoute& r : RestRoutes()) {
    if (!r.body) continue;
    for (const char* prefix : {"/api", "/api/v2"}) {
      http_->Post(std::string(prefix) + r.path,
                  [this, &r](const httplib::Request& req, httplib::Response& res) {
                    Forward(r, {}, req, res);
                  });
    }
  }
  // Unmatched requests: 405 when the path has a route for another verb,
  // else 404, with grpc-gateway's plain-text bodies.
  http_->set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        std::string_view path;
        std::vector<std::string> segments;
        if (res.status == 404 && RoutePath(req.target, &path)) {
          std::string decoded;
          for (std::string_view s : SplitPath(path.substr(1))) {
            segments.push_back(PercentDecode(s, &decoded) ? decoded : std::string(s));
          }
          if (MatchRoute("", segments)) res.status = 405;
        }
        WritePlain(res, res.status, StatusText(res.status));
        return httplib::Server::HandlerResponse::Handled;
      }));

  Status listening = ListenInBackground(http_.get(), "web server", options.address, options.port,
                                        &port_, &thread_, &listen_returned_);
  if (!listening.ok()) {
    port_ = 0;
    http_.reset();
  }
  return listening;
}

void RestGateway::Stop() {
  if (!thread_.joinable()) return;
  http_->stop();
  thread_.join();
  port_ = 0;
}

void RestGateway::Handle(const httplib::Request& req, httplib::Response& res) {
  const std::string_view target = req.target;
  const std::string_view path_only = target.substr(0, target.find('?'));
  if (options_.swagger_ui && req.method == "GET") {
    if (path_only == "/api/docs" || path_only == "/api/docs/") {
      res.set_content(kDocsPage, "text/html; charset=utf-8");
      return;
    }
    if (path_only == "/api/docs/swagger.json" || path_only == "/api/docs/schema.swagger.json" ||
        path_only == "/api/docs/apidocs.swagger.json") {
      res.set_content(openapi_, "application/json");
      return;
    }
  }
  std::string_view path;
  if (!RoutePath(target, &path)) return WritePlain(res, 404, "Not Found");
  std::vector<std::string> segments;
  for (std::string_view s : SplitPath(path.substr(1))) {
    std::string decoded;
    if (!PercentDecode(s, &decoded)) return WritePlain(res, 400, "Bad Request");
    segments.push_back(std::move(decoded));
  }
  if (const RestRoute* r = MatchRoute(req.method, segments)) return Forward(*r, segments, req, res);
  if (MatchRoute("", segments)) return WritePlain(res, 405, "Method Not Allowed");
  WritePlain(res, 404, "Not Found");
}

void RestGateway::Forward(const RestRoute& route, const std::vector<std::string>& segments,
                          const httplib::Request& req, httplib::Response& res) {
  const MethodDescriptor* method =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(route.method);
  auto* factory = google::protobuf::MessageFactory::generated_factory();
  std::unique_ptr<Message> request(factory->GetPrototype(method->input_type())->New());
  std::unique_ptr<Message> response(factory->GetPrototype(method->output_type())->New());

  if (route.body) {
    if (!IsBlank(req.body)) {
      google::protobuf::util::JsonParseOptions opts;
      opts.ignore_unknown_fields = true;
      auto st = google::protobuf::util::JsonStringToMessage(req.body, request.get(), opts);
      if (!st.ok()) {
        const auto msg = st.message();
        return WriteError(res, kGrpcInvalidArgument, std::string(msg.data(), msg.size()));
      }
    }
  } else {
    // Path parameters first, then the query (fields bound by the path are
    // not taken from the query).
    const auto pattern = SplitPath(std::string_view(route.path).substr(1));
    std::vector<std::string> bound;
    for (size_t i = 0; i < pattern.size() && i < segments.size(); ++i) {
      if (pattern[i].empty() || pattern[i].front() != '{') continue;
      std::string name(pattern[i].substr(1, pattern[i].size() - 2));
      std::string err = ApplyParam(request.get(), name, {segments[i]});
      if (!err.empty()) return WriteError(res, kGrpcInvalidArgument, err);
      bound.push_back(std::move(name));
    }
    std::map<std::string, std::vector<std::string>> query;
    for (const auto& [k, v] : req.params) query[k].push_back(v);
    for (const auto& [k, vals] : query) {
      if (std::find(bound.begin(), bound.end(), k) != bound.end()) continue;
      std::string err = ApplyParam(request.get(), k, vals);
      if (!err.empty()) return WriteError(res, kGrpcInvalidArgument, err);
    }
  }

  if (options_.local_clients_only && !IsLoopback(req.remote_addr)) {
    return WriteError(res, static_cast<int>(grpc::StatusCode::PERMISSION_DENIED),
                      kErrAuthDisabledRemote);
  }
  grpc::ClientContext ctx;
  std::string err = CopyMetadata(req, &ctx);
  if (!err.empty()) return WriteError(res, kGrpcInvalidArgument, err);
  const std::string rpc_path = "/" + method->service()->full_name() + "/" + method->name();
  grpc::Status st = CallUnary(channel_, rpc_path, &ctx, *request, response.get());
  for (const auto& [k, v] : ctx.GetServerInitialMetadata()) {
    const std::string_view key(k.data(), k.size());
    if (key.size() > 4 && key.substr(key.size() - 4) == "-bin") continue;
    res.set_header(CanonicalHeader("grpc-metadata-" + std::string(key)),
                   std::string(v.data(), v.size()));
  }
  if (!st.ok()) return WriteError(res, st.error_code(), st.error_message());

  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  std::string out;
  auto pst = google::protobuf::util::MessageToJsonString(*response, &out, opts);
  if (!pst.ok()) return WriteError(res, 13, "failed to marshal the response");
  res.status = 200;
  res.set_content(out, "application/json");
}

}  // namespace immudb::server
