#pragma once
// Reading JSON from clients, checks on JSON the server will store, and cutting text safely.
//
// Nesting is bounded where text becomes a value: nlohmann's parser is iterative, but copying, comparing and
// serialising a value recurse once per level, so a document nested 20 000 deep would overflow a thread's stack
// later. Every client-supplied text (request bodies, websocket frames, page tokens) is parsed with parse_json;
// values built from such text are then at most `max_depth` deep, which our recursive uses can afford.

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace osprey {

/// Nesting depth accepted when nothing else is configured (server.json_max_depth). Prefect has no limit of its
/// own; real flow parameters and event payloads stay far below it.
inline constexpr std::size_t default_json_max_depth = 128;
/// The largest depth server.json_max_depth may be set to: SQLite's JSON functions refuse documents nested
/// deeper than 1000 levels, and serialising recurses once per level.
inline constexpr std::size_t largest_json_max_depth = 1000;

struct parsed_json {
  enum class problem { none, syntax, too_deep };
  nlohmann::json value;  ///< the document when `error` is none, else discarded
  problem error = problem::none;
  [[nodiscard]] bool ok() const noexcept { return error == problem::none; }
};

/// Parses one JSON document whose arrays and objects nest at most `max_depth` levels (`[]` and `{}` are one
/// level, `[[1]]` two, a scalar none). Deeper input is refused while parsing (too_deep): no part below the
/// limit is built, and nothing recurses. Never throws.
parsed_json parse_json(std::string_view text, std::size_t max_depth);

/// The message for a too_deep document, naming the limit.
std::string too_deep_message(std::size_t max_depth);

/// The longest prefix of `text` at most `max_bytes` long that does not end inside a UTF-8 sequence. Messages are
/// shortened with it, never at a raw byte offset: cutting valid UTF-8 this way leaves valid UTF-8 (a cut
/// character would make the message unserialisable as JSON, and a websocket close reason invalid).
std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes);

/// True when any string or object key in `value` holds U+0000. PostgreSQL cannot store it in text or jsonb
/// (libpq even cuts text at it), so no stored string may hold it. Walks with an explicit stack: any depth is
/// safe.
bool holds_nul(const nlohmann::json& value);

}  // namespace osprey
