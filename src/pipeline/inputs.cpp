#include "onnxpool/pipeline/inputs.hpp"

#include <algorithm>
#include <regex>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "onnxpool/tensor/tensor_io.hpp"

namespace onnxpool {
namespace {

template <class T, class Draw>
void fill(Tensor& tensor, Draw draw) {
  for (auto& value : tensor.data<T>()) value = draw();
}

// Folder entries sorted by the number in their name (input_2 before input_10).
std::vector<std::filesystem::path> sorted_by_number(std::vector<std::filesystem::path> paths) {
  // The trailing number's digits without leading zeros, compared by length then text: any length of
  // digits sorts by value, with nothing to overflow (a name may carry 30 digits). None: before all.
  const auto number = [](const std::filesystem::path& p) {
    const auto stem = p.stem().string();
    const auto digits = stem.find_last_not_of("0123456789");
    auto tail = stem.substr(digits == std::string::npos ? 0 : digits + 1);
    if (tail.empty()) return std::pair<long, std::string>(-1, "");
    tail.erase(0, std::min(tail.find_first_not_of('0'), tail.size() - 1));
    return std::pair(static_cast<long>(tail.size()), tail);
  };
  std::sort(paths.begin(), paths.end(), [&](const auto& a, const auto& b) {
    const auto na = number(a);
    const auto nb = number(b);
    return na != nb ? na < nb : a < b;
  });
  return paths;
}

std::vector<std::filesystem::path> files_matching(const std::filesystem::path& dir, const std::regex& pattern) {
  std::vector<std::filesystem::path> found;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file() && std::regex_match(entry.path().filename().string(), pattern)) {
      found.push_back(entry.path());
    }
  }
  return sorted_by_number(std::move(found));
}

// Reads `<prefix>_K.pb` files (K-th of `values`) or `<value name>.npy` files of one folder.
TensorSet load_named_tensors(const std::vector<ValueInfo>& values, const std::filesystem::path& dir,
                             const std::string& prefix) {
  TensorSet tensors;
  const auto pb_files = files_matching(dir, std::regex(prefix + "_[0-9]+\\.pb"));
  if (!pb_files.empty()) {
    if (pb_files.size() > values.size()) {
      throw Error(fmt::format("{}: {} {} files for a model with {} {}s", dir.string(), pb_files.size(), prefix,
                              values.size(), prefix));
    }
    for (std::size_t k = 0; k < pb_files.size(); ++k) {
      auto named = read_tensor_pb(pb_files[k]);
      const bool known =
          std::any_of(values.begin(), values.end(), [&](const ValueInfo& v) { return v.name == named.name; });
      if (!known) named.name = values[k].name;  // unnamed or differently named: by position, as ONNX's runners do
      tensors.push_back(std::move(named));
    }
    return tensors;
  }
  for (const auto& value : values) {
    const auto file = dir / (value.name + ".npy");
    if (std::filesystem::exists(file)) tensors.push_back({value.name, read_npy(file)});
  }
  return tensors;
}

bool holds_tensors(const std::filesystem::path& dir) {
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const auto ext = entry.path().extension();
    if (entry.is_regular_file() && (ext == ".pb" || ext == ".npy")) return true;
  }
  return false;
}

}  // namespace

bool is_batch_dim_name(std::string_view name) {
  return name == "batch_size" || name == "batch" || name == "N";
}

Shape resolve_shape(const ValueInfo& input, const DimBindings& bindings) {
  if (const auto given = bindings.shape_of_input.find(input.name); given != bindings.shape_of_input.end()) {
    const Shape& shape = given->second;
    if (shape.size() != input.shape.size()) {
      throw Error(fmt::format("the shape given for input '{}' has rank {}, the model declares {} {}", input.name,
                              shape.size(), input.shape.size(), input.shape_string()));
    }
    for (std::size_t i = 0; i < shape.size(); ++i) {
      if (input.shape[i].fixed() && input.shape[i].value != shape[i]) {
        throw Error(fmt::format("the shape given for input '{}' sets dim {} to {}, the model fixes it at {}",
                                input.name, i, shape[i], input.shape[i].value));
      }
    }
    return shape;
  }
  Shape shape;
  for (std::size_t i = 0; i < input.shape.size(); ++i) {
    const Dim& dim = input.shape[i];
    if (dim.fixed()) {
      shape.push_back(dim.value);
    } else if (const auto bound = bindings.by_name.find(dim.symbol);
               !dim.symbol.empty() && bound != bindings.by_name.end()) {
      shape.push_back(bound->second);
    } else if (is_batch_dim_name(dim.symbol) || (dim.symbol.empty() && i == 0)) {
      shape.push_back(1);
    } else if (dim.symbol.empty()) {
      throw UnboundDimError(
          input.name, "", i,
          fmt::format("input '{}' {}: dim {} has no name and no value", input.name, input.shape_string(), i));
    } else {
      throw UnboundDimError(
          input.name, dim.symbol, i,
          fmt::format("input '{}' {}: symbolic dim '{}' is not bound", input.name, input.shape_string(), dim.symbol));
    }
  }
  return shape;
}

