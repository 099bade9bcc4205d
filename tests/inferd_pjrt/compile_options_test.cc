#include "inferd/engine/pjrt/compile_options.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/inferd_pjrt/compile_options_reader.h"

namespace tpustack::inferd::engine::pjrt {
namespace {

using tpustack::stablehlo_reference::read_compile_options;

TEST(PjrtCompileOptions, AreTheProtocolBufferBytesProtobufWouldWrite) {
  // protoc --decode_raw: 3 { 1: 18446744073709551615  4: 1  5: 1 }  4: 1
  const std::string expected("\x1a\x0f\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x20\x01\x28\x01\x20\x01", 19);
  EXPECT_EQ(single_device_compile_options(), expected);
}

TEST(PjrtCompileOptions, AskForOneReplicaOnePartitionNoDeviceAndAPortableExecutable) {
  const auto options = read_compile_options(single_device_compile_options());
  ASSERT_TRUE(options.has_value());
  EXPECT_EQ(options->device_ordinal, -1);
  EXPECT_EQ(options->num_replicas, 1);
  EXPECT_EQ(options->num_partitions, 1);
  EXPECT_TRUE(options->compile_portable_executable);
}

TEST(PjrtCompileOptions, TheFakeSkipsFieldsItDoesNotReadAndRefusesBytesThatAreNotWireFormat) {
  // argument_layouts (1) as an empty message, profile_version (5) = 7, then executable_build_options.
  const std::string with_others = std::string("\x0a\x00\x28\x07", 4) + single_device_compile_options();
  const auto options = read_compile_options(with_others);
  ASSERT_TRUE(options.has_value());
  EXPECT_EQ(options->num_replicas, 1);
  EXPECT_FALSE(read_compile_options(std::string("\x1a\x0f\x08", 3)).has_value());
  EXPECT_FALSE(read_compile_options(std::string("\x0f", 1)).has_value());
}

}  // namespace
}  // namespace tpustack::inferd::engine::pjrt
