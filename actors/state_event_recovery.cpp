// Restoring flow-run state events lost in a crash (see the header).
#include "actors/state_event_recovery.hpp"

#include <caf/send.hpp>

#include "persistence/database_calls.hpp"
#include "persistence/flow_run_store.hpp"
#include "persistence/flow_store.hpp"

namespace osprey::actors {
namespace {

/// How far before the newest stored event a state may have been written and still miss its event.
constexpr std::chrono::minutes lost_event_margin{1};
/// At most this many states are restored at one start.
constexpr std::int64_t restore_limit = 100000;

struct lost_state {
  state_change change;
  flow_run_event_info info;
};

std::vector<lost_state> find_lost_states(persistence::sql_connection& c) {
  std::vector<lost_state> out;
  for (const auto& [state, run] : persistence::states_without_events(c, lost_event_margin, restore_limit)) {
    auto found = persistence::find_flow_run(c, run);
    if (!found) continue;
    const auto history = persistence::flow_run_state_history(c, run);
    for (std::size_t i = 0; i < history.size(); ++i) {
      if (history[i].id != state) continue;
      lost_state l;
      l.change = {run, i > 0 ? std::optional(history[i - 1]) : std::nullopt, history[i]};
      l.info.name = found->name;
      l.info.run_count = static_cast<int>(found->run_count);
      l.info.flow = found->flow;
      if (auto f = persistence::find_flow(c, found->flow)) l.info.flow_name = f->name;
      l.info.deployment = found->deployment_id;
      l.info.tags = found->tags;
      out.push_back(std::move(l));
    }
  }
  return out;
}

}  // namespace

void restore_lost_state_events(persistence::database db, const event_bus_actor& bus,
                               std::function<void(result<std::size_t>)> done) {
  persistence::read_value(db, find_lost_states, [bus, done = std::move(done)](result<std::vector<lost_state>> lost) {
    if (!lost) return done(lost.error());
    for (auto& l : *lost) caf::anon_send(bus, publish_atom_v, std::move(l.change), l.info);
    done(lost->size());
  });
}

}  // namespace osprey::actors
