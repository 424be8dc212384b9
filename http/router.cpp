#include "http/router.hpp"

#include <stdexcept>

#include <array>
#include <cassert>
#include <memory>
#include <string_view>

namespace osprey::http {
namespace {

/// Paths deeper than this never match (no template is anywhere near it); keeps splitting allocation-free.
constexpr std::size_t max_segments = 32;

bool is_capture(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

/// Splits "/a/b/" into {"a", "b"}: the leading slash and one trailing slash are ignored, inner empty
/// segments are kept (so "/a//b" does not match "/a/b"). Returns false when the path has too many segments.
bool split_path(std::string_view path, std::array<std::string_view, max_segments>& out, std::size_t& count) {
  count = 0;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.empty()) return true;
  for (;;) {
    if (count == max_segments) return false;
    const auto slash = path.find('/');
    out[count++] = path.substr(0, slash);
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

bool matches(const router::route& r, const std::array<std::string_view, max_segments>& segs, std::size_t n) {
  if (r.segments.size() != n) return false;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string& t = r.segments[i];
    if (is_capture(t)) {
      if (segs[i].empty()) return false;
    } else if (t != segs[i]) {
      return false;
    }
  }
  return true;
}

/// True when `a` should win over `b`: at the first position where one has a literal and the other a
/// capture, the literal wins. Equal shapes keep registration order (the earlier route wins).
bool more_specific(const router::route& a, const router::route& b) {
  for (std::size_t i = 0; i < a.segments.size(); ++i) {
    const bool a_lit = !is_capture(a.segments[i]);
    const bool b_lit = !is_capture(b.segments[i]);
    if (a_lit != b_lit) return a_lit;
  }
  return false;
}

/// Whether the comma-separated `list` ("GET, POST") already names `method`.
bool lists_method(std::string_view list, std::string_view method) {
  while (!list.empty()) {
    const auto comma = list.find(", ");
    if (list.substr(0, comma) == method) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 2);
  }
  return false;
}

}  // namespace

void router::add(std::string method, std::string path_template, std::string summary, handler h) {
  route r;
  std::array<std::string_view, max_segments> segs;
  std::size_t n = 0;
  const bool ok = split_path(path_template, segs, n);
  // Route templates are written by us, not by clients; a template this deep is a programming error.
  assert(ok && "route template has too many segments");
  (void)ok;
  r.segments.assign(segs.begin(), segs.begin() + static_cast<std::ptrdiff_t>(n));
  // A second registration would never be reached (the first match wins): a programming error, caught at start.
  for (const auto& existing : routes_)
    if (existing.method == method && existing.segments == r.segments)
      throw std::logic_error("route registered twice: " + method + " " + path_template);
  r.method = std::move(method);
  r.path_template = std::move(path_template);
  r.summary = std::move(summary);
  r.h = std::move(h);
  routes_.push_back(std::move(r));
}

void router::add_websocket(std::string path_template, std::string summary, websocket_factory factory,
                           std::vector<std::string> subprotocols) {
  auto shared_factory = std::make_shared<const websocket_factory>(std::move(factory));
  add("GET", std::move(path_template), std::move(summary),
      [shared_factory, subprotocols = std::move(subprotocols)](request& req, responder respond) {
        if (!is_websocket_upgrade(req)) {
          response r = response::detail(426, "WebSocket upgrade required");
          r.headers.emplace_back("Upgrade", "websocket");
          return respond(std::move(r));
        }
        response r;
        r.status = 101;
        r.upgrade = std::make_shared<websocket_upgrade>();
        r.upgrade->subprotocol = select_subprotocol(req.header("sec-websocket-protocol"), subprotocols);
        // The request is reused by the connection once it answers: the factory gets its own copy.
        r.upgrade->start = [shared_factory, req](const std::shared_ptr<websocket_connection>& conn) {
          return (*shared_factory)(req, conn);
        };
        respond(std::move(r));
      });
}

void router::dispatch(request& req, responder respond) const {
  std::array<std::string_view, max_segments> segs;
  std::size_t n = 0;
  const route* best = nullptr;
  bool path_matched = false;
  if (split_path(req.path, segs, n)) {
    for (const route& r : routes_) {
      if (!matches(r, segs, n)) continue;
      path_matched = true;
      if (r.method != req.method) continue;
      if (best == nullptr || more_specific(r, *best)) best = &r;
    }
  }
  if (best == nullptr) {
    if (!path_matched) {
      req.path_params.clear();
      if (fallback_) return fallback_(req, std::move(respond));
      respond(response::detail(404, "Not Found"));
      return;
    }
    response r = response::detail(405, "Method Not Allowed");
    std::string allow;
    for (const route& candidate : routes_) {
      if (!matches(candidate, segs, n) || lists_method(allow, candidate.method)) continue;
      if (!allow.empty()) allow += ", ";
      allow += candidate.method;
    }
    r.headers.emplace_back("Allow", std::move(allow));
    respond(std::move(r));
    return;
  }
  req.path_params.clear();
  for (std::size_t i = 0; i < n; ++i) {
    const std::string& t = best->segments[i];
    if (is_capture(t)) req.path_params.insert_or_assign(t.substr(1, t.size() - 2), std::string(segs[i]));
  }
  best->h(req, std::move(respond));
}

}  // namespace osprey::http
