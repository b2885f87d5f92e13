#include "cli/inspect_command.hpp"

#include "core/text.hpp"

#include "cli/exit_codes.hpp"
#include "cli/export_command.hpp"
#include "cli/json.hpp"
#include "cli/weights_export.hpp"
#include "messages/checkpoint_file.hpp"

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <ostream>

namespace tether {

namespace fs = std::filesystem;

namespace {

const std::vector<subcommand_option>& inspect_options() {
  static const std::vector<subcommand_option> options{
      {"checkpoint", "DIR|FILE", "a checkpoint directory (every checkpoint in it) or one file"},
      {"json", "", "print one JSON object instead of text"},
  };
  return options;
}

/// One file of the directory: its contents if it verifies, else why not.
struct inspected {
  std::string path;
  result<checkpoint_data> data;
};

std::string utc_time(int64_t unix_ms) {
  std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  if (unix_ms < 0 || !gmtime_r(&seconds, &tm))
    return "(invalid time " + std::to_string(unix_ms) + " ms)";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03d UTC", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return buf;
}

std::string hex64(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string shape_text(const std::vector<size_t>& shape) {
  std::string out;
  for (size_t d : shape)
    out += (out.empty() ? "" : "x") + std::to_string(d);
  return out.empty() ? "scalar" : out;
}

std::string pad(std::string text, size_t width) {
  if (text.size() < width)
    text.resize(width, ' ');
  return text;
}

void print_text(std::ostream& out, const inspected& item, bool newest) {
  out << item.path << (newest ? "  (newest)" : "") << "\n";
  if (!item.data) {
    out << "  verifies:     NO: " << item.data.error().message() << "\n\n";
    return;
  }
  const auto& d = *item.data;
  out << "  verifies:     yes (crc32 and format version " << checkpoint_format_version
      << " checked, shards consistent)\n";
  out << "  updates:      " << d.updates << "\n";
  out << "  created:      " << utc_time(d.created_unix_ms) << " (" << d.created_unix_ms
      << " ms since 1970)\n";
  out << "  model:        " << printable(d.model) << " (" << d.total_params
      << " parameters, layout " << hex64(d.layout_fingerprint) << ")\n";
  out << "  optimizer:    " << printable(d.optimizer) << "\n";
  out << "  consistency:  " << printable(d.consistency) << "\n";
  out << "  seed:         " << d.seed << "\n";
  out << "  shards:       " << d.shards.size() << "\n";
  out << "    " << pad("index", 7) << pad("range", 24) << pad("version", 12)
      << pad("optimizer steps", 17) << "slots\n";
  for (auto& s : d.shards)
    out << "    " << pad(std::to_string(s.index), 7)
        << pad("[" + std::to_string(s.range_begin) + ", " + std::to_string(s.range_end) + ")", 24)
        << pad(std::to_string(s.version), 12) << pad(std::to_string(s.optimizer_steps), 17)
        << s.slots.size() << "\n";
  out << "  worker steps:";
  for (auto steps : d.worker_steps)
    out << " " << steps;
  out << (d.worker_steps.empty() ? " (none)\n" : "\n");
  auto layout = checkpoint_layout(d);
  if (!layout) {
    out << "  layout:       cannot be rebuilt: " << layout.error().message() << "\n";
  } else {
    out << "  layout:       " << layout->tensors.size() << " tensors\n";
    out << "    " << pad("tensor", 18) << pad("shape", 14) << pad("offset", 12) << "size\n";
    for (auto& t : layout->tensors)
      out << "    " << pad(t.name, 18) << pad(shape_text(t.shape), 14)
          << pad(std::to_string(t.offset), 12) << t.size << "\n";
  }
  out << "  config:\n";
  size_t begin = 0;
  while (begin < d.config.size()) {
    auto end = d.config.find('\n', begin);
    if (end == std::string::npos)
      end = d.config.size();
    if (end > begin)
      out << "    " << printable(std::string_view(d.config).substr(begin, end - begin)) << "\n";
    begin = end + 1;
  }
  if (d.config.empty())
    out << "    (none recorded)\n";
  out << "\n";
}

void write_json(json_writer& w, const inspected& item) {
  w.begin_object();
  w.key("file").string(item.path);
  w.key("verifies").boolean(item.data.is_ok());
  if (!item.data) {
    w.key("error").string(item.data.error().message());
    w.end_object();
    return;
  }
  const auto& d = *item.data;
  w.key("updates").unsigned_integer(d.updates);
  w.key("created_unix_ms").integer(d.created_unix_ms);
  w.key("created").string(utc_time(d.created_unix_ms));
  w.key("model").string(d.model);
  w.key("total_params").unsigned_integer(d.total_params);
  w.key("layout_fingerprint").string(hex64(d.layout_fingerprint));
  w.key("optimizer").string(d.optimizer);
  w.key("consistency").string(d.consistency);
  w.key("seed").unsigned_integer(d.seed);
  w.key("shards").begin_array();
  for (auto& s : d.shards) {
    w.begin_object();
    w.key("index").unsigned_integer(s.index);
    w.key("range_begin").unsigned_integer(s.range_begin);
    w.key("range_end").unsigned_integer(s.range_end);
    w.key("version").unsigned_integer(s.version);
    w.key("optimizer_steps").unsigned_integer(s.optimizer_steps);
    w.key("slots").unsigned_integer(s.slots.size());
    w.end_object();
  }
  w.end_array();
  w.key("worker_steps").begin_array();
  for (auto steps : d.worker_steps)
    w.unsigned_integer(steps);
  w.end_array();
  auto layout = checkpoint_layout(d);
  if (!layout) {
    w.key("layout").null();
    w.key("layout_error").string(layout.error().message());
  } else {
    w.key("layout").begin_array();
    for (auto& t : layout->tensors) {
      w.begin_object();
      w.key("name").string(t.name);
      w.key("shape").begin_array();
      for (size_t dim : t.shape)
        w.unsigned_integer(dim);
      w.end_array();
      w.key("offset").unsigned_integer(t.offset);
      w.key("size").unsigned_integer(t.size);
      w.end_object();
    }
    w.end_array();
  }
  w.key("config").string(d.config);
  w.end_object();
}

int fail(std::ostream& err, int code, const std::string& message) {
  err << "tether inspect: " << message << "\n";
  return code;
}

} // namespace

int inspect_command(int argc, const char* const* argv) {
  return inspect_command(argc, argv, std::cout, std::cerr);
}

int inspect_command(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  auto parsed = parse_subcommand_options("inspect", argc, argv, inspect_options());
  if (!parsed)
    return fail(err, exit_usage, parsed.error().message());
  auto& opts = *parsed;
  if (opts.count("help")) {
    out << subcommand_help(
        "inspect", "--checkpoint=DIR|FILE [--json]",
        "Prints what each checkpoint holds, newest first, and whether it verifies.\n"
        "Exit codes: 0 a checkpoint verifies, 2 bad option, 4 no checkpoint or none verifies.",
        inspect_options());
    return exit_ok;
  }
  if (!opts.count("checkpoint"))
    return fail(err, exit_usage, "--checkpoint=DIR|FILE is required; see tether inspect --help");
  const std::string source = opts["checkpoint"];
  const bool as_json = opts.count("json") && opts["json"] == "true";

  std::error_code ec;
  if (source.empty() || !fs::exists(fs::symlink_status(source, ec)))
    return fail(err, exit_checkpoint, "--checkpoint=" + source + ": no such directory or file");
  std::vector<std::string> paths;
  if (fs::is_directory(source, ec)) {
    // Only regular files are read: a FIFO named like a checkpoint would block open().
    auto listing = scan_checkpoints(source);
    for (auto& skipped : listing.skipped)
      err << "tether inspect: skipped " << skipped << "\n";
    paths = std::move(listing.files);
  } else {
    paths.push_back(source); // read_checkpoint refuses what is not a regular file
  }
  if (paths.empty())
    return fail(err, exit_checkpoint, "no checkpoint (ckpt-*.tether) in " + source);

  std::vector<inspected> items;
  for (auto& path : paths)
    items.push_back({path, read_checkpoint(path)});
  const inspected* usable = nullptr;
  for (auto& item : items)
    if (item.data && !usable)
      usable = &item;

  if (as_json) {
    json_writer w(2);
    w.begin_object();
    w.key("checkpoint").string(source);
    w.key("newest_verifies").boolean(items.front().data.is_ok());
    if (usable)
      w.key("newest_good").string(usable->path);
    else
      w.key("newest_good").null();
    w.key("checkpoints").begin_array();
    for (auto& item : items)
      write_json(w, item);
    w.end_array();
    w.end_object();
    out << w.str() << "\n";
  } else {
    for (size_t i = 0; i < items.size(); ++i)
      print_text(out, items[i], i == 0 && items.size() > 1);
  }
  if (!usable)
    return fail(err, exit_checkpoint,
                "no checkpoint in " + source + " verifies; none can be resumed or exported");
  if (usable != &items.front())
    err << "tether inspect: warning: the newest checkpoint " << items.front().path
        << " does not verify; --resume and export would use " << usable->path << "\n";
  return exit_ok;
}

} // namespace tether
