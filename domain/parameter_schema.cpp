// Parameter checks against a deployment's parameter schema (see the header).
#include "domain/parameter_schema.hpp"

#include <cmath>

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

struct failure {
  std::string path;  ///< "x", "x.y", "items[2]" ("" for the root)
  std::string message;
};

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
    if (depth > max_depth || !schema.is_object() || !step()) return std::nullopt;
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
        for (const auto& each : *t) ok = ok || !step() || (each.is_string() && has_type(v, each.get<std::string>()));
      } else {
        ok = true;
      }
      if (!ok) return failure{path, repr(v) + " is not of type " + repr(*t)};
    }
    if (auto e = schema.find("enum"); e != schema.end() && e->is_array()) {
      bool found = false;
      for (const auto& option : *e) found = found || !step() || option == v;
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
          if (step() && name.is_string() && !v.contains(name.get<std::string>()))
            return failure{path, repr(name) + " is a required property"};
    }
    if (auto props = schema.find("properties"); props != schema.end() && props->is_object())
      for (const auto& [key, sub] : props->items())
        if (auto it = v.find(key); step() && it != v.end())
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

  /// Takes one step; false once max_steps were taken (the caller then accepts what it was checking).
  bool step() const {
    if (steps_left_ == 0) return false;
    --steps_left_;
    return true;
  }

  const json& root_;
  bool ignore_required_;
  mutable std::size_t steps_left_ = max_steps;
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
