#include <fstream>
#include <sstream>
#include <vector>

#include "inferd/registry/blob_source.h"
#include "inferd/registry/partial_file.h"

namespace tpustack::inferd::registry {

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
    std::ifstream in(root_ / path, std::ios::binary);
    auto out = PartialFile::open(partial, false);
    if (!out) return out.error();
    std::vector<char> chunk(1 << 16);
    while (in) {
      in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      if (auto written = out->write(chunk.data(), static_cast<size_t>(in.gcount())); !written) return written.error();
    }
    if (in.bad()) return Error{"cannot read " + locate(path)};
    return Download{true, out->size()};
  }

  Result<std::string> revision_commit(const std::string&) override { return std::string(); }

 private:
  std::filesystem::path root_;
};

}  // namespace

std::unique_ptr<BlobSource> make_directory_source(const std::filesystem::path& root) {
  return std::make_unique<DirectoryBlobSource>(root);
}

}  // namespace tpustack::inferd::registry
