// immuclient's interactive mode (`immuclient it`, or no command at all): a
// prompt with line editing, history and tab completion of command names
// (libedit). Each line is parsed and run like an immuclient command line
// against the same Context, so a login holds for the lines after it.
#pragma once

#include "context.h"

namespace immuclient {

// Reads lines until "exit", "quit" or end of input; returns the exit code.
// `base` holds the flags of the process's command line; flags on a line apply
// to that line only. Without a terminal on stdin there is no prompt and no
// line editing. History is kept in $HOME/.immuclient_history.
int RunInteractive(Context& ctx, const Settings& base);

}  // namespace immuclient
