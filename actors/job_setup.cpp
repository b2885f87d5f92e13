#include "actors/job_setup.hpp"

#include "actors/compute_backend.hpp"

#include "core/csv_dataset.hpp"
#include "messages/checkpoint_file.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>

namespace tether {

namespace {

namespace fs = std::filesystem;

setup_error fail(job_failure kind, std::string message) {
  return setup_error{kind, std::move(message)};
}

job_failure kind_of_data_error(const status& st) {
  return st.code() == errc::invalid_argument ? job_failure::usage : job_failure::data;
}

/// A fresh job in a directory that holds checkpoints of an earlier run moves them
/// into a subfolder, so nothing is lost and keep-K pruning cannot mix two runs.
status set_aside_earlier_run(const std::string& dir, const std::function<void(const std::string&)>& note) {
  auto old = list_checkpoints(dir);
  if (old.empty())
    return status::ok();
  auto stamp = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch()).count();
  fs::path aside = fs::path(dir) / ("earlier-" + std::to_string(stamp));
  std::error_code ec;
  fs::create_directories(aside, ec);
  for (const auto& path : old) {
    if (!ec)
      fs::rename(path, aside / fs::path(path).filename(), ec);
  }
  if (ec)
    return status{errc::io_error, "cannot move earlier checkpoints in \"" + dir + "\" aside: "
                                    + ec.message() + "; choose another --checkpoint-dir"};
  note("moved " + std::to_string(old.size()) + " checkpoint(s) of an earlier run to "
       + aside.string() + " (pass --resume to continue a run instead)");
  return status::ok();
}

} // namespace

std::vector<shard_state> resplit(const std::vector<shard_state>& from,
                                 const std::vector<key_range>& ranges) {
  size_t total = ranges.empty() ? 0 : ranges.back().end;
  size_t slot_count = from.empty() ? 0 : from.front().slots.size();
  std::vector<float> params(total);
  std::vector<std::vector<float>> slots(slot_count, std::vector<float>(total));
  uint64_t version = 0, steps = 0;
  std::vector<uint64_t> clocks;
  // Gradients held: a re-split shard holds those every old shard held (the audit's
  // baseline at the start of the resumed run; it only compares growth from there).
  std::vector<uint64_t> counts;
  for (const auto& s : from) {
    if (&s == &from.front())
      counts = s.applied_counts;
    for (size_t w = 0; w < counts.size(); ++w)
      counts[w] = std::min(counts[w], w < s.applied_counts.size() ? s.applied_counts[w] : 0);
    std::copy(s.params.begin(), s.params.end(), params.begin() + s.range_begin);
    for (size_t k = 0; k < slot_count && k < s.slots.size(); ++k)
      std::copy(s.slots[k].begin(), s.slots[k].end(), slots[k].begin() + s.range_begin);
    version = std::max(version, s.version);
    steps = std::max(steps, s.optimizer_steps);
    if (clocks.size() < s.applied_clocks.size())
      clocks.resize(s.applied_clocks.size(), 0);
    for (size_t w = 0; w < s.applied_clocks.size(); ++w)
      clocks[w] = std::max(clocks[w], s.applied_clocks[w]);
  }
  std::vector<shard_state> out;
  for (size_t j = 0; j < ranges.size(); ++j) {
    shard_state s;
    s.index = static_cast<uint32_t>(j);
    s.range_begin = ranges[j].begin;
    s.range_end = ranges[j].end;
    s.version = version;
    s.params.assign(params.begin() + ranges[j].begin, params.begin() + ranges[j].end);
    for (auto& slot : slots)
      s.slots.emplace_back(slot.begin() + ranges[j].begin, slot.begin() + ranges[j].end);
    s.optimizer_steps = steps;
    s.applied_clocks = clocks;
    s.applied_counts = counts;
    out.push_back(std::move(s));
  }
  return out;
}

std::variant<train_test, setup_error> load_job_data(const job_config& cfg) {
  train_test data;
  if (cfg.dataset == dataset_kind::linreg) {
    data = make_linreg(cfg.seed).data;
  } else if (cfg.dataset == dataset_kind::csv) {
    if (cfg.train_path.empty() || cfg.test_path.empty())
      return fail(job_failure::usage, "--dataset=csv needs --train=FILE and --test=FILE");
    auto loaded = load_csv_pair(cfg.train_path, cfg.test_path);
    if (!loaded)
      return fail(job_failure::data, loaded.error().message());
    data = *loaded;
  } else {
    auto loaded = load_idx_dir(cfg.data_dir);
    if (!loaded)
      return fail(job_failure::data, loaded.error().message());
    data = *loaded;
  }
  if (cfg.limit_train > 0)
    data.train = take_first(data.train, cfg.limit_train);
  return data;
}

