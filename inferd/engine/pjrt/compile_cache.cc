#include "inferd/engine/pjrt/compile_cache.h"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <system_error>
#include <utility>

#include <spdlog/spdlog.h>

#include "common/files/file_text.h"
#include "inferd/engine/pjrt/compile_options.h"
#include "inferd/registry/sha256.h"

namespace tpustack::inferd::engine::pjrt {

namespace {

namespace fs = std::filesystem;
using registry::Sha256;
using registry::sha256_hex;

// Changed when what a file holds, or what its key covers, changes: older files are then not found.
constexpr std::string_view kCacheFormat = "tpustack pjrt compile cache 1";

std::string cache_key(const PjrtClient& client, std::string_view program, std::string_view model_digest) {
  Sha256 hash;
  // Each field after its length, so that no two different lists of fields hash the same text.
  const auto field = [&hash](std::string_view text) {
    const std::string length = std::to_string(text.size()) + ":";
    hash.update(length.data(), length.size());
    hash.update(text.data(), text.size());
  };
  field(kCacheFormat);
  field(model_digest);
  field(program);
  field(single_device_compile_options());
  field(client.plugin_library().string());
  field(std::to_string(client.api_version().major) + "." + std::to_string(client.api_version().minor));
  field(client.platform_name());
  field(client.platform_version());
  return hash.hex_digest();
}

// A file holds the SHA-256 of the serialized executable, a newline, then the executable.
constexpr size_t kChecksumLine = 65;

std::string stored_form(std::string_view serialized) { return sha256_hex(serialized) + "\n" + std::string(serialized); }

// The serialized executable in a file's `content`; an Error when the content is not whole.
Result<std::string_view> serialized_in(std::string_view content) {
  if (content.size() < kChecksumLine || content[kChecksumLine - 1] != '\n') {
    return Error{"it holds no checksum line"};
  }
  const std::string_view serialized = content.substr(kChecksumLine);
  if (sha256_hex(serialized) != content.substr(0, kChecksumLine - 1)) return Error{"its checksum does not match"};
  return serialized;
}

// The executable stored in `file`: none when there is no such file, or when it does not load, which is logged.
std::optional<PjrtExecutable> load_stored(const PjrtClient& client, const fs::path& file) {
  std::error_code error;
  if (!fs::exists(file, error)) return std::nullopt;
  auto content = files::read_file_text(file, "compiled executable");
  if (!content) {
    spdlog::warn("compile cache: {}; compiling the program again", content.error().message);
    return std::nullopt;
  }
  auto serialized = serialized_in(*content);
  if (!serialized) {
    spdlog::warn("compile cache: {} is damaged ({}); compiling the program again", file.string(),
                 serialized.error().message);
    return std::nullopt;
  }
  auto executable = client.load_serialized(*serialized);
  if (!executable) {
    spdlog::warn("compile cache: {} does not load ({}); compiling the program again", file.string(),
                 executable.error().message);
    return std::nullopt;
  }
  return std::move(executable).value();
}

// Writes `content` to `file` whole or not at all: readers, in this process or another, see the old file or the new
// one, and a crash leaves at most a temporary file, which no key names.
Result<void> write_whole(const fs::path& file, std::string_view content) {
  static std::atomic<uint64_t> writes{0};
  const fs::path temporary =
      file.string() + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(writes.fetch_add(1));
  std::error_code error;
  fs::create_directories(file.parent_path(), error);
  if (error) return Error{"cannot create " + file.parent_path().string() + ": " + error.message()};
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    if (!out) {
      fs::remove(temporary, error);
      return Error{"cannot write " + temporary.string()};
    }
  }
  fs::rename(temporary, file, error);
  if (error) {
    const std::string reason = error.message();
    fs::remove(temporary, error);
    return Error{"cannot rename " + temporary.string() + " to " + file.string() + ": " + reason};
  }
  return {};
}

}  // namespace

CompileCache::CompileCache(std::optional<std::filesystem::path> directory) : directory_(std::move(directory)) {}

Result<PjrtExecutable> CompileCache::get_or_compile(const PjrtClient& client, std::string_view program,
                                                    std::string_view model_digest) {
  if (!directory_) return compile(client, program);
  const fs::path file = *directory_ / (cache_key(client, program, model_digest) + ".pjrt");
  if (std::optional<PjrtExecutable> stored = load_stored(client, file)) {
    ++hits_;
    return std::move(*stored);
  }
  auto compiled = compile(client, program);
  if (compiled) store(*compiled, file);
  return compiled;
}

Result<PjrtExecutable> CompileCache::compile(const PjrtClient& client, std::string_view program) {
  ++misses_;
  const auto start = std::chrono::steady_clock::now();
  auto compiled = client.compile(program);
  compile_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return compiled;
}

void CompileCache::store(const PjrtExecutable& executable, const std::filesystem::path& file) {
  auto serialized = executable.serialize();
  Result<void> written = serialized ? write_whole(file, stored_form(*serialized)) : Result<void>(serialized.error());
  // Once: a directory that cannot be written fails every store the same way.
  if (!written && !store_failure_logged_.exchange(true)) {
    spdlog::warn("compile cache: cannot store compiled executables in {} ({}); compiling without caching",
                 directory_->string(), written.error().message);
  }
}

}  // namespace tpustack::inferd::engine::pjrt
