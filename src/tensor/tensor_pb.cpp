// ONNX TensorProto files (.pb), read and written with ONNX's own protobuf classes (Debian's
// libonnx-dev). Data comes either as raw_data (little-endian bytes) or in the typed repeated fields,
// as onnx.proto specifies:
//   float_data   FLOAT
//   int32_data   INT32, INT16, INT8, UINT16, UINT8, BOOL, FLOAT16 and BFLOAT16 (the 16 bits of the value)
//   int64_data   INT64
//   double_data  DOUBLE
//   uint64_data  UINT32, UINT64
//   string_data  STRING
// The protobuf types stay in this file: the public header speaks Tensor only.
#include <bit>
#include <climits>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>
#include <type_traits>

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include "common/one_line.hpp"
#include "onnxpool/tensor/tensor_io.hpp"
#include "tensor/file_util.hpp"

namespace onnxpool {
namespace {

static_assert(std::endian::native == std::endian::little, "raw_data is little-endian, as is the host we assume");

using Proto = onnx::TensorProto;

// "FLOAT16" for a code ONNX knows, the number otherwise.
std::string data_type_name(int code) {
  if (onnx::TensorProto_DataType_IsValid(code)) {
    return onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(code));
  }
  return fmt::format("{}", code);
}

// The element types Tensor holds; the codes are ONNX's.
bool supported(int code) {
  switch (static_cast<ElementType>(code)) {
    case ElementType::Float:
    case ElementType::UInt8:
    case ElementType::Int8:
    case ElementType::UInt16:
    case ElementType::Int16:
    case ElementType::Int32:
    case ElementType::Int64:
    case ElementType::String:
    case ElementType::Bool:
    case ElementType::Float16:
    case ElementType::Double:
    case ElementType::UInt32:
    case ElementType::UInt64:
    case ElementType::BFloat16:
      return true;
    default:
      return false;
  }
}

enum class Field { Float, Int32, Int64, Double, UInt64, String };

Field field_for(ElementType type) {
  switch (type) {
    case ElementType::Float:
      return Field::Float;
    case ElementType::Int64:
      return Field::Int64;
    case ElementType::Double:
      return Field::Double;
    case ElementType::UInt32:
    case ElementType::UInt64:
      return Field::UInt64;
    case ElementType::String:
      return Field::String;
    default:
      return Field::Int32;
  }
}

std::string_view field_name(Field field) {
  switch (field) {
    case Field::Float:
      return "float_data";
    case Field::Int32:
      return "int32_data";
    case Field::Int64:
      return "int64_data";
    case Field::Double:
      return "double_data";
    case Field::UInt64:
      return "uint64_data";
    case Field::String:
      return "string_data";
  }
  return "?";
}

std::size_t field_size(const Proto& proto, Field field) {
  switch (field) {
    case Field::Float:
      return static_cast<std::size_t>(proto.float_data_size());
    case Field::Int32:
      return static_cast<std::size_t>(proto.int32_data_size());
    case Field::Int64:
      return static_cast<std::size_t>(proto.int64_data_size());
    case Field::Double:
      return static_cast<std::size_t>(proto.double_data_size());
    case Field::UInt64:
      return static_cast<std::size_t>(proto.uint64_data_size());
    case Field::String:
      return static_cast<std::size_t>(proto.string_data_size());
  }
  return 0;
}

// Typed values narrowed into the tensor's storage, each checked to fit its type.
template <class Out, class In>
void store_checked(const google::protobuf::RepeatedField<In>& values, Tensor& tensor, std::int64_t lowest,
                   std::uint64_t highest, std::string_view field, const std::string& source) {
  auto out = tensor.data<Out>();
  for (int i = 0; i < values.size(); ++i) {
    const In value = values.Get(i);
    bool fits = false;
    if constexpr (std::is_signed_v<In>) {
      fits = value < 0 ? static_cast<std::int64_t>(value) >= lowest : static_cast<std::uint64_t>(value) <= highest;
    } else {
      fits = static_cast<std::uint64_t>(value) <= highest;
    }
    if (!fits) {
      throw Error(fmt::format("{}: {}[{}] = {} is out of range for {}", source, field, i, value,
                              element_type_name(tensor.element_type())));
    }
    out[static_cast<std::size_t>(i)] = static_cast<Out>(value);
  }
}

template <class T>
void store_same(const google::protobuf::RepeatedField<T>& values, Tensor& tensor) {
  if (!values.empty())
    std::memcpy(tensor.raw_data(), values.data(), sizeof(T) * static_cast<std::size_t>(values.size()));
}

void store_typed(const Proto& proto, Tensor& tensor, const std::string& source) {
  const auto& i32 = proto.int32_data();
  switch (tensor.element_type()) {
    case ElementType::Float:
      return store_same(proto.float_data(), tensor);
    case ElementType::Double:
      return store_same(proto.double_data(), tensor);
    case ElementType::Int64:
      return store_same(proto.int64_data(), tensor);
    case ElementType::UInt64:
      return store_same(proto.uint64_data(), tensor);
    case ElementType::Int32:
      return store_same(i32, tensor);
    case ElementType::UInt32:
      return store_checked<std::uint32_t>(proto.uint64_data(), tensor, 0, UINT32_MAX, "uint64_data", source);
    case ElementType::Int16:
      return store_checked<std::int16_t>(i32, tensor, INT16_MIN, INT16_MAX, "int32_data", source);
    case ElementType::UInt16:
      return store_checked<std::uint16_t>(i32, tensor, 0, UINT16_MAX, "int32_data", source);
    case ElementType::Int8:
      return store_checked<std::int8_t>(i32, tensor, INT8_MIN, INT8_MAX, "int32_data", source);
    case ElementType::UInt8:
      return store_checked<std::uint8_t>(i32, tensor, 0, UINT8_MAX, "int32_data", source);
    case ElementType::Bool:
      return store_checked<std::uint8_t>(i32, tensor, 0, 1, "int32_data", source);
    case ElementType::Float16:
    case ElementType::BFloat16:
      // The value's 16 bits, as an unsigned number (some writers sign-extend them: accept that too).
      {
        auto out = tensor.data<std::uint16_t>();
        for (int i = 0; i < i32.size(); ++i) {
          const std::int32_t bits = i32.Get(i);
          if (bits < INT16_MIN || bits > static_cast<std::int32_t>(UINT16_MAX)) {
            throw Error(fmt::format("{}: int32_data[{}] = {} is not a 16-bit {} pattern", source, i, bits,
                                    element_type_name(tensor.element_type())));
          }
          out[static_cast<std::size_t>(i)] = static_cast<std::uint16_t>(bits & 0xFFFF);
        }
        return;
      }
    case ElementType::String: {
      auto& strings = tensor.strings();
      for (int i = 0; i < proto.string_data_size(); ++i) strings[static_cast<std::size_t>(i)] = proto.string_data(i);
      return;
    }
    default:
      throw Error(fmt::format("{}: unsupported element type", source));
  }
}

}  // namespace

