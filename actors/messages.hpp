#pragma once
// Everything that crosses an actor boundary, in one place: atoms and message types.
// One grep for "osprey_actors" finds every message the actors exchange.

#include <caf/all.hpp>

#include <cstdint>
#include <functional>

#include "domain/status.hpp"
#include "persistence/sql.hpp"

namespace osprey::actors {

/// Work for the database writer: runs inside the writer's open transaction, on the writer's thread.
/// It may throw persistence::sql_error (the batch is then retried job by job). It must only write its
/// outputs into state it owns (e.g. a shared_ptr it captured): it can run twice when a batch is retried.
struct write_job {
  std::function<void(persistence::sql_connection&)> apply;
};

/// Work for a database reader: runs inside a read transaction on a reader's thread.
struct read_job {
  std::function<void(persistence::sql_connection&)> apply;
};

/// Called once, on the database actor's thread, after the job's transaction ended: ok means committed.
using completion = std::function<void(const status&)>;

/// Counters of the writer, for tests, benchmarks and status output.
struct writer_stats {
  std::uint64_t writes = 0;         ///< jobs committed
  std::uint64_t failed_writes = 0;  ///< jobs answered with an error
  std::uint64_t transactions = 0;   ///< COMMITs issued
  std::uint64_t largest_batch = 0;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, writer_stats& x) {
    return f(caf::meta::type_name("writer_stats"), x.writes, x.failed_writes, x.transactions, x.largest_batch);
  }
};

}  // namespace osprey::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::write_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::read_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(osprey::actors::completion)

CAF_BEGIN_TYPE_ID_BLOCK(osprey_actors, caf::first_custom_type_id)
CAF_ADD_ATOM(osprey_actors, osprey::actors, write_atom, "write")
CAF_ADD_ATOM(osprey_actors, osprey::actors, read_atom, "read")
CAF_ADD_ATOM(osprey_actors, osprey::actors, flush_atom, "flush")
CAF_ADD_ATOM(osprey_actors, osprey::actors, drain_atom, "drain")
CAF_ADD_ATOM(osprey_actors, osprey::actors, stats_atom, "stats")
CAF_END_TYPE_ID_BLOCK(osprey_actors)
