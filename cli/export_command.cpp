#include "cli/export_command.hpp"

#include "cli/exit_codes.hpp"
#include "cli/json.hpp"
#include "cli/output_paths.hpp"
#include "cli/weights_export.hpp"
#include "messages/checkpoint_file.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <ostream>

namespace tether {

namespace fs = std::filesystem;

namespace {

status bad(std::string message) {
  return status{errc::invalid_argument, std::move(message)};
}

const std::vector<subcommand_option>& export_options() {
  static const std::vector<subcommand_option> options{
      {"checkpoint", "DIR|FILE",
       "a checkpoint directory (its newest good checkpoint is taken) or one ckpt-*.tether file"},
      {"format", "npz|safetensors", "output format (default: from --out's extension)"},
      {"out", "FILE", "the file to write (replaced atomically)"},
  };
  return options;
}

/// --out must name a file in an existing directory.
status check_out_path(const std::string& path) {
  if (path.empty())
    return bad("--out is empty; give the file to write");
  fs::path p(path);
  std::error_code ec;
  if (fs::is_directory(p, ec))
    return bad("--out=" + path + " is a directory; give a file name");
  fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  if (!fs::is_directory(dir, ec))
    return bad("--out=" + path + ": directory \"" + dir.string() +
               "\" does not exist; create it first");
  return {};
}

int fail(std::ostream& err, int code, const std::string& message) {
  err << "tether export: " << message << "\n";
  return code;
}

} // namespace

result<std::map<std::string, std::string>>
parse_subcommand_options(std::string_view command, int argc, const char* const* argv,
                         const std::vector<subcommand_option>& options) {
  std::map<std::string, std::string> values;
  const std::string see = "; see tether " + std::string(command) + " --help";
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h")
      return std::map<std::string, std::string>{{"help", ""}};
  }
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (!arg.starts_with("--") || arg.size() == 2)
      return bad("unexpected argument \"" + std::string(arg) + "\" for tether " +
                 std::string(command) + see);
    arg.remove_prefix(2);
    auto eq = arg.find('=');
    std::string name(arg.substr(0, eq));
    const subcommand_option* spec = nullptr;
    for (auto& o : options)
      if (o.name == name)
        spec = &o;
    if (!spec)
      return bad("unknown option --" + name + " for tether " + std::string(command) + see);
    std::string value;
    if (spec->placeholder.empty()) { // a flag
      value = eq == std::string_view::npos ? "true" : std::string(arg.substr(eq + 1));
      if (value != "true" && value != "false")
        return bad("--" + name + " takes no value (or true/false), not \"" + value + "\"");
    } else if (eq != std::string_view::npos) {
      value = std::string(arg.substr(eq + 1));
    } else if (i + 1 < argc && !std::string_view(argv[i + 1]).starts_with("--")) {
      value = argv[++i];
    } else {
      return bad("--" + name + " needs a value: --" + name + "=" + std::string(spec->placeholder));
    }
    values[name] = value;
  }
  return values;
}

std::string subcommand_help(std::string_view command, std::string_view synopsis,
                            std::string_view description,
                            const std::vector<subcommand_option>& options) {
  std::string out = "usage: tether " + std::string(command) + " " + std::string(synopsis) + "\n\n" +
                    std::string(description) + "\n\noptions:\n";
  for (auto& o : options) {
    std::string left = "  --" + std::string(o.name);
    if (!o.placeholder.empty())
      left += "=" + std::string(o.placeholder);
    left.resize(std::max<size_t>(left.size() + 2, 32), ' ');
    out += left + std::string(o.help) + "\n";
  }
  out += "  --help                        this text\n";
  return out;
}

int export_command(int argc, const char* const* argv) {
  return export_command(argc, argv, std::cout, std::cerr);
}

