#include "domain/block.hpp"

#include <algorithm>
#include <cctype>

namespace osprey {

std::optional<field_problem> check_name(const std::string& field, const std::string& value) {
  if (!value.empty() && value.find_first_of("/%&><") == std::string::npos) return std::nullopt;
  return field_problem{field, "String should match pattern '^[^/%&><]+$'", "string_pattern_mismatch"};
}

namespace {

bool dashes_only(const std::string& value) {
  return std::all_of(value.begin(), value.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

}  // namespace

std::optional<field_problem> check_block_type_slug(const std::string& value) {
  if (dashes_only(value)) return std::nullopt;
  return field_problem{"slug", "Value error, Block type slug must only contain lowercase letters, numbers, and dashes.",
                       "value_error"};
}

std::optional<field_problem> check_block_document_name(const std::string& value) {
  if (auto problem = check_name("name", value)) return problem;
  if (dashes_only(value)) return std::nullopt;
  return field_problem{"name",
                       "Value error, Block document name must only contain lowercase letters, numbers, and dashes.",
                       "value_error"};
}

bool is_reserved_block_type_name(const std::string& name) {
  static const std::string reserved = "prefect";
  if (name.size() < reserved.size()) return false;
  for (std::size_t i = 0; i < reserved.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(name[i])) != reserved[i]) return false;
  return true;
}

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<std::string> secret_fields_of(const nlohmann::json& schema_fields) {
  std::vector<std::string> out;
  if (!schema_fields.is_object()) return out;
  auto it = schema_fields.find("secret_fields");
  if (it == schema_fields.end() || !it->is_array()) return out;
  for (const auto& f : *it)
    if (f.is_string()) out.push_back(f.get<std::string>());
  return out;
}

result<std::pair<nlohmann::json, std::vector<block_reference>>> split_references(const nlohmann::json& data) {
  nlohmann::json plain = nlohmann::json::object();
  std::vector<block_reference> refs;
  for (const auto& [key, value] : data.items()) {
    if (!value.is_object() || !value.contains("$ref")) {
      plain[key] = value;
      continue;
    }
    const auto& ref = value["$ref"];
    const auto target = ref.is_object() && ref.contains("block_document_id") && ref["block_document_id"].is_string()
                            ? uuid::parse(ref["block_document_id"].get<std::string>())
                            : std::nullopt;
    if (!target)
      return status(errc::invalid_argument, "Received block reference without a block_document_id in key " + key);
    refs.push_back({key, block_document_id{*target}});
  }
  return std::make_pair(std::move(plain), std::move(refs));
}

}  // namespace osprey
