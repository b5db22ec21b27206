// Replicators (replicator.h).
#include "server/replicator.h"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "schema.grpc.pb.h"
#include "server/stream_framing.h"

namespace immudb::server {

namespace {

std::unique_ptr<grpc::ClientContext> Context(const std::string& token, int seconds) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

bool SameSource(const DbSettings& a, const DbSettings& b) {
  return a.replica == b.replica && a.primary_host == b.primary_host &&
         a.primary_port == b.primary_port && a.primary_database == b.primary_database &&
         a.primary_username == b.primary_username && a.primary_password == b.primary_password;
}

}  // namespace

Replicator::Replicator(std::string name, DbHandle* db, DbSettings settings)
    : name_(std::move(name)), db_(db), settings_(std::move(settings)) {
  thread_ = std::thread([this] { Run(); });
}

Replicator::~Replicator() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Replicator::Sleep(int ms) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, std::chrono::milliseconds(ms), [&] { return stop_; });
  return !stop_;
}

void Replicator::Run() {
  const DbSettings& s = settings_;
  const std::string target = s.primary_host + ":" + std::to_string(s.primary_port);
  const std::string source_db = s.primary_database.empty() ? kDefaultDb : s.primary_database;
  spdlog::info("replication of '{}' from {} database '{}' started", name_, target, source_db);
  int backoff_ms = 100;
  std::string last_error;
  auto fail = [&](const std::string& what) {
    if (what != last_error) spdlog::warn("replication of '{}': {}", name_, what);
    last_error = what;
  };
  while (Sleep(0)) {
    auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
    auto stub = schema::ImmuService::NewStub(channel);
    std::string token;
    {
      schema::LoginRequest req;
      req.set_user(s.primary_username);
      req.set_password(s.primary_password);
      schema::LoginResponse resp;
      grpc::Status st = stub->Login(Context("", 5).get(), req, &resp);
      if (st.ok()) {
        schema::Database use;
        use.set_databasename(source_db);
        schema::UseDatabaseReply reply;
        st = stub->UseDatabase(Context(resp.token(), 5).get(), use, &reply);
        token = reply.token();
      }
      if (!st.ok()) {
        fail("cannot log in to " + target + ": " + st.error_message());
        if (!Sleep(backoff_ms)) break;
        backoff_ms = std::min(backoff_ms * 2, 5000);
        continue;
      }
    }
    // Pull the transaction after our last one until told to stop.
    while (Sleep(0)) {
      Database* db = db_->db.get();
      if (db == nullptr) return;  // Unloaded; the manager ends this replicator.
      const uint64_t next = db->CurrentState().tx_id + 1;
      schema::ExportTxRequest req;
      req.set_tx(next);
      auto ctx = Context(token, 30);
      auto reader = stub->exportTx(ctx.get(), req);
      StreamReader in([&](schema::Chunk* c) { return reader->Read(c); });
      auto msg = in.Next();
      while (msg.ok() && msg->has_value()) {
        // One message per export: drain anything else before Finish.
        auto extra = in.Next();
        if (!extra.ok() || !extra->has_value()) break;
      }
      grpc::Status st = reader->Finish();
      if (!st.ok()) {
        if (st.error_message() == "tx not found") {
          // Caught up: poll for the next one.
          last_error.clear();
          backoff_ms = 100;
          if (!Sleep(100)) return;
          continue;
        }
        fail("exportTx of tx " + std::to_string(next) + " from " + target + ": " +
             st.error_message());
        break;  // Reconnect after the backoff.
      }
      if (!msg.ok() || !msg->has_value()) {
        fail("exportTx of tx " + std::to_string(next) + " sent no transaction");
        break;
      }
      auto h = db->ReplicateTx(**msg, /*no_wait=*/true);
      if (!h.ok()) {
        if (h.status().code() == StatusCode::kFailedPrecondition ||
            h.status().code() == StatusCode::kInvalidArgument) {
          // Diverged or malformed: never write anything that does not chain.
          spdlog::error("replication of '{}' stopped at tx {}: {}", name_, next,
                        h.status().message());
          return;
        }
        fail("replicating tx " + std::to_string(next) + ": " + h.status().message());
        break;
      }
      last_error.clear();
      backoff_ms = 100;
    }
    if (!Sleep(backoff_ms)) break;
    backoff_ms = std::min(backoff_ms * 2, 5000);
  }
  spdlog::info("replication of '{}' stopped", name_);
}

ReplicationManager::ReplicationManager(DatabaseManager* dbs) : dbs_(dbs) {
  thread_ = std::thread([this] { Run(); });
}

ReplicationManager::~ReplicationManager() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ReplicationManager::Run() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    l.unlock();
    Reconcile();
    l.lock();
    cv_.wait_for(l, std::chrono::milliseconds(200), [&] { return stop_; });
  }
  l.unlock();
  running_.clear();  // Joins every replicator.
}

void ReplicationManager::Reconcile() {
  std::map<std::string, std::pair<DbHandle*, DbSettings>> want;
  for (const std::string& name : dbs_->Names()) {
    auto h = dbs_->Get(name);
    if (!h.ok() || !(*h)->loaded()) continue;
    const DbSettings& s = (*h)->settings;
    if (s.replica && !s.primary_host.empty()) want.emplace(name, std::make_pair(*h, s));
  }
  for (auto it = running_.begin(); it != running_.end();) {
    auto w = want.find(it->first);
    if (w == want.end() || w->second.first != it->second->handle() ||
        !SameSource(w->second.second, it->second->settings())) {
      it = running_.erase(it);  // Joins it.
    } else {
      ++it;
    }
  }
  for (auto& [name, hs] : want) {
    if (running_.count(name) == 0) {
      running_[name] = std::make_unique<Replicator>(name, hs.first, hs.second);
    }
  }
}

}  // namespace immudb::server
