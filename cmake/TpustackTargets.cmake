# Shared target conventions: our own code builds with -Wall -Wextra -Werror; generated code does not.
include(GoogleTest)

function(tpustack_strict target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
endfunction()

# tpustack_library(name SOURCES ... LIBS ...): a static library of our code, headers found from the
# repository root (#include "common/topology/generation.h").
function(tpustack_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_LIBS})
  tpustack_strict(${name})
endfunction()

function(tpustack_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS})
  tpustack_strict(${name})
endfunction()

# tpustack_test(name SOURCES ... LIBS ... [LABELS ...] [TIMEOUT s] [RUN_SERIAL]): one GoogleTest binary, its tests
# registered one by one with CTest (RUN_SERIAL: never beside another test, for those that measure time).
function(tpustack_test name)
  cmake_parse_arguments(ARG "RUN_SERIAL" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  tpustack_executable(${name} SOURCES ${ARG_SOURCES} LIBS ${ARG_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    TPUSTACK_SOURCE_DIR="${PROJECT_SOURCE_DIR}" TPUSTACK_BINARY_DIR="${PROJECT_BINARY_DIR}")
  if(name IN_LIST TPUSTACK_CONCURRENCY_TESTS)
    list(APPEND ARG_LABELS concurrency)
  endif()
  set(serial "")
  if(ARG_RUN_SERIAL)
    set(serial RUN_SERIAL TRUE)
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT ${ARG_TIMEOUT} ${serial})
  # Labels after discovery, from a script of our own: gtest_discover_tests flattens a PROPERTIES value, so a second
  # label ("e2e;chaos") became a property name and `ctest -L chaos` found nothing.
  set(labels_script "${CMAKE_CURRENT_BINARY_DIR}/${name}_labels.cmake")
  file(WRITE "${labels_script}" "foreach(test IN LISTS ${name}_TESTS)\n"
    "  set_tests_properties(\"\${test}\" PROPERTIES LABELS \"${ARG_LABELS}\")\nendforeach()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${labels_script}")
endfunction()
