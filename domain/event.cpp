#include "domain/event.hpp"

#include "domain/glob.hpp"
#include "domain/json_text.hpp"

#include <algorithm>
#include <chrono>
#include <set>

namespace osprey {
namespace {

using nlohmann::json;

status invalid(const std::string& where, const std::string& what) {
  return {errc::invalid_argument, where + ": " + what};
}

/// Length in code points, as Python counts `len(str)` (continuation bytes are not counted).
std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

status read_uuid(const json& v, const std::string& where, uuid& out) {
  if (!v.is_string()) return invalid(where, "Input should be a valid UUID string");
  auto parsed = uuid::parse(v.get_ref<const std::string&>());
  if (!parsed) return invalid(where, "Input should be a valid UUID, got '" + v.get<std::string>() + "'");
  out = *parsed;
  return status::ok();
}

status read_time(const json& v, const std::string& where, timestamp& out) {
  if (!v.is_string()) return invalid(where, "Input should be a valid datetime string");
  auto parsed = parse_iso8601(v.get_ref<const std::string&>());
  if (!parsed) return invalid(where, "Input should be a valid datetime, got '" + v.get<std::string>() + "'");
  out = *parsed;
  return status::ok();
}

status read_labels(const json& v, const std::string& where, bool related, resource_labels& out) {
  if (!v.is_object()) return invalid(where, "Input should be an object of string labels");
  if (v.size() > max_labels_per_resource)
    return invalid(where, "The maximum number of labels per resource is " + std::to_string(max_labels_per_resource));
  out.clear();
  for (const auto& [key, value] : v.items()) {
    if (!value.is_string()) return invalid(where + "." + key, "Label values must be strings");
    out.emplace(key, value.get<std::string>());
  }
  const auto id = out.find(std::string(resource_id_label));
  if (id == out.end()) return invalid(where, "Resources must include the prefect.resource.id label");
  if (id->second.empty()) return invalid(where, "The prefect.resource.id label must be non-empty");
  if (related) {
    const auto role = out.find(std::string(resource_role_label));
    if (role == out.end()) return invalid(where, "Related Resources must include the prefect.resource.role label");
    if (role->second.empty()) return invalid(where, "The prefect.resource.role label must be non-empty");
  }
  return status::ok();
}

/// `owned`, when the caller gives it, is `j` itself, which the caller no longer needs: the payload is moved
/// out of it instead of copied.
result<event> read_event(const json& j, bool with_received, json* owned = nullptr) {
  if (!j.is_object()) return status(errc::invalid_argument, "event: Input should be a JSON object");
  if (holds_nul(j))
    return status(errc::invalid_argument, "event: Strings must not contain the NUL character (\\u0000)");
  event e;
  const auto field = [&j](const char* name) -> const json* {
    const auto it = j.find(name);
    return it == j.end() || it->is_null() ? nullptr : &*it;
  };
  const json* id = field("id");
  if (!id) return invalid("id", "Field required");
  if (auto s = read_uuid(*id, "id", e.id); !s) return s;
  const json* occurred = field("occurred");
  if (!occurred) return invalid("occurred", "Field required");
  if (auto s = read_time(*occurred, "occurred", e.occurred); !s) return s;
  const json* name = field("event");
  if (!name) return invalid("event", "Field required");
  if (!name->is_string()) return invalid("event", "Input should be a valid string");
  e.name = name->get<std::string>();
  if (utf8_length(e.name) > max_event_name_length)
    return invalid("event", "Event name must be at most " + std::to_string(max_event_name_length) + " characters");
  const json* resource = field("resource");
  if (!resource) return invalid("resource", "Field required");
  if (auto s = read_labels(*resource, "resource", false, e.resource); !s) return s;
  if (const json* related = field("related")) {
    if (!related->is_array()) return invalid("related", "Input should be a valid list");
    if (related->size() > max_related_resources)
      return invalid("related", "The maximum number of related resources is " + std::to_string(max_related_resources));
    for (std::size_t i = 0; i < related->size(); ++i) {
      resource_labels labels;
      if (auto s = read_labels((*related)[i], "related." + std::to_string(i), true, labels); !s) return s;
      e.related.push_back(std::move(labels));
    }
  }
  if (const json* payload = field("payload")) {
    if (!payload->is_object()) return invalid("payload", "Input should be a valid dictionary");
    if (owned)
      e.payload = std::move((*owned)["payload"]);
    else
      e.payload = *payload;
  }
  if (const json* follows = field("follows")) {
    uuid f;
    if (auto s = read_uuid(*follows, "follows", f); !s) return s;
    e.follows = f;
  }
  if (with_received) {
    const json* received = field("received");
    if (!received) return invalid("received", "Field required");
    timestamp r;
    if (auto s = read_time(*received, "received", r); !s) return s;
    e.received = r;
  }
  return e;
}

// ---- filters ------------------------------------------------------------------------------------------

/// A filter object's members, refusing unknown keys; null members count as absent.
class members {
 public:
  members(const json& j, std::string where) : j_(j), where_(std::move(where)) {}

