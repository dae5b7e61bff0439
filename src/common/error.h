// Error: the one error type of Tarn.
//
// Every failure that crosses a component boundary is a tarn::Error carrying an
// ErrorCode and a message written for the person who will read it (what went
// wrong and, where possible, what to do). Code below the boundary converts
// foreign exceptions (DuckDB, SQLite, libpq, std::filesystem) into Error at the
// point where it calls the foreign library. The code is mapped to a CLI exit code
// in exactly one place (ExitCodeFor) and, later, to an HTTP status in one place.
//
// Thread-safety: Error is an immutable value.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace tarn {

enum class ErrorCode {
  kInvalidArgument,    // bad input: syntax, bad name, bad path, bad option
  kNotFound,           // a database, table, snapshot or file that does not exist
  kAlreadyExists,      // creating something that exists
  kConflict,           // a concurrent change won (e.g. two commits to one table)
  kUnauthenticated,    // no identity, or a token or password that does not check out
  kPermissionDenied,   // the caller may not do this
  kUnsupported,        // a statement or feature Tarn does not offer
  kResourceExhausted,  // a limit was hit (memory, time, rows)
  kCancelled,          // the operation was interrupted
  kIo,                 // the file system or a remote service failed
  kInternal,           // a bug or an unexpected state
};

// Short stable name of a code, e.g. "not_found".
std::string_view ErrorCodeName(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message) : std::runtime_error(std::move(message)), code_(code) {}

  ErrorCode code() const { return code_; }

  // Named factories, formatting their message with fmt.
  template <typename... Args>
  static Error InvalidArgument(fmt::format_string<Args...> f, Args&&... a) {
    return Error(ErrorCode::kInvalidArgument, fmt::format(f, std::forward<Args>(a)...));
  }
  template <typename... Args>
  static Error NotFound(fmt::format_string<Args...> f, Args&&... a) {
    return Error(ErrorCode::kNotFound, fmt::format(f, std::forward<Args>(a)...));
  }
  template <typename... Args>
  static Error AlreadyExists(fmt::format_string<Args...> f, Args&&... a) {
    return Error(ErrorCode::kAlreadyExists, fmt::format(f, std::forward<Args>(a)...));
  }
  template <typename... Args>
  static Error Conflict(fmt::format_string<Args...> f, Args&&... a) {
    return Error(ErrorCode::kConflict, fmt::format(f, std::forward<Args>(a)...));
  }
  template <typename... Args>
  static Error Unauthenticated(fmt::format_string<Args...> f, Args&&... a) {
    return Error(ErrorCode::kUnauthenticated, fmt::format(f, std::forward<Args>(a)...));
  }
  template <typename... Args>
  static Error PermissionDenied(fmt::format_string<Args...> f, Args&&... a) {
    return Error(ErrorCode::kPermissionDenied, fmt::format(f, std::forward<Args>(a)...));
  }
  template <typename... Args>
  static Error Unsupported(fmt::format_string<Args...> f, Args&&... a) {
    return Error(ErrorCode::kUnsupported, fmt::format(f, std::forward<Args>(a)...));
  }
  template <typename... Args>
  static Error ResourceExhausted(fmt::format_string<Args...> f, Args&&... a) {
    return Error(ErrorCode::kResourceExhausted, fmt::format(f, std::forward<Args>(a)...));
  }
  template <typename... Args>
  static Error Cancelled(fmt::format_string<Args...> f, Args&&... a) {
    return Error(ErrorCode::kCancelled, fmt::format(f, std::forward<Args>(a)...));
  }
  template <typename... Args>
  static Error Io(fmt::format_string<Args...> f, Args&&... a) {
    return Error(ErrorCode::kIo, fmt::format(f, std::forward<Args>(a)...));
  }
  template <typename... Args>
  static Error Internal(fmt::format_string<Args...> f, Args&&... a) {
    return Error(ErrorCode::kInternal, fmt::format(f, std::forward<Args>(a)...));
  }

 private:
  ErrorCode code_;
};

// Process exit code for a CLI command that failed with `code` (0 is success).
int ExitCodeFor(ErrorCode code);

}  // namespace tarn
