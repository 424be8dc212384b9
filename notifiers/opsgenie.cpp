// Opsgenie Alert API v2 with an integration key ("Authorization: GenieKey <key>"). A trigger creates an
// alert whose alias is the dedup key (Opsgenie keeps one open alert per alias, repeats only count up); a
// resolve closes it by alias. Processing is asynchronous: 202 only means accepted. 429 and 5xx retry,
// other 4xx (bad key, wrong region, validation) are permanent.

#include "notifiers/backends.hpp"

namespace osprey::notifiers {
namespace {

// Opsgenie's field limits (docs.opsgenie.com, "Alerts and alert fields").
constexpr std::size_t max_message_chars = 130;
constexpr std::size_t max_alias_bytes = 512;
constexpr std::size_t max_description_chars = 15000;
constexpr std::size_t max_entity_chars = 512;
/// Details share ~8000 characters; eleven values of at most 500 stay under it.
constexpr std::size_t max_detail_chars = 500;

class opsgenie final : public channel_notifier {
 public:
  using channel_notifier::channel_notifier;

  [[nodiscard]] bool resolves() const override { return true; }

  [[nodiscard]] std::vector<request> build(const notification& n) const override {
    http_request r;
    r.headers = {{"Content-Type", "application/json"}, {"Authorization", "GenieKey " + channel_.api_key}};
    if (n.kind == delivery_kind::resolve) {
      if (n.dedup_key.empty()) return {};  // nothing to close
      r.url = base_url() + "/v2/alerts/" + percent_encode(fit_key(n.dedup_key, max_alias_bytes)) +
              "/close?identifierType=alias";
      r.body = dump_compact({{"source", "osprey"}, {"note", close_note(n)}});
    } else {
      r.url = base_url() + "/v2/alerts";
      r.body = dump_compact(alert(n));
    }
    return {std::move(r)};
  }

 private:
  [[nodiscard]] std::string base_url() const {
    if (!channel_.api_url.empty()) return trim_base_url(channel_.api_url);
    return channel_.region == "eu" ? "https://api.eu.opsgenie.com" : "https://api.opsgenie.com";
  }

  /// The channel's mapping for the state name, else its "default", else Crashed P1, Failed P2, else P3.
  [[nodiscard]] std::string priority(const std::string& state_name) const {
    for (const auto& [name, level] : channel_.priority)
      if (name == state_name) return level;
    for (const auto& [name, level] : channel_.priority)
      if (name == "default") return level;
    if (state_name == "Crashed") return "P1";
    if (state_name == "Failed") return "P2";
    return "P3";
  }

  /// "Flow run etl/odd-bee recovered (Completed)".
  static std::string close_note(const notification& n) {
    std::string run = value_text(n.values, "flow_name");
    if (auto name = value_text(n.values, "flow_run_name"); !name.empty()) run += (run.empty() ? "" : "/") + name;
    std::string note = "Flow run " + run + " recovered";
    if (auto state = value_text(n.values, "flow_run_state_name"); !state.empty()) note += " (" + state + ")";
    return note;
  }

  [[nodiscard]] nlohmann::json alert(const notification& n) const {
    const bool test = n.kind == delivery_kind::test;
    nlohmann::json body = {
        {"message", truncate_chars(headline(n), max_message_chars)},
        {"source", "osprey"},
        {"details", key_values(n.values, max_detail_chars)},
        {"priority", test ? std::string("P5") : priority(value_text(n.values, "flow_run_state_name"))}};
    // Without an alias every create opens a new alert and nothing can close it.
    auto alias = test ? "osprey-test-" + n.id : n.dedup_key;
    if (!alias.empty()) body["alias"] = fit_key(alias, max_alias_bytes);
    if (!n.message.empty()) body["description"] = truncate_chars(n.message, max_description_chars);
    if (auto flow = value_text(n.values, "flow_name"); !flow.empty())
      body["entity"] = truncate_chars(flow, max_entity_chars);
    if (!channel_.responders.empty()) {
      auto& responders = body["responders"] = nlohmann::json::array();
      // Opsgenie names users by username, teams, escalations and schedules by name.
      for (const auto& who : channel_.responders)
        responders.push_back({{"type", who.type}, {who.type == "user" ? "username" : "name", who.name}});
    }
    if (!channel_.tags.empty()) body["tags"] = channel_.tags;
    return body;
  }
};

}  // namespace

std::unique_ptr<notifier> make_opsgenie(const config::channel_settings& channel) {
  return std::make_unique<opsgenie>(channel);
}

}  // namespace osprey::notifiers