int export_command(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  auto parsed = parse_subcommand_options("export", argc, argv, export_options());
  if (!parsed)
    return fail(err, exit_usage, parsed.error().message());
  auto& opts = *parsed;
  if (opts.count("help")) {
    out << subcommand_help(
        "export", "--checkpoint=DIR|FILE [--format=npz|safetensors] --out=FILE",
        "Writes the model weights of a checkpoint as float32 tensors named layerK.weight\n"
        "{fan_out, fan_in} and layerK.bias {fan_out}, in layer order (docs/export.md).\n"
        "Exit codes: 0 written, 2 bad option or --out, 4 no good checkpoint.",
        export_options());
    return exit_ok;
  }
  if (!opts.count("checkpoint"))
    return fail(err, exit_usage, "--checkpoint=DIR|FILE is required; see tether export --help");
  if (!opts.count("out"))
    return fail(err, exit_usage, "--out=FILE is required; see tether export --help");
  const std::string source = opts["checkpoint"];
  const std::string out_path = opts["out"];
  // Never over its own input: not the checkpoint read (by any path or link), not any
  // checkpoint of its directory, not a checkpoint's name there. First, so that
  // --out=X --checkpoint=X gets this message whatever else is wrong.
  std::error_code ec;
  const bool from_dir = fs::is_directory(source, ec);
  const named_path out_named{"--out", out_path};
  std::vector<named_path> inputs{{"--checkpoint", source}};
  for (auto& file : list_checkpoints(from_dir ? source : std::string()))
    inputs.push_back({"--checkpoint", file});
  auto dir = from_dir ? source : fs::path(source).parent_path().string();
  for (auto st : {check_not_an_input(out_named, inputs),
                  check_outside_checkpoints(out_named, dir.empty() ? "." : dir),
                  check_replaceable(out_named)})
    if (!st)
      return fail(err, exit_usage, st.message());
  std::string format_text = opts.count("format") ? opts["format"] : "";
  if (format_text.empty()) {
    auto ext = fs::path(out_path).extension().string();
    if (ext == ".npz" || ext == ".safetensors")
      format_text = ext.substr(1);
    else
      return fail(err, exit_usage,
                  "--format=npz|safetensors is required when --out does not end in .npz or "
                  ".safetensors");
  }
  auto format = parse_weights_format(format_text);
  if (!format)
    return fail(err, exit_usage, "--format=" + format_text + ": " + format.error().message());
  if (auto st = check_out_path(out_path); !st)
    return fail(err, exit_usage, st.message());

  // The checkpoint: one file, or the newest good one of a directory.
  std::string path;
  checkpoint_data data;
  if (source.empty() || !fs::exists(fs::symlink_status(source, ec)))
    return fail(err, exit_checkpoint, "--checkpoint=" + source + ": no such directory or file");
  if (from_dir) {
    auto loaded = load_newest_good(source);
    if (!loaded)
      return fail(err, exit_checkpoint, loaded.error().message());
    for (auto& skipped : loaded->skipped)
      err << "tether export: skipped " << skipped << "\n";
    path = loaded->path;
    data = std::move(loaded->data);
  } else {
    auto read = read_checkpoint(source);
    if (!read)
      return fail(err, exit_checkpoint, read.error().message());
    path = source;
    data = std::move(*read);
  }

  auto layout = checkpoint_layout(data);
  if (!layout)
    return fail(err, exit_checkpoint, path + ": " + layout.error().message());
  auto params = checkpoint_params(data);
  auto bytes = *format == weights_format::npz
                   ? npz_bytes(*layout, params)
                   : safetensors_bytes(*layout, params,
                                       {{"format", "pt"},
                                        {"model", data.model},
                                        {"updates", std::to_string(data.updates)}});
  if (!bytes)
    return fail(err, exit_usage, bytes.error().message());
  // A file named by an option that cannot be written: exit code 2, as for every such path.
  if (auto st = write_file_atomically(out_path, *bytes); !st)
    return fail(err, exit_usage, st.message());
  out << "exported " << layout->tensors.size() << " tensors (" << layout->total
      << " float32 parameters) of " << data.model << " from " << path << " (" << data.updates
      << " updates) to " << out_path << " (" << to_string(*format) << ", " << bytes->size()
      << " bytes)\n";
  return exit_ok;
}

} // namespace tether
