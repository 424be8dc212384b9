#include "persistence/state_columns.hpp"

namespace osprey::persistence {

run_state state_from_columns(const sql_row& row, std::size_t first) {
  auto json_at = [&](std::size_t i, nlohmann::json fallback) {
    if (row.is_null(i)) return fallback;
    auto j = nlohmann::json::parse(row.text(i), nullptr, false);
    return j.is_discarded() ? fallback : j;
  };
  run_state s;
  s.id = state_id{row.id(first)};
  s.type = parse_state_type(row.text(first + 1)).value_or(state_type::pending);
  s.name = row.text(first + 2);
  s.at = row.time(first + 3);
  if (!row.is_null(first + 4)) s.message = row.text(first + 4);
  s.details = json_at(first + 5, nlohmann::json::object());
  if (!s.details.is_object()) s.details = nlohmann::json::object();
  s.data = json_at(first + 6, nullptr);
  return s;
}

}  // namespace osprey::persistence
