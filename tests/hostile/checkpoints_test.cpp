// Checkpoint directories a careless user or another process left odd: a checkpoint a job
// resumes from is never overwritten; a change of consistency model that cannot continue
// the update count is refused; whatever is not a regular file is skipped with a message,
// never opened in a way that blocks.
#include "tests/hostile/hostile.hpp"

#include <nlohmann/json.hpp>

using namespace tether::hostile;

TEST_CASE("a checkpoint that was resumed from is never overwritten") {
  temp_dir dir;
  auto first = run_tether(linreg_job(dir));
  REQUIRE(first.code == 0);
  auto names = names_in(dir / "ck");
  REQUIRE(names.size() == 1);
  file_snapshot resumed_from((dir / "ck") + "/" + names[0]);
  // Resumed with nothing left to train: the final checkpoint has the same update count.
  auto again = run_tether(with(linreg_job(dir), {"--resume", "--summary=" + (dir / "s.json")}));
  INFO(again.output);
  REQUIRE(again.code == 0);
  CHECK(resumed_from.unchanged());
  auto after = names_in(dir / "ck");
  REQUIRE(after.size() == 2);
  auto summary = nlohmann::json::parse(slurp(dir / "s.json"));
  const std::string written = summary["checkpoint"];
  CHECK(summary["resumed_from"] == resumed_from.path.string());
  CHECK(written != resumed_from.path.string());
  CHECK(written.ends_with("-2.tether"));
  // inspect lists both, the copy as the newer.
  auto listed = run_tether({"inspect", "--checkpoint=" + (dir / "ck"), "--json"});
  REQUIRE(listed.code == 0);
  auto json = nlohmann::json::parse(listed.output);
  CHECK(json["newest_good"] == written);
}

TEST_CASE("resuming across bsp and async is refused, async to ssp continues the count") {
  temp_dir dir;
  REQUIRE(run_tether(linreg_job(dir)).code == 0);
  auto names = names_in(dir / "ck");
  REQUIRE(names.size() == 1);
  file_snapshot async_ckpt((dir / "ck") + "/" + names[0]);
  // The case: an async checkpoint resumed under bsp, one more epoch.
  auto bsp = run_tether(with(linreg_job(dir), {"--resume", "--epochs=2", "--consistency=bsp"}));
  expect_refusal(bsp, 2,
                 "was trained with --consistency=async, and this job asks for "
                 "--consistency=bsp");
  CHECK(contains(bsp.output, "Resume with --consistency=async"));
  CHECK(async_ckpt.unchanged());
  CHECK(names_in(dir / "ck") == names);
  // async -> ssp counts updates alike: one more epoch doubles the count.
  auto ssp = run_tether(with(linreg_job(dir), {"--resume", "--epochs=2", "--consistency=ssp",
                                               "--staleness=2", "--summary=" + (dir / "s.json")}));
  INFO(ssp.output);
  REQUIRE(ssp.code == 0);
  auto summary = nlohmann::json::parse(slurp(dir / "s.json"));
  CHECK(summary["updates_applied"] == 2 * 312); // 312 updates an epoch: 10,000 / 32 x 1
  CHECK(async_ckpt.unchanged());
}

TEST_CASE("a FIFO, a directory and a dangling link named like checkpoints are skipped") {
  temp_dir dir;
  REQUIRE(run_tether(linreg_job(dir)).code == 0);
  auto good = names_in(dir / "ck");
  REQUIRE(good.size() == 1);
  const std::string ck = dir / "ck";
  REQUIRE(::mkfifo((ck + "/ckpt-000000900000.tether").c_str(), 0644) == 0);
  fs::create_directory(ck + "/ckpt-000000800000.tether");
  fs::create_symlink(ck + "/nowhere", ck + "/ckpt-000000700000.tether");
  // Each command names what it skips, goes on with the good checkpoint, and never waits
  // on the FIFO.
  auto inspect = run_tether({"inspect", "--checkpoint=" + ck});
  INFO(inspect.output);
  CHECK(inspect.code == 0);
  CHECK(contains(inspect.output, "skipped " + ck + "/ckpt-000000900000.tether: a FIFO"));
  CHECK(contains(inspect.output, "ckpt-000000800000.tether: a directory, not a regular file"));
  CHECK(contains(inspect.output, "ckpt-000000700000.tether: a symbolic link to nothing"));
  CHECK(inspect.seconds < 20);
  auto exported = run_tether({"export", "--checkpoint=" + ck, "--out=" + (dir / "w.npz")});
  CHECK(exported.code == 0);
  CHECK(contains(exported.output, "skipped " + ck + "/ckpt-000000900000.tether: a FIFO"));
  CHECK(contains(exported.output, "from " + ck + "/" + good[0]));
  auto resumed = run_tether(with(linreg_job(dir), {"--resume", "--epochs=2", "--quiet"}));
  CHECK(resumed.code == 0);
  CHECK(contains(resumed.output, "skipping a corrupt or unreadable checkpoint " + ck +
                                     "/ckpt-000000900000.tether: a FIFO"));
  // Pruning left them alone.
  CHECK(fs::is_fifo(ck + "/ckpt-000000900000.tether"));
  CHECK(fs::is_directory(ck + "/ckpt-000000800000.tether"));
}
