// immuclient: the immudb command-line client (wire-api.md §11.1).
//
// `immuclient [flags] <command> [args]` runs one command; `immuclient it`, or
// no command at all, starts the interactive prompt (interactive.h). Global
// flags (audit-mode's included) may also follow the command, and may come from
// IMMUCLIENT_* environment variables (IMMUCLIENT_PASSWORD,
// IMMUCLIENT_IMMUDB_PORT, ...). The session token lives in the token file
// ($HOME/<tokenfile>, or the path given) and trusted states in --dir (default
// $HOME); both files have mode 0600. `--config immuclient.toml` gives
// defaults for the flags (flag > IMMUCLIENT_* > file). Token file format, as immudb's Go client:
// u64 big-endian length of the database name, the name, then the token.
#include <CLI/CLI.hpp>
#include <iostream>

#include "audit_mode.h"
#include "commands.h"
#include "context.h"
#include "grpc_runtime.h"
#include "interactive.h"

int main(int argc, char** argv) {
  immudb::rpc::TuneGrpcRuntime();
  immuclient::Context ctx(/*interactive=*/false);
  CLI::App app{"immuclient: the immudb command-line client"};
  app.require_subcommand(0, 1);
  // Global flags are accepted after the command too (`immuclient get k
  // --value-only`), as immudb's persistent flags; set before the commands,
  // which inherit it.
  app.fallthrough();
  immuclient::AddGlobalFlags(app, ctx.settings());
  immuclient::AddCommands(app, ctx);
  bool interactive = false;
  app.add_subcommand("it", "interactive mode (also when no command is given)")
      ->alias("cli-mode")
      ->callback([&interactive] { interactive = true; });
  // Commands defined in their own files register below.
  immudb::immuclient::RegisterAuditMode(&app);
  if (const std::string err = immuclient::ApplyConfigFile(app, argc, argv); !err.empty()) {
    std::cerr << "immuclient: " << err << "\n";
    return 1;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const immuclient::Failure& f) {
    std::cerr << "immuclient: " << f.what() << "\n";
    return 1;
  }
  if (interactive || app.get_subcommands().empty()) {
    const immuclient::Settings base = ctx.settings();
    return immuclient::RunInteractive(ctx, base);
  }
  return 0;
}
