// The leader's prober over a slice (inferd/slice/slice_workers.h): followers come back through Health probes, and
// followers that stall (a stopped process: its connection open, nothing answered) hold back nobody else's return.
#include "inferd/slice/slice_workers.h"

#include <gtest/gtest.h>

#include <thread>

namespace tpustack::inferd::slice {
namespace {

using namespace std::chrono_literals;

// A follower's Health: answers ready, or never answers (a stopped process whose connection stays open: the call
// waits until the caller gives up).
class FollowerHealth final : public ::inferd::v1::Inferd::Service {
 public:
  explicit FollowerHealth(bool stalls) : stalls_(stalls) {}

  grpc::Status Health(grpc::ServerContext* context, const ::inferd::v1::HealthRequest*,
                      ::inferd::v1::HealthResponse* response) override {
    while (stalls_ && !context->IsCancelled()) std::this_thread::sleep_for(5ms);
    response->set_ready(true);
    return grpc::Status::OK;
  }

 private:
  bool stalls_;
};

// A follower's gRPC server on a port of its own.
class Follower {
 public:
  explicit Follower(bool stalls) : service_(stalls) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
  }
  ~Follower() { server_->Shutdown(std::chrono::system_clock::now()); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  FollowerHealth service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

TEST(SliceWorkers, FollowersThatStallDoNotHoldBackAnotherOnesReturn) {
  Follower first(/*stalls=*/true), second(/*stalls=*/true), serving(/*stalls=*/false);
  metrics::MetricsRegistry registry;

  // Every follower starts out and is probed at once; each probe of a stalled one lasts its 2 s deadline, so probes
  // one after another would find the serving follower (listed last) after 4 s.
  const auto start = Clock::now();
  SliceWorkers workers({"self", first.address(), second.address(), serving.address()}, 0, registry, 10s,
                       {50ms, 50ms, 2.0, 0.0});
  while (!workers.workers()[3].serving && Clock::now() - start < 10s) std::this_thread::sleep_for(10ms);
  const auto back_after = Clock::now() - start;
  EXPECT_TRUE(workers.workers()[3].serving);
  EXPECT_LT(back_after, 1500ms) << std::chrono::duration_cast<std::chrono::milliseconds>(back_after).count() << " ms";
  EXPECT_FALSE(workers.workers()[1].serving);
  EXPECT_FALSE(workers.workers()[2].serving);
  // A stalled follower's probe ends at its deadline and keeps it out.
  while (workers.workers()[1].last_error == "not reached yet" && Clock::now() - start < 10s) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(workers.workers()[1].last_error, "Health: gRPC 4: Deadline Exceeded");
  EXPECT_FALSE(workers.workers()[1].serving);
  // Work goes to the serving follower or the leader, never to the stalled ones.
  for (int i = 0; i < 8; ++i) {
    const size_t chosen = workers.choose(1, {}, false);
    EXPECT_TRUE(chosen == 0 || chosen == 3) << chosen;
    workers.finished(chosen, 1);
  }
}

}  // namespace
}  // namespace tpustack::inferd::slice