Tensor random_tensor(ElementType type, const Shape& shape, std::mt19937_64& rng,
                     std::optional<std::int64_t> index_limit) {
  if (type == ElementType::String) {
    std::vector<std::string> values(element_count(shape));
    std::uniform_int_distribution<int> pick(0, 999);
    for (auto& s : values) s = fmt::format("s{}", pick(rng));
    return Tensor::from_strings(shape, std::move(values));
  }
  Tensor tensor(type, shape);
  std::uniform_real_distribution<float> unit(0.0F, 1.0F);
  const std::int64_t high = index_limit && *index_limit > 0 ? *index_limit - 1 : 99;
  std::uniform_int_distribution<std::int64_t> integer(0, high);
  const auto draw_int = [&] { return integer(rng); };
  switch (type) {
    case ElementType::Float:
      fill<float>(tensor, [&] { return unit(rng); });
      break;
    case ElementType::Double:
      fill<double>(tensor, [&] { return static_cast<double>(unit(rng)); });
      break;
    case ElementType::Float16:
      fill<std::uint16_t>(tensor, [&] { return float_to_half(unit(rng)); });
      break;
    case ElementType::BFloat16:
      fill<std::uint16_t>(tensor, [&] { return float_to_bfloat16(unit(rng)); });
      break;
    case ElementType::Int8:
      fill<std::int8_t>(tensor, [&] { return static_cast<std::int8_t>(std::min<std::int64_t>(draw_int(), 127)); });
      break;
    case ElementType::UInt8:
      fill<std::uint8_t>(tensor, [&] { return static_cast<std::uint8_t>(std::min<std::int64_t>(draw_int(), 255)); });
      break;
    case ElementType::Int16:
      fill<std::int16_t>(tensor, [&] { return static_cast<std::int16_t>(std::min<std::int64_t>(draw_int(), 32767)); });
      break;
    case ElementType::UInt16:
      fill<std::uint16_t>(tensor,
                          [&] { return static_cast<std::uint16_t>(std::min<std::int64_t>(draw_int(), 65535)); });
      break;
    case ElementType::Int32:
      fill<std::int32_t>(tensor, [&] { return static_cast<std::int32_t>(draw_int()); });
      break;
    case ElementType::UInt32:
      fill<std::uint32_t>(tensor, [&] { return static_cast<std::uint32_t>(draw_int()); });
      break;
    case ElementType::Int64:
      fill<std::int64_t>(tensor, draw_int);
      break;
    case ElementType::UInt64:
      fill<std::uint64_t>(tensor, [&] { return static_cast<std::uint64_t>(draw_int()); });
      break;
    case ElementType::Bool:
      fill<std::uint8_t>(tensor, [&] { return static_cast<std::uint8_t>(rng() & 1U); });
      break;
    default:
      throw Error(fmt::format("cannot make random {} values", element_type_name(type)));
  }
  return tensor;
}

namespace {

NamedTensor random_input(const ValueInfo& input, const DimBindings& bindings, std::mt19937_64& rng) {
  return {input.name, random_tensor(input.type, resolve_shape(input, bindings), rng, input.index_limit)};
}

}  // namespace

TensorSet random_inputs(const ModelInfo& model, const DimBindings& bindings, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  TensorSet inputs;
  for (const auto& input : model.inputs) inputs.push_back(random_input(input, bindings, rng));
  return inputs;
}

