#include "domain/artifact.hpp"

namespace osprey {

std::optional<field_problem> check_artifact_key(const std::string& key) {
  for (unsigned char c : key) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!allowed)
      return field_problem{"key", "Value error, Artifact key must only contain lowercase letters, numbers, and dashes.",
                           "value_error"};
  }
  return std::nullopt;
}

std::optional<field_problem> normalise_artifact_metadata(nlohmann::json& metadata) {
  if (metadata.is_null()) return std::nullopt;
  if (!metadata.is_object()) return field_problem{"metadata_", "Input should be a valid dictionary", "dict_type"};
  for (auto& [key, value] : metadata.items()) {
    if (!value.is_string()) return field_problem{"metadata_." + key, "Input should be a valid string", "string_type"};
    // Cut after max_artifact_metadata_length characters (code points), never inside one.
    const auto& text = value.get_ref<const std::string&>();
    std::size_t seen = 0, cut = 0;
    for (; cut < text.size(); ++cut) {
      if ((static_cast<unsigned char>(text[cut]) & 0xC0U) == 0x80U) continue;
      if (seen == max_artifact_metadata_length) break;
      ++seen;
    }
    if (cut < text.size()) value = text.substr(0, cut) + "...";
  }
  return std::nullopt;
}

}  // namespace osprey
