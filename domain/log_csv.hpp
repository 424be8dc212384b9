#pragma once
// A flow run's logs as the CSV file Prefect's UI downloads (GET /api/flow_runs/{id}/logs/download): a header
// row, then one row per log in Python's csv dialect ("excel": comma, fields quoted only when they hold a comma,
// quote or line break, quotes doubled, CRLF after each row) with the values as Python prints them
// (timestamps "2026-12-06 04:10:00.123456+00:00", absent ids empty).

#include <string>

#include "domain/log_record.hpp"

namespace osprey {

/// "timestamp,level,flow_run_id,task_run_id,message\r\n".
[[nodiscard]] std::string log_csv_header();

/// Appends the row of `log` to `out`.
void append_log_csv_row(std::string& out, const log_record& log);

/// The file name Prefect suggests: "<run name>-logs.csv", percent-encoded for Content-Disposition's filename*.
[[nodiscard]] std::string log_csv_file_name(const std::string& run_name);

}  // namespace osprey
