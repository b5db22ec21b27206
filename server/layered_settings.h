// Layered settings, as immudb's programs take them: command-line flags,
// <PREFIX>_<FLAG> environment variables and a TOML settings file whose keys
// are the flag names. Precedence: flag > environment > file > default.
// Shared by the server (server/config.cc) and immugw (cmd/immugw/config.cc);
// each program keeps its own table of settings and checks its own values.
// Pure functions of their inputs (the file search looks at the file system).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "immudb/result.h"

namespace immudb::server {

// One setting: its long flag (also the TOML key, and <PREFIX>_<NAME> with '-'
// as '_' and upper case in the environment), an optional one-letter flag,
// and the help line. An alias is a second name taken everywhere the name is
// (flag, environment, file key); giving both names at one level is an error.
struct SettingFlag {
  std::string name;
  std::string short_flag;   // "" = none.
  bool boolean = false;     // Given without a value it means "true".
  bool repeatable = false;  // May be given more than once (all values kept).
  std::string help;         // Shown by --help as it is.
  std::string group;        // --help section; "" = the default ("Options").
  std::string alias;        // "" = none. Its --help line: "same as --<name>".
};

struct ProgramInfo {
  std::string name;         // "immugw": the --help title and the env prefix.
  std::string description;  // The --help banner.
  std::string version;      // Printed by `<name> version`.
  std::string env_prefix;   // "IMMUGW_".
  std::string config_name;  // "immugw.toml".
  // Directories searched for config_name when neither --config nor
  // <env_prefix>CONFIG names a file; "$HOME" stands for that variable.
  std::vector<std::string> config_dirs;
  // When set, the directories are computed from the environment (NAME ->
  // value) at every parse instead, and config_dirs is not used.
  std::function<std::vector<std::string>(const std::map<std::string, std::string>& env)>
      config_search;
  // The --help section of the settings' aliases.
  std::string alias_group = "Aliases";
};

struct CommandLine {
  bool exit_now = false;  // --help or `version`: print `output` and exit 0.
  std::string output;
  // The flags given, by the name used (a setting's name or its alias), each
  // with its values in order (a boolean flag without a value counts as "true").
  std::map<std::string, std::vector<std::string>> flags;
  // The environment, as NAME -> value.
  std::map<std::string, std::string> env;
  // The settings file: its path ("" = none), and whether it was named by
  // --config or <env_prefix>CONFIG (then it must exist).
  std::string config_path;
  bool config_required = false;
};

// Parses argv (argv[0] is the program name) and the environment `env`
// ("NAME=value" entries, null-terminated; may be null) and finds the
// settings file. Also registers --config and the `version` subcommand.
// InvalidArgument "command line: ..." for an unknown flag or a bad use of one.
Result<CommandLine> ParseCommandLine(const ProgramInfo& program,
                                     const std::vector<SettingFlag>& settings, int argc,
                                     const char* const* argv, const char* const* env);

// "NAME=value" entries (null-terminated; may be null) as NAME -> value; the
// first of a repeated name is kept.
std::map<std::string, std::string> EnvMap(const char* const* env);

// <prefix><NAME>: "immudb-port" -> "IMMUGW_IMMUDB_PORT".
std::string EnvName(const std::string& prefix, const std::string& name);

// "1", "t", "T", "true", "TRUE", "True" and the false forms; nullopt else.
std::optional<bool> ParseBool(const std::string& text);

// A list setting ("a,b,,c") as its non-empty items, in order.
std::vector<std::string> SplitList(const std::string& text);

// A setting's value and where it came from ("flag --port",
// "environment IMMUGW_PORT", "config file <path>"; for a setting with an
// alias "config file <path> key <name used>").
struct RawSetting {
  std::string value;
  std::string source;
};

// The value of `setting` by precedence: its (last) flag, else its environment
// variable, else the file's value (looked up by the lower-cased name in
// `file_values`); at each level under the setting's name or its alias.
// nullopt when none of them sets it; InvalidArgument "<source> and <source>
// set the same setting: give only one" when both names are set at the
// level that decides.
Result<std::optional<RawSetting>> Lookup(const ProgramInfo& program, const SettingFlag& setting,
                                         const CommandLine& cmd,
                                         const std::map<std::string, std::string>& file_values);

}  // namespace immudb::server
