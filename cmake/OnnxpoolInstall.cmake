# `cmake --install` gives a relocatable tree:
#   bin/onnxpool                 finds lib/ through RPATH $ORIGIN/../lib
#   lib/libonnxpool.so*          finds its neighbours through RPATH $ORIGIN
#   lib/libonnxruntime.so*       ONNX Runtime (and, with GPU support, its provider libraries)
#   lib/<Debian libraries the binaries link> (protobuf, onnx_proto, fmt) so the tree runs on a machine
#                                without them (the GPU machine), system C/C++ runtimes excepted
#   include/onnxpool/, include/onnxruntime/
#   lib/cmake/onnxpool/          package config: find_package(onnxpool) -> onnxpool::onnxpool
include(CMakePackageConfigHelpers)

set_target_properties(onnxpool PROPERTIES INSTALL_RPATH "$ORIGIN")
set(_install_targets onnxpool)
if(TARGET onnxpool_cli)
  list(APPEND _install_targets onnxpool_cli)
endif()

install(TARGETS ${_install_targets} EXPORT onnxpoolTargets
  RUNTIME_DEPENDENCY_SET onnxpool_runtime_deps
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/onnxpool DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

# ONNX Runtime itself: the library with its SONAME link, the provider libraries beside it, headers.
get_target_property(_ort_library onnxruntime::onnxruntime IMPORTED_LOCATION)
get_target_property(_ort_include onnxruntime::onnxruntime INTERFACE_INCLUDE_DIRECTORIES)
get_filename_component(_ort_libdir "${_ort_library}" DIRECTORY)
file(GLOB _ort_libs "${_ort_libdir}/libonnxruntime*.so*")
install(FILES ${_ort_libs} DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY "${_ort_include}/" DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/onnxruntime FILES_MATCHING PATTERN "*.h")

# The Debian shared libraries our binaries link, except what every Linux has (and must not be mixed).
install(RUNTIME_DEPENDENCY_SET onnxpool_runtime_deps
  PRE_EXCLUDE_REGEXES "^libonnxruntime" "^libc\\.so" "^libm\\.so" "^libdl\\.so" "^librt\\.so" "^libpthread\\.so"
                      "^ld-linux" "^libstdc\\+\\+" "^libgcc_s" "^linux-vdso"
  POST_EXCLUDE_REGEXES ".*/libonnxruntime[^/]*$"
  DIRECTORIES "${_ort_libdir}"
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})

install(EXPORT onnxpoolTargets NAMESPACE onnxpool:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/onnxpool)
configure_package_config_file(cmake/onnxpoolConfig.cmake.in "${PROJECT_BINARY_DIR}/onnxpoolConfig.cmake"
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/onnxpool)
write_basic_package_version_file("${PROJECT_BINARY_DIR}/onnxpoolConfigVersion.cmake" COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/onnxpoolConfig.cmake" "${PROJECT_BINARY_DIR}/onnxpoolConfigVersion.cmake"
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/onnxpool)
