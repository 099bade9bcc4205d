#include "common/http/stream_channel.h"

#include <future>
#include <string>

#include <gtest/gtest.h>

namespace tpustack::http::detail {
namespace {

TEST(StreamChannelTest, TheWriterTakesTheHeadThenEachWriteAsItComesThenTheEnd) {
  int wakes = 0;
  StreamChannel channel("HEAD", 1 << 10, [&] { ++wakes; });
  EXPECT_EQ(channel.take().bytes, "HEAD");
  const auto idle = channel.take();
  EXPECT_EQ(idle.bytes, "");
  EXPECT_FALSE(idle.end) << "the writer waits to be woken";
  ASSERT_TRUE(channel.put("one"));
  ASSERT_TRUE(channel.put("two"));
  EXPECT_EQ(wakes, 1) << "a busy writer takes again without being woken";
  EXPECT_EQ(channel.take().bytes, "onetwo");
  channel.take();  // idle again
  channel.finish("LAST", true);
  EXPECT_EQ(wakes, 2);
  const auto last = channel.take();
  EXPECT_EQ(last.bytes, "LAST");
  EXPECT_TRUE(last.end);
  EXPECT_TRUE(last.keep_alive);
}

// The producer of a stream to a slow client holds at most the limit (or one write larger than it) in memory.
TEST(StreamChannelTest, AWritePastTheLimitWaitsUntilTheWriterHasSentEnough) {
  StreamChannel channel("", 4, [] {});
  ASSERT_TRUE(channel.put("abc"));
  auto second = std::async(std::launch::async, [&] { return channel.put("def"); });
  EXPECT_EQ(channel.take().bytes, "abc") << "taken is not yet sent: no room";
  channel.sent(3);
  EXPECT_TRUE(second.get());
  EXPECT_EQ(channel.take().bytes, "def");
  channel.sent(3);
  EXPECT_TRUE(channel.put(std::string(10, 'x'))) << "a write larger than the limit goes when nothing waits";
}

TEST(StreamChannelTest, FailingReleasesAWaitingProducerAndRefusesMore) {
  int wakes = 0;
  StreamChannel channel("", 4, [&] { ++wakes; });
  ASSERT_TRUE(channel.put("abcd"));
  auto waiting = std::async(std::launch::async, [&] { return channel.put("e"); });
  channel.fail();
  EXPECT_FALSE(waiting.get());
  EXPECT_FALSE(channel.put("f"));
  EXPECT_TRUE(channel.failed());
  EXPECT_EQ(wakes, 0) << "the writer was busy: it sees the failure when it takes again";
}

}  // namespace
}  // namespace tpustack::http::detail
