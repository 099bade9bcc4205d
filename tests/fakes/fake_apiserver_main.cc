// fake-apiserver: the fake kube-apiserver as a program, for scripts and end-to-end tests.
//   fake-apiserver [--listen 127.0.0.1:0] [--seed objects.json] [--history N] [--bookmark-interval-ms N]
// Prints "listening on http://HOST:PORT" on stdout once it accepts connections; runs until SIGINT or
// SIGTERM. POST /fake/drop-watches and POST /fake/compact drive the same test controls as the C++ API.
#include <csignal>
#include <fstream>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "common/logging/logging.h"
#include "tests/fakes/fake_apiserver.h"

namespace {

using tpustack::fakes::FakeApiServer;
using tpustack::fakes::GroupResource;

// "Pod" -> pods, "JobSet" -> jobsets: the plural of every kind the tests seed.
GroupResource resource_of(const nlohmann::json& object) {
  std::string api_version = object.value("apiVersion", "v1");
  std::size_t slash = api_version.find('/');
  std::string kind = object.value("kind", "");
  std::string plural;
  for (char c : kind) plural += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  plural += plural.ends_with("s") ? "es" : "s";
  return {slash == std::string::npos ? "" : api_version.substr(0, slash), plural};
}

void seed(FakeApiServer& server, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read seed file " + path);
  nlohmann::json doc = nlohmann::json::parse(in);
  const nlohmann::json items = doc.is_array() ? doc : doc.value("items", nlohmann::json::array());
  for (const auto& object : items) server.store().create(resource_of(object), "", object);
}

int usage(const std::string& problem) {
  std::cerr << "fake-apiserver: " << problem
            << "\nusage: fake-apiserver [--listen HOST:PORT] [--seed FILE.json] [--history N] "
               "[--bookmark-interval-ms N] [--log-level LEVEL]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  FakeApiServer::Options options;
  std::string seed_file;
  tpustack::logging::LoggingOptions logging;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) return usage("missing value for " + flag);
    std::string value = argv[++i];
    try {
      if (flag == "--listen") {
        std::size_t colon = value.rfind(':');
        if (colon == std::string::npos) return usage("--listen wants HOST:PORT, not " + value);
        options.host = colon == 0 ? "127.0.0.1" : value.substr(0, colon);
        options.port = static_cast<std::uint16_t>(std::stoi(value.substr(colon + 1)));
      } else if (flag == "--seed") {
        seed_file = value;
      } else if (flag == "--history") {
        options.history_limit = std::stoul(value);
      } else if (flag == "--bookmark-interval-ms") {
        options.bookmark_interval = std::chrono::milliseconds(std::stol(value));
      } else if (flag == "--log-level") {
        logging.level = value;
      } else {
        return usage("unknown flag " + flag);
      }
    } catch (const std::exception&) {
      return usage("bad value '" + value + "' for " + flag);
    }
  }
  if (auto logged = tpustack::logging::setup_logging(logging, "fake-apiserver"); !logged) {
    return usage(logged.error().message);
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread starts, so sigwait gets them

  FakeApiServer server(options);
  try {
    if (!seed_file.empty()) seed(server, seed_file);
    server.start();
  } catch (const std::exception& e) {
    std::cerr << "fake-apiserver: " << e.what() << "\n";
    return 1;
  }
  std::cout << "listening on " << server.url() << std::endl;
  int received = 0;
  sigwait(&signals, &received);
  server.stop();
  return 0;
}
