#include "cli/generate_command.hpp"

#include "cli/exit_codes.hpp"
#include "cli/export_command.hpp"
#include "cli/options.hpp"
#include "cli/weights_export.hpp"
#include "core/gpt_model.hpp"
#include "messages/checkpoint_file.hpp"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <ostream>

namespace tether {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kMaxBytes = 1 << 20; // --bytes: 1 MiB of text at most
constexpr double kMaxTemperature = 100;

const std::vector<subcommand_option>& generate_options() {
  static const std::vector<subcommand_option> options{
      {"checkpoint", "DIR|FILE",
       "a checkpoint directory (its newest good checkpoint is taken) or one ckpt-*.tether file"},
      {"prompt", "TEXT", "the text to continue (default: empty, i.e. a new line)"},
      {"bytes", "N", "bytes to generate, 1 to 1048576 (default 200)"},
      {"temperature", "T", "sampling temperature, 0 (the most likely byte) to 100 (default 0.8)"},
      {"top-k", "K", "sample among the K most likely bytes, 0 for all 256 (default 40)"},
      {"seed", "S", "seed of the sampling (default 1): the same seed gives the same text"},
  };
  return options;
}

int fail(std::ostream& err, int code, const std::string& message) {
  err << "tether generate: " << message << "\n";
  return code;
}

/// A finite number in [lo, hi], or an error naming the option.
result<double> parse_number(const std::string& name, const std::string& text, double lo, double hi) {
  double value = 0;
  auto last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), last, value);
  if (text.empty() || ec != std::errc{} || ptr != last || !std::isfinite(value) || value < lo
      || value > hi)
    return status{errc::invalid_argument, "--" + name + "=" + text + ": expected a number from "
                                            + std::to_string(lo) + " to " + std::to_string(hi)};
  return value;
}

/// The checkpoint named by --checkpoint: one file, or the newest good one of a directory.
result<checkpoint_data> load_checkpoint(const std::string& source, std::ostream& err) {
  std::error_code ec;
  if (source.empty() || !fs::exists(fs::symlink_status(source, ec)))
    return status{errc::not_found, "--checkpoint=" + source + ": no such directory or file"};
  if (!fs::is_directory(source, ec))
    return read_checkpoint(source);
  auto loaded = load_newest_good(source);
  if (!loaded)
    return loaded.error();
  for (auto& skipped : loaded->skipped)
    err << "tether generate: skipped " << skipped << "\n";
  return std::move(loaded->data);
}

} // namespace

int generate_command(int argc, const char* const* argv) {
  return generate_command(argc, argv, std::cout, std::cerr);
}

int generate_command(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  auto parsed = parse_subcommand_options("generate", argc, argv, generate_options());
  if (!parsed)
    return fail(err, exit_usage, parsed.error().message());
  auto& opts = *parsed;
  if (opts.count("help")) {
    out << subcommand_help(
        "generate", "--checkpoint=DIR|FILE [--prompt=TEXT] [--bytes=N] [--temperature=T] "
                    "[--top-k=K] [--seed=S]",
        "Prints the continuation of --prompt by the language model of a checkpoint (docs/lm.md).\n"
        "The same checkpoint, prompt and seed print the same text.\n"
        "Exit codes: 0 printed, 2 bad option or not a language model, 4 no good checkpoint.",
        generate_options());
    return exit_ok;
  }
  if (!opts.count("checkpoint"))
    return fail(err, exit_usage, "--checkpoint=DIR|FILE is required; see tether generate --help");
  auto value = [&](const char* name, const char* fallback) {
    return opts.count(name) ? opts[name] : std::string(fallback);
  };
  auto bytes = parse_whole(value("bytes", "200"), 1, kMaxBytes);
  if (!bytes)
    return fail(err, exit_usage, "--bytes=" + value("bytes", "") + ": " + bytes.error().message());
  auto top_k = parse_whole(value("top-k", "40"), 0, 256);
  if (!top_k)
    return fail(err, exit_usage, "--top-k=" + value("top-k", "") + ": " + top_k.error().message());
  auto seed = parse_whole(value("seed", "1"), 0, UINT64_MAX);
  if (!seed)
    return fail(err, exit_usage, "--seed=" + value("seed", "") + ": " + seed.error().message());
  auto temperature = parse_number("temperature", value("temperature", "0.8"), 0, kMaxTemperature);
  if (!temperature)
    return fail(err, exit_usage, temperature.error().message());

  auto data = load_checkpoint(opts["checkpoint"], err);
  if (!data)
    return fail(err, exit_checkpoint, data.error().message());
  if (!is_gpt_spec(data->model))
    return fail(err, exit_usage, "the checkpoint holds model " + data->model
                                   + ", not a language model (gpt:...); tether generate needs "
                                     "a checkpoint of tether train --dataset=text");
  auto layout = checkpoint_layout(*data);
  if (!layout)
    return fail(err, exit_checkpoint, layout.error().message());
  auto spec = parse_gpt_spec(data->model);
  auto gpt = spec ? gpt_model::make(*spec) : result<gpt_model>{spec.error()};
  if (!gpt)
    return fail(err, exit_checkpoint, "the checkpoint's model " + data->model + ": "
                                        + gpt.error().message());
  auto params = checkpoint_params(*data);
  gpt_workspace ws;
  auto text = gpt->generate(params, value("prompt", ""), *bytes, static_cast<float>(*temperature),
                            *top_k, *seed, ws);
  out << text;
  out.flush();
  return exit_ok;
}

} // namespace tether
