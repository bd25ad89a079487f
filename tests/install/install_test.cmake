# Script mode (see tests/install/install_test.cmake). Fails with a message naming the step.
function(step name)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${name} failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "${name}: ok ${out}")
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
step("install" ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${WORK_DIR}/prefix")
# Relocatable: move the installed tree before using it.
file(RENAME "${WORK_DIR}/prefix" "${WORK_DIR}/moved")
step("configure consumer" ${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${WORK_DIR}/build" -G Ninja
     "-DCMAKE_PREFIX_PATH=${WORK_DIR}/moved" -DCMAKE_BUILD_TYPE=Release)
step("build consumer" ${CMAKE_COMMAND} --build "${WORK_DIR}/build")
step("run consumer" "${WORK_DIR}/build/consumer" "${MODEL}")
step("run installed CLI" "${WORK_DIR}/moved/bin/onnxpool" run "${MODEL}" --random 4 --workers 2)
# The Python package from the moved tree: its module finds libonnxpool and ONNX Runtime through RPATH.
if(PYTHON)
  set(ENV{PYTHONPATH} "${WORK_DIR}/moved/lib/python3/dist-packages")
  step("import installed Python package" "${PYTHON}" "${CMAKE_CURRENT_LIST_DIR}/check_python.py" "${WORK_DIR}/moved"
       "${MODEL}")
endif()
