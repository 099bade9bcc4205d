#include <cpprest/http_client.h>

#include <fstream>
#include <vector>

#include "inferd/registry/blob_source.h"

namespace inferd::registry {

namespace {

namespace http = web::http;

class HttpBlobSource final : public BlobSource {
 public:
  explicit HttpBlobSource(std::string base_url) : base_(std::move(base_url)) {
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
    config_.set_timeout(std::chrono::seconds(60));
  }

  std::string locate(const std::string& path) const override { return base_ + "/" + path; }

  Result<std::string> read_text(const std::string& path) override {
    try {
      http::client::http_client client(locate(path), config_);
      http::http_response response = client.request(http::methods::GET).get();
      if (response.status_code() != http::status_codes::OK) {
        return Error{"GET " + locate(path) + " answered HTTP " + std::to_string(response.status_code())};
      }
      return response.extract_utf8string(/*ignore_content_type=*/true).get();
    } catch (const std::exception& e) {
      return Error{"GET " + locate(path) + " failed: " + e.what()};
    }
  }

  Result<Download> download(const std::string& path, const std::filesystem::path& partial) override {
    std::error_code ec;
    const uint64_t have = std::filesystem::exists(partial, ec) ? std::filesystem::file_size(partial, ec) : 0;
    try {
      http::client::http_client client(locate(path), config_);
      http::http_request request(http::methods::GET);
      if (have > 0) request.headers().add("Range", "bytes=" + std::to_string(have) + "-");
      http::http_response response = client.request(request).get();
      const auto status = response.status_code();
      if (status == http::status_codes::NotFound) return Download{false, 0};
      // The partial file already holds everything (or more, which the digest check will reject).
      if (status == http::status_codes::RangeNotSatisfiable && have > 0) return Download{true, have};
      const bool resumed = status == http::status_codes::PartialContent && have > 0;
      if (status != http::status_codes::OK && !resumed) {
        return Error{"GET " + locate(path) + " answered HTTP " + std::to_string(status)};
      }
      std::ofstream out(partial, std::ios::binary | (resumed ? std::ios::app : std::ios::trunc));
      if (!out) return Error{"cannot write " + partial.string()};
      auto body = response.body().streambuf();
      std::vector<uint8_t> chunk(1 << 16);
      uint64_t size = resumed ? have : 0;
      while (true) {
        const size_t n = body.getn(chunk.data(), chunk.size()).get();
        if (n == 0) break;
        out.write(reinterpret_cast<const char*>(chunk.data()), static_cast<std::streamsize>(n));
        size += n;
      }
      out.flush();
      if (!out) return Error{"cannot write " + partial.string()};
      return Download{true, size};
    } catch (const std::exception& e) {
      return Error{"GET " + locate(path) + " was interrupted: " + e.what()};
    }
  }

 private:
  std::string base_;
  http::client::http_client_config config_;
};

}  // namespace

std::unique_ptr<BlobSource> make_http_source(const std::string& base_url) {
  return std::make_unique<HttpBlobSource>(base_url);
}

}  // namespace inferd::registry
