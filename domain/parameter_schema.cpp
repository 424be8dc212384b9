// Parameter checks against a deployment's parameter schema (see the header).
#include "domain/parameter_schema.hpp"

#include <cmath>

namespace osprey {
namespace {

using nlohmann::json;

/// How deep `$ref`s and nesting are followed; deeper parts are accepted unchecked (a schema referring to
/// itself must not loop).
constexpr int max_depth = 32;

struct failure {
  std::string path;  ///< "x", "x.y", "items[2]" ("" for the root)
  std::string message;
};

/// Python's repr of a JSON value, as jsonschema's messages show them.
std::string repr(const json& v) {
  if (v.is_string()) {
    std::string s = "'";
    for (char c : v.get_ref<const std::string&>()) s += c == '\'' ? std::string("\\'") : std::string(1, c);
    return s + "'";
  }
  if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
  if (v.is_null()) return "None";
  if (v.is_array()) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + repr(v[i]);
    return s + "]";
  }
  if (v.is_object()) {
    std::string s = "{";
    bool first = true;
    for (const auto& [k, item] : v.items()) {
      s += (first ? "" : ", ") + repr(json(k)) + ": " + repr(item);
      first = false;
    }
    return s + "}";
  }
  return v.dump();
}

bool has_type(const json& v, const std::string& type) {
  if (type == "string") return v.is_string();
  if (type == "integer")
    return v.is_number_integer() || (v.is_number_float() && std::isfinite(v.get<double>()) &&
                                     std::floor(v.get<double>()) == v.get<double>());
  if (type == "number") return v.is_number();
  if (type == "boolean") return v.is_boolean();
  if (type == "array") return v.is_array();
  if (type == "object") return v.is_object();
  if (type == "null") return v.is_null();
  return true;  // a type name JSON Schema does not define: not ours to refuse
}

std::string join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

class checker {
public:
  checker(const json& root, bool ignore_required) : root_(root), ignore_required_(ignore_required) {}

  std::optional<failure> check(const json& v, const json& schema, const std::string& path, int depth) const {
    if (depth > max_depth || !schema.is_object()) return std::nullopt;
    if (auto ref = schema.find("$ref"); ref != schema.end() && ref->is_string()) {
      const auto* target = resolve(ref->get<std::string>());
      if (target) {
        if (auto f = check(v, *target, path, depth + 1)) return f;
      }
    }
    if (auto t = schema.find("type"); t != schema.end()) {
      bool ok = false;
      if (t->is_string()) ok = has_type(v, t->get<std::string>());
      else if (t->is_array()) {
        for (const auto& each : *t) ok = ok || (each.is_string() && has_type(v, each.get<std::string>()));
      } else {
        ok = true;
      }
      if (!ok) return failure{path, repr(v) + " is not of type " + repr(*t)};
    }
    if (auto e = schema.find("enum"); e != schema.end() && e->is_array()) {
      bool found = false;
      for (const auto& option : *e) found = found || option == v;
      if (!found) return failure{path, repr(v) + " is not one of " + repr(*e)};
    }
    if (auto c = schema.find("const"); c != schema.end() && *c != v)
      return failure{path, repr(*c) + " was expected"};
    for (const char* key : {"anyOf", "oneOf"}) {
      auto options = schema.find(key);
      if (options == schema.end() || !options->is_array() || options->empty()) continue;
      bool any = false;
      for (const auto& option : *options) any = any || !check(v, option, path, depth + 1);
      if (!any) return failure{path, repr(v) + " is not valid under any of the given schemas"};
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
          if (auto f = check(v[i], *items, path + "[" + std::to_string(i) + "]", depth + 1)) return f;
    }
    return std::nullopt;
  }

private:
  std::optional<failure> check_object(const json& v, const json& schema, const std::string& path, int depth) const {
    if (!ignore_required_) {
      if (auto req = schema.find("required"); req != schema.end() && req->is_array())
        for (const auto& name : *req)
          if (name.is_string() && !v.contains(name.get<std::string>()))
            return failure{path, repr(name) + " is a required property"};
    }
    if (auto props = schema.find("properties"); props != schema.end() && props->is_object())
      for (const auto& [key, sub] : props->items())
        if (auto it = v.find(key); it != v.end())
          if (auto f = check(*it, sub, join(path, key), depth + 1)) return f;
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

  const json& root_;
  bool ignore_required_;
};

}  // namespace

std::optional<std::string> check_parameters(const json& parameters, const json& schema, bool ignore_required) {
  checker c(schema, ignore_required);
  auto f = c.check(parameters, schema, "", 0);
  if (!f) return std::nullopt;
  if (f->path.empty()) return "Validation failed. Failure reason: " + f->message;
  return "Validation failed for field " + repr(json(f->path)) + ". Failure reason: " + f->message;
}

}  // namespace osprey
