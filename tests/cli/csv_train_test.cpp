// `tether train --dataset=csv`: the options --train and --test, and the whole binary
// training on an easy CSV set (three Gaussian blobs) with options from a config file.
#include "cli/exit_codes.hpp"
#include "cli/options.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include "tests/cli/parse_helpers.hpp"
#include "tests/cli/run_tether.hpp"
#include "tests/temp_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace tether;

namespace fs = std::filesystem;

namespace {

using namespace tether::testing;

using tether::testing::temp_dir;

/// `count` samples of three Gaussian blobs in 4 dimensions (sigma 1, centres 4 apart),
/// with a header line, class label last.
void write_blobs(const std::string& path, size_t count, uint64_t seed) {
  const float centres[3][4] = {{0, 0, 0, 0}, {4, 0, 0, 4}, {0, 4, -4, 0}};
  std::mt19937_64 rng{seed};
  std::normal_distribution<float> noise{0.0f, 1.0f};
  std::ofstream out(path);
  out << "a,b,c,d,class\n";
  for (size_t i = 0; i < count; ++i) {
    size_t k = i % 3;
    for (size_t j = 0; j < 4; ++j)
      out << centres[k][j] + noise(rng) << ",";
    out << k << "\n";
  }
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace

TEST_CASE("--dataset=csv needs --train and --test, they are refused with other datasets") {
  auto parsed = parse_train({"--dataset=csv", "--train=a.csv", "--test", "b.csv"});
  REQUIRE_MESSAGE(parsed.is_ok(), parsed.error().message());
  CHECK(parsed->config.dataset == dataset_kind::csv);
  CHECK(parsed->config.train_path == "a.csv");
  CHECK(parsed->config.test_path == "b.csv");
  CHECK(parsed->config.effective_options.find("dataset=csv\n") != std::string::npos);
  CHECK(parsed->config.effective_options.find("train=a.csv\ntest=b.csv\n") != std::string::npos);

  CHECK(train_error({"--dataset=csv"}) ==
        "--dataset=csv needs --train=FILE and --test=FILE (CSV files of numeric features with "
        "the class label last); both are missing");
  CHECK(train_error({"--dataset=csv", "--train=a.csv"}).ends_with("; --test is missing"));
  CHECK(train_error({"--test=b.csv", "--dataset=csv"}).ends_with("; --train is missing"));
  CHECK(train_error({"--dataset=csv", "--train=a.csv", "--test="}).ends_with("--test is missing"));
  CHECK(train_error({"--train=a.csv", "--test=b.csv"}) ==
        "--train is read only with --dataset=csv, but --dataset is fashion-mnist; add "
        "--dataset=csv or leave out --train and --test");
  CHECK(train_error({"--dataset=linreg", "--test=b.csv"}).starts_with("--test is read only"));
  // Without csv the two options render as empty.
  auto plain = parse_train({});
  REQUIRE(plain.is_ok());
  CHECK(plain->config.effective_options.find("train=\ntest=\n") != std::string::npos);
}

TEST_CASE("tether train learns three Gaussian blobs from CSV files and a config file") {
  temp_dir dir;
  write_blobs(dir / "train.csv", 3000, 1);
  write_blobs(dir / "test.csv", 600, 2);
  std::ofstream(dir / "run.conf") << "# the cluster and the optimiser of this test\n"
                                  << "workers = 2\nshards = 2\nbatch = 32\nlr = 0.01\n"
                                  << "checkpoint-dir = " << (dir / "ck") << "\n"
                                  << "summary = " << (dir / "summary.json") << "\n";
  auto log = dir / "log";
  int code = run_tether({"train", "--config=" + (dir / "run.conf"), "--dataset=csv",
                         "--train=" + (dir / "train.csv"), "--test=" + (dir / "test.csv"),
                         "--model=mlp:4,16,3", "--epochs=5", "--quiet"},
                        log);
  auto output = slurp(log);
  CAPTURE(output);
  REQUIRE(code == 0);
  auto summary = nlohmann::json::parse(slurp(dir / "summary.json"));
  CAPTURE(summary.dump(1));
  CHECK(summary.at("test_accuracy").get<double>() > 0.9);
  CHECK(summary.at("test_samples").get<uint64_t>() == 600);
  CHECK(summary.at("train_samples").get<uint64_t>() == 3000);
  CHECK(summary.at("batch").get<uint64_t>() == 32);

  // A bad row is bad data (exit code 3), with the file and the line in the message.
  std::ofstream(dir / "test.csv", std::ios::app) << "1,2,x,4,0\n";
  code = run_tether({"train", "--config=" + (dir / "run.conf"), "--dataset=csv",
                     "--train=" + (dir / "train.csv"), "--test=" + (dir / "test.csv"),
                     "--model=mlp:4,16,3", "--epochs=1", "--quiet"},
                    log);
  output = slurp(log);
  CHECK(code == exit_bad_data);
  CHECK(output.find("test.csv\", line 602, column 3: \"x\" is not a number") != std::string::npos);
}
