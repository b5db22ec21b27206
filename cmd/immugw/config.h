// immugw's settings from command-line flags, IMMUGW_* environment variables
// and an immugw.toml file (keys = flag names). Precedence: flag >
// environment > config file > built-in default. Pure function of its inputs.
#pragma once

#include <string>

#include "cmd/immugw/gateway.h"
#include "immudb/result.h"

namespace immudb::gateway {

struct GatewayCommand {
  GatewayOptions options;
  std::string pidfile;
  std::string logfile;    // "" = stdout.
  std::string config;     // The config file that was read ("" = none).
  bool exit_now = false;  // --help or `version`: print `output` and exit 0.
  std::string output;
};

// The config file is --config, else $IMMUGW_CONFIG, else immugw.toml in
// $HOME or ./configs when present. InvalidArgument names the bad flag,
// variable or key and where it came from.
Result<GatewayCommand> ParseGatewayCommand(int argc, const char* const* argv,
                                           const char* const* env);

}  // namespace immudb::gateway
