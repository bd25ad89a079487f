// onnxpool_mpi_feed_bench: what one chunk costs in the hand-out of a run across MPI ranks (issue 12),
// transport included. Rank 0 serves a RunHandOut from its service thread, as `mpirun onnxpool run`
// does; every other rank asks for chunks of one item and reports them done, with no work between, as
// fast as it can. Prints the grants per second rank 0 served and the round trip one rank saw per chunk
// (a request and its grant, then the completion): the wall-time overhead per chunk of a real run.
//
//   mpirun -np 2 build/bin/onnxpool_mpi_feed_bench [ITEMS]     (bench/mpi/ranks.sh runs it)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "onnxpool/distributed/mpi_ranks.hpp"
#include "onnxpool/pipeline/run_hand_out.hpp"

int main(int argc, char** argv) {
  using Clock = std::chrono::steady_clock;
  const std::size_t items = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20'000;
  onnxpool::MpiRanks ranks;
  std::unique_ptr<onnxpool::RunHandOut> hand_out;
  std::unique_ptr<onnxpool::MpiRanks::Service> service;
  if (ranks.rank() == 0) {
    // Chunks of one item: every item is a request, a grant and a completion.
    hand_out = std::make_unique<onnxpool::RunHandOut>(items, ranks.size(), nullptr, nullptr,
                                                      onnxpool::RunHandOut::Options{.chunk = 1, .max_failures = 0});
    service = ranks.serve(*hand_out);
  }
  static_cast<void>(ranks.all_gather(""));  // everyone ready
  const auto start = Clock::now();
  std::size_t chunks = 0;
  if (ranks.rank() != 0) {
    const auto feed = ranks.remote_feed();
    for (auto chunk = feed->next(); !chunk.empty(); chunk = feed->next()) {
      feed->complete(chunk, {});
      ++chunks;
    }
    feed->finish();
  } else {
    service->join();
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const auto all = ranks.all_gather(std::to_string(chunks) + " " + std::to_string(seconds));
  if (ranks.rank() == 0) {
    std::printf("%zu ranks asking (rank 0 serving), %zu chunks of 1 item in %.3f s: %.0f grants/s\n", ranks.size() - 1,
                items, seconds, static_cast<double>(items) / seconds);
    for (std::size_t r = 1; r < all.size(); ++r) {
      const std::size_t n = std::strtoull(all[r].c_str(), nullptr, 10);
      const double s = std::strtod(all[r].c_str() + all[r].find(' '), nullptr);
      std::printf("  rank %zu: %zu chunks, %.1f us per chunk (request, grant, completion)\n", r, n,
                  n > 0 ? 1e6 * s / static_cast<double>(n) : 0.0);
    }
  }
  return 0;
}
