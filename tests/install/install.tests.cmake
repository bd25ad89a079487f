if(ONNXPOOL_SANITIZE)
  return()
endif()
# Installs the build into a fresh prefix, builds tests/consumer against it with find_package(onnxpool),
# and runs it from a copy of the tree elsewhere (the install must be relocatable).
add_test(NAME install.consumer
  COMMAND ${CMAKE_COMMAND} -DBUILD_DIR=${PROJECT_BINARY_DIR} -DSOURCE_DIR=${CMAKE_CURRENT_LIST_DIR}/consumer
          -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/install_test -DMODEL=${ONNXPOOL_MODEL_DIR}/add_mul.onnx
          "-DPYTHON=$<$<TARGET_EXISTS:onnxpool_python>:${Python_EXECUTABLE}>"
          -P ${CMAKE_CURRENT_LIST_DIR}/install_test.cmake)
set_tests_properties(install.consumer PROPERTIES LABELS install TIMEOUT 600)
