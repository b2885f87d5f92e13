// The option table of `tether train`: rows, value parsers, linreg defaults. The command
// line itself (argv, help text) is read in cli/command_line.cpp.
#include "cli/options.hpp"

#include "core/gpt_spec.hpp"
#include "core/model.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <type_traits>

namespace tether {

// Defaults of --dataset=linreg for the options the user does not give explicitly.
constexpr float kLinregLr = 0.05f;
constexpr uint32_t kLinregEpochs = 10;
constexpr uint32_t kLinregBatch = 32;
constexpr const char* kLinregModel = "linear";
constexpr optimizer_kind kLinregOptimizer = optimizer_kind::sgd;

// Bounds of values that become durations: beyond them a conversion to a clock's integer
// ticks overflows (found with --straggler=0:1e300 and --request-timeout=1e30, which were
// silently ignored or made every request time out at once).
constexpr double kMaxSeconds = 1e6;          // --restart-window, --request-timeout: 11.6 days
constexpr double kMinRequestTimeout = 0.001; // 1 ms: below, a request times out as it is sent
constexpr double kMaxSlowdown = 1000;        // --straggler factor, --step-jitter

job_config linreg_defaults() {
  job_config cfg;
  cfg.dataset = dataset_kind::linreg;
  cfg.model = kLinregModel;
  cfg.optimizer.kind = kLinregOptimizer;
  cfg.optimizer.lr = kLinregLr;
  cfg.epochs = kLinregEpochs;
  cfg.batch = kLinregBatch;
  return cfg;
}

// Defaults of --dataset=text: the language model's job (issue 12; docs/lm.md). AdamW
// with betas (0.9, 0.99), decay 0.1 on the matrices, 100 warm-up updates, cosine to 1e-4,
// clipping at 1; 2 workers of 12 sequences, 2000 updates (--steps decides, not --epochs),
// an evaluation every 250.
job_config text_defaults() {
  job_config cfg;
  cfg.dataset = dataset_kind::text;
  cfg.model = "gpt:layers=4,heads=4,embd=128,context=64";
  cfg.optimizer.kind = optimizer_kind::adamw;
  cfg.optimizer.lr = 0.001f;
  cfg.optimizer.beta2 = 0.99f;
  cfg.optimizer.weight_decay = 0.1f;
  cfg.optimizer.schedule = lr_schedule::cosine;
  cfg.optimizer.warmup = 100;
  cfg.optimizer.lr_floor = 0.0001f;
  cfg.clip = 1.0;
  cfg.batch = 12;
  cfg.steps = 2000;
  cfg.epochs = 100000; // the most --epochs takes: --steps decides the length
  cfg.eval_every = 250;
  return cfg;
}

namespace {

status bad(std::string message) {
  return status{errc::invalid_argument, std::move(message)};
}

// -- parsing and rendering of single values -------------------------------------------

/// The shortest text that reads back as `value`; plain decimals ("0.0005", "3600")
/// unless that would be long ("1e-20").
template <class T>
std::string render_number(T value) {
  char buf[400];
  auto fixed = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::fixed);
  if (fixed.ec == std::errc{} && fixed.ptr - buf <= 12)
    return std::string(buf, fixed.ptr);
  auto shortest = std::to_chars(buf, buf + sizeof(buf), value);
  return std::string(buf, shortest.ptr);
}

/// A finite number (no nan, inf, hex or garbage) that is > lo (or >= lo if inclusive),
/// at most hi, and stays finite as a T.
template <class T>
result<T> parse_real(const std::string& text, double lo, bool inclusive,
                     double hi = std::numeric_limits<double>::infinity()) {
  auto expected = [&] {
    return bad(std::string("expected a finite number ") +
               (inclusive ? "of at least " : "greater than ") + render_number(lo) +
               (std::isfinite(hi) ? " and at most " + render_number(hi) : std::string()));
  };
  double value = 0;
  const char* last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), last, value);
  if (text.empty() || ec != std::errc{} || ptr != last || !std::isfinite(value))
    return expected();
  if (std::abs(value) > static_cast<double>(std::numeric_limits<T>::max()))
    return expected();
  auto narrowed = static_cast<T>(value);
  if (!std::isfinite(narrowed) || (inclusive ? narrowed < lo : narrowed <= lo) || value > hi)
    return expected();
  return narrowed;
}

