// tpustack-demo: README command (a)'s story, told one line per step. The real tpu-extender,
// tpu-device-plugin and inferd run together on this machine; only the API server and the kubelets are
// faked, and the node pool comes from the extender's simulated provider.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/cli/command_line.h"
#include "tests/e2e/http_call.h"
#include "tests/e2e/jobset_group.h"
#include "tests/e2e/local_cluster.h"

namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using namespace tpustack::e2e;

const auto kStart = std::chrono::steady_clock::now();

void say(const std::string& line) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - kStart).count();
  std::printf("[%5.1fs] %s\n", seconds, line.c_str());
  std::fflush(stdout);
}

std::string shorten(const std::string& text, size_t limit) {
  return text.size() <= limit ? text : text.substr(0, limit) + "...";
}

int run(const std::string& binary_dir, const std::string& embedder, const std::string& reranker,
        const std::string& work_dir) {
  ClusterOptions options;
  options.binary_dir = binary_dir;
  options.work_dir = work_dir;
  options.models = {"demo-embedder=" + embedder, "demo-reranker=" + reranker};
  options.narrate = say;
  LocalCluster cluster(options);
  say("fake API server up; the secondary scheduler (tpu-scheduler) is played by this program");
  cluster.start_extender();

  const std::vector<std::string> pods = group_pod_names("demo", 4);
  say("submitting JobSet default/demo: 4 pods, each google.com/tpu: 4 on tpu-v6e-slice 4x4; no such slice exists");
  create_jobset_group(cluster.store(), "default", "demo", "4x4", 4, 4);
  const bool running = cluster.run_until(
      [&] {
        for (const std::string& pod : pods) {
          if (!cluster.workers().contains(pod) || cluster.workers()[pod].embed_dimensions == 0) return false;
        }
        return true;
      },
      180s);
  if (!running) {
    say("the group did not start; tpu-extender said:\n" + cluster.extender_output());
    return 1;
  }

  const RunningWorker& leader = cluster.workers().at(pods[0]);
  say("asking the leader's inferd (" + leader.url + ") for embeddings and a reranking");
  const HttpReply embed =
      http_call("POST", leader.url, "/embed",
                json{{"model", "demo-embedder"}, {"inputs", {"What is a TPU?", "Bananas are yellow."}}}.dump());
  if (embed.status != 200) {
    say("/embed failed: " + embed.body);
    return 1;
  }
  for (const json& vector : json::parse(embed.body)) {
    say("  /embed -> " + std::to_string(vector.size()) + " numbers, starting " +
        shorten(json(std::vector<float>(vector.begin(), vector.begin() + 3)).dump(), 60));
  }
  const HttpReply rerank = http_call(
      "POST", leader.url, "/rerank",
      json{{"model", "demo-reranker"},
           {"query", "What is a TPU?"},
           {"return_text", true},
           {"texts", {"A TPU is an accelerator for neural networks.", "Bananas are yellow.", "TPUs come in slices."}}}
          .dump());
  if (rerank.status != 200) {
    say("/rerank failed: " + rerank.body);
    return 1;
  }
  for (const json& hit : json::parse(rerank.body)) {
    say("  /rerank -> score " + std::to_string(hit.value("score", 0.0)) + "  " + hit.value("text", ""));
  }
  say("(the demo models have RANDOM weights: the numbers are real computation, the scores mean nothing)");

  cluster.finish_group("default", "demo", 4);
  say("waiting for the pool to be deleted after its grace period");
  if (!cluster.run_until([&] { return cluster.nodes().empty(); }, 120s)) {
    say("the pool was not deleted; tpu-extender said:\n" + cluster.extender_output());
    return 1;
  }
  say("all simulated nodes are gone; every process this demo started is stopping");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tpustack-demo: the tpustack story on one machine with the real programs", "tpustack-demo"};
  std::string binary_dir;
  std::string embedder;
  std::string reranker;
  std::string work_dir = (std::filesystem::temp_directory_path() / "tpustack-demo").string();
  app.add_option("--binary-dir", binary_dir, "the build tree holding deviceplugin/, extender/, inferd/")->required();
  app.add_option("--embedder", embedder, "an embedding model directory (Hugging Face layout)")->required();
  app.add_option("--reranker", reranker, "a cross-encoder model directory")->required();
  app.add_option("--work-dir", work_dir, "logs of every program, plugin sockets, the kubeconfig");
  if (auto code = tpustack::cli::parse_command_line(app, argc, argv)) return *code;
  std::filesystem::remove_all(work_dir);
  try {
    const int status = run(binary_dir, embedder, reranker, work_dir);
    std::printf("logs of every program: %s\n", work_dir.c_str());
    return status;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tpustack-demo: %s (logs in %s)\n", e.what(), work_dir.c_str());
    return 1;
  }
}
