# Finds ONNX Runtime and defines the imported target onnxruntime::onnxruntime.
# Looked for, in order:
#   1. ONNXRUNTIME_ROOT (CMake or environment variable): a tree with include/ and lib/
#      (what scripts/setup.sh prints, or an unpacked official release);
#   2. an installed package config (onnxruntimeConfig.cmake, e.g. from a source build's install);
#   3. the setup script's default cache, ~/.cache/onnxpool/onnxruntime-1.29.0.
if(TARGET onnxruntime::onnxruntime)
  set(ONNXRuntime_FOUND TRUE)
  return()
endif()

if(NOT ONNXRUNTIME_ROOT AND DEFINED ENV{ONNXRUNTIME_ROOT})
  set(ONNXRUNTIME_ROOT "$ENV{ONNXRUNTIME_ROOT}")
endif()

if(NOT ONNXRUNTIME_ROOT)
  find_package(onnxruntime CONFIG QUIET)
  if(TARGET onnxruntime::onnxruntime)
    set(ONNXRuntime_FOUND TRUE)
    message(STATUS "ONNX Runtime: package config ${onnxruntime_DIR}")
    return()
  endif()
  set(_ort_cache "$ENV{ONNXPOOL_CACHE}")
  if(NOT _ort_cache)
    set(_ort_cache "$ENV{HOME}/.cache/onnxpool")
  endif()
  set(ONNXRUNTIME_ROOT "${_ort_cache}/onnxruntime-1.29.0")
endif()

find_path(ONNXRuntime_INCLUDE_DIR onnxruntime_cxx_api.h
  PATHS "${ONNXRUNTIME_ROOT}/include" "${ONNXRUNTIME_ROOT}/include/onnxruntime" NO_DEFAULT_PATH)
find_library(ONNXRuntime_LIBRARY NAMES onnxruntime PATHS "${ONNXRUNTIME_ROOT}/lib" NO_DEFAULT_PATH)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(ONNXRuntime
  REQUIRED_VARS ONNXRuntime_LIBRARY ONNXRuntime_INCLUDE_DIR
  REASON_FAILURE_MESSAGE "run scripts/setup.sh, or pass -DONNXRUNTIME_ROOT=<dir with include/ and lib/>")

if(ONNXRuntime_FOUND)
  add_library(onnxruntime::onnxruntime SHARED IMPORTED)
  set_target_properties(onnxruntime::onnxruntime PROPERTIES
    IMPORTED_LOCATION "${ONNXRuntime_LIBRARY}"
    IMPORTED_SONAME "libonnxruntime.so.1"
    INTERFACE_INCLUDE_DIRECTORIES "${ONNXRuntime_INCLUDE_DIR}")
  get_filename_component(ONNXRuntime_LIBRARY_DIR "${ONNXRuntime_LIBRARY}" DIRECTORY)
endif()
