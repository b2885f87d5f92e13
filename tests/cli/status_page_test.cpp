// The status page and the /status document it draws.
#include "cli/metrics_server.hpp"
#include "cli/status_json.hpp"
#include "cli/status_page.hpp"
#include "tests/skip.hpp"

#include <doctest/doctest.h>
#include "tests/child_process.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace tether;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

/// A job in its third epoch with a curve of six evaluations, four workers, a fat
/// staleness histogram: what the page should show well.
job_status job_with_curve() {
  job_status s;
  s.state = "training";
  s.model = "mlp:784,256,128,10";
  s.dataset = "fashion-mnist";
  s.consistency = "ssp";
  s.workers = 4;
  s.shards = 2;
  s.epochs = 3;
  s.config = "workers=4\nshards=2\nconsistency=ssp\nstaleness=3\nbatch=64\nlr=0.001\n";
  s.wall_seconds = 4.6;
  s.training_seconds = 3.1;
  s.updates = 2500;
  s.samples = 160000;
  s.epoch = 2.67;
  s.samples_per_sec = 57640;
  s.train_loss = 0.33;
  s.test_accuracy = 0.8661;
  s.test_loss = 0.37;
  const double loss[] = {0.62, 0.45, 0.40, 0.36, 0.34, 0.33};
  const double acc[] = {0.78, 0.84, 0.85, 0.855, 0.862, 0.866};
  for (int i = 0; i < 6; ++i) {
    progress_point p;
    p.epoch = 0.5 * (i + 1);
    p.updates = uint64_t(468 * (i + 1));
    p.wall_seconds = 0.8 * (i + 1);
    p.train_loss = loss[i];
    p.test_loss = loss[i] + 0.04;
    p.test_accuracy = acc[i];
    s.curve.push_back(p);
  }
  for (uint32_t i = 0; i < 4; ++i) {
    worker_status w;
    w.index = i;
    w.alive = i != 3;
    w.clock = 625 - i;
    w.samples = 40000 - 64 * i;
    w.blocked_seconds = 0.1 * i;
    w.last_loss = 0.3 + 0.01 * i;
    w.steps = 625;
    w.step_seconds_sum = 1.9;
    w.step_buckets.assign(step_time_bounds.size() + 1, 0);
    w.step_buckets[3] = 600;
    w.step_buckets[4] = 25;
    s.worker.push_back(w);
  }
  s.shard.push_back({0, 0, 118282, 2500, 10000, ""});
  s.shard.push_back({1, 118282, 235146, 2500, 10000, ""});
  s.staleness_histogram = {2100, 4300, 2400, 900, 250, 50};
  s.tau_count = 10000;
  s.tau_sum = 4300 + 4800 + 2700 + 1000 + 250;
  s.clock_lag = 3;
  s.max_clock_gap = 3;
  s.checkpoints_written = 1;
  return s;
}

using tether::testing::child_process;

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

uint32_t big_endian(const std::string& bytes, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i)
    v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
  return v;
}

std::string find_chromium() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"})
    if (std::system(("command -v " + std::string(name) + " > /dev/null 2>&1").c_str()) == 0)
      return name;
  return "";
}

} // namespace

TEST_CASE("status json: config, actors on node local, progress, workers, curve") {
  auto json = status_json(job_with_curve());
  CHECK(json.starts_with("{\"state\":\"training\",\"model\":\"mlp:784,256,128,10\""));
  CHECK(json.find("\"config\":{\"workers\":\"4\",\"shards\":\"2\",\"consistency\":\"ssp\"") !=
        std::string::npos);
  CHECK(json.find("\"nodes\":[{\"name\":\"local\",\"up\":true}]") != std::string::npos);
  CHECK(json.find("{\"role\":\"worker\",\"index\":3,\"node\":\"local\",\"alive\":false}") !=
        std::string::npos);
  CHECK(json.find("{\"role\":\"shard\",\"index\":1,\"node\":\"local\",\"alive\":true}") !=
        std::string::npos);
  CHECK(json.find("\"progress\":{\"wall_seconds\":4.6,") != std::string::npos);
  CHECK(json.find("\"mean_staleness\":1.305") != std::string::npos);
  CHECK(json.find("\"staleness\":{\"histogram\":[2100,4300,2400,900,250,50]") != std::string::npos);
  CHECK(json.find(",0.001,0.002,0.005,0.01,0.02,0.05,0.1,0.2,0.5,1],") != std::string::npos);
  CHECK(json.find("\"curve\":[{\"wall_seconds\":0.8,") != std::string::npos);
  CHECK(json.ends_with("\"final\":false}]}"));

  auto fresh = status_json(job_status{}); // NaN loss and accuracy: null
  CHECK(fresh.find("\"train_loss\":null,\"test_accuracy\":null") != std::string::npos);
  CHECK(fresh.find("\"curve\":[]") != std::string::npos);
}

