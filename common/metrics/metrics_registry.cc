#include "common/metrics/metrics_registry.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <regex>
#include <stdexcept>

namespace tpustack::metrics {
namespace {

void atomic_add(std::atomic<double>& target, double by) {
  double current = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(current, current + by, std::memory_order_relaxed)) {
  }
}

bool valid_metric_name(const std::string& name) {
  static const std::regex re("[a-zA-Z_:][a-zA-Z0-9_:]*");
  return std::regex_match(name, re);
}

bool valid_label_name(const std::string& name) {
  static const std::regex re("[a-zA-Z_][a-zA-Z0-9_]*");
  return std::regex_match(name, re) && name.rfind("__", 0) != 0 && name != "le";
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  return std::string(buf, end);
}

void append_escaped(std::string& out, const std::string& text, bool quote_too) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote_too && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

std::string label_text(const std::vector<std::string>& names, const std::vector<std::string>& values,
                       const std::string& extra_name = {}, const std::string& extra_value = {}) {
  if (names.empty() && extra_name.empty()) return {};
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += ',';
    out += names[i] + "=\"";
    append_escaped(out, values[i], true);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!names.empty()) out += ',';
    out += extra_name + "=\"" + extra_value + "\"";
  }
  out += '}';
  return out;
}

}  // namespace

void Counter::inc(double by) {
  if (by < 0) throw std::invalid_argument("a counter cannot decrease");
  atomic_add(value_, by);
}

void Gauge::inc(double by) { atomic_add(value_, by); }

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      buckets_(std::make_unique<std::atomic<unsigned long long>[]>(bounds_.size() + 1)) {
  if (!std::is_sorted(bounds_.begin(), bounds_.end()) ||
      std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end()) {
    throw std::invalid_argument("histogram bucket bounds must be strictly increasing");
  }
}

void Histogram::observe(double v) {
  const size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  atomic_add(sum_, v);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<unsigned long long> Histogram::bucket_counts() const {
  std::vector<unsigned long long> out(bounds_.size() + 1);
  for (size_t i = 0; i < out.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

std::vector<double> latency_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> exponential_buckets(double start, double factor, int count) {
  if (start <= 0 || factor <= 1 || count < 1)
    throw std::invalid_argument("exponential buckets need start > 0, factor > 1, count >= 1");
  std::vector<double> out;
  for (double v = start; static_cast<int>(out.size()) < count; v *= factor) out.push_back(v);
  return out;
}

template <class Metric>
Metric& Family<Metric>::labels(const std::vector<std::string>& values) {
  if (values.size() != label_names_.size()) {
    throw std::invalid_argument("expected " + std::to_string(label_names_.size()) + " label values, got " +
                                std::to_string(values.size()));
  }
  std::lock_guard lock(mu_);
  auto& slot = children_[values];
  if (!slot) {
    if constexpr (std::is_same_v<Metric, Histogram>) {
      slot = std::make_unique<Histogram>(buckets_);
    } else {
      slot = std::make_unique<Metric>();
    }
  }
  return *slot;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

MetricsRegistry::Entry& MetricsRegistry::entry(const std::string& name, const std::string& help,
                                               const std::string& type, const std::vector<std::string>& labels) {
  if (!valid_metric_name(name)) throw std::invalid_argument("invalid metric name '" + name + "'");
  for (const auto& l : labels) {
    if (!valid_label_name(l)) throw std::invalid_argument("invalid label name '" + l + "' on metric " + name);
  }
  for (auto& e : entries_) {
    if (e->name != name) continue;
    if (e->type != type) throw std::invalid_argument("metric " + name + " is already registered as a " + e->type);
    return *e;
  }
  auto e = std::make_unique<Entry>();
  e->name = name;
  e->help = help;
  e->type = type;
  entries_.push_back(std::move(e));
  return *entries_.back();
}

Family<Counter>& MetricsRegistry::counter(const std::string& name, const std::string& help,
                                          std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  auto& e = entry(name, help, "counter", labels);
  if (!e.counters) e.counters = std::make_unique<Family<Counter>>(std::move(labels));
  return *e.counters;
}

Family<Gauge>& MetricsRegistry::gauge(const std::string& name, const std::string& help,
                                      std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  auto& e = entry(name, help, "gauge", labels);
  if (!e.gauges) e.gauges = std::make_unique<Family<Gauge>>(std::move(labels));
  return *e.gauges;
}

Family<Histogram>& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                              std::vector<std::string> labels, std::vector<double> buckets) {
  std::lock_guard lock(mu_);
  auto& e = entry(name, help, "histogram", labels);
  if (!e.histograms) {
    Histogram probe(buckets);  // validates the bounds before the family keeps them
    e.histograms = std::make_unique<Family<Histogram>>(std::move(labels), std::move(buckets));
  }
  return *e.histograms;
}

std::string MetricsRegistry::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& e : entries_) {
    out += "# HELP " + e->name + ' ';
    append_escaped(out, e->help, false);
    out += "\n# TYPE " + e->name + ' ' + e->type + '\n';
    if (e->counters) {
      const auto& names = e->counters->label_names();
      e->counters->for_each([&](const auto& values, const Counter& c) {
        out += e->name + label_text(names, values) + ' ' + format_value(c.value()) + '\n';
      });
    } else if (e->gauges) {
      const auto& names = e->gauges->label_names();
      e->gauges->for_each([&](const auto& values, const Gauge& g) {
        out += e->name + label_text(names, values) + ' ' + format_value(g.value()) + '\n';
      });
    } else if (e->histograms) {
      const auto& names = e->histograms->label_names();
      e->histograms->for_each([&](const auto& values, const Histogram& h) {
        const auto counts = h.bucket_counts();
        unsigned long long cumulative = 0;
        for (size_t i = 0; i < counts.size(); ++i) {
          cumulative += counts[i];
          const std::string le = i < h.upper_bounds().size() ? format_value(h.upper_bounds()[i]) : "+Inf";
          out += e->name + "_bucket" + label_text(names, values, "le", le) + ' ' + std::to_string(cumulative) + '\n';
        }
        out += e->name + "_sum" + label_text(names, values) + ' ' + format_value(h.sum()) + '\n';
        out += e->name + "_count" + label_text(names, values) + ' ' + std::to_string(cumulative) + '\n';
      });
    }
  }
  return out;
}

}  // namespace tpustack::metrics
