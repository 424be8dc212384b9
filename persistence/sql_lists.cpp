#include "persistence/sql_lists.hpp"

#include <nlohmann/json.hpp>

namespace osprey::persistence {

sql_value list_parameter(dialect d, const std::vector<std::string>& values) {
  if (d == dialect::sqlite) return text(nlohmann::json(values).dump());
  // Every element quoted, with `"` and `\` escaped: the array literal's own syntax, whatever the text holds.
  std::string literal = "{";
  for (const auto& v : values) {
    if (literal.size() > 1) literal += ',';
    literal += '"';
    for (char ch : v) {
      if (ch == '"' || ch == '\\') literal += '\\';
      literal += ch;
    }
    literal += '"';
  }
  return text(literal + "}");
}

std::string in_list(dialect d, const std::string& column, const std::string& placeholder, const char* pg_type,
                    bool negate, const std::string& alias) {
  if (d == dialect::postgresql) {
    const auto any = column + " = ANY(CAST(" + placeholder + " AS " + pg_type + "[]))";
    return negate ? "NOT (" + any + ")" : any;
  }
  return column + (negate ? " NOT IN " : " IN ") + "(SELECT " + alias + ".value FROM json_each(" + placeholder +
         ") AS " + alias + ")";
}

}  // namespace osprey::persistence
