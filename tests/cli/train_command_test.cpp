// The `tether` binary on bad input and on signals: each bad input ends in one clear
// message naming the problem, a documented exit code, and no partial output file.
#include <doctest/doctest.h>
#include "tests/temp_dir.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace {

const std::string tether_bin = std::string(TETHER_BINARY_DIR) + "/cli/tether";

using tether::testing::temp_dir;

struct run_result {
  int exit_code = -1;
  std::string output; ///< stdout and stderr together
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Starts tether with `args`; stdout and stderr go to `log`.
pid_t start(const std::vector<std::string>& args, const std::string& log) {
  std::fflush(nullptr); // or the child would write the parent's buffered output again
  pid_t pid = fork();
  if (pid == 0) {
    FILE* out = std::freopen(log.c_str(), "w", stdout);
    (void) out;
    dup2(fileno(stdout), fileno(stderr));
    std::vector<char*> argv{const_cast<char*>(tether_bin.c_str())};
    for (auto& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(tether_bin.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status))
    return 1000 + WTERMSIG(status); // a crash: never expected
  return WEXITSTATUS(status);
}

run_result run(const std::vector<std::string>& args) {
  temp_dir logs;
  auto log = logs / "log";
  run_result r;
  r.exit_code = wait_exit(start(args, log));
  r.output = slurp(log);
  return r;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

void write_be32(std::ofstream& out, uint32_t v) {
  unsigned char b[4] = {static_cast<unsigned char>(v >> 24), static_cast<unsigned char>(v >> 16),
                        static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
  out.write(reinterpret_cast<char*>(b), 4);
}

/// A small IDX set laid out like Fashion-MNIST: 4x4 images, `count` samples.
void write_idx_set(const fs::path& dir, const std::string& prefix, uint32_t count,
                   uint32_t label_count, uint8_t max_label = 9, bool truncate = false) {
  std::ofstream images(dir / (prefix + "-images-idx3-ubyte"), std::ios::binary);
  write_be32(images, 0x803);
  write_be32(images, count);
  write_be32(images, 4);
  write_be32(images, 4);
  for (uint32_t i = 0; i < (truncate ? count * 16 - 5 : count * 16); ++i)
    images.put(static_cast<char>((i * 37) % 256));
  std::ofstream labels(dir / (prefix + "-labels-idx1-ubyte"), std::ios::binary);
  write_be32(labels, 0x801);
  write_be32(labels, label_count);
  for (uint32_t i = 0; i < label_count; ++i)
    labels.put(static_cast<char>(i == label_count / 2 ? max_label : i % 10));
}

void write_good_idx_dir(const fs::path& dir) {
  fs::create_directories(dir);
  write_idx_set(dir, "train", 640, 640);
  write_idx_set(dir, "t10k", 100, 100);
}

/// Runs train with args on a dir whose summary path and checkpoint dir are checked to
/// stay empty afterwards.
run_result train_fails(const std::vector<std::string>& args, int expected_code,
                       const std::string& expected_text) {
  temp_dir out;
  std::vector<std::string> all{"train", "--checkpoint-dir=" + (out / "ck"),
                               "--summary=" + (out / "summary.json")};
  all.insert(all.end(), args.begin(), args.end());
  auto r = run(all);
  CAPTURE(r.output);
  CHECK(r.exit_code == expected_code);
  CHECK(contains(r.output, expected_text));
  CHECK_FALSE(fs::exists(out / "summary.json"));
  if (fs::exists(out / "ck"))
    for (auto& entry : fs::directory_iterator(out / "ck"))
      FAIL("left behind in the checkpoint directory: " << entry.path());
  return r;
}

} // namespace

TEST_SUITE_BEGIN("binary");

TEST_CASE("help and version exit 0") {
  auto help = run({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(contains(help.output, "train"));
  auto train_help = run({"train", "--help"});
  CHECK(train_help.exit_code == 0);
  CHECK(contains(train_help.output, "--checkpoint-dir"));
  CHECK(run({"--version"}).exit_code == 0);
}

TEST_CASE("bad options are usage errors with exit code 2") {
  train_fails({"--wokers=3"}, 2, "unknown option --wokers");
  train_fails({"--lr=nan"}, 2, "--lr");
  train_fails({"--lr=-0.1"}, 2, "--lr");
  train_fails({"--lr=0"}, 2, "--lr");
  train_fails({"--workers=0"}, 2, "--workers");
  train_fails({"--batch=-4"}, 2, "--batch");
  train_fails({"--model=mlp:784,0,10"}, 2, "mlp:784,0,10");
  train_fails({"--model=transformer"}, 2, "transformer");
  train_fails({"--optimizer=rmsprop"}, 2, "rmsprop");
  train_fails({"extra"}, 2, "positional");
  CHECK(run({"frobnicate"}).exit_code == 2);
}

TEST_CASE("--gpus without a usable device, and bad fault plans, are refused before training") {
  // This machine has no GPU: a CUDA build says there is no device, a CPU-only build that it
  // has no GPU support; both exit 2 and write nothing.
  auto gpu = run({"train", "--gpus=0", "--limit-train=1000"});
  CHECK(gpu.exit_code == 2);
  CHECK((gpu.output.find("--gpus: no CUDA device can be used here") != std::string::npos
         || gpu.output.find("--gpus: this build of tether has no GPU support") != std::string::npos));
  train_fails({"--gpus=0,1,2", "--workers=2"}, 2, "give at least as many workers");
  train_fails({"--faults=kill worker 5 at step 10"}, 2, "there are only 2 of them");
  train_fails({"--faults=kill wrker 5 at step 10"}, 2, "unknown target 'wrker'");
  train_fails({"--faults=/no/such/plan.txt"}, 2, "/no/such/plan.txt");
}

TEST_CASE("bad data exits 3 and names the file") {
  temp_dir data;
  SUBCASE("missing directory") {
    train_fails({"--dataset=idx", "--data-dir=" + (data / "nope")}, 3, "--data-dir");
  }
  SUBCASE("truncated image file") {
    write_good_idx_dir(data.path);
    write_idx_set(data.path, "train", 640, 640, 9, /*truncate=*/true);
    train_fails({"--dataset=idx", "--data-dir=" + data.str(), "--model=mlp:16,8,10"}, 3,
                "truncated");
  }
  SUBCASE("not an IDX file") {
    write_good_idx_dir(data.path);
    std::ofstream(data.path / "train-images-idx3-ubyte") << "hello, this is text\n";
    train_fails({"--dataset=idx", "--data-dir=" + data.str(), "--model=mlp:16,8,10"}, 3,
                "train-images-idx3-ubyte");
  }
  SUBCASE("image and label counts differ") {
    write_good_idx_dir(data.path);
    write_idx_set(data.path, "train", 640, 600);
    train_fails({"--dataset=idx", "--data-dir=" + data.str(), "--model=mlp:16,8,10"}, 3, "640");
  }
  SUBCASE("a label outside 0-9") {
    write_good_idx_dir(data.path);
    write_idx_set(data.path, "train", 640, 640, 12);
    train_fails({"--dataset=idx", "--data-dir=" + data.str(), "--model=mlp:16,8,10"}, 3, "12");
  }
  SUBCASE("a model whose input does not fit the data") {
    write_good_idx_dir(data.path);
    train_fails({"--dataset=idx", "--data-dir=" + data.str(), "--model=mlp:784,8,10"}, 3, "784");
  }
  SUBCASE("a model whose output does not fit the classes") {
    write_good_idx_dir(data.path);
    train_fails({"--dataset=idx", "--data-dir=" + data.str(), "--model=mlp:16,8,3"}, 3, "10");
  }
}

TEST_CASE("a checkpoint directory that cannot be written exits 4") {
  temp_dir dir;
  std::ofstream(dir.path / "file") << "x";
  auto r = run({"train", "--dataset=linreg", "--checkpoint-dir=" + (dir / "file/ck"),
                "--summary=" + (dir / "s.json")});
  CAPTURE(r.output);
  CHECK(r.exit_code == 4);
  CHECK(contains(r.output, "file/ck"));
  CHECK_FALSE(fs::exists(dir / "s.json"));
}

TEST_CASE("a summary path in a missing directory is refused before training") {
  temp_dir dir;
  auto r = run({"train", "--dataset=linreg", "--checkpoint-dir=" + (dir / "ck"),
                "--summary=" + (dir / "no/such/dir/s.json")});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "does not exist"));
  CHECK_FALSE(fs::exists(dir / "ck"));
}

TEST_CASE("resume from corrupt checkpoints only exits 4") {
  temp_dir dir;
  auto ok = run({"train", "--dataset=linreg", "--epochs=1", "--checkpoint-dir=" + (dir / "ck")});
  REQUIRE(ok.exit_code == 0);
  for (auto& entry : fs::directory_iterator(dir / "ck")) {
    auto size = fs::file_size(entry.path());
    fs::resize_file(entry.path(), size / 2); // truncated
  }
  auto r = run({"train", "--dataset=linreg", "--resume", "--checkpoint-dir=" + (dir / "ck")});
  CAPTURE(r.output);
  CHECK(r.exit_code == 4);
  CHECK(contains(r.output, "ckpt-"));
}

TEST_CASE("SIGINT writes a final checkpoint, exits 130, and --resume finishes the job") {
  temp_dir dir;
  std::vector<std::string> args{"train", "--dataset=linreg", "--epochs=3000", "--eval-every=500",
                                "--checkpoint-dir=" + (dir / "ck"),
                                "--summary=" + (dir / "s.json")};
  auto log = dir / "log";
  pid_t pid = start(args, log);
  // Wait for training to be under way (a progress line), not for a fixed time.
  for (int i = 0; i < 300 && !contains(slurp(log), "updates"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(contains(slurp(log), "updates"));
  kill(pid, SIGINT);
  int code = wait_exit(pid);
  auto output = slurp(log);
  CAPTURE(output);
  CHECK(code == 130);
  CHECK(contains(output, "--resume"));
  auto summary = slurp(dir / "s.json");
  CHECK(contains(summary, "\"stopped_early\": true"));
  bool any_checkpoint = false;
  for (auto& entry : fs::directory_iterator(dir / "ck")) {
    CHECK_FALSE(entry.path().filename().string().ends_with(".tmp"));
    any_checkpoint |= entry.path().filename().string().starts_with("ckpt-");
  }
  CHECK(any_checkpoint);

  args.push_back("--resume");
  args[2] = "--epochs=3";  // fewer epochs than done: resuming finishes at once
  auto resumed = run(args);
  CAPTURE(resumed.output);
  CHECK(resumed.exit_code == 0);
  CHECK(contains(slurp(dir / "s.json"), "\"resumed_from\": \"" + (dir / "ck") + "/ckpt-"));
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("binary");

TEST_CASE("the summary file has every key docs/cli.md lists") {
  temp_dir dir;
  auto r = run({"train", "--dataset=linreg", "--epochs=2", "--checkpoint-dir=" + (dir / "ck"),
                "--summary=" + (dir / "s.json")});
  REQUIRE(r.exit_code == 0);
  auto summary = slurp(dir / "s.json");
  auto doc = slurp(std::string(TETHER_SOURCE_DIR) + "/docs/cli.md");
  auto section = doc.substr(doc.find("## Summary file"));
  std::istringstream lines(section);
  int keys = 0;
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("| `"))
      continue;
    auto key = line.substr(3, line.find('`', 3) - 3);
    CAPTURE(key);
    CHECK(contains(summary, "\"" + key + "\":"));
    ++keys;
  }
  CHECK(keys >= 25);
  CHECK(contains(summary, "\"test_accuracy\": null"));
  CHECK(contains(summary, "\"model\": \"linear:20,1\""));
}

TEST_SUITE_END();
