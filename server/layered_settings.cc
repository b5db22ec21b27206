#include "server/layered_settings.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <sstream>
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

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::map<std::string, std::string> EnvMap(const char* const* env) {
  std::map<std::string, std::string> out;
  for (const char* const* e = env; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    const size_t eq = kv.find('=');
    if (eq != std::string_view::npos) {
      out.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
  }
  return out;
}

Result<CommandLine> ParseCommandLine(const ProgramInfo& program,
                                     const std::vector<SettingFlag>& settings, int argc,
                                     const char* const* argv, const char* const* env) {
  CommandLine out;
  CLI::App app{program.description, program.name};
  app.allow_extras(false);
  // By flag name: a setting's name or its alias.
  std::map<std::string, std::string> single;
  std::map<std::string, std::vector<std::string>> repeated;
  std::map<std::string, CLI::Option*> options;
  auto add = [&](const SettingFlag& s, const std::string& flag, const std::string& names,
                 const std::string& help, const std::string& group) {
    CLI::Option* o = nullptr;
    if (s.repeatable) {
      o = app.add_option(names, repeated[flag], help)->allow_extra_args(false);
    } else if (s.boolean) {
      o = app.add_flag(names, single[flag], help);
    } else {
      o = app.add_option(names, single[flag], help);
    }
    if (!group.empty()) o->group(group);
    options[flag] = o;
  };
  for (const SettingFlag& s : settings) {
    std::string names = "--" + s.name;
    if (!s.short_flag.empty()) names = "-" + s.short_flag + "," + names;
    add(s, s.name, names, s.help, s.group);
    if (!s.alias.empty()) {
      add(s, s.alias, "--" + s.alias, "same as --" + s.name, program.alias_group);
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
    for (const std::string& flag : {s.name, s.alias}) {
      if (flag.empty() || options[flag]->count() == 0) continue;
      if (s.repeatable) {
        out.flags[flag] = repeated[flag];
      } else {
        const std::string& v = single[flag];
        out.flags[flag] = {s.boolean && v.empty() ? std::string("true") : v};
      }
    }
  }

  out.env = EnvMap(env);
  if (config_opt->count() > 0) {
    out.config_path = config_flag;
    out.config_required = true;
  } else if (auto it = out.env.find(program.env_prefix + "CONFIG"); it != out.env.end()) {
    out.config_path = it->second;
    out.config_required = true;
  } else {
    const std::vector<std::string> dirs =
        program.config_search ? program.config_search(out.env) : program.config_dirs;
    for (const std::string& dir : dirs) {
      std::string base = dir;
      if (!program.config_search && dir == "$HOME") {
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

Result<std::optional<RawSetting>> Lookup(const ProgramInfo& program, const SettingFlag& setting,
                                         const CommandLine& cmd,
                                         const std::map<std::string, std::string>& file_values) {
  std::vector<std::string> names = {setting.name};
  if (!setting.alias.empty()) names.push_back(setting.alias);
  // The first level (flag, environment, file) that has the setting under one
  // of its names decides.
  for (int level = 0; level < 3; ++level) {
    std::vector<RawSetting> found;
    for (const std::string& n : names) {
      if (level == 0) {
        if (auto f = cmd.flags.find(n); f != cmd.flags.end() && !f->second.empty()) {
          found.push_back({f->second.back(), "flag --" + n});
        }
      } else if (level == 1) {
        const std::string env_name = EnvName(program.env_prefix, n);
        if (auto e = cmd.env.find(env_name); e != cmd.env.end()) {
          found.push_back({e->second, "environment " + env_name});
        }
      } else {
        std::string key = n;
        std::transform(key.begin(), key.end(), key.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        if (auto f = file_values.find(key); f != file_values.end()) {
          std::string source = "config file " + cmd.config_path;
          if (!setting.alias.empty()) source += " key " + n;
          found.push_back({f->second, source});
        }
      }
    }
    if (found.size() > 1) {
      return Status::InvalidArgument(found[0].source + " and " + found[1].source +
                                     " set the same setting: give only one");
    }
    if (found.size() == 1) return std::optional<RawSetting>(found[0]);
  }
  return std::optional<RawSetting>();
}

}  // namespace immudb::server
