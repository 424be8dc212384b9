// What a resume checks before it proposes (see actors/flow_runs.hpp).
#include "actors/flow_runs.hpp"
#include "domain/flow_run_input.hpp"
#include "persistence/flow_run_input_store.hpp"
#include "persistence/flow_run_store.hpp"
#include "persistence/variable_store.hpp"

namespace osprey::actors {

std::optional<transition_call::checked_input> check_resume_input(persistence::sql_connection& c, const flow_run_id& run,
                                                                 const nlohmann::json& run_input) {
  auto found = persistence::find_flow_run(c, run);
  if (!found || !found->state || found->state->type != state_type::paused) return std::nullopt;
  auto keyset = run_input_keyset(*found->state);
  if (!keyset) return std::nullopt;
  std::optional<std::string> schema;
  if (auto key = keyset->find("schema"); key != keyset->end() && key->is_string())
    if (auto row = persistence::find_flow_run_input(c, run, key->get<std::string>())) schema = row->value;
  variable_lookup lookup = [&c](const std::string& name) -> std::optional<nlohmann::json> {
    if (auto v = persistence::find_variable_by_name(c, name)) return v->value;
    return std::nullopt;
  };
  return transition_call::checked_input{*keyset, check_run_input(run_input, schema, lookup)};
}

}  // namespace osprey::actors
