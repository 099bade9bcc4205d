#include <cpprest/http_client.h>

#include <vector>

#include "inferd/registry/blob_source.h"
#include "inferd/registry/partial_file.h"

namespace tpustack::inferd::registry {

namespace {

namespace http = web::http;

std::string header(const http::http_response& response, const std::string& name) {
  const auto& headers = response.headers();
  const auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

// What If-Range may carry (RFC 9110 13.1.5): a strong ETag, else Last-Modified; "" when the response has neither,
// and then an interrupted transfer starts again rather than resuming.
std::string strong_validator(const http::http_response& response) {
  const std::string etag = header(response, "ETag");
  if (!etag.empty() && etag.rfind("W/", 0) != 0) return etag;
  return header(response, "Last-Modified");
}

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
    // Resume only what a validator vouches for: a bare Range request on a file that changed since (a new
    // revision, another model's leftover) would splice two files together.
    uint64_t have = regular_file_size(partial);
    const std::string validator = have > 0 ? read_validator(partial) : "";
    if (validator.empty()) have = 0;
    try {
      http::client::http_client client(locate(path), config_);
      http::http_request request(http::methods::GET);
      if (have > 0) {
        request.headers().add("Range", "bytes=" + std::to_string(have) + "-");
        request.headers().add("If-Range", validator);
      }
      http::http_response response = client.request(request).get();
      const auto status = response.status_code();
      if (status == http::status_codes::NotFound) return Download{false, 0};
      // The validator matched and the partial file already holds everything.
      if (status == http::status_codes::RangeNotSatisfiable && have > 0) return Download{true, have};
      const bool resumed = status == http::status_codes::PartialContent && have > 0 &&
                           header(response, "Content-Range").rfind("bytes " + std::to_string(have) + "-", 0) == 0;
      if (status != http::status_codes::OK && !resumed) {
        return Error{"GET " + locate(path) + " answered HTTP " + std::to_string(status)};
      }
      // Emptied first, then the new validator: a kill between the two leaves an empty file, never old bytes
      // under a new validator.
      auto out = PartialFile::open(partial, resumed);
      if (!out) return out.error();
      if (!resumed) {
        if (auto saved = write_validator(partial, strong_validator(response)); !saved) return saved.error();
      }
      auto body = response.body().streambuf();
      std::vector<uint8_t> chunk(1 << 16);
      while (true) {
        const size_t n = body.getn(chunk.data(), chunk.size()).get();
        if (n == 0) break;
        if (auto written = out->write(chunk.data(), n); !written) return written.error();
      }
      return Download{true, out->size()};
    } catch (const std::exception& e) {
      return Error{"GET " + locate(path) + " was interrupted: " + e.what()};
    }
  }

  Result<std::string> revision_commit(const std::string& path) override {
    try {
      http::client::http_client client(locate(path), config_);
      http::http_response response = client.request(http::methods::HEAD).get();
      if (response.status_code() == http::status_codes::NotFound) return Error{"the hub has no " + path};
      if (response.status_code() != http::status_codes::OK) {
        return Error{"HEAD " + locate(path) + " answered HTTP " + std::to_string(response.status_code())};
      }
      return header(response, "X-Repo-Commit");
    } catch (const std::exception& e) {
      return Error{"HEAD " + locate(path) + " failed: " + e.what()};
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

}  // namespace tpustack::inferd::registry
