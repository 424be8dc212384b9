#include "http/csrf.hpp"

#include <nlohmann/json.hpp>

#include "http/api_support.hpp"
#include "persistence/csrf_token_store.hpp"
#include "persistence/database_calls.hpp"

namespace osprey::http {
namespace {

// Enough for every client of a busy server within one token lifetime; past it, expired entries go first.
constexpr std::size_t cache_limit = 10'000;

nlohmann::json token_json(const csrf_token& t) {
  return {{"id", t.id.to_string()},
          {"created", format_iso8601(t.created)},
          {"updated", format_iso8601(t.updated)},
          {"token", t.token},
          {"client", t.client},
          {"expiration", format_iso8601(t.expiration)}};
}

response refusal(csrf_verdict v) {
  auto r = response::detail(403, csrf_refusal_detail(v));
  // As Prefect: a browser on another origin may read why, so the UI can fetch a fresh token.
  if (v == csrf_verdict::invalid) r.headers.emplace_back("Access-Control-Allow-Origin", "*");
  return r;
}

}  // namespace

csrf_guard::csrf_guard(persistence::database db, const clock* time, std::chrono::seconds token_lifetime)
    : db_(std::move(db)), time_(time), lifetime_(token_lifetime) {}

std::optional<csrf_token> csrf_guard::cached(const std::string& client, timestamp now) {
  std::lock_guard lock(mutex_);
  auto it = tokens_.find(client);
  if (it == tokens_.end()) return std::nullopt;
  if (it->second.expiration <= now) {
    tokens_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void csrf_guard::remember(const csrf_token& t, timestamp now) {
  std::lock_guard lock(mutex_);
  if (tokens_.size() >= cache_limit) {
    std::erase_if(tokens_, [now](const auto& entry) { return entry.second.expiration <= now; });
    if (tokens_.size() >= cache_limit) tokens_.clear();  // a cache: the database still knows them all
  }
  tokens_.insert_or_assign(t.client, t);
}

void csrf_guard::admit(request& req, responder respond, const handler& next) {
  if (!csrf_token_needed(req.method)) return next(req, std::move(respond));
  const auto& token = req.header("prefect-csrf-token");
  const auto& client = req.header("prefect-csrf-client");
  const auto now = time_->now();
  auto known = cached(client, now);
  auto verdict = judge_csrf(token, client, known ? &*known : nullptr, now);
  if (verdict == csrf_verdict::accepted) return next(req, std::move(respond));
  if (verdict != csrf_verdict::invalid) return respond(refusal(verdict));
  // Not in memory, or another token: the client may have one from before a restart, or from another server.
  persistence::read_value(
      db_, [client, now](persistence::sql_connection& c) { return persistence::find_csrf_token(c, client, now); },
      [self = shared_from_this(), &req, respond, next, token, client,
       now](const result<std::optional<csrf_token>>& stored) {
        if (!stored) return respond(error_response(stored.error()));
        const csrf_token* found = stored->has_value() ? &**stored : nullptr;
        auto judged = judge_csrf(token, client, found, now);
        if (judged != csrf_verdict::accepted) return respond(refusal(judged));
        self->remember(**stored, now);
        try {
          next(req, respond);
        } catch (const std::exception&) {
          respond(response::json(500, R"({"exception_message":"Internal Server Error"})"));
        }
      });
}

void csrf_guard::issue(request& req, responder respond) {
  auto client = req.query.find("client");
  if (client == req.query.end()) return respond(query_validation_error("client", "Field required", "missing"));
  const auto now = time_->now();
  auto fresh = issue_csrf_token(client->second, now, lifetime_);
  persistence::write_value(
      db_, [fresh](persistence::sql_connection& c) { return persistence::put_csrf_token(c, fresh); },
      [self = shared_from_this(), respond, now](const result<csrf_token>& stored) {
        if (!stored) return respond(error_response(stored.error()));
        self->remember(*stored, now);
        respond(response::json(200, dump_lenient(token_json(*stored))));
      });
}

void register_csrf_token_route(router& routes, std::shared_ptr<csrf_guard> guard) {
  routes.add("GET", "/api/csrf-token", "A CSRF token for ?client= (422 while CSRF protection is disabled)",
             [guard](request& req, responder respond) {
               if (!guard) return respond(response::detail(422, "CSRF protection is disabled."));
               guard->issue(req, std::move(respond));
             });
}

}  // namespace osprey::http
