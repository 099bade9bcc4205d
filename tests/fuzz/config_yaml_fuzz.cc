// libFuzzer target: arbitrary bytes as a program's YAML config file, read by ConfigDocument::parse and then resolved
// as tpu-device-plugin resolves its file (resolve_settings) and as tpu-extender resolves its provisioner keys
// (apply_provisioner_config). An Error is the documented answer to a bad file; an exception is a finding.
//   scripts/fuzz.sh config_yaml_fuzzer 300
//   config_yaml_fuzz_replay tests/fuzz/corpus/config_yaml
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <CLI/CLI.hpp>

#include "common/config/config_document.h"
#include "deviceplugin/cli/plugin_settings.h"
#include "extender/provisioner/provisioner_options.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tpustack;
  const auto document =
      config::ConfigDocument::parse(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.yaml");
  if (!document) return 0;
  (void)deviceplugin::resolve_settings(deviceplugin::FlagValues{}, config::SettingResolver(*document));
  CLI::App app;
  provisioning::ProvisionerOptions options;
  provisioning::add_provisioner_flags(app, options);
  if (!document->reject_unknown_keys(provisioning::provisioner_config_keys())) return 0;
  (void)provisioning::apply_provisioner_config(config::SettingResolver(*document), app, options);
  return 0;
}
