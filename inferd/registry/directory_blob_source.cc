#include <fstream>
#include <sstream>

#include "inferd/registry/blob_source.h"

namespace inferd::registry {

namespace {

class DirectoryBlobSource final : public BlobSource {
 public:
  explicit DirectoryBlobSource(std::filesystem::path root) : root_(std::move(root)) {}

  std::string locate(const std::string& path) const override { return (root_ / path).string(); }

  Result<std::string> read_text(const std::string& path) override {
    std::ifstream in(root_ / path, std::ios::binary);
    if (!in) return Error{"cannot read " + locate(path)};
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  Result<Download> download(const std::string& path, const std::filesystem::path& partial) override {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(root_ / path, ec)) return Download{false, 0};
    std::filesystem::copy_file(root_ / path, partial, std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) return Error{"cannot copy " + locate(path) + " to " + partial.string() + ": " + ec.message()};
    return Download{true, std::filesystem::file_size(partial, ec)};
  }

 private:
  std::filesystem::path root_;
};

}  // namespace

std::unique_ptr<BlobSource> make_directory_source(const std::filesystem::path& root) {
  return std::make_unique<DirectoryBlobSource>(root);
}

}  // namespace inferd::registry
