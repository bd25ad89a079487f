#include "onnxpool/distributed/mpi_ranks.hpp"

#include <mpi.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "onnxpool/error.hpp"

namespace onnxpool {
namespace {

// The service's messages: a rank's request to rank 0 (kTagRequest), rank 0's grant back (kTagGrant).
constexpr int kTagRequest = 7301;
constexpr int kTagGrant = 7302;

void check(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw Error(fmt::format("MPI: {} failed: {}", what, std::string(text, static_cast<std::size_t>(length))));
}

// Sleeps a little longer each time nothing happened (1 us, doubling to 1 ms), so that waiting costs
// neither a core nor, when the answer is quick, much latency.
class Backoff {
 public:
  void reset() { pause_ = std::chrono::microseconds(1); }
  void pause() {
    std::this_thread::sleep_for(pause_);
    pause_ = std::min<std::chrono::microseconds>(pause_ * 2, std::chrono::milliseconds(1));
  }

 private:
  std::chrono::microseconds pause_{1};
};

// Waits for `request` without spinning a core (MPI_Wait would).
void wait_gently(MPI_Request& request, const char* what) {
  Backoff backoff;
  for (;;) {
    int done = 0;
    check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), what);
    if (done != 0) return;
    backoff.pause();
  }
}

void send_text(const std::string& text, int to, int tag, MPI_Comm comm) {
  MPI_Request request = MPI_REQUEST_NULL;
  check(MPI_Isend(text.data(), static_cast<int>(text.size()), MPI_CHAR, to, tag, comm, &request), "send");
  wait_gently(request, "send");
}

// The next message of `tag` from `from` (MPI_ANY_SOURCE: from anyone), its sender in `sender`.
std::string receive_text(int from, int tag, MPI_Comm comm, int* sender) {
  Backoff backoff;
  MPI_Status status{};
  for (;;) {
    int arrived = 0;
    check(MPI_Iprobe(from, tag, comm, &arrived, &status), "probe");
    if (arrived != 0) break;
    backoff.pause();
  }
  int length = 0;
  check(MPI_Get_count(&status, MPI_CHAR, &length), "count");
  std::string text(static_cast<std::size_t>(length), '\0');
  check(MPI_Recv(text.data(), length, MPI_CHAR, status.MPI_SOURCE, tag, comm, MPI_STATUS_IGNORE), "receive");
  if (sender != nullptr) *sender = status.MPI_SOURCE;
  return text;
}

nlohmann::json failure_json(const ItemFailure& f) {
  return {{"index", f.index}, {"name", f.name}, {"worker", f.worker}, {"cause", f.cause}};
}

ItemFailure failure_from(const nlohmann::json& j) {
  return {.index = j.at("index").get<std::size_t>(),
          .name = j.at("name").get<std::string>(),
          .worker = j.at("worker").get<std::string>(),
          .cause = j.at("cause").get<std::string>()};
}

// Every rank's `mine` (of any length), on every rank of `comm`, in rank order: the lengths first, then
// the values. Collective; waits gently.
template <class T>
std::vector<std::vector<T>> gather_all(const std::vector<T>& mine, MPI_Datatype type, MPI_Comm comm) {
  int size = 0;
  MPI_Comm_size(comm, &size);
  const int count = static_cast<int>(mine.size());
  std::vector<int> counts(static_cast<std::size_t>(size));
  MPI_Request request = MPI_REQUEST_NULL;
  check(MPI_Iallgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, comm, &request), "allgather");
  wait_gently(request, "allgather");
  std::vector<int> offsets(counts.size());
  int total = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    offsets[r] = total;
    total += counts[r];
  }
  std::vector<T> all(static_cast<std::size_t>(total));
  check(MPI_Iallgatherv(mine.data(), count, type, all.data(), counts.data(), offsets.data(), type, comm, &request),
        "allgatherv");
  wait_gently(request, "allgatherv");
  std::vector<std::vector<T>> each(counts.size());
  for (std::size_t r = 0; r < counts.size(); ++r) {
    const auto begin = all.begin() + offsets[r];
    each[r].assign(begin, begin + counts[r]);
  }
  return each;
}

std::vector<int> affinity_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) != 0) return {};
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

}  // namespace

struct MpiRanks::State {
  MPI_Comm node = MPI_COMM_NULL;
  int rank = 0;
  int size = 1;
  int node_rank = 0;
  int node_size = 1;
  std::string host;
};

MpiRanks::MpiRanks() : state_(std::make_unique<State>()) {
  int provided = 0;
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided), "MPI_Init_thread");
  if (provided < MPI_THREAD_MULTIPLE) {
    MPI_Finalize();
    throw Error("MPI: this MPI library does not serve several threads (MPI_THREAD_MULTIPLE), which rank 0 needs");
  }
  // Errors come back as codes (turned into Error with their text) instead of ending the job silently.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &state_->rank);
  MPI_Comm_size(MPI_COMM_WORLD, &state_->size);
  check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, state_->rank, MPI_INFO_NULL, &state_->node),
        "MPI_Comm_split_type");
  MPI_Comm_rank(state_->node, &state_->node_rank);
  MPI_Comm_size(state_->node, &state_->node_size);
  char name[MPI_MAX_PROCESSOR_NAME];
  int length = 0;
  MPI_Get_processor_name(name, &length);
  state_->host.assign(name, static_cast<std::size_t>(length));
}

MpiRanks::~MpiRanks() {
  if (state_->node != MPI_COMM_NULL) MPI_Comm_free(&state_->node);
  MPI_Finalize();
}

std::string MpiRanks::library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  if (MPI_Get_library_version(text, &length) != MPI_SUCCESS) return "MPI";
  return {text, static_cast<std::size_t>(length)};
}

