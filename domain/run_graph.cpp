#include "domain/run_graph.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace osprey {

std::vector<graph_node> flow_run_graph_nodes(const std::vector<graph_row>& rows, timestamp since) {
  struct pending {
    graph_node node;
    std::vector<std::pair<uuid, bool>> inputs;  ///< (referenced id, is an encapsulating parent)
  };
  std::vector<pending> all;
  for (const auto& r : rows) {
    const auto start = r.subflow_id ? (r.subflow_start ? r.subflow_start : r.subflow_expected_start)
                                    : (r.task_start ? r.task_start : r.task_expected_start);
    const auto fallback_start = r.task_start ? r.task_start : r.task_expected_start;
    const auto chosen_start = start ? start : fallback_start;
    if (!chosen_start) continue;
    pending p;
    p.node.kind = r.subflow_id ? "flow-run" : "task-run";
    p.node.id = r.subflow_id ? *r.subflow_id : r.task_run_id;
    p.node.label = r.subflow_id ? r.subflow_label : r.task_run_name;
    const auto type = r.subflow_id && r.subflow_state ? r.subflow_state : r.task_state;
    p.node.type = type.value_or(state_type::pending);
    p.node.start_time = *chosen_start;
    p.node.end_time = r.subflow_end ? r.subflow_end : r.task_end;
    if (!p.node.end_time && r.task_state == state_type::completed) p.node.end_time = r.task_expected_start;
    if (r.task_inputs.is_object())
      for (const auto& [key, arguments] : r.task_inputs.items()) {
        if (!arguments.is_array()) continue;
        for (const auto& argument : arguments) {
          if (!argument.is_object() || !argument.contains("id") || !argument["id"].is_string()) continue;
          if (auto id = uuid::parse(argument["id"].get<std::string>()))
            p.inputs.emplace_back(*id, key == "__parents__");
        }
      }
    all.push_back(std::move(p));
  }
  std::map<uuid, std::size_t> index;
  for (std::size_t i = 0; i < all.size(); ++i) index.emplace(all[i].node.id, i);
  for (auto& p : all) {
    std::set<uuid> seen_parents, seen_encapsulating;
    for (const auto& [id, encapsulating] : p.inputs) {
      const auto it = index.find(id);
      if (it == index.end()) continue;
      if (encapsulating) {
        if (seen_encapsulating.insert(id).second) p.node.encapsulating.push_back(id);
      } else if (seen_parents.insert(id).second) {
        p.node.parents.push_back(id);
        all[it->second].node.children.push_back(p.node.id);
      }
    }
  }
  std::vector<graph_node> out;
  for (auto& p : all)
    if (!p.node.end_time || *p.node.end_time >= since) out.push_back(std::move(p.node));
  std::stable_sort(out.begin(), out.end(), [](const graph_node& a, const graph_node& b) {
    if (a.start_time != b.start_time) return a.start_time < b.start_time;
    return a.end_time < b.end_time;
  });
  return out;
}

}  // namespace osprey
