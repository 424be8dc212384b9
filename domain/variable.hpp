#pragma once
// Prefect's variables: named JSON values the flows read at run time (`Variable.get("name")`). The rules of
// Prefect 3.9.1's VariableCreate / VariableUpdate (prefect/types/names.py, prefect/types/__init__.py) as pure
// checks; the http layer reads the body, these decide, persistence/variable_store keeps the rows.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "domain/field_problem.hpp"
#include "domain/time.hpp"
#include "domain/uuid.hpp"

namespace osprey {

using variable_id = typed_id<struct variable_tag>;

/// One variable as stored. `value` is any JSON (null included).
struct variable {
  variable_id id;
  timestamp created;
  timestamp updated;
  std::string name;
  nlohmann::json value;
  std::vector<std::string> tags;
};

/// MAX_VARIABLE_NAME_LENGTH: characters (code points) in a name.
inline constexpr std::size_t max_variable_name_length = 255;
/// MAX_VARIABLE_VALUE_LENGTH: a value's compact JSON text may be at most this many bytes (Prefect refuses
/// `len(orjson.dumps(value)) > 5000`, saying "less than 5000 characters"). A null value is never too long.
inline constexpr std::size_t max_variable_value_length = 5000;

/// Prefect's VariableName: only a-z, 0-9, '-' and '_' (the empty name passes, as in Prefect), then at most
/// max_variable_name_length characters. The problem's field is "name".
std::optional<field_problem> check_variable_name(const std::string& name);

/// Prefect's StrictVariableValue size check on the value's compact JSON text. The problem's field is "value".
std::optional<field_problem> check_variable_value(const nlohmann::json& value);

}  // namespace osprey
