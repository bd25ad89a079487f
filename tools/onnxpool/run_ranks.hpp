#pragma once
// `mpirun -np R onnxpool run ...` (or srun): the R processes share one run. Every rank makes its own
// pool on its share of its node's cores, takes chunks of items from rank 0 (dynamically: a faster rank
// takes more), reads them from the shared source itself, and writes their rows into the same stacked
// files at their offsets; rank 0 keeps the journal and the failure log, makes the files final, and
// prints one summary with each rank's rate. The outputs are byte-identical to a single process's run
// of the same command, and --resume continues with any number of ranks (or one process).
#include <CLI/CLI.hpp>

#include "onnxpool/distributed/launcher.hpp"
#include "run_args.hpp"
#include "signal_stop.hpp"

namespace onnxpool::cli {

// Returns the exit status (the same on every rank). Without MPI in this build: Error (one line).
int run_across_ranks(const RunArgs& args, const CLI::App& cmd, const Launch& launch, const SignalStop& signals);

}  // namespace onnxpool::cli
