// Actions: every member of Prefect 3.9.1's ServerActionTypes with its fields, defaults and validators, read
// into the documents Prefect's API answers (field order as Prefect dumps them).
#include <array>
#include <string_view>

#include "domain/automation_reading.hpp"
#include "domain/template_syntax.hpp"

namespace osprey::automation_reading {
namespace {

/// What a "source: selected|inferred" action acts on; `none` for the others.
enum class target { none, deployment, work_pool, work_queue, automation };

struct action_kind {
  std::string_view type;
  std::string_view tag;  ///< pydantic's name for the union member, as its errors locate it
  target on;
};

constexpr std::array<action_kind, 17> kinds{{
    {"do-nothing", "DoNothing", target::none},
    {"run-deployment", "function-after[selected_deployment_requires_id(), RunDeployment]", target::deployment},
    {"pause-deployment", "function-after[selected_deployment_requires_id(), PauseDeployment]", target::deployment},
    {"resume-deployment", "function-after[selected_deployment_requires_id(), ResumeDeployment]", target::deployment},
    {"cancel-flow-run", "CancelFlowRun", target::none},
    {"delete-flow-run", "DeleteFlowRun", target::none},
    {"change-flow-run-state", "ChangeFlowRunState", target::none},
    {"pause-work-queue", "function-after[selected_work_queue_requires_id(), PauseWorkQueue]", target::work_queue},
    {"resume-work-queue", "function-after[selected_work_queue_requires_id(), ResumeWorkQueue]", target::work_queue},
    {"send-notification", "SendNotification", target::none},
    {"call-webhook", "CallWebhook", target::none},
    {"pause-automation", "function-after[selected_automation_requires_id(), PauseAutomation]", target::automation},
    {"resume-automation", "function-after[selected_automation_requires_id(), ResumeAutomation]", target::automation},
    {"suspend-flow-run", "SuspendFlowRun", target::none},
    {"resume-flow-run", "ResumeFlowRun", target::none},
    {"pause-work-pool", "function-after[selected_work_pool_requires_id(), PauseWorkPool]", target::work_pool},
    {"resume-work-pool", "function-after[selected_work_pool_requires_id(), ResumeWorkPool]", target::work_pool},
}};

const char* id_field(target t) {
  switch (t) {
    case target::deployment: return "deployment_id";
    case target::work_pool: return "work_pool_id";
    case target::work_queue: return "work_queue_id";
    case target::automation: return "automation_id";
    case target::none: break;
  }
  return "";
}

constexpr std::array<const char*, 9> state_types{"SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED",
                                                 "CANCELLED", "CRASHED", "PAUSED",  "CANCELLING"};

bool missing(automation_problem& problem, const path& where) {
  return fail(problem, where, "Field required", "missing");
}

/// JinjaTemplateAction.validate_template: a field whose template does not parse.
bool check_template(const std::string& text, const char* field, const path& where, automation_problem& problem) {
  auto error = check_template_syntax(text);
  if (!error) return true;
  return fail(problem, where, std::string("Value error, '") + field + "' is not a valid template: " + error->message,
              "value_error");
}

/// source and <target>_id, then selected_<target>_requires_id (after the fields, so problems in them first).
bool read_target(const json& v, const path& here, target on, json& out, automation_problem& problem) {
  std::string source = "selected";
  if (v.contains("source")) {
    const auto& s = v["source"];
    if (s != "selected" && s != "inferred")
      return fail(problem, at(here, "source"), "Input should be 'selected' or 'inferred'", "literal_error");
    source = s.get<std::string>();
  }
  const char* field = id_field(on);
  json id = nullptr;
  if (v.contains(field) && !v[field].is_null()) {
    uuid parsed;
    if (!read_uuid(v[field], at(here, field), parsed, problem)) return false;
    id = parsed.to_string();
  }
  out["source"] = source;
  out[field] = id;
  return true;
}

bool check_target(const json& out, const path& here, target on, automation_problem& problem) {
  const char* field = id_field(on);
  const bool selected = out["source"] == "selected";
  const bool has_id = !out[field].is_null();
  if (selected == has_id) return true;
  return fail(problem, here, std::string("Value error, ") + field + " is " + (has_id ? "not allowed" : "required"),
              "value_error");
}

bool read_optional_object(const json& v, const char* key, const path& here, json& out, automation_problem& problem) {
  out[key] = nullptr;
  if (!v.contains(key) || v[key].is_null()) return true;
  if (!v[key].is_object()) return fail(problem, at(here, key), "Input should be a valid dictionary", "dict_type");
  out[key] = v[key];
  return true;
}

bool read_run_deployment(const json& v, const path& here, json& out, automation_problem& problem) {
  if (!read_optional_object(v, "parameters", here, out, problem)) return false;
  if (!read_optional_object(v, "job_variables", here, out, problem)) return false;
  double after = 0;
  if (v.contains("schedule_after") && !read_duration(v["schedule_after"], at(here, "schedule_after"), after, problem))
    return false;
  if (after < 0)
    return fail(problem, at(here, "schedule_after"), "Input should be greater than or equal to 0 seconds",
                "greater_than_equal");
  out["schedule_after"] = after;
  return true;
}

bool read_change_state(const json& v, const path& here, json& out, automation_problem& problem) {
  std::optional<std::string> name, message;
  if (v.contains("name") && !read_optional_string(v["name"], at(here, "name"), name, problem)) return false;
  if (!v.contains("state")) return missing(problem, at(here, "state"));
  bool known = false;
  for (const char* s : state_types) known = known || v["state"] == s;
  if (!known)
    return fail(problem, at(here, "state"),
                "Input should be 'SCHEDULED', 'PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'CRASHED', "
                "'PAUSED' or 'CANCELLING'",
                "enum");
  if (v.contains("message") && !read_optional_string(v["message"], at(here, "message"), message, problem)) return false;
  bool force = false;
  if (v.contains("force") && !read_bool(v["force"], at(here, "force"), force, problem)) return false;
  out["name"] = name ? json(*name) : json(nullptr);
  out["state"] = v["state"];
  out["message"] = message ? json(*message) : json(nullptr);
  out["force"] = force;
  return true;
}

bool read_block_id(const json& v, const path& here, json& out, automation_problem& problem) {
  if (!v.contains("block_document_id")) return missing(problem, at(here, "block_document_id"));
  uuid id;
  if (!read_uuid(v["block_document_id"], at(here, "block_document_id"), id, problem)) return false;
  out["block_document_id"] = id.to_string();
  return true;
}

bool read_notification(const json& v, const path& here, json& out, automation_problem& problem) {
  if (!read_block_id(v, here, out, problem)) return false;
  std::string subject = "Prefect automated notification";
  std::string body;
  if (v.contains("subject")) {
    if (!read_string(v["subject"], at(here, "subject"), subject, problem)) return false;
    if (!check_template(subject, "subject", at(here, "subject"), problem)) return false;
  }
  if (!v.contains("body")) return missing(problem, at(here, "body"));
  if (!read_string(v["body"], at(here, "body"), body, problem)) return false;
  if (!check_template(body, "body", at(here, "body"), problem)) return false;
  out["subject"] = subject;
  out["body"] = body;
  return true;
}

bool read_webhook(const json& v, const path& here, json& out, automation_problem& problem) {
  if (!read_block_id(v, here, out, problem)) return false;
  std::string payload;
  if (v.contains("payload")) {
    const auto& p = v["payload"];
    // ensure_payload_is_a_string: older clients send {"message": ...}; Prefect keeps it as indented JSON text.
    if (p.is_object() || p.is_array())
      payload = p.dump(2);
    else if (!read_string(p, at(here, "payload"), payload, problem))
      return false;
    if (!payload.empty() && !check_template(payload, "payload", at(here, "payload"), problem)) return false;
  }
  out["payload"] = payload;
  return true;
}

}  // namespace

bool read_action(const json& v, const path& where, json& out, automation_problem& problem) {
  if (!v.is_object())
    return fail(problem, at(where, std::string(kinds[0].tag)),
                "Input should be a valid dictionary or instance of DoNothing", "model_type");
  // Every member's `type` has a default; a body without one reads as DoNothing, the first member it fits.
  std::string type = "do-nothing";
  if (v.contains("type")) {
    if (!v["type"].is_string())
      return fail(problem, at(at(where, std::string(kinds[0].tag)), "type"), "Input should be 'do-nothing'",
                  "literal_error");
    type = v["type"].get<std::string>();
  }
  const action_kind* kind = nullptr;
  for (const auto& k : kinds)
    if (k.type == type) kind = &k;
  if (!kind)
    return fail(problem, at(at(where, std::string(kinds[0].tag)), "type"), "Input should be 'do-nothing'",
                "literal_error");
  const auto here = at(where, std::string(kind->tag));
  out = {{"type", type}};
  if (kind->on != target::none && !read_target(v, here, kind->on, out, problem)) return false;
  bool ok = true;
  if (type == "run-deployment")
    ok = read_run_deployment(v, here, out, problem);
  else if (type == "change-flow-run-state")
    ok = read_change_state(v, here, out, problem);
  else if (type == "send-notification")
    ok = read_notification(v, here, out, problem);
  else if (type == "call-webhook")
    ok = read_webhook(v, here, out, problem);
  if (!ok) return false;
  return kind->on == target::none || check_target(out, here, kind->on, problem);
}

}  // namespace osprey::automation_reading
