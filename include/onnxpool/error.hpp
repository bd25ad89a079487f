#pragma once
// One exception type for the library: the message carries its context (which file, input, worker or
// item) so the CLI can print it as one line.
#include <stdexcept>
#include <string>

namespace onnxpool {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace onnxpool
