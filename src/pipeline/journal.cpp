#include "onnxpool/pipeline/journal.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <span>
#include <utility>

#include <fmt/format.h>

#include "common/file_descriptor.hpp"
#include "common/file_io.hpp"
#include "common/one_line.hpp"
#include "onnxpool/error.hpp"
#include "pipeline/json_difference.hpp"

#include <nlohmann/json.hpp>

namespace onnxpool {
namespace {

constexpr std::string_view kMagic = "onnxpool-journal 1";
// A failure record is one short line; a longer one is not ours.
constexpr std::size_t kMaxFailureLine = 1 << 16;

using detail::os_error;

std::size_t parse_index(std::string_view text, std::string_view what) {
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    throw Error(fmt::format("bad {} '{}'", what, text.substr(0, 40)));
  }
  return value;
}

// Appends `text` at `end` (the journal's length, which it then becomes) and syncs it.
void append_synced(int fd, const std::filesystem::path& path, std::string_view text, std::size_t& end) {
  detail::write_all_at(fd, path, text, end, "cannot write the journal");
  end += text.size();
  detail::sync_data(fd, path, "cannot sync the journal");
}

// The journal's own entry in its folder durable too (once, when it is made).
void sync_folder(const std::filesystem::path& path) {
  const auto folder = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  const detail::FileDescriptor fd(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.is_open()) static_cast<void>(::fsync(fd.get()));  // best effort: some file systems refuse it
}

// One writer per journal (and so per output folder): a second run into the same folder is refused.
void lock(int fd, const std::filesystem::path& path) {
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) throw Error(fmt::format("{}: another onnxpool run is writing there", path.string()));
    throw Error(os_error(path, "cannot lock the journal"));
  }
}

// The caller's identity, parsed: a JSON object.
nlohmann::json identity_of(std::string_view text) {
  try {
    auto identity = nlohmann::json::parse(text);
    if (identity.is_object()) return identity;
  } catch (const nlohmann::json::exception&) {
  }
  throw Error("a run's identity must be a JSON object");
}

nlohmann::json header(std::size_t items, std::string_view identity_text) {
  return {{"items", items}, {"identity", identity_of(identity_text)}};
}

}  // namespace

std::size_t ResumeState::done_count() const {
  return static_cast<std::size_t>(std::count(done.begin(), done.end(), true));
}

struct RunJournal::State {
  std::filesystem::path path;
  std::size_t items = 0;
  detail::FileDescriptor fd;
  std::size_t accounted = 0;
  std::size_t end = 0;  // the journal's length: where the next lines go
  std::string pending;  // lines recorded since the last commit
  bool in_range = false;
  std::size_t range_first = 0;
  std::size_t range_last = 0;

  void close_range() {
    if (!in_range) return;
    pending += range_first == range_last ? fmt::format("done {}\n", range_first)
                                         : fmt::format("done {}-{}\n", range_first, range_last);
    in_range = false;
  }
};

RunJournal::RunJournal(std::unique_ptr<State> state) : state_(std::move(state)) {}
RunJournal::RunJournal(RunJournal&&) noexcept = default;
RunJournal& RunJournal::operator=(RunJournal&&) noexcept = default;
RunJournal::~RunJournal() = default;

RunJournal RunJournal::start(const std::filesystem::path& path, std::size_t items, std::string_view identity_text) {
  auto state = std::make_unique<State>();
  state->path = path;
  state->items = items;
  // Not O_TRUNC: a journal another run holds is refused by the lock before anything of it is cut.
  state->fd = detail::FileDescriptor(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!state->fd.is_open()) throw Error(os_error(path, "cannot create the journal"));
  lock(state->fd.get(), path);
  if (::ftruncate(state->fd.get(), 0) != 0) throw Error(os_error(path, "cannot write the journal"));
  append_synced(state->fd.get(), path, fmt::format("{}\n{}\n", kMagic, header(items, identity_text).dump()),
                state->end);
  sync_folder(path);
  return RunJournal(std::move(state));
}