TEST_CASE("status page: self-contained, polls status") {
  const auto& html = status_page_html();
  CHECK(html.starts_with("<!DOCTYPE html>"));
  CHECK(html.find("fetch(\"status\"") != std::string::npos);
  CHECK(html.find("<canvas id=\"loss\"") != std::string::npos);
  CHECK(html.find("<canvas id=\"acc\"") != std::string::npos);
  CHECK(html.find("<canvas id=\"tau\"") != std::string::npos);
  // Nothing from elsewhere: no external scripts, styles, fonts or images.
  for (const char* external : {"http://", "https://", "src=", "<link", "@import", "url("})
    CHECK_MESSAGE(html.find(external) == std::string::npos, external);
  CHECK(html.find("innerHTML") == std::string::npos); // job text goes in as textContent
}

TEST_CASE("status page: headless Chromium draws it" * doctest::test_suite("browser")) {
  auto chromium = find_chromium();
  if (chromium.empty()) {
    tether::testing::skip_test("no chromium found (Debian package chromium)");
  }
  auto started = metrics_server::start("127.0.0.1:0", "");
  REQUIRE(started);
  auto& server = *started.value();
  server.publish(job_with_curve());

  fs::path out_dir = fs::path(TETHER_BINARY_DIR) / "test-output";
  fs::create_directories(out_dir);
  fs::path png = out_dir / "status_page.png";
  fs::remove(png);
  fs::path profile = fs::temp_directory_path() / ("tether_chromium_" + std::to_string(::getpid()));
  fs::remove_all(profile);
  std::vector<std::string> common{chromium,
                                  "--headless",
                                  "--no-sandbox",
                                  "--disable-gpu",
                                  "--disable-dev-shm-usage",
                                  "--no-first-run",
                                  "--no-default-browser-check",
                                  "--disable-extensions",
                                  "--disable-crash-reporter",
                                  "--hide-scrollbars",
                                  "--user-data-dir=" + profile.string(),
                                  "--virtual-time-budget=5000",
                                  "--window-size=1200,900"};
  auto shot = common;
  shot.push_back("--screenshot=" + png.string());
  shot.push_back(server.url());
  int rc;
  {
    child_process browser(shot, out_dir / "chromium.log");
    rc = browser.wait_for(30s);
  }
  fs::remove_all(profile);
  CHECK_MESSAGE(rc == 0, "chromium: " << slurp(out_dir / "chromium.log"));
  REQUIRE_MESSAGE(fs::exists(png),
                  "no screenshot; chromium said: " << slurp(out_dir / "chromium.log"));

  // A PNG of the window's size, and not blank: a blank page compresses to a few hundred
  // bytes of few distinct values; charts, tables and text do not.
  auto bytes = slurp(png);
  REQUIRE(bytes.size() > 24);
  CHECK(bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
  CHECK(big_endian(bytes, 16) == 1200);
  CHECK(big_endian(bytes, 20) == 900);
  std::set<unsigned char> distinct(bytes.begin(), bytes.end());
  MESSAGE("screenshot " << png.string() << ": " << bytes.size() << " bytes");
  CHECK(bytes.size() > 30000);
  CHECK(distinct.size() > 200);

  // The script ran and drew the job: the DOM holds its numbers.
  auto dom_run = common;
  dom_run.push_back("--dump-dom");
  dom_run.push_back(server.url());
  {
    child_process browser(dom_run, out_dir / "status_page.dom.html");
    rc = browser.wait_for(30s);
  }
  fs::remove_all(profile);
  auto dom = slurp(out_dir / "status_page.dom.html");
  CHECK(rc == 0);
  CHECK(dom.find("class=\"pill training\"") != std::string::npos);
  CHECK(dom.find("<td>39,936</td>") != std::string::npos); // worker 1's samples
  CHECK(dom.find("staleness=3") != std::string::npos);     // the configuration
  CHECK(dom.find("updated ") != std::string::npos);        // /status answered
}
