# Every dependency comes from Debian 12's packages (see scripts/install-deps.sh).
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED)               # Boost::headers (Beast, Asio, UUID)
find_package(nlohmann_json 3.10 REQUIRED)
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
