#include "run_ranks.hpp"

#include <fmt/format.h>

#include "commands.hpp"
#include "onnxpool/error.hpp"

#ifdef ONNXPOOL_WITH_MPI
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "common/one_line.hpp"
#include "onnxpool/bench/measure.hpp"
#include "onnxpool/distributed/mpi_ranks.hpp"
#include "onnxpool/pipeline/progress.hpp"
#include "onnxpool/pipeline/run_hand_out.hpp"
#include "onnxpool/pipeline/stream.hpp"
#include "onnxpool/pool/pool.hpp"
#include "onnxpool/runtime/runtime.hpp"
#include "onnxpool/tensor/tensor_io.hpp"
#include "run_outputs.hpp"
#endif

namespace onnxpool::cli {

#ifndef ONNXPOOL_WITH_MPI

int run_across_ranks(const RunArgs& /*args*/, const CLI::App& /*cmd*/, const Launch& launch,
                     const SignalStop& /*signals*/) {
  // Each process would otherwise run the whole job, all writing the same files. One line, from the
  // first process: the others end with the same status, silently.
  if (launch.rank != 0) return kExitError;
  throw Error(
      fmt::format("started as process {} of {} by {}, but this onnxpool was built without MPI: build it with Open MPI "
                  "(apt-get install libopenmpi-dev openmpi-bin), or start a single process",
                  launch.rank, launch.size, launch.launcher));
}

#else

namespace {

using Clock = std::chrono::steady_clock;

// How a step ended on one rank: its exit status (0: fine) and the line main() would print for it.
struct Outcome {
  int code = 0;
  std::string line;
};

// Runs `step`, turning what it throws into the line and status main() gives each kind of error.
Outcome attempt(const std::function<void()>& step) {
  try {
    step();
    return {};
  } catch (const UsageError& e) {
    return {kExitUsage, fmt::format("{} (see --help)", one_line(e.what()))};
  } catch (const ConfigError& e) {
    return {kExitError, one_line(fmt::format("--{} {}: {}{}", e.field(), e.value(), e.what(), force_hint(e)))};
  } catch (const std::exception& e) {
    return {kExitError, one_line(e.what())};
  }
}

// Rank 0's line for rank `rank`'s error (its report holds "host" and "line"), naming the rank when it is
// another: "onnxpool: error: rank 2 (node7): <line><suffix>".
void print_rank_error(std::size_t rank, const nlohmann::json& report, const std::string& suffix) {
  std::fflush(stdout);
  const std::string who =
      rank == 0 ? std::string() : fmt::format("rank {} ({}): ", rank, report.at("host").get<std::string>());
  fmt::print(stderr, "onnxpool: error: {}{}{}\n", who, report.at("line").get<std::string>(), suffix);
}

// Every rank's outcome of a step, on every rank: the status of the first rank that failed (0 when none),
// whose line rank 0 prints, naming the rank when it is another. Collective: also the barrier between
// steps (nothing of the next step starts on any rank before every rank finished this one).
int agree(MpiRanks& ranks, const Outcome& mine, const std::string& suffix = {}) {
  const nlohmann::json own{{"code", mine.code}, {"line", mine.line}, {"host", ranks.host()}};
  const auto all = ranks.all_gather(own.dump());
  for (std::size_t r = 0; r < all.size(); ++r) {
    const auto outcome = nlohmann::json::parse(all[r]);
    const int code = outcome.at("code").get<int>();
    if (code == 0) continue;
    if (ranks.rank() == 0) print_rank_error(r, outcome, suffix);
    return code;
  }
  return 0;
}

// Items per chunk: small enough that every rank gets many (a fast rank takes more of them), large enough
// that rank 0 answers few requests and each rank syncs its rows rarely; the hand-out shrinks them near
// the end.
std::size_t chunk_size(std::size_t items, std::size_t ranks) {
  return std::clamp<std::size_t>(items / (ranks * 16), 1, 256);
}

// What each rank tells rank 0 at the end, for the summary.
nlohmann::json rank_report(const MpiRanks& ranks, const std::vector<int>& cpus, const Pool& pool,
                           const StreamSummary& done, bool all_equal, const Outcome& outcome, int signal) {
  return {{"rank", ranks.rank()},
          {"host", ranks.host()},
          {"cpus", cpus},
          {"workers", pool.plan().size()},
          {"items", done.items - done.kept},
          {"failed", done.failed},
          {"seconds", done.seconds},
          {"items_per_s", done.seconds > 0.0 ? static_cast<double>(done.items - done.kept) / done.seconds : 0.0},
          {"interrupted", done.interrupted},
          {"signal", signal},
          {"all_equal", all_equal},
          {"code", outcome.code},
          {"line", outcome.line}};
}

// Rank 0's progress bar of the whole run (on stderr, as a single run's): the ranks' results never pass
// through rank 0, so it follows the hand-out's count of completed items (chunk by chunk, any rank's),
// polled ten times a second by a thread of its own.
class RunProgress {
 public:
  RunProgress(const RunHandOut& hand_out, std::size_t items, bool terminal)
      : hand_out_(hand_out), progress_(std::cerr, "run", items, terminal), shown_(hand_out.completed()) {
    progress_.set_min_interval(terminal ? 0.1 : 5.0);
    progress_.skip(shown_);  // an earlier run's items: not in the rate
    thread_ = std::jthread([this](const std::stop_token& stop) {
      while (!stop.stop_requested()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        update();
      }
    });
  }
  RunProgress(const RunProgress&) = delete;
  RunProgress& operator=(const RunProgress&) = delete;
  ~RunProgress() {
    thread_.request_stop();
    thread_.join();
    update();
    progress_.finish();
  }

