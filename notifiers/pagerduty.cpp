// PagerDuty Events API v2: POST <host>/v2/enqueue with the routing key in the body (no auth header).
// A trigger opens (or appends to) the alert with its dedup_key; a resolve with the same routing key and
// dedup_key closes it. 202 delivered, 400 permanent, 429 and 5xx retry.

#include "notifiers/backends.hpp"

namespace osprey::notifiers {
namespace {

constexpr std::size_t max_summary_chars = 1024;
constexpr std::size_t max_dedup_key_bytes = 255;
/// Bounds each custom detail so one huge state message cannot push the event past PagerDuty's 512 KB.
constexpr std::size_t max_detail_chars = 10000;
/// PagerDuty asks for minutes between retries after a 429; used when it sends no Retry-After.
constexpr std::chrono::seconds throttled_retry{30};

class pagerduty final : public channel_notifier {
 public:
  using channel_notifier::channel_notifier;

  [[nodiscard]] bool resolves() const override { return true; }

  [[nodiscard]] std::vector<request> build(const notification& n) const override {
    nlohmann::json event;
    if (n.kind == delivery_kind::resolve) {
      if (n.dedup_key.empty()) return {};  // nothing to close
      event = {{"routing_key", channel_.routing_key},
               {"event_action", "resolve"},
               {"dedup_key", fit_key(n.dedup_key, max_dedup_key_bytes)}};
    } else {
      event = trigger(n);
    }
    http_request r;
    r.url = base_url() + "/v2/enqueue";
    r.headers = {{"Content-Type", "application/json"}};
    r.body = dump_compact(event);
    return {std::move(r)};
  }

  [[nodiscard]] classification classify(const reply& r) const override {
    auto c = notifier::classify(r);
    if (c.outcome == verdict::retry && r.status == 429 && !c.retry_after) c.retry_after = throttled_retry;
    return c;
  }

 private:
  [[nodiscard]] std::string base_url() const {
    if (!channel_.api_url.empty()) return trim_base_url(channel_.api_url);
    return channel_.region == "eu" ? "https://events.eu.pagerduty.com" : "https://events.pagerduty.com";
  }

  /// The channel's mapping for the state name, else its "default", else Crashed critical, Failed and
  /// TimedOut error, everything else warning.
  [[nodiscard]] std::string severity(const std::string& state_name) const {
    for (const auto& [name, level] : channel_.severity)
      if (name == state_name) return level;
    for (const auto& [name, level] : channel_.severity)
      if (name == "default") return level;
    if (state_name == "Crashed") return "critical";
    if (state_name == "Failed" || state_name == "TimedOut") return "error";
    return "warning";
  }

  [[nodiscard]] nlohmann::json trigger(const notification& n) const {
    const bool test = n.kind == delivery_kind::test;
    nlohmann::json payload = {
        {"summary", truncate_chars(headline(n), max_summary_chars)},
        {"source", "osprey"},
        {"severity", test ? std::string("info") : severity(value_text(n.values, "flow_run_state_name"))},
        {"timestamp", format_iso8601(n.created)}};
    if (auto flow = value_text(n.values, "flow_name"); !flow.empty()) payload["component"] = flow;
    if (auto deployment = value_text(n.values, "deployment_name"); !deployment.empty()) payload["group"] = deployment;
    if (auto type = value_text(n.values, "flow_run_state_type"); !type.empty()) payload["class"] = type;
    auto details = key_values(n.values, max_detail_chars);
    if (!n.message.empty()) details["message"] = truncate_chars(n.message, max_detail_chars);
    payload["custom_details"] = std::move(details);

    nlohmann::json event = {{"routing_key", channel_.routing_key},
                            {"event_action", "trigger"},
                            {"payload", std::move(payload)},
                            {"client", "Osprey"}};
    // Without a dedup_key every trigger opens a new alert and nothing can resolve it.
    auto dedup = test ? "osprey-test-" + n.id : n.dedup_key;
    if (!dedup.empty()) event["dedup_key"] = fit_key(dedup, max_dedup_key_bytes);
    if (auto url = value_text(n.values, "flow_run_url"); !url.empty()) {
      event["client_url"] = url;
      event["links"] = nlohmann::json::array({{{"href", url}, {"text", "Flow run"}}});
    }
    return event;
  }
};

}  // namespace

std::unique_ptr<notifier> make_pagerduty(const config::channel_settings& channel) {
  return std::make_unique<pagerduty>(channel);
}

}  // namespace osprey::notifiers
