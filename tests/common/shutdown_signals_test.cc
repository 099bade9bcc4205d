#include "common/lifecycle/shutdown_signals.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace tpustack::lifecycle {
namespace {

using namespace std::chrono_literals;

// Signals go to this thread, which blocks them while a ShutdownSignals exists, so they wait for sigtimedwait.
void send(int signal) { pthread_kill(pthread_self(), signal); }

TEST(ShutdownSignals, TermAndIntStopSighupDoesNot) {
  const ShutdownSignals signals;
  EXPECT_EQ(signals.wait_for(10ms), std::nullopt);
  send(SIGHUP);  // the default action would end the process
  EXPECT_EQ(signals.wait_for(50ms), std::nullopt);
  send(SIGTERM);
  EXPECT_EQ(signals.wait_for(1s), "SIGTERM");
  send(SIGINT);
  EXPECT_EQ(signals.wait(), "SIGINT");
}

TEST(ShutdownSignals, TheMaskIsInheritedAndRestored) {
  {
    const ShutdownSignals signals;
    std::atomic<bool> blocked{false};
    std::thread([&] {
      sigset_t mask;
      pthread_sigmask(SIG_BLOCK, nullptr, &mask);
      blocked = sigismember(&mask, SIGTERM) == 1 && sigismember(&mask, SIGHUP) == 1;
    }).join();
    EXPECT_TRUE(blocked);
  }
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  EXPECT_EQ(sigismember(&mask, SIGTERM), 0);
}

TEST(ShutdownWatch, CallsBackOnceOnItsOwnThread) {
  const ShutdownSignals signals;
  std::atomic<int> calls{0};
  std::string seen;
  {
    const ShutdownWatch watch(signals, [&](const std::string& signal) {
      seen = signal;
      ++calls;
    });
    ::kill(::getpid(), SIGTERM);  // to the process: only the watch's sigtimedwait takes it
    for (int i = 0; i < 200 && calls == 0; ++i) std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen, "SIGTERM");
}

}  // namespace
}  // namespace tpustack::lifecycle
