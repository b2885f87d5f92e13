#include "cli/options.hpp"

#include "cli/exit_codes.hpp"

#include <doctest/doctest.h>
#include "tests/cli/parse_helpers.hpp"

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace tether;

using namespace tether::testing;

TEST_CASE("every option accepts a good value, in both --name=value and --name value form") {
  struct good {
    std::string name, value;
    std::vector<std::string> with = {}; ///< other options the value needs
  };
  std::vector<good> cases = {
      {"dataset", "idx"},          {"data-dir", "/data/x"},
      {"limit-train", "1000"},     {"model", "mlp:784,64,10"},
      {"workers", "256"},          {"shards", "1"},
      {"batch", "65536"},          {"lr", "0.25"},
      {"optimizer", "adam"},       {"weight-decay", "0.0005"},
      {"lr-schedule", "cosine"},   {"warmup", "100"},
      {"epochs", "100000"},        {"seed", "18446744073709551615"},
      {"consistency", "async"},    {"checkpoint-dir", "/tmp/c"},
      {"checkpoint-every", "500"}, {"checkpoint-keep", "1"},
      {"resume", "true"},          {"max-restarts", "0"},
      {"restart-window", "2.5"},   {"eval-every", "0"},
      {"summary", "out.json"},     {"quiet", "true"},
      {"staleness", "3"},          {"staleness-lr", "inverse"},
      {"dc-lambda", "0.04"},       {"straggler", "1:3"},
      {"step-jitter", "0.5"},      {"verbose", "true"},
      {"metrics", "127.0.0.1:9100"}, {"metrics-token", "/etc/tether/token"},
      {"metrics-log", "points.jsonl"}, {"log-file", "run.log"},
      {"log-level", "warning"},
      {"shard-replicas", "2"},     {"request-timeout", "2.5"},
      {"max-workers", "8"},        {"min-workers", "1"},
      {"steps", "2000"},
      {"gpus", "0,1"},             {"gpu-math", "tf32"},
      {"faults", "kill worker 0 at step 5; drop push 1%"},
      {"train", "a.csv", {"--dataset=csv", "--test=b.csv"}},
      {"test", "b.csv", {"--dataset=csv", "--train=a.csv"}},
      {"valid", "v.txt", {"--dataset=text", "--train=t.txt"}},
      {"lr-floor", "0.0001"},      {"beta1", "0.8"},
      {"beta2", "0.95"},           {"clip", "1.5"},
  };
  std::set<std::string> covered;
  for (auto& c : cases) {
    CAPTURE(c.name);
    covered.insert(c.name);
    auto joined = c.with, separate = c.with;
    joined.push_back("--" + c.name + "=" + c.value);
    separate.insert(separate.end(), {"--" + c.name, c.value});
    CHECK(value_of(train(joined), c.name) == c.value);
    if (c.value != "true") // flags never take the next argument
      CHECK(value_of(train(separate), c.name) == c.value);
  }
  for (auto& row : train_options())
    CHECK_MESSAGE(covered.count(std::string(row.name)) == 1, "no good-value case for ", row.name);
  auto cfg = train({"--optimizer=momentum", "--lr", "0.5", "--weight-decay=1e-4", "--workers=8",
                    "--restart-window=30", "--lr-schedule=cosine", "--warmup=7"});
  CHECK(cfg.optimizer.kind == optimizer_kind::momentum);
  CHECK(cfg.optimizer.lr == 0.5f);
  CHECK(cfg.optimizer.weight_decay == 1e-4f);
  CHECK(cfg.optimizer.schedule == lr_schedule::cosine);
  CHECK(cfg.optimizer.warmup == 7);
  CHECK(cfg.workers == 8);
  CHECK(cfg.restart_window_seconds == 30.0);
}

TEST_CASE("flags take no value, or =true/=false") {
  CHECK(train({"--resume"}).resume);
  CHECK(train({"--quiet"}).quiet);
  CHECK_FALSE(train({"--resume=false"}).resume);
  CHECK(train({"--quiet=true"}).quiet);
  CHECK(train_error({"--resume=maybe"}) == "--resume=maybe: expected true or false (or no "
                                           "value, meaning true)");
  CHECK(train_error({"--quiet", "false"}).starts_with("unexpected argument false"));
}

