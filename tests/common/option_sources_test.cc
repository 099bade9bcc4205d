#include "common/cli/option_sources.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace tpustack::cli {
namespace {

using ::testing::HasSubstr;

// A command line like inferd serve's: a checked number, a repeatable flag, a delimited list, a switch.
struct Serve {
  CLI::App app{"serve"};
  std::string config_file;
  int threads = 4;
  std::vector<std::string> models;
  std::vector<std::string> preload;
  bool log_json = false;
  std::string listen = ":8080";
  std::map<std::string, std::string> env;

  Serve() {
    app.add_option("--config", config_file);
    app.add_option("--threads", threads)->check(CLI::PositiveNumber);
    app.add_option("--model", models);
    app.add_option("--preload", preload)->delimiter(',');
    app.add_flag("--log-json", log_json);
    app.add_option("--listen", listen);
  }

  Result<void> run(std::vector<std::string> args, const std::string& yaml = "") {
    std::reverse(args.begin(), args.end());
    app.parse(args);
    const auto config =
        yaml.empty() ? config::ConfigDocument() : config::ConfigDocument::parse(yaml, "serve.yaml").value();
    return fill_unset_flags(app, config, "INFERD_", [this](const char* name) -> const char* {
      const auto it = env.find(name);
      return it == env.end() ? nullptr : it->second.c_str();
    });
  }
};

TEST(OptionSources, NamesFollowTheFlag) {
  EXPECT_EQ(config_key_of("--max-batch-tokens"), "maxBatchTokens");
  EXPECT_EQ(config_key_of("--listen"), "listen");
  EXPECT_EQ(environment_name_of("INFERD_", "--max-batch-tokens"), "INFERD_MAX_BATCH_TOKENS");
}

TEST(OptionSources, TheFlagBeatsTheFileAndTheFileBeatsTheEnvironment) {
  Serve serve;
  serve.env = {{"INFERD_THREADS", "3"}, {"INFERD_LISTEN", ":7000"}, {"INFERD_LOG_JSON", "true"}};
  ASSERT_TRUE(serve.run({"--listen", ":9000"}, "threads: 2\nlisten: ':8000'\n"));
  EXPECT_EQ(serve.listen, ":9000");
  EXPECT_EQ(serve.threads, 2);
  EXPECT_TRUE(serve.log_json);
}

TEST(OptionSources, ListsComeFromASequenceOrACommaSeparatedVariable) {
  Serve serve;
  serve.env = {{"INFERD_PRELOAD", "a,b"}};
  ASSERT_TRUE(serve.run({}, "model:\n  - a=/m/a\n  - b=/m/b\n"));
  EXPECT_THAT(serve.models, ::testing::ElementsAre("a=/m/a", "b=/m/b"));
  EXPECT_THAT(serve.preload, ::testing::ElementsAre("a", "b"));
}

TEST(OptionSources, AValueTheFlagWouldRefuseIsRefusedNamingItsSource) {
  Serve from_env;
  from_env.env = {{"INFERD_THREADS", "0"}};
  const auto env_error = from_env.run({});
  ASSERT_FALSE(env_error);
  EXPECT_THAT(env_error.error().message, HasSubstr("INFERD_THREADS"));

  Serve from_file;
  const auto file_error = from_file.run({}, "threads: many\n");
  ASSERT_FALSE(file_error);
  EXPECT_THAT(file_error.error().message, HasSubstr("serve.yaml"));
  EXPECT_THAT(file_error.error().message, HasSubstr("threads"));
}

TEST(OptionSources, AKeyThatIsNoFlagIsAnError) {
  Serve serve;
  const auto result = serve.run({}, "threads: 2\nmaxBatchTokenz: 9\n");
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message, HasSubstr("serve.yaml:2: maxBatchTokenz"));
  EXPECT_EQ(serve.threads, 4);
}

}  // namespace
}  // namespace tpustack::cli
