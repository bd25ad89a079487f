#pragma once
// Turns ONNX Runtime's exceptions into onnxpool::Error with context, at the boundary where we call it.
#include <string>
#include <utility>

#include <fmt/format.h>
#include <onnxruntime_cxx_api.h>

#include "common/one_line.hpp"
#include "onnxpool/error.hpp"

namespace onnxpool {

// Runs `call`; an Ort::Exception becomes Error("<context>: <ONNX Runtime's message>"), on one line.
template <class Call>
auto guard_ort(const std::string& context, Call&& call) -> decltype(call()) {
  try {
    return std::forward<Call>(call)();
  } catch (const Ort::Exception& e) {
    throw Error(fmt::format("{}: {}", context, one_line(e.what())));
  }
}

// Runs `call`; an Ort::Exception or an Error becomes Error("<context>: <message>"), on one line: for
// calls that fail either inside ONNX Runtime or in onnxpool's own checks around it.
template <class Call>
auto with_context(const std::string& context, Call&& call) -> decltype(call()) {
  try {
    return std::forward<Call>(call)();
  } catch (const Ort::Exception& e) {
    throw Error(fmt::format("{}: {}", context, one_line(e.what())));
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", context, e.what()));
  }
}

}  // namespace onnxpool