TEST_CASE("whole numbers reject signs, garbage, overflow and out-of-range values") {
  CHECK(train_error({"--workers=abc"}) == "--workers=abc: expected a whole number from 1 to 256");
  for (auto bad :
       {"-1", "+1", "1.5", " 1", "1 ", "", "0x10", "4k", "0", "257", "99999999999999999999999"}) {
    CAPTURE(bad);
    CHECK(train_error({std::string("--workers=") + bad}) ==
          std::string("--workers=") + bad + ": expected a whole number from 1 to 256");
  }
  CHECK(train_error({"--shards=0"}).starts_with("--shards=0: expected a whole number from 1"));
  CHECK(train_error({"--batch=65537"}).starts_with("--batch=65537: "));
  CHECK(train_error({"--epochs=0"}).starts_with("--epochs=0: "));
  CHECK(train_error({"--checkpoint-keep=0"}).starts_with("--checkpoint-keep=0: "));
  CHECK(train_error({"--seed=18446744073709551616"}).starts_with("--seed="));
  CHECK(train_error({"--limit-train=-5"}).starts_with("--limit-train=-5: "));
  CHECK(train_error({"--max-restarts=4294967296"}).starts_with("--max-restarts="));
  for (auto name : {"warmup", "checkpoint-every", "eval-every"})
    CHECK(train_error({std::string("--") + name + "=x"}).starts_with(std::string("--") + name));
}

TEST_CASE("real numbers reject nan, inf, garbage and out-of-range values") {
  for (auto bad : {"nan", "NaN", "inf", "-inf", "infinity", "1e999", "abc", "", "0", "-0.1",
                   "0x1p3", "1e-50", "0.1x", "+0.1"}) {
    CAPTURE(bad);
    CHECK(train_error({std::string("--lr=") + bad}) ==
          std::string("--lr=") + bad + ": expected a finite number greater than 0");
  }
  CHECK(train({"--weight-decay=0"}).optimizer.weight_decay == 0.0f);
  CHECK(train_error({"--weight-decay=-1"}) ==
        "--weight-decay=-1: expected a finite number of at least 0");
  CHECK(train_error({"--weight-decay=nan"}).starts_with("--weight-decay=nan: "));
  CHECK(train_error({"--restart-window=0"}).starts_with("--restart-window=0: expected a finite"));
  CHECK(train_error({"--restart-window=inf"}).starts_with("--restart-window=inf: "));
}

TEST_CASE("choices, model and paths are checked") {
  CHECK(train({"--dataset=linreg"}).dataset == dataset_kind::linreg);
  CHECK(train({"--dataset=fashion-mnist"}).dataset == dataset_kind::fashion_mnist);
  CHECK(train_error({"--dataset=mnist"}) ==
        "--dataset=mnist: expected fashion-mnist, idx, linreg, csv or text");
  CHECK(train_error({"--optimizer=rmsprop"}) ==
        "--optimizer=rmsprop: expected sgd, momentum, adam or adamw");
  CHECK(train_error({"--lr-schedule=step"}) == "--lr-schedule=step: expected constant or cosine");
  CHECK(train({"--consistency=bsp"}).consistency.model == consistency_model::bsp);
  CHECK(train({"--consistency=ssp", "--staleness=2"}).consistency.staleness == 2);
  CHECK(train_error({"--consistency=eventual"}) ==
        "--consistency=eventual: expected async, ssp or bsp");
  CHECK(train_error({"--staleness-lr=sqrt"}) == "--staleness-lr=sqrt: expected none or inverse");
  CHECK(train_error({"--dc-lambda=-1"}).starts_with("--dc-lambda=-1: "));
  CHECK(train_error({"--straggler=3"}).starts_with("--straggler=3: expected WORKER:FACTOR"));
  CHECK(train_error({"--straggler=a:3"}).starts_with("--straggler=a:3: expected WORKER:FACTOR"));
  CHECK(train_error({"--straggler=1:0.5"}).find("from 1 to 1000") != std::string::npos);
  CHECK(train_error({"--straggler=1:1e300"}).find("from 1 to 1000") != std::string::npos);
  CHECK(train_error({"--step-jitter=1001"}) ==
        "--step-jitter=1001: expected a finite number of at least 0 and at most 1000");
  auto two = train({"--straggler=0:3", "--straggler=2:1.5"});
  REQUIRE(two.stragglers.size() == 2);
  CHECK(two.stragglers[1].worker == 2);
  CHECK(two.stragglers[1].factor == doctest::Approx(1.5));
  CHECK(value_of(two, "straggler") == "0:3,2:1.5");
  CHECK(train({"--model=softmax"}).model == "softmax");
  CHECK(train({"--model=linear"}).model == "linear");
  CHECK(train_error({"--model=mlp:784,abc,10"}).starts_with("--model=mlp:784,abc,10: "));
  CHECK(train_error({"--model=transformer"}).starts_with("--model=transformer: "));
  CHECK(train_error({"--data-dir="}).starts_with("--data-dir=: expected a path"));
  CHECK(train_error({"--checkpoint-dir="}).starts_with("--checkpoint-dir=: "));
  CHECK(train({"--summary=s.json", "--summary="}).summary_path.empty());
}

