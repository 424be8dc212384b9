// Global concurrency limits as Prefect 3.9.1 computes them: decay, grant/refuse, release bookkeeping, the
// Retry-After of a refusal, and validation.
#include <gtest/gtest.h>

#include <cmath>

#include "domain/concurrency.hpp"

using namespace osprey;
using namespace std::chrono_literals;

namespace {

const timestamp t0 = *parse_iso8601("2026-01-01T00:00:00Z");
const slot_wait_caps caps{};

concurrency_limit limit(std::string name, std::int64_t max, std::int64_t active = 0, double decay = 0) {
  concurrency_limit l;
  l.id = concurrency_limit_id{new_uuid4()};
  l.created = l.updated = t0;
  l.name = std::move(name);
  l.limit = max;
  l.active_slots = active;
  l.slot_decay_per_second = decay;
  return l;
}

TEST(ConcurrencyDecay, ActiveSlotsDecayInWholeSlotsAtTheLimitsRate) {
  auto l = limit("api", 10, 5, 0.5);
  EXPECT_EQ(active_slots_after_decay(l, t0), 5);
  EXPECT_EQ(active_slots_after_decay(l, t0 + 1s), 5);  // floor(0.5)
  EXPECT_EQ(active_slots_after_decay(l, t0 + 2s), 4);
  EXPECT_EQ(active_slots_after_decay(l, t0 + 60s), 0);  // never below zero
  EXPECT_EQ(active_slots_after_decay(l, t0 - 10s), 5);  // an older clock reading decays nothing
}

TEST(ConcurrencyDecay, ActiveSlotsWithoutDecayStayUntilReleased) {
  EXPECT_EQ(active_slots_after_decay(limit("db", 3, 3), t0 + 24h), 3);
}

TEST(ConcurrencyDecay, DeniedSlotsDecayAtOnePerAverageOccupancyCappedByTheWaitCap) {
  auto l = limit("db", 3);
  l.denied_slots = 10;
  l.avg_slot_occupancy_seconds = 2.0;
  EXPECT_EQ(denied_slots_after_decay(l, t0 + 4s, caps), 8);
  l.avg_slot_occupancy_seconds = 300;  // capped at 30 s for a plain limit
  EXPECT_EQ(denied_slots_after_decay(l, t0 + 60s, caps), 8);
  l.name = "tag:db";  // tag limits are capped at 10 s
  EXPECT_EQ(denied_slots_after_decay(l, t0 + 60s, caps), 4);
  l.avg_slot_occupancy_seconds = 0.01;  // at least 0.1 s per slot
  EXPECT_EQ(denied_slots_after_decay(l, t0 + 500ms, caps), 5);
}

TEST(ConcurrencyDecay, DeniedSlotsOfARateLimitDecayAtItsRate) {
  auto l = limit("api", 3, 0, 2.0);
  l.denied_slots = 10;
  EXPECT_EQ(denied_slots_after_decay(l, t0 + 3s, caps), 4);
}

TEST(ConcurrencyAcquire, GrantsWhenEveryActiveLimitHasRoom) {
  auto d = decide_acquire({limit("a", 3, 1), limit("b", 2, 0)}, 2, acquire_mode::concurrency, t0 + 1s, caps);
  ASSERT_EQ(d.verdict, acquire_verdict::granted);
  ASSERT_EQ(d.changed.size(), 2u);
  EXPECT_EQ(d.changed[0].active_slots, 3);
  EXPECT_EQ(d.changed[1].active_slots, 2);
  EXPECT_EQ(d.changed[0].updated, t0 + 1s);
}

TEST(ConcurrencyAcquire, InactiveLimitsAreNeitherCheckedNorChanged) {
  auto off = limit("off", 1, 1);
  off.active = false;
  auto d = decide_acquire({off}, 1, acquire_mode::concurrency, t0, caps);
  EXPECT_EQ(d.verdict, acquire_verdict::granted);
  EXPECT_TRUE(d.changed.empty());
}

TEST(ConcurrencyAcquire, NoLimitsAtAllIsAGrantWithNothingToStore) {
  auto d = decide_acquire({}, 1, acquire_mode::concurrency, t0, caps);
  EXPECT_EQ(d.verdict, acquire_verdict::granted);
  EXPECT_TRUE(d.changed.empty());
}

TEST(ConcurrencyAcquire, OneFullLimitRefusesTheWholeRequestAndCountsDeniedSlotsOnAll) {
  auto d = decide_acquire({limit("a", 3, 1), limit("b", 2, 2)}, 1, acquire_mode::concurrency, t0 + 1s, caps);
  ASSERT_EQ(d.verdict, acquire_verdict::locked);
  ASSERT_EQ(d.changed.size(), 2u);
  EXPECT_EQ(d.changed[0].active_slots, 1);  // untouched
  EXPECT_EQ(d.changed[0].denied_slots, 1);
  EXPECT_EQ(d.changed[1].denied_slots, 1);
  EXPECT_EQ(d.changed[1].updated, t0 + 1s);
}

TEST(ConcurrencyAcquire, DecayedSlotsMakeRoomForARateLimit) {
  auto l = limit("api", 2, 2, 1.0);
  EXPECT_EQ(decide_acquire({l}, 1, acquire_mode::rate_limit, t0 + 500ms, caps).verdict, acquire_verdict::locked);
  auto d = decide_acquire({l}, 1, acquire_mode::rate_limit, t0 + 1s, caps);
  ASSERT_EQ(d.verdict, acquire_verdict::granted);
  EXPECT_EQ(d.changed[0].active_slots, 2);  // 2 - 1 decayed + 1 taken
}

TEST(ConcurrencyAcquire, MoreSlotsThanTheLimitIs422) {
  auto d = decide_acquire({limit("a", 2)}, 3, acquire_mode::concurrency, t0, caps);
  EXPECT_EQ(d.verdict, acquire_verdict::too_many_slots);
  EXPECT_EQ(d.detail, "Slots requested is greater than the limit");
}

TEST(ConcurrencyAcquire, RateLimitingNeedsSlotDecayOnEveryActiveLimit) {
  auto d = decide_acquire({limit("a", 2), limit("b", 2, 0, 1.0), limit("c", 2)}, 1, acquire_mode::rate_limit, t0, caps);
  EXPECT_EQ(d.verdict, acquire_verdict::needs_decay);
  EXPECT_EQ(d.detail,
            "Only concurrency limits with slot decay can be used for rate limiting. The following limits do not "
            "have a decay configured: 'a,c'");
}

TEST(ConcurrencyRetryAfter, FollowsTheAverageOccupancyPerBlockingSlot) {
  auto l = limit("db", 4, 4);
  l.denied_slots = 3;
  l.avg_slot_occupancy_seconds = 2.0;
  auto d = decide_acquire({l}, 1, acquire_mode::concurrency, t0, caps);
  EXPECT_DOUBLE_EQ(d.retry_after_average, 2.0 * (1 + 3) / 4.0);
}

TEST(ConcurrencyRetryAfter, IsCappedAt30SecondsAnd10ForTagLimits) {
  auto l = limit("db", 1, 1);
  l.avg_slot_occupancy_seconds = 3600;
  l.denied_slots = 100;
  EXPECT_DOUBLE_EQ(decide_acquire({l}, 1, acquire_mode::concurrency, t0, caps).retry_after_average, 30);
  l.name = "tag:db";
  EXPECT_DOUBLE_EQ(decide_acquire({l}, 1, acquire_mode::concurrency, t0, caps).retry_after_average, 10);
}

TEST(ConcurrencyRetryAfter, ARateLimitWaitsOneDecayPeriodPerBlockingSlot) {
  auto l = limit("api", 1, 1, 0.5);
  l.denied_slots = 1;
  EXPECT_DOUBLE_EQ(decide_acquire({l}, 1, acquire_mode::rate_limit, t0, caps).retry_after_average, 2 * 2.0);
}

TEST(ConcurrencyDecay, AnAbsurdDecayRateEmptiesTheLimitWithoutOverflow) {
  EXPECT_EQ(active_slots_after_decay(limit("api", 10, 5, 1e300), t0 + 1s), 0);
}

TEST(ConcurrencyRetryAfter, AnAlmostZeroDecayWaitsAtMostADay) {
  auto l = limit("api", 1, 1, 1e-300);
  EXPECT_DOUBLE_EQ(decide_acquire({l}, 1, acquire_mode::rate_limit, t0, caps).retry_after_average, 86400);
}

TEST(ConcurrencyRetryAfter, TheMostCrowdedLimitDecides) {
  auto roomy = limit("roomy", 10, 10);
  roomy.avg_slot_occupancy_seconds = 1;
  auto tight = limit("tight", 1, 1);
  tight.avg_slot_occupancy_seconds = 5;
  auto d = decide_acquire({roomy, tight}, 1, acquire_mode::concurrency, t0, caps);
  EXPECT_DOUBLE_EQ(d.retry_after_average, 5.0);
}

TEST(ConcurrencyRetryAfter, JitterStaysWithinPrefectsClamp) {
  EXPECT_DOUBLE_EQ(clamped_poisson_interval(0, 0.5), 0.0);
  EXPECT_NEAR(clamped_poisson_interval(10, 1.0), 13.0, 1e-9);
  const double low = clamped_poisson_interval(10, 0.0);
  EXPECT_NEAR(low, 10 * std::log2(std::pow(2, 1.3) / (std::pow(2, 1.3) - 1)), 1e-9);
  const double mid = clamped_poisson_interval(10, 0.5);
  EXPECT_GT(mid, low);
  EXPECT_LT(mid, 13.0);
}

TEST(ConcurrencyRetryAfter, HeaderTextIsPythonsFloatRepr) {
  EXPECT_EQ(format_retry_after(2.0), "2.0");
  EXPECT_EQ(format_retry_after(0.5), "0.5");
  EXPECT_EQ(format_retry_after(0.0), "0.0");
  EXPECT_EQ(std::stod(format_retry_after(0.6931471805599453)), 0.6931471805599453);
}

TEST(ConcurrencyRelease, GivesSlotsBackNeverBelowZero) {
  auto l = limit("db", 3, 2);
  EXPECT_EQ(released(l, 1, std::nullopt, t0 + 1s, caps).active_slots, 1);
  EXPECT_EQ(released(l, 5, std::nullopt, t0 + 1s, caps).active_slots, 0);
  EXPECT_EQ(released(l, 1, std::nullopt, t0 + 1s, caps).updated, t0 + 1s);
}

TEST(ConcurrencyRelease, OccupancyMovesTheAverageOverTwiceTheLimitSamples) {
  auto l = limit("db", 2, 2);  // avg 2.0, 4 samples
  EXPECT_DOUBLE_EQ(released(l, 1, 6.0, t0, caps).avg_slot_occupancy_seconds, 2.0 + 6.0 / 4 - 2.0 / 4);
  EXPECT_DOUBLE_EQ(released(l, 2, 6.0, t0, caps).avg_slot_occupancy_seconds, 2.0 + 3.0 / 4 - 2.0 / 4);
  EXPECT_DOUBLE_EQ(released(l, 1, 0.001, t0, caps).avg_slot_occupancy_seconds, 2.0 + 0.1 / 4 - 2.0 / 4);
  EXPECT_DOUBLE_EQ(released(l, 1, std::nullopt, t0, caps).avg_slot_occupancy_seconds, 2.0);
  auto zero = limit("db", 0, 1);
  EXPECT_DOUBLE_EQ(released(zero, 1, 6.0, t0, caps).avg_slot_occupancy_seconds, 2.0);
}

TEST(ConcurrencyValidation, RefusesNegativeNumbersAndBadNames) {
  EXPECT_FALSE(validate_limit(limit("db", 0)));
  const auto negative = validate_limit(limit("db", -1));
  ASSERT_TRUE(negative);
  EXPECT_EQ(negative->field, "limit");
  EXPECT_EQ(negative->message, "Input should be greater than or equal to 0");
  auto decaying_backwards = limit("db", 1, 0, -0.5);
  EXPECT_TRUE(validate_limit(decaying_backwards));
  EXPECT_TRUE(validate_limit(limit("", 1)));
  EXPECT_TRUE(validate_limit(limit("a/b", 1)));
  EXPECT_TRUE(validate_limit(limit("db", 2147483648)));  // PostgreSQL's INTEGER ends at 2^31 - 1
  EXPECT_EQ(parse_acquire_mode("rate_limit"), acquire_mode::rate_limit);
  EXPECT_FALSE(parse_acquire_mode("fast"));
}

}  // namespace
