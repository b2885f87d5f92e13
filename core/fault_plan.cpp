// The fault plan parser (grammar in fault_plan.hpp).
//
// One statement_reader walks the words of one statement; a bad word throws plan_error,
// which parse_fault_plan turns into a status (no exception leaves this file).
#include "core/fault_plan.hpp"

#include "core/file_input.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

namespace tether {

namespace {

/// A failure inside one statement, with its whole message.
struct plan_error {
  std::string message;
};

constexpr std::string_view kVerbs =
    "seed, kill, exit, stop, drop, duplicate, delay, flip or straggler";
constexpr std::string_view kTrigger = "'at step N' or 'at T' (T a duration such as 2s or 300ms)";
constexpr std::string_view kDuration = "a duration such as 2s, 1.5s or 300ms";
constexpr std::string_view kProbability = "a probability from 0 to 1 (0.01) or a percentage "
                                          "from 0% to 100% (1%)";

/// A whole finite decimal number ("1.5", "2e-3"); false for anything else.
bool parse_real(std::string_view text, double& value) {
  const char* last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), last, value);
  return !text.empty() && ec == std::errc{} && ptr == last && std::isfinite(value);
}

std::string quoted(std::string_view word) {
  return "'" + std::string(word) + "'";
}

class statement_reader {
public:
  statement_reader(size_t number, std::string_view text) : number_(number), text_(text) {
    for (size_t at = 0; at < text.size();) {
      auto first = text.find_first_not_of(" \t", at);
      if (first == std::string_view::npos)
        break;
      auto last = std::min(text.find_first_of(" \t", first), text.size());
      words_.push_back(text.substr(first, last - first));
      at = last;
    }
  }

  std::string_view text() const { return text_; }

  [[noreturn]] void fail(const std::string& what, std::string_view expected) const {
    throw plan_error{"fault plan statement " + std::to_string(number_) + " (" + quoted(text_) +
                     "): " + what + "; expected " + std::string(expected)};
  }

  /// The next word; fails naming `expected` when the statement has ended.
  std::string_view next(std::string_view expected) {
    if (pos_ == words_.size())
      fail("the statement ends after " + quoted(words_.back()), expected);
    return words_[pos_++];
  }

  /// The next word must be `word`; otherwise fails with "`what` 'got'; expected `expected`".
  void expect(std::string_view word, std::string_view what, std::string_view expected) {
    auto got = next(expected);
    if (got != word)
      fail(std::string(what) + " " + quoted(got), expected);
  }

  void end() const {
    if (pos_ < words_.size())
      fail("extra word " + quoted(words_[pos_]),
           "nothing after " + quoted(words_[pos_ - 1]) + " in this statement");
  }

  /// `word` as a whole number at most `max`; `what` names it ("the step").
  uint64_t whole(std::string_view word, std::string_view what,
                 uint64_t max = std::numeric_limits<uint64_t>::max()) const {
    uint64_t value = 0;
    const char* last = word.data() + word.size();
    auto [ptr, ec] = std::from_chars(word.data(), last, value);
    bool digits = word.find_first_not_of("0123456789") == std::string_view::npos;
    if (!digits || ec != std::errc{} || ptr != last || value > max)
      fail(quoted(word) + " is not a valid " + std::string(what),
           "a whole number from 0 to " + std::to_string(max));
    return value;
  }

  uint32_t index(std::string_view what) {
    auto word = next(std::string(what) + " (a whole number from 0)");
    return static_cast<uint32_t>(whole(word, what, std::numeric_limits<uint32_t>::max()));
  }

  /// `word` as seconds: a number with suffix "s" or "ms", >= 0 (> 0 when `positive`).
  double duration(std::string_view word, bool positive) const {
    double scale = word.ends_with("ms") ? 1e-3 : 1.0;
    auto number = word.substr(0, word.size() - (scale < 1 ? 2 : 1));
    double value = 0;
    if (!word.ends_with("s") || !parse_real(number, value) || value < 0)
      fail(quoted(word) + " is not a duration", kDuration);
    if (positive && value == 0)
      fail("the duration " + quoted(word) + " is zero", std::string(kDuration) + ", above 0");
    return value * scale;
  }

  /// `word` as a probability in [0, 1]: "0.01" or "1%".
  double probability(std::string_view word) const {
    bool percent = word.ends_with("%");
    double value = 0;
    if (!parse_real(percent ? word.substr(0, word.size() - 1) : word, value))
      fail(quoted(word) + " is not a probability", kProbability);
    value = percent ? value / 100 : value;
    if (value < 0 || value > 1)
      fail("the probability " + quoted(word) + " is out of range", kProbability);
    return value;
  }

