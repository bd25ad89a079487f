#pragma once
// onnxpool.Pool: a pool (workers, scheduler) behind a Python object. The GIL is released while sessions
// are made and while items run or are waited for; it is held only to turn arrays into tensors and back.
#include <atomic>
#include <cstddef>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include <pybind11/pybind11.h>

#include "onnxpool/pool/pool.hpp"
#include "onnxpool/runtime/model.hpp"
#include "onnxpool/runtime/runtime.hpp"

namespace onnxpool::python {

namespace py = pybind11;

struct PoolOptions {
  std::string model;
  std::optional<int> workers;
  std::optional<int> threads;
  std::optional<std::string> devices;  // the CLI's grammar: "cpu:2*2,cuda:0"
  std::string policy = "dynamic";
  std::optional<std::size_t> batch;
  bool pin = false;
  bool oversubscribe = false;
};

class PyPool {
 public:
  explicit PyPool(PoolOptions options);
  PyPool(const PyPool&) = delete;
  PyPool& operator=(const PyPool&) = delete;
  ~PyPool();

  // One item: {input name: array} -> {output name: array}.
  py::dict run(const py::dict& inputs);
  // Several, in order.
  py::list run_all(const py::iterable& items);
  // One item handed to the pool without waiting: its result is collected by Pending::result().
  // It counts in in_flight() from submit until its result is taken (or it is dropped).
  class Pending {
   public:
    Pending(const PyPool& pool, std::future<TensorSet> future);
    Pending(Pending&& other) noexcept;
    Pending(const Pending&) = delete;
    Pending& operator=(const Pending&) = delete;
    Pending& operator=(Pending&&) = delete;
    ~Pending();
    // Waits (GIL released) and returns {output name: array}; raises ItemError when the item failed.
    // Once only.
    py::dict result();
    [[nodiscard]] bool done() const;

   private:
    void leave();         // no longer in flight
    const PyPool* pool_;  // for output conversion; the Python side keeps the pool alive
    std::future<TensorSet> future_;
    bool counted_ = true;
  };
  Pending submit(const py::dict& inputs);
  [[nodiscard]] py::list stats() const;
  // Items handed to the pool by run, run_all and submit whose results have not been returned yet:
  // several Python threads inside run() at once each count.
  [[nodiscard]] std::ptrdiff_t in_flight() const { return in_flight_.load(); }
  [[nodiscard]] const ModelInfo& model() const { return model_; }
  [[nodiscard]] const PoolOptions& options() const { return options_; }
  [[nodiscard]] std::size_t size() const;
  void close();  // waits for the items in flight; later calls raise onnxpool.Error
  [[nodiscard]] bool closed() const { return pool_ == nullptr; }

 private:
  [[nodiscard]] Pool& open_pool() const;
  [[nodiscard]] TensorSet item_of(const py::handle& inputs) const;
  [[nodiscard]] py::dict dict_of(TensorSet outputs) const;

  PoolOptions options_;
  mutable std::atomic<std::ptrdiff_t> in_flight_{0};
  std::unique_ptr<Runtime> runtime_;
  ModelInfo model_;
  std::unique_ptr<Pool> pool_;
};

// The library's errors as Python's: ConfigError -> ValueError ("threads=100000: ..."), ItemError ->
// onnxpool.ItemError (.item, .worker, .cause), RunError -> onnxpool.RunError (.failures), other Error ->
// onnxpool.Error. Registered once by the module.
void register_error_translator();

}  // namespace onnxpool::python
