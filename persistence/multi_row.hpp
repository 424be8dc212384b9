#pragma once
// Multi-row INSERTs: a batch of rows is cut into chunks whose sizes are powers of two (largest first, at most a
// cap), so that a table has only a few statement texts and each stays in the drivers' statement caches (SQLite's
// per-connection cache, PostgreSQL's prepared statements) instead of being prepared per batch size.

#include <bit>
#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "persistence/sql.hpp"

namespace osprey::persistence {

/// The chunk sizes for `rows` rows: powers of two, largest first, none above `max_rows` (rounded down to a power
/// of two).
inline std::vector<std::size_t> row_chunks(std::size_t rows, std::size_t max_rows) {
  std::vector<std::size_t> out;
  std::size_t largest = 1;
  while (largest * 2 <= max_rows) largest *= 2;
  for (std::size_t size = largest; rows > 0; size /= 2)
    for (; rows >= size; rows -= size) out.push_back(size);
  return out;
}

/// "($1, $2), ($3, $4)": the VALUES list of `rows` rows of `columns` parameters each.
inline std::string values_placeholders(std::size_t rows, std::size_t columns) {
  std::string out;
  std::size_t n = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    out += r == 0 ? "(" : ", (";
    for (std::size_t c = 0; c < columns; ++c) out += (c == 0 ? "$" : ", $") + std::to_string(++n);
    out += ")";
  }
  return out;
}

/// The texts of one table's multi-row INSERT, one per chunk size (powers of two up to `max_rows`), built once.
class chunk_statements {
 public:
  chunk_statements(std::string_view head, std::string_view tail, std::size_t columns, std::size_t max_rows)
      : columns_(columns), max_rows_(max_rows) {
    for (std::size_t rows = 1; rows <= max_rows; rows *= 2)
      texts_.push_back(std::string(head) + values_placeholders(rows, columns) + std::string(tail));
  }

  struct statement {
    std::string_view sql;  ///< one of this object's texts
    sql_params params;
  };

  /// `values` (a multiple of the column count) cut into statements.
  [[nodiscard]] std::vector<statement> chunked(sql_params values) const {
    std::vector<statement> out;
    auto next = std::make_move_iterator(values.begin());
    for (const std::size_t rows : row_chunks(values.size() / columns_, max_rows_)) {
      const auto n = static_cast<std::ptrdiff_t>(rows * columns_);
      out.push_back({texts_.at(static_cast<std::size_t>(std::countr_zero(rows))), sql_params(next, next + n)});
      next += n;
    }
    return out;
  }

 private:
  std::size_t columns_;
  std::size_t max_rows_;
  std::vector<std::string> texts_;
};

}  // namespace osprey::persistence
