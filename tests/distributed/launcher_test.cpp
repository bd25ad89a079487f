// Whether this process is one of several a parallel launcher started, from the environment alone: what
// lets a build without MPI refuse to run the whole job once per process.
#include "onnxpool/distributed/launcher.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <tuple>
#include <vector>

namespace onnxpool {
namespace {

// Sets variables for one test and restores what was there.
class Environment {
 public:
  Environment() {
    for (const char* name : kNames) {
      const char* value = std::getenv(name);
      saved_.emplace_back(name, value == nullptr ? std::string() : std::string(value), value != nullptr);
      ::unsetenv(name);
    }
  }
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;
  ~Environment() {
    for (const auto& [name, value, was_set] : saved_) {
      if (was_set) {
        ::setenv(name.c_str(), value.c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }
  static void set(const char* name, const char* value) { ::setenv(name, value, 1); }

 private:
  static constexpr const char* kNames[] = {"OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "PMI_SIZE", "PMI_RANK",
                                           "SLURM_STEP_NUM_TASKS", "SLURM_PROCID"};
  std::vector<std::tuple<std::string, std::string, bool>> saved_;
};

TEST(DetectLaunch, NamesTheLauncherRankAndSize) {
  const Environment env;
  EXPECT_FALSE(detect_launch()) << "started alone";
  Environment::set("OMPI_COMM_WORLD_SIZE", "3");
  Environment::set("OMPI_COMM_WORLD_RANK", "2");
  auto launch = detect_launch();
  ASSERT_TRUE(launch);
  EXPECT_EQ(launch->rank, 2U);
  EXPECT_EQ(launch->size, 3U);
  EXPECT_EQ(launch->launcher, "mpirun (Open MPI)");
}

TEST(DetectLaunch, SrunAndPmiAreRecognisedAndOneProcessIsNoLaunch) {
  const Environment env;
  Environment::set("SLURM_STEP_NUM_TASKS", "8");
  Environment::set("SLURM_PROCID", "5");
  auto launch = detect_launch();
  ASSERT_TRUE(launch);
  EXPECT_EQ(launch->rank, 5U);
  EXPECT_EQ(launch->launcher, "srun (Slurm)");
  // Open MPI's own numbers win under srun (both are set, alike).
  Environment::set("OMPI_COMM_WORLD_SIZE", "8");
  Environment::set("OMPI_COMM_WORLD_RANK", "5");
  EXPECT_EQ(detect_launch()->launcher, "mpirun (Open MPI)");
  // A launch of one process is a plain run; a size that is not a number is no launch.
  Environment::set("OMPI_COMM_WORLD_SIZE", "1");
  EXPECT_FALSE(detect_launch());
  Environment::set("OMPI_COMM_WORLD_SIZE", "many");
  Environment::set("PMI_SIZE", "4");
  Environment::set("PMI_RANK", "0");
  launch = detect_launch();
  ASSERT_TRUE(launch);
  EXPECT_EQ(launch->launcher, "mpiexec (PMI)");
  EXPECT_EQ(launch->size, 4U);
}

TEST(DetectLaunch, BuiltWithMpiMatchesTheBuild) {
  EXPECT_EQ(built_with_mpi(), ONNXPOOL_TEST_MPI != 0);
}

}  // namespace
}  // namespace onnxpool
