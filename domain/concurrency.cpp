#include "domain/concurrency.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "domain/flow.hpp"

namespace osprey {
namespace {

// Prefect's MINIMUM_OCCUPANCY_SECONDS_PER_SLOT and OCCUPANCY_SAMPLES_MULTIPLIER.
constexpr double minimum_occupancy_seconds = 0.1;
constexpr double occupancy_samples_multiplier = 2;

// Whole slots decayed at `rate` per second since the row last changed. A batch may apply a job whose clock
// reading is a little older than the row's `updated`; that counts as no time passed, not negative time.
std::int64_t decayed(double rate, timestamp since, timestamp now) {
  const double seconds = std::max(0.0, seconds_between(since, now));
  const double slots = std::floor(rate * seconds);
  return slots < 9e18 ? static_cast<std::int64_t>(slots) : std::numeric_limits<std::int64_t>::max();
}

double denied_decay_rate(const concurrency_limit& l, const slot_wait_caps& caps) {
  if (l.slot_decay_per_second > 0) return l.slot_decay_per_second;
  const double clamped =
      std::max(minimum_occupancy_seconds, std::min(l.avg_slot_occupancy_seconds, caps.for_limit(l.name)));
  return 1.0 / clamped;
}

// Python's repr of a str, enough for limit names: single quotes unless the text holds one and no double quote.
std::string python_repr(const std::string& s) {
  const bool double_quotes = s.find('\'') != std::string::npos && s.find('"') == std::string::npos;
  const char quote = double_quotes ? '"' : '\'';
  std::string out(1, quote);
  for (char c : s) {
    if (c == '\\' || c == quote) out += '\\';
    out += c;
  }
  return out + quote;
}

// How many slots stand in the way of a refused request on `l` (Prefect's num_blocking_slots).
double blocking_slots(const concurrency_limit& l, std::int64_t slots) {
  const double wanted = static_cast<double>(slots + l.denied_slots);
  return l.slot_decay_per_second > 0 ? wanted : wanted / static_cast<double>(l.limit);
}

}  // namespace

double slot_wait_caps::for_limit(const std::string& name) const {
  return name.starts_with("tag:") ? tag_seconds : other_seconds;
}

std::optional<field_problem> validate_limit(const concurrency_limit& l) {
  if (auto s = validate_object_name(l.name); !s) return field_problem{"name", s.message(), "value_error"};
  const auto non_negative = [](const char* field, auto value) -> std::optional<field_problem> {
    if (value >= 0) return std::nullopt;
    return field_problem{field, "Input should be greater than or equal to 0", "value_error"};
  };
  const auto fits = [](const char* field, std::int64_t value) -> std::optional<field_problem> {
    if (value <= max_slot_count) return std::nullopt;
    return field_problem{field, "Input should be less than or equal to " + std::to_string(max_slot_count),
                         "value_error"};
  };
  for (const auto& problem :
       {non_negative("limit", l.limit), fits("limit", l.limit), non_negative("active_slots", l.active_slots),
        fits("active_slots", l.active_slots), non_negative("denied_slots", l.denied_slots),
        fits("denied_slots", l.denied_slots), non_negative("slot_decay_per_second", l.slot_decay_per_second)})
    if (problem) return problem;
  return std::nullopt;
}

std::optional<acquire_mode> parse_acquire_mode(const std::string& text) {
  if (text == "concurrency") return acquire_mode::concurrency;
  if (text == "rate_limit") return acquire_mode::rate_limit;
  return std::nullopt;
}

std::int64_t active_slots_after_decay(const concurrency_limit& l, timestamp now) {
  return std::max<std::int64_t>(0, l.active_slots - decayed(l.slot_decay_per_second, l.updated, now));
}

std::int64_t denied_slots_after_decay(const concurrency_limit& l, timestamp now, const slot_wait_caps& caps) {
  return std::max<std::int64_t>(0, l.denied_slots - decayed(denied_decay_rate(l, caps), l.updated, now));
}

acquire_decision decide_acquire(const std::vector<concurrency_limit>& limits, std::int64_t slots, acquire_mode mode,
                                timestamp now, const slot_wait_caps& caps) {
  acquire_decision d;
  std::vector<const concurrency_limit*> active;
  for (const auto& l : limits)
    if (l.active) active.push_back(&l);

  if (std::any_of(active.begin(), active.end(), [&](const auto* l) { return l->limit < slots; })) {
    d.verdict = acquire_verdict::too_many_slots;
    d.detail = "Slots requested is greater than the limit";
    return d;
  }
  std::string non_decaying;
  for (const auto* l : active)
    if (l->slot_decay_per_second == 0.0) non_decaying += (non_decaying.empty() ? "" : ",") + l->name;
  if (mode == acquire_mode::rate_limit && !non_decaying.empty()) {
    d.verdict = acquire_verdict::needs_decay;
    d.detail =
        "Only concurrency limits with slot decay can be used for rate limiting. The following limits do not have "
        "a decay configured: " +
        python_repr(non_decaying);
    return d;
  }

  const bool fits = std::all_of(active.begin(), active.end(),
                                [&](const auto* l) { return active_slots_after_decay(*l, now) + slots <= l->limit; });
  if (fits) {
    for (const auto* l : active) {
      auto next = *l;
      next.active_slots = active_slots_after_decay(*l, now) + slots;
      next.denied_slots = denied_slots_after_decay(*l, now, caps);
      next.updated = now;
      d.changed.push_back(std::move(next));
    }
    return d;
  }

  // Refused: every active limit counts the denied slots (its active slots stay as stored, but `updated`
  // moves, as Prefect's UPDATE does), and the wait follows the most crowded limit as it was read.
  d.verdict = acquire_verdict::locked;
  for (const auto* l : active) {
    auto next = *l;
    next.denied_slots = std::min(denied_slots_after_decay(*l, now, caps) + slots, max_slot_count);
    next.updated = now;
    d.changed.push_back(std::move(next));
  }
  const concurrency_limit* blocking = active.front();
  for (const auto* l : active)
    if (blocking_slots(*l, slots) > blocking_slots(*blocking, slots)) blocking = l;
  const double blocked = blocking_slots(*blocking, slots);
  if (blocking->slot_decay_per_second == 0.0) {
    const double cap = caps.for_limit(blocking->name);
    d.retry_after_average = std::min(std::min(blocking->avg_slot_occupancy_seconds, cap) * blocked, cap);
  } else {
    // A decay too slow to matter would otherwise ask for an endless wait.
    d.retry_after_average = std::min(blocked / blocking->slot_decay_per_second, max_lease_seconds);
  }
  return d;
}

concurrency_limit released(const concurrency_limit& l, std::int64_t slots, std::optional<double> occupancy_seconds,
                           timestamp now, const slot_wait_caps& caps) {
  auto next = l;
  next.active_slots = std::max<std::int64_t>(0, active_slots_after_decay(l, now) - slots);
  next.denied_slots = denied_slots_after_decay(l, now, caps);
  next.updated = now;
  // Prefect divides by the limit here; a limit lowered to 0 while held keeps its average instead of failing.
  if (occupancy_seconds && *occupancy_seconds != 0.0 && slots > 0 && l.limit > 0) {
    const double per_slot = std::max(*occupancy_seconds / static_cast<double>(slots), minimum_occupancy_seconds);
    const double samples = static_cast<double>(l.limit) * occupancy_samples_multiplier;
    next.avg_slot_occupancy_seconds =
        l.avg_slot_occupancy_seconds + per_slot / samples - l.avg_slot_occupancy_seconds / samples;
  }
  return next;
}

double clamped_poisson_interval(double average, double uniform) {
  if (average <= 0) return 0.0;
  constexpr double clamping_factor = 0.3;
  constexpr double upper_multiple = 1 + clamping_factor;
  // Prefect's lower_clamp_multiple(k): log2(2^k / (2^k - 1)), 0 for k >= 50.
  const double lower_multiple =
      std::log2(std::max(std::pow(2.0, upper_multiple) / (std::pow(2.0, upper_multiple) - 1), 1e-10));
  const auto cdf = [average](double x) { return 1 - std::exp(-x / average); };
  const double lower_rv = cdf(std::max(0.0, average * lower_multiple));
  const double upper_rv = cdf(average * upper_multiple);
  const double u = lower_rv + std::clamp(uniform, 0.0, 1.0) * (upper_rv - lower_rv);
  return -std::log(std::max(1 - u, 1e-10)) * average;
}

std::string format_retry_after(double seconds) {
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, seconds);
  std::string out(buffer, ec == std::errc() ? end : buffer);
  if (out.find_first_of(".en") == std::string::npos) out += ".0";  // repr(2.0) is "2.0"
  return out;
}

double seconds_between(timestamp from, timestamp to) { return std::chrono::duration<double>(to - from).count(); }

}  // namespace osprey
