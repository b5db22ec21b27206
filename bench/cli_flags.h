// The command line of the bench programs (CLI11), read the same way by each.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>

namespace immudb::bench {

// Parses argv into `app`. Returns the exit code when the program is to end
// at once: 0 after printing the help (--help), 2 after printing
// "<program>: <error>" to stderr for a bad command line; nullopt otherwise.
inline std::optional<int> ParseFlags(CLI::App& app, int argc, char** argv, const char* program) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::printf("%s", app.help().c_str());
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 2;
  }
  return std::nullopt;
}

}  // namespace immudb::bench
