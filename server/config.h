// ServerConfig: the immudb server's settings, read from command-line flags,
// IMMUDB_* environment variables and an immudb.toml file (wire-api.md §10).
// Precedence: flag > environment > config file > built-in default.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "immudb/result.h"

namespace immudb::server {

struct ServerConfig {
  std::string dir = "./data";
  std::string address = "0.0.0.0";
  int port = 3322;
  std::string config;  // Config file that was read ("" when none).
  std::string pidfile;
  // Log file: "" = stdout. A relative logfile lives in logdir, and a relative
  // logdir under dir (as immudb: <dir>/immulog/<logfile>); LogFilePath().
  std::string logfile;
  std::string logdir = "immulog";
  std::string logformat = "text";
  // Log segments (logfile only): a new one once a segment would exceed
  // log_rotation_size bytes (0 = no limit) or at every log_rotation_age_ms
  // boundary (0 = never; at least one minute).
  int64_t log_rotation_size = 0;
  int64_t log_rotation_age_ms = 0;
  // LOG_LEVEL (environment only): debug, info, warn (or warning), error.
  std::string log_level = "info";
  // Run in the background: the launcher returns once the server listens.
  bool detached = false;
  // Leave out the RPC latency histogram of /metrics.
  bool no_histograms = false;
  bool auth = true;
  bool mtls = false;
  std::string certificate;
  std::string pkey;
  std::string clientcas;
  int64_t max_recv_msg_size = 32 << 20;
  bool devmode = false;
  std::string admin_password = "immudb";
  bool force_admin_password = false;
  bool maintenance = false;
  std::string signing_key;
  // defaultdb as a replica that follows this primary (server/replicator.h).
  bool replication_is_replica = false;
  std::string replication_primary_host;
  int replication_primary_port = 3322;
  std::string replication_primary_username;
  std::string replication_primary_password;
  bool synced = true;
  int64_t token_expiry_minutes = 1440;
  // Token lifetime in milliseconds when > 0, overriding token_expiry_minutes
  // (no flag: for tests that need tokens to expire quickly).
  int64_t token_expiry_ms_override = 0;
  // Every database's truncation frequency in milliseconds when > 0, instead
  // of its truncationSettings.truncationFrequency (no flag: for tests of the
  // periodic truncator, server/truncator.h).
  int64_t truncation_frequency_ms_override = 0;
  // The databases' clock (Unix seconds: commit timestamps, expiry, the
  // truncator's "now") when set; the system clock otherwise (no flag: tests).
  std::function<int64_t()> now_unix_seconds;

  // Prometheus text exposition and health endpoints (wire-api.md §9).
  bool metrics_server = true;
  int metrics_server_port = 9497;  // 0 picks a free port.

  // REST/JSON gateway and its OpenAPI document (wire-api.md §8, §9).
  bool web_server = true;
  int web_server_port = 8080;  // 0 picks a free port.
  bool swaggerui = true;

  // grpc.reflection.v1alpha.ServerReflection on the gRPC port (gRPC's plugin,
  // linked by cmd/immudb, in callback mode; server/reflection_service.h in
  // queues mode).
  bool grpc_reflection = true;

  // How gRPC calls reach the handlers: "queues" (every method through one
  // generic async service served from grpc_dispatch_threads completion
  // queues of our own, server/queued_dispatch.h) or "callback" (gRPC's
  // callback API and its threads).
  std::string grpc_dispatch = "queues";
  int grpc_dispatch_threads = 1;
  // gRPC's polling engine (its GRPC_POLL_STRATEGY, which immudb's main sets
  // to this before gRPC starts; empty: gRPC's choice or the environment's).
  // "poll" polls each connection only from the queue it was accepted on, so
  // a call is read, served and completed on one thread; with "epoll1" all
  // queues share one epoll set, and a thread that reads a request for
  // another queue's call has to wake that queue's thread.
  std::string grpc_poll_strategy = "poll";

  // Sessions (wire-api.md §5.4). Durations in milliseconds; flags take Go
  // duration text ("2m", "90s", "500ms"). max_session_age_ms 0 = no limit.
  int max_sessions = 100;
  int64_t session_timeout_ms = 2 * 60 * 1000;
  int64_t max_session_inactivity_ms = 3 * 60 * 1000;
  int64_t max_session_age_ms = 0;
  int64_t sessions_guard_check_interval_ms = 60 * 1000;

  // "name=value (source)" for every setting in effect whose parsed value
  // differs from its default, for the startup log; passwords are masked.
  std::vector<std::string> non_defaults;
  // One line for every setting accepted for compatibility with immudb that
  // has no effect here but was given a value other than its default.
  std::vector<std::string> warnings;

  // Where the log goes: "" for stdout, else logfile placed as described above.
  std::string LogFilePath() const;
};

// What ParseConfig decided besides the settings.
struct ParsedCommand {
  ServerConfig config;
  bool exit_now = false;  // --help or `version`: the text is in `output`.
  std::string output;
};

// Parses argv (argv[0] is the program name) with `env` as the environment
// (entries "NAME=value"; pass `environ`). InvalidArgument with a message that
// names the setting and its source on an unknown flag, an unreadable or
// malformed config file, or a value of the wrong type or out of range.
// `executable` is the path of the running binary (for the config search).
Result<ParsedCommand> ParseConfig(int argc, const char* const* argv, const char* const* env,
                                  const std::string& executable = "");

// The directories searched, in order, for immudb.toml when neither --config
// nor IMMUDB_CONFIG names a file: $HOME, ../src/configs, $GOPATH/src/configs
// (when GOPATH is set) and, for the binary installed as /usr/sbin/immudb,
// /etc/immudb.
std::vector<std::string> ConfigSearchDirs(const char* const* env, const std::string& executable);

}  // namespace immudb::server