  /// Checks the value is an object whose keys are all in `allowed`.
  status check(std::initializer_list<const char*> allowed) const {
    if (!j_.is_object()) return invalid(where_, "Input should be an object");
    for (const auto& item : j_.items()) {  // not a structured binding: Clang before 16 cannot capture one
      const std::string& key = item.key();
      const bool known = std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; });
      if (!known) return invalid(where_ + "." + key, "Extra inputs are not permitted");
    }
    return status::ok();
  }
  [[nodiscard]] const json* get(const char* key) const {
    const auto it = j_.find(key);
    return it == j_.end() || it->is_null() ? nullptr : &*it;
  }
  [[nodiscard]] std::string at(const char* key) const { return where_ + "." + key; }

 private:
  const json& j_;
  std::string where_;
};

status read_strings(const json* v, const std::string& where, std::vector<std::string>& out) {
  out.clear();
  if (!v) return status::ok();
  if (!v->is_array()) return invalid(where, "Input should be a valid list of strings");
  for (const auto& item : *v) {
    if (!item.is_string()) return invalid(where, "Input should be a valid list of strings");
    out.push_back(item.get<std::string>());
  }
  return status::ok();
}

status read_label_patterns(const json* v, const std::string& where, label_patterns& out) {
  out.clear();
  if (!v) return status::ok();
  if (!v->is_object()) return invalid(where, "Input should be an object of label patterns");
  for (const auto& [label, value] : v->items()) {
    std::vector<std::string> patterns;
    if (value.is_string()) {
      patterns.push_back(value.get<std::string>());
    } else if (value.is_array()) {
      for (const auto& p : value) {
        if (!p.is_string()) return invalid(where + "." + label, "Label patterns must be strings");
        patterns.push_back(p.get<std::string>());
      }
    } else if (!value.is_null()) {
      return invalid(where + "." + label, "Input should be a string or a list of strings");
    }
    out.emplace_back(label, std::move(patterns));
  }
  return status::ok();
}

status read_resource(const json& v, const std::string& where, event_resource_criteria& out) {
  members m(v, where);
  if (auto s = m.check({"id", "id_prefix", "labels", "distinct"}); !s) return s;
  if (auto s = read_strings(m.get("id"), m.at("id"), out.ids); !s) return s;
  if (auto s = read_strings(m.get("id_prefix"), m.at("id_prefix"), out.id_prefixes); !s) return s;
  if (auto s = read_label_patterns(m.get("labels"), m.at("labels"), out.labels); !s) return s;
  if (const json* distinct = m.get("distinct")) {
    if (!distinct->is_boolean()) return invalid(m.at("distinct"), "Input should be a valid boolean");
    if (distinct->get<bool>()) return invalid(m.at("distinct"), "distinct resources are not supported by this server");
  }
  return status::ok();
}

