// The REST API's description: the HTTP bindings of immudb's RPCs (the
// google.api.http options of immudb's schema.proto and authorization.proto,
// wire-api.md §2 and §8) and an OpenAPI 2.0 document generated from them and
// from the proto descriptors, so the document cannot drift from the gateway.
#include <google/protobuf/descriptor.h>

#include <map>
#include <set>

#include "server/json.h"
#include "server/rest_gateway.h"

namespace immudb::server {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

#define IMMU(name) "immudb.schema.ImmuService." name
#define AUTHZ(name) "immudb.model.AuthorizationService." name

// Definition name of a message, as protoc-gen-swagger spells it: the last
// package component, then the (outer) message names ("schemaEntry").
std::string DefName(const Descriptor* d) {
  std::string pkg = d->file()->package();
  pkg = pkg.substr(pkg.rfind('.') + 1);
  std::string name = d->full_name().substr(d->file()->package().size() + 1);
  std::string out = pkg;
  for (char c : name) {
    if (c != '.') out += c;
  }
  return out;
}

Json Ref(const Descriptor* d) { return Json::Object{{"$ref", "#/definitions/" + DefName(d)}}; }

// The schema of one value of field `f` (its element type when repeated).
Json ScalarSchema(const FieldDescriptor* f, std::set<const Descriptor*>* todo) {
  switch (f->type()) {
    case FieldDescriptor::TYPE_DOUBLE:
      return Json::Object{{"type", "number"}, {"format", "double"}};
    case FieldDescriptor::TYPE_FLOAT:
      return Json::Object{{"type", "number"}, {"format", "float"}};
    case FieldDescriptor::TYPE_INT64:
    case FieldDescriptor::TYPE_SINT64:
    case FieldDescriptor::TYPE_SFIXED64:
      return Json::Object{{"type", "string"}, {"format", "int64"}};
    case FieldDescriptor::TYPE_UINT64:
    case FieldDescriptor::TYPE_FIXED64:
      return Json::Object{{"type", "string"}, {"format", "uint64"}};
    case FieldDescriptor::TYPE_INT32:
    case FieldDescriptor::TYPE_SINT32:
    case FieldDescriptor::TYPE_SFIXED32:
      return Json::Object{{"type", "integer"}, {"format", "int32"}};
    case FieldDescriptor::TYPE_UINT32:
    case FieldDescriptor::TYPE_FIXED32:
      return Json::Object{{"type", "integer"}, {"format", "int64"}};
    case FieldDescriptor::TYPE_BOOL:
      return Json::Object{{"type", "boolean"}};
    case FieldDescriptor::TYPE_STRING:
      return Json::Object{{"type", "string"}};
    case FieldDescriptor::TYPE_BYTES:
      return Json::Object{{"type", "string"}, {"format", "byte"}};
    case FieldDescriptor::TYPE_ENUM: {
      Json::Array names;
      for (int i = 0; i < f->enum_type()->value_count(); ++i) {
        names.emplace_back(f->enum_type()->value(i)->name());
      }
      return Json::Object{{"type", "string"}, {"enum", std::move(names)}};
    }
    case FieldDescriptor::TYPE_MESSAGE:
    case FieldDescriptor::TYPE_GROUP:
      todo->insert(f->message_type());
      return Ref(f->message_type());
  }
  return Json::Object{};
}

Json FieldSchema(const FieldDescriptor* f, std::set<const Descriptor*>* todo) {
  if (f->is_map()) {
    return Json::Object{{"type", "object"},
                        {"additionalProperties", ScalarSchema(f->message_type()->field(1), todo)}};
  }
  Json item = ScalarSchema(f, todo);
  if (!f->is_repeated()) return item;
  return Json::Object{{"type", "array"}, {"items", std::move(item)}};
}

Json MessageSchema(const Descriptor* d, std::set<const Descriptor*>* todo) {
  Json::Object props;
  for (int i = 0; i < d->field_count(); ++i) {
    props[d->field(i)->name()] = FieldSchema(d->field(i), todo);
  }
  Json::Object out{{"type", "object"}};
  if (!props.empty()) out["properties"] = std::move(props);
  return out;
}

// Path and query parameters of a route without a body: each field in the
// path, then the other scalar top-level fields as query parameters.
Json::Array Parameters(const RestRoute& r, const Descriptor* in,
                       std::set<const Descriptor*>* todo) {
  Json::Array params;
  if (r.body) {
    params.push_back(
        Json::Object{{"name", "body"}, {"in", "body"}, {"required", true}, {"schema", Ref(in)}});
    todo->insert(in);
    return params;
  }
  const std::string path = r.path;
  for (int i = 0; i < in->field_count(); ++i) {
    const FieldDescriptor* f = in->field(i);
    if (f->is_map() || f->type() == FieldDescriptor::TYPE_MESSAGE) continue;
    const bool in_path = path.find("{" + f->name() + "}") != std::string::npos;
    Json::Object p{{"name", f->name()}, {"in", in_path ? "path" : "query"}, {"required", in_path}};
    Json schema = FieldSchema(f, todo);
    for (const auto& [k, v] : *schema.as_object()) p[k] = v;
    if (f->is_repeated()) p["collectionFormat"] = "multi";
    params.push_back(std::move(p));
  }
  return params;
}

}  // namespace

