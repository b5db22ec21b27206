// immuclient's flags and commands (wire-api.md §11.1) on a CLI11 app. The same
// app shape serves the command line and each line of interactive mode.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "context.h"

namespace immuclient {

// Adds the global flags, bound to `s`, with their IMMUCLIENT_* variables.
void AddGlobalFlags(CLI::App& app, Settings& s);
// `--config FILE` (or IMMUCLIENT_CONFIG), found in argv before parsing: each
// setting of the TOML file (keys are the long flag names, as immudb's
// immuclient.toml) becomes the default of its flag, below the command line
// and the IMMUCLIENT_* variables. Returns the error (an unreadable file, an
// unknown key), empty when none.
std::string ApplyConfigFile(const CLI::App& app, int argc, char** argv);

// Adds every command; each runs in its callback against `ctx`, prints to
// stdout and throws Failure on error. `it` is not among them (main.cc).
void AddCommands(CLI::App& app, Context& ctx);

// Command names (no aliases), sorted, for help and completion.
std::vector<std::string> CommandNames();

}  // namespace immuclient
