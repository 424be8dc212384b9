#include "domain/variable.hpp"

namespace osprey {
namespace {

std::size_t code_points(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0U) != 0x80U ? 1 : 0;
  return n;
}

}  // namespace

std::optional<field_problem> check_variable_name(const std::string& name) {
  // Pydantic runs the pattern check before the length check here; the messages follow that order.
  for (unsigned char c : name) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!allowed)
      return field_problem{"name",
                           "Value error, Variable name must only contain lowercase letters, numbers, and dashes or "
                           "underscores.",
                           "value_error"};
  }
  const auto length = code_points(name);
  if (length > max_variable_name_length)
    return field_problem{"name",
                         "Value should have at most " + std::to_string(max_variable_name_length) +
                             " items after validation, not " + std::to_string(length),
                         "too_long"};
  return std::nullopt;
}

std::optional<field_problem> check_variable_value(const nlohmann::json& value) {
  if (value.is_null()) return std::nullopt;
  // Bodies were parsed from valid UTF-8, so dumping cannot throw; compact and unescaped, as orjson writes it.
  if (value.dump().size() > max_variable_value_length)
    return field_problem{
        "value",
        "Value error, Variable value must be less than " + std::to_string(max_variable_value_length) + " characters",
        "value_error"};
  return std::nullopt;
}

}  // namespace osprey
