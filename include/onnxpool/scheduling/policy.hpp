#pragma once
// Which queue policy a Scheduler uses, and its name on the command line and in reports.
#include <string_view>

namespace onnxpool {

// Static: item k goes to worker (k mod W)'s own queue. Dynamic: one shared queue that free workers pull
// from, with the tail look-ahead. See scheduler.hpp.
enum class Policy { Static, Dynamic };

// "static" | "dynamic"; anything else throws Error("unknown policy 'x' (expected static or dynamic)").
Policy parse_policy(std::string_view name);
std::string_view policy_name(Policy policy);

}  // namespace onnxpool