TEST_CASE("--gpus lists devices once each, --gpu-math is fp32 or tf32") {
  CHECK(train({"--gpus=0,3"}).gpus == std::vector<int>{0, 3});
  CHECK(value_of(train({"--gpus=1,0"}), "gpus") == "1,0");
  CHECK(train({"--gpus=0", "--gpus="}).gpus.empty());
  for (auto bad : {"a", "0,,1", "-1", "0,", "1.5", "99999"}) {
    CAPTURE(bad);
    CHECK(train_error({std::string("--gpus=") + bad}).find("expected device numbers")
          != std::string::npos);
  }
  CHECK(train_error({"--gpus=0,0"}) == "--gpus=0,0: device 0 is listed twice");
  CHECK(train({"--gpu-math=tf32"}).gpu_math == "tf32");
  CHECK(train_error({"--gpu-math=fp16"}) == "--gpu-math=fp16: expected fp32 or tf32");
}

TEST_CASE("fault tolerance options: replicas, request timeout, fault plans") {
  CHECK(train({}).shard_replicas == -1);
  CHECK(value_of(train({}), "shard-replicas") == "auto");
  CHECK(train({"--shard-replicas=0"}).shard_replicas == 0);
  CHECK(train({"--shard-replicas=auto"}).shard_replicas == -1);
  CHECK(train({"--shard-replicas=3"}).shard_replicas == 3);
  CHECK(train_error({"--shard-replicas=4"}) == "--shard-replicas=4: expected auto, 0, 1, 2 or 3");
  CHECK(train_error({"--request-timeout=0"}).starts_with("--request-timeout=0: expected a finite"));
  // Values that would overflow a clock's ticks (and were silently ignored) are refused.
  CHECK(train_error({"--request-timeout=1e30"}) ==
        "--request-timeout=1e30: expected a finite number of at least 0.001 and at most 1000000");
  CHECK(train_error({"--request-timeout=1e-9"}).starts_with("--request-timeout=1e-9: expected"));
  CHECK(train_error({"--restart-window=1e300"}).find("at most 1000000") != std::string::npos);
  auto plan = train({"--faults=kill shard 1 at 2s; duplicate pull 5%"});
  REQUIRE(plan.fault.timed.size() == 1);
  CHECK(plan.fault.timed[0].target == fault_target::shard);
  CHECK(plan.fault.pull.duplicate == doctest::Approx(0.05));
  CHECK(value_of(plan, "faults") == "kill shard 1 at 2s; duplicate pull 5%");
  auto err = train_error({"--faults=kill wrker 1 at step 5"});
  CHECK(err.starts_with("--faults=kill wrker 1 at step 5: fault plan statement 1"));
  CHECK(err.find("'wrker'") != std::string::npos);
  CHECK(train_error({"--faults=/no/such/plan"}).find("/no/such/plan") != std::string::npos);
  CHECK(train({"--faults=drop push 1%", "--faults="}).fault.empty());
}