 private:
  void update() {
    const std::size_t completed = hand_out_.completed();
    if (completed <= shown_) return;
    const std::size_t failed = hand_out_.failed();
    progress_.advance(failed > 0 ? fmt::format("{} failed", failed) : std::string(), completed - shown_);
    shown_ = completed;
  }

  const RunHandOut& hand_out_;
  Progress progress_;
  std::size_t shown_;
  std::jthread thread_;  // last: started once the rest exists
};

// "CPUs 0-3", "CPUs 0,2", for the summary.
std::string cpu_list(const std::vector<int>& cpus) {
  if (cpus.empty()) return "no CPU";
  const bool contiguous = cpus.back() - cpus.front() + 1 == static_cast<int>(cpus.size());
  if (cpus.size() > 1 && contiguous) return fmt::format("CPUs {}-{}", cpus.front(), cpus.back());
  return fmt::format("CPU{} {}", cpus.size() == 1 ? "" : "s", fmt::join(cpus, ","));
}

}  // namespace

int run_across_ranks(const RunArgs& args, const CLI::App& cmd, const Launch& /*launch*/, const SignalStop& signals) {
  MpiRanks ranks;
  const bool root = ranks.rank() == 0;
  // First: the node's cores split between its ranks, so that each pool sizes itself to its share.
  const std::vector<int> cpus = ranks.split_node_cpus();
  const bool writes = !args.output_dir.empty();

  // 1. What can refuse the run, on every rank (each reads the source itself); rank 0 the output folder.
  std::optional<Runtime> runtime;
  std::optional<ModelInfo> model;
  std::unique_ptr<Source> source;
  PoolConfig config;
  std::optional<ExpectedOutputs> expected;
  std::optional<RunOutputs> outputs;
  Outcome step = attempt([&] {
    if (!args.shard.empty()) {
      throw UsageError(
          "--shard: under mpirun the ranks share the whole run; --shard is for jobs run apart (Slurm arrays, "
          "indexed jobs), each one process");
    }
    runtime.emplace(ort_log_level(cmd));
    model.emplace(inspect_model(*runtime, args.model));
    config = pool_config(args.pool);
    source = delayed(make_source(*model, args.inputs), args.item_delay_ms);
    config.items = source->size();
    config.check_machine(CpuTopology::detect());
    if (!args.compare_dir.empty()) {
      expected.emplace(*model, args.compare_dir, source->size(), args.rtol, args.atol);
    }
    if (root && writes) {
      outputs.emplace(RunOutputs::Options{.dir = args.output_dir,
                                          .overwrite = args.overwrite,
                                          .resume = args.resume,
                                          .per_item = args.per_item,
                                          .top_k = args.top_k,
                                          .labels = args.labels,
                                          .shared = true,
                                          .shard = std::nullopt,
                                          .whole_items = 0},
                      *model, *source, [&](bool stacked) { return run_identity(args, stacked); });
    }
  });
  if (const int code = agree(ranks, step)) return code;

  // 2. The pools: a rank whose pool cannot start (no GPU there) ends the job before anything is written.
  std::optional<Pool> pool;
  step = attempt([&] { pool.emplace(*runtime, args.model, config); });
  if (const int code = agree(ranks, step)) return code;

  // 3. Rank 0 makes the journal and clears what cannot be continued, before any rank writes.
  RunJournal* journal = nullptr;
  step = attempt([&] {
    if (outputs) journal = &outputs->open_shared();
  });
  if (const int code = agree(ranks, step)) return code;

  std::vector<Sink*> sinks;
  std::unique_ptr<Sink> data;
  if (writes) {
    data = RunOutputs::rank_sink(args.output_dir, *model, source->size(), RunOutputs::stacks(*model, args.per_item),
                                 args.resume);
    sinks.push_back(data.get());
  }
  if (expected) sinks.push_back(&*expected);
  SinkFan sink(sinks);

  // The hand-out: rank 0 serves the others from a thread and takes its own chunks by plain calls.
  std::optional<RunHandOut> hand_out;
  std::unique_ptr<MpiRanks::Service> service;
  std::unique_ptr<WorkFeed> feed;
  MpiRanks::RemoteFeed* remote = nullptr;
  if (root) {
    hand_out.emplace(source->size(), ranks.size(), outputs ? outputs->resumed() : nullptr, journal,
                     RunHandOut::Options{.chunk = chunk_size(source->size(), ranks.size()),
                                         .max_failures = args.fail_fast ? 1U : args.max_failures,
                                         .commit_seconds = 1.0});
    service = ranks.serve(*hand_out);
    feed = hand_out->feed(0);
  } else {
    auto mine = ranks.remote_feed();
    remote = mine.get();
    feed = std::move(mine);
  }

  // 4. The run: --warmup on each rank's own first items, then the items the hand-out gives.
  const auto start = Clock::now();
  std::optional<RunProgress> progress;
  if (root && !args.quiet) progress.emplace(*hand_out, source->size(), ::isatty(STDERR_FILENO) == 1);
  StreamSummary done;
  const Outcome ran = attempt([&] {
    const auto warm_count = std::min(source->size(), static_cast<std::size_t>(args.warmup));
    const auto pass = [&](bool warmup) {
      if (warmup) {
        warm_up(*pool, *source, warm_count);
        return;
      }
      done = run_stream(*pool, *source, sink,
                        {.window = args.window,
                         .max_failures = args.fail_fast ? 1U : args.max_failures,
                         .stop = &signals.requested(),
                         .resume = nullptr,
                         .feed = feed.get()});
    };
    const auto prepare = [&](bool warmup) {
      if (!warmup && args.warmup > 0) pool->reset_stats();
    };
    static_cast<void>(
        bench::measure({.prepare = prepare, .run = pass}, {.warmup = args.warmup > 0 ? 1U : 0U, .timed = 1}));
  });
  // Always, even after an error: rank 0's service waits for every rank's word that it is finished.
  if (remote != nullptr) remote->finish();
  Outcome finished;
  bool complete = false;
  if (root) {
    service->join();
    progress.reset();  // its last report, before the summary
    finished = attempt([&] {
      hand_out->commit();
      complete = outputs ? outputs->finish_shared(*hand_out) : hand_out->finished();
    });
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  // 5. Every rank's report to rank 0, which prints the summary and decides the exit status for all.
  const auto reports = ranks.all_gather(
      rank_report(ranks, cpus, *pool, done, !expected || expected->all_equal(), ran, signals.signal()).dump());
  int code = 0;
  if (root) {
    std::vector<nlohmann::json> each;
    std::size_t ran_items = 0;
    std::set<std::string> hosts;
    for (const auto& text : reports) {
      each.push_back(nlohmann::json::parse(text));
      ran_items += each.back().at("items").get<std::size_t>();
      hosts.insert(each.back().at("host").get<std::string>());
    }
    const std::size_t items = source->size();
    const std::size_t kept = outputs && outputs->resumed() != nullptr ? outputs->resumed()->done_count() : 0;
    const std::size_t failed = hand_out->failed();
    const double rate = seconds > 0.0 ? static_cast<double>(ran_items) / seconds : 0.0;
    if (!args.quiet) {
      fmt::print("{} item{} in {:.3f} s: {:.2f} items/s over {} ranks on {} node{}{}\n", ran_items,
                 ran_items == 1 ? "" : "s", seconds, rate, ranks.size(), hosts.size(), hosts.size() == 1 ? "" : "s",
                 kept > 0 ? fmt::format(" (and {} kept from the earlier run)", kept) : "");
      for (const auto& r : each) {
        const auto workers = r.at("workers").get<std::size_t>();
        fmt::print("  rank {:<3} {:<12} {:<10} {} worker{}  {:>7} items  {:>9.2f} items/s\n", r.at("rank").get<int>(),
                   r.at("host").get<std::string>(), cpu_list(r.at("cpus").get<std::vector<int> >()), workers,
                   workers == 1 ? " " : "s", r.at("items").get<std::size_t>(), r.at("items_per_s").get<double>());
      }
    }
    if (!args.json.empty()) {
      const nlohmann::json summary{{"model", args.model},
                                   {"items", items},
                                   {"done", hand_out->completed()},
                                   {"kept", kept},
                                   {"failed", failed},
                                   {"stopped", !complete},
                                   {"seconds", seconds},
                                   {"items_per_s", rate},
                                   {"ranks", each},
                                   {"failures_file", outputs && failed > 0 ? outputs->failure_log().string() : ""}};
      const std::string text = summary.dump(2) + "\n";
      write_file_atomically(args.json, std::as_bytes(std::span(text.data(), text.size())));
    }
    std::fflush(stdout);
    const std::string keep = writes ? "; the folder keeps what was done: rerun with --resume to continue" : "";
    const auto failing =
        std::find_if(each.begin(), each.end(), [](const nlohmann::json& r) { return r.at("code") != 0; });
    const auto interrupted =
        std::find_if(each.begin(), each.end(), [](const nlohmann::json& r) { return r.at("interrupted"); });
    if (failing != each.end()) {
      print_rank_error(failing->at("rank").get<std::size_t>(), *failing, keep);
      code = failing->at("code").get<int>();
    } else if (finished.code != 0) {
      fmt::print(stderr, "onnxpool: error: {}{}\n", finished.line, keep);
      code = finished.code;
    } else if (interrupted != each.end() && !complete) {
      fmt::print(stderr, "onnxpool: interrupted after {} of {} items{}\n", hand_out->completed(), items,
                 writes ? "; rerun with --resume to continue" : "");
      code = 128 + interrupted->at("signal").get<int>();
    } else if (failed > 0) {
      const std::string log = writes ? fmt::format(" ({})", outputs->failure_log().string()) : std::string();
      std::string stopped =
          complete ? std::string() : fmt::format(", stopped after {} of {} items", hand_out->completed(), items);
      if (!complete && writes) stopped += " (--resume continues)";
      fmt::print(stderr, "onnxpool: error: {} of {} items failed{}{}; first: {}\n", failed, items, log, stopped,
                 FirstFailure::describe(hand_out->failures().front()));
      code = kExitItemsFailed;
    } else if (std::any_of(each.begin(), each.end(),
                           [](const nlohmann::json& r) { return !r.at("all_equal").get<bool>(); })) {
      code = kExitMismatch;
    }
  }
  // The same status from every rank: mpirun and srun report the first non-zero one.
  const auto codes = ranks.all_gather(std::to_string(code));
  return std::stoi(codes.front());
}

#endif

}  // namespace onnxpool::cli
