#include "server/layered_settings.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string_view>

namespace immudb::server {

std::string EnvName(const std::string& prefix, const std::string& name) {
  std::string out = prefix;
  for (char c : name) {
    out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

std::optional<bool> ParseBool(const std::string& text) {
  for (const char* t : {"1", "t", "T", "true", "TRUE", "True"}) {
    if (text == t) return true;
  }
  for (const char* f : {"0", "f", "F", "false", "FALSE", "False"}) {
    if (text == f) return false;
  }
  return std::nullopt;
}

Result<CommandLine> ParseCommandLine(const ProgramInfo& program,
                                     const std::vector<SettingFlag>& settings, int argc,
                                     const char* const* argv, const char* const* env) {
  CommandLine out;
  CLI::App app{program.description, program.name};
  app.allow_extras(false);
  std::map<std::string, std::string> single;
  std::map<std::string, std::vector<std::string>> repeated;
  std::map<std::string, CLI::Option*> options;
  for (const SettingFlag& s : settings) {
    std::string names = "--" + s.name;
    if (!s.short_flag.empty()) names = "-" + s.short_flag + "," + names;
    if (s.repeatable) {
      options[s.name] = app.add_option(names, repeated[s.name], s.help)->allow_extra_args(false);
    } else if (s.boolean) {
      options[s.name] = app.add_flag(names, single[s.name], s.help);
    } else {
      options[s.name] = app.add_option(names, single[s.name], s.help);
    }
  }
  std::string config_flag;
  CLI::Option* config_opt =
      app.add_option("--config", config_flag, "config file (" + program.config_name + ")");
  CLI::App* version = app.add_subcommand("version", "print the version and exit");
  try {
    app.parse(argc, const_cast<char**>(argv));
  } catch (const CLI::CallForHelp&) {
    out.exit_now = true;
    out.output = app.help();
    return out;
  } catch (const CLI::ParseError& e) {
    return Status::InvalidArgument(std::string("command line: ") + e.what());
  }
  if (version->parsed()) {
    out.exit_now = true;
    out.output = program.name + " " + program.version + "\n";
    return out;
  }
  for (const SettingFlag& s : settings) {
    if (options[s.name]->count() == 0) continue;
    if (s.repeatable) {
      out.flags[s.name] = repeated[s.name];
    } else {
      const std::string& v = single[s.name];
      out.flags[s.name] = {s.boolean && v.empty() ? std::string("true") : v};
    }
  }

  for (const char* const* e = env; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    const size_t eq = kv.find('=');
    if (eq != std::string_view::npos) {
      out.env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
  }
  if (config_opt->count() > 0) {
    out.config_path = config_flag;
    out.config_required = true;
  } else if (auto it = out.env.find(program.env_prefix + "CONFIG"); it != out.env.end()) {
    out.config_path = it->second;
    out.config_required = true;
  } else {
    for (const std::string& dir : program.config_dirs) {
      std::string base = dir;
      if (dir == "$HOME") {
        auto home = out.env.find("HOME");
        if (home == out.env.end()) continue;
        base = home->second;
      }
      std::error_code ec;
      const std::filesystem::path p = std::filesystem::path(base) / program.config_name;
      if (std::filesystem::is_regular_file(p, ec)) {
        out.config_path = p.string();
        break;
      }
    }
  }
  return out;
}

std::optional<RawSetting> Lookup(const ProgramInfo& program, const SettingFlag& setting,
                                 const CommandLine& cmd,
                                 const std::map<std::string, std::string>& file_values) {
  if (auto f = cmd.flags.find(setting.name); f != cmd.flags.end() && !f->second.empty()) {
    return RawSetting{f->second.back(), "flag --" + setting.name};
  }
  const std::string env_name = EnvName(program.env_prefix, setting.name);
  if (auto e = cmd.env.find(env_name); e != cmd.env.end()) {
    return RawSetting{e->second, "environment " + env_name};
  }
  std::string key = setting.name;
  std::transform(key.begin(), key.end(), key.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (auto f = file_values.find(key); f != file_values.end()) {
    return RawSetting{f->second, "config file " + cmd.config_path};
  }
  return std::nullopt;
}

}  // namespace immudb::server
