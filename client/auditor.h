// Auditor: watches an immudb server for tampering, as immuclient's audit mode
// does (wire-api.md §11.3).
//
// Each run logs in, lists the databases the user can see (filtered by name
// prefixes) and, for each one:
//   1. reads the current state and checks its signature when a public key is
//      configured;
//   2. checks that the state extends the last state the auditor trusted for
//      that database: a dual proof (VerifiableTxById from the trusted tx to the
//      current one) whose target Alh must be the state's hash; a state behind
//      the trusted one, or another hash at the same tx, is tampering;
//   3. unless verify_values is off, re-reads every transaction after the
//      trusted one with its raw values (TxById, RAW_VALUE) and checks that the
//      headers chain from the trusted Alh to the current one, that the entries
//      hash to each header's Eh and that every value hashes to its entry's
//      hash, so a value edited on the server's disk is caught (on the first
//      run of a database, from tx 1);
//   4. stores the current state as trusted (file mode 0600, one file per
//      server address, pinning the server's uuid) only if every check passed.
// On tampering the trusted state is kept, the result is logged, exported as a
// metric and, when a notification URL is set, POSTed to it as JSON.
//
// Metrics (Prometheus text, labels server_id, server_address, db):
//   immuclient_audit_result_per_server       1 ok, 0 tampered, -1 not checked, -2 error
//   immuclient_audit_prev_root_per_server    trusted tx id before the run (-1 none)
//   immuclient_audit_curr_root_per_server    the server's current tx id (-1 unknown)
//   immuclient_audit_run_at_per_server       unix seconds of the run
//   immuclient_audit_prev_hash_info / immuclient_audit_curr_hash_info
//                                            1, with the hash in label `hash`
//   immuclient_audit_txs_checked_total       transactions re-read with values
// and, per auditor: immuclient_audit_runs_total, immuclient_audit_tampering_total,
// immuclient_audit_errors_total.
//
// Thread-safe: RunOnce, Metrics and Stop may be called from any thread; runs
// never overlap.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "client/client.h"
#include "client/signature.h"
#include "client/state_store.h"
#include "client/types.h"
#include "immudb/result.h"

namespace httplib {
class Server;
}

namespace immudb::client {

struct AuditorOptions {
  // Server address and port, public key (server_signing_pub_key), timeout.
  // state_dir is ignored: trusted states live in `state_dir` below.
  Options client;
  std::string username = "immudb";
  std::string password = "immudb";
  // Name prefixes of the databases to audit; empty = every visible database.
  // When the server cannot list databases, these names (or "defaultdb") are
  // audited as given.
  std::vector<std::string> databases;
  // Re-read new transactions with their values (step 3 above).
  bool verify_values = true;
  // Directory of the trusted-state file; created if missing.
  std::string state_dir = ".";
  std::chrono::milliseconds interval{60000};
  // Webhook called on tampering ("" = none): http://host[:port]/path.
  std::string notification_url;
  std::string notification_username;
  std::string notification_password;
  std::chrono::milliseconds notification_timeout{5000};
  // Monitoring HTTP server (/metrics, /debug/vars, /, /readyz, /livez,
  // /initz, /version); port 0 picks a free port, a negative port disables it.
  std::string monitoring_address = "0.0.0.0";
  int monitoring_port = 9477;
  // Receives one line per event (run started, result per db, errors).
  std::function<void(const std::string&)> log;
};

enum class AuditResult : int { kError = -2, kNotChecked = -1, kTampered = 0, kOk = 1 };

struct DbAudit {
  std::string db;
  AuditResult result = AuditResult::kNotChecked;
  std::optional<State> previous;  // Trusted state before the run.
  std::optional<State> current;   // The server's state, as read.
  uint64_t txs_checked = 0;       // Transactions re-read with their values.
  std::string message;            // Why, for kTampered and kError.
};

struct AuditReport {
  uint64_t run = 0;  // 1 for the first run.
  std::string server_id;
  std::string error;  // Non-empty when the run failed before auditing a db.
  std::vector<DbAudit> dbs;

  bool tampered() const;
  bool failed() const;  // error set or some db kError.
};

class Auditor {
 public:
  // Checks the options, loads the public key and creates the state directory:
  // InvalidArgument / IOError when one of them is unusable.
  static Result<std::unique_ptr<Auditor>> Create(AuditorOptions options);
  ~Auditor();
  Auditor(const Auditor&) = delete;
  Auditor& operator=(const Auditor&) = delete;

