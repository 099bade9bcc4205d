#include "tests/e2e/request_load.h"

#include <memory>
#include <random>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "tests/support/raw_http_client.h"

namespace tpustack::e2e {

RequestLoad::RequestLoad(int clients, std::string path, std::string body, std::chrono::milliseconds deadline,
                         std::chrono::milliseconds pause)
    : path_(std::move(path)), body_(std::move(body)), deadline_(deadline), pause_(pause) {
  for (int client = 0; client < clients; ++client) {
    clients_.emplace_back([this, seed = std::random_device{}()] { run(seed); });
  }
}

RequestLoad::~RequestLoad() { stop(); }

void RequestLoad::set_targets(std::vector<int> ports) {
  std::lock_guard lock(mu_);
  targets_ = std::move(ports);
}

void RequestLoad::stop() {
  stopping_ = true;
  for (std::thread& client : clients_) {
    if (client.joinable()) client.join();
  }
}

LoadTally RequestLoad::tally() const {
  std::lock_guard lock(mu_);
  return tally_;
}

void RequestLoad::run(unsigned seed) {
  std::mt19937 rng(seed);
  const std::string request = testing::request_bytes("POST", path_, body_);
  while (!stopping_) {
    std::this_thread::sleep_for(pause_);
    int port = 0;
    {
      std::lock_guard lock(mu_);
      if (targets_.empty()) continue;
      port = targets_[std::uniform_int_distribution<std::size_t>(0, targets_.size() - 1)(rng)];
    }
    std::unique_ptr<testing::RawConnection> connection;
    try {
      connection = std::make_unique<testing::RawConnection>(port);
    } catch (const std::runtime_error&) {
      std::lock_guard lock(mu_);
      ++tally_.unreachable;  // nothing listens there (any more)
      continue;
    }
    if (!connection->send(request)) {
      std::lock_guard lock(mu_);
      ++tally_.unreachable;
      continue;
    }
    const auto sent = std::chrono::steady_clock::now();
    const testing::RawResponse response = connection->read_response(deadline_);
    // read_response gives up alike on a closed connection and on its deadline: the clock tells them apart.
    const bool timed_out = std::chrono::steady_clock::now() - sent >= deadline_;
    const auto length = response.headers.find("content-length");
    const bool whole = length == response.headers.end() || response.body.size() == std::stoul(length->second);
    record(std::to_string(port), response.status, whole, nlohmann::json::accept(response.body), timed_out);
  }
}

void RequestLoad::record(const std::string& port, int status, bool whole, bool json, bool timed_out) {
  std::lock_guard lock(mu_);
  ++tally_.accepted;
  std::string failure;
  if (status >= 200 && status < 300 && whole && json) {
    ++tally_.answered;
  } else if (status >= 200 && status < 300 && whole) {
    ++tally_.wrong;
    failure = "port " + port + ": a 2xx whose body is not JSON";
  } else if (status >= 300 && whole) {
    ++tally_.refused_status;
  } else if (!timed_out) {
    ++tally_.refused_closed;
  } else {
    ++tally_.hung;
    failure = "port " + port + ": no whole answer within the deadline (status " + std::to_string(status) + ")";
  }
  if (!failure.empty() && tally_.failures.size() < 10) tally_.failures.push_back(failure);
}

}  // namespace tpustack::e2e
