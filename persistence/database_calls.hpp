#pragma once
// Typed calls on the database: run a job on a reader (read_value) or in the writer's next group commit
// (write_value) and hand what it returns to a callback as a result<T>. This is how code outside persistence/
// asks the database for something; nobody builds a shared slot for a job's output by hand.
//
//   persistence::read_value(
//       ctx.db,
//       [id](persistence::sql_connection& c) -> result<flow> {
//         auto found = persistence::find_flow(c, id);
//         if (!found) return status(errc::not_found, "Flow not found");  // an outcome, not an exception
//         return std::move(*found);
//       },
//       [respond](const result<flow>& f) {
//         respond(f ? response::json(200, to_json(*f).dump()) : error_response(f.error()));
//       });
//
// The contract, on top of persistence/database.hpp's:
// - A job returns T, result<T>, status or nothing. T is deduced from the job; the callback gets result<T>
//   (a `status` for jobs returning status or nothing) exactly once, on the database thread, after the
//   job's transaction has ended (once the database is shutting down: at once, on the calling thread, with
//   errc::unavailable). Keep the callback short, as database.hpp asks of completions.
// - The callback gets the job's return value from its LAST run. A write job may run twice (its batch failed
//   and is retried job by job): each run replaces the value, so a job returns its output and never
//   appends to state outside itself.
// - What the callback gets:
//     transaction committed (or read finished) → the job's value, or the error status the job returned;
//     the job threw `refusal`                  → the refusal's status; the transaction was rolled back;
//     anything else failed                     → the database's status (sql_error kinds: a constraint is
//                                                 errc::conflict, busy is unavailable; shutting down is
//                                                 unavailable; other exceptions are internal).
// - Returning an error from a write job COMMITS whatever the job wrote before it. That is right for the
//   usual refusals, decided before writing anything ("not found", "read-only"): no rollback, no retry, the
//   neighbours in the batch are not disturbed. A job that must undo its writes throws `refusal`; that rolls
//   back its whole batch, which is retried job by job (database.hpp), so keep it for rare outcomes. (Should
//   the retry fail to even begin, the callback gets the refusal decided in the batch; nothing of the job is
//   committed either way.)
// - Jobs and callbacks are copied into std::function: both must be copyable.

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "domain/status.hpp"
#include "persistence/database.hpp"

namespace osprey::persistence {

/// A domain refusal thrown from inside a job: the transaction is rolled back and the callback of
/// read_value/write_value gets `why()` (e.g. errc::conflict "…"), not a database error. A `status` that
/// is ok is not a refusal; it is turned into errc::internal.
class refusal : public std::exception {
 public:
  explicit refusal(status why)
      : why_(why.is_ok() ? status(errc::internal, "a job refused without a reason") : std::move(why)) {}
  refusal(errc code, std::string message) : refusal(status(code, std::move(message))) {}

  [[nodiscard]] const status& why() const noexcept { return why_; }
  [[nodiscard]] const char* what() const noexcept override { return why_.message().c_str(); }

 private:
  status why_;
};

/// The callback type for services that hand a job's value on (declare it in headers; lambdas convert).
template <class T>
using result_callback = std::function<void(result<T>)>;

/// `value`, or errc::not_found with `message` when there is none: the usual answer of a job that looks one
/// object up (`return persistence::or_not_found(find_flow(c, id), "Flow not found");`).
template <class T>
result<T> or_not_found(std::optional<T> value, std::string message) {
  if (!value) return status(errc::not_found, std::move(message));
  return std::move(*value);
}

namespace detail {

/// What a job returning R hands to its callback (`answer`) and how.
template <class R>
struct job_traits {
  using answer = result<R>;
  static answer from(R&& r) { return answer(std::move(r)); }
};
template <class T>
struct job_traits<result<T>> {
  using answer = result<T>;
  static answer from(result<T>&& r) { return std::move(r); }
};
template <>
struct job_traits<status> {
  using answer = status;
  static answer from(status&& s) { return std::move(s); }
};
template <>
struct job_traits<void> {
  using answer = status;
};

template <class Job>
using job_return_t = std::invoke_result_t<Job&, sql_connection&>;

template <class Job>
using job_answer_t = typename job_traits<job_return_t<Job>>::answer;

/// The job's output from its last run; written and read only by the database thread that runs the job and
/// then its completion.
template <class Answer>
struct call_slot {
  std::optional<Answer> out;
  bool refused = false;
};

/// Wraps `job` and `done` into the raw job and completion of database::read/write.
template <class Job, class Done>
std::pair<std::function<void(sql_connection&)>, completion> wrap(Job job, Done done) {
  using traits = job_traits<job_return_t<Job>>;
  using answer = typename traits::answer;
  static_assert(std::is_invocable_v<Done&, answer&&>,
                "the callback must take the job's answer: result<T> for a job returning T or result<T>, "
                "status for a job returning status or nothing");
  auto slot = std::make_shared<call_slot<answer>>();
  auto run = [job = std::move(job), slot](sql_connection& c) mutable {
    slot->out.reset();  // a retried job starts afresh
    slot->refused = false;
    try {
      if constexpr (std::is_void_v<job_return_t<Job>>) {
        job(c);
        slot->out.emplace(status::ok());
      } else {
        slot->out.emplace(traits::from(job(c)));
      }
    } catch (const refusal& r) {
      slot->out.emplace(r.why());
      slot->refused = true;
      throw;  // the database rolls the transaction back
    }
  };
  auto finish = [slot, done = std::move(done)](const status& s) mutable {
    if (s.is_ok() || slot->refused) {
      // Cannot be empty: a transaction that ended well ran the job to its return, and a refusal was stored.
      if (slot->out) {
        done(std::move(*slot->out));
      } else {
        done(answer(status(errc::internal, "a database job ended without an answer")));
      }
      return;
    }
    done(answer(s));
  };
  return {std::move(run), std::move(finish)};
}

}  // namespace detail

/// Runs `job` in a read transaction on the first free reader; `done` gets its answer (see the contract
/// above). Returns at once.
template <class Job, class Done>
void read_value(const database& db, Job job, Done done) {
  auto [run, finish] = detail::wrap(std::move(job), std::move(done));
  db.read(std::move(run), std::move(finish));
}

/// Queues `job` for the writer's next group commit; `done` gets its answer after COMMIT or the failure
/// (see the contract above). Returns at once.
template <class Job, class Done>
void write_value(const database& db, Job job, Done done) {
  auto [run, finish] = detail::wrap(std::move(job), std::move(done));
  db.write(std::move(run), std::move(finish));
}

}  // namespace osprey::persistence
