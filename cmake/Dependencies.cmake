# Every dependency comes from Debian 12's packages (see scripts/install-deps.sh).
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED)               # Boost::headers (Beast, Asio, UUID)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(simdjson 3 REQUIRED)               # simdjson::simdjson: the fast path of parse_json (domain/json_text.cpp)
find_package(SQLiteCpp REQUIRED)                # target SQLiteCpp
find_package(yaml-cpp REQUIRED)                 # target yaml-cpp (0.7 has no namespaced alias)
find_package(CURL REQUIRED)
find_package(OpenSSL 3 REQUIRED)               # OpenSSL::Crypto: AES-256-GCM for block secrets, SHA-256
find_package(ZLIB REQUIRED)                     # ZLIB::ZLIB: gzip of the UI's static files
find_package(date REQUIRED)                     # date::date-tz: IANA time zones for schedules (system tzdata)
find_package(LibIcal REQUIRED)                  # target ical: RFC 5545 recurrence rules (RRule schedules)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PQXX REQUIRED IMPORTED_TARGET libpqxx)   # PkgConfig::PQXX

# CLI11 (header-only) gives subcommands, --help and validation for free.
find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
add_library(CLI11::CLI11 INTERFACE IMPORTED)
set_target_properties(CLI11::CLI11 PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${CLI11_INCLUDE_DIR}")

# CAF 0.17 ships neither a CMake config nor a pkg-config file: wrap it.
find_path(CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
find_library(CAF_CORE_LIBRARY caf_core REQUIRED)
add_library(CAF::core UNKNOWN IMPORTED)
set_target_properties(CAF::core PROPERTIES
  IMPORTED_LOCATION "${CAF_CORE_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}"
  INTERFACE_LINK_LIBRARIES Threads::Threads)

if(OSPREY_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()

# The osprey executable's allocator. Its HTTP, actor and database threads allocate and free across each other
# thousands of times per request batch; glibc's malloc took about a fifth of the server's instructions per flow
# run (docs/benchmarks.md, issue 12) and tcmalloc (libgoogle-perftools-dev) about a quarter of that. "system"
# keeps glibc's. The sanitizer and fuzz builds always keep the system allocator: they replace it themselves.
set(OSPREY_MALLOC "tcmalloc" CACHE STRING "Allocator linked into the osprey executable: tcmalloc or system")
set_property(CACHE OSPREY_MALLOC PROPERTY STRINGS tcmalloc system)
set(OSPREY_MALLOC_LIBRARY "")
if(OSPREY_MALLOC STREQUAL "tcmalloc" AND NOT OSPREY_SANITIZE AND NOT OSPREY_BUILD_FUZZ)
  find_library(OSPREY_TCMALLOC_LIBRARY tcmalloc_minimal)
  if(OSPREY_TCMALLOC_LIBRARY)
    set(OSPREY_MALLOC_LIBRARY ${OSPREY_TCMALLOC_LIBRARY})
  else()
    message(WARNING "tcmalloc_minimal not found (scripts/install-deps.sh installs libgoogle-perftools-dev): "
                    "the osprey executable uses glibc's malloc")
  endif()
elseif(NOT OSPREY_MALLOC STREQUAL "system" AND NOT OSPREY_MALLOC STREQUAL "tcmalloc")
  message(FATAL_ERROR "OSPREY_MALLOC must be tcmalloc or system, not ${OSPREY_MALLOC}")
endif()
