// The PJRT compile cache against the fake plugin: a restart loads what the run before compiled, anything the key
// covers compiles anew, and a damaged file, a file the plugin refuses or a directory that cannot be written costs a
// compile, never a failure.

#include "inferd/engine/pjrt/compile_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/files/file_text.h"
#include "inferd/engine/pjrt/pjrt_plugin.h"
#include "tests/inferd_pjrt/dense_layer_mlir.h"
#include "tests/inferd_pjrt/dense_layer_run.h"
#include "tests/inferd_pjrt/fake_pjrt_fixture.h"
#include "tests/support/result_matchers.h"
#include "tests/support/temp_dir.h"

namespace tpustack::inferd::engine::pjrt {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using tpustack::testing::FailsWith;
using tpustack::testing::value_of;

constexpr std::string_view kDenseLayer = tpustack::stablehlo_reference::kDenseLayerMlir;
constexpr std::string_view kModel = "sha256:0d4c";

constexpr std::string_view kSum = R"mlir(func.func @main(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %0 = stablehlo.add %a, %b : tensor<4xf32>
  return %0 : tensor<4xf32>
})mlir";

int compilations() { return fake_counter("FakePjrt_Compilations"); }

struct Counts {
  uint64_t hits = 0;
  uint64_t misses = 0;
  bool operator==(const Counts&) const = default;
};

Counts counts_of(const CompileCache& cache) { return {cache.hits(), cache.misses()}; }

class CompileCacheTest : public FakePjrtTest {
 protected:
  CompileCacheTest() {
    spdlog::set_default_logger(
        std::make_shared<spdlog::logger>("compile-cache-test", std::make_shared<spdlog::sinks::ostream_sink_st>(log_)));
  }
  void TearDown() override {
    spdlog::set_default_logger(previous_logger_);
    fs::remove_all(directory_);
    FakePjrtTest::TearDown();
  }

