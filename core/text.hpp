// Small text helpers shared by the readers of user files (CSV data, config files, token
// files).
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace tether {

/// `text` without leading and trailing characters from `blanks` (spaces and tabs unless
/// told otherwise; " \t\r\n" for whole files).
inline std::string_view trim(std::string_view text, std::string_view blanks = " \t") {
  auto first = text.find_first_not_of(blanks);
  if (first == std::string_view::npos)
    return {};
  auto last = text.find_last_not_of(blanks);
  return text.substr(first, last - first + 1);
}

/// `text` safe to print in a message: control bytes (a NUL would cut the message where
/// it is printed with %s; an escape sequence would drive the terminal) become \xNN.
/// Printable ASCII and UTF-8 bytes stay as they are.
inline std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

} // namespace tether
