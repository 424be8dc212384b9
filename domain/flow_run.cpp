#include "domain/flow_run.hpp"

#include <array>
#include <random>

namespace osprey {

std::string generate_run_name() {
  static constexpr std::array<const char*, 48> adjectives = {
      "amber",  "bold",     "brave",  "bright",   "calm",   "clever", "cosmic",   "crimson", "daring", "dashing",
      "eager",  "electric", "fancy",  "fearless", "gentle", "golden", "graceful", "happy",   "hidden", "humble",
      "icy",    "jolly",    "keen",   "lively",   "lucky",  "magic",  "mellow",   "mighty",  "misty",  "nimble",
      "noble",  "olive",    "polite", "proud",    "quick",  "quiet",  "rapid",    "rustic",  "sassy",  "shiny",
      "silent", "smart",    "steady", "swift",    "tidy",   "vivid",  "witty",    "zesty"};
  static constexpr std::array<const char*, 48> animals = {
      "albatross", "badger", "beaver", "bison",   "cheetah", "condor",   "coyote", "crane",      "dingo",  "dolphin",
      "eagle",     "falcon", "ferret", "gazelle", "gecko",   "heron",    "hyena",  "ibis",       "jackal", "jaguar",
      "koala",     "lemur",  "lynx",   "marmot",  "meerkat", "mongoose", "moose",  "narwhal",    "ocelot", "orca",
      "osprey",    "otter",  "panda",  "pelican", "puffin",  "quail",    "raven",  "salamander", "seal",   "stork",
      "tapir",     "toucan", "turtle", "viper",   "walrus",  "wombat",   "yak",    "zebra"};
  thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<std::size_t> pick(0, 47);
  return std::string(adjectives[pick(rng)]) + "-" + animals[pick(rng)];
}

}  // namespace osprey
