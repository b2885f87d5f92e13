// The command line of `tether`: argv to parsed_command, help and version text. The
// option table itself lives in cli/options.cpp.
#include "cli/options.hpp"

#include <algorithm>
#include <limits>
#include <set>

#ifndef TETHER_VERSION
#define TETHER_VERSION "unknown"
#endif

namespace tether {

namespace {

status bad(std::string message) {
  return status{errc::invalid_argument, std::move(message)};
}

const option_spec* find_option(std::string_view name) {
  for (auto& row : train_options())
    if (row.name == name)
      return &row;
  return nullptr;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = up;
    }
  }
  return row[b.size()];
}

/// " (did you mean <prefix>x?)" when one candidate is close to `given`, else "".
std::string suggestion(std::string_view given, const std::vector<std::string_view>& candidates,
                       std::string_view prefix) {
  std::string_view best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  size_t prefix_matches = 0;
  std::string_view prefix_match;
  for (auto candidate : candidates) {
    auto distance = edit_distance(given, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
    if (!given.empty() && candidate.starts_with(given)) {
      ++prefix_matches;
      prefix_match = candidate;
    }
  }
  if (best_distance <= std::max<size_t>(2, given.size() / 4) && best_distance < given.size())
    return " (did you mean " + std::string(prefix) + std::string(best) + "?)";
  if (prefix_matches == 1)
    return " (did you mean " + std::string(prefix) + std::string(prefix_match) + "?)";
  return {};
}

bool is_help(std::string_view arg) {
  return arg == "--help" || arg == "-h";
}

result<parsed_command> parse_train(int argc, const char* const* argv, int first) {
  parsed_command out;
  out.command = "train";
  for (int i = first; i < argc; ++i)
    if (is_help(argv[i])) {
      out.show_help = true;
      return out;
    }
  std::vector<std::string_view> names;
  for (auto& row : train_options())
    names.push_back(row.name);
  std::set<std::string_view> given;
  auto& cfg = out.config;
  for (int i = first; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (!arg.starts_with("-") || arg == "-" || arg == "--")
      return bad("unexpected argument " + std::string(arg) +
                 ": tether train takes no positional arguments; see tether train --help");
    auto body = arg.substr(arg.starts_with("--") ? 2 : 1);
    auto eq = body.find('=');
    auto name = body.substr(0, eq);
    auto* row = arg.starts_with("--") ? find_option(name) : nullptr;
    if (row == nullptr)
      return bad("unknown option " + std::string(arg.substr(0, arg.find('='))) +
                 " for tether train" + suggestion(name, names, "--") + "; see tether train --help");
    std::string value;
    if (eq != std::string_view::npos) {
      value = body.substr(eq + 1);
    } else if (row->is_flag()) {
      value = "true";
    } else if (i + 1 < argc && !std::string_view(argv[i + 1]).starts_with("--")) {
      value = argv[++i];
    } else {
      return bad("--" + std::string(name) + " needs a value: --" + std::string(name) + "=" +
                 std::string(row->placeholder));
    }
    if (auto st = row->set(cfg, value); !st)
      return bad("--" + std::string(name) + "=" + value + ": " + st.message());
    given.insert(row->name);
  }
  if (cfg.dataset == dataset_kind::linreg) {
    auto linreg = linreg_defaults();
    for (auto& row : train_options()) {
      if (row.name == "dataset" || given.count(row.name) != 0)
        continue;
      if (auto st = row.set(cfg, row.render(linreg)); !st)
        return status{errc::internal,
                      "linreg default of --" + std::string(row.name) + ": " + st.message()};
    }
  }
  // An optimizer chosen without --lr gets its own learning rate (sgd's 0.1 would make
  // Adam diverge; Adam's 0.001 would make SGD crawl).
  if (given.count("optimizer") != 0 && given.count("lr") == 0)
    cfg.optimizer.lr = default_lr(cfg.optimizer.kind);
  cfg.effective_options = effective_options_text(cfg);
  return out;
}

/// Appends `text` word-wrapped to `width` columns, continuation lines indented by `indent`.
void append_wrapped(std::string& out, std::string_view text, size_t column, size_t indent,
                    size_t width) {
  while (!text.empty()) {
    auto space = text.find(' ');
    auto word = text.substr(0, space);
    if (column > indent && column + 1 + word.size() > width) {
      out += '\n' + std::string(indent, ' ');
      column = indent;
    } else if (column > indent) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    text = space == std::string_view::npos ? std::string_view{} : text.substr(space + 1);
  }
}

std::string shown(const std::string& value) {
  return value.empty() ? "(none)" : value;
}

} // namespace

result<parsed_command> parse_command_line(int argc, const char* const* argv) {
  parsed_command out;
  if (argc < 2)
    return bad("no command given; see tether --help");
  std::string_view first = argv[1];
  if (is_help(first) || first == "help") {
    out.show_help = true;
    if (first == "help" && argc > 2 && std::string_view(argv[2]) == "train")
      out.command = "train";
    return out;
  }
  if (first == "--version") {
    out.show_version = true;
    return out;
  }
  if (first == "train")
    return parse_train(argc, argv, 2);
  if (first.starts_with("-"))
    return bad("unknown option " + std::string(first.substr(0, first.find('='))) +
               " for tether; see tether --help");
  return bad("unknown command " + std::string(first) + suggestion(first, {"train"}, "") +
             "; see tether --help");
}

std::string help_text(const std::string& command) {
  if (command != "train")
    return "usage: tether <command> [options]\n"
           "       tether --help | --version\n"
           "\n"
           "commands:\n"
           "  train    train a model with asynchronous SGD on a parameter-server cluster in\n"
           "           this process (tether train --help lists its options)\n"
           "\n"
           "exit codes: 0 ok, 1 failure inside tether, 2 bad option or value, 3 bad data,\n"
           "4 checkpoint problem, 5 restart budget spent, 130 stopped by a signal after a\n"
           "final checkpoint (docs/cli.md)\n";
  constexpr size_t indent = 36, width = 100;
  const job_config defaults;
  const auto linreg = linreg_defaults();
  std::string out = "usage: tether train [options]\n\n"
                    "Trains a model on parameter-shard and worker actors in this process.\n"
                    "Options are --name=value or --name value; flags take no value (or\n"
                    "=true/false); when an option is repeated the last one wins.\n\n"
                    "options:\n";
  for (auto& row : train_options()) {
    std::string head = "  --" + std::string(row.name);
    if (!row.is_flag())
      head += "=" + std::string(row.placeholder);
    out += head;
    size_t column = head.size();
    if (column + 2 > indent) {
      out += '\n';
      column = 0;
    }
    out += std::string(indent - column, ' ');
    // The default is kept on one line: its spaces do not break until wrapping is done.
    std::string text = "[default: " + shown(row.render(defaults));
    if (row.name != "dataset" && row.render(linreg) != row.render(defaults))
      text += "; with --dataset=linreg: " + shown(row.render(linreg));
    text += "]";
    std::replace(text.begin(), text.end(), ' ', '\x1f');
    auto start = out.size();
    append_wrapped(out, std::string(row.help) + " " + text, indent, indent, width);
    std::replace(out.begin() + static_cast<std::ptrdiff_t>(start), out.end(), '\x1f', ' ');
    out += '\n';
  }
  out += "  --help                            show this text\n";
  return out;
}

std::string version_text() {
  return std::string("tether ") + TETHER_VERSION;
}

} // namespace tether
