// Classification data from CSV files (`tether train --dataset=csv --train=F --test=F`).
//
// Grammar (one sample per line):
//   file    := [header] row+
//   header  := field ("," field)*        the first line, when any field is not a number
//   row     := number ("," number)* "," label
//   number  := a decimal number, finite as a 32-bit float ("1", "-0.5", "2e-3", "+1")
//   label   := a whole number >= 0 ("3" or "3.0"), the class index, below 65536
// Spaces and tabs around a field are ignored; "\r\n" line ends are accepted; blank lines
// are skipped (line numbers in messages still count them). Every row has the column
// count of the first line. A header of numbers only cannot be told from data: it is read
// as a sample (and then usually fails as a bad label or a ragged row).
//
// Features are taken as they are: no scaling, no centring (unlike the IDX reader's
// x / 255). Scale them before writing the file if their ranges differ a lot.
//
// Errors: every failure names the file and, for a bad row, the line (1-based) and column
// (1-based) and says what to do. errc::not_found for a missing file, errc::io_error for a
// file that cannot be read, errc::corrupt_data for bad content, errc::mismatch when train
// and test disagree. Thread-safety: plain functions, no shared state.
#pragma once

#include "core/dataset.hpp"
#include "core/status.hpp"

#include <string>

namespace tether {

/// The largest number of classes a CSV set may have (labels 0..65535).
constexpr size_t kCsvMaxClasses = 65536;

/// Reads one CSV file. classes = its largest label + 1 (at least 1).
result<dataset> load_csv(const std::string& path);

/// Reads both files (in parallel). Both get classes = the largest label over both files
/// + 1, which must be at least 2; both must have the same number of feature columns.
result<train_test> load_csv_pair(const std::string& train_path, const std::string& test_path);

} // namespace tether
