// Reading `tether train --config=FILE`: lines to settings. The grammar is in
// cli/config_file.hpp; applying the settings is parse_command_line's (cli/command_line.cpp).
#include "cli/config_file.hpp"

#include "core/file_input.hpp"
#include "core/text.hpp"

#include <string_view>

namespace tether {

namespace {

status bad(std::string message) {
  return status{errc::invalid_argument, std::move(message)};
}


/// The line without its comment: from a '#' that starts the line or follows a space or tab.
std::string_view strip_comment(std::string_view line) {
  for (size_t i = 0; i < line.size(); ++i)
    if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t'))
      return line.substr(0, i);
  return line;
}

std::vector<std::string_view> option_names() {
  std::vector<std::string_view> names;
  for (auto& row : train_options())
    names.push_back(row.name);
  return names;
}

} // namespace

std::string config_location(const std::string& path, size_t line) {
  return path + ":" + std::to_string(line);
}

result<std::vector<config_setting>> parse_config_text(const std::string& text,
                                                      const std::string& path) {
  std::vector<config_setting> out;
  std::string_view rest = text;
  if (rest.starts_with("\xEF\xBB\xBF")) // a UTF-8 byte-order mark, as some editors write
    rest.remove_prefix(3);
  for (size_t line_no = 1; !rest.empty(); ++line_no) {
    auto newline = rest.find('\n');
    auto raw = rest.substr(0, newline);
    rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
    if (!raw.empty() && raw.back() == '\r')
      raw.remove_suffix(1);
    auto line = trim(strip_comment(raw));
    if (line.empty())
      continue;
    auto where = config_location(path, line_no) + ": ";
    auto eq = line.find('=');
    auto name = trim(line.substr(0, eq));
    if (name.empty() ||
        (eq == std::string_view::npos && name.find_first_of(" \t") != std::string_view::npos))
      return bad(where + "expected name = value, found \"" + printable(line.substr(0, 80)) +
                 (line.size() > 80 ? "...\"" : "\""));
    if (name == "config")
      return bad(where + "config cannot be set inside a config file");
    const option_spec* row = find_train_option(name);
    if (row == nullptr) {
      auto hint = did_you_mean(name, option_names(), "");
      return bad(where + "unknown option \"" + printable(name.substr(0, 80)) + "\"" +
                 (hint.empty() ? std::string("; see tether train --help") : hint));
    }
    config_setting setting;
    setting.option = row;
    setting.line = line_no;
    if (eq != std::string_view::npos)
      setting.value = trim(line.substr(eq + 1));
    else if (row->is_flag())
      setting.value = "true";
    else
      return bad(where + std::string(name) + " needs a value: " + std::string(name) + " = " +
                 std::string(row->placeholder));
    out.push_back(std::move(setting));
  }
  return out;
}

result<std::vector<config_setting>> read_config_file(const std::string& path) {
  if (path.empty())
    return bad("--config=: expected the path of a config file, not an empty value");
  // Bounded in size and time: --config=/dev/zero or a FIFO nobody writes to ends here
  // with a message instead of filling memory or waiting for ever.
  auto text = read_small_file(path, max_config_bytes, max_config_wait,
                              "--config=" + path + ": the config file");
  if (!text) {
    if (text.error().code() == errc::not_found)
      return bad(text.error().message());
    return bad(text.error().message() + "; give a file of name = value lines");
  }
  return parse_config_text(*text, path);
}

} // namespace tether