ResumeState RunJournal::parse(std::string_view text, std::size_t items, std::string_view identity_text,
                              const std::string& source, std::size_t* valid_bytes) {
  ResumeState state;
  state.done.assign(items, false);
  // Only complete lines count: a last line without its newline was being appended when the run died.
  const std::size_t complete = text.rfind('\n') == std::string_view::npos ? 0 : text.rfind('\n') + 1;
  std::string_view rest = text.substr(0, complete);
  std::size_t line_number = 0;
  const auto next_line = [&] {
    const std::size_t end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    rest.remove_prefix(end + 1);
    ++line_number;
    return line;
  };
  // A record may hold a '\r' (a journal edited on Windows): the message stays one line.
  const auto bad = [&](const std::string& why) {
    return Error(one_line(fmt::format("{}: line {}: {}", source, line_number, why)));
  };
  if (rest.empty() || next_line() != kMagic) {
    throw Error(fmt::format("{}: not an onnxpool journal (it should start with '{}')", source, kMagic));
  }
  if (rest.empty()) throw Error(fmt::format("{}: the journal has no identity line", source));
  nlohmann::json was;
  try {
    was = nlohmann::json::parse(next_line());
  } catch (const nlohmann::json::exception&) {
    throw bad("the identity is not JSON");
  }
  if (!was.is_object() || !was.contains("items") || !was["items"].is_number_unsigned() || !was.contains("identity")) {
    throw bad("the identity has no item count");
  }
  if (was["items"].get<std::size_t>() != items) {
    throw Error(
        fmt::format("{}: the run there has {} items, this one {}", source, was["items"].get<std::size_t>(), items));
  }
  const nlohmann::json identity = identity_of(identity_text);
  if (was["identity"] != identity) {
    // A key of the identity may hold a newline (JSON's "\n"): one line still.
    const JsonDifference difference = first_difference(was["identity"], identity);
    throw Error(one_line(fmt::format("{}: the run there is another run: its {} was {}, this run's is {}", source,
                                     difference.field, difference.was, difference.is)));
  }
  while (!rest.empty()) {
    const std::string_view line = next_line();
    try {
      if (line.starts_with("done ")) {
        const std::string_view range = line.substr(5);
        const std::size_t dash = range.find('-');
        const std::size_t first = parse_index(range.substr(0, dash), "item");
        const std::size_t last = dash == std::string_view::npos ? first : parse_index(range.substr(dash + 1), "item");
        if (first > last || last >= items) throw Error(fmt::format("items {}-{} of {}", first, last, items));
        std::fill(state.done.begin() + static_cast<std::ptrdiff_t>(first),
                  state.done.begin() + static_cast<std::ptrdiff_t>(last) + 1, true);
      } else if (line.starts_with("fail ")) {
        if (line.size() > kMaxFailureLine) throw Error("a failure line too long");
        const auto j = nlohmann::json::parse(line.substr(5));
        // get<std::size_t>() of a float such as 1e300 is undefined behaviour, of -1 a wrapped number.
        if (!j.is_object() || !j.contains("index") || !j["index"].is_number_unsigned()) {
          throw Error("a failure record without an item index");
        }
        ItemFailure failure{.index = j.at("index").get<std::size_t>(),
                            .name = j.at("name").get<std::string>(),
                            .worker = j.at("worker").get<std::string>(),
                            .cause = j.at("cause").get<std::string>()};
        if (failure.index >= items) throw Error(fmt::format("item {} of {}", failure.index, items));
        state.done[failure.index] = true;
        state.failures.push_back(std::move(failure));
      } else {
        throw Error(fmt::format("unknown record '{}'", line.substr(0, 20)));
      }
    } catch (const nlohmann::json::exception&) {
      throw bad("a bad failure record");
    } catch (const Error& e) {
      throw bad(e.what());
    }
  }
  // In item order, each item once (the last record of it wins).
  std::stable_sort(state.failures.begin(), state.failures.end(),
                   [](const ItemFailure& a, const ItemFailure& b) { return a.index < b.index; });
  const auto last_of_each = std::unique(state.failures.rbegin(), state.failures.rend(),
                                        [](const ItemFailure& a, const ItemFailure& b) { return a.index == b.index; });
  state.failures.erase(state.failures.begin(), last_of_each.base());
  if (valid_bytes != nullptr) *valid_bytes = complete;
  return state;
}