TEST_CASE("unknown options, missing values and positional arguments are usage errors") {
  CHECK(train_error({"--foo"}) == "unknown option --foo for tether train; see tether train --help");
  CHECK(train_error({"--foo=1"}) == "unknown option --foo for tether train; see tether train "
                                    "--help");
  CHECK(train_error({"--wokers=3"}) == "unknown option --wokers for tether train (did you mean "
                                       "--workers?); see tether train --help");
  CHECK(train_error({"--epoch=3"}).find("did you mean --epochs?") != std::string::npos);
  CHECK(train_error({"--limit=3"}).find("did you mean --limit-train?") != std::string::npos);
  CHECK(train_error({"-workers=3"})
            .starts_with("unknown option -workers for tether train "
                         "(did you mean --workers?)"));
  CHECK(train_error({"-x"}).starts_with("unknown option -x for tether train"));
  CHECK(train_error({"data.csv"}) == "unexpected argument data.csv: tether train takes no "
                                     "positional arguments; see tether train --help");
  CHECK(train_error({"--"}).starts_with("unexpected argument --:"));
  CHECK(train_error({"--workers"}) == "--workers needs a value: --workers=N");
  CHECK(train_error({"--data-dir", "--workers=2"}) == "--data-dir needs a value: --data-dir=DIR");
}

TEST_CASE("a repeated option: the later one wins") {
  auto cfg = train({"--workers=2", "--workers", "7", "--lr=0.3", "--lr=0.2"});
  CHECK(cfg.workers == 7);
  CHECK(cfg.optimizer.lr == 0.2f);
}

TEST_CASE("--dataset=linreg applies its defaults only to options not given") {
  const job_config defaults;
  auto plain = train({});
  CHECK(plain.model == defaults.model);
  CHECK(plain.optimizer.lr == defaults.optimizer.lr);
  CHECK(plain.epochs == defaults.epochs);

  auto linreg = train({"--dataset=linreg"});
  CHECK(linreg.model == "linear");
  CHECK(linreg.optimizer.kind == optimizer_kind::sgd);
  CHECK(linreg.optimizer.lr == 0.05f);
  CHECK(linreg.epochs == 10);
  CHECK(linreg.batch == 32);
  CHECK(linreg.workers == defaults.workers);

  for (auto args : {std::vector<std::string>{"--dataset=linreg", "--lr=0.2", "--batch", "8",
                                             "--optimizer=adam"},
                    std::vector<std::string>{"--lr=0.2", "--optimizer=adam", "--batch=8",
                                             "--dataset", "linreg"}}) {
    auto cfg = train(args);
    CHECK(cfg.optimizer.lr == 0.2f);
    CHECK(cfg.batch == 8);
    CHECK(cfg.optimizer.kind == optimizer_kind::adam);
    CHECK(cfg.epochs == 10);
    CHECK(cfg.model == "linear");
  }
  // Given explicitly with the general default's value: still explicit.
  CHECK(train({"--dataset=linreg", "--epochs=3"}).epochs == 3);
}

TEST_CASE("--help and --version are detected at the top level and for train") {
  auto top = parse_args({"--help"});
  REQUIRE(top.is_ok());
  CHECK(top->show_help);
  CHECK(top->command.empty());
  CHECK(parse_args({"-h"})->show_help);
  CHECK(parse_args({"help"})->show_help);
  CHECK(parse_args({"help", "train"})->command == "train");
  auto version = parse_args({"--version"});
  REQUIRE(version.is_ok());
  CHECK(version->show_version);
  CHECK_FALSE(version->show_help);
  CHECK(version_text().starts_with("tether "));

  for (auto args :
       {std::vector<std::string>{"train", "--help"}, std::vector<std::string>{"train", "-h"},
        std::vector<std::string>{"train", "--workers=abc", "--help"}}) {
    auto parsed = parse_args(args);
    REQUIRE(parsed.is_ok());
    CHECK(parsed->command == "train");
    CHECK(parsed->show_help);
  }
  CHECK_FALSE(parse_args({"train"})->show_help);

  CHECK(parse_args({}).error().message() == "no command given; see tether --help");
  CHECK(parse_args({"trian"}).error().message() ==
        "unknown command trian (did you mean train?); see tether --help");
  CHECK(parse_args({"serve"}).error().message() == "unknown command serve; see tether --help");
  CHECK(parse_args({"--workers=2", "train"}).error().message() ==
        "unknown option --workers for tether; see tether --help");
}

