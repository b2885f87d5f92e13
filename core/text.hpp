// Small text helpers shared by the readers of user files (CSV data, config files, token
// files).
#pragma once

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

} // namespace tether