// -- building the rows --------------------------------------------------------------

// An accessor for one field of job_config, usable on const and non-const configs.
#define TETHER_FIELD(member)                                                                       \
  [](auto& cfg) -> auto& {                                                                         \
    return cfg.member;                                                                             \
  }

template <class Field>
option_spec whole_option(std::string_view name, std::string_view placeholder, std::string_view help,
                         Field field, uint64_t lo, uint64_t hi) {
  using value_type = std::remove_cvref_t<decltype(field(std::declval<job_config&>()))>;
  return {name, placeholder, help,
          [field](const job_config& cfg) { return std::to_string(field(cfg)); },
          [field, lo, hi](job_config& cfg, const std::string& text) -> status {
            auto value = parse_whole(text, lo, hi);
            if (!value)
              return value.error();
            field(cfg) = static_cast<value_type>(*value);
            return {};
          }};
}

template <class Field>
option_spec real_option(std::string_view name, std::string_view placeholder, std::string_view help,
                        Field field, double lo, bool inclusive,
                        double hi = std::numeric_limits<double>::infinity()) {
  using value_type = std::remove_cvref_t<decltype(field(std::declval<job_config&>()))>;
  return {name, placeholder, help,
          [field](const job_config& cfg) { return render_number(field(cfg)); },
          [field, lo, inclusive, hi](job_config& cfg, const std::string& text) -> status {
            auto value = parse_real<value_type>(text, lo, inclusive, hi);
            if (!value)
              return value.error();
            field(cfg) = *value;
            return {};
          }};
}

template <class Field>
option_spec text_option(std::string_view name, std::string_view placeholder, std::string_view help,
                        Field field, bool may_be_empty) {
  return {name, placeholder, help, [field](const job_config& cfg) { return field(cfg); },
          [field, may_be_empty](job_config& cfg, const std::string& text) -> status {
            if (text.empty() && !may_be_empty)
              return bad("expected a path, not an empty value");
            field(cfg) = text;
            return {};
          }};
}

template <class Field>
option_spec flag_option(std::string_view name, std::string_view help, Field field) {
  return {name, "", help,
          [field](const job_config& cfg) { return std::string(field(cfg) ? "true" : "false"); },
          [field](job_config& cfg, const std::string& text) -> status {
            if (text != "true" && text != "false")
              return bad("expected true or false (or no value, meaning true)");
            field(cfg) = text == "true";
            return {};
          }};
}

