// Absurd option values: every numeric option of `tether train` at 0, negative, huge,
// NaN, infinite, hexadecimal and empty. Each is either a valid value (the job runs and
// exits 0) or refused by the option check with one message naming the option (exit 2);
// never a crash, a hang, or a value silently turned into something else.
#include "tests/hostile/hostile.hpp"

using namespace tether::hostile;

namespace {

/// A numeric option, and which of the absurd values are valid for it.
struct numeric_option {
  std::string name;
  bool zero_is_valid;
  bool real; ///< a real number (else a whole number)
};

const std::vector<numeric_option>& numeric_options() {
  static const std::vector<numeric_option> options = {
      {"limit-train", true, false},
      {"workers", false, false},
      {"shards", false, false},
      {"batch", false, false},
      {"lr", false, true},
      {"weight-decay", true, true},
      {"warmup", true, false},
      {"epochs", false, false},
      {"seed", true, false},
      {"staleness", true, false},
      {"dc-lambda", true, true},
      {"step-jitter", true, true},
      {"checkpoint-every", true, false},
      {"checkpoint-keep", false, false},
      {"max-restarts", true, false},
      {"restart-window", false, true},
      {"request-timeout", false, true},
      {"eval-every", true, false},
  };
  return options;
}

/// Values no numeric option takes: negative, huge (past a double, past 64 bits), NaN,
/// infinite, hexadecimal, empty, two numbers. (A huge but finite --lr, --weight-decay or
/// --dc-lambda such as 1e23 is a valid number that makes training diverge: what stops
/// such a job is divergence detection, not the option check.)
std::vector<std::string> absurd_values(const numeric_option& opt) {
  std::vector<std::string> values = {"-1", "nan", "1e400", "99999999999999999999999999"};
  if (opt.real) // past a double, and below its smallest value
    values.back() = "1e-400";
  if (opt.name == "lr" || opt.name == "seed") // the others fail the same way
    for (const char* more : {"inf", "-inf", "0x10", "", "1 2"})
      values.push_back(more);
  return values;
}

} // namespace

TEST_CASE("every numeric option at absurd values: a valid job or one clear refusal") {
  temp_dir dir;
  struct run_case {
    std::string option, value;
    pending_run run;
  };
  std::vector<run_case> runs;
  size_t index = 0;
  auto finish_all = [&] {
    for (auto& r : runs) {
      CAPTURE(r.option);
      CAPTURE(r.value);
      auto o = r.run.finish();
      INFO(o.output);
      CHECK_FALSE(o.timed_out);
      CHECK(o.signal == 0);
      CHECK(o.code == 2);
      // One message, naming the option and the value as given.
      CHECK(contains(o.output, "tether: --" + r.option + "=" + r.value + ": expected"));
    }
    runs.clear();
  };
  for (const auto& opt : numeric_options()) {
    for (const auto& value : absurd_values(opt)) {
      runs.push_back({opt.name, value,
                      start_tether({"train", "--dataset=linreg", "--epochs=1", "--quiet",
                                    "--checkpoint-dir=" + (dir / ("ck" + std::to_string(index++))),
                                    "--" + opt.name + "=" + value})});
      if (runs.size() == 8)
        finish_all();
    }
  }
  finish_all();
  CHECK(names_in(dir.path).empty()); // nothing ran: no checkpoint directory was made
}

TEST_CASE("zero is a valid value where documented, and the job runs with it") {
  temp_dir dir;
  const auto& options = numeric_options();
  std::vector<pending_run> runs;
  for (size_t i = 0; i < options.size(); ++i) {
    runs.push_back(start_tether({"train", "--dataset=linreg", "--epochs=1", "--quiet",
                                 "--checkpoint-dir=" + (dir / ("ck-" + options[i].name)),
                                 "--" + options[i].name + "=0"}));
    if (runs.size() < 4 && i + 1 < options.size())
      continue; // a few jobs at a time
    for (size_t k = 0; k < runs.size(); ++k) {
      const auto& opt = options[i + 1 - runs.size() + k];
      CAPTURE(opt.name);
      auto o = runs[k].finish();
      INFO(o.output);
      CHECK_FALSE(o.timed_out);
      CHECK(o.signal == 0);
      if (opt.zero_is_valid) {
        CHECK(o.code == 0);
      } else {
        CHECK(o.code == 2);
        CHECK(contains(o.output, "--" + opt.name + "=0: expected"));
      }
    }
    runs.clear();
  }
}

TEST_CASE("the other absurd values: stragglers, GPUs, models, durations, choices") {
  temp_dir dir;
  struct bad_value {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<bad_value> cases = {
      {{"--straggler=0:1e300"},
       "--straggler=0:1e300: expected WORKER:FACTOR with FACTOR a number "
       "from 1 to 1000"},
      {{"--straggler=0:nan"}, "--straggler=0:nan: expected WORKER:FACTOR"},
      {{"--straggler=-1:2"}, "--straggler=-1:2: expected WORKER:FACTOR"},
      {{"--straggler=99999999999999999999:2"}, "--straggler=99999999999999999999:2: expected"},
      {{"--straggler=5:2"}, "--straggler=5:...: there are only 2 workers"},
      {{"--step-jitter=1e300"},
       "--step-jitter=1e300: expected a finite number of at least 0 and "
       "at most 1000"},
      {{"--request-timeout=1e30"},
       "--request-timeout=1e30: expected a finite number of at least "
       "0.001 and at most 1000000"},
      {{"--gpus=-1"}, "--gpus=-1: expected device numbers"},
      {{"--gpus=99999999999"}, "--gpus=99999999999: expected device numbers"},
      {{"--model=mlp:0,10"}, "layer size \"0\" is not a positive integer"},
      {{"--model=mlp:4294967296,10"}, "layer size \"4294967296\" is not a positive integer"},
      {{"--model=mlp:" + std::string(100000, '9')}, "is not a positive integer"},
      {{"--shards=256"}, "--shards=256 is more than the 21 parameters of the model"},
      {{"--consistency=nan"}, "--consistency=nan: "},
      {{"--metrics=99999999"}, "the port must be a number from 0 to 65535"},
      {{"--metrics=127.0.0.1:-1"}, "the port must be a number from 0 to 65535"},
  };
  std::vector<pending_run> runs;
  for (size_t i = 0; i < cases.size(); ++i)
    runs.push_back(start_tether(with({"train", "--dataset=linreg", "--epochs=1", "--quiet",
                                      "--checkpoint-dir=" + (dir / ("ck" + std::to_string(i)))},
                                     cases[i].args)));
  for (size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(cases[i].args[0].substr(0, 60));
    expect_refusal(runs[i].finish(), 2, cases[i].message);
  }
}