status read_related(const json& v, const std::string& where, event_related_criteria& out) {
  members m(v, where);
  if (auto s = m.check({"id", "role", "resources_in_roles", "labels"}); !s) return s;
  if (auto s = read_strings(m.get("id"), m.at("id"), out.ids); !s) return s;
  if (auto s = read_strings(m.get("role"), m.at("role"), out.roles); !s) return s;
  if (const json* pairs = m.get("resources_in_roles")) {
    if (!pairs->is_array()) return invalid(m.at("resources_in_roles"), "Input should be a list of [id, role] pairs");
    for (const auto& p : *pairs) {
      if (!p.is_array() || p.size() != 2 || !p[0].is_string() || !p[1].is_string())
        return invalid(m.at("resources_in_roles"), "Input should be a list of [id, role] pairs");
      out.resources_in_roles.emplace_back(p[0].get<std::string>(), p[1].get<std::string>());
    }
  }
  return read_label_patterns(m.get("labels"), m.at("labels"), out.labels);
}

status read_any_resource(const json& v, const std::string& where, event_any_resource_criteria& out) {
  members m(v, where);
  if (auto s = m.check({"id", "id_prefix", "labels"}); !s) return s;
  if (auto s = read_strings(m.get("id"), m.at("id"), out.ids); !s) return s;
  if (auto s = read_strings(m.get("id_prefix"), m.at("id_prefix"), out.id_prefixes); !s) return s;
  return read_label_patterns(m.get("labels"), m.at("labels"), out.labels);
}

/// `related` and `any_resource` take one object or a list of them.
template <class Criteria, class Reader>
status read_one_or_many(const json* v, const std::string& where, std::vector<Criteria>& out, Reader read) {
  out.clear();
  if (!v) return status::ok();
  const auto one = [&](const json& item, const std::string& at) -> status {
    Criteria c;
    if (auto s = read(item, at, c); !s) return s;
    if (!c.empty()) out.push_back(std::move(c));
    return status::ok();
  };
  if (v->is_array()) {
    for (std::size_t i = 0; i < v->size(); ++i)
      if (auto s = one((*v)[i], where + "." + std::to_string(i)); !s) return s;
    return status::ok();
  }
  return one(*v, where);
}

json strings_or_null(const std::vector<std::string>& v) { return v.empty() ? json(nullptr) : json(v); }

json labels_to_json(const label_patterns& labels) {
  if (labels.empty()) return nullptr;
  json out = json::object();
  for (const auto& [label, patterns] : labels) out[label] = patterns;
  return out;
}

bool starts_with_any(const std::string& s, const std::vector<std::string>& prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string& p) { return s.starts_with(p); });
}

bool contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

const std::string* label_of(const resource_labels& r, const std::string& label) {
  const auto it = r.find(label);
  return it == r.end() ? nullptr : &it->second;
}

const std::string& role_of(const resource_labels& r) {
  static const std::string none;
  const std::string* role = label_of(r, std::string(resource_role_label));
  return role ? *role : none;
}

/// Label patterns against one resource. `role_exact`: prefect.resource.role compares exactly against the
/// listed values (the related and any_resource filters of Prefect's SQL); otherwise it is a label like any.
bool labels_match(const label_patterns& labels, const resource_labels& r, bool role_exact) {
  for (const auto& [label, patterns] : labels) {
    if (role_exact && label == resource_role_label) {
      if (!patterns.empty() && !contains(patterns, role_of(r))) return false;
      continue;
    }
    if (label == resource_id_label && patterns.empty()) continue;  // Prefect's SQL: no ids, no constraint
    if (!label_matches(patterns, label_of(r, label))) return false;
  }
  return true;
}

bool related_matches(const event_related_criteria& c, const resource_labels& r) {
  const std::string& id = r.at(std::string(resource_id_label));
  const std::string& role = role_of(r);
  if (c.roles.empty() ? role.empty() : !contains(c.roles, role)) return false;
  if (!c.ids.empty() && !contains(c.ids, id)) return false;
  if (!c.resources_in_roles.empty() && std::none_of(c.resources_in_roles.begin(), c.resources_in_roles.end(),
                                                    [&](const auto& p) { return p.first == id && p.second == role; }))
    return false;
  return labels_match(c.labels, r, true);
}

bool any_resource_matches(const event_any_resource_criteria& c, const resource_labels& r) {
  const std::string& id = r.at(std::string(resource_id_label));
  if (!c.ids.empty() && !contains(c.ids, id)) return false;
  if (!c.id_prefixes.empty() && !starts_with_any(id, c.id_prefixes)) return false;
  return labels_match(c.labels, r, true);
}

