#pragma once
// Turns ONNX Runtime's exceptions into onnxpool::Error with context, at the boundary where we call it.
#include <string>
#include <utility>

#include <fmt/format.h>
#include <onnxruntime_cxx_api.h>

#include "onnxpool/error.hpp"

namespace onnxpool {

// Runs `call`; an Ort::Exception becomes Error("<context>: <ONNX Runtime's message>"), on one line.
template <class Call>
auto guard_ort(const std::string& context, Call&& call) -> decltype(call()) {
  try {
    return std::forward<Call>(call)();
  } catch (const Ort::Exception& e) {
    std::string message = e.what();
    for (auto& c : message) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    throw Error(fmt::format("{}: {}", context, message));
  }
}

}  // namespace onnxpool
