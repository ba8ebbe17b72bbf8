// The `kyso` command line: parses arguments, opens the data directory through app::Instance,
// calls one service operation and renders the result as text or, with --json, as JSON.
//
// Errors: one line "kyso: error: <id>: <message>" on stderr and exit status 1 (2 for usage
// errors). With --json the same error is also printed on stdout as
// {"error": {"code": ..., "id": ..., "message": ...}}.
#pragma once

namespace kyso::cli {

int Run(int argc, char** argv);

}  // namespace kyso::cli