/// Prefect's truncated_to: long text keeps its head and tail around a note of what was left out. Lengths count
/// characters (code points) as Python's len() does, and cuts fall between characters.
std::string truncated(const std::string& text, std::size_t limit) {
  const auto starts_character = [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; };
  const auto length = static_cast<std::size_t>(std::count_if(text.begin(), text.end(), starts_character));
  if (length <= limit) return text;
  const std::size_t half = limit / 2;
  // Byte offsets of the character after the first `half` and of the first of the last `half`.
  std::size_t head = 0, tail = text.size(), seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!starts_character(text[i])) continue;
    if (seen == half) head = i;
    if (seen == length - half) tail = i;
    ++seen;
  }
  const std::size_t omitted = length - 2 * half;
  const std::string note = "..." + std::to_string(omitted) + " additional characters...";
  if (2 * half + note.size() >= length) return text;  // not shorter (the note is ASCII: one byte a character)
  return text.substr(0, head) + note + text.substr(tail);
}

json state_payload(const run_state& s) {
  json out = {{"type", to_string(s.type)}};
  if (!s.name.empty()) out["name"] = s.name;
  if (s.message && !s.message->empty()) out["message"] = truncated(*s.message, max_event_state_message);
  if (s.type == state_type::paused) {
    const auto it = s.details.is_object() ? s.details.find("pause_reschedule") : s.details.end();
    const bool reschedule = s.details.is_object() && it != s.details.end() && it->is_boolean() && it->get<bool>();
    out["pause_reschedule"] = reschedule ? "true" : "false";
  }
  return out;
}

}  // namespace

const std::string& event::resource_id() const {
  static const std::string none;
  const auto it = resource.find(std::string(resource_id_label));
  return it == resource.end() ? none : it->second;
}

result<event> parse_event(const nlohmann::json& j) { return read_event(j, false); }

result<event> parse_event_text(std::string_view text, std::size_t max_depth) {
  if (text.size() > max_event_bytes)
    return status(errc::invalid_argument,
                  "event: larger than the maximum event size of " + std::to_string(max_event_bytes) + " bytes");
  auto parsed = parse_json(text, max_depth);
  if (parsed.error == parsed_json::problem::too_deep)
    return status(errc::invalid_argument, "event: " + too_deep_message(max_depth));
  if (!parsed.ok()) return status(errc::invalid_argument, "event: not valid JSON");
  return read_event(parsed.value, false, &parsed.value);
}

result<event> parse_received_event(const nlohmann::json& j) { return read_event(j, true); }

nlohmann::json to_json(const event& e) {
  json related = json::array();
  for (const auto& r : e.related) related.push_back(r);
  json out = {{"id", e.id.to_string()},
              {"occurred", format_iso8601(e.occurred)},
              {"event", e.name},
              {"resource", e.resource},
              {"related", std::move(related)},
              {"payload", e.payload},
              {"follows", e.follows ? json(e.follows->to_string()) : json(nullptr)}};
  if (e.received) out["received"] = format_iso8601(*e.received);
  return out;
}

event_filter default_event_filter(timestamp now) {
  using namespace std::chrono;
  event_filter f;
  f.since = time_point_cast<microseconds>(floor<days>(now)) - days(180);
  f.until = now;
  return f;
}