std::vector<option_spec> make_train_options() {
  constexpr uint64_t u32 = std::numeric_limits<uint32_t>::max();
  constexpr uint64_t u64 = std::numeric_limits<uint64_t>::max();
  std::vector<option_spec> rows;
  rows.push_back(
      {"dataset", "fashion-mnist|idx|linreg|csv|text",
       "training data: the Fashion-MNIST files, other IDX files in --data-dir, synthetic "
       "linear-regression data (with its own defaults for some options), the CSV files "
       "--train and --test, or text for the language model (bytes are tokens; without "
       "--train the fortunes corpus; its own defaults, docs/lm.md)",
       [](const job_config& cfg) { return std::string(to_string(cfg.dataset)); },
       [](job_config& cfg, const std::string& text) -> status {
         for (auto kind : {dataset_kind::fashion_mnist, dataset_kind::idx, dataset_kind::linreg,
                           dataset_kind::csv, dataset_kind::text})
           if (text == to_string(kind)) {
             cfg.dataset = kind;
             return {};
           }
         return bad("expected fashion-mnist, idx, linreg, csv or text");
       }});
  rows.push_back(text_option("data-dir", "DIR",
                             "directory of the IDX files (train-images-idx3-ubyte[.gz] and so on)",
                             TETHER_FIELD(data_dir), false));
  rows.push_back(text_option("train", "FILE",
                             "--dataset=csv: training samples, one a line: numeric features, "
                             "then the class label 0, 1, ... (a header line is allowed); "
                             "--dataset=text: a text file (the first 90% trains unless --valid "
                             "is given)",
                             TETHER_FIELD(train_path), true));
  rows.push_back(text_option("test", "FILE",
                             "--dataset=csv: test samples, with the columns of --train",
                             TETHER_FIELD(test_path), true));
  rows.push_back(text_option("valid", "FILE",
                             "--dataset=text: the validation text (default: the last 10% of "
                             "--train)",
                             TETHER_FIELD(valid_path), true));
  rows.push_back(whole_option("limit-train", "N", "use only the first N training samples (0: all)",
                              TETHER_FIELD(limit_train), 0, u64));
  rows.push_back(
      {"model", "SPEC",
       "mlp:IN,HIDDEN...,OUT (dense layers with ReLU), softmax or linear; sizes left out are "
       "taken from the data; or gpt:layers=L,heads=H,embd=E,context=T[,mlp=M], the byte-level "
       "language model (with --dataset=text)",
       [](const job_config& cfg) { return cfg.model; },
       [](job_config& cfg, const std::string& text) -> status {
         if (is_gpt_spec(text)) {
           auto gpt = parse_gpt_spec(text);
           if (!gpt)
             return bad(gpt.error().message());
           cfg.model = gpt->to_string();
           return {};
         }
         auto spec = parse_model_spec(text);
         if (!spec)
           return bad(spec.error().message());
         cfg.model = text;
         return {};
       }});
  rows.push_back(whole_option("workers", "N", "worker actors computing gradients",
                              TETHER_FIELD(workers), 1, 256));
  rows.push_back(whole_option("max-workers", "N",
                              "a cluster job grows to this many workers as nodes with free cores "
                              "join (0: --workers, no growth)",
                              TETHER_FIELD(max_workers), 0, 4096));
  rows.push_back(whole_option("min-workers", "N",
                              "a cluster job shrinks to this many workers when nodes leave and are "
                              "not replaced (0: --workers, no shrinking)",
                              TETHER_FIELD(min_workers), 0, 4096));
  rows.push_back(whole_option("shards", "S", "parameter shards the model is split over",
                              TETHER_FIELD(shards), 1, 256));
  rows.push_back(whole_option("batch", "B", "minibatch size per worker and step",
                              TETHER_FIELD(batch), 1, 65536));
  rows.push_back(real_option(
      "lr", "X",
      "base learning rate (when only --optimizer is given: sgd 0.1, momentum 0.02, adam 0.001)",
      TETHER_FIELD(optimizer.lr), 0.0, false));
  rows.push_back({"optimizer", "sgd|momentum|adam|adamw",
                  "server-side optimizer (momentum 0.9; adam 0.9, 0.999, 1e-8; adamw: adam "
                  "with decoupled weight decay, on the GPT's matrices only)",
                  [](const job_config& cfg) { return std::string(to_string(cfg.optimizer.kind)); },
                  [](job_config& cfg, const std::string& text) -> status {
                    auto kind = parse_optimizer_kind(text);
                    if (!kind)
                      return bad("expected sgd, momentum, adam or adamw");
                    cfg.optimizer.kind = *kind;
                    return {};
                  }});
  rows.push_back(real_option("weight-decay", "X", "L2 weight decay added to every gradient",
                             TETHER_FIELD(optimizer.weight_decay), 0.0, true));
  rows.push_back(
      {"lr-schedule", "constant|cosine", "learning-rate schedule over the whole run",
       [](const job_config& cfg) { return std::string(to_string(cfg.optimizer.schedule)); },
       [](job_config& cfg, const std::string& text) -> status {
         auto schedule = parse_lr_schedule(text);
         if (!schedule)
           return bad("expected constant or cosine");
         cfg.optimizer.schedule = *schedule;
         return {};
       }});
  rows.push_back(whole_option("warmup", "STEPS", "updates of linear learning-rate warm-up",
                              TETHER_FIELD(optimizer.warmup), 0, u64));
  rows.push_back(real_option("lr-floor", "X",
                             "--lr-schedule=cosine decays to this learning rate (0: to zero)",
                             TETHER_FIELD(optimizer.lr_floor), 0.0, true));
  rows.push_back(real_option("beta1", "X", "adam and adamw: the first moment's decay",
                             TETHER_FIELD(optimizer.beta1), 0.0, true, 0.999999));
  rows.push_back(real_option("beta2", "X", "adam and adamw: the second moment's decay",
                             TETHER_FIELD(optimizer.beta2), 0.0, true, 0.999999));
  rows.push_back(real_option("clip", "X",
                             "each worker scales its gradient down to this global L2 norm "
                             "before the push (0: off)",
                             TETHER_FIELD(clip), 0.0, true));
  rows.push_back(whole_option("epochs", "E", "passes over the training data", TETHER_FIELD(epochs),
                              1, 100000));
  rows.push_back(whole_option("steps", "N",
                              "updates of the whole job, all workers together (bsp: rounds); "
                              "0: --epochs decide",
                              TETHER_FIELD(steps), 0, u64));
  rows.push_back(whole_option("seed", "N", "seed of initialisation, shuffling and synthetic data",
                              TETHER_FIELD(seed), 0, u64));
  rows.push_back(
      {"consistency", "async|ssp|bsp",
       "consistency model: async (no bound), ssp (stale-synchronous, bound "
       "--staleness), bsp (synchronous: gradients of a clock averaged)",
       [](const job_config& cfg) { return std::string(to_string(cfg.consistency.model)); },
       [](job_config& cfg, const std::string& text) -> status {
         auto model = parse_consistency_model(text);
         if (!model)
           return bad(model.error().message());
         cfg.consistency.model = *model;
         return {};
       }});
  rows.push_back(whole_option("staleness", "S",
                              "ssp: how many clocks a worker may run ahead of the slowest live "
                              "worker (0: lock-step)",
                              TETHER_FIELD(consistency.staleness), 0, 1000000));
  rows.push_back(
      {"staleness-lr", "none|inverse",
       "server-side lr for stale gradients: inverse divides it by max(1, tau)",
       [](const job_config& cfg) { return std::string(to_string(cfg.consistency.lr_rule)); },
       [](job_config& cfg, const std::string& text) -> status {
         auto rule = parse_staleness_lr(text);
         if (!rule)
           return bad(rule.error().message());
         cfg.consistency.lr_rule = *rule;
         return {};
       }});
  rows.push_back(real_option("dc-lambda", "X",
                             "delay compensation (DC-ASGD): g + X * g * g * (w_now - w_read); "
                             "0: off",
                             TETHER_FIELD(consistency.dc_lambda), 0.0, true));
  rows.push_back({"straggler", "WORKER:FACTOR",
                  "make worker WORKER's step take FACTOR times as long, by waiting on a timer "
                  "(repeatable; workers numbered from 0)",
                  [](const job_config& cfg) {
                    std::string out;
                    for (const auto& s : cfg.stragglers)
                      out += (out.empty() ? "" : ",") + std::to_string(s.worker) + ":" +
                             render_number(s.factor);
                    return out;
                  },
                  [](job_config& cfg, const std::string& text) -> status {
                    size_t start = 0;
                    while (start < text.size()) {
                      auto end = text.find(',', start);
                      auto item = text.substr(start, end == std::string::npos ? end : end - start);
                      auto colon = item.find(':');
                      job_config::straggler s;
                      // The worker: digits only, within 32 bits (strtol took "-0" and
                      // saturated 99999999999999999999 to another worker's number).
                      uint32_t worker = 0;
                      const char* first = item.data();
                      const char* last = item.data() + std::min(colon, item.size());
                      auto parsed = std::from_chars(first, last, worker);
                      if (colon == 0 || colon == std::string::npos || parsed.ec != std::errc{} ||
                          parsed.ptr != last)
                        return bad("expected WORKER:FACTOR, e.g. 0:3");
                      char* rest = nullptr;
                      auto factor = std::strtod(item.c_str() + colon + 1, &rest);
                      if (*rest != '\0' || !std::isfinite(factor) || factor < 1 ||
                          factor > kMaxSlowdown)
                        return bad("expected WORKER:FACTOR with FACTOR a number from 1 to " +
                                   render_number(kMaxSlowdown) + ", e.g. 0:3");
                      s.worker = worker;
                      s.factor = factor;
                      cfg.stragglers.push_back(s);
                      if (end == std::string::npos)
                        break;
                      start = end + 1;
                    }
                    return {};
                  }});
  rows.back().repeatable = true;
  rows.push_back(real_option("step-jitter", "X",
                             "random extra wait per step, uniform in [0, X] times the step's "
                             "compute time (seeded)",
                             TETHER_FIELD(step_jitter), 0.0, true, kMaxSlowdown));
  rows.push_back(text_option("checkpoint-dir", "DIR", "directory of the checkpoints",
                             TETHER_FIELD(checkpoint_dir), false));
  rows.push_back(whole_option("checkpoint-every", "STEPS",
                              "updates between checkpoints (0: only the final one)",
                              TETHER_FIELD(checkpoint_every), 0, u64));
  rows.push_back(whole_option("checkpoint-keep", "K", "newest checkpoints kept",
                              TETHER_FIELD(checkpoint_keep), 1, u32));
  rows.push_back(flag_option("resume", "continue from the newest checkpoint in --checkpoint-dir",
                             TETHER_FIELD(resume)));
  rows.push_back(whole_option("max-restarts", "N",
                              "restarts of failed actors allowed per restart window",
                              TETHER_FIELD(max_restarts), 0, u32));
  rows.push_back(real_option("restart-window", "SECONDS", "period of the restart budget",
                             TETHER_FIELD(restart_window_seconds), 0.0, false, kMaxSeconds));
  rows.push_back({"gpus", "LIST",
                  "CUDA devices, e.g. 0,1: the first workers compute on them, one each, the "
                  "rest on the CPU (empty: none; docs/gpu.md)",
                  [](const job_config& cfg) {
                    std::string out;
                    for (int g : cfg.gpus)
                      out += (out.empty() ? "" : ",") + std::to_string(g);
                    return out;
                  },
                  [](job_config& cfg, const std::string& text) -> status {
                    std::vector<int> gpus;
                    if (!text.empty() && text.back() == ',') // "0,": an item is missing
                      return bad("expected device numbers separated by commas, e.g. 0,1");
                    size_t start = 0;
                    while (start < text.size()) {
                      auto end = text.find(',', start);
                      auto item = text.substr(start, end == std::string::npos ? end : end - start);
                      int value = -1;
                      auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
                      if (item.empty() || ec != std::errc{} || ptr != item.data() + item.size()
                          || value < 0 || value > 1023)
                        return bad("expected device numbers separated by commas, e.g. 0,1");
                      if (std::find(gpus.begin(), gpus.end(), value) != gpus.end())
                        return bad("device " + item + " is listed twice");
                      gpus.push_back(value);
                      if (end == std::string::npos)
                        break;
                      start = end + 1;
                    }
                    cfg.gpus = std::move(gpus);
                    return {};
                  }});
  rows.push_back({"gpu-math", "fp32|tf32",
                  "GPU matrix products in plain fp32, or tf32 on the tensor cores (the shards "
                  "keep fp32)",
                  [](const job_config& cfg) { return cfg.gpu_math; },
                  [](job_config& cfg, const std::string& text) -> status {
                    if (text != "fp32" && text != "tf32")
                      return bad("expected fp32 or tf32");
                    cfg.gpu_math = text;
                    return {};
                  }});
  rows.push_back({"shard-replicas", "auto|0|1|2|3",
                  "hot standbys per shard, each on another node, kept in step before workers "
                  "are answered (auto: 1 when the cluster starts with 2 or more nodes)",
                  [](const job_config& cfg) {
                    return cfg.shard_replicas < 0 ? std::string{"auto"}
                                                  : std::to_string(cfg.shard_replicas);
                  },
                  [](job_config& cfg, const std::string& text) -> status {
                    if (text == "auto")
                      cfg.shard_replicas = -1;
                    else if (text.size() == 1 && text[0] >= '0' && text[0] <= '3')
                      cfg.shard_replicas = text[0] - '0';
                    else
                      return bad("expected auto, 0, 1, 2 or 3");
                    return {};
                  }});
  rows.push_back(real_option("request-timeout", "SECONDS",
                             "how long a worker waits for a shard's answer before it asks again",
                             TETHER_FIELD(request_timeout_seconds), kMinRequestTimeout, true,
                             kMaxSeconds));
  rows.push_back({"faults", "PLAN",
                  "inject faults: a plan file, or the plan itself ('kill worker 1 at step 200; "
                  "drop push 1%'); docs/fault-tolerance.md has the format",
                  [](const job_config& cfg) { return cfg.faults; },
                  [](job_config& cfg, const std::string& text) -> status {
                    if (text.empty()) {
                      cfg.faults.clear();
                      cfg.fault = fault_plan{};
                      return {};
                    }
                    auto plan = load_fault_plan(text);
                    if (!plan)
                      return bad(plan.error().message());
                    cfg.faults = text;
                    cfg.fault = std::move(*plan);
                    return {};
                  }});
  rows.push_back(whole_option("eval-every", "STEPS",
                              "updates between test evaluations (0: at epoch ends only)",
                              TETHER_FIELD(eval_every), 0, u64));
  rows.push_back(text_option("summary", "FILE",
                             "write a JSON summary of the run here (empty: none)",
                             TETHER_FIELD(summary_path), true));
  rows.push_back(
      flag_option("quiet", "print only errors and the final result", TETHER_FIELD(quiet)));
  rows.push_back(flag_option("verbose",
                             "also print a line per worker at each evaluation",
                             TETHER_FIELD(verbose)));
  rows.push_back(text_option("metrics", "HOST:PORT",
                             "serve /metrics (Prometheus), /status (JSON) and / (a live page) "
                             "here; PORT alone means 127.0.0.1:PORT (empty: off)",
                             TETHER_FIELD(metrics), true));
  rows.push_back(text_option("metrics-token", "FILE",
                             "file holding a bearer token the metrics requests must carry; "
                             "required when --metrics is off loopback",
                             TETHER_FIELD(metrics_token), true));
  rows.push_back(text_option("metrics-log", "FILE",
                             "append every evaluation point as one JSON line, flushed at once",
                             TETHER_FIELD(metrics_log), true));
  rows.push_back(text_option("log-file", "FILE",
                             "append every line tether prints, with a timestamp (empty: none)",
                             TETHER_FIELD(log_file), true));
  rows.push_back({"log-level", "error|warning|info",
                  "which messages reach stderr and --log-file (progress lines are info)",
                  [](const job_config& cfg) { return cfg.log_level; },
                  [](job_config& cfg, const std::string& text) -> status {
                    if (text != "error" && text != "warning" && text != "info")
                      return bad("expected error, warning or info");
                    cfg.log_level = text;
                    return {};
                  }});
  return rows;
}

