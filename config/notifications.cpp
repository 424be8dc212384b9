// The `notifications:` section: top-level keys, `file:`, retry, policies, and the checks across them
// (unique names, policies naming existing channels). Channels are read by notification_channels.cpp.

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <utility>

#include "config/notifications_internal.hpp"

namespace osprey::config::detail {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string>& section_keys() {
  static const std::vector<std::string> keys = {"file",     "enabled",  "ui_url",      "retry",
                                                "channels", "policies", "automations", "blocks_allow_private_network"};
  return keys;
}

const std::vector<std::string>& policy_keys() {
  static const std::vector<std::string> keys = {"name",        "enabled",          "match",
                                                "channels",    "message_template", "resolve_on",
                                                "dedup_scope", "send_resolved",    "group_wait"};
  return keys;
}

const std::vector<std::string>& match_keys() {
  static const std::vector<std::string> keys = {"state_names", "state_types", "tags_any",
                                                "tags_none",   "flows",       "deployments"};
  return keys;
}

const std::vector<std::string>& state_type_names() {
  static const std::vector<std::string> names = {"SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED",
                                                 "CANCELLED", "CRASHED", "PAUSED",  "CANCELLING"};
  return names;
}

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

/// A policy's mention of a channel, checked once every channel is known.
struct channel_reference {
  std::string name;
  std::string key;
  std::string where;
};

/// Reads one section (from the main file or the file it names) into `out`.
class section_parser {
 public:
  section_parser(yaml_reader& reader, notification_settings& out) : r_(reader), out_(out) {}

  void parse(const mapping& m) {
    r_.reject_unknown(m, section_keys(), "the notifications section");
    if (const auto* e = m.find("enabled")) {
      if (const auto b = r_.boolean(*e)) out_.enabled = *b;
    }
    if (const auto* e = m.find("blocks_allow_private_network")) {
      if (const auto b = r_.boolean(*e)) out_.blocks_allow_private_network = *b;
    }
    if (const auto* e = m.find("ui_url")) ui_url(*e);
    if (const auto* e = m.find("retry")) retry(*e);
    if (const auto* e = m.find("channels"))
      each(*e, "a list of channels ([{name: x, type: slack, ...}])",
           [this](const YAML::Node& n, const std::string& k) { channel(n, k); });
    if (const auto* e = m.find("policies"))
      each(*e, "a list of policies ([{name: x, channels: [...], ...}])",
           [this](const YAML::Node& n, const std::string& k) { policy(n, k); });
    if (const auto* e = m.find("automations"))
      each(*e, "a list of automations ([{name: x, trigger: {...}, actions: [...]}])",
           [this](const YAML::Node& n, const std::string& k) { automation_entry(n, k); });
    check_references();
  }

 private:
  template <class Item>
  void each(const entry& e, std::string_view expected, Item item) {
    if (e.value.IsNull()) return;
    if (!e.value.IsSequence()) {
      r_.fail(e.key, e.where, "expected " + std::string(expected) + ", got " + node_kind(e.value));
      return;
    }
    for (std::size_t i = 0; i < e.value.size(); ++i) item(e.value[i], e.key + "[" + std::to_string(i) + "]");
  }

  void ui_url(const entry& e) {
    auto url = r_.text(e);
    if (!url) return;
    if (!url->empty() && !url->starts_with("http://") && !url->starts_with("https://")) {
      r_.fail(e.key, e.where,
              "expected the Prefect UI's address, e.g. https://prefect.example.com, got '" + *url + "'");
      return;
    }
    out_.ui_url = std::move(*url);
  }

  void retry(const entry& e) {
    const auto m = r_.open(e.value, e.key, e.where);
    if (!m) return;
    r_.reject_unknown(*m, {"initial", "max", "max_age"}, "retry");
    auto& retry = out_.retry;
    const std::pair<const char*, std::chrono::milliseconds*> fields[] = {
        {"initial", &retry.initial}, {"max", &retry.max}, {"max_age", &retry.max_age}};
    for (const auto& [name, target] : fields) {
      const auto* d = m->find(name);
      if (!d) continue;
      if (const auto value = r_.duration(*d); value && value->count() == 0) {
        r_.fail(d->key, d->where, "expected a duration greater than 0, e.g. 1s");
      } else if (value) {
        *target = *value;
      }
    }
    if (retry.max < retry.initial) {
      r_.fail(e.key + ".max", e.where, "max must be at least initial (the first retry's delay)");
    }
  }

