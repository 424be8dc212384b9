// Parameter checks against a deployment's parameter schema (see the header).
#include "domain/parameter_schema.hpp"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "domain/json_text.hpp"

namespace osprey {
namespace {

using nlohmann::json;

/// How deep `$ref`s and nesting are followed; deeper parts are accepted unchecked (a schema referring to
/// itself must not loop).
constexpr int max_depth = 32;
/// How many steps (a schema visited, or one entry of its type, enum, required or properties lists) one call may
/// take; the rest is accepted unchecked, like parts beyond max_depth. Depth alone does not bound the work: anyOf
/// alternatives that each refer back to their schema cost alternatives^(max_depth / 2) visits, and the routes
/// check on the HTTP thread.
constexpr std::size_t max_steps = 100'000;
/// Values are quoted in messages up to this many bytes, then "...": each failed alternative builds a message,
/// so quoting a large value in full would cost its size every time.
constexpr std::size_t max_repr_bytes = 1000;

using path_parts = std::vector<schema_path_part>;

struct failure {
  path_parts path;        ///< keys and indexes from the checked value's root
  std::string validator;  ///< the keyword that failed: "type", "required", ...
  std::string message;
};

/// "x", "x.y", "items[2]" ("" for the root), as Prefect's messages name a field.
std::string dotted(const path_parts& path) {
  std::string out;
  for (const auto& part : path) {
    if (const auto* key = std::get_if<std::string>(&part))
      out += out.empty() ? *key : "." + *key;
    else
      out += "[" + std::to_string(std::get<std::size_t>(part)) + "]";
  }
  return out;
}

path_parts then(path_parts path, schema_path_part part) {
  path.push_back(std::move(part));
  return path;
}

/// Appends Python's repr of a JSON value, as jsonschema's messages show them; stops once `out` is longer than
/// max_repr_bytes.
void append_repr(std::string& out, const json& v) {
  if (out.size() > max_repr_bytes) return;
  if (v.is_string()) {
    out += '\'';
    for (char c : v.get_ref<const std::string&>()) {
      if (out.size() > max_repr_bytes) return;
      out += c == '\'' ? std::string("\\'") : std::string(1, c);
    }
    out += '\'';
  } else if (v.is_boolean()) {
    out += v.get<bool>() ? "True" : "False";
  } else if (v.is_null()) {
    out += "None";
  } else if (v.is_array()) {
    out += '[';
    bool first = true;
    for (const auto& item : v) {
      if (out.size() > max_repr_bytes) return;
      out += first ? "" : ", ";
      append_repr(out, item);
      first = false;
    }
    out += ']';
  } else if (v.is_object()) {
    out += '{';
    bool first = true;
    for (const auto& item : v.items()) {
      if (out.size() > max_repr_bytes) return;
      out += first ? "" : ", ";
      append_repr(out, json(item.key()));
      out += ": ";
      append_repr(out, item.value());
      first = false;
    }
    out += '}';
  } else {
    out += v.dump();
  }
}

std::string repr(const json& v) {
  std::string out;
  append_repr(out, v);
  if (out.size() > max_repr_bytes) out = std::string(utf8_prefix(out, max_repr_bytes)) + "...";
  return out;
}

bool has_type(const json& v, const std::string& type) {
  if (type == "string") return v.is_string();
  if (type == "integer")
    return v.is_number_integer() ||
           (v.is_number_float() && std::isfinite(v.get<double>()) && std::floor(v.get<double>()) == v.get<double>());
  if (type == "number") return v.is_number();
  if (type == "boolean") return v.is_boolean();
  if (type == "array") return v.is_array();
  if (type == "object") return v.is_object();
  if (type == "null") return v.is_null();
  return true;  // a type name JSON Schema does not define: not ours to refuse
}

/// Checks a value against a schema. By default it stops at the first failure (check returns it); with a sink
/// it records every failure there and goes on (check then returns nullopt), except inside anyOf/oneOf, whose
/// alternatives are only asked whether they hold.
class checker {
 public:
  checker(const json& root, bool ignore_required, std::vector<failure>* sink = nullptr)
      : root_(root), ignore_required_(ignore_required), sink_(sink) {}

