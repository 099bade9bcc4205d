// inferd's HTTP API under attack, on a real `inferd serve` process: hundreds of clients that stall mid-body must not
// starve the others, and a huge body must be refused as it arrives, not after it is in memory.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "common/http/http_server.h"
#include "served_inferd.h"
#include "tests/support/raw_http_client.h"
#include "tests/support/required_tool.h"

namespace tpustack::inferd::testing {
namespace {

using tpustack::testing::RawConnection;
using tpustack::testing::request_bytes;
using namespace std::chrono_literals;

// A field of /proc/PID/status in bytes (VmRSS, VmHWM).
size_t memory_field(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      std::istringstream value(line.substr(field.size() + 1));
      size_t kib = 0;
      value >> kib;
      return kib * 1024;
    }
  }
  return 0;
}

size_t open_sockets(pid_t pid) {
  size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    std::error_code ec;
    if (std::filesystem::read_symlink(entry.path(), ec).string().rfind("socket:", 0) == 0) ++count;
  }
  return count;
}

// Latencies, in milliseconds, of `clients` keep-alive clients sending `requests` each: /embed of a short text,
// every fourth one GET /health. A request that fails counts as an hour.
std::vector<double> latencies(int port, int clients, int requests) {
  std::vector<std::vector<double>> each(clients);
  std::vector<std::thread> threads;
  const std::string embed = request_bytes("POST", "/embed", R"({"inputs": "the quick brown fox"})");
  const std::string health = request_bytes("GET", "/health");
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      RawConnection connection(port);
      for (int r = 0; r < requests; ++r) {
        const auto start = std::chrono::steady_clock::now();
        const bool sent = connection.send(r % 4 == 3 ? health : embed);
        const bool ok = sent && connection.read_response(10s).status == 200;
        each[c].push_back(
            ok ? std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() : 3600e3);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::vector<double> all;
  for (const auto& one : each) all.insert(all.end(), one.begin(), one.end());
  std::sort(all.begin(), all.end());
  return all;
}

double percentile(const std::vector<double>& sorted, double p) {
  return sorted[std::min(sorted.size() - 1, static_cast<size_t>(p * static_cast<double>(sorted.size())))];
}

TEST(InferdHttpLoad, FiveHundredTwelveStalledBodiesStarveNobody) {
  TPUSTACK_REQUIRE_SETUP(!ServedInferd::tiny_models().empty(), "python3-numpy (it writes the tiny models)");
  ASSERT_GE(tpustack::http::raise_open_file_limit(), 1200u);
  ServedInferd server(ServedInferd::one_tiny_model());
  const pid_t pid = server.process().pid();
  const size_t sockets_before = open_sockets(pid);
  std::vector<std::unique_ptr<RawConnection>> stalled;
  for (int i = 0; i < 512; ++i) {
    stalled.push_back(std::make_unique<RawConnection>(server.http_port()));
    // Headers and half the body, then silence.
    ASSERT_TRUE(
        stalled.back()->send("POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                             "Content-Length: 64\r\n\r\n{\"inputs\": [\"the quick brown"));
  }
  // 16 clients, 20 requests each: the 99th percentile is the fourth slowest of 320. A round can be spoiled by a
  // busy machine (another build, a paused process), so the best of three rounds stands.
  std::vector<double> p99s;
  for (int round = 0; round < 3 && (p99s.empty() || p99s.back() >= 100); ++round) {
    p99s.push_back(percentile(latencies(server.http_port(), 16, 20), 0.99));
  }
  std::string measured;
  for (double p99 : p99s) measured += std::to_string(static_cast<int>(p99)) + " ms ";
  EXPECT_LT(*std::min_element(p99s.begin(), p99s.end()), 100) << "p99 per round: " << measured;
  std::cout << "p99 with 512 stalled connections, per round: " << measured << "\n";
  EXPECT_EQ(server.get("/health").status, 200);

  // When the attacker leaves, so do its sockets: none stays in CLOSE-WAIT.
  stalled.clear();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (open_sockets(pid) > sockets_before + 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_LE(open_sockets(pid), sockets_before + 2);
  EXPECT_EQ(server.process().terminate(30s), 0);
}

// A client that announces a gigabyte (Content-Length) or streams one without saying (chunked) is refused when
// the announcement or the bytes pass --payload-limit, and keeps sending meanwhile, as one ignoring answers would.
TEST(InferdHttpLoad, AGigabyteBodyIsRefusedAsItArrives) {
  TPUSTACK_REQUIRE_SETUP(!ServedInferd::tiny_models().empty(), "python3-numpy (it writes the tiny models)");
  ServedInferd server(ServedInferd::one_tiny_model());
  const pid_t pid = server.process().pid();
  constexpr size_t kGigabyte = size_t{1} << 30;
  for (const bool chunked : {false, true}) {
    const size_t rss_before = memory_field(pid, "VmRSS"), peak_before = memory_field(pid, "VmHWM");
    RawConnection connection(server.http_port());
    ASSERT_TRUE(connection.send("POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
                                (chunked ? std::string("Transfer-Encoding: chunked\r\n")
                                         : "Content-Length: " + std::to_string(kGigabyte) + "\r\n") +
                                "\r\n"));
    std::atomic<size_t> sent{0};
    std::thread sender([&] {
      const std::string megabyte(1 << 20, 'a');
      const std::string chunk = chunked ? "100000\r\n" + megabyte + "\r\n" : megabyte;
      while (sent < kGigabyte && connection.send(chunk)) sent += megabyte.size();
    });
    const auto refused = connection.read_response(30s);
    sender.join();
    EXPECT_EQ(refused.status, 413) << refused.body;
    EXPECT_NE(refused.body.find("2097152"), std::string::npos) << refused.body;  // the --payload-limit
    const size_t rss_after = memory_field(pid, "VmRSS"), peak_after = memory_field(pid, "VmHWM");
    std::cout << (chunked ? "chunked" : "Content-Length") << ": sent " << (sent >> 20) << " MiB; RSS grew "
              << ((rss_after - std::min(rss_after, rss_before)) >> 10) << " KiB, its peak "
              << ((peak_after - peak_before) >> 10) << " KiB\n";
    EXPECT_LT(rss_after, rss_before + (50 << 20));
    EXPECT_LT(peak_after, peak_before + (50 << 20));
  }
  EXPECT_EQ(server.get("/health").status, 200);
}

}  // namespace
}  // namespace tpustack::inferd::testing
