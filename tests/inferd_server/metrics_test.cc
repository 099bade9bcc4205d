// inferd's /metrics as Prometheus scrapes it: the exposition parses with Prometheus' own client parser and passes
// promtool's naming lints (counters end in _total), with every family the dashboards and the HPA read present.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "served_inferd.h"
#include "tests/support/required_tool.h"
#include "tests/support/temp_dir.h"

namespace tpustack::inferd::testing {
namespace {

// The names README's Metrics section documents and manifests/inferd/hpa.yaml scales on.
const std::vector<std::string> documented_families{
    "inferd_requests_total",
    "inferd_requests_succeeded_total",
    "inferd_requests_failed_total",
    "inferd_request_duration_seconds",
    "inferd_request_tokenization_duration_seconds",
    "inferd_request_queue_duration_seconds",
    "inferd_request_inference_duration_seconds",
    "inferd_request_input_tokens",
    "inferd_queue_size",
    "inferd_batch_next_size",
    "inferd_batch_next_tokens",
    "inferd_http_requests_total",
    "inferd_models_loaded",
    "inferd_model_version_info",
    "inferd_model_switches_total",
};

// The metrics the HPAs scale on, as manifests/inferd/hpa.yaml names them.
std::vector<std::string> hpa_metrics() {
  std::ifstream file(std::string(TPUSTACK_SOURCE_DIR) + "/manifests/inferd/hpa.yaml");
  std::stringstream text;
  text << file.rdbuf();
  const std::string yaml = text.str();
  std::vector<std::string> names;
  const std::regex metric(R"(metric: \{name: ([a-z_:]+)\})");
  for (auto it = std::sregex_iterator(yaml.begin(), yaml.end(), metric); it != std::sregex_iterator(); ++it) {
    names.push_back((*it)[1]);
  }
  return names;
}

TEST(Metrics, TheHpasScaleOnAnExportedMetric) {
  const std::vector<std::string> names = hpa_metrics();
  ASSERT_FALSE(names.empty());
  for (const std::string& name : names) {
    EXPECT_NE(std::find(documented_families.begin(), documented_families.end(), name), documented_families.end())
        << name;
  }
}

TEST(Metrics, ExpositionParsesAndFollowsPrometheusNaming) {
  TPUSTACK_REQUIRE_SETUP(!ServedInferd::tiny_models().empty(), "python3-numpy (it writes the tiny models)");
  ServedInferd server(ServedInferd::one_tiny_model());
  // Successes, a failure and HTTP statuses, so every labelled family has samples to check.
  ASSERT_EQ(server.post("/embed", R"({"inputs": ["hello world", "the lazy dog"]})").status, 200);
  ASSERT_EQ(server.post("/embed", R"({"inputs": "hello", "model": "m"})").status, 200);
  ASSERT_NE(server.post("/embed", R"({"inputs": 7})").status, 200);
  HttpResult metrics = server.get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.headers["content-type"].find("text/plain"), std::string::npos);

  const std::filesystem::path dir = tpustack::testing::make_temp_dir("inferd-metrics");
  const std::filesystem::path exposition = dir / "metrics.txt";
  std::ofstream(exposition) << metrics.body;
  std::vector<std::string> argv{
      "/usr/bin/python3", std::string(TPUSTACK_SOURCE_DIR) + "/tests/support/check_metrics.py", exposition.string()};
  for (const std::string& family : documented_families) argv.insert(argv.end(), {"--require", family});
  ChildProcess checker(argv);
  const std::optional<int> status = checker.wait(std::chrono::seconds(60));
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(status.has_value()) << "check_metrics.py did not finish";
  TPUSTACK_REQUIRE_SETUP(*status != 77, "python3-prometheus-client");
  EXPECT_EQ(*status, 0) << checker.output() << "\n--- the exposition:\n" << metrics.body;
}

}  // namespace
}  // namespace tpustack::inferd::testing