  std::optional<failure> check(const json& v, const json& schema, const path_parts& path, int depth) const {
    if (depth > max_depth || !schema.is_object() || !step()) return std::nullopt;
    if (auto ref = schema.find("$ref"); ref != schema.end() && ref->is_string()) {
      const auto* target = resolve(ref->get<std::string>());
      if (target) {
        if (auto f = check(v, *target, path, depth + 1)) return f;
      }
    }
    if (auto t = schema.find("type"); t != schema.end()) {
      bool ok = false;
      if (t->is_string())
        ok = has_type(v, t->get<std::string>());
      else if (t->is_array()) {
        for (const auto& each : *t) ok = ok || !step() || (each.is_string() && has_type(v, each.get<std::string>()));
      } else {
        ok = true;
      }
      if (!ok)
        if (auto f = report({path, "type", repr(v) + " is not of type " + repr(*t)})) return f;
    }
    if (auto e = schema.find("enum"); e != schema.end() && e->is_array()) {
      bool found = false;
      for (const auto& option : *e) found = found || !step() || option == v;
      if (!found)
        if (auto f = report({path, "enum", repr(v) + " is not one of " + repr(*e)})) return f;
    }
    if (auto c = schema.find("const"); c != schema.end() && *c != v)
      if (auto f = report({path, "const", repr(*c) + " was expected"})) return f;
    for (const char* key : {"anyOf", "oneOf"}) {
      auto options = schema.find(key);
      if (options == schema.end() || !options->is_array() || options->empty()) continue;
      bool any = false;
      auto* const sink = std::exchange(sink_, nullptr);  // an alternative's failures are not the value's
      for (const auto& option : *options) any = any || !check(v, option, path, depth + 1);
      sink_ = sink;
      if (!any)
        if (auto f = report({path, key, repr(v) + " is not valid under any of the given schemas"})) return f;
    }
    if (auto all = schema.find("allOf"); all != schema.end() && all->is_array())
      for (const auto& part : *all)
        if (auto f = check(v, part, path, depth + 1)) return f;
    if (v.is_object()) {
      if (auto f = check_object(v, schema, path, depth)) return f;
    }
    if (v.is_array()) {
      if (auto items = schema.find("items"); items != schema.end() && items->is_object())
        for (std::size_t i = 0; i < v.size(); ++i)
          if (auto f = check(v[i], *items, then(path, i), depth + 1)) return f;
    }
    return std::nullopt;
  }

 private:
  std::optional<failure> check_object(const json& v, const json& schema, const path_parts& path, int depth) const {
    if (!ignore_required_) {
      if (auto req = schema.find("required"); req != schema.end() && req->is_array())
        for (const auto& name : *req)
          if (step() && name.is_string() && !v.contains(name.get<std::string>()))
            if (auto f = report({path, "required", repr(name) + " is a required property"})) return f;
    }
    if (auto props = schema.find("properties"); props != schema.end() && props->is_object())
      for (const auto& [key, sub] : props->items())
        if (auto it = v.find(key); step() && it != v.end())
          if (auto f = check(*it, sub, then(path, key), depth + 1)) return f;
    return std::nullopt;
  }

  [[nodiscard]] const json* resolve(const std::string& ref) const {
    for (const char* prefix : {"#/definitions/", "#/$defs/"}) {
      const std::string p = prefix;
      if (ref.rfind(p, 0) != 0) continue;
      const auto section = p.substr(2, p.size() - 3);
      auto defs = root_.find(section);
      if (defs == root_.end() || !defs->is_object()) return nullptr;
      auto target = defs->find(ref.substr(p.size()));
      return target == defs->end() ? nullptr : &*target;
    }
    return nullptr;  // remote or unusual references are not followed
  }

  /// A failure found: returned to stop at it, or recorded in the sink (and nullopt returned) to go on.
  std::optional<failure> report(failure f) const {
    if (!sink_) return f;
    sink_->push_back(std::move(f));
    return std::nullopt;
  }

  /// Takes one step; false once max_steps were taken (the caller then accepts what it was checking).
  bool step() const {
    if (steps_left_ == 0) return false;
    --steps_left_;
    return true;
  }

