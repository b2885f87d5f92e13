// Tests of cli/output_paths.hpp: the same file by any path, outputs against inputs and
// the checkpointer's names, what may be replaced or appended to.
#include "cli/output_paths.hpp"

#include "tests/temp_dir.hpp"
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace tether;
using tether::testing::temp_dir;
namespace fs = std::filesystem;

namespace {

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("same_file: by another path, a symbolic link, a hard link, not yet existing files") {
  temp_dir dir;
  auto file = dir.write("a.csv", "1,0\n");
  fs::create_directory(dir / "sub");
  fs::create_symlink(file, dir / "link");
  fs::create_hard_link(file, dir / "hard");
  CHECK(same_file(file, file));
  CHECK(same_file(file, dir / "sub/../a.csv"));
  CHECK(same_file(file, dir / "link"));
  CHECK(same_file(file, dir / "hard"));
  CHECK_FALSE(same_file(file, dir / "b.csv"));
  // Neither exists: the same path once resolved.
  CHECK(same_file(dir / "new.json", dir / "sub/../new.json"));
  CHECK_FALSE(same_file(dir / "new.json", dir / "other.json"));
  CHECK_FALSE(same_file("", file));
}

TEST_CASE("check_job_paths: outputs against inputs, each other and the checkpoints") {
  temp_dir dir;
  job_config cfg;
  cfg.dataset = dataset_kind::csv;
  cfg.train_path = dir.write("train.csv", "1,0\n");
  cfg.test_path = dir.write("test.csv", "1,0\n");
  cfg.checkpoint_dir = dir / "ck";
  CHECK(check_job_paths(cfg, ""));

  cfg.summary_path = dir / "./train.csv";
  auto st = check_job_paths(cfg, "");
  REQUIRE_FALSE(st);
  CHECK(st.code() == errc::invalid_argument);
  CHECK(st.message() == "--summary=" + cfg.summary_path + " is what --train reads (" +
                            cfg.train_path +
                            "): writing it would destroy that input; give "
                            "another path");
  cfg.summary_path.clear();

  auto conf = dir.write("run.conf", "epochs = 1\n");
  cfg.log_file = conf;
  CHECK(has(check_job_paths(cfg, conf).message(), "is what --config reads"));
  CHECK(check_job_paths(cfg, "")); // without --config it is just a log
  cfg.log_file.clear();

  cfg.metrics_log = dir / "m.jsonl";
  cfg.log_file = dir / "m.jsonl";
  CHECK(has(check_job_paths(cfg, "").message(),
            "--log-file=" + (dir / "m.jsonl") + " is also --metrics-log="));
  cfg.metrics_log.clear();
  cfg.log_file.clear();

  cfg.summary_path = (dir / "ck") + "/ckpt-000000000001.tether";
  CHECK(has(check_job_paths(cfg, "").message(), "is a checkpoint's name in the checkpoint"));
  cfg.summary_path = (dir / "ck") + "/.ckpt-000000000001.tether.tmp";
  CHECK_FALSE(check_job_paths(cfg, ""));
  cfg.summary_path = (dir / "ck") + "/summary.json"; // another name there is fine
  CHECK(check_job_paths(cfg, ""));
  cfg.summary_path = dir / "ck";
  CHECK(has(check_job_paths(cfg, "").message(), "is the checkpoint directory"));

  cfg.summary_path = "/dev/null";
  CHECK(has(check_job_paths(cfg, "").message(), "is a character device: this file is written "
                                                "by replacing it"));
  cfg.summary_path.clear();

  // A plan given as text is not a file; a plan file is an input.
  cfg.faults = "kill worker 0 at step 5";
  cfg.summary_path = dir / "kill worker 0 at step 5";
  CHECK(check_job_paths(cfg, ""));
  cfg.faults = dir.write("plan", "kill worker 0 at step 5\n");
  cfg.summary_path = cfg.faults;
  CHECK(has(check_job_paths(cfg, "").message(), "is what --faults reads"));
}

TEST_CASE("open_for_append: a file, a device, a FIFO with a reader, not one without") {
  temp_dir dir;
  auto file = open_for_append({"--log-file", dir / "log"});
  REQUIRE(file);
  std::fputs("line\n", *file);
  std::fclose(*file);
  CHECK(fs::file_size(dir / "log") == 5);
  auto null = open_for_append({"--log-file", "/dev/null"});
  REQUIRE(null);
  std::fclose(*null);

  auto fifo = dir / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  auto unread = open_for_append({"--metrics-log", fifo});
  REQUIRE_FALSE(unread);
  CHECK(unread.error().message() == "--metrics-log=" + fifo +
                                        " is a FIFO nobody reads (or a socket): start its reader "
                                        "first, or give a file");
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  REQUIRE(reader >= 0);
  auto read = open_for_append({"--metrics-log", fifo});
  REQUIRE_MESSAGE(read, read.error().message());
  std::fputs("x\n", *read);
  std::fclose(*read);
  char buf[4] = {};
  CHECK(::read(reader, buf, sizeof buf) == 2);
  ::close(reader);

  auto directory = open_for_append({"--log-file", dir.str()});
  REQUIRE_FALSE(directory);
  CHECK(has(directory.error().message(), "is a directory"));
}