NamedTensor parse_tensor_pb(std::span<const std::byte> bytes, const std::string& source) {
  if (bytes.size() > static_cast<std::size_t>(INT_MAX)) {
    throw Error(
        fmt::format("{}: {} bytes is too large for a TensorProto (protobuf's limit is 2 GiB)", source, bytes.size()));
  }
  Proto proto;
  if (!proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    throw Error(fmt::format("{}: not a valid TensorProto", source));
  }
  if (proto.data_location() == Proto::EXTERNAL || proto.external_data_size() > 0) {
    // The name is the file's: one_line keeps a newline in it from splitting the message.
    throw Error(one_line(fmt::format("{}: tensor '{}' keeps its data in an external file, which is not supported",
                                     source, proto.name())));
  }
  if (proto.has_segment()) throw Error(fmt::format("{}: segmented TensorProtos are not supported", source));
  const int code = proto.data_type();
  if (code == Proto::UNDEFINED) throw Error(fmt::format("{}: data_type is UNDEFINED (or missing)", source));
  if (!supported(code)) throw Error(fmt::format("{}: data_type {} is not supported", source, data_type_name(code)));
  const auto type = static_cast<ElementType>(code);

  const Shape shape(proto.dims().begin(), proto.dims().end());
  const std::size_t count = detail::checked_element_count(shape, source);
  const Field field = field_for(type);
  for (Field other : {Field::Float, Field::Int32, Field::Int64, Field::Double, Field::UInt64, Field::String}) {
    if (other != field && field_size(proto, other) != 0) {
      throw Error(fmt::format("{}: a {} tensor has {}, which its type does not use", source, data_type_name(code),
                              field_name(other)));
    }
  }

  // Every size is checked against the data present before the tensor is allocated.
  if (proto.has_raw_data()) {
    if (type == ElementType::String) throw Error(fmt::format("{}: a STRING tensor cannot use raw_data", source));
    if (field_size(proto, field) != 0) {
      throw Error(fmt::format("{}: the tensor has both raw_data and {}", source, field_name(field)));
    }
    const std::size_t need = detail::checked_byte_size(count, type, shape, source);
    if (proto.raw_data().size() != need) {
      throw Error(fmt::format("{}: declared shape {} needs {} bytes of raw_data, found {}", source,
                              shape_to_string(shape), need, proto.raw_data().size()));
    }
    Tensor tensor(type, shape);
    if (need != 0) std::memcpy(tensor.raw_data(), proto.raw_data().data(), need);
    if (type == ElementType::Bool) {
      for (auto& b : tensor.bytes()) b = b != std::byte{0} ? std::byte{1} : std::byte{0};  // Tensor's bools are 0/1
    }
    return {proto.name(), std::move(tensor)};
  }

  const std::size_t found = field_size(proto, field);
  if (found != count) {
    throw Error(fmt::format("{}: declared shape {} needs {} {} values, found {}{}", source, shape_to_string(shape),
                            count, field_name(field), found, found == 0 ? " (and no raw_data)" : ""));
  }
  Tensor tensor(type, shape);
  store_typed(proto, tensor, source);
  return {proto.name(), std::move(tensor)};
}

