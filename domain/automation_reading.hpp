#pragma once
// Internal to domain/automation*.cpp: pydantic-shaped readers of one JSON value each. Every reader returns
// false after filling the problem with pydantic's location, message and type; nothing here throws.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "domain/automation.hpp"

namespace osprey::automation_reading {

using nlohmann::json;
using path = std::vector<std::string>;

path at(const path& where, std::string key);
bool fail(automation_problem& problem, path where, std::string message, std::string type);

bool read_string(const json& v, const path& where, std::string& out, automation_problem& problem);
/// A string or null.
bool read_optional_string(const json& v, const path& where, std::optional<std::string>& out,
                          automation_problem& problem);
bool read_bool(const json& v, const path& where, bool& out, automation_problem& problem);
bool read_uuid(const json& v, const path& where, uuid& out, automation_problem& problem);
/// Integers as pydantic's lax mode takes them (JSON integers, integral floats, numeric strings).
bool read_int(const json& v, const path& where, std::int64_t& out, automation_problem& problem);
/// A timedelta as pydantic reads one: seconds as a number, an ISO 8601 duration ("PT1H30M") or [-]HH:MM:SS[.f].
bool read_duration(const json& v, const path& where, double& seconds, automation_problem& problem);
/// A Python set of strings from a JSON list: duplicates dropped, first occurrence kept.
bool read_string_set(const json& v, const path& where, std::vector<std::string>& out, automation_problem& problem);
/// A list of strings.
bool read_string_list(const json& v, const path& where, std::vector<std::string>& out, automation_problem& problem);

/// Reads one action (any of Prefect 3.9.1's ServerActionTypes) into its normalised document.
bool read_action(const json& v, const path& where, json& out, automation_problem& problem);

/// Reads one trigger (event, compound or sequence) into its normalised document with fresh ids.
bool read_trigger(const json& v, const path& where, const std::function<uuid()>& new_id, json& out,
                  automation_problem& problem);

}  // namespace osprey::automation_reading
