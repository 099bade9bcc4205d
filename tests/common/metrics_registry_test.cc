#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "common/metrics/metrics_registry.h"

namespace tpustack::metrics {
namespace {

using ::testing::HasSubstr;

TEST(MetricsRegistryTest, RendersPrometheusTextFormat) {
  MetricsRegistry registry;
  auto& healthy = registry.gauge("tpu_chips_healthy", "Chips currently healthy.");
  healthy.unlabelled().set(7);
  auto& requests = registry.counter("requests_total", "Requests by verb.", {"verb", "code"});
  requests.labels({"filter", "200"}).inc();
  requests.labels({"filter", "200"}).inc(2);
  requests.labels({"bind", "500"}).inc();
  auto& latency = registry.histogram("latency_seconds", "Latency.", {"verb"}, {0.001, 0.01});
  latency.labels({"filter"}).observe(0.0005);
  latency.labels({"filter"}).observe(0.005);
  latency.labels({"filter"}).observe(1);

  const std::string text = registry.render();
  EXPECT_THAT(text, HasSubstr("# HELP tpu_chips_healthy Chips currently healthy.\n# TYPE tpu_chips_healthy gauge\n"
                              "tpu_chips_healthy 7\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE requests_total counter\n"));
  EXPECT_THAT(text, HasSubstr("requests_total{verb=\"filter\",code=\"200\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("requests_total{verb=\"bind\",code=\"500\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("latency_seconds_bucket{verb=\"filter\",le=\"0.001\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("latency_seconds_bucket{verb=\"filter\",le=\"0.01\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("latency_seconds_bucket{verb=\"filter\",le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("latency_seconds_sum{verb=\"filter\"} 1.0055\n"));
  EXPECT_THAT(text, HasSubstr("latency_seconds_count{verb=\"filter\"} 3\n"));
}

TEST(MetricsRegistryTest, EscapesLabelValuesAndHelp) {
  MetricsRegistry registry;
  registry.counter("odd_total", "line one\nline \\ two", {"path"}).labels({"a\"b\\c\nd"}).inc();
  const std::string text = registry.render();
  EXPECT_THAT(text, HasSubstr("# HELP odd_total line one\\nline \\\\ two\n"));
  EXPECT_THAT(text, HasSubstr("odd_total{path=\"a\\\"b\\\\c\\nd\"} 1\n"));
}

TEST(MetricsRegistryTest, RejectsMisuse) {
  MetricsRegistry registry;
  EXPECT_THROW(registry.counter("bad name", "x"), std::invalid_argument);
  EXPECT_THROW(registry.counter("ok_total", "x", {"le"}), std::invalid_argument);
  auto& c = registry.counter("c_total", "x", {"a"});
  EXPECT_THROW(c.labels({}), std::invalid_argument);
  EXPECT_THROW(c.labels({"1"}).inc(-1), std::invalid_argument);
  EXPECT_THROW(registry.gauge("c_total", "x"), std::invalid_argument);
  EXPECT_EQ(&registry.counter("c_total", "x", {"a"}), &c);
  EXPECT_THROW(registry.histogram("h", "x", {}, {2, 1}), std::invalid_argument);
}

TEST(MetricsRegistryTest, ConcurrentUpdatesAreNotLost) {
  MetricsRegistry registry;
  auto& c = registry.counter("hits_total", "x", {"t"});
  auto& h = registry.histogram("h_seconds", "x", {}, latency_buckets());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.labels({"x"}).inc();
        h.unlabelled().observe(0.001);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.labels({"x"}).value(), 40000);
  EXPECT_EQ(h.unlabelled().count(), 40000u);
}

}  // namespace
}  // namespace tpustack::metrics