TEST_CASE("help text lists the commands, every option, its default and linreg default") {
  CHECK(help_text("").find("train") != std::string::npos);
  CHECK(help_text("").find("exit codes") != std::string::npos);
  auto help = help_text("train");
  const job_config defaults;
  for (auto& row : train_options()) {
    CAPTURE(row.name);
    CHECK(help.find("--" + std::string(row.name)) != std::string::npos);
    auto value = row.render(defaults);
    CHECK(help.find("[default: " + (value.empty() ? std::string("(none)") : value)) !=
          std::string::npos);
  }
  CHECK(help.find("[default: 0.001; with --dataset=linreg: 0.05]") != std::string::npos);
  CHECK(help.find("[default: 3; with --dataset=linreg: 10]") != std::string::npos);
  CHECK(help.find("with --dataset=linreg: linear]") != std::string::npos);
  std::istringstream lines(help);
  for (std::string line; std::getline(lines, line);)
    CHECK_MESSAGE(line.size() <= 100, line);
}

TEST_CASE("effective options: every option, in table order, stored in the config") {
  auto cfg = train({"--workers=4", "--summary=run.json"});
  CHECK(cfg.effective_options == effective_options_text(cfg));
  std::istringstream lines(cfg.effective_options);
  size_t i = 0;
  for (std::string line; std::getline(lines, line); ++i) {
    REQUIRE(i < train_options().size());
    CHECK(line.starts_with(std::string(train_options()[i].name) + "="));
  }
  CHECK(i == train_options().size());
  CHECK(value_of(cfg, "workers") == "4");
  CHECK(value_of(cfg, "summary") == "run.json");
  CHECK(value_of(cfg, "lr") == "0.001");
}

TEST_CASE("an optimizer given without --lr gets its own learning rate") {
  CHECK(train({"--optimizer=sgd"}).optimizer.lr == doctest::Approx(0.1));
  CHECK(train({"--optimizer=momentum"}).optimizer.lr == doctest::Approx(0.02));
  CHECK(train({"--optimizer=adam"}).optimizer.lr == doctest::Approx(0.001));
  CHECK(train({"--optimizer=sgd", "--lr=0.3"}).optimizer.lr == doctest::Approx(0.3));
  CHECK(train({"--lr=0.3", "--optimizer=sgd"}).optimizer.lr == doctest::Approx(0.3));
  CHECK(train({}).optimizer.kind == optimizer_kind::adam);
}

TEST_CASE("exit codes for core error codes") {
  CHECK(exit_code_for(errc::ok) == 0);
  CHECK(exit_code_for(errc::invalid_argument) == 2);
  CHECK(exit_code_for(errc::not_found) == 3);
  CHECK(exit_code_for(errc::corrupt_data) == 3);
  CHECK(exit_code_for(errc::mismatch) == 3);
  CHECK(exit_code_for(errc::io_error) == 4);
  CHECK(exit_code_for(errc::internal) == 1);
  CHECK(exit_interrupted == 130);
  CHECK(exit_restart_budget == 5);
}

#ifdef TETHER_SOURCE_DIR
TEST_CASE("docs/cli.md carries the option table of the code") {
  std::ifstream file(std::string(TETHER_SOURCE_DIR) + "/docs/cli.md");
  REQUIRE(file.good());
  std::stringstream text;
  text << file.rdbuf();
  CHECK_MESSAGE(text.str().find(options_markdown_table()) != std::string::npos,
                "docs/cli.md is out of date; its option table must be:\n"
                    << options_markdown_table());
}
#endif