NamedTensor read_tensor_pb(const std::filesystem::path& path) {
  return parse_tensor_pb(read_regular_file(path), path.string());
}

std::vector<std::byte> encode_tensor_pb(const NamedTensor& named) {
  const Tensor& tensor = named.tensor;
  if (tensor.element_type() == ElementType::Undefined) {
    throw Error(fmt::format("cannot encode tensor '{}': it has no element type", named.name));
  }
  Proto proto;
  proto.set_name(named.name);
  for (auto dim : tensor.shape()) proto.add_dims(dim);
  proto.set_data_type(static_cast<int>(tensor.element_type()));
  if (tensor.element_type() == ElementType::String) {
    for (const auto& s : tensor.strings()) proto.add_string_data(s);
  } else {
    const auto data = tensor.bytes();
    proto.set_raw_data(data.empty() ? std::string()
                                    : std::string(reinterpret_cast<const char*>(data.data()), data.size()));
  }
  const std::string serialized = proto.SerializeAsString();
  const auto* begin = reinterpret_cast<const std::byte*>(serialized.data());
  return {begin, begin + serialized.size()};
}

void write_tensor_pb(const std::filesystem::path& path, const NamedTensor& tensor) {
  write_file_atomically(path, encode_tensor_pb(tensor));
}

NamedTensor read_tensor_file(const std::filesystem::path& path) {
  std::string extension = path.extension().string();
  for (auto& c : extension) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (extension == ".npy") return {path.stem().string(), read_npy(path)};
  if (extension == ".pb") {
    NamedTensor named = read_tensor_pb(path);
    if (named.name.empty()) named.name = path.stem().string();
    return named;
  }
  throw Error(fmt::format("{}: unknown tensor file type '{}' (expected .npy or .pb)", path.string(), extension));
}

}  // namespace onnxpool
