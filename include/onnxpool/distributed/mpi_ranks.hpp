#pragma once
// The MPI layer of a run shared by several processes (issue 12), thin over the transport-free parts:
// the hand-out (pipeline/run_hand_out.hpp) and the streaming run's feed (pipeline/work_feed.hpp).
// Built only when Open MPI is found (libonnxpool_mpi); this header does not include <mpi.h>.
//
// Waiting: MPI's blocking calls spin a core while they wait, the core a rank's own workers (or another
// rank's, on the same node) need. Every wait here polls a non-blocking request and sleeps between polls
// (1 microsecond, doubling to 1 ms; Linux rounds a short sleep up to its 50 us timer slack). A chunk's
// request, grant and completion take about 0.2 ms on one machine (bench/mpi/ranks.sh), nothing next to
// a chunk of items, and an idle rank 0 service thread costs about 0.1% of a core. (Asking Linux for less
// slack made a lone rank's round trip slower, not faster: 0.9-3 ms, measured and left out.)
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "onnxpool/pipeline/run_hand_out.hpp"
#include "onnxpool/pipeline/work_feed.hpp"

namespace onnxpool {

class MpiRanks {
 public:
  // MPI_Init_thread (MPI_THREAD_MULTIPLE: rank 0 serves the others from a thread of its own), and the
  // node's communicator (MPI_COMM_TYPE_SHARED: the ranks sharing this machine's cores). Throws Error when
  // MPI cannot start or lacks thread support.
  MpiRanks();
  MpiRanks(const MpiRanks&) = delete;
  MpiRanks& operator=(const MpiRanks&) = delete;
  ~MpiRanks();  // MPI_Finalize

  // The MPI library's description (MPI_Get_library_version, callable before MPI starts).
  static std::string library_version();

  [[nodiscard]] std::size_t rank() const;
  [[nodiscard]] std::size_t size() const;
  [[nodiscard]] std::size_t node_rank() const;  // among the ranks on this node
  [[nodiscard]] std::size_t node_size() const;
  [[nodiscard]] const std::string& host() const;

  // Gives this rank its own share of the node's CPUs, so that the ranks of a node do not oversubscribe
  // it: ranks with the same affinity mask (a launcher that did not bind them, or bound them to the same
  // socket) split that mask's CPUs in contiguous parts, in node-rank order; a rank the launcher bound
  // alone keeps its CPUs. More ranks than CPUs share them round-robin. Applies to the calling thread and
  // the threads it starts after (the pool's). Collective over the node. Returns the CPUs taken.
  std::vector<int> split_node_cpus();

  // Every rank's `text`, on every rank, in rank order. Collective.
  std::vector<std::string> all_gather(const std::string& text);

  // Rank 0: answers the other ranks' requests from `hand_out` on a thread of its own, until every one
  // of them has said it is finished (RemoteFeed::finish). join() waits for that. A failure to serve (the
  // journal cannot be written) prints one line and aborts the job: the other ranks would wait forever.
  class Service {
   public:
    virtual ~Service() = default;
    virtual void join() = 0;
  };
  std::unique_ptr<Service> serve(RunHandOut& hand_out);

  // Ranks other than 0: chunks asked of rank 0's service.
  class RemoteFeed : public WorkFeed {
   public:
    // No more calls: rank 0's service stops waiting for this rank.
    virtual void finish() = 0;
  };
  std::unique_ptr<RemoteFeed> remote_feed();

  // Ends every rank of the job with `code` (MPI_Abort): for an error after which the others cannot go
  // on, once its line is printed.
  [[noreturn]] void abort(int code);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace onnxpool