  // One audit of every selected database; waits for a run in progress.
  AuditReport RunOnce();

  // Starts the monitoring server (if enabled) and a thread that runs an audit
  // now and then every interval until Stop. `max_runs` > 0 stops the loop
  // after that many runs. Unavailable when the monitoring port cannot be bound.
  Status Start(uint64_t max_runs = 0);
  // Waits until the loop ends by itself (max_runs) or Stop is called.
  void Wait();
  // As Wait, for at most `timeout`; true when the loop has ended.
  bool WaitFor(std::chrono::milliseconds timeout);
  // Ends the loop and the monitoring server; idempotent.
  void Stop();

  // The metrics page, Prometheus text format 0.0.4.
  std::string Metrics() const;
  // The monitoring server's /debug/vars, a JSON object shaped like Go's
  // expvar page: "cmdline" (this process's arguments, the values of
  // --*password* flags hidden), "memstats" (this process's memory, from
  // /proc/self/status and malloc; field list in docs/audit.md) and "auditor"
  // (the counters and each database's latest result, as in Metrics).
  std::string DebugVars() const;
  // The monitoring server's port once started (-1 when not running).
  int monitoring_port() const { return monitoring_port_; }
  // The last run's report (run 0 before any run).
  AuditReport LastReport() const;
  // Database audits that found tampering / runs or audits that failed, so far.
  uint64_t tampering_count() const;
  uint64_t error_count() const;
  const std::string& state_path() const { return store_.path(); }

 private:
  Auditor(AuditorOptions options, std::unique_ptr<SignatureVerifier> verifier);

  // Audits the database selected in `c` (steps 1 to 4).
  DbAudit AuditDatabase(Client* c, const std::string& db, std::string* server_id);
  // Step 3: txs (from, to] chain from `from_alh` to `to_alh`, values included.
  Status CheckValues(Client* c, uint64_t from, const Hash& from_alh, uint64_t to,
                     const Hash& to_alh, uint64_t* checked);
  Result<std::vector<std::string>> Databases(Client* c);
  void Notify(const AuditReport& report, const DbAudit& audit);
  void Record(const AuditReport& report);
  void Log(const std::string& line) const;
  void Loop(uint64_t max_runs);

  const AuditorOptions options_;
  const std::unique_ptr<SignatureVerifier> verifier_;  // Null without a key.
  std::string server_address_;

  std::mutex run_mu_;               // Held for a whole run.
  std::unique_ptr<Client> client_;  // GUARDED_BY(run_mu_)
  StateStore store_;                // GUARDED_BY(run_mu_)
  uint64_t runs_ = 0;               // GUARDED_BY(run_mu_)

  struct DbMetrics {
    std::string server_id;
    DbAudit last;
    int64_t run_at = 0;
    uint64_t txs_checked_total = 0;
  };
  mutable std::mutex metrics_mu_;
  std::map<std::string, DbMetrics> db_metrics_;  // GUARDED_BY(metrics_mu_)
  uint64_t runs_total_ = 0;                      // GUARDED_BY(metrics_mu_)
  uint64_t tampering_total_ = 0;                 // GUARDED_BY(metrics_mu_)
  uint64_t errors_total_ = 0;                    // GUARDED_BY(metrics_mu_)
  AuditReport last_report_;                      // GUARDED_BY(metrics_mu_)

  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool stopping_ = false;  // GUARDED_BY(loop_mu_)
  bool loop_done_ = true;  // GUARDED_BY(loop_mu_); false while the loop runs
  std::thread loop_;
  std::unique_ptr<httplib::Server> http_;
  std::thread http_thread_;
  std::atomic<int> monitoring_port_{-1};
};

// Go duration text ("90s", "5m", "1h30m", "250ms") in milliseconds;
// InvalidArgument on anything else or a negative value.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

// A password as immudb's CLIs take it: plain text, or "enc:" + base64.
Result<std::string> DecodePassword(std::string_view text);

// Standard base64 with padding.
std::string Base64Encode(std::string_view bytes);
Result<std::string> Base64Decode(std::string_view text);

}  // namespace immudb::client
