#include "onnxpool/scheduling/policy.hpp"

#include <string>
#include <string_view>

#include "common/one_line.hpp"
#include "onnxpool/error.hpp"

namespace onnxpool {

Policy parse_policy(std::string_view name) {
  if (name == "static") return Policy::Static;
  if (name == "dynamic") return Policy::Dynamic;
  // The name is the user's text, newlines and all: the message stays one line.
  throw Error(one_line("unknown policy '" + std::string(name) + "' (expected static or dynamic)"));
}

std::string_view policy_name(Policy policy) {
  switch (policy) {
    case Policy::Static:
      return "static";
    case Policy::Dynamic:
      return "dynamic";
  }
  return "unknown";  // only reachable through a cast of an out-of-range value
}

}  // namespace onnxpool