const std::vector<RestRoute>& RestRoutes() {
  static const std::vector<RestRoute> kRoutes = {
      {"GET", "/user/list", IMMU("ListUsers"), false, false},
      {"POST", "/user", IMMU("CreateUser"), true, false},
      {"POST", "/user/password/change", IMMU("ChangePassword"), true, false},
      {"POST", "/user/changepermission", IMMU("ChangePermission"), true, false},
      {"POST", "/user/changesqlprivileges", IMMU("ChangeSQLPrivileges"), true, false},
      {"POST", "/user/setactiveUser", IMMU("SetActiveUser"), true, false},
      {"POST", "/login", IMMU("Login"), true, true},
      {"POST", "/logout", IMMU("Logout"), true, false},
      {"POST", "/db/set", IMMU("Set"), true, false},
      {"POST", "/db/verifiable/set", IMMU("VerifiableSet"), true, false},
      {"GET", "/db/get/{key}", IMMU("Get"), false, false},
      {"POST", "/db/verifiable/get", IMMU("VerifiableGet"), true, false},
      {"POST", "/db/deletekey", IMMU("Delete"), true, false},
      {"POST", "/db/getall", IMMU("GetAll"), true, false},
      {"POST", "/db/execall", IMMU("ExecAll"), true, false},
      {"POST", "/db/scan", IMMU("Scan"), true, false},
      {"GET", "/db/count/{prefix}", IMMU("Count"), false, false},
      {"GET", "/db/countall", IMMU("CountAll"), false, false},
      {"GET", "/db/tx/{tx}", IMMU("TxById"), false, false},
      {"GET", "/db/verifiable/tx/{tx}", IMMU("VerifiableTxById"), false, false},
      {"POST", "/db/tx", IMMU("TxScan"), true, false},
      {"POST", "/db/history", IMMU("History"), true, false},
      {"GET", "/serverinfo", IMMU("ServerInfo"), false, true},
      {"GET", "/health", IMMU("Health"), false, true},
      {"GET", "/db/health", IMMU("DatabaseHealth"), false, false},
      {"GET", "/db/state", IMMU("CurrentState"), false, false},
      {"POST", "/db/setreference", IMMU("SetReference"), true, false},
      {"POST", "/db/verifiable/setreference", IMMU("VerifiableSetReference"), true, false},
      {"POST", "/db/zadd", IMMU("ZAdd"), true, false},
      {"POST", "/db/verifiable/zadd", IMMU("VerifiableZAdd"), true, false},
      {"POST", "/db/zscan", IMMU("ZScan"), true, false},
      {"POST", "/db/create", IMMU("CreateDatabase"), true, false},
      {"POST", "/db/createwith", IMMU("CreateDatabaseWith"), true, false},
      {"POST", "/db/create/v2", IMMU("CreateDatabaseV2"), true, false},
      {"POST", "/db/load", IMMU("LoadDatabase"), true, false},
      {"POST", "/db/unload", IMMU("UnloadDatabase"), true, false},
      {"POST", "/db/delete", IMMU("DeleteDatabase"), true, false},
      {"POST", "/db/list", IMMU("DatabaseList"), true, false},
      {"POST", "/db/list/v2", IMMU("DatabaseListV2"), true, false},
      {"GET", "/db/use/{databaseName}", IMMU("UseDatabase"), false, false},
      {"POST", "/db/update", IMMU("UpdateDatabase"), true, false},
      {"POST", "/db/update/v2", IMMU("UpdateDatabaseV2"), true, false},
      {"POST", "/db/settings", IMMU("GetDatabaseSettings"), true, false},
      {"POST", "/db/settings/v2", IMMU("GetDatabaseSettingsV2"), true, false},
      {"GET", "/db/flushindex", IMMU("FlushIndex"), false, false},
      {"GET", "/db/compactindex", IMMU("CompactIndex"), false, false},
      {"POST", "/db/sqlexec", IMMU("SQLExec"), true, false},
      {"POST", "/db/sqlquery", IMMU("UnarySQLQuery"), true, false},
      {"GET", "/db/table/list", IMMU("ListTables"), false, false},
      {"POST", "/db/tables", IMMU("DescribeTable"), true, false},
      {"POST", "/db/verifiable/sqlget", IMMU("VerifiableSQLGet"), true, false},
      {"POST", "/db/truncate", IMMU("TruncateDatabase"), true, false},
      {"POST", "/authorization/session/open", AUTHZ("OpenSession"), true, true},
      {"POST", "/authorization/session/keepalive", AUTHZ("KeepAlive"), true, false},
      {"POST", "/authorization/session/close", AUTHZ("CloseSession"), true, false},
  };
  return kRoutes;
}

