#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tpustack::metrics {

class Counter {
 public:
  void inc(double by = 1.0);  // by must be >= 0: counters only go up
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void inc(double by = 1.0);
  void dec(double by = 1.0) { inc(-by); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double v);
  const std::vector<double>& upper_bounds() const { return bounds_; }
  // Per-bucket (not cumulative) counts; the last entry is the +Inf bucket.
  std::vector<unsigned long long> bucket_counts() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  unsigned long long count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<unsigned long long>[]> buckets_;
  std::atomic<double> sum_{0.0};
  std::atomic<unsigned long long> count_{0};
};

// Buckets for latencies in seconds, 100 µs to 10 s.
std::vector<double> latency_buckets();
// Powers of two from 1 to `max`, for sizes such as batch size or token counts.
std::vector<double> exponential_buckets(double start, double factor, int count);

// One metric name with a fixed list of label names; each label-value combination is a child.
template <class Metric>
class Family {
 public:
  Family(std::vector<std::string> label_names, std::vector<double> buckets = {})
      : label_names_(std::move(label_names)), buckets_(std::move(buckets)) {}

  // Throws std::invalid_argument when the number of values differs from the label names.
  Metric& labels(const std::vector<std::string>& values);
  Metric& unlabelled() { return labels({}); }

  const std::vector<std::string>& label_names() const { return label_names_; }
  template <class Fn>
  void for_each(Fn&& fn) const {
    std::lock_guard lock(mu_);
    for (const auto& [values, metric] : children_) fn(values, *metric);
  }

 private:
  std::vector<std::string> label_names_;
  std::vector<double> buckets_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> children_;
};

// Holds every metric of a program and renders the Prometheus text exposition format 0.0.4.
// Registering the same name twice with the same type and labels returns the first family.
class MetricsRegistry {
 public:
  Family<Counter>& counter(const std::string& name, const std::string& help, std::vector<std::string> labels = {});
  Family<Gauge>& gauge(const std::string& name, const std::string& help, std::vector<std::string> labels = {});
  Family<Histogram>& histogram(const std::string& name, const std::string& help, std::vector<std::string> labels,
                               std::vector<double> buckets);

  std::string render() const;

 private:
  struct Entry {
    std::string name;
    std::string help;
    std::string type;
    std::unique_ptr<Family<Counter>> counters;
    std::unique_ptr<Family<Gauge>> gauges;
    std::unique_ptr<Family<Histogram>> histograms;
  };
  Entry& entry(const std::string& name, const std::string& help, const std::string& type,
               const std::vector<std::string>& labels);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Entry>> entries_;
};

}  // namespace tpustack::metrics