RunJournal RunJournal::resume(const std::filesystem::path& path, std::size_t items, std::string_view identity_text,
                              ResumeState& state) {
  auto journal = std::make_unique<State>();
  journal->path = path;
  journal->items = items;
  journal->fd = detail::FileDescriptor(::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
  if (!journal->fd.is_open()) {
    if (errno == ENOENT)
      throw Error(fmt::format("{}: no journal: there is no unfinished run to continue", path.string()));
    throw Error(os_error(path, "cannot open the journal"));
  }
  lock(journal->fd.get(), path);
  struct stat info {};
  if (::fstat(journal->fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
    throw Error(fmt::format("{}: the journal is not a regular file", path.string()));
  }
  std::string text(static_cast<std::size_t>(info.st_size), '\0');
  if (!detail::read_all_at(journal->fd.get(), path, text, 0, "cannot read the journal")) {
    throw Error(fmt::format("{}: the journal shrank while being read", path.string()));
  }
  std::size_t valid = 0;
  state = parse(text, items, identity_text, path.string(), &valid);
  text = {};
  // A torn last line is cut off, and what follows is appended after the last complete line.
  if (valid != static_cast<std::size_t>(info.st_size) &&
      ::ftruncate(journal->fd.get(), static_cast<off_t>(valid)) != 0) {
    throw Error(os_error(path, "cannot repair the journal"));
  }
  journal->end = valid;
  journal->accounted = state.done_count();
  return RunJournal(std::move(journal));
}

void RunJournal::done(std::size_t index) {
  State& s = *state_;
  if (s.in_range && index == s.range_last + 1) {
    s.range_last = index;
  } else {
    s.close_range();
    s.in_range = true;
    s.range_first = s.range_last = index;
  }
  ++s.accounted;
}

void RunJournal::failed(const ItemFailure& failure) {
  State& s = *state_;
  s.close_range();
  const nlohmann::json line{
      {"index", failure.index}, {"name", failure.name}, {"worker", failure.worker}, {"cause", failure.cause}};
  s.pending += "fail " + line.dump() + "\n";
  ++s.accounted;
}

void RunJournal::commit() {
  State& s = *state_;
  s.close_range();
  if (s.pending.empty()) return;
  append_synced(s.fd.get(), s.path, s.pending, s.end);
  s.pending.clear();
}

std::size_t RunJournal::accounted() const {
  return state_->accounted;
}

std::size_t RunJournal::items() const {
  return state_->items;
}

const std::filesystem::path& RunJournal::path() const {
  return state_->path;
}

void RunJournal::remove() {
  State& s = *state_;
  s.fd.close();
  std::error_code ec;
  std::filesystem::remove(s.path, ec);
  if (ec) throw Error(fmt::format("{}: cannot remove the finished run's journal: {}", s.path.string(), ec.message()));
}

namespace {
double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

JournaledSink::JournaledSink(Sink& data, RunJournal& journal, double commit_seconds)
    : data_(data), journal_(journal), commit_seconds_(commit_seconds), last_commit_(now_seconds()) {}

void JournaledSink::write(std::size_t index, const std::string& name, const TensorSet& outputs) {
  data_.write(index, name, outputs);  // a RejectedItem leaves the journal as it was: the item comes back as fail()
  journal_.done(index);
  maybe_commit();
}

void JournaledSink::fail(const ItemFailure& failure) {
  data_.fail(failure);
  journal_.failed(failure);
  maybe_commit();
}

void JournaledSink::kept(std::size_t index, const std::string& name) {
  data_.kept(index, name);
}

void JournaledSink::kept_failure(const ItemFailure& failure) {
  data_.kept_failure(failure);
}

void JournaledSink::maybe_commit() {
  if (commit_seconds_ <= 0.0 || now_seconds() - last_commit_ >= commit_seconds_) sync();
}

void JournaledSink::sync() {
  // The order that makes the journal true at every moment: the data on disk first, then the record.
  data_.sync();
  journal_.commit();
  ++commits_;
  last_commit_ = now_seconds();
}

void JournaledSink::finish() {
  sync();
  data_.finish();
  if (journal_.accounted() == journal_.items()) journal_.remove();
}

}  // namespace onnxpool
