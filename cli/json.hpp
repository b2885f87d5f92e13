// A small streaming JSON writer for the summary file, and an atomic file write.
//
//   json_writer w;
//   w.begin_object().key("workers").integer(4).key("curve").begin_array();
//   ... w.end_array().end_object();
//   write_file_atomically(path, w.str());
//
// Commas and nesting are the writer's job; calling it out of order (a value where a key
// is due, end_array() inside an object, str() before the top value is closed) is a
// programmer error and asserts. Strings are escaped fully: quote, backslash, every
// control character; invalid UTF-8 bytes become U+FFFD, so the output is always valid
// UTF-8 JSON. Numbers: doubles and floats in their shortest round-trip form, non-finite
// ones as null. Thread-safety: none; one owner.
#pragma once

#include "core/status.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tether {

class json_writer {
public:
  /// indent 0: everything on one line, no spaces; otherwise one member or element a
  /// line, nested by `indent` spaces.
  explicit json_writer(int indent = 0) : indent_(indent) {}

  json_writer& begin_object();
  json_writer& end_object();
  json_writer& begin_array();
  json_writer& end_array();
  json_writer& key(std::string_view name);

  json_writer& string(std::string_view text);
  json_writer& integer(int64_t value);
  json_writer& unsigned_integer(uint64_t value);
  json_writer& number(double value); ///< non-finite: null
  json_writer& number(float value);  ///< shortest float form ("0.1", not 0.100000001...)
  json_writer& boolean(bool value);
  json_writer& null();

  /// The document; the top-level value must be complete.
  const std::string& str() const;

  /// `text` as a JSON string literal, quotes included.
  static std::string quote(std::string_view text);

private:
  enum class scope { object, array };
  void before_value();
  void newline();

  struct frame {
    scope kind;
    bool empty = true;
    bool key_written = false;
  };
  int indent_;
  std::string out_;
  std::vector<frame> stack_;
  bool done_ = false;
};

/// Writes `content` to `path` so that the file is either absent/unchanged or complete:
/// a temporary file in the same directory, fsync, rename over `path`, fsync of the
/// directory. On failure the temporary file is removed and the status (errc::io_error)
/// names `path` and the reason.
status write_file_atomically(const std::string& path, const std::string& content);

} // namespace tether