  // The files in the cache directory, by name.
  std::vector<std::string> stored() const {
    std::vector<std::string> names;
    for (const fs::directory_entry& entry : fs::directory_iterator(directory_)) {
      names.push_back(entry.path().filename().string());
    }
    return names;
  }
  // The lines the cache logged.
  std::vector<std::string> logged() const {
    std::vector<std::string> lines;
    std::istringstream in(log_.str());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  std::shared_ptr<spdlog::logger> previous_logger_ = spdlog::default_logger();
  std::ostringstream log_;
  fs::path directory_ = tpustack::testing::make_temp_dir("compile-cache");
  PjrtPlugin plugin_ = value_of(PjrtPlugin::load(kFakePlugin));
};

TEST_F(CompileCacheTest, ARestartLoadsWhatTheRunBeforeCompiledAndCompilesNothing) {
  const int before = compilations();
  std::vector<std::vector<float>> first_outputs;
  {
    const PjrtClient client = value_of(plugin_.create_client());
    CompileCache cache(directory_);
    const PjrtExecutable executable = value_of(cache.get_or_compile(client, kDenseLayer, kModel));
    EXPECT_EQ(compilations(), before + 1);
    EXPECT_EQ(counts_of(cache), (Counts{.hits = 0, .misses = 1}));
    EXPECT_GT(cache.compile_seconds(), 0.0);
    first_outputs = run_dense_layer(client, executable, 0);
  }
  const std::vector<std::string> files = stored();
  ASSERT_EQ(files.size(), 1u);  // no temporary file left beside it
  EXPECT_THAT(files[0], ::testing::MatchesRegex("[0-9a-f]{64}\\.pjrt"));

  const PjrtClient client = value_of(plugin_.create_client());
  CompileCache cache(directory_);
  const PjrtExecutable executable = value_of(cache.get_or_compile(client, kDenseLayer, kModel));
  EXPECT_EQ(compilations(), before + 1);
  EXPECT_EQ(counts_of(cache), (Counts{.hits = 1, .misses = 0}));
  EXPECT_EQ(cache.compile_seconds(), 0.0);
  EXPECT_EQ(run_dense_layer(client, executable, 1), first_outputs);
  EXPECT_THAT(logged(), IsEmpty());
  EXPECT_EQ(fake_counter("FakePjrt_LiveSerializedExecutables"), 0);
}

TEST_F(CompileCacheTest, AnotherProgramModelOrPluginBuildIsCompiledAndStoredBeside) {
  const PjrtClient client = value_of(plugin_.create_client());
  CompileCache cache(directory_);
  const int before = compilations();
  value_of(cache.get_or_compile(client, kDenseLayer, kModel));
  value_of(cache.get_or_compile(client, kDenseLayer, "sha256:7e21"));
  value_of(cache.get_or_compile(client, kSum, kModel));
  setenv("FAKE_PJRT_PLATFORM_VERSION", "fake 2", 1);
  value_of(cache.get_or_compile(value_of(plugin_.create_client()), kDenseLayer, kModel));
  EXPECT_EQ(compilations(), before + 4);
  EXPECT_EQ(stored().size(), 4u);

  value_of(cache.get_or_compile(client, kSum, kModel));
  EXPECT_EQ(compilations(), before + 4);
  EXPECT_EQ(counts_of(cache), (Counts{.hits = 1, .misses = 4}));
}

TEST_F(CompileCacheTest, ADamagedFileIsLoggedCompiledAgainAndReplaced) {
  const PjrtClient client = value_of(plugin_.create_client());
  CompileCache cache(directory_);
  value_of(cache.get_or_compile(client, kDenseLayer, kModel));
  const fs::path file = directory_ / stored().at(0);
  const std::string whole = value_of(files::read_file_text(file));

  for (const std::string& damaged : {whole.substr(0, whole.size() / 2), whole.substr(0, 40), std::string()}) {
    SCOPED_TRACE("a file of " + std::to_string(damaged.size()) + " bytes");
    std::ofstream(file, std::ios::binary | std::ios::trunc) << damaged;
    log_.str("");
    const int before = compilations();
    const PjrtExecutable executable = value_of(cache.get_or_compile(client, kDenseLayer, kModel));
    EXPECT_EQ(compilations(), before + 1);
    EXPECT_EQ(run_dense_layer(client, executable, 0).size(), 2u);
    EXPECT_THAT(logged(), ElementsAre(AllOf(HasSubstr("compile cache: " + file.string() + " is damaged"),
                                            HasSubstr("compiling the program again"))));
    EXPECT_EQ(value_of(files::read_file_text(file)), whole);
  }
  const int before = compilations();
  value_of(cache.get_or_compile(client, kDenseLayer, kModel));
  EXPECT_EQ(compilations(), before);
}

TEST_F(CompileCacheTest, AFileThePluginDoesNotLoadIsCompiledAgain) {
  const PjrtClient client = value_of(plugin_.create_client());
  CompileCache cache(directory_);
  value_of(cache.get_or_compile(client, kDenseLayer, kModel));

  setenv("FAKE_PJRT_FAIL_DESERIALIZE", "executable was built by another libtpu", 1);
  const int before = compilations();
  const PjrtExecutable executable = value_of(cache.get_or_compile(client, kDenseLayer, kModel));
  EXPECT_EQ(compilations(), before + 1);
  EXPECT_EQ(run_dense_layer(client, executable, 1).size(), 2u);
  EXPECT_THAT(logged(), ElementsAre(AllOf(HasSubstr("does not load (PJRT_Executable_DeserializeAndLoad failed: "
                                                    "executable was built by another libtpu (code 13 INTERNAL))"),
                                          HasSubstr("compiling the program again"))));

  unsetenv("FAKE_PJRT_FAIL_DESERIALIZE");
  value_of(cache.get_or_compile(client, kDenseLayer, kModel));
  EXPECT_EQ(compilations(), before + 1);
  EXPECT_EQ(counts_of(cache), (Counts{.hits = 1, .misses = 2}));
}

TEST_F(CompileCacheTest, ADirectoryThatCannotBeWrittenStillServesAndSaysSoOnce) {
  std::ofstream(directory_ / "file") << "a file, where the cache directory would be made";
  const fs::path unwritable = directory_ / "file" / "cache";
  const PjrtClient client = value_of(plugin_.create_client());
  CompileCache cache(unwritable);
  const int before = compilations();
  for (int call = 0; call < 2; ++call) {
    const PjrtExecutable executable = value_of(cache.get_or_compile(client, kDenseLayer, kModel));
    EXPECT_EQ(run_dense_layer(client, executable, 0).size(), 2u);
  }
  EXPECT_EQ(compilations(), before + 2);
  EXPECT_EQ(counts_of(cache), (Counts{.hits = 0, .misses = 2}));
  EXPECT_THAT(logged(), ElementsAre(HasSubstr("compile cache: cannot store compiled executables in " +
                                              unwritable.string() + " (cannot create " + unwritable.string())));
}

TEST_F(CompileCacheTest, WithoutADirectoryEveryCallCompiles) {
  const PjrtClient client = value_of(plugin_.create_client());
  CompileCache cache(std::nullopt);
  const int before = compilations();
  value_of(cache.get_or_compile(client, kDenseLayer, kModel));
  value_of(cache.get_or_compile(client, kDenseLayer, kModel));
  EXPECT_EQ(compilations(), before + 2);
  EXPECT_EQ(counts_of(cache), (Counts{.hits = 0, .misses = 2}));
  EXPECT_THAT(stored(), IsEmpty());
}

TEST_F(CompileCacheTest, AFailedCompileFailsTheCallAndStoresNothing) {
  const PjrtClient client = value_of(plugin_.create_client());
  CompileCache cache(directory_);
  setenv("FAKE_PJRT_FAIL_COMPILE", "out of VMEM", 1);
  EXPECT_THAT(cache.get_or_compile(client, kDenseLayer, kModel),
              FailsWith("PJRT_Client_Compile failed: out of VMEM (code 13 INTERNAL)"));
  EXPECT_THAT(stored(), IsEmpty());
  EXPECT_EQ(counts_of(cache), (Counts{.hits = 0, .misses = 1}));
}

}  // namespace
}  // namespace tpustack::inferd::engine::pjrt
