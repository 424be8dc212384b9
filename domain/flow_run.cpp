#include "domain/flow_run.hpp"

#include <array>
#include <random>

namespace osprey {

nlohmann::json normalize_flow_run_policy(const nlohmann::json& policy) {
  nlohmann::json out = policy.is_object() ? policy : nlohmann::json::object();
  // retries/retry_delay win; the deprecated max_retries/retry_delay_seconds mirror them (Prefect's
  // set_run_policy_deprecated_fields).
  if (!out.contains("retries") || out["retries"].is_null()) {
    if (out.contains("max_retries") && out["max_retries"].is_number() && out["max_retries"] != 0)
      out["retries"] = out["max_retries"];
    else if (!out.contains("retries"))
      out["retries"] = nullptr;
  }
  if (!out.contains("retry_delay") || out["retry_delay"].is_null()) {
    if (out.contains("retry_delay_seconds") && out["retry_delay_seconds"].is_number() && out["retry_delay_seconds"] != 0)
      out["retry_delay"] = out["retry_delay_seconds"];
    else if (!out.contains("retry_delay"))
      out["retry_delay"] = nullptr;
  }
  out["max_retries"] = out["retries"].is_number() ? out["retries"] : nlohmann::json(0);
  out["retry_delay_seconds"] = out["retry_delay"].is_number() ? out["retry_delay"] : nlohmann::json(0);
  if (!out.contains("pause_keys") || out["pause_keys"].is_null()) out["pause_keys"] = nlohmann::json::array();
  if (!out.contains("resuming") || out["resuming"].is_null()) out["resuming"] = false;
  if (!out.contains("retry_type")) out["retry_type"] = nullptr;
  return out;
}

std::string generate_run_name() {
  static constexpr std::array<const char*, 48> adjectives = {
      "amber", "bold", "brave", "bright", "calm", "clever", "cosmic", "crimson", "daring", "dashing", "eager", "electric",
      "fancy", "fearless", "gentle", "golden", "graceful", "happy", "hidden", "humble", "icy", "jolly", "keen", "lively",
      "lucky", "magic", "mellow", "mighty", "misty", "nimble", "noble", "olive", "polite", "proud", "quick", "quiet",
      "rapid", "rustic", "sassy", "shiny", "silent", "smart", "steady", "swift", "tidy", "vivid", "witty", "zesty"};
  static constexpr std::array<const char*, 48> animals = {
      "albatross", "badger", "beaver", "bison", "cheetah", "condor", "coyote", "crane", "dingo", "dolphin", "eagle",
      "falcon", "ferret", "gazelle", "gecko", "heron", "hyena", "ibis", "jackal", "jaguar", "koala", "lemur", "lynx",
      "marmot", "meerkat", "mongoose", "moose", "narwhal", "ocelot", "orca", "osprey", "otter", "panda", "pelican",
      "puffin", "quail", "raven", "salamander", "seal", "stork", "tapir", "toucan", "turtle", "viper", "walrus",
      "wombat", "yak", "zebra"};
  thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<std::size_t> pick(0, 47);
  return std::string(adjectives[pick(rng)]) + "-" + animals[pick(rng)];
}

}  // namespace osprey
