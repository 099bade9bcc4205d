#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace tpustack {

// Which side can fix a failure, for the shells that answer with a protocol's status (gRPC code, HTTP status).
enum class ErrorKind {
  kInvalidInput,        // the request or file itself is wrong: INVALID_ARGUMENT, 400/422
  kFailedPrecondition,  // well formed, but the present state refuses it (an Unhealthy chip): FAILED_PRECONDITION
};

// What another service (the Kubernetes API server, GKE, a metadata server) answered a call that failed, for the
// caller that decides by it whether to retry.
struct PeerAnswer {
  int http_status = 0;  // 0: no answer (refused, timed out)
  std::string reason;   // machine-readable: a google.rpc status name ("RESOURCE_EXHAUSTED"), a Status reason
};

// What went wrong, worded for the person who supplied the input or runs the program: it names the file, field,
// object or text at fault.
struct Error {
  std::string message;
  ErrorKind kind = ErrorKind::kInvalidInput;
  std::optional<PeerAnswer> peer = std::nullopt;  // set where the failure is another service's answer
};

// A value or the Error that prevented it: the return of every operation whose failure is expected (bad input,
// a refused request, an unreachable peer). Exceptions are left for programming errors. `E` is Error everywhere but
// where a protocol's answer must carry more than Error does (inferd's RequestError: status, error type, field).
template <typename T = void, typename E = Error>
class Result {
 public:
  Result(T value) : state_(std::move(value)) {}
  Result(E error) : state_(std::move(error)) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const E& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, E> state_;
};

// Success with nothing to return, or the Error.
template <typename E>
class Result<void, E> {
 public:
  Result() = default;
  Result(E error) : error_(std::move(error)) {}

  bool ok() const { return !error_; }
  explicit operator bool() const { return ok(); }
  const E& error() const { return *error_; }

 private:
  std::optional<E> error_;
};

}  // namespace tpustack
