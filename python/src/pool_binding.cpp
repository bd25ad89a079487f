#include "pool_binding.hpp"

#include <chrono>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "numpy_convert.hpp"
#include "onnxpool/pipeline/inputs.hpp"
#include "onnxpool/runtime/cpu.hpp"
#include "onnxpool/scheduling/item_error.hpp"

namespace onnxpool::python {
namespace {

// The keyword arguments as a configuration; what no pool can be is a ValueError naming the keyword,
// in the CLI's words.
PoolConfig config_of(const PoolOptions& options) {
  PoolConfig config;
  config.workers = options.workers.value_or(0);
  config.threads = options.threads.value_or(0);
  const auto keyword = [](const char* name, const std::string& value, auto parse) {
    try {
      return parse();
    } catch (const Error& e) {
      throw py::value_error(fmt::format("{}='{}': {}", name, value, e.what()));
    }
  };
  if (options.devices) {
    if (options.devices->empty()) throw py::value_error("devices='': give at least one device (e.g. 'cpu')");
    config.devices = keyword("devices", *options.devices, [&] { return parse_devices(*options.devices); });
  }
  config.policy = keyword("policy", options.policy, [&] { return parse_policy(options.policy); });
  config.batch = options.batch.value_or(1);
  config.pin = options.pin;
  config.oversubscribe = options.oversubscribe;
  return config;
}

// The errors module of the package (onnxpool/_errors.py): its classes are Python's own.
py::object error_class(const char* name) {
  return py::module_::import("onnxpool._errors").attr(name);
}

// Counts `count` items in flight for its lifetime.
class InFlight {
 public:
  InFlight(std::atomic<std::ptrdiff_t>& counter, std::ptrdiff_t count) : counter_(counter), count_(count) {
    counter_ += count_;
  }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  ~InFlight() { counter_ -= count_; }

