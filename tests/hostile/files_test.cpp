// Non-regular files everywhere tether takes a path: a FIFO nobody writes to (or reads),
// a directory, /dev/zero, a dangling symbolic link. Each is refused at once with what it
// is and the documented exit code; nothing blocks, nothing is read without bound, no
// input changes and no output file appears.
#include "tests/hostile/hostile.hpp"

#include <nlohmann/json.hpp>

#include <csignal>
#include <fcntl.h>
#include <thread>

using namespace tether::hostile;

namespace {

struct file_case {
  std::string name;
  std::vector<std::string> args;
  int code;
  std::string message;
};

/// Runs every case, a few at a time (each is a process), and checks each.
void run_cases(const std::vector<file_case>& cases) {
  constexpr size_t at_once = 8;
  for (size_t first = 0; first < cases.size(); first += at_once) {
    std::vector<pending_run> runs;
    size_t last = std::min(cases.size(), first + at_once);
    for (size_t i = first; i < last; ++i)
      runs.push_back(start_tether(cases[i].args));
    for (size_t i = first; i < last; ++i) {
      CAPTURE(cases[i].name);
      auto o = runs[i - first].finish();
      expect_refusal(o, cases[i].code, cases[i].message);
      CHECK(o.seconds < 20); // refused at once, not after a wait
    }
  }
}

} // namespace

TEST_CASE("inputs that are not regular files are refused at once") {
  temp_dir dir;
  write_csv_pair(dir);
  const auto fifo = make_fifo(dir, "fifo");
  const auto dangling = make_dangling_link(dir, "dangling");
  const std::string folder = dir / "folder";
  fs::create_directory(folder);
  // An IDX directory whose training images are a FIFO, /dev/zero, or a link to nothing.
  temp_dir idx_fifo, idx_zero, idx_dangling;
  make_fifo(idx_fifo, "train-images-idx3-ubyte.gz");
  fs::create_symlink("/dev/zero", idx_zero / "train-images-idx3-ubyte.gz");
  make_dangling_link(idx_dangling, "train-images-idx3-ubyte.gz");
  for (auto* d : {&idx_fifo, &idx_zero, &idx_dangling})
    for (auto name :
         {"train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"})
      d->write(name, "x");

  auto job = [&](const std::string& ck, std::vector<std::string> more) {
    return with(
        {"train", "--dataset=linreg", "--epochs=1", "--checkpoint-dir=" + (dir / ck), "--quiet"},
        more);
  };
  auto csv = [&](const std::string& which, const std::string& path) {
    auto args = csv_job(dir);
    for (auto& a : args)
      if (a.starts_with("--" + which + "="))
        a = "--" + which + "=" + path;
    return args;
  };
  std::vector<file_case> cases = {
      // --config: read whole, bounded (docs/cli.md: 1 MiB, 10 s)
      {"config directory", job("c1", {"--config=" + folder}), 2, "is a directory"},
      {"config /dev/zero", job("c2", {"--config=/dev/zero"}), 2, "goes on past 1048576 bytes"},
      {"config dangling", job("c3", {"--config=" + dangling}), 2,
       "symbolic link to a file that does not exist"},
      // --train and --test: data, regular files only
      {"csv FIFO", csv("train", fifo), 3, "is a FIFO (named pipe), not a regular file"},
      {"csv directory", csv("test", folder), 3, "is a directory"},
      {"csv /dev/zero", csv("train", "/dev/zero"), 3, "is a character device"},
      {"csv dangling", csv("test", dangling), 3, "symbolic link to a file that does not exist"},
      // the IDX files of --data-dir
      {"idx FIFO", job("i1", {"--dataset=idx", "--data-dir=" + idx_fifo.str()}), 3,
       "is a FIFO (named pipe), not a regular file"},
      {"idx /dev/zero", job("i2", {"--dataset=idx", "--data-dir=" + idx_zero.str()}), 3,
       "is a character device"},
      {"idx dangling", job("i3", {"--dataset=idx", "--data-dir=" + idx_dangling.str()}), 3,
       "symbolic link to a file that does not exist"},
      {"data-dir /dev/zero", job("i4", {"--dataset=idx", "--data-dir=/dev/zero"}), 3,
       "is not a directory"},
      // --metrics-token and --faults: small files, bounded
      {"token /dev/zero", job("t1", {"--metrics=127.0.0.1:0", "--metrics-token=/dev/zero"}), 2,
       "goes on past"},
      {"token directory", job("t2", {"--metrics=127.0.0.1:0", "--metrics-token=" + folder}), 2,
       "is a directory"},
      {"token dangling", job("t3", {"--metrics=127.0.0.1:0", "--metrics-token=" + dangling}), 2,
       "symbolic link to a file that does not exist"},
      {"faults /dev/zero", job("f1", {"--faults=/dev/zero"}), 2, "goes on past"},
      {"faults directory", job("f2", {"--faults=" + folder}), 2, "is a directory"},
      // --checkpoint-dir itself
      {"checkpoint-dir FIFO", with(linreg_job(dir), {"--checkpoint-dir=" + fifo}), 4,
       "Not a directory"},
      {"checkpoint-dir /dev/zero", with(linreg_job(dir), {"--checkpoint-dir=/dev/zero"}), 4,
       "Not a directory"},
      // export and inspect --checkpoint
      {"export FIFO",
       {"export", "--checkpoint=" + fifo, "--out=" + (dir / "w1.npz")},
       4,
       "is a FIFO (named pipe), not a regular file"},
      {"export /dev/zero",
       {"export", "--checkpoint=/dev/zero", "--out=" + (dir / "w2.npz")},
       4,
       "is a character device"},
      {"export dangling",
       {"export", "--checkpoint=" + dangling, "--out=" + (dir / "w3.npz")},
       4,
       "symbolic link to a file that does not exist"},
      {"inspect FIFO", {"inspect", "--checkpoint=" + fifo}, 4, "is a FIFO (named pipe)"},
      {"inspect /dev/zero", {"inspect", "--checkpoint=/dev/zero"}, 4, "is a character device"},
  };
  auto before = names_in(dir.path);
  run_cases(cases);
  CHECK(names_in(dir.path) == before); // no checkpoint directory, summary or export appeared
  CHECK(fs::is_fifo(fifo));
}

