#include "domain/block_checksum.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <cstdio>
#include <set>

namespace osprey {
namespace {

using nlohmann::json;

void append_escaped(std::string& out, const std::string& s) {
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::uint32_t cp = c;
    std::size_t len = 1;
    if (c >= 0xF0 && i + 3 < s.size() + 0) {
      cp = ((c & 0x07u) << 18) | ((s[i + 1] & 0x3Fu) << 12) | ((s[i + 2] & 0x3Fu) << 6) | (s[i + 3] & 0x3Fu);
      len = 4;
    } else if (c >= 0xE0 && i + 2 < s.size()) {
      cp = ((c & 0x0Fu) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu);
      len = 3;
    } else if (c >= 0xC0 && i + 1 < s.size()) {
      cp = ((c & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu);
      len = 2;
    }
    i += len;
    char buf[16];
    switch (cp) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (cp >= 0x20 && cp < 0x7F) {
      out += static_cast<char>(cp);
    } else if (cp < 0x10000) {
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
      out += buf;
    } else {
      const auto v = cp - 0x10000;
      std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xD800u + (v >> 10), 0xDC00u + (v & 0x3FFu));
      out += buf;
    }
  }
  out += '"';
}

/// Python's float repr: the shortest round-trip digits, scientific when the exponent is < -4 or >= 16.
void append_float(std::string& out, double v) {
  if (v != v) {
    out += "NaN";
    return;
  }
  if (v == std::numeric_limits<double>::infinity()) {
    out += "Infinity";
    return;
  }
  if (v == -std::numeric_limits<double>::infinity()) {
    out += "-Infinity";
    return;
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, end);  // "-d.ddde+XX"
  std::string sign;
  if (sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  const auto e = sci.find('e');
  std::string digits = sci.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exponent = std::stoi(sci.substr(e + 1));
  out += sign;
  if (exponent < -4 || exponent >= 16) {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char ebuf[16];
    std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exponent < 0 ? '-' : '+', exponent < 0 ? -exponent : exponent);
    out += ebuf;
  } else if (exponent < 0) {
    out += "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
  } else {
    const auto point = static_cast<std::size_t>(exponent) + 1;
    if (digits.size() <= point) {
      out += digits + std::string(point - digits.size(), '0') + ".0";
    } else {
      out += digits.substr(0, point) + "." + digits.substr(point);
    }
  }
}

void append(std::string& out, const json& v) {
  switch (v.type()) {
    case json::value_t::null: out += "null"; return;
    case json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; return;
    case json::value_t::number_integer: out += std::to_string(v.get<std::int64_t>()); return;
    case json::value_t::number_unsigned: out += std::to_string(v.get<std::uint64_t>()); return;
    case json::value_t::number_float: append_float(out, v.get<double>()); return;
    case json::value_t::string: append_escaped(out, v.get_ref<const std::string&>()); return;
    case json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& item : v) {
        if (!first) out += ", ";
        first = false;
        append(out, item);
      }
      out += ']';
      return;
    }
    case json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : v.items()) {  // nlohmann::json keeps keys sorted by bytes = code points
        if (!first) out += ", ";
        first = false;
        append_escaped(out, key);
        out += ": ";
        append(out, item);
      }
      out += '}';
      return;
    }
    default: out += "null"; return;
  }
}

void collect_refs(const json& v, std::vector<std::string>& out) {
  if (v.is_object()) {
    if (auto it = v.find("$ref"); it != v.end() && it->is_string() && !it->get_ref<const std::string&>().empty())
      out.push_back(it->get<std::string>());
    for (const auto& [key, child] : v.items()) collect_refs(child, out);
  } else if (v.is_array()) {
    for (const auto& child : v) collect_refs(child, out);
  }
}

std::string definition_key(std::string ref) {
  static const std::string prefix = "#/definitions/";
  for (auto at = ref.find(prefix); at != std::string::npos; at = ref.find(prefix)) ref.erase(at, prefix.size());
  return ref;
}

void gather(const json& object, const json& definitions, bool blocks_too, json& out, std::set<std::string>& seen) {
  std::vector<std::string> refs;
  collect_refs(object, refs);
  for (const auto& ref : refs) {
    const auto key = definition_key(ref);
    auto it = definitions.find(key);
    if (it == definitions.end() || seen.count(key)) continue;
    const bool is_block = it->is_object() && it->contains("block_type_slug") && !(*it)["block_type_slug"].is_null();
    if (!blocks_too && (is_block || it->empty() || it->is_null())) continue;
    seen.insert(key);
    out[key] = *it;
    gather(*it, definitions, blocks_too, out, seen);
  }
}

json without_secret_fields(const json& v) {
  if (!v.is_object()) return v;
  json out = json::object();
  for (const auto& [key, child] : v.items())
    if (key != "secret_fields") out[key] = without_secret_fields(child);
  return out;
}

}  // namespace

std::string python_json_text(const json& value) {
  std::string out;
  append(out, value);
  return out;
}

json non_block_definitions(const json& object, const json& definitions) {
  json out = json::object();
  std::set<std::string> seen;
  if (definitions.is_object()) gather(object, definitions, false, out, seen);
  return out;
}

json referenced_definitions(const json& object, const json& definitions) {
  json out = json::object();
  std::set<std::string> seen;
  if (definitions.is_object()) gather(object, definitions, true, out, seen);
  return out;
}

std::string block_schema_checksum(const json& fields) {
  json f = without_secret_fields(fields);
  if (f.is_object()) {
    auto defs = f.find("definitions");
    if (defs != f.end() &&
        !(defs->is_null() || (defs->is_object() && defs->empty()) || (defs->is_array() && defs->empty()))) {
      json kept = non_block_definitions(f, *defs);
      if (kept.empty()) {
        f.erase("definitions");
      } else {
        f["definitions"] = kept;
      }
    }
  }
  const std::string text = python_json_text(json::array({json::array({f}), json::object()}));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  std::string out = "sha256:";
  static const char* hex = "0123456789abcdef";
  for (unsigned i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0xF];
  }
  return out;
}

}  // namespace osprey
