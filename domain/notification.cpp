#include "domain/notification.hpp"

#include <algorithm>
#include <cstdio>

#include "domain/glob.hpp"

namespace osprey {
namespace {

bool contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

/// An empty criterion matches everything; otherwise some entry must satisfy `test`.
template <class Test>
bool any_or_empty(const std::vector<std::string>& list, Test test) {
  return list.empty() || std::any_of(list.begin(), list.end(), test);
}

bool is_placeholder(std::string_view name) {
  const auto& known = template_placeholders();
  return std::binary_search(known.begin(), known.end(), name);
}

std::string allowed_list() {
  std::string out;
  for (const auto& name : template_placeholders()) out += (out.empty() ? "" : ", ") + name;
  return out;
}

/// Python's str(datetime) for an aware UTC value; the fraction is omitted when zero, as Python does.
std::string python_timestamp(timestamp t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<microseconds> hms{t - day};
  char buf[48];
  const int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d:%02d", static_cast<int>(ymd.year()),
                              static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                              static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                              static_cast<int>(hms.seconds().count()));
  std::string out(buf, static_cast<std::size_t>(n));
  if (const auto micros = hms.subseconds().count(); micros != 0) {
    std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(micros));
    out += buf;
  }
  return out + "+00:00";
}

/// One step of scanning a template: literal text, or a `{name}` placeholder.
struct piece {
  enum class kind { text, placeholder, error } what = kind::text;
  std::string_view text;  ///< the literal, the placeholder name, or the offending text for errors
  std::size_t next = 0;   ///< where the following piece starts
};

/// Reads the piece starting at `pos` (which is < tmpl.size()). `{{` and `}}` read as one literal brace.
piece next_piece(std::string_view tmpl, std::size_t pos) {
  const char c = tmpl[pos];
  if ((c == '{' || c == '}') && pos + 1 < tmpl.size() && tmpl[pos + 1] == c) {
    return {piece::kind::text, tmpl.substr(pos, 1), pos + 2};
  }
  if (c == '}') return {piece::kind::error, tmpl.substr(pos, 1), pos + 1};
  if (c == '{') {
    const auto close = tmpl.find_first_of("{}", pos + 1);
    if (close == std::string_view::npos || tmpl[close] == '{') return {piece::kind::error, "{", pos + 1};
    return {piece::kind::placeholder, tmpl.substr(pos + 1, close - pos - 1), close + 1};
  }
  const auto brace = std::min(tmpl.find_first_of("{}", pos), tmpl.size());
  return {piece::kind::text, tmpl.substr(pos, brace - pos), brace};
}

}  // namespace

bool matches(const state_match& match, const notification_facts& facts) {
  const auto& state = facts.state;
  const auto has_tag = [&](const std::string& tag) { return contains(facts.tags, tag); };
  return any_or_empty(match.state_names, [&](const std::string& name) { return name == state.name; }) &&
         any_or_empty(match.state_types, [&](const std::string& type) { return type == to_string(state.type); }) &&
         any_or_empty(match.tags_any, has_tag) &&
         std::none_of(match.tags_none.begin(), match.tags_none.end(), has_tag) &&
         any_or_empty(match.flows, [&](const std::string& glob) { return glob_match(glob, facts.flow_name); }) &&
         any_or_empty(match.deployments, [&](const std::string& glob) {
           return !facts.deployment_name.empty() && glob_match(glob, facts.deployment_name);
         });
}

const char* to_string(notification_kind kind) noexcept {
  switch (kind) {
    case notification_kind::trigger: return "trigger";
    case notification_kind::resolve: return "resolve";
    case notification_kind::test: return "test";
    case notification_kind::action: return "action";
  }
  return "trigger";  // unreachable: every enumerator is handled above
}

std::optional<notification_kind> parse_notification_kind(std::string_view text) {
  for (auto kind :
       {notification_kind::trigger, notification_kind::resolve, notification_kind::test, notification_kind::action})
    if (text == to_string(kind)) return kind;
  return std::nullopt;
}

notification_decision decide_notification(const notification_policy& policy, const notification_facts& facts) {
  return {matches(policy.match, facts), contains(policy.resolve_on, facts.state.name)};
}

bool sends_resolve(const notification_policy& policy, bool channel_closes_alerts) {
  return channel_closes_alerts || policy.send_resolved;
}

std::string dedup_key_for(const notification_policy& policy, const notification_facts& facts) {
  if (policy.scope == dedup_scope::deployment && facts.deployment_id)
    return "osprey/" + policy.name + "/deployment/" + facts.deployment_id->to_string();
  return "osprey/" + policy.name + "/" + facts.run.to_string();
}

