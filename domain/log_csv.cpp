#include "domain/log_csv.hpp"

#include <cstdio>

#include "domain/time.hpp"

namespace osprey {
namespace {

void append_field(std::string& out, const std::string& value) {
  if (value.find_first_of(",\"\r\n") == std::string::npos) {
    out += value;
    return;
  }
  out += '"';
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

// Python's str(datetime) for an aware UTC time: a space for the 'T', "+00:00" for the 'Z', and no fraction
// when the microseconds are zero.
std::string python_time(timestamp t) {
  auto iso = format_iso8601(t);  // YYYY-MM-DDTHH:MM:SS.ffffffZ
  iso[10] = ' ';
  iso.pop_back();
  if (iso.size() > 7 && iso.compare(iso.size() - 7, 7, ".000000") == 0) iso.resize(iso.size() - 7);
  return iso + "+00:00";
}

}  // namespace

std::string log_csv_header() { return "timestamp,level,flow_run_id,task_run_id,message\r\n"; }

void append_log_csv_row(std::string& out, const log_record& log) {
  out += python_time(log.at);
  out += ',';
  out += std::to_string(log.level);
  out += ',';
  if (log.flow_run_id) out += log.flow_run_id->to_string();
  out += ',';
  if (log.task_run_id) out += log.task_run_id->to_string();
  out += ',';
  append_field(out, log.message);
  out += "\r\n";
}

std::string log_csv_file_name(const std::string& run_name) {
  // urllib.parse.quote(name, safe=""): everything but ASCII letters, digits and "_.-~" is %XX-encoded.
  std::string out;
  for (unsigned char c : run_name + "-logs.csv") {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
        c == '-' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace osprey