std::size_t MpiRanks::rank() const {
  return static_cast<std::size_t>(state_->rank);
}
std::size_t MpiRanks::size() const {
  return static_cast<std::size_t>(state_->size);
}
std::size_t MpiRanks::node_rank() const {
  return static_cast<std::size_t>(state_->node_rank);
}
std::size_t MpiRanks::node_size() const {
  return static_cast<std::size_t>(state_->node_size);
}
const std::string& MpiRanks::host() const {
  return state_->host;
}

std::vector<int> MpiRanks::split_node_cpus() {
  std::vector<int> mine = affinity_cpus();
  // Every node rank's mask, as its CPU list, to find those that share mine.
  const std::vector<std::vector<int>> masks = gather_all(mine, MPI_INT, state_->node);
  std::size_t position = 0;
  std::size_t sharing = 0;
  for (std::size_t r = 0; r < masks.size(); ++r) {
    if (masks[r] != mine) continue;
    if (static_cast<int>(r) < state_->node_rank) ++position;
    ++sharing;
  }
  if (sharing <= 1 || mine.empty()) return mine;
  std::vector<int> part;
  if (sharing > mine.size()) {
    part.push_back(mine[position % mine.size()]);
  } else {
    const std::size_t begin = position * mine.size() / sharing;
    const std::size_t end = (position + 1) * mine.size() / sharing;
    part.assign(mine.begin() + static_cast<std::ptrdiff_t>(begin), mine.begin() + static_cast<std::ptrdiff_t>(end));
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  for (const int cpu : part) CPU_SET(cpu, &set);
  if (::sched_setaffinity(0, sizeof(set), &set) != 0) return mine;
  return part;
}

std::vector<std::string> MpiRanks::all_gather(const std::string& text) {
  const auto all = gather_all(std::vector<char>(text.begin(), text.end()), MPI_CHAR, MPI_COMM_WORLD);
  std::vector<std::string> texts;
  texts.reserve(all.size());
  for (const auto& chars : all) texts.emplace_back(chars.begin(), chars.end());
  return texts;
}

void MpiRanks::abort(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

namespace {

// Requests, one JSON object each: {"next":true}, {"complete":[begin,end],"failures":[...]},
// {"leave":true}, {"finish":true}. Grants: [begin,end] ([0,0]: nothing more for this rank). A few
// per chunk, so their size and parsing cost nothing next to the chunk's items.
class ChunkService final : public MpiRanks::Service {
 public:
  ChunkService(MpiRanks& ranks, RunHandOut& hand_out)
      : ranks_(ranks), hand_out_(hand_out), thread_([this] { serve(); }) {}
  ~ChunkService() override {
    if (thread_.joinable()) thread_.join();
  }
  void join() override {
    if (thread_.joinable()) thread_.join();
  }

 private:
  void serve() {
    std::size_t finished = 0;
    int sender = 0;
    try {
      while (finished + 1 < ranks_.size()) {
        const auto request = nlohmann::json::parse(receive_text(MPI_ANY_SOURCE, kTagRequest, MPI_COMM_WORLD, &sender));
        const auto rank = static_cast<std::size_t>(sender);
        if (request.contains("next")) {
          const Chunk chunk = hand_out_.next(rank);
          send_text(nlohmann::json::array({chunk.begin, chunk.end}).dump(), sender, kTagGrant, MPI_COMM_WORLD);
        } else if (request.contains("complete")) {
          std::vector<ItemFailure> failures;
          for (const auto& f : request.at("failures")) failures.push_back(failure_from(f));
          const auto& range = request.at("complete");
          hand_out_.complete(rank, {range.at(0).get<std::size_t>(), range.at(1).get<std::size_t>()},
                             std::move(failures));
        } else if (request.contains("leave")) {
          hand_out_.leave(rank);
        } else if (request.contains("finish")) {
          ++finished;
        }
      }
    } catch (const std::exception& e) {
      std::fflush(stdout);
      std::fprintf(stderr, "onnxpool: error: rank 0 could not serve rank %d: %s\n", sender, e.what());
      ranks_.abort(1);
    }
  }

  MpiRanks& ranks_;
  RunHandOut& hand_out_;
  std::thread thread_;  // last: starts once the rest exists
};

class MpiFeed final : public MpiRanks::RemoteFeed {
 public:
  Chunk next() override {
    send_text(R"({"next":true})", 0, kTagRequest, MPI_COMM_WORLD);
    const auto grant = nlohmann::json::parse(receive_text(0, kTagGrant, MPI_COMM_WORLD, nullptr));
    return {grant.at(0).get<std::size_t>(), grant.at(1).get<std::size_t>()};
  }
  void complete(const Chunk& chunk, std::vector<ItemFailure> failures) override {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& f : failures) list.push_back(failure_json(f));
    const nlohmann::json message{{"complete", {chunk.begin, chunk.end}}, {"failures", list}};
    send_text(message.dump(), 0, kTagRequest, MPI_COMM_WORLD);
  }
  void leave() override { send_text(R"({"leave":true})", 0, kTagRequest, MPI_COMM_WORLD); }
  void finish() override { send_text(R"({"finish":true})", 0, kTagRequest, MPI_COMM_WORLD); }
};

}  // namespace

std::unique_ptr<MpiRanks::Service> MpiRanks::serve(RunHandOut& hand_out) {
  return std::make_unique<ChunkService>(*this, hand_out);
}

std::unique_ptr<MpiRanks::RemoteFeed> MpiRanks::remote_feed() {
  return std::make_unique<MpiFeed>();
}

}  // namespace onnxpool