#undef TETHER_FIELD

} // namespace

result<uint64_t> parse_whole(const std::string& text, uint64_t lo, uint64_t hi) {
  uint64_t value = 0;
  const char* last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), last, value);
  if (text.empty() || ec != std::errc{} || ptr != last || value < lo || value > hi)
    return bad("expected a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  return value;
}

const std::vector<option_spec>& train_options() {
  static const std::vector<option_spec> rows = make_train_options();
  return rows;
}

const option_spec* find_train_option(std::string_view name) {
  for (auto& row : train_options())
    if (row.name == name)
      return &row;
  return nullptr;
}

std::string effective_options_text(const job_config& cfg) {
  std::string out;
  for (auto& row : train_options())
    out += std::string(row.name) + "=" + row.render(cfg) + "\n";
  return out;
}

std::string options_markdown_table() {
  const job_config defaults;
  const auto linreg = linreg_defaults();
  const auto text_job = text_defaults();
  auto cell = [](const std::string& text) {
    return text.empty() ? std::string("(none)") : "`" + text + "`";
  };
  std::string out = "| option | default | with --dataset=linreg | with --dataset=text | meaning |\n"
                    "| --- | --- | --- | --- | --- |\n";
  for (auto& row : train_options()) {
    std::string option = "--" + std::string(row.name);
    if (!row.is_flag())
      option += "=" + std::string(row.placeholder);
    std::string placeholder_escaped;
    for (char c : option)
      placeholder_escaped += c == '|' ? std::string("\\|") : std::string(1, c);
    auto general = row.render(defaults), special = row.render(linreg),
         lm = row.render(text_job);
    auto differs = [&](const std::string& value) {
      return row.name == "dataset" || value == general ? std::string("same") : cell(value);
    };
    out += "| `" + placeholder_escaped + "` | " + cell(general) + " | " + differs(special) + " | "
           + differs(lm) + " | " + std::string(row.help) + " |\n";
  }
  return out;
}

} // namespace tether