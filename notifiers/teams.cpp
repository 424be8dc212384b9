// Microsoft Teams through a Workflows (Power Automate) webhook: POST the URL with an Adaptive Card 1.4,
// wrapped in the {"type":"message","attachments":[...]} envelope the "Send webhook alerts to a channel"
// template iterates over, or bare (payload: raw_card) for custom flows. 202 (sometimes 200) only means the
// flow was queued: a card the flow rejects fails inside Teams, unseen here. No dedup or resolve: a
// resolve is a green "Recovered: ..." card.

#include <algorithm>

#include "notifiers/backends.hpp"

namespace osprey::notifiers {
namespace {

/// Teams caps a posted message at ~28 KB; the card's frame needs well under 4 KB of it.
constexpr std::size_t max_message_bytes = 20000;

/// Teams' TextBlock Markdown joins single newlines; a paragraph break needs a blank line. Every run of one
/// newline becomes two; longer runs (already paragraphs) stay. CR LF counts as one newline.
std::string teams_markdown(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] != '\n' && text[i] != '\r') {
      out += text[i++];
      continue;
    }
    std::size_t newlines = 0;
    while (i < text.size() && (text[i] == '\n' || text[i] == '\r')) {
      if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++newlines;
      ++i;
    }
    out.append(std::max<std::size_t>(newlines, 2), '\n');
  }
  return out;
}

/// Attention for failure-like states, Good for recoveries and completions, Warning for the rest.
const char* title_color(const notification& n) {
  if (n.kind == delivery_kind::resolve) return "Good";
  auto type = value_text(n.values, "flow_run_state_type");
  if (type == "FAILED" || type == "CRASHED") return "Attention";
  if (type == "COMPLETED") return "Good";
  return "Warning";
}

class teams final : public channel_notifier {
 public:
  using channel_notifier::channel_notifier;

  [[nodiscard]] std::vector<request> build(const notification& n) const override {
    auto body = nlohmann::json::array();
    body.push_back({{"type", "TextBlock"},
                    {"text", headline(n)},
                    {"weight", "Bolder"},
                    {"size", "Medium"},
                    {"wrap", true},
                    {"color", title_color(n)}});
    if (!n.message.empty())
      body.push_back({{"type", "TextBlock"},
                      {"text", teams_markdown(truncate_bytes(n.message, max_message_bytes))},
                      {"wrap", true}});
    nlohmann::json card = {{"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
                           {"type", "AdaptiveCard"},
                           {"version", "1.4"},
                           {"body", std::move(body)},
                           {"msteams", {{"width", "Full"}}}};
    if (auto url = value_text(n.values, "flow_run_url"); !url.empty())
      card["actions"] = nlohmann::json::array({{{"type", "Action.OpenUrl"}, {"title", "Open flow run"}, {"url", url}}});

    http_request r;
    r.url = channel_.url;
    r.headers = {{"Content-Type", "application/json"}};
    if (channel_.payload == "raw_card") {
      r.body = dump_compact(card);
    } else {
      nlohmann::json attachment = {{"contentType", "application/vnd.microsoft.card.adaptive"},
                                   {"contentUrl", nullptr},
                                   {"content", std::move(card)}};
      r.body = dump_compact({{"type", "message"}, {"attachments", nlohmann::json::array({std::move(attachment)})}});
    }
    return {std::move(r)};
  }
};

}  // namespace

std::unique_ptr<notifier> make_teams(const config::channel_settings& channel) {
  return std::make_unique<teams>(channel);
}

}  // namespace osprey::notifiers
