#pragma once

#include <chrono>
#include <map>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/inferd_server/served_inferd.h"

namespace tpustack::inferd::testing {

// The Files and Batch APIs as a client drives them, over a served inferd.

// `lines` embedding requests, custom_ids "r0", "r1", ..., each embedding its own text.
std::string embedding_lines(int lines, const std::string& model = "m");

// POST /v1/files as multipart/form-data; the File object.
nlohmann::json upload(ServedInferd& server, const std::string& filename, const std::string& content);

// POST /v1/batches over `file_id` for /v1/embeddings; the Batch object.
nlohmann::json create_batch(ServedInferd& server, const std::string& file_id);

// GET /v1/batches/{id} until `done` accepts it or `timeout` passes (the last one seen).
template <class Done>
nlohmann::json poll_batch(ServedInferd& server, const std::string& id, std::chrono::milliseconds timeout, Done done) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  nlohmann::json batch;
  do {
    batch = nlohmann::json::parse(server.get("/v1/batches/" + id).body);
    if (done(batch)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < until);
  return batch;
}

// custom_id → how many lines of the JSONL file carry it.
std::map<std::string, int> custom_id_counts(const std::string& jsonl);

}  // namespace tpustack::inferd::testing
