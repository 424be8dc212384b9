#include "http/ui_site.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>
#include <string_view>

namespace osprey::http {
namespace {

using nlohmann::json;

constexpr const char* placeholder = "/PREFECT_UI_SERVE_BASE_REPLACE_PLACEHOLDER";
constexpr const char* version_cookie = "prefect_ui_version";
constexpr const char* immutable = "public, max-age=31536000, immutable";
constexpr const char* revalidate = "no-cache";

/// Prefect's _normalize_ui_base_url: "" → "/", a leading slash added, trailing ones dropped.
std::string normalize_base(std::string base) {
  if (base.empty()) return "/";
  if (base.front() != '/') base.insert(0, "/");
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  return base;
}

std::string join(const std::string& base, std::string_view suffix) {
  while (!suffix.empty() && suffix.front() == '/') suffix.remove_prefix(1);
  return (base == "/" ? "" : base) + "/" + std::string(suffix);
}

bool targets(const std::string& path, const std::string& base) {
  if (base == "/") return path.starts_with("/");
  return path == base || path.starts_with(base + "/");
}

std::string relative_to(const std::string& path, const std::string& base) {
  if (base == "/") return path.empty() ? "/" : path;
  std::string rest = path.substr(base.size());
  return rest.empty() ? "/" : rest;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

/// Prefect's _is_html_navigation (the redirect middleware's test).
bool is_html_navigation(const request& req) {
  if (req.method != "GET" && req.method != "HEAD") return false;
  const auto& dest = req.header("sec-fetch-dest");
  if (req.header("sec-fetch-mode") == "navigate" || dest == "document" || dest == "iframe") return true;
  return lower(req.header("accept")).find("text/html") != std::string::npos;
}

/// FastAPI's _is_frontend_navigation_request (the single-page fallback's test): an Accept entry text/html or
/// application/xhtml+xml whose q is not 0.
bool wants_html(const request& req) {
  std::string_view accept = req.header("accept");
  while (!accept.empty()) {
    const auto comma = accept.find(',');
    std::string item = lower(accept.substr(0, comma));
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    std::erase(item, ' ');
    const auto semicolon = item.find(';');
    const std::string type = item.substr(0, semicolon);
    if (type != "text/html" && type != "application/xhtml+xml") continue;
    const auto q = item.find(";q=", semicolon == std::string::npos ? item.size() : semicolon);
    if (q == std::string::npos) return true;
    const std::string weight = item.substr(q + 3, item.find(';', q + 3) - (q + 3));
    if (weight.find_first_of("123456789") != std::string::npos) return true;
  }
  return false;
}

std::optional<std::string> cookie(const request& req, std::string_view name) {
  std::string_view all = req.header("cookie");
  while (!all.empty()) {
    const auto semicolon = all.find(';');
    std::string_view item = all.substr(0, semicolon);
    all = semicolon == std::string_view::npos ? std::string_view() : all.substr(semicolon + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    const auto eq = item.find('=');
    if (eq != std::string_view::npos && item.substr(0, eq) == name) return std::string(item.substr(eq + 1));
  }
  return std::nullopt;
}

/// Starlette's os.path.normpath of the path inside a bundle: "." dropped, ".." pops; nullopt when ".." climbs
/// out of the bundle or the path holds a NUL.
std::optional<std::string> normalize_inside(std::string_view relative) {
  if (relative.find('\0') != std::string_view::npos) return std::nullopt;
  std::vector<std::string_view> parts;
  while (!relative.empty()) {
    const auto slash = relative.find('/');
    const std::string_view part = relative.substr(0, slash);
    relative = slash == std::string_view::npos ? std::string_view() : relative.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  std::string out;
  for (const auto part : parts) out += (out.empty() ? "" : "/") + std::string(part);
  return out;
}

response redirect(std::string location, const request& req) {
  const auto question = req.target.find('?');
  if (question != std::string::npos) location += req.target.substr(question);
  response r;
  r.status = 307;
  r.content_type.clear();
  r.headers.emplace_back("Location", std::move(location));
  return r;
}

response not_found() { return response::detail(404, "Not Found"); }

}  // namespace

std::shared_ptr<const ui_site> ui_site::load(const ui_options& options, std::vector<std::string>& notes) {
  auto site = std::make_shared<ui_site>();
  site->options_ = options;
  // Prefect's _resolve_ui_base_urls: a base ending in /v2 names the v2 bundle's, and v1 sits above it.
  const std::string base = normalize_base(options.base_path);
  if (base == "/v2") {
    site->v1_base_ = "/";
    site->v2_base_ = base;
  } else if (base.ends_with("/v2")) {
    site->v1_base_ = base.substr(0, base.size() - 3);
    site->v2_base_ = base;
  } else {
    site->v1_base_ = base;
    site->v2_base_ = join(base, "v2");
  }
  if (!options.enabled) return site;
  for (const char* version : {"v1", "v2"}) {
    const std::string& at = std::string(version) == "v1" ? site->v1_base_ : site->v2_base_;
    auto loaded = static_site::load(options.dir / version, {placeholder, at == "/" ? "" : at});
    if (!loaded) {
      notes.push_back(std::string("UI ") + version + " not served: " + loaded.error().message() +
                      " (scripts/prepare-ui.sh installs it; server.ui.dir says where)");
      continue;
    }
    (std::string(version) == "v1" ? site->v1_ : site->v2_) = std::make_shared<const static_site>(std::move(*loaded));
  }
  return site;
}

const static_site* ui_site::bundle(const std::string& version) const {
  return version == "v1" ? v1_.get() : version == "v2" ? v2_.get() : nullptr;
}

std::vector<std::string> ui_site::available() const {
  std::vector<std::string> out;
  if (v1_) out.emplace_back("v1");
  if (v2_) out.emplace_back("v2");
  return out;
}

std::string ui_site::default_ui() const {
  const auto loaded = available();
  for (const auto& v : loaded)
    if (v == options_.default_ui) return v;
  return loaded.empty() ? options_.default_ui : loaded.front();
}

std::string ui_site::settings_json(const request& req) const {
  std::string api_url = options_.api_url;
  if (api_url.empty()) {
    const auto& host = req.header("host");
    api_url = "http://" + (host.empty() ? options_.listen_address : host) + "/api";
  }
  return nlohmann::ordered_json{{"api_url", api_url},
                                {"csrf_enabled", options_.csrf_enabled},
                                {"auth", options_.basic_auth ? json("BASIC") : json(nullptr)},
                                {"flags", json::array()},
                                {"default_ui", default_ui()},
                                {"available_uis", available()},
                                {"v1_base_url", v1_ ? json(v1_base_) : json(nullptr)},
                                {"v2_base_url", v2_ ? json(v2_base_) : json(nullptr)}}
      .dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void ui_site::serve(const request& req, const responder& respond) const {
  const std::string& path = req.path.empty() ? std::string("/") : req.path;
  if (path == "/api" || path.starts_with("/api/") || (!v1_ && !v2_)) return respond(not_found());

  // Prefect's redirect_to_preferred_ui: a page load of the v1 root goes to the preferred UI.
  if (is_html_navigation(req) && !path.ends_with("/ui-settings")) {
    std::optional<std::string> requested;
    std::string relative;
    if (targets(path, v2_base_)) {
      requested = "v2";
      relative = relative_to(path, v2_base_);
    } else if (targets(path, v1_base_)) {
      requested = "v1";
      relative = relative_to(path, v1_base_);
    }
    const bool pass = !requested || (*requested == "v2" && v2_) || (*requested == "v1" && relative != "/");
    if (!pass) {
      const auto chosen = cookie(req, version_cookie);
      const auto loaded = available();
      const bool valid = chosen && std::find(loaded.begin(), loaded.end(), *chosen) != loaded.end();
      const std::string preferred = valid ? *chosen : default_ui();
      if (preferred != *requested) {
        const std::string& to = preferred == "v2" ? v2_base_ : v1_base_;
        return respond(redirect(relative == "/" ? (to == "/" ? "/" : to + "/") : join(to, relative), req));
      }
    }
  }

  // The frontend mounts, the more specific (v2) first.
  const static_site* site = nullptr;
  std::string relative;
  if (v2_ && targets(path, v2_base_)) {
    site = v2_.get();
    relative = path.substr(v2_base_ == "/" ? 1 : std::min(path.size(), v2_base_.size() + 1));
  } else if (v1_ && targets(path, v1_base_)) {
    site = v1_.get();
    relative = path.substr(v1_base_ == "/" ? 1 : std::min(path.size(), v1_base_.size() + 1));
  }
  if (site == nullptr) return respond(not_found());

  const auto inside = normalize_inside(relative);
  const static_file* file = inside ? site->find(*inside) : nullptr;
  const bool folder = file == nullptr && inside && site->is_folder_with_index(*inside);
  if (req.method != "GET" && req.method != "HEAD")
    return respond(file || folder ? response::detail(405, "Method Not Allowed") : not_found());
  bool index = false;
  if (folder) {
    if (!path.ends_with('/')) return respond(redirect(path + "/", req));
    file = site->find(inside->empty() ? "index.html" : *inside + "/index.html");
    index = true;
  }
  if (file == nullptr) {
    if (!wants_html(req)) return respond(not_found());
    file = site->find("index.html");
    index = true;
  }
  const bool hashed = inside && inside->starts_with("assets/") && !index;
  respond(file_response(*file, req.header("accept-encoding"), req.header("if-none-match"),
                        hashed ? immutable : revalidate));
}

void register_ui_site(router& routes, std::shared_ptr<const ui_site> site) {
  routes.add("GET", join(site->v1_base(), "ui-settings"), "The UI's runtime settings (Prefect's UISettings)",
             [site](request& req, responder respond) { respond(response::json(200, site->settings_json(req))); });
  routes.set_fallback([site](request& req, responder respond) { site->serve(req, respond); });
}

}  // namespace osprey::http