  const json& root_;
  bool ignore_required_;
  mutable std::vector<failure>* sink_;
  mutable std::size_t steps_left_ = max_steps;
};

}  // namespace

std::optional<std::string> check_parameters(const json& parameters, const json& schema, bool ignore_required) {
  checker c(schema, ignore_required);
  auto f = c.check(parameters, schema, {}, 0);
  if (!f) return std::nullopt;
  if (f->path.empty()) return "Validation failed. Failure reason: " + f->message;
  return "Validation failed for field " + repr(json(dotted(f->path))) + ". Failure reason: " + f->message;
}

std::vector<schema_failure> schema_failures(const json& values, const json& schema) {
  std::vector<failure> found;
  checker c(schema, false, &found);
  c.check(values, schema, {}, 0);
  std::vector<schema_failure> out;
  out.reserve(found.size());
  for (auto& f : found) out.push_back({std::move(f.path), std::move(f.validator), std::move(f.message)});
  return out;
}

namespace {

void preprocess_properties(json& properties, const json& required) {
  if (!properties.is_object()) return;
  for (auto& [key, sub] : properties.items()) {
    if (!sub.is_object()) continue;
    const bool is_required =
        required.is_array() && std::find(required.begin(), required.end(), json(key)) != required.end();
    if (!is_required && sub.contains("type") && sub["type"] != "null" && !sub.contains("default")) {
      sub["anyOf"] = json::array({{{"type", sub["type"]}}, {{"type", "null"}}});
      sub.erase("type");
    }
    if (auto items = sub.find("items");
        items != sub.end() && items->is_array() && !items->empty() && !sub.contains("prefixItems")) {
      sub["prefixItems"] = *items;
      sub.erase("items");
    }
    // As Prefect: a nested object's optional properties are judged against its own `required` list.
    if (auto nested = sub.find("properties"); nested != sub.end())
      preprocess_properties(*nested, sub.value("required", json::array()));
  }
}

}  // namespace

json preprocess_parameter_schema(json schema) {
  if (!schema.is_object()) return schema;
  if (auto props = schema.find("properties"); props != schema.end())
    preprocess_properties(*props, schema.value("required", json::array()));
  if (auto defs = schema.find("definitions"); defs != schema.end() && defs->is_object()) {
    json replaced = json::object();
    for (auto& [name, definition] : defs->items()) {
      if (!definition.is_object()) continue;
      if (auto props = definition.find("properties"); props != definition.end())
        preprocess_properties(*props, definition.value("required", json::array()));
      if (definition.contains("block_type_slug") && definition.contains("title") && definition["title"].is_string()) {
        const json reference = {
            {"type", "object"},
            {"properties",
             {{"$ref",
               {{"oneOf",
                 json::array(
                     {{{"type", "string"}, {"format", "uuid"}},
                      {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}, {"minProperties", 1}}})}}}}},
            {"required", json::array({"$ref"})}};
        replaced[definition["title"].get<std::string>()] = {{"oneOf", json::array({definition, reference})}};
      }
    }
    for (auto& [name, value] : replaced.items()) (*defs)[name] = std::move(value);
  }
  return schema;
}

json validation_report(const std::vector<schema_failure>& failures) {
  // Placeholder failures hide the others of their path (prioritize_placeholder_errors).
  std::vector<const schema_failure*> kept;
  for (const auto& f : failures) {
    bool hidden = false;
    if (f.validator != "_placeholders")
      for (const auto& other : failures)
        hidden = hidden || (other.validator == "_placeholders" && other.path == f.path);
    if (!hidden) kept.push_back(&f);
  }
  json errors = json::array();
  for (const auto* f : kept) {
    auto path = f->path;
    if (f->validator == "required") {
      // "'name' is a required property": the error belongs to the missing property.
      const auto& m = f->message;
      const auto end = m.find(' ');
      std::string name = m.substr(0, end);
      if (name.size() >= 2 && name.front() == '\'' && name.back() == '\'') name = name.substr(1, name.size() - 2);
      path.emplace_back(std::move(name));
    }
    json* current = &errors;
    if (path.empty()) current->push_back(f->message);
    for (std::size_t i = 0; i < path.size(); ++i) {
      const bool last = i + 1 == path.size();
      const bool is_index = std::holds_alternative<std::size_t>(path[i]);
      const char* kind = is_index ? "index" : "property";
      const json label = is_index ? json(std::get<std::size_t>(path[i])) : json(std::get<std::string>(path[i]));
      if (last) {
        current->push_back({{kind, label}, {"errors", json::array({f->message})}});
        break;
      }
      json* entry = nullptr;
      for (auto& e : *current)
        if (e.is_object() && e.contains(kind) && e[kind] == label) entry = &e;
      if (!entry) {
        current->push_back({{kind, label}, {"errors", json::array()}});
        entry = &current->back();
      }
      current = &(*entry)["errors"];
    }
  }
  const bool valid = errors.empty();
  return {{"errors", std::move(errors)}, {"valid", valid}};
}

}  // namespace osprey
