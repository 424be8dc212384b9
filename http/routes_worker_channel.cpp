// WS /api/work_pools/{name}/workers/connect: Prefect 3.9.1's worker channel (server/api/workers.py
// worker_channel_connect, server/utilities/worker_channel.py), which `prefect worker start` tries first and
// falls back from to REST heartbeats when it is refused. Frames: worker_channel_frames.hpp.
//
// The handshake:
//   1. Prefect's websocket auth (ws_auth_gate.hpp), with the `prefect` subprotocol required: {"type":"auth",
//      "token":...} → {"type":"auth_success"}; every refusal closes 1008 "authentication_failed".
//   2. worker.hello.v1 → the server selects work_pool_worker_channel.v1 (else 1008 "unsupported_version"),
//      finds the pool by the path's name, creating it when the hello asks and the name is not reserved
//      (else 1008 "authorization_failed"), resolves the hello's queues (all of the pool's when none is named;
//      an unknown one: "authorization_failed"), gives a pool without a base job template the hello's default,
//      and records a heartbeat as POST .../workers/heartbeat does (a NOT_READY pool becomes READY). All in one
//      transaction; then it answers worker.ready.v1: worker_heartbeat.v1 and work_pool_snapshot.v1 accepted
//      (cleanup_delivery.v1 is never granted: it needs a cleanup queue), the resolved queues and the pool's
//      first snapshot.
//   3. Then the worker sends worker.heartbeat.v1 every interval, each recorded like a REST heartbeat; the server
//      sends work_pool.snapshot.v1 (numbered from 2) when a pool route changes what workers act on (reason
//      "work_pool_updated", also after step 2 filled the template), or when a heartbeat finds the pool's
//      `updated` moved ("heartbeat_reconciliation"). Deleting the pool closes "authorization_failed".
// Invalid JSON, a malformed frame, a frame out of turn or a heartbeat naming another worker close 1002
// "protocol_error"; a failed heartbeat write 1011 "heartbeat_persistence_failed"; any other server failure 1011
// "transient_server_error". Cleanup ack/release/renew frames are answered "unauthorized".
#include <nlohmann/json.hpp>

#include <mutex>
#include <set>
#include <utility>
#include <variant>

#include "http/api_support.hpp"
#include "http/routes.hpp"
#include "http/websocket.hpp"
#include "http/work_pool_fields.hpp"
#include "http/worker_channel_frames.hpp"
#include "http/worker_channels.hpp"
#include "http/ws_auth_gate.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/work_pool_store.hpp"

namespace osprey::http {
namespace {

using nlohmann::json;
namespace wc = worker_channel;

/// Frames a worker sends before the ready frame are handled after it, as Prefect reads them only then; more than
/// this many is not a worker following the protocol.
constexpr std::size_t max_early_frames = 16;

/// What the hello's transaction found or made.
struct setup {
  work_pool pool;
  json pool_json;
  std::vector<work_queue> queues;
  bool template_filled = false;  ///< the pool had no base job template and now has the hello's default
};

/// A setup error's close reason. The job words its refusals with these codes: not_found and failed_precondition
/// are refusals of the pool or queue asked for, invalid_argument a hello asking for an impossible pool.
wc::close_reason setup_refusal(const status& s) {
  switch (s.code()) {
    case errc::not_found:
    case errc::failed_precondition: return wc::close_reason::authorization_failed;
    case errc::invalid_argument: return wc::close_reason::protocol_error;
    default: return wc::close_reason::transient_server_error;
  }
}

std::optional<std::int64_t> slots_if_limited(persistence::sql_connection& c, const work_pool& p) {
  if (!p.concurrency_limit) return std::nullopt;
  return persistence::pool_active_slots(c, p.id);
}

/// The pool a hello may create, validated as POST /api/work_pools/ validates one (WorkPoolCreate of the path's
/// name, the worker's type and its default template); nullopt when that body would be refused.
std::optional<work_pool> creatable_pool(const std::string& name, const wc::hello& h) {
  if (!h.create_pool_if_not_found || is_reserved_pool_name(name)) return std::nullopt;
  work_pool pool;
  response refused;
  const json body{{"name", name}, {"type", h.worker_type}, {"base_job_template", h.default_base_job_template}};
  if (!work_pool_fields::read_pool_create(body, pool, refused)) return std::nullopt;
  return pool;
}

/// Step 2 of the handshake, in one write job. Refusals decided before anything was written are returned; one
/// decided after the pool was created is thrown, so that the pool goes too (Prefect rolls the setup back).
result<setup> set_up(persistence::sql_connection& c, const std::string& name, const wc::hello& h,
                     const std::optional<work_pool>& creatable, timestamp now) {
  setup out;
  auto found = persistence::find_pool_by_name(c, name);
  const bool created = !found;
  if (found) {
    out.pool = std::move(*found);
  } else {
    if (!h.create_pool_if_not_found) return status(errc::not_found, "work_pool_not_found");
    if (is_reserved_pool_name(name)) return status(errc::failed_precondition, "work_pool_creation_unauthorized");
    if (!creatable) return status(errc::invalid_argument, "the hello's pool would be refused");
    out.pool = *creatable;
    out.pool.id = work_pool_id{new_uuid4()};
    out.pool.created = out.pool.updated = now;
    if (auto initial = initial_pool_status(out.pool.type, out.pool.is_paused)) out.pool.status = *initial;
    persistence::create_pool(c, out.pool);
  }
  if (h.work_queue_names.empty()) {
    out.queues = persistence::select_pool_queues(c, out.pool.id, {});
  } else {
    std::set<std::string> seen;
    for (const auto& queue_name : h.work_queue_names) {
      if (!seen.insert(queue_name).second) continue;
      auto q = persistence::find_queue_by_name(c, name, queue_name);
      if (!q) {
        const status missing(errc::not_found, "work_queue_not_found");
        if (created) throw persistence::refusal(missing);
        return missing;
      }
      out.queues.push_back(std::move(*q));
    }
  }
  if (out.pool.base_job_template.empty() && !h.default_base_job_template.empty()) {
    if (check_base_job_template(h.default_base_job_template))
      return status(errc::invalid_argument, "the hello's default base job template is invalid");
    out.pool.base_job_template = h.default_base_job_template;
    out.pool.updated = now;
    persistence::update_pool(c, out.pool);
    out.template_filled = true;
  }
  persistence::record_worker_heartbeat(c, out.pool, h.worker_name, h.heartbeat_interval_seconds, now);
  out.pool_json = work_pool_fields::pool_json(out.pool, slots_if_limited(c, out.pool));
  return out;
}

/// One worker channel. Its messages arrive on the connection's io thread; database answers and pool events on
/// other threads, hence the mutex. It is never held while calling the database or the hub, whose callbacks may
/// run at once on the calling thread.
class channel : public std::enable_shared_from_this<channel> {
 public:
  channel(const api_context& ctx, const request& req, const std::shared_ptr<websocket_connection>& conn)
      : db_(ctx.db),
        time_(ctx.time),
        hub_(ctx.worker_channels),
        pool_name_(req.path_params.at("name")),
        max_depth_(req.json_max_depth),
        gate_(std::make_shared<auth_gate>(*conn, req.json_max_depth, ctx.access, api_scope::write, req.remote_address,
                                          auth_gate_policy{true, wc::to_string(wc::close_reason::authentication_failed),
                                                           wc::to_string(wc::close_reason::authorization_failed)})),
        conn_(conn) {
    gate_->refuse_if_legacy(*conn);
  }

