#include "interactive.h"

#include <editline/readline.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "commands.h"

namespace immuclient {
namespace {

constexpr char kPrompt[] = "immuclient>";

std::vector<std::string> Completions() {
  std::vector<std::string> names = CommandNames();
  for (const char* extra : {"exit", "help", "quit"}) names.push_back(extra);
  return names;
}

// readline's generator protocol: state 0 starts a new search; each call
// returns the next match (malloc'd; readline frees it) or nullptr.
char* NextCommand(const char* text, int state) {
  static std::vector<std::string> names;
  static size_t next = 0;
  if (state == 0) {
    names = Completions();
    next = 0;
  }
  const size_t len = std::strlen(text);
  while (next < names.size()) {
    const std::string& n = names[next++];
    if (n.compare(0, len, text) == 0) return ::strdup(n.c_str());
  }
  return nullptr;
}

// Completes command names in the first word only; never file names.
char** Complete(const char* text, int start, int /*end*/) {
  rl_attempted_completion_over = 1;
  for (int i = 0; i < start; ++i) {
    if (rl_line_buffer[i] != ' ' && rl_line_buffer[i] != '\t') return nullptr;
  }
  return rl_completion_matches(text, NextCommand);
}

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::string HelpText() {
  std::string out = "Commands (\"<command> --help\" for details):\n";
  for (const std::string& n : Completions()) out += "  " + n + "\n";
  return out;
}

// Runs one line; false when it asks to leave.
bool RunLine(Context& ctx, const Settings& base, const std::string& line) {
  const std::string word = line.substr(0, line.find_first_of(" \t"));
  if (word == "exit" || word == "quit") return false;
  if (word == "help") {
    std::cout << HelpText();
    return true;
  }
  CLI::App app{"immuclient: the immudb command-line client"};
  app.require_subcommand(1);
  app.fallthrough();  // As on the command line (main.cc).
  ctx.settings() = base;
  AddGlobalFlags(app, ctx.settings());
  AddCommands(app, ctx);
  try {
    app.parse(line, false);
  } catch (const CLI::ParseError& e) {
    app.exit(e, std::cout, std::cout);
  } catch (const Failure& f) {
    std::cout << "ERROR: " << f.what() << "\n";
  }
  std::cout << std::flush;
  return true;
}

class History {
 public:
  History() {
    const char* home = std::getenv("HOME");
    if (home != nullptr && *home != '\0') path_ = std::string(home) + "/.immuclient_history";
    using_history();
    if (!path_.empty()) read_history(path_.c_str());
  }
  ~History() {
    if (!path_.empty()) write_history(path_.c_str());
  }
  void Add(const std::string& line) { add_history(line.c_str()); }

 private:
  std::string path_;
};

}  // namespace

int RunInteractive(Context& ctx, const Settings& base) {
  ctx.set_interactive(true);
  if (!::isatty(STDIN_FILENO)) {
    std::string line;
    while (std::getline(std::cin, line)) {
      line = Trim(line);
      if (!line.empty() && !RunLine(ctx, base, line)) break;
    }
    return 0;
  }
  rl_readline_name = "immuclient";
  rl_attempted_completion_function = Complete;
  History history;
  while (true) {
    char* raw = readline(kPrompt);
    if (raw == nullptr) {  // End of input (Ctrl-D).
      std::cout << "\n";
      break;
    }
    const std::string line = Trim(raw);
    std::free(raw);
    if (line.empty()) continue;
    history.Add(line);
    if (!RunLine(ctx, base, line)) break;
  }
  return 0;
}

}  // namespace immuclient