  void channel(const YAML::Node& node, const std::string& key) {
    channel_settings c;
    const bool ok = parse_channel(r_, node, key, c);
    if (c.name.empty()) return;
    if (const auto [first, inserted] = channel_where_.emplace(c.name, c.where); !inserted) {
      r_.fail(key + ".name", c.where,
              "duplicate channel name '" + c.name + "' (first defined at " + first->second + "); rename one");
      return;
    }
    if (ok) out_.channels.push_back(std::move(c));
  }

  void policy(const YAML::Node& node, const std::string& key) {
    const auto m = r_.open(node, key, r_.at(node));
    if (!m) return;
    r_.reject_unknown(*m, policy_keys(), "a policy");
    notification_policy p;
    if (const auto* e = m->find("name")) {
      if (auto name = r_.text(*e)) p.name = std::move(*name);
    }
    if (p.name.empty()) {
      r_.fail(key + ".name", m->where, "a policy needs a name (it names its alerts)");
    } else if (const auto [first, inserted] = policy_where_.emplace(p.name, m->where); !inserted) {
      r_.fail(key + ".name", m->where,
              "duplicate policy name '" + p.name + "' (first defined at " + first->second + "); rename one");
    }
    if (const auto* e = m->find("enabled")) {
      if (const auto b = r_.boolean(*e)) p.is_active = *b;
    }
    if (const auto* e = m->find("match")) match(*e, p.match);
    channels(*m, p);
    if (const auto* e = m->find("message_template")) {
      if (auto tmpl = r_.text(*e)) {
        if (const auto valid = validate_template(*tmpl); !valid) {
          r_.fail(e->key, e->where, valid.message());
        } else {
          p.message_template = std::move(*tmpl);
        }
      }
    }
    if (const auto* e = m->find("resolve_on")) {
      if (auto states = r_.list(*e)) p.resolve_on = std::move(*states);
    }
    if (const auto* e = m->find("dedup_scope")) {
      if (const auto scope = r_.one_of(*e, {"flow_run", "deployment"})) {
        p.scope = *scope == "deployment" ? dedup_scope::deployment : dedup_scope::flow_run;
      }
    }
    if (const auto* e = m->find("send_resolved")) {
      if (const auto b = r_.boolean(*e)) p.send_resolved = *b;
    }
    if (const auto* e = m->find("group_wait")) {
      if (const auto d = r_.duration(*e)) p.group_wait = *d;
    }
    out_.policies.push_back(std::move(p));
  }

  /// One automation, as Prefect's API reads an AutomationCreate body (the YAML read as the JSON it stands for).
  void automation_entry(const YAML::Node& node, const std::string& key) {
    const auto where = r_.at(node);
    if (!node.IsMap()) {
      r_.fail(
          key, where,
          std::string("expected an automation ({name: x, trigger: {...}, actions: [...]}), got ") + node_kind(node));
      return;
    }
    automation_problem problem;
    auto a = read_config_file_automation(yaml_to_json(node), problem);
    if (!a) {
      std::string field = key;
      for (const auto& part : problem.location) field += "." + part;
      r_.fail(field, where, problem.message);
      return;
    }
    if (const auto [first, inserted] = automation_where_.emplace(a->name, where); !inserted) {
      r_.fail(key + ".name", where,
              "duplicate automation name '" + a->name + "' (first defined at " + first->second + "); rename one");
      return;
    }
    out_.automations.push_back(std::move(*a));
  }

  void channels(const mapping& m, notification_policy& p) {
    const auto* e = m.find("channels");
    const auto names = e ? r_.list(*e) : std::optional(std::vector<std::string>{});
    if (!names) return;  // reported
    if (names->empty()) {
      r_.fail(m.key + ".channels", e ? e->where : m.where,
              "a policy needs at least one channel (channels: [name, ...] naming entries of notifications.channels)");
    }
    for (std::size_t i = 0; i < names->size(); ++i) {
      references_.push_back({(*names)[i], e->key + "[" + std::to_string(i) + "]", r_.at(e->value[i])});
    }
    p.channels = *names;
  }

