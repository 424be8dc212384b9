#pragma once
// The project's one error vocabulary. A `status` crosses every module boundary as a value;
// third-party exceptions are caught where they enter (drivers, parsers) and turned into one.

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace osprey {

/// What went wrong, chosen by what the caller should do next. `http/` maps each code to exactly
/// one HTTP status (http_status_for in http/api_support.cpp); the CLI maps them to exit codes.
enum class errc : std::uint8_t {
  ok = 0,
  invalid_argument,     ///< The input is wrong; fix it and retry (HTTP 422).
  not_found,            ///< The named object does not exist (404).
  conflict,             ///< A uniqueness or state constraint refused the change (409).
  unavailable,          ///< Transient: database busy, shutting down. Retrying may succeed (503).
  timeout,              ///< No answer in time; the outcome is unknown (504).
  failed_precondition,  ///< The system is not in a state that allows this (e.g. schema too old) (409).
  internal,             ///< A bug or an unexpected failure of a dependency (500).
};

/// Short stable name of a code ("not_found"), for logs and CLI output.
const char* to_string(errc code) noexcept;

/// Success, or an error code with a human message that carries its context
/// ("flow 'etl' not found", "database.url: unsupported scheme 'mysql'").
class status {
 public:
  status() = default;
  status(errc code, std::string message) : code_(code), message_(std::move(message)) {}

  static status ok() { return {}; }

  [[nodiscard]] bool is_ok() const noexcept { return code_ == errc::ok; }
  explicit operator bool() const noexcept { return is_ok(); }
  [[nodiscard]] errc code() const noexcept { return code_; }
  [[nodiscard]] const std::string& message() const noexcept { return message_; }

  /// Prefixes the message with where it happened: "reading flows: " + message.
  [[nodiscard]] status with_context(const std::string& context) const {
    return is_ok() ? *this : status(code_, context + ": " + message_);
  }

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, status& x) {
    return f(x.code_, x.message_);
  }

 private:
  errc code_ = errc::ok;
  std::string message_;
};

/// A value or the status that explains why there is none. Small on purpose (std::expected is C++23).
template <class T>
class result {
 public:
  result(T value) : v_(std::move(value)) {}       // NOLINT: implicit by design
  result(status error) : v_(std::move(error)) {}  // NOLINT: implicit by design
  result(errc code, std::string message) : v_(status(code, std::move(message))) {}

  [[nodiscard]] bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The error; only meaningful when !has_value().
  [[nodiscard]] const status& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, status> v_;
};

}  // namespace osprey
