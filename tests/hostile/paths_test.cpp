// Paths that collide: no command writes over what it reads, whatever path or link names
// it, nor over another of its outputs, nor among the checkpoints. Each collision is exit
// 2 with both options named, the input unchanged, and no output file.
#include "tests/hostile/hostile.hpp"

using namespace tether::hostile;

namespace {

/// A checkpoint directory with one checkpoint of a linreg job; returns the file.
std::string make_checkpoint(const temp_dir& dir) {
  auto made = run_tether(linreg_job(dir));
  REQUIRE(made.code == 0);
  auto names = names_in(dir / "ck");
  REQUIRE(names.size() == 1);
  return (dir / "ck") + "/" + names[0];
}

} // namespace

TEST_CASE("export never writes over the checkpoint it reads, by any path") {
  temp_dir dir;
  const auto ckpt = make_checkpoint(dir);
  const auto name = fs::path(ckpt).filename().string();
  file_snapshot before(ckpt);
  fs::create_symlink(ckpt, dir / "link.npz");
  fs::create_hard_link(ckpt, dir / "hard.npz");
  const std::string ck = dir / "ck";
  struct collision {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<collision> cases = {
      // The command: the same file.
      {{"--checkpoint=" + ckpt, "--out=" + ckpt, "--format=npz"}, "is what --checkpoint reads"},
      // The directory as both.
      {{"--checkpoint=" + ck, "--out=" + ck, "--format=npz"}, "is what --checkpoint reads"},
      // The newest checkpoint of the directory, by another path.
      {{"--checkpoint=" + ck, "--out=" + ck + "/../ck/./" + name, "--format=npz"},
       "is what --checkpoint reads"},
      // Through a symbolic link and a hard link.
      {{"--checkpoint=" + ck, "--out=" + (dir / "link.npz")}, "is what --checkpoint reads"},
      {{"--checkpoint=" + ckpt, "--out=" + (dir / "hard.npz")}, "is what --checkpoint reads"},
      // A new checkpoint's name in the checkpoint directory.
      {{"--checkpoint=" + ck, "--out=" + ck + "/ckpt-000000999999.tether", "--format=npz"},
       "is a checkpoint's name in the checkpoint directory"},
      {{"--checkpoint=" + ckpt, "--out=" + ck + "/.ckpt-000000000001.tether.tmp", "--format=npz"},
       "is a checkpoint's name in the checkpoint directory"},
  };
  std::vector<pending_run> runs; // side by side: each is refused before it writes
  for (const auto& c : cases)
    runs.push_back(start_tether(with({"export"}, c.args)));
  for (size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(cases[i].args[1]);
    expect_refusal(runs[i].finish(), 2, cases[i].message);
  }
  CHECK(before.unchanged());
  CHECK(fs::is_symlink(dir / "link.npz"));
  CHECK(names_in(dir / "ck") == std::vector<std::string>{name});
  // And the export itself works once --out is elsewhere.
  auto ok = run_tether({"export", "--checkpoint=" + ck, "--out=" + (dir / "w.npz")});
  CHECK(ok.code == 0);
  CHECK(before.unchanged());
}

TEST_CASE("train never writes its summary or logs over an input or another output") {
  temp_dir dir, data;
  write_csv_pair(dir);
  write_tiny_idx(data);
  auto conf = dir.write("run.conf", "epochs = 1\n");
  auto token = dir.write("token", "s3cret\n");
  auto plan = dir.write("plan", "kill worker 0 at step 100000\n");
  std::vector<file_snapshot> inputs{file_snapshot(dir / "train.csv"),
                                    file_snapshot(dir / "test.csv"),
                                    file_snapshot(conf),
                                    file_snapshot(token),
                                    file_snapshot(plan),
                                    file_snapshot(data / "train-images-idx3-ubyte")};
  auto csv = csv_job(dir);
  struct collision {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<collision> cases = {
      {with(csv, {"--summary=" + (dir / "train.csv")}),
       "--summary=" + (dir / "train.csv") + " is what --train reads"},
      {with(csv, {"--metrics-log=" + (dir / "test.csv")}), "is what --test reads"},
      {with(csv, {"--log-file=" + conf, "--config=" + conf}), "is what --config reads"},
      {with(csv, {"--summary=" + (dir / "./token"), "--metrics=127.0.0.1:0",
                  "--metrics-token=" + token}),
       "is what --metrics-token reads"},
      {with(csv, {"--summary=" + plan, "--faults=" + plan}), "is what --faults reads"},
      {with(linreg_job(dir), {"--dataset=idx", "--data-dir=" + data.str(), "--batch=8",
                              "--summary=" + (data / "train-images-idx3-ubyte")}),
       "is what --data-dir reads"},
      {with(csv, {"--summary=" + (dir / "out.json"), "--log-file=" + (dir / "out.json")}),
       "--log-file=" + (dir / "out.json") + " is also --summary="},
      {with(csv, {"--summary=" + (dir / "ck") + "/ckpt-000000000001.tether"}),
       "is a checkpoint's name in the checkpoint directory"},
      {with(csv, {"--summary=" + (dir / "ck")}), "is the checkpoint directory"},
  };
  std::vector<pending_run> runs; // side by side: each is refused before it writes
  for (const auto& c : cases)
    runs.push_back(start_tether(c.args));
  for (size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(cases[i].message);
    expect_refusal(runs[i].finish(), 2, cases[i].message);
  }
  for (auto& in : inputs)
    CHECK(in.unchanged());
  CHECK_FALSE(fs::exists(dir / "out.json"));
  CHECK_FALSE(fs::exists(dir / "ck"));
}
