// The logs CSV must read back in Python's csv module exactly as Prefect's download does.
#include <gtest/gtest.h>

#include "domain/log_csv.hpp"
#include "domain/time.hpp"

namespace osprey {
namespace {

log_record record(const std::string& when, std::string message) {
  log_record l;
  l.at = *parse_iso8601(when);
  l.level = 20;
  l.message = std::move(message);
  l.flow_run_id = *uuid::parse("0b7e3a3c-1d2e-4f5a-8b6c-7d8e9f0a1b2c");
  return l;
}

TEST(LogCsv, PlainRowsAreWrittenAsPythonPrintsThem) {
  std::string out = log_csv_header();
  append_log_csv_row(out, record("2026-12-06T04:10:00.123456Z", "Finished in state Completed()"));
  EXPECT_EQ(
      out,
      "timestamp,level,flow_run_id,task_run_id,message\r\n"
      "2026-12-06 04:10:00.123456+00:00,20,0b7e3a3c-1d2e-4f5a-8b6c-7d8e9f0a1b2c,,Finished in state Completed()\r\n");
}

TEST(LogCsv, WholeSecondsHaveNoFraction) {
  std::string out;
  append_log_csv_row(out, record("2026-12-06T04:10:00Z", "x"));
  EXPECT_EQ(out.substr(0, 25), "2026-12-06 04:10:00+00:00");
}

TEST(LogCsv, CommasQuotesAndLineBreaksAreQuoted) {
  std::string out;
  auto l = record("2026-12-06T04:10:00.5Z", "a, \"b\"\nc");
  l.task_run_id = *uuid::parse("11111111-2222-4333-8444-555555555555");
  append_log_csv_row(out, l);
  EXPECT_EQ(out,
            "2026-12-06 04:10:00.500000+00:00,20,0b7e3a3c-1d2e-4f5a-8b6c-7d8e9f0a1b2c,"
            "11111111-2222-4333-8444-555555555555,\"a, \"\"b\"\"\nc\"\r\n");
}

TEST(LogCsv, FileNamesArePercentEncodedLikeUrllibQuote) {
  EXPECT_EQ(log_csv_file_name("happy-otter"), "happy-otter-logs.csv");
  EXPECT_EQ(log_csv_file_name("a b/ü"), "a%20b%2F%C3%BC-logs.csv");
}

}  // namespace
}  // namespace osprey
