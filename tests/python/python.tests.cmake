# The Python package's pytest suite (tests/python/test_*.py), run against the build tree's package.
if(TARGET onnxpool_python)
  add_test(NAME python.pytest
    COMMAND ${Python_EXECUTABLE} -m pytest -q -p no:cacheprovider "${CMAKE_CURRENT_LIST_DIR}")
  set_tests_properties(python.pytest PROPERTIES
    ENVIRONMENT "PYTHONPATH=${PROJECT_BINARY_DIR}/python;ONNXPOOL_MODEL_DIR=${ONNXPOOL_MODEL_DIR}"
    LABELS python TIMEOUT 600)
endif()
