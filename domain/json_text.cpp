#include "domain/json_text.hpp"

namespace osprey {

bool holds_nul(const nlohmann::json& value) {
  if (value.is_string()) return value.get_ref<const std::string&>().find('\0') != std::string::npos;
  if (value.is_object()) {
    for (const auto& [key, item] : value.items())
      if (key.find('\0') != std::string::npos || holds_nul(item)) return true;
  }
  if (value.is_array()) {
    for (const auto& item : value)
      if (holds_nul(item)) return true;
  }
  return false;
}

}  // namespace osprey
