#pragma once

#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "common/config/setting_resolver.h"
#include "common/result/result.h"

namespace tpustack::cli {

// A program whose every flag may also come from its config file or its environment names them after the flag:
// `--max-batch-tokens` is the key `maxBatchTokens` and the variable `<env_prefix>MAX_BATCH_TOKENS`.
std::string config_key_of(std::string_view flag);
std::string environment_name_of(std::string_view env_prefix, std::string_view flag);

// Gives each flag (but --help and --config) the command line left out the value SettingResolver finds for it in
// `config`, then in the environment, converted and checked exactly as CLI11 does a flag's own value. An Error names
// the source ("inferd.yaml:3: threads", "environment INFERD_THREADS") and what is wrong: a value CLI11 refuses, or
// a config key that is no flag's. `environment` defaults to the process's.
Result<void> fill_unset_flags(CLI::App& app, const config::ConfigDocument& config, std::string_view env_prefix,
                              config::SettingResolver::Environment environment = {});

}  // namespace tpustack::cli
