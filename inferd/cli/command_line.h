#pragma once

#include <CLI/CLI.hpp>

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace inferd::cli {

// Parses the arguments after the subcommand name; returns the exit code when parsing ends the program (--help, an
// error), or -1 to carry on.
inline int parse_command_line(CLI::App& app, std::span<const std::string_view> args) {
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 consumes from the back
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return -1;
}

}  // namespace inferd::cli