void check_inputs(const ModelInfo& model, const TensorSet& inputs) {
  std::map<std::string, std::int64_t> symbol_values;
  for (const auto& given : inputs) {
    const ValueInfo& want = model.input(given.name);  // throws for an unknown name
    if (std::count_if(inputs.begin(), inputs.end(), [&](const NamedTensor& t) { return t.name == given.name; }) > 1) {
      throw Error(fmt::format("input '{}' is given twice", given.name));
    }
    const Tensor& t = given.tensor;
    if (t.element_type() != want.type) {
      throw Error(fmt::format("input '{}': element type {}, the model wants {}", given.name,
                              element_type_name(t.element_type()), element_type_name(want.type)));
    }
    if (t.shape().size() != want.shape.size()) {
      throw Error(fmt::format("input '{}': shape {} has rank {}, the model wants rank {} {}", given.name,
                              shape_to_string(t.shape()), t.shape().size(), want.shape.size(), want.shape_string()));
    }
    for (std::size_t i = 0; i < want.shape.size(); ++i) {
      const Dim& dim = want.shape[i];
      const auto value = t.shape()[i];
      if (dim.fixed() && dim.value != value) {
        throw Error(fmt::format("input '{}': shape {} does not fit the model's {} (dim {} must be {})", given.name,
                                shape_to_string(t.shape()), want.shape_string(), i, dim.value));
      }
      if (!dim.fixed() && !dim.symbol.empty()) {
        const auto [it, fresh] = symbol_values.emplace(dim.symbol, value);
        if (!fresh && it->second != value) {
          throw Error(fmt::format("input '{}': dim '{}' is {} here but {} in another input", given.name, dim.symbol,
                                  value, it->second));
        }
      }
    }
  }
  for (const auto& want : model.inputs) {
    if (std::none_of(inputs.begin(), inputs.end(), [&](const NamedTensor& t) { return t.name == want.name; })) {
      throw Error(fmt::format("input '{}' {} is missing", want.name, want.shape_string()));
    }
  }
}

std::vector<Tensor> read_input_files(const ModelInfo& model, const std::vector<InputFile>& files) {
  std::vector<Tensor> tensors;
  tensors.reserve(files.size());
  for (const auto& file : files) tensors.push_back(read_tensor_file(file.file).tensor);
  for (const auto& file : files) {
    static_cast<void>(model.input(file.input));  // an unknown name is an error, not silently ignored
    if (std::count_if(files.begin(), files.end(), [&](const InputFile& f) { return f.input == file.input; }) > 1) {
      throw Error(fmt::format("input '{}' is given two files", file.input));
    }
  }
  return tensors;
}

TensorSet inputs_from_files(const ModelInfo& model, const std::vector<InputFile>& files,
                            std::span<const Tensor> tensors, const DimBindings& bindings, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  TensorSet inputs;
  for (const auto& input : model.inputs) {
    const auto file =
        std::find_if(files.begin(), files.end(), [&](const InputFile& f) { return f.input == input.name; });
    if (file == files.end()) {
      inputs.push_back(random_input(input, bindings, rng));
    } else {
      inputs.push_back({input.name, tensors[static_cast<std::size_t>(file - files.begin())]});
    }
  }
  try {
    check_inputs(model, inputs);
  } catch (const Error& e) {
    // Name the file the bad tensor came from.
    for (const auto& file : files) {
      if (std::string_view(e.what()).starts_with(fmt::format("input '{}'", file.input))) {
        throw Error(fmt::format("{}: {}", file.file.string(), e.what()));
      }
    }
    throw;
  }
  return inputs;
}

TensorSet inputs_from_files(const ModelInfo& model, const std::vector<InputFile>& files, const DimBindings& bindings,
                            std::uint64_t seed) {
  return inputs_from_files(model, files, read_input_files(model, files), bindings, seed);
}

TensorSet load_expected_outputs(const ModelInfo& model, const std::filesystem::path& dir) {
  return load_named_tensors(model.outputs, dir, "output");
}

std::vector<std::filesystem::path> data_set_folders(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir)) throw Error(fmt::format("{}: not a folder", dir.string()));
  if (holds_tensors(dir)) return {dir};
  std::vector<std::filesystem::path> folders;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_directory() && holds_tensors(entry.path())) folders.push_back(entry.path());
  }
  if (folders.empty()) {
    throw Error(fmt::format("{}: no .pb or .npy tensor files here or in its subfolders", dir.string()));
  }
  return sorted_by_number(std::move(folders));
}

DataSet load_data_set(const ModelInfo& model, const std::filesystem::path& folder, std::string name) {
  DataSet set;
  set.name = std::move(name);
  set.inputs = load_named_tensors(model.inputs, folder, "input");
  try {
    check_inputs(model, set.inputs);
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", folder.string(), e.what()));
  }
  set.expected = load_expected_outputs(model, folder);
  return set;
}

std::vector<DataSet> load_data_sets(const ModelInfo& model, const std::filesystem::path& dir) {
  std::vector<DataSet> sets;
  for (const auto& folder : data_set_folders(dir)) {
    sets.push_back(load_data_set(model, folder, folder == dir ? "" : folder.filename().string()));
  }
  return sets;
}

}  // namespace onnxpool
