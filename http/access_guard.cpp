#include "http/access_guard.hpp"

#include <nlohmann/json.hpp>

#include "domain/basic_auth.hpp"
#include "logging/log.hpp"
#include "persistence/api_key_store.hpp"
#include "persistence/database_calls.hpp"

namespace osprey::http {
namespace {

using steady = std::chrono::steady_clock;

constexpr auto failure_window = std::chrono::seconds(60);
constexpr auto touch_every = std::chrono::seconds(60);
// Enough for every key and client of a busy server; past it the maps start over (the database still knows).
constexpr std::size_t map_limit = 10'000;

bool is_probe(const request& req) {
  return req.method == "GET" && (req.path == "/api/health" || req.path == "/api/ready");
}

access_refusal unauthorized(std::string detail) { return {401, std::move(detail), {}}; }

}  // namespace

response refusal_response(const access_refusal& r) {
  nlohmann::json body = {{"detail", r.detail}};
  if (r.status == 401) body["exception_message"] = "Unauthorized";
  auto out = response::json(r.status, body.dump());
  if (r.status == 401) out.headers.emplace_back("WWW-Authenticate", "Basic realm=\"osprey\"");
  if (r.status == 429) out.headers.emplace_back("Retry-After", std::to_string(r.retry_after.count()));
  return out;
}

access_guard::access_guard(persistence::database db, const clock* time, access_options options)
    : db_(std::move(db)),
      time_(time),
      options_(std::move(options)),
      enabled_(!options_.auth_string.empty() || options_.require_api_key) {}

void access_guard::admit(request& req, api_scope needed, responder respond,
                         const std::function<void(request&, responder)>& next) {
  if (!enabled_ || (options_.health_without_auth && is_probe(req))) return next(req, std::move(respond));
  const auto credential = presented_credential(req.header("authorization"));
  judge(credential.value_or(""), needed, req.remote_address,
        [&req, respond, next](std::optional<access_refusal> refused) {
          if (refused) return respond(refusal_response(*refused));
          try {
            next(req, respond);
          } catch (const std::exception&) {
            respond(response::json(500, R"({"exception_message":"Internal Server Error"})"));
          }
        });
}

void access_guard::check_token(const std::string& token, api_scope needed, const std::string& peer,
                               std::function<void(std::optional<access_refusal>)> done) {
  if (!enabled_) return done(std::nullopt);
  judge(token, needed, peer, std::move(done));
}

void access_guard::judge(const std::string& credential, api_scope needed, const std::string& peer,
                         verdict_callback done) {
  if (auto refused = throttled(peer)) return done(std::move(refused));
  if (credential.empty())
    return done(unauthorized("Authentication required: send the server's auth string or an API key"));
  if (!options_.auth_string.empty() && same_secret(credential, options_.auth_string)) return done(std::nullopt);
  const auto text = api_key_in(credential);
  if (!text) return done(failed(peer, "Invalid credentials", ""));
  const auto key_id = *api_key_id_of(*text);
  if (auto known = fresh(key_id)) return done(verdict_for(*text, &*known, needed, peer));
  persistence::read_value(
      db_, [key_id](persistence::sql_connection& c) { return persistence::find_api_key_by_key_id(c, key_id); },
      [self = shared_from_this(), text = *text, needed, peer, done](const result<std::optional<api_key>>& found) {
        if (!found) return done(access_refusal{503, "Checking the API key failed: " + found.error().message(), {}});
        if (*found) self->remember(**found);
        done(self->verdict_for(text, found->has_value() ? &**found : nullptr, needed, peer));
      });
}

std::optional<access_refusal> access_guard::verdict_for(const std::string& text, const api_key* stored,
                                                        api_scope needed, const std::string& peer) {
  const auto key_id = api_key_id_of(text).value_or("");
  switch (judge_api_key(text, stored, needed, time_->now())) {
    case api_key_verdict::accepted: touch_if_due(*stored); return std::nullopt;
    case api_key_verdict::unknown: return failed(peer, "Invalid API key", key_id);
    case api_key_verdict::revoked: return failed(peer, "API key '" + stored->name + "' was revoked", key_id);
    case api_key_verdict::expired: return failed(peer, "API key '" + stored->name + "' has expired", key_id);
    case api_key_verdict::insufficient_scope:
      return access_refusal{403,
                            "API key '" + stored->name + "' has scope " + std::string(to_string(stored->scope)) +
                                "; this route needs " + std::string(to_string(needed)),
                            {}};
  }
  return failed(peer, "Invalid API key", key_id);
}

std::optional<access_refusal> access_guard::throttled(const std::string& peer) {
  std::lock_guard lock(mutex_);
  auto it = failures_.find(peer);
  if (it == failures_.end() || it->second.count < failures_allowed) return std::nullopt;
  const auto left = it->second.window_start + failure_window - steady::now();
  if (left <= steady::duration::zero()) {
    failures_.erase(it);
    return std::nullopt;
  }
  const auto seconds = std::chrono::ceil<std::chrono::seconds>(left);
  return access_refusal{
      429, "Too many failed authentication attempts; retry in " + std::to_string(seconds.count()) + " s", seconds};
}

access_refusal access_guard::failed(const std::string& peer, std::string detail, const std::string& key_id) {
  std::size_t count = 0;
  {
    std::lock_guard lock(mutex_);
    const auto now = steady::now();
    if (failures_.size() >= map_limit && !failures_.contains(peer)) failures_.clear();
    auto& f = failures_[peer];
    if (f.count == 0 || now - f.window_start >= failure_window) f = {now, 0};
    count = ++f.count;
  }
  // One line when a window's failures start and one when the peer is throttled: a guesser cannot flood the log.
  const std::string who = peer.empty() ? std::string("an unknown address") : peer;
  if (count == 1)
    log::line(log::level::warning, "auth", "authentication failed from ", who, ": ", detail,
              key_id.empty() ? "" : " (key id ", key_id, key_id.empty() ? "" : ")");
  if (count == failures_allowed)
    log::line(log::level::warning, "auth", "refusing ", who, " for a minute: ", count,
              " failed authentication attempts");
  return unauthorized(std::move(detail));
}

std::optional<api_key> access_guard::fresh(const std::string& key_id) {
  std::lock_guard lock(mutex_);
  auto it = keys_.find(key_id);
  if (it == keys_.end() || steady::now() - it->second.checked >= recheck_after) return std::nullopt;
  return it->second.key;
}

void access_guard::remember(const api_key& k) {
  std::lock_guard lock(mutex_);
  if (keys_.size() >= map_limit && !keys_.contains(k.key_id)) keys_.clear();
  auto [it, inserted] = keys_.try_emplace(k.key_id, known_key{k, steady::now(), steady::time_point{}});
  if (!inserted) {
    it->second.key = k;
    it->second.checked = steady::now();
  }
}

void access_guard::touch_if_due(const api_key& k) {
  {
    std::lock_guard lock(mutex_);
    auto it = keys_.find(k.key_id);
    if (it == keys_.end()) return;
    const auto now = steady::now();
    if (it->second.touched != steady::time_point{} && now - it->second.touched < touch_every) return;
    it->second.touched = now;
  }
  // Bookkeeping only: a failed write is retried by the next use a minute later.
  persistence::write_value(
      db_, [id = k.id, at = time_->now()](persistence::sql_connection& c) { persistence::touch_api_key(c, id, at); },
      [](const status&) {});
}

}  // namespace osprey::http