  fault_trigger trigger() {
    expect("at", "unexpected word", kTrigger);
    auto word = next(kTrigger);
    if (word == "step")
      return {false, whole(next("a step number after 'at step'"), "step"), 0};
    return {true, 0, duration(word, false)};
  }

private:
  size_t number_;
  std::string_view text_;
  std::vector<std::string_view> words_;
  size_t pos_ = 0;
};

/// The names of fault_target, in its order; kill takes the first three.
constexpr std::string_view kTargets[] = {"worker", "shard", "standby", "node", "checkpoint"};

/// The message faults by verb, in describe order.
constexpr std::pair<std::string_view, double message_faults::*> kMessageFaults[] = {
    {"drop", &message_faults::drop},
    {"duplicate", &message_faults::duplicate},
    {"delay", &message_faults::delay},
    {"flip", &message_faults::flip}};

timed_fault make_fault(fault_action action, fault_target target) {
  timed_fault f;
  f.action = action;
  f.target = target;
  return f;
}

/// `kill TARGET I TRIGGER`, `exit node I TRIGGER` or `stop node I for D TRIGGER`, after the verb.
timed_fault timed_statement(statement_reader& in, fault_action action) {
  auto f = make_fault(action, fault_target::node);
  constexpr std::string_view kill_targets = "worker, shard or standby";
  auto target = in.next(action == fault_action::kill ? kill_targets : "node");
  if (action == fault_action::kill) {
    auto found = std::find(kTargets, kTargets + 3, target);
    if (found == kTargets + 3)
      in.fail("unknown target " + quoted(target), kill_targets);
    f.target = static_cast<fault_target>(found - kTargets);
  } else if (target != "node") {
    in.fail("unknown target " + quoted(target), "node");
  }
  f.index = in.index(std::string(target) + " index");
  if (action == fault_action::stop_node) {
    in.expect("for", "unexpected word", "'for D' (D a duration such as 2s or 300ms)");
    f.duration_seconds = in.duration(in.next(kDuration), true);
  }
  f.when = in.trigger();
  return f;
}

/// `VERB (push|pull) P` or `delay (push|pull) P D`, after the verb.
void message_statement(statement_reader& in, fault_plan& plan, std::string_view kind,
                       double message_faults::*field) {
  if (kind != "push" && kind != "pull")
    in.fail("unknown message kind " + quoted(kind), "push or pull");
  auto& faults = kind == "push" ? plan.push : plan.pull;
  faults.*field = in.probability(in.next(kProbability));
  if (field == &message_faults::delay)
    faults.delay_seconds = in.duration(in.next(kDuration), true);
}

void straggler_statement(statement_reader& in, fault_plan& plan) {
  in.expect("worker", "unknown target", "worker");
  uint32_t worker = in.index("worker index");
  auto word = in.next("a slow-down factor (a number of at least 1)");
  double factor = 0;
  if (!parse_real(word, factor) || factor < 1)
    in.fail(quoted(word) + " is not a valid slow-down factor", "a number of at least 1 (1.5, 3)");
  auto same = std::find_if(plan.stragglers.begin(), plan.stragglers.end(),
                           [&](const auto& s) { return s.first == worker; });
  if (same != plan.stragglers.end())
    same->second = factor;
  else
    plan.stragglers.emplace_back(worker, factor);
}

void parse_statement(statement_reader& in, fault_plan& plan) {
  auto verb = in.next(kVerbs);
  auto message = std::find_if(std::begin(kMessageFaults), std::end(kMessageFaults),
                              [&](const auto& m) { return m.first == verb; });
  auto timed = [&](timed_fault f) {
    f.text = std::string(in.text());
    plan.timed.push_back(std::move(f));
  };
  if (verb == "seed") {
    plan.seed = in.whole(in.next("a seed (a whole number)"), "seed");
  } else if (verb == "kill" || verb == "exit" || verb == "stop") {
    timed(timed_statement(in, verb == "kill"   ? fault_action::kill
                              : verb == "exit" ? fault_action::exit_node
                                               : fault_action::stop_node));
  } else if (message != std::end(kMessageFaults)) {
    auto kind = in.next(verb == "flip" ? "push, pull or checkpoint" : "push or pull");
    if (verb == "flip" && kind == "checkpoint") {
      auto f = make_fault(fault_action::flip_checkpoint, fault_target::checkpoint);
      f.when = in.trigger();
      timed(std::move(f));
    } else {
      message_statement(in, plan, kind, message->second);
    }
  } else if (verb == "straggler") {
    straggler_statement(in, plan);
  } else {
    in.fail("unknown verb " + quoted(verb), kVerbs);
  }
  in.end();
}

