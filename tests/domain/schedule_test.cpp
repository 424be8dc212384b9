// Deployment schedules: cron parsing and matching, interval and cron dates in time zones across DST, and the
// scheduler's window (Prefect's min/max runs and times).
#include <gtest/gtest.h>

#include "domain/schedule.hpp"

using namespace osprey;
using namespace std::chrono_literals;

namespace {

timestamp at(const char* iso) { return *parse_iso8601(iso); }

schedule parsed(const nlohmann::json& j, timestamp now = at("2026-01-01T00:00:00Z")) {
  auto s = parse_schedule(j, now);
  EXPECT_TRUE(std::holds_alternative<schedule>(s))
      << (std::holds_alternative<field_problem>(s) ? std::get<field_problem>(s).message : "");
  return std::get<schedule>(s);
}

std::vector<std::string> iso(const std::vector<timestamp>& dates) {
  std::vector<std::string> out;
  for (auto d : dates) out.push_back(format_iso8601(d));
  return out;
}

field_problem refused(const nlohmann::json& j) {
  auto s = parse_schedule(j, at("2026-01-01T00:00:00Z"));
  EXPECT_TRUE(std::holds_alternative<field_problem>(s));
  return std::holds_alternative<field_problem>(s) ? std::get<field_problem>(s) : field_problem{};
}

TEST(Cron, ParsesListsRangesStepsNamesAndMacros) {
  std::string error;
  for (const char* ok : {"* * * * *", "*/5 1-3 * jan-mar mon-fri", "0 9 1,15 * *", "@daily", "@hourly", "0 0 L * *",
                         "0 0 * * 7", "5/15 * ? * *", "0 12 * * SUN"})
    EXPECT_TRUE(cron_expression::parse(ok, error)) << ok << ": " << error;
  for (const char* bad : {"", "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "5-1 * * * *",
                          "*/0 * * * *", "H * * * *", "R R * * *", "0 0 * * mon#2", "* * * * * *", "a b c d e"})
    EXPECT_FALSE(cron_expression::parse(bad, error)) << bad;
}

TEST(Cron, DayOfMonthAndWeekdayCombineWithOrUnlessDayOrIsFalse) {
  std::string error;
  auto e = *cron_expression::parse("0 0 13 * fri", error);
  const auto thursday_13th = wall_time{std::chrono::sys_days(2026y / 8 / 13)};
  EXPECT_TRUE(e.matches(thursday_13th));
  e.set_day_or(false);
  EXPECT_FALSE(e.matches(thursday_13th));
  EXPECT_TRUE(e.matches(wall_time{std::chrono::sys_days(2026y / 2 / 13)}));  // Friday the 13th
}

TEST(Cron, NeverMatchingExpressionEndsTheSearch) {
  std::string error;
  auto e = *cron_expression::parse("0 0 30 2 *", error);
  EXPECT_FALSE(e.next_after(wall_time{std::chrono::sys_days(2026y / 1 / 1)}));
}

TEST(Schedule, InvalidCronTimezoneAndRRuleAreRefusedWithPrefectsWords) {
  EXPECT_NE(refused({{"cron", "not a cron"}}).message.find("Invalid cron string: \"not a cron\""), std::string::npos);
  auto tz = refused({{"cron", "* * * * *"}, {"timezone", "Mars/Olympus"}});
  EXPECT_EQ(tz.field, "timezone");
  EXPECT_NE(tz.message.find("Invalid timezone: \"Mars/Olympus\""), std::string::npos);
  EXPECT_NE(refused({{"rrule", "FREQ=FORTNIGHTLY"}}).message.find("Invalid RRule string \"FREQ=FORTNIGHTLY\""),
            std::string::npos);
  EXPECT_EQ(refused({{"interval", 0}}).field, "interval");
  EXPECT_EQ(refused({{"interval", -3}}).field, "interval");
  EXPECT_EQ(refused({{"interval", 3}, {"extra", 1}}).type, "extra_forbidden");
  EXPECT_EQ(refused({{"schedule", 1}}).type, "union_tag_not_found");
}

TEST(Schedule, IntervalDatesFollowTheAnchor) {
  auto s = parsed({{"interval", 3}, {"anchor_date", "2026-01-01T00:00:00Z"}});
  EXPECT_EQ(iso(schedule_dates(s, at("2026-01-01T00:00:04Z"), at("2026-01-01T00:01:00Z"), 3)),
            (std::vector<std::string>{"2026-01-01T00:00:06.000000Z", "2026-01-01T00:00:09.000000Z",
                                      "2026-01-01T00:00:12.000000Z"}));
  EXPECT_EQ(iso(schedule_dates(s, at("2026-01-01T00:00:06Z"), at("2026-01-01T00:00:07Z"), 5)),
            (std::vector<std::string>{"2026-01-01T00:00:06.000000Z"}));
}

TEST(Schedule, IntervalAsIsoDurationAndDefaultAnchorIsNow) {
  auto s = parsed({{"interval", "PT1H"}}, at("2026-03-01T10:30:00Z"));
  EXPECT_EQ(to_json(s)["interval"], 3600.0);
  EXPECT_EQ(to_json(s)["anchor_date"], "2026-03-01T10:30:00.000000Z");
  EXPECT_EQ(to_json(s)["timezone"], "UTC");
}

TEST(Schedule, DailyIntervalKeepsLocalClockTimeAcrossDst) {
  // 09:00 New York every day: 14:00 UTC in winter, 13:00 UTC after 2026-03-08.
  auto s = parsed({{"interval", 86400}, {"anchor_date", "2026-03-01T14:00:00Z"}, {"timezone", "America/New_York"}});
  EXPECT_EQ(iso(schedule_dates(s, at("2026-03-07T00:00:00Z"), at("2026-03-10T00:00:00Z"), 10)),
            (std::vector<std::string>{"2026-03-07T14:00:00.000000Z", "2026-03-08T13:00:00.000000Z",
                                      "2026-03-09T13:00:00.000000Z"}));
}

TEST(Schedule, HourlyIntervalCountsElapsedHoursAcrossDst) {
  auto s = parsed({{"interval", 3600}, {"anchor_date", "2026-11-01T04:00:00Z"}, {"timezone", "America/New_York"}});
  EXPECT_EQ(iso(schedule_dates(s, at("2026-11-01T04:00:00Z"), at("2026-11-01T08:00:00Z"), 10)).size(), 5u);
}

TEST(Schedule, CronSpringForwardMovesTheGapToTheFirstMinuteAfterIt) {
  // 02:30 does not exist in New York on 2026-03-08: that day it fires at 03:30 EDT (07:30 UTC).
  auto s = parsed({{"cron", "30 2 * * *"}, {"timezone", "America/New_York"}});
  EXPECT_EQ(iso(schedule_dates(s, at("2026-03-07T00:00:00Z"), at("2026-03-10T00:00:00Z"), 10)),
            (std::vector<std::string>{"2026-03-07T07:30:00.000000Z", "2026-03-08T07:30:00.000000Z",
                                      "2026-03-09T06:30:00.000000Z"}));
}

TEST(Cron, HourlyCronFiresOnceForTheRepeatedHourWhenClocksGoBack) {
  // 2026-11-01 01:00-01:59 happens twice in New York; an hourly cron fires at its first 01:00 only and then
  // at 02:00 EST, two hours later (Prefect's CronSchedule documents this).
  auto s = parsed({{"cron", "0 * * * *"}, {"timezone", "America/New_York"}});
  EXPECT_EQ(iso(schedule_dates(s, at("2026-11-01T04:00:00Z"), at("2026-11-01T08:00:00Z"), 10)),
            (std::vector<std::string>{"2026-11-01T04:00:00.000000Z", "2026-11-01T05:00:00.000000Z",
                                      "2026-11-01T07:00:00.000000Z", "2026-11-01T08:00:00.000000Z"}));
}

TEST(Cron, DatesStartAtTheStartInstantWithinTheRepeatedHour) {
  auto s = parsed({{"cron", "*/30 * * * *"}, {"timezone", "America/New_York"}});
  // 06:10 UTC is 01:10 EST (the second 01:10): the 01:30 wall time resolves to its first occurrence (05:30
  // UTC), already past, so the next date is 02:00 EST.
  EXPECT_EQ(iso(schedule_dates(s, at("2026-11-01T06:10:00Z"), at("2026-11-01T08:00:00Z"), 1)),
            (std::vector<std::string>{"2026-11-01T07:00:00.000000Z"}));
}

TEST(SchedulingWindow, StopsOnceMinRunsAndMinTimeAreBothMet) {
  auto every_3s = parsed({{"interval", 3}, {"anchor_date", "2026-01-01T00:00:00Z"}});
  const auto now = at("2026-01-01T00:00:00Z");
  EXPECT_EQ(dates_to_schedule(every_3s, now, scheduling_window{}).size(), 100u);  // max_runs before an hour
  auto hourly = parsed({{"interval", 3600}, {"anchor_date", "2026-01-01T00:00:00Z"}});
  EXPECT_EQ(dates_to_schedule(hourly, now, scheduling_window{}).size(), 3u);  // min_runs, past an hour
  auto daily = parsed({{"cron", "0 0 * * *"}});
  EXPECT_EQ(dates_to_schedule(daily, now, scheduling_window{}).size(), 3u);
  scheduling_window short_window;
  short_window.max_time = 36h;
  EXPECT_EQ(dates_to_schedule(daily, now, short_window).size(), 2u);
}

TEST(RRule, DailyAtNineKeepsTheLocalClockAcrossDst) {
  auto s = parsed({{"rrule", "DTSTART:20260101T090000\nRRULE:FREQ=DAILY"}, {"timezone", "America/New_York"}});
  EXPECT_STREQ(schedule_kind(s), "RRuleSchedule");
  EXPECT_EQ(to_json(s),
            (nlohmann::json{{"rrule", "DTSTART:20260101T090000\nRRULE:FREQ=DAILY"}, {"timezone", "America/New_York"}}));
  EXPECT_EQ(iso(schedule_dates(s, at("2026-03-07T00:00:00Z"), at("2026-03-10T00:00:00Z"), 10)),
            (std::vector<std::string>{"2026-03-07T14:00:00.000000Z", "2026-03-08T13:00:00.000000Z",
                                      "2026-03-09T13:00:00.000000Z"}));
}

TEST(RRule, DateTimesAreWallClockTimesOfTheSchedulesZoneWhateverTheyCarry) {
  // As Prefect replaces each date's zone with the schedule's: the TZID and the Z are not read.
  for (const char* text :
       {"DTSTART;TZID=Europe/Paris:20260601T090000 RRULE:FREQ=DAILY", "dtstart:20260601T090000Z\nrrule:freq=daily"}) {
    auto s = parsed({{"rrule", text}, {"timezone", "Asia/Tokyo"}});
    EXPECT_EQ(iso(schedule_dates(s, at("2026-06-01T00:00:00Z"), at("2026-06-02T23:00:00Z"), 5)),
              (std::vector<std::string>{"2026-06-01T00:00:00.000000Z", "2026-06-02T00:00:00.000000Z"}))
        << text;
  }
}

TEST(RRule, ExdatesRdatesCountAndUntilShapeTheSet) {
  auto s = parsed({{"rrule",
                    "DTSTART:20260105T080000\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=5\n"
                    "EXDATE:20260107T080000\nRDATE:20260110T120000,20260111"}});
  EXPECT_EQ(iso(schedule_dates(s, at("2026-01-01T00:00:00Z"), at("2026-02-01T00:00:00Z"), 20)),
            (std::vector<std::string>{"2026-01-05T08:00:00.000000Z", "2026-01-10T12:00:00.000000Z",
                                      "2026-01-11T00:00:00.000000Z", "2026-01-12T08:00:00.000000Z",
                                      "2026-01-14T08:00:00.000000Z", "2026-01-19T08:00:00.000000Z"}));
  auto until = parsed({{"rrule", "DTSTART:20260101T000000\nRRULE:FREQ=DAILY;UNTIL=20260103T000000"}});
  EXPECT_EQ(schedule_dates(until, at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z"), 100).size(), 3u);
  auto excluded = parsed({{"rrule", "DTSTART:20260101T000000\nRRULE:FREQ=DAILY\nEXRULE:FREQ=WEEKLY;BYDAY=SA,SU"}});
  EXPECT_EQ(schedule_dates(excluded, at("2026-01-05T00:00:00Z"), at("2026-01-11T23:00:00Z"), 100).size(), 5u);
}

TEST(RRule, ASubDailyRuleAnchoredYearsAgoKeepsItsPhaseAndCostsLittle) {
  // No DTSTART: 2020-01-01 00:00, so every quarter hour since then.
  auto s = parsed({{"rrule", "FREQ=MINUTELY;INTERVAL=15"}});
  EXPECT_EQ(iso(schedule_dates(s, at("2026-12-06T00:07:00Z"), at("2026-12-07T00:00:00Z"), 3)),
            (std::vector<std::string>{"2026-12-06T00:15:00.000000Z", "2026-12-06T00:30:00.000000Z",
                                      "2026-12-06T00:45:00.000000Z"}));
  auto odd = parsed({{"rrule", "DTSTART:20200101T000700\nRRULE:FREQ=HOURLY;INTERVAL=5"}});
  // 2020-01-01T00:07 in 5-hour steps, as dateutil gives them.
  EXPECT_EQ(iso(schedule_dates(odd, at("2026-12-06T00:00:00Z"), at("2026-12-07T00:00:00Z"), 2)),
            (std::vector<std::string>{"2026-12-06T01:07:00.000000Z", "2026-12-06T06:07:00.000000Z"}));
}

TEST(RRule, MalformedSetsAreRefusedWithTheReason) {
  for (const char* text :
       {"", "FREQ=FORTNIGHTLY", "DTSTART:2026 RRULE:FREQ=DAILY", "X-FOO:1 RRULE:FREQ=DAILY", "RRULE;X=1:FREQ=DAILY",
        "DTSTART:20260101T000000", "DTSTART:20261301T000000 RRULE:FREQ=DAILY"}) {
    auto p = refused({{"rrule", text}});
    EXPECT_EQ(p.field, "rrule") << text;
    EXPECT_NE(p.message.find("Invalid RRule string"), std::string::npos) << text << ": " << p.message;
  }
  EXPECT_NE(refused({{"rrule", "FREQ=DAILY;" + std::string(6500, 'X')}}).message.find("Invalid RRule string"),
            std::string::npos);
  EXPECT_EQ(refused({{"rrule", "FREQ=DAILY"}, {"day_or", true}}).type, "extra_forbidden");
  EXPECT_EQ(refused({{"rrule", 5}}).type, "string_type");
  EXPECT_EQ(refused({{"rrule", "FREQ=DAILY"}, {"timezone", "Mars/Olympus"}}).field, "timezone");
}

}  // namespace
