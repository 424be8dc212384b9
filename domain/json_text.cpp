#include "domain/json_text.hpp"
#include "domain/json_string.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace osprey {

namespace {

/// The deepest nesting of brackets outside strings in `text`, stopping early once past `limit`. Malformed text
/// gives some number; what matters is that it is never lower than the depth nlohmann's parser reaches while it
/// accepts a prefix of the text (strings in that prefix are well formed, so both count the same brackets).
std::size_t bracket_depth(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;  // the escaped character cannot end the string
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

/// The parse that checks the depth as it goes: a callback per value, about half as fast as a plain parse.
parsed_json parse_bounded(std::string_view text, std::size_t max_depth) {
  using event = nlohmann::json::parse_event_t;
  bool too_deep = false;
  // `depth` counts the containers around the event: 0 for the top-level value, so a container opened at
  // depth d is level d + 1. Once too deep, every later value is discarded too: nothing more is built while the
  // parser runs to the end of the text (iteratively, at a bit per open container).
  auto limit = [&too_deep, max_depth](int depth, event e, nlohmann::json&) {
    if (too_deep) return false;
    if ((e == event::object_start || e == event::array_start) && static_cast<std::size_t>(depth) >= max_depth) {
      too_deep = true;
      return false;
    }
    return true;
  };
  parsed_json out;
  out.value = nlohmann::json::parse(text.begin(), text.end(), limit, /*allow_exceptions=*/false);
  if (too_deep) {
    out.value = nlohmann::json::value_t::discarded;
    out.error = parsed_json::problem::too_deep;
  } else if (out.value.is_discarded()) {
    out.error = parsed_json::problem::syntax;
  }
  return out;
}

/// A simdjson element as nlohmann's parser would have built it: non-negative integers unsigned, negative ones
/// signed, a repeated key's last value kept. Recurses once per level: the parse bounded the depth.
nlohmann::json to_nlohmann(simdjson::dom::element e) {
  using type = simdjson::dom::element_type;
  switch (e.type()) {
    case type::ARRAY: {
      auto out = nlohmann::json::array();
      const simdjson::dom::array items = e.get_array().value_unsafe();  // a handle, held past the loop's start
      for (const auto item : items) out.push_back(to_nlohmann(item));
      return out;
    }
    case type::OBJECT: {
      auto out = nlohmann::json::object();
      const simdjson::dom::object fields = e.get_object().value_unsafe();
      for (const auto field : fields) out[std::string(field.key)] = to_nlohmann(field.value);
      return out;
    }
    case type::INT64: {
      const std::int64_t i = e.get_int64().value_unsafe();
      if (i >= 0) return nlohmann::json(static_cast<std::uint64_t>(i));
      return nlohmann::json(i);
    }
    case type::UINT64: return nlohmann::json(e.get_uint64().value_unsafe());
    case type::DOUBLE: return nlohmann::json(e.get_double().value_unsafe());
    case type::STRING: return nlohmann::json(std::string(e.get_string().value_unsafe()));
    case type::BOOL: return nlohmann::json(e.get_bool().value_unsafe());
    case type::NULL_VALUE: break;
  }
  return nlohmann::json(nullptr);
}

/// The document, when simdjson accepts it within `max_depth` levels; nothing otherwise (any refusal: syntax,
/// depth, a number beyond 64 bits, which nlohmann reads as a double).
std::optional<nlohmann::json> parse_json_fast(std::string_view text, std::size_t max_depth) {
  if (max_depth == 0) return std::nullopt;  // simdjson takes 0 as no limit at all
  thread_local simdjson::dom::parser parser;
  if (parser.max_depth() != max_depth && parser.allocate(std::max<std::size_t>(text.size(), 4096), max_depth))
    return std::nullopt;
  simdjson::dom::element root;
  if (parser.parse(text.data(), text.size()).get(root)) return std::nullopt;
  return to_nlohmann(root);
}

parsed_json parse_json_plain(std::string_view text, std::size_t max_depth) {
  // Text whose brackets never nest past the limit cannot make the bounded parse refuse it, so the plain parse
  // gives the same answer; anything deeper takes the bounded parse, which says which problem comes first.
  if (bracket_depth(text, max_depth) > max_depth) return parse_bounded(text, max_depth);
  parsed_json out;
  out.value = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (out.value.is_discarded()) out.error = parsed_json::problem::syntax;
  return out;
}

}  // namespace

parsed_json parse_json(std::string_view text, std::size_t max_depth) {
  // The fast path: simdjson validates the whole text (and its nesting) before anything is built. Whatever it
  // refuses takes nlohmann's own parse, which gives exactly the answer it always gave (syntax or too_deep), so
  // the fast path can only change how quickly a good document is read, never what is accepted.
  if (auto fast = parse_json_fast(text, max_depth)) {
    parsed_json out;
    out.value = std::move(*fast);
    return out;
  }
  return parse_json_plain(text, max_depth);
}

std::string too_deep_message(std::size_t max_depth) {
  return "JSON nested deeper than " + std::to_string(max_depth) + " levels is not accepted";
}

std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t cut = max_bytes;
  // Back up over continuation bytes (10xxxxxx) to the start of the character that would be cut.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut);
}

bool holds_nul(const nlohmann::json& value) {
  std::vector<const nlohmann::json*> pending{&value};
  while (!pending.empty()) {
    const nlohmann::json& v = *pending.back();
    pending.pop_back();
    if (v.is_string()) {
      if (v.get_ref<const std::string&>().find('\0') != std::string::npos) return true;
    } else if (v.is_object()) {
      for (const auto& [key, item] : v.items()) {
        if (key.find('\0') != std::string::npos) return true;
        pending.push_back(&item);
      }
    } else if (v.is_array()) {
      for (const auto& item : v) pending.push_back(&item);
    }
  }
  return false;
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  if (std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
    out += nlohmann::json(std::string(text)).dump();  // UTF-8 (and its validation) left to nlohmann: rare here
    return;
  }
  out.push_back('"');
  std::size_t plain = 0;  // start of the run of characters written as they are
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + plain, i - plain);  // whole runs: a push_back per character cost 30 instructions
    plain = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 0xF]);
    }
  }
  out.append(text.data() + plain, text.size() - plain);
  out.push_back('"');
}

}  // namespace osprey
