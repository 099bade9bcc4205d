#include "common/config/setting_resolver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>

namespace tpustack::config {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

struct FakeEnvironment {
  std::map<std::string, std::string> values;
  SettingResolver::Environment get() const {
    return [this](const char* name) -> const char* {
      const auto it = values.find(name);
      return it == values.end() ? nullptr : it->second.c_str();
    };
  }
};

TEST(SettingResolver, FlagThenConfigThenEnvironmentThenDefault) {
  const auto config = ConfigDocument::parse("logLevel: debug\n", "tool.yaml").value();
  FakeEnvironment env{{{"TOOL_LOG_LEVEL", "warn"}, {"TOOL_LISTEN", ":9000"}}};
  const SettingResolver resolver(config, env.get());

  const SettingNames log{"--log-level", "logLevel", "TOOL_LOG_LEVEL"};
  const auto flag = resolver.find<std::string>(log, std::string("error")).value();
  EXPECT_EQ(flag->value, "error");
  EXPECT_EQ(flag->origin, "--log-level");
  const auto file = resolver.find<std::string>(log).value();
  EXPECT_EQ(file->value, "debug");
  EXPECT_EQ(file->origin, "tool.yaml logLevel");

  const SettingNames listen{"--listen", "listen", "TOOL_LISTEN"};
  const auto environment = resolver.find<std::string>(listen).value();
  EXPECT_EQ(environment->value, ":9000");
  EXPECT_EQ(environment->origin, "environment TOOL_LISTEN");

  std::string port = ":8080";
  EXPECT_TRUE(resolver.apply({"--port", "port", "TOOL_PORT"}, false, port));
  EXPECT_EQ(port, ":8080");  // nobody set it: the default stays
  EXPECT_TRUE(resolver.apply(listen, true, port));
  EXPECT_EQ(port, ":8080");  // the flag was given: its value stays
  EXPECT_TRUE(resolver.apply(listen, false, port));
  EXPECT_EQ(port, ":9000");
}

TEST(SettingResolver, TypedValuesFromEachSource) {
  const auto config = ConfigDocument::parse("a:\n  count: 3\n  every: 250ms\n  zones: [x, y]\n", "t.yaml").value();
  FakeEnvironment env{{{"ON", "true"}, {"RATIO", "0.5"}, {"ZONES", "p,q"}, {"WAIT", "2s"}, {"EMPTY", ""}}};
  const SettingResolver resolver(config, env.get());
  EXPECT_EQ(resolver.find<int>({"", "a.count", ""}).value()->value, 3);
  EXPECT_EQ(resolver.find<std::chrono::nanoseconds>({"", "a.every", ""}).value()->value, 250ms);
  EXPECT_EQ(resolver.find<std::vector<std::string>>({"", "a.zones", "ZONES"}).value()->value,
            (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(resolver.find<std::vector<std::string>>({"", "", "ZONES"}).value()->value,
            (std::vector<std::string>{"p", "q"}));
  EXPECT_TRUE(resolver.find<bool>({"", "", "ON"}).value()->value);
  EXPECT_EQ(resolver.find<double>({"", "", "RATIO"}).value()->value, 0.5);
  EXPECT_EQ(resolver.find<std::chrono::nanoseconds>({"", "", "WAIT"}).value()->value, 2s);
  EXPECT_FALSE(resolver.find<std::string>({"", "missing", "EMPTY"}).value());  // an empty variable is unset
}

TEST(SettingResolver, WrongTypesNameTheirSource) {
  const auto config = ConfigDocument::parse("count: lots\n", "t.yaml").value();
  FakeEnvironment env{{{"COUNT", "7x"}, {"ON", "yes"}, {"WAIT", "soon"}}};
  const SettingResolver resolver(config, env.get());
  EXPECT_THAT(resolver.find<int>({"", "count", ""}).error().message,
              HasSubstr("t.yaml:1: count: expected an integer, got 'lots'"));
  EXPECT_THAT(resolver.find<int>({"", "", "COUNT"}).error().message,
              HasSubstr("environment COUNT: expected an integer, got '7x'"));
  EXPECT_THAT(resolver.find<bool>({"", "", "ON"}).error().message,
              HasSubstr("environment ON: expected true or false, got 'yes'"));
  EXPECT_THAT(resolver.find<std::chrono::nanoseconds>({"", "", "WAIT"}).error().message, HasSubstr("environment WAIT"));
}

}  // namespace
}  // namespace tpustack::config
