// status and result<T>: how core/ and messages/ report what can fail at run time.
//
// Contract: a fallible call returns `status` (nothing to give back) or `result<T>`.
// A failed status carries a code and one message meant for the person at the
// terminal: it names the thing that failed (a path, an option, a layer) and, where
// there is one, what to do about it. Asserts are for programmer errors only.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace tether {

/// What kind of failure; cli/ maps these to exit codes (docs/cli.md).
enum class errc {
  ok = 0,
  invalid_argument, ///< a bad option, model string, size or number
  io_error,         ///< a file or directory could not be read or written
  corrupt_data,     ///< a file is truncated, not of its format, or fails its checksum
  not_found,        ///< a file, directory or checkpoint that must exist does not
  mismatch,         ///< two valid things disagree (model vs data, model vs checkpoint)
  internal,         ///< a failure inside tether itself
};

const char* to_string(errc code);

class status {
public:
  status() = default;
  status(errc code, std::string message) : code_(code), message_(std::move(message)) {
    assert(code != errc::ok);
  }

  static status ok() { return {}; }

  bool is_ok() const { return code_ == errc::ok; }
  explicit operator bool() const { return is_ok(); }
  errc code() const { return code_; }
  const std::string& message() const { return message_; }

private:
  errc code_ = errc::ok;
  std::string message_;
};

/// Either a T or a failed status. Access value() only after checking.
template <class T>
class result {
public:
  result(T value) : data_(std::move(value)) {}
  result(status failure) : data_(std::move(failure)) {
    assert(!std::get<status>(data_).is_ok());
  }

  bool is_ok() const { return data_.index() == 0; }
  explicit operator bool() const { return is_ok(); }

  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const status& error() const { return std::get<status>(data_); }

private:
  std::variant<T, status> data_;
};

} // namespace tether
