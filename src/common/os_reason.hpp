#pragma once
// The OS's words for an errno value ("No such file or directory"), thread-safe (libstdc++ builds the
// message from strerror_r), for every layer's file and system-call errors.
#include <string>
#include <system_error>

namespace onnxpool::detail {

inline std::string os_reason(int errnum) {
  return std::error_code(errnum, std::generic_category()).message();
}

}  // namespace onnxpool::detail