result<event_filter> parse_event_filter(const nlohmann::json& j, timestamp now) {
  event_filter f = default_event_filter(now);
  if (j.is_null()) return f;
  members m(j, "filter");
  if (auto s = m.check({"occurred", "event", "resource", "related", "any_resource", "id", "text", "order"}); !s)
    return s;
  if (const json* occurred = m.get("occurred")) {
    members o(*occurred, m.at("occurred"));
    if (auto s = o.check({"since", "until"}); !s) return s;
    if (const json* since = o.get("since"))
      if (auto s = read_time(*since, o.at("since"), f.since); !s) return s;
    if (const json* until = o.get("until"))
      if (auto s = read_time(*until, o.at("until"), f.until); !s) return s;
  }
  if (const json* name = m.get("event")) {
    members n(*name, m.at("event"));
    if (auto s = n.check({"prefix", "exclude_prefix", "name", "exclude_name"}); !s) return s;
    if (auto s = read_strings(n.get("prefix"), n.at("prefix"), f.prefixes); !s) return s;
    if (auto s = read_strings(n.get("exclude_prefix"), n.at("exclude_prefix"), f.exclude_prefixes); !s) return s;
    if (auto s = read_strings(n.get("name"), n.at("name"), f.names); !s) return s;
    if (auto s = read_strings(n.get("exclude_name"), n.at("exclude_name"), f.exclude_names); !s) return s;
  }
  if (const json* resource = m.get("resource")) {
    event_resource_criteria c;
    if (auto s = read_resource(*resource, m.at("resource"), c); !s) return s;
    if (!c.ids.empty() || !c.id_prefixes.empty() || !c.labels.empty()) f.resource = std::move(c);
  }
  if (auto s = read_one_or_many(m.get("related"), m.at("related"), f.related, read_related); !s) return s;
  if (auto s = read_one_or_many(m.get("any_resource"), m.at("any_resource"), f.any_resource, read_any_resource); !s)
    return s;
  if (const json* ids = m.get("id")) {
    members i(*ids, m.at("id"));
    if (auto s = i.check({"id"}); !s) return s;
    if (const json* list = i.get("id")) {
      if (!list->is_array()) return invalid(i.at("id"), "Input should be a valid list of UUIDs");
      for (const auto& item : *list) {
        uuid u;
        if (auto s = read_uuid(item, i.at("id"), u); !s) return s;
        f.ids.push_back(u);
      }
    }
  }
  if (const json* text = m.get("text")) {
    members t(*text, m.at("text"));
    if (auto s = t.check({"query"}); !s) return s;
    const json* query = t.get("query");
    if (query && !query->is_string()) return invalid(t.at("query"), "Input should be a valid string");
    if (query && query->get<std::string>().find_first_not_of(" \t\r\n") != std::string::npos)
      return invalid(t.at("query"), "text search is not supported by this server");
  }
  if (const json* order = m.get("order")) {
    if (*order == "ASC")
      f.order = event_order::ascending;
    else if (*order == "DESC")
      f.order = event_order::descending;
    else
      return invalid(m.at("order"), "Input should be 'ASC' or 'DESC'");
  }
  return f;
}

nlohmann::json to_json(const event_filter& f) {
  json out = {{"occurred", {{"since", format_iso8601(f.since)}, {"until", format_iso8601(f.until)}}},
              {"order", f.order == event_order::ascending ? "ASC" : "DESC"}};
  if (!f.prefixes.empty() || !f.exclude_prefixes.empty() || !f.names.empty() || !f.exclude_names.empty())
    out["event"] = {{"prefix", strings_or_null(f.prefixes)},
                    {"exclude_prefix", strings_or_null(f.exclude_prefixes)},
                    {"name", strings_or_null(f.names)},
                    {"exclude_name", strings_or_null(f.exclude_names)}};
  if (f.resource)
    out["resource"] = {{"id", strings_or_null(f.resource->ids)},
                       {"id_prefix", strings_or_null(f.resource->id_prefixes)},
                       {"labels", labels_to_json(f.resource->labels)}};
  if (!f.related.empty()) {
    json list = json::array();
    for (const auto& r : f.related) {
      json pairs = json::array();
      for (const auto& [id, role] : r.resources_in_roles) pairs.push_back({id, role});
      list.push_back({{"id", strings_or_null(r.ids)},
                      {"role", strings_or_null(r.roles)},
                      {"resources_in_roles", pairs.empty() ? json(nullptr) : pairs},
                      {"labels", labels_to_json(r.labels)}});
    }
    out["related"] = std::move(list);
  }
  if (!f.any_resource.empty()) {
    json list = json::array();
    for (const auto& a : f.any_resource)
      list.push_back({{"id", strings_or_null(a.ids)},
                      {"id_prefix", strings_or_null(a.id_prefixes)},
                      {"labels", labels_to_json(a.labels)}});
    out["any_resource"] = std::move(list);
  }
  if (!f.ids.empty()) {
    json ids = json::array();
    for (const auto& id : f.ids) ids.push_back(id.to_string());
    out["id"] = {{"id", std::move(ids)}};
  }
  return out;
}