  void match(const entry& e, state_match& into) {
    const auto m = r_.open(e.value, e.key, e.where);
    if (!m) return;
    r_.reject_unknown(*m, match_keys(), "match");
    const std::pair<const char*, std::vector<std::string>*> lists[] = {{"state_names", &into.state_names},
                                                                       {"state_types", &into.state_types},
                                                                       {"tags_any", &into.tags_any},
                                                                       {"tags_none", &into.tags_none},
                                                                       {"flows", &into.flows},
                                                                       {"deployments", &into.deployments}};
    for (const auto& [name, target] : lists) {
      if (const auto* item = m->find(name)) {
        if (auto values = r_.list(*item)) *target = std::move(*values);
      }
    }
    const auto& valid = state_type_names();
    for (std::size_t i = 0; i < into.state_types.size(); ++i) {
      auto& type = into.state_types[i];
      type = upper(type);
      if (std::find(valid.begin(), valid.end(), type) != valid.end()) continue;
      const auto* item = m->find("state_types");
      r_.fail(item->key + "[" + std::to_string(i) + "]", r_.at(item->value[i]),
              "unknown state type '" + type + "' (expected one of " + join(valid) + ")");
    }
  }

  void check_references() {
    std::vector<std::string> defined;
    for (const auto& [name, where] : channel_where_) defined.push_back(name);
    const auto known = defined.empty() ? std::string("no channels are defined") : "defined: " + join(defined);
    for (const auto& ref : references_) {
      if (channel_where_.contains(ref.name)) continue;
      r_.fail(
          ref.key, ref.where,
          "no channel named '" + ref.name + "' (" + known + "); add it under notifications.channels or fix the name");
    }
  }

  yaml_reader& r_;
  notification_settings& out_;
  std::map<std::string, std::string> channel_where_;  ///< channel name -> where it was defined
  std::map<std::string, std::string> policy_where_;
  std::map<std::string, std::string> automation_where_;
  std::vector<channel_reference> references_;
};

/// `file: other.yaml`: the whole section comes from that file, whose top level is either `notifications:`
/// or the section's keys directly.
void parse_other_file(const entry& e, yaml_reader& main, const environment_map& environment, notification_settings& out,
                      std::vector<config_error>& errors) {
  const auto name = main.text(e);
  if (!name) return;
  if (name->empty()) {
    main.fail(e.key, e.where, "expected the path of a YAML file holding the notifications section");
    return;
  }
  const auto path = (fs::path(main.file()).parent_path() / *name).lexically_normal().string();
  std::error_code ec;
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  if (in) text << in.rdbuf();
  if (!in || fs::is_directory(path, ec)) {
    main.fail(e.key, e.where,
              "cannot read notifications file '" + path +
                  "' (relative paths start at the "
                  "main config file's directory)");
    return;
  }
  out.file = path;
  yaml_reader other(path, environment, errors);
  try {
    const YAML::Node root = YAML::Load(text.str());
    YAML::Node section = root;
    if (root.IsMap() && root["notifications"]) {
      for (const auto& item : root) {
        const YAML::Node key = item.first;
        if (key.Scalar() == "notifications") continue;
        other.fail(key.Scalar(), other.at(key),
                   "unknown key (a notifications file holds either `notifications:` or the section's keys)");
      }
      section = root["notifications"];
    }
    const auto m = other.open(section, "notifications", other.at(section));
    if (!m) return;
    if (const auto* nested = m->find("file")) {
      other.fail(nested->key, nested->where, "file: may only appear in the main config file; remove it");
    }
    section_parser(other, out).parse(*m);
  } catch (const YAML::Exception& ex) {
    other.fail("", ex.mark.is_null() ? path : path + ":" + std::to_string(ex.mark.line + 1), "invalid YAML: " + ex.msg);
  }
}

}  // namespace

void parse_notifications(const YAML::Node& section, const std::string& where, const std::string& file,
                         const environment_map& environment, notification_settings& out,
                         std::vector<config_error>& errors) {
  yaml_reader main(file, environment, errors);
  const auto m = main.open(section, "notifications", where);
  if (!m) return;
  if (m->entries.empty()) return;
  if (const auto* e = m->find("file")) {
    for (const auto& other : m->entries) {
      if (&other == e) continue;
      main.fail(other.key, other.where, "with file:, the whole section comes from that file; move this key there");
    }
    parse_other_file(*e, main, environment, out, errors);
    return;
  }
  out.file = file;
  section_parser(main, out).parse(*m);
}

}  // namespace osprey::config::detail
