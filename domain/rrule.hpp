#pragma once
// The recurrence set of an RRule schedule (Prefect's RRuleSchedule, RFC 5545 as dateutil's rrulestr reads it):
// DTSTART, RRULE, EXRULE, RDATE and EXDATE lines, or a bare rule ("FREQ=DAILY;BYHOUR=9"). Rules are parsed and
// expanded by libical; the text around them is read here with rrulestr's grammar (case-insensitive, lines split
// on white space, no DTSTART: 2020-01-01 00:00).
//
// Every date-time is a wall-clock time: Prefect replaces the zone of each date of the set with the schedule's
// time zone, so "DTSTART;TZID=Europe/Paris:20260101T090000" and "DTSTART:20260101T090000Z" both mean 09:00 in
// the schedule's zone. Turning wall times into instants (DST gaps and folds) is domain/schedule's job.
//
// Where libical and dateutil disagree — a sub-daily rule filtered by a coarser BY part whose interval does not
// divide it (FREQ=MINUTELY;INTERVAL=7;BYHOUR=3) — the dates are libical's.
//
// Pure and thread-safe.

#include <chrono>
#include <cstddef>
#include <string>
#include <variant>
#include <vector>

namespace osprey {

/// A wall-clock time of the schedule's zone, held as if it were UTC.
using wall_seconds = std::chrono::sys_seconds;

struct rrule_set {
  wall_seconds dtstart;
  std::vector<std::string> rules;    ///< RRULE values, as libical accepted them
  std::vector<std::string> exrules;  ///< EXRULE values
  std::vector<wall_seconds> rdates;
  std::vector<wall_seconds> exdates;
};

/// Prefect's limit on the text of an rrule.
inline constexpr std::size_t max_rrule_length = 6500;

/// Parses the text; a refusal is the reason, worded for "Invalid RRule string "<text>": <reason>".
std::variant<rrule_set, std::string> parse_rrule_set(const std::string& text);

/// The set's dates in [from, to], ascending and distinct, at most `n`. A rule without COUNT starts near `from`
/// rather than at DTSTART, so a minutely rule anchored in 2020 costs no more than one anchored today.
std::vector<wall_seconds> rrule_dates(const rrule_set& set, wall_seconds from, wall_seconds to, std::size_t n);

}  // namespace osprey
