#include "cli/simulate_options.hpp"

#include "cli/options.hpp"

#include <charconv>
#include <cmath>
#include <vector>

namespace tether {

namespace {

status bad(const std::string& what) {
  return status{errc::invalid_argument, what};
}

/// A finite decimal number in [lo, hi] (lo excluded when `open_low`).
result<double> parse_real(const std::string& option, const std::string& text, double lo,
                          bool open_low, const std::string& unit) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  bool ok = !text.empty() && ec == std::errc{} && end == text.data() + text.size() &&
            std::isfinite(v) && (open_low ? v > lo : v >= lo);
  if (!ok)
    return bad("--" + option + "=" + text + ": expected a number " + (open_low ? "> " : ">= ") +
               (lo == 0 ? "0" : std::to_string(lo)) + " (" + unit + ")");
  return v;
}

/// Splits "--name=value" or "--name value" (the value taken from argv[i + 1]).
bool take(const char* const* argv, int argc, int& i, const std::string& name, std::string& value,
          status& error) {
  std::string a = argv[i];
  std::string prefix = "--" + name;
  if (a.rfind(prefix + "=", 0) == 0) {
    value = a.substr(prefix.size() + 1);
    return true;
  }
  if (a != prefix)
    return false;
  if (i + 1 >= argc) {
    error = bad(prefix + " needs a value");
    return true;
  }
  value = argv[++i];
  return true;
}

} // namespace

result<simulate_args> parse_simulate_args(int argc, const char* const* argv) {
  simulate_args out;
  std::vector<std::string> rest{"tether", "train"};
  std::optional<uint32_t> workers;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      out.show_help = true;
      return out;
    }
    std::string value;
    status error = status::ok();
    if (take(argv, argc, i, "workers", value, error)) {
      if (!error)
        return error;
      auto n = parse_whole(value, 1, simulate_max_workers);
      if (!n)
        return bad("--workers=" + value + ": " + n.error().message());
      workers = static_cast<uint32_t>(*n);
    } else if (take(argv, argc, i, "step-time", value, error)) {
      if (!error)
        return error;
      auto m = parse_step_time(value);
      if (!m)
        return bad("--step-time=" + value + ": " + m.error().message());
      out.settings.step = *m;
      out.step_time_given = true;
    } else if (take(argv, argc, i, "latency", value, error)) {
      if (!error)
        return error;
      auto v = parse_real("latency", value, 0, false, "seconds per message");
      if (!v)
        return v.error();
      out.settings.latency_seconds = *v;
    } else if (take(argv, argc, i, "bandwidth", value, error)) {
      if (!error)
        return error;
      auto v = parse_real("bandwidth", value, 0, true, "bytes per second");
      if (!v)
        return v.error();
      out.settings.bandwidth = *v;
    } else if (take(argv, argc, i, "apply-rate", value, error)) {
      if (!error)
        return error;
      auto v =
          parse_real("apply-rate", value, 0, true, "gradient bytes a shard applies per second");
      if (!v)
        return v.error();
      out.settings.apply_rate = *v;
    } else {
      rest.push_back(a);
    }
  }
  std::vector<const char*> train_argv;
  for (auto& s : rest)
    train_argv.push_back(s.c_str());
  auto parsed = parse_command_line(static_cast<int>(train_argv.size()), train_argv.data());
  if (!parsed)
    return parsed.error();
  out.config = std::move(parsed->config);
  if (workers)
    out.config.workers = *workers;
  const auto& c = out.config;
  const std::pair<const char*, bool> not_simulated[] = {{"--gpus", !c.gpus.empty()},
                                                        {"--faults", !c.faults.empty()},
                                                        {"--resume", c.resume},
                                                        {"--max-workers", c.max_workers != 0},
                                                        {"--min-workers", c.min_workers != 0}};
  for (auto [name, given] : not_simulated)
    if (given)
      return bad(std::string(name) +
                 " is not simulated yet (GPUs, injected faults, resuming "
                 "and elastic membership are not built in the simulator; docs/simulator.md)");
  if (!out.config.stragglers.empty() || out.config.step_jitter > 0)
    return bad("--straggler and --step-jitter slow real workers; in a simulation give "
               "--step-time=straggler:FRACTION,FACTOR or lognormal:MEAN,SIGMA instead");
  return out;
}

std::string simulate_help() {
  return "usage: tether simulate [--workers=N] [--step-time=MODEL] [--latency=SECONDS]\n"
         "                       [--bandwidth=BYTES_PER_S] [--apply-rate=BYTES_PER_S]\n"
         "                       [every tether train option]\n"
         "\n"
         "Runs a training job in virtual time: the real shard, consistency and dispatch\n"
         "logic and real gradients, with step times and messages simulated\n"
         "(docs/simulator.md). The summary (--summary) is a real run's plus\n"
         "virtual_seconds and a \"simulation\" object.\n"
         "\n"
         "options:\n"
         "  --workers=N             simulated workers, 1 to 100000 [default: 2]\n"
         "  --step-time=MODEL       constant:S | lognormal:MEAN,SIGMA |\n"
         "                          straggler:FRACTION,FACTOR | pareto:ALPHA,PROB\n"
         "                          [default: constant at the mean step time measured here]\n"
         "  --latency=SECONDS       one-way latency per message [default: 0.0001]\n"
         "  --bandwidth=BYTES_PER_S bytes per second per message [default: 1.25e9]\n"
         "  --apply-rate=BYTES_PER_S\n"
         "                          gradient bytes a shard applies per second [default: 4e9]\n"
         "  --help                  show this text\n";
}

} // namespace tether