/// The statements of `text`, trimmed, without comments and empty ones.
std::vector<std::string_view> split_statements(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    auto line_end = std::min(text.find('\n'), text.size());
    auto line = text.substr(0, line_end);
    text.remove_prefix(std::min(line_end + 1, text.size()));
    line = line.substr(0, std::min(line.find('#'), line.size()));
    while (true) {
      auto cut = std::min(line.find(';'), line.size());
      if (auto statement = trim(line.substr(0, cut), " \t\r"); !statement.empty())
        out.push_back(statement);
      if (cut == line.size())
        break;
      line.remove_prefix(cut + 1);
    }
  }
  return out;
}

// -- describe ------------------------------------------------------------------------------

std::string number(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", value);
  return buf;
}

std::string percent(double p) {
  return number(p * 100) + "%";
}

std::string seconds(double s) {
  return s > 0 && s < 1 ? number(s * 1000) + "ms" : number(s) + "s";
}

std::string trigger_text(const fault_trigger& t) {
  return t.at_time ? "at " + seconds(t.seconds) : "at step " + std::to_string(t.step);
}

std::string timed_text(const timed_fault& f) {
  static const char* verbs[] = {"kill ", "exit ", "stop ", "flip "};
  std::string out = verbs[static_cast<int>(f.action)];
  out += kTargets[static_cast<int>(f.target)];
  if (f.target != fault_target::checkpoint)
    out += " " + std::to_string(f.index);
  if (f.action == fault_action::stop_node)
    out += " for " + seconds(f.duration_seconds);
  return out + " " + trigger_text(f.when);
}

void describe_messages(std::string& out, const message_faults& m, const char* kind) {
  for (const auto& [verb, field] : kMessageFaults)
    if (m.*field > 0)
      out += "\n" + std::string(verb) + " " + kind + " " + percent(m.*field) +
             (field == &message_faults::delay ? " " + seconds(m.delay_seconds) : "");
}

} // namespace

bool message_faults::any() const {
  return drop > 0 || duplicate > 0 || delay > 0 || flip > 0;
}

bool fault_plan::empty() const {
  return timed.empty() && !push.any() && !pull.any() && stragglers.empty();
}

std::string fault_plan::describe() const {
  std::string out = "seed " + std::to_string(seed);
  for (const auto& f : timed)
    out += "\n" + timed_text(f);
  describe_messages(out, push, "push");
  describe_messages(out, pull, "pull");
  for (const auto& [worker, factor] : stragglers)
    out += "\nstraggler worker " + std::to_string(worker) + " " + number(factor);
  return out;
}

result<fault_plan> parse_fault_plan(std::string_view text) {
  auto statements = split_statements(text);
  if (statements.empty())
    return status{errc::invalid_argument,
                  "the fault plan has no statement; see docs/fault-tolerance.md for the format"};
  fault_plan plan;
  try {
    for (size_t i = 0; i < statements.size(); ++i) {
      statement_reader in{i + 1, statements[i]};
      parse_statement(in, plan);
    }
  } catch (const plan_error& e) {
    return status{errc::invalid_argument, e.message};
  }
  return plan;
}

result<fault_plan> load_fault_plan(const std::string& value) {
  if (value.empty() || value.find_first_of(" \t\n;") != std::string::npos)
    return parse_fault_plan(value);
  std::error_code ec;
  if (!std::filesystem::exists(value, ec))
    return status{errc::not_found,
                  "fault plan file '" + value +
                      "' does not exist; give --faults the path of a "
                      "plan file or the plan itself (e.g. --faults='kill worker 1 at step 100')"};
  // Bounded: a FIFO nobody writes to or /dev/zero ends with a message, not a hang.
  auto read = read_small_file(value, 1 << 20, std::chrono::seconds(10), "fault plan file");
  if (!read)
    return status{errc::io_error, read.error().message() + "; check that it is a readable file"};
  const std::string& text = *read;
  auto plan = parse_fault_plan(text);
  if (!plan)
    return status{plan.error().code(), value + ": " + plan.error().message()};
  return plan;
}

} // namespace tether