TEST_CASE("outputs that are not regular files are refused before the job runs") {
  temp_dir dir;
  const auto fifo = make_fifo(dir, "fifo");
  const std::string folder = dir / "folder";
  fs::create_directory(folder);
  auto job = [&](const std::string& ck, std::vector<std::string> more) {
    return with(
        {"train", "--dataset=linreg", "--epochs=1", "--checkpoint-dir=" + (dir / ck), "--quiet"},
        more);
  };
  // A checkpoint to export from.
  auto made = run_tether(job("source", {}));
  REQUIRE(made.code == 0);
  const std::string source = dir / "source";
  std::vector<file_case> cases = {
      {"summary FIFO", job("s1", {"--summary=" + fifo}), 2,
       "is a FIFO (named pipe): this file is written by replacing it"},
      {"summary /dev/null", job("s2", {"--summary=/dev/null"}), 2, "is a character device"},
      {"summary directory", job("s3", {"--summary=" + folder}), 2, "is a directory"},
      {"log-file FIFO nobody reads", job("l1", {"--log-file=" + fifo}), 2,
       "is a FIFO nobody reads"},
      {"log-file directory", job("l2", {"--log-file=" + folder}), 2, "is a directory"},
      {"metrics-log FIFO nobody reads", job("m1", {"--metrics-log=" + fifo}), 2,
       "is a FIFO nobody reads"},
      {"export to a FIFO",
       {"export", "--checkpoint=" + source, "--out=" + fifo, "--format=npz"},
       2,
       "is a FIFO (named pipe): this file is written by replacing it"},
      {"export to /dev/null",
       {"export", "--checkpoint=" + source, "--out=/dev/null", "--format=npz"},
       2,
       "is a character device"},
  };
  auto before = names_in(dir.path);
  run_cases(cases);
  CHECK(names_in(dir.path) == before);
  CHECK(fs::is_fifo(fifo));
  CHECK(fs::is_character_file("/dev/null"));
}

TEST_CASE("a log may be a device or a FIFO that is read, a config a FIFO that is written") {
  temp_dir dir;
  // /dev/null takes the log; the job runs.
  auto to_null = run_tether(with(linreg_job(dir), {"--log-file=/dev/null"}));
  CHECK(to_null.code == 0);
  // A FIFO with a reader takes the log (process substitution: --log-file=>(gzip > x)).
  const auto log_fifo = make_fifo(dir, "log.fifo");
  std::string read_back;
  std::thread reader([&] {
    int fd = ::open(log_fifo.c_str(), O_RDONLY); // waits for the writer
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0)
      read_back.append(buf, static_cast<size_t>(n));
    ::close(fd);
  });
  // The reader must be there before tether opens the FIFO: open it once ourselves first.
  int keep = ::open(log_fifo.c_str(), O_WRONLY); // pairs with the reader, then stays
  REQUIRE(keep >= 0);
  auto to_fifo = run_tether(
      with(linreg_job(dir), {"--log-file=" + log_fifo, "--checkpoint-dir=" + (dir / "ck2")}));
  ::close(keep);
  reader.join();
  CHECK(to_fifo.code == 0);
  CHECK(contains(read_back, "info done: test mse"));

  // A config from a FIFO with a writer (--config=<(...)): read to its end.
  const auto conf_fifo = make_fifo(dir, "conf.fifo");
  std::thread writer([&] {
    int fd = ::open(conf_fifo.c_str(), O_WRONLY); // waits for tether to open it
    std::string text = "epochs = 1\nworkers = 3\n";
    CHECK(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    ::close(fd);
  });
  auto from_fifo =
      run_tether({"train", "--dataset=linreg", "--config=" + conf_fifo,
                  "--checkpoint-dir=" + (dir / "ck3"), "--quiet", "--summary=" + (dir / "s.json")});
  writer.join();
  CHECK(from_fifo.code == 0);
  auto summary = nlohmann::json::parse(slurp(dir / "s.json"));
  CHECK(summary["workers"] == 3);
  CHECK(summary["epochs"] == 1);

  // An endless writer: refused at the size limit, within a second or two.
  std::signal(SIGPIPE, SIG_IGN); // the writer's write after tether left must not end us
  const auto endless = make_fifo(dir, "endless.fifo");
  std::thread flood([&] {
    int fd = ::open(endless.c_str(), O_WRONLY);
    std::string chunk(65536, 'x');
    while (::write(fd, chunk.data(), chunk.size()) > 0) {
    }
    ::close(fd); // the reader left: EPIPE (SIGPIPE is ignored below)
  });
  auto flooded = run_tether({"train", "--config=" + endless});
  flood.join();
  expect_refusal(flooded, 2, "goes on past 1048576 bytes");
  CHECK(flooded.seconds < 10);
}
