// libFuzzer target: arbitrary bytes as a program's YAML config file, read by ConfigDocument::parse and then resolved
// as tpu-device-plugin resolves its file (resolve_settings) and as tpu-extender resolves its provisioner keys
// (apply_provisioner_config). config::ConfigError, and std::invalid_argument for a bad value resolve_settings
// checks, are the documented answers to a bad file; anything else is a finding.
//   scripts/fuzz.sh config_yaml_fuzzer 300
//   config_yaml_fuzz_replay tests/fuzz/corpus/config_yaml
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include <CLI/CLI.hpp>

#include "common/config/config_document.h"
#include "deviceplugin/cli/plugin_settings.h"
#include "extender/provisioner/provisioner_options.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tpustack;
  config::ConfigDocument document;
  try {
    document = config::ConfigDocument::parse(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.yaml");
  } catch (const config::ConfigError&) {
    return 0;
  }
  try {
    deviceplugin::resolve_settings(deviceplugin::FlagValues{}, config::SettingResolver(document));
  } catch (const config::ConfigError&) {
  } catch (const std::invalid_argument&) {
  }
  try {
    CLI::App app;
    provisioning::ProvisionerOptions options;
    provisioning::add_provisioner_flags(app, options);
    document.reject_unknown_keys(provisioning::provisioner_config_keys());
    provisioning::apply_provisioner_config(config::SettingResolver(document), app, options);
  } catch (const config::ConfigError&) {
  }
  return 0;
}
