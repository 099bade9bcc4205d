#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/config/config_document.h"

namespace tpustack::config {
namespace {

using ::testing::HasSubstr;

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

// The Error's message, or "no error".
template <class T>
std::string error_of(const Result<T>& result) {
  return result ? "no error" : result.error().message;
}

TEST(ConfigDocumentTest, ReadsTypedValuesByDottedKey) {
  const auto doc = ConfigDocument::parse(kPluginConfig, "plugin.yaml").value();
  EXPECT_EQ(doc.get_string("pluginDir").value(), "/var/lib/kubelet/device-plugins");
  EXPECT_EQ(doc.get_duration("health.interval").value(), std::chrono::milliseconds(500));
  EXPECT_EQ(doc.get_string_list("health.command").value(), (std::vector<std::string>{"/bin/check", "--fast"}));
  EXPECT_EQ(doc.get_int("metricsPort").value(), 2112);
  EXPECT_EQ(doc.get_bool("verbose").value(), true);
  EXPECT_EQ(doc.get_double("ratio").value(), 0.5);
  EXPECT_EQ(doc.get_string("missing").value(), std::nullopt);
  EXPECT_EQ(doc.get_string("health.missing").value(), std::nullopt);
  EXPECT_TRUE(doc.reject_unknown_keys({"pluginDir", "health.interval", "health.command", "metricsPort", "simulate",
                                       "verbose", "ratio", "nodeSelector.*"}));
}

TEST(ConfigDocumentTest, ErrorsNameFileLineAndKey) {
  const auto doc = ConfigDocument::parse(kPluginConfig, "plugin.yaml").value();
  EXPECT_THAT(error_of(doc.get_int("pluginDir")), HasSubstr("plugin.yaml:2: pluginDir: expected an integer"));
  EXPECT_THAT(error_of(doc.get_duration("simulate")),
              HasSubstr("plugin.yaml:7: simulate: invalid duration 'v6e:4x4:4'"));
  EXPECT_THAT(error_of(doc.get_bool("ratio")), HasSubstr("plugin.yaml:9: ratio"));
  EXPECT_THAT(error_of(doc.get_string("health")), HasSubstr("health: expected a string"));
  EXPECT_THAT(error_of(doc.get_string("pluginDir.deeper")), HasSubstr("plugin.yaml:2: pluginDir: expected a mapping"));
  EXPECT_THAT(error_of(doc.reject_unknown_keys({"pluginDir", "health.interval", "metricsPort"})),
              HasSubstr("plugin.yaml:5: health.command: unknown key"));
}

TEST(ConfigDocumentTest, SyntaxErrorsNameTheLine) {
  EXPECT_THAT(error_of(ConfigDocument::parse("a: 1\nb: [unclosed\n", "bad.yaml")),
              HasSubstr("bad.yaml:3: invalid YAML"));
  EXPECT_THAT(error_of(ConfigDocument::parse("- a\n- b\n", "list.yaml")),
              HasSubstr("list.yaml:1: the top level must be a mapping"));
}

TEST(ConfigDocumentTest, FilesAndEmptyDocuments) {
  const auto path = std::filesystem::temp_directory_path() / "tpustack-config-test.yaml";
  std::ofstream(path) << "listen: 0.0.0.0:8888\n";
  EXPECT_EQ(ConfigDocument::load_file(path.string())->get_string("listen").value(), "0.0.0.0:8888");
  std::filesystem::remove(path);
  EXPECT_THAT(error_of(ConfigDocument::load_file(path.string())), HasSubstr("cannot open config file"));
  EXPECT_TRUE(ConfigDocument::parse("", "empty.yaml")->empty());
  EXPECT_EQ(ConfigDocument().get_int("x").value(), std::nullopt);
}

}  // namespace
}  // namespace tpustack::config
