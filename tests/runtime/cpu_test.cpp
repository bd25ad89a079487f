#include "onnxpool/runtime/cpu.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "onnxpool/pool/pool.hpp"
#include "support/temp_dir.hpp"

namespace onnxpool {
namespace {

void write(const std::filesystem::path& file, const std::string& text) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

// A container or an executor given some CPUs of a big node: the tightest cpu.max of the process's
// cgroup and its ancestors, rounded up to whole CPUs; none set, cgroup v1 or garbage: no quota.
TEST(CgroupCpuQuota, TheTightestQuotaOfTheCgroupAndItsAncestors) {
  test::TempDir root;
  write(root / "cpu.max", "max 100000\n");
  write(root / "a" / "cpu.max", "800000 100000\n");
  write(root / "a" / "b" / "cpu.max", "150000 100000\n");
  write(root / "a" / "c" / "cpu.max", "max 100000\n");
  write(root / "bad" / "cpu.max", "lots 100000\n");
  EXPECT_EQ(cgroup_cpu_quota(root.path(), "0::/a/b\n"), 2) << "1.5 CPUs: 2";
  EXPECT_EQ(cgroup_cpu_quota(root.path(), "0::/a\n"), 8);
  EXPECT_EQ(cgroup_cpu_quota(root.path(), "0::/a/c\n"), 8) << "its own is unlimited, its parent's is not";
  EXPECT_EQ(cgroup_cpu_quota(root.path(), "0::/\n"), 0);
  EXPECT_EQ(cgroup_cpu_quota(root.path(), "0::/bad\n"), 0);
  EXPECT_EQ(cgroup_cpu_quota(root.path(), "0::/not/there\n"), 0);
  EXPECT_EQ(cgroup_cpu_quota(root.path(), "4:memory:/x\n1:cpu:/\n"), 0) << "cgroup v1 only";
  EXPECT_EQ(cgroup_cpu_quota(root.path(), "4:memory:/x\n0::/a/b"), 2) << "hybrid: the unified line";
  EXPECT_EQ(cgroup_cpu_quota(root.path(), ""), 0);
}

TEST(CgroupCpuQuota, APoolSizesItselfToTheQuota) {
  CpuTopology cpu;
  cpu.logical = {0, 1, 2, 3, 4, 5, 6, 7};
  cpu.quota_cpus = 2;
  EXPECT_EQ(cpu.usable_count(), 2);
  const auto plans = plan_workers(PoolConfig{}, cpu);
  ASSERT_EQ(plans.size(), 3U) << "one single-thread worker per usable CPU, and one as wide as them";
  EXPECT_EQ(plans[0].threads, 1);
  EXPECT_EQ(plans[1].threads, 1);
  EXPECT_EQ(plans[2].threads, 2);
  cpu.quota_cpus = 64;
  EXPECT_EQ(cpu.usable_count(), 8) << "a quota above the affinity mask changes nothing";
}

}  // namespace
}  // namespace onnxpool
