// The language model through the binary: `tether train --dataset=text` with its defaults
// and its bad inputs, a tiny GPT trained on a small text file (progress, summary,
// checkpoint, --resume, inspect), and `tether generate` on its checkpoint. Tiny shapes and
// few steps: each case runs in a second or two.
#include "cli/exit_codes.hpp"
#include "cli/options.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include "tests/cli/parse_helpers.hpp"
#include "tests/cli/run_tether.hpp"
#include "tests/skip.hpp"
#include "tests/temp_dir.hpp"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace tether;

namespace fs = std::filesystem;

namespace {

using namespace tether::testing;

const std::string tiny_model = "--model=gpt:layers=1,heads=2,embd=16,context=16";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// A top-level number of a summary file's JSON text (parsed: a malformed file fails).
double json_number(const std::string& json, const std::string& key) {
  return nlohmann::json::parse(json).at(key).get<double>();
}

/// A small text with a pattern a tiny model learns in a few dozen steps.
void write_text(const std::string& path, size_t lines) {
  std::ofstream out(path);
  const char* words[] = {"the cat sat on the mat", "a dog ran to the park",
                         "we like to eat red apples", "the sun is warm today"};
  for (size_t i = 0; i < lines; ++i)
    out << words[i % 4] << ".\n";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("--dataset=text brings the language model's defaults, each one overridable") {
  auto cfg = train({"--dataset=text"});
  CHECK(cfg.model == "gpt:layers=4,heads=4,embd=128,context=64");
  CHECK(cfg.batch == 12);
  CHECK(cfg.workers == 2);
  CHECK(cfg.shards == 2);
  CHECK(cfg.steps == 2000);
  CHECK(cfg.optimizer.kind == optimizer_kind::adamw);
  CHECK(cfg.optimizer.beta1 == doctest::Approx(0.9));
  CHECK(cfg.optimizer.beta2 == doctest::Approx(0.99));
  CHECK(cfg.optimizer.schedule == lr_schedule::cosine);
  CHECK(cfg.clip == doctest::Approx(1.0));
  CHECK(cfg.consistency.model == consistency_model::async);
  auto mine = train({"--dataset=text", "--batch=3", "--clip=0", "--beta2=0.95", "--lr-floor=0",
                     "--model=gpt:layers=2,embd=32,heads=2,context=8"});
  CHECK(mine.batch == 3);
  CHECK(mine.clip == 0);
  CHECK(mine.optimizer.beta2 == doctest::Approx(0.95));
  CHECK(mine.model == "gpt:layers=2,heads=2,embd=32,context=8"); // canonical order
  CHECK(contains(train_error({"--dataset=text", "--model=gpt:heads=3"}), "heads"));
  CHECK(contains(train_error({"--dataset=text", "--valid=v.txt"}), "--valid needs --train"));
  CHECK(contains(train_error({"--valid=v.txt"}), "--valid is read only with --dataset=text"));
  CHECK(contains(train_error({"--clip=-1"}), "expected a finite number"));
}

TEST_CASE("a missing, empty or too short text file is refused naming it, exit 3") {
  temp_dir dir;
  std::ofstream(dir / "empty.txt");
  std::ofstream(dir / "short.txt") << "0123456789";
  write_text(dir / "good.txt", 50);
  for (auto bad : {dir / "missing.txt", dir / "empty.txt", dir / "short.txt"}) {
    CAPTURE(bad);
    int code = run_tether({"train", "--dataset=text", tiny_model, "--train=" + bad,
                           "--checkpoint-dir=" + (dir / "ck")},
                          dir / "log");
    auto log = slurp(dir / "log");
    CAPTURE(log);
    CHECK(code == exit_bad_data);
    CHECK(contains(log, bad));
  }
  // A too short validation file beside a good training file: named too.
  int code = run_tether({"train", "--dataset=text", tiny_model, "--train=" + (dir / "good.txt"),
                         "--valid=" + (dir / "short.txt"), "--checkpoint-dir=" + (dir / "ck")},
                        dir / "log");
  CHECK(code == exit_bad_data);
  CHECK(contains(slurp(dir / "log"), dir / "short.txt"));
  // The GPT on data that is not text: a usage error that says what to add.
  code = run_tether({"train", tiny_model, "--dataset=linreg", "--checkpoint-dir=" + (dir / "ck")},
                    dir / "log");
  CHECK(code == exit_usage);
  CHECK(contains(slurp(dir / "log"), "add --dataset=text"));
}

TEST_CASE("a tiny GPT learns a text file, resumes, and its checkpoint generates text") {
  temp_dir dir;
  write_text(dir / "text.txt", 400);
  const std::string ck = "--checkpoint-dir=" + (dir / "ck");
  std::vector<std::string> job{"train",     "--dataset=text", tiny_model,
                               "--train=" + (dir / "text.txt"), "--batch=8",
                               "--steps=150", "--eval-every=50", "--lr=0.01", "--warmup=10",
                               ck,          "--summary=" + (dir / "s.json")};
  int code = run_tether(job, dir / "log");
  auto log = slurp(dir / "log");
  CAPTURE(log);
  REQUIRE(code == 0);
  CHECK(contains(log, "nats/byte"));
  CHECK(contains(log, "bits/byte"));
  CHECK(contains(log, "tokens/s"));
  CHECK(contains(log, "  sample: \""));
  auto summary = slurp(dir / "s.json");
  CAPTURE(summary);
  double valid = json_number(summary, "valid_loss");
  CHECK(valid > 0);
  CHECK(valid < 3.2); // ln 256 = 5.55 untrained; 2.7 after these 150 steps
  CHECK(json_number(summary, "valid_bits_per_byte") == doctest::Approx(valid / std::log(2.0)));
  CHECK(json_number(summary, "tokens_per_sec") > 0);
  CHECK(json_number(summary, "updates_applied") == 150);
  CHECK(json_number(summary, "context") == 16);
  CHECK(contains(summary, "\"sample\":"));

  // inspect rebuilds the GPT's layout from the model text in the checkpoint.
  REQUIRE(run_tether({"inspect", "--checkpoint=" + (dir / "ck")}, dir / "inspect") == 0);
  auto inspected = slurp(dir / "inspect");
  CAPTURE(inspected);
  CHECK(contains(inspected, "gpt:layers=1,heads=2,embd=16,context=16"));
  CHECK(contains(inspected, "wte.weight"));
  CHECK(contains(inspected, "h.0.attn.c_attn.weight"));

  // The same seed gives the same text; another seed another text.
  auto generate = [&](const std::string& seed, const std::string& name) {
    int rc = run_tether({"generate", "--checkpoint=" + (dir / "ck"), "--prompt=the ",
                         "--bytes=60", "--seed=" + seed},
                        dir / name, dir / (name + ".err"));
    CHECK(rc == 0);
    return slurp(dir / name);
  };
  auto a = generate("7", "a"), b = generate("7", "b"), c = generate("8", "c");
  CHECK(a.size() == 60);
  CHECK(a == b);
  CHECK(a != c);

  // --resume goes on from the final checkpoint to the new --steps.
  job[6] = "--steps=200";
  job.push_back("--resume");
  code = run_tether(job, dir / "log2");
  auto log2 = slurp(dir / "log2");
  CAPTURE(log2);
  REQUIRE(code == 0);
  auto resumed = slurp(dir / "s.json");
  CHECK(json_number(resumed, "updates_applied") == 200); // the job's, resumed ones included
  CHECK(contains(resumed, "\"resumed_from\": \"" + (dir / "ck") + "/ckpt-000000000150"));
  CHECK(contains(resumed, "ckpt-000000000200"));
  CHECK(json_number(resumed, "valid_loss") < valid + 0.1);
}

TEST_CASE("tether generate refuses bad values and checkpoints of other models") {
  temp_dir dir;
  int code = run_tether({"generate", "--checkpoint=" + (dir / "none")}, dir / "log");
  CHECK(code == exit_checkpoint);
  CHECK(contains(slurp(dir / "log"), "no such directory or file"));
  for (auto bad : {"--bytes=0", "--top-k=257", "--temperature=-1", "--temperature=nan"}) {
    CAPTURE(bad);
    code = run_tether({"generate", "--checkpoint=" + (dir / "none"), bad}, dir / "log");
    CHECK(code == exit_usage);
  }
  code = run_tether({"train", "--dataset=linreg", "--epochs=1", "--quiet",
                     "--checkpoint-dir=" + (dir / "ck")},
                    dir / "log");
  REQUIRE(code == 0);
  code = run_tether({"generate", "--checkpoint=" + (dir / "ck")}, dir / "log");
  CHECK(code == exit_usage);
  CHECK(contains(slurp(dir / "log"), "not a language model"));
}

TEST_CASE("a GPT exported as npz gives tether's validation loss in numpy to 1e-4") {
  temp_dir dir;
  auto log = dir / "log";
  std::string python;
  for (std::string py : {"/usr/bin/python3", "python3"})
    if (python.empty() && std::system((py + " -c 'import numpy' >/dev/null 2>&1").c_str()) == 0)
      python = py;
  if (python.empty())
    tether::testing::skip_test("no python3 with numpy (apt-get install python3-numpy)");
  write_text(dir / "text.txt", 400);
  {
    std::ofstream valid(dir / "valid.txt");
    for (int i = 0; i < 60; ++i)
      valid << (i % 2 ? "the dog sat in the sun!\n" : "we ran to eat the mat.\n");
  }
  REQUIRE(run_tether({"train", "--dataset=text", "--model=gpt:layers=2,heads=2,embd=16,context=16",
                      "--train=" + (dir / "text.txt"), "--valid=" + (dir / "valid.txt"),
                      "--steps=60", "--batch=8", "--lr=0.01", "--quiet",
                      "--checkpoint-dir=" + (dir / "ck"), "--summary=" + (dir / "s.json")},
                     log)
          == 0);
  double reported = json_number(slurp(dir / "s.json"), "valid_loss");
  REQUIRE(run_tether({"export", "--checkpoint=" + (dir / "ck"), "--out=" + (dir / "w.npz")}, log)
          == 0);
  auto script = std::string(TETHER_SOURCE_DIR) + "/tests/cli/gpt_npz_forward.py";
  auto command = python + " " + script + " " + (dir / "w.npz") + " " + (dir / "valid.txt")
                 + " 2 > " + (dir / "numpy.txt");
  REQUIRE(std::system(command.c_str()) == 0);
  double numpy_loss = std::strtod(slurp(dir / "numpy.txt").c_str(), nullptr);
  MESSAGE("tether valid_loss " << reported << ", numpy forward pass " << numpy_loss);
  CHECK(reported > 0);
  CHECK(std::abs(numpy_loss - reported) <= 1e-4);
}
