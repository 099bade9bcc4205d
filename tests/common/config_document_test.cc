#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/config/config_document.h"

namespace tpustack::config {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

const char* kPluginConfig = R"(# a device plugin config
pluginDir: /var/lib/kubelet/device-plugins
health:
  interval: 500ms
  command: ["/bin/check", "--fast"]
metricsPort: 2112
simulate: "v6e:4x4:4"
verbose: true
ratio: 0.5
nodeSelector:
  team: ml
)";

TEST(ConfigDocumentTest, ReadsTypedValuesByDottedKey) {
  const auto doc = ConfigDocument::parse(kPluginConfig, "plugin.yaml");
  EXPECT_EQ(doc.get_string("pluginDir"), "/var/lib/kubelet/device-plugins");
  EXPECT_EQ(doc.get_duration("health.interval"), std::chrono::milliseconds(500));
  EXPECT_EQ(doc.get_string_list("health.command"), (std::vector<std::string>{"/bin/check", "--fast"}));
  EXPECT_EQ(doc.get_int("metricsPort"), 2112);
  EXPECT_EQ(doc.get_bool("verbose"), true);
  EXPECT_EQ(doc.get_double("ratio"), 0.5);
  EXPECT_EQ(doc.get_string("missing"), std::nullopt);
  EXPECT_EQ(doc.get_string("health.missing"), std::nullopt);
  EXPECT_NO_THROW(doc.reject_unknown_keys({"pluginDir", "health.interval", "health.command", "metricsPort", "simulate",
                                           "verbose", "ratio", "nodeSelector.*"}));
}

TEST(ConfigDocumentTest, ErrorsNameFileLineAndKey) {
  const auto doc = ConfigDocument::parse(kPluginConfig, "plugin.yaml");
  EXPECT_THAT([&] { doc.get_int("pluginDir"); },
              ThrowsMessage<ConfigError>(HasSubstr("plugin.yaml:2: pluginDir: expected an integer")));
  EXPECT_THAT([&] { doc.get_duration("simulate"); },
              ThrowsMessage<ConfigError>(HasSubstr("plugin.yaml:7: simulate: invalid duration 'v6e:4x4:4'")));
  EXPECT_THAT([&] { doc.get_bool("ratio"); }, ThrowsMessage<ConfigError>(HasSubstr("plugin.yaml:9: ratio")));
  EXPECT_THAT([&] { doc.get_string("health"); }, ThrowsMessage<ConfigError>(HasSubstr("health: expected a string")));
  EXPECT_THAT(
      [&] {
        doc.reject_unknown_keys({"pluginDir", "health.interval", "metricsPort"});
      },
      ThrowsMessage<ConfigError>(HasSubstr("plugin.yaml:5: health.command: unknown key")));
}

TEST(ConfigDocumentTest, SyntaxErrorsNameTheLine) {
  EXPECT_THAT([] { ConfigDocument::parse("a: 1\nb: [unclosed\n", "bad.yaml"); },
              ThrowsMessage<ConfigError>(HasSubstr("bad.yaml:3: invalid YAML")));
  EXPECT_THAT([] { ConfigDocument::parse("- a\n- b\n", "list.yaml"); },
              ThrowsMessage<ConfigError>(HasSubstr("list.yaml:1: the top level must be a mapping")));
}

TEST(ConfigDocumentTest, FilesAndEmptyDocuments) {
  const auto path = std::filesystem::temp_directory_path() / "tpustack-config-test.yaml";
  std::ofstream(path) << "listen: 0.0.0.0:8888\n";
  EXPECT_EQ(ConfigDocument::load_file(path.string()).get_string("listen"), "0.0.0.0:8888");
  std::filesystem::remove(path);
  EXPECT_THAT([&] { ConfigDocument::load_file(path.string()); },
              ThrowsMessage<ConfigError>(HasSubstr("cannot open config file")));
  EXPECT_TRUE(ConfigDocument::parse("", "empty.yaml").empty());
  EXPECT_EQ(ConfigDocument().get_int("x"), std::nullopt);
}

}  // namespace
}  // namespace tpustack::config
