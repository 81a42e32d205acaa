# scitune_library(name): a static library of every .cc under src/<name>/ (tests and main excluded).
function(scitune_library name)
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.cc)
  list(FILTER srcs EXCLUDE REGEX "(_test\\.cc|/main\\.cc)$")
  add_library(scitune_${name} STATIC ${srcs})
  target_include_directories(scitune_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
endfunction()

# scitune_test(name LIBS ... LABELS ...): one GoogleTest binary from tests/<path>.cc, labelled for ctest -L.
function(scitune_test src)
  cmake_parse_arguments(T "" "" "LIBS;LABELS" ${ARGN})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(${name} PRIVATE
    SCITUNE_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    SCITUNE_SHARED_DIR="${PROJECT_SOURCE_DIR}/../shared")
  gtest_discover_tests(${name} PROPERTIES LABELS "${T_LABELS}" DISCOVERY_TIMEOUT 60)
endfunction()
