// config_yaml: the config file as the loader reads it (config/loader.hpp): YAML parsed by yaml-cpp, every
// setting's parser, `${VAR}` expansion, the `notifications:` section with its channels, policies and templates,
// and `osprey config view` of what loaded. The loader only reads files, so each input is written to
// config.yaml in a scratch directory made once per process; beside it lie a notifications file and two
// secret files that inputs may name (`notifications: {file: notifications.yaml}`, `url_file: slack_url`).
//
// Invariants: load() returns settings or errors, never both or neither, and throws nothing; every error names
// what is wrong.

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <system_error>

#include "config/loader.hpp"
#include "fuzz/check.hpp"

namespace {

namespace fs = std::filesystem;
using namespace osprey;

void write_file(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  FUZZ_CHECK(out.good());
}

/// The scratch directory; removed at exit (libFuzzer exits normally when its time is up). Never destroyed
/// itself, so the exit handler cannot outlive it.
const fs::path& scratch() {
  static const fs::path* const dir = [] {
    // $TMPDIR (scripts/fuzz.sh points it into its own scratch space, removed even after a crash), else tmpfs
    // when there is one: rewriting a truncated file on ext4 flushes it on close (auto_da_alloc), which costs
    // more than the load itself.
    const char* tmp = std::getenv("TMPDIR");
    const std::string base = tmp && *tmp ? tmp : access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    std::string pattern = base + "/osprey-fuzz-config.XXXXXX";
    FUZZ_CHECK(mkdtemp(pattern.data()) != nullptr);
    auto* made = new fs::path(pattern);
    write_file(*made / "notifications.yaml",
               "notifications:\n"
               "  channels:\n"
               "    - {name: ops, type: slack, url_file: slack_url}\n"
               "  policies:\n"
               "    - {name: failures, match: {state_names: [Failed]}, channels: [ops]}\n");
    write_file(*made / "slack_url", "https://hooks.slack.com/services/T000/B000/XXXX\n");
    write_file(*made / "smtp_password", "hunter2\n");
    return made;
  }();
  static const bool cleanup = std::atexit([] {
                                std::error_code ec;
                                fs::remove_all(*dir, ec);
                              }) == 0;
  (void)cleanup;
  return *dir;
}

/// What the server's environment holds: homes, and the variables the project's examples expand.
const std::map<std::string, std::string>& environment() {
  static const std::map<std::string, std::string> env = {
      {"HOME", "/home/osprey"},
      {"OSPREY_HOME", scratch().string()},
      {"PGPASSWORD", "secret"},
      {"SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T000/B000/XXXX"},
      {"TEAMS_WORKFLOW_URL", "https://prod-00.westus.logic.azure.com/workflows/abc"},
      {"PD_ROUTING_KEY", "R0UT1NGKEY"},
      {"OPSGENIE_KEY", "0psg3n13"},
      {"TWILIO_SID", "AC0000"},
      {"TWILIO_TOKEN", "t0ken"},
      {"SMTP_PASSWORD", "hunter2"},
      {"EMPTY", ""},
  };
  return env;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = scratch() / "config.yaml";
  write_file(file, osprey::fuzz::as_text(data, size));

  config::load_request request;
  request.environment = environment();
  request.config_file = file.string();
  const auto outcome = config::load(request);

  FUZZ_CHECK(outcome.loaded.has_value() == outcome.errors.empty());
  for (const auto& e : outcome.errors) FUZZ_CHECK(!e.message.empty() && !e.to_string().empty());
  if (outcome.loaded) FUZZ_CHECK(!config::render_view(*outcome.loaded).empty());
  return 0;
}