 private:
  std::atomic<std::ptrdiff_t>& counter_;
  std::ptrdiff_t count_;
};

py::object item_error(const ItemError& e) {
  return error_class("ItemError")(std::string(e.what()), e.item(), e.worker(), e.cause());
}

}  // namespace

PyPool::PyPool(PoolOptions options) : options_(std::move(options)) {
  PoolConfig config = config_of(options_);
  const py::gil_scoped_release release;  // loading the model and making sessions take the time
  runtime_ = std::make_unique<Runtime>();
  config.check_machine(CpuTopology::detect());
  model_ = inspect_model(*runtime_, options_.model);
  pool_ = std::make_unique<Pool>(*runtime_, options_.model, config);
}

PyPool::~PyPool() {
  // Joining the workers may wait for a worker that drops the last reference to an input array, which
  // takes the GIL: released while waiting.
  const py::gil_scoped_release release;
  pool_.reset();
}

void PyPool::close() {
  const py::gil_scoped_release release;
  pool_.reset();
}

Pool& PyPool::open_pool() const {
  if (pool_ == nullptr) throw Error(fmt::format("{}: the pool is closed", options_.model));
  return *pool_;
}

std::size_t PyPool::size() const {
  return open_pool().size();
}

TensorSet PyPool::item_of(const py::handle& inputs) const {
  if (!py::isinstance<py::dict>(inputs)) {
    throw py::type_error(fmt::format("an item is a dict {{input name: array}}, not {}",
                                     py::str(inputs.get_type().attr("__name__")).cast<std::string>()));
  }
  const auto given = py::reinterpret_borrow<py::dict>(inputs);
  // A name the model does not have: ModelInfo::input's error, which lists the model's inputs.
  try {
    for (const auto& [key, value] : given) static_cast<void>(model_.input(py::str(key).cast<std::string>()));
  } catch (const Error& e) {
    throw py::value_error(e.what());
  }
  TensorSet item;
  for (const auto& input : model_.inputs) {
    if (!given.contains(input.name)) {
      throw py::value_error(
          fmt::format("input '{}' {} {} is missing", input.name, element_type_name(input.type), input.shape_string()));
    }
    const std::string what = fmt::format("input '{}'", input.name);
    py::object value = given[py::str(input.name)];
    // Not an array (a list, a number): made one of the input's dtype, as numpy.asarray(value, dtype).
    if (!py::isinstance<py::array>(value) && input.type != ElementType::String) {
      value = py::module_::import("numpy").attr("asarray")(value, dtype_of(input.type));
    }
    item.push_back({input.name, to_tensor(value, what)});
  }
  try {
    check_inputs(model_, item);
  } catch (const Error& e) {
    throw py::value_error(e.what());
  }
  return item;
}

py::dict PyPool::dict_of(TensorSet outputs) const {
  py::dict result;
  for (auto& output : outputs) result[py::str(output.name)] = to_array(std::move(output.tensor));
  return result;
}

py::dict PyPool::run(const py::dict& inputs) {
  Pool& pool = open_pool();
  TensorSet item = item_of(inputs);
  TensorSet outputs;
  {
    const InFlight counted(in_flight_, 1);
    const py::gil_scoped_release release;
    // Through run_all, not submit: a lone item then runs on this thread when a worker is free (no
    // hand-off to a worker's thread and back: the latency of a single session, GIL released).
    std::vector<TensorSet> one;
    one.push_back(std::move(item));
    try {
      outputs = std::move(pool.run_all(std::move(one)).front());
    } catch (const RunError& e) {
      if (e.failures().size() != 1) throw;
      throw e.failures().front();  // one item: its ItemError, as submit().get() would raise
    }
  }
  return dict_of(std::move(outputs));
}

PyPool::Pending::Pending(const PyPool& pool, std::future<TensorSet> future) : pool_(&pool), future_(std::move(future)) {
  ++pool_->in_flight_;
}

PyPool::Pending::Pending(Pending&& other) noexcept
    : pool_(other.pool_), future_(std::move(other.future_)), counted_(std::exchange(other.counted_, false)) {}

PyPool::Pending::~Pending() {
  leave();
}

void PyPool::Pending::leave() {
  if (std::exchange(counted_, false)) --pool_->in_flight_;
}

PyPool::Pending PyPool::submit(const py::dict& inputs) {
  Pool& pool = open_pool();
  TensorSet item = item_of(inputs);
  const py::gil_scoped_release release;  // the queue's lock may be held by a worker for a moment
  return {*this, pool.submit(std::move(item))};
}

py::dict PyPool::Pending::result() {
  if (!future_.valid()) throw Error("this result was already taken");
  TensorSet outputs;
  {
    const py::gil_scoped_release release;
    try {
      outputs = future_.get();
    } catch (...) {
      leave();
      throw;
    }
  }
  leave();
  return pool_->dict_of(std::move(outputs));
}

bool PyPool::Pending::done() const {
  return !future_.valid() || future_.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

py::list PyPool::run_all(const py::iterable& items) {
  Pool& pool = open_pool();
  std::vector<TensorSet> batch;
  for (const py::handle item : items) batch.push_back(item_of(item));
  std::vector<TensorSet> outputs;
  {
    const InFlight counted(in_flight_, static_cast<std::ptrdiff_t>(batch.size()));
    const py::gil_scoped_release release;
    outputs = pool.run_all(std::move(batch));
  }
  py::list result;
  for (auto& output : outputs) result.append(dict_of(std::move(output)));
  return result;
}

py::list PyPool::stats() const {
  const Pool& pool = open_pool();
  py::list result;
  const auto stats = pool.stats();
  for (std::size_t w = 0; w < stats.size(); ++w) {
    py::dict worker;
    worker["name"] = stats[w].name;
    worker["threads"] = pool.plan()[w].threads;
    worker["items"] = stats[w].items;
    worker["runs"] = stats[w].runs;
    worker["busy_seconds"] = stats[w].busy_seconds;
    result.append(worker);
  }
  return result;
}

void register_error_translator() {
  // By value: the signature pybind11 requires.
  py::register_exception_translator([](std::exception_ptr error) {  // NOLINT(performance-unnecessary-value-param)
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const ConfigError& e) {
      const std::string force = e.force().empty() ? "" : fmt::format("; {}=True runs it anyway", e.force());
      PyErr_SetString(PyExc_ValueError, fmt::format("{}={}: {}{}", e.field(), e.value(), e.what(), force).c_str());
    } catch (const ItemError& e) {
      const py::object raised = item_error(e);
      PyErr_SetObject(raised.get_type().ptr(), raised.ptr());
    } catch (const RunError& e) {
      py::list failures;
      for (const auto& failure : e.failures()) failures.append(item_error(failure));
      const py::object raised = error_class("RunError")(std::string(e.what()), e.item_count(), failures);
      PyErr_SetObject(raised.get_type().ptr(), raised.ptr());
    } catch (const Error& e) {
      PyErr_SetString(error_class("Error").ptr(), e.what());
    }
  });
}

}  // namespace onnxpool::python
