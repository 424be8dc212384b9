// Flow run input rules (see the header).
#include "domain/flow_run_input.hpp"

#include <variant>

#include "domain/parameter_schema.hpp"

namespace osprey {
namespace {

using nlohmann::json;

/// What hydrating one value gives: a value, "drop me from my parent" (Prefect's RemoveValue), or an error.
struct removed {};
using hydrated = std::variant<json, removed, status>;

status hydration_error(std::string message) { return status(errc::invalid_argument, std::move(message)); }

bool is_placeholder(const json& v) { return v.is_object() && v.contains("__prefect_kind"); }

/// Where placeholders' values come from.
struct sources {
  const variable_lookup& variable;
  const jinja_renderer& render;
};

hydrated hydrate(const json& v, const sources& src);

/// A key of a placeholder that may itself be a placeholder (Prefect hydrates dict-valued keys first).
hydrated inner(const json& v, const sources& src) { return v.is_object() ? hydrate(v, src) : hydrated(v); }

hydrated json_kind(const json& obj, const sources& src) {
  auto value = obj.find("value");
  if (value == obj.end()) return removed{};  // the UI's empty JSON field: dropped from its parent
  auto text = inner(*value, src);
  if (!std::holds_alternative<json>(text)) return text;
  const auto& t = std::get<json>(text);
  if (!t.is_string()) return t;
  try {
    return json::parse(t.get_ref<const std::string&>());
  } catch (const json::parse_error& e) {
    std::string why = e.what();
    // nlohmann's "[json.exception.parse_error.101] parse error at ..." without its tag.
    if (auto end = why.find("] "); why.rfind("[json.exception", 0) == 0 && end != std::string::npos)
      why = why.substr(end + 2);
    return hydration_error("Invalid JSON: " + why);
  }
}

hydrated jinja_kind(const json& obj, const sources& src) {
  auto tmpl = obj.find("template");
  if (tmpl == obj.end()) return hydration_error("Missing 'template' key in __prefect object");
  auto text = inner(*tmpl, src);
  if (!std::holds_alternative<json>(text)) return text;
  const auto& t = std::get<json>(text);
  if (!t.is_string()) return hydration_error("Invalid jinja");
  const auto& s = t.get_ref<const std::string&>();
  if (src.render) {
    auto rendered = src.render(s);
    if (!rendered) return hydration_error("Invalid jinja: " + rendered.error().message());
    return json(std::move(*rendered));
  }
  // Plain text renders to itself; anything Jinja would evaluate needs a renderer the caller did not give.
  for (const char* open : {"{{", "{%", "{#"})
    if (s.find(open) != std::string::npos)
      return hydration_error("Invalid jinja: Osprey does not render Jinja templates in run input");
  return t;
}

hydrated variable_kind(const json& obj, const sources& src) {
  auto name = obj.find("variable_name");
  if (name == obj.end()) return removed{};
  auto text = inner(*name, src);
  if (!std::holds_alternative<json>(text)) return text;
  const auto& n = std::get<json>(text);
  const std::string shown = n.is_string() ? n.get<std::string>() : n.dump();
  if (n.is_string() && src.variable)
    if (auto found = src.variable(n.get<std::string>())) return *found;
  return hydration_error("Variable '" + shown + "' not found in workspace.");
}

hydrated placeholder(const json& obj, const sources& src) {
  const auto& kind = obj["__prefect_kind"];
  const std::string k = kind.is_string() ? kind.get<std::string>() : std::string();
  if (kind.is_string() && k == "none") {
    auto value = obj.find("value");
    if (value == obj.end()) return hydration_error("Missing 'value' key in __prefect object");
    return hydrate(*value, src);
  }
  if (kind.is_string() && k == "json") return json_kind(obj, src);
  if (kind.is_string() && k == "jinja") return jinja_kind(obj, src);
  if (kind.is_string() && k == "workspace_variable") return variable_kind(obj, src);
  auto value = obj.find("value");  // a kind Prefect has no handler for: its value, unhydrated
  return value == obj.end() ? json() : *value;
}

hydrated hydrate(const json& v, const sources& src) {
  if (is_placeholder(v)) return placeholder(v, src);
  if (v.is_object()) {
    json out = json::object();
    for (const auto& [key, item] : v.items()) {
      auto h = hydrate(item, src);
      if (auto* error = std::get_if<status>(&h)) return *error;
      if (auto* value = std::get_if<json>(&h)) out[key] = std::move(*value);
    }
    return out;
  }
  if (v.is_array()) {
    json out = json::array();
    for (const auto& item : v) {
      auto h = hydrate(item, src);
      if (auto* error = std::get_if<status>(&h)) return *error;
      if (auto* value = std::get_if<json>(&h)) out.push_back(std::move(*value));
    }
    return out;
  }
  return v;
}

/// Python's truthiness of a JSON value (`run_input or {}`).
bool truthy(const json& v) {
  if (v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0.0;
  if (v.is_string() || v.is_array() || v.is_object()) return !v.empty();
  return true;
}

}  // namespace

std::optional<field_problem> check_flow_run_input_key(const std::string& key) {
  for (char c : key)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      return field_problem{"key", "Value error, value must only contain lowercase letters, numbers, and dashes.",
                           "value_error"};
  return std::nullopt;
}

std::optional<json> run_input_keyset(const run_state& paused) {
  auto keyset = paused.details.find("run_input_keyset");
  if (keyset == paused.details.end() || !keyset->is_object() || keyset->empty()) return std::nullopt;
  return *keyset;
}

bool mentions_workspace_variables(const json& value) {
  if (value.is_object()) {
    if (auto kind = value.find("__prefect_kind"); kind != value.end() && *kind == "workspace_variable") return true;
    for (const auto& [key, item] : value.items())
      if (mentions_workspace_variables(item)) return true;
  }
  if (value.is_array())
    for (const auto& item : value)
      if (mentions_workspace_variables(item)) return true;
  return false;
}

result<json> hydrate_run_input(const json& value, const variable_lookup& variable, const jinja_renderer& render) {
  auto h = hydrate(value, sources{variable, render});
  if (auto* error = std::get_if<status>(&h)) return *error;
  if (std::holds_alternative<removed>(h)) return json::object();
  return std::get<json>(std::move(h));
}

run_input_verdict check_run_input(const json& run_input, const std::optional<std::string>& schema_text,
                                  const variable_lookup& variable) {
  run_input_verdict verdict;
  auto hydrated_input = hydrate_run_input(truthy(run_input) ? run_input : json::object(), variable);
  if (!hydrated_input) {
    verdict.refusal = "Error hydrating run input: " + hydrated_input.error().message();
    return verdict;
  }
  verdict.value = truthy(*hydrated_input) ? std::move(*hydrated_input) : json::object();
  if (!schema_text) {
    verdict.refusal = "Run input schema not found.";
    return verdict;
  }
  auto schema = json::parse(*schema_text, nullptr, false);
  if (schema.is_discarded()) {
    verdict.refusal = "Run input schema is not valid JSON.";
    return verdict;
  }
  if (auto why = check_parameters(verdict.value, schema)) verdict.refusal = "Reason: " + *why;
  return verdict;
}

}  // namespace osprey
