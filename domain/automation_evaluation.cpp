// Event-trigger evaluation (see the header). The steps follow Prefect's `reactive_evaluation` and `evaluate`
// one to one, so a reader can hold them side by side.
#include "domain/automation_evaluation.hpp"

#include <algorithm>

#include "domain/glob.hpp"

namespace osprey {
namespace {

using nlohmann::json;

std::optional<resource_spec> read_spec(const json& j) {
  if (!j.is_object()) return std::nullopt;
  resource_spec spec;
  for (const auto& [label, value] : j.items()) {
    std::vector<std::string> patterns;
    if (value.is_string()) {
      patterns.push_back(value.get<std::string>());
    } else if (value.is_array()) {
      for (const auto& p : value) {
        if (!p.is_string()) return std::nullopt;
        patterns.push_back(p.get<std::string>());
      }
    } else {
      return std::nullopt;
    }
    spec.emplace_back(label, std::move(patterns));
  }
  return spec;
}

bool read_strings(const json& j, std::vector<std::string>& out) {
  if (j.is_null()) return true;
  if (!j.is_array()) return false;
  for (const auto& s : j) {
    if (!s.is_string()) return false;
    out.push_back(s.get<std::string>());
  }
  return true;
}

bool any_glob(const std::vector<std::string>& patterns, std::string_view name) {
  return std::any_of(patterns.begin(), patterns.end(), [&](const auto& p) { return glob_match(p, name); });
}

bool meets_threshold(const event_trigger_rules& t, std::int64_t count) {
  return t.posture == trigger_posture::reactive ? count >= t.threshold : count < t.threshold;
}

bool immediate(const event_trigger_rules& t) { return t.posture == trigger_posture::reactive && t.within.count() == 0; }

trigger_firing firing_of(const event_trigger_rules& t, const trigger_bucket& b, const event* triggering) {
  trigger_firing f;
  f.trigger = t.id;
  for (std::size_t i = 0; i < t.for_each.size() && i < b.key.size(); ++i) f.triggering_labels[t.for_each[i]] = b.key[i];
  if (triggering)
    f.triggering_event = *triggering;
  else
    f.triggering_event = b.last_event;
  f.count = b.count;
  f.window_start = b.start;
  return f;
}

/// Prefect's `evaluate`: spends the event's count in the bucket (or the next window), fires when ready.
trigger_step evaluate(const event_trigger_rules& t, trigger_bucket b, timestamp now, const event* triggering) {
  std::int64_t count = triggering ? 1 : 0;
  if (now < b.start) return {std::move(b), {}};  // late or redundant: the window it belonged to is gone
  if (count && (immediate(t) || (b.start <= now && now < b.end))) {
    b.count += count;
    if (triggering) b.last_event = *triggering;
    count = 0;
  }
  const bool ready = t.posture == trigger_posture::reactive || b.end <= now;
  const bool meets = meets_threshold(t, b.count);
  trigger_step step;
  if (ready && meets) {
    step.firings.push_back(firing_of(t, b, triggering));
    // fired: the bucket is removed, a next window may follow below
  } else if (now < b.end) {
    // A proactive trigger whose event is both `after` and `expect` (heartbeats): restart the window at it.
    if (triggering && t.posture == trigger_posture::proactive && !meets && trigger_starts_after(t, triggering->name) &&
        trigger_expects(t, triggering->name)) {
      step.bucket = trigger_bucket{b.key, triggering->occurred, triggering->occurred + t.within, 0, *triggering};
      return step;
    }
    step.bucket = std::move(b);
    return step;
  } else if (t.within.count() == 0 && t.after.empty()) {
    step.bucket = std::move(b);  // Prefect returns without removing it: the count stays for the next event
    return step;
  }
  if (!t.after.empty() || t.within.count() == 0) return step;  // reopened only by the next `after` event
  const timestamp start = std::max(b.end, now);
  trigger_bucket next{b.key, start, start + t.within, 0, std::nullopt};
  if (t.posture == trigger_posture::reactive && count > 0) {
    // An event past the window: it opens the next one and may fire it at once.
    auto again = evaluate(t, std::move(next), now, triggering);
    step.bucket = std::move(again.bucket);
    for (auto& f : again.firings) step.firings.push_back(std::move(f));
    return step;
  }
  next.count = count;
  step.bucket = std::move(next);
  return step;
}

}  // namespace

result<event_trigger_rules> read_event_trigger_rules(const nlohmann::json& trigger) {
  const auto bad = [](std::string what) -> result<event_trigger_rules> {
    return {errc::invalid_argument, "event trigger: " + std::move(what)};
  };
  if (!trigger.is_object() || trigger.value("type", "") != "event") return bad("not an event trigger");
  event_trigger_rules t;
  const auto id = uuid::parse(trigger.value("id", ""));
  if (!id) return bad("id is not a UUID");
  t.id = *id;
  if (auto m = read_spec(trigger.value("match", json::object())))
    t.match = std::move(*m);
  else
    return bad("match is not a resource specification");
  const json related = trigger.value("match_related", json::object());
  for (const auto& r : related.is_array() ? related : json::array({related})) {
    auto spec = read_spec(r);
    if (!spec) return bad("match_related is not a resource specification");
    t.match_related.push_back(std::move(*spec));
  }
  if (!read_strings(trigger.value("after", json::array()), t.after) ||
      !read_strings(trigger.value("expect", json::array()), t.expect) ||
      !read_strings(trigger.value("for_each", json::array()), t.for_each))
    return bad("after, expect and for_each must be lists of strings");
  std::sort(t.for_each.begin(), t.for_each.end());
  t.posture =
      trigger.value("posture", "Reactive") == "Proactive" ? trigger_posture::proactive : trigger_posture::reactive;
  const auto threshold = trigger.value("threshold", json(1));
  const auto within = trigger.value("within", json(0));
  if (!threshold.is_number_integer() || !within.is_number()) return bad("threshold or within is not a number");
  t.threshold = threshold.get<std::int64_t>();
  t.within = std::chrono::microseconds(static_cast<std::int64_t>(within.get<double>() * 1e6));
  return t;
}

bool label_pattern_matches(std::string_view pattern, const std::string* value) {
  if (!value) return false;
  const bool positive = !pattern.starts_with('!');
  if (!positive) pattern.remove_prefix(1);
  return glob_match(pattern, *value) == positive;
}

bool resource_spec_matches(const resource_spec& spec, const resource_labels& resource) {
  for (const auto& [label, patterns] : spec) {
    const auto it = resource.find(label);
    const std::string* value = it == resource.end() ? nullptr : &it->second;
    if (!std::any_of(patterns.begin(), patterns.end(), [&](const auto& p) { return label_pattern_matches(p, value); }))
      return false;
  }
  return true;
}

bool trigger_covers(const event_trigger_rules& t, const event& e) {
  if (!t.expect.empty() && !any_glob(t.expect, e.name) && !any_glob(t.after, e.name)) return false;
  if (!resource_spec_matches(t.match, e.resource)) return false;
  for (const auto& spec : t.match_related) {
    if (spec.empty()) continue;
    if (std::none_of(e.related.begin(), e.related.end(), [&](const auto& r) { return resource_spec_matches(spec, r); }))
      return false;
  }
  return true;
}

bool trigger_expects(const event_trigger_rules& t, std::string_view name) {
  return t.expect.empty() || any_glob(t.expect, name);
}

bool trigger_starts_after(const event_trigger_rules& t, std::string_view name) { return any_glob(t.after, name); }

std::optional<std::string> find_resource_label(const event& e, std::string_view label) {
  const auto last = label.rfind(':');
  if (last != std::string_view::npos) {
    const auto directive = label.substr(0, last);
    const auto first = directive.find(':');
    if (directive.substr(0, first) == "related" && first != std::string_view::npos) {
      const auto role = directive.substr(first + 1);
      const std::string wanted(label.substr(last + 1));
      for (const auto& r : e.related) {
        const auto it = r.find(std::string(resource_role_label));
        if (it == r.end() || it->second != role) continue;
        const auto v = r.find(wanted);
        if (v == r.end()) return std::nullopt;
        return v->second;
      }
    }
  }
  const auto it = e.resource.find(std::string(label));
  if (it == e.resource.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> bucketing_key(const event_trigger_rules& t, const event& e) {
  std::vector<std::string> key;
  key.reserve(t.for_each.size());
  for (const auto& label : t.for_each) key.push_back(find_resource_label(e, label).value_or(""));
  return key;
}

trigger_step react(const event_trigger_rules& t, std::optional<trigger_bucket> stored, const event& e) {
  const auto key = bucketing_key(t, e);
  std::optional<trigger_bucket> bucket;
  // ensure_bucket: an existing bucket is kept as it is, except that it remembers the latest event.
  const auto ensure = [&](timestamp start, std::int64_t initial) {
    if (stored) {
      stored->last_event = e;
      return *stored;
    }
    return trigger_bucket{key, start, e.occurred + t.within, initial, e};
  };
  if (!t.after.empty() && trigger_starts_after(t, e.name)) {
    // An event both `after` and `expect` starts at -1, so that it does not count in the window it opens.
    bucket = ensure(e.occurred, trigger_expects(t, e.name) ? -1 : 0);
  }
  if (!bucket && t.after.empty() && trigger_expects(t, e.name)) {
    // A first window reaches back, so events that arrive out of order still count.
    bucket = ensure(e.occurred - preceding_event_lookback, 0);
  }
  if (!trigger_expects(t, e.name)) return {bucket ? bucket : std::move(stored), {}};
  if (!bucket) bucket = std::move(stored);
  if (!bucket) return {};
  return evaluate(t, std::move(*bucket), e.occurred, &e);
}

trigger_step evaluate_bucket(const event_trigger_rules& t, trigger_bucket bucket, timestamp now) {
  return evaluate(t, std::move(bucket), now, nullptr);
}

trigger_bucket initial_proactive_bucket(const event_trigger_rules& t, timestamp now) {
  return trigger_bucket{{}, now, now + t.within, 0, std::nullopt};
}

result<composite_trigger_rules> read_composite_trigger_rules(const nlohmann::json& trigger) {
  const auto type = trigger.value("type", "");
  if (type != "compound" && type != "sequence")
    return status(errc::invalid_argument, "not a compound or sequence trigger: " + type);
  composite_trigger_rules r;
  const auto id = uuid::parse(trigger.value("id", ""));
  if (!id) return status(errc::invalid_argument, "the trigger has no id");
  r.id = *id;
  r.sequence = type == "sequence";
  for (const auto& child : trigger.value("triggers", nlohmann::json::array())) {
    const auto child_id = uuid::parse(child.value("id", ""));
    if (!child_id) return status(errc::invalid_argument, "a child trigger has no id");
    r.children.push_back(*child_id);
  }
  if (r.children.empty()) return status(errc::invalid_argument, "the trigger has no child triggers");
  r.expected = r.children.size();
  if (!r.sequence) {
    const auto& require = trigger.value("require", nlohmann::json("all"));
    if (require == "any")
      r.expected = 1;
    else if (require.is_number_integer())
      r.expected = static_cast<std::size_t>(std::max<std::int64_t>(1, require.get<std::int64_t>()));
  }
  if (const auto within = trigger.value("within", nlohmann::json()); within.is_number())
    r.within = std::chrono::microseconds(static_cast<std::int64_t>(within.get<double>() * 1e6));
  return r;
}

bool composite_ready(const composite_trigger_rules& parent, const std::vector<child_firing>& kept) {
  if (!parent.sequence) return kept.size() >= parent.expected;
  auto ordered = kept;
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const child_firing& a, const child_firing& b) { return a.fired < b.fired; });
  if (ordered.size() != parent.children.size()) return false;
  for (std::size_t i = 0; i < ordered.size(); ++i)
    if (ordered[i].child != parent.children[i]) return false;
  return true;
}

nlohmann::json child_firing_document(const trigger_firing& f) {
  return {{"trigger", f.trigger.to_string()},
          {"triggering_labels", f.triggering_labels},
          {"triggering_event", f.triggering_event ? to_json(*f.triggering_event) : nlohmann::json(nullptr)},
          {"count", f.count},
          {"window_start", format_iso8601(f.window_start)}};
}

std::optional<trigger_firing> child_firing_from_document(const nlohmann::json& doc) {
  if (!doc.is_object()) return std::nullopt;
  trigger_firing f;
  const auto trigger = uuid::parse(doc.value("trigger", ""));
  const auto start = parse_iso8601(doc.value("window_start", ""));
  if (!trigger || !start) return std::nullopt;
  f.trigger = *trigger;
  f.window_start = *start;
  f.count = doc.value("count", std::int64_t{0});
  if (const auto labels = doc.value("triggering_labels", nlohmann::json::object()); labels.is_object())
    for (const auto& [k, v] : labels.items())
      if (v.is_string()) f.triggering_labels[k] = v.get<std::string>();
  if (const auto& e = doc.value("triggering_event", nlohmann::json()); e.is_object())
    if (auto parsed = parse_received_event(e)) f.triggering_event = std::move(*parsed);
  return f;
}

}  // namespace osprey
