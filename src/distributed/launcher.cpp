#include "onnxpool/distributed/launcher.hpp"

#include <charconv>
#include <cstdlib>
#include <string_view>

namespace onnxpool {
namespace {

std::optional<std::size_t> number_from(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr) return std::nullopt;
  const std::string_view view(text);
  std::size_t value = 0;
  const auto [end, error] = std::from_chars(view.data(), view.data() + view.size(), value);
  if (error != std::errc() || end != view.data() + view.size()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<Launch> detect_launch() {
  struct Variables {
    const char* size;
    const char* rank;
    const char* launcher;
  };
  // Open MPI first: under srun an Open MPI job has both, and the same numbers.
  constexpr Variables kKnown[] = {{"OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "mpirun (Open MPI)"},
                                  {"PMI_SIZE", "PMI_RANK", "mpiexec (PMI)"},
                                  {"SLURM_STEP_NUM_TASKS", "SLURM_PROCID", "srun (Slurm)"}};
  for (const auto& known : kKnown) {
    const auto size = number_from(known.size);
    if (!size) continue;
    if (*size <= 1) return std::nullopt;
    return Launch{.rank = number_from(known.rank).value_or(0), .size = *size, .launcher = known.launcher};
  }
  return std::nullopt;
}

bool built_with_mpi() {
#ifdef ONNXPOOL_WITH_MPI
  return true;
#else
  return false;
#endif
}

}  // namespace onnxpool
