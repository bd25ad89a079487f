// Device specs and CPU partitioning.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "onnxpool/error.hpp"
#include "onnxpool/runtime/cpu.hpp"
#include "onnxpool/runtime/device.hpp"

namespace onnxpool {
namespace {

using ::testing::HasSubstr;

TEST(ParseDevices, TheGrammar) {
  const auto specs = parse_devices("cpu,cpu:4,cuda:1,cuda:0*2,cpu:2*3");
  ASSERT_EQ(specs.size(), 5U);
  EXPECT_EQ(specs[0], (DeviceSpec{DeviceKind::Cpu, 0, 0, 1}));
  EXPECT_EQ(specs[1], (DeviceSpec{DeviceKind::Cpu, 0, 4, 1}));
  EXPECT_EQ(specs[2], (DeviceSpec{DeviceKind::Cuda, 1, 0, 1}));
  EXPECT_EQ(specs[3], (DeviceSpec{DeviceKind::Cuda, 0, 0, 2}));
  EXPECT_EQ(specs[4], (DeviceSpec{DeviceKind::Cpu, 0, 2, 3}));
  for (const auto& spec : specs) EXPECT_EQ(parse_devices(spec.to_string()).at(0), spec);
}

TEST(ParseDevices, PerDeviceBatch) {
  const auto specs = parse_devices("cuda:0*2@32,cpu@1,cpu:2@4");
  ASSERT_EQ(specs.size(), 3U);
  EXPECT_EQ(specs[0], (DeviceSpec{DeviceKind::Cuda, 0, 0, 2, 32}));
  EXPECT_EQ(specs[1], (DeviceSpec{DeviceKind::Cpu, 0, 0, 1, 1}));
  EXPECT_EQ(specs[2], (DeviceSpec{DeviceKind::Cpu, 0, 2, 1, 4}));
  EXPECT_EQ(specs[0].to_string(), "cuda:0*2@32");
  for (const auto& spec : specs) EXPECT_EQ(parse_devices(spec.to_string()).at(0), spec);
}

TEST(ParseDevices, BadEntriesAreNamed) {
  for (const char* bad : {"tpu:0", "cpu:0", "cpu:x", "cuda:-1", "cuda:0*0", "cpu*", "cpu,,cuda:0", "", "cuda:1x",
                          "cpu@0", "cpu@", "cuda:0@x", "cuda:0@2*2"}) {
    try {
      parse_devices(bad);
      ADD_FAILURE() << "no error for '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr("expected cpu")) << bad;
    }
  }
}

TEST(ParseDevices, TheErrorIsOneLineWhateverTheText) {
  // Found by tests/fuzz/grammars_fuzz.cpp (corpus/grammars/regress-device-newline): the text was quoted
  // as it was, newline and all.
  for (const char* bad : {",\n", "cpu\r\n", "tpu\n:0"}) {
    try {
      parse_devices(bad);
      ADD_FAILURE() << "no error for '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).find_first_of("\r\n"), std::string::npos) << e.what();
    }
  }
}

TEST(Cpu, DetectSeesThisProcess) {
  const auto cpu = CpuTopology::detect();
  EXPECT_GE(cpu.logical_count(), 1);
  EXPECT_GE(cpu.physical_cores, 1);
  EXPECT_LE(cpu.physical_cores, cpu.logical_count());
}

TEST(Cpu, PartitionIsDisjointUntilTheCoresRunOut) {
  const std::vector<int> cores{0, 1, 2, 3};
  EXPECT_EQ(partition_cores(cores, 2, 2), (std::vector<std::vector<int>>{{0, 1}, {2, 3}}));
  EXPECT_EQ(partition_cores(cores, 4, 1), (std::vector<std::vector<int>>{{0}, {1}, {2}, {3}}));
  EXPECT_EQ(partition_cores(cores, 3, 2), (std::vector<std::vector<int>>{{0, 1}, {2, 3}, {0, 1}}));
  EXPECT_THROW(partition_cores(cores, 0, 1), Error);
}

TEST(Cpu, OrtAffinitiesAreOneBasedAndSkipTheCaller) {
  EXPECT_EQ(ort_thread_affinities({4, 5, 6}, 3), "6;7");
  EXPECT_EQ(ort_thread_affinities({0}, 1), "");
  EXPECT_EQ(ort_thread_affinities({0, 1}, 4), "2;1;2");
}

// ONNX Runtime's default order: each physical core once (its first logical CPU) before any sibling.
TEST(Cpu, SpreadTakesEveryCoreOnceBeforeAnySibling) {
  // Linux's usual numbering: cpu0-1 on cores 0-1, cpu2-3 their hyperthreads.
  EXPECT_EQ(spread_over_cores({0, 1, 2, 3}, {{0, 0}, {0, 1}, {0, 0}, {0, 1}}), (std::vector<int>{0, 1, 2, 3}));
  // Siblings numbered next to each other: every other CPU first.
  EXPECT_EQ(spread_over_cores({0, 1, 2, 3}, {{0, 0}, {0, 0}, {0, 1}, {0, 1}}), (std::vector<int>{0, 2, 1, 3}));
  // Two packages with the same core ids are different cores; an affinity mask with gaps keeps its CPUs.
  EXPECT_EQ(spread_over_cores({2, 5, 7}, {{0, 3}, {1, 3}, {0, 3}}), (std::vector<int>{2, 5, 7}));
  EXPECT_EQ(spread_over_cores({}, {}), (std::vector<int>{}));
  EXPECT_THROW(static_cast<void>(spread_over_cores({0, 1}, {{0, 0}})), Error);
  const auto cpu = CpuTopology::detect();
  auto sorted = cpu.spread;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, cpu.logical) << "detect()'s spread is its logical CPUs reordered";
}

TEST(Cpu, PinningTheCurrentThread) {
  const auto cpu = CpuTopology::detect();
  EXPECT_NO_THROW(pin_current_thread(cpu.logical));  // back to all: harmless
  EXPECT_THROW(pin_current_thread({100000}), Error);
}

}  // namespace
}  // namespace onnxpool
