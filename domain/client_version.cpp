#include "domain/client_version.hpp"

#include <array>
#include <cctype>
#include <charconv>

namespace osprey {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads a non-negative integer at `pos`; advances `pos`. False when there is no digit.
bool read_int(std::string_view s, std::size_t& pos, int& out) {
  const std::size_t start = pos;
  while (pos < s.size() && is_digit(s[pos])) ++pos;
  if (pos == start) return false;
  auto [ptr, ec] = std::from_chars(s.data() + start, s.data() + pos, out);
  return ec == std::errc{} && ptr == s.data() + pos;
}

bool read_release(std::string_view s, std::size_t& pos, release_version& v) {
  return read_int(s, pos, v.major) && pos < s.size() && s[pos++] == '.' && read_int(s, pos, v.minor) &&
         pos < s.size() && s[pos++] == '.' && read_int(s, pos, v.patch);
}

struct phase_word {
  std::string_view word;
  release_version::phase stage;
};

// Longest words first so "alpha" is not read as "a" + "lpha".
constexpr std::array<phase_word, 9> phase_words = {{
    {"alpha", release_version::phase::alpha},
    {"beta", release_version::phase::beta},
    {"post", release_version::phase::post},
    {"dev", release_version::phase::dev},
    {"rc", release_version::phase::rc},
    {"a", release_version::phase::alpha},
    {"b", release_version::phase::beta},
    {"c", release_version::phase::rc},
    {"pre", release_version::phase::rc},
}};

// The suffix after X.Y.Z: [.]phase[N] at most once, then an optional "+local". Anything else is malformed.
bool read_suffix(std::string_view s, std::size_t pos, release_version& v) {
  if (pos == s.size()) return true;
  if (s[pos] != '+') {
    if (s[pos] == '.') ++pos;
    bool matched = false;
    for (const auto& w : phase_words) {
      if (s.substr(pos).starts_with(w.word)) {
        v.stage = w.stage;
        pos += w.word.size();
        matched = true;
        break;
      }
    }
    if (!matched) return false;
    if (pos < s.size() && is_digit(s[pos]) && !read_int(s, pos, v.stage_number)) return false;
  }
  if (pos == s.size()) return true;
  if (s[pos] != '+' || pos + 1 == s.size()) return false;
  for (std::size_t i = pos + 1; i < s.size(); ++i)
    if (!std::isalnum(static_cast<unsigned char>(s[i])) && s[i] != '.') return false;
  return true;
}

}  // namespace

std::strong_ordering operator<=>(const release_version& a, const release_version& b) noexcept {
  if (auto c = a.major <=> b.major; c != 0) return c;
  if (auto c = a.minor <=> b.minor; c != 0) return c;
  if (auto c = a.patch <=> b.patch; c != 0) return c;
  if (auto c = a.stage <=> b.stage; c != 0) return c;
  return a.stage_number <=> b.stage_number;
}

std::optional<release_version> parse_release_version(std::string_view text) {
  release_version v;
  std::size_t pos = 0;
  if (!read_release(text, pos, v) || !read_suffix(text, pos, v)) return std::nullopt;
  v.text = std::string(text);
  return v;
}

std::optional<release_version> parse_prefect_user_agent(std::string_view user_agent) {
  constexpr std::string_view prefix = "prefect/";
  if (!user_agent.starts_with(prefix)) return std::nullopt;
  auto rest = user_agent.substr(prefix.size());
  auto space = rest.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  auto tail = rest.substr(space + 1);  // "(API 0.8.4)"
  constexpr std::string_view api = "(API ";
  if (!tail.starts_with(api) || !tail.ends_with(")")) return std::nullopt;
  auto api_text = tail.substr(api.size(), tail.size() - api.size() - 1);
  if (api_text.empty()) return std::nullopt;
  for (char c : api_text)
    if (std::isspace(static_cast<unsigned char>(c))) return std::nullopt;
  // Prefect's pattern only allows [a-z.+0-9] after X.Y.Z.
  auto version_text = rest.substr(0, space);
  for (char c : version_text)
    if (!(is_digit(c) || (c >= 'a' && c <= 'z') || c == '.' || c == '+')) return std::nullopt;
  return parse_release_version(version_text);
}

std::optional<release_version> parse_api_version(std::string_view header) {
  release_version v;
  std::size_t pos = 0;
  if (!read_release(header, pos, v) || pos != header.size()) return std::nullopt;
  v.text = std::string(header);
  return v;
}

bool client_info::tracks_pauses() const noexcept {
  const release_version v084{0, 8, 4, release_version::phase::final, 0, {}};
  return !api_version || *api_version >= v084;
}

bool client_info::renews_deployment_leases() const noexcept {
  const release_version v3411{3, 4, 11, release_version::phase::final, 0, {}};
  return client_version && *client_version >= v3411;
}

bool client_info::manages_deployment_concurrency() const noexcept {
  if (!client_version) return false;
  for (std::string_view w : {"3.0.0rc20", "3.0.0", "3.0.1", "3.0.2", "3.0.3"})
    if (client_version->text == w) return true;
  return false;
}

}  // namespace osprey
