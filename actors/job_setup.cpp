#include "actors/job_setup.hpp"

#include "actors/compute_backend.hpp"

#include "core/csv_dataset.hpp"
#include "core/text_corpus.hpp"
#include "core/training_memory.hpp"
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

/// The sizes a stack of dense layers (mlp, softmax, linear: every model of core/model.hpp)
/// needs, from its completed spec, saturating instead of wrapping: a spec's sizes are
/// user input.
training_shape dense_stack_shape(const model_spec& spec) {
  training_shape shape;
  for (size_t l = 0; l + 1 < spec.sizes.size(); ++l) {
    uint64_t in = spec.sizes[l], out = spec.sizes[l + 1];
    shape.params = saturating_add(shape.params, saturating_mul(saturating_add(in, 1), out));
    shape.activation_floats_per_sample = saturating_add(shape.activation_floats_per_sample, out);
  }
  return shape;
}

/// Resuming under another consistency model is refused when the two count updates
/// differently: under bsp one update is a clock of every worker (averaged), under async
/// and ssp one update is one worker's gradient. The checkpoint's update count, the
/// workers' clocks and the file name of the next checkpoint would disagree (found
/// resuming an async checkpoint with --consistency=bsp: the update count stood still).
/// async <-> ssp (and any --staleness) count alike and are allowed.
std::string consistency_change_problem(const std::string& in_checkpoint, consistency_model asked,
                                       const std::string& path) {
  const std::string now = to_string(asked);
  if (in_checkpoint.empty() || in_checkpoint == now)
    return {};
  if (in_checkpoint != "bsp" && now != "bsp")
    return {};
  return "cannot resume: checkpoint " + path + " was trained with --consistency=" + in_checkpoint +
         ", and this job asks for --consistency=" + now +
         "; bsp counts an update per clock of all workers, async and ssp one per gradient, so "
         "the two cannot continue each other's count. Resume with --consistency=" +
         in_checkpoint +
         ", or start a new run in another --checkpoint-dir (tether export "
         "takes the weights out of the checkpoint)";
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
  if (cfg.dataset == dataset_kind::text) {
    auto gpt = parse_gpt_spec(cfg.model);
    if (!is_gpt_spec(cfg.model) || !gpt)
      return fail(job_failure::usage, "--dataset=text trains the language model: give "
                                      "--model=gpt[:layers=..,heads=..,embd=..,context=..], not --model="
                                        + cfg.model);
    auto text = cfg.train_path.empty()
                  ? load_default_corpus(gpt->context)
                  : load_text_files(cfg.train_path, cfg.valid_path, gpt->context);
    if (!text)
      return fail(job_failure::data, text.error().message());
    data.text = std::make_shared<const text_corpus>(std::move(*text));
    return data;
  }
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

/// The checks of the options against each other that every model shares ("" when
/// they pass).
std::string common_plan_problem(const job_config& cfg) {
  auto capacity = cfg.slot_capacity();
  if (cfg.max_workers != 0 && cfg.max_workers < cfg.workers)
    return "--max-workers=" + std::to_string(cfg.max_workers)
                                      + " is below --workers=" + std::to_string(cfg.workers)
                                      + ": a job grows from --workers up to --max-workers";
  if (cfg.min_workers > cfg.workers)
    return "--min-workers=" + std::to_string(cfg.min_workers)
                                      + " is above --workers=" + std::to_string(cfg.workers)
                                      + ": a job shrinks from --workers down to --min-workers";
  for (const auto& s : cfg.stragglers)
    if (s.worker >= capacity)
      return "--straggler=" + std::to_string(s.worker)
                                        + ":...: there are only " + std::to_string(capacity)
                                        + " workers, numbered from 0";
  if (cfg.gpus.size() > cfg.workers)
    return "--gpus lists " + std::to_string(cfg.gpus.size())
                                      + " devices but --workers=" + std::to_string(cfg.workers)
                                      + ": the first workers run on the listed GPUs, so give at "
                                        "least as many workers";
  for (const auto& f : cfg.fault.timed) {
    auto count = f.target == fault_target::worker ? capacity
                 : f.target == fault_target::shard || f.target == fault_target::standby
                   ? cfg.shards
                   : UINT32_MAX;
    if (f.index >= count)
      return "--faults: '" + f.text + "': there are only "
                                        + std::to_string(count) + " of them, numbered from 0";
  }
  return {};
}

std::variant<std::shared_ptr<const job_plan>, setup_error>
plan_gpt_job(const job_config& cfg, train_test data, std::optional<uint32_t> workers_here) {
  auto spec = parse_gpt_spec(cfg.model);
  if (!spec)
    return fail(job_failure::usage, spec.error().message());
  if (!data.text)
    return fail(job_failure::usage, "--model=" + cfg.model + " is the language model: it trains "
                                      "on text; add --dataset=text (the default corpus, or "
                                      "--train=FILE [--valid=FILE])");
  if (!cfg.gpus.empty())
    return fail(job_failure::usage, "--gpus: the language model's workers run on the CPU only "
                                    "so far; leave out --gpus");
  // Before anything of the model is allocated: does it fit at all?
  auto mem = gpt_memory_estimate(*spec, cfg.batch, optimizer_slot_count(cfg.optimizer.kind));
  training_shape shape;
  shape.params = mem.params / sizeof(float);
  shape.activation_floats_per_sample = mem.worker_activations / sizeof(float) / std::max<uint32_t>(1, cfg.batch);
  shape.optimizer_slots = static_cast<uint32_t>(optimizer_slot_count(cfg.optimizer.kind));
  shape.workers = workers_here.value_or(cfg.workers);
  shape.batch = cfg.batch;
  if (auto st = check_training_memory(spec->to_string(), shape, process_memory_ceiling()); !st)
    return fail(job_failure::usage, st.message());
  auto gpt = gpt_model::make(*spec);
  if (!gpt)
    return fail(job_failure::usage, gpt.error().message());
  auto plan = make_job_plan(cfg, std::move(data),
                            std::make_shared<const gpt_model>(std::move(*gpt)));
  if (!plan)
    return fail(job_failure::usage, plan.error().message());
  return *plan;
}

std::variant<std::shared_ptr<const job_plan>, setup_error>
plan_job(const job_config& cfg, train_test data, std::optional<uint32_t> workers_here) {
  if (is_gpt_spec(cfg.model) || data.text) {
    if (auto problem = common_plan_problem(cfg); !problem.empty())
      return fail(job_failure::usage, problem);
    return plan_gpt_job(cfg, std::move(data), workers_here);
  }
  const auto& train = *data.train;
  auto spec = parse_model_spec(cfg.model);
  if (!spec)
    return fail(job_failure::usage, spec.error().message());
  auto completed = complete_spec(*spec, train.features, train.classes);
  if (!completed)
    return fail(kind_of_data_error(completed.error()), completed.error().message());
  // Before anything of the model is allocated: does it fit at all?
  auto shape = dense_stack_shape(*completed);
  shape.optimizer_slots = static_cast<uint32_t>(optimizer_slot_count(cfg.optimizer.kind));
  shape.workers = workers_here.value_or(cfg.workers);
  shape.batch = cfg.batch;
  if (auto st = check_training_memory(completed->to_string(), shape, process_memory_ceiling()); !st)
    return fail(job_failure::usage, st.message());
  auto net = model::make(*completed);
  if (!net)
    return fail(job_failure::usage, net.error().message());
  if (auto problem = common_plan_problem(cfg); !problem.empty())
    return fail(job_failure::usage, problem);
  auto plan = make_job_plan(cfg, std::move(data),
                            std::make_shared<const model>(std::move(*net)));
  if (!plan)
    return fail(job_failure::usage, plan.error().message());
  return *plan;
}

std::variant<job_start, setup_error>
prepare_job(const job_config& cfg, const std::function<void(const std::string&)>& note,
            std::optional<uint32_t> workers_here) {
  job_start js;
  auto data = load_job_data(cfg);
  if (auto* err = std::get_if<setup_error>(&data))
    return *err;
  auto& loaded_data = std::get<train_test>(data);
  if (cfg.dataset == dataset_kind::linreg) {
    auto ls = least_squares(*loaded_data.train);
    if (!ls)
      return fail(job_failure::data, ls.error().message());
    js.least_squares = *ls;
  }
  auto planned = plan_job(cfg, loaded_data, workers_here);
  if (auto* err = std::get_if<setup_error>(&planned))
    return *err;
  js.plan = std::get<std::shared_ptr<const job_plan>>(planned);
  const auto& plan = *js.plan;
  const auto& layout = plan.layout();
  if (!cfg.gpus.empty())
    if (auto why = gpu_problem(cfg.gpus); !why.empty())
      return fail(job_failure::usage, "--gpus: " + why);
  auto capacity = plan.slot_capacity();

  // The checkpoint directory.
  if (auto st = check_writable_dir(cfg.checkpoint_dir); !st)
    return fail(job_failure::checkpoint, st.message());
  remove_temp_files(cfg.checkpoint_dir);

  if (!cfg.resume) {
    if (auto st = set_aside_earlier_run(cfg.checkpoint_dir, note); !st)
      return fail(job_failure::checkpoint, st.message());
    std::vector<float> params(layout.total);
    plan.init_params(params, cfg.seed);
    shard_state whole;
    whole.range_begin = 0;
    whole.range_end = layout.total;
    whole.params = std::move(params);
    whole.slots = range_optimizer(plan.optimizer, layout.total).slots();
    whole.applied_clocks.assign(capacity, 0);
    whole.applied_counts.assign(capacity, 0);
    js.shards = resplit({whole}, plan.ranges);
    js.worker_start.assign(cfg.workers, 0);
    return js;
  }

  auto loaded = load_newest_good(cfg.checkpoint_dir);
  if (!loaded)
    return fail(job_failure::checkpoint, "cannot resume: " + loaded.error().message());
  for (const auto& skipped : loaded->skipped)
    note("skipping a corrupt or unreadable checkpoint " + skipped);
  const auto& ck = loaded->data;
  if (auto why = consistency_change_problem(ck.consistency, cfg.consistency.model, loaded->path);
      !why.empty())
    return fail(job_failure::usage, why);
  if (ck.layout_fingerprint != layout.fingerprint() || ck.total_params != layout.total)
    return fail(job_failure::checkpoint,
                "cannot resume: checkpoint " + loaded->path + " holds model " + ck.model
                  + " but this job's model is " + plan.model_text()
                  + "; pass the same --model, or another --checkpoint-dir to start afresh");
  if (ck.optimizer != to_string(cfg.optimizer.kind))
    return fail(job_failure::checkpoint, "cannot resume: checkpoint " + loaded->path
                                           + " was trained with --optimizer=" + ck.optimizer
                                           + ", this job asks for " + to_string(cfg.optimizer.kind));
  js.shards = resplit(ck.shards, plan.ranges);
  js.resumed = true;
  js.start_updates = ck.updates;
  bool bsp = plan.lockstep();
  // The same slots go on where they were; another number of workers (or a job that had
  // grown) starts every slot at the job's position: under bsp the round, else clock 0.
  bool same_slots = ck.worker_steps.size() >= cfg.workers
                    && std::all_of(ck.worker_steps.begin() + cfg.workers, ck.worker_steps.end(),
                                   [](uint64_t c) { return c == 0; });
  if (same_slots) {
    js.worker_start.assign(ck.worker_steps.begin(), ck.worker_steps.begin() + cfg.workers);
  } else {
    js.worker_start.assign(cfg.workers, bsp ? ck.updates : 0);
  }
  std::vector<uint64_t> applied(capacity, 0);
  std::copy(js.worker_start.begin(), js.worker_start.end(), applied.begin());
  for (auto& s : js.shards) {
    if (!same_slots || s.applied_clocks.size() != capacity)
      s.applied_clocks = applied;
    s.applied_counts.resize(capacity, 0);
  }
  js.work = ck.work;
  if (js.work.batch == 0) {
    // A checkpoint of a build that kept no position: go on the same number of batches
    // into the data order as it had done.
    uint64_t batches = bsp ? ck.updates * std::max<size_t>(1, ck.worker_steps.size()) : ck.updates;
    uint64_t per_epoch = std::max<uint64_t>(1, plan.batches_per_epoch());
    js.work.batch = cfg.batch;
    js.work.next = {static_cast<uint32_t>(batches / per_epoch),
                    static_cast<uint32_t>(batches % per_epoch)};
    js.work.clock = bsp ? ck.updates : 0;
  }
  if (bsp)
    js.work.clock = js.worker_start.empty() ? 0 : js.worker_start.front();
  js.resumed_from = loaded->path;
  return js;
}

} // namespace tether
