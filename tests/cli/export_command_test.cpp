// Tests of `tether export` and `tether inspect` (cli/export_command.cpp,
// cli/inspect_command.cpp): bad inputs end in one message, the documented exit code and
// no output file; good ones write what weights_export makes. The last case trains a
// small real job with the binary, exports it and checks with numpy (tests/cli/
// npz_forward.py) that the exported weights give the accuracy tether reported.
#include "tests/skip.hpp"
#include "tests/temp_dir.hpp"
#include <doctest/doctest.h>

#include "cli/export_command.hpp"
#include "cli/inspect_command.hpp"
#include "cli/weights_export.hpp"
#include "core/model.hpp"
#include "messages/checkpoint_file.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

using namespace tether;
namespace fs = std::filesystem;

namespace {

using tether::testing::temp_dir;

struct outcome {
  int code = -1;
  std::string out, err;
};

outcome call(int (*command)(int, const char* const*, std::ostream&, std::ostream&),
             const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  for (auto& a : args)
    argv.push_back(a.c_str());
  std::ostringstream out, err;
  outcome r;
  r.code = command(static_cast<int>(argv.size()), argv.data(), out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

outcome run_export(std::vector<std::string> args) {
  args.insert(args.begin(), "export");
  return call(&export_command, args);
}

outcome run_inspect(std::vector<std::string> args) {
  args.insert(args.begin(), "inspect");
  return call(&inspect_command, args);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// A checkpoint of mlp:4,3,2 (23 params) over two shards, values 0.5 * i.
checkpoint_data small_checkpoint(uint64_t updates) {
  auto m = model::make(*parse_model_spec("mlp:4,3,2"));
  REQUIRE(m.is_ok());
  checkpoint_data d;
  d.updates = updates;
  d.model = "mlp:4,3,2";
  d.layout_fingerprint = m->layout().fingerprint();
  d.total_params = m->layout().total;
  d.optimizer = "momentum";
  d.consistency = "ssp";
  d.seed = 7;
  d.worker_steps = {updates / 2, updates - updates / 2};
  d.config = "workers=2\nshards=2\nmodel=mlp:4,3,2\n";
  d.created_unix_ms = 1700000000123;
  for (uint32_t s = 0; s < 2; ++s) {
    shard_state st;
    st.index = s;
    st.range_begin = s == 0 ? 0 : 12;
    st.range_end = s == 0 ? 12 : d.total_params;
    st.version = updates;
    st.optimizer_steps = updates;
    for (auto i = st.range_begin; i < st.range_end; ++i)
      st.params.push_back(0.5f * static_cast<float>(i) + static_cast<float>(updates));
    st.slots = {std::vector<float>(st.params.size(), 0.0f)};
    st.applied_clocks = {1, 2};
    d.shards.push_back(std::move(st));
  }
  return d;
}

std::string write_good(const std::string& dir, uint64_t updates) {
  REQUIRE(write_checkpoint(dir, small_checkpoint(updates)).is_ok());
  return dir + "/" + checkpoint_file_name(updates);
}

void corrupt(const std::string& path) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(-20, std::ios::end);
  f.put('\x5a');
}

/// Nothing but the expected files in `dir`: no temporary or partial output.
std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (auto& e : fs::directory_iterator(dir))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

} // namespace

TEST_SUITE_BEGIN("export");

TEST_CASE("export writes the newest good checkpoint in both formats") {
  temp_dir tmp;
  auto ck = tmp / "ck";
  write_good(ck, 10);
  auto newest = write_good(ck, 20);
  fs::create_directories(tmp.path / "out");
  auto data = small_checkpoint(20);
  auto layout = *checkpoint_layout(data);
  auto params = checkpoint_params(data);

  auto npz = run_export({"--checkpoint=" + ck, "--format=npz", "--out=" + (tmp / "out/w.npz")});
  CAPTURE(npz.err);
  CHECK(npz.code == 0);
  CHECK(npz.err.empty());
  CHECK(contains(npz.out, newest));
  CHECK(slurp(tmp / "out/w.npz") == *npz_bytes(layout, params));

  auto st = run_export({"--checkpoint", ck, "--format", "safetensors", "--out", tmp / "out/w.st"});
  CHECK(st.code == 0);
  CHECK(slurp(tmp / "out/w.st") ==
        *safetensors_bytes(layout, params,
                           {{"format", "pt"}, {"model", "mlp:4,3,2"}, {"updates", "20"}}));

  // The format from the extension; one file instead of a directory.
  auto older = run_export({"--checkpoint=" + (ck + "/" + checkpoint_file_name(10)),
                           "--out=" + (tmp / "out/old.safetensors")});
  CHECK(older.code == 0);
  auto old_data = small_checkpoint(10);
  CHECK(slurp(tmp / "out/old.safetensors") ==
        *safetensors_bytes(layout, checkpoint_params(old_data),
                           {{"format", "pt"}, {"model", "mlp:4,3,2"}, {"updates", "10"}}));
  CHECK(names_in(tmp.path / "out") == std::vector<std::string>{"old.safetensors", "w.npz", "w.st"});
}

TEST_CASE("export skips a corrupt newer checkpoint and says so on stderr") {
  temp_dir tmp;
  auto ck = tmp / "ck";
  write_good(ck, 10);
  auto bad = write_good(ck, 20);
  corrupt(bad);
  auto r = run_export({"--checkpoint=" + ck, "--out=" + (tmp / "w.npz")});
  CHECK(r.code == 0);
  CHECK(contains(r.err, bad));
  CHECK(contains(r.err, "checksum"));
  CHECK(contains(r.out, checkpoint_file_name(10)));
  CHECK(slurp(tmp / "w.npz") == *npz_bytes(*checkpoint_layout(small_checkpoint(10)),
                                           checkpoint_params(small_checkpoint(10))));
}

TEST_CASE("export: bad inputs give one message, the exit code and no file") {
  temp_dir tmp;
  auto ck = tmp / "ck";
  write_good(ck, 10);
  fs::create_directories(tmp.path / "out");
  auto out = tmp / "out/w.npz";
  auto expect = [&](std::vector<std::string> args, int code, const std::string& text) {
    auto r = run_export(args);
    CAPTURE(r.err);
    CHECK(r.code == code);
    CHECK(contains(r.err, text));
    CHECK(r.err.starts_with("tether export: "));                 // one message (a list of
    CHECK(r.err.find("tether export:", 1) == std::string::npos); // files may follow)
    CHECK(names_in(tmp.path / "out").empty());
  };
  SUBCASE("usage: 2") {
    expect({"--checkpoint=" + ck, "--format=onnx", "--out=" + out}, 2, "onnx");
    expect({"--checkpoint=" + ck, "--out=" + (tmp / "out/w.bin")}, 2, "--format");
    expect({"--checkpoint=" + ck, "--format=npz", "--out=" + (tmp / "nope/w.npz")}, 2,
           "does not exist");
    expect({"--checkpoint=" + ck, "--format=npz", "--out=" + (tmp / "out")}, 2, "directory");
    expect({"--checkpoint=" + ck, "--format=npz"}, 2, "--out");
    expect({"--format=npz", "--out=" + out}, 2, "--checkpoint");
    expect({"--checkpoint=" + ck, "--out=" + out, "--fromat=npz"}, 2, "unknown option --fromat");
    expect({"--checkpoint=" + ck, "--out=" + out, "extra"}, 2, "extra");
    expect({"--checkpoint=" + ck, "--out"}, 2, "--out needs a value");
  }
  SUBCASE("checkpoint problems: 4") {
    expect({"--checkpoint=" + (tmp / "missing"), "--out=" + out}, 4, "no such directory");
    fs::create_directories(tmp.path / "empty");
    expect({"--checkpoint=" + (tmp / "empty"), "--out=" + out}, 4, "empty");
    corrupt(ck + "/" + checkpoint_file_name(10));
    expect({"--checkpoint=" + ck, "--out=" + out}, 4, "checksum");
    expect({"--checkpoint=" + (ck + "/" + checkpoint_file_name(10)), "--out=" + out}, 4,
           "checksum");
  }
  SUBCASE("a checkpoint whose layout does not match its model: 4") {
    auto d = small_checkpoint(30);
    d.layout_fingerprint ^= 0xff;
    REQUIRE(write_checkpoint(ck, d).is_ok());
    expect({"--checkpoint=" + ck, "--out=" + out}, 4, "fingerprint");
  }
}

TEST_CASE("export and inspect --help exit 0") {
  auto e = run_export({"--help"});
  CHECK(e.code == 0);
  CHECK(contains(e.out, "--checkpoint=DIR|FILE"));
  CHECK(contains(e.out, "safetensors"));
  auto i = run_inspect({"--checkpoint=x", "-h"});
  CHECK(i.code == 0);
  CHECK(contains(i.out, "--json"));
}

TEST_CASE("inspect lists every checkpoint, newest first, with what it holds") {
  temp_dir tmp;
  auto ck = tmp / "ck";
  auto oldest = write_good(ck, 10);
  auto bad = write_good(ck, 20);
  corrupt(bad);
  auto newest = write_good(ck, 30);

  auto r = run_inspect({"--checkpoint=" + ck});
  CAPTURE(r.out);
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  auto at_newest = r.out.find(newest), at_bad = r.out.find(bad), at_oldest = r.out.find(oldest);
  REQUIRE(at_oldest != std::string::npos);
  CHECK(at_newest < at_bad);
  CHECK(at_bad < at_oldest);
  for (auto text :
       {"updates:      30", "2023-11-14 22:13:20.123 UTC", "mlp:4,3,2 (23 parameters", "momentum",
        "ssp", "seed:         7", "[12, 23)", "worker steps: 15 15", "layer0.weight", "3x4",
        "layer1.bias", "workers=2", "checksum mismatch", "verifies:     yes"})
    CHECK_MESSAGE(contains(r.out, text), text);

  auto j = run_inspect({"--checkpoint=" + ck, "--json"});
  CHECK(j.code == 0);
  for (auto text : {"\"newest_verifies\": true", "\"verifies\": false", "\"range_end\": 23",
                    "\"name\": \"layer1.weight\"", "\"config\": \"workers=2\\nshards=2",
                    "\"created_unix_ms\": 1700000000123", "\"optimizer_steps\": 30"})
    CHECK_MESSAGE(contains(j.out, text), text);

  // One file.
  auto one = run_inspect({"--checkpoint=" + oldest});
  CHECK(one.code == 0);
  CHECK(contains(one.out, "updates:      10"));
}

TEST_CASE("inspect: exit 4 when none verifies, a warning when the newest does not") {
  temp_dir tmp;
  auto ck = tmp / "ck";
  auto old = write_good(ck, 10);
  auto newest = write_good(ck, 20);
  corrupt(newest);
  auto warned = run_inspect({"--checkpoint=" + ck});
  CHECK(warned.code == 0);
  CHECK(contains(warned.err, "warning"));
  CHECK(contains(warned.err, old));
  auto json = run_inspect({"--checkpoint=" + ck, "--json"});
  CHECK(contains(json.out, "\"newest_verifies\": false"));

  corrupt(old);
  auto none = run_inspect({"--checkpoint=" + ck});
  CHECK(none.code == 4);
  CHECK(contains(none.out, "NO: "));
  CHECK(contains(none.err, "no checkpoint in"));
  CHECK(run_inspect({"--checkpoint=" + (tmp / "missing")}).code == 4);
  fs::create_directories(tmp.path / "empty");
  auto empty = run_inspect({"--checkpoint=" + (tmp / "empty")});
  CHECK(empty.code == 4);
  CHECK(contains(empty.err, "no checkpoint"));
  CHECK(run_inspect({}).code == 2);
  CHECK(run_inspect({"--checkpoint=" + ck, "--json=maybe"}).code == 2);
}

TEST_SUITE_END();

// ---- The binary, end to end: train, export npz, forward pass in numpy. ----

namespace {

const std::string tether_bin = std::string(TETHER_BINARY_DIR) + "/cli/tether";
const std::string fashion_dir = "/usr/share/datasets/fashion-mnist";

/// Runs argv, stdout and stderr to `log`; returns the exit status (1000+ on a signal).
int run_program(const std::vector<std::string>& args, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    FILE* out = std::freopen(log.c_str(), "w", stdout);
    (void)out;
    dup2(fileno(stdout), fileno(stderr));
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status) ? 1000 + WTERMSIG(status) : WEXITSTATUS(status);
}

/// Debian's python3 (with python3-numpy) first, then whatever python3 is on PATH.
std::string python_with_numpy(const std::string& log) {
  for (std::string py : {"/usr/bin/python3", "python3"})
    if (run_program({py, "-c", "import numpy"}, log) == 0)
      return py;
  return {};
}

} // namespace

TEST_CASE("binary: a trained job exported as npz gives the same accuracy in numpy") {
  temp_dir tmp;
  auto log = tmp / "log";
  if (!fs::exists(fashion_dir + "/t10k-images-idx3-ubyte.gz")) {
    tether::testing::skip_test(std::string("no Fashion-MNIST in ") + fashion_dir +
                               " (package dataset-fashion-mnist)");
  }
  auto python = python_with_numpy(log);
  if (python.empty()) {
    tether::testing::skip_test("no python3 with numpy (apt-get install python3-numpy)");
  }
  auto ck = tmp / "ck";
  auto summary = tmp / "summary.json";
  int trained = run_program({tether_bin, "train", "--limit-train=10000", "--epochs=1", "--quiet",
                             "--checkpoint-dir=" + ck, "--summary=" + summary},
                            log);
  INFO(slurp(log));
  REQUIRE(trained == 0);
  auto text = slurp(summary);
  auto key = text.find("\"test_accuracy\":");
  REQUIRE(key != std::string::npos);
  double reported = std::strtod(text.c_str() + key + 16, nullptr);

  auto weights = tmp / "weights.npz";
  REQUIRE(
      run_program({tether_bin, "export", "--checkpoint=" + ck, "--format=npz", "--out=" + weights},
                  log) == 0);
  auto inspect_log = tmp / "inspect.log";
  CHECK(run_program({tether_bin, "inspect", "--checkpoint=" + ck}, inspect_log) == 0);
  CHECK(contains(slurp(inspect_log), "mlp:784,256,128,10"));

  auto script = std::string(TETHER_SOURCE_DIR) + "/tests/cli/npz_forward.py";
  REQUIRE(run_program({python, script, weights, fashion_dir}, log) == 0);
  double numpy_accuracy = std::strtod(slurp(log).c_str(), nullptr);
  MESSAGE("tether test_accuracy " << reported << ", numpy forward pass " << numpy_accuracy);
  CHECK(reported > 0.5);
  CHECK(std::abs(numpy_accuracy - reported) <= 0.001);
}