notification_text render_notification(const notification_policy& policy, const nlohmann::json& values) {
  return {
      render_template(default_title_template(), values),
      render_template(policy.message_template ? std::string_view(*policy.message_template) : default_message_template(),
                      values)};
}

const std::vector<std::string>& template_placeholders() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out = {// Prefect 2's FLOW_RUN_NOTIFICATION_TEMPLATE_KWARGS.
                                    "flow_run_notification_policy_id", "flow_id", "flow_name", "flow_run_url",
                                    "flow_run_id", "flow_run_name", "flow_run_parameters", "flow_run_state_type",
                                    "flow_run_state_name", "flow_run_state_timestamp", "flow_run_state_message",
                                    // Osprey's additions (PrefectHQ/prefect#8598, #9291 asked for them).
                                    "deployment_name", "deployment_id", "flow_run_tags", "policy_name"};
    std::sort(out.begin(), out.end());
    return out;
  }();
  return names;
}

std::string_view default_message_template() {
  return "Flow run {flow_name}/{flow_run_name} entered state `{flow_run_state_name}` at {flow_run_state_timestamp}.\n"
         "\n"
         "Flow ID: {flow_id}\n"
         "Flow run ID: {flow_run_id}\n"
         "Flow run URL: {flow_run_url}\n"
         "State message: {flow_run_state_message}";
}

std::string_view default_title_template() {
  return "Flow run {flow_name}/{flow_run_name} entered state {flow_run_state_name}";
}

status validate_template(std::string_view tmpl) {
  for (std::size_t pos = 0; pos < tmpl.size();) {
    const auto p = next_piece(tmpl, pos);
    if (p.what == piece::kind::error) {
      return {errc::invalid_argument, "unbalanced '" + std::string(p.text) + "' at offset " + std::to_string(pos) +
                                          " (write '{{' or '}}' for a literal brace, '{name}' for a placeholder)"};
    }
    if (p.what == piece::kind::placeholder && p.text.empty()) {
      return {errc::invalid_argument,
              "empty placeholder '{}' (name one of: " + allowed_list() + "; write '{{}}' for literal braces)"};
    }
    if (p.what == piece::kind::placeholder && !is_placeholder(p.text)) {
      return {errc::invalid_argument,
              "unknown placeholder '{" + std::string(p.text) + "}' (allowed: " + allowed_list() + ")"};
    }
    pos = p.next;
  }
  return status::ok();
}

nlohmann::json template_values(const notification_facts& facts, std::string_view policy_name, std::string_view ui_url) {
  std::string base(ui_url.empty() ? std::string_view("http://ephemeral-prefect/api") : ui_url);
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string tags;
  for (const auto& tag : facts.tags) tags += (tags.empty() ? "" : ", ") + tag;
  const auto run_id = facts.run.to_string();
  return {
      {"flow_run_notification_policy_id", std::string(policy_name)},
      {"policy_name", std::string(policy_name)},
      {"flow_id", facts.flow.to_string()},
      {"flow_name", facts.flow_name},
      {"flow_run_url", base + "/flow-runs/flow-run/" + run_id},
      {"flow_run_id", run_id},
      {"flow_run_name", facts.run_name},
      {"flow_run_parameters", facts.parameters.dump()},
      {"flow_run_state_type", to_string(facts.state.type)},
      {"flow_run_state_name", facts.state.name},
      {"flow_run_state_timestamp", python_timestamp(facts.state.at)},
      {"flow_run_state_message", facts.state.message.value_or("")},
      {"deployment_name", facts.deployment_name},
      {"deployment_id", facts.deployment_id ? facts.deployment_id->to_string() : std::string()},
      {"flow_run_tags", tags},
  };
}

std::string render_template(std::string_view tmpl, const nlohmann::json& values) {
  std::string out;
  for (std::size_t pos = 0; pos < tmpl.size();) {
    const auto p = next_piece(tmpl, pos);
    const auto written = tmpl.substr(pos, p.next - pos);
    if (p.what != piece::kind::placeholder) {
      out += p.what == piece::kind::text ? p.text : written;
    } else if (const auto it = values.find(std::string(p.text)); it != values.end()) {
      out += it->is_string() ? it->get<std::string>() : it->dump();
    } else {
      out += written;  // unknown: a validated template never has one
    }
    pos = p.next;
  }
  return out;
}

}  // namespace osprey
