// message_template: a notification template as a policy carries it (config `message_template:` or the REST
// policy routes), through everything that reads it: the Jinja syntax check of POST /api/templates/validate
// (domain/template_syntax.hpp), validate_template and render_notification against a fixed Failed state change
// (domain/notification.hpp), and, for a template that validates (the only kind the server stores), each
// backend's requests for a trigger, resolve or test delivery (notifiers/notifier.hpp).
//
// Invariants: text without braces renders as itself; JSON bodies are valid compact JSON; an SMTP message is
// CRLF lines of at most 998 octets with no bare CR or LF (a template must not be able to inject headers).

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "config/notification_settings.hpp"
#include "domain/json_text.hpp"
#include "domain/notification.hpp"
#include "domain/template_syntax.hpp"
#include "domain/time.hpp"
#include "fuzz/check.hpp"
#include "notifiers/notifier.hpp"

namespace {

using nlohmann::json;
using namespace osprey;

uuid id(const char* text) { return *uuid::parse(text); }
timestamp at(const char* iso) { return *parse_iso8601(iso); }

/// A Failed run of a deployment, with a non-ASCII name and a multi-line state message.
const json& state_change_values() {
  static const json values = [] {
    notification_facts facts;
    facts.run = flow_run_id{id("3f1c2a7e-9b4d-4e2a-8c61-5d0e7f9a1b23")};
    facts.run_name = "odd-bee-Übernacht";
    facts.flow = flow_id{id("8a2b9c4d-1e3f-4a5b-9c6d-7e8f9a0b1c2d")};
    facts.flow_name = "etl";
    facts.tags = {"prod", "nightly"};
    facts.deployment_id = id("d3b10000-0000-4000-8000-000000000001");
    facts.deployment_name = "nightly";
    facts.parameters = {{"day", "2026-03-14"}, {"limit", 500}};
    facts.state.type = state_type::failed;
    facts.state.name = "Failed";
    facts.state.at = at("2026-03-14T09:26:53.589793Z");
    facts.state.message = "Flow run encountered an exception: ValueError('row <42> & \"7\" bad')\nTraceback…";
    return template_values(facts, "prod-failures", "https://osprey.example.com/");
  }();
  return values;
}

const std::vector<std::unique_ptr<notifiers::notifier>>& all_notifiers() {
  static const auto built = [] {
    std::vector<config::channel_settings> channels(7);
    channels[0].type = config::channel_type::slack;
    channels[0].url = "https://hooks.slack.com/services/T0000/B0000/SLACKSECRET";
    channels[1].type = config::channel_type::teams;
    channels[1].url = "https://prod-00.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=X";
    channels[2] = channels[1];
    channels[2].payload = "raw_card";
    channels[3].type = config::channel_type::pagerduty;
    channels[3].routing_key = "R0UTINGKEY0000000000000000000001";
    channels[4].type = config::channel_type::opsgenie;
    channels[4].api_key = "0PSGEN1E-KEY0-0000-0000-000000000001";
    channels[4].responders = {{"team", "data-platform"}};
    channels[4].tags = {"prefect"};
    channels[5].type = config::channel_type::twilio;
    channels[5].account_sid = "AC00000000000000000000000000000001";
    channels[5].auth_token = "AUTHT0KEN0000000000000000000001";
    channels[5].from = "+15005550006";
    channels[5].to = {"+15551234567"};
    channels[6].type = config::channel_type::smtp;
    channels[6].host = "smtp.example.com";
    channels[6].from = "Prefect Alerts <alerts@example.com>";
    channels[6].to = {"Oncall <oncall@example.com>"};
    std::vector<std::unique_ptr<notifiers::notifier>> out;
    for (auto& c : channels) {
      c.name = std::string("fuzz-") + config::to_string(c.type);
      out.push_back(notifiers::make_notifier(c));
    }
    return out;
  }();
  return built;
}

void check_request(const notifiers::http_request& r) {
  for (const auto& [name, value] : r.headers)
    if (name == "Content-Type" && value == "application/json") {
      const auto parsed = parse_json(r.body, default_json_max_depth);
      FUZZ_CHECK(parsed.ok());
      FUZZ_CHECK(parsed.value.dump(-1, ' ', false, json::error_handler_t::replace) == r.body);
    }
}

void check_request(const notifiers::smtp_request& r) {
  const std::string_view m = r.message;
  std::size_t start = 0;
  for (auto end = m.find("\r\n"); end != std::string_view::npos; end = m.find("\r\n", start)) {
    const auto line = m.substr(start, end - start);
    FUZZ_CHECK(line.find_first_of("\r\n") == std::string_view::npos);
    FUZZ_CHECK(line.size() <= 998);
    start = end + 2;
  }
  FUZZ_CHECK(start == m.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string tmpl(osprey::fuzz::as_text(data, size));
  const auto& values = state_change_values();

  if (const auto problem = check_template_syntax(tmpl)) FUZZ_CHECK(problem->line >= 1 && !problem->message.empty());

  // render_template leaves what it cannot place as written, validated or not.
  const auto rendered = render_template(tmpl, values);
  if (tmpl.find_first_of("{}") == std::string::npos) FUZZ_CHECK(rendered == tmpl);
  const auto valid = validate_template(tmpl);
  if (!valid) {
    FUZZ_CHECK(!valid.message().empty());
    return 0;
  }

  notification_policy policy;
  policy.name = "prod-failures";
  policy.message_template = tmpl;
  const auto text = render_notification(policy, values);
  FUZZ_CHECK(text.message == rendered);

  notifiers::notification n;
  n.id = "0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
  n.policy_name = policy.name;
  n.dedup_key = "osprey/prod-failures/3f1c2a7e-9b4d-4e2a-8c61-5d0e7f9a1b23";
  n.title = text.title;
  n.message = text.message;
  n.values = values;
  n.created = at("2026-03-14T09:26:54.123456Z");
  // One kind per input, picked by its length, so that all three are covered at a third of the cost.
  constexpr notification_kind kinds[] = {notification_kind::trigger, notification_kind::resolve,
                                         notification_kind::test};
  n.kind = kinds[size % 3];
  for (const auto& notifier : all_notifiers())
    for (const auto& request : notifier->build(n)) std::visit([](const auto& r) { check_request(r); }, request);
  return 0;
}
