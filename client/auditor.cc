// Auditor: the audit run (auditor.h steps 1 to 4). Metrics, the webhook and
// the monitoring server are in auditor_report.cc.
#include "client/auditor.h"

#include <httplib.h>  // Complete type for the monitoring server member.

#include <filesystem>
#include <system_error>

#include "client/convert.h"
#include "client/tampering.h"
#include "client/verifier.h"

namespace immudb::client {
namespace {

using google::protobuf::Empty;

std::string Id(uint64_t tx) { return std::to_string(tx); }

std::string StateFileName(const Options& o) {
  std::string name = ".immudb-audit-state-" + o.address + "-" + std::to_string(o.port);
  for (char& c : name) {
    if (c == '/' || c == ':') c = '_';
  }
  return name;
}

// A server that admits its stored data does not match its hashes (DATA_LOSS)
// has lost or altered what it committed: for an auditor that is tampering.
Status CallStatus(Client* c, const grpc::ClientContext& ctx, const grpc::Status& gs,
                  const std::string& what) {
  Status st = c->Finish(ctx, gs);
  if (st.ok()) return st;
  if (gs.error_code() == grpc::StatusCode::DATA_LOSS) {
    return Tampering(what + ": server reports corrupted data: " + gs.error_message());
  }
  return st.WithPrefix(what);
}

DbAudit Failed(DbAudit a, const Status& st) {
  a.result = IsTampering(st) ? AuditResult::kTampered : AuditResult::kError;
  a.message = st.message();
  return a;
}

}  // namespace

bool AuditReport::tampered() const {
  for (const DbAudit& d : dbs) {
    if (d.result == AuditResult::kTampered) return true;
  }
  return false;
}

bool AuditReport::failed() const {
  if (!error.empty()) return true;
  for (const DbAudit& d : dbs) {
    if (d.result == AuditResult::kError) return true;
  }
  return false;
}

Result<std::unique_ptr<Auditor>> Auditor::Create(AuditorOptions options) {
  if (options.username.empty()) return Status::InvalidArgument("audit username is empty");
  if (options.interval.count() <= 0) {
    return Status::InvalidArgument("audit interval must be positive");
  }
  const std::string& url = options.notification_url;
  if (!url.empty() && url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return Status::InvalidArgument("notification URL must start with http:// or https://: " + url);
  }
  if (options.state_dir.empty()) options.state_dir = ".";
  std::unique_ptr<SignatureVerifier> verifier;
  if (!options.client.server_signing_pub_key.empty()) {
    IMMUDB_ASSIGN_OR_RETURN(verifier,
                            SignatureVerifier::FromFile(options.client.server_signing_pub_key));
  }
  std::error_code ec;
  std::filesystem::create_directories(options.state_dir, ec);
  if (ec) {
    return Status::IOError("cannot create audit state directory " + options.state_dir + ": " +
                           ec.message());
  }
  return std::unique_ptr<Auditor>(new Auditor(std::move(options), std::move(verifier)));
}

Auditor::Auditor(AuditorOptions options, std::unique_ptr<SignatureVerifier> verifier)
    : options_(std::move(options)),
      verifier_(std::move(verifier)),
      server_address_(options_.client.address + ":" + std::to_string(options_.client.port)),
      store_(options_.state_dir + "/" + StateFileName(options_.client)) {}

Auditor::~Auditor() { Stop(); }

void Auditor::Log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

AuditReport Auditor::RunOnce() {
  std::lock_guard<std::mutex> lock(run_mu_);
  AuditReport report;
  report.run = ++runs_;
  Log("audit #" + Id(report.run) + " started");
  if (!client_) {
    Options o = options_.client;
    o.state_dir = options_.state_dir;
    Result<std::unique_ptr<Client>> c = Client::Open(o);
    if (!c.ok()) {
      report.error = c.status().message();
    } else {
      client_ = std::move(c).value();
    }
  }
  if (client_) {
    Status st = client_->Login(options_.username, options_.password);
    if (!st.ok()) {
      report.error = "login as " + options_.username + ": " + st.message();
    } else {
      Result<std::vector<std::string>> dbs = Databases(client_.get());
      if (!dbs.ok()) report.error = dbs.status().message();
      for (const std::string& db : dbs.ok() ? *dbs : std::vector<std::string>{}) {
        Status use = client_->UseDatabase(db);
        DbAudit a;
        if (!use.ok()) {
          a.db = db;
          a = Failed(std::move(a), use.WithPrefix("select database " + db));
        } else {
          a = AuditDatabase(client_.get(), db, &report.server_id);
        }
        report.dbs.push_back(std::move(a));
      }
      (void)client_->Logout();
    }
  }
  if (report.server_id.empty()) report.server_id = client_ ? client_->server_uuid() : "";
  for (const DbAudit& a : report.dbs) {
    std::string line = "audit #" + Id(report.run) + " result: db: " + a.db;
    switch (a.result) {
      case AuditResult::kOk:
        line += ", consistent: true";
        break;
      case AuditResult::kTampered:
        line += ", consistent: false, possible tampering: " + a.message;
        break;
      case AuditResult::kError:
        line += ", error: " + a.message;
        break;
      case AuditResult::kNotChecked:
        line += ", not checked (nothing to compare with)";
        break;
    }
    if (a.previous) {
      line += ", previous state: " + ToHex(a.previous->tx_hash) + " at tx " + Id(a.previous->tx_id);
    }
    if (a.current) {
      line += ", current state: " + ToHex(a.current->tx_hash) + " at tx " + Id(a.current->tx_id);
    }
    Log(line);
    if (a.result == AuditResult::kTampered) {
      Log("audit #" + Id(report.run) + " detected possible tampering of db " + a.db +
          ": the trusted local state is kept");
      Notify(report, a);
    }
  }
  if (!report.error.empty()) Log("audit #" + Id(report.run) + " failed: " + report.error);
  Record(report);
  return report;
}

Result<std::vector<std::string>> Auditor::Databases(Client* c) {
  schema::DatabaseListResponse resp;
  auto ctx = c->NewContext();
  grpc::Status gs = c->stub().DatabaseList(ctx.get(), Empty(), &resp);
  std::vector<std::string> out;
  if (gs.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    out = options_.databases.empty() ? std::vector<std::string>{"defaultdb"} : options_.databases;
    return out;
  }
  IMMUDB_RETURN_IF_ERROR(c->Finish(*ctx, gs).WithPrefix("list databases"));
  for (const schema::Database& d : resp.databases()) {
    bool wanted = options_.databases.empty();
    for (const std::string& prefix : options_.databases) {
      if (d.databasename().rfind(prefix, 0) == 0) wanted = true;
    }
    if (wanted) out.push_back(d.databasename());
  }
  if (out.empty()) return Status::NotFound("no databases to audit");
  return out;
}

DbAudit Auditor::AuditDatabase(Client* c, const std::string& db, std::string* server_id) {
  DbAudit a;
  a.db = db;
  // 1. The current state, signature checked.
  schema::ImmutableState resp;
  auto ctx = c->NewContext();
  grpc::Status gs = c->stub().CurrentState(ctx.get(), Empty(), &resp);
  Status st = CallStatus(c, *ctx, gs, "current state");
  if (!st.ok()) return Failed(std::move(a), st);
  if (c->server_uuid().empty()) {
    return Failed(std::move(a), Status::FailedPrecondition("server sent no immudb-uuid header"));
  }
  *server_id = c->server_uuid();
  Result<State> parsed = FromProto(resp);
  if (!parsed.ok())
    return Failed(std::move(a), Tampering("malformed state: " + parsed.status().message()));
  State cur = std::move(parsed).value();
  if (cur.db.empty()) cur.db = db;
  if (cur.db != db) {
    return Failed(std::move(a), Tampering("state is for database '" + cur.db + "', not " + db));
  }
  a.current = cur;
  if (verifier_) {
    st = verifier_->Verify(cur);
    if (!st.ok()) return Failed(std::move(a), st);
  }

  // 2. Consistency with the trusted state.
  Result<std::optional<State>> prev = store_.Get(*server_id, db);
  if (!prev.ok()) return Failed(std::move(a), prev.status());
  a.previous = *prev;
  uint64_t from = 0;
  Hash from_alh = EmptyHash();
  if (a.previous) {
    const State& p = *a.previous;
    if (cur.tx_id < p.tx_id) {
      return Failed(std::move(a), Tampering("server state went backwards: tx " + Id(cur.tx_id) +
                                            " is behind trusted tx " + Id(p.tx_id)));
    }
    if (cur.tx_id == p.tx_id && cur.tx_hash != p.tx_hash) {
      return Failed(std::move(a), Tampering("server state at tx " + Id(cur.tx_id) +
                                            " differs from the trusted one"));
    }
    if (cur.tx_id > p.tx_id) {
      schema::VerifiableTxRequest req;
      req.set_tx(cur.tx_id);
      req.set_provesincetx(p.tx_id);
      schema::VerifiableTx vtx;
      auto vctx = c->NewContext();
      gs = c->stub().VerifiableTxById(vctx.get(), req, &vtx);
      st = CallStatus(c, *vctx, gs, "consistency proof");
      if (!st.ok()) return Failed(std::move(a), st);
      Result<State> proven = VerifyTxReply(vtx, cur.tx_id, p);
      if (!proven.ok()) return Failed(std::move(a), proven.status());
      if (proven->tx_hash != cur.tx_hash) {
        return Failed(std::move(a),
                      Tampering("current state hash is not the proven Alh of tx " + Id(cur.tx_id)));
      }
    }
    from = p.tx_id;
    from_alh = p.tx_hash;
  }

  // 3. The new transactions, values included.
  if (options_.verify_values && cur.tx_id > from) {
    st = CheckValues(c, from, from_alh, cur.tx_id, cur.tx_hash, &a.txs_checked);
    if (!st.ok()) return Failed(std::move(a), st);
  }
  const bool checked = a.previous.has_value() || a.txs_checked > 0;
  a.result = checked ? AuditResult::kOk : AuditResult::kNotChecked;

  // 4. Trust the checked state.
  if (cur.tx_id > 0 && (!a.previous || cur != *a.previous)) {
    st = store_.Put(*server_id, cur);
    if (!st.ok()) {
      return Failed(std::move(a), IsTampering(st) ? st : st.WithPrefix("store trusted state"));
    }
  }
  return a;
}

Status Auditor::CheckValues(Client* c, uint64_t from, const Hash& from_alh, uint64_t to,
                            const Hash& to_alh, uint64_t* checked) {
  Hash alh = from_alh;
  for (uint64_t id = from + 1; id <= to; ++id) {
    schema::TxRequest req;
    req.set_tx(id);
    schema::EntriesSpec* spec = req.mutable_entriesspec();
    spec->mutable_kventriesspec()->set_action(schema::RAW_VALUE);
    spec->mutable_zentriesspec()->set_action(schema::RAW_VALUE);
    spec->mutable_sqlentriesspec()->set_action(schema::RAW_VALUE);
    req.set_keepreferencesunresolved(true);
    schema::Tx resp;
    auto ctx = c->NewContext();
    grpc::Status gs = c->stub().TxById(ctx.get(), req, &resp);
    IMMUDB_RETURN_IF_ERROR(CallStatus(c, *ctx, gs, "tx " + Id(id)));
    Result<Tx> tx = FromProto(resp);
    if (!tx.ok()) return Tampering("malformed tx " + Id(id) + ": " + tx.status().message());
    const TxHeader& h = tx->header;
    if (h.id != id) return Tampering("asked for tx " + Id(id) + ", got tx " + Id(h.id));
    if (h.prev_alh != alh) {
      return Tampering("tx " + Id(id) + " does not chain to the Alh of tx " + Id(id - 1));
    }
    if (tx->entries.size() != h.nentries) {
      return Tampering("tx " + Id(id) + ": " + std::to_string(tx->entries.size()) + " of " +
                       std::to_string(h.nentries) + " entries returned");
    }
    Result<Hash> eh = ComputeEh(h.version, tx->entries);
    if (!eh.ok() || *eh != h.eh) return Tampering("tx " + Id(id) + ": entries do not hash to Eh");
    for (int i = 0; i < resp.entries_size(); ++i) {
      const std::string& value = resp.entries(i).value();
      const TxEntry& e = tx->entries[i];
      if (value.size() != e.vlen || Sha256Of(value) != e.hval) {
        return Tampering("tx " + Id(id) + " entry " + std::to_string(i) +
                         ": value does not match its hash");
      }
    }
    Result<Hash> next = h.Alh();
    if (!next.ok()) return Tampering("tx " + Id(id) + ": " + next.status().message());
    alh = *next;
    ++*checked;
  }
  if (alh != to_alh) {
    return Tampering("transactions " + Id(from + 1) + ".." + Id(to) +
                     " do not lead to the current state's hash");
  }
  return Status::OK();
}

}  // namespace immudb::client
