#pragma once
// Reading the daemon's answers as the Prefect client does, for black-box tests: a reply's body as JSON, and the
// next event an /api/events/out stream sends.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>

#include "tests/support/scratch.hpp"
#include "tests/support/ws_client.hpp"

namespace osprey::testing {

/// The reply's body as JSON; a discarded value (is_discarded()) when it is not JSON.
inline nlohmann::json parsed(const http_reply& r) { return nlohmann::json::parse(r.body, nullptr, false); }

/// The next event streamed on `ws` (null on timeout or close); any other message type fails the test.
inline nlohmann::json next_event(ws_client& ws) {
  const auto message = ws.read(std::chrono::seconds(10));
  if (!message) return nullptr;
  const auto j = nlohmann::json::parse(*message, nullptr, false);
  EXPECT_EQ(j["type"], "event") << *message;
  return j["event"];
}

}  // namespace osprey::testing
