// Triggers: Prefect 3.9.1's EventTrigger, CompoundTrigger and SequenceTrigger (ServerTriggerTypes), their
// defaults and validators, read into the documents Prefect's API answers.
#include <cmath>

#include "domain/automation_reading.hpp"

namespace osprey::automation_reading {
namespace {

constexpr const char* event_tag = "EventTrigger";
// pydantic names a model wrapped by an after-validator so, and CompoundTrigger's validator is inherited twice.
constexpr const char* compound_tag =
    "function-after[validate_require(), function-after[validate_require(), CompoundTrigger]]";
constexpr const char* sequence_tag = "SequenceTrigger";

/// Prefect's own reading of a missing or zero Proactive `within`.
constexpr double proactive_minimum_within = 10.0;

bool missing(automation_problem& problem, const path& where) {
  return fail(problem, where, "Field required", "missing");
}

/// ResourceSpecification: {label: value or [values]}.
bool read_resource_spec(const json& v, const path& where, json& out, automation_problem& problem) {
  if (!v.is_object()) return fail(problem, where, "Input should be a valid dictionary", "dict_type");
  out = json::object();
  for (const auto& [label, value] : v.items()) {
    const auto here = at(where, label);
    if (value.is_string()) {
      out[label] = value;
    } else {
      std::vector<std::string> values;
      if (!value.is_array()) return fail(problem, here, "Input should be a valid string", "string_type");
      if (!read_string_list(value, here, values, problem)) return false;
      out[label] = values;
    }
  }
  return true;
}

/// match_related: one specification or a list of them.
bool read_related_spec(const json& v, const path& where, json& out, automation_problem& problem) {
  if (!v.is_array()) return read_resource_spec(v, where, out, problem);
  out = json::array();
  for (std::size_t i = 0; i < v.size(); ++i) {
    json spec;
    if (!read_resource_spec(v[i], at(where, std::to_string(i)), spec, problem)) return false;
    out.push_back(std::move(spec));
  }
  return true;
}

/// The client's id must be a UUID even though it is replaced (pydantic validates before reset_ids runs).
bool check_client_id(const json& v, const path& where, automation_problem& problem) {
  if (!v.contains("id")) return true;
  uuid ignored;
  return read_uuid(v["id"], at(where, "id"), ignored, problem);
}

bool read_event_trigger(const json& v, const path& where, const std::function<uuid()>& new_id, json& out,
                        automation_problem& problem) {
  const auto here = at(where, event_tag);
  // enforce_minimum_within_for_proactive_triggers runs before the fields are read.
  if (v.contains("within") && v["within"].is_null())
    return fail(problem, here, "Value error, `within` should be a valid timedelta", "value_error");
  double within = 0;
  bool within_read = !v.contains("within");
  if (v.contains("within")) {
    automation_problem ignored;
    within_read = read_duration(v["within"], {}, within, ignored);
  }
  const bool proactive = v.contains("posture") && v["posture"] == "Proactive";
  if (proactive && within_read) {
    if (within == 0)
      within = proactive_minimum_within;
    else if (within < proactive_minimum_within)
      return fail(problem, here,
                  "Value error, `within` for Proactive triggers must be greater than or equal to 10 seconds",
                  "value_error");
  }
  if (v.contains("type") && v["type"] != "event")
    return fail(problem, at(here, "type"), "Input should be 'event'", "literal_error");
  if (!check_client_id(v, here, problem)) return false;
  json match = json::object();
  json match_related = json::object();
  std::vector<std::string> after, expect, for_each;
  if (v.contains("match") && !read_resource_spec(v["match"], at(here, "match"), match, problem)) return false;
  if (v.contains("match_related") &&
      !read_related_spec(v["match_related"], at(here, "match_related"), match_related, problem))
    return false;
  if (v.contains("after") && !read_string_set(v["after"], at(here, "after"), after, problem)) return false;
  if (v.contains("expect") && !read_string_set(v["expect"], at(here, "expect"), expect, problem)) return false;
  if (v.contains("for_each") && !read_string_set(v["for_each"], at(here, "for_each"), for_each, problem)) return false;
  if (!v.contains("posture")) return missing(problem, at(here, "posture"));
  if (v["posture"] != "Reactive" && v["posture"] != "Proactive")
    return fail(problem, at(here, "posture"), "Input should be Posture.Reactive or Posture.Proactive", "literal_error");
  std::int64_t threshold = 1;
  if (v.contains("threshold") && !read_int(v["threshold"], at(here, "threshold"), threshold, problem)) return false;
  if (v.contains("within") && !read_duration(v["within"], at(here, "within"), within, problem)) return false;
  if (within < 0)
    return fail(problem, at(here, "within"), "Input should be greater than or equal to 0 seconds",
                "greater_than_equal");
  if (proactive && within == 0) within = proactive_minimum_within;
  out = {{"type", "event"},        {"id", new_id().to_string()},
         {"match", match},         {"match_related", match_related},
         {"after", after},         {"expect", expect},
         {"for_each", for_each},   {"posture", v["posture"]},
         {"threshold", threshold}, {"within", within}};
  return true;
}

bool read_composite_trigger(const json& v, const path& where, bool compound, const std::function<uuid()>& new_id,
                            json& out, automation_problem& problem) {
  const auto here = at(where, compound ? compound_tag : sequence_tag);
  const std::string type = compound ? "compound" : "sequence";
  if (v.contains("type") && v["type"] != type)
    return fail(problem, at(here, "type"), "Input should be '" + type + "'", "literal_error");
  if (!check_client_id(v, here, problem)) return false;
  if (!v.contains("triggers")) return missing(problem, at(here, "triggers"));
  if (!v["triggers"].is_array())
    return fail(problem, at(here, "triggers"), "Input should be a valid list", "list_type");
  const std::string id = new_id().to_string();  // the parent's id first, as reset_ids draws them
  json children = json::array();
  for (std::size_t i = 0; i < v["triggers"].size(); ++i) {
    json child;
    if (!read_trigger(v["triggers"][i], at(at(here, "triggers"), std::to_string(i)), new_id, child, problem))
      return false;
    children.push_back(std::move(child));
  }
  if (!v.contains("within")) return missing(problem, at(here, "within"));
  json within = nullptr;
  if (!v["within"].is_null()) {
    double seconds = 0;
    if (!read_duration(v["within"], at(here, "within"), seconds, problem)) return false;
    within = seconds;
  }
  out = {{"type", type}, {"id", id}, {"triggers", children}, {"within", within}};
  if (!compound) return true;
  if (!v.contains("require")) return missing(problem, at(here, "require"));
  const auto& require = v["require"];
  if (require == "any" || require == "all") {
    out["require"] = require;
    return true;
  }
  std::int64_t n = 0;
  automation_problem not_int;
  if (!read_int(require, {}, n, not_int))
    return fail(problem, at(at(here, "require"), "literal['any','all']"), "Input should be 'any' or 'all'",
                "literal_error");
  if (n < 1) return fail(problem, here, "Value error, require must be at least 1", "value_error");
  if (n > static_cast<std::int64_t>(children.size()))
    return fail(problem, here, "Value error, require must be less than or equal to the number of triggers",
                "value_error");
  out["require"] = n;
  return true;
}

}  // namespace

bool read_trigger(const json& v, const path& where, const std::function<uuid()>& new_id, json& out,
                  automation_problem& problem) {
  if (!v.is_object())
    return fail(problem, at(where, event_tag), "Input should be a valid dictionary or instance of EventTrigger",
                "model_type");
  // Every member's `type` has a default, so a body without one is whichever member its keys fit.
  std::string type = "event";
  if (v.contains("type") && v["type"].is_string())
    type = v["type"].get<std::string>();
  else if (!v.contains("type") && v.contains("triggers"))
    type = v.contains("require") ? "compound" : "sequence";
  if (type == "compound") return read_composite_trigger(v, where, true, new_id, out, problem);
  if (type == "sequence") return read_composite_trigger(v, where, false, new_id, out, problem);
  return read_event_trigger(v, where, new_id, out, problem);
}

}  // namespace osprey::automation_reading