std::string OpenApiDocument() {
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  std::set<const Descriptor*> todo;
  std::map<std::string, Json::Object> items;
  for (const RestRoute& r : RestRoutes()) {
    const auto* m = pool->FindMethodByName(r.method);
    if (!m) continue;
    todo.insert(m->output_type());
    Json::Object op{
        {"operationId", m->service()->name() + "_" + m->name()},
        {"tags", Json::Array{Json(m->service()->name())}},
        {"parameters", Parameters(r, m->input_type(), &todo)},
        {"responses",
         Json::Object{
             {"200", Json::Object{{"description", "A successful response."},
                                  {"schema", Ref(m->output_type())}}},
             {"default",
              Json::Object{{"description", "An unexpected error response."},
                           {"schema", Json::Object{{"$ref", "#/definitions/runtimeError"}}}}},
         }},
    };
    if (r.open) op["security"] = Json::Array{};
    std::string verb = r.verb;
    for (char& c : verb) c = static_cast<char>(c - 'A' + 'a');
    items[r.path][verb] = std::move(op);
  }
  Json::Object paths;
  for (auto& [path, item] : items) paths[path] = std::move(item);

  Json::Object defs;
  while (!todo.empty()) {
    const Descriptor* d = *todo.begin();
    todo.erase(todo.begin());
    if (defs.count(DefName(d))) continue;
    std::set<const Descriptor*> more;
    defs[DefName(d)] = MessageSchema(d, &more);
    for (const Descriptor* x : more) {
      if (!defs.count(DefName(x))) todo.insert(x);
    }
  }
  defs["runtimeError"] = Json::Object{
      {"type", "object"},
      {"properties",
       Json::Object{
           {"error", Json::Object{{"type", "string"}}},
           {"code", Json::Object{{"type", "integer"}, {"format", "int32"}}},
           {"message", Json::Object{{"type", "string"}}},
           {"details",
            Json::Object{{"type", "array"}, {"items", Json::Object{{"type", "object"}}}}},
       }},
  };

  Json::Object doc{
      {"swagger", "2.0"},
      {"info", Json::Object{{"title", "immudb REST API"},
                            {"version", IMMUDB_VERSION},
                            {"description",
                             "REST/JSON gateway of immudb.schema.ImmuService and "
                             "immudb.model.AuthorizationService. 64-bit integers are JSON "
                             "strings, bytes are base64, default values are omitted."}}},
      {"basePath", "/api"},
      {"schemes", Json::Array{Json("http"), Json("https")}},
      {"consumes", Json::Array{Json("application/json")}},
      {"produces", Json::Array{Json("application/json")}},
      {"securityDefinitions",
       Json::Object{{"bearer", Json::Object{{"type", "apiKey"},
                                            {"in", "header"},
                                            {"name", "Authorization"},
                                            {"description", "Bearer <token from /login>"}}}}},
      {"security", Json::Array{Json(Json::Object{{"bearer", Json::Array{}}})}},
      {"paths", std::move(paths)},
      {"definitions", std::move(defs)},
  };
  return Json(std::move(doc)).Dump();
}

}  // namespace immudb::server
