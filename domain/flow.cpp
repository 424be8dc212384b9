#include "domain/flow.hpp"

namespace osprey {

status validate_object_name(const std::string& name) {
  if (name.empty()) return {errc::invalid_argument, "name must not be empty"};
  static constexpr std::string_view banned = "/%&><";
  if (name.find_first_of(banned) != std::string::npos)
    return {errc::invalid_argument, "Name '" + name +
                                        "' contains an invalid character. Must not contain any of: "
                                        "['/', '%', '&', '>', '<']."};
  return status::ok();
}

}  // namespace osprey
