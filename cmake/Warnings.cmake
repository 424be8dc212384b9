# Warnings are errors in our own code; third-party headers are included as SYSTEM by their imported targets.
# (-Wnull-dereference is left out: at -O2 it fires inside Asio and libstdc++ after inlining.)
function(osprey_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Woverloaded-virtual -Werror)
  # GCC 12 reports false -Wrestrict errors inside libstdc++'s string code at -O2/-O3 (GCC bug 105329), and
  # false -Wmaybe-uninitialized on std::optional and nlohmann::json members after inlining (GCC bug 107138).
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-restrict -Wno-maybe-uninitialized)
  endif()
endfunction()

# osprey_module(NAME SOURCES ... DEPS ...): one folder's library target, osprey::NAME.
function(osprey_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(osprey_${name} STATIC ${ARG_SOURCES})
  add_library(osprey::${name} ALIAS osprey_${name})
  target_include_directories(osprey_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(osprey_${name} PUBLIC ${ARG_DEPS})
  osprey_warnings(osprey_${name})
endfunction()
