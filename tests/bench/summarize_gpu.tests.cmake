if(ONNXPOOL_SANITIZE OR NOT TARGET onnxpool_cli)
  return()
endif()
# bench/summarize_gpu.py turns gpu-check.sh's results into GPU_SUMMARY.md; its test also reads what the
# real `onnxpool bench` writes, so a JSON change the summarizer misses fails here rather than after a
# GPU run. Standard library only: any python3 does.
find_program(ONNXPOOL_SUMMARY_PYTHON NAMES python3 REQUIRED)
add_test(NAME bench.summarize_gpu
  COMMAND ${ONNXPOOL_SUMMARY_PYTHON} ${PROJECT_SOURCE_DIR}/bench/summarize_gpu_test.py
          $<TARGET_FILE:onnxpool_cli> ${ONNXPOOL_MODEL_DIR})
set_tests_properties(bench.summarize_gpu PROPERTIES LABELS bench TIMEOUT 300)