  void on_message(const std::string& message) {
    auto c = conn_.lock();
    if (!c || !gate_->pass(message, c)) return;
    std::unique_lock lock(mutex_);
    switch (phase_) {
      case phase::closed: return;
      case phase::setting_up:
        if (early_.size() >= max_early_frames) break;
        early_.push_back(message);
        return;
      case phase::awaiting_hello: lock.unlock(); return on_hello(message);
      case phase::open: lock.unlock(); return on_frame(message);
    }
    lock.unlock();
    close(wc::close_reason::protocol_error);
  }

  void on_close() {
    std::optional<std::uint64_t> token;
    {
      std::lock_guard lock(mutex_);
      phase_ = phase::closed;
      token = std::exchange(hub_token_, std::nullopt);
    }
    if (token) hub_->leave(*token);
  }

 private:
  enum class phase { awaiting_hello, setting_up, open, closed };

  void close(wc::close_reason why) {
    on_close();
    if (auto c = conn_.lock()) c->close(wc::close_code(why), wc::to_string(why));
  }

  void on_hello(const std::string& message) {
    auto f = wc::read_frame(message, max_depth_);
    auto* h = f ? std::get_if<wc::hello>(&*f) : nullptr;
    if (!h) return close(wc::close_reason::protocol_error);
    if (!wc::supports_channel_version(*h)) return close(wc::close_reason::unsupported_version);
    {
      std::lock_guard lock(mutex_);
      if (phase_ != phase::awaiting_hello) return;
      phase_ = phase::setting_up;
      hello_ = *h;
    }
    persistence::write_value(
        db_,
        [name = pool_name_, hello = *h, creatable = creatable_pool(pool_name_, *h),
         clock = time_](persistence::sql_connection& c) { return set_up(c, name, hello, creatable, clock->now()); },
        [self = shared_from_this()](const result<setup>& done) { self->on_setup(done); });
  }

  void on_setup(const result<setup>& done) {
    if (!done) return close(setup_refusal(done.error()));
    auto c = conn_.lock();
    std::vector<std::string> early;
    {
      std::lock_guard lock(mutex_);
      if (!c || phase_ != phase::setting_up) return;
      phase_ = phase::open;
      pool_ = done->pool.id;
      pool_updated_ = done->pool.updated;
      early.swap(early_);
      // Joining takes only the hub's lock and calls nobody, so it may happen under this one.
      hub_token_ = hub_->join(pool_, [weak = weak_from_this()](worker_channel_hub::pool_event e) {
        if (auto self = weak.lock()) self->on_pool_event(e);
      });
      c->send_text(wc::ready_frame(hello_, done->queues, done->pool_json, time_->now()).dump());
    }
    // Every channel on the pool learns of the new template, this one included (its snapshot 2), as in Prefect.
    if (done->template_filled) hub_->notify(pool_, worker_channel_hub::pool_event::updated);
    for (const auto& message : early) on_frame(message);
  }

