#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace tpustack::cli {

// The exit status of a command line that cannot be run: an unknown flag or command, a missing or bad value.
inline constexpr int kUsageError = 2;

// Parses `args` (in order, without the program or subcommand name) the same way in every program:
// --help/-h prints the usage on stdout and ends with 0; an error prints what was wrong and the usage on
// stderr and ends with kUsageError. Returns the exit status when parsing ends the program, nullopt to go on.
std::optional<int> parse_command_line(CLI::App& app, const std::vector<std::string>& args);
std::optional<int> parse_command_line(CLI::App& app, int argc, const char* const* argv);

// The value CLI11 parsed for `flag` when the command line gave it, else nullopt: the first source that
// config::SettingResolver weighs, before the config file and the environment.
template <class T>
std::optional<T> given(const CLI::App& app, const std::string& flag, const T& value) {
  return app.count(flag) > 0 ? std::optional<T>(value) : std::nullopt;
}

// A usage error found after parsing (a missing combination of flags, an unknown command): the message
// and the usage on stderr; returns kUsageError.
int usage_error(const CLI::App& app, const std::string& message);

}  // namespace tpustack::cli
