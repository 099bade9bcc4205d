// HTTP load generator for inferd serve: closed-loop clients, each with its own keep-alive connection, posting
// /embed requests of --batch texts taken in file order. One JSON line per concurrency level.
#include <cpprest/http_client.h>
#include <pplx/threadpool.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>
#include <vector>

#include "common/cli/command_line.h"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

std::vector<std::string> read_texts(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> texts;
  for (std::string line; std::getline(in, line);) {
    auto doc = json::parse(line, nullptr, false);
    if (doc.is_object() && doc.contains("text")) texts.push_back(doc["text"]);
  }
  return texts;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(p * static_cast<double>(values.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("HTTP load generator for inferd serve", "inferd_http_load");
  std::string url = "http://127.0.0.1:8080", texts_path, model;
  std::vector<size_t> levels{1, 4, 16, 32};
  size_t batch = 8;
  double seconds = 5;
  app.add_option("--url", url);
  app.add_option("--texts", texts_path, "JSON lines, {\"text\": ...} each")->required();
  app.add_option("--model", model);
  app.add_option("--concurrency", levels, "levels, comma-separated")->delimiter(',');
  app.add_option("--batch", batch, "texts per request");
  app.add_option("--seconds", seconds, "per level");
  if (auto code = tpustack::cli::parse_command_line(app, argc, argv)) return *code;
  crossplat::threadpool::initialize_with_threads(std::max<size_t>(*std::max_element(levels.begin(), levels.end()), 4));
  const std::vector<std::string> texts = read_texts(texts_path);
  if (texts.empty()) {
    std::cerr << "no texts in " << texts_path << "\n";
    return 1;
  }
  // Request bodies prepared up front so the client spends its time on I/O.
  std::vector<std::string> bodies;
  for (size_t start = 0; start + batch <= texts.size(); start += batch) {
    json body = {{"inputs", std::vector<std::string>(texts.begin() + start, texts.begin() + start + batch)},
                 {"truncate", true}};
    if (!model.empty()) body["model"] = model;
    bodies.push_back(body.dump());
  }
  for (size_t level : levels) {
    std::atomic<size_t> next{0}, done{0}, errors{0};
    std::vector<std::vector<double>> latencies(level);
    const Clock::time_point start = Clock::now();
    const Clock::time_point until =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    std::vector<std::thread> clients;
    for (size_t c = 0; c < level; ++c) {
      clients.emplace_back([&, c] {
        web::http::client::http_client client(url);
        while (Clock::now() < until) {
          const std::string& body = bodies[next++ % bodies.size()];
          web::http::http_request request(web::http::methods::POST);
          request.set_request_uri("/embed");
          request.set_body(body, "application/json");
          const Clock::time_point sent = Clock::now();
          try {
            auto response = client.request(request).get();
            response.extract_vector().get();
            if (response.status_code() != 200) {
              ++errors;
              continue;
            }
          } catch (const std::exception&) {
            ++errors;
            continue;
          }
          latencies[c].push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
          ++done;
        }
      });
    }
    for (auto& t : clients) t.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    std::vector<double> all;
    for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
    std::cout << json({{"concurrency", level},
                       {"batch", batch},
                       {"requests_per_s", static_cast<double>(done) / elapsed},
                       {"seq_per_s", static_cast<double>(done * batch) / elapsed},
                       {"p50_ms", percentile(all, 0.50)},
                       {"p99_ms", percentile(all, 0.99)},
                       {"errors", errors.load()}})
                     .dump()
              << std::endl;
  }
  return 0;
}
