#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/result/result.h"

namespace tpustack::inferd::registry {

// Incremental SHA-256 (OpenSSL), as lower-case hex.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t size);
  std::string hex_digest();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string sha256_hex(std::string_view data);
// Whether `text` is a SHA-256 as sha256_hex writes it: 64 lower-case hex digits.
bool is_sha256_hex(std::string_view text);
Result<std::string> sha256_file(const std::filesystem::path& path);

}  // namespace tpustack::inferd::registry
