// How a job ends when it cannot end well: a full disk under the final checkpoint (exit 4),
// a spent restart budget (exit 5), a diverging loss (exit 6). Each must say truthfully what
// was saved: the exit code, the message, the summary's outcome and checkpoints, and every
// checkpoint left on disk readable.
#include "tests/hostile/hostile.hpp"
#include "tests/skip.hpp"

#include <nlohmann/json.hpp>

#include <sys/mount.h>

using namespace tether::hostile;

namespace {

/// A tmpfs of `bytes` mounted at `dir/name` for the test's lifetime (unmounted after).
struct small_disk {
  std::string path;
  explicit small_disk(const temp_dir& dir, size_t bytes) : path(dir / "disk") {
    fs::create_directory(path);
    auto size = "size=" + std::to_string(bytes);
    if (::mount("tmpfs", path.c_str(), "tmpfs", 0, size.c_str()) != 0)
      tether::testing::skip_test("cannot mount a small tmpfs here (needs root or "
                                 "CAP_SYS_ADMIN): the full-disk case is not tested");
  }
  ~small_disk() { ::umount(path.c_str()); }
};

nlohmann::json summary_of(const temp_dir& dir) {
  return nlohmann::json::parse(slurp(dir / "s.json"));
}

bool inspect_verifies(const std::string& checkpoint) {
  return run_tether({"inspect", "--checkpoint=" + checkpoint}).code == 0;
}

/// A CSV job whose checkpoint is a few hundred KB (a 4-4096-3 MLP under adam).
std::vector<std::string> wide_csv_job(const temp_dir& dir, const std::string& ck) {
  return {"train",          "--dataset=csv",          "--train=" + (dir / "train.csv"),
          "--test=" + (dir / "test.csv"), "--model=mlp:4,4096,3", "--epochs=2",
          "--batch=8",      "--checkpoint-dir=" + ck, "--summary=" + (dir / "s.json"),
          "--quiet"};
}

} // namespace

TEST_CASE("the final checkpoint on a full disk: exit 4, and the summary names what holds what") {
  temp_dir dir;
  write_csv_pair(dir);
  // One checkpoint's size, from a run on the ordinary disk.
  auto sized = run_tether(with(wide_csv_job(dir, dir / "sized"), {"--checkpoint-every=1000"}));
  REQUIRE_MESSAGE(sized.code == 0, sized.output);
  auto files = names_in(dir / "sized");
  REQUIRE(files.size() == 1);
  auto one = fs::file_size((dir / "sized") + "/" + files[0]);
  // Room for one checkpoint and a half: the first periodic one fits, the next cannot be
  // written beside it (a checkpoint is written whole, then the old one pruned).
  small_disk disk(dir, one + one / 2);
  auto run = run_tether(with(wide_csv_job(dir, disk.path),
                             {"--checkpoint-every=10", "--checkpoint-keep=1"}));
  INFO(run.output);
  CHECK(run.signal == 0);
  CHECK(run.code == 4);
  CHECK(contains(run.output, "No space left on device"));
  CHECK(contains(run.output, "the final checkpoint could not be written"));
  CHECK(contains(run.output, "(final checkpoint none)"));
  auto s = summary_of(dir);
  CHECK(s["outcome"] == "checkpoint_failed");
  CHECK(s["checkpoint"] == "");
  // The one on disk is named as what it is: an earlier state, not the result.
  const std::string newest = s["newest_checkpoint"];
  REQUIRE_FALSE(newest.empty());
  uint64_t at = s["newest_checkpoint_updates"];
  CHECK(at >= 10); // the first periodic cut: async takes it at 10 updates or a few past
  CHECK(at < s["updates_applied"]);
  CHECK(newest.ends_with("ckpt-" + std::string(12 - std::to_string(at).size(), '0') +
                         std::to_string(at) + ".tether"));
  CHECK(inspect_verifies(newest));
}

TEST_CASE("a spent restart budget: exit 5 with a final checkpoint and a truthful closing") {
  temp_dir dir;
  // linreg: 312 updates an epoch; the budget allows one restart, the second kill spends it
  // (two workers: a worker killed twice might not be back yet for the second kill).
  auto run = run_tether({"train", "--dataset=linreg", "--epochs=3", "--max-restarts=1",
                         "--faults=kill worker 0 at step 100; kill worker 1 at step 200",
                         "--checkpoint-dir=" + (dir / "ck"), "--summary=" + (dir / "s.json")});
  INFO(run.output);
  CHECK(run.signal == 0);
  REQUIRE(run.code == 5);
  CHECK(contains(run.output, "restart budget of the worker group spent"));
  CHECK(contains(run.output, "ended early: test mse"));
  CHECK_FALSE(contains(run.output, "test accuracy 0.0000"));
  auto s = summary_of(dir);
  CHECK(s["outcome"] == "restart_budget_spent");
  const std::string checkpoint = s["checkpoint"];
  REQUIRE_FALSE(checkpoint.empty());
  CHECK(s["newest_checkpoint"] == checkpoint);
  CHECK(inspect_verifies(checkpoint));
  // The counts agree: the summary's updates are the final checkpoint's.
  CHECK(s["updates_applied"] == s["newest_checkpoint_updates"]);
  uint64_t updates = s["updates_applied"];
  CHECK(updates >= 200);
  CHECK(updates < 3 * 312);
  CHECK(contains(checkpoint, "ckpt-" + std::string(12 - std::to_string(updates).size(), '0') +
                                 std::to_string(updates)));
}

TEST_CASE("a diverging loss stops the job: exit 6, the checkpoints written before are good") {
  temp_dir dir;
  write_csv_pair(dir);
  auto run = run_tether({"train", "--dataset=csv", "--train=" + (dir / "train.csv"),
                         "--test=" + (dir / "test.csv"), "--model=mlp:4,8,3", "--epochs=3",
                         "--optimizer=sgd", "--lr=1e30", "--checkpoint-every=1",
                         "--checkpoint-dir=" + (dir / "ck"), "--summary=" + (dir / "s.json")});
  INFO(run.output);
  CHECK(run.signal == 0);
  REQUIRE(run.code == 6);
  CHECK(contains(run.output, "training diverged at update"));
  CHECK(contains(run.output, "not a number (NaN)"));
  CHECK(contains(run.output, "lower --lr"));
  CHECK_FALSE(contains(run.output, "test accuracy"));
  auto s = summary_of(dir);
  CHECK(s["outcome"] == "diverged");
  CHECK(s["checkpoint"] == "");
  // Whatever was written before is intact (inspect reads each and checks its checksum).
  for (const auto& name : names_in(dir / "ck"))
    CHECK_MESSAGE(inspect_verifies((dir / "ck") + "/" + name), name);
}
