#pragma once
// Where two runs' identities (JSON objects) first differ, for the messages that refuse to mix two runs:
// a resume of another run (journal.cpp), shards of different runs (merge.cpp).
#include <string>

#include <nlohmann/json.hpp>

namespace onnxpool {

struct JsonDifference {
  std::string field;  // dotted path ("model.size"); "identity" when the values differ as a whole
  std::string was;    // each value's JSON, cut short for a message
  std::string is;
};

// The first field (in key order, depth first) whose value differs between `was` and `is`; call it only
// when they differ.
JsonDifference first_difference(const nlohmann::json& was, const nlohmann::json& is);

}  // namespace onnxpool
