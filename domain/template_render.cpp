// The Jinja subset renderer (see the header).
#include "domain/template_render.hpp"

#include <cctype>
#include <optional>
#include <utility>

namespace osprey {
namespace {

using nlohmann::json;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

/// Looks one step down: an object's key (Prefect resources also answer .id, .name and .role for their
/// prefect.resource.* labels), a list's index. nullopt: undefined.
std::optional<json> step(const json& value, const std::string& key) {
  if (value.is_object()) {
    if (auto it = value.find(key); it != value.end()) return *it;
    if (key == "id" || key == "name" || key == "role")
      if (auto it = value.find("prefect.resource." + key); it != value.end()) return *it;
    return std::nullopt;
  }
  if (value.is_array() && !key.empty() && std::all_of(key.begin(), key.end(), ::isdigit)) {
    const auto i = std::stoul(key);
    if (i < value.size()) return value[i];
  }
  return std::nullopt;
}

/// Evaluates a path expression; nullopt (with `error` set) when it is not one.
std::optional<std::optional<json>> evaluate(std::string_view expr, const json& context, std::string& error) {
  std::size_t i = 0;
  std::optional<json> value = context;
  bool first = true;
  while (i < expr.size()) {
    std::string key;
    if (expr[i] == '.' && !first) {
      ++i;
      while (i < expr.size() && name_char(expr[i])) key += expr[i++];
      if (key.empty()) break;
    } else if (expr[i] == '[' && !first) {
      const auto close = expr.find(']', i);
      if (close == std::string_view::npos) break;
      auto inner = trim(expr.substr(i + 1, close - i - 1));
      if (inner.size() >= 2 && (inner.front() == '"' || inner.front() == '\'') && inner.back() == inner.front())
        key = std::string(inner.substr(1, inner.size() - 2));
      else if (!inner.empty() && std::all_of(inner.begin(), inner.end(), ::isdigit))
        key = std::string(inner);
      else
        break;
      i = close + 1;
    } else if (first && name_char(expr[i]) && !std::isdigit(static_cast<unsigned char>(expr[i]))) {
      while (i < expr.size() && name_char(expr[i])) key += expr[i++];
    } else {
      break;
    }
    first = false;
    if (value) value = step(*value, key);
  }
  if (i != expr.size() || first) {
    error = "unsupported template expression {{ " + std::string(expr) +
            " }}: this server renders names and attribute paths only (no calls or operators)";
    return std::nullopt;
  }
  return value;
}

/// Jinja's `tojson` filter (htmlsafe_json_dumps): Python's json.dumps separators, and <, >, & and ' escaped
/// so that the text is safe inside HTML; parsing it back gives the value.
void append_python_json(const json& v, std::string& out) {
  if (v.is_object()) {
    out += '{';
    bool first = true;
    for (const auto& [key, item] : v.items()) {
      if (!first) out += ", ";
      first = false;
      out += json(key).dump();
      out += ": ";
      append_python_json(item, out);
    }
    out += '}';
  } else if (v.is_array()) {
    out += '[';
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i > 0) out += ", ";
      append_python_json(v[i], out);
    }
    out += ']';
  } else {
    out += v.dump();
  }
}

std::string html_safe_json(const json& v) {
  std::string plain, out;
  append_python_json(v, plain);
  for (const char c : plain) {
    switch (c) {
      case '<': out += "\\u003c"; break;
      case '>': out += "\\u003e"; break;
      case '&': out += "\\u0026"; break;
      case '\'': out += "\\u0027"; break;
      default: out += c;
    }
  }
  return out;
}

/// `expr` split at its last `|` outside brackets and quotes: the value's expression and the filter's name
/// (empty when there is none).
std::pair<std::string_view, std::string_view> split_filter(std::string_view expr) {
  char quote = 0;
  int depth = 0;
  std::size_t bar = std::string_view::npos;
  for (std::size_t i = 0; i < expr.size(); ++i) {
    const char c = expr[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[') {
      ++depth;
    } else if (c == ']') {
      --depth;
    } else if (c == '|' && depth == 0) {
      bar = i;
    }
  }
  if (bar == std::string_view::npos) return {expr, {}};
  return {trim(expr.substr(0, bar)), trim(expr.substr(bar + 1))};
}

std::string text_of(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "None";
  if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
  return v.dump();
}

}  // namespace

result<std::string> render_jinja(std::string_view source, const nlohmann::json& context) {
  std::string out;
  std::size_t i = 0;
  while (i < source.size()) {
    const auto open = source.find('{', i);
    if (open == std::string_view::npos || open + 1 >= source.size()) {
      out.append(source.substr(i));
      break;
    }
    const char kind = source[open + 1];
    if (kind != '{' && kind != '%' && kind != '#') {
      out.append(source.substr(i, open + 1 - i));
      i = open + 1;
      continue;
    }
    out.append(source.substr(i, open - i));
    const std::string closer = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
    const auto close = source.find(closer, open + 2);
    if (close == std::string_view::npos)
      return {errc::invalid_argument, "template: unexpected end of template, '" + closer + "' missing"};
    const auto inner = trim(source.substr(open + 2, close - open - 2));
    if (kind == '%')
      return {errc::invalid_argument, "unsupported template statement {% " + std::string(inner) +
                                          " %}: this server renders {{ expressions }} only"};
    if (kind == '{') {
      const auto [expr, filter] = split_filter(inner);
      if (!filter.empty() && filter != "tojson")
        return {errc::invalid_argument, "unsupported template filter {{ " + std::string(inner) +
                                            " }}: this server renders the tojson filter only"};
      std::string error;
      auto value = evaluate(expr, context, error);
      if (!value) return {errc::invalid_argument, error};
      if (filter == "tojson") {
        if (!*value)
          return {errc::invalid_argument,
                  "Object of type Undefined is not JSON serializable ({{ " + std::string(inner) + " }})"};
        out += html_safe_json(**value);
      } else if (*value) {
        out += text_of(**value);
      }
    }
    i = close + 2;
  }
  return out;
}

}  // namespace osprey
