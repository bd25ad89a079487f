# ONNXPOOL_SANITIZE=thread   -> ThreadSanitizer (scheduler and pool tests)
# ONNXPOOL_SANITIZE=address  -> AddressSanitizer + UndefinedBehaviorSanitizer (tensor and file tests)
# ONNXPOOL_SANITIZE=fuzzer   -> libFuzzer targets of the parsers (tests/fuzz/), with ASan + UBSan; clang
#                               only (CC=clang CXX=clang++). The units are compiled with fuzzer-no-link;
#                               each target links libFuzzer itself (tests/fuzz/CMakeLists.txt).
if(ONNXPOOL_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -g -O1)
  add_link_options(-fsanitize=thread)
elseif(ONNXPOOL_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1)
  add_link_options(-fsanitize=address,undefined)
elseif(ONNXPOOL_SANITIZE STREQUAL "fuzzer")
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "ONNXPOOL_SANITIZE=fuzzer needs clang (libFuzzer): configure with CXX=clang++")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
                      -g -O1)
  add_link_options(-fsanitize=address,undefined)
elseif(NOT ONNXPOOL_SANITIZE STREQUAL "")
  message(FATAL_ERROR "ONNXPOOL_SANITIZE must be '', 'thread', 'address' or 'fuzzer', not '${ONNXPOOL_SANITIZE}'")
endif()
