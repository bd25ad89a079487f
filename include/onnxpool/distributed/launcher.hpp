#pragma once
// Whether this process is one of several started together by a parallel launcher (mpirun, mpiexec,
// srun), read from the environment those launchers set: no MPI is needed to notice it, so that a build
// without MPI can say in one line why it cannot join the others instead of running the whole job once
// per process.
#include <cstddef>
#include <optional>
#include <string>

namespace onnxpool {

struct Launch {
  std::size_t rank = 0;  // this process's
  std::size_t size = 1;  // processes started together
  std::string launcher;  // "mpirun (Open MPI)", "srun (Slurm)", "mpiexec (PMI)"
};

// The launch this process is part of, when it has more than one process; nullopt otherwise (started
// alone, or as the only process of its launch). Reads OMPI_COMM_WORLD_{SIZE,RANK} (Open MPI),
// PMI_{SIZE,RANK} (MPICH, Intel MPI) and SLURM_STEP_NUM_TASKS/SLURM_PROCID (a task of srun).
std::optional<Launch> detect_launch();

// Whether this build has the MPI layer (Open MPI found at build time).
bool built_with_mpi();

}  // namespace onnxpool
