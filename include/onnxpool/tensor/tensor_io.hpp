#pragma once
// Tensor files: NumPy's .npy and ONNX's TensorProto (.pb, as in onnxruntime_perf_test's
// test_data_set_N/input_K.pb and the ONNX backend tests), plus the file helpers they share.
//
// Every parser treats its bytes as hostile: sizes declared by a header are checked against the bytes
// actually present before anything is allocated, and every problem is an Error whose one-line message
// starts with the source (the file name) and says what is wrong.
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "onnxpool/tensor/tensor.hpp"

namespace onnxpool {

// --- .npy ----------------------------------------------------------------------------------------
// Reads format versions 1.0, 2.0 and 3.0, C order only, dtypes |b1, i1 i2 i4 i8, u1 u2 u4 u8,
// f2 f4 f8, and unicode strings ('<U5': String tensors of UTF-8 text, trailing NULs dropped as numpy
// drops them). Big-endian arrays ('>f4') are accepted and converted to host order. Fortran order,
// bytes ('|S5'), objects ('|O'), structured, complex and datetime dtypes are rejected.
Tensor parse_npy(std::span<const std::byte> bytes, const std::string& source);
// What parse_npy reads before copying the data: the element type, the shape, the byte order and where
// the data starts, with the same checks (the data's size included). For a reader that takes parts of
// the data where they are (a memory-mapped file's rows).
struct NpyLayout {
  ElementType type = ElementType::Undefined;
  Shape shape;
  bool big_endian = false;
  std::size_t data_offset = 0;
  std::size_t string_width = 0;  // String ('<U n'): n UTF-32 code units per element
};
NpyLayout parse_npy_layout(std::span<const std::byte> bytes, const std::string& source);
// The `count` strings of a unicode layout's elements held in `data` (each 4 * string_width bytes), as
// UTF-8; Error naming `source` for a code unit that is no character.
std::vector<std::string> strings_from_npy(const NpyLayout& layout, std::span<const std::byte> data, std::size_t count,
                                          const std::string& source);
// Makes data copied from such a file host-ordered, and its bools 0 or 1, in place.
void npy_to_host(const NpyLayout& layout, std::span<std::byte> data);
Tensor read_npy(const std::filesystem::path& path);
// Writes what np.save writes: a v1.0 header padded to a multiple of 64 bytes (v2.0 only when the
// header would not fit v1.0's 16-bit length), little-endian data; strings as '<U n', n the longest
// element's characters (at least 1). bfloat16 throws Error: numpy has no such dtype.
std::vector<std::byte> encode_npy(const Tensor& tensor);
// The header alone (magic, version, dict, padding): what precedes the data of an array of this type and
// shape, for a writer that puts the rows in place itself. Throws Error as encode_npy does.
// For String, `string_width` is numpy's n in '<U n' (code units per element).
std::vector<std::byte> npy_header(ElementType type, const Shape& shape, std::size_t string_width = 0);
void write_npy(const std::filesystem::path& path, const Tensor& tensor);  // atomic

// --- ONNX TensorProto ----------------------------------------------------------------------------
// Accepts raw_data (little-endian) and the typed fields (float_data, int32_data, int64_data,
// double_data, uint64_data, string_data) as ONNX specifies them. Rejects external data, segments,
// UNDEFINED or unsupported data types, and data whose size disagrees with the declared dims.
NamedTensor parse_tensor_pb(std::span<const std::byte> bytes, const std::string& source);
NamedTensor read_tensor_pb(const std::filesystem::path& path);
// raw_data for numeric and bool tensors, string_data for strings.
std::vector<std::byte> encode_tensor_pb(const NamedTensor& tensor);
void write_tensor_pb(const std::filesystem::path& path, const NamedTensor& tensor);  // atomic

// By extension, .npy or .pb (any case). The name of a .npy tensor is the file's stem; so is the name
// of a .pb tensor whose TensorProto has no name.
NamedTensor read_tensor_file(const std::filesystem::path& path);

// --- files ---------------------------------------------------------------------------------------
// Writes to a temporary name in the same folder, then renames: no half-written file ever has the
// final name, and the temporary file is removed on failure. Throws Error naming the path and the OS
// reason (strerror), e.g. when the folder is missing or not writable.
void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes);
// The whole file. Throws Error such as "cannot open 'x': No such file or directory".
std::vector<std::byte> read_file_bytes(const std::filesystem::path& path);
// A file that must be a regular one of at most `max_bytes` (a tensor file, an image): refused before it
// is read otherwise, so a FIFO never blocks (opened non-blocking), /dev/zero or /dev/urandom never
// fill memory, and a file over `max_bytes` or over half of the machine's memory fails at once. Throws
// Error naming the path and the limit.
inline constexpr std::uint64_t kMaxItemFileBytes = std::uint64_t{4} << 30;  // 4 GiB for one item's file
std::vector<std::byte> read_regular_file(const std::filesystem::path& path,
                                         std::uint64_t max_bytes = kMaxItemFileBytes);

}  // namespace onnxpool