  void on_frame(const std::string& message) {
    auto f = wc::read_frame(message, max_depth_);
    if (!f || std::holds_alternative<wc::hello>(*f)) return close(wc::close_reason::protocol_error);
    if (const auto* op = std::get_if<wc::cleanup_operation>(&*f)) {
      if (auto c = conn_.lock()) c->send_text(wc::cleanup_refusal_frame(*op, time_->now()).dump());
      return;
    }
    const auto& beat = std::get<wc::heartbeat>(*f);
    if (beat.consumer_id != hello_.consumer_id || beat.worker_name != hello_.worker_name)
      return close(wc::close_reason::protocol_error);
    // As Prefect does, the pool is found by name again: a pool deleted meanwhile fails the heartbeat.
    persistence::write_value(
        db_,
        [name = pool_name_, beat, clock = time_](persistence::sql_connection& c) -> result<timestamp> {
          auto p = persistence::find_pool_by_name(c, name);
          if (!p) return status(errc::not_found, "the worker channel's pool is gone");
          persistence::record_worker_heartbeat(c, *p, beat.worker_name, beat.heartbeat_interval_seconds, clock->now());
          return p->updated;
        },
        [self = shared_from_this()](const result<timestamp>& updated) {
          if (!updated) return self->close(wc::close_reason::heartbeat_persistence_failed);
          bool moved = false;
          {
            std::lock_guard lock(self->mutex_);
            moved = *updated != self->pool_updated_;
          }
          if (moved) self->send_snapshot("heartbeat_reconciliation");
        });
  }

  void on_pool_event(worker_channel_hub::pool_event e) {
    if (e == worker_channel_hub::pool_event::deleted) return close(wc::close_reason::authorization_failed);
    send_snapshot("work_pool_updated");
  }

  /// Reads the pool and sends it as the next snapshot. Requests arriving while one is being read are coalesced
  /// into one more read after it (with the latest reason), so a burst of changes costs at most two.
  void send_snapshot(const std::string& reason) {
    {
      std::lock_guard lock(mutex_);
      if (phase_ != phase::open) return;
      if (snapshot_reading_) {
        snapshot_again_ = reason;
        return;
      }
      snapshot_reading_ = true;
    }
    persistence::read_value(
        db_,
        [pool = pool_](persistence::sql_connection& c) -> std::optional<std::pair<timestamp, json>> {
          auto p = persistence::find_pool(c, pool);
          if (!p) return std::nullopt;
          return std::pair{p->updated, work_pool_fields::pool_json(*p, slots_if_limited(c, *p))};
        },
        [self = shared_from_this(), reason](const result<std::optional<std::pair<timestamp, json>>>& read) {
          if (!read) return self->close(wc::close_reason::transient_server_error);
          if (!*read) return self->close(wc::close_reason::authorization_failed);
          std::optional<std::string> again;
          {
            std::lock_guard lock(self->mutex_);
            self->snapshot_reading_ = false;
            again = std::exchange(self->snapshot_again_, std::nullopt);
            auto c = self->conn_.lock();
            if (!c || self->phase_ != phase::open) return;
            self->pool_updated_ = (*read)->first;
            c->send_text(
                wc::snapshot_frame(self->next_sequence_++, reason, (*read)->second, self->time_->now()).dump());
          }
          if (again) self->send_snapshot(*again);
        });
  }

  const persistence::database db_;
  const clock* const time_;
  const std::shared_ptr<worker_channel_hub> hub_;
  const std::string pool_name_;
  const std::size_t max_depth_;
  const std::shared_ptr<auth_gate> gate_;
  const std::weak_ptr<websocket_connection> conn_;

  std::mutex mutex_;
  phase phase_ = phase::awaiting_hello;
  wc::hello hello_;                 ///< set with setting_up, read-only after
  std::vector<std::string> early_;  ///< frames that came while setting up
  work_pool_id pool_;               ///< set with open, read-only after
  timestamp pool_updated_{};        ///< the pool's `updated` as last sent to the worker
  std::int64_t next_sequence_ = 2;  ///< 1 is the ready frame's snapshot
  bool snapshot_reading_ = false;
  std::optional<std::string> snapshot_again_;
  std::optional<std::uint64_t> hub_token_;
};

}  // namespace

void register_worker_channel_routes(router& routes, const api_context& ctx) {
  routes.add_websocket("/api/work_pools/{name}/workers/connect",
                       "Prefect's worker channel: hello, ready, heartbeats and pool snapshots (WebSocket)",
                       [ctx](const request& req, const std::shared_ptr<websocket_connection>& conn) {
                         auto ch = std::make_shared<channel>(ctx, req, conn);
                         websocket_callbacks cb;
                         cb.on_message = [ch](std::string message) { ch->on_message(message); };
                         cb.on_close = [ch](std::uint16_t, const std::string&) { ch->on_close(); };
                         return cb;
                       });
}

}  // namespace osprey::http
