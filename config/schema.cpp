#include "config/schema.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <limits>
#include <type_traits>

#include "config/loader.hpp"
#include "domain/json_text.hpp"

namespace osprey::config::detail {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string got(std::string_view raw) { return raw.empty() ? "got an empty value" : "got '" + std::string(raw) + "'"; }

namespace {

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

template <class T>
struct is_duration : std::false_type {};
template <class Rep, class Period>
struct is_duration<std::chrono::duration<Rep, Period>> : std::true_type {};

/// An unsigned integer or a duration counted in the unit its key names (_seconds, _ms, _us).
/// `get` is a generic lambda returning a reference to the member, for const and non-const settings.
template <class Get>
field number_field(std::string key, std::uint64_t min, std::uint64_t max, Get get) {
  auto apply = [min, max, get](std::string_view raw, settings& into) -> std::optional<std::string> {
    const auto n = parse_uint(raw);
    if (!n || *n < min || *n > max) {
      if (max == std::numeric_limits<std::uint64_t>::max()) {
        return "expected an integer >= " + std::to_string(min) + ", " + got(raw);
      }
      return "expected an integer between " + std::to_string(min) + " and " + std::to_string(max) + ", " + got(raw);
    }
    auto& target = get(into);
    using target_type = std::remove_reference_t<decltype(target)>;
    if constexpr (is_duration<target_type>::value) {
      target = target_type{static_cast<typename target_type::rep>(*n)};
    } else {
      target = static_cast<target_type>(*n);
    }
    return std::nullopt;
  };
  auto show = [get](const settings& from) {
    const auto& value = get(from);
    if constexpr (is_duration<std::remove_cvref_t<decltype(value)>>::value) {
      return std::to_string(value.count());
    } else {
      return std::to_string(value);
    }
  };
  return {std::move(key), apply, show};
}

template <class Get>
field bool_field(std::string key, Get get) {
  auto apply = [get](std::string_view raw, settings& into) -> std::optional<std::string> {
    const auto b = parse_bool(raw);
    if (!b) return "expected a boolean (true/false, yes/no, on/off, 1/0), " + got(raw);
    get(into) = *b;
    return std::nullopt;
  };
  auto show = [get](const settings& from) { return std::string(get(from) ? "true" : "false"); };
  return {std::move(key), apply, show};
}

/// One of a fixed set of words, matched in any case and stored in the spelling given in `choices`.
template <class Get>
field choice_field(std::string key, std::vector<std::string> choices, Get get) {
  auto apply = [choices, get](std::string_view raw, settings& into) -> std::optional<std::string> {
    for (const auto& choice : choices) {
      if (lower(choice) == lower(raw)) {
        get(into) = choice;
        return std::nullopt;
      }
    }
    std::string list;
    for (const auto& choice : choices) list += (list.empty() ? "" : ", ") + choice;
    return "expected one of " + list + ", " + got(raw);
  };
  auto show = [get](const settings& from) { return std::string(get(from)); };
  return {std::move(key), apply, show};
}

std::optional<std::string> check_host(std::string_view host) {
  if (host.empty()) return "expected a host name or address, got an empty value";
  return std::nullopt;
}

std::optional<std::string> check_database_url(std::string_view url) {
  if (url.empty()) return std::nullopt;  // empty means the default sqlite file under OSPREY_HOME
  if (url.starts_with("sqlite:///")) {
    if (url.size() == std::string_view("sqlite:///").size()) {
      return "a sqlite URL needs a path: sqlite:////absolute/path.db, sqlite:///relative.db or "
             "sqlite:///:memory:";
    }
    return std::nullopt;
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) return std::nullopt;
  // The URL may carry a password: echo only its redacted form.
  return "unsupported URL '" + redact_url(std::string(url)) +
         "': expected sqlite:///PATH, postgresql://... or postgres://...";
}

std::optional<std::string> any_path(std::string_view) { return std::nullopt; }

/// "" (derived from the request) or an absolute http(s) URL.
std::optional<std::string> check_ui_api_url(std::string_view url) {
  const auto l = lower(url);
  if (url.empty() || ((l.starts_with("http://") || l.starts_with("https://")) &&
                      url.find_first_of(" \t\"<>") == std::string_view::npos))
    return std::nullopt;
  return "expected an absolute URL such as https://prefect.example.com/api, " + got(url);
}

/// A URL path: "/", "/prefect"; no query, fragment or spaces.
std::optional<std::string> check_ui_base_path(std::string_view path) {
  if (path.find_first_of("?#\\ \t\"<>") == std::string_view::npos && path.find("..") == std::string_view::npos)
    return std::nullopt;
  return "expected a URL path such as / or /prefect, " + got(path);
}

template <class Get>
field text_field(std::string key, std::optional<std::string> (*check)(std::string_view), Get get) {
  auto apply = [check, get](std::string_view raw, settings& into) -> std::optional<std::string> {
    if (auto problem = check(raw)) return problem;
    get(into) = std::string(raw);
    return std::nullopt;
  };
  auto show = [get](const settings& from) { return std::string(get(from)); };
  return {std::move(key), apply, show};
}

/// A secret: stored as given, shown as "<secret>" (or "" when unset).
template <class Get>
field secret_field(std::string key, Get get) {
  auto apply = [get](std::string_view raw, settings& into) -> std::optional<std::string> {
    get(into) = std::string(raw);
    return std::nullopt;
  };
  auto show = [get](const settings& from) { return get(from).empty() ? std::string() : std::string("<secret>"); };
  return {std::move(key), apply, show};
}

/// Comma-separated items, each checked by `check`; "" is the empty list.
template <class Get>
field list_field(std::string key, std::optional<std::string> (*check)(std::string_view), Get get) {
  auto apply = [check, get](std::string_view raw, settings& into) -> std::optional<std::string> {
    std::vector<std::string> items;
    while (!raw.empty()) {
      const auto comma = raw.find(',');
      std::string_view item = raw.substr(0, comma);
      raw = comma == std::string_view::npos ? std::string_view() : raw.substr(comma + 1);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      if (item.empty()) continue;
      if (auto problem = check(item)) return problem;
      items.emplace_back(item);
    }
    get(into) = std::move(items);
    return std::nullopt;
  };
  auto show = [get](const settings& from) {
    std::string out;
    for (const auto& item : get(from)) out += (out.empty() ? "" : ", ") + item;
    return out;
  };
  return {std::move(key), apply, show, true};
}

/// An origin as browsers send it: http(s)://host[:port], no path.
std::optional<std::string> check_origin(std::string_view origin) {
  const auto separator = origin.find("://");
  const auto scheme = lower(origin.substr(0, separator));
  std::string_view rest = separator == std::string_view::npos ? std::string_view() : origin.substr(separator + 3);
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if ((scheme == "http" || scheme == "https") && !rest.empty() && rest.find_first_of("/?#@ ") == std::string_view::npos)
    return std::nullopt;
  return "expected origins such as https://ui.example.com or http://10.0.0.5:8080 (scheme, host, optional port; "
         "no path), " +
         got(origin);
}

std::vector<field> build_fields() {
  constexpr auto day_seconds = 86'400u;
  constexpr auto any = std::numeric_limits<std::uint64_t>::max();
  std::vector<field> out;
  out.push_back(text_field(
      "server.host", check_host, [](auto& s) -> auto& { return s.server.host; }));
  out.push_back(secret_field(
      "server.auth_string", [](auto& s) -> auto& { return s.server.auth_string; }));
  out.push_back(bool_field(
      "server.require_api_key", [](auto& s) -> auto& { return s.server.require_api_key; }));
  out.push_back(bool_field(
      "server.health_without_auth", [](auto& s) -> auto& { return s.server.health_without_auth; }));
  out.push_back(bool_field(
      "server.csrf_protection", [](auto& s) -> auto& { return s.server.csrf_protection; }));
  out.push_back(number_field(
      "server.csrf_token_expiration_seconds", 60, 30 * day_seconds,
      [](auto& s) -> auto& { return s.server.csrf_token_expiration; }));
  out.push_back(number_field(
      "server.port", 0, 65535, [](auto& s) -> auto& { return s.server.port; }));
  out.push_back(number_field(
      "server.io_threads", 1, 64, [](auto& s) -> auto& { return s.server.io_threads; }));
  out.push_back(number_field(
      "server.max_body_bytes", 1, any, [](auto& s) -> auto& { return s.server.max_body_bytes; }));
  out.push_back(number_field(
      "server.max_header_bytes", 1024, 1 << 20, [](auto& s) -> auto& { return s.server.max_header_bytes; }));
  out.push_back(number_field(
      "server.max_connections", 0, 1'000'000, [](auto& s) -> auto& { return s.server.max_connections; }));
  out.push_back(number_field(
      "server.max_websockets", 0, 1'000'000, [](auto& s) -> auto& { return s.server.max_websockets; }));
  out.push_back(number_field(
      "server.json_max_depth", 1, largest_json_max_depth, [](auto& s) -> auto& { return s.server.json_max_depth; }));
  out.push_back(number_field(
      "server.max_name_length", 16, 65536, [](auto& s) -> auto& { return s.server.max_name_length; }));
  out.push_back(list_field(
      "server.allowed_origins", check_origin, [](auto& s) -> auto& { return s.server.allowed_origins; }));
  out.push_back(number_field(
      "server.keep_alive_timeout_seconds", 1, day_seconds,
      [](auto& s) -> auto& { return s.server.keep_alive_timeout; }));
  out.push_back(number_field(
      "server.request_timeout_seconds", 1, day_seconds, [](auto& s) -> auto& { return s.server.request_timeout; }));
  out.push_back(number_field(
      "server.shutdown_grace_seconds", 0, day_seconds, [](auto& s) -> auto& { return s.server.shutdown_grace; }));
  out.push_back(bool_field(
      "server.ui.enabled", [](auto& s) -> auto& { return s.server.ui.enabled; }));
  out.push_back(text_field(
      "server.ui.dir", any_path, [](auto& s) -> auto& { return s.server.ui.dir; }));
  out.push_back(text_field(
      "server.ui.api_url", check_ui_api_url, [](auto& s) -> auto& { return s.server.ui.api_url; }));
  out.push_back(text_field(
      "server.ui.base_path", check_ui_base_path, [](auto& s) -> auto& { return s.server.ui.base_path; }));
  out.push_back(choice_field(
      "server.ui.default", {"v2", "v1"}, [](auto& s) -> auto& { return s.server.ui.default_ui; }));
  out.push_back(text_field(
      "database.url", check_database_url, [](auto& s) -> auto& { return s.database.url; }));
  out.push_back(bool_field(
      "database.migrate_on_start", [](auto& s) -> auto& { return s.database.migrate_on_start; }));
  out.push_back(number_field(
      "database.timeout_ms", 0, day_seconds * 1000ull, [](auto& s) -> auto& { return s.database.busy_timeout; }));
  out.push_back(number_field(
      "database.group_commit.max_batch", 1, 1'000'000,
      [](auto& s) -> auto& { return s.database.group_commit_max_batch; }));
  out.push_back(number_field(
      "database.group_commit.max_delay_us", 0, 10'000'000,
      [](auto& s) -> auto& { return s.database.group_commit_max_delay; }));
  out.push_back(number_field(
      "database.readers", 1, 32, [](auto& s) -> auto& { return s.database.readers; }));
  out.push_back(choice_field(
      "database.sqlite_synchronous", {"FULL", "NORMAL"},
      [](auto& s) -> auto& { return s.database.sqlite_synchronous; }));
  out.push_back(number_field(
      "database.sqlite_max_size_mb", 0, 1ull << 24, [](auto& s) -> auto& { return s.database.sqlite_max_size_mb; }));
  out.push_back(choice_field(
      "logging.level", {"debug", "info", "warning", "error"}, [](auto& s) -> auto& { return s.logging.level; }));
  out.push_back(number_field(
      "concurrency.tag_slot_wait_seconds", 0, day_seconds,
      [](auto& s) -> auto& { return s.concurrency.tag_slot_wait; }));
  out.push_back(number_field(
      "concurrency.maximum_slot_wait_seconds", 0, day_seconds,
      [](auto& s) -> auto& { return s.concurrency.maximum_slot_wait; }));
  out.push_back(bool_field(
      "services.concurrency_lease_reaper.enabled", [](auto& s) -> auto& { return s.services.lease_reaper_enabled; }));
  out.push_back(number_field(
      "services.concurrency_lease_reaper.interval_seconds", 1, day_seconds,
      [](auto& s) -> auto& { return s.services.lease_reaper_interval; }));
  out.push_back(text_field(
      "encryption.key_file", any_path, [](auto& s) -> auto& { return s.encryption.key_file; }));
  out.push_back(bool_field(
      "services.foreman.enabled", [](auto& s) -> auto& { return s.services.foreman_enabled; }));
  out.push_back(number_field(
      "services.foreman.interval_seconds", 1, day_seconds,
      [](auto& s) -> auto& { return s.services.foreman_interval; }));
  out.push_back(number_field(
      "services.foreman.inactivity_heartbeat_multiple", 1, 1000,
      [](auto& s) -> auto& { return s.services.foreman_heartbeat_multiple; }));
  out.push_back(number_field(
      "services.foreman.fallback_heartbeat_interval_seconds", 1, day_seconds,
      [](auto& s) -> auto& { return s.services.foreman_fallback_heartbeat; }));
  out.push_back(number_field(
      "services.foreman.work_queue_last_polled_timeout_seconds", 1, day_seconds,
      [](auto& s) -> auto& { return s.services.foreman_queue_timeout; }));
  out.push_back(number_field(
      "services.foreman.deployment_last_polled_timeout_seconds", 1, day_seconds,
      [](auto& s) -> auto& { return s.services.foreman_deployment_timeout; }));
  out.push_back(bool_field(
      "services.late_runs.enabled", [](auto& s) -> auto& { return s.services.late_runs_enabled; }));
  out.push_back(number_field(
      "services.late_runs.loop_seconds", 1, day_seconds,
      [](auto& s) -> auto& { return s.services.late_runs_interval; }));
  out.push_back(number_field(
      "services.late_runs.after_seconds", 0, day_seconds, [](auto& s) -> auto& { return s.services.late_runs_after; }));
  out.push_back(bool_field(
      "services.cancellation_cleanup.enabled",
      [](auto& s) -> auto& { return s.services.cancellation_cleanup_enabled; }));
  out.push_back(number_field(
      "services.cancellation_cleanup.loop_seconds", 1, day_seconds,
      [](auto& s) -> auto& { return s.services.cancellation_cleanup_interval; }));
  out.push_back(number_field(
      "services.cancellation_cleanup.cancelling_timeout_seconds", 1, day_seconds,
      [](auto& s) -> auto& { return s.services.cancelling_timeout; }));
  out.push_back(bool_field(
      "services.pause_expirations.enabled", [](auto& s) -> auto& { return s.services.pause_expirations_enabled; }));
  out.push_back(number_field(
      "services.pause_expirations.loop_seconds", 1, day_seconds,
      [](auto& s) -> auto& { return s.services.pause_expirations_interval; }));
  out.push_back(bool_field(
      "services.scheduler.enabled", [](auto& s) -> auto& { return s.services.scheduler_enabled; }));
  out.push_back(number_field(
      "services.scheduler.loop_seconds", 1, day_seconds, [](auto& s) -> auto& { return s.services.scheduler_loop; }));
  out.push_back(number_field(
      "services.scheduler.deployment_batch_size", 1, 100'000,
      [](auto& s) -> auto& { return s.services.scheduler_batch; }));
  out.push_back(number_field(
      "services.scheduler.min_runs", 0, 10'000, [](auto& s) -> auto& { return s.services.scheduler_min_runs; }));
  out.push_back(number_field(
      "services.scheduler.max_runs", 1, 10'000, [](auto& s) -> auto& { return s.services.scheduler_max_runs; }));
  out.push_back(number_field(
      "services.scheduler.min_scheduled_time_seconds", 0, 3650 * day_seconds,
      [](auto& s) -> auto& { return s.services.scheduler_min_time; }));
  out.push_back(number_field(
      "services.scheduler.max_scheduled_time_seconds", 1, 3650 * day_seconds,
      [](auto& s) -> auto& { return s.services.scheduler_max_time; }));
  out.push_back(bool_field(
      "services.db_vacuum.enabled", [](auto& s) -> auto& { return s.services.db_vacuum_enabled; }));
  out.push_back(number_field(
      "services.db_vacuum.loop_seconds", 1, day_seconds,
      [](auto& s) -> auto& { return s.services.db_vacuum_interval; }));
  out.push_back(number_field(
      "services.db_vacuum.batch_size", 1, 100'000, [](auto& s) -> auto& { return s.services.db_vacuum_batch; }));
  out.push_back(number_field(
      "services.db_vacuum.event_retention_days", 1, 36'500,
      [](auto& s) -> auto& { return s.services.event_retention_days; }));
  out.push_back(bool_field(
      "services.db_vacuum.flow_runs", [](auto& s) -> auto& { return s.services.db_vacuum_flow_runs; }));
  out.push_back(number_field(
      "services.db_vacuum.flow_run_retention_days", 1, 36'500,
      [](auto& s) -> auto& { return s.services.flow_run_retention_days; }));
  out.push_back(number_field(
      "services.cluster.heartbeat_seconds", 1, 600, [](auto& s) -> auto& { return s.services.cluster_heartbeat; }));
  out.push_back(number_field(
      "services.cluster.dead_after_seconds", 3, 3600, [](auto& s) -> auto& { return s.services.cluster_dead_after; }));
  return out;
}

}  // namespace

const std::vector<field>& fields() {
  static const std::vector<field> table = build_fields();
  return table;
}

const field* find_field(std::string_view key) {
  for (const auto& f : fields()) {
    if (f.key == key) return &f;
  }
  return nullptr;
}

bool is_section(std::string_view prefix) { return !prefix.empty() && !children(prefix).empty(); }

std::vector<std::string> children(std::string_view prefix) {
  std::vector<std::string> out;
  const std::string start = prefix.empty() ? "" : std::string(prefix) + ".";
  for (const auto& f : fields()) {
    if (!f.key.starts_with(start)) continue;
    const auto rest = std::string_view(f.key).substr(start.size());
    std::string child(rest.substr(0, rest.find('.')));
    if (std::find(out.begin(), out.end(), child) == out.end()) out.push_back(std::move(child));
  }
  return out;
}

std::string environment_name(std::string_view key) {
  std::string name = "OSPREY_" + upper(key);
  std::replace(name.begin(), name.end(), '.', '_');
  return name;
}

std::optional<bool> parse_bool(std::string_view text) {
  const auto word = lower(text);
  if (word == "true" || word == "yes" || word == "on" || word == "1") return true;
  if (word == "false" || word == "no" || word == "off" || word == "0") return false;
  return std::nullopt;
}

std::optional<std::uint64_t> parse_uint(std::string_view text) {
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text.front()))) return std::nullopt;
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

}  // namespace osprey::config::detail
