// CSV reading: numeric feature columns, the integer class label last, an optional header.
// The grammar and the error contract are in core/csv_dataset.hpp.
#include "core/csv_dataset.hpp"

#include "core/file_input.hpp"
#include "core/memory_limit.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string_view>
#include <vector>

namespace tether {

namespace {

namespace fs = std::filesystem;

std::string in_quotes(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  out += text;
  out += '"';
  return out;
}

/// A field as it appears in a message: quoted, cut after 40 characters, control bytes
/// (a NUL, an escape) written as \xNN.
std::string shown_field(std::string_view field) {
  if (field.size() > 40)
    return in_quotes(printable(field.substr(0, 40)) + "...");
  return in_quotes(printable(field));
}

std::string at_line(const std::string& path, size_t line) {
  return "CSV file " + in_quotes(path) + ", line " + std::to_string(line);
}

std::string at_field(const std::string& path, size_t line, size_t column) {
  return at_line(path, line) + ", column " + std::to_string(column);
}


/// Splits a line at commas into trimmed fields (reusing `out`'s storage).
void split_fields(std::string_view line, std::vector<std::string_view>& out) {
  out.clear();
  for (;;) {
    auto comma = line.find(',');
    out.push_back(trim(line.substr(0, comma)));
    if (comma == std::string_view::npos)
      return;
    line.remove_prefix(comma + 1);
  }
}

enum class number_kind { number, out_of_range, not_a_number };

/// A decimal number (optionally with a leading '+'), the whole field. "nan" and "inf" are
/// numbers here; the caller rejects what is not finite.
number_kind parse_number(std::string_view field, double& value) {
  if (field.size() > 1 && field[0] == '+' && field[1] != '-' && field[1] != '+')
    field.remove_prefix(1);
  if (field.empty())
    return number_kind::not_a_number;
  const char* last = field.data() + field.size();
  auto [ptr, ec] = std::from_chars(field.data(), last, value);
  if (ptr != last || ec == std::errc::invalid_argument)
    return number_kind::not_a_number;
  if (ec == std::errc::result_out_of_range)
    return number_kind::out_of_range;
  return number_kind::number;
}

/// The whole file as text: a regular file only (a FIFO would block, /dev/zero never
/// end), refused before it is read when the text and its floats cannot fit in memory.
result<std::string> read_text(const std::string& path) {
  auto opened = open_regular_file(path, "CSV file");
  if (!opened) {
    const auto& e = opened.error();
    if (e.code() == errc::not_found)
      return status{errc::not_found, e.message() + "; check the path given to --train or --test"};
    return status{e.code() == errc::invalid_argument ? errc::io_error : e.code(),
                  e.message() + "; give the path of a CSV file"};
  }
  // The text, then at most one float per two bytes of it ("0,").
  const uint64_t need = saturating_add(opened->size, saturating_mul(opened->size / 2, 4));
  const auto ceiling = process_memory_ceiling();
  if (need > ceiling.bytes)
    return status{errc::io_error, "CSV file " + in_quotes(path) + " has " +
                                      format_bytes(opened->size) + " and may need " +
                                      format_bytes(need) +
                                      " of memory to load, more than this "
                                      "process may use: " +
                                      format_bytes(ceiling.bytes) + " (" + ceiling.source + ")"};
  // What the file held when it was opened: a file that grows meanwhile is not followed.
  std::string text(static_cast<size_t>(opened->size), '\0');
  auto got = read_fully(opened->fd.get(), text.data(), text.size(), path);
  if (!got)
    return status{errc::io_error,
                  "cannot read CSV file " + in_quotes(path) + ": " + got.error().message()};
  text.resize(*got);
  return text;
}

} // namespace

result<dataset> load_csv(const std::string& path) {
  auto text = read_text(path);
  if (!text)
    return text.error();
  std::string_view rest = *text;
  // A UTF-8 byte-order mark, as spreadsheet programs write it, is not part of the first
  // field (it would make a first sample look like a header, and drop it).
  if (rest.starts_with("\xEF\xBB\xBF"))
    rest.remove_prefix(3);
  dataset d;
  size_t columns = 0;    // of the first non-blank line; 0 until it is seen
  size_t first_line = 0; // its number
  bool header = false;
  size_t max_label = 0;
  std::vector<std::string_view> fields;
  std::vector<double> values;
  for (size_t line_no = 1; !rest.empty(); ++line_no) {
    auto newline = rest.find('\n');
    auto line = rest.substr(0, newline);
    rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (trim(line).empty())
      continue;
    split_fields(line, fields);
    values.assign(fields.size(), 0.0);
    if (columns == 0) {
      columns = fields.size();
      first_line = line_no;
      if (columns < 2)
        return status{errc::corrupt_data,
                      at_line(path, line_no) + " has 1 column, but a sample needs at least one " +
                          "feature and the label: separate the values with commas, label last"};
      header = std::any_of(fields.begin(), fields.end(), [&](std::string_view f) {
        double ignored = 0;
        return parse_number(f, ignored) == number_kind::not_a_number;
      });
      if (header)
        continue;
      d.features = columns - 1;
      // One sample per remaining line, roughly: avoid regrowing a large set. A sample
      // takes at least two bytes a column ("0,"), so blank lines cannot make this ask
      // for more than the file could hold.
      auto lines = static_cast<size_t>(std::count(rest.begin(), rest.end(), '\n')) + 2;
      lines = std::min(lines, rest.size() / (2 * columns) + 2);
      d.x.reserve(lines * d.features);
      d.y.reserve(lines);
    } else if (fields.size() != columns) {
      return status{errc::corrupt_data,
                    at_line(path, line_no) + ": expected " + std::to_string(columns) +
                        " comma-separated values (" + std::to_string(columns - 1) +
                        " features and the label, as on line " + std::to_string(first_line) +
                        "), found " + std::to_string(fields.size()) +
                        "; every row needs the same number of columns"};
    }
    d.features = columns - 1;
    for (size_t c = 0; c < columns; ++c) {
      auto kind = parse_number(fields[c], values[c]);
      if (kind == number_kind::not_a_number)
        return status{errc::corrupt_data,
                      at_field(path, line_no, c + 1) + ": " +
                          (fields[c].empty() ? std::string("the value is empty")
                                             : shown_field(fields[c]) + " is not a number") +
                          "; every value must be a decimal number (only the first line may "
                          "be a header)"};
      if (kind == number_kind::out_of_range || !std::isfinite(values[c]) ||
          (c + 1 < columns && !std::isfinite(static_cast<float>(values[c]))))
        return status{errc::corrupt_data, at_field(path, line_no, c + 1) + ": " +
                                              shown_field(fields[c]) +
                                              " is not a finite 32-bit float; remove or " +
                                              "replace missing and infinite values"};
    }
    double label = values[columns - 1];
    if (label < 0 || label != std::floor(label) || label >= static_cast<double>(kCsvMaxClasses))
      return status{errc::corrupt_data,
                    at_field(path, line_no, columns) + ": label " +
                        shown_field(fields[columns - 1]) +
                        " is not a class index; the last column must be a whole number from 0 "
                        "to " +
                        std::to_string(kCsvMaxClasses - 1)};
    for (size_t c = 0; c + 1 < columns; ++c)
      d.x.push_back(static_cast<float>(values[c]));
    d.y.push_back(static_cast<float>(label));
    max_label = std::max(max_label, static_cast<size_t>(label));
    ++d.count;
  }
  if (columns == 0)
    return status{errc::corrupt_data, "CSV file " + in_quotes(path) +
                                          " is empty; it needs one line per sample: the "
                                          "features, then the class label, comma-separated"};
  if (d.count == 0)
    return status{errc::corrupt_data, "CSV file " + in_quotes(path) + " has a header line (line " +
                                          std::to_string(first_line) + ") but no samples"};
  d.classes = max_label + 1;
  return d;
}

result<train_test> load_csv_pair(const std::string& train_path, const std::string& test_path) {
  auto test_future = std::async(std::launch::async, [&] { return load_csv(test_path); });
  auto train = load_csv(train_path);
  auto test = test_future.get();
  if (!train)
    return train.error();
  if (!test)
    return test.error();
  if (train->features != test->features)
    return status{errc::mismatch, "training file " + in_quotes(train_path) + " has " +
                                      std::to_string(train->features) +
                                      " feature columns but test file " + in_quotes(test_path) +
                                      " has " + std::to_string(test->features) +
                                      "; both need the same features in the same order, "
                                      "label last"};
  size_t classes = std::max(train->classes, test->classes);
  if (classes < 2)
    return status{errc::corrupt_data, "CSV files " + in_quotes(train_path) + " and " +
                                          in_quotes(test_path) +
                                          " hold only class 0; a classifier needs at least two "
                                          "classes, labelled 0, 1, ..."};
  train->classes = classes;
  test->classes = classes;
  train_test out;
  out.train = std::make_shared<const dataset>(std::move(train).value());
  out.test = std::make_shared<const dataset>(std::move(test).value());
  return out;
}

} // namespace tether
