// Runs a fuzz target's LLVMFuzzerTestOneInput once on every file given, and on every file under each directory
// given: the ctest replay of a corpus, built with any compiler (libFuzzer brings its own main under clang).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    if (std::filesystem::is_directory(argv[i])) {
      for (const auto& entry : std::filesystem::recursive_directory_iterator(argv[i])) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
    } else {
      files.emplace_back(argv[i]);
    }
  }
  if (files.empty()) {
    std::cerr << "usage: " << argv[0] << " FILE_OR_DIRECTORY... (no input found)\n";
    return 2;
  }
  std::chrono::duration<double> slowest{};
  std::filesystem::path slowest_file;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::cerr << "cannot read " << file << "\n";
      return 1;
    }
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto start = std::chrono::steady_clock::now();
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    if (auto took = std::chrono::steady_clock::now() - start; took > slowest) {
      slowest = took;
      slowest_file = file;
    }
  }
  std::cout << "replayed " << files.size() << " inputs; slowest " << slowest.count() << " s ("
            << slowest_file.filename().string() << ")\n";
  return 0;
}
