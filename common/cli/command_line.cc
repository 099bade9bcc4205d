#include "common/cli/command_line.h"

#include <iostream>

namespace tpustack::cli {

std::optional<int> parse_command_line(CLI::App& app, const std::vector<std::string>& args) {
  try {
    app.parse(std::vector<std::string>(args.rbegin(), args.rend()));  // CLI11 consumes from the back
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::ParseError& e) {
    // CLI11 checks required options before unexpected ones; an unknown flag is the more useful thing to name.
    if (auto extras = app.remaining(true); !extras.empty() && dynamic_cast<const CLI::ExtrasError*>(&e) == nullptr) {
      return usage_error(app, CLI::ExtrasError(extras).what());
    }
    return usage_error(app, e.what());
  }
  return std::nullopt;
}

std::optional<int> parse_command_line(CLI::App& app, int argc, const char* const* argv) {
  return parse_command_line(app, std::vector<std::string>(argv + 1, argv + argc));
}

int usage_error(const CLI::App& app, const std::string& message) {
  // A subcommand is named with its program: "inferd pull: ...".
  std::string name = app.get_name();
  for (const CLI::App* parent = app.get_parent(); parent != nullptr; parent = parent->get_parent()) {
    name = parent->get_name() + " " + name;
  }
  std::cerr << name << ": " << message << "\n\n" << app.help();
  return kUsageError;
}

}  // namespace tpustack::cli
