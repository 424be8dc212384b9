#include "domain/json_text.hpp"

#include <string>
#include <vector>

namespace osprey {

parsed_json parse_json(std::string_view text, std::size_t max_depth) {
  using event = nlohmann::json::parse_event_t;
  bool too_deep = false;
  // `depth` counts the containers around the event: 0 for the top-level value, so a container opened at
  // depth d is level d + 1. Once too deep, every later value is discarded too: nothing more is built while the
  // parser runs to the end of the text (iteratively, at a bit per open container).
  auto limit = [&too_deep, max_depth](int depth, event e, nlohmann::json&) {
    if (too_deep) return false;
    if ((e == event::object_start || e == event::array_start) && static_cast<std::size_t>(depth) >= max_depth) {
      too_deep = true;
      return false;
    }
    return true;
  };
  parsed_json out;
  out.value = nlohmann::json::parse(text.begin(), text.end(), limit, /*allow_exceptions=*/false);
  if (too_deep) {
    out.value = nlohmann::json::value_t::discarded;
    out.error = parsed_json::problem::too_deep;
  } else if (out.value.is_discarded()) {
    out.error = parsed_json::problem::syntax;
  }
  return out;
}

std::string too_deep_message(std::size_t max_depth) {
  return "JSON nested deeper than " + std::to_string(max_depth) + " levels is not accepted";
}

bool holds_nul(const nlohmann::json& value) {
  std::vector<const nlohmann::json*> pending{&value};
  while (!pending.empty()) {
    const nlohmann::json& v = *pending.back();
    pending.pop_back();
    if (v.is_string()) {
      if (v.get_ref<const std::string&>().find('\0') != std::string::npos) return true;
    } else if (v.is_object()) {
      for (const auto& [key, item] : v.items()) {
        if (key.find('\0') != std::string::npos) return true;
        pending.push_back(&item);
      }
    } else if (v.is_array()) {
      for (const auto& item : v) pending.push_back(&item);
    }
  }
  return false;
}

}  // namespace osprey
