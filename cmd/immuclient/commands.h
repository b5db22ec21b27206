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

// Adds every command; each runs in its callback against `ctx`, prints to
// stdout and throws Failure on error. `it` is not among them (main.cc).
void AddCommands(CLI::App& app, Context& ctx);

// Command names (no aliases), sorted, for help and completion.
std::vector<std::string> CommandNames();

}  // namespace immuclient
