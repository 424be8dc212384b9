#include "logging/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace osprey::log {
namespace {

std::atomic<int> threshold_{static_cast<int>(level::info)};
std::mutex write_mutex;

const char* name_of(level l) {
  switch (l) {
    case level::debug: return "DEBUG";
    case level::info: return "INFO";
    case level::warning: return "WARNING";
    case level::error: return "ERROR";
  }
  return "INFO";
}

}  // namespace

void set_threshold(level threshold) noexcept {
  threshold_.store(static_cast<int>(threshold), std::memory_order_relaxed);
}

bool set_threshold(std::string_view name) noexcept {
  for (auto l : {level::debug, level::info, level::warning, level::error}) {
    std::string_view n = name_of(l);
    if (name.size() != n.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < n.size(); ++i)
      if ((name[i] | 0x20) != (n[i] | 0x20)) same = false;
    if (same) {
      set_threshold(l);
      return true;
    }
  }
  return false;
}

bool enabled(level l) noexcept { return static_cast<int>(l) >= threshold_.load(std::memory_order_relaxed); }

void write(level l, std::string_view component, std::string_view message) noexcept {
  if (!enabled(l)) return;
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::system_clock::to_time_t(now);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  std::lock_guard lock(write_mutex);
  std::fprintf(stderr, "%s.%03dZ %s %.*s: %.*s\n", stamp, static_cast<int>(millis), name_of(l),
               static_cast<int>(component.size()), component.data(), static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
}

}  // namespace osprey::log
