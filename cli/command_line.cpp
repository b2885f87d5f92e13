// The command line of `tether`: argv to parsed_command, help and version text. The
// option table itself lives in cli/options.cpp.
#include "cli/config_file.hpp"
#include "cli/options.hpp"
#include "cli/output_paths.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <set>

#ifndef TETHER_VERSION
#define TETHER_VERSION "unknown"
#endif

namespace tether {

namespace {

status bad(std::string message) {
  return status{errc::invalid_argument, std::move(message)};
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

} // namespace

std::string did_you_mean(std::string_view given, const std::vector<std::string_view>& candidates,
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

namespace {

bool is_help(std::string_view arg) {
  return arg == "--help" || arg == "-h";
}

/// One option setting from the command line or the config file, before it is applied.
struct assignment {
  const option_spec* row = nullptr;
  std::string value;
  std::string label; ///< how a failure names it: "--workers=x" or "run.conf:7: workers = x"
};

/// Reads the options of argv[first..] into `out` and the last --config into `config`.
status read_arguments(int argc, const char* const* argv, int first, std::vector<assignment>& out,
                      std::optional<std::string>& config) {
  std::vector<std::string_view> names{"config"};
  for (auto& row : train_options())
    names.push_back(row.name);
  for (int i = first; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (!arg.starts_with("-") || arg == "-" || arg == "--")
      return bad("unexpected argument " + std::string(arg) +
                 ": tether train takes no positional arguments; see tether train --help");
    auto body = arg.substr(arg.starts_with("--") ? 2 : 1);
    auto eq = body.find('=');
    auto name = body.substr(0, eq);
    bool is_config = arg.starts_with("--") && name == "config";
    auto* row = arg.starts_with("--") ? find_train_option(name) : nullptr;
    if (row == nullptr && !is_config)
      return bad("unknown option " + std::string(arg.substr(0, arg.find('='))) +
                 " for tether train" + did_you_mean(name, names, "--") +
                 "; see tether train --help");
    std::string placeholder = is_config ? "FILE" : std::string(row->placeholder);
    std::string value;
    if (eq != std::string_view::npos) {
      value = body.substr(eq + 1);
    } else if (!is_config && row->is_flag()) {
      value = "true";
    } else if (i + 1 < argc && !std::string_view(argv[i + 1]).starts_with("--")) {
      value = argv[++i];
    } else {
      return bad("--" + std::string(name) + " needs a value: --" + std::string(name) + "=" +
                 placeholder);
    }
    if (is_config)
      config = value;
    else
      out.push_back({row, value, "--" + std::string(name) + "=" + value});
  }
  return status::ok();
}

/// --dataset=csv needs both files; the files make sense only with it.
status check_csv_options(const job_config& cfg) {
  if (cfg.dataset == dataset_kind::csv) {
    if (cfg.train_path.empty() || cfg.test_path.empty())
      return bad("--dataset=csv needs --train=FILE and --test=FILE (CSV files of numeric "
                 "features with the class label last); " +
                 std::string(cfg.train_path.empty() && cfg.test_path.empty() ? "both are"
                             : cfg.train_path.empty()                        ? "--train is"
                                                                             : "--test is") +
                 " missing");
  } else if (cfg.dataset == dataset_kind::text) {
    if (!cfg.test_path.empty())
      return bad("--test is read only with --dataset=csv; a text's validation file is --valid");
    if (!cfg.valid_path.empty() && cfg.train_path.empty())
      return bad("--valid needs --train=FILE (without --train the default corpus is split "
                 "90/10)");
    return status::ok();
  } else if (!cfg.valid_path.empty()) {
    return bad("--valid is read only with --dataset=text; add --dataset=text or leave it out");
  } else if (!cfg.train_path.empty() || !cfg.test_path.empty()) {
    auto& dataset = *find_train_option("dataset");
    std::string given = !cfg.train_path.empty() ? "--train" : "--test";
    return bad(given + " is read only with --dataset=csv, but --dataset is " + dataset.render(cfg) +
               "; add --dataset=csv or leave out --train and --test");
  }
  return status::ok();
}

result<parsed_command> parse_train(int argc, const char* const* argv, int first) {
  parsed_command out;
  out.command = "train";
  for (int i = first; i < argc; ++i)
    if (is_help(argv[i])) {
      out.show_help = true;
      return out;
    }
  std::vector<assignment> command_line;
  std::optional<std::string> config_path;
  if (auto st = read_arguments(argc, argv, first, command_line, config_path); !st)
    return st;
  // The config file first, then the command line: the later setting wins. A repeatable
  // option given on the command line replaces the file's values instead of adding to them.
  std::vector<assignment> all;
  if (config_path) {
    auto settings = read_config_file(*config_path);
    if (!settings)
      return settings.error();
    std::set<const option_spec*> on_command_line;
    for (auto& a : command_line)
      on_command_line.insert(a.row);
    for (auto& s : *settings) {
      if (s.option->repeatable && on_command_line.count(s.option) != 0) {
        // Replaced by the command line's values, but still checked.
        job_config scratch;
        if (auto st = s.option->set(scratch, s.value); !st)
          return bad(config_location(*config_path, s.line) + ": " + std::string(s.option->name) +
                     " = " + s.value + ": " + st.message());
        continue;
      }
      all.push_back({s.option, s.value,
                     config_location(*config_path, s.line) + ": " + std::string(s.option->name) +
                         " = " + s.value});
    }
  }
  all.insert(all.end(), command_line.begin(), command_line.end());
  std::set<std::string_view> given;
  auto& cfg = out.config;
  for (auto& a : all) {
    if (auto st = a.row->set(cfg, a.value); !st)
      return bad(a.label + ": " + st.message());
    given.insert(a.row->name);
  }
  if (cfg.dataset == dataset_kind::linreg || cfg.dataset == dataset_kind::text) {
    auto special = cfg.dataset == dataset_kind::linreg ? linreg_defaults() : text_defaults();
    for (auto& row : train_options()) {
      if (row.name == "dataset" || given.count(row.name) != 0)
        continue;
      if (auto st = row.set(cfg, row.render(special)); !st)
        return status{errc::internal, std::string(to_string(cfg.dataset)) + " default of --"
                                        + std::string(row.name) + ": " + st.message()};
    }
  }
  // An optimizer chosen without --lr gets its own learning rate (sgd's 0.1 would make
  // Adam diverge; Adam's 0.001 would make SGD crawl).
  if (given.count("optimizer") != 0 && given.count("lr") == 0)
    cfg.optimizer.lr = default_lr(cfg.optimizer.kind);
  if (auto st = check_csv_options(cfg); !st)
    return st;
  // No output over an input, over another output or among the checkpoints.
  if (auto st = check_job_paths(cfg, config_path.value_or("")); !st)
    return st;
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
  return bad("unknown command " + std::string(first) + did_you_mean(first, {"train", "simulate", "coordinator", "node", "export", "inspect"}, "") +
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
           "  simulate run a job of up to 100000 simulated workers in virtual time: the real\n"
           "           shard logic and gradients (tether simulate --help)\n"
           "  coordinator\n"
           "           train across machines: wait for nodes, place shards and workers on\n"
           "           them (tether coordinator --help)\n"
           "  node     join a coordinator and run the work it places here\n"
           "           (tether node --help)\n"
           "  export   write the weights of the newest good checkpoint as .npz or\n"
           "           .safetensors (tether export --help)\n"
           "  generate print text from the language model of a checkpoint\n"
           "           (tether generate --help)\n"
           "  inspect  list the checkpoints of a directory: layout, shards, options, and\n"
           "           whether each verifies (tether inspect --help)\n"
           "\n"
           "exit codes: 0 ok, 1 failure inside tether, 2 bad option or value, 3 bad data,\n"
           "4 checkpoint problem, 5 restart budget spent, 130 stopped by a signal after a\n"
           "final checkpoint (docs/cli.md)\n";
  constexpr size_t indent = 36, width = 100;
  const job_config defaults;
  const auto linreg = linreg_defaults();
  const auto text_job = text_defaults();
  std::string out = "usage: tether train [--config=FILE] [options]\n\n"
                    "Trains a model on parameter-shard and worker actors in this process.\n"
                    "Options are --name=value or --name value; flags take no value (or\n"
                    "=true/false); when an option is repeated the last one wins.\n\n"
                    "options:\n";
  // One option: its head, then its help and default wrapped in the second column.
  auto add = [&](std::string head, const std::string& help, std::string default_text) {
    out += head;
    size_t column = head.size();
    if (column + 2 > indent) {
      out += '\n';
      column = 0;
    }
    out += std::string(indent - column, ' ');
    // The default is kept on one line: its spaces do not break until wrapping is done.
    std::replace(default_text.begin(), default_text.end(), ' ', '\x1f');
    std::replace(default_text.begin(), default_text.end(), '\x1e', ' ');
    auto start = out.size();
    append_wrapped(out, help + " " + default_text, indent, indent, width);
    std::replace(out.begin() + static_cast<std::ptrdiff_t>(start), out.end(), '\x1f', ' ');
    out += '\n';
  };
  add("  --config=FILE",
      "read options from FILE before the command line, which wins: one name = value a line, "
      "names as below without the --, # comments (docs/cli.md)",
      "[default: (none)]");
  for (auto& row : train_options()) {
    std::string head = "  --";
    head += row.name;
    if (!row.is_flag()) {
      head += '=';
      head += row.placeholder;
    }
    std::string text = "[default: " + shown(row.render(defaults));
    if (row.name != "dataset" && row.render(linreg) != row.render(defaults))
      text += "; with --dataset=linreg: " + shown(row.render(linreg));
    text += "]";
    // A second group, on its own line when the first fills one ('\x1e' becomes a space
    // where lines may break).
    if (row.name != "dataset" && row.render(text_job) != row.render(defaults))
      text += "\x1e[with --dataset=text: " + shown(row.render(text_job)) + "]";
    add(head, std::string(row.help), text);
  }
  out += "  --help                            show this text\n";
  return out;
}

std::string version_text() {
  return std::string("tether ") + TETHER_VERSION;
}

} // namespace tether
