#pragma once
// What every fuzz target checks of the code it feeds: a parser either succeeds, with a result whose
// cheap properties hold, or throws the Error it documents, whose message is one line (the CLI prints it
// as one, and the journal and failure log record it as one). Anything else -- a crash, a sanitizer
// report, another exception escaping, a hang, a huge allocation -- is a bug that libFuzzer reports.
#include <cstdio>
#include <exception>
#include <string_view>

#include "onnxpool/error.hpp"
#include "onnxpool/tensor/tensor.hpp"

namespace onnxpool::fuzz {

// Stops the run (libFuzzer saves the input) when a property of a parsed result does not hold.
inline void require(bool holds, const char* what) {
  if (!holds) {
    std::fprintf(stderr, "fuzz property violated: %s\n", what);
    __builtin_trap();
  }
}

// What any parsed tensor must be: as many elements (strings, or bytes of its element size) as its shape
// says.
inline void require_consistent(const Tensor& tensor) {
  const std::size_t count = element_count(tensor.shape());
  require(tensor.element_count() == count, "element count of the shape");
  if (tensor.element_type() == ElementType::String) {
    require(tensor.strings().size() == count, "one string per element");
  } else {
    require(tensor.byte_size() == count * element_size(tensor.element_type()), "byte size");
  }
}

inline void check_one_line(const std::exception& e) {
  const std::string_view message = e.what();
  if (message.find_first_of("\n\r") != std::string_view::npos) {
    std::fprintf(stderr, "an error message of more than one line: \"%s\"\n", e.what());
    __builtin_trap();
  }
}

// Runs `parse`: an onnxpool::Error is the documented outcome for bad input, and is checked; any other
// exception escapes to libFuzzer, which reports it as a crash.
template <class Parse>
void expect_error_or_success(Parse&& parse) {
  try {
    parse();
  } catch (const Error& e) {
    check_one_line(e);
  }
}

}  // namespace onnxpool::fuzz
