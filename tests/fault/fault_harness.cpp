#include "tests/fault/fault_harness.hpp"

#include "tests/skip.hpp"

#include <cctype>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

namespace tether::fault {

namespace fs = std::filesystem;

const model async_model{"async", UINT64_MAX};
const model ssp_model{"ssp", 3};
const model bsp_model{"bsp", 0};

uint64_t expected_updates(const model& m, uint64_t epochs) {
  uint64_t per_epoch = train_samples / batch; // whole batches only (as the dispatcher cuts)
  if (std::string(m.name) == "bsp")
    per_epoch /= workers; // one update per round of one batch from every worker
  return epochs * per_epoch;
}

std::vector<std::string> job_args(const model& m, const temp_dir& dir, const std::string& ck,
                                  uint64_t epochs) {
  return {"--insecure", "--min-nodes=3", "--epochs=" + std::to_string(epochs),
          "--limit-train=" + std::to_string(train_samples), "--batch=" + std::to_string(batch),
          "--workers=" + std::to_string(workers), "--shards=2", "--seed=7",
          "--consistency=" + std::string(m.name), "--staleness=3", "--checkpoint-every=200",
          "--eval-every=100", "--checkpoint-dir=" + (dir / ck),
          "--summary=" + (dir / "summary.json"), "--metrics-log=" + (dir / "points.jsonl"),
          "--max-restarts=20"};
}

cluster::cluster(temp_dir& d, std::vector<std::string> args, std::vector<std::string> node_extra,
                 const std::string& log)
  : dir(d), coord(d, std::move(args), log) {
  for (auto name : {"n1", "n2", "n3"})
    add_node(name, node_extra);
  watcher_ = std::thread([this] {
    size_t seen = 0;
    while (!stop_) {
      auto text = coord.log();
      for (auto at = text.find(" recovered:", seen); at != std::string::npos;
           at = text.find(" recovered:", seen)) {
        std::lock_guard lock(mutex_);
        recovered_.push_back(wall_clock::now());
        seen = at + 1;
      }
      std::this_thread::sleep_for(10ms);
    }
  });
}

cluster::~cluster() {
  stop_ = true;
  watcher_.join();
}

void cluster::add_node(const std::string& name, const std::vector<std::string>& extra) {
  nodes[name] = start_node(coord, name, extra, true);
}

std::string cluster::node_where(const std::function<bool(const std::string&)>& pattern) {
  REQUIRE(wait_for_line(coord, "placement:", 60s));
  std::regex line("  node (n[0-9]+):([^\n]*)"); // a log line, not JSON
  auto text = coord.log();
  for (std::sregex_iterator it(text.begin(), text.end(), line), end; it != end; ++it)
    if (pattern((*it)[2]))
      return (*it)[1];
  return {};
}

std::vector<wall_clock::time_point> cluster::recoveries() {
  std::lock_guard lock(mutex_);
  return recovered_;
}

double outcome::accuracy() const {
  // One evaluation is noisy: in one ssp run with a node killed the last six evaluations
  // read 0.820, 0.813, 0.834, 0.837, 0.807, 0.801. The mean over the last epoch's
  // evaluations (every 100 updates, and the final one) says how good the model is.
  double epochs = count("epochs");
  double sum = 0;
  int n = 0;
  for (const auto& p : points)
    if (p.contains("epoch") && p.contains("test_accuracy") && p["test_accuracy"].is_number()
        && p["epoch"].get<double>() > epochs - 1 + 1e-9) {
      sum += p["test_accuracy"].get<double>();
      ++n;
    }
  return n > 0 ? sum / n : count("test_accuracy");
}

double outcome::count(const std::string& key) const {
  if (!summary.is_object() || !summary.contains(key) || !summary[key].is_number())
    return std::nan("");
  return summary[key].get<double>();
}

double outcome::role(const std::string& group, const std::string& role) const {
  if (!summary.is_object() || !summary.contains(group) || !summary[group].contains(role))
    return std::nan("");
  return summary[group][role].get<double>();
}

double outcome::max_recovery() const {
  if (!summary.is_object() || !summary.contains("recovery_seconds") ||
      summary["recovery_seconds"].empty())
    return std::nan("");
  double worst = 0;
  for (const auto& s : summary["recovery_seconds"])
    worst = std::max(worst, s.get<double>());
  return worst;
}

uint64_t outcome::max_gap() const {
  uint64_t gap = summary.is_object() ? summary.value("max_clock_gap", uint64_t{0}) : 0;
  for (const auto& p : points)
    gap = std::max(gap, p.at("max_clock_gap").get<uint64_t>());
  return gap;
}

outcome read_outcome(const temp_dir& dir) {
  outcome out;
  std::ifstream summary(dir / "summary.json");
  if (summary.good())
    out.summary = json::parse(summary); // throws (fails the test) on a malformed file
  std::ifstream points(dir / "points.jsonl");
  for (std::string line; std::getline(points, line);)
    out.points.push_back(json::parse(line));
  return out;
}

outcome finish(cluster& c, std::chrono::seconds limit) {
  int code = c.coord.process.wait_for(limit);
  for (auto& [name, node] : c.nodes)
    node->wait_for(20s); // a killed node is already gone; the others end with the job
  auto out = read_outcome(c.dir);
  out.code = code;
  out.log = c.coord.log();
  out.recoveries = c.recoveries();
  return out;
}

namespace {

double samples_at(const json& p) {
  return p.at("samples_per_sec").get<double>() * p.at("training_seconds").get<double>();
}

wall_clock::time_point time_of(const json& p) {
  auto since = std::chrono::duration<double>(p.at("unix_time").get<double>());
  return wall_clock::time_point(std::chrono::duration_cast<wall_clock::duration>(since));
}

/// Samples per training second from record `a` to record `b`.
double rate(const json& a, const json& b) {
  double dt = b.at("training_seconds").get<double>() - a.at("training_seconds").get<double>();
  return dt > 0 ? (samples_at(b) - samples_at(a)) / dt : std::nan("");
}

} // namespace

throughput throughput_around(const outcome& out, wall_clock::time_point fault,
                             wall_clock::time_point recovered) {
  throughput tp;
  const json* last_before = nullptr;
  const json* first_after = nullptr;
  for (const auto& p : out.points) {
    if (time_of(p) < fault)
      last_before = &p;
    else if (time_of(p) > recovered && !first_after)
      first_after = &p;
  }
  if (last_before)
    tp.before = last_before->at("samples_per_sec").get<double>(); // from the start to it
  if (first_after && first_after != &out.points.back())
    tp.after = rate(*first_after, out.points.back());
  return tp;
}

/// Async training over processes lands anywhere in about 0.84-0.86 from run to run of one
/// seed (eight fault-free runs: 0.8396-0.8533), and failover runs spread the same way:
/// against one run, or the median, the check failed about one run in five without any fault
/// being at fault; hence the lowest of three, per model. The tolerance: 1.5 points held on
/// a quiet machine, but a loaded 2-core machine saw 0.8164 against a yardstick of 0.8396
/// after a node's SIGKILL with nothing lost. Lost or doubled updates are caught exactly by
/// the counts checks; this one catches a model made clearly worse. A scenario that changes
/// the job's shape (`extra`, e.g. --shard-replicas=0) gets a yardstick of that shape: ssp
/// without standbys lands at 0.80-0.82 fault-free against 0.835 with them.
double baseline_accuracy(const model& m, const std::vector<std::string>& extra) {
  static std::map<std::string, double> cached;
  std::string key = m.name;
  for (const auto& e : extra)
    for (char ch : e)
      key += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  if (cached.count(key))
    return cached[key];
  auto path = std::string(TETHER_BINARY_DIR) + "/tests/fault-yardstick-" + key + ".txt";
  auto text = slurp(path);
  if (!text.empty() && fs::last_write_time(path) > fs::last_write_time(tether_bin))
    return cached[key] = std::stod(text);
  std::vector<double> runs;
  for (int k = 0; k < 3; ++k) {
    temp_dir dir;
    auto args = job_args(m, dir, "ck");
    args.insert(args.end(), extra.begin(), extra.end());
    cluster c{dir, args};
    auto out = finish(c);
    REQUIRE_MESSAGE(out.code == 0, out.log);
    runs.push_back(out.accuracy());
  }
  std::sort(runs.begin(), runs.end());
  auto tmp = path + ".tmp" + std::to_string(::getpid());
  std::ofstream(tmp) << runs[0] << "\n";
  fs::rename(tmp, path);
  return cached[key] = runs[0];
}

bool checkpoints_verify(const std::string& ck, const std::string& except) {
  for (const auto& entry : fs::directory_iterator(ck)) {
    auto name = entry.path().filename().string();
    if (!name.ends_with(".tether") || name == except)
      continue;
    auto cmd = tether_bin + " inspect --checkpoint=" + entry.path().string() + " > /dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0)
      return false;
  }
  return true;
}

void common_checks(const model& m, const outcome& out, double base, double within,
                   bool lost_allowed) {
  INFO(out.log);
  INFO(out.summary.dump(1));
  REQUIRE(out.code == 0);
  REQUIRE(out.summary.is_object());
  CHECK(out.accuracy() >= base - within);
  if (!lost_allowed)
    CHECK(out.count("updates_lost") == 0);
  CHECK(out.points.size() >= 3); // an evaluation every 100 updates
  if (m.bounded()) {
    for (const auto& p : out.points)
      CHECK(p.at("max_clock_gap").get<uint64_t>() <= m.bound);
    CHECK(out.summary.at("max_clock_gap").get<uint64_t>() <= m.bound);
  }
}

wall_clock::time_point signal_after(cluster& c, const std::string& name, int signal,
                                    const std::string& after) {
  REQUIRE_MESSAGE(wait_for_line(c.coord, after, 120s), c.coord.log());
  auto at = wall_clock::now();
  auto pid = c.pid_of(name);
  REQUIRE(pid > 0); // never -1: that would signal every process
  ::kill(pid, signal);
  return at;
}

double recovery_after(const outcome& out, wall_clock::time_point fault) {
  for (auto t : out.recoveries)
    if (t >= fault)
      return std::chrono::duration<double>(t - fault).count();
  return std::nan("");
}

std::string counts(const outcome& out) {
  char text[160];
  std::snprintf(text, sizeof(text), "worker %.0f, shard %.0f, standby %.0f / shard %.0f",
                out.role("restarts", "worker"), out.role("restarts", "shard"),
                out.role("restarts", "standby"), out.role("failovers", "shard"));
  return text;
}

void record(const model& m, const std::string& scenario, const outcome& out, double base,
            double recovery, throughput tp) {
  const char* table = std::getenv("TETHER_FAULT_TABLE");
  if (!table)
    return;
  char rec[32] = "-", tput[64] = "-";
  if (!std::isnan(recovery))
    std::snprintf(rec, sizeof(rec), "%.2f s", recovery);
  if (!std::isnan(tp.before) && !std::isnan(tp.after))
    std::snprintf(tput, sizeof(tput), "%.0f / %.0f (%.2fx)", tp.before, tp.after, tp.ratio());
  char row[640];
  std::snprintf(row, sizeof(row), "| %s | %s | %s | %.4f (%+.2f pts) | %s | %.0f | %llu | %s | %s |\n",
                m.name, scenario.c_str(), out.code == 0 ? "finished" : "FAILED", out.accuracy(),
                100 * (out.accuracy() - base), counts(out).c_str(), out.count("updates_lost"),
                static_cast<unsigned long long>(out.max_gap()), rec, tput);
  std::ofstream(table, std::ios::app) << row;
}

void only_in_full_matrix(bool quick) {
  const char* full = std::getenv("TETHER_FAULT_FULL");
  if (!quick && !(full && std::string(full) == "1"))
    skip_test("full matrix only (tests/fault/run-matrix.sh, or TETHER_FAULT_FULL=1)");
}

bool has_shard(const std::string& line) { return line.find("shard") != std::string::npos; }

} // namespace tether::fault

namespace tether::fault {

void throughput_checks(const throughput& tp, double floor) {
  INFO("samples/s before the fault " << tp.before << ", after the recovery " << tp.after);
  REQUIRE(!std::isnan(tp.before));
  REQUIRE(!std::isnan(tp.after));
  CHECK(tp.after >= floor * tp.before);
}

bool wait_for_checkpoint(const std::string& ck, uint64_t updates, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(ck, ec)) {
      auto name = entry.path().filename().string(); // ckpt-000000000600.tether
      if (name.starts_with("ckpt-") && name.ends_with(".tether") &&
          std::stoull(name.substr(5, name.size() - 5 - 7)) >= updates)
        return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

} // namespace tether::fault