std::variant<job_start, setup_error>
prepare_job(const job_config& cfg, const std::function<void(const std::string&)>& note) {
  job_start js;
  auto data = load_job_data(cfg);
  if (auto* err = std::get_if<setup_error>(&data))
    return *err;
  js.data = std::get<train_test>(data);
  if (cfg.dataset == dataset_kind::linreg) {
    auto ls = least_squares(*js.data.train);
    if (!ls)
      return fail(job_failure::data, ls.error().message());
    js.least_squares = *ls;
  }
  const auto& train = *js.data.train;
  if (train.count < size_t{cfg.workers} * cfg.batch)
    return fail(job_failure::usage,
                "the training set has " + std::to_string(train.count) + " samples, fewer than "
                  + "--workers x --batch = " + std::to_string(size_t{cfg.workers} * cfg.batch)
                  + "; use fewer workers, a smaller batch or more data (--limit-train)");

  // The model.
  auto spec = parse_model_spec(cfg.model);
  if (!spec)
    return fail(job_failure::usage, spec.error().message());
  auto completed = complete_spec(*spec, train.features, train.classes);
  if (!completed)
    return fail(kind_of_data_error(completed.error()), completed.error().message());
  auto net = model::make(*completed);
  if (!net)
    return fail(job_failure::usage, net.error().message());
  js.net = std::make_shared<const model>(std::move(*net));
  const auto& layout = js.net->layout();
  if (cfg.shards > layout.total)
    return fail(job_failure::usage, "--shards=" + std::to_string(cfg.shards) + " is more than the "
                                      + std::to_string(layout.total) + " parameters of the model");
  js.ranges = split_ranges(layout.total, cfg.shards);
  js.steps_per_epoch = train.count / (size_t{cfg.workers} * cfg.batch);
  js.total_steps = js.steps_per_epoch * cfg.epochs;
  js.updates_per_epoch = cfg.consistency.model == consistency_model::bsp
                           ? js.steps_per_epoch
                           : js.steps_per_epoch * cfg.workers;
  js.optimizer = cfg.optimizer;
  js.optimizer.total_updates = js.updates_per_epoch * cfg.epochs;
  for (const auto& s : cfg.stragglers)
    if (s.worker >= cfg.workers)
      return fail(job_failure::usage, "--straggler=" + std::to_string(s.worker)
                                        + ":...: there are only " + std::to_string(cfg.workers)
                                        + " workers, numbered from 0");

  if (cfg.gpus.size() > cfg.workers)
    return fail(job_failure::usage, "--gpus lists " + std::to_string(cfg.gpus.size())
                                      + " devices but --workers=" + std::to_string(cfg.workers)
                                      + ": the first workers run on the listed GPUs, so give at "
                                        "least as many workers");
  if (!cfg.gpus.empty())
    if (auto why = gpu_problem(cfg.gpus); !why.empty())
      return fail(job_failure::usage, "--gpus: " + why);
  for (const auto& f : cfg.fault.timed) {
    auto count = f.target == fault_target::worker ? cfg.workers
                 : f.target == fault_target::shard || f.target == fault_target::standby
                   ? cfg.shards
                   : UINT32_MAX;
    if (f.index >= count)
      return fail(job_failure::usage, "--faults: '" + f.text + "': there are only "
                                        + std::to_string(count) + " of them, numbered from 0");
  }

  // The checkpoint directory.
  if (auto st = check_writable_dir(cfg.checkpoint_dir); !st)
    return fail(job_failure::checkpoint, st.message());
  remove_temp_files(cfg.checkpoint_dir);

  if (!cfg.resume) {
    if (auto st = set_aside_earlier_run(cfg.checkpoint_dir, note); !st)
      return fail(job_failure::checkpoint, st.message());
    std::vector<float> params(layout.total);
    js.net->init_params(params, cfg.seed);
    shard_state whole;
    whole.range_begin = 0;
    whole.range_end = layout.total;
    whole.params = std::move(params);
    whole.slots = range_optimizer(cfg.optimizer, layout.total).slots();
    whole.applied_clocks.assign(cfg.workers, 0);
    js.shards = resplit({whole}, js.ranges);
    js.worker_start.assign(cfg.workers, 0);
    return js;
  }

  auto loaded = load_newest_good(cfg.checkpoint_dir);
  if (!loaded)
    return fail(job_failure::checkpoint, "cannot resume: " + loaded.error().message());
  for (const auto& skipped : loaded->skipped)
    note("skipping corrupt checkpoint " + skipped);
  const auto& ck = loaded->data;
  if (ck.layout_fingerprint != layout.fingerprint() || ck.total_params != layout.total)
    return fail(job_failure::checkpoint,
                "cannot resume: checkpoint " + loaded->path + " holds model " + ck.model
                  + " but this job's model is " + js.net->spec().to_string()
                  + "; pass the same --model, or another --checkpoint-dir to start afresh");
  if (ck.optimizer != to_string(cfg.optimizer.kind))
    return fail(job_failure::checkpoint, "cannot resume: checkpoint " + loaded->path
                                           + " was trained with --optimizer=" + ck.optimizer
                                           + ", this job asks for " + to_string(cfg.optimizer.kind));
  js.shards = resplit(ck.shards, js.ranges);
  if (ck.worker_steps.size() == cfg.workers) {
    js.worker_start = ck.worker_steps;
  } else {
    // Another number of workers: each starts where the job as a whole was.
    js.worker_start.assign(cfg.workers, ck.updates / cfg.workers);
    for (auto& s : js.shards)
      s.applied_clocks = js.worker_start;
  }
  js.resumed_from = loaded->path;
  return js;
}

} // namespace tether