void clamp_since(event_filter& f, timestamp earliest) { f.since = std::max(f.since, earliest); }

bool label_matches(const std::vector<std::string>& patterns, const std::string* value) {
  if (value == nullptr) return false;
  return std::any_of(patterns.begin(), patterns.end(), [value](const std::string& pattern) {
    if (pattern.starts_with('!')) return !glob_match(std::string_view(pattern).substr(1), *value);
    return glob_match(pattern, *value);
  });
}

bool matches(const event_filter& f, const event& e) {
  if (e.occurred < f.since || e.occurred > f.until) return false;
  if (!f.prefixes.empty() && !starts_with_any(e.name, f.prefixes)) return false;
  if (starts_with_any(e.name, f.exclude_prefixes)) return false;
  if (!f.names.empty() && !contains(f.names, e.name)) return false;
  if (contains(f.exclude_names, e.name)) return false;
  if (!f.ids.empty() && std::find(f.ids.begin(), f.ids.end(), e.id) == f.ids.end()) return false;
  if (f.resource) {
    const auto& c = *f.resource;
    const std::string& id = e.resource_id();
    if (!c.ids.empty() && !contains(c.ids, id)) return false;
    if (!c.id_prefixes.empty() && !starts_with_any(id, c.id_prefixes)) return false;
    if (!labels_match(c.labels, e.resource, false)) return false;
  }
  for (const auto& c : f.related) {
    const auto hit =
        related_matches(c, e.resource) || std::any_of(e.related.begin(), e.related.end(),
                                                      [&](const resource_labels& r) { return related_matches(c, r); });
    if (!hit) return false;
  }
  for (const auto& c : f.any_resource) {
    const auto hit = any_resource_matches(c, e.resource) ||
                     std::any_of(e.related.begin(), e.related.end(),
                                 [&](const resource_labels& r) { return any_resource_matches(c, r); });
    if (!hit) return false;
  }
  return true;
}

event flow_run_state_event(const state_change& change, const flow_run_event_info& info) {
  const run_state& now = change.current;
  event e;
  e.id = now.id.value;
  e.occurred = now.at;
  const std::string state_name = now.name.empty() ? std::string(default_state_name(now.type)) : now.name;
  e.name = "prefect.flow-run." + state_name;
  e.resource = {{std::string(resource_id_label), "prefect.flow-run." + change.run.to_string()},
                {"prefect.state-message", truncated(now.message.value_or(""), max_event_state_message)},
                {"prefect.state-name", state_name},
                {"prefect.state-timestamp", format_iso8601(now.at)},
                {"prefect.state-type", to_string(now.type)}};
  if (!info.name.empty()) e.resource["prefect.resource.name"] = info.name;
  if (info.run_count) e.resource["prefect.run-count"] = std::to_string(*info.run_count);

  if (info.flow) {
    resource_labels flow{{std::string(resource_id_label), "prefect.flow." + info.flow->to_string()},
                         {std::string(resource_role_label), "flow"}};
    if (!info.flow_name.empty()) flow["prefect.resource.name"] = info.flow_name;
    e.related.push_back(std::move(flow));
  }
  if (info.deployment) {
    resource_labels deployment{{std::string(resource_id_label), "prefect.deployment." + info.deployment->to_string()},
                               {std::string(resource_role_label), "deployment"}};
    if (!info.deployment_name.empty()) deployment["prefect.resource.name"] = info.deployment_name;
    e.related.push_back(std::move(deployment));
  }
  for (const auto& tag : std::set<std::string>(info.tags.begin(), info.tags.end()))
    e.related.push_back(
        {{std::string(resource_id_label), "prefect.tag." + tag}, {std::string(resource_role_label), "tag"}});

  const auto& before = change.previous;
  e.payload = {
      {"intended", {{"from", before ? json(to_string(before->type)) : json(nullptr)}, {"to", to_string(now.type)}}},
      {"initial_state", before ? state_payload(*before) : json(nullptr)},
      {"validated_state", state_payload(now)}};
  constexpr auto tight = std::chrono::minutes(5);
  if (before && now.at - before->at < tight && before->at - now.at < tight) e.follows = before->id.value;
  return e;
}

}  // namespace osprey
