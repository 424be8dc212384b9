#pragma once
// Saved searches (table `saved_search`): named queries. Run on a connection the caller owns, inside the
// caller's transaction; throw sql_error.

#include <cstdint>
#include <optional>
#include <vector>

#include "domain/saved_search.hpp"
#include "persistence/sql.hpp"

namespace osprey::persistence {

struct saved_search_put {
  saved_search stored;   ///< the row as it is now
  bool created = false;  ///< true when the name was new
};

/// PUT semantics of Prefect: a new name inserts `s` as given; a known name keeps its id and times and takes
/// `s.filters`. Meant as one whole write job.
saved_search_put put_saved_search(sql_connection& conn, const saved_search& s);
std::optional<saved_search> find_saved_search(sql_connection& conn, const saved_search_id& id);
/// `limit` searches from `offset`, by name.
std::vector<saved_search> list_saved_searches(sql_connection& conn, std::int64_t limit, std::int64_t offset);
bool delete_saved_search(sql_connection& conn, const saved_search_id& id);

}  // namespace osprey::persistence
