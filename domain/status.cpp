#include "domain/status.hpp"

namespace osprey {

const char* to_string(errc code) noexcept {
  switch (code) {
    case errc::ok: return "ok";
    case errc::invalid_argument: return "invalid_argument";
    case errc::not_found: return "not_found";
    case errc::conflict: return "conflict";
    case errc::unavailable: return "unavailable";
    case errc::timeout: return "timeout";
    case errc::failed_precondition: return "failed_precondition";
    case errc::internal: return "internal";
  }
  return "unknown";
}

}  // namespace osprey
